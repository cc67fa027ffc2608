//! The failures section: every case that could not be evaluated, with its reason.

use super::*;

pub(super) fn failures_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("failures", "Failures");
    s.push_str(
        "<p>Failed cases are not in any estimate; the summary states, for every metric, the number of values \
         used (n), the cases evaluated and the cases that failed.</p>\n",
    );
    let n: usize = ctx.report.models.iter().map(|m| m.evaluation.failures.len()).sum();
    let skipped: usize = ctx.report.models.iter().map(|m| m.evaluation.not_evaluated.len()).sum();
    if skipped > 0 {
        s.push_str(&format!(
            "<p><b>{skipped} ground truths were not evaluated</b>: they have no prediction, and only predicted \
             cases were evaluated (<code>--only-predicted</code>). They are listed below and are in no estimate.</p>\n"
        ));
    }
    if n + skipped == 0 {
        s.push_str("<p><b>No failures</b>: every case was evaluated.</p>\n</section>\n");
        return s;
    }
    let model_head = if ctx.multi { "<th>model</th>" } else { "" };
    s.push_str(&format!(
        "<table class=\"data\"><thead><tr>{model_head}<th>case</th><th>reason</th></tr></thead><tbody>\n"
    ));
    for run in &ctx.report.models {
        for f in run.evaluation.failures.iter().chain(&run.evaluation.not_evaluated) {
            let model = if ctx.multi { format!("<td>{}</td>", escape(&run.name)) } else { String::new() };
            s.push_str(&format!(
                "<tr>{model}<td class=\"mono\">{}</td><td class=\"reason\">{}</td></tr>\n",
                escape(&f.case),
                escape(&f.error)
            ));
        }
    }
    s.push_str("</tbody></table>\n</section>\n");
    s
}
