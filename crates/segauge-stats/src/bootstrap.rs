//! Case-resampling bootstrap: replicates of a statistic over the shared resample matrix, and percentile, basic
//! and BCa confidence intervals (docs/METHODS.md C.1).
//!
//! The work is split in two steps. [`Replicates`] evaluates the statistic on the full data (the estimate), on
//! every row of a [`ResampleMatrix`] (the replicates θ*₁..θ*_B) and with each case left out in turn (the
//! jackknife values that BCa needs). [`Replicates::interval`] turns them into a [`BootstrapCi`].

use crate::exec::{Exec, fill_rows};
use crate::normal::{ndtr, ndtri};
use crate::quantile::{quantile_sorted, sort};
use crate::{Error, ResampleMatrix};

/// The number of bootstrap replicates B used by default (as scipy.stats.bootstrap).
pub const DEFAULT_RESAMPLES: usize = 9999;

/// Fraction of non-finite replicates above which [`CiFlags::many_nan`] is raised (1 %).
const MANY_NAN_FRACTION: f64 = 0.01;

/// Below this many cases an interval is flagged [`CiFlags::small_sample`] (docs/METHODS.md C.4).
const SMALL_SAMPLE: usize = 10;

/// How a bootstrap confidence interval is formed from the replicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CiMethod {
    /// Bias-corrected and accelerated (Efron 1987), as scipy.stats.bootstrap computes it (the default).
    #[default]
    Bca,
    /// The α/2 and 1 − α/2 quantiles of the replicates.
    Percentile,
    /// The percentile interval reflected about the estimate: [2θ̂ − Q(1−α/2), 2θ̂ − Q(α/2)].
    Basic,
}

/// Options of [`Replicates::interval`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapOptions {
    /// The interval method (default BCa).
    pub method: CiMethod,
    /// The two-sided confidence level in (0, 1) (default 0.95).
    pub level: f64,
    /// When BCa is degenerate, report the percentile interval instead of NaN (default false). The
    /// [`CiFlags::degenerate`] flag stays set and [`BootstrapCi::method`] says `Percentile`.
    pub bca_fallback_percentile: bool,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self { method: CiMethod::Bca, level: 0.95, bca_fallback_percentile: false }
    }
}

/// Warnings attached to a [`BootstrapCi`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CiFlags {
    /// The interval could not be formed: BCa with all jackknife values equal (acceleration 0/0) or another NaN in
    /// its formulas, a non-finite estimate, or no finite replicate. The bounds are NaN (unless the percentile
    /// fallback was requested).
    pub degenerate: bool,
    /// More than 1 % of the replicates were non-finite (e.g. a ratio with a zero denominator) and were excluded.
    pub many_nan: bool,
    /// Fewer than 2 cases: no interval is reported (docs/METHODS.md C.4).
    pub too_few_cases: bool,
    /// Fewer than 10 cases: the interval is reported but its coverage (and BCa's acceleration) is unreliable.
    pub small_sample: bool,
}

/// The BCa ingredients, reported for transparency and cross-checks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BcaParams {
    /// Bias correction z₀ = Φ⁻¹(p₀), p₀ = (#{θ* < θ̂} + #{θ* ≤ θ̂}) / (2B′) over the B′ finite replicates.
    pub z0: f64,
    /// Acceleration a = Σ(θ̄ − θ̂₍ᵢ₎)³ / (6 [Σ(θ̄ − θ̂₍ᵢ₎)²]^{3/2}) from the jackknife values.
    pub acceleration: f64,
    /// The adjusted lower quantile level α₁.
    pub alpha_low: f64,
    /// The adjusted upper quantile level α₂.
    pub alpha_high: f64,
}

/// A bootstrap confidence interval with everything a report must state (docs/METHODS.md C.1).
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapCi {
    /// The statistic on the full data.
    pub estimate: f64,
    /// Lower bound (NaN when no interval could be formed; see [`BootstrapCi::flags`]).
    pub low: f64,
    /// Upper bound.
    pub high: f64,
    /// The method that produced the bounds (Percentile after a BCa fallback).
    pub method: CiMethod,
    /// The confidence level.
    pub level: f64,
    /// B, the number of replicates drawn (including non-finite ones).
    pub n_resamples: usize,
    /// n, the number of cases.
    pub n_cases: usize,
    /// Replicates that were NaN or infinite, excluded from the quantiles and from p₀.
    pub n_nan_replicates: usize,
    /// Warnings.
    pub flags: CiFlags,
    /// The BCa parameters when BCa was requested and the interval got as far as computing them.
    pub bca: Option<BcaParams>,
}

