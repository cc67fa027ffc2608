//! Measurement: one pair of files ([`compare`]) and the cases of a data set ([`evaluate`]), each case either a
//! record or a failure with its reason; [`pair_dirs`] pairs two folders by case id.
//!
//! A case is measured structure by structure ([`Structure`]). When both sides are plain label maps, every label
//! is counted in one pass over the two volumes and its surface and lesions computed in its own box (the fast
//! path). A region, a label of a file whose structures overlap (several layers), or a structure on a folder of
//! masks is measured on its two binary masks; both paths give the same numbers for the same voxels.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use segauge_io::{Grid, LabelFile, LabelVolume};
use segauge_lesion::{LesionOptions, LesionReport, MatchRule};
use segauge_mesh::Frame;
use segauge_metrics::{BothEmpty, EmptyState, LabelCounts, OverlapCounts, SurfaceMetrics, VoxelBox};

use crate::Error;
use crate::options::EvalOptions;
use crate::sides::{Key, Masks, Side, binary_volume, label_mask, label_named, list_names, mask_of, without};
use crate::structures::{LabelRef, Structure, merge_names};

/// One case of a data set: its id and its two sides (either may be missing), or two volumes in memory.
///
/// A side is a segmentation file, or a folder of per-structure masks (TotalSegmentator's layout: the masks in
/// `segmentations/` inside it when there is one, else in the folder itself).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Case {
    /// Case id (the file name without `.nii.gz`, `.nii` or `.npy`, or the case folder's name).
    pub id: String,
    /// The prediction file or folder.
    pub pred: Option<PathBuf>,
    /// The ground-truth file or folder.
    pub gt: Option<PathBuf>,
    /// Case metadata (column → value), for subgroup aggregates; empty when none is known.
    pub metadata: BTreeMap<String, String>,
    /// The prediction and ground truth in memory ([`Case::in_memory`]); when set, `pred` and `gt` only name them
    /// in records and messages. Not serialised: a stored record refers to its case by id.
    #[serde(skip)]
    pub volumes: Option<Arc<(LabelFile, LabelFile)>>,
}

impl Case {
    /// A case whose files (or mask folders) are `pred` and `gt`.
    pub fn files(id: impl Into<String>, pred: impl Into<PathBuf>, gt: impl Into<PathBuf>) -> Case {
        Case {
            id: id.into(),
            pred: Some(pred.into()),
            gt: Some(gt.into()),
            metadata: BTreeMap::new(),
            volumes: None,
        }
    }

    /// A case of two volumes in memory (e.g. from `LabelVolume::from_array`); its records name them `pred` and
    /// `gt`.
    pub fn in_memory(id: impl Into<String>, pred: LabelVolume, gt: LabelVolume) -> Case {
        Case::in_memory_files(id, LabelFile::single(pred), LabelFile::single(gt))
    }

    /// A case of two label files in memory (with their names and layers).
    pub fn in_memory_files(id: impl Into<String>, pred: LabelFile, gt: LabelFile) -> Case {
        Case {
            id: id.into(),
            pred: Some(PathBuf::from("pred")),
            gt: Some(PathBuf::from("gt")),
            metadata: BTreeMap::new(),
            volumes: Some(Arc::new((pred, gt))),
        }
    }
}

/// The metrics of one structure of one case.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LabelResult {
    /// The structure (name, label, region).
    #[serde(flatten)]
    pub structure: Structure,
    /// Its voxel counts.
    pub counts: LabelCounts,
    /// Volume of one voxel, mm³.
    pub voxel_volume_mm3: f64,
    /// Surface-distance metrics, when requested.
    pub surface: Option<SurfaceMetrics>,
    /// Per-lesion detection, when requested.
    pub lesions: Option<LesionReport>,
    /// How a structure absent from both sides is valued (the run's option, kept with the record).
    #[serde(default)]
    pub both_empty: BothEmpty,
}

impl LabelResult {
    /// Dice coefficient (NaN where [`BothEmpty::overlap_is_nan`] says so: absent from both sides under `nan` and
    /// `deepmind`, an empty ground truth under `monai`).
    pub fn dice(&self) -> f64 {
        self.undefined_or(self.counts.dice())
    }

    /// Intersection over union (as [`LabelResult::dice`] when both sides are empty).
    pub fn iou(&self) -> f64 {
        self.undefined_or(self.counts.iou())
    }

    fn undefined_or(&self, v: f64) -> f64 {
        if self.both_empty.overlap_is_nan(self.empty_state()) { f64::NAN } else { v }
    }

    /// Predicted volume, mm³.
    pub fn volume_pred_mm3(&self) -> f64 {
        self.counts.voxels_pred as f64 * self.voxel_volume_mm3
    }

    /// Ground-truth volume, mm³.
    pub fn volume_gt_mm3(&self) -> f64 {
        self.counts.voxels_gt as f64 * self.voxel_volume_mm3
    }

    /// Which masks are empty.
    pub fn empty_state(&self) -> EmptyState {
        self.counts.empty_state()
    }
}

