//! Benchmark data for segauge: abdominal-CT-sized label maps (512×512×300 voxels at 0.8×0.8×1.5 mm, uint8,
//! gzip-compressed NIfTI-1) made of ellipsoids of realistic organ size. Two cases, each a (prediction, ground truth)
//! pair of files:
//!
//! - **io** (`io-v1-*`), for reading and overlap counting, five labels of axis-aligned ellipsoids:
//!   - [`ground_truth_structures`]: liver (label 1, a union of ellipsoids of about 1.5 L), right and left kidney
//!     (2, 3), spleen (4) and a liver lesion (5).
//!   - [`prediction_structures`]: the same structures shifted by up to 3 mm and scaled by up to ±6 % per axis, plus
//!     a spurious lesion; deterministic (fixed seeds).
//!   - [`paint`]: rasterises structures, visiting only the voxels inside each ellipsoid (row spans computed
//!     analytically, then made exact with [`segauge_tests::in_ellipsoid`]'s predicate).
//! - **surface** (`surface-v1-*`), for surface-distance metrics, one label (1):
//!   - [`surface_ground_truth_organ`]: an irregular organ of about 1.5 L, the union of seven arbitrarily rotated
//!     ellipsoids ([`Organ`], [`RotatedEllipsoid`]);
//!   - [`surface_prediction_organ`]: a perturbed copy: every ellipsoid shifted, turned and scaled a little, and the
//!     whole organ deformed by a smooth displacement field ([`Warp`]) of a few millimetres, so that the two
//!     surfaces lie mostly 0–3 mm apart (ground truth 1495 mL, prediction 1566 mL, Dice 0.940);
//!   - [`paint_organ`]: rasterises an organ, visiting only each ellipsoid's bounding box and, per row, the span the
//!     ellipsoid can reach, then applying the exact predicate [`Organ::contains`].
//! - **eval** (`eval-v1/`): 1000 cases of 64³ voxels with an organ and lesions, and a metadata CSV, for
//!   `segauge eval` on a whole data set ([`ensure_eval_data`]).
//! - **many structures** ([`many`]): an upsampled TotalSegmentator pair and a 117-structure synthetic body, for
//!   `cargo xtask bench many-labels`; **shapes** ([`shapes`]): single-organ shapes (smooth, with islands, thin,
//!   many small lesions) at the surface case's grid, for `cargo xtask bench surface`.
//! - **small objects** ([`small`]): analytic fragments, small spheres, thin plates and tubes with their continuous
//!   truth, for the accuracy benchmark (`segauge-accuracy`).
//! - [`ensure_bench_data`] / [`ensure_surface_data`]: write a case's two files under
//!   `<workspace>/target/bench-data/` unless they are already there, and return their paths. The file names carry
//!   [`DATA_VERSION`] / [`SURFACE_DATA_VERSION`], so a changed generator makes new files.
#![deny(missing_docs)]

mod dataset;
pub mod many;
pub mod shapes;
pub mod small;

pub use dataset::{EVAL_CASES, EVAL_DATA_VERSION, EvalData, ensure_eval_data, eval_paths};

use std::path::{Path, PathBuf};

use segauge_tests::{Nifti, SplitMix};

/// Shape of the benchmark volumes, `[nx, ny, nz]`.
pub const DIMS: [usize; 3] = [512, 512, 300];
/// Voxel spacing of the benchmark volumes, mm.
pub const SPACING: [f32; 3] = [0.8, 0.8, 1.5];
/// Version of the generator, part of the file names: bump it whenever the generated data change.
pub const DATA_VERSION: u32 = 1;

/// An axis-aligned ellipsoid in millimetres; voxel `(i, j, k)` has its centre at `(i·sx, j·sy, k·sz)` (origin 0,
/// identity direction, as [`Nifti::u8`] writes it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ellipsoid {
    /// Centre, mm.
    pub centre: [f64; 3],
    /// Semi-axes, mm.
    pub radii: [f64; 3],
}

impl Ellipsoid {
    /// Analytic volume in millilitres (`4/3·π·a·b·c`, mm³ / 1000).
    pub fn volume_ml(&self) -> f64 {
        4.0 / 3.0 * std::f64::consts::PI * self.radii.iter().product::<f64>() / 1000.0
    }
}

