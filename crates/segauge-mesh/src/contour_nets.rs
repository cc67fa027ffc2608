//! VTK's 2D SurfaceNets (`vtkSurfaceNets2D`) for binary masks, with a choice of smoothing ([`ContourSmoothing`]).
//!
//! # What VTK does (and therefore what this module does)
//! - **Dual squares.** A square sits between 2×2 pixels; squares run over `0..=n` per axis (one padding square on
//!   each side). A square edge (the segment between two neighbouring pixel centres) is *crossed* when both pixels
//!   lie inside the box and exactly one is foreground. A square with a crossed edge emits a point at its centre
//!   (pixel index `a − ½` per axis, a pixel corner). Point ids follow the squares, x fastest.
//! - **No padding.** Nothing outside the box counts as background: foreground on the box's border gives an open
//!   contour, exactly as VTK. [`crate::pixel_edges`] pads first.
//! - **Lines.** A square whose right edge is crossed is joined to its right neighbour, then one whose top edge is
//!   crossed to its upper neighbour: one segment per crossed pixel edge, along that pixel edge (before smoothing).
//! - **Stencils.** Each point's smoothing neighbours are the squares across its crossed edges, in the order below,
//!   above, left, right; a point with a single crossed edge (where the contour leaves the box) is held in place.
//! - **Placement.** Points are placed by the [`PlaneFrame`] (`origin + spacing ⊙ index`, evaluated in f64).
//!
//! # Smoothing
//! `vtkSurfaceNets2D` hands its points to a `vtkConstrainedSmoothingFilter` left at that filter's own defaults
//! (VTK 9.6 and 9.7): 10 Jacobi iterations with relaxation factor 0.01, each point kept within 0.001 (world units)
//! of its start, stopping early once no point moves. Unlike `vtkSurfaceNets3D`, which sets 16 iterations,
//! relaxation ½ and a constraint radius of `|spacing|`, this barely moves a point (at most 1 µm for a mask in mm):
//! VTK's smoothed 2D contour is the pixel-edge contour to within 0.001 mm. [`ContourSmoothing::Vtk`] reproduces it
//! (float32 storage, f64 arithmetic, as VTK); [`ContourSmoothing::Strong`] applies the 3D filter's settings in f64,
//! which actually rounds the staircase (docs/METHODS.md A.9).

use crate::Error;
use crate::Mask;
use crate::contour::{Contour, PlaneFrame, plane_dims};
use crate::surface_nets::Coord;

/// How [`contour_nets`] smooths its points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ContourSmoothing {
    /// None: points at pixel corners, in f64 (VTK's `SmoothingOff()`, without VTK's float32 rounding).
    Off,
    /// `vtkSurfaceNets2D`'s default smoothing (10 iterations, relaxation 0.01, constraint 0.001), with VTK's
    /// float32 points (module docs): within 0.001 of the pixel-edge contour.
    #[default]
    Vtk,
    /// `vtkSurfaceNets3D`'s smoothing settings on the 2D stencils (16 iterations, relaxation ½, each point kept
    /// within `|spacing|` of its start), in f64: the 2D counterpart of segauge's `smooth` surface.
    Strong,
}

/// The SurfaceNets contour of a 2D mask (`[nx, ny, 1]`), placed by `frame`, smoothed as `smoothing` says. The mask is
/// **not** padded (module docs).
///
/// # Errors
/// [`Error::NotPlanar`] when the mask has more than one slice.
///
/// ```
/// use segauge_mesh::{contour_nets, ContourSmoothing, Mask, PlaneFrame};
/// // A 2 × 2 block in a 4 × 4 box: eight pixel edges; strong smoothing pulls the corners in.
/// let mask = Mask::from_fn([4, 4, 1], |i, j, _| (1..3).contains(&i) && (1..3).contains(&j));
/// let raw = contour_nets(&mask, &PlaneFrame::scaled([1.0, 1.0]), ContourSmoothing::Off)?;
/// assert_eq!(raw.segments.len(), 8);
/// assert_eq!(raw.lengths().iter().sum::<f64>(), 8.0);
/// let smooth = contour_nets(&mask, &PlaneFrame::scaled([1.0, 1.0]), ContourSmoothing::Strong)?;
/// assert!(smooth.lengths().iter().sum::<f64>() < 8.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn contour_nets(mask: &Mask, frame: &PlaneFrame, smoothing: ContourSmoothing) -> Result<Contour, Error> {
    plane_dims(mask)?;
    Ok(nets(mask, frame, smoothing))
}

