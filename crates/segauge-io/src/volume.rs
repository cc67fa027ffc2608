//! The label volume: integer labels on a voxel grid with its spacing, origin and direction.

use crate::Error;

/// The voxel grid of a volume: shape, spacing (mm), origin (mm) and direction cosines.
///
/// A voxel with continuous index `c = (i, j, k)` (i varies fastest) sits at the world point
/// `x(c) = origin + D · (spacing ⊙ c)`, where column `a` of `D` is the unit direction of axis `a`.
/// World coordinates follow the NIfTI convention (RAS+: x to the right, y anterior, z superior).
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    dims: [usize; 3],
    spacing: [f64; 3],
    origin: [f64; 3],
    direction: [[f64; 3]; 3],
}

impl Grid {
    /// A grid with the given shape and spacing (mm), origin 0 and identity direction.
    ///
    /// # Errors
    /// [`Error::InvalidGrid`] when a dimension is zero or a spacing is not finite and positive.
    ///
    /// ```
    /// let g = segauge_io::Grid::new([4, 5, 6], [0.5, 0.5, 2.0])?;
    /// assert_eq!(g.voxel_count(), 120);
    /// assert_eq!(g.voxel_volume_mm3(), 0.5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(dims: [usize; 3], spacing: [f64; 3]) -> Result<Self, Error> {
        if dims.contains(&0) {
            return Err(Error::InvalidGrid { reason: format!("dimension of zero in {dims:?}") });
        }
        if dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).is_none() {
            return Err(Error::InvalidGrid { reason: format!("shape {dims:?} has too many voxels") });
        }
        if let Some(s) = spacing.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::InvalidGrid {
                reason: format!("spacing {s} is not a positive finite number"),
            });
        }
        Ok(Grid { dims, spacing, origin: [0.0; 3], direction: IDENTITY })
    }

    /// The same grid with another origin (world position of voxel (0, 0, 0), mm).
    ///
    /// # Errors
    /// [`Error::InvalidGrid`] when a coordinate is not finite.
    pub fn with_origin(mut self, origin: [f64; 3]) -> Result<Self, Error> {
        if origin.iter().any(|o| !o.is_finite()) {
            return Err(Error::InvalidGrid { reason: format!("origin {origin:?} is not finite") });
        }
        self.origin = origin;
        Ok(self)
    }

    /// The same grid with other direction cosines; `direction[r][a]` is component `r` of axis `a`.
    ///
    /// Each column must be a unit vector (to 1e-3) and the matrix non-singular. Columns need not be exactly
    /// orthogonal (a sheared NIfTI sform is kept as written); [`Grid::is_orthonormal`] tells.
    ///
    /// # Errors
    /// [`Error::InvalidGrid`] when an entry is not finite, a column is not a unit vector or the matrix is singular.
    pub fn with_direction(mut self, direction: [[f64; 3]; 3]) -> Result<Self, Error> {
        if direction.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::InvalidGrid { reason: format!("direction {direction:?} is not finite") });
        }
        for a in 0..3 {
            let norm = (0..3).map(|r| direction[r][a].powi(2)).sum::<f64>().sqrt();
            if (norm - 1.0).abs() > 1e-3 {
                return Err(Error::InvalidGrid {
                    reason: format!("direction column {a} has length {norm}, not 1"),
                });
            }
        }
        if det3(&direction).abs() < 1e-6 {
            return Err(Error::InvalidGrid { reason: format!("direction {direction:?} is singular") });
        }
        self.direction = direction;
        Ok(self)
    }

    /// Shape `[nx, ny, nz]`; a 2D image has `nz == 1`.
    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }

    /// Voxel spacing along the three axes, in mm.
    pub fn spacing(&self) -> [f64; 3] {
        self.spacing
    }

    /// World position (mm) of the centre of voxel (0, 0, 0).
    pub fn origin(&self) -> [f64; 3] {
        self.origin
    }

    /// Direction cosines: `direction()[r][a]` is world component `r` of index axis `a`.
    pub fn direction(&self) -> [[f64; 3]; 3] {
        self.direction
    }

    /// Number of voxels, `nx · ny · nz`.
    pub fn voxel_count(&self) -> usize {
        self.dims.iter().product()
    }

    /// Volume of one voxel in mm³: `|det(D · diag(spacing))|` (the product of the spacings when D is orthonormal).
    pub fn voxel_volume_mm3(&self) -> f64 {
        let mut m = self.direction;
        for row in &mut m {
            for (a, v) in row.iter_mut().enumerate() {
                *v *= self.spacing[a];
            }
        }
        det3(&m).abs()
    }

    /// True when the direction columns are orthonormal to 1e-4 (every grid read from a well-formed file).
    pub fn is_orthonormal(&self) -> bool {
        (0..3).all(|a| {
            (0..3).all(|b| {
                let dot: f64 = (0..3).map(|r| self.direction[r][a] * self.direction[r][b]).sum();
                let want = if a == b { 1.0 } else { 0.0 };
                (dot - want).abs() <= 1e-4
            })
        })
    }

    /// World position (mm) of a continuous voxel index.
    ///
    /// ```
    /// let g = segauge_io::Grid::new([2, 2, 2], [1.0, 2.0, 3.0])?.with_origin([10.0, 0.0, 0.0])?;
    /// assert_eq!(g.world([1.0, 1.0, 1.0]), [11.0, 2.0, 3.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn world(&self, index: [f64; 3]) -> [f64; 3] {
        let mut out = self.origin;
        for (r, o) in out.iter_mut().enumerate() {
            for a in 0..3 {
                *o += self.direction[r][a] * self.spacing[a] * index[a];
            }
        }
        out
    }

    /// Length of the image diagonal in mm, `|spacing ⊙ dims|`: the largest distance two points of the field of
    /// view can have (used as the cap for infinite distances).
    pub fn diagonal_mm(&self) -> f64 {
        (0..3).map(|a| (self.spacing[a] * self.dims[a] as f64).powi(2)).sum::<f64>().sqrt()
    }

    /// Checks that `other` is the same grid within `tol`; see [`GridTolerance`] for what is compared.
    ///
    /// # Errors
    /// The first difference found, in the order shape, spacing, origin, direction.
    #[allow(clippy::result_large_err, reason = "a mismatch is rare and carries both grids for the message")]
    pub fn check_same(&self, other: &Grid, tol: &GridTolerance) -> Result<(), GridMismatch> {
        if self.dims != other.dims {
            return Err(GridMismatch::Shape { a: self.dims, b: other.dims });
        }
        for ax in 0..3 {
            let (a, b) = (self.spacing[ax], other.spacing[ax]);
            if (a - b).abs() > tol.spacing_rel * a.abs().max(b.abs()) {
                return Err(GridMismatch::Spacing { a: self.spacing, b: other.spacing });
            }
        }
        let min_spacing = self.spacing.iter().chain(&other.spacing).copied().fold(f64::INFINITY, f64::min);
        let origin_tol = tol.origin_voxels * min_spacing;
        let max_delta = (0..3).map(|r| (self.origin[r] - other.origin[r]).abs()).fold(0.0, f64::max);
        if max_delta > origin_tol {
            return Err(GridMismatch::Origin { a: self.origin, b: other.origin, delta_mm: max_delta });
        }
        let max_dir = (0..3)
            .flat_map(|r| (0..3).map(move |c| (r, c)))
            .map(|(r, c)| (self.direction[r][c] - other.direction[r][c]).abs())
            .fold(0.0, f64::max);
        if max_dir > tol.direction_abs {
            return Err(GridMismatch::Direction { a: self.direction, b: other.direction, delta: max_dir });
        }
        Ok(())
    }
}

