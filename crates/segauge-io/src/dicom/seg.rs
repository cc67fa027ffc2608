//! DICOM-SEG reader: one mask per segment (BINARY, FRACTIONAL or LABELMAP) on a slice grid.
//!
//! # What it handles (the pitfalls of `tests/data/dicom/CONFORMANCE.md`)
//! 1. Frames are placed by their own `ImagePositionPatient` (PlanePositionSequence) projected on the normal and
//!    matched to a slice within [`position_tolerance`](crate::dicom::position_tolerance), never by frame index,
//!    InstanceNumber or z alone; a frame without a position falls back to the image it was derived from
//!    (DerivationImageSequence → SourceImageSequence → ReferencedSOPInstanceUID) when a series is given.
//! 2. Functional groups are looked up per frame first, then in the shared group.
//! 3. BITS_ALLOCATED = 1: one continuous LSB-first bit stream, frame `k` at bit `k · rows · columns`.
//! 4. `ReferencedSegmentNumber` per frame selects the segment; segments are kept apart (overlaps are legal);
//!    LABELMAP values are segment numbers, 0 and `PixelPaddingValue` are background, segment 0 is background.
//! 5. Slices without a frame are empty; the grid is the referenced series (one slice per image, irregular
//!    spacing allowed) or, without it, the grid spanned by the frames (see [`read_seg`]).
//! 6. FRACTIONAL values are `0..=MaximumFractionalValue`; the mask is `value / max >= threshold` (default 0.5,
//!    [`SegOptions`]), the raw values are kept in [`Segment::values`].
//! 7. Implicit, Explicit and Deflated Explicit VR Little Endian, RLE Lossless; other transfer syntaxes are
//!    [`Error::Unsupported`].
//! 8. `SpatialLocationsPreserved` is not consulted: positions decide.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use dicom_core::Tag;
use dicom_core::value::{PrimitiveValue, Value};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

use super::geometry::{dot, orientation, same_orientation, sub};
use super::series::same_spacing;
use super::{
    DicomKind, Extent, SliceGeometry, bits, check_pixel_spacing, check_pixel_transfer_syntax, invalid,
    is_rle, items, open, opt_f64_n, opt_f64s, opt_str, opt_u32, position_tolerance, read_series, req_str,
    req_u32, rle, tag_name, transfer_syntax_name, unsupported,
};
use crate::Error;
use crate::volume::{LabelVolume, Labels};

/// How to read a DICOM-SEG.
#[derive(Debug, Clone, PartialEq)]
pub struct SegOptions {
    /// The folder of the referenced image series: the masks are put on its slices (and checked against it).
    /// Without it the grid is spanned by the SEG's own frames.
    pub series: Option<PathBuf>,
    /// FRACTIONAL segments: the probability (or occupancy) `value / MaximumFractionalValue` at or above which
    /// (see [`SegOptions::fractional_inclusive`]) a voxel is in the mask. Default 0.5.
    pub fractional_threshold: f64,
    /// `true` (default): `value / max >= threshold`; `false`: `value / max > threshold`.
    pub fractional_inclusive: bool,
}

impl Default for SegOptions {
    fn default() -> Self {
        SegOptions { series: None, fractional_threshold: 0.5, fractional_inclusive: true }
    }
}

/// The segmentation type of a SEG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SegKind {
    /// BINARY: 1 bit per pixel, one frame per segment and slice.
    Binary,
    /// FRACTIONAL: 8-bit values `0..=max`, one frame per segment and slice.
    Fractional {
        /// `MaximumFractionalValue` (value `max` means probability or occupancy 1).
        max: u8,
        /// `SegmentationFractionalType`.
        kind: FractionalType,
    },
    /// LABELMAP (Label Map Segmentation Storage): each pixel holds a segment number, one frame per slice.
    Labelmap,
}

/// What the values of a FRACTIONAL SEG mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FractionalType {
    /// The probability that the voxel belongs to the segment.
    Probability,
    /// The fraction of the voxel occupied by the segment.
    Occupancy,
}

/// One segment: its number, label and mask on the segmentation's grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// `SegmentNumber` (1 or more).
    pub number: u16,
    /// `SegmentLabel` (empty when absent).
    pub label: String,
    /// Voxel `(i, j, k)` = (column, row, slice) at `i + columns · (j + rows · k)`; slices without a frame are
    /// `false`. FRACTIONAL: thresholded as [`SegOptions`] says.
    pub mask: Vec<bool>,
    /// FRACTIONAL only: the raw stored values `0..=max` in the order of `mask` (0 where there is no frame).
    pub values: Option<Vec<u8>>,
}

impl Segment {
    /// Number of voxels in the mask.
    pub fn count(&self) -> usize {
        self.mask.iter().filter(|&&v| v).count()
    }
}

/// The segments of a DICOM-SEG on one slice grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    /// The slice grid of the masks; [`SliceGeometry::source`] is the SEG file.
    pub geometry: SliceGeometry,
    /// The segmentation type.
    pub kind: SegKind,
    /// The segments by increasing number (a LABELMAP's background segment 0 is left out).
    pub segments: Vec<Segment>,
}

