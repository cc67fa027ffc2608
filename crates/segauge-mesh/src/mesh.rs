//! The triangle mesh type shared by every mesher, with the per-triangle sample points and weights.

/// A triangle mesh: vertices (f64) and triangles as vertex indices.
///
/// Winding: every mesher of this crate orients triangles so that `(b − a) × (c − a)` points from the foreground
/// towards the background (outwards), as VTK's SurfaceNets does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mesh {
    /// Vertex positions.
    pub vertices: Vec<[f64; 3]>,
    /// Triangles, as indices into `vertices`.
    pub triangles: Vec<[u32; 3]>,
}

impl Mesh {
    /// True when the mesh has no triangle (the mask was empty).
    pub fn is_empty(&self) -> bool {
        self.triangles.is_empty()
    }

    /// The three corners of triangle `t`.
    #[inline]
    pub fn corners(&self, t: usize) -> [[f64; 3]; 3] {
        self.triangles[t].map(|v| self.vertices[v as usize])
    }

    /// Centroid (mean of the corners) of every triangle: the sample points of the distance metrics. A coordinate
    /// shared by all three corners is kept exactly (so a centroid lies exactly in an axis-aligned triangle's plane).
    pub fn centroids(&self) -> Vec<[f64; 3]> {
        (0..self.triangles.len())
            .map(|t| {
                let [a, b, c] = self.corners(t);
                std::array::from_fn(|r| {
                    if a[r] == b[r] && b[r] == c[r] { a[r] } else { (a[r] + b[r] + c[r]) / 3.0 }
                })
            })
            .collect()
    }

    /// Area of every triangle, `|(b − a) × (c − a)| / 2`: the weights of the distance metrics.
    pub fn areas(&self) -> Vec<f64> {
        (0..self.triangles.len()).map(|t| triangle_area(self.corners(t))).collect()
    }

    /// Triangle centres as VTK evaluates the parametric centre (1/3, 1/3): `a·u₃ + b/3 + c/3` with
    /// `u₃ = 1 − 1/3 − 1/3` (vtkTriangle::EvaluateLocation), for MeshMetrics compatibility.
    pub fn vtk_centroids(&self) -> Vec<[f64; 3]> {
        let third = 1.0 / 3.0;
        let u3 = 1.0 - third - third;
        (0..self.triangles.len())
            .map(|t| {
                let [a, b, c] = self.corners(t);
                std::array::from_fn(|r| a[r] * u3 + b[r] * third + c[r] * third)
            })
            .collect()
    }

    /// Triangle areas as VTK computes them (vtkTriangle::TriangleArea, from the squared edge lengths), for
    /// MeshMetrics compatibility.
    pub fn vtk_areas(&self) -> Vec<f64> {
        let d2 = |p: [f64; 3], q: [f64; 3]| {
            (p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) + (p[2] - q[2]) * (p[2] - q[2])
        };
        (0..self.triangles.len())
            .map(|t| {
                let [p1, p2, p3] = self.corners(t);
                let (a, b, c) = (d2(p1, p2), d2(p2, p3), d2(p3, p1));
                0.25 * (4.0 * a * c - (a - b + c) * (a - b + c)).abs().sqrt()
            })
            .collect()
    }

    /// Signed volume enclosed by the mesh (divergence theorem); positive for a closed, outward-wound mesh.
    pub fn signed_volume(&self) -> f64 {
        (0..self.triangles.len())
            .map(|t| {
                let [a, b, c] = self.corners(t);
                dot(a, cross(b, c)) / 6.0
            })
            .sum()
    }
}

/// Area of a triangle.
pub(crate) fn triangle_area([a, b, c]: [[f64; 3]; 3]) -> f64 {
    let n = cross(sub(b, a), sub(c, a));
    0.5 * dot(n, n).sqrt()
}

#[inline]
pub(crate) fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

#[inline]
pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// `v` scaled to unit length (zero for a zero vector), by one reciprocal instead of three divisions: a unit vector
/// to rounding either way.
#[inline]
pub(crate) fn unit(v: [f64; 3]) -> [f64; 3] {
    let len = dot(v, v).sqrt();
    if len > 0.0 {
        let inv = 1.0 / len;
        v.map(|x| x * inv)
    } else {
        [0.0; 3]
    }
}

#[inline]
pub(crate) fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}
