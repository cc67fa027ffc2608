//! A segmentation file as read: one or more label layers on one grid, and the names its header gives its labels.
//!
//! Most files hold one label per voxel and read as one layer. A file whose structures may overlap (a DICOM-SEG
//! with overlapping segments, a 4D multi-channel NIfTI, a 3D Slicer segmentation with several layers) reads as
//! several layers, each a label volume on the same grid, with every label in exactly one layer: a structure is
//! then still one label, and nothing is merged or dropped. [`pack`] builds such layers from binary masks,
//! first fit, so that masks that do not overlap share a layer (and a file whose masks never overlap is one
//! layer, evaluated as any label map).

use std::collections::BTreeMap;
use std::path::Path;

use crate::Error;
use crate::volume::{Grid, LabelVolume, Labels};

/// The label layers of one file on one grid, and its label names (label → name).
///
/// ```
/// use segauge_io::{Grid, LabelFile, LabelVolume, Labels};
/// let grid = Grid::new([3, 1, 1], [1.0, 1.0, 1.0])?;
/// let file = LabelFile::single(LabelVolume::new(grid, Labels::U8(vec![0, 1, 2]))?)
///     .with_names([(1, "liver".to_string()), (2, "spleen".to_string())].into())?;
/// assert_eq!(file.names()[&2], "spleen");
/// assert_eq!(file.layers().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LabelFile {
    layers: Vec<LabelVolume>,
    names: BTreeMap<u32, String>,
}

impl LabelFile {
    /// One label volume, without names.
    pub fn single(volume: LabelVolume) -> LabelFile {
        LabelFile { layers: vec![volume], names: BTreeMap::new() }
    }

    /// Layers on one grid (at least one). Each label must occur in one layer only; [`pack`] guarantees it, other
    /// callers are trusted (checking would cost a pass over every layer).
    ///
    /// # Errors
    /// [`Error::InvalidGrid`] when there is no layer or the layers' grids differ.
    pub fn layered(layers: Vec<LabelVolume>) -> Result<LabelFile, Error> {
        let Some(first) = layers.first() else {
            return Err(Error::InvalidGrid { reason: "a label file needs at least one layer".into() });
        };
        if layers.iter().any(|l| l.grid() != first.grid()) {
            return Err(Error::InvalidGrid {
                reason: "the layers of a label file must share one grid".into(),
            });
        }
        Ok(LabelFile { layers, names: BTreeMap::new() })
    }

    /// The same layers with these label names.
    ///
    /// # Errors
    /// [`Error::InvalidArray`] naming label 0 (background has no name) or an empty name.
    pub fn with_names(mut self, names: BTreeMap<u32, String>) -> Result<LabelFile, Error> {
        if names.contains_key(&0) {
            return Err(Error::InvalidArray { detail: "label 0 is background and has no name".into() });
        }
        if let Some((l, _)) = names.iter().find(|(_, n)| n.trim().is_empty()) {
            return Err(Error::InvalidArray { detail: format!("label {l} has an empty name") });
        }
        self.names = names;
        Ok(self)
    }

    /// The grid of every layer.
    pub fn grid(&self) -> &Grid {
        self.layers[0].grid()
    }

    /// The layers (one for a plain label map).
    pub fn layers(&self) -> &[LabelVolume] {
        &self.layers
    }

    /// The label names the file gives (possibly none).
    pub fn names(&self) -> &BTreeMap<u32, String> {
        &self.names
    }

    /// The layers and the names.
    pub fn into_parts(self) -> (Vec<LabelVolume>, BTreeMap<u32, String>) {
        (self.layers, self.names)
    }

