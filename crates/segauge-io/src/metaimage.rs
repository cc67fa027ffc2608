//! MetaImage reader (`.mha`, and `.mhd` with its data file) for label maps, as ITK and SimpleITK write them.
//!
//! Written here rather than through a crate: no maintained Rust crate reads MetaImage (the one found, `bioformats`,
//! calls itself experimental and "need not be correct").
//!
//! # What is read
//! - The header: `Key = Value` lines up to `ElementDataFile` (ITK's MetaIO also takes `:` as the separator; keys are
//!   case-sensitive, a later line overrides an earlier one). `ObjectType` must be `Image` when given.
//! - `NDims` 1 to 4 (and more, when the axes past the fourth have size 1), `DimSize`; an axis past the third with
//!   size above 1, or `ElementNumberOfChannels` above 1 (not both), holds channels, read as the NIfTI reader reads
//!   a 4D file: a 0/1 mask per channel (see [`read_metaimage_file`]).
//! - `ElementType` `MET_UCHAR`, `MET_CHAR`, `MET_USHORT`, `MET_SHORT`, `MET_UINT`, `MET_INT`, `MET_ULONG`,
//!   `MET_LONG` (4 bytes, as MetaIO has them), `MET_ULONG_LONG`, `MET_LONG_LONG`, `MET_FLOAT`, `MET_DOUBLE`;
//!   values must be integers, negative values are background.
//! - The data: `ElementDataFile = LOCAL` (after the header in the same file) or a file name, relative to the
//!   header's folder (or absolute); `BinaryData` (default true; false: numbers in text),
//!   `BinaryDataByteOrderMSB`/`ElementByteOrderMSB` (default little-endian), `CompressedData` (a zlib or gzip
//!   stream, of `CompressedDataSize` bytes or up to the end of the file), `HeaderSize` (bytes before the data in
//!   the data file; -1: the data are the last bytes of the file, for uncompressed data).
//! - Geometry: `ElementSpacing` (else `ElementSize`, else 1), the origin from `Offset`, `Position`, `Origin`,
//!   `ImagePosition` or `ElementOrigin`, the direction from `TransformMatrix`, `Rotation`, `Orientation` or
//!   `ElementDirection`, with ITK's precedence when several are given (`ElementOrigin`/`ElementDirection` only for
//!   `FileFormatVersion = 1`, whose reader ignores `Position`/`Origin`/`Rotation`/`Orientation`).
//!
//! Not read (an error names them): `ElementDataFile = LIST` and file-name patterns (`slice%03d.raw`: one file per
//! slice), the `MET_*_ARRAY`, `MET_STRING` and other element types, compressed data with `HeaderSize = -1`. Ignored,
//! as ITK ignores them on reading: `AnatomicalOrientation` (informational), `ElementToIntensityFunctionSlope/
//! Offset`, `DistanceUnits` (taken as mm), `CenterOfRotation`. ITK's fallback to a data file with `.gz` or `.Z`
//! appended is not followed.
//!
//! # Geometry
//! As ITK's `MetaImageIO`: `TransformMatrix` holds the direction matrix column by column (its first `NDims` numbers
//! are the direction of axis 0; `itkMetaImageIO.cxx` sets direction `i` from `TransformMatrix[i·NDims + j]`), and
//! voxel `(i, j, k)` sits at `Offset + D · (spacing ⊙ (i, j, k))` in LPS (ITK's patient coordinates). segauge's grid
//! is RAS, so the x and y rows of the origin and the direction are negated: a file written by SimpleITK reads as
//! the same grid as the NIfTI file SimpleITK writes from the same image. A 2D image lies in the plane z = 0 of
//! its frame, one unit thick along z (as ITK's NIfTI writer embeds it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::decode::{self, Kind};
use crate::label_file::{LabelFile, channel_layers};
use crate::text_header::{
    DataSource, Encoding, Skip, grid_from_lps, lines, quote_short, read_head, single_file, trim,
};
use crate::volume::{Grid, LabelVolume};

