//! Exact per-label overlap: voxel counts from one pass over both volumes (the rows that hold a label on either
//! side; a row empty on one side is read as zeros there), then Dice and IoU from the integers.
//!
//! Definitions (Metrics Reloaded; docs/METHODS.md A.3), for label `l` with `P = {pred == l}` and `G = {gt == l}`:
//! - `tp = |P ∩ G|`, `fp = |P| − tp`, `fn = |G| − tp`;
//! - Dice `= 2·tp / (|P| + |G|)`, IoU `= tp / (|P| + |G| − tp)`;
//! - both empty: Dice = IoU = 1; exactly one empty: Dice = IoU = 0 (MeshMetrics' convention), with
//!   [`EmptyState`] saying which case applied so that users can re-map it.

use std::collections::BTreeMap;

use segauge_io::{LabelVolume, Labels};

use crate::Error;

/// Which of the two masks of a label are empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum EmptyState {
    /// Both masks have voxels.
    None,
    /// The prediction has no voxel of the label; the ground truth has some.
    PredEmpty,
    /// The ground truth has no voxel of the label; the prediction has some.
    GtEmpty,
    /// Neither has a voxel of the label.
    BothEmpty,
}

impl EmptyState {
    /// The state of a label with the given voxel counts.
    pub fn of(voxels_pred: u64, voxels_gt: u64) -> EmptyState {
        match (voxels_pred == 0, voxels_gt == 0) {
            (false, false) => EmptyState::None,
            (true, false) => EmptyState::PredEmpty,
            (false, true) => EmptyState::GtEmpty,
            (true, true) => EmptyState::BothEmpty,
        }
    }

    /// The name used in segauge's outputs: `none`, `pred_empty`, `gt_empty`, `both_empty`.
    pub fn as_str(self) -> &'static str {
        match self {
            EmptyState::None => "none",
            EmptyState::PredEmpty => "pred_empty",
            EmptyState::GtEmpty => "gt_empty",
            EmptyState::BothEmpty => "both_empty",
        }
    }
}

/// Voxel counts of one label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LabelCounts {
    /// Voxels of the label in the prediction, `|P|`.
    pub voxels_pred: u64,
    /// Voxels of the label in the ground truth, `|G|`.
    pub voxels_gt: u64,
    /// Voxels of the label in both, `|P ∩ G|`.
    pub tp: u64,
}

impl LabelCounts {
    /// False positives, `|P| − tp`.
    pub fn fp(&self) -> u64 {
        self.voxels_pred - self.tp
    }

    /// False negatives, `|G| − tp`.
    pub fn fn_(&self) -> u64 {
        self.voxels_gt - self.tp
    }

    /// Which masks are empty.
    pub fn empty_state(&self) -> EmptyState {
        EmptyState::of(self.voxels_pred, self.voxels_gt)
    }

    /// Dice similarity coefficient `2·tp / (|P| + |G|)`; 1 when both are empty.
    ///
    /// ```
    /// use segauge_metrics::LabelCounts;
    /// let c = LabelCounts { voxels_pred: 30, voxels_gt: 50, tp: 20 };
    /// assert_eq!(c.dice(), 0.5);
    /// assert_eq!(LabelCounts::default().dice(), 1.0);
    /// ```
    pub fn dice(&self) -> f64 {
        let denom = self.voxels_pred + self.voxels_gt;
        if denom == 0 { 1.0 } else { (2 * self.tp) as f64 / denom as f64 }
    }

    /// Intersection over union (Jaccard) `tp / (|P| + |G| − tp)`; 1 when both are empty.
    ///
    /// ```
    /// use segauge_metrics::LabelCounts;
    /// let c = LabelCounts { voxels_pred: 30, voxels_gt: 50, tp: 20 };
    /// assert_eq!(c.iou(), 20.0 / 60.0);
    /// ```
    pub fn iou(&self) -> f64 {
        let union = self.voxels_pred + self.voxels_gt - self.tp;
        if union == 0 { 1.0 } else { self.tp as f64 / union as f64 }
    }
}

/// The counts of every label of a prediction and its ground truth.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OverlapCounts {
    counts: BTreeMap<u32, LabelCounts>,
    /// Voxels in each volume.
    total: u64,
    /// Voxels that are foreground (any non-zero label) in either volume.
    foreground_either: u64,
}

/// Volumes with a largest label up to this use dense count arrays; above it, a map.
const DENSE_LIMIT: u32 = 1 << 16;
/// Voxels per work item; each item's counts are integers, so the merge order cannot change the result.
const CHUNK: usize = 1 << 20;
/// Voxels per background-skip block.
const BLOCK: usize = 64;

