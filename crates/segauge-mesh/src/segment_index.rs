//! Exact distances from points to a [`Contour`] in the plane: a bounding-box hierarchy over its segments and the
//! exact closest point on a segment, in f64 (the 2D counterpart of [`crate::DistanceIndex`]).
//!
//! The tree is binary, split at the median segment centre along the wider axis of the centres' box, with at most
//! [`LEAF_MAX`] segments per leaf. A query walks it depth first, nearer child first, and skips a box only when its
//! distance exceeds the best found by more than a relative margin far above rounding, so the minimising segment is
//! always evaluated: the answer is the minimum of the same per-segment computation whatever the visiting order or
//! the warm start (each query of a batch starts from the previous query's closest segment). Axis-aligned segments
//! (every pixel edge) are measured without a projection, so a point on one is at distance exactly 0.

use crate::contour::Contour;

/// The most segments in a leaf.
const LEAF_MAX: usize = 4;

/// A bounding-box tree over the segments of a contour, for exact point-to-contour distances.
///
/// ```
/// use segauge_mesh::{Contour, SegmentIndex};
/// let square = Contour {
///     vertices: vec![[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]],
///     segments: vec![[0, 1], [1, 2], [2, 3], [3, 0]],
/// };
/// let index = SegmentIndex::new(&square);
/// assert_eq!(index.distance([1.0, 0.5]), 0.5);
/// assert_eq!(index.distance([5.0, 6.0]), 5.0); // to the corner (2, 2)
/// assert_eq!(SegmentIndex::new(&Contour::default()).distance([0.0, 0.0]), f64::INFINITY);
/// ```
#[derive(Debug, Clone)]
pub struct SegmentIndex {
    nodes: Vec<Node>,
    /// Segment ends, in leaf order.
    segments: Vec<[[f64; 2]; 2]>,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    min: [f64; 2],
    max: [f64; 2],
    /// Leaf: first segment. Inner: index of the first child (the second follows it).
    start: u32,
    /// Leaf: segment count (> 0). Inner: 0.
    count: u32,
}

impl SegmentIndex {
    /// Builds the tree over the segments of `contour`.
    pub fn new(contour: &Contour) -> SegmentIndex {
        let mut segments: Vec<[[f64; 2]; 2]> = (0..contour.segments.len()).map(|s| contour.ends(s)).collect();
        let mut nodes = Vec::new();
        if !segments.is_empty() {
            nodes.push(Node { min: [0.0; 2], max: [0.0; 2], start: 0, count: 0 });
            build(&mut nodes, 0, &mut segments, 0);
        }
        SegmentIndex { nodes, segments }
    }

    /// Distance from `p` to the nearest segment (+inf for an empty contour).
    pub fn distance(&self, p: [f64; 2]) -> f64 {
        self.nearest(p, None).0
    }

    /// Distance from `p` and the segment (leaf order) that gave it, starting from the bound of segment `hint`.
    fn nearest(&self, p: [f64; 2], hint: Option<usize>) -> (f64, usize) {
        if self.nodes.is_empty() {
            return (f64::INFINITY, 0);
        }
        let (mut best2, mut arg) = match hint {
            Some(s) => (segment_dist2(p, self.segments[s]), s),
            None => (f64::INFINITY, 0),
        };
        let mut stack: Vec<u32> = Vec::with_capacity(64);
        stack.push(0);
        while let Some(n) = stack.pop() {
            let node = self.nodes[n as usize];
            if prune(box_dist2(p, &node), best2) {
                continue;
            }
            if node.count > 0 {
                for s in node.start as usize..(node.start + node.count) as usize {
                    let d2 = segment_dist2(p, self.segments[s]);
                    if d2 < best2 || (d2 == best2 && s < arg) {
                        best2 = d2;
                        arg = s;
                    }
                }
                continue;
            }
            let (a, b) = (node.start, node.start + 1);
            let (da, db) = (box_dist2(p, &self.nodes[a as usize]), box_dist2(p, &self.nodes[b as usize]));
            // Push the farther child first so the nearer is visited first.
            if da <= db {
                stack.push(b);
                stack.push(a);
            } else {
                stack.push(a);
                stack.push(b);
            }
        }
        (best2.sqrt(), arg)
    }

    /// Distances from every point of `points` to the contour, in order (in parallel with the `parallel` feature;
    /// bit-identical to [`SegmentIndex::distance`] on each point).
    pub fn distances(&self, points: &[[f64; 2]]) -> Vec<f64> {
        const CHUNK: usize = 4096;
        let run = |chunk: &[[f64; 2]]| -> Vec<f64> {
            let mut hint = None;
            chunk
                .iter()
                .map(|&p| {
                    let (d, s) = self.nearest(p, hint);
                    hint = (!self.segments.is_empty()).then_some(s);
                    d
                })
                .collect()
        };
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            points.par_chunks(CHUNK).map(run).collect::<Vec<_>>().concat()
        }
        #[cfg(not(feature = "parallel"))]
        points.chunks(CHUNK).flat_map(run).collect()
    }
}

