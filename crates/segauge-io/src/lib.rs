//! Label volumes with their voxel grid, and readers for the segmentation files segauge evaluates.
//!
//! # Overview
//! - [`LabelVolume`]: integer labels ([`Labels`], stored as u8, u16 or u32) on a [`Grid`], and the [`Rows`] that
//!   hold a label: whole-volume passes visit only those, and the NIfTI, NRRD and MetaImage readers never touch the
//!   memory of the others.
//! - [`Grid`]: shape, spacing, origin and direction, and [`Grid::check_same`] with a [`GridTolerance`] to decide
//!   whether a prediction and its ground truth share one grid.
//! - [`read_labels`]: reads `.nii`, `.nii.gz`, `.npy`, `.dcm`, MetaImage (`.mha`, `.mhd`) or NRRD (`.nrrd`,
//!   `.seg.nrrd`, `.nhdr`) by file name; [`read_label_file`] keeps a file's layers and label names ([`LabelFile`]);
//!   [`case_id`] and [`scan_dir`] pair files of a data set by case.
//! - [`metaimage`] (feature `metaimage`) and [`nrrd`] (feature `nrrd`): MetaImage and NRRD as ITK and SimpleITK
//!   write them ([`read_metaimage`], [`read_nrrd`]), with 3D Slicer's `.seg.nrrd` segment layers and names
//!   ([`read_nrrd_file`]); each module says what it reads and refuses, and how its LPS geometry becomes RAS.
//! - [`dicom`] (feature `dicom`): DICOM-SEG, RTSTRUCT and image series. `dicom::dicom_kind` tells a SEG, an
//!   RTSTRUCT and an image apart; `dicom::read_series` reads the slice geometry (`SliceGeometry`, LPS) of an image
//!   series; `dicom::read_seg` reads a DICOM-SEG (BINARY, FRACTIONAL or LABELMAP) as one mask per segment on its
//!   referenced series or on the grid of its frames; [`read_labels`] reads any of them as a label volume.
//! - [`check_outputs`] and [`write_atomically`]: every file written never replaces an input and is written whole or
//!   not at all; [`write_nifti`] writes NIfTI-1.
//!
//! # Semantics
//! - Units are millimetres. NIfTI spatial units (metres, micrometres) are converted.
//! - Voxel `(i, j, k)` (i fastest in memory, as NIfTI stores it) sits at `origin + D · (spacing ⊙ (i, j, k))`;
//!   world coordinates are NIfTI's RAS+. Formats in LPS (DICOM, MetaImage, NRRD as ITK reads it) have the x and y
//!   of their origin and directions negated, so a file and its NIfTI conversion by SimpleITK read as one grid.
//! - Label 0 is background; negative values read as background; fractional values are an error.
//!
//! # Example
//! ```
//! use segauge_io::{Grid, GridTolerance, LabelVolume, Labels};
//! let grid = Grid::new([3, 1, 1], [0.8, 0.8, 1.5])?;
//! let vol = LabelVolume::new(grid.clone(), Labels::U8(vec![0, 2, 2]))?;
//! assert!(vol.grid().check_same(&grid, &GridTolerance::default()).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Feature flags
//! - `nifti` (default): the NIfTI-1 reader, with gzip through flate2's zlib-rs backend.
//! - `npy` (default): the NumPy `.npy` reader with JSON geometry sidecars.
//! - `dataset-json` (default): [`read_dataset_json`], the label names, regions and ignore label of an nnU-Net
//!   `dataset.json`.
//! - `ndarray`: [`LabelVolume::from_array`] and [`LabelVolume::from_array_2d`], volumes from ndarray views
//!   indexed `[x, y, z]` whatever their memory order.
//! - `dicom`: the DICOM readers, through dicom-rs (pure Rust): Implicit/Explicit VR Little Endian, Deflated Explicit
//!   VR Little Endian and RLE Lossless; no JPEG, JPEG-LS or JPEG 2000 codecs.
//! - `metaimage` (default): the MetaImage reader (`.mha`, `.mhd`), zlib/gzip-compressed data through flate2.
//! - `nrrd` (default): the NRRD reader (`.nrrd`, `.nhdr`, 3D Slicer `.seg.nrrd`): raw, gzip (flate2), bzip2 (the
//!   `bzip2` crate's pure-Rust backend), ASCII and hex encodings.
#![deny(missing_docs)]

