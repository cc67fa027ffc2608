//! Surface-distance metrics: HD, HD_p, ASSD, MASD, NSD and BIoU, from area-weighted distance samples.
//!
//! For each label both masks are meshed (the [`Surface`] chosen), every triangle contributes one sample: the exact
//! distance from its centroid to the other mesh, weighted by its area (the MeshMetrics method). The `grid`
//! surface instead uses boundary voxels (mask minus its 6-connected erosion) with unit weights and the exact
//! Euclidean distance transform (MONAI and medpy's convention); the `surfels` surface uses DeepMind's voxel-corner
//! surfels with neighbour-code areas (`surfels.rs`, docs/METHODS.md A.6). From the two directed sample sets
//! (ground truth → prediction and prediction → ground truth), with weights `w` and distances `d`:
//!
//! - directed percentile `P_q`: sort by `d`; `C_k = w_1 + … + w_k`; the smallest `k` with `C_k / W ≥ q/100`
//!   (no interpolation; `W` summed as numpy's pairwise `np.sum`, `C_k` sequentially as `np.cumsum`, so that
//!   results match MeshMetrics and DeepMind bit for bit at ties);
//! - `HD_p = max(P_p(gt→pred), P_p(pred→gt))`, `HD = HD_100` (docs/METHODS.md A.3);
//! - `ASSD = (Σ w·d over both) / (W_gt + W_pred)` (pooled); `MASD` = mean of the two directed weighted means;
//! - `NSD_τ` = weight of samples with `d ≤ τ` over both directions / `(W_gt + W_pred)`;
//! - `BIoU_τ`: for each mask, its foreground voxels whose centre lies closer than `τ` (strict) to the mask's own
//!   voxel-face surface (MeshMetrics' definition, whatever the surface chosen for the distances: BIoU is a metric
//!   of the voxel grid); BIoU is the IoU of these two voxel sets. Voxel centres are placed correctly for any
//!   direction matrix (MeshMetrics' BIoU is only right for an identity direction). When both masks have voxels
//!   but neither has a voxel centre within `τ` of its surface (τ at most half the smallest spacing), both boundary
//!   bands are empty and BIoU is undefined: NaN, never 1 (two disjoint masks would otherwise score perfect).
//!
//! - directed NSD: the weight fraction of one direction's samples with `d ≤ τ` (DeepMind's surface overlap).
//!
//! Empty masks: both empty gives distances 0 and NSD = BIoU = 1; one empty gives distances +inf and NSD = BIoU = 0,
//! as MeshMetrics; [`BothEmpty`] also offers NaN and DeepMind's and MONAI's values (docs/METHODS.md A.8);
//! [`crate::EmptyState`] says which case applied.
//!
//! Frames: each label is meshed in its box (plus one background voxel) placed in the image's scaled index space
//! (`x = spacing ⊙ index`), where every metric is invariant to origin and direction. `smooth-vtk` is the exception:
//! VTK rounds world points to float32, so its box is placed where VTK sees it, in the LPS world frame SimpleITK gives
//! VTK in MeshMetrics (RAS gives the same bits with x and y negated). Its meshes are then VTK 9.7.2's own
//! (`vtkSurfaceNets3D`, `SetValue(0, 1)`) bit for bit, and its metrics equal MeshMetrics' distance code on them
//! to 3e-14 relative (all 40 labels shared by TotalSegmentator 2.18.0's two 3 mm test outputs). The `vtk-f32`
//! voxel faces are also placed in VTK's world frame ([`VtkF32`], in RAS: the same distances).
//!
//! 2D images (a grid with exactly one axis of extent 1; docs/METHODS.md A.9) are measured on contours in their plane
//! instead: each surface becomes its 2D counterpart (pixel edges, smoothed or VTK's 2D SurfaceNets, marching squares,
//! 4-connected boundary pixels), one sample per segment at its midpoint weighted by its length, exact distances to
//! the other contour ([`segauge_mesh::SegmentIndex`]); BIoU's band stays in the plane. A one-voxel grid or a line of
//! voxels keeps the 3D rule. `vtk-f32` placement is refused on 2D images.

use std::collections::BTreeMap;
use std::str::FromStr;

use segauge_io::LabelVolume;
use segauge_mesh::{
    Contour, ContourSmoothing, DistanceIndex, Frame, Mask, Mesh, PlaneFrame, Precision, QuadSplit,
    SegmentIndex, SurfaceNetsOptions, VtkF32, contour_nets, marching_cubes, marching_squares, pixel_edges,
    surface_nets_with, voxel_faces, voxel_faces_vtk_f32,
};

use crate::crop::{
    VoxelBox, crop_mask, crop_plane, label_box, label_boxes, largest_first, plane_axes, vtk_world_frame,
};
use crate::grid::{banded_edt_squared, boundary, boundary_in_plane, edt_squared, near_background};
use crate::surfels::Surfels;
use crate::{EmptyState, Error};

/// The surface on which distances are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Surface {
    /// The boundary of the union of voxel boxes, triangulated as MeshMetrics (unsmoothed SurfaceNets).
    VoxelFaces,
    /// VTK's SurfaceNets with its default constrained smoothing (VTK 9.7's algorithm, on the mask padded by one
    /// background voxel, so the surface is closed), computed in f64 instead of VTK's float32, with each quad split
    /// into four triangles at its centre: a mask and its mirror image then give the same metrics (to ~1e-13).
    /// Each closed surface component keeps the volume its voxels state while it is smoothed (a component seen in
    /// one slice thicker than it is wide is given its own width as thickness), so that small and distant pieces
    /// keep their share of the surface (docs/METHODS.md A.6). segauge's default: the closest to analytic truth over
    /// the accuracy suite, small objects and distant fragments included (README).
    Smooth,
    /// VTK's smoothed SurfaceNets bit for bit (float32 points, two triangles per quad by MIN_EDGE), each box
    /// meshed in the image's world frame as VTK sees it (module docs): reproduces MeshMetrics' distance code on
    /// VTK's smoothed surface. Not mirror-invariant (VTK's diagonal tie-break); origin and direction move it at
    /// float32 rounding level.
    SmoothVtk,
    /// Marching cubes at iso 0.5 (segauge's own table; vertices at edge midpoints). Not MeshMetrics-compatible.
    MarchingCubes,
    /// Boundary voxels and an exact EDT between voxel centres, unit weights (MONAI, medpy).
    Grid,
    /// DeepMind surface-distance's surfels: voxel corners whose 2×2×2 block is neither empty nor full, weighted by
    /// the block's neighbour-code area, with exact EDT distances between corners ([`crate`] docs, METHODS A.6).
    /// An image one voxel thick is measured as DeepMind's 2D contour (2×2 blocks, contour lengths).
    Surfels,
}

impl Surface {
    /// The name used on the command line and in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Surface::VoxelFaces => "voxel-faces",
            Surface::Smooth => "smooth",
            Surface::SmoothVtk => "smooth-vtk",
            Surface::MarchingCubes => "marching-cubes",
            Surface::Grid => "grid",
            Surface::Surfels => "surfels",
        }
    }
}

impl FromStr for Surface {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        // One source for the names: `as_str`.
        const ALL: [Surface; 6] = [
            Surface::VoxelFaces,
            Surface::Smooth,
            Surface::SmoothVtk,
            Surface::MarchingCubes,
            Surface::Grid,
            Surface::Surfels,
        ];
        ALL.into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| Error::InvalidOption { detail: format!("unknown surface {s:?}") })
    }
}

/// How the two directed percentiles combine into `HD_p`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PercentileRule {
    /// The larger of the two directed percentiles (MeshMetrics, DeepMind, MONAI).
    #[default]
    DirectedMax,
    /// One percentile of both directions' samples pooled (medpy, seg-metrics).
    Pooled,
}

/// How a directed percentile is read from its samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PercentileInterpolation {
    /// The first sample whose cumulative weight reaches the fraction (numpy's `inverted_cdf` with weights;
    /// MeshMetrics, DeepMind): every value is a distance that occurs.
    #[default]
    InvertedCdf,
    /// numpy's default `linear` on the samples' distances, weights ignored (medpy's `numpy.percentile`, MONAI's
    /// `torch.quantile`): meaningful where every sample weighs the same, the grid surface.
    Linear,
}

impl PercentileInterpolation {
    /// The name in options and outputs: `inverted-cdf`, `linear`.
    pub fn as_str(self) -> &'static str {
        match self {
            PercentileInterpolation::InvertedCdf => "inverted-cdf",
            PercentileInterpolation::Linear => "linear",
        }
    }
}