const IDENTITY: [[f64; 3]; 3] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

fn det3(m: &[[f64; 3]; 3]) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

/// Tolerances for deciding that two grids are the same.
///
/// Headers written by different tools round the same geometry differently (float32 fields, sform versus qform),
/// so exact equality would reject grids that are the same to every practical purpose. The defaults accept what
/// float32 rounding produces and reject anything a reader could see:
/// - spacing: relative difference at most `spacing_rel` (default 1e-5, about 80 float32 ulps);
/// - origin: every coordinate within `origin_voxels` × the smallest spacing (default 1e-3 voxel);
/// - direction: every entry within `direction_abs` (default 1e-4, i.e. about 0.006°).
///
/// Shapes must be equal.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GridTolerance {
    /// Largest relative spacing difference per axis.
    pub spacing_rel: f64,
    /// Largest origin difference per coordinate, as a fraction of the smallest spacing.
    pub origin_voxels: f64,
    /// Largest absolute difference of a direction-cosine entry.
    pub direction_abs: f64,
}

impl Default for GridTolerance {
    fn default() -> Self {
        GridTolerance { spacing_rel: 1e-5, origin_voxels: 1e-3, direction_abs: 1e-4 }
    }
}

/// How two grids differ (the first difference found).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GridMismatch {
    /// Different shapes.
    #[error("shape mismatch: {a:?} vs {b:?}")]
    Shape {
        /// Shape of the first grid.
        a: [usize; 3],
        /// Shape of the second grid.
        b: [usize; 3],
    },
    /// Different spacing.
    #[error("spacing mismatch: {a:?} mm vs {b:?} mm")]
    Spacing {
        /// Spacing of the first grid.
        a: [f64; 3],
        /// Spacing of the second grid.
        b: [f64; 3],
    },
    /// Different origin.
    #[error("origin mismatch: {a:?} mm vs {b:?} mm (differ by {delta_mm} mm)")]
    Origin {
        /// Origin of the first grid.
        a: [f64; 3],
        /// Origin of the second grid.
        b: [f64; 3],
        /// Largest coordinate difference.
        delta_mm: f64,
    },
    /// Different direction cosines.
    #[error("direction mismatch: {a:?} vs {b:?} (largest entry difference {delta})")]
    Direction {
        /// Direction of the first grid.
        a: [[f64; 3]; 3],
        /// Direction of the second grid.
        b: [[f64; 3]; 3],
        /// Largest entry difference.
        delta: f64,
    },
}

