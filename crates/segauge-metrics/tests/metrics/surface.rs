//! Surface metrics against MeshMetrics 0.2.1 on the validation set in tests/data/surface (see its PROVENANCE.md):
//! values on every case, and the per-triangle distance and area arrays on the three exact-agreement cases.

use std::path::{Path, PathBuf};

use segauge_metrics::{
    MeshCompat, Surface, SurfaceDistances, SurfaceMetrics, SurfaceOptions, label_surface_distances,
};

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/surface")
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn cases() -> Vec<String> {
    let index = json(&data().join("index.json"));
    let list = index.get("cases").unwrap_or(&index);
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().map(str::to_string).unwrap_or_else(|| c["case"].as_str().unwrap().to_string()))
        .collect()
}

/// A float64 .npy array (little-endian, 1-D).
fn npy_f64(path: &Path) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap();
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(header.contains("'<f8'"), "{header}");
    bytes[10 + header_len..].chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect()
}

struct Case {
    pred: segauge_io::LabelVolume,
    gt: segauge_io::LabelVolume,
}

/// The case as MeshMetrics saw it: numpy arrays with the decimal spacing of `geometry.spacing_mm` (not the
/// float32 spacing of the NIfTI header), origin 0 and identity direction.
fn load(name: &str) -> Case {
    let dir = data().join(name);
    let spacing: Vec<f64> = json(&dir.join("expected.json"))["geometry"]["spacing_mm"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let with_spacing = |file: &str| {
        let vol = segauge_io::read_nifti(&dir.join(file)).unwrap();
        let (grid, labels) = vol.into_parts();
        let grid = segauge_io::Grid::new(grid.dims(), [spacing[0], spacing[1], spacing[2]]).unwrap();
        segauge_io::LabelVolume::new(grid, labels).unwrap()
    };
    Case { pred: with_spacing("pred.nii.gz"), gt: with_spacing("gt.nii.gz") }
}

fn metrics_with(
    case: &Case,
    surface: Surface,
    percentile: f64,
    tau: f64,
    compat: MeshCompat,
) -> SurfaceMetrics {
    let options =
        SurfaceOptions { surface, percentile, tau, mesh_compat: compat, ..SurfaceOptions::default() };
    segauge_metrics::surface_metrics(&case.pred, &case.gt, &[1], &options).unwrap().remove(&1).unwrap()
}

fn close(what: &str, got: f64, want: f64, rel: f64) {
    close_abs(what, got, want, rel, 0.0);
}

/// `|got − want| ≤ rel·max(|want|, 1) + abs`.
fn close_abs(what: &str, got: f64, want: f64, rel: f64, abs: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs().max(1.0) + abs,
        "{what}: segauge {got} vs reference {want}"
    );
}

/// Two float32 ulps at the largest coordinate of the case's image: the rounding of MeshMetrics' vertices, which
/// exact mode does not have.
fn f32_allowance(case: &Case) -> f64 {
    let g = case.gt.grid();
    let extent = (0..3).map(|a| (g.dims()[a] + 2) as f64 * g.spacing()[a]).fold(0.0, f64::max);
    2.0 * f64::from(f32::EPSILON) * 2f64.powi(extent.log2().ceil() as i32)
}

/// Distances of MeshMetrics come from float32 vertices; ours (exact mode) from exact f64 positions.
const DIST_TOL: f64 = 1e-6;

/// The NSD difference that samples at `tau` within `eps` (threshold ties: exact distance on one side, VTK's
/// rounded one on the other) can explain, as a fraction of the total weight.
fn tie_weight(d: &SurfaceDistances, tau: f64, eps: f64) -> f64 {
    let w = |dir: &segauge_metrics::Directed| -> f64 {
        dir.distances()
            .iter()
            .zip(dir.weights())
            .filter(|(x, _)| (**x - tau).abs() <= eps)
            .map(|(_, w)| w)
            .sum()
    };
    let total: f64 = d.gt_to_pred.weights().iter().chain(d.pred_to_gt.weights()).sum();
    (w(&d.gt_to_pred) + w(&d.pred_to_gt)) / total
}

