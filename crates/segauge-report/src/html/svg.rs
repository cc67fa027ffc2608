//! Small builders of inline SVG for the HTML report: a linear scale with readable ticks, and elements as
//! strings.
//!
//! Coordinates are written with one decimal (a tenth of a CSS pixel), which keeps large strip plots compact.
//! Elements carry CSS classes only; their look lives in the report's one style block. Inline SVG inside HTML5
//! needs no namespace declaration, so none is written.

use super::escape;

/// A linear map from a data interval onto a pixel interval.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Scale {
    /// Maps `[d0, d1]` onto `[r0, r1]`; an empty or non-finite data interval is widened so the map stays
    /// finite.
    pub(crate) fn new(d0: f64, d1: f64, r0: f64, r1: f64) -> Scale {
        let (d0, d1) = if d0.is_finite() && d1.is_finite() { (d0, d1) } else { (0.0, 1.0) };
        let (d0, d1) = if d1 > d0 {
            (d0, d1)
        } else {
            let half = if d0 == 0.0 { 0.5 } else { d0.abs() * 0.05 };
            (d0 - half, d0 + half)
        };
        Scale { d0, d1, r0, r1 }
    }

    /// The pixel position of `v`, clamped to the range (non-finite values go to the nearest end; NaN to the
    /// start).
    pub(crate) fn at(&self, v: f64) -> f64 {
        let t = (v - self.d0) / (self.d1 - self.d0);
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        self.r0 + t * (self.r1 - self.r0)
    }

    /// The data interval.
    pub(crate) fn domain(&self) -> (f64, f64) {
        (self.d0, self.d1)
    }

    /// Readable tick values inside the data interval: the finest step of 1, 2 or 5 times a power of ten
    /// that gives at most `count + 1` intervals.
    pub(crate) fn ticks(&self, count: usize) -> Vec<f64> {
        let span = self.d1 - self.d0;
        let raw = span / count.max(1) as f64;
        let power = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * power)
            .find(|s| span / s <= count as f64 + 1.0)
            .unwrap_or(10.0 * power);
        if !(step.is_finite() && step > 0.0) {
            return vec![self.d0, self.d1];
        }
        let first = (self.d0 / step).ceil() as i64;
        let last = (self.d1 / step).floor() as i64;
        (first..=last).map(|i| i as f64 * step).map(|v| if v == 0.0 { 0.0 } else { v }).collect()
    }
}

/// A domain for values that all lie in `[lo, hi]`: padded by 4 %, starting at 0 when `zero` is set, and
/// clamped to `[0, 1]` for scores.
pub(crate) fn domain(values: impl IntoIterator<Item = f64>, zero: bool, score: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if score {
        return (if zero { 0.0 } else { (lo - 0.04 * (hi - lo).max(0.05)).clamp(0.0, 0.9) }, 1.0);
    }
    let lo = if zero { lo.min(0.0) } else { lo };
    let pad = 0.04 * (hi - lo).max(hi.abs() * 0.1).max(1e-9);
    (if zero && lo >= 0.0 { 0.0 } else { lo - pad }, hi + pad)
}

/// Tick label text: as few decimals as the tick step needs.
pub(crate) fn tick_label(v: f64, step: f64) -> String {
    let decimals =
        if step >= 1.0 || step <= 0.0 { 0 } else { (-step.log10()).ceil().clamp(0.0, 6.0) as usize };
    format!("{v:.decimals$}")
}

/// A number as an SVG coordinate (one decimal).
pub(crate) fn c(v: f64) -> String {
    let t = format!("{v:.1}");
    t.strip_suffix(".0").map_or(t.clone(), str::to_string)
}

/// The opening tag of a plot of `width` × `height` CSS pixels (scalable: the `viewBox` has the same size).
pub(crate) fn open(width: f64, height: f64, label: &str) -> String {
    format!(
        "<svg class=\"plot\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" \
         aria-label=\"{l}\">",
        w = c(width),
        h = c(height),
        l = escape(label)
    )
}

/// A line segment.
pub(crate) fn line(x1: f64, y1: f64, x2: f64, y2: f64, class: &str) -> String {
    format!("<line class=\"{class}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>", c(x1), c(y1), c(x2), c(y2))
}

/// A rectangle with an optional inline fill colour (model colours are data, not style).
pub(crate) fn rect(x: f64, y: f64, w: f64, h: f64, class: &str, fill: Option<&str>) -> String {
    let fill = fill.map_or(String::new(), |f| format!(" fill=\"{f}\""));
    format!(
        "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"{fill}/>",
        c(x),
        c(y),
        c(w.max(0.0)),
        c(h.max(0.0))
    )
}

