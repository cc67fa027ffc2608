//! RTSTRUCT tests: every RTSTRUCT case of the conformance set rasterised on its reference series and compared,
//! ROI by ROI, with the masks of rt-utils (`roi-<n>.npy`: vertices rounded to pixels, boundary filled) and of
//! scikit-image's `polygon2mask` (`roi-<n>.alt.npy`: pixel centre strictly inside). segauge's rule is "centre inside
//! or on a contour", so it must contain the centre-inside mask, and equal rt-utils' wherever the contours run
//! through pixel centres (masks contoured by rt-utils itself).

use super::dicom::{cases, npy};
use segauge_io::dicom::{DicomKind, SliceGeometry, read_rtstruct, read_series};

/// (ROI number, voxels segauge, voxels rt-utils, segauge − rt-utils, rt-utils − segauge, voxels centre-inside,
/// centre-inside voxels missing from segauge).
type Row = (u32, usize, usize, usize, usize, usize, usize);

fn compare(id: &str) -> (Vec<Row>, SliceGeometry) {
    let case = cases("RTSTRUCT").into_iter().find(|c| c.id == id).expect("case");
    let series = read_series(&case.series().expect("reference series")).unwrap();
    let rt = read_rtstruct(&case.input(), &series.geometry).unwrap_or_else(|e| panic!("{e}"));
    let mut rows = Vec::new();
    for roi in &rt.rois {
        let path = case.dir.join(format!("expected/roi-{}.npy", roi.number));
        if !path.is_file() {
            assert_eq!(roi.count(), 0, "{id} ROI {} has voxels but no expected mask", roi.number);
            continue;
        }
        let (want, dims) = npy(&path);
        let (alt, _) = npy(&case.dir.join(format!("expected/roi-{}.alt.npy", roi.number)));
        assert_eq!(dims, [series.geometry.columns, series.geometry.rows, series.geometry.slice_count()]);
        let ours = |v: usize| roi.mask[v];
        let n = want.len();
        let plus = (0..n).filter(|&v| ours(v) && want[v] == 0).count();
        let minus = (0..n).filter(|&v| !ours(v) && want[v] != 0).count();
        let alt_missing = (0..n).filter(|&v| !ours(v) && alt[v] != 0).count();
        let count = |m: &[u8]| m.iter().filter(|&&x| x != 0).count();
        rows.push((roi.number, roi.count(), count(&want), plus, minus, count(&alt), alt_missing));
    }
    (rows, series.geometry)
}

/// Per case and ROI: (voxels segauge, rt-utils, centre-inside) as measured, the README's table.
const TABLE: [(&str, u32, usize, usize, usize); 9] = [
    ("gen_rtstruct_holes", 1, 4480, 4480, 3984),
    ("gen_rtstruct_holes", 2, 1728, 1728, 1424),
    ("gen_rtstruct_holes", 3, 1680, 1680, 1494),
    ("rtutils_mock_rt", 1, 1443, 1660, 1443),
    ("rtutils_mim_dummy", 1, 4976, 5160, 4976),
    ("rtutils_mim_dummy", 2, 3697, 3873, 3697),
    ("rtutils_mim_dummy", 3, 4519, 4708, 4519),
    ("rtutils_mim_dummy", 4, 6954, 7295, 6954),
    ("dicompyler_rtss", 1, 40398, 41041, 40396),
];

#[test]
fn rtstruct_cases_follow_the_centre_inside_or_on_contour_rule() {
    let mut seen = 0;
    for id in ["gen_rtstruct_holes", "rtutils_mock_rt", "rtutils_mim_dummy", "dicompyler_rtss"] {
        let (rows, _) = compare(id);
        for (roi, ours, rt_utils, plus, minus, alt, alt_missing) in rows {
            let row =
                TABLE.iter().find(|t| t.0 == id && t.1 == roi).unwrap_or_else(|| panic!("{id} ROI {roi}"));
            assert_eq!((ours, rt_utils, alt), (row.2, row.3, row.4), "{id} ROI {roi}");
            // Every centre strictly inside is in (the rule contains scikit-image's polygon2mask) ...
            assert_eq!(alt_missing, 0, "{id} ROI {roi}");
            if id == "gen_rtstruct_holes" {
                // Contours traced through boundary-pixel centres (mask → contour by rt-utils): the source masks,
                // holes and the pin-hole contour included, come back exactly.
                assert_eq!((plus, minus), (0, 0), "{id} ROI {roi}");
            } else {
                // Contours drawn freely (MIM, a clinical system): centre-inside, plus the rare centre lying on a
                // contour (2 voxels in the clinical case). rt-utils rounds vertices to pixels, which mostly adds
                // voxels (its boundary) and rarely removes some (7 of 40 398 in the clinical case).
                assert!(ours - alt <= 2, "{id} ROI {roi}: {} over centre-inside", ours - alt);
                assert!(plus * 1000 <= ours, "{id} ROI {roi}: {plus} voxels rt-utils lacks");
            }
            seen += 1;
        }
    }
    assert_eq!(seen, TABLE.len());
}

