//! Integration tests of segauge-io: nibabel-written NIfTI fixtures, malformed files, `.npy` arrays and case ids.
//!
//! The NIfTI fixtures and their expected values (`tests/data/nifti/expected.json`) were written by nibabel and numpy
//! (`tests/data/nifti/make_fixtures.py`), so they check the reader against an independent implementation.
//! Malformed files are built field by field with `segauge_tests::Nifti` in a temporary directory. The DICOM tests
//! are in `dicom.rs` and `rtstruct.rs`; MetaImage and NRRD (SimpleITK, pynrrd, 3D Slicer and third-party files) in
//! `itk.rs`; seeded mutants of every reader and the hostile inputs of issue 11 in `mutate.rs`.

#[cfg(feature = "dicom")]
mod dicom;
mod itk;
mod mutate;
#[cfg(feature = "dicom")]
mod rtstruct;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use segauge_io::{Axes, Error, Format, GridTolerance, LabelVolume, Labels, NpyOptions, ReadOptions};
use segauge_tests::{Nifti, SplitMix, label_map, write_npy};
use serde_json::Value;
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/nifti/"))
}

fn expected() -> Value {
    let path = data_dir().join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("expected.json is JSON")
}

fn read(path: &Path) -> Result<LabelVolume, Error> {
    segauge_io::read_labels(path, &ReadOptions::default())
}

fn read_with_spacing(path: &Path, spacing: [f64; 3]) -> Result<LabelVolume, Error> {
    let options = ReadOptions {
        npy: NpyOptions { spacing: Some(spacing), ..NpyOptions::default() },
        ..ReadOptions::default()
    };
    segauge_io::read_labels(path, &options)
}

fn f64s<const N: usize>(v: &Value) -> [f64; N] {
    let a = v.as_array().unwrap_or_else(|| panic!("{v} is not an array"));
    assert_eq!(a.len(), N, "{v}");
    std::array::from_fn(|i| a[i].as_f64().unwrap_or_else(|| panic!("{v} holds a non-number")))
}

fn assert_close(what: &str, got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol, "{what}: got {got}, want {want} (tolerance {tol})");
}

/// Label counts as segauge sees them: negative values are background.
fn counts_of(labels: &Labels) -> BTreeMap<u32, u64> {
    let mut out = BTreeMap::new();
    for idx in 0..labels.len() {
        *out.entry(labels.get(idx).expect("in range")).or_insert(0) += 1;
    }
    out
}

/// A value from nibabel, as segauge's label: negatives become 0 (background).
fn as_label(v: f64) -> u32 {
    assert_eq!(v.fract(), 0.0, "{v} is not an integer");
    if v <= 0.0 { 0 } else { v as u32 }
}

/// The Display message is one line and names the file.
fn assert_message(err: &Error, file: &str) {
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "message is not one line: {msg:?}");
    assert!(msg.contains(file), "message does not name {file}: {msg:?}");
}

fn linear(dims: [usize; 3], [i, j, k]: [usize; 3]) -> usize {
    i + dims[0] * (j + dims[1] * k)
}

// ---------------------------------------------------------------------------------------------------------------
// nibabel fixtures
// ---------------------------------------------------------------------------------------------------------------

/// Fixtures segauge reads successfully; `f64_fractional.nii.gz` is the error case, tested apart.
const READABLE: [&str; 9] = [
    "u8_sform.nii.gz",
    "i16_qform.nii",
    "f32_labels.nii.gz",
    "u8_scaled.nii.gz",
    "i16_scaled_big_endian.nii",
    "u16_no_xform.nii.gz",
    "u8_2d.nii.gz",
    "overlap_pred.nii.gz",
    "overlap_gt.nii.gz",
];

