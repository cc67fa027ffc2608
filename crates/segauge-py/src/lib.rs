//! The native part of the `segauge` Python package (`segauge._native`): PyO3 bindings over the facade crate.
//!
//! The Python package (`python/segauge/`) is the public API; this module is its engine, with one function per
//! operation and no Python-side logic of its own:
//! - data sets: `evaluate` and `evaluate_dirs` run the one pipeline (`segauge_eval::run`, the same as
//!   `segauge eval`) and return a [`Report`], whose JSON and CSV are the command's, byte for byte;
//! - sharded runs: `plan`/`plan_dirs` give the shard plan of a data set (`shards::Plan`: one shard into a
//!   partial file, as `segauge eval --shard`, or the merge of records), `evaluate_records` evaluates cases sent
//!   to an executor's worker, `merge` merges partial files (as `segauge merge`);
//! - arrays: `compare_arrays`, `compare_files`, `batch_metrics`, `load`, `load_rtstruct`;
//! - statistics on plain arrays: `bootstrap_ci`, `paired_significance`, `ranking_stability`.
//!
//! **Architecture Invariant:** every number comes from the Rust crates and every output from segauge-report; this
//! crate only converts (options from keyword arguments, numpy arrays to label volumes indexed `[x, y, z]`, errors
//! to the package's exceptions), so the package cannot drift from the command line. Computation runs with the GIL
//! released (`Python::detach`), after the arrays were copied into segauge's layout.

mod arrays;
mod options;
mod shards;
mod stats;

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use segauge::eval::{Inputs, Metadata};

/// Raises the package's exception `name` (defined in `segauge/_errors.py`) with `message`.
fn raise(py: Python<'_>, name: &str, message: String) -> PyErr {
    let class = py.import("segauge._errors").and_then(|m| m.getattr(name));
    match class.and_then(|c| c.call1((message.clone(),))) {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => e,
    }
}

/// The exception of a segauge-io error: the grid check, an output problem, or an input problem.
fn io_error(py: Python<'_>, e: &segauge::io::Error) -> PyErr {
    use segauge::io::Error as E;
    let class = match e {
        E::GridMismatch { .. } => "GridMismatch",
        E::Write { .. } | E::OutputIsInput { .. } | E::OutputUnusable { .. } | E::SameOutput { .. } => {
            "OutputError"
        }
        E::InvalidArray { .. } | E::InvalidGrid { .. } => "OptionError",
        _ => "InputError",
    };
    raise(py, class, e.to_string())
}

/// The exception of an evaluation error.
fn eval_error(py: Python<'_>, e: &segauge::eval::Error) -> PyErr {
    match e {
        segauge::eval::Error::InvalidOption { .. } => raise(py, "OptionError", e.to_string()),
        segauge::eval::Error::Io(io) => io_error(py, io),
        _ => raise(py, "SegaugeError", e.to_string()),
    }
}

/// The exception of an output error.
fn report_error(py: Python<'_>, e: &segauge::report::Error) -> PyErr {
    match e {
        segauge::report::Error::Io(io) => io_error(py, io),
        segauge::report::Error::Metadata { .. } => raise(py, "InputError", e.to_string()),
        _ => raise(py, "OutputError", e.to_string()),
    }
}

/// A data set evaluated and aggregated: `segauge eval`'s results, rendered by the same writers.
#[pyclass(module = "segauge._native", frozen)]
pub struct Report {
    results: segauge::Results,
    /// What the evaluation read, as `(path, is_folder)`: every case file (failed cases too), the prediction and
    /// ground-truth folders, the metadata file and the series root. Outputs are refused over them, as
    /// `segauge eval` refuses them (the results alone know only the evaluated cases and the ground-truth folder).
    inputs: Vec<(PathBuf, bool)>,
}

impl Report {
    /// Refuses `path` as output `what` when it is an input or lies in an input folder.
    fn check_output(&self, py: Python<'_>, what: &str, path: &std::path::Path) -> PyResult<()> {
        use segauge::io::Input;
        let inputs: Vec<Input<'_>> =
            self.inputs.iter().map(|(p, dir)| if *dir { Input::Folder(p) } else { Input::File(p) }).collect();
        segauge::io::check_outputs(&[(what, path)], &inputs).map_err(|e| io_error(py, &e))
    }
}

#[pymethods]
impl Report {
    /// The results JSON (schema `segauge-eval/2`), as `segauge eval --json` writes it.
    fn json(&self) -> String {
        segauge::report::report_json(&self.results.report)
    }

