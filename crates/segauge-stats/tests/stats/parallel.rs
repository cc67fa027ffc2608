//! With the `parallel` feature: the same results, bit for bit, on rayon pools of 1, 2 and 8 threads.

use segauge_stats::{
    BootstrapOptions, RankingOptions, RankingScheme, Replicates, ResampleMatrix, ranking_stability,
};

use crate::{expected, nums};

/// Everything that runs on rayon, as raw bits (NaN replicates compare equal by bits).
fn run_all() -> Vec<u64> {
    let doc = expected();
    let x = nums(&doc["bootstrap"][0]["inputs"]["x"]);
    let f1 = &doc["bootstrap"][3]["inputs"];
    let sparse = &doc["bootstrap"][4]["inputs"];
    let matrix = ResampleMatrix::generate(0, "boot/fixture/parallel", x.len(), 4999).unwrap();
    let columns: Vec<Vec<f64>> =
        (0..20).map(|k| x.iter().map(|v| v * (1.0 + k as f64 / 3.0)).collect()).collect();
    let refs: Vec<&[f64]> = columns.iter().map(Vec::as_slice).collect();
    let mut bits = Vec::new();
    let mut push = |r: &Replicates| {
        bits.extend(r.values().iter().chain(r.jackknife()).map(|v| v.to_bits()));
        let ci = r.interval(&BootstrapOptions::default()).unwrap();
        bits.extend([ci.low, ci.high].map(f64::to_bits));
    };
    for r in Replicates::means(&matrix, &refs).unwrap() {
        push(&r);
    }
    let (num, den) = (nums(&f1["num"]), nums(&f1["den"]));
    let m60 = ResampleMatrix::generate(0, "boot/fixture/parallel60", num.len(), 4999).unwrap();
    push(&Replicates::ratio(&m60, &num, &den).unwrap());
    let (num, den) = (nums(&sparse["num"]), nums(&sparse["den"]));
    let m25 = ResampleMatrix::generate(0, "boot/fixture/parallel25", num.len(), 4999).unwrap();
    push(&Replicates::ratio(&m25, &num, &den).unwrap());
    push(
        &Replicates::statistic(&matrix, |idx| {
            let mut v: Vec<f64> = idx.iter().map(|&i| x[i as usize]).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        })
        .unwrap(),
    );
    let rank_case = &doc["ranking"][0];
    let scores: Vec<Vec<f64>> = rank_case["scores"].as_array().unwrap().iter().map(nums).collect();
    let srefs: Vec<&[f64]> = scores.iter().map(Vec::as_slice).collect();
    let rm = ResampleMatrix::generate(0, "rank/fixture/parallel", scores[0].len(), 2000).unwrap();
    for scheme in [RankingScheme::AggregateThenRank, RankingScheme::RankThenAggregate] {
        let s =
            ranking_stability(&srefs, &rm, &RankingOptions { scheme, ..RankingOptions::default() }).unwrap();
        bits.extend(s.replicate_ranks.iter().map(|&r| u64::from(r)));
        bits.extend(s.taus.iter().map(|t| t.to_bits()));
    }
    bits
}

#[test]
fn bit_identical_for_1_2_and_8_threads() {
    let results: Vec<Vec<u64>> = [1, 2, 8]
        .iter()
        .map(|&threads| {
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(run_all)
        })
        .collect();
    assert!(results[0].len() > 100_000);
    assert!(results[1] == results[0], "2 threads differ from 1");
    assert!(results[2] == results[0], "8 threads differ from 1");
}