/// The values of a structure absent from both masks, and, for the two peer conventions, from one mask
/// (docs/METHODS.md A.8; [`SurfaceMetrics::empty_as`] gives every value).
///
/// With `one` and `nan`, one empty mask gives distances +inf, NSD and BIoU 0, and a directed value from the empty
/// surface NaN (it has no sample). `deepmind` and `monai` give what those tools give, bit for bit on their tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum BothEmpty {
    /// A perfect match: distances 0, Dice, IoU, NSD and BIoU 1 (MeshMetrics).
    #[default]
    One,
    /// Undefined: every metric NaN, left out of means and counted (nnU-Net).
    Nan,
    /// DeepMind surface-distance: a distance percentile (HD, HD_p, directed too) of no samples is +inf, a mean
    /// over no samples NaN. Both empty: HD, HD_p +inf; averages, NSD, overlaps, Dice, IoU NaN. One empty: HD,
    /// HD_p +inf in both directions; the mean distance from the non-empty surface +inf, from the empty one NaN
    /// (MASD NaN, pooled ASSD +inf); NSD 0; the directed NSD from the non-empty surface 0, from the empty NaN.
    DeepMind,
    /// MONAI: both empty: every metric NaN. One empty: every distance +inf in both directions, NSD 0. Dice and
    /// IoU are NaN whenever the ground truth is empty (MONAI's `ignore_empty=True`).
    Monai,
}

impl BothEmpty {
    /// The name in options and outputs: `one`, `nan`, `deepmind`, `monai`.
    pub fn as_str(self) -> &'static str {
        match self {
            BothEmpty::One => "one",
            BothEmpty::Nan => "nan",
            BothEmpty::DeepMind => "deepmind",
            BothEmpty::Monai => "monai",
        }
    }

    /// Whether Dice and IoU are undefined (NaN) for masks in `state`; otherwise they come from the counts
    /// ([`crate::LabelCounts::dice`]: 1 when both are empty, 0 when one is).
    ///
    /// ```
    /// use segauge_metrics::{BothEmpty, EmptyState};
    /// assert!(!BothEmpty::One.overlap_is_nan(EmptyState::BothEmpty));
    /// assert!(BothEmpty::DeepMind.overlap_is_nan(EmptyState::BothEmpty));
    /// assert!(!BothEmpty::DeepMind.overlap_is_nan(EmptyState::GtEmpty)); // 2·0 / |P| = 0
    /// assert!(BothEmpty::Monai.overlap_is_nan(EmptyState::GtEmpty));
    /// ```
    pub fn overlap_is_nan(self, state: EmptyState) -> bool {
        match self {
            BothEmpty::One => false,
            BothEmpty::Nan | BothEmpty::DeepMind => state == EmptyState::BothEmpty,
            BothEmpty::Monai => matches!(state, EmptyState::BothEmpty | EmptyState::GtEmpty),
        }
    }
}

impl FromStr for BothEmpty {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        [BothEmpty::One, BothEmpty::Nan, BothEmpty::DeepMind, BothEmpty::Monai]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| Error::InvalidOption { detail: format!("unknown empty-mask convention {s:?}") })
    }
}

/// How mesh vertices are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MeshCompat {
    /// Exact f64 positions in the image's scaled index space (default; invariant to origin and direction).
    #[default]
    Exact,
    /// MeshMetrics' arithmetic: float32 world coordinates from VTK's transform of the one-voxel-padded image,
    /// VTK's triangle centres and areas (voxel-faces surface only). Reproduces MeshMetrics at threshold ties.
    VtkF32,
}

/// Options of the surface metrics.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SurfaceOptions {
    /// The surface.
    pub surface: Surface,
    /// Percentile of `HD_p`, in (0, 100] (default 95).
    pub percentile: f64,
    /// How directed percentiles combine (default: the larger).
    pub percentile_rule: PercentileRule,
    /// Tolerance of NSD and BIoU, mm, ≥ 0 (default 2; 0 counts only exact coincidences, as MONAI allows).
    pub tau: f64,
    /// Vertex placement (default exact).
    pub mesh_compat: MeshCompat,
    /// How directed percentiles are read (default `inverted-cdf`).
    pub interpolation: PercentileInterpolation,
    /// The values of a structure absent from both masks (default `one`).
    pub both_empty: BothEmpty,
}

impl Default for SurfaceOptions {
    fn default() -> Self {
        SurfaceOptions {
            surface: Surface::Smooth,
            percentile: 95.0,
            percentile_rule: PercentileRule::DirectedMax,
            tau: 2.0,
            mesh_compat: MeshCompat::Exact,
            interpolation: PercentileInterpolation::InvertedCdf,
            both_empty: BothEmpty::One,
        }
    }
}

impl SurfaceOptions {
    /// Checks the options.
    ///
    /// # Errors
    /// [`Error::InvalidOption`]: a percentile outside (0, 100], a tau that is not a number of mm ≥ 0, vtk-f32
    /// placement with another surface than voxel faces, or linear interpolation with a surface whose samples are
    /// weighted by area (every surface but the grid).
    pub fn validate(&self) -> Result<(), Error> {
        if !(self.percentile > 0.0 && self.percentile <= 100.0) {
            return Err(Error::InvalidOption {
                detail: format!("percentile {} is not in (0, 100]", self.percentile),
            });
        }
        if !(self.tau.is_finite() && self.tau >= 0.0) {
            return Err(Error::InvalidOption {
                detail: format!("tau {} is not a number of mm ≥ 0", self.tau),
            });
        }
        if self.interpolation == PercentileInterpolation::Linear && self.surface != Surface::Grid {
            return Err(Error::InvalidOption {
                detail: format!(
                    "linear percentile interpolation ignores sample weights, so it needs the grid surface (equal \
                     weights), not {}",
                    self.surface.as_str()
                ),
            });
        }
        if self.mesh_compat == MeshCompat::VtkF32 && self.surface != Surface::VoxelFaces {
            return Err(Error::InvalidOption {
                detail: format!(
                    "vtk-f32 compatibility applies to the voxel-faces surface, not {}",
                    self.surface.as_str()
                ),
            });
        }
        Ok(())
    }
}

/// Distance samples of one direction, sorted by distance (then weight).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Directed {
    distances: Vec<f64>,
    weights: Vec<f64>,
}

impl Directed {
    /// Samples from unsorted distances and weights (equal lengths).
    pub fn new(distances: Vec<f64>, weights: Vec<f64>) -> Directed {
        let pairs: Vec<(u64, u64)> =
            distances.iter().zip(&weights).map(|(&d, &w)| (total_key(d), total_key(w))).collect();
        let pairs = sort_pairs(pairs);
        let (distances, weights) =
            pairs.into_iter().map(|(d, w)| (from_total_key(d), from_total_key(w))).unzip();
        Directed { distances, weights }
    }

    /// Distances, ascending.
    pub fn distances(&self) -> &[f64] {
        &self.distances
    }

    /// Weights (areas in mm², or 1 per boundary voxel), in the order of [`Directed::distances`].
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Total weight, summed as numpy's `np.sum` (pairwise).
    pub fn total_weight(&self) -> f64 {
        pairwise_sum(&self.weights)
    }

    /// The directed percentile `P_q` (no interpolation; see the module docs). +inf without samples.
    ///
    /// ```
    /// use segauge_metrics::Directed;
    /// let d = Directed::new(vec![3.0, 1.0, 2.0, 4.0], vec![1.0, 1.0, 1.0, 1.0]);
    /// assert_eq!(d.percentile(50.0), 2.0); // C/W = 0.25, 0.5, ... reaches 0.5 at the second sample
    /// assert_eq!(d.percentile(51.0), 3.0);
    /// assert_eq!(d.percentile(100.0), 4.0);
    /// ```
    pub fn percentile(&self, p: f64) -> f64 {
        if self.distances.is_empty() {
            return f64::INFINITY;
        }
        let total = self.total_weight();
        let q = p / 100.0;
        let mut c = 0.0;
        for (k, w) in self.weights.iter().enumerate() {
            c += w;
            if c / total >= q {
                return self.distances[k];
            }
        }
        self.distances[self.distances.len() - 1]
    }

