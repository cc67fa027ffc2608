//! A NIfTI-1 writer for label volumes (`segauge convert`): single file (`n+1`), gzip-compressed when the name
//! ends in `.gz`, the narrowest unsigned type that holds the labels, and the geometry in both the sform and the
//! qform (code 1, scanner coordinates, RAS mm), so that nibabel, ITK and SimpleITK read the same grid back.

use std::io::Write;
use std::path::Path;

use crate::{Error, LabelVolume, Labels};

/// Writes `volume` as NIfTI-1 to `path` (gzip when the name ends in `.gz`), whole or not at all (see
/// [`write_atomically`](crate::write_atomically)).
///
/// The header stores the affine `x = origin + D · (spacing ⊙ index)` in the sform and, as a unit quaternion with
/// `qfac` for a left-handed `D`, in the qform; float32 rounding of the header is the format's limit (below 1e-6
/// relative).
///
/// # Errors
/// [`Error::Unsupported`] for a dimension above 32 767 (NIfTI-1 stores dimensions as i16), [`Error::Write`] when
/// the file cannot be written (an existing file is then left as it was).
pub fn write_nifti(volume: &LabelVolume, path: &Path) -> Result<(), Error> {
    let bytes =
        nifti_bytes(volume).map_err(|detail| Error::Unsupported { path: path.to_path_buf(), detail })?;
    let io = |source: std::io::Error| Error::Write { path: path.to_path_buf(), source };
    crate::write_atomically(path, |out| {
        if path.to_string_lossy().ends_with(".gz") {
            let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::new(6));
            gz.write_all(&bytes).map_err(io)?;
            gz.finish().map_err(io)?.flush().map_err(io)
        } else {
            out.write_all(&bytes).map_err(io)?;
            out.flush().map_err(io)
        }
    })
}

