//! Order statistics on sorted samples: numpy's default ("linear") quantile and the median.

/// The q-quantile (q in [0, 1]) of an ascending, finite, non-empty sample, numpy's default `linear` method.
///
/// h = (N−1)·q, j = ⌊h⌋, g = h − j; the result interpolates x₍ⱼ₎ and x₍ⱼ₊₁₎ (0-based). The interpolation is
/// written as numpy writes it, a + (b−a)·g for g < ½ and b − (b−a)·(1−g) otherwise, so that results agree to
/// the last bit. NaN for NaN q or an empty sample.
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 || q.is_nan() {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q;
    if h <= 0.0 {
        return sorted[0];
    }
    let j = h.floor();
    if j >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    let g = h - j;
    let j = j as usize;
    let (a, b) = (sorted[j], sorted[j + 1]);
    let diff = b - a;
    if g >= 0.5 { b - diff * (1.0 - g) } else { a + diff * g }
}

/// The median of an ascending sample: the middle value, or the mean of the two middle values (NaN if empty).
pub(crate) fn median_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Sorts finite values ascending (total order; callers remove NaN first).
pub(crate) fn sort(values: &mut [f64]) {
    values.sort_unstable_by(f64::total_cmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_quantile_by_hand() {
        let x = [1.0, 2.0, 4.0, 8.0];
        // h = 3q: q = 0.5 -> between 2 and 4 at g = 0.5 -> 3; q = 0.25 -> h = 0.75 -> 2 - 1*0.25 = 1.75.
        assert_eq!(quantile_sorted(&x, 0.5), 3.0);
        assert_eq!(quantile_sorted(&x, 0.25), 1.75);
        assert_eq!(quantile_sorted(&x, 0.0), 1.0);
        assert_eq!(quantile_sorted(&x, 1.0), 8.0);
        assert!(quantile_sorted(&[], 0.5).is_nan());
        assert!(quantile_sorted(&x, f64::NAN).is_nan());
        assert_eq!(quantile_sorted(&[5.0], 0.3), 5.0);
    }

    #[test]
    fn median_by_hand() {
        assert_eq!(median_sorted(&[1.0, 3.0, 10.0]), 3.0);
        assert_eq!(median_sorted(&[1.0, 3.0, 10.0, 11.0]), 6.5);
        assert!(median_sorted(&[]).is_nan());
    }
}
