//! `cargo xtask tidy`: the architecture invariants of ARCHITECTURE.md, checked against the real workspace.
//!
//! 1. Layering: every segauge crate may depend (normal or build dependency) only on the segauge crates its row
//!    of [`CRATES`] allows, all of them below it; dev-dependencies are free. Read from `cargo metadata`.
//! 2. Formats: only the crates [`CRATES`] allows may depend on a serialisation crate ([`FORMAT_CRATES`]).
//! 3. Every Rust module of the workspace starts with a `//!` doc comment.
//!
//! `cargo xtask tidy --libraries` prints the library crates of the table, one per line: `.ci/run` checks each
//! alone without default features from this list, so the table is the one source of the crate set.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// One crate of the workspace: what it may depend on, and why it is where it is.
pub(crate) struct Layer {
    /// Package name.
    pub(crate) name: &'static str,
    /// The segauge crates it may depend on (each must come earlier in [`CRATES`]).
    pub(crate) allowed: &'static [&'static str],
    /// The serialisation crates it may depend on.
    pub(crate) formats: &'static [&'static str],
    /// A library (checked alone without default features in CI), not a front end.
    pub(crate) library: bool,
}

/// The crates, lowest layer first (ARCHITECTURE.md's table). A crate uses a lower one only where it needs it.
pub(crate) const CRATES: [Layer; 10] = [
    // Label volumes and readers; serde_json reads the JSON sidecars of .npy inputs (an input, not an output).
    Layer { name: "segauge-io", allowed: &[], formats: &["serde_json"], library: true },
    Layer { name: "segauge-mesh", allowed: &[], formats: &[], library: true },
    Layer { name: "segauge-metrics", allowed: &["segauge-io", "segauge-mesh"], formats: &[], library: true },
    Layer {
        name: "segauge-lesion",
        allowed: &["segauge-mesh", "segauge-metrics"],
        formats: &[],
        library: true,
    },
    // Numbers in, numbers out: no segauge crate.
    Layer { name: "segauge-stats", allowed: &[], formats: &[], library: true },
    Layer {
        name: "segauge-eval",
        allowed: &["segauge-io", "segauge-mesh", "segauge-metrics", "segauge-lesion", "segauge-stats"],
        formats: &[],
        library: true,
    },
    // The only crate that writes formats (and reads the metadata CSV).
    Layer {
        name: "segauge-report",
        allowed: &["segauge-io", "segauge-metrics", "segauge-lesion", "segauge-stats", "segauge-eval"],
        formats: &["serde_json", "csv"],
        library: true,
    },
    Layer {
        name: "segauge",
        allowed: &[
            "segauge-io",
            "segauge-metrics",
            "segauge-lesion",
            "segauge-stats",
            "segauge-eval",
            "segauge-report",
        ],
        formats: &[],
        library: true,
    },
    // The front ends use the facade only, and never each other.
    Layer { name: "segauge-cli", allowed: &["segauge"], formats: &[], library: false },
    Layer { name: "segauge-py", allowed: &["segauge"], formats: &[], library: false },
];

/// Crates that serialise to a format.
pub(crate) const FORMAT_CRATES: [&str; 4] = ["serde_json", "csv", "toml", "serde_yaml"];

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    if args.first().map(String::as_str) == Some("--libraries") {
        for layer in CRATES.iter().filter(|l| l.library) {
            println!("{}", layer.name);
        }
        return Ok(());
    }
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .context("cannot run cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).context("cargo metadata output")?;
    let mut problems = table_problems();
    problems.extend(layering_violations(&meta));
    problems.extend(modules_without_docs(root)?);
    if problems.is_empty() {
        println!("tidy: ok");
        Ok(())
    } else {
        for p in &problems {
            eprintln!("{p}");
        }
        bail!("tidy: {} problem(s)", problems.len())
    }
}

/// One line per dependency that [`CRATES`] does not allow: a segauge crate outside the row's list, or a format
/// crate outside its formats. A segauge package missing from the table is a violation too.
pub(crate) fn layering_violations(meta: &serde_json::Value) -> Vec<String> {
    let mut bad = Vec::new();
    for pkg in meta["packages"].as_array().into_iter().flatten() {
        let Some(name) = pkg["name"].as_str() else { continue };
        let Some(layer) = CRATES.iter().find(|l| l.name == name) else {
            let internal = ["segauge-tests", "segauge-benches", "xtask"];
            if name.starts_with("segauge") && !internal.contains(&name) {
                bad.push(format!(
                    "layering: {name} is not in the crate table (xtask/src/tidy.rs, ARCHITECTURE.md)"
                ));
            }
            continue;
        };
        for dep in pkg["dependencies"].as_array().into_iter().flatten() {
            if dep["kind"].as_str() == Some("dev") {
                continue;
            }
            let Some(dep_name) = dep["name"].as_str() else { continue };
            if CRATES.iter().any(|l| l.name == dep_name) && !layer.allowed.contains(&dep_name) {
                bad.push(format!(
                    "layering: {name} depends on {dep_name}, which its row of the crate table does not allow"
                ));
            }
            if FORMAT_CRATES.contains(&dep_name) && !layer.formats.contains(&dep_name) {
                bad.push(format!(
                    "formats: {name} depends on {dep_name}; only segauge-report writes formats"
                ));
            }
        }
    }
    bad
}

