//! A stack of image slices in DICOM patient coordinates (LPS), its conversion to segauge's RAS [`Grid`], and the
//! matching of positions to slices.

use std::path::{Path, PathBuf};

use super::{ORIENTATION_TOL, invalid, position_tolerance};
use crate::Error;
use crate::volume::Grid;

/// The geometry of a stack of parallel slices: pixel grid, orientation and one position per slice (LPS, mm).
///
/// Voxel `(i, j, k)` is column `i`, row `j` of slice `k`, at
/// `positions[k] + i · pixel_spacing[1] · row_cosine + j · pixel_spacing[0] · column_cosine` (LPS). Slices are
/// sorted by increasing projection of their position on `normal`; their spacing need not be regular (a reference
/// series may skip slices), which only [`SliceGeometry::grid`] refuses.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceGeometry {
    /// The file or folder the geometry was read from (named in error messages).
    pub source: PathBuf,
    /// Rows per slice (pixels along `column_cosine`).
    pub rows: usize,
    /// Columns per slice (pixels along `row_cosine`).
    pub columns: usize,
    /// Direction of increasing column index, LPS: `ImageOrientationPatient[0..3]`, normalised.
    pub row_cosine: [f64; 3],
    /// Direction of increasing row index, LPS: `ImageOrientationPatient[3..6]`, normalised.
    pub column_cosine: [f64; 3],
    /// DICOM `PixelSpacing`: `[distance between rows, distance between columns]` in mm (note the order).
    pub pixel_spacing: [f64; 2],
    /// `row_cosine × column_cosine`, normalised: the direction along which slices are sorted.
    pub normal: [f64; 3],
    /// Position (LPS, mm) of the centre of the first pixel of each slice, by increasing `dot(position, normal)`.
    pub positions: Vec<[f64; 3]>,
    /// `SpacingBetweenSlices`, else `SliceThickness`, when given: the slice spacing of a single-slice stack.
    pub nominal_slice_spacing: Option<f64>,
    /// `FrameOfReferenceUID`, when known.
    pub frame_of_reference: Option<String>,
}

impl SliceGeometry {
    /// Number of slices.
    pub fn slice_count(&self) -> usize {
        self.positions.len()
    }

    /// Number of voxels, `columns · rows · slices`.
    pub fn voxel_count(&self) -> usize {
        self.columns * self.rows * self.positions.len()
    }

    /// The distance (mm) of a point along the normal: `dot(point, normal)`.
    pub fn projection(&self, point_lps: [f64; 3]) -> f64 {
        dot(point_lps, self.normal)
    }

    /// The tolerance (mm) for matching a position to a slice along the normal:
    /// [`position_tolerance`] of the smallest step between consecutive slices (0.01 mm for a single slice).
    pub fn slice_tolerance(&self) -> f64 {
        let min_step = self
            .positions
            .windows(2)
            .map(|w| self.projection(w[1]) - self.projection(w[0]))
            .fold(f64::INFINITY, f64::min);
        position_tolerance(if min_step.is_finite() { min_step } else { 0.0 })
    }