    /// The per-case CSV, as `segauge eval --csv` writes it.
    fn cases_csv(&self, py: Python<'_>) -> PyResult<String> {
        let mut out = Vec::new();
        segauge::report::write_cases_csv(&self.results.report, &mut out, std::path::Path::new("<memory>"))
            .map_err(|e| report_error(py, &e))?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// The per-lesion CSV, as `segauge eval --lesion-csv` writes it.
    fn lesions_csv(&self, py: Python<'_>) -> PyResult<String> {
        let mut out = Vec::new();
        segauge::report::write_lesion_csv(&self.results.report, &mut out, std::path::Path::new("<memory>"))
            .map_err(|e| report_error(py, &e))?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// The plain-text summary table.
    fn summary_text(&self) -> String {
        self.results.summary()
    }

    /// The text table of one metadata column's subgroups (`None` if the column was not sliced).
    fn subgroup_text(&self, column: &str) -> Option<String> {
        self.results.by_subgroup(column)
    }

    /// Every failed case as `(model, case, reason)`.
    fn failures(&self) -> Vec<(String, String, String)> {
        let models = &self.results.report.models;
        models
            .iter()
            .flat_map(|m| {
                m.evaluation.failures.iter().map(move |f| (m.name.clone(), f.case.clone(), f.error.clone()))
            })
            .collect()
    }

    /// Writes the HTML report (refused over an input; whole or not at all).
    fn to_html(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        self.check_output(py, "to_html", &path)?;
        py.detach(|| self.results.to_html(&path)).map_err(|e| report_error(py, &e))
    }

    /// Writes the per-case CSV.
    fn to_csv(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        self.check_output(py, "to_csv", &path)?;
        py.detach(|| self.results.to_csv(&path)).map_err(|e| report_error(py, &e))
    }

    /// Writes the results JSON.
    fn to_json(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        self.check_output(py, "to_json", &path)?;
        py.detach(|| self.results.to_json(&path)).map_err(|e| report_error(py, &e))
    }
}

/// The options of `kwargs` with their label sources applied (a `dataset.json` beside the ground truth unless
/// told otherwise), and every file and folder `inputs` reads, as `(path, is_folder)`, after those of `read` (the
/// files and folders read besides the cases' files): outputs are refused over all of them.
fn prepare(
    py: Python<'_>,
    inputs: &Inputs,
    mut read: Vec<(PathBuf, bool)>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<(options::Parsed, Vec<(PathBuf, bool)>)> {
    let mut parsed = options::parse(py, kwargs)?;
    parsed.structures(inputs.gt_dir.as_deref()).map_err(|e| eval_error(py, &e))?;
    read.extend(parsed.sources.dataset_json.iter().map(|p| (p.clone(), false)));
    for (_, set) in &inputs.models {
        read.extend(set.cases.iter().flat_map(|c| [&c.pred, &c.gt]).flatten().map(|p| (p.clone(), false)));
    }
    read.extend(inputs.gt_dir.iter().map(|d| (d.clone(), true)));
    read.extend(parsed.options.eval.read.dicom.series_root.iter().map(|d| (d.clone(), true)));
    Ok((parsed, read))
}

/// Runs `work` on `threads` worker threads (a pool of its own), or on the global pool when `None`.
fn on_threads<T: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> Result<T, segauge::eval::Error> + Send,
) -> Result<T, segauge::eval::Error> {
    match threads {
        Some(n) => match rayon::ThreadPoolBuilder::new().num_threads(n).build() {
            Ok(pool) => pool.install(work),
            Err(e) => Err(segauge::eval::Error::InvalidOption { detail: format!("threads: {e}") }),
        },
        None => work(),
    }
}

/// Runs the pipeline on `inputs` with the options of `kwargs`, with a progress line on stderr when asked;
/// `read` lists the files and folders read besides the cases' files, as `(path, is_folder)`.
fn run(
    py: Python<'_>,
    inputs: Inputs,
    read: Vec<(PathBuf, bool)>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Report> {
    let (parsed, read) = prepare(py, &inputs, read, kwargs)?;
    let progress = options::Progress::new(parsed.progress, inputs.total_cases());
    let report = py.detach(|| {
        on_threads(parsed.threads, || segauge::eval::run(inputs, &parsed.options, &|p| progress.tick(p.done)))
    });
    progress.finish();
    let report = report.map_err(|e| eval_error(py, &e))?;
    Ok(Report { results: segauge::Results { report }, inputs: read })
}

/// The inputs of `evaluate`'s arguments: `models` is a list of `(name, cases)`, each case a dict with `id`,
/// `pred`, `gt` (paths or arrays), `metadata`, and for arrays `spacing`, `origin`, `direction`, `axes`.
fn case_inputs(
    py: Python<'_>,
    models: Vec<(String, Vec<Bound<'_, PyDict>>)>,
    metadata: Option<Metadata>,
    gt_dir: Option<PathBuf>,
) -> PyResult<Inputs> {
    let mut sets = Vec::with_capacity(models.len());
    for (name, cases) in models {
        let cases = cases.iter().map(|c| arrays::case(py, c)).collect::<PyResult<Vec<_>>>()?;
        sets.push((name, segauge::DataSet { cases, ..Default::default() }));
    }
    Ok(Inputs { models: sets, metadata: metadata.unwrap_or_default(), gt_dir })
}

/// Evaluates the cases of one or more models (see [`case_inputs`]).
#[pyfunction]
#[pyo3(signature = (models, metadata = None, gt_dir = None, **kwargs))]
fn evaluate(
    py: Python<'_>,
    models: Vec<(String, Vec<Bound<'_, PyDict>>)>,
    metadata: Option<Metadata>,
    gt_dir: Option<PathBuf>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Report> {
    run(py, case_inputs(py, models, metadata, gt_dir)?, vec![], kwargs)
}

/// The inputs of folders paired by case id, as `segauge eval --model NAME=DIR … --gt GT_DIR`, and the folders
/// read, as `(path, is_folder)`.
fn dir_inputs(
    py: Python<'_>,
    models: Vec<(String, PathBuf)>,
    gt_dir: PathBuf,
    metadata: Metadata,
    pairing: &segauge::eval::PairOptions,
) -> PyResult<(Inputs, Vec<(PathBuf, bool)>)> {
    let mut read = Vec::new();
    let mut sets = Vec::with_capacity(models.len());
    for (name, dir) in models {
        let data = segauge::eval::pair_dirs_with(&dir, &gt_dir, pairing).map_err(|e| eval_error(py, &e))?;
        // As `segauge eval`: a run that pairs nothing is a mistake, not an empty data set.
        segauge::eval::require_pairs(&data, &dir, &gt_dir)
            .map_err(|e| raise(py, "InputError", e.to_string()))?;
        read.push((dir, true));
        sets.push((name, data));
    }
    Ok((Inputs { models: sets, metadata, gt_dir: Some(gt_dir) }, read))
}

/// Evaluates folders paired by case id, as `segauge eval --model NAME=DIR … --gt GT_DIR [--metadata FILE]`.
/// `metadata` is a CSV file (as `--metadata`), `metadata_map` the same table as a dict.
#[pyfunction]
#[pyo3(signature = (models, gt_dir, metadata = None, metadata_map = None, **kwargs))]
fn evaluate_dirs(
    py: Python<'_>,
    models: Vec<(String, PathBuf)>,
    gt_dir: PathBuf,
    metadata: Option<PathBuf>,
    metadata_map: Option<Metadata>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Report> {
    let mut read: Vec<(PathBuf, bool)> = metadata.iter().map(|p| (p.clone(), false)).collect();
    let metadata = match (metadata, metadata_map) {
        (Some(path), _) => segauge::report::read_metadata(&path).map_err(|e| report_error(py, &e))?,
        (None, map) => map.unwrap_or_default(),
    };
    let pairing = options::parse(py, kwargs)?.pairing;
    let (inputs, folders) = dir_inputs(py, models, gt_dir, metadata, &pairing)?;
    read.extend(folders);
    run(py, inputs, read, kwargs)
}

/// `segauge compare --format json` of two files.
#[pyfunction]
#[pyo3(signature = (pred, gt, pred_series = None, gt_series = None, **kwargs))]
fn compare_files(
    py: Python<'_>,
    pred: PathBuf,
    gt: PathBuf,
    pred_series: Option<PathBuf>,
    gt_series: Option<PathBuf>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    let mut parsed = options::parse(py, kwargs)?;
    parsed.structures(Some(&gt)).map_err(|e| eval_error(py, &e))?;
    let options = segauge::EvalOptions { pred_series, gt_series, ..parsed.options.eval };
    let result = py.detach(|| segauge::compare(&pred, &gt, &options)).map_err(|e| eval_error(py, &e))?;
    Ok(segauge::report::compare_json(&result, &options))
}

/// `segauge compare --format json` of two arrays on one grid.
#[pyfunction]
#[pyo3(signature = (pred, gt, geometry, **kwargs))]
fn compare_arrays(
    py: Python<'_>,
    pred: &Bound<'_, PyAny>,
    gt: &Bound<'_, PyAny>,
    geometry: &Bound<'_, PyDict>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    let mut parsed = options::parse(py, kwargs)?;
    parsed.structures(None).map_err(|e| eval_error(py, &e))?;
    let (p, g) = arrays::pair(py, pred, gt, geometry)?;
    let options = parsed.options.eval;
    let result = py.detach(|| segauge::compare_volumes(&p, &g, &options)).map_err(|e| eval_error(py, &e))?;
    Ok(segauge::report::compare_json(&result, &options))
}

/// The Python package's engine.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Report>()?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate_dirs, m)?)?;
    m.add_function(wrap_pyfunction!(compare_files, m)?)?;
    m.add_function(wrap_pyfunction!(compare_arrays, m)?)?;
    m.add_class::<shards::Plan>()?;
    m.add_function(wrap_pyfunction!(shards::plan, m)?)?;
    m.add_function(wrap_pyfunction!(shards::plan_dirs, m)?)?;
    m.add_function(wrap_pyfunction!(shards::evaluate_records, m)?)?;
    m.add_function(wrap_pyfunction!(shards::merge, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::batch_metrics, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::load, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::load_rtstruct, m)?)?;
    m.add_function(wrap_pyfunction!(stats::bootstrap_ci, m)?)?;
    m.add_function(wrap_pyfunction!(stats::paired_significance, m)?)?;
    m.add_function(wrap_pyfunction!(stats::ranking_stability, m)?)?;
    m.add("OPTIONS", options::names())?;
    m.add("AGGREGATE_OPTIONS", options::AGGREGATE.to_vec())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