/// Smoothing parameters: iterations, relaxation factor, squared constraint radius.
fn parameters(smoothing: ContourSmoothing, frame: &PlaneFrame) -> Option<(usize, f64, f64)> {
    match smoothing {
        ContourSmoothing::Off => None,
        ContourSmoothing::Vtk => Some((10, 0.01, 0.001 * 0.001)),
        ContourSmoothing::Strong => {
            // vtkSurfaceNets3D's automatic constraint: |spacing| / 2 · ConstraintScale (2).
            let r = frame.spacing[0].hypot(frame.spacing[1]) / 2.0 * 2.0;
            Some((16, 0.5, r * r))
        }
    }
}

/// [`contour_nets`] on a mask known to be planar.
pub(crate) fn nets(mask: &Mask, frame: &PlaneFrame, smoothing: ContourSmoothing) -> Contour {
    let [nx, ny, _] = mask.dims();
    let (sx, sy) = (nx + 1, ny + 1);
    let px = |i: usize, j: usize| -> Option<bool> {
        // Square corner pixel (i − 1, j − 1) in square coordinates.
        (i >= 1 && j >= 1 && i <= nx && j <= ny).then(|| mask.get(i as isize - 1, j as isize - 1, 0))
    };
    let crossed = |p: Option<bool>, q: Option<bool>| matches!((p, q), (Some(a), Some(b)) if a != b);
    // Square case bits: 1 bottom, 2 top, 4 left, 8 right edge crossed.
    let mut cases = vec![0u8; sx * sy];
    let mut ids = vec![u32::MAX; sx * sy];
    let mut points: Vec<[f64; 2]> = Vec::new();
    for j in 0..sy {
        for i in 0..sx {
            let (a, b, c, d) = (px(i, j), px(i + 1, j), px(i, j + 1), px(i + 1, j + 1));
            let case = crossed(a, b) as u8
                | (crossed(c, d) as u8) << 1
                | (crossed(a, c) as u8) << 2
                | (crossed(b, d) as u8) << 3;
            if case != 0 {
                cases[i + sx * j] = case;
                ids[i + sx * j] = points.len() as u32;
                points.push([i as f64 - 0.5, j as f64 - 0.5]);
            }
        }
    }
    let mut segments = Vec::new();
    let mut stencils: Vec<[u32; 4]> = Vec::with_capacity(points.len());
    let mut counts: Vec<u8> = Vec::with_capacity(points.len());
    for j in 0..sy {
        for i in 0..sx {
            let case = cases[i + sx * j];
            if case == 0 {
                continue;
            }
            let me = ids[i + sx * j];
            // A crossed right (top) edge has a crossed neighbour square to the right (above), inside the range.
            if case & 8 != 0 {
                segments.push([me, ids[i + 1 + sx * j]]);
            }
            if case & 2 != 0 {
                segments.push([me, ids[i + sx * (j + 1)]]);
            }
            let mut st = [me; 4];
            let mut n = 0;
            if case.count_ones() > 1 {
                for (bit, nb) in [
                    (1u8, (i, j.wrapping_sub(1))),
                    (2, (i, j + 1)),
                    (4, (i.wrapping_sub(1), j)),
                    (8, (i + 1, j)),
                ] {
                    if case & bit != 0 {
                        st[n] = ids[nb.0 + sx * nb.1];
                        n += 1;
                    }
                }
            } else {
                n = 1; // held in place: its own position is its stencil
            }
            stencils.push(st);
            counts.push(n as u8);
        }
    }
    let place = |p: [f64; 2]| frame.point(p);
    let vertices: Vec<[f64; 2]> = match parameters(smoothing, frame) {
        None => points.iter().map(|&p| place(p)).collect(),
        Some((iterations, relax, c2)) => {
            if smoothing == ContourSmoothing::Vtk {
                let start: Vec<[f32; 2]> = points.iter().map(|&p| place(p).map(|x| x as f32)).collect();
                smooth(&start, &stencils, &counts, iterations, relax, c2)
                    .into_iter()
                    .map(|p| p.map(f64::from))
                    .collect()
            } else {
                let start: Vec<[f64; 2]> = points.iter().map(|&p| place(p)).collect();
                smooth(&start, &stencils, &counts, iterations, relax, c2)
            }
        }
    };
    Contour { vertices, segments }
}

