//! Measurement: one pair of files ([`compare`]) and the cases of a data set ([`evaluate`]), each case either a
//! record or a failure with its reason; [`pair_dirs`] pairs two folders by case id.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use segauge_io::LabelVolume;
use segauge_lesion::{LesionOptions, LesionReport, MatchRule};
use segauge_mesh::Frame;
use segauge_metrics::{EmptyState, LabelCounts, OverlapCounts, SurfaceMetrics, VoxelBox};

use crate::Error;
use crate::options::EvalOptions;

/// One case of a data set: its id and the two files (either may be missing), or two volumes in memory.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Case {
    /// Case id (the file name without `.nii.gz`, `.nii` or `.npy`).
    pub id: String,
    /// The prediction file.
    pub pred: Option<PathBuf>,
    /// The ground-truth file.
    pub gt: Option<PathBuf>,
    /// Case metadata (column → value), for subgroup aggregates; empty when none is known.
    pub metadata: BTreeMap<String, String>,
    /// The prediction and ground truth in memory ([`Case::in_memory`]); when set, `pred` and `gt` only name them
    /// in records and messages. Not serialised: a stored record refers to its case by id.
    #[serde(skip)]
    pub volumes: Option<Arc<(LabelVolume, LabelVolume)>>,
}

impl Case {
    /// A case whose files are `pred` and `gt`.
    pub fn files(id: impl Into<String>, pred: impl Into<PathBuf>, gt: impl Into<PathBuf>) -> Case {
        Case {
            id: id.into(),
            pred: Some(pred.into()),
            gt: Some(gt.into()),
            metadata: BTreeMap::new(),
            volumes: None,
        }
    }

    /// A case of two volumes in memory (e.g. from `LabelVolume::from_array`); its records name them `pred` and
    /// `gt`.
    pub fn in_memory(id: impl Into<String>, pred: LabelVolume, gt: LabelVolume) -> Case {
        Case {
            id: id.into(),
            pred: Some(PathBuf::from("pred")),
            gt: Some(PathBuf::from("gt")),
            metadata: BTreeMap::new(),
            volumes: Some(Arc::new((pred, gt))),
        }
    }
}

/// The metrics of one label of one case.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LabelResult {
    /// The label.
    pub label: u32,
    /// Its voxel counts.
    pub counts: LabelCounts,
    /// Volume of one voxel, mm³.
    pub voxel_volume_mm3: f64,
    /// Surface-distance metrics, when requested.
    pub surface: Option<SurfaceMetrics>,
    /// Per-lesion detection, when requested.
    pub lesions: Option<LesionReport>,
}

impl LabelResult {
    /// Dice coefficient.
    pub fn dice(&self) -> f64 {
        self.counts.dice()
    }

    /// Intersection over union.
    pub fn iou(&self) -> f64 {
        self.counts.iou()
    }

    /// Predicted volume, mm³.
    pub fn volume_pred_mm3(&self) -> f64 {
        self.counts.voxels_pred as f64 * self.voxel_volume_mm3
    }

    /// Ground-truth volume, mm³.
    pub fn volume_gt_mm3(&self) -> f64 {
        self.counts.voxels_gt as f64 * self.voxel_volume_mm3
    }

    /// Which masks are empty.
    pub fn empty_state(&self) -> EmptyState {
        self.counts.empty_state()
    }
}

/// The result of one prediction/ground-truth pair.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CaseResult {
    /// Case id.
    pub case: String,
    /// The prediction file.
    pub pred: PathBuf,
    /// The ground-truth file.
    pub gt: PathBuf,
    /// Shape of the common grid.
    pub shape: [usize; 3],
    /// Spacing of the common grid (the ground truth's), mm.
    pub spacing: [f64; 3],
    /// Metrics per label, ascending.
    pub labels: Vec<LabelResult>,
}

/// A case that could not be evaluated, with the one-line reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    /// Case id.
    pub case: String,
    /// What went wrong (names the file and the problem).
    pub error: String,
}

