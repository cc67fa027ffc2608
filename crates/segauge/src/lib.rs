//! segauge: evaluate medical image segmentations against ground truth, and say exactly what was computed.
//!
//! This facade re-exports the layers and turns on the batteries (parallel evaluation, NIfTI and `.npy` readers).
//! Use a layer crate directly when you need only that layer: [`io`] to read label volumes, [`metrics`] for the
//! metric definitions, [`lesion`] for per-lesion detection, [`stats`] for bootstrap intervals, paired tests and
//! rankings of per-case numbers, [`report`] for data-set evaluation and output formats.
//!
//! # Overview
//! - [`evaluate_dirs`]: a folder of predictions against a folder of ground truths, paired by case id.
//! - [`compare`]: one pair.
//!
//! # Semantics
//! Units are mm; Dice and IoU come from exact integer voxel counts; empty masks follow MeshMetrics (both empty 1,
//! one empty 0) with an `empty_state` beside every row. Failed cases are reported, never dropped.
//!
//! # Example
//! ```
//! # let dir = tempfile::tempdir()?;
//! # segauge_tests::write_example(dir.path())?;
//! let (pred, gt) = (dir.path().join("pred"), dir.path().join("gt"));
//! let eval = segauge::evaluate_dirs(&pred, &gt, &segauge::EvalOptions::default())?;
//! assert!(eval.failures.is_empty());
//! for case in &eval.cases {
//!     for label in &case.labels {
//!         assert!((0.0..=1.0).contains(&label.dice()));
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Feature flags
//! - `parallel` (default): cases and voxel counts on all cores.
//! - `nifti` (default), `npy` (default): input formats.
#![deny(missing_docs)]

use std::path::Path;

pub use segauge_io as io;
pub use segauge_lesion as lesion;
pub use segauge_metrics as metrics;
pub use segauge_report as report;
pub use segauge_stats as stats;

pub use segauge_report::{
    CaseResult, DataSet, EvalOptions, Evaluation, Failure, compare, evaluate, pair_dirs,
};

/// Evaluates every case of `pred_dir` against `gt_dir` (paired by case id).
///
/// Cases whose partner is missing, whose files cannot be read or whose grids differ are in
/// [`Evaluation::failures`]; all others are in [`Evaluation::cases`].
///
/// # Errors
/// Only when a directory cannot be listed; per-case problems are failures, not errors.
pub fn evaluate_dirs(
    pred_dir: &Path,
    gt_dir: &Path,
    options: &EvalOptions,
) -> Result<Evaluation, report::Error> {
    Ok(evaluate(&pair_dirs(pred_dir, gt_dir)?, options, &|| {}))
}
