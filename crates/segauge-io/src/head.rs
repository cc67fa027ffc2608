//! The first bytes of a file, read whole however the reader splits them: the readers sniff formats (gzip, the
//! DICOM preamble) before choosing how to parse.

use std::io::Read;

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