fn distances(case: &Case, compat: MeshCompat) -> SurfaceDistances {
    let options =
        SurfaceOptions { surface: Surface::VoxelFaces, mesh_compat: compat, ..SurfaceOptions::default() };
    label_surface_distances(&case.pred, &case.gt, 1, &options).unwrap().unwrap()
}

/// `dist_tol`: relative tolerance of distances; `weight_tol`: of NSD beyond threshold ties (exact mode's areas come
/// from exact vertices, MeshMetrics' from float32 ones: ~1e-6 relative per triangle, ~1e-9 on NSD).
fn check_case(name: &str, compat: MeshCompat, dist_tol: f64, weight_tol: f64) {
    let expected = json(&data().join(name).join("expected.json"));
    let case = load(name);
    let (mm, exact_case) = match expected["tools"].get("meshmetrics") {
        Some(v) => (v.clone(), false),
        None => (expected["meshmetrics"].clone(), true),
    };
    let tag = format!("{name} ({compat:?})");
    let abs = if compat == MeshCompat::Exact { f32_allowance(&case) } else { 0.0 };
    let m95 = metrics_with(&case, Surface::VoxelFaces, 95.0, 1.0, compat);
    close_abs(&format!("{tag} hd"), m95.hd, mm["hd"].as_f64().unwrap(), dist_tol, abs);
    close_abs(&format!("{tag} hd95"), m95.hd_percentile, mm["hd95"].as_f64().unwrap(), dist_tol, abs);
    close_abs(&format!("{tag} assd"), m95.assd, mm["assd"].as_f64().unwrap(), dist_tol, abs);
    close_abs(&format!("{tag} masd"), m95.masd, mm["masd"].as_f64().unwrap(), dist_tol, abs);
    let samples = distances(&case, compat);
    let taus: Vec<(f64, &str)> =
        if exact_case { vec![(1.5, "nsd@1.5")] } else { vec![(1.0, "nsd@1.0"), (2.5, "nsd@2.5")] };
    for (tau, key) in taus {
        let got = metrics_with(&case, Surface::VoxelFaces, 95.0, tau, compat).nsd;
        let want = mm[key].as_f64().unwrap();
        let ties = tie_weight(&samples, tau, 1e-6 * tau);
        assert!(
            (got - want).abs() <= ties + weight_tol,
            "{tag} {key}: segauge {got} vs MeshMetrics {want}, ties {ties}"
        );
    }
    if exact_case {
        let m99 = metrics_with(&case, Surface::VoxelFaces, 99.0, 1.5, compat);
        close_abs(&format!("{tag} hd99"), m99.hd_percentile, mm["hd99"].as_f64().unwrap(), dist_tol, abs);
        close(&format!("{tag} biou@1.5"), m99.biou, mm["biou@1.5"].as_f64().unwrap(), 1e-12);
    }
}

/// Exact mode (the default arithmetic): HD, HD_p, ASSD, MASD within 1e-6 relative plus two float32 ulps of the
/// image extent (MeshMetrics' vertex rounding: up to 2.8e-6 mm here); NSD equal up to the weight of samples tied
/// with tau and 1e-8 of area rounding.
#[test]
fn voxel_faces_agree_with_meshmetrics_on_every_case() {
    let names = cases();
    assert_eq!(names.len(), 15);
    for name in &names {
        check_case(name, MeshCompat::Exact, DIST_TOL, 1e-8);
    }
}

/// vtk-f32 compatibility: MeshMetrics' own arithmetic for vertices, centres and areas; distances to 1e-12.
#[test]
fn vtk_f32_mode_reproduces_meshmetrics_to_rounding() {
    for name in cases() {
        check_case(&name, MeshCompat::VtkF32, 1e-12, 1e-12);
    }
}

