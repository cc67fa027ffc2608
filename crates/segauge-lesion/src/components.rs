//! Connected components of a binary mask, labelled on runs of foreground voxels.
//!
//! A run is a maximal stretch of foreground voxels along x in one row `(j, k)`. Two runs of neighbouring rows
//! belong together when their x-intervals overlap (face neighbours) or come within one voxel (edge and corner
//! neighbours), depending on the connectivity. A single raster pass unions each run with the runs of the rows
//! before it (union-find whose root is always the earliest run), so the work is linear in the number of runs,
//! not of voxels, and the memory is a few words per run.
//!
//! Numbering: components are numbered 1, 2, … in the order of their first voxel in raster order
//! (`i + nx·(j + ny·k)`, i fastest), which does not depend on anything but the mask.

use std::fmt;
use std::str::FromStr;

use segauge_mesh::{Frame, Mask};

use crate::Error;

/// Which voxels touch: 6, 18 or 26 neighbours in 3D; 4 or 8 in 2D (on a 3D volume, 4 and 8 label every slice
/// `k` on its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Connectivity {
    /// 2D, shared edges.
    C4,
    /// 2D, shared edges or corners.
    C8,
    /// 3D, shared faces.
    C6,
    /// 3D, shared faces or edges.
    C18,
    /// 3D, shared faces, edges or corners (the default, as BraTS 2023 and panoptica).
    #[default]
    C26,
}

impl Connectivity {
    /// The number of neighbours of a voxel: 4, 8, 6, 18 or 26.
    pub fn neighbours(self) -> u32 {
        match self {
            Connectivity::C4 => 4,
            Connectivity::C8 => 8,
            Connectivity::C6 => 6,
            Connectivity::C18 => 18,
            Connectivity::C26 => 26,
        }
    }

    /// The earlier rows a run can touch, as `(dj, dk, reach)`: `reach` 0 when runs must overlap in x, 1 when
    /// they may be one voxel apart diagonally.
    fn previous_rows(self) -> &'static [(isize, isize, u32)] {
        match self {
            Connectivity::C4 => &[(-1, 0, 0)],
            Connectivity::C8 => &[(-1, 0, 1)],
            Connectivity::C6 => &[(-1, 0, 0), (0, -1, 0)],
            Connectivity::C18 => &[(-1, 0, 1), (0, -1, 1), (-1, -1, 0), (1, -1, 0)],
            Connectivity::C26 => &[(-1, 0, 1), (0, -1, 1), (-1, -1, 1), (1, -1, 1)],
        }
    }
}

impl fmt::Display for Connectivity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.neighbours())
    }
}

impl FromStr for Connectivity {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim() {
            "4" => Ok(Connectivity::C4),
            "8" => Ok(Connectivity::C8),
            "6" => Ok(Connectivity::C6),
            "18" => Ok(Connectivity::C18),
            "26" => Ok(Connectivity::C26),
            other => Err(Error::InvalidOption {
                detail: format!("connectivity {other:?}: use 6, 18 or 26 (3D) or 4 or 8 (2D)"),
            }),
        }
    }
}

/// The connected components of a mask, stored as runs.
#[derive(Debug, Clone)]
pub struct Components {
    dims: [usize; 3],
    /// Runs of row `r = j + ny·k` are `runs[rows[r]..rows[r + 1]]`, sorted by x.
    rows: Vec<u32>,
    /// `[x0, x1)` per run.
    runs: Vec<[u32; 2]>,
    /// Component (1-based) of every run.
    ids: Vec<u32>,
    count: u32,
}

/// One connected component and its geometry.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Lesion {
    /// Component number (1-based, raster order of the first voxel).
    pub id: u32,
    /// Number of voxels.
    pub voxels: u64,
    /// Volume, mm³ (voxels × voxel volume).
    pub volume_mm3: f64,
    /// Equivalent diameter `(6V/π)^(1/3)`, mm: the diameter of the sphere of the same volume.
    pub diameter_mm: f64,
    /// Smallest voxel index per axis.
    pub lo: [usize; 3],
    /// Largest voxel index per axis (inclusive).
    pub hi: [usize; 3],
    /// Centre of mass of the voxel centres in the frame's coordinates (mm).
    pub centroid_mm: [f64; 3],
}

