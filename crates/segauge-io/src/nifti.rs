//! NIfTI-1 reader (`.nii`, `.nii.gz`) for label maps.
//!
//! The header is parsed by the `nifti` crate; everything after it is done here, so that every header field is
//! validated before it is used (the crate's own qform and volume paths can panic on bad `pixdim`) and the
//! volume is decoded straight from the raw bytes (the crate's generic `into_ndarray` is 15-20x slower on a large
//! mask, see PERFORMANCE.md).
//!
//! Geometry follows nibabel's `get_best_affine`: the sform when `sform_code != 0`, else the qform when
//! `qform_code != 0`, else the Analyze-style base affine (`diag(-pixdim_x, pixdim_y, pixdim_z)` centred on the
//! image). Spatial units from `xyzt_units` are converted to mm (metres ×1000, micrometres ×0.001; unknown units are
//! taken as mm), as ITK does; nibabel leaves the affine in file units.
//!
//! # Hostile headers
//! The header's dimensions say how many bytes of voxel data follow; nothing is allocated on their word alone. An
//! uncompressed file shorter than `vox_offset` plus those bytes is refused ([`Error::Truncated`]) before any
//! allocation. A gzip stream cannot inflate to more than 1032 times its compressed size (deflate's largest ratio),
//! so the buffer reserved up front is at most that bound; past it, it grows only as data actually arrives.
//!
//! # Empty rows
//! A single label map whose zero bytes are background (no scaling, or scaling that maps 0 to 0) is read row by row
//! into zeroed memory, writing only the rows with a non-zero byte; the volume's [`Rows`](crate::Rows) lists those
//! that hold a label, and the whole-volume passes of later crates read only them. The pages of the other rows
//! are never touched, so a small structure in a large image costs little more than its own rows.

use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::Error;
use crate::decode::{self, Kind, Scaling};
use crate::error::{one_line, quote};
use crate::head::{inflate_bound, read_up_to, read_voxels};
use crate::label_file::{LabelFile, channel_layers};
use crate::nifti_ext::{MAX_EXTENSION_BYTES, label_names};
use crate::volume::{Grid, LabelVolume};

const HEADER_SIZE: usize = 348;

/// Reads a NIfTI-1 label map; gzip compression is recognised by content, not by the file name.
///
/// Any integer or floating-point datatype is accepted; values (after `scl_slope`/`scl_inter` when these are not the
/// identity) must be integers. Negative values are background. 2D images get `nz = 1` and, when the header gives
/// no third axis, a unit slab thickness. A multi-channel file is read as [`read_nifti_file`] reads it and must
/// then fit in one label volume.
///
/// # Errors
/// One [`Error`] naming the file: unreadable, truncated or corrupt, not NIfTI-1, unsupported (NIfTI-2, `.hdr/.img`
/// pairs, more than one non-spatial axis, complex or RGB data), invalid header fields, or a voxel that is not an
/// integer label; [`Error::OverlappingSegments`] for channels that overlap.
pub fn read_nifti(path: &Path) -> Result<LabelVolume, Error> {
    read_nifti_file(path)?.into_label_volume(path)
}

/// Reads a NIfTI-1 segmentation with its label names and channels.
///
/// - **Names**: from a header extension holding an XML label table, as TotalSegmentator writes its class map
///   (`nifti_ext` module).
/// - **Channels**: a 4D file (or 5D with `dim[4] = 1`, as ITK and MONAI write vector images) holds one 0/1 mask per
///   channel, channels that may overlap. When channel 0 is the complement of the others (a one-hot encoding with
///   its background channel, as MONAI's `AsDiscrete(to_onehot=n)` makes), it is dropped and channel `c` is label
///   `c`; otherwise every channel is a structure and channel `c` is label `c + 1`. Channels that overlap go to
///   separate layers ([`pack`](crate::pack)). The MetaImage and NRRD readers read their channels the same way.
///
/// # Errors
/// As [`read_nifti`], without overlaps; a channel voxel other than 0 or 1 ([`Error::NotALabel`]); an invalid
/// label table ([`Error::InvalidHeader`]).
pub fn read_nifti_file(path: &Path) -> Result<LabelFile, Error> {
    let file = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let file_len = file.metadata().map_err(|source| Error::Io { path: path.to_path_buf(), source })?.len();
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut reader, &mut magic)
        .map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let head = std::io::Cursor::new(magic[..n].to_vec()).chain(reader);
    if n == 2 && magic == [0x1f, 0x8b] {
        let mut gz = MultiGzDecoder::new(BufReader::with_capacity(1 << 16, head));
        let volume = read_stream(path, &mut gz, Size::AtMost(inflate_bound(file_len)))?;
        // Drain the stream so that the gzip trailer (CRC and length) is verified.
        std::io::copy(&mut gz, &mut std::io::sink())
            .map_err(|e| truncated(path, &e, "after the voxel data"))?;
        Ok(volume)
    } else {
        read_stream(path, &mut { head }, Size::Exactly(file_len))
    }
}

