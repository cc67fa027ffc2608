//! VTK's SurfaceNets (`vtkSurfaceNets3D`) with its default constrained smoothing, reproducing the output of
//! **VTK 9.7.2 bit for bit** for binary masks (`SetValue(0, 1)`): the same float32 points in the same order, the
//! same triangles.
//!
//! # What VTK does (and therefore what this module does)
//! - **Dual cells.** A cell sits between 2×2×2 voxels; cells run over `0..=n` per axis, so there is one padding
//!   cell on each side. A cell edge is *intersected* when both its voxels lie inside the mask box and exactly one
//!   is foreground. A cell with at least one intersected edge emits a point at its centre (index `a − ½` per
//!   axis), placed in world space by the [`Frame`] and rounded to float32 before smoothing. Point ids follow the
//!   cells with x fastest, then y, then z.
//! - **No padding.** Nothing outside the box counts as background: a mask that touches the border of its box
//!   gives an *open* surface whose rim lies half a voxel outside the box, and an all-foreground mask gives no
//!   surface at all, exactly as VTK. Callers who want a closed surface pad the mask with background first.
//! - **Non-manifold duplication (VTK 9.7).** A cell whose 2×2×2 voxels are not face-connected on one side (for
//!   instance two voxels touching only along an edge) emits one point per separated group plus an *anchor*, all
//!   at the cell centre; each quad corner uses the point of the group its edge belongs to. VTK 9.6 and older emit
//!   one point per cell; both agree on every manifold mask.
//! - **Smoothing** (`vtkConstrainedSmoothingFilter` with the defaults vtkSurfaceNets3D sets): 16 Jacobi
//!   iterations with relaxation factor ½ over stencils read from the cell classification (the face-neighbour
//!   cells), each point kept within a sphere of radius `|spacing|` around its start. Arithmetic in f64, storage
//!   in f32, as VTK.
//! - **Triangles.** Each quad around an intersected voxel edge is split along its shorter diagonal of the
//!   smoothed points (VTK's MIN_EDGE, lengths compared in float32; a tie takes the 1–3 diagonal), wound so the
//!   normal points from the foreground towards the background.
//!
//! # Bit for bit in the frame you pass
//! VTK rounds world points to float32 before smoothing, so its bits depend on where the mask sits in space.
//! MeshMetrics gives VTK the one-voxel-padded image in world coordinates (SimpleITK's LPS origin and direction). A
//! crop of that image starting at voxel `lo`, meshed with origin `origin + D·(spacing ⊙ lo)` and the same
//! spacing and direction, gives VTK's points, ids and triangles (bit for bit on all 81 label meshes of
//! TotalSegmentator 2.18.0's two 3 mm test outputs, in LPS and in RAS: IEEE rounding is symmetric, so the two
//! differ only in the signs of x and y). segauge-metrics' `smooth-vtk` surface meshes each label's crop in that
//! frame. The same crop in another frame, such as a scaled index frame with origin `spacing ⊙ lo` and `D = I`,
//! gives the same surface only up to float32 rounding of the coordinates (about 1e-7 relative); a quad whose two
//! diagonals differ by less than that can take the other diagonal: the full-vs-fast distance metrics of those
//! outputs moved by 1e-7 to 1e-5 relative, and by 2e-4 in one ASSD.
//!
//! VTK's label matters too: this module is `vtkSurfaceNets3D` with `SetValue(0, 1)`. Without any `SetValue` (as
//! MeshMetrics calls it) VTK 9.7.2 extracts label 0, the background: the same boundary, but its non-manifold cells
//! are split from the other side, so the smoothed surface differs there (the full-vs-fast metrics of 13 of the 40
//! shared labels of those outputs move by more than 1e-5 relative, up to 3.4 % in HD95).
//!
//! The work is one pass over the cells that classifies them, emits the points and quads and builds the stencils
//! (three z slices of cell state in memory at a time, flat arrays indexed by cell), then the smoothing and the
//! triangulation over flat arrays: memory is linear in the size of the output plus three slices of cells.
//! Point ids are `u32`, as in [`Mesh`]. The pass skips every cell row between four empty voxel rows
//! ([`Mask::occupied_rows`]) and, within a row, visits only the cells between two columns of voxels that differ or
//! are mixed (found 64 at a time), so its cost follows the surface rather than the box.

use crate::keep_volume::Volumes;
use crate::mask::{Frame, Mask};
use crate::mesh::Mesh;

/// Options of [`surface_nets_with`]. `Default` gives VTK's defaults (smoothing on).
///
/// ```
/// use segauge_mesh::SurfaceNetsOptions;
/// let mut raw = SurfaceNetsOptions::default();
/// raw.smoothing = false;
/// assert!(SurfaceNetsOptions::default().smoothing && !raw.smoothing);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SurfaceNetsOptions {
    /// Run VTK's default constrained smoothing (16 iterations) before triangulating. Without it the points stay
    /// at the cell centres (VTK's `SmoothingOff()`).
    pub smoothing: bool,
    /// How each quad becomes triangles (default: VTK's).
    pub split: QuadSplit,
    /// Arithmetic of the points (default: VTK's float32).
    pub precision: Precision,
    /// After smoothing, move each closed surface component along its vertex normals by the one distance that
    /// restores the volume it enclosed before smoothing, i.e. its voxel volume (default off: VTK's surface; on in
    /// segauge's default `smooth` surface). Smoothing shrinks a component a few voxels across to a fraction of its
    /// size (a single voxel to 0.2 % of its width); with this on it keeps its smoothed shape at the mask's volume.
    /// A component one voxel thick along an axis whose spacing exceeds its width there (the diameter of a disc of its
    /// cross-section) is given that width as thickness instead (docs/METHODS.md A.6, the one-slice rule).
    /// Components whose surface is open (a mask touching its box) are left as smoothed.
    pub keep_volume: bool,
}

/// The arithmetic of SurfaceNets points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// VTK's: world points and every smoothing iteration stored as float32 (bit for bit as VTK).
    #[default]
    F32,
    /// The same algorithm with f64 storage throughout. A mirrored mask then gives a mirrored mesh to ~1e-15
    /// instead of float32's ~1e-7 (segauge's default surface).
    F64,
}

