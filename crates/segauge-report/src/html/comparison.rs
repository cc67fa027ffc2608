//! The comparison of several models: paired differences (table and plot) and ranking stability.

use super::format::*;
use super::*;

pub(super) fn comparison_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("comparison", "Paired comparison");
    if ctx.report.paired.is_empty() {
        s.push_str("<p>No paired comparison.</p>\n</section>\n");
        return s;
    }
    s.push_str(&format!(
        "<p class=\"note\">Differences A − B on the cases both models evaluated (after the inf policy; cases \
         with a \
         non-finite difference are dropped and counted). Mean difference with its paired bootstrap {} \
         interval, \
         two-sided Wilcoxon signed-rank p, and Holm-adjusted p over every comparison of this report. \
         <i>Favours</i> names the better model when the interval excludes 0 (higher is better for scores, \
         lower for \
         distances). Bold: Holm p &lt; 0.05.</p>\n",
        ctx.level
    ));
    s.push_str(&format!(
        "<table class=\"data\"><thead><tr><th>metric</th><th>structure</th><th>A vs B</th>\
         <th class=\"num\">n</th><th class=\"num\">dropped</th><th class=\"num\">mean A − B</th>\
         <th class=\"num\">{} CI</th><th class=\"num\">Wilcoxon p</th><th class=\"num\">Holm p</th>\
         <th>favours</th></tr></thead><tbody>\n",
        ctx.level
    ));
    for p in &ctx.report.paired {
        s.push_str(&comparison_row(ctx, p));
    }
    s.push_str("</tbody></table>\n");
    for st in &ctx.structures {
        let figures: String =
            [Unit::Score, Unit::Mm].into_iter().map(|unit| differences_figure(ctx, st, unit)).collect();
        if !figures.is_empty() {
            s.push_str(&format!(
                "{}<div class=\"grid\">\n{figures}</div>\n{CLOSE_STRUCTURE}",
                open_structure(ctx, st)
            ));
        }
    }
    s.push_str("</section>\n");
    s
}

/// The paired differences of one label whose metrics share a unit: one row per metric and pair, the mean
/// difference as a diamond with its interval as a bar, on one axis with a dashed line at 0 (no difference).
pub(super) fn differences_figure(ctx: &Ctx<'_>, st: &Structure, unit: Unit) -> String {
    let rows: Vec<&PairedComparison> =
        ctx.report.paired.iter().filter(|p| p.structure.name == st.name && p.metric.unit() == unit).collect();
    if rows.is_empty() {
        return String::new();
    }
    let pairs = rows.iter().map(|p| (&p.model_a, &p.model_b)).collect::<BTreeSet<_>>().len();
    let (width, row_h, head) = (560.0, 20.0, 8.0);
    let (x0, x1) = (if pairs > 1 { 200.0 } else { 96.0 }, width - 20.0);
    let bottom = head + row_h * rows.len() as f64 + 4.0;
    let height = bottom + 34.0;
    let bounds = rows.iter().flat_map(|p| [p.mean_diff, p.ci_low, p.ci_high]);
    let domain = svg::domain(bounds, true, false);
    let scale = Scale::new(domain.0, domain.1, x0, x1);
    let what = if unit == Unit::Mm { "distances" } else { "scores" };
    let mut g = svg::open(width, height, &format!("Paired differences of the {what} of {st}"));
    let title = match unit.symbol() {
        "" => "mean difference A − B".to_string(),
        symbol => format!("mean difference A − B ({symbol})"),
    };
    g.push_str(&svg::x_axis(&scale, bottom, head, 5, &title));
    let zero = scale.at(0.0);
    g.push_str(&svg::line(zero, head - 2.0, zero, bottom, "zero"));
    for (i, p) in rows.iter().enumerate() {
        let y = head + row_h * i as f64 + row_h / 2.0;
        let name = if pairs > 1 {
            format!(
                "{} · {} − {}",
                ctx.name(p.metric),
                short_name(&p.model_a, 12),
                short_name(&p.model_b, 12)
            )
        } else {
            ctx.name(p.metric)
        };
        g.push_str(&svg::text(8.0, y + 4.0, "start", "", &name));
        if p.ci_low.is_finite() && p.ci_high.is_finite() {
            g.push_str(&svg::line(scale.at(p.ci_low), y, scale.at(p.ci_high), y, "ci"));
            g.push_str(&svg::line(scale.at(p.ci_low), y - 3.0, scale.at(p.ci_low), y + 3.0, "ci-end"));
            g.push_str(&svg::line(scale.at(p.ci_high), y - 3.0, scale.at(p.ci_high), y + 3.0, "ci-end"));
        }
        if p.mean_diff.is_finite() {
            let tip = format!(
                "{} − {}: {} ({} CI), Holm p {}",
                p.model_a,
                p.model_b,
                est_ci(p.mean_diff, p.ci_low, p.ci_high, unit),
                ctx.level,
                p_value(p.p_holm)
            );
            let colour = if p.p_holm < 0.05 { "#1f2328" } else { "#8c959f" };
            g.push_str(&svg::diamond(scale.at(p.mean_diff), y, 4.5, colour, &tip));
        }
    }
    g.push_str("</svg>");
    let models = if pairs > 1 {
        "each row names its pair".to_string()
    } else {
        format!("A = {}, B = {}", escape(&rows[0].model_a), escape(&rows[0].model_b))
    };
    let better = if unit == Unit::Mm { "left of 0 favours A" } else { "right of 0 favours A" };
    format!(
        "<figure>\n<figcaption><b>Paired differences</b> · {} · {what}</figcaption>\n{g}\n<p \
         class=\"note\">Mean A − B over the cases both evaluated, with its {} paired bootstrap interval ({models}); \
         {better}; a dark diamond: Holm p &lt; 0.05.</p>\n</figure>\n",
        escape(&st.to_string()),
        ctx.level
    )
}

