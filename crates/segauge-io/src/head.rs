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
