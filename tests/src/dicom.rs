//! DICOM bytes for tests, written and taken apart without a DICOM library: a File Meta group builder, the File
//! Meta elements and data set of an existing file, copies with another transfer syntax, bare data sets (no
//! preamble, no File Meta) and deflated data sets, and a tolerant walk over element headers for the mutators.
//!
//! Only the parts of PS3.5 and PS3.10 that the tests need: Explicit VR Little Endian File Meta groups (PS3.10
//! §7.1), element headers in Explicit and Implicit VR Little Endian (PS3.5 §7.1), items and delimiters (§7.5).

use std::io::Write;

/// A File Meta element: tag `(group, element)` as its 4 little-endian bytes, VR and value.
pub type MetaElement = ([u8; 4], [u8; 2], Vec<u8>);

/// Implicit VR Little Endian.
pub const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";
/// Explicit VR Little Endian.
pub const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";
/// Deflated Explicit VR Little Endian.
pub const DEFLATED_EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1.99";
/// Explicit VR Big Endian (retired).
pub const EXPLICIT_VR_BE: &str = "1.2.840.10008.1.2.2";
/// RLE Lossless.
pub const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";
/// Segmentation Storage.
pub const SEG_SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.1.66.4";

/// VRs whose Explicit VR length field is 4 bytes after 2 reserved ones (PS3.5 Table 7.1-1); all others have a
/// 2-byte length.
pub fn has_long_length(vr: [u8; 2]) -> bool {
    matches!(
        &vr,
        b"OB" | b"OD" | b"OF" | b"OL" | b"OV" | b"OW" | b"SQ" | b"SV" | b"UC" | b"UN" | b"UR" | b"UT" | b"UV"
    )
}

/// A UID value padded to even length with a NUL, as PS3.5 §9.1 wants.
fn uid_value(uid: &str) -> Vec<u8> {
    let mut v = uid.as_bytes().to_vec();
    if v.len() % 2 == 1 {
        v.push(0);
    }
    v
}

/// One Explicit VR Little Endian element.
pub fn explicit_element(tag: (u16, u16), vr: [u8; 2], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + value.len());
    out.extend_from_slice(&tag.0.to_le_bytes());
    out.extend_from_slice(&tag.1.to_le_bytes());
    out.extend_from_slice(&vr);
    if has_long_length(vr) {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(value);
    out
}

/// The 128-byte preamble, `DICM` and a File Meta group with the given elements (the group length (0002,0000) is
/// computed; `elements` must not hold it).
pub fn file_with_meta(elements: &[MetaElement]) -> Vec<u8> {
    let mut meta = Vec::new();
    for (tag, vr, value) in elements {
        meta.extend_from_slice(tag);
        meta.extend_from_slice(vr);
        if has_long_length(*vr) {
            meta.extend_from_slice(&[0, 0]);
            meta.extend_from_slice(&(value.len() as u32).to_le_bytes());
        } else {
            meta.extend_from_slice(&(value.len() as u16).to_le_bytes());
        }
        meta.extend_from_slice(value);
    }
    let mut out = vec![0u8; 128];
    out.extend_from_slice(b"DICM");
    out.extend_from_slice(&[2, 0, 0, 0, b'U', b'L', 4, 0]);
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(&meta);
    out
}

/// Preamble, `DICM` and a minimal File Meta group: version, SOP class and instance, transfer syntax.
pub fn minimal_meta(sop_class: &str, transfer_syntax: &str) -> Vec<u8> {
    file_with_meta(&[
        ([2, 0, 1, 0], *b"OB", vec![0, 1]),
        ([2, 0, 2, 0], *b"UI", uid_value(sop_class)),
        ([2, 0, 3, 0], *b"UI", uid_value("1.2.3.4.5.6.7.8.9")),
        ([2, 0, 0x10, 0], *b"UI", uid_value(transfer_syntax)),
    ])
}

