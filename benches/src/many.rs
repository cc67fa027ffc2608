//! The many-structure cases of `cargo xtask bench many-labels`, each a (prediction, ground truth) pair of files:
//!
//! - **totalseg** (`many-totalseg-v1-*`): TotalSegmentator 2.18.0's own test outputs of one CT (the fast model as
//!   prediction, the full model as ground truth; `tests/data/totalsegmentator/`, 122×101×30 at 3 mm, 41 structures
//!   present), upsampled by nearest neighbour to a realistic CT grid: 488×404×150 at 0.75×0.75×0.6 mm
//!   ([`upsample_nearest`], factors 4, 4, 5).
//! - **body117** (`many-body117-v1-*`): a synthetic full body of 117 structures at 512×512×600 and 1.5 mm
//!   ([`body_structures`]): 26 vertebrae, 24 ribs (thin curved chains), 5 long tubes, 28 organs, muscles and long
//!   bones, and 34 small structures, every one a union of rotated ellipsoids; the prediction moves each structure
//!   a little and warps the whole body ([`body_prediction`]). Deterministic.

use std::path::{Path, PathBuf};

use segauge_tests::SplitMix;

use crate::{
    BenchData, Organ, RotatedEllipsoid, Warp, add, cross, data_dir, dot, paint_organ_into, random_rotation,
    random_unit_vector, rotate, uniform, write_atomically_on,
};

/// Version of the many-structure generators, part of the file names: bump it whenever the generated data change.
pub const MANY_DATA_VERSION: u32 = 1;

/// Grid of the upsampled TotalSegmentator pair, `[nx, ny, nz]`.
pub const TOTALSEG_DIMS: [usize; 3] = [488, 404, 150];
/// Spacing of the upsampled TotalSegmentator pair, mm.
pub const TOTALSEG_SPACING: [f32; 3] = [0.75, 0.75, 0.6];
/// Grid of the synthetic body, `[nx, ny, nz]`.
pub const BODY_DIMS: [usize; 3] = [512, 512, 600];
/// Spacing of the synthetic body, mm.
pub const BODY_SPACING: [f32; 3] = [1.5, 1.5, 1.5];
/// Number of structures of the synthetic body (TotalSegmentator's `total` task has as many classes).
pub const BODY_STRUCTURES: usize = 117;

/// Nearest-neighbour upsampling of a label map of shape `dims` (i-fastest) by integer `factors` per axis.
pub fn upsample_nearest(src: &[u8], dims: [usize; 3], factors: [usize; 3]) -> Vec<u8> {
    let out_dims: [usize; 3] = std::array::from_fn(|a| dims[a] * factors[a]);
    let mut out = Vec::with_capacity(out_dims.iter().product());
    for k in 0..out_dims[2] {
        for j in 0..out_dims[1] {
            let row = (k / factors[2] * dims[1] + j / factors[1]) * dims[0];
            out.extend((0..out_dims[0]).map(|i| src[row + i / factors[0]]));
        }
    }
    out
}

/// The committed TotalSegmentator outputs: `(prediction, ground truth)` = (fast model, full model).
fn totalseg_sources() -> (PathBuf, PathBuf) {
    let dir = crate::workspace_root().join("tests").join("data").join("totalsegmentator");
    (dir.join("example_seg_fast.nii.gz"), dir.join("example_seg.nii.gz"))
}

/// The TotalSegmentator file at `path` upsampled to [`TOTALSEG_DIMS`].
fn upsampled(path: &Path) -> std::io::Result<Vec<u8>> {
    let volume = segauge_io::read_nifti(path).map_err(std::io::Error::other)?;
    let dims = volume.grid().dims();
    let factors: [usize; 3] = std::array::from_fn(|a| TOTALSEG_DIMS[a] / dims[a]);
    if (0..3).any(|a| dims[a] * factors[a] != TOTALSEG_DIMS[a]) {
        return Err(std::io::Error::other(format!("{}: unexpected shape {dims:?}", path.display())));
    }
    let segauge_io::Labels::U8(v) = volume.labels() else {
        return Err(std::io::Error::other(format!("{}: expected uint8 labels", path.display())));
    };
    Ok(upsample_nearest(v, dims, factors))
}

