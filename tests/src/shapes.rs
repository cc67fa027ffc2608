//! Continuous analytic shapes for surface-distance accuracy work: exact point-to-surface distances, area-weighted
//! surface samples, voxelization by the centre rule, the continuous truth of the surface metrics (HD, HD95, ASSD,
//! MASD, NSD), and the shape pairs of the accuracy benchmark.
//!
//! # Frame and conventions
//!
//! All lengths are millimetres. World coordinates are *scaled index space*: the centre of voxel `(i, j, k)` sits at
//! `(i·sx, j·sy, k·sz)`, with `i` the fastest-varying array axis (NIfTI data order). A shape's `rotation` maps its
//! local axes to world axes: `world = centre + rotation · local`, so the columns of `rotation` are the local axes
//! written in world coordinates ([`IDENTITY`] for axis-aligned shapes).
//!
//! A mask is made by the centre rule: a voxel is 1 iff its centre is inside or on the shape ([`Shape::voxelize`]).
//! Shapes of the suite sit at the sub-voxel offset [`SUBVOXEL_OFFSET`] from a voxel centre so that no voxel centre
//! lies on a symmetry plane. [`place_on_grid`] reproduces the grids of the validation set in `tests/data/surface`
//! exactly (see `tests/data/surface/PROVENANCE.md`).
//!
//! # Truth
//!
//! [`truth`] evaluates the metric definitions on the continuous surfaces by dense, stratified, area-weighted
//! sampling of each surface and the exact distance of every sample to the other surface. For surfaces A (gt) and
//! B (pred), `d(x)` = distance from `x` to the other surface:
//!
//! * directed percentile `P_q`: the smallest sampled distance whose cumulative area fraction reaches `q/100`
//!   (samples sorted by distance, no interpolation);
//! * `hd` = max of the two directed maxima (the sampled maximum refined by a local search on the surface);
//! * `hd95` = max of the two directed percentiles; `assd` = `(∫_A d + ∫_B d) / (|A| + |B|)`;
//!   `masd` = mean of the two directed means; `nsd@tau` = area with `d <= tau` over `|A| + |B|`.

use std::f64::consts::PI;

use crate::SplitMix;

/// A point or vector in world millimetres.
pub type Vec3 = [f64; 3];

/// A 3×3 matrix, row-major: `m[row][col]`.
pub type Mat3 = [[f64; 3]; 3];

/// The identity rotation (axis-aligned shapes).
pub const IDENTITY: Mat3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

/// Offset, in voxels, of every suite shape's (gt) centre from a voxel centre, per array axis.
pub const SUBVOXEL_OFFSET: Vec3 = [0.23, 0.37, 0.11];

/// The spacings of the accuracy suite with their name tags, in the order of the validation set's `index.json`.
pub const SUITE_SPACINGS: [(&str, Vec3); 4] = [
    ("iso1.0", [1.0, 1.0, 1.0]),
    ("iso0.5", [0.5, 0.5, 0.5]),
    ("aniso0.8x0.8x5.0", [0.8, 0.8, 5.0]),
    ("aniso0.7x0.7x3.0", [0.7, 0.7, 3.0]),
];

/// Rotation by `degrees` about the world x axis (right-handed).
pub fn rot_x(degrees: f64) -> Mat3 {
    let (s, c) = degrees.to_radians().sin_cos();
    [[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]]
}

/// Rotation by `degrees` about the world y axis (right-handed).
pub fn rot_y(degrees: f64) -> Mat3 {
    let (s, c) = degrees.to_radians().sin_cos();
    [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]
}

/// Rotation by `degrees` about the world z axis (right-handed).
pub fn rot_z(degrees: f64) -> Mat3 {
    let (s, c) = degrees.to_radians().sin_cos();
    [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
}

/// Matrix product `a · b` (apply `b` first).
pub fn mat_mul(a: &Mat3, b: &Mat3) -> Mat3 {
    let mut m = [[0.0; 3]; 3];
    for r in 0..3 {
        for c in 0..3 {
            m[r][c] = a[r][0] * b[0][c] + a[r][1] * b[1][c] + a[r][2] * b[2][c];
        }
    }
    m
}

fn mul(m: &Mat3, v: Vec3) -> Vec3 {
    [
        m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2],
        m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2],
        m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2],
    ]
}

fn mul_t(m: &Mat3, v: Vec3) -> Vec3 {
    [
        m[0][0] * v[0] + m[1][0] * v[1] + m[2][0] * v[2],
        m[0][1] * v[0] + m[1][1] * v[1] + m[2][1] * v[2],
        m[0][2] * v[0] + m[1][2] * v[1] + m[2][2] * v[2],
    ]
}

fn add(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn norm(v: Vec3) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

/// A continuous shape in world millimetres (see the module docs for the frame).
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Ball of radius `radius` about `centre`.
    Sphere {
        /// Centre, mm.
        centre: Vec3,
        /// Radius, mm.
        radius: f64,
    },
    /// Solid ellipsoid `Σ (local_a / semi_axes[a])² <= 1`.
    Ellipsoid {
        /// Centre, mm.
        centre: Vec3,
        /// Semi-axes along the local axes, mm (all > 0).
        semi_axes: Vec3,
        /// Local axes in world coordinates (columns).
        rotation: Mat3,
    },
    /// Solid box `|local_a| <= half_extents[a]`; a thin plate is a box with one small half-extent.
    Box {
        /// Centre, mm.
        centre: Vec3,
        /// Half the side lengths along the local axes, mm (all > 0).
        half_extents: Vec3,
        /// Local axes in world coordinates (columns).
        rotation: Mat3,
    },
    /// Solid ring torus: points within `minor_radius` of the circle of radius `major_radius` in the local x-y plane
    /// (the symmetry axis is the local z axis). Requires `major_radius > minor_radius > 0`.
    Torus {
        /// Centre, mm.
        centre: Vec3,
        /// Radius of the tube's centre circle, mm.
        major_radius: f64,
        /// Radius of the tube, mm.
        minor_radius: f64,
        /// Local axes in world coordinates (columns); the torus axis is the third column.
        rotation: Mat3,
    },
}

impl Shape {
    /// The shape's centre, mm.
    pub fn centre(&self) -> Vec3 {
        match *self {
            Shape::Sphere { centre, .. }
            | Shape::Ellipsoid { centre, .. }
            | Shape::Box { centre, .. }
            | Shape::Torus { centre, .. } => centre,
        }
    }

    /// The same shape moved by `shift` (mm).
    pub fn translated(&self, shift: Vec3) -> Shape {
        let mut s = self.clone();
        match &mut s {
            Shape::Sphere { centre, .. }
            | Shape::Ellipsoid { centre, .. }
            | Shape::Box { centre, .. }
            | Shape::Torus { centre, .. } => *centre = add(*centre, shift),
        }
        s
    }

    /// `p` in the shape's local frame (origin at the centre, local axes).
    fn local(&self, p: Vec3) -> Vec3 {
        match self {
            Shape::Sphere { centre, .. } => sub(p, *centre),
            Shape::Ellipsoid { centre, rotation, .. }
            | Shape::Box { centre, rotation, .. }
            | Shape::Torus { centre, rotation, .. } => mul_t(rotation, sub(p, *centre)),
        }
    }

    /// A local point back in world coordinates.
    fn world(&self, q: Vec3) -> Vec3 {
        match self {
            Shape::Sphere { centre, .. } => add(*centre, q),
            Shape::Ellipsoid { centre, rotation, .. }
            | Shape::Box { centre, rotation, .. }
            | Shape::Torus { centre, rotation, .. } => add(*centre, mul(rotation, q)),
        }
    }

    /// True when `p` is inside the shape or on its surface.
    ///
    /// Spheres and ellipsoids test `Σ (local_a / semi_axis_a)² <= 1`, which reproduces the validation masks bit for bit.
    pub fn contains(&self, p: Vec3) -> bool {
        let q = self.local(p);
        match *self {
            Shape::Sphere { radius, .. } => {
                (q[0] / radius).powi(2) + (q[1] / radius).powi(2) + (q[2] / radius).powi(2) <= 1.0
            }
            Shape::Ellipsoid { semi_axes: e, .. } => {
                (q[0] / e[0]).powi(2) + (q[1] / e[1]).powi(2) + (q[2] / e[2]).powi(2) <= 1.0
            }
            Shape::Box { half_extents: h, .. } => (0..3).all(|a| q[a].abs() <= h[a]),
            Shape::Torus { major_radius, minor_radius, .. } => {
                let rho = q[0].hypot(q[1]);
                (rho - major_radius).powi(2) + q[2] * q[2] <= minor_radius * minor_radius
            }
        }
    }

