//! Structures: what a case is measured on. A structure is a label, a region (the union of several labels, as
//! nnU-Net's region-based training and BraTS' whole tumour / tumour core / enhancing tumour define them) or a mask
//! named after its file (a folder of per-structure masks, as TotalSegmentator writes). Every structure has a name;
//! a label or region keeps its numbers.
//!
//! Names come from, in this order of authority: the options ([`EvalOptions::names`](crate::EvalOptions),
//! filled from `--label-names` or an nnU-Net `dataset.json`, see [`DatasetLabels`]), then the files of each case
//! (a NIfTI label table, DICOM-SEG segment labels, RTSTRUCT ROI names, mask file names). A label named two ways
//! is an error, never a guess: in the options it is refused before any work, between a case's files or against
//! the options it fails that case, naming both names and where each came from. An unnamed label is named by its
//! number (`"3"`), and a mask file named by a number (`3.nii.gz`) is that label.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::Error;
use crate::options::EvalOptions;

/// The name of [`Structure::foreground_mean`].
pub(crate) const FOREGROUND_MEAN: &str = "(foreground mean)";

/// A structure of the records and aggregates.
///
/// ```
/// use segauge_eval::Structure;
/// let liver = Structure::label(5, Some("liver"));
/// assert_eq!((liver.name.as_str(), liver.label), ("liver", Some(5)));
/// assert_eq!(Structure::label(3, None).name, "3");
/// let wt = Structure::region("WT", &[1, 2, 3]);
/// assert_eq!((wt.label, wt.region.as_slice()), (None, &[1, 2, 3][..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Structure {
    /// Its name, unique in a run: the label's name, the region's, the mask file's; an unnamed label's number.
    pub name: String,
    /// Its label, when it is one label (a mask file is one when a name source numbers it).
    pub label: Option<u32>,
    /// The labels it unites, when it is a region (ascending); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub region: Vec<u32>,
}

impl Structure {
    /// Label `label`, named `name` or else by its number.
    pub fn label(label: u32, name: Option<&str>) -> Structure {
        Structure {
            name: name.map_or_else(|| label.to_string(), str::to_string),
            label: Some(label),
            region: Vec::new(),
        }
    }

    /// The region `name`: the union of `labels`.
    pub fn region(name: &str, labels: &[u32]) -> Structure {
        let mut region = labels.to_vec();
        region.sort_unstable();
        region.dedup();
        Structure { name: name.to_string(), label: None, region }
    }

    /// The pseudo-structure of the foreground mean over structures (nnU-Net's `foreground_mean`): named
    /// `(foreground mean)`, with parentheses so that it cannot be taken for a structure of the files.
    ///
    /// ```
    /// let s = segauge_eval::Structure::foreground_mean();
    /// assert_eq!((s.name.as_str(), s.label), ("(foreground mean)", None));
    /// ```
    pub fn foreground_mean() -> Structure {
        Structure { name: FOREGROUND_MEAN.to_string(), label: None, region: Vec::new() }
    }

    /// A mask known by its name only.
    pub fn mask(name: &str) -> Structure {
        Structure { name: name.to_string(), label: None, region: Vec::new() }
    }

    /// Its labels: the label, the region's labels, or none.
    pub fn labels(&self) -> Vec<u32> {
        match self.label {
            Some(l) => vec![l],
            None => self.region.clone(),
        }
    }

    /// The label column of tables: the label, the region's labels joined by `+`, or empty.
    ///
    /// ```
    /// use segauge_eval::Structure;
    /// assert_eq!(Structure::region("TC", &[3, 1]).label_text(), "1+3");
    /// assert_eq!(Structure::label(7, None).label_text(), "7");
    /// ```
    pub fn label_text(&self) -> String {
        match self.label {
            Some(l) => l.to_string(),
            None => self.region.iter().map(u32::to_string).collect::<Vec<_>>().join("+"),
        }
    }
}

impl fmt::Display for Structure {
    /// The name, with the label when the name is not the label's number: `liver (5)`, `3`, `WT (1+2+3)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.label_text();
        if text.is_empty() || text == self.name {
            write!(f, "{}", self.name)
        } else {
            write!(f, "{} ({text})", self.name)
        }
    }
}

