//! segauge: evaluate medical image segmentations against ground truth, and say exactly what was computed.
//!
//! This facade re-exports the layers and turns on the batteries (parallel evaluation, every reader). Use a layer
//! crate directly when you need only that layer: [`io`] to read label volumes, [`metrics`] for the metric
//! definitions, [`lesion`] for per-lesion detection, [`stats`] for bootstrap intervals, paired tests and rankings
//! of per-case numbers, [`eval`] for the evaluation pipeline, [`report`] for the output formats.
//!
//! # Overview
//! - [`evaluate_dirs`]: a folder of predictions against a folder of ground truths, as `segauge eval` does.
//! - [`evaluate`] (and [`evaluate_models`] for several models): cases in, [`Results`] out, with
//!   [`Results::summary`], [`Results::by_subgroup`], [`Results::to_html`], [`Results::to_csv`],
//!   [`Results::to_json`].
//! - [`compare`]: one pair of files; [`compare_volumes`]: two volumes in memory, e.g. from ndarray arrays
//!   ([`io::LabelVolume::from_array`], indexed `[x, y, z]` whatever the memory order).
//!
//! # Semantics
//! Units are mm; Dice and IoU come from exact integer voxel counts; empty masks follow MeshMetrics (both empty 1,
//! one empty 0) with an `empty_state` beside every row. Failed cases are reported, never dropped. The
//! definitions are in the repository's `docs/METHODS.md`.
//!
//! # Example
//! ```
//! # let dir = tempfile::tempdir()?;
//! # segauge_tests::write_example(dir.path())?;
//! let (pred, gt) = (dir.path().join("pred"), dir.path().join("gt"));
//! let mut options = segauge::Options::default();
//! options.aggregate.resamples = 999;
//! let results = segauge::evaluate_dirs(&pred, &gt, &options)?;
//! assert_eq!(results.failures().count(), 0);
//! for case in results.cases() {
//!     for label in &case.labels {
//!         assert!((0.0..=1.0).contains(&label.dice()));
//!     }
//! }
//! print!("{}", results.summary()); // every metric with its 95 % interval
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! In memory, arrays indexed `[x, y, z]` (a C-ordered ndarray or numpy array is fine as it is; a `[z, y, x]`
//! array from SimpleITK goes in as `.t()`):
//! ```
//! use ndarray::Array3;
//! use segauge::io::{Grid, LabelVolume};
//! let grid = Grid::new([32, 32, 16], [0.8, 0.8, 1.5])?; // shape and spacing (mm) in x, y, z order
//! let ball = |r: f64| {
//!     Array3::from_shape_fn((32, 32, 16), |(x, y, z)| {
//!         let (dx, dy, dz) = (x as f64 - 16.0, y as f64 - 16.0, (z as f64 - 8.0) * 1.5 / 0.8);
//!         u8::from(dx * dx + dy * dy + dz * dz <= r * r)
//!     })
//! };
//! let (pred, gt) = (ball(9.0), ball(10.0));
//! let pred = LabelVolume::from_array(pred.view(), grid.clone())?;
//! let gt = LabelVolume::from_array(gt.view(), grid)?;
//! let result = segauge::compare_volumes(&pred, &gt, &segauge::EvalOptions::default())?;
//! let label = &result.labels[0];
//! assert!(label.dice() > 0.8 && label.dice() < 1.0);
//! // Radii 9 and 10 voxels of 0.8 mm: the surfaces are 0.8 mm apart, give or take the voxel discretisation.
//! let hd = label.surface.as_ref().unwrap().hd;
//! assert!(hd > 0.4 && hd < 1.6, "{hd}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Feature flags
//! - `parallel` (default): cases and voxel counts on all cores.
//! - `nifti`, `npy`, `dicom` (all default): input formats.
//! - `ndarray` (default): in-memory volumes from ndarray views.
#![deny(missing_docs)]

use std::path::{Path, PathBuf};

pub use segauge_eval as eval;
pub use segauge_io as io;
pub use segauge_lesion as lesion;
pub use segauge_metrics as metrics;
pub use segauge_report as report;
pub use segauge_stats as stats;

pub use segauge_eval::{
    AggregateOptions, Case, CaseResult, Catalogue, DataSet, EvalOptions, Evaluation, Failure, InfPolicy,
    LabelResult, Metric, Options, Report, compare, compare_volumes, pair_dirs,
};

/// A data set evaluated and aggregated: per-case results, intervals, subgroups, comparisons, and the writers.
#[derive(Debug, Clone)]
pub struct Results {
    /// Everything computed, with the options and the metric catalogue.
    pub report: Report,
}

/// Evaluates `cases` (one model, named `pred`) and aggregates every metric with a bootstrap confidence interval,
/// per subgroup of the cases' metadata.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # segauge_tests::write_example(dir.path())?;
/// # let (pred, gt) = (dir.path().join("pred"), dir.path().join("gt"));
/// let mut cases = segauge::pair_dirs(&pred, &gt)?.cases;
/// for (i, case) in cases.iter_mut().enumerate() {
///     case.metadata.insert("scanner".into(), if i % 2 == 0 { "A" } else { "B" }.into());
/// }
/// let mut options = segauge::Options::default();
/// options.aggregate.resamples = 999;
/// let results = segauge::evaluate(cases, &options)?;
/// assert!(results.summary().contains("dice"));
/// assert!(results.by_subgroup("scanner").unwrap().contains("B"));
/// let dice = results.report.summary.iter().find(|e| e.metric == segauge::Metric::Dice && e.structure.label == Some(1)).unwrap();
/// assert!(dice.ci_low <= dice.estimate && dice.estimate <= dice.ci_high);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`eval::Error::InvalidOption`] for invalid options, before any file is read; per-case problems are
/// failures, not errors.
pub fn evaluate(cases: Vec<Case>, options: &Options) -> Result<Results, eval::Error> {
    evaluate_models(vec![("pred".to_string(), cases)], options)
}

/// Several models on the same ground truth: [`evaluate`] per model, plus paired comparisons (mean difference
/// with interval, Wilcoxon and Holm-adjusted p) and ranking stability.
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_models(models: Vec<(String, Vec<Case>)>, options: &Options) -> Result<Results, eval::Error> {
    let gt_dirs: std::collections::BTreeSet<PathBuf> = models
        .iter()
        .flat_map(|(_, cases)| cases.iter().filter_map(|c| c.gt.as_ref()?.parent().map(Path::to_path_buf)))
        .collect();
    let gt_dir = if gt_dirs.len() == 1 { gt_dirs.into_iter().next() } else { None };
    let models =
        models.into_iter().map(|(name, cases)| (name, DataSet { cases, ..DataSet::default() })).collect();
    let inputs = eval::Inputs { models, metadata: Default::default(), gt_dir };
    Ok(Results { report: eval::run(inputs, options, &|_| {})? })
}

/// Evaluates every case of `pred_dir` against `gt_dir` (paired by case id) and aggregates, as `segauge eval
/// --pred pred_dir --gt gt_dir` does (the same report, byte for byte).
///
/// Cases whose partner is missing, whose files cannot be read or whose grids differ are failures.
///
/// # Errors
/// When a directory cannot be listed, or [`evaluate`]'s errors.
pub fn evaluate_dirs(pred_dir: &Path, gt_dir: &Path, options: &Options) -> Result<Results, eval::Error> {
    let inputs = eval::Inputs {
        models: vec![("pred".to_string(), pair_dirs(pred_dir, gt_dir)?)],
        metadata: Default::default(),
        gt_dir: Some(gt_dir.to_path_buf()),
    };
    Ok(Results { report: eval::run(inputs, options, &|_| {})? })
}

impl Results {
    /// A plain-text table of every metric with its estimate and confidence interval.
    pub fn summary(&self) -> String {
        report::summary_text(&self.report)
    }

    /// The same per value of a metadata column (`None` if the column was not sliced).
    pub fn by_subgroup(&self, column: &str) -> Option<String> {
        report::subgroup_text(&self.report, column)
    }

    /// Every evaluated case of every model.
    pub fn cases(&self) -> impl Iterator<Item = &CaseResult> {
        self.report.models.iter().flat_map(|m| m.evaluation.cases.iter())
    }

    /// Every case that could not be evaluated, with its reason.
    pub fn failures(&self) -> impl Iterator<Item = &Failure> {
        self.report.models.iter().flat_map(|m| m.evaluation.failures.iter())
    }

    /// Writes the self-contained HTML report, whole or not at all (see [`io::write_atomically`]).
    ///
    /// # Errors
    /// [`report::Error::Io`] when `path` is an input of these results ([`io::check_outputs`]) or cannot be
    /// written; an existing file is then left as it was.
    pub fn to_html(&self, path: &Path) -> Result<(), report::Error> {
        self.write(path, "to_html", |w| text(w, path, &report::report_html(&self.report)))
    }

    /// Writes the per-case CSV (one row per case and label, and per failure), whole or not at all.
    ///
    /// # Errors
    /// As [`Results::to_html`].
    pub fn to_csv(&self, path: &Path) -> Result<(), report::Error> {
        self.write(path, "to_csv", |w| report::write_cases_csv(&self.report, w, path))
    }

    /// Writes the results JSON (schema `segauge-eval/2`), whole or not at all.
    ///
    /// # Errors
    /// As [`Results::to_html`].
    pub fn to_json(&self, path: &Path) -> Result<(), report::Error> {
        self.write(path, "to_json", |w| report::write_report_json(&self.report, w, path))
    }

    /// Refuses `path` when it is one of the evaluated files or lies in the ground-truth folder, then writes it
    /// atomically.
    fn write(
        &self,
        path: &Path,
        what: &str,
        fill: impl FnOnce(&mut dyn std::io::Write) -> Result<(), report::Error>,
    ) -> Result<(), report::Error> {
        let models = &self.report.models;
        let cases = models.iter().flat_map(|m| m.evaluation.cases.iter());
        let mut inputs: Vec<io::Input<'_>> =
            cases.flat_map(|c| [io::Input::File(&c.pred), io::Input::File(&c.gt)]).collect();
        inputs.extend(self.report.gt_dir.as_deref().map(io::Input::Folder));
        io::check_outputs(&[(what, path)], &inputs)?;
        io::write_atomically(path, fill)
    }
}

fn text(w: &mut dyn std::io::Write, path: &Path, text: &str) -> Result<(), report::Error> {
    w.write_all(text.as_bytes()).map_err(|source| report::Error::Write { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_never_written_over_an_input() {
        let dir = tempfile::tempdir().unwrap();
        segauge_tests::write_example(dir.path()).unwrap();
        let (pred, gt) = (dir.path().join("pred"), dir.path().join("gt"));
        let cases = pair_dirs(&pred, &gt).unwrap().cases;
        let options = Options {
            aggregate: AggregateOptions { resamples: 99, ..Default::default() },
            ..Default::default()
        };
        let results = evaluate(cases, &options).unwrap();
        let input = pred.join("case_001.nii.gz");
        let before = std::fs::read(&input).unwrap();
        for write in [Results::to_csv, Results::to_json, Results::to_html] {
            let err = write(&results, &input).unwrap_err().to_string();
            assert!(err.contains("refusing to write over the input"), "{err}");
            assert!(
                write(&results, &gt.join("new.csv"))
                    .unwrap_err()
                    .to_string()
                    .contains("inside the input folder")
            );
        }
        assert_eq!(std::fs::read(&input).unwrap(), before);
        let out = dir.path().join("cases.csv");
        results.to_csv(&out).unwrap();
        assert!(std::fs::read_to_string(&out).unwrap().starts_with("case,label,name,dice"));
    }
}