/// The most axes MetaIO allows.
const MAX_NDIMS: usize = 10;

/// Reads a MetaImage label map (`.mha`, or a `.mhd` header with its data file).
///
/// A multi-channel file is read as [`read_metaimage_file`] reads it and must then fit in one label volume.
///
/// # Errors
/// One [`Error`] naming the file: unreadable, truncated or corrupt, not MetaImage, unsupported (see the [module
/// documentation](self)), invalid header fields, or a voxel that is not an integer label; [`Error::OverlappingSegments`]
/// for channels that overlap.
pub fn read_metaimage(path: &Path) -> Result<LabelVolume, Error> {
    read_metaimage_file(path)?.into_label_volume(path)
}

/// Reads a MetaImage segmentation with its channels.
///
/// A file with several channels (`ElementNumberOfChannels`, or a fourth axis, as ITK writes vector images) holds a
/// 0/1 mask per channel, read as the NIfTI reader reads channels: when channel 0 is the complement of the others
/// (a one-hot encoding with its background channel) it is dropped and channel `c` is label `c`; otherwise channel
/// `c` is label `c + 1`. Channels that overlap go to separate layers ([`pack`](crate::pack)). MetaImage has no
/// label names.
///
/// # Errors
/// As [`read_metaimage`], without overlaps; a channel voxel other than 0 or 1 ([`Error::NotALabel`]).
pub fn read_metaimage_file(path: &Path) -> Result<LabelFile, Error> {
    let head = read_head(path)?;
    let hdr = Header::parse(path, &head.bytes, head.is_cut())?;
    let source = hdr.source(path)?;
    let count = hdr
        .voxel_count
        .checked_mul(hdr.channels)
        .ok_or_else(|| invalid(path, "the image is too large".into()))?;
    let dims = hdr.grid.dims();
    let (n, channels, interleaved) = (hdr.voxel_count, hdr.channels, hdr.interleaved);
    let voxel_of = |position: usize| if interleaved { position / channels } else { position % n };
    let at = |position: usize| {
        let v = voxel_of(position);
        [v % dims[0], (v / dims[0]) % dims[1], v / (dims[0] * dims[1])]
    };
    let not_a_label = |bad: decode::BadValue| Error::NotALabel {
        path: path.to_path_buf(),
        voxel: at(bad.index),
        value: bad.value,
        hint: bad.hint,
    };
    if channels == 1 {
        // Rows of zeros are left unwritten (see `read_rows`).
        let values = source.read_rows(hdr.kind, hdr.big_endian, count, dims[0])?;
        return single_file(path, hdr.grid, values, not_a_label);
    }
    let values = source.read(hdr.kind, hdr.big_endian, count)?;
    let labels = decode::decode(values.bytes, values.kind, values.big_endian, None).map_err(not_a_label)?;
    let index = |c: usize, v: usize| if interleaved { v * channels + c } else { c * n + v };
    let layers = channel_layers(path, &hdr.grid, channels, &labels, index, at)?;
    LabelFile::layered(layers).map_err(|e| e.in_file(path))
}

fn not_metaimage(path: &Path, detail: String) -> Error {
    Error::NotFormat { path: path.to_path_buf(), format: "MetaImage", detail }
}

fn invalid(path: &Path, detail: String) -> Error {
    Error::InvalidHeader { path: path.to_path_buf(), detail }
}

fn unsupported(path: &Path, detail: String) -> Error {
    Error::Unsupported { path: path.to_path_buf(), detail }
}