/// Reads fixture `name` and checks it against nibabel's account of it; returns the volume.
fn check_fixture(name: &str) -> LabelVolume {
    let all = expected();
    let e = &all["fixtures"][name];
    assert!(e.is_object(), "{name} is not in expected.json");
    let path = data_dir().join(name);
    let vol = read(&path).unwrap_or_else(|err| panic!("{name}: {err}"));
    let grid = vol.grid();

    // Shape: 2D images get nz = 1.
    let shape: Vec<usize> =
        e["shape"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let mut dims = [1usize; 3];
    dims[..shape.len()].copy_from_slice(&shape);
    assert_eq!(grid.dims(), dims, "{name}: shape");

    // Geometry: nibabel's affine is in file units, segauge's in mm (fixtures use mm or unknown units).
    let unit = match e["xyzt_units"].as_u64().unwrap() & 7 {
        1 => 1000.0,
        3 => 1e-3,
        _ => 1.0,
    };
    let spacing = f64s::<3>(&e["spacing"]);
    let origin = f64s::<3>(&e["origin"]);
    for a in 0..3 {
        assert_close(&format!("{name}: spacing[{a}]"), grid.spacing()[a], spacing[a] * unit, 1e-5);
        assert_close(&format!("{name}: origin[{a}]"), grid.origin()[a], origin[a] * unit, 1e-5);
    }
    let direction = e["direction"].as_array().unwrap();
    assert_eq!(direction.len(), 3, "{name}: direction rows");
    for (r, (want_row, got_row)) in direction.iter().zip(grid.direction()).enumerate() {
        for (a, (want, got)) in f64s::<3>(want_row).into_iter().zip(got_row).enumerate() {
            assert_close(&format!("{name}: direction[{r}][{a}]"), got, want, 1e-5);
        }
    }
    // The affine itself, voxel by voxel: world(ijk) = affine · (ijk, 1).
    let aff = e["affine"].as_array().unwrap();
    for ijk in [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [6.0, 5.0, 0.0]] {
        let w = grid.world(ijk);
        for (r, (row, got)) in aff.iter().take(3).zip(w).enumerate() {
            let row = f64s::<4>(row);
            let want = row[0] * ijk[0] + row[1] * ijk[1] + row[2] * ijk[2] + row[3];
            assert_close(&format!("{name}: world({ijk:?})[{r}]"), got, want * unit, 1e-4);
        }
    }

    // Per-value counts, with every negative value merged into background.
    let mut want_counts = BTreeMap::new();
    for (value, count) in e["counts"].as_object().unwrap() {
        let v: f64 = value.parse().unwrap_or_else(|_| panic!("{name}: count key {value:?}"));
        *want_counts.entry(as_label(v)).or_insert(0u64) += count.as_u64().unwrap();
    }
    assert_eq!(counts_of(vol.labels()), want_counts, "{name}: label counts");

    // Specific voxels.
    for v in e["voxels"].as_array().unwrap() {
        let [i, j, k, value] = f64s::<4>(v);
        let ijk = [i as usize, j as usize, k as usize];
        assert_eq!(vol.labels().get(linear(dims, ijk)), Some(as_label(value)), "{name}: voxel {ijk:?}");
    }

    // Storage: the narrowest type that holds the largest label.
    let max = *want_counts.keys().max().unwrap();
    assert_eq!(vol.max_label(), max, "{name}: max label");
    let storage_ok = match vol.labels() {
        Labels::U8(_) => max <= 255,
        Labels::U16(_) => (256..=65_535).contains(&max),
        Labels::U32(_) => max > 65_535,
    };
    assert!(storage_ok, "{name}: max label {max} stored as {:?}", std::mem::discriminant(vol.labels()));
    vol
}

#[test]
fn expected_json_lists_exactly_the_tested_fixtures() {
    let all = expected();
    let mut listed: Vec<&str> = all["fixtures"].as_object().unwrap().keys().map(String::as_str).collect();
    listed.sort_unstable();
    let mut tested: Vec<&str> = READABLE.iter().copied().chain(["f64_fractional.nii.gz"]).collect();
    tested.sort_unstable();
    assert_eq!(listed, tested);
    for name in tested {
        assert!(data_dir().join(name).is_file(), "{name} is missing");
    }
}

#[test]
fn nibabel_u8_sform_wins_over_a_different_qform() {
    let e = &expected()["fixtures"]["u8_sform.nii.gz"];
    assert_eq!((e["sform_code"].as_i64(), e["qform_code"].as_i64()), (Some(1), Some(1)));
    let vol = check_fixture("u8_sform.nii.gz");
    assert!(matches!(vol.labels(), Labels::U8(_)));
    assert!(vol.grid().is_orthonormal());
    for (a, s) in [0.7, 0.8, 2.5].into_iter().enumerate() {
        assert_close("spacing", vol.grid().spacing()[a], s, 1e-6);
    }
}

#[test]
fn nibabel_i16_qform_with_negative_qfac() {
    let e = &expected()["fixtures"]["i16_qform.nii"];
    assert_eq!(
        (e["sform_code"].as_i64(), e["qform_code"].as_i64(), e["qfac"].as_f64()),
        (Some(0), Some(1), Some(-1.0))
    );
    let vol = check_fixture("i16_qform.nii");
    // 300 needs u16; negative values (-1, -2, -3, -5 in the file) are background.
    assert!(matches!(vol.labels(), Labels::U16(_)));
    assert_eq!(vol.max_label(), 300);
    // qfac -1 flips the third axis: its direction is -z.
    assert_close("direction[2][2]", vol.grid().direction()[2][2], -1.0, 1e-6);
}

#[test]
fn nibabel_f32_labels_with_a_permuting_flipping_sform() {
    let vol = check_fixture("f32_labels.nii.gz");
    let d = vol.grid().direction();
    // i -> -y, j -> z, k -> x
    assert_close("d[1][0]", d[1][0], -1.0, 1e-6);
    assert_close("d[2][1]", d[2][1], 1.0, 1e-6);
    assert_close("d[0][2]", d[0][2], 1.0, 1e-6);
}

#[test]
fn nibabel_u8_scaled_applies_slope_and_intercept() {
    let e = &expected()["fixtures"]["u8_scaled.nii.gz"];
    assert_eq!((e["scl_slope"].as_f64(), e["scl_inter"].as_f64()), (Some(2.0), Some(1.0)));
    let vol = check_fixture("u8_scaled.nii.gz");
    assert!(matches!(vol.labels(), Labels::U8(_)));
    assert_eq!(vol.max_label(), 201);
}

#[test]
fn nibabel_i16_scaled_big_endian() {
    let e = &expected()["fixtures"]["i16_scaled_big_endian.nii"];
    assert_eq!(e["dtype"].as_str(), Some(">i2"));
    let vol = check_fixture("i16_scaled_big_endian.nii");
    assert!(matches!(vol.labels(), Labels::U16(_)));
    assert_eq!(vol.max_label(), 2390);
}

#[test]
fn nibabel_u16_without_sform_or_qform_uses_the_base_affine() {
    let e = &expected()["fixtures"]["u16_no_xform.nii.gz"];
    assert_eq!((e["sform_code"].as_i64(), e["qform_code"].as_i64()), (Some(0), Some(0)));
    let vol = check_fixture("u16_no_xform.nii.gz");
    assert!(matches!(vol.labels(), Labels::U16(_)));
    assert_eq!(vol.max_label(), 65_535);
    assert_close("x flip", vol.grid().direction()[0][0], -1.0, 1e-12);
}

#[test]
fn nibabel_u8_2d_is_one_slice() {
    let vol = check_fixture("u8_2d.nii.gz");
    assert_eq!(vol.grid().dims(), [7, 6, 1]);
}

#[test]
fn nibabel_overlap_pair_shares_a_grid_and_matches_numpy_counts() {
    let pred = check_fixture("overlap_pred.nii.gz");
    let gt = check_fixture("overlap_gt.nii.gz");
    assert!(pred.grid().check_same(gt.grid(), &GridTolerance::default()).is_ok());
    assert_eq!(pred.grid().dims(), [12, 10, 8]);
    let all = expected();
    let labels = all["overlap"]["labels"].as_object().unwrap();
    assert_eq!(labels.len(), 5);
    for (label, want) in labels {
        let l: u32 = label.parse().unwrap();
        let (mut vp, mut vg, mut tp) = (0u64, 0u64, 0u64);
        for idx in 0..pred.labels().len() {
            let (p, g) = (pred.labels().get(idx) == Some(l), gt.labels().get(idx) == Some(l));
            vp += u64::from(p);
            vg += u64::from(g);
            tp += u64::from(p && g);
        }
        assert_eq!(
            (vp, vg, tp),
            (
                want["voxels_pred"].as_u64().unwrap(),
                want["voxels_gt"].as_u64().unwrap(),
                want["tp"].as_u64().unwrap()
            ),
            "label {l}"
        );
        let dice = if vp + vg == 0 { None } else { Some(2.0 * tp as f64 / (vp + vg) as f64) };
        let iou = if vp + vg - tp == 0 { None } else { Some(tp as f64 / (vp + vg - tp) as f64) };
        for (what, got, want) in [("dice", dice, &want["dice"]), ("iou", iou, &want["iou"])] {
            match (got, want.as_f64()) {
                (Some(g), Some(w)) => assert_close(&format!("label {l} {what}"), g, w, 1e-12),
                (None, None) => {}
                other => panic!("label {l} {what}: {other:?}"),
            }
        }
    }
    // The pair's defining properties.
    assert_eq!(labels["4"]["voxels_gt"].as_u64(), Some(0));
    assert_eq!(labels["5"]["voxels_pred"].as_u64(), Some(0));
    assert_eq!(labels["2"]["tp"].as_u64(), Some(0));
}

#[test]
fn nibabel_fractional_value_is_not_a_label() {
    let name = "f64_fractional.nii.gz";
    let all = expected();
    let want = &all["fixtures"][name]["error"];
    assert_eq!(want["kind"].as_str(), Some("NotALabel"));
    let voxel = f64s::<3>(&want["voxel"]).map(|v| v as usize);
    let err = read(&data_dir().join(name)).unwrap_err();
    match &err {
        Error::NotALabel { path, voxel: got, value, .. } => {
            assert!(path.ends_with(name));
            assert_eq!(*got, voxel);
            assert_eq!(Some(*value), want["value"].as_f64());
        }
        other => panic!("expected NotALabel, got {other:?}"),
    }
    assert_message(&err, name);
    assert!(err.to_string().contains(&format!("({}, {}, {})", voxel[0], voxel[1], voxel[2])), "{err}");
}

// ---------------------------------------------------------------------------------------------------------------
// Malformed NIfTI files
// ---------------------------------------------------------------------------------------------------------------

const DIMS: [usize; 3] = [6, 5, 4];

fn small() -> Nifti {
    Nifti::u8(DIMS, [1.0, 1.0, 2.0], label_map(DIMS, |i, j, k| ((i + j + k) % 3) as u8))
}

/// A volume large enough that its gzip stream spans several kilobytes.
fn noisy() -> Nifti {
    let dims = [32, 32, 16];
    let mut rng = SplitMix(7);
    let data = (0..dims.iter().product::<usize>()).map(|_| (rng.next_u64() % 5) as u8).collect();
    Nifti::u8(dims, [0.5, 0.5, 1.0], data)
}

fn write(dir: &TempDir, name: &str, img: &Nifti) -> PathBuf {
    let path = dir.path().join(name);
    img.write(&path).unwrap();
    path
}

/// Writes `img` as `name`, reads it back and returns the error, after checking its message.
fn error_of(dir: &TempDir, name: &str, img: &Nifti) -> Error {
    let path = write(dir, name, img);
    let err = read(&path).expect_err(name);
    assert_message(&err, name);
    err
}

#[test]
fn the_writer_makes_valid_files() {
    let dir = TempDir::new().unwrap();
    for name in ["ok.nii", "ok.nii.gz"] {
        let vol = read(&write(&dir, name, &small())).unwrap();
        assert_eq!(vol.grid().dims(), DIMS);
        assert_eq!(vol.grid().spacing(), [1.0, 1.0, 2.0]);
        assert_eq!(vol.labels().get(linear(DIMS, [2, 1, 1])), Some(1));
    }
}

#[test]
fn missing_file_is_an_io_error_naming_the_path() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("missing.nii.gz");
    let err = read(&path).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert_message(&err, &path.display().to_string());
}

