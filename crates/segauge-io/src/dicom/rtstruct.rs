//! RTSTRUCT: `CLOSED_PLANAR` contours of every ROI rasterised onto a reference geometry (an image series, or the
//! grid of any volume on the same frame of reference, such as the prediction).
//!
//! - Slices are matched by position along the normal ([`SliceGeometry::slice_containing`], with its tolerance),
//!   never through the optional `ContourImageSequence` UIDs; a contour whose plane is no slice of the geometry is
//!   dropped with a note (its image is absent from the series).
//! - `POINT`, `OPEN_PLANAR` and `OPEN_NONPLANAR` contours, and ROIs without contours, are skipped with a note.
//! - All contours of one ROI on one slice are filled together by the even-odd rule (nested = hole, disjoint =
//!   union); a voxel is in when its centre is inside or on a contour (see the `contour` module for why).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dicom_dictionary_std::tags;

use super::contour::rasterize;
use super::geometry::{dot, sub};
use super::{Extent, SliceGeometry, invalid, items, list, open, opt_f64s, opt_str, opt_u32, quote};
use crate::Error;
use crate::volume::{Grid, LabelVolume, Labels};

/// One region of interest, rasterised.
#[derive(Debug, Clone, PartialEq)]
pub struct Roi {
    /// `ROINumber`.
    pub number: u32,
    /// `ROIName`.
    pub name: String,
    /// The voxels on the geometry's grid, `i + columns · (j + rows · k)`; empty (no voxel) when no closed contour
    /// of the ROI lies on the grid, so that ROIs without contours cost no memory.
    pub mask: Vec<bool>,
    /// `CLOSED_PLANAR` contours rasterised.
    pub contours: usize,
}

impl Roi {
    /// Number of voxels in the ROI.
    pub fn count(&self) -> usize {
        self.mask.iter().filter(|&&v| v).count()
    }
}

/// The ROIs of an RTSTRUCT on a reference geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct RtStruct {
    /// The file read.
    pub source: PathBuf,
    /// The geometry the ROIs were rasterised on.
    pub geometry: SliceGeometry,
    /// Every ROI of `StructureSetROISequence`, by number.
    pub rois: Vec<Roi>,
    /// What was skipped and why (POINT contours, empty ROIs, contours on slices absent from the geometry).
    pub notes: Vec<String>,
}

impl RtStruct {
    /// The ROI named `name` (exact, then case-insensitive).
    pub fn roi(&self, name: &str) -> Option<&Roi> {
        self.rois
            .iter()
            .find(|r| r.name == name)
            .or_else(|| self.rois.iter().find(|r| r.name.eq_ignore_ascii_case(name)))
    }

    /// A label volume on the geometry's grid: `mapping` gives (ROI name, label) pairs; empty, every ROI with
    /// contours becomes label = its ROI number.
    ///
    /// # Errors
    /// [`Error::InvalidHeader`] naming the ROI when a mapped name is absent, or naming both ROIs and the number
    /// of shared voxels when two mapped ROIs overlap (evaluate them in separate runs); the grid's errors
    /// ([`SliceGeometry::grid`]).
    pub fn to_label_volume(&self, mapping: &[(String, u32)]) -> Result<LabelVolume, Error> {
        let grid = self.geometry.grid()?;
        self.labels_on(grid, mapping)
    }

    /// The ROIs `mapping` chooses, with their labels (empty mapping: every ROI with contours, label = its
    /// number).
    pub(crate) fn chosen(&self, mapping: &[(String, u32)]) -> Result<Vec<(&Roi, u32)>, Error> {
        if mapping.is_empty() {
            return Ok(self.rois.iter().filter(|r| r.contours > 0).map(|r| (r, r.number)).collect());
        }
        mapping
            .iter()
            .map(|(name, label)| {
                self.roi(name).map(|r| (r, *label)).ok_or_else(|| {
                    let names: Vec<String> = self.rois.iter().map(|r| quote(&r.name)).collect();
                    invalid(
                        &self.source,
                        format!("no ROI named {} (ROIs: {})", quote(name), list(&names, ", ")),
                    )
                })
            })
            .collect()
    }

