//! Paired comparison of two models on the same cases: the Wilcoxon signed-rank test and the sign-flip
//! permutation test on the mean difference (docs/METHODS.md C.5).

use crate::normal::ndtr;
use crate::{Error, Stream};

/// Paired differences dᵢ = aᵢ − bᵢ over the cases where both values are finite.
#[derive(Debug, Clone, PartialEq)]
pub struct Differences {
    /// The differences, in case order.
    pub values: Vec<f64>,
    /// Cases dropped because a or b (or their difference) was not finite.
    pub n_dropped: usize,
}

/// dᵢ = aᵢ − bᵢ after the NaN/inf policy; cases where either value is still non-finite are dropped and counted.
///
/// ```
/// let d = segauge_stats::paired_differences(&[0.9, f64::NAN, 0.7], &[0.8, 0.5, 0.75])?;
/// assert_eq!(d.n_dropped, 1);
/// assert!((d.values[0] - 0.1).abs() < 1e-15 && (d.values[1] + 0.05).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::LengthMismatch`] if the two columns differ in length.
pub fn paired_differences(a: &[f64], b: &[f64]) -> Result<Differences, Error> {
    if a.len() != b.len() {
        return Err(Error::LengthMismatch { what: "paired columns", expected: a.len(), found: b.len() });
    }
    let values: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).filter(|d| d.is_finite()).collect();
    Ok(Differences { n_dropped: a.len() - values.len(), values })
}

/// How zero differences enter the Wilcoxon test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ZeroMethod {
    /// Drop zeros before ranking (Wilcoxon; the default).
    #[default]
    Wilcox,
    /// Rank zeros with the others, then drop their ranks; the normal approximation is adjusted for them
    /// (Pratt; Cureton 1967).
    Pratt,
}

/// Which null distribution the Wilcoxon test uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WilcoxonMethod {
    /// Exact when n ≤ 50 and there are neither ties nor zeros, otherwise the normal approximation (the default).
    #[default]
    Auto,
    /// The exact distribution of T⁺ over all 2ⁿ sign patterns. With ties or zeros it is only approximate: as
    /// scipy, a non-integral T⁺ is rounded up for P(T ≤ t) and down for P(T ≥ t) (conservative).
    Exact,
    /// The normal approximation with tie correction.
    Asymptotic,
}

/// Options of [`wilcoxon`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WilcoxonOptions {
    /// Treatment of zero differences (default [`ZeroMethod::Wilcox`]).
    pub zero_method: ZeroMethod,
    /// Null distribution (default [`WilcoxonMethod::Auto`]).
    pub method: WilcoxonMethod,
    /// Continuity correction of the normal approximation, z − sign(z)·½/σ (default off, as scipy; R's
    /// `wilcox.test` and challengeR use it).
    pub continuity: bool,
}

/// The result of a two-sided Wilcoxon signed-rank test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WilcoxonResult {
    /// min(T⁺, T⁻), the statistic scipy reports for the two-sided test.
    pub statistic: f64,
    /// T⁺, the sum of the ranks of the positive differences.
    pub t_plus: f64,
    /// T⁻, the sum of the ranks of the negative differences.
    pub t_minus: f64,
    /// z = (T⁺ − μ)/σ (after continuity correction if requested) for the normal approximation, NaN for the exact
    /// test. scipy reports −|z|.
    pub z: f64,
    /// Two-sided p = min(1, 2·min(P(T ≤ t), P(T ≥ t))). NaN when no difference is left to rank.
    pub p_value: f64,
    /// The distribution that was used: [`WilcoxonMethod::Exact`] or [`WilcoxonMethod::Asymptotic`].
    pub method: WilcoxonMethod,
    /// The number of ranked differences (zeros excluded under Wilcox, included under Pratt).
    pub n_ranked: usize,
    /// The number of zero differences.
    pub n_zero: usize,
    /// Whether some non-zero |dᵢ| are tied.
    pub has_ties: bool,
}

