//! In-memory label volumes from ndarray arrays (feature `ndarray`), indexed `[x, y, z]` whatever their memory
//! order.
//!
//! A flat buffer handed to [`Labels`] must be in segauge's order (x fastest); a C-ordered numpy or ndarray
//! array is z fastest, and passing its buffer unchanged transposes the volume: Dice does not notice (it counts
//! voxels), every distance does. Taking an array *view* removes the guess: ndarray's index `[x, y, z]` names the
//! axes, and the memory order of the view (C, Fortran, any strides) does not matter. Arrays in `[z, y, x]` order
//! (SimpleITK's `GetArrayFromImage`) are passed as `array.t()` or `array.permuted_axes([2, 1, 0])`.

use ndarray::{ArrayView2, ArrayView3};

use crate::{Error, Grid, LabelVolume, Labels};

/// An array element that is a label: unsigned and signed integers (negative values are refused), and `bool`
/// (a mask: `true` is label 1).
pub trait LabelValue: Copy {
    /// The label, or `None` when the value is not one (negative, or above `u32::MAX`).
    fn label(self) -> Option<u32>;
    /// The value as text, for messages.
    fn describe(self) -> String;
}

macro_rules! label_value {
    ($($t:ty),*) => {$(
        impl LabelValue for $t {
            fn label(self) -> Option<u32> {
                u32::try_from(self).ok()
            }
            fn describe(self) -> String {
                self.to_string()
            }
        }
    )*};
}

label_value!(u8, u16, u32, u64, usize, i8, i16, i32, i64);

impl LabelValue for bool {
    fn label(self) -> Option<u32> {
        Some(u32::from(self))
    }
    fn describe(self) -> String {
        self.to_string()
    }
}

impl LabelVolume {
    /// A volume from an array indexed `[x, y, z]` on `grid`, whose shape must be the array's.
    ///
    /// ```
    /// use ndarray::Array3;
    /// use segauge_io::{Grid, LabelVolume};
    /// // A C-ordered array (z fastest in memory), indexed [x, y, z]: label 2 at x = 3.
    /// let mut a = Array3::<u8>::zeros((4, 2, 2));
    /// a[[3, 0, 1]] = 2;
    /// let v = LabelVolume::from_array(a.view(), Grid::new([4, 2, 2], [0.8, 0.8, 1.5])?)?;
    /// assert_eq!(v.labels().get(3 + 4 * (0 + 2 * 1)), Some(2)); // i + nx·(j + ny·k)
    /// // The same data in Fortran order gives the same volume; a [z, y, x] array is passed transposed.
    /// let f = Array3::from_shape_vec((4, 2, 2).f(), a.t().iter().copied().collect())?;
    /// assert_eq!(LabelVolume::from_array(f.view(), v.grid().clone())?, v);
    /// let zyx = a.t().to_owned();
    /// assert_eq!(LabelVolume::from_array(zyx.t(), v.grid().clone())?, v);
    /// # use ndarray::ShapeBuilder;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArray`] when the shape is not the grid's (the message suggests the axis order) or a value
    /// is not a label.
    pub fn from_array<T: LabelValue>(array: ArrayView3<'_, T>, grid: Grid) -> Result<Self, Error> {
        let (nx, ny, nz) = array.dim();
        if [nx, ny, nz] != grid.dims() {
            let hint =
                if [nz, ny, nx] == grid.dims() { "; the array looks [z, y, x]: pass array.t()" } else { "" };
            return Err(Error::InvalidArray {
                detail: format!(
                    "array of shape [{nx}, {ny}, {nz}] (read as [x, y, z]) on a grid of shape {:?}{hint}",
                    grid.dims()
                ),
            });
        }
        // The permuted view iterates k, then j, then i fastest: segauge's linear order.
        let mut values = Vec::with_capacity(nx * ny * nz);
        for ((k, j, i), &v) in array.permuted_axes([2, 1, 0]).indexed_iter() {
            match v.label() {
                Some(l) => values.push(l),
                None => {
                    return Err(Error::InvalidArray {
                        detail: format!(
                            "value {} at [{i}, {j}, {k}] is not a label (an integer from 0 to {})",
                            v.describe(),
                            u32::MAX
                        ),
                    });
                }
            }
        }
        LabelVolume::new(grid, Labels::from_u32(values))
    }

    /// A 2D volume (one slice, `nz = 1`) from an array indexed `[x, y]`; see [`LabelVolume::from_array`].
    ///
    /// ```
    /// use segauge_io::{Grid, LabelVolume};
    /// let mask = ndarray::array![[true, false], [true, true]]; // [x, y]
    /// let v = LabelVolume::from_array_2d(mask.view(), Grid::new([2, 2, 1], [0.5, 0.5, 1.0])?)?;
    /// assert_eq!(v.max_label(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`LabelVolume::from_array`].
    pub fn from_array_2d<T: LabelValue>(array: ArrayView2<'_, T>, grid: Grid) -> Result<Self, Error> {
        LabelVolume::from_array(array.insert_axis(ndarray::Axis(2)), grid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_values_and_wrong_shapes_are_refused_with_the_reason() {
        let grid = Grid::new([2, 1, 1], [1.0; 3]).unwrap();
        let a = ndarray::Array3::from_shape_vec((2, 1, 1), vec![0i16, -3]).unwrap();
        let err = LabelVolume::from_array(a.view(), grid.clone()).unwrap_err().to_string();
        assert!(err.contains("value -3 at [1, 0, 0] is not a label"), "{err}");
        let b = ndarray::Array3::<u8>::zeros((1, 1, 2));
        let err = LabelVolume::from_array(b.view(), grid).unwrap_err().to_string();
        assert!(err.contains("array of shape [1, 1, 2]") && err.contains("looks [z, y, x]"), "{err}");
    }
}