impl Segmentation {
    /// The segment with this number.
    pub fn segment(&self, number: u16) -> Option<&Segment> {
        self.segments.iter().find(|s| s.number == number)
    }

    /// The segments as one label volume (label = segment number) on [`SliceGeometry::grid`].
    ///
    /// # Errors
    /// [`Error::OverlappingSegments`] naming the first two segments that share voxels and how many they share
    /// (read them apart from [`Segmentation::segments`]); [`Error::InvalidFileGrid`] when the slices are not
    /// evenly spaced.
    pub fn to_label_volume(&self) -> Result<LabelVolume, Error> {
        let grid = self.geometry.grid()?;
        let mut labels = vec![0u32; self.geometry.voxel_count()];
        for (si, seg) in self.segments.iter().enumerate() {
            for (v, &on) in seg.mask.iter().enumerate() {
                if !on {
                    continue;
                }
                if labels[v] != 0 {
                    let other = self.segments[..si].iter().find(|s| u32::from(s.number) == labels[v]);
                    let shared =
                        other.map_or(0, |o| o.mask.iter().zip(&seg.mask).filter(|(a, b)| **a && **b).count());
                    return Err(Error::OverlappingSegments {
                        path: self.geometry.source.clone(),
                        a: other.map_or(0, |o| u32::from(o.number)),
                        b: u32::from(seg.number),
                        voxels: shared,
                    });
                }
                labels[v] = u32::from(seg.number);
            }
        }
        LabelVolume::new(grid, Labels::from_u32(labels)).map_err(|e| e.in_file(&self.geometry.source))
    }
}

/// Most slices a grid spanned by frames may have after filling in missing slices; beyond it the frame positions
/// are kept as they are (a guard against absurd positions allocating huge masks).
const MAX_FILLED_SLICES: usize = 4096;

/// Most slices a filled stack may have per distinct frame position: every mask holds every slice, so without this
/// a few frames at far-apart positions would make a kilobyte file allocate gigabytes. A sparse SEG (two lesions
/// 400 slices apart, ten frames) stays well within it; a sparser one read without its series keeps its frame
/// positions (and is still placed on the grid of the other volume of a pair, see `labels`).
const MAX_FILL_RATIO: usize = 64;

