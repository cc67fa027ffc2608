//! Per-lesion detection: connected components of a prediction and its ground truth, a lesion matching, and the
//! detection scores that voxel overlap cannot give (did the model find each lesion, and how many did it invent).
//!
//! # Overview
//! - [`label`] and [`Components`]: connected components (6/18/26 in 3D, 4/8 in 2D) numbered in raster order of
//!   their first voxel; [`Lesion`]: size, equivalent diameter, bounding box and centroid of one component.
//! - [`evaluate`] with [`LesionOptions`]: match the lesions of two masks by a [`MatchRule`] and return a
//!   [`LesionReport`]: TP, FP, FN, precision, recall, F1, panoptic quality, the matched pairs with their IoU and
//!   Dice (and surface metrics on request), and recall/precision per size stratum.
//!
//! # Semantics
//! - One-to-one rules ([`MatchRule::Iou`], [`MatchRule::Dice`]): a pair is a candidate when its score exceeds
//!   the threshold strictly (default IoU > 0.5); the matching maximises the total score of the chosen pairs
//!   (Hungarian). With IoU > 0.5 every lesion has at most one candidate, so this equals greedy matching and
//!   panoptic quality's matching (Kirillov et al. 2019). TP = matched pairs, FN = unmatched GT lesions, FP =
//!   unmatched predicted lesions.
//! - [`MatchRule::Overlap`]: a GT lesion is detected when any predicted lesion touches it (shares a voxel);
//!   a predicted lesion is a false positive when it touches no GT lesion; the pair score of a GT lesion is taken
//!   against the union of the predictions touching it. Predictions may serve several GT lesions.
//! - [`MatchRule::Brats2023`]: the BraTS 2023 lesion-wise rule (dilation, merged GT lesions, a GT volume
//!   threshold and lesion-wise Dice/HD95 with a penalty), see [`BratsOptions`].
//! - Precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2TP/(2TP+FP+FN). A score whose denominator is zero is
//!   NaN and listed by [`LesionReport::undefined`], never set to 1 (no lesion on either side gives NaN for all
//!   three; GT empty with predictions gives precision 0, recall NaN, F1 0).
//! - Panoptic quality: SQ = mean IoU of the matched pairs, RQ = F1, PQ = SQ·RQ; with no TP but some lesion SQ
//!   and PQ are 0; with no lesion at all they are NaN.
//! - Volumes in mm³ from the frame's spacing; strata by equivalent diameter `(6V/π)^(1/3)`.
//!
//! # Example
//! ```
//! use segauge_lesion::{evaluate, LesionOptions};
//! use segauge_mesh::{Frame, Mask};
//! // GT: two lesions; prediction: the first one exactly and a false positive far away.
//! let gt = Mask::from_fn([12, 3, 3], |i, j, k| j == 1 && k == 1 && (i < 2 || (5..7).contains(&i)));
//! let pred = Mask::from_fn([12, 3, 3], |i, j, k| j == 1 && k == 1 && (i < 2 || i == 10));
//! let r = evaluate(&pred, &gt, &Frame::scaled([1.0; 3]), &LesionOptions::default())?;
//! assert_eq!((r.tp, r.fp, r.fn_), (1, 1, 1));
//! assert_eq!((r.precision(), r.recall(), r.f1()), (0.5, 0.5, 0.5));
//! assert_eq!(r.matches[0].iou, 1.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Feature flags
//! - `parallel`: surface metrics of matched pairs on all cores (forwarded to segauge-metrics); results are
//!   identical without it.
#![deny(missing_docs)]

mod brats;
mod components;
mod matching;

use std::fmt;
use std::str::FromStr;

pub use components::{Components, Connectivity, Lesion, equivalent_diameter, label};
use segauge_mesh::{Frame, Mask};
use segauge_metrics::{SurfaceMetrics, SurfaceOptions, mask_surface_metrics};

/// The error type of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The two masks have different shapes.
    #[error("shape mismatch: prediction {pred:?} vs ground truth {gt:?}")]
    ShapeMismatch {
        /// Shape of the prediction.
        pred: [usize; 3],
        /// Shape of the ground truth.
        gt: [usize; 3],
    },
    /// An option is out of range.
    #[error("invalid option: {detail}")]
    InvalidOption {
        /// What is wrong.
        detail: String,
    },
    /// Surface metrics of a pair failed.
    #[error(transparent)]
    Metrics(#[from] segauge_metrics::Error),
}