    /// The directed percentile under `interpolation`: [`Directed::percentile`], or numpy's `linear` on the
    /// distances (weights ignored). +inf without samples.
    ///
    /// ```
    /// use segauge_metrics::{Directed, PercentileInterpolation};
    /// let d = Directed::new(vec![3.0, 1.0, 2.0, 4.0], vec![1.0; 4]);
    /// // numpy 2.4.6: np.percentile([1, 2, 3, 4], 95) == 3.8499999999999996 (3 + 0.85 · (4 − 3), rounded as numpy does)
    /// assert_eq!(d.percentile_with(95.0, PercentileInterpolation::Linear), 3.8499999999999996);
    /// assert_eq!(d.percentile_with(95.0, PercentileInterpolation::InvertedCdf), 4.0);
    /// ```
    pub fn percentile_with(&self, p: f64, interpolation: PercentileInterpolation) -> f64 {
        match interpolation {
            PercentileInterpolation::InvertedCdf => self.percentile(p),
            PercentileInterpolation::Linear => {
                let n = self.distances.len();
                if n == 0 {
                    return f64::INFINITY;
                }
                let h = (n - 1) as f64 * (p / 100.0);
                let lo = h.floor() as usize;
                let hi = (lo + 1).min(n - 1);
                let (a, b) = (self.distances[lo], self.distances[hi]);
                // numpy's `_lerp`: a + t·(b − a), from the upper end when t ≥ 0.5 (its rounding rule).
                let t = h - lo as f64;
                let diff = b - a;
                if t >= 0.5 { b - diff * (1.0 - t) } else { a + diff * t }
            }
        }
    }

    /// Largest distance (+inf without samples).
    pub fn max(&self) -> f64 {
        self.distances.last().copied().unwrap_or(f64::INFINITY)
    }

    /// Weighted sum of distances.
    fn weighted_sum(&self) -> f64 {
        self.distances.iter().zip(&self.weights).map(|(d, w)| d * w).sum()
    }

    /// Weighted mean distance.
    pub fn mean(&self) -> f64 {
        self.weighted_sum() / self.total_weight()
    }

    /// Total weight of the samples with `d ≤ tau`.
    fn weight_within(&self, tau: f64) -> f64 {
        let n = self.distances.partition_point(|&d| d <= tau);
        pairwise_sum(&self.weights[..n])
    }

    /// The directed NSD at `tau`: the weight fraction of the samples with `d ≤ tau` (DeepMind's surface overlap
    /// at tolerance). NaN without samples.
    ///
    /// ```
    /// use segauge_metrics::Directed;
    /// let d = Directed::new(vec![0.5, 2.0, 1.0], vec![1.0, 2.0, 1.0]);
    /// assert_eq!(d.fraction_within(1.0), 0.5);
    /// ```
    pub fn fraction_within(&self, tau: f64) -> f64 {
        self.weight_within(tau) / self.total_weight()
    }
}

/// An unsigned key whose order is [`f64::total_cmp`]'s: negative numbers (sign bit set) have every bit flipped,
/// the others only their sign bit.
fn total_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | 1 << 63 }
}

/// The inverse of [`total_key`].
fn from_total_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Sorts `(distance, weight)` keys lexicographically: a least-significant-digit radix sort of the distances, 11
/// bits at a time, skipping the digits every key shares, then each run of equal distances (rare, but every
/// sample of identical surfaces) sorted by weight. Linear in the count, where a comparison sort of the samples
/// took a twentieth of a many-structure case; equal pairs are indistinguishable, so the result equals any
/// correct sort's.
fn sort_pairs(mut pairs: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    const BITS: u32 = 11;
    const DIGITS: usize = 1 << BITS;
    if pairs.len() < 256 {
        pairs.sort_unstable();
        return pairs;
    }
    let mut next = vec![(0u64, 0u64); pairs.len()];
    let mut count = [0u32; DIGITS];
    let digit = |d: u64, shift: u32| ((d >> shift) & (DIGITS as u64 - 1)) as usize;
    for shift in (0..64).step_by(BITS as usize) {
        count.fill(0);
        for p in &pairs {
            count[digit(p.0, shift)] += 1;
        }
        if count[digit(pairs[0].0, shift)] as usize == pairs.len() {
            continue; // one digit for all: this pass would not move anything
        }
        let mut at = 0u32;
        for c in count.iter_mut() {
            let n = *c;
            *c = at;
            at += n;
        }
        for p in &pairs {
            let c = &mut count[digit(p.0, shift)];
            next[*c as usize] = *p;
            *c += 1;
        }
        std::mem::swap(&mut pairs, &mut next);
    }
    for run in pairs.chunk_by_mut(|a, b| a.0 == b.0) {
        if run.len() > 1 {
            run.sort_unstable_by_key(|p| p.1);
        }
    }
    pairs
}

/// numpy's pairwise summation of a contiguous float64 array (`np.sum`): blocks of up to 128 summed with eight
/// accumulators, larger ranges split in halves rounded down to a multiple of 8.
pub(crate) fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= 128 {
        let mut r = [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]];
        let mut i = 8;
        while i < n - (n % 8) {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

/// The two directed sample sets of a label.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SurfaceDistances {
    /// From the ground-truth surface to the prediction's.
    pub gt_to_pred: Directed,
    /// From the prediction's surface to the ground truth's.
    pub pred_to_gt: Directed,
}

impl SurfaceDistances {
    /// `HD_p` under `rule` (directed percentiles as [`Directed::percentile`]).
    pub fn hd_percentile(&self, p: f64, rule: PercentileRule) -> f64 {
        self.hd_percentile_with(p, rule, PercentileInterpolation::InvertedCdf)
    }

    /// `HD_p` under `rule`, each percentile read under `interpolation`.
    pub fn hd_percentile_with(
        &self,
        p: f64,
        rule: PercentileRule,
        interpolation: PercentileInterpolation,
    ) -> f64 {
        match rule {
            PercentileRule::DirectedMax => self
                .gt_to_pred
                .percentile_with(p, interpolation)
                .max(self.pred_to_gt.percentile_with(p, interpolation)),
            PercentileRule::Pooled => {
                let mut d = self.gt_to_pred.distances.clone();
                d.extend_from_slice(&self.pred_to_gt.distances);
                let mut w = self.gt_to_pred.weights.clone();
                w.extend_from_slice(&self.pred_to_gt.weights);
                Directed::new(d, w).percentile_with(p, interpolation)
            }
        }
    }

    /// Hausdorff distance (largest distance in either direction).
    pub fn hd(&self) -> f64 {
        self.gt_to_pred.max().max(self.pred_to_gt.max())
    }

    /// Average symmetric surface distance (pooled).
    pub fn assd(&self) -> f64 {
        (self.gt_to_pred.weighted_sum() + self.pred_to_gt.weighted_sum())
            / (self.gt_to_pred.total_weight() + self.pred_to_gt.total_weight())
    }

    /// Mean average surface distance (mean of the two directed means).
    pub fn masd(&self) -> f64 {
        (self.gt_to_pred.mean() + self.pred_to_gt.mean()) / 2.0
    }

    /// Normalised surface distance at `tau` mm.
    pub fn nsd(&self, tau: f64) -> f64 {
        (self.gt_to_pred.weight_within(tau) + self.pred_to_gt.weight_within(tau))
            / (self.gt_to_pred.total_weight() + self.pred_to_gt.total_weight())
    }
}

/// Surface metrics of one label.
///
/// Equality is bit for bit (two records of one computation are equal, NaN values included).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SurfaceMetrics {
    /// Hausdorff distance, mm.
    pub hd: f64,
    /// `HD_p` at the requested percentile, mm.
    pub hd_percentile: f64,
    /// Average symmetric surface distance (pooled), mm.
    pub assd: f64,
    /// Mean average surface distance, mm.
    pub masd: f64,
    /// Normalised surface distance at τ.
    pub nsd: f64,
    /// Boundary IoU at τ.
    pub biou: f64,
    /// Directed HD from the prediction's surface to the ground truth's (the farthest prediction sample), mm:
    /// large when the prediction over-segments.
    #[cfg_attr(feature = "serde", serde(default = "nan"))]
    pub hd_pred_to_gt: f64,
    /// Directed HD from the ground truth's surface to the prediction's, mm: large when it under-segments.
    #[cfg_attr(feature = "serde", serde(default = "nan"))]
    pub hd_gt_to_pred: f64,
    /// Directed `HD_p`, prediction to ground truth, mm.
    #[cfg_attr(feature = "serde", serde(default = "nan"))]
    pub hd_percentile_pred_to_gt: f64,
    /// Directed `HD_p`, ground truth to prediction, mm.
    #[cfg_attr(feature = "serde", serde(default = "nan"))]
    pub hd_percentile_gt_to_pred: f64,
    /// Directed average surface distance, prediction to ground truth (MONAI's `directed` ASD, medpy's
    /// `asd(pred, gt)`), mm.
    #[cfg_attr(feature = "serde", serde(default = "nan"))]
    pub asd_pred_to_gt: f64,
    /// Directed average surface distance, ground truth to prediction, mm.
    #[cfg_attr(feature = "serde", serde(default = "nan"))]
    pub asd_gt_to_pred: f64,
    /// Directed NSD at τ, prediction to ground truth: the weight fraction of the prediction's samples within τ
    /// of the ground truth's surface (DeepMind's surface overlap of the prediction).
    #[cfg_attr(feature = "serde", serde(default = "nan"))]
    pub nsd_pred_to_gt: f64,
    /// Directed NSD at τ, ground truth to prediction (DeepMind's surface overlap of the ground truth).
    #[cfg_attr(feature = "serde", serde(default = "nan"))]
    pub nsd_gt_to_pred: f64,
    /// Which masks are empty.
    pub empty_state: EmptyState,
}

