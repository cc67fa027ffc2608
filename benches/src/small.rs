//! Small objects for the accuracy benchmark: analytic shapes a few voxels across, where smoothing a mask's surface
//! can shrink what the mask still shows (issue 15: TotalSegmentator's small bowel, whose three stray ground-truth
//! fragments are 7.8 % of the voxel-face surface but 0.97 % of the smoothed one).
//!
//! A [`Body`] is a union of disjoint analytic solids ([`Shape`]s of `segauge_tests::shapes`), so a large organ and
//! distant fragments are one mask. Its surface is the union of the parts' surfaces, and the distance from any point
//! to it is the smallest distance to a part's surface (for a point inside part A, the segment to any other part
//! crosses A's surface first). [`small_suite`] holds four families, each at 1 mm iso and 0.8×0.8×5 mm:
//!
//! - `fragments_*`: a large ellipsoid plus 1 or 3 spheres of radius 0.5, 1, 2 or 3 voxel units about 100 mm away,
//!   in the ground truth only; the prediction is the ellipsoid grown by 5 %. The fragments' share of the true
//!   surface runs from 0.1 % to 13 %, on both sides of the 5 % that decides whether HD95 sees them;
//! - `small_sphere_*`: a sphere of radius 0.5 to 3 voxel units against the same sphere moved by (0.6, −0.2, −0.05)
//!   voxels;
//! - `thin_plate_*`: an oblique plate 1, 2 or 3 voxels thick against the same plate moved half a voxel along its
//!   normal;
//! - `thin_tube_*`: a ring-shaped tube (torus) 1, 2 or 3 voxels thick against the same ring moved half a voxel.
//!
//! A *voxel unit* `u` is the cube root of the voxel volume (1 mm at 1 mm iso, 1.47 mm at 0.8×0.8×5); plate and
//! tube thicknesses are counted in in-plane voxels (their thin direction lies mostly in-plane).
//!
//! The truth ([`body_truth`]) follows `segauge_tests::shapes::truth`: dense, stratified, area-weighted samples of
//! each continuous surface and exact distances to the other. Single-part pairs use that function itself (its
//! maxima are refined by a local search); for unions the maximum is the sampled one, within ~1e-3 mm at 1e6
//! samples (the distance to a far fragment varies slowly over the near surface).

use segauge_tests::shapes::{IDENTITY, Shape, Vec3, mat_mul, rot_x, rot_y, rot_z, truth};

/// The spacings of the small-object suite with their name tags.
pub const SMALL_SPACINGS: [(&str, Vec3); 2] =
    [("iso1.0", [1.0, 1.0, 1.0]), ("aniso0.8x0.8x5.0", [0.8, 0.8, 5.0])];

/// A union of disjoint solids; the first part is the main one (it sets the placement on the grid).
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// The parts, pairwise disjoint.
    pub parts: Vec<Shape>,
}

impl Body {
    /// A body of one shape.
    pub fn one(shape: Shape) -> Body {
        Body { parts: vec![shape] }
    }

    /// True when `p` is inside or on some part.
    pub fn contains(&self, p: Vec3) -> bool {
        self.parts.iter().any(|s| s.contains(p))
    }

    /// Exact distance from `p` to the body's surface (the nearest part's surface), mm.
    pub fn distance_to_surface(&self, p: Vec3) -> f64 {
        self.parts.iter().map(|s| s.distance_to_surface(p)).fold(f64::INFINITY, f64::min)
    }

    /// Surface area, mm².
    pub fn surface_area(&self) -> f64 {
        self.parts.iter().map(Shape::surface_area).sum()
    }

    /// About `n` area-weighted samples of the whole surface, each part getting a share proportional to its area
    /// (at least 2000 samples, so that a fragment's distances are resolved).
    pub fn sample_surface(&self, n: usize) -> Vec<(Vec3, f64)> {
        let total = self.surface_area();
        let mut out = Vec::with_capacity(n + 2000 * self.parts.len());
        for s in &self.parts {
            let share = ((n as f64) * s.surface_area() / total).round() as usize;
            out.extend(s.sample_surface(share.max(2000)));
        }
        out
    }

