//! A DICOM-SEG or RTSTRUCT as a segauge label volume: which series it is placed on, which segments or ROIs become
//! which labels.
//!
//! Series lookup, first match wins: the series given for this file (`--gt-series`, `--pred-series`); the folder
//! `<series root>/<case id>/`; the folder `<case id>/` beside the file (`labels/case_007.dcm` and
//! `labels/case_007/`). A SEG without a series is placed on the grid spanned by its own frames; an RTSTRUCT without
//! one is rasterised on the grid of the other volume of the pair (same frame of reference), or refused.

use std::path::{Path, PathBuf};

use super::{DicomKind, SegOptions, dicom_kind, read_rtstruct, read_seg, read_series};
use crate::volume::{Grid, LabelVolume};
use crate::{Error, LabelFile, case_id};

/// How DICOM segmentations become label volumes.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DicomOptions {
    /// A folder holding one image-series folder per case id (`<root>/<case id>/`).
    pub series_root: Option<PathBuf>,
    /// Segments or ROIs to read and their labels, as (name, label): a SEG segment by its `SegmentLabel` or its
    /// number, an RTSTRUCT ROI by its `ROIName` (exact, then case-insensitive). Empty: every segment or ROI, label
    /// = its number.
    pub mapping: Vec<(String, u32)>,
    /// FRACTIONAL SEG threshold on `value / MaximumFractionalValue` (default 0.5).
    pub fractional_threshold: f64,
    /// Whether a value equal to the threshold is foreground (default true: `>=`).
    pub fractional_inclusive: bool,
}

impl Default for DicomOptions {
    fn default() -> Self {
        DicomOptions {
            series_root: None,
            mapping: Vec::new(),
            fractional_threshold: 0.5,
            fractional_inclusive: true,
        }
    }
}

/// The image series of `path`: `series` when given, else `<series root>/<case id>/`, else `<case id>/` beside
/// the file, when such a folder exists.
pub fn find_series(path: &Path, series: Option<&Path>, options: &DicomOptions) -> Option<PathBuf> {
    if let Some(s) = series {
        return Some(s.to_path_buf());
    }
    let (id, _) = case_id(path)?;
    let candidates = [options.series_root.as_ref().map(|r| r.join(&id)), path.parent().map(|p| p.join(&id))];
    candidates.into_iter().flatten().find(|d| d.is_dir())
}

/// Reads a DICOM-SEG or RTSTRUCT as a label volume.
///
/// `series` is this file's image series (else [`find_series`] looks for one); `reference` is the grid of the other
/// volume of the pair, used for an RTSTRUCT without series.
///
/// # Errors
/// As [`read_dicom_file`]; [`Error::OverlappingSegments`] (SEG) or [`Error::InvalidHeader`] (RTSTRUCT, naming both
/// ROIs) when two segments mapped to different labels share voxels.
pub fn read_dicom_labels(
    path: &Path,
    series: Option<&Path>,
    reference: Option<&Grid>,
    options: &DicomOptions,
) -> Result<LabelVolume, Error> {
    match read_dicom(path, series, reference, options)? {
        Read::Seg(seg) => seg.to_label_volume(),
        Read::RtStruct(rt, grid) => rt.labels_on(grid, &options.mapping),
    }
}

/// Reads a DICOM-SEG or RTSTRUCT with every segment or ROI kept whole: label = segment number or ROI number (or
/// the label `mapping` gives), name = `SegmentLabel` or `ROIName`; segments or ROIs that overlap go to separate
/// layers ([`pack`](crate::pack)), so that each can be evaluated on its own.
///
/// # Errors
/// The readers' errors; [`Error::Unsupported`] for a DICOM file that is not a segmentation (an image) and for an
/// RTSTRUCT with neither series nor reference; [`Error::InvalidHeader`] naming a mapped segment or ROI that is
/// absent.
pub fn read_dicom_file(
    path: &Path,
    series: Option<&Path>,
    reference: Option<&Grid>,
    options: &DicomOptions,
) -> Result<LabelFile, Error> {
    let (grid, masks): (Grid, Vec<(u32, String, Vec<bool>)>) =
        match read_dicom(path, series, reference, options)? {
            Read::Seg(seg) => {
                let grid = seg.geometry.grid()?;
                let masks =
                    seg.segments.into_iter().map(|s| (u32::from(s.number), s.label, s.mask)).collect();
                (grid, masks)
            }
            Read::RtStruct(rt, grid) => {
                let masks = rt
                    .chosen(&options.mapping)?
                    .into_iter()
                    .filter(|(r, _)| !r.mask.is_empty())
                    .map(|(r, label)| (label, r.name.clone(), r.mask.clone()))
                    .collect();
                (grid, masks)
            }
        };
    let mut names = std::collections::BTreeMap::new();
    for (label, name, _) in &masks {
        if !name.trim().is_empty() {
            // Two segments mapped to one label keep the first name.
            names.entry(*label).or_insert_with(|| name.clone());
        }
    }
    let layers = crate::pack(&grid, masks.into_iter().map(|(l, _, m)| (l, m)).collect())
        .map_err(|e| e.in_file(path))?;
    LabelFile::layered(layers).and_then(|f| f.with_names(names)).map_err(|e| e.in_file(path))
}

/// A DICOM segmentation as read, before it becomes labels.
enum Read {
    /// A SEG, its segments mapped (number = label).
    Seg(super::Segmentation),
    /// An RTSTRUCT and the grid of its geometry.
    RtStruct(super::RtStruct, Grid),
}

