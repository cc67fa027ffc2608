//! Turning raw voxel bytes of any integer or float type into [`Labels`], shared by the NIfTI and NumPy readers.
//!
//! Rules (the same for every format):
//! - a value `v` (after the optional linear scaling `v·slope + inter`, computed in f64) must be an integer;
//!   a fraction, NaN or ±inf is an error naming the first such voxel;
//! - negative values are background (0), as MeshMetrics' `img > 0` binarisation treats them;
//! - values above 4 294 967 295 are an error;
//! - the result is stored as u8, u16 or u32, whichever is the narrowest that holds the largest label.

use crate::volume::Labels;

/// Element type of the raw data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    F32,
    F64,
}

impl Kind {
    pub(crate) fn size(self) -> usize {
        match self {
            Kind::Bool | Kind::U8 | Kind::I8 => 1,
            Kind::U16 | Kind::I16 => 2,
            Kind::U32 | Kind::I32 | Kind::F32 => 4,
            Kind::U64 | Kind::I64 | Kind::F64 => 8,
        }
    }

    fn is_float(self) -> bool {
        matches!(self, Kind::F32 | Kind::F64)
    }
}

/// Linear scaling `value · slope + inter`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scaling {
    pub(crate) slope: f64,
    pub(crate) inter: f64,
}

/// The first voxel whose value is not a label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BadValue {
    /// Linear index in file order.
    pub(crate) index: usize,
    pub(crate) value: f64,
    pub(crate) hint: &'static str,
}

const FRACTION_HINT: &str = " (a probability or intensity image? threshold it into labels first)";
const RANGE_HINT: &str = " (labels must lie in 0..=4294967295)";

/// Decodes `raw` (exactly `n · kind.size()` bytes) into labels, in file order; unscaled u8 data is moved, not copied.
pub(crate) fn decode(
    raw: Vec<u8>,
    kind: Kind,
    big_endian: bool,
    scaling: Option<Scaling>,
) -> Result<Labels, BadValue> {
    let n = raw.len() / kind.size();
    decode_spans(raw, kind, big_endian, scaling, std::iter::once(0..n))
}

/// [`decode`] of data whose voxels outside `spans` (ascending ranges of voxel indices) are zero bytes, as a reader
/// that left them untouched wrote them: only the spans are read, and the labels are written into zeroed memory
/// at the spans alone. The caller makes sure zero bytes are background ([`zero_is_background`]).
pub(crate) fn decode_spans<I>(
    raw: Vec<u8>,
    kind: Kind,
    big_endian: bool,
    scaling: Option<Scaling>,
    spans: I,
) -> Result<Labels, BadValue>
where
    I: Iterator<Item = std::ops::Range<usize>> + Clone,
{
    let size = kind.size();
    debug_assert_eq!(raw.len() % size, 0);
    let bytes = |s: &std::ops::Range<usize>| &raw[s.start * size..s.end * size];
    // Fast path: unscaled bytes are their own labels (the common uint8 mask).
    if scaling.is_none() && matches!(kind, Kind::U8 | Kind::Bool) {
        if kind == Kind::Bool {
            for span in spans {
                if let Some(i) = bytes(&span).iter().position(|&b| b > 1) {
                    let index = span.start + i;
                    return Err(BadValue {
                        index,
                        value: f64::from(raw[index]),
                        hint: " (a bool must be 0 or 1)",
                    });
                }
            }
        }
        return Ok(Labels::U8(raw));
    }
    // Pass 1: validate and find the largest label; pass 2: store in the narrowest type.
    let mut max = 0u32;
    let integral = kind.is_float() || scaling.is_some();
    for span in spans.clone() {
        for (i, value) in values(bytes(&span), kind, big_endian, scaling).enumerate() {
            let bad = |hint| BadValue { index: span.start + i, value, hint };
            max = max.max(to_label(value, integral).map_err(bad)?);
        }
    }
    let n = raw.len() / size;
    let labels = |span: &std::ops::Range<usize>| {
        values(bytes(span), kind, big_endian, scaling).map(|v| to_label(v, true).unwrap_or(0))
    };
    /// Zeroed memory, written at the spans only: the pages of voxels outside them are never touched.
    fn store<T: Copy + Default, L: Iterator<Item = u32>>(
        n: usize,
        spans: impl Iterator<Item = std::ops::Range<usize>>,
        labels: impl Fn(&std::ops::Range<usize>) -> L,
        narrow: impl Fn(u32) -> T,
    ) -> Vec<T> {
        let mut out = vec![T::default(); n];
        for span in spans {
            for (o, l) in out[span.clone()].iter_mut().zip(labels(&span)) {
                *o = narrow(l);
            }
        }
        out
    }
    Ok(if max <= u32::from(u8::MAX) {
        Labels::U8(store(n, spans, labels, |l| l as u8))
    } else if max <= u32::from(u16::MAX) {
        Labels::U16(store(n, spans, labels, |l| l as u16))
    } else {
        Labels::U32(store(n, spans, labels, |l| l))
    })
}

