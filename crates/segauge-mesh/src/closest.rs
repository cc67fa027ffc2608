//! Exact distances from points to a triangle mesh: a bounding-volume hierarchy over the triangles and the exact
//! closest point on a triangle (Ericson, Real-Time Collision Detection, §5.1.5), in f64.
//!
//! Why our own BVH: the queries of surface metrics come in long runs of nearby points (triangle centroids in
//! raster order) whose answers are close to each other. Each query starts from the bound
//! `d(q) ≤ d(q′) + |q − q′|` of the previous one, which prunes most of the tree at once; generic crates
//! (parry3d, rstar) have no such entry point and are heavy dependencies. A brute-force scan is the test oracle.
//!
//! Layout: the tree is built over clusters of four consecutive triangles (meshers emit neighbouring triangles
//! together, so a cluster is compact: one quad of the smooth surface, two voxel faces), split at the middle of the
//! cluster centres' extent along its widest axis (at the median when that would leave less than a quarter on one
//! side), up to four clusters (16 triangles) per leaf; the binary tree is then collapsed into nodes of four
//! children whose boxes are tested in one branch-free loop. Besides its box, a leaf keeps a flat cylinder (patch
//! plane, thickness and radius) holding its triangles, and each triangle a disk (float32, relative to the leaf's
//! centre); both give lower bounds far tighter than a box for the tilted, nearly planar patches of a surface, so
//! few leaves and fewer triangles reach the exact test. The index keeps the mesh's vertices renumbered in leaf
//! order, so the corners of a leaf's triangles lie together in memory.
//!
//! Determinism: the distance of a point is the minimum, over the triangles that can be closest, of the same
//! per-triangle computation; pruning keeps a safety margin (relative, plus an absolute slack scaled to the mesh's
//! coordinates, plus a bound on the float32 disks' rounding) so the minimising triangle is always evaluated. Hence
//! the result does not depend on the visiting order, the warm start, or how queries are split across threads.

use crate::mesh::{Mesh, cross, dot, sub, unit};

/// A BVH over the triangles of a mesh, for exact point-to-mesh distances.
#[derive(Debug, Clone)]
pub struct DistanceIndex {
    /// The tree, four children per node; node 0 is the root (none for an empty mesh).
    nodes: Vec<Node4>,
    /// Per leaf, in leaf order: its triangles and its patch.
    leaves: Vec<Leaf>,
    patches: Vec<Patch>,
    /// Per triangle, in leaf order: its bounding disk and its corners (indices into `vertices`).
    disks: Disks,
    corners: Vec<[u32; 3]>,
    vertices: Vec<[f64; 3]>,
    /// Absolute pruning slack (mm²), far above the rounding of the bounds at the mesh's coordinates.
    slack: f64,
}

/// A node of the binary tree the build makes (then collapsed two levels at a time into [`Node4`]).
#[derive(Debug, Clone, Copy)]
struct Node {
    min: [f64; 3],
    max: [f64; 3],
    /// Leaf: first triangle. Inner: index of the first child (the second follows it).
    start: u32,
    /// Leaf: triangle count (> 0). Inner: 0.
    count: u32,
}

/// A node of the searched tree: the boxes of up to four children, one array per coordinate so that the four box
/// distances are computed in one branch-free loop. A missing child has an empty box (+inf min, −inf max), which
/// is infinitely far.
#[derive(Debug, Clone, Copy)]
struct Node4 {
    min: [[f64; 4]; 3],
    max: [[f64; 4]; 3],
    /// Inner child: index of its node. Leaf child: `LEAF | leaf index`.
    child: [u32; 4],
}

const LEAF: u32 = 1 << 31;

/// An axis-aligned box, its lowest and highest corner.
type Box3 = ([f64; 3], [f64; 3]);

/// A leaf's triangles (a range of the leaf order).
#[derive(Debug, Clone, Copy)]
struct Leaf {
    start: u32,
    count: u32,
}

/// Every point of a leaf's triangles lies within `w` of the plane through `c` with unit normal `n` and within
/// `r` of `c` along that plane, so a point at height `h` and lateral distance `ρ` is at least
/// `sqrt(max(|h| − w, 0)² + max(ρ − r, 0)²)` away. `w` is +inf (no plane) when the triangles face too many ways.
///
/// `c` is also the origin of the leaf's float32 disks ([`Disks`]): `spread` bounds the distance from `c` to each
/// disk's centre, and `tilt` the distance of each triangle's corners from its disk's plane.
#[derive(Debug, Clone, Copy)]
struct Patch {
    n: [f64; 3],
    c: [f64; 3],
    w: f64,
    r: f64,
    spread: f64,
    tilt: f64,
}

