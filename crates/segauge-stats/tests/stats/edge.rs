//! Edge cases with hand-computed answers: 0, 1 and 2 cases, constant data, and the NaN / inf policies.

use segauge_stats::{
    BootstrapOptions, CiMethod, Error, Policy, PolicyCounts, RankingOptions, Replicates, ResampleMatrix,
    SignFlipOptions, Stream, WilcoxonOptions, apply_policy, kendall_tau_b, rank_models, sign_flip_test,
    wilcoxon,
};

fn all_methods() -> [BootstrapOptions; 3] {
    [CiMethod::Bca, CiMethod::Percentile, CiMethod::Basic]
        .map(|method| BootstrapOptions { method, ..BootstrapOptions::default() })
}

#[test]
fn zero_cases() {
    assert!(matches!(ResampleMatrix::generate(0, "boot/e/0", 0, 100), Err(Error::NoCases { .. })));
    let mut stream = Stream::new(0, "perm/e").unwrap();
    assert!(matches!(
        sign_flip_test(&[], &mut stream, &SignFlipOptions::default()),
        Err(Error::NoCases { .. })
    ));
    let w = wilcoxon(&[], &WilcoxonOptions::default()).unwrap();
    assert!(w.p_value.is_nan() && w.n_ranked == 0);
    assert!(kendall_tau_b(&[], &[]).unwrap().is_nan());
    assert!(matches!(
        rank_models(&[&[][..], &[][..]], &RankingOptions::default()),
        Err(Error::NoCases { .. })
    ));
    let c = apply_policy(&[], Policy::Cap(10.0)).unwrap();
    assert_eq!(c.counts, PolicyCounts::default());
}

/// One case: every replicate is that case, and there is no interval (docs/METHODS.md C.4: n < 2, no CI).
#[test]
fn one_case() {
    let matrix = ResampleMatrix::generate(0, "boot/e/1", 1, 50).unwrap();
    assert!(matrix.as_slice().iter().all(|&i| i == 0));
    let reps = Replicates::mean(&matrix, &[0.4]).unwrap();
    assert!(reps.values().iter().all(|&v| v == 0.4));
    for options in all_methods() {
        let ci = reps.interval(&options).unwrap();
        assert_eq!(ci.estimate, 0.4);
        assert!(ci.low.is_nan() && ci.high.is_nan() && ci.flags.too_few_cases && ci.flags.small_sample);
    }
    let ratio = Replicates::ratio(&matrix, &[2.0], &[3.0]).unwrap();
    assert_eq!(ratio.estimate(), 2.0 / 3.0);
    assert!(ratio.interval(&BootstrapOptions::default()).unwrap().flags.too_few_cases);
}

/// Two cases 1 and 3: replicates are 1, 2 or 3 (probabilities 1/4, 1/2, 1/4), the jackknife values are 3 and
/// 1, so the acceleration is 0; every bound lies in [1, 3] and the interval is flagged small.
#[test]
fn two_cases() {
    let matrix = ResampleMatrix::generate(0, "boot/e/2", 2, 1000).unwrap();
    let reps = Replicates::mean(&matrix, &[1.0, 3.0]).unwrap();
    assert_eq!(reps.jackknife(), [3.0, 1.0]);
    let twos = reps.values().iter().filter(|&&v| v == 2.0).count();
    assert!((430..570).contains(&twos), "{twos}");
    for options in all_methods() {
        let ci = reps.interval(&options).unwrap();
        assert!(ci.flags.small_sample && !ci.flags.too_few_cases && !ci.flags.degenerate, "{ci:?}");
        assert!(
            (1.0..=3.0).contains(&ci.low) && (1.0..=3.0).contains(&ci.high) && ci.low < ci.high,
            "{ci:?}"
        );
    }
    assert_eq!(reps.interval(&BootstrapOptions::default()).unwrap().bca.unwrap().acceleration, 0.0);
}

