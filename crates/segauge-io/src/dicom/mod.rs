//! DICOM input: what a file is ([`dicom_kind`]), image-series geometry ([`read_series`]) and DICOM-SEG masks
//! ([`read_seg`]), through dicom-rs.
//!
//! # Layers
//! - this module: opening a file (with or without the 128-byte preamble and File Meta group), the SOP class, the
//!   transfer-syntax check, attribute access and the tolerances shared by the readers;
//! - `geometry`: [`SliceGeometry`], a stack of slices in patient coordinates (LPS), its conversion to segauge's
//!   [`Grid`](crate::Grid) (RAS) and the matching of positions to slices;
//! - `series`: [`read_series`], the geometry of a folder of single-frame images;
//! - `seg`: [`read_seg`], one mask per segment on the referenced series or on the grid spanned by the frames;
//! - `labels`: [`read_dicom_labels`], a SEG or RTSTRUCT as a label volume (series lookup, segment/ROI mapping);
//! - `rtstruct`: [`read_rtstruct`], ROIs rasterised on a reference geometry (`contour`: the rasterisation rule);
//! - `bits` (1-bit frame walker), `rle` (RLE Lossless decoder) and `lengths` (a walk over the headers, as dicom-rs
//!   reads them, that checks every value length against the bytes left before dicom-rs allocates buffers for
//!   them), private.
//!
//! # Coordinates
//! DICOM positions are patient coordinates LPS in mm (`ImagePositionPatient` is the centre of the first pixel of a
//! slice). A slice stack has row cosine `r` and column cosine `c` (`ImageOrientationPatient`), normal
//! `n = r × c`, and slices sorted by increasing `dot(position, n)`. Voxel `(i, j, k)` = (column, row, slice) is
//! stored at `i + columns · (j + rows · k)`, the same order as segauge's [`LabelVolume`](crate::LabelVolume).
//! Only [`SliceGeometry::grid`] converts to RAS (x and y negated), segauge's world frame.
//!
//! # Tolerances
//! Positions are decimal strings written by many tools (`-128.100006`, `8.105470e-01`), orientations carry noise such
//! as `-1.2e-16`. One rule decides whether two positions agree along an axis of spacing `s`:
//! `|difference| <= max(0.01 mm, 1e-3 · s)` (see [`position_tolerance`]). It is used for matching a position to a
//! slice (along the normal, `s` = the smallest slice step) and in the plane (`s` = the pixel spacing), and for the
//! regular-spacing test of [`SliceGeometry::grid`]. Orientation cosines agree when every component differs by at
//! most 1e-4 (as [`GridTolerance`](crate::GridTolerance)), pixel spacings when they differ by at most 1e-4
//! relative.
//!
//! # Transfer syntaxes
//! Implicit VR Little Endian, Explicit VR Little Endian, Deflated Explicit VR Little Endian and, for pixel data,
//! RLE Lossless (decoded in segauge, see `rle`). A deflated data set is inflated here rather than by dicom-rs: at
//! most 1032 times its compressed size (deflate's largest ratio), and its lengths checked against the inflated
//! size before dicom-rs reads it. Explicit VR Big Endian (retired) is [`Error::Unsupported`] by name before any of
//! its data set is read. Any other transfer syntax of a SEG is [`Error::Unsupported`] naming its UID and name;
//! image series are read up to their pixel data only, so any transfer syntax dicom-rs can parse (JPEG 2000
//! included) serves as a reference series.
//!
//! # Hostile files
//! Every length is checked before dicom-rs allocates for it (`lengths`); sequences nested more than 64 deep are
//! refused; every string from the file is quoted through `quote` (at most 200 bytes, escaped) and every
//! message kept to one bounded line (see `docs/HOSTILE_INPUTS.md`).
//!
//! # Files without File Meta
//! Some tools write a bare data set (no preamble, no `DICM`, no group 0002), e.g. pydicom's `rtstruct.dcm`. When
//! neither `DICM` at byte 128 nor at byte 0 is found, a file whose first element is of group 0008 is read as a bare
//! data set: Explicit VR Little Endian when its bytes 4–5 are a value representation, else Implicit VR Little
//! Endian. Anything else is [`Error::NotFormat`].

mod bits;
mod contour;
mod geometry;
mod labels;
mod lengths;
mod rle;
mod rtstruct;
mod seg;
mod series;

