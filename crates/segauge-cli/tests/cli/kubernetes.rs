//! The Kubernetes recipe (deploy/kubernetes) run without a cluster: the Indexed Job's container command is
//! rendered as Kubernetes runs it (`JOB_COMPLETION_INDEX` set per pod, the volumes' mount paths pointing at local
//! folders, `segauge` on the PATH as in the image) and run for every index, then the merge Job's arguments after
//! the image's entry point; the outputs must be those of one `eval`, byte for byte.
//!
//! The manifests are read as text with the few YAML forms they use (`key: value`, a flow list, a block list whose
//! item may be a folded `>-` scalar); a form this reader does not know fails the test rather than being guessed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::text;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The value of the first `key: value` line (any indentation), without quotes.
fn scalar<'a>(yaml: &'a str, key: &str) -> Option<&'a str> {
    yaml.lines()
        .find_map(|l| l.trim_start().strip_prefix(&format!("{key}:")).map(|v| v.trim().trim_matches('"')))
}

/// The lines of a block under the first `key:` line: those indented more than it.
fn block<'a>(yaml: &'a str, key: &str) -> Vec<&'a str> {
    let mut lines = yaml.lines().skip_while(|l| l.trim_start() != format!("{key}:"));
    let Some(head) = lines.next() else { return vec![] };
    let indent = head.len() - head.trim_start().len();
    lines.take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent).collect()
}

/// A block list: `- item` lines; an item `>-` folds the lines indented under it into one line (YAML's folded
/// scalar, lines joined by spaces).
fn block_list(lines: &[&str]) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    let mut folding = false;
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        let t = line.trim_start();
        if let Some(item) = t.strip_prefix("- ") {
            folding = item.trim() == ">-";
            assert!(!item.starts_with('|') && !item.starts_with('>') || folding, "unknown YAML form: {line}");
            items.push(if folding { String::new() } else { item.trim().trim_matches('"').to_string() });
        } else {
            assert!(folding, "unknown YAML form in a list: {line}");
            let last = items.last_mut().expect("an item");
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(t);
        }
    }
    items
}

/// A flow list: `["a", "b"]`.
fn flow_list(value: &str) -> Vec<String> {
    let inner = value.trim().strip_prefix('[').and_then(|v| v.strip_suffix(']')).expect("a flow list");
    inner.split(',').map(|s| s.trim().trim_matches('"').to_string()).collect()
}

/// `mountPath` → volume name of the container's `volumeMounts` (`- {name: x, mountPath: /y, ...}`).
fn mounts(yaml: &str) -> BTreeMap<String, String> {
    block(yaml, "volumeMounts")
        .iter()
        .filter_map(|l| {
            let fields = l.trim_start().strip_prefix("- {")?.strip_suffix('}')?;
            let field = |k: &str| {
                fields
                    .split(',')
                    .find_map(|f| f.trim().strip_prefix(&format!("{k}:")).map(|v| v.trim().to_string()))
            };
            Some((field("mountPath")?, field("name")?))
        })
        .collect()
}

/// `text` with every mount path (a path prefix: followed by `/`, a space, a quote or the end) replaced by the
/// local folder of its volume.
fn mounted(text: &str, mounts: &BTreeMap<String, String>, local: &dyn Fn(&str) -> PathBuf) -> String {
    let mut out = text.to_string();
    for (path, volume) in mounts {
        let to = local(volume).to_str().unwrap().to_string();
        let mut rendered = String::new();
        let mut rest = out.as_str();
        while let Some(i) = rest.find(path.as_str()) {
            let after = rest[i + path.len()..].chars().next();
            let before = rest[..i].chars().last();
            let starts = before.is_none_or(|c| c == ' ' || c == '=' || c == '"');
            let ends = after.is_none_or(|c| c == '/' || c == ' ' || c == '"');
            rendered.push_str(&rest[..i]);
            rendered.push_str(if starts && ends { &to } else { path });
            rest = &rest[i + path.len()..];
        }
        rendered.push_str(rest);
        out = rendered;
    }
    out
}