    /// Exact unsigned distance from `p` (anywhere) to the shape's surface, mm.
    ///
    /// Sphere and torus in closed form; box exactly (inside: distance to the nearest face; outside: distance to the
    /// box); ellipsoid by a bracketed root search on the Lagrange parameter of the closest-point problem (see
    /// [`Shape::closest_point`]), converged to the last bits of `f64`.
    pub fn distance_to_surface(&self, p: Vec3) -> f64 {
        let q = self.local(p);
        match *self {
            Shape::Sphere { radius, .. } => (norm(q) - radius).abs(),
            Shape::Ellipsoid { semi_axes, .. } => ellipsoid_foot(semi_axes, q).1,
            Shape::Box { half_extents: h, .. } => {
                let out = [q[0].abs() - h[0], q[1].abs() - h[1], q[2].abs() - h[2]];
                if out.iter().all(|&v| v <= 0.0) {
                    -out[0].max(out[1]).max(out[2])
                } else {
                    norm(out.map(|v| v.max(0.0)))
                }
            }
            Shape::Torus { major_radius, minor_radius, .. } => {
                let rho = q[0].hypot(q[1]);
                ((rho - major_radius).hypot(q[2]) - minor_radius).abs()
            }
        }
    }

    /// A point of the surface nearest to `p` (one of them where several tie, e.g. at a sphere's centre).
    ///
    /// For the ellipsoid (local frame, semi-axes `e`, point `y`, by symmetry in the first octant): the nearest point
    /// is `x_a = e_a² y_a / (t + e_a²)` where `t > -min(e)²` is the root of `F(t) = Σ (e_a y_a / (t + e_a²))² - 1`,
    /// which is strictly decreasing there. The root is bracketed and found by Newton steps safeguarded by bisection,
    /// in the variable `t + min(e)²` so that it keeps full precision near the degenerate case. When `y` has no
    /// component along the shortest axis and `F(-min(e)²) <= 0` (points near the centre), `t = -min(e)²` and the
    /// nearest point leaves the plane `y_shortest = 0` (the case analysis of Eberly, "Distance from a point to an
    /// ellipse, an ellipsoid, or a hyperellipsoid").
    pub fn closest_point(&self, p: Vec3) -> Vec3 {
        let q = self.local(p);
        let foot = match *self {
            Shape::Sphere { radius, .. } => {
                let n = norm(q);
                if n > 0.0 { q.map(|v| v * radius / n) } else { [radius, 0.0, 0.0] }
            }
            Shape::Ellipsoid { semi_axes, .. } => ellipsoid_foot(semi_axes, q).0,
            Shape::Box { half_extents: h, .. } => {
                let inside = (0..3).all(|a| q[a].abs() <= h[a]);
                if inside {
                    let gap = [h[0] - q[0].abs(), h[1] - q[1].abs(), h[2] - q[2].abs()];
                    let a = (0..3).min_by(|&a, &b| gap[a].total_cmp(&gap[b])).unwrap_or(0);
                    let mut x = q;
                    x[a] = if q[a] < 0.0 { -h[a] } else { h[a] };
                    x
                } else {
                    [q[0].clamp(-h[0], h[0]), q[1].clamp(-h[1], h[1]), q[2].clamp(-h[2], h[2])]
                }
            }
            Shape::Torus { major_radius, minor_radius, .. } => {
                let rho = q[0].hypot(q[1]);
                let (cx, cy) = if rho > 0.0 { (q[0] / rho, q[1] / rho) } else { (1.0, 0.0) };
                let c = [major_radius * cx, major_radius * cy, 0.0];
                let v = sub(q, c);
                let n = norm(v);
                let dir = if n > 0.0 { v.map(|x| x / n) } else { [cx, cy, 0.0] };
                add(c, dir.map(|x| x * minor_radius))
            }
        };
        self.world(foot)
    }

    /// Surface area, mm²: closed form for sphere, box and torus; ellipsoid by Legendre's formula with Carlson's
    /// symmetric elliptic integrals (accurate to ~1e-15 relative).
    pub fn surface_area(&self) -> f64 {
        match *self {
            Shape::Sphere { radius, .. } => 4.0 * PI * radius * radius,
            Shape::Ellipsoid { semi_axes, .. } => ellipsoid_area(semi_axes),
            Shape::Box { half_extents: h, .. } => 8.0 * (h[0] * h[1] + h[1] * h[2] + h[2] * h[0]),
            Shape::Torus { major_radius, minor_radius, .. } => 4.0 * PI * PI * major_radius * minor_radius,
        }
    }

    /// Exact axis-aligned bounding box `(min, max)`, mm.
    pub fn bounding_box(&self) -> (Vec3, Vec3) {
        let c = self.centre();
        let ext: Vec3 = match *self {
            Shape::Sphere { radius, .. } => [radius; 3],
            Shape::Ellipsoid { semi_axes: e, rotation: r, .. } => std::array::from_fn(|a| {
                ((r[a][0] * e[0]).powi(2) + (r[a][1] * e[1]).powi(2) + (r[a][2] * e[2]).powi(2)).sqrt()
            }),
            Shape::Box { half_extents: h, rotation: r, .. } => {
                std::array::from_fn(|a| r[a][0].abs() * h[0] + r[a][1].abs() * h[1] + r[a][2].abs() * h[2])
            }
            Shape::Torus { major_radius, minor_radius, rotation: r, .. } => std::array::from_fn(|a| {
                major_radius * (1.0 - r[a][2] * r[a][2]).max(0.0).sqrt() + minor_radius
            }),
        };
        (std::array::from_fn(|a| c[a] - ext[a]), std::array::from_fn(|a| c[a] + ext[a]))
    }

    /// About `n_approx` points on the surface with area weights (mm²) that sum to the surface area.
    ///
    /// Stratified and deterministic: the surface's parameter domain is cut into cells of about equal size (about
    /// `n_approx` of them), each cell contributes one point drawn area-uniformly inside it (SplitMix with a fixed
    /// seed) and weighs the cell's area. Cells: sphere and ellipsoid, bands of equal polar angle cut into about
    /// square pieces, on a fixed oblique polar axis (so that no band lines up with the shape's own axes); box, a grid
    /// on each face; torus, a grid in the two angles. Cell areas are exact for the sphere, box and torus (so the
    /// weights sum to the closed-form area up to rounding); for the ellipsoid they are 3×3-point Gauss–Legendre
    /// integrals of the area element, so the weights sum to the numerically integrated area.
    pub fn sample_surface(&self, n_approx: usize) -> Vec<(Vec3, f64)> {
        let n = n_approx.max(16) as f64;
        let mut rng = SplitMix(0x5EED_5A3F_0000_0001);
        let mut out = Vec::with_capacity(n_approx + n_approx / 8 + 64);
        let tilt = tilt();
        match *self {
            Shape::Sphere { radius, .. } => {
                for_sphere_cells(n, |th0, th1, ph0, ph1| {
                    let s = sphere_cell_point(&tilt, th0, th1, ph0, ph1, &mut rng);
                    let w = radius * radius * (th0.cos() - th1.cos()) * (ph1 - ph0);
                    out.push((self.world(s.map(|v| v * radius)), w));
                });
            }
            Shape::Ellipsoid { semi_axes: e, .. } => {
                let jac = |s: Vec3| e[0] * e[1] * e[2] * norm([s[0] / e[0], s[1] / e[1], s[2] / e[2]]);
                let jac_max = e[0] * e[1] * e[2] / e[0].min(e[1]).min(e[2]);
                for_sphere_cells(n, |th0, th1, ph0, ph1| {
                    // Area-uniform on the ellipsoid within the cell: sphere-uniform proposal, accepted with
                    // probability proportional to the area element.
                    let s = loop {
                        let s = sphere_cell_point(&tilt, th0, th1, ph0, ph1, &mut rng);
                        if rng.next_f64() * jac_max <= jac(s) {
                            break s;
                        }
                    };
                    let w =
                        gauss3_cell(th0, th1, ph0, ph1, |th, ph| jac(tilted_unit(&tilt, th, ph)) * th.sin());
                    out.push((self.world([e[0] * s[0], e[1] * s[1], e[2] * s[2]]), w));
                });
            }
            Shape::Box { half_extents: h, .. } => {
                let cell = (self.surface_area() / n).sqrt();
                for a in 0..3 {
                    let (b, c) = ((a + 1) % 3, (a + 2) % 3);
                    let nb = ((2.0 * h[b] / cell).round() as usize).max(1);
                    let nc = ((2.0 * h[c] / cell).round() as usize).max(1);
                    let (db, dc) = (2.0 * h[b] / nb as f64, 2.0 * h[c] / nc as f64);
                    let w = 4.0 * h[b] * h[c] / (nb * nc) as f64;
                    for side in [-1.0, 1.0] {
                        for ib in 0..nb {
                            for ic in 0..nc {
                                let mut q = [0.0; 3];
                                q[a] = side * h[a];
                                q[b] = -h[b] + (ib as f64 + rng.next_f64()) * db;
                                q[c] = -h[c] + (ic as f64 + rng.next_f64()) * dc;
                                out.push((self.world(q), w));
                            }
                        }
                    }
                }
            }
            Shape::Torus { major_radius: big, minor_radius: r, .. } => {
                let n_tube = ((n * r / big).sqrt().round() as usize).max(3);
                let n_ring = ((n * big / r).sqrt().round() as usize).max(3);
                let (d_tube, d_ring) = (2.0 * PI / n_tube as f64, 2.0 * PI / n_ring as f64);
                for j in 0..n_tube {
                    let (t0, t1) = (j as f64 * d_tube, (j + 1) as f64 * d_tube);
                    let w = r * d_ring * (big * d_tube + r * (t1.sin() - t0.sin()));
                    for k in 0..n_ring {
                        let phi = (k as f64 + rng.next_f64()) * d_ring;
                        // Area density in the tube angle is proportional to big + r cos(theta).
                        let theta = loop {
                            let theta = t0 + rng.next_f64() * d_tube;
                            if rng.next_f64() * (big + r) <= big + r * theta.cos() {
                                break theta;
                            }
                        };
                        let rho = big + r * theta.cos();
                        out.push((self.world([rho * phi.cos(), rho * phi.sin(), r * theta.sin()]), w));
                    }
                }
            }
        }
        out
    }