#[test]
fn gzip_cut_in_half_is_truncated() {
    let dir = TempDir::new().unwrap();
    let full = write(&dir, "full.nii.gz", &noisy());
    let bytes = std::fs::read(&full).unwrap();
    assert!(bytes.len() > 2000, "gzip stream of {} bytes", bytes.len());
    let path = dir.path().join("half.nii.gz");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = read(&path).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    assert_message(&err, "half.nii.gz");
}

#[test]
fn gzip_missing_its_length_trailer_is_truncated() {
    let dir = TempDir::new().unwrap();
    let full = write(&dir, "full.nii.gz", &noisy());
    let bytes = std::fs::read(&full).unwrap();
    let path = dir.path().join("no_isize.nii.gz");
    std::fs::write(&path, &bytes[..bytes.len() - 4]).unwrap();
    let err = read(&path).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    assert_message(&err, "no_isize.nii.gz");
}

#[test]
fn gzip_with_a_wrong_checksum_is_corrupt() {
    let dir = TempDir::new().unwrap();
    let full = write(&dir, "full.nii.gz", &noisy());
    let mut bytes = std::fs::read(&full).unwrap();
    let crc = bytes.len() - 8; // trailer: CRC32, then ISIZE
    bytes[crc] ^= 0xff;
    let path = dir.path().join("bad_crc.nii.gz");
    std::fs::write(&path, &bytes).unwrap();
    let err = read(&path).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    assert_message(&err, "bad_crc.nii.gz");
}