/// The File Meta elements of a file with preamble (group length left out), and the offset of its data set: the
/// elements of group 0002 from byte 132 on, up to the first other group or the first element that does not fit
/// (a damaged file is taken apart as far as it goes).
///
/// # Panics
/// When the file has no `DICM` at byte 128.
pub fn meta_elements(bytes: &[u8]) -> (Vec<MetaElement>, usize) {
    assert!(bytes.len() >= 132 && &bytes[128..132] == b"DICM", "no DICM marker at byte 128");
    let mut at = 132;
    let mut out = Vec::new();
    while at + 8 <= bytes.len() && u16::from_le_bytes([bytes[at], bytes[at + 1]]) == 0x0002 {
        let tag = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        let vr = [bytes[at + 4], bytes[at + 5]];
        let (len, head) = if has_long_length(vr) && at + 12 <= bytes.len() {
            (u32::from_le_bytes([bytes[at + 8], bytes[at + 9], bytes[at + 10], bytes[at + 11]]) as usize, 12)
        } else {
            (usize::from(u16::from_le_bytes([bytes[at + 6], bytes[at + 7]])), 8)
        };
        if at + head + len > bytes.len() {
            break;
        }
        if tag != [2, 0, 0, 0] {
            out.push((tag, vr, bytes[at + head..at + head + len].to_vec()));
        }
        at += head + len;
    }
    (out, at)
}

/// The transfer syntax UID of a file with preamble and File Meta.
pub fn transfer_syntax(bytes: &[u8]) -> String {
    let (elements, _) = meta_elements(bytes);
    elements
        .iter()
        .find(|e| e.0 == [2, 0, 0x10, 0])
        .map(|e| String::from_utf8_lossy(&e.2).trim_end_matches(['\0', ' ']).to_string())
        .unwrap_or_default()
}

/// A copy of a file with preamble and File Meta, with another transfer syntax UID and data set bytes.
pub fn with_meta(bytes: &[u8], transfer_syntax: &str, data_set: &[u8]) -> Vec<u8> {
    let (mut elements, _) = meta_elements(bytes);
    for e in &mut elements {
        if e.0 == [2, 0, 0x10, 0] {
            e.2 = uid_value(transfer_syntax);
        }
    }
    let mut out = file_with_meta(&elements);
    out.extend_from_slice(data_set);
    out
}

/// Raw deflate (RFC 1951, no zlib or gzip wrapper), as Deflated Explicit VR Little Endian stores the data set.
pub fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("deflate into memory");
    enc.finish().expect("deflate into memory")
}

/// The Deflated Explicit VR Little Endian copy of an Explicit VR Little Endian file.
pub fn deflated_copy(bytes: &[u8]) -> Vec<u8> {
    let (_, start) = meta_elements(bytes);
    with_meta(bytes, DEFLATED_EXPLICIT_VR_LE, &deflate(&bytes[start..]))
}

/// The data set of a file alone: no preamble, no `DICM`, no File Meta group.
pub fn bare_copy(bytes: &[u8]) -> Vec<u8> {
    let (_, start) = meta_elements(bytes);
    bytes[start..].to_vec()
}

/// An element or item header found by [`headers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElementHeader {
    /// Offset of the header.
    pub offset: usize,
    /// `(group, element)`.
    pub tag: (u16, u16),
    /// Explicit VR, when the header has one.
    pub vr: Option<[u8; 2]>,
    /// Offset of the length field.
    pub length_at: usize,
    /// Size of the length field (2 or 4 bytes).
    pub length_size: usize,
    /// The length as written.
    pub length: u32,
    /// Offset of the value.
    pub value_at: usize,
}

/// Every element and item header of a data set starting at `start`, in file order, walking into sequences,
/// items and encapsulated pixel data. Tolerant: it stops at the first header that does not fit the bytes, and in
/// Implicit VR takes a defined-length value that starts with an item tag for a sequence (no dictionary here).
pub fn headers(bytes: &[u8], start: usize, explicit: bool) -> Vec<ElementHeader> {
    let mut out = Vec::new();
    let mut at = start;
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    while at + 8 <= bytes.len() {
        let tag = (u16_at(at), u16_at(at + 2));
        let (vr, length_at, length_size) = if tag.0 == 0xFFFE || !explicit {
            (None, at + 4, 4)
        } else {
            let vr = [bytes[at + 4], bytes[at + 5]];
            if has_long_length(vr) { (Some(vr), at + 8, 4) } else { (Some(vr), at + 6, 2) }
        };
        if length_at + length_size > bytes.len() {
            break;
        }
        let length = if length_size == 4 { u32_at(length_at) } else { u32::from(u16_at(length_at)) };
        let value_at = length_at + length_size;
        out.push(ElementHeader { offset: at, tag, vr, length_at, length_size, length, value_at });
        let starts_item = |i: usize| i + 4 <= bytes.len() && bytes[i..i + 4] == [0xFE, 0xFF, 0x00, 0xE0];
        let nested = length == u32::MAX
            || vr == Some(*b"SQ")
            || (tag == (0xFFFE, 0xE000) && !is_fragment(&out))
            || (!explicit && starts_item(value_at));
        at = if tag.0 == 0xFFFE && tag.1 != 0xE000 || nested {
            value_at
        } else {
            match value_at.checked_add(length as usize) {
                Some(next) if next <= bytes.len() => next,
                _ => break,
            }
        };
    }
    out
}