/// The result of one prediction/ground-truth pair.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CaseResult {
    /// Case id.
    pub case: String,
    /// The prediction file.
    pub pred: PathBuf,
    /// The ground-truth file.
    pub gt: PathBuf,
    /// Shape of the common grid.
    pub shape: [usize; 3],
    /// Spacing of the common grid (the ground truth's), mm.
    pub spacing: [f64; 3],
    /// Metrics per structure, in the order of [`Evaluation::structures`].
    pub labels: Vec<LabelResult>,
}

impl CaseResult {
    /// The result of the structure named `name`.
    pub fn get(&self, name: &str) -> Option<&LabelResult> {
        self.labels.iter().find(|l| l.structure.name == name)
    }
}

/// A case that could not be evaluated, with the one-line reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    /// Case id.
    pub case: String,
    /// What went wrong (names the file and the problem).
    pub error: String,
}

/// The results of a data set: every case either in `cases` or in `failures`, both sorted by case id.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Evaluation {
    /// Evaluated cases.
    pub cases: Vec<CaseResult>,
    /// Cases that could not be evaluated.
    pub failures: Vec<Failure>,
    /// Ground-truth cases not evaluated on purpose (no prediction, with `only_predicted`), with the reason.
    #[serde(default)]
    pub not_evaluated: Vec<Failure>,
    /// The structures every evaluated case reports, in order (labels ascending, then regions as given, then
    /// masks by name): the selected ones, or every structure present in any case (outputs give a failed case one
    /// row per structure).
    pub structures: Vec<Structure>,
}

/// The metrics of one structure of a case, before it is named.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Item {
    counts: LabelCounts,
    surface: Option<SurfaceMetrics>,
    lesions: Option<LesionReport>,
}

/// What one pair yields before the structures of the data set are known (volumes are already dropped): the
/// per-case record that a sharded run stores ([`Outcome`]) and a merge assembles as [`evaluate`] does.
///
/// Its fields are private: it is data to store and give back, read through the [`CaseResult`] it becomes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Measurement {
    pred: PathBuf,
    gt: PathBuf,
    /// The structures measured (present on either side, or selected), as a list of pairs (a map with keys that
    /// are not text has no JSON form).
    #[serde(with = "pairs")]
    items: BTreeMap<Key, Item>,
    /// The case's label names: the options' and its files'.
    names: BTreeMap<u32, String>,
    shape: [usize; 3],
    spacing: [f64; 3],
    voxel_volume_mm3: f64,
}

/// The items of a [`Measurement`] as a sequence of `(key, item)` pairs.
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::{Item, Key};

    pub(super) fn serialize<S: Serializer>(items: &BTreeMap<Key, Item>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(items.iter())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Key, Item>, D::Error> {
        Ok(Vec::<(Key, Item)>::deserialize(d)?.into_iter().collect())
    }
}

/// One case of one model as measured, before the data set is assembled: its [`Measurement`], or the
/// [`Failure`] that stopped it. [`measure_case`] makes it; a sharded run stores it and a merge assembles it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The case was read and measured.
    Measured(Measurement),
    /// The case could not be evaluated (the reason names the file and the problem).
    Failed(Failure),
}

/// One side as read from disk.
enum Owned {
    File(LabelFile),
    Masks(Masks),
}

impl Owned {
    fn side(&self) -> Side<'_> {
        match self {
            Owned::File(f) => Side::File(f),
            Owned::Masks(m) => Side::Masks(m),
        }
    }
}

/// Reads one pair and measures it.
fn measure(pred: &Path, gt: &Path, options: &EvalOptions) -> Result<Measurement, Error> {
    let read = |p: &Path, series: &Option<PathBuf>, reference: Option<&Grid>| -> Result<Owned, Error> {
        if p.is_dir() {
            return Ok(Owned::Masks(Masks::read(p)?));
        }
        Ok(Owned::File(segauge_io::read_label_file_on(p, &options.read, series.as_deref(), reference)?))
    };
    // An RTSTRUCT without image series is rasterised on the other volume's grid: read that one first.
    #[cfg(feature = "dicom")]
    let (pred_needs, gt_needs) = (
        segauge_io::dicom::needs_reference(pred, options.pred_series.as_deref(), &options.read.dicom),
        segauge_io::dicom::needs_reference(gt, options.gt_series.as_deref(), &options.read.dicom),
    );
    #[cfg(not(feature = "dicom"))]
    let (pred_needs, gt_needs) = (false, false);
    let (p, g) = if gt_needs && !pred_needs {
        let p = read(pred, &options.pred_series, None)?;
        let grid = side_grid(&p.side(), options)?;
        let g = read(gt, &options.gt_series, Some(&grid));
        (Ok(p), g)
    } else if pred_needs && !gt_needs {
        let g = read(gt, &options.gt_series, None)?;
        let grid = side_grid(&g.side(), options)?;
        let p = read(pred, &options.pred_series, Some(&grid));
        (p, Ok(g))
    } else {
        #[cfg(feature = "parallel")]
        let pair =
            rayon::join(|| read(pred, &options.pred_series, None), || read(gt, &options.gt_series, None));
        #[cfg(not(feature = "parallel"))]
        let pair = (read(pred, &options.pred_series, None), read(gt, &options.gt_series, None));
        pair
    };
    let (p, g) = (p?, g?);
    measure_sides(&p.side(), &g.side(), pred, gt, options)
}