/// A statistic evaluated on the full data, on every bootstrap replicate and on every jackknife sample.
///
/// Replicates are computed independently row by row (sums in row order), in parallel with the `parallel`
/// feature; the values do not depend on the number of threads.
///
/// ```
/// use segauge_stats::{BootstrapOptions, CiMethod, Replicates, ResampleMatrix};
/// let dice = [0.81, 0.92, 0.77, 0.88, 0.90, 0.85, 0.79, 0.93, 0.84, 0.87];
/// let matrix = ResampleMatrix::generate(0, "boot/demo/all", dice.len(), 2000)?;
/// let reps = Replicates::mean(&matrix, &dice)?;
/// let ci = reps.interval(&BootstrapOptions::default())?;
/// assert!((ci.estimate - 0.856).abs() < 1e-12);
/// assert!(ci.low < ci.estimate && ci.estimate < ci.high);
/// assert_eq!((ci.method, ci.n_resamples, ci.n_cases), (CiMethod::Bca, 2000, 10));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Replicates {
    estimate: f64,
    values: Vec<f64>,
    jackknife: Vec<f64>,
}

impl Replicates {
    /// The mean of one per-case column (`values[i]` belongs to case i of the matrix).
    ///
    /// Each replicate is Σ `values[row[j]]` summed in row order j = 0..n−1, divided by n. The jackknife value
    /// without case i is computed as (S − xᵢ)/(n − 1), S the full sum in case order: O(n) instead of O(n²),
    /// and within a few ulps of S of the direct sum (the unit tests compare it with the direct computation of
    /// [`Replicates::statistic`]).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `values.len()` ≠ n, [`Error::NonFinite`] for a NaN or infinite value (apply
    /// a [`crate::Policy`] first).
    pub fn mean(matrix: &ResampleMatrix, values: &[f64]) -> Result<Self, Error> {
        Ok(means_with(Exec::default_for_build(), matrix, &[values])?.pop().expect("one column"))
    }

    /// The means of many per-case columns over the same matrix, in one pass over it.
    ///
    /// Identical, value for value, to calling [`Replicates::mean`] on each column, but the matrix is read once:
    /// O(B·n·m) additions for m columns.
    ///
    /// # Errors
    /// As [`Replicates::mean`], for any column.
    pub fn means(matrix: &ResampleMatrix, columns: &[&[f64]]) -> Result<Vec<Self>, Error> {
        means_with(Exec::default_for_build(), matrix, columns)
    }

    /// A ratio of sums, e.g. micro F1 = 2ΣTP / (2ΣTP + ΣFP + ΣFN) with `numerator[i]` = 2TPᵢ and
    /// `denominator[i]` = 2TPᵢ + FPᵢ + FNᵢ, micro precision TP/(TP+FP), or pooled Dice.
    ///
    /// Each replicate sums both columns over its row (in row order) and divides; a replicate whose summed
    /// denominator is 0 (e.g. only lesion-free cases drawn) is NaN, excluded from the interval and counted
    /// in [`BootstrapCi::n_nan_replicates`]. Jackknife values are (N − numᵢ)/(D − denᵢ); with integer counts
    /// all sums are exact.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`], [`Error::NonFinite`] as for [`Replicates::mean`].
    pub fn ratio(matrix: &ResampleMatrix, numerator: &[f64], denominator: &[f64]) -> Result<Self, Error> {
        ratio_with(Exec::default_for_build(), matrix, numerator, denominator)
    }

    /// Any statistic of the cases, given as a function of case indices.
    ///
    /// `statistic` receives `0, 1, …, n−1` for the estimate, each matrix row for the replicates and, for the
    /// jackknife, the n − 1 indices without case i (ascending). It should gather whatever per-case data it
    /// needs (several columns, several models: paired data move together). Non-finite results are excluded
    /// from the interval and counted.
    ///
    /// # Errors
    /// None at present; the `Result` leaves room for validation.
    ///
    /// ```
    /// use segauge_stats::{Replicates, ResampleMatrix};
    /// let a = [0.9, 0.8, 0.85, 0.7];
    /// let b = [0.85, 0.82, 0.80, 0.6];
    /// let matrix = ResampleMatrix::generate(0, "boot/demo/all", 4, 100)?;
    /// // Mean paired difference A − B.
    /// let reps = Replicates::statistic(&matrix, |idx| {
    ///     idx.iter().map(|&i| a[i as usize] - b[i as usize]).sum::<f64>() / idx.len() as f64
    /// })?;
    /// assert!((reps.estimate() - 0.045).abs() < 1e-12);
    /// assert_eq!(reps.jackknife().len(), 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn statistic<F>(matrix: &ResampleMatrix, statistic: F) -> Result<Self, Error>
    where
        F: Fn(&[u32]) -> f64 + Sync + Send,
    {
        Ok(statistic_with(Exec::default_for_build(), matrix, statistic))
    }

