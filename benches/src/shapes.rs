//! Single-organ shapes for `cargo xtask bench surface` (issue 16, item 4), each a (prediction, ground truth) pair
//! of one label at the surface case's grid (512×512×300 at 0.8×0.8×1.5 mm), files
//! `surface-<shape>-v1-{pred,gt}.nii.gz`:
//!
//! - **smooth**: one smooth organ (a single ellipsoid of about 1.2 L) against a copy moved by 2 mm, scaled by up to
//!   4 % and gently warped;
//! - **islands**: the surface case's irregular organ of about 1.5 L with five islands of 6–15 mm (accessory spleens,
//!   satellite nodules) beside it; the prediction perturbs every part, misses one island and adds another;
//! - **thin**: a thin elongated structure, a tube of 3.5 × 3 mm cross-section along a winding path of about 700 mm
//!   (a vessel or a ureter), against a warped copy whose radius varies by up to 10 %;
//! - **lesions**: 80 small lesions of 1.5–12 mm scattered in a liver-sized region; the prediction moves and
//!   scales each, misses 8 and adds 6.
//!
//! Every shape is an [`Organ`] (a union of rotated ellipsoids, possibly warped), painted by [`paint_organ`];
//! deterministic.

use segauge_tests::SplitMix;

use crate::many::tube;
use crate::{
    BenchData, DIMS, Organ, RotatedEllipsoid, SPACING, SURFACE_CENTRE, Warp, add, paint_organ,
    random_rotation, random_unit_vector, rotate, uniform,
};

/// Version of the shapes' generators, part of their file names: bump it whenever the generated data change.
pub const SHAPES_DATA_VERSION: u32 = 1;

/// The shapes, by name.
pub const SHAPES: [&str; 4] = ["smooth", "islands", "thin", "lesions"];

/// How a prediction is made from a ground truth ([`perturbed`]).
#[derive(Debug, Clone, Copy)]
struct Perturbation {
    /// Largest shift per axis, mm.
    shift: f64,
    /// One shift for the whole organ (a tube stays connected) instead of one per ellipsoid.
    shared_shift: bool,
    /// Largest turn of each ellipsoid, degrees.
    angle: f64,
    /// Largest relative change of each semi-axis.
    scale: f64,
    /// Warp amplitude per component, mm.
    warp: f64,
    /// Mean wavelength of the warp, mm (±25 %).
    wavelength: f64,
}

/// A perturbed copy of `organ` (see [`Perturbation`]), from the random stream `seed`.
fn perturbed(organ: &Organ, seed: u64, p: Perturbation) -> Organ {
    let mut rng = SplitMix(seed);
    let rng = &mut rng;
    let common = [0, 1, 2].map(|_| uniform(rng, p.shift));
    let parts = organ
        .parts
        .iter()
        .map(|e| {
            let shift = if p.shared_shift { common } else { [0, 1, 2].map(|_| uniform(rng, p.shift)) };
            let axis = random_unit_vector(rng);
            let angle = uniform(rng, p.angle).to_radians();
            RotatedEllipsoid {
                centre: add(e.centre, shift),
                radii: e.radii.map(|r| r * (1.0 + uniform(rng, p.scale))),
                axes: e.axes.map(|row| rotate(row, axis, angle)),
            }
        })
        .collect();
    let waves = [0, 1, 2].map(|_| {
        let wavelength = p.wavelength * (1.0 + uniform(rng, 0.25));
        random_unit_vector(rng).map(|c| c * std::f64::consts::TAU / wavelength)
    });
    let phases = [0, 1, 2].map(|_| rng.next_f64() * std::f64::consts::TAU);
    Organ { parts, warp: Some(Warp { amplitude: p.warp, waves, phases }) }
}