impl OverlapCounts {
    /// Counts every label of `pred` and `gt` in one pass. Label 0 (background) is not listed by
    /// [`OverlapCounts::labels`], but [`OverlapCounts::get`] gives its counts (MONAI's background class).
    ///
    /// Only the shapes are compared here; check the full grid with [`segauge_io::Grid::check_same`] first.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the volumes have different shapes.
    ///
    /// ```
    /// use segauge_io::{Grid, LabelVolume, Labels};
    /// use segauge_metrics::OverlapCounts;
    /// let grid = Grid::new([6, 1, 1], [1.0; 3])?;
    /// let pred = LabelVolume::new(grid.clone(), Labels::U8(vec![0, 1, 1, 2, 2, 0]))?;
    /// let gt = LabelVolume::new(grid, Labels::U8(vec![0, 1, 2, 2, 2, 3]))?;
    /// let counts = OverlapCounts::compute(&pred, &gt)?;
    /// assert_eq!(counts.labels().collect::<Vec<_>>(), [1, 2, 3]);
    /// let two = counts.get(2);
    /// assert_eq!((two.voxels_pred, two.voxels_gt, two.tp), (2, 3, 2));
    /// assert_eq!(two.dice(), 0.8);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn compute(pred: &LabelVolume, gt: &LabelVolume) -> Result<OverlapCounts, Error> {
        let (a, b) = (pred.grid().dims(), gt.grid().dims());
        if a != b {
            return Err(Error::ShapeMismatch { pred: a, gt: b });
        }
        let max = pred.max_label().max(gt.max_label());
        let rows = Rows { nx: a[0], pred: pred.rows(), gt: gt.rows() };
        Ok(count_any(pred.labels(), gt.labels(), &rows, max))
    }

    /// The non-zero labels present in the prediction or the ground truth, ascending.
    pub fn labels(&self) -> impl Iterator<Item = u32> + '_ {
        self.counts.keys().copied()
    }

    /// The counts of `label` (all zero when it is in neither volume). Label 0 is the background, every voxel of no
    /// other label: its true positives are the voxels that are background in both volumes.
    ///
    /// ```
    /// use segauge_io::{Grid, LabelVolume, Labels};
    /// use segauge_metrics::OverlapCounts;
    /// let grid = Grid::new([6, 1, 1], [1.0; 3])?;
    /// let pred = LabelVolume::new(grid.clone(), Labels::U8(vec![0, 1, 1, 2, 2, 0]))?;
    /// let gt = LabelVolume::new(grid, Labels::U8(vec![0, 1, 2, 2, 2, 3]))?;
    /// let background = OverlapCounts::compute(&pred, &gt)?.get(0);
    /// assert_eq!((background.voxels_pred, background.voxels_gt, background.tp), (2, 1, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, label: u32) -> LabelCounts {
        if label == 0 {
            let (pred, gt) =
                self.counts.values().fold((0, 0), |(p, g), c| (p + c.voxels_pred, g + c.voxels_gt));
            return LabelCounts {
                voxels_pred: self.total - pred,
                voxels_gt: self.total - gt,
                tp: self.total - self.foreground_either,
            };
        }
        self.counts.get(&label).copied().unwrap_or_default()
    }
}

/// The rows of both volumes that hold labels (row length `nx`): the others are not read.
struct Rows<'a> {
    nx: usize,
    pred: &'a segauge_io::Rows,
    gt: &'a segauge_io::Rows,
}

fn count_any(pred: &Labels, gt: &Labels, rows: &Rows<'_>, max: u32) -> OverlapCounts {
    macro_rules! dispatch {
        ($($p:ident, $g:ident);*) => {
            match (pred, gt) {
                $((Labels::$p(p), Labels::$g(g)) => count(p, g, rows, max),)*
            }
        };
    }
    dispatch!(U8, U8; U8, U16; U8, U32; U16, U8; U16, U16; U16, U32; U32, U8; U32, U16; U32, U32)
}

/// A stored label type.
pub(crate) trait Label: Copy + Default + Into<u32> + Send + Sync {
    fn block_is_zero(block: &[Self]) -> bool;
}

macro_rules! impl_label {
    ($($t:ty),*) => {$(
        impl Label for $t {
            fn block_is_zero(block: &[Self]) -> bool {
                block.iter().fold(0, |acc, &x| acc | x) == 0
            }
        }
    )*};
}
impl_label!(u8, u16, u32);