#[cfg(feature = "serde")]
fn nan() -> f64 {
    f64::NAN
}

impl SurfaceMetrics {
    /// Every value, in field order.
    fn values(&self) -> [f64; 14] {
        [
            self.hd,
            self.hd_percentile,
            self.assd,
            self.masd,
            self.nsd,
            self.biou,
            self.hd_pred_to_gt,
            self.hd_gt_to_pred,
            self.hd_percentile_pred_to_gt,
            self.hd_percentile_gt_to_pred,
            self.asd_pred_to_gt,
            self.asd_gt_to_pred,
            self.nsd_pred_to_gt,
            self.nsd_gt_to_pred,
        ]
    }
}

impl PartialEq for SurfaceMetrics {
    fn eq(&self, other: &SurfaceMetrics) -> bool {
        self.empty_state == other.empty_state
            && self.values().iter().zip(other.values()).all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

impl SurfaceMetrics {
    /// The values of a label with an empty mask (MeshMetrics' convention): both empty gives distances 0 and
    /// NSD = BIoU = 1; one empty gives distances +inf and NSD = BIoU = 0. A directed distance from an empty
    /// surface is NaN (it has no sample), towards one +inf.
    pub fn empty(state: EmptyState) -> SurfaceMetrics {
        SurfaceMetrics::empty_as(state, BothEmpty::One)
    }

    /// [`SurfaceMetrics::empty`] under the empty-mask convention `convention` ([`BothEmpty`] lists the values).
    ///
    /// ```
    /// use segauge_metrics::{BothEmpty, EmptyState, SurfaceMetrics};
    /// let pred_empty = SurfaceMetrics::empty(EmptyState::PredEmpty);
    /// assert_eq!((pred_empty.hd, pred_empty.hd_gt_to_pred), (f64::INFINITY, f64::INFINITY));
    /// assert!(pred_empty.hd_pred_to_gt.is_nan());
    /// assert!(SurfaceMetrics::empty_as(EmptyState::BothEmpty, BothEmpty::Nan).nsd.is_nan());
    /// assert_eq!(SurfaceMetrics::empty(EmptyState::BothEmpty).nsd, 1.0);
    /// // DeepMind: a percentile of no samples is +inf, a mean over none NaN.
    /// let dm = SurfaceMetrics::empty_as(EmptyState::PredEmpty, BothEmpty::DeepMind);
    /// assert_eq!((dm.hd_pred_to_gt, dm.asd_gt_to_pred, dm.nsd), (f64::INFINITY, f64::INFINITY, 0.0));
    /// assert!(dm.asd_pred_to_gt.is_nan() && dm.masd.is_nan());
    /// // MONAI: +inf in both directions.
    /// let monai = SurfaceMetrics::empty_as(EmptyState::GtEmpty, BothEmpty::Monai);
    /// assert_eq!((monai.hd_gt_to_pred, monai.asd_gt_to_pred), (f64::INFINITY, f64::INFINITY));
    /// ```
    pub fn empty_as(state: EmptyState, convention: BothEmpty) -> SurfaceMetrics {
        let (inf, nan) = (f64::INFINITY, f64::NAN);
        // The values of one direction: (HD and HD_p, mean distance, NSD).
        type Dir = (f64, f64, f64);
        // (HD and HD_p, ASSD, MASD, NSD, BIoU), then the directions from the prediction and from the ground truth.
        let (sym, from_pred, from_gt): ((f64, f64, f64, f64, f64), Dir, Dir) = match (state, convention) {
            (EmptyState::None, _) => ((nan, nan, nan, nan, nan), (nan, nan, nan), (nan, nan, nan)),
            (EmptyState::BothEmpty, BothEmpty::One) => {
                ((0.0, 0.0, 0.0, 1.0, 1.0), (0.0, 0.0, 1.0), (0.0, 0.0, 1.0))
            }
            (EmptyState::BothEmpty, BothEmpty::Nan | BothEmpty::Monai) => {
                ((nan, nan, nan, nan, nan), (nan, nan, nan), (nan, nan, nan))
            }
            (EmptyState::BothEmpty, BothEmpty::DeepMind) => {
                ((inf, nan, nan, nan, nan), (inf, nan, nan), (inf, nan, nan))
            }
            // One empty: the empty surface has no sample, the other reaches nothing.
            (_, convention) => {
                let (full, empty, masd) = match convention {
                    BothEmpty::One | BothEmpty::Nan => ((inf, inf, 0.0), (nan, nan, nan), inf),
                    BothEmpty::DeepMind => ((inf, inf, 0.0), (inf, nan, nan), nan),
                    BothEmpty::Monai => ((inf, inf, 0.0), (inf, inf, nan), inf),
                };
                let sym = (inf, inf, masd, 0.0, 0.0);
                if state == EmptyState::PredEmpty { (sym, empty, full) } else { (sym, full, empty) }
            }
        };
        let (d, assd, masd, nsd, biou) = sym;
        SurfaceMetrics {
            hd: d,
            hd_percentile: d,
            assd,
            masd,
            nsd,
            biou,
            hd_pred_to_gt: from_pred.0,
            hd_gt_to_pred: from_gt.0,
            hd_percentile_pred_to_gt: from_pred.0,
            hd_percentile_gt_to_pred: from_gt.0,
            asd_pred_to_gt: from_pred.1,
            asd_gt_to_pred: from_gt.1,
            nsd_pred_to_gt: from_pred.2,
            nsd_gt_to_pred: from_gt.2,
            empty_state: state,
        }
    }
}

/// One mask's surface, ready for distance queries once its target `T` is a [`Target`]. A side is made with a
/// [`Recipe`] for its target ([`Side::new`]), so that the pair's pipeline ([`pair`]) can hand its samples to the other
/// side's queries before its own mesh index is built.
struct Side<T = Target> {
    samples: Vec<[f64; 3]>,
    /// The samples' corner indices on the surfel corner grid (surfels only).
    corners: Vec<usize>,
    weights: Vec<f64>,
    /// Its surface as queries see it (a [`Target`]), or what that is built from (a [`Recipe`]).
    target: T,
    /// The mask and its frame (for BIoU).
    mask: Mask,
    frame: Frame,
    /// Vertices placed as VTK does (MeshMetrics compatibility).
    vtk_f32: bool,
    /// A 2D image: `mask` is one slice `[na, nb, 1]` of the image's plane, samples lie at z = 0, and distances and
    /// BIoU's band stay in the plane.
    planar: bool,
}

enum Target {
    Mesh { index: Box<DistanceIndex> },
    Contour { index: Box<SegmentIndex> },
    Grid { edt2: Vec<f64> },
    Corners { edt2: Vec<f64> },
}

/// What a side's target is built from. A mesh's distance index is the slow part of most sides, so it is built as a
/// step of its own ([`Recipe::build`]); the other targets come ready.
enum Recipe {
    Ready(Target),
    Mesh(Mesh),
}

impl Recipe {
    fn build(self) -> Target {
        match self {
            Recipe::Ready(target) => target,
            Recipe::Mesh(mesh) => Target::Mesh { index: Box::new(DistanceIndex::from_mesh(mesh)) },
        }
    }
}

impl Side<Recipe> {
    /// `planar`: the image is one voxel thick (a 2D image), which the surfels surface measures as a contour.
    fn new(mask: Mask, frame: Frame, surface: Surface, vtk: Option<&VtkF32>, planar: bool) -> Side<Recipe> {
        match surface {
            Surface::VoxelFaces => match vtk {
                None => Side::from_mesh(voxel_faces(&mask, &frame), mask, frame, surface),
                Some(v) => {
                    let mesh = voxel_faces_vtk_f32(&mask, v);
                    let (samples, weights) = (mesh.vtk_centroids(), mesh.vtk_areas());
                    // BIoU's voxel centres: MeshMetrics places them in f64 world coordinates (idx·s + o).
                    let m = &v.matrix;
                    let origin = std::array::from_fn(|r| {
                        m[r][3]
                            + m[r][0] * v.index_offset[0]
                            + m[r][1] * v.index_offset[1]
                            + m[r][2] * v.index_offset[2]
                    });
                    let direction =
                        std::array::from_fn(|r| std::array::from_fn(|a| m[r][a] / frame.spacing[a]));
                    let frame = Frame { origin, direction, ..frame };
                    let target = Recipe::Mesh(mesh);
                    Side {
                        samples,
                        corners: Vec::new(),
                        weights,
                        target,
                        mask,
                        frame,
                        vtk_f32: true,
                        planar: false,
                    }
                }
            },
            Surface::Smooth | Surface::SmoothVtk => {
                let mut options = SurfaceNetsOptions::default();
                if surface == Surface::Smooth {
                    options.split = QuadSplit::Centre;
                    options.precision = Precision::F64;
                    options.keep_volume = true;
                }
                Side::from_mesh(surface_nets_with(&mask, &frame, &options), mask, frame, surface)
            }
            Surface::MarchingCubes => Side::from_mesh(marching_cubes(&mask, &frame), mask, frame, surface),
            Surface::Grid => Side::on_grid(boundary(&mask), mask, frame, false),
            Surface::Surfels => {
                let surfels = Surfels::new(&mask, frame.spacing, planar);
                let samples = surfels.corners.iter().map(|&n| frame.point(surfels.corner_index(n))).collect();
                let target = Recipe::Ready(Target::Corners { edt2: surfels.edt_squared(frame.spacing) });
                let Surfels { corners, areas, .. } = surfels;
                Side { samples, corners, weights: areas, target, mask, frame, vtk_f32: false, planar }
            }
        }
    }

    /// A 2D image's side (docs/METHODS.md A.9): `mask` is one slice `[na, nb, 1]` of the plane, padded by background,
    /// `frame` its scaled in-plane frame (third spacing unused). Each surface becomes its contour counterpart.
    fn new_planar(mask: Mask, frame: Frame, surface: Surface) -> Side<Recipe> {
        let plane = PlaneFrame {
            spacing: [frame.spacing[0], frame.spacing[1]],
            origin: [frame.origin[0], frame.origin[1]],
        };
        // The mask is one slice by construction, so the contour functions cannot fail.
        let contour = |c: Result<Contour, segauge_mesh::Error>| c.unwrap_or_default();
        let contour = match surface {
            Surface::VoxelFaces => contour(pixel_edges(&mask, &plane)),
            Surface::Smooth => contour(contour_nets(&mask, &plane, ContourSmoothing::Strong)),
            Surface::SmoothVtk => contour(contour_nets(&mask, &plane, ContourSmoothing::Vtk)),
            Surface::MarchingCubes => contour(marching_squares(&mask, &plane)),
            // DeepMind's surfels are their own 2D convention (neighbour codes of 2×2 blocks).
            Surface::Surfels => return Side::new(mask, frame, surface, None, true),
            Surface::Grid => return Side::on_grid(boundary_in_plane(&mask), mask, frame, true),
        };
        let samples = contour.midpoints().into_iter().map(|p| [p[0], p[1], 0.0]).collect();
        let weights = contour.lengths();
        let index = Box::new(SegmentIndex::new(&contour));
        Side::exact(samples, weights, Recipe::Ready(Target::Contour { index }), mask, frame, true)
    }

    /// A side placed in exact f64 arithmetic whose samples are not surfel corners.
    fn exact(
        samples: Vec<[f64; 3]>,
        weights: Vec<f64>,
        target: Recipe,
        mask: Mask,
        frame: Frame,
        planar: bool,
    ) -> Side<Recipe> {
        Side { samples, corners: Vec::new(), weights, target, mask, frame, vtk_f32: false, planar }
    }

    /// The grid surface: the boundary voxels `border` of `mask` (its 6-connected boundary, or 4-connected in the
    /// plane when `planar`; a planar mask is one slice, so the same index arithmetic serves both), unit weights,
    /// and the exact distance transform of the boundary.
    fn on_grid(border: Vec<bool>, mask: Mask, frame: Frame, planar: bool) -> Side<Recipe> {
        let dims = mask.dims();
        let samples = (0..border.len())
            .filter(|&n| border[n])
            .map(|n| {
                let idx = [n % dims[0], (n / dims[0]) % dims[1], n / (dims[0] * dims[1])];
                frame.point(idx.map(|v| v as f64))
            })
            .collect::<Vec<_>>();
        let weights = vec![1.0; samples.len()];
        let edt2 = edt_squared(&border, true, dims, frame.spacing);
        Side::exact(samples, weights, Recipe::Ready(Target::Grid { edt2 }), mask, frame, planar)
    }

    fn from_mesh(mesh: Mesh, mask: Mask, frame: Frame, surface: Surface) -> Side<Recipe> {
        let (samples, weights) = if surface == Surface::Smooth {
            // One sample per quad: its centre (the shared third vertex of its four triangles, which the
            // centre split emits consecutively), weighted by the quad's area.
            let areas = mesh.areas();
            let samples = mesh.triangles.chunks(4).map(|q| mesh.vertices[q[0][2] as usize]).collect();
            let weights = areas.chunks(4).map(|a| (a[0] + a[2]) + (a[1] + a[3])).collect();
            (samples, weights)
        } else {
            (mesh.centroids(), mesh.areas())
        };
        Side::exact(samples, weights, Recipe::Mesh(mesh), mask, frame, false)
    }

    /// The side without its recipe, and the recipe.
    fn split(self) -> (Side<()>, Recipe) {
        let Side { samples, corners, weights, target, mask, frame, vtk_f32, planar } = self;
        (Side { samples, corners, weights, target: (), mask, frame, vtk_f32, planar }, target)
    }

    /// The side with its target built.
    fn finish(self) -> Side {
        let (side, recipe) = self.split();
        side.with(recipe.build())
    }
}

impl Side<()> {
    fn with(self, target: Target) -> Side {
        let Side { samples, corners, weights, mask, frame, vtk_f32, planar, .. } = self;
        Side { samples, corners, weights, target, mask, frame, vtk_f32, planar }
    }
}

impl Side {
    /// Distances from the other side's samples to this surface.
    fn distances_from<U>(&self, other: &Side<U>) -> Vec<f64> {
        self.distances_to(&self.target, other)
    }

    /// Foreground voxels whose centre is closer than `tau` to the mask's voxel-face surface (MeshMetrics' BIoU
    /// definition, whatever the surface of the distance metrics: BIoU is a metric on the voxel grid, and this keeps
    /// it comparable across surfaces and with MeshMetrics).
    fn hollow(&self, tau: f64) -> Vec<bool> {
        let s = self.frame.spacing;
        let (Target::Mesh { index }, true) = (&self.target, self.vtk_f32) else {
            // Exactly: the voxel-face surface is the boundary of the union of foreground boxes, so the distance
            // from a foreground centre to it is the distance to the nearest background box.
            return near_background(&self.mask, s, tau, self.planar);
        };
        // MeshMetrics compatibility: its distances come from its float32 mesh and are stored in a float32 field,
        // which numpy compares with tau in float32. With e(v) the distance from voxel centre v to the nearest
        // background voxel centre, and h half the voxel diagonal:
        // - every voxel face lies on the box of a background voxel, within h of its centre, so dist(v) ≥ e(v) − h:
        //   voxels with e(v) ≥ tau + h are not hollow;
        // - the segment from v to that background centre leaves the union of foreground boxes, so dist(v) ≤ e(v):
        //   voxels with e(v) < tau are hollow.
        // Only the voxels in between need the mesh distance. The two thresholds carry a relative margin, so voxels
        // within rounding of either are measured too: the split never depends on how e was rounded.
        let dims = self.mask.dims();
        let idx = |n: usize| [n % dims[0], (n / dims[0]) % dims[1], n / (dims[0] * dims[1])];
        let h = 0.5 * (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt();
        let (sure2, maybe2) = (tau * tau * (1.0 - 1e-9), (tau + h) * (tau + h) * (1.0 + 1e-9));
        let plane = dims[0] * dims[1];
        let voxels = self.mask.voxels();
        let mut out = vec![false; voxels.len()];
        let mut candidates = Vec::new();
        // e² is only needed below (τ + h)²: a banded transform, streamed one slab at a time.
        banded_edt_squared(voxels, false, dims, s, maybe2, |k, slab| {
            let base = k * plane;
            for (i, &e2) in slab.iter().enumerate() {
                let v = base + i;
                if !voxels[v] || e2 >= maybe2 {
                    continue;
                }
                if e2 < sure2 {
                    out[v] = true;
                } else {
                    candidates.push(v);
                }
            }
        });
        let points: Vec<[f64; 3]> =
            candidates.iter().map(|&v| self.frame.point(idx(v).map(|x| x as f64))).collect();
        for (&v, &dist) in candidates.iter().zip(&index.distances(&points)) {
            out[v] = (dist as f32) < (tau as f32);
        }
        out
    }
}

impl<T> Side<T> {
    /// Distances from the other side's samples to this side's surface, `target`.
    fn distances_to<U>(&self, target: &Target, other: &Side<U>) -> Vec<f64> {
        match target {
            Target::Mesh { index } => index.distances(&other.samples),
            Target::Contour { index } => {
                let points: Vec<[f64; 2]> = other.samples.iter().map(|p| [p[0], p[1]]).collect();
                index.distances(&points)
            }
            Target::Grid { edt2 } => {
                // Both sides share one crop box and frame: a sample point is a voxel centre of that box.
                let dims = self.mask.dims();
                other
                    .samples
                    .iter()
                    .map(|p| {
                        let idx: [usize; 3] = std::array::from_fn(|a| {
                            ((p[a] - self.frame.origin[a]) / self.frame.spacing[a]).round() as usize
                        });
                        edt2[idx[0] + dims[0] * (idx[1] + dims[1] * idx[2])].sqrt()
                    })
                    .collect()
            }
            // Both sides share one crop box, so one corner grid: a surfel's corner index is valid in both.
            Target::Corners { edt2 } => other.corners.iter().map(|&n| edt2[n].sqrt()).collect(),
        }
    }
}

/// Runs two independent computations, in parallel with the `parallel` feature.
fn join<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    #[cfg(feature = "parallel")]
    {
        rayon::join(a, b)
    }
    #[cfg(not(feature = "parallel"))]
    {
        (a(), b())
    }
}

/// Both directions' samples. Identical masks have identical surfaces: their distances are exactly 0 (computing
/// them would leave rounding-level residues on meshes whose centroids are not exactly on their plane).
fn directed_pair(p: &Side, g: &Side) -> SurfaceDistances {
    if p.mask == g.mask {
        return SurfaceDistances {
            gt_to_pred: Directed::new(vec![0.0; g.weights.len()], g.weights.clone()),
            pred_to_gt: Directed::new(vec![0.0; p.weights.len()], p.weights.clone()),
        };
    }
    let (gt_to_pred, pred_to_gt) = join(
        || Directed::new(p.distances_from(g), g.weights.clone()),
        || Directed::new(g.distances_from(p), p.weights.clone()),
    );
    SurfaceDistances { gt_to_pred, pred_to_gt }
}

/// A pair's two sides and both directions' samples; `make` makes a side of a mask.
///
/// With the `parallel` feature the work is pipelined: each side's task makes its side, hands its samples over and
/// builds its target; each direction's queries start as soon as both of their inputs exist (the one side's target
/// and the other side's samples). Before, both targets were built before any query started: whichever side finished
/// first left its core idle until the other's mesh index was built (10–40 ms of the single-organ benchmark cases in
/// perf timelines). The values are those of the plain order: every step is the same computation on the same inputs,
/// only started earlier.
fn pair(pred: Mask, gt: Mask, make: impl Fn(Mask) -> Side<Recipe> + Sync) -> (Side, Side, SurfaceDistances) {
    #[cfg(feature = "parallel")]
    if pred != gt {
        return pipeline(pred, gt, &make);
    }
    let (p, g) = join(|| make(pred).finish(), || make(gt).finish());
    let distances = directed_pair(&p, &g);
    (p, g, distances)
}

/// What the tasks of [`pipeline`] share. Per side (pred, gt): its samples and mask once made, its target once built,
/// the other side's samples measured to it, and how many of the two inputs of the queries to it exist.
#[cfg(feature = "parallel")]
struct Stages {
    parts: [std::sync::OnceLock<Side<()>>; 2],
    targets: [std::sync::OnceLock<Target>; 2],
    distances: [std::sync::OnceLock<Directed>; 2],
    inputs: [std::sync::atomic::AtomicU8; 2],
}

#[cfg(feature = "parallel")]
impl Stages {
    /// Side `i`'s task.
    fn side<'s>(
        &'s self,
        i: usize,
        mask: Mask,
        make: &(impl Fn(Mask) -> Side<Recipe> + Sync),
        s: &rayon::Scope<'s>,
    ) {
        let (part, recipe) = make(mask).split();
        self.parts[i].get_or_init(|| part);
        // These samples are one input of the queries to the other side.
        self.arrive(1 - i, s);
        self.targets[i].get_or_init(|| recipe.build());
        self.arrive(i, s);
    }

    /// One input of the queries to side `i` exists; the second to arrive starts them.
    fn arrive<'s>(&'s self, i: usize, s: &rayon::Scope<'s>) {
        if self.inputs[i].fetch_add(1, std::sync::atomic::Ordering::AcqRel) == 1
            && let (Some(part), Some(target), Some(other)) =
                (self.parts[i].get(), self.targets[i].get(), self.parts[1 - i].get())
        {
            s.spawn(move |_| {
                self.distances[i]
                    .get_or_init(|| Directed::new(part.distances_to(target, other), other.weights.clone()));
            });
        }
    }
}