#[test]
fn plain_nifti_with_short_data_is_truncated() {
    let dir = TempDir::new().unwrap();
    let bytes = small().to_bytes();
    let path = dir.path().join("short.nii");
    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let err = read(&path).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    assert_message(&err, "short.nii");
    // Cut inside the header.
    let path = dir.path().join("header_only.nii");
    std::fs::write(&path, &bytes[..200]).unwrap();
    let err = read(&path).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    assert_message(&err, "header_only.nii");
}

#[test]
fn text_file_is_not_nifti() {
    let dir = TempDir::new().unwrap();
    for (name, text) in
        [("notes.nii", "this is a text file, not an image\n".repeat(20)), ("tiny.nii", "ab".into())]
    {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let err = read(&path).unwrap_err();
        assert!(matches!(err, Error::NotFormat { .. }), "{name}: {err:?}");
        assert_message(&err, name);
    }
    let path = dir.path().join("empty.nii.gz");
    std::fs::write(&path, b"").unwrap();
    let err = read(&path).unwrap_err();
    assert!(matches!(err, Error::NotFormat { .. }), "{err:?}");
    assert_message(&err, "empty.nii.gz");
}

#[test]
fn nifti2_is_unsupported() {
    let dir = TempDir::new().unwrap();
    let mut bytes = small().to_bytes();
    bytes[..4].copy_from_slice(&540i32.to_le_bytes());
    let path = dir.path().join("two.nii");
    std::fs::write(&path, &bytes).unwrap();
    let err = read(&path).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    assert_message(&err, "two.nii");
}

/// Voxel values of one layer, in file order.
fn values(v: &LabelVolume) -> Vec<u32> {
    (0..v.labels().len()).map(|i| v.labels().get(i).unwrap()).collect()
}