#[cfg(feature = "ndarray")]
mod array;
#[cfg(feature = "dataset-json")]
mod dataset_json;
#[cfg(any(feature = "nifti", feature = "npy", feature = "metaimage", feature = "nrrd"))]
mod decode;
#[cfg(feature = "dicom")]
pub mod dicom;
mod error;
#[cfg(any(feature = "nifti", feature = "dicom", feature = "metaimage", feature = "nrrd"))]
mod head;
mod label_file;
#[cfg(feature = "metaimage")]
pub mod metaimage;
#[cfg(feature = "nifti")]
mod nifti;
#[cfg(feature = "nifti")]
mod nifti_ext;
#[cfg(feature = "nifti")]
mod nifti_write;
#[cfg(feature = "npy")]
mod npy;
#[cfg(feature = "nrrd")]
pub mod nrrd;
mod output;
#[cfg(any(feature = "metaimage", feature = "nrrd"))]
mod text_header;
mod volume;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[cfg(feature = "ndarray")]
pub use array::LabelValue;
#[cfg(feature = "dataset-json")]
pub use dataset_json::{DatasetJson, read_dataset_json};
pub use error::Error;
pub use label_file::{LabelFile, pack};
#[cfg(feature = "metaimage")]
pub use metaimage::{read_metaimage, read_metaimage_file};
#[cfg(feature = "nifti")]
pub use nifti::{read_nifti, read_nifti_file};
#[cfg(feature = "nifti")]
pub use nifti_write::write_nifti;
#[cfg(feature = "npy")]
pub use npy::{Axes, NpyOptions, read_npy, sidecar_path};
#[cfg(feature = "nrrd")]
pub use nrrd::{read_nrrd, read_nrrd_file};
pub use output::{Input, check_outputs, write_atomically};
pub use volume::{Grid, GridMismatch, GridTolerance, LabelVolume, Labels, Rows};

/// The file formats segauge reads, recognised by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// NIfTI-1, `.nii` or `.nii.gz`.
    Nifti,
    /// NumPy, `.npy`.
    Npy,
    /// DICOM, `.dcm`: a DICOM-SEG or an RTSTRUCT.
    Dicom,
    /// MetaImage, `.mha` (one file) or `.mhd` (a header naming its data file).
    MetaImage,
    /// NRRD, `.nrrd` (3D Slicer's segmentations: `.seg.nrrd`) or `.nhdr` (a header naming its data file).
    Nrrd,
}

/// Suffixes by which a file's format is known; a longer suffix comes before any it ends with.
const SUFFIXES: [(&str, Format); 9] = [
    (".nii.gz", Format::Nifti),
    (".nii", Format::Nifti),
    (".npy", Format::Npy),
    (".dcm", Format::Dicom),
    (".mha", Format::MetaImage),
    (".mhd", Format::MetaImage),
    (".seg.nrrd", Format::Nrrd),
    (".nrrd", Format::Nrrd),
    (".nhdr", Format::Nrrd),
];

/// The case id and format of a file name: the name without `.nii.gz`, `.nii`, `.npy`, `.dcm`, `.mha`, `.mhd`,
/// `.seg.nrrd`, `.nrrd` or `.nhdr` (case-sensitive; `x.seg.nrrd` is case `x`).
///
/// ```
/// use segauge_io::{case_id, Format};
/// assert_eq!(case_id("labels/liver_007.nii.gz".as_ref()), Some(("liver_007".to_string(), Format::Nifti)));
/// assert_eq!(case_id("slicer/liver_007.seg.nrrd".as_ref()), Some(("liver_007".to_string(), Format::Nrrd)));
/// assert_eq!(case_id("plans.json".as_ref()), None);
/// ```
pub fn case_id(path: &Path) -> Option<(String, Format)> {
    let name = path.file_name()?.to_str()?;
    SUFFIXES.iter().find_map(|(suffix, fmt)| {
        name.strip_suffix(suffix)
            .filter(|stem| !stem.is_empty() && !stem.starts_with('.'))
            .map(|s| (s.to_string(), *fmt))
    })
}

/// Every segmentation file directly inside `dir`, by case id (sorted). Other files, hidden files and
/// sub-directories are ignored. A case id may map to several files (`a.nii` and `a.nii.gz`): callers decide.
///
/// # Errors
/// [`Error::Io`] when the directory cannot be listed.
pub fn scan_dir(dir: &Path) -> Result<BTreeMap<String, Vec<PathBuf>>, Error> {
    let io = |source| Error::Io { path: dir.to_path_buf(), source };
    let mut out: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            continue;
        }
        if let Some((id, _)) = case_id(&path) {
            out.entry(id).or_default().push(path);
        }
    }
    for paths in out.values_mut() {
        paths.sort();
    }
    Ok(out)
}