/// Partial counts of one chunk: dense arrays indexed by label, or a map for very large labels.
/// The sparse form also counts the voxels that are foreground on either side (the dense form has them as the
/// voxels it visited minus its background-on-both count).
enum Partial {
    Dense { pred: Vec<u64>, gt: Vec<u64>, tp: Vec<u64> },
    Sparse(BTreeMap<u32, LabelCounts>, u64),
}

impl Partial {
    fn merge(self, other: Partial) -> Partial {
        match (self, other) {
            (Partial::Dense { mut pred, mut gt, mut tp }, Partial::Dense { pred: p2, gt: g2, tp: t2 }) => {
                for (a, b) in pred.iter_mut().zip(p2) {
                    *a += b;
                }
                for (a, b) in gt.iter_mut().zip(g2) {
                    *a += b;
                }
                for (a, b) in tp.iter_mut().zip(t2) {
                    *a += b;
                }
                Partial::Dense { pred, gt, tp }
            }
            (Partial::Sparse(mut a, either_a), Partial::Sparse(b, either_b)) => {
                for (l, c) in b {
                    let e = a.entry(l).or_default();
                    e.voxels_pred += c.voxels_pred;
                    e.voxels_gt += c.voxels_gt;
                    e.tp += c.tp;
                }
                Partial::Sparse(a, either_a + either_b)
            }
            _ => unreachable!("all chunks of one call use the same representation"),
        }
    }
}

