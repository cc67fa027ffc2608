//! Surfels: DeepMind surface-distance's surface, reproduced exactly (docs/METHODS.md A.6, "Surfels").
//!
//! The surface lives on the grid of voxel corners. Each corner looks at the 2×2×2 block of voxels around it (2×2
//! in 2D) and reads its *neighbour code*, one bit per voxel of the block (voxels outside the image are
//! background). A corner whose block is neither empty nor full is a surface element, a *surfel*; its weight is the
//! area (mm²) of the marching-cubes surface piece inside its block, from a table of 256 area-vector sets scaled
//! by the spacing (in 2D: the length, mm, of the contour piece inside the 2×2 block, from 16 cases). The distance
//! from a surfel to the other mask's surface is the exact Euclidean distance, with per-axis spacing, from its
//! corner to the nearest surfel corner of the other mask (grid.rs's transform on the corner grid).
//!
//! Block codes follow DeepMind's kernel: in 3D, the voxel at offset `(a, b, c) ∈ {0, 1}³` from the corner's
//! lower voxel `(i − 1, j − 1, k − 1)` sets bit `7 − (4a + 2b + c)`; in 2D, offset `(a, b)` sets bit
//! `3 − (2a + b)`. Array axis 0 is x.
//!
//! An image one voxel thick along z is a 2D image: its surfels are contour pieces of 2×2 blocks in the x–y plane
//! (DeepMind's 2D mode), not the faces of a one-voxel slab.

use segauge_mesh::Mask;

use crate::grid::edt_squared;

/// The surfels of one mask on its corner grid.
pub(crate) struct Surfels {
    /// Dimensions of the corner grid: the mask's plus one per axis (z stays 1 for a 2D image).
    pub(crate) dims: [usize; 3],
    /// Which corners are surfels, x fastest.
    pub(crate) border: Vec<bool>,
    /// The surfels' corner indices (into `border`), ascending.
    pub(crate) corners: Vec<usize>,
    /// The surfels' areas (mm², or mm of contour in 2D), in the order of `corners`.
    pub(crate) areas: Vec<f64>,
}

impl Surfels {
    /// The surfels of `mask`, with voxel spacing `spacing`; `planar` measures it as a 2D image (the union of its
    /// z slices, which holds the one slice of a 2D image and its empty padding).
    pub(crate) fn new(mask: &Mask, spacing: [f64; 3], planar: bool) -> Surfels {
        let [nx, ny, nz] = mask.dims();
        if planar {
            let flat = Mask::from_fn([nx, ny, 1], |i, j, _| {
                (0..nz).any(|k| mask.get(i as isize, j as isize, k as isize))
            });
            let table = contour_lengths(spacing[0], spacing[1]);
            let dims = [nx + 1, ny + 1, 1];
            Surfels::collect(dims, |i, j, _| {
                let mut code = 0usize;
                for (bit, (a, b)) in [(0, 0), (0, 1), (1, 0), (1, 1)].into_iter().enumerate() {
                    if flat.get(i + a - 1, j + b - 1, 0) {
                        code |= 8 >> bit;
                    }
                }
                (code, 15, table[code])
            })
        } else {
            let table = surface_areas(spacing);
            let dims = [nx + 1, ny + 1, nz + 1];
            Surfels::collect(dims, |i, j, k| {
                let mut code = 0usize;
                for bit in 0..8 {
                    let (a, b, c) = ((bit >> 2) as isize, ((bit >> 1) & 1) as isize, (bit & 1) as isize);
                    if mask.get(i + a - 1, j + b - 1, k + c - 1) {
                        code |= 128 >> bit;
                    }
                }
                (code, 255, table[code])
            })
        }
    }

    /// Visits every corner of a `dims` grid; `code` gives its neighbour code, the full code and the code's area.
    fn collect(dims: [usize; 3], code: impl Fn(isize, isize, isize) -> (usize, usize, f64)) -> Surfels {
        let mut border = vec![false; dims.iter().product()];
        let (mut corners, mut areas) = (Vec::new(), Vec::new());
        let mut n = 0;
        for k in 0..dims[2] {
            for j in 0..dims[1] {
                for i in 0..dims[0] {
                    let (c, full, area) = code(i as isize, j as isize, k as isize);
                    if c != 0 && c != full {
                        border[n] = true;
                        corners.push(n);
                        areas.push(area);
                    }
                    n += 1;
                }
            }
        }
        Surfels { dims, border, corners, areas }
    }

