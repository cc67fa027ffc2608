//! `smooth-vtk` on real anatomy: crops of TotalSegmentator 2.18.0's test outputs (3 mm, full vs fast model) against
//! MeshMetrics' distance method on VTK 9.7.2's own smoothed SurfaceNets meshes (`SetValue(0, 1)`, the whole padded
//! crop in SimpleITK's world frame), computed in Python (tests/data/surface/totalseg_3mm/PROVENANCE.md). These are
//! the three labels of the two full images that moved most when segauge meshed each label's crop in a scaled index
//! frame instead of VTK's world frame (up to 2e-4 relative): float32 rounding of other coordinates flipped near-tie
//! quad diagonals. In VTK's frame the meshes are VTK's bit for bit and the metrics agree to ~1e-14.

use std::path::PathBuf;

use segauge_metrics::{Surface, SurfaceOptions};

fn dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/surface/totalseg_3mm").join(name)
}

/// `|got − want| ≤ rel·|want|`.
fn close(what: &str, got: f64, want: f64, rel: f64) {
    assert!((got - want).abs() <= rel * want.abs(), "{what}: segauge {got:e} vs reference {want:e}");
}

#[test]
fn smooth_vtk_reproduces_vtk_on_totalsegmentator_crops() {
    for name in ["vertebrae_T12", "rib_left_7", "rib_right_10"] {
        let d = dir(name);
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("expected.json")).unwrap()).unwrap();
        let label = expected["label"].as_u64().unwrap() as u32;
        let gt = segauge_io::read_nifti(&d.join("gt.nii.gz")).unwrap();
        let pred = segauge_io::read_nifti(&d.join("pred.nii.gz")).unwrap();
        let options = SurfaceOptions { surface: Surface::SmoothVtk, tau: 2.0, ..SurfaceOptions::default() };
        let m =
            segauge_metrics::surface_metrics(&pred, &gt, &[label], &options).unwrap().remove(&label).unwrap();
        let got =
            [("hd", m.hd), ("hd95", m.hd_percentile), ("assd", m.assd), ("masd", m.masd), ("nsd", m.nsd)];
        // Exact point-to-triangle distances in numpy from VTK's float32 points: the same surface and the same
        // arithmetic up to summation order.
        for (key, value) in got {
            close(
                &format!("{name} {key} (exact)"),
                value,
                expected["expected_exact"][key].as_f64().unwrap(),
                1e-13,
            );
        }
        // MeshMetrics' own vtkDistancePolyDataFilter and vtkCell::ComputeArea on the same meshes.
        for (key, value) in got {
            let want = expected["expected_vtk_distance_filter"][key].as_f64().unwrap();
            close(&format!("{name} {key} (vtkDistancePolyDataFilter)"), value, want, 1e-13);
        }
        // BIoU is a metric of the voxel grid: the same on every mesh surface.
        let smooth = SurfaceOptions { surface: Surface::Smooth, ..options.clone() };
        let b =
            segauge_metrics::surface_metrics(&pred, &gt, &[label], &smooth).unwrap().remove(&label).unwrap();
        assert_eq!(m.biou, b.biou, "{name} biou");
    }
}