/// How SurfaceNets quads are split into triangles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QuadSplit {
    /// Two triangles along the shorter diagonal, computed in float32; a tie takes the 1–3 diagonal (VTK's
    /// MIN_EDGE, bit for bit). The tie-break depends on the quad's orientation, so a mirrored mask can get the
    /// other diagonal.
    #[default]
    MinEdge,
    /// Four triangles around an added vertex at the mean of the quad's corners (computed in f64). The split has
    /// no tie-break, so a mask and its mirror image give mirror-image meshes (segauge's default surface).
    Centre,
}

impl Default for SurfaceNetsOptions {
    fn default() -> SurfaceNetsOptions {
        SurfaceNetsOptions {
            smoothing: true,
            split: QuadSplit::MinEdge,
            precision: Precision::F32,
            keep_volume: false,
        }
    }
}

/// The smoothed SurfaceNets triangle mesh of `mask`, placed by `frame`: VTK 9.7.2's `vtkSurfaceNets3D` with
/// `SetValue(0, 1)` and every other setting at its default, bit for bit.
///
/// The vertices are VTK's float32 values converted to f64, in VTK's order; the triangles are VTK's, in VTK's order
/// and winding (normals from the foreground towards the background). The mask is **not** padded: foreground on the
/// border of the box gives an open surface, and an empty or all-foreground mask gives an empty mesh.
///
/// ```
/// use segauge_mesh::{surface_nets, Frame, Mask};
/// // One voxel, padded by background: a closed surface of 8 points (its corner cells) and 6 quads.
/// let mesh = surface_nets(&Mask::from_fn([3, 3, 3], |i, j, k| (i, j, k) == (1, 1, 1)), &Frame::scaled([1.0; 3]));
/// assert_eq!((mesh.vertices.len(), mesh.triangles.len()), (8, 12));
/// assert!(mesh.signed_volume() > 0.0);
/// ```
pub fn surface_nets(mask: &Mask, frame: &Frame) -> Mesh {
    surface_nets_with(mask, frame, &SurfaceNetsOptions::default())
}

/// [`surface_nets`] with options.
///
/// With `smoothing` off the vertices are the float32 cell centres in world space (VTK with `SmoothingOff()`), and
/// each of VTK's quads is split by the same MIN_EDGE rule applied to those unsmoothed points.
///
/// ```
/// use segauge_mesh::{surface_nets_with, Frame, Mask, SurfaceNetsOptions};
/// let mut options = SurfaceNetsOptions::default();
/// options.smoothing = false;
/// let mask = Mask::from_fn([4, 3, 3], |i, j, k| (1..3).contains(&i) && (j, k) == (1, 1));
/// let mesh = surface_nets_with(&mask, &Frame::scaled([1.0; 3]), &options);
/// // Unsmoothed points sit at cell centres, half-integer indices.
/// assert!(mesh.vertices.iter().flatten().all(|x| x.fract().abs() == 0.5));
/// ```
pub fn surface_nets_with(mask: &Mask, frame: &Frame, options: &SurfaceNetsOptions) -> Mesh {
    let nets = Nets::build(mask, frame);
    let volumes = (options.smoothing && options.keep_volume)
        .then(|| Volumes::new(&nets.points64, &nets.quads, frame, constraint_radius(frame)));
    let per_step = volumes.as_ref();
    let mut vertices: Vec<[f64; 3]> = match (options.precision, options.smoothing) {
        (Precision::F32, true) => {
            smooth(&nets.points, &nets, frame, per_step).iter().map(|p| p.map(f64::from)).collect()
        }
        (Precision::F32, false) => nets.points.iter().map(|p| p.map(f64::from)).collect(),
        (Precision::F64, true) => smooth(&nets.points64, &nets, frame, per_step),
        (Precision::F64, false) => nets.points64.clone(),
    };
    if let Some(v) = &volumes {
        v.restore(&mut vertices, &nets.quads, &mut Vec::new(), true);
    }
    let triangles = match (options.split, options.precision) {
        (QuadSplit::MinEdge, Precision::F32) => {
            let points: Vec<[f32; 3]> = vertices.iter().map(|p| p.map(|v| v as f32)).collect();
            triangulate(&points, &nets.quads, distance2_f32)
        }
        (QuadSplit::MinEdge, Precision::F64) => triangulate(&vertices, &nets.quads, distance2_f64),
        (QuadSplit::Centre, _) => split_at_centres(&mut vertices, &nets.quads),
    };
    Mesh { vertices, triangles }
}

/// Four triangles per quad `[q0, q1, q2, q3]` around its centre `c`: `(q0, q1, c), (q1, q2, c), (q2, q3, c),
/// (q3, q0, c)`, which keeps the quad's winding. The centre is appended to `vertices`.
fn split_at_centres(vertices: &mut Vec<[f64; 3]>, quads: &[[u32; 4]]) -> Vec<[u32; 3]> {
    let mut triangles = Vec::with_capacity(4 * quads.len());
    for q in quads {
        let c = vertices.len() as u32;
        let p = q.map(|v| vertices[v as usize]);
        vertices.push(std::array::from_fn(|r| ((p[0][r] + p[2][r]) + (p[1][r] + p[3][r])) / 4.0));
        for e in 0..4 {
            triangles.push([q[e], q[(e + 1) % 4], c]);
        }
    }
    triangles
}

// ---------------------------------------------------------------------------------------------------------------
// Cell geometry. Corner q of a cell is the voxel at offset (q & 1, q >> 1 & 1, q >> 2 & 1) from its low corner
// (vtkVoxel numbering); edges and faces are numbered as in VTK.

/// The 12 cell edges as corner pairs: x-edges 0..4, y-edges 4..8, z-edges 8..12.
const EDGES: [(u8, u8); 12] =
    [(0, 1), (2, 3), (4, 5), (6, 7), (0, 2), (1, 3), (4, 6), (5, 7), (0, 4), (1, 5), (2, 6), (3, 7)];

