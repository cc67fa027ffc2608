//! Keyword arguments to options: every option of `segauge eval` under its command-line name with `_` for `-`
//! (`tau=2.0`, `lesion_rule="brats2023"`, `bootstrap=999`), with the same defaults. Values are checked by the
//! library (`Options::validate`), so the ranges and messages are the command line's.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use segauge::eval::{Convention, LabelRef, LabelSources, PairOptions, Region};
use segauge::io::dicom::DicomOptions;
use segauge::io::{Axes, NpyOptions, ReadOptions};
use segauge::lesion::{BratsOptions, Connectivity, LesionOptions, MatchRule};
use segauge::metrics::{
    BothEmpty, MeshCompat, PercentileInterpolation, PercentileRule, Surface, SurfaceOptions,
};
use segauge::{AggregateOptions, InfPolicy, Options};

/// The options that shape only the aggregates (a merge of shards takes these; the per-case options were fixed by
/// the shards).
pub(crate) const AGGREGATE: [&str; 9] = [
    "bootstrap",
    "ci_method",
    "seed",
    "inf_policy",
    "hd_cap",
    "subgroups",
    "foreground_mean",
    "threads",
    "progress",
];

/// The options that shape each case's measurement (those of `segauge eval` and `compare`, plus `lesions`).
pub(crate) const PER_CASE: [&str; 35] = [
    "convention",
    "labels",
    "percentile_interpolation",
    "both_empty",
    "label_names",
    "labels_from",
    "no_dataset_json",
    "region",
    "ignore_label",
    "pred_pattern",
    "gt_pattern",
    "only_predicted",
    "surface",
    "percentile",
    "percentile_rule",
    "tau",
    "mesh_compat",
    "lesions",
    "no_lesions",
    "connectivity",
    "lesion_rule",
    "match_threshold",
    "lesion_strata",
    "min_lesion_voxels",
    "lesion_distances",
    "dilation",
    "min_gt_volume",
    "hd_penalty",
    "spacing",
    "axes",
    "series_root",
    "roi",
    "fractional_threshold",
    "pred_series",
    "gt_series",
];

/// Every option name accepted: [`PER_CASE`], then [`AGGREGATE`].
pub(crate) fn names() -> Vec<&'static str> {
    PER_CASE.iter().chain(&AGGREGATE).copied().collect()
}

/// Options from keyword arguments, and what only the binding uses.
pub(crate) struct Parsed {
    pub(crate) options: Options,
    pub(crate) threads: Option<usize>,
    pub(crate) progress: bool,
    /// Label names, regions and the ignore label given (applied with [`Parsed::structures`]).
    pub(crate) sources: LabelSources,
    /// `no_dataset_json=True`: no `dataset.json` is looked for beside the ground truth.
    pub(crate) no_dataset_json: bool,
    /// How folders pair into cases.
    pub(crate) pairing: PairOptions,
}

impl Parsed {
    /// Applies the label sources, with a `dataset.json` found beside `gt` unless one was given or
    /// `no_dataset_json` (as the command line does).
    pub(crate) fn structures(&mut self, gt: Option<&std::path::Path>) -> Result<(), segauge::eval::Error> {
        if self.sources.dataset_json.is_none() && !self.no_dataset_json {
            self.sources.dataset_json = gt.and_then(segauge::eval::dataset_json_near);
        }
        self.sources.apply(&mut self.options.eval)
    }
}

/// A structure selection: label numbers and names.
fn label_refs(py: Python<'_>, name: &str, v: &Bound<'_, PyAny>) -> PyResult<Vec<LabelRef>> {
    let items: Vec<Bound<'_, PyAny>> = get(py, name, v)?;
    items
        .iter()
        .map(|item| match item.extract::<u32>() {
            Ok(n) => Ok(LabelRef::Number(n)),
            Err(_) => parsed::<LabelRef>(py, name, item),
        })
        .collect()
}

fn bad(py: Python<'_>, name: &str, detail: impl std::fmt::Display) -> PyErr {
    crate::raise(py, "OptionError", format!("invalid option: {name}: {detail}"))
}

/// A value of a named keyword argument, with the option named in the error.
fn get<'py, T: FromPyObjectOwned<'py>>(py: Python<'py>, name: &str, v: &Bound<'py, PyAny>) -> PyResult<T> {
    v.extract::<T>().map_err(|e| bad(py, name, Into::<PyErr>::into(e)))
}

/// A string option parsed by `FromStr`.
fn parsed<T: std::str::FromStr>(py: Python<'_>, name: &str, v: &Bound<'_, PyAny>) -> PyResult<T>
where
    T::Err: std::fmt::Display,
{
    let text: String = get(py, name, v)?;
    text.parse::<T>().map_err(|e| bad(py, name, e))
}

/// One of the listed words.
fn choice<T: Copy>(py: Python<'_>, name: &str, v: &Bound<'_, PyAny>, choices: &[(&str, T)]) -> PyResult<T> {
    let text: String = get(py, name, v)?;
    choices.iter().find(|(k, _)| *k == text).map(|(_, t)| *t).ok_or_else(|| {
        let names: Vec<&str> = choices.iter().map(|(k, _)| *k).collect();
        bad(py, name, format!("{text:?} is not one of {}", names.join(", ")))
    })
}