/// How lesions of the prediction and the ground truth are paired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MatchRule {
    /// One-to-one, IoU above the threshold, maximum total IoU.
    #[default]
    Iou,
    /// One-to-one, Dice above the threshold, maximum total Dice.
    Dice,
    /// Any shared voxel detects a GT lesion; many predictions may serve one GT lesion and vice versa.
    Overlap,
    /// The BraTS 2023 lesion-wise rule ([`BratsOptions`]).
    Brats2023,
}

impl MatchRule {
    /// The rule's name on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchRule::Iou => "iou",
            MatchRule::Dice => "dice",
            MatchRule::Overlap => "overlap",
            MatchRule::Brats2023 => "brats2023",
        }
    }
}

impl fmt::Display for MatchRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MatchRule {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        [MatchRule::Iou, MatchRule::Dice, MatchRule::Overlap, MatchRule::Brats2023]
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| Error::InvalidOption {
                detail: format!("lesion rule {s:?}: use iou, dice, overlap or brats2023"),
            })
    }
}

/// Parameters of the BraTS 2023 lesion-wise rule (rachitsaluja/BraTS-2023-Metrics, `eval.py`).
///
/// GT lesions whose `dilation`-fold dilations (18-neighbourhood) touch are merged into one lesion; a predicted
/// component is assigned to every merged GT lesion whose dilation it touches; the pair is the GT lesion against
/// the union of its predictions. GT lesions of volume ≤ `min_gt_volume_mm3` are left out of the scores (but
/// predictions touching them are not false positives). Lesion-wise Dice = Σ Dice / (GT kept + FP) and
/// lesion-wise HD95 = (Σ HD95 + penalty·FP) / (GT kept + FP), with an infinite HD95 (no prediction) counted as
/// the penalty; with no kept GT lesion and no FP they are 1 and 0.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BratsOptions {
    /// Dilation iterations (3 for GLI, SSA and PED; 1 for MEN and MET).
    pub dilation: u32,
    /// GT lesions at or below this volume (mm³) are not scored (50; 2 for MET).
    pub min_gt_volume_mm3: f64,
    /// The HD95 of a missed lesion or a false positive, mm (374).
    pub hd_penalty: f64,
}

impl Default for BratsOptions {
    fn default() -> Self {
        BratsOptions { dilation: 3, min_gt_volume_mm3: 50.0, hd_penalty: 374.0 }
    }
}

/// Options of [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LesionOptions {
    /// Connectivity of the components (default 26).
    pub connectivity: Connectivity,
    /// Matching rule (default IoU).
    pub rule: MatchRule,
    /// Score a pair must exceed (strictly) under [`MatchRule::Iou`] and [`MatchRule::Dice`] (default 0.5).
    pub threshold: f64,
    /// Edges of the size strata on the equivalent diameter, mm, ascending (default `[3, 10]`: strata [0, 3),
    /// [3, 10) and [10, ∞)).
    pub strata_mm: Vec<f64>,
    /// Lesions (GT and prediction alike) smaller than this many voxels are ignored (default 0: none). Not used
    /// by the BraTS rule, which has its own GT volume threshold.
    pub min_lesion_voxels: u64,
    /// Parameters of [`MatchRule::Brats2023`].
    pub brats: BratsOptions,
    /// Surface metrics (HD, HD_p, ASSD, NSD, …) of every matched pair on this surface; `None` (default) skips
    /// them.
    pub surface: Option<SurfaceOptions>,
}

impl Default for LesionOptions {
    fn default() -> Self {
        LesionOptions {
            connectivity: Connectivity::C26,
            rule: MatchRule::Iou,
            threshold: 0.5,
            strata_mm: vec![3.0, 10.0],
            min_lesion_voxels: 0,
            brats: BratsOptions::default(),
            surface: None,
        }
    }
}

impl LesionOptions {
    /// Checks the options (also done by [`evaluate`]).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the bad value.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |detail: String| Err(Error::InvalidOption { detail });
        if !(0.0..1.0).contains(&self.threshold) {
            return bad(format!("match threshold {} must be in [0, 1)", self.threshold));
        }
        if self.strata_mm.iter().any(|e| !e.is_finite() || *e <= 0.0)
            || self.strata_mm.windows(2).any(|w| w[0] >= w[1])
        {
            return bad(format!("size strata {:?} must be positive, finite and increasing", self.strata_mm));
        }
        let b = &self.brats;
        if !(b.min_gt_volume_mm3 >= 0.0 && b.hd_penalty >= 0.0 && b.hd_penalty.is_finite()) {
            return bad("BraTS GT volume threshold and HD penalty must be non-negative".into());
        }
        if b.dilation > MAX_DILATION {
            return bad(format!("BraTS dilation {} is not in 0..={MAX_DILATION}", b.dilation));
        }
        Ok(())
    }
}