/// The fields of a header, by key (the last line of a key wins, as in MetaIO).
struct Fields<'a> {
    path: &'a Path,
    map: BTreeMap<&'a [u8], &'a [u8]>,
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a [u8]> {
        self.map.get(key.as_bytes()).copied()
    }

    fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// A boolean field as MetaIO reads it: true when its value starts with `T`, `t` or `1`.
    fn flag(&self, key: &str) -> Option<bool> {
        self.get(key).map(|v| matches!(v.first(), Some(b'T' | b't' | b'1')))
    }

    fn int(&self, key: &str) -> Result<Option<i64>, Error> {
        let Some(v) = self.get(key) else { return Ok(None) };
        std::str::from_utf8(v)
            .ok()
            .and_then(|t| t.parse::<i64>().ok())
            .map(Some)
            .ok_or_else(|| invalid(self.path, format!("{key} = {} is not an integer", quote_short(v))))
    }

    /// The first `n` numbers of a field (MetaIO ignores the rest of the line).
    fn numbers(&self, key: &str, n: usize) -> Result<Option<Vec<f64>>, Error> {
        let Some(v) = self.get(key) else { return Ok(None) };
        let bad = || invalid(self.path, format!("{key} = {} does not hold {n} numbers", quote_short(v)));
        let text = std::str::from_utf8(v).map_err(|_| bad())?;
        let out: Vec<f64> = text
            .split_ascii_whitespace()
            .take(n)
            .map(str::parse::<f64>)
            .collect::<Result<_, _>>()
            .map_err(|_| bad())?;
        if out.len() < n || out.iter().any(|x| !x.is_finite()) {
            return Err(bad());
        }
        Ok(Some(out))
    }

    /// The first field present of `keys`, in order of precedence.
    fn first_numbers(&self, keys: &[&str], n: usize) -> Result<Option<Vec<f64>>, Error> {
        for key in keys {
            if let Some(v) = self.numbers(key, n)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }
}

/// The validated parts of a header.
#[derive(Debug)]
struct Header {
    grid: Grid,
    voxel_count: usize,
    /// Values per voxel (1 for a plain label map).
    channels: usize,
    /// Channels are interleaved (`ElementNumberOfChannels`, the fastest axis) rather than one volume after the
    /// other (a fourth axis).
    interleaved: bool,
    kind: Kind,
    big_endian: bool,
    binary: bool,
    compressed: bool,
    compressed_len: Option<u64>,
    header_size: i64,
    data_file: String,
    /// Where the header ends (the data of a `LOCAL` file start here).
    header_end: u64,
}

