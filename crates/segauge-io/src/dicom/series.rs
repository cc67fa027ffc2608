//! The geometry of a DICOM image series: one single-frame image file per slice, in one folder.
//!
//! Only headers are read (each file up to its pixel data), so the pixel data may use any transfer syntax. Files
//! that are not DICOM (a `SOURCE.json`, a README) and DICOM files that are not images (a SEG or RTSTRUCT next to
//! the images) are skipped; hidden files and sub-folders are ignored. Slices are sorted along the normal of their
//! orientation, never by file name or InstanceNumber (pitfall 1 of the conformance set).

use std::path::{Path, PathBuf};

use dicom_dictionary_std::tags;

use super::geometry::{orientation, same_orientation};
use super::{
    DicomKind, Extent, SPACING_REL_TOL, SliceGeometry, check_pixel_spacing, invalid, open, opt_f64s, opt_str,
    opt_u32, req_str, unsupported,
};
use crate::Error;

/// A DICOM image series: its slice geometry and the instance of each slice.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Slices sorted along the normal; [`SliceGeometry::source`] is the folder. The frame of reference UID is
    /// [`SliceGeometry::frame_of_reference`].
    pub geometry: SliceGeometry,
    /// `SOPInstanceUID` of each slice, in slice order.
    pub sop_instance_uids: Vec<String>,
    /// The file of each slice, in slice order.
    pub files: Vec<PathBuf>,
    /// `SeriesInstanceUID`, shared by every image of the folder.
    pub series_uid: String,
}

/// The header fields of one image that the series needs.
struct Slice {
    file: PathBuf,
    series_uid: String,
    sop_instance_uid: String,
    frame_of_reference: Option<String>,
    rows: usize,
    columns: usize,
    cosines: [[f64; 3]; 3],
    pixel_spacing: [f64; 2],
    position: [f64; 3],
    nominal_slice_spacing: Option<f64>,
}

/// Reads the geometry of the image series in `dir` (headers only).
///
/// Every DICOM image of the folder must belong to one series (one `SeriesInstanceUID`) and share rows, columns,
/// orientation (to 1e-4), pixel spacing (to 1e-4 relative) and frame of reference; each must be a single frame
/// with `ImagePositionPatient`; no two may lie on the same slice. The slice spacing may be irregular.
///
/// # Errors
/// - [`Error::Io`] when the folder or a file cannot be read;
/// - [`Error::NotFormat`] (format "DICOM series", naming the folder) when it holds no DICOM image;
/// - [`Error::MixedSeries`] when it holds images of two series, naming both UIDs;
/// - [`Error::InvalidHeader`] / [`Error::InvalidFileGrid`] naming the file whose header is missing a field or
///   disagrees with the others; [`Error::Unsupported`] for a multi-frame image; a DICOM file's own read errors
///   ([`Error::Truncated`], ...).
pub fn read_series(dir: &Path) -> Result<Series, Error> {
    let io = |source| Error::Io { path: dir.to_path_buf(), source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let hidden = path.file_name().and_then(|n| n.to_str()).is_none_or(|n| n.starts_with('.'));
        if !hidden && !path.is_dir() {
            files.push(path);
        }
    }
    files.sort();
    let total = files.len();
    let mut slices: Vec<Slice> = Vec::new();
    for file in files {
        let ds = match open(&file, Extent::Header) {
            Ok(ds) => ds,
            Err(Error::NotFormat { .. }) => continue,
            Err(e) => return Err(e),
        };
        if ds.kind(&file)? != DicomKind::Image {
            continue;
        }
        let slice = read_slice(&file, &ds.obj)?;
        if let Some(first) = slices.first() {
            check_consistent(dir, first, &slice)?;
        }
        slices.push(slice);
    }
    let Some(first) = slices.first() else {
        return Err(Error::NotFormat {
            path: dir.to_path_buf(),
            format: "DICOM series",
            detail: format!("none of its {total} files is a DICOM image"),
        });
    };
    let normal = first.cosines[2];
    let proj = |s: &Slice| super::geometry::dot(s.position, normal);
    slices.sort_by(|a, b| proj(a).total_cmp(&proj(b)).then_with(|| a.file.cmp(&b.file)));
    let first = &slices[0];
    let mut geometry = SliceGeometry {
        source: dir.to_path_buf(),
        rows: first.rows,
        columns: first.columns,
        row_cosine: first.cosines[0],
        column_cosine: first.cosines[1],
        pixel_spacing: first.pixel_spacing,
        normal,
        positions: Vec::with_capacity(slices.len()),
        nominal_slice_spacing: first.nominal_slice_spacing,
        frame_of_reference: first.frame_of_reference.clone(),
    };
    geometry.positions = slices.iter().map(|s| s.position).collect();
    let tol = geometry.slice_tolerance();
    for w in slices.windows(2) {
        if proj(&w[1]) - proj(&w[0]) <= tol {
            return Err(Error::InvalidFileGrid {
                path: dir.to_path_buf(),
                reason: format!(
                    "{} and {} lie on the same slice ({} mm along the normal)",
                    w[0].file.display(),
                    w[1].file.display(),
                    proj(&w[0])
                ),
            });
        }
    }
    Ok(Series {
        geometry,
        sop_instance_uids: slices.iter().map(|s| s.sop_instance_uid.clone()).collect(),
        series_uid: first.series_uid.clone(),
        files: slices.into_iter().map(|s| s.file).collect(),
    })
}

