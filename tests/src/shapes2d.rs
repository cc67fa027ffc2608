//! 2D analytic shapes for the contour metrics: ellipses (circles included) on anisotropic pixel grids, their masks,
//! and the continuous metrics from dense sampling of the curves (the 2D counterpart of [`crate::shapes`]).
//!
//! Truth: each curve is sampled at `n` points equally spaced in its parameter, weighted by the arc length each
//! represents; a sample's distance to the other curve is the distance to a dense polyline of that curve refined by a
//! local Newton step on the exact parametrisation. Concentric circles have every directed distance equal to
//! `|r₂ − r₁|` exactly, which the tests use as a check of the sampling itself.

/// An ellipse `centre + R(θ)·(a cos t, b sin t)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ellipse {
    /// Centre (mm).
    pub centre: [f64; 2],
    /// Semi-axes (mm).
    pub axes: [f64; 2],
    /// Rotation of the first semi-axis from x, radians.
    pub angle: f64,
}

impl Ellipse {
    /// A circle.
    pub fn circle(centre: [f64; 2], r: f64) -> Ellipse {
        Ellipse { centre, axes: [r, r], angle: 0.0 }
    }

    /// The point at parameter `t`.
    pub fn point(&self, t: f64) -> [f64; 2] {
        let (s, c) = self.angle.sin_cos();
        let (x, y) = (self.axes[0] * t.cos(), self.axes[1] * t.sin());
        [self.centre[0] + c * x - s * y, self.centre[1] + s * x + c * y]
    }

    /// The derivative of [`Ellipse::point`] at `t`.
    fn tangent(&self, t: f64) -> [f64; 2] {
        let (s, c) = self.angle.sin_cos();
        let (x, y) = (-self.axes[0] * t.sin(), self.axes[1] * t.cos());
        [c * x - s * y, s * x + c * y]
    }

    /// Whether `p` is inside (or on) the ellipse.
    pub fn contains(&self, p: [f64; 2]) -> bool {
        let (s, c) = self.angle.sin_cos();
        let (dx, dy) = (p[0] - self.centre[0], p[1] - self.centre[1]);
        let (u, v) = (c * dx + s * dy, -s * dx + c * dy);
        (u / self.axes[0]).powi(2) + (v / self.axes[1]).powi(2) <= 1.0
    }

    /// The mask of pixels whose centre `spacing ⊙ (i, j)` is inside, as a `[nx, ny, 1]` volume's voxels (i fastest).
    pub fn rasterize(&self, dims: [usize; 2], spacing: [f64; 2]) -> Vec<u8> {
        let mut out = Vec::with_capacity(dims[0] * dims[1]);
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                out.push(u8::from(self.contains([i as f64 * spacing[0], j as f64 * spacing[1]])));
            }
        }
        out
    }

    /// `n` samples equally spaced in `t`, each with the arc length it stands for (midpoint rule).
    fn samples(&self, n: usize) -> Vec<([f64; 2], f64)> {
        let dt = std::f64::consts::TAU / n as f64;
        (0..n)
            .map(|k| {
                let t = (k as f64 + 0.5) * dt;
                let d = self.tangent(t);
                (self.point(t), d[0].hypot(d[1]) * dt)
            })
            .collect()
    }

    /// Distance from `p` to the curve: the nearest of `m` parameter samples, refined by Newton steps on
    /// `(point(t) − p) · tangent(t) = 0`.
    fn distance(&self, p: [f64; 2], grid: &[[f64; 2]]) -> f64 {
        let m = grid.len();
        let d2 = |q: [f64; 2]| (q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2);
        let k = (0..m).min_by(|&a, &b| d2(grid[a]).total_cmp(&d2(grid[b]))).unwrap_or(0);
        let mut best = d2(grid[k]);
        let mut t = k as f64 / m as f64 * std::f64::consts::TAU;
        for _ in 0..8 {
            let (q, d) = (self.point(t), self.tangent(t));
            let dd = {
                let (s, c) = self.angle.sin_cos();
                let (x, y) = (-self.axes[0] * t.cos(), -self.axes[1] * t.sin());
                [c * x - s * y, s * x + c * y]
            };
            let f = (q[0] - p[0]) * d[0] + (q[1] - p[1]) * d[1];
            let df = d[0] * d[0] + d[1] * d[1] + (q[0] - p[0]) * dd[0] + (q[1] - p[1]) * dd[1];
            if df <= 0.0 {
                break;
            }
            t -= f / df;
            best = best.min(d2(self.point(t)));
        }
        best.sqrt()
    }
}

/// Continuous metrics of two curves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Truth2d {
    /// Hausdorff distance.
    pub hd: f64,
    /// Larger of the two directed 95th percentiles (length-weighted, inverted CDF).
    pub hd95: f64,
    /// Pooled mean distance.
    pub assd: f64,
    /// Mean of the two directed means.
    pub masd: f64,
    /// Share of both curves' length within `tau` of the other.
    pub nsd: f64,
}

