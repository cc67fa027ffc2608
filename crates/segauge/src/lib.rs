//! segauge: evaluate medical image segmentations against ground truth, and say exactly what was computed.
//!
//! This facade re-exports the layers and turns on the batteries (parallel evaluation, NIfTI and `.npy` readers).
//! Use a layer crate directly when you need only that layer: [`io`] to read label volumes, [`metrics`] for the
//! metric definitions, [`lesion`] for per-lesion detection, [`stats`] for bootstrap intervals, paired tests and
//! rankings of per-case numbers, [`report`] for data-set evaluation and output formats.
//!
//! # Overview
//! - [`evaluate`] (and [`evaluate_models`] for several models): cases in, [`Results`] out, with
//!   [`Results::summary`], [`Results::by_subgroup`], [`Results::to_html`], [`Results::to_csv`],
//!   [`Results::to_json`].
//! - [`evaluate_dirs`]: a folder of predictions against a folder of ground truths, per case only.
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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use segauge_io as io;
pub use segauge_lesion as lesion;
pub use segauge_metrics as metrics;
pub use segauge_report as report;
pub use segauge_stats as stats;

pub use segauge_report::{
    AggregateOptions, Case, CaseResult, DataSet, EvalOptions, Evaluation, Failure, InfPolicy, Report,
    compare, pair_dirs,
};

/// Evaluates every case of `pred_dir` against `gt_dir` (paired by case id), per case only (no aggregates).
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
    Ok(report::evaluate(&pair_dirs(pred_dir, gt_dir)?, options, &|| {}))
}

/// What [`evaluate`] computes: the per-case options and the aggregate options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Metrics per case (surface, lesions, labels, reading).
    pub eval: EvalOptions,
    /// Aggregates (bootstrap, inf policy, subgroups).
    pub aggregate: AggregateOptions,
}

/// A data set evaluated and aggregated: per-case results, intervals, subgroups, comparisons.
#[derive(Debug, Clone)]
pub struct Results {
    /// Everything computed.
    pub report: Report,
    /// The per-case options used (the outputs state them).
    pub options: EvalOptions,
    /// The ground-truth folder, when the cases came from one (written into the JSON).
    pub gt_dir: Option<PathBuf>,
}

/// Evaluates `cases` (one model) and aggregates every metric with a bootstrap confidence interval, per subgroup of
/// the cases' metadata.
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
/// let dice = results.report.summary.iter().find(|e| e.metric == "dice" && e.label == 1).unwrap();
/// assert!(dice.ci_low <= dice.estimate && dice.estimate <= dice.ci_high);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// Invalid aggregate options ([`report::Error::Aggregate`]); per-case problems are failures, not errors.
pub fn evaluate(cases: Vec<Case>, options: &Options) -> Result<Results, report::Error> {
    evaluate_models(vec![("pred".to_string(), cases)], options)
}

/// Several models on the same ground truth: [`evaluate`] per model, plus paired comparisons (mean difference
/// with interval, Wilcoxon and Holm-adjusted p) and ranking stability.
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_models(
    models: Vec<(String, Vec<Case>)>,
    options: &Options,
) -> Result<Results, report::Error> {
    let mut metadata: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut runs = Vec::new();
    let mut gt_dirs = std::collections::BTreeSet::new();
    for (name, mut cases) in models {
        cases.sort_by(|a, b| a.id.cmp(&b.id));
        for c in &cases {
            if !c.metadata.is_empty() {
                metadata.insert(c.id.clone(), c.metadata.clone());
            }
            if let Some(dir) = c.gt.as_ref().and_then(|g| g.parent()) {
                gt_dirs.insert(dir.to_path_buf());
            }
        }
        let evaluation = report::evaluate(&DataSet { cases, failures: vec![] }, &options.eval, &|| {});
        runs.push(report::ModelRun { name, evaluation });
    }
    let report = report::aggregate(runs, metadata, &options.eval, &options.aggregate)?;
    let gt_dir = if gt_dirs.len() == 1 { gt_dirs.pop_first() } else { None };
    Ok(Results { report, options: options.eval.clone(), gt_dir })
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

    /// Writes the self-contained HTML report, whole or not at all (see [`io::write_atomically`]).
    ///
    /// # Errors
    /// [`report::Error::Io`] when `path` is an input of these results ([`io::check_outputs`]) or cannot be
    /// written; an existing file is then left as it was.
    pub fn to_html(&self, path: &Path) -> Result<(), report::Error> {
        self.write(path, "to_html", |w| text(w, path, &report::report_html(&self.report, &self.options)))
    }

    /// Writes the per-case CSV (one row per case and label, and per failure), whole or not at all.
    ///
    /// # Errors
    /// As [`Results::to_html`].
    pub fn to_csv(&self, path: &Path) -> Result<(), report::Error> {
        let several = self.report.models.len() > 1;
        let models: Vec<(Option<&str>, &Evaluation)> =
            self.report.models.iter().map(|m| (several.then_some(m.name.as_str()), &m.evaluation)).collect();
        self.write(path, "to_csv", |w| report::write_cases_csv(&models, &self.options, w, path))
    }

    /// Writes the results JSON (schema `segauge-eval/2`), whole or not at all.
    ///
    /// # Errors
    /// As [`Results::to_html`].
    pub fn to_json(&self, path: &Path) -> Result<(), report::Error> {
        let json = report::report_json(&self.report, self.gt_dir.as_deref(), &self.options);
        self.write(path, "to_json", |w| text(w, path, &json))
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
        inputs.extend(self.gt_dir.as_deref().map(io::Input::Folder));
        io::check_outputs(&[(what, path)], &inputs)?;
        io::write_atomically(path, fill)
    }
}

fn text(w: &mut dyn std::io::Write, path: &Path, text: &str) -> Result<(), report::Error> {
    w.write_all(text.as_bytes())
        .map_err(|e| report::Error::Write { path: path.to_path_buf(), detail: e.to_string() })
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
        assert!(std::fs::read_to_string(&out).unwrap().starts_with("case,label,dice"));
    }
}
