//! Convention presets: the settings with which another tool computes its metrics, so that a published number can
//! be reproduced (docs/METHODS.md A.10).
//!
//! A [`Convention`] fixes the surface, the percentile rule and interpolation, and the values of empty masks the
//! way one tool does; [`Convention::eval_options`] gives them as [`EvalOptions`], which a front end then adjusts
//! with the user's individual switches. The convention's name travels with the options into every output, and
//! [`Convention::overrides`] says which settings a run changed from its preset, so that a report never claims
//! "MONAI's numbers" for a run that changed MONAI's surface.

use std::str::FromStr;

use segauge_metrics::{
    BothEmpty, MeshCompat, PercentileInterpolation, PercentileRule, Surface, SurfaceOptions,
};

use crate::Error;
use crate::options::EvalOptions;

/// Whose conventions the surface-distance and overlap metrics follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Convention {
    /// segauge's own: the `smooth` surface, the larger directed percentile without interpolation, both-empty
    /// structures scored as a perfect match (the defaults, chosen by the accuracy benchmark).
    #[default]
    Segauge,
    /// MeshMetrics 0.2.1: voxel faces with VTK's float32 vertices, the larger directed area-weighted percentile,
    /// both empty a perfect match.
    MeshMetrics,
    /// DeepMind surface-distance: surfels with neighbour-code areas between voxel corners, the larger directed
    /// area-weighted percentile, DeepMind's values for empty masks (`BothEmpty::DeepMind`).
    DeepMind,
    /// medpy 0.5: boundary voxels (6-connected erosion, medpy's `connectivity=1`) with an exact EDT, HD_p as
    /// numpy's linear percentile of both directions pooled, empty masks undefined (medpy raises; here NaN).
    Medpy,
    /// MONAI: boundary voxels with an exact EDT, the larger directed percentile by linear interpolation
    /// (`torch.quantile`), MONAI's values for empty masks (`BothEmpty::Monai`). The background class is not
    /// measured unless selected (`--labels 0`), as MONAI's `include_background=False`.
    Monai,
    /// nnU-Net's `evaluate_predictions`: Dice and IoU NaN when `tp + fp + fn = 0`, left out of every mean; the
    /// foreground mean over structures reported. nnU-Net has no surface metrics; segauge's are computed with
    /// its own surface, their both-empty values NaN as well.
    NnUnet,
}

/// Every convention, in the order of the command line's help.
pub const CONVENTIONS: [Convention; 6] = [
    Convention::Segauge,
    Convention::MeshMetrics,
    Convention::DeepMind,
    Convention::Medpy,
    Convention::Monai,
    Convention::NnUnet,
];

