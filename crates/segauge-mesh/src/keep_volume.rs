//! Volume-preserving smoothing: after every smoothing iteration, each closed surface component is moved along its
//! vertex normals by the one distance that gives back the volume it enclosed before smoothing (the mask's voxel
//! volume).
//!
//! Laplacian smoothing shrinks a surface in proportion to its curvature: on a large organ the loss is a few
//! hundredths of a voxel, but a component a few voxels across collapses (one voxel's eight points contract by 2/3 per
//! iteration, to 0.2 % of their size after VTK's 16). Its area then vanishes from the area-weighted metrics, and a
//! distant false fragment no longer counts in HD95. The voxel count is the best volume estimate a mask gives (the
//! centre rule is unbiased), so each component keeps its volume from the mask while smoothing rounds its shape.
//! Restoring after every iteration (Desbrun et al. 1999 rescale after each step; here an offset along the normals)
//! keeps every step small, so a small component rounds towards a ball of its volume instead of collapsing first
//! and being blown up afterwards.
//!
//! One exception to the voxel volume: a component one slice thick and narrower than the slice is given its own
//! width as thickness ([`one_slice_factor`]; docs/METHODS.md A.6).

use crate::mask::Frame;
use crate::mesh::unit;

/// The closed components of a quad mesh and the volumes they enclose at the start.
pub(crate) struct Volumes {
    /// Quad indices grouped by component (closed components only), in a fixed order.
    members: Vec<u32>,
    /// Component `c` holds `members[ranges[c]..ranges[c + 1]]`.
    ranges: Vec<usize>,
    /// The vertices of each component, `vertex_ranges` as `ranges`.
    vertices: Vec<u32>,
    vertex_ranges: Vec<usize>,
    /// Target signed volume and reference point (a vertex's start position) of each component.
    targets: Vec<(f64, [f64; 3])>,
    /// The largest offset allowed, mm (the smoothing's constraint radius).
    reach: f64,
}

impl Volumes {
    /// Components of `quads` whose every edge is shared by exactly two quads of opposite orientation; the others
    /// (open or non-manifold surfaces) are left alone.
    pub(crate) fn new(start: &[[f64; 3]], quads: &[[u32; 4]], frame: &Frame, reach: f64) -> Volumes {
        let n = start.len();
        let mut parent: Vec<u32> = (0..n as u32).collect();
        fn find(parent: &mut [u32], mut x: u32) -> u32 {
            while parent[x as usize] != x {
                let up = parent[parent[x as usize] as usize];
                parent[x as usize] = up;
                x = up;
            }
            x
        }
        for q in quads {
            let r0 = find(&mut parent, q[0]);
            for &v in &q[1..] {
                let r = find(&mut parent, v);
                if r != r0 {
                    let (lo, hi) = if r < r0 { (r, r0) } else { (r0, r) };
                    parent[hi as usize] = lo;
                }
            }
        }
        let root: Vec<u32> = (0..n as u32).map(|v| find(&mut parent, v)).collect();
        // Each undirected edge, keyed by its smaller vertex: a counting sort into per-vertex buckets (a vertex
        // meets a handful of edges), then each small bucket sorted. Linear in the mesh, where one sort of all
        // edges cost a fifth of SurfaceNets on large organs.
        let mut start_of = vec![0u32; n + 1];
        for q in quads {
            for e in 0..4 {
                start_of[q[e].min(q[(e + 1) % 4]) as usize + 1] += 1;
            }
        }
        for v in 0..n {
            start_of[v + 1] += start_of[v];
        }
        let mut fill = start_of.clone();
        // (other vertex, direction from the smaller to the larger)
        let mut bucket = vec![(0u32, false); 4 * quads.len()];
        for q in quads {
            for e in 0..4 {
                let (a, b) = (q[e], q[(e + 1) % 4]);
                let at = &mut fill[a.min(b) as usize];
                bucket[*at as usize] = (a.max(b), a < b);
                *at += 1;
            }
        }
        let mut open = vec![false; n];
        for v in 0..n {
            let edges = &mut bucket[start_of[v] as usize..start_of[v + 1] as usize];
            edges.sort_unstable();
            let mut i = 0;
            while i < edges.len() {
                let mut j = i + 1;
                while j < edges.len() && edges[j].0 == edges[i].0 {
                    j += 1;
                }
                // Closed and consistently wound: two quads, opposite directions.
                if j - i != 2 || edges[i].1 == edges[i + 1].1 {
                    open[root[v] as usize] = true;
                }
                i = j;
            }
        }
        drop(bucket);
        // The quads of closed components, grouped by component (ascending root), ascending within one: a
        // counting sort by root.
        let closed = |q: &[u32; 4]| !open[root[q[0] as usize] as usize];
        let mut first_of = vec![0u32; n + 1];
        for q in quads.iter().filter(|q| closed(q)) {
            first_of[root[q[0] as usize] as usize + 1] += 1;
        }
        for v in 0..n {
            first_of[v + 1] += first_of[v];
        }
        let mut order = vec![0u32; first_of[n] as usize];
        for (i, q) in quads.iter().enumerate().filter(|(_, q)| closed(q)) {
            let at = &mut first_of[root[q[0] as usize] as usize];
            order[*at as usize] = i as u32;
            *at += 1;
        }
        let mut seen = vec![false; n];
        let mut out = Volumes {
            members: Vec::with_capacity(order.len()),
            ranges: vec![0],
            vertices: Vec::new(),
            vertex_ranges: vec![0],
            targets: Vec::new(),
            reach,
        };
        let mut first = 0;
        while first < order.len() {
            let component = root[quads[order[first] as usize][0] as usize];
            let mut last = first;
            while last < order.len() && root[quads[order[last] as usize][0] as usize] == component {
                last += 1;
            }
            let reference = start[component as usize];
            let mut volume = 0.0;
            let mut verts = Vec::with_capacity(last - first + 2);
            for &q in &order[first..last] {
                let quad = quads[q as usize];
                let p = quad.map(|v| start[v as usize]);
                volume += fan_volume(p, vector_area(p), reference);
                // Each vertex once, in order of first use (every use of the list is per vertex).
                for v in quad {
                    if !std::mem::replace(&mut seen[v as usize], true) {
                        verts.push(v);
                    }
                }
                out.members.push(q);
            }
            let volume = volume * one_slice_factor(&verts, start, frame, volume);
            out.vertices.extend_from_slice(&verts);
            out.vertex_ranges.push(out.vertices.len());
            out.ranges.push(out.members.len());
            out.targets.push((volume, reference));
            first = last;
        }
        out
    }

