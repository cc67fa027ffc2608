//! The BraTS 2023 lesion-wise rule (rachitsaluja/BraTS-2023-Metrics `eval.py`), on runs and small boxes.
//!
//! 1. Components of GT and prediction; the whole GT mask dilated `k` times by the 18-neighbourhood
//!    (`generate_binary_structure(3, 2)`), clipped to the box as scipy's `binary_dilation` clips to the array;
//!    GT components inside one component of the dilated mask form one merged lesion.
//! 2. Each merged lesion, dilated `k` times on its own, collects every predicted component it touches.
//! 3. Scores per merged lesion: Dice (and HD_p on request) against the union of its predictions; FP =
//!    predicted components touching no dilated lesion; lesions at or below the volume threshold are left out.

use std::collections::BTreeSet;

use segauge_mesh::{Frame, Mask};

use crate::components::{self, label};
use crate::{BratsScores, Error, LesionMatch, LesionOptions, LesionReport, MatchRule, pair_surface, strata};

pub(crate) fn evaluate(
    pred: &Mask,
    gt: &Mask,
    frame: &Frame,
    options: &LesionOptions,
) -> Result<LesionReport, Error> {
    let b = options.brats;
    let dims = gt.dims();
    let (gc, pc) = (label(gt, options.connectivity), label(pred, options.connectivity));
    let dilated = label(&dilate18(gt, b.dilation), options.connectivity);
    let ny = dims[1];
    let mut merged_of = vec![0u32; gc.len()];
    for (r, x0, _, id) in gc.runs() {
        if merged_of[id as usize - 1] == 0 {
            merged_of[id as usize - 1] = dilated.id_at(x0, r % ny, r / ny);
        }
    }
    // Every dilated component grew from GT voxels, so merged ids are exactly 1..=dilated.len().
    let mc = gc.relabel(|c| merged_of[c as usize - 1], dilated.len() as u32);
    let ml = mc.lesions(frame);
    let pl = pc.lesions(frame);
    let overlaps = components::overlaps(&mc, &pc);

    let mut touched_any = vec![false; pl.len()];
    let mut matches = Vec::new();
    let (mut dice_sum, mut hd_sum, mut kept, mut tp) = (0.0, 0.0, 0u64, 0u64);
    let mut detected = vec![false; ml.len()];
    for m in &ml {
        let k = b.dilation as usize;
        let lo: [usize; 3] = std::array::from_fn(|a| m.lo[a].saturating_sub(k));
        let hi: [usize; 3] = std::array::from_fn(|a| (m.hi[a] + k).min(dims[a] - 1));
        let region = dilate18(&mc.crop(|id| id == m.id, lo, hi, 0), b.dilation);
        let rd = region.dims();
        let mut touched = BTreeSet::new();
        for (v, _) in region.voxels().iter().enumerate().filter(|(_, f)| **f) {
            let (i, j, kk) = (v % rd[0], (v / rd[0]) % rd[1], v / (rd[0] * rd[1]));
            let p = pc.id_at(lo[0] + i, lo[1] + j, lo[2] + kk);
            if p != 0 {
                touched.insert(p);
            }
        }
        for &p in &touched {
            touched_any[p as usize - 1] = true;
        }
        if m.volume_mm3 <= b.min_gt_volume_mm3 {
            continue;
        }
        kept += 1;
        let ps: Vec<u32> = touched.into_iter().collect();
        // `overlaps` is sorted by merged id.
        let first = overlaps.partition_point(|o| o.0 < m.id);
        let inter: u64 = overlaps[first..].iter().take_while(|o| o.0 == m.id).map(|o| o.2).sum();
        let pred_voxels: u64 = ps.iter().map(|&p| pl[p as usize - 1].voxels).sum();
        let dice = 2.0 * inter as f64 / (m.voxels + pred_voxels) as f64;
        dice_sum += dice;
        let surface = match &options.surface {
            Some(s) if !ps.is_empty() => Some(pair_surface(&pc, &mc, &pl, &ml, &ps, m.id, frame, s)?),
            _ => None,
        };
        if options.surface.is_some() {
            let hd = surface.as_ref().map_or(f64::INFINITY, |s| s.hd_percentile);
            hd_sum += if hd.is_infinite() { b.hd_penalty } else { hd };
        }
        if !ps.is_empty() {
            tp += 1;
            detected[m.id as usize - 1] = true;
            let iou = inter as f64 / (m.voxels + pred_voxels - inter) as f64;
            matches.push(LesionMatch { gt: m.id, pred: ps, intersection: inter, iou, dice, surface });
        }
    }
    let fp = touched_any.iter().filter(|t| !**t).count() as u64;
    let denominator = (kept + fp) as f64;
    let scores = BratsScores {
        lesion_wise_dice: if kept + fp == 0 { 1.0 } else { dice_sum / denominator },
        lesion_wise_hd95: options
            .surface
            .as_ref()
            .map(|_| if kept + fp == 0 { 0.0 } else { (hd_sum + b.hd_penalty * fp as f64) / denominator }),
        gt_kept: kept,
        gt_dropped: ml.len() as u64 - kept,
    };
    let gt: Vec<_> = ml.into_iter().filter(|m| m.volume_mm3 > b.min_gt_volume_mm3).collect();
    let strata =
        strata(&options.strata_mm, &gt, &pl, |g| detected[g as usize - 1], |p| touched_any[p as usize - 1]);
    Ok(LesionReport {
        rule: MatchRule::Brats2023,
        tp,
        fp,
        fn_: kept - tp,
        gt,
        pred: pl,
        matches,
        strata,
        brats: Some(scores),
    })
}