/// The largest n for which [`WilcoxonMethod::Auto`] uses the exact distribution.
const EXACT_MAX_N: usize = 50;

/// The two-sided Wilcoxon signed-rank test of H₀: the differences are symmetric about 0.
///
/// Ranks of |dᵢ| with average ranks for ties; T⁺ = Σ ranks of positive d. Exact: the distribution of T⁺ over
/// all 2ⁿ sign patterns, by dynamic programming over rank sums. Normal approximation: μ = n(n+1)/4,
/// σ² = n(n+1)(2n+1)/24 − Σₜ(t³ − t)/48 over tie groups (Pratt: minus the zeros' share, n₀(n₀+1)/4 from μ and
/// n₀(n₀+1)(2n₀+1)/24 from σ²), z = (T⁺ − μ)/σ. Matches `scipy.stats.wilcoxon(d, zero_method=…,
/// correction=…, method='exact'|'asymptotic')`.
///
/// ```
/// use segauge_stats::{WilcoxonMethod, WilcoxonOptions, wilcoxon};
/// // Ranks 1..5, T+ = 1 + 2 + 4 + 5 = 12, T- = 3. Of the 32 sign patterns, 5 have T+ >= 12
/// // (the complement sums to at most 3: {}, {1}, {2}, {3}, {1,2}), so p = 2 * 5/32.
/// let r = wilcoxon(&[1.0, 2.0, -3.0, 4.0, 5.0], &WilcoxonOptions::default())?;
/// assert_eq!((r.t_plus, r.t_minus, r.statistic), (12.0, 3.0, 3.0));
/// assert_eq!(r.method, WilcoxonMethod::Exact);
/// assert_eq!(r.p_value, 0.3125);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::NonFinite`] for a NaN or infinite difference (use [`crate::paired_differences`]).
pub fn wilcoxon(d: &[f64], options: &WilcoxonOptions) -> Result<WilcoxonResult, Error> {
    if let Some(index) = d.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite { what: "paired differences", index, value: d[index] });
    }
    let n_zero = d.iter().filter(|&&v| v == 0.0).count();
    let ranked: Vec<f64> = match options.zero_method {
        ZeroMethod::Wilcox => d.iter().copied().filter(|&v| v != 0.0).collect(),
        ZeroMethod::Pratt => d.to_vec(),
    };
    let count = ranked.len();

    // Average ranks of |d| (stable order), and the tie-group sizes of the non-zero values.
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by(|&i, &j| ranked[i].abs().total_cmp(&ranked[j].abs()));
    let mut ranks = vec![0.0; count];
    let mut tie_correction = 0.0;
    let mut has_ties = false;
    let mut start = 0;
    while start < count {
        let value = ranked[order[start]].abs();
        let mut end = start + 1;
        while end < count && ranked[order[end]].abs() == value {
            end += 1;
        }
        let size = (end - start) as f64;
        let average = (start + 1) as f64 + (size - 1.0) / 2.0;
        for &k in &order[start..end] {
            ranks[k] = average;
        }
        if value != 0.0 {
            tie_correction += size * size * size - size;
            has_ties |= end - start > 1;
        }
        start = end;
    }
    let mut t_plus = 0.0;
    let mut t_minus = 0.0;
    for (&v, &r) in ranked.iter().zip(&ranks) {
        if v > 0.0 {
            t_plus += r;
        } else if v < 0.0 {
            t_minus += r;
        }
    }

    let method = match options.method {
        WilcoxonMethod::Auto if d.len() <= EXACT_MAX_N && !has_ties && n_zero == 0 => WilcoxonMethod::Exact,
        WilcoxonMethod::Auto => WilcoxonMethod::Asymptotic,
        m => m,
    };
    let mut result = WilcoxonResult {
        statistic: t_plus.min(t_minus),
        t_plus,
        t_minus,
        z: f64::NAN,
        p_value: f64::NAN,
        method,
        n_ranked: count,
        n_zero,
        has_ties,
    };
    let nonzero = d.len() - n_zero;
    if nonzero == 0 {
        return Ok(result);
    }
    match method {
        WilcoxonMethod::Exact => {
            let pmf = signed_rank_pmf(count);
            let below = pmf[..=(t_plus.ceil() as usize)].iter().sum::<f64>();
            let above = pmf[(t_plus.floor() as usize)..].iter().sum::<f64>();
            result.p_value = (2.0 * below.min(above)).min(1.0);
        }
        _ => {
            let n = count as f64;
            let mut mean = n * (n + 1.0) * 0.25;
            let mut var24 = n * (n + 1.0) * (2.0 * n + 1.0);
            if options.zero_method == ZeroMethod::Pratt {
                let z = n_zero as f64;
                mean -= z * (z + 1.0) * 0.25;
                var24 -= z * (z + 1.0) * (2.0 * z + 1.0);
            }
            let sigma = ((var24 - tie_correction / 2.0) / 24.0).sqrt();
            let mut z = (t_plus - mean) / sigma;
            if options.continuity {
                z -= z.signum() * 0.5 / sigma;
            }
            result.z = z;
            result.p_value = 2.0 * ndtr(-z.abs());
        }
    }
    Ok(result)
}

