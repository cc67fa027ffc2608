//! The two sides of a case as read: a segmentation file (label layers and names, [`LabelFile`]) or a folder of
//! per-structure masks ([`Masks`]), and the binary mask of any structure on either side.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use segauge_io::{Grid, LabelFile, LabelVolume, Labels};

use crate::Error;
use crate::options::EvalOptions;

/// A folder of per-structure masks (TotalSegmentator's `case/segmentations/liver.nii.gz`): structure name → file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Masks {
    /// The folder the masks are in (`case/segmentations` when it exists, else `case`).
    pub(crate) dir: PathBuf,
    /// Mask files by structure name (the file name without its suffix).
    pub(crate) files: BTreeMap<String, PathBuf>,
}

/// The folder a case folder keeps its masks in: `segmentations/` inside it when there is one (TotalSegmentator's
/// layout), else the folder itself.
pub(crate) fn mask_dir(case_dir: &Path) -> PathBuf {
    let sub = case_dir.join("segmentations");
    if sub.is_dir() { sub } else { case_dir.to_path_buf() }
}

impl Masks {
    /// Lists the masks of a case folder.
    ///
    /// # Errors
    /// [`Error::Structures`] when the folder holds no segmentation file or two files for one name; [`Error::Io`]
    /// when it cannot be listed.
    pub(crate) fn read(case_dir: &Path) -> Result<Masks, Error> {
        let dir = mask_dir(case_dir);
        let mut files = BTreeMap::new();
        for (name, paths) in segauge_io::scan_dir(&dir)? {
            match paths.as_slice() {
                [p] => {
                    files.insert(name, p.clone());
                }
                many => {
                    return Err(Error::Structures {
                        detail: format!(
                            "{}: {} files for the structure {name:?}: {}",
                            dir.display(),
                            many.len(),
                            many.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                        ),
                    });
                }
            }
        }
        if files.is_empty() {
            return Err(Error::Structures {
                detail: format!(
                    "{}: a folder without mask files (.nii.gz, .nii, .mha, .nrrd, .npy, .dcm); a case folder holds \
                     one mask per structure",
                    dir.display()
                ),
            });
        }
        Ok(Masks { dir, files })
    }
}

/// One side of a case.
#[derive(Clone, Copy)]
pub(crate) enum Side<'a> {
    /// A segmentation file (or one in memory).
    File(&'a LabelFile),
    /// A label volume in memory, without names.
    Volume(&'a LabelVolume),
    /// A folder of masks.
    Masks(&'a Masks),
}

impl<'a> Side<'a> {
    /// The file's label names (a folder has none: its names are its file names).
    pub(crate) fn names(&self) -> Option<&'a BTreeMap<u32, String>> {
        match self {
            Side::File(f) => Some(f.names()),
            Side::Volume(_) | Side::Masks(_) => None,
        }
    }

    /// The label layers of a file or volume.
    pub(crate) fn layers(&self) -> Option<&'a [LabelVolume]> {
        match self {
            Side::File(f) => Some(f.layers()),
            Side::Volume(v) => Some(std::slice::from_ref(*v)),
            Side::Masks(_) => None,
        }
    }
}

/// What a structure is made of on a side, resolved by the case's names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub(crate) enum Key {
    /// One label.
    Label(u32),
    /// The region at this index of [`EvalOptions::regions`].
    Region(usize),
    /// A mask known by name only.
    Mask(String),
}

/// A side's binary mask of `key`, in grid order, with the ignore mask applied.
///
/// `path` names the side in messages, `grid` is the ground truth's (every mask file is checked against it), and
/// `names` are the case's label names.
pub(crate) fn mask_of(
    side: &Side<'_>,
    path: &Path,
    key: &Key,
    names: &BTreeMap<u32, String>,
    grid: &Grid,
    ignore: Option<&[bool]>,
    options: &EvalOptions,
) -> Result<Vec<bool>, Error> {
    let n = grid.voxel_count();
    let mut mask = vec![false; n];
    match side {
        Side::File(_) | Side::Volume(_) => {
            let labels: Vec<u32> = match key {
                Key::Label(l) => vec![*l],
                Key::Region(i) => options.regions[*i].labels.clone(),
                Key::Mask(s) => vec![label_named(names, s).ok_or_else(|| Error::Structures {
                    detail: format!(
                        "{}: no label is named {s:?} (named labels: {}); name them with --label-names or \
                         --labels-from",
                        path.display(),
                        list_names(names)
                    ),
                })?],
            };
            for layer in side.layers().unwrap_or_default() {
                or_labels(layer, &labels, &mut mask);
            }
        }
        Side::Masks(m) => {
            let wanted: Vec<String> = match key {
                Key::Label(l) => vec![name_for_file(names, *l, m, path)?],
                Key::Region(i) => options.regions[*i]
                    .labels
                    .iter()
                    .map(|&l| name_for_file(names, l, m, path))
                    .collect::<Result<_, _>>()?,
                Key::Mask(s) => vec![s.clone()],
            };
            for name in wanted {
                // A structure without its file is empty on this side.
                let Some(file) = m.files.get(&name) else { continue };
                let vol = segauge_io::read_labels(file, &options.read)?;
                vol.grid().check_same(grid, &options.grid_tolerance).map_err(|mismatch| {
                    Error::Io(segauge_io::Error::GridMismatch {
                        a: file.clone(),
                        b: path.to_path_buf(),
                        mismatch: Box::new(mismatch),
                    })
                })?;
                or_nonzero(&vol, &mut mask);
            }
        }
    }
    if let Some(ig) = ignore {
        mask.iter_mut().zip(ig).for_each(|(m, &i)| *m &= !i);
    }
    Ok(mask)
}

