//! Test support for segauge: label maps generated from analytic shapes, and writers that control every header
//! field (so tests can build exactly the valid and broken files they need).
//!
//! The NIfTI writer here is deliberately independent of the reader under test (segauge-io parses headers with the
//! `nifti` crate); the fixtures written by nibabel under `tests/data/nifti` are the external reference.
//! [`dicom`] builds and takes apart DICOM bytes without a DICOM library; [`mutate`] makes the seeded mutants of
//! segauge-io's hostile-input test and of `cargo xtask fuzz`.

pub mod browser;
pub mod dicom;
pub mod mutate;
pub mod shapes;
pub mod shapes2d;
use std::io::Write;
use std::path::Path;

/// A NIfTI-1 single-file (`n+1`) image, field by field.
#[derive(Debug, Clone)]
pub struct Nifti {
    /// `dim[0..8]`.
    pub dim: [i16; 8],
    /// NIfTI datatype code.
    pub datatype: i16,
    /// `pixdim[0..8]` (`pixdim[0]` is qfac).
    pub pixdim: [f32; 8],
    /// `vox_offset`; the gap after the 4 extension bytes is zero-filled.
    pub vox_offset: f32,
    /// `scl_slope`.
    pub scl_slope: f32,
    /// `scl_inter`.
    pub scl_inter: f32,
    /// `xyzt_units`.
    pub xyzt_units: u8,
    /// `qform_code`.
    pub qform_code: i16,
    /// `sform_code`.
    pub sform_code: i16,
    /// `quatern_b, c, d` and `qoffset_x, y, z`.
    pub quatern: [f32; 6],
    /// `srow_x, srow_y, srow_z`.
    pub srow: [[f32; 4]; 3],
    /// Raw voxel bytes, little-endian, Fortran order.
    pub data: Vec<u8>,
    /// Write the header and data big-endian (data must then be given big-endian too).
    pub big_endian: bool,
}

impl Nifti {
    /// A 3D uint8 image with spacing `spacing`, sform = diag(spacing) and origin 0.
    pub fn u8(dims: [usize; 3], spacing: [f32; 3], data: Vec<u8>) -> Nifti {
        assert_eq!(data.len(), dims.iter().product::<usize>());
        let d = dims.map(|v| i16::try_from(v).expect("dimension fits i16"));
        Nifti {
            dim: [3, d[0], d[1], d[2], 1, 1, 1, 1],
            datatype: 2,
            pixdim: [1.0, spacing[0], spacing[1], spacing[2], 0.0, 0.0, 0.0, 0.0],
            vox_offset: 352.0,
            scl_slope: 1.0,
            scl_inter: 0.0,
            xyzt_units: 2,
            qform_code: 0,
            sform_code: 1,
            quatern: [0.0; 6],
            srow: [[spacing[0], 0.0, 0.0, 0.0], [0.0, spacing[1], 0.0, 0.0], [0.0, 0.0, spacing[2], 0.0]],
            data,
            big_endian: false,
        }
    }

    /// The file's bytes (uncompressed).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut h = Vec::with_capacity(352 + self.data.len());
        let be = self.big_endian;
        let i32b = |v: i32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let i16b = |v: i16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let f32b = |v: f32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        h.extend(i32b(348));
        h.extend([0u8; 10 + 18]); // data_type, db_name
        h.extend(i32b(0)); // extents
        h.extend(i16b(0)); // session_error
        h.extend([b'r', 0]); // regular, dim_info
        for d in self.dim {
            h.extend(i16b(d));
        }
        h.extend(f32b(0.0));
        h.extend(f32b(0.0));
        h.extend(f32b(0.0)); // intent_p1..3
        h.extend(i16b(0)); // intent_code
        h.extend(i16b(self.datatype));
        h.extend(i16b(bitpix(self.datatype)));
        h.extend(i16b(0)); // slice_start
        for p in self.pixdim {
            h.extend(f32b(p));
        }
        h.extend(f32b(self.vox_offset));
        h.extend(f32b(self.scl_slope));
        h.extend(f32b(self.scl_inter));
        h.extend(i16b(0)); // slice_end
        h.push(0); // slice_code
        h.push(self.xyzt_units);
        h.extend([0u8; 4 * 4 + 4 * 2]); // cal_max, cal_min, slice_duration, toffset, glmax, glmin
        h.extend([0u8; 80 + 24]); // descrip, aux_file
        h.extend(i16b(self.qform_code));
        h.extend(i16b(self.sform_code));
        for q in self.quatern {
            h.extend(f32b(q));
        }
        for row in self.srow {
            for v in row {
                h.extend(f32b(v));
            }
        }
        h.extend([0u8; 16]); // intent_name
        h.extend(*b"n+1\0");
        assert_eq!(h.len(), 348);
        h.extend([0u8; 4]); // no extensions
        while (h.len() as f32) < self.vox_offset {
            h.push(0);
        }
        h.extend(&self.data);
        h
    }

    /// Writes the image to `path`, gzip-compressed when the name ends in `.gz`.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        write_maybe_gz(path, &self.to_bytes())
    }
}