#[test]
fn per_triangle_arrays_match_meshmetrics() {
    for name in ["exact_blob_pair", "exact_plate_pair", "exact_border_pair"] {
        let dir = data().join(name);
        let case = load(name);
        let d = distances(&case, MeshCompat::VtkF32);
        for (ours, dfile, afile) in
            [(&d.gt_to_pred, "d_ref2pred.npy", "a_ref.npy"), (&d.pred_to_gt, "d_pred2ref.npy", "a_pred.npy")]
        {
            let mut theirs: Vec<(f64, f64)> =
                npy_f64(&dir.join(dfile)).into_iter().map(f64::abs).zip(npy_f64(&dir.join(afile))).collect();
            // Compare as multisets: sort both by (distance to 1e-9 mm, area), so that distances equal up to
            // rounding pair up whatever their order.
            let key = |d: f64| (d * 1e9).round() as i64;
            theirs.sort_by(|a, b| key(a.0).cmp(&key(b.0)).then(a.1.total_cmp(&b.1)));
            let mut mine: Vec<(f64, f64)> =
                ours.distances().iter().copied().zip(ours.weights().iter().copied()).collect();
            mine.sort_by(|a, b| key(a.0).cmp(&key(b.0)).then(a.1.total_cmp(&b.1)));
            assert_eq!(mine.len(), theirs.len(), "{name} {dfile}: triangle count");
            for (k, ((d, a), (td, ta))) in mine.iter().zip(&theirs).enumerate() {
                assert!((d - td).abs() <= 1e-12 * td.max(1.0), "{name} {dfile}[{k}]: {d} vs {td}");
                assert!((a - ta).abs() <= 1e-12 * ta, "{name} {afile}[{k}]: {a} vs {ta}");
            }
        }
        // Exact mode: the same samples to float32 precision of MeshMetrics' vertices.
        let e = distances(&case, MeshCompat::Exact);
        for (x, y) in [(&e.gt_to_pred, &d.gt_to_pred), (&e.pred_to_gt, &d.pred_to_gt)] {
            let (sx, sy): (f64, f64) = (x.weights().iter().sum(), y.weights().iter().sum());
            assert!((sx - sy).abs() <= DIST_TOL * sy, "{name}: total area {sx} vs {sy}");
        }
    }
}

#[test]
fn dice_and_iou_of_the_exact_cases_match_meshmetrics() {
    for name in ["exact_blob_pair", "exact_plate_pair", "exact_border_pair"] {
        let expected = json(&data().join(name).join("expected.json"));
        let case = load(name);
        let c = segauge_metrics::OverlapCounts::compute(&case.pred, &case.gt).unwrap().get(1);
        close(&format!("{name} dsc"), c.dice(), expected["meshmetrics"]["dsc"].as_f64().unwrap(), 1e-15);
        close(&format!("{name} iou"), c.iou(), expected["meshmetrics"]["iou"].as_f64().unwrap(), 1e-15);
    }
}

#[test]
fn empty_and_identical_masks() {
    let case = load("exact_blob_pair");
    let empty = segauge_io::LabelVolume::new(
        case.gt.grid().clone(),
        segauge_io::Labels::U8(vec![0; case.gt.grid().voxel_count()]),
    )
    .unwrap();
    let options = SurfaceOptions::default();
    let one = segauge_metrics::surface_metrics(&empty, &case.gt, &[1, 2], &options).unwrap();
    assert_eq!(one[&1].empty_state, segauge_metrics::EmptyState::PredEmpty);
    assert!(one[&1].hd.is_infinite() && one[&1].assd.is_infinite() && one[&1].masd.is_infinite());
    assert_eq!((one[&1].nsd, one[&1].biou), (0.0, 0.0));
    assert_eq!(one[&2].empty_state, segauge_metrics::EmptyState::BothEmpty);
    assert_eq!((one[&2].hd, one[&2].hd_percentile, one[&2].nsd, one[&2].biou), (0.0, 0.0, 1.0, 1.0));
    for surface in [Surface::VoxelFaces, Surface::Grid] {
        let o = SurfaceOptions { surface, ..SurfaceOptions::default() };
        let same = segauge_metrics::surface_metrics(&case.gt, &case.gt, &[1], &o).unwrap();
        assert_eq!(
            (same[&1].hd, same[&1].assd, same[&1].masd, same[&1].nsd, same[&1].biou),
            (0.0, 0.0, 0.0, 1.0, 1.0)
        );
    }
}