    /// The file as one label volume: its only layer, or its layers merged when no voxel is labelled in two.
    ///
    /// # Errors
    /// [`Error::OverlappingSegments`] naming `path`, the two labels that share voxels and how many they share.
    pub fn into_label_volume(self, path: &Path) -> Result<LabelVolume, Error> {
        let mut layers = self.layers.into_iter();
        let first = layers.next().expect("a label file has a layer");
        let rest: Vec<LabelVolume> = layers.collect();
        if rest.is_empty() {
            return Ok(first);
        }
        let (grid, labels) = first.into_parts();
        let mut merged: Vec<u32> = (0..labels.len()).map(|i| labels.get(i).unwrap_or(0)).collect();
        for layer in &rest {
            let mut clash: Option<(u32, u32)> = None;
            let mut shared = 0usize;
            for (v, m) in merged.iter_mut().enumerate() {
                let l = layer.labels().get(v).unwrap_or(0);
                if l == 0 {
                    continue;
                }
                if *m != 0 {
                    shared += 1;
                    clash.get_or_insert((*m, l));
                } else {
                    *m = l;
                }
            }
            if let Some((a, b)) = clash {
                return Err(Error::OverlappingSegments { path: path.to_path_buf(), a, b, voxels: shared });
            }
        }
        LabelVolume::new(grid, Labels::from_u32(merged)).map_err(|e| e.in_file(path))
    }
}

/// Packs binary masks (label, voxels in grid order) into as few layers as first fit gives: each mask goes into
/// the first layer where none of its voxels is taken. Masks with the same label are united first (a file may map
/// two segments to one label). Masks must have `grid.voxel_count()` entries.
///
/// ```
/// use segauge_io::{Grid, pack};
/// let grid = Grid::new([3, 1, 1], [1.0, 1.0, 1.0])?;
/// let masks = vec![(1, vec![true, true, false]), (2, vec![false, true, true]), (3, vec![false, false, true])];
/// let layers = pack(&grid, masks)?;
/// assert_eq!(layers.len(), 2); // 2 overlaps 1; 3 fits beside 1 but not beside 2
/// assert_eq!(layers[0].labels().get(2), Some(3));
/// assert_eq!(layers[1].labels().get(1), Some(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArray`] when a mask's length is not the grid's voxel count or a label is 0.
pub fn pack(grid: &Grid, masks: Vec<(u32, Vec<bool>)>) -> Result<Vec<LabelVolume>, Error> {
    let n = grid.voxel_count();
    let mut united: BTreeMap<u32, Vec<bool>> = BTreeMap::new();
    let mut order: Vec<u32> = Vec::new();
    for (label, mask) in masks {
        if label == 0 {
            return Err(Error::InvalidArray { detail: "a mask cannot be label 0 (background)".into() });
        }
        if mask.len() != n {
            return Err(Error::InvalidArray {
                detail: format!("the mask of label {label} has {} voxels, the grid {n}", mask.len()),
            });
        }
        match united.get_mut(&label) {
            Some(m) => m.iter_mut().zip(&mask).for_each(|(a, &b)| *a |= b),
            None => {
                order.push(label);
                united.insert(label, mask);
            }
        }
    }
    let mut layers: Vec<Vec<u32>> = Vec::new();
    for label in order {
        let mask = &united[&label];
        let fits = |layer: &Vec<u32>| mask.iter().zip(layer).all(|(&on, &l)| !on || l == 0);
        let idx = match layers.iter().position(fits) {
            Some(i) => i,
            None => {
                layers.push(vec![0; n]);
                layers.len() - 1
            }
        };
        for (l, &on) in layers[idx].iter_mut().zip(mask) {
            if on {
                *l = label;
            }
        }
    }
    if layers.is_empty() {
        layers.push(vec![0; n]);
    }
    layers.into_iter().map(|l| LabelVolume::new(grid.clone(), Labels::from_u32(l))).collect()
}