    /// The centre-rule mask on a grid of `dims` voxels at `spacing` (mm): 1 iff the voxel centre
    /// `(i·sx, j·sy, k·sz)` is inside or on the shape. Voxels in `i`-fastest order.
    pub fn voxelize(&self, dims: [usize; 3], spacing: Vec3) -> Vec<u8> {
        let mut out = Vec::with_capacity(dims[0] * dims[1] * dims[2]);
        for k in 0..dims[2] {
            for j in 0..dims[1] {
                for i in 0..dims[0] {
                    let p = [i as f64 * spacing[0], j as f64 * spacing[1], k as f64 * spacing[2]];
                    out.push(u8::from(self.contains(p)));
                }
            }
        }
        out
    }
}

/// The oblique polar axis used to parametrise spheres and ellipsoids for sampling (a fixed, generic rotation).
fn tilt() -> Mat3 {
    mat_mul(&rot_z(31.7), &mat_mul(&rot_y(57.3), &rot_x(13.9)))
}

/// Unit vector at polar angle `th`, azimuth `ph` about the polar axis `tilt · z`.
fn tilted_unit(tilt: &Mat3, th: f64, ph: f64) -> Vec3 {
    let (st, ct) = th.sin_cos();
    let (sp, cp) = ph.sin_cos();
    mul(tilt, [st * cp, st * sp, ct])
}

/// Calls `f(th0, th1, ph0, ph1)` for the cells of the unit sphere: `n_bands` bands of equal polar angle, each cut
/// into about square cells; about `n` cells in all.
fn for_sphere_cells(n: f64, mut f: impl FnMut(f64, f64, f64, f64)) {
    let n_bands = ((PI * n / 4.0).sqrt().round() as usize).max(2);
    let d_th = PI / n_bands as f64;
    for j in 0..n_bands {
        let (th0, th1) = (j as f64 * d_th, (j + 1) as f64 * d_th);
        let mid = 0.5 * (th0 + th1);
        let n_ph = ((2.0 * PI * mid.sin() / d_th).round() as usize).max(3);
        let d_ph = 2.0 * PI / n_ph as f64;
        for k in 0..n_ph {
            f(th0, th1, k as f64 * d_ph, (k + 1) as f64 * d_ph);
        }
    }
}

/// A point drawn area-uniformly on the unit sphere within a cell (uniform in `cos θ` and `φ`), tilted.
fn sphere_cell_point(tilt: &Mat3, th0: f64, th1: f64, ph0: f64, ph1: f64, rng: &mut SplitMix) -> Vec3 {
    let (u0, u1) = (th1.cos(), th0.cos());
    let u = u0 + (u1 - u0) * rng.next_f64();
    let ph = ph0 + (ph1 - ph0) * rng.next_f64();
    let st = (1.0 - u * u).max(0.0).sqrt();
    mul(tilt, [st * ph.cos(), st * ph.sin(), u])
}

/// 3×3-point Gauss–Legendre integral of `f(θ, φ)` over a cell.
fn gauss3_cell(th0: f64, th1: f64, ph0: f64, ph1: f64, f: impl Fn(f64, f64) -> f64) -> f64 {
    let x = (0.6f64).sqrt();
    let nodes = [(-x, 5.0 / 9.0), (0.0, 8.0 / 9.0), (x, 5.0 / 9.0)];
    let (ct, ht) = (0.5 * (th0 + th1), 0.5 * (th1 - th0));
    let (cp, hp) = (0.5 * (ph0 + ph1), 0.5 * (ph1 - ph0));
    let mut s = 0.0;
    for (xt, wt) in nodes {
        for (xp, wp) in nodes {
            s += wt * wp * f(ct + ht * xt, cp + hp * xp);
        }
    }
    s * ht * hp
}

/// Nearest point of the ellipsoid with semi-axes `e` to the local point `y`, and its distance.
fn ellipsoid_foot(e: Vec3, y: Vec3) -> (Vec3, f64) {
    let mut order = [0usize, 1, 2];
    order.sort_by(|&i, &j| e[j].total_cmp(&e[i])); // longest axis first
    let (x_sorted, d) = ellipsoid_foot_sorted(order.map(|i| e[i]), order.map(|i| y[i].abs()));
    let mut x = [0.0; 3];
    for (k, &i) in order.iter().enumerate() {
        x[i] = if y[i] < 0.0 { -x_sorted[k] } else { x_sorted[k] };
    }
    (x, d)
}