/// Each row may allow only crates above it in the table (lower layers).
pub(crate) fn table_problems() -> Vec<String> {
    let mut bad = Vec::new();
    for (i, layer) in CRATES.iter().enumerate() {
        for dep in layer.allowed {
            match CRATES.iter().position(|l| l.name == *dep) {
                Some(d) if d < i => {}
                _ => bad.push(format!("table: {} allows {dep}, which is not a lower layer", layer.name)),
            }
        }
    }
    bad
}

/// Rust files under the workspace's source folders whose first non-empty line is not a `//!` comment.
fn modules_without_docs(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut files = Vec::new();
    for top in ["crates", "tests", "benches", "xtask"] {
        collect_rs(&root.join(top), &mut files)?;
    }
    let mut bad = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).with_context(|| format!("{}", f.display()))?;
        let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
        if !first.starts_with("//!") {
            let rel = f.strip_prefix(root).unwrap_or(&f);
            bad.push(format!("docs: {} does not start with a //! module comment", rel.display()));
        }
    }
    Ok(bad)
}

fn collect_rs(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("{}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if name != "target" && name != "data" && !name.starts_with('.') {
                collect_rs(&path, out)?;
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    out.sort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (dependency name, kind: None for normal, Some("dev") / Some("build")).
    type Dep<'a> = (&'a str, Option<&'a str>);

    fn meta(pkgs: &[(&str, &[Dep<'_>])]) -> serde_json::Value {
        let packages: Vec<serde_json::Value> = pkgs
            .iter()
            .map(|(name, deps)| {
                let deps: Vec<serde_json::Value> =
                    deps.iter().map(|(d, kind)| serde_json::json!({"name": d, "kind": kind})).collect();
                serde_json::json!({"name": name, "dependencies": deps})
            })
            .collect();
        serde_json::json!({ "packages": packages })
    }

    #[test]
    fn a_lower_crate_depending_on_a_higher_one_fails() {
        let m = meta(&[("segauge-io", &[("segauge-report", None)])]);
        assert_eq!(
            layering_violations(&m),
            [
                "layering: segauge-io depends on segauge-report, which its row of the crate table does not allow"
            ]
        );
        let sideways = meta(&[("segauge-metrics", &[("segauge-metrics", None)])]);
        assert_eq!(layering_violations(&sideways).len(), 1);
        let build_dep = meta(&[("segauge-stats", &[("segauge-cli", Some("build"))])]);
        assert_eq!(layering_violations(&build_dep).len(), 1);
    }

    #[test]
    fn a_downward_dependency_the_table_does_not_allow_fails() {
        // Lower in the order but not needed: segauge-stats takes numbers, never volumes.
        let m = meta(&[("segauge-stats", &[("segauge-io", None)])]);
        assert_eq!(layering_violations(&m).len(), 1);
        // The front end goes through the facade only.
        let m = meta(&[("segauge-cli", &[("segauge-eval", None)])]);
        assert_eq!(layering_violations(&m).len(), 1);
        // A new segauge crate must enter the table.
        let m = meta(&[("segauge-extra", &[])]);
        assert_eq!(layering_violations(&m).len(), 1);
    }

    #[test]
    fn only_the_formats_crate_serialises() {
        let m = meta(&[("segauge-eval", &[("serde_json", None)]), ("segauge-cli", &[("csv", None)])]);
        assert_eq!(layering_violations(&m).len(), 2);
        let ok = meta(&[
            ("segauge-report", &[("serde_json", None), ("csv", None)]),
            ("segauge-eval", &[("serde", None)]),
        ]);
        assert!(layering_violations(&ok).is_empty());
    }

    #[test]
    fn downward_and_dev_dependencies_pass() {
        let m = meta(&[
            ("segauge-report", &[("segauge-io", None), ("segauge-metrics", None), ("serde", None)]),
            ("segauge-io", &[("segauge-cli", Some("dev"))]),
        ]);
        assert!(layering_violations(&m).is_empty());
        assert_eq!(table_problems(), Vec::<String>::new());
    }

    #[test]
    fn the_real_workspace_is_layered() {
        let root = crate::project_root();
        let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
            .current_dir(&root)
            .output()
            .expect("cargo metadata runs");
        let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert!(meta["packages"].as_array().is_some_and(|p| p.len() >= 5));
        assert_eq!(layering_violations(&meta), Vec::<String>::new());
        assert_eq!(modules_without_docs(&root).expect("readable"), Vec::<String>::new());
    }
}