/// The largest BraTS dilation accepted: the challenge uses 1 or 3; a dilation that no longer grows stops early, so
/// the bound only limits what a typo can ask for.
pub const MAX_DILATION: u32 = 1000;

/// A matched GT lesion and the predicted lesion(s) paired with it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LesionMatch {
    /// GT lesion id (for the BraTS rule, the merged lesion's id).
    pub gt: u32,
    /// Predicted lesion ids: one under one-to-one rules, every touching prediction under overlap rules.
    pub pred: Vec<u32>,
    /// Shared voxels of the GT lesion and the union of its predictions.
    pub intersection: u64,
    /// IoU of the GT lesion and the union of its predictions.
    pub iou: f64,
    /// Dice of the GT lesion and the union of its predictions.
    pub dice: f64,
    /// Surface metrics of the pair, when [`LesionOptions::surface`] is set.
    pub surface: Option<SurfaceMetrics>,
}

/// Detection counts in one size stratum.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Stratum {
    /// Lower edge (equivalent diameter, mm, inclusive).
    pub lo_mm: f64,
    /// Upper edge (exclusive; +inf for the last stratum).
    pub hi_mm: f64,
    /// GT lesions in the stratum.
    pub gt: u64,
    /// Of those, detected.
    pub gt_detected: u64,
    /// Predicted lesions in the stratum.
    pub pred: u64,
    /// Of those, matched to a GT lesion.
    pub pred_matched: u64,
}

impl Stratum {
    /// Recall of the GT lesions of this size (NaN without any).
    pub fn recall(&self) -> f64 {
        ratio(self.gt_detected, self.gt)
    }

    /// Precision of the predicted lesions of this size (NaN without any).
    pub fn precision(&self) -> f64 {
        ratio(self.pred_matched, self.pred)
    }

    /// False positives of this size.
    pub fn fp(&self) -> u64 {
        self.pred - self.pred_matched
    }

    /// Adds the counts of `other` (the same stratum of another case) to these.
    pub fn add(&mut self, other: &Stratum) {
        self.gt += other.gt;
        self.gt_detected += other.gt_detected;
        self.pred += other.pred;
        self.pred_matched += other.pred_matched;
    }

    /// The same edges with every count zero.
    pub fn empty(&self) -> Stratum {
        Stratum { gt: 0, gt_detected: 0, pred: 0, pred_matched: 0, ..*self }
    }
}

/// The BraTS 2023 lesion-wise scores of one mask pair.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BratsScores {
    /// Lesion-wise Dice.
    pub lesion_wise_dice: f64,
    /// Lesion-wise HD_p (the surface options' percentile, 95 by default), when surface metrics were requested.
    pub lesion_wise_hd95: Option<f64>,
    /// Merged GT lesions scored (volume above the threshold).
    pub gt_kept: u64,
    /// Merged GT lesions left out (volume at or below the threshold).
    pub gt_dropped: u64,
}

/// Per-lesion detection results of one mask pair.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LesionReport {
    /// The rule used.
    pub rule: MatchRule,
    /// GT lesions (merged lesions under the BraTS rule), in id order.
    pub gt: Vec<Lesion>,
    /// Predicted lesions, in id order.
    pub pred: Vec<Lesion>,
    /// Matched pairs, by GT id.
    pub matches: Vec<LesionMatch>,
    /// True positives (detected GT lesions).
    pub tp: u64,
    /// False positives (predicted lesions matched to no GT lesion).
    pub fp: u64,
    /// False negatives (GT lesions not detected).
    pub fn_: u64,
    /// Counts per size stratum.
    pub strata: Vec<Stratum>,
    /// BraTS scores under [`MatchRule::Brats2023`].
    pub brats: Option<BratsScores>,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { f64::NAN } else { a as f64 / b as f64 }
}

impl LesionReport {
    /// The report of two masks without any lesion (what [`evaluate`] returns for them).
    pub fn none(options: &LesionOptions) -> LesionReport {
        LesionReport {
            rule: options.rule,
            gt: Vec::new(),
            pred: Vec::new(),
            matches: Vec::new(),
            tp: 0,
            fp: 0,
            fn_: 0,
            strata: strata(&options.strata_mm, &[], &[], |_| false, |_| false),
            brats: (options.rule == MatchRule::Brats2023).then(|| BratsScores {
                lesion_wise_dice: 1.0,
                lesion_wise_hd95: options.surface.as_ref().map(|_| 0.0),
                gt_kept: 0,
                gt_dropped: 0,
            }),
        }
    }