fn count<P: Label, G: Label>(pred: &[P], gt: &[G], rows: &Rows<'_>, max: u32) -> OverlapCounts {
    debug_assert_eq!(pred.len(), gt.len());
    let dense = max < DENSE_LIMIT;
    let n = max as usize + 1;
    let nx = rows.nx.max(1);
    // A row without labels on one side is read as this row of zeros on that side.
    let (zp, zg) = (vec![P::default(); nx], vec![G::default(); nx]);
    let row = |r: usize| -> Option<(&[P], &[G])> {
        let (hp, hg) = (rows.pred.holds(r), rows.gt.holds(r));
        let span = r * nx..(r + 1) * nx;
        (hp || hg)
            .then(|| (if hp { &pred[span.clone()] } else { &zp[..] }, if hg { &gt[span] } else { &zg[..] }))
    };
    let chunk = |range: std::ops::Range<usize>| -> Partial {
        if dense {
            let (mut cp, mut cg, mut ct) = (vec![0u64; n], vec![0u64; n], vec![0u64; n]);
            for (p, g) in range.filter_map(row) {
                for (pb, gb) in p.chunks(BLOCK).zip(g.chunks(BLOCK)) {
                    if P::block_is_zero(pb) && G::block_is_zero(gb) {
                        continue;
                    }
                    for (&a, &b) in pb.iter().zip(gb) {
                        let (a, b): (u32, u32) = (a.into(), b.into());
                        cp[a as usize] += 1;
                        cg[b as usize] += 1;
                        ct[a as usize] += u64::from(a == b);
                    }
                }
            }
            Partial::Dense { pred: cp, gt: cg, tp: ct }
        } else {
            let mut m: BTreeMap<u32, LabelCounts> = BTreeMap::new();
            let mut either = 0u64;
            for (p, g) in range.filter_map(row) {
                for (&a, &b) in p.iter().zip(g) {
                    let (a, b): (u32, u32) = (a.into(), b.into());
                    either += u64::from(a != 0 || b != 0);
                    if a != 0 {
                        let e = m.entry(a).or_default();
                        e.voxels_pred += 1;
                        e.tp += u64::from(a == b);
                    }
                    if b != 0 {
                        m.entry(b).or_default().voxels_gt += 1;
                    }
                }
            }
            Partial::Sparse(m, either)
        }
    };
    // Work items of whole rows, about CHUNK voxels each.
    let (total_rows, per) = (pred.len() / nx, (CHUNK / nx).max(1));
    let items = total_rows.div_ceil(per);
    let item = |i: usize| chunk(i * per..((i + 1) * per).min(total_rows));
    #[cfg(feature = "parallel")]
    let total = {
        use rayon::prelude::*;
        (0..items).into_par_iter().map(item).reduce_with(Partial::merge)
    };
    #[cfg(not(feature = "parallel"))]
    let total = (0..items).map(item).reduce(Partial::merge);
    let (counts, foreground_either) = match total {
        None => (BTreeMap::new(), 0),
        Some(Partial::Sparse(m, either)) => (m, either),
        Some(Partial::Dense { pred, gt, tp }) => {
            // Every visited voxel is counted once in `pred`; those background on both sides are `tp[0]`.
            let visited: u64 = pred.iter().sum();
            let counts = (1..n)
                .filter(|&l| pred[l] + gt[l] > 0)
                .map(|l| (l as u32, LabelCounts { voxels_pred: pred[l], voxels_gt: gt[l], tp: tp[l] }))
                .collect();
            (counts, visited - tp[0])
        }
    };
    OverlapCounts { counts, total: pred.len() as u64, foreground_either }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(p: &[u32], g: &[u32]) -> BTreeMap<u32, LabelCounts> {
        let mut m: BTreeMap<u32, LabelCounts> = BTreeMap::new();
        for (&a, &b) in p.iter().zip(g) {
            if a != 0 {
                m.entry(a).or_default().voxels_pred += 1;
            }
            if b != 0 {
                m.entry(b).or_default().voxels_gt += 1;
            }
            if a != 0 && a == b {
                m.entry(a).or_default().tp += 1;
            }
        }
        m
    }

    /// Row length of the test volumes: rows span several skip blocks, and blocks cross no row.
    const NX: usize = 2 * BLOCK + 23;

    /// The counts of two label arrays as volumes of rows of `NX` voxels.
    fn counts(p: Labels, g: Labels) -> OverlapCounts {
        let grid = segauge_io::Grid::new([NX, p.len() / NX, 1], [1.0; 3]).unwrap();
        let vol = |l| LabelVolume::new(grid.clone(), l).unwrap();
        OverlapCounts::compute(&vol(p), &vol(g)).unwrap()
    }

    /// Label 0 against a direct count, on the dense path and the sparse one (labels above the dense limit).
    #[test]
    fn background_counts_agree_with_a_direct_count() {
        let len = NX * 15;
        // Rows 0 and 1 of the prediction and rows 0 and 4 of the ground truth are empty.
        let p: Vec<u32> = (0..len).map(|i| if i < 2 * NX { 0 } else { (i % 4) as u32 }).collect();
        let g: Vec<u32> =
            (0..len).map(|i| if i < NX || i / NX == 4 || i % 7 == 0 { 0 } else { (i % 3) as u32 }).collect();
        let direct = LabelCounts {
            voxels_pred: p.iter().filter(|&&a| a == 0).count() as u64,
            voxels_gt: g.iter().filter(|&&b| b == 0).count() as u64,
            tp: p.iter().zip(&g).filter(|&(&a, &b)| a == 0 && b == 0).count() as u64,
        };
        assert_eq!(counts(Labels::from_u32(p.clone()), Labels::from_u32(g.clone())).get(0), direct);
        let big = |v: &[u32]| v.iter().map(|&x| if x == 0 { 0 } else { x + DENSE_LIMIT }).collect::<Vec<_>>();
        assert_eq!(counts(Labels::U32(big(&p)), Labels::U32(big(&g))).get(0), direct);
    }

    #[test]
    fn every_type_pair_and_the_sparse_path_agree_with_a_naive_count() {
        // Labels in runs so that both the background-skip and the per-voxel path are exercised, and rows empty
        // on one side or both.
        let len = NX * 9;
        let p: Vec<u32> = (0..len).map(|i| if i < NX + 2 * BLOCK { 0 } else { (i % 5) as u32 }).collect();
        let g: Vec<u32> =
            (0..len).map(|i| if i < BLOCK || i / NX == 3 { 0 } else { (i % 3) as u32 * 2 }).collect();
        let want = naive(&p, &g);
        for lp in [
            Labels::U8(p.iter().map(|&v| v as u8).collect()),
            Labels::U16(p.iter().map(|&v| v as u16).collect()),
        ] {
            for lg in [Labels::U8(g.iter().map(|&v| v as u8).collect()), Labels::U32(g.clone())] {
                assert_eq!(counts(lp.clone(), lg).counts, want);
            }
        }
        // Labels above the dense limit.
        let big = |v: &[u32]| Labels::U32(v.iter().map(|&x| if x == 0 { 0 } else { x + 100_000 }).collect());
        let want_big: BTreeMap<u32, LabelCounts> = want.iter().map(|(&l, &c)| (l + 100_000, c)).collect();
        assert_eq!(counts(big(&p), big(&g)).counts, want_big);
    }

    #[test]
    fn empty_conventions() {
        let one_empty = LabelCounts { voxels_pred: 0, voxels_gt: 4, tp: 0 };
        assert_eq!(
            (one_empty.dice(), one_empty.iou(), one_empty.empty_state()),
            (0.0, 0.0, EmptyState::PredEmpty)
        );
        let both = LabelCounts::default();
        assert_eq!((both.dice(), both.iou(), both.empty_state()), (1.0, 1.0, EmptyState::BothEmpty));
        assert_eq!(EmptyState::of(3, 0).as_str(), "gt_empty");
    }
}
