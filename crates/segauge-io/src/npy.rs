//! NumPy `.npy` reader for label maps, with the geometry from a JSON sidecar or from the caller.
//!
//! A `.npy` file holds an array but no geometry. segauge takes it, in this order, from
//! 1. a sidecar `<stem>.json` next to the file: `{"spacing": [sx, sy, sz], "origin": [x, y, z],
//!    "direction": [9 numbers, row-major], "axes": "xyz" | "zyx"}` (only `spacing` is required; a 2D array may give
//!    `[sx, sy]`, one slice of unit thickness);
//! 2. [`NpyOptions::spacing`] (the CLI's `--spacing`), with origin 0 and identity direction.
//!
//! Axis order: by default array axis 0 is x (i, the fastest axis of the label volume), as nibabel's `get_fdata()`
//! and MeshMetrics' array input. `"axes": "zyx"` (or [`NpyOptions::axes`]) reads arrays whose axis 0 is z, as
//! SimpleITK's `GetArrayFromImage` returns them. Spacing, origin and direction are always given in x, y, z order.
//! Both C and Fortran memory order are read; 2D arrays become a single slice (`nz = 1`).
//!
//! The `.npy` header is parsed here rather than through `ndarray-npy`, because that crate needs the element type at
//! compile time, while a label file may hold any of eleven dtypes.

use std::path::{Path, PathBuf};

use crate::Error;
use crate::decode::{self, Kind};
use crate::error::{list, one_line, quote};
use crate::volume::{Grid, LabelVolume, Labels};

/// The order of the array's axes relative to the volume's x, y, z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Axes {
    /// Array axis 0 is x (nibabel, MeshMetrics).
    #[default]
    Xyz,
    /// Array axis 0 is z (SimpleITK `GetArrayFromImage`).
    Zyx,
}

/// How to read `.npy` files.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NpyOptions {
    /// Spacing (mm, x y z) for files without a sidecar.
    pub spacing: Option<[f64; 3]>,
    /// Axis order for files without an `"axes"` entry in their sidecar.
    pub axes: Axes,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Sidecar {
    /// x, y, z; or x, y for a 2D array (a one-slice image of unit thickness, as a 2D NIfTI).
    spacing: Vec<f64>,
    #[serde(default)]
    origin: Option<[f64; 3]>,
    #[serde(default)]
    direction: Option<[f64; 9]>,
    #[serde(default)]
    axes: Option<String>,
}

/// The sidecar path of a `.npy` file: the same stem with `.json`.
pub fn sidecar_path(path: &Path) -> PathBuf {
    path.with_extension("json")
}

/// Reads a `.npy` label map.
///
/// # Errors
/// One [`Error`] naming the file: unreadable, truncated, not `.npy`, unsupported dtype or rank, a bad sidecar,
/// unknown spacing, or a value that is not an integer label.
pub fn read_npy(path: &Path, options: &NpyOptions) -> Result<LabelVolume, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let header = parse_header(path, &bytes)?;
    let (spacing, origin, direction, axes) = geometry(path, options)?;
    let shape = &header.shape;
    if !(2..=3).contains(&shape.len()) {
        return Err(Error::Unsupported {
            path: path.to_path_buf(),
            detail: format!("array of shape {}; a label map must be 2D or 3D", shape_text(shape)),
        });
    }
    let spacing: [f64; 3] = match (spacing.as_slice(), shape.len()) {
        (&[x, y, z], _) => [x, y, z],
        (&[x, y], 2) => [x, y, 1.0],
        (s, rank) => {
            return Err(Error::InvalidHeader {
                path: sidecar_path(path),
                detail: format!(
                    "sidecar of {}: spacing has {} numbers; a {rank}D array needs {}",
                    path.display(),
                    s.len(),
                    if rank == 2 { "2 (x, y) or 3" } else { "3 (x, y, z)" }
                ),
            });
        }
    };
    // dims in array-axis order, then in x, y, z order.
    let mut arr = [1usize; 3];
    arr[..shape.len()].copy_from_slice(shape);
    let dims = match (axes, shape.len()) {
        (Axes::Xyz, _) => arr,
        (Axes::Zyx, 3) => [arr[2], arr[1], arr[0]],
        (Axes::Zyx, _) => [arr[1], arr[0], 1],
    };
    let count = arr.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let nbytes = count.and_then(|c| c.checked_mul(header.kind.size()));
    let data = &bytes[header.data_offset..];
    match nbytes {
        Some(n) if n == data.len() => {}
        Some(n) if n < data.len() => {
            return Err(Error::NotFormat {
                path: path.to_path_buf(),
                format: "NumPy .npy",
                detail: format!("{} bytes after the data (expected {n})", data.len() - n),
            });
        }
        _ => {
            let (shape, found) = (shape_text(shape), data.len());
            let detail = match nbytes {
                Some(n) => format!("shape {shape} needs {n} bytes of data, found {found}"),
                None => format!("shape {shape} needs more data than fits in memory, found {found} bytes"),
            };
            return Err(Error::Truncated { path: path.to_path_buf(), detail });
        }
    }
    let labels = decode::decode(data.to_vec(), header.kind, header.big_endian, None).map_err(|bad| {
        let v = voxel_of_file_index(bad.index, arr, header.fortran_order, axes, shape.len());
        Error::NotALabel { path: path.to_path_buf(), voxel: v, value: bad.value, hint: bad.hint }
    })?;
    // In file order the fastest axis is the last array axis (C order) or the first (Fortran order); the volume
    // wants x fastest.
    let x_is_fastest = match axes {
        Axes::Xyz => header.fortran_order,
        Axes::Zyx => !header.fortran_order,
    };
    let labels = if x_is_fastest { labels } else { reverse_axes(labels, dims) };
    let grid = Grid::new(dims, spacing)
        .and_then(|g| g.with_origin(origin))
        .and_then(|g| g.with_direction(direction))
        .map_err(|e| e.in_file(path))?;
    LabelVolume::new(grid, labels).map_err(|e| e.in_file(path))
}