/// Parses keyword arguments into options; an unknown name is an error that lists the known ones.
pub(crate) fn parse(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Parsed> {
    // The convention first, whatever the order of the arguments: the other options change single settings of it.
    let convention = match kwargs.map(|d| d.get_item("convention")).transpose()?.flatten() {
        Some(v) if !v.is_none() => parsed::<Convention>(py, "convention", &v)?,
        _ => Convention::Segauge,
    };
    // The surface too, so that the switches below apply to the convention's options on that surface.
    let surface_arg = kwargs.map(|d| d.get_item("surface")).transpose()?.flatten();
    let preset = match surface_arg.filter(|v| !v.is_none()) {
        Some(v) if get::<String>(py, "surface", &v)? != "none" => {
            convention.surface_options_for(parsed::<Surface>(py, "surface", &v)?)
        }
        _ => convention.surface_options(),
    };
    let mut surface = Some(preset.clone());
    let mut surface_off = false;
    let mut lesions = LesionOptions::default();
    let mut lesions_on = true;
    let mut lesion_distances = false;
    let mut eval = convention.eval_options();
    let mut npy = NpyOptions::default();
    let mut dicom = DicomOptions::default();
    let mut aggregate = AggregateOptions::default();
    let (mut threads, mut progress) = (None, false);
    let (mut sources, mut no_dataset_json, mut pairing) =
        (LabelSources::default(), false, PairOptions::default());
    let s = |surface: &mut Option<SurfaceOptions>| surface.get_or_insert_with(|| preset.clone()).clone();
    for (key, v) in kwargs.into_iter().flat_map(|d| d.iter()) {
        let name: String = key.extract()?;
        if v.is_none() && name != "surface" {
            continue; // None means the default
        }
        let n = name.as_str();
        match n {
            "convention" => {} // read above
            "foreground_mean" => aggregate.foreground_mean = get(py, n, &v)?,
            "labels" => eval.labels = Some(label_refs(py, n, &v)?),
            "label_names" => {
                let map: std::collections::BTreeMap<u32, String> = get(py, n, &v)?;
                sources.names = map.into_iter().collect();
            }
            "labels_from" => sources.dataset_json = Some(get(py, n, &v)?),
            "no_dataset_json" => no_dataset_json = get(py, n, &v)?,
            "region" => {
                let map: std::collections::BTreeMap<String, Vec<u32>> = get(py, n, &v)?;
                sources.regions = map.into_iter().map(|(name, labels)| Region { name, labels }).collect();
            }
            "ignore_label" => sources.ignore = Some(get(py, n, &v)?),
            "pred_pattern" => pairing.pred_pattern = Some(get(py, n, &v)?),
            "gt_pattern" => pairing.gt_pattern = Some(get(py, n, &v)?),
            "only_predicted" => pairing.only_predicted = get(py, n, &v)?,
            "surface" => {
                if v.is_none() || get::<String>(py, n, &v)? == "none" {
                    surface_off = true;
                } else {
                    // The preset above is already on this surface.
                    surface =
                        Some(SurfaceOptions { surface: parsed::<Surface>(py, n, &v)?, ..s(&mut surface) });
                }
            }
            "percentile" => surface = Some(SurfaceOptions { percentile: get(py, n, &v)?, ..s(&mut surface) }),
            "percentile_rule" => {
                let rule = choice(
                    py,
                    n,
                    &v,
                    &[("directed-max", PercentileRule::DirectedMax), ("pooled", PercentileRule::Pooled)],
                )?;
                surface = Some(SurfaceOptions { percentile_rule: rule, ..s(&mut surface) });
            }
            "tau" => surface = Some(SurfaceOptions { tau: get(py, n, &v)?, ..s(&mut surface) }),
            "percentile_interpolation" => {
                let i = choice(
                    py,
                    n,
                    &v,
                    &[
                        ("inverted-cdf", PercentileInterpolation::InvertedCdf),
                        ("linear", PercentileInterpolation::Linear),
                    ],
                )?;
                surface = Some(SurfaceOptions { interpolation: i, ..s(&mut surface) });
            }
            "both_empty" => {
                let choices = [
                    ("one", BothEmpty::One),
                    ("nan", BothEmpty::Nan),
                    ("deepmind", BothEmpty::DeepMind),
                    ("monai", BothEmpty::Monai),
                ];
                eval.both_empty = choice(py, n, &v, &choices)?
            }
            "mesh_compat" => {
                let compat =
                    choice(py, n, &v, &[("exact", MeshCompat::Exact), ("vtk-f32", MeshCompat::VtkF32)])?;
                surface = Some(SurfaceOptions { mesh_compat: compat, ..s(&mut surface) });
            }
            "lesions" => lesions_on = get(py, n, &v)?,
            "no_lesions" => lesions_on = !get::<bool>(py, n, &v)?,
            "connectivity" => {
                let c: u32 = get(py, n, &v)?;
                lesions.connectivity = c.to_string().parse::<Connectivity>().map_err(|e| bad(py, n, e))?;
            }
            "lesion_rule" => {
                lesions.rule = choice(
                    py,
                    n,
                    &v,
                    &[
                        ("iou", MatchRule::Iou),
                        ("dice", MatchRule::Dice),
                        ("overlap", MatchRule::Overlap),
                        ("brats2023", MatchRule::Brats2023),
                    ],
                )?
            }
            "match_threshold" => lesions.threshold = get(py, n, &v)?,
            "lesion_strata" => lesions.strata_mm = get(py, n, &v)?,
            "min_lesion_voxels" => lesions.min_lesion_voxels = get(py, n, &v)?,
            "lesion_distances" => lesion_distances = get(py, n, &v)?,
            "dilation" => lesions.brats = BratsOptions { dilation: get(py, n, &v)?, ..lesions.brats },
            "min_gt_volume" => {
                lesions.brats = BratsOptions { min_gt_volume_mm3: get(py, n, &v)?, ..lesions.brats }
            }
            "hd_penalty" => lesions.brats = BratsOptions { hd_penalty: get(py, n, &v)?, ..lesions.brats },
            "spacing" => {
                let sp: Vec<f64> = get(py, n, &v)?;
                npy.spacing = Some(<[f64; 3]>::try_from(sp.as_slice()).map_err(|_| {
                    bad(py, n, format!("{} numbers; .npy files without sidecar need 3 (x, y, z)", sp.len()))
                })?);
            }
            "axes" => npy.axes = choice(py, n, &v, &[("xyz", Axes::Xyz), ("zyx", Axes::Zyx)])?,
            "series_root" => dicom.series_root = Some(get(py, n, &v)?),
            "roi" => {
                let map: std::collections::BTreeMap<String, u32> = get(py, n, &v)?;
                dicom.mapping = map.into_iter().collect();
            }
            "fractional_threshold" => dicom.fractional_threshold = get(py, n, &v)?,
            "bootstrap" => aggregate.resamples = get(py, n, &v)?,
            "ci_method" => {
                use segauge::stats::CiMethod;
                aggregate.method = choice(
                    py,
                    n,
                    &v,
                    &[
                        ("bca", CiMethod::Bca),
                        ("percentile", CiMethod::Percentile),
                        ("basic", CiMethod::Basic),
                    ],
                )?
            }
            "seed" => aggregate.seed = get(py, n, &v)?,
            "inf_policy" => {
                aggregate.inf_policy = choice(
                    py,
                    n,
                    &v,
                    &[
                        ("cap", InfPolicy::Cap),
                        ("omit", InfPolicy::Omit),
                        ("propagate", InfPolicy::Propagate),
                    ],
                )?
            }
            "hd_cap" => aggregate.hd_cap = Some(get(py, n, &v)?),
            "subgroups" => aggregate.subgroups = Some(get(py, n, &v)?),
            "threads" => {
                let t: usize = get(py, n, &v)?;
                if !(1..=1024).contains(&t) {
                    return Err(bad(py, n, format!("{t} is not in 1..=1024")));
                }
                threads = Some(t);
            }
            "progress" => progress = get(py, n, &v)?,
            "pred_series" => eval.pred_series = Some(get(py, n, &v)?),
            "gt_series" => eval.gt_series = Some(get(py, n, &v)?),
            other => {
                return Err(crate::raise(
                    py,
                    "OptionError",
                    format!("unknown option {other:?}; the options are: {}", names().join(", ")),
                ));
            }
        }
    }
    eval.surface = if surface_off { None } else { surface };
    if lesion_distances {
        lesions.surface =
            eval.surface.clone().map(|s| SurfaceOptions { mesh_compat: MeshCompat::Exact, ..s });
    }
    eval.lesions = lesions_on.then_some(lesions);
    eval.read = ReadOptions { npy, dicom };
    Ok(Parsed { options: Options { eval, aggregate }, threads, progress, sources, no_dataset_json, pairing })
}

/// A progress line on stderr, at most twice a second, when asked.
pub(crate) struct Progress {
    on: bool,
    total: usize,
    start: Instant,
    shown: AtomicUsize,
}

impl Progress {
    pub(crate) fn new(on: bool, total: usize) -> Progress {
        Progress { on, total, start: Instant::now(), shown: AtomicUsize::new(0) }
    }

    /// Called after each case (from worker threads).
    #[allow(clippy::print_stderr, reason = "the progress line the caller asked for with progress=True")]
    pub(crate) fn tick(&self, done: usize) {
        if !self.on {
            return;
        }
        let half_seconds = (self.start.elapsed().as_millis() / 500) as usize;
        if done == self.total || self.shown.fetch_max(half_seconds, Ordering::Relaxed) < half_seconds {
            eprint!("\rsegauge: {done}/{} cases, {:.1} s", self.total, self.start.elapsed().as_secs_f64());
        }
    }

    /// Ends the line.
    #[allow(clippy::print_stderr, reason = "the progress line the caller asked for with progress=True")]
    pub(crate) fn finish(&self) {
        if self.on && self.total > 0 {
            eprintln!();
        }
    }
}
