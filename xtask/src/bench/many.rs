//! `cargo xtask bench many-labels [--ref-venv DIR] [-- ONLY…]`: the many-structure benchmark of issue 16.
//!
//! Two cases, made if missing by `segauge-bench-data many-totalseg | many-body117` (under
//! `<workspace>/target/bench-data/`, never committed): TotalSegmentator's test outputs (fast vs full model, 41
//! structures present) upsampled by nearest neighbour to 488×404×150 at 0.75×0.75×0.6 mm, and a synthetic body of
//! 117 structures at 512×512×600 and 1.5 mm (see `segauge_benches::many`). For each case:
//! 1. `segauge compare --pred P --gt G --format json` (release build, default options: every metric, lesions
//!    included), [`SEGAUGE_RUNS`] timed runs after a warm-up run;
//! 2. if the reference venv exists, `benches/reference/many_labels.py TOOL P G`, a per-structure loop of the tool
//!    over every label present, timed without warm-up (the segauge runs have just read the same files):
//!    [`GOAL_REFERENCE_RUNS`] runs on the TotalSegmentator pair, whose ratios are goals (one run of the DeepMind
//!    loop there moved between 16.7 and 19.3 s from run to run), one on the body, whose loops take minutes;
//!    MeshMetrics with `--skip-biou` (as issue 16 states its single-organ goal; the per-voxel distance field of its
//!    BIoU would add minutes per case).
//!
//! Then a Markdown table: median and minimum wall time, CPU time per run, peak RSS, each loop's median over
//! segauge's, and the goals of issue 16 (the TotalSegmentator pair: at least 10× faster than the DeepMind loop and
//! 30× faster than the MeshMetrics loop, peak under 400 MiB; the 117-structure body in under 10 s).
//!
//! Last, a data set of that size (`eval`): `segauge eval` over 10 and over 100 cases, each the body pair (hard
//! links), default options with JSON and per-case CSV out, one run each: wall and CPU time, peak RSS, and how much
//! the peak grew between the two sizes (issue 16: memory must not grow with the number of cases).
//!
//! Arguments after `--` restrict the run to the named cases (`totalseg`, `body117`, `eval`) and tools (`segauge`,
//! `deepmind`, `meshmetrics`), e.g. `-- totalseg deepmind`. Summary in `target/xtask-bench/many-labels-<NAME>.json` and
//! `.md`, every run's stdout under `target/xtask-bench/many-labels-<NAME>-runs/`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::{
    Measured, Options, bench_data, build_release_cli, compare_command, header, json_object, machine,
    machine_line, measure, measure_with, read_json_output, reference_venv, run_reference, secs, target_dir,
    write_summary,
};

/// Timed runs of `segauge compare` per case.
const SEGAUGE_RUNS: usize = 3;
/// Timed runs of each reference loop on the case whose ratios are goals (the TotalSegmentator pair), so that
/// its ratios are medians; other cases' loops (minutes each) run once.
const GOAL_REFERENCE_RUNS: usize = 3;
/// The per-structure loop script, relative to the workspace root.
const SCRIPT: &str = "benches/reference/many_labels.py";
/// The cases: name, `segauge-bench-data` argument, what it is.
const CASES: [(&str, &str, &str); 2] = [
    ("totalseg", "many-totalseg", "TotalSegmentator fast vs full, 488×404×150 at 0.75×0.75×0.6 mm"),
    ("body117", "many-body117", "synthetic body, 117 structures, 512×512×600 at 1.5 mm"),
];
/// The reference loops with their speed goals on the TotalSegmentator pair (issue 16) and their extra arguments.
const TOOLS: [(&str, f64, &[&str]); 2] = [("deepmind", 10.0, &[]), ("meshmetrics", 30.0, &["--skip-biou"])];
/// Goal of the TotalSegmentator pair: peak RSS of segauge, MiB.
const TOTALSEG_PEAK_GOAL_MIB: f64 = 400.0;
/// Goal of the 117-structure body: wall time of segauge, s.
const BODY_GOAL_S: f64 = 10.0;
/// The data-set part's name (after `--`) and its sizes: cases of `segauge eval`, each the body pair.
const DATA_SET: &str = "eval";
const DATA_SET_SIZES: [usize; 2] = [10, 100];