/// vtkConstrainedSmoothingFilter's Jacobi iterations (distance constraint) on 2D points: each iteration moves
/// every point `relax` of the way to the mean of its stencil (in the stencil's order, f64), pulls it back onto the
/// constraint circle around its start if it left it, and stores it; iterations stop early when no point moved.
fn smooth<T: Coord>(
    start: &[[T; 2]],
    stencils: &[[u32; 4]],
    counts: &[u8],
    iterations: usize,
    relax: f64,
    c2: f64,
) -> Vec<[T; 2]> {
    let mut prev = start.to_vec();
    let mut next = start.to_vec();
    for _ in 0..iterations {
        let mut moved = 0.0f64;
        for p in 0..start.len() {
            let n = counts[p] as usize;
            let x_in = start[p].map(Coord::widen);
            let tmp = prev[p].map(Coord::widen);
            let mut ave = [0.0f64; 2];
            for &q in &stencils[p][..n] {
                let v = prev[q as usize];
                ave[0] += v[0].widen();
                ave[1] += v[1].widen();
            }
            ave = ave.map(|a| a / n as f64);
            let mut x = [tmp[0] + relax * (ave[0] - tmp[0]), tmp[1] + relax * (ave[1] - tmp[1])];
            let d2 = (x[0] - x_in[0]) * (x[0] - x_in[0]) + (x[1] - x_in[1]) * (x[1] - x_in[1]);
            if d2 > c2 {
                let t = (c2 / d2).sqrt();
                x = [x_in[0] + t * (x[0] - x_in[0]), x_in[1] + t * (x[1] - x_in[1])];
            }
            let m2 = (x[0] - tmp[0]) * (x[0] - tmp[0]) + (x[1] - tmp[1]) * (x[1] - tmp[1]);
            moved = moved.max(m2);
            next[p] = x.map(T::narrow);
        }
        std::mem::swap(&mut prev, &mut next);
        if moved <= 0.0 {
            break;
        }
    }
    prev
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsmoothed_segments_are_pixel_edges_in_vtk_order() {
        // One pixel in a 3 × 3 box: squares (1..=2)², points at the pixel's corners, ids x fastest.
        let mask = Mask::from_fn([3, 3, 1], |i, j, _| (i, j) == (1, 1));
        let c = contour_nets(&mask, &PlaneFrame::scaled([1.0, 1.0]), ContourSmoothing::Off).unwrap();
        assert_eq!(c.vertices, vec![[0.5, 0.5], [1.5, 0.5], [0.5, 1.5], [1.5, 1.5]]);
        assert_eq!(c.segments, vec![[0, 1], [0, 2], [1, 3], [2, 3]]);
    }

    #[test]
    fn vtk_smoothing_moves_points_at_most_the_constraint() {
        let mask = Mask::from_fn([9, 8, 1], |i, j, _| (i as f64 - 4.0).hypot(j as f64 - 3.5) < 3.2);
        let frame = PlaneFrame::scaled([1.0, 1.0]);
        let raw = contour_nets(&mask, &frame, ContourSmoothing::Off).unwrap();
        let vtk = contour_nets(&mask, &frame, ContourSmoothing::Vtk).unwrap();
        assert_eq!(raw.segments, vtk.segments);
        let most = raw
            .vertices
            .iter()
            .zip(&vtk.vertices)
            .map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]))
            .fold(0.0, f64::max);
        assert!(most > 0.0 && most <= 0.001 + 1e-7, "{most}");
    }

    #[test]
    fn open_contours_hold_their_ends() {
        // Foreground on the box border: the contour ends there, and its end points do not move.
        let mask = Mask::from_fn([4, 4, 1], |i, _, _| i < 2);
        let c = contour_nets(&mask, &PlaneFrame::scaled([1.0, 1.0]), ContourSmoothing::Strong).unwrap();
        assert_eq!(c.segments.len(), 4);
        assert!(c.vertices.iter().all(|v| v[0] == 1.5));
    }
}