#[test]
fn channels_of_a_4d_file_are_structures() {
    let dir = TempDir::new().unwrap();
    let n: usize = DIMS.iter().product();
    let labels = small().data; // 0, 1, 2 in a pattern
    // One-hot with its background channel (MONAI's to_onehot): channel c is label c, as the label map.
    let mut img = small();
    img.dim[0] = 4;
    img.dim[4] = 3;
    img.data = (0..3u8).flat_map(|c| labels.iter().map(move |&l| u8::from(l == c))).collect();
    let path = write(&dir, "onehot.nii.gz", &img);
    let file = segauge_io::read_label_file(&path, &ReadOptions::default()).unwrap();
    assert_eq!(file.layers().len(), 1);
    assert_eq!(values(&file.layers()[0]), labels.iter().map(|&l| u32::from(l)).collect::<Vec<_>>());
    assert_eq!(values(&read(&path).unwrap()), values(&file.layers()[0]));
    // Channels without background, overlapping (BraTS-style regions, written as 5D with dim[4] = 1 as ITK and
    // MONAI write vector images): channel c is label c + 1, each kept whole in its own layer.
    let region = |c: usize, l: u8| match c {
        0 => l >= 1, // "whole"
        _ => l == 2, // "core", inside "whole"
    };
    let mut img = small();
    img.dim[0] = 5;
    img.dim[4] = 1;
    img.dim[5] = 2;
    img.data = (0..2).flat_map(|c| labels.iter().map(move |&l| u8::from(region(c, l)))).collect();
    let path = write(&dir, "regions.nii.gz", &img);
    let file = segauge_io::read_label_file(&path, &ReadOptions::default()).unwrap();
    assert_eq!(file.layers().len(), 2);
    for (c, layer) in file.layers().iter().enumerate() {
        let want: Vec<u32> = labels.iter().map(|&l| if region(c, l) { c as u32 + 1 } else { 0 }).collect();
        assert_eq!(values(layer), want);
    }
    let err = read(&path).unwrap_err();
    let shared = labels.iter().filter(|&&l| l == 2).count();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: segments 1 and 2 overlap in {shared} voxels; a label volume holds one label per voxel, read the segments apart",
            path.display()
        )
    );
    assert!(n > shared);
    // Channel values other than 0/1 are refused, naming the voxel.
    let mut img = small();
    img.dim[0] = 4;
    img.dim[4] = 2;
    img.data = small().data.repeat(2);
    let err = error_of(&dir, "labels4d.nii.gz", &img);
    assert!(err.to_string().contains("each channel must be a 0/1 mask"), "{err}");
    // Two non-spatial axes are unsupported; a 4D header with a single volume is a 3D image.
    let mut img = small();
    img.dim[0] = 5;
    img.dim[4] = 2;
    img.dim[5] = 2;
    img.data = vec![0; 4 * n];
    let err = error_of(&dir, "two_axes.nii.gz", &img);
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    let mut img = small();
    img.dim[0] = 4;
    img.dim[4] = 1;
    assert_eq!(read(&write(&dir, "four_d_one.nii.gz", &img)).unwrap().grid().dims(), DIMS);
}

#[test]
fn complex_datatype_is_unsupported() {
    let dir = TempDir::new().unwrap();
    let mut img = small();
    img.datatype = 32;
    img.data = img.data.repeat(8);
    let err = error_of(&dir, "complex.nii", &img);
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
}

#[test]
fn zero_pixdim_under_a_qform_is_an_invalid_header() {
    let dir = TempDir::new().unwrap();
    let mut img = small();
    img.sform_code = 0;
    img.qform_code = 1;
    img.pixdim[2] = 0.0;
    let err = error_of(&dir, "zero_pixdim.nii", &img);
    assert!(matches!(err, Error::InvalidHeader { .. }), "{err:?}");
}

#[test]
fn all_zero_sform_is_an_invalid_header() {
    let dir = TempDir::new().unwrap();
    let mut img = small();
    img.srow = [[0.0; 4]; 3];
    let err = error_of(&dir, "zero_sform.nii.gz", &img);
    assert!(matches!(err, Error::InvalidHeader { .. }), "{err:?}");
}

#[test]
fn nan_intercept_with_a_slope_is_an_invalid_header() {
    let dir = TempDir::new().unwrap();
    let mut img = small();
    img.scl_slope = 2.0;
    img.scl_inter = f32::NAN;
    let err = error_of(&dir, "nan_inter.nii", &img);
    assert!(matches!(err, Error::InvalidHeader { .. }), "{err:?}");
}

#[test]
fn vox_offset_inside_the_header_is_an_invalid_header() {
    let dir = TempDir::new().unwrap();
    let mut img = small();
    img.vox_offset = 100.0;
    let err = error_of(&dir, "offset.nii", &img);
    assert!(matches!(err, Error::InvalidHeader { .. }), "{err:?}");
}