/// The results of a data set: every case either in `cases` or in `failures`, both sorted by case id.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Evaluation {
    /// Evaluated cases.
    pub cases: Vec<CaseResult>,
    /// Cases that could not be evaluated.
    pub failures: Vec<Failure>,
    /// The labels every evaluated case reports, ascending: the requested ones, or every label present in any
    /// case (outputs give a failed case one row per label, so that `label` stays a column of integers).
    pub labels: Vec<u32>,
}

/// What one pair yields before the labels to report are chosen (volumes are already dropped).
struct Measured {
    pred: PathBuf,
    gt: PathBuf,
    counts: OverlapCounts,
    /// Surface metrics of every label present in the case (or requested and present).
    surface: BTreeMap<u32, SurfaceMetrics>,
    /// Lesion reports of every label present in the case (or requested and present).
    lesions: BTreeMap<u32, LesionReport>,
    shape: [usize; 3],
    spacing: [f64; 3],
    voxel_volume_mm3: f64,
}

/// Reads one pair and counts every label.
fn measure(pred: &Path, gt: &Path, options: &EvalOptions) -> Result<Measured, Error> {
    let read = |p: &Path, series: &Option<PathBuf>, reference: Option<&segauge_io::Grid>| {
        segauge_io::read_labels_on(p, &options.read, series.as_deref(), reference)
    };
    // An RTSTRUCT without image series is rasterised on the other volume's grid: read that one first.
    #[cfg(feature = "dicom")]
    let (pred_needs, gt_needs) = (
        segauge_io::dicom::needs_reference(pred, options.pred_series.as_deref(), &options.read.dicom),
        segauge_io::dicom::needs_reference(gt, options.gt_series.as_deref(), &options.read.dicom),
    );
    #[cfg(not(feature = "dicom"))]
    let (pred_needs, gt_needs) = (false, false);
    let (p, g) = if gt_needs && !pred_needs {
        let p = read(pred, &options.pred_series, None)?;
        let g = read(gt, &options.gt_series, Some(p.grid()));
        (Ok(p), g)
    } else if pred_needs && !gt_needs {
        let g = read(gt, &options.gt_series, None)?;
        let p = read(pred, &options.pred_series, Some(g.grid()));
        (p, Ok(g))
    } else {
        #[cfg(feature = "parallel")]
        let pair =
            rayon::join(|| read(pred, &options.pred_series, None), || read(gt, &options.gt_series, None));
        #[cfg(not(feature = "parallel"))]
        let pair = (read(pred, &options.pred_series, None), read(gt, &options.gt_series, None));
        pair
    };
    measure_volumes(&p?, &g?, pred, gt, options)
}

/// Counts every label of two volumes and computes the requested metrics; `pred` and `gt` name them in errors
/// and records.
fn measure_volumes(
    p: &LabelVolume,
    g: &LabelVolume,
    pred: &Path,
    gt: &Path,
    options: &EvalOptions,
) -> Result<Measured, Error> {
    p.grid().check_same(g.grid(), &options.grid_tolerance).map_err(|mismatch| {
        Error::Io(segauge_io::Error::GridMismatch {
            a: pred.to_path_buf(),
            b: gt.to_path_buf(),
            mismatch: Box::new(mismatch),
        })
    })?;
    let counts = OverlapCounts::compute(p, g)?;
    // Labels absent from both volumes are both-empty: their values need no volume (see `result`).
    let present: Vec<u32> = match &options.labels {
        Some(l) => {
            l.iter().copied().filter(|&x| counts.get(x).empty_state() != EmptyState::BothEmpty).collect()
        }
        None => counts.labels().collect(),
    };
    // The label boxes (a pass over each volume) serve both the surface metrics and the lesions.
    let boxes = || segauge_metrics::label_boxes(p);
    #[cfg(feature = "parallel")]
    let (pb, gb) = rayon::join(boxes, || segauge_metrics::label_boxes(g));
    #[cfg(not(feature = "parallel"))]
    let (pb, gb) = (boxes(), segauge_metrics::label_boxes(g));
    let surface = || -> Result<_, Error> {
        Ok(match &options.surface {
            None => BTreeMap::new(),
            Some(so) => segauge_metrics::surface_metrics_in_boxes(p, g, &present, so, &pb, &gb)?,
        })
    };
    let lesions = || -> Result<_, Error> {
        Ok(match &options.lesions {
            None => BTreeMap::new(),
            Some(lo) => lesion_reports(p, g, &present, lo, &pb, &gb)?,
        })
    };
    // Independent work on the same volumes: lesions fill the gaps of the surface computation's parallel phases.
    #[cfg(feature = "parallel")]
    let (surface, lesions) = rayon::join(surface, lesions);
    #[cfg(not(feature = "parallel"))]
    let (surface, lesions) = (surface(), lesions());
    let (surface, lesions) = (surface?, lesions?);
    let grid = g.grid();
    Ok(Measured {
        pred: pred.to_path_buf(),
        gt: gt.to_path_buf(),
        counts,
        surface,
        lesions,
        shape: grid.dims(),
        spacing: grid.spacing(),
        voxel_volume_mm3: grid.voxel_volume_mm3(),
    })
}

