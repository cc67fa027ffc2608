//! Exact distances from points to a triangle mesh: a bounding-volume hierarchy over the triangles and the exact
//! closest point on a triangle (Ericson, Real-Time Collision Detection, §5.1.5), in f64.
//!
//! Why our own BVH: the queries of surface metrics come in long runs of nearby points (triangle centroids in
//! raster order) whose answers are close to each other. Each query starts from the bound
//! `d(q) ≤ d(q′) + |q − q′|` of the previous one, which prunes most of the tree at once; generic crates
//! (parry3d, rstar) have no such entry point and are heavy dependencies. A brute-force scan is the test oracle.
//!
//! Determinism: the distance of a point is the minimum, over the triangles that can be closest, of the same
//! per-triangle computation; pruning keeps a safety margin so the minimising triangle is always evaluated. Hence
//! the result does not depend on the visiting order, the warm start, or how queries are split across threads.

use crate::mesh::{Mesh, cross, dot, sub};

/// A BVH over the triangles of a mesh, for exact point-to-mesh distances.
#[derive(Debug, Clone)]
pub struct DistanceIndex {
    nodes: Vec<Node>,
    /// Triangles in leaf order: corner a, edge ab, edge ac.
    tris: Vec<Tri>,
}

#[derive(Debug, Clone, Copy)]
struct Tri {
    a: [f64; 3],
    b: [f64; 3],
    c: [f64; 3],
    /// Unit normal and plane offset (`n·x = off` on the plane); zero for a degenerate triangle. The distance to the
    /// plane is a lower bound of the distance to the triangle, which rejects most candidates with one dot product.
    n: [f64; 3],
    off: f64,
    /// The triangle's centroid and the radius of the disk around it (in the plane) that holds the triangle,
    /// widened for rounding. With `q = p − centre`, `h = n·q` and `ρ² = |q|² − h²`, every point of the triangle is
    /// at least `sqrt(h² + max(ρ − radius, 0)²)` from `p`: a bound that also rejects the triangles beside the
    /// closest one, whose planes lie as near as its own.
    centre: [f64; 3],
    radius: f64,
}

impl Tri {
    fn new(a: [f64; 3], b: [f64; 3], c: [f64; 3]) -> Tri {
        let n = cross(sub(b, a), sub(c, a));
        let len = dot(n, n).sqrt();
        let n = if len > 0.0 { [n[0] / len, n[1] / len, n[2] / len] } else { [0.0; 3] };
        let centre: [f64; 3] = std::array::from_fn(|r| (a[r] + b[r] + c[r]) / 3.0);
        let radius =
            [a, b, c].iter().map(|&v| dot(sub(v, centre), sub(v, centre)).sqrt()).fold(0.0, f64::max);
        let scale = 1.0 + centre.iter().map(|v| v.abs()).sum::<f64>();
        Tri { a, b, c, n, off: dot(n, a), centre, radius: radius * (1.0 + 1e-9) + 1e-12 * scale }
    }
}

#[derive(Debug, Clone, Copy)]
struct Node {
    min: [f64; 3],
    max: [f64; 3],
    /// Leaf: first triangle and count (count > 0). Inner: index of the first child (the second follows it), count 0.
    start: u32,
    count: u32,
}

const LEAF_SIZE: usize = 8;

impl DistanceIndex {
    /// Builds the index. An empty mesh gives an index whose every distance is +inf.
    pub fn new(mesh: &Mesh) -> DistanceIndex {
        // The tree is built over triangle ids (4 bytes each) keyed by their centres; triangles are copied into
        // leaf order once at the end.
        let centres: Vec<[f32; 3]> = (0..mesh.triangles.len())
            .map(|t| {
                let [a, b, c] = mesh.corners(t);
                std::array::from_fn(|r| ((a[r] + b[r] + c[r]) / 3.0) as f32)
            })
            .collect();
        let mut order: Vec<u32> = (0..mesh.triangles.len() as u32).collect();
        let mut nodes = Vec::with_capacity(2 * order.len() / LEAF_SIZE + 1);
        if !order.is_empty() {
            nodes.push(Node { min: [0.0; 3], max: [0.0; 3], start: 0, count: 0 });
            build(&mut nodes, 0, &mut order, 0, mesh, &centres);
        }
        let tris = order
            .iter()
            .map(|&t| {
                let [a, b, c] = mesh.corners(t as usize);
                Tri::new(a, b, c)
            })
            .collect();
        DistanceIndex { nodes, tris }
    }

    /// Distance from `p` to the mesh (+inf for an empty mesh).
    pub fn distance(&self, p: [f64; 3]) -> f64 {
        self.distance_from_hint(p, None).0
    }