/// [`pair`]'s pipeline for two different masks.
#[cfg(feature = "parallel")]
fn pipeline(
    pred: Mask,
    gt: Mask,
    make: &(impl Fn(Mask) -> Side<Recipe> + Sync),
) -> (Side, Side, SurfaceDistances) {
    let stages = Stages {
        parts: Default::default(),
        targets: Default::default(),
        distances: Default::default(),
        inputs: Default::default(),
    };
    rayon::scope(|s| {
        let stages = &stages;
        s.spawn(move |s| stages.side(0, pred, make, s));
        s.spawn(move |s| stages.side(1, gt, make, s));
    });
    let Stages { parts, targets, distances, .. } = stages;
    let [p, g] = parts.map(std::sync::OnceLock::into_inner);
    let [pt, gt] = targets.map(std::sync::OnceLock::into_inner);
    // Each side's task publishes its side and target before it ends, and the scope ends after every task.
    let (Some(p), Some(pt), Some(g), Some(gt)) = (p, pt, g, gt) else {
        unreachable!("both side tasks publish their side and target before the scope ends");
    };
    let (p, g) = (p.with(pt), g.with(gt));
    // The queries to a side start once both of their inputs exist, and the scope waits for them: both are here.
    // Were either missing, it would be measured now, to the same values.
    let [d0, d1] = distances.map(std::sync::OnceLock::into_inner);
    let distances = SurfaceDistances {
        gt_to_pred: d0.unwrap_or_else(|| Directed::new(p.distances_from(&g), g.weights.clone())),
        pred_to_gt: d1.unwrap_or_else(|| Directed::new(g.distances_from(&p), p.weights.clone())),
    };
    (p, g, distances)
}