    /// Squared distance (mm²) from every corner to the nearest surfel of this mask (+inf without surfels).
    pub(crate) fn edt_squared(&self, spacing: [f64; 3]) -> Vec<f64> {
        edt_squared(&self.border, true, self.dims, spacing)
    }

    /// The continuous voxel index of corner `n` (corners sit half a voxel below their upper voxel).
    pub(crate) fn corner_index(&self, n: usize) -> [f64; 3] {
        let [cx, cy, _] = self.dims;
        let idx = [n % cx, (n / cx) % cy, n / (cx * cy)];
        let planar = self.dims[2] == 1;
        std::array::from_fn(|a| if planar && a == 2 { 0.0 } else { idx[a] as f64 - 0.5 })
    }
}

/// The contour length (mm) of each of the 16 codes of a 2×2 block, with spacing `s0` along x (array axis 0) and
/// `s1` along y: a corner cut is half a block diagonal, a straight crossing one spacing, a saddle two cuts.
fn contour_lengths(s0: f64, s1: f64) -> [f64; 16] {
    let diag = 0.5 * (s0 * s0 + s1 * s1).sqrt();
    let mut t = [diag; 16];
    t[0] = 0.0;
    t[15] = 0.0;
    // Two voxels side by side across y (codes 0b0011, 0b1100): a contour piece along y, one s1 long.
    t[0b0011] = s1;
    t[0b1100] = s1;
    // Two voxels side by side across x (0b0101, 0b1010): a piece along x, one s0 long.
    t[0b0101] = s0;
    t[0b1010] = s0;
    // Diagonal pairs (saddles): two corner cuts.
    t[0b0110] = 2.0 * diag;
    t[0b1001] = 2.0 * diag;
    t
}

