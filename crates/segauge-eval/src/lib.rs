//! The evaluation pipeline of segauge: cases in, per-case records and data-set aggregates out, with no output
//! format (segauge-report renders a [`Report`]).
//!
//! # Overview
//! - [`run`]: the one entry point of a data-set evaluation, called by the CLI, the facade and the Python package:
//!   [`Inputs`] (each model's [`DataSet`], the case metadata) and [`Options`] in, a [`Report`] out, with a
//!   [`Progress`] callback.
//! - Its two steps, usable on their own: [`evaluate`] (per case: every case becomes a [`CaseResult`] or a
//!   [`Failure`] with a one-line reason) and [`aggregate`] (bootstrap intervals, subgroups, paired comparisons,
//!   rankings).
//! - [`compare`]: one prediction against its ground truth; [`compare_volumes`]: the same for two volumes in
//!   memory; [`pair_dirs`] and [`pair_dirs_with`]: two folders paired into cases (recursive discovery of files,
//!   MONAI's `case/case_seg.nii.gz`, folders of per-structure masks, or `{case}` patterns).
//! - Sharded runs: a [`Plan`] splits the cases into [`Shard`]s that separate processes evaluate
//!   ([`Plan::evaluate_shard`], one [`CaseRecord`] per case as it finishes); [`Plan::merge`] turns the stored
//!   records into the [`Report`] of one run, bit for bit (see the `shard` module).
//! - [`Convention`]: the settings of another tool (MeshMetrics, DeepMind, medpy, MONAI, nnU-Net) as a preset.
//! - [`Catalogue`] and [`Metric`]: every metric's key, name, unit, direction and aggregation, the single source
//!   every writer uses.
//! - [`Structure`]: what a row is about, a label (with its name), a region ([`Region`], a union of labels) or a
//!   named mask of a folder of per-structure masks; [`LabelRef`] selects one by number or name;
//!   [`DatasetLabels`] reads the names, regions and ignore label of an nnU-Net `dataset.json`. Names come from the
//!   options and the files (see the `structures` module) and must agree.
//!
//! # Semantics
//! A case's side is a segmentation file (label layers and names, [`segauge_io::LabelFile`]) or a folder of masks.
//! Plain label maps are counted in one pass; regions, overlapping layers and folders of masks are measured on
//! binary masks, with the same numbers for the same voxels. A prediction and its ground truth must share one grid (shape, spacing, origin, direction, within
//! [`segauge_io::GridTolerance`]); otherwise the case fails, it is never resampled silently. Dice and IoU come
//! from exact voxel counts ([`segauge_metrics`]); volumes are in mm³, distances in mm. Per-case records and
//! failures, per-case [`Outcome`]s and the [`Plan`] of a sharded run derive serde's traits, so that partial
//! results can be stored and merged by any format (segauge-report writes them as JSON lines).
//!
//! # Example
//! ```
//! # let dir = tempfile::tempdir()?;
//! # let (pred, gt) = (dir.path().join("p.nii"), dir.path().join("g.nii"));
//! # segauge_tests::Nifti::u8([4, 1, 1], [1.0, 1.0, 2.0], vec![1, 1, 0, 0]).write(&pred)?;
//! # segauge_tests::Nifti::u8([4, 1, 1], [1.0, 1.0, 2.0], vec![0, 1, 1, 0]).write(&gt)?;
//! use segauge_eval::{compare, EvalOptions};
//! let result = compare(&pred, &gt, &EvalOptions::default())?;
//! assert_eq!(result.labels[0].dice(), 0.5);
//! assert_eq!(result.labels[0].volume_gt_mm3(), 4.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Feature flags
//! - `parallel`: cases and voxel counts on all cores (rayon); results are identical without it.
//! - `nifti`, `npy`, `dicom`: the readers of segauge-io.
#![deny(missing_docs)]

mod aggregate;
mod catalogue;
mod convention;
mod measure;
mod options;
mod pairing;
mod pipeline;
mod shard;
mod sides;
mod structures;

pub use aggregate::{
    Estimate, EstimateKind, ModelRank, ModelRun, PairedComparison, Ranking, Report, StratumTotals,
    SubgroupEstimate, aggregate, resample_scope,
};
pub use catalogue::{ALL as ALL_METRICS, Aggregation, Better, Catalogue, Metric, Unit, Value};
pub use convention::{CONVENTIONS, Convention};
pub use measure::{
    Case, CaseResult, DataSet, Evaluation, Failure, LabelResult, MAX_REASON_BYTES, Measurement, Outcome,
    assemble, check_selection, compare, compare_files, compare_volumes, evaluate, measure_case,
    structures_never_seen,
};
pub use options::{AggregateOptions, EvalOptions, InfPolicy, Metadata, Options};
pub use pairing::{MAX_DEPTH, PairOptions, first_names, pair_dirs, pair_dirs_with, require_pairs};
pub use pipeline::{Inputs, Progress, run};
pub use shard::{CaseRecord, MAX_SHARDS, ModelOutcome, Plan, Shard};
pub use structures::{DatasetLabels, LabelRef, LabelSources, Region, Structure, dataset_json_near};

/// Errors of evaluation: invalid options, and the errors of reading and measuring one pair ([`compare`]).
///
/// In a data set ([`run`], [`evaluate`]) a pair's error is a [`Failure`], not an error.
///
/// # How to fix
/// The message names the option or the file and the problem; see [`segauge_io::Error`] for input files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An option is outside its accepted range.
    #[error("invalid option: {detail}")]
    InvalidOption {
        /// The option, its value and what is accepted.
        detail: String,
    },
    /// The structures of a case cannot be matched: label names that disagree, a selected name that no side has,
    /// a mask file that is no structure of the other side.
    #[error("{detail}")]
    Structures {
        /// What disagrees, naming the files.
        detail: String,
    },
    /// Reading an input failed, or the two grids differ.
    #[error(transparent)]
    Io(#[from] segauge_io::Error),
    /// A metric could not be computed.
    #[error(transparent)]
    Metrics(#[from] segauge_metrics::Error),
    /// Lesion detection failed.
    #[error(transparent)]
    Lesion(#[from] segauge_lesion::Error),
    /// An interval, test or ranking could not be computed.
    #[error("cannot aggregate: {0}")]
    Stats(#[from] segauge_stats::Error),
}
