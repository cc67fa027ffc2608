//! A pre-check of the value lengths of a DICOM stream, run before dicom-rs parses it.
//!
//! dicom-rs (0.10) allocates and zeroes a buffer of each element's announced length before reading the value, so a
//! single corrupt length field (a flipped byte) makes it allocate up to 4 GiB, which takes seconds and can abort a
//! small machine, before it reports the short read. This walker reads element headers only, skips values with
//! seeks, and rejects any defined length longer than what is left of the file or of the enclosing item or
//! sequence. It walks the File Meta group (Explicit VR Little Endian), reads the transfer syntax from it, then the
//! data set in Implicit or Explicit VR Little Endian, into sequences and items (nested data sets) and over
//! encapsulated pixel data fragments. Deflated and big-endian data sets are left to dicom-rs unchecked.
//! Anything it does not understand is also left to dicom-rs, which reports its own error: the walker only ever
//! rejects lengths that cannot fit.

use std::io::{Read, Seek};

use dicom_core::dictionary::{DataDictionary, VirtualVr};
use dicom_core::{Tag, VR};

use super::{IMPLICIT_VR_LE, RLE_LOSSLESS};

const UNDEFINED: u32 = u32::MAX;

/// What the stream starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// The File Meta group (after `DICM`), then the data set in the transfer syntax it names.
    FileMeta,
    /// A bare data set.
    DataSet {
        /// Explicit VR (else implicit), little endian.
        explicit: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Top,
    Sequence,
    Item,
    PixelSequence,
}

#[derive(Debug, Clone, Copy)]
struct Container {
    kind: Kind,
    end: Option<u64>,
    explicit: bool,
}

/// Walks the stream from its current position to `file_len` (stopping at the top-level PixelData when
/// `stop_at_pixel_data`).
///
/// # Errors
/// A one-line description of the first length that does not fit, with the element and its byte offset.
pub(crate) fn check<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
    start: Start,
    stop_at_pixel_data: bool,
) -> Result<(), String> {
    // I/O errors and short reads end the walk: dicom-rs reads the same bytes and reports them.
    walk(r, file_len, start, stop_at_pixel_data).unwrap_or(Ok(()))
}