/// The file's bytes, uncompressed.
fn nifti_bytes(volume: &LabelVolume) -> Result<Vec<u8>, String> {
    let g = volume.grid();
    let dims = g.dims();
    let d: Vec<i16> = dims
        .iter()
        .map(|&v| i16::try_from(v).map_err(|_| format!("dimension {v} does not fit NIfTI-1 (at most 32767)")))
        .collect::<Result<_, _>>()?;
    let (datatype, bitpix, data): (i16, i16, Vec<u8>) = match volume.labels() {
        Labels::U8(v) => (2, 8, v.clone()),
        Labels::U16(v) => (512, 16, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        Labels::U32(v) => (768, 32, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
    };
    let (s, o, dir) = (g.spacing(), g.origin(), g.direction());
    let (quatern, qfac) = quaternion(dir);
    let mut h: Vec<u8> = Vec::with_capacity(352 + data.len());
    h.extend(348i32.to_le_bytes());
    h.extend([0u8; 10 + 18 + 4 + 2]); // data_type, db_name, extents, session_error
    h.extend([b'r', 0]); // regular, dim_info
    for v in [3, d[0], d[1], d[2], 1, 1, 1, 1] {
        h.extend(v.to_le_bytes());
    }
    h.extend([0u8; 12 + 2]); // intent_p1..3, intent_code
    h.extend(datatype.to_le_bytes());
    h.extend(bitpix.to_le_bytes());
    h.extend(0i16.to_le_bytes()); // slice_start
    for p in [qfac, s[0] as f32, s[1] as f32, s[2] as f32, 0.0, 0.0, 0.0, 0.0] {
        h.extend(p.to_le_bytes());
    }
    h.extend(352f32.to_le_bytes()); // vox_offset
    h.extend(1f32.to_le_bytes()); // scl_slope
    h.extend(0f32.to_le_bytes()); // scl_inter
    h.extend(0i16.to_le_bytes()); // slice_end
    h.push(0); // slice_code
    h.push(2); // xyzt_units: mm
    h.extend([0u8; 4 * 4 + 4 * 2]); // cal_max, cal_min, slice_duration, toffset, glmax, glmin
    let mut descrip = [0u8; 80];
    let text = format!("segauge {}", env!("CARGO_PKG_VERSION"));
    descrip[..text.len()].copy_from_slice(text.as_bytes());
    h.extend(descrip);
    h.extend([0u8; 24]); // aux_file
    h.extend(1i16.to_le_bytes()); // qform_code
    h.extend(1i16.to_le_bytes()); // sform_code
    for q in [quatern[0], quatern[1], quatern[2], o[0] as f32, o[1] as f32, o[2] as f32] {
        h.extend(q.to_le_bytes());
    }
    for r in 0..3 {
        for a in 0..3 {
            h.extend(((dir[r][a] * s[a]) as f32).to_le_bytes());
        }
        h.extend((o[r] as f32).to_le_bytes());
    }
    h.extend([0u8; 16]); // intent_name
    h.extend(*b"n+1\0");
    h.extend([0u8; 4]); // no extensions
    debug_assert_eq!(h.len(), 352);
    h.extend(data);
    Ok(h)
}

/// The qform quaternion `(b, c, d)` and `qfac` of direction matrix `dir` (columns = axes), as NIfTI-1 defines
/// them: a proper rotation `R` with `D = R · diag(1, 1, qfac)`.
fn quaternion(dir: [[f64; 3]; 3]) -> ([f32; 3], f32) {
    let det = dir[0][0] * (dir[1][1] * dir[2][2] - dir[1][2] * dir[2][1])
        - dir[0][1] * (dir[1][0] * dir[2][2] - dir[1][2] * dir[2][0])
        + dir[0][2] * (dir[1][0] * dir[2][1] - dir[1][1] * dir[2][0]);
    let qfac = if det < 0.0 { -1.0 } else { 1.0 };
    let r: [[f64; 3]; 3] = std::array::from_fn(|i| [dir[i][0], dir[i][1], dir[i][2] * qfac]);
    // Shepperd's method, choosing the largest of the four squared components for accuracy.
    let trace = r[0][0] + r[1][1] + r[2][2];
    let (a, b, c, d) = if trace > 0.0 {
        let s = (trace + 1.0).sqrt() * 2.0;
        (0.25 * s, (r[2][1] - r[1][2]) / s, (r[0][2] - r[2][0]) / s, (r[1][0] - r[0][1]) / s)
    } else if r[0][0] > r[1][1] && r[0][0] > r[2][2] {
        let s = (1.0 + r[0][0] - r[1][1] - r[2][2]).sqrt() * 2.0;
        ((r[2][1] - r[1][2]) / s, 0.25 * s, (r[0][1] + r[1][0]) / s, (r[0][2] + r[2][0]) / s)
    } else if r[1][1] > r[2][2] {
        let s = (1.0 + r[1][1] - r[0][0] - r[2][2]).sqrt() * 2.0;
        ((r[0][2] - r[2][0]) / s, (r[0][1] + r[1][0]) / s, 0.25 * s, (r[1][2] + r[2][1]) / s)
    } else {
        let s = (1.0 + r[2][2] - r[0][0] - r[1][1]).sqrt() * 2.0;
        ((r[1][0] - r[0][1]) / s, (r[0][2] + r[2][0]) / s, (r[1][2] + r[2][1]) / s, 0.25 * s)
    };
    // NIfTI stores b, c, d with a = sqrt(1 − b² − c² − d²) ≥ 0: flip the sign of the whole quaternion if a < 0.
    let sign = if a < 0.0 { -1.0 } else { 1.0 };
    ([(b * sign) as f32, (c * sign) as f32, (d * sign) as f32], qfac as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Grid;

    #[test]
    fn written_files_read_back_with_the_same_grid_and_labels() {
        let dir = tempfile::tempdir().unwrap();
        // A rotated, left-handed grid: 30° about z, then the z axis flipped.
        let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
        let direction = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, -1.0]];
        let grid = Grid::new([5, 4, 3], [0.7, 0.8, 2.5])
            .unwrap()
            .with_origin([-12.5, 30.25, 7.0])
            .unwrap()
            .with_direction(direction)
            .unwrap();
        for labels in [
            Labels::U8((0..60).map(|i| (i % 4) as u8).collect()),
            Labels::U16((0..60).map(|i| (i * 1000) as u16).collect()),
            Labels::U32((0..60).map(|i| i * 100_000).collect()),
        ] {
            let v = LabelVolume::new(grid.clone(), labels).unwrap();
            for name in ["a.nii", "b.nii.gz"] {
                let path = dir.path().join(name);
                write_nifti(&v, &path).unwrap();
                let mut copies = vec![crate::read_nifti(&path).unwrap()];
                if name == "a.nii" {
                    // The same header with sform_code 0 (offset 254): the reader falls back to the qform.
                    let mut bytes = std::fs::read(&path).unwrap();
                    bytes[254..256].copy_from_slice(&0i16.to_le_bytes());
                    let qform_only = dir.path().join("q.nii");
                    std::fs::write(&qform_only, bytes).unwrap();
                    copies.push(crate::read_nifti(&qform_only).unwrap());
                }
                for back in copies {
                    assert_eq!(back.labels(), v.labels());
                    let (a, b) = (back.grid(), v.grid());
                    assert_eq!(a.dims(), b.dims());
                    for k in 0..3 {
                        assert!((a.spacing()[k] - b.spacing()[k]).abs() < 1e-6);
                        assert!((a.origin()[k] - b.origin()[k]).abs() < 1e-5);
                        for r in 0..3 {
                            assert!(
                                (a.direction()[r][k] - b.direction()[r][k]).abs() < 1e-6,
                                "{name} {r} {k}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn quaternion_of_the_identity_and_a_flip() {
        let id = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        assert_eq!(quaternion(id), ([0.0, 0.0, 0.0], 1.0));
        let flip = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]];
        assert_eq!(quaternion(flip), ([0.0, 0.0, 0.0], -1.0));
        // 180° about z: b = c = 0, d = 1.
        let rz = [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]];
        assert_eq!(quaternion(rz), ([0.0, 0.0, 1.0], 1.0));
    }
}