fn bitpix(datatype: i16) -> i16 {
    match datatype {
        2 | 256 => 8,
        4 | 512 => 16,
        8 | 16 | 768 => 32,
        64 | 1024 | 1280 => 64,
        _ => 0,
    }
}

/// Writes `bytes` to `path`, gzip-compressed (level 6) when the name ends in `.gz`.
pub fn write_maybe_gz(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut gz =
            flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::new(6));
        gz.write_all(bytes)?;
        gz.finish()?.flush()
    } else {
        let mut w = std::io::BufWriter::new(file);
        w.write_all(bytes)?;
        w.flush()
    }
}

/// Writes a `.npy` (version 1.0) file with the given dtype descriptor (e.g. `"<u2"`), shape and raw data bytes.
pub fn write_npy(
    path: &Path,
    descr: &str,
    fortran_order: bool,
    shape: &[usize],
    data: &[u8],
) -> std::io::Result<()> {
    std::fs::write(path, npy_bytes(descr, fortran_order, shape, data))
}

/// The bytes of a `.npy` (version 1.0) file, as [`write_npy`] writes them.
pub fn npy_bytes(descr: &str, fortran_order: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape_txt = match shape {
        [one] => format!("({one},)"),
        _ => format!("({})", shape.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
    };
    let order = if fortran_order { "True" } else { "False" };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape_txt}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend(u16::try_from(header.len()).expect("short header").to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

/// A label map built voxel by voxel: `f(i, j, k)` gives the label; voxels in i-fastest order.
pub fn label_map(dims: [usize; 3], f: impl Fn(usize, usize, usize) -> u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(dims.iter().product());
    for k in 0..dims[2] {
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                out.push(f(i, j, k));
            }
        }
    }
    out
}

/// True when voxel centre `(i, j, k)` at `spacing` lies inside the ellipsoid with centre `c` (mm) and semi-axes `r`
/// (mm), axis-aligned.
pub fn in_ellipsoid(ijk: [usize; 3], spacing: [f64; 3], c: [f64; 3], r: [f64; 3]) -> bool {
    (0..3).map(|a| ((ijk[a] as f64 * spacing[a] - c[a]) / r[a]).powi(2)).sum::<f64>() <= 1.0
}

