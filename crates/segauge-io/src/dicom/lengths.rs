//! A pre-check of the value lengths of a DICOM stream, run before dicom-rs parses it.
//!
//! dicom-rs (0.10) allocates and zeroes a buffer of each element's announced length before reading the value, so a
//! single corrupt length field (a flipped byte) makes it allocate up to 4 GiB, which takes seconds and can abort a
//! small machine, before it reports the short read. This walker reads element headers only, skips values with
//! seeks, and rejects any defined length longer than what is left of the stream or of the enclosing item or
//! sequence.
//!
//! It follows dicom-rs's own reading step by step, so that it checks the very headers dicom-rs will read:
//! - [`file_meta`] walks the File Meta group as `FileMetaTable` reads it (the group length (0002,0000) first,
//!   then whole elements until that many bytes are read), and returns the transfer syntax and where the data set
//!   starts;
//! - [`data_set`] walks a data set in Implicit or Explicit VR Little Endian as dicom-rs's `DataSetReader` does:
//!   item headers at sequence level, element headers elsewhere (where even `(FFFE,xxxx)` tags are ordinary
//!   elements), undefined lengths opening sequences, encapsulated pixel data fragments; it stops at the first
//!   top-level tag at or after PixelData when only the header is wanted, as `read_until` does.
//!
//! The caller decides what the data set is: `open` refuses Explicit VR Big Endian by name before anything is
//! parsed, and inflates a deflated data set itself (with a bound) and walks the inflated bytes, so every transfer
//! syntax dicom-rs parses is walked. Sequences nested deeper than [`MAX_DEPTH`] are refused: dicom-rs builds
//! nested items by recursion, and a few kilobytes of nested headers would overflow the stack. Anything else the
//! walker does not understand, dicom-rs does not read either (it stops with its own error), so the walk stops
//! there and leaves the report to dicom-rs.

use std::io::{Read, Seek};

use dicom_core::dictionary::DataDictionary;
use dicom_core::{Tag, VR};

const UNDEFINED: u32 = u32::MAX;
const PIXEL_DATA: Tag = Tag(0x7FE0, 0x0010);
const ITEM: Tag = Tag(0xFFFE, 0xE000);
const ITEM_END: Tag = Tag(0xFFFE, 0xE00D);
const SEQUENCE_END: Tag = Tag(0xFFFE, 0xE0DD);

/// The deepest nesting of sequences and items accepted (each sequence and each item counts one level). Real
/// objects nest a few levels (structured reports a dozen or two); dicom-rs recurses once per level.
pub(crate) const MAX_DEPTH: usize = 64;

/// Why a stream is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// A length longer than what follows it: the file is cut or the length is corrupt.
    Length(String),
    /// Sequences nested deeper than [`MAX_DEPTH`].
    Depth(String),
}

/// What the File Meta group says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Meta {
    /// Transfer Syntax UID (0002,0010), without padding; `None` when absent.
    pub(crate) transfer_syntax: Option<String>,
    /// Where the data set starts: after the last element dicom-rs reads as part of the group.
    pub(crate) data_set: u64,
}

/// Walks the File Meta group from the current position (just after `DICM`) as dicom-rs reads it, checking every
/// length against `file_len`.
///
/// `Ok(None)`: dicom-rs cannot read this group either (no group length first, an undefined length, a cut file);
/// it reports that itself, before reading any data set.
///
/// # Errors
/// A length longer than the rest of the file.
pub(crate) fn file_meta<R: Read + Seek>(r: &mut R, file_len: u64) -> Result<Option<Meta>, Problem> {
    walk_meta(r, file_len).transpose()
}