/// The two directed sample sets between two masks on one box and frame.
///
/// Masks one voxel thick along z are a 2D image (for [`Surface::Surfels`]: a contour).
pub fn surface_distances(pred: Mask, gt: Mask, frame: &Frame, surface: Surface) -> SurfaceDistances {
    let planar = gt.dims()[2] == 1;
    pair(pred, gt, |mask| Side::new(mask, *frame, surface, None, planar)).2
}

/// The directed samples of one label of two volumes (`None` when the label is missing from either), computed as
/// [`surface_metrics`] computes them: for inspection or export of every sample.
///
/// # Errors
/// As [`surface_metrics`].
pub fn label_surface_distances(
    pred: &LabelVolume,
    gt: &LabelVolume,
    label: u32,
    options: &SurfaceOptions,
) -> Result<Option<SurfaceDistances>, Error> {
    options.validate()?;
    let (a, b) = (pred.grid().dims(), gt.grid().dims());
    if a != b {
        return Err(Error::ShapeMismatch { pred: a, gt: b });
    }
    let (Some(pb), Some(gb)) = (label_boxes(pred).get(&label).copied(), label_boxes(gt).get(&label).copied())
    else {
        return Ok(None);
    };
    Ok(Some(crop_pair(pred, gt, label, &pb.union(&gb), options)?.pair(options.surface).2))
}