/// `iterations` binary dilations by the 18-neighbourhood (offsets with at most two non-zero components),
/// clipped to the mask's box; the iterations stop early once one changes nothing.
pub(crate) fn dilate18(mask: &Mask, iterations: u32) -> Mask {
    let dims = mask.dims();
    let [nx, ny, nz] = dims;
    let offsets: Vec<[isize; 3]> = (-1..=1isize)
        .flat_map(|dz| (-1..=1isize).flat_map(move |dy| (-1..=1isize).map(move |dx| [dx, dy, dz])))
        .filter(|d| d.iter().filter(|&&v| v != 0).count() <= 2)
        .collect();
    let mut cur = mask.voxels().to_vec();
    for _ in 0..iterations {
        let mut next = cur.clone();
        let mut grew = false;
        for (v, _) in cur.iter().enumerate().filter(|(_, f)| **f) {
            let (i, j, k) = ((v % nx) as isize, ((v / nx) % ny) as isize, (v / (nx * ny)) as isize);
            for d in &offsets {
                let (a, b, c) = (i + d[0], j + d[1], k + d[2]);
                if a >= 0 && b >= 0 && c >= 0 && (a as usize) < nx && (b as usize) < ny && (c as usize) < nz {
                    let at = a as usize + nx * (b as usize + ny * c as usize);
                    grew |= !next[at];
                    next[at] = true;
                }
            }
        }
        cur = next;
        // A dilation that adds nothing adds nothing ever after (the mask is empty or fills its box): stop, so
        // that the cost is bounded by the box, not by the iteration count.
        if !grew {
            break;
        }
    }
    Mask::new(dims, cur).expect("same dims")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dilation_by_the_18_neighbourhood() {
        let one = Mask::from_fn([5, 5, 5], |i, j, k| (i, j, k) == (2, 2, 2));
        assert_eq!(dilate18(&one, 1).count(), 19);
        // Two iterations: the offsets that are a sum of two steps, each with at most two non-zero unit
        // components (or none).
        let two = dilate18(&one, 2);
        let steps: Vec<[isize; 3]> = (0..27)
            .map(|n| [n % 3 - 1, (n / 3) % 3 - 1, n / 9 - 1])
            .filter(|d| d.iter().filter(|&&v| v != 0).count() <= 2)
            .collect();
        let expected = Mask::from_fn([5, 5, 5], |i, j, k| {
            let d = [i as isize - 2, j as isize - 2, k as isize - 2];
            steps.iter().any(|s| steps.iter().any(|t| (0..3).all(|a| s[a] + t[a] == d[a])))
        });
        // scipy.ndimage.binary_dilation(point, generate_binary_structure(3, 2), iterations=2).sum() == 93: the
        // 5×5×5 box less the 32 offsets with two components ±2 and the third non-zero.
        assert_eq!(two.count(), 93);
        assert_eq!(two, expected);
        // Clipped to the box.
        let corner = Mask::from_fn([3, 3, 3], |i, j, k| (i, j, k) == (0, 0, 0));
        assert_eq!(dilate18(&corner, 1).count(), 7);
    }

    #[test]
    fn dilation_stops_once_it_fills_its_box() {
        // From corner (0, 0, 0) of a 3×3×3 box, two steps of the 18-neighbourhood (each changes at most two
        // coordinates by 1) miss the 4 voxels with two coordinates 2 and the third non-zero; the third step fills
        // the box. 10⁹ iterations then cost four (the test would not finish otherwise); an empty mask stays empty.
        let corner = Mask::from_fn([3, 3, 3], |i, j, k| (i, j, k) == (0, 0, 0));
        assert_eq!(dilate18(&corner, 2).count(), 23);
        assert_eq!(dilate18(&corner, 3).count(), 27);
        assert_eq!(dilate18(&corner, 1_000_000_000).count(), 27);
        let empty = Mask::from_fn([4, 4, 4], |_, _, _| false);
        assert_eq!(dilate18(&empty, 1_000_000_000).count(), 0);
    }
}
