//! What an evaluation computes: the per-case options ([`EvalOptions`]), the aggregate options
//! ([`AggregateOptions`]), both together ([`Options`]), and the checks that refuse invalid values before any work.

use std::collections::BTreeMap;
use std::path::PathBuf;

use segauge_io::{GridTolerance, ReadOptions};
use segauge_lesion::{LesionOptions, MatchRule};
use segauge_metrics::{BothEmpty, MeshCompat, SurfaceOptions};
use segauge_stats::CiMethod;

use crate::Error;
use crate::convention::Convention;
use crate::structures::{LabelRef, Region};

/// Case metadata: case id → column → value.
pub type Metadata = BTreeMap<String, BTreeMap<String, String>>;

/// What to evaluate per case and how to read the files.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvalOptions {
    /// Whose conventions the metrics follow, stated in every output ([`Convention::eval_options`] gives a
    /// preset's options; a front end then applies the user's individual switches; default `segauge`).
    pub convention: Convention,
    /// The structures to report, by label number or by name (a label's, a region's, a mask file's); label 0 is
    /// the background, every voxel of no other label (MONAI's `include_background`), measured only when listed
    /// and only on label maps. `None`: for
    /// one pair, every non-zero label present in either volume (every mask of a folder) and every region; for a
    /// data set, every structure present in any case, so that a case where a structure is (correctly) absent from
    /// both sides still gets a `both_empty` row.
    pub labels: Option<Vec<LabelRef>>,
    /// Label names (label → name), e.g. from `--label-names` or an nnU-Net `dataset.json`
    /// ([`DatasetLabels`](crate::DatasetLabels)); the files' own names must agree with them.
    pub names: BTreeMap<u32, String>,
    /// Regions: structures that are unions of labels (nnU-Net regions, BraTS' WT/TC/ET).
    pub regions: Vec<Region>,
    /// The ignore label (nnU-Net's `ignore`): voxels of this label in the ground truth leave every count and
    /// surface of both sides.
    pub ignore_label: Option<u32>,
    /// The values of a structure absent from both sides: `one` (Dice, IoU, NSD, BIoU 1, distances 0; default)
    /// or `nan` (every metric undefined, left out of means and counted: nnU-Net, MONAI).
    pub both_empty: BothEmpty,
    /// Reader options (e.g. the spacing of `.npy` files).
    pub read: ReadOptions,
    /// Tolerances of the prediction/ground-truth grid check.
    pub grid_tolerance: GridTolerance,
    /// Surface-distance metrics and their options; `None` computes overlap only.
    pub surface: Option<SurfaceOptions>,
    /// Per-lesion detection of every label and its options; `None` skips it. Under the BraTS 2023 rule with
    /// surface metrics on, per-lesion distances are always computed (the rule's lesion-wise HD needs them):
    /// [`EvalOptions::resolved`].
    pub lesions: Option<LesionOptions>,
    /// The image series of a DICOM prediction (SEG or RTSTRUCT) when it is not found beside the file.
    pub pred_series: Option<PathBuf>,
    /// The image series of a DICOM ground truth.
    pub gt_series: Option<PathBuf>,
}

impl Default for EvalOptions {
    /// Every label present, default reader options and grid tolerances, surface metrics and lesion detection with
    /// their defaults.
    fn default() -> Self {
        EvalOptions {
            convention: Convention::Segauge,
            labels: None,
            names: BTreeMap::new(),
            regions: Vec::new(),
            ignore_label: None,
            both_empty: BothEmpty::One,
            read: ReadOptions::default(),
            grid_tolerance: GridTolerance::default(),
            surface: Some(SurfaceOptions::default()),
            lesions: Some(LesionOptions::default()),
            pred_series: None,
            gt_series: None,
        }
    }
}

