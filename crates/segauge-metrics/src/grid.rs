//! Grid distances: boundary voxels and an exact Euclidean distance transform with per-axis spacing.
//!
//! The transform is the separable lower-envelope-of-parabolas algorithm of Felzenszwalb and Huttenlocher
//! (Theory of Computing 8, 2012), one pass per axis with the squared spacing of that axis, in f64: the result is
//! the exact squared distance (up to one rounding per operation) from every voxel centre to the nearest feature
//! voxel centre. No EDT crate handles anisotropic spacing exactly, hence this module.
//!
//! When only distances below a cap matter (BIoU's band of τ plus half a voxel diagonal, in MeshMetrics' float32
//! mode), a banded transform takes the minimum over a window of ±⌊√cap / s⌋ voxels per axis instead, streamed one
//! slab at a time through a ring of slabs: the same values below the cap, a few slabs of memory, and passes that
//! vectorise. The exact band itself needs no transform: [`near_background`] dilates the background directly.

use segauge_mesh::Mask;

/// Squared distance (mm²) from every voxel centre of a `dims` box to the nearest voxel whose flag in `voxels` equals
/// `feature` (+inf when there is none), with voxel spacing `spacing`. (`feature = false` measures the distance to the
/// background of a mask without building its complement.)
pub(crate) fn edt_squared(voxels: &[bool], feature: bool, dims: [usize; 3], spacing: [f64; 3]) -> Vec<f64> {
    let [nx, ny, nz] = dims;
    if voxels.is_empty() {
        return Vec::new();
    }
    // Axis 0 straight from the flags: the distance to the nearest feature of the row (two scans); the value is
    // the same expression the parabola envelope evaluates, so the result does not depend on this shortcut.
    let mut d = vec![f64::INFINITY; voxels.len()];
    for (row, out) in voxels.chunks_exact(nx).zip(d.chunks_exact_mut(nx)) {
        row_distances(row, feature, spacing[0], usize::MAX, out);
    }
    let strides = [1, nx, nx * ny];
    let maxn = nx.max(ny).max(nz);
    let mut line = vec![0.0; maxn];
    let mut out = vec![0.0; maxn];
    let mut v = vec![0usize; maxn];
    let mut z = vec![0.0; maxn + 1];
    for axis in 1..3 {
        let n = dims[axis];
        if n == 1 {
            continue;
        }
        let w2 = spacing[axis] * spacing[axis];
        let stride = strides[axis];
        // Every line along `axis`: iterate over the other two indices.
        let (o1, o2) = match axis {
            0 => (1, 2),
            1 => (0, 2),
            _ => (0, 1),
        };
        for b in 0..dims[o2] {
            for a in 0..dims[o1] {
                let base = a * strides[o1] + b * strides[o2];
                for q in 0..n {
                    line[q] = d[base + q * stride];
                }
                transform_1d(&line[..n], w2, &mut out[..n], &mut v, &mut z);
                for q in 0..n {
                    d[base + q * stride] = out[q];
                }
            }
        }
    }
    d
}

/// Squared distance along a row from every voxel to the nearest one whose flag equals `feature`, when that is at
/// most `reach` voxels away (+inf otherwise), with voxel size `s`.
fn row_distances(row: &[bool], feature: bool, s: f64, reach: usize, out: &mut [f64]) {
    let w = s * s;
    let mut last: Option<usize> = None;
    for (q, &f) in row.iter().enumerate() {
        if f == feature {
            last = Some(q);
        }
        out[q] = match last {
            Some(p) if q - p <= reach => {
                let (qf, pf) = (q as f64, p as f64);
                w * (qf - pf) * (qf - pf)
            }
            _ => f64::INFINITY,
        };
    }
    let mut next: Option<usize> = None;
    for q in (0..row.len()).rev() {
        if row[q] == feature {
            next = Some(q);
        }
        if let Some(p) = next.filter(|&p| p - q <= reach) {
            let (qf, pf) = (q as f64, p as f64);
            out[q] = out[q].min(w * (pf - qf) * (pf - qf));
        }
    }
}

/// The largest window (in voxels, over the second and third axes) for which [`banded_edt_squared`] beats the
/// full transform.
const MAX_BAND_WINDOW: usize = 16;