/// Labels the connected components of `mask`.
///
/// ```
/// use segauge_lesion::{Connectivity, label};
/// use segauge_mesh::Mask;
/// // Two voxels touching only at a corner: one lesion with 26-connectivity, two with 6 or 18.
/// let mask = Mask::from_fn([2, 2, 2], |i, j, k| (i, j, k) == (0, 0, 0) || (i, j, k) == (1, 1, 1));
/// assert_eq!(label(&mask, Connectivity::C26).len(), 1);
/// assert_eq!(label(&mask, Connectivity::C18).len(), 2);
/// assert_eq!(label(&mask, Connectivity::C6).len(), 2);
/// ```
pub fn label(mask: &Mask, connectivity: Connectivity) -> Components {
    let dims = mask.dims();
    let [nx, ny, nz] = dims;
    let voxels = mask.voxels();
    let mut rows = Vec::with_capacity(ny * nz + 1);
    let mut runs: Vec<[u32; 2]> = Vec::new();
    for (row, &o) in voxels.chunks_exact(nx).zip(mask.occupied_rows()) {
        rows.push(runs.len() as u32);
        if !o {
            continue;
        }
        let mut x = 0;
        while x < nx {
            let Some(start) = row[x..].iter().position(|&v| v) else { break };
            let x0 = x + start;
            let x1 = row[x0..].iter().position(|&v| !v).map_or(nx, |len| x0 + len);
            runs.push([x0 as u32, x1 as u32]);
            x = x1;
        }
    }
    rows.push(runs.len() as u32);

    let mut parent: Vec<u32> = (0..runs.len() as u32).collect();
    for k in 0..nz {
        for j in 0..ny {
            let r = j + ny * k;
            let (a0, a1) = (rows[r] as usize, rows[r + 1] as usize);
            if a0 == a1 {
                continue;
            }
            for &(dj, dk, reach) in connectivity.previous_rows() {
                let (jj, kk) = (j as isize + dj, k as isize + dk);
                if jj < 0 || kk < 0 || jj as usize >= ny {
                    continue;
                }
                let q = jj as usize + ny * kk as usize;
                let (b0, b1) = (rows[q] as usize, rows[q + 1] as usize);
                // For each run of this row, the runs of row q within `reach` in x; `first` only moves forward
                // because both lists are sorted.
                let mut first = b0;
                for a in a0..a1 {
                    let [x0, x1] = runs[a];
                    while first < b1 && runs[first][1] + reach <= x0 {
                        first += 1;
                    }
                    let mut b = first;
                    while b < b1 && runs[b][0] < x1 + reach {
                        union(&mut parent, a as u32, b as u32);
                        b += 1;
                    }
                }
            }
        }
    }

    // The root of every component is its earliest run, so numbering roots in run order numbers components by
    // their first voxel.
    let mut ids = vec![0u32; runs.len()];
    let mut count = 0;
    for i in 0..runs.len() {
        let root = find(&mut parent, i as u32) as usize;
        if root == i {
            count += 1;
            ids[i] = count;
        } else {
            ids[i] = ids[root];
        }
    }
    Components { dims, rows, runs, ids, count }
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        // Path halving.
        let p = parent[x as usize];
        parent[x as usize] = parent[p as usize];
        x = parent[x as usize];
    }
    x
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra < rb {
        parent[rb as usize] = ra;
    } else if rb < ra {
        parent[ra as usize] = rb;
    }
}