/// Per triangle, in float32: its centroid relative to its leaf's patch centre, its unit normal (zero when
/// degenerate) and the radius of the disk around that centre, perpendicular to that normal, that holds it (computed
/// from the stored float32 values, rounded up). With `d = p − centre`, `h = n·d` and `ρ² = |d|² − h²`, every point
/// of the triangle is at least `sqrt(h² + max(ρ − radius, 0)²)` from `p`: a bound that also rejects the triangles
/// beside the closest one, whose planes lie as near as its own.
///
/// Why float32: half the memory (28 bytes per triangle instead of 56; this is the index's largest array, and the
/// TotalSegmentator pair's peak fell by a sixth). Four bounds per instruction did not make the queries faster: they
/// wait on the descent. Offsets from the leaf's centre keep the values small, so their rounding is tiny;
/// [`Patch::disk_margin`] bounds it, with the rounding of the stored data, and the bounds are compared with the
/// pruning limit plus that margin. A bound then never exceeds the distance by more than the margin, and the
/// distances stay exact (f64 tests decide them).
///
/// Layout: one block per leaf, in leaf order, so a leaf's data is contiguous (the triangles of leaf
/// `start..start + count` fill `data[7·start..7·(start + count)]`); inside a block, one run of `count` values per
/// component (centre x, y, z, normal x, y, z, radius), so that a leaf's bounds are computed in one branch-free
/// (vectorisable) loop.
#[derive(Debug, Clone)]
struct Disks {
    data: Vec<f32>,
}

/// Components per triangle in [`Disks`].
const DISK_FIELDS: usize = 7;

/// Depth of the traversal stack. Each split leaves at least a quarter of the clusters on either side, so the binary
/// tree is at most log_{4/3} of the cluster count deep (48 levels for a million clusters), its four-way form half
/// that, and the stack holds at most three pending children per level: far below.
const STACK: usize = 128;

/// Triangles per cluster (consecutive in the mesh) and clusters per leaf.
const CLUSTER: usize = 4;
const LEAF_CLUSTERS: usize = 4;
/// The most triangles a leaf holds.
const LEAF_MAX: usize = CLUSTER * LEAF_CLUSTERS;

impl DistanceIndex {
    /// Builds the index. An empty mesh gives an index whose every distance is +inf.
    pub fn new(mesh: &Mesh) -> DistanceIndex {
        DistanceIndex::build(mesh.clone())
    }

    /// [`DistanceIndex::new`], keeping the mesh's vertices instead of a copy (for a caller done with the mesh).
    ///
    /// ```
    /// use segauge_mesh::{DistanceIndex, Frame, Mask, voxel_faces};
    /// let mesh = voxel_faces(&Mask::from_fn([1, 1, 1], |_, _, _| true), &Frame::scaled([1.0; 3]));
    /// let index = DistanceIndex::from_mesh(mesh);
    /// assert_eq!(index.distance([0.0, 0.0, 3.0]), 2.5); // the voxel centred at 0 spans [−0.5, 0.5]
    /// ```
    pub fn from_mesh(mesh: Mesh) -> DistanceIndex {
        DistanceIndex::build(mesh)
    }

    /// The index of `mesh`, whose vertices it keeps, renumbered in leaf order.
    fn build(mesh: Mesh) -> DistanceIndex {
        let nt = mesh.triangles.len();
        let clusters = nt.div_ceil(CLUSTER);
        // The tree is built over (centre, cluster) records, 16 bytes each; the centres only guide the splits, so
        // their float32 rounding costs nothing. Each cluster's box is taken here too, in one pass over the
        // triangles in mesh order: the leaves' boxes are unions of them, and reading the corners there, in tree
        // order, missed the cache on most of them.
        let mut boxes: Vec<Box3> = Vec::with_capacity(clusters);
        let mut records: Vec<([f32; 3], u32)> = (0..clusters)
            .map(|c| {
                let tris = cluster_triangles(c, nt);
                let mut sum = [0.0f64; 3];
                let (mut lo, mut hi) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
                for t in tris.clone() {
                    for v in mesh.corners(t) {
                        for r in 0..3 {
                            sum[r] += v[r];
                            lo[r] = min(lo[r], v[r]);
                            hi[r] = max(hi[r], v[r]);
                        }
                    }
                }
                boxes.push((lo, hi));
                let inv = 1.0 / (3.0 * tris.len() as f64);
                (std::array::from_fn(|r| (sum[r] * inv) as f32), c as u32)
            })
            .collect();
        // Enough for leaves of two clusters or more (the usual case; a leaf of one only grows the vector).
        let mut binary = Vec::with_capacity(clusters.max(1));
        let mut order: Vec<u32> = Vec::with_capacity(nt);
        if clusters > 0 {
            binary.push(Node { min: [0.0; 3], max: [0.0; 3], start: 0, count: 0 });
            build(&mut binary, 0, &mut records, &mut order, &boxes, nt);
            drop(boxes);
        }
        let mut nodes = Vec::with_capacity(binary.len() / 3 + 1);
        let mut leaves = Vec::with_capacity(binary.len() / 2 + 1);
        if !binary.is_empty() {
            collapse(&binary, 0, &mut nodes, &mut leaves);
        }
        let Mesh { mut vertices, triangles } = mesh;
        let scale = 1.0 + vertices.iter().flatten().fold(0.0f64, |m, &x| max(m, x.abs()));
        let mut corners: Vec<[u32; 3]> = order.iter().map(|&t| triangles[t as usize]).collect();
        drop((order, triangles));
        renumber(&mut vertices, &mut corners);
        let vertices = vertices;
        let mut disks = Disks { data: vec![0.0; DISK_FIELDS * nt] };
        let mut scratch = Vec::with_capacity(LEAF_MAX);
        let patches: Vec<Patch> = leaves
            .iter()
            .map(|n| {
                let range = n.start as usize..(n.start + n.count) as usize;
                disks.fill(range.clone(), &corners[range], &vertices, scale, &mut scratch)
            })
            .collect();
        DistanceIndex {
            nodes,
            leaves,
            patches,
            disks,
            corners,
            vertices,
            slack: (1e-10 * scale) * (1e-10 * scale),
        }
    }

