//! The `segauge` command: `compare` one prediction with its ground truth, `eval` a whole data set, `convert` any
//! input to NIfTI. It parses arguments, calls the library (segauge-eval's one pipeline through the facade) and
//! prints; it computes nothing itself.
//!
//! Exit codes: 0 when everything was evaluated and written; 1 when an input could not be evaluated (`compare`,
//! `convert`) or at least one case failed (`eval`: the other cases are still written, failures are listed in
//! every output); 2 for a usage error (an option out of range, an output that would touch an input) or an output
//! that could not be written.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the command line is where segauge talks to people"
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use segauge::eval::Convention;
use segauge::io::dicom::DicomOptions;
use segauge::io::{Axes, NpyOptions, ReadOptions};
use segauge::lesion::{BratsOptions, Connectivity, LesionOptions, MatchRule};
use segauge::metrics::{
    BothEmpty, MeshCompat, PercentileInterpolation, PercentileRule, Surface, SurfaceOptions,
};
use segauge::report;

#[derive(Parser)]
#[command(
    name = "segauge",
    version,
    about = "Evaluate segmentations against ground truth, and say exactly what was computed"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const COMPARE_EXAMPLES: &str = "Examples:
  segauge compare --pred pred/case_001.nii.gz --gt labels/case_001.nii.gz
  segauge compare --pred p.nii.gz --gt g.nii.gz --labels 1-3 --surface voxel-faces --format json
  segauge compare --pred seg.dcm --gt labels.nii.gz --pred-series ct/ --roi liver=1,spleen=2";

const EVAL_EXAMPLES: &str = "Examples:
  segauge eval --pred preds/ --gt labels/ --report report.html --csv per_case.csv --json results.json
  segauge eval --pred preds/ --gt labels/ --metadata cases.csv --subgroups scanner,site --summary-csv summary.csv
  segauge eval --model nnunet=nnunet_out/ --model monai=monai_out/ --gt labels/ --report compare.html
  segauge eval --pred preds/ --gt labels/ --lesion-rule brats2023 --dilation 3 --min-gt-volume 50";

const MERGE_EXAMPLES: &str = "Examples:
  segauge eval --pred preds/ --gt labels/ --shard 1/3 --partial parts/     (and 2/3, 3/3, anywhere)
  segauge merge parts/ --json results.json --report report.html --metadata cases.csv
  segauge eval --pred preds/ --gt labels/ --shard 2/3 --partial parts/ --resume   (after a preemption)";

const CONVERT_EXAMPLES: &str = "Examples:
  segauge convert seg.dcm seg.nii.gz --series ct_series/
  segauge convert rtstruct.dcm liver.nii.gz --reference ct.nii.gz --roi Liver=1
  segauge convert mask.npy mask.nii.gz --spacing 0.8,0.8,1.5";

#[derive(Subcommand)]
enum Command {
    /// Metrics for one prediction against its ground truth, per label.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare {
        /// Prediction file (.nii, .nii.gz, .npy, or a DICOM-SEG/RTSTRUCT .dcm).
        #[arg(long, help_heading = "Inputs")]
        pred: PathBuf,
        /// Ground-truth file (.nii, .nii.gz, .npy, or a DICOM-SEG/RTSTRUCT .dcm).
        #[arg(long, help_heading = "Inputs")]
        gt: PathBuf,
        /// Image series folder of a DICOM prediction (default: the folder `<case id>/` beside it).
        #[arg(long, help_heading = "Inputs")]
        pred_series: Option<PathBuf>,
        /// Image series folder of a DICOM ground truth (default: the folder `<case id>/` beside it).
        #[arg(long, help_heading = "Inputs")]
        gt_series: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table, help_heading = "Outputs")]
        format: Format,
        #[command(flatten)]
        read: ReadArgs,
        #[command(flatten)]
        metrics: MetricArgs,
    },
    /// Writes any input segauge reads (DICOM-SEG, RTSTRUCT, .npy, NIfTI) as a NIfTI-1 label map.
    #[command(after_help = CONVERT_EXAMPLES)]
    Convert {
        /// The input file.
        input: PathBuf,
        /// The output, `.nii` or `.nii.gz` (never one of the inputs; written whole or not at all).
        output: PathBuf,
        /// Image series folder of a DICOM input (default: the folder `<case id>/` beside it).
        #[arg(long, help_heading = "Inputs")]
        series: Option<PathBuf>,
        /// A volume whose grid an RTSTRUCT without series is rasterised on.
        #[arg(long, help_heading = "Inputs")]
        reference: Option<PathBuf>,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Metrics for every case of a data set (files paired by case id), in parallel, with bootstrap confidence
    /// intervals, subgroups and (for several models) paired comparisons.
    #[command(after_help = EVAL_EXAMPLES)]
    Eval(Box<EvalArgs>),
    /// The outputs of one `eval` from the partial files of its shards (`eval --shard K/N --partial DIR`): every
    /// aggregate, interval, subgroup, comparison and ranking, byte for byte those of a single run; cases that no
    /// shard recorded are listed as failures.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(Box<MergeArgs>),
}

#[derive(Clone, Copy, ValueEnum)]
enum CiArg {
    Bca,
    Percentile,
    Basic,
}

#[derive(Clone, Copy, ValueEnum)]
enum InfArg {
    Cap,
    Omit,
    Propagate,
}

/// The largest `--bootstrap`: far beyond what any interval needs (the Monte Carlo error of a 95 % BCa limit is
/// already negligible at 10⁵), and a bound on the time a typo can cost.
const MAX_RESAMPLES: u64 = 10_000_000;

/// The largest `--dilation`, the library's (BraTS uses 1 or 3; the dilation stops once it no longer grows).
const MAX_DILATION: i64 = segauge::lesion::MAX_DILATION as i64;

/// A finite number accepted by `ok`; `range` says which in the usage error (clap adds the flag).
fn number(text: &str, ok: impl Fn(f64) -> bool, range: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && ok(v) => Ok(v),
        _ => Err(format!("expected a number in {range}")),
    }
}

fn parse_percentile(text: &str) -> Result<f64, String> {
    number(text, |v| v > 0.0 && v <= 100.0, "(0, 100]")
}

fn parse_tolerance_mm(text: &str) -> Result<f64, String> {
    number(text, |v| v >= 0.0, "[0, inf) mm")
}

fn parse_positive_mm(text: &str) -> Result<f64, String> {
    number(text, |v| v > 0.0, "(0, inf) mm")
}

fn parse_volume_mm3(text: &str) -> Result<f64, String> {
    number(text, |v| v >= 0.0, "[0, inf) mm³")
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    number(text, |v| v > 0.0 && v <= 1.0, "(0, 1]")
}