/// What is known of the length of a (decompressed) stream before reading it.
#[derive(Debug, Clone, Copy)]
enum Size {
    /// An uncompressed file of this many bytes.
    Exactly(u64),
    /// A compressed stream that inflates to at most this many bytes.
    AtMost(u64),
}

fn truncated(path: &Path, e: &std::io::Error, where_: &str) -> Error {
    Error::Truncated { path: path.to_path_buf(), detail: format!("{where_}: {e}") }
}

fn read_stream(path: &Path, r: &mut impl Read, size: Size) -> Result<LabelFile, Error> {
    let mut raw = [0u8; HEADER_SIZE];
    let got = read_up_to(r, &mut raw).map_err(|e| truncated(path, &e, "in the header"))?;
    if got < 4 {
        return Err(not_nifti(path, format!("{got} bytes long")));
    }
    let first = [raw[0], raw[1], raw[2], raw[3]];
    let big_endian = match (i32::from_le_bytes(first), i32::from_be_bytes(first)) {
        (348, _) => false,
        (_, 348) => true,
        (540, _) | (_, 540) => {
            return Err(Error::Unsupported { path: path.to_path_buf(), detail: "NIfTI-2 header".into() });
        }
        _ => return Err(not_nifti(path, "its first four bytes are not sizeof_hdr = 348".into())),
    };
    if got < HEADER_SIZE {
        return Err(Error::Truncated {
            path: path.to_path_buf(),
            detail: format!("the header needs {HEADER_SIZE} bytes, the file has {got}"),
        });
    }
    match &raw[344..348] {
        b"n+1\0" => {}
        b"ni1\0" => {
            return Err(Error::Unsupported {
                path: path.to_path_buf(),
                detail: "a .hdr/.img pair; convert it to a single .nii or .nii.gz file".into(),
            });
        }
        m => return Err(not_nifti(path, format!("magic is {}, not \"n+1\"", quote(m)))),
    }
    let h =
        nifti::NiftiHeader::from_reader(&raw[..]).map_err(|e| not_nifti(path, one_line(&e.to_string())))?;
    let hdr = Header::validate(path, &h)?;

    // Extensions: the first MAX_EXTENSION_BYTES are searched for label names, the rest skipped.
    let skip = hdr.vox_offset - HEADER_SIZE as u64;
    let mut ext = Vec::new();
    let kept = r
        .by_ref()
        .take(skip.min(MAX_EXTENSION_BYTES))
        .read_to_end(&mut ext)
        .map_err(|e| truncated(path, &e, "before the voxel data"))? as u64;
    let skipped = kept
        + std::io::copy(&mut r.by_ref().take(skip - kept), &mut std::io::sink())
            .map_err(|e| truncated(path, &e, "before the voxel data"))?;
    if skipped != skip {
        return Err(Error::Truncated {
            path: path.to_path_buf(),
            detail: format!(
                "vox_offset is {} but the file ends at byte {}",
                hdr.vox_offset,
                HEADER_SIZE as u64 + skipped
            ),
        });
    }
    let names = label_names(path, &ext, big_endian)?;
    drop(ext);
    let nbytes = hdr
        .voxel_count
        .checked_mul(hdr.channels)
        .and_then(|n| n.checked_mul(hdr.kind.size()))
        .ok_or_else(|| invalid(path, "volume too large".into()))?;
    // Refuse what the file cannot hold before allocating for it; reserve no more than the stream can give.
    let reserve = match size {
        Size::Exactly(file_len) => {
            let have = file_len.saturating_sub(hdr.vox_offset);
            if (nbytes as u64) > have {
                return Err(Error::Truncated {
                    path: path.to_path_buf(),
                    detail: format!(
                        "the header announces {nbytes} bytes of voxel data from byte {}, the file has {have} there",
                        hdr.vox_offset
                    ),
                });
            }
            nbytes
        }
        Size::AtMost(bound) => nbytes.min(usize::try_from(bound).unwrap_or(usize::MAX)),
    };
    let mut data = Vec::new();
    data.try_reserve_exact(reserve).map_err(|_| Error::Unsupported {
        path: path.to_path_buf(),
        detail: format!("voxel data of {nbytes} bytes does not fit in memory"),
    })?;
    let [nx, ny, nz] = hdr.dims;
    // One channel whose zero bytes are background: rows of zeros are left unwritten (see `read_rows`).
    let by_rows = hdr.channels == 1 && decode::zero_is_background(hdr.scaling);
    let (data, rows) = read_voxels(r, data, nbytes, by_rows.then_some(nx * hdr.kind.size()))
        .map_err(|e| truncated(path, &e, "in the voxel data"))?;
    let read = data.len();
    if read != nbytes {
        return Err(Error::Truncated {
            path: path.to_path_buf(),
            detail: format!("expected {nbytes} bytes of voxel data, found {read}"),
        });
    }
    let at = |index: usize| [index % nx, (index / nx) % ny, (index / (nx * ny)) % nz];
    let not_a_label = |bad: decode::BadValue| Error::NotALabel {
        path: path.to_path_buf(),
        voxel: at(bad.index),
        value: bad.value,
        hint: bad.hint,
    };
    if let Some(rows) = rows {
        let spans = rows.iter().map(|r| r * nx..(r + 1) * nx);
        let labels =
            decode::decode_spans(data, hdr.kind, big_endian, hdr.scaling, spans).map_err(not_a_label)?;
        let volume = LabelVolume::from_rows(hdr.grid, labels, rows).map_err(|e| e.in_file(path))?;
        return LabelFile::single(volume).with_names(names).map_err(|e| e.in_file(path));
    }
    let labels = decode::decode(data, hdr.kind, big_endian, hdr.scaling).map_err(not_a_label)?;
    let file = if hdr.channels == 1 {
        LabelFile::single(LabelVolume::new(hdr.grid, labels).map_err(|e| e.in_file(path))?)
    } else {
        let n = hdr.voxel_count;
        let layers = channel_layers(path, &hdr.grid, hdr.channels, &labels, |c, v| c * n + v, at)?;
        LabelFile::layered(layers).map_err(|e| e.in_file(path))?
    };
    file.with_names(names).map_err(|e| e.in_file(path))
}