    /// The slice whose plane contains `point_lps`: its projection on the normal is within
    /// [`SliceGeometry::slice_tolerance`] of the slice's. The in-plane position is not checked (use this for
    /// points anywhere on a slice, such as contour vertices).
    ///
    /// ```
    /// use segauge_io::dicom::SliceGeometry;
    /// let g = SliceGeometry {
    ///     source: "ct".into(),
    ///     rows: 2,
    ///     columns: 2,
    ///     row_cosine: [1.0, 0.0, 0.0],
    ///     column_cosine: [0.0, 1.0, 0.0],
    ///     pixel_spacing: [0.5, 0.5],
    ///     normal: [0.0, 0.0, 1.0],
    ///     positions: vec![[0.0, 0.0, -2.5], [0.0, 0.0, 0.0], [0.0, 0.0, 5.0]],
    ///     nominal_slice_spacing: None,
    ///     frame_of_reference: None,
    /// };
    /// assert_eq!(g.slice_containing([12.0, -3.0, 0.004]), Some(1));
    /// assert_eq!(g.slice_containing([0.0, 0.0, 2.5]), None);
    /// assert_eq!(g.slice_of([0.0, 0.0, 5.0]), Some(2));
    /// assert_eq!(g.slice_of([0.5, 0.0, 5.0]), None); // shifted by one pixel in the plane
    /// ```
    pub fn slice_containing(&self, point_lps: [f64; 3]) -> Option<usize> {
        let d = self.projection(point_lps);
        let tol = self.slice_tolerance();
        // Positions are sorted along the normal: the nearest slice is next to the partition point.
        let idx = self.positions.partition_point(|p| self.projection(*p) < d);
        [idx.checked_sub(1), Some(idx)]
            .into_iter()
            .flatten()
            .filter(|&k| k < self.positions.len())
            .map(|k| (k, (self.projection(self.positions[k]) - d).abs()))
            .filter(|&(_, dist)| dist <= tol)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(k, _)| k)
    }

    /// The slice whose first-pixel position is `position_lps` (a frame's `ImagePositionPatient`): the slice
    /// containing it (see [`SliceGeometry::slice_containing`]) whose own position it matches in the plane too,
    /// within [`position_tolerance`] of the pixel spacing along the rows and along the columns.
    pub fn slice_of(&self, position_lps: [f64; 3]) -> Option<usize> {
        let k = self.slice_containing(position_lps)?;
        let offset = sub(position_lps, self.positions[k]);
        let along_row = dot(offset, self.row_cosine).abs();
        let along_column = dot(offset, self.column_cosine).abs();
        (along_row <= position_tolerance(self.pixel_spacing[1])
            && along_column <= position_tolerance(self.pixel_spacing[0]))
        .then_some(k)
    }

    /// The geometry as a segauge [`Grid`] in RAS world coordinates, as the NIfTI reader produces them.
    ///
    /// Voxel index `(i, j, k)` = (column, row, slice); spacing = (column spacing, row spacing, slice step);
    /// origin = the first slice's position; the direction columns are the row cosine, the column cosine and the
    /// unit vector from one slice to the next, all with x and y negated (LPS → RAS). The slice step is
    /// `|positions[n-1] - positions[0]| / (n - 1)`; it follows the positions, so a gantry-tilted stack keeps its
    /// shear. A single slice takes [`SliceGeometry::nominal_slice_spacing`] (1 mm when absent) along the normal.
    ///
    /// # Errors
    /// [`Error::InvalidFileGrid`] naming [`SliceGeometry::source`] when the stack is empty, or when its slices are
    /// not evenly spaced: a slice lies farther than [`position_tolerance`] of the step from the regular lattice
    /// through the first and last slices (segauge's [`Grid`] is regular; read the masks on their slices instead).
    pub fn grid(&self) -> Result<Grid, Error> {
        let bad = |reason: String| Error::InvalidFileGrid { path: self.source.clone(), reason };
        let n = self.positions.len();
        let (Some(&first), Some(&last)) = (self.positions.first(), self.positions.last()) else {
            return Err(bad("no slices".into()));
        };
        let (slice_dir, step) = if n == 1 {
            let step = self.nominal_slice_spacing.filter(|s| s.is_finite() && *s > 0.0).unwrap_or(1.0);
            (self.normal, step)
        } else {
            let v = scale(sub(last, first), 1.0 / (n - 1) as f64);
            let step = norm(v);
            if !(step.is_finite() && step > 0.0) {
                return Err(bad("the first and last slices are at the same position".into()));
            }
            let tol = position_tolerance(step);
            for (k, &p) in self.positions.iter().enumerate() {
                let deviation = norm(sub(p, add(first, scale(v, k as f64))));
                if deviation > tol {
                    let steps: Vec<f64> = self
                        .positions
                        .windows(2)
                        .map(|w| self.projection(w[1]) - self.projection(w[0]))
                        .collect();
                    let (lo, hi) = steps
                        .iter()
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &s| (lo.min(s), hi.max(s)));
                    return Err(bad(format!(
                        "slices are not evenly spaced (steps along the normal from {lo} to {hi} mm; slice {k} lies \
                         {deviation:.4} mm off the regular lattice, tolerance {tol} mm), and a segauge grid is regular"
                    )));
                }
            }
            (scale(v, 1.0 / step), step)
        };
        let ras = |v: [f64; 3]| [-v[0], -v[1], v[2]];
        let axes = [ras(self.row_cosine), ras(self.column_cosine), ras(slice_dir)];
        let direction: [[f64; 3]; 3] = std::array::from_fn(|r| std::array::from_fn(|a| axes[a][r]));
        Grid::new([self.columns, self.rows, n], [self.pixel_spacing[1], self.pixel_spacing[0], step])
            .and_then(|g| g.with_origin(ras(first)))
            .and_then(|g| g.with_direction(direction))
            .map_err(|e| e.in_file(&self.source))
    }
}