impl Components {
    /// Number of components.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True when the mask had no foreground voxel.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Shape of the labelled mask.
    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }

    /// The label image: component number per voxel (0 = background), i fastest.
    pub fn label_image(&self) -> Vec<u32> {
        let nx = self.dims[0];
        let mut out = vec![0u32; self.dims.iter().product()];
        for r in 0..self.rows.len() - 1 {
            for run in self.rows[r] as usize..self.rows[r + 1] as usize {
                let [x0, x1] = self.runs[run];
                out[r * nx + x0 as usize..r * nx + x1 as usize].fill(self.ids[run]);
            }
        }
        out
    }

    /// The component of voxel `(i, j, k)` (0 for background or outside the box).
    pub fn id_at(&self, i: usize, j: usize, k: usize) -> u32 {
        let [nx, ny, nz] = self.dims;
        if i >= nx || j >= ny || k >= nz {
            return 0;
        }
        let r = j + ny * k;
        let row = &self.runs[self.rows[r] as usize..self.rows[r + 1] as usize];
        // The first run ending after i.
        let at = row.partition_point(|run| run[1] as usize <= i);
        match row.get(at) {
            Some(run) if run[0] as usize <= i => self.ids[self.rows[r] as usize + at],
            _ => 0,
        }
    }

    /// Every run as `(row, x0, x1, id)` in raster order (`row = j + ny·k`, voxels `x0..x1`).
    pub(crate) fn runs(&self) -> impl Iterator<Item = (usize, usize, usize, u32)> + '_ {
        (0..self.rows.len() - 1).flat_map(move |r| {
            (self.rows[r] as usize..self.rows[r + 1] as usize).map(move |run| {
                let [x0, x1] = self.runs[run];
                (r, x0 as usize, x1 as usize, self.ids[run])
            })
        })
    }

    /// The runs of row `r` as `(x0, x1, id)`.
    pub(crate) fn row(&self, r: usize) -> impl Iterator<Item = (usize, usize, u32)> + Clone + '_ {
        (self.rows[r] as usize..self.rows[r + 1] as usize).map(move |run| {
            let [x0, x1] = self.runs[run];
            (x0 as usize, x1 as usize, self.ids[run])
        })
    }

    /// The mask of the components whose id satisfies `keep`, on the same box.
    pub fn mask_of(&self, keep: impl Fn(u32) -> bool) -> Mask {
        let nx = self.dims[0];
        let mut voxels = vec![false; self.dims.iter().product()];
        for (r, x0, x1, id) in self.runs() {
            if keep(id) {
                voxels[r * nx + x0..r * nx + x1].fill(true);
            }
        }
        Mask::new(self.dims, voxels).expect("same dims as the labelled mask")
    }

    /// The mask of the components whose id satisfies `keep` inside the inclusive box `lo..=hi`, grown by `pad`
    /// background voxels on every side.
    pub fn crop(&self, keep: impl Fn(u32) -> bool, lo: [usize; 3], hi: [usize; 3], pad: usize) -> Mask {
        let ny = self.dims[1];
        let dims: [usize; 3] = std::array::from_fn(|a| hi[a] - lo[a] + 1 + 2 * pad);
        let mut voxels = vec![false; dims.iter().product()];
        for k in lo[2]..=hi[2].min(self.dims[2] - 1) {
            for j in lo[1]..=hi[1].min(ny - 1) {
                let base = (pad + j - lo[1]) * dims[0] + (pad + k - lo[2]) * dims[0] * dims[1];
                for (x0, x1, id) in self.row(j + ny * k) {
                    let (a, b) = (x0.max(lo[0]), x1.min(hi[0] + 1));
                    if a < b && keep(id) {
                        voxels[base + pad + a - lo[0]..base + pad + b - lo[0]].fill(true);
                    }
                }
            }
        }
        Mask::new(dims, voxels).expect("box dimensions match the voxel count")
    }

    /// The same runs with component `c` renamed `rename(c)`; `count` is the number of new ids (1..=count).
    pub(crate) fn relabel(&self, rename: impl Fn(u32) -> u32, count: u32) -> Components {
        Components { ids: self.ids.iter().map(|&c| rename(c)).collect(), count, ..self.clone() }
    }

    /// Size, bounding box and centroid of every component, in id order, placed by `frame`.
    pub fn lesions(&self, frame: &Frame) -> Vec<Lesion> {
        let ny = self.dims[1];
        let n = self.len();
        let mut voxels = vec![0u64; n];
        let mut sums = vec![[0f64; 3]; n];
        let mut lo = vec![[usize::MAX; 3]; n];
        let mut hi = vec![[0usize; 3]; n];
        for (r, x0, x1, id) in self.runs() {
            let c = id as usize - 1;
            let (j, k) = (r % ny, r / ny);
            let len = (x1 - x0) as u64;
            voxels[c] += len;
            // Σ x over x0..x1 is exact in f64 for any realistic volume (< 2^53).
            sums[c][0] += ((x0 + x1 - 1) as u64 * len / 2) as f64;
            sums[c][1] += (j as u64 * len) as f64;
            sums[c][2] += (k as u64 * len) as f64;
            for (a, (l, h)) in [(x0, x1 - 1), (j, j), (k, k)].into_iter().enumerate() {
                lo[c][a] = lo[c][a].min(l);
                hi[c][a] = hi[c][a].max(h);
            }
        }
        let voxel_volume = frame.spacing.iter().product::<f64>();
        (0..n)
            .map(|c| {
                let volume_mm3 = voxels[c] as f64 * voxel_volume;
                let mean = sums[c].map(|s| s / voxels[c] as f64);
                Lesion {
                    id: c as u32 + 1,
                    voxels: voxels[c],
                    volume_mm3,
                    diameter_mm: equivalent_diameter(volume_mm3),
                    lo: lo[c],
                    hi: hi[c],
                    centroid_mm: frame.point(mean),
                }
            })
            .collect()
    }
}

/// The diameter of the sphere of volume `v`: `(6v/π)^(1/3)`.
pub fn equivalent_diameter(volume_mm3: f64) -> f64 {
    (6.0 * volume_mm3 / std::f64::consts::PI).cbrt()
}

