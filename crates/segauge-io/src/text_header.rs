//! What the MetaImage and NRRD readers share: a text header read with a bound, the voxel data its header
//! describes (raw, deflate, bzip2, ASCII or hex; in the header's file or in a data file it names) read without
//! allocating on the header's word, and the change from ITK's LPS world coordinates to segauge's RAS.
//!
//! # Hostile headers
//! A header is read from at most the first [`MAX_HEADER_BYTES`] of its file; a longer one is refused. Before any
//! buffer is sized by the header's dimensions, the bytes available are checked: uncompressed data must fit in
//! what its file holds after the header and skips ([`Error::Truncated`] otherwise), a deflate stream is given at
//! most [`inflate_bound`] of its compressed size up front, ASCII data at most one value per two bytes of text; past
//! that, buffers grow only as data actually arrives. bzip2 has no useful bound on its ratio (a block of a few dozen
//! bytes can decode to 45 MB), so its buffer too grows only as decoded data arrives, up to what the header
//! announces.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::Error;
use crate::decode::{self, Kind};
use crate::error::quote;
use crate::head::{inflate_bound, read_up_to, read_voxels};
use crate::label_file::LabelFile;
use crate::volume::{Grid, LabelVolume, Rows};

/// The longest text header read (1 MiB): a header that does not end within it is refused. Real headers take a
/// few hundred bytes; a 3D Slicer segmentation with a thousand segments, about 300 kB.
pub(crate) const MAX_HEADER_BYTES: usize = 1 << 20;

/// The most bytes of one number in ASCII data.
const MAX_TOKEN: usize = 64;

/// The first bytes of a file, at most [`MAX_HEADER_BYTES`] + 1 (one more than a header may have, so that a header
/// that does not end within the bound is told apart from one that ends with the file), and the file's length.
pub(crate) struct Head {
    pub(crate) bytes: Vec<u8>,
    pub(crate) file_len: u64,
}

impl Head {
    /// True when the file goes on past the bytes read (so an unterminated header is longer than the bound).
    pub(crate) fn is_cut(&self) -> bool {
        (self.bytes.len() as u64) < self.file_len
    }
}

/// Reads the [`Head`] of `path`.
pub(crate) fn read_head(path: &Path) -> Result<Head, Error> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let mut file = File::open(path).map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    let want = usize::try_from(file_len).unwrap_or(usize::MAX).min(MAX_HEADER_BYTES + 1);
    let mut bytes = vec![0u8; want];
    let got = read_up_to(&mut file, &mut bytes).map_err(io)?;
    bytes.truncate(got);
    Ok(Head { bytes, file_len })
}

/// The lines of `bytes` as (line without `\n` or `\r\n`, offset just past its `\n`); a last line without `\n`
/// ends at `bytes.len()`.
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (&[u8], usize)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= bytes.len() {
            return None;
        }
        let rest = &bytes[pos..];
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], pos + i + 1),
            None => (rest, bytes.len()),
        };
        pos = next;
        Some((line.strip_suffix(b"\r").unwrap_or(line), next))
    })
}

/// The most bytes of file content that [`quote_short`] puts in a message.
const SHORT_QUOTE: usize = 60;

/// File content quoted as [`quote`] quotes it, but at most [`SHORT_QUOTE`] bytes of it: header lines may hold any
/// bytes, whose escapes (`\u{0}`) take up to six characters each, and a message may quote several of them.
pub(crate) fn quote_short(content: impl AsRef<[u8]>) -> String {
    let content = content.as_ref();
    if content.len() <= SHORT_QUOTE {
        return quote(content);
    }
    let head = quote(&content[..SHORT_QUOTE]);
    format!("{}…\" ({} bytes)", &head[..head.len() - 1], content.len())
}

/// `text` with ASCII whitespace trimmed at both ends.
pub(crate) fn trim(text: &[u8]) -> &[u8] {
    text.trim_ascii()
}