impl Header {
    fn parse(path: &Path, bytes: &[u8], cut: bool) -> Result<Header, Error> {
        let mut map = BTreeMap::new();
        let mut header_end = None;
        for (number, (line, next)) in lines(bytes).enumerate() {
            if cut && next == bytes.len() {
                // The last line read may be cut: the header does not end within the bound.
                break;
            }
            let line = trim(line);
            if line.is_empty() {
                continue;
            }
            let Some(sep) = line.iter().position(|&b| b == b'=' || b == b':') else {
                return Err(if map.is_empty() {
                    not_metaimage(
                        path,
                        format!("its first line is {}, not \"Key = Value\"", quote_short(line)),
                    )
                } else {
                    invalid(
                        path,
                        format!("line {} is {}, not \"Key = Value\"", number + 1, quote_short(line)),
                    )
                });
            };
            let (key, value) = (trim(&line[..sep]), trim(&line[sep + 1..]));
            if map.is_empty() && !KNOWN_KEYS.iter().any(|k| k.as_bytes() == key) {
                return Err(not_metaimage(
                    path,
                    format!("its first line is {}, not a MetaImage field", quote_short(line)),
                ));
            }
            map.insert(key, value);
            if key == b"ElementDataFile" {
                header_end = Some(next as u64);
                break;
            }
        }
        let Some(header_end) = header_end else {
            return Err(if cut {
                unsupported(
                    path,
                    format!(
                        "no ElementDataFile in the first {} bytes: a header longer than 1 MiB",
                        crate::text_header::MAX_HEADER_BYTES
                    ),
                )
            } else if map.is_empty() {
                not_metaimage(path, "it holds no \"Key = Value\" line".into())
            } else {
                invalid(path, "no ElementDataFile (where the voxel data are)".into())
            });
        };
        let f = Fields { path, map };

        if let Some(t) = f.get("ObjectType") {
            if t != b"Image" {
                return Err(unsupported(
                    path,
                    format!("ObjectType = {}; segauge reads images", quote_short(t)),
                ));
            }
        }
        let ndims = f.int("NDims")?.ok_or_else(|| invalid(path, "no NDims".into()))?;
        let ndims = usize::try_from(ndims)
            .ok()
            .filter(|n| (1..=MAX_NDIMS).contains(n))
            .ok_or_else(|| invalid(path, format!("NDims = {ndims} is not in 1..={MAX_NDIMS}")))?;
        let sizes = f.get("DimSize").ok_or_else(|| invalid(path, "no DimSize".into()))?;
        let bad_sizes = || {
            invalid(path, format!("DimSize = {} does not hold {ndims} positive sizes", quote_short(sizes)))
        };
        let sizes: Vec<usize> = std::str::from_utf8(sizes)
            .map_err(|_| bad_sizes())?
            .split_ascii_whitespace()
            .take(ndims)
            .map(|s| s.parse::<usize>().ok().filter(|&d| d > 0))
            .collect::<Option<_>>()
            .ok_or_else(bad_sizes)?;
        if sizes.len() < ndims {
            return Err(bad_sizes());
        }
        let element_channels = match f.int("ElementNumberOfChannels")? {
            None => 1,
            Some(c) => usize::try_from(c).ok().filter(|&c| c >= 1).ok_or_else(|| {
                invalid(path, format!("ElementNumberOfChannels = {c} is not a positive count"))
            })?,
        };
        let mut axis_channels = 1;
        for &d in sizes.iter().skip(3).filter(|&&d| d > 1) {
            if axis_channels > 1 {
                return Err(unsupported(
                    path,
                    format!(
                        "DimSize = {sizes:?}: more than one axis past the third (a label file is 2D or 3D, or has one axis of channels)"
                    ),
                ));
            }
            axis_channels = d;
        }
        if axis_channels > 1 && element_channels > 1 {
            return Err(unsupported(
                path,
                format!(
                    "ElementNumberOfChannels = {element_channels} and a fourth axis of {axis_channels}: channels \
                     along two axes"
                ),
            ));
        }
        let (channels, interleaved) =
            if element_channels > 1 { (element_channels, true) } else { (axis_channels, false) };

        let type_name = f.get("ElementType").ok_or_else(|| invalid(path, "no ElementType".into()))?;
        let kind = match type_name {
            b"MET_UCHAR" => Kind::U8,
            b"MET_CHAR" => Kind::I8,
            b"MET_USHORT" => Kind::U16,
            b"MET_SHORT" => Kind::I16,
            b"MET_UINT" | b"MET_ULONG" => Kind::U32,
            b"MET_INT" | b"MET_LONG" => Kind::I32,
            b"MET_ULONG_LONG" => Kind::U64,
            b"MET_LONG_LONG" => Kind::I64,
            b"MET_FLOAT" => Kind::F32,
            b"MET_DOUBLE" => Kind::F64,
            other => {
                return Err(unsupported(
                    path,
                    format!("ElementType = {}; labels must be integers or floats", quote_short(other)),
                ));
            }
        };
        // Byte order: BinaryDataByteOrderMSB wins over ElementByteOrderMSB, as in MetaIO.
        let big_endian =
            f.flag("BinaryDataByteOrderMSB").or_else(|| f.flag("ElementByteOrderMSB")).unwrap_or(false);
        let binary = f.flag("BinaryData").unwrap_or(true);
        let compressed = binary && f.flag("CompressedData").unwrap_or(false);
        let compressed_len = match f.int("CompressedDataSize")? {
            None | Some(0) => None,
            Some(c) => Some(
                u64::try_from(c)
                    .map_err(|_| invalid(path, format!("CompressedDataSize = {c} is not a size")))?,
            ),
        };
        let header_size = f.int("HeaderSize")?.unwrap_or(0);
        if header_size < -1 {
            return Err(invalid(path, format!("HeaderSize = {header_size} is neither -1 nor a size")));
        }
        if header_size == -1 && compressed {
            return Err(unsupported(
                path,
                "HeaderSize = -1 (data at the end of the file) with compressed data".into(),
            ));
        }
        let data_file = f.text("ElementDataFile").unwrap_or_default();

        let grid = geometry(&f, ndims, &sizes)?;
        Ok(Header {
            voxel_count: grid.voxel_count(),
            grid,
            channels,
            interleaved,
            kind,
            big_endian,
            binary,
            compressed,
            compressed_len,
            header_size,
            data_file,
            header_end,
        })
    }