/// Voxel counts of every overlapping pair of components of two labellings of the same box, as
/// `(a id, b id, voxels)` sorted by ids.
pub(crate) fn overlaps(a: &Components, b: &Components) -> Vec<(u32, u32, u64)> {
    let mut pairs: std::collections::BTreeMap<(u32, u32), u64> = std::collections::BTreeMap::new();
    for r in 0..a.rows.len() - 1 {
        let mut rb = b.row(r).peekable();
        for (x0, x1, ida) in a.row(r) {
            // Runs of b ending at or before x0 cannot meet this or any later run of a.
            while rb.peek().is_some_and(|&(_, y1, _)| y1 <= x0) {
                rb.next();
            }
            let mut ahead = rb.clone();
            while let Some(&(y0, y1, idb)) = ahead.peek() {
                if y0 >= x1 {
                    break;
                }
                *pairs.entry((ida, idb)).or_default() += (x1.min(y1) - x0.max(y0)) as u64;
                ahead.next();
            }
        }
    }
    pairs.into_iter().map(|((x, y), n)| (x, y, n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: flood fill over the explicit neighbourhood, numbering by first voxel.
    fn flood(mask: &Mask, c: Connectivity) -> Vec<u32> {
        let [nx, ny, nz] = mask.dims();
        let offsets: Vec<[isize; 3]> = (-1..=1)
            .flat_map(|dz| (-1..=1).flat_map(move |dy| (-1..=1).map(move |dx| [dx, dy, dz])))
            .filter(|d| {
                let nonzero = d.iter().filter(|&&v| v != 0).count();
                match c {
                    Connectivity::C4 => d[2] == 0 && nonzero == 1,
                    Connectivity::C8 => d[2] == 0 && nonzero >= 1,
                    Connectivity::C6 => nonzero == 1,
                    Connectivity::C18 => nonzero == 1 || nonzero == 2,
                    Connectivity::C26 => nonzero >= 1,
                }
            })
            .collect();
        let mut out = vec![0u32; nx * ny * nz];
        let mut next = 0;
        for start in 0..out.len() {
            if !mask.voxels()[start] || out[start] != 0 {
                continue;
            }
            next += 1;
            out[start] = next;
            let mut stack = vec![start];
            while let Some(v) = stack.pop() {
                let (i, j, k) = ((v % nx) as isize, ((v / nx) % ny) as isize, (v / (nx * ny)) as isize);
                for d in &offsets {
                    let (a, b, cc) = (i + d[0], j + d[1], k + d[2]);
                    if mask.get(a, b, cc) {
                        let w = a as usize + nx * (b as usize + ny * cc as usize);
                        if out[w] == 0 {
                            out[w] = next;
                            stack.push(w);
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn runs_equal_flood_fill_on_random_masks() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for trial in 0..60 {
            let dims = [1 + (next() % 9) as usize, 1 + (next() % 7) as usize, 1 + (next() % 6) as usize];
            let density = 20 + (trial % 5) * 12;
            let voxels: Vec<bool> = (0..dims.iter().product()).map(|_| next() % 100 < density).collect();
            let mask = Mask::new(dims, voxels).unwrap();
            for c in
                [Connectivity::C4, Connectivity::C8, Connectivity::C6, Connectivity::C18, Connectivity::C26]
            {
                let cc = label(&mask, c);
                let expected = flood(&mask, c);
                assert_eq!(cc.label_image(), expected, "{dims:?} {c}");
                assert_eq!(cc.len() as u32, expected.iter().copied().max().unwrap_or(0));
                for (v, &e) in expected.iter().enumerate() {
                    let (i, j, k) = (v % dims[0], (v / dims[0]) % dims[1], v / (dims[0] * dims[1]));
                    assert_eq!(cc.id_at(i, j, k), e);
                }
            }
        }
    }

    #[test]
    fn overlaps_count_shared_voxels() {
        let a = Mask::from_fn([6, 2, 1], |i, j, _| j == 0 && i < 4);
        let b = Mask::from_fn([6, 2, 1], |i, j, _| (j == 0 && (i == 1 || i >= 3)) || j == 1);
        let (ca, cb) = (label(&a, Connectivity::C6), label(&b, Connectivity::C6));
        // b: {x=1,j=0} joined with row j=1 and {x>=3, j=0}: a single component.
        assert_eq!(cb.len(), 1);
        assert_eq!(overlaps(&ca, &cb), vec![(1, 1, 2)]);
    }

    #[test]
    fn lesion_geometry() {
        let mask = Mask::from_fn([5, 4, 3], |i, j, k| (1..4).contains(&i) && j == 2 && k < 2);
        let frame = Frame::scaled([0.5, 1.0, 2.0]);
        let l = &label(&mask, Connectivity::C26).lesions(&frame)[0];
        assert_eq!((l.voxels, l.lo, l.hi), (6, [1, 2, 0], [3, 2, 1]));
        assert_eq!(l.volume_mm3, 6.0);
        assert_eq!(l.centroid_mm, [1.0, 2.0, 1.0]);
        assert!((l.diameter_mm - (36.0 / std::f64::consts::PI).cbrt()).abs() < 1e-15);
    }
}