/// How the voxel values are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// The bytes as they are.
    Raw,
    /// A deflate stream, gzip (NRRD, and MetaImage as ITK writes it) or zlib (MetaImage), told apart by its
    /// first two bytes.
    Deflate,
    /// A bzip2 stream (NRRD).
    #[cfg(feature = "nrrd")]
    Bzip2,
    /// Numbers in text, separated by whitespace or commas.
    Ascii,
    /// Two hexadecimal digits per byte, whitespace ignored (NRRD).
    #[cfg(feature = "nrrd")]
    Hex,
}

/// Bytes to skip before the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skip {
    /// This many: of the file for raw, ASCII and hex data; of the decoded stream for compressed data.
    Bytes(u64),
    /// The data are the last bytes: of the file for raw data, of the decoded stream for compressed data.
    ToEnd,
}

/// Where and how the voxel data of a header are stored.
#[derive(Debug, Clone)]
pub(crate) struct DataSource<'a> {
    /// The header file, named in every error.
    pub(crate) header: &'a Path,
    /// The file that holds the data: the header file itself, or a data file the header names.
    pub(crate) file: PathBuf,
    /// The data file's name as the header gives it (`None` for data in the header's file).
    pub(crate) named: Option<String>,
    /// The byte of `file` where the data (or the line skip, or the compressed stream) starts.
    pub(crate) start: u64,
    /// Lines skipped from `start` before anything else (NRRD `line skip`).
    pub(crate) line_skip: u64,
    /// Bytes skipped after the lines.
    pub(crate) skip: Skip,
    /// Bytes of the compressed stream (MetaImage `CompressedDataSize`); `None`: up to the end of the file.
    pub(crate) compressed_len: Option<u64>,
    /// How the values are stored.
    pub(crate) encoding: Encoding,
}

/// Voxel values as read: `bytes` holds `count` values of `kind` in file order (ASCII data come as f64).
#[derive(Debug)]
pub(crate) struct Values {
    pub(crate) bytes: Vec<u8>,
    pub(crate) kind: Kind,
    pub(crate) big_endian: bool,
    /// With [`DataSource::read_rows`]: the rows written (every other row is zero bytes, never touched).
    pub(crate) rows: Option<Rows>,
}

/// The label file of one label map in grid order, from [`DataSource::read_rows`]: decoded and scanned only in the
/// rows written when there are rows, whole otherwise.
pub(crate) fn single_file(
    path: &Path,
    grid: Grid,
    values: Values,
    not_a_label: impl FnOnce(decode::BadValue) -> Error,
) -> Result<LabelFile, Error> {
    let nx = grid.dims()[0];
    let volume = match values.rows {
        Some(rows) => {
            let spans = rows.iter().map(|r| r * nx..(r + 1) * nx);
            let labels = decode::decode_spans(values.bytes, values.kind, values.big_endian, None, spans)
                .map_err(not_a_label)?;
            LabelVolume::from_rows(grid, labels, rows)
        }
        None => {
            let labels =
                decode::decode(values.bytes, values.kind, values.big_endian, None).map_err(not_a_label)?;
            LabelVolume::new(grid, labels)
        }
    };
    Ok(LabelFile::single(volume.map_err(|e| e.in_file(path))?))
}

