//! The worst-cases section: the cases with the lowest Dice and the highest HD_p, with their metadata.

use super::format::*;
use super::*;

pub(super) fn worst_cases_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("worst-cases", "Worst cases");
    s.push_str(&format!(
        "<p class=\"note\">Per label, the {WORST_CASES} evaluated cases with the lowest Dice and the \
         {WORST_CASES} with \
         the highest {} (infinite first), with their metadata.</p>\n",
        ctx.hd.map_or("HD_p".to_string(), |k| ctx.name(k))
    ));
    let mut any = false;
    for st in &ctx.structures {
        let mut block = String::new();
        for run in &ctx.report.models {
            let rows: Vec<(&str, &LabelResult)> = run
                .evaluation
                .cases
                .iter()
                .filter_map(|c| {
                    c.labels.iter().find(|l| l.structure.name == st.name).map(|l| (c.case.as_str(), l))
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            if ctx.multi {
                block.push_str(&format!(
                    "<h4>{}{}</h4>\n",
                    swatch(ctx.colour(Some(&run.name))),
                    escape(&run.name)
                ));
            }
            block.push_str("<div class=\"cols\">\n");
            let mut by_dice = rows.clone();
            by_dice.sort_by(|a, b| nan_last(a.1.dice(), b.1.dice()).then_with(|| a.0.cmp(b.0)));
            block.push_str(&worst_table(ctx, "Lowest Dice", &by_dice));
            if let Some(hd) = ctx.hd {
                let hd_of = |l: &LabelResult| l.surface.as_ref().map_or(f64::NAN, |s| s.hd_percentile);
                let mut by_hd: Vec<(&str, &LabelResult)> =
                    rows.iter().copied().filter(|r| r.1.surface.is_some()).collect();
                by_hd.sort_by(|a, b| nan_last(-hd_of(a.1), -hd_of(b.1)).then_with(|| a.0.cmp(b.0)));
                if !by_hd.is_empty() {
                    block.push_str(&worst_table(ctx, &format!("Highest {}", ctx.name(hd)), &by_hd));
                }
            }
            block.push_str("</div>\n");
        }
        if !block.is_empty() {
            any = true;
            s.push_str(&format!("{}{block}{CLOSE_STRUCTURE}", open_structure(ctx, st)));
        }
    }
    if !any {
        s.push_str("<p>No evaluated case.</p>\n");
    }
    s.push_str("</section>\n");
    s
}

/// Ascending order with NaN after every number.
pub(super) fn nan_last(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        (false, false) => a.total_cmp(&b),
    }
}

pub(super) fn worst_table(ctx: &Ctx<'_>, caption: &str, rows: &[(&str, &LabelResult)]) -> String {
    let columns = ctx.metadata_columns();
    let hd_name = ctx.hd.map(|k| ctx.name(k));
    let mut s =
        format!("<table class=\"data\"><caption>{}</caption><thead><tr><th>case</th>", escape(caption));
    for c in &columns {
        s.push_str(&format!("<th>{}</th>", escape(c)));
    }
    s.push_str("<th class=\"num\">Dice</th>");
    if let Some(name) = &hd_name {
        s.push_str(&format!("<th class=\"num\">{}</th>", escape(name)));
    }
    s.push_str("<th>empty state</th></tr></thead><tbody>\n");
    let empty = BTreeMap::new();
    for (case, l) in rows.iter().take(WORST_CASES) {
        let meta = ctx.report.metadata.get(*case).unwrap_or(&empty);
        s.push_str(&format!("<tr><td class=\"mono\">{}</td>", escape(case)));
        for c in &columns {
            s.push_str(&format!("<td>{}</td>", meta.get(*c).map_or("—".to_string(), |v| escape(v))));
        }
        s.push_str(&format!("<td class=\"num\">{}</td>", val(l.dice(), Unit::Score)));
        if hd_name.is_some() {
            let hd = l.surface.as_ref().map_or(f64::NAN, |s| s.hd_percentile);
            s.push_str(&format!("<td class=\"num\">{}</td>", val(hd, Unit::Mm)));
        }
        let state = l.empty_state().as_str();
        let state = if state == "none" { "—".to_string() } else { tag(state, state != "both_empty") };
        s.push_str(&format!("<td>{state}</td></tr>\n"));
    }
    s.push_str("</tbody></table>\n");
    s
}