/// Label values of a volume, stored in the narrowest unsigned type that holds the largest label.
///
/// Voxels are in linear order `i + nx·(j + ny·k)` (i fastest, as in NIfTI). Label 0 is background.
#[derive(Debug, Clone, PartialEq)]
pub enum Labels {
    /// Largest label ≤ 255.
    U8(Vec<u8>),
    /// Largest label ≤ 65 535.
    U16(Vec<u16>),
    /// Any larger label.
    U32(Vec<u32>),
}

impl Labels {
    /// Number of voxels.
    pub fn len(&self) -> usize {
        match self {
            Labels::U8(v) => v.len(),
            Labels::U16(v) => v.len(),
            Labels::U32(v) => v.len(),
        }
    }

    /// True when there are no voxels.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The label of the voxel at linear index `idx`, if in range.
    pub fn get(&self, idx: usize) -> Option<u32> {
        match self {
            Labels::U8(v) => v.get(idx).map(|&x| u32::from(x)),
            Labels::U16(v) => v.get(idx).map(|&x| u32::from(x)),
            Labels::U32(v) => v.get(idx).copied(),
        }
    }

    /// Stores `values` in the narrowest type that holds their maximum.
    pub fn from_u32(values: Vec<u32>) -> Labels {
        let max = values.iter().copied().max().unwrap_or(0);
        if max <= u32::from(u8::MAX) {
            Labels::U8(values.into_iter().map(|v| v as u8).collect())
        } else if max <= u32::from(u16::MAX) {
            Labels::U16(values.into_iter().map(|v| v as u16).collect())
        } else {
            Labels::U32(values)
        }
    }

    /// The largest label in rows `candidates` (ascending, of `nx` voxels each; every other row is background)
    /// and those of them that hold a non-zero label, out of `len` rows.
    fn scan_rows(&self, nx: usize, len: usize, candidates: impl Iterator<Item = usize>) -> (u32, Rows) {
        fn go<T: Copy + Into<u32> + Ord + Default>(
            v: &[T],
            nx: usize,
            len: usize,
            candidates: impl Iterator<Item = usize>,
        ) -> (u32, Rows) {
            let mut held = Rows::empty(len);
            let mut max = T::default();
            for r in candidates {
                let m = v[r * nx..(r + 1) * nx].iter().copied().fold(T::default(), Ord::max);
                if m > T::default() {
                    held.insert(r);
                    max = max.max(m);
                }
            }
            (max.into(), held)
        }
        match self {
            Labels::U8(v) => go(v, nx, len, candidates),
            Labels::U16(v) => go(v, nx, len, candidates),
            Labels::U32(v) => go(v, nx, len, candidates),
        }
    }
}