    /// TP/(TP+FP); NaN without predicted lesions.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// TP/(TP+FN); NaN without GT lesions.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// 2TP/(2TP+FP+FN); NaN without any lesion.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }

    /// Segmentation quality: mean IoU of the matched pairs; NaN without a matched pair (undefined: panoptica 2.1.7
    /// writes 0 there, which would count a detection failure twice, once in RQ and once in SQ).
    pub fn sq(&self) -> f64 {
        if self.matches.is_empty() {
            return f64::NAN;
        }
        self.matches.iter().map(|m| m.iou).sum::<f64>() / self.matches.len() as f64
    }

    /// Recognition quality: equal to [`LesionReport::f1`].
    pub fn rq(&self) -> f64 {
        self.f1()
    }

    /// Panoptic quality `Σ IoU / (TP + FP/2 + FN/2)` = SQ·RQ: 0 when there are lesions but none matched, NaN
    /// without any lesion.
    pub fn pq(&self) -> f64 {
        if self.matches.is_empty() {
            return if self.tp + self.fp + self.fn_ == 0 { f64::NAN } else { 0.0 };
        }
        self.sq() * self.rq()
    }

    /// The names of the scores that are undefined (NaN) for this pair, among `precision`, `recall`, `f1`, `sq`
    /// and `pq`: exactly those whose value is NaN.
    pub fn undefined(&self) -> Vec<&'static str> {
        [
            ("precision", self.precision()),
            ("recall", self.recall()),
            ("f1", self.f1()),
            ("sq", self.sq()),
            ("pq", self.pq()),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_nan())
        .map(|(name, _)| name)
        .collect()
    }
}

/// Lesion detection of `pred` against `gt` (same box), placed by `frame` (spacing for volumes and distances).
///
/// # Errors
/// [`Error::ShapeMismatch`] for masks of different shapes, [`Error::InvalidOption`] for invalid options, and
/// surface-metric errors of matched pairs.
pub fn evaluate(
    pred: &Mask,
    gt: &Mask,
    frame: &Frame,
    options: &LesionOptions,
) -> Result<LesionReport, Error> {
    options.validate()?;
    if pred.dims() != gt.dims() {
        return Err(Error::ShapeMismatch { pred: pred.dims(), gt: gt.dims() });
    }
    if options.rule == MatchRule::Brats2023 {
        return brats::evaluate(pred, gt, frame, options);
    }
    let (pc, gc) = (label(pred, options.connectivity), label(gt, options.connectivity));
    let keep = |l: &Lesion| l.voxels >= options.min_lesion_voxels;
    let gl: Vec<Lesion> = gc.lesions(frame);
    let pl: Vec<Lesion> = pc.lesions(frame);
    let (gkeep, pkeep): (Vec<bool>, Vec<bool>) =
        (gl.iter().map(keep).collect(), pl.iter().map(keep).collect());
    let pairs: Vec<(u32, u32, u64)> = components::overlaps(&gc, &pc)
        .into_iter()
        .filter(|&(g, p, _)| gkeep[g as usize - 1] && pkeep[p as usize - 1])
        .collect();
    let size = |ls: &[Lesion], id: u32| ls[id as usize - 1].voxels;
    let scores = |g: u32, ps: &[u32], inter: u64| -> (f64, f64) {
        let (a, b) = (size(&gl, g), ps.iter().map(|&p| size(&pl, p)).sum::<u64>());
        (inter as f64 / (a + b - inter) as f64, 2.0 * inter as f64 / (a + b) as f64)
    };
    let mut matches: Vec<LesionMatch> = Vec::new();
    match options.rule {
        MatchRule::Iou | MatchRule::Dice => {
            let candidates: Vec<(u32, u32, f64)> = pairs
                .iter()
                .filter_map(|&(g, p, inter)| {
                    let (iou, dice) = scores(g, &[p], inter);
                    let s = if options.rule == MatchRule::Iou { iou } else { dice };
                    (s > options.threshold).then_some((g, p, s))
                })
                .collect();
            let shared: std::collections::HashMap<(u32, u32), u64> =
                pairs.iter().map(|&(g, p, n)| ((g, p), n)).collect();
            for (g, p) in matching::max_score_matching(&candidates) {
                let inter = shared.get(&(g, p)).copied().unwrap_or(0);
                let (iou, dice) = scores(g, &[p], inter);
                matches.push(LesionMatch {
                    gt: g,
                    pred: vec![p],
                    intersection: inter,
                    iou,
                    dice,
                    surface: None,
                });
            }
        }
        _ => {
            // Overlap: every GT lesion against the union of the predictions touching it.
            let mut at = 0;
            while at < pairs.len() {
                let g = pairs[at].0;
                let mut ps = Vec::new();
                let mut inter = 0;
                while at < pairs.len() && pairs[at].0 == g {
                    ps.push(pairs[at].1);
                    inter += pairs[at].2;
                    at += 1;
                }
                let (iou, dice) = scores(g, &ps, inter);
                matches.push(LesionMatch { gt: g, pred: ps, intersection: inter, iou, dice, surface: None });
            }
        }
    }
    if let Some(surface) = &options.surface {
        for m in &mut matches {
            let (g, ps) = (m.gt, m.pred.clone());
            m.surface = Some(pair_surface(&pc, &gc, &pl, &gl, &ps, g, frame, surface)?);
        }
    }
    let mut gt_detected = vec![false; gl.len()];
    let mut pred_matched = vec![false; pl.len()];
    for m in &matches {
        gt_detected[m.gt as usize - 1] = true;
        for &p in &m.pred {
            pred_matched[p as usize - 1] = true;
        }
    }
    let gt: Vec<Lesion> = gl.iter().filter(|l| gkeep[l.id as usize - 1]).cloned().collect();
    let pred: Vec<Lesion> = pl.iter().filter(|l| pkeep[l.id as usize - 1]).cloned().collect();
    let tp = gt.iter().filter(|l| gt_detected[l.id as usize - 1]).count() as u64;
    let fp = pred.iter().filter(|l| !pred_matched[l.id as usize - 1]).count() as u64;
    let strata = strata(
        &options.strata_mm,
        &gt,
        &pred,
        |g| gt_detected[g as usize - 1],
        |p| pred_matched[p as usize - 1],
    );
    Ok(LesionReport {
        rule: options.rule,
        tp,
        fp,
        fn_: gt.len() as u64 - tp,
        gt,
        pred,
        matches,
        strata,
        brats: None,
    })
}