impl DataSource<'_> {
    fn truncated(&self, detail: String) -> Error {
        Error::Truncated { path: self.header.to_path_buf(), detail: format!("{}{detail}", self.in_file()) }
    }

    /// `in data file "x.raw": ` for a detached data file, nothing for attached data.
    fn in_file(&self) -> String {
        match &self.named {
            None => String::new(),
            Some(name) => format!("in data file {}: ", quote_short(name.as_bytes())),
        }
    }

    /// An I/O error, naming the header and, quoted, the data file as the header names it (never the path it
    /// resolves to, which the header may fill with any bytes).
    fn io(&self, e: std::io::Error) -> Error {
        match &self.named {
            None => Error::Io { path: self.header.to_path_buf(), source: e },
            Some(name) => {
                let source =
                    std::io::Error::new(e.kind(), format!("data file {}: {e}", quote_short(name.as_bytes())));
                Error::Io { path: self.header.to_path_buf(), source }
            }
        }
    }

    /// Reads `count` values of `kind` (byte order `big_endian`, for binary encodings).
    pub(crate) fn read(&self, kind: Kind, big_endian: bool, count: usize) -> Result<Values, Error> {
        self.read_with(kind, big_endian, count, None)
    }

    /// [`DataSource::read`] of rows of `row` values: binary data (raw, deflate, bzip2) whose values start at a
    /// byte offset, and whose whole size could be reserved up front, are read into zeroed memory writing only the
    /// rows with a non-zero byte ([`read_rows`](crate::head::read_rows)), which `rows` of the result lists; other
    /// data are read whole (`rows` is `None`).
    pub(crate) fn read_rows(
        &self,
        kind: Kind,
        big_endian: bool,
        count: usize,
        row: usize,
    ) -> Result<Values, Error> {
        self.read_with(kind, big_endian, count, Some(row.saturating_mul(kind.size())))
    }

    fn read_with(
        &self,
        kind: Kind,
        big_endian: bool,
        count: usize,
        row_bytes: Option<usize>,
    ) -> Result<Values, Error> {
        let nbytes = count.checked_mul(kind.size()).ok_or_else(|| Error::InvalidHeader {
            path: self.header.to_path_buf(),
            detail: format!("{count} values of {} bytes do not fit in memory", kind.size()),
        })?;
        let mut file = File::open(&self.file).map_err(|e| self.io(e))?;
        let file_len = file.metadata().map_err(|e| self.io(e))?.len();
        if self.start > file_len {
            return Err(self.truncated(format!(
                "the data start at byte {} but the file ends at {file_len}",
                self.start
            )));
        }
        file.seek(SeekFrom::Start(self.start)).map_err(|e| self.io(e))?;
        let mut reader = BufReader::with_capacity(1 << 16, file.take(file_len - self.start));
        let skipped_lines = self.skip_lines(&mut reader)?;
        let pos = self.start + skipped_lines;
        let left = file_len - pos;
        match self.encoding {
            Encoding::Raw => {
                let offset = match self.skip {
                    Skip::Bytes(b) if b <= left => pos + b,
                    Skip::Bytes(b) => {
                        return Err(self.truncated(format!("a byte skip of {b} passes the end of the file")));
                    }
                    Skip::ToEnd if (nbytes as u64) <= file_len => file_len - nbytes as u64,
                    Skip::ToEnd => {
                        return Err(self.truncated(format!(
                            "the header announces {nbytes} bytes of voxel data at the end of the file, the file has \
                             {file_len}"
                        )));
                    }
                };
                let have = file_len - offset;
                if (nbytes as u64) > have {
                    return Err(self.truncated(format!(
                        "the header announces {nbytes} bytes of voxel data from byte {offset}, the file has {have} \
                         there"
                    )));
                }
                let mut file = reader.into_inner().into_inner();
                file.seek(SeekFrom::Start(offset)).map_err(|e| self.io(e))?;
                let (bytes, rows) = read_voxels(file, self.buffer(nbytes, nbytes)?, nbytes, row_bytes)
                    .map_err(|e| self.truncated(format!("in the voxel data: {e}")))?;
                let read = bytes.len();
                if read != nbytes {
                    return Err(
                        self.truncated(format!("expected {nbytes} bytes of voxel data, found {read}"))
                    );
                }
                Ok(Values { bytes, kind, big_endian, rows })
            }
            #[cfg(feature = "nrrd")]
            Encoding::Bzip2 => {
                let stream_len = self.stream_len(pos, left)?;
                let stream = reader.take(stream_len);
                let (bytes, rows) = self.decompress(
                    bzip2::read::MultiBzDecoder::new(stream),
                    nbytes,
                    stream_len,
                    false,
                    row_bytes,
                )?;
                Ok(Values { bytes, kind, big_endian, rows })
            }
            Encoding::Deflate => {
                let stream_len = self.stream_len(pos, left)?;
                let mut stream = BufReader::new(reader.take(stream_len));
                let gzip = stream.fill_buf().map_err(|e| self.io(e))?.starts_with(&[0x1f, 0x8b]);
                let (bytes, rows) = if gzip {
                    let dec = flate2::bufread::MultiGzDecoder::new(stream);
                    self.decompress(dec, nbytes, stream_len, true, row_bytes)?
                } else {
                    self.decompress(
                        flate2::bufread::ZlibDecoder::new(stream),
                        nbytes,
                        stream_len,
                        true,
                        row_bytes,
                    )?
                };
                Ok(Values { bytes, kind, big_endian, rows })
            }
            #[cfg(feature = "nrrd")]
            Encoding::Hex => {
                let left = self.text_skip(&mut reader, left)?;
                Ok(Values { bytes: self.hex(reader, nbytes, left)?, kind, big_endian, rows: None })
            }
            Encoding::Ascii => {
                let left = self.text_skip(&mut reader, left)?;
                let bytes = self.ascii(reader, count, left)?;
                Ok(Values { bytes, kind: Kind::F64, big_endian: false, rows: None })
            }
        }
    }

    /// The length of the compressed stream that starts at `pos`, with `left` bytes of the file from there.
    fn stream_len(&self, pos: u64, left: u64) -> Result<u64, Error> {
        match self.compressed_len {
            Some(c) if c <= left => Ok(c),
            Some(c) => Err(self.truncated(format!(
                "the header announces {c} bytes of compressed data from byte {pos}, the file has {left} there"
            ))),
            None => Ok(left),
        }
    }

    /// Skips the byte skip of text data; returns the bytes left.
    fn text_skip(&self, reader: &mut impl Read, left: u64) -> Result<u64, Error> {
        match self.skip {
            Skip::Bytes(b) if b <= left => {
                std::io::copy(&mut reader.take(b), &mut std::io::sink()).map_err(|e| self.io(e))?;
                Ok(left - b)
            }
            Skip::Bytes(b) => Err(self.truncated(format!("a byte skip of {b} passes the end of the file"))),
            Skip::ToEnd => Err(Error::InvalidHeader {
                path: self.header.to_path_buf(),
                detail: "a byte skip of -1 (data at the end of the file) needs raw or compressed data".into(),
            }),
        }
    }

    /// Skips `line_skip` lines; returns the bytes skipped.
    fn skip_lines(&self, reader: &mut impl BufRead) -> Result<u64, Error> {
        let mut skipped = 0u64;
        for line in 0..self.line_skip {
            loop {
                let buf = reader.fill_buf().map_err(|e| self.io(e))?;
                if buf.is_empty() {
                    return Err(self.truncated(format!(
                        "a line skip of {} passes the end of the file after {line} lines",
                        self.line_skip
                    )));
                }
                match buf.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        reader.consume(i + 1);
                        skipped += i as u64 + 1;
                        break;
                    }
                    None => {
                        let n = buf.len();
                        reader.consume(n);
                        skipped += n as u64;
                    }
                }
            }
        }
        Ok(skipped)
    }

    /// An empty buffer with room for `reserve` bytes (of the `nbytes` announced).
    fn buffer(&self, reserve: usize, nbytes: usize) -> Result<Vec<u8>, Error> {
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(reserve).map_err(|_| Error::Unsupported {
            path: self.header.to_path_buf(),
            detail: format!("voxel data of {nbytes} bytes does not fit in memory"),
        })?;
        Ok(bytes)
    }

    /// The `nbytes` of voxel data of a stream of `stream_len` compressed bytes, after the skip; `drain`: read the
    /// stream to its end, so that its checksum is verified.
    fn decompress(
        &self,
        mut dec: impl Read,
        nbytes: usize,
        stream_len: u64,
        drain: bool,
        row_bytes: Option<usize>,
    ) -> Result<(Vec<u8>, Option<Rows>), Error> {
        let corrupt = |e: std::io::Error, where_: &str| self.truncated(format!("{where_}: {e}"));
        // Reserved up front: no more than deflate's bound (for bzip2, a guess); past it, the buffer grows only as
        // decoded data arrive.
        let reserve = nbytes.min(usize::try_from(inflate_bound(stream_len)).unwrap_or(usize::MAX));
        match self.skip {
            Skip::Bytes(b) => {
                let skipped = std::io::copy(&mut dec.by_ref().take(b), &mut std::io::sink())
                    .map_err(|e| corrupt(e, "in the compressed data"))?;
                if skipped < b {
                    return Err(self.truncated(format!(
                        "a byte skip of {b} passes the end of the decompressed data ({skipped} bytes)"
                    )));
                }
                let (bytes, rows) = read_voxels(&mut dec, self.buffer(reserve, nbytes)?, nbytes, row_bytes)
                    .map_err(|e| corrupt(e, "in the compressed voxel data"))?;
                let read = bytes.len();
                if read != nbytes {
                    return Err(
                        self.truncated(format!("expected {nbytes} bytes of voxel data, found {read}"))
                    );
                }
                if drain {
                    std::io::copy(&mut dec, &mut std::io::sink())
                        .map_err(|e| corrupt(e, "after the voxel data"))?;
                }
                Ok((bytes, rows))
            }
            Skip::ToEnd => {
                // Keep the last `nbytes` of the whole stream, in a window of at most twice that.
                let mut window = self.buffer(reserve, nbytes)?;
                let mut chunk = vec![0u8; 1 << 16];
                let mut total = 0u64;
                loop {
                    let n = match dec.read(&mut chunk) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(corrupt(e, "in the compressed data")),
                    };
                    total += n as u64;
                    window.extend_from_slice(&chunk[..n]);
                    if window.len() > nbytes.saturating_mul(2).max(1 << 16) {
                        window.drain(..window.len() - nbytes);
                    }
                }
                if window.len() < nbytes {
                    return Err(self.truncated(format!(
                        "the header announces {nbytes} bytes of voxel data at the end of the decompressed data, \
                         which has {total}"
                    )));
                }
                window.drain(..window.len() - nbytes);
                Ok((window, None))
            }
        }
    }

    /// `count` numbers of ASCII text (`left` bytes), as f64 bytes.
    fn ascii(&self, mut r: impl BufRead, count: usize, left: u64) -> Result<Vec<u8>, Error> {
        // Each number takes a digit and a separator, but the last.
        let most = usize::try_from(left.div_ceil(2)).unwrap_or(usize::MAX);
        if count > most {
            return Err(self.truncated(format!(
                "the header announces {count} values, {left} bytes of text hold at most {most}"
            )));
        }
        let mut out = self.buffer(count * 8, count * 8)?;
        let mut token: Vec<u8> = Vec::with_capacity(MAX_TOKEN);
        let mut found = 0usize;
        let push = |token: &mut Vec<u8>, out: &mut Vec<u8>, found: &mut usize| -> Result<(), Error> {
            if token.is_empty() || *found == count {
                token.clear();
                return Ok(());
            }
            let value =
                std::str::from_utf8(token).ok().and_then(|t| t.parse::<f64>().ok()).ok_or_else(|| {
                    self.truncated(format!(
                        "value {} of the ASCII data is {}, not a number",
                        *found,
                        quote_short(&token)
                    ))
                })?;
            out.extend_from_slice(&value.to_le_bytes());
            *found += 1;
            token.clear();
            Ok(())
        };
        'read: loop {
            let buf = r.fill_buf().map_err(|e| self.io(e))?;
            if buf.is_empty() {
                break;
            }
            let n = buf.len();
            for &b in buf {
                if b.is_ascii_whitespace() || b == b',' {
                    push(&mut token, &mut out, &mut found)?;
                    if found == count {
                        break 'read;
                    }
                } else if token.len() < MAX_TOKEN {
                    token.push(b);
                } else {
                    token.push(b);
                    return Err(self.truncated(format!(
                        "value {found} of the ASCII data is {}, not a number",
                        quote_short(&token)
                    )));
                }
            }
            r.consume(n);
        }
        push(&mut token, &mut out, &mut found)?;
        if found < count {
            return Err(self.truncated(format!("expected {count} values of ASCII data, found {found}")));
        }
        Ok(out)
    }

    #[cfg(feature = "nrrd")]
    /// `nbytes` bytes written as hexadecimal text (`left` bytes), whitespace ignored.
    fn hex(&self, mut r: impl BufRead, nbytes: usize, left: u64) -> Result<Vec<u8>, Error> {
        let most = usize::try_from(left / 2).unwrap_or(usize::MAX);
        if nbytes > most {
            return Err(self.truncated(format!(
                "the header announces {nbytes} bytes of voxel data, {left} bytes of hex text hold at most {most}"
            )));
        }
        let mut out = self.buffer(nbytes, nbytes)?;
        let mut high: Option<u8> = None;
        let mut at = 0u64;
        'read: loop {
            let buf = r.fill_buf().map_err(|e| self.io(e))?;
            if buf.is_empty() {
                break;
            }
            let n = buf.len();
            for &b in buf {
                at += 1;
                if b.is_ascii_whitespace() {
                    continue;
                }
                let Some(digit) = (b as char).to_digit(16) else {
                    return Err(self.truncated(format!(
                        "byte {at} of the hex data is {}, not a hexadecimal digit",
                        quote_short([b])
                    )));
                };
                match high.take() {
                    None => high = Some(digit as u8),
                    Some(h) => {
                        out.push(h << 4 | digit as u8);
                        if out.len() == nbytes {
                            break 'read;
                        }
                    }
                }
            }
            r.consume(n);
        }
        if out.len() < nbytes {
            return Err(self.truncated(format!("expected {nbytes} bytes of hex data, found {}", out.len())));
        }
        Ok(out)
    }
}