/// The rows of a volume that hold a non-zero label. A row is the `nx` voxels of one `(j, k)`, numbered
/// `j + ny·k`; its voxels are `nx·row .. nx·(row + 1)`.
///
/// Whole-volume passes (overlap counts, label boxes, crops) visit only these rows. The NIfTI, NRRD and MetaImage
/// readers fill a label map's voxel data into zeroed memory and write only the rows that hold labels, so the memory of the others is never
/// touched: the kernel never maps it. On a large image holding small structures that saves most of the time
/// spent reading (the kernel giving a fresh page to every 4 KiB of both volumes) and most of the peak memory.
///
/// ```
/// use segauge_io::{Grid, LabelVolume, Labels};
/// let grid = Grid::new([2, 3, 1], [1.0; 3])?;
/// let v = LabelVolume::new(grid, Labels::U8(vec![0, 0, 0, 4, 0, 0]))?;
/// assert_eq!(v.rows().iter().collect::<Vec<_>>(), [1]); // only the second row holds a label
/// assert!(!v.rows().holds(0) && v.rows().holds(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    /// One bit per row, row `r` at bit `r % 64` of word `r / 64`.
    bits: Vec<u64>,
    len: usize,
}

impl Rows {
    /// `len` rows, none holding a label.
    pub(crate) fn empty(len: usize) -> Rows {
        Rows { bits: vec![0; len.div_ceil(64)], len }
    }

    /// Marks row `r` as holding a label.
    pub(crate) fn insert(&mut self, r: usize) {
        self.bits[r / 64] |= 1 << (r % 64);
    }

    /// Whether row `r` holds a non-zero label (false past the last row).
    pub fn holds(&self, r: usize) -> bool {
        r < self.len && self.bits[r / 64] >> (r % 64) & 1 == 1
    }

    /// The number of rows of the volume (`ny·nz`).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a volume without rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The rows holding a label, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + Clone + '_ {
        self.bits.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let b = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    64 * w + b
                })
            })
        })
    }
}

/// A segmentation: integer labels on a [`Grid`].
#[derive(Debug, Clone, PartialEq)]
pub struct LabelVolume {
    grid: Grid,
    labels: Labels,
    max_label: u32,
    rows: Rows,
}

