//! Contours of 2D masks: the [`Contour`] type (line segments in the plane), its placement [`PlaneFrame`], and two
//! contour extractors: [`pixel_edges`] (the boundary of the union of pixel squares) and [`marching_squares`].
//! The SurfaceNets contour (VTK's `vtkSurfaceNets2D`) is in [`crate::contour_nets`].
//!
//! A 2D mask is a [`Mask`] of shape `[nx, ny, 1]`; its pixel `(i, j)` is centred at
//! `origin + spacing ⊙ (i, j)` (docs/METHODS.md A.9). Pixels outside the box are background for both extractors
//! here, so their contours are closed.

use std::collections::HashMap;

use crate::contour_nets::{ContourSmoothing, nets};
use crate::{Error, Mask};

/// Places a 2D mask's index space in the plane: `x = origin + spacing ⊙ index` (axis-aligned; distances in the
/// plane do not depend on the image's direction, so none is needed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaneFrame {
    /// Pixel spacing, mm.
    pub spacing: [f64; 2],
    /// Position of pixel (0, 0).
    pub origin: [f64; 2],
}

impl PlaneFrame {
    /// Spacing only: origin 0.
    pub fn scaled(spacing: [f64; 2]) -> PlaneFrame {
        PlaneFrame { spacing, origin: [0.0; 2] }
    }

    /// The position of a continuous pixel index.
    #[inline]
    pub fn point(&self, index: [f64; 2]) -> [f64; 2] {
        [self.origin[0] + self.spacing[0] * index[0], self.origin[1] + self.spacing[1] * index[1]]
    }
}

/// A set of line segments in the plane: the 2D counterpart of [`crate::Mesh`].
///
/// Segments are not oriented; the metrics take one sample per segment (its midpoint, weighted by its length).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contour {
    /// Vertex positions (mm).
    pub vertices: Vec<[f64; 2]>,
    /// Segments, as indices into `vertices`.
    pub segments: Vec<[u32; 2]>,
}

impl Contour {
    /// True when the contour has no segment (the mask was empty).
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// The two ends of segment `s`.
    #[inline]
    pub fn ends(&self, s: usize) -> [[f64; 2]; 2] {
        self.segments[s].map(|v| self.vertices[v as usize])
    }

    /// Midpoint of every segment, `(a + b) / 2` (exact for an axis-aligned segment's shared coordinate): the
    /// sample points of the distance metrics.
    pub fn midpoints(&self) -> Vec<[f64; 2]> {
        (0..self.segments.len())
            .map(|s| {
                let [a, b] = self.ends(s);
                [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]
            })
            .collect()
    }

    /// Length of every segment: the weights of the distance metrics.
    pub fn lengths(&self) -> Vec<f64> {
        (0..self.segments.len())
            .map(|s| {
                let [a, b] = self.ends(s);
                (b[0] - a[0]).hypot(b[1] - a[1])
            })
            .collect()
    }
}

/// A lattice edge between two neighbouring pixel centres: (axis, low pixel i, low pixel j).
type Edge = (u8, isize, isize);

/// Checks that a mask is one slice (`nz = 1`) and returns its `[nx, ny]`.
pub(crate) fn plane_dims(mask: &Mask) -> Result<[usize; 2], Error> {
    let [nx, ny, nz] = mask.dims();
    if nz != 1 {
        return Err(Error::NotPlanar { dims: mask.dims() });
    }
    Ok([nx, ny])
}

