//! Data-set aggregates on generated data sets with known answers: intervals against scipy and against a
//! recomputation from the documented resample indices, subgroups against evaluating the subgroup alone, failures
//! in the denominators, and model comparisons.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use segauge_eval::{
    AggregateOptions, DataSet, EvalOptions, Metric, ModelRun, Options, Report, aggregate, evaluate, pair_dirs,
};
use segauge_stats::{CiMethod, ResampleMatrix};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/report/expected.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Writes case i: GT a bar of 10 voxels, prediction a bar of `ks[i]` voxels from the same start (Dice
/// 2·min(k, 10)/(10 + k)); with `perfect`, the prediction equals the GT.
fn write_cases(dir: &Path, ks: &[usize], perfect: bool) -> (PathBuf, PathBuf) {
    let (pred, gt) = (dir.join(if perfect { "perfect" } else { "pred" }), dir.join("gt"));
    std::fs::create_dir_all(&pred).unwrap();
    std::fs::create_dir_all(&gt).unwrap();
    let dims = [16, 3, 3];
    for (i, &k) in ks.iter().enumerate() {
        let bar =
            |len: usize| segauge_tests::label_map(dims, move |x, y, z| u8::from(y == 1 && z == 1 && x < len));
        let name = format!("case_{i:03}.nii.gz");
        segauge_tests::Nifti::u8(dims, [1.0, 1.0, 1.0], bar(10)).write(&gt.join(&name)).unwrap();
        let p = if perfect { bar(10) } else { bar(k) };
        segauge_tests::Nifti::u8(dims, [1.0, 1.0, 1.0], p).write(&pred.join(&name)).unwrap();
    }
    (pred, gt)
}

fn ks() -> Vec<usize> {
    fixture()["ks"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect()
}

fn options() -> EvalOptions {
    EvalOptions { surface: None, ..EvalOptions::default() }
}

fn run(data: &DataSet, metadata: BTreeMap<String, BTreeMap<String, String>>, o: &AggregateOptions) -> Report {
    let eval = evaluate(data, &options(), &|| {}).unwrap();
    let options = Options { eval: options(), aggregate: o.clone() };
    aggregate(vec![ModelRun { name: "pred".into(), evaluation: eval }], metadata, None, &options).unwrap()
}

fn dice_row(r: &Report) -> &segauge_eval::Estimate {
    r.summary.iter().find(|e| e.metric == Metric::Dice && e.structure.label == Some(1)).unwrap()
}

#[test]
fn mean_dice_interval_is_within_monte_carlo_error_of_scipy() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = write_cases(dir.path(), &ks(), false);
    let data = pair_dirs(&pred, &gt).unwrap();
    let dice: Vec<f64> = f["dice"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    for (method, key) in [(CiMethod::Bca, "bca"), (CiMethod::Percentile, "percentile")] {
        let r = run(&data, BTreeMap::new(), &AggregateOptions { method, ..AggregateOptions::default() });
        let e = dice_row(&r);
        let mean = dice.iter().sum::<f64>() / dice.len() as f64;
        assert!((e.estimate - mean).abs() < 1e-15);
        assert_eq!((e.n, e.n_cases, e.n_failed), (40, 40, 0));
        // scipy's endpoints over 30 seeds have standard deviation sd; a single segauge run differs from their
        // mean by at most a few sd (5·sd·√(1 + 1/30) allows for the error of the 30-run mean too).
        let s = &f[key];
        for (ours, m, sd) in [(e.ci_low, "low_mean", "low_sd"), (e.ci_high, "high_mean", "high_sd")] {
            let (m, sd) = (s[m].as_f64().unwrap(), s[sd].as_f64().unwrap());
            assert!(
                (ours - m).abs() <= 5.0 * sd * (1.0 + 1.0 / 30.0f64).sqrt(),
                "{key}: {ours} vs {m} ± {sd}"
            );
        }
    }
}

/// numpy's default (linear) quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, frac) = (h.floor() as usize, h - h.floor());
    if lo + 1 < sorted.len() { sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]) } else { sorted[lo] }
}

#[test]
fn percentile_interval_equals_recomputation_from_the_documented_indices() {
    // The scope recipe (README, "Results JSON"): boot/<dataset>/<first 8 bytes of SHA-256 of the case ids, each
    // followed by a newline, in hex>.
    use sha2::{Digest, Sha256};
    let ks = ks();
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = write_cases(dir.path(), &ks, false);
    let data = pair_dirs(&pred, &gt).unwrap();
    let o = AggregateOptions {
        method: CiMethod::Percentile,
        resamples: 2000,
        seed: 7,
        ..AggregateOptions::default()
    };
    let r = run(&data, BTreeMap::new(), &o);
    let ids: Vec<String> = (0..ks.len()).map(|i| format!("case_{i:03}")).collect();
    let mut h = Sha256::new();
    for id in &ids {
        h.update(id.as_bytes());
        h.update(b"\n");
    }
    let hex: String = h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(dice_row(&r).scope, format!("boot/eval/{hex}"));
    let matrix = ResampleMatrix::generate(7, &format!("boot/eval/{hex}"), ks.len(), 2000).unwrap();
    let dice: Vec<f64> = ks.iter().map(|&k| 2.0 * k.min(10) as f64 / (10 + k) as f64).collect();
    let mut reps: Vec<f64> = (0..2000)
        .map(|b| matrix.row(b).iter().map(|&i| dice[i as usize]).sum::<f64>() / ks.len() as f64)
        .collect();
    reps.sort_by(f64::total_cmp);
    let e = dice_row(&r);
    assert!((e.ci_low - quantile(&reps, 0.025)).abs() <= 1e-12, "{} vs {}", e.ci_low, quantile(&reps, 0.025));
    assert!((e.ci_high - quantile(&reps, 0.975)).abs() <= 1e-12);
}

