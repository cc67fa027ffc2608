//! Convention presets on the example data set: nnU-Net's per-label means and foreground mean, recomputed here from
//! the voxels with nnU-Net's formula (`evaluate_predictions.py`: Dice and IoU NaN when `tp + fp + fn = 0`, means
//! with `nanmean`, the foreground mean as the plain mean of the label means), and the interval of the foreground
//! mean against a recomputation from the documented resample indices.

use segauge_eval::{
    AggregateOptions, Convention, EstimateKind, EvalOptions, Metric, ModelRun, Options, Report, aggregate,
    evaluate, pair_dirs, resample_scope,
};
use segauge_io::{ReadOptions, read_labels};
use segauge_stats::ResampleMatrix;

/// nnU-Net's per-case Dice and IoU of `label`, from the raw voxels.
fn nnunet_case(pred: &[u32], gt: &[u32], label: u32) -> (f64, f64) {
    let (mut tp, mut fp, mut fn_) = (0u64, 0u64, 0u64);
    for (&p, &g) in pred.iter().zip(gt) {
        match (p == label, g == label) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => {}
        }
    }
    if tp + fp + fn_ == 0 {
        return (f64::NAN, f64::NAN);
    }
    let (tp, fp, fn_) = (tp as f64, fp as f64, fn_ as f64);
    (2.0 * tp / (2.0 * tp + fp + fn_), tp / (tp + fp + fn_))
}

fn nanmean(v: &[f64]) -> f64 {
    let used: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    used.iter().sum::<f64>() / used.len() as f64
}

fn voxels(path: &std::path::Path) -> Vec<u32> {
    let v = read_labels(path, &ReadOptions::default()).unwrap();
    (0..v.labels().len()).map(|i| v.labels().get(i).unwrap()).collect()
}