/// A grid from ITK's geometry (LPS: x to the left, y posterior, z superior), in segauge's RAS: the x and y rows of
/// the origin and of the direction are negated, as `dicom::SliceGeometry::grid` does for DICOM.
pub(crate) fn grid_from_lps(
    dims: [usize; 3],
    spacing: [f64; 3],
    origin: [f64; 3],
    direction: [[f64; 3]; 3],
) -> Result<Grid, Error> {
    let flip = [-1.0, -1.0, 1.0];
    let origin = std::array::from_fn(|r| flip[r] * origin[r]);
    let direction = std::array::from_fn(|r| direction[r].map(|v| flip[r] * v));
    Grid::new(dims, spacing)?.with_origin(origin)?.with_direction(direction)
}

#[cfg(feature = "nrrd")]
/// The third direction of a grid with two in-plane axes: their normalised cross product (a unit slab along the
/// normal of a 2D image), or `None` when they are parallel.
pub(crate) fn normal(u: [f64; 3], v: [f64; 3]) -> Option<[f64; 3]> {
    let n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    (len > 0.0 && len.is_finite()).then(|| n.map(|c| c / len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn source<'a>(header: &'a Path, file: &Path, encoding: Encoding) -> DataSource<'a> {
        DataSource {
            header,
            file: file.to_path_buf(),
            named: None,
            start: 0,
            line_skip: 0,
            skip: Skip::Bytes(0),
            compressed_len: None,
            encoding,
        }
    }

    #[test]
    fn lines_end_at_newlines_and_drop_carriage_returns() {
        let got: Vec<(&[u8], usize)> = lines(b"a = 1\r\nb\n\nc").collect();
        assert_eq!(got, [(&b"a = 1"[..], 7), (&b"b"[..], 9), (&b""[..], 10), (&b"c"[..], 11)]);
    }

    #[test]
    fn raw_data_with_line_and_byte_skips_and_from_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.raw");
        std::fs::write(&path, b"skip me\nand me\nXX\x01\x02\x03\x04").unwrap();
        let mut src = source(&path, &path, Encoding::Raw);
        src.line_skip = 2;
        src.skip = Skip::Bytes(2);
        assert_eq!(src.read(Kind::U8, false, 4).unwrap().bytes, [1, 2, 3, 4]);
        src.skip = Skip::ToEnd;
        assert_eq!(src.read(Kind::U16, true, 1).unwrap().bytes, [3, 4]);
        src.skip = Skip::Bytes(3);
        let e = src.read(Kind::U8, false, 4).unwrap_err().to_string();
        assert!(e.contains("announces 4 bytes of voxel data from byte 18, the file has 3 there"), "{e}");
        src.line_skip = 5;
        let e = src.read(Kind::U8, false, 1).unwrap_err().to_string();
        assert!(e.contains("a line skip of 5 passes the end of the file after 2 lines"), "{e}");
    }

    /// Rows of zeros are left unwritten in raw and deflate data read by rows (after a byte skip, too); data
    /// found at the end of a stream are read whole; a short stream is the same error as a whole read.
    #[test]
    fn rows_from_raw_and_deflate_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.raw");
        let held = [1usize, 4, 5];
        let plain: Vec<u8> =
            (0..8 * 5).map(|i| if held.contains(&(i / 5)) { (i % 3 + 1) as u8 } else { 0 }).collect();
        let mut file = b"HEAD".to_vec();
        file.extend(&plain);
        std::fs::write(&path, &file).unwrap();
        let mut src = source(&path, &path, Encoding::Raw);
        src.start = 4;
        let v = src.read_rows(Kind::U8, false, 40, 5).unwrap();
        assert_eq!((&v.bytes, v.rows.unwrap().iter().collect::<Vec<_>>()), (&plain, held.to_vec()));
        // Two-byte values: rows of 5 values are 10 bytes.
        let v = src.read_rows(Kind::U16, false, 20, 5).unwrap();
        assert_eq!(v.rows.unwrap().iter().collect::<Vec<_>>(), [0, 2]);

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&[9, 9, 9]).unwrap();
        gz.write_all(&plain).unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let mut src = source(&path, &path, Encoding::Deflate);
        src.skip = Skip::Bytes(3);
        let v = src.read_rows(Kind::U8, false, 40, 5).unwrap();
        assert_eq!((&v.bytes, v.rows.unwrap().iter().collect::<Vec<_>>()), (&plain, held.to_vec()));
        let e = src.read_rows(Kind::U8, false, 45, 5).unwrap_err();
        assert!(e.to_string().contains("expected 45 bytes of voxel data, found 40"), "{e}");
        src.skip = Skip::ToEnd;
        let v = src.read_rows(Kind::U8, false, 40, 5).unwrap();
        assert_eq!((&v.bytes, v.rows), (&plain, None));
    }

    #[test]
    fn deflate_streams_gzip_or_zlib_with_a_skip_of_decoded_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.z");
        let plain: Vec<u8> = (0..100u8).collect();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&plain).unwrap();
        let mut file = b"HEAD".to_vec();
        file.extend(z.finish().unwrap());
        std::fs::write(&path, &file).unwrap();
        let mut src = source(&path, &path, Encoding::Deflate);
        src.start = 4;
        src.skip = Skip::Bytes(90);
        assert_eq!(src.read(Kind::U8, false, 10).unwrap().bytes, &plain[90..]);
        src.skip = Skip::ToEnd;
        assert_eq!(src.read(Kind::U8, false, 3).unwrap().bytes, [97, 98, 99]);
        src.skip = Skip::Bytes(0);
        let e = src.read(Kind::U8, false, 101).unwrap_err();
        assert!(e.to_string().contains("expected 101 bytes of voxel data, found 100"), "{e}");
        // A stream cut short: a compressed length past the file, then a cut stream.
        src.compressed_len = Some(file.len() as u64);
        assert!(matches!(src.read(Kind::U8, false, 100), Err(Error::Truncated { .. })));
        src.compressed_len = Some(8);
        assert!(matches!(src.read(Kind::U8, false, 100), Err(Error::Truncated { .. })));

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&plain).unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let src = source(&path, &path, Encoding::Deflate);
        assert_eq!(src.read(Kind::U8, false, 100).unwrap().bytes, plain);
    }

    #[cfg(feature = "nrrd")]
    #[test]
    fn bzip2_streams() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.bz2");
        let plain: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        bz.write_all(&plain).unwrap();
        std::fs::write(&path, bz.finish().unwrap()).unwrap();
        let src = source(&path, &path, Encoding::Bzip2);
        assert_eq!(src.read(Kind::U16, false, 500).unwrap().bytes, plain);
        let e = src.read(Kind::U8, false, 1001).unwrap_err().to_string();
        assert!(e.contains("expected 1001 bytes of voxel data, found 1000"), "{e}");
        // By rows: an empty row, a row of sevens, an empty row.
        let rows: Vec<u8> = [0u8, 7, 0].iter().flat_map(|&b| [b; 256]).collect();
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        bz.write_all(&rows).unwrap();
        std::fs::write(&path, bz.finish().unwrap()).unwrap();
        let v = src.read_rows(Kind::U8, false, 768, 256).unwrap();
        assert_eq!((&v.bytes, v.rows.unwrap().iter().collect::<Vec<_>>()), (&rows, vec![1]));
    }

    #[test]
    fn ascii_and_hex_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.txt");
        std::fs::write(&path, b"1 2,3\n -4.5\n\t6e1 7").unwrap();
        let src = source(&path, &path, Encoding::Ascii);
        let v = src.read(Kind::U8, false, 5).unwrap();
        assert_eq!(v.kind, Kind::F64);
        let got: Vec<f64> = v.bytes.chunks(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect();
        assert_eq!(got, [1.0, 2.0, 3.0, -4.5, 60.0]);
        let e = src.read(Kind::U8, false, 7).unwrap_err().to_string();
        assert!(e.contains("expected 7 values of ASCII data, found 6"), "{e}");
        let e = src.read(Kind::U8, false, 100).unwrap_err().to_string();
        assert!(e.contains("18 bytes of text hold at most 9"), "{e}");
        std::fs::write(&path, b"1 x2 3").unwrap();
        let e = src.read(Kind::U8, false, 3).unwrap_err().to_string();
        assert!(e.contains("value 1 of the ASCII data is \"x2\", not a number"), "{e}");

        #[cfg(feature = "nrrd")]
        hex(&path);
    }

    #[cfg(feature = "nrrd")]
    fn hex(path: &Path) {
        std::fs::write(path, b"0a ff\n01 00").unwrap();
        let src = source(path, path, Encoding::Hex);
        assert_eq!(src.read(Kind::U16, true, 2).unwrap().bytes, [0x0a, 0xff, 0x01, 0x00]);
        std::fs::write(path, b"0g").unwrap();
        assert!(src.read(Kind::U8, false, 1).unwrap_err().to_string().contains("not a hexadecimal digit"));
    }

    #[test]
    fn lps_becomes_ras() {
        let d = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
        let g = grid_from_lps([2, 2, 2], [1.0, 2.0, 3.0], [10.0, -20.0, 30.0], d).unwrap();
        assert_eq!(g.origin(), [-10.0, 20.0, 30.0]);
        assert_eq!(g.direction(), [[0.0, -1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
        #[cfg(feature = "nrrd")]
        {
            assert_eq!(normal([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]), Some([0.0, 0.0, 1.0]));
            assert_eq!(normal([1.0, 0.0, 0.0], [2.0, 0.0, 0.0]), None);
        }
    }
}