/// Whether zero bytes decode to background under `scaling` (`0·slope + inter` is 0), so that a reader may leave
/// rows of zero bytes unwritten and undecoded.
#[cfg(feature = "nifti")]
pub(crate) fn zero_is_background(scaling: Option<Scaling>) -> bool {
    scaling.is_none_or(|s| s.inter == 0.0 && s.slope.is_finite())
}

fn to_label(v: f64, check_integral: bool) -> Result<u32, &'static str> {
    if check_integral && (!v.is_finite() || v.fract() != 0.0) {
        return Err(FRACTION_HINT);
    }
    if v <= 0.0 {
        Ok(0)
    } else if v > f64::from(u32::MAX) {
        Err(RANGE_HINT)
    } else {
        Ok(v as u32)
    }
}

/// Every value as f64 (exact for all integer types up to 2^53; larger 64-bit values are out of label range anyway
/// and stay out of range after rounding).
fn values(raw: &[u8], kind: Kind, big: bool, scaling: Option<Scaling>) -> impl Iterator<Item = f64> + '_ {
    let size = kind.size();
    raw.chunks_exact(size).map(move |b| {
        let v = match kind {
            Kind::Bool | Kind::U8 => f64::from(b[0]),
            Kind::I8 => f64::from(b[0] as i8),
            Kind::U16 => f64::from(if big {
                u16::from_be_bytes([b[0], b[1]])
            } else {
                u16::from_le_bytes([b[0], b[1]])
            }),
            Kind::I16 => f64::from(if big {
                i16::from_be_bytes([b[0], b[1]])
            } else {
                i16::from_le_bytes([b[0], b[1]])
            }),
            Kind::U32 => f64::from(if big { u32::from_be_bytes(arr(b)) } else { u32::from_le_bytes(arr(b)) }),
            Kind::I32 => f64::from(if big { i32::from_be_bytes(arr(b)) } else { i32::from_le_bytes(arr(b)) }),
            Kind::F32 => f64::from(if big { f32::from_be_bytes(arr(b)) } else { f32::from_le_bytes(arr(b)) }),
            Kind::U64 => (if big { u64::from_be_bytes(arr(b)) } else { u64::from_le_bytes(arr(b)) }) as f64,
            Kind::I64 => (if big { i64::from_be_bytes(arr(b)) } else { i64::from_le_bytes(arr(b)) }) as f64,
            Kind::F64 => {
                if big {
                    f64::from_be_bytes(arr(b))
                } else {
                    f64::from_le_bytes(arr(b))
                }
            }
        };
        match scaling {
            Some(s) => v * s.slope + s.inter,
            None => v,
        }
    })
}

fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&b[..N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_of_every_width() {
        let raw: Vec<u8> = [0i16, 3, -2, 300].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(decode(raw, Kind::I16, false, None), Ok(Labels::U16(vec![0, 3, 0, 300])));
        let raw: Vec<u8> = [1u32, 70_000].iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(decode(raw, Kind::U32, true, None), Ok(Labels::U32(vec![1, 70_000])));
        let raw: Vec<u8> = [2i64, 5].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(decode(raw, Kind::I64, false, None), Ok(Labels::U8(vec![2, 5])));
    }

    #[test]
    fn floats_must_be_integral() {
        let raw: Vec<u8> = [0.0f32, 2.0, 1.5].iter().flat_map(|v| v.to_le_bytes()).collect();
        let err = decode(raw, Kind::F32, false, None).unwrap_err();
        assert_eq!((err.index, err.value), (2, 1.5));
        let raw: Vec<u8> = [0.0f64, f64::NAN].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(decode(raw, Kind::F64, false, None).unwrap_err().index, 1);
    }

    #[test]
    fn scaling_is_applied_before_the_integer_check() {
        let s = Some(Scaling { slope: 0.5, inter: 1.0 });
        assert_eq!(decode(vec![0, 2, 4], Kind::U8, false, s), Ok(Labels::U8(vec![1, 2, 3])));
        assert_eq!(decode(vec![0, 1], Kind::U8, false, s).unwrap_err().value, 1.5);
    }

    #[test]
    fn out_of_range_and_bool() {
        let raw: Vec<u8> = [5_000_000_000u64].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert!(decode(raw, Kind::U64, false, None).is_err());
        assert_eq!(decode(vec![0, 1], Kind::Bool, false, None), Ok(Labels::U8(vec![0, 1])));
        assert!(decode(vec![0, 2], Kind::Bool, false, None).is_err());
    }
}