/// The grid of a side: the file's, or the first mask file's.
fn side_grid(side: &Side<'_>, options: &EvalOptions) -> Result<Grid, Error> {
    match side {
        Side::File(f) => Ok(f.grid().clone()),
        Side::Volume(v) => Ok(v.grid().clone()),
        Side::Masks(m) => {
            let first = m.files.values().next().expect("a mask folder has a file");
            Ok(segauge_io::read_labels(first, &options.read)?.grid().clone())
        }
    }
}

/// The single layer of a side, when it is a file with one layer.
fn single<'a>(side: &Side<'a>) -> Option<&'a LabelVolume> {
    match side.layers() {
        Some([one]) => Some(one),
        _ => None,
    }
}

/// Measures every structure of a pair; `pred` and `gt` name the sides in errors and records.
fn measure_sides(
    p: &Side<'_>,
    g: &Side<'_>,
    pred: &Path,
    gt: &Path,
    options: &EvalOptions,
) -> Result<Measurement, Error> {
    let grid = side_grid(g, options)?;
    if let Some([first, ..]) = p.layers() {
        first.grid().check_same(&grid, &options.grid_tolerance).map_err(|mismatch| {
            Error::Io(segauge_io::Error::GridMismatch {
                a: pred.to_path_buf(),
                b: gt.to_path_buf(),
                mismatch: Box::new(mismatch),
            })
        })?;
    }
    // The case's names: the options', then the ground truth's, then the prediction's; any disagreement fails it.
    let mut names = options.names.clone();
    let given = "the given label names";
    for (side, path) in [(g, gt), (p, pred)] {
        if let Some(file_names) = side.names() {
            let into = if names.len() == options.names.len() {
                given.to_string()
            } else {
                "the ground truth".into()
            };
            merge_names(&mut names, &into, file_names, &path.display().to_string())
                .map_err(|detail| Error::Structures { detail })?;
        }
    }
    // The ignore label: its ground-truth voxels leave both sides.
    let ignore: Option<Vec<bool>> = match (options.ignore_label, g.layers()) {
        (None, _) => None,
        (Some(i), Some(layers)) => Some(label_mask(layers, i)).filter(|m| m.iter().any(|&b| b)),
        (Some(i), None) => {
            return Err(Error::Structures {
                detail: format!(
                    "{}: the ignore label {i} needs a ground-truth label map, not a folder of masks",
                    gt.display()
                ),
            });
        }
    };
    let clean = |side: Side<'_>, ig: &[bool]| -> Result<Option<LabelFile>, Error> {
        side.layers().map(|layers| without(layers, side.names(), ig)).transpose()
    };
    let (p_clean, g_clean) = match &ignore {
        None => (None, None),
        Some(ig) => (clean(*p, ig)?, clean(*g, ig)?),
    };
    let p = &p_clean.as_ref().map_or(*p, Side::File);
    let g = &g_clean.as_ref().map_or(*g, Side::File);
    // Both sides one label map: every label is counted in one pass (the fast path), and the labels present come
    // from those counts.
    let both_single = single(p).is_some() && single(g).is_some();
    let keys = keys(p, g, pred, gt, &names, !both_single, options)?;
    let ignore = ignore.as_deref();

    let mut items = BTreeMap::new();
    let (fast, binary): (Vec<Key>, Vec<Key>) = if both_single {
        keys.into_iter().partition(|k| matches!(k, Key::Label(_)))
    } else {
        (Vec::new(), keys)
    };
    if let (Some(pv), Some(gv)) = (single(p), single(g)) {
        let labels: Vec<u32> =
            fast.iter().filter_map(|k| if let Key::Label(l) = k { Some(*l) } else { None }).collect();
        let chosen = options.labels.as_ref().map(|_| labels.as_slice());
        for (label, item) in measure_labels(pv, gv, chosen, options)? {
            if options.labels.is_some() || Some(label) != options.ignore_label {
                items.insert(Key::Label(label), item);
            }
        }
    }
    let one = |key: &Key| -> Result<(Key, Item), Error> {
        let pm = mask_of(p, pred, key, &names, &grid, ignore, options)?;
        let gm = mask_of(g, gt, key, &names, &grid, ignore, options)?;
        let (pv, gv) = (binary_volume(&grid, &pm)?, binary_volume(&grid, &gm)?);
        drop((pm, gm));
        let item = measure_labels(&pv, &gv, Some(&[1]), options)?.remove(&1).expect("label 1 is measured");
        Ok((key.clone(), item))
    };
    #[cfg(feature = "parallel")]
    let measured: Vec<Result<(Key, Item), Error>> = {
        use rayon::prelude::*;
        binary.par_iter().map(one).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let measured: Vec<Result<(Key, Item), Error>> = binary.iter().map(one).collect();
    for m in measured {
        let (k, item) = m?;
        items.insert(k, item);
    }
    Ok(Measurement {
        pred: pred.to_path_buf(),
        gt: gt.to_path_buf(),
        items,
        names,
        shape: grid.dims(),
        spacing: grid.spacing(),
        voxel_volume_mm3: grid.voxel_volume_mm3(),
    })
}