impl EvalOptions {
    /// The options as computed: under the BraTS 2023 rule with surface metrics on, lesion pairs get surface
    /// distances (the surface options with exact arithmetic, as pairs are small boxes cut from the image and
    /// VTK's float32 placement needs the whole grid), so that `lesion_wise_hd95` exists however the options
    /// were built.
    ///
    /// ```
    /// use segauge_eval::EvalOptions;
    /// use segauge_lesion::{LesionOptions, MatchRule};
    /// let brats = LesionOptions { rule: MatchRule::Brats2023, ..Default::default() };
    /// let options = EvalOptions { lesions: Some(brats), ..Default::default() };
    /// assert!(options.lesions.as_ref().unwrap().surface.is_none());
    /// assert!(options.resolved().lesions.unwrap().surface.is_some());
    /// ```
    pub fn resolved(&self) -> EvalOptions {
        let mut out = self.clone();
        // One rule for both-empty structures, in the overlap scores and every surface computation.
        if let Some(s) = &mut out.surface {
            s.both_empty = self.both_empty;
        }
        if let (Some(l), Some(s)) = (&mut out.lesions, &self.surface) {
            if l.rule == MatchRule::Brats2023 && l.surface.is_none() {
                l.surface = Some(SurfaceOptions {
                    mesh_compat: MeshCompat::Exact,
                    both_empty: self.both_empty,
                    ..s.clone()
                });
            }
        }
        out
    }

    /// Checks every option.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the option and its accepted range.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(labels) = &self.labels {
            if labels.is_empty() {
                return Err(Error::InvalidOption {
                    detail: "labels must be a non-empty list of label numbers or names".into(),
                });
            }
            if let Some(i) = self.ignore_label.filter(|i| labels.contains(&LabelRef::Number(*i))) {
                return Err(Error::InvalidOption {
                    detail: format!("label {i} is both selected and ignored"),
                });
            }
        }
        crate::structures::validate(&self.names, &self.regions, self.ignore_label)?;
        if let Some(s) = &self.surface {
            s.validate().map_err(invalid)?;
        }
        if let Some(l) = &self.lesions {
            l.validate().map_err(invalid)?;
            if let Some(s) = &l.surface {
                s.validate().map_err(invalid)?;
            }
        }
        Ok(())
    }
}

/// A lower layer's option error as this crate's, its message said once (`invalid option: tau …`, not
/// `invalid option: invalid option: tau …`).
fn invalid(e: impl std::fmt::Display) -> Error {
    let text = e.to_string();
    let detail = text.strip_prefix("invalid option: ").map_or_else(|| text.clone(), str::to_string);
    Error::InvalidOption { detail }
}

/// How non-finite per-case values enter aggregates (docs/METHODS.md C.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InfPolicy {
    /// Distances: +inf (a missed or invented structure) becomes the cap; NaN values are left out and counted.
    #[default]
    Cap,
    /// Non-finite values are left out (optimistic; counted).
    Omit,
    /// Non-finite values make the mean non-finite (diagnostics).
    Propagate,
}

impl InfPolicy {
    /// The policy's name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            InfPolicy::Cap => "cap",
            InfPolicy::Omit => "omit",
            InfPolicy::Propagate => "propagate",
        }
    }
}

/// Options of the data-set aggregates.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateOptions {
    /// Bootstrap replicates B (default 9999).
    pub resamples: usize,
    /// Interval method (default BCa).
    pub method: CiMethod,
    /// Confidence level (default 0.95).
    pub level: f64,
    /// Master seed of the random streams (default 0).
    pub seed: u64,
    /// The inf/NaN policy (default cap).
    pub inf_policy: InfPolicy,
    /// The cap of infinite distances, mm; `None` (default): each case's physical image diagonal.
    pub hd_cap: Option<f64>,
    /// Metadata columns to slice by; `None` (default): every column.
    pub subgroups: Option<Vec<String>>,
    /// The data-set name in random-stream scopes (default `eval`).
    pub dataset: String,
    /// Add the foreground mean over structures of every mean metric (nnU-Net's `foreground_mean`, docs/METHODS.md
    /// C.7) as an estimate with its interval; always on under [`Convention::NnUnet`] (default off).
    pub foreground_mean: bool,
}

impl Default for AggregateOptions {
    fn default() -> Self {
        AggregateOptions {
            resamples: segauge_stats::DEFAULT_RESAMPLES,
            method: CiMethod::Bca,
            level: 0.95,
            seed: 0,
            inf_policy: InfPolicy::Cap,
            hd_cap: None,
            subgroups: None,
            dataset: "eval".into(),
            foreground_mean: false,
        }
    }
}

