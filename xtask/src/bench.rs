//! `cargo xtask bench [io | surface | many-labels | accuracy | mesh-vs-grid | lesion | stats | eval | dicom | python]
//! [--baseline NAME] [--ref-venv DIR] [-- ARGS…]`:
//! whole-process timings of the release CLI against reference tools (for `io`, after the criterion benchmarks of
//! `segauge-benches`), summarised in `target/xtask-bench/<bench>-<NAME>.json` (default NAME `main`); the
//! accuracy tables of every surface against analytic truth (`accuracy`, `mesh-vs-grid`: `segauge-accuracy` of
//! `segauge-benches`, report in `target/xtask-bench/<bench>-<NAME>.md` and `.json`); and the Python package
//! against the CLI, Rust and DeepMind's surface-distance (`python`).
//!
//! For `io`:
//! 1. `cargo bench -p segauge-benches --bench io -- --save-baseline NAME` (default NAME `main`), output streamed;
//! 2. `cargo build --release -p segauge-cli`, and the benchmark files made if missing (`segauge-bench-data`);
//! 3. `segauge compare --pred P --gt G --format json --surface none > /dev/null` (reading and overlap) and
//!    `gzip -dc P G > /dev/null` (plain
//!    decompression, the reference), each run [`RUNS`] times after one untimed warm-up run: median and minimum wall
//!    time, their ratio, and the peak resident set size of the segauge process.
//!
//! For `surface` (the surface-distance case of `segauge-benches`: one irregular organ of about 1.5 L against a
//! perturbed copy, 512×512×300 at 0.8×0.8×1.5 mm):
//! 0. `cargo bench -p segauge-benches --bench surface -- --save-baseline NAME` (the metrics on volumes in memory,
//!    per surface);
//! 1. `cargo build --release -p segauge-cli`, and the case's files made if missing (`segauge-bench-data surface`);
//! 2. `segauge compare --pred P --gt G --format json [SEGAUGE_ARGS…]`, [`SEGAUGE_RUNS`] timed runs;
//! 3. if the reference virtual environment exists (`--ref-venv DIR`, else `$SEGAUGE_REF_VENV`, else
//!    `<temp dir>/segauge-ref-venv`; see `benches/reference/README.md`), `DIR/bin/python
//!    benches/reference/surface_speed.py TOOL P G` for TOOL in [`REFERENCE_TOOLS`], [`REFERENCE_RUNS`] timed runs
//!    each; otherwise a line says they were skipped and how to get them. A failing reference is reported, not fatal.
//!
//! Each command gets one untimed warm-up run. The report gives median and minimum wall time, peak RSS, the ratio
//! of each reference's median to segauge's against the goal of issue 3 (MeshMetrics ≥ 30× slower, DeepMind ≥ 5×),
//! the references' in-process compute times (from their JSON line), and the metric values side by side: segauge's
//! label-1 row and each tool's line. Every run's stdout is kept in `target/xtask-bench/surface-<NAME>-runs/`.
//!
//! With `--part LIST` (`criterion`, `organ`, `shapes`; default all) only those parts run; `shapes` times the
//! single-organ shapes of issue 16 against the same tools (see [`mod@shapes`]).
//!
//! For `many-labels` (many structures per case: an upsampled TotalSegmentator pair and a 117-structure synthetic
//! body, `segauge compare` against per-structure loops of DeepMind and MeshMetrics), see [`many`].
//!
//! For `python` (`benches/python/bench.py`, whose docstring says what it measures: `sg.surface_metrics` on the
//! surface case against DeepMind's surface-distance in the same process, goal ≥ 5× faster; the per-call overhead of
//! `sg.compare` and `sg.surface_metrics` on a 32³ pair over `segauge_eval::compare_volumes` in Rust, goal < 1 ms;
//! `sg.evaluate_dirs` on the eval case against `segauge eval`, goal ≤ 1.2× the CLI):
//! 1. `cargo build --release -p segauge-cli` and `-p segauge-benches --bin segauge-compare-timing` (the Rust side
//!    of the overhead), and the data of the `surface` and `eval` cases made if missing (`segauge-bench-data`);
//! 2. the package installed into the reference venv (`--ref-venv DIR`, else `$SEGAUGE_REF_VENV`, else
//!    `<temp dir>/segauge-ref-venv`, which must exist): `DIR/bin/python -m pip install ./crates/segauge-py`;
//!    DeepMind's part is skipped, with a note, when that venv has no `surface_distance`;
//! 3. `DIR/bin/python benches/python/bench.py …paths… --json-out target/xtask-bench/python-<NAME>.json [ARGS…]`,
//!    output streamed: one JSON line per measurement, then a table (arguments after `--` go to the script, e.g.
//!    `-- --only overhead,surface --runs 3`).
//!
//! # How peak RSS is measured
//! `getrusage(RUSAGE_CHILDREN).ru_maxrss` is the largest peak RSS of all the descendants a process has waited
//! for. In this process it would also include cargo and rustc from steps 1 and 2, which are far larger than
//! segauge, so each command is run by a fresh copy of xtask (`xtask bench __measure …`, see [`measure_child`])
//! whose only children are the runs of that one command: its `RUSAGE_CHILDREN` maximum, read after waiting for
//! the last run, is exactly the segauge (or gzip) peak. The two measurements use separate processes, so gzip can
//! never inflate segauge's figure.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use serde_json::{Value, json};

mod many;
mod shapes;

use shapes::shapes;