/// The channels of a multi-channel file (a 4D NIfTI, a MetaImage with `ElementNumberOfChannels`, a NRRD with a
/// `list` or `vector` axis) as packed layers: every channel is a 0/1 mask, channels may overlap.
///
/// When channel 0 is the complement of the others (a one-hot encoding with its background channel, as MONAI's
/// `AsDiscrete(to_onehot=n)` makes), it is dropped and channel `c` is label `c`; otherwise every channel is a
/// structure and channel `c` is label `c + 1`. `index(c, v)` is where channel `c` of voxel `v` (grid order) sits in
/// `labels` (file order); `at` turns such a position back into the voxel named in an error.
///
/// # Errors
/// [`Error::NotALabel`] for a value other than 0 or 1, naming its voxel.
#[cfg(any(feature = "nifti", feature = "metaimage", feature = "nrrd"))]
pub(crate) fn channel_layers(
    path: &Path,
    grid: &Grid,
    channels: usize,
    labels: &Labels,
    index: impl Fn(usize, usize) -> usize,
    at: impl Fn(usize) -> [usize; 3],
) -> Result<Vec<LabelVolume>, Error> {
    let n = grid.voxel_count();
    if let Some(position) = (0..labels.len()).find(|&i| labels.get(i).unwrap_or(0) > 1) {
        return Err(Error::NotALabel {
            path: path.to_path_buf(),
            voxel: at(position),
            value: f64::from(labels.get(position).unwrap_or(0)),
            hint: " (in a multi-channel file each channel must be a 0/1 mask)",
        });
    }
    let on = |c: usize, v: usize| labels.get(index(c, v)) == Some(1);
    let background = (0..n).all(|v| on(0, v) != (1..channels).any(|c| on(c, v)));
    let (first, shift) = if background { (1, 0) } else { (0, 1) };
    let masks = (first..channels)
        .map(|c| ((c + shift) as u32, (0..n).map(|v| on(c, v)).collect::<Vec<bool>>()))
        .collect();
    pack(grid, masks).map_err(|e| e.in_file(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        Grid::new([4, 1, 1], [1.0, 1.0, 1.0]).unwrap()
    }

    #[test]
    fn masks_that_never_overlap_make_one_layer_and_merge_back() {
        let layers =
            pack(&grid(), vec![(2, vec![true, false, false, false]), (1, vec![false, true, true, false])])
                .unwrap();
        assert_eq!(layers.len(), 1);
        let v = LabelFile::layered(layers).unwrap().into_label_volume(Path::new("f")).unwrap();
        assert_eq!((0..4).map(|i| v.labels().get(i).unwrap()).collect::<Vec<_>>(), [2, 1, 1, 0]);
    }

    #[test]
    fn overlapping_layers_refuse_to_merge_naming_both_labels() {
        let layers =
            pack(&grid(), vec![(3, vec![true, true, false, false]), (4, vec![false, true, true, true])])
                .unwrap();
        assert_eq!(layers.len(), 2);
        let e = LabelFile::layered(layers).unwrap().into_label_volume(Path::new("seg.dcm")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "seg.dcm: segments 3 and 4 overlap in 1 voxels; a label volume holds one label per voxel, read the \
             segments apart"
        );
    }

    #[test]
    fn masks_of_one_label_are_united() {
        let layers =
            pack(&grid(), vec![(1, vec![true, false, false, false]), (1, vec![true, true, false, false])])
                .unwrap();
        assert_eq!(layers.len(), 1);
        assert_eq!(layers[0].labels().get(1), Some(1));
    }

    #[test]
    fn bad_masks_and_names_are_refused() {
        assert!(pack(&grid(), vec![(0, vec![true; 4])]).is_err());
        assert!(pack(&grid(), vec![(1, vec![true; 3])]).is_err());
        let f = LabelFile::single(LabelVolume::new(grid(), Labels::U8(vec![0; 4])).unwrap());
        assert!(f.clone().with_names([(0, "bg".to_string())].into()).is_err());
        assert!(f.with_names([(1, " ".to_string())].into()).is_err());
        assert!(LabelFile::layered(Vec::new()).is_err());
    }
}