#[test]
fn nnunet_convention_gives_nnunets_label_means_and_foreground_mean() {
    let dir = tempfile::tempdir().unwrap();
    segauge_tests::write_example(dir.path()).unwrap();
    let (pred_dir, gt_dir) = (dir.path().join("pred"), dir.path().join("gt"));
    let data = pair_dirs(&pred_dir, &gt_dir).unwrap();
    let eval_options = EvalOptions { surface: None, lesions: None, ..Convention::NnUnet.eval_options() };
    let evaluation = evaluate(&data, &eval_options, &|| {}).unwrap();
    let options = Options {
        eval: eval_options,
        aggregate: AggregateOptions { resamples: 500, ..AggregateOptions::default() },
    };
    let report: Report =
        aggregate(vec![ModelRun { name: "pred".into(), evaluation }], Default::default(), None, &options)
            .unwrap();

    // nnU-Net's numbers, from the files.
    let mut per_label: Vec<[Vec<f64>; 2]> = vec![[Vec::new(), Vec::new()]; 3];
    let mut ids: Vec<String> = data.cases.iter().map(|c| c.id.clone()).collect();
    ids.sort();
    for id in &ids {
        let name = format!("{id}.nii.gz");
        let (p, g) = (voxels(&pred_dir.join(&name)), voxels(&gt_dir.join(&name)));
        for label in 1..=3u32 {
            let (d, i) = nnunet_case(&p, &g, label);
            per_label[label as usize - 1][0].push(d);
            per_label[label as usize - 1][1].push(i);
        }
    }
    // Label 3 is absent from both sides in two cases: nnU-Net leaves them out (0.3264; 0.4948 if they scored 1).
    assert_eq!(per_label[2][0].iter().filter(|v| v.is_nan()).count(), 2);
    for (k, metric) in [Metric::Dice, Metric::Iou].into_iter().enumerate() {
        let means: Vec<f64> = per_label.iter().map(|l| nanmean(&l[k])).collect();
        for (label, &want) in (1..=3u32).zip(&means) {
            let e = report
                .summary
                .iter()
                .find(|e| e.metric == metric && e.structure.label == Some(label))
                .unwrap();
            assert!((e.estimate - want).abs() < 1e-12, "{metric:?} label {label}: {} vs {want}", e.estimate);
            assert_eq!(e.n, per_label[label as usize - 1][k].iter().filter(|v| !v.is_nan()).count());
        }
        let fg = report
            .summary
            .iter()
            .find(|e| e.metric == metric && e.kind == EstimateKind::ForegroundMean)
            .unwrap();
        let want = means.iter().sum::<f64>() / 3.0;
        assert!((fg.estimate - want).abs() < 1e-12, "{metric:?} foreground mean: {} vs {want}", fg.estimate);
        assert_eq!((fg.n_cases, fg.n_nan, fg.n_both_empty), (8, 2, 2));
        if metric == Metric::Dice {
            assert!((means[2] - 0.3264).abs() < 5e-5, "label 3: {}", means[2]);
            // The interval: the percentile bounds of the statistic over the documented resample indices contain
            // the estimate, and every replicate recomputed from them lies in [0, 1].
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let m = ResampleMatrix::generate(0, &resample_scope("eval", &refs), ids.len(), 500).unwrap();
            let mut reps = Vec::new();
            for b in 0..500 {
                let row = m.row(b);
                let mut sum = 0.0;
                for l in &per_label {
                    let used: Vec<f64> =
                        row.iter().map(|&i| l[0][i as usize]).filter(|v| !v.is_nan()).collect();
                    sum += used.iter().sum::<f64>() / used.len() as f64;
                }
                reps.push(sum / 3.0);
            }
            reps.retain(|v| v.is_finite());
            reps.sort_by(f64::total_cmp);
            assert!(fg.ci_low <= fg.estimate && fg.estimate <= fg.ci_high);
            assert!(fg.ci_low >= reps[0] && fg.ci_high <= reps[reps.len() - 1], "{fg:?}");
        }
    }
    // Without the convention no foreground mean is added; with the option it is, for any convention.
    let plain =
        Options { eval: EvalOptions { surface: None, lesions: None, ..EvalOptions::default() }, ..options };
    let evaluation = evaluate(&data, &plain.eval, &|| {}).unwrap();
    let run = vec![ModelRun { name: "pred".into(), evaluation }];
    let r = aggregate(run.clone(), Default::default(), None, &plain).unwrap();
    assert!(r.summary.iter().all(|e| e.kind != EstimateKind::ForegroundMean));
    let asked =
        Options { aggregate: AggregateOptions { foreground_mean: true, ..plain.aggregate.clone() }, ..plain };
    let r = aggregate(run, Default::default(), None, &asked).unwrap();
    let fg = r
        .summary
        .iter()
        .find(|e| e.metric == Metric::Dice && e.kind == EstimateKind::ForegroundMean)
        .unwrap();
    // Both-empty label 3 scores 1 under segauge's convention: (sum of the three label means) / 3.
    let means: Vec<f64> = (1..=3)
        .map(|l| {
            r.summary
                .iter()
                .find(|e| e.metric == Metric::Dice && e.structure.label == Some(l))
                .unwrap()
                .estimate
        })
        .collect();
    assert!((fg.estimate - means.iter().sum::<f64>() / 3.0).abs() < 1e-12);
}