/// The squared distance from every voxel centre to the nearest voxel whose flag equals `feature`, exact (to
/// rounding) wherever it is below `cap` mm² and otherwise some value not below `cap` (or +inf): handed to
/// `visit` one z-slab at a time, in order, as `(k, values of slab k)`.
///
/// Only features within `sqrt(cap)` matter, so each axis pass is a minimum over a window of
/// `±floor(sqrt(cap)/s)` voxels: along rows from the flags, then over neighbouring rows and slabs, kept in a
/// ring of slabs (memory of a few slabs, not of the volume). When those windows are wide the full transform
/// ([`edt_squared`]) is used instead.
pub(crate) fn banded_edt_squared(
    voxels: &[bool],
    feature: bool,
    dims: [usize; 3],
    spacing: [f64; 3],
    cap: f64,
    mut visit: impl FnMut(usize, &[f64]),
) {
    let [nx, ny, nz] = dims;
    let plane = nx * ny;
    if voxels.is_empty() {
        return;
    }
    let reach: [usize; 3] = std::array::from_fn(|a| {
        let r = cap.sqrt() / spacing[a];
        if r.is_finite() && r < 1e6 { r as usize } else { usize::MAX }
    });
    if reach[1].saturating_add(reach[2]) > MAX_BAND_WINDOW {
        let d = edt_squared(voxels, feature, dims, spacing);
        for (k, slab) in d.chunks_exact(plane).enumerate() {
            visit(k, slab);
        }
        return;
    }
    let (ry, rz) = (reach[1].min(ny - 1), reach[2].min(nz - 1));
    let window = 2 * rz + 1;
    // ring[k % window]: slab k after the row and column passes.
    let mut ring = vec![f64::INFINITY; window * plane];
    let mut rows = vec![f64::INFINITY; plane];
    let mut out = vec![f64::INFINITY; plane];
    let wy: Vec<f64> = (0..=ry).map(|d| spacing[1] * spacing[1] * (d * d) as f64).collect();
    let wz: Vec<f64> = (0..=rz).map(|d| spacing[2] * spacing[2] * (d * d) as f64).collect();
    let min_add = |acc: &mut [f64], src: &[f64], w: f64| {
        for (a, &b) in acc.iter_mut().zip(src) {
            let v = b + w;
            *a = if v < *a { v } else { *a };
        }
    };
    for k_in in 0..nz + rz {
        if k_in < nz {
            let flags = &voxels[k_in * plane..(k_in + 1) * plane];
            for (row, o) in flags.chunks_exact(nx).zip(rows.chunks_exact_mut(nx)) {
                row_distances(row, feature, spacing[0], reach[0], o);
            }
            let slot = &mut ring[(k_in % window) * plane..(k_in % window + 1) * plane];
            slot.copy_from_slice(&rows);
            for j in 0..ny {
                let dst = &mut slot[j * nx..(j + 1) * nx];
                for d in 1..=ry {
                    if j >= d {
                        min_add(dst, &rows[(j - d) * nx..(j - d + 1) * nx], wy[d]);
                    }
                    if j + d < ny {
                        min_add(dst, &rows[(j + d) * nx..(j + d + 1) * nx], wy[d]);
                    }
                }
            }
        }
        // Slab k_in − rz has all its neighbours within reach.
        let Some(k) = k_in.checked_sub(rz) else { continue };
        out.copy_from_slice(&ring[(k % window) * plane..(k % window + 1) * plane]);
        for d in 1..=rz {
            for n in [k.checked_sub(d), Some(k + d).filter(|&n| n < nz)].into_iter().flatten() {
                min_add(&mut out, &ring[(n % window) * plane..(n % window + 1) * plane], wz[d]);
            }
        }
        visit(k, &out);
    }
}

