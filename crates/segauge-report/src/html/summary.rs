//! The summary section: every estimate with its interval and counts, per label.

use super::format::*;
use super::*;

pub(super) fn summary_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("summary", "Summary");
    s.push_str(&format!(
        "<p class=\"note\">Mean of per-case values (micro: ratio of case totals) with its {} bootstrap \
         interval. \
         <i>n</i> is the number of values used after the inf/NaN policy, out of the cases evaluated; failed \
         cases \
         are in no estimate. <i>inf</i>: infinite per-case values (one mask empty), <i>capped</i>: of those \
         replaced \
         by the cap; <i>NaN</i>: undefined values left out; <i>both empty</i>: cases without the label in \
         either \
         mask.</p>\n",
        ctx.level
    ));
    if ctx.report.summary.is_empty() {
        s.push_str("<p>No estimates.</p>\n</section>\n");
        return s;
    }
    let order: Vec<Metric> = ctx.report.summary.iter().fold(Vec::new(), |mut acc, e| {
        if !acc.contains(&e.metric) {
            acc.push(e.metric);
        }
        acc
    });
    for st in &ctx.structures {
        let mut rows: Vec<&Estimate> =
            ctx.report.summary.iter().filter(|e| e.structure.name == st.name).collect();
        if rows.is_empty() {
            continue;
        }
        rows.sort_by_key(|e| {
            (
                order.iter().position(|m| *m == e.metric).unwrap_or(usize::MAX),
                ctx.model_index(e.model.as_deref()),
            )
        });
        s.push_str(&open_structure(ctx, st));
        s.push_str(&summary_table(ctx, &rows));
        s.push_str(CLOSE_STRUCTURE);
    }
    s.push_str("</section>\n");
    s
}

pub(super) fn summary_table(ctx: &Ctx<'_>, rows: &[&Estimate]) -> String {
    let model_head = if ctx.multi { "<th>model</th>" } else { "" };
    let mut s = format!(
        "<table class=\"data summary\"><thead><tr><th>metric</th>{model_head}<th class=\"num\">estimate</th>\
         <th class=\"num\">{} CI</th><th class=\"num\">n / cases</th><th class=\"num\">failed</th>\
         <th class=\"num\">inf</th><th class=\"num\">capped</th><th class=\"num\">NaN</th>\
         <th class=\"num\">both empty</th><th>flags</th></tr></thead><tbody>\n",
        ctx.level
    );
    let mut previous = None;
    for e in rows {
        let m = e.metric;
        let kind =
            if e.kind == EstimateKind::Micro { format!(" {}", tag("micro", false)) } else { String::new() };
        let mut flags: Vec<String> = e.flags.iter().map(|f| tag(f, true)).collect();
        if e.method != ctx.report.options.aggregate.method {
            flags.push(tag(&format!("interval: {}", method_name(e.method)), false));
        }
        let continued = Some(e.metric) == previous;
        let group = if ctx.multi && !continued && previous.is_some() { " class=\"group-start\"" } else { "" };
        previous = Some(e.metric);
        let name = if continued { String::new() } else { format!("{}{kind}", escape(&ctx.name(m))) };
        let model = if ctx.multi {
            let name = e.model.as_deref().unwrap_or("");
            format!("<td class=\"model\">{}{}</td>", swatch(ctx.colour(e.model.as_deref())), escape(name))
        } else {
            String::new()
        };
        s.push_str(&format!(
            "<tr{group}><td class=\"metric\">{name}</td>{model}<td class=\"num\">{}</td><td \
             class=\"num\">{}</td>\
             <td class=\"num\">{} / {}</td>{}{}{}{}{}<td>{}</td></tr>\n",
            val(e.estimate, m.unit()),
            interval(e.ci_low, e.ci_high, m.unit()),
            e.n,
            e.n_cases,
            count_cell(e.n_failed),
            count_cell(e.n_inf),
            count_cell(e.n_capped),
            count_cell(e.n_nan),
            count_cell(e.n_both_empty),
            flags.join(" ")
        ));
    }
    s.push_str("</tbody></table>\n");
    s
}