/// A labelled structure: the union of its ellipsoids.
#[derive(Debug, Clone, PartialEq)]
pub struct Structure {
    /// Anatomical name, for messages.
    pub name: &'static str,
    /// Label value.
    pub label: u8,
    /// The ellipsoids whose union the structure is.
    pub parts: Vec<Ellipsoid>,
}

const fn ell(centre: [f64; 3], radii: [f64; 3]) -> Ellipsoid {
    Ellipsoid { centre, radii }
}

/// The ground-truth structures, in painting order (later ones overwrite earlier ones where they overlap).
///
/// The field of view is 409.6 × 409.6 × 450 mm. Sizes: liver ≈ 1.5 L, kidneys ≈ 150–180 mL, spleen ≈ 220 mL,
/// lesion ≈ 9 mL.
pub fn ground_truth_structures() -> Vec<Structure> {
    vec![
        Structure {
            name: "liver",
            label: 1,
            parts: vec![
                ell([140.0, 195.0, 300.0], [75.0, 68.0, 62.0]), // right lobe
                ell([212.0, 178.0, 318.0], [55.0, 38.0, 32.0]), // left lobe
                ell([120.0, 215.0, 250.0], [40.0, 35.0, 30.0]), // inferior tip
            ],
        },
        Structure {
            name: "right kidney",
            label: 2,
            parts: vec![ell([132.0, 262.0, 215.0], [30.0, 27.0, 52.0])],
        },
        Structure {
            name: "left kidney",
            label: 3,
            parts: vec![ell([278.0, 258.0, 225.0], [28.0, 25.0, 50.0])],
        },
        Structure { name: "spleen", label: 4, parts: vec![ell([305.0, 240.0, 305.0], [42.0, 28.0, 45.0])] },
        Structure { name: "lesion", label: 5, parts: vec![ell([150.0, 182.0, 310.0], [14.0, 13.0, 12.0])] },
    ]
}

/// The prediction: every ground-truth structure shifted (up to ±3 mm per axis, one shift per structure) and its
/// ellipsoids scaled (up to ±6 % per semi-axis), plus a spurious lesion in the left lobe. Deterministic.
pub fn prediction_structures() -> Vec<Structure> {
    let mut rng = SplitMix(0x5E6A_BE4C);
    let mut uniform = |half_width: f64| (rng.next_f64() - 0.5) * 2.0 * half_width;
    let mut out = Vec::new();
    for s in ground_truth_structures() {
        let shift = [uniform(3.0), uniform(3.0), uniform(3.0)];
        let parts = s
            .parts
            .iter()
            .map(|e| Ellipsoid {
                centre: [0, 1, 2].map(|a| e.centre[a] + shift[a]),
                radii: e.radii.map(|r| r * (1.0 + uniform(0.06))),
            })
            .collect();
        out.push(Structure { parts, ..s });
    }
    if let Some(lesion) = out.iter_mut().find(|s| s.label == 5) {
        lesion.parts.push(ell([215.0, 175.0, 322.0], [6.0, 6.0, 5.0]));
    }
    out
}

/// Rasterises `structures` (in order, later ones on top) into a label map of shape `dims` at `spacing`, voxels
/// i-fastest.
///
/// A voxel belongs to an ellipsoid exactly when [`segauge_tests::in_ellipsoid`] says so; only the voxels of each
/// ellipsoid's rows are visited, so the cost is the painted volume, not `dims` × the number of ellipsoids.
pub fn paint(dims: [usize; 3], spacing: [f64; 3], structures: &[Structure]) -> Vec<u8> {
    let [nx, ny, nz] = dims;
    let mut out = vec![0u8; nx * ny * nz];
    for s in structures {
        for e in &s.parts {
            paint_ellipsoid(&mut out, dims, spacing, e, s.label);
        }
    }
    out
}