fn walk<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
    start: Start,
    stop_at_pixel_data: bool,
) -> Option<Result<(), String>> {
    let (mut in_meta, explicit) = match start {
        Start::FileMeta => (true, true),
        Start::DataSet { explicit } => (false, explicit),
    };
    let mut stack = vec![Container { kind: Kind::Top, end: None, explicit }];
    loop {
        let pos = r.stream_position().ok()?;
        while stack.len() > 1 && stack.last().is_some_and(|c| c.end.is_some_and(|e| pos >= e)) {
            stack.pop();
        }
        if pos >= file_len {
            return Some(Ok(()));
        }
        let group = read_u16(r)?;
        let element = read_u16(r)?;
        let tag = Tag(group, element);
        let top = *stack.last()?;
        // The bytes left for a value: up to the end of the file and of every enclosing defined-length container.
        let limit = stack.iter().filter_map(|c| c.end).fold(file_len, u64::min);
        if group == 0xFFFE {
            let len = read_u32(r)?;
            let after = pos + 8;
            match element {
                0xE000 if top.kind == Kind::PixelSequence => {
                    if let Err(e) = fits("pixel data fragment", pos, len, after, limit) {
                        return Some(Err(e));
                    }
                    r.seek_relative(i64::from(len)).ok()?;
                }
                0xE000 => {
                    let end = if len == UNDEFINED {
                        None
                    } else {
                        if let Err(e) = fits("sequence item", pos, len, after, limit) {
                            return Some(Err(e));
                        }
                        Some(after + u64::from(len))
                    };
                    stack.push(Container { kind: Kind::Item, end, explicit: top.explicit });
                }
                0xE00D => {
                    if top.kind == Kind::Item {
                        stack.pop();
                    }
                }
                0xE0DD => {
                    if matches!(top.kind, Kind::Sequence | Kind::PixelSequence) {
                        stack.pop();
                    }
                }
                _ => return None,
            }
            continue;
        }
        if in_meta && group != 0x0002 {
            return None; // a File Meta group without a transfer syntax: dicom-rs reports it
        }
        let (vr, len, after) = if top.explicit {
            // As dicom-rs: an unknown VR is read as UN.
            let vr = VR::from_binary([read_u8(r)?, read_u8(r)?]).unwrap_or(VR::UN);
            if has_long_length(vr) {
                read_u16(r)?;
                (Some(vr), read_u32(r)?, pos + 12)
            } else {
                (Some(vr), u32::from(read_u16(r)?), pos + 8)
            }
        } else {
            (None, read_u32(r)?, pos + 8)
        };
        if stack.len() == 1 && tag == Tag(0x7FE0, 0x0010) && stop_at_pixel_data {
            return Some(Ok(()));
        }
        if len == UNDEFINED {
            let kind = if tag == Tag(0x7FE0, 0x0010) { Kind::PixelSequence } else { Kind::Sequence };
            // A UN element of undefined length holds an Implicit VR Little Endian sequence.
            let explicit = top.explicit && vr != Some(VR::UN);
            stack.push(Container { kind, end: None, explicit });
            continue;
        }
        if let Err(e) = fits(&format!("element ({group:04X},{element:04X})"), pos, len, after, limit) {
            return Some(Err(e));
        }
        let is_sequence = match vr {
            Some(vr) => vr == VR::SQ,
            None => dicom_dictionary_std::StandardDataDictionary
                .by_tag(tag)
                .is_some_and(|e| e.vr == VirtualVr::Exact(VR::SQ)),
        };
        if is_sequence {
            stack.push(Container {
                kind: Kind::Sequence,
                end: Some(after + u64::from(len)),
                explicit: top.explicit,
            });
        } else if in_meta && tag == Tag(0x0002, 0x0010) {
            let mut uid = vec![0u8; len as usize];
            r.read_exact(&mut uid).ok()?;
            let uid = String::from_utf8_lossy(&uid);
            let uid = uid.trim_end_matches(['\0', ' ']);
            // The data set follows the group; only the little-endian, non-deflated encodings are walked.
            let explicit = match uid {
                IMPLICIT_VR_LE => false,
                super::EXPLICIT_VR_LE | RLE_LOSSLESS => true,
                _ if uid.starts_with("1.2.840.10008.1.2.4.") && !is_deflate(uid) => true,
                _ => return None,
            };
            in_meta = false;
            stack[0].explicit = explicit;
            // Elements of group 0002 may still follow the transfer syntax: they are explicit too.
            if let Err(e) = skip_rest_of_meta(r, file_len)? {
                return Some(Err(e));
            }
        } else {
            r.seek_relative(i64::from(len)).ok()?;
        }
    }
}

/// Skips the explicit-VR elements of group 0002 that follow the transfer syntax, checking their lengths.
fn skip_rest_of_meta<R: Read + Seek>(r: &mut R, file_len: u64) -> Option<Result<(), String>> {
    loop {
        let pos = r.stream_position().ok()?;
        let mut group = [0u8; 2];
        let more = r.read_exact(&mut group).is_ok();
        r.seek(std::io::SeekFrom::Start(pos)).ok()?;
        if !more || u16::from_le_bytes(group) != 0x0002 {
            return Some(Ok(()));
        }
        read_u16(r)?;
        let element = read_u16(r)?;
        let vr = VR::from_binary([read_u8(r)?, read_u8(r)?]).unwrap_or(VR::UN);
        let (len, after) = if has_long_length(vr) {
            read_u16(r)?;
            (read_u32(r)?, pos + 12)
        } else {
            (u32::from(read_u16(r)?), pos + 8)
        };
        if let Err(e) = fits(&format!("element (0002,{element:04X})"), pos, len, after, file_len) {
            return Some(Err(e));
        }
        r.seek_relative(i64::from(len)).ok()?;
    }
}

fn is_deflate(uid: &str) -> bool {
    matches!(uid, "1.2.840.10008.1.2.4.95" | "1.2.840.10008.1.2.4.205")
}

fn fits(what: &str, pos: u64, len: u32, after: u64, limit: u64) -> Result<(), String> {
    let left = limit.saturating_sub(after);
    if u64::from(len) <= left {
        Ok(())
    } else {
        Err(format!("{what} at byte {pos} announces {len} bytes, but only {left} follow"))
    }
}