/// Makes sure both files of the upsampled TotalSegmentator pair exist and returns their paths.
///
/// # Errors
/// Reading the committed files, or writing the new ones.
pub fn ensure_totalseg_data() -> std::io::Result<BenchData> {
    let paths = crate::case_paths("many-totalseg", MANY_DATA_VERSION);
    let (pred_src, gt_src) = totalseg_sources();
    std::fs::create_dir_all(data_dir())?;
    for (out, src) in [(&paths.pred, &pred_src), (&paths.gt, &gt_src)] {
        if !out.is_file() {
            write_atomically_on(out, TOTALSEG_DIMS, TOTALSEG_SPACING, &upsampled(src)?)?;
        }
    }
    Ok(paths)
}

/// Makes sure both files of the synthetic 117-structure body exist (the two made in parallel) and returns their
/// paths.
///
/// # Errors
/// Any error creating the directory or writing a file.
pub fn ensure_body_data() -> std::io::Result<BenchData> {
    let paths = crate::case_paths("many-body117", MANY_DATA_VERSION);
    let (pred, gt) = (|| paint_body(&body_prediction()), || paint_body(&body_structures()));
    crate::ensure_on(paths, BODY_DIMS, BODY_SPACING, &pred, &gt)
}

/// Ellipsoids as (centre, semi-axes), mm.
type Parts<'a> = &'a [([f64; 3], [f64; 3])];

/// Rasterises the structures of a body, structure `n` (0-based) with label `n + 1`, on [`BODY_DIMS`] at
/// [`BODY_SPACING`]; where structures overlap, the one with the higher label keeps the voxel (the small structures
/// come last, so they stay whole, as a vessel or a gland inside an organ's outline).
pub fn paint_body(structures: &[Organ]) -> Vec<u8> {
    let spacing = BODY_SPACING.map(f64::from);
    let mut out = vec![0u8; BODY_DIMS.iter().product()];
    for (n, organ) in structures.iter().enumerate().rev() {
        let label = u8::try_from(n + 1).expect("at most 255 structures");
        paint_organ_into(&mut out, BODY_DIMS, spacing, organ, label);
    }
    out
}

/// An ellipsoid with semi-axis `radii[0]` along `dir` (any length but zero) and the other two across it.
fn oriented(centre: [f64; 3], dir: [f64; 3], radii: [f64; 3]) -> RotatedEllipsoid {
    let a = normalise(dir);
    let helper = if a[2].abs() < 0.9 { [0.0, 0.0, 1.0] } else { [1.0, 0.0, 0.0] };
    let b = normalise(cross(a, helper));
    let c = cross(a, b);
    RotatedEllipsoid { centre, radii, axes: [a, b, c] }
}

fn normalise(v: [f64; 3]) -> [f64; 3] {
    let n = dot(v, v).sqrt();
    v.map(|x| x / n)
}

/// A tube of radius `r` (mm) along the polyline `points`: per segment, overlapping ellipsoids about `step` mm long.
pub(crate) fn tube(points: &[[f64; 3]], r: [f64; 2], step: f64) -> Vec<RotatedEllipsoid> {
    let mut parts = Vec::new();
    for w in points.windows(2) {
        let d = crate::sub(w[1], w[0]);
        let len = dot(d, d).sqrt();
        let n = (len / step).ceil().max(1.0) as usize;
        for s in 0..n {
            let t = (s as f64 + 0.5) / n as f64;
            let centre = add(w[0], d.map(|x| x * t));
            // Each piece reaches 40 % past its neighbours' centres, so the tube has no waist.
            parts.push(oriented(centre, d, [0.9 * len / n as f64, r[0], r[1]]));
        }
    }
    parts
}

