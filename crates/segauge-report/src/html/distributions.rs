//! The per-case distributions: strip and box plots per metric and label, with the mean and its interval.

use super::format::*;
use super::*;

pub(super) fn distributions_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("distributions", "Per-case distributions");
    s.push_str(&format!(
        "<p class=\"note\">One dot per evaluated case (hover for its id and value), the box spans the \
         quartiles \
         with a line at the median; the diamond and bar under it are the summary's mean and its {} interval \
         (after the inf policy). Infinite values (one mask empty) are drawn in the shaded ∞ column at the \
         right \
         and counted under each plot; NaN values are counted, not drawn.</p>\n",
        ctx.level
    ));
    s.push_str(&model_legend(ctx));
    let mut any = false;
    for st in &ctx.structures {
        let keys = ctx.case_metrics(st);
        if keys.is_empty() {
            continue;
        }
        any = true;
        s.push_str(&open_structure(ctx, st));
        s.push_str("<div class=\"grid\">\n");
        for &key in &keys {
            s.push_str(&distribution_figure(ctx, st, key));
        }
        s.push_str("</div>\n");
        s.push_str(CLOSE_STRUCTURE);
    }
    if !any {
        s.push_str("<p>No evaluated case.</p>\n");
    }
    s.push_str("</section>\n");
    s
}

/// The values of one model in one plot, sorted, with their counts.
pub(super) struct Lane<'a> {
    model: &'a str,
    values: Vec<(&'a str, f64)>,
    sorted: Vec<f64>,
    n_inf: usize,
    n_nan: usize,
    /// Cases without the label in either mask, and the value the convention gives them.
    both_empty: (usize, f64),
    estimate: Option<&'a Estimate>,
}

pub(super) fn distribution_figure(ctx: &Ctx<'_>, st: &Structure, key: Metric) -> String {
    let m = key;
    let lanes: Vec<Lane<'_>> = ctx
        .report
        .models
        .iter()
        .map(|run| {
            let values = ctx.values(run, st, key);
            let mut sorted: Vec<f64> = values.iter().map(|v| v.1).filter(|v| !v.is_nan()).collect();
            sorted.sort_by(f64::total_cmp);
            Lane {
                model: &run.name,
                n_inf: values.iter().filter(|v| v.1.is_infinite()).count(),
                n_nan: values.iter().filter(|v| v.1.is_nan()).count(),
                both_empty: both_empty(run, st, key),
                estimate: ctx.summary(key, st, &run.name).filter(|e| e.kind == EstimateKind::Mean),
                values,
                sorted,
            }
        })
        .collect();
    let has_inf = lanes.iter().any(|l| l.n_inf > 0);
    let (width, lane_h, top) = (520.0, 42.0, 6.0);
    let left = if ctx.multi { 104.0 } else { 14.0 };
    let right = width - 16.0 - if has_inf { 46.0 } else { 0.0 };
    let inf_x = width - 16.0 - 18.0;
    let height = top + lane_h * lanes.len() as f64 + 36.0;
    let score = m.unit() == Unit::Score;
    let domain = svg::domain(
        lanes.iter().flat_map(|l| {
            l.sorted
                .iter()
                .copied()
                .chain(l.estimate.map_or(vec![], |e| vec![e.estimate, e.ci_low, e.ci_high]))
        }),
        true,
        score,
    );
    let scale = Scale::new(domain.0, domain.1, left, right);
    let pos = |v: f64| if v == f64::INFINITY && has_inf { inf_x } else { scale.at(v) };
    let axis_y = top + lane_h * lanes.len() as f64 + 2.0;
    let mut g = svg::open(width, height, &format!("{} of {st}, per case", ctx.name(m)));
    if has_inf {
        g.push_str(&svg::rect(inf_x - 16.0, top, 32.0, axis_y - top, "inf-lane", None));
        g.push_str(&svg::text(inf_x, axis_y + 13.0, "middle", "tick", "∞"));
        g.push_str(&svg::line(right + 8.0, axis_y - 4.0, right + 12.0, axis_y + 4.0, "break"));
        g.push_str(&svg::line(right + 12.0, axis_y - 4.0, right + 16.0, axis_y + 4.0, "break"));
    }
    g.push_str(&svg::x_axis(&scale, axis_y, top, 5, &axis_title(ctx, m)));
    for (i, lane) in lanes.iter().enumerate() {
        let yc = top + lane_h * i as f64 + 17.0;
        let colour = ctx.colour(Some(lane.model));
        if ctx.multi {
            g.push_str(&svg::text(left - 10.0, yc + 4.0, "end", "", &short_name(lane.model, 15)));
        }
        if !lane.sorted.is_empty() {
            let (q1, q2, q3) =
                (quantile(&lane.sorted, 0.25), quantile(&lane.sorted, 0.5), quantile(&lane.sorted, 0.75));
            g.push_str(&svg::rect(pos(q1), yc - 10.0, pos(q3) - pos(q1), 20.0, "box", None));
            g.push_str(&svg::line(pos(q2), yc - 10.0, pos(q2), yc + 10.0, "median"));
        }
        for (j, (case, v)) in lane.values.iter().enumerate() {
            if v.is_nan() {
                continue;
            }
            let tip = format!("{case}: {}", val(*v, m.unit()));
            g.push_str(&svg::dot(pos(*v), yc + 7.5 * svg::jitter(j), 2.6, colour, "pt", &tip));
        }
        if let Some(e) = lane.estimate {
            let y = yc + 17.0;
            let tip =
                format!("mean {} ({} CI)", est_ci(e.estimate, e.ci_low, e.ci_high, m.unit()), ctx.level);
            if e.ci_low.is_finite() && e.ci_high.is_finite() {
                g.push_str(&svg::line(pos(e.ci_low), y, pos(e.ci_high), y, "ci"));
                g.push_str(&svg::line(pos(e.ci_low), y - 3.0, pos(e.ci_low), y + 3.0, "ci-end"));
                g.push_str(&svg::line(pos(e.ci_high), y - 3.0, pos(e.ci_high), y + 3.0, "ci-end"));
            }
            if !e.estimate.is_nan() {
                g.push_str(&svg::diamond(pos(e.estimate), y, 4.5, "#1f2328", &tip));
            }
        }
    }
    g.push_str("</svg>");
    let notes: Vec<String> = lanes.iter().map(|l| lane_note(ctx, l, key, st)).collect();
    format!(
        "<figure>\n<figcaption><b>{}</b> · {}</figcaption>\n{g}\n<p \
         class=\"note\">{}</p>\n</figure>\n",
        escape(&ctx.name(m)),
        escape(&st.to_string()),
        notes.join("<br>")
    )
}

