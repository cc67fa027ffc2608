//! 2D SurfaceNets against VTK's `vtkSurfaceNets2D`: every golden case of `tests/data/surfacenets2d_golden/` (made by
//! its `make_golden.py` with the VTK wheel) must match bit for bit: the smoothed float32 points, the unsmoothed
//! points, and the lines, ids and order.

use segauge_mesh::{ContourSmoothing, Mask, PlaneFrame, contour_nets};
use serde_json::Value;

fn cases() -> Vec<std::path::PathBuf> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/surfacenets2d_golden");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .expect("golden folder")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    out.sort();
    assert!(out.len() >= 4, "{out:?}");
    out
}

fn pair(v: &Value) -> [f64; 2] {
    let a = v.as_array().expect("pair");
    [a[0].as_f64().expect("number"), a[1].as_f64().expect("number")]
}

#[test]
fn contour_nets_match_vtk_bit_for_bit() {
    for path in cases() {
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        let [nx, ny] = pair(&json["mask_shape"]).map(|d| d as usize);
        let mut voxels = vec![false; nx * ny];
        for one in json["mask_ones"].as_array().expect("ones") {
            let [i, j] = pair(one).map(|x| x as usize);
            voxels[i + nx * j] = true;
        }
        let mask = Mask::new([nx, ny, 1], voxels).expect("mask");
        let frame = PlaneFrame { spacing: pair(&json["spacing"]), origin: pair(&json["origin"]) };
        let lines: Vec<[u32; 2]> =
            json["lines"].as_array().expect("lines").iter().map(|l| pair(l).map(|x| x as u32)).collect();
        // Nine significant digits identify a float32, so `as f32` recovers VTK's value exactly.
        let points = |key: &str| -> Vec<[f32; 2]> {
            json[key].as_array().expect("points").iter().map(|p| pair(p).map(|x| x as f32)).collect()
        };
        let vtk = contour_nets(&mask, &frame, ContourSmoothing::Vtk).expect("planar");
        assert_eq!(vtk.segments, lines, "{path:?}");
        let ours: Vec<[f32; 2]> = vtk.vertices.iter().map(|p| p.map(|x| x as f32)).collect();
        assert!(vtk.vertices.iter().flatten().all(|&x| f64::from(x as f32) == x));
        assert_eq!(ours, points("points_smoothed"), "{path:?}");
        let raw = contour_nets(&mask, &frame, ContourSmoothing::Off).expect("planar");
        assert_eq!(raw.segments, lines);
        let raw32: Vec<[f32; 2]> = raw.vertices.iter().map(|p| p.map(|x| x as f32)).collect();
        assert_eq!(raw32, points("points_unsmoothed"), "{path:?}");
    }
}
