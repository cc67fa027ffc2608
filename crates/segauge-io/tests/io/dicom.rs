//! DICOM tests: every SEG case of the conformance set (`tests/data/dicom`, see its CONFORMANCE.md) against the masks
//! highdicom extracted (cross-checked there with an independent pydicom decode), the reference series against
//! their expected grids, the SimpleITK-written NIfTI twins of the generated cases, and malformed inputs built from
//! copies in a temporary directory.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use segauge_io::dicom::{DicomKind, SegKind, SegOptions, Segmentation, SliceGeometry};
use segauge_io::{Axes, Error, GridTolerance, Labels, NpyOptions};
use segauge_tests::dicom::{meta_elements, with_meta};
use serde_json::Value;
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

pub(super) fn dicom_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/dicom/"))
}

pub(super) fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A conformance case: its folder, case.json and expected.json.
pub(super) struct Case {
    pub(super) id: String,
    pub(super) dir: PathBuf,
    pub(super) case: Value,
    pub(super) expected: Value,
}

impl Case {
    pub(super) fn input(&self) -> PathBuf {
        self.dir.join("input.dcm")
    }

    pub(super) fn series(&self) -> Option<PathBuf> {
        self.case["reference_series"].as_str().map(|rel| self.dir.join(rel))
    }
}

/// Every case whose case.json kind is `kind`, by id.
pub(super) fn cases(kind: &str) -> Vec<Case> {
    let mut out = Vec::new();
    let root = dicom_dir().join("cases");
    for entry in std::fs::read_dir(&root).expect("cases folder") {
        let dir = entry.expect("entry").path();
        let case = json(&dir.join("case.json"));
        if case["kind"] != kind {
            continue;
        }
        let expected = json(&dir.join("expected/expected.json"));
        let id = dir.file_name().and_then(|n| n.to_str()).expect("utf-8 name").to_string();
        out.push(Case { id, dir, case, expected });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn seg_cases() -> Vec<Case> {
    cases("SEG")
}

/// An expected mask: uint8, C order (z, y, x), as a flat vector with x fastest (the order of `Segment::mask`).
pub(super) fn npy(path: &Path) -> (Vec<u8>, [usize; 3]) {
    let options = NpyOptions { spacing: Some([1.0; 3]), axes: Axes::Zyx };
    let vol = segauge_io::read_npy(path, &options).unwrap_or_else(|e| panic!("{e}"));
    let dims = vol.grid().dims();
    match vol.into_parts().1 {
        Labels::U8(v) => (v, dims),
        other => panic!("{}: not uint8: {other:?}", path.display()),
    }
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("{v} is not an array"))
        .iter()
        .map(|x| x.as_f64().unwrap_or_else(|| panic!("{v} holds a non-number")))
        .collect()
}

fn vec3(v: &Value) -> [f64; 3] {
    let a = f64s(v);
    assert_eq!(a.len(), 3, "{v}");
    [a[0], a[1], a[2]]
}

fn assert_close3(what: &str, got: [f64; 3], want: [f64; 3], tol: f64) {
    for r in 0..3 {
        assert!((got[r] - want[r]).abs() <= tol, "{what}: got {got:?}, want {want:?} (tolerance {tol})");
    }
}

/// The Display message is one line and starts with the file's path.
fn assert_message(err: &Error, path: &Path) {
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "message is not one line: {msg:?}");
    assert!(
        msg.starts_with(&path.display().to_string()),
        "message does not start with {}: {msg:?}",
        path.display()
    );
}

fn read(path: &Path, series: Option<PathBuf>) -> Result<Segmentation, Error> {
    segauge_io::dicom::read_seg(path, &SegOptions { series, ..SegOptions::default() })
}

/// The error of an operation that must fail, without printing its (large) value when it does not.
fn must_fail<T>(r: Result<T, Error>, what: &str) -> Error {
    match r {
        Ok(_) => panic!("{what}: succeeded, expected an error"),
        Err(e) => e,
    }
}

/// The error of a read that must fail (without printing a whole segmentation when it does not).
fn read_err(path: &Path, series: Option<PathBuf>) -> Error {
    match read(path, series) {
        Ok(seg) => panic!("{}: read {} segments, expected an error", path.display(), seg.segments.len()),
        Err(e) => e,
    }
}

