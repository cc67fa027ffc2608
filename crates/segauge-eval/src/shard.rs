//! Sharded evaluation: a data set split into N shards that separate processes (job-array tasks, pods, Dask
//! workers) evaluate, each case stored as it finishes ([`CaseRecord`]), then merged into the [`Report`] of one run.
//!
//! A [`Plan`] is what every shard computes alike from the same inputs and options: the models' cases, the
//! per-case options, each case's size, and the assignment of cases to shards. [`Plan::evaluate_shard`] measures
//! one shard's cases; [`Plan::merge`] assembles stored records exactly as [`run`](crate::run) assembles its own,
//! so the merged report is the report of one run, bit for bit.
//!
//! **Architecture Invariant:** a case's stored record is its [`Outcome`], which depends on that case and the
//! options alone. Everything that depends on other cases (the data set's label names, its structures, the rows a
//! case gets for structures it lacks, the aggregates) is computed at the merge by the code a single run uses
//! ([`assemble`], [`aggregate`]). That is why the shards need not see each other and why merging can be exact.
//!
//! **Architecture Invariant:** the assignment is a function of the plan alone (case ids and sizes, N), never of
//! the order or the time in which cases finish, so every shard, a rerun and the merge agree on it.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::Error;
use crate::aggregate::{ModelRun, Report, aggregate};
use crate::measure::{Case, DataSet, Failure, Outcome, assemble, check_selection, measure_resolved};
use crate::options::{AggregateOptions, EvalOptions, Metadata, Options};
use crate::pipeline::Inputs;

/// The K-th of N shards, 1 ≤ K ≤ N (`"2/3"` is the second of three).
///
/// ```
/// use segauge_eval::Shard;
/// let s: Shard = "2/3".parse()?;
/// assert_eq!((s.index, s.count), (2, 3));
/// assert_eq!(s.to_string(), "2/3");
/// assert!("0/3".parse::<Shard>().is_err() && "4/3".parse::<Shard>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// K, from 1.
    pub index: usize,
    /// N, at least 1.
    pub count: usize,
}

/// The largest number of shards (far more than there are nodes to run them on).
pub const MAX_SHARDS: usize = 100_000;

impl FromStr for Shard {
    type Err = Error;

    fn from_str(text: &str) -> Result<Shard, Error> {
        let bad = || Error::InvalidOption {
            detail: format!("shard {text:?}: expected K/N with 1 ≤ K ≤ N ≤ {MAX_SHARDS}, e.g. 2/8"),
        };
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if index == 0 || index > count || count > MAX_SHARDS {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What one model's case became: the model's name and the case's [`Outcome`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelOutcome {
    /// The model's name.
    pub model: String,
    /// The case as measured, or its failure.
    pub outcome: Outcome,
}

/// One case of a sharded run: its outcome for every model that has it (a line of a partial file).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CaseRecord {
    /// The case id.
    pub case: String,
    /// Each model's outcome, in the plan's model order.
    pub models: Vec<ModelOutcome>,
}

/// Everything the shards of one run share: the models' cases, the per-case options, the ground-truth folder and
/// each case's size (bytes of its files), which the assignment to shards balances.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    /// `(model name, its cases)`, as [`Inputs::models`], each data set's cases sorted by id.
    pub models: Vec<(String, DataSet)>,
    /// The per-case options (as given; they are resolved where used).
    pub options: EvalOptions,
    /// The ground-truth folder, written into the outputs.
    pub gt_dir: Option<PathBuf>,
    /// Case id → bytes of its files (the ground truth and every model's prediction; 0 for volumes in memory).
    pub sizes: BTreeMap<String, u64>,
}

impl Plan {
    /// The plan of `inputs` evaluated with `options`: the options are checked (and every name `options.labels`
    /// selects, see [`check_selection`]), the cases sorted, and each case's files sized.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for invalid options.
    pub fn new(inputs: Inputs, options: &EvalOptions) -> Result<Plan, Error> {
        options.validate()?;
        let mut models = inputs.models;
        for (_, data) in &mut models {
            check_selection(data, options)?;
            data.cases.sort_by(|a, b| a.id.cmp(&b.id));
        }
        let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
        let mut gt_seen = std::collections::BTreeSet::new();
        for (_, data) in &models {
            for case in &data.cases {
                let size = sizes.entry(case.id.clone()).or_insert(0);
                if case.volumes.is_some() {
                    continue;
                }
                *size += case.pred.as_deref().map_or(0, bytes);
                if let Some(gt) = case.gt.as_deref().filter(|g| gt_seen.insert(g.to_path_buf())) {
                    *size += bytes(gt);
                }
            }
        }
        // A case's own metadata joins the cases (it is stored with them); the table is given at the merge.
        Ok(Plan { models, options: options.clone(), gt_dir: inputs.gt_dir, sizes })
    }

