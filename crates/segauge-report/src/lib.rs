//! Evaluation of a data set of segmentations, case by case, its aggregates, and its outputs (HTML, CSV, JSON,
//! text).
//!
//! # Overview
//! - [`compare`]: one prediction against its ground truth, every label.
//! - [`pair_dirs`] and [`evaluate`]: a data set paired by case id, evaluated in parallel; every case ends
//!   up in [`Evaluation::cases`] or, with a one-line reason, in [`Evaluation::failures`].
//! - [`aggregate`]: one or more models' evaluations in, a [`Report`] out: every metric and label with a
//!   bootstrap interval ([`Estimate`]), per subgroup of the case metadata, lesion detection per size stratum,
//!   and for several models paired comparisons and ranking stability.
//! - Writers: [`report_html`] (one self-contained file), [`report_json`] (schema [`SCHEMA`]),
//!   [`write_cases_csv`], [`write_summary_csv`], [`write_lesion_csv`], [`summary_text`]; for one pair
//!   [`compare_json`] and [`compare_table`]; [`read_metadata`] reads the case metadata CSV.
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

mod aggregate;
mod csv_write;
mod dataset;
mod eval;
mod html;
mod output;
mod svg;

use std::path::PathBuf;

pub use aggregate::{
    AggregateOptions, Estimate, EstimateKind, InfPolicy, ModelRank, ModelRun, PairedComparison, Ranking,
    Report, StratumTotals, SubgroupEstimate, aggregate,
};
pub use dataset::{
    LESION_COLUMNS, SCHEMA, read_metadata, report_json, subgroup_text, summary_text, write_lesion_csv,
    write_summary_csv,
};
pub use eval::{
    Case, CaseResult, DataSet, EvalOptions, Evaluation, Failure, LabelResult, MAX_REASON_BYTES, compare,
    evaluate, labels_never_seen, pair_dirs,
};
pub use html::report_html;
pub use output::{
    SEGAUGE_VERSION, compare_json, compare_table, csv_columns, eval_json, format_number, percentile_field,
    printable, write_cases_csv, write_eval_csv,
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
    /// The case metadata file is unusable.
    #[error("{}: {detail}", path.display())]
    Metadata {
        /// The metadata file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// Aggregates could not be computed (invalid options).
    #[error("cannot aggregate: {detail}")]
    Aggregate {
        /// What is wrong.
        detail: String,
    },
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
