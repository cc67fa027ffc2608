//! Segmentation metrics computed from label volumes: exact per-label overlap, and surface distances (HD, HD_p,
//! ASSD, MASD, NSD, BIoU) on a choice of surfaces; segauge-lesion builds lesion-level scores on the same masks.
//!
//! # Overview
//! - [`OverlapCounts`]: the voxel counts of every label of a prediction and its ground truth, from one pass.
//! - [`LabelCounts`]: one label's `|P|`, `|G|` and `|P ∩ G|`, with [`LabelCounts::dice`] and [`LabelCounts::iou`].
//! - [`EmptyState`]: which of the two masks is empty, reported beside every metric.
//! - [`surface_metrics`] with [`SurfaceOptions`] (surface, percentile and its rule, τ, empty-mask convention):
//!   every surface metric of every label, computed inside each label's box; [`SurfaceMetrics`] holds them. The
//!   surfaces include DeepMind's surfels ([`Surface::Surfels`]); label 0 is measured as the background structure
//!   (MONAI's `include_background`).
//!
//! # Semantics
//! Counts are exact integers; Dice and IoU are computed from them in f64 (one rounding). Volumes in mm³ are counts
//! times [`segauge_io::Grid::voxel_volume_mm3`]. Empty masks follow MeshMetrics by default: both empty gives 1,
//! one empty 0; [`BothEmpty`] names the other conventions (NaN, DeepMind's, MONAI's).
//! This crate does no IO and never panics on user data.
//!
//! # Example
//! ```
//! use segauge_io::{Grid, LabelVolume, Labels};
//! use segauge_metrics::{EmptyState, OverlapCounts};
//! let grid = Grid::new([4, 1, 1], [1.0, 1.0, 2.0])?;
//! let pred = LabelVolume::new(grid.clone(), Labels::U8(vec![1, 1, 0, 0]))?;
//! let gt = LabelVolume::new(grid, Labels::U8(vec![0, 1, 1, 0]))?;
//! let one = OverlapCounts::compute(&pred, &gt)?.get(1);
//! assert_eq!((one.tp, one.fp(), one.fn_()), (1, 1, 1));
//! assert_eq!(one.dice(), 0.5);
//! assert_eq!(one.empty_state(), EmptyState::None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Feature flags
//! - `parallel`: count on all cores with rayon; results are identical with or without it.
#![deny(missing_docs)]

mod crop;
mod grid;
mod overlap;
mod surface;
mod surfels;

pub use crop::{VoxelBox, crop_mask, label_box, label_boxes, largest_first};
pub use overlap::{EmptyState, LabelCounts, OverlapCounts};
pub use surface::{
    BothEmpty, Directed, MeshCompat, PercentileInterpolation, PercentileRule, Surface, SurfaceDistances,
    SurfaceMetrics, SurfaceOptions, label_surface_distances, mask_surface_metrics, surface_distances,
    surface_metrics, surface_metrics_in_boxes,
};

/// Errors of metric computations.
///
/// # How to fix
/// Metrics compare volumes voxel by voxel: resample the prediction onto the ground truth's grid first.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The two volumes have different shapes.
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
}