impl Measured {
    fn result(self, case: String, labels: &[u32], options: &EvalOptions) -> CaseResult {
        let labels = labels
            .iter()
            .map(|&label| LabelResult {
                label,
                counts: self.counts.get(label),
                voxel_volume_mm3: self.voxel_volume_mm3,
                surface: options.surface.as_ref().map(|_| {
                    self.surface
                        .get(&label)
                        .cloned()
                        .unwrap_or_else(|| SurfaceMetrics::empty(EmptyState::BothEmpty))
                }),
                lesions: options
                    .lesions
                    .as_ref()
                    .map(|lo| self.lesions.get(&label).cloned().unwrap_or_else(|| no_lesions(lo))),
            })
            .collect();
        CaseResult { case, pred: self.pred, gt: self.gt, shape: self.shape, spacing: self.spacing, labels }
    }
}

/// Lesion detection of every label in `labels`, each inside the union of its two boxes (grown by the BraTS
/// dilation, within the image, so that dilations are clipped where scipy clips them).
fn lesion_reports(
    pred: &LabelVolume,
    gt: &LabelVolume,
    labels: &[u32],
    options: &LesionOptions,
    pb: &BTreeMap<u32, VoxelBox>,
    gb: &BTreeMap<u32, VoxelBox>,
) -> Result<BTreeMap<u32, LesionReport>, Error> {
    let grid = gt.grid();
    let dims = grid.dims();
    let grow = if options.rule == MatchRule::Brats2023 { options.brats.dilation as usize } else { 0 };
    let one = |&label: &u32| -> Result<(u32, LesionReport), Error> {
        let Some(b) = segauge_metrics::label_box(pb, gb, label) else {
            return Ok((label, no_lesions(options)));
        };
        let b = VoxelBox {
            lo: b.lo.map(|v| v.saturating_sub(grow)),
            hi: std::array::from_fn(|a| (b.hi[a] + grow).min(dims[a] - 1)),
        };
        let (pm, _) = segauge_metrics::crop_mask(pred, label, &b, 0);
        let (gm, _) = segauge_metrics::crop_mask(gt, label, &b, 0);
        // Lesion centroids in the image's world coordinates (mm).
        let at = Frame::scaled(grid.spacing());
        let offset = at.point(b.lo.map(|v| v as f64));
        let d = grid.direction();
        let o = grid.origin();
        let frame = Frame {
            spacing: grid.spacing(),
            origin: std::array::from_fn(|r| {
                o[r] + d[r][0] * offset[0] + d[r][1] * offset[1] + d[r][2] * offset[2]
            }),
            direction: d,
        };
        Ok((label, segauge_lesion::evaluate(&pm, &gm, &frame, options)?))
    };
    #[cfg(feature = "parallel")]
    let results: Vec<_> = {
        use rayon::prelude::*;
        labels.par_iter().map(one).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let results: Vec<_> = labels.iter().map(one).collect();
    results.into_iter().collect()
}

/// The lesion report of a label absent from both volumes.
fn no_lesions(options: &LesionOptions) -> LesionReport {
    LesionReport::none(options)
}

/// Compares one prediction with its ground truth.
///
/// # Errors
/// [`Error::InvalidOption`] for invalid options; unreadable or invalid files, or grids that differ, as one
/// [`Error`] naming the file(s).
pub fn compare(pred: &Path, gt: &Path, options: &EvalOptions) -> Result<CaseResult, Error> {
    options.validate()?;
    let options = &options.resolved();
    let m = measure(pred, gt, options)?;
    let labels: Vec<u32> = match &options.labels {
        Some(l) => l.clone(),
        None => m.counts.labels().collect(),
    };
    let case = segauge_io::case_id(gt).map_or_else(|| gt.display().to_string(), |(id, _)| id);
    Ok(m.result(case, &labels, options))
}

/// Compares two volumes in memory (e.g. built with `LabelVolume::from_array`), as [`compare`] compares two
/// files; the record's case id is empty and its paths are `pred` and `gt`.
///
/// ```
/// use segauge_eval::{EvalOptions, compare_volumes};
/// use segauge_io::{Grid, LabelVolume, Labels};
/// let grid = Grid::new([4, 1, 1], [1.0, 1.0, 2.0])?;
/// let pred = LabelVolume::new(grid.clone(), Labels::U8(vec![1, 1, 0, 0]))?;
/// let gt = LabelVolume::new(grid, Labels::U8(vec![0, 1, 1, 0]))?;
/// let result = compare_volumes(&pred, &gt, &EvalOptions::default())?;
/// assert_eq!(result.labels[0].dice(), 0.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for invalid options; [`Error::Io`] when the grids differ.
pub fn compare_volumes(
    pred: &LabelVolume,
    gt: &LabelVolume,
    options: &EvalOptions,
) -> Result<CaseResult, Error> {
    options.validate()?;
    let options = &options.resolved();
    let m = measure_volumes(pred, gt, Path::new("pred"), Path::new("gt"), options)?;
    let labels: Vec<u32> = match &options.labels {
        Some(l) => l.clone(),
        None => m.counts.labels().collect(),
    };
    Ok(m.result(String::new(), &labels, options))
}

/// A data set to evaluate: the cases, and the cases already known to fail before reading (e.g. two files for one
/// case id).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct DataSet {
    /// Cases to evaluate, sorted by id.
    pub cases: Vec<Case>,
    /// Cases that cannot be evaluated.
    pub failures: Vec<Failure>,
}

