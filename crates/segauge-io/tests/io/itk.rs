//! MetaImage and NRRD: files written by SimpleITK and pynrrd read as their NIfTI twins, 3D Slicer segmentations,
//! third-party files of pynrrd's and ITK's test data, and malformed files.
//!
//! The fixtures and their expected values (`tests/data/metaimage_nrrd/expected.json`) come from
//! `tests/data/metaimage_nrrd/make_fixtures.py` (SimpleITK, pynrrd, nibabel, numpy; see PROVENANCE.md there): every
//! expected value was computed by another implementation, never by segauge.

use std::path::{Path, PathBuf};

use segauge_io::{Error, Format, Grid, LabelFile, LabelVolume, ReadOptions};
use serde_json::Value;
use tempfile::TempDir;

fn dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/metaimage_nrrd/"))
}

fn expected() -> Value {
    let path = dir().join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("expected.json is JSON")
}

fn read_file(path: &Path) -> LabelFile {
    segauge_io::read_label_file(path, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn values(v: &LabelVolume) -> Vec<u32> {
    (0..v.labels().len()).map(|i| v.labels().get(i).expect("in range")).collect()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("{v} is not an array"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Dims exact; spacing, origin and direction within `tol`.
fn assert_same_grid(what: &str, got: &Grid, want: &Grid, tol: f64) {
    assert_eq!(got.dims(), want.dims(), "{what}: dims");
    let close = |a: f64, b: f64| (a - b).abs() <= tol;
    for a in 0..3 {
        assert!(
            close(got.spacing()[a], want.spacing()[a]),
            "{what}: spacing {:?} vs {:?}",
            got.spacing(),
            want.spacing()
        );
        assert!(
            close(got.origin()[a], want.origin()[a]),
            "{what}: origin {:?} vs {:?}",
            got.origin(),
            want.origin()
        );
        for r in 0..3 {
            assert!(
                close(got.direction()[r][a], want.direction()[r][a]),
                "{what}: direction {:?} vs {:?}",
                got.direction(),
                want.direction()
            );
        }
    }
}

fn grid_of(e: &Value) -> Grid {
    let dims: Vec<usize> =
        e["dims"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    let spacing = f64s(&e["spacing"]);
    let origin = f64s(&e["origin"]);
    let rows: Vec<Vec<f64>> = e["direction"].as_array().unwrap().iter().map(f64s).collect();
    Grid::new([dims[0], dims[1], dims[2]], [spacing[0], spacing[1], spacing[2]])
        .and_then(|g| g.with_origin([origin[0], origin[1], origin[2]]))
        .and_then(|g| g.with_direction(std::array::from_fn(|r| [rows[r][0], rows[r][1], rows[r][2]])))
        .expect("a valid grid")
}

// ---------------------------------------------------------------------------------------------------------------
// Twins: the same image written by SimpleITK (or pynrrd) as MetaImage/NRRD and as NIfTI
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn every_file_reads_as_its_nifti_twin() {
    let all = expected();
    let twins = all["twins"].as_array().unwrap();
    assert_eq!(twins.len(), 12);
    for pair in twins {
        let (name, twin) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        let file = read_file(&dir().join(name));
        let want = read_file(&dir().join(twin));
        let what = format!("{name} vs {twin}");
        assert_same_grid(&what, file.grid(), want.grid(), 1e-6);
        assert_eq!(file.layers().len(), want.layers().len(), "{what}: layers");
        for (l, (a, b)) in file.layers().iter().zip(want.layers()).enumerate() {
            assert_eq!(values(a), values(b), "{what}: layer {l}");
        }
        assert_eq!(file.names(), want.names(), "{what}: names");
    }
}

#[test]
fn simpleitk_oblique_file_in_every_encoding() {
    let mha = read_file(&dir().join("sitk_u8.mha"));
    assert_eq!(mha.grid().dims(), [7, 6, 5]);
    assert!(mha.grid().is_orthonormal());
    // SimpleITK's origin (10.25, -20.5, 30.125) is LPS; segauge's grid is RAS.
    assert_eq!(mha.grid().origin(), [-10.25, 20.5, 30.125]);
    for name in ["sitk_u8_zlib.mha", "sitk_u8.mhd", "sitk_u8.nrrd", "sitk_u8_gzip.nrrd"] {
        let other = read_file(&dir().join(name));
        assert_same_grid(name, other.grid(), mha.grid(), 1e-12);
        assert_eq!(values(&other.layers()[0]), values(&mha.layers()[0]), "{name}");
    }
    // The labels as read by read_labels, too.
    let vol = segauge_io::read_labels(&dir().join("sitk_u8.mhd"), &ReadOptions::default()).unwrap();
    assert_eq!(vol.max_label(), 3);
}

#[test]
fn channels_are_layers_and_a_2d_image_is_one_slice() {
    let ch = read_file(&dir().join("sitk_channels.mha"));
    // Two 0/1 channels that overlap: labels 1 and 2 in two layers.
    assert_eq!(ch.layers().len(), 2);
    assert_eq!(ch.layers()[0].max_label(), 1);
    assert_eq!(ch.layers()[1].max_label(), 2);
    let err =
        segauge_io::read_labels(&dir().join("sitk_channels.nrrd"), &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, Error::OverlappingSegments { a: 1, b: 2, .. }), "{err}");

    let flat = read_file(&dir().join("sitk_i16_2d.mha"));
    assert_eq!(flat.grid().dims(), [7, 6, 1]);
    assert_eq!(flat.grid().spacing(), [0.5, 0.75, 1.0]);
    // Negative values (-3) are background.
    assert!(values(&flat.layers()[0]).iter().all(|&v| v == 0 || v % 50 == 0));
}

#[test]
fn hand_written_header_with_old_aliases_big_endian_data_at_the_end() {
    let file = read_file(&dir().join("hand_i16_msb.mhd"));
    let g = file.grid();
    assert_eq!(g.spacing(), [1.5, 2.0, 2.5]);
    assert_eq!(g.origin(), [-3.0, 4.5, 6.25]);
    assert_eq!(g.direction(), [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
    // Voxel (0, 0, 0) holds -7: background; the others are 300·label - 100 or background.
    let v = values(&file.layers()[0]);
    assert_eq!(v[0], 0);
    assert!(v.iter().all(|&x| x == 0 || (x + 100) % 300 == 0), "{v:?}");
}

// ---------------------------------------------------------------------------------------------------------------
// 3D Slicer segmentations
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn slicer_segmentations_give_layers_and_names() {
    let all = expected();
    for (name, e) in all["slicer"].as_object().unwrap() {
        let file = read_file(&dir().join(name));
        assert_same_grid(name, file.grid(), &grid_of(e), 1e-12);
        let want: Vec<Vec<u32>> = e["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect())
            .collect();
        let got: Vec<Vec<u32>> = file.layers().iter().map(values).collect();
        assert_eq!(got, want, "{name}: layers");
        let names: Vec<(u32, &str)> = e["names"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.as_str().unwrap()))
            .collect();
        let got: Vec<(u32, &str)> = file.names().iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(got, names, "{name}: names");
    }
}

#[test]
fn slicer_overlapping_layers_do_not_fit_one_label_volume() {
    let path = dir().join("slicer_two_layers.seg.nrrd");
    let err = segauge_io::read_labels(&path, &ReadOptions::default()).unwrap_err();
    // The liver (label 1) and the tumour (renumbered 2) overlap.
    assert!(matches!(err, Error::OverlappingSegments { a: 1, b: 2, .. }), "{err}");
    let one =
        segauge_io::read_labels(&dir().join("slicer_one_layer.seg.nrrd"), &ReadOptions::default()).unwrap();
    assert_eq!(one.max_label(), 5);
}

// ---------------------------------------------------------------------------------------------------------------
// Third-party files: pynrrd's and ITK's test data
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn third_party_files_match_pynrrd_and_simpleitk() {
    let all = expected();
    let files = all["third_party"].as_object().unwrap();
    assert_eq!(files.len(), 4);
    for (name, e) in files {
        let vol = segauge_io::read_labels(&dir().join(name), &ReadOptions::default())
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_same_grid(name, vol.grid(), &grid_of(e), 1e-9);
        let mut counts = std::collections::BTreeMap::new();
        for v in values(&vol) {
            *counts.entry(v.to_string()).or_insert(0u64) += 1;
        }
        let want: std::collections::BTreeMap<String, u64> =
            e["counts"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap())).collect();
        assert_eq!(counts, want, "{name}: counts");
        let dims = vol.grid().dims();
        for v in e["voxels"].as_array().unwrap() {
            let [i, j, k, value] = std::array::from_fn(|n| v[n].as_u64().unwrap() as usize);
            let at = i + dims[0] * (j + dims[1] * k);
            assert_eq!(vol.labels().get(at), Some(value as u32), "{name}: voxel ({i}, {j}, {k})");
        }
    }
    // pynrrd's own test of test2d_ascii.nrrd: the values 1..=27 in file order, spacings 1.0458 and 2.
    let ascii = segauge_io::read_labels(&dir().join("test2d_ascii.nrrd"), &ReadOptions::default()).unwrap();
    assert_eq!(values(&ascii), (1..=27).collect::<Vec<u32>>());
    assert_eq!(ascii.grid().spacing(), [1.0458, 2.0, 1.0]);
}

// ---------------------------------------------------------------------------------------------------------------
// File names and malformed files
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn case_ids_of_metaimage_and_nrrd_files() {
    use segauge_io::case_id;
    for (name, id, format) in [
        ("a.mha", "a", Format::MetaImage),
        ("b.mhd", "b", Format::MetaImage),
        ("c.nrrd", "c", Format::Nrrd),
        ("d.seg.nrrd", "d", Format::Nrrd),
        ("e.nhdr", "e", Format::Nrrd),
        ("case.1.seg.nrrd", "case.1", Format::Nrrd),
    ] {
        assert_eq!(case_id(Path::new(name)), Some((id.to_string(), format)), "{name}");
    }
    for none in ["x.raw", "x.zraw", "x.raw.gz", "X.MHA", ".seg.nrrd", "x.NRRD"] {
        assert_eq!(case_id(Path::new(none)), None, "{none}");
    }
    // A data file beside its header is not a case.
    let tmp = TempDir::new().unwrap();
    for name in ["p.mhd", "p.raw", "q.nhdr", "q.raw.gz", "r.seg.nrrd"] {
        std::fs::write(tmp.path().join(name), b"").unwrap();
    }
    let found = segauge_io::scan_dir(tmp.path()).unwrap();
    assert_eq!(found.keys().map(String::as_str).collect::<Vec<_>>(), ["p", "q", "r"]);
}

/// Writes `bytes` as `name` in a fresh folder and reads it; the error, checked to be one line naming the file.
fn error_of(name: &str, bytes: &[u8]) -> Error {
    let tmp = TempDir::new().unwrap();
    let path = tmp.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let err = segauge_io::read_labels(&path, &ReadOptions::default()).expect_err(name);
    let msg = err.to_string();
    assert!(!msg.contains('\n') && msg.contains(&path.display().to_string()), "{msg}");
    err
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap()
}

#[test]
fn truncated_and_corrupt_data() {
    let mut mha = fixture("sitk_u8.mha");
    mha.truncate(mha.len() - 10);
    let err = error_of("cut.mha", &mha);
    assert!(matches!(err, Error::Truncated { .. }), "{err}");
    assert!(err.to_string().contains("the header announces 210 bytes of voxel data"), "{err}");

    let mut zlib = fixture("sitk_u8_zlib.mha");
    let n = zlib.len();
    zlib[n - 8] ^= 0xff;
    let err = error_of("corrupt.mha", &zlib);
    assert!(matches!(err, Error::Truncated { .. }), "{err}");

    let mut gz = fixture("sitk_u8_gzip.nrrd");
    gz.truncate(gz.len() - 30);
    let err = error_of("cut.nrrd", &gz);
    assert!(matches!(err, Error::Truncated { .. }), "{err}");
}

#[test]
fn fractions_and_bad_channels_name_the_voxel() {
    let mut text =
        b"NRRD0004\ntype: float\ndimension: 3\nsizes: 2 2 1\nendian: little\nencoding: raw\n\n".to_vec();
    for v in [0.0f32, 1.0, 2.0, 2.5] {
        text.extend(v.to_le_bytes());
    }
    let err = error_of("frac.nrrd", &text);
    assert!(matches!(err, Error::NotALabel { voxel: [1, 1, 0], .. }), "{err}");

    let mut text =
        b"ObjectType = Image\nNDims = 2\nDimSize = 2 1\nElementNumberOfChannels = 2\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n"
            .to_vec();
    text.extend([0, 1, 1, 2]);
    let err = error_of("channels.mha", &text);
    assert!(matches!(err, Error::NotALabel { voxel: [1, 0, 0], .. }), "{err}");
    assert!(err.to_string().contains("each channel must be a 0/1 mask"), "{err}");
}

#[test]
fn missing_data_file_names_both_files() {
    let tmp = TempDir::new().unwrap();
    let path = tmp.path().join("lonely.mhd");
    std::fs::write(
        &path,
        b"NDims = 3\nDimSize = 2 2 2\nElementType = MET_UCHAR\nElementDataFile = gone.raw\n",
    )
    .unwrap();
    let err = segauge_io::read_labels(&path, &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("{}: cannot read: data file \"gone.raw\": ", path.display())), "{msg}");
}

#[test]
fn not_the_format_and_unsupported_forms() {
    assert!(matches!(error_of("text.mha", b"hello\nworld\n"), Error::NotFormat { .. }));
    assert!(matches!(error_of("text.nrrd", b"P5\n2 2\n255\n"), Error::NotFormat { .. }));
    assert!(matches!(error_of("empty.nrrd", b""), Error::NotFormat { .. }));
    let err = error_of(
        "list.mhd",
        b"NDims = 3\nDimSize = 2 2 2\nElementType = MET_UCHAR\nElementDataFile = LIST\nslice0.raw\nslice1.raw\n",
    );
    assert!(matches!(err, Error::Unsupported { .. }) && err.to_string().contains("LIST"), "{err}");
    let err = error_of(
        "pattern.nhdr",
        b"NRRD0004\ntype: uchar\ndimension: 3\nsizes: 2 2 2\nencoding: raw\ndata file: slice%03d.raw 0 1 1\n",
    );
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    // A header that goes on for more than 1 MiB.
    let mut long = b"NRRD0004\n".to_vec();
    while long.len() < (1 << 20) + 100 {
        long.extend_from_slice(b"# a comment that never ends the header\n");
    }
    let err = error_of("long.nrrd", &long);
    assert!(matches!(err, Error::Unsupported { .. }) && err.to_string().contains("1 MiB"), "{err}");
    let mut long = b"ObjectType = Image\n".to_vec();
    while long.len() < (1 << 20) + 100 {
        long.extend_from_slice(b"Comment = still no ElementDataFile\n");
    }
    let err = error_of("long.mha", &long);
    assert!(matches!(err, Error::Unsupported { .. }) && err.to_string().contains("1 MiB"), "{err}");
}
