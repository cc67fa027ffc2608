//! The NaN / inf policy applied to per-case values before aggregation, bootstrap and tests (docs/METHODS.md C.3).

use crate::Error;

/// What to do with non-finite per-case values.
///
/// Per-case tables keep raw values; a policy is chosen per metric, applied before any mean, quantile, bootstrap
/// or test, and reported together with the [`PolicyCounts`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Policy<'a> {
    /// Replace +inf by one cap (e.g. `--hd-cap 374` mm, BraTS practice). NaN and −inf cannot be capped: they
    /// are omitted and counted.
    Cap(f64),
    /// Replace +inf in case i by `caps[i]` (segauge's default for distances: the physical diagonal of that
    /// case's image). NaN and −inf are omitted and counted.
    CapEach(&'a [f64]),
    /// Drop every non-finite value (reports `n_used`; optimistic when failures are dropped).
    Omit,
    /// Keep everything: a mean becomes inf or NaN. For diagnostics.
    Propagate,
}

/// How many values a policy saw and kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PolicyCounts {
    /// All values.
    pub n_total: usize,
    /// Values that were +inf or −inf before the policy.
    pub n_inf: usize,
    /// Values that were NaN before the policy.
    pub n_nan: usize,
    /// +inf values replaced by a cap.
    pub n_capped: usize,
    /// Values kept (capped ones included).
    pub n_used: usize,
}

/// Values after a [`Policy`], with the positions they came from and the counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Cleaned {
    /// The kept values, in input order (capped where the policy caps).
    pub values: Vec<f64>,
    /// For each kept value, its index in the input.
    pub used: Vec<usize>,
    /// The counts to report.
    pub counts: PolicyCounts,
}

impl Cleaned {
    /// The mean of the kept values, summed in input order (NaN when none is kept; inf or NaN under
    /// [`Policy::Propagate`] when the input had such values).
    pub fn mean(&self) -> f64 {
        self.values.iter().sum::<f64>() / self.values.len() as f64
    }

    /// Columns for [`crate::Replicates::ratio`] that keep the full case set: `(value or 0, 1 or 0)` per input
    /// position. A ratio of their sums is the mean over kept cases, so omitted cases do not change the shared
    /// resample matrix (a replicate that draws no kept case is NaN and counted).
    ///
    /// ```
    /// use segauge_stats::{Policy, apply_policy};
    /// let c = apply_policy(&[1.0, f64::NAN, 3.0], Policy::Omit)?;
    /// assert_eq!(c.ratio_columns(), (vec![1.0, 0.0, 3.0], vec![1.0, 0.0, 1.0]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ratio_columns(&self) -> (Vec<f64>, Vec<f64>) {
        let mut num = vec![0.0; self.counts.n_total];
        let mut den = vec![0.0; self.counts.n_total];
        for (&i, &v) in self.used.iter().zip(&self.values) {
            num[i] = v;
            den[i] = 1.0;
        }
        (num, den)
    }
}

