//! `cargo xtask bench [io] [--baseline NAME]`: the criterion benchmarks of `segauge-benches`, then whole-process
//! timings of the release CLI against a reference tool, summarised in `target/xtask-bench/<bench>-<NAME>.json`.
//!
//! For `io`:
//! 1. `cargo bench -p segauge-benches --bench io -- --save-baseline NAME` (default NAME `main`), output streamed;
//! 2. `cargo build --release -p segauge-cli`, and the benchmark files made if missing (`segauge-bench-data`);
//! 3. `segauge compare --pred P --gt G --format json > /dev/null` and `gzip -dc P G > /dev/null` (plain
//!    decompression, the reference), each run [`RUNS`] times after one untimed warm-up run: median and minimum wall
//!    time, their ratio, and the peak resident set size of the segauge process.
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

/// The benchmarks `cargo xtask bench` knows.
const KNOWN: [&str; 1] = ["io"];
/// Timed runs per whole-process measurement.
const RUNS: usize = 5;
/// The goal of the io benchmark: reading and counting within this factor of plain decompression.
const GOAL_RATIO: f64 = 1.5;
/// The criterion benchmarks of `benches/src/io.rs`, in group `io`.
const IO_BENCHES: [&str; 3] = ["read_nifti_gz", "overlap_counts_5_labels", "compare_pipeline"];
/// Hidden sub-command: run a command several times and report times and peak RSS (see the module docs).
const MEASURE: &str = "__measure";

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    if args.first().map(String::as_str) == Some(MEASURE) {
        return measure_child(&args[1..]);
    }
    let opts = parse_args(args)?;
    match opts.bench.as_str() {
        "io" => io(root, &opts.baseline),
        other => bail!("unknown benchmark {other:?}; known: {}", KNOWN.join(", ")),
    }
}

#[derive(Debug, PartialEq)]
struct Options {
    bench: String,
    baseline: String,
}