/// Validated orientation: unit row and column cosines (normalised), orthogonal to 1e-3, and their normal.
pub(crate) fn orientation(path: &Path, iop: [f64; 6], where_: &str) -> Result<[[f64; 3]; 3], Error> {
    let bad = |why: &str| invalid(path, format!("ImageOrientationPatient (0020,0037){where_} {iop:?} {why}"));
    let r = [iop[0], iop[1], iop[2]];
    let c = [iop[3], iop[4], iop[5]];
    let (nr, nc) = (norm(r), norm(c));
    if (nr - 1.0).abs() > 1e-2 || (nc - 1.0).abs() > 1e-2 {
        return Err(bad("does not hold two unit vectors"));
    }
    let (r, c) = (scale(r, 1.0 / nr), scale(c, 1.0 / nc));
    if dot(r, c).abs() > 1e-3 {
        return Err(bad("holds two vectors that are not orthogonal"));
    }
    let n = cross(r, c);
    Ok([r, c, scale(n, 1.0 / norm(n))])
}

/// True when two orientations (row and column cosines) agree to [`ORIENTATION_TOL`] per component.
pub(crate) fn same_orientation(a: [[f64; 3]; 2], b: [[f64; 3]; 2]) -> bool {
    (0..2).all(|v| (0..3).all(|r| (a[v][r] - b[v][r]).abs() <= ORIENTATION_TOL))
}

pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub(crate) fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub(crate) fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

pub(crate) fn scale(a: [f64; 3], s: f64) -> [f64; 3] {
    [a[0] * s, a[1] * s, a[2] * s]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axial(zs: &[f64]) -> SliceGeometry {
        SliceGeometry {
            source: "test".into(),
            rows: 3,
            columns: 4,
            row_cosine: [1.0, 0.0, 0.0],
            column_cosine: [0.0, 1.0, 0.0],
            pixel_spacing: [0.5, 0.8],
            normal: [0.0, 0.0, 1.0],
            positions: zs.iter().map(|&z| [10.0, 20.0, z]).collect(),
            nominal_slice_spacing: Some(3.0),
            frame_of_reference: None,
        }
    }

    #[test]
    fn grid_is_ras_with_column_row_slice_axes() {
        let g = axial(&[-5.0, -2.5, 0.0]).grid().unwrap();
        assert_eq!(g.dims(), [4, 3, 3]);
        assert_eq!(g.spacing(), [0.8, 0.5, 2.5]);
        assert_eq!(g.origin(), [-10.0, -20.0, -5.0]);
        assert_eq!(g.direction(), [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]]);
        // Voxel (1, 2, 1): LPS (10 + 0.8, 20 + 2·0.5, -2.5) = RAS (-10.8, -21, -2.5).
        let w = g.world([1.0, 2.0, 1.0]);
        assert!((w[0] + 10.8).abs() < 1e-12 && (w[1] + 21.0).abs() < 1e-12 && (w[2] + 2.5).abs() < 1e-12);
    }

    #[test]
    fn irregular_slices_have_no_grid_but_match_positions() {
        let g = axial(&[-99.48, 103.02, 104.27, 105.52]);
        let err = g.grid().unwrap_err().to_string();
        assert!(err.starts_with("test: invalid grid: slices are not evenly spaced"), "{err}");
        assert_eq!(g.slice_of([10.0, 20.0, 104.275]), Some(2));
        assert_eq!(g.slice_of([10.0, 20.0, 104.3]), None);
        assert_eq!(g.slice_containing([0.0, 0.0, -99.48]), Some(0));
    }

    #[test]
    fn single_slice_uses_nominal_spacing() {
        let g = axial(&[7.0]).grid().unwrap();
        assert_eq!(g.spacing()[2], 3.0);
        let mut one = axial(&[7.0]);
        one.nominal_slice_spacing = None;
        assert_eq!(one.grid().unwrap().spacing()[2], 1.0);
        assert!(axial(&[]).grid().is_err());
    }

    #[test]
    fn orientation_is_validated() {
        let p = Path::new("x");
        assert!(orientation(p, [1.0, 0.0, 0.0, 0.0, 1.0, 0.0], "").is_ok());
        assert!(orientation(p, [1.0, 0.0, -1.2e-16, 0.0, 1.0, 0.0], "").is_ok());
        assert!(orientation(p, [1.0, 0.0, 0.0, 1.0, 0.0, 0.0], "").is_err());
        assert!(orientation(p, [0.0; 6], "").is_err());
    }
}
