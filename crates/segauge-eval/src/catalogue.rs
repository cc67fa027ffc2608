//! The metric catalogue: every per-label number segauge can write, with its key, display name, unit, the
//! direction that is better, how it is aggregated, how it is read from a case record and which options create it.
//!
//! Aggregation, ranking, every writer and the report take names, units and directions from here and nowhere
//! else. **Architecture Invariant:** a metric is added by adding a [`Metric`] variant and its rows in the
//! `match`es below; the compiler then points at every place that must know about it, so a key, a unit or a
//! direction cannot disagree between two outputs (before this catalogue, four string lists disagreed, and the
//! ranking took `lesion_wise_hd95` for higher-is-better).

use std::borrow::Cow;

use segauge_lesion::MatchRule;

use crate::measure::LabelResult;
use crate::options::EvalOptions;

/// A per-label quantity of a case record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Metric {
    /// Dice coefficient `2|P∩G| / (|P| + |G|)`.
    Dice,
    /// Intersection over union `|P∩G| / |P∪G|`.
    Iou,
    /// Hausdorff distance (mm).
    Hd,
    /// Robust Hausdorff distance at the options' percentile (mm), key `hd95` for 95.
    HdPercentile,
    /// Average symmetric surface distance, pooled (mm).
    Assd,
    /// Mean of the two directed average surface distances (mm).
    Masd,
    /// Normalised surface distance at tolerance tau.
    Nsd,
    /// Boundary IoU at tolerance tau.
    Biou,
    /// Directed HD from the prediction to the ground truth (mm): over-segmentation.
    HdPredToGt,
    /// Directed HD from the ground truth to the prediction (mm): under-segmentation.
    HdGtToPred,
    /// Directed `HD_p`, prediction to ground truth (mm).
    HdPercentilePredToGt,
    /// Directed `HD_p`, ground truth to prediction (mm).
    HdPercentileGtToPred,
    /// Directed average surface distance, prediction to ground truth (mm).
    AsdPredToGt,
    /// Directed average surface distance, ground truth to prediction (mm).
    AsdGtToPred,
    /// Voxels in both masks.
    Tp,
    /// Voxels in the prediction only.
    Fp,
    /// Voxels in the ground truth only.
    Fn,
    /// Voxels of the prediction.
    VoxelsPred,
    /// Voxels of the ground truth.
    VoxelsGt,
    /// Volume of the prediction (mm³).
    VolumePred,
    /// Volume of the ground truth (mm³).
    VolumeGt,
    /// Which masks are empty (text).
    EmptyState,
    /// Ground-truth lesions (connected components).
    LesionGt,
    /// Predicted lesions.
    LesionPred,
    /// Detected ground-truth lesions.
    LesionTp,
    /// Predicted lesions matching no ground-truth lesion.
    LesionFp,
    /// Ground-truth lesions not detected.
    LesionFn,
    /// Lesion precision (aggregated as the ratio of summed counts).
    LesionPrecision,
    /// Lesion recall (aggregated as the ratio of summed counts).
    LesionRecall,
    /// Lesion F1 (aggregated as the ratio of summed counts).
    LesionF1,
    /// Panoptic quality.
    LesionPq,
    /// BraTS 2023 lesion-wise Dice.
    LesionWiseDice,
    /// BraTS 2023 lesion-wise HD at the options' percentile (mm).
    LesionWiseHd95,
}

/// The unit of a metric's values, which also sets how many decimals people are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unit {
    /// A score in [0, 1] (no unit).
    Score,
    /// A distance in millimetres.
    Mm,
    /// A volume in cubic millimetres.
    Mm3,
    /// A number of voxels.
    Voxels,
    /// A number of lesions.
    Lesions,
    /// Text (a state, not a number).
    Text,
}

impl Unit {
    /// The unit's symbol after a number (`mm`, `mm³`, `voxels`, `lesions`), empty for scores and text.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Mm => "mm",
            Unit::Mm3 => "mm³",
            Unit::Voxels => "voxels",
            Unit::Lesions => "lesions",
            Unit::Score | Unit::Text => "",
        }
    }
}