pub(super) fn many_labels(root: &Path, opts: &Options) -> anyhow::Result<()> {
    let known: Vec<&str> =
        CASES.iter().map(|c| c.0).chain([DATA_SET, "segauge"]).chain(TOOLS.iter().map(|t| t.0)).collect();
    if let Some(bad) = opts.segauge_args.iter().find(|a| !known.contains(&a.as_str())) {
        bail!("many-labels: unknown {bad:?} after `--`; give cases and tools among {}", known.join(", "));
    }
    let wanted = |name: &str, group: &[&str]| {
        let named: Vec<&String> = opts.segauge_args.iter().filter(|a| group.contains(&a.as_str())).collect();
        named.is_empty() || named.iter().any(|a| *a == name)
    };
    let case_names: Vec<&str> = CASES.iter().map(|c| c.0).chain([DATA_SET]).collect();
    let tool_names: Vec<&str> = ["segauge"].into_iter().chain(TOOLS.iter().map(|t| t.0)).collect();

    println!("== cargo build --release -p segauge-cli");
    let segauge = build_release_cli(root)?;
    let host = machine();
    let venv = reference_venv(opts.ref_venv.as_deref());
    let python = venv.join("bin").join("python");
    let script = root.join(SCRIPT);
    let runs_dir = target_dir(root).join("xtask-bench").join(format!("many-labels-{}-runs", opts.baseline));
    let mut cases = serde_json::Map::new();
    let mut table = String::from(
        "| case | tool | structures | wall median | wall min | CPU | peak RSS | loop / segauge | goal |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for (case, data_case, what) in CASES.into_iter().filter(|c| wanted(c.0, &case_names)) {
        let (pred, gt) = bench_data(root, Some(data_case))?;
        let (pred_s, gt_s) = (pred.to_string_lossy().into_owned(), gt.to_string_lossy().into_owned());
        let mut entry = header("many-labels", &opts.baseline, &pred, &gt);
        entry.insert("what".into(), what.into());

        let seg = if wanted("segauge", &tool_names) {
            let cmd = compare_command(&segauge, &pred_s, &gt_s);
            println!("== [{case}] {}, {SEGAUGE_RUNS} runs", cmd.join(" "));
            let dir = runs_dir.join(case).join("segauge");
            let m = measure(&cmd, SEGAUGE_RUNS, Some(&dir))?;
            let out = read_json_output(&dir.join(format!("run-{SEGAUGE_RUNS}.out")))?;
            let structures = out["labels"].as_array().map_or(0, Vec::len);
            let goal = match case {
                "totalseg" => {
                    let ok = m.peak_rss_mib < TOTALSEG_PEAK_GOAL_MIB;
                    format!("peak < {TOTALSEG_PEAK_GOAL_MIB:.0} MiB: {}", verdict(ok))
                }
                _ => format!("< {BODY_GOAL_S:.0} s: {}", verdict(m.median() < BODY_GOAL_S)),
            };
            row(&mut table, case, "segauge compare", structures, &m, "1", &goal);
            entry.insert(
                "segauge".into(),
                json!({ "command": cmd, "wall_s": m.json(), "cpu_s": m.cpu_s, "peak_rss_mib": m.peak_rss_mib,
                        "structures": structures, "goal": goal }),
            );
            Some(m)
        } else {
            None
        };

        if !python.is_file() {
            let why =
                format!("reference loops skipped: no {} (see benches/reference/README.md)", python.display());
            println!("{why}");
            entry.insert("references_skipped".into(), why.into());
        }
        for (tool, goal, extra) in TOOLS.into_iter().filter(|t| python.is_file() && wanted(t.0, &tool_names))
        {
            let dir = runs_dir.join(case).join(tool);
            let pair = [pred_s.as_str(), gt_s.as_str()];
            let what = format!("[{case}] ");
            let runs = if case == "totalseg" { GOAL_REFERENCE_RUNS } else { 1 };
            let result = run_reference(&what, &python, &script, tool, pair, extra, runs, &dir, false);
            let (cmd, m, line) = match result {
                Ok(v) => v,
                Err(err) => {
                    eprintln!("warning: {tool} failed on {case}: {err:#}");
                    entry.insert(tool.into(), json!({ "error": format!("{err:#}") }));
                    continue;
                }
            };
            let ratio = seg.as_ref().map(|s| m.median() / s.median());
            let goal_text = match (case, ratio) {
                ("totalseg", Some(r)) => format!("≥ {goal:.0}×: {}", verdict(r >= goal)),
                _ => "-".into(),
            };
            let label = if extra.contains(&"--skip-biou") {
                format!("{tool} loop (no BIoU)")
            } else {
                format!("{tool} loop")
            };
            let structures = line["labels"].as_u64().unwrap_or(0) as usize;
            let ratio_text = ratio.map_or_else(|| "-".into(), |r| format!("{r:.1}×"));
            row(&mut table, case, &label, structures, &m, &ratio_text, &goal_text);
            entry.insert(
                tool.into(),
                json!({ "command": cmd, "wall_s": m.json(), "cpu_s": m.cpu_s, "peak_rss_mib": m.peak_rss_mib,
                        "version": line["version"], "labels": line["labels"], "load_s": line["load_s"],
                        "compute_s": line["compute_s"], "steps_s": line["steps_s"], "slowest": line["slowest"],
                        "ratio_over_segauge": ratio, "goal": goal_text }),
            );
        }
        cases.insert(case.into(), Value::Object(entry));
    }
    if wanted(DATA_SET, &case_names) && wanted("segauge", &tool_names) {
        let entry = data_set(root, &segauge, &runs_dir, &mut table)?;
        cases.insert(DATA_SET.into(), entry);
    }
    table.push('\n');
    table.push_str(&machine_line(&host));
    let summary = Value::Object(json_object(json!({
        "bench": "many-labels",
        "baseline": opts.baseline,
        "machine": host,
        "reference_venv": venv,
        "cases": cases,
        "table_md": table,
        "runs_dir": runs_dir,
    })));
    let (out, _) = write_summary(root, "many-labels", &opts.baseline, &summary)?;
    let md = out.with_extension("md");
    std::fs::write(&md, &table).with_context(|| format!("cannot write {}", md.display()))?;
    println!();
    println!("{table}");
    println!("wrote {} and {}", out.display(), md.display());
    Ok(())
}