/// How to read label files.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ReadOptions {
    /// Geometry and axis order for `.npy` files.
    #[cfg(feature = "npy")]
    pub npy: NpyOptions,
    /// Series lookup and segment/ROI mapping for `.dcm` files.
    #[cfg(feature = "dicom")]
    pub dicom: dicom::DicomOptions,
}

/// Reads a label map, choosing the reader by file name (`.nii`, `.nii.gz`, `.npy`, `.dcm`, `.mha`, `.mhd`,
/// `.nrrd`, `.seg.nrrd`, `.nhdr`).
///
/// # Errors
/// [`Error::Unsupported`] for another file name or a format whose feature is off;
/// [`Error::OverlappingSegments`] for a file whose structures overlap (read it with [`read_label_file`]);
/// otherwise the reader's errors.
pub fn read_labels(path: &Path, options: &ReadOptions) -> Result<LabelVolume, Error> {
    read_labels_on(path, options, None, None)
}

/// [`read_labels`] with, for DICOM files, this file's image series (`series`, else looked up as
/// `dicom::find_series` says) and the grid of the other volume of the pair (`reference`, on which an
/// RTSTRUCT without series is rasterised). Other formats ignore both.
///
/// # Errors
/// As [`read_labels`].
pub fn read_labels_on(
    path: &Path,
    options: &ReadOptions,
    series: Option<&Path>,
    reference: Option<&Grid>,
) -> Result<LabelVolume, Error> {
    #[cfg(feature = "dicom")]
    if matches!(case_id(path), Some((_, Format::Dicom))) {
        // The DICOM reader names both ROIs of an RTSTRUCT overlap.
        return dicom::read_dicom_labels(path, series, reference, &options.dicom);
    }
    read_label_file_on(path, options, series, reference)?.into_label_volume(path)
}

/// Reads a segmentation file with its label names and, where its structures overlap, its layers (see
/// [`LabelFile`]), choosing the reader by file name.
///
/// Names come from the file: a NIfTI header extension holding a label table (TotalSegmentator's class map), a
/// DICOM-SEG's `SegmentLabel`, an RTSTRUCT's `ROIName`, a 3D Slicer segmentation's `Segment<N>_Name`. Several
/// layers come from a DICOM-SEG or RTSTRUCT whose segments overlap, from a 4D (multi-channel) NIfTI, MetaImage or
/// NRRD, and from a 3D Slicer segmentation with several layers.
///
/// # Errors
/// As [`read_labels`], without [`Error::OverlappingSegments`].
pub fn read_label_file(path: &Path, options: &ReadOptions) -> Result<LabelFile, Error> {
    read_label_file_on(path, options, None, None)
}

/// [`read_label_file`] with a DICOM file's series and reference grid, as [`read_labels_on`].
///
/// # Errors
/// As [`read_label_file`].
pub fn read_label_file_on(
    path: &Path,
    options: &ReadOptions,
    series: Option<&Path>,
    reference: Option<&Grid>,
) -> Result<LabelFile, Error> {
    let _ = (options, series, reference);
    match case_id(path).map(|(_, f)| f) {
        #[cfg(feature = "nifti")]
        Some(Format::Nifti) => read_nifti_file(path),
        #[cfg(feature = "npy")]
        Some(Format::Npy) => read_npy(path, &options.npy).map(LabelFile::single),
        #[cfg(feature = "dicom")]
        Some(Format::Dicom) => dicom::read_dicom_file(path, series, reference, &options.dicom),
        #[cfg(feature = "metaimage")]
        Some(Format::MetaImage) => read_metaimage_file(path),
        #[cfg(feature = "nrrd")]
        Some(Format::Nrrd) => read_nrrd_file(path),
        #[allow(unreachable_patterns, reason = "reachable when a reader feature is off")]
        Some(f) => Err(Error::Unsupported {
            path: path.to_path_buf(),
            detail: format!("{f:?} files (this build of segauge-io lacks the feature)"),
        }),
        None => Err(Error::Unsupported {
            path: path.to_path_buf(),
            detail: "file name does not end in .nii, .nii.gz, .npy, .dcm, .mha, .mhd, .nrrd or .nhdr".into(),
        }),
    }
}
