//! The voxel-face surface: the boundary of the union of foreground voxel boxes, triangulated exactly as
//! MeshMetrics' mesh (VTK's vtkSurfaceNets3D without smoothing, on the mask padded by one background voxel).
//!
//! Rule (docs/METHODS.md A.2): for every pair of 6-neighbours `(v, v + e_a)` with exactly one in the foreground (voxels
//! outside the mask are background), the unit face perpendicular to axis `a` at index coordinate `v_a + ½` is
//! emitted. With `(u, w)` its in-plane axes — `(x, y)` for `a = z`, `(x, z)` for `a = y`, `(y, z)` for `a = x` —
//! and `(u₀, w₀)` its centre, the face is split along the diagonal from `(u₀−½, w₀+½)` to `(u₀+½, w₀−½)` (VTK's
//! MIN_EDGE rule takes that diagonal on every flat square) into
//! `T1 = {(u−, w+), (u+, w−), (u+, w+)}` and `T2 = {(u+, w−), (u−, w+), (u−, w−)}`, wound so that the normal points
//! from the foreground voxel to the background voxel. Vertices are the voxel corners, shared between faces.

use crate::mask::{Frame, Mask, VtkF32};
use crate::mesh::{Mesh, cross, sub};

/// The voxel-face mesh of `mask`, placed by `frame` (vertices at voxel corners, `index ± ½`).
///
/// An empty mask gives an empty mesh. Foreground touching the mask's border gets its closing faces half a voxel
/// outside the box, as MeshMetrics' padding does.
///
/// ```
/// use segauge_mesh::{voxel_faces, Frame, Mask};
/// let one = Mask::from_fn([1, 1, 1], |_, _, _| true);
/// let mesh = voxel_faces(&one, &Frame::scaled([1.0, 2.0, 3.0]));
/// assert_eq!(mesh.triangles.len(), 12);
/// assert_eq!(mesh.areas().iter().sum::<f64>(), 2.0 * (2.0 + 3.0 + 6.0));
/// assert!((mesh.signed_volume() - 6.0).abs() < 1e-12);
/// ```
pub fn voxel_faces(mask: &Mask, frame: &Frame) -> Mesh {
    faces(mask, &|index| frame.point(index))
}

/// The voxel-face mesh with vertices placed exactly as VTK places them (MeshMetrics compatibility, docs/METHODS.md
/// A.4): see [`VtkF32`]. Use [`Mesh::vtk_centroids`] and [`Mesh::vtk_areas`] with it to reproduce MeshMetrics'
/// samples to the last bit of their inputs.
pub fn voxel_faces_vtk_f32(mask: &Mask, vtk: &VtkF32) -> Mesh {
    faces(mask, &|index| vtk.point(index))
}

fn faces(mask: &Mask, place: &dyn Fn([f64; 3]) -> [f64; 3]) -> Mesh {
    let [nx, ny, nz] = mask.dims();
    // Winding is decided in index space; a left-handed placement (a flipped axis) mirrors it, so reverse it then.
    let o = place([0.0; 3]);
    let axes = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]].map(|e| sub(place(e), o));
    let left_handed = crate::mesh::dot(axes[0], cross(axes[1], axes[2])) < 0.0;
    let mut corners = CornerIndex::new(mask.dims());
    let mut mesh = Mesh::default();
    // Faces are visited voxel by voxel (k, j, i raster order), for the voxel on the low side of each face:
    // v = (i, j, k) ranges over -1..n so that border faces are included.
    for k in -1..nz as isize {
        corners.advance_to(k);
        for j in -1..ny as isize {
            for i in -1..nx as isize {
                let here = mask.get(i, j, k);
                for axis in [2usize, 1, 0] {
                    let mut next = [i, j, k];
                    next[axis] += 1;
                    let there = mask.get(next[0], next[1], next[2]);
                    if here == there {
                        continue;
                    }
                    // Faces of voxels wholly outside the box on the other two axes do not exist.
                    let v = [i, j, k];
                    let n = [nx as isize, ny as isize, nz as isize];
                    if (0..3).any(|b| b != axis && (v[b] < 0 || v[b] >= n[b])) {
                        continue;
                    }
                    emit_face(&mut mesh, &mut corners, place, v, axis, here != left_handed);
                }
            }
        }
    }
    mesh
}

/// In-plane axes (u, w) of a face perpendicular to `axis`.
fn plane_axes(axis: usize) -> (usize, usize) {
    match axis {
        2 => (0, 1),
        1 => (0, 2),
        _ => (1, 2),
    }
}

/// Emits the two triangles of the face between voxel `v` and `v + e_axis`; `low_is_fg` says which side is inside.
fn emit_face(
    mesh: &mut Mesh,
    corners: &mut CornerIndex,
    place: &dyn Fn([f64; 3]) -> [f64; 3],
    v: [isize; 3],
    axis: usize,
    low_is_fg: bool,
) {
    let (u, w) = plane_axes(axis);
    // Corner lattice coordinates: corner c of the lattice sits at index c − ½; the face plane is at v_axis + ½.
    let corner = |du: isize, dw: isize| {
        let mut c = [v[0], v[1], v[2]];
        c[axis] += 1;
        c[u] += du;
        c[w] += dw;
        c
    };
    // (u−, w+), (u+, w−), (u+, w+), (u−, w−)
    let (mp, pm, pp, mm) = (corner(0, 1), corner(1, 0), corner(1, 1), corner(0, 0));
    let mut t1 = [mp, pm, pp];
    let mut t2 = [pm, mp, mm];
    // Outward normal in index space: +e_axis when the low voxel is foreground (`low_is_fg` is inverted by the
    // caller for a left-handed placement).
    let want = if low_is_fg { 1.0 } else { -1.0 };
    let normal_along_axis = |t: &[[isize; 3]; 3]| {
        let p = t.map(|c| c.map(|x| x as f64));
        cross(sub(p[1], p[0]), sub(p[2], p[0]))[axis]
    };
    if normal_along_axis(&t1) * want < 0.0 {
        t1.swap(1, 2);
    }
    if normal_along_axis(&t2) * want < 0.0 {
        t2.swap(1, 2);
    }
    for t in [t1, t2] {
        let ids = t.map(|c| corners.id(c, mesh, place));
        mesh.triangles.push(ids);
    }
}