    /// The number of distinct case ids to evaluate (over all models).
    pub fn case_count(&self) -> usize {
        self.sizes.len()
    }

    /// The shard (K, from 1) of every case id among `count` shards: the largest cases first (ties by id), each
    /// to the shard with the fewest bytes so far (ties: the fewest cases, then the lowest K). With sizes unknown
    /// (all 0) this deals the sorted ids round-robin.
    ///
    /// ```
    /// use segauge_eval::{Plan, EvalOptions};
    /// let mut plan = Plan { models: vec![], options: EvalOptions::default(), gt_dir: None, sizes: Default::default() };
    /// plan.sizes.extend([("a".into(), 10), ("b".into(), 6), ("c".into(), 5), ("d".into(), 0)]);
    /// let of = plan.assignment(2);
    /// // a (10 bytes) to 1, b (6) to 2, c (5) to 2 (6 < 10 bytes so far), d (0) to 1 (10 < 11).
    /// assert_eq!([of["a"], of["b"], of["c"], of["d"]], [1, 2, 2, 1]);
    /// ```
    pub fn assignment(&self, count: usize) -> BTreeMap<&str, usize> {
        let count = count.max(1);
        let mut order: Vec<(&str, u64)> = self.sizes.iter().map(|(id, s)| (id.as_str(), *s)).collect();
        order.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let mut loads: BinaryHeap<Reverse<(u64, usize, usize)>> =
            (1..=count).map(|k| Reverse((0, 0, k))).collect();
        let mut out = BTreeMap::new();
        for (id, size) in order {
            let Some(Reverse((bytes, cases, k))) = loads.pop() else { break };
            out.insert(id, k);
            loads.push(Reverse((bytes.saturating_add(size), cases + 1, k)));
        }
        out
    }

    /// The case ids of `shard`, largest first (the order it evaluates them in, to keep its threads busy).
    pub fn cases_of(&self, shard: Shard) -> Vec<&str> {
        let of = self.assignment(shard.count);
        let mut ids: Vec<&str> =
            of.into_iter().filter(|(_, k)| *k == shard.index).map(|(id, _)| id).collect();
        ids.sort_by(|a, b| self.sizes[*b].cmp(&self.sizes[*a]).then_with(|| a.cmp(b)));
        ids
    }

    /// Measures one case for every model that has it.
    pub fn evaluate_case(&self, id: &str) -> CaseRecord {
        let options = self.options.resolved();
        self.record(id, &options)
    }

    fn record(&self, id: &str, resolved: &EvalOptions) -> CaseRecord {
        let models = self
            .models
            .iter()
            .filter_map(|(name, data)| {
                let case = find(&data.cases, id)?;
                Some(ModelOutcome { model: name.clone(), outcome: measure_resolved(case, resolved) })
            })
            .collect();
        CaseRecord { case: id.to_string(), models }
    }

