//! SurfaceNets against VTK 9.7.2: every golden case must match bit for bit (smoothed float32 points and
//! triangles, ids and order), plus a timing run on a large ball (ignored by default).

use segauge_mesh::{Frame, Mask, Mesh, SurfaceNetsOptions, surface_nets, surface_nets_with};
use serde_json::Value;

/// The golden cases: every `<case>.vtk9.7.2.json` in `tests/data/surfacenets_golden/` (made with the VTK 9.7.2
/// wheel, see PROVENANCE.md), sorted. One is real thin anatomy: a rib of TotalSegmentator's test output at 3 mm, in
/// SimpleITK's LPS frame (`ts_rib_right_12`).
fn cases() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/surfacenets_golden");
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .expect("golden folder")
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".vtk9.7.2.json").map(str::to_string))
        .collect();
    out.sort();
    assert!(out.len() >= 7 && out.iter().any(|c| c == "ts_rib_right_12"), "{out:?}");
    out
}

/// One golden file: the input mask and frame, and VTK's output.
struct Golden {
    mask: Mask,
    frame: Frame,
    points_smoothed: Vec<[f32; 3]>,
    points_unsmoothed: Vec<[f32; 3]>,
    triangles: Vec<[u32; 3]>,
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

fn triple(v: &Value) -> [f64; 3] {
    let n = numbers(v);
    assert_eq!(n.len(), 3);
    [n[0], n[1], n[2]]
}

/// Points printed with 9 significant digits identify a float32 uniquely, with a margin far wider than the
/// rounding of the decimal to f64, so `f64 as f32` recovers the exact value.
fn points(v: &Value) -> Vec<[f32; 3]> {
    v.as_array().expect("points").iter().map(|p| triple(p).map(|x| x as f32)).collect()
}

fn load(case: &str) -> Golden {
    let path =
        format!("{}/../../tests/data/surfacenets_golden/{case}.vtk9.7.2.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let json: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(json["vtk_version"], "9.7.2");
    assert_eq!(numbers(&json["extent_min"]), [0.0; 3]);
    let dims = triple(&json["mask_shape"]).map(|d| d as usize);
    let mut voxels = vec![false; dims.iter().product()];
    for one in json["mask_ones"].as_array().expect("mask_ones") {
        let [i, j, k] = triple(one).map(|x| x as usize);
        voxels[i + dims[0] * (j + dims[1] * k)] = true;
    }
    // `direction` is row-major: direction[r][a] is component r of axis a, which is Frame's convention.
    let rows = json["direction"].as_array().expect("direction");
    let frame = Frame {
        spacing: triple(&json["spacing"]),
        origin: triple(&json["origin"]),
        direction: [triple(&rows[0]), triple(&rows[1]), triple(&rows[2])],
    };
    let triangles = json["triangles"]
        .as_array()
        .expect("triangles")
        .iter()
        .map(|t| triple(t).map(|i| i as u32))
        .collect();
    Golden {
        mask: Mask::new(dims, voxels).expect("mask"),
        frame,
        points_smoothed: points(&json["points_smoothed"]),
        points_unsmoothed: points(&json["points_unsmoothed"]),
        triangles,
    }
}

/// The vertices of a mesh as the float32 values they were converted from (exact).
fn as_f32(mesh: &Mesh) -> Vec<[f32; 3]> {
    mesh.vertices
        .iter()
        .map(|v| {
            let p = v.map(|x| x as f32);
            assert_eq!(p.map(f64::from), *v, "vertex is not a float32 value");
            p
        })
        .collect()
}

#[test]
fn golden_cases_match_vtk_9_7_2_bit_for_bit() {
    for case in cases() {
        let golden = load(&case);
        let mesh = surface_nets(&golden.mask, &golden.frame);
        let ours = as_f32(&mesh);
        assert_eq!(ours.len(), golden.points_smoothed.len(), "{case}: point count");
        for (i, (a, b)) in ours.iter().zip(&golden.points_smoothed).enumerate() {
            assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits), "{case}: point {i}: {a:?} vs {b:?}");
        }
        assert_eq!(mesh.triangles, golden.triangles, "{case}: triangles");
    }
}

#[test]
fn unsmoothed_points_are_vtks_cell_centres() {
    let mut options = SurfaceNetsOptions::default();
    options.smoothing = false;
    for case in cases() {
        let golden = load(&case);
        let mesh = surface_nets_with(&golden.mask, &golden.frame, &options);
        assert_eq!(as_f32(&mesh), golden.points_unsmoothed, "{case}");
        assert_eq!(mesh.triangles.len(), golden.triangles.len(), "{case}");
    }
}