#[test]
fn subgroup_rows_equal_evaluating_the_subgroup_alone() {
    let ks = ks();
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = write_cases(dir.path(), &ks, false);
    let data = pair_dirs(&pred, &gt).unwrap();
    let site = |i: usize| if i % 3 == 0 { "A" } else { "B" };
    let metadata: BTreeMap<String, BTreeMap<String, String>> = (0..ks.len())
        .map(|i| (format!("case_{i:03}"), BTreeMap::from([("site".to_string(), site(i).to_string())])))
        .collect();
    let o = AggregateOptions { resamples: 999, ..AggregateOptions::default() };
    let all = run(&data, metadata.clone(), &o);
    assert_eq!(all.subgroup_columns, ["site"]);
    for value in ["A", "B"] {
        let alone = DataSet {
            cases: data
                .cases
                .iter()
                .enumerate()
                .filter(|(i, _)| site(*i) == value)
                .map(|(_, c)| c.clone())
                .collect(),
            ..Default::default()
        };
        let r = run(&alone, BTreeMap::new(), &o);
        for e in &r.summary {
            let sub = all
                .subgroups
                .iter()
                .find(|s| {
                    s.value == value && s.estimate.metric == e.metric && s.estimate.structure == e.structure
                })
                .unwrap();
            let s = &sub.estimate;
            assert_eq!(
                (s.estimate, s.ci_low, s.ci_high, s.n),
                (e.estimate, e.ci_low, e.ci_high, e.n),
                "{value}"
            );
        }
    }
}

#[test]
fn failed_cases_are_listed_and_counted_in_every_denominator() {
    let ks = ks();
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = write_cases(dir.path(), &ks[..12], false);
    // An unreadable ground truth and a prediction without partner.
    std::fs::write(gt.join("case_003.nii.gz"), b"not a nifti").unwrap();
    std::fs::copy(pred.join("case_000.nii.gz"), pred.join("orphan.nii.gz")).unwrap();
    let data = pair_dirs(&pred, &gt).unwrap();
    let metadata: BTreeMap<String, BTreeMap<String, String>> = ["case_003", "orphan", "case_001"]
        .iter()
        .map(|id| (id.to_string(), BTreeMap::from([("scanner".to_string(), "X".to_string())])))
        .collect();
    let r = run(&data, metadata, &AggregateOptions { resamples: 500, ..AggregateOptions::default() });
    let failed: Vec<&str> = r.models[0].evaluation.failures.iter().map(|f| f.case.as_str()).collect();
    assert_eq!(failed, ["case_003", "orphan"]);
    let e = dice_row(&r);
    assert_eq!((e.n, e.n_cases, e.n_failed), (11, 11, 2));
    // Subgroup X holds one evaluated case and both failures; the rest have no scanner.
    let x = r.subgroups.iter().find(|s| s.value == "X" && s.estimate.metric == Metric::Dice).unwrap();
    assert_eq!((x.estimate.n_cases, x.estimate.n_failed), (1, 2));
    assert!(x.estimate.flags.contains(&"too_few_cases") && x.estimate.flags.contains(&"small_subgroup"));
    let missing =
        r.subgroups.iter().find(|s| s.value == "(missing)" && s.estimate.metric == Metric::Dice).unwrap();
    assert_eq!((missing.estimate.n_cases, missing.estimate.n_failed), (10, 0));
    assert!(r.models[0].evaluation.failures[0].error.contains("case_003.nii.gz"));
    assert_eq!(r.summary[0].n_failed, 2);
}

#[test]
fn two_models_get_paired_comparisons_and_a_ranking() {
    let ks = ks();
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = write_cases(dir.path(), &ks, false);
    let (perfect, _) = write_cases(dir.path(), &ks, true);
    let o = AggregateOptions { resamples: 999, ..AggregateOptions::default() };
    let models: Vec<ModelRun> = [("model", &pred), ("perfect", &perfect)]
        .iter()
        .map(|(name, dir)| ModelRun {
            name: name.to_string(),
            evaluation: evaluate(&pair_dirs(dir, &gt).unwrap(), &options(), &|| {}).unwrap(),
        })
        .collect();
    let r = aggregate(models, BTreeMap::new(), None, &Options { eval: options(), aggregate: o }).unwrap();
    let dice: Vec<f64> = ks.iter().map(|&k| 2.0 * k.min(10) as f64 / (10 + k) as f64).collect();
    let c = r.paired.iter().find(|c| c.metric == Metric::Dice && c.structure.label == Some(1)).unwrap();
    assert_eq!((c.model_a.as_str(), c.model_b.as_str(), c.n, c.n_dropped), ("model", "perfect", 40, 0));
    let want = dice.iter().map(|d| d - 1.0).sum::<f64>() / 40.0;
    assert!((c.mean_diff - want).abs() < 1e-15);
    assert!(c.ci_high < 0.0 && c.p_value < 1e-6 && c.p_holm >= c.p_value);
    let rank = r.ranking.iter().find(|x| x.metric == Metric::Dice && x.structure.label == Some(1)).unwrap();
    assert_eq!(rank.models[1].rank, 1);
    assert_eq!(rank.models[1].p_first, 1.0);
    // Every summary row names its model.
    assert!(r.summary.iter().all(|e| e.model.is_some()));
}
