//! Numbers, units and text of the report: precision per unit, intervals, p-values, escaping.

use super::*;

/// The unit after a number (` mm`, ` mm³`), empty for scores.
pub(super) fn suffix(unit: Unit) -> String {
    match unit.symbol() {
        "" => String::new(),
        symbol => format!(" {symbol}"),
    }
}

/// A number in its unit's precision, without the unit; `inf`, `-inf`, `nan` as such; never `-0.00`.
pub(super) fn num(v: f64, unit: Unit) -> String {
    if !v.is_finite() {
        return format_number(v);
    }
    let s = match unit {
        Unit::Mm => format!("{v:.2}"),
        Unit::Mm3 => format!("{v:.1}"),
        Unit::Voxels | Unit::Lesions => format!("{v:.0}"),
        _ => format!("{v:.4}"),
    };
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

/// A number with its unit (`3.46 mm`, `0.8123`, `inf mm`).
pub(super) fn val(v: f64, unit: Unit) -> String {
    format!("{}{}", num(v, unit), suffix(unit))
}

/// An interval `[lo, hi] unit`, or a muted "no interval" when neither bound exists.
pub(super) fn interval(lo: f64, hi: f64, unit: Unit) -> String {
    if lo.is_nan() && hi.is_nan() {
        return "<span class=\"muted\">no interval</span>".to_string();
    }
    format!("[{}, {}]{}", num(lo, unit), num(hi, unit), suffix(unit))
}

/// Plain text `estimate [lo, hi] unit` (the unit once), or `estimate unit (no interval)`.
pub(super) fn est_ci(estimate: f64, lo: f64, hi: f64, unit: Unit) -> String {
    if lo.is_nan() && hi.is_nan() {
        return format!("{} (no interval)", val(estimate, unit));
    }
    format!("{} [{}, {}]{}", num(estimate, unit), num(lo, unit), num(hi, unit), suffix(unit))
}

/// The axis title of a metric: its name and unit.
pub(super) fn axis_title(ctx: &Ctx<'_>, m: Metric) -> String {
    match m.unit().symbol() {
        "" => ctx.name(m),
        unit => format!("{} ({unit})", ctx.name(m)),
    }
}

/// A p-value: 4 decimals, or 2 significant digits below 0.0001.
pub(super) fn p_value(p: f64) -> String {
    if !p.is_finite() {
        format_number(p)
    } else if p > 0.0 && p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// A confidence level as a percentage (`95 %`).
pub(super) fn percent(level: f64) -> String {
    let t = format!("{:.2}", level * 100.0);
    format!("{} %", t.trim_end_matches('0').trim_end_matches('.'))
}

pub(super) fn method_name(m: CiMethod) -> &'static str {
    match m {
        CiMethod::Bca => "BCa",
        CiMethod::Percentile => "percentile",
        CiMethod::Basic => "basic",
        _ => "other",
    }
}

/// The value of a metric for one label of one case (`None` when not computed).
pub(super) fn case_value(l: &LabelResult, m: Metric) -> Option<f64> {
    match m.value(l) {
        segauge_eval::Value::Missing | segauge_eval::Value::Text(_) => None,
        v => Some(v.as_f64()),
    }
}

/// Linear-interpolation quantile of sorted values without NaN (numpy's default); `+inf` stays `+inf`.
pub(super) fn quantile(sorted: &[f64], q: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return f64::NAN;
    };
    let h = last as f64 * q;
    let i = h.floor() as usize;
    let lo = sorted.get(i).copied().unwrap_or(f64::NAN);
    let hi = sorted.get(i + 1).copied().unwrap_or(lo);
    let f = h - h.floor();
    if f == 0.0 || hi == lo {
        lo
    } else if hi.is_infinite() {
        hi
    } else {
        lo + f * (hi - lo)
    }
}
