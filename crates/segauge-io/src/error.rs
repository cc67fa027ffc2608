//! The error type of segauge-io: every variant names the file it is about.

use std::path::PathBuf;

/// Errors from reading a label volume or building a grid.
///
/// Each message is one line that starts with the file's path and says what is wrong with it.
///
/// # How to fix
/// The message names the header field or voxel at fault; most files that fail here were written by a tool that
/// does not follow the format (fix the writer) or are not label maps (probability maps must be thresholded first).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file ends before the data its header announces, or its compressed stream is cut or corrupt.
    #[error("{}: truncated or corrupt: {detail}", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What was expected and found.
        detail: String,
    },
    /// The file is not of the format its name says.
    #[error("{}: not a {format} file: {detail}", path.display())]
    NotFormat {
        /// The file.
        path: PathBuf,
        /// The expected format.
        format: &'static str,
        /// Why it is not.
        detail: String,
    },
    /// The file is valid but uses a feature segauge does not read.
    #[error("{}: unsupported: {detail}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The feature.
        detail: String,
    },
    /// A header field is invalid (dimensions, spacing, affine, scaling).
    #[error("{}: invalid header: {detail}", path.display())]
    InvalidHeader {
        /// The file.
        path: PathBuf,
        /// The field and its value.
        detail: String,
    },
    /// A voxel value is not a label (fractional, not finite, or larger than 4 294 967 295).
    #[error("{}: voxel ({}, {}, {}) holds {value}, which is not an integer label{hint}", path.display(), voxel[0], voxel[1], voxel[2])]
    NotALabel {
        /// The file.
        path: PathBuf,
        /// The first offending voxel's index (i, j, k).
        voxel: [usize; 3],
        /// Its value after scaling.
        value: f64,
        /// A hint on the likely cause.
        hint: &'static str,
    },
    /// The spacing of a `.npy` file is not known.
    #[error("{}: spacing unknown: write a sidecar {} with {{\"spacing\": [sx, sy, sz]}} or give the spacing (--spacing)", path.display(), sidecar.display())]
    MissingSpacing {
        /// The file.
        path: PathBuf,
        /// Where the sidecar would be.
        sidecar: PathBuf,
    },
    /// An in-memory array cannot be a label volume (its shape is not the grid's, or a value is not a label).
    #[error("invalid array: {detail}")]
    InvalidArray {
        /// What is wrong.
        detail: String,
    },
    /// A grid (shape, spacing, origin, direction) is invalid.
    #[error("invalid grid: {reason}")]
    InvalidGrid {
        /// What is wrong.
        reason: String,
    },
    /// A file's grid is invalid (as [`Error::InvalidGrid`], with the file).
    #[error("{}: invalid grid: {reason}", path.display())]
    InvalidFileGrid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A folder read as one DICOM series holds images of more than one series.
    #[error("{}: holds more than one DICOM series: {a} and {b}; give a folder with one series", path.display())]
    MixedSeries {
        /// The folder.
        path: PathBuf,
        /// The first series UID (and a file of it).
        a: String,
        /// Another series UID (and a file of it).
        b: String,
    },
    /// Two segments of a segmentation share voxels, so they do not fit in one label volume.
    #[error("{}: segments {a} and {b} overlap in {voxels} voxels; a label volume holds one label per voxel, read the segments apart", path.display())]
    OverlappingSegments {
        /// The segmentation file.
        path: PathBuf,
        /// The first segment number.
        a: u16,
        /// The second segment number.
        b: u16,
        /// Voxels in both.
        voxels: usize,
    },
    /// An output file could not be created, written, synced or renamed into place (nothing was written: an
    /// existing file is left as it was).
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The output file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// An output path is, or resolves to, an input file or a path inside an input folder.
    #[error("{what} {}: refusing to write {relation} {}", output.display(), input.display())]
    OutputIsInput {
        /// The output's name (e.g. its command-line flag).
        what: String,
        /// The output path as given.
        output: PathBuf,
        /// The input it resolves to or lies in.
        input: PathBuf,
        /// How they meet: `over the input`, `inside the input folder`, `over a hard link into the input folder`.
        relation: &'static str,
    },
    /// An output cannot be written where it is asked for: its folder is missing or read-only, or it is a folder.
    #[error("{what} {}: cannot write there: {detail}", path.display())]
    OutputUnusable {
        /// The output's name (e.g. its command-line flag).
        what: String,
        /// The output path as given.
        path: PathBuf,
        /// What the operating system said.
        detail: String,
    },
    /// Two outputs resolve to the same file.
    #[error("{a} and {b}: two outputs resolve to the same file")]
    SameOutput {
        /// The first output (name and path).
        a: String,
        /// The second output (name and path).
        b: String,
    },
    /// Two volumes that must share a grid do not.
    #[error("{} vs {}: {mismatch}", a.display(), b.display())]
    GridMismatch {
        /// First file (the prediction, by convention).
        a: PathBuf,
        /// Second file (the ground truth).
        b: PathBuf,
        /// The difference.
        mismatch: Box<crate::GridMismatch>,
    },
}

impl Error {
    #[cfg(any(feature = "nifti", feature = "npy", feature = "dicom"))]
    /// Attaches a path to a path-less [`Error::InvalidGrid`]; other variants pass through.
    pub(crate) fn in_file(self, path: &std::path::Path) -> Error {
        match self {
            Error::InvalidGrid { reason } => Error::InvalidFileGrid { path: path.to_path_buf(), reason },
            other => other,
        }
    }
}
