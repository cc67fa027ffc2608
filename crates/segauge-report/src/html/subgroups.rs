//! The subgroup section: forest plots of the estimates per metadata value.

use super::format::*;
use super::*;

pub(super) fn subgroups_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("subgroups", "Subgroups");
    if ctx.report.subgroups.is_empty() {
        s.push_str("<p>No subgroup estimates (no metadata columns to slice by).</p>\n</section>\n");
        return s;
    }
    s.push_str(&format!(
        "<p class=\"note\">Forest plots: one row per metadata value with the mean and its {} interval; n is \
         the \
         number of values used out of the subgroup's cases. † marks a subgroup of fewer than 10 cases \
         (<code>small_subgroup</code>: the interval is unreliable). The dashed line is the estimate over all \
         cases. \
         Subgroup intervals are not adjusted for multiplicity.</p>\n",
        ctx.level
    ));
    s.push_str(&model_legend(ctx));
    let mut keys = vec![Metric::Dice];
    keys.extend(ctx.hd);
    keys.push(Metric::LesionF1);
    for st in &ctx.structures {
        let present: Vec<Metric> = keys
            .iter()
            .copied()
            .filter(|&k| {
                ctx.report
                    .subgroups
                    .iter()
                    .any(|g| g.estimate.structure.name == st.name && g.estimate.metric == k)
            })
            .collect();
        if present.is_empty() {
            continue;
        }
        s.push_str(&open_structure(ctx, st));
        for key in present {
            s.push_str(&forest_figure(ctx, st, key));
        }
        s.push_str(CLOSE_STRUCTURE);
    }
    s.push_str("</section>\n");
    s
}

