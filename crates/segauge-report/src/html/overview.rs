//! The overview: every structure (and model) on one row with its headline metrics and their intervals, coloured
//! as a heat map and sorted worst first, so that a data set of a hundred structures reads at a glance. The same
//! table in the structures' own order follows, folded.

use super::format::*;
use super::*;

/// The overview's metrics, in order, when computed.
const METRICS: [Metric; 5] =
    [Metric::Dice, Metric::HdPercentile, Metric::Assd, Metric::Nsd, Metric::LesionF1];

/// A row of the overview: a structure of a model.
struct Row<'a> {
    structure: &'a Structure,
    model: Option<&'a str>,
    /// The estimate of each of the overview's metrics.
    cells: Vec<Option<&'a Estimate>>,
}

pub(super) fn overview_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("overview", "Overview");
    let metrics: Vec<Metric> =
        METRICS.into_iter().filter(|m| ctx.report.summary.iter().any(|e| e.metric == *m)).collect();
    let mut rows: Vec<Row<'_>> = Vec::new();
    for st in &ctx.structures {
        for run in &ctx.report.models {
            let model = ctx.multi.then_some(run.name.as_str());
            let cells: Vec<Option<&Estimate>> = metrics
                .iter()
                .map(|&m| {
                    ctx.report
                        .summary
                        .iter()
                        .find(|e| e.metric == m && e.structure.name == st.name && e.model.as_deref() == model)
                })
                .collect();
            if cells.iter().any(Option::is_some) {
                rows.push(Row { structure: st, model, cells });
            }
        }
    }
    if rows.is_empty() {
        s.push_str("<p>No estimates.</p>\n</section>\n");
        return s;
    }
    // Distances are coloured against the largest finite mean of their column.
    let scale: Vec<f64> = (0..metrics.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.cells[i].map(|e| e.estimate))
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max)
        })
        .collect();
    let by_dice = |r: &Row<'_>| r.cells.first().copied().flatten().map_or(f64::NAN, |e| e.estimate);
    let mut worst: Vec<&Row<'_>> = rows.iter().collect();
    worst.sort_by(|a, b| {
        let (x, y) = (by_dice(a), by_dice(b));
        // NaN (no Dice) last, then ascending: the worst structure first.
        x.is_nan()
            .cmp(&y.is_nan())
            .then(x.total_cmp(&y))
            .then_with(|| a.structure.name.cmp(&b.structure.name))
    });
    let first = metrics.first().map_or_else(String::new, |&m| ctx.name(m));
    s.push_str(&format!(
        "<p class=\"note\">{} structures{}. Each cell: the mean over the cases with its {} interval; colour from \
         red (worst) to green (best): scores on their 0–1 scale, distances against the largest mean of their \
         column. Rows are sorted by {first}, worst first; <i>both empty</i> counts the cases where the structure \
         is absent from both sides (their conventional values are in the mean). Details per structure are in the \
         sections below, folded when there are more than {FOLD_ABOVE} structures.</p>\n",
        ctx.structures.len(),
        if ctx.multi { format!(", {} models", ctx.report.models.len()) } else { String::new() },
        ctx.level,
    ));
    s.push_str(&table(ctx, &metrics, &worst, &scale));
    let in_order: Vec<&Row<'_>> = rows.iter().collect();
    s.push_str(&format!(
        "<details class=\"structure\"><summary><h3>In structure order</h3></summary>\n{}</details>\n",
        table(ctx, &metrics, &in_order, &scale)
    ));
    s.push_str("</section>\n");
    s
}

fn table(ctx: &Ctx<'_>, metrics: &[Metric], rows: &[&Row<'_>], scale: &[f64]) -> String {
    let model_head = if ctx.multi { "<th>model</th>" } else { "" };
    let heads: String =
        metrics.iter().map(|&m| format!("<th class=\"num\">{}</th>", escape(&axis_title(ctx, m)))).collect();
    let mut s = format!(
        "<table class=\"data overview\"><thead><tr><th>structure</th>{model_head}<th class=\"num\">cases</th>\
         <th class=\"num\">both empty</th>{heads}</tr></thead><tbody>\n"
    );
    for r in rows {
        let e0 = r.cells.iter().flatten().next();
        let (n, both) = e0.map_or((0, 0), |e| (e.n_cases, e.n_both_empty));
        let absent = n > 0 && both == n;
        let model = match r.model {
            Some(m) => format!("<td class=\"model\">{}{}</td>", swatch(ctx.colour(Some(m))), escape(m)),
            None => String::new(),
        };
        let name = if absent {
            format!("{} {}", escape(&r.structure.to_string()), tag("absent from every case", true))
        } else {
            escape(&r.structure.to_string())
        };
        s.push_str(&format!(
            "<tr><td class=\"metric\">{name}</td>{model}<td class=\"num\">{n}</td><td class=\"num\">{both}</td>"
        ));
        for (i, (&m, e)) in metrics.iter().zip(&r.cells).enumerate() {
            match e {
                None => s.push_str("<td class=\"num muted\">—</td>"),
                Some(e) => s.push_str(&format!(
                    "<td class=\"num heat\" style=\"background:{}\">{}<br><span class=\"ci\">{}</span></td>",
                    heat(m, e.estimate, scale[i]),
                    val(e.estimate, m.unit()),
                    interval(e.ci_low, e.ci_high, m.unit())
                )),
            }
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table>\n");
    s
}

/// A light background from red (worst) to green (best): scores on [0, 1], lower-is-better values against
/// `largest`; grey when the value is not finite.
fn heat(m: Metric, v: f64, largest: f64) -> String {
    if !v.is_finite() {
        return "#eeeeee".into();
    }
    let goodness = match m.better() {
        Better::Higher => v.clamp(0.0, 1.0),
        _ if largest > 0.0 => 1.0 - (v / largest).clamp(0.0, 1.0),
        _ => 1.0,
    };
    format!("hsl({:.0}, 70%, 86%)", 120.0 * goodness)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heat_runs_from_red_to_green_in_each_direction() {
        assert_eq!(heat(Metric::Dice, 1.0, 0.0), "hsl(120, 70%, 86%)");
        assert_eq!(heat(Metric::Dice, 0.0, 0.0), "hsl(0, 70%, 86%)");
        assert_eq!(heat(Metric::Hd, 0.0, 10.0), "hsl(120, 70%, 86%)");
        assert_eq!(heat(Metric::Hd, 10.0, 10.0), "hsl(0, 70%, 86%)");
        assert_eq!(heat(Metric::Hd, f64::INFINITY, 10.0), "#eeeeee");
    }
}