fn not_nifti(path: &Path, detail: String) -> Error {
    Error::NotFormat { path: path.to_path_buf(), format: "NIfTI-1", detail }
}

fn invalid(path: &Path, detail: String) -> Error {
    Error::InvalidHeader { path: path.to_path_buf(), detail }
}

/// The validated parts of a header.
struct Header {
    dims: [usize; 3],
    /// Voxels per channel.
    voxel_count: usize,
    /// Length of the one non-spatial axis (1 for a 2D or 3D image).
    channels: usize,
    kind: Kind,
    scaling: Option<Scaling>,
    vox_offset: u64,
    grid: Grid,
}

impl Header {
    fn validate(path: &Path, h: &nifti::NiftiHeader) -> Result<Header, Error> {
        let ndim = usize::from(h.dim[0]);
        if !(1..=7).contains(&ndim) {
            return Err(invalid(path, format!("dim[0] = {ndim} is not in 1..=7")));
        }
        let mut dims = [1usize; 3];
        let mut channels = 1usize;
        for a in 1..=ndim {
            let d = h.dim[a] as i16;
            if d < 1 {
                return Err(invalid(path, format!("dim[{a}] = {d} is not a positive size")));
            }
            if a <= 3 {
                dims[a - 1] = d as usize;
            } else if d > 1 {
                if channels > 1 {
                    return Err(Error::Unsupported {
                        path: path.to_path_buf(),
                        detail: format!(
                            "dim = {:?}: more than one non-spatial axis (a label file is 2D or 3D, or has one \
                             axis of channels)",
                            &h.dim[1..=ndim]
                        ),
                    });
                }
                channels = d as usize;
            }
        }
        let kind = match h.datatype {
            2 => Kind::U8,
            4 => Kind::I16,
            8 => Kind::I32,
            16 => Kind::F32,
            64 => Kind::F64,
            256 => Kind::I8,
            512 => Kind::U16,
            768 => Kind::U32,
            1024 => Kind::I64,
            1280 => Kind::U64,
            other => {
                let name = match other {
                    1 => "1-bit binary",
                    32 => "complex64",
                    128 => "RGB24",
                    1536 => "float128",
                    1792 => "complex128",
                    2048 => "complex256",
                    2304 => "RGBA32",
                    _ => "unknown",
                };
                return Err(Error::Unsupported {
                    path: path.to_path_buf(),
                    detail: format!("datatype {other} ({name}); labels must be integers or floats"),
                });
            }
        };
        let off = h.vox_offset;
        if !(off.is_finite() && off >= HEADER_SIZE as f32 && off.fract() == 0.0) {
            return Err(invalid(path, format!("vox_offset = {off} is not a whole number ≥ {HEADER_SIZE}")));
        }
        let (slope, inter) = (f64::from(h.scl_slope), f64::from(h.scl_inter));
        // nibabel: a slope of 0 or a non-finite slope means "no scaling"; a valid slope with a bad intercept is an error.
        let scaling = if slope == 0.0 || !slope.is_finite() {
            None
        } else if !inter.is_finite() {
            return Err(invalid(path, format!("scl_slope = {slope} but scl_inter = {inter}")));
        } else if slope == 1.0 && inter == 0.0 {
            None
        } else {
            Some(Scaling { slope, inter })
        };
        let grid = grid_from_header(path, h, ndim, dims)?;
        Ok(Header {
            dims,
            voxel_count: grid.voxel_count(),
            channels,
            kind,
            scaling,
            vox_offset: off as u64,
            grid,
        })
    }
}