/// One item of a structure selection (`--labels 1,liver,WT`): a label number or a name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LabelRef {
    /// A label by number.
    Number(u32),
    /// A label, region or mask by name.
    Name(String),
}

impl FromStr for LabelRef {
    type Err = String;

    /// A number is a label, anything else a name.
    ///
    /// ```
    /// use segauge_eval::LabelRef;
    /// assert_eq!("3".parse(), Ok(LabelRef::Number(3)));
    /// assert_eq!(" liver ".parse(), Ok(LabelRef::Name("liver".into())));
    /// assert!("".parse::<LabelRef>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<LabelRef, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("an empty label name".into());
        }
        Ok(match t.parse::<u32>() {
            Ok(n) => LabelRef::Number(n),
            Err(_) => LabelRef::Name(t.to_string()),
        })
    }
}

impl fmt::Display for LabelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelRef::Number(n) => write!(f, "{n}"),
            LabelRef::Name(s) => write!(f, "{s}"),
        }
    }
}

/// A region: a structure that is the union of several labels.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Region {
    /// Its name.
    pub name: String,
    /// The labels it unites.
    pub labels: Vec<u32>,
}

impl FromStr for Region {
    type Err = String;

    /// `NAME=1,2,3`.
    ///
    /// ```
    /// use segauge_eval::Region;
    /// let wt: Region = "WT=1,2,3".parse()?;
    /// assert_eq!((wt.name.as_str(), wt.labels), ("WT", vec![1, 2, 3]));
    /// assert!("WT=".parse::<Region>().is_err());
    /// assert!("1,2".parse::<Region>().is_err());
    /// # Ok::<(), String>(())
    /// ```
    fn from_str(text: &str) -> Result<Region, String> {
        let (name, labels) =
            text.split_once('=').ok_or_else(|| format!("region {text:?} is not NAME=LABEL,LABEL,…"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("region {text:?} has no name"));
        }
        let labels = labels
            .split(',')
            .map(|l| {
                l.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("region {name}: {:?} is not a label number", l.trim()))
            })
            .collect::<Result<Vec<u32>, String>>()?;
        Ok(Region { name: name.to_string(), labels })
    }
}

/// The label definitions of an nnU-Net `dataset.json`: label names, regions, the ignore label, the file ending.
///
/// nnU-Net v2 writes `"labels": {"background": 0, "liver": 1, "whole tumor": [1, 2, 3], "ignore": 4}`: a number
/// names a label, a list defines a region, the entry named `ignore` is the ignore label. nnU-Net v1 (Medical
/// Segmentation Decathlon) writes `"labels": {"0": "background", "1": "liver"}`; both are read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DatasetLabels {
    /// Label → name (background left out).
    pub names: BTreeMap<u32, String>,
    /// Regions, in the file's order.
    pub regions: Vec<Region>,
    /// The ignore label.
    pub ignore: Option<u32>,
    /// `file_ending` (e.g. `.nii.gz`), when given.
    pub file_ending: Option<String>,
}

impl DatasetLabels {
    /// Reads the `labels` (and `file_ending`) of a `dataset.json`.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("dataset.json");
    /// std::fs::write(&path, r#"{"labels": {"background": 0, "edema": 1, "whole tumor": [1, 2, 3],
    ///                           "enhancing tumor": 3, "ignore": 4}, "file_ending": ".nii.gz"}"#)?;
    /// let d = segauge_eval::DatasetLabels::read(&path)?;
    /// assert_eq!(d.names[&3], "enhancing tumor");
    /// assert_eq!((d.regions[0].name.as_str(), d.regions[0].labels.clone()), ("whole tumor", vec![1, 2, 3]));
    /// assert_eq!(d.ignore, Some(4));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`] naming the file: unreadable, not JSON, no `labels` object, a value that is neither a label
    /// number nor a list of them, two names for one label ([`segauge_io::read_dataset_json`]).
    pub fn read(path: &Path) -> Result<DatasetLabels, Error> {
        let d = segauge_io::read_dataset_json(path)?;
        Ok(DatasetLabels {
            names: d.names,
            regions: d.regions.into_iter().map(|(name, labels)| Region { name, labels }).collect(),
            ignore: d.ignore,
            file_ending: d.file_ending,
        })
    }
}