/// The structures to measure in a case: the selected ones, or every label present on a side (file labels when
/// `scan_files`, mask files), and every region.
fn keys(
    p: &Side<'_>,
    g: &Side<'_>,
    pred: &Path,
    gt: &Path,
    names: &BTreeMap<u32, String>,
    scan_files: bool,
    options: &EvalOptions,
) -> Result<Vec<Key>, Error> {
    let mask_key = |name: &str| -> Key {
        match (label_named(names, name), name.parse::<u32>()) {
            (Some(l), _) | (None, Ok(l)) => Key::Label(l),
            _ => Key::Mask(name.to_string()),
        }
    };
    let mut keys: BTreeSet<Key> = BTreeSet::new();
    match &options.labels {
        Some(selection) => {
            for r in selection {
                let key = match r {
                    LabelRef::Number(n) => Key::Label(*n),
                    LabelRef::Name(s) => {
                        if let Some(i) = options.regions.iter().position(|r| r.name == *s) {
                            Key::Region(i)
                        } else if let Some(l) = label_named(names, s) {
                            Key::Label(l)
                        } else if [p, g]
                            .iter()
                            .any(|side| matches!(side, Side::Masks(m) if m.files.contains_key(s)))
                        {
                            Key::Mask(s.clone())
                        } else {
                            return Err(Error::Structures {
                                detail: format!(
                                    "{}: no structure named {s:?} (named labels: {}{})",
                                    gt.display(),
                                    list_names(names),
                                    region_list(options)
                                ),
                            });
                        }
                    }
                };
                keys.insert(key);
            }
        }
        None => {
            for side in [p, g] {
                match side {
                    Side::Masks(m) => keys.extend(m.files.keys().map(|n| mask_key(n))),
                    _ if !scan_files => {}
                    _ => {
                        for layer in side.layers().unwrap_or_default() {
                            keys.extend(segauge_metrics::label_boxes(layer).into_keys().map(Key::Label));
                        }
                    }
                }
            }
            if let Some(i) = options.ignore_label {
                keys.remove(&Key::Label(i));
            }
            keys.extend((0..options.regions.len()).map(Key::Region));
        }
    }
    // A mask file named as no structure of a label file on the other side cannot be compared with anything.
    for (side, other, other_path) in [(p, g, gt), (g, p, pred)] {
        if let (Side::Masks(m), Side::File(_) | Side::Volume(_)) = (side, other) {
            if let Some((name, file)) = m.files.iter().find(|(n, _)| matches!(mask_key(n), Key::Mask(_))) {
                if options.labels.is_none() || keys.contains(&Key::Mask(name.clone())) {
                    return Err(Error::Structures {
                        detail: format!(
                            "{}: {name:?} is no structure of {} (named labels: {}); name the labels with \
                             --label-names or --labels-from",
                            file.display(),
                            other_path.display(),
                            list_names(names)
                        ),
                    });
                }
            }
        }
    }
    Ok(keys.into_iter().collect())
}

fn region_list(options: &EvalOptions) -> String {
    if options.regions.is_empty() {
        return String::new();
    }
    format!("; regions: {}", options.regions.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", "))
}

/// Counts every label of two label maps and computes the requested metrics of `labels` (`None`: every label
/// present on either side).
fn measure_labels(
    p: &LabelVolume,
    g: &LabelVolume,
    labels: Option<&[u32]>,
    options: &EvalOptions,
) -> Result<BTreeMap<u32, Item>, Error> {
    let counts = OverlapCounts::compute(p, g)?;
    let labels: Vec<u32> = match labels {
        Some(l) => l.to_vec(),
        None => counts.labels().collect(),
    };
    // Labels absent from both volumes are both-empty: their values need no volume.
    let present: Vec<u32> =
        labels.iter().copied().filter(|&x| counts.get(x).empty_state() != EmptyState::BothEmpty).collect();
    // The label boxes (a pass over each volume) serve both the surface metrics and the lesions.
    let boxes = || segauge_metrics::label_boxes(p);
    #[cfg(feature = "parallel")]
    let (pb, gb) = rayon::join(boxes, || segauge_metrics::label_boxes(g));
    #[cfg(not(feature = "parallel"))]
    let (pb, gb) = (boxes(), segauge_metrics::label_boxes(g));
    let surface = || -> Result<_, Error> {
        Ok(match &options.surface {
            None => BTreeMap::new(),
            Some(so) => segauge_metrics::surface_metrics_in_boxes(p, g, &present, so, &pb, &gb)?,
        })
    };
    let lesions = || -> Result<_, Error> {
        Ok(match &options.lesions {
            None => BTreeMap::new(),
            Some(lo) => lesion_reports(p, g, &present, lo, &pb, &gb)?,
        })
    };
    // Independent work on the same volumes: lesions fill the gaps of the surface computation's parallel phases.
    #[cfg(feature = "parallel")]
    let (surface, lesions) = rayon::join(surface, lesions);
    #[cfg(not(feature = "parallel"))]
    let (surface, lesions) = (surface(), lesions());
    let (mut surface, mut lesions) = (surface?, lesions?);
    Ok(labels
        .iter()
        .map(|&l| {
            (
                l,
                Item {
                    counts: counts.get(l),
                    surface: options.surface.as_ref().map(|_| {
                        surface.remove(&l).unwrap_or_else(|| {
                            SurfaceMetrics::empty_as(EmptyState::BothEmpty, options.both_empty)
                        })
                    }),
                    lesions: options
                        .lesions
                        .as_ref()
                        .map(|lo| lesions.remove(&l).unwrap_or_else(|| no_lesions(lo))),
                },
            )
        })
        .collect())
}