/// [`ellipsoid_foot`] for `e[0] >= e[1] >= e[2] > 0` and `a >= 0` (first octant).
///
/// The unknown is `tau = t + min(e)²` (> 0), not `t`: near the degenerate case the root sits within rounding of
/// `t = -min(e)²`, where `t` itself would lose all precision, while `tau` keeps full relative precision.
fn ellipsoid_foot_sorted(e: Vec3, a: Vec3) -> (Vec3, f64) {
    let m2 = e[2] * e[2];
    // t + e_i² = d_i + tau, with d_i exactly 0 on the shortest axis (and on axes tied with it).
    let d = e.map(|v| v * v - m2);
    // No mass on a shortest axis: the root may be tau = 0 (the foot leaves the plane a_2 = 0).
    let pinned = (0..3).any(|i| a[i] > 0.0 && d[i] == 0.0);
    if !pinned {
        let mut f = -1.0;
        for i in 0..3 {
            if a[i] > 0.0 {
                f += (e[i] * a[i] / d[i]).powi(2);
            }
        }
        if f <= 0.0 {
            let mut x = [0.0; 3];
            let (mut s, mut d2) = (0.0, 0.0);
            for i in 0..3 {
                if a[i] > 0.0 {
                    x[i] = e[i] * e[i] * a[i] / d[i];
                    s += (x[i] / e[i]).powi(2);
                    d2 += (a[i] - x[i]).powi(2);
                }
            }
            x[2] = e[2] * (1.0 - s).max(0.0).sqrt(); // a[2] == 0 here
            d2 += x[2] * x[2];
            return (x, d2.sqrt());
        }
    }
    let ea = [e[0] * a[0], e[1] * a[1], e[2] * a[2]];
    // S(tau) = F + 1 and its derivative.
    let s_and_slope = |tau: f64| {
        let mut s = 0.0;
        let mut slope = 0.0;
        for i in 0..3 {
            let r = ea[i] / (d[i] + tau);
            s += r * r;
            slope -= 2.0 * r * r / (d[i] + tau);
        }
        (s, slope)
    };
    // Bracket: F(lo) >= 0 (one term alone reaches 1 there), F(hi) <= 0 (every denominator >= tau = |ea|).
    let mut lo = 0.0f64;
    for i in 0..3 {
        if a[i] > 0.0 {
            lo = lo.max(ea[i] - d[i]);
        }
    }
    let mut hi = norm(ea);
    // Safeguarded Newton on H = S^(-1/2) - 1, which is nearly linear in tau when one term dominates (fast even
    // when the root is tiny); a step leaving the bracket is replaced by bisection. Starts at t = 0 (the surface).
    let mut tau = m2.clamp(lo, hi);
    for _ in 0..200 {
        let (s, slope) = s_and_slope(tau);
        if s > 1.0 {
            lo = tau;
        } else if s < 1.0 {
            hi = tau;
        } else {
            break;
        }
        let h = 1.0 / s.sqrt() - 1.0;
        let h_slope = -0.5 * slope / (s * s.sqrt());
        let mut next = tau - h / h_slope;
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        let done = (next - tau).abs() <= 2.0 * f64::EPSILON * next || next <= lo || next >= hi;
        tau = next;
        if done {
            break;
        }
    }
    let q = [a[0] / (d[0] + tau), a[1] / (d[1] + tau), a[2] / (d[2] + tau)];
    // y - x = t·y/(t + e²) with t = tau - m2: no cancellation near the surface.
    (std::array::from_fn(|i| e[i] * e[i] * q[i]), (tau - m2).abs() * norm(q))
}

/// Carlson's symmetric elliptic integral of the first kind `R_F(x, y, z)` (duplication algorithm).
fn carlson_rf(x: f64, y: f64, z: f64) -> f64 {
    let (mut x, mut y, mut z) = (x, y, z);
    for _ in 0..100 {
        let m = (x + y + z) / 3.0;
        let (dx, dy, dz) = (1.0 - x / m, 1.0 - y / m, 1.0 - z / m);
        if dx.abs().max(dy.abs()).max(dz.abs()) < 1e-4 {
            let e2 = dx * dy - dz * dz;
            let e3 = dx * dy * dz;
            return (1.0 - e2 / 10.0 + e3 / 14.0 + e2 * e2 / 24.0 - 3.0 * e2 * e3 / 44.0) / m.sqrt();
        }
        let (sx, sy, sz) = (x.sqrt(), y.sqrt(), z.sqrt());
        let lam = sx * sy + sy * sz + sz * sx;
        (x, y, z) = ((x + lam) / 4.0, (y + lam) / 4.0, (z + lam) / 4.0);
    }
    f64::NAN
}

/// Carlson's symmetric elliptic integral of the second kind `R_D(x, y, z)` (duplication algorithm).
fn carlson_rd(x: f64, y: f64, z: f64) -> f64 {
    let (mut x, mut y, mut z) = (x, y, z);
    let (mut sum, mut fac) = (0.0, 1.0);
    for _ in 0..100 {
        let m = (x + y + 3.0 * z) / 5.0;
        let (dx, dy) = (1.0 - x / m, 1.0 - y / m);
        let dz = -(dx + dy) / 3.0;
        if dx.abs().max(dy.abs()).max(dz.abs()) < 1e-4 {
            let e2 = dx * dy - 6.0 * dz * dz;
            let e3 = (3.0 * dx * dy - 8.0 * dz * dz) * dz;
            let e4 = 3.0 * (dx * dy - dz * dz) * dz * dz;
            let e5 = dx * dy * dz * dz * dz;
            let series = 1.0 - 3.0 * e2 / 14.0 + e3 / 6.0 + 9.0 * e2 * e2 / 88.0
                - 3.0 * e4 / 22.0
                - 9.0 * e2 * e3 / 52.0
                + 3.0 * e5 / 26.0;
            return 3.0 * sum + fac * series / (m * m.sqrt());
        }
        let (sx, sy, sz) = (x.sqrt(), y.sqrt(), z.sqrt());
        let lam = sx * sy + sy * sz + sz * sx;
        sum += fac / (sz * (z + lam));
        fac /= 4.0;
        (x, y, z) = ((x + lam) / 4.0, (y + lam) / 4.0, (z + lam) / 4.0);
    }
    f64::NAN
}

/// Surface area of the ellipsoid with semi-axes `e` (Legendre's formula).
fn ellipsoid_area(e: Vec3) -> f64 {
    let mut s = e;
    s.sort_by(|x, y| y.total_cmp(x));
    let [a, b, c] = s;
    if a == c {
        return 4.0 * PI * a * a;
    }
    let cos_phi = c / a;
    let sin_phi = (1.0 - cos_phi * cos_phi).sqrt();
    let k2 = a * a * (b * b - c * c) / (b * b * (a * a - c * c));
    let y = 1.0 - k2 * sin_phi * sin_phi;
    let rf = carlson_rf(cos_phi * cos_phi, y, 1.0);
    let f = sin_phi * rf;
    let e_int = f - k2 / 3.0 * sin_phi.powi(3) * carlson_rd(cos_phi * cos_phi, y, 1.0);
    2.0 * PI * c * c + 2.0 * PI * a * b / sin_phi * (e_int * sin_phi * sin_phi + f * cos_phi * cos_phi)
}

/// The metrics of one direction (from one surface to the other).
#[derive(Debug, Clone, PartialEq)]
pub struct Directed {
    /// Largest distance (sampled maximum refined by a local search on the surface), mm.
    pub max: f64,
    /// Area-weighted mean distance, mm.
    pub mean: f64,
    /// Directed percentile at [`Truth::percentile`] (smallest distance whose cumulative area fraction reaches
    /// `percentile / 100`), mm.
    pub percentile: f64,
    /// Sum of the sample weights: the surface area, mm².
    pub area: f64,
    /// Number of samples.
    pub samples: usize,
}

/// Continuous surface-distance metrics of a shape pair (see the module docs for the definitions).
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    /// The percentile used for `hd95` and the directed percentiles (95 in the suite).
    pub percentile: f64,
    /// Hausdorff distance: max of the two directed maxima, mm.
    pub hd: f64,
    /// Max of the two directed percentiles at `percentile` (the MeshMetrics / DeepMind rule), mm.
    pub hd95: f64,
    /// Percentile of the pooled distances of both directions, area-weighted (the medpy-style rule), mm.
    pub hd95_pooled: f64,
    /// Pooled area-weighted mean distance, mm.
    pub assd: f64,
    /// Mean of the two directed means, mm.
    pub masd: f64,
    /// `(tau, nsd)` per requested tau: pooled area fraction with `d <= tau`. NaN when ill-posed: more than 1e-6 of
    /// the area lies within 1e-9·max(1, tau) of tau (e.g. concentric spheres at tau = the radius difference), where
    /// the value depends on rounding.
    pub nsd: Vec<(f64, f64)>,
    /// Distances from the gt surface to the pred surface.
    pub gt_to_pred: Directed,
    /// Distances from the pred surface to the gt surface.
    pub pred_to_gt: Directed,
}

