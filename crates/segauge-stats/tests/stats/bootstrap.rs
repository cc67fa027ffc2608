//! Bootstrap intervals: (1) exactly, against numpy recomputations of docs/METHODS.md C.1 from the same resample indices
//! (re-derived in Python from the seed recipe); (2) statistically, against scipy.stats.bootstrap, which draws
//! its own resamples.

use segauge_stats::{BootstrapOptions, CiMethod, Replicates, ResampleMatrix};
use serde_json::Value;

use crate::{assert_close, expected, num, nums, u64_str};

const METHODS: [(&str, CiMethod); 3] =
    [("bca", CiMethod::Bca), ("percentile", CiMethod::Percentile), ("basic", CiMethod::Basic)];

/// The replicates of a fixture case, computed by segauge from its own matrix.
fn replicates(case: &Value) -> Replicates {
    let inputs = &case["inputs"];
    let n = inputs.as_object().unwrap().values().next().unwrap().as_array().unwrap().len();
    let matrix = ResampleMatrix::generate(
        case["master_seed"].as_u64().unwrap(),
        case["scope"].as_str().unwrap(),
        n,
        case["b"].as_u64().unwrap() as usize,
    )
    .unwrap();
    match case["kind"].as_str().unwrap() {
        "mean" => Replicates::mean(&matrix, &nums(&inputs["x"])).unwrap(),
        "ratio" => Replicates::ratio(&matrix, &nums(&inputs["num"]), &nums(&inputs["den"])).unwrap(),
        "median" => {
            let x = nums(&inputs["x"]);
            Replicates::statistic(&matrix, |idx| {
                let mut v: Vec<f64> = idx.iter().map(|&i| x[i as usize]).collect();
                v.sort_by(f64::total_cmp);
                let k = v.len();
                if k % 2 == 1 { v[k / 2] } else { (v[k / 2 - 1] + v[k / 2]) / 2.0 }
            })
            .unwrap()
        }
        other => panic!("unknown kind {other}"),
    }
}

/// The numpy side computes replicates with left-to-right row sums (np.cumsum), as segauge does, so replicates
/// agree bit for bit. The jackknife is computed directly there (sum of the n-1 other cases) and as (S - x_i)/(n-1)
/// for segauge's mean, so z0, a and the bounds agree to rounding: 1e-12 (relative above 1).
#[test]
fn intervals_equal_numpy_recomputation_from_the_same_indices() {
    for case in expected()["bootstrap"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let reps = replicates(case);
        assert_close(reps.estimate(), num(&case["estimate"]), 1e-15, name);
        for (k, bits) in case["replicates_head_bits"].as_array().unwrap().iter().enumerate() {
            let (ours, want) = (reps.values()[k], f64::from_bits(u64_str(bits)));
            assert!(
                ours.to_bits() == want.to_bits() || ours.is_nan() && want.is_nan(),
                "{name} {k}: {ours} {want}"
            );
        }
        let level = num(&case["level"]);
        for (key, method) in METHODS {
            let ci =
                reps.interval(&BootstrapOptions { method, level, ..BootstrapOptions::default() }).unwrap();
            let want = nums(&case["intervals"][key]);
            assert_close(ci.low, want[0], 1e-12, &format!("{name} {key} low"));
            assert_close(ci.high, want[1], 1e-12, &format!("{name} {key} high"));
            assert_eq!(ci.n_nan_replicates, case["n_nan"].as_u64().unwrap() as usize, "{name}");
            assert_eq!(
                (ci.n_resamples, ci.n_cases, ci.level),
                (reps.values().len(), reps.jackknife().len(), level)
            );
            assert!(!ci.flags.degenerate, "{name}");
            if method == CiMethod::Bca {
                let bca = ci.bca.unwrap();
                let want = &case["bca"];
                assert_close(bca.z0, num(&want["z0"]), 1e-12, &format!("{name} z0"));
                assert_close(bca.acceleration, num(&want["a"]), 1e-12, &format!("{name} a"));
                assert_close(bca.alpha_low, num(&want["alpha_low"]), 1e-12, &format!("{name} alpha_low"));
                assert_close(bca.alpha_high, num(&want["alpha_high"]), 1e-12, &format!("{name} alpha_high"));
            }
        }
        if name == "sparse_ratio_n25" {
            let ci = reps.interval(&BootstrapOptions::default()).unwrap();
            assert!(ci.flags.many_nan && ci.n_nan_replicates > 1000, "{ci:?}");
        }
    }
}