impl Convention {
    /// The name in options and outputs: `segauge`, `meshmetrics`, `deepmind`, `medpy`, `monai`, `nnunet`.
    pub fn as_str(self) -> &'static str {
        match self {
            Convention::Segauge => "segauge",
            Convention::MeshMetrics => "meshmetrics",
            Convention::DeepMind => "deepmind",
            Convention::Medpy => "medpy",
            Convention::Monai => "monai",
            Convention::NnUnet => "nnunet",
        }
    }

    /// The surface options of the convention (τ and the percentile stay segauge's defaults, 2 mm and 95: every
    /// tool takes them as arguments).
    ///
    /// ```
    /// use segauge_eval::Convention;
    /// use segauge_metrics::{PercentileInterpolation, PercentileRule, Surface};
    /// let medpy = Convention::Medpy.surface_options();
    /// assert_eq!(medpy.surface, Surface::Grid);
    /// assert_eq!(medpy.percentile_rule, PercentileRule::Pooled);
    /// assert_eq!(medpy.interpolation, PercentileInterpolation::Linear);
    /// ```
    pub fn surface_options(self) -> SurfaceOptions {
        let base = SurfaceOptions { both_empty: self.both_empty(), ..SurfaceOptions::default() };
        match self {
            Convention::Segauge | Convention::NnUnet => base,
            Convention::MeshMetrics => {
                SurfaceOptions { surface: Surface::VoxelFaces, mesh_compat: MeshCompat::VtkF32, ..base }
            }
            Convention::DeepMind => SurfaceOptions { surface: Surface::Surfels, ..base },
            Convention::Medpy => SurfaceOptions {
                surface: Surface::Grid,
                percentile_rule: PercentileRule::Pooled,
                interpolation: PercentileInterpolation::Linear,
                ..base
            },
            Convention::Monai => SurfaceOptions {
                surface: Surface::Grid,
                percentile_rule: PercentileRule::DirectedMax,
                interpolation: PercentileInterpolation::Linear,
                ..base
            },
        }
    }

    /// The convention's surface options with another surface: the settings that only hold on the preset's own
    /// surface go back to segauge's (MeshMetrics' float32 vertices belong to voxel faces, numpy's linear
    /// percentile to the equal weights of the grid), the others stay. Front ends start from this and then apply
    /// the user's switches, so that `--convention monai --surface smooth` is MONAI's rules on the smooth surface.
    ///
    /// ```
    /// use segauge_eval::Convention;
    /// use segauge_metrics::{BothEmpty, PercentileInterpolation, Surface};
    /// let o = Convention::Monai.surface_options_for(Surface::Smooth);
    /// assert_eq!(o.interpolation, PercentileInterpolation::InvertedCdf);
    /// assert_eq!(o.both_empty, BothEmpty::Monai);
    /// assert_eq!(Convention::Monai.surface_options_for(Surface::Grid), Convention::Monai.surface_options());
    /// ```
    pub fn surface_options_for(self, surface: Surface) -> SurfaceOptions {
        let preset = self.surface_options();
        if surface == preset.surface {
            return preset;
        }
        let segauge = SurfaceOptions::default();
        SurfaceOptions {
            surface,
            mesh_compat: if surface == Surface::VoxelFaces {
                preset.mesh_compat
            } else {
                segauge.mesh_compat
            },
            interpolation: if surface == Surface::Grid {
                preset.interpolation
            } else {
                segauge.interpolation
            },
            ..preset
        }
    }

    /// The values of empty masks under the convention.
    pub fn both_empty(self) -> BothEmpty {
        match self {
            Convention::Segauge | Convention::MeshMetrics => BothEmpty::One,
            Convention::DeepMind => BothEmpty::DeepMind,
            Convention::Medpy | Convention::NnUnet => BothEmpty::Nan,
            Convention::Monai => BothEmpty::Monai,
        }
    }

    /// The per-case options of the convention: [`EvalOptions::default`] with this convention's surface options
    /// and empty-mask values.
    ///
    /// ```
    /// use segauge_eval::Convention;
    /// use segauge_metrics::BothEmpty;
    /// let o = Convention::NnUnet.eval_options();
    /// assert_eq!((o.convention, o.both_empty), (Convention::NnUnet, BothEmpty::Nan));
    /// ```
    pub fn eval_options(self) -> EvalOptions {
        EvalOptions {
            convention: self,
            both_empty: self.both_empty(),
            surface: Some(self.surface_options()),
            ..EvalOptions::default()
        }
    }

    /// The settings of `options` that differ from this convention's preset, by their option names (`surface`,
    /// `percentile_rule`, `percentile_interpolation`, `mesh_compat`, `both_empty`); empty when the run follows
    /// the preset. τ and the percentile are arguments in every tool, not part of a convention.
    ///
    /// ```
    /// use segauge_eval::Convention;
    /// use segauge_metrics::Surface;
    /// let mut o = Convention::Monai.eval_options();
    /// assert!(Convention::Monai.overrides(&o).is_empty());
    /// o.surface.as_mut().unwrap().surface = Surface::Smooth;
    /// assert_eq!(Convention::Monai.overrides(&o), ["surface"]);
    /// ```
    pub fn overrides(self, options: &EvalOptions) -> Vec<&'static str> {
        let preset = self.surface_options();
        let mut out = Vec::new();
        if let Some(s) = &options.surface {
            if s.surface != preset.surface {
                out.push("surface");
            }
            if s.percentile_rule != preset.percentile_rule {
                out.push("percentile_rule");
            }
            if s.interpolation != preset.interpolation {
                out.push("percentile_interpolation");
            }
            if s.mesh_compat != preset.mesh_compat {
                out.push("mesh_compat");
            }
        }
        if options.both_empty != self.both_empty() {
            out.push("both_empty");
        }
        out
    }

    /// Whether the data-set aggregates add the foreground mean over structures (nnU-Net's `foreground_mean`).
    /// Only nnU-Net's convention asks for it; the library computes it for every convention when asked through
    /// [`AggregateOptions::foreground_mean`](crate::AggregateOptions::foreground_mean).
    pub fn foreground_mean(self) -> bool {
        self == Convention::NnUnet
    }

    /// The convention's name followed by the settings that differ from it: `monai` or `monai (changed: surface)`.
    pub fn describe(self, options: &EvalOptions) -> String {
        let changed = self.overrides(options);
        if changed.is_empty() {
            self.as_str().to_string()
        } else {
            format!("{} (changed: {})", self.as_str(), changed.join(", "))
        }
    }
}

impl std::fmt::Display for Convention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Convention {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        CONVENTIONS.into_iter().find(|c| c.as_str() == s).ok_or_else(|| Error::InvalidOption {
            detail: format!(
                "unknown convention {s:?} (accepted: {})",
                CONVENTIONS.map(Convention::as_str).join(", ")
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_presets_follow_their_tools() {
        for c in CONVENTIONS {
            assert_eq!(c.as_str().parse::<Convention>().unwrap(), c);
            let o = c.eval_options();
            assert!(c.overrides(&o).is_empty(), "{c}");
            assert_eq!(c.describe(&o), c.as_str());
            assert_eq!(o.surface.as_ref().unwrap().both_empty, o.both_empty);
        }
        assert!("nnUNet".parse::<Convention>().is_err());
        assert_eq!(Convention::default().eval_options(), EvalOptions::default());
        assert_eq!(Convention::DeepMind.surface_options().surface, Surface::Surfels);
        let mut o = Convention::Medpy.eval_options();
        o.both_empty = BothEmpty::One;
        assert_eq!(Convention::Medpy.describe(&o), "medpy (changed: both_empty)");
    }
}