/// The surfel area (mm²) of each of the 256 codes of a 2×2×2 block with voxel spacing `s`: the sum of the norms
/// of the code's area vectors ([`NORMALS`]), each component scaled by the area of a voxel face across its axis.
fn surface_areas(s: [f64; 3]) -> [f64; 256] {
    std::array::from_fn(|code| {
        let mut sum = 0.0;
        for n in NORMALS[code] {
            let v = [
                f64::from(n[0]) / 8.0 * s[1] * s[2],
                f64::from(n[1]) / 8.0 * s[0] * s[2],
                f64::from(n[2]) / 8.0 * s[0] * s[1],
            ];
            sum += (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
        }
        sum
    })
}

/// Area vectors of the marching-cubes surface pieces of each neighbour code, in units of 1/8 voxel face (so
/// `[1, 1, 1]` is a corner cut, `[4, 0, 0]` half a face). Data from DeepMind surface-distance,
/// `surface_distance/lookup_tables.py`, `_NEIGHBOUR_CODE_TO_NORMALS` (Apache-2.0, commit 1f805cea), multiplied
/// by 8 (every entry is a multiple of 1/8). The pieces of a code are kept as DeepMind groups them: the area is a
/// sum of norms, so grouping changes it.
#[rustfmt::skip]
const NORMALS: [&[[i8; 3]]; 256] = [
    &[[0, 0, 0]],
    &[[1, 1, 1]],
    &[[-1, -1, 1]],
    &[[-2, -2, 0], [2, 2, 0]],
    &[[1, -1, 1]],
    &[[-2, 0, -2], [2, 0, 2]],
    &[[1, -1, 1], [-1, -1, 1]],
    &[[4, 0, 0], [2, 2, 2], [1, 1, 1]],
    &[[-1, 1, 1]],
    &[[1, 1, 1], [-1, 1, 1]],
    &[[-2, 0, 2], [-2, 0, 2]],
    &[[4, 0, 0], [-2, -2, 2], [-1, -1, 1]],
    &[[2, -2, 0], [2, -2, 0]],
    &[[4, 0, 0], [2, -2, 2], [-1, 1, -1]],
    &[[-4, 0, 0], [-2, 2, 2], [-1, 1, 1]],
    &[[4, 0, 0], [4, 0, 0]],
    &[[1, -1, -1]],
    &[[0, -2, -2], [0, 2, 2]],
    &[[-1, -1, 1], [1, -1, -1]],
    &[[0, -4, 0], [2, 2, 2], [1, 1, 1]],
    &[[1, -1, 1], [1, -1, -1]],
    &[[0, 0, -4], [2, 2, 2], [-1, -1, -1]],
    &[[-1, -1, 1], [1, -1, 1], [1, -1, -1]],
    &[[-1, -1, -1], [-2, -2, -2], [2, 2, 2], [1, 1, 1]],
    &[[-1, 1, 1], [1, -1, -1]],
    &[[0, -2, -2], [0, 2, 2], [-1, 1, 1]],
    &[[-2, 0, 2], [-2, 0, 2], [1, -1, -1]],
    &[[1, 1, 1], [3, 3, 3], [0, -2, 2], [-2, 0, 2]],
    &[[1, -1, -1], [2, -2, 0], [2, -2, 0]],
    &[[3, 3, 3], [0, 2, -2], [-1, -1, -1], [-2, 2, 0]],
    &[[-4, 0, 0], [-1, -1, -1], [-2, -2, -2], [1, 1, 1]],
    &[[-4, 0, 0], [-1, -1, -1], [-2, -2, -2]],
    &[[1, -1, 1]],
    &[[1, 1, 1], [1, -1, 1]],
    &[[0, -2, 2], [0, 2, -2]],
    &[[0, -4, 0], [1, 1, -1], [2, 2, -2]],
    &[[1, -1, 1], [1, -1, 1]],
    &[[1, -1, 1], [-2, 0, -2], [2, 0, 2]],
    &[[0, -2, 2], [0, 2, -2], [1, -1, 1]],
    &[[-3, -3, 3], [0, 2, 2], [1, 1, -1], [-2, 0, -2]],
    &[[-1, 1, 1], [1, -1, 1]],
    &[[1, 1, 1], [1, -1, 1], [-1, 1, 1]],
    &[[0, 0, 4], [-2, -2, 2], [-1, -1, 1]],
    &[[2, 2, -2], [2, 2, -2], [1, 1, -1], [-1, -1, 1]],
    &[[1, -1, 1], [2, -2, 0], [2, -2, 0]],
    &[[4, 0, 0], [2, -2, 2], [-1, 1, -1], [1, -1, 1]],
    &[[0, 2, -2], [3, -3, -3], [-1, 1, 1], [2, 2, 0]],
    &[[-4, 0, 0], [-2, -2, 2], [-1, -1, 1]],
    &[[2, -2, 0], [-2, 2, 0]],
    &[[0, 4, 0], [-2, 2, 2], [1, -1, -1]],
    &[[0, 4, 0], [1, -1, 1], [-2, 2, -2]],
    &[[0, 4, 0], [0, -4, 0]],
    &[[2, -2, 0], [-2, 2, 0], [1, -1, 1]],
    &[[-3, -3, -3], [-2, 0, 2], [-1, -1, -1], [-2, 2, 0]],
    &[[1, 1, 1], [0, -4, 0], [-2, -2, -2], [-1, -1, -1]],
    &[[0, -4, 0], [-2, -2, -2], [-1, -1, -1]],
    &[[-1, 1, 1], [2, -2, 0], [-2, 2, 0]],
    &[[0, 4, 0], [2, 2, -2], [-1, -1, 1], [-1, -1, 1]],
    &[[-3, 3, -3], [-2, -2, 0], [-1, 1, -1], [-2, 0, 2]],
    &[[0, 4, 0], [2, 2, -2], [-1, -1, 1]],
    &[[2, -2, 0], [-2, 2, 0], [2, -2, 0], [2, -2, 0]],
    &[[-2, -2, 0], [-2, -2, 0], [-1, -1, 1]],
    &[[1, 1, 1], [-2, -2, 0], [-2, -2, 0]],
    &[[-2, -2, 0], [-2, -2, 0]],
    &[[-1, -1, 1]],
    &[[1, 1, 1], [-1, -1, 1]],
    &[[-1, -1, 1], [-1, -1, 1]],
    &[[-1, -1, 1], [-2, -2, 0], [2, 2, 0]],
    &[[0, -2, 2], [0, -2, 2]],
    &[[0, 0, 4], [2, -2, 2], [1, -1, 1]],
    &[[0, -2, 2], [0, -2, 2], [-1, -1, 1]],
    &[[3, -3, 3], [0, -2, -2], [-1, 1, -1], [2, 2, 0]],
    &[[-1, -1, 1], [-1, 1, 1]],
    &[[1, 1, 1], [-1, -1, 1], [-1, 1, 1]],
    &[[-1, -1, 1], [-2, 0, 2], [-2, 0, 2]],
    &[[4, 0, 0], [-2, -2, 2], [-1, -1, 1], [-1, -1, 1]],
    &[[0, 4, 0], [-2, 2, -2], [1, -1, 1]],
    &[[-2, 2, -2], [-2, 2, -2], [-1, 1, -1], [-1, 1, -1]],
    &[[-2, 0, -2], [3, -3, -3], [0, 2, -2], [-1, 1, 1]],
    &[[4, 0, 0], [-2, 2, -2], [1, -1, 1]],
    &[[-2, 0, 2], [2, 0, -2]],
    &[[0, 0, 4], [-2, 2, 2], [-1, 1, 1]],
    &[[-1, -1, 1], [-2, 0, 2], [2, 0, -2]],
    &[[-2, 0, -2], [-3, 3, 3], [-2, -2, 0], [-1, 1, 1]],
    &[[0, 0, -4], [2, 2, -2], [-1, -1, 1]],
    &[[0, 0, 4], [0, 0, 4]],
    &[[1, 1, 1], [1, 1, 1], [2, 2, 2], [0, 0, 4]],
    &[[1, 1, 1], [2, 2, 2], [0, 0, 4]],
    &[[-2, 0, 2], [2, 0, -2], [-1, 1, 1]],
    &[[0, 0, 4], [2, -2, 2], [1, -1, 1], [1, -1, 1]],
    &[[-2, 0, 2], [-2, 0, 2], [-2, 0, 2], [2, 0, -2]],
    &[[1, -1, 1], [2, 0, 2], [2, 0, 2]],
    &[[2, 0, 2], [-3, -3, 3], [-2, 2, 0], [-1, -1, 1]],
    &[[0, 0, 4], [2, -2, 2], [1, -1, 1]],
    &[[1, 1, 1], [2, 0, 2], [2, 0, 2]],
    &[[2, 0, 2], [2, 0, 2]],
    &[[-1, -1, 1], [1, -1, 1]],
    &[[1, 1, 1], [-1, -1, 1], [1, -1, 1]],
    &[[-1, -1, 1], [0, -2, 2], [0, 2, -2]],
    &[[0, -4, 0], [1, 1, -1], [2, 2, -2], [-1, -1, 1]],
    &[[0, -2, 2], [0, -2, 2], [1, -1, 1]],
    &[[0, 0, 4], [2, -2, 2], [1, -1, 1], [1, -1, 1]],
    &[[0, -2, 2], [0, -2, 2], [0, -2, 2], [0, 2, -2]],
    &[[0, 2, 2], [0, 2, 2], [1, -1, -1]],
    &[[-1, 1, 1], [1, -1, 1], [-1, -1, 1]],
    &[[-1, 1, 1], [1, -1, 1], [-1, -1, 1], [1, 1, 1]],
    &[[0, 0, 4], [-2, -2, 2], [-1, -1, 1], [-1, -1, 1]],
    &[[1, 1, 1], [1, -1, 1], [1, -1, -1]],
    &[[0, 4, 0], [-2, 2, -2], [1, -1, 1], [1, -1, 1]],
    &[[1, 1, 1], [-1, -1, 1], [1, -1, -1]],
    &[[0, -2, -2], [0, 2, 2], [1, 1, 1]],
    &[[1, 1, 1], [1, -1, -1]],
    &[[4, 0, 0], [2, -2, -2], [1, -1, -1]],
    &[[-2, 2, 2], [-1, 1, 1], [-2, 2, 2], [1, -1, -1]],
    &[[3, -3, 3], [0, 2, 2], [-1, 1, -1], [-2, 0, 2]],
    &[[0, -4, 0], [-2, 2, 2], [-1, 1, 1]],
    &[[-3, -3, 3], [2, -2, 0], [0, 2, 2], [-1, -1, 1]],
    &[[-1, 1, 1], [-2, 2, 2], [0, 0, 4]],
    &[[1, 1, 1], [0, 2, 2], [0, 2, 2]],
    &[[0, 2, 2], [0, 2, 2]],
    &[[4, 0, 0], [2, 2, 2], [1, 1, 1], [1, 1, 1]],
    &[[1, -1, 1], [-1, -1, 1], [1, 1, 1]],
    &[[-2, 0, -2], [2, 0, 2], [1, 1, 1]],
    &[[1, 1, 1], [1, -1, 1]],
    &[[-2, -2, 0], [2, 2, 0], [1, 1, 1]],
    &[[1, 1, 1], [-1, -1, 1]],
    &[[1, 1, 1], [1, 1, 1]],
    &[[1, 1, 1]],
    &[[1, 1, 1]],
    &[[1, 1, 1], [1, 1, 1]],
    &[[1, 1, 1], [-1, -1, 1]],
    &[[-2, -2, 0], [2, 2, 0], [1, 1, 1]],
    &[[1, 1, 1], [1, -1, 1]],
    &[[-2, 0, -2], [2, 0, 2], [1, 1, 1]],
    &[[1, -1, 1], [-1, -1, 1], [1, 1, 1]],
    &[[4, 0, 0], [2, 2, 2], [1, 1, 1], [1, 1, 1]],
    &[[0, 2, 2], [0, 2, 2]],
    &[[1, 1, 1], [0, 2, 2], [0, 2, 2]],
    &[[-1, 1, 1], [-2, 2, 2], [0, 0, 4]],
    &[[-3, -3, 3], [2, -2, 0], [0, 2, 2], [-1, -1, 1]],
    &[[0, -4, 0], [-2, 2, 2], [-1, 1, 1]],
    &[[3, -3, 3], [0, 2, 2], [-1, 1, -1], [-2, 0, 2]],
    &[[-2, 2, 2], [-1, 1, 1], [-2, 2, 2], [1, -1, -1]],
    &[[4, 0, 0], [2, -2, -2], [1, -1, -1]],
    &[[1, 1, 1], [1, -1, -1]],
    &[[0, -2, -2], [0, 2, 2], [1, 1, 1]],
    &[[1, 1, 1], [-1, -1, 1], [1, -1, -1]],
    &[[0, 4, 0], [-2, 2, -2], [1, -1, 1], [1, -1, 1]],
    &[[1, 1, 1], [1, -1, 1], [1, -1, -1]],
    &[[0, 0, 4], [-2, -2, 2], [-1, -1, 1], [-1, -1, 1]],
    &[[-1, 1, 1], [1, -1, 1], [-1, -1, 1], [1, 1, 1]],
    &[[-1, 1, 1], [1, -1, 1], [-1, -1, 1]],
    &[[0, 2, 2], [0, 2, 2], [1, -1, -1]],
    &[[0, -2, -2], [0, 2, 2], [0, 2, 2], [0, 2, 2]],
    &[[0, 0, 4], [2, -2, 2], [1, -1, 1], [1, -1, 1]],
    &[[0, -2, 2], [0, -2, 2], [1, -1, 1]],
    &[[0, -4, 0], [1, 1, -1], [2, 2, -2], [-1, -1, 1]],
    &[[-1, -1, 1], [0, -2, 2], [0, 2, -2]],
    &[[1, 1, 1], [-1, -1, 1], [1, -1, 1]],
    &[[-1, -1, 1], [1, -1, 1]],
    &[[2, 0, 2], [2, 0, 2]],
    &[[1, 1, 1], [2, 0, 2], [2, 0, 2]],
    &[[0, 0, 4], [2, -2, 2], [1, -1, 1]],
    &[[2, 0, 2], [-3, -3, 3], [-2, 2, 0], [-1, -1, 1]],
    &[[1, -1, 1], [2, 0, 2], [2, 0, 2]],
    &[[-2, 0, -2], [2, 0, 2], [2, 0, 2], [2, 0, 2]],
    &[[0, 0, 4], [2, -2, 2], [1, -1, 1], [1, -1, 1]],
    &[[-2, 0, 2], [2, 0, -2], [-1, 1, 1]],
    &[[1, 1, 1], [2, 2, 2], [0, 0, 4]],
    &[[1, 1, 1], [1, 1, 1], [2, 2, 2], [0, 0, 4]],
    &[[0, 0, 4], [0, 0, 4]],
    &[[0, 0, -4], [2, 2, -2], [-1, -1, 1]],
    &[[-2, 0, -2], [-3, 3, 3], [-2, -2, 0], [-1, 1, 1]],
    &[[-1, -1, 1], [-2, 0, 2], [2, 0, -2]],
    &[[0, 0, 4], [-2, 2, 2], [-1, 1, 1]],
    &[[-2, 0, 2], [2, 0, -2]],
    &[[4, 0, 0], [-2, 2, -2], [1, -1, 1]],
    &[[-2, 0, -2], [3, -3, -3], [0, 2, -2], [-1, 1, 1]],
    &[[-2, 2, -2], [-2, 2, -2], [-1, 1, -1], [-1, 1, -1]],
    &[[0, 4, 0], [-2, 2, -2], [1, -1, 1]],
    &[[4, 0, 0], [-2, -2, 2], [-1, -1, 1], [-1, -1, 1]],
    &[[-1, -1, 1], [-2, 0, 2], [-2, 0, 2]],
    &[[1, 1, 1], [-1, -1, 1], [-1, 1, 1]],
    &[[-1, -1, 1], [-1, 1, 1]],
    &[[3, -3, 3], [0, -2, -2], [-1, 1, -1], [2, 2, 0]],
    &[[0, -2, 2], [0, -2, 2], [-1, -1, 1]],
    &[[0, 0, 4], [2, -2, 2], [1, -1, 1]],
    &[[0, -2, 2], [0, -2, 2]],
    &[[-1, -1, 1], [-2, -2, 0], [2, 2, 0]],
    &[[-1, -1, 1], [-1, -1, 1]],
    &[[1, 1, 1], [-1, -1, 1]],
    &[[-1, -1, 1]],
    &[[-2, -2, 0], [-2, -2, 0]],
    &[[1, 1, 1], [-2, -2, 0], [-2, -2, 0]],
    &[[-2, -2, 0], [-2, -2, 0], [-1, -1, 1]],
    &[[-2, -2, 0], [-2, -2, 0], [-2, -2, 0], [2, 2, 0]],
    &[[0, 4, 0], [2, 2, -2], [-1, -1, 1]],
    &[[-3, 3, -3], [-2, -2, 0], [-1, 1, -1], [-2, 0, 2]],
    &[[0, 4, 0], [2, 2, -2], [-1, -1, 1], [-1, -1, 1]],
    &[[-1, 1, 1], [2, -2, 0], [-2, 2, 0]],
    &[[0, -4, 0], [-2, -2, -2], [-1, -1, -1]],
    &[[1, 1, 1], [0, -4, 0], [-2, -2, -2], [-1, -1, -1]],
    &[[-3, -3, -3], [-2, 0, 2], [-1, -1, -1], [-2, 2, 0]],
    &[[2, -2, 0], [-2, 2, 0], [1, -1, 1]],
    &[[0, 4, 0], [0, -4, 0]],
    &[[0, 4, 0], [1, -1, 1], [-2, 2, -2]],
    &[[0, 4, 0], [-2, 2, 2], [1, -1, -1]],
    &[[2, -2, 0], [-2, 2, 0]],
    &[[-4, 0, 0], [-2, -2, 2], [-1, -1, 1]],
    &[[0, 2, -2], [3, -3, -3], [-1, 1, 1], [2, 2, 0]],
    &[[4, 0, 0], [2, -2, 2], [-1, 1, -1], [1, -1, 1]],
    &[[1, -1, 1], [2, -2, 0], [2, -2, 0]],
    &[[2, 2, -2], [2, 2, -2], [1, 1, -1], [-1, -1, 1]],
    &[[0, 0, 4], [-2, -2, 2], [-1, -1, 1]],
    &[[1, 1, 1], [1, -1, 1], [-1, 1, 1]],
    &[[-1, 1, 1], [1, -1, 1]],
    &[[-3, -3, 3], [0, 2, 2], [1, 1, -1], [-2, 0, -2]],
    &[[0, -2, 2], [0, 2, -2], [1, -1, 1]],
    &[[1, -1, 1], [-2, 0, -2], [2, 0, 2]],
    &[[1, -1, 1], [1, -1, 1]],
    &[[0, -4, 0], [1, 1, -1], [2, 2, -2]],
    &[[0, -2, 2], [0, 2, -2]],
    &[[1, 1, 1], [1, -1, 1]],
    &[[1, -1, 1]],
    &[[-4, 0, 0], [-1, -1, -1], [-2, -2, -2]],
    &[[-4, 0, 0], [-1, -1, -1], [-2, -2, -2], [1, 1, 1]],
    &[[3, 3, 3], [0, 2, -2], [-1, -1, -1], [-2, 2, 0]],
    &[[1, -1, -1], [2, -2, 0], [2, -2, 0]],
    &[[1, 1, 1], [3, 3, 3], [0, -2, 2], [-2, 0, 2]],
    &[[-2, 0, 2], [-2, 0, 2], [1, -1, -1]],
    &[[0, -2, -2], [0, 2, 2], [-1, 1, 1]],
    &[[-1, 1, 1], [1, -1, -1]],
    &[[-1, -1, -1], [-2, -2, -2], [2, 2, 2], [1, 1, 1]],
    &[[-1, -1, 1], [1, -1, 1], [1, -1, -1]],
    &[[0, 0, -4], [2, 2, 2], [-1, -1, -1]],
    &[[1, -1, 1], [1, -1, -1]],
    &[[0, -4, 0], [2, 2, 2], [1, 1, 1]],
    &[[-1, -1, 1], [1, -1, -1]],
    &[[0, -2, -2], [0, 2, 2]],
    &[[1, -1, -1]],
    &[[4, 0, 0], [4, 0, 0]],
    &[[-4, 0, 0], [-2, 2, 2], [-1, 1, 1]],
    &[[4, 0, 0], [2, -2, 2], [-1, 1, -1]],
    &[[2, -2, 0], [2, -2, 0]],
    &[[4, 0, 0], [-2, -2, 2], [-1, -1, 1]],
    &[[-2, 0, 2], [-2, 0, 2]],
    &[[1, 1, 1], [-1, 1, 1]],
    &[[-1, 1, 1]],
    &[[4, 0, 0], [2, 2, 2], [1, 1, 1]],
    &[[1, -1, 1], [-1, -1, 1]],
    &[[-2, 0, -2], [2, 0, 2]],
    &[[1, -1, 1]],
    &[[-2, -2, 0], [2, 2, 0]],
    &[[-1, -1, 1]],
    &[[1, 1, 1]],
    &[[0, 0, 0]],
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_voxel_has_eight_corner_cuts() {
        // Each corner of a lone voxel sees one foreground voxel: a corner cut of area |(1, 1, 1)/8| = √3/8.
        let mask = Mask::from_fn([3, 3, 3], |i, j, k| (i, j, k) == (1, 1, 1));
        let s = Surfels::new(&mask, [1.0; 3], false);
        assert_eq!(s.dims, [4, 4, 4]);
        assert_eq!(s.corners.len(), 8);
        assert!(s.areas.iter().all(|&a| a == 3f64.sqrt() / 8.0));
        // The corners are the voxel's: index 1 − ½ and 2 − ½ on every axis.
        assert_eq!(s.corner_index(s.corners[0]), [0.5, 0.5, 0.5]);
        assert_eq!(s.corner_index(s.corners[7]), [1.5, 1.5, 1.5]);
    }

    #[test]
    fn a_flat_face_gives_one_voxel_face_per_corner() {
        // Code 0b0000_1111: the four voxels with a = 1 (x) are inside; the plane across x has area s_y · s_z.
        assert_eq!(surface_areas([2.0, 3.0, 5.0])[0b0000_1111], 15.0);
        assert_eq!(surface_areas([2.0, 3.0, 5.0])[0], 0.0);
    }

    #[test]
    fn contour_of_one_pixel_is_four_half_diagonals() {
        // DeepMind's 2D test: one pixel, spacing (2, 1): four pieces of ½·√(2² + 1²).
        let mask = Mask::from_fn([3, 3, 3], |i, j, k| (i, j, k) == (1, 1, 1));
        let s = Surfels::new(&mask, [2.0, 1.0, 7.0], true);
        assert_eq!(s.dims, [4, 4, 1]);
        assert_eq!(s.areas, vec![0.5 * 5f64.sqrt(); 4]);
        let t = contour_lengths(2.0, 1.0);
        assert_eq!((t[0b0011], t[0b0101], t[0b0110]), (1.0, 2.0, 5f64.sqrt()));
    }
}