/// Applies `policy` to `values`.
///
/// ```
/// use segauge_stats::{Policy, apply_policy};
/// let hd95 = [2.5, f64::INFINITY, 4.0, f64::NAN];
/// let capped = apply_policy(&hd95, Policy::Cap(374.0))?;
/// assert_eq!(capped.values, [2.5, 374.0, 4.0]);
/// assert_eq!((capped.counts.n_inf, capped.counts.n_nan, capped.counts.n_used), (1, 1, 3));
/// let omitted = apply_policy(&hd95, Policy::Omit)?;
/// assert_eq!((omitted.values, omitted.used), (vec![2.5, 4.0], vec![0, 2]));
/// assert!(apply_policy(&hd95, Policy::Propagate)?.mean().is_nan());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for a cap that is not finite, [`Error::LengthMismatch`] if `caps` has another
/// length than `values`.
pub fn apply_policy(values: &[f64], policy: Policy<'_>) -> Result<Cleaned, Error> {
    let cap_of = |i: usize| -> Option<f64> {
        match policy {
            Policy::Cap(c) => Some(c),
            Policy::CapEach(caps) => Some(caps[i]),
            Policy::Omit | Policy::Propagate => None,
        }
    };
    match policy {
        Policy::Cap(c) if !c.is_finite() => {
            return Err(Error::InvalidOption { detail: format!("cap {c} is not finite") });
        }
        Policy::CapEach(caps) => {
            if caps.len() != values.len() {
                return Err(Error::LengthMismatch {
                    what: "caps",
                    expected: values.len(),
                    found: caps.len(),
                });
            }
            if let Some(i) = caps.iter().position(|c| !c.is_finite()) {
                return Err(Error::InvalidOption {
                    detail: format!("cap {} of value {i} is not finite", caps[i]),
                });
            }
        }
        _ => {}
    }
    let mut counts = PolicyCounts { n_total: values.len(), ..PolicyCounts::default() };
    let mut kept = Vec::with_capacity(values.len());
    let mut used = Vec::with_capacity(values.len());
    for (i, &v) in values.iter().enumerate() {
        if v.is_nan() {
            counts.n_nan += 1;
        } else if v.is_infinite() {
            counts.n_inf += 1;
        }
        let out = if v.is_finite() || policy == Policy::Propagate {
            Some(v)
        } else if v == f64::INFINITY {
            cap_of(i).inspect(|_| counts.n_capped += 1)
        } else {
            None
        };
        if let Some(v) = out {
            kept.push(v);
            used.push(i);
        }
    }
    counts.n_used = kept.len();
    Ok(Cleaned { values: kept, used, counts })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: [f64; 6] = [1.0, f64::INFINITY, f64::NAN, f64::NEG_INFINITY, 2.0, f64::INFINITY];

    #[test]
    fn cap_each_uses_the_case_cap() {
        let caps = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0];
        let c = apply_policy(&RAW, Policy::CapEach(&caps)).unwrap();
        assert_eq!(c.values, [1.0, 20.0, 2.0, 60.0]);
        assert_eq!(c.used, [0, 1, 4, 5]);
        assert_eq!(c.counts, PolicyCounts { n_total: 6, n_inf: 3, n_nan: 1, n_capped: 2, n_used: 4 });
        assert_eq!(c.mean(), 83.0 / 4.0);
    }

    #[test]
    fn omit_and_propagate() {
        let c = apply_policy(&RAW, Policy::Omit).unwrap();
        assert_eq!((c.values.as_slice(), c.used.as_slice()), ([1.0, 2.0].as_slice(), [0, 4].as_slice()));
        assert_eq!(c.counts, PolicyCounts { n_total: 6, n_inf: 3, n_nan: 1, n_capped: 0, n_used: 2 });
        let p = apply_policy(&RAW, Policy::Propagate).unwrap();
        assert_eq!(p.counts.n_used, 6);
        assert!(p.mean().is_nan());
        let p = apply_policy(&[1.0, f64::INFINITY], Policy::Propagate).unwrap();
        assert_eq!(p.mean(), f64::INFINITY);
    }

    #[test]
    fn empty_and_invalid() {
        let c = apply_policy(&[], Policy::Omit).unwrap();
        assert_eq!(c.counts, PolicyCounts::default());
        assert!(c.mean().is_nan());
        assert!(matches!(apply_policy(&RAW, Policy::Cap(f64::INFINITY)), Err(Error::InvalidOption { .. })));
        assert!(matches!(apply_policy(&RAW, Policy::CapEach(&[1.0])), Err(Error::LengthMismatch { .. })));
        let all_nan = apply_policy(&[f64::NAN; 3], Policy::Cap(5.0)).unwrap();
        assert_eq!((all_nan.counts.n_nan, all_nan.counts.n_used), (3, 0));
    }
}