/// Reads a DICOM-SEG (Segmentation Storage or Label Map Segmentation Storage).
///
/// # Grid
/// - With [`SegOptions::series`]: the referenced series' slices ([`read_series`]), one per image, whatever their
///   spacing. The SEG must agree with it: rows and columns, orientation, pixel spacing and frame of reference
///   (when both name one); every frame must lie on a slice ([`SliceGeometry::slice_of`]).
/// - Without: the slices are the distinct frame positions, sorted along the normal. When they are not evenly
///   spaced, the missing slices are filled in on the regular lattice if every gap is a whole multiple (within
///   [`position_tolerance`](crate::dicom::position_tolerance)) of the step: `SpacingBetweenSlices` of the pixel measures
///   when every gap is a multiple of it, else the smallest gap, and the filled stack has at most 4096 slices and
///   at most 64 per distinct frame position.
///   Otherwise the frame positions are kept as they are (an irregular stack: masks are read,
///   [`SliceGeometry::grid`] refuses it).
///
/// Slices without a frame are empty. Two frames of one segment on one slice are an error.
///
/// # Errors
/// One [`Error`] naming the file: not DICOM or not a SEG ([`Error::NotFormat`]), unsupported transfer syntax or
/// encoding ([`Error::Unsupported`]), pixel data shorter than `NumberOfFrames × Rows × Columns` at
/// `BitsAllocated` ([`Error::Truncated`]), a missing or invalid attribute ([`Error::InvalidHeader`]), a frame on no
/// slice of the series, a SEG that disagrees with its series, or frames without position and no series
/// ([`Error::InvalidFileGrid`]); the series' own errors.
pub fn read_seg(path: &Path, options: &SegOptions) -> Result<Segmentation, Error> {
    let ds = open(path, Extent::All)?;
    let sop = ds.kind(path)?;
    if !matches!(sop, DicomKind::Seg | DicomKind::LabelmapSeg) {
        let uid = ds.sop_class(path)?;
        return Err(Error::NotFormat {
            path: path.to_path_buf(),
            format: "DICOM-SEG",
            detail: format!("its SOP class is {} ({})", super::quote(&uid), sop_class_name(&sop)),
        });
    }
    check_pixel_transfer_syntax(path, &ds.transfer_syntax)?;
    let obj = &ds.obj;
    let header = Header::read(path, obj, &sop)?;
    let defs = segment_definitions(path, obj, header.kind)?;
    let frames = frame_infos(path, obj, header.frames)?;

    let (geometry, slices) = match &options.series {
        Some(dir) => on_series(path, dir, obj, &header, &frames)?,
        None => from_frames(path, obj, &header, &frames)?,
    };

    let pixels = PixelData::read(path, obj, &ds.transfer_syntax, &header)?;
    let rc = header.rows * header.columns;
    let voxels = rc.checked_mul(geometry.slice_count()).ok_or_else(|| too_large(path))?;
    let fractional = matches!(header.kind, SegKind::Fractional { .. });
    let mut masks = Vec::with_capacity(defs.len());
    let mut values = Vec::new();
    for _ in &defs {
        masks.push(alloc(path, voxels, false)?);
        if fractional {
            values.push(alloc(path, voxels, 0u8)?);
        }
    }

    // Which segment each frame holds (BINARY, FRACTIONAL), and no (segment, slice) pair twice.
    let index_of = |number: u16| defs.iter().position(|d| d.0 == number);
    let mut seen = std::collections::BTreeMap::new();
    let mut frame_segment = Vec::with_capacity(frames.len());
    for (f, info) in frames.iter().enumerate() {
        let seg = if header.kind == SegKind::Labelmap {
            None
        } else {
            let number = match (info.segment, defs.len()) {
                (Some(n), _) => n,
                (None, 1) => defs[0].0,
                (None, _) => {
                    return Err(invalid(
                        path,
                        format!("frame {} has no {}", f + 1, tag_name(tags::REFERENCED_SEGMENT_NUMBER)),
                    ));
                }
            };
            let idx = index_of(number).ok_or_else(|| {
                invalid(
                    path,
                    format!("frame {} refers to segment {number}, which SegmentSequence lacks", f + 1),
                )
            })?;
            Some(idx)
        };
        if let Some(first) = seen.insert((seg, slices[f]), f) {
            return Err(invalid(
                path,
                format!(
                    "frames {} and {} both hold {} on slice {}",
                    first + 1,
                    f + 1,
                    seg.map_or("the label map".to_string(), |i| format!("segment {}", defs[i].0)),
                    slices[f]
                ),
            ));
        }
        frame_segment.push(seg);
    }

    let mut buf = vec![0u16; rc];
    for (f, &k) in slices.iter().enumerate() {
        pixels.frame(path, f, &mut buf)?;
        let base = k * rc;
        match (header.kind, frame_segment[f]) {
            (SegKind::Binary, Some(s)) => {
                for (m, &v) in masks[s][base..base + rc].iter_mut().zip(&buf) {
                    *m = v != 0;
                }
            }
            (SegKind::Fractional { max, .. }, Some(s)) => {
                if let Some(p) = buf.iter().position(|&v| v > u16::from(max)) {
                    return Err(invalid(
                        path,
                        format!(
                            "frame {} pixel (row {}, column {}) holds {}, above MaximumFractionalValue {max}",
                            f + 1,
                            p / header.columns,
                            p % header.columns,
                            buf[p]
                        ),
                    ));
                }
                let t = options.fractional_threshold;
                let max = f64::from(max);
                for ((m, val), &v) in
                    masks[s][base..base + rc].iter_mut().zip(&mut values[s][base..base + rc]).zip(&buf)
                {
                    *val = v as u8;
                    let p = f64::from(v) / max;
                    *m = if options.fractional_inclusive { p >= t } else { p > t };
                }
            }
            _ => {
                for (p, &v) in buf.iter().enumerate() {
                    if v == 0 || Some(v) == header.padding {
                        continue;
                    }
                    let Some(s) = index_of(v) else {
                        return Err(invalid(
                            path,
                            format!(
                                "frame {} pixel (row {}, column {}) holds label {v}, which is no SegmentNumber",
                                f + 1,
                                p / header.columns,
                                p % header.columns
                            ),
                        ));
                    };
                    masks[s][base + p] = true;
                }
            }
        }
    }

    let mut values = values.into_iter();
    let segments = defs
        .into_iter()
        .zip(masks)
        .map(|((number, label), mask)| Segment { number, label, mask, values: values.next() })
        .collect();
    Ok(Segmentation { geometry, kind: header.kind, segments })
}

fn sop_class_name(kind: &DicomKind) -> &'static str {
    match kind {
        DicomKind::RtStruct => "RT Structure Set Storage",
        DicomKind::Image => "an image",
        _ => "neither Segmentation Storage nor Label Map Segmentation Storage",
    }
}

fn too_large(path: &Path) -> Error {
    unsupported(path, "the segmentation has too many voxels to address".into())
}

fn alloc<T: Clone>(path: &Path, n: usize, value: T) -> Result<Vec<T>, Error> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| unsupported(path, format!("masks of {n} voxels do not fit in memory")))?;
    v.resize(n, value);
    Ok(v)
}

/// The image-level attributes of a SEG.
struct Header {
    rows: usize,
    columns: usize,
    frames: usize,
    bits: u32,
    kind: SegKind,
    padding: Option<u16>,
}

