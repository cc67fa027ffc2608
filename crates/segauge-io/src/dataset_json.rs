//! nnU-Net's `dataset.json`: the label names, regions and ignore label of a data set ([`read_dataset_json`]).
//!
//! nnU-Net v2 writes `"labels": {"background": 0, "liver": 1, "whole tumor": [1, 2, 3], "ignore": 4}`: a number
//! names a label, a list of numbers defines a region (a structure that is their union), the entry named `ignore`
//! is the ignore label, `background` (0) is left out. nnU-Net v1 (the Medical Segmentation Decathlon's format)
//! writes `"labels": {"0": "background", "1": "liver"}`; both are read.

use std::collections::BTreeMap;
use std::path::Path;

use crate::Error;

/// The largest `dataset.json` read (nnU-Net's are a few kilobytes).
const MAX_BYTES: u64 = 16 << 20;

/// The label definitions of a `dataset.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DatasetJson {
    /// Label → name (background left out).
    pub names: BTreeMap<u32, String>,
    /// Regions as (name, labels), in the file's order.
    pub regions: Vec<(String, Vec<u32>)>,
    /// The ignore label.
    pub ignore: Option<u32>,
    /// `file_ending` (e.g. `.nii.gz`), when given.
    pub file_ending: Option<String>,
}

/// Reads the `labels` (and `file_ending`) of an nnU-Net `dataset.json`.
///
/// # Errors
/// [`Error::Io`] when unreadable; [`Error::NotFormat`] when not JSON, larger than 16 MiB or without a `labels`
/// object; [`Error::InvalidLabels`] for a value that is neither a label number nor a list of them, or a label
/// named twice.
pub fn read_dataset_json(path: &Path) -> Result<DatasetJson, Error> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let not = |detail: String| Error::NotFormat {
        path: path.to_path_buf(),
        format: "nnU-Net dataset.json",
        detail,
    };
    let bad = |detail: String| Error::InvalidLabels { path: path.to_path_buf(), detail };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_BYTES {
        return Err(not(format!("{len} bytes, more than a dataset.json holds")));
    }
    let text = std::fs::read(path).map_err(io)?;
    let json: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| not(crate::error::one_line(&e.to_string())))?;
    let labels =
        json.get("labels").and_then(|l| l.as_object()).ok_or_else(|| not("no \"labels\" object".into()))?;
    let mut out = DatasetJson {
        file_ending: json.get("file_ending").and_then(|f| f.as_str()).map(str::to_string),
        ..DatasetJson::default()
    };
    let quoted = |s: &str| crate::error::quote(s.as_bytes());
    let number = |v: &serde_json::Value, key: &str| -> Result<u32, Error> {
        v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
            bad(format!("label {}: {} is not a label number", quoted(key), quoted(&v.to_string())))
        })
    };
    let name = |out: &mut DatasetJson, label: u32, text: &str| -> Result<(), Error> {
        match out.names.get(&label) {
            Some(old) if old != text => {
                Err(bad(format!("label {label} is named both {} and {}", quoted(old), quoted(text))))
            }
            _ => {
                out.names.insert(label, text.to_string());
                Ok(())
            }
        }
    };
    for (key, value) in labels {
        if let (Ok(n), Some(text)) = (key.trim().parse::<u32>(), value.as_str()) {
            // nnU-Net v1: "1": "liver".
            if n != 0 {
                name(&mut out, n, text.trim())?;
            }
            continue;
        }
        match value {
            serde_json::Value::Array(items) => {
                let labels = items.iter().map(|v| number(v, key)).collect::<Result<Vec<u32>, Error>>()?;
                out.regions.push((key.clone(), labels));
            }
            v => {
                let n = number(v, key)?;
                if key == "ignore" {
                    out.ignore = Some(n);
                } else if n != 0 {
                    name(&mut out, n, key)?;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nnunet_v1_v2_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dataset.json");
        std::fs::write(&p, r#"{"labels": {"0": "background", "1": "liver", "2": "tumour"}}"#).unwrap();
        let d = read_dataset_json(&p).unwrap();
        assert_eq!(d.names.values().collect::<Vec<_>>(), ["liver", "tumour"]);
        std::fs::write(
            &p,
            r#"{"labels": {"background": 0, "a": 1, "b": [1, 2], "ignore": 3}, "file_ending": ".nii.gz"}"#,
        )
        .unwrap();
        let d = read_dataset_json(&p).unwrap();
        assert_eq!(
            (d.regions, d.ignore, d.file_ending.as_deref()),
            (vec![("b".into(), vec![1, 2])], Some(3), Some(".nii.gz"))
        );
        std::fs::write(&p, r#"{"labels": {"liver": "x"}}"#).unwrap();
        let e = read_dataset_json(&p).unwrap_err().to_string();
        assert!(
            e.contains("dataset.json: invalid label definitions: label \"liver\": \"\\\"x\\\"\" is not"),
            "{e}"
        );
        std::fs::write(&p, r#"{"name": "x"}"#).unwrap();
        assert!(read_dataset_json(&p).unwrap_err().to_string().ends_with("no \"labels\" object"));
        std::fs::write(&p, "not json").unwrap();
        assert!(read_dataset_json(&p).unwrap_err().to_string().contains("not a nnU-Net dataset.json file"));
    }
}