/// Whether the item just pushed is a fragment of encapsulated pixel data (its value is bytes, not elements).
fn is_fragment(found: &[ElementHeader]) -> bool {
    // The innermost open undefined-length element before it is PixelData when the items belong to it.
    found
        .iter()
        .rev()
        .skip(1)
        .find(|h| h.length == u32::MAX && h.tag != (0xFFFE, 0xE000))
        .is_some_and(|h| h.tag == (0x7FE0, 0x0010))
}

/// Where the data set of a DICOM file starts and whether it is Explicit VR: after the File Meta group (by its
/// group length) for a file with `DICM` at 128, else 0 (a bare data set, explicit when bytes 4–5 look like a VR).
pub fn data_set_start(bytes: &[u8]) -> (usize, bool) {
    if bytes.len() >= 144 && &bytes[128..132] == b"DICM" {
        let group_length = u32::from_le_bytes([bytes[140], bytes[141], bytes[142], bytes[143]]) as usize;
        let start = 144usize.saturating_add(group_length).min(bytes.len());
        let ts = transfer_syntax(bytes);
        (start, ts != IMPLICIT_VR_LE)
    } else {
        let explicit = bytes.len() >= 6 && bytes[4].is_ascii_uppercase() && bytes[5].is_ascii_uppercase();
        (0, explicit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trip_and_headers() {
        let mut file = minimal_meta(SEG_SOP_CLASS, EXPLICIT_VR_LE);
        let (elements, start) = meta_elements(&file);
        assert_eq!(start, file.len());
        assert_eq!(elements.len(), 4);
        assert_eq!(transfer_syntax(&file), EXPLICIT_VR_LE);
        file.extend(explicit_element((0x0008, 0x0060), *b"CS", b"SEG "));
        file.extend(explicit_element((0x0028, 0x0010), *b"US", &[16, 0]));
        let (at, explicit) = data_set_start(&file);
        assert_eq!((at, explicit), (start, true));
        let found = headers(&file, at, true);
        assert_eq!(found.iter().map(|h| h.tag).collect::<Vec<_>>(), vec![(0x0008, 0x0060), (0x0028, 0x0010)]);
        assert_eq!((found[1].length, found[1].length_size), (2, 2));
        let copy = with_meta(&file, IMPLICIT_VR_LE, &[]);
        assert_eq!(transfer_syntax(&copy), IMPLICIT_VR_LE);
        assert_eq!(bare_copy(&file), file[start..].to_vec());
    }

    #[test]
    fn headers_walk_into_sequences_and_pixel_fragments() {
        let inner = explicit_element((0x0062, 0x0004), *b"US", &[1, 0]);
        let item = [&[0xFE, 0xFF, 0x00, 0xE0][..], &(inner.len() as u32).to_le_bytes(), &inner].concat();
        let mut ds = explicit_element((0x0062, 0x0002), *b"SQ", &item);
        ds.extend([0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        ds.extend([0xFE, 0xFF, 0x00, 0xE0, 4, 0, 0, 0, 0xFE, 0xFF, 0x00, 0xE0]);
        ds.extend([0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        let tags: Vec<(u16, u16)> = headers(&ds, 0, true).iter().map(|h| h.tag).collect();
        assert_eq!(
            tags,
            vec![
                (0x0062, 0x0002),
                (0xFFFE, 0xE000),
                (0x0062, 0x0004),
                (0x7FE0, 0x0010),
                (0xFFFE, 0xE000),
                (0xFFFE, 0xE0DD)
            ]
        );
    }
}