#[test]
fn spatial_units_are_converted_to_mm() {
    let dir = TempDir::new().unwrap();
    // Micrometres (3), also with a time unit in the upper bits (3 | 8 = seconds).
    for (name, units) in [("um.nii", 3u8), ("um_sec.nii", 3 | 8)] {
        let mut img = Nifti::u8(DIMS, [800.0, 900.0, 2500.0], small().data);
        img.srow[0][3] = 1000.0;
        img.srow[2][3] = -500.0;
        img.xyzt_units = units;
        let grid = read(&write(&dir, name, &img)).unwrap().grid().clone();
        for (a, s) in [0.8, 0.9, 2.5].into_iter().enumerate() {
            assert_close(&format!("{name} spacing[{a}]"), grid.spacing()[a], s, 1e-9);
        }
        assert_close("origin x", grid.origin()[0], 1.0, 1e-9);
        assert_close("origin z", grid.origin()[2], -0.5, 1e-9);
    }
    // Metres (1).
    let mut img = Nifti::u8(DIMS, [0.0008, 0.0009, 0.0025], small().data);
    img.srow[1][3] = 0.25;
    img.xyzt_units = 1;
    let grid = read(&write(&dir, "m.nii", &img)).unwrap().grid().clone();
    for (a, s) in [0.8, 0.9, 2.5].into_iter().enumerate() {
        assert_close(&format!("m spacing[{a}]"), grid.spacing()[a], s, 1e-5);
    }
    assert_close("origin y", grid.origin()[1], 250.0, 1e-4);
}

#[test]
fn unknown_extension_is_unsupported() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("labels.vtk");
    std::fs::write(&path, b"whatever").unwrap();
    let err = read(&path).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    assert_message(&err, "labels.vtk");
    assert!(err.to_string().contains(".mha, .mhd, .nrrd or .nhdr"), "{err}");
}

// ---------------------------------------------------------------------------------------------------------------
// .npy
// ---------------------------------------------------------------------------------------------------------------

const NPY_DIMS: [usize; 3] = [3, 4, 5];

/// Distinct value of voxel (i, j, k) in a 3 × 4 × 5 array.
fn npy_value(i: usize, j: usize, k: usize) -> u8 {
    (i + 3 * j + 12 * k) as u8
}

/// Bytes of an array of shape `shape` whose element at array index `a` is `f(a)`, in C or Fortran order.
fn array_bytes(shape: [usize; 3], fortran: bool, f: impl Fn([usize; 3]) -> u8) -> Vec<u8> {
    let mut out = Vec::new();
    if fortran {
        for a2 in 0..shape[2] {
            for a1 in 0..shape[1] {
                for a0 in 0..shape[0] {
                    out.push(f([a0, a1, a2]));
                }
            }
        }
    } else {
        for a0 in 0..shape[0] {
            for a1 in 0..shape[1] {
                for a2 in 0..shape[2] {
                    out.push(f([a0, a1, a2]));
                }
            }
        }
    }
    out
}

fn assert_npy_volume(vol: &LabelVolume, what: &str) {
    assert_eq!(vol.grid().dims(), NPY_DIMS, "{what}");
    for k in 0..NPY_DIMS[2] {
        for j in 0..NPY_DIMS[1] {
            for i in 0..NPY_DIMS[0] {
                let got = vol.labels().get(linear(NPY_DIMS, [i, j, k]));
                assert_eq!(got, Some(u32::from(npy_value(i, j, k))), "{what}: voxel ({i}, {j}, {k})");
            }
        }
    }
}

fn sidecar(dir: &TempDir, stem: &str, json: &str) {
    std::fs::write(dir.path().join(format!("{stem}.json")), json).unwrap();
}