/// The benchmarks `cargo xtask bench` knows.
const KNOWN: [&str; 10] = [
    "io",
    "surface",
    "many-labels",
    "accuracy",
    "mesh-vs-grid",
    "lesion",
    "stats",
    "eval",
    "dicom",
    "python",
];
/// Timed runs of `segauge eval` on the 1000-case data set (after one warm-up run).
const EVAL_RUNS: usize = 2;
/// Goals of the data-set benchmark (issue 5): wall time and peak memory of `segauge eval`.
const EVAL_GOAL_SECONDS: f64 = 60.0;
const EVAL_GOAL_MIB: f64 = 500.0;
/// Timed runs per whole-process measurement in the io benchmark.
const RUNS: usize = 5;
/// Timed runs of `segauge compare` in the surface benchmark.
const SEGAUGE_RUNS: usize = 5;
/// Timed runs of each reference tool in the surface benchmark (MeshMetrics takes minutes per run).
const REFERENCE_RUNS: usize = 3;
/// The reference tools of the surface benchmark (`surface_speed.py TOOL`), each with its goal: the tool's median
/// whole-process time over segauge's should be at least this (issue 3).
const REFERENCE_TOOLS: [(&str, f64); 2] = [("deepmind", 5.0), ("meshmetrics", 30.0)];
/// The parts of the surface benchmark (`--part`): the criterion benchmarks, the surface case's organ against the
/// references, and the single-organ shapes of issue 16 against them.
const SURFACE_PARTS: [&str; 3] = ["criterion", "organ", "shapes"];
/// Timed runs of `segauge compare` per shape of the surface benchmark: 7, since a run takes 0.1–0.3 s and single
/// runs move by up to a quarter on a shared host (with 3, one slow run right after the previous shape's MeshMetrics
/// run, a 1 GiB process, set the median: lesions 119 ms in one run of the benchmark, 148–160 ms in others).
const SHAPE_SEGAUGE_RUNS: usize = 7;
/// The reference tools on the shapes, with their goals (issue 16: MeshMetrics without BIoU), their timed runs and
/// extra arguments of `surface_speed.py`.
const SHAPE_TOOLS: [(&str, f64, usize, &[&str]); 2] =
    [("deepmind", 5.0, 3, &[]), ("meshmetrics", 30.0, 1, &["--skip-biou"])];
/// Goal of every shape: peak RSS of segauge, MiB (issue 16).
const SHAPE_PEAK_GOAL_MIB: f64 = 1024.0;
/// The metrics compared side by side in the surface benchmark, by their names in segauge's JSON and in
/// `surface_speed.py`'s.
const SURFACE_METRICS: [&str; 8] = ["hd", "hd95", "assd", "masd", "nsd", "biou", "dice", "iou"];
/// Where the reference script lives, relative to the workspace root.
const REFERENCE_SCRIPT: &str = "benches/reference/surface_speed.py";
/// The Python package's benchmark script, relative to the workspace root.
const PYTHON_SCRIPT: &str = "benches/python/bench.py";
/// The goal of the io benchmark: reading and counting within this factor of plain decompression.
const GOAL_RATIO: f64 = 1.5;
/// The criterion benchmarks of `benches/src/io.rs`, in group `io`.
const IO_BENCHES: [&str; 3] = ["read_nifti_gz", "overlap_counts_5_labels", "compare_pipeline"];
/// Hidden sub-command: run a command several times and report times and peak RSS (see the module docs).
const MEASURE: &str = "__measure";
/// Option of [`MEASURE`]: keep each run's stdout in a directory.
const STDOUT_DIR: &str = "--stdout-dir";
/// Option of [`MEASURE`]: no untimed warm-up run.
const NO_WARM_UP: &str = "--no-warm-up";

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    if args.first().map(String::as_str) == Some(MEASURE) {
        return measure_child(&args[1..]);
    }
    let opts = parse_args(args)?;
    match opts.bench.as_str() {
        "io" => io(root, &opts.baseline),
        "surface" => surface(root, &opts),
        "many-labels" => many::many_labels(root, &opts),
        "accuracy" | "mesh-vs-grid" => accuracy(root, &opts),
        // In-memory criterion benchmarks only (issue 4: components < 0.5 s, BCa bootstrap < 2 s; issue 6: a
        // 512×512×300 BINARY SEG with 3 segments read in < 1 s).
        "lesion" | "stats" | "dicom" => criterion_bench(root, &opts.bench, &opts.baseline),
        "eval" => eval(root, &opts.baseline),
        "python" => python(root, &opts),
        other => bail!("unknown benchmark {other:?}; known: {}", KNOWN.join(", ")),
    }
}

#[derive(Debug, PartialEq)]
struct Options {
    bench: String,
    baseline: String,
    /// `--ref-venv DIR` (surface and python).
    ref_venv: Option<PathBuf>,
    /// Everything after `--`: appended to `segauge compare` (surface), `segauge-accuracy` (accuracy,
    /// mesh-vs-grid) or `bench.py` (python); the cases and tools to run (many-labels).
    segauge_args: Vec<String>,
    /// `--part LIST` (surface): which of [`SURFACE_PARTS`] to run; `None`: all.
    parts: Option<Vec<String>>,
}

fn parse_args(args: &[String]) -> anyhow::Result<Options> {
    let mut bench = None;
    let mut baseline = None;
    let mut ref_venv = None;
    let mut segauge_args = Vec::new();
    let mut parts: Option<Vec<String>> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--part" {
            let list = it.next().context("--part needs a list")?;
            let list: Vec<String> = list.split(',').map(str::to_string).collect();
            if let Some(bad) = list.iter().find(|p| !SURFACE_PARTS.contains(&p.as_str())) {
                bail!("unknown part {bad:?} of the surface benchmark; known: {}", SURFACE_PARTS.join(", "));
            }
            parts = Some(list);
        } else if arg == "--baseline" {
            baseline = Some(it.next().context("--baseline needs a name")?.clone());
        } else if let Some(name) = arg.strip_prefix("--baseline=") {
            baseline = Some(name.to_string());
        } else if arg == "--ref-venv" {
            ref_venv = Some(PathBuf::from(it.next().context("--ref-venv needs a directory")?));
        } else if let Some(dir) = arg.strip_prefix("--ref-venv=") {
            ref_venv = Some(PathBuf::from(dir));
        } else if arg == "--" {
            segauge_args = it.by_ref().cloned().collect();
        } else if arg.starts_with('-') {
            bail!(
                "unknown option {arg:?}; usage: cargo xtask bench [{}] [--baseline NAME] [--ref-venv DIR] \
                 [-- SEGAUGE_ARGS…]",
                KNOWN.join(" | ")
            );
        } else if bench.is_some() {
            bail!("more than one benchmark given ({arg:?}); run them one at a time");
        } else if KNOWN.contains(&arg.as_str()) {
            bench = Some(arg.clone());
        } else {
            bail!("unknown benchmark {arg:?}; known: {}", KNOWN.join(", "));
        }
    }
    let baseline = baseline.unwrap_or_else(|| "main".into());
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if baseline.is_empty() || baseline.starts_with('.') || !baseline.chars().all(valid) {
        bail!("baseline name {baseline:?}: use letters, digits, '-', '_' and '.' (it becomes a file name)");
    }
    let bench = bench.unwrap_or_else(|| KNOWN[0].into());
    let venv_ok = matches!(bench.as_str(), "surface" | "many-labels" | "python");
    if parts.is_some() && bench != "surface" {
        bail!("--part applies to the surface benchmark only");
    }
    if (!venv_ok && ref_venv.is_some()) || (bench == "io" && !segauge_args.is_empty()) {
        bail!(
            "--ref-venv applies to the surface, many-labels and python benchmarks only, `-- ARGS` to surface, \
             many-labels, accuracy, mesh-vs-grid and python"
        );
    }
    Ok(Options { bench, baseline, ref_venv, segauge_args, parts })
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Cargo's target directory, as criterion finds it: `$CARGO_TARGET_DIR`, else `<root>/target`.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |d| root.join(d))
}