/// The pixel-edge contour of a 2D mask: every edge between a foreground pixel and a background one (pixels outside
/// the box are background), one segment per pixel edge, vertices at pixel corners (`index ± ½`), placed by
/// `frame`. The boundary of the union of pixel squares: the 2D counterpart of [`crate::voxel_faces`], and
/// MeshMetrics' 2D contour (VTK's `vtkSurfaceNets2D` with smoothing off, on the mask padded by one background
/// pixel), with the same segments in the same order.
///
/// # Errors
/// [`Error::NotPlanar`] when the mask has more than one slice.
///
/// ```
/// use segauge_mesh::{pixel_edges, Mask, PlaneFrame};
/// // One pixel of 0.5 × 2 mm: four edges, perimeter 5 mm.
/// let c = pixel_edges(&Mask::from_fn([1, 1, 1], |_, _, _| true), &PlaneFrame::scaled([0.5, 2.0]))?;
/// assert_eq!(c.segments.len(), 4);
/// assert_eq!(c.lengths().iter().sum::<f64>(), 5.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn pixel_edges(mask: &Mask, frame: &PlaneFrame) -> Result<Contour, Error> {
    let [nx, ny] = plane_dims(mask)?;
    // Pad by one background pixel so that SurfaceNets (which does not pad) closes the contour.
    let padded = Mask::from_fn([nx + 2, ny + 2, 1], |i, j, _| mask.get(i as isize - 1, j as isize - 1, 0));
    let shifted = PlaneFrame {
        origin: [frame.origin[0] - frame.spacing[0], frame.origin[1] - frame.spacing[1]],
        ..*frame
    };
    Ok(nets(&padded, &shifted, ContourSmoothing::Off))
}

