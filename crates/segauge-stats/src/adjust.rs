//! Multiplicity adjustment of p-values across a family of tests: Holm and Benjamini–Hochberg.

use crate::Error;

/// Checks the p-values and returns the ascending order of their indices (stable for ties).
fn sorted_order(p: &[f64]) -> Result<Vec<usize>, Error> {
    if let Some(i) = p.iter().position(|v| !(0.0..=1.0).contains(v)) {
        return Err(Error::InvalidOption {
            detail: format!("p-value {} at index {i} is not in [0, 1]", p[i]),
        });
    }
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    Ok(order)
}

/// Holm's step-down adjusted p-values (Holm 1979), in the input order.
///
/// With p₍₁₎ ≤ … ≤ p₍ₘ₎: p̃₍ₖ₎ = max over j ≤ k of min(1, (m − j + 1)·p₍ⱼ₎). Equal to statsmodels'
/// `multipletests(p, method='holm')[1]` and R's `p.adjust(p, "holm")`.
///
/// ```
/// // Sorted: 0.01 * 3 = 0.03; 0.03 * 2 = 0.06; 0.04 * 1 = 0.04, raised to the running maximum 0.06.
/// let adjusted = segauge_stats::holm(&[0.01, 0.04, 0.03])?;
/// assert_eq!(adjusted, [0.03, 0.06, 0.06]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for a p-value outside [0, 1] or NaN.
pub fn holm(p: &[f64]) -> Result<Vec<f64>, Error> {
    let order = sorted_order(p)?;
    let m = p.len();
    let mut out = vec![0.0; m];
    let mut running = 0.0f64;
    for (k, &i) in order.iter().enumerate() {
        running = running.max(p[i] * (m - k) as f64);
        out[i] = running.min(1.0);
    }
    Ok(out)
}

/// Benjamini–Hochberg adjusted p-values (false discovery rate), in the input order.
///
/// With p₍₁₎ ≤ … ≤ p₍ₘ₎: p̃₍ₖ₎ = min over j ≥ k of min(1, p₍ⱼ₎ / (j/m)). Equal to statsmodels'
/// `multipletests(p, method='fdr_bh')[1]` and R's `p.adjust(p, "BH")`.
///
/// ```
/// // Sorted: 0.01 / (1/3) = 0.03; 0.03 / (2/3) = 0.045; 0.04 / 1 = 0.04, lowering 0.045 to 0.04.
/// let adjusted = segauge_stats::benjamini_hochberg(&[0.01, 0.04, 0.03])?;
/// assert!((adjusted[0] - 0.03).abs() < 1e-16);
/// assert_eq!(adjusted[1..], [0.04, 0.04]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for a p-value outside [0, 1] or NaN.
pub fn benjamini_hochberg(p: &[f64]) -> Result<Vec<f64>, Error> {
    let order = sorted_order(p)?;
    let m = p.len();
    let mut out = vec![0.0; m];
    let mut running = f64::INFINITY;
    for (k, &i) in order.iter().enumerate().rev() {
        let rank_fraction = (k + 1) as f64 / m as f64;
        running = running.min(p[i] / rank_fraction);
        out[i] = running.min(1.0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_single_and_invalid() {
        assert!(holm(&[]).unwrap().is_empty());
        assert!(benjamini_hochberg(&[]).unwrap().is_empty());
        assert_eq!(holm(&[0.2]).unwrap(), [0.2]);
        assert_eq!(benjamini_hochberg(&[0.2]).unwrap(), [0.2]);
        assert!(holm(&[0.1, f64::NAN]).is_err());
        assert!(benjamini_hochberg(&[1.5]).is_err());
    }

    #[test]
    fn caps_at_one_and_keeps_order() {
        assert_eq!(holm(&[0.6, 0.55, 0.01]).unwrap(), [1.0, 1.0, 0.03]);
        let bh = benjamini_hochberg(&[0.9, 0.95, 0.99]).unwrap();
        assert_eq!(bh, [0.99, 0.99, 0.99]);
    }
}