/// Where a run's label definitions come from, besides the files: what `--labels-from`, `--label-names`,
/// `--region` and `--ignore-label` give (and the Python package's keyword arguments of the same names).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSources {
    /// An nnU-Net `dataset.json` to read.
    pub dataset_json: Option<std::path::PathBuf>,
    /// Label names (label, name), in the order given.
    pub names: Vec<(u32, String)>,
    /// Regions.
    pub regions: Vec<Region>,
    /// The ignore label.
    pub ignore: Option<u32>,
}

impl LabelSources {
    /// Sets the names, regions and ignore label of `options`: the `dataset.json` first, then the names, regions
    /// and ignore label given, which must agree with it; with names known, every region's label must be named.
    ///
    /// ```
    /// use segauge_eval::{EvalOptions, LabelSources, Region};
    /// let mut options = EvalOptions::default();
    /// let sources = LabelSources {
    ///     names: vec![(1, "edema".into()), (2, "core".into())],
    ///     regions: vec![Region { name: "WT".into(), labels: vec![1, 2] }],
    ///     ..Default::default()
    /// };
    /// sources.apply(&mut options)?;
    /// assert_eq!(options.names[&2], "core");
    /// let bad = LabelSources { regions: vec![Region { name: "X".into(), labels: vec![1, 9] }], ..sources };
    /// assert!(bad.apply(&mut EvalOptions::default()).unwrap_err().to_string().contains("names label 9"));
    /// # Ok::<(), segauge_eval::Error>(())
    /// ```
    ///
    /// # Errors
    /// The `dataset.json`'s errors ([`Error::Io`]); [`Error::InvalidOption`] for two names of one label, a region
    /// or ignore label defined two ways, or a region naming a label the names do not define.
    pub fn apply(&self, options: &mut EvalOptions) -> Result<(), Error> {
        let bad = |detail: String| Err(Error::InvalidOption { detail });
        let mut source = "the label names".to_string();
        if let Some(path) = &self.dataset_json {
            let d = DatasetLabels::read(path)?;
            source = path.display().to_string();
            options.names = d.names;
            options.regions = d.regions;
            options.ignore_label = d.ignore;
        }
        for (label, name) in &self.names {
            if let Some(old) = options.names.get(label).filter(|old| *old != name) {
                return bad(format!("label names: label {label} is {name:?} here but {old:?} in {source}"));
            }
            options.names.insert(*label, name.clone());
        }
        for r in &self.regions {
            match options.regions.iter().find(|o| o.name == r.name) {
                Some(o) if o.labels != r.labels => {
                    return bad(format!(
                        "region {:?}: {source} defines it as {:?}, here {:?}",
                        r.name, o.labels, r.labels
                    ));
                }
                Some(_) => {}
                None => options.regions.push(r.clone()),
            }
        }
        if let Some(i) = self.ignore {
            if let Some(old) = options.ignore_label.filter(|&o| o != i) {
                return bad(format!("ignore label {i}: {source} makes label {old} the ignore label"));
            }
            options.ignore_label = Some(i);
        }
        if !options.names.is_empty() {
            for r in &options.regions {
                if let Some(l) = r.labels.iter().find(|l| !options.names.contains_key(l)) {
                    return bad(format!(
                        "region {:?} names label {l}, which the label names do not define ({})",
                        r.name,
                        crate::sides::list_names(&options.names)
                    ));
                }
            }
        }
        Ok(())
    }
}

/// An nnU-Net `dataset.json` in the ground-truth folder (or the ground-truth file's folder) or the folder above it,
/// as nnU-Net keeps it beside `labelsTr/`.
pub fn dataset_json_near(gt: &Path) -> Option<std::path::PathBuf> {
    let dir = if gt.is_dir() { gt.to_path_buf() } else { gt.parent()?.to_path_buf() };
    [Some(dir.join("dataset.json")), dir.parent().map(|p| p.join("dataset.json"))]
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
}

