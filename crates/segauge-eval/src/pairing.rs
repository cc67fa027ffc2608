//! Pairing two folders into cases: [`pair_dirs`] and [`pair_dirs_with`].
//!
//! # Discovery (no pattern)
//! Each side is walked recursively (hidden entries skipped, at most [`MAX_DEPTH`] folders deep). A case is:
//! - a segmentation file (`.nii.gz`, `.nii`, `.mha`, `.mhd`, `.nrrd`, `.nhdr`, `.npy`, anywhere; `.dcm` at the top
//!   level only, since folders below hold image series): its id is the file name without its suffix, except that
//!   a file `D/D_<anything>.nii.gz` in a folder `D` (MONAI's `SaveImage` layout, `case/case_seg.nii.gz`) is case
//!   `D`;
//! - a folder of per-structure masks: a folder `D` holding a `segmentations/` folder (TotalSegmentator's
//!   `case/segmentations/liver.nii.gz`), or a folder `D` at the top level whose files are masks not named after
//!   it, when the other side has a case `D`. Its id is `D`, its masks are not cases.
//!
//! # Patterns
//! `{case}` in a pattern stands for the case id (no `/`), every occurrence the same: `{case}/{case}_seg.nii.gz`
//! (MONAI), `{case}_0000.nii.gz` (a channel suffix), `{case}/segmentations` (a folder of masks). A pattern is
//! matched against every file and folder path under the side's root (relative, `/`-separated); only matches are
//! cases.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::Error;
use crate::measure::{Case, DataSet, Failure};

/// How deep discovery walks below a side's root.
pub const MAX_DEPTH: usize = 8;

/// How two folders are paired into cases.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PairOptions {
    /// Where a prediction is, relative to its folder, with `{case}` for the case id; `None`: discovery.
    pub pred_pattern: Option<String>,
    /// Where a ground truth is, as [`PairOptions::pred_pattern`].
    pub gt_pattern: Option<String>,
    /// Ground truths without a prediction are listed as not evaluated instead of failing (nnU-Net's `--chill`,
    /// for a fold's validation cases against all of `labelsTr`).
    pub only_predicted: bool,
}

impl PairOptions {
    /// Checks the patterns.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a pattern without `{case}`, absolute, or with `..`.
    pub fn validate(&self) -> Result<(), Error> {
        for (flag, p) in [("pred pattern", &self.pred_pattern), ("gt pattern", &self.gt_pattern)] {
            let Some(p) = p else { continue };
            if !p.contains("{case}") {
                return Err(Error::InvalidOption { detail: format!("{flag} {p:?} has no {{case}}") });
            }
            if p.starts_with('/') || p.split('/').any(|c| c == ".." || c.is_empty()) {
                return Err(Error::InvalidOption {
                    detail: format!("{flag} {p:?} must be a relative path without empty or '..' parts"),
                });
            }
        }
        Ok(())
    }
}

/// One side's cases: id → the files or folders found for it.
type Found = BTreeMap<String, Vec<PathBuf>>;

/// Pairs the segmentation files of two folders by case id, with discovery (see the module docs).
///
/// Cases present on one side only are kept with the other side `None` (they become failures when evaluated); a
/// case id with two files on one side (`a.nii` and `a.nii.gz`) is a failure straight away.
///
/// # Errors
/// [`Error::Io`] when a folder cannot be listed.
pub fn pair_dirs(pred_dir: &Path, gt_dir: &Path) -> Result<DataSet, Error> {
    pair_dirs_with(pred_dir, gt_dir, &PairOptions::default())
}

