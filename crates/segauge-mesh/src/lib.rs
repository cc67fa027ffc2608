//! Surface meshes of binary masks at true voxel spacing, and exact distances from points to them.
//!
//! # Overview
//! - [`Mask`] (a binary mask on a box of voxels) and [`Frame`] (spacing, origin, direction) are the inputs.
//! - Meshers return a [`Mesh`] (f64 vertices, outward-wound triangles): [`voxel_faces`] (MeshMetrics' surface).
//! - [`marching_cubes`]: marching cubes at iso ½ with our own generated case table (diagonal foreground voxels
//!   are separate surfaces; vtkDiscreteMarchingCubes-like, not VTK's table).
//! - [`surface_nets`]: VTK's vtkSurfaceNets3D with its default smoothing, bit for bit as VTK 9.7.2 (no padding:
//!   a mask touching its box gives an open surface).
//! - [`DistanceIndex`]: exact point-to-mesh distances (closest point on a triangle, f64) through a BVH.
//! - 2D masks (`[nx, ny, 1]`) have contours instead of surfaces: a [`Contour`] of line segments placed by a
//!   [`PlaneFrame`], from [`pixel_edges`] (MeshMetrics' 2D contour), [`contour_nets`] (VTK's vtkSurfaceNets2D, with
//!   a choice of [`ContourSmoothing`]) or [`marching_squares`]; [`SegmentIndex`] gives exact point-to-contour
//!   distances.
//!
//! # Semantics
//! Positions are `origin + D · (spacing ⊙ index)` for a continuous voxel index; a voxel's centre has an integer
//! index, so voxel faces lie at half-integer indices. Distances are Euclidean in the frame's units (mm).
//! This crate does no IO and never panics on user data.
//!
//! # Example
//! ```
//! use segauge_mesh::{voxel_faces, DistanceIndex, Frame, Mask};
//! // Two voxels on a line, 1 mm apart: the far face of the second is 1.5 mm from the centre of the first.
//! let frame = Frame::scaled([1.0; 3]);
//! let mesh = voxel_faces(&Mask::from_fn([2, 1, 1], |i, _, _| i == 1), &frame);
//! let index = DistanceIndex::new(&mesh);
//! assert_eq!(index.distance([0.0, 0.0, 0.0]), 0.5);
//! assert_eq!(index.distance([-3.0, 0.0, 0.0]), 3.5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Feature flags
//! - `parallel`: batch distance queries on all cores with rayon; results are bit-identical without it.
#![deny(missing_docs)]

mod closest;
mod contour;
mod contour_nets;
mod keep_volume;
mod mask;
mod mesh;
mod voxel_faces;
// (more meshers are declared below this line)
mod surface_nets;
pub use surface_nets::{Precision, QuadSplit, SurfaceNetsOptions, surface_nets, surface_nets_with};
mod marching_cubes;
pub use marching_cubes::marching_cubes;
mod segment_index;

pub use closest::{DistanceIndex, closest_point_on_triangle};
pub use contour::{Contour, PlaneFrame, marching_squares, pixel_edges};
pub use contour_nets::{ContourSmoothing, contour_nets};
pub use mask::{Frame, Mask, VtkF32};
pub use mesh::Mesh;
pub use segment_index::SegmentIndex;
pub use voxel_faces::{voxel_faces, voxel_faces_vtk_f32};

/// Errors of mesh construction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The voxel count does not match the shape.
    #[error("mask of shape {dims:?} needs {} voxels, got {len}", dims.iter().product::<usize>())]
    InvalidMask {
        /// The shape.
        dims: [usize; 3],
        /// The number of voxels given.
        len: usize,
    },
    /// A contour was asked of a mask with more than one slice.
    #[error("a contour needs a mask of one slice ([nx, ny, 1]), got shape {dims:?}")]
    NotPlanar {
        /// The shape.
        dims: [usize; 3],
    },
}