fn paint_ellipsoid(out: &mut [u8], dims: [usize; 3], sp: [f64; 3], e: &Ellipsoid, label: u8) {
    let [nx, ny, nz] = dims;
    let (c, r) = (e.centre, e.radii);
    // Term `a` of in_ellipsoid's sum, computed the same way so that the membership test is identical.
    let term = |a: usize, idx: usize| ((idx as f64 * sp[a] - c[a]) / r[a]).powi(2);
    // Index range along axis `a` covering centre ± half (widened by a voxel against rounding), clamped.
    let range = |a: usize, half: f64, n: usize| -> Option<(usize, usize)> {
        let lo = ((c[a] - half) / sp[a]).floor() - 1.0;
        let hi = ((c[a] + half) / sp[a]).ceil() + 1.0;
        if hi < 0.0 || lo > (n - 1) as f64 {
            return None;
        }
        Some((lo.max(0.0) as usize, hi.min((n - 1) as f64) as usize))
    };
    let Some((k0, k1)) = range(2, r[2], nz) else { return };
    for k in k0..=k1 {
        let tz = term(2, k);
        let Some((j0, j1)) = range(1, r[1] * (1.0 - tz).max(0.0).sqrt(), ny) else { continue };
        for j in j0..=j1 {
            let ty = term(1, j);
            let rem = 1.0 - ty - tz;
            // Well outside even allowing for rounding: no voxel of this row can pass the exact test.
            if rem < -1e-9 {
                continue;
            }
            let Some((mut i0, mut i1)) = range(0, r[0] * rem.max(0.0).sqrt(), nx) else { continue };
            // The row's members form one interval inside [i0, i1]: trim both ends with the exact predicate.
            let inside = |i: usize| term(0, i) + ty + tz <= 1.0;
            while i0 <= i1 && !inside(i0) {
                i0 += 1;
            }
            if i0 > i1 {
                continue;
            }
            // inside(i0) holds, so this stops at i0 at the latest.
            while !inside(i1) {
                i1 -= 1;
            }
            let row = (k * ny + j) * nx;
            out[row + i0..=row + i1].fill(label);
        }
    }
}

/// The ground-truth label map at full size ([`DIMS`], [`SPACING`]).
pub fn ground_truth() -> Vec<u8> {
    paint(DIMS, SPACING.map(f64::from), &ground_truth_structures())
}

/// The prediction label map at full size ([`DIMS`], [`SPACING`]).
pub fn prediction() -> Vec<u8> {
    paint(DIMS, SPACING.map(f64::from), &prediction_structures())
}

/// Version of the surface case's generator, part of its file names: bump it whenever the generated data change.
pub const SURFACE_DATA_VERSION: u32 = 1;

/// An ellipsoid in any orientation, in millimetres: the points `p` with
/// `Σ_b ((axes[b] · (p − centre)) / radii[b])² ≤ 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotatedEllipsoid {
    /// Centre, mm.
    pub centre: [f64; 3],
    /// Semi-axes, mm.
    pub radii: [f64; 3],
    /// The directions of the semi-axes as unit vectors in world coordinates: the rows of a rotation matrix.
    pub axes: [[f64; 3]; 3],
}

impl RotatedEllipsoid {
    /// `Σ_b ((axes[b] · (p − centre)) / radii[b])²`: at most 1 inside. Its square root is a norm of `p − centre`,
    /// at most `|p − centre| / min(radii)`.
    pub fn level(&self, p: [f64; 3]) -> f64 {
        let d = sub(p, self.centre);
        (0..3).map(|b| (dot(self.axes[b], d) / self.radii[b]).powi(2)).sum()
    }

    /// Analytic volume in millilitres (`4/3·π·a·b·c`, mm³ / 1000).
    pub fn volume_ml(&self) -> f64 {
        4.0 / 3.0 * std::f64::consts::PI * self.radii.iter().product::<f64>() / 1000.0
    }

    /// Half the extent along world axis `a` of this ellipsoid scaled by `s` about its centre (the support function
    /// of an ellipsoid: `s·√(Σ_b (axes[b][a]·radii[b])²)`).
    fn half_extent(&self, a: usize, s: f64) -> f64 {
        s * (0..3).map(|b| (self.axes[b][a] * self.radii[b]).powi(2)).sum::<f64>().sqrt()
    }
}

/// A smooth displacement field in millimetres: component `a` of `u(p)` is `amplitude · sin(waves[a] · p +
/// phases[a])`, so `|u| ≤ amplitude·√3` everywhere.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Warp {
    /// Amplitude of each component, mm.
    pub amplitude: f64,
    /// Wave vector of each component, radians per mm.
    pub waves: [[f64; 3]; 3],
    /// Phase of each component, radians.
    pub phases: [f64; 3],
}

impl Warp {
    /// The displacement `u(p)`, mm.
    pub fn displacement(&self, p: [f64; 3]) -> [f64; 3] {
        [0, 1, 2].map(|a| self.amplitude * (dot(self.waves[a], p) + self.phases[a]).sin())
    }