/// Vertex ids of voxel corners, created on first use. Corner `c` (integer per axis) is the point at continuous
/// index `c − ½`. Faces are emitted layer by layer in k, and the faces of voxel layer k use only corner layers
/// `k` and `k + 1`, so two layers of ids are kept and recycled (memory: two slices, not the whole lattice).
struct CornerIndex {
    /// Corners per layer along x and y: `nx + 3` by `ny + 3` (corner indices −1..=n+1).
    width: [usize; 2],
    /// Corner layer held by `layers[0]` (the next one is in `layers[1]`).
    base: isize,
    layers: [Vec<u32>; 2],
}

impl CornerIndex {
    fn new(dims: [usize; 3]) -> CornerIndex {
        let width = [dims[0] + 3, dims[1] + 3];
        let n = width[0] * width[1];
        CornerIndex { width, base: -1, layers: [vec![u32::MAX; n], vec![u32::MAX; n]] }
    }

    /// Moves the window so that it holds corner layers `k` and `k + 1`.
    fn advance_to(&mut self, k: isize) {
        while self.base < k {
            self.layers.swap(0, 1);
            self.layers[1].fill(u32::MAX);
            self.base += 1;
        }
    }

    fn id(&mut self, c: [isize; 3], mesh: &mut Mesh, place: &dyn Fn([f64; 3]) -> [f64; 3]) -> u32 {
        let next = mesh.vertices.len() as u32;
        let layer = (c[2] - self.base) as usize;
        let idx = (c[0] + 1) as usize + self.width[0] * (c[1] + 1) as usize;
        let slot = &mut self.layers[layer][idx];
        if *slot == u32::MAX {
            *slot = next;
            mesh.vertices.push(place(c.map(|x| x as f64 - 0.5)));
        }
        *slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Every edge of a closed, consistently wound mesh is used once in each direction.
    fn assert_closed_and_oriented(mesh: &Mesh) {
        let mut edges: HashMap<(u32, u32), i32> = HashMap::new();
        for t in &mesh.triangles {
            for e in 0..3 {
                *edges.entry((t[e], t[(e + 1) % 3])).or_default() += 1;
            }
        }
        for (&(a, b), &n) in &edges {
            assert_eq!(n, edges.get(&(b, a)).copied().unwrap_or(0), "edge {a}-{b}");
        }
    }

    #[test]
    fn a_block_has_the_box_area_and_volume() {
        let mask = Mask::from_fn([5, 4, 3], |i, j, k| (1..4).contains(&i) && (1..3).contains(&j) && k == 1);
        let mesh = voxel_faces(&mask, &Frame::scaled([0.5, 1.0, 2.0]));
        // 3 x 2 x 1 voxels of 0.5 x 1 x 2 mm: box 1.5 x 2 x 2.
        let area: f64 = mesh.areas().iter().sum();
        assert!((area - 2.0 * (1.5 * 2.0 + 1.5 * 2.0 + 2.0 * 2.0)).abs() < 1e-12);
        assert!((mesh.signed_volume() - 6.0).abs() < 1e-12);
        assert_eq!(mesh.triangles.len(), 2 * 2 * (3 * 2 + 3 + 2));
        assert_closed_and_oriented(&mesh);
    }

    #[test]
    fn border_voxels_are_closed_and_centroids_follow_the_rule() {
        let mask = Mask::from_fn([2, 2, 2], |i, j, k| i + j + k != 2);
        let mesh = voxel_faces(&mask, &Frame::scaled([1.0, 1.0, 1.0]));
        assert_closed_and_oriented(&mesh);
        assert!((mesh.signed_volume() - mask.count() as f64).abs() < 1e-12);
        // Each face's two centroids sit at ±(1/6, 1/6) of its centre in (u, w).
        for pair in mesh.centroids().chunks(2) {
            let centre: [f64; 3] = std::array::from_fn(|r| (pair[0][r] + pair[1][r]) / 2.0);
            let offset: [f64; 3] = std::array::from_fn(|r| pair[0][r] - centre[r]);
            let nonzero: Vec<f64> = offset.iter().copied().filter(|v| v.abs() > 1e-12).collect();
            assert_eq!(nonzero.len(), 2);
            assert!(nonzero.iter().all(|v| (v - 1.0 / 6.0).abs() < 1e-12), "{offset:?}");
        }
    }

    #[test]
    fn flipped_frames_keep_outward_winding() {
        let mask = Mask::from_fn([3, 3, 3], |i, j, k| i + j + k < 4);
        let flipped = Frame {
            direction: [[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            ..Frame::scaled([1.0, 2.0, 0.5])
        };
        let mesh = voxel_faces(&mask, &flipped);
        assert!((mesh.signed_volume() - mask.count() as f64).abs() < 1e-12);
    }

    #[test]
    fn empty_mask_gives_empty_mesh() {
        let mesh = voxel_faces(&Mask::from_fn([3, 3, 3], |_, _, _| false), &Frame::scaled([1.0; 3]));
        assert!(mesh.is_empty());
    }
}
