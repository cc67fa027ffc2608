//! The lesion detection section: micro scores and per-size-stratum recall and precision.

use super::format::*;
use super::*;

pub(super) fn detection_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("detection", "Lesion detection");
    let micro: Vec<&Estimate> = ctx.report.summary.iter().filter(|e| e.metric.is_lesion_field()).collect();
    if ctx.report.strata.is_empty() && micro.is_empty() {
        s.push_str("<p>Lesion detection was not computed.</p>\n</section>\n");
        return s;
    }
    s.push_str(
        "<p class=\"note\">Lesions are summed over the evaluated cases. Recall is per ground-truth size \
         stratum \
         (detected / GT lesions), precision per predicted size stratum (matched / predicted lesions); FP are \
         predicted lesions left unmatched. Size is the equivalent diameter of the lesion. Precision, recall \
         and F1 \
         over all sizes are micro: ratios of case totals, with their bootstrap interval.</p>\n",
    );
    for st in &ctx.structures {
        let strata: Vec<&StratumTotals> =
            ctx.report.strata.iter().filter(|t| t.structure.name == st.name).collect();
        let mut scores: Vec<&Estimate> =
            micro.iter().copied().filter(|e| e.structure.name == st.name).collect();
        if strata.is_empty() && scores.is_empty() {
            continue;
        }
        s.push_str(&open_structure(ctx, st));
        scores.sort_by_key(|e| (ctx.model_index(e.model.as_deref()), ctx.report.catalogue.key(e.metric)));
        if !scores.is_empty() {
            s.push_str(&micro_table(ctx, &scores));
        }
        for run in &ctx.report.models {
            let of_model: Vec<&StratumTotals> =
                strata.iter().copied().filter(|t| t.model.as_deref().is_none_or(|m| m == run.name)).collect();
            if of_model.is_empty() {
                continue;
            }
            if ctx.multi {
                s.push_str(&format!(
                    "<h4>{}{}</h4>\n",
                    swatch(ctx.colour(Some(&run.name))),
                    escape(&run.name)
                ));
            }
            s.push_str("<div class=\"cols\">\n");
            s.push_str(&strata_table(&of_model));
            s.push_str(&strata_bars(ctx, st, &run.name, &of_model));
            s.push_str("</div>\n");
        }
        s.push_str(CLOSE_STRUCTURE);
    }
    s.push_str("</section>\n");
    s
}

pub(super) fn micro_table(ctx: &Ctx<'_>, scores: &[&Estimate]) -> String {
    let model_head = if ctx.multi { "<th>model</th>" } else { "" };
    let mut s = format!(
        "<table class=\"data\"><thead><tr>{model_head}<th>score</th><th class=\"num\">estimate</th>\
         <th class=\"num\">{} CI</th><th class=\"num\">cases</th><th>flags</th></tr></thead><tbody>\n",
        ctx.level
    );
    for e in scores {
        let m = e.metric;
        let model = if ctx.multi {
            format!(
                "<td>{}{}</td>",
                swatch(ctx.colour(e.model.as_deref())),
                escape(e.model.as_deref().unwrap_or(""))
            )
        } else {
            String::new()
        };
        let kind = if e.kind == EstimateKind::Micro { " (micro)" } else { "" };
        let flags: Vec<String> = e.flags.iter().map(|f| tag(f, true)).collect();
        s.push_str(&format!(
            "<tr>{model}<td class=\"metric\">{}{kind}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td></tr>\n",
            escape(&ctx.name(m)),
            val(e.estimate, m.unit()),
            interval(e.ci_low, e.ci_high, m.unit()),
            e.n_cases,
            flags.join(" ")
        ));
    }
    s.push_str("</tbody></table>\n");
    s
}

/// `< 3 mm`, `[3, 10) mm`, `≥ 10 mm` (plain text).
pub(super) fn stratum_name(t: &StratumTotals) -> String {
    let (lo, hi) = (format_number(t.counts.lo_mm), format_number(t.counts.hi_mm));
    if t.counts.hi_mm == f64::INFINITY {
        format!("≥ {lo} mm")
    } else if t.counts.lo_mm <= 0.0 {
        format!("< {hi} mm")
    } else {
        format!("[{lo}, {hi}) mm")
    }
}

pub(super) fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { f64::NAN } else { a as f64 / b as f64 }
}

