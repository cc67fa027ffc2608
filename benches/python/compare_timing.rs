//! `segauge-compare-timing PRED.npy GT.npy SX,SY,SZ [ITERATIONS [WARM_UP [CALLS]]]`: the Rust side of the
//! per-call measurements of `benches/python/bench.py` (run by `cargo xtask bench python`).
//!
//! Reads the pair (x, y, z arrays; the spacing in mm), then times `segauge_eval::compare_volumes` on the volumes in
//! memory with the options of the Python calls it stands for: `compare` (the defaults: smooth surface, lesions)
//! and `surface_metrics` (the same without lesions); `CALLS` picks some (`compare,surface_metrics`, the default).
//! Each is called `WARM_UP` times untimed (default 10), then `ITERATIONS` times (default 300), every call timed
//! alone. Prints one JSON line: per call, the median and minimum in seconds and every time, and label 1's Dice and
//! HD so that the script can check both sides computed the same thing.
#![allow(clippy::print_stdout, clippy::print_stderr, reason = "the JSON line is this program's output")]

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use segauge_eval::{EvalOptions, Metric, compare_volumes};
use segauge_io::{Axes, LabelVolume, NpyOptions, ReadOptions};
use serde_json::json;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pred, gt, spacing, rest @ ..] = args.as_slice() else {
        eprintln!("usage: segauge-compare-timing PRED.npy GT.npy SX,SY,SZ [ITERATIONS [WARM_UP [CALLS]]]");
        return ExitCode::from(2);
    };
    let spacing: Vec<f64> = spacing.split(',').filter_map(|s| s.trim().parse().ok()).collect();
    let Ok(spacing) = <[f64; 3]>::try_from(spacing.as_slice()) else {
        eprintln!("spacing: three numbers, sx,sy,sz");
        return ExitCode::from(2);
    };
    let number = |i: usize, default: usize, min: usize| match rest.get(i).map(|s| s.parse::<usize>()) {
        None => Some(default),
        Some(Ok(n)) if n >= min => Some(n),
        Some(_) => None,
    };
    let (Some(iterations), Some(warm_up)) = (number(0, 300, 1), number(1, 10, 0)) else {
        eprintln!("ITERATIONS must be a positive number, WARM_UP a number");
        return ExitCode::from(2);
    };
    let calls: Vec<&str> = rest.get(2).map_or("compare,surface_metrics", String::as_str).split(',').collect();
    let read =
        ReadOptions { npy: NpyOptions { spacing: Some(spacing), axes: Axes::Xyz }, ..Default::default() };
    let load = |path: &str| segauge_io::read_labels(Path::new(path), &read);
    let (pred, gt) = match (load(pred), load(gt)) {
        (Ok(p), Ok(g)) => (p, g),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let compare = EvalOptions::default();
    let surface_only = EvalOptions { lesions: None, ..EvalOptions::default() };
    let mut out = serde_json::Map::new();
    for (name, options) in [("compare", &compare), ("surface_metrics", &surface_only)] {
        if !calls.contains(&name) {
            continue;
        }
        match time(&pred, &gt, options, iterations, warm_up) {
            Ok(v) => out.insert(name.into(), v),
            Err(e) => {
                eprintln!("{name}: {e}");
                return ExitCode::FAILURE;
            }
        };
    }
    out.insert("iterations".into(), json!(iterations));
    out.insert("warm_up".into(), json!(warm_up));
    out.insert("cores".into(), json!(std::thread::available_parallelism().map_or(1, usize::from)));
    println!("{}", serde_json::Value::Object(out));
    ExitCode::SUCCESS
}

/// Median and minimum seconds of `iterations` timed calls (after `warm_up` untimed ones), and label 1's values.
fn time(
    pred: &LabelVolume,
    gt: &LabelVolume,
    options: &EvalOptions,
    iterations: usize,
    warm_up: usize,
) -> Result<serde_json::Value, segauge_eval::Error> {
    for _ in 0..warm_up {
        compare_volumes(pred, gt, options)?;
    }
    let mut seconds = Vec::with_capacity(iterations);
    let mut last = None;
    for _ in 0..iterations {
        let start = Instant::now();
        let result = compare_volumes(pred, gt, options)?;
        seconds.push(start.elapsed().as_secs_f64());
        last = Some(result);
    }
    let all = seconds.clone();
    seconds.sort_by(f64::total_cmp);
    let n = seconds.len();
    let median = if n % 2 == 1 { seconds[n / 2] } else { (seconds[n / 2 - 1] + seconds[n / 2]) / 2.0 };
    let label_1 = last.as_ref().and_then(|r| r.labels.iter().find(|l| l.structure.label == Some(1)));
    let value = |m: Metric| label_1.map(|l| m.value(l).as_f64());
    Ok(json!({
        "median_s": median,
        "min_s": seconds[0],
        "all_s": all,
        "dice": value(Metric::Dice),
        "hd": value(Metric::Hd),
    }))
}
