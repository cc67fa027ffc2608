//! Rasterisation of planar contours (RTSTRUCT `CLOSED_PLANAR`) onto one slice of a voxel grid.
//!
//! Convention (segauge's, documented in the README): a voxel belongs to the structure when its centre lies
//! inside the slice's contours by the even-odd rule (so a contour nested in another is a hole, and disjoint
//! contours add up), **or on one of the contours** (within [`ON_CONTOUR`] pixel). Contours traced through the
//! centres of a mask's boundary voxels (as mask-to-contour tools such as rt-utils write them) therefore give back
//! that mask exactly, holes included; for contours drawn freely (a planning system) the rule is the plain
//! "centre inside" rule up to the measure-zero set of centres lying on a contour. No vertex is rounded.
//!
//! Coordinates are continuous pixel indices: `x` along a row (column index), `y` down the columns (row index);
//! pixel `(c, r)` has its centre at `(c, r)`.

/// How far (in pixels) a centre may be from a contour and still count as on it: absorbs the rounding of contour
/// coordinates written as 16-character decimal strings, often from float32 arithmetic (errors of a few 1e-6 pixel
/// are common), and is far below any drawing precision.
pub(crate) const ON_CONTOUR: f64 = 1e-3;

/// Fills `mask` (`rows × cols`, row-major: index `r·cols + c`) with the voxels of the polygons (each a closed
/// ring of `(x, y)` pixel coordinates; the last point joins the first).
pub(crate) fn rasterize(polygons: &[Vec<[f64; 2]>], cols: usize, rows: usize, mask: &mut [bool]) {
    let edges: Vec<([f64; 2], [f64; 2])> = polygons
        .iter()
        .filter(|p| p.len() >= 2)
        .flat_map(|p| (0..p.len()).map(move |i| (p[i], p[(i + 1) % p.len()])))
        .collect();
    let mut xs: Vec<f64> = Vec::new();
    for r in 0..rows {
        let y = r as f64;
        // Even-odd crossings of the scanline through the centres of row r (half-open in y, so that a vertex on
        // the line is counted once for a pass-through and twice or never for an extremum).
        xs.clear();
        for &(a, b) in &edges {
            if (a[1] <= y && y < b[1]) || (b[1] <= y && y < a[1]) {
                xs.push(a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
            }
        }
        xs.sort_by(f64::total_cmp);
        for pair in xs.chunks_exact(2) {
            fill_span(pair[0], pair[1], cols, &mut mask[r * cols..(r + 1) * cols]);
        }
    }
    // Centres on a contour: the crossings above include them except on horizontal edges and at vertices that
    // are local extrema in y; this pass adds every centre within ON_CONTOUR of an edge.
    for &(a, b) in &edges {
        mark_edge(a, b, cols, rows, mask);
    }
}

/// Sets the pixels of one row whose centre lies in `[x0, x1]` (widened by [`ON_CONTOUR`]).
fn fill_span(x0: f64, x1: f64, cols: usize, row: &mut [bool]) {
    let lo = (x0 - ON_CONTOUR).ceil().max(0.0);
    let hi = (x1 + ON_CONTOUR).floor().min(cols as f64 - 1.0);
    if lo <= hi {
        row[lo as usize..=hi as usize].fill(true);
    }
}

/// Sets the pixels whose centre lies on segment `a–b` (within [`ON_CONTOUR`]).
fn mark_edge(a: [f64; 2], b: [f64; 2], cols: usize, rows: usize, mask: &mut [bool]) {
    let (ylo, yhi) = (a[1].min(b[1]), a[1].max(b[1]));
    let r0 = (ylo - ON_CONTOUR).ceil().max(0.0);
    let r1 = (yhi + ON_CONTOUR).floor().min(rows as f64 - 1.0);
    let mut r = r0;
    while r <= r1 {
        let y = r;
        // The part of the segment within ON_CONTOUR of the centre line y: an x-range.
        let (xa, xb) = if (b[1] - a[1]).abs() <= ON_CONTOUR {
            (a[0].min(b[0]), a[0].max(b[0]))
        } else {
            let t = ((y - a[1]) / (b[1] - a[1])).clamp(0.0, 1.0);
            let x = a[0] + t * (b[0] - a[0]);
            (x, x)
        };
        let lo = (xa - ON_CONTOUR).ceil().max(0.0);
        let hi = (xb + ON_CONTOUR).floor().min(cols as f64 - 1.0);
        let mut c = lo;
        while c <= hi {
            mask[r as usize * cols + c as usize] = true;
            c += 1.0;
        }
        r += 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raster(polys: &[Vec<[f64; 2]>], cols: usize, rows: usize) -> Vec<bool> {
        let mut m = vec![false; cols * rows];
        rasterize(polys, cols, rows, &mut m);
        m
    }

    fn count(m: &[bool]) -> usize {
        m.iter().filter(|&&v| v).count()
    }

    #[test]
    fn a_square_through_pixel_centres_keeps_its_boundary() {
        // Corners on centres (2, 2) and (5, 4): 4 × 3 centres on or inside.
        let sq = vec![[2.0, 2.0], [5.0, 2.0], [5.0, 4.0], [2.0, 4.0]];
        let m = raster(&[sq], 8, 7);
        assert_eq!(count(&m), 12);
        assert!(m[2 * 8 + 2] && m[4 * 8 + 5] && !m[5 * 8 + 5] && !m[2 * 8 + 6]);
    }

    #[test]
    fn a_square_between_centres_holds_the_centres_inside() {
        let sq = vec![[1.5, 1.5], [4.5, 1.5], [4.5, 3.5], [1.5, 3.5]];
        assert_eq!(count(&raster(&[sq], 8, 7)), 3 * 2);
    }

    #[test]
    fn nested_contours_make_a_hole_and_disjoint_ones_add() {
        let outer = vec![[0.5, 0.5], [6.5, 0.5], [6.5, 6.5], [0.5, 6.5]];
        let inner = vec![[2.5, 2.5], [4.5, 2.5], [4.5, 4.5], [2.5, 4.5]];
        assert_eq!(count(&raster(&[outer.clone(), inner], 8, 8)), 36 - 4);
        let far = vec![[7.0, 7.0], [7.0, 7.0]];
        // A degenerate contour (one point) marks the centre it sits on.
        assert_eq!(count(&raster(&[outer, far], 8, 8)), 37);
    }

    #[test]
    fn a_ring_traced_through_boundary_centres_round_trips() {
        // Mask: 5 × 5 block with its central pixel missing; outer contour through the outer boundary centres,
        // inner contour around the hole through the centres of the pixels bordering it.
        let outer = vec![[1.0, 1.0], [5.0, 1.0], [5.0, 5.0], [1.0, 5.0]];
        let inner = vec![[2.0, 2.0], [4.0, 2.0], [4.0, 4.0], [2.0, 4.0]];
        let m = raster(&[outer, inner], 7, 7);
        let want: Vec<bool> = (0..49)
            .map(|i| {
                let (c, r) = (i % 7, i / 7);
                (1..=5).contains(&c) && (1..=5).contains(&r) && !(c == 3 && r == 3)
            })
            .collect();
        assert_eq!(m, want);
    }

    #[test]
    fn triangle_against_brute_force_even_odd() {
        let tri = vec![[0.3, 0.2], [9.7, 3.1], [2.2, 8.9]];
        let m = raster(std::slice::from_ref(&tri), 10, 10);
        for r in 0..10 {
            for c in 0..10 {
                let (x, y) = (c as f64, r as f64);
                let mut inside = false;
                for i in 0..3 {
                    let (a, b) = (tri[i], tri[(i + 1) % 3]);
                    if (a[1] > y) != (b[1] > y) && x < a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]) {
                        inside = !inside;
                    }
                }
                assert_eq!(m[r * 10 + c], inside, "({c}, {r})");
            }
        }
    }
}