/// Runs the criterion bench target `name` of segauge-benches, output streamed, saving baseline `baseline`.
fn criterion_bench(root: &Path, name: &str, baseline: &str) -> anyhow::Result<()> {
    println!("== cargo bench -p segauge-benches --bench {name} -- --save-baseline {baseline}");
    let status = cargo()
        .args(["bench", "-p", "segauge-benches", "--bench", name, "--", "--save-baseline", baseline])
        .current_dir(root)
        .status()
        .context("cannot run cargo bench")?;
    if !status.success() {
        bail!("cargo bench failed ({status})");
    }
    Ok(())
}

fn io(root: &Path, baseline: &str) -> anyhow::Result<()> {
    // 1. Criterion, streamed to the terminal.
    criterion_bench(root, "io", baseline)?;

    // 2. The release CLI and the data.
    println!("== cargo build --release -p segauge-cli");
    let segauge = build_release_cli(root)?;
    let (pred, gt) = bench_data(root, None)?;

    // 3. Whole processes: segauge first, then the reference.
    let pred_s = pred.to_string_lossy().into_owned();
    let gt_s = gt.to_string_lossy().into_owned();
    let mut segauge_cmd = compare_command(&segauge, &pred_s, &gt_s);
    // Reading and counting only: the goal compares them with plain decompression.
    segauge_cmd.extend(["--surface".into(), "none".into()]);
    let gzip_cmd: Vec<String> = vec!["gzip".into(), "-dc".into(), pred_s, gt_s];
    println!("== {} > /dev/null, {RUNS} runs", segauge_cmd.join(" "));
    let seg = measure(&segauge_cmd, RUNS, None)?;
    println!("== {} > /dev/null, {RUNS} runs", gzip_cmd.join(" "));
    let gz = measure(&gzip_cmd, RUNS, None)?;

    let ratio = seg.median() / gz.median();
    let criterion = criterion_medians(&target_dir(root), baseline);
    let mut summary = header("io", baseline, &pred, &gt);
    summary.extend(json_object(json!({
        "criterion_median_s": criterion,
        "runs": RUNS,
        "segauge_compare_s": seg.json(),
        "gzip_dc_s": gz.json(),
        "ratio_segauge_over_gzip": ratio,
        "segauge_peak_rss_mib": seg.peak_rss_mib,
        "gzip_peak_rss_mib": gz.peak_rss_mib,
        "goal_ratio": GOAL_RATIO,
        "within_goal": ratio <= GOAL_RATIO,
    })));
    let summary = Value::Object(summary);

    let (out, text) = write_summary(root, "io", baseline, &summary)?;

    println!();
    for name in IO_BENCHES {
        if let Some(s) = criterion.get(name).and_then(Value::as_f64) {
            println!("criterion io/{name:<24} median {}", secs(s));
        }
    }
    println!("segauge compare (whole process)  median {}  min {}", secs(seg.median()), secs(seg.min()));
    println!("gzip -dc (whole process)         median {}  min {}", secs(gz.median()), secs(gz.min()));
    println!(
        "ratio segauge / gzip             {ratio:.2} (goal ≤ {GOAL_RATIO}: {})",
        if ratio <= GOAL_RATIO { "met" } else { "NOT met" }
    );
    println!("segauge peak RSS                 {:.1} MiB", seg.peak_rss_mib);
    println!("wrote {}", out.display());
    println!("{text}");
    Ok(())
}