/// [`pair_dirs`] with patterns and `only_predicted`.
///
/// # Errors
/// [`Error::InvalidOption`] for an invalid pattern; [`Error::Io`] when a folder cannot be listed.
pub fn pair_dirs_with(pred_dir: &Path, gt_dir: &Path, options: &PairOptions) -> Result<DataSet, Error> {
    options.validate()?;
    let (pred_walk, gt_walk) = (walk(pred_dir)?, walk(gt_dir)?);
    let by_pattern = |walk: &Walk, pattern: &str| -> Found {
        let mut out = Found::new();
        for (rel, path) in walk.files.iter().chain(&walk.dirs) {
            if let Some(id) = match_pattern(pattern, rel) {
                out.entry(id).or_default().push(path.clone());
            }
        }
        out
    };
    let discovered = |walk: &Walk, other: &Walk| discover(walk, other);
    let preds = match &options.pred_pattern {
        Some(p) => by_pattern(&pred_walk, p),
        None => discovered(&pred_walk, &gt_walk),
    };
    let gts = match &options.gt_pattern {
        Some(p) => by_pattern(&gt_walk, p),
        None => discovered(&gt_walk, &pred_walk),
    };
    let ids: BTreeSet<&String> = preds.keys().chain(gts.keys()).collect();
    let mut data = DataSet::default();
    for id in ids {
        let one = |side: &Found| -> Result<Option<PathBuf>, String> {
            match side.get(id).map(Vec::as_slice) {
                None | Some([]) => Ok(None),
                Some([p]) => Ok(Some(p.clone())),
                Some(many) => Err(format!(
                    "{} files for one case: {}",
                    many.len(),
                    many.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                )),
            }
        };
        match (one(&preds), one(&gts)) {
            (Ok(None), Ok(Some(gt))) if options.only_predicted => data.not_evaluated.push(Failure {
                case: id.clone(),
                error: format!(
                    "no prediction for ground truth {} (only predicted cases are evaluated)",
                    gt.display()
                ),
            }),
            (Ok(pred), Ok(gt)) => {
                data.cases.push(Case { id: id.clone(), pred, gt, metadata: BTreeMap::new(), volumes: None })
            }
            (Err(e), _) | (_, Err(e)) => data.failures.push(Failure { case: id.clone(), error: e }),
        }
    }
    Ok(data)
}

/// The first file names of a side (relative paths), for a message when nothing pairs.
pub fn first_names(dir: &Path, n: usize) -> Vec<String> {
    walk(dir).map_or_else(|_| Vec::new(), |w| w.files.iter().take(n).map(|(rel, _)| rel.clone()).collect())
}

/// Checks that at least one case of `data` (paired from `pred_dir` and `gt_dir`) has both sides: a run that pairs
/// nothing is a mistake (a layout the discovery does not know, a wrong folder), not an empty data set.
///
/// # Errors
/// [`Error::InvalidOption`] naming both folders and the first three files seen on each side.
pub fn require_pairs(data: &DataSet, pred_dir: &Path, gt_dir: &Path) -> Result<(), Error> {
    if data.cases.iter().any(|c| c.pred.is_some() && c.gt.is_some()) {
        return Ok(());
    }
    let seen = |d: &Path| {
        let names = first_names(d, 3);
        if names.is_empty() {
            "no segmentation file".to_string()
        } else {
            format!("e.g. {}", names.join(", "))
        }
    };
    Err(Error::InvalidOption {
        detail: format!(
            "no case pairs: {} ({}) and {} ({}) share no case id; give the prediction and ground-truth patterns \
             (--pred-pattern / --gt-pattern, e.g. '{{case}}/{{case}}_seg.nii.gz')",
            pred_dir.display(),
            seen(pred_dir),
            gt_dir.display(),
            seen(gt_dir)
        ),
    })
}

/// Every segmentation file and folder below a root, by relative path.
#[derive(Default)]
struct Walk {
    /// Segmentation files: relative path (`/`-separated) → path.
    files: BTreeMap<String, PathBuf>,
    /// Folders: relative path → path.
    dirs: BTreeMap<String, PathBuf>,
}

fn walk(root: &Path) -> Result<Walk, Error> {
    let mut out = Walk::default();
    let mut stack = vec![(root.to_path_buf(), String::new(), 0usize)];
    while let Some((dir, rel, depth)) = stack.pop() {
        let io = |source| Error::Io(segauge_io::Error::Io { path: dir.clone(), source });
        for entry in std::fs::read_dir(&dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let sub = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            if path.is_dir() {
                if depth < MAX_DEPTH {
                    out.dirs.insert(sub.clone(), path.clone());
                    stack.push((path, sub, depth + 1));
                }
            } else if let Some((_, format)) = segauge_io::case_id(&path) {
                // DICOM files below the top level are image series, not segmentations.
                if format != segauge_io::Format::Dicom || depth == 0 {
                    out.files.insert(sub, path);
                }
            }
        }
    }
    Ok(out)
}

/// The last component of a relative path and its parent (empty at the top level).
fn split(rel: &str) -> (&str, &str) {
    rel.rsplit_once('/').map_or(("", rel), |(p, n)| (p, n))
}