impl Header {
    fn read(path: &Path, obj: &InMemDicomObject, sop: &DicomKind) -> Result<Header, Error> {
        let rows = super::req_dim(path, obj, tags::ROWS)?;
        let columns = super::req_dim(path, obj, tags::COLUMNS)?;
        let frames = match opt_u32(path, obj, tags::NUMBER_OF_FRAMES)? {
            Some(0) => return Err(invalid(path, format!("{} is 0", tag_name(tags::NUMBER_OF_FRAMES)))),
            Some(n) => n as usize,
            None => 1,
        };
        if let Some(spp) = opt_u32(path, obj, tags::SAMPLES_PER_PIXEL)?.filter(|&s| s != 1) {
            return Err(unsupported(path, format!("{spp} samples per pixel; a segmentation has 1")));
        }
        let bits = req_u32(path, obj, tags::BITS_ALLOCATED)?;
        let seg_type = req_str(path, obj, tags::SEGMENTATION_TYPE, "")?;
        let bad_bits = |allowed: &str| {
            Err(unsupported(
                path,
                format!("{seg_type} segmentation with BitsAllocated {bits} (segauge reads {allowed})"),
            ))
        };
        let kind = match seg_type.as_str() {
            "BINARY" => {
                if bits != 1 && bits != 8 {
                    return bad_bits("1, or 8 with non-zero = in");
                }
                SegKind::Binary
            }
            "FRACTIONAL" => {
                if bits != 8 {
                    return bad_bits("8");
                }
                let max = req_u32(path, obj, tags::MAXIMUM_FRACTIONAL_VALUE)?;
                let max = u8::try_from(max).ok().filter(|&m| m > 0).ok_or_else(|| {
                    invalid(
                        path,
                        format!("{} is {max}, not in 1..=255", tag_name(tags::MAXIMUM_FRACTIONAL_VALUE)),
                    )
                })?;
                let kind = match req_str(path, obj, tags::SEGMENTATION_FRACTIONAL_TYPE, "")?.as_str() {
                    "PROBABILITY" => FractionalType::Probability,
                    "OCCUPANCY" => FractionalType::Occupancy,
                    other => {
                        return Err(invalid(
                            path,
                            format!(
                                "{} is {}, neither PROBABILITY nor OCCUPANCY",
                                tag_name(tags::SEGMENTATION_FRACTIONAL_TYPE),
                                super::quote(other)
                            ),
                        ));
                    }
                };
                SegKind::Fractional { max, kind }
            }
            "LABELMAP" => {
                if bits != 8 && bits != 16 {
                    return bad_bits("8 or 16");
                }
                SegKind::Labelmap
            }
            other => {
                return Err(invalid(
                    path,
                    format!(
                        "{} is {}, not BINARY, FRACTIONAL or LABELMAP",
                        tag_name(tags::SEGMENTATION_TYPE),
                        super::quote(other)
                    ),
                ));
            }
        };
        if *sop == DicomKind::LabelmapSeg && kind != SegKind::Labelmap {
            return Err(invalid(
                path,
                format!("Label Map Segmentation Storage with SegmentationType {seg_type}, not LABELMAP"),
            ));
        }
        let padding = if kind == SegKind::Labelmap {
            opt_u32(path, obj, tags::PIXEL_PADDING_VALUE)?.map(|v| v.min(u32::from(u16::MAX)) as u16)
        } else {
            None
        };
        Ok(Header { rows, columns, frames, bits, kind, padding })
    }
}

/// `(SegmentNumber, SegmentLabel)` by increasing number; a LABELMAP's segment 0 (background) is left out.
fn segment_definitions(
    path: &Path,
    obj: &InMemDicomObject,
    kind: SegKind,
) -> Result<Vec<(u16, String)>, Error> {
    let mut defs: Vec<(u16, String)> = Vec::new();
    for (i, item) in items(obj, tags::SEGMENT_SEQUENCE).iter().enumerate() {
        let number = req_u32(path, item, tags::SEGMENT_NUMBER).map_err(|_| {
            invalid(path, format!("SegmentSequence item {} has no valid SegmentNumber", i + 1))
        })?;
        let label = opt_str(path, item, tags::SEGMENT_LABEL)?.unwrap_or_default();
        if number == 0 && kind == SegKind::Labelmap {
            continue;
        }
        let number = u16::try_from(number).ok().filter(|&n| n > 0).ok_or_else(|| {
            invalid(
                path,
                format!("SegmentSequence item {} has SegmentNumber {number}, not in 1..=65535", i + 1),
            )
        })?;
        if defs.iter().any(|d| d.0 == number) {
            return Err(invalid(path, format!("SegmentNumber {number} is defined twice")));
        }
        defs.push((number, label));
    }
    if defs.is_empty() {
        return Err(invalid(path, format!("{} defines no segment", tag_name(tags::SEGMENT_SEQUENCE))));
    }
    defs.sort_by_key(|d| d.0);
    Ok(defs)
}