/// Which values of a metric are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Better {
    /// Larger values are better (overlap scores).
    Higher,
    /// Smaller values are better (distances, errors).
    Lower,
    /// Neither: a description of the case, not a quality (counts, volumes).
    Neither,
}

/// How a metric enters the data-set aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Aggregation {
    /// The mean of the per-case values, after the inf/NaN policy.
    Mean,
    /// The ratio of the per-case counts summed over the cases (micro detection scores).
    Micro,
    /// Not aggregated (counts, volumes, states).
    None,
}

/// A metric's value in one case record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A real number (may be `inf` or `NaN`).
    Number(f64),
    /// A count.
    Count(u64),
    /// A state.
    Text(&'static str),
    /// Not computed for this label (e.g. lesion-wise HD without surface metrics).
    Missing,
}

impl Value {
    /// The value as a real number (counts converted; text and missing values are NaN).
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Number(v) => v,
            Value::Count(n) => n as f64,
            Value::Text(_) | Value::Missing => f64::NAN,
        }
    }
}

/// Every metric, in output order.
pub const ALL: [Metric; 33] = [
    Metric::Dice,
    Metric::Iou,
    Metric::Hd,
    Metric::HdPercentile,
    Metric::Assd,
    Metric::Masd,
    Metric::Nsd,
    Metric::Biou,
    Metric::HdPredToGt,
    Metric::HdGtToPred,
    Metric::HdPercentilePredToGt,
    Metric::HdPercentileGtToPred,
    Metric::AsdPredToGt,
    Metric::AsdGtToPred,
    Metric::Tp,
    Metric::Fp,
    Metric::Fn,
    Metric::VoxelsPred,
    Metric::VoxelsGt,
    Metric::VolumePred,
    Metric::VolumeGt,
    Metric::EmptyState,
    Metric::LesionGt,
    Metric::LesionPred,
    Metric::LesionTp,
    Metric::LesionFp,
    Metric::LesionFn,
    Metric::LesionPrecision,
    Metric::LesionRecall,
    Metric::LesionF1,
    Metric::LesionPq,
    Metric::LesionWiseDice,
    Metric::LesionWiseHd95,
];

/// What creates a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Always computed.
    Overlap,
    /// Surface metrics (`EvalOptions::surface`).
    Surface,
    /// Lesion detection (`EvalOptions::lesions`).
    Lesions,
    /// Lesion detection under the BraTS 2023 rule.
    Brats,
    /// The BraTS rule with surface metrics (lesion-wise HD).
    BratsSurface,
}

