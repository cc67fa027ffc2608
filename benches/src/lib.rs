//! Benchmark data for segauge: a pair of abdominal-CT-sized label maps (512×512×300 voxels at 0.8×0.8×1.5 mm,
//! uint8, gzip-compressed NIfTI-1), made of ellipsoid "organs" of realistic size.
//!
//! - [`ground_truth_structures`]: liver (label 1, a union of ellipsoids of about 1.5 L), right and left kidney
//!   (2, 3), spleen (4) and a liver lesion (5).
//! - [`prediction_structures`]: the same structures shifted by up to 3 mm and scaled by up to ±6 % per axis, plus a
//!   spurious lesion; deterministic (fixed seeds).
//! - [`paint`]: rasterises structures, visiting only the voxels inside each ellipsoid (row spans computed
//!   analytically, then made exact with [`segauge_tests::in_ellipsoid`]'s predicate).
//! - [`ensure_bench_data`]: writes both files under `<workspace>/target/bench-data/` unless they are already there,
//!   and returns their paths. The file names carry [`DATA_VERSION`], so a changed generator makes new files.
#![deny(missing_docs)]

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
    let dir = data_dir();
    BenchData {
        pred: dir.join(format!("io-v{DATA_VERSION}-pred.nii.gz")),
        gt: dir.join(format!("io-v{DATA_VERSION}-gt.nii.gz")),
    }
}

/// Makes sure both benchmark files exist, generating any missing one (about a second each in release builds; the
/// two are made in parallel), and returns their paths.
///
/// Files are written under a temporary name and renamed into place, so a concurrent or interrupted run never
/// leaves a partial file behind under the final name.
///
/// # Errors
/// Any error creating the directory or writing a file.
pub fn ensure_bench_data() -> std::io::Result<BenchData> {
    let paths = bench_paths();
    std::fs::create_dir_all(data_dir())?;
    type Make = fn() -> Vec<u8>;
    let jobs: [(&Path, Make); 2] = [(&paths.pred, prediction), (&paths.gt, ground_truth)];
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .filter(|(path, _)| !path.is_file())
            .map(|&(path, make)| scope.spawn(move || write_atomically(path, &make())))
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    })?;
    Ok(paths)
}

fn write_atomically(path: &Path, labels: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("data.nii.gz");
    // The temporary name must also end in `.gz`: Nifti::write compresses by file name.
    let tmp = path.with_file_name(format!(".tmp-{}-{name}", std::process::id()));
    let result =
        Nifti::u8(DIMS, SPACING, labels.to_vec()).write(&tmp).and_then(|()| std::fs::rename(&tmp, path));
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