    /// Distance from `p` to the mesh (+inf for an empty mesh).
    pub fn distance(&self, p: [f64; 3]) -> f64 {
        self.distance_from_hint(p, None, &mut [(0, 0.0); STACK]).0
    }

    #[inline]
    fn triangle_dist2(&self, p: [f64; 3], t: usize) -> f64 {
        point_triangle_dist2(p, self.corners[t].map(|i| self.vertices[i as usize]))
    }

    /// Distance from `p` and the (leaf-order) index of a closest triangle, starting from the exact distance to
    /// the `hint` triangle (typically the closest triangle of the previous, nearby query): that bound is nearly
    /// tight, so the traversal only visits the few boxes inside the ball it defines.
    ///
    /// `stack` is scratch space, passed in so that a run of queries sets it up once (zeroing it per query cost
    /// more than a tenth of the query).
    fn distance_from_hint(
        &self,
        p: [f64; 3],
        hint: Option<u32>,
        stack: &mut [(u32, f64); STACK],
    ) -> (f64, u32) {
        if self.nodes.is_empty() {
            return (f64::INFINITY, 0);
        }
        let (mut best, mut best_tri) = (f64::INFINITY, 0u32);
        if let Some(h) = hint {
            best = self.triangle_dist2(p, h as usize);
            best_tri = h;
        }
        // Bounds are compared with the best squared distance plus a margin, so that rounding never prunes the
        // minimising triangle.
        let reach = |best: f64| best * (1.0 + 1e-9) + self.slack;
        let mut limit = reach(best);
        // Depth-first, nearest child first; each stacked child carries its squared box distance, computed once
        // when its parent was opened.
        let mut top = 0usize;
        let mut at = 0u32;
        'visit: loop {
            let node = &self.nodes[at as usize];
            let mut d = [0.0f64; 4];
            for (c, d) in d.iter_mut().enumerate() {
                for r in 0..3 {
                    // Branch-free: at most one of the two differences is positive.
                    let v = max(max(node.min[r][c] - p[r], p[r] - node.max[r][c]), 0.0);
                    *d += v * v;
                }
            }
            // The children within reach, pushed without branching on which they are (a box test's outcome is
            // no pattern a predictor learns): the nearest last, so that it is visited first, the others in their
            // order, mostly pruned by then.
            if top + 4 > stack.len() {
                // Depth is bounded by the balanced splits (see `STACK`), far below the stack.
                return (self.brute_force(p), best_tri);
            }
            let mut m = 0;
            for c in 1..4 {
                m = if d[c] < d[m] { c } else { m };
            }
            for c in 0..4 {
                stack[top] = (node.child[c], d[c]);
                top += usize::from((d[c] <= limit) & (c != m));
            }
            stack[top] = (node.child[m], d[m]);
            top += usize::from(d[m] <= limit);
            while top > 0 {
                top -= 1;
                let (child, d2) = stack[top];
                if d2 > limit {
                    continue;
                }
                if child & LEAF == 0 {
                    at = child;
                    continue 'visit;
                }
                let leaf = (child & !LEAF) as usize;
                let patch = &self.patches[leaf];
                let q = sub(p, patch.c);
                if patch.dist2(q) > limit {
                    continue;
                }
                let Leaf { start, count } = self.leaves[leaf];
                let (s, e) = (start as usize, (start + count) as usize);
                let mut bounds = [0.0; LEAF_MAX];
                let bounds = &mut bounds[..e - s];
                self.disks.bounds(s..e, q.map(|x| x as f32), bounds);
                // The float32 bounds may exceed a distance by up to the margin: they are compared with the limit
                // plus the margin, rounded up to a float32.
                let margin = patch.disk_margin(q);
                let mut limit32 = f32_above(limit + margin);
                for (i, &b) in bounds.iter().enumerate() {
                    if b > limit32 {
                        continue;
                    }
                    let t = (s + i) as u32;
                    let d2 = self.triangle_dist2(p, t as usize);
                    if d2 < best || (d2 == best && t < best_tri) {
                        best = d2;
                        best_tri = t;
                        limit = reach(best);
                        limit32 = f32_above(limit + margin);
                    }
                }
            }
            return (best.sqrt(), best_tri);
        }
    }

    fn brute_force(&self, p: [f64; 3]) -> f64 {
        (0..self.corners.len()).map(|t| self.triangle_dist2(p, t)).fold(f64::INFINITY, f64::min).sqrt()
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
            let mut stack = [(0, 0.0); STACK];
            for &i in chunk {
                let (d, t) = self.distance_from_hint(points[i as usize], hint, &mut stack);
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

/// The rounding allowance of the float32 disk bounds, relative to the square of their operands' size: 2⁻¹⁷, that
/// is 128 units of float32 rounding (2⁻²⁴), where a count of every rounding step of [`Disks::bounds`] (the offset's
/// conversion and subtraction, the dot products, squares and differences, the square root, and using the stored
/// normal, unit only to float32 rounding, as if unit) comes to about 55.
const DISK_ROUNDING: f64 = 1.0 / (1u64 << 17) as f64;

impl Patch {
    /// A lower bound of the squared distance to the leaf's triangles from the point at `q` from the centre `c`.
    #[inline]
    fn dist2(&self, q: [f64; 3]) -> f64 {
        let h = dot(self.n, q);
        cylinder_gap2(h, dot(q, q) - h * h, self.w, self.r)
    }

    /// How far a float32 disk bound of this leaf ([`Disks::bounds`]) may exceed the squared distance from the point
    /// at `q` from the centre to that disk's triangle. With `Q = |q| + spread` (no operand of the bound is larger)
    /// and `tilt` the corners' distance from their disk's plane, the bound is `h² + max(ρ − r, 0)²` computed with
    /// relative rounding of the order of 2⁻²⁴·Q², and a slab of half-thickness `tilt` around the plane lowers its
    /// first term by at most `2·|h|·tilt ≤ 2·Q·tilt`.
    #[inline]
    fn disk_margin(&self, q: [f64; 3]) -> f64 {
        let big = (dot(q, q).sqrt() + self.spread) * (1.0 + 1e-9);
        big * (2.0 * self.tilt + DISK_ROUNDING * big)
    }
}

/// The squared distance to a cylinder of half-thickness `w` and radius `r` (a disk when `w` = 0) from a point at
/// height `h` above its mid-plane and squared lateral distance `rho2` from its axis (rounding may make `rho2`
/// slightly negative when it is near 0).
#[inline]
fn cylinder_gap2(h: f64, rho2: f64, w: f64, r: f64) -> f64 {
    let a = max(h.abs() - w, 0.0);
    let b = max(max(rho2, 0.0).sqrt() - r, 0.0);
    a * a + b * b
}

impl Disks {
    /// The block of leaf `range`: its components, one slice of `range.len()` values each.
    #[inline]
    fn block(&self, range: std::ops::Range<usize>) -> [&[f32]; DISK_FIELDS] {
        let count = range.len();
        let block = &self.data[DISK_FIELDS * range.start..DISK_FIELDS * range.end];
        std::array::from_fn(|k| &block[k * count..(k + 1) * count])
    }

    /// Writes the block of the leaf of triangles `range` (corners `tris`) and returns the leaf's patch. `scratch`
    /// is reused from leaf to leaf (a fresh array per leaf cost a fill of zeros each time).
    fn fill(
        &mut self,
        range: std::ops::Range<usize>,
        tris: &[[u32; 3]],
        vertices: &[[f64; 3]],
        scale: f64,
        scratch: &mut Vec<([f64; 3], [f64; 3])>,
    ) -> Patch {
        let count = range.len();
        // Each triangle's centroid and unit normal in f64, then the patch, whose centre the disks are stored from.
        scratch.clear();
        scratch.extend(tris.iter().map(|t| {
            let [a, b, c] = t.map(|v| vertices[v as usize]);
            // Any centre gives a valid disk (the radius is measured from it), so a product stands in for the
            // division.
            (std::array::from_fn(|r| (a[r] + b[r] + c[r]) * (1.0 / 3.0)), unit(cross(sub(b, a), sub(c, a))))
        }));
        // The patch: its centre is the mean centroid, its normal the normalised sum of the unit normals. Unit
        // normals summing to less than half their count face too many ways for one plane to bound them.
        let n: [f64; 3] = std::array::from_fn(|r| scratch.iter().map(|v| v.1[r]).sum());
        let c: [f64; 3] = std::array::from_fn(|r| scratch.iter().map(|v| v.0[r]).sum::<f64>() / count as f64);
        let len = dot(n, n).sqrt();
        let flat = len >= 0.5 * count as f64;
        let n = if flat { n.map(|v| v / len) } else { [0.0; 3] };
        let block = &mut self.data[DISK_FIELDS * range.start..DISK_FIELDS * range.end];
        // One pass over the corners measures the patch (thickness and radius) and each disk.
        let (mut patch_w, mut patch_r2) = (0.0f64, 0.0f64);
        let (mut spread2, mut tilt) = (0.0f64, 0.0f64);
        for (i, t) in tris.iter().enumerate() {
            let (centre, normal) = scratch[i];
            let offset: [f32; 3] = std::array::from_fn(|r| (centre[r] - c[r]) as f32);
            let normal = normal.map(|x| x as f32);
            // The disk as stored: centre c + offset, unit normal along the float32 normal. Its radius and the
            // corners' distance from its plane are measured from those values, so it holds its triangle exactly
            // (to f64 rounding, which `widen` covers).
            let o = offset.map(f64::from);
            let axis = unit(normal.map(f64::from));
            let (mut w, mut r2) = (0.0f64, 0.0f64);
            for v in t.map(|v| vertices[v as usize]) {
                let q = sub(v, c);
                let h = dot(n, q);
                patch_w = max(patch_w, h.abs());
                patch_r2 = max(patch_r2, max(dot(q, q) - h * h, 0.0));
                let d = sub(q, o);
                let h = dot(axis, d);
                w = max(w, h.abs());
                r2 = max(r2, max(dot(d, d) - h * h, 0.0));
            }
            for r in 0..3 {
                block[r * count + i] = offset[r];
                block[(3 + r) * count + i] = normal[r];
            }
            block[6 * count + i] = f32_above(widen(r2.sqrt(), scale));
            spread2 = max(spread2, dot(o, o));
            tilt = max(tilt, w);
        }
        // `widen` is increasing: widening the largest is the largest widened.
        Patch {
            n,
            c,
            w: if flat { widen(patch_w, scale) } else { f64::INFINITY },
            r: widen(patch_r2.sqrt(), scale),
            spread: widen(spread2.sqrt(), scale),
            tilt: widen(tilt, scale),
        }
    }

    /// The lower bounds, in float32, of the squared distances to the triangles of the leaf `range` from the point
    /// at `q` from the leaf's centre, into `out`; each may exceed its distance by [`Patch::disk_margin`]. (ρ² only
    /// loses precision when ρ is small, where the bound falls back to h².)
    #[inline]
    fn bounds(&self, range: std::ops::Range<usize>, q: [f32; 3], out: &mut [f32]) {
        let [cx, cy, cz, nx, ny, nz, radius] = self.block(range);
        for i in 0..out.len() {
            let (dx, dy, dz) = (q[0] - cx[i], q[1] - cy[i], q[2] - cz[i]);
            let h = nx[i] * dx + ny[i] * dy + nz[i] * dz;
            // The disk's cylinder gap with no thickness: max(|h| − 0, 0)² is h².
            let h2 = h * h;
            let b = max(max((dx * dx + dy * dy + dz * dz) - h2, 0.0).sqrt() - radius[i], 0.0);
            out[i] = h2 + b * b;
        }
    }
}

/// Renumbers `vertices` in order of first use by `corners` (the triangles in leaf order), unused ones last, in
/// place. A leaf's triangles are neighbours in space but not in the mesher's (raster) order: their corners lay
/// a slice apart in memory, and each exact test missed the cache on them. Only indices change, no coordinate.
fn renumber(vertices: &mut [[f64; 3]], corners: &mut [[u32; 3]]) {
    const UNSET: u32 = u32::MAX;
    let mut to = vec![UNSET; vertices.len()];
    let mut next = 0u32;
    for v in corners.iter_mut().flatten() {
        let slot = &mut to[*v as usize];
        if *slot == UNSET {
            *slot = next;
            next += 1;
        }
        *v = *slot;
    }
    for slot in to.iter_mut().filter(|s| **s == UNSET) {
        *slot = next;
        next += 1;
    }
    // Apply the permutation in place (`to[i]`: where the vertex now at `i` belongs), one cycle at a time.
    for i in 0..vertices.len() {
        while to[i] as usize != i {
            let j = to[i] as usize;
            vertices.swap(i, j);
            to.swap(i, j);
        }
    }
}

/// The triangles of cluster `c` of a mesh of `n` triangles.
fn cluster_triangles(c: usize, n: usize) -> std::ops::Range<usize> {
    c * CLUSTER..((c + 1) * CLUSTER).min(n)
}

/// `x` rounded to a float32 no smaller than it. The f64 step moves `x` up by more than float32 rounding can move
/// it back down (half an ulp, 2⁻²⁴ relative, or half the subnormal step), so the nearest float32 of the result
/// stays at or above `x`; beyond float32's range the lowest float32 is above `x` (and +inf above any `x`).
fn f32_above(x: f64) -> f32 {
    ((x + (x.abs() * (1.0 / (1u64 << 20) as f64) + f64::from(f32::MIN_POSITIVE))) as f32).max(f32::MIN)
}

/// Widens a bound computed from coordinates of magnitude up to `scale` against its rounding.
fn widen(x: f64, scale: f64) -> f64 {
    x * (1.0 + 1e-9) + 1e-9 * scale
}

/// Indices of `points` sorted by the Morton code of their position quantised on a grid of 2^10 cells along the
/// longest extent of their bounding box (cubic cells, so a flat or elongated set is split along its long axes
/// first), ties by index: a stable least-significant-digit radix sort, linear in the count.
fn morton_order(points: &[[f64; 3]]) -> Vec<u32> {
    let (mut lo, mut hi) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
    for p in points {
        for r in 0..3 {
            lo[r] = lo[r].min(p[r]);
            hi[r] = hi[r].max(p[r]);
        }
    }
    let extent = (0..3).map(|r| hi[r] - lo[r]).fold(0.0f64, f64::max);
    let scale = if extent > 0.0 { 1023.0 / extent } else { 0.0 };
    let spread = |v: u32| -> u32 {
        // Spread 10 bits to every third bit.
        let mut x = v & 0x3ff;
        x = (x | (x << 16)) & 0x030000ff;
        x = (x | (x << 8)) & 0x0300f00f;
        x = (x | (x << 4)) & 0x030c30c3;
        (x | (x << 2)) & 0x09249249
    };
    let codes: Vec<u32> = points
        .iter()
        .map(|p| {
            let q: [u32; 3] = std::array::from_fn(|r| ((p[r] - lo[r]) * scale) as u32);
            spread(q[0]) | (spread(q[1]) << 1) | (spread(q[2]) << 2)
        })
        .collect();
    let mut order: Vec<u32> = (0..points.len() as u32).collect();
    let mut next = vec![0u32; points.len()];
    for shift in [0, 8, 16, 24] {
        let mut count = [0usize; 257];
        for &i in &order {
            count[((codes[i as usize] >> shift) & 0xff) as usize + 1] += 1;
        }
        if count.contains(&points.len()) {
            continue; // one digit for all: this pass would not move anything
        }
        for d in 0..256 {
            count[d + 1] += count[d];
        }
        for &i in &order {
            let d = ((codes[i as usize] >> shift) & 0xff) as usize;
            next[count[d]] = i;
            count[d] += 1;
        }
        std::mem::swap(&mut order, &mut next);
    }
    order
}

/// Builds the subtree of `records` at node `at` and returns its box: split along the widest extent of the centres
/// at its middle, or at the median centre when the middle leaves less than a quarter of the clusters on one side;
/// a leaf's triangles are appended to `order` (clusters in mesh order); boxes are exact, computed bottom-up.
///
/// The middle split is one pass, where a median needs a selection; on surfaces it also gives boxes that overlap
/// less, and queries visit fewer of them (TotalSegmentator pair 3 % faster in all). Any tree gives the same
/// distances, so the choice only changes speed.
fn build(
    nodes: &mut Vec<Node>,
    at: usize,
    records: &mut [([f32; 3], u32)],
    order: &mut Vec<u32>,
    boxes: &[Box3],
    triangles: usize,
) -> Box3 {
    if records.len() <= LEAF_CLUSTERS {
        let start = order.len();
        let (mut lo, mut hi) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
        records.sort_unstable_by_key(|r| r.1);
        for &(_, c) in records.iter() {
            order.extend(cluster_triangles(c as usize, triangles).map(|t| t as u32));
            let (clo, chi) = boxes[c as usize];
            for r in 0..3 {
                lo[r] = min(lo[r], clo[r]);
                hi[r] = max(hi[r], chi[r]);
            }
        }
        let count = (order.len() - start) as u32;
        nodes[at] = Node { min: lo, max: hi, start: start as u32, count };
        return (lo, hi);
    }
    let (mut cmin, mut cmax) = ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]);
    for (c, _) in records.iter() {
        for r in 0..3 {
            cmin[r] = min(cmin[r], c[r]);
            cmax[r] = max(cmax[r], c[r]);
        }
    }
    let axis = (0..3).fold(0, |best, r| if cmax[r] - cmin[r] > cmax[best] - cmin[best] { r } else { best });
    let n = records.len();
    // Centres below the middle to the front, without a branch on the comparison (which no predictor guesses):
    // `records[..i]` are below, `records[i..j]` not. Each side is a set fixed by the cut, and every later step
    // depends on sets only (leaves sort their clusters), so the tree does not depend on this pass's order.
    let cut = 0.5 * (cmin[axis] + cmax[axis]);
    let mut i = 0;
    for j in 0..n {
        let below = records[j].0[axis] < cut;
        records.swap(i, j);
        i += usize::from(below);
    }
    let mut mid = i;
    if mid < n / 4 || mid > n - n / 4 {
        // Lopsided (a dense part and a few outliers): the median keeps the depth bounded. Ties by cluster id.
        mid = n / 2;
        records.select_nth_unstable_by(mid, |x, y| x.0[axis].total_cmp(&y.0[axis]).then(x.1.cmp(&y.1)));
    }
    let first = nodes.len();
    nodes.push(Node { min: [0.0; 3], max: [0.0; 3], start: 0, count: 0 });
    nodes.push(Node { min: [0.0; 3], max: [0.0; 3], start: 0, count: 0 });
    let (left, right) = records.split_at_mut(mid);
    let (lmin, lmax) = build(nodes, first, left, order, boxes, triangles);
    let (rmin, rmax) = build(nodes, first + 1, right, order, boxes, triangles);
    let lo = std::array::from_fn(|r| min(lmin[r], rmin[r]));
    let hi = std::array::from_fn(|r| max(lmax[r], rmax[r]));
    nodes[at] = Node { min: lo, max: hi, start: first as u32, count: 0 };
    (lo, hi)
}