/// The two cell faces (0..6 = −x, +x, −y, +y, −z, +z) that contain each edge.
const EDGE_FACES: [(u8, u8); 12] =
    [(2, 4), (3, 4), (2, 5), (3, 5), (0, 4), (1, 4), (0, 5), (1, 5), (0, 2), (1, 2), (0, 3), (1, 3)];

/// A cell that emits no point.
const NONE: u32 = u32::MAX;

/// Edge case (bit e set = edge e intersected) of a corner configuration (bit q set = corner q foreground).
const EDGE_CASE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut cfg = 0;
    while cfg < 256 {
        let mut e = 0;
        while e < 12 {
            if (cfg >> EDGES[e].0 & 1) != (cfg >> EDGES[e].1 & 1) {
                table[cfg] |= 1 << e;
            }
            e += 1;
        }
        cfg += 1;
    }
    table
};

/// The edges whose two corners both belong to a set of corners (the corners inside the mask box).
const EDGES_WITHIN: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut set = 0;
    while set < 256 {
        let mut e = 0;
        while e < 12 {
            if (set >> EDGES[e].0 & 1) == 1 && (set >> EDGES[e].1 & 1) == 1 {
                table[set] |= 1 << e;
            }
            e += 1;
        }
        set += 1;
    }
    table
};

/// The stencil faces (bit f = face f) of an edge case: every face holding an intersected edge, or, when some face
/// holds more than two (a junction, e.g. a checkerboard face), only those faces.
const STENCIL_FACES: [u8; 4096] = {
    let mut table = [0u8; 4096];
    let mut case = 0;
    while case < 4096 {
        let mut count = [0u8; 6];
        let mut e = 0;
        while e < 12 {
            if case >> e & 1 == 1 {
                count[EDGE_FACES[e].0 as usize] += 1;
                count[EDGE_FACES[e].1 as usize] += 1;
            }
            e += 1;
        }
        let mut junction = false;
        let mut f = 0;
        while f < 6 {
            junction |= count[f] > 2;
            f += 1;
        }
        let mut faces = 0u8;
        f = 0;
        while f < 6 {
            if (junction && count[f] > 2) || (!junction && count[f] > 0) {
                faces |= 1 << f;
            }
            f += 1;
        }
        table[case] = faces;
        case += 1;
    }
    table
};

/// How VTK 9.7 splits the point of an interior cell with a non-manifold configuration (binary masks).
#[derive(Debug, Clone, Copy)]
struct Split {
    /// Number of groups; 0 for a manifold configuration (one point).
    groups: u8,
    /// The group of each intersected edge.
    edge_group: [u8; 12],
    /// The intersected edges of each group (its sub edge case).
    sub_cases: [u16; 4],
}

/// Labels of the face-connected components of a set of corners: each member gets the smallest corner of its
/// component, non-members `u8::MAX`.
const fn component_labels(set: u8) -> [u8; 8] {
    let mut label = [u8::MAX; 8];
    let mut q = 0;
    while q < 8 {
        if set >> q & 1 == 1 {
            label[q] = q as u8;
        }
        q += 1;
    }
    // The cube's adjacency is its 12 edges; 8 sweeps propagate any minimum across a component.
    let mut sweep = 0;
    while sweep < 8 {
        let mut e = 0;
        while e < 12 {
            let (u, v) = (EDGES[e].0 as usize, EDGES[e].1 as usize);
            if label[u] != u8::MAX && label[v] != u8::MAX {
                let m = if label[u] < label[v] { label[u] } else { label[v] };
                label[u] = m;
                label[v] = m;
            }
            e += 1;
        }
        sweep += 1;
    }
    label
}

/// Number of components (distinct labels) of a labelling, and the rank of a label among them.
const fn component_rank(label: &[u8; 8], of: u8) -> (u8, u8) {
    let (mut count, mut rank) = (0u8, 0u8);
    let mut q = 0;
    while q < 8 {
        if label[q] == q as u8 {
            count += 1;
            if (q as u8) < of {
                rank += 1;
            }
        }
        q += 1;
    }
    (count, rank)
}

/// The split of every corner configuration of an interior cell. A configuration is non-manifold when its
/// foreground corners A or its background corners B form more than one face-connected component; the groups are
/// the components of A when A has 2 or 3 corners in exactly 2 components, otherwise the components of B, ordered
/// by their smallest corner.
const SPLITS: [Split; 256] = {
    let mut table = [Split { groups: 0, edge_group: [0; 12], sub_cases: [0; 4] }; 256];
    let mut cfg = 0;
    while cfg < 256 {
        let fg = cfg as u8;
        let (labels_fg, labels_bg) = (component_labels(fg), component_labels(!fg));
        let (n_fg, _) = component_rank(&labels_fg, 0);
        let (n_bg, _) = component_rank(&labels_bg, 0);
        if n_fg > 1 || n_bg > 1 {
            let size_fg = fg.count_ones();
            let (set, labels, groups) = if (size_fg == 2 || size_fg == 3) && n_fg == 2 {
                (fg, labels_fg, n_fg)
            } else {
                (!fg, labels_bg, n_bg)
            };
            let mut split = Split { groups, edge_group: [0; 12], sub_cases: [0; 4] };
            let case = EDGE_CASE[cfg];
            let mut e = 0;
            while e < 12 {
                if case >> e & 1 == 1 {
                    // Exactly one end of an intersected edge is in `set`.
                    let (u, v) = EDGES[e];
                    let end = if set >> u & 1 == 1 { u } else { v };
                    let (_, group) = component_rank(&labels, labels[end as usize]);
                    split.edge_group[e] = group;
                    split.sub_cases[group as usize] |= 1 << e;
                }
                e += 1;
            }
            table[cfg] = split;
        }
        cfg += 1;
    }
    table
};

/// Spreads a 4-bit column (bit t = voxel at dy = t & 1, dz = t >> 1) onto the even corner bits (bit 2t).
const SPREAD: [u8; 16] = {
    let mut table = [0u8; 16];
    let mut n = 0;
    while n < 16 {
        let mut t = 0;
        while t < 4 {
            if n >> t & 1 == 1 {
                table[n] |= 1 << (2 * t);
            }
            t += 1;
        }
        n += 1;
    }
    table
};