/// Both masks of one label cut to a box (plus one voxel), their frame, VTK's placement in compat mode, and whether
/// the image is 2D (then the masks are one slice of its plane).
struct Crop {
    pred: Mask,
    gt: Mask,
    frame: Frame,
    vtk: Option<VtkF32>,
    planar: bool,
}

impl Crop {
    /// Both sides (each mask moved into its own) and both directions' samples: [`pair`].
    fn pair(self, surface: Surface) -> (Side, Side, SurfaceDistances) {
        let Crop { pred, gt, frame, vtk, planar } = self;
        // Surfels measure a one-slice mask as a contour themselves (DeepMind's 2D neighbour codes).
        let flat = planar || gt.dims()[2] == 1;
        let side = |mask: Mask| {
            if planar && surface != Surface::Surfels {
                Side::new_planar(mask, frame, surface)
            } else {
                Side::new(mask, frame, surface, vtk.as_ref(), flat && surface == Surface::Surfels)
            }
        };
        pair(pred, gt, side)
    }
}

/// Both masks of `label` cut to box `bx` (plus one voxel), their frame, and VTK's placement in compat mode.
///
/// The frame is the image's scaled index space (metrics are invariant to origin and direction), except for
/// [`Surface::SmoothVtk`]: its float32 points are VTK's only where VTK puts them, so its crop goes to the world frame
/// MeshMetrics gives VTK ([`vtk_world_frame`]). BIoU only uses the masks and the spacing, the same in both frames.
/// A 2D image (one axis of extent 1, [`plane_axes`]) is cut in its plane, in its scaled in-plane frame.
fn crop_pair(
    pred: &LabelVolume,
    gt: &LabelVolume,
    label: u32,
    bx: &VoxelBox,
    options: &SurfaceOptions,
) -> Result<Crop, Error> {
    if let Some(axes) = plane_axes(gt.grid().dims()) {
        // vtk-f32 places 3D meshes as VTK does; a 2D image's contours are always exact (docs/METHODS.md A.9), which
        // reproduces MeshMetrics' 2D mode to its float32 rounding.
        let ((pm, frame), (gm, _)) =
            join(|| crop_plane(pred, label, bx, 1, axes), || crop_plane(gt, label, bx, 1, axes));
        return Ok(Crop { pred: pm, gt: gm, frame, vtk: None, planar: true });
    }
    let ((pm, frame), (gm, _)) = join(|| crop_mask(pred, label, bx, 1), || crop_mask(gt, label, bx, 1));
    let lo = bx.lo.map(|v| v as isize - 1);
    let frame = if options.surface == Surface::SmoothVtk { vtk_world_frame(gt.grid(), lo) } else { frame };
    let vtk = (options.mesh_compat == MeshCompat::VtkF32).then(|| {
        let g = gt.grid();
        VtkF32::meshmetrics(g.spacing(), g.origin(), g.direction(), lo)
    });
    Ok(Crop { pred: pm, gt: gm, frame, vtk, planar: false })
}

/// Surface metrics of two masks on one box and frame.
///
/// # Errors
/// [`Error::InvalidOption`] for a percentile outside [0, 100] or a non-positive τ.
pub fn mask_surface_metrics(
    pred: Mask,
    gt: Mask,
    frame: &Frame,
    options: &SurfaceOptions,
) -> Result<SurfaceMetrics, Error> {
    if options.mesh_compat != MeshCompat::Exact {
        return Err(Error::InvalidOption {
            detail: "vtk-f32 compatibility needs the image grid: use surface_metrics".into(),
        });
    }
    metrics_of(Crop { pred, gt, frame: *frame, vtk: None, planar: false }, options)
}

fn metrics_of(crop: Crop, options: &SurfaceOptions) -> Result<SurfaceMetrics, Error> {
    options.validate()?;
    let state = EmptyState::of(crop.pred.count() as u64, crop.gt.count() as u64);
    if state != EmptyState::None {
        return Ok(SurfaceMetrics::empty_as(state, options.both_empty));
    }
    let (p, g, dist) = crop.pair(options.surface);
    let (hp, hg) = join(|| p.hollow(options.tau), || g.hollow(options.tau));
    // The bands lie inside their masks: only rows holding foreground on either side can count.
    let (mut inter, mut union) = (0usize, 0usize);
    let nx = p.mask.dims()[0];
    for (r, (&a, &b)) in p.mask.occupied_rows().iter().zip(g.mask.occupied_rows()).enumerate() {
        if a || b {
            let (ra, rb) = (&hp[r * nx..(r + 1) * nx], &hg[r * nx..(r + 1) * nx]);
            inter += ra.iter().zip(rb).map(|(&x, &y)| usize::from(x & y)).sum::<usize>();
            union += ra.iter().zip(rb).map(|(&x, &y)| usize::from(x | y)).sum::<usize>();
        }
    }
    let (p, i) = (options.percentile, options.interpolation);
    Ok(SurfaceMetrics {
        hd: dist.hd(),
        hd_percentile: dist.hd_percentile_with(p, options.percentile_rule, i),
        assd: dist.assd(),
        masd: dist.masd(),
        nsd: dist.nsd(options.tau),
        // Two empty bands of non-empty masks: 0/0, undefined (only two empty masks score 1, above).
        biou: if union == 0 { f64::NAN } else { inter as f64 / union as f64 },
        hd_pred_to_gt: dist.pred_to_gt.max(),
        hd_gt_to_pred: dist.gt_to_pred.max(),
        hd_percentile_pred_to_gt: dist.pred_to_gt.percentile_with(p, i),
        hd_percentile_gt_to_pred: dist.gt_to_pred.percentile_with(p, i),
        asd_pred_to_gt: dist.pred_to_gt.mean(),
        asd_gt_to_pred: dist.gt_to_pred.mean(),
        nsd_pred_to_gt: dist.pred_to_gt.fraction_within(options.tau),
        nsd_gt_to_pred: dist.gt_to_pred.fraction_within(options.tau),
        empty_state: state,
    })
}

/// Surface metrics of every label in `labels`, computed inside each label's box (one pass finds all boxes).
///
/// Only shapes are compared here; check the full grid with [`segauge_io::Grid::check_same`] first.
///
/// # Errors
/// [`Error::ShapeMismatch`] for different shapes, [`Error::InvalidOption`] for invalid options.
pub fn surface_metrics(
    pred: &LabelVolume,
    gt: &LabelVolume,
    labels: &[u32],
    options: &SurfaceOptions,
) -> Result<BTreeMap<u32, SurfaceMetrics>, Error> {
    surface_metrics_in_boxes(pred, gt, labels, options, &label_boxes(pred), &label_boxes(gt))
}