/// A small deterministic pseudo-random generator (SplitMix64) for fixtures; never used for statistics.
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// Next 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is negligible for the small `n` of fixtures).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The example data set shipped in `examples/data`: `n` cases of 48×40×24 voxels at 0.9×0.9×2.5 mm, ground truth
/// with two organs (labels 1, 2) and, in some cases, a lesion (label 3); predictions are shifted, shrunk or grown
/// copies, one case misses the lesion and one predicts a spurious one. Deterministic.
pub fn example_case(case: usize) -> (Vec<u8>, Vec<u8>) {
    let dims = EXAMPLE_DIMS;
    let sp = EXAMPLE_SPACING.map(f64::from);
    let mut rng = SplitMix(0x5E6A_0000 + case as u64);
    let jitter = |rng: &mut SplitMix, s: f64| (rng.next_f64() - 0.5) * 2.0 * s;
    let organ1 = ([14.0 + jitter(&mut rng, 1.5), 18.0, 30.0], [9.0, 11.0, 17.0]);
    let organ2 = ([29.0 + jitter(&mut rng, 1.5), 17.0, 28.0], [7.0, 8.0, 14.0]);
    let lesion = ([15.0, 19.0, 28.0], [2.5, 2.5, 4.0]);
    let has_lesion = case % 3 != 2;
    let gt = label_map(dims, |i, j, k| {
        let p = [i, j, k];
        if has_lesion && in_ellipsoid(p, sp, lesion.0, lesion.1) {
            3
        } else if in_ellipsoid(p, sp, organ1.0, organ1.1) {
            1
        } else if in_ellipsoid(p, sp, organ2.0, organ2.1) {
            2
        } else {
            0
        }
    });
    let shift = [jitter(&mut rng, 1.2), jitter(&mut rng, 1.2), jitter(&mut rng, 2.0)];
    let grow = 1.0 + jitter(&mut rng, 0.08);
    let moved = |c: [f64; 3]| [c[0] + shift[0], c[1] + shift[1], c[2] + shift[2]];
    let scaled = |r: [f64; 3]| r.map(|v| v * grow);
    let pred_lesion = match case % 4 {
        1 => None,                                        // missed lesion
        3 => Some(([30.0, 12.0, 20.0], [2.0, 2.0, 3.0])), // spurious lesion
        _ if has_lesion => Some((moved(lesion.0), lesion.1)),
        _ => None,
    };
    let pred = label_map(dims, |i, j, k| {
        let p = [i, j, k];
        if pred_lesion.is_some_and(|(c, r)| in_ellipsoid(p, sp, c, r)) {
            3
        } else if in_ellipsoid(p, sp, moved(organ1.0), scaled(organ1.1)) {
            1
        } else if in_ellipsoid(p, sp, moved(organ2.0), scaled(organ2.1)) {
            2
        } else {
            0
        }
    });
    (pred, gt)
}

/// Shape of the example cases.
pub const EXAMPLE_DIMS: [usize; 3] = [48, 40, 24];
/// Spacing of the example cases, mm.
pub const EXAMPLE_SPACING: [f32; 3] = [0.9, 0.9, 2.5];
/// Number of example cases.
pub const EXAMPLE_CASES: usize = 8;

/// The example data set's case metadata (`cases.csv`): a scanner and a site per case.
pub fn example_metadata() -> String {
    let mut csv = String::from("case,scanner,site\n");
    for case in 0..EXAMPLE_CASES {
        let scanner = ["GE", "Siemens"][case % 2];
        let site = ["A", "B", "C"][case % 3];
        csv.push_str(&format!("case_{case:03},{scanner},{site}\n"));
    }
    csv
}

/// Writes the example data set into `dir/pred` and `dir/gt` (`case_000.nii.gz` …) and its metadata into
/// `dir/cases.csv`.
pub fn write_example(dir: &Path) -> std::io::Result<()> {
    for sub in ["pred", "gt"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    std::fs::write(dir.join("cases.csv"), example_metadata())?;
    for case in 0..EXAMPLE_CASES {
        let (pred, gt) = example_case(case);
        let name = format!("case_{case:03}.nii.gz");
        Nifti::u8(EXAMPLE_DIMS, EXAMPLE_SPACING, pred).write(&dir.join("pred").join(&name))?;
        Nifti::u8(EXAMPLE_DIMS, EXAMPLE_SPACING, gt).write(&dir.join("gt").join(&name))?;
    }
    Ok(())
}

/// Per-label counts computed the plain way (an independent oracle for the one-pass counter):
/// `(label, voxels_pred, voxels_gt, both)` for every label in 1..=255 present in either map.
pub fn naive_counts(pred: &[u8], gt: &[u8]) -> Vec<(u32, u64, u64, u64)> {
    let mut present = [false; 256];
    for &v in pred.iter().chain(gt) {
        present[usize::from(v)] = true;
    }
    (1..=255u8)
        .filter(|&l| present[usize::from(l)])
        .filter_map(|l| {
            let p = pred.iter().filter(|&&v| v == l).count() as u64;
            let g = gt.iter().filter(|&&v| v == l).count() as u64;
            let both = pred.iter().zip(gt).filter(|&(&a, &b)| a == l && b == l).count() as u64;
            (p + g > 0).then_some((u32::from(l), p, g, both))
        })
        .collect()
}
