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