/// The foreground voxels of `mask` whose centre lies closer than `tau` (strict) to some background voxel's box,
/// i.e. to the mask's voxel-face surface: voxels outside the mask's box count as background, and with `planar` (a
/// 2D image's slice) only pixels of the same slice count. `spacing` is the voxel size (mm).
///
/// The box of the background voxel at offset Δ is `sqrt(Σ_a (s_a · max(|Δ_a| − ½, 0))²)` away, so the answer is
/// the mask AND its background dilated by the set of offsets within `tau`. That set is, for each offset `(Δy, Δz)`
/// across rows, a run `|Δx| ≤ r(Δy, Δz)` along the row (the terms grow with |Δ|, also under rounding), so the
/// dilation is: per row, each voxel's distance (in voxels) to the nearest background voxel of its row; then a voxel
/// is near when, for some `(Δy, Δz)`, the row at that offset has background within `r(Δy, Δz)` of it (a row outside
/// the box is all background). Rows are kept for a window of slabs, as in [`banded_edt_squared`].
///
/// Every offset test evaluates `(t_z + t_y) + t_x < τ²` with the same terms as a direct search over the offsets
/// around each voxel would, so the result is that search's exactly (the tests hold it to that brute force); it
/// replaces a banded distance transform plus a direct search near the threshold, at a fraction of the cost (bytes
/// and small integers instead of f64 slabs).
pub(crate) fn near_background(mask: &Mask, spacing: [f64; 3], tau: f64, planar: bool) -> Vec<bool> {
    let dims = mask.dims();
    let voxels = mask.voxels();
    let mut out = vec![false; voxels.len()];
    if voxels.is_empty() {
        return out;
    }
    let tau2 = tau * tau;
    // Offsets beyond the box's extent only reach outside it, as the extent itself does: clamping keeps the set
    // of answers and bounds the loops.
    let mut reach: [isize; 3] =
        std::array::from_fn(|a| (tau / spacing[a] + 0.5).ceil().min(dims[a] as f64) as isize);
    if planar {
        reach[2] = 0;
    }
    let term = gap_squared;
    // (Δy, Δz, r): the row at that offset counts within r voxels along x.
    let mut offsets: Vec<(isize, isize, u32)> = Vec::new();
    for dz in -reach[2]..=reach[2] {
        let tz = term(dz, spacing[2]);
        for dy in -reach[1]..=reach[1] {
            let ty = tz + term(dy, spacing[1]);
            if ty >= tau2 {
                continue;
            }
            let mut r = 0;
            while r < reach[0] && ty + term(r + 1, spacing[0]) < tau2 {
                r += 1;
            }
            offsets.push((dy, dz, r as u32));
        }
    }
    if offsets.is_empty() {
        return out;
    }
    // Row gaps in bytes when every run fits below the saturation (16 lanes per SSE2 compare instead of 4).
    let occupied = mask.occupied_rows();
    if reach[0] < u8::MAX as isize {
        dilate::<u8>(voxels, occupied, dims, &offsets, reach[2] as usize, &mut out);
    } else {
        dilate::<u32>(voxels, occupied, dims, &offsets, reach[2] as usize, &mut out);
    }
    out
}

/// A row gap (voxels to the nearest background voxel of the row), saturated at the type's maximum: exact for
/// the comparison `gap ≤ r` whenever `r` is below that maximum.
trait Gap: Copy + PartialOrd {
    const ZERO: Self;
    fn saturate(g: u32) -> Self;
}

impl Gap for u8 {
    const ZERO: u8 = 0;
    fn saturate(g: u32) -> u8 {
        g.min(u8::MAX.into()) as u8
    }
}

impl Gap for u32 {
    const ZERO: u32 = 0;
    fn saturate(g: u32) -> u32 {
        g
    }
}