    /// Where the voxel data are.
    fn source<'a>(&self, path: &'a Path) -> Result<DataSource<'a>, Error> {
        let name = self.data_file.as_str();
        let local = matches!(name, "LOCAL" | "Local" | "local");
        if name.starts_with("LIST") || name.contains('%') {
            return Err(unsupported(
                path,
                format!(
                    "ElementDataFile = {}: the slices in separate files; convert the image to one .mha file",
                    quote_short(name)
                ),
            ));
        }
        if name.is_empty() {
            return Err(invalid(path, "ElementDataFile is empty".into()));
        }
        let file = if local {
            path.to_path_buf()
        } else {
            let named = PathBuf::from(name);
            if named.is_absolute() { named } else { path.parent().unwrap_or(Path::new("")).join(named) }
        };
        // ITK seeks HeaderSize bytes from the start of the data file, even for LOCAL data.
        let (start, skip) = match self.header_size {
            -1 => (0, Skip::ToEnd),
            h if h > 0 => (h as u64, Skip::Bytes(0)),
            _ => (if local { self.header_end } else { 0 }, Skip::Bytes(0)),
        };
        let encoding = match (self.binary, self.compressed) {
            (false, _) => Encoding::Ascii,
            (true, true) => Encoding::Deflate,
            (true, false) => Encoding::Raw,
        };
        Ok(DataSource {
            header: path,
            file,
            named: (!local).then(|| name.to_string()),
            start,
            line_skip: 0,
            skip,
            compressed_len: self.compressed_len.filter(|_| self.compressed),
            encoding,
        })
    }
}

/// Every field MetaIO reads for an image; the first line of a MetaImage file is one of them.
const KNOWN_KEYS: [&str; 39] = [
    "ObjectType",
    "ObjectSubType",
    "FileFormatVersion",
    "Comment",
    "AcquisitionDate",
    "NDims",
    "Name",
    "ID",
    "ParentID",
    "CompressedData",
    "CompressedDataSize",
    "BinaryData",
    "ElementByteOrderMSB",
    "BinaryDataByteOrderMSB",
    "Color",
    "Position",
    "Origin",
    "Offset",
    "TransformMatrix",
    "Rotation",
    "Orientation",
    "CenterOfRotation",
    "DistanceUnits",
    "AnatomicalOrientation",
    "ElementSpacing",
    "DimSize",
    "HeaderSize",
    "Modality",
    "ImagePosition",
    "ElementOrigin",
    "ElementDirection",
    "SequenceID",
    "ElementMin",
    "ElementMax",
    "ElementNumberOfChannels",
    "ElementSize",
    "ElementNBits",
    "ElementType",
    "ElementDataFile",
];