    /// Moves each closed component of `points` along its area-weighted vertex normals so that it encloses its
    /// start volume again: one Newton step (enough between two small smoothing steps), or, with `exact`, Newton
    /// steps safeguarded by bisection to convergence.
    pub(crate) fn restore(
        &self,
        points: &mut [[f64; 3]],
        quads: &[[u32; 4]],
        normals: &mut Vec<[f64; 3]>,
        exact: bool,
    ) {
        normals.clear();
        normals.resize(points.len(), [0.0; 3]);
        for (c, &(target, reference)) in self.targets.iter().enumerate() {
            let members = &self.members[self.ranges[c]..self.ranges[c + 1]];
            let verts = &self.vertices[self.vertex_ranges[c]..self.vertex_ranges[c + 1]];
            // Area-weighted vertex normals (unit length in the world). The one Newton step also needs the volume
            // error and the area at the current points, which this loop has at hand: `at(0.0)` below would
            // compute the same sums in the same order (its points `x + 0·n` equal `x` except that −0 may become
            // +0, which changes no sum's value and, when every term is zero, only the sign of a zero step that is
            // then not taken), so it is not run a second time.
            let (mut volume, mut area) = (0.0, 0.0);
            for &q in members {
                let quad = quads[q as usize];
                let p = quad.map(|v| points[v as usize]);
                let a = vector_area(p);
                for &v in &quad {
                    let n = &mut normals[v as usize];
                    n[0] += a[0];
                    n[1] += a[1];
                    n[2] += a[2];
                }
                if !exact {
                    volume += fan_volume(p, a, reference);
                    area += (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
                }
            }
            if !exact {
                // The one Newton step is known already: each vertex's normal is made unit and the vertex moved
                // in one pass.
                let f = volume - target;
                let delta = if area > 0.0 { (-f / area).clamp(-self.reach, self.reach) } else { 0.0 };
                if delta != 0.0 {
                    for &v in verts {
                        let (x, m) = (&mut points[v as usize], unit(normals[v as usize]));
                        *x = [x[0] + delta * m[0], x[1] + delta * m[1], x[2] + delta * m[2]];
                    }
                }
                continue;
            }
            for &v in verts {
                normals[v as usize] = unit(normals[v as usize]);
            }
            // Volume error and, as its slope, the area (the exact slope for a smooth surface moved along its
            // normals; on a coarse mesh it is a little larger, so each step undershoots slightly: damped Newton).
            let at = |delta: f64| -> (f64, f64) {
                let (mut volume, mut area) = (0.0, 0.0);
                for &q in members {
                    let p = quads[q as usize].map(|v| {
                        let (x, o) = (points[v as usize], normals[v as usize]);
                        [x[0] + delta * o[0], x[1] + delta * o[1], x[2] + delta * o[2]]
                    });
                    let a = vector_area(p);
                    volume += fan_volume(p, a, reference);
                    area += (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
                }
                (volume - target, area)
            };
            let delta = solve(at, self.reach);
            if delta != 0.0 {
                for &v in verts {
                    let (x, m) = (&mut points[v as usize], normals[v as usize]);
                    *x = [x[0] + delta * m[0], x[1] + delta * m[1], x[2] + delta * m[2]];
                }
            }
        }
    }
}

/// The root of `f` (volume error, with the area as its derivative) in `[-reach, reach]`: Newton steps kept inside
/// a bracket that shrinks by bisection whenever a step would leave it. Without a sign change in that range the
/// nearer bound is taken.
fn solve(f: impl Fn(f64) -> (f64, f64), reach: f64) -> f64 {
    let (f0, a0) = f(0.0);
    if f0 == 0.0 {
        return 0.0;
    }
    // Too little volume: the root lies above 0, else below.
    let (mut lo, mut hi) = if f0 < 0.0 { (0.0, reach) } else { (-reach, 0.0) };
    // The bracket's end at 0 is `f0` (the same call); only the far end is evaluated.
    let (f_lo, f_hi) = if f0 < 0.0 { (f0, f(hi).0) } else { (f(lo).0, f0) };
    if f_lo > 0.0 || f_hi < 0.0 {
        return if f0 < 0.0 { reach } else { -reach };
    }
    let mut x = 0.0;
    let (mut fx, mut dx) = (f0, a0);
    for _ in 0..100 {
        let newton = if dx > 0.0 { x - fx / dx } else { f64::NAN };
        x = if newton > lo && newton < hi { newton } else { 0.5 * (lo + hi) };
        (fx, dx) = f(x);
        if fx == 0.0 {
            break;
        }
        if fx < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        if hi - lo <= 1e-13 * reach || fx.abs() <= 1e-13 * dx.max(f64::MIN_POSITIVE) * reach {
            break;
        }
    }
    x
}

/// The fraction of its voxel volume a component is given when it lies in a single slice thicker than it is wide.
///
/// A slice catches whatever crosses its centre plane, so a component seen in one slice of thickness `s` can be
/// anything from nothing to nearly `2s` thick; its voxels give it exactly `s`, and an object narrower than the
/// slice is only ever seen that thick (the centre rule is unbiased over all placements, but not over the ones in
/// which the object is seen). For each axis along which the component spans one voxel, with cross-section
/// `A = V / s`, its width is taken as the diameter `d = 2·sqrt(A/π)` of a disc of that area; when `d < s` the
/// volume is scaled by `d / s`: the component is taken to be as thick as it is wide. Components two or more
/// slices thick, and one-slice components at least as wide as the slice (a plate), keep their voxel volume.
fn one_slice_factor(verts: &[u32], start: &[[f64; 3]], frame: &Frame, volume: f64) -> f64 {
    let mut factor: f64 = 1.0;
    for a in 0..3 {
        let axis = [frame.direction[0][a], frame.direction[1][a], frame.direction[2][a]];
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &v in verts {
            let p = start[v as usize];
            let t = p[0] * axis[0] + p[1] * axis[1] + p[2] * axis[2];
            lo = lo.min(t);
            hi = hi.max(t);
        }
        let s = frame.spacing[a];
        // The start points are voxel corners: one slice spans exactly `s` (up to rounding).
        if (hi - lo) < 1.5 * s && volume > 0.0 {
            let width = 2.0 * (volume / s / std::f64::consts::PI).sqrt();
            if width < s {
                factor = factor.min(width / s);
            }
        }
    }
    factor
}

/// Half the cross product of the diagonals: the vector area of a quad (exact for its four-triangle fan around the
/// corner mean).
fn vector_area(p: [[f64; 3]; 4]) -> [f64; 3] {
    let d = [p[2][0] - p[0][0], p[2][1] - p[0][1], p[2][2] - p[0][2]];
    let e = [p[3][0] - p[1][0], p[3][1] - p[1][1], p[3][2] - p[1][2]];
    [0.5 * (d[1] * e[2] - d[2] * e[1]), 0.5 * (d[2] * e[0] - d[0] * e[2]), 0.5 * (d[0] * e[1] - d[1] * e[0])]
}

/// The signed volume the quad's four triangles around its corner mean enclose with `reference` (positive for
/// outward winding on a closed surface), given the quad's vector area `a` ([`vector_area`]).
///
/// With `r` the corners and `c` their mean, relative to `reference`, the fan's four tetrahedra sum to
/// `Σ det(r_e, r_{e+1}, c) / 6 = c · Σ (r_e × r_{e+1}) / 6`, and that sum of cross products around the quad is
/// `(r_2 − r_0) × (r_3 − r_1) = 2a`: the volume is `c · a / 3`, one dot product on the area the caller has at hand.
fn fan_volume(p: [[f64; 3]; 4], a: [f64; 3], reference: [f64; 3]) -> f64 {
    let c: [f64; 3] =
        std::array::from_fn(|k| ((p[0][k] + p[2][k]) + (p[1][k] + p[3][k])) / 4.0 - reference[k]);
    (c[0] * a[0] + c[1] * a[1] + c[2] * a[2]) / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The four tetrahedra of the fan, summed one by one: the definition `fan_volume` shortens.
    fn tetrahedra(p: [[f64; 3]; 4], reference: [f64; 3]) -> f64 {
        let r = p.map(|x| [x[0] - reference[0], x[1] - reference[1], x[2] - reference[2]]);
        let c: [f64; 3] = std::array::from_fn(|k| (r[0][k] + r[1][k] + r[2][k] + r[3][k]) / 4.0);
        let det = |a: [f64; 3], b: [f64; 3]| {
            a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
                + a[2] * (b[0] * c[1] - b[1] * c[0])
        };
        (0..4).map(|e| det(r[e], r[(e + 1) % 4])).sum::<f64>() / 6.0
    }

    #[test]
    fn a_box_of_six_outward_quads_encloses_its_volume() {
        // A 2 × 3 × 5 box, faces wound outwards; the reference point inside, on a corner, and far away.
        let v = |i: usize| [2.0 * (i & 1) as f64, 3.0 * ((i >> 1) & 1) as f64, 5.0 * (i >> 2) as f64];
        let faces = [[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5]];
        for reference in [[1.0, 1.5, 2.5], [0.0, 0.0, 0.0], [-400.0, 250.0, 1000.0]] {
            let volume: f64 = faces
                .iter()
                .map(|f| {
                    let p = f.map(v);
                    fan_volume(p, vector_area(p), reference)
                })
                .sum();
            assert!((volume - 30.0).abs() < 1e-9, "{volume} from {reference:?}");
        }
    }

    #[test]
    fn the_shortened_fan_volume_equals_its_four_tetrahedra() {
        // Non-planar quads at scanner-like coordinates (a fixed linear congruential sequence).
        let mut state = 12345u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..1000 {
            let base = [-300.0 + 600.0 * next(), -300.0 + 600.0 * next(), -500.0 + 1000.0 * next()];
            let p: [[f64; 3]; 4] = std::array::from_fn(|_| std::array::from_fn(|k| base[k] + 2.0 * next()));
            let reference = [base[0] + 40.0 * next(), base[1] - 40.0 * next(), base[2] + 40.0 * next()];
            let (ours, definition) = (fan_volume(p, vector_area(p), reference), tetrahedra(p, reference));
            // Terms up to |r|·|a| ≈ 50 · 4 mm³: agreement to rounding at that scale.
            assert!((ours - definition).abs() <= 1e-12 * 200.0, "{ours} vs {definition}");
        }
    }
}