use std::borrow::Cow;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use dicom_core::header::HasLength;
use dicom_core::{Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{FileMetaTable, InMemDicomObject, OpenFileOptions, ReadError};
use dicom_transfer_syntax_registry::{TransferSyntaxIndex, TransferSyntaxRegistry};

use crate::Error;
pub(crate) use crate::error::{list, one_line, quote};
use crate::head::{inflate_bound, read_up_to};

pub use geometry::SliceGeometry;
pub use labels::{DicomOptions, find_series, needs_reference, read_dicom_file, read_dicom_labels};
pub use rtstruct::{Roi, RtStruct, read_rtstruct, read_rtstruct_on_grid};
pub use seg::{FractionalType, SegKind, SegOptions, Segment, Segmentation, read_seg};
pub use series::{Series, read_series};

/// SOP Class UID of Segmentation Storage (DICOM-SEG: BINARY or FRACTIONAL).
pub const SEG_SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.1.66.4";
/// SOP Class UID of Label Map Segmentation Storage (DICOM-SEG, LABELMAP).
pub const LABELMAP_SEG_SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.1.66.7";
/// SOP Class UID of RT Structure Set Storage (RTSTRUCT).
pub const RTSTRUCT_SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.1.481.3";

const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";
const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";
const DEFLATED_EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1.99";
const EXPLICIT_VR_BE: &str = "1.2.840.10008.1.2.2";
const JPIP_REFERENCED_DEFLATE: &str = "1.2.840.10008.1.2.4.95";
const JPIP_HTJ2K_REFERENCED_DEFLATE: &str = "1.2.840.10008.1.2.4.205";
const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";

/// What a DICOM file holds, from its SOP Class UID.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DicomKind {
    /// Segmentation Storage ([`SEG_SOP_CLASS`]): a BINARY or FRACTIONAL DICOM-SEG.
    Seg,
    /// Label Map Segmentation Storage ([`LABELMAP_SEG_SOP_CLASS`]): a LABELMAP DICOM-SEG.
    LabelmapSeg,
    /// RT Structure Set Storage ([`RTSTRUCT_SOP_CLASS`]): contours.
    RtStruct,
    /// Any other SOP class whose data set has an image (Rows and Columns), e.g. a CT slice.
    Image,
    /// Any other SOP class without an image (a structured report, a DICOMDIR, ...).
    Other {
        /// Its SOP Class UID.
        sop_class_uid: String,
    },
}

/// Tells what a DICOM file holds, reading its header only (up to the pixel data).
///
/// # Errors
/// - [`Error::NotFormat`] when the file is not DICOM (no `DICM` marker and no bare data set, see the module docs);
/// - [`Error::Truncated`] when the file ends inside its header;
/// - [`Error::Unsupported`] when the transfer syntax is unknown or its data set cannot be parsed (e.g. deflate
///   variants other than Deflated Explicit VR Little Endian), or when a SEG's pixel data uses a transfer syntax
///   segauge does not decode (JPEG, JPEG-LS, JPEG 2000, ...): the message names the UID and its name;
/// - [`Error::InvalidHeader`] when the data set is malformed or has no SOP Class UID.
pub fn dicom_kind(path: &Path) -> Result<DicomKind, Error> {
    let ds = open(path, Extent::Header)?;
    let kind = ds.kind(path)?;
    if matches!(kind, DicomKind::Seg | DicomKind::LabelmapSeg) {
        check_pixel_transfer_syntax(path, &ds.transfer_syntax)?;
    }
    Ok(kind)
}

/// The largest difference (mm) for two positions to agree along an axis of spacing `spacing` (mm):
/// `max(0.01 mm, 1e-3 · spacing)`.
///
/// 0.01 mm absorbs decimal strings rounded to two decimals and float32 round trips; the relative part keeps the
/// test meaningful for coarse slices. A non-finite spacing gives 0.01 mm.
///
/// ```
/// assert_eq!(segauge_io::dicom::position_tolerance(2.5), 0.01);
/// assert_eq!(segauge_io::dicom::position_tolerance(20.0), 0.02);
/// ```
pub fn position_tolerance(spacing: f64) -> f64 {
    const ABS_MM: f64 = 0.01;
    const REL: f64 = 1e-3;
    if spacing.is_finite() { ABS_MM.max(REL * spacing.abs()) } else { ABS_MM }
}