/// `smooth-vtk` against MeshMetrics' distance code on VTK's smoothed SurfaceNets (`mm_sn_smooth`): ≤ 1e-5 mm.
#[test]
fn smooth_agrees_with_meshmetrics_on_smoothed_surface_nets() {
    let mut checked = 0;
    for name in cases() {
        let expected = json(&data().join(&name).join("expected.json"));
        let Some(mm) = expected["tools"].get("mm_sn_smooth") else { continue };
        let case = load(&name);
        for (tau, key) in [(1.0, "nsd@1.0"), (2.5, "nsd@2.5")] {
            let m = metrics_with(&case, Surface::SmoothVtk, 95.0, tau, MeshCompat::Exact);
            let tag = format!("{name} smooth");
            close_abs(&format!("{tag} hd"), m.hd, mm["hd"].as_f64().unwrap(), 0.0, 1e-5);
            close_abs(&format!("{tag} hd95"), m.hd_percentile, mm["hd95"].as_f64().unwrap(), 0.0, 1e-5);
            close_abs(&format!("{tag} assd"), m.assd, mm["assd"].as_f64().unwrap(), 0.0, 1e-5);
            close_abs(&format!("{tag} masd"), m.masd, mm["masd"].as_f64().unwrap(), 0.0, 1e-5);
            close_abs(&format!("{tag} {key}"), m.nsd, mm[key].as_f64().unwrap(), 0.0, 1e-5);
        }
        checked += 1;
    }
    assert_eq!(checked, 12);
}

fn volume(
    dims: [usize; 3],
    spacing: [f64; 3],
    f: impl Fn(usize, usize, usize) -> bool,
) -> segauge_io::LabelVolume {
    let data = segauge_tests::label_map(dims, |i, j, k| u8::from(f(i, j, k)));
    segauge_io::LabelVolume::new(segauge_io::Grid::new(dims, spacing).unwrap(), segauge_io::Labels::U8(data))
        .unwrap()
}

/// Two unit voxels with centres 2 mm apart along x (voxel-face surface): every sample distance by hand.
/// gt: -x face d = 2, +x face d = 1, each side face one triangle at 4/3 and one at 5/3 (centroids at ±1/6 along x).
#[test]
fn single_voxels_by_hand() {
    let gt = volume([5, 1, 1], [1.0; 3], |i, _, _| i == 1);
    let pred = volume([5, 1, 1], [1.0; 3], |i, _, _| i == 3);
    let options = SurfaceOptions { surface: Surface::VoxelFaces, tau: 1.5, ..SurfaceOptions::default() };
    let m = segauge_metrics::surface_metrics(&pred, &gt, &[1], &options).unwrap().remove(&1).unwrap();
    assert_eq!(m.hd, 2.0);
    assert_eq!(m.hd_percentile, 2.0); // 12 equal-area samples: C/W reaches 0.95 at the 12th (d = 2)
    close("assd", m.assd, 1.5, 1e-15); // (2·2 + 2·1 + 4·(4/3 + 5/3)) · ½ / 6 per direction
    close("masd", m.masd, 1.5, 1e-15);
    assert_eq!(m.nsd, 0.5); // d ≤ 1.5: the two at 1 and the four at 4/3, of twelve
    assert_eq!(m.biou, 0.0); // each voxel's centre is 0.5 mm from its own surface; the voxels are disjoint
    // At tau ≤ half the spacing no voxel centre is within tau of its surface: both bands are empty and BIoU is
    // undefined (it was 1, perfect, for these disjoint voxels).
    for tau in [0.5, 0.25] {
        let o = SurfaceOptions { surface: Surface::VoxelFaces, tau, ..SurfaceOptions::default() };
        let m = segauge_metrics::surface_metrics(&pred, &gt, &[1], &o).unwrap().remove(&1).unwrap();
        assert!(m.biou.is_nan(), "tau {tau}: {}", m.biou);
    }
    // The default surface on the same pair: finite, symmetric in the two directions.
    let d = label_surface_distances(&pred, &gt, 1, &SurfaceOptions::default()).unwrap().unwrap();
    close("directed means", d.gt_to_pred.mean(), d.pred_to_gt.mean(), 1e-12);
}