/// The grid of a header: spacing, origin and direction of the first three axes (at most), LPS turned to RAS.
fn geometry(f: &Fields<'_>, ndims: usize, sizes: &[usize]) -> Result<Grid, Error> {
    let path = f.path;
    let version = f.int("FileFormatVersion")?.unwrap_or(0);
    let spatial = ndims.min(3);
    let mut dims = [1usize; 3];
    dims[..spatial].copy_from_slice(&sizes[..spatial]);

    let spacing_field = if f.get("ElementSpacing").is_some() { "ElementSpacing" } else { "ElementSize" };
    let mut spacing = [1.0; 3];
    if let Some(s) = f.numbers(spacing_field, ndims)? {
        for a in 0..spatial {
            if s[a] <= 0.0 {
                return Err(invalid(
                    path,
                    format!("{spacing_field}[{a}] = {} is not a positive spacing", s[a]),
                ));
            }
            spacing[a] = s[a];
        }
    }

    // ITK's precedence, last wins: Offset, Position, Origin (version 0), ImagePosition, ElementOrigin (version 1).
    let origin_keys: &[&str] = if version == 1 {
        &["ElementOrigin", "ImagePosition", "Offset"]
    } else {
        &["ImagePosition", "Origin", "Position", "Offset"]
    };
    let mut origin = [0.0; 3];
    if let Some(o) = f.first_numbers(origin_keys, ndims)? {
        origin[..spatial].copy_from_slice(&o[..spatial]);
    }

    // Orientation, Rotation (version 0), TransformMatrix, ElementDirection (version 1); last wins.
    let direction_keys: &[&str] = if version == 1 {
        &["ElementDirection", "TransformMatrix"]
    } else {
        &["TransformMatrix", "Rotation", "Orientation"]
    };
    let mut direction = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    let mut direction_text = String::from("identity");
    if let Some(m) = f.first_numbers(direction_keys, ndims * ndims)? {
        // Column by column: entry (row r, axis a) is m[a·ndims + r].
        for a in 0..spatial {
            for r in 0..3 {
                direction[r][a] = if r < ndims { m[a * ndims + r] } else { 0.0 };
            }
        }
        direction_text = format!("{:?}", &m[..(ndims * ndims).min(16)]);
    }
    grid_from_lps(dims, spacing, origin, direction).map_err(|e| match e {
        Error::InvalidGrid { reason } => invalid(path, format!("direction {direction_text}: {reason}")),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Header, Error> {
        Header::parse(Path::new("x.mha"), text.as_bytes(), false)
    }

    const SITK: &str = "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n\
        CompressedData = False\nTransformMatrix = 0 1 0 -1 0 0 0 0 1\nOffset = 10.25 -20.5 30.125\n\
        CenterOfRotation = 0 0 0\nAnatomicalOrientation = RAI\nElementSpacing = 0.7 0.9 1.3\nDimSize = 7 6 5\n\
        ElementType = MET_UCHAR\nElementDataFile = LOCAL\n";

    #[test]
    fn a_simpleitk_header_in_lps_reads_as_ras() {
        let h = parse(SITK).unwrap();
        assert_eq!(h.grid.dims(), [7, 6, 5]);
        assert_eq!(h.grid.spacing(), [0.7, 0.9, 1.3]);
        assert_eq!(h.grid.origin(), [-10.25, 20.5, 30.125]);
        // Axis 0 runs along LPS +y (column (0, 1, 0)), i.e. RAS -y; axis 1 along LPS -x, i.e. RAS +x.
        assert_eq!(h.grid.direction(), [[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
        assert_eq!(
            (h.kind, h.big_endian, h.binary, h.compressed, h.channels),
            (Kind::U8, false, true, false, 1)
        );
        assert_eq!(h.header_end, SITK.len() as u64);
    }

    #[test]
    fn aliases_precedence_and_defaults() {
        let h = parse(
            "NDims = 2\nDimSize = 4 3\nPosition = 1 2\nOffset = 5 6\nRotation = 0 1 1 0\nElementSize = 2 3\n\
             ElementByteOrderMSB = True\nElementType = MET_SHORT\nElementDataFile = x.raw\n",
        )
        .unwrap();
        assert_eq!(h.grid.dims(), [4, 3, 1]);
        assert_eq!(h.grid.spacing(), [2.0, 3.0, 1.0]);
        assert_eq!(h.grid.origin(), [-1.0, -2.0, 0.0]);
        // A swap of the axes, in the plane z = 0; the third axis is z, as ITK's NIfTI writer has it.
        assert_eq!(h.grid.direction(), [[0.0, -1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
        assert!(h.big_endian);
        // Version 1 reads ElementOrigin, not Position.
        let h = parse(
            "FileFormatVersion = 1\nNDims = 2\nDimSize = 4 3\nPosition = 1 2\nElementOrigin = 7 8\n\
             ElementType = MET_UCHAR\nElementDataFile = LOCAL\n",
        )
        .unwrap();
        assert_eq!(h.grid.origin(), [-7.0, -8.0, 0.0]);
    }

    #[test]
    fn channels_from_elements_or_a_fourth_axis() {
        let h = parse("NDims = 3\nDimSize = 4 3 2\nElementNumberOfChannels = 3\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n")
            .unwrap();
        assert_eq!((h.channels, h.interleaved), (3, true));
        let h = parse("NDims = 4\nDimSize = 4 3 2 5\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n")
            .unwrap();
        assert_eq!((h.channels, h.interleaved, h.grid.dims()), (5, false, [4, 3, 2]));
        let e = parse(
            "NDims = 4\nDimSize = 4 3 2 5\nElementNumberOfChannels = 2\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n",
        )
        .unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    }

    #[test]
    fn bad_headers_are_named() {
        let e = parse("hello world\n").unwrap_err();
        assert!(matches!(e, Error::NotFormat { .. }), "{e}");
        let e = parse("Foo = 1\n").unwrap_err();
        assert!(matches!(e, Error::NotFormat { .. }), "{e}");
        for (text, want) in [
            ("ObjectType = Mesh\nNDims = 3\nElementDataFile = LOCAL\n", "ObjectType = \"Mesh\""),
            ("NDims = 0\nElementDataFile = LOCAL\n", "NDims = 0 is not in 1..=10"),
            (
                "NDims = 3\nDimSize = 4 0 2\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n",
                "DimSize = \"4 0 2\"",
            ),
            (
                "NDims = 3\nDimSize = 4 3\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n",
                "does not hold 3 positive",
            ),
            (
                "NDims = 3\nDimSize = 4 3 2\nElementType = MET_FLOAT_ARRAY\nElementDataFile = LOCAL\n",
                "MET_FLOAT_ARRAY",
            ),
            (
                "NDims = 3\nDimSize = 4 3 2\nElementType = MET_UCHAR\nElementSpacing = 1 0 1\nElementDataFile = LOCAL\n",
                "ElementSpacing[1] = 0",
            ),
            (
                "NDims = 3\nDimSize = 4 3 2\nElementType = MET_UCHAR\nTransformMatrix = 1 0 0 1 0 0 0 0 1\nElementDataFile = LOCAL\n",
                "singular",
            ),
            ("NDims = 3\nDimSize = 4 3 2\nElementType = MET_UCHAR\n", "no ElementDataFile"),
            (
                "NDims = 3\nDimSize = 4 3 2\nElementType = MET_UCHAR\nHeaderSize = -1\nCompressedData = True\nElementDataFile = LOCAL\n",
                "HeaderSize = -1",
            ),
        ] {
            let e = parse(text).err().unwrap_or_else(|| panic!("{text} was read")).to_string();
            assert!(e.contains(want), "{text}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn lists_and_patterns_are_unsupported() {
        for name in ["LIST", "LIST 2D", "slice%03d.raw 1 10 1"] {
            let h = parse(&format!(
                "NDims = 3\nDimSize = 4 3 2\nElementType = MET_UCHAR\nElementDataFile = {name}\n"
            ))
            .unwrap();
            let e = h.source(Path::new("x.mhd")).unwrap_err();
            assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        }
        let h = parse("NDims = 3\nDimSize = 4 3 2\nElementType = MET_UCHAR\nElementDataFile = data/x.raw\n")
            .unwrap();
        let s = h.source(Path::new("dir/x.mhd")).unwrap();
        assert_eq!(s.file, Path::new("dir/data/x.raw"));
        assert_eq!((s.start, s.encoding), (0, Encoding::Raw));
    }
}
