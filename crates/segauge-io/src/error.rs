//! The error type of segauge-io: every variant names the file it is about, and the helpers that keep its messages
//! one bounded line whatever the file holds ([`quote`] for file content, [`one_line`] for other libraries'
//! messages, [`list`] for lists read from a file).

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
    /// A label-definition file (an nnU-Net `dataset.json`) holds an invalid entry.
    #[error("{}: invalid label definitions: {detail}", path.display())]
    InvalidLabels {
        /// The file.
        path: PathBuf,
        /// The entry and what is wrong with it.
        detail: String,
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
    /// Two segments (labels) of a segmentation share voxels, so they do not fit in one label volume (read the
    /// file with [`read_label_file`](crate::read_label_file), which keeps them in separate layers).
    #[error("{}: segments {a} and {b} overlap in {voxels} voxels; a label volume holds one label per voxel, read the segments apart", path.display())]
    OverlappingSegments {
        /// The segmentation file.
        path: PathBuf,
        /// The first segment number (label).
        a: u32,
        /// The second segment number (label).
        b: u32,
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
    /// Attaches a path to a path-less [`Error::InvalidGrid`]; other variants pass through.
    pub(crate) fn in_file(self, path: &std::path::Path) -> Error {
        match self {
            Error::InvalidGrid { reason } => Error::InvalidFileGrid { path: path.to_path_buf(), reason },
            Error::InvalidArray { detail } => Error::InvalidHeader { path: path.to_path_buf(), detail },
            other => other,
        }
    }
}

/// The most bytes of file content that [`quote`] puts in a message.
#[cfg(any(
    feature = "nifti",
    feature = "npy",
    feature = "dicom",
    feature = "metaimage",
    feature = "nrrd",
    feature = "dataset-json"
))]
pub(crate) const QUOTE_MAX: usize = 200;

/// The most bytes that [`one_line`] keeps of another library's message.
#[cfg(any(feature = "nifti", feature = "npy", feature = "dicom", feature = "dataset-json"))]
pub(crate) const LINE_MAX: usize = 400;

/// The most entries that [`list`] shows.
#[cfg(any(feature = "npy", feature = "dicom"))]
pub(crate) const LIST_MAX: usize = 8;

/// File content (a header, a string attribute, a name) quoted for an error message: in double quotes, with double
/// quotes, backslashes, control characters and the Unicode line separators and direction overrides escaped as Rust
/// escapes them (`\"`, `\\`, `\n`, `\u{1b}`, `\u{202e}`), invalid UTF-8 as U+FFFD, and at most [`QUOTE_MAX`]
/// bytes of it; longer content is cut and its length given: `"{'descr': '<u1', …" (104857600 bytes)`. Every
/// message that quotes what a file holds goes through here, so no file can make a message long, break it over
/// lines or reorder what a terminal shows.
#[cfg(any(
    feature = "nifti",
    feature = "npy",
    feature = "dicom",
    feature = "metaimage",
    feature = "nrrd",
    feature = "dataset-json"
))]
pub(crate) fn quote(content: impl AsRef<[u8]>) -> String {
    let content = content.as_ref();
    let head = &content[..content.len().min(QUOTE_MAX)];
    // A character cut by the limit is dropped rather than shown as U+FFFD.
    let head = match std::str::from_utf8(head) {
        Err(e) if e.error_len().is_none() && head.len() < content.len() => &head[..e.valid_up_to()],
        _ => head,
    };
    let text = String::from_utf8_lossy(head);
    let mut out = String::with_capacity(text.len() + 32);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                out.extend(c.escape_unicode())
            }
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    if head.len() < content.len() {
        out.push_str(&format!("…\" ({} bytes)", content.len()));
    } else {
        out.push('"');
    }
    out
}

/// A message from another library (dicom-rs, serde_json, nifti), which may quote the file: control characters
/// escaped so that it stays on one line, and cut after [`LINE_MAX`] bytes (marked with `…`).
#[cfg(any(feature = "nifti", feature = "npy", feature = "dicom", feature = "dataset-json"))]
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(LINE_MAX + 8));
    for (i, c) in text.char_indices() {
        if i >= LINE_MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// At most [`LIST_MAX`] items (numbers, quoted names, sizes) joined with `sep`, then how many were left out:
/// `1, 2, 3, … (97 more)`. For lists whose length comes from a file (shapes, segment names).
#[cfg(any(feature = "npy", feature = "dicom"))]
pub(crate) fn list<T: std::fmt::Display>(items: &[T], sep: &str) -> String {
    let mut out = items.iter().take(LIST_MAX).map(ToString::to_string).collect::<Vec<_>>().join(sep);
    if items.len() > LIST_MAX {
        out.push_str(&format!("{sep}… ({} more)", items.len() - LIST_MAX));
    }
    out
}

#[cfg(all(test, any(feature = "npy", feature = "dicom")))]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_escaped_one_line_and_bounded() {
        assert_eq!(quote("SEG"), "\"SEG\"");
        assert_eq!(quote("a\nb\"c\\"), "\"a\\nb\\\"c\\\\\"");
        assert_eq!(quote(b"\xff\x00"), "\"\u{fffd}\\u{0}\"");
        assert_eq!(quote("it's \u{202e}txt"), "\"it's \\u{202e}txt\"");
        let long = "x".repeat(10_000);
        assert_eq!(quote(&long), format!("\"{}…\" (10000 bytes)", "x".repeat(QUOTE_MAX)));
        // A multi-byte character cut by the limit is dropped, not mangled.
        let accents = "é".repeat(150);
        let q = quote(&accents);
        assert!(q.starts_with(&format!("\"{}…", "é".repeat(QUOTE_MAX / 2))), "{q}");
        assert!(!q.contains('\u{fffd}'), "{q}");
    }

    #[test]
    fn lines_and_lists_are_bounded() {
        assert_eq!(one_line("a\r\nb"), "a\\r\\nb");
        assert_eq!(one_line(&"y".repeat(1000)).len(), LINE_MAX + '…'.len_utf8());
        assert_eq!(list(&[1, 2, 3], ", "), "1, 2, 3");
        let many: Vec<usize> = (0..100).collect();
        assert_eq!(list(&many, ", "), "0, 1, 2, 3, 4, 5, 6, 7, … (92 more)");
    }
}