fn parse_args(args: &[String]) -> anyhow::Result<Options> {
    let mut bench = None;
    let mut baseline = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--baseline" {
            baseline = Some(it.next().context("--baseline needs a name")?.clone());
        } else if let Some(name) = arg.strip_prefix("--baseline=") {
            baseline = Some(name.to_string());
        } else if arg.starts_with('-') {
            bail!(
                "unknown option {arg:?}; usage: cargo xtask bench [{}] [--baseline NAME]",
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
    Ok(Options { bench: bench.unwrap_or_else(|| KNOWN[0].into()), baseline })
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Cargo's target directory, as criterion finds it: `$CARGO_TARGET_DIR`, else `<root>/target`.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |d| root.join(d))
}

fn io(root: &Path, baseline: &str) -> anyhow::Result<()> {
    // 1. Criterion, streamed to the terminal.
    println!("== cargo bench -p segauge-benches --bench io -- --save-baseline {baseline}");
    let status = cargo()
        .args(["bench", "-p", "segauge-benches", "--bench", "io", "--", "--save-baseline", baseline])
        .current_dir(root)
        .status()
        .context("cannot run cargo bench")?;
    if !status.success() {
        bail!("cargo bench failed ({status})");
    }

    // 2. The release CLI and the data.
    println!("== cargo build --release -p segauge-cli");
    let segauge = build_release_cli(root)?;
    let (pred, gt) = bench_data(root)?;

    // 3. Whole processes: segauge first, then the reference.
    let pred_s = pred.to_string_lossy().into_owned();
    let gt_s = gt.to_string_lossy().into_owned();
    let segauge_cmd: Vec<String> = vec![
        segauge.to_string_lossy().into_owned(),
        "compare".into(),
        "--pred".into(),
        pred_s.clone(),
        "--gt".into(),
        gt_s.clone(),
        "--format".into(),
        "json".into(),
    ];
    let gzip_cmd: Vec<String> = vec!["gzip".into(), "-dc".into(), pred_s, gt_s];
    println!("== {} > /dev/null, {RUNS} runs", segauge_cmd.join(" "));
    let seg = measure(&segauge_cmd)?;
    println!("== {} > /dev/null, {RUNS} runs", gzip_cmd.join(" "));
    let gz = measure(&gzip_cmd)?;

    let ratio = seg.median() / gz.median();
    let criterion = criterion_medians(&target_dir(root), baseline);
    let file_bytes = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
    let summary = json!({
        "bench": "io",
        "baseline": baseline,
        "date": utc_now(),
        "nproc": std::thread::available_parallelism().map(usize::from).ok(),
        "data": {
            "pred": pred, "gt": gt,
            "pred_bytes": file_bytes(&pred), "gt_bytes": file_bytes(&gt),
        },
        "criterion_median_s": criterion,
        "runs": RUNS,
        "segauge_compare_s": seg.json(),
        "gzip_dc_s": gz.json(),
        "ratio_segauge_over_gzip": ratio,
        "segauge_peak_rss_mib": seg.peak_rss_mib,
        "gzip_peak_rss_mib": gz.peak_rss_mib,
        "goal_ratio": GOAL_RATIO,
        "within_goal": ratio <= GOAL_RATIO,
    });

    let out_dir = target_dir(root).join("xtask-bench");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    let out = out_dir.join(format!("io-{baseline}.json"));
    let text = serde_json::to_string_pretty(&summary)?;
    std::fs::write(&out, format!("{text}\n")).with_context(|| format!("cannot write {}", out.display()))?;

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

fn secs(s: f64) -> String {
    if s < 1.0 { format!("{:.1} ms", s * 1e3) } else { format!("{s:.3} s") }
}

/// Builds the release CLI and returns the path of the `segauge` executable, as cargo reports it.
fn build_release_cli(root: &Path) -> anyhow::Result<PathBuf> {
    // Diagnostics and progress go to stderr (shown); stdout carries one JSON message per line.
    let out = cargo()
        .args(["build", "--release", "-p", "segauge-cli", "--message-format=json-render-diagnostics"])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo build")?;
    if !out.status.success() {
        bail!("cargo build --release -p segauge-cli failed ({})", out.status);
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "segauge")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .context("cargo build did not report the segauge executable")
}

/// Makes the benchmark files if missing (release build of `segauge-bench-data`) and returns `(pred, gt)`.
fn bench_data(root: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let out = cargo()
        .args(["run", "--quiet", "--release", "-p", "segauge-benches", "--bin", "segauge-bench-data"])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run segauge-bench-data")?;
    if !out.status.success() {
        bail!("segauge-bench-data failed ({})", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(PathBuf::from)
            .with_context(|| format!("segauge-bench-data printed no {key:?} line: {text:?}"))
    };
    Ok((field("pred=")?, field("gt=")?))
}

/// Timings and peak RSS of one command.
#[derive(Debug)]
struct Measured {
    seconds: Vec<f64>,
    peak_rss_mib: f64,
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

/// Runs `cmd` [`RUNS`] times in a fresh xtask process (so that its `RUSAGE_CHILDREN` holds only these runs).
fn measure(cmd: &[String]) -> anyhow::Result<Measured> {
    let exe = std::env::current_exe().context("cannot find the xtask executable")?;
    let out = Command::new(exe)
        .args(["bench", MEASURE, &RUNS.to_string()])
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
    if seconds.len() != RUNS {
        bail!("the measuring process reported {} runs, not {RUNS}", seconds.len());
    }
    Ok(Measured { seconds, peak_rss_mib: kib / 1024.0 })
}

/// `xtask bench __measure RUNS PROGRAM ARGS…`: one untimed warm-up run, then RUNS timed runs of the command with
/// stdout to `/dev/null`; prints `{"seconds": […], "max_rss_kib": N}`.
///
/// Every run is waited for before the next starts, so `getrusage(RUSAGE_CHILDREN).ru_maxrss` (KiB on Linux) read
/// at the end is the largest peak RSS of any run; this process has no other children.
fn measure_child(args: &[String]) -> anyhow::Result<()> {
    let [runs, program, rest @ ..] = args else {
        bail!("usage: xtask bench {MEASURE} RUNS PROGRAM [ARGS…]")
    };
    let runs: usize = runs.parse().context("RUNS must be a number")?;
    let once = || -> anyhow::Result<Duration> {
        let start = Instant::now();
        let status = Command::new(program)
            .args(rest)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .with_context(|| format!("cannot run {program}"))?;
        let elapsed = start.elapsed();
        if !status.success() {
            bail!("{program} {} failed ({status})", rest.join(" "));
        }
        Ok(elapsed)
    };
    once()?; // warm-up: page cache, binary loading
    let seconds = (0..runs).map(|_| once().map(|d| d.as_secs_f64())).collect::<anyhow::Result<Vec<_>>>()?;
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .context("getrusage(RUSAGE_CHILDREN)")?;
    println!("{}", json!({ "seconds": seconds, "max_rss_kib": usage.max_rss() }));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn arguments() {
        let default = Options { bench: "io".into(), baseline: "main".into() };
        assert_eq!(parse_args(&[]).unwrap(), default);
        assert_eq!(parse_args(&args(&["io", "--baseline", "pr-7"])).unwrap().baseline, "pr-7");
        assert_eq!(parse_args(&args(&["--baseline=x.1"])).unwrap().baseline, "x.1");
        let err = parse_args(&args(&["mesh"])).unwrap_err().to_string();
        assert!(err.contains("unknown benchmark \"mesh\"") && err.contains("known: io"), "{err}");
        assert!(parse_args(&args(&["--baseline"])).is_err());
        assert!(parse_args(&args(&["--baseline", "../x"])).is_err());
        assert!(parse_args(&args(&["--fast"])).is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }

    #[test]
    fn median_and_min() {
        let m = Measured { seconds: vec![3.0, 1.0, 2.0, 5.0, 4.0], peak_rss_mib: 0.0 };
        assert_eq!((m.median(), m.min()), (3.0, 1.0));
    }
}