/// A rectangle with a hover tooltip.
pub(crate) fn rect_titled(x: f64, y: f64, w: f64, h: f64, fill: &str, title: &str) -> String {
    format!(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"><title>{}</title></rect>",
        c(x),
        c(y),
        c(w.max(0.0)),
        c(h.max(0.0)),
        escape(title)
    )
}

/// A dot with a hover tooltip.
pub(crate) fn dot(x: f64, y: f64, r: f64, fill: &str, class: &str, title: &str) -> String {
    format!(
        "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{fill}\"><title>{}</title></circle>",
        c(x),
        c(y),
        c(r),
        escape(title)
    )
}

/// A diamond (the marker of an estimate) centred on `(x, y)`.
pub(crate) fn diamond(x: f64, y: f64, r: f64, fill: &str, title: &str) -> String {
    format!(
        "<path class=\"est\" d=\"M{} {}L{} {}L{} {}L{} {}Z\" fill=\"{fill}\"><title>{}</title></path>",
        c(x - r),
        c(y),
        c(x),
        c(y - r),
        c(x + r),
        c(y),
        c(x),
        c(y + r),
        escape(title)
    )
}

/// Text at `(x, y)`; `anchor` is `start`, `middle` or `end`; the content is escaped.
pub(crate) fn text(x: f64, y: f64, anchor: &str, class: &str, content: &str) -> String {
    format!(
        "<text class=\"{class}\" x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
        c(x),
        c(y),
        escape(content)
    )
}

/// A horizontal axis at `y` with grid lines up to `top`, tick labels and a title under it.
pub(crate) fn x_axis(scale: &Scale, y: f64, top: f64, ticks: usize, title: &str) -> String {
    let values = scale.ticks(ticks);
    let step = match values.as_slice() {
        [a, b, ..] => b - a,
        _ => 1.0,
    };
    let mut s = String::new();
    for &v in &values {
        let x = scale.at(v);
        s.push_str(&line(x, top, x, y, "grid"));
        s.push_str(&text(x, y + 13.0, "middle", "tick", &tick_label(v, step)));
    }
    let (d0, d1) = scale.domain();
    s.push_str(&line(scale.at(d0), y, scale.at(d1), y, "axis"));
    if !title.is_empty() {
        s.push_str(&text((scale.at(d0) + scale.at(d1)) / 2.0, y + 27.0, "middle", "axis-title", title));
    }
    s
}

/// A deterministic jitter in `[-1, 1]` for the `i`-th dot (a low-discrepancy sequence: dots spread evenly).
pub(crate) fn jitter(i: usize) -> f64 {
    let golden = 0.618_033_988_749_895;
    ((i as f64 + 1.0) * golden).fract() * 2.0 - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers_inside_the_domain() {
        assert_eq!(Scale::new(0.0, 1.0, 0.0, 100.0).ticks(5), [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        assert_eq!(Scale::new(0.3, 27.0, 0.0, 100.0).ticks(5), [5.0, 10.0, 15.0, 20.0, 25.0]);
        assert_eq!(tick_label(0.6000000000000001, 0.2), "0.6");
        assert_eq!(tick_label(25.0, 5.0), "25");
    }

    #[test]
    fn the_scale_clamps_and_survives_degenerate_domains() {
        let s = Scale::new(2.0, 2.0, 10.0, 20.0);
        assert!(s.at(2.0) > 10.0 && s.at(2.0) < 20.0);
        let s = Scale::new(0.0, 10.0, 0.0, 100.0);
        assert_eq!((s.at(5.0), s.at(f64::INFINITY), s.at(-3.0), s.at(f64::NAN)), (50.0, 100.0, 0.0, 0.0));
        assert_eq!(c(12.34), "12.3");
        assert_eq!(c(12.0), "12");
    }

    #[test]
    fn domains_pad_and_clamp_scores() {
        assert_eq!(domain([0.5, 0.9, f64::INFINITY], true, true), (0.0, 1.0));
        let (lo, hi) = domain([2.0, 10.0], true, false);
        assert_eq!(lo, 0.0);
        assert!(hi > 10.0 && hi < 11.0);
        assert!(jitter(0).abs() <= 1.0 && jitter(7).abs() <= 1.0);
    }
}