#[test]
fn the_indexed_job_and_the_merge_job_give_the_bytes_of_one_run() {
    let (shards, merge, dockerfile) = (
        read("deploy/kubernetes/shards.yaml"),
        read("deploy/kubernetes/merge.yaml"),
        read("deploy/Dockerfile"),
    );
    assert_eq!(scalar(&shards, "completionMode"), Some("Indexed"));
    let n: usize = scalar(&shards, "completions").unwrap().parse().unwrap();
    assert_eq!(scalar(&shards, "parallelism"), Some(n.to_string().as_str()), "parallelism = completions");
    let command = flow_list(scalar(&shards, "command").expect("the Indexed Job's command"));
    let args = block_list(&block(&shards, "args"));
    assert_eq!(args.len(), 1, "one script: {args:?}");
    assert!(args[0].contains(&format!("/{n}\"")), "the N of --shard is completions ({n}): {}", args[0]);
    // The image's entry point, which the merge Job's args follow (it sets no command).
    let entry = dockerfile.lines().find_map(|l| l.strip_prefix("ENTRYPOINT ")).map(flow_list).unwrap();
    assert_eq!(scalar(&merge, "command"), None);
    let merge_args = block_list(&block(&merge, "args"));

    // The volumes: data (the example data set with metadata), parts, out.
    let dir = tempfile::tempdir().unwrap();
    let local = |volume: &str| dir.path().join(volume);
    segauge_tests::write_example(&local("data")).unwrap();
    for volume in ["parts", "out"] {
        std::fs::create_dir_all(local(volume)).unwrap();
    }
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_segauge"));
    let path = format!("{}:{}", bin.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());

    // Every pod of the Indexed Job, at once (parallelism = completions).
    let script = mounted(&args[0], &mounts(&shards), &local);
    let pod = |index: usize| {
        let mut c = Command::new(&command[0]);
        c.args(&command[1..]).arg(&script).env("JOB_COMPLETION_INDEX", index.to_string()).env("PATH", &path);
        c
    };
    let children: Vec<_> =
        (0..n).map(|i| pod(i).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()).collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "pod {i}: {}", text(&out.stderr));
    }
    for k in 1..=n {
        assert!(local("parts").join(format!("segauge-shard-{k}-of-{n}.jsonl")).is_file(), "shard {k}/{n}");
    }
    // A retried pod (backoffLimitPerIndex) continues its file: nothing is evaluated twice.
    let retried = pod(0).output().unwrap();
    assert_eq!(retried.status.code(), Some(0), "{}", text(&retried.stderr));
    assert!(text(&retried.stderr).contains(", 0 to evaluate"), "{}", text(&retried.stderr));

    // The merge Job: the entry point, then its args.
    let merge_args: Vec<String> = merge_args.iter().map(|a| mounted(a, &mounts(&merge), &local)).collect();
    assert_eq!(entry, ["segauge"]);
    let merged = Command::new(&bin).args(&merge_args).output().unwrap();
    assert_eq!(merged.status.code(), Some(0), "{}", text(&merged.stderr));

    // One `eval` with the same inputs, metadata and (default) statistics, writing what the merge Job wrote.
    let one = dir.path().join("one");
    std::fs::create_dir_all(&one).unwrap();
    let out_dir = local("out");
    let written: Vec<(String, String)> = merge_args
        .iter()
        .filter_map(|a| {
            let (flag, path) = a.split_once('=')?;
            let name = Path::new(path).strip_prefix(&out_dir).ok()?;
            Some((flag.to_string(), name.to_str()?.to_string()))
        })
        .collect();
    assert_eq!(written.len(), 5, "the merge Job writes the five outputs: {merge_args:?}");
    let data = local("data");
    let mut single = Command::new(&bin);
    single.args([
        "eval",
        "--pred",
        data.join("pred").to_str().unwrap(),
        "--gt",
        data.join("gt").to_str().unwrap(),
    ]);
    single.args(["--metadata", data.join("cases.csv").to_str().unwrap()]);
    for (flag, name) in &written {
        single.arg(flag).arg(one.join(name));
    }
    let single = single.output().unwrap();
    assert_eq!(single.status.code(), Some(0), "{}", text(&single.stderr));
    for (_, name) in &written {
        let (a, b) = (std::fs::read(one.join(name)).unwrap(), std::fs::read(out_dir.join(name)).unwrap());
        assert!(a == b, "{name} differs between one eval and the Kubernetes recipe");
    }
}
