//! The 1-bit frame walker: BINARY SEG frames are one continuous bit stream, least significant bit first.
//!
//! DICOM PS3.5 §8.1.1: with BitsAllocated = 1 the pixels of all frames are packed without padding between frames,
//! the first pixel in the least significant bit of the first byte. Frame `k` of `rows × columns` pixels therefore
//! starts at bit `k · rows · columns`, in the middle of a byte whenever `rows · columns` is not a multiple of 8
//! (pitfall 3 of the conformance set: dcmqi's 23×38 frames, 874 pixels). Only the value length is padded (to even).

/// Writes `out.len()` bits of `data`, starting at bit `start_bit` (LSB first), into `out` as 0 or 1.
///
/// Returns `false`, leaving `out` unspecified, when `data` holds fewer than `start_bit + out.len()` bits.
pub(crate) fn unpack(data: &[u8], start_bit: usize, out: &mut [u8]) -> bool {
    let Some(end) = start_bit.checked_add(out.len()) else { return false };
    if end.div_ceil(8) > data.len() {
        return false;
    }
    let mut bit = start_bit;
    let mut rest = &mut out[..];
    // Leading bits up to the next byte boundary.
    while bit % 8 != 0 && !rest.is_empty() {
        rest[0] = (data[bit / 8] >> (bit % 8)) & 1;
        rest = &mut rest[1..];
        bit += 1;
    }
    // Whole bytes.
    let mut chunks = rest.chunks_exact_mut(8);
    for (chunk, &byte) in (&mut chunks).zip(&data[bit / 8..]) {
        for (b, v) in chunk.iter_mut().enumerate() {
            *v = (byte >> b) & 1;
        }
        bit += 8;
    }
    // Trailing bits.
    for (b, v) in chunks.into_remainder().iter_mut().enumerate() {
        *v = (data[bit / 8] >> b) & 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packs 0/1 values LSB first, as a hand-written reference.
    fn pack(values: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; values.len().div_ceil(8)];
        for (i, &v) in values.iter().enumerate() {
            out[i / 8] |= (v & 1) << (i % 8);
        }
        out
    }

    #[test]
    fn frames_that_are_not_byte_aligned() {
        // Three 23 × 38 frames (874 pixels, 874 % 8 = 2): frame 1 starts at bit 874 = byte 109, bit 2.
        let (rows, cols, frames) = (38usize, 23usize, 3usize);
        let n = rows * cols;
        let value = |k: usize, p: usize| u8::from((p * 7 + k * 13) % 5 == 0 || (p / cols + k) % 11 == 3);
        let all: Vec<u8> = (0..frames).flat_map(|k| (0..n).map(move |p| value(k, p))).collect();
        let mut stream = pack(&all);
        stream.push(0); // even padding
        for k in 0..frames {
            let mut out = vec![9u8; n];
            assert!(unpack(&stream, k * n, &mut out));
            let want: Vec<u8> = (0..n).map(|p| value(k, p)).collect();
            assert_eq!(out, want, "frame {k}");
        }
    }

    #[test]
    fn hand_built_bytes() {
        // Bits LSB first: 0b1000_0001 = pixels 0 and 7; 0b0000_0110 = pixels 9 and 10.
        let data = [0b1000_0001u8, 0b0000_0110];
        let mut out = [0u8; 5];
        assert!(unpack(&data, 6, &mut out));
        assert_eq!(out, [0, 1, 0, 1, 1]);
        let mut all = [0u8; 16];
        assert!(unpack(&data, 0, &mut all));
        assert_eq!(all, [1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn short_data_is_refused() {
        let mut out = [0u8; 9];
        assert!(!unpack(&[0xff], 0, &mut out));
        assert!(!unpack(&[0xff, 0xff], 8, &mut out));
        assert!(unpack(&[0xff, 0xff], 7, &mut out));
        assert!(!unpack(&[0xff], usize::MAX, &mut out));
    }
}