/// Corners inside the box along one axis for a cell at index `a` of `0..=n`: only the high corners for the first
/// cell, only the low ones for the last. `high` and `low` are the corner masks of the two sides of that axis.
#[inline]
fn valid_corners(a: usize, n: usize, high: u8, low: u8) -> u8 {
    if a == 0 {
        high
    } else if a == n {
        low
    } else {
        0xFF
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The nets: points, stencils and quads before smoothing.

/// VTK's SurfaceNets before smoothing: world points (f32), smoothing stencils and quads, in VTK's order.
#[derive(Debug, Clone, Default)]
struct Nets {
    /// Point positions in world space, float32 as VTK stores them.
    points: Vec<[f32; 3]>,
    /// The same positions in f64 (no float32 rounding).
    points64: Vec<[f64; 3]>,
    /// The stencil of point `i` is `stencil_ids[stencil_offsets[i]..stencil_offsets[i + 1]]`.
    stencil_offsets: Vec<usize>,
    /// Concatenated stencils (point ids).
    stencil_ids: Vec<u32>,
    /// Quads as point ids, wound so their normal points towards the background.
    quads: Vec<[u32; 4]>,
}

/// A point-emitting cell of a slice, kept until the next slice is classified (its stencils need it).
#[derive(Debug, Clone, Copy)]
struct Cell {
    /// `a + (nx + 1) · b` within its slice.
    pos: usize,
    /// Its edge case.
    case: u16,
    /// Its corner configuration when it is split (non-manifold), else 0.
    split: u8,
}

impl Nets {
    /// Classifies every cell in one pass, z slice by z slice, keeping three slices of cell state.
    fn build(mask: &Mask, frame: &Frame) -> Nets {
        let [nx, ny, nz] = mask.dims();
        let voxels = mask.voxels();
        let mut nets = Nets { stencil_offsets: vec![0], ..Nets::default() };
        if voxels.is_empty() || voxels.len() != nx * ny * nz {
            return nets;
        }
        // Index-to-world matrix M = D · diag(spacing) | origin.
        let d = &frame.direction;
        let s = frame.spacing;
        let m: [[f64; 4]; 3] =
            std::array::from_fn(|r| [d[r][0] * s[0], d[r][1] * s[1], d[r][2] * s[2], frame.origin[r]]);

        let (cx, cy) = (nx + 1, ny + 1);
        let slice_len = cx * cy;
        // Per cell of the last three slices (slot = slice % 3): the id of its last point (the anchor), and its
        // split configuration.
        let mut anchor = vec![NONE; 3 * slice_len];
        let mut split_of = vec![0u8; 3 * slice_len];
        let mut previous: Vec<Cell> = Vec::new();
        let mut current: Vec<Cell> = Vec::new();
        let zeros = vec![false; nx];
        let mut cols = vec![0u8; nx + 2];
        // Cell rows between four empty voxel rows emit nothing: skipping them makes the pass cost in proportion
        // to the rows the mask touches, not to its box.
        let occupied = mask.occupied_rows();
        let occupied =
            |y: usize, z: usize| y > 0 && z > 0 && y <= ny && z <= nz && occupied[(y - 1) + ny * (z - 1)];
        let row = |y: usize, z: usize| -> &[bool] {
            // `y`, `z` are voxel index + 1, so that 0 is the row before the box.
            if y == 0 || z == 0 || y > ny || z > nz {
                return &zeros;
            }
            let start = nx * ((y - 1) + ny * (z - 1));
            &voxels[start..start + nx]
        };

        for c in 0..=nz + 1 {
            let slot = (c % 3) * slice_len;
            if c > nz {
                // A virtual slice beyond the last: no cell, so that the last slice's stencils read no stale data.
                anchor[slot..slot + slice_len].fill(NONE);
            } else {
                let below = ((c + 2) % 3) * slice_len;
                let z_valid = valid_corners(c, nz, 0xF0, 0x0F);
                for b in 0..=ny {
                    // No point yet; the cells below that emit one set theirs.
                    anchor[slot + cx * b..slot + cx * (b + 1)].fill(NONE);
                    if !(occupied(b, c) || occupied(b + 1, c) || occupied(b, c + 1) || occupied(b + 1, c + 1))
                    {
                        continue;
                    }
                    let rows = [row(b, c), row(b + 1, c), row(b, c + 1), row(b + 1, c + 1)];
                    let yz_valid = z_valid & valid_corners(b, ny, 0xCC, 0x33);
                    // The four voxels of each x column (bit per row), with an empty column on each side: cell `a`
                    // sits between columns `a − 1` and `a`, i.e. `cols[a]` and `cols[a + 1]`. Built in one
                    // vectorised pass; only cells between two columns that differ or are mixed can emit.
                    for (a, col) in cols[1..=nx].iter_mut().enumerate() {
                        *col = u8::from(rows[0][a])
                            | u8::from(rows[1][a]) << 1
                            | u8::from(rows[2][a]) << 2
                            | u8::from(rows[3][a]) << 3;
                    }
                    for block in (0..=nx).step_by(64) {
                        let end = (block + 64).min(nx + 1);
                        // Bit i: cell block + i is neither all background nor all foreground.
                        let mut live = cols[block..end]
                            .iter()
                            .zip(&cols[block + 1..=end])
                            .enumerate()
                            .fold(0u64, |m, (i, (&lo, &hi))| {
                                m | u64::from(lo != hi || (lo != 0 && lo != 15)) << i
                            });
                        while live != 0 {
                            let a = block + live.trailing_zeros() as usize;
                            live &= live - 1;
                            let (low_column, high_column) = (usize::from(cols[a]), usize::from(cols[a + 1]));
                            let cfg = SPREAD[low_column] | SPREAD[high_column] << 1;
                            let here = a + cx * b;
                            let valid = yz_valid & valid_corners(a, nx, 0xAA, 0x55);
                            let case = EDGE_CASE[usize::from(cfg)] & EDGES_WITHIN[usize::from(valid)];
                            if case == 0 {
                                continue;
                            }
                            // Only interior cells are split (cells with a corner outside the box stay manifold).
                            let split =
                                if valid == 0xFF && SPLITS[usize::from(cfg)].groups > 0 { cfg } else { 0 };
                            let count = 1 + u32::from(SPLITS[usize::from(split)].groups);
                            let position = world_point(&m, [a, b, c]);
                            let position64 = world_point_f64(&m, [a, b, c]);
                            let base = nets.points.len() as u32;
                            for _ in 0..count {
                                nets.points.push(position);
                                nets.points64.push(position64);
                            }
                            anchor[slot + here] = base + count - 1;
                            split_of[slot + here] = split;
                            current.push(Cell { pos: here, case, split });

                            // Quads around the intersected voxel edges leaving voxel (a − 1, b − 1, c − 1), i.e. this
                            // cell's edges 8 (z), 4 (y) and 0 (x). Corners come from cells already classified.
                            let id = |cell: usize, edge: usize| {
                                let split = SPLITS[usize::from(split_of[cell])];
                                anchor[cell] - u32::from(split.groups) + u32::from(split.edge_group[edge])
                            };
                            let me = slot + here;
                            let background = cfg & 1 == 0;
                            let mut push = |mut q: [u32; 4]| {
                                if background {
                                    q.swap(1, 3);
                                }
                                nets.quads.push(q);
                            };
                            if case >> 8 & 1 == 1 {
                                push([id(me, 8), id(me - 1, 9), id(me - 1 - cx, 11), id(me - cx, 10)]);
                            }
                            if case >> 4 & 1 == 1 {
                                push([
                                    id(me, 4),
                                    id(below + here, 6),
                                    id(below + here - 1, 7),
                                    id(me - 1, 5),
                                ]);
                            }
                            if case & 1 == 1 {
                                push([
                                    id(me, 0),
                                    id(me - cx, 1),
                                    id(below + here - cx, 3),
                                    id(below + here, 2),
                                ]);
                            }
                        }
                    }
                }
            }
            if c > 0 {
                // Every neighbour of slice c − 1 is now known.
                let [lo, mid, hi] = [(c + 1) % 3, (c + 2) % 3, c % 3].map(|k| k * slice_len);
                nets.push_stencils(&previous, &anchor, [lo, mid, hi], cx);
            }
            std::mem::swap(&mut previous, &mut current);
            current.clear();
        }
        nets
    }

    /// Appends the stencils of the points of one slice's cells. `slots` are the offsets of the slices below,
    /// at and above them in `anchor`.
    fn push_stencils(&mut self, cells: &[Cell], anchor: &[u32], [lo, mid, hi]: [usize; 3], cx: usize) {
        for cell in cells {
            let split = SPLITS[usize::from(cell.split)];
            let groups = usize::from(split.groups);
            let first = anchor[mid + cell.pos] - u32::from(split.groups);
            // The sub edge cases of the groups, then the anchor with the full edge case.
            let mut cases = [0u16; 5];
            cases[..groups].copy_from_slice(&split.sub_cases[..groups]);
            cases[groups] = cell.case;
            let cases = &cases[..=groups];
            let total: u32 = cases.iter().map(|&k| STENCIL_FACES[usize::from(k)].count_ones()).sum();
            for &k in cases {
                if total == 1 {
                    // A single stencil face: VTK locks the point.
                    self.stencil_ids.push(first);
                } else {
                    let faces = STENCIL_FACES[usize::from(k)];
                    // Face neighbours in the order -x, +x, -y, +y, -z, +z. A marked face holds an intersected
                    // edge, whose voxels are in the box: the neighbour exists and emits a point.
                    let p = mid + cell.pos;
                    for f in 0..6 {
                        if faces >> f & 1 == 1 {
                            let n = match f {
                                0 => p - 1,
                                1 => p + 1,
                                2 => p - cx,
                                3 => p + cx,
                                4 => lo + cell.pos,
                                _ => hi + cell.pos,
                            };
                            debug_assert_ne!(anchor[n], NONE, "stencil neighbour without a point");
                            self.stencil_ids.push(anchor[n]);
                        }
                    }
                }
                self.stencil_offsets.push(self.stencil_ids.len());
            }
        }
    }
}

/// The world position of the centre of cell `(a, b, c)` (index `a − ½, b − ½, c − ½`), as VTK computes it:
/// `f32(M[r][0]·p0 + M[r][1]·p1 + M[r][2]·p2 + M[r][3])` in f64, left to right.
#[inline]
/// [`world_point`] without the float32 rounding.
fn world_point_f64(m: &[[f64; 4]; 3], cell: [usize; 3]) -> [f64; 3] {
    let p = cell.map(|a| a as f64 - 0.5);
    std::array::from_fn(|r| m[r][0] * p[0] + m[r][1] * p[1] + m[r][2] * p[2] + m[r][3])
}

fn world_point(m: &[[f64; 4]; 3], cell: [usize; 3]) -> [f32; 3] {
    // VTK stores the index-space point as float32 first (exact below 2^23 cells per axis).
    let p = cell.map(|a| f64::from((a as f64 - 0.5) as f32));
    std::array::from_fn(|r| (m[r][0] * p[0] + m[r][1] * p[1] + m[r][2] * p[2] + m[r][3]) as f32)
}

// ---------------------------------------------------------------------------------------------------------------
// Smoothing and triangulation.

/// Number of smoothing iterations vtkSurfaceNets3D sets.
const ITERATIONS: usize = 16;
/// The smoother's relaxation factor.
const RELAXATION: f64 = 0.5;
/// The smoother's constraint scale (automatic constraints: radius = |spacing| / 2 · scale).
const CONSTRAINT_SCALE: f64 = 2.0;

/// The smoother's constraint radius, `|spacing| / 2 · scale` (VTK's automatic constraint).
fn constraint_radius(frame: &Frame) -> f64 {
    let s = frame.spacing;
    ((s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt() / 2.0) * CONSTRAINT_SCALE
}

/// Point storage of the smoothers (3D here, 2D in `contour_nets`): VTK's float32, or f64.
pub(crate) trait Coord: Copy {
    fn widen(self) -> f64;
    fn narrow(v: f64) -> Self;
    /// Runs `f` on the points in f64: in place for f64 storage, through `wide` (and back) for float32.
    fn in_f64(points: &mut [[Self; 3]], wide: &mut Vec<[f64; 3]>, f: impl FnOnce(&mut [[f64; 3]]));
}

impl Coord for f32 {
    fn widen(self) -> f64 {
        f64::from(self)
    }
    fn narrow(v: f64) -> f32 {
        v as f32
    }
    fn in_f64(points: &mut [[f32; 3]], wide: &mut Vec<[f64; 3]>, f: impl FnOnce(&mut [[f64; 3]])) {
        wide.clear();
        wide.extend(points.iter().map(|p| p.map(f64::from)));
        f(wide);
        for (c, w) in points.iter_mut().zip(wide.iter()) {
            *c = w.map(|v| v as f32);
        }
    }
}

impl Coord for f64 {
    fn widen(self) -> f64 {
        self
    }
    fn narrow(v: f64) -> f64 {
        v
    }
    fn in_f64(points: &mut [[f64; 3]], _: &mut Vec<[f64; 3]>, f: impl FnOnce(&mut [[f64; 3]])) {
        f(points);
    }
}

/// vtkConstrainedSmoothingFilter with vtkSurfaceNets3D's defaults: Jacobi iterations, f64 arithmetic and
/// storage in `T` (f32 as VTK), each point held within a sphere of radius |spacing| around its start.
///
/// The points are visited grouped by the length of their stencil (1 to 6 face neighbours), so that the loops over a
/// stencil run the same number of times for a whole group: visited in the mesher's order, the lengths vary from
/// one point to the next and their loops' branches were mispredicted about once per point and iteration. The order
/// of visits does not change any value: each iteration reads only the previous one.
fn smooth<T: Coord>(start: &[[T; 3]], nets: &Nets, frame: &Frame, volumes: Option<&Volumes>) -> Vec<[T; 3]> {
    let radius = constraint_radius(frame);
    let r2 = radius * radius;
    let groups = StencilGroups::new(nets);
    let mut wide: Vec<[f64; 3]> = Vec::new();
    let mut normals = Vec::new();
    let mut current = start.to_vec();
    let mut next = start.to_vec();
    for _ in 0..ITERATIONS {
        // Whether any point moved: VTK's test, the largest move's length ≤ 0 (with Convergence = 0), holds
        // exactly when every point stayed put (coordinates of mm scale: a move's square never underflows).
        let mut moved = false;
        for (len, points) in groups.iter() {
            let sweep = Sweep { nets, start, current: &current, r2 };
            moved |= match len {
                3 => sweep.run::<3>(points, &mut next),
                4 => sweep.run::<4>(points, &mut next),
                5 => sweep.run::<5>(points, &mut next),
                6 => sweep.run::<6>(points, &mut next),
                _ => sweep.run_any(points, &mut next),
            };
        }
        std::mem::swap(&mut current, &mut next);
        if let Some(v) = volumes {
            T::in_f64(&mut current, &mut wide, |points| v.restore(points, &nets.quads, &mut normals, false));
        }
        // VTK's convergence test with Convergence = 0: nothing moved, so the state is a fixed point.
        if !moved {
            break;
        }
    }
    current
}

/// The points of a mesh grouped by the length of their stencil: `points[ranges[k]..ranges[k + 1]]` are those of
/// length `k`, in increasing order (a counting sort).
struct StencilGroups {
    points: Vec<u32>,
    ranges: Vec<usize>,
}

impl StencilGroups {
    fn new(nets: &Nets) -> StencilGroups {
        let offsets = &nets.stencil_offsets;
        let len = |i: usize| offsets[i + 1] - offsets[i];
        let n = offsets.len() - 1;
        let longest = (0..n).map(len).max().unwrap_or(0);
        let mut ranges = vec![0usize; longest + 2];
        for i in 0..n {
            ranges[len(i) + 1] += 1;
        }
        for k in 1..ranges.len() {
            ranges[k] += ranges[k - 1];
        }
        let mut fill = ranges.clone();
        let mut points = vec![0u32; n];
        for i in 0..n {
            let slot = &mut fill[len(i)];
            points[*slot] = i as u32;
            *slot += 1;
        }
        StencilGroups { points, ranges }
    }

    /// Each non-empty group: its stencil length and its points.
    fn iter(&self) -> impl Iterator<Item = (usize, &[u32])> {
        (0..self.ranges.len() - 1)
            .map(|k| (k, &self.points[self.ranges[k]..self.ranges[k + 1]]))
            .filter(|(_, g)| !g.is_empty())
    }
}

/// One smoothing iteration's inputs.
struct Sweep<'a, T> {
    nets: &'a Nets,
    start: &'a [[T; 3]],
    current: &'a [[T; 3]],
    r2: f64,
}

impl<T: Coord> Sweep<'_, T> {
    /// The new positions of `points`, whose stencils all have `N` points, into `next`; whether any moved.
    #[inline]
    fn run<const N: usize>(&self, points: &[u32], next: &mut [[T; 3]]) -> bool {
        let (offsets, ids) = (&self.nets.stencil_offsets, &self.nets.stencil_ids);
        let mut moved = false;
        for &i in points {
            let i = i as usize;
            let at = offsets[i];
            // A slice of known length: the loops over it unroll.
            moved |= self.relax(i, &ids[at..at + N], next);
        }
        moved
    }

    /// [`Sweep::run`] for stencils of any one length.
    fn run_any(&self, points: &[u32], next: &mut [[T; 3]]) -> bool {
        let (offsets, ids) = (&self.nets.stencil_offsets, &self.nets.stencil_ids);
        let mut moved = false;
        for &i in points {
            let i = i as usize;
            moved |= self.relax(i, &ids[offsets[i]..offsets[i + 1]], next);
        }
        moved
    }

    /// Moves point `i` half-way to the mean of its stencil, held within the constraint sphere around its start;
    /// whether it moved.
    #[inline(always)]
    fn relax(&self, i: usize, stencil: &[u32], next: &mut [[T; 3]]) -> bool {
        let mut sum = [0.0f64; 3];
        for &j in stencil {
            let q = self.current[j as usize];
            sum[0] += q[0].widen();
            sum[1] += q[1].widen();
            sum[2] += q[2].widen();
        }
        let n = stencil.len() as f64;
        // Dividing by a power of two is multiplying by its exact reciprocal, bit for bit; most stencils have
        // four points, so most divisions (the loop's slowest step) go.
        let mean: [f64; 3] = if stencil.len().is_power_of_two() {
            let inv = 1.0 / n;
            sum.map(|v| v * inv)
        } else {
            sum.map(|v| v / n)
        };
        let t = self.current[i].map(T::widen);
        let mut x: [f64; 3] = std::array::from_fn(|r| t[r] + RELAXATION * (mean[r] - t[r]));
        let o = self.start[i].map(T::widen);
        let d2 =
            (x[0] - o[0]) * (x[0] - o[0]) + (x[1] - o[1]) * (x[1] - o[1]) + (x[2] - o[2]) * (x[2] - o[2]);
        if d2 > self.r2 {
            let f = (self.r2 / d2).sqrt();
            x = std::array::from_fn(|r| o[r] + f * (x[r] - o[r]));
        }
        next[i] = x.map(T::narrow);
        x != t
    }
}

/// Squared distance in f64 (for [`Precision::F64`]).
#[inline]
fn distance2_f64(p: [f64; 3], q: [f64; 3]) -> f64 {
    let d = [p[0] - q[0], p[1] - q[1], p[2] - q[2]];
    (d[0] * d[0] + d[1] * d[1]) + d[2] * d[2]
}

/// Squared distance in float32, `(dx² + dy²) + dz²` with every step rounded, as VTK's float overload.
#[inline]
fn distance2_f32(p: [f32; 3], q: [f32; 3]) -> f32 {
    let (dx, dy, dz) = (p[0] - q[0], p[1] - q[1], p[2] - q[2]);
    dx * dx + dy * dy + dz * dz
}

/// Two triangles per quad along the shorter diagonal (VTK's MIN_EDGE; a tie takes the 1–3 diagonal).
fn triangulate<T: Copy, D: PartialOrd>(
    points: &[T],
    quads: &[[u32; 4]],
    dist2: fn(T, T) -> D,
) -> Vec<[u32; 3]> {
    let mut triangles = Vec::with_capacity(2 * quads.len());
    for &[q0, q1, q2, q3] in quads {
        let x = |i: u32| points[i as usize];
        if dist2(x(q0), x(q2)) < dist2(x(q1), x(q3)) {
            triangles.push([q0, q2, q3]);
            triangles.push([q2, q0, q1]);
        } else {
            triangles.push([q1, q3, q0]);
            triangles.push([q3, q1, q2]);
        }
    }
    triangles
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn unit() -> Frame {
        Frame::scaled([1.0; 3])
    }

    fn cube3() -> Mask {
        Mask::from_fn([7, 7, 7], |i, j, k| [i, j, k].iter().all(|x| (2..5).contains(x)))
    }

    fn stencil(nets: &Nets, i: usize) -> &[u32] {
        &nets.stencil_ids[nets.stencil_offsets[i]..nets.stencil_offsets[i + 1]]
    }

    #[test]
    fn tables_match_their_definitions() {
        // A single foreground corner: its three edges, no split.
        assert_eq!(EDGE_CASE[1], 1 << 0 | 1 << 4 | 1 << 8);
        assert_eq!(SPLITS[1].groups, 0);
        // Two foreground corners on a face diagonal (0 and 3): split into the two corners.
        let s = SPLITS[0b1001];
        assert_eq!(s.groups, 2);
        assert_eq!(s.sub_cases[0], 1 << 0 | 1 << 4 | 1 << 8);
        assert_eq!(s.sub_cases[1], 1 << 1 | 1 << 5 | 1 << 11);
        // Checkerboard: four groups of background corners 1, 2, 4, 7.
        let s = SPLITS[0b0110_1001];
        assert_eq!(s.groups, 4);
        assert_eq!(s.sub_cases.iter().fold(0, |a, &k| a | k), 0xFFF);
        // A face-connected half is manifold; the stencil of a flat square uses its four side faces.
        assert_eq!(SPLITS[0x0F].groups, 0);
        assert_eq!(STENCIL_FACES[usize::from(EDGE_CASE[0x0F])], 0b1111);
        // A checkerboard face (4 edges on -z) is a junction: only that face.
        assert_eq!(STENCIL_FACES[0b0011_0011], 1 << 4);
        // Every split group has edges, and the groups partition the edge case.
        for cfg in 0..256 {
            let s = SPLITS[cfg];
            let subs = &s.sub_cases[..usize::from(s.groups)];
            assert!(subs.iter().all(|&k| k != 0), "cfg {cfg}");
            if s.groups > 0 {
                assert_eq!(subs.iter().fold(0, |a, &k| a | k), EDGE_CASE[cfg], "cfg {cfg}");
            }
        }
    }

    #[test]
    #[allow(clippy::excessive_precision, reason = "the spec's 9-digit values name each f32 exactly")]
    fn cube3_worked_example() {
        let nets = Nets::build(&cube3(), &unit());
        assert_eq!((nets.points.len(), nets.quads.len()), (56, 54));
        assert_eq!(nets.points[0], [1.5, 1.5, 1.5]);
        assert_eq!(nets.points[1], [2.5, 1.5, 1.5]);
        assert_eq!(nets.points[5], [2.5, 2.5, 1.5]);
        assert_eq!(nets.points[21], [4.5, 2.5, 2.5]);
        assert_eq!(stencil(&nets, 0), [1, 4, 16]);
        assert_eq!(stencil(&nets, 1), [0, 2, 5, 17]);
        assert_eq!(stencil(&nets, 2), [1, 3, 6, 18]);
        assert_eq!(stencil(&nets, 5), [4, 6, 1, 9]);
        assert_eq!(stencil(&nets, 21), [19, 23, 7, 33]);
        assert_eq!(nets.quads[..2], [[5, 1, 0, 4], [6, 2, 1, 5]]);

        let smoothed = smooth(&nets.points, &nets, &unit(), None);
        // The corner moves to the sphere of radius sqrt(3) around its start.
        assert_eq!(smoothed[0], [2.5, 2.5, 2.5]);
        assert_eq!(smoothed[1], [2.797_445_06, 2.442_976_95, 2.442_976_95]);
        assert_eq!(smoothed[2], [3.202_554_94, 2.442_976_95, 2.442_976_95]);
        assert_eq!(smoothed[5], [2.786_159_99, 2.786_159_99, 2.284_808_16]);
        assert_eq!(smoothed[21], [3.715_191_84, 2.786_159_99, 2.786_159_99]);

        let triangles = triangulate(&smoothed, &nets.quads, distance2_f32);
        assert_eq!(triangles.len(), 108);
        assert_eq!(triangles[..4], [[5, 0, 4], [0, 5, 1], [2, 5, 6], [5, 2, 1]]);
    }

    #[test]
    fn empty_full_and_degenerate_masks_give_empty_meshes() {
        for mask in [
            Mask::from_fn([4, 5, 6], |_, _, _| false),
            Mask::from_fn([4, 5, 6], |_, _, _| true),
            Mask::from_fn([1, 1, 1], |_, _, _| true),
            Mask::from_fn([0, 3, 3], |_, _, _| true),
        ] {
            assert!(surface_nets(&mask, &unit()).vertices.is_empty());
        }
    }

    #[test]
    fn random_masks_are_well_formed() {
        // Border-touching, thin and noisy masks: every stencil and quad refers to an existing point, every point
        // has a stencil, and each intersected voxel edge gives one quad.
        let mut state = 0x1234_5678_9ABC_DEF0u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for dims in [[1, 1, 5], [2, 3, 1], [5, 4, 3], [9, 7, 8], [1, 9, 9]] {
            for density in [8u64, 32, 56] {
                let voxels: Vec<bool> =
                    (0..dims.iter().product::<usize>()).map(|_| next() % 64 < density).collect();
                let mask = Mask::new(dims, voxels).unwrap();
                let nets = Nets::build(&mask, &unit());
                let n = nets.points.len();
                assert_eq!(nets.stencil_offsets.len(), n + 1);
                assert!(nets.stencil_ids.iter().all(|&i| (i as usize) < n));
                assert!((0..n).all(|i| !stencil(&nets, i).is_empty()));
                assert!(nets.quads.iter().flatten().all(|&i| (i as usize) < n));
                let [nx, ny, nz] = dims.map(|d| d as isize);
                let mut edges = 0;
                for k in 0..nz {
                    for j in 0..ny {
                        for i in 0..nx {
                            let v = mask.get(i, j, k);
                            edges += usize::from(i + 1 < nx && v != mask.get(i + 1, j, k));
                            edges += usize::from(j + 1 < ny && v != mask.get(i, j + 1, k));
                            edges += usize::from(k + 1 < nz && v != mask.get(i, j, k + 1));
                        }
                    }
                }
                assert_eq!(nets.quads.len(), edges);
                // The smoother's groups hold every point once, each with the stencil length of its group, in
                // increasing order within it.
                let groups = StencilGroups::new(&nets);
                let mut seen = vec![false; n];
                for (len, points) in groups.iter() {
                    assert!(points.windows(2).all(|w| w[0] < w[1]));
                    for &i in points {
                        assert_eq!(stencil(&nets, i as usize).len(), len);
                        assert!(!std::mem::replace(&mut seen[i as usize], true));
                    }
                }
                assert!(seen.iter().all(|&s| s));
                let mesh = surface_nets(&mask, &Frame::scaled([0.7, 1.1, 2.3]));
                assert!(mesh.vertices.iter().flatten().all(|x| x.is_finite()));
            }
        }
    }

    /// The golden files: unsmoothed points, quads and stencils (the integration test checks the smoothed
    /// points and the triangles through the public API).
    #[test]
    fn golden_unsmoothed_points_quads_and_stencils() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/surfacenets_golden/");
        // Every golden file (the integration test asserts which must be there).
        let mut cases: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".vtk9.7.2.json").map(str::to_string))
            .collect();
        cases.sort();
        for case in cases {
            let text = std::fs::read_to_string(format!("{dir}{case}.vtk9.7.2.json")).unwrap();
            let json: Value = serde_json::from_str(&text).unwrap();
            let f64s = |v: &Value| -> Vec<f64> {
                v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
            };
            let u32s = |v: &Value| -> Vec<u32> {
                v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
            };
            let shape = f64s(&json["mask_shape"]);
            let dims = [0, 1, 2].map(|a| shape[a] as usize);
            let ones: Vec<[usize; 3]> = json["mask_ones"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    let v = f64s(v);
                    [v[0] as usize, v[1] as usize, v[2] as usize]
                })
                .collect();
            let mask = Mask::from_fn(dims, |i, j, k| ones.contains(&[i, j, k]));
            let v3 = |v: &Value| {
                let v = f64s(v);
                [v[0], v[1], v[2]]
            };
            let direction = json["direction"].as_array().unwrap();
            let frame = Frame {
                spacing: v3(&json["spacing"]),
                origin: v3(&json["origin"]),
                direction: [v3(&direction[0]), v3(&direction[1]), v3(&direction[2])],
            };
            let nets = Nets::build(&mask, &frame);
            let points: Vec<[f32; 3]> = json["points_unsmoothed"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| v3(p).map(|x| x as f32))
                .collect();
            assert_eq!(nets.points, points, "{case}: unsmoothed points");
            let quads: Vec<Vec<u32>> =
                json["quads_unsmoothed"].as_array().unwrap().iter().map(u32s).collect();
            let ours: Vec<Vec<u32>> = nets.quads.iter().map(|q| q.to_vec()).collect();
            assert_eq!(ours, quads, "{case}: quads");
            let stencils: Vec<Vec<u32>> = json["stencils"].as_array().unwrap().iter().map(u32s).collect();
            let ours: Vec<Vec<u32>> = (0..nets.points.len()).map(|i| stencil(&nets, i).to_vec()).collect();
            assert_eq!(ours, stencils, "{case}: stencils");
        }
    }
}
