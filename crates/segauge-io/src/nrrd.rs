//! NRRD reader (`.nrrd`, `.nhdr` with its data file, 3D Slicer's `.seg.nrrd`) for label maps.
//!
//! Written here rather than through a crate: no maintained Rust crate reads NRRD (the one found, `bioformats`,
//! calls itself experimental and "need not be correct").
//!
//! # What is read
//! - The header (the [NRRD format](https://teem.sourceforge.net/nrrd/format.html), magics `NRRD0001` to
//!   `NRRD0005`): `field: value` lines, `key:=value` pairs and `#` comments up to an empty line, after which the
//!   data of an attached header start. Field names are read without regard to case or inner spaces (`byte skip`,
//!   `byteskip`); a field given twice is an error (as pynrrd has it); unknown fields are ignored.
//! - `type`: every integer type under each of its names (`uchar`, `unsigned char`, `uint8`, `uint8_t`, `short`,
//!   `int16`, `unsigned long long`, …), `float` and `double`; values must be integers, negative values are
//!   background. `dimension`, `sizes`, `endian` (required for multi-byte binary data).
//! - `encoding`: `raw`, `gzip`/`gz`, `bzip2`/`bz2` (through the pure-Rust `bzip2` crate), `ascii`/`text`/`txt`,
//!   `hex`. `data file` (or `datafile`): one file, relative to the header's folder; `line skip` (lines skipped
//!   before the data) and `byte skip` (bytes skipped after them: of the file for raw, ASCII and hex data, of the
//!   decompressed stream for gzip and bzip2, as teem does; -1: the data are the last bytes; below -1 refused, as
//!   pynrrd refuses it).
//! - Axes: an axis is spatial when it has a space direction (or, without `space directions`, when its `kinds`
//!   entry is `domain`, `space`, `time` or absent). One other axis of size above 1 may hold channels or layers
//!   (`none` as its space direction; kind `list`, `vector`, `point`, `scalar`, `stub` or the like); more, or a
//!   `complex`, colour or matrix axis, is refused. 1 to 3 spatial axes.
//! - 3D Slicer segmentations (a `Segment0_ID` key, see [`read_nrrd_file`]): layers, label values and names.
//!   `Segment<N>_Extent` (a bounding box Slicer writes as a hint) and `Segmentation_ReferenceImageExtentOffset` are
//!   not needed (Slicer writes the origin so that readers ignoring the offset place the image right). Older Slicer
//!   files that store one segment per frame along a fourth *spatial* axis are refused (four spatial axes).
//!
//! Not read (an error names them): `data file: LIST` and file-name patterns (one file per slice), `type: block`,
//! `space` with a time axis (`right-anterior-superior-time`, …). Ignored: `measurement frame`, `space units`,
//! `thicknesses`, `axis maxs`, `labels`, `units`, `content`, `min`/`max`, and key/value pairs other than Slicer's.
//!
//! # Geometry
//! As ITK's `NrrdImageIO` reads it, then turned to segauge's RAS: a spatial axis's spacing is the length of its
//! space direction and its direction that vector normalised; the origin is `space origin`. The vectors and the
//! origin are in the file's `space`: `right-anterior-superior` (`RAS`) is taken as it is, `left-posterior-superior`
//! (`LPS`) has its x and y negated, `left-anterior-superior` (`LAS`) its x; any other space (`scanner-xyz`,
//! `3D-right-handed`, `3D-left-handed`, or only `space dimension`) is taken as LPS, as ITK uses it verbatim as its
//! LPS. Without space directions (older files): `spacings` (else 1), identity direction in LPS (as ITK), and the
//! origin from `axis mins` (plus half a spacing for cell-centred axes, the default, as teem computes it) or from
//! `space origin`. A file with both `spacings` and `space directions` is refused, as ITK refuses it. A 2D image in
//! a 2D space lies in the plane z = 0, one unit thick (as ITK's NIfTI writer embeds it); two spatial axes in a 3D
//! space get a unit slab thickness along the normal of their plane.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::Error;
use crate::decode::{self, Kind};
use crate::label_file::{LabelFile, channel_layers};
use crate::text_header::{
    DataSource, Encoding, MAX_HEADER_BYTES, Skip, grid_from_lps, lines, normal, quote_short, read_head,
    single_file, trim,
};
use crate::volume::{Grid, LabelVolume, Labels};

/// The most axes teem allows (`NRRD_DIM_MAX`).
const MAX_DIMENSION: usize = 16;

/// Reads a NRRD label map (`.nrrd`, `.seg.nrrd`, or a `.nhdr` header with its data file).
///
/// A file with several layers or channels is read as [`read_nrrd_file`] reads it and must then fit in one label
/// volume.
///
/// # Errors
/// One [`Error`] naming the file: unreadable, truncated or corrupt, not NRRD, unsupported (see the [module
/// documentation](self)), invalid header fields, or a voxel that is not an integer label; [`Error::OverlappingSegments`]
/// for layers or channels that overlap.
pub fn read_nrrd(path: &Path) -> Result<LabelVolume, Error> {
    read_nrrd_file(path)?.into_label_volume(path)
}