    /// An upper bound of `|u(p)|` over all `p`: `amplitude·√3`.
    pub fn max_displacement(&self) -> f64 {
        self.amplitude.abs() * 3f64.sqrt()
    }
}

/// A one-label organ in millimetres: the points `p` such that `p + u(p)` lies in at least one of the ellipsoids,
/// where `u` is the warp (zero when there is none).
///
/// When `u` is Lipschitz with a constant below 1, `p ↦ p + u(p)` is one-to-one, so warping keeps the organ in one
/// piece and moves its surface by at most `|u|`. For a [`Warp`] the constant is at most `√3·amplitude·max|wave|`:
/// 0.87 for the surface case's prediction (2.4 mm, wavelengths from 30 mm).
#[derive(Debug, Clone, PartialEq)]
pub struct Organ {
    /// The ellipsoids whose (warped) union the organ is.
    pub parts: Vec<RotatedEllipsoid>,
    /// The displacement applied to a point before it is tested against the ellipsoids.
    pub warp: Option<Warp>,
}

impl Organ {
    /// True when the point `p` (mm) belongs to the organ. [`paint_organ`] agrees with this at every voxel centre.
    pub fn contains(&self, p: [f64; 3]) -> bool {
        let q = self.warped(p);
        self.parts.iter().any(|e| e.level(q) <= 1.0)
    }

    fn warped(&self, p: [f64; 3]) -> [f64; 3] {
        self.warp.map_or(p, |w| add(p, w.displacement(p)))
    }
}

/// Offsets (mm) from [`SURFACE_CENTRE`] and semi-axes (mm) of the surface organ's ellipsoids, the main body first.
///
/// Every offset is at most 45 mm, shorter than the main body's smallest semi-axis (54 mm), so every ellipsoid's
/// centre lies inside the main body whatever the rotations: the organ is connected.
const SURFACE_PARTS: [([f64; 3], [f64; 3]); 7] = [
    ([0.0, 0.0, 0.0], [83.5, 63.5, 54.0]),
    ([-40.5, 11.5, 13.5], [68.0, 43.0, 38.5]),
    ([43.0, -9.0, -7.0], [63.5, 34.0, 29.5]),
    ([-7.0, 34.0, -27.0], [56.5, 31.5, 34.0]),
    ([20.5, -27.0, 27.0], [52.0, 29.5, 25.0]),
    ([-34.0, -18.0, -20.5], [47.5, 25.0, 34.0]),
    ([34.0, 20.5, 18.0], [40.5, 22.5, 20.5]),
];

/// Centre of the surface organ's main body, mm: near the middle of the 409.6 × 409.6 × 450 mm field of view.
const SURFACE_CENTRE: [f64; 3] = [205.0, 200.0, 225.0];

/// The ground truth of the surface case: seven ellipsoids of semi-axes 20–84 mm whose centres lie within 45 mm of
/// (205, 200, 225) mm, each turned by its own random rotation (fixed seed, uniform over all rotations); no warp.
/// 1495 mL at the benchmark's grid.
pub fn surface_ground_truth_organ() -> Organ {
    let mut rng = SplitMix(0x0516_A7E5_0001);
    let parts = SURFACE_PARTS
        .iter()
        .map(|&(offset, radii)| RotatedEllipsoid {
            centre: add(SURFACE_CENTRE, offset),
            radii,
            axes: random_rotation(&mut rng),
        })
        .collect();
    Organ { parts, warp: None }
}

/// The prediction of the surface case: every ground-truth ellipsoid shifted by up to ±4 mm per axis, turned by up
/// to ±4° about a random axis and scaled by up to ±7 % per semi-axis; the whole organ then deformed by a [`Warp`]
/// of amplitude 2.4 mm per component with wavelengths of 30–60 mm. Deterministic.
pub fn surface_prediction_organ() -> Organ {
    let mut rng = SplitMix(0x0516_A7E5_0002);
    let parts = surface_ground_truth_organ()
        .parts
        .iter()
        .map(|e| {
            let shift = [0, 1, 2].map(|_| uniform(&mut rng, 4.0));
            let axis = random_unit_vector(&mut rng);
            let angle = uniform(&mut rng, 4.0).to_radians();
            RotatedEllipsoid {
                centre: add(e.centre, shift),
                radii: e.radii.map(|r| r * (1.0 + uniform(&mut rng, 0.07))),
                axes: e.axes.map(|row| rotate(row, axis, angle)),
            }
        })
        .collect();
    let waves = [0, 1, 2].map(|_| {
        let wavelength = 45.0 + uniform(&mut rng, 15.0);
        random_unit_vector(&mut rng).map(|c| c * std::f64::consts::TAU / wavelength)
    });
    let phases = [0, 1, 2].map(|_| rng.next_f64() * std::f64::consts::TAU);
    Organ { parts, warp: Some(Warp { amplitude: 2.4, waves, phases }) }
}

