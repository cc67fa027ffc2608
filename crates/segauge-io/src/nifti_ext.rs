//! Label names from NIfTI-1 header extensions.
//!
//! TotalSegmentator writes its class map into the multi-label NIfTI it saves as a header extension holding a
//! Caret/GIFTI-style XML label table: `<LabelTable><Label Key="5" Red=… ><![CDATA[liver]]></Label>…`. Any
//! extension (whatever its code) whose content holds a `<LabelTable` element is read that way: label = `Key`,
//! name = the element's text, trimmed. Other extensions are skipped.
//!
//! Extensions are framed as NIfTI-1 says: after the 348-byte header, four bytes whose first is non-zero when
//! extensions follow, then for each `esize` (a multiple of 16, at least 16, counting its own 8 header bytes),
//! `ecode` and `esize − 8` bytes of content, up to `vox_offset`. A frame that runs past `vox_offset` ends the walk
//! (nibabel refuses such a file; here it only ends the search for names, the voxel data being intact).

use std::collections::BTreeMap;
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::Error;
use crate::error::{one_line, quote};

/// The most extension bytes searched for a label table; a larger extension area is skipped unread (the class map
/// of TotalSegmentator's 117 structures takes 13 kB).
pub(crate) const MAX_EXTENSION_BYTES: u64 = 16 << 20;

/// The label names of the label tables in `ext` (the bytes from 348 to `vox_offset`, or the first
/// [`MAX_EXTENSION_BYTES`] of them); empty when there is none.
pub(crate) fn label_names(path: &Path, ext: &[u8], big_endian: bool) -> Result<BTreeMap<u32, String>, Error> {
    let mut names = BTreeMap::new();
    if ext.len() < 4 || ext[0] == 0 {
        return Ok(names);
    }
    let int = |b: &[u8]| {
        let a = [b[0], b[1], b[2], b[3]];
        if big_endian { i32::from_be_bytes(a) } else { i32::from_le_bytes(a) }
    };
    let mut pos = 4usize;
    while pos + 8 <= ext.len() {
        let (esize, ecode) = (int(&ext[pos..]), int(&ext[pos + 4..]));
        let Ok(size) = usize::try_from(esize) else { break };
        if size < 16 || pos + size > ext.len() {
            break;
        }
        let content = &ext[pos + 8..pos + size];
        if find(content, b"<LabelTable").is_some() {
            for (label, name) in label_table(content).map_err(|detail| Error::InvalidHeader {
                path: path.to_path_buf(),
                detail: format!("label table in header extension (code {ecode}): {detail}"),
            })? {
                if let Some(old) = names.insert(label, name.clone()) {
                    if old != name {
                        return Err(Error::InvalidHeader {
                            path: path.to_path_buf(),
                            detail: format!(
                                "label {label} is named both {} and {}",
                                quote(&old),
                                quote(&name)
                            ),
                        });
                    }
                }
            }
        }
        pos += size;
    }
    Ok(names)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The (key, name) pairs of the `<Label>` elements of an XML label table; key 0 (background) is left out.
fn label_table(content: &[u8]) -> Result<Vec<(u32, String)>, String> {
    // The content is padded to a multiple of 16 with NULs.
    let end = content.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let text = std::str::from_utf8(&content[..end]).map_err(|e| format!("not UTF-8 ({e})"))?;
    let mut reader = Reader::from_str(text);
    let mut out = Vec::new();
    // The key of the open <Label> element and its text so far.
    let mut open: Option<(u32, String)> = None;
    loop {
        let event = reader.read_event().map_err(|e| one_line(&format!("invalid XML: {e}")))?;
        match event {
            Event::Start(e) if e.local_name().as_ref() == "Label" => {
                let key = e
                    .try_get_attribute("Key")
                    .map_err(|e| one_line(&format!("invalid XML: {e}")))?
                    .ok_or("a <Label> without Key")?;
                let value = key
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|e| one_line(&format!("invalid XML: {e}")))?;
                let key: u32 = value.trim().parse().map_err(|_| {
                    format!("Key {} is not a label (an integer ≥ 0)", quote(value.as_bytes()))
                })?;
                open = Some((key, String::new()));
            }
            Event::Text(t) => {
                if let Some((_, s)) = &mut open {
                    s.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some((_, s)) = &mut open {
                    s.push_str(&t.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, s)) = &mut open {
                    let c = r.resolve_char_ref().map_err(|e| one_line(&format!("invalid XML: {e}")))?;
                    match c {
                        Some(c) => s.push(c),
                        None => s.push_str(
                            quick_xml::escape::resolve_predefined_entity(&r)
                                .ok_or_else(|| format!("unknown entity &{};", quote(r.as_bytes())))?,
                        ),
                    }
                }
            }
            Event::End(e) if e.local_name().as_ref() == "Label" => {
                if let Some((key, name)) = open.take() {
                    let name = name.trim().to_string();
                    if key != 0 && !name.is_empty() {
                        out.push((key, name));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(code: i32, content: &str) -> Vec<u8> {
        let mut c = content.as_bytes().to_vec();
        while (c.len() + 8) % 16 != 0 {
            c.push(0);
        }
        let mut out = ((c.len() + 8) as i32).to_le_bytes().to_vec();
        out.extend(code.to_le_bytes());
        out.extend(c);
        out
    }

    #[test]
    fn totalsegmentator_style_table() {
        let xml = "<?xml version=\"1.0\"?><CaretExtension><VolumeInformation><LabelTable>\n\
                   <Label Key=\"1\" Red=\"0\"><![CDATA[spleen]]></Label>\n\
                   <Label Key=\"5\">liver &amp; co&#x21;</Label><Label Key=\"0\">bg</Label>\
                   </LabelTable></VolumeInformation></CaretExtension>";
        let mut ext = vec![1, 0, 0, 0];
        ext.extend(frame(6, "not a table"));
        ext.extend(frame(0, xml));
        let names = label_names(Path::new("f.nii"), &ext, false).unwrap();
        assert_eq!(names.into_iter().collect::<Vec<_>>(), [(1, "spleen".into()), (5, "liver & co!".into())]);
    }

    #[test]
    fn no_extender_no_names_and_bad_tables_are_errors() {
        assert!(label_names(Path::new("f"), &[0, 0, 0, 0], false).unwrap().is_empty());
        let mut ext = vec![1, 0, 0, 0];
        ext.extend(frame(0, "<LabelTable><Label Key=\"x\">a</Label></LabelTable>"));
        let e = label_names(Path::new("f.nii"), &ext, false).unwrap_err().to_string();
        assert!(
            e.starts_with("f.nii: invalid header: label table in header extension (code 0): Key \"x\""),
            "{e}"
        );
        // A frame running past the area ends the walk without error.
        let mut cut = vec![1, 0, 0, 0];
        cut.extend(frame(0, "<LabelTable><Label Key=\"1\">a</Label></LabelTable>"));
        cut.truncate(cut.len() - 16);
        assert!(label_names(Path::new("f"), &cut, false).unwrap().is_empty());
    }
}