/// The smaller of two numbers in one comparison. Every coordinate here is finite, so this is `f64::min` without
/// its NaN test, which costs extra instructions in the box tests and builds; a signed zero may come out with the
/// other sign, which no use here (squares, sums with non-zero terms) can see.
#[inline]
fn min<T: PartialOrd>(a: T, b: T) -> T {
    if b < a { b } else { a }
}

/// The larger of two numbers in one comparison (see [`min`]).
#[inline]
fn max<T: PartialOrd>(a: T, b: T) -> T {
    if b > a { b } else { a }
}

/// Collapses binary node `b` and its children into a node of four (its grandchildren, or a child itself when that
/// is a leaf; a leaf root becomes the single child of the root); returns its index. Leaves are numbered in
/// order of the triangles they hold.
fn collapse(binary: &[Node], b: usize, nodes: &mut Vec<Node4>, leaves: &mut Vec<Leaf>) -> u32 {
    let node = &binary[b];
    let mut kids = [0u32; 4];
    let mut n = 0;
    if node.count > 0 {
        kids[0] = b as u32;
        n = 1;
    } else {
        for c in [node.start, node.start + 1] {
            let child = &binary[c as usize];
            if child.count > 0 {
                kids[n] = c;
                n += 1;
            } else {
                kids[n] = child.start;
                kids[n + 1] = child.start + 1;
                n += 2;
            }
        }
    }
    let at = nodes.len();
    nodes.push(Node4 { min: [[f64::INFINITY; 4]; 3], max: [[f64::NEG_INFINITY; 4]; 3], child: [0; 4] });
    for (i, &k) in kids[..n].iter().enumerate() {
        let kid = &binary[k as usize];
        let child = if kid.count > 0 {
            leaves.push(Leaf { start: kid.start, count: kid.count });
            LEAF | (leaves.len() - 1) as u32
        } else {
            collapse(binary, k as usize, nodes, leaves)
        };
        let node = &mut nodes[at];
        for r in 0..3 {
            node.min[r][i] = kid.min[r];
            node.max[r][i] = kid.max[r];
        }
        node.child[i] = child;
    }
    at as u32
}