/// The marching-squares contour of a 2D mask at iso ½ between pixel centres (pixels outside the box are
/// background): in every square of four pixel centres, the midpoints of the square's edges that join a
/// foreground and a background pixel are joined by segments. When only two diagonal pixels are foreground, each is
/// cut off on its own (diagonal foreground pixels are separate, as in [`crate::marching_cubes`]). Vertices are
/// shared between squares.
///
/// # Errors
/// [`Error::NotPlanar`] when the mask has more than one slice.
///
/// ```
/// use segauge_mesh::{marching_squares, Mask, PlaneFrame};
/// // One pixel: a diamond through the four edge midpoints around its centre, side √2/2.
/// let c = marching_squares(&Mask::from_fn([1, 1, 1], |_, _, _| true), &PlaneFrame::scaled([1.0, 1.0]))?;
/// assert_eq!(c.segments.len(), 4);
/// assert!((c.lengths().iter().sum::<f64>() - 2.0 * 2f64.sqrt()).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn marching_squares(mask: &Mask, frame: &PlaneFrame) -> Result<Contour, Error> {
    let [nx, ny] = plane_dims(mask)?;
    let fg = |i: isize, j: isize| mask.get(i, j, 0);
    let mut contour = Contour::default();
    // Vertex ids by crossed lattice edge: (axis, low pixel i, low pixel j).
    let mut ids: HashMap<Edge, u32> = HashMap::new();
    let mut vertex = |axis: u8, i: isize, j: isize, contour: &mut Contour| -> u32 {
        *ids.entry((axis, i, j)).or_insert_with(|| {
            let at = if axis == 0 { [i as f64 + 0.5, j as f64] } else { [i as f64, j as f64 + 0.5] };
            contour.vertices.push(frame.point(at));
            (contour.vertices.len() - 1) as u32
        })
    };
    // Square (i, j) has pixel centres (i, j), (i+1, j), (i, j+1), (i+1, j+1) as corners; squares reach half a
    // pixel beyond the box on every side (from −1 to n − 1).
    for j in -1..ny as isize {
        for i in -1..nx as isize {
            let (a, b, c, d) = (fg(i, j), fg(i + 1, j), fg(i, j + 1), fg(i + 1, j + 1));
            let case = a as u8 | (b as u8) << 1 | (c as u8) << 2 | (d as u8) << 3;
            if case == 0 || case == 15 {
                continue;
            }
            // The square's edges: bottom (a–b), top (c–d), left (a–c), right (b–d).
            let (bottom, top, left, right) = ((0u8, i, j), (0u8, i, j + 1), (1u8, i, j), (1u8, i + 1, j));
            let pairs: &[(Edge, Edge)] = match case {
                // One corner in (or out): cut it off.
                1 | 14 => &[(bottom, left)],
                2 | 13 => &[(bottom, right)],
                4 | 11 => &[(left, top)],
                8 | 7 => &[(right, top)],
                // A side in: a straight cut.
                3 | 12 => &[(left, right)],
                5 | 10 => &[(bottom, top)],
                // Diagonal foreground pixels: each foreground corner cut off on its own.
                9 => &[(bottom, left), (right, top)],
                _ => &[(bottom, right), (left, top)], // 6
            };
            for &(p, q) in pairs {
                let u = vertex(p.0, p.1, p.2, &mut contour);
                let v = vertex(q.0, q.1, q.2, &mut contour);
                contour.segments.push([u, v]);
            }
        }
    }
    Ok(contour)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every vertex of a closed contour ends an even number of segments.
    fn assert_closed(c: &Contour) {
        let mut degree = vec![0u32; c.vertices.len()];
        for s in &c.segments {
            degree[s[0] as usize] += 1;
            degree[s[1] as usize] += 1;
        }
        assert!(degree.iter().all(|&d| d % 2 == 0 && d > 0), "{degree:?}");
    }

    /// Shoelace area of the pixel-edge contour, from segments oriented by the foreground side.
    fn ring_area(mask: &Mask, c: &Contour, s: [f64; 2]) -> f64 {
        // Orient each axis-aligned edge with the foreground on its left and sum x·dy − y·dx.
        let mut twice = 0.0;
        for seg in 0..c.segments.len() {
            let [a, b] = c.ends(seg);
            let m = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
            let d = [b[0] - a[0], b[1] - a[1]];
            // The pixel on the left of a → b.
            let left =
                [m[0] - d[1] / d[0].hypot(d[1]) * 0.25 * s[0], m[1] + d[0] / d[0].hypot(d[1]) * 0.25 * s[1]];
            let idx = [(left[0] / s[0]).round() as isize, (left[1] / s[1]).round() as isize];
            let sign = if mask.get(idx[0], idx[1], 0) { 1.0 } else { -1.0 };
            twice += sign * (a[0] * b[1] - a[1] * b[0]);
        }
        twice / 2.0
    }

    #[test]
    fn pixel_edges_bound_the_pixel_squares() {
        let mask =
            Mask::from_fn([6, 5, 1], |i, j, _| (1..5).contains(&i) && (1..4).contains(&j) && i + j != 6);
        let s = [0.5, 2.0];
        let c = pixel_edges(&mask, &PlaneFrame::scaled(s)).unwrap();
        assert_closed(&c);
        assert!((ring_area(&mask, &c, s) - mask.count() as f64 * s[0] * s[1]).abs() < 1e-12);
        // Each segment is one pixel edge.
        for l in c.lengths() {
            assert!(l == s[0] || l == s[1]);
        }
        // Border pixels are closed by edges half a pixel outside the box.
        let full =
            pixel_edges(&Mask::from_fn([2, 3, 1], |_, _, _| true), &PlaneFrame::scaled([1.0; 2])).unwrap();
        assert_eq!(full.segments.len(), 10);
        assert_closed(&full);
    }

    #[test]
    fn marching_squares_separates_diagonal_pixels_and_is_closed() {
        let diag = Mask::from_fn([2, 2, 1], |i, j, _| i == j);
        let c = marching_squares(&diag, &PlaneFrame::scaled([1.0; 2])).unwrap();
        assert_closed(&c);
        assert_eq!(c.segments.len(), 8); // two separate diamonds
        let blob = Mask::from_fn([7, 6, 1], |i, j, _| (i * 7 + j * 3) % 5 != 0);
        assert_closed(&marching_squares(&blob, &PlaneFrame::scaled([0.3, 0.9])).unwrap());
    }

    #[test]
    fn slabs_are_refused() {
        let slab = Mask::from_fn([2, 2, 2], |_, _, _| true);
        assert_eq!(
            pixel_edges(&slab, &PlaneFrame::scaled([1.0; 2])),
            Err(Error::NotPlanar { dims: [2, 2, 2] })
        );
        assert!(marching_squares(&slab, &PlaneFrame::scaled([1.0; 2])).is_err());
    }
}