fn parse_match_threshold(text: &str) -> Result<f64, String> {
    number(text, |v| (0.0..1.0).contains(&v), "[0, 1)")
}

fn parse_model(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((name, dir)) if !name.trim().is_empty() && !dir.is_empty() => {
            Ok((name.trim().to_string(), PathBuf::from(dir)))
        }
        _ => Err(format!("{text:?}: expected NAME=DIR")),
    }
}

/// The options of `segauge eval`.
#[derive(Args)]
struct EvalArgs {
    /// Folder of predictions (one model; use `--model` for several).
    #[arg(long, required_unless_present = "model", help_heading = "Inputs")]
    pred: Option<PathBuf>,
    /// A model to evaluate, `NAME=DIR` (repeat for several models against one `--gt`).
    #[arg(long, value_parser = parse_model, conflicts_with = "pred", help_heading = "Inputs")]
    model: Vec<(String, PathBuf)>,
    /// Folder of ground truths.
    #[arg(long, help_heading = "Inputs")]
    gt: PathBuf,
    /// Case metadata: a CSV file with a `case` column and any others (subgroups are sliced by them).
    #[arg(long, help_heading = "Inputs")]
    metadata: Option<PathBuf>,
    /// Where each prediction is under `--pred`, with `{case}` for the case id, e.g. `{case}/{case}_seg.nii.gz`
    /// (MONAI's SaveImage) or `{case}/segmentations` (a folder of masks); default: found recursively.
    #[arg(long, help_heading = "Inputs")]
    pred_pattern: Option<String>,
    /// Where each ground truth is under `--gt`, e.g. `{case}_0000.nii.gz`; default: found recursively.
    #[arg(long, help_heading = "Inputs")]
    gt_pattern: Option<String>,
    /// Evaluate only the ground truths that have a prediction (nnU-Net's `--chill`: one fold against all of
    /// labelsTr); the others are listed as not evaluated, not as failures.
    #[arg(long, help_heading = "Inputs")]
    only_predicted: bool,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    outputs: OutputArgs,
    #[command(flatten)]
    metrics: MetricArgs,
    #[command(flatten)]
    stats: StatArgs,
    /// Evaluate only shard K of N (`2/8`) and record each case, as it finishes, in the partial file of `--partial`
    /// (cases go to shards by size, largest first, each to the shard with the fewest bytes so far); `segauge merge`
    /// turns the partial files into the outputs of one run.
    #[arg(long, value_parser = parse_shard, requires = "partial", conflicts_with_all = ["report", "csv", "json", "summary_csv", "lesion_csv", "metadata", "subgroups"], help_heading = "Sharded runs")]
    shard: Option<segauge::eval::Shard>,
    /// The folder of the partial files (`segauge-shard-K-of-N.jsonl`; created if need be, never inside an input
    /// folder).
    #[arg(long, requires = "shard", help_heading = "Sharded runs")]
    partial: Option<PathBuf>,
    /// Continue the partial file of this shard: cases already recorded are skipped, an incomplete last line is
    /// cut off and its case redone. Without it an existing partial file is refused.
    #[arg(long, requires = "shard", help_heading = "Sharded runs")]
    resume: bool,
    /// Worker threads, 1 to 1024 (default: all cores). Results are identical for any number.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024), help_heading = "Run")]
    threads: Option<u64>,
}

impl EvalArgs {
    /// The models as (name, folder): `--pred` is the model `pred`.
    fn models(&self) -> Vec<(String, PathBuf)> {
        match &self.pred {
            Some(dir) => vec![("pred".to_string(), dir.clone())],
            None => self.model.clone(),
        }
    }
}

/// The output files of `eval` and `merge`.
#[derive(Args)]
struct OutputArgs {
    /// Write the self-contained HTML report to this file.
    #[arg(long, help_heading = "Outputs")]
    report: Option<PathBuf>,
    /// Write one row per case and label (and per failed case and label) to this CSV file.
    #[arg(long, help_heading = "Outputs")]
    csv: Option<PathBuf>,
    /// Write everything (settings, rows, failures, summary, subgroups, comparisons) to this JSON file.
    #[arg(long, help_heading = "Outputs")]
    json: Option<PathBuf>,
    /// Write the aggregates (overall and per subgroup) to this CSV file.
    #[arg(long, help_heading = "Outputs")]
    summary_csv: Option<PathBuf>,
    /// Write one row per lesion (GT and predicted) to this CSV file.
    #[arg(long, help_heading = "Outputs")]
    lesion_csv: Option<PathBuf>,
}

impl OutputArgs {
    /// The output files, in the order they are written, as (flag, path).
    fn list(&self) -> Vec<(&'static str, &Path)> {
        [
            ("--csv", &self.csv),
            ("--summary-csv", &self.summary_csv),
            ("--lesion-csv", &self.lesion_csv),
            ("--json", &self.json),
            ("--report", &self.report),
        ]
        .into_iter()
        .filter_map(|(flag, path)| path.as_deref().map(|p| (flag, p)))
        .collect()
    }
}

/// The options of the aggregates (`eval` and `merge`).
#[derive(Args)]
struct StatArgs {
    /// Bootstrap resamples of the case set (1 to 10,000,000; refused up front when their matrices would not fit
    /// in the memory available).
    #[arg(long, default_value_t = 9999, value_parser = clap::value_parser!(u64).range(1..=MAX_RESAMPLES), help_heading = "Statistics")]
    bootstrap: u64,
    /// Confidence interval method.
    #[arg(long, value_enum, default_value_t = CiArg::Bca, help_heading = "Statistics")]
    ci_method: CiArg,
    /// Master seed of the resampling (the same seed gives the same intervals, on any machine).
    #[arg(long, default_value_t = 0, help_heading = "Statistics")]
    seed: u64,
    /// Non-finite per-case values in aggregates: distances `inf` capped (default), left out, or propagated.
    #[arg(long, value_enum, default_value_t = InfArg::Cap, help_heading = "Statistics")]
    inf_policy: InfArg,
    /// Cap of infinite distances, mm, > 0 (default: each case's image diagonal).
    #[arg(long, value_parser = parse_positive_mm, allow_negative_numbers = true, help_heading = "Statistics")]
    hd_cap: Option<f64>,
    /// Metadata columns to slice by, `col1,col2` (default: every column).
    #[arg(long, value_delimiter = ',', help_heading = "Statistics")]
    subgroups: Option<Vec<String>>,
}