/// Rasterises `organ` with value `label` into a label map of shape `dims` at `spacing` (voxel `(i, j, k)` at
/// `(i·sx, j·sy, k·sz)` mm), voxels i-fastest; every other voxel is 0.
///
/// A voxel is painted exactly when [`Organ::contains`] holds at its centre. Only candidates are tested: for each
/// ellipsoid, the rows of its bounding box and in each row the span where the ellipsoid, grown by the warp's
/// largest displacement, can reach (solved from the quadratic along the row); voxels already painted are skipped.
pub fn paint_organ(dims: [usize; 3], spacing: [f64; 3], organ: &Organ, label: u8) -> Vec<u8> {
    let mut out = vec![0u8; dims.iter().product()];
    paint_organ_into(&mut out, dims, spacing, organ, label);
    out
}

/// [`paint_organ`] into an existing label map `out` (shape `dims`, i-fastest): paints `label` at the voxels of the
/// organ that are still 0, so structures painted earlier keep their voxels.
pub fn paint_organ_into(out: &mut [u8], dims: [usize; 3], spacing: [f64; 3], organ: &Organ, label: u8) {
    let [nx, ny, nz] = dims;
    assert_eq!(out.len(), nx * ny * nz, "the label map has the shape of the grid");
    let reach = organ.warp.map_or(0.0, |w| w.max_displacement());
    // Index range along axis `a` covering [lo, hi] mm (widened by a voxel against rounding), clamped.
    let range = |a: usize, lo: f64, hi: f64, n: usize| -> Option<(usize, usize)> {
        let lo = (lo / spacing[a]).floor() - 1.0;
        let hi = (hi / spacing[a]).ceil() + 1.0;
        if hi < 0.0 || lo > (n - 1) as f64 {
            return None;
        }
        Some((lo.max(0.0) as usize, hi.min((n - 1) as f64) as usize))
    };
    for e in &organ.parts {
        // If p + u(p) is inside, then ‖p − c‖ ≤ ‖p + u − c‖ + ‖u‖ ≤ 1 + |u| / min(radii) in the ellipsoid's norm:
        // p lies in the ellipsoid scaled by `s` (plus a hair against rounding in the row quadratic).
        let r_min = e.radii.iter().copied().fold(f64::INFINITY, f64::min);
        let s = 1.0 + reach / r_min + 1e-6;
        let c = e.centre;
        let span = |a: usize, n: usize| range(a, c[a] - e.half_extent(a, s), c[a] + e.half_extent(a, s), n);
        let (Some((k0, k1)), Some((j0, j1))) = (span(2, nz), span(1, ny)) else { continue };
        // Along a row (y, z fixed), with t = x − cx: level = qa·t² + 2·qb·t + qc.
        let inv_r2 = e.radii.map(|r| 1.0 / (r * r));
        let qa: f64 = (0..3).map(|b| e.axes[b][0].powi(2) * inv_r2[b]).sum();
        for k in k0..=k1 {
            let z = k as f64 * spacing[2];
            for j in j0..=j1 {
                let y = j as f64 * spacing[1];
                let g = [0, 1, 2].map(|b| e.axes[b][1] * (y - c[1]) + e.axes[b][2] * (z - c[2]));
                let qb: f64 = (0..3).map(|b| e.axes[b][0] * g[b] * inv_r2[b]).sum();
                let qc: f64 = (0..3).map(|b| g[b] * g[b] * inv_r2[b]).sum();
                let disc = qb * qb - qa * (qc - s * s);
                if disc < 0.0 {
                    continue;
                }
                let root = disc.sqrt();
                let Some((i0, i1)) = range(0, c[0] + (-qb - root) / qa, c[0] + (-qb + root) / qa, nx) else {
                    continue;
                };
                let row = (k * ny + j) * nx;
                for i in i0..=i1 {
                    if out[row + i] == 0 && e.level(organ.warped([i as f64 * spacing[0], y, z])) <= 1.0 {
                        out[row + i] = label;
                    }
                }
            }
        }
    }
}