/// Reads a NRRD segmentation with its label names and layers.
///
/// - **3D Slicer segmentations** (`.seg.nrrd`, recognised by a `Segment0_ID` key): segment `N` (`Segment<N>_ID`
///   for N = 0, 1, … as long as they follow on) is the voxels of layer `Segment<N>_Layer` (default N; the layers
///   are the entries of the file's `list` axis, one layer without it) that hold `Segment<N>_LabelValue` (default
///   1), named `Segment<N>_Name`, as 3D Slicer reads them. Each segment becomes its own label: its label value when
///   the label values are unique across the file's layers, else the segments are numbered 1, 2, … in segment
///   order (segments in separate layers may share a label value, say 1 for every segment). Values of a layer that
///   no segment claims are background, as Slicer shows them; layers that no segment uses are dropped.
/// - **Other files with a non-spatial axis** hold a 0/1 mask per channel, read as the NIfTI reader reads a 4D
///   file: when channel 0 is the complement of the others (one-hot with background) it is dropped and channel `c`
///   is label `c`; otherwise channel `c` is label `c + 1`. Channels that overlap go to separate layers
///   ([`pack`](crate::pack)).
///
/// ```
/// // Two layers of 3 × 1 × 1 voxels (the list axis first, as Slicer writes them); both segments are value 1.
/// let header = "NRRD0004\ntype: uint8\ndimension: 4\nsizes: 2 3 1 1\nkinds: list domain domain domain\n\
///     encoding: raw\nspace: left-posterior-superior\nspace directions: none (1,0,0) (0,1,0) (0,0,1)\n\
///     Segment0_ID:=Segment_1\nSegment0_Name:=liver\nSegment0_Layer:=0\nSegment0_LabelValue:=1\n\
///     Segment1_ID:=Segment_2\nSegment1_Name:=tumour\nSegment1_Layer:=1\nSegment1_LabelValue:=1\n\n";
/// let mut bytes = header.as_bytes().to_vec();
/// bytes.extend([1, 0, 1, 1, 0, 1]); // (layer 0, layer 1) of each voxel
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("case.seg.nrrd");
/// std::fs::write(&path, bytes)?;
/// let file = segauge_io::read_nrrd_file(&path)?;
/// // The label values repeat across layers, so the segments are numbered 1 and 2.
/// assert_eq!(file.names()[&1], "liver");
/// assert_eq!(file.names()[&2], "tumour");
/// assert_eq!(file.layers()[1].labels().get(1), Some(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`read_nrrd`], without overlaps; a channel voxel other than 0 or 1 ([`Error::NotALabel`]); an invalid segment
/// description ([`Error::InvalidHeader`]).
pub fn read_nrrd_file(path: &Path) -> Result<LabelFile, Error> {
    let head = read_head(path)?;
    let hdr = Header::parse(path, &head.bytes, head.is_cut(), head.file_len)?;
    let layout = Layout::of(path, &hdr)?;
    let grid = geometry(path, &hdr, &layout)?;
    let source = hdr.source(path)?;
    let segments = slicer_segments(path, &hdr.pairs, layout.channels)?;
    let at = |position: usize| layout.voxel_of(position);
    let not_a_label = |bad: decode::BadValue| Error::NotALabel {
        path: path.to_path_buf(),
        voxel: at(bad.index),
        value: bad.value,
        hint: bad.hint,
    };
    if segments.is_none() && layout.channels == 1 {
        // One label map in grid order: rows of zeros are left unwritten (see `read_rows`).
        let values = source.read_rows(hdr.kind, hdr.big_endian, layout.count, grid.dims()[0])?;
        return single_file(path, grid, values, not_a_label);
    }
    let values = source.read(hdr.kind, hdr.big_endian, layout.count)?;
    let labels = decode::decode(values.bytes, values.kind, values.big_endian, None).map_err(not_a_label)?;
    let n = grid.voxel_count();
    let index = |c: usize, v: usize| layout.index(c, v);
    if let Some(segments) = segments {
        return slicer_file(path, &grid, &labels, segments, index);
    }
    debug_assert_eq!(labels.len(), n * layout.channels);
    let layers = channel_layers(path, &grid, layout.channels, &labels, index, at)?;
    LabelFile::layered(layers).map_err(|e| e.in_file(path))
}

fn not_nrrd(path: &Path, detail: String) -> Error {
    Error::NotFormat { path: path.to_path_buf(), format: "NRRD", detail }
}

fn invalid(path: &Path, detail: String) -> Error {
    Error::InvalidHeader { path: path.to_path_buf(), detail }
}

fn unsupported(path: &Path, detail: String) -> Error {
    Error::Unsupported { path: path.to_path_buf(), detail }
}

/// The anatomical frame of a `space`: the signs that take its x, y, z to RAS.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Space {
    dim: usize,
    to_ras: [f64; 3],
}

impl Space {
    /// The signs that take its x, y, z to LPS (ITK's frame).
    fn to_lps(self) -> [f64; 3] {
        std::array::from_fn(|r| self.to_ras[r] * LPS[r])
    }
}

const RAS: [f64; 3] = [1.0, 1.0, 1.0];
const LPS: [f64; 3] = [-1.0, -1.0, 1.0];
const LAS: [f64; 3] = [-1.0, 1.0, 1.0];

fn space_of(path: &Path, value: &[u8]) -> Result<Space, Error> {
    let name = String::from_utf8_lossy(value).to_ascii_lowercase();
    let (dim, to_ras) = match name.as_str() {
        "right-anterior-superior" | "ras" => (3, RAS),
        "left-anterior-superior" | "las" => (3, LAS),
        "left-posterior-superior" | "lps" => (3, LPS),
        // Spaces without an anatomical frame: ITK uses their vectors verbatim as LPS.
        "scanner-xyz" | "3d-right-handed" | "3d-left-handed" => (3, LPS),
        "right-anterior-superior-time"
        | "rast"
        | "left-anterior-superior-time"
        | "last"
        | "left-posterior-superior-time"
        | "lpst"
        | "scanner-xyz-time"
        | "3d-right-handed-time"
        | "3d-left-handed-time" => {
            return Err(unsupported(path, format!("space {} has a time axis", quote_short(value))));
        }
        _ => return Err(invalid(path, format!("space {} is not a NRRD space", quote_short(value)))),
    };
    Ok(Space { dim, to_ras })
}

/// The kinds of axes teem knows, and whether each is a domain (spatial) kind.
fn kind_is_domain(path: &Path, kind: &str) -> Result<bool, Error> {
    Ok(match kind.to_ascii_lowercase().as_str() {
        "domain" | "space" | "time" | "???" | "none" => true,
        "list" | "point" | "vector" | "covariant-vector" | "normal" | "stub" | "scalar" | "2-vector"
        | "3-vector" | "4-vector" | "3-gradient" | "3-normal" => false,
        "complex"
        | "3-color"
        | "rgb-color"
        | "hsv-color"
        | "xyz-color"
        | "4-color"
        | "rgba-color"
        | "quaternion"
        | "2d-symmetric-matrix"
        | "2d-masked-symmetric-matrix"
        | "2d-matrix"
        | "2d-masked-matrix"
        | "3d-symmetric-matrix"
        | "3d-masked-symmetric-matrix"
        | "3d-matrix"
        | "3d-masked-matrix" => {
            return Err(unsupported(
                path,
                format!(
                    "an axis of kind {}; labels are scalars, a channel axis is a list or vector",
                    quote_short(kind)
                ),
            ));
        }
        _ => return Err(invalid(path, format!("kinds holds {}, not a NRRD kind", quote_short(kind)))),
    })
}