impl StatArgs {
    fn aggregate(&self) -> segauge::AggregateOptions {
        segauge::AggregateOptions {
            resamples: usize::try_from(self.bootstrap).unwrap_or(usize::MAX),
            method: match self.ci_method {
                CiArg::Bca => segauge::stats::CiMethod::Bca,
                CiArg::Percentile => segauge::stats::CiMethod::Percentile,
                CiArg::Basic => segauge::stats::CiMethod::Basic,
            },
            seed: self.seed,
            inf_policy: match self.inf_policy {
                InfArg::Cap => segauge::InfPolicy::Cap,
                InfArg::Omit => segauge::InfPolicy::Omit,
                InfArg::Propagate => segauge::InfPolicy::Propagate,
            },
            hd_cap: self.hd_cap,
            subgroups: self.subgroups.clone(),
            ..Default::default()
        }
    }
}

/// The options of `segauge merge`.
#[derive(Args)]
struct MergeArgs {
    /// Folders holding the partial files (`segauge-shard-K-of-N.jsonl`) of one sharded run.
    #[arg(required = true, help_heading = "Inputs")]
    dirs: Vec<PathBuf>,
    /// Case metadata: a CSV file with a `case` column and any others (subgroups are sliced by them).
    #[arg(long, help_heading = "Inputs")]
    metadata: Option<PathBuf>,
    #[command(flatten)]
    outputs: OutputArgs,
    #[command(flatten)]
    stats: StatArgs,
    /// Worker threads, 1 to 1024 (default: all cores). Results are identical for any number.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024), help_heading = "Run")]
    threads: Option<u64>,
}

fn parse_shard(text: &str) -> Result<segauge::eval::Shard, String> {
    text.parse().map_err(|e: segauge::eval::Error| e.to_string())
}

/// How input files are read (every command).
#[derive(Args)]
struct ReadArgs {
    /// Spacing in mm (`sx,sy,sz`) of .npy files that have no JSON sidecar.
    #[arg(long, value_parser = parse_spacing, help_heading = "Inputs")]
    spacing: Option<[f64; 3]>,
    /// Axis order of .npy arrays without a sidecar `axes` entry: `xyz` (nibabel) or `zyx` (SimpleITK).
    #[arg(long, value_enum, default_value_t = AxesArg::Xyz, help_heading = "Inputs")]
    axes: AxesArg,
    /// DICOM inputs: a folder holding one image-series folder per case id (`<root>/<case id>/`).
    #[arg(long, help_heading = "Inputs")]
    series_root: Option<PathBuf>,
    /// DICOM inputs: the segments (SEG: SegmentLabel or number) or ROIs (RTSTRUCT: ROIName) to read and their
    /// labels, e.g. `liver=1,spleen=2` (default: all of them, label = number).
    #[arg(long, value_parser = parse_roi, help_heading = "Inputs")]
    roi: Option<RoiMap>,
    /// DICOM FRACTIONAL segmentations: foreground where value / maximum >= this, in (0, 1].
    #[arg(long, default_value_t = 0.5, value_parser = parse_fraction, allow_negative_numbers = true, help_heading = "Inputs")]
    fractional_threshold: f64,
}

impl ReadArgs {
    fn options(&self) -> ReadOptions {
        ReadOptions {
            npy: NpyOptions {
                spacing: self.spacing,
                axes: match self.axes {
                    AxesArg::Xyz => Axes::Xyz,
                    AxesArg::Zyx => Axes::Zyx,
                },
            },
            dicom: DicomOptions {
                series_root: self.series_root.clone(),
                mapping: self.roi.as_ref().map_or_else(Vec::new, |r| r.0.clone()),
                fractional_threshold: self.fractional_threshold,
                fractional_inclusive: true,
            },
        }
    }
}