/// P(T⁺ = k), k = 0..n(n+1)/2, for n signed ranks 1..n with independent fair signs.
///
/// Built rank by rank: adding rank r halves the probabilities and shifts a copy by r. Every value is a
/// multiple of 2⁻ⁿ below 1, so the table, and any sum of it, is exact in f64 for n ≤ 53.
fn signed_rank_pmf(n: usize) -> Vec<f64> {
    let mut pmf = vec![1.0];
    for r in 1..=n {
        let mut next = vec![0.0; pmf.len() + r];
        for (k, &p) in pmf.iter().enumerate() {
            next[k] += 0.5 * p;
            next[k + r] += 0.5 * p;
        }
        pmf = next;
    }
    pmf
}

/// How the sign-flip null distribution is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignFlipMethod {
    /// Exact enumeration when n ≤ [`SignFlipOptions::max_exact`], else random sign vectors (the default).
    #[default]
    Auto,
    /// All 2ⁿ sign vectors (n ≤ 30).
    Exact,
    /// [`SignFlipOptions::n_resamples`] random sign vectors from the stream.
    Random,
}

/// Options of [`sign_flip_test`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignFlipOptions {
    /// Exact or random (default Auto).
    pub method: SignFlipMethod,
    /// Largest n enumerated exactly under Auto (default 20: 2²⁰ ≈ 10⁶ vectors).
    pub max_exact: usize,
    /// B, the number of random sign vectors (default 9999).
    pub n_resamples: usize,
}

impl Default for SignFlipOptions {
    fn default() -> Self {
        Self { method: SignFlipMethod::Auto, max_exact: 20, n_resamples: crate::DEFAULT_RESAMPLES }
    }
}

/// The result of [`sign_flip_test`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignFlipResult {
    /// T = mean(d).
    pub statistic: f64,
    /// The two-sided p-value.
    pub p_value: f64,
    /// Whether the null distribution was enumerated exactly.
    pub exact: bool,
    /// The number of sign vectors evaluated (2ⁿ or B).
    pub n_resamples: usize,
}

/// The largest n accepted for exact enumeration.
const SIGN_FLIP_EXACT_LIMIT: usize = 30;