/// A box may hold the minimiser unless it is farther than the best by more than rounding could explain.
#[inline]
fn prune(box2: f64, best2: f64) -> bool {
    box2 > best2 * (1.0 + 1e-9)
}

fn build(nodes: &mut Vec<Node>, at: usize, segments: &mut [[[f64; 2]; 2]], offset: usize) {
    let mut min = [f64::INFINITY; 2];
    let mut max = [f64::NEG_INFINITY; 2];
    for s in segments.iter() {
        for p in s {
            for k in 0..2 {
                min[k] = min[k].min(p[k]);
                max[k] = max[k].max(p[k]);
            }
        }
    }
    if segments.len() <= LEAF_MAX {
        nodes[at] = Node { min, max, start: offset as u32, count: segments.len() as u32 };
        return;
    }
    let centre = |s: &[[f64; 2]; 2], k: usize| s[0][k] + s[1][k];
    let axis = {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for s in segments.iter() {
            for k in 0..2 {
                lo[k] = lo[k].min(centre(s, k));
                hi[k] = hi[k].max(centre(s, k));
            }
        }
        if hi[0] - lo[0] >= hi[1] - lo[1] { 0 } else { 1 }
    };
    let mid = segments.len() / 2;
    segments.select_nth_unstable_by(mid, |a, b| centre(a, axis).total_cmp(&centre(b, axis)));
    let first = nodes.len();
    nodes[at] = Node { min, max, start: first as u32, count: 0 };
    nodes.push(Node { min, max, start: 0, count: 0 });
    nodes.push(Node { min, max, start: 0, count: 0 });
    let (left, right) = segments.split_at_mut(mid);
    build(nodes, first, left, offset);
    build(nodes, first + 1, right, offset + mid);
}

#[inline]
fn box_dist2(p: [f64; 2], n: &Node) -> f64 {
    let dx = (n.min[0] - p[0]).max(p[0] - n.max[0]).max(0.0);
    let dy = (n.min[1] - p[1]).max(p[1] - n.max[1]).max(0.0);
    dx * dx + dy * dy
}

/// Squared distance from `p` to the segment `[a, b]`; exact (one rounding per operation, no projection) for an
/// axis-aligned segment.
#[inline]
fn segment_dist2(p: [f64; 2], [a, b]: [[f64; 2]; 2]) -> f64 {
    // Distance along an axis from p to the interval [lo, hi] of that axis.
    let gap = |x: f64, u: f64, v: f64| (u.min(v) - x).max(x - u.max(v)).max(0.0);
    if a[1] == b[1] {
        let dx = gap(p[0], a[0], b[0]);
        let dy = p[1] - a[1];
        return dx * dx + dy * dy;
    }
    if a[0] == b[0] {
        let dy = gap(p[1], a[1], b[1]);
        let dx = p[0] - a[0];
        return dx * dx + dy * dy;
    }
    let d = [b[0] - a[0], b[1] - a[1]];
    let t = (((p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1]) / (d[0] * d[0] + d[1] * d[1])).clamp(0.0, 1.0);
    let c = [a[0] + t * d[0], a[1] + t * d[1]];
    let (ex, ey) = (p[0] - c[0], p[1] - c[1]);
    ex * ex + ey * ey
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(c: &Contour, p: [f64; 2]) -> f64 {
        (0..c.segments.len()).map(|s| segment_dist2(p, c.ends(s))).fold(f64::INFINITY, f64::min).sqrt()
    }

    #[test]
    fn equals_brute_force_on_random_polylines() {
        let mut rng = segauge_tests::SplitMix(11);
        for n in [1usize, 3, 5, 40, 700] {
            let vertices: Vec<[f64; 2]> =
                (0..n + 1).map(|_| [rng.next_f64() * 50.0, rng.next_f64() * 20.0]).collect();
            let mut segments: Vec<[u32; 2]> = (0..n as u32).map(|i| [i, i + 1]).collect();
            // Some axis-aligned and degenerate segments too.
            segments.push([0, 0]);
            let c = Contour { vertices, segments };
            let index = SegmentIndex::new(&c);
            let points: Vec<[f64; 2]> =
                (0..300).map(|_| [rng.next_f64() * 70.0 - 10.0, rng.next_f64() * 40.0 - 10.0]).collect();
            let batch = index.distances(&points);
            for (p, d) in points.iter().zip(batch) {
                assert_eq!(d, brute(&c, *p));
                assert_eq!(index.distance(*p), d);
            }
        }
    }

    #[test]
    fn points_on_axis_aligned_segments_are_at_zero() {
        let c =
            Contour { vertices: vec![[0.1, 0.3], [0.7, 0.3], [0.7, 0.9]], segments: vec![[0, 1], [1, 2]] };
        let index = SegmentIndex::new(&c);
        assert_eq!(index.distance([0.4, 0.3]), 0.0);
        assert_eq!(index.distance([0.7, 0.6000000000000001]), 0.0);
        assert_eq!(index.distance([1.0, 0.3]), 0.30000000000000004); // 1.0 − 0.7 in f64
    }
}