/// The row of a structure absent from both sides of a case.
fn absent(options: &EvalOptions) -> Item {
    Item {
        counts: LabelCounts::default(),
        surface: options
            .surface
            .as_ref()
            .map(|_| SurfaceMetrics::empty_as(EmptyState::BothEmpty, options.both_empty)),
        lesions: options.lesions.as_ref().map(no_lesions),
    }
}

/// Lesion detection of every label in `labels`, each inside the union of its two boxes (grown by the BraTS
/// dilation, within the image, so that dilations are clipped where scipy clips them).
fn lesion_reports(
    pred: &LabelVolume,
    gt: &LabelVolume,
    labels: &[u32],
    options: &LesionOptions,
    pb: &BTreeMap<u32, VoxelBox>,
    gb: &BTreeMap<u32, VoxelBox>,
) -> Result<BTreeMap<u32, LesionReport>, Error> {
    let grid = gt.grid();
    let dims = grid.dims();
    let grow = if options.rule == MatchRule::Brats2023 { options.brats.dilation as usize } else { 0 };
    // Label 0 (the background, when selected) is in no box: its box is the whole image, as for its surface.
    let whole = VoxelBox { lo: [0; 3], hi: dims.map(|n| n.saturating_sub(1)) };
    let one = |&label: &u32| -> Result<(u32, LesionReport), Error> {
        let b = if label == 0 { Some(whole) } else { segauge_metrics::label_box(pb, gb, label) };
        let Some(b) = b else {
            return Ok((label, no_lesions(options)));
        };
        let b = VoxelBox {
            lo: b.lo.map(|v| v.saturating_sub(grow)),
            hi: std::array::from_fn(|a| (b.hi[a] + grow).min(dims[a] - 1)),
        };
        let (pm, _) = segauge_metrics::crop_mask(pred, label, &b, 0);
        let (gm, _) = segauge_metrics::crop_mask(gt, label, &b, 0);
        // Lesion centroids in the image's world coordinates (mm).
        let at = Frame::scaled(grid.spacing());
        let offset = at.point(b.lo.map(|v| v as f64));
        let d = grid.direction();
        let o = grid.origin();
        let frame = Frame {
            spacing: grid.spacing(),
            origin: std::array::from_fn(|r| {
                o[r] + d[r][0] * offset[0] + d[r][1] * offset[1] + d[r][2] * offset[2]
            }),
            direction: d,
        };
        let mut report = segauge_lesion::evaluate(&pm, &gm, &frame, options)?;
        // Lesion boxes are indices of the crop: move them to the image's.
        for l in report.gt.iter_mut().chain(report.pred.iter_mut()) {
            for a in 0..3 {
                l.lo[a] += b.lo[a];
                l.hi[a] += b.lo[a];
            }
        }
        Ok((label, report))
    };
    // Largest boxes first, as the surface metrics schedule them; the results go into a map.
    let labels = segauge_metrics::largest_first(labels, pb, gb, dims);
    #[cfg(feature = "parallel")]
    let results: Vec<_> = {
        use rayon::prelude::*;
        labels.par_iter().map(one).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let results: Vec<_> = labels.iter().map(one).collect();
    results.into_iter().collect()
}

/// The lesion report of a label absent from both volumes.
fn no_lesions(options: &LesionOptions) -> LesionReport {
    LesionReport::none(options)
}

/// The structure a case's key stands for, named by the data set's names.
fn structure_of(key: &Key, names: &BTreeMap<u32, String>, options: &EvalOptions) -> Structure {
    match key {
        Key::Label(l) => Structure::label(*l, names.get(l).map(String::as_str)),
        Key::Region(i) => Structure::region(&options.regions[*i].name, &options.regions[*i].labels),
        Key::Mask(s) => match label_named(names, s) {
            Some(l) => Structure::label(l, names.get(&l).map(String::as_str)),
            None => Structure::mask(s),
        },
    }
}

/// Output order of structures: labels ascending, then regions as the options list them, then masks by name.
fn order(s: &Structure, options: &EvalOptions) -> (u8, u64, String) {
    match (s.label, options.regions.iter().position(|r| r.name == s.name)) {
        (Some(l), _) => (0, u64::from(l), String::new()),
        (None, Some(i)) => (1, i as u64, String::new()),
        (None, None) => (2, 0, s.name.clone()),
    }
}

impl Measurement {
    /// The record of this case with a row for each of `structures` (absent ones both-empty).
    fn result(
        mut self,
        case: String,
        structures: &[Structure],
        names: &BTreeMap<u32, String>,
        options: &EvalOptions,
    ) -> CaseResult {
        let mut by_structure: BTreeMap<String, Item> = BTreeMap::new();
        for (key, item) in std::mem::take(&mut self.items) {
            by_structure.entry(structure_of(&key, names, options).name).or_insert(item);
        }
        let labels = structures
            .iter()
            .map(|s| {
                let item = by_structure.remove(&s.name).unwrap_or_else(|| absent(options));
                LabelResult {
                    structure: s.clone(),
                    counts: item.counts,
                    voxel_volume_mm3: self.voxel_volume_mm3,
                    surface: item.surface,
                    lesions: item.lesions,
                    both_empty: options.both_empty,
                }
            })
            .collect();
        CaseResult { case, pred: self.pred, gt: self.gt, shape: self.shape, spacing: self.spacing, labels }
    }

    /// The structures this case measured, in output order.
    fn structures(&self, names: &BTreeMap<u32, String>, options: &EvalOptions) -> Vec<Structure> {
        sorted(self.items.keys().map(|k| structure_of(k, names, options)), options)
    }
}

/// Distinct structures (by name) in output order.
pub(crate) fn sorted(structures: impl Iterator<Item = Structure>, options: &EvalOptions) -> Vec<Structure> {
    let mut seen = BTreeSet::new();
    let mut out: Vec<Structure> = structures.filter(|s| seen.insert(s.name.clone())).collect();
    out.sort_by_cached_key(|s| order(s, options));
    out
}

/// Compares one prediction with its ground truth (files, or folders of per-structure masks).
///
/// # Errors
/// [`Error::InvalidOption`] for invalid options; unreadable or invalid files, grids that differ, label names that
/// disagree or a selected structure that is absent, as one [`Error`] naming the file(s).
pub fn compare(pred: &Path, gt: &Path, options: &EvalOptions) -> Result<CaseResult, Error> {
    options.validate()?;
    let options = &options.resolved();
    let m = measure(pred, gt, options)?;
    let case = if gt.is_dir() {
        gt.file_name().map_or_else(|| gt.display().to_string(), |n| n.to_string_lossy().into_owned())
    } else {
        segauge_io::case_id(gt).map_or_else(|| gt.display().to_string(), |(id, _)| id)
    };
    let names = m.names.clone();
    let structures = m.structures(&names, options);
    Ok(m.result(case, &structures, &names, options))
}

/// Compares two volumes in memory (e.g. built with `LabelVolume::from_array`), as [`compare`] compares two
/// files; the record's case id is empty and its paths are `pred` and `gt`.
///
/// ```
/// use segauge_eval::{EvalOptions, compare_volumes};
/// use segauge_io::{Grid, LabelVolume, Labels};
/// let grid = Grid::new([4, 1, 1], [1.0, 1.0, 2.0])?;
/// let pred = LabelVolume::new(grid.clone(), Labels::U8(vec![1, 1, 0, 0]))?;
/// let gt = LabelVolume::new(grid, Labels::U8(vec![0, 1, 1, 0]))?;
/// let result = compare_volumes(&pred, &gt, &EvalOptions::default())?;
/// assert_eq!(result.labels[0].dice(), 0.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for invalid options; [`Error::Io`] when the grids differ.
pub fn compare_volumes(
    pred: &LabelVolume,
    gt: &LabelVolume,
    options: &EvalOptions,
) -> Result<CaseResult, Error> {
    options.validate()?;
    let options = &options.resolved();
    let m =
        measure_sides(&Side::Volume(pred), &Side::Volume(gt), Path::new("pred"), Path::new("gt"), options)?;
    let names = m.names.clone();
    let structures = m.structures(&names, options);
    Ok(m.result(String::new(), &structures, &names, options))
}

/// [`compare_volumes`] for label files in memory (names and layers).
///
/// # Errors
/// As [`compare_volumes`].
pub fn compare_files(pred: &LabelFile, gt: &LabelFile, options: &EvalOptions) -> Result<CaseResult, Error> {
    options.validate()?;
    let options = &options.resolved();
    let m = measure_sides(&Side::File(pred), &Side::File(gt), Path::new("pred"), Path::new("gt"), options)?;
    let names = m.names.clone();
    let structures = m.structures(&names, options);
    Ok(m.result(String::new(), &structures, &names, options))
}

/// A data set to evaluate: the cases, and the cases already known to fail before reading (e.g. two files for one
/// case id).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct DataSet {
    /// Cases to evaluate, sorted by id.
    pub cases: Vec<Case>,
    /// Cases that cannot be evaluated.
    pub failures: Vec<Failure>,
    /// Ground-truth cases left out on purpose (no prediction, with `only_predicted`): not failures, but listed.
    pub not_evaluated: Vec<Failure>,
}