type Geometry = (Vec<f64>, [f64; 3], [[f64; 3]; 3], Axes);

fn geometry(path: &Path, options: &NpyOptions) -> Result<Geometry, Error> {
    let identity = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    let side = sidecar_path(path);
    match std::fs::read(&side) {
        Ok(text) => {
            let bad = |detail: String| Error::InvalidHeader {
                path: side.clone(),
                detail: format!("sidecar of {}: {detail}", path.display()),
            };
            let s: Sidecar = serde_json::from_slice(&text).map_err(|e| bad(one_line(&e.to_string())))?;
            let axes = match s.axes.as_deref() {
                None => options.axes,
                Some("xyz") => Axes::Xyz,
                Some("zyx") => Axes::Zyx,
                Some(other) => {
                    return Err(bad(format!("axes {} is neither \"xyz\" nor \"zyx\"", quote(other))));
                }
            };
            let direction = s
                .direction
                .map_or(identity, |d| [[d[0], d[1], d[2]], [d[3], d[4], d[5]], [d[6], d[7], d[8]]]);
            Ok((s.spacing, s.origin.unwrap_or([0.0; 3]), direction, axes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match options.spacing {
            Some(spacing) => Ok((spacing.to_vec(), [0.0; 3], identity, options.axes)),
            None => Err(Error::MissingSpacing { path: path.to_path_buf(), sidecar: side }),
        },
        Err(source) => Err(Error::Io { path: side, source }),
    }
}

/// Voxel (x, y, z) of a linear index in file order.
fn voxel_of_file_index(idx: usize, arr: [usize; 3], fortran: bool, axes: Axes, rank: usize) -> [usize; 3] {
    // Array-axis coordinates first.
    let a = if fortran {
        [idx % arr[0], (idx / arr[0]) % arr[1], idx / (arr[0] * arr[1])]
    } else {
        [idx / (arr[1] * arr[2]), (idx / arr[2]) % arr[1], idx % arr[2]]
    };
    match (axes, rank) {
        (Axes::Xyz, _) => a,
        (Axes::Zyx, 3) => [a[2], a[1], a[0]],
        (Axes::Zyx, _) => [a[1], a[0], 0],
    }
}

/// Reorders labels stored with z fastest (`k + nz·(j + ny·i)`) into x fastest (`i + nx·(j + ny·k)`).
fn reverse_axes(labels: Labels, dims: [usize; 3]) -> Labels {
    fn go<T: Copy + Default>(v: &[T], [nx, ny, nz]: [usize; 3]) -> Vec<T> {
        let mut out = vec![T::default(); v.len()];
        for i in 0..nx {
            for j in 0..ny {
                let src = &v[(i * ny + j) * nz..][..nz];
                for (k, &val) in src.iter().enumerate() {
                    out[i + nx * (j + ny * k)] = val;
                }
            }
        }
        out
    }
    match labels {
        Labels::U8(v) => Labels::U8(go(&v, dims)),
        Labels::U16(v) => Labels::U16(go(&v, dims)),
        Labels::U32(v) => Labels::U32(go(&v, dims)),
    }
}

struct NpyHeader {
    kind: Kind,
    big_endian: bool,
    fortran_order: bool,
    shape: Vec<usize>,
    data_offset: usize,
}

fn parse_header(path: &Path, bytes: &[u8]) -> Result<NpyHeader, Error> {
    let not = |detail: String| Error::NotFormat { path: path.to_path_buf(), format: "NumPy .npy", detail };
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(not("it does not start with the .npy magic \\x93NUMPY".into()));
    }
    let (len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10usize),
        2 | 3 if bytes.len() >= 12 => {
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        v => return Err(not(format!("format version {v} is unknown"))),
    };
    let end = start.checked_add(len).filter(|&e| e <= bytes.len()).ok_or_else(|| Error::Truncated {
        path: path.to_path_buf(),
        detail: format!("the header announces {len} bytes, the file has {}", bytes.len() - start),
    })?;
    let text = std::str::from_utf8(&bytes[start..end]).map_err(|_| not("header is not text".into()))?;
    let descr =
        dict_value(text, "descr").ok_or_else(|| not(format!("no 'descr' in header {}", quote(text))))?;
    let descr = descr.trim().trim_matches(|c| c == '\'' || c == '"');
    let fortran = match dict_value(text, "fortran_order").map(str::trim) {
        Some("True") => true,
        Some("False") => false,
        _ => return Err(not(format!("no valid 'fortran_order' in header {}", quote(text)))),
    };
    let shape_field =
        dict_value(text, "shape").ok_or_else(|| not(format!("no 'shape' in header {}", quote(text))))?;
    let shape = shape_field
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| not(format!("shape {} is not a tuple of sizes", quote(shape_field))))?;
    // The byte-order mark is the first character (any character: the header is text from the file).
    let mut chars = descr.chars();
    let order = chars.next();
    let code = chars.as_str();
    let big_endian = match order {
        Some('<' | '|' | '=') => false,
        Some('>') => true,
        _ => return Err(not(format!("dtype {} has no byte-order mark", quote(descr)))),
    };
    let kind = match code {
        "b1" => Kind::Bool,
        "u1" => Kind::U8,
        "i1" => Kind::I8,
        "u2" => Kind::U16,
        "i2" => Kind::I16,
        "u4" => Kind::U32,
        "i4" => Kind::I32,
        "u8" => Kind::U64,
        "i8" => Kind::I64,
        "f4" => Kind::F32,
        "f8" => Kind::F64,
        _ => {
            return Err(Error::Unsupported {
                path: path.to_path_buf(),
                detail: format!("dtype {}; labels must be bool, integers, float32 or float64", quote(descr)),
            });
        }
    };
    if shape.contains(&0) {
        return Err(Error::Unsupported {
            path: path.to_path_buf(),
            detail: format!("empty array of shape {}", shape_text(&shape)),
        });
    }
    Ok(NpyHeader { kind, big_endian, fortran_order: fortran, shape, data_offset: end })
}

/// A shape for messages, as Python writes it (`(3, 4, 5)`), with at most a few axes (a damaged header may list
/// thousands).
fn shape_text(shape: &[usize]) -> String {
    format!("({})", list(shape, ", "))
}

/// The text of the value after `'key':` in a Python dict literal, up to the next top-level comma or brace.
fn dict_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let pos = text.find(&format!("'{key}'"))?;
    let rest = &text[pos + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?;
    let mut depth = 0i32;
    for (i, ch) in rest.char_indices() {
        match ch {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(&rest[..i]),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dict_values() {
        let h = "{'descr': '<u2', 'fortran_order': False, 'shape': (3, 4, 5), }";
        assert_eq!(dict_value(h, "descr").map(str::trim), Some("'<u2'"));
        assert_eq!(dict_value(h, "shape").map(str::trim), Some("(3, 4, 5)"));
        assert_eq!(dict_value(h, "fortran_order").map(str::trim), Some("False"));
    }

    #[test]
    fn a_dtype_starting_with_a_multibyte_character_is_refused() {
        let path = Path::new("x.npy");
        let header = "{'descr': '\u{fffd}<f4', 'fortran_order': False, 'shape': (2, 2), }";
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        let err = parse_header(path, &bytes).err().expect("refused");
        assert!(err.to_string().contains("has no byte-order mark"), "{err}");
    }

    #[test]
    fn reversing_axes_puts_x_fastest() {
        // dims (x, y, z) = (2, 1, 3); z-fastest storage of value 10*i + k.
        let zfast = Labels::U8(vec![0, 1, 2, 10, 11, 12]);
        assert_eq!(reverse_axes(zfast, [2, 1, 3]), Labels::U8(vec![0, 10, 1, 11, 2, 12]));
    }
}