/// Checks a geometry against an expected.json `grid`: shape, orientation, pixel spacing, every slice position
/// (1e-6 mm) and, for regular grids, the affine through `SliceGeometry::grid` (RAS).
fn check_geometry(id: &str, g: &SliceGeometry, grid: &Value) {
    let shape = f64s(&grid["shape_zyx"]);
    assert_eq!(
        [g.slice_count(), g.rows, g.columns],
        [shape[0] as usize, shape[1] as usize, shape[2] as usize],
        "{id}"
    );
    let spacing = &grid["spacing_zyx"];
    let (row_sp, col_sp) =
        (spacing[1].as_f64().expect("row spacing"), spacing[2].as_f64().expect("col spacing"));
    assert!(
        (g.pixel_spacing[0] - row_sp).abs() <= 1e-6 && (g.pixel_spacing[1] - col_sp).abs() <= 1e-6,
        "{id}"
    );
    assert_close3(id, g.row_cosine, vec3(&grid["direction"]["x_col_index"]), 1e-6);
    assert_close3(id, g.column_cosine, vec3(&grid["direction"]["y_row_index"]), 1e-6);
    assert_close3(id, g.normal, vec3(&grid["direction"]["z_slice_index"]), 1e-6);
    let positions = grid["slice_positions_lps"].as_array().expect("slice positions");
    assert_eq!(positions.len(), g.slice_count(), "{id}");
    for (k, p) in positions.iter().enumerate() {
        assert_close3(&format!("{id} slice {k}"), g.positions[k], vec3(p), 1e-6);
    }
    if grid["regular_slices"] == true {
        let ras = g.grid().unwrap_or_else(|e| panic!("{id}: {e}"));
        let aff: Vec<Vec<f64>> =
            grid["affine_zyx_to_lps"].as_array().expect("affine").iter().map(f64s).collect();
        for corner in 0..8 {
            let zyx = [
                (shape[0] - 1.0) * f64::from(corner & 1),
                (shape[1] - 1.0) * f64::from((corner >> 1) & 1),
                (shape[2] - 1.0) * f64::from((corner >> 2) & 1),
            ];
            let lps: [f64; 3] =
                std::array::from_fn(|r| aff[r][3] + (0..3).map(|c| aff[r][c] * zyx[c]).sum::<f64>());
            let want = [-lps[0], -lps[1], lps[2]];
            let got = ras.world([zyx[2], zyx[1], zyx[0]]);
            assert_close3(&format!("{id} corner {zyx:?}"), got, want, 1e-5);
        }
    } else {
        assert!(
            matches!(g.grid(), Err(Error::InvalidFileGrid { .. })),
            "{id}: irregular slices make no grid"
        );
    }
}

/// Compares every segment with its expected mask (voxel-exact) and the expected numbers, labels and counts.
fn check_segments(case: &Case, seg: &Segmentation, inclusive: bool) {
    let id = &case.id;
    let want = case.expected["segments"].as_array().expect("segments");
    let numbers: Vec<u16> = seg.segments.iter().map(|s| s.number).collect();
    let want_numbers: Vec<u16> = want.iter().map(|s| s["number"].as_u64().expect("number") as u16).collect();
    assert_eq!(numbers, want_numbers, "{id}: segment numbers");
    for (s, w) in seg.segments.iter().zip(want) {
        assert_eq!(s.label, w["label"].as_str().expect("label"), "{id}: label of segment {}", s.number);
        let (values, dims) = npy(&case.dir.join(w["file"].as_str().expect("file")));
        assert_eq!(dims, [seg.geometry.columns, seg.geometry.rows, seg.geometry.slice_count()], "{id}");
        assert_eq!(s.mask.len(), values.len(), "{id}");
        match seg.kind {
            SegKind::Fractional { max, .. } => {
                assert_eq!(
                    s.values.as_deref(),
                    Some(&values[..]),
                    "{id}: raw values of segment {}",
                    s.number
                );
                let want_mask: Vec<bool> = values
                    .iter()
                    .map(|&v| {
                        if inclusive {
                            2 * u32::from(v) >= u32::from(max)
                        } else {
                            2 * u32::from(v) > u32::from(max)
                        }
                    })
                    .collect();
                assert!(s.mask == want_mask, "{id}: thresholded mask of segment {}", s.number);
                let key = if inclusive { "count_value_ge_half_max" } else { "count_value_gt_half_max" };
                assert_eq!(
                    s.count() as u64,
                    w[key].as_u64().expect(key),
                    "{id}: {key} of segment {}",
                    s.number
                );
            }
            _ => {
                assert!(s.values.is_none());
                let differing = s.mask.iter().zip(&values).filter(|(m, v)| **m != (**v != 0)).count();
                assert_eq!(differing, 0, "{id}: voxels differing in segment {}", s.number);
            }
        }
        assert_eq!(
            s.mask.len() - s.mask.iter().filter(|m| !**m).count(),
            s.count(),
            "{id}: count() of segment {}",
            s.number
        );
        if !matches!(seg.kind, SegKind::Fractional { .. }) {
            assert_eq!(s.count() as u64, w["voxel_count_nonzero"].as_u64().expect("count"), "{id}");
        }
    }
}