/// The voxel-to-world affine as rows `[m | t]`, in file units.
type Affine = [[f64; 4]; 3];

fn grid_from_header(
    path: &Path,
    h: &nifti::NiftiHeader,
    ndim: usize,
    dims: [usize; 3],
) -> Result<Grid, Error> {
    let mut aff = if h.sform_code != 0 {
        let rows = [h.srow_x, h.srow_y, h.srow_z];
        let aff: Affine = rows.map(|r| r.map(f64::from));
        if aff.iter().flatten().any(|v| !v.is_finite()) {
            return Err(invalid(path, format!("sform (sform_code {}) is not finite: {aff:?}", h.sform_code)));
        }
        aff
    } else if h.qform_code != 0 {
        qform_affine(path, h, ndim)?
    } else {
        base_affine(path, h, ndim, dims)?
    };
    let unit_scale = match h.xyzt_units & 0x07 {
        1 => 1000.0, // metres
        3 => 1e-3,   // micrometres
        _ => 1.0,    // mm, or unknown (taken as mm)
    };
    for v in aff.iter_mut().flatten() {
        *v *= unit_scale;
    }
    decompose(path, &aff, dims)
}

/// The pixdims of the first `ndim` spatial axes, as |pixdim| (nibabel fixes negative values the same way).
fn pixdims(path: &Path, h: &nifti::NiftiHeader, ndim: usize) -> Result<[f64; 3], Error> {
    let mut out = [1.0; 3];
    for a in 0..ndim.min(3) {
        let p = f64::from(h.pixdim[a + 1]).abs();
        if !(p.is_finite() && p > 0.0) {
            if a == 2 && dims_is_2d(h) {
                continue;
            }
            return Err(invalid(
                path,
                format!("pixdim[{}] = {} is not a positive spacing", a + 1, h.pixdim[a + 1]),
            ));
        }
        out[a] = p;
    }
    Ok(out)
}

fn dims_is_2d(h: &nifti::NiftiHeader) -> bool {
    h.dim[0] < 3 || h.dim[3] == 1
}

fn qform_affine(path: &Path, h: &nifti::NiftiHeader, ndim: usize) -> Result<Affine, Error> {
    let (b, c, d) = (f64::from(h.quatern_b), f64::from(h.quatern_c), f64::from(h.quatern_d));
    if ![b, c, d].iter().all(|v| v.is_finite()) {
        return Err(invalid(path, format!("qform quaternion ({b}, {c}, {d}) is not finite")));
    }
    let w2 = 1.0 - (b * b + c * c + d * d);
    // nibabel's threshold for float32 quaternions: 3 float32 epsilons.
    let w = if w2 >= 0.0 {
        w2.sqrt()
    } else if w2 >= -3.0 * f64::from(f32::EPSILON) {
        0.0
    } else {
        return Err(invalid(path, format!("qform quaternion ({b}, {c}, {d}) has a norm above 1")));
    };
    let r = quat_to_matrix(w, b, c, d);
    let mut vox = pixdims(path, h, ndim)?;
    if h.pixdim[0] < 0.0 {
        vox[2] = -vox[2];
    }
    let t = [h.quatern_x, h.quatern_y, h.quatern_z].map(f64::from);
    if t.iter().any(|v| !v.is_finite()) {
        return Err(invalid(path, format!("qoffset {t:?} is not finite")));
    }
    Ok(std::array::from_fn(|row| [r[row][0] * vox[0], r[row][1] * vox[1], r[row][2] * vox[2], t[row]]))
}