/// Largest difference of an orientation-cosine component for two orientations to be the same.
pub(crate) const ORIENTATION_TOL: f64 = 1e-4;
/// Largest relative difference for two pixel spacings to be the same.
pub(crate) const SPACING_REL_TOL: f64 = 1e-4;

/// How much of a file to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extent {
    /// Up to (excluding) PixelData.
    Header,
    /// The whole data set.
    All,
}

/// A parsed data set with its transfer syntax.
pub(crate) struct Dataset {
    pub(crate) obj: InMemDicomObject,
    pub(crate) transfer_syntax: String,
    /// The SOP class from the File Meta group, used when the data set has none.
    meta_sop_class: Option<String>,
}

impl Dataset {
    pub(crate) fn sop_class(&self, path: &Path) -> Result<String, Error> {
        match opt_str(path, &self.obj, tags::SOP_CLASS_UID)? {
            Some(uid) if !uid.is_empty() => Ok(uid),
            _ => self.meta_sop_class.clone().filter(|s| !s.is_empty()).ok_or_else(|| {
                invalid(
                    path,
                    "no SOP Class UID (0008,0016) in the data set nor in the File Meta group".into(),
                )
            }),
        }
    }

    pub(crate) fn kind(&self, path: &Path) -> Result<DicomKind, Error> {
        let sop = self.sop_class(path)?;
        Ok(match sop.as_str() {
            SEG_SOP_CLASS => DicomKind::Seg,
            LABELMAP_SEG_SOP_CLASS => DicomKind::LabelmapSeg,
            RTSTRUCT_SOP_CLASS => DicomKind::RtStruct,
            _ if self.obj.get(tags::ROWS).is_some() && self.obj.get(tags::COLUMNS).is_some() => {
                DicomKind::Image
            }
            _ => DicomKind::Other { sop_class_uid: sop },
        })
    }
}

/// Opens a DICOM file: with preamble and File Meta, File Meta without preamble, or a bare data set.
///
/// Value lengths are checked against the file size first (see `lengths`), so that a corrupt length is reported
/// as [`Error::Truncated`] instead of making dicom-rs allocate gigabytes. Explicit VR Big Endian is refused before
/// anything else is read; a deflated data set is inflated here, at most [`inflate_bound`] bytes, and its lengths
/// are checked against the inflated size before dicom-rs reads it.
pub(crate) fn open(path: &Path, extent: Extent) -> Result<Dataset, Error> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut head = [0u8; 132];
    let n = read_up_to(&mut reader, &mut head).map_err(io)?;
    let head = &head[..n];
    let header_only = extent == Extent::Header;
    let (preamble, dicm_at) = if n >= 132 && &head[128..132] == b"DICM" {
        (ReadPreamble::Always, 128)
    } else if n >= 4 && &head[..4] == b"DICM" {
        (ReadPreamble::Never, 0)
    } else {
        return open_bare(path, reader, file_len, head, header_only);
    };
    reader.seek(SeekFrom::Start(dicm_at + 4)).map_err(io)?;
    // `None`: dicom-rs cannot read this File Meta group either, and says why before reading any data set.
    if let Some(meta) = lengths::file_meta(&mut reader, file_len).map_err(|p| problem(path, p))? {
        let uid = meta.transfer_syntax.as_deref().unwrap_or("");
        match uid {
            EXPLICIT_VR_BE => {
                return Err(unsupported(
                    path,
                    format!(
                        "transfer syntax {uid} (Explicit VR Big Endian, retired from DICOM in 2004); segauge reads \
                         little-endian DICOM: convert the file (e.g. dcmconv +te)"
                    ),
                ));
            }
            DEFLATED_EXPLICIT_VR_LE | JPIP_REFERENCED_DEFLATE | JPIP_HTJ2K_REFERENCED_DEFLATE => {
                return open_deflated(path, reader, file_len, dicm_at, meta.data_set, header_only);
            }
            // dicom-rs refuses a transfer syntax it does not know before reading the data set.
            _ if TransferSyntaxRegistry.get(uid).is_none() => {}
            _ => {
                reader.seek(SeekFrom::Start(meta.data_set)).map_err(io)?;
                lengths::data_set(&mut reader, file_len, uid != IMPLICIT_VR_LE, header_only)
                    .map_err(|p| problem(path, p))?;
            }
        }
    }
    reader.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut options = OpenFileOptions::new().read_preamble(preamble);
    if header_only {
        options = options.read_until(tags::PIXEL_DATA);
    }
    let obj = options.from_reader(reader).map_err(|e| read_error(path, &e))?;
    let transfer_syntax = obj.meta().transfer_syntax().to_string();
    let meta_sop_class = Some(obj.meta().media_storage_sop_class_uid().to_string());
    Ok(Dataset { obj: obj.into_inner(), transfer_syntax, meta_sop_class })
}