/// One row of a forest plot.
pub(super) enum ForestRow<'a> {
    /// A metadata column's name.
    Column(&'a str),
    /// A subgroup estimate; `first` is set on the first model of a value, `stripe` on every other value.
    Value { group: &'a SubgroupEstimate, first: bool, stripe: bool },
}

pub(super) fn forest_figure(ctx: &Ctx<'_>, st: &Structure, key: Metric) -> String {
    let m = key;
    let groups: Vec<&SubgroupEstimate> = ctx
        .report
        .subgroups
        .iter()
        .filter(|g| g.estimate.structure.name == st.name && g.estimate.metric == key)
        .collect();
    let rows = forest_rows(ctx, &groups);
    let overall: Vec<&Estimate> =
        ctx.report.models.iter().filter_map(|r| ctx.summary(key, st, &r.name)).collect();
    let (width, row_h, head) = (800.0, 19.0, 22.0);
    let (x_model, x_n, x0, x1, x_est) = (150.0, 262.0, 280.0, 560.0, 580.0);
    let bottom = head + row_h * rows.len() as f64 + 4.0;
    let height = bottom + 34.0;
    let bounds = groups
        .iter()
        .map(|g| &g.estimate)
        .chain(overall.iter().copied())
        .flat_map(|e| [e.estimate, e.ci_low, e.ci_high]);
    let domain = svg::domain(bounds, false, m.unit() == Unit::Score);
    let scale = Scale::new(domain.0, domain.1, x0, x1);
    let mut g = svg::open(width, height, &format!("Forest plot of {} for {st}", ctx.name(m)));
    g.push_str(&svg::text(8.0, 13.0, "start", "head", "subgroup"));
    if ctx.multi {
        g.push_str(&svg::text(x_model, 13.0, "start", "head", "model"));
    }
    g.push_str(&svg::text(x_n, 13.0, "end", "head", "n / cases"));
    g.push_str(&svg::text(x_est, 13.0, "start", "head", &format!("mean [{} CI]", ctx.level)));
    for (i, row) in rows.iter().enumerate() {
        if matches!(row, ForestRow::Value { stripe: true, .. }) {
            g.push_str(&svg::rect(0.0, head + row_h * i as f64, width, row_h, "stripe", None));
        }
    }
    g.push_str(&svg::x_axis(&scale, bottom, head, 5, &axis_title(ctx, m)));
    for e in overall.iter().filter(|e| e.estimate.is_finite()) {
        let x = scale.at(e.estimate);
        g.push_str(&format!(
            "<line class=\"ref\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{}\"/>",
            svg::c(head - 2.0),
            svg::c(bottom),
            ctx.colour(e.model.as_deref()),
            x = svg::c(x),
        ));
    }
    for (i, row) in rows.iter().enumerate() {
        let y = head + row_h * i as f64 + row_h / 2.0 + 4.0;
        match row {
            ForestRow::Column(col) => g.push_str(&svg::text(8.0, y, "start", "group", &short_name(col, 26))),
            ForestRow::Value { group, first, .. } => {
                g.push_str(&forest_row(ctx, &m, group, *first, &scale, y))
            }
        }
    }
    g.push_str("</svg>");
    let overall_text: Vec<String> = overall
        .iter()
        .map(|e| {
            let who = if ctx.multi {
                format!("{}: ", escape(e.model.as_deref().unwrap_or("")))
            } else {
                String::new()
            };
            format!("{who}{}", escape(&est_ci(e.estimate, e.ci_low, e.ci_high, m.unit())))
        })
        .collect();
    format!(
        "<figure>\n<figcaption><b>{}</b> · {}</figcaption>\n{g}\n\
         <p class=\"note\">All cases (dashed line): {}</p>\n</figure>\n",
        escape(&ctx.name(m)),
        escape(&st.to_string()),
        overall_text.join(" · ")
    )
}

/// The rows of a forest plot: columns in order of appearance, their values in order of appearance, models in
/// input order; stripes alternate per value.
pub(super) fn forest_rows<'a>(ctx: &Ctx<'_>, groups: &[&'a SubgroupEstimate]) -> Vec<ForestRow<'a>> {
    let mut columns: Vec<&str> = Vec::new();
    for g in groups {
        if !columns.contains(&g.column.as_str()) {
            columns.push(&g.column);
        }
    }
    let mut rows = Vec::new();
    let mut stripe = false;
    for col in columns {
        rows.push(ForestRow::Column(col));
        let mut values: Vec<&str> = Vec::new();
        for g in groups.iter().filter(|g| g.column == col) {
            if !values.contains(&g.value.as_str()) {
                values.push(&g.value);
            }
        }
        for v in values {
            let mut of_value: Vec<&SubgroupEstimate> =
                groups.iter().copied().filter(|g| g.column == col && g.value == v).collect();
            of_value.sort_by_key(|g| ctx.model_index(g.estimate.model.as_deref()));
            for (i, g) in of_value.into_iter().enumerate() {
                rows.push(ForestRow::Value { group: g, first: i == 0, stripe });
            }
            stripe = !stripe;
        }
    }
    rows
}

/// One subgroup estimate of a forest plot: value (on the first model's row), model, n, whisker, diamond,
/// text.
pub(super) fn forest_row(
    ctx: &Ctx<'_>,
    m: &Metric,
    group: &SubgroupEstimate,
    first: bool,
    scale: &Scale,
    y: f64,
) -> String {
    let (x_model, x_n, x_est) = (150.0, 262.0, 580.0);
    let e = &group.estimate;
    let small = e.flags.contains(&"small_subgroup");
    let mut g = String::new();
    if first {
        let text = format!("{}{}", short_name(&group.value, 20), if small { " †" } else { "" });
        g.push_str(&svg::text(20.0, y, "start", if small { "warn" } else { "" }, &text));
    }
    if ctx.multi {
        g.push_str(&svg::text(
            x_model,
            y,
            "start",
            "small",
            &short_name(e.model.as_deref().unwrap_or(""), 16),
        ));
    }
    g.push_str(&svg::text(x_n, y, "end", "", &format!("{} / {}", e.n, e.n_cases)));
    let colour = ctx.colour(e.model.as_deref());
    let yc = y - 4.0;
    if e.ci_low.is_finite() && e.ci_high.is_finite() {
        g.push_str(&format!(
            "<line x1=\"{}\" y1=\"{yc}\" x2=\"{}\" y2=\"{yc}\" stroke=\"{colour}\" stroke-width=\"1.6\"/>",
            svg::c(scale.at(e.ci_low)),
            svg::c(scale.at(e.ci_high)),
            yc = svg::c(yc),
        ));
    }
    let text = est_ci(e.estimate, e.ci_low, e.ci_high, m.unit());
    if e.estimate.is_finite() {
        let tip = format!("{} = {}: {text} (n {})", group.column, group.value, e.n);
        g.push_str(&svg::diamond(scale.at(e.estimate), yc, 5.0, colour, &tip));
    }
    g.push_str(&svg::text(x_est, y, "start", "", &text));
    g
}