/// The ground truth of the surface case at full size ([`DIMS`], [`SPACING`]), label 1.
pub fn surface_ground_truth() -> Vec<u8> {
    paint_organ(DIMS, SPACING.map(f64::from), &surface_ground_truth_organ(), 1)
}

/// The prediction of the surface case at full size ([`DIMS`], [`SPACING`]), label 1.
pub fn surface_prediction() -> Vec<u8> {
    paint_organ(DIMS, SPACING.map(f64::from), &surface_prediction_organ(), 1)
}

fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

/// Uniform in [−half_width, half_width).
fn uniform(rng: &mut SplitMix, half_width: f64) -> f64 {
    (rng.next_f64() - 0.5) * 2.0 * half_width
}

/// A direction uniform on the unit sphere (Archimedes: z uniform in [−1, 1], azimuth uniform).
fn random_unit_vector(rng: &mut SplitMix) -> [f64; 3] {
    let z = uniform(rng, 1.0);
    let phi = rng.next_f64() * std::f64::consts::TAU;
    let rho = (1.0 - z * z).max(0.0).sqrt();
    [rho * phi.cos(), rho * phi.sin(), z]
}

/// A rotation matrix uniform over all rotations, from a uniform unit quaternion (Shoemake's method).
fn random_rotation(rng: &mut SplitMix) -> [[f64; 3]; 3] {
    let (u1, u2, u3) = (rng.next_f64(), rng.next_f64(), rng.next_f64());
    let (a, b) = ((1.0 - u1).sqrt(), u1.sqrt());
    let tau = std::f64::consts::TAU;
    let (x, y, z, w) =
        (a * (tau * u2).sin(), a * (tau * u2).cos(), b * (tau * u3).sin(), b * (tau * u3).cos());
    [
        [1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - w * z), 2.0 * (x * z + w * y)],
        [2.0 * (x * y + w * z), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - w * x)],
        [2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)],
    ]
}

/// `v` turned by `angle` radians about the unit vector `axis` (Rodrigues' formula).
fn rotate(v: [f64; 3], axis: [f64; 3], angle: f64) -> [f64; 3] {
    let (sin, cos) = angle.sin_cos();
    let kxv = cross(axis, v);
    let kv = dot(axis, v) * (1.0 - cos);
    [0, 1, 2].map(|a| v[a] * cos + kxv[a] * sin + axis[a] * kv)
}

/// The two benchmark files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchData {
    /// The prediction, `.nii.gz`.
    pub pred: PathBuf,
    /// The ground truth, `.nii.gz`.
    pub gt: PathBuf,
}

/// The workspace root (the parent of this package's directory).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or_else(|| manifest.to_path_buf(), Path::to_path_buf)
}

/// Where the benchmark data are cached: `<workspace>/target/bench-data`.
pub fn data_dir() -> PathBuf {
    workspace_root().join("target").join("bench-data")
}

/// The paths of the benchmark files in [`data_dir`] (they may not exist yet).
pub fn bench_paths() -> BenchData {
    case_paths("io", DATA_VERSION)
}

/// `<data_dir>/<case>-v<version>-{pred,gt}.nii.gz`.
fn case_paths(case: &str, version: u32) -> BenchData {
    let dir = data_dir();
    BenchData {
        pred: dir.join(format!("{case}-v{version}-pred.nii.gz")),
        gt: dir.join(format!("{case}-v{version}-gt.nii.gz")),
    }
}

/// Makes sure both files of the io case exist, generating any missing one (about a second each in release builds;
/// the two are made in parallel), and returns their paths.
///
/// Files are written under a temporary name and renamed into place, so a concurrent or interrupted run never
/// leaves a partial file behind under the final name.
///
/// # Errors
/// Any error creating the directory or writing a file.
pub fn ensure_bench_data() -> std::io::Result<BenchData> {
    ensure(bench_paths(), prediction, ground_truth)
}

/// The paths of the surface case's files in [`data_dir`] (they may not exist yet).
pub fn surface_paths() -> BenchData {
    case_paths("surface", SURFACE_DATA_VERSION)
}