fn blob(centre: [f64; 3], radii: [f64; 3], rng: &mut SplitMix) -> RotatedEllipsoid {
    RotatedEllipsoid { centre, radii, axes: random_rotation(rng) }
}

fn organ(parts: Vec<RotatedEllipsoid>) -> Organ {
    Organ { parts, warp: None }
}

/// The ground truth of the synthetic body: [`BODY_STRUCTURES`] structures in label order, in a field of view of
/// 768 × 768 × 900 mm (x left to right, y front to back, z feet to head, the body's axis at x = 384, y ≈ 390 mm).
///
/// Labels 1–26 vertebrae (sacrum to C1, each a body and a spinous process), 27–50 ribs (12 pairs, chains of thin
/// ellipsoids along a sloping arc), 51–55 tubes (aorta with its arch, inferior vena cava, oesophagus, trachea,
/// spinal cord), 56–83 organs, muscles and bones (liver of about 1.6 L, lungs in five lobes, femurs, …), 84–117
/// small structures (glands, vessel segments, small bones: 4–20 mm ellipsoids scattered in the trunk).
pub fn body_structures() -> Vec<Organ> {
    let mut rng = SplitMix(0x0B0D_7117_0001);
    let rng = &mut rng;
    let (cx, cy) = (384.0, 390.0);
    let mut out: Vec<Organ> = Vec::with_capacity(BODY_STRUCTURES);
    // 26 vertebrae, sacrum (z 230) to C1 (z 755).
    for v in 0..26 {
        let z = 230.0 + 21.0 * v as f64;
        let scale = if v >= 19 { 0.65 } else { 1.0 - 0.012 * v as f64 };
        let body = [19.0, 16.0, 8.5].map(|r| r * scale);
        let tilt = [uniform(rng, 0.08), uniform(rng, 0.08), 1.0];
        out.push(organ(vec![
            oriented([cx, cy + 45.0, z], tilt, [body[2], body[0], body[1]]),
            oriented([cx, cy + 75.0, z - 4.0], [0.0, 1.0, -0.4], [16.0 * scale, 5.0, 4.0]),
        ]));
    }
    // 24 ribs: 12 levels, right then left; each an arc from the spine forwards, dropping 35 mm.
    for level in 0..12 {
        for side in [-1.0, 1.0] {
            let z0 = 655.0 - 19.0 * level as f64;
            let (rx, ry) = (140.0 + 3.0 * level.min(7) as f64, 105.0);
            let points: Vec<[f64; 3]> = (0..=12)
                .map(|s| {
                    let th = 0.25 + 2.4 * s as f64 / 12.0;
                    [cx + side * rx * th.sin(), cy + 10.0 + ry * th.cos(), z0 - 35.0 * s as f64 / 12.0]
                })
                .collect();
            out.push(organ(tube(&points, [4.5, 3.5], 9.0)));
        }
    }
    // 5 tubes.
    let aorta: Vec<[f64; 3]> = vec![
        [cx + 10.0, cy + 10.0, 330.0],
        [cx + 12.0, cy + 8.0, 560.0],
        [cx + 5.0, cy - 20.0, 640.0],
        [cx - 20.0, cy - 40.0, 600.0],
    ];
    out.push(organ(tube(&aorta, [12.0, 12.0], 12.0)));
    let ivc = [[cx - 25.0, cy - 5.0, 330.0], [cx - 28.0, cy - 15.0, 580.0]];
    out.push(organ(tube(&ivc, [11.0, 9.0], 12.0)));
    let oesophagus = [[cx + 5.0, cy + 20.0, 520.0], [cx, cy + 22.0, 700.0]];
    out.push(organ(tube(&oesophagus, [7.0, 5.0], 10.0)));
    let trachea = [[cx, cy - 5.0, 610.0], [cx, cy - 15.0, 730.0]];
    out.push(organ(tube(&trachea, [9.0, 8.0], 10.0)));
    let cord = [[cx, cy + 62.0, 250.0], [cx, cy + 60.0, 760.0]];
    out.push(organ(tube(&cord, [5.0, 4.0], 12.0)));
    // 28 organs, muscles and bones (centres, semi-axes in mm).
    let big: [(Parts<'_>, bool); 28] = [
        (
            &[
                ([cx - 60.0, cy - 20.0, 540.0], [85.0, 70.0, 60.0]),
                ([cx + 10.0, cy - 40.0, 560.0], [55.0, 35.0, 30.0]),
            ],
            true,
        ), // liver
        (&[([cx + 85.0, cy + 20.0, 545.0], [45.0, 30.0, 50.0])], true), // spleen
        (&[([cx - 60.0, cy + 35.0, 460.0], [30.0, 27.0, 52.0])], true), // right kidney
        (&[([cx + 60.0, cy + 35.0, 470.0], [28.0, 25.0, 50.0])], true), // left kidney
        (
            &[
                ([cx + 50.0, cy - 40.0, 530.0], [50.0, 35.0, 55.0]),
                ([cx + 20.0, cy - 55.0, 490.0], [35.0, 25.0, 25.0]),
            ],
            true,
        ), // stomach
        (&[([cx - 70.0, cy, 680.0], [55.0, 70.0, 45.0])], true),        // right upper lobe
        (&[([cx - 75.0, cy - 30.0, 630.0], [45.0, 45.0, 30.0])], true), // right middle lobe
        (&[([cx - 70.0, cy + 20.0, 600.0], [60.0, 70.0, 55.0])], true), // right lower lobe
        (&[([cx + 70.0, cy, 680.0], [55.0, 70.0, 50.0])], true),        // left upper lobe
        (&[([cx + 70.0, cy + 20.0, 605.0], [55.0, 70.0, 55.0])], true), // left lower lobe
        (&[([cx + 20.0, cy - 45.0, 620.0], [60.0, 50.0, 50.0])], true), // heart
        (&[([cx, cy - 10.0, 820.0], [70.0, 85.0, 60.0])], true),        // brain
        (&[([cx, cy - 50.0, 255.0], [45.0, 35.0, 35.0])], true),        // urinary bladder
        (&[([cx - 80.0, cy + 70.0, 230.0], [55.0, 35.0, 70.0])], true), // gluteus maximus right
        (&[([cx + 80.0, cy + 70.0, 230.0], [55.0, 35.0, 70.0])], true), // gluteus maximus left
        (&[([cx - 45.0, cy + 20.0, 330.0], [20.0, 20.0, 110.0])], true), // iliopsoas right
        (&[([cx + 45.0, cy + 20.0, 330.0], [20.0, 20.0, 110.0])], true), // iliopsoas left
        (&[([cx - 30.0, cy + 85.0, 480.0], [18.0, 20.0, 230.0])], false), // autochthon right
        (&[([cx + 30.0, cy + 85.0, 480.0], [18.0, 20.0, 230.0])], false), // autochthon left
        (
            &[
                ([cx, cy - 30.0, 400.0], [80.0, 40.0, 60.0]),
                ([cx - 60.0, cy - 20.0, 330.0], [25.0, 25.0, 60.0]),
            ],
            true,
        ), // colon
        (&[([cx - 10.0, cy - 60.0, 380.0], [60.0, 30.0, 50.0])], true), // small bowel
        (&[([cx - 90.0, cy - 10.0, 125.0], [18.0, 18.0, 100.0])], false), // femur right
        (&[([cx + 90.0, cy - 10.0, 125.0], [18.0, 18.0, 100.0])], false), // femur left
        (&[([cx - 200.0, cy + 20.0, 560.0], [16.0, 16.0, 140.0])], false), // humerus right
        (&[([cx + 200.0, cy + 20.0, 560.0], [16.0, 16.0, 140.0])], false), // humerus left
        (&[([cx - 85.0, cy + 30.0, 290.0], [45.0, 20.0, 45.0])], true), // hip right
        (&[([cx + 85.0, cy + 30.0, 290.0], [45.0, 20.0, 45.0])], true), // hip left
        (&[([cx, cy - 75.0, 620.0], [14.0, 6.0, 80.0])], false),        // sternum
    ];
    for (parts, turned) in big {
        let parts = parts
            .iter()
            .map(|&(c, r)| {
                if turned {
                    // A small random turn, so that no surface is aligned with the grid.
                    let axis = random_unit_vector(rng);
                    let angle = uniform(rng, 15.0).to_radians();
                    let axes =
                        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]].map(|a| rotate(a, axis, angle));
                    RotatedEllipsoid { centre: c, radii: r, axes }
                } else {
                    oriented(c, [uniform(rng, 0.05), uniform(rng, 0.05), 1.0], [r[2], r[0], r[1]])
                }
            })
            .collect();
        out.push(organ(parts));
    }
    // 34 small structures scattered in the trunk.
    while out.len() < BODY_STRUCTURES {
        let centre = [cx + uniform(rng, 110.0), cy + uniform(rng, 60.0), 470.0 + uniform(rng, 220.0)];
        let size = 4.0 + 16.0 * rng.next_f64();
        let radii = [size, size * (0.5 + 0.5 * rng.next_f64()), size * (0.4 + 0.6 * rng.next_f64())];
        out.push(organ(vec![blob(centre, radii, rng)]));
    }
    out
}