fn surface(root: &Path, opts: &Options) -> anyhow::Result<()> {
    let baseline = opts.baseline.as_str();
    let part = |p: &str| opts.parts.as_ref().is_none_or(|l| l.iter().any(|x| x == p));
    // 0. Criterion: the metrics on volumes in memory, per surface.
    if part("criterion") {
        criterion_bench(root, "surface", baseline)?;
    }
    // 1. The release CLI and the data.
    println!("== cargo build --release -p segauge-cli");
    let segauge = build_release_cli(root)?;
    if part("shapes") {
        shapes(root, opts, &segauge)?;
    }
    if !part("organ") {
        return Ok(());
    }
    let (pred, gt) = bench_data(root, Some("surface"))?;
    let pred_s = pred.to_string_lossy().into_owned();
    let gt_s = gt.to_string_lossy().into_owned();
    let runs_dir = target_dir(root).join("xtask-bench").join(format!("surface-{baseline}-runs"));

    // 2. segauge.
    let mut segauge_cmd = compare_command(&segauge, &pred_s, &gt_s);
    segauge_cmd.extend(opts.segauge_args.iter().cloned());
    println!("== {}, {SEGAUGE_RUNS} runs", segauge_cmd.join(" "));
    let seg_dir = runs_dir.join("segauge");
    let seg = measure(&segauge_cmd, SEGAUGE_RUNS, Some(&seg_dir))?;
    let seg_json = read_json_output(&seg_dir.join(format!("run-{SEGAUGE_RUNS}.out")))?;
    let seg_row = seg_json["labels"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["label"] == 1))
        .cloned()
        .context("segauge's JSON has no row for label 1")?;
    let seg_metrics: serde_json::Map<String, Value> =
        SURFACE_METRICS.iter().map(|&m| (m.to_string(), find_metric(&seg_row, m).into())).collect();

    // 3. The reference tools, if their environment exists.
    let venv = reference_venv(opts.ref_venv.as_deref());
    let python = venv.join("bin").join("python");
    let script = root.join(REFERENCE_SCRIPT);
    let mut references = serde_json::Map::new();
    let mut skipped = None;
    if python.is_file() {
        for (tool, goal) in REFERENCE_TOOLS {
            let dir = runs_dir.join(tool);
            let pair = [pred_s.as_str(), gt_s.as_str()];
            let result = run_reference("", &python, &script, tool, pair, &[], REFERENCE_RUNS, &dir, true)
                .and_then(|(_, m, _)| reference_summary(&m, &dir, seg.median(), goal));
            let value = result.unwrap_or_else(|err| {
                eprintln!("warning: {tool} failed: {err:#}");
                json!({ "error": format!("{err:#}") })
            });
            references.insert(tool.into(), value);
        }
    } else {
        let why = format!(
            "reference tools skipped: no {}; build the reference venv as benches/reference/README.md says, then pass \
             --ref-venv DIR or set SEGAUGE_REF_VENV (default <temp dir>/segauge-ref-venv)",
            python.display()
        );
        println!("{why}");
        skipped = Some(why);
    }

    // Metric values side by side.
    let mut values = serde_json::Map::new();
    for m in SURFACE_METRICS {
        let mut row = serde_json::Map::new();
        row.insert("segauge".into(), seg_metrics[m].clone());
        for (tool, _) in REFERENCE_TOOLS {
            if let Some(r) = references.get(tool) {
                row.insert(tool.into(), r["metrics"][m].clone());
            }
        }
        values.insert(m.into(), Value::Object(row));
    }

    let mut summary = header("surface", baseline, &pred, &gt);
    summary.extend(json_object(json!({
        "segauge": {
            "command": segauge_cmd,
            "runs": SEGAUGE_RUNS,
            "wall_s": seg.json(),
            "peak_rss_mib": seg.peak_rss_mib,
            "label_1": seg_row,
        },
        "reference_venv": venv,
        "references_skipped": skipped,
        "references": references,
        "values": values,
        "runs_dir": runs_dir,
    })));
    let summary = Value::Object(summary);
    let (out, text) = write_summary(root, "surface", baseline, &summary)?;

    println!();
    println!(
        "{:<12} {:>10} {:>10} {:>12} {:>10} {:>9}",
        "tool", "median", "min", "compute", "peak RSS", "ratio"
    );
    println!(
        "{:<12} {:>10} {:>10} {:>12} {:>6.0} MiB {:>9}",
        "segauge",
        secs(seg.median()),
        secs(seg.min()),
        "-",
        seg.peak_rss_mib,
        "1"
    );
    for (tool, goal) in REFERENCE_TOOLS {
        let Some(r) = references.get(tool) else { continue };
        if let Some(err) = r["error"].as_str() {
            println!("{tool:<12} failed: {err}");
            continue;
        }
        let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        let ratio = f(&r["ratio_over_segauge"]);
        println!(
            "{:<12} {:>10} {:>10} {:>12} {:>6.0} MiB {:>8.1}x (goal ≥ {goal}x: {})",
            tool,
            secs(f(&r["wall_s"]["median"])),
            secs(f(&r["wall_s"]["min"])),
            secs(f(&r["compute_s"]["median"])),
            f(&r["peak_rss_mib"]),
            ratio,
            if ratio >= goal { "met" } else { "NOT met" }
        );
        if let Some(ratio) = r["ratio_over_segauge_without_biou_step"].as_f64() {
            println!(
                "{:<12} {:>10} {:>10} {:>12} {:>10} {ratio:>8.1}x (the same runs minus their BIoU step)",
                " w/o BIoU",
                secs(f(&r["wall_s_without_biou_step"]["median"])),
                secs(f(&r["wall_s_without_biou_step"]["min"])),
                "",
                ""
            );
        }
    }
    println!();
    print!("{:<8} {:>14}", "metric", "segauge");
    for (tool, _) in REFERENCE_TOOLS.iter().filter(|(t, _)| references.contains_key(*t)) {
        print!(" {tool:>14}");
    }
    println!();
    for m in SURFACE_METRICS {
        let cell = |v: &Value| v.as_f64().map_or_else(|| "-".to_string(), |x| format!("{x:.6}"));
        print!("{m:<8} {:>14}", cell(&values[m]["segauge"]));
        for (tool, _) in REFERENCE_TOOLS.iter().filter(|(t, _)| references.contains_key(*t)) {
            print!(" {:>14}", cell(&values[m][*tool]));
        }
        println!();
    }
    println!("wrote {}", out.display());
    println!("{text}");
    Ok(())
}

/// The reference venv: `explicit`, else `$SEGAUGE_REF_VENV`, else `<temp dir>/segauge-ref-venv`.
fn reference_venv(explicit: Option<&Path>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("SEGAUGE_REF_VENV").map(PathBuf::from))
        .unwrap_or_else(|| std::env::temp_dir().join("segauge-ref-venv"))
}

/// The summary of one reference tool: wall times and peak RSS from `m`, and from the JSON line each timed run
/// left in `dir`: the in-process compute and load times, the last run's per-step times, version and metrics.
///
/// When the tool reports a `biou` step (MeshMetrics: a per-voxel distance field that takes far longer than all
/// its other metrics), the summary also gives the wall times minus that step, run by run, and their ratio to
/// segauge: what the tool costs for the other metrics.
fn reference_summary(m: &Measured, dir: &Path, segauge_median: f64, goal: f64) -> anyhow::Result<Value> {
    let lines = (1..=m.seconds.len())
        .map(|n| read_json_output(&dir.join(format!("run-{n}.out"))))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let times = |key: &str| Measured {
        seconds: lines.iter().filter_map(|l| l[key].as_f64()).collect(),
        peak_rss_mib: 0.0,
        cpu_s: None,
    };
    let (compute, load) = (times("compute_s"), times("load_s"));
    let last = lines.last().context("no timed run")?;
    let ratio = m.median() / segauge_median;
    let biou: Vec<f64> = lines.iter().filter_map(|l| l["steps_s"]["biou"].as_f64()).collect();
    let without_biou = (biou.len() == m.seconds.len()).then(|| Measured {
        seconds: m.seconds.iter().zip(&biou).map(|(wall, b)| wall - b).collect(),
        peak_rss_mib: 0.0,
        cpu_s: None,
    });
    Ok(json!({
        "version": last["version"],
        "numpy": last["numpy"],
        "runs": m.seconds.len(),
        "wall_s": m.json(),
        "peak_rss_mib": m.peak_rss_mib,
        "compute_s": compute.json(),
        "load_s": load.json(),
        "steps_s": last["steps_s"],
        "metrics": last["metrics"],
        "notes": last["notes"],
        "ratio_over_segauge": ratio,
        "goal_ratio": goal,
        "within_goal": ratio >= goal,
        "wall_s_without_biou_step": without_biou.as_ref().map(Measured::json),
        "ratio_over_segauge_without_biou_step": without_biou.map(|w| w.median() / segauge_median),
    }))
}