/// Rotation matrix of the quaternion (w, x, y, z), normalising it first (as transforms3d's `quat2mat`).
fn quat_to_matrix(w: f64, x: f64, y: f64, z: f64) -> [[f64; 3]; 3] {
    let n = w * w + x * x + y * y + z * z;
    if n < f64::EPSILON {
        return [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    }
    let s = 2.0 / n;
    let (xs, ys, zs) = (x * s, y * s, z * s);
    let (wx, wy, wz) = (w * xs, w * ys, w * zs);
    let (xx, xy, xz) = (x * xs, x * ys, x * zs);
    let (yy, yz, zz) = (y * ys, y * zs, z * zs);
    [
        [1.0 - (yy + zz), xy - wz, xz + wy],
        [xy + wz, 1.0 - (xx + zz), yz - wx],
        [xz - wy, yz + wx, 1.0 - (xx + yy)],
    ]
}

/// nibabel's `shape_zoom_affine(shape, zooms, x_flip=True)`: Analyze convention, origin at the image centre.
fn base_affine(path: &Path, h: &nifti::NiftiHeader, ndim: usize, dims: [usize; 3]) -> Result<Affine, Error> {
    let mut zooms = pixdims(path, h, ndim)?;
    zooms[0] = -zooms[0];
    Ok(std::array::from_fn(|row| {
        let mut r = [0.0; 4];
        r[row] = zooms[row];
        r[3] = -((dims[row] as f64 - 1.0) / 2.0) * zooms[row];
        r
    }))
}

/// Splits an affine into spacing (column norms), direction (unit columns) and origin.
fn decompose(path: &Path, aff: &Affine, dims: [usize; 3]) -> Result<Grid, Error> {
    let mut spacing = [0.0; 3];
    let mut dir = [[0.0; 3]; 3];
    for a in 0..3 {
        let norm = (0..3).map(|r| aff[r][a] * aff[r][a]).sum::<f64>().sqrt();
        spacing[a] = norm;
        if norm > 0.0 {
            for r in 0..3 {
                dir[r][a] = aff[r][a] / norm;
            }
        }
    }
    if spacing[2] == 0.0 && dims[2] == 1 {
        // A 2D image whose header gives no third axis: a unit slab along the normal of the first two axes.
        let (u, v) = ([dir[0][0], dir[1][0], dir[2][0]], [dir[0][1], dir[1][1], dir[2][1]]);
        let n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
        let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
        if len > 0.0 {
            for r in 0..3 {
                dir[r][2] = n[r] / len;
            }
            spacing[2] = 1.0;
        }
    }
    let origin = [aff[0][3], aff[1][3], aff[2][3]];
    Grid::new(dims, spacing).and_then(|g| g.with_origin(origin)).and_then(|g| g.with_direction(dir)).map_err(
        |e| match e {
            Error::InvalidGrid { reason } => {
                invalid(path, format!("voxel-to-world affine {aff:?}: {reason}"))
            }
            other => other,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quaternion_of_a_90_degree_turn_about_z() {
        let s = std::f64::consts::FRAC_1_SQRT_2;
        let m = quat_to_matrix(s, 0.0, 0.0, s);
        let want = [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
        for r in 0..3 {
            for c in 0..3 {
                assert!((m[r][c] - want[r][c]).abs() < 1e-12, "{m:?}");
            }
        }
    }

    #[test]
    fn decompose_takes_column_norms() {
        let aff = [[-2.0, 0.0, 0.0, 10.0], [0.0, 3.0, 0.0, 20.0], [0.0, 0.0, 4.0, 30.0]];
        let g = decompose(Path::new("x.nii"), &aff, [2, 2, 2]).unwrap();
        assert_eq!(g.spacing(), [2.0, 3.0, 4.0]);
        assert_eq!(g.origin(), [10.0, 20.0, 30.0]);
        assert_eq!(g.direction()[0][0], -1.0);
        let flat = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]];
        let g2 = decompose(Path::new("x.nii"), &flat, [2, 2, 1]).unwrap();
        assert_eq!(g2.spacing(), [1.0, 1.0, 1.0]);
        assert!(decompose(Path::new("x.nii"), &flat, [2, 2, 2]).is_err());
    }
}