/// What is measured per case (`compare` and `eval`).
#[derive(Args)]
struct MetricArgs {
    /// Structures to report, by number or name: `1,2,5`, `1-3`, `liver,spleen`, a region's name; `0` is the
    /// background, measured as a structure (MONAI's `include_background`; label maps only) (default: every
    /// non-zero label present, every mask of a folder, every region).
    #[arg(long, value_parser = parse_labels, help_heading = "Structures")]
    labels: Option<LabelList>,
    /// Label names, `1=liver,2=spleen` (repeatable); files that name their labels must agree.
    #[arg(long, value_parser = parse_label_names, help_heading = "Structures")]
    label_names: Vec<NameList>,
    /// Label names, regions and the ignore label of an nnU-Net `dataset.json` (default: a `dataset.json` in the
    /// ground-truth folder or the folder above it, as nnU-Net keeps it beside `labelsTr/`).
    #[arg(long, help_heading = "Structures")]
    labels_from: Option<PathBuf>,
    /// Do not look for a `dataset.json` beside the ground truth.
    #[arg(long, conflicts_with = "labels_from", help_heading = "Structures")]
    no_dataset_json: bool,
    /// A region, `NAME=1,2,3`: the union of the labels evaluated as one structure (repeatable; BraTS: `--region
    /// WT=1,2,3 --region TC=1,3 --region ET=3`).
    #[arg(long, value_parser = parse_region, help_heading = "Structures")]
    region: Vec<segauge::eval::Region>,
    /// A label whose ground-truth voxels are left out of every count and surface of both sides (nnU-Net's
    /// `ignore` label).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..), help_heading = "Structures")]
    ignore_label: Option<u32>,
    /// Whose conventions the metrics follow: segauge's (default), or the settings with which MeshMetrics,
    /// DeepMind surface-distance, medpy, MONAI or nnU-Net compute theirs (surface, percentile rule and
    /// interpolation, empty-mask values; nnU-Net adds the foreground mean). The switches below change single
    /// settings of the preset; every output states the convention and what was changed.
    #[arg(long, value_enum, default_value_t = ConventionArg::Segauge, help_heading = "Metrics")]
    convention: ConventionArg,
    /// Surface for HD, HD_p, ASSD, MASD, NSD and BIoU (default: the convention's; segauge's is the one closest to
    /// analytic truth, see the README); `none` computes overlap only.
    #[arg(long, value_enum, help_heading = "Metrics")]
    surface: Option<SurfaceArg>,
    /// Percentile of the robust Hausdorff distance (reported as `hd<P>`), in (0, 100].
    #[arg(long, default_value_t = 95.0, value_parser = parse_percentile, allow_negative_numbers = true, help_heading = "Metrics")]
    percentile: f64,
    /// How the two directed percentiles combine: the larger (MeshMetrics, DeepMind, MONAI) or pooled (medpy)
    /// [default: the convention's, directed-max for segauge].
    #[arg(long, value_enum, help_heading = "Metrics")]
    percentile_rule: Option<RuleArg>,
    /// Tolerance of NSD and BIoU, mm (≥ 0; 0 counts only surfaces that coincide, as MONAI allows).
    #[arg(long, default_value_t = 2.0, value_parser = parse_tolerance_mm, allow_negative_numbers = true, help_heading = "Metrics")]
    tau: f64,
    /// Vertex arithmetic: `exact` (f64) or `vtk-f32` (MeshMetrics' float32 vertices; voxel-faces only)
    /// [default: the convention's, exact for segauge].
    #[arg(long, value_enum, help_heading = "Metrics")]
    mesh_compat: Option<CompatArg>,
    /// How a directed percentile is read: the first sample whose cumulative weight reaches it (`inverted-cdf`,
    /// MeshMetrics, DeepMind) or numpy's `linear` on the distances (medpy, MONAI; grid surface only) [default:
    /// the convention's, inverted-cdf for segauge].
    #[arg(long, value_enum, help_heading = "Metrics")]
    percentile_interpolation: Option<InterpolationArg>,
    /// A structure absent from both sides: Dice, IoU, NSD, BIoU 1 and distances 0 (`one`, MeshMetrics), or every
    /// metric undefined, left out of means and counted (`nan`, nnU-Net); or the empty-mask values of a peer, for
    /// one empty side too (`deepmind`: a percentile of no samples +inf, a mean over none NaN; `monai`: both empty
    /// NaN, one empty +inf distances both ways, NSD 0, Dice NaN when the ground truth is empty) [default: the
    /// convention's, one for segauge].
    #[arg(long, value_enum, help_heading = "Metrics")]
    both_empty: Option<BothEmptyArg>,
    /// Skip per-lesion detection (connected components, matching, lesion F1).
    #[arg(long, help_heading = "Lesions")]
    no_lesions: bool,
    /// Lesion connectivity: 6, 18 or 26 (3D), 4 or 8 (2D; on 3D volumes, slice by slice).
    #[arg(long, default_value = "26", value_parser = parse_connectivity, help_heading = "Lesions")]
    connectivity: Connectivity,
    /// How lesions are paired: one-to-one by IoU or Dice above `--match-threshold` (maximum total score), any
    /// overlap, or the BraTS 2023 lesion-wise rule.
    #[arg(long, value_enum, default_value_t = LesionRuleArg::Iou, help_heading = "Lesions")]
    lesion_rule: LesionRuleArg,
    /// Score a lesion pair must exceed (strictly) under `--lesion-rule iou|dice`, in [0, 1).
    #[arg(long, default_value_t = 0.5, value_parser = parse_match_threshold, allow_negative_numbers = true, help_heading = "Lesions")]
    match_threshold: f64,
    /// Edges of the lesion size strata, equivalent diameter in mm (`3,10`: [0,3), [3,10), [10,inf)).
    #[arg(long, default_value = "3,10", value_parser = parse_edges, help_heading = "Lesions")]
    lesion_strata: Edges,
    /// Ignore lesions (GT and prediction) smaller than this many voxels (not used by brats2023).
    #[arg(long, default_value_t = 0, help_heading = "Lesions")]
    min_lesion_voxels: u64,
    /// Surface metrics of every matched lesion pair (always on for brats2023 unless `--surface none`).
    #[arg(long, help_heading = "Lesions")]
    lesion_distances: bool,
    /// brats2023: dilation iterations, 0 to 1000 (3 for GLI/SSA/PED, 1 for MEN/MET).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=MAX_DILATION), help_heading = "Lesions")]
    dilation: u32,
    /// brats2023: GT lesions at or below this volume (mm³, ≥ 0) are not scored (50; 2 for MET).
    #[arg(long, default_value_t = 50.0, value_parser = parse_volume_mm3, allow_negative_numbers = true, help_heading = "Lesions")]
    min_gt_volume: f64,
    /// brats2023: HD95 of a missed lesion or a false positive, mm (≥ 0).
    #[arg(long, default_value_t = 374.0, value_parser = parse_tolerance_mm, allow_negative_numbers = true, help_heading = "Lesions")]
    hd_penalty: f64,
}

impl MetricArgs {
    /// The per-case options; the library adds what a rule implies (e.g. brats2023's per-lesion distances).
    fn options(&self, read: &ReadArgs) -> segauge::EvalOptions {
        let convention = self.convention.convention();
        let kind = match self.surface {
            Some(SurfaceArg::VoxelFaces) => Some(Surface::VoxelFaces),
            Some(SurfaceArg::Smooth) => Some(Surface::Smooth),
            Some(SurfaceArg::SmoothVtk) => Some(Surface::SmoothVtk),
            Some(SurfaceArg::MarchingCubes) => Some(Surface::MarchingCubes),
            Some(SurfaceArg::Grid) => Some(Surface::Grid),
            Some(SurfaceArg::Surfels) => Some(Surface::Surfels),
            Some(SurfaceArg::None) => None,
            None => Some(convention.surface_options().surface),
        };
        let surface = kind.map(|kind| {
            let preset = convention.surface_options_for(kind);
            SurfaceOptions {
                percentile: self.percentile,
                percentile_rule: match self.percentile_rule {
                    Some(RuleArg::DirectedMax) => PercentileRule::DirectedMax,
                    Some(RuleArg::Pooled) => PercentileRule::Pooled,
                    None => preset.percentile_rule,
                },
                tau: self.tau,
                mesh_compat: match self.mesh_compat {
                    Some(CompatArg::Exact) => MeshCompat::Exact,
                    Some(CompatArg::VtkF32) => MeshCompat::VtkF32,
                    None => preset.mesh_compat,
                },
                interpolation: match self.percentile_interpolation {
                    Some(InterpolationArg::InvertedCdf) => PercentileInterpolation::InvertedCdf,
                    Some(InterpolationArg::Linear) => PercentileInterpolation::Linear,
                    None => preset.interpolation,
                },
                both_empty: self.both_empty(),
                ..preset
            }
        });
        let lesions = (!self.no_lesions).then(|| LesionOptions {
            connectivity: self.connectivity,
            rule: match self.lesion_rule {
                LesionRuleArg::Iou => MatchRule::Iou,
                LesionRuleArg::Dice => MatchRule::Dice,
                LesionRuleArg::Overlap => MatchRule::Overlap,
                LesionRuleArg::Brats2023 => MatchRule::Brats2023,
            },
            threshold: self.match_threshold,
            strata_mm: self.lesion_strata.0.clone(),
            min_lesion_voxels: self.min_lesion_voxels,
            brats: BratsOptions {
                dilation: self.dilation,
                min_gt_volume_mm3: self.min_gt_volume,
                hd_penalty: self.hd_penalty,
            },
            // Pairs are small boxes cut from the image: exact arithmetic (vtk-f32 needs the whole grid).
            surface: if self.lesion_distances {
                surface.clone().map(|s| SurfaceOptions { mesh_compat: MeshCompat::Exact, ..s })
            } else {
                None
            },
        });
        segauge::EvalOptions {
            convention: self.convention.convention(),
            labels: self.labels.as_ref().map(|l| l.0.clone()),
            read: read.options(),
            surface,
            lesions,
            both_empty: self.both_empty(),
            ..Default::default()
        }
    }