    /// The statistic on the full data.
    pub fn estimate(&self) -> f64 {
        self.estimate
    }

    /// The replicates θ*_b, b = 0..B−1 (non-finite ones included), in matrix row order.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The jackknife values θ̂₍ᵢ₎, i = 0..n−1.
    pub fn jackknife(&self) -> &[f64] {
        &self.jackknife
    }

    /// The confidence interval.
    ///
    /// Percentile: [Q(α/2), Q(1−α/2)] with α = 1 − level and Q numpy's default linear quantile of the finite
    /// replicates. Basic: [2θ̂ − Q(1−α/2), 2θ̂ − Q(α/2)]. BCa: [Q(α₁), Q(α₂)] with
    /// αₖ = Φ(z₀ + (z₀ ± z)/(1 − a(z₀ ± z))), z = Φ⁻¹(α/2), z₀ and a as in [`BcaParams`]; NaN and
    /// [`CiFlags::degenerate`] if anything in that is NaN (as scipy, which warns and returns NaN).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] if the level is not strictly between 0 and 1.
    pub fn interval(&self, options: &BootstrapOptions) -> Result<BootstrapCi, Error> {
        let level = options.level;
        if !(level > 0.0 && level < 1.0) {
            return Err(Error::InvalidOption {
                detail: format!("confidence level {level} is not in (0, 1)"),
            });
        }
        let n_cases = self.jackknife.len();
        let n_resamples = self.values.len();
        let mut sorted: Vec<f64> = self.values.iter().copied().filter(|v| v.is_finite()).collect();
        sort(&mut sorted);
        let n_nan = n_resamples - sorted.len();
        let flags = CiFlags {
            many_nan: n_nan as f64 > MANY_NAN_FRACTION * n_resamples as f64,
            too_few_cases: n_cases < 2,
            small_sample: n_cases < SMALL_SAMPLE,
            degenerate: false,
        };
        let mut ci = BootstrapCi {
            estimate: self.estimate,
            low: f64::NAN,
            high: f64::NAN,
            method: options.method,
            level,
            n_resamples,
            n_cases,
            n_nan_replicates: n_nan,
            flags,
            bca: None,
        };
        if ci.flags.too_few_cases {
            return Ok(ci);
        }
        if !self.estimate.is_finite() || sorted.is_empty() {
            ci.flags.degenerate = true;
            return Ok(ci);
        }
        // As scipy: alpha = (1 - level) / 2 and the upper level 1 - alpha.
        let alpha = (1.0 - level) / 2.0;
        let (low, high) = match options.method {
            CiMethod::Percentile => percentile(&sorted, alpha),
            CiMethod::Basic => {
                let (q_low, q_high) = percentile(&sorted, alpha);
                (2.0 * self.estimate - q_high, 2.0 * self.estimate - q_low)
            }
            CiMethod::Bca => {
                let params = bca_params(self.estimate, &sorted, &self.jackknife, alpha);
                ci.bca = Some(params);
                if params.alpha_low.is_nan() || params.alpha_high.is_nan() {
                    ci.flags.degenerate = true;
                    if !options.bca_fallback_percentile {
                        return Ok(ci);
                    }
                    ci.method = CiMethod::Percentile;
                    percentile(&sorted, alpha)
                } else {
                    (quantile_sorted(&sorted, params.alpha_low), quantile_sorted(&sorted, params.alpha_high))
                }
            }
        };
        ci.low = low;
        ci.high = high;
        Ok(ci)
    }
}

/// The percentile bounds [Q(α), Q(1 − α)].
fn percentile(sorted: &[f64], alpha: f64) -> (f64, f64) {
    (quantile_sorted(sorted, alpha), quantile_sorted(sorted, 1.0 - alpha))
}