/// Pairs the segmentation files of two directories by case id (see [`segauge_io::case_id`]).
///
/// Cases present on one side only are kept with the other side `None` (they become failures when evaluated);
/// a case id with two files on one side (`a.nii` and `a.nii.gz`) is a failure straight away.
///
/// # Errors
/// [`Error::Io`] when a directory cannot be listed.
pub fn pair_dirs(pred_dir: &Path, gt_dir: &Path) -> Result<DataSet, Error> {
    let preds = segauge_io::scan_dir(pred_dir)?;
    let gts = segauge_io::scan_dir(gt_dir)?;
    let ids: BTreeSet<&String> = preds.keys().chain(gts.keys()).collect();
    let mut cases = Vec::new();
    let mut failures = Vec::new();
    for id in ids {
        let one = |side: &BTreeMap<String, Vec<PathBuf>>| -> Result<Option<PathBuf>, String> {
            match side.get(id).map(Vec::as_slice) {
                None | Some([]) => Ok(None),
                Some([p]) => Ok(Some(p.clone())),
                Some(many) => Err(format!(
                    "{} files for one case: {}",
                    many.len(),
                    many.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                )),
            }
        };
        match (one(&preds), one(&gts)) {
            (Ok(pred), Ok(gt)) => {
                cases.push(Case { id: id.clone(), pred, gt, metadata: BTreeMap::new(), volumes: None })
            }
            (Err(e), _) | (_, Err(e)) => failures.push(Failure { case: id.clone(), error: e }),
        }
    }
    Ok(DataSet { cases, failures })
}

/// The longest failure reason kept, in bytes. Errors quote at most a few hundred bytes of a file, so only paths
/// of thousands of characters come near it; past it the reason is cut, and says so, so that no output (JSON,
/// CSV, HTML, terminal) can grow with the content of a hostile file.
pub const MAX_REASON_BYTES: usize = 2000;

