//! RLE Lossless (DICOM PS3.5 Annex G) frame decoder.
//!
//! segauge decodes RLE itself instead of calling the `rle` codec of dicom-transfer-syntax-registry: that codec
//! (0.10) slices the fragment header and indexes the decoded segment without bounds checks, so a short or corrupt
//! fragment panics, and segauge must return an error on any file. The format is small: each frame is one fragment
//! that starts with a 64-byte header (the number of segments, then up to 15 segment offsets, little endian
//! `u32`); each segment is PackBits-encoded and holds one byte plane of the frame (most significant plane
//! first). A header byte `h` (as `i8`) means: `0..=127`, copy the next `h + 1` bytes; `-127..=-1`, repeat the next
//! byte `1 - h` times; `-128`, nothing.

/// Decodes one RLE frame of `pixels` samples of `bytes_per_sample` bytes (1 or 2) into little-endian samples.
///
/// # Errors
/// A one-line description of what is malformed: a short header, a segment count other than `bytes_per_sample`,
/// segment offsets out of order or beyond the fragment, or a segment that ends before `pixels` bytes.
pub(crate) fn decode_frame(
    fragment: &[u8],
    pixels: usize,
    bytes_per_sample: usize,
) -> Result<Vec<u8>, String> {
    if fragment.len() < 64 {
        return Err(format!("the RLE header needs 64 bytes, the fragment has {}", fragment.len()));
    }
    let word = |i: usize| {
        u32::from_le_bytes([fragment[4 * i], fragment[4 * i + 1], fragment[4 * i + 2], fragment[4 * i + 3]])
    };
    let segments = word(0) as usize;
    if segments != bytes_per_sample {
        return Err(format!(
            "{segments} RLE segments, expected {bytes_per_sample} (one per byte of a {}-bit sample)",
            8 * bytes_per_sample
        ));
    }
    let mut out = vec![0u8; pixels * bytes_per_sample];
    for s in 0..segments {
        let start = word(1 + s) as usize;
        let end = if s + 1 < segments { word(2 + s) as usize } else { fragment.len() };
        if start < 64 || start > end || end > fragment.len() {
            return Err(format!(
                "RLE segment {s} spans bytes {start}..{end} of a {}-byte fragment",
                fragment.len()
            ));
        }
        let plane = decode_packbits(&fragment[start..end], pixels)
            .map_err(|got| format!("RLE segment {s} decodes to {got} bytes, the frame needs {pixels}"))?;
        // Segment 0 is the most significant byte; samples are written little endian.
        let byte = bytes_per_sample - 1 - s;
        for (p, &v) in plane.iter().enumerate() {
            out[p * bytes_per_sample + byte] = v;
        }
    }
    Ok(out)
}

/// PackBits-decodes until `len` bytes are produced (extra output and trailing padding are ignored).
///
/// # Errors
/// The number of bytes produced when the input ends first.
fn decode_packbits(input: &[u8], len: usize) -> Result<Vec<u8>, usize> {
    let mut out = Vec::with_capacity(len);
    let mut i = 0;
    while out.len() < len {
        let Some(&h) = input.get(i) else { return Err(out.len()) };
        i += 1;
        let h = h as i8;
        if h >= 0 {
            let n = h as usize + 1;
            let Some(literal) = input.get(i..i + n) else {
                out.extend_from_slice(&input[i.min(input.len())..]);
                return Err(out.len().min(len));
            };
            out.extend_from_slice(literal);
            i += n;
        } else if h != -128 {
            let Some(&v) = input.get(i) else { return Err(out.len()) };
            i += 1;
            out.resize(out.len() + (1 - isize::from(h)) as usize, v);
        }
    }
    out.truncate(len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(offsets: &[u32]) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(&(offsets.len() as u32).to_le_bytes());
        for (i, o) in offsets.iter().enumerate() {
            h[4 + 4 * i..8 + 4 * i].copy_from_slice(&o.to_le_bytes());
        }
        h
    }

    #[test]
    fn packbits_runs_literals_and_no_ops() {
        // Run of 3 × 0xAA, literal [1, 2], no-op, run of 2 × 7, then even padding that must be ignored.
        let enc = [0xFE, 0xAA, 0x01, 1, 2, 0x80, 0xFF, 7, 0x00];
        assert_eq!(decode_packbits(&enc, 7), Ok(vec![0xAA, 0xAA, 0xAA, 1, 2, 7, 7]));
        assert_eq!(decode_packbits(&enc, 8), Err(7));
        assert_eq!(decode_packbits(&[0x05, 1, 2], 6), Err(2));
        assert_eq!(decode_packbits(&[0xFE], 3), Err(0));
    }

    #[test]
    fn eight_and_sixteen_bit_frames() {
        let mut frame = header(&[64]);
        frame.extend_from_slice(&[0xFD, 9, 0x00, 4]); // 9 9 9 9, 4
        assert_eq!(decode_frame(&frame, 5, 1), Ok(vec![9, 9, 9, 9, 4]));
        // 16 bit: MSB plane [1, 0], LSB plane [2, 3] → samples 0x0102, 0x0003 → LE bytes.
        let mut frame = header(&[64, 67]);
        frame.extend_from_slice(&[0x01, 1, 0, 0x01, 2, 3]);
        assert_eq!(decode_frame(&frame, 2, 2), Ok(vec![2, 1, 3, 0]));
    }

    #[test]
    fn malformed_frames_are_errors() {
        assert!(decode_frame(&[0u8; 10], 4, 1).unwrap_err().contains("64 bytes"));
        assert!(decode_frame(&header(&[64, 64]), 4, 1).unwrap_err().contains("2 RLE segments"));
        assert!(decode_frame(&header(&[900]), 4, 1).unwrap_err().contains("spans bytes 900"));
        assert!(decode_frame(&header(&[10]), 4, 1).is_err());
        let mut short = header(&[64]);
        short.extend_from_slice(&[0xFE, 5]);
        assert!(decode_frame(&short, 4, 1).unwrap_err().contains("decodes to 3 bytes"));
    }
}