fn read_dicom(
    path: &Path,
    series: Option<&Path>,
    reference: Option<&Grid>,
    options: &DicomOptions,
) -> Result<Read, Error> {
    let series = find_series(path, series, options);
    match dicom_kind(path)? {
        DicomKind::Seg | DicomKind::LabelmapSeg => {
            let seg_options = SegOptions {
                series,
                fractional_threshold: options.fractional_threshold,
                fractional_inclusive: options.fractional_inclusive,
            };
            let has_series = seg_options.series.is_some();
            let mut seg = read_seg(path, &seg_options)?;
            if !has_series {
                if let Some(grid) = reference {
                    // Without its series, a SEG whose frames lie on the other volume's slices is placed on that
                    // grid (a SEG omits empty frames, so its own frames may span fewer slices).
                    if let Some(placed) = place_on(&seg, grid) {
                        seg = placed;
                    }
                }
            }
            if !options.mapping.is_empty() {
                let mut kept = Vec::new();
                for (name, label) in &options.mapping {
                    let found = seg.segments.iter().find(|s| {
                        s.label == *name || s.label.eq_ignore_ascii_case(name) || s.number.to_string() == *name
                    });
                    let Some(s) = found else {
                        let names: Vec<String> = seg
                            .segments
                            .iter()
                            .map(|s| format!("{} {}", s.number, super::quote(&s.label)))
                            .collect();
                        return Err(super::invalid(
                            path,
                            format!("no segment {} (segments: {})", super::quote(name), super::list(&names, ", ")),
                        ));
                    };
                    let mut s = s.clone();
                    s.number = u16::try_from(*label).map_err(|_| {
                        super::invalid(path, format!("label {label} for segment {} is above 65535", super::quote(name)))
                    })?;
                    kept.push(s);
                }
                seg.segments = kept;
            }
            Ok(Read::Seg(seg))
        }
        DicomKind::RtStruct => match (series, reference) {
            (Some(dir), _) => {
                let s = read_series(&dir)?;
                // The series' grid error names the folder; name the RTSTRUCT too, as a SEG's error does.
                let grid = s.geometry.grid().map_err(|e| match e {
                    Error::InvalidFileGrid { reason, .. } => Error::InvalidFileGrid {
                        path: path.to_path_buf(),
                        reason: format!("series {}: {reason}", dir.display()),
                    },
                    other => other,
                })?;
                Ok(Read::RtStruct(read_rtstruct(path, &s.geometry)?, grid))
            }
            (None, Some(grid)) => Ok(Read::RtStruct(super::rtstruct::rtstruct_on_grid(path, grid)?, grid.clone())),
            (None, None) => Err(Error::Unsupported {
                path: path.to_path_buf(),
                detail: "an RTSTRUCT needs its image series to be rasterised: give the series folder (--gt-series / \
                         --pred-series, or --series-root), or compare it with a volume on the same frame of reference"
                    .into(),
            }),
        },
        DicomKind::Image => Err(Error::Unsupported {
            path: path.to_path_buf(),
            detail: "a DICOM image, not a segmentation (DICOM-SEG or RTSTRUCT); give it as a series folder".into(),
        }),
        DicomKind::Other { sop_class_uid } => Err(Error::Unsupported {
            path: path.to_path_buf(),
            detail: format!(
                "a DICOM object of SOP class {}, not a segmentation (DICOM-SEG or RTSTRUCT)",
                super::quote(&sop_class_uid)
            ),
        }),
    }
}

/// Whether `path` is a DICOM segmentation without image series, which is then best read on the grid of the other
/// volume of the pair: an RTSTRUCT cannot be rasterised without a grid, and a SEG's own frames may span fewer
/// slices than the image.
pub fn needs_reference(path: &Path, series: Option<&Path>, options: &DicomOptions) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("dcm"))
        && find_series(path, series, options).is_none()
        && matches!(dicom_kind(path), Ok(DicomKind::RtStruct | DicomKind::Seg | DicomKind::LabelmapSeg))
}

/// The segmentation on the slices of `grid` when its frames' slices all lie on them (same rows, columns,
/// orientation and pixel spacing; positions matched as [`SliceGeometry::slice_of`](super::SliceGeometry::slice_of)
/// does); `None` otherwise.
fn place_on(seg: &super::Segmentation, grid: &Grid) -> Option<super::Segmentation> {
    let own = &seg.geometry;
    let target = super::rtstruct::geometry_of_grid(grid, &own.source)?;
    let close = |a: [f64; 3], b: [f64; 3]| (0..3).all(|i| (a[i] - b[i]).abs() <= super::ORIENTATION_TOL);
    let same_spacing = (0..2)
        .all(|i| (own.pixel_spacing[i] - target.pixel_spacing[i]).abs() <= 1e-4 * target.pixel_spacing[i]);
    if own.rows != target.rows
        || own.columns != target.columns
        || !close(own.row_cosine, target.row_cosine)
        || !close(own.column_cosine, target.column_cosine)
        || !same_spacing
    {
        return None;
    }
    let slices: Vec<usize> = own.positions.iter().map(|&p| target.slice_of(p)).collect::<Option<_>>()?;
    let plane = own.rows * own.columns;
    let mut placed = seg.clone();
    for (s, out) in seg.segments.iter().zip(placed.segments.iter_mut()) {
        let mut mask = vec![false; target.voxel_count()];
        for (k, &t) in slices.iter().enumerate() {
            mask[t * plane..(t + 1) * plane].copy_from_slice(&s.mask[k * plane..(k + 1) * plane]);
        }
        out.mask = mask;
        out.values = None;
    }
    placed.geometry = super::SliceGeometry { frame_of_reference: own.frame_of_reference.clone(), ..target };
    Some(placed)
}