    /// The body moved by `shift` (mm).
    pub fn translated(&self, shift: Vec3) -> Body {
        Body { parts: self.parts.iter().map(|s| s.translated(shift)).collect() }
    }

    /// Axis-aligned bounding box `(min, max)`, mm.
    pub fn bounding_box(&self) -> (Vec3, Vec3) {
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for s in &self.parts {
            let (l, h) = s.bounding_box();
            for a in 0..3 {
                lo[a] = lo[a].min(l[a]);
                hi[a] = hi[a].max(h[a]);
            }
        }
        (lo, hi)
    }

    /// The centre-rule mask (voxel `(i, j, k)` at `(i·sx, j·sy, k·sz)`), `i` fastest.
    pub fn voxelize(&self, dims: [usize; 3], spacing: Vec3) -> Vec<u8> {
        let mut out = Vec::with_capacity(dims.iter().product());
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

/// The group of a small-object case, for the summary tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// A large ellipsoid with distant fragments in the ground truth only.
    Fragments,
    /// A lone sphere of radius 0.5 to 3 voxel units.
    SmallSphere,
    /// A plate 1 to 3 voxels thick.
    ThinPlate,
    /// A tube (torus) 1 to 3 voxels thick.
    ThinTube,
}

impl Group {
    /// The name in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Fragments => "fragments",
            Group::SmallSphere => "small spheres",
            Group::ThinPlate => "thin plates",
            Group::ThinTube => "thin tubes",
        }
    }
}

/// One small-object case: a body pair on a grid.
#[derive(Debug, Clone, PartialEq)]
pub struct SmallCase {
    /// `<family>__<spacing tag>`.
    pub name: String,
    /// The pair's name, e.g. `fragments_r2x3` (three fragments of radius 2 units).
    pub family: String,
    /// The group.
    pub group: Group,
    /// Ground truth, placed on the grid.
    pub gt: Body,
    /// Prediction, placed on the grid.
    pub pred: Body,
    /// Grid size, voxels.
    pub dims: [usize; 3],
    /// Spacing, mm.
    pub spacing: Vec3,
}

impl SmallCase {
    /// The `(gt, pred)` masks by the centre rule.
    pub fn masks(&self) -> (Vec<u8>, Vec<u8>) {
        (self.gt.voxelize(self.dims, self.spacing), self.pred.voxelize(self.dims, self.spacing))
    }

    /// The share of the ground truth's true surface area on its fragments (all parts but the first).
    pub fn fragment_area_fraction(&self) -> f64 {
        let frag: f64 = self.gt.parts.iter().skip(1).map(Shape::surface_area).sum();
        frag / self.gt.surface_area()
    }
}

/// Continuous metrics of a body pair: `[hd, hd95, assd, masd, nsd@tau]` (definitions of
/// `segauge_tests::shapes`), from about `n` area-weighted samples per surface.
pub fn body_truth(gt: &Body, pred: &Body, tau: f64, percentile: f64, n: usize) -> [f64; 5] {
    if let ([g], [p]) = (gt.parts.as_slice(), pred.parts.as_slice()) {
        let t = truth(g, p, &[tau], percentile, n);
        return [t.hd, t.hd95, t.assd, t.masd, t.nsd[0].1];
    }
    let q = percentile / 100.0;
    let directed = |src: &Body, dst: &Body| -> Vec<(f64, f64)> {
        src.sample_surface(n).into_iter().map(|(x, w)| (dst.distance_to_surface(x), w)).collect()
    };
    let a = directed(gt, pred);
    let b = directed(pred, gt);
    let area = |s: &[(f64, f64)]| s.iter().map(|x| x.1).sum::<f64>();
    let integral = |s: &[(f64, f64)]| s.iter().map(|x| x.0 * x.1).sum::<f64>();
    let max = |s: &[(f64, f64)]| s.iter().map(|x| x.0).fold(0.0, f64::max);
    let (wa, wb) = (area(&a), area(&b));
    let within = a.iter().chain(&b).filter(|x| x.0 <= tau).map(|x| x.1).sum::<f64>();
    [
        max(&a).max(max(&b)),
        percentile_of(&a, q).max(percentile_of(&b, q)),
        (integral(&a) + integral(&b)) / (wa + wb),
        0.5 * (integral(&a) / wa + integral(&b) / wb),
        within / (wa + wb),
    ]
}