#[test]
fn npy_c_and_fortran_order_give_the_same_volume() {
    let dir = TempDir::new().unwrap();
    let mut vols = Vec::new();
    for (stem, fortran) in [("c_order", false), ("f_order", true)] {
        let bytes = array_bytes(NPY_DIMS, fortran, |[i, j, k]| npy_value(i, j, k));
        let path = dir.path().join(format!("{stem}.npy"));
        write_npy(&path, "|u1", fortran, &NPY_DIMS, &bytes).unwrap();
        sidecar(&dir, stem, r#"{"spacing": [0.5, 0.75, 2.0]}"#);
        let vol = read(&path).unwrap();
        assert_npy_volume(&vol, stem);
        assert_eq!(vol.grid().spacing(), [0.5, 0.75, 2.0]);
        assert_eq!(vol.grid().origin(), [0.0; 3]);
        vols.push(vol);
    }
    assert_eq!(vols[0], vols[1]);
}

#[test]
fn npy_zyx_axes_from_the_sidecar() {
    let dir = TempDir::new().unwrap();
    let zyx = [NPY_DIMS[2], NPY_DIMS[1], NPY_DIMS[0]];
    for (stem, fortran) in [("zyx_c", false), ("zyx_f", true)] {
        let bytes = array_bytes(zyx, fortran, |[k, j, i]| npy_value(i, j, k));
        let path = dir.path().join(format!("{stem}.npy"));
        write_npy(&path, "|u1", fortran, &zyx, &bytes).unwrap();
        sidecar(&dir, stem, r#"{"spacing": [0.5, 0.75, 2.0], "axes": "zyx"}"#);
        let vol = read(&path).unwrap();
        assert_npy_volume(&vol, stem);
        // spacing stays in x, y, z order
        assert_eq!(vol.grid().spacing(), [0.5, 0.75, 2.0]);
    }
    // The same array read through the options instead of the sidecar.
    let bytes = array_bytes(zyx, false, |[k, j, i]| npy_value(i, j, k));
    let path = dir.path().join("zyx_opt.npy");
    write_npy(&path, "|u1", false, &zyx, &bytes).unwrap();
    let options = ReadOptions {
        npy: NpyOptions { spacing: Some([1.0; 3]), axes: Axes::Zyx },
        ..ReadOptions::default()
    };
    assert_npy_volume(&segauge_io::read_labels(&path, &options).unwrap(), "zyx via options");
}

#[test]
fn npy_sidecar_with_origin_and_direction() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("geo.npy");
    write_npy(&path, "|u1", false, &NPY_DIMS, &array_bytes(NPY_DIMS, false, |[i, j, k]| npy_value(i, j, k)))
        .unwrap();
    sidecar(
        &dir,
        "geo",
        r#"{"spacing": [1.0, 2.0, 3.0], "origin": [10.0, -20.0, 30.5], "direction": [0, -1, 0, 1, 0, 0, 0, 0, 1]}"#,
    );
    let vol = read(&path).unwrap();
    let grid = vol.grid();
    assert_eq!(grid.origin(), [10.0, -20.0, 30.5]);
    assert_eq!(grid.direction(), [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
    // voxel (1, 1, 1): origin + (-2, 1, 3)
    assert_eq!(grid.world([1.0, 1.0, 1.0]), [8.0, -19.0, 33.5]);
}

#[test]
fn npy_without_spacing_names_the_sidecar() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("bare.npy");
    write_npy(&path, "|u1", false, &NPY_DIMS, &[1; 60]).unwrap();
    let err = read(&path).unwrap_err();
    match &err {
        Error::MissingSpacing { sidecar, .. } => assert_eq!(sidecar, &dir.path().join("bare.json")),
        other => panic!("expected MissingSpacing, got {other:?}"),
    }
    assert_message(&err, "bare.npy");
    assert_message(&err, &dir.path().join("bare.json").display().to_string());
    // With the spacing given, no sidecar is needed.
    let vol = read_with_spacing(&path, [0.9, 0.9, 2.5]).unwrap();
    assert_eq!(vol.grid().spacing(), [0.9, 0.9, 2.5]);
    assert_eq!(vol.grid().dims(), NPY_DIMS);
}

#[test]
fn npy_u16_bool_and_float_dtypes() {
    let dir = TempDir::new().unwrap();
    let shape = [2, 3, 4];
    let n: usize = shape.iter().product();

    let path = dir.path().join("u2.npy");
    let values: Vec<u16> = (0..n as u16).map(|v| if v == 5 { 1000 } else { v % 3 }).collect();
    write_npy(&path, "<u2", false, &shape, &values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>())
        .unwrap();
    let vol = read_with_spacing(&path, [1.0; 3]).unwrap();
    assert!(matches!(vol.labels(), Labels::U16(_)), "{:?}", vol.labels());
    assert_eq!(vol.max_label(), 1000);
    // C-order index 5 of shape (2, 3, 4) is array index (0, 1, 1).
    assert_eq!(vol.labels().get(linear(shape, [0, 1, 1])), Some(1000));

    let path = dir.path().join("mask.npy");
    let bools: Vec<u8> = (0..n).map(|v| u8::from(v % 2 == 0)).collect();
    write_npy(&path, "|b1", false, &shape, &bools).unwrap();
    let vol = read_with_spacing(&path, [1.0; 3]).unwrap();
    assert!(matches!(vol.labels(), Labels::U8(_)));
    assert_eq!(counts_of(vol.labels()), BTreeMap::from([(0, 12), (1, 12)]));

    let path = dir.path().join("prob.npy");
    let floats: Vec<f32> = (0..n).map(|v| if v == 23 { 2.5 } else { (v % 2) as f32 }).collect();
    write_npy(&path, "<f4", false, &shape, &floats.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>())
        .unwrap();
    let err = read_with_spacing(&path, [1.0; 3]).unwrap_err();
    match &err {
        // C-order index 23 of shape (2, 3, 4) is (1, 2, 3).
        Error::NotALabel { voxel, value, .. } => assert_eq!((*voxel, *value), ([1, 2, 3], 2.5)),
        other => panic!("expected NotALabel, got {other:?}"),
    }
    assert_message(&err, "prob.npy");
    assert!(err.to_string().contains("(1, 2, 3)"), "{err}");
}

#[test]
fn npy_truncated_and_four_d() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("cut.npy");
    write_npy(&path, "|u1", false, &NPY_DIMS, &[1; 30]).unwrap();
    let err = read_with_spacing(&path, [1.0; 3]).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    assert_message(&err, "cut.npy");

    // Cut inside the header.
    let bytes = std::fs::read(&path).unwrap();
    let path = dir.path().join("cut_header.npy");
    std::fs::write(&path, &bytes[..40]).unwrap();
    let err = read_with_spacing(&path, [1.0; 3]).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    assert_message(&err, "cut_header.npy");

    let path = dir.path().join("four.npy");
    write_npy(&path, "|u1", false, &[2, 2, 2, 2], &[0; 16]).unwrap();
    let err = read_with_spacing(&path, [1.0; 3]).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    assert_message(&err, "four.npy");

    let path = dir.path().join("text.npy");
    std::fs::write(&path, "not an array at all").unwrap();
    let err = read_with_spacing(&path, [1.0; 3]).unwrap_err();
    assert!(matches!(err, Error::NotFormat { .. }), "{err:?}");
    assert_message(&err, "text.npy");
}

#[test]
fn npy_2d_is_one_slice() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("flat.npy");
    // shape (3, 4), C order: element (i, j) = i + 3j
    let bytes: Vec<u8> = (0..3).flat_map(|i| (0..4).map(move |j| (i + 3 * j) as u8)).collect();
    write_npy(&path, "|u1", false, &[3, 4], &bytes).unwrap();
    let vol = read_with_spacing(&path, [1.0; 3]).unwrap();
    assert_eq!(vol.grid().dims(), [3, 4, 1]);
    assert_eq!(vol.labels().get(linear([3, 4, 1], [2, 3, 0])), Some(11));
}