    fn both_empty(&self) -> BothEmpty {
        match self.both_empty {
            Some(BothEmptyArg::One) => BothEmpty::One,
            Some(BothEmptyArg::Nan) => BothEmpty::Nan,
            Some(BothEmptyArg::DeepMind) => BothEmpty::DeepMind,
            Some(BothEmptyArg::Monai) => BothEmpty::Monai,
            None => self.convention.convention().both_empty(),
        }
    }

    /// Adds the label names, regions and ignore label: `--labels-from` (or a `dataset.json` found beside the
    /// ground truth `gt`, a file or a folder), then `--label-names`, `--region` and `--ignore-label`; two sources
    /// that disagree are a usage error.
    fn structures(&self, options: &mut segauge::EvalOptions, gt: &Path) -> anyhow::Result<()> {
        let found = if self.no_dataset_json {
            None
        } else {
            self.labels_from.clone().or_else(|| segauge::eval::dataset_json_near(gt))
        };
        if let (Some(path), None) = (&found, &self.labels_from) {
            eprintln!("note: label names from {}", report::printable(&path.display().to_string()));
        }
        let sources = segauge::eval::LabelSources {
            dataset_json: found,
            names: self.label_names.iter().flat_map(|l| l.0.iter().cloned()).collect(),
            regions: self.region.clone(),
            ignore: self.ignore_label,
        };
        sources.apply(options)?;
        Ok(())
    }
}

/// A parsed `--label-names` value.
#[derive(Clone, Debug, PartialEq)]
struct NameList(Vec<(u32, String)>);

fn parse_label_names(text: &str) -> Result<NameList, String> {
    let mut out: Vec<(u32, String)> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (label, name) = part.split_once('=').ok_or_else(|| format!("{part:?}: expected LABEL=NAME"))?;
        let label: u32 = label
            .trim()
            .parse()
            .ok()
            .filter(|&l| l > 0)
            .ok_or_else(|| format!("{part:?}: the label must be a whole number ≥ 1"))?;
        let name = name.trim();
        if name.is_empty() || name.parse::<u32>().is_ok() {
            return Err(format!("{part:?}: the name must be text, not empty and not a number"));
        }
        if let Some((_, old)) = out.iter().find(|(l, _)| *l == label) {
            return Err(format!("label {label} is named twice: {old:?} and {name:?}"));
        }
        out.push((label, name.to_string()));
    }
    if out.is_empty() {
        return Err("no LABEL=NAME pair given".into());
    }
    Ok(NameList(out))
}

fn parse_region(text: &str) -> Result<segauge::eval::Region, String> {
    let r: segauge::eval::Region = text.parse()?;
    if r.labels.contains(&0) {
        return Err(format!("region {}: label 0 is background", r.name));
    }
    Ok(r)
}

#[derive(Clone, Copy, ValueEnum)]
enum LesionRuleArg {
    Iou,
    Dice,
    Overlap,
    Brats2023,
}

/// A parsed `--roi` mapping (a newtype, so that clap takes it as one value).
#[derive(Clone, Debug, PartialEq)]
struct RoiMap(Vec<(String, u32)>);

fn parse_roi(text: &str) -> Result<RoiMap, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, label) = part.rsplit_once('=').ok_or_else(|| format!("{part:?}: expected NAME=LABEL"))?;
        let label: u32 =
            label.trim().parse().map_err(|_| format!("{part:?}: the label must be a whole number"))?;
        if label == 0 || name.trim().is_empty() {
            return Err(format!("{part:?}: expected NAME=LABEL with a label of 1 or more"));
        }
        out.push((name.trim().to_string(), label));
    }
    if out.is_empty() {
        return Err("no NAME=LABEL pair given".into());
    }
    Ok(RoiMap(out))
}

/// Parsed `--lesion-strata` edges (a newtype, so that clap takes it as one value).
#[derive(Clone, Debug, PartialEq)]
struct Edges(Vec<f64>);

fn parse_connectivity(text: &str) -> Result<Connectivity, String> {
    text.parse().map_err(|e: segauge::lesion::Error| e.to_string())
}

fn parse_edges(text: &str) -> Result<Edges, String> {
    let v: Vec<f64> = text
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<f64>().map_err(|_| format!("{s:?} is not a number")))
        .collect::<Result<_, _>>()?;
    if v.iter().any(|e| !e.is_finite() || *e <= 0.0) || v.windows(2).any(|w| w[0] >= w[1]) {
        return Err("strata edges must be positive and increasing, e.g. 3,10".into());
    }
    Ok(Edges(v))
}

#[derive(Clone, Copy, ValueEnum)]
enum SurfaceArg {
    VoxelFaces,
    Smooth,
    SmoothVtk,
    MarchingCubes,
    Grid,
    Surfels,
    None,
}

#[derive(Clone, Copy, ValueEnum)]
enum ConventionArg {
    Segauge,
    #[value(name = "meshmetrics")]
    MeshMetrics,
    #[value(name = "deepmind")]
    DeepMind,
    Medpy,
    Monai,
    #[value(name = "nnunet")]
    NnUnet,
}

