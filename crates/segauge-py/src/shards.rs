//! Sharded runs from Python: the shard plan of a data set ([`Plan`]), one shard written to its partial file (as
//! `segauge eval --shard K/N --partial DIR`), cases evaluated on an executor's worker into record lines
//! ([`evaluate_records`]), and merges: of record lines ([`Plan::merge`]) or of partial files ([`merge`], as
//! `segauge merge`). Records and partial files are segauge-report's, so the command line and the package read each
//! other's files and merge to the same bytes.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use segauge::eval::{Metadata, Shard};
use segauge::report;

use crate::options::AGGREGATE;
use crate::{
    Report, case_inputs, dir_inputs, eval_error, io_error, on_threads, options, prepare, raise, report_error,
};

/// The shard plan of a data set: its models' cases, per-case options and case sizes, and the assignment of cases
/// to shards (`segauge_eval::Plan`), with what it reads (outputs are refused over it).
#[pyclass(module = "segauge._native", frozen)]
pub struct Plan {
    plan: segauge::eval::Plan,
    inputs: Vec<(PathBuf, bool)>,
    threads: Option<usize>,
    progress: bool,
}

/// Shard `k` of `n`, checked.
fn shard(py: Python<'_>, k: usize, n: usize) -> PyResult<Shard> {
    format!("{k}/{n}").parse::<Shard>().map_err(|e| eval_error(py, &e))
}

/// A plan's inputs as `check_outputs` takes them.
fn as_inputs(read: &[(PathBuf, bool)]) -> Vec<segauge::io::Input<'_>> {
    use segauge::io::Input;
    read.iter().map(|(p, dir)| if *dir { Input::Folder(p) } else { Input::File(p) }).collect()
}