/// The prediction of the synthetic body: every ellipsoid of every structure shifted by up to ±2 mm per axis (one
/// shift per structure), turned by up to ±3° and scaled by up to ±6 % per semi-axis, then the whole body deformed by
/// a [`Warp`] of 1.5 mm per component with wavelengths of 40–60 mm. Deterministic.
pub fn body_prediction() -> Vec<Organ> {
    let mut rng = SplitMix(0x0B0D_7117_0002);
    let rng = &mut rng;
    let waves = [0, 1, 2].map(|_| {
        let wavelength = 50.0 + uniform(rng, 10.0);
        random_unit_vector(rng).map(|c| c * std::f64::consts::TAU / wavelength)
    });
    let phases = [0, 1, 2].map(|_| rng.next_f64() * std::f64::consts::TAU);
    let warp = Warp { amplitude: 1.5, waves, phases };
    body_structures()
        .into_iter()
        .map(|o| {
            let shift = [0, 1, 2].map(|_| uniform(rng, 2.0));
            let parts = o
                .parts
                .iter()
                .map(|e| {
                    let axis = random_unit_vector(rng);
                    let angle = uniform(rng, 3.0).to_radians();
                    RotatedEllipsoid {
                        centre: add(e.centre, shift),
                        radii: e.radii.map(|r| r * (1.0 + uniform(rng, 0.06))),
                        axes: e.axes.map(|row| rotate(row, axis, angle)),
                    }
                })
                .collect();
            Organ { parts, warp: Some(warp) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_neighbour_upsampling() {
        let src = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let up = upsample_nearest(&src, [2, 2, 2], [2, 1, 3]);
        assert_eq!(up.len(), 4 * 2 * 6);
        assert_eq!(&up[..8], &[1, 1, 2, 2, 3, 3, 4, 4]);
        assert_eq!(&up[16..24], &[1, 1, 2, 2, 3, 3, 4, 4]);
        assert_eq!(&up[24..32], &[5, 5, 6, 6, 7, 7, 8, 8]);
    }

    #[test]
    fn body_has_117_structures_inside_the_field_of_view() {
        let fov = [0, 1, 2].map(|a| BODY_DIMS[a] as f64 * f64::from(BODY_SPACING[a]));
        for body in [body_structures(), body_prediction()] {
            assert_eq!(body.len(), BODY_STRUCTURES);
            for e in body.iter().flat_map(|o| &o.parts) {
                // Half extents plus the prediction's shift and warp.
                let reach = |a: usize| e.half_extent(a, 1.0) + 5.0;
                assert!((0..3).all(|a| e.centre[a] > reach(a) && e.centre[a] + reach(a) < fov[a]), "{e:?}");
            }
        }
    }
}
