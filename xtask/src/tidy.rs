//! `cargo xtask tidy`: the architecture invariants of ARCHITECTURE.md, checked against the real workspace.
//!
//! 1. Layering: a segauge crate may depend (normal or build dependency) only on segauge crates below it in
//!    [`LAYERS`]; dev-dependencies are free. Read from `cargo metadata`.
//! 2. Every Rust module of the workspace starts with a `//!` doc comment.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// The crate order, lowest first.
pub(crate) const LAYERS: [&str; 8] = [
    "segauge-io",
    "segauge-mesh",
    "segauge-metrics",
    "segauge-lesion",
    "segauge-stats",
    "segauge-report",
    "segauge",
    "segauge-cli",
];

pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .context("cannot run cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).context("cargo metadata output")?;
    let mut problems = layering_violations(&meta);
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

/// One line per dependency that points up or sideways in [`LAYERS`].
pub(crate) fn layering_violations(meta: &serde_json::Value) -> Vec<String> {
    let rank = |name: &str| LAYERS.iter().position(|l| *l == name);
    let mut bad = Vec::new();
    for pkg in meta["packages"].as_array().into_iter().flatten() {
        let Some(name) = pkg["name"].as_str() else { continue };
        let Some(r) = rank(name) else { continue };
        for dep in pkg["dependencies"].as_array().into_iter().flatten() {
            if dep["kind"].as_str() == Some("dev") {
                continue;
            }
            let Some(dep_name) = dep["name"].as_str() else { continue };
            if let Some(d) = rank(dep_name) {
                if d >= r {
                    bad.push(format!("layering: {name} depends on {dep_name}, which sits at or above it"));
                }
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
            ["layering: segauge-io depends on segauge-report, which sits at or above it"]
        );
        let sideways = meta(&[("segauge-metrics", &[("segauge-metrics", None)])]);
        assert_eq!(layering_violations(&sideways).len(), 1);
        let build_dep = meta(&[("segauge-stats", &[("segauge-cli", Some("build"))])]);
        assert_eq!(layering_violations(&build_dep).len(), 1);
    }

    #[test]
    fn downward_and_dev_dependencies_pass() {
        let m = meta(&[
            ("segauge-report", &[("segauge-io", None), ("segauge-metrics", None), ("serde", None)]),
            ("segauge-io", &[("segauge-cli", Some("dev"))]),
        ]);
        assert!(layering_violations(&m).is_empty());
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