/// What the functional groups say about one frame.
#[derive(Debug, Default)]
struct FrameInfo {
    position: Option<[f64; 3]>,
    cosines: Option<[[f64; 3]; 3]>,
    pixel_spacing: Option<[f64; 2]>,
    spacing_between_slices: Option<f64>,
    slice_thickness: Option<f64>,
    segment: Option<u16>,
    source_uid: Option<String>,
}

fn frame_infos(path: &Path, obj: &InMemDicomObject, frames: usize) -> Result<Vec<FrameInfo>, Error> {
    let shared = items(obj, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE).first();
    let per_frame = items(obj, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE);
    if per_frame.len() != frames && !(per_frame.is_empty() && frames == 1) {
        return Err(invalid(
            path,
            format!(
                "{} has {} items for {frames} frames (NumberOfFrames)",
                tag_name(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE),
                per_frame.len()
            ),
        ));
    }
    (0..frames).map(|f| frame_info(path, per_frame.get(f), shared, f)).collect()
}

/// The first item of functional group `seq`: the frame's own, else the shared one.
fn group<'a>(
    frame: Option<&'a InMemDicomObject>,
    shared: Option<&'a InMemDicomObject>,
    seq: Tag,
) -> Option<&'a InMemDicomObject> {
    frame.and_then(|fr| items(fr, seq).first()).or_else(|| shared.and_then(|sh| items(sh, seq).first()))
}

fn frame_info(
    path: &Path,
    frame: Option<&InMemDicomObject>,
    shared: Option<&InMemDicomObject>,
    f: usize,
) -> Result<FrameInfo, Error> {
    let where_ = format!(" of frame {}", f + 1);
    let mut info = FrameInfo::default();
    if let Some(g) = group(frame, shared, tags::PLANE_POSITION_SEQUENCE) {
        info.position = opt_f64_n::<3>(path, g, tags::IMAGE_POSITION_PATIENT)?;
    }
    if let Some(g) = group(frame, shared, tags::PLANE_ORIENTATION_SEQUENCE) {
        if let Some(iop) = opt_f64_n::<6>(path, g, tags::IMAGE_ORIENTATION_PATIENT)? {
            info.cosines = Some(orientation(path, iop, &where_)?);
        }
    }
    if let Some(g) = group(frame, shared, tags::PIXEL_MEASURES_SEQUENCE) {
        if let Some(ps) = opt_f64_n::<2>(path, g, tags::PIXEL_SPACING)? {
            info.pixel_spacing = Some(check_pixel_spacing(path, ps, &where_)?);
        }
        let positive = |v: Option<Vec<f64>>| v.and_then(|v| v.first().copied()).filter(|s| *s > 0.0);
        info.spacing_between_slices = positive(opt_f64s(path, g, tags::SPACING_BETWEEN_SLICES)?);
        info.slice_thickness = positive(opt_f64s(path, g, tags::SLICE_THICKNESS)?);
    }
    if let Some(g) = group(frame, shared, tags::SEGMENT_IDENTIFICATION_SEQUENCE) {
        if let Some(n) = opt_u32(path, g, tags::REFERENCED_SEGMENT_NUMBER)? {
            let n = u16::try_from(n)
                .map_err(|_| invalid(path, format!("frame {} refers to segment {n}, above 65535", f + 1)))?;
            info.segment = Some(n);
        }
    }
    if let Some(d) = frame.and_then(|fr| items(fr, tags::DERIVATION_IMAGE_SEQUENCE).first()) {
        if let Some(src) = items(d, tags::SOURCE_IMAGE_SEQUENCE).first() {
            info.source_uid =
                opt_str(path, src, tags::REFERENCED_SOP_INSTANCE_UID)?.filter(|s| !s.is_empty());
        }
    }
    Ok(info)
}

fn grid_error(path: &Path, reason: String) -> Error {
    Error::InvalidFileGrid { path: path.to_path_buf(), reason: super::one_line(&reason) }
}