/// Counts per size stratum of the given lesions.
fn strata(
    edges: &[f64],
    gt: &[Lesion],
    pred: &[Lesion],
    gt_detected: impl Fn(u32) -> bool,
    pred_matched: impl Fn(u32) -> bool,
) -> Vec<Stratum> {
    let mut bounds = vec![0.0];
    bounds.extend_from_slice(edges);
    bounds.push(f64::INFINITY);
    let bin = |d: f64| bounds.windows(2).position(|w| d >= w[0] && d < w[1]).unwrap_or(bounds.len() - 2);
    let mut out: Vec<Stratum> = bounds
        .windows(2)
        .map(|w| Stratum { lo_mm: w[0], hi_mm: w[1], gt: 0, gt_detected: 0, pred: 0, pred_matched: 0 })
        .collect();
    for l in gt {
        let s = &mut out[bin(l.diameter_mm)];
        s.gt += 1;
        s.gt_detected += gt_detected(l.id) as u64;
    }
    for l in pred {
        let s = &mut out[bin(l.diameter_mm)];
        s.pred += 1;
        s.pred_matched += pred_matched(l.id) as u64;
    }
    out
}

/// Surface metrics of GT lesion `g` against the union of predictions `ps`, on their joint box grown by one
/// voxel.
#[allow(clippy::too_many_arguments)] // the two labellings and their lesion tables travel together
pub(crate) fn pair_surface(
    pc: &Components,
    gc: &Components,
    pl: &[Lesion],
    gl: &[Lesion],
    ps: &[u32],
    g: u32,
    frame: &Frame,
    options: &SurfaceOptions,
) -> Result<SurfaceMetrics, Error> {
    let gl = &gl[g as usize - 1];
    let (mut lo, mut hi) = (gl.lo, gl.hi);
    for &p in ps {
        let l = &pl[p as usize - 1];
        for a in 0..3 {
            lo[a] = lo[a].min(l.lo[a]);
            hi[a] = hi[a].max(l.hi[a]);
        }
    }
    let pm = pc.crop(|id| ps.contains(&id), lo, hi, 1);
    let gm = gc.crop(|id| id == g, lo, hi, 1);
    // Distances do not depend on the origin or an orthonormal direction: the spacing is all they need.
    Ok(mask_surface_metrics(pm, gm, &Frame::scaled(frame.spacing), options)?)
}