/// The parsed header.
#[derive(Debug)]
struct Header {
    kind: Kind,
    sizes: Vec<usize>,
    big_endian: bool,
    encoding: Encoding,
    /// Per axis: true when its `kinds` entry is a domain kind (or absent).
    domain: Vec<bool>,
    space: Option<Space>,
    /// Per axis: its space direction (`None` for `none`), padded to 3 components.
    directions: Option<Vec<Option<[f64; 3]>>>,
    space_origin: Option<[f64; 3]>,
    spacings: Option<Vec<f64>>,
    axis_mins: Option<Vec<f64>>,
    /// Per axis: true when node-centred (`centers: node`).
    node_centred: Vec<bool>,
    data_file: Option<String>,
    line_skip: u64,
    byte_skip: i64,
    /// Where the header ends (the data of an attached header start here).
    header_end: u64,
    /// The key/value pairs (`key:=value`), unescaped.
    pairs: HashMap<String, String>,
}

impl Header {
    fn parse(path: &Path, bytes: &[u8], cut: bool, file_len: u64) -> Result<Header, Error> {
        let mut it = lines(bytes);
        let Some((magic, _)) = it.next() else { return Err(not_nrrd(path, "it is empty".into())) };
        let magic = trim(magic);
        let Some(version) = magic.strip_prefix(b"NRRD") else {
            return Err(not_nrrd(path, format!("its first line is {}, not NRRD000X", quote_short(magic))));
        };
        match version {
            b"0001" | b"0002" | b"0003" | b"0004" | b"0005" | b"00.01" => {}
            v if v.len() == 4 && v.iter().all(u8::is_ascii_digit) => {
                return Err(unsupported(
                    path,
                    format!("NRRD version {} (segauge reads 1 to 5)", quote_short(v)),
                ));
            }
            _ => {
                return Err(not_nrrd(
                    path,
                    format!("its first line is {}, not NRRD000X", quote_short(magic)),
                ));
            }
        }
        let mut fields: BTreeMap<String, &[u8]> = BTreeMap::new();
        let mut pairs = HashMap::new();
        let mut header_end = None;
        for (number, (line, next)) in it.enumerate() {
            let line_no = number + 2;
            if cut && next == bytes.len() {
                // The last line read may be cut: the header does not end within the bound.
                break;
            }
            if line.is_empty() {
                header_end = Some(next as u64);
                break;
            }
            if line.starts_with(b"#") {
                continue;
            }
            if let Some(i) = line.windows(2).position(|w| w == b":=") {
                let key = String::from_utf8_lossy(&line[..i]).into_owned();
                pairs.insert(key, unescape(&line[i + 2..]));
                continue;
            }
            let Some(i) = line.iter().position(|&b| b == b':') else {
                return Err(invalid(
                    path,
                    format!("line {line_no} is {}, not \"field: value\"", quote_short(line)),
                ));
            };
            let name: String = String::from_utf8_lossy(&line[..i])
                .chars()
                .filter(|c| !c.is_whitespace())
                .flat_map(char::to_lowercase)
                .collect();
            let name = match name.as_str() {
                "centerings" => "centers".to_string(),
                _ => name,
            };
            if fields.insert(name, trim(&line[i + 1..])).is_some() {
                return Err(invalid(path, format!("field {} is given twice", quote_short(&line[..i]))));
            }
        }
        let header_end = match header_end {
            Some(end) => end,
            None if cut => {
                return Err(unsupported(
                    path,
                    format!("no empty line ends the header in its first {MAX_HEADER_BYTES} bytes (1 MiB)"),
                ));
            }
            None => file_len,
        };
        let f = Fields { path, map: fields };

        let dimension = f.int("dimension")?.ok_or_else(|| invalid(path, "no dimension field".into()))?;
        let dimension = usize::try_from(dimension)
            .ok()
            .filter(|d| (1..=MAX_DIMENSION).contains(d))
            .ok_or_else(|| invalid(path, format!("dimension {dimension} is not in 1..={MAX_DIMENSION}")))?;
        let sizes_text = f.get("sizes").ok_or_else(|| invalid(path, "no sizes field".into()))?;
        let sizes: Vec<usize> = words(sizes_text)
            .map(|w| std::str::from_utf8(w).ok().and_then(|t| t.parse::<usize>().ok()).filter(|&s| s > 0))
            .collect::<Option<_>>()
            .filter(|s: &Vec<usize>| s.len() == dimension)
            .ok_or_else(|| {
                invalid(path, format!("sizes {} are not {dimension} positive sizes", quote_short(sizes_text)))
            })?;

        let type_name = f.get("type").ok_or_else(|| invalid(path, "no type field".into()))?;
        let kind = type_of(path, type_name)?;
        let encoding_name = f.get("encoding").ok_or_else(|| invalid(path, "no encoding field".into()))?;
        let encoding = match String::from_utf8_lossy(encoding_name).to_ascii_lowercase().as_str() {
            "raw" => Encoding::Raw,
            "gzip" | "gz" => Encoding::Deflate,
            "bzip2" | "bz2" => Encoding::Bzip2,
            "ascii" | "text" | "txt" => Encoding::Ascii,
            "hex" => Encoding::Hex,
            _ => {
                return Err(invalid(
                    path,
                    format!("encoding {} is not a NRRD encoding", quote_short(encoding_name)),
                ));
            }
        };
        let big_endian = match f.get("endian").map(|e| String::from_utf8_lossy(e).to_ascii_lowercase()) {
            Some(e) if e == "big" => true,
            Some(e) if e == "little" => false,
            Some(e) => {
                return Err(invalid(path, format!("endian {} is neither little nor big", quote_short(e))));
            }
            None if kind.size() > 1 && encoding != Encoding::Ascii => {
                return Err(invalid(path, "no endian field for data of more than one byte".into()));
            }
            None => false,
        };

        let domain = match f.get("kinds") {
            None => vec![true; dimension],
            Some(text) => {
                let kinds: Vec<&[u8]> = words(text).collect();
                if kinds.len() != dimension {
                    return Err(invalid(
                        path,
                        format!("kinds {} does not name {dimension} kinds", quote_short(text)),
                    ));
                }
                kinds
                    .iter()
                    .map(|k| kind_is_domain(path, &String::from_utf8_lossy(k)))
                    .collect::<Result<_, _>>()?
            }
        };

        let mut space = f.get("space").map(|s| space_of(path, s)).transpose()?;
        if let Some(d) = f.int("spacedimension")? {
            let d = usize::try_from(d)
                .ok()
                .filter(|d| (1..=3).contains(d))
                .ok_or_else(|| unsupported(path, format!("space dimension {d} (segauge reads 1 to 3)")))?;
            match space {
                Some(s) if s.dim != d => {
                    return Err(invalid(
                        path,
                        format!("space dimension {d} but a {}-dimensional space", s.dim),
                    ));
                }
                Some(_) => {}
                // No anatomical frame: ITK takes the vectors as LPS.
                None => space = Some(Space { dim: d, to_ras: LPS }),
            }
        }
        let directions = match f.get("spacedirections") {
            None => None,
            Some(text) => {
                let vectors = vectors(path, "space directions", text)?;
                if vectors.len() != dimension {
                    return Err(invalid(
                        path,
                        format!("space directions {} does not give {dimension} vectors", quote_short(text)),
                    ));
                }
                let dim = match space {
                    Some(s) => s.dim,
                    None => {
                        let d = vectors.iter().flatten().map(Vec::len).next().unwrap_or(3);
                        space = Some(Space { dim: d, to_ras: LPS });
                        d
                    }
                };
                let mut out = Vec::with_capacity(dimension);
                for v in vectors {
                    out.push(match v {
                        None => None,
                        Some(v) if v.len() == dim && dim <= 3 => {
                            let mut p = [0.0; 3];
                            p[..dim].copy_from_slice(&v);
                            Some(p)
                        }
                        Some(_) => {
                            return Err(invalid(
                                path,
                                format!(
                                    "space directions {} do not have {dim} components",
                                    quote_short(text)
                                ),
                            ));
                        }
                    });
                }
                Some(out)
            }
        };
        let space_origin = match f.get("spaceorigin") {
            None => None,
            Some(text) => {
                let v = vectors(path, "space origin", text)?;
                let dim = space.map_or(3, |s| s.dim);
                match v.as_slice() {
                    [Some(o)] if o.len() == dim && dim <= 3 => {
                        let mut p = [0.0; 3];
                        p[..dim].copy_from_slice(o);
                        // teem writes NaN for an unknown origin.
                        p.iter().all(|c| c.is_finite()).then_some(p)
                    }
                    [None] => None,
                    _ => {
                        return Err(invalid(
                            path,
                            format!("space origin {} is not one vector of {dim} numbers", quote_short(text)),
                        ));
                    }
                }
            }
        };
        let spacings = f.per_axis_numbers("spacings", dimension)?;
        let axis_mins = f.per_axis_numbers("axismins", dimension)?;
        let node_centred = match f.get("centers") {
            None => vec![false; dimension],
            Some(text) => {
                let c: Vec<bool> = words(text).map(|w| w.eq_ignore_ascii_case(b"node")).collect();
                if c.len() != dimension {
                    return Err(invalid(
                        path,
                        format!("centers {} does not give {dimension} centerings", quote_short(text)),
                    ));
                }
                c
            }
        };

        let data_file = f.get("datafile").map(|d| String::from_utf8_lossy(d).into_owned());
        let line_skip = match f.int("lineskip")? {
            None => 0,
            Some(l) => u64::try_from(l).map_err(|_| invalid(path, format!("line skip {l} is negative")))?,
        };
        let byte_skip = f.int("byteskip")?.unwrap_or(0);
        if byte_skip < -1 {
            return Err(invalid(path, format!("byte skip {byte_skip} is below -1")));
        }
        Ok(Header {
            kind,
            sizes,
            big_endian,
            encoding,
            domain,
            space,
            directions,
            space_origin,
            spacings,
            axis_mins,
            node_centred,
            data_file,
            line_skip,
            byte_skip,
            header_end,
            pairs,
        })
    }

