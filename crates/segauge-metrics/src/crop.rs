//! Per-label bounding boxes from one pass over a volume, and binary masks cropped to a box.
//!
//! Surface metrics of a label only need the voxels near that label: meshing and distance transforms run inside
//! the label's box (the union of the prediction's and the ground truth's boxes) grown by one background voxel on
//! every side, which may reach half a voxel outside the image (those voxels are background).

use std::collections::BTreeMap;

use segauge_io::{Grid, LabelVolume, Labels, Rows};
use segauge_mesh::{Frame, Mask};

use crate::overlap::Label;

/// An inclusive box of voxel indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoxelBox {
    /// Smallest index per axis.
    pub lo: [usize; 3],
    /// Largest index per axis (inclusive).
    pub hi: [usize; 3],
}

impl VoxelBox {
    fn point(i: usize, j: usize, k: usize) -> VoxelBox {
        VoxelBox { lo: [i, j, k], hi: [i, j, k] }
    }

    /// The smallest box holding both.
    pub fn union(&self, other: &VoxelBox) -> VoxelBox {
        VoxelBox {
            lo: std::array::from_fn(|a| self.lo[a].min(other.lo[a])),
            hi: std::array::from_fn(|a| self.hi[a].max(other.hi[a])),
        }
    }
}

/// The box of `label` in either of two volumes (the union of its boxes in `pred` and `gt`, from [`label_boxes`]);
/// `None` when neither volume holds it.
pub fn label_box(
    pred: &BTreeMap<u32, VoxelBox>,
    gt: &BTreeMap<u32, VoxelBox>,
    label: u32,
) -> Option<VoxelBox> {
    match (pred.get(&label), gt.get(&label)) {
        (Some(x), Some(y)) => Some(x.union(y)),
        (x, y) => x.or(y).copied(),
    }
}

impl VoxelBox {
    /// The number of voxels in the box.
    pub fn voxels(&self) -> usize {
        (0..3).map(|a| self.hi[a] + 1 - self.lo[a]).product()
    }
}

/// `labels` in the order to schedule their per-structure work: the largest box first (label 0, the background,
/// counts as the whole image of `dims`; labels without a box last), ties in the given order.
///
/// A structure's work and memory grow with its box, so starting the largest first keeps a large structure from
/// being the last job of a parallel run, and lets the small ones fill the other threads meanwhile; the order never
/// changes any value (every structure is computed alone in its box).
///
/// ```
/// use std::collections::BTreeMap;
/// use segauge_metrics::{VoxelBox, largest_first};
/// let boxes = BTreeMap::from([
///     (1, VoxelBox { lo: [0, 0, 0], hi: [1, 1, 1] }),
///     (2, VoxelBox { lo: [0, 0, 0], hi: [3, 3, 3] }),
/// ]);
/// assert_eq!(largest_first(&[1, 2, 3], &boxes, &BTreeMap::new(), [8, 8, 8]), vec![2, 1, 3]);
/// ```
pub fn largest_first(
    labels: &[u32],
    pred: &BTreeMap<u32, VoxelBox>,
    gt: &BTreeMap<u32, VoxelBox>,
    dims: [usize; 3],
) -> Vec<u32> {
    let size = |label: u32| -> usize {
        if label == 0 {
            return dims.iter().product();
        }
        label_box(pred, gt, label).map_or(0, |b| b.voxels())
    };
    let mut out = labels.to_vec();
    out.sort_by_cached_key(|&l| std::cmp::Reverse(size(l)));
    out
}