/// Squared distance from `p` to triangle `abc`: Ericson's Voronoi-region classification; in the face region the
/// distance to the plane, `(n·(p − a))² / (n·n)`, which is exactly 0 for a point on an axis-aligned face.
#[inline]
fn point_triangle_dist2(p: [f64; 3], [a, b, c]: [[f64; 3]; 3]) -> f64 {
    match closest_feature(p, a, b, c) {
        Feature::Point(q) => {
            let v = sub(p, q);
            dot(v, v)
        }
        Feature::Face => {
            let n = cross(sub(b, a), sub(c, a));
            let h = dot(n, sub(p, a));
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
    fn renumbering_keeps_every_corner_and_orders_by_first_use() {
        // Six vertices (four used, two not); the triangles name them out of order.
        let mut vertices: Vec<[f64; 3]> = (0..6).map(|i| [i as f64, 0.0, 0.0]).collect();
        let before = [[5, 2, 0], [0, 3, 5]];
        let mut corners = before;
        renumber(&mut vertices, &mut corners);
        assert_eq!(corners, [[0, 1, 2], [2, 3, 0]]);
        for (new, old) in corners.iter().flatten().zip(before.iter().flatten()) {
            assert_eq!(vertices[*new as usize], [*old as f64, 0.0, 0.0]);
        }
        // The unused vertices 1 and 4 follow, in their old order.
        assert_eq!(vertices[4..], [[1.0, 0.0, 0.0], [4.0, 0.0, 0.0]]);
    }

    #[test]
    fn float32_rounding_upwards() {
        let mut rng = segauge_tests::SplitMix(11);
        let mut values: Vec<f64> = (0..20_000).map(|_| (rng.next_f64() - 0.5) * 1000.0).collect();
        values.extend([0.0, -0.0, 1e-300, -1e-300, 0.1, -0.1, 511.999_999_9, f64::INFINITY]);
        values.extend([
            f64::from(f32::MAX) * 2.0,
            -f64::from(f32::MAX) * 2.0,
            f64::from(f32::MIN_POSITIVE) * 0.3,
        ]);
        for x in values {
            let up = f64::from(f32_above(x));
            assert!(up >= x, "{x}: {up}");
            // Only a few float32 ulps above (within float32's range).
            if x.abs() < 1e30 {
                assert!(up - x <= x.abs() * 3e-6 + 1e-37, "{x}: {up}");
            }
        }
    }

    #[test]
    fn float32_disk_bounds_stay_below_the_distance_by_their_margin() {
        // Triangle soups far from the origin: tiny, needle and degenerate triangles among ordinary ones, points on,
        // near and far from them. Every disk bound, less its leaf's margin, must stay at or below the exact
        // squared distance (a margin too small would let a query prune its closest triangle).
        let mut rng = segauge_tests::SplitMix(23);
        for (size, origin) in
            [(1.0, [0.0; 3]), (0.7, [-312.5, 207.25, 1033.0]), (40.0, [900.0, -950.0, 40.0])]
        {
            let mut vertices = Vec::new();
            let mut triangles = Vec::new();
            for t in 0..600u32 {
                let base: [f64; 3] = std::array::from_fn(|r| origin[r] + rng.next_f64() * 20.0 * size);
                let spread = match t % 6 {
                    0 => 1e-6,
                    1 => 0.0,
                    _ => size,
                };
                let a = base;
                let b: [f64; 3] = std::array::from_fn(|r| base[r] + (rng.next_f64() - 0.5) * spread);
                // Every seventh triangle collinear: its normal is zero and its disk a ball.
                let c: [f64; 3] = if t % 7 == 0 {
                    std::array::from_fn(|r| base[r] + 2.0 * (b[r] - base[r]))
                } else {
                    std::array::from_fn(|r| base[r] + (rng.next_f64() - 0.5) * spread)
                };
                vertices.extend([a, b, c]);
                triangles.push([3 * t, 3 * t + 1, 3 * t + 2]);
            }
            let index = DistanceIndex::from_mesh(Mesh { vertices, triangles });
            let mut points: Vec<[f64; 3]> = index.vertices.clone();
            for _ in 0..400 {
                let scale = [0.01, 1.0, 30.0][rng.next_u64() as usize % 3] * size;
                let v = index.vertices[rng.next_u64() as usize % index.vertices.len()];
                points.push(std::array::from_fn(|r| v[r] + (rng.next_f64() - 0.5) * scale));
            }
            let (mut tight, mut positive) = (0usize, 0usize);
            for (leaf, patch) in index.leaves.iter().zip(&index.patches) {
                let range = leaf.start as usize..(leaf.start + leaf.count) as usize;
                for &p in &points {
                    let q = sub(p, patch.c);
                    let mut bounds = [0.0f32; LEAF_MAX];
                    index.disks.bounds(range.clone(), q.map(|x| x as f32), &mut bounds[..range.len()]);
                    let margin = patch.disk_margin(q);
                    for (i, t) in range.clone().enumerate() {
                        let exact = index.triangle_dist2(p, t);
                        let b = f64::from(bounds[i]);
                        assert!(
                            b - margin <= exact,
                            "triangle {t} at {p:?}: bound {b}, margin {margin}, {exact}"
                        );
                        tight += usize::from(b > 0.5 * exact && exact > 0.0);
                        positive += usize::from(exact > 0.0);
                    }
                }
            }
            // The bounds still bind: most of them (99.97 % here) are more than half the distance they stand for.
            assert!(2 * tight > positive, "{tight} of {positive}");
        }
    }

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

    #[cfg(feature = "parallel")]
    #[test]
    fn many_chunks_on_any_thread_count_equal_single_queries() {
        // More queries than one chunk: warm starts differ with the split, results must not.
        let dims = [60, 52, 26];
        let mask = Mask::from_fn(dims, |i, j, k| {
            let (x, y, z) = (i as f64 - 29.2, j as f64 - 25.6, (k as f64 - 12.4) * 1.9);
            x * x / 700.0 + y * y / 560.0 + z * z / 480.0 < 1.0
        });
        let frame = Frame::scaled([0.8, 0.8, 1.5]);
        let index = DistanceIndex::new(&crate::surface_nets(&mask, &frame));
        let shifted =
            Mask::from_fn(dims, |i, j, k| i > 0 && mask.get(i as isize - 1, j as isize, k as isize + 1));
        let points = voxel_faces(&shifted, &frame).centroids();
        assert!(points.len() > 2 * 4096, "{}", points.len());
        let single: Vec<f64> = points.iter().map(|&p| index.distance(p)).collect();
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let batch = pool.install(|| index.distances(&points));
            assert!(batch.iter().zip(&single).all(|(a, b)| a.to_bits() == b.to_bits()), "{threads} threads");
        }
    }

    #[test]
    fn lopsided_meshes_equal_brute_force() {
        // A dense block and a few voxels far out along x: middle splits would leave almost everything on one
        // side, so the build falls back to medians; distances must not care.
        let mut rng = segauge_tests::SplitMix(5);
        let mask =
            Mask::from_fn([120, 8, 8], |i, j, k| (i < 12 && j > 1 && k > 1) || (i % 37 == 36 && j == k));
        let mesh = voxel_faces(&mask, &Frame::scaled([0.9, 0.7, 1.1]));
        let index = DistanceIndex::new(&mesh);
        let points: Vec<[f64; 3]> = (0..2000)
            .map(|_| [rng.next_f64() * 120.0 - 5.0, rng.next_f64() * 9.0 - 2.0, rng.next_f64() * 11.0 - 2.0])
            .collect();
        for (p, d) in points.iter().zip(index.distances(&points)) {
            assert_eq!(d, index.brute_force(*p), "at {p:?}");
        }
    }

    #[test]
    fn tiny_meshes_equal_brute_force() {
        // One leaf as the root (a single voxel: 12 triangles), and a few leaves under one node.
        let mut rng = segauge_tests::SplitMix(3);
        for dims in [[1, 1, 1], [2, 1, 1], [3, 2, 1], [3, 3, 2]] {
            let mesh = voxel_faces(&Mask::from_fn(dims, |_, _, _| true), &Frame::scaled([0.5, 1.0, 2.0]));
            let index = DistanceIndex::new(&mesh);
            let points: Vec<[f64; 3]> =
                (0..200).map(|_| [0, 1, 2].map(|_| rng.next_f64() * 8.0 - 3.0)).collect();
            for (p, d) in points.iter().zip(index.distances(&points)) {
                assert_eq!(d, index.brute_force(*p), "{dims:?} at {p:?}");
            }
        }
    }

    #[test]
    fn points_on_and_near_a_curved_mesh_equal_brute_force() {
        // Smooth (tilted, curved) triangles far from the origin, queried at their vertices, centroids and edge
        // midpoints (distances 0 or at rounding level, where only the absolute slack keeps the minimiser) and
        // just off them.
        let mask = Mask::from_fn([16, 15, 12], |i, j, k| {
            let (x, y, z) = (i as f64 - 7.3, j as f64 - 6.8, (k as f64 - 5.5) * 1.7);
            x * x / 30.0 + y * y / 20.0 + z * z / 25.0 < 1.0
        });
        let frame = Frame { origin: [-312.5, 207.25, 1033.0], ..Frame::scaled([0.8, 0.75, 1.3]) };
        let mesh = crate::surface_nets(&mask, &frame);
        let index = DistanceIndex::new(&mesh);
        let mut points = mesh.vertices.clone();
        points.extend(mesh.centroids());
        for t in 0..mesh.triangles.len() {
            let [a, b, _] = mesh.corners(t);
            let mid: [f64; 3] = std::array::from_fn(|r| 0.5 * (a[r] + b[r]));
            points.push(mid);
            points.push([mid[0] + 1e-7, mid[1] - 3e-8, mid[2] + 0.25]);
        }
        for (p, d) in points.iter().zip(index.distances(&points)) {
            assert_eq!(d, index.brute_force(*p), "at {p:?}");
        }
    }
}