    /// Distance from `p` and the (leaf-order) index of a closest triangle, starting from the exact distance to
    /// the `hint` triangle (typically the closest triangle of the previous, nearby query): that bound is nearly
    /// tight, so the traversal only visits the few boxes inside the ball it defines.
    fn distance_from_hint(&self, p: [f64; 3], hint: Option<u32>) -> (f64, u32) {
        if self.nodes.is_empty() {
            return (f64::INFINITY, 0);
        }
        let mut best_exact = f64::INFINITY;
        let mut best_tri = 0u32;
        if let Some(h) = hint {
            best_exact = point_triangle_dist2(p, &self.tris[h as usize]);
            best_tri = h;
        }
        // Pruning compares squared box distances with the best squared distance times a margin, so that rounding
        // never prunes the minimising triangle.
        let mut best2 = best_exact;
        // Each stacked node carries its squared box distance, computed once when its parent was opened.
        let mut stack: [(u32, f64); 64] = [(0, 0.0); 64];
        stack[0] = (0, box_dist2(&self.nodes[0], p));
        let mut top = 1usize;
        while top > 0 {
            top -= 1;
            let (at, d2) = stack[top];
            if d2 > best2 * (1.0 + 1e-9) {
                continue;
            }
            let node = &self.nodes[at as usize];
            if node.count > 0 {
                let s = node.start as usize;
                for (i, t) in self.tris[s..s + node.count as usize].iter().enumerate() {
                    // Plane distance: a lower bound; skip with the same margin as the boxes.
                    let h = dot(t.n, p) - t.off;
                    let limit = best2 * (1.0 + 1e-9);
                    if h * h > limit {
                        continue;
                    }
                    // The disk bound (see `Tri::centre`); ρ² only loses precision when ρ is small, where the
                    // test keeps the triangle.
                    let q = sub(p, t.centre);
                    let hc = dot(t.n, q);
                    let rho2 = dot(q, q) - hc * hc;
                    if rho2 > t.radius * t.radius {
                        let e = rho2.sqrt() - t.radius;
                        if hc * hc + e * e > limit {
                            continue;
                        }
                    }
                    let d2 = point_triangle_dist2(p, t);
                    if d2 < best_exact || (d2 == best_exact && ((s + i) as u32) < best_tri) {
                        best_exact = d2;
                        best_tri = (s + i) as u32;
                    }
                    best2 = best2.min(d2);
                }
            } else {
                let (l, r) = (node.start, node.start + 1);
                let (dl, dr) = (box_dist2(&self.nodes[l as usize], p), box_dist2(&self.nodes[r as usize], p));
                if top + 2 > stack.len() {
                    // Depth is bounded by the median split (log2 of the triangle count), far below 64.
                    return (self.brute_force(p), best_tri);
                }
                // Visit the nearer child first (pushed last).
                let (first, second) = if dl <= dr { ((l, dl), (r, dr)) } else { ((r, dr), (l, dl)) };
                stack[top] = second;
                stack[top + 1] = first;
                top += 2;
            }
        }
        (best_exact.sqrt(), best_tri)
    }

    fn brute_force(&self, p: [f64; 3]) -> f64 {
        self.tris.iter().map(|t| point_triangle_dist2(p, t)).fold(f64::INFINITY, f64::min).sqrt()
    }

    /// Distances from every point of `points` to the mesh, in order.
    ///
    /// Queries are visited in Morton (Z-curve) order of their positions, so that consecutive queries are close
    /// and each starts from the closest triangle of the previous one; they run in chunks (in parallel with the
    /// `parallel` feature). Results are bit-identical to [`DistanceIndex::distance`] on each point, whatever
    /// the order or the thread count.
    pub fn distances(&self, points: &[[f64; 3]]) -> Vec<f64> {
        const CHUNK: usize = 4096;
        let order = morton_order(points);
        let run = |chunk: &[u32]| -> Vec<f64> {
            let mut out = Vec::with_capacity(chunk.len());
            let mut hint = None;
            for &i in chunk {
                let (d, t) = self.distance_from_hint(points[i as usize], hint);
                hint = Some(t);
                out.push(d);
            }
            out
        };
        #[cfg(feature = "parallel")]
        let sorted: Vec<f64> = {
            use rayon::prelude::*;
            order.par_chunks(CHUNK).map(run).collect::<Vec<_>>().concat()
        };
        #[cfg(not(feature = "parallel"))]
        let sorted: Vec<f64> = order.chunks(CHUNK).flat_map(run).collect();
        let mut out = vec![0.0; points.len()];
        for (&i, d) in order.iter().zip(sorted) {
            out[i as usize] = d;
        }
        out
    }
}