    /// Evaluates the cases of `shard` that `skip` does not hold (in parallel with the `parallel` feature),
    /// handing each record to `on_record` as soon as it is complete (from the worker threads, one at a time per
    /// thread). The first error of `on_record` stops the shard: cases already started still finish, no further
    /// case starts, and the error is returned. Returns the number of cases recorded.
    ///
    /// # Errors
    /// The first error of `on_record` (the options were checked by [`Plan::new`]).
    pub fn evaluate_shard<E: Send>(
        &self,
        shard: Shard,
        skip: &dyn Fn(&str) -> bool,
        on_record: &(dyn Fn(CaseRecord) -> Result<(), E> + Sync),
    ) -> Result<usize, E> {
        let options = self.options.resolved();
        let todo: Vec<&str> = self.cases_of(shard).into_iter().filter(|id| !skip(id)).collect();
        let one = |id: &&str| on_record(self.record(id, &options));
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            todo.par_iter().try_for_each(one)?;
        }
        #[cfg(not(feature = "parallel"))]
        todo.iter().try_for_each(one)?;
        Ok(todo.len())
    }

    /// The [`Report`] of the stored `records`, identical to that of [`run`](crate::run) on the same inputs and
    /// options: each model's cases assembled from their outcomes, then aggregated with `aggregate` options over
    /// `metadata` (to which each case's own metadata is added, as `run` does). A case no record holds fails with
    /// `missing(case id)` as its reason; when a case is recorded twice, the first record counts.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for invalid options (or subgroup columns the metadata lacks); [`Error::Stats`] if
    /// an interval cannot be formed.
    pub fn merge(
        &self,
        records: impl IntoIterator<Item = CaseRecord>,
        missing: &dyn Fn(&str) -> String,
        metadata: Metadata,
        aggregate_options: &AggregateOptions,
    ) -> Result<Report, Error> {
        let mut metadata = metadata;
        for (_, data) in &self.models {
            for case in data.cases.iter().filter(|c| !c.metadata.is_empty()) {
                metadata.insert(case.id.clone(), case.metadata.clone());
            }
        }
        let options = Options { eval: self.options.clone(), aggregate: aggregate_options.clone() };
        options.validate(&metadata)?;
        let mut stored: BTreeMap<(String, String), Outcome> = BTreeMap::new();
        for record in records {
            for m in record.models {
                stored.entry((m.model, record.case.clone())).or_insert(m.outcome);
            }
        }
        let mut runs = Vec::with_capacity(self.models.len());
        for (name, data) in &self.models {
            let outcomes = data
                .cases
                .iter()
                .map(|case| {
                    stored.remove(&(name.clone(), case.id.clone())).unwrap_or_else(|| {
                        Outcome::Failed(Failure { case: case.id.clone(), error: missing(&case.id) })
                    })
                })
                .collect();
            let evaluation = assemble(data, outcomes, &self.options)?;
            runs.push(ModelRun { name: name.clone(), evaluation });
        }
        aggregate(runs, metadata, self.gt_dir.clone(), &options)
    }
}

/// The case `id` of cases sorted by id.
fn find<'a>(cases: &'a [Case], id: &str) -> Option<&'a Case> {
    cases.binary_search_by(|c| c.id.as_str().cmp(id)).ok().map(|i| &cases[i])
}

/// The bytes of a file, or of the files in a folder of masks and its sub-folders (two levels); 0 when unknown.
fn bytes(path: &Path) -> u64 {
    fn walk(path: &Path, depth: u32) -> u64 {
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => m.len(),
            Ok(m) if m.is_dir() && depth < 3 => std::fs::read_dir(path)
                .map(|entries| entries.flatten().map(|e| walk(&e.path(), depth + 1)).sum())
                .unwrap_or(0),
            _ => 0,
        }
    }
    walk(path, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(sizes: &[(&str, u64)]) -> Plan {
        Plan {
            models: vec![],
            options: EvalOptions::default(),
            gt_dir: None,
            sizes: sizes.iter().map(|(id, s)| (id.to_string(), *s)).collect(),
        }
    }

    #[test]
    fn unknown_sizes_deal_round_robin() {
        let p = plan(&[("a", 0), ("b", 0), ("c", 0), ("d", 0), ("e", 0)]);
        let of = p.assignment(2);
        assert_eq!(of.values().copied().collect::<Vec<_>>(), vec![1, 2, 1, 2, 1]);
        assert_eq!(p.cases_of(Shard { index: 2, count: 2 }), vec!["b", "d"]);
    }

    #[test]
    fn every_case_in_exactly_one_shard() {
        let sizes: Vec<(String, u64)> = (0..50).map(|i| (format!("c{i:02}"), (i * 37 % 11) as u64)).collect();
        let p = plan(&sizes.iter().map(|(a, b)| (a.as_str(), *b)).collect::<Vec<_>>());
        for n in [1, 3, 7, 60] {
            let mut all: Vec<&str> = (1..=n).flat_map(|k| p.cases_of(Shard { index: k, count: n })).collect();
            all.sort_unstable();
            assert_eq!(all, p.sizes.keys().map(String::as_str).collect::<Vec<_>>(), "{n} shards");
        }
    }

    #[test]
    fn shards_parse_and_refuse() {
        assert_eq!("1/1".parse::<Shard>().unwrap(), Shard { index: 1, count: 1 });
        for bad in ["", "1", "1/0", "0/1", "2/1", "a/b", "1/100001"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