/// The bounding box of every non-zero label of a volume, from one pass over the rows that hold labels
/// ([`LabelVolume::rows`]).
pub fn label_boxes(volume: &LabelVolume) -> BTreeMap<u32, VoxelBox> {
    fn scan<T: Label>(v: &[T], dims: [usize; 3], rows: &Rows) -> BTreeMap<u32, VoxelBox> {
        // Rows without a label are not read; in the others background is skipped a block at a time, and runs
        // of one label are handled once per run.
        const BLOCK: usize = 32;
        let mut boxes: BTreeMap<u32, VoxelBox> = BTreeMap::new();
        let [nx, ny, _] = dims;
        for r in rows.iter() {
            let row = &v[r * nx..(r + 1) * nx];
            let (j, k) = (r % ny, r / ny);
            let mut i = 0;
            while i < nx {
                if i % BLOCK == 0 && i + BLOCK <= nx && T::block_is_zero(&row[i..i + BLOCK]) {
                    i += BLOCK;
                    continue;
                }
                let l: u32 = row[i].into();
                if l == 0 {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < nx && row[i].into() == l {
                    i += 1;
                }
                let (first, last) = (VoxelBox::point(start, j, k), VoxelBox::point(i - 1, j, k));
                boxes
                    .entry(l)
                    .and_modify(|b| *b = b.union(&first).union(&last))
                    .or_insert(first.union(&last));
            }
        }
        boxes
    }
    let (dims, rows) = (volume.grid().dims(), volume.rows());
    match volume.labels() {
        Labels::U8(v) => scan(v, dims, rows),
        Labels::U16(v) => scan(v, dims, rows),
        Labels::U32(v) => scan(v, dims, rows),
    }
}

/// Boxes of at least this many voxels are calloc'd (see `crop_mask`): above glibc's largest mmap threshold, so
/// always a fresh mapping. Smaller boxes are calloc'd when fewer than half their rows hold the label.
const LAZY_ZEROS: usize = 32 << 20;

/// Whether `label` occurs in `row`: a branch-free test per block of 64 voxels, which the compiler vectorises.
fn has_label<T: Label>(row: &[T], label: u32) -> bool {
    row.chunks(64).any(|c| c.iter().fold(false, |acc, &x| acc | (x.into() == label)))
}

/// A binary mask of one label cut out of a volume: the box `b` grown by `pad` voxels on every side (voxels
/// outside the image are background), and the frame placing it in the image's scaled index space
/// (`x = spacing ⊙ index`, origin and direction left out: every distance metric is invariant to them).
pub fn crop_mask(volume: &LabelVolume, label: u32, b: &VoxelBox, pad: usize) -> (Mask, Frame) {
    let grid = volume.grid();
    let lo: [isize; 3] = std::array::from_fn(|a| b.lo[a] as isize - pad as isize);
    let size: [usize; 3] = std::array::from_fn(|a| b.hi[a] - b.lo[a] + 1 + 2 * pad);
    let (voxels, rows) = crop_voxels(volume, label, lo, size, size.iter().product::<usize>() >= LAZY_ZEROS);
    let spacing = grid.spacing();
    let frame =
        Frame { origin: std::array::from_fn(|a| lo[a] as f64 * spacing[a]), ..Frame::scaled(spacing) };
    // The size matches the voxel count by construction, and the rows written are the rows holding the label.
    let mask = Mask::with_occupied_rows(size, voxels, rows)
        .unwrap_or_else(|_| Mask::from_fn([1, 1, 1], |_, _, _| false));
    (mask, frame)
}

/// The voxels of `crop_mask`'s box (corner `lo`, `size`) and, per row of the box, whether it holds the label:
/// calloc'd with only the label's rows written when `lazy` or when most rows lack the label, else each row is
/// written once.
fn crop_voxels(
    volume: &LabelVolume,
    label: u32,
    lo: [isize; 3],
    size: [usize; 3],
    lazy: bool,
) -> (Vec<bool>, Vec<bool>) {
    let (dims, rows) = (volume.grid().dims(), volume.rows());
    match volume.labels() {
        Labels::U8(v) => fill(v, dims, rows, lo, size, label, lazy),
        Labels::U16(v) => fill(v, dims, rows, lo, size, label, lazy),
        Labels::U32(v) => fill(v, dims, rows, lo, size, label, lazy),
    }
}

/// [`crop_voxels`] on the label array `v` of an image of `dims` voxels.
fn fill<T: Label>(
    v: &[T],
    dims: [usize; 3],
    rows: &Rows,
    lo: [isize; 3],
    size: [usize; 3],
    label: u32,
    lazy: bool,
) -> (Vec<bool>, Vec<bool>) {
    let n: usize = size.iter().product();
    // The box's x range inside the image, as output offsets.
    let i0 = (-lo[0]).max(0) as usize;
    let i1 = (dims[0] as isize - lo[0]).clamp(0, size[0] as isize) as usize;
    // The image row under the box's row `(j, k)`, when it lies in the image and may hold the label (rows the
    // volume lists as empty are not read).
    let image_row = |j: usize, k: usize| -> Option<&[T]> {
        let (gj, gk) = (lo[1] + j as isize, lo[2] + k as isize);
        if i0 >= i1 || gj < 0 || gj as usize >= dims[1] || gk < 0 || gk as usize >= dims[2] {
            return None;
        }
        let r = gj as usize + dims[1] * gk as usize;
        if label != 0 && !rows.holds(r) {
            return None; // all background
        }
        let row = dims[0] * r + (lo[0] + i0 as isize) as usize;
        Some(&v[row..row + (i1 - i0)])
    };
    // Per row of the box, whether it holds the label, and the source of those that do.
    let held: Vec<bool> = (0..size[2])
        .flat_map(|k| (0..size[1]).map(move |j| (j, k)))
        .map(|(j, k)| image_row(j, k).is_some_and(|src| has_label(src, label)))
        .collect();
    let source = |j: usize, k: usize| if held[j + size[1] * k] { image_row(j, k) } else { None };
    // A box whose rows mostly lack the label (a structure spread thin: a winding vessel, scattered lesions) is
    // calloc'd too, like the largest boxes: the pages the loop never writes stay unmapped zero pages when the
    // allocation is fresh.
    let sparse = 2 * held.iter().filter(|&&h| h).count() < held.len();
    if lazy || sparse {
        let mut out = vec![false; n];
        for k in 0..size[2] {
            for j in 0..size[1] {
                if let Some(src) = source(j, k) {
                    let dst = size[0] * (j + size[1] * k);
                    for (o, &x) in out[dst + i0..dst + i1].iter_mut().zip(src) {
                        *o = x.into() == label;
                    }
                }
            }
        }
        return (out, held);
    }
    // Smaller boxes come from memory the allocator reuses, which calloc would clear first: writing each row
    // once, zeros or the label test, spares that pass.
    let mut out = Vec::with_capacity(n);
    for k in 0..size[2] {
        for j in 0..size[1] {
            match source(j, k) {
                Some(src) => {
                    out.resize(out.len() + i0, false);
                    out.extend(src.iter().map(|&x| x.into() == label));
                    out.resize(out.len() + (size[0] - i1), false);
                }
                None => out.resize(out.len() + size[0], false),
            }
        }
    }
    (out, held)
}

/// The in-plane axes `[a, b]` (ascending) of a 2D image: a grid with exactly one axis of extent 1. A grid of one
/// voxel, or with two unit axes (a line of voxels), has no plane and stays 3D (docs/METHODS.md A.9).
pub(crate) fn plane_axes(dims: [usize; 3]) -> Option<[usize; 2]> {
    let unit: Vec<usize> = (0..3).filter(|&a| dims[a] == 1).collect();
    match unit[..] {
        [u] => {
            let mut axes = (0..3).filter(|&a| a != u);
            Some([axes.next()?, axes.next()?])
        }
        _ => None,
    }
}

/// [`crop_mask`] of a 2D image in its plane: the label's box grown by `pad` pixels in the plane only, as a one-slice
/// mask `[n_a, n_b, 1]` over the in-plane axes `[a, b]`, and its frame (spacing `[s_a, s_b, 1]`, origin
/// `spacing ⊙ lo` in the plane, 0 across it).
pub(crate) fn crop_plane(
    volume: &LabelVolume,
    label: u32,
    b: &VoxelBox,
    pad: usize,
    [a0, a1]: [usize; 2],
) -> (Mask, Frame) {
    let (slab, frame) = crop_mask(volume, label, b, pad);
    let dims = slab.dims();
    // The unit axis was padded too: its voxel of the image is the middle one.
    let mut at = [0isize; 3];
    let unit = 3 - a0 - a1;
    at[unit] = pad as isize;
    let plane = Mask::from_fn([dims[a0], dims[a1], 1], |i, j, _| {
        let mut v = at;
        v[a0] = i as isize;
        v[a1] = j as isize;
        slab.get(v[0], v[1], v[2])
    });
    let spacing = [frame.spacing[a0], frame.spacing[a1], 1.0];
    let origin = [frame.origin[a0], frame.origin[a1], 0.0];
    (plane, Frame { spacing, origin, ..Frame::scaled(spacing) })
}

/// The frame in which VTK sees the voxels of `grid` from index `lo` on (per axis, may be negative), as MeshMetrics
/// hands a mask to VTK: SimpleITK's LPS world frame (segauge's RAS with x and y negated: origin `o`, direction
/// `D`), padded by one voxel (`sitk.ConstantPad` puts the padded origin at `o − D·spacing`), so that the frame's
/// voxel `(0, 0, 0)` is the padded image's voxel `lo + 1`. Its origin is VTK's world position of that voxel,
/// `((M₀·(lo₀+1) + M₁·(lo₁+1)) + M₂·(lo₂+1)) + (o − D·spacing)` with `M = D·diag(spacing)`, in f64.
///
/// VTK rounds its world points to float32, so a float32 mesh is VTK's own only in VTK's frame: meshed in this
/// frame, a crop gives the points and triangles VTK gives for the whole padded image (bit for bit whenever these
/// f64 sums are exact, as they are for axis-aligned grids whose origin and spacing have few significant bits; in
/// general a point can differ by one float32 ulp where an f64 rounding straddles a float32 rounding boundary).
/// LPS and RAS give the same bits up to the signs of x and y (IEEE rounding is symmetric), so every distance is the
/// same in both.
pub(crate) fn vtk_world_frame(grid: &Grid, lo: [isize; 3]) -> Frame {
    const LPS: [f64; 3] = [-1.0, -1.0, 1.0];
    let (spacing, o, d) = (grid.spacing(), grid.origin(), grid.direction());
    let direction: [[f64; 3]; 3] = std::array::from_fn(|r| d[r].map(|x| LPS[r] * x));
    let m: [[f64; 3]; 3] = std::array::from_fn(|r| std::array::from_fn(|a| direction[r][a] * spacing[a]));
    let q = lo.map(|v| v as f64 + 1.0);
    let origin = std::array::from_fn(|r| {
        let padded = LPS[r] * o[r] - (m[r][0] + m[r][1] + m[r][2]);
        ((m[r][0] * q[0] + m[r][1] * q[1]) + m[r][2] * q[2]) + padded
    });
    Frame { spacing, origin, direction }
}

#[cfg(test)]
mod tests {
    use super::*;
    use segauge_io::Grid;

    #[test]
    fn boxes_and_crops() {
        let dims = [5, 4, 3];
        let mut v = vec![0u8; 60];
        let at = |i: usize, j: usize, k: usize| i + 5 * (j + 4 * k);
        v[at(1, 1, 0)] = 2;
        v[at(3, 2, 2)] = 2;
        v[at(4, 0, 1)] = 7;
        let vol = LabelVolume::new(Grid::new(dims, [1.0, 2.0, 3.0]).unwrap(), Labels::U8(v)).unwrap();
        let boxes = label_boxes(&vol);
        assert_eq!(boxes[&2], VoxelBox { lo: [1, 1, 0], hi: [3, 2, 2] });
        assert_eq!(boxes[&7], VoxelBox { lo: [4, 0, 1], hi: [4, 0, 1] });
        let (mask, frame) = crop_mask(&vol, 7, &boxes[&7], 1);
        assert_eq!(mask.dims(), [3, 3, 3]);
        assert_eq!(mask.count(), 1);
        assert!(mask.get(1, 1, 1));
        assert_eq!(frame.origin, [3.0, -2.0, 0.0]);
    }

    /// A box whose rows mostly hold the label is written row by row (not calloc'd); one whose rows mostly do not
    /// is calloc'd: the same voxels and rows either way, against the definition.
    #[test]
    fn dense_and_sparse_boxes() {
        let dims = [6, 5, 4];
        let at = |i: usize, j: usize, k: usize| i + 6 * (j + 5 * k);
        for dense in [true, false] {
            let v: Vec<u8> = (0..120)
                .map(|x| {
                    let (i, j, k) = (x % 6, x / 6 % 5, x / 30);
                    u8::from(if dense { (i + j + k) % 4 != 0 } else { (i, j) == (k, k) })
                })
                .collect();
            let vol = LabelVolume::new(Grid::new(dims, [1.0; 3]).unwrap(), Labels::U8(v.clone())).unwrap();
            // The image's own box (all 20 rows hold the label when dense: written row by row), and the box padded
            // by one (20 of its 42 rows: calloc'd).
            for pad in [0, 1] {
                let size = dims.map(|d| d + 2 * pad);
                let (voxels, rows) = crop_voxels(&vol, 1, [-(pad as isize); 3], size, false);
                for (x, &got) in voxels.iter().enumerate() {
                    let (i, j, k) = (x % size[0], x / size[0] % size[1], x / (size[0] * size[1]));
                    let g = [i, j, k].map(|c| c as isize - pad as isize);
                    let inside = (0..3).all(|a| g[a] >= 0 && (g[a] as usize) < dims[a]);
                    let want = inside && v[at(g[0] as usize, g[1] as usize, g[2] as usize)] == 1;
                    assert_eq!(got, want, "{dense} {pad} {i} {j} {k}");
                }
                let held = rows.iter().filter(|&&h| h).count();
                assert_eq!(held, if dense { 20 } else { 4 }, "{dense} {pad}");
            }
        }
    }

    /// The crop against its definition voxel by voxel (the label inside the image, background outside), on
    /// sparse random volumes of every stored type, for boxes reaching past the image by their padding.
    #[test]
    fn crops_match_their_definition() {
        let mut rng = segauge_tests::SplitMix(0x2545_f491_4f6c_dd1d);
        let mut next = move || rng.next_u64() as usize;
        let dims = [70, 9, 6];
        for round in 0..12 {
            // Mostly background, so that most rows are skipped; labels 1–3, and 300 where the type holds it.
            let raw: Vec<u32> = (0..dims.iter().product())
                .map(|_| match next() % 40 {
                    0 => 1 + (next() % 3) as u32,
                    1 if round % 3 > 0 => 300,
                    _ => 0,
                })
                .collect();
            let labels = match round % 3 {
                0 => Labels::U8(raw.iter().map(|&v| v as u8).collect()),
                1 => Labels::U16(raw.iter().map(|&v| v as u16).collect()),
                _ => Labels::U32(raw.clone()),
            };
            let vol = LabelVolume::new(Grid::new(dims, [1.0; 3]).unwrap(), labels).unwrap();
            for label in [0, 1, 2, 300, 7] {
                let lo: [usize; 3] = std::array::from_fn(|a| next() % dims[a]);
                let hi: [usize; 3] = std::array::from_fn(|a| lo[a] + next() % (dims[a] - lo[a]));
                let pad = next() % 3;
                let (mask, _) = crop_mask(&vol, label, &VoxelBox { lo, hi }, pad);
                // Both ways of writing the box (the calloc'd one is taken for boxes of 32 Mi voxels and more).
                let corner = lo.map(|v| v as isize - pad as isize);
                let size = mask.dims();
                // Both ways of writing the crop, and the rows they state against a scan of the voxels.
                for lazy in [true, false] {
                    let (voxels, rows) = crop_voxels(&vol, label, corner, size, lazy);
                    assert_eq!(voxels, mask.voxels());
                    assert_eq!(Mask::new(size, voxels).unwrap().occupied_rows(), rows);
                }
                let [nx, ny, nz] = mask.dims();
                for (k, j, i) in
                    (0..nz).flat_map(|k| (0..ny).flat_map(move |j| (0..nx).map(move |i| (k, j, i))))
                {
                    let g = [i, j, k].map(|x| x as isize - pad as isize);
                    let g: [isize; 3] = std::array::from_fn(|a| g[a] + lo[a] as isize);
                    let inside = (0..3).all(|a| g[a] >= 0 && (g[a] as usize) < dims[a]);
                    let want = inside && {
                        let at = g[0] as usize + dims[0] * (g[1] as usize + dims[1] * g[2] as usize);
                        raw[at] == label && (round % 3 > 0 || label < 256)
                    };
                    assert_eq!(
                        mask.get(i as isize, j as isize, k as isize),
                        want,
                        "{round} {label} {i} {j} {k}"
                    );
                }
            }
        }
    }

    #[test]
    fn planes_and_their_crops() {
        assert_eq!(plane_axes([4, 5, 1]), Some([0, 1]));
        assert_eq!(plane_axes([4, 1, 5]), Some([0, 2]));
        assert_eq!(plane_axes([1, 4, 5]), Some([1, 2]));
        assert_eq!(plane_axes([1, 1, 5]), None);
        assert_eq!(plane_axes([1, 1, 1]), None);
        assert_eq!(plane_axes([2, 3, 4]), None);
        // A 4 × 1 × 3 image (plane x–z), label 3 at (1, 0, 2) and (2, 0, 2).
        let mut v = vec![0u8; 12];
        v[1 + 4 * 2] = 3;
        v[2 + 4 * 2] = 3;
        let vol = LabelVolume::new(Grid::new([4, 1, 3], [0.5, 9.0, 2.0]).unwrap(), Labels::U8(v)).unwrap();
        let b = label_boxes(&vol)[&3];
        let (mask, frame) = crop_plane(&vol, 3, &b, 1, [0, 2]);
        assert_eq!(mask.dims(), [4, 3, 1]);
        assert_eq!(mask.count(), 2);
        assert!(mask.get(1, 1, 0) && mask.get(2, 1, 0));
        assert_eq!(frame.spacing, [0.5, 2.0, 1.0]);
        assert_eq!(frame.origin, [0.0, 2.0, 0.0]);
    }

    #[test]
    fn vtk_world_frame_is_lps_and_places_the_crop() {
        let grid = Grid::new([5, 4, 3], [1.0, 2.0, 3.0])
            .unwrap()
            .with_origin([10.0, -20.0, 5.0])
            .unwrap()
            .with_direction([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
            .unwrap();
        let f = vtk_world_frame(&grid, [2, -1, 1]);
        // LPS: the RAS rows of x and y negated.
        assert_eq!(f.direction, [[0.0, -1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
        // Image voxel (2, -1, 1) in LPS: (-(10 + 2·(-1)), -(-20 + 1·2), 5 + 3·1).
        assert_eq!(f.origin, [-8.0, 18.0, 8.0]);
        assert_eq!(f.spacing, [1.0, 2.0, 3.0]);
    }

    #[test]
    fn boxes_equal_brute_force_on_long_sparse_rows() {
        // Rows longer than the skipped blocks, with runs of several labels starting and ending anywhere.
        let dims = [100, 3, 4];
        let mut rng = segauge_tests::SplitMix(5);
        let mut v = vec![0u16; dims.iter().product()];
        for _ in 0..25 {
            let (at, len, label) = (
                (rng.next_f64() * 1190.0) as usize,
                (rng.next_f64() * 40.0) as usize,
                1 + (rng.next_f64() * 4.0) as u16,
            );
            for x in &mut v[at..(at + len).min(1200)] {
                *x = label;
            }
        }
        let mut want: BTreeMap<u32, VoxelBox> = BTreeMap::new();
        for (n, &l) in v.iter().enumerate().filter(|(_, l)| **l != 0) {
            let p = VoxelBox::point(n % 100, (n / 100) % 3, n / 300);
            want.entry(u32::from(l)).and_modify(|b| *b = b.union(&p)).or_insert(p);
        }
        let vol = LabelVolume::new(Grid::new(dims, [1.0; 3]).unwrap(), Labels::U16(v)).unwrap();
        assert_eq!(label_boxes(&vol), want);
    }
}