/// The continuous metrics of `gt` vs `pred` from about `n_samples` area-weighted samples per surface (see
/// [`Shape::sample_surface`]) and exact distances to the other surface.
///
/// Accuracy (measured on the validation set, see the tests): with `n_samples` = 2e5, distances within ~2e-4 mm and
/// NSD within ~1e-4 of the analytic values; with 4e6, within ~4e-5 mm and ~1e-5; the refined maxima agree to
/// ~1e-14 mm. Cost (release, one thread) at 1e6 samples per surface: ~0.1–0.3 s per pair of spheres, boxes or tori,
/// ~0.9 s per pair of ellipsoids.
pub fn truth(gt: &Shape, pred: &Shape, taus: &[f64], percentile: f64, n_samples: usize) -> Truth {
    let q = percentile / 100.0;
    let sa = gt.sample_surface(n_samples);
    let sb = pred.sample_surface(n_samples);
    let da: Vec<f64> = sa.iter().map(|&(x, _)| pred.distance_to_surface(x)).collect();
    let db: Vec<f64> = sb.iter().map(|&(x, _)| gt.distance_to_surface(x)).collect();
    let wa: Vec<f64> = sa.iter().map(|s| s.1).collect();
    let wb: Vec<f64> = sb.iter().map(|s| s.1).collect();
    let gt_to_pred = directed(gt, pred, &sa, &da, q);
    let pred_to_gt = directed(pred, gt, &sb, &db, q);
    let (sum_a, sum_b) = (dot(&wa, &da), dot(&wb, &db));
    let total = gt_to_pred.area + pred_to_gt.area;
    let pooled_d: Vec<f64> = da.iter().chain(&db).copied().collect();
    let pooled_w: Vec<f64> = wa.iter().chain(&wb).copied().collect();
    let nsd = taus
        .iter()
        .map(|&tau| {
            let near = 1e-9 * tau.max(1.0);
            let (mut within, mut tied) = (0.0, 0.0);
            for (&d, &w) in pooled_d.iter().zip(&pooled_w) {
                if d <= tau {
                    within += w;
                }
                if (d - tau).abs() <= near {
                    tied += w;
                }
            }
            (tau, if tied > 1e-6 * total { f64::NAN } else { within / total })
        })
        .collect();
    Truth {
        percentile,
        hd: gt_to_pred.max.max(pred_to_gt.max),
        hd95: gt_to_pred.percentile.max(pred_to_gt.percentile),
        hd95_pooled: weighted_percentile(&pooled_d, &pooled_w, q),
        assd: (sum_a + sum_b) / total,
        masd: 0.5 * (gt_to_pred.mean + pred_to_gt.mean),
        nsd,
        gt_to_pred,
        pred_to_gt,
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Smallest `d` whose cumulative weight fraction (samples sorted by `d`) reaches `q`.
fn weighted_percentile(d: &[f64], w: &[f64], q: f64) -> f64 {
    let mut idx: Vec<usize> = (0..d.len()).collect();
    idx.sort_unstable_by(|&i, &j| d[i].total_cmp(&d[j]));
    let total: f64 = w.iter().sum();
    let mut cum = 0.0;
    for &i in &idx {
        cum += w[i];
        if cum / total >= q {
            return d[i];
        }
    }
    idx.last().map_or(f64::NAN, |&i| d[i])
}

fn directed(src: &Shape, dst: &Shape, samples: &[(Vec3, f64)], d: &[f64], q: f64) -> Directed {
    let w: Vec<f64> = samples.iter().map(|s| s.1).collect();
    let area: f64 = w.iter().sum();
    // Refine the maximum from the best few samples: the sampled maximum misses peaks at corners and poles.
    let mut idx: Vec<usize> = (0..d.len()).collect();
    let starts = idx.len().min(8);
    if idx.len() > starts {
        idx.select_nth_unstable_by(starts, |&i, &j| d[j].total_cmp(&d[i]));
    }
    let step = 2.0 * (area / samples.len().max(1) as f64).sqrt();
    let mut max = d.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for &i in &idx[..starts] {
        max = max.max(climb(src, dst, samples[i].0, d[i], step));
    }
    Directed {
        max,
        mean: dot(&w, d) / area,
        percentile: weighted_percentile(d, &w, q),
        area,
        samples: samples.len(),
    }
}

/// Pattern search for a local maximum of `dst.distance_to_surface` over the surface of `src`, from `x` (on `src`).
/// Every trial point is projected onto `src`, so the result is a distance actually attained on `src`.
fn climb(src: &Shape, dst: &Shape, mut x: Vec3, mut best: f64, mut step: f64) -> f64 {
    let mut dirs = Vec::with_capacity(26);
    for a in -1i32..=1 {
        for b in -1i32..=1 {
            for c in -1i32..=1 {
                if (a, b, c) != (0, 0, 0) {
                    let v = [f64::from(a), f64::from(b), f64::from(c)];
                    let n = norm(v);
                    dirs.push(v.map(|t| t / n));
                }
            }
        }
    }
    let stop = 1e-10 * step.max(1.0);
    for _ in 0..20_000 {
        if step < stop {
            break;
        }
        let mut moved = false;
        for dir in &dirs {
            let y = src.closest_point(add(x, dir.map(|t| t * step)));
            let dy = dst.distance_to_surface(y);
            if dy > best {
                (x, best, moved) = (y, dy, true);
                break;
            }
        }
        if !moved {
            step *= 0.5;
        }
    }
    best
}

/// One case of the accuracy suite: a shape pair on a grid.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteCase {
    /// `<family>__<spacing tag>`, e.g. `sphere_shift3__iso0.5` (the validation set's naming).
    pub name: String,
    /// The shape pair's name, e.g. `sphere_shift3`.
    pub family: &'static str,
    /// Ground-truth shape, placed on the grid.
    pub gt: Shape,
    /// Predicted shape, placed on the grid.
    pub pred: Shape,
    /// Grid size in voxels, `(i, j, k)`.
    pub dims: [usize; 3],
    /// Voxel size in mm, per array axis.
    pub spacing: Vec3,
}

impl SuiteCase {
    /// The `(gt, pred)` masks by the centre rule, `i`-fastest.
    pub fn masks(&self) -> (Vec<u8>, Vec<u8>) {
        (self.gt.voxelize(self.dims, self.spacing), self.pred.voxelize(self.dims, self.spacing))
    }
}

/// The shape pairs of the accuracy suite, `(family, gt, pred)`, with the gt centred at the world origin (before
/// [`place_on_grid`]). The first three are the analytic cases of the validation set, with its parameters.
pub fn suite_pairs() -> Vec<(&'static str, Shape, Shape)> {
    let o = [0.0; 3];
    let ell = [18.0, 14.0, 24.0];
    let tilted_box = mat_mul(&rot_z(30.0), &rot_x(20.0));
    let tilted_torus = rot_y(35.0);
    vec![
        (
            "sphere_concentric",
            Shape::Sphere { centre: o, radius: 20.0 },
            Shape::Sphere { centre: o, radius: 22.0 },
        ),
        (
            "sphere_shift3",
            Shape::Sphere { centre: o, radius: 20.0 },
            Shape::Sphere { centre: [0.0, 0.0, 3.0], radius: 20.0 },
        ),
        (
            "ellipsoid_scaled",
            Shape::Ellipsoid { centre: o, semi_axes: ell, rotation: IDENTITY },
            Shape::Ellipsoid { centre: o, semi_axes: ell.map(|v| v * 1.1), rotation: IDENTITY },
        ),
        (
            "box_shift",
            Shape::Box { centre: o, half_extents: [16.0, 12.0, 20.0], rotation: IDENTITY },
            Shape::Box { centre: [1.3, -0.9, 2.2], half_extents: [16.0, 12.0, 20.0], rotation: IDENTITY },
        ),
        (
            "box_rotated",
            Shape::Box { centre: o, half_extents: [15.0, 10.0, 18.0], rotation: tilted_box },
            Shape::Box { centre: [0.9, -1.2, 1.7], half_extents: [16.2, 10.8, 19.0], rotation: tilted_box },
        ),
        (
            "torus_thicker",
            Shape::Torus { centre: o, major_radius: 20.0, minor_radius: 7.0, rotation: IDENTITY },
            Shape::Torus { centre: o, major_radius: 20.0, minor_radius: 8.0, rotation: IDENTITY },
        ),
        (
            "torus_shift",
            Shape::Torus { centre: o, major_radius: 20.0, minor_radius: 7.0, rotation: tilted_torus },
            Shape::Torus {
                centre: [2.0, 0.0, 1.0],
                major_radius: 20.0,
                minor_radius: 7.0,
                rotation: tilted_torus,
            },
        ),
        (
            "plate_shift",
            Shape::Box { centre: o, half_extents: [2.0, 18.0, 22.0], rotation: IDENTITY },
            Shape::Box { centre: [1.5, 0.0, 0.0], half_extents: [2.0, 18.0, 22.0], rotation: IDENTITY },
        ),
        (
            "plate_oblique",
            Shape::Box { centre: o, half_extents: [2.0, 18.0, 22.0], rotation: rot_z(25.0) },
            Shape::Box {
                centre: mul(&rot_z(25.0), [1.5, 0.0, 0.0]),
                half_extents: [2.0, 18.0, 22.0],
                rotation: rot_z(25.0),
            },
        ),
    ]
}

/// Places a shape pair on a grid at `spacing`: returns the pair translated so that the gt centre sits at
/// [`SUBVOXEL_OFFSET`] from a voxel centre, and the grid size.
///
/// The rule (the validation set's): per axis, with `pad = max(4 voxels, 3 mm)` and the union bounding box
/// `[lo, hi]` of both shapes, the gt centre `c` lands at index `floor((c - lo + pad) / s) + offset` and the grid has
/// `ceil((hi - lo + 2·pad) / s) + 1` voxels. The floor is of the exact quotient of the two `f64` values (as
/// Python's `//`), which is what reproduces the validation grids bit for bit.
pub fn place_on_grid(gt: &Shape, pred: &Shape, spacing: Vec3) -> (Shape, Shape, [usize; 3]) {
    let (lo_g, hi_g) = gt.bounding_box();
    let (lo_p, hi_p) = pred.bounding_box();
    let c = gt.centre();
    let mut dims = [0; 3];
    let mut shift = [0.0; 3];
    for a in 0..3 {
        let s = spacing[a];
        let (lo, hi) = (lo_g[a].min(lo_p[a]), hi_g[a].max(hi_p[a]));
        let pad = (4.0 * s).max(3.0);
        let below = exact_floor_div(c[a] - lo + pad, s);
        dims[a] = ((hi - lo + 2.0 * pad) / s).ceil() as usize + 1;
        shift[a] = (below + SUBVOXEL_OFFSET[a]) * s - c[a];
    }
    (gt.translated(shift), pred.translated(shift), dims)
}

/// `floor(a / b)` of the exact quotient of two positive doubles (the rounded quotient can land on an integer the
/// exact one falls short of, e.g. 23.2 / 0.8).
fn exact_floor_div(a: f64, b: f64) -> f64 {
    let r = a % b; // exact
    ((a - r) / b).round()
}

/// The accuracy benchmark's cases: every pair of [`suite_pairs`] at every spacing of [`SUITE_SPACINGS`], placed by
/// [`place_on_grid`]. The `sphere_*` and `ellipsoid_*` cases reproduce the validation set's masks exactly.
pub fn accuracy_suite() -> Vec<SuiteCase> {
    let mut out = Vec::new();
    for (family, gt, pred) in suite_pairs() {
        for (tag, spacing) in SUITE_SPACINGS {
            let (gt, pred, dims) = place_on_grid(&gt, &pred, spacing);
            out.push(SuiteCase { name: format!("{family}__{tag}"), family, gt, pred, dims, spacing });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::path::{Path, PathBuf};

    use serde_json::Value;

    use super::*;

    fn data_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/surface")
    }

    fn read_json(path: &Path) -> Value {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap()
    }

    /// The analytic cases of the validation set: `(name, expected.json)`.
    fn analytic_cases() -> Vec<(String, Value)> {
        let index = read_json(&data_dir().join("index.json"));
        let cases: Vec<(String, Value)> = index
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_owned())
            .map(|n| {
                let v = read_json(&data_dir().join(&n).join("expected.json"));
                (n, v)
            })
            .filter(|(_, v)| v["kind"] == "analytic")
            .collect();
        assert_eq!(cases.len(), 12);
        cases
    }

    fn vec3(v: &Value) -> Vec3 {
        std::array::from_fn(|a| v[a].as_f64().unwrap())
    }

    fn mat3(v: &Value) -> Mat3 {
        std::array::from_fn(|r| vec3(&v[r]))
    }

    /// A shape of `gt_shapes` / `pred_shapes`; an axis-aligned ellipsoid with equal semi-axes is a sphere.
    fn shape_from_json(v: &Value) -> Shape {
        assert_eq!(v["type"], "ellipsoid", "only ellipsoids in the analytic cases");
        let (centre, semi_axes, rotation) =
            (vec3(&v["centre_mm"]), vec3(&v["semi_axes_mm"]), mat3(&v["rotation"]));
        if semi_axes[0] == semi_axes[1] && semi_axes[1] == semi_axes[2] && rotation == IDENTITY {
            Shape::Sphere { centre, radius: semi_axes[0] }
        } else {
            Shape::Ellipsoid { centre, semi_axes, rotation }
        }
    }

    fn single_shape(v: &Value) -> Shape {
        let list = v.as_array().unwrap();
        assert_eq!(list.len(), 1);
        shape_from_json(&list[0])
    }

    /// A gzipped NIfTI-1 uint8 mask, parsed minimally: `(dims, voxels)`.
    fn read_mask(path: &Path) -> ([usize; 3], Vec<u8>) {
        let mut bytes = Vec::new();
        let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        flate2::read::MultiGzDecoder::new(file).read_to_end(&mut bytes).unwrap();
        let i16_at = |o: usize| i16::from_le_bytes([bytes[o], bytes[o + 1]]);
        assert_eq!(i32::from_le_bytes(bytes[0..4].try_into().unwrap()), 348, "little-endian NIfTI-1");
        assert_eq!(i16_at(40), 3, "3D");
        assert_eq!(i16_at(70), 2, "uint8");
        let dims = [42, 44, 46].map(|o| usize::try_from(i16_at(o)).unwrap());
        let offset = f32::from_le_bytes(bytes[108..112].try_into().unwrap()) as usize;
        let n = dims.iter().product::<usize>();
        (dims, bytes[offset..offset + n].to_vec())
    }

    fn random_point(rng: &mut SplitMix, lo: Vec3, hi: Vec3) -> Vec3 {
        std::array::from_fn(|a| {
            let grow = 0.3 * (hi[a] - lo[a]);
            lo[a] - grow + rng.next_f64() * (hi[a] - lo[a] + 2.0 * grow)
        })
    }

    fn test_shapes() -> Vec<(&'static str, Shape)> {
        let c = [3.1, -2.7, 5.3];
        vec![
            ("sphere", Shape::Sphere { centre: c, radius: 20.0 }),
            (
                "ellipsoid",
                Shape::Ellipsoid {
                    centre: c,
                    semi_axes: [18.0, 14.0, 24.0],
                    rotation: mat_mul(&rot_z(30.0), &rot_x(20.0)),
                },
            ),
            (
                "box",
                Shape::Box {
                    centre: c,
                    half_extents: [15.0, 10.0, 18.0],
                    rotation: mat_mul(&rot_z(30.0), &rot_x(20.0)),
                },
            ),
            ("plate", Shape::Box { centre: c, half_extents: [2.0, 18.0, 22.0], rotation: rot_z(25.0) }),
            (
                "torus",
                Shape::Torus { centre: c, major_radius: 20.0, minor_radius: 7.0, rotation: rot_y(35.0) },
            ),
        ]
    }

    /// Exact distances are never above the minimum over dense surface samples, and below it by at most the
    /// sampling resolution; the closest point lies on the surface at that distance.
    #[test]
    fn distance_matches_dense_brute_force() {
        let n = 200_000;
        let mut rng = SplitMix(7);
        for (name, shape) in test_shapes() {
            let samples = shape.sample_surface(n);
            let resolution = (shape.surface_area() / samples.len() as f64).sqrt();
            let (lo, hi) = shape.bounding_box();
            let (mut inside, mut worst) = (0, 0.0f64);
            for q in 0..30 {
                // Alternately anywhere around the shape and within 6 mm of a surface point.
                let p = if q % 2 == 0 {
                    random_point(&mut rng, lo, hi)
                } else {
                    let x = samples[(rng.next_u64() % samples.len() as u64) as usize].0;
                    let v = random_point(&mut rng, [-1.0; 3], [1.0; 3]);
                    add(x, v.map(|t| t * 6.0 / norm(v) * rng.next_f64()))
                };
                inside += usize::from(shape.contains(p));
                let exact = shape.distance_to_surface(p);
                let brute = samples.iter().map(|&(x, _)| norm(sub(p, x))).fold(f64::INFINITY, f64::min);
                assert!(exact <= brute + 1e-9, "{name} at {p:?}: exact {exact} > brute force {brute}");
                assert!(
                    brute - exact <= 3.0 * resolution,
                    "{name} at {p:?}: exact {exact}, brute force {brute}"
                );
                worst = worst.max(brute - exact);
                let foot = shape.closest_point(p);
                assert!(
                    (norm(sub(p, foot)) - exact).abs() <= 1e-9,
                    "{name}: closest point not at the distance"
                );
                assert!(shape.distance_to_surface(foot) <= 1e-9, "{name}: closest point off the surface");
            }
            assert!((3..=27).contains(&inside), "{name}: {inside} of 30 points inside");
            assert!(worst <= resolution, "{name}: worst gap {worst} vs resolution {resolution}");
        }
    }

    /// The ellipsoid distance on the surface in polar angles, minimised by a global grid then zooming grids.
    fn ellipsoid_distance_by_search(centre: Vec3, e: Vec3, rot: &Mat3, p: Vec3) -> f64 {
        let point = |th: f64, ph: f64| {
            let local = [e[0] * th.sin() * ph.cos(), e[1] * th.sin() * ph.sin(), e[2] * th.cos()];
            add(centre, mul(rot, local))
        };
        let dist = |th: f64, ph: f64| norm(sub(p, point(th, ph)));
        let (nt, np) = (200, 400);
        let mut grid = Vec::with_capacity(nt * np);
        for i in 0..=nt {
            for j in 0..np {
                let (th, ph) = (PI * i as f64 / nt as f64, 2.0 * PI * j as f64 / np as f64);
                grid.push((dist(th, ph), th, ph));
            }
        }
        grid.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut best = f64::INFINITY;
        for &(d0, th0, ph0) in grid.iter().take(6) {
            let (mut d, mut th, mut ph) = (d0, th0, ph0);
            let (mut wt, mut wp) = (PI / nt as f64, 2.0 * PI / np as f64);
            for _ in 0..45 {
                let (ct, cp) = (th, ph);
                for a in -4..=4 {
                    for b in -4..=4 {
                        let (t, f) = (ct + wt * f64::from(a) / 4.0, cp + wp * f64::from(b) / 4.0);
                        let v = dist(t, f);
                        if v < d {
                            (d, th, ph) = (v, t, f);
                        }
                    }
                }
                wt *= 0.5;
                wp *= 0.5;
            }
            best = best.min(d);
        }
        best
    }

    /// The root search on the Lagrange parameter agrees with a direct search over the surface to 1e-6 mm, including
    /// the degenerate points (centre, axes, coordinate planes) that take the special branch.
    #[test]
    fn ellipsoid_root_matches_parametric_search() {
        let c = [1.5, -0.5, 2.0];
        let e = [18.0, 14.0, 24.0];
        let rot = mat_mul(&rot_z(30.0), &rot_x(20.0));
        let shape = Shape::Ellipsoid { centre: c, semi_axes: e, rotation: rot };
        let to_world = |q: Vec3| add(c, mul(&rot, q));
        let mut points: Vec<Vec3> = [
            [0.0, 0.0, 0.0],
            [0.0, 3.0, 0.0],
            [5.0, 0.0, 0.0],
            [0.0, 0.0, 7.0],
            [4.0, 0.0, 3.0],
            [2.0, 0.0, 0.0],
            [0.0, 2.0, 20.0],
            [30.0, 0.0, 0.0],
            [0.0, -15.0, 0.0],
            [10.0, 5.0, 0.0],
            [18.0 + 1e-7, 0.0, 0.0],
            [0.0, 0.0, -24.0 + 1e-7],
        ]
        .into_iter()
        .map(to_world)
        .collect();
        let mut rng = SplitMix(11);
        let (lo, hi) = shape.bounding_box();
        points.extend((0..24).map(|_| random_point(&mut rng, lo, hi)));
        for p in points {
            let exact = shape.distance_to_surface(p);
            let search = ellipsoid_distance_by_search(c, e, &rot, p);
            assert!((exact - search).abs() <= 1e-6, "at {p:?}: root {exact}, search {search}");
            let foot = shape.closest_point(p);
            let q = mul_t(&rot, sub(foot, c));
            let level = (q[0] / e[0]).powi(2) + (q[1] / e[1]).powi(2) + (q[2] / e[2]).powi(2);
            assert!((level - 1.0).abs() <= 1e-12, "closest point off the ellipsoid: {level}");
            assert!((norm(sub(p, foot)) - exact).abs() <= 1e-12);
        }
    }

    /// Sum of the sample weights: exact area for the sphere, box and torus; the ellipsoid's agrees with Legendre's
    /// formula, which itself agrees with the closed forms for spheroids.
    #[test]
    fn sampled_area_matches_closed_form() {
        let rel = |a: f64, b: f64| (a - b).abs() / b;
        let (r, big, small) = (20.0, 20.0, 7.0);
        let h = [15.0, 10.0, 18.0];
        let exact = [
            (Shape::Sphere { centre: [1.0; 3], radius: r }, 4.0 * PI * r * r),
            (
                Shape::Box { centre: [1.0; 3], half_extents: h, rotation: rot_z(30.0) },
                8.0 * (h[0] * h[1] + h[1] * h[2] + h[0] * h[2]),
            ),
            (
                Shape::Box { centre: [0.0; 3], half_extents: [2.0, 18.0, 22.0], rotation: IDENTITY },
                8.0 * 476.0,
            ),
            (
                Shape::Torus {
                    centre: [0.0; 3],
                    major_radius: big,
                    minor_radius: small,
                    rotation: rot_x(10.0),
                },
                4.0 * PI * PI * big * small,
            ),
        ];
        for (shape, area) in exact {
            for n in [1_000, 100_000] {
                let sum: f64 = shape.sample_surface(n).iter().map(|s| s.1).sum();
                assert!(rel(sum, area) <= 1e-9, "{shape:?}: {sum} vs {area}");
            }
            assert!(rel(shape.surface_area(), area) <= 1e-15);
        }
        // Spheroids in closed form check the elliptic integrals.
        let (a, c) = (24.0f64, 14.0f64);
        let ecc = (1.0 - c * c / (a * a)).sqrt();
        let oblate = 2.0 * PI * a * a + PI * c * c / ecc * ((1.0 + ecc) / (1.0 - ecc)).ln();
        let prolate = 2.0 * PI * c * c * (1.0 + a / (c * ecc) * ecc.asin());
        assert!(rel(ellipsoid_area([a, a, c]), oblate) <= 1e-13);
        assert!(rel(ellipsoid_area([c, a, c]), prolate) <= 1e-13);
        assert!(rel(ellipsoid_area([c, c, c]), 4.0 * PI * c * c) <= 1e-15);
        for (e, rot) in [
            ([18.0, 14.0, 24.0], IDENTITY),
            ([19.8, 15.4, 26.4], rot_y(40.0)),
            ([30.0, 5.0, 12.0], rot_z(5.0)),
        ] {
            let shape = Shape::Ellipsoid { centre: [0.0; 3], semi_axes: e, rotation: rot };
            let legendre = ellipsoid_area(e);
            for n in [2_000, 100_000] {
                let sum: f64 = shape.sample_surface(n).iter().map(|s| s.1).sum();
                assert!(rel(sum, legendre) <= 1e-6, "{e:?}, n = {n}: {sum} vs {legendre}");
            }
        }
    }

    /// The centre rule on the shapes of `expected.json` reproduces the validation masks voxel for voxel, and the
    /// suite's sphere and ellipsoid cases are the same grids and masks.
    #[test]
    fn voxelize_reproduces_validation_masks() {
        let suite = accuracy_suite();
        for (name, v) in analytic_cases() {
            let g = &v["geometry"];
            let (dims, spacing, origin) = (
                std::array::from_fn(|a| g["shape_ijk"][a].as_u64().unwrap() as usize),
                vec3(&g["spacing_mm"]),
                vec3(&g["origin_mm"]),
            );
            // expected.json places voxel (i, j, k) at origin + index·spacing; our frame drops the origin.
            let shift = origin.map(|o| -o);
            let gt = single_shape(&v["gt_shapes"]).translated(shift);
            let pred = single_shape(&v["pred_shapes"]).translated(shift);
            let case =
                suite.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("{name} not in the suite"));
            assert_eq!(case.dims, dims, "{name}: grid");
            assert_eq!(case.spacing, spacing, "{name}: spacing");
            // serde_json's default float parsing may be 1 ulp off; the suite's grid rule is exact.
            for (a, &o) in origin.iter().enumerate() {
                assert!((case.gt.centre()[a] + o).abs() <= 1e-12, "{name}: gt centre");
            }
            for (file, shape, suite_shape) in [("gt", &gt, &case.gt), ("pred", &pred, &case.pred)] {
                let (mask_dims, want) = read_mask(&data_dir().join(&name).join(format!("{file}.nii.gz")));
                assert_eq!(mask_dims, dims, "{name}/{file}: header dims");
                let got = shape.voxelize(dims, spacing);
                let differ = got.iter().zip(&want).filter(|(a, b)| a != b).count();
                assert_eq!(differ, 0, "{name}/{file}: {differ} voxels differ");
                assert!(suite_shape.voxelize(dims, spacing) == want, "{name}/{file}: suite mask differs");
                let count = want.iter().filter(|&&x| x == 1).count() as u64;
                assert_eq!(count, v["voxel"][format!("voxels_{file}")].as_u64().unwrap());
            }
        }
    }

    /// Largest deviations of our truth from the validation truth: (distances mm, nsd).
    fn compare_truth(n_samples: usize) -> (f64, f64) {
        let mut cache: Vec<(String, Truth)> = Vec::new();
        let (mut worst_d, mut worst_nsd) = (0.0f64, 0.0f64);
        for (name, v) in analytic_cases() {
            let key = format!("{}{}", v["gt_shapes"], v["pred_shapes"]);
            if !cache.iter().any(|(k, _)| *k == key) {
                let (gt, pred) = (single_shape(&v["gt_shapes"]), single_shape(&v["pred_shapes"]));
                cache.push((key.clone(), truth(&gt, &pred, &[1.0, 2.5], 95.0, n_samples)));
            }
            let t = &cache.iter().find(|(k, _)| *k == key).unwrap().1;
            let want = &v["truth"];
            let num = |k: &str| want[k].as_f64().unwrap_or_else(|| panic!("{name}: truth.{k}"));
            for (key, got) in [
                ("hd", t.hd),
                ("hd95_max", t.hd95),
                ("hd95_union", t.hd95_pooled),
                ("assd", t.assd),
                ("masd", t.masd),
                ("mean_gt_to_pred", t.gt_to_pred.mean),
                ("mean_pred_to_gt", t.pred_to_gt.mean),
                ("p95_gt_to_pred", t.gt_to_pred.percentile),
                ("p95_pred_to_gt", t.pred_to_gt.percentile),
            ] {
                worst_d = worst_d.max((got - num(key)).abs());
            }
            for (i, key) in ["nsd@1.0", "nsd@2.5"].into_iter().enumerate() {
                let got = t.nsd[i].1;
                match want[key].as_f64() {
                    Some(w) => worst_nsd = worst_nsd.max((got - w).abs()),
                    None => assert!(got.is_nan(), "{name}: {key} is ill-posed, got {got}"),
                }
            }
            // The validation's ellipsoid areas come from a midpoint grid and are ~2e-7 (relative) below the exact
            // value, which our weights reproduce to ~1e-13 (see `sampled_area_matches_closed_form`).
            for (key, got) in [("area_gt_mm2", t.gt_to_pred.area), ("area_pred_mm2", t.pred_to_gt.area)] {
                let rel = (got - num(key)).abs() / num(key);
                assert!(rel <= 1e-6, "{name}: {key} {got} vs {}", num(key));
            }
        }
        (worst_d, worst_nsd)
    }

    /// The validation truth (hd, hd95 max and pooled, assd, masd, directed means and P95, nsd@1.0 and @2.5) is
    /// reproduced to 1e-3 mm and 1e-3 with 2e5 samples per surface (observed: 1.6e-4 mm and 7.6e-5).
    ///
    /// Why that tolerance: the maxima are refined to ~1e-12 mm; the area-weighted means carry a stratified-sampling
    /// error of a few 1e-5 mm; an area fraction (NSD, the cumulative fraction behind a percentile) is off by about
    /// `n^-3/4` ≈ 1e-4 at this `n`, and a percentile by that times the inverse density of the distances, at most
    /// ~3 mm per unit fraction in these cases (shifted spheres: the distances are uniform on [0, 3] mm).
    /// The validation's own ellipsoid values come from a 1200×2400 midpoint grid: its pred→gt P95 sits ~4e-5 mm below
    /// our converged value and its areas ~2e-7 (relative) below the exact ones.
    #[test]
    fn truth_matches_validation() {
        let (d, nsd) = compare_truth(200_000);
        assert!(d <= 1e-3, "distance error {d} mm");
        assert!(nsd <= 1e-3, "nsd error {nsd}");
    }

    /// Dense variant (`cargo test -p segauge-tests --release -- --ignored`, ~5 s): 4e6 samples per surface
    /// (observed: 3.6e-5 mm, the validation's own ellipsoid P95 error, and 6e-6).
    #[test]
    #[ignore = "slow in debug builds; run with --release"]
    fn truth_matches_validation_dense() {
        let (d, nsd) = compare_truth(4_000_000);
        assert!(d <= 2e-4, "distance error {d} mm");
        assert!(nsd <= 1e-4, "nsd error {nsd}");
    }

    /// Closed-form answers the sampler cannot get exactly: box corners (hd) and constant distances.
    #[test]
    fn truth_of_closed_form_pairs() {
        let pairs = suite_pairs();
        let find = |f: &str| pairs.iter().find(|p| p.0 == f).unwrap().clone();
        let (_, gt, pred) = find("box_shift");
        let t = truth(&gt, &pred, &[1.0], 95.0, 20_000);
        // Farthest corner: outside the other box by (1.3, 0.9, 2.2) mm.
        let hd = (1.3f64 * 1.3 + 0.9 * 0.9 + 2.2 * 2.2).sqrt();
        assert!((t.hd - hd).abs() <= 1e-9, "box hd {} vs {hd}", t.hd);
        let (_, gt, pred) = find("torus_thicker");
        let t = truth(&gt, &pred, &[1.0, 1.5], 95.0, 20_000);
        for v in [t.hd, t.hd95, t.hd95_pooled, t.assd, t.masd, t.gt_to_pred.mean, t.pred_to_gt.percentile] {
            assert!((v - 1.0).abs() <= 1e-12, "{v}");
        }
        assert!(t.nsd[0].1.is_nan(), "every distance equals tau = 1");
        assert!((t.nsd[1].1 - 1.0).abs() <= 1e-12);
        // The oblique plate pair is the axis-aligned one rotated: same metrics (the sampler works in the local
        // frame), and the farthest points are 1.5 mm away (the shift).
        let (_, gt, pred) = find("plate_shift");
        let flat = truth(&gt, &pred, &[1.0], 95.0, 20_000);
        let (_, gt, pred) = find("plate_oblique");
        let oblique = truth(&gt, &pred, &[1.0], 95.0, 20_000);
        assert!((flat.hd - 1.5).abs() <= 1e-12 && (oblique.hd - 1.5).abs() <= 1e-12);
        for (a, b) in
            [(flat.hd95, oblique.hd95), (flat.assd, oblique.assd), (flat.nsd[0].1, oblique.nsd[0].1)]
        {
            assert!((a - b).abs() <= 1e-9, "{a} vs {b}");
        }
    }

    /// The suite: names unique, the sub-voxel offset, margins of at least `max(4 voxels, 3 mm)` less one voxel, and
    /// grids at 0.5 mm under ~1.8 M voxels.
    #[test]
    fn suite_is_well_formed() {
        let suite = accuracy_suite();
        assert_eq!(suite.len(), suite_pairs().len() * SUITE_SPACINGS.len());
        for (i, c) in suite.iter().enumerate() {
            assert!(suite[..i].iter().all(|o| o.name != c.name), "{} twice", c.name);
            let centre = c.gt.centre();
            for a in 0..3 {
                let idx = centre[a] / c.spacing[a];
                assert!((idx - idx.floor() - SUBVOXEL_OFFSET[a]).abs() <= 1e-9, "{}: offset", c.name);
                for shape in [&c.gt, &c.pred] {
                    let (lo, hi) = shape.bounding_box();
                    let margin = (4.0 * c.spacing[a]).max(3.0) - c.spacing[a];
                    let top = (c.dims[a] - 1) as f64 * c.spacing[a];
                    assert!(lo[a] >= margin && hi[a] <= top - margin, "{}: margin on axis {a}", c.name);
                }
            }
            if c.spacing[0] == 0.5 {
                let voxels = c.dims.iter().product::<usize>();
                assert!(voxels <= 1_800_000, "{}: {:?}", c.name, c.dims);
            }
        }
    }
}