impl Metric {
    /// The metric's field name in JSON, CSV and the results' `metric` column; `percentile` names `hd<P>`
    /// (`hd95`, `hd99.5`).
    ///
    /// ```
    /// use segauge_eval::Metric;
    /// assert_eq!(Metric::Dice.key(95.0), "dice");
    /// assert_eq!(Metric::HdPercentile.key(99.5), "hd99.5");
    /// ```
    pub fn key(self, percentile: f64) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Metric::Dice => "dice",
            Metric::Iou => "iou",
            Metric::Hd => "hd",
            Metric::HdPercentile => return Cow::Owned(format!("hd{}", short(percentile))),
            Metric::Assd => "assd",
            Metric::Masd => "masd",
            Metric::Nsd => "nsd",
            Metric::Biou => "biou",
            Metric::HdPredToGt => "hd_pred_gt",
            Metric::HdGtToPred => "hd_gt_pred",
            Metric::HdPercentilePredToGt => return Cow::Owned(format!("hd{}_pred_gt", short(percentile))),
            Metric::HdPercentileGtToPred => return Cow::Owned(format!("hd{}_gt_pred", short(percentile))),
            Metric::AsdPredToGt => "asd_pred_gt",
            Metric::AsdGtToPred => "asd_gt_pred",
            Metric::Tp => "tp",
            Metric::Fp => "fp",
            Metric::Fn => "fn",
            Metric::VoxelsPred => "voxels_pred",
            Metric::VoxelsGt => "voxels_gt",
            Metric::VolumePred => "volume_pred_mm3",
            Metric::VolumeGt => "volume_gt_mm3",
            Metric::EmptyState => "empty_state",
            Metric::LesionGt => "lesion_gt",
            Metric::LesionPred => "lesion_pred",
            Metric::LesionTp => "lesion_tp",
            Metric::LesionFp => "lesion_fp",
            Metric::LesionFn => "lesion_fn",
            Metric::LesionPrecision => "lesion_precision",
            Metric::LesionRecall => "lesion_recall",
            Metric::LesionF1 => "lesion_f1",
            Metric::LesionPq => "lesion_pq",
            Metric::LesionWiseDice => "lesion_wise_dice",
            Metric::LesionWiseHd95 => "lesion_wise_hd95",
        })
    }

    /// The name people read (`Dice`, `HD95`, `Lesion F1`).
    pub fn name(self, percentile: f64) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Metric::Dice => "Dice",
            Metric::Iou => "IoU",
            Metric::Hd => "HD",
            Metric::HdPercentile => return Cow::Owned(format!("HD{}", short(percentile))),
            Metric::Assd => "ASSD",
            Metric::Masd => "MASD",
            Metric::Nsd => "NSD",
            Metric::Biou => "BIoU",
            Metric::HdPredToGt => "HD pred→GT",
            Metric::HdGtToPred => "HD GT→pred",
            Metric::HdPercentilePredToGt => return Cow::Owned(format!("HD{} pred→GT", short(percentile))),
            Metric::HdPercentileGtToPred => return Cow::Owned(format!("HD{} GT→pred", short(percentile))),
            Metric::AsdPredToGt => "ASD pred→GT",
            Metric::AsdGtToPred => "ASD GT→pred",
            Metric::Tp => "TP voxels",
            Metric::Fp => "FP voxels",
            Metric::Fn => "FN voxels",
            Metric::VoxelsPred => "Voxels (pred)",
            Metric::VoxelsGt => "Voxels (GT)",
            Metric::VolumePred => "Volume (pred)",
            Metric::VolumeGt => "Volume (GT)",
            Metric::EmptyState => "Empty masks",
            Metric::LesionGt => "GT lesions",
            Metric::LesionPred => "Predicted lesions",
            Metric::LesionTp => "Detected lesions",
            Metric::LesionFp => "False-positive lesions",
            Metric::LesionFn => "Missed lesions",
            Metric::LesionPrecision => "Lesion precision",
            Metric::LesionRecall => "Lesion recall",
            Metric::LesionF1 => "Lesion F1",
            Metric::LesionPq => "Lesion PQ",
            Metric::LesionWiseDice => "Lesion-wise Dice",
            Metric::LesionWiseHd95 => return Cow::Owned(format!("Lesion-wise HD{}", short(percentile))),
        })
    }

    /// The unit of the metric's values.
    pub fn unit(self) -> Unit {
        match self {
            Metric::Dice
            | Metric::Iou
            | Metric::Nsd
            | Metric::Biou
            | Metric::LesionPrecision
            | Metric::LesionRecall
            | Metric::LesionF1
            | Metric::LesionPq
            | Metric::LesionWiseDice => Unit::Score,
            Metric::Hd
            | Metric::HdPercentile
            | Metric::Assd
            | Metric::Masd
            | Metric::HdPredToGt
            | Metric::HdGtToPred
            | Metric::HdPercentilePredToGt
            | Metric::HdPercentileGtToPred
            | Metric::AsdPredToGt
            | Metric::AsdGtToPred
            | Metric::LesionWiseHd95 => Unit::Mm,
            Metric::Tp | Metric::Fp | Metric::Fn | Metric::VoxelsPred | Metric::VoxelsGt => Unit::Voxels,
            Metric::VolumePred | Metric::VolumeGt => Unit::Mm3,
            Metric::LesionGt
            | Metric::LesionPred
            | Metric::LesionTp
            | Metric::LesionFp
            | Metric::LesionFn => Unit::Lesions,
            Metric::EmptyState => Unit::Text,
        }
    }

    /// Which values are better (rankings, paired comparisons, "worst case" lists).
    pub fn better(self) -> Better {
        match self.unit() {
            Unit::Score => Better::Higher,
            Unit::Mm => Better::Lower,
            Unit::Mm3 | Unit::Voxels | Unit::Lesions | Unit::Text => Better::Neither,
        }
    }

    /// How the metric is aggregated over cases.
    pub fn aggregation(self) -> Aggregation {
        match self {
            Metric::Dice
            | Metric::Iou
            | Metric::Hd
            | Metric::HdPercentile
            | Metric::Assd
            | Metric::Masd
            | Metric::Nsd
            | Metric::Biou
            | Metric::HdPredToGt
            | Metric::HdGtToPred
            | Metric::HdPercentilePredToGt
            | Metric::HdPercentileGtToPred
            | Metric::AsdPredToGt
            | Metric::AsdGtToPred
            | Metric::LesionWiseDice
            | Metric::LesionWiseHd95 => Aggregation::Mean,
            Metric::LesionPrecision | Metric::LesionRecall | Metric::LesionF1 => Aggregation::Micro,
            _ => Aggregation::None,
        }
    }

    /// Whether an infinite value means "no surface to reach" (a structure missed or invented): the distances
    /// capped by the `cap` policy.
    pub fn is_distance(self) -> bool {
        self.unit() == Unit::Mm
    }

    /// Whether the metric is one of the flat `lesion_*` fields, which the per-case CSV carries as columns and
    /// the JSON nests in each row's `lesions` object.
    pub fn is_lesion_field(self) -> bool {
        self.source() != Source::Overlap && self.source() != Source::Surface
    }

    fn source(self) -> Source {
        match self {
            Metric::Hd
            | Metric::HdPercentile
            | Metric::Assd
            | Metric::Masd
            | Metric::Nsd
            | Metric::Biou
            | Metric::HdPredToGt
            | Metric::HdGtToPred
            | Metric::HdPercentilePredToGt
            | Metric::HdPercentileGtToPred
            | Metric::AsdPredToGt
            | Metric::AsdGtToPred => Source::Surface,
            Metric::LesionGt
            | Metric::LesionPred
            | Metric::LesionTp
            | Metric::LesionFp
            | Metric::LesionFn
            | Metric::LesionPrecision
            | Metric::LesionRecall
            | Metric::LesionF1
            | Metric::LesionPq => Source::Lesions,
            Metric::LesionWiseDice => Source::Brats,
            Metric::LesionWiseHd95 => Source::BratsSurface,
            _ => Source::Overlap,
        }
    }

    /// The metric's value in one label's record ([`Value::Missing`] when its options did not compute it).
    pub fn value(self, l: &LabelResult) -> Value {
        let s = l.surface.as_ref();
        let r = l.lesions.as_ref();
        let num = |v: Option<f64>| v.map_or(Value::Missing, Value::Number);
        let count = |v: Option<u64>| v.map_or(Value::Missing, Value::Count);
        match self {
            Metric::Dice => Value::Number(l.dice()),
            Metric::Iou => Value::Number(l.iou()),
            Metric::Hd => num(s.map(|s| s.hd)),
            Metric::HdPercentile => num(s.map(|s| s.hd_percentile)),
            Metric::Assd => num(s.map(|s| s.assd)),
            Metric::Masd => num(s.map(|s| s.masd)),
            Metric::Nsd => num(s.map(|s| s.nsd)),
            Metric::Biou => num(s.map(|s| s.biou)),
            Metric::HdPredToGt => num(s.map(|s| s.hd_pred_to_gt)),
            Metric::HdGtToPred => num(s.map(|s| s.hd_gt_to_pred)),
            Metric::HdPercentilePredToGt => num(s.map(|s| s.hd_percentile_pred_to_gt)),
            Metric::HdPercentileGtToPred => num(s.map(|s| s.hd_percentile_gt_to_pred)),
            Metric::AsdPredToGt => num(s.map(|s| s.asd_pred_to_gt)),
            Metric::AsdGtToPred => num(s.map(|s| s.asd_gt_to_pred)),
            Metric::Tp => Value::Count(l.counts.tp),
            Metric::Fp => Value::Count(l.counts.fp()),
            Metric::Fn => Value::Count(l.counts.fn_()),
            Metric::VoxelsPred => Value::Count(l.counts.voxels_pred),
            Metric::VoxelsGt => Value::Count(l.counts.voxels_gt),
            Metric::VolumePred => Value::Number(l.volume_pred_mm3()),
            Metric::VolumeGt => Value::Number(l.volume_gt_mm3()),
            Metric::EmptyState => Value::Text(l.empty_state().as_str()),
            Metric::LesionGt => count(r.map(|r| r.gt.len() as u64)),
            Metric::LesionPred => count(r.map(|r| r.pred.len() as u64)),
            Metric::LesionTp => count(r.map(|r| r.tp)),
            Metric::LesionFp => count(r.map(|r| r.fp)),
            Metric::LesionFn => count(r.map(|r| r.fn_)),
            Metric::LesionPrecision => num(r.map(|r| r.precision())),
            Metric::LesionRecall => num(r.map(|r| r.recall())),
            Metric::LesionF1 => num(r.map(|r| r.f1())),
            Metric::LesionPq => num(r.map(|r| r.pq())),
            Metric::LesionWiseDice => num(r.and_then(|r| r.brats).map(|b| b.lesion_wise_dice)),
            Metric::LesionWiseHd95 => num(r.and_then(|r| r.brats).and_then(|b| b.lesion_wise_hd95)),
        }
    }

    /// The summed counts `(numerator, denominator)` of a micro score from a label's lesion totals
    /// `(tp, fp, fn)`; `None` for other metrics.
    pub fn micro_ratio(self, tp: f64, fp: f64, fn_: f64) -> Option<(f64, f64)> {
        match self {
            Metric::LesionPrecision => Some((tp, tp + fp)),
            Metric::LesionRecall => Some((tp, tp + fn_)),
            Metric::LesionF1 => Some((2.0 * tp, 2.0 * tp + fp + fn_)),
            _ => None,
        }
    }
}