/// Under `both_empty = nan` (nnU-Net's, MONAI's) a structure absent from both sides is left out of the means, the
/// paired comparisons and the rankings, and counted in each: label 3 of the example data is absent from both sides
/// in two cases, for the prediction and for the ground truth taken as a second model alike.
#[test]
fn both_empty_nan_values_leave_every_aggregate_and_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    segauge_tests::write_example(dir.path()).unwrap();
    let (pred_dir, gt_dir) = (dir.path().join("pred"), dir.path().join("gt"));
    let eval_options = EvalOptions { surface: None, lesions: None, ..Convention::NnUnet.eval_options() };
    let run = |pred: &std::path::Path, name: &str| {
        let data = pair_dirs(pred, &gt_dir).unwrap();
        ModelRun { name: name.into(), evaluation: evaluate(&data, &eval_options, &|| {}).unwrap() }
    };
    let options = Options {
        eval: eval_options.clone(),
        aggregate: AggregateOptions { resamples: 200, ..AggregateOptions::default() },
    };
    let models = vec![run(&pred_dir, "pred"), run(&gt_dir, "truth")];
    let report = aggregate(models, Default::default(), None, &options).unwrap();
    let three = |e: &segauge_eval::Structure| e.label == Some(3);
    for model in ["pred", "truth"] {
        let e = report
            .summary
            .iter()
            .find(|e| e.metric == Metric::Dice && three(&e.structure) && e.model.as_deref() == Some(model))
            .unwrap();
        assert_eq!((e.n, e.n_nan, e.n_both_empty, e.n_cases), (6, 2, 2, 8), "{model}");
    }
    let truth = report
        .summary
        .iter()
        .find(|e| e.metric == Metric::Dice && three(&e.structure) && e.model.as_deref() == Some("truth"))
        .unwrap();
    assert_eq!(truth.estimate, 1.0);
    let paired = report.paired.iter().find(|p| p.metric == Metric::Dice && three(&p.structure)).unwrap();
    assert_eq!((paired.n, paired.n_dropped), (6, 2));
    let ranking = report.ranking.iter().find(|r| r.metric == Metric::Dice && three(&r.structure)).unwrap();
    assert_eq!((ranking.n, ranking.n_nan), (8, 4));
    assert_eq!(ranking.models.iter().find(|m| m.model == "truth").unwrap().rank, 1);
}

/// Label 0 selected (MONAI's `include_background`): the background is measured as a structure, its counts against a
/// direct count of the voxels and its surface metrics equal to segauge-metrics' (MONAI's surface-Dice tests
/// validate that path, tests/eval/peers.rs).
#[test]
fn the_background_is_measured_when_label_0_is_selected() {
    let dir = tempfile::tempdir().unwrap();
    segauge_tests::write_example(dir.path()).unwrap();
    let (pred_dir, gt_dir) = (dir.path().join("pred"), dir.path().join("gt"));
    let data = pair_dirs(&pred_dir, &gt_dir).unwrap();
    let options = EvalOptions {
        labels: Some(vec![segauge_eval::LabelRef::Number(0), segauge_eval::LabelRef::Number(1)]),
        ..Convention::Monai.eval_options()
    };
    let evaluation = evaluate(&data, &options, &|| {}).unwrap();
    assert!(evaluation.failures.is_empty(), "{:?}", evaluation.failures);
    for case in &evaluation.cases {
        let name = format!("{}.nii.gz", case.case);
        let (p, g) = (voxels(&pred_dir.join(&name)), voxels(&gt_dir.join(&name)));
        let row = case.labels.iter().find(|l| l.structure.label == Some(0)).unwrap();
        let c = row.counts;
        assert_eq!(c.voxels_pred, p.iter().filter(|&&v| v == 0).count() as u64);
        assert_eq!(c.voxels_gt, g.iter().filter(|&&v| v == 0).count() as u64);
        assert_eq!(c.tp, p.iter().zip(&g).filter(|&(&a, &b)| a == 0 && b == 0).count() as u64);
        let (pv, gv) = (
            read_labels(&pred_dir.join(&name), &ReadOptions::default()).unwrap(),
            read_labels(&gt_dir.join(&name), &ReadOptions::default()).unwrap(),
        );
        let so = options.surface.clone().unwrap();
        let want = &segauge_metrics::surface_metrics(&pv, &gv, &[0], &so).unwrap()[&0];
        assert_eq!(row.surface.as_ref().unwrap(), want, "{}", case.case);
    }
}