/// A reference script's timed runs of one tool on one pair: `PYTHON SCRIPT TOOL PRED GT EXTRA...`, `runs` times
/// (after an untimed warm-up when `warm_up`), each run's stdout kept in `dir`, announced as `== {what}COMMAND`.
/// Returns the command, the timings and the last run's JSON line.
#[allow(clippy::too_many_arguments)] // one command line's parts
fn run_reference(
    what: &str,
    python: &Path,
    script: &Path,
    tool: &str,
    [pred, gt]: [&str; 2],
    extra: &[&str],
    runs: usize,
    dir: &Path,
    warm_up: bool,
) -> anyhow::Result<(Vec<String>, Measured, Value)> {
    let mut cmd: Vec<String> = vec![
        python.to_string_lossy().into_owned(),
        script.to_string_lossy().into_owned(),
        tool.into(),
        pred.into(),
        gt.into(),
    ];
    cmd.extend(extra.iter().map(|s| (*s).to_string()));
    println!("== {what}{}, {runs} run{}", cmd.join(" "), if runs == 1 { "" } else { "s" });
    let m = measure_with(&cmd, runs, Some(dir), warm_up)?;
    let line = read_json_output(&dir.join(format!("run-{runs}.out")))?;
    Ok((cmd, m, line))
}

/// The JSON document a run printed on stdout (for `surface_speed.py`, its one line).
fn read_json_output(path: &Path) -> anyhow::Result<Value> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not one JSON document", path.display()))
}

/// Metric `name` in one of segauge's label rows: the number under that key, or under a key `name_<suffix>` (such
/// as `hd95_mm`), directly in the row or in an object nested in it; `None` when absent or not a number.
fn find_metric(row: &Value, name: &str) -> Option<f64> {
    let matches = |key: &str| key == name || key.strip_prefix(name).is_some_and(|rest| rest.starts_with('_'));
    let obj = row.as_object()?;
    obj.iter()
        .find(|(k, v)| matches(k) && v.is_number())
        .and_then(|(_, v)| v.as_f64())
        .or_else(|| obj.values().find_map(|v| v.as_object().and_then(|_| find_metric(v, name))))
}

/// `segauge eval` on 1000 generated cases (64³, two labels, lesions) with three metadata columns, B = 9999, every
/// output (report, JSON, CSVs): wall time and peak RSS of the whole process.
fn eval(root: &Path, baseline: &str) -> anyhow::Result<()> {
    println!("== cargo build --release -p segauge-cli");
    let segauge = build_release_cli(root)?;
    let paths = bench_paths(root, Some("eval"), &["pred", "gt", "metadata"])?;
    let [pred, gt, metadata] = [0, 1, 2].map(|i| paths[i].to_string_lossy().into_owned());
    let runs_dir = target_dir(root).join("xtask-bench").join(format!("eval-{baseline}-runs"));
    std::fs::create_dir_all(&runs_dir).with_context(|| format!("cannot create {}", runs_dir.display()))?;
    let file = |name: &str| runs_dir.join(name).to_string_lossy().into_owned();
    let cmd: Vec<String> = vec![
        segauge.to_string_lossy().into_owned(),
        "eval".into(),
        "--pred".into(),
        pred.clone(),
        "--gt".into(),
        gt.clone(),
        "--metadata".into(),
        metadata,
        "--bootstrap".into(),
        "9999".into(),
        "--report".into(),
        file("report.html"),
        "--json".into(),
        file("results.json"),
        "--csv".into(),
        file("per_case.csv"),
        "--summary-csv".into(),
        file("summary.csv"),
        "--lesion-csv".into(),
        file("lesions.csv"),
    ];
    println!("== {}, {EVAL_RUNS} runs", cmd.join(" "));
    let m = measure(&cmd, EVAL_RUNS, None)?;
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    let summary = json!({
        "bench": "eval",
        "baseline": baseline,
        "date": utc_now(),
        "machine": machine(),
        "cases": 1000,
        "command": cmd.join(" "),
        "seconds": m.seconds,
        "median_seconds": m.median(),
        "peak_rss_mib": m.peak_rss_mib,
        "goal": format!("under {EVAL_GOAL_SECONDS} s and {EVAL_GOAL_MIB} MiB"),
    });
    let (path, _) = write_summary(root, "eval", baseline, &summary)?;
    println!(
        "segauge eval, 1000 cases: median {} (runs {}), peak RSS {:.1} MiB; goal < {EVAL_GOAL_SECONDS} s: {}, < \
         {EVAL_GOAL_MIB} MiB: {}",
        secs(m.median()),
        m.seconds.iter().map(|&s| secs(s)).collect::<Vec<_>>().join(", "),
        m.peak_rss_mib,
        verdict(m.median() < EVAL_GOAL_SECONDS),
        verdict(m.peak_rss_mib < EVAL_GOAL_MIB),
    );
    println!("wrote {}", path.display());
    Ok(())
}