/// z₀, a, α₁ and α₂ of the BCa interval from the sorted finite replicates and the jackknife values.
fn bca_params(estimate: f64, sorted: &[f64], jackknife: &[f64], alpha: f64) -> BcaParams {
    let below = sorted.partition_point(|&v| v < estimate);
    let at_or_below = sorted.partition_point(|&v| v <= estimate);
    let p0 = (below + at_or_below) as f64 / (2 * sorted.len()) as f64;
    let z0 = ndtri(p0);

    let n = jackknife.len() as f64;
    let mean = jackknife.iter().sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for &t in jackknife {
        let u = mean - t;
        num += u * u * u;
        den += u * u;
    }
    // Equal jackknife values leave the acceleration undefined (0/0). Their computed mean can miss them by an ulp,
    // which would give a finite acceleration from rounding alone, so equality is tested directly.
    let equal = jackknife.iter().all(|&t| t == jackknife[0]);
    let acceleration = if equal { f64::NAN } else { num / (6.0 * den.powf(1.5)) };

    let z = ndtri(alpha);
    let lower = z0 + z;
    let upper = z0 - z;
    BcaParams {
        z0,
        acceleration,
        alpha_low: ndtr(z0 + lower / (1.0 - acceleration * lower)),
        alpha_high: ndtr(z0 + upper / (1.0 - acceleration * upper)),
    }
}

/// Checks that a per-case column has n finite values.
fn check_column(what: &'static str, column: &[f64], n: usize) -> Result<(), Error> {
    if column.len() != n {
        return Err(Error::LengthMismatch { what, expected: n, found: column.len() });
    }
    if let Some(index) = column.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite { what, index, value: column[index] });
    }
    Ok(())
}

/// [`Replicates::means`] with an explicit evaluation strategy.
pub(crate) fn means_with(
    exec: Exec,
    matrix: &ResampleMatrix,
    columns: &[&[f64]],
) -> Result<Vec<Replicates>, Error> {
    let n = matrix.n_cases();
    let m = columns.len();
    for column in columns {
        check_column("bootstrap column", column, n)?;
    }
    if m == 0 {
        return Ok(Vec::new());
    }
    // Case-major table: the m values of case i are contiguous, so one replicate row is one pass.
    let mut table = vec![0.0; n * m];
    for (k, column) in columns.iter().enumerate() {
        for (i, &v) in column.iter().enumerate() {
            table[i * m + k] = v;
        }
    }
    let nf = n as f64;
    let mut sums = vec![0.0; matrix.n_resamples() * m];
    fill_rows(exec, &mut sums, m, |b, acc| {
        for &i in matrix.row(b) {
            let case = &table[i as usize * m..(i as usize + 1) * m];
            for (a, &v) in acc.iter_mut().zip(case) {
                *a += v;
            }
        }
        for a in acc.iter_mut() {
            *a /= nf;
        }
    });
    Ok(columns
        .iter()
        .enumerate()
        .map(|(k, column)| {
            let total: f64 = column.iter().sum();
            Replicates {
                estimate: total / nf,
                values: sums.iter().skip(k).step_by(m).copied().collect(),
                jackknife: column.iter().map(|&x| (total - x) / (nf - 1.0)).collect(),
            }
        })
        .collect())
}

/// [`Replicates::ratio`] with an explicit evaluation strategy.
pub(crate) fn ratio_with(
    exec: Exec,
    matrix: &ResampleMatrix,
    numerator: &[f64],
    denominator: &[f64],
) -> Result<Replicates, Error> {
    let n = matrix.n_cases();
    check_column("ratio numerator", numerator, n)?;
    check_column("ratio denominator", denominator, n)?;
    let ratio = |num: f64, den: f64| if den == 0.0 { f64::NAN } else { num / den };
    let mut values = vec![0.0; matrix.n_resamples()];
    fill_rows(exec, &mut values, 1, |b, out| {
        let (mut num, mut den) = (0.0, 0.0);
        for &i in matrix.row(b) {
            num += numerator[i as usize];
            den += denominator[i as usize];
        }
        out[0] = ratio(num, den);
    });
    let total_num: f64 = numerator.iter().sum();
    let total_den: f64 = denominator.iter().sum();
    let jackknife =
        numerator.iter().zip(denominator).map(|(&a, &b)| ratio(total_num - a, total_den - b)).collect();
    Ok(Replicates { estimate: ratio(total_num, total_den), values, jackknife })
}