#[test]
fn skipped_contours_and_empty_rois_are_noted() {
    let case = cases("RTSTRUCT").into_iter().find(|c| c.id == "dicompyler_rtss").unwrap();
    let series = read_series(&case.series().unwrap()).unwrap();
    let rt = read_rtstruct(&case.input(), &series.geometry).unwrap();
    assert_eq!(rt.rois.len(), 10);
    assert!(
        rt.notes.iter().any(|n| n.contains("Areola") && n.contains("no closed planar contour")),
        "{:?}",
        rt.notes
    );
    // Only one CT slice exists: contours of the other slices are dropped, and said so.
    assert!(rt.notes.iter().any(|n| n.contains("lie on no slice")));
    let mim = cases("RTSTRUCT").into_iter().find(|c| c.id == "rtutils_mim_dummy").unwrap();
    let series = read_series(&mim.series().unwrap()).unwrap();
    let rt = read_rtstruct(&mim.input(), &series.geometry).unwrap();
    assert!(rt.notes.iter().filter(|n| n.contains("lie on no slice")).count() >= 4, "{:?}", rt.notes);
}

#[test]
fn point_rois_are_skipped_and_the_kind_is_recognised_without_file_meta() {
    let case = cases("RTSTRUCT").into_iter().find(|c| c.id == "pydicom_rtstruct").unwrap();
    assert_eq!(segauge_io::dicom::dicom_kind(&case.input()).unwrap(), DicomKind::RtStruct);
    // No images: rasterise onto a small grid around the origin; POINT contours are skipped with a note.
    let grid = segauge_io::Grid::new([8, 8, 4], [1.0, 1.0, 1.0]).unwrap();
    let volume =
        segauge_io::dicom::read_rtstruct_on_grid(&case.input(), &grid, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(volume.grid().dims(), [8, 8, 4]);
}

#[test]
fn an_rtstruct_on_the_grid_of_its_nifti_twin_equals_the_series_rasterisation() {
    // The generated case's ROIs on the grid of the SimpleITK-written NIfTI of its CT geometry (RAS), against the
    // same ROIs on the DICOM series: the same voxels.
    let case = cases("RTSTRUCT").into_iter().find(|c| c.id == "gen_rtstruct_holes").unwrap();
    let series = read_series(&case.series().unwrap()).unwrap();
    let on_series = read_rtstruct(&case.input(), &series.geometry).unwrap().to_label_volume(&[]).unwrap();
    let grid = series.geometry.grid().unwrap();
    let on_grid = segauge_io::dicom::read_rtstruct_on_grid(&case.input(), &grid, &[]).unwrap();
    assert_eq!(on_series.labels(), on_grid.labels());
    // A mapping by name picks and renumbers ROIs; overlapping ROIs mapped to different labels are refused.
    let names: Vec<String> =
        read_rtstruct(&case.input(), &series.geometry).unwrap().rois.iter().map(|r| r.name.clone()).collect();
    let one =
        segauge_io::dicom::read_rtstruct_on_grid(&case.input(), &grid, &[(names[0].clone(), 7)]).unwrap();
    let labels = one.labels();
    assert!((0..labels.len()).all(|i| matches!(labels.get(i), Some(0) | Some(7))));
    assert!((0..labels.len()).any(|i| labels.get(i) == Some(7)));
    let missing =
        segauge_io::dicom::read_rtstruct_on_grid(&case.input(), &grid, &[("liver".into(), 1)]).unwrap_err();
    assert!(missing.to_string().contains("no ROI named \"liver\""), "{missing}");
}