impl AggregateOptions {
    /// The interval settings every aggregate is bootstrapped with: a degenerate BCa interval stays NaN and is
    /// flagged `degenerate`, never replaced by a percentile interval.
    pub(crate) fn bootstrap(&self) -> segauge_stats::BootstrapOptions {
        segauge_stats::BootstrapOptions {
            method: self.method,
            level: self.level,
            bca_fallback_percentile: false,
        }
    }

    /// Checks every option but the subgroup columns (see [`AggregateOptions::subgroup_columns`]).
    ///
    /// # Errors
    /// [`Error::InvalidOption`]: no resample, a level outside (0, 1), a cap that is not a positive number of mm.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |detail: String| Err(Error::InvalidOption { detail });
        if self.resamples == 0 {
            return bad("the number of bootstrap resamples must be at least 1".into());
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return bad(format!("confidence level {} is not in (0, 1)", self.level));
        }
        if let Some(c) = self.hd_cap {
            if !(c.is_finite() && c > 0.0) {
                return bad(format!("distance cap {c} must be a positive number of mm"));
            }
        }
        Ok(())
    }

    /// The metadata columns sliced into subgroups: those of [`AggregateOptions::subgroups`], else every column
    /// of `metadata`. Call it before evaluating to catch a misspelt column early.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming a requested column that no case has, and the columns there are.
    pub fn subgroup_columns(&self, metadata: &Metadata) -> Result<Vec<String>, Error> {
        let all: std::collections::BTreeSet<&String> = metadata.values().flat_map(|m| m.keys()).collect();
        match &self.subgroups {
            Some(cols) => match cols.iter().find(|c| !all.contains(c)) {
                Some(c) => Err(Error::InvalidOption {
                    detail: format!(
                        "subgroup column {c:?} is not in the metadata (columns: {})",
                        all.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                }),
                None => Ok(cols.clone()),
            },
            None => Ok(all.into_iter().cloned().collect()),
        }
    }

    /// An upper estimate of the memory (bytes) the aggregates need for `n_cases` cases per model, `n_models`
    /// models and `n_columns` metadata columns sliced into subgroups, on `threads` worker threads.
    ///
    /// Every case set keeps its resample matrix (B × n indices of 4 bytes) until the end: each model's
    /// evaluated cases, the cases all models share, and per column the subgroups, which partition the cases.
    /// Each metric row being computed holds B replicates (8 bytes, twice for ratios), a ranking B ranks per
    /// model. Use it to refuse a `resamples` that cannot fit before evaluating anything.
    ///
    /// ```
    /// let options = segauge_eval::AggregateOptions { resamples: 1000, ..Default::default() };
    /// // One model, 100 cases, no metadata: matrices 2 × 1000 × 100 × 4 bytes, replicates 1000 × 8 × (2 × 1 + 2).
    /// assert_eq!(options.memory_estimate(100, 1, 0, 1), 800_000 + 32_000);
    /// ```
    pub fn memory_estimate(&self, n_cases: usize, n_models: usize, n_columns: usize, threads: usize) -> u64 {
        let b = self.resamples as u64;
        let (n, m, c, t) = (n_cases as u64, n_models.max(1) as u64, n_columns as u64, threads.max(1) as u64);
        let matrices = 4u64.saturating_mul(b).saturating_mul(n).saturating_mul(m * (1 + c) + 1);
        let replicates = 8u64.saturating_mul(b).saturating_mul(2 * t + 2 * m);
        matrices.saturating_add(replicates)
    }
}

/// Everything an evaluation computes: per case and over the data set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// Per-case metrics (labels, surface, lesions, reading).
    pub eval: EvalOptions,
    /// Aggregates (bootstrap, inf policy, subgroups).
    pub aggregate: AggregateOptions,
}

impl Options {
    /// Checks every option against `metadata` (the subgroup columns must exist).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the option.
    pub fn validate(&self, metadata: &Metadata) -> Result<(), Error> {
        self.eval.validate()?;
        self.aggregate.validate()?;
        self.aggregate.subgroup_columns(metadata).map(|_| ())
    }
}