fn kind_name(kind: SegKind) -> &'static str {
    match kind {
        SegKind::Binary => "BINARY",
        SegKind::Fractional { .. } => "FRACTIONAL",
        SegKind::Labelmap => "LABELMAP",
        _ => "other",
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Conformance cases
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn the_conformance_set_has_the_seg_cases_of_its_readme() {
    let ids: Vec<String> = seg_cases().into_iter().map(|c| c.id).collect();
    // CONFORMANCE.md: "identical in all 18 SEG cases".
    assert_eq!(ids.len(), 18, "{ids:?}");
}

#[test]
fn every_seg_case_matches_its_expected_masks_on_its_grid() {
    for case in seg_cases() {
        let id = &case.id;
        let seg = read(&case.input(), case.series()).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(kind_name(seg.kind), case.expected["segmentation_type"], "{id}");
        if let SegKind::Fractional { max, .. } = seg.kind {
            assert_eq!(
                u64::from(max),
                case.expected["maximum_fractional_value"].as_u64().expect("max"),
                "{id}"
            );
        }
        assert_eq!(seg.geometry.source, case.input(), "{id}");
        check_geometry(id, &seg.geometry, &case.expected["grid"]);
        check_segments(&case, &seg, true);
    }
}

#[test]
fn fractional_cases_match_the_exclusive_threshold_counts() {
    let mut seen = 0;
    for case in seg_cases().into_iter().filter(|c| c.expected["segmentation_type"] == "FRACTIONAL") {
        let options =
            SegOptions { series: case.series(), fractional_inclusive: false, ..SegOptions::default() };
        let seg = segauge_io::dicom::read_seg(&case.input(), &options)
            .unwrap_or_else(|e| panic!("{}: {e}", case.id));
        check_segments(&case, &seg, false);
        seen += 1;
    }
    // hd_ct_binary_fractional, hd_ct_true_fractional, gen_seg_fractional, gen_seg_rle.
    assert_eq!(seen, 4, "FRACTIONAL cases");
}

#[test]
fn every_seg_case_read_without_its_series_matches_on_the_frame_slices() {
    for case in seg_cases() {
        let id = &case.id;
        let seg = read(&case.input(), None).unwrap_or_else(|e| panic!("{id}: {e}"));
        let grid = &case.expected["grid"];
        let want_positions: Vec<[f64; 3]> =
            grid["slice_positions_lps"].as_array().expect("positions").iter().map(vec3).collect();
        // The expected slice at each slice of the frame grid, if any (a filled-in slice may fall between the
        // slices of an irregular series: hd_ct_binary_overlap's frames at -99.48 and 103.02 mm are 162 steps of
        // 1.25 mm apart).
        let map: Vec<Option<usize>> = seg
            .geometry
            .positions
            .iter()
            .map(|p| want_positions.iter().position(|q| (0..3).all(|r| (p[r] - q[r]).abs() <= 1e-4)))
            .collect();
        assert!(map.iter().filter(|m| m.is_some()).count() >= 1, "{id}");
        if grid["regular_slices"] == true {
            seg.geometry.grid().unwrap_or_else(|e| panic!("{id}: {e}"));
            let mapped: Vec<usize> = map.iter().map(|m| m.expect("every slice is a series slice")).collect();
            assert!(mapped.windows(2).all(|w| w[1] == w[0] + 1), "{id}: {mapped:?}");
        }
        let rc = seg.geometry.rows * seg.geometry.columns;
        for (s, w) in seg.segments.iter().zip(case.expected["segments"].as_array().expect("segments")) {
            let (values, _) = npy(&case.dir.join(w["file"].as_str().expect("file")));
            let on = |v: u8| match seg.kind {
                SegKind::Fractional { max, .. } => 2 * u32::from(v) >= u32::from(max),
                _ => v != 0,
            };
            for (k, ek) in map.iter().enumerate() {
                let got = &s.mask[k * rc..(k + 1) * rc];
                match ek {
                    Some(ek) => {
                        let want: Vec<bool> = values[ek * rc..(ek + 1) * rc].iter().map(|&v| on(v)).collect();
                        assert!(got == &want[..], "{id}: segment {} slice {k}", s.number);
                    }
                    None => assert!(got.iter().all(|&b| !b), "{id}: filled-in slice {k} is not empty"),
                }
            }
            let total = values.iter().filter(|&&v| on(v)).count();
            assert_eq!(s.count(), total, "{id}: segment {} has voxels off the frame slices", s.number);
        }
    }
}

#[test]
fn frame_grids_fill_missing_slices_on_the_lattice() {
    // gen_seg_sparse: frames on -40..-32.5, -22.5..-20 and 27.5..35 mm (step 2.5): 31 slices from -40 to 35.
    let sparse = dicom_dir().join("cases/gen_seg_sparse/input.dcm");
    let g = read(&sparse, None).expect("sparse").geometry;
    assert_eq!(g.slice_count(), 31);
    assert!((g.positions[0][2] + 40.0).abs() < 1e-9 && (g.positions[30][2] - 35.0).abs() < 1e-9);
    let grid = g.grid().expect("regular");
    assert!((grid.spacing()[2] - 2.5).abs() < 1e-9);
    // dcmqi_labelmap_ppv5: frames 5 mm apart, SpacingBetweenSlices 2.5 mm: the middle slice is filled in.
    let labelmap = dicom_dir().join("cases/dcmqi_labelmap_ppv5/input.dcm");
    let g = read(&labelmap, None).expect("labelmap").geometry;
    assert_eq!(g.slice_count(), 3);
    // hd_ct_binary: 3 frames 1.25 mm apart, while its series has a fourth slice 200 mm away.
    let hd = dicom_dir().join("cases/hd_ct_binary/input.dcm");
    assert_eq!(read(&hd, None).expect("hd").geometry.slice_count(), 3);
}

#[test]
fn the_series_reader_matches_every_expected_grid() {
    let mut checked = BTreeSet::new();
    for case in seg_cases().into_iter().chain(cases("RTSTRUCT")) {
        let Some(dir) = case.series() else { continue };
        let series =
            segauge_io::dicom::read_series(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let grid = &case.expected["grid"];
        check_geometry(&case.id, &series.geometry, grid);
        let uids: Vec<&str> = grid["slice_sop_instance_uids"]
            .as_array()
            .expect("uids")
            .iter()
            .map(|u| u.as_str().expect("uid"))
            .collect();
        assert_eq!(series.sop_instance_uids, uids, "{}", case.id);
        assert_eq!(series.files.len(), series.geometry.slice_count());
        assert!(series.geometry.frame_of_reference.is_some(), "{}", case.id);
        assert!(!series.series_uid.is_empty());
        checked.insert(dir.file_name().expect("name").to_owned());
    }
    assert_eq!(checked.len(), 9, "every series folder: {checked:?}");
}

#[test]
fn label_volumes_match_the_simpleitk_nifti_twins() {
    let tol = GridTolerance::default();
    let mut seen = 0;
    for case in seg_cases().into_iter().filter(|c| c.dir.join("nifti").is_dir()) {
        let id = &case.id;
        let seg = read(&case.input(), case.series()).unwrap_or_else(|e| panic!("{id}: {e}"));
        let grid = seg.geometry.grid().unwrap_or_else(|e| panic!("{id}: {e}"));
        for s in &seg.segments {
            let nii = segauge_io::read_nifti(&case.dir.join(format!("nifti/seg-{}.nii.gz", s.number)))
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            grid.check_same(nii.grid(), &tol).unwrap_or_else(|e| panic!("{id} segment {}: {e}", s.number));
            let want: Vec<u32> =
                (0..nii.labels().len()).map(|i| nii.labels().get(i).expect("in range")).collect();
            let got: Vec<u32> = match &s.values {
                Some(v) => v.iter().map(|&x| u32::from(x)).collect(),
                None => s.mask.iter().map(|&m| u32::from(m)).collect(),
            };
            assert!(got == want, "{id}: segment {} differs from its NIfTI twin", s.number);
        }
        let labels = case.dir.join("nifti/labels.nii.gz");
        if labels.exists() {
            let nii = segauge_io::read_nifti(&labels).unwrap_or_else(|e| panic!("{id}: {e}"));
            let vol = seg.to_label_volume().unwrap_or_else(|e| panic!("{id}: {e}"));
            vol.grid().check_same(nii.grid(), &tol).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert!(
                (0..nii.labels().len()).all(|i| vol.labels().get(i) == nii.labels().get(i)),
                "{id}: label volume differs from labels.nii.gz"
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 6, "generated SEG cases with NIfTI twins");
}

#[test]
fn overlapping_segments_make_no_label_volume() {
    let case = dicom_dir().join("cases/dcmqi_partial_overlaps");
    let seg =
        read(&case.join("input.dcm"), Some(dicom_dir().join("series/dcmqi_ct_3slice_512"))).expect("read");
    let err = must_fail(seg.to_label_volume(), "overlaps");
    assert_message(&err, &case.join("input.dcm"));
    let msg = err.to_string();
    let Error::OverlappingSegments { a, b, voxels, .. } = err else { panic!("{msg}") };
    let (ma, _) = npy(&case.join(format!("expected/seg-{a}.npy")));
    let (mb, _) = npy(&case.join(format!("expected/seg-{b}.npy")));
    let shared = ma.iter().zip(&mb).filter(|(x, y)| **x != 0 && **y != 0).count();
    assert!(a < b && shared > 0);
    assert_eq!(voxels, shared);
    assert!(msg.contains(&format!("segments {a} and {b} overlap in {voxels} voxels")), "{msg}");
}

#[test]
fn irregular_reference_series_reads_but_makes_no_grid() {
    let case = dicom_dir().join("cases/hd_ct_binary_overlap/input.dcm");
    let seg = read(&case, Some(dicom_dir().join("series/pydicom_ct2_16x16x4"))).expect("read");
    assert_eq!(seg.geometry.slice_count(), 4);
    let err = must_fail(seg.to_label_volume(), "irregular");
    assert!(matches!(err, Error::InvalidFileGrid { .. }), "{err}");
    assert_message(&err, &case);
}

#[test]
fn dicom_kind_of_every_case_and_series_file() {
    for case in seg_cases().into_iter().chain(cases("RTSTRUCT")) {
        let want = match case.expected["sop_class_uid"].as_str().expect("sop class") {
            "1.2.840.10008.5.1.4.1.1.66.4" => DicomKind::Seg,
            "1.2.840.10008.5.1.4.1.1.66.7" => DicomKind::LabelmapSeg,
            "1.2.840.10008.5.1.4.1.1.481.3" => DicomKind::RtStruct,
            other => panic!("{other}"),
        };
        assert_eq!(
            segauge_io::dicom::dicom_kind(&case.input()).unwrap_or_else(|e| panic!("{e}")),
            want,
            "{}",
            case.id
        );
    }
    for entry in std::fs::read_dir(dicom_dir().join("series/gen_ct_oblique_61x50x24")).expect("series") {
        let path = entry.expect("entry").path();
        let kind = segauge_io::dicom::dicom_kind(&path);
        if path.extension().is_some_and(|e| e == "dcm") {
            assert_eq!(kind.expect("image"), DicomKind::Image);
        } else {
            let err = must_fail(kind, "SOURCE.json is not DICOM");
            assert!(matches!(err, Error::NotFormat { .. }), "{err}");
            assert_message(&err, &path);
        }
    }
}

#[test]
fn pydicom_rtstruct_without_file_meta_is_an_rtstruct() {
    let path = dicom_dir().join("cases/pydicom_rtstruct/input.dcm");
    let bytes = std::fs::read(&path).expect("read");
    assert_ne!(&bytes[128..132], b"DICM", "the fixture has no preamble");
    assert_eq!(segauge_io::dicom::dicom_kind(&path).expect("kind"), DicomKind::RtStruct);
    let err = read_err(&path, None);
    assert!(matches!(err, Error::NotFormat { format: "DICOM-SEG", .. }), "{err}");
    assert!(err.to_string().contains("1.2.840.10008.5.1.4.1.1.481.3"), "{err}");
}

// ---------------------------------------------------------------------------------------------------------------
// Encodings built from copies: bare data sets, deflate, JPEG 2000 (unsupported)
// ---------------------------------------------------------------------------------------------------------------

fn write_file(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(bytes).expect("write");
    path
}

/// Reads a case from `path` (a modified copy) and checks it against the case's expected masks.
fn check_copy(case: &str, path: &Path) {
    let case = seg_cases().into_iter().find(|c| c.id == case).expect("case");
    let seg = read(path, case.series()).unwrap_or_else(|e| panic!("{}: {e}", case.id));
    check_geometry(&case.id, &seg.geometry, &case.expected["grid"]);
    check_segments(&case, &seg, true);
}

#[test]
fn bare_data_sets_without_preamble_or_file_meta_are_read() {
    let tmp = TempDir::new().expect("tempdir");
    // Implicit VR (highdicom) and Explicit VR (generated) SEGs with their first 132 bytes and group 0002 removed.
    for (case, syntax) in [("hd_ct_binary", "implicit"), ("gen_seg_sparse", "explicit")] {
        let bytes = std::fs::read(dicom_dir().join(format!("cases/{case}/input.dcm"))).expect("read");
        let (_, start) = meta_elements(&bytes);
        let path = write_file(&tmp, &format!("{case}-{syntax}.dcm"), &bytes[start..]);
        assert_eq!(segauge_io::dicom::dicom_kind(&path).expect("kind"), DicomKind::Seg);
        check_copy(case, &path);
    }
}

#[test]
fn deflated_explicit_vr_little_endian_is_read() {
    let tmp = TempDir::new().expect("tempdir");
    let bytes = std::fs::read(dicom_dir().join("cases/gen_seg_oblique/input.dcm")).expect("read");
    let (_, start) = meta_elements(&bytes);
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&bytes[start..]).expect("deflate");
    let deflated = enc.finish().expect("deflate");
    let path = write_file(&tmp, "deflated.dcm", &with_meta(&bytes, "1.2.840.10008.1.2.1.99", &deflated));
    assert!(std::fs::metadata(&path).expect("size").len() < bytes.len() as u64);
    check_copy("gen_seg_oblique", &path);
}

#[test]
fn jpeg_2000_seg_is_unsupported_naming_the_transfer_syntax() {
    let tmp = TempDir::new().expect("tempdir");
    let bytes = std::fs::read(dicom_dir().join("cases/dcmqi_23x38x3/input.dcm")).expect("read");
    let (_, start) = meta_elements(&bytes);
    let path = write_file(&tmp, "j2k.dcm", &with_meta(&bytes, "1.2.840.10008.1.2.4.90", &bytes[start..]));
    for err in [must_fail(segauge_io::dicom::dicom_kind(&path), "kind"), read_err(&path, None)] {
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
        assert_message(&err, &path);
        let msg = err.to_string();
        assert!(msg.contains("1.2.840.10008.1.2.4.90") && msg.contains("JPEG 2000"), "{msg}");
    }
    // An image series is read up to its pixel data only: any parseable transfer syntax is fine for a slice.
    let ct = std::fs::read(dicom_dir().join("series/gen_ct_axial_64x64x40/000.dcm")).expect("read");
    let (_, start) = meta_elements(&ct);
    let ct_path = write_file(&tmp, "ct.dcm", &with_meta(&ct, "1.2.840.10008.1.2.4.90", &ct[start..]));
    assert_eq!(segauge_io::dicom::dicom_kind(&ct_path).expect("kind"), DicomKind::Image);
}

#[test]
fn unknown_transfer_syntax_is_unsupported() {
    let tmp = TempDir::new().expect("tempdir");
    let bytes = std::fs::read(dicom_dir().join("cases/dcmqi_24x38x3/input.dcm")).expect("read");
    let (_, start) = meta_elements(&bytes);
    let path = write_file(&tmp, "odd.dcm", &with_meta(&bytes, "1.2.3.4.5", &bytes[start..]));
    let err = must_fail(segauge_io::dicom::dicom_kind(&path), "unknown");
    assert!(matches!(err, Error::Unsupported { .. }) && err.to_string().contains("1.2.3.4.5"), "{err}");
    assert_message(&err, &path);
}

// ---------------------------------------------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn non_dicom_and_empty_files_are_not_dicom() {
    let tmp = TempDir::new().expect("tempdir");
    for (name, bytes) in [("notes.txt", &b"segmentation of case 7\n"[..]), ("empty.dcm", &b""[..])] {
        let path = write_file(&tmp, name, bytes);
        for err in [must_fail(segauge_io::dicom::dicom_kind(&path), "kind"), read_err(&path, None)] {
            assert!(matches!(err, Error::NotFormat { format: "DICOM", .. }), "{err}");
            assert_message(&err, &path);
        }
    }
    let missing = tmp.path().join("missing.dcm");
    let err = must_fail(segauge_io::dicom::dicom_kind(&missing), "missing");
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

#[test]
fn truncated_seg_copies_are_truncated() {
    let tmp = TempDir::new().expect("tempdir");
    for case in ["gen_seg_sparse", "hd_ct_binary", "gen_seg_rle"] {
        let bytes = std::fs::read(dicom_dir().join(format!("cases/{case}/input.dcm"))).expect("read");
        // Cuts in the pixel data (for RLE, one byte into the last fragment, before the 8-byte sequence
        // delimiter), in the header, and in the File Meta group.
        for cut in [bytes.len() - 9, bytes.len() - 100, bytes.len() * 9 / 10, 700, 140] {
            let path = write_file(&tmp, &format!("{case}-{cut}.dcm"), &bytes[..cut]);
            let err = read_err(&path, None);
            assert!(matches!(err, Error::Truncated { .. }), "{case} cut at {cut}: {err}");
            assert_message(&err, &path);
        }
    }
}

#[test]
fn short_pixel_data_is_truncated() {
    // Shorten the PixelData value (and its length) of an Explicit VR SEG: the data set is well formed, but holds
    // fewer bytes than NumberOfFrames × Rows × Columns bits.
    let tmp = TempDir::new().expect("tempdir");
    let bytes = std::fs::read(dicom_dir().join("cases/gen_seg_sparse/input.dcm")).expect("read");
    let at = bytes.windows(6).rposition(|w| w == [0xE0, 0x7F, 0x10, 0x00, b'O', b'B']).expect("PixelData");
    let len = u32::from_le_bytes([bytes[at + 8], bytes[at + 9], bytes[at + 10], bytes[at + 11]]);
    assert_eq!(at + 12 + len as usize, bytes.len());
    let mut short = bytes[..at + 12 + len as usize - 512].to_vec();
    short[at + 8..at + 12].copy_from_slice(&(len - 512).to_le_bytes());
    let path = write_file(&tmp, "short.dcm", &short);
    let err = read_err(&path, None);
    assert!(matches!(err, Error::Truncated { .. }), "{err}");
    assert!(err.to_string().contains("PixelData holds"), "{err}");
    assert_message(&err, &path);
    // Without PixelData at all.
    let path = write_file(&tmp, "nopixels.dcm", &bytes[..at]);
    let err = read_err(&path, None);
    assert!(err.to_string().contains("PixelData"), "{err}");
    assert_message(&err, &path);
}

#[test]
fn frames_on_no_slice_of_a_wrong_series_are_an_error() {
    let tmp = TempDir::new().expect("tempdir");
    // The same frame of reference, but only the first 10 slices (-47.5 .. -25 mm): frames at 27.5 mm match nothing.
    let src = dicom_dir().join("series/gen_ct_axial_64x64x40");
    for i in 0..10 {
        let name = format!("{i:03}.dcm");
        std::fs::copy(src.join(&name), tmp.path().join(&name)).expect("copy");
    }
    let seg = dicom_dir().join("cases/gen_seg_sparse/input.dcm");
    let err = read_err(&seg, Some(tmp.path().to_path_buf()));
    assert!(matches!(err, Error::InvalidFileGrid { .. }), "{err}");
    assert!(err.to_string().contains("lies on no slice of series"), "{err}");
    assert_message(&err, &seg);
    // Another frame of reference (and grid).
    let err = read_err(&seg, Some(dicom_dir().join("series/gen_ct_oblique_61x50x24")));
    assert!(matches!(err, Error::InvalidFileGrid { .. }), "{err}");
    assert_message(&err, &seg);
    // The series of another SEG with the same rows and columns but another frame of reference.
    let dcmqi = dicom_dir().join("cases/dcmqi_24x38x3/input.dcm");
    let err = read_err(&dcmqi, Some(dicom_dir().join("series/dcmqi_23x38x3")));
    assert!(err.to_string().contains("24"), "{err}");
}

#[test]
fn read_seg_refuses_other_dicom_files() {
    let ct = dicom_dir().join("series/gen_ct_axial_64x64x40/000.dcm");
    let err = read_err(&ct, None);
    assert!(matches!(err, Error::NotFormat { format: "DICOM-SEG", .. }), "{err}");
    assert_message(&err, &ct);
}

#[test]
fn series_folders_with_no_image_or_two_series_are_errors() {
    let tmp = TempDir::new().expect("tempdir");
    write_file(&tmp, "README", b"nothing here");
    std::fs::copy(dicom_dir().join("cases/gen_seg_sparse/input.dcm"), tmp.path().join("seg.dcm"))
        .expect("copy");
    let err = must_fail(segauge_io::dicom::read_series(tmp.path()), "no image");
    assert!(matches!(err, Error::NotFormat { format: "DICOM series", .. }), "{err}");
    assert_message(&err, tmp.path());

    let mixed = TempDir::new().expect("tempdir");
    std::fs::copy(dicom_dir().join("series/dcmqi_24x38x3/IMG0001.dcm"), mixed.path().join("a.dcm"))
        .expect("copy");
    std::fs::copy(dicom_dir().join("series/dcmqi_23x38x3/IMG0002.dcm"), mixed.path().join("b.dcm"))
        .expect("copy");
    let err = must_fail(segauge_io::dicom::read_series(mixed.path()), "mixed");
    assert_message(&err, mixed.path());
    let Error::MixedSeries { a, b, .. } = &err else { panic!("{err}") };
    assert!(
        a.contains("1.2.826.0.1.3680043.2.1125.1.") && b.contains("1.2.826.0.1.3680043.2.1125.1."),
        "{err}"
    );
    assert_ne!(a, b);
    // A SEG inside a series folder is skipped; the series still reads.
    let with_seg = TempDir::new().expect("tempdir");
    for name in ["IMG0001.dcm", "IMG0002.dcm", "IMG0003.dcm", "SOURCE.json"] {
        std::fs::copy(dicom_dir().join("series/dcmqi_24x38x3").join(name), with_seg.path().join(name))
            .expect("copy");
    }
    std::fs::copy(dicom_dir().join("cases/dcmqi_24x38x3/input.dcm"), with_seg.path().join("seg.dcm"))
        .expect("copy");
    assert_eq!(segauge_io::dicom::read_series(with_seg.path()).expect("series").geometry.slice_count(), 3);
}

#[test]
fn seg_without_positions_needs_its_series() {
    use dicom_dictionary_std::tags;
    let tmp = TempDir::new().expect("tempdir");
    let src = dicom_dir().join("cases/gen_seg_sparse/input.dcm");
    let mut obj = dicom_object::open_file(&src).expect("open");
    let mut per_frame =
        obj.take_element(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE).expect("per-frame groups");
    per_frame.update_value(|v| {
        for item in v.items_mut().expect("sequence").iter_mut() {
            item.remove_element(tags::PLANE_POSITION_SEQUENCE);
        }
    });
    obj.put(per_frame);
    let path = tmp.path().join("nopos.dcm");
    obj.write_to_file(&path).expect("write");
    let err = read_err(&path, None);
    assert!(matches!(err, Error::InvalidFileGrid { .. }), "{err}");
    assert!(err.to_string().contains("PlanePositionSequence"), "{err}");
    assert_message(&err, &path);
    // With the series, frames fall back to their source images (DerivationImageSequence).
    check_copy("gen_seg_sparse", &path);
}

#[test]
fn cut_and_corrupted_copies_never_panic() {
    // Every SEG case cut at 24 points and with 24 bytes inverted (deterministic positions): each read returns a
    // segmentation or a one-line error naming the file, and never panics. A corrupt length field used to make
    // dicom-rs allocate up to 4 GiB (seconds per read); the length pre-check keeps this test fast.
    // RUN_SLOW_TESTS=1 tries 400 points per case.
    let rounds = if std::env::var_os("RUN_SLOW_TESTS").is_some() { 400 } else { 24 };
    let tmp = TempDir::new().expect("tempdir");
    for case in seg_cases() {
        let bytes = std::fs::read(case.input()).expect("read");
        let n = bytes.len();
        for i in 1..=rounds {
            let at = n * i / (rounds + 1);
            let cut = write_file(&tmp, &format!("{}-cut.dcm", case.id), &bytes[..at]);
            if let Err(e) = read(&cut, case.series()) {
                assert_message(&e, &cut);
            }
            let mut flipped = bytes.clone();
            let at = (at * 7 + 131) % n;
            flipped[at] ^= 0xFF;
            let bad = write_file(&tmp, &format!("{}-flip.dcm", case.id), &flipped);
            if let Err(e) = read(&bad, None) {
                assert_message(&e, &bad);
            }
        }
    }
}