/// The metrics of `gt` against `pred` from `n` samples per curve (`n` = 20000 gives distances to ~1e-6 mm on the
/// suite's shapes).
pub fn truth2d(gt: &Ellipse, pred: &Ellipse, tau: f64, n: usize) -> Truth2d {
    let directed = |from: &Ellipse, to: &Ellipse| -> Vec<(f64, f64)> {
        let grid: Vec<[f64; 2]> =
            (0..n).map(|k| to.point(k as f64 / n as f64 * std::f64::consts::TAU)).collect();
        from.samples(n).into_iter().map(|(p, w)| (to.distance(p, &grid), w)).collect()
    };
    let (a, b) = (directed(gt, pred), directed(pred, gt));
    let percentile = |s: &[(f64, f64)]| {
        let mut s = s.to_vec();
        s.sort_by(|x, y| x.0.total_cmp(&y.0));
        let total: f64 = s.iter().map(|x| x.1).sum();
        let mut c = 0.0;
        for &(d, w) in &s {
            c += w;
            if c / total >= 0.95 {
                return d;
            }
        }
        s.last().map_or(f64::NAN, |x| x.0)
    };
    let sum = |s: &[(f64, f64)]| s.iter().map(|x| x.0 * x.1).sum::<f64>();
    let len = |s: &[(f64, f64)]| s.iter().map(|x| x.1).sum::<f64>();
    let within = |s: &[(f64, f64)]| s.iter().filter(|x| x.0 <= tau).map(|x| x.1).sum::<f64>();
    let max = |s: &[(f64, f64)]| s.iter().map(|x| x.0).fold(0.0, f64::max);
    Truth2d {
        hd: max(&a).max(max(&b)),
        hd95: percentile(&a).max(percentile(&b)),
        assd: (sum(&a) + sum(&b)) / (len(&a) + len(&b)),
        masd: 0.5 * (sum(&a) / len(&a) + sum(&b) / len(&b)),
        nsd: (within(&a) + within(&b)) / (len(&a) + len(&b)),
    }
}

/// A 2D accuracy case: two curves on a pixel grid.
#[derive(Debug, Clone)]
pub struct Case2d {
    /// `family@spacing`.
    pub name: String,
    /// The pair's family.
    pub family: &'static str,
    /// Pixel spacing (mm).
    pub spacing: [f64; 2],
    /// Grid size.
    pub dims: [usize; 2],
    /// Ground truth.
    pub gt: Ellipse,
    /// Prediction.
    pub pred: Ellipse,
}

impl Case2d {
    /// Both masks, `(gt, pred)`.
    pub fn masks(&self) -> (Vec<u8>, Vec<u8>) {
        (self.gt.rasterize(self.dims, self.spacing), self.pred.rasterize(self.dims, self.spacing))
    }
}

/// The 2D suite: concentric circles (radii 10 and 11.5 mm: every distance 1.5), a circle against an ellipse, a
/// shifted circle, and an ellipse against a rotated copy, each at 1×1, 0.5×1.5 and 0.3×0.9 mm pixels; the shapes
/// sit off the pixel lattice (centre (16.13, 15.71) mm) so no symmetry of the grid helps.
pub fn suite2d() -> Vec<Case2d> {
    let c = [16.13, 15.71];
    let pairs: [(&str, Ellipse, Ellipse); 4] = [
        ("concentric-circles", Ellipse::circle(c, 10.0), Ellipse::circle(c, 11.5)),
        ("circle-vs-ellipse", Ellipse::circle(c, 10.0), Ellipse { centre: c, axes: [12.0, 8.0], angle: 0.0 }),
        ("shifted-circle", Ellipse::circle(c, 10.0), Ellipse::circle([c[0] + 1.5, c[1] + 0.7], 10.0)),
        (
            "rotated-ellipse",
            Ellipse { centre: c, axes: [12.0, 6.0], angle: 0.0 },
            Ellipse { centre: c, axes: [12.0, 6.0], angle: 0.35 },
        ),
    ];
    let mut out = Vec::new();
    for spacing in [[1.0f64, 1.0], [0.5, 1.5], [0.3, 0.9]] {
        for (family, gt, pred) in pairs {
            let dims = [(32.0 / spacing[0]).ceil() as usize + 1, (32.0 / spacing[1]).ceil() as usize + 1];
            out.push(Case2d {
                name: format!("{family}@{}x{}", spacing[0], spacing[1]),
                family,
                spacing,
                dims,
                gt,
                pred,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concentric_circles_are_exact() {
        let c = [1.0, 2.0];
        let t = truth2d(&Ellipse::circle(c, 10.0), &Ellipse::circle(c, 11.5), 2.0, 4000);
        for v in [t.hd, t.hd95, t.assd, t.masd] {
            assert!((v - 1.5).abs() < 1e-9, "{t:?}");
        }
        assert_eq!(t.nsd, 1.0);
    }

    #[test]
    fn shifted_circles_have_the_shift_as_hausdorff() {
        // Radius-10 circles shifted by 1.5: the largest distance is the shift (along its line).
        let t = truth2d(&Ellipse::circle([0.0, 0.0], 10.0), &Ellipse::circle([1.5, 0.0], 10.0), 2.0, 20000);
        assert!((t.hd - 1.5).abs() < 1e-6, "{t:?}");
        // Directed mean of |shift · cos|-like profile: 2/π · 1.5 to first order in shift / r.
        assert!((t.assd - 2.0 / std::f64::consts::PI * 1.5).abs() < 0.02, "{t:?}");
    }

    #[test]
    fn rasterized_area_approaches_the_ellipse_area() {
        let e = Ellipse { centre: [16.13, 15.71], axes: [12.0, 8.0], angle: 0.3 };
        let s = [0.3, 0.9];
        let m = e.rasterize([110, 40], s);
        let area = m.iter().map(|&v| f64::from(v)).sum::<f64>() * s[0] * s[1];
        assert!((area - std::f64::consts::PI * 96.0).abs() < 0.01 * std::f64::consts::PI * 96.0, "{area}");
    }
}