/// Smallest distance whose cumulative weight fraction (sorted by distance) reaches `q`.
fn percentile_of(samples: &[(f64, f64)], q: f64) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(|x, y| x.0.total_cmp(&y.0));
    let total: f64 = s.iter().map(|x| x.1).sum();
    let mut cum = 0.0;
    for &(d, w) in &s {
        cum += w;
        if cum / total >= q {
            return d;
        }
    }
    s.last().map_or(f64::NAN, |x| x.0)
}

/// Places a body pair on a grid: the gt's main part's centre lands at `offset` (in voxels) from a voxel centre,
/// every fragment's centre at its own offset from the nearest voxel centre (so that even a fragment of radius half
/// a unit holds a voxel centre), with `max(4 voxels, 3 mm)` of background around both bodies.
fn place(gt: &Body, pred: &Body, spacing: Vec3, offsets: &[Vec3]) -> (Body, Body, [usize; 3]) {
    // Fragments first: snap each to its own sub-voxel offset relative to the main part's grid position.
    let main = gt.parts[0].centre();
    let mut snapped = gt.clone();
    for (n, part) in snapped.parts.iter_mut().enumerate().skip(1) {
        let c = part.centre();
        let o = offsets[n % offsets.len()];
        let shift: Vec3 = std::array::from_fn(|a| {
            let rel = (c[a] - main[a]) / spacing[a];
            ((rel.round() + o[a] - offsets[0][a]) - rel) * spacing[a]
        });
        *part = part.translated(shift);
    }
    let (lo_g, hi_g) = snapped.bounding_box();
    let (lo_p, hi_p) = pred.bounding_box();
    let mut dims = [0; 3];
    let mut shift = [0.0; 3];
    for a in 0..3 {
        let s = spacing[a];
        let (lo, hi) = (lo_g[a].min(lo_p[a]), hi_g[a].max(hi_p[a]));
        let pad = (4.0 * s).max(3.0);
        let below = ((main[a] - lo + pad) / s).floor();
        dims[a] = ((hi - lo + 2.0 * pad) / s).ceil() as usize + 1;
        shift[a] = (below + offsets[0][a]) * s - main[a];
    }
    (snapped.translated(shift), pred.translated(shift), dims)
}

/// Sub-voxel offsets of the main part and of the fragments (in voxels, per axis).
const OFFSETS: [Vec3; 4] = [[0.23, 0.37, 0.11], [0.12, 0.21, 0.08], [0.31, 0.06, 0.05], [0.17, 0.28, 0.03]];