/// Refuses option names a merge does not take.
fn aggregate_only(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    for key in kwargs.into_iter().flat_map(|d| d.keys()) {
        let name: String = key.extract()?;
        if !AGGREGATE.contains(&name.as_str()) {
            return Err(raise(
                py,
                "OptionError",
                format!(
                    "invalid option: {name} is a per-case option, fixed when the shards were evaluated; a merge \
                     takes {}",
                    AGGREGATE.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Metadata from a CSV file or a dict, and the file read.
fn metadata_of(
    py: Python<'_>,
    path: Option<PathBuf>,
    map: Option<Metadata>,
) -> PyResult<(Metadata, Option<PathBuf>)> {
    match (path, map) {
        (Some(path), _) => Ok((report::read_metadata(&path).map_err(|e| report_error(py, &e))?, Some(path))),
        (None, map) => Ok((map.unwrap_or_default(), None)),
    }
}

#[pymethods]
impl Plan {
    /// The number of distinct case ids (over all models).
    fn case_count(&self) -> usize {
        self.plan.case_count()
    }

    /// The case ids of shard `k` of `n`, in the order the shard evaluates them.
    fn cases_of(&self, py: Python<'_>, k: usize, n: usize) -> PyResult<Vec<String>> {
        Ok(self.plan.cases_of(shard(py, k, n)?).into_iter().map(str::to_string).collect())
    }

    /// The per-case options, as text for `evaluate_records` on a worker.
    fn options_line(&self, py: Python<'_>) -> PyResult<String> {
        report::options_line(&self.plan.options).map_err(|e| report_error(py, &e))
    }

    /// Every model's file cases as `(model, [(id, pred, gt)])`; an error for cases held in memory.
    #[allow(clippy::type_complexity, reason = "the tuples Python receives")]
    fn file_cases(
        &self,
        py: Python<'_>,
    ) -> PyResult<Vec<(String, Vec<(String, Option<PathBuf>, Option<PathBuf>)>)>> {
        let mut out = Vec::with_capacity(self.plan.models.len());
        for (name, data) in &self.plan.models {
            let mut cases = Vec::with_capacity(data.cases.len());
            for c in &data.cases {
                if c.volumes.is_some() {
                    return Err(raise(
                        py,
                        "SegaugeError",
                        format!("case {}: held in memory, not in files", c.id),
                    ));
                }
                cases.push((c.id.clone(), c.pred.clone(), c.gt.clone()));
            }
            out.push((name.clone(), cases));
        }
        Ok(out)
    }

    /// Evaluates shard `k` of `n` into its partial file in `dir`, as `segauge eval --shard K/N --partial DIR
    /// [--resume]`: returns `(path, recorded, already recorded, bytes cut off an incomplete last line)`.
    #[pyo3(signature = (dir, k, n, resume = false))]
    fn write_shard(
        &self,
        py: Python<'_>,
        dir: PathBuf,
        k: usize,
        n: usize,
        resume: bool,
    ) -> PyResult<(PathBuf, usize, usize, u64)> {
        let shard = shard(py, k, n)?;
        let created = !dir.exists();
        std::fs::create_dir_all(&dir).map_err(|e| {
            raise(py, "OutputError", format!("partial {}: cannot create the folder: {e}", dir.display()))
        })?;
        // As the command line: the folder may not touch an input (the writer decides about an existing file).
        let probe = dir.join(".segauge-partial-probe");
        if let Err(e) = segauge::io::check_outputs(&[("partial", &probe)], &as_inputs(&self.inputs)) {
            if created {
                let _ = std::fs::remove_dir(&dir);
            }
            return Err(io_error(py, &e));
        }
        let (writer, resumed) =
            report::PartialWriter::open(&dir, &self.plan, shard, resume).map_err(|e| report_error(py, &e))?;
        let path = writer.path().to_path_buf();
        let todo = self.plan.cases_of(shard).iter().filter(|id| !resumed.done.contains(**id)).count();
        let progress = options::Progress::new(self.progress, todo);
        let done = std::sync::atomic::AtomicUsize::new(0);
        let writer = std::sync::Mutex::new(writer);
        let recorded = py.detach(|| {
            on_threads(self.threads, || {
                let written = self.plan.evaluate_shard(shard, &|id| resumed.done.contains(id), &|record| {
                    let mut w = writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    w.append(&record)?;
                    progress.tick(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
                    Ok::<(), report::Error>(())
                });
                Ok(written)
            })
        });
        progress.finish();
        let recorded = recorded.map_err(|e| eval_error(py, &e))?.map_err(|e| report_error(py, &e))?;
        Ok((path, recorded, resumed.done.len(), resumed.cut))
    }

    /// The report of record lines (from `evaluate_records`, any order), identical to one run's: cases no line
    /// records fail with `not evaluated: no record` (a worker's result was lost). `metadata` is a CSV file,
    /// `metadata_map` the same table as a dict; `kwargs` are aggregate options.
    #[pyo3(signature = (records, metadata = None, metadata_map = None, **kwargs))]
    fn merge(
        &self,
        py: Python<'_>,
        records: Vec<String>,
        metadata: Option<PathBuf>,
        metadata_map: Option<Metadata>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Report> {
        aggregate_only(py, kwargs)?;
        let parsed = options::parse(py, kwargs)?;
        let (metadata, metadata_file) = metadata_of(py, metadata, metadata_map)?;
        let records = records
            .iter()
            .map(|line| report::read_record_line(line))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| report_error(py, &e))?;
        let missing = |_: &str| "not evaluated: no record (a worker's result was lost)".to_string();
        let report = py.detach(|| {
            on_threads(parsed.threads, || {
                self.plan.merge(records, &missing, metadata, &parsed.options.aggregate)
            })
        });
        let report = report.map_err(|e| eval_error(py, &e))?;
        let mut inputs = self.inputs.clone();
        inputs.extend(metadata_file.map(|p| (p, false)));
        Ok(Report { results: segauge::Results { report }, inputs })
    }
}

/// The plan of cases (as `evaluate` takes them) with the per-case options of `kwargs`.
#[pyfunction]
#[pyo3(signature = (models, gt_dir = None, **kwargs))]
pub(crate) fn plan(
    py: Python<'_>,
    models: Vec<(String, Vec<Bound<'_, PyDict>>)>,
    gt_dir: Option<PathBuf>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Plan> {
    let inputs = case_inputs(py, models, None, gt_dir)?;
    new_plan(py, inputs, vec![], kwargs)
}

/// The plan of folders paired by case id (as `evaluate_dirs` pairs them) with the per-case options of `kwargs`.
#[pyfunction]
#[pyo3(signature = (models, gt_dir, **kwargs))]
pub(crate) fn plan_dirs(
    py: Python<'_>,
    models: Vec<(String, PathBuf)>,
    gt_dir: PathBuf,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Plan> {
    let pairing = options::parse(py, kwargs)?.pairing;
    let (inputs, read) = dir_inputs(py, models, gt_dir, Metadata::default(), &pairing)?;
    new_plan(py, inputs, read, kwargs)
}

fn new_plan(
    py: Python<'_>,
    inputs: segauge::eval::Inputs,
    read: Vec<(PathBuf, bool)>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Plan> {
    let (parsed, read) = prepare(py, &inputs, read, kwargs)?;
    let plan = py
        .detach(|| segauge::eval::Plan::new(inputs, &parsed.options.eval))
        .map_err(|e| eval_error(py, &e))?;
    Ok(Plan { plan, inputs: read, threads: parsed.threads, progress: parsed.progress })
}

/// Evaluates cases (as `evaluate` takes them) with the per-case options of `options_line` (from
/// `Plan.options_line`, so every worker uses the driver's options exactly): one record line per case id. The
/// driver checked the options and the selection; this only measures.
#[pyfunction]
#[pyo3(signature = (options_line, models, gt_dir = None, threads = None))]
pub(crate) fn evaluate_records(
    py: Python<'_>,
    options_line: &str,
    models: Vec<(String, Vec<Bound<'_, PyDict>>)>,
    gt_dir: Option<PathBuf>,
    threads: Option<usize>,
) -> PyResult<Vec<String>> {
    let options = report::read_options_line(options_line).map_err(|e| report_error(py, &e))?;
    let mut inputs = case_inputs(py, models, None, gt_dir)?;
    let mut sizes = std::collections::BTreeMap::new();
    for (_, data) in &mut inputs.models {
        data.cases.sort_by(|a, b| a.id.cmp(&b.id));
        sizes.extend(data.cases.iter().map(|c| (c.id.clone(), 0)));
    }
    let plan = segauge::eval::Plan { models: inputs.models, options, gt_dir: inputs.gt_dir, sizes };
    let lines = std::sync::Mutex::new(Vec::with_capacity(plan.case_count()));
    let all = Shard { index: 1, count: 1 };
    let done = py.detach(|| {
        on_threads(threads, || {
            Ok(plan.evaluate_shard(all, &|_| false, &|record| {
                let line = report::record_line(&record)?;
                lines.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(line);
                Ok::<(), report::Error>(())
            }))
        })
    });
    done.map_err(|e| eval_error(py, &e))?.map_err(|e| report_error(py, &e))?;
    Ok(lines.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner))
}

/// Merges the partial files in `dirs`, as `segauge merge DIR… [--metadata FILE]`: returns the report, the notes
/// (e.g. an incomplete last line), the shards without a file and N.
#[pyfunction]
#[pyo3(signature = (dirs, metadata = None, metadata_map = None, **kwargs))]
pub(crate) fn merge(
    py: Python<'_>,
    dirs: Vec<PathBuf>,
    metadata: Option<PathBuf>,
    metadata_map: Option<Metadata>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<(Report, Vec<String>, Vec<usize>, usize)> {
    aggregate_only(py, kwargs)?;
    let parsed = options::parse(py, kwargs)?;
    let (metadata, metadata_file) = metadata_of(py, metadata, metadata_map)?;
    let partials = py.detach(|| report::read_partials(&dirs)).map_err(|e| report_error(py, &e))?;
    let missing: Vec<usize> = (1..=partials.shards).filter(|k| !partials.present.contains(k)).collect();
    let report = py.detach(|| {
        on_threads(parsed.threads, || {
            partials.plan.merge(
                partials.records.iter().cloned(),
                &|id| partials.missing_reason(id),
                metadata,
                &parsed.options.aggregate,
            )
        })
    });
    let report = report.map_err(|e| eval_error(py, &e))?;
    let mut inputs: Vec<(PathBuf, bool)> = dirs.iter().map(|d| (d.clone(), true)).collect();
    inputs.extend(metadata_file.map(|p| (p, false)));
    let notes = partials.notes.iter().map(|n| report::printable(n).into_owned()).collect();
    let report = Report { results: segauge::Results { report }, inputs };
    Ok((report, notes, missing, partials.shards))
}