    /// Where the voxel data are.
    fn source<'a>(&self, path: &'a Path) -> Result<DataSource<'a>, Error> {
        let file = match self.data_file.as_deref() {
            None => path.to_path_buf(),
            Some(name) => {
                let parts: Vec<&str> = name.split_ascii_whitespace().collect();
                let pattern = parts.len() >= 4 && parts[1..4].iter().all(|p| p.parse::<i64>().is_ok());
                if parts.first() == Some(&"LIST") || pattern {
                    return Err(unsupported(
                        path,
                        format!(
                            "data file {}: the data in several files; convert the image to one .nrrd file",
                            quote_short(name)
                        ),
                    ));
                }
                if name.is_empty() {
                    return Err(invalid(path, "data file is empty".into()));
                }
                let named = PathBuf::from(name);
                if named.is_absolute() { named } else { path.parent().unwrap_or(Path::new("")).join(named) }
            }
        };
        let start = if self.data_file.is_some() { 0 } else { self.header_end };
        let skip = match self.byte_skip {
            -1 => Skip::ToEnd,
            b => Skip::Bytes(b as u64),
        };
        Ok(DataSource {
            header: path,
            file,
            named: self.data_file.clone(),
            start,
            line_skip: self.line_skip,
            skip,
            compressed_len: None,
            encoding: self.encoding,
        })
    }
}

/// Teem's escapes in key/value pairs: `\n` and `\\`.
fn unescape(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn words(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(u8::is_ascii_whitespace).filter(|w| !w.is_empty())
}

fn type_of(path: &Path, name: &[u8]) -> Result<Kind, Error> {
    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
    let name: Vec<&str> = name.split_ascii_whitespace().collect();
    Ok(match name.join(" ").as_str() {
        "signed char" | "int8" | "int8_t" => Kind::I8,
        "uchar" | "unsigned char" | "uint8" | "uint8_t" => Kind::U8,
        "short" | "short int" | "signed short" | "signed short int" | "int16" | "int16_t" => Kind::I16,
        "ushort" | "unsigned short" | "unsigned short int" | "uint16" | "uint16_t" => Kind::U16,
        "int" | "signed int" | "int32" | "int32_t" => Kind::I32,
        "uint" | "unsigned int" | "uint32" | "uint32_t" => Kind::U32,
        "longlong"
        | "long long"
        | "long long int"
        | "signed long long"
        | "signed long long int"
        | "int64"
        | "int64_t" => Kind::I64,
        "ulonglong" | "unsigned long long" | "unsigned long long int" | "uint64" | "uint64_t" => Kind::U64,
        "float" => Kind::F32,
        "double" => Kind::F64,
        "block" => return Err(unsupported(path, "type block (opaque blocks of bytes)".into())),
        other => return Err(invalid(path, format!("type {} is not a NRRD type", quote_short(other)))),
    })
}

/// Vectors `(x,y,z)` or `none`, separated by whitespace.
fn vectors(path: &Path, field: &str, text: &[u8]) -> Result<Vec<Option<Vec<f64>>>, Error> {
    let bad =
        || invalid(path, format!("{field} {} is not a list of (x,y,z) vectors or none", quote_short(text)));
    let mut out = Vec::new();
    let mut rest = trim(text);
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix(b"none") {
            out.push(None);
            rest = r;
        } else if rest.first() == Some(&b'(') {
            let close = rest.iter().position(|&b| b == b')').ok_or_else(bad)?;
            let inner = std::str::from_utf8(&rest[1..close]).map_err(|_| bad())?;
            let v: Vec<f64> = inner
                .split(',')
                .map(|c| c.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| bad())?;
            if v.len() > 3 {
                return Err(unsupported(
                    path,
                    format!("{field} {}: more than 3 components", quote_short(text)),
                ));
            }
            out.push(Some(v));
            rest = &rest[close + 1..];
        } else {
            return Err(bad());
        }
        if !rest.is_empty() && !rest[0].is_ascii_whitespace() {
            return Err(bad());
        }
        rest = trim(rest);
        if out.len() > MAX_DIMENSION {
            return Err(bad());
        }
    }
    Ok(out)
}