/// The longest failure reason kept, in bytes. Errors quote at most a few hundred bytes of a file, so only paths
/// of thousands of characters come near it; past it the reason is cut, and says so, so that no output (JSON,
/// CSV, HTML, terminal) can grow with the content of a hostile file.
pub const MAX_REASON_BYTES: usize = 2000;

/// A failure reason of at most [`MAX_REASON_BYTES`] bytes (cut at a character boundary).
fn reason(text: String) -> String {
    if text.len() <= MAX_REASON_BYTES {
        return text;
    }
    let keep = MAX_REASON_BYTES - 40;
    let cut = (0..=keep).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    format!("{} … ({} more bytes cut)", &text[..cut], text.len() - cut)
}

/// Evaluates every case (in parallel with the `parallel` feature), calling `on_case_done` after each.
///
/// Volumes are dropped as soon as a case's counts are computed, so memory holds at most one case per thread.
/// A case that fails (missing partner, unreadable file, grid mismatch) is listed in [`Evaluation::failures`] and
/// every other case still completes. Results do not depend on the number of threads. This is the per-case step
/// of [`run`](crate::run), which also aggregates: [`measure_case`] for each case, then [`assemble`].
///
/// # Errors
/// [`Error::InvalidOption`] for invalid options, before any case is read.
pub fn evaluate(
    data: &DataSet,
    options: &EvalOptions,
    on_case_done: &(dyn Fn() + Sync),
) -> Result<Evaluation, Error> {
    options.validate()?;
    let options = &options.resolved();
    let run = |case: &Case| {
        let out = measure_resolved(case, options);
        on_case_done();
        out
    };
    #[cfg(feature = "parallel")]
    let outcomes: Vec<_> = {
        use rayon::prelude::*;
        data.cases.par_iter().map(run).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let outcomes: Vec<_> = data.cases.iter().map(run).collect();
    Ok(assemble_resolved(data, outcomes, options))
}

/// Measures one case on its own: the step of [`evaluate`] that reads files, and the unit of work of a sharded
/// run. Its [`Outcome`] does not depend on the other cases; [`assemble`] names the structures and fills in the
/// rows of the data set.
///
/// # Errors
/// [`Error::InvalidOption`] for invalid options; a case's own problems are [`Outcome::Failed`].
pub fn measure_case(case: &Case, options: &EvalOptions) -> Result<Outcome, Error> {
    options.validate()?;
    Ok(measure_resolved(case, &options.resolved()))
}

/// [`measure_case`] with options already validated and resolved.
pub(crate) fn measure_resolved(case: &Case, options: &EvalOptions) -> Outcome {
    let out = match (&case.pred, &case.gt) {
        (Some(p), Some(g)) => match &case.volumes {
            Some(v) => measure_sides(&Side::File(&v.0), &Side::File(&v.1), p, g, options),
            None => measure(p, g, options),
        }
        .map_err(|e| Failure { case: case.id.clone(), error: reason(e.to_string()) }),
        (None, Some(g)) => Err(Failure {
            case: case.id.clone(),
            error: format!(
                "no prediction for ground truth {} (to evaluate only the cases with a prediction, use \
                 --only-predicted)",
                g.display()
            ),
        }),
        (Some(p), None) => Err(Failure {
            case: case.id.clone(),
            error: format!("no ground truth for prediction {}", p.display()),
        }),
        (None, None) => Err(Failure { case: case.id.clone(), error: "no files".into() }),
    };
    match out {
        Ok(m) => Outcome::Measured(m),
        Err(f) => Outcome::Failed(f),
    }
}

/// The [`Evaluation`] of `data` from the outcome of each of its cases (`outcomes[i]` is `data.cases[i]`'s):
/// the data set's label names (a case whose files name a label differently from an earlier case fails, naming
/// both), its structures, and each case's row for every structure. [`evaluate`] is [`measure_case`] for each
/// case, then this; a merge of sharded runs calls it with the stored outcomes and gets the same evaluation.
///
/// # Errors
/// [`Error::InvalidOption`] for invalid options, or when `outcomes` and `data.cases` differ in length.
pub fn assemble(data: &DataSet, outcomes: Vec<Outcome>, options: &EvalOptions) -> Result<Evaluation, Error> {
    options.validate()?;
    if outcomes.len() != data.cases.len() {
        return Err(Error::InvalidOption {
            detail: format!("{} outcomes for {} cases", outcomes.len(), data.cases.len()),
        });
    }
    Ok(assemble_resolved(data, outcomes, &options.resolved()))
}

/// [`assemble`] with options already validated and resolved.
fn assemble_resolved(data: &DataSet, outcomes: Vec<Outcome>, options: &EvalOptions) -> Evaluation {
    let cases = &data.cases;
    // The data set's label names: the options', then each case's in case order. A case whose files name a label
    // differently from an earlier case fails, naming both.
    let mut names = options.names.clone();
    let mut named_by: BTreeMap<u32, String> = BTreeMap::new();
    let outcomes: Vec<Result<Measurement, Failure>> = cases
        .iter()
        .zip(outcomes)
        .map(|(case, outcome)| {
            let m = match outcome {
                Outcome::Measured(m) => m,
                Outcome::Failed(f) => return Err(f),
            };
            for (label, name) in &m.names {
                match names.get(label) {
                    Some(old) if old != name => {
                        let source = named_by
                            .get(label)
                            .map_or_else(|| "the given label names".to_string(), |c| format!("case {c}"));
                        return Err(Failure {
                            case: case.id.clone(),
                            error: reason(format!(
                                "label {label} is {name:?} in {} but {old:?} in {source}; the label maps of the \
                                 data set disagree",
                                m.gt.display()
                            )),
                        });
                    }
                    Some(_) => {}
                    None => {
                        names.insert(*label, name.clone());
                        named_by.insert(*label, case.id.clone());
                    }
                }
            }
            Ok(m)
        })
        .collect();

    let structures: Vec<Structure> = sorted(
        outcomes.iter().filter_map(|o| o.as_ref().ok()).flat_map(|m| m.structures(&names, options)),
        options,
    );
    let mut eval = Evaluation { structures: structures.clone(), ..Evaluation::default() };
    for (case, outcome) in cases.iter().zip(outcomes) {
        match outcome {
            Ok(m) => eval.cases.push(m.result(case.id.clone(), &structures, &names, options)),
            Err(f) => eval.failures.push(f),
        }
    }
    eval.failures.extend(
        data.failures.iter().map(|f| Failure { case: f.case.clone(), error: reason(f.error.clone()) }),
    );
    eval.failures.sort_by(|a, b| a.case.cmp(&b.case));
    eval.not_evaluated.clone_from(&data.not_evaluated);
    eval
}

/// Checks, before any case is measured, that every name `options.labels` selects is a structure: a name of the
/// options, a region, or else a name the first readable case gives (its files' label names, its mask files).
///
/// # Errors
/// [`Error::InvalidOption`] naming the unknown name and the names there are.
pub fn check_selection(data: &DataSet, options: &EvalOptions) -> Result<(), Error> {
    let Some(selection) = &options.labels else { return Ok(()) };
    let known = |s: &str, names: &BTreeMap<u32, String>| {
        options.regions.iter().any(|r| r.name == s) || label_named(names, s).is_some()
    };
    let unknown: Vec<&str> = selection
        .iter()
        .filter_map(|r| match r {
            LabelRef::Name(s) if !known(s, &options.names) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    // The names of the first case whose sides can be read.
    let mut names = options.names.clone();
    let mut files: BTreeSet<String> = BTreeSet::new();
    let mut looked = None;
    for case in &data.cases {
        let mut any = false;
        if let Some(v) = &case.volumes {
            names.extend(v.1.names().iter().chain(v.0.names()).map(|(l, n)| (*l, n.clone())));
            any = true;
        }
        for path in [&case.gt, &case.pred].into_iter().flatten().filter(|_| case.volumes.is_none()) {
            if path.is_dir() {
                if let Ok(m) = Masks::read(path) {
                    files.extend(m.files.into_keys());
                    any = true;
                }
            } else if let Ok(f) = segauge_io::read_label_file(path, &options.read) {
                for (l, n) in f.names() {
                    names.entry(*l).or_insert_with(|| n.clone());
                }
                any = true;
            }
        }
        if any {
            looked = Some(case.id.clone());
            break;
        }
    }
    for s in unknown {
        if !known(s, &names) && !files.contains(s) {
            let mut there: Vec<String> = names.values().cloned().collect();
            there.extend(files.iter().cloned());
            there.extend(options.regions.iter().map(|r| r.name.clone()));
            let shown = if there.is_empty() {
                "none".to_string()
            } else if there.len() > 12 {
                format!("{}, … {} more", there[..12].join(", "), there.len() - 12)
            } else {
                there.join(", ")
            };
            let seen = looked.as_ref().map_or(String::new(), |c| format!(" (case {c} and the given names)"));
            return Err(Error::InvalidOption {
                detail: format!("labels: no structure is named {s:?}{seen}; names: {shown}"),
            });
        }
    }
    Ok(())
}

/// The structures that are absent from both sides of every evaluated case (a selected label or region that
/// occurs nowhere: likely a typo in `--labels` or `--region`).
pub fn structures_never_seen(eval: &Evaluation) -> Vec<Structure> {
    eval.structures
        .iter()
        .filter(|s| {
            eval.cases.iter().all(|c| c.get(&s.name).is_none_or(|l| l.empty_state() == EmptyState::BothEmpty))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_bounded_at_a_character_boundary() {
        assert_eq!(reason("short".into()), "short");
        let exact = "é".repeat(MAX_REASON_BYTES / 2);
        assert_eq!(reason(exact.clone()), exact);
        let long = format!("a{}", "é".repeat(60_000));
        let cut = reason(long.clone());
        assert!(cut.len() <= MAX_REASON_BYTES, "{}", cut.len());
        assert!(long.starts_with(cut.split(" … (").next().unwrap()));
        let kept = cut.split(" … (").next().unwrap().len();
        assert!(cut.ends_with(&format!("({} more bytes cut)", long.len() - kept)), "{cut}");
    }
}