/// The dilation of [`near_background`] (into `out`, which starts all false): `offsets` lists `(Δy, Δz, r)`, the
/// rows within reach and their runs, `rz` the largest |Δz|, `occupied` which rows hold foreground. Rows' gaps are
/// kept for a window of slabs; an empty row's gaps are all zero and it has nothing to test.
fn dilate<G: Gap>(
    voxels: &[bool],
    occupied: &[bool],
    dims: [usize; 3],
    offsets: &[(isize, isize, u32)],
    rz: usize,
    out: &mut [bool],
) {
    let [nx, ny, nz] = dims;
    let plane = nx * ny;
    let offsets: Vec<(isize, isize, G)> =
        offsets.iter().map(|&(dy, dz, r)| (dy, dz, G::saturate(r))).collect();
    let window = (2 * rz + 1).min(nz);
    // ring[k % window]: per voxel of slab k, the gap to the nearest background voxel of its row.
    let mut ring = vec![G::ZERO; window * plane];
    // Which rows of the ring hold all-zero gaps (an empty row's), so that the next empty row there writes nothing.
    let mut ring_zero = vec![true; window * ny];
    let mut near = vec![false; nx];
    for k_in in 0..nz + rz {
        if k_in < nz {
            let slot = k_in % window;
            let flags = &voxels[k_in * plane..(k_in + 1) * plane];
            let gaps = &mut ring[slot * plane..(slot + 1) * plane];
            let rows = &occupied[k_in * ny..(k_in + 1) * ny];
            let zeroed = &mut ring_zero[slot * ny..(slot + 1) * ny];
            for (((row, g), &o), z) in
                flags.chunks_exact(nx).zip(gaps.chunks_exact_mut(nx)).zip(rows).zip(zeroed)
            {
                if o {
                    // Outside the row's span of foreground every gap is 0; inside it, the voxels just beyond
                    // the span are background, as the row's ends are to `row_gaps`.
                    let lo = row.iter().position(|&f| f).unwrap_or(0);
                    let hi = row.iter().rposition(|&f| f).map_or(lo, |h| h + 1);
                    g[..lo].fill(G::ZERO);
                    row_gaps(&row[lo..hi], &mut g[lo..hi]);
                    g[hi..].fill(G::ZERO);
                } else if !*z {
                    g.fill(G::ZERO);
                }
                *z = !o;
            }
        }
        // Slab k_in − rz has all its neighbours' rows in the ring.
        let Some(k) = k_in.checked_sub(rz) else { continue };
        for j in 0..ny {
            if !occupied[j + ny * k] {
                continue;
            }
            let at = k * plane + j * nx;
            let row = &voxels[at..at + nx];
            // Only the row's span of foreground needs testing.
            let Some(lo) = row.iter().position(|&f| f) else { continue };
            let hi = row.iter().rposition(|&f| f).map_or(lo, |h| h) + 1;
            let (fg, near) = (&row[lo..hi], &mut near[lo..hi]);
            near.fill(false);
            for &(dy, dz, r) in &offsets {
                let (jj, kk) = (j as isize + dy, k as isize + dz);
                if jj < 0 || jj >= ny as isize || kk < 0 || kk >= nz as isize {
                    near.fill(true);
                    break;
                }
                let slot = kk as usize % window;
                let gaps = &ring[slot * plane + jj as usize * nx..][lo..hi];
                for (n, &g) in near.iter_mut().zip(gaps) {
                    *n |= g <= r;
                }
            }
            for ((o, &f), &n) in out[at + lo..at + hi].iter_mut().zip(fg).zip(near.iter()) {
                *o = f & n;
            }
        }
    }
}

/// Per voxel of a row, the distance in voxels to the nearest background voxel of the row (0 on background),
/// saturated; beyond both ends is background.
fn row_gaps<G: Gap>(row: &[bool], out: &mut [G]) {
    let mut gap = 0u32;
    for (o, &f) in out.iter_mut().zip(row) {
        gap = if f { gap + 1 } else { 0 };
        *o = G::saturate(gap);
    }
    gap = 0;
    for (o, &f) in out.iter_mut().zip(row).rev() {
        gap = if f { gap + 1 } else { 0 };
        let g = G::saturate(gap);
        if g < *o {
            *o = g;
        }
    }
}

/// `out[q] = min_p (f[p] + w2·(q − p)²)`, exact lower envelope; +inf inputs are not sites.
fn transform_1d(f: &[f64], w2: f64, out: &mut [f64], v: &mut [usize], z: &mut [f64]) {
    let n = f.len();
    let mut k: isize = -1;
    for q in 0..n {
        if f[q].is_infinite() {
            continue;
        }
        let qf = q as f64;
        loop {
            if k < 0 {
                k = 0;
                v[0] = q;
                z[0] = f64::NEG_INFINITY;
                z[1] = f64::INFINITY;
                break;
            }
            let p = v[k as usize];
            let pf = p as f64;
            // Intersection of the parabolas rooted at p and q.
            let s = ((f[q] + w2 * qf * qf) - (f[p] + w2 * pf * pf)) / (2.0 * w2 * (qf - pf));
            if s <= z[k as usize] {
                k -= 1;
                continue;
            }
            k += 1;
            v[k as usize] = q;
            z[k as usize] = s;
            z[k as usize + 1] = f64::INFINITY;
            break;
        }
    }
    if k < 0 {
        out.iter_mut().for_each(|o| *o = f64::INFINITY);
        return;
    }
    let mut j = 0usize;
    for q in 0..n {
        let qf = q as f64;
        while z[j + 1] < qf {
            j += 1;
        }
        let p = v[j] as f64;
        out[q] = w2 * (qf - p) * (qf - p) + f[v[j]];
    }
}