/// The paired sign-flip permutation test of H₀: the differences are symmetric about 0, with T = mean(d).
///
/// T*(s) = Σ sᵢdᵢ / n (sum in case order) for sign vectors s. Exact: all 2ⁿ vectors (bit i of the vector
/// number set ⇒ sᵢ = −1), p = #{|T*| ≥ |T|}/2ⁿ; the identity is one of them, so p ≥ 2⁻ⁿ. Random: B vectors,
/// drawn case by case with [`Stream::sign`], p = (1 + #{|T*| ≥ |T|})/(B + 1) (Phipson & Smyth 2010).
///
/// Floating comparisons: sums of the same terms in another order can differ in the last bits, so |T*| ≥ |T|
/// is tested as |T*| ≥ |T| − γ with γ = 100·ε·|T| (ε = f64::EPSILON), the tolerance scipy's
/// `permutation_test` uses. Because the enumerated distribution is exactly symmetric (flipping every sign
/// negates each sum exactly), the exact p equals scipy's two-sided `permutation_test(..., permutation_type=
/// 'samples')` value 2·min(P(T* ≤ T), P(T* ≥ T)), clipped to 1.
///
/// ```
/// use segauge_stats::{SignFlipOptions, Stream, sign_flip_test};
/// // n = 3, d = (1, 2, 3): |T*| >= 2 only for all-plus and all-minus, so p = 2/8.
/// let r = sign_flip_test(&[1.0, 2.0, 3.0], &mut Stream::new(0, "perm/demo")?, &SignFlipOptions::default())?;
/// assert_eq!((r.statistic, r.p_value, r.exact, r.n_resamples), (2.0, 0.25, true, 8));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::NoCases`] for empty `d`, [`Error::NonFinite`] for a non-finite difference,
/// [`Error::InvalidOption`] for exact enumeration above n = 30 or B = 0.
pub fn sign_flip_test(
    d: &[f64],
    stream: &mut Stream,
    options: &SignFlipOptions,
) -> Result<SignFlipResult, Error> {
    let n = d.len();
    if n == 0 {
        return Err(Error::NoCases { what: "sign-flip test" });
    }
    if let Some(index) = d.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite { what: "paired differences", index, value: d[index] });
    }
    let exact = match options.method {
        SignFlipMethod::Auto => n <= options.max_exact.min(SIGN_FLIP_EXACT_LIMIT),
        SignFlipMethod::Exact => true,
        SignFlipMethod::Random => false,
    };
    let nf = n as f64;
    let observed = d.iter().sum::<f64>() / nf;
    let threshold = observed.abs() - 100.0 * f64::EPSILON * observed.abs();
    if exact {
        if n > SIGN_FLIP_EXACT_LIMIT {
            return Err(Error::InvalidOption {
                detail: format!("exact sign-flip enumeration needs n <= {SIGN_FLIP_EXACT_LIMIT}, got {n}"),
            });
        }
        let total = 1usize << n;
        let count = (0..total)
            .filter(|&mask| {
                let sum: f64 =
                    d.iter().enumerate().map(|(i, &v)| if (mask >> i) & 1 == 1 { -v } else { v }).sum();
                (sum / nf).abs() >= threshold
            })
            .count();
        Ok(SignFlipResult {
            statistic: observed,
            p_value: count as f64 / total as f64,
            exact,
            n_resamples: total,
        })
    } else {
        let b = options.n_resamples;
        if b == 0 {
            return Err(Error::InvalidOption { detail: "the number of resamples must be at least 1".into() });
        }
        let mut count = 0usize;
        for _ in 0..b {
            let sum: f64 = d.iter().map(|&v| stream.sign() * v).sum();
            if (sum / nf).abs() >= threshold {
                count += 1;
            }
        }
        Ok(SignFlipResult {
            statistic: observed,
            p_value: (1 + count) as f64 / (b + 1) as f64,
            exact,
            n_resamples: b,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pmf_counts_sign_patterns() {
        // n = 3: subsets of {1, 2, 3} by sum: 0:{}, 1:{1}, 2:{2}, 3:{3},{1,2}, 4:{1,3}, 5:{2,3}, 6:{1,2,3}.
        let p = signed_rank_pmf(3);
        assert_eq!(p.iter().map(|v| v * 8.0).collect::<Vec<_>>(), [1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0]);
        assert_eq!(signed_rank_pmf(20).iter().sum::<f64>(), 1.0);
    }

    #[test]
    fn asymptotic_by_hand() {
        // d = 1..8 all positive, no ties: T+ = 36, mu = 18, sigma^2 = 8*9*17/24 = 51, z = 18/sqrt(51).
        let d: Vec<f64> = (1..=8).map(f64::from).collect();
        let opts = WilcoxonOptions { method: WilcoxonMethod::Asymptotic, ..WilcoxonOptions::default() };
        let r = wilcoxon(&d, &opts).unwrap();
        assert_eq!((r.t_plus, r.t_minus, r.statistic), (36.0, 0.0, 0.0));
        assert!((r.z - 18.0 / 51f64.sqrt()).abs() < 1e-15);
        assert!((r.p_value - 2.0 * ndtr(-18.0 / 51f64.sqrt())).abs() < 1e-16);
        // The exact test: only the all-positive pattern reaches 36, p = 2/256.
        let r = wilcoxon(&d, &WilcoxonOptions::default()).unwrap();
        assert_eq!((r.method, r.p_value), (WilcoxonMethod::Exact, 2.0 / 256.0));
    }

    #[test]
    fn ties_and_zeros_choose_the_normal_approximation() {
        let r = wilcoxon(&[1.0, 1.0, -2.0, 3.0], &WilcoxonOptions::default()).unwrap();
        assert!(r.has_ties && r.method == WilcoxonMethod::Asymptotic);
        // Ranks 1.5, 1.5, 3, 4.
        assert_eq!((r.t_plus, r.t_minus), (7.0, 3.0));
        let r = wilcoxon(&[0.0, 1.0, -2.0, 3.0], &WilcoxonOptions::default()).unwrap();
        assert!(!r.has_ties && r.n_zero == 1 && r.n_ranked == 3 && r.method == WilcoxonMethod::Asymptotic);
        let pratt = WilcoxonOptions { zero_method: ZeroMethod::Pratt, ..WilcoxonOptions::default() };
        let r = wilcoxon(&[0.0, 1.0, -2.0, 3.0], &pratt).unwrap();
        // Ranks 1 (zero, dropped), 2, 3, 4.
        assert_eq!((r.t_plus, r.t_minus, r.n_ranked), (6.0, 3.0, 4));
    }

    #[test]
    fn nothing_to_rank() {
        for zero_method in [ZeroMethod::Wilcox, ZeroMethod::Pratt] {
            let opts = WilcoxonOptions { zero_method, ..WilcoxonOptions::default() };
            let r = wilcoxon(&[0.0, 0.0], &opts).unwrap();
            assert!(r.p_value.is_nan());
            assert!(wilcoxon(&[], &opts).unwrap().p_value.is_nan());
        }
        assert!(matches!(
            wilcoxon(&[1.0, f64::NAN], &WilcoxonOptions::default()),
            Err(Error::NonFinite { index: 1, .. })
        ));
    }

    #[test]
    fn sign_flip_edge_cases() {
        let mut s = Stream::new(0, "perm").unwrap();
        let opts = SignFlipOptions::default();
        assert!(matches!(sign_flip_test(&[], &mut s, &opts), Err(Error::NoCases { .. })));
        // One case: T* = +-d, both reach |T|: p = 1.
        assert_eq!(sign_flip_test(&[0.3], &mut s, &opts).unwrap().p_value, 1.0);
        // All zeros: p = 1.
        assert_eq!(sign_flip_test(&[0.0; 4], &mut s, &opts).unwrap().p_value, 1.0);
        let too_big = SignFlipOptions { method: SignFlipMethod::Exact, ..opts };
        assert!(matches!(sign_flip_test(&[1.0; 31], &mut s, &too_big), Err(Error::InvalidOption { .. })));
        // Random mode on a large effect: p = 1/(B+1).
        let random = SignFlipOptions { method: SignFlipMethod::Random, n_resamples: 999, ..opts };
        let r = sign_flip_test(&[1.0; 30], &mut s, &random).unwrap();
        assert_eq!((r.p_value, r.exact, r.n_resamples), (1.0 / 1000.0, false, 999));
    }
}
