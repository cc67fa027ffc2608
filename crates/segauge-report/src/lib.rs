//! Evaluation of a data set of segmentations, case by case, and its outputs (CSV, JSON, text).
//!
//! # Overview
//! - [`compare`]: one prediction against its ground truth, every label.
//! - [`pair_dirs`] and [`evaluate`]: a data set paired by case id, evaluated in parallel; every case ends
//!   up in [`Evaluation::cases`] or, with a one-line reason, in [`Evaluation::failures`].
//! - [`compare_json`], [`eval_json`], [`write_eval_csv`], [`compare_table`]: the documented output formats.
//!
//! # Semantics
//! A prediction and its ground truth must share one grid (shape, spacing, origin, direction, within
//! [`segauge_io::GridTolerance`]); otherwise the case fails, it is never resampled silently. Dice and IoU come
//! from exact voxel counts ([`segauge_metrics`]); volumes are in mm³. Non-finite numbers are written as the
//! strings `inf`, `-inf`, `nan`. This is the only crate that knows serialisation formats.
//!
//! # Example
//! ```
//! # let dir = tempfile::tempdir()?;
//! # let (pred, gt) = (dir.path().join("p.nii"), dir.path().join("g.nii"));
//! # segauge_tests::Nifti::u8([4, 1, 1], [1.0, 1.0, 2.0], vec![1, 1, 0, 0]).write(&pred)?;
//! # segauge_tests::Nifti::u8([4, 1, 1], [1.0, 1.0, 2.0], vec![0, 1, 1, 0]).write(&gt)?;
//! use segauge_report::{compare, EvalOptions};
//! let result = compare(&pred, &gt, &EvalOptions::default())?;
//! assert_eq!(result.labels[0].dice(), 0.5);
//! assert_eq!(result.labels[0].volume_gt_mm3(), 4.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Feature flags
//! - `parallel`: cases and voxel counts on all cores (rayon); outputs are identical without it.
//! - `nifti`, `npy`: the readers of segauge-io.
#![deny(missing_docs)]

mod eval;
mod output;

use std::path::PathBuf;

pub use eval::{
    Case, CaseResult, DataSet, EvalOptions, Evaluation, Failure, LabelResult, compare, evaluate,
    labels_never_seen, pair_dirs,
};
pub use output::{
    SEGAUGE_VERSION, compare_json, compare_table, csv_columns, eval_json, format_number, percentile_field,
    write_eval_csv,
};

/// Errors of evaluation and output.
///
/// # How to fix
/// The message names the file and the problem; see [`segauge_io::Error`] for input files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading an input failed, or the two grids differ.
    #[error(transparent)]
    Io(#[from] segauge_io::Error),
    /// A metric could not be computed.
    #[error(transparent)]
    Metrics(#[from] segauge_metrics::Error),
    /// Lesion detection failed.
    #[error(transparent)]
    Lesion(#[from] segauge_lesion::Error),
    /// Writing an output failed.
    #[error("{}: cannot write: {detail}", path.display())]
    Write {
        /// The output file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
}
