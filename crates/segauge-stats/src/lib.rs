//! Statistics for evaluation tables: deterministic case-resampling bootstrap intervals (BCa, percentile, basic),
//! paired tests, multiplicity corrections and ranking stability. Numbers in, numbers out: this crate knows
//! nothing of images or metrics.
//!
//! # Overview
//! - [`ResampleMatrix`]: the B × n case indices of one case set, drawn from a seeded [`Stream`] (xoshiro256++
//!   seeded by SHA-256, Lemire's unbiased bounded draw) that numpy can reproduce; shared by all metrics and
//!   models of the case set.
//! - [`Replicates`]: a statistic (mean of a column, ratio of summed columns such as micro F1, or any function of
//!   case indices) on the full data, on every resample and on every jackknife sample, turned into a
//!   [`BootstrapCi`] by [`Replicates::interval`].
//! - [`wilcoxon`], [`sign_flip_test`], [`holm`], [`benjamini_hochberg`]: paired comparison of two models and
//!   the adjustment of a family of p-values.
//! - [`rank_models`], [`ranking_stability`], [`kendall_tau_b`]: challengeR-style rankings and their bootstrap
//!   stability.
//! - [`apply_policy`]: the NaN / inf policy applied before any of the above.
//!
//! # Semantics
//! The unit of resampling is the case: a row of the matrix lists the cases of one replicate, and every column
//! and model of that case moves with it (common random numbers). Per-case inputs are `f64` slices indexed by
//! case, in a fixed case order (e.g. sorted case IDs); sums run in that order (or the order of a resample row),
//! never as parallel reductions, so results are bit-identical for any thread count. Defaults follow scipy:
//! BCa, 95 %, B = 9999, two-sided tests, no continuity correction. The definitions are those of segauge's
//! docs/METHODS.md section C; each function documents its formula and the reference it agrees with.
//!
//! # Example
//! ```
//! use segauge_stats::{
//!     BootstrapOptions, Replicates, ResampleMatrix, WilcoxonOptions, holm, paired_differences, wilcoxon,
//! };
//! // Dice of two models on 8 cases (multiples of 1/64, so that the differences below are exact).
//! let model_a = [56.0, 54.0, 57.0, 50.0, 60.0, 55.0, 58.0, 52.0].map(|k: f64| k / 64.0);
//! let model_b = [53.0, 55.0, 52.0, 48.0, 53.0, 51.0, 52.0, 44.0].map(|k: f64| k / 64.0);
//! // One resample matrix for the case set, B = 2000 here (9999 by default in segauge).
//! let matrix = ResampleMatrix::generate(0, "boot/demo/all", model_a.len(), 2000)?;
//! let cis = Replicates::means(&matrix, &[&model_a, &model_b])?
//!     .iter()
//!     .map(|r| r.interval(&BootstrapOptions::default()))
//!     .collect::<Result<Vec<_>, _>>()?;
//! assert_eq!(cis[0].estimate, 442.0 / 512.0);
//! assert!(cis.iter().all(|ci| ci.low < ci.estimate && ci.estimate < ci.high && ci.flags.small_sample));
//!
//! // Paired Wilcoxon test: 64 d = (3, -1, 5, 2, 7, 4, 6, 8), no ties, so the exact test. T- = 1 (the one
//! // negative difference has the smallest |d|); 2 of the 256 sign patterns have T- <= 1: p = 2 * 2/256.
//! let d = paired_differences(&model_a, &model_b)?;
//! let test = wilcoxon(&d.values, &WilcoxonOptions::default())?;
//! assert_eq!((test.statistic, test.p_value), (1.0, 2.0 * 2.0 / 256.0));
//! // Holm over a family of three tests.
//! assert_eq!(holm(&[test.p_value, 0.5, 0.01])?, [0.03125, 0.5, 0.03]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Feature flags
//! - `parallel`: evaluate bootstrap replicates and jackknife values on all cores with rayon; results are
//!   identical with or without it, whatever the number of threads.
#![deny(missing_docs)]

mod adjust;
mod bootstrap;
mod exec;
mod normal;
mod paired;
mod policy;
mod quantile;
mod rank;
mod rng;

pub use adjust::{benjamini_hochberg, holm};
pub use bootstrap::{
    BcaParams, BootstrapCi, BootstrapOptions, CiFlags, CiMethod, DEFAULT_RESAMPLES, Replicates,
};
pub use paired::{
    Differences, SignFlipMethod, SignFlipOptions, SignFlipResult, WilcoxonMethod, WilcoxonOptions,
    WilcoxonResult, ZeroMethod, paired_differences, sign_flip_test, wilcoxon,
};
pub use policy::{Cleaned, Policy, PolicyCounts, apply_policy};
pub use rank::{
    Aggregate, RankDistribution, RankingOptions, RankingScheme, RankingStability, kendall_tau_b, rank_models,
    rank_values, ranking_stability,
};
pub use rng::{ResampleMatrix, Stream};

/// Errors of the statistics functions.
///
/// # How to fix
/// Apply a [`Policy`] to per-case values before bootstrapping or testing them, pass one value per case of the
/// resample matrix, and keep options in their documented ranges. Degenerate but valid data (all values equal,
/// zero denominators) are not errors: they give NaN bounds with a flag.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// There is nothing to compute on.
    #[error("no cases: {what}")]
    NoCases {
        /// The computation.
        what: &'static str,
    },
    /// An input has the wrong length.
    #[error("length mismatch in {what}: expected {expected}, found {found}")]
    LengthMismatch {
        /// The input.
        what: &'static str,
        /// The required length.
        expected: usize,
        /// The given length.
        found: usize,
    },
    /// An input that must be finite is NaN or infinite.
    #[error("non-finite value {value} at index {index} of {what}")]
    NonFinite {
        /// The input.
        what: &'static str,
        /// Its position.
        index: usize,
        /// The value.
        value: f64,
    },
    /// More cases than a resample matrix can index.
    #[error("too many cases: {n} (at most {max})")]
    TooManyCases {
        /// The number of cases.
        n: usize,
        /// The limit.
        max: usize,
    },
    /// The seed hash of a scope is all zero, which xoshiro256++ cannot start from (probability 2⁻²⁵⁶).
    #[error("all-zero generator state for scope {scope:?}")]
    ZeroState {
        /// The scope.
        scope: String,
    },
    /// An option is out of range.
    #[error("invalid option: {detail}")]
    InvalidOption {
        /// What is wrong.
        detail: String,
    },
}