/// Boundary voxels of a mask: foreground voxels with a background 6-neighbour (outside the box is background),
/// i.e. the mask minus its erosion by the 6-connected cross, as medpy and MONAI define the border.
pub(crate) fn boundary(mask: &Mask) -> Vec<bool> {
    let [nx, ny, nz] = mask.dims();
    let mut out = vec![false; mask.voxels().len()];
    for k in 0..nz as isize {
        for j in 0..ny as isize {
            for i in 0..nx as isize {
                if !mask.get(i, j, k) {
                    continue;
                }
                let edge = !mask.get(i - 1, j, k)
                    || !mask.get(i + 1, j, k)
                    || !mask.get(i, j - 1, k)
                    || !mask.get(i, j + 1, k)
                    || !mask.get(i, j, k - 1)
                    || !mask.get(i, j, k + 1);
                out[i as usize + nx * (j as usize + ny * k as usize)] = edge;
            }
        }
    }
    out
}

/// The boundary pixels of a one-slice mask: foreground pixels with a background 4-neighbour in the plane (pixels
/// outside the box are background; the slices above and below do not exist).
pub(crate) fn boundary_in_plane(mask: &Mask) -> Vec<bool> {
    let [nx, ny, _] = mask.dims();
    let mut out = vec![false; nx * ny];
    for j in 0..ny as isize {
        for i in 0..nx as isize {
            if mask.get(i, j, 0) {
                out[i as usize + nx * j as usize] = !mask.get(i - 1, j, 0)
                    || !mask.get(i + 1, j, 0)
                    || !mask.get(i, j - 1, 0)
                    || !mask.get(i, j + 1, 0);
            }
        }
    }
    out
}