/// Indices of `points` sorted by the Morton code of their position quantised on a 2^21 grid over their bounding
/// box (ties by index, so the order is deterministic).
fn morton_order(points: &[[f64; 3]]) -> Vec<u32> {
    let (mut lo, mut hi) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
    for p in points {
        for r in 0..3 {
            lo[r] = lo[r].min(p[r]);
            hi[r] = hi[r].max(p[r]);
        }
    }
    let scale: [f64; 3] =
        std::array::from_fn(|r| if hi[r] > lo[r] { 2097151.0 / (hi[r] - lo[r]) } else { 0.0 });
    let spread = |v: u64| -> u64 {
        // Spread 21 bits to every third bit.
        let mut x = v & 0x1f_ffff;
        x = (x | (x << 32)) & 0x1f00000000ffff;
        x = (x | (x << 16)) & 0x1f0000ff0000ff;
        x = (x | (x << 8)) & 0x100f00f00f00f00f;
        x = (x | (x << 4)) & 0x10c30c30c30c30c3;
        (x | (x << 2)) & 0x1249249249249249
    };
    let mut keyed: Vec<(u64, u32)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let q: [u64; 3] = std::array::from_fn(|r| ((p[r] - lo[r]) * scale[r]) as u64);
            (spread(q[0]) | (spread(q[1]) << 1) | (spread(q[2]) << 2), i as u32)
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Builds the subtree of `ids` at node `at` and returns its box: split at the median centre along the widest
/// extent of the centres (the centres only guide the split, so their float32 rounding costs nothing); boxes are
/// exact, computed bottom-up (each triangle's corners are read once, in its leaf).
fn build(
    nodes: &mut Vec<Node>,
    at: usize,
    ids: &mut [u32],
    offset: usize,
    mesh: &Mesh,
    centres: &[[f32; 3]],
) -> ([f64; 3], [f64; 3]) {
    if ids.len() <= LEAF_SIZE {
        let (mut min, mut max) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
        for &t in ids.iter() {
            for p in mesh.corners(t as usize) {
                for r in 0..3 {
                    min[r] = min[r].min(p[r]);
                    max[r] = max[r].max(p[r]);
                }
            }
        }
        nodes[at] = Node { min, max, start: offset as u32, count: ids.len() as u32 };
        return (min, max);
    }
    let (mut cmin, mut cmax) = ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]);
    for &t in ids.iter() {
        let c = centres[t as usize];
        for r in 0..3 {
            cmin[r] = cmin[r].min(c[r]);
            cmax[r] = cmax[r].max(c[r]);
        }
    }
    let axis = (0..3).fold(0, |best, r| if cmax[r] - cmin[r] > cmax[best] - cmin[best] { r } else { best });
    let mid = ids.len() / 2;
    // Deterministic: the same input always gives the same partition (ties broken by triangle id).
    ids.select_nth_unstable_by(mid, |&x, &y| {
        centres[x as usize][axis].total_cmp(&centres[y as usize][axis]).then(x.cmp(&y))
    });
    let first = nodes.len();
    nodes.push(Node { min: [0.0; 3], max: [0.0; 3], start: 0, count: 0 });
    nodes.push(Node { min: [0.0; 3], max: [0.0; 3], start: 0, count: 0 });
    let (left, right) = ids.split_at_mut(mid);
    let (lmin, lmax) = build(nodes, first, left, offset, mesh, centres);
    let (rmin, rmax) = build(nodes, first + 1, right, offset + mid, mesh, centres);
    let min = std::array::from_fn(|r| lmin[r].min(rmin[r]));
    let max = std::array::from_fn(|r| lmax[r].max(rmax[r]));
    nodes[at] = Node { min, max, start: first as u32, count: 0 };
    (min, max)
}

#[inline]
fn box_dist2(n: &Node, p: [f64; 3]) -> f64 {
    let mut d2 = 0.0;
    for r in 0..3 {
        let v = if p[r] < n.min[r] {
            n.min[r] - p[r]
        } else if p[r] > n.max[r] {
            p[r] - n.max[r]
        } else {
            0.0
        };
        d2 += v * v;
    }
    d2
}

/// Squared distance from `p` to triangle `t`: Ericson's Voronoi-region classification; in the face region the
/// distance to the plane, `(n·(p − a))² / (n·n)`, which is exactly 0 for a point on an axis-aligned face.
#[inline]
fn point_triangle_dist2(p: [f64; 3], t: &Tri) -> f64 {
    match closest_feature(p, t.a, t.b, t.c) {
        Feature::Point(q) => {
            let v = sub(p, q);
            dot(v, v)
        }
        Feature::Face => {
            let n = cross(sub(t.b, t.a), sub(t.c, t.a));
            let h = dot(n, sub(p, t.a));
            h * h / dot(n, n)
        }
    }
}