pub(super) fn comparison_row(ctx: &Ctx<'_>, p: &PairedComparison) -> String {
    let m = p.metric;
    let favours = match (m.better(), p.ci_low > 0.0, p.ci_high < 0.0) {
        (Better::Higher, true, _) | (Better::Lower, _, true) => escape(&p.model_a),
        (Better::Higher, _, true) | (Better::Lower, true, _) => escape(&p.model_b),
        _ => "—".to_string(),
    };
    let sig = if p.p_holm < 0.05 { " sig" } else { "" };
    format!(
        "<tr><td class=\"metric\">{}</td><td class=\"num\">{}</td><td>{} vs {}</td><td class=\"num\">{}</td>\
         <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
         <td class=\"num{sig}\">{}</td><td>{favours}</td></tr>\n",
        escape(&ctx.name(m)),
        escape(&p.structure.to_string()),
        escape(&p.model_a),
        escape(&p.model_b),
        p.n,
        p.n_dropped,
        val(p.mean_diff, m.unit()),
        interval(p.ci_low, p.ci_high, m.unit()),
        p_value(p.p_value),
        p_value(p.p_holm)
    )
}

pub(super) fn ranking_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("ranking", "Ranking stability");
    if ctx.report.ranking.is_empty() {
        s.push_str("<p>No ranking.</p>\n</section>\n");
        return s;
    }
    s.push_str(
        "<p class=\"note\">Each bar shows how often a model took each rank over the bootstrap replicates \
         (cases \
         resampled, models ranked again); rank 1 is darkest. P(rank 1) is the share of replicates it ranked \
         first, a tie for first shared equally (k tied models get 1/k each, so the shares add up to 1); \
         the rank interval is the 2.5–97.5 % range of its bootstrap ranks. Kendall τ<sub>b</sub> compares \
         every replicate's \
         ranking with the ranking on all cases (1: identical).</p>\n",
    );
    s.push_str("<div class=\"grid\">\n");
    for r in &ctx.report.ranking {
        s.push_str(&ranking_figure(ctx, r));
    }
    s.push_str("</div>\n</section>\n");
    s
}

/// The colour of rank `r` (0-based) of `k`: dark blue for the first, lighter after.
pub(super) fn rank_colour(r: usize, k: usize) -> String {
    let t = if k > 1 { r as f64 / (k - 1) as f64 } else { 0.0 };
    format!("hsl(210 42% {:.0}%)", 30.0 + 52.0 * t)
}

pub(super) fn ranking_figure(ctx: &Ctx<'_>, r: &Ranking) -> String {
    let m = r.metric;
    let mut models: Vec<_> = r.models.iter().collect();
    models.sort_by_key(|mr| (mr.rank, ctx.model_index(Some(&mr.model))));
    let k = models.iter().map(|mr| mr.rank_counts.len()).max().unwrap_or(0);
    let (width, row_h, top) = (560.0, 26.0, 22.0);
    let (x0, x1) = (118.0, 330.0);
    let height = top + row_h * models.len() as f64 + 8.0;
    let mut g =
        svg::open(width, height, &format!("Rank distribution of {} for {}", ctx.name(m), r.structure));
    g.push_str(&svg::text(x0, 12.0, "start", "head", "bootstrap ranks"));
    g.push_str(&svg::text(x1 + 10.0, 12.0, "start", "head", "P(rank 1)"));
    g.push_str(&svg::text(width - 4.0, 12.0, "end", "head", "median rank [95 % range]"));
    for (i, mr) in models.iter().enumerate() {
        let y = top + row_h * i as f64;
        let total: u32 = mr.rank_counts.iter().sum();
        g.push_str(&svg::text(
            x0 - 8.0,
            y + 13.0,
            "end",
            "",
            &format!("{}. {}", mr.rank, short_name(&mr.model, 14)),
        ));
        let mut x = x0;
        for (rank, &count) in mr.rank_counts.iter().enumerate() {
            if total == 0 || count == 0 {
                continue;
            }
            let w = (x1 - x0) * f64::from(count) / f64::from(total);
            let tip = format!("{}: rank {} in {count} of {total} replicates", mr.model, rank + 1);
            g.push_str(&svg::rect_titled(x, y + 3.0, w, 14.0, &rank_colour(rank, k), &tip));
            x += w;
        }
        if total == 0 {
            g.push_str(&svg::rect(x0, y + 3.0, x1 - x0, 14.0, "track", None));
        }
        g.push_str(&svg::text(x1 + 10.0, y + 14.0, "start", "", &num(mr.p_first, Unit::Score)));
        let range = format!(
            "{} [{}, {}]",
            format_number(mr.median_rank),
            format_number(mr.rank_low),
            format_number(mr.rank_high)
        );
        g.push_str(&svg::text(width - 4.0, y + 14.0, "end", "", &range));
    }
    g.push_str("</svg>");
    let legend: String = (0..k)
        .map(|rank| format!("<span class=\"item\">{}rank {}</span>", swatch(&rank_colour(rank, k)), rank + 1))
        .collect();
    format!(
        "<figure>\n<figcaption><b>{}</b> · {} · {} cases · Kendall τ<sub>b</sub> median {} (IQR {} to \
         {})</figcaption>\n{g}\n\
         <p class=\"legend\">{legend}</p>\n</figure>\n",
        escape(&ctx.name(m)),
        escape(&r.structure.to_string()),
        r.n,
        num(r.tau_median, Unit::Score),
        num(r.tau_q1, Unit::Score),
        num(r.tau_q3, Unit::Score)
    )
}
