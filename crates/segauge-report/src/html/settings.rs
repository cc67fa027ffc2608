//! The header (title, counts, navigation) and the settings section: what was computed and how.

use super::format::*;
use super::*;

pub(super) fn header(ctx: &Ctx<'_>) -> String {
    let n_failed: usize = ctx.report.models.iter().map(|m| m.evaluation.failures.len()).sum();
    let skipped: usize = ctx.report.models.iter().map(|m| m.evaluation.not_evaluated.len()).sum();
    let n_failed = if skipped > 0 {
        format!("{n_failed} failed · {skipped} not evaluated")
    } else {
        format!("{n_failed} failed")
    };
    let n = ctx.structures.len();
    let structures = if n <= 12 {
        format!(
            "structures {}",
            escape(&ctx.structures.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "))
        )
    } else {
        format!("{n} structures")
    };
    let models = if ctx.multi {
        format!("{} models: {}", ctx.report.models.len(), escape(&ctx.model_names().join(", ")))
    } else {
        format!("model {}", escape(&ctx.model_names().join(", ")))
    };
    let nav: String = sections(ctx).iter().map(|(id, t)| format!("<a href=\"#{id}\">{t}</a>")).collect();
    format!(
        "<header class=\"title\">\n<h1>Segmentation evaluation report</h1>\n<p>segauge {SEGAUGE_VERSION} · \
         {models} · \
         {} cases · {n_failed} · {structures}</p>\n</header>\n<nav class=\"toc\">{nav}</nav>\n",
        ctx.case_ids().len(),
    )
}

pub(super) fn kv_table(caption: &str, rows: &[(&str, String)]) -> String {
    let mut s = format!("<table class=\"kv\"><caption>{caption}</caption><tbody>\n");
    for (k, v) in rows {
        s.push_str(&format!("<tr><th>{k}</th><td>{v}</td></tr>\n"));
    }
    s.push_str("</tbody></table>\n");
    s
}

pub(super) fn settings_section(ctx: &Ctx<'_>) -> String {
    let r = ctx.report;
    let o = &r.options.aggregate;
    let mut s = open_section("settings", "Settings");
    s.push_str("<div class=\"settings\">\n");
    let n_failed: usize = r.models.iter().map(|m| m.evaluation.failures.len()).sum();
    let columns = if r.subgroup_columns.is_empty() {
        "none".to_string()
    } else {
        escape(&r.subgroup_columns.join(", "))
    };
    s.push_str(&kv_table(
        "Run",
        &[
            ("segauge version", SEGAUGE_VERSION.to_string()),
            ("cases", format!("{} (case ids over all models)", ctx.case_ids().len())),
            ("failures", format!("{n_failed} (over all models; see <a href=\"#failures\">Failures</a>)")),
            (
                "structures",
                escape(&ctx.structures.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")),
            ),
            ("subgroup columns", columns),
        ],
    ));
    s.push_str(&surface_settings(ctx));
    let inf = match o.inf_policy {
        InfPolicy::Cap => match o.hd_cap {
            Some(cap) => format!("cap: +inf distances become {}", val(cap, Unit::Mm)),
            None => "cap: +inf distances become each case's image diagonal".to_string(),
        },
        InfPolicy::Omit => "omit: non-finite values are left out (counted)".to_string(),
        InfPolicy::Propagate => "propagate: a non-finite value makes the mean non-finite".to_string(),
    };
    s.push_str(&kv_table(
        "Aggregation",
        &[
            ("inf policy", inf),
            ("NaN values", "left out of means (counted)".to_string()),
            ("interval", format!("bootstrap {}, {} two-sided", method_name(o.method), ctx.level)),
            ("resamples B", o.resamples.to_string()),
            ("seed", format!("{} (data set <code>{}</code>)", o.seed, escape(&o.dataset))),
            ("resampling unit", "cases (all metrics, labels and models together)".to_string()),
        ],
    ));
    s.push_str(&lesion_settings(ctx));
    s.push_str("</div>\n");
    s.push_str(&models_table(ctx));
    s.push_str("</section>\n");
    s
}

pub(super) fn surface_settings(ctx: &Ctx<'_>) -> String {
    let Some(so) = &ctx.options.surface else {
        return kv_table(
            "Surface distances",
            &[
                ("convention", ctx.options.convention.describe(ctx.options)),
                ("surface", "not computed".to_string()),
            ],
        );
    };
    let rule = match so.percentile_rule {
        PercentileRule::DirectedMax => "directed-max (the larger directed percentile)",
        PercentileRule::Pooled => "pooled (both directions together)",
    };
    let field = ctx.hd.map_or_else(String::new, |m| ctx.report.catalogue.key(m).into_owned());
    let compat = match so.mesh_compat {
        MeshCompat::Exact => "exact",
        MeshCompat::VtkF32 => "vtk-f32",
    };
    kv_table(
        "Surface distances",
        &[
            ("convention", ctx.options.convention.describe(ctx.options)),
            ("surface", format!("{} (vertices: {compat})", so.surface.as_str())),
            (
                "percentile",
                format!(
                    "{} ({field}), {rule}, {} interpolation",
                    format_number(so.percentile),
                    so.interpolation.as_str()
                ),
            ),
            ("tau (NSD, BIoU)", val(so.tau, Unit::Mm)),
            (
                "empty masks",
                match ctx.options.both_empty {
                    BothEmpty::One => {
                        "both empty: Dice = IoU = NSD = BIoU = 1, distances 0 (MeshMetrics); one empty: \
                                       0, distances inf"
                    }
                    BothEmpty::Nan => {
                        "both empty: every metric NaN, left out of means and counted (nnU-Net); one empty: \
                                       0, distances inf"
                    }
                    BothEmpty::DeepMind => {
                        "DeepMind's: both empty: HD, HD_p inf, every other metric NaN; one empty: HD, HD_p inf \
                                       both ways, mean distance inf from the non-empty surface and NaN from the \
                                       empty one, NSD 0"
                    }
                    BothEmpty::Monai => {
                        "MONAI's: both empty: every metric NaN; one empty: distances inf both ways, NSD 0, \
                                       Dice and IoU NaN when the ground truth is empty"
                    }
                }
                .to_string(),
            ),
            (
                "directed distances",
                "pred→GT from the prediction's surface (over-segmentation), GT→pred from the ground truth's \
                 (under-segmentation); from an empty surface NaN (`deepmind`, `monai`: see empty masks)"
                    .to_string(),
            ),
        ],
    )
}

pub(super) fn lesion_settings(ctx: &Ctx<'_>) -> String {
    let Some(lo) = &ctx.options.lesions else {
        return kv_table("Lesion detection", &[("lesions", "not computed".to_string())]);
    };
    let mut rows = vec![
        ("connectivity", lo.connectivity.neighbours().to_string()),
        ("matching rule", lo.rule.as_str().to_string()),
    ];
    if matches!(lo.rule, MatchRule::Iou | MatchRule::Dice) {
        rows.push(("threshold", format!("&gt; {}", format_number(lo.threshold))));
    }
    let edges: Vec<String> = lo.strata_mm.iter().map(|&e| format_number(e)).collect();
    rows.push(("size strata edges", format!("{} mm (equivalent diameter)", edges.join(", "))));
    if lo.min_lesion_voxels > 0 {
        rows.push(("min lesion voxels", lo.min_lesion_voxels.to_string()));
    }
    if lo.rule == MatchRule::Brats2023 {
        rows.push(("BraTS dilation", lo.brats.dilation.to_string()));
        rows.push(("BraTS min GT volume", val(lo.brats.min_gt_volume_mm3, Unit::Mm3)));
        rows.push(("BraTS HD penalty", val(lo.brats.hd_penalty, Unit::Mm)));
    }
    kv_table("Lesion detection", &rows)
}

/// The directory of a model's files, when all its cases share one (else the first case's).
pub(super) fn folder(paths: impl Iterator<Item = std::path::PathBuf>) -> String {
    let dirs: BTreeSet<String> = paths.filter_map(|p| p.parent().map(|d| d.display().to_string())).collect();
    match dirs.len() {
        0 => "—".to_string(),
        1 => format!("<span class=\"mono\">{}</span>", escape(dirs.iter().next().map_or("", String::as_str))),
        n => format!("{n} folders"),
    }
}

pub(super) fn models_table(ctx: &Ctx<'_>) -> String {
    let mut s = String::from(
        "<table class=\"data\"><caption>Models</caption><thead><tr><th>model</th><th>predictions</th>\
         <th>ground truth</th><th class=\"num\">cases evaluated</th><th \
         class=\"num\">failed</th></tr></thead><tbody>\n",
    );
    for m in &ctx.report.models {
        let cases = &m.evaluation.cases;
        s.push_str(&format!(
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td \
             class=\"num\">{}</td></tr>\n",
            if ctx.multi { swatch(ctx.colour(Some(&m.name))) } else { String::new() },
            escape(&m.name),
            folder(cases.iter().map(|c| c.pred.clone())),
            folder(cases.iter().map(|c| c.gt.clone())),
            cases.len(),
            m.evaluation.failures.len()
        ));
    }
    s.push_str("</tbody></table>\n");
    s
}