/// The fields of a header, by normalised name.
struct Fields<'a> {
    path: &'a Path,
    map: BTreeMap<String, &'a [u8]>,
}

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.map.get(name).copied()
    }

    fn int(&self, name: &str) -> Result<Option<i64>, Error> {
        let Some(v) = self.get(name) else { return Ok(None) };
        std::str::from_utf8(v)
            .ok()
            .and_then(|t| t.parse::<i64>().ok())
            .map(Some)
            .ok_or_else(|| invalid(self.path, format!("{name} {} is not an integer", quote_short(v))))
    }

    /// One number per axis (`nan` for none).
    fn per_axis_numbers(&self, name: &str, dimension: usize) -> Result<Option<Vec<f64>>, Error> {
        let Some(v) = self.get(name) else { return Ok(None) };
        let out: Option<Vec<f64>> =
            words(v).map(|w| std::str::from_utf8(w).ok().and_then(|t| t.parse::<f64>().ok())).collect();
        match out {
            Some(out) if out.len() == dimension => Ok(Some(out)),
            _ => Err(invalid(
                self.path,
                format!("{name} {} does not give {dimension} numbers", quote_short(v)),
            )),
        }
    }
}

/// Which file axes are spatial and which holds channels, and where each value sits in file order.
struct Layout {
    /// The spatial axes, fastest first (1 to 3).
    spatial: Vec<usize>,
    /// The channel axis, when one has a size above 1.
    channel: Option<usize>,
    /// Values per voxel.
    channels: usize,
    /// Stride (in values) of each file axis.
    strides: Vec<usize>,
    sizes: Vec<usize>,
    /// Values in the file.
    count: usize,
    /// `(voxel stride, channel stride)` when voxel `v` sits at `v · voxel stride` (the channel axis, if any, is
    /// the first or the last): the common layouts, indexed without a division.
    linear: Option<(usize, usize)>,
}

impl Layout {
    fn of(path: &Path, hdr: &Header) -> Result<Layout, Error> {
        let dimension = hdr.sizes.len();
        let spatial_axis = |a: usize| match &hdr.directions {
            Some(d) => d[a].is_some(),
            None => hdr.domain[a],
        };
        let spatial: Vec<usize> = (0..dimension).filter(|&a| spatial_axis(a)).collect();
        let others: Vec<usize> = (0..dimension).filter(|&a| !spatial_axis(a) && hdr.sizes[a] > 1).collect();
        if others.len() > 1 {
            return Err(unsupported(
                path,
                format!(
                    "sizes {:?}: more than one non-spatial axis (a label file is 2D or 3D, or has one axis of \
                     channels or layers)",
                    hdr.sizes
                ),
            ));
        }
        if spatial.is_empty() || spatial.len() > 3 {
            return Err(unsupported(
                path,
                format!("{} spatial axes in sizes {:?}; a label file has 1 to 3", spatial.len(), hdr.sizes),
            ));
        }
        let mut strides = Vec::with_capacity(dimension);
        let mut count = 1usize;
        for &s in &hdr.sizes {
            strides.push(count);
            count = count
                .checked_mul(s)
                .ok_or_else(|| invalid(path, format!("sizes {:?} are too large", hdr.sizes)))?;
        }
        let channel = others.first().copied();
        let contiguous = spatial.windows(2).all(|w| strides[w[1]] == strides[w[0]] * hdr.sizes[w[0]]);
        let linear = contiguous.then(|| (strides[spatial[0]], channel.map_or(0, |c| strides[c])));
        Ok(Layout {
            channels: channel.map_or(1, |c| hdr.sizes[c]),
            spatial,
            channel,
            strides,
            sizes: hdr.sizes.clone(),
            count,
            linear,
        })
    }

    fn dims(&self) -> [usize; 3] {
        let mut dims = [1usize; 3];
        for (d, &a) in dims.iter_mut().zip(&self.spatial) {
            *d = self.sizes[a];
        }
        dims
    }

    /// Where channel `c` of voxel `v` (grid order) sits in file order.
    fn index(&self, c: usize, v: usize) -> usize {
        if let Some((voxel, channel)) = self.linear {
            return v * voxel + c * channel;
        }
        let mut rest = v;
        let mut at = 0;
        for &a in &self.spatial {
            at += (rest % self.sizes[a]) * self.strides[a];
            rest /= self.sizes[a];
        }
        at + self.channel.map_or(0, |ch| c * self.strides[ch])
    }

    /// The voxel of a position in file order.
    fn voxel_of(&self, position: usize) -> [usize; 3] {
        let mut out = [0usize; 3];
        for (o, &a) in out.iter_mut().zip(&self.spatial) {
            *o = (position / self.strides[a]) % self.sizes[a];
        }
        out
    }
}