#[test]
fn constant_values() {
    let matrix = ResampleMatrix::generate(0, "boot/e/c", 15, 500).unwrap();
    let reps = Replicates::mean(&matrix, &[2.5; 15]).unwrap();
    let bca = reps.interval(&BootstrapOptions::default()).unwrap();
    assert!(bca.flags.degenerate && bca.low.is_nan() && bca.high.is_nan() && bca.method == CiMethod::Bca);
    let fallback = reps
        .interval(&BootstrapOptions { bca_fallback_percentile: true, ..BootstrapOptions::default() })
        .unwrap();
    assert_eq!((fallback.low, fallback.high, fallback.method), (2.5, 2.5, CiMethod::Percentile));
    assert!(fallback.flags.degenerate);
    let basic = reps.interval(&all_methods()[2]).unwrap();
    assert_eq!((basic.low, basic.high), (2.5, 2.5));
    // A Wilcoxon test of all-zero differences has nothing to rank.
    assert!(wilcoxon(&[0.0; 6], &WilcoxonOptions::default()).unwrap().p_value.is_nan());
}

/// HD95 of six cases, two of them with an empty prediction (+inf), one undefined (NaN); case caps are the image
/// diagonals.
#[test]
fn policies_report_counts() {
    let hd95 = [3.0, f64::INFINITY, 5.0, f64::NAN, f64::INFINITY, 4.0];
    let diagonals = [300.0, 310.0, 320.0, 330.0, 340.0, 350.0];

    let each = apply_policy(&hd95, Policy::CapEach(&diagonals)).unwrap();
    assert_eq!(each.values, [3.0, 310.0, 5.0, 340.0, 4.0]);
    assert_eq!(each.used, [0, 1, 2, 4, 5]);
    assert_eq!(each.counts, PolicyCounts { n_total: 6, n_inf: 2, n_nan: 1, n_capped: 2, n_used: 5 });
    assert_eq!(each.mean(), 662.0 / 5.0);

    let fixed = apply_policy(&hd95, Policy::Cap(374.0)).unwrap();
    assert_eq!(fixed.values, [3.0, 374.0, 5.0, 374.0, 4.0]);
    assert_eq!(fixed.counts.n_capped, 2);

    let omit = apply_policy(&hd95, Policy::Omit).unwrap();
    assert_eq!(
        (omit.values.as_slice(), omit.used.as_slice()),
        ([3.0, 5.0, 4.0].as_slice(), [0, 2, 5].as_slice())
    );
    assert_eq!(omit.counts, PolicyCounts { n_total: 6, n_inf: 2, n_nan: 1, n_capped: 0, n_used: 3 });
    assert_eq!(omit.mean(), 4.0);

    let propagate = apply_policy(&hd95, Policy::Propagate).unwrap();
    assert_eq!(propagate.counts.n_used, 6);
    assert!(propagate.mean().is_nan());
    let inf_only = apply_policy(&[1.0, f64::INFINITY], Policy::Propagate).unwrap();
    assert_eq!(inf_only.mean(), f64::INFINITY);

    // Bootstrapping needs finite values: raw values are refused, cleaned ones accepted.
    let matrix = ResampleMatrix::generate(0, "boot/e/policy", 6, 200).unwrap();
    assert!(matches!(Replicates::mean(&matrix, &hd95), Err(Error::NonFinite { index: 1, .. })));
    let matrix5 = ResampleMatrix::generate(0, "boot/e/policy5", 5, 200).unwrap();
    assert_eq!(Replicates::mean(&matrix5, &each.values).unwrap().estimate(), 662.0 / 5.0);

    // Omit without changing the case set: the ratio of (value or 0) to (1 or 0) on the six-case matrix.
    let (num, den) = omit.ratio_columns();
    let reps = Replicates::ratio(&matrix, &num, &den).unwrap();
    assert_eq!(reps.estimate(), 4.0);
    let ci = reps.interval(&BootstrapOptions { method: CiMethod::Percentile, ..BootstrapOptions::default() });
    let ci = ci.unwrap();
    assert!(ci.low >= 3.0 && ci.high <= 5.0, "{ci:?}");
}
