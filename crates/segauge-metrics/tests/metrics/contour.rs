//! 2D images measured on their contours (docs/METHODS.md A.9) against analytic curves: circles and ellipses of
//! `segauge_tests::shapes2d` at 1×1, 0.5×1.5 and 0.3×0.9 mm pixels, truth from dense sampling of the curves.

use segauge_io::{Grid, LabelVolume, Labels};
use segauge_metrics::{Surface, SurfaceMetrics, SurfaceOptions, surface_metrics};
use segauge_tests::shapes2d::{Case2d, suite2d, truth2d};

const SURFACES: [Surface; 5] =
    [Surface::VoxelFaces, Surface::Smooth, Surface::SmoothVtk, Surface::MarchingCubes, Surface::Grid];

/// The metrics of a case with the image's unit axis at `unit` (2 for `[nx, ny, 1]`).
fn measure(case: &Case2d, surface: Surface, unit: usize) -> SurfaceMetrics {
    let (gt, pred) = case.masks();
    let mut dims = [case.dims[0], case.dims[1]].to_vec();
    let mut spacing = case.spacing.to_vec();
    dims.insert(unit, 1);
    spacing.insert(unit, 7.0); // the spacing across a 2D image does not matter
    let grid = Grid::new([dims[0], dims[1], dims[2]], [spacing[0], spacing[1], spacing[2]]).unwrap();
    let vol = |m: Vec<u8>| LabelVolume::new(grid.clone(), Labels::U8(m)).unwrap();
    let options = SurfaceOptions { surface, ..SurfaceOptions::default() };
    surface_metrics(&vol(pred), &vol(gt), &[1], &options).unwrap()[&1].clone()
}

#[test]
fn contour_metrics_are_within_a_pixel_of_the_analytic_curves() {
    // Every contour lies within half a pixel diagonal h of its curve (a pixel-edge, SurfaceNets or marching-squares
    // vertex is a pixel corner or an edge midpoint of a pixel that the curve crosses or touches; a boundary pixel
    // centre is within h of the curve). A sample then moves by at most h and its target by at most h, so each
    // distance is off by at most 2h = one pixel diagonal; the metrics are weighted order statistics and means of
    // such distances (the weights change too, so this is a bound we check rather than a theorem).
    let mut checked = 0;
    for case in suite2d() {
        let t = truth2d(&case.gt, &case.pred, 2.0, 20_000);
        let diag = case.spacing[0].hypot(case.spacing[1]);
        for surface in SURFACES {
            let m = measure(&case, surface, 2);
            for (got, want, key) in [
                (m.hd, t.hd, "HD"),
                (m.hd_percentile, t.hd95, "HD95"),
                (m.assd, t.assd, "ASSD"),
                (m.masd, t.masd, "MASD"),
            ] {
                assert!(
                    (got - want).abs() <= diag,
                    "{} {} {key}: {got} vs {want}",
                    case.name,
                    surface.as_str()
                );
                checked += 1;
            }
            // ASSD and MASD average the errors out: within a third of a pixel diagonal.
            assert!((m.assd - t.assd).abs() <= diag / 3.0, "{} {} ASSD", case.name, surface.as_str());
        }
    }
    assert_eq!(checked, 12 * 5 * 4);
}

#[test]
fn concentric_circles_at_every_spacing() {
    // Radii 10 and 11.5 mm: every directed distance is 1.5 mm. The mean distances average the contours' offsets
    // from their curves, which mostly cancel between the two circles: within a sixth of a pixel diagonal (marching
    // squares' chords cut inside the curve, 0.16 mm at 0.5 × 1.5 mm).
    for case in suite2d().into_iter().filter(|c| c.family == "concentric-circles") {
        let diag = case.spacing[0].hypot(case.spacing[1]);
        for surface in [Surface::Smooth, Surface::MarchingCubes] {
            let m = measure(&case, surface, 2);
            for v in [m.assd, m.masd] {
                assert!((v - 1.5).abs() <= diag / 6.0, "{} {}: {v}", case.name, surface.as_str());
            }
        }
    }
}

#[test]
fn the_plane_may_be_any_two_axes() {
    let case = suite2d().into_iter().find(|c| c.name == "circle-vs-ellipse@0.5x1.5").unwrap();
    for surface in SURFACES {
        let z = measure(&case, surface, 2);
        assert_eq!(z, measure(&case, surface, 1), "{}", surface.as_str());
        assert_eq!(z, measure(&case, surface, 0), "{}", surface.as_str());
    }
}

#[test]
fn boundary_bands_stay_in_the_plane() {
    // A one-slice image: BIoU's band is the ring of pixels within τ of the contour, not every pixel (the slab's top
    // and bottom faces would put every pixel within half a slice of the surface, 0.1 mm here). Two squares of
    // 9 × 9 px at 1 mm, shifted by 2 px, τ = 1.5.
    let dims = [15, 11, 1];
    let square = |x0: usize| -> Vec<u8> {
        (0..dims[0] * dims[1])
            .map(|n| u8::from((x0..x0 + 9).contains(&(n % 15)) && (1..10).contains(&(n / 15))))
            .collect()
    };
    let grid = Grid::new(dims, [1.0, 1.0, 0.2]).unwrap();
    let vol = |m: Vec<u8>| LabelVolume::new(grid.clone(), Labels::U8(m)).unwrap();
    let options = SurfaceOptions { surface: Surface::VoxelFaces, tau: 1.5, ..SurfaceOptions::default() };
    let m = &surface_metrics(&vol(square(3)), &vol(square(1)), &[1], &options).unwrap()[&1];
    // Each band is the outer ring of one pixel (centres 0.5 mm from the edge; the next ring's 1.5 mm is not < 1.5).
    // gt ring x ∈ {1, 9} or y ∈ {1, 9} with x ∈ 1..=9; pred ring x ∈ {3, 11} or y ∈ {1, 9} with x ∈ 3..=11.
    let ring = |x0: usize, x: usize, y: usize| {
        (x0..x0 + 9).contains(&x) && (x == x0 || x == x0 + 8 || y == 1 || y == 9)
    };
    let (mut inter, mut union) = (0, 0);
    for y in 1..10 {
        for x in 0..15 {
            let (a, b) = (ring(1, x, y), ring(3, x, y));
            inter += usize::from(a && b);
            union += usize::from(a || b);
        }
    }
    assert_eq!(m.biou, inter as f64 / union as f64);
    assert!(m.biou > 0.0 && m.biou < 0.5);
}