/// Makes sure both files of the surface case exist (see [`ensure_bench_data`] for how), and returns their paths.
///
/// # Errors
/// Any error creating the directory or writing a file.
pub fn ensure_surface_data() -> std::io::Result<BenchData> {
    ensure(surface_paths(), surface_prediction, surface_ground_truth)
}

/// A generator of one full-size label map.
type Make = fn() -> Vec<u8>;

/// Writes whichever of `paths` is missing, in parallel, from the matching generator.
fn ensure(paths: BenchData, pred: Make, gt: Make) -> std::io::Result<BenchData> {
    ensure_on(paths, DIMS, SPACING, &|| pred(), &|| gt())
}

/// Writes whichever of `paths` is missing, the two in parallel, from the matching generator (label maps of shape
/// `dims`, spacing `spacing` mm): the one routine behind every generated benchmark pair.
pub(crate) fn ensure_on(
    paths: BenchData,
    dims: [usize; 3],
    spacing: [f32; 3],
    pred: &(dyn Fn() -> Vec<u8> + Sync),
    gt: &(dyn Fn() -> Vec<u8> + Sync),
) -> std::io::Result<BenchData> {
    std::fs::create_dir_all(data_dir())?;
    let jobs: [(&Path, &(dyn Fn() -> Vec<u8> + Sync)); 2] = [(&paths.pred, pred), (&paths.gt, gt)];
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .filter(|(path, _)| !path.is_file())
            .map(|&(path, make)| scope.spawn(move || write_atomically_on(path, dims, spacing, &make())))
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    })?;
    Ok(paths)
}