/// The cases of the small-object suite (module docs), in a fixed order.
pub fn small_suite() -> Vec<SmallCase> {
    let o = [0.0; 3];
    let mut out = Vec::new();
    for (tag, spacing) in SMALL_SPACINGS {
        let unit = (spacing[0] * spacing[1] * spacing[2]).cbrt();
        let thin = spacing[0].min(spacing[1]).min(spacing[2]);
        let mut push = |family: String, group: Group, gt: Body, pred: Body| {
            let (gt, pred, dims) = place(&gt, &pred, spacing, &OFFSETS);
            out.push(SmallCase { name: format!("{family}__{tag}"), family, group, gt, pred, dims, spacing });
        };
        // A large ellipsoid (about 2400 mm² of surface) with fragments ~100 mm away, in the gt only.
        let organ = [14.0, 11.0, 18.0];
        let sites = [[100.0, 0.0, 0.0], [100.0, 12.0, -4.0], [104.0, -6.0, 10.0]];
        for count in [1, 3] {
            for r in [0.5, 1.0, 2.0, 3.0] {
                let mut parts = vec![Shape::Ellipsoid { centre: o, semi_axes: organ, rotation: IDENTITY }];
                for site in &sites[..count] {
                    parts.push(Shape::Sphere { centre: *site, radius: r * unit });
                }
                let pred =
                    Shape::Ellipsoid { centre: o, semi_axes: organ.map(|v| v * 1.05), rotation: IDENTITY };
                push(format!("fragments_r{r}x{count}"), Group::Fragments, Body { parts }, Body::one(pred));
            }
        }
        for r in [0.5, 1.0, 1.5, 2.0, 3.0] {
            let gt = Shape::Sphere { centre: o, radius: r * unit };
            // Moved by (0.6, −0.2, −0.05) voxels: both centres stay near a voxel centre, so that the smallest
            // spheres hold one at both spacings.
            let pred = gt.translated([0.6 * spacing[0], -0.2 * spacing[1], -0.05 * spacing[2]]);
            push(format!("small_sphere_r{r}"), Group::SmallSphere, Body::one(gt), Body::one(pred));
        }
        let tilt = mat_mul(&rot_z(25.0), &rot_y(10.0));
        for t in [1.0, 2.0, 3.0] {
            let gt = Shape::Box { centre: o, half_extents: [0.5 * t * thin, 15.0, 18.0], rotation: tilt };
            let normal = [tilt[0][0], tilt[1][0], tilt[2][0]];
            let pred = gt.translated(normal.map(|v| v * 0.5 * thin));
            push(format!("thin_plate_t{t}"), Group::ThinPlate, Body::one(gt), Body::one(pred));
        }
        // The ring lies in a plane holding the z axis, so its tube crosses the slices.
        let ring = mat_mul(&rot_y(90.0), &rot_x(20.0));
        for t in [1.0, 2.0, 3.0] {
            let gt =
                Shape::Torus { centre: o, major_radius: 12.0, minor_radius: 0.5 * t * thin, rotation: ring };
            let pred = gt.translated([0.5 * thin, 0.0, 0.0]);
            push(format!("thin_tube_t{t}"), Group::ThinTube, Body::one(gt), Body::one(pred));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fragment_holds_a_voxel_and_the_parts_are_disjoint() {
        for case in small_suite() {
            let (gt, pred) = case.masks();
            assert!(gt.contains(&1) && pred.contains(&1), "{}", case.name);
            for part in &case.gt.parts {
                let one = Body::one(part.clone()).voxelize(case.dims, case.spacing);
                assert!(one.contains(&1), "{}: a part holds no voxel centre", case.name);
            }
            for (n, a) in case.gt.parts.iter().enumerate() {
                for b in &case.gt.parts[n + 1..] {
                    let (la, ha) = a.bounding_box();
                    let (lb, hb) = b.bounding_box();
                    assert!((0..3).any(|x| ha[x] < lb[x] || hb[x] < la[x]), "{}: parts overlap", case.name);
                }
            }
        }
    }

    #[test]
    fn union_truth_of_a_lone_shape_equals_the_shape_truth() {
        // Two spheres as bodies of one part use `truth`; the union path on the same pair must agree closely.
        let a = Shape::Sphere { centre: [0.0; 3], radius: 2.0 };
        let b = Shape::Sphere { centre: [0.5, 0.0, 0.0], radius: 2.0 };
        let one = body_truth(&Body::one(a.clone()), &Body::one(b.clone()), 1.0, 95.0, 200_000);
        // A far tiny part adds nothing measurable to the union when it is on both sides.
        let far = Shape::Sphere { centre: [500.0, 0.0, 0.0], radius: 1e-3 };
        let ga = Body { parts: vec![a, far.clone()] };
        let gb = Body { parts: vec![b, far] };
        let union = body_truth(&ga, &gb, 1.0, 95.0, 200_000);
        for i in 0..5 {
            assert!((one[i] - union[i]).abs() < 2e-3, "metric {i}: {} vs {}", one[i], union[i]);
        }
        // Analytic: HD of two unit-shifted equal spheres is the shift.
        assert!((one[0] - 0.5).abs() < 1e-9);
    }

    #[test]
    fn fragment_shares_straddle_five_percent() {
        let shares: Vec<f64> = small_suite()
            .iter()
            .filter(|c| c.group == Group::Fragments)
            .map(SmallCase::fragment_area_fraction)
            .collect();
        assert!(shares.iter().any(|&f| f < 0.01) && shares.iter().any(|&f| f > 0.1));
        assert!(shares.iter().filter(|&&f| f > 0.05).count() >= 3);
    }
}