/// Cases found without a pattern (see the module docs); `other` is the other side, whose case ids make a
/// top-level folder of masks a case.
fn discover(walk: &Walk, other: &Walk) -> Found {
    // Case ids of files, before folders of masks are known.
    let file_id = |rel: &str, path: &Path| -> Option<String> {
        let (stem, _) = segauge_io::case_id(path)?;
        let (parent, _) = split(rel);
        let (_, folder) = split(parent);
        Some(if !folder.is_empty() && stem.starts_with(&format!("{folder}_")) {
            folder.to_string()
        } else {
            stem
        })
    };
    let other_ids: BTreeSet<String> = other
        .files
        .iter()
        .filter_map(|(rel, p)| file_id(rel, p))
        .chain(other.dirs.keys().filter_map(|rel| mask_folder_id(rel)))
        .collect();
    // Folders of masks: `D/segmentations`, or a top-level `D` of masks not named after it that the other side
    // knows as a case.
    let mut mask_dirs: BTreeMap<String, (String, PathBuf)> = BTreeMap::new(); // prefix → (id, folder)
    for (rel, path) in &walk.dirs {
        if let Some(id) = mask_folder_id(rel) {
            let case_dir = split(rel).0.to_string();
            mask_dirs
                .insert(case_dir, (id, walk.dirs.get(split(rel).0).cloned().unwrap_or_else(|| path.clone())));
        } else if !rel.contains('/') && other_ids.contains(rel.as_str()) {
            let inside: Vec<&String> = walk.files.keys().filter(|f| split(f).0 == rel).collect();
            let named = inside.iter().any(|f| split(f).1.starts_with(rel.as_str()));
            if !inside.is_empty() && !named {
                mask_dirs.insert(rel.clone(), (rel.clone(), path.clone()));
            }
        }
    }
    let mut out = Found::new();
    for (id, dir) in mask_dirs.values() {
        out.entry(id.clone()).or_default().push(dir.clone());
    }
    for (rel, path) in &walk.files {
        let inside_mask_dir = mask_dirs.keys().any(|d| rel.starts_with(&format!("{d}/")));
        if inside_mask_dir {
            continue;
        }
        if let Some(id) = file_id(rel, path) {
            out.entry(id).or_default().push(path.clone());
        }
    }
    out
}

/// The case id of a `segmentations` folder (its parent's name), when `rel` is one below the top level.
fn mask_folder_id(rel: &str) -> Option<String> {
    let (parent, name) = split(rel);
    if name != "segmentations" || parent.is_empty() {
        return None;
    }
    Some(split(parent).1.to_string())
}

/// The case id `rel` gives under `pattern`, when it matches.
fn match_pattern(pattern: &str, rel: &str) -> Option<String> {
    let parts: Vec<&str> = pattern.split("{case}").collect();
    let rest = rel.strip_prefix(parts[0])?;
    // The first {case} ends somewhere before the next literal; try every end (ids have no '/').
    let limit = rest.find('/').unwrap_or(rest.len());
    (1..=limit).filter(|&end| rest.is_char_boundary(end)).find_map(|end| {
        let id = &rest[..end];
        let expected: String = parts[1..].iter().enumerate().fold(String::new(), |mut acc, (i, lit)| {
            if i > 0 {
                acc.push_str(id);
            }
            acc.push_str(lit);
            acc
        });
        (rest[end..] == expected).then(|| id.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_capture_the_same_id_everywhere() {
        assert_eq!(
            match_pattern("{case}/{case}_seg.nii.gz", "BraTS_001/BraTS_001_seg.nii.gz"),
            Some("BraTS_001".into())
        );
        assert_eq!(match_pattern("{case}/{case}_seg.nii.gz", "a/b_seg.nii.gz"), None);
        assert_eq!(match_pattern("{case}_0000.nii.gz", "liver_7_0000.nii.gz"), Some("liver_7".into()));
        assert_eq!(match_pattern("{case}_0000.nii.gz", "liver_7_0001.nii.gz"), None);
        assert_eq!(match_pattern("labels/{case}.nii.gz", "labels/x.nii.gz"), Some("x".into()));
        assert_eq!(match_pattern("{case}/segmentations", "s01/segmentations"), Some("s01".into()));
        assert_eq!(match_pattern("{case}.nii.gz", "deep/x.nii.gz"), None);
    }

    #[test]
    fn bad_patterns_are_refused() {
        let bad =
            |p: &str| PairOptions { gt_pattern: Some(p.into()), ..Default::default() }.validate().is_err();
        assert!(bad("labels.nii.gz") && bad("/abs/{case}.nii") && bad("../{case}.nii") && bad("a//{case}"));
        assert!(!bad("{case}/{case}_seg.nii.gz"));
    }
}