#[test]
fn closed_surfaces_enclose_the_mask_and_open_ones_have_a_rim() {
    // A padded ball is closed and outward-wound: every directed edge appears once, its reverse once.
    let golden = load("ball_aniso");
    let mesh = surface_nets(&golden.mask, &golden.frame);
    let mut edges = std::collections::HashMap::new();
    for t in &mesh.triangles {
        for e in 0..3 {
            *edges.entry((t[e], t[(e + 1) % 3])).or_insert(0) += 1;
        }
    }
    assert!(edges.iter().all(|(&(a, b), &n)| n == 1 && edges.get(&(b, a)) == Some(&1)));
    // VTK's smoothing shrinks a ball this small (radius 4.2 voxels) to about 62 % of its voxel volume.
    let volume = golden.mask.count() as f64 * (0.8 * 1.0 * 1.3);
    let enclosed = mesh.signed_volume();
    assert!(0.5 * volume < enclosed && enclosed < volume, "{enclosed} vs {volume}");

    // Touching the border: some edges are used by one triangle only.
    let golden = load("touch_boundary");
    let mesh = surface_nets(&golden.mask, &golden.frame);
    let mut edges = std::collections::HashMap::new();
    for t in &mesh.triangles {
        for e in 0..3 {
            let (a, b) = (t[e], t[(e + 1) % 3]);
            *edges.entry((a.min(b), a.max(b))).or_insert(0) += 1;
        }
    }
    assert!(edges.values().any(|&n| n == 1));
}

/// `cargo test --release -p segauge-mesh --test mesh -- --ignored --nocapture surface_nets_timing`
#[test]
#[ignore = "timing run; use --release"]
#[allow(clippy::print_stdout, reason = "the timing is the output of this test")]
fn surface_nets_timing() {
    for (n, radius) in [(150usize, 60.0f64), (260, 120.0)] {
        let c = (n as f64 - 1.0) / 2.0;
        let mask = Mask::from_fn([n; 3], |i, j, k| {
            let d = [i, j, k].map(|x| x as f64 - c);
            d[0] * d[0] + d[1] * d[1] + d[2] * d[2] <= radius * radius
        });
        let frame = Frame::scaled([0.8, 0.8, 1.5]);
        let _ = surface_nets(&mask, &frame);
        let runs = 5;
        let start = std::time::Instant::now();
        let mut mesh = Mesh::default();
        for _ in 0..runs {
            mesh = surface_nets(&mask, &frame);
        }
        let each = start.elapsed() / runs;
        let volume = mask.count() as f64 * (0.8 * 0.8 * 1.5);
        println!(
            "surface_nets: ball r={radius} in {n}^3: {} points, {} triangles, {:.1} ms per run, \
             volume / voxel volume {:.4}",
            mesh.vertices.len(),
            mesh.triangles.len(),
            each.as_secs_f64() * 1e3,
            mesh.signed_volume() / volume
        );
    }
}

/// segauge's default surface: f64, four triangles per quad, volume kept.
fn kept_options() -> SurfaceNetsOptions {
    let mut o = SurfaceNetsOptions::default();
    o.split = segauge_mesh::QuadSplit::Centre;
    o.precision = segauge_mesh::Precision::F64;
    o.keep_volume = true;
    o
}

/// VTK's smoothing on the same f64 centre-split surface, volume not kept.
fn free_options() -> SurfaceNetsOptions {
    let mut o = kept_options();
    o.keep_volume = false;
    o
}

/// The ball of radius `r` (voxels) about `c` by the centre rule, in a box with at least two background voxels around.
fn ball(r: f64, c: [f64; 3]) -> Mask {
    let n = (2.0 * r).ceil() as usize + 6;
    Mask::from_fn([n; 3], |i, j, k| {
        let d = [i, j, k].map(|x| x as f64);
        (d[0] - c[0]).powi(2) + (d[1] - c[1]).powi(2) + (d[2] - c[2]).powi(2) <= r * r
    })
}

/// Area-weighted mean distance of the mesh from `c` (each triangle at its centroid).
fn mean_radius(mesh: &Mesh, c: [f64; 3]) -> f64 {
    let (mut sum, mut area) = (0.0, 0.0);
    for (p, a) in mesh.centroids().iter().zip(mesh.areas()) {
        sum += a * ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2) + (p[2] - c[2]).powi(2)).sqrt();
        area += a;
    }
    sum / area
}