/// Merges the label names of `from` (described by `from_what`) into `into` (described by `into_what`).
///
/// # Errors
/// The first label both name differently, as one line naming both names and both sources.
pub(crate) fn merge_names(
    into: &mut BTreeMap<u32, String>,
    into_what: &str,
    from: &BTreeMap<u32, String>,
    from_what: &str,
) -> Result<(), String> {
    for (label, name) in from {
        match into.get(label) {
            Some(old) if old != name => {
                return Err(format!(
                    "label {label} is {old:?} in {into_what} but {name:?} in {from_what}; the two label maps \
                     disagree (a different class map or version?)"
                ));
            }
            Some(_) => {}
            None => {
                into.insert(*label, name.clone());
            }
        }
    }
    Ok(())
}

/// Checks the label names, regions and ignore label of the options together.
pub(crate) fn validate(
    names: &BTreeMap<u32, String>,
    regions: &[Region],
    ignore: Option<u32>,
) -> Result<(), Error> {
    let bad = |detail: String| Err(Error::InvalidOption { detail });
    let mut by_name: BTreeMap<&str, String> = BTreeMap::new();
    for (label, name) in names {
        if *label == 0 {
            return bad(format!("label 0 is background and cannot be named ({name:?})"));
        }
        if name.trim().is_empty() || name.trim() != name {
            return bad(format!("label {label} has the name {name:?}: names are non-empty and not padded"));
        }
        if name == FOREGROUND_MEAN {
            return bad(format!("label {label} is named {name:?}: the name of the foreground mean"));
        }
        if name.parse::<u32>().is_ok() {
            return bad(format!("label {label} is named {name:?}: a name cannot be a number"));
        }
        if let Some(other) = by_name.insert(name.as_str(), format!("label {label}")) {
            return bad(format!("{other} and label {label} are both named {name:?}"));
        }
    }
    for r in regions {
        if r.name.trim().is_empty() || r.name.parse::<u32>().is_ok() {
            return bad(format!("region {:?} needs a name that is not a number", r.name));
        }
        if r.labels.is_empty() || r.labels.contains(&0) {
            return bad(format!("region {:?} needs one or more labels ≥ 1", r.name));
        }
        if let Some(i) = ignore.filter(|i| r.labels.contains(i)) {
            return bad(format!("region {:?} contains the ignore label {i}", r.name));
        }
        if let Some(other) = by_name.insert(r.name.as_str(), format!("region {:?}", r.name)) {
            return bad(format!("{other} and region {:?} share the name {:?}", r.name, r.name));
        }
    }
    if let Some(i) = ignore {
        if i == 0 {
            return bad("the ignore label cannot be 0 (background)".into());
        }
        if let Some(n) = names.get(&i) {
            return bad(format!("label {i} ({n:?}) cannot be both named as a structure and ignored"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_names_refuses_a_second_name_naming_both_sources() {
        let mut a: BTreeMap<u32, String> = [(1, "spleen".to_string())].into();
        merge_names(
            &mut a,
            "--label-names",
            &[(1, "spleen".to_string()), (2, "liver".to_string())].into(),
            "b.nii",
        )
        .unwrap();
        assert_eq!(a.len(), 2);
        let e =
            merge_names(&mut a, "--label-names", &[(2, "kidney".to_string())].into(), "c.nii").unwrap_err();
        assert!(e.starts_with("label 2 is \"liver\" in --label-names but \"kidney\" in c.nii"), "{e}");
    }

    #[test]
    fn validation_catches_clashes() {
        let names: BTreeMap<u32, String> = [(1, "a".to_string()), (2, "b".to_string())].into();
        let wt = Region { name: "WT".into(), labels: vec![1, 2] };
        assert!(validate(&names, std::slice::from_ref(&wt), Some(3)).is_ok());
        assert!(validate(&names, &[Region { name: "a".into(), labels: vec![1] }], None).is_err());
        assert!(validate(&names, &[Region { name: "X".into(), labels: vec![] }], None).is_err());
        assert!(validate(&names, &[wt], Some(2)).is_err());
        assert!(validate(&[(1, "a".to_string()), (2, "a".to_string())].into(), &[], None).is_err());
        assert!(validate(&[(1, "7".to_string())].into(), &[], None).is_err());
        assert!(validate(&names, &[], Some(1)).is_err());
        assert!(validate(&names, &[], Some(0)).is_err());
    }
}