/// The referenced series' geometry and the slice of each frame.
fn on_series(
    path: &Path,
    dir: &Path,
    obj: &InMemDicomObject,
    header: &Header,
    frames: &[FrameInfo],
) -> Result<(SliceGeometry, Vec<usize>), Error> {
    let series = read_series(dir)?;
    let g = &series.geometry;
    let dir_s = dir.display();
    if (header.rows, header.columns) != (g.rows, g.columns) {
        return Err(grid_error(
            path,
            format!(
                "frames of {} × {} pixels (rows × columns) but the images of series {dir_s} have {} × {}",
                header.rows, header.columns, g.rows, g.columns
            ),
        ));
    }
    let seg_for = opt_str(path, obj, tags::FRAME_OF_REFERENCE_UID)?.filter(|s| !s.is_empty());
    if let (Some(a), Some(b)) = (&seg_for, &g.frame_of_reference) {
        if a != b {
            return Err(grid_error(
                path,
                format!(
                    "frame of reference {} differs from {} of series {dir_s}",
                    super::quote(a),
                    super::quote(b)
                ),
            ));
        }
    }
    let mut slices = Vec::with_capacity(frames.len());
    for (f, info) in frames.iter().enumerate() {
        if let Some(c) = info.cosines {
            if !same_orientation([c[0], c[1]], [g.row_cosine, g.column_cosine]) {
                return Err(grid_error(
                    path,
                    format!(
                        "frame {} orientation {:?} differs from {:?} of series {dir_s}",
                        f + 1,
                        [c[0], c[1]],
                        [g.row_cosine, g.column_cosine]
                    ),
                ));
            }
        }
        if let Some(ps) = info.pixel_spacing {
            if !same_spacing(ps, g.pixel_spacing) {
                return Err(grid_error(
                    path,
                    format!(
                        "frame {} pixel spacing {ps:?} differs from {:?} of series {dir_s}",
                        f + 1,
                        g.pixel_spacing
                    ),
                ));
            }
        }
        let k = match (info.position, &info.source_uid) {
            (Some(p), _) => g.slice_of(p).ok_or_else(|| {
                let d = g.projection(p);
                let nearest = g.positions.iter().map(|q| (g.projection(*q) - d).abs()).fold(f64::INFINITY, f64::min);
                grid_error(
                    path,
                    format!(
                        "frame {} at {p:?} mm (LPS) lies on no slice of series {dir_s} (nearest slice {nearest:.4} mm \
                         away along the normal, tolerance {} mm)",
                        f + 1,
                        g.slice_tolerance()
                    ),
                )
            })?,
            (None, Some(uid)) => series.sop_instance_uids.iter().position(|u| u == uid).ok_or_else(|| {
                grid_error(
                    path,
                    format!(
                        "frame {} has no position and its source image {} is not in series {dir_s}",
                        f + 1,
                        super::quote(uid)
                    ),
                )
            })?,
            (None, None) => {
                return Err(grid_error(
                    path,
                    format!(
                        "frame {} has neither a {} nor a source image (DerivationImageSequence)",
                        f + 1,
                        tag_name(tags::PLANE_POSITION_SEQUENCE)
                    ),
                ));
            }
        };
        slices.push(k);
    }
    let mut geometry = series.geometry;
    geometry.source = path.to_path_buf();
    Ok((geometry, slices))
}