/// The grid of a header (see the module documentation).
fn geometry(path: &Path, hdr: &Header, layout: &Layout) -> Result<Grid, Error> {
    let dims = layout.dims();
    let k = layout.spatial.len();
    let identity = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    let (spacing, origin, direction_lps) = match &hdr.directions {
        Some(directions) => {
            let space = hdr.space.unwrap_or(Space { dim: 3, to_ras: LPS });
            if let Some(s) = &hdr.spacings {
                if layout.spatial.iter().any(|&a| s[a].is_finite()) {
                    return Err(invalid(
                        path,
                        "both spacings and space directions (ITK refuses this too; the spacing is the length of \
                         each space direction)"
                            .into(),
                    ));
                }
            }
            if k < space.dim && !(k == 2 && space.dim == 3) {
                return Err(unsupported(
                    path,
                    format!("{k} spatial axis in a {}-dimensional space", space.dim),
                ));
            }
            let mut spacing = [1.0; 3];
            let mut columns = identity;
            for (i, &a) in layout.spatial.iter().enumerate() {
                let v = directions[a].unwrap_or([0.0; 3]);
                let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
                if !(len.is_finite() && len > 0.0) {
                    return Err(invalid(
                        path,
                        format!("the space direction of axis {a} {v:?} has no length"),
                    ));
                }
                spacing[i] = len;
                columns[i] = v.map(|c| c / len);
            }
            if k == 2 && space.dim == 3 {
                columns[2] = normal(columns[0], columns[1]).ok_or_else(|| {
                    invalid(path, format!("the space directions of axes {:?} are parallel", layout.spatial))
                })?;
            }
            // The file's space to LPS (grid_from_lps then takes LPS to RAS).
            let flip = space.to_lps();
            let direction = std::array::from_fn(|r| std::array::from_fn(|c| flip[r] * columns[c][r]));
            let o = hdr.space_origin.unwrap_or([0.0; 3]);
            (spacing, std::array::from_fn(|r| flip[r] * o[r]), direction)
        }
        None => {
            let mut spacing = [1.0; 3];
            let mut origin = [0.0; 3];
            for (i, &a) in layout.spatial.iter().enumerate() {
                if let Some(s) = hdr.spacings.as_ref().map(|s| s[a]).filter(|s| !s.is_nan()) {
                    if !(s.is_finite() && s > 0.0) {
                        return Err(invalid(
                            path,
                            format!("spacing {s} of axis {a} is not a positive spacing"),
                        ));
                    }
                    if hdr.space.is_some() {
                        return Err(invalid(
                            path,
                            "spacings in a file with a space but no space directions (ITK refuses this too)"
                                .into(),
                        ));
                    }
                    spacing[i] = s;
                }
            }
            // teem's nrrdOriginCalculate: the minimum, plus half a spacing for a cell-centred axis; all axes or none.
            if let Some(mins) = &hdr.axis_mins {
                if layout.spatial.iter().all(|&a| mins[a].is_finite()) {
                    for (i, &a) in layout.spatial.iter().enumerate() {
                        let half = if hdr.node_centred[a] { 0.0 } else { spacing[i] / 2.0 };
                        origin[i] = mins[a] + half;
                    }
                }
            }
            if let (Some(space), Some(o)) = (hdr.space, hdr.space_origin) {
                let flip = space.to_lps();
                origin = std::array::from_fn(|r| flip[r] * o[r]);
            }
            (spacing, origin, identity)
        }
    };
    grid_from_lps(dims, spacing, origin, direction_lps).map_err(|e| match e {
        Error::InvalidGrid { reason } => invalid(path, format!("geometry: {reason}")),
        other => other,
    })
}

/// A segment of a 3D Slicer segmentation.
#[derive(Debug, Clone, PartialEq)]
struct Segment {
    layer: usize,
    value: u32,
    name: Option<String>,
}

/// The segments of a 3D Slicer segmentation (`Segment<N>_ID` for N = 0, 1, …), or `None` for another file.
fn slicer_segments(
    path: &Path,
    pairs: &HashMap<String, String>,
    layers: usize,
) -> Result<Option<Vec<Segment>>, Error> {
    let mut segments = Vec::new();
    while pairs.contains_key(&format!("Segment{}_ID", segments.len())) {
        let n = segments.len();
        let int = |key: &str, default: u64| -> Result<u64, Error> {
            match pairs.get(&format!("Segment{n}_{key}")) {
                None => Ok(default),
                Some(v) => v.trim().parse::<u64>().map_err(|_| {
                    invalid(path, format!("Segment{n}_{key} = {} is not a whole number", quote_short(v)))
                }),
            }
        };
        let layer = int("Layer", n as u64)?;
        if layer >= layers as u64 {
            return Err(invalid(
                path,
                format!(
                    "Segment{n}_Layer = {layer}, but the file has {layers} layer{}",
                    if layers == 1 { "" } else { "s" }
                ),
            ));
        }
        let value = int("LabelValue", 1)?;
        let value = u32::try_from(value).ok().filter(|&v| v > 0).ok_or_else(|| {
            invalid(path, format!("Segment{n}_LabelValue = {value} is not a label (1 to 4294967295)"))
        })?;
        let name =
            pairs.get(&format!("Segment{n}_Name")).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        segments.push(Segment { layer: layer as usize, value, name });
    }
    Ok((!segments.is_empty()).then_some(segments))
}