impl ConventionArg {
    fn convention(self) -> Convention {
        match self {
            ConventionArg::Segauge => Convention::Segauge,
            ConventionArg::MeshMetrics => Convention::MeshMetrics,
            ConventionArg::DeepMind => Convention::DeepMind,
            ConventionArg::Medpy => Convention::Medpy,
            ConventionArg::Monai => Convention::Monai,
            ConventionArg::NnUnet => Convention::NnUnet,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum RuleArg {
    DirectedMax,
    Pooled,
}

#[derive(Clone, Copy, ValueEnum)]
enum CompatArg {
    Exact,
    VtkF32,
}

#[derive(Clone, Copy, ValueEnum)]
enum InterpolationArg {
    InvertedCdf,
    Linear,
}

#[derive(Clone, Copy, ValueEnum)]
enum BothEmptyArg {
    One,
    Nan,
    #[value(name = "deepmind")]
    DeepMind,
    Monai,
}

/// A parsed `--labels` value (a newtype, so that clap takes it as one value rather than many).
#[derive(Clone, Debug, PartialEq)]
struct LabelList(Vec<segauge::eval::LabelRef>);

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum AxesArg {
    Xyz,
    Zyx,
}

fn parse_labels(text: &str) -> Result<LabelList, String> {
    use segauge::eval::LabelRef;
    let mut out: Vec<LabelRef> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let range = part
            .split_once('-')
            .and_then(|(a, b)| Some((a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?)));
        let refs: Vec<LabelRef> = match range {
            Some((lo, hi)) => {
                if hi < lo {
                    return Err(format!("empty label range {part:?}"));
                }
                if hi - lo > 100_000 {
                    return Err(format!("label range {part:?} is too large"));
                }
                (lo..=hi).map(LabelRef::Number).collect()
            }
            None => vec![part.parse::<LabelRef>()?],
        };
        for r in refs {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    if out.is_empty() {
        return Err("no labels given".into());
    }
    Ok(LabelList(out))
}

fn parse_spacing(text: &str) -> Result<[f64; 3], String> {
    let v: Vec<f64> = text
        .split(',')
        .map(|s| s.trim().parse::<f64>().map_err(|_| format!("{s:?} is not a number")))
        .collect::<Result<_, _>>()?;
    match v.as_slice() {
        &[x, y, z] if v.iter().all(|s| s.is_finite() && *s > 0.0) => Ok([x, y, z]),
        _ => Err("spacing must be three positive numbers sx,sy,sz (mm)".into()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Compare { pred, gt, pred_series, gt_series, format, read, metrics } => {
            compare(&pred, &gt, pred_series, gt_series, format, &read, &metrics)
        }
        Command::Convert { input, output, series, reference, read } => {
            convert(&input, &output, series.as_deref(), reference.as_deref(), &read)
        }
        Command::Eval(args) => eval(&args),
        Command::Merge(args) => merge(&args),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", report::printable(&one_line(&e)));
            ExitCode::from(2)
        }
    }
}

/// An error and its causes on one line, leaving out a cause whose text the message already holds (segauge's
/// errors quote the operating system's message, which is also their source).
fn one_line(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

fn compare(
    pred: &Path,
    gt: &Path,
    pred_series: Option<PathBuf>,
    gt_series: Option<PathBuf>,
    format: Format,
    read: &ReadArgs,
    metrics: &MetricArgs,
) -> anyhow::Result<ExitCode> {
    let mut options = segauge::EvalOptions { pred_series, gt_series, ..metrics.options(read) };
    metrics.structures(&mut options, gt)?;
    options.validate()?;
    let result = match segauge::compare(pred, gt, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}", report::printable(&e.to_string()));
            return Ok(ExitCode::from(1));
        }
    };
    let text = match format {
        Format::Table => report::compare_table(&result, &options),
        Format::Json => report::compare_json(&result, &options),
    };
    std::io::stdout().write_all(text.as_bytes()).context("cannot write to standard output")?;
    Ok(ExitCode::SUCCESS)
}

fn convert(
    input: &Path,
    output: &Path,
    series: Option<&Path>,
    reference: Option<&Path>,
    read: &ReadArgs,
) -> anyhow::Result<ExitCode> {
    let name = output.to_string_lossy();
    if !(name.ends_with(".nii") || name.ends_with(".nii.gz")) {
        bail!("{}: the output must be a .nii or .nii.gz file", output.display());
    }
    let options = read.options();
    // The input, its image series (given, or the `<case id>/` folder beside it), the reference volume and the
    // series root are all inputs: the output may be none of them, nor lie inside a series folder.
    let beside = segauge::io::case_id(input).map(|(id, _)| input.with_file_name(id));
    let mut inputs = vec![segauge::io::Input::File(input)];
    inputs.extend(series.or(beside.as_deref()).map(segauge::io::Input::Folder));
    inputs.extend(reference.map(segauge::io::Input::File));
    inputs.extend(read.series_root.as_deref().map(segauge::io::Input::Folder));
    segauge::io::check_outputs(&[("output", output)], &inputs)?;
    let load = || -> Result<segauge::io::LabelVolume, segauge::io::Error> {
        let reference = reference.map(|path| segauge::io::read_labels(path, &options)).transpose()?;
        segauge::io::read_labels_on(input, &options, series, reference.as_ref().map(|v| v.grid()))
    };
    let volume = match load() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {}", report::printable(&e.to_string()));
            return Ok(ExitCode::from(1));
        }
    };
    segauge::io::write_nifti(&volume, output)?;
    let d = volume.grid().dims();
    eprintln!(
        "wrote {} ({} x {} x {} voxels)",
        report::printable(&output.display().to_string()),
        d[0],
        d[1],
        d[2]
    );
    Ok(ExitCode::SUCCESS)
}

/// The memory this process may still use, bytes: `SEGAUGE_MEMORY_LIMIT` when set, else the smaller of the
/// system's available memory and what is left under the cgroup's limit (containers, Slurm jobs); `None` where
/// none can be read.
fn memory_available() -> Option<u64> {
    if let Some(limit) = std::env::var("SEGAUGE_MEMORY_LIMIT").ok().and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(limit);
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| {
        let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
    });
    let read = |name: &str| std::fs::read_to_string(format!("/sys/fs/cgroup/{name}")).ok();
    let cgroup = match (read("memory.max"), read("memory.current")) {
        (Some(max), Some(current)) => max
            .trim()
            .parse::<u64>()
            .ok()
            .and_then(|max| current.trim().parse::<u64>().ok().map(|cur| max.saturating_sub(cur))),
        _ => None,
    };
    match (meminfo, cgroup) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}