/// [`Replicates::statistic`] with an explicit evaluation strategy.
pub(crate) fn statistic_with<F>(exec: Exec, matrix: &ResampleMatrix, statistic: F) -> Replicates
where
    F: Fn(&[u32]) -> f64 + Sync + Send,
{
    let n = matrix.n_cases();
    let all: Vec<u32> = (0..n as u32).collect();
    let estimate = statistic(&all);
    let mut values = vec![0.0; matrix.n_resamples()];
    fill_rows(exec, &mut values, 1, |b, out| out[0] = statistic(matrix.row(b)));
    let mut jackknife = vec![0.0; n];
    fill_rows(exec, &mut jackknife, 1, |i, out| {
        let without: Vec<u32> = all.iter().copied().filter(|&j| j as usize != i).collect();
        out[0] = statistic(&without);
    });
    Replicates { estimate, values, jackknife }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u64) -> Vec<f64> {
        let mut s = crate::Stream::new(seed, "test-data").unwrap();
        (0..n).map(|_| ((s.next_u64() >> 11) as f64 / (1u64 << 53) as f64).powi(3) * 10.0 + 1.0).collect()
    }

    fn seq_mean(x: &[f64], idx: &[u32]) -> f64 {
        idx.iter().map(|&i| x[i as usize]).sum::<f64>() / idx.len() as f64
    }

    #[test]
    fn mean_replicates_equal_the_generic_statistic() {
        let x = data(300, 1);
        let matrix = ResampleMatrix::generate(0, "t", 300, 500).unwrap();
        let fast = Replicates::mean(&matrix, &x).unwrap();
        let direct = Replicates::statistic(&matrix, |idx| seq_mean(&x, idx)).unwrap();
        // Replicates and estimate: the same sums in the same order, bit for bit.
        assert_eq!(fast.values, direct.values);
        assert_eq!(fast.estimate, direct.estimate);
        // Jackknife: (S - x_i)/(n-1) against the direct leave-one-out sum.
        for (a, b) in fast.jackknife.iter().zip(&direct.jackknife) {
            assert!((a - b).abs() <= 1e-13 * b.abs(), "{a} vs {b}");
        }
        for method in [CiMethod::Bca, CiMethod::Percentile, CiMethod::Basic] {
            let opts = BootstrapOptions { method, ..BootstrapOptions::default() };
            let (f, d) = (fast.interval(&opts).unwrap(), direct.interval(&opts).unwrap());
            assert!((f.low - d.low).abs() < 1e-12 && (f.high - d.high).abs() < 1e-12, "{f:?} {d:?}");
        }
    }

    #[test]
    fn many_columns_equal_single_columns() {
        let cols: Vec<Vec<f64>> = (0..5).map(|k| data(50, k)).collect();
        let refs: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let matrix = ResampleMatrix::generate(0, "t", 50, 300).unwrap();
        let all = Replicates::means(&matrix, &refs).unwrap();
        for (k, col) in cols.iter().enumerate() {
            assert_eq!(all[k], Replicates::mean(&matrix, col).unwrap());
        }
        assert!(Replicates::means(&matrix, &[]).unwrap().is_empty());
    }

    #[test]
    fn rayon_and_serial_agree_bit_for_bit() {
        let cols: Vec<Vec<f64>> = (0..3).map(|k| data(200, k)).collect();
        let refs: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let matrix = ResampleMatrix::generate(0, "t", 200, 1000).unwrap();
        let tp: Vec<f64> = (0..200).map(|i| (i % 4) as f64).collect();
        let fp: Vec<f64> = (0..200).map(|i| (i % 3) as f64).collect();
        let serial_means = means_with(Exec::Serial, &matrix, &refs).unwrap();
        let serial_ratio = ratio_with(Exec::Serial, &matrix, &tp, &fp).unwrap();
        let serial_stat = statistic_with(Exec::Serial, &matrix, |idx| seq_mean(&cols[0], idx));
        for threads in [1, 2, 8] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                assert_eq!(means_with(Exec::Rayon, &matrix, &refs).unwrap(), serial_means);
                assert_eq!(ratio_with(Exec::Rayon, &matrix, &tp, &fp).unwrap(), serial_ratio);
                assert_eq!(statistic_with(Exec::Rayon, &matrix, |idx| seq_mean(&cols[0], idx)), serial_stat);
            });
        }
    }

    #[test]
    fn all_equal_values_make_bca_degenerate() {
        let x = [0.75; 12];
        let matrix = ResampleMatrix::generate(0, "t", 12, 200).unwrap();
        let reps = Replicates::mean(&matrix, &x).unwrap();
        let bca = reps.interval(&BootstrapOptions::default()).unwrap();
        assert!(bca.low.is_nan() && bca.high.is_nan() && bca.flags.degenerate);
        let bca = bca.bca.unwrap();
        assert_eq!(bca.z0, 0.0); // p0 = (0 + B) / 2B
        assert!(bca.acceleration.is_nan());
        let fallback = reps
            .interval(&BootstrapOptions { bca_fallback_percentile: true, ..BootstrapOptions::default() })
            .unwrap();
        assert_eq!((fallback.low, fallback.high, fallback.method), (0.75, 0.75, CiMethod::Percentile));
        assert!(fallback.flags.degenerate);
        let pct = reps
            .interval(&BootstrapOptions { method: CiMethod::Percentile, ..BootstrapOptions::default() })
            .unwrap();
        assert_eq!((pct.low, pct.high), (0.75, 0.75));
        assert!(!pct.flags.degenerate);
        // Values whose sums round: the jackknife values are still all equal, though their computed mean may differ
        // from them by an ulp; the interval is degenerate all the same (it was [x, x] for some, NaN for others).
        for (x, n) in [(0.1, 100), (0.8534, 100), (1.0 / 3.0, 37), (0.9, 7)] {
            let matrix = ResampleMatrix::generate(0, "t", n, 200).unwrap();
            let ci = Replicates::mean(&matrix, &vec![x; n])
                .unwrap()
                .interval(&BootstrapOptions::default())
                .unwrap();
            assert!(ci.low.is_nan() && ci.high.is_nan() && ci.flags.degenerate, "{x} × {n}: {ci:?}");
        }
    }

    #[test]
    fn ratio_with_zero_denominators_counts_nan_replicates() {
        // 20 cases, only one with lesions: most replicates miss it (P = (19/20)^20 = 36 %).
        let mut num = vec![0.0; 20];
        let mut den = vec![0.0; 20];
        num[3] = 2.0;
        den[3] = 3.0;
        let matrix = ResampleMatrix::generate(0, "t", 20, 1000).unwrap();
        let reps = Replicates::ratio(&matrix, &num, &den).unwrap();
        assert_eq!(reps.estimate(), 2.0 / 3.0);
        let n_nan = reps.values().iter().filter(|v| v.is_nan()).count();
        assert!(n_nan > 250 && n_nan < 470, "{n_nan}");
        let ci = reps
            .interval(&BootstrapOptions { method: CiMethod::Percentile, ..BootstrapOptions::default() })
            .unwrap();
        assert_eq!(ci.n_nan_replicates, n_nan);
        assert!(ci.flags.many_nan);
        assert_eq!((ci.low, ci.high), (2.0 / 3.0, 2.0 / 3.0));
        // The jackknife without case 3 has a zero denominator.
        assert!(reps.jackknife()[3].is_nan());
        let bca = reps.interval(&BootstrapOptions::default()).unwrap();
        assert!(bca.flags.degenerate && bca.low.is_nan());
    }

    #[test]
    fn too_few_cases_and_bad_inputs() {
        let one = ResampleMatrix::generate(0, "t", 1, 50).unwrap();
        let reps = Replicates::mean(&one, &[3.0]).unwrap();
        assert_eq!(reps.estimate(), 3.0);
        let ci = reps.interval(&BootstrapOptions::default()).unwrap();
        assert!(ci.flags.too_few_cases && ci.flags.small_sample && ci.low.is_nan() && ci.high.is_nan());

        let two = ResampleMatrix::generate(0, "t", 2, 400).unwrap();
        let ci = Replicates::mean(&two, &[1.0, 3.0]).unwrap().interval(&BootstrapOptions::default()).unwrap();
        assert!(!ci.flags.too_few_cases && ci.flags.small_sample && !ci.flags.degenerate);
        assert_eq!(ci.bca.unwrap().acceleration, 0.0); // symmetric jackknife
        assert!(ci.low >= 1.0 && ci.high <= 3.0 && ci.low < ci.high);

        assert!(matches!(Replicates::mean(&two, &[1.0]), Err(Error::LengthMismatch { found: 1, .. })));
        assert!(matches!(
            Replicates::mean(&two, &[1.0, f64::INFINITY]),
            Err(Error::NonFinite { index: 1, .. })
        ));
        let reps = Replicates::mean(&two, &[1.0, 2.0]).unwrap();
        for level in [0.0, 1.0, f64::NAN, 1.5] {
            assert!(matches!(
                reps.interval(&BootstrapOptions { level, ..BootstrapOptions::default() }),
                Err(Error::InvalidOption { .. })
            ));
        }
    }
}