/// The grid spanned by the frames (see [`read_seg`]) and the slice of each frame.
fn from_frames(
    path: &Path,
    obj: &InMemDicomObject,
    header: &Header,
    frames: &[FrameInfo],
) -> Result<(SliceGeometry, Vec<usize>), Error> {
    let no_geometry = |f: usize, what: Tag| {
        grid_error(
            path,
            format!(
                "frame {} has no {}, and without the referenced series (SegOptions::series) the SEG has no geometry",
                f + 1,
                tag_name(what)
            ),
        )
    };
    let first = &frames[0];
    let cosines = first.cosines.ok_or_else(|| no_geometry(0, tags::PLANE_ORIENTATION_SEQUENCE))?;
    let pixel_spacing = first.pixel_spacing.ok_or_else(|| no_geometry(0, tags::PIXEL_MEASURES_SEQUENCE))?;
    let mut positions = Vec::with_capacity(frames.len());
    for (f, info) in frames.iter().enumerate() {
        let p = info.position.ok_or_else(|| no_geometry(f, tags::PLANE_POSITION_SEQUENCE))?;
        let c = info.cosines.ok_or_else(|| no_geometry(f, tags::PLANE_ORIENTATION_SEQUENCE))?;
        if !same_orientation([c[0], c[1]], [cosines[0], cosines[1]]) {
            return Err(grid_error(path, format!("frames 1 and {} have different orientations", f + 1)));
        }
        if !info.pixel_spacing.is_some_and(|ps| same_spacing(ps, pixel_spacing)) {
            return Err(grid_error(path, format!("frames 1 and {} have different pixel spacings", f + 1)));
        }
        positions.push(p);
    }
    let normal = cosines[2];
    let spacing_between = first.spacing_between_slices;
    let merge_tol = position_tolerance(spacing_between.unwrap_or(0.0));
    positions.sort_by(|a, b| dot(*a, normal).total_cmp(&dot(*b, normal)));
    positions.dedup_by(|b, a| (dot(*b, normal) - dot(*a, normal)).abs() <= merge_tol);
    let positions = fill_gaps(&positions, normal, spacing_between);
    let geometry = SliceGeometry {
        source: path.to_path_buf(),
        rows: header.rows,
        columns: header.columns,
        row_cosine: cosines[0],
        column_cosine: cosines[1],
        pixel_spacing,
        normal,
        positions,
        nominal_slice_spacing: spacing_between.or(first.slice_thickness),
        frame_of_reference: opt_str(path, obj, tags::FRAME_OF_REFERENCE_UID)?.filter(|s| !s.is_empty()),
    };
    let slices = frames
        .iter()
        .enumerate()
        .map(|(f, info)| {
            let p = info.position.unwrap_or_default();
            geometry.slice_of(p).ok_or_else(|| {
                grid_error(
                    path,
                    format!("frame {} at {p:?} mm (LPS) is shifted in the plane from the other frames of its slice", f + 1),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((geometry, slices))
}

/// Fills the missing slices between sorted distinct positions on the regular lattice, when there is one.
fn fill_gaps(positions: &[[f64; 3]], normal: [f64; 3], spacing_between: Option<f64>) -> Vec<[f64; 3]> {
    let gaps: Vec<f64> = positions.windows(2).map(|w| dot(sub(w[1], w[0]), normal)).collect();
    let min_gap = gaps.iter().copied().fold(f64::INFINITY, f64::min);
    if !min_gap.is_finite() {
        return positions.to_vec();
    }
    // Steps per gap when every gap is a whole multiple of `step`.
    let multiples = |step: f64| -> Option<Vec<usize>> {
        let tol = position_tolerance(step);
        gaps.iter()
            .map(|&g| {
                let m = (g / step).round();
                (m >= 1.0 && (g - m * step).abs() <= tol && m <= MAX_FILLED_SLICES as f64)
                    .then_some(m as usize)
            })
            .collect()
    };
    let Some(steps) = spacing_between.and_then(&multiples).or_else(|| multiples(min_gap)) else {
        return positions.to_vec();
    };
    let total = steps
        .iter()
        .try_fold(1usize, |acc, &m| acc.checked_add(m))
        .filter(|&t| t <= MAX_FILLED_SLICES && t <= MAX_FILL_RATIO.saturating_mul(positions.len()));
    let Some(total) = total else {
        return positions.to_vec();
    };
    let mut out = Vec::with_capacity(total);
    for (w, &m) in positions.windows(2).zip(&steps) {
        for j in 0..m {
            let t = j as f64 / m as f64;
            out.push(std::array::from_fn(|r| w[0][r] + t * (w[1][r] - w[0][r])));
        }
    }
    out.extend(positions.last().copied());
    out
}

/// The pixel data of a SEG, native or RLE-encapsulated.
enum PixelData<'a> {
    Native { data: Cow<'a, [u8]>, rc: usize, bits: u32 },
    Rle { fragments: &'a [Vec<u8>], rc: usize, bytes: usize },
}

impl<'a> PixelData<'a> {
    fn read(path: &Path, obj: &'a InMemDicomObject, ts: &str, header: &Header) -> Result<Self, Error> {
        let elem = obj
            .get(tags::PIXEL_DATA)
            .ok_or_else(|| invalid(path, format!("no {}", tag_name(tags::PIXEL_DATA))))?;
        let rc = header.rows * header.columns;
        match elem.value() {
            Value::PixelSequence(seq) => {
                if !is_rle(ts) {
                    return Err(invalid(
                        path,
                        format!(
                            "encapsulated PixelData in transfer syntax {ts} ({})",
                            transfer_syntax_name(ts)
                        ),
                    ));
                }
                if header.bits == 1 {
                    return Err(unsupported(
                        path,
                        "RLE Lossless with BitsAllocated 1 (segauge decodes RLE for 8- and 16-bit pixels)"
                            .into(),
                    ));
                }
                let fragments = seq.fragments();
                if fragments.len() < header.frames {
                    // dicom-rs ends a pixel sequence quietly at the end of the file.
                    return Err(Error::Truncated {
                        path: path.to_path_buf(),
                        detail: format!("{} RLE fragments for {} frames", fragments.len(), header.frames),
                    });
                }
                if fragments.len() > header.frames {
                    return Err(unsupported(
                        path,
                        format!(
                            "{} RLE fragments for {} frames (segauge reads one fragment per frame)",
                            fragments.len(),
                            header.frames
                        ),
                    ));
                }
                let bytes = header.bits as usize / 8;
                // PackBits expands at most 64-fold (2 bytes → 128): refuse frames no fragment could hold before
                // allocating masks for them.
                if let Some(f) = fragments.iter().position(|fr| rc.saturating_mul(bytes) / 64 > fr.len()) {
                    return Err(Error::Truncated {
                        path: path.to_path_buf(),
                        detail: format!(
                            "RLE frame {} has {} bytes, too few for {} × {} pixels",
                            f + 1,
                            fragments[f].len(),
                            header.rows,
                            header.columns
                        ),
                    });
                }
                Ok(PixelData::Rle { fragments, rc, bytes })
            }
            Value::Primitive(prim) => {
                if is_rle(ts) {
                    return Err(invalid(
                        path,
                        "RLE Lossless transfer syntax but PixelData is not encapsulated".into(),
                    ));
                }
                let data: Cow<'a, [u8]> = match prim {
                    PrimitiveValue::U8(v) => Cow::Borrowed(&v[..]),
                    PrimitiveValue::U16(v) => Cow::Owned(v.iter().flat_map(|w| w.to_le_bytes()).collect()),
                    other => Cow::Owned(other.to_bytes().into_owned()),
                };
                let bits = header.frames.checked_mul(rc).and_then(|n| n.checked_mul(header.bits as usize));
                let needed = bits.map(|b| b.div_ceil(8)).ok_or_else(|| too_large(path))?;
                if data.len() < needed {
                    return Err(Error::Truncated {
                        path: path.to_path_buf(),
                        detail: format!(
                            "PixelData holds {} bytes; {} frames of {} × {} pixels at {} bit{} need {needed}",
                            data.len(),
                            header.frames,
                            header.rows,
                            header.columns,
                            header.bits,
                            if header.bits == 1 { "" } else { "s" }
                        ),
                    });
                }
                Ok(PixelData::Native { data, rc, bits: header.bits })
            }
            Value::Sequence(_) => Err(invalid(path, "PixelData is a sequence of items".into())),
        }
    }

    /// The values of frame `f` (0-based), one per pixel in row-major order.
    fn frame(&self, path: &Path, f: usize, out: &mut [u16]) -> Result<(), Error> {
        match self {
            PixelData::Native { data, rc, bits: 1 } => {
                let mut bytes = vec![0u8; *rc];
                // Length was checked in `read`.
                if !bits::unpack(data, f * rc, &mut bytes) {
                    return Err(Error::Truncated {
                        path: path.to_path_buf(),
                        detail: format!("frame {}", f + 1),
                    });
                }
                for (o, b) in out.iter_mut().zip(bytes) {
                    *o = u16::from(b);
                }
            }
            PixelData::Native { data, rc, bits: 8 } => {
                for (o, &b) in out.iter_mut().zip(&data[f * rc..(f + 1) * rc]) {
                    *o = u16::from(b);
                }
            }
            PixelData::Native { data, rc, .. } => {
                for (o, w) in out.iter_mut().zip(data[2 * f * rc..2 * (f + 1) * rc].chunks_exact(2)) {
                    *o = u16::from_le_bytes([w[0], w[1]]);
                }
            }
            PixelData::Rle { fragments, rc, bytes } => {
                // A cut file leaves a short last fragment (dicom-rs does not check fragment lengths at the end of
                // the file), so a frame that does not decode is reported as a cut or corrupt stream.
                let decoded = rle::decode_frame(&fragments[f], *rc, *bytes).map_err(|e| {
                    Error::Truncated { path: path.to_path_buf(), detail: format!("RLE frame {}: {e}", f + 1) }
                })?;
                if *bytes == 1 {
                    for (o, &b) in out.iter_mut().zip(&decoded) {
                        *o = u16::from(b);
                    }
                } else {
                    for (o, w) in out.iter_mut().zip(decoded.chunks_exact(2)) {
                        *o = u16::from_le_bytes([w[0], w[1]]);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zs(positions: &[[f64; 3]]) -> Vec<f64> {
        positions.iter().map(|p| p[2]).collect()
    }

    fn at(z: &[f64]) -> Vec<[f64; 3]> {
        z.iter().map(|&z| [1.0, 2.0, z]).collect()
    }

    const N: [f64; 3] = [0.0, 0.0, 1.0];

    #[test]
    fn gaps_that_are_multiples_of_the_smallest_step_are_filled() {
        assert_eq!(zs(&fill_gaps(&at(&[-40.0, -37.5, -32.5, 35.0]), N, None)).len(), 31);
        assert_eq!(zs(&fill_gaps(&at(&[0.0, 2.0, 6.0]), N, None)), vec![0.0, 2.0, 4.0, 6.0]);
        // SpacingBetweenSlices refines the lattice when every gap is a multiple of it.
        assert_eq!(zs(&fill_gaps(&at(&[0.0, 5.0]), N, Some(2.5))), vec![0.0, 2.5, 5.0]);
        // ... and is ignored when it does not fit.
        assert_eq!(zs(&fill_gaps(&at(&[0.0, 5.0, 10.0]), N, Some(3.0))), vec![0.0, 5.0, 10.0]);
    }

    #[test]
    fn other_stacks_are_kept_as_they_are() {
        let irregular = at(&[0.0, 2.0, 5.0]);
        assert_eq!(fill_gaps(&irregular, N, None), irregular);
        let one = at(&[3.0]);
        assert_eq!(fill_gaps(&one, N, None), one);
        let absurd = at(&[0.0, 1.0, 1e6]);
        assert_eq!(fill_gaps(&absurd, N, None), absurd);
        // Three positions spanning 127 steps fill (128 slices, within 3 × 64); spanning 192 steps they do not.
        assert_eq!(fill_gaps(&at(&[0.0, 1.0, 127.0]), N, None).len(), 128);
        let sparse = at(&[0.0, 1.0, 192.0]);
        assert_eq!(fill_gaps(&sparse, N, None), sparse);
        // In-plane coordinates are interpolated along the stack (a tilted stack stays tilted).
        let tilted = [[0.0, 0.0, 0.0], [0.0, 2.0, 4.0]];
        assert_eq!(fill_gaps(&[tilted[0], tilted[1], [0.0, 3.0, 6.0]], N, None)[1], [0.0, 1.0, 2.0]);
    }
}