/// A data set without preamble or File Meta group (see the module docs).
fn open_bare(
    path: &Path,
    mut reader: BufReader<std::fs::File>,
    file_len: u64,
    head: &[u8],
    header_only: bool,
) -> Result<Dataset, Error> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let uid = bare_data_set_syntax(head).ok_or_else(|| Error::NotFormat {
        path: path.to_path_buf(),
        format: "DICOM",
        detail: if head.is_empty() {
            "the file is empty".into()
        } else {
            "no DICM marker at byte 128 or 0, and it does not start with a data element of group 0008".into()
        },
    })?;
    reader.seek(SeekFrom::Start(0)).map_err(io)?;
    let stop = lengths::data_set(&mut reader, file_len, uid == EXPLICIT_VR_LE, header_only)
        .map_err(|p| problem(path, p))?;
    reader.seek(SeekFrom::Start(0)).map_err(io)?;
    let obj = read_data_set(path, reader.take(stop.unwrap_or(file_len)), uid)?;
    Ok(Dataset { obj, transfer_syntax: uid.to_string(), meta_sop_class: None })
}

/// A file whose data set is deflated: the File Meta group through dicom-rs, the data set inflated here (at most
/// [`inflate_bound`] of its compressed size, which no valid stream exceeds), its lengths checked against the
/// inflated size, then parsed by dicom-rs as the Explicit VR Little Endian it is once inflated (up to PixelData
/// for the header only).
fn open_deflated(
    path: &Path,
    mut reader: BufReader<std::fs::File>,
    file_len: u64,
    dicm_at: u64,
    data_set: u64,
    header_only: bool,
) -> Result<Dataset, Error> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    reader.seek(SeekFrom::Start(dicm_at)).map_err(io)?;
    let meta = FileMetaTable::from_reader(&mut reader).map_err(|e| {
        let (detail, eof) = error_chain(&e);
        let detail = one_line(&format!("File Meta group: {detail}"));
        if eof { Error::Truncated { path: path.to_path_buf(), detail } } else { invalid(path, detail) }
    })?;
    reader.seek(SeekFrom::Start(data_set)).map_err(io)?;
    let compressed = file_len.saturating_sub(data_set);
    let bound = inflate_bound(compressed);
    let inflated = inflate(reader, bound)
        .map_err(|e| Error::Truncated {
            path: path.to_path_buf(),
            detail: one_line(&format!("deflated data set: {e}")),
        })?
        .ok_or_else(|| {
            invalid(
                path,
                format!(
                    "the deflated data set inflates past {bound} bytes, more than deflate allows for its \
                     {compressed} compressed bytes (1032 to 1): the stream is corrupt"
                ),
            )
        })?;
    let stop = lengths::data_set(&mut Cursor::new(&inflated), inflated.len() as u64, true, header_only)
        .map_err(|p| problem(path, p))?;
    let end = stop.map_or(inflated.len(), |s| s as usize);
    let obj = read_data_set(path, &inflated[..end], EXPLICIT_VR_LE)?;
    Ok(Dataset {
        obj,
        transfer_syntax: meta.transfer_syntax().to_string(),
        meta_sop_class: Some(meta.media_storage_sop_class_uid().to_string()),
    })
}

/// A raw deflate stream inflated, or `None` when it inflates past `bound` bytes (reading stops there).
fn inflate(compressed: impl Read, bound: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut inflated = Vec::new();
    flate2::read::DeflateDecoder::new(compressed).take(bound.saturating_add(1)).read_to_end(&mut inflated)?;
    Ok((inflated.len() as u64 <= bound).then_some(inflated))
}

/// A data set in Implicit or Explicit VR Little Endian (`uid`), read to the end of `from`.
fn read_data_set(path: &Path, from: impl Read, uid: &str) -> Result<InMemDicomObject, Error> {
    let ts = TransferSyntaxRegistry
        .get(uid)
        .ok_or_else(|| invalid(path, format!("transfer syntax {uid} missing from the registry")))?;
    InMemDicomObject::read_dataset_with_ts(from, ts).map_err(|e| read_error(path, &e))
}