/// How many evaluated cases of a model lack the label in both masks, and their (conventional) value.
pub(super) fn both_empty(run: &ModelRun, st: &Structure, key: Metric) -> (usize, f64) {
    let values: Vec<f64> = run
        .evaluation
        .cases
        .iter()
        .filter_map(|c| c.labels.iter().find(|l| l.structure.name == st.name))
        .filter(|l| l.empty_state() == EmptyState::BothEmpty)
        .filter_map(|l| case_value(l, key))
        .filter(|v| !v.is_nan())
        .collect();
    (values.len(), values.first().copied().unwrap_or(f64::NAN))
}

/// The counts under a distribution plot for one model.
pub(super) fn lane_note(ctx: &Ctx<'_>, lane: &Lane<'_>, key: Metric, st: &Structure) -> String {
    let m = key;
    let mut parts = vec![format!("{} cases", lane.values.len())];
    if lane.n_inf > 0 {
        let fate = match ctx.report.options.aggregate.inf_policy {
            InfPolicy::Cap => "capped in the mean",
            InfPolicy::Omit => "left out of the mean",
            InfPolicy::Propagate => "the mean is inf",
        };
        parts.push(format!("{} inf drawn at ∞ ({fate})", lane.n_inf));
    }
    if lane.n_nan > 0 {
        parts.push(format!("{} NaN not drawn", lane.n_nan));
    }
    if lane.both_empty.0 > 0 {
        parts.push(format!(
            "{} both empty (at {} by convention)",
            lane.both_empty.0,
            val(lane.both_empty.1, m.unit())
        ));
    }
    match (lane.estimate, ctx.summary(key, st, lane.model)) {
        (Some(e), _) => parts.push(format!("mean {}", est_ci(e.estimate, e.ci_low, e.ci_high, m.unit()))),
        (None, Some(e)) if e.kind == EstimateKind::Micro => {
            parts.push("micro estimate: see the summary".to_string())
        }
        _ => {}
    }
    let who = if ctx.multi { format!("{}: ", lane.model) } else { String::new() };
    escape(&format!("{who}{}", parts.join(" · ")))
}

/// A name cut to `max` characters with an ellipsis.
pub(super) fn short_name(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        name.to_string()
    } else {
        format!("{}…", name.chars().take(max - 1).collect::<String>())
    }
}
