//! The data-set benchmark: 1000 generated cases of 64³ voxels (1 × 1 × 1.5 mm), each with an organ (label 1,
//! an ellipsoid of 14–22 mm radii) and 0–5 lesions (label 2, 1.5–6 mm radii) inside it; the prediction shifts and
//! rescales the organ, drops some lesions, moves the others and invents a few. A metadata CSV gives every case a
//! scanner (3 values), a site (5) and a sex (2). Deterministic: case i uses seed i.

use std::path::{Path, PathBuf};

use segauge_tests::{Nifti, SplitMix, in_ellipsoid};

/// Version of the generator, part of the folder name.
pub const EVAL_DATA_VERSION: u32 = 1;
/// Number of cases.
pub const EVAL_CASES: usize = 1000;
const DIMS: [usize; 3] = [64, 64, 64];
const SPACING: [f64; 3] = [1.0, 1.0, 1.5];

/// The folders and the metadata file of the data-set benchmark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalData {
    /// Predictions, `case_NNNN.nii.gz`.
    pub pred: PathBuf,
    /// Ground truths.
    pub gt: PathBuf,
    /// `metadata.csv` (`case,scanner,site,sex`).
    pub metadata: PathBuf,
}

type Blob = ([f64; 3], [f64; 3]);

fn case(i: usize) -> (Vec<u8>, Vec<u8>) {
    let mut rng = SplitMix(0x5e6a_u64 ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut u = |lo: f64, hi: f64| lo + (hi - lo) * rng.next_f64();
    let centre = [u(40.0, 56.0), u(40.0, 56.0), u(40.0, 56.0)];
    let radii = [u(14.0, 22.0), u(14.0, 22.0), u(14.0, 22.0)];
    let mut lesions: Vec<Blob> = Vec::new();
    for _ in 0..(u(0.0, 6.0) as usize) {
        let c = std::array::from_fn(|a| centre[a] + u(-0.5, 0.5) * radii[a]);
        lesions.push((c, [u(1.5, 6.0), u(1.5, 6.0), u(1.5, 6.0)]));
    }
    let organ_p: Blob = (
        std::array::from_fn(|a| centre[a] + u(-2.0, 2.0)),
        std::array::from_fn(|a| radii[a] * u(0.92, 1.08)),
    );
    let mut lesions_p: Vec<Blob> = Vec::new();
    for (c, r) in &lesions {
        if u(0.0, 1.0) < 0.8 {
            lesions_p.push((std::array::from_fn(|a| c[a] + u(-1.5, 1.5)), r.map(|v| v * u(0.8, 1.2))));
        }
    }
    for _ in 0..(u(0.0, 2.5) as usize) {
        let c = std::array::from_fn(|a| centre[a] + u(-0.5, 0.5) * radii[a]);
        lesions_p.push((c, [u(1.5, 4.0), u(1.5, 4.0), u(1.5, 4.0)]));
    }
    (paint(&(centre, radii), &lesions), paint(&organ_p, &lesions_p))
}

fn paint(organ: &Blob, lesions: &[Blob]) -> Vec<u8> {
    segauge_tests::label_map(DIMS, |i, j, k| {
        if lesions.iter().any(|(c, r)| in_ellipsoid([i, j, k], SPACING, *c, *r)) {
            2
        } else {
            u8::from(in_ellipsoid([i, j, k], SPACING, organ.0, organ.1))
        }
    })
}

/// The paths of the data set (they may not exist yet).
pub fn eval_paths() -> EvalData {
    let dir = crate::data_dir().join(format!("eval-v{EVAL_DATA_VERSION}"));
    EvalData { pred: dir.join("pred"), gt: dir.join("gt"), metadata: dir.join("metadata.csv") }
}

/// Writes the data set unless its metadata file (written last) is there, and returns the paths.
///
/// # Errors
/// Any error creating a folder or writing a file.
pub fn ensure_eval_data() -> std::io::Result<EvalData> {
    let paths = eval_paths();
    if paths.metadata.is_file() {
        return Ok(paths);
    }
    std::fs::create_dir_all(&paths.pred)?;
    std::fs::create_dir_all(&paths.gt)?;
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let write = |i: usize| -> std::io::Result<()> {
        let (gt, pred) = case(i);
        let name = format!("case_{i:04}.nii.gz");
        let s = SPACING.map(|v| v as f32);
        Nifti::u8(DIMS, s, gt).write(&paths.gt.join(&name))?;
        Nifti::u8(DIMS, s, pred).write(&paths.pred.join(&name))
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || (t..EVAL_CASES).step_by(threads).try_for_each(write)))
            .collect();
        handles.into_iter().try_for_each(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    })?;
    let mut csv = String::from("case,scanner,site,sex\n");
    for i in 0..EVAL_CASES {
        let scanner = ["GE", "Siemens", "Philips"][(i * 7 + i / 13) % 3];
        let site = ["A", "B", "C", "D", "E"][(i * 11 + i / 7) % 5];
        let sex = ["F", "M"][(i / 3) % 2];
        csv.push_str(&format!("case_{i:04},{scanner},{site},{sex}\n"));
    }
    write_text(&paths.metadata, &csv)?;
    Ok(paths)
}

fn write_text(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}