/// `segauge eval` over [`DATA_SET_SIZES`] cases, each the 117-structure body pair (hard links to its two files),
/// default options (every metric, lesions, B = 9999 BCa intervals) with JSON and per-case CSV out: one run per
/// size, after the compare runs have read the same files. Appends a table (wall, CPU, per case, peak RSS) and how
/// much the peak grew from the smallest size to the largest; returns the JSON entry.
fn data_set(root: &Path, segauge: &Path, runs_dir: &Path, table: &mut String) -> anyhow::Result<Value> {
    let (pred, gt) = bench_data(root, Some("many-body117"))?;
    let _ = write!(
        table,
        "\n| `segauge eval`, cases (each the body pair) | wall | CPU | wall per case | peak RSS |\n|---|---|---|---|---|\n"
    );
    let (mut sizes, mut peaks) = (Vec::new(), Vec::new());
    for n in DATA_SET_SIZES {
        let data = runs_dir.join(DATA_SET).join(format!("data-{n}"));
        if data.exists() {
            std::fs::remove_dir_all(&data).with_context(|| format!("cannot clear {}", data.display()))?;
        }
        for (from, side) in [(&pred, "pred"), (&gt, "gt")] {
            let dir = data.join(side);
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            for case in 0..n {
                let link = dir.join(format!("case_{case:03}.nii.gz"));
                std::fs::hard_link(from, &link)
                    .with_context(|| format!("cannot link {} to {}", link.display(), from.display()))?;
            }
        }
        let out = runs_dir.join(DATA_SET).join(format!("out-{n}"));
        std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let cmd: Vec<String> = vec![
            path(segauge),
            "eval".into(),
            "--pred".into(),
            path(&data.join("pred")),
            "--gt".into(),
            path(&data.join("gt")),
            "--json".into(),
            path(&out.join("results.json")),
            "--csv".into(),
            path(&out.join("per_case.csv")),
        ];
        println!("== [{DATA_SET}] {}, 1 run", cmd.join(" "));
        let m = measure_with(&cmd, 1, None, false)?;
        let cpu = m.cpu_s.map_or_else(|| "-".into(), secs);
        let _ = writeln!(
            table,
            "| {n} | {} | {cpu} | {} | {:.0} MiB |",
            secs(m.median()),
            secs(m.median() / n as f64),
            m.peak_rss_mib,
        );
        peaks.push(m.peak_rss_mib);
        sizes.push(json!({
            "cases": n, "command": cmd, "wall_s": m.json(), "cpu_s": m.cpu_s, "peak_rss_mib": m.peak_rss_mib,
        }));
        std::fs::remove_dir_all(&data).with_context(|| format!("cannot clear {}", data.display()))?;
    }
    let growth = peaks[peaks.len() - 1] - peaks[0];
    let _ = writeln!(
        table,
        "\nPeak RSS from {} to {} cases: {growth:+.0} MiB (memory must not grow with the number of cases).",
        DATA_SET_SIZES[0],
        DATA_SET_SIZES[DATA_SET_SIZES.len() - 1],
    );
    Ok(
        json!({ "what": "segauge eval over copies of the body pair", "sizes": sizes, "peak_growth_mib": growth }),
    )
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// One Markdown row of the table.
fn row(table: &mut String, case: &str, tool: &str, structures: usize, m: &Measured, ratio: &str, goal: &str) {
    let cpu = m.cpu_s.map_or_else(|| "-".into(), secs);
    let _ = writeln!(
        table,
        "| {case} | {tool} | {structures} | {} | {} | {cpu} | {:.0} MiB | {ratio} | {goal} |",
        secs(m.median()),
        secs(m.min()),
        m.peak_rss_mib,
    );
}