/// Explicit VRs whose length is 4 bytes after 2 reserved bytes: all but those of PS3.5 Table 7.1-2 (the rule
/// dicom-rs follows).
fn has_long_length(vr: VR) -> bool {
    use VR::*;
    !matches!(
        vr,
        AE | AS
            | AT
            | CS
            | DA
            | DS
            | DT
            | FL
            | FD
            | IS
            | LO
            | LT
            | PN
            | SH
            | SL
            | SS
            | ST
            | TM
            | UI
            | UL
            | US
    )
}

fn read_u8<R: Read>(r: &mut R) -> Option<u8> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b).ok()?;
    Some(b[0])
}

fn read_u16<R: Read>(r: &mut R) -> Option<u16> {
    let mut b = [0u8; 2];
    r.read_exact(&mut b).ok()?;
    Some(u16::from_le_bytes(b))
}

fn read_u32<R: Read>(r: &mut R) -> Option<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b).ok()?;
    Some(u32::from_le_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn implicit(tag: (u16, u16), len: u32, value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&tag.0.to_le_bytes());
        v.extend_from_slice(&tag.1.to_le_bytes());
        v.extend_from_slice(&len.to_le_bytes());
        v.extend_from_slice(value);
        v
    }

    fn run(bytes: &[u8], explicit: bool) -> Result<(), String> {
        check(&mut Cursor::new(bytes), bytes.len() as u64, Start::DataSet { explicit }, false)
    }

    #[test]
    fn lengths_that_fit_pass_and_others_fail() {
        let ok = [implicit((0x0008, 0x0060), 4, b"SEG "), implicit((0x0028, 0x0010), 2, &[16, 0])].concat();
        assert_eq!(run(&ok, false), Ok(()));
        let bad = [implicit((0x0008, 0x0060), 4, b"SEG "), implicit((0x0028, 0x0010), 0xFF00_0002, &[16, 0])]
            .concat();
        let err = run(&bad, false).unwrap_err();
        assert!(err.contains("element (0028,0010) at byte 12 announces 4278190082 bytes"), "{err}");
    }

    #[test]
    fn nested_items_are_bounded_by_their_sequence() {
        // SegmentSequence (SQ, 20 bytes) → item (12 bytes) → SegmentNumber announcing 100 bytes.
        let inner = implicit((0x0062, 0x0004), 100, &[1, 0]);
        let item = implicit((0xFFFE, 0xE000), inner.len() as u32, &inner);
        let seq = implicit((0x0062, 0x0002), item.len() as u32, &item);
        let tail = implicit((0x0008, 0x0060), 96, &[b' '; 96]);
        let err = run(&[seq, tail].concat(), false).unwrap_err();
        assert!(err.contains("element (0062,0004) at byte 16"), "{err}");
        // The same with undefined lengths and delimiters.
        let inner = implicit((0x0062, 0x0004), 2, &[1, 0]);
        let item =
            [implicit((0xFFFE, 0xE000), UNDEFINED, &inner), implicit((0xFFFE, 0xE00D), 0, &[])].concat();
        let seq = [implicit((0x0062, 0x0002), UNDEFINED, &item), implicit((0xFFFE, 0xE0DD), 0, &[])].concat();
        assert_eq!(run(&seq, false), Ok(()));
    }

    #[test]
    fn explicit_vr_and_pixel_fragments() {
        let mut v = Vec::new();
        v.extend_from_slice(&[0x28, 0, 0x10, 0, b'U', b'S', 2, 0, 16, 0]);
        v.extend_from_slice(&[0xE0, 0x7F, 0x10, 0, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        v.extend_from_slice(&implicit((0xFFFE, 0xE000), 0, &[]));
        v.extend_from_slice(&implicit((0xFFFE, 0xE000), 4, &[1, 2, 3, 4]));
        v.extend_from_slice(&implicit((0xFFFE, 0xE0DD), 0, &[]));
        assert_eq!(run(&v, true), Ok(()));
        let err = run(&v[..v.len() - 10], true).unwrap_err();
        assert!(err.contains("pixel data fragment"), "{err}");
    }
}
