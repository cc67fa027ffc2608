//! Paired tests and p-value adjustment against scipy.stats.wilcoxon, scipy.stats.permutation_test and
//! statsmodels' multipletests.

use segauge_stats::{
    SignFlipMethod, SignFlipOptions, Stream, WilcoxonMethod, WilcoxonOptions, ZeroMethod, benjamini_hochberg,
    holm, sign_flip_test, wilcoxon,
};

use crate::{assert_close, expected, num, nums};

/// scipy.stats.wilcoxon with `method` pinned ('exact' or 'asymptotic'), zero_method and correction as recorded.
/// segauge runs with its own method choice where the fixture says "auto" (the rule of docs/METHODS.md C.5: exact iff n <= 50
/// without ties or zeros), and the fixture says which method that rule must pick.
#[test]
fn wilcoxon_matches_scipy() {
    for case in expected()["wilcoxon"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let options = WilcoxonOptions {
            zero_method: match case["zero_method"].as_str().unwrap() {
                "wilcox" => ZeroMethod::Wilcox,
                _ => ZeroMethod::Pratt,
            },
            method: match case["segauge_method"].as_str().unwrap() {
                "auto" => WilcoxonMethod::Auto,
                "exact" => WilcoxonMethod::Exact,
                _ => WilcoxonMethod::Asymptotic,
            },
            continuity: case["correction"].as_bool().unwrap(),
        };
        let r = wilcoxon(&nums(&case["d"]), &options).unwrap();
        let expect_method = match case["expect_method"].as_str().unwrap() {
            "exact" => WilcoxonMethod::Exact,
            _ => WilcoxonMethod::Asymptotic,
        };
        assert_eq!(r.method, expect_method, "{name}");
        // Sums of (half-)integer ranks are exact.
        assert_eq!(r.statistic, num(&case["statistic"]), "{name}");
        assert_close(r.p_value, num(&case["pvalue"]), 1e-12, &format!("{name} p"));
        // scipy reports -|z|.
        assert_close(-r.z.abs(), num(&case["zstatistic"]), 1e-12, &format!("{name} z"));
    }
}

#[test]
fn holm_and_bh_match_statsmodels() {
    for case in expected()["adjust"].as_array().unwrap() {
        let p = nums(&case["p"]);
        for (got, want) in holm(&p).unwrap().iter().zip(nums(&case["holm"])) {
            assert_close(*got, want, 1e-15, &format!("holm {p:?}"));
        }
        for (got, want) in benjamini_hochberg(&p).unwrap().iter().zip(nums(&case["fdr_bh"])) {
            assert_close(*got, want, 1e-15, &format!("fdr_bh {p:?}"));
        }
    }
}

/// scipy.stats.permutation_test((d,), mean, permutation_type='samples', n_resamples=inf): exact two-sided
/// p = 2·min(P(T* <= T), P(T* >= T)), clipped to 1. The sign-flip distribution is symmetric, so this equals
/// segauge's #{|T*| >= |T|}/2^n; both compare with the same relative tolerance 100·eps·|T|.
#[test]
fn sign_flip_exact_matches_scipy_permutation_test() {
    let mut stream = Stream::new(0, "perm/unused").unwrap();
    for case in expected()["sign_flip_exact"].as_array().unwrap() {
        let d = nums(&case["d"]);
        let r = sign_flip_test(&d, &mut stream, &SignFlipOptions::default()).unwrap();
        assert!(r.exact && r.n_resamples == 1 << d.len());
        assert_close(r.statistic, num(&case["statistic"]), 1e-15, "statistic");
        // Both p-values are k / 2^n: equal exactly.
        assert_eq!(r.p_value, num(&case["pvalue"]), "{d:?}");
    }
}

/// Random sign vectors: the fixture script draws them from its own implementation of the stream and counts.
#[test]
fn sign_flip_random_matches_python_count() {
    let case = &expected()["sign_flip_random"];
    let mut stream =
        Stream::new(case["master_seed"].as_u64().unwrap(), case["scope"].as_str().unwrap()).unwrap();
    let b = case["b"].as_u64().unwrap() as usize;
    let options =
        SignFlipOptions { method: SignFlipMethod::Random, n_resamples: b, ..SignFlipOptions::default() };
    let r = sign_flip_test(&nums(&case["d"]), &mut stream, &options).unwrap();
    assert!(!r.exact && r.n_resamples == b);
    let count = case["count"].as_u64().unwrap() as f64;
    assert_eq!(r.p_value, (1.0 + count) / (b + 1) as f64);
    assert_close(r.p_value, num(&case["pvalue"]), 1e-15, "p");
}