/// The layers and names of a 3D Slicer segmentation (see [`read_nrrd_file`]).
fn slicer_file(
    path: &Path,
    grid: &Grid,
    labels: &Labels,
    segments: Vec<Segment>,
    index: impl Fn(usize, usize) -> usize,
) -> Result<LabelFile, Error> {
    let mut seen: BTreeMap<(usize, u32), usize> = BTreeMap::new();
    for (n, s) in segments.iter().enumerate() {
        if let Some(first) = seen.insert((s.layer, s.value), n) {
            return Err(invalid(
                path,
                format!("segments {first} and {n} are both label value {} in layer {}", s.value, s.layer),
            ));
        }
    }
    let mut values: Vec<u32> = segments.iter().map(|s| s.value).collect();
    values.sort_unstable();
    let unique = values.windows(2).all(|w| w[0] != w[1]);
    // (layer, value) → label.
    let label_of: BTreeMap<(usize, u32), u32> = segments
        .iter()
        .enumerate()
        .map(|(n, s)| ((s.layer, s.value), if unique { s.value } else { n as u32 + 1 }))
        .collect();
    let names: BTreeMap<u32, String> = segments
        .iter()
        .filter_map(|s| s.name.clone().map(|name| (label_of[&(s.layer, s.value)], name)))
        .collect();
    // Layer → (value → label); layers without segments are left out.
    let mut by_layer: BTreeMap<usize, HashMap<u32, u32>> = BTreeMap::new();
    for (&(layer, value), &label) in &label_of {
        by_layer.entry(layer).or_default().insert(value, label);
    }
    let n = grid.voxel_count();
    let mut out = Vec::new();
    for (&layer, map) in &by_layer {
        // A table for the values the layer's type can hold, when it is small (u8 or u16 data).
        let size = match labels {
            Labels::U8(_) => Some(1 << 8),
            Labels::U16(_) => Some(1 << 16),
            Labels::U32(_) => None,
        };
        let table: Option<Vec<u32>> = size.map(|size| {
            let mut t = vec![0; size];
            for (&value, &label) in map {
                if let Some(slot) = t.get_mut(value as usize) {
                    *slot = label;
                }
            }
            t
        });
        let volume: Vec<u32> = (0..n)
            .map(|v| {
                let value = labels.get(index(layer, v)).unwrap_or(0);
                match &table {
                    Some(t) => t[value as usize],
                    None => map.get(&value).copied().unwrap_or(0),
                }
            })
            .collect();
        out.push(LabelVolume::new(grid.clone(), Labels::from_u32(volume)).map_err(|e| e.in_file(path))?);
    }
    LabelFile::layered(out).map_err(|e| e.in_file(path))?.with_names(names).map_err(|e| e.in_file(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Header, Error> {
        Header::parse(Path::new("x.nrrd"), text.as_bytes(), false, text.len() as u64)
    }

    fn grid_of(text: &str) -> Result<Grid, Error> {
        let h = parse(text)?;
        let layout = Layout::of(Path::new("x.nrrd"), &h)?;
        geometry(Path::new("x.nrrd"), &h, &layout)
    }

    const HEAD: &str =
        "NRRD0004\n# a comment\ntype: unsigned char\ndimension: 3\nsizes: 7 6 5\nencoding: raw\n";

    #[test]
    fn spaces_turn_to_ras() {
        let lps = grid_of(&format!(
            "{HEAD}space: left-posterior-superior\nspace directions: (0,2,0) (-1,0,0) (0,0,3)\nspace origin: (1,2,3)\n\n"
        ))
        .unwrap();
        assert_eq!(lps.spacing(), [2.0, 1.0, 3.0]);
        assert_eq!(lps.origin(), [-1.0, -2.0, 3.0]);
        assert_eq!(lps.direction(), [[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
        let ras = grid_of(&format!(
            "{HEAD}space: RAS\nspace directions: (0,2,0) (-1,0,0) (0,0,3)\nspace origin: (1,2,3)\n\n"
        ))
        .unwrap();
        assert_eq!(ras.origin(), [1.0, 2.0, 3.0]);
        assert_eq!(ras.direction(), [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
        let las = grid_of(&format!(
            "{HEAD}space: LAS\nspace directions: (1,0,0) (0,1,0) (0,0,1)\nspace origin: (1,2,3)\n\n"
        ))
        .unwrap();
        assert_eq!(las.origin(), [-1.0, 2.0, 3.0]);
        assert_eq!(las.direction()[0][0], -1.0);
        // A space without anatomy is taken as LPS, as ITK does.
        let scanner =
            grid_of(&format!("{HEAD}space: scanner-xyz\nspace directions: (1,0,0) (0,1,0) (0,0,1)\n\n"))
                .unwrap();
        assert_eq!(scanner.direction(), [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]]);
    }

    #[test]
    fn without_space_directions_spacings_and_axis_mins() {
        let g =
            grid_of(&format!("{HEAD}spacings: 0.5 2 NaN\naxis mins: 10 20 30\ncenters: cell node cell\n\n"))
                .unwrap();
        assert_eq!(g.spacing(), [0.5, 2.0, 1.0]);
        // LPS identity; origin (10.25, 20, 30.5) in LPS.
        assert_eq!(g.origin(), [-10.25, -20.0, 30.5]);
        assert_eq!(g.direction(), [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]]);
        let e = grid_of(&format!(
            "{HEAD}space: RAS\nspacings: 1 1 1\nspace directions: (1,0,0) (0,1,0) (0,0,1)\n\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("both spacings and space directions"), "{e}");
    }

    #[test]
    fn a_list_axis_first_holds_layers() {
        let h = parse(
            "NRRD0005\ntype: uchar\ndimension: 4\nsizes: 2 4 3 2\nkinds: list domain domain domain\nencoding: raw\n\
             space: LPS\nspace directions: none (1,0,0) (0,1,0) (0,0,1)\nSegment0_ID:=a\n\n",
        )
        .unwrap();
        let layout = Layout::of(Path::new("x.seg.nrrd"), &h).unwrap();
        assert_eq!((layout.spatial.clone(), layout.channel, layout.channels), (vec![1, 2, 3], Some(0), 2));
        assert_eq!(layout.dims(), [4, 3, 2]);
        // Voxel (1, 2, 1) = 1 + 4·2 + 12·1 = 21; channel 1 of it sits at 1 + 2·(1 + 4·(2 + 3·1)).
        assert_eq!(layout.index(1, 21), 1 + 2 * (1 + 4 * (2 + 3)));
        assert_eq!(layout.voxel_of(layout.index(1, 21)), [1, 2, 1]);
        assert_eq!(h.pairs["Segment0_ID"], "a");
        // A channel axis between two spatial axes: indexed axis by axis.
        let h = parse("NRRD0004\ntype: uchar\ndimension: 3\nsizes: 4 2 3\nkinds: domain vector domain\nencoding: raw\n\n")
            .unwrap();
        let layout = Layout::of(Path::new("x.nrrd"), &h).unwrap();
        assert_eq!((layout.dims(), layout.channel, layout.linear), ([4, 3, 1], Some(1), None));
        // Voxel (3, 2) = 3 + 4·2 = 11; channel 1 of it: 3 + 4·1 + 8·2.
        assert_eq!(layout.index(1, 11), 3 + 4 + 16);
        assert_eq!(layout.voxel_of(3 + 4 + 16), [3, 2, 0]);
    }

    #[test]
    fn types_encodings_and_fields() {
        let h = parse(
            "NRRD0004\ntype: unsigned short int\ndimension: 2\nsizes: 3 9\nendian: big\nencoding: GZ\n\
             byteskip: -1\nline skip: 2\ndata file: d.raw.gz\n",
        )
        .unwrap();
        assert_eq!(
            (h.kind, h.big_endian, h.encoding, h.byte_skip, h.line_skip),
            (Kind::U16, true, Encoding::Deflate, -1, 2)
        );
        let s = h.source(Path::new("dir/x.nhdr")).unwrap();
        assert_eq!((s.file.as_path(), s.start, s.skip), (Path::new("dir/d.raw.gz"), 0, Skip::ToEnd));
        for (text, want) in [
            ("NRRD0004\ntype: int\ndimension: 1\nsizes: 3\nencoding: raw\n", "no endian field"),
            (
                "NRRD0004\ntype: int16\ndimension: 2\nsizes: 3\nencoding: raw\nendian: little\n",
                "are not 2 positive sizes",
            ),
            ("NRRD0004\ntype: quad\ndimension: 1\nsizes: 3\nencoding: raw\n", "type \"quad\""),
            ("NRRD0004\ntype: uchar\ndimension: 1\nsizes: 3\nencoding: zip\n", "encoding \"zip\""),
            ("NRRD0004\ntype: uchar\ntype: uchar\n", "given twice"),
            ("NRRD0004\ntype: uchar\ndimension: 1\nsizes: 3\nencoding: raw\nbyte skip: -2\n", "below -1"),
            ("NRRD0004\ntype: block\ndimension: 1\nsizes: 3\nencoding: raw\n", "type block"),
            ("NRRD0009\n", "NRRD version \"0009\""),
            ("NRRD0004\njunk\n", "line 2 is \"junk\""),
            ("NRRD0004\ntype: uchar\ndimension: 1\nsizes: 3\nencoding: raw\nkinds: RGB-color\n", "RGB-color"),
            ("NRRD0004\ntype: uchar\ndimension: 3\nsizes: 3 3 3\nencoding: raw\nspace: RAST\n", "time axis"),
        ] {
            let e = parse(text).err().unwrap_or_else(|| panic!("{text} was read")).to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
        assert!(matches!(parse("P5\n3 3\n"), Err(Error::NotFormat { .. })));
        for name in ["LIST", "LIST 2", "slice%03d.raw 1 10 1", "slice%03d.raw 1 10 1 2"] {
            let h = parse(&format!(
                "NRRD0004\ntype: uchar\ndimension: 1\nsizes: 3\nencoding: raw\ndata file: {name}\n"
            ))
            .unwrap();
            assert!(matches!(h.source(Path::new("x.nhdr")), Err(Error::Unsupported { .. })), "{name}");
        }
    }

    #[test]
    fn vectors_and_escapes() {
        let v = vectors(Path::new("x"), "space directions", b"none (1, 0,0) (0.5,1e-3,-2)").unwrap();
        assert_eq!(v, [None, Some(vec![1.0, 0.0, 0.0]), Some(vec![0.5, 1e-3, -2.0])]);
        assert!(vectors(Path::new("x"), "f", b"(1,0,0)(0,1,0)").is_err());
        assert!(vectors(Path::new("x"), "f", b"(1,0,0").is_err());
        assert_eq!(unescape(br"a\nb\\c\d"), "a\nb\\c\\d");
    }

    #[test]
    fn slicer_labels_stay_or_are_renumbered() {
        let grid = Grid::new([3, 1, 1], [1.0; 3]).unwrap();
        // Two layers, interleaved (list axis first): layer 0 = [1, 1, 0], layer 1 = [0, 1, 1].
        let labels = Labels::U8(vec![1, 0, 1, 1, 0, 1]);
        let seg = |layer, value, name: &str| Segment { layer, value, name: Some(name.into()) };
        let file = slicer_file(
            Path::new("s.seg.nrrd"),
            &grid,
            &labels,
            vec![seg(0, 1, "liver"), seg(1, 1, "tumour")],
            |c, v| v * 2 + c,
        )
        .unwrap();
        assert_eq!(file.layers().len(), 2);
        let values = |l: &LabelVolume| (0..3).map(|i| l.labels().get(i).unwrap()).collect::<Vec<_>>();
        assert_eq!(values(&file.layers()[0]), [1, 1, 0]);
        assert_eq!(values(&file.layers()[1]), [0, 2, 2]);
        assert_eq!(file.names()[&2], "tumour");
        // A layer no segment uses is dropped.
        let file =
            slicer_file(Path::new("s.seg.nrrd"), &grid, &labels, vec![seg(1, 1, "tumour")], |c, v| v * 2 + c)
                .unwrap();
        assert_eq!(file.layers().len(), 1);
        assert_eq!(values(&file.layers()[0]), [0, 1, 1]);
        // Unique label values are kept; a value no segment claims is background.
        let labels = Labels::U8(vec![5, 7, 9]);
        let file = slicer_file(
            Path::new("s.seg.nrrd"),
            &grid,
            &labels,
            vec![seg(0, 7, "a"), seg(0, 5, "b")],
            |_, v| v,
        )
        .unwrap();
        assert_eq!(values(&file.layers()[0]), [5, 7, 0]);
        assert_eq!(file.names()[&7], "a");
        let e = slicer_file(Path::new("s"), &grid, &labels, vec![seg(0, 7, "a"), seg(0, 7, "b")], |_, v| v)
            .unwrap_err();
        assert!(e.to_string().contains("segments 0 and 1 are both label value 7 in layer 0"), "{e}");
    }

    #[test]
    fn slicer_segment_fields() {
        let mut pairs = HashMap::new();
        assert_eq!(slicer_segments(Path::new("s"), &pairs, 1).unwrap(), None);
        for (k, v) in [
            ("Segment0_ID", "Segment_1"),
            ("Segment0_Name", "liver"),
            ("Segment1_ID", "x"),
            ("Segment1_LabelValue", "3"),
        ] {
            pairs.insert(k.to_string(), v.to_string());
        }
        let e = slicer_segments(Path::new("s"), &pairs, 1).unwrap_err();
        assert!(e.to_string().contains("Segment1_Layer = 1, but the file has 1 layer"), "{e}");
        pairs.insert("Segment1_Layer".into(), "0".into());
        let s = slicer_segments(Path::new("s"), &pairs, 1).unwrap().unwrap();
        assert_eq!(
            s,
            [
                Segment { layer: 0, value: 1, name: Some("liver".into()) },
                Segment { layer: 0, value: 3, name: None }
            ]
        );
        pairs.insert("Segment1_LabelValue".into(), "0".into());
        assert!(slicer_segments(Path::new("s"), &pairs, 1).is_err());
    }
}