/// A failure reason of at most [`MAX_REASON_BYTES`] bytes (cut at a character boundary).
fn reason(text: String) -> String {
    if text.len() <= MAX_REASON_BYTES {
        return text;
    }
    let keep = MAX_REASON_BYTES - 40;
    let cut = (0..=keep).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    format!("{} … ({} more bytes cut)", &text[..cut], text.len() - cut)
}

/// Evaluates every case (in parallel with the `parallel` feature), calling `on_case_done` after each.
///
/// Volumes are dropped as soon as a case's counts are computed, so memory holds at most one case per thread.
/// A case that fails (missing partner, unreadable file, grid mismatch) is listed in [`Evaluation::failures`] and
/// every other case still completes. Results do not depend on the number of threads. This is the per-case step
/// of [`run`](crate::run), which also aggregates.
///
/// # Errors
/// [`Error::InvalidOption`] for invalid options, before any case is read.
pub fn evaluate(
    data: &DataSet,
    options: &EvalOptions,
    on_case_done: &(dyn Fn() + Sync),
) -> Result<Evaluation, Error> {
    options.validate()?;
    let options = &options.resolved();
    let cases = &data.cases;
    let run = |case: &Case| -> Result<Measured, Failure> {
        let out = match (&case.pred, &case.gt) {
            (Some(p), Some(g)) => match &case.volumes {
                Some(v) => measure_volumes(&v.0, &v.1, p, g, options),
                None => measure(p, g, options),
            }
            .map_err(|e| Failure { case: case.id.clone(), error: reason(e.to_string()) }),
            (None, Some(g)) => Err(Failure {
                case: case.id.clone(),
                error: format!("no prediction for ground truth {}", g.display()),
            }),
            (Some(p), None) => Err(Failure {
                case: case.id.clone(),
                error: format!("no ground truth for prediction {}", p.display()),
            }),
            (None, None) => Err(Failure { case: case.id.clone(), error: "no files".into() }),
        };
        on_case_done();
        out
    };
    #[cfg(feature = "parallel")]
    let outcomes: Vec<_> = {
        use rayon::prelude::*;
        cases.par_iter().map(run).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let outcomes: Vec<_> = cases.iter().map(run).collect();

    let labels: Vec<u32> = match &options.labels {
        Some(l) => l.clone(),
        None => outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok())
            .flat_map(|m| m.counts.labels())
            .collect::<BTreeSet<u32>>()
            .into_iter()
            .collect(),
    };
    let mut eval = Evaluation { labels: labels.clone(), ..Evaluation::default() };
    for (case, outcome) in cases.iter().zip(outcomes) {
        match outcome {
            Ok(m) => eval.cases.push(m.result(case.id.clone(), &labels, options)),
            Err(f) => eval.failures.push(f),
        }
    }
    eval.failures.extend(
        data.failures.iter().map(|f| Failure { case: f.case.clone(), error: reason(f.error.clone()) }),
    );
    eval.failures.sort_by(|a, b| a.case.cmp(&b.case));
    Ok(eval)
}

/// The labels requested in `options` that occur in no evaluated case (likely a typo in `--labels`).
pub fn labels_never_seen(eval: &Evaluation) -> Vec<u32> {
    let mut seen: BTreeMap<u32, bool> = BTreeMap::new();
    for case in &eval.cases {
        for l in &case.labels {
            *seen.entry(l.label).or_default() |= l.empty_state() != EmptyState::BothEmpty;
        }
    }
    seen.into_iter().filter(|&(_, s)| !s).map(|(l, _)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_bounded_at_a_character_boundary() {
        assert_eq!(reason("short".into()), "short");
        let exact = "é".repeat(MAX_REASON_BYTES / 2);
        assert_eq!(reason(exact.clone()), exact);
        let long = format!("a{}", "é".repeat(60_000));
        let cut = reason(long.clone());
        assert!(cut.len() <= MAX_REASON_BYTES, "{}", cut.len());
        assert!(long.starts_with(cut.split(" … (").next().unwrap()));
        let kept = cut.split(" … (").next().unwrap().len();
        assert!(cut.ends_with(&format!("({} more bytes cut)", long.len() - kept)), "{cut}");
    }
}