/// Writes `labels` (shape `dims`, spacing `spacing` mm) as a gzip-compressed NIfTI file under a temporary name,
/// then renames it to `path`.
fn write_atomically_on(
    path: &Path,
    dims: [usize; 3],
    spacing: [f32; 3],
    labels: &[u8],
) -> std::io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("data.nii.gz");
    // The temporary name must also end in `.gz`: Nifti::write compresses by file name.
    let tmp = path.with_file_name(format!(".tmp-{}-{name}", std::process::id()));
    let result =
        Nifti::u8(dims, spacing, labels.to_vec()).write(&tmp).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use segauge_tests::{in_ellipsoid, label_map};

    /// The span painter agrees voxel for voxel with the per-voxel predicate, including ellipsoids cut by the
    /// volume's border.
    #[test]
    fn painting_matches_the_per_voxel_predicate() {
        let dims = [40, 36, 30];
        let sp = [0.8, 0.8, 1.5];
        let structures = vec![
            Structure { name: "a", label: 1, parts: vec![ell([12.0, 14.0, 20.0], [9.0, 7.5, 12.0])] },
            Structure {
                name: "b",
                label: 2,
                parts: vec![
                    ell([0.4, 27.0, 40.0], [8.0, 6.0, 10.0]),
                    ell([31.2, 28.0, 44.0], [6.4, 4.0, 4.5]),
                ],
            },
            Structure { name: "c", label: 3, parts: vec![ell([14.0, 13.6, 21.0], [2.4, 1.6, 3.0])] },
        ];
        let want = label_map(dims, |i, j, k| {
            let p = [i, j, k];
            structures
                .iter()
                .rev()
                .find(|s| s.parts.iter().any(|e| in_ellipsoid(p, sp, e.centre, e.radii)))
                .map_or(0, |s| s.label)
        });
        assert_eq!(paint(dims, sp, &structures), want);
    }

    /// The organ painter agrees voxel for voxel with [`Organ::contains`], for rotated ellipsoids, a warp, and
    /// ellipsoids cut by the volume's border; and the rotations used are orthonormal.
    #[test]
    fn organ_painting_matches_the_predicate() {
        let dims = [40, 36, 30];
        let sp = [0.8, 0.8, 1.5];
        let mut rng = SplitMix(7);
        let mut part = |centre, radii| RotatedEllipsoid { centre, radii, axes: random_rotation(&mut rng) };
        let parts = vec![
            part([14.0, 14.0, 20.0], [10.0, 6.0, 14.0]),
            part([30.0, 4.0, 40.0], [8.0, 5.0, 9.0]),
            part([3.0, 25.0, 10.0], [4.0, 3.0, 6.0]),
        ];
        for e in &parts {
            for a in 0..3 {
                for b in 0..3 {
                    let want = if a == b { 1.0 } else { 0.0 };
                    assert!((dot(e.axes[a], e.axes[b]) - want).abs() < 1e-12, "{:?}", e.axes);
                }
            }
        }
        let warp = Warp {
            amplitude: 0.8,
            waves: [[0.5, 0.1, 0.0], [0.0, 0.4, 0.3], [0.2, 0.0, 0.45]],
            phases: [0.3, 1.0, 2.0],
        };
        for organ in [Organ { parts: parts.clone(), warp: None }, Organ { parts, warp: Some(warp) }] {
            let want = label_map(dims, |i, j, k| {
                u8::from(organ.contains([i as f64 * sp[0], j as f64 * sp[1], k as f64 * sp[2]])) * 3
            });
            let got = paint_organ(dims, sp, &organ, 3);
            assert!(got.iter().filter(|&&v| v == 3).count() > 1000);
            assert_eq!(got, want);
        }
    }

    /// The surface organs are connected (every ellipsoid's centre lies inside the main body) and their small
    /// perturbations move no ellipsoid far.
    #[test]
    fn surface_organs_are_connected_and_close() {
        let (gt, pred) = (surface_ground_truth_organ(), surface_prediction_organ());
        for organ in [&gt, &pred] {
            assert!(organ.parts.iter().all(|e| organ.parts[0].level(e.centre) < 0.9));
        }
        for (g, p) in gt.parts.iter().zip(&pred.parts) {
            assert!(dot(sub(g.centre, p.centre), sub(g.centre, p.centre)).sqrt() <= 4.0 * 3f64.sqrt());
            assert!((0..3).all(|b| dot(g.axes[b], p.axes[b]) > 4f64.to_radians().cos() - 1e-12));
            assert!((0..3).all(|b| (p.radii[b] / g.radii[b] - 1.0).abs() <= 0.07));
        }
    }

    /// The surface case has the size and agreement the docs promise: one label, about 1.5 L, Dice about 0.94, and
    /// nothing on the volume's border.
    #[test]
    fn surface_case_is_realistic() {
        let voxel_ml = SPACING.iter().map(|&s| f64::from(s)).product::<f64>() / 1000.0;
        let (gt, pred) = (surface_ground_truth(), surface_prediction());
        assert!(gt.iter().chain(&pred).all(|&v| v <= 1));
        let count = |v: &[u8]| v.iter().filter(|&&x| x == 1).count() as f64;
        let both = gt.iter().zip(&pred).filter(|&(&g, &p)| g == 1 && p == 1).count() as f64;
        let (gt_ml, pred_ml) = (count(&gt) * voxel_ml, count(&pred) * voxel_ml);
        let dice = 2.0 * both / (count(&gt) + count(&pred));
        assert!((1400.0..1600.0).contains(&gt_ml), "ground truth {gt_ml} mL");
        assert!((1300.0..1700.0).contains(&pred_ml), "prediction {pred_ml} mL");
        assert!((0.85..0.95).contains(&dice), "Dice {dice}");
        let [nx, ny, nz] = DIMS;
        for v in [&gt, &pred] {
            let on_border = (0..v.len()).filter(|&n| v[n] != 0).any(|n| {
                let (i, j, k) = (n % nx, n / nx % ny, n / (nx * ny));
                i == 0 || j == 0 || k == 0 || i == nx - 1 || j == ny - 1 || k == nz - 1
            });
            assert!(!on_border);
        }
    }

    /// The organs have the sizes the docs promise, and the prediction differs from the ground truth.
    #[test]
    fn full_size_volumes_are_realistic() {
        let voxel_ml = SPACING.iter().map(|&s| f64::from(s)).product::<f64>() / 1000.0;
        let (gt, pred) = (ground_truth(), prediction());
        let ml = |v: &[u8]| {
            let mut counts = [0u64; 256];
            for &x in v {
                counts[usize::from(x)] += 1;
            }
            counts.map(|n| n as f64 * voxel_ml)
        };
        let (gt_ml, pred_ml) = (ml(&gt), ml(&pred));
        assert!((1300.0..1800.0).contains(&gt_ml[1]), "liver {} mL", gt_ml[1]);
        for l in 2..=5 {
            assert!(gt_ml[l] > 1.0 && pred_ml[l] > 1.0, "label {l}");
        }
        assert!(gt_ml[6..].iter().chain(&pred_ml[6..]).all(|&v| v == 0.0));
        assert_ne!(gt, pred);
    }
}