/// The error of a length walk.
fn problem(path: &Path, p: lengths::Problem) -> Error {
    match p {
        lengths::Problem::Length(detail) => Error::Truncated { path: path.to_path_buf(), detail },
        lengths::Problem::Depth(detail) => unsupported(path, detail),
    }
}

/// The transfer syntax of a bare data set (no File Meta), or `None` when the bytes do not start like one.
fn bare_data_set_syntax(head: &[u8]) -> Option<&'static str> {
    if head.len() < 8 || u16::from_le_bytes([head[0], head[1]]) != 0x0008 {
        return None;
    }
    let is_vr = VR::from_binary([head[4], head[5]]).is_some();
    Some(if is_vr { EXPLICIT_VR_LE } else { IMPLICIT_VR_LE })
}

/// One line from a dicom-rs read error: its message and those of its causes.
fn read_error(path: &Path, err: &ReadError) -> Error {
    match err {
        ReadError::ReadUnrecognizedTransferSyntax { uid, .. } => {
            return unsupported(
                path,
                format!("transfer syntax {} (unknown to segauge's DICOM reader)", quote(uid)),
            );
        }
        ReadError::ReadUnsupportedTransferSyntax { uid, name, .. }
        | ReadError::ReadUnsupportedTransferSyntaxWithSuggestion { uid, name, .. } => {
            return unsupported(path, format!("transfer syntax {uid} ({name})"));
        }
        _ => {}
    }
    let (detail, eof) = error_chain(err);
    if eof || matches!(err, ReadError::PrematureEnd { .. }) {
        Error::Truncated { path: path.to_path_buf(), detail: one_line(&detail) }
    } else {
        invalid(path, detail)
    }
}

/// An error's message and those of its causes, joined by `: `, and whether an I/O error among them is an
/// unexpected end of file.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> (String, bool) {
    let mut detail = err.to_string();
    let mut eof = false;
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            eof |= io.kind() == std::io::ErrorKind::UnexpectedEof;
        }
        if !std::ptr::addr_eq(e, err) {
            detail.push_str(": ");
            detail.push_str(&e.to_string());
        }
        source = e.source();
    }
    (detail, eof)
}

/// The name of a transfer syntax, from the dicom-rs registry.
pub(crate) fn transfer_syntax_name(uid: &str) -> &'static str {
    TransferSyntaxRegistry.get(uid).map_or("unknown transfer syntax", |ts| ts.name())
}

/// Checks that segauge decodes the pixel data of this transfer syntax.
pub(crate) fn check_pixel_transfer_syntax(path: &Path, uid: &str) -> Result<(), Error> {
    match uid {
        IMPLICIT_VR_LE | EXPLICIT_VR_LE | DEFLATED_EXPLICIT_VR_LE | RLE_LOSSLESS => Ok(()),
        _ => Err(unsupported(
            path,
            format!(
                "transfer syntax {uid} ({}); segauge reads SEG pixel data in Implicit or Explicit VR Little \
                 Endian, Deflated Explicit VR Little Endian or RLE Lossless",
                transfer_syntax_name(uid)
            ),
        )),
    }
}

pub(crate) fn is_rle(uid: &str) -> bool {
    uid == RLE_LOSSLESS
}

// ---------------------------------------------------------------------------------------------------------------
// Attribute access: every value from the file is checked; errors name the attribute and its tag.
// ---------------------------------------------------------------------------------------------------------------

/// [`Error::InvalidHeader`]; the detail is kept to one line (file content in it must already be [`quote`]d).
pub(crate) fn invalid(path: &Path, detail: String) -> Error {
    Error::InvalidHeader { path: path.to_path_buf(), detail: one_line(&detail) }
}

/// [`Error::Unsupported`]; the detail is kept to one line (file content in it must already be [`quote`]d).
pub(crate) fn unsupported(path: &Path, detail: String) -> Error {
    Error::Unsupported { path: path.to_path_buf(), detail: one_line(&detail) }
}

/// `Name (gggg,eeee)` for messages.
pub(crate) fn tag_name(tag: Tag) -> String {
    use dicom_core::dictionary::DataDictionary;
    let name = dicom_dictionary_std::StandardDataDictionary
        .by_tag(tag)
        .map_or(Cow::Borrowed("attribute"), |e| Cow::Owned(e.alias.to_string()));
    format!("{name} ({:04X},{:04X})", tag.group(), tag.element())
}