impl LabelVolume {
    /// Wraps labels on a grid.
    ///
    /// # Errors
    /// [`Error::InvalidGrid`] when the number of labels differs from the grid's voxel count.
    ///
    /// ```
    /// use segauge_io::{Grid, LabelVolume, Labels};
    /// let grid = Grid::new([2, 2, 1], [1.0, 1.0, 1.0])?;
    /// let vol = LabelVolume::new(grid, Labels::U8(vec![0, 1, 1, 3]))?;
    /// assert_eq!(vol.max_label(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(grid: Grid, labels: Labels) -> Result<Self, Error> {
        if labels.len() != grid.voxel_count() {
            return Err(Error::InvalidGrid {
                reason: format!(
                    "{} label values for a grid of shape {:?} ({} voxels)",
                    labels.len(),
                    grid.dims(),
                    grid.voxel_count()
                ),
            });
        }
        // Grid dimensions are positive, so rows of `nx` voxels tile the labels.
        let nx = grid.dims()[0];
        let len = labels.len() / nx;
        let (max_label, rows) = labels.scan_rows(nx, len, 0..len);
        Ok(LabelVolume { grid, labels, max_label, rows })
    }

    /// [`LabelVolume::new`] for labels that a reader wrote only in `rows` (every other row is 0, and untouched
    /// memory): the largest label and the rows that hold one are found in those rows alone.
    #[cfg(any(feature = "nifti", feature = "metaimage", feature = "nrrd"))]
    pub(crate) fn from_rows(grid: Grid, labels: Labels, rows: Rows) -> Result<Self, Error> {
        let nx = grid.dims()[0];
        let counts_match = labels.len() == grid.voxel_count() && rows.len() * nx == labels.len();
        if !counts_match {
            return LabelVolume::new(grid, labels);
        }
        // A row of non-zero bytes can still decode to background (negative values): kept only if it holds labels.
        let (max_label, rows) = labels.scan_rows(nx, rows.len(), rows.iter());
        debug_assert_eq!(
            labels.scan_rows(nx, rows.len(), 0..rows.len()).1,
            rows,
            "rows left out hold labels"
        );
        Ok(LabelVolume { grid, labels, max_label, rows })
    }

    /// The voxel grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// The label values.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// The largest label present (0 for an all-background volume).
    pub fn max_label(&self) -> u32 {
        self.max_label
    }

    /// The rows holding a non-zero label (see [`Rows`]).
    pub fn rows(&self) -> &Rows {
        &self.rows
    }

    /// Splits the volume into its grid and labels.
    pub fn into_parts(self) -> (Grid, Labels) {
        (self.grid, self.labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheared_and_rotated_voxel_volume() {
        let s = std::f64::consts::FRAC_1_SQRT_2;
        let g = Grid::new([1, 1, 1], [2.0, 3.0, 4.0])
            .unwrap()
            .with_direction([[s, -s, 0.0], [s, s, 0.0], [0.0, 0.0, 1.0]])
            .unwrap();
        assert!((g.voxel_volume_mm3() - 24.0).abs() < 1e-12);
        assert!(g.is_orthonormal());
    }

    #[test]
    fn grid_rejects_bad_values() {
        assert!(Grid::new([0, 1, 1], [1.0; 3]).is_err());
        assert!(Grid::new([1, 1, 1], [1.0, 0.0, 1.0]).is_err());
        assert!(Grid::new([1, 1, 1], [1.0, f64::NAN, 1.0]).is_err());
        let g = Grid::new([1, 1, 1], [1.0; 3]).unwrap();
        assert!(g.clone().with_direction([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]).is_err());
        assert!(g.with_direction([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]).is_err());
    }

    #[test]
    fn grid_check_reports_first_difference() {
        let tol = GridTolerance::default();
        let a = Grid::new([4, 4, 4], [1.0, 1.0, 2.0]).unwrap();
        let b = Grid::new([4, 4, 5], [1.0, 1.0, 2.0]).unwrap();
        assert!(matches!(a.check_same(&b, &tol), Err(GridMismatch::Shape { .. })));
        let c = Grid::new([4, 4, 4], [1.0, 1.0, 2.5]).unwrap();
        assert!(matches!(a.check_same(&c, &tol), Err(GridMismatch::Spacing { .. })));
        // float32 rounding of the spacing is accepted
        let d = Grid::new([4, 4, 4], [1.0, 1.0, f64::from(2.0f32 + f32::EPSILON)]).unwrap();
        assert!(a.check_same(&d, &tol).is_ok());
        let e = a.clone().with_origin([0.0, 0.0, 0.5]).unwrap();
        assert!(matches!(a.check_same(&e, &tol), Err(GridMismatch::Origin { .. })));
        let f = a.clone().with_origin([0.0, 0.0, 0.5e-3]).unwrap();
        assert!(a.check_same(&f, &tol).is_ok());
        let flip = a.clone().with_direction([[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]).unwrap();
        assert!(matches!(a.check_same(&flip, &tol), Err(GridMismatch::Direction { .. })));
    }

    #[test]
    fn labels_use_narrowest_type() {
        assert!(matches!(Labels::from_u32(vec![0, 255]), Labels::U8(_)));
        assert!(matches!(Labels::from_u32(vec![0, 256]), Labels::U16(_)));
        assert!(matches!(Labels::from_u32(vec![70_000]), Labels::U32(_)));
        let grid = Grid::new([3, 1, 1], [1.0; 3]).unwrap();
        assert!(LabelVolume::new(grid, Labels::U8(vec![1, 2])).is_err());
    }
}