/// `(prediction, ground truth)` of shape `name` (one of [`SHAPES`]).
pub fn shape(name: &str) -> Option<(Organ, Organ)> {
    let mut rng = SplitMix(0x5_4A9E_0000 + SHAPES.iter().position(|&s| s == name)? as u64);
    let rng = &mut rng;
    let blob =
        |centre, radii, rng: &mut SplitMix| RotatedEllipsoid { centre, radii, axes: random_rotation(rng) };
    Some(match name {
        "smooth" => {
            let gt = Organ { parts: vec![blob(SURFACE_CENTRE, [85.0, 62.0, 55.0], rng)], warp: None };
            let p = Perturbation {
                shift: 2.0,
                shared_shift: true,
                angle: 3.0,
                scale: 0.04,
                warp: 1.5,
                wavelength: 80.0,
            };
            (perturbed(&gt, 0x5_4A9E_1000, p), gt)
        }
        "islands" => {
            let mut gt = crate::surface_ground_truth_organ();
            // Five islands 140–180 mm from the centre, beyond the organ's extent, around it.
            for n in 0..5 {
                let dir = random_unit_vector(rng);
                let centre = add(SURFACE_CENTRE, dir.map(|c| c * (140.0 + 10.0 * n as f64)));
                let r = 6.0 + 2.0 * n as f64;
                gt.parts.push(blob(centre, [r, r * 0.8, r * 0.7], rng));
            }
            let p = Perturbation {
                shift: 3.0,
                shared_shift: false,
                angle: 4.0,
                scale: 0.07,
                warp: 2.0,
                wavelength: 45.0,
            };
            let mut pred = perturbed(&gt, 0x5_4A9E_2000, p);
            pred.parts.remove(8); // a missed island (the second)
            let centre = add(SURFACE_CENTRE, [-60.0, 110.0, -40.0]); // a spurious one
            pred.parts.push(blob(centre, [9.0, 7.0, 6.0], rng));
            (pred, gt)
        }
        "thin" => {
            let points: Vec<[f64; 3]> = (0..=60)
                .map(|s| {
                    let t = s as f64 / 60.0 * std::f64::consts::TAU;
                    let c = SURFACE_CENTRE;
                    [c[0] + 110.0 * t.sin(), c[1] + 90.0 * (1.5 * t).cos(), 50.0 + 330.0 * s as f64 / 60.0]
                })
                .collect();
            let gt = Organ { parts: tube(&points, [3.5, 3.0], 6.0), warp: None };
            let p = Perturbation {
                shift: 1.0,
                shared_shift: true,
                angle: 1.0,
                scale: 0.10,
                warp: 1.2,
                wavelength: 60.0,
            };
            (perturbed(&gt, 0x5_4A9E_3000, p), gt)
        }
        "lesions" => {
            let lesion = |rng: &mut SplitMix| {
                // Uniform in a 90 × 70 × 60 mm ellipsoid around the centre (rejection sampling).
                let u = loop {
                    let u = [0, 1, 2].map(|_| uniform(rng, 1.0));
                    if u.iter().map(|x| x * x).sum::<f64>() <= 1.0 {
                        break u;
                    }
                };
                let centre = add(SURFACE_CENTRE, [90.0 * u[0], 70.0 * u[1], 60.0 * u[2]]);
                // Radii skewed to small: 1.5 mm to 12 mm.
                let r = 1.5 + 10.5 * rng.next_f64().powi(2);
                blob(centre, [r, r * (0.7 + 0.3 * rng.next_f64()), r * (0.6 + 0.4 * rng.next_f64())], rng)
            };
            let gt = Organ { parts: (0..80).map(|_| lesion(rng)).collect(), warp: None };
            let p = Perturbation {
                shift: 1.5,
                shared_shift: false,
                angle: 10.0,
                scale: 0.15,
                warp: 0.8,
                wavelength: 60.0,
            };
            let mut pred = perturbed(&gt, 0x5_4A9E_4000, p);
            pred.parts.truncate(72); // 8 missed
            pred.parts.extend((0..6).map(|_| lesion(rng))); // 6 false positives
            (pred, gt)
        }
        _ => return None,
    })
}

/// Makes sure both files of shape `name` exist (the two made in parallel) and returns their paths; `None` for an
/// unknown shape.
///
/// # Errors
/// Any error creating the directory or writing a file.
pub fn ensure_shape_data(name: &str) -> std::io::Result<Option<BenchData>> {
    let Some((pred, gt)) = shape(name) else { return Ok(None) };
    let paths = crate::case_paths(&format!("surface-{name}"), SHAPES_DATA_VERSION);
    let paint = |organ: &Organ| paint_organ(DIMS, SPACING.map(f64::from), organ, 1);
    let paths = crate::ensure_on(paths, DIMS, SPACING, &|| paint(&pred), &|| paint(&gt))?;
    Ok(Some(paths))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shape lies inside the field of view with room for the prediction's changes, and the predictions of
    /// islands and lesions miss and add parts as documented.
    #[test]
    fn shapes_fit_the_grid() {
        let fov = [0, 1, 2].map(|a| DIMS[a] as f64 * f64::from(SPACING[a]));
        for name in SHAPES {
            let (pred, gt) = shape(name).unwrap();
            for e in pred.parts.iter().chain(&gt.parts) {
                let reach = |a: usize| e.half_extent(a, 1.0) + 6.0;
                assert!(
                    (0..3).all(|a| e.centre[a] > reach(a) && e.centre[a] + reach(a) < fov[a]),
                    "{name} {e:?}"
                );
            }
        }
        assert_eq!(shape("islands").unwrap().0.parts.len(), 12);
        assert_eq!(shape("lesions").unwrap().0.parts.len(), 78);
        assert!(shape("nope").is_none());
    }
}