/// The label whose name is `name` (exactly, else ignoring ASCII case when only one matches).
pub(crate) fn label_named(names: &BTreeMap<u32, String>, name: &str) -> Option<u32> {
    if let Some((&l, _)) = names.iter().find(|(_, n)| *n == name) {
        return Some(l);
    }
    let mut close = names.iter().filter(|(_, n)| n.eq_ignore_ascii_case(name));
    match (close.next(), close.next()) {
        (Some((&l, _)), None) => Some(l),
        _ => None,
    }
}

/// The mask file name of label `label` in a folder: its name, or its number when a file is named so.
fn name_for_file(names: &BTreeMap<u32, String>, label: u32, m: &Masks, path: &Path) -> Result<String, Error> {
    if let Some(n) = names.get(&label) {
        return Ok(n.clone());
    }
    let number = label.to_string();
    if m.files.contains_key(&number) {
        return Ok(number);
    }
    Err(Error::Structures {
        detail: format!(
            "{}: label {label} has no name, so no mask file of this folder can be it; name the labels with \
             --label-names or --labels-from",
            path.display()
        ),
    })
}

/// Up to 12 names of `names`, for messages.
pub(crate) fn list_names(names: &BTreeMap<u32, String>) -> String {
    if names.is_empty() {
        return "none".into();
    }
    let mut out: Vec<String> = names.iter().take(12).map(|(l, n)| format!("{l}={n}")).collect();
    if names.len() > 12 {
        out.push(format!("… {} more", names.len() - 12));
    }
    out.join(", ")
}

fn or_labels(volume: &LabelVolume, labels: &[u32], mask: &mut [bool]) {
    fn go<T: Copy + Into<u32>>(v: &[T], labels: &[u32], mask: &mut [bool]) {
        if let [one] = labels {
            for (m, &x) in mask.iter_mut().zip(v) {
                *m |= x.into() == *one;
            }
        } else {
            for (m, &x) in mask.iter_mut().zip(v) {
                let x: u32 = x.into();
                *m |= x != 0 && labels.contains(&x);
            }
        }
    }
    match volume.labels() {
        Labels::U8(v) => go(v, labels, mask),
        Labels::U16(v) => go(v, labels, mask),
        Labels::U32(v) => go(v, labels, mask),
    }
}

fn or_nonzero(volume: &LabelVolume, mask: &mut [bool]) {
    fn go<T: Copy + Into<u32>>(v: &[T], mask: &mut [bool]) {
        for (m, &x) in mask.iter_mut().zip(v) {
            *m |= x.into() != 0;
        }
    }
    match volume.labels() {
        Labels::U8(v) => go(v, mask),
        Labels::U16(v) => go(v, mask),
        Labels::U32(v) => go(v, mask),
    }
}

/// A 0/1 label volume of `mask` on `grid`.
pub(crate) fn binary_volume(grid: &Grid, mask: &[bool]) -> Result<LabelVolume, Error> {
    Ok(LabelVolume::new(grid.clone(), Labels::U8(mask.iter().map(|&b| u8::from(b)).collect()))?)
}

/// The voxels of label `label` in any of `layers`.
pub(crate) fn label_mask(layers: &[LabelVolume], label: u32) -> Vec<bool> {
    let mut mask = vec![false; layers.first().map_or(0, |l| l.grid().voxel_count())];
    for layer in layers {
        or_labels(layer, &[label], &mut mask);
    }
    mask
}

/// `layers` (with `names`) with the voxels of `ignore` set to background in every layer.
pub(crate) fn without(
    layers: &[LabelVolume],
    names: Option<&BTreeMap<u32, String>>,
    ignore: &[bool],
) -> Result<LabelFile, Error> {
    fn go<T: Copy + Default>(v: &[T], ignore: &[bool]) -> Vec<T> {
        v.iter().zip(ignore).map(|(&x, &i)| if i { T::default() } else { x }).collect()
    }
    let layers = layers
        .iter()
        .map(|l| {
            let labels = match l.labels() {
                Labels::U8(v) => Labels::U8(go(v, ignore)),
                Labels::U16(v) => Labels::U16(go(v, ignore)),
                Labels::U32(v) => Labels::U32(go(v, ignore)),
            };
            LabelVolume::new(l.grid().clone(), labels)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LabelFile::layered(layers)?.with_names(names.cloned().unwrap_or_default())?)
}
