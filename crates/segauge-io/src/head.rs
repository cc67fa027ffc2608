//! The first bytes of a file, read whole however the reader splits them (the readers sniff formats, gzip or the
//! DICOM preamble, before choosing how to parse), and the bound on what a deflate stream can inflate to.

use std::io::Read;

/// The largest ratio of inflated to compressed size that deflate allows: a 258-byte match coded in 2 bits with a
/// 1-bit distance code (RFC 1951 §3.2.5) gives 1032:1.
pub(crate) const MAX_DEFLATE_RATIO: u64 = 1032;

/// Slack added to the deflate bound, for the headers and odd blocks of tiny streams.
pub(crate) const DEFLATE_SLACK: u64 = 1 << 16;

/// The most bytes `compressed` bytes of deflate (raw, zlib or gzip) can inflate to.
pub(crate) fn inflate_bound(compressed: u64) -> u64 {
    compressed.saturating_mul(MAX_DEFLATE_RATIO).saturating_add(DEFLATE_SLACK)
}

/// Fills `buf` from `r` as far as the input goes; returns how many bytes were read (fewer only at end of input).
pub(crate) fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads `data.len()` bytes of rows of `row_bytes` each into zeroed `data`, writing only the rows that are not all
/// zero bytes: the pages of a large image's empty rows are never touched, so the kernel neither maps nor clears
/// them (most of the reading time of a small structure in a large CT). Returns the bytes read (fewer at the
/// end of the stream) and the rows written.
#[cfg(any(feature = "nifti", feature = "metaimage", feature = "nrrd"))]
pub(crate) fn read_rows(
    r: &mut impl Read,
    data: &mut [u8],
    row_bytes: usize,
) -> std::io::Result<(usize, Option<crate::volume::Rows>)> {
    if row_bytes == 0 || data.len() % row_bytes != 0 {
        return read_up_to(r, data).map(|n| (n, None));
    }
    // A few hundred KiB at a time, whole rows: the decompressor writes into cache, and only rows with a label
    // are copied out.
    let mut scratch = vec![0u8; row_bytes * (SCRATCH / row_bytes).max(1)];
    let mut rows = crate::volume::Rows::empty(data.len() / row_bytes);
    let mut at = 0;
    while at < data.len() {
        let want = scratch.len().min(data.len() - at);
        let got = read_up_to(r, &mut scratch[..want])?;
        for (i, row) in scratch[..got].chunks(row_bytes).enumerate() {
            if row.chunks(64).any(|c| c.iter().fold(0, |acc, &b| acc | b) != 0) {
                data[at + i * row_bytes..][..row.len()].copy_from_slice(row);
                rows.insert(at / row_bytes + i);
            }
        }
        at += got;
        if got < want {
            break;
        }
    }
    Ok((at, Some(rows)))
}

/// Reads the `nbytes` of voxel data `r` gives (fewer where its input ends) into `buf`, which the caller reserved
/// as far as it could (its capacity, up to `nbytes`). When that is all of them, the bytes go into a zeroed
/// allocation instead (fresh pages, which the kernel zeroes anyway, so nothing is zeroed twice), row by row with
/// `row_bytes` ([`read_rows`]); else `buf` grows only as data arrive. Returns the bytes and the rows written.
#[cfg(any(feature = "nifti", feature = "metaimage", feature = "nrrd"))]
pub(crate) fn read_voxels(
    r: impl Read,
    mut buf: Vec<u8>,
    nbytes: usize,
    row_bytes: Option<usize>,
) -> std::io::Result<(Vec<u8>, Option<crate::volume::Rows>)> {
    let mut r = r.take(nbytes as u64);
    if buf.capacity() < nbytes {
        r.read_to_end(&mut buf)?;
        return Ok((buf, None));
    }
    drop(buf);
    let mut data = vec![0u8; nbytes];
    let (read, rows) = match row_bytes {
        Some(row) => read_rows(&mut r, &mut data, row)?,
        None => (read_up_to(&mut r, &mut data)?, None),
    };
    data.truncate(read);
    Ok((data, rows))
}

/// Bytes of voxel data inflated at a time by [`read_rows`].
#[cfg(any(feature = "nifti", feature = "metaimage", feature = "nrrd"))]
const SCRATCH: usize = 1 << 18;

#[cfg(all(test, feature = "nifti"))]
mod tests {
    use super::*;

    /// A reader that hands out at most 7 bytes per call.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(7).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Rows of int16 values over several scratch buffers, read in short pieces: the rows written are exactly
    /// those with a non-zero byte, the data equals the stream, and decoding keeps only the rows with a label
    /// (a row of negative values is non-zero bytes but background).
    #[test]
    fn rows_of_zeros_are_left_unwritten() {
        let (nx, nrows) = (70, 3 * SCRATCH / 140 + 5);
        let value = |r: usize, i: usize| -> i16 {
            match r % 5 {
                0 if i == r % nx => (r % 300) as i16 + 1, // one voxel
                1 => -3,                                  // negative: background
                2 => (i % 3) as i16,                      // a run of labels
                _ => 0,
            }
        };
        let raw: Vec<u8> =
            (0..nrows).flat_map(|r| (0..nx).flat_map(move |i| value(r, i).to_le_bytes())).collect();
        let mut data = vec![0u8; raw.len()];
        let (read, rows) = read_rows(&mut Trickle(&raw), &mut data, 2 * nx).unwrap();
        let rows = rows.unwrap();
        assert_eq!((read, &data), (raw.len(), &raw));
        let written: Vec<usize> = (0..nrows).filter(|r| r % 5 < 3).collect();
        assert_eq!(rows.iter().collect::<Vec<_>>(), written);

        let spans = rows.iter().map(|r| r * nx..(r + 1) * nx);
        let labels = crate::decode::decode_spans(data, crate::decode::Kind::I16, false, None, spans).unwrap();
        let grid = crate::Grid::new([nx, nrows, 1], [1.0; 3]).unwrap();
        let volume = crate::LabelVolume::from_rows(grid, labels, rows).unwrap();
        let held: Vec<usize> = (0..nrows).filter(|r| r % 5 == 0 || r % 5 == 2).collect();
        assert_eq!(volume.rows().iter().collect::<Vec<_>>(), held);
        let want: Vec<u32> =
            (0..nrows).flat_map(|r| (0..nx).map(move |i| value(r, i).max(0) as u32)).collect();
        assert_eq!(volume.max_label(), 296); // row 295, the last multiple of 5 below 300
        assert_eq!(want.iter().max(), Some(&296));
        assert_eq!(volume.labels(), &crate::Labels::from_u32(want));
    }

    /// A stream that ends early: the bytes it had, for the caller's truncation error.
    #[test]
    fn rows_of_a_short_stream() {
        let raw = [0u8, 0, 0, 5, 0, 0, 1];
        let mut data = vec![0u8; 12];
        let (read, rows) = read_rows(&mut &raw[..], &mut data, 3).unwrap();
        assert_eq!((read, &data[..7]), (7, &raw[..]));
        assert_eq!(rows.unwrap().iter().collect::<Vec<_>>(), [1, 2]);
    }
}