fn eval(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let models = args.models();
    let mut names = std::collections::BTreeSet::new();
    for (name, _) in &models {
        if !names.insert(name) {
            bail!("--model {name}: the same name twice");
        }
    }
    for (dir, what) in models.iter().map(|(_, d)| (d, "--pred/--model")).chain([(&args.gt, "--gt")]) {
        if !dir.is_dir() {
            bail!("{what} {}: not a directory", dir.display());
        }
    }
    // Nothing is computed before every output is known to be writable and to touch no input.
    let mut inputs: Vec<segauge::io::Input<'_>> =
        models.iter().map(|(_, dir)| segauge::io::Input::Folder(dir)).collect();
    inputs.push(segauge::io::Input::Folder(&args.gt));
    inputs.extend(args.metadata.as_deref().map(segauge::io::Input::File));
    inputs.extend(args.read.series_root.as_deref().map(segauge::io::Input::Folder));
    let outputs = args.outputs.list();
    let partial = match (args.shard, &args.partial) {
        (Some(shard), Some(dir)) => Some((shard, dir, partial_file(dir, shard, &inputs)?)),
        _ => None,
    };
    segauge::io::check_outputs(&outputs, &inputs)?;
    let mut options =
        segauge::Options { eval: args.metrics.options(&args.read), aggregate: args.stats.aggregate() };
    args.metrics.structures(&mut options.eval, &args.gt)?;
    let metadata = match &args.metadata {
        Some(path) => report::read_metadata(path)?,
        None => Default::default(),
    };
    options.validate(&metadata)?;
    let pairing = segauge::eval::PairOptions {
        pred_pattern: args.pred_pattern.clone(),
        gt_pattern: args.gt_pattern.clone(),
        only_predicted: args.only_predicted,
    };
    let mut sets = Vec::new();
    for (name, dir) in &models {
        let data = segauge::eval::pair_dirs_with(dir, &args.gt, &pairing)?;
        segauge::eval::require_pairs(&data, dir, &args.gt)?;
        sets.push((name.clone(), data));
    }
    warn_unknown_metadata(&metadata, sets.iter().flat_map(|(_, d)| d.cases.iter().map(|c| &c.id)));
    let threads = start_threads(args.threads)?;
    if let Some((shard, dir, path)) = partial {
        let inputs = segauge::eval::Inputs { models: sets, metadata, gt_dir: Some(args.gt.clone()) };
        return eval_shard(inputs, &options.eval, shard, dir, &path, args.resume);
    }
    let n_cases = sets.iter().map(|(_, d)| d.cases.len()).max().unwrap_or(0);
    check_memory(&options, &metadata, n_cases, models.len(), threads, args.stats.bootstrap)?;
    let inputs = segauge::eval::Inputs { models: sets, metadata, gt_dir: Some(args.gt.clone()) };
    let bar = progress_bar(inputs.total_cases());
    let result = segauge::eval::run(inputs, &options, &|_| bar.inc(1))?;
    bar.finish_and_clear();
    let selected = args.metrics.labels.is_some() || !options.eval.regions.is_empty();
    finish(&result, &outputs, selected)
}

/// Warns about case ids of the metadata that no case has (a misspelt id, or the wrong file).
fn warn_unknown_metadata<'a>(metadata: &segauge::eval::Metadata, ids: impl Iterator<Item = &'a String>) {
    if metadata.is_empty() {
        return;
    }
    let known: std::collections::BTreeSet<&String> = ids.collect();
    let unknown = metadata.keys().filter(|k| !known.contains(k)).count();
    if unknown > 0 {
        eprintln!("warning: {unknown} case(s) of the metadata file have no files");
    }
}