// ---------------------------------------------------------------------------------------------------------------
// Case ids and directory scans
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn case_ids_and_scan_dir() {
    use segauge_io::case_id;
    assert_eq!(case_id(Path::new("x/a.nii.gz")), Some(("a".into(), Format::Nifti)));
    assert_eq!(case_id(Path::new("b.nii")), Some(("b".into(), Format::Nifti)));
    assert_eq!(case_id(Path::new("c.npy")), Some(("c".into(), Format::Npy)));
    assert_eq!(case_id(Path::new("case.1.nii.gz")), Some(("case.1".into(), Format::Nifti)));
    for none in ["c.json", "plans.json", ".hidden.nii.gz", ".nii.gz", "A.NII.GZ", "x.nii.gz.bak"] {
        assert_eq!(case_id(Path::new(none)), None, "{none}");
    }

    let dir = TempDir::new().unwrap();
    for name in ["a.nii.gz", "b.nii", "c.npy", "c.json", "plans.json", ".hidden.nii.gz"] {
        std::fs::write(dir.path().join(name), b"").unwrap();
    }
    std::fs::create_dir(dir.path().join("d.nii.gz")).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let found = segauge_io::scan_dir(dir.path()).unwrap();
    assert_eq!(found.keys().map(String::as_str).collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(found["c"], [dir.path().join("c.npy")]);

    // Two files of one case are both listed, sorted.
    std::fs::write(dir.path().join("a.nii"), b"").unwrap();
    let found = segauge_io::scan_dir(dir.path()).unwrap();
    assert_eq!(found["a"], [dir.path().join("a.nii"), dir.path().join("a.nii.gz")]);

    let err = segauge_io::scan_dir(&dir.path().join("nope")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert_message(&err, "nope");
}

#[test]
fn a_2d_npy_takes_a_two_number_spacing() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("slice.npy");
    write_npy(&path, "|u1", false, &[4, 3], &[0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1]).unwrap();
    sidecar(&dir, "slice", r#"{"spacing": [0.5, 0.25]}"#);
    let vol = read(&path).unwrap();
    assert_eq!((vol.grid().dims(), vol.grid().spacing()), ([4, 3, 1], [0.5, 0.25, 1.0]));
    // Two numbers for a 3D array, or four for any, name the sidecar and what is needed.
    let path3 = dir.path().join("vol.npy");
    write_npy(&path3, "|u1", false, &[2, 2, 2], &[0; 8]).unwrap();
    sidecar(&dir, "vol", r#"{"spacing": [0.5, 0.25]}"#);
    let e = read(&path3).unwrap_err().to_string();
    assert!(
        e.contains("vol.json") && e.contains("spacing has 2 numbers; a 3D array needs 3 (x, y, z)"),
        "{e}"
    );
    sidecar(&dir, "slice", r#"{"spacing": [1, 1, 1, 1]}"#);
    let e = read(&path).unwrap_err().to_string();
    assert!(e.contains("a 2D array needs 2 (x, y) or 3"), "{e}");
}