/// One voxel: VTK's 16 iterations contract its eight points by 2/3 each (to 0.15 % of the width, so its area and
/// any distance sample on it vanish); with the volume kept it stays a unit cube (eight points, each step undone).
#[test]
fn a_single_voxel_keeps_its_volume() {
    let mask = Mask::from_fn([3, 3, 3], |i, j, k| (i, j, k) == (1, 1, 1));
    let frame = Frame::scaled([1.0; 3]);
    let width = |m: &Mesh| {
        let xs: Vec<f64> = m.vertices.iter().map(|p| p[0]).collect();
        xs.iter().copied().fold(f64::MIN, f64::max) - xs.iter().copied().fold(f64::MAX, f64::min)
    };
    let free = surface_nets_with(&mask, &frame, &free_options());
    assert!((width(&free) - (2.0f64 / 3.0).powi(16)).abs() < 1e-12, "{}", width(&free));
    let kept = surface_nets_with(&mask, &frame, &kept_options());
    assert!((kept.signed_volume() - 1.0).abs() < 1e-12, "{}", kept.signed_volume());
    assert!((width(&kept) - 1.0).abs() < 1e-9, "{}", width(&kept));
    // At 0.8 × 0.8 × 5 mm the voxel is one slice thick and narrower than the slice (a disc of its 0.64 mm² cross
    // section is d = 2·sqrt(0.64/π) = 0.903 mm wide): it is taken to be as thick as it is wide, 0.64·d mm³, not
    // the 3.2 mm³ of a 5 mm slice.
    let kept = surface_nets_with(&mask, &Frame::scaled([0.8, 0.8, 5.0]), &kept_options());
    let d = 2.0 * (0.64 / std::f64::consts::PI).sqrt();
    assert!((kept.signed_volume() - 0.64 * d).abs() < 1e-9, "{}", kept.signed_volume());
}

/// The one-slice rule applies only to components one slice thick and narrower than the slice: a plate of 6 × 6
/// voxels in one 5 mm slice (a disc of its 23 mm² is 5.4 mm wide) and the same voxel two slices thick keep their
/// voxel volumes.
#[test]
fn one_slice_rule_spares_plates_and_thicker_pieces() {
    let frame = Frame::scaled([0.8, 0.8, 5.0]);
    let plate = Mask::from_fn([8, 8, 3], |i, j, k| (1..7).contains(&i) && (1..7).contains(&j) && k == 1);
    let kept = surface_nets_with(&plate, &frame, &kept_options());
    assert!((kept.signed_volume() - 36.0 * 3.2).abs() < 1e-9, "{}", kept.signed_volume());
    let column = Mask::from_fn([3, 3, 4], |i, j, k| (i, j) == (1, 1) && (1..3).contains(&k));
    let kept = surface_nets_with(&column, &frame, &kept_options());
    assert!((kept.signed_volume() - 2.0 * 3.2).abs() < 1e-9, "{}", kept.signed_volume());
}

/// Balls of radius 1.5 to 3 voxels: with the volume kept, the surface encloses the mask's voxel volume exactly and
/// lies at the analytic radius (area-weighted mean distance from the centre within 0.1 voxel of r), where VTK's
/// smoothing leaves it 0.3 to 0.8 voxel inside.
#[test]
fn small_balls_keep_their_radius() {
    let frame = Frame::scaled([1.0; 3]);
    for r in [1.5, 2.0, 2.5, 3.0] {
        let c = [r + 2.23, r + 2.37, r + 2.11];
        let mask = ball(r, c);
        let kept = surface_nets_with(&mask, &frame, &kept_options());
        let free = surface_nets_with(&mask, &frame, &free_options());
        let voxels = mask.count() as f64;
        assert!((kept.signed_volume() - voxels).abs() < 1e-9 * voxels, "r {r}: {}", kept.signed_volume());
        let (rk, rf) = (mean_radius(&kept, c), mean_radius(&free, c));
        assert!((rk - r).abs() < 0.1, "r {r}: kept mean radius {rk}");
        assert!(r - rf > 0.3, "r {r}: VTK's mean radius {rf}");
    }
}

/// A ball of radius 12 voxels: VTK's smoothing leaves its surface 0.23 voxel inside the analytic radius, with the
/// volume kept it is within 0.005 voxel of it. A mask touching its box (an open surface) is left as smoothed.
#[test]
fn a_large_ball_sits_at_its_radius_and_open_surfaces_are_left_alone() {
    let frame = Frame::scaled([1.0; 3]);
    let c = [14.23, 14.37, 14.11];
    let mask = ball(12.0, c);
    let (kept, free) = (
        surface_nets_with(&mask, &frame, &kept_options()),
        surface_nets_with(&mask, &frame, &free_options()),
    );
    let (rk, rf) = (mean_radius(&kept, c), mean_radius(&free, c));
    assert!((rk - 12.0).abs() < 0.005, "kept mean radius {rk}");
    assert!(12.0 - rf > 0.2, "VTK's mean radius {rf}");
    let open = Mask::from_fn([6, 5, 4], |i, j, _| i < 3 && j < 2);
    assert_eq!(
        surface_nets_with(&open, &frame, &kept_options()),
        surface_nets_with(&open, &frame, &free_options())
    );
}
