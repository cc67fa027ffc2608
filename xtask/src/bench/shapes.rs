//! The single-organ shapes of `cargo xtask bench surface` (issue 16, item 4): for each shape of
//! `segauge_benches::shapes` (smooth organ, organ with islands, thin elongated structure, many small lesions; one
//! label at 512×512×300, 0.8×0.8×1.5 mm), `segauge compare` (default options, every metric) against
//! `surface_speed.py deepmind` and `surface_speed.py meshmetrics --skip-biou` in the same run, with peak memory and
//! the goals of issue 16 (DeepMind ≥ 5× slower, MeshMetrics without BIoU ≥ 30×, segauge's peak under 1 GiB).
//! The table goes to `target/xtask-bench/surface-shapes-<NAME>.md` (and `.json`); every run's stdout to
//! `target/xtask-bench/surface-<NAME>-runs/<shape>/`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};

use super::{
    Options, REFERENCE_SCRIPT, SHAPE_PEAK_GOAL_MIB, SHAPE_SEGAUGE_RUNS, SHAPE_TOOLS, bench_data,
    compare_command, find_metric, machine, machine_line, measure, read_json_output, reference_venv,
    run_reference, secs, target_dir, write_summary,
};

/// The shapes, as `segauge-bench-data surface-<shape>` names them (the same list as `segauge_benches::shapes`).
const SHAPES: [&str; 4] = ["smooth", "islands", "thin", "lesions"];

pub(super) fn shapes(root: &Path, opts: &Options, segauge: &Path) -> anyhow::Result<()> {
    let host = machine();
    let venv = reference_venv(opts.ref_venv.as_deref());
    let python = venv.join("bin").join("python");
    let script = root.join(REFERENCE_SCRIPT);
    let runs_dir = target_dir(root).join("xtask-bench").join(format!("surface-{}-runs", opts.baseline));
    let mut table = String::from(
        "| shape | GT voxels | tool | wall median | wall min | peak RSS | tool / segauge | goal | HD95 | ASSD | NSD |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut out = serde_json::Map::new();
    for shape in SHAPES {
        let (pred, gt) = bench_data(root, Some(&format!("surface-{shape}")))?;
        let (pred_s, gt_s) = (pred.to_string_lossy().into_owned(), gt.to_string_lossy().into_owned());
        let mut cmd = compare_command(segauge, &pred_s, &gt_s);
        cmd.extend(opts.segauge_args.iter().cloned());
        println!("== [{shape}] {}, {SHAPE_SEGAUGE_RUNS} runs", cmd.join(" "));
        let dir = runs_dir.join(shape).join("segauge");
        let seg = measure(&cmd, SHAPE_SEGAUGE_RUNS, Some(&dir))?;
        let json = read_json_output(&dir.join(format!("run-{SHAPE_SEGAUGE_RUNS}.out")))?;
        let row1 = json["labels"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["label"] == 1))
            .cloned()
            .context("segauge's JSON has no row for label 1")?;
        let voxels = row1["voxels_gt"].as_u64().unwrap_or(0);
        let value = |m: &str| find_metric(&row1, m).map_or_else(|| "-".into(), |v| format!("{v:.3}"));
        let met = |ok: bool| if ok { "met" } else { "NOT met" };
        let _ = writeln!(
            table,
            "| {shape} | {voxels} | segauge | {} | {} | {:.0} MiB | 1 | peak < 1 GiB: {} | {} | {} | {} |",
            secs(seg.median()),
            secs(seg.min()),
            seg.peak_rss_mib,
            met(seg.peak_rss_mib < SHAPE_PEAK_GOAL_MIB),
            value("hd95"),
            value("assd"),
            value("nsd"),
        );
        let mut entry = serde_json::Map::new();
        entry.insert(
            "segauge".into(),
            json!({ "command": cmd, "wall_s": seg.json(), "peak_rss_mib": seg.peak_rss_mib, "label_1": row1 }),
        );
        for (tool, goal, runs, extra) in SHAPE_TOOLS.into_iter().filter(|_| python.is_file()) {
            let dir = runs_dir.join(shape).join(tool);
            let pair = [pred_s.as_str(), gt_s.as_str()];
            let what = format!("[{shape}] ");
            let result = run_reference(&what, &python, &script, tool, pair, extra, runs, &dir, true);
            let (rcmd, m, line) = match result {
                Ok(v) => v,
                Err(err) => {
                    eprintln!("warning: {tool} failed on {shape}: {err:#}");
                    entry.insert(tool.into(), json!({ "error": format!("{err:#}") }));
                    continue;
                }
            };
            let ratio = m.median() / seg.median();
            let name =
                if extra.contains(&"--skip-biou") { format!("{tool} (no BIoU)") } else { tool.to_string() };
            let metric =
                |k: &str| line["metrics"][k].as_f64().map_or_else(|| "-".into(), |v| format!("{v:.3}"));
            let _ = writeln!(
                table,
                "| {shape} | | {name} | {} | {} | {:.0} MiB | {ratio:.1}× | ≥ {goal:.0}×: {} | {} | {} | {} |",
                secs(m.median()),
                secs(m.min()),
                m.peak_rss_mib,
                met(ratio >= goal),
                metric("hd95"),
                metric("assd"),
                metric("nsd"),
            );
            entry.insert(
                tool.into(),
                json!({ "command": rcmd, "wall_s": m.json(), "peak_rss_mib": m.peak_rss_mib,
                        "compute_s": line["compute_s"], "steps_s": line["steps_s"], "metrics": line["metrics"],
                        "ratio_over_segauge": ratio, "goal_ratio": goal }),
            );
        }
        out.insert(shape.into(), Value::Object(entry));
    }
    if !python.is_file() {
        println!("reference tools skipped: no {} (see benches/reference/README.md)", python.display());
    }
    table.push('\n');
    table.push_str(&machine_line(&host));
    let summary = json!({
        "bench": "surface-shapes", "baseline": opts.baseline, "machine": host, "shapes": out, "table_md": table,
    });
    let (path, _) = write_summary(root, "surface-shapes", &opts.baseline, &summary)?;
    let md = path.with_extension("md");
    std::fs::write(&md, &table).with_context(|| format!("cannot write {}", md.display()))?;
    println!();
    println!("{table}");
    println!("wrote {} and {}", path.display(), md.display());
    Ok(())
}