    pub(crate) fn labels_on(&self, grid: Grid, mapping: &[(String, u32)]) -> Result<LabelVolume, Error> {
        let chosen = self.chosen(mapping)?;
        let mut labels = vec![0u32; grid.voxel_count()];
        // The index + 1 of the ROI that set each voxel (0: none).
        let mut owner: Vec<u32> = vec![0; labels.len()];
        for (idx, (roi, label)) in chosen.iter().enumerate() {
            if roi.mask.is_empty() {
                continue; // no contour on the grid
            }
            if roi.mask.len() != labels.len() {
                return Err(invalid(&self.source, "ROI mask size differs from the grid".into()));
            }
            let mut shared = 0usize;
            let mut other = None;
            for (v, &inside) in roi.mask.iter().enumerate() {
                if !inside {
                    continue;
                }
                if owner[v] != 0 {
                    let o = owner[v] as usize - 1;
                    if chosen[o].1 != *label {
                        shared += 1;
                        other = Some(o);
                    }
                    continue;
                }
                owner[v] = idx as u32 + 1;
                labels[v] = *label;
            }
            if let Some(o) = other {
                return Err(invalid(
                    &self.source,
                    format!(
                        "ROIs {} and {} overlap in {shared} voxels: a label map cannot hold both (map them to \
                         the same label, or evaluate them in separate runs with --roi)",
                        quote(&chosen[o].0.name),
                        quote(&roi.name)
                    ),
                ));
            }
        }
        LabelVolume::new(grid, Labels::from_u32(labels)).map_err(|e| e.in_file(&self.source))
    }
}

/// Reads an RTSTRUCT and rasterises its ROIs on `geometry`.
///
/// # Errors
/// [`Error::NotFormat`]/[`Error::Truncated`]/[`Error::Unsupported`] from opening the file; [`Error::InvalidHeader`]
/// when it is not an RTSTRUCT, has no `StructureSetROISequence`, or a contour's data are malformed (not triplets,
/// or fewer than `NumberOfContourPoints`). A frame of reference that differs from the geometry's is a note.
pub fn read_rtstruct(path: &Path, geometry: &SliceGeometry) -> Result<RtStruct, Error> {
    let ds = open(path, Extent::All)?;
    if ds.kind(path)? != super::DicomKind::RtStruct {
        return Err(invalid(path, format!("not an RTSTRUCT (SOP class {})", quote(ds.sop_class(path)?))));
    }
    let obj = &ds.obj;
    let structure = items(obj, tags::STRUCTURE_SET_ROI_SEQUENCE);
    if structure.is_empty() {
        return Err(invalid(path, "no StructureSetROISequence (3006,0020): no ROI".into()));
    }
    let mut rois: BTreeMap<u32, (String, Option<String>)> = BTreeMap::new();
    let mut frame_notes = Vec::new();
    for item in structure {
        let number = opt_u32(path, item, tags::ROI_NUMBER)?.ok_or_else(|| {
            invalid(path, "a StructureSetROISequence item has no ROINumber (3006,0022)".into())
        })?;
        let name = opt_str(path, item, tags::ROI_NAME)?.unwrap_or_default();
        let frame = opt_str(path, item, tags::REFERENCED_FRAME_OF_REFERENCE_UID)?.filter(|s| !s.is_empty());
        if let (Some(f), Some(g)) = (&frame, &geometry.frame_of_reference) {
            if f != g {
                // Reported, not refused: test data and some exporters reuse positions across frames of
                // reference; the contours are placed by their coordinates, and the note says so.
                frame_notes.push(format!(
                    "ROI {number} ({}) is on frame of reference {}, the reference geometry {} on {}: contours \
                     placed by their patient coordinates",
                    quote(&name),
                    quote(f),
                    geometry.source.display(),
                    quote(g)
                ));
            }
        }
        rois.insert(number, (name, frame));
    }
    let plane = geometry.columns * geometry.rows;
    let mut notes = frame_notes;
    let mut out: Vec<Roi> = rois
        .iter()
        .map(|(&number, (name, _))| Roi { number, name: name.clone(), mask: Vec::new(), contours: 0 })
        .collect();
    let mut seen: BTreeMap<u32, bool> = BTreeMap::new();
    for item in items(obj, tags::ROI_CONTOUR_SEQUENCE) {
        let Some(number) = opt_u32(path, item, tags::REFERENCED_ROI_NUMBER)? else {
            return Err(invalid(
                path,
                "an ROIContourSequence item has no ReferencedROINumber (3006,0084)".into(),
            ));
        };
        let Some(roi) = out.iter_mut().find(|r| r.number == number) else {
            notes.push(format!(
                "contours of ROI {number}, which StructureSetROISequence does not list, skipped"
            ));
            continue;
        };
        seen.insert(number, true);
        // Contours per slice, in pixel coordinates.
        let mut per_slice: BTreeMap<usize, Vec<Vec<[f64; 2]>>> = BTreeMap::new();
        let (mut skipped_type, mut off_grid) = (BTreeMap::<String, usize>::new(), 0usize);
        for (n, contour) in items(item, tags::CONTOUR_SEQUENCE).iter().enumerate() {
            let kind = opt_str(path, contour, tags::CONTOUR_GEOMETRIC_TYPE)?.unwrap_or_default();
            if kind != "CLOSED_PLANAR" {
                *skipped_type.entry(if kind.is_empty() { "untyped".into() } else { kind }).or_default() += 1;
                continue;
            }
            let data = opt_f64s(path, contour, tags::CONTOUR_DATA)?.unwrap_or_default();
            if data.is_empty() || data.len() % 3 != 0 {
                return Err(invalid(
                    path,
                    format!(
                        "ROI {number} contour {n}: ContourData holds {} values, not x\\y\\z triplets",
                        data.len()
                    ),
                ));
            }
            if let Some(declared) = opt_u32(path, contour, tags::NUMBER_OF_CONTOUR_POINTS)? {
                if declared as usize * 3 > data.len() {
                    return Err(Error::Truncated {
                        path: path.to_path_buf(),
                        detail: format!(
                            "ROI {number} contour {n}: NumberOfContourPoints is {declared}, ContourData has {} points",
                            data.len() / 3
                        ),
                    });
                }
            }
            let points: Vec<[f64; 3]> = data.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
            // The contour's plane: the mean projection of its points on the normal.
            let mean: [f64; 3] =
                std::array::from_fn(|a| points.iter().map(|p| p[a]).sum::<f64>() / points.len() as f64);
            let Some(k) = geometry.slice_containing(mean) else {
                off_grid += 1;
                continue;
            };
            let origin = geometry.positions[k];
            let pixels = points
                .iter()
                .map(|&p| {
                    let d = sub(p, origin);
                    [
                        dot(d, geometry.row_cosine) / geometry.pixel_spacing[1],
                        dot(d, geometry.column_cosine) / geometry.pixel_spacing[0],
                    ]
                })
                .collect();
            per_slice.entry(k).or_default().push(pixels);
            roi.contours += 1;
        }
        if !per_slice.is_empty() && roi.mask.is_empty() {
            roi.mask = vec![false; geometry.voxel_count()];
        }
        for (k, polygons) in &per_slice {
            rasterize(polygons, geometry.columns, geometry.rows, &mut roi.mask[k * plane..(k + 1) * plane]);
        }
        for (kind, count) in skipped_type {
            notes.push(format!(
                "ROI {number} ({}): {count} {} contour(s) skipped (only CLOSED_PLANAR is filled)",
                quote(&roi.name),
                quote(&kind)
            ));
        }
        if off_grid > 0 {
            notes.push(format!(
                "ROI {number} ({}): {off_grid} contour(s) lie on no slice of {} and were dropped",
                quote(&roi.name),
                geometry.source.display()
            ));
        }
    }
    for roi in &out {
        if !seen.contains_key(&roi.number) || roi.contours == 0 {
            notes.push(format!(
                "ROI {} ({}) has no closed planar contour: empty",
                roi.number,
                quote(&roi.name)
            ));
        }
    }
    out.sort_by_key(|r| r.number);
    Ok(RtStruct { source: path.to_path_buf(), geometry: geometry.clone(), rois: out, notes })
}