/// scipy.stats.bootstrap (BCa and percentile, B = 9999; micro F1 with `paired=True`) ran R = 30 times with
/// different seeds; the fixture holds the mean and standard deviation sd of each endpoint over those runs.
/// segauge's endpoint is one more draw from (nearly) the same distribution, with its own Monte-Carlo error of
/// about sd, so ours − mean(scipy) has standard deviation sd·√(1 + 1/R). We allow 5 of those: a false failure
/// would need a 5-sigma Monte-Carlo excursion, while errors in the formulas (the sign of z0 or of a, a wrong
/// quantile level) move the endpoints by many sd. For scale: at B = 9999, sd is about 0.03 bootstrap standard
/// errors of the statistic. The exact formulas are pinned by the numpy recomputation above; this test guards
/// the agreement with the reference implementation as a whole.
#[test]
fn intervals_within_monte_carlo_error_of_scipy_bootstrap() {
    for case in expected()["scipy_bootstrap"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let runs = num(&case["runs"]);
        let reps = replicates(case);
        for (key, method) in [("bca", CiMethod::Bca), ("percentile", CiMethod::Percentile)] {
            let ci = reps.interval(&BootstrapOptions { method, ..BootstrapOptions::default() }).unwrap();
            let s = &case["methods"][key];
            for (ours, mean, sd, end) in [
                (ci.low, num(&s["low_mean"]), num(&s["low_sd"]), "low"),
                (ci.high, num(&s["high_mean"]), num(&s["high_sd"]), "high"),
            ] {
                let tol = 5.0 * sd * (1.0 + 1.0 / runs).sqrt();
                assert!(
                    (ours - mean).abs() <= tol,
                    "{name} {key} {end}: {ours} vs scipy {mean} ± {sd} (tol {tol})"
                );
            }
        }
    }
}

/// scipy returns NaN (with a DegenerateDataWarning) for BCa on constant data; segauge returns NaN and a flag.
#[test]
fn constant_data_are_degenerate_as_in_scipy() {
    let d = &expected()["degenerate"];
    let x = nums(&d["inputs"]["x"]);
    let want = nums(&d["scipy_bca"]);
    assert!(want[0].is_nan() && want[1].is_nan());
    let matrix = ResampleMatrix::generate(0, "boot/fixture/constant", x.len(), 999).unwrap();
    let ci = Replicates::mean(&matrix, &x).unwrap().interval(&BootstrapOptions::default()).unwrap();
    assert!(ci.low.is_nan() && ci.high.is_nan() && ci.flags.degenerate, "{ci:?}");
    assert_eq!(ci.estimate, 0.75);
}

/// Twenty columns in one pass give exactly the per-column results (the fast path of a report).
#[test]
fn many_columns_in_one_pass_equal_single_columns() {
    let case = &expected()["bootstrap"][0];
    let x = nums(&case["inputs"]["x"]);
    let columns: Vec<Vec<f64>> =
        (0..20).map(|k| x.iter().map(|v| v * (1.0 + k as f64 / 7.0)).collect()).collect();
    let refs: Vec<&[f64]> = columns.iter().map(Vec::as_slice).collect();
    let matrix = ResampleMatrix::generate(0, "boot/fixture/columns", x.len(), 999).unwrap();
    let all = Replicates::means(&matrix, &refs).unwrap();
    for (k, column) in columns.iter().enumerate() {
        assert_eq!(all[k], Replicates::mean(&matrix, column).unwrap(), "column {k}");
    }
}
