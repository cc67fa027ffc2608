//! The one evaluation pipeline: models' cases in, a [`Report`] out. Every front end (the CLI, the facade, the
//! Python package) calls [`run`], so the same inputs give the same report byte for byte whichever is used.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::Error;
use crate::aggregate::{ModelRun, Report, aggregate};
use crate::measure::{DataSet, evaluate};
use crate::options::{Metadata, Options};

/// What a data-set evaluation reads: one data set per model (all against the same ground truths), the case
/// metadata (a table, and each [`Case`](crate::Case)'s own, which wins), and where the ground truths came from
/// (written into the outputs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    /// `(model name, its cases)`, in the order the outputs list them. One model is conventionally named `pred`.
    pub models: Vec<(String, DataSet)>,
    /// Case id → column → value, for subgroups (cases without an entry have no values).
    pub metadata: Metadata,
    /// The ground-truth folder, when the cases came from one.
    pub gt_dir: Option<PathBuf>,
}

impl Inputs {
    /// The number of cases to evaluate, over all models.
    pub fn total_cases(&self) -> usize {
        self.models.iter().map(|(_, d)| d.cases.len()).sum()
    }
}

/// Where a run is: `done` of `total` cases evaluated (over all models).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Cases evaluated so far.
    pub done: usize,
    /// Cases in the run.
    pub total: usize,
}

/// Evaluates every case of every model, then aggregates: the whole of `segauge eval`.
///
/// Options are checked before any file is read. `progress` is called after each case, from the worker threads
/// (in any order); it must be cheap. Per-case problems are failures in the report, never errors.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # segauge_tests::write_example(dir.path())?;
/// # let (pred, gt) = (dir.path().join("pred"), dir.path().join("gt"));
/// use segauge_eval::{Inputs, Options, pair_dirs, run};
/// let inputs = Inputs { models: vec![("pred".into(), pair_dirs(&pred, &gt)?)], ..Default::default() };
/// let mut options = Options::default();
/// options.aggregate.resamples = 999;
/// let report = run(inputs, &options, &|p| assert!(p.done <= p.total))?;
/// let dice = report.summary.iter().find(|e| e.metric == segauge_eval::Metric::Dice && e.structure.label == Some(1)).unwrap();
/// assert!(dice.ci_low <= dice.estimate && dice.estimate <= dice.ci_high);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for invalid options (before any work); [`Error::Stats`] if an interval cannot be
/// formed.
pub fn run(inputs: Inputs, options: &Options, progress: &(dyn Fn(Progress) + Sync)) -> Result<Report, Error> {
    let mut inputs = inputs;
    // A case's own metadata joins the table (and wins over it).
    for (_, data) in &inputs.models {
        for case in data.cases.iter().filter(|c| !c.metadata.is_empty()) {
            inputs.metadata.insert(case.id.clone(), case.metadata.clone());
        }
    }
    options.validate(&inputs.metadata)?;
    for (_, data) in &inputs.models {
        crate::measure::check_selection(data, &options.eval)?;
    }
    let total = inputs.total_cases();
    let done = AtomicUsize::new(0);
    let tick = || progress(Progress { done: done.fetch_add(1, Ordering::Relaxed) + 1, total });
    let mut runs = Vec::with_capacity(inputs.models.len());
    for (name, mut data) in inputs.models {
        data.cases.sort_by(|a, b| a.id.cmp(&b.id));
        let evaluation = evaluate(&data, &options.eval, &tick)?;
        runs.push(ModelRun { name, evaluation });
    }
    aggregate(runs, inputs.metadata, inputs.gt_dir, options)
}