/// The slice geometry of a segauge grid (RAS) in DICOM patient coordinates (LPS), for rasterising an RTSTRUCT on
/// the grid of another volume; `None` when the grid's third axis runs against the normal of its first two (a
/// left-handed voxel order, which [`SliceGeometry`]'s sorted slices cannot express).
pub(crate) fn geometry_of_grid(grid: &Grid, source: &Path) -> Option<SliceGeometry> {
    let d = grid.direction();
    let lps = |a: usize| [-d[0][a], -d[1][a], d[2][a]];
    let (r, c, s) = (lps(0), lps(1), lps(2));
    let normal = [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]];
    if dot(normal, s) <= 0.0 {
        return None;
    }
    let o = grid.origin();
    let origin = [-o[0], -o[1], o[2]];
    let sp = grid.spacing();
    let dims = grid.dims();
    Some(SliceGeometry {
        source: source.to_path_buf(),
        rows: dims[1],
        columns: dims[0],
        row_cosine: r,
        column_cosine: c,
        pixel_spacing: [sp[1], sp[0]],
        normal,
        positions: (0..dims[2])
            .map(|k| std::array::from_fn(|a| origin[a] + k as f64 * sp[2] * s[a]))
            .collect(),
        nominal_slice_spacing: Some(sp[2]),
        frame_of_reference: None,
    })
}

/// Reads an RTSTRUCT onto the grid of another volume (e.g. the prediction) and returns its label volume.
///
/// # Errors
/// As [`read_rtstruct`] and [`RtStruct::to_label_volume`]; [`Error::Unsupported`] for a left-handed grid.
pub fn read_rtstruct_on_grid(
    path: &Path,
    grid: &Grid,
    mapping: &[(String, u32)],
) -> Result<LabelVolume, Error> {
    rtstruct_on_grid(path, grid)?.labels_on(grid.clone(), mapping)
}

/// Reads an RTSTRUCT and rasterises its ROIs on the slices of `grid`.
pub(crate) fn rtstruct_on_grid(path: &Path, grid: &Grid) -> Result<RtStruct, Error> {
    let geometry = geometry_of_grid(grid, path).ok_or_else(|| Error::Unsupported {
        path: path.to_path_buf(),
        detail:
            "the reference volume's slice axis runs against its row × column normal; give the image series"
                .into(),
    })?;
    read_rtstruct(path, &geometry)
}