/// The squared gap, mm², between a voxel centre and the nearest face of the voxel `d` voxels away along an axis
/// of spacing `sa` (0 for the voxel itself): the one expression the band and its direct-search check share.
fn gap_squared(d: isize, sa: f64) -> f64 {
    if d == 0 {
        0.0
    } else {
        let x = (d.unsigned_abs() as f64 - 0.5) * sa;
        x * x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over all feature voxels.
    fn brute(feature: &[bool], dims: [usize; 3], s: [f64; 3]) -> Vec<f64> {
        let idx = |n: usize| [n % dims[0], (n / dims[0]) % dims[1], n / (dims[0] * dims[1])];
        (0..feature.len())
            .map(|n| {
                let a = idx(n);
                (0..feature.len())
                    .filter(|&m| feature[m])
                    .map(|m| {
                        let b = idx(m);
                        (0..3).map(|r| ((a[r] as f64 - b[r] as f64) * s[r]).powi(2)).sum::<f64>()
                    })
                    .fold(f64::INFINITY, f64::min)
            })
            .collect()
    }

    #[test]
    fn edt_matches_brute_force_with_anisotropic_spacing() {
        let dims = [9, 7, 6];
        let mut rng = segauge_tests::SplitMix(3);
        let feature: Vec<bool> = (0..dims.iter().product::<usize>()).map(|_| rng.next_f64() < 0.04).collect();
        let s = [0.7, 1.3, 2.9];
        let got = edt_squared(&feature, true, dims, s);
        let want = brute(&feature, dims, s);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-12 * w.max(1.0), "{g} vs {w}");
        }
        assert!(edt_squared(&[false; 8], true, [2, 2, 2], s).iter().all(|d| d.is_infinite()));
    }

    #[test]
    fn banded_edt_equals_the_full_transform_below_its_cap() {
        let mut rng = segauge_tests::SplitMix(11);
        for (dims, s, density, cap) in [
            ([9, 7, 6], [0.7, 1.3, 2.9], 0.04, 9.0),
            ([12, 10, 8], [0.8, 0.8, 1.5], 0.02, 2.94f64.powi(2)),
            ([6, 5, 9], [1.0, 1.0, 1.0], 0.1, 4.0),
            ([5, 1, 7], [0.5, 0.6, 0.4], 0.15, 1.0),
            ([7, 6, 5], [0.3, 0.3, 0.3], 0.01, 25.0), // windows too wide: the full transform
        ] {
            let n: usize = dims.iter().product();
            let feature: Vec<bool> = (0..n).map(|_| rng.next_f64() < density).collect();
            let want = brute(&feature, dims, s);
            let mut slabs = Vec::new();
            banded_edt_squared(&feature, true, dims, s, cap, |k, slab| slabs.push((k, slab.to_vec())));
            assert_eq!(slabs.iter().map(|(k, _)| *k).collect::<Vec<_>>(), (0..dims[2]).collect::<Vec<_>>());
            let got: Vec<f64> = slabs.into_iter().flat_map(|(_, v)| v).collect();
            for (g, w) in got.iter().zip(&want) {
                if *w < cap {
                    assert!((g - w).abs() <= 1e-12 * w.max(1.0), "{g} vs {w} in {dims:?}");
                } else {
                    assert!(*g >= cap * (1.0 - 1e-12), "{g} below the cap {cap} where the truth is {w}");
                }
            }
        }
    }

    /// Whether some background voxel box (outside the mask's box is background) lies closer than `tau` to the
    /// centre of voxel `v`: a direct search over the offsets (the definition `near_background` implements).
    fn background_box_within(mask: &Mask, v: [usize; 3], s: [f64; 3], tau: f64, planar: bool) -> bool {
        let tau2 = tau * tau;
        let mut reach: [isize; 3] = std::array::from_fn(|a| (tau / s[a] + 0.5).ceil() as isize);
        if planar {
            reach[2] = 0;
        }
        let term = super::gap_squared;
        let c = v.map(|x| x as isize);
        for dz in -reach[2]..=reach[2] {
            for dy in -reach[1]..=reach[1] {
                for dx in -reach[0]..=reach[0] {
                    let t = (term(dz, s[2]) + term(dy, s[1])) + term(dx, s[0]);
                    if t < tau2 && !mask.get(c[0] + dx, c[1] + dy, c[2] + dz) {
                        return true;
                    }
                }
            }
        }
        false
    }

    #[test]
    fn near_background_equals_the_direct_search() {
        let mut rng = segauge_tests::SplitMix(5);
        for (dims, s, density, tau, planar) in [
            ([9, 8, 7], [0.8, 0.8, 1.5], 0.7, 2.0, false),
            ([12, 10, 6], [0.7, 1.3, 2.9], 0.85, 3.1, false),
            ([7, 9, 5], [1.0, 1.0, 1.0], 0.9, 1.5, false), // exactly on the thresholds: 1.5 = (2 − ½)·1
            ([6, 5, 4], [0.5, 0.6, 0.4], 0.95, 40.0, false), // reach beyond the box
            ([8, 7, 1], [0.8, 0.8, 1.5], 0.8, 2.0, true),
            ([8, 7, 1], [0.8, 0.8, 1.5], 0.8, 2.0, false), // one slab: the slabs beside it are background
            ([5, 5, 5], [1.0, 1.0, 1.0], 0.8, 0.0, false),
            ([5, 5, 5], [1.0, 2.0, 3.0], 0.8, 0.4, false),
            ([300, 6, 5], [0.01, 2.0, 2.0], 0.995, 2.9, false), // runs beyond a byte: u32 gaps
        ] {
            let flags = (0..dims.iter().product::<usize>()).map(|_| rng.next_f64() < density).collect();
            let mask = Mask::new(dims, flags).unwrap();
            let got = near_background(&mask, s, tau, planar);
            let mut n = 0;
            for k in 0..dims[2] {
                for j in 0..dims[1] {
                    for i in 0..dims[0] {
                        let want = mask.get(i as isize, j as isize, k as isize)
                            && background_box_within(&mask, [i, j, k], s, tau, planar);
                        assert_eq!(got[n], want, "{dims:?} {s:?} tau {tau} at {:?}", [i, j, k]);
                        n += 1;
                    }
                }
            }
        }
    }

    #[test]
    fn boundary_is_mask_minus_erosion() {
        let mask = Mask::from_fn([5, 5, 5], |i, j, k| {
            (1..4).contains(&i) && (1..4).contains(&j) && (1..4).contains(&k)
        });
        let b = boundary(&mask);
        assert_eq!(b.iter().filter(|&&x| x).count(), 26); // 27 voxels minus the centre
        let square = Mask::from_fn([5, 5, 1], |i, j, _| (1..4).contains(&i) && (1..4).contains(&j));
        assert_eq!(boundary(&square).iter().filter(|&&x| x).count(), 9); // a slab: every pixel
        assert_eq!(boundary_in_plane(&square).iter().filter(|&&x| x).count(), 8); // the plane: the ring
        let full = Mask::from_fn([2, 2, 2], |_, _, _| true);
        assert!(boundary(&full).iter().all(|&x| x)); // the box border counts as background
    }
}