pub(crate) fn opt_str(path: &Path, obj: &InMemDicomObject, tag: Tag) -> Result<Option<String>, Error> {
    match obj.get(tag) {
        None => Ok(None),
        Some(e) => e
            .to_str()
            .map(|s| Some(s.trim_matches(|c: char| c.is_whitespace() || c == '\0').to_string()))
            .map_err(|err| invalid(path, format!("{} is not text: {err}", tag_name(tag)))),
    }
}

pub(crate) fn req_str(path: &Path, obj: &InMemDicomObject, tag: Tag, what: &str) -> Result<String, Error> {
    opt_str(path, obj, tag)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid(path, format!("no {}{what}", tag_name(tag))))
}

pub(crate) fn opt_f64s(path: &Path, obj: &InMemDicomObject, tag: Tag) -> Result<Option<Vec<f64>>, Error> {
    let Some(e) = obj.get(tag) else { return Ok(None) };
    if e.value().primitive().is_some_and(|p| p.is_empty()) {
        return Ok(None);
    }
    let values = e
        .to_multi_float64()
        .map_err(|err| invalid(path, format!("{} is not a list of numbers: {err}", tag_name(tag))))?;
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(invalid(path, format!("{} holds {v}, which is not a finite number", tag_name(tag))));
    }
    Ok(Some(values))
}

pub(crate) fn opt_f64_n<const N: usize>(
    path: &Path,
    obj: &InMemDicomObject,
    tag: Tag,
) -> Result<Option<[f64; N]>, Error> {
    match opt_f64s(path, obj, tag)? {
        None => Ok(None),
        Some(v) => <[f64; N]>::try_from(v.as_slice()).map(Some).map_err(|_| {
            invalid(
                path,
                format!("{} holds {} values ({}), expected {N}", tag_name(tag), v.len(), list(&v, ", ")),
            )
        }),
    }
}

pub(crate) fn opt_u32(path: &Path, obj: &InMemDicomObject, tag: Tag) -> Result<Option<u32>, Error> {
    let Some(e) = obj.get(tag) else { return Ok(None) };
    if e.value().primitive().is_some_and(|p| p.is_empty()) {
        return Ok(None);
    }
    e.to_int::<u32>()
        .map(Some)
        .map_err(|err| invalid(path, format!("{} is not a non-negative integer: {err}", tag_name(tag))))
}

pub(crate) fn req_u32(path: &Path, obj: &InMemDicomObject, tag: Tag) -> Result<u32, Error> {
    opt_u32(path, obj, tag)?.ok_or_else(|| invalid(path, format!("no {}", tag_name(tag))))
}

/// Rows or Columns: required, in `1..=65535` (an `US` value).
pub(crate) fn req_dim(path: &Path, obj: &InMemDicomObject, tag: Tag) -> Result<usize, Error> {
    match req_u32(path, obj, tag)? {
        v @ 1..=65535 => Ok(v as usize),
        v => Err(invalid(path, format!("{} is {v}, not in 1..=65535", tag_name(tag)))),
    }
}

/// The items of a sequence attribute (empty when absent).
pub(crate) fn items(obj: &InMemDicomObject, tag: Tag) -> &[InMemDicomObject] {
    obj.get(tag).and_then(|e| e.items()).unwrap_or(&[])
}

/// A positive finite spacing pair, as DICOM PixelSpacing `[between rows, between columns]`.
pub(crate) fn check_pixel_spacing(path: &Path, spacing: [f64; 2], where_: &str) -> Result<[f64; 2], Error> {
    if spacing.iter().all(|s| s.is_finite() && *s > 0.0) {
        Ok(spacing)
    } else {
        Err(invalid(
            path,
            format!("{}{where_} is {spacing:?}, not two positive spacings", tag_name(tags::PIXEL_SPACING)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn inflating_stops_at_the_bound() {
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&[7u8; 10_000]).expect("deflate");
        let compressed = enc.finish().expect("deflate");
        assert_eq!(inflate(&compressed[..], 10_000).expect("inflate"), Some(vec![7u8; 10_000]));
        assert_eq!(inflate(&compressed[..], 9_999).expect("inflate"), None);
        // The bound for a stream of this size is far above what it holds: deflate cannot exceed 1032:1.
        assert!(inflate_bound(compressed.len() as u64) >= 1032 * compressed.len() as u64);
        assert!(inflate(&b"\xff\xff\xff"[..], 1 << 20).is_err());
    }
}
