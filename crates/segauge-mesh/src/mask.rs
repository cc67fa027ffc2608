//! The inputs of every mesher: a binary [`Mask`] on a box of voxels and the [`Frame`] that places it in space.

use crate::Error;

/// A binary mask: `dims` voxels, `true` = foreground, linear order `i + nx·(j + ny·k)` (i fastest).
///
/// Voxels outside the box count as background for every mesher that pads (voxel faces, marching cubes); VTK's
/// SurfaceNets does not pad, exactly as VTK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    dims: [usize; 3],
    /// Per row along x, whether it holds foreground: found once, so that every pass over the box skips the
    /// empty rows (and equality compares these first).
    rows: Vec<bool>,
    voxels: Vec<bool>,
}

impl Mask {
    /// A mask from its voxels.
    ///
    /// # Errors
    /// [`Error::InvalidMask`] when `voxels.len()` is not `nx·ny·nz` or a dimension is zero.
    pub fn new(dims: [usize; 3], voxels: Vec<bool>) -> Result<Mask, Error> {
        check(dims, voxels.len(), None)?;
        Ok(Mask::with_rows(dims, voxels))
    }

    /// [`Mask::new`] for a caller that knows which rows hold foreground (`rows[j + ny·k]`, true exactly for
    /// the rows with a foreground voxel; checked in debug builds), so that the voxels are not scanned: a crop
    /// written only where its label is leaves the other rows' memory untouched, and scanning it would map that
    /// memory page by page.
    ///
    /// ```
    /// use segauge_mesh::Mask;
    /// let m = Mask::with_occupied_rows([2, 2, 1], vec![false, false, true, false], vec![false, true])?;
    /// assert_eq!((m.count(), m.occupied_rows()), (1, &[false, true][..]));
    /// # Ok::<(), segauge_mesh::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidMask`] as [`Mask::new`], and when `rows` does not have one entry per row.
    pub fn with_occupied_rows(dims: [usize; 3], voxels: Vec<bool>, rows: Vec<bool>) -> Result<Mask, Error> {
        check(dims, voxels.len(), Some(rows.len()))?;
        let mask = Mask { dims, rows, voxels };
        debug_assert_eq!(mask, Mask::with_rows(dims, mask.voxels.clone()), "occupied rows as stated");
        Ok(mask)
    }

    fn with_rows(dims: [usize; 3], voxels: Vec<bool>) -> Mask {
        let nx = dims[0];
        let rows =
            (0..dims[1] * dims[2]).map(|r| nx > 0 && any_foreground(&voxels[r * nx..(r + 1) * nx])).collect();
        Mask { dims, rows, voxels }
    }

    /// A mask whose voxel `(i, j, k)` is `f(i, j, k)`.
    ///
    /// ```
    /// let m = segauge_mesh::Mask::from_fn([3, 3, 3], |i, j, k| (i, j, k) == (1, 1, 1));
    /// assert_eq!(m.count(), 1);
    /// ```
    pub fn from_fn(dims: [usize; 3], f: impl Fn(usize, usize, usize) -> bool) -> Mask {
        let mut voxels = Vec::with_capacity(dims.iter().product());
        for k in 0..dims[2] {
            for j in 0..dims[1] {
                for i in 0..dims[0] {
                    voxels.push(f(i, j, k));
                }
            }
        }
        Mask::with_rows(dims, voxels)
    }

    /// Shape `[nx, ny, nz]`.
    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }

    /// The voxels, i fastest.
    pub fn voxels(&self) -> &[bool] {
        &self.voxels
    }

    /// Number of foreground voxels.
    pub fn count(&self) -> usize {
        let nx = self.dims[0];
        (0..self.rows.len())
            .filter(|&r| self.rows[r])
            .map(|r| self.voxels[r * nx..(r + 1) * nx].iter().map(|&v| usize::from(v)).sum::<usize>())
            .sum()
    }

    /// Per row of voxels along x (row `j + ny·k`), whether it holds any foreground. Passes over the box use it
    /// to skip empty rows, so that a structure spread thin over a large box (a winding vessel, scattered
    /// lesions) costs in proportion to the rows it touches.
    ///
    /// ```
    /// use segauge_mesh::Mask;
    /// let mask = Mask::from_fn([3, 2, 2], |i, j, k| (i, j, k) == (2, 1, 0));
    /// assert_eq!(mask.occupied_rows(), [false, true, false, false]);
    /// ```
    pub fn occupied_rows(&self) -> &[bool] {
        &self.rows
    }

    /// True when no voxel is foreground.
    pub fn is_empty(&self) -> bool {
        !self.rows.contains(&true)
    }

    /// The voxel at a signed index; `false` outside the box.
    #[inline]
    pub fn get(&self, i: isize, j: isize, k: isize) -> bool {
        let [nx, ny, nz] = self.dims;
        if i < 0 || j < 0 || k < 0 || i as usize >= nx || j as usize >= ny || k as usize >= nz {
            return false;
        }
        self.voxels[i as usize + nx * (j as usize + ny * k as usize)]
    }
}