/// [`surface_metrics`] with the label boxes of both volumes already found ([`label_boxes`]), for a caller that
/// needs them for other work too: finding them is a pass over each whole volume.
///
/// # Errors
/// As [`surface_metrics`].
pub fn surface_metrics_in_boxes(
    pred: &LabelVolume,
    gt: &LabelVolume,
    labels: &[u32],
    options: &SurfaceOptions,
    pb: &BTreeMap<u32, VoxelBox>,
    gb: &BTreeMap<u32, VoxelBox>,
) -> Result<BTreeMap<u32, SurfaceMetrics>, Error> {
    options.validate()?;
    let (a, b) = (pred.grid().dims(), gt.grid().dims());
    if a != b {
        return Err(Error::ShapeMismatch { pred: a, gt: b });
    }
    // Label 0 (the background, measured as a structure) is not in the boxes: its box is the whole image.
    let whole = VoxelBox { lo: [0; 3], hi: a.map(|n| n.saturating_sub(1)) };
    let one = |&label: &u32| -> Result<(u32, SurfaceMetrics), Error> {
        let bx = if label == 0 && a.iter().all(|&n| n > 0) { Some(whole) } else { label_box(pb, gb, label) };
        let Some(bx) = bx else {
            return Ok((label, SurfaceMetrics::empty_as(EmptyState::BothEmpty, options.both_empty)));
        };
        Ok((label, metrics_of(crop_pair(pred, gt, label, &bx, options)?, options)?))
    };
    // Largest boxes first: see `largest_first`. The results go into a map, so the order changes no value.
    let labels = largest_first(labels, pb, gb, a);
    #[cfg(feature = "parallel")]
    let results: Vec<_> = {
        use rayon::prelude::*;
        labels.par_iter().map(one).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let results: Vec<_> = labels.iter().map(one).collect();
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_percentiles_match_numpy_bit_for_bit() {
        // numpy 2.4.6: np.percentile(x, q) for these samples.
        let d = Directed::new(vec![9.2, 0.1, 2.3, 9.1, 0.7], vec![1.0; 5]);
        let linear = |q| d.percentile_with(q, PercentileInterpolation::Linear);
        assert_eq!(linear(37.0), 1.468);
        assert_eq!(linear(0.0), 0.1);
        assert_eq!(linear(100.0), 9.2);
        let two = Directed::new(vec![1.0, 2.0], vec![1.0, 1.0]);
        assert_eq!(two.percentile_with(50.0, PercentileInterpolation::Linear), 1.5);
        assert_eq!(Directed::default().percentile_with(50.0, PercentileInterpolation::Linear), f64::INFINITY);
    }

    #[test]
    fn radix_order_equals_total_cmp_order() {
        // Distances with long runs of ties (zeros, a repeated value, +inf) and weights with ties, above and below
        // the comparison-sort cut-off, against the comparison sort the radix sort replaced.
        let mut rng = segauge_tests::SplitMix(11);
        for n in [0, 1, 5, 255, 256, 3000] {
            let distances: Vec<f64> = (0..n)
                .map(|_| match rng.next_u64() % 6 {
                    0 => 0.0,
                    1 => 1.25,
                    2 => f64::INFINITY,
                    3 => rng.next_f64() * 1e-3,
                    _ => rng.next_f64() * 40.0,
                })
                .collect();
            let weights: Vec<f64> =
                (0..n).map(|_| if rng.next_u64() % 3 == 0 { 0.5 } else { rng.next_f64() * 2.0 }).collect();
            let mut expected: Vec<(f64, f64)> =
                distances.iter().copied().zip(weights.iter().copied()).collect();
            expected.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
            let d = Directed::new(distances, weights);
            let got: Vec<(f64, f64)> =
                d.distances().iter().copied().zip(d.weights().iter().copied()).collect();
            assert!(
                got.iter()
                    .zip(&expected)
                    .all(|(a, b)| a.0.to_bits() == b.0.to_bits() && a.1.to_bits() == b.1.to_bits())
            );
            assert_eq!(got.len(), expected.len());
        }
        for x in [0.0, -0.0, 1.5, -1.5, f64::INFINITY, f64::NEG_INFINITY, f64::MIN_POSITIVE] {
            assert_eq!(from_total_key(total_key(x)).to_bits(), x.to_bits());
        }
    }

    #[test]
    fn pairwise_sum_matches_numpy_bit_for_bit() {
        // Expected values printed by numpy 2.4.6: `float(np.sum(a)).hex()` for
        // a = [0.1 * ((i * 7919) % 13 + 1) for i in range(n)]; a sequential sum differs for n = 8, 129, 1000, 12345.
        let want = [
            (7, "0x1.399999999999ap+2"),
            (8, "0x1.4666666666666p+2"),
            (100, "0x1.14ccccccccccep+6"),
            (129, "0x1.6733333333334p+6"),
            (1000, "0x1.5dc0000000000p+9"),
            (12345, "0x1.0e08000000000p+13"),
        ];
        for (n, hex) in want {
            let a: Vec<f64> = (0..n).map(|i| 0.1 * (((i * 7919) % 13 + 1) as f64)).collect();
            assert_eq!(pairwise_sum(&a), parse_hex(hex), "n = {n}");
        }
        assert_eq!(pairwise_sum(&[1e16, 1.0, -1e16, 0.0, 0.0, 0.0, 0.0, 0.0]), 0.0); // numpy: 0.0
    }

    /// Parses a C99 hex float `0x1.<hex>p<exp>` (the form Python's float.hex prints).
    fn parse_hex(s: &str) -> f64 {
        let body = s.trim_start_matches("0x");
        let (mant, exp) = body.split_once('p').unwrap();
        let (int, frac) = mant.split_once('.').unwrap();
        let bits = u64::from_str_radix(frac, 16).unwrap();
        let m = int.parse::<f64>().unwrap() + bits as f64 / 16f64.powi(frac.len() as i32);
        m * 2f64.powi(exp.parse().unwrap())
    }

    #[test]
    fn two_cubes_one_voxel_apart() {
        // Concentric cubes of side 2 and 4 voxels (1 mm): every face of the inner cube is 1 mm from the outer one.
        let inner = Mask::from_fn([6, 6, 6], |i, j, k| [i, j, k].iter().all(|v| (2..4).contains(v)));
        let outer = Mask::from_fn([6, 6, 6], |i, j, k| [i, j, k].iter().all(|v| (1..5).contains(v)));
        let frame = Frame::scaled([1.0; 3]);
        let m =
            mask_surface_metrics(inner.clone(), outer.clone(), &frame, &SurfaceOptions::default()).unwrap();
        // pred (inner) → gt: all centroids are 1 mm inside the outer surface's planes. gt → pred: outer face
        // centroids are ≥ 1 mm away; the farthest are near the outer corners.
        assert_eq!(surface_distances(inner, outer, &frame, Surface::VoxelFaces).pred_to_gt.max(), 1.0);
        assert!(m.hd > 1.0 && m.hd < 3f64.sqrt() * 1.5);
        assert_eq!(m.empty_state, EmptyState::None);
    }

    #[cfg(feature = "parallel")]
    #[test]
    fn pipelined_pairs_equal_the_sequential_order_on_any_thread_count() {
        // An ellipsoid against a shifted, clipped copy with an island: every surface, and the vtk-f32 voxel faces
        // whose band reads the mesh index. The pipeline's distances, and the bands of the sides it built, must be
        // those of the plain order: sides first, then queries.
        let dims = [30, 26, 14];
        let pred = Mask::from_fn(dims, |i, j, k| {
            let (x, y, z) = (i as f64 - 14.2, j as f64 - 12.6, (k as f64 - 6.4) * 1.9);
            x * x / 120.0 + y * y / 90.0 + z * z / 80.0 < 1.0
        });
        let gt = Mask::from_fn(dims, |i, j, k| {
            (i > 1 && j < 22 && pred.get(i as isize - 1, j as isize, k as isize + 1))
                || (i < 3 && j < 3 && k > 10)
        });
        let frame = Frame::scaled([0.8, 0.9, 1.5]);
        let vtk = VtkF32::meshmetrics(
            frame.spacing,
            [3.0, -2.0, 7.5],
            Frame::scaled([1.0; 3]).direction,
            [4, 5, -1],
        );
        let cases = [
            (Surface::Smooth, None),
            (Surface::SmoothVtk, None),
            (Surface::VoxelFaces, None),
            (Surface::VoxelFaces, Some(&vtk)),
            (Surface::MarchingCubes, None),
            (Surface::Grid, None),
            (Surface::Surfels, None),
        ];
        let bits = |d: &Directed| d.distances().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for (surface, vtk) in cases {
            let make = |mask: Mask| Side::new(mask, frame, surface, vtk, false);
            let (p, g) = (make(pred.clone()).finish(), make(gt.clone()).finish());
            let plain = directed_pair(&p, &g);
            let bands = (p.hollow(1.2), g.hollow(1.2));
            assert!(plain.gt_to_pred.max() > 1.0, "{surface:?}");
            assert!(bands.0.contains(&true) && bands.0.contains(&false), "{surface:?}");
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let (piped_p, piped_g, piped) = pool.install(|| pipeline(pred.clone(), gt.clone(), &make));
                let at = format!("{surface:?}, vtk {}, {threads} threads", vtk.is_some());
                assert_eq!(bits(&piped.gt_to_pred), bits(&plain.gt_to_pred), "{at}");
                assert_eq!(bits(&piped.pred_to_gt), bits(&plain.pred_to_gt), "{at}");
                assert_eq!(piped.gt_to_pred.weights(), plain.gt_to_pred.weights(), "{at}");
                assert_eq!(piped.pred_to_gt.weights(), plain.pred_to_gt.weights(), "{at}");
                assert_eq!((piped_p.hollow(1.2), piped_g.hollow(1.2)), bands, "{at}");
            }
        }
    }
}