/// The metrics that options create, with the percentile that names `hd<P>`: what a run's outputs hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    metrics: Vec<Metric>,
    percentile: f64,
    /// Under the BraTS rule its lesion-wise scores replace the micro detection scores in aggregates (the
    /// rule's counts are of merged lesions).
    brats: bool,
}

impl Catalogue {
    /// The metrics computed under `options`, in output order.
    ///
    /// ```
    /// use segauge_eval::{Catalogue, EvalOptions, Metric};
    /// let c = Catalogue::new(&EvalOptions::default());
    /// assert_eq!(c.find("hd95"), Some(Metric::HdPercentile));
    /// assert_eq!(c.aggregated().count(), 17); // 14 overlap and surface means, 3 micro detection scores
    /// let overlap_only = Catalogue::new(&EvalOptions { surface: None, lesions: None, ..Default::default() });
    /// assert_eq!(overlap_only.find("hd95"), None);
    /// ```
    pub fn new(options: &EvalOptions) -> Catalogue {
        let surface = options.surface.is_some();
        let brats = options.lesions.as_ref().is_some_and(|l| l.rule == MatchRule::Brats2023);
        let metrics = ALL
            .into_iter()
            .filter(|m| match m.source() {
                Source::Overlap => true,
                Source::Surface => surface,
                Source::Lesions => options.lesions.is_some(),
                Source::Brats => brats,
                Source::BratsSurface => brats && surface,
            })
            .collect();
        let percentile = options.surface.as_ref().map_or(95.0, |s| s.percentile);
        Catalogue { metrics, percentile, brats }
    }

