//! Kendall's tau_b against scipy, and ranking stability against a numpy/scipy recomputation (challengeR rules:
//! ties "min", missing = max rank + 1) from the same resample indices.

use segauge_stats::{
    Aggregate, RankingOptions, RankingScheme, ResampleMatrix, kendall_tau_b, rank_models, ranking_stability,
};

use crate::{assert_close, expected, num, nums};

#[test]
fn kendall_tau_b_matches_scipy() {
    for case in expected()["kendall"].as_array().unwrap() {
        let (x, y) = (nums(&case["x"]), nums(&case["y"]));
        assert_close(kendall_tau_b(&x, &y).unwrap(), num(&case["tau_b"]), 1e-15, &format!("{x:?} {y:?}"));
    }
}

fn u32s(v: &serde_json::Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|r| r.as_u64().unwrap() as u32).collect()
}

#[test]
fn ranking_stability_matches_python_recomputation() {
    for case in expected()["ranking"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let scores: Vec<Vec<f64>> = case["scores"].as_array().unwrap().iter().map(nums).collect();
        let refs: Vec<&[f64]> = scores.iter().map(Vec::as_slice).collect();
        let options = RankingOptions {
            scheme: match case["scheme"].as_str().unwrap() {
                "aggregate-then-rank" => RankingScheme::AggregateThenRank,
                _ => RankingScheme::RankThenAggregate,
            },
            aggregate: match case["aggregate"].as_str().unwrap() {
                "mean" => Aggregate::Mean,
                _ => Aggregate::Median,
            },
            higher_is_better: case["higher_is_better"].as_bool().unwrap(),
            missing_value: None,
        };
        let matrix = ResampleMatrix::generate(
            case["master_seed"].as_u64().unwrap(),
            case["scope"].as_str().unwrap(),
            scores[0].len(),
            case["b"].as_u64().unwrap() as usize,
        )
        .unwrap();
        let s = ranking_stability(&refs, &matrix, &options).unwrap();
        assert_eq!(s.ranking, u32s(&case["ranking"]), "{name}");
        assert_eq!(rank_models(&refs, &options).unwrap(), s.ranking, "{name}");
        let m = scores.len();
        for (k, row) in case["first_replicates"].as_array().unwrap().iter().enumerate() {
            assert_eq!(&s.replicate_ranks[k * m..(k + 1) * m], u32s(row).as_slice(), "{name} replicate {k}");
        }
        for (j, model) in s.models.iter().enumerate() {
            assert_eq!(model.counts, u32s(&case["counts"][j]), "{name} model {j}");
            assert_eq!(model.p_first, num(&case["p_first"][j]), "{name} model {j}");
            assert_eq!(model.median, num(&case["median"][j]), "{name} model {j}");
            assert_close(model.low, num(&case["low"][j]), 1e-15, &format!("{name} model {j} low"));
            assert_close(model.high, num(&case["high"][j]), 1e-15, &format!("{name} model {j} high"));
        }
        for (k, want) in nums(&case["taus_head"]).iter().enumerate() {
            assert_close(s.taus[k], *want, 1e-15, &format!("{name} tau {k}"));
        }
        assert_eq!(s.n_tau_undefined, case["n_tau_undefined"].as_u64().unwrap() as usize, "{name}");
        assert_close(s.tau_median, num(&case["tau_median"]), 1e-15, name);
        assert_close(s.tau_q1, num(&case["tau_q1"]), 1e-15, name);
        assert_close(s.tau_q3, num(&case["tau_q3"]), 1e-15, name);
    }
}