/// The Python package against the CLI, Rust and DeepMind (see the module docs): builds, installs the package into
/// the reference venv and runs `benches/python/bench.py`, which prints the measurements and writes the summary.
fn python(root: &Path, opts: &Options) -> anyhow::Result<()> {
    println!("== cargo build --release -p segauge-cli, -p segauge-benches --bin segauge-compare-timing");
    let segauge = build_release_cli(root)?;
    let timing =
        build_release_bin(root, "segauge-benches", Some("segauge-compare-timing"), "segauge-compare-timing")?;
    let (surface_pred, surface_gt) = bench_data(root, Some("surface"))?;
    let eval_paths = bench_paths(root, Some("eval"), &["pred", "gt", "metadata"])?;

    let venv = reference_venv(opts.ref_venv.as_deref());
    let python = venv.join("bin").join("python");
    if !python.is_file() {
        bail!(
            "no {}: the python benchmark runs in the reference venv; create it (python3 -m venv DIR; DIR/bin/pip \
             install numpy, and surface-distance scipy for DeepMind's part; see benches/reference/README.md), \
             then pass --ref-venv DIR or set SEGAUGE_REF_VENV (default <temp dir>/segauge-ref-venv)",
            python.display()
        );
    }
    println!("== {} -m pip install ./crates/segauge-py", python.display());
    let status = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "./crates/segauge-py"])
        .current_dir(root)
        .status()
        .context("cannot run pip")?;
    if !status.success() {
        bail!("installing the segauge package into {} failed ({status})", venv.display());
    }

    let out_dir = target_dir(root).join("xtask-bench");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    let summary = out_dir.join(format!("python-{}.json", opts.baseline));
    let mut cmd = Command::new(&python);
    cmd.arg(root.join(PYTHON_SCRIPT))
        .arg("--segauge-bin")
        .arg(&segauge)
        .arg("--timing-bin")
        .arg(&timing)
        .arg("--surface")
        .args([&surface_pred, &surface_gt])
        .arg("--eval")
        .args(&eval_paths)
        .arg("--json-out")
        .arg(&summary)
        .args(&opts.segauge_args)
        .current_dir(root);
    println!("== {} {PYTHON_SCRIPT} … --json-out {}", python.display(), summary.display());
    let status = cmd.status().context("cannot run the Python benchmark")?;
    if !status.success() {
        bail!("{PYTHON_SCRIPT} failed ({status})");
    }
    Ok(())
}

/// Writes `summary` to `<target>/xtask-bench/<bench>-<baseline>.json`; returns the path and the text.
fn write_summary(
    root: &Path,
    bench: &str,
    baseline: &str,
    summary: &Value,
) -> anyhow::Result<(PathBuf, String)> {
    let out_dir = target_dir(root).join("xtask-bench");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    let out = out_dir.join(format!("{bench}-{baseline}.json"));
    let text = serde_json::to_string_pretty(summary)?;
    std::fs::write(&out, format!("{text}\n")).with_context(|| format!("cannot write {}", out.display()))?;
    Ok((out, text))
}

fn secs(s: f64) -> String {
    if s < 1.0 { format!("{:.1} ms", s * 1e3) } else { format!("{s:.3} s") }
}

/// Builds the release CLI and returns the path of the `segauge` executable, as cargo reports it.
fn build_release_cli(root: &Path) -> anyhow::Result<PathBuf> {
    build_release_bin(root, "segauge-cli", None, "segauge")
}

/// Builds package `package` (only its binary `bin` when given) in release mode and returns the path of the
/// executable of target `target`, as cargo reports it.
fn build_release_bin(root: &Path, package: &str, bin: Option<&str>, target: &str) -> anyhow::Result<PathBuf> {
    // Diagnostics and progress go to stderr (shown); stdout carries one JSON message per line.
    let out = cargo()
        .args(["build", "--release", "-p", package, "--message-format=json-render-diagnostics"])
        .args(bin.map(|b| ["--bin", b]).into_iter().flatten())
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo build")?;
    if !out.status.success() {
        bail!("cargo build --release -p {package} failed ({})", out.status);
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == target)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .with_context(|| format!("cargo build did not report the {target} executable"))
}

/// Makes the files of a benchmark case if missing (release build of `segauge-bench-data [CASE]`; without a case,
/// the io case) and returns `(pred, gt)`.
fn bench_data(root: &Path, case: Option<&str>) -> anyhow::Result<(PathBuf, PathBuf)> {
    let paths = bench_paths(root, case, &["pred", "gt"])?;
    Ok((paths[0].clone(), paths[1].clone()))
}