/// Places mask index space in the output space: `x = origin + D · (spacing ⊙ index)`.
///
/// For metrics segauge uses the scaled index frame of the whole image (`origin = spacing ⊙ crop offset`,
/// `D = I`): all distance metrics are invariant to the origin and to an orthonormal `D`, and exact arithmetic is
/// simpler without rotations. Meshes in world coordinates use the image's own origin and direction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Voxel spacing, mm.
    pub spacing: [f64; 3],
    /// Position of voxel (0, 0, 0).
    pub origin: [f64; 3],
    /// Direction cosines, `direction[r][a]` = component r of axis a.
    pub direction: [[f64; 3]; 3],
}

impl Frame {
    /// Spacing only: origin 0, identity direction.
    pub fn scaled(spacing: [f64; 3]) -> Frame {
        Frame { spacing, origin: [0.0; 3], direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]] }
    }

    /// True when the direction is the identity (then `x = origin + spacing ⊙ index`, one rounding per axis).
    pub fn is_axis_aligned(&self) -> bool {
        self.direction == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    }

    /// The position of a continuous index.
    pub fn point(&self, index: [f64; 3]) -> [f64; 3] {
        let scaled = [index[0] * self.spacing[0], index[1] * self.spacing[1], index[2] * self.spacing[2]];
        if self.is_axis_aligned() {
            return [self.origin[0] + scaled[0], self.origin[1] + scaled[1], self.origin[2] + scaled[2]];
        }
        let d = &self.direction;
        std::array::from_fn(|r| {
            self.origin[r] + d[r][0] * scaled[0] + d[r][1] * scaled[1] + d[r][2] * scaled[2]
        })
    }
}

/// VTK's placement of SurfaceNets points, for MeshMetrics compatibility: the point of padded-image index `p` is
/// `f32(((M[r][0]·p₀ + M[r][1]·p₁) + M[r][2]·p₂) + M[r][3])`, evaluated in f64 from left to right and stored as
/// float32 (vtkImageTransform), with `M = [D·diag(spacing) | origin of the padded image]`.
///
/// MeshMetrics pads the mask by one voxel (the padded origin is `origin − D·spacing`), so padded index =
/// image index + 1. `index_offset` maps a mask-local index to the padded-image index (for a crop starting at image
/// voxel `lo`: `lo + 1`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VtkF32 {
    /// `[D·diag(spacing) | padded origin]`, rows.
    pub matrix: [[f64; 4]; 3],
    /// Added to a mask-local index to get the padded-image index.
    pub index_offset: [f64; 3],
}

impl VtkF32 {
    /// The placement MeshMetrics uses for an image with this spacing, origin and direction (numpy input: origin
    /// 0 and identity direction), for a mask cropped at image voxel `crop_lo` (may be negative).
    pub fn meshmetrics(
        spacing: [f64; 3],
        origin: [f64; 3],
        direction: [[f64; 3]; 3],
        crop_lo: [isize; 3],
    ) -> VtkF32 {
        // sitk.ConstantPad moves the origin one voxel back along each axis: o' = o - D (s ⊙ 1).
        let padded: [f64; 3] = std::array::from_fn(|r| {
            origin[r]
                - (direction[r][0] * spacing[0] + direction[r][1] * spacing[1] + direction[r][2] * spacing[2])
        });
        let matrix = std::array::from_fn(|r| {
            [
                direction[r][0] * spacing[0],
                direction[r][1] * spacing[1],
                direction[r][2] * spacing[2],
                padded[r],
            ]
        });
        VtkF32 { matrix, index_offset: crop_lo.map(|v| v as f64 + 1.0) }
    }

    /// The float32 position of a mask-local continuous index, widened to f64.
    pub fn point(&self, index: [f64; 3]) -> [f64; 3] {
        let p = [
            index[0] + self.index_offset[0],
            index[1] + self.index_offset[1],
            index[2] + self.index_offset[2],
        ];
        let m = &self.matrix;
        std::array::from_fn(|r| {
            f64::from((((m[r][0] * p[0] + m[r][1] * p[1]) + m[r][2] * p[2]) + m[r][3]) as f32)
        })
    }
}

/// Refuses a zero dimension, a voxel count `len` other than `nx·ny·nz`, or a row count other than `ny·nz`.
fn check(dims: [usize; 3], len: usize, rows: Option<usize>) -> Result<(), Error> {
    let n = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if dims.contains(&0) || n != Some(len) || rows.is_some_and(|r| r != dims[1] * dims[2]) {
        return Err(Error::InvalidMask { dims, len });
    }
    Ok(())
}

/// Whether any voxel of `row` is foreground: a branch-free OR per block of 64, which the compiler vectorises
/// (a scan with an early exit at each voxel does not).
fn any_foreground(row: &[bool]) -> bool {
    row.chunks(64).any(|c| c.iter().fold(false, |acc, &v| acc | v))
}