    /// The metrics, in output order.
    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    /// The metrics that are aggregated (means, then micro scores; under the BraTS rule no micro scores), in
    /// output order.
    pub fn aggregated(&self) -> impl Iterator<Item = Metric> + '_ {
        let of = |a: Aggregation| self.metrics.iter().copied().filter(move |m| m.aggregation() == a);
        of(Aggregation::Mean).chain(of(Aggregation::Micro).filter(|_| !self.brats))
    }

    /// The percentile of `hd<P>`.
    pub fn percentile(&self) -> f64 {
        self.percentile
    }

    /// A metric's key under these options.
    pub fn key(&self, metric: Metric) -> Cow<'static, str> {
        metric.key(self.percentile)
    }

    /// A metric's display name under these options.
    pub fn name(&self, metric: Metric) -> Cow<'static, str> {
        metric.name(self.percentile)
    }

    /// The metric of a key, among those these options compute.
    pub fn find(&self, key: &str) -> Option<Metric> {
        self.metrics.iter().copied().find(|&m| self.key(m) == key)
    }
}

/// A percentile as written in keys: shortest round-trip form (`95`, `99.5`).
fn short(p: f64) -> String {
    format!("{p}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use segauge_lesion::LesionOptions;
    use segauge_metrics::SurfaceOptions;

    /// Every option combination that changes which metrics exist.
    fn every_options() -> Vec<EvalOptions> {
        let mut out = Vec::new();
        for surface in [None, Some(SurfaceOptions::default())] {
            for rule in [None, Some(MatchRule::Iou), Some(MatchRule::Overlap), Some(MatchRule::Brats2023)] {
                let lesions = rule.map(|rule| LesionOptions { rule, ..Default::default() });
                out.push(EvalOptions { surface: surface.clone(), lesions, ..Default::default() });
            }
        }
        out
    }

    #[test]
    fn every_metric_that_can_appear_has_a_unit_a_direction_and_one_key() {
        for options in every_options() {
            let c = Catalogue::new(&options);
            let mut keys = std::collections::BTreeSet::new();
            for &m in c.metrics() {
                let key = c.key(m);
                assert!(keys.insert(key.clone()), "{key} twice");
                assert!(!c.name(m).is_empty());
                // A unit with a symbol, or a score; a direction for everything aggregated.
                assert!(m.unit() != Unit::Text || m == Metric::EmptyState, "{key}");
                if m.aggregation() != Aggregation::None {
                    assert_ne!(m.better(), Better::Neither, "{key} is aggregated and ranked");
                    assert!(matches!(m.unit(), Unit::Score | Unit::Mm), "{key}");
                }
                assert_eq!(c.find(&key), Some(m));
            }
        }
        // Every variant occurs under some options.
        let seen: std::collections::BTreeSet<Metric> =
            every_options().iter().flat_map(|o| Catalogue::new(o).metrics().to_vec()).collect();
        assert_eq!(seen.len(), ALL.len());
    }

    #[test]
    fn distances_are_lower_is_better_scores_higher() {
        for m in [Metric::Hd, Metric::HdPercentile, Metric::Assd, Metric::Masd, Metric::LesionWiseHd95] {
            assert_eq!((m.unit(), m.better()), (Unit::Mm, Better::Lower));
            assert!(m.is_distance());
        }
        for m in [Metric::Dice, Metric::Nsd, Metric::Biou, Metric::LesionF1, Metric::LesionWiseDice] {
            assert_eq!(m.better(), Better::Higher);
        }
        assert_eq!(Metric::LesionWiseHd95.name(95.0), "Lesion-wise HD95");
    }

    #[test]
    fn micro_ratios_are_the_detection_scores_of_summed_counts() {
        // tp 3, fp 1, fn 2: precision 3/4, recall 3/5, F1 6/9.
        assert_eq!(Metric::LesionPrecision.micro_ratio(3.0, 1.0, 2.0), Some((3.0, 4.0)));
        assert_eq!(Metric::LesionRecall.micro_ratio(3.0, 1.0, 2.0), Some((3.0, 5.0)));
        assert_eq!(Metric::LesionF1.micro_ratio(3.0, 1.0, 2.0), Some((6.0, 9.0)));
        assert_eq!(Metric::Dice.micro_ratio(3.0, 1.0, 2.0), None);
    }
}