pub(super) fn strata_table(strata: &[&StratumTotals]) -> String {
    let mut s = String::from(
        "<table class=\"data\"><thead><tr><th>size</th><th class=\"num\">GT lesions</th>\
         <th class=\"num\">detected</th><th class=\"num\">recall</th><th class=\"num\">predicted</th>\
         <th class=\"num\">matched</th><th class=\"num\">precision</th><th \
         class=\"num\">FP</th></tr></thead><tbody>\n",
    );
    let (mut gt, mut det, mut pred, mut matched) = (0, 0, 0, 0);
    for t in strata {
        s.push_str(&stratum_row(
            &escape(&stratum_name(t)),
            t.counts.gt,
            t.counts.gt_detected,
            t.counts.pred,
            t.counts.pred_matched,
            "",
        ));
        (gt, det, pred, matched) = (
            gt + t.counts.gt,
            det + t.counts.gt_detected,
            pred + t.counts.pred,
            matched + t.counts.pred_matched,
        );
    }
    s.push_str(&stratum_row("all sizes", gt, det, pred, matched, " class=\"group-start\""));
    s.push_str("</tbody></table>\n");
    s
}

pub(super) fn stratum_row(name: &str, gt: u64, det: u64, pred: u64, matched: u64, class: &str) -> String {
    format!(
        "<tr{class}><td>{name}</td><td class=\"num\">{gt}</td><td class=\"num\">{det}</td><td \
         class=\"num\">{}</td>\
         <td class=\"num\">{pred}</td><td class=\"num\">{matched}</td><td class=\"num\">{}</td>\
         <td class=\"num\">{}</td></tr>\n",
        num(ratio(det, gt), Unit::Score),
        num(ratio(matched, pred), Unit::Score),
        pred.saturating_sub(matched)
    )
}

pub(super) fn strata_bars(ctx: &Ctx<'_>, st: &Structure, model: &str, strata: &[&StratumTotals]) -> String {
    let (width, row_h, top) = (400.0, 40.0, 18.0);
    let (x0, x1) = (84.0, 276.0);
    let height = top + row_h * strata.len() as f64 + 30.0;
    let scale = Scale::new(0.0, 1.0, x0, x1);
    let colour = ctx.colour(Some(model));
    let mut g = svg::open(width, height, &format!("Lesion recall and precision by size, {st}"));
    g.push_str(&svg::text(width - 4.0, 11.0, "end", "head", "FP"));
    let axis_y = top + row_h * strata.len() as f64;
    g.push_str(&svg::x_axis(&scale, axis_y, top - 4.0, 5, ""));
    for (i, t) in strata.iter().enumerate() {
        let y = top + row_h * i as f64 + 4.0;
        g.push_str(&svg::text(x0 - 8.0, y + 19.0, "end", "", &stratum_name(t)));
        let bars = [
            (
                "recall",
                ratio(t.counts.gt_detected, t.counts.gt),
                format!("{}/{} GT detected", t.counts.gt_detected, t.counts.gt),
                1.0,
            ),
            (
                "precision",
                ratio(t.counts.pred_matched, t.counts.pred),
                format!("{}/{} predicted matched", t.counts.pred_matched, t.counts.pred),
                0.55,
            ),
        ];
        for (j, (name, v, detail, opacity)) in bars.iter().enumerate() {
            let yb = y + 15.0 * j as f64;
            g.push_str(&svg::rect(x0, yb, x1 - x0, 12.0, "track", None));
            if v.is_finite() {
                g.push_str(&format!(
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"12\" fill=\"{colour}\" \
                     fill-opacity=\"{opacity}\">\
                     <title>{name} {}: {}</title></rect>",
                    svg::c(x0),
                    svg::c(yb),
                    svg::c(scale.at(*v) - x0),
                    num(*v, Unit::Score),
                    escape(detail)
                ));
            }
            let text =
                format!("{name} {}", if v.is_finite() { num(*v, Unit::Score) } else { "n/a".to_string() });
            g.push_str(&svg::text(x1 + 6.0, yb + 10.0, "start", "small", &text));
        }
        g.push_str(&svg::text(
            width - 4.0,
            y + 19.0,
            "end",
            "",
            &t.counts.pred.saturating_sub(t.counts.pred_matched).to_string(),
        ));
    }
    g.push_str("</svg>");
    format!(
        "<figure>{g}<p class=\"note\">Dark: recall per GT stratum; light: precision per predicted \
         stratum.</p></figure>\n"
    )
}