fn walk_meta<R: Read + Seek>(r: &mut R, file_len: u64) -> Option<Result<Meta, Problem>> {
    // (0002,0000) UL, length 4: the group length.
    let head = read_explicit_header(r)?;
    if head.tag != Tag(0x0002, 0x0000) || head.len != 4 {
        return None;
    }
    let group_length = read_u32(r)?;
    let mut read = 0u32;
    let mut transfer_syntax = None;
    while read < group_length {
        let pos = r.stream_position().ok()?;
        let h = read_explicit_header(r)?;
        if h.len == UNDEFINED {
            return None;
        }
        if let Err(e) = fits(&element(h.tag), pos, h.len, file_len.saturating_sub(pos + h.size)) {
            return Some(Err(e));
        }
        if h.tag == Tag(0x0002, 0x0010) {
            let mut uid = vec![0u8; h.len as usize];
            r.read_exact(&mut uid).ok()?;
            let uid = String::from_utf8_lossy(&uid);
            transfer_syntax =
                Some(uid.trim_end_matches(|c: char| c.is_whitespace() || c == '\0').to_string());
        } else {
            r.seek_relative(i64::from(h.len)).ok()?;
        }
        read = read.saturating_add(h.size as u32).saturating_add(h.len);
    }
    Some(Ok(Meta { transfer_syntax, data_set: r.stream_position().ok()? }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sequence,
    PixelSequence,
    Item,
}

/// An open sequence or item, as dicom-rs's delimiter stack holds it.
#[derive(Debug, Clone, Copy)]
struct Container {
    kind: Kind,
    end: Option<u64>,
}

/// Walks a data set from the current position to `end` (an offset of the stream), in Explicit VR Little Endian
/// when `explicit`, else Implicit VR Little Endian.
///
/// Returns the offset of the top-level element where the walk stopped when `stop_at_pixel_data` and an element at
/// or after PixelData (7FE0,0010) was reached (dicom-rs stops there too), else `None`.
///
/// # Errors
/// The first length that does not fit (with the element and its byte offset), or too deep a nesting.
pub(crate) fn data_set<R: Read + Seek>(
    r: &mut R,
    end: u64,
    explicit: bool,
    stop_at_pixel_data: bool,
) -> Result<Option<u64>, Problem> {
    // I/O errors, short reads and headers dicom-rs refuses end the walk: dicom-rs reports them.
    walk(r, end, explicit, stop_at_pixel_data).unwrap_or(Ok(None))
}

fn walk<R: Read + Seek>(
    r: &mut R,
    end: u64,
    explicit: bool,
    stop_at_pixel_data: bool,
) -> Option<Result<Option<u64>, Problem>> {
    let mut stack: Vec<Container> = Vec::new();
    // As dicom-rs: expecting item headers (at sequence level) or element headers.
    let mut in_sequence = false;
    // dicom-rs counts the bytes of a binary value it leaves unread (see `value_size`) as read: its position, which
    // decides where defined-length containers end, runs ahead of the stream by `skew` bytes.
    let mut skew = 0u64;
    loop {
        let pos = r.stream_position().ok()?;
        let logical = pos + skew;
        // Close the defined-length containers that end here; dicom-rs stops with an error past an end.
        while let Some(c) = stack.last() {
            match c.end {
                Some(e) if e == logical => {
                    in_sequence = c.kind == Kind::Item;
                    stack.pop();
                }
                Some(e) if e < logical => return None,
                _ => break,
            }
        }
        if pos >= end {
            return Some(Ok(None));
        }
        if stack.len() > MAX_DEPTH {
            return Some(Err(Problem::Depth(format!(
                "sequences nested more than {MAX_DEPTH} levels deep (at byte {pos})"
            ))));
        }
        // The bytes a value may have: up to the end of the stream (plus what dicom-rs leaves unread of it) and of
        // every enclosing defined-length container.
        let room = |after: u64, unread: u32| {
            let in_stream = end.saturating_sub(after) + u64::from(unread);
            stack
                .iter()
                .filter_map(|c| c.end)
                .map(|e| e.saturating_sub(after + skew))
                .fold(in_stream, u64::min)
        };
        let top = stack.last().map(|c| c.kind);
        if in_sequence || top == Some(Kind::PixelSequence) {
            let tag = Tag(read_u16(r)?, read_u16(r)?);
            let len = read_u32(r)?;
            let after = pos + 8;
            match tag {
                ITEM if top == Some(Kind::PixelSequence) => {
                    if len == UNDEFINED {
                        return None;
                    }
                    if let Err(e) = fits("pixel data fragment", pos, len, room(after, 0)) {
                        return Some(Err(e));
                    }
                    r.seek_relative(i64::from(len)).ok()?;
                }
                ITEM => {
                    let end = if len == UNDEFINED {
                        None
                    } else {
                        if let Err(e) = fits("sequence item", pos, len, room(after, 0)) {
                            return Some(Err(e));
                        }
                        Some(after + skew + u64::from(len))
                    };
                    stack.push(Container { kind: Kind::Item, end });
                    in_sequence = false;
                }
                ITEM_END => {
                    stack.pop();
                    in_sequence = true;
                }
                SEQUENCE_END => {
                    stack.pop();
                    in_sequence = false;
                }
                _ => return None,
            }
            continue;
        }
        let h = if explicit { read_explicit_header(r)? } else { read_implicit_header(r)? };
        let after = pos + h.size;
        if stack.is_empty() && h.tag == ITEM_END {
            continue; // dicom-rs ignores an item delimiter outside any sequence
        }
        if stack.is_empty() && stop_at_pixel_data && h.tag >= PIXEL_DATA {
            return Some(Ok(Some(pos)));
        }
        if h.vr == VR::SQ {
            let end = if h.len == UNDEFINED {
                None
            } else {
                if let Err(e) = fits(&element(h.tag), pos, h.len, room(after, 0)) {
                    return Some(Err(e));
                }
                Some(after + skew + u64::from(h.len))
            };
            stack.push(Container { kind: Kind::Sequence, end });
            in_sequence = true;
        } else if h.tag == ITEM_END {
            stack.pop();
            in_sequence = true;
        } else if h.tag == PIXEL_DATA && h.len == UNDEFINED {
            stack.push(Container { kind: Kind::PixelSequence, end: None });
        } else if h.len == UNDEFINED {
            stack.push(Container { kind: Kind::Sequence, end: None });
            in_sequence = true;
        } else {
            let unread = h.len % value_size(h.vr);
            if let Err(e) = fits(&element(h.tag), pos, h.len, room(after, unread)) {
                return Some(Err(e));
            }
            r.seek_relative(i64::from(h.len - unread)).ok()?;
            skew += u64::from(unread);
        }
    }
}

/// Bytes per value of a VR as dicom-rs 0.10 reads it: a binary value is read as `len / size` whole numbers, so
/// `len % size` bytes are left in the stream (and counted as read), and the next header starts there.
fn value_size(vr: VR) -> u32 {
    use VR::*;
    match vr {
        US | SS | OW => 2,
        AT | FL | OF | SL | UL | OL => 4,
        FD | OD | SV | UV | OV => 8,
        _ => 1,
    }
}

/// An element header as dicom-rs decodes it.
struct Header {
    tag: Tag,
    vr: VR,
    len: u32,
    /// Bytes of the header.
    size: u64,
}

/// An Explicit VR Little Endian header: `(FFFE,xxxx)` tags have no VR (8 bytes), an unknown VR reads as UN, and
/// the length is 2 bytes for the VRs of PS3.5 Table 7.1-2, else 4 after 2 reserved bytes (12 bytes in all).
fn read_explicit_header<R: Read>(r: &mut R) -> Option<Header> {
    let tag = Tag(read_u16(r)?, read_u16(r)?);
    if tag.group() == 0xFFFE {
        return Some(Header { tag, vr: VR::UN, len: read_u32(r)?, size: 8 });
    }
    let vr = VR::from_binary([read_u8(r)?, read_u8(r)?]).unwrap_or(VR::UN);
    if has_long_length(vr) {
        read_u16(r)?;
        Some(Header { tag, vr, len: read_u32(r)?, size: 12 })
    } else {
        Some(Header { tag, vr, len: u32::from(read_u16(r)?), size: 8 })
    }
}

/// An Implicit VR Little Endian header: the VR from the standard dictionary as dicom-rs takes it (OW for pixel and
/// overlay data, UN for unknown tags).
fn read_implicit_header<R: Read>(r: &mut R) -> Option<Header> {
    let tag = Tag(read_u16(r)?, read_u16(r)?);
    let len = read_u32(r)?;
    let vr = if tag == PIXEL_DATA || (tag.group() >> 8 == 0x60 && tag.element() == 0x3000) {
        VR::OW
    } else {
        dicom_dictionary_std::StandardDataDictionary.by_tag(tag).map_or(VR::UN, |e| e.vr.relaxed())
    };
    Some(Header { tag, vr, len, size: 8 })
}

fn element(tag: Tag) -> String {
    format!("element ({:04X},{:04X})", tag.group(), tag.element())
}

fn fits(what: &str, pos: u64, len: u32, left: u64) -> Result<(), Problem> {
    if u64::from(len) <= left {
        Ok(())
    } else {
        Err(Problem::Length(format!("{what} at byte {pos} announces {len} bytes, but only {left} follow")))
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

    fn run(bytes: &[u8], explicit: bool) -> Result<Option<u64>, Problem> {
        data_set(&mut Cursor::new(bytes), bytes.len() as u64, explicit, false)
    }

    fn length_error(r: Result<Option<u64>, Problem>) -> String {
        match r {
            Err(Problem::Length(e)) => e,
            other => panic!("expected a length error, got {other:?}"),
        }
    }

    #[test]
    fn lengths_that_fit_pass_and_others_fail() {
        let ok = [implicit((0x0008, 0x0060), 4, b"SEG "), implicit((0x0028, 0x0010), 2, &[16, 0])].concat();
        assert_eq!(run(&ok, false), Ok(None));
        let bad = [implicit((0x0008, 0x0060), 4, b"SEG "), implicit((0x0028, 0x0010), 0xFF00_0002, &[16, 0])]
            .concat();
        let err = length_error(run(&bad, false));
        assert!(err.contains("element (0028,0010) at byte 12 announces 4278190082 bytes"), "{err}");
    }

    #[test]
    fn nested_items_are_bounded_by_their_sequence() {
        // SegmentSequence (SQ, 20 bytes) → item (12 bytes) → SegmentNumber announcing 100 bytes.
        let inner = implicit((0x0062, 0x0004), 100, &[1, 0]);
        let item = implicit((0xFFFE, 0xE000), inner.len() as u32, &inner);
        let seq = implicit((0x0062, 0x0002), item.len() as u32, &item);
        let tail = implicit((0x0008, 0x0060), 96, &[b' '; 96]);
        let err = length_error(run(&[seq, tail].concat(), false));
        assert!(err.contains("element (0062,0004) at byte 16"), "{err}");
        // The same with undefined lengths and delimiters.
        let inner = implicit((0x0062, 0x0004), 2, &[1, 0]);
        let item =
            [implicit((0xFFFE, 0xE000), UNDEFINED, &inner), implicit((0xFFFE, 0xE00D), 0, &[])].concat();
        let seq = [implicit((0x0062, 0x0002), UNDEFINED, &item), implicit((0xFFFE, 0xE0DD), 0, &[])].concat();
        assert_eq!(run(&seq, false), Ok(None));
    }

    #[test]
    fn explicit_vr_and_pixel_fragments() {
        let mut v = Vec::new();
        v.extend_from_slice(&[0x28, 0, 0x10, 0, b'U', b'S', 2, 0, 16, 0]);
        v.extend_from_slice(&[0xE0, 0x7F, 0x10, 0, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        v.extend_from_slice(&implicit((0xFFFE, 0xE000), 0, &[]));
        v.extend_from_slice(&implicit((0xFFFE, 0xE000), 4, &[1, 2, 3, 4]));
        v.extend_from_slice(&implicit((0xFFFE, 0xE0DD), 0, &[]));
        assert_eq!(run(&v, true), Ok(None));
        let err = length_error(run(&v[..v.len() - 10], true));
        assert!(err.contains("pixel data fragment"), "{err}");
        // Header only: the walk stops at PixelData and says where.
        assert_eq!(data_set(&mut Cursor::new(&v), v.len() as u64, true, true), Ok(Some(10)));
    }

    #[test]
    fn item_tags_outside_sequences_are_ordinary_elements() {
        // dicom-rs reads an (FFFE,xxxx) header met where an element is expected as an element of VR UN and
        // allocates its length: the walker must check it too.
        let mut v = vec![0x08, 0x00, 0x60, 0x00, b'C', b'S', 4, 0, b'S', b'E', b'G', b' '];
        v.extend_from_slice(&implicit((0xFFFE, 0x1234), 0xC000_0000, &[0; 8]));
        let err = length_error(run(&v, true));
        assert!(err.contains("element (FFFE,1234) at byte 12 announces 3221225472 bytes"), "{err}");
        // The same in Implicit VR.
        let mut v = implicit((0x0008, 0x0060), 4, b"SEG ");
        v.extend_from_slice(&implicit((0xFFFE, 0xE000), 0xC000_0000, &[0; 8]));
        let err = length_error(run(&v, false));
        assert!(err.contains("element (FFFE,E000) at byte 12 announces 3221225472 bytes"), "{err}");
    }

    #[test]
    fn undefined_length_un_elements_stay_explicit() {
        // dicom-rs 0.10 reads the items of an undefined-length UN element in the data set's own (explicit)
        // encoding; read as implicit, the 4 GiB length below would be taken for a short one.
        let mut v = vec![0x09, 0x00, 0x10, 0x00, b'U', b'N', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
        v.extend_from_slice(&implicit((0xFFFE, 0xE000), UNDEFINED, &[]));
        v.extend_from_slice(&[0x08, 0x00, 0x60, 0x00, b'O', b'B', 0, 0, 0xF0, 0xFF, 0xFF, 0xFF]);
        let err = length_error(run(&v, true));
        assert!(err.contains("element (0008,0060) at byte 20"), "{err}");
    }

    #[test]
    fn binary_values_of_odd_sizes_shift_the_next_header() {
        // (0010,0020) UL of 6 bytes: dicom-rs reads one u32 and the next header 2 bytes early, here at the two
        // bytes `08 00` + `30 10` → (0008,1030), whose 4 GiB-like length it would allocate.
        let mut v = vec![0x10, 0x00, 0x20, 0x00, b'U', b'L', 6, 0, 1, 2, 3, 4];
        v.extend_from_slice(&[0x08, 0x00, 0x30, 0x10, b'O', b'B', 0, 0, 0x00, 0x00, 0x00, 0xC0, 0, 0]);
        let err = length_error(run(&v, true));
        assert!(err.contains("element (0008,1030) at byte 12"), "{err}");
        // A defined-length item closes where dicom-rs's count says, 1 byte past the stream position: the last
        // byte of the 3-byte US value starts the next, top-level, element (0008,0060).
        let inner = [0x28, 0x00, 0x10, 0x00, b'U', b'S', 3, 0, 1, 0, 0x08];
        let mut seq = vec![0x62, 0x00, 0x02, 0x00, b'S', b'Q', 0, 0];
        seq.extend_from_slice(&(8 + inner.len() as u32).to_le_bytes());
        seq.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
        seq.extend_from_slice(&(inner.len() as u32).to_le_bytes());
        seq.extend_from_slice(&inner);
        seq.extend_from_slice(&[0x00, 0x60, 0x00, b'C', b'S', 4, 0, b'S', b'E', b'G', b' ']);
        assert_eq!(run(&seq, true), Ok(None));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut v = Vec::new();
        for _ in 0..MAX_DEPTH {
            v.extend_from_slice(&implicit((0x0040, 0xA730), UNDEFINED, &[]));
            v.extend_from_slice(&implicit((0xFFFE, 0xE000), UNDEFINED, &[]));
        }
        assert!(matches!(run(&v, false), Err(Problem::Depth(_))), "{:?}", run(&v, false));
        // Within the limit: fine.
        let shallow: Vec<u8> = v[..16 * 8].to_vec();
        assert_eq!(run(&shallow, false), Ok(None));
    }

    #[test]
    fn file_meta_follows_the_group_length() {
        let mut meta = vec![2, 0, 0, 0, b'U', b'L', 4, 0];
        let ts = b"1.2.840.10008.1.2.1\0";
        let mut elem = vec![2, 0, 0x10, 0, b'U', b'I'];
        elem.extend_from_slice(&(ts.len() as u16).to_le_bytes());
        elem.extend_from_slice(ts);
        meta.extend_from_slice(&(elem.len() as u32).to_le_bytes());
        meta.extend_from_slice(&elem);
        meta.extend_from_slice(&[8, 0, 0x60, 0, b'C', b'S', 4, 0, b'S', b'E', b'G', b' ']);
        let got = file_meta(&mut Cursor::new(&meta), meta.len() as u64).expect("fits").expect("readable");
        assert_eq!(got.transfer_syntax.as_deref(), Some("1.2.840.10008.1.2.1"));
        assert_eq!(got.data_set, 12 + elem.len() as u64);
        // A transfer syntax announcing more bytes than the file has.
        let mut bad = meta.clone();
        bad[18] = 0xFF;
        assert!(matches!(file_meta(&mut Cursor::new(&bad), bad.len() as u64), Err(Problem::Length(_))));
    }
}