/// Runs `segauge-bench-data [CASE]` (release) and returns the paths it prints as `KEY=PATH`, one per key of `keys`.
fn bench_paths(root: &Path, case: Option<&str>, keys: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    let out = cargo()
        .args(["run", "--quiet", "--release", "-p", "segauge-benches", "--bin", "segauge-bench-data"])
        .args(case.map(|c| ["--", c]).into_iter().flatten())
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run segauge-bench-data")?;
    if !out.status.success() {
        bail!("segauge-bench-data failed ({})", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    keys.iter()
        .map(|key| {
            text.lines()
                .find_map(|l| l.strip_prefix(key).and_then(|rest| rest.strip_prefix('=')))
                .map(PathBuf::from)
                .with_context(|| format!("segauge-bench-data printed no {key}= line: {text:?}"))
        })
        .collect()
}

/// Timings and peak RSS of one command.
#[derive(Debug)]
struct Measured {
    seconds: Vec<f64>,
    peak_rss_mib: f64,
    /// User plus system CPU time per run, when measured.
    cpu_s: Option<f64>,
}

impl Measured {
    fn median(&self) -> f64 {
        let mut s = self.seconds.clone();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 }
    }

    fn min(&self) -> f64 {
        self.seconds.iter().copied().fold(f64::INFINITY, f64::min)
    }

    fn json(&self) -> Value {
        json!({ "median": self.median(), "min": self.min(), "all": self.seconds })
    }
}

/// Runs `cmd` `runs` times in a fresh xtask process (so that its `RUSAGE_CHILDREN` holds only these runs). With
/// `stdout_dir`, the output of run `n` is kept in `stdout_dir/run-<n>.out` (run 0 is the warm-up), else discarded.
fn measure(cmd: &[String], runs: usize, stdout_dir: Option<&Path>) -> anyhow::Result<Measured> {
    measure_with(cmd, runs, stdout_dir, true)
}

/// [`measure`], with the untimed warm-up run only when `warm_up` (a reference loop that takes minutes reads the
/// same files as the segauge runs before it, so the page cache is warm without one).
fn measure_with(
    cmd: &[String],
    runs: usize,
    stdout_dir: Option<&Path>,
    warm_up: bool,
) -> anyhow::Result<Measured> {
    let exe = std::env::current_exe().context("cannot find the xtask executable")?;
    let mut measuring = Command::new(exe);
    measuring.args(["bench", MEASURE, &runs.to_string()]);
    if !warm_up {
        measuring.arg(NO_WARM_UP);
    }
    if let Some(dir) = stdout_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        measuring.arg(STDOUT_DIR).arg(dir);
    }
    let out = measuring
        .args(cmd)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot start the measuring process")?;
    if !out.status.success() {
        bail!("measuring {:?} failed ({})", cmd.join(" "), out.status);
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("output of the measuring process")?;
    let seconds: Vec<f64> = v["seconds"].as_array().into_iter().flatten().filter_map(Value::as_f64).collect();
    let kib = v["max_rss_kib"].as_f64().context("no max_rss_kib from the measuring process")?;
    if seconds.len() != runs {
        bail!("the measuring process reported {} runs, not {runs}", seconds.len());
    }
    Ok(Measured { seconds, peak_rss_mib: kib / 1024.0, cpu_s: v["cpu_s_per_run"].as_f64() })
}

/// `xtask bench __measure RUNS [--no-warm-up] [--stdout-dir DIR] PROGRAM ARGS…`: one untimed warm-up run (unless
/// `--no-warm-up`), then RUNS timed runs of the command with stdout to `/dev/null` (or, with `--stdout-dir`, to
/// `DIR/run-<n>.out`, run 0 being the warm-up); prints `{"seconds": […], "max_rss_kib": N, "cpu_s_per_run": S}`
/// (`S`: user plus system CPU time of all runs, warm-up included, over their number).
///
/// Every run is waited for before the next starts, so `getrusage(RUSAGE_CHILDREN).ru_maxrss` (KiB on Linux) read
/// at the end is the largest peak RSS of any run; this process has no other children.
fn measure_child(args: &[String]) -> anyhow::Result<()> {
    let usage =
        || format!("usage: xtask bench {MEASURE} RUNS [{NO_WARM_UP}] [{STDOUT_DIR} DIR] PROGRAM [ARGS…]");
    let [runs, args @ ..] = args else { bail!(usage()) };
    let (warm_up, args) = match args {
        [flag, rest @ ..] if flag == NO_WARM_UP => (false, rest),
        _ => (true, args),
    };
    let (stdout_dir, args) = match args {
        [flag, dir, rest @ ..] if flag == STDOUT_DIR => (Some(PathBuf::from(dir)), rest),
        _ => (None, args),
    };
    let [program, rest @ ..] = args else { bail!(usage()) };
    let runs: usize = runs.parse().context("RUNS must be a number")?;
    let once = |n: usize| -> anyhow::Result<Duration> {
        let stdout = match &stdout_dir {
            Some(dir) => {
                let path = dir.join(format!("run-{n}.out"));
                Stdio::from(
                    std::fs::File::create(&path)
                        .with_context(|| format!("cannot create {}", path.display()))?,
                )
            }
            None => Stdio::null(),
        };
        let start = Instant::now();
        let status = Command::new(program)
            .args(rest)
            .stdin(Stdio::null())
            .stdout(stdout)
            .status()
            .with_context(|| format!("cannot run {program}"))?;
        let elapsed = start.elapsed();
        if !status.success() {
            bail!("{program} {} failed ({status})", rest.join(" "));
        }
        Ok(elapsed)
    };
    if warm_up {
        once(0)?; // warm-up: page cache, binary loading
    }
    let seconds = (1..=runs).map(|n| once(n).map(|d| d.as_secs_f64())).collect::<anyhow::Result<Vec<_>>>()?;
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .context("getrusage(RUSAGE_CHILDREN)")?;
    let tv = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 * 1e-6;
    let cpu = (tv(usage.user_time()) + tv(usage.system_time())) / (runs + usize::from(warm_up)) as f64;
    println!("{}", json!({ "seconds": seconds, "max_rss_kib": usage.max_rss(), "cpu_s_per_run": cpu }));
    Ok(())
}

/// Median (seconds) of each io benchmark from criterion's saved `baseline`, by benchmark name; missing ones are
/// left out.
fn criterion_medians(target: &Path, baseline: &str) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for name in IO_BENCHES {
        let path = target.join("criterion").join("io").join(name).join(baseline).join("estimates.json");
        let median_ns = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v["median"]["point_estimate"].as_f64());
        if let Some(ns) = median_ns {
            out.insert(name.into(), json!(ns * 1e-9));
        }
    }
    out
}

/// Where a benchmark ran: cores, CPU model and the load average when it started. Ratios to the reference tools
/// move with the host, not only with load: on one 2-core host segauge's CPU time on the TotalSegmentator pair was
/// 36 % higher than on another while the DeepMind loop's was 13 % higher, so every table says which host it
/// comes from.
fn machine() -> Value {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let cpu = read("/proc/cpuinfo").and_then(|text| {
        text.lines().find_map(|l| {
            let (key, value) = l.split_once(':')?;
            (key.trim() == "model name").then(|| value.trim().to_string())
        })
    });
    let load = read("/proc/loadavg")
        .and_then(|text| text.split_whitespace().next().and_then(|v| v.parse::<f64>().ok()));
    json!({
        "nproc": std::thread::available_parallelism().map(usize::from).ok(),
        "cpu": cpu,
        "load_average_1m": load,
    })
}