/// A mask touching the image border is closed half a voxel outside the image (as MeshMetrics' padding does).
#[test]
fn border_touching_masks_get_closed_surfaces() {
    let spacing = [0.8, 0.9, 1.5];
    let block = volume([6, 5, 4], spacing, |i, j, _| i < 3 && j < 2); // touches three image faces
    let d = label_surface_distances(
        &block,
        &block,
        1,
        &SurfaceOptions { surface: Surface::VoxelFaces, ..SurfaceOptions::default() },
    )
    .unwrap()
    .unwrap();
    let area: f64 = d.gt_to_pred.weights().iter().sum();
    let (a, b, c) = (3.0 * spacing[0], 2.0 * spacing[1], 4.0 * spacing[2]);
    close("closed box area", area, 2.0 * (a * b + a * c + b * c), 1e-14);
    assert!(d.gt_to_pred.distances().iter().all(|&x| x == 0.0));
}

/// The same object with a flipped axis (data mirrored) gives the same metrics on the default surface; the same
/// data with a flipped direction matrix gives bit-identical metrics on every surface.
#[test]
fn flipped_axes_do_not_change_the_metrics() {
    let case = load("exact_blob_pair");
    let dims = case.gt.grid().dims();
    let mirror = |v: &segauge_io::LabelVolume, axis: usize| {
        let labels: Vec<u8> = (0..v.grid().voxel_count())
            .map(|n| {
                let mut idx = [n % dims[0], (n / dims[0]) % dims[1], n / (dims[0] * dims[1])];
                idx[axis] = dims[axis] - 1 - idx[axis];
                v.labels().get(idx[0] + dims[0] * (idx[1] + dims[1] * idx[2])).unwrap() as u8
            })
            .collect();
        segauge_io::LabelVolume::new(v.grid().clone(), segauge_io::Labels::U8(labels)).unwrap()
    };
    // tau 1.7 mm is no multiple of the spacing (0.9, 1.1, 2.0): no sample ties with it.
    let options = SurfaceOptions { tau: 1.7, ..SurfaceOptions::default() };
    let base =
        segauge_metrics::surface_metrics(&case.pred, &case.gt, &[1], &options).unwrap().remove(&1).unwrap();
    for axis in 0..3 {
        let (p, g) = (mirror(&case.pred, axis), mirror(&case.gt, axis));
        let m = segauge_metrics::surface_metrics(&p, &g, &[1], &options).unwrap().remove(&1).unwrap();
        for (what, x, y) in [
            ("hd", m.hd, base.hd),
            ("hd95", m.hd_percentile, base.hd_percentile),
            ("assd", m.assd, base.assd),
            ("masd", m.masd, base.masd),
            ("nsd", m.nsd, base.nsd),
            ("biou", m.biou, base.biou),
        ] {
            close(&format!("axis {axis} {what}"), x, y, 1e-12);
        }
    }
    // Flipped direction matrix, same voxels: the metrics do not depend on the direction at all.
    let flip = [[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]];
    let with_dir = |v: &segauge_io::LabelVolume| {
        let g = v.grid().clone().with_direction(flip).unwrap().with_origin([10.0, -3.0, 7.5]).unwrap();
        segauge_io::LabelVolume::new(g, v.labels().clone()).unwrap()
    };
    for surface in [Surface::Smooth, Surface::VoxelFaces, Surface::Grid, Surface::MarchingCubes] {
        let o = SurfaceOptions { surface, ..options.clone() };
        let a = segauge_metrics::surface_metrics(&case.pred, &case.gt, &[1], &o).unwrap();
        let b =
            segauge_metrics::surface_metrics(&with_dir(&case.pred), &with_dir(&case.gt), &[1], &o).unwrap();
        assert_eq!(a, b, "{}", surface.as_str());
    }
}