/// The number of worker threads (`--threads`, else all cores), started now when given.
fn start_threads(threads: Option<u64>) -> anyhow::Result<usize> {
    let n = match threads {
        Some(n) => usize::try_from(n).unwrap_or(1),
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    if threads.is_some() {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("cannot start worker threads")?;
    }
    Ok(n)
}

/// Refuses a `--bootstrap` whose resample matrices would not fit in the memory available.
fn check_memory(
    options: &segauge::Options,
    metadata: &segauge::eval::Metadata,
    n_cases: usize,
    n_models: usize,
    threads: usize,
    bootstrap: u64,
) -> anyhow::Result<()> {
    let n_columns = options.aggregate.subgroup_columns(metadata)?.len();
    let need = options.aggregate.memory_estimate(n_cases, n_models, n_columns, threads);
    if let Some(available) = memory_available().filter(|&a| need > a) {
        bail!(
            "--bootstrap {bootstrap}: the resample matrices of {n_cases} cases need about {}, more than the {} of \
             memory available; use fewer resamples (the default is 9999)",
            gib(need),
            gib(available)
        );
    }
    Ok(())
}

fn progress_bar(total: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} cases  {elapsed_precise} (eta {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// The partial file of `shard` in `dir` (created if need be), refused where it would touch an input.
fn partial_file(
    dir: &Path,
    shard: segauge::eval::Shard,
    inputs: &[segauge::io::Input<'_>],
) -> anyhow::Result<PathBuf> {
    let created = !dir.exists();
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--partial {}: cannot create the folder", dir.display()))?;
    let path = report::partial_path(dir, shard);
    // The check refuses an existing file; whether one may be continued is the writer's to say (--resume).
    let probe = dir.join(".segauge-partial-probe");
    let checked = segauge::io::check_outputs(&[("--partial", &probe)], inputs);
    if let Err(e) = checked {
        if created {
            let _ = std::fs::remove_dir(dir);
        }
        return Err(e.into());
    }
    Ok(path)
}

/// `eval --shard K/N --partial DIR`: the cases of one shard, each appended to its partial file as it finishes.
fn eval_shard(
    inputs: segauge::eval::Inputs,
    options: &segauge::EvalOptions,
    shard: segauge::eval::Shard,
    dir: &Path,
    path: &Path,
    resume: bool,
) -> anyhow::Result<ExitCode> {
    let plan = segauge::eval::Plan::new(inputs, options)?;
    let (writer, resumed) = report::PartialWriter::open(dir, &plan, shard, resume)?;
    let shown = report::printable(&path.display().to_string()).into_owned();
    if resumed.cut > 0 {
        eprintln!("note: {shown}: cut an incomplete last line ({} bytes); its case is redone", resumed.cut);
    }
    let todo = plan.cases_of(shard).iter().filter(|id| !resumed.done.contains(**id)).count();
    if resume {
        eprintln!("shard {shard}: {} case(s) already recorded, {todo} to evaluate", resumed.done.len());
    }
    // Test-only: a pause before each record is written, so that a test can stop a shard between two records.
    let delay = std::env::var("SEGAUGE_TEST_RECORD_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(std::time::Duration::from_millis);
    let bar = progress_bar(todo);
    let writer = std::sync::Mutex::new(writer);
    let failed = std::sync::atomic::AtomicUsize::new(0);
    let recorded = plan.evaluate_shard(shard, &|id| resumed.done.contains(id), &|record| {
        if let Some(d) = delay {
            std::thread::sleep(d);
        }
        let fails =
            record.models.iter().filter(|m| matches!(m.outcome, segauge::eval::Outcome::Failed(_))).count();
        failed.fetch_add(fails, std::sync::atomic::Ordering::Relaxed);
        let mut w = writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        w.append(&record)?;
        bar.inc(1);
        Ok::<(), report::Error>(())
    })?;
    bar.finish_and_clear();
    let failed = failed.into_inner();
    let note =
        if failed > 0 { format!(" ({failed} failed; `segauge merge` lists them)") } else { String::new() };
    eprintln!(
        "shard {shard}: recorded {recorded} case(s){note} in {shown}; all {} of its cases are recorded",
        recorded + resumed.done.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `segauge merge DIR…`: the outputs of one run from the partial files of its shards.
fn merge(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let mut inputs: Vec<segauge::io::Input<'_>> =
        args.dirs.iter().map(|d| segauge::io::Input::Folder(d)).collect();
    inputs.extend(args.metadata.as_deref().map(segauge::io::Input::File));
    let outputs = args.outputs.list();
    segauge::io::check_outputs(&outputs, &inputs)?;
    let metadata = match &args.metadata {
        Some(path) => report::read_metadata(path)?,
        None => Default::default(),
    };
    let partials = report::read_partials(&args.dirs)?;
    for note in &partials.notes {
        eprintln!("note: {}", report::printable(note));
    }
    let missing: Vec<usize> = (1..=partials.shards).filter(|k| !partials.present.contains(k)).collect();
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|k| format!("{k}/{}", partials.shards)).collect();
        eprintln!(
            "warning: no partial file of shard(s) {}; their cases are listed as failures",
            list.join(", ")
        );
    }
    let plan = &partials.plan;
    let options = segauge::Options { eval: plan.options.clone(), aggregate: args.stats.aggregate() };
    options.validate(&metadata)?;
    warn_unknown_metadata(&metadata, plan.sizes.keys());
    let threads = start_threads(args.threads)?;
    check_memory(&options, &metadata, plan.case_count(), plan.models.len(), threads, args.stats.bootstrap)?;
    let result = plan.merge(
        partials.records.iter().cloned(),
        &|id| partials.missing_reason(id),
        metadata,
        &options.aggregate,
    )?;
    let selected = options.eval.labels.is_some() || !options.eval.regions.is_empty();
    finish(&result, &outputs, selected)
}

/// Writes the outputs of a report and tells what was evaluated; the exit code of `eval` and `merge`.
fn finish(
    result: &segauge::eval::Report,
    outputs: &[(&str, &Path)],
    selected: bool,
) -> anyhow::Result<ExitCode> {
    // Each output is written whole or not at all; a failed one does not stop the others.
    let mut unwritten = 0;
    for &(flag, path) in outputs {
        let text = |w: &mut dyn Write, text: String| {
            w.write_all(text.as_bytes())
                .map_err(|source| report::Error::Write { path: path.to_path_buf(), source })
        };
        let written = segauge::io::write_atomically(path, |w| match flag {
            "--csv" => report::write_cases_csv(result, w, path),
            "--summary-csv" => report::write_summary_csv(result, w, path),
            "--lesion-csv" => report::write_lesion_csv(result, w, path),
            "--json" => report::write_report_json(result, w, path),
            _ => text(w, report::report_html(result)),
        });
        let shown = report::printable(&path.display().to_string()).into_owned();
        match written {
            Ok(()) => eprintln!("wrote {shown}"),
            Err(e) => {
                unwritten += 1;
                let e = report::printable(&e.to_string()).into_owned();
                eprintln!("error: {flag} {e}: {shown} was not written (an existing file there is unchanged)");
            }
        }
    }
    if outputs.is_empty() {
        report::write_cases_csv(result, std::io::stdout().lock(), Path::new("<stdout>"))?;
    } else {
        print!("{}", report::summary_text(result));
    }
    let several = result.models.len() > 1;
    for m in &result.models {
        let prefix = if several { format!("model {}: ", m.name) } else { String::new() };
        if selected {
            for s in segauge::eval::structures_never_seen(&m.evaluation) {
                let s = report::printable(&s.to_string()).into_owned();
                eprintln!("warning: {prefix}{s} is absent from both sides of every evaluated case");
            }
        }
        for f in &m.evaluation.failures {
            eprintln!("error: {}", report::printable(&format!("{prefix}case {}: {}", f.case, f.error)));
        }
    }
    let cases: usize = result.models.iter().map(|m| m.evaluation.cases.len()).sum();
    let failed: usize = result.models.iter().map(|m| m.evaluation.failures.len()).sum();
    let skipped: usize = result.models.iter().map(|m| m.evaluation.not_evaluated.len()).sum();
    let skipped = if skipped > 0 {
        format!(", {skipped} ground truths without prediction not evaluated (--only-predicted)")
    } else {
        String::new()
    };
    eprintln!("evaluated {cases} of {} cases, {failed} failed{skipped}", cases + failed);
    Ok(if unwritten > 0 {
        ExitCode::from(2)
    } else if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_lists_ranges_and_names() {
        use segauge::eval::LabelRef::{Name, Number};
        assert_eq!(parse_labels("3, 1,2,3"), Ok(LabelList(vec![Number(3), Number(1), Number(2)])));
        assert_eq!(parse_labels("1-3,5"), Ok(LabelList(vec![Number(1), Number(2), Number(3), Number(5)])));
        assert_eq!(
            parse_labels("liver, rib-left-7,2"),
            Ok(LabelList(vec![Name("liver".into()), Name("rib-left-7".into()), Number(2)]))
        );
        assert_eq!(parse_labels("0,1"), Ok(LabelList(vec![Number(0), Number(1)])));
        assert!(parse_labels("3-1").is_err());
        assert!(parse_labels(",").is_err());
    }

    #[test]
    fn label_names_and_regions() {
        assert_eq!(
            parse_label_names("1=liver, 2 = spleen"),
            Ok(NameList(vec![(1, "liver".into()), (2, "spleen".into())]))
        );
        assert!(parse_label_names("1=liver,1=spleen").unwrap_err().contains("named twice"));
        assert!(parse_label_names("0=bg").is_err());
        assert!(parse_label_names("1=2").is_err());
        assert!(parse_label_names("liver").is_err());
        assert_eq!(parse_region("WT=1,2,3").unwrap().labels, vec![1, 2, 3]);
        assert!(parse_region("WT=0,1").is_err());
        assert!(parse_region("WT").is_err());
    }

    #[test]
    fn spacing_needs_three_positive_numbers() {
        assert_eq!(parse_spacing("0.8,0.8,1.5"), Ok([0.8, 0.8, 1.5]));
        assert!(parse_spacing("1,1").is_err());
        assert!(parse_spacing("1,0,1").is_err());
    }
}