/// One line naming the host of [`machine`], for the Markdown tables.
fn machine_line(machine: &Value) -> String {
    let or_unknown = |v: &Value| match v {
        Value::Null => "unknown".to_string(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    format!(
        "Host: {} cores, CPU {}, load average {} (1 min) at the start.\n",
        or_unknown(&machine["nproc"]),
        or_unknown(&machine["cpu"]),
        or_unknown(&machine["load_average_1m"]),
    )
}

/// The current time in UTC as `YYYY-MM-DDTHH:MM:SSZ`.
fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `segauge compare --pred P --gt G --format json` as an argument vector.
fn compare_command(segauge: &Path, pred: &str, gt: &str) -> Vec<String> {
    let mut cmd = vec![segauge.to_string_lossy().into_owned()];
    cmd.extend(["compare", "--pred", pred, "--gt", gt, "--format", "json"].map(String::from));
    cmd
}

/// The fields every summary starts with: which bench, baseline, date, cores and the data files.
fn header(bench: &str, baseline: &str, pred: &Path, gt: &Path) -> serde_json::Map<String, Value> {
    let file_bytes = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
    json_object(json!({
        "bench": bench,
        "baseline": baseline,
        "date": utc_now(),
        "machine": machine(),
        "data": {
            "pred": pred, "gt": gt,
            "pred_bytes": file_bytes(pred), "gt_bytes": file_bytes(gt),
        },
    }))
}

/// The map of a `json!` object literal.
fn json_object(v: Value) -> serde_json::Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// `accuracy` and `mesh-vs-grid`: runs `segauge-accuracy` (release) with the report of that name, prints it and
/// keeps it (Markdown and JSON) under `target/xtask-bench/`. Arguments after `--` go to `segauge-accuracy`
/// (e.g. `-- --samples 200000`).
fn accuracy(root: &Path, opts: &Options) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(["build", "--release", "-p", "segauge-benches", "--bin", "segauge-accuracy"])
        .current_dir(root)
        .status()
        .context("cannot run cargo build")?;
    if !status.success() {
        bail!("building segauge-accuracy failed");
    }
    let dir = root.join("target/xtask-bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
    let stem = format!("{}-{}", opts.bench, opts.baseline);
    let json = dir.join(format!("{stem}.json"));
    let out = Command::new(root.join("target/release/segauge-accuracy"))
        .args(["--report", &opts.bench, "--json", &json.to_string_lossy()])
        .args(&opts.segauge_args)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run segauge-accuracy")?;
    if !out.status.success() {
        bail!("segauge-accuracy failed");
    }
    let md = dir.join(format!("{stem}.md"));
    std::fs::write(&md, &out.stdout).with_context(|| format!("{}", md.display()))?;
    println!("{}", String::from_utf8_lossy(&out.stdout));
    println!("report: {} and {}", md.display(), json.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn arguments() {
        let default = Options {
            bench: "io".into(),
            baseline: "main".into(),
            ref_venv: None,
            segauge_args: vec![],
            parts: None,
        };
        assert_eq!(parse_args(&[]).unwrap(), default);
        assert_eq!(parse_args(&args(&["io", "--baseline", "pr-7"])).unwrap().baseline, "pr-7");
        assert_eq!(parse_args(&args(&["--baseline=x.1"])).unwrap().baseline, "x.1");
        let err = parse_args(&args(&["mesh"])).unwrap_err().to_string();
        assert!(err.contains("unknown benchmark \"mesh\"") && err.contains("known: io"), "{err}");
        assert!(parse_args(&args(&["--baseline"])).is_err());
        assert!(parse_args(&args(&["--baseline", "../x"])).is_err());
        assert!(parse_args(&args(&["--fast"])).is_err());
        let surface =
            parse_args(&args(&["surface", "--ref-venv", "/v", "--", "--surface", "smooth"])).unwrap();
        assert_eq!(surface.bench, "surface");
        assert_eq!(surface.ref_venv, Some(PathBuf::from("/v")));
        assert_eq!(surface.segauge_args, args(&["--surface", "smooth"]));
        assert_eq!(parse_args(&args(&["surface", "--ref-venv=/w"])).unwrap().ref_venv, Some("/w".into()));
        assert!(parse_args(&args(&["io", "--ref-venv", "/v"])).is_err());
        assert!(parse_args(&args(&["eval", "--ref-venv", "/v"])).is_err());
        let python = parse_args(&args(&["python", "--ref-venv", "/v", "--", "--only", "overhead"])).unwrap();
        assert_eq!(python.bench, "python");
        assert_eq!(python.ref_venv, Some(PathBuf::from("/v")));
        assert_eq!(python.segauge_args, args(&["--only", "overhead"]));
        assert!(parse_args(&args(&["--", "--surface", "grid"])).is_err());
        let parts = parse_args(&args(&["surface", "--part", "shapes,organ"])).unwrap().parts;
        assert_eq!(parts, Some(args(&["shapes", "organ"])));
        assert!(parse_args(&args(&["surface", "--part", "liver"])).is_err());
        assert!(parse_args(&args(&["io", "--part", "shapes"])).is_err());
        let err = parse_args(&args(&["nope"])).unwrap_err().to_string();
        assert!(err.contains("known: io, surface"), "{err}");
    }

    #[test]
    fn metrics_in_label_rows() {
        let row = json!({
            "label": 1, "dice": 0.9, "hd95_mm": 4.5, "hd": null,
            "surface": { "hd": 7.0, "assd": 1.25, "nsd_tau": 0.8 },
        });
        assert_eq!(find_metric(&row, "dice"), Some(0.9));
        assert_eq!(find_metric(&row, "hd95"), Some(4.5));
        assert_eq!(find_metric(&row, "hd"), Some(7.0));
        assert_eq!(find_metric(&row, "assd"), Some(1.25));
        assert_eq!(find_metric(&row, "nsd"), Some(0.8));
        assert_eq!(find_metric(&row, "biou"), None);
        assert_eq!(find_metric(&row, "masd"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }

    #[test]
    fn host_line() {
        let known = json!({ "nproc": 2, "cpu": "AMD EPYC", "load_average_1m": 1.14 });
        assert_eq!(
            machine_line(&known),
            "Host: 2 cores, CPU AMD EPYC, load average 1.14 (1 min) at the start.\n"
        );
        let none = json!({ "nproc": null, "cpu": null, "load_average_1m": null });
        assert_eq!(
            machine_line(&none),
            "Host: unknown cores, CPU unknown, load average unknown (1 min) at the start.\n"
        );
        // This machine's own reading has every field (Linux: /proc is there).
        let here = machine();
        assert!(here["nproc"].as_u64().is_some_and(|n| n >= 1), "{here}");
    }

    #[test]
    fn median_and_min() {
        let m = Measured { seconds: vec![3.0, 1.0, 2.0, 5.0, 4.0], peak_rss_mib: 0.0, cpu_s: None };
        assert_eq!((m.median(), m.min()), (3.0, 1.0));
    }
}