fn read_slice(file: &Path, obj: &dicom_object::InMemDicomObject) -> Result<Slice, Error> {
    let frames = opt_u32(file, obj, tags::NUMBER_OF_FRAMES)?.unwrap_or(1);
    if frames > 1 {
        return Err(unsupported(
            file,
            format!("a multi-frame image ({frames} frames); a reference series holds one image per file"),
        ));
    }
    let need = ": segauge needs the orientation, position and pixel spacing of every slice";
    let iop = super::opt_f64_n::<6>(file, obj, tags::IMAGE_ORIENTATION_PATIENT)?.ok_or_else(|| {
        invalid(file, format!("no {}{need}", super::tag_name(tags::IMAGE_ORIENTATION_PATIENT)))
    })?;
    let position = super::opt_f64_n::<3>(file, obj, tags::IMAGE_POSITION_PATIENT)?.ok_or_else(|| {
        invalid(file, format!("no {}{need}", super::tag_name(tags::IMAGE_POSITION_PATIENT)))
    })?;
    let spacing = super::opt_f64_n::<2>(file, obj, tags::PIXEL_SPACING)?
        .ok_or_else(|| invalid(file, format!("no {}{need}", super::tag_name(tags::PIXEL_SPACING))))?;
    let nominal = |tag| -> Result<Option<f64>, Error> {
        Ok(opt_f64s(file, obj, tag)?.and_then(|v| v.first().copied()).filter(|s| *s > 0.0))
    };
    Ok(Slice {
        file: file.to_path_buf(),
        series_uid: req_str(file, obj, tags::SERIES_INSTANCE_UID, "")?,
        sop_instance_uid: req_str(file, obj, tags::SOP_INSTANCE_UID, "")?,
        frame_of_reference: opt_str(file, obj, tags::FRAME_OF_REFERENCE_UID)?.filter(|s| !s.is_empty()),
        rows: super::req_dim(file, obj, tags::ROWS)?,
        columns: super::req_dim(file, obj, tags::COLUMNS)?,
        cosines: orientation(file, iop, "")?,
        pixel_spacing: check_pixel_spacing(file, spacing, "")?,
        position,
        nominal_slice_spacing: match nominal(tags::SPACING_BETWEEN_SLICES)? {
            Some(s) => Some(s),
            None => nominal(tags::SLICE_THICKNESS)?,
        },
    })
}

/// Checks that `s` belongs to the same series and grid as `first`.
fn check_consistent(dir: &Path, first: &Slice, s: &Slice) -> Result<(), Error> {
    if s.series_uid != first.series_uid {
        return Err(Error::MixedSeries {
            path: dir.to_path_buf(),
            a: super::one_line(&format!("{} ({})", super::quote(&first.series_uid), first.file.display())),
            b: super::one_line(&format!("{} ({})", super::quote(&s.series_uid), s.file.display())),
        });
    }
    let differs = |what: &str, a: String, b: String| Error::InvalidFileGrid {
        path: s.file.clone(),
        reason: super::one_line(&format!(
            "{what} {b} differs from {a} in {} of the same series",
            first.file.display()
        )),
    };
    if (s.rows, s.columns) != (first.rows, first.columns) {
        return Err(differs(
            "rows × columns",
            format!("{} × {}", first.rows, first.columns),
            format!("{} × {}", s.rows, s.columns),
        ));
    }
    if !same_orientation([s.cosines[0], s.cosines[1]], [first.cosines[0], first.cosines[1]]) {
        return Err(differs(
            "orientation",
            format!("{:?}", [first.cosines[0], first.cosines[1]]),
            format!("{:?}", [s.cosines[0], s.cosines[1]]),
        ));
    }
    if !same_spacing(s.pixel_spacing, first.pixel_spacing) {
        return Err(differs(
            "pixel spacing",
            format!("{:?}", first.pixel_spacing),
            format!("{:?}", s.pixel_spacing),
        ));
    }
    if s.frame_of_reference != first.frame_of_reference {
        return Err(differs("frame of reference", frame_of_reference(first), frame_of_reference(s)));
    }
    Ok(())
}

/// A slice's frame of reference UID for messages.
fn frame_of_reference(s: &Slice) -> String {
    s.frame_of_reference.as_deref().map_or_else(|| "(none)".to_string(), super::quote)
}

/// True when two pixel spacings agree to [`SPACING_REL_TOL`] relative.
pub(crate) fn same_spacing(a: [f64; 2], b: [f64; 2]) -> bool {
    (0..2).all(|i| (a[i] - b[i]).abs() <= SPACING_REL_TOL * a[i].abs().max(b[i].abs()))
}