enum Feature {
    /// The closest point is on a vertex or an edge.
    Point([f64; 3]),
    /// The closest point is inside the triangle (its projection on the plane).
    Face,
}

fn closest_feature(p: [f64; 3], a: [f64; 3], b: [f64; 3], c: [f64; 3]) -> Feature {
    let ab = sub(b, a);
    let ac = sub(c, a);
    let ap = sub(p, a);
    let d1 = dot(ab, ap);
    let d2 = dot(ac, ap);
    if d1 <= 0.0 && d2 <= 0.0 {
        return Feature::Point(a);
    }
    let bp = sub(p, b);
    let d3 = dot(ab, bp);
    let d4 = dot(ac, bp);
    if d3 >= 0.0 && d4 <= d3 {
        return Feature::Point(b);
    }
    let vc = d1 * d4 - d3 * d2;
    if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
        let v = d1 / (d1 - d3);
        return Feature::Point([a[0] + v * ab[0], a[1] + v * ab[1], a[2] + v * ab[2]]);
    }
    let cp = sub(p, c);
    let d5 = dot(ab, cp);
    let d6 = dot(ac, cp);
    if d6 >= 0.0 && d5 <= d6 {
        return Feature::Point(c);
    }
    let vb = d5 * d2 - d1 * d6;
    if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
        let w = d2 / (d2 - d6);
        return Feature::Point([a[0] + w * ac[0], a[1] + w * ac[1], a[2] + w * ac[2]]);
    }
    let va = d3 * d6 - d5 * d4;
    if va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0 {
        let w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
        return Feature::Point([
            b[0] + w * (c[0] - b[0]),
            b[1] + w * (c[1] - b[1]),
            b[2] + w * (c[2] - b[2]),
        ]);
    }
    Feature::Face
}

/// The point of triangle `abc` closest to `p` (exact Voronoi-region classification, f64).
pub fn closest_point_on_triangle(p: [f64; 3], a: [f64; 3], b: [f64; 3], c: [f64; 3]) -> [f64; 3] {
    match closest_feature(p, a, b, c) {
        Feature::Point(q) => q,
        Feature::Face => {
            let n = cross(sub(b, a), sub(c, a));
            let t = dot(n, sub(p, a)) / dot(n, n);
            [p[0] - t * n[0], p[1] - t * n[1], p[2] - t * n[2]]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Frame, Mask, voxel_faces};

    #[test]
    fn closest_point_regions() {
        let (a, b, c) = ([0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 2.0, 0.0]);
        assert_eq!(closest_point_on_triangle([0.5, 0.5, 3.0], a, b, c), [0.5, 0.5, 0.0]);
        assert_eq!(closest_point_on_triangle([-1.0, -1.0, 0.0], a, b, c), a);
        assert_eq!(closest_point_on_triangle([3.0, -1.0, 1.0], a, b, c), b);
        assert_eq!(closest_point_on_triangle([1.0, -5.0, 0.0], a, b, c), [1.0, 0.0, 0.0]);
        assert_eq!(closest_point_on_triangle([2.0, 2.0, 0.0], a, b, c), [1.0, 1.0, 0.0]);
    }

    #[test]
    fn bvh_equals_brute_force_with_and_without_warm_start() {
        let mut rng = segauge_tests::SplitMix(7);
        let mask = Mask::from_fn([14, 11, 9], |i, j, k| {
            let (x, y, z) = (i as f64 - 6.5, j as f64 - 5.0, (k as f64 - 4.0) * 1.5);
            x * x + y * y + z * z < 20.0 || (i + 2 * j + k) % 11 == 0
        });
        let mesh = voxel_faces(&mask, &Frame::scaled([0.7, 0.9, 1.6]));
        let index = DistanceIndex::new(&mesh);
        let points: Vec<[f64; 3]> = (0..3000)
            .map(|_| [rng.next_f64() * 14.0 - 2.0, rng.next_f64() * 12.0 - 2.0, rng.next_f64() * 18.0 - 3.0])
            .collect();
        let batch = index.distances(&points);
        for (p, d) in points.iter().zip(&batch) {
            assert_eq!(*d, index.brute_force(*p));
            assert_eq!(*d, index.distance(*p));
        }
        assert!(DistanceIndex::new(&Mesh::default()).distance([0.0; 3]).is_infinite());
    }
}
