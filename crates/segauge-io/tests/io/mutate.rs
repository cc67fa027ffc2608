//! Hostile inputs: seeded mutants of every reader's seeds (`segauge_tests::mutate`), and the files of issue 11
//! that once made segauge allocate gigabytes or write megabytes of error text.
//!
//! Each read must return a volume, or an error whose message is one line, names the file and has at most
//! [`MAX_EXTRA`] bytes besides the paths it names; it must not panic, and its peak heap (this thread's, measured
//! with `allocation-counter`; the readers are single-threaded) must stay under [`CEILING`]. The mutants are the
//! same on every run (seed [`BASE`]); `cargo xtask fuzz` runs the same mutators with other seeds for longer.
//! A failure names the reader, the seed, the mutant number and the mutator, so that
//! `segauge_tests::mutate::mutant(&seeds[s], &mut mutant_rng(BASE, reader, i))` rebuilds the input.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use segauge_io::{Error, Grid, ReadOptions};
use segauge_tests::dicom;
use segauge_tests::mutate::{self, Reader, Seed, check_message, mutant, mutant_rng};
use tempfile::TempDir;

/// Mutants per reader (`RUN_SLOW_TESTS=1`: ten times as many).
const MUTANTS: u64 = 300;
/// The base seed of the mutants.
const BASE: u64 = 11;
/// The most heap one read of a mutant may hold at once. The seeds are at most 33 KB (the RLE SEG) and their
/// series at most 1.1 MB (two 512 × 512 CT slices, read up to their pixel data); a correct read of them peaks at
/// 5 MiB (an RTSTRUCT's mask and labels on 512 × 512 × 2 voxels), the largest peak seen over millions of mutants
/// (`cargo xtask fuzz`). What a mutant may add is bounded by its size: deflate's 1032:1 on a few kilobytes,
/// masks bounded by the pixel data present and 64 filled slices per frame position; 64 MiB leaves a wide margin
/// and still catches any allocation on a header's word (the files of issue 11 allocated 0.8 to 3.2 GB).
const CEILING: u64 = 64 << 20;
/// Bytes a message may have besides the paths it names.
const MAX_EXTRA: usize = 1000;

/// `tests/data`, where the DICOM, MetaImage and NRRD seeds are.
fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/"))
}

/// What one read did.
struct Outcome {
    /// `Ok(Ok)`: a volume; `Ok(Err)`: an error's message; `Err`: a panic's message.
    result: Result<Result<(), String>, String>,
    peak: u64,
}

/// Reads `path` as `seed`'s reader does (with its series or reference grid), measuring the peak heap; a panic
/// is caught inside the measurement.
fn read_measured(seed: &Seed, path: &Path) -> Outcome {
    let mut result = Err("not run".to_string());
    let info = allocation_counter::measure(|| {
        result = catch_unwind(AssertUnwindSafe(|| read(seed, path).map(drop).map_err(|e| e.to_string())))
            .map_err(|p| {
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(ToString::to_string))
                    .unwrap_or_else(|| "a panic".into())
            });
    });
    Outcome { result, peak: info.bytes_max }
}

fn read(seed: &Seed, path: &Path) -> Result<segauge_io::LabelVolume, Error> {
    let options = ReadOptions::default();
    let reference = seed.reference.map(|r| {
        Grid::new(r.dims, r.spacing)
            .and_then(|g| g.with_origin(r.origin))
            .expect("the reference grid is valid")
    });
    segauge_io::read_labels_on(path, &options, seed.series.as_deref(), reference.as_ref())
}

/// Runs the mutants of one reader; returns one line per failure.
fn run(reader: Reader) -> Vec<String> {
    let seeds = mutate::seeds(reader, &data_dir());
    let count = if std::env::var_os("RUN_SLOW_TESTS").is_some() { 10 * MUTANTS } else { MUTANTS };
    let tmp = TempDir::new().expect("tempdir");
    // The data files of detached headers, beside the mutants, as they are.
    let mut companions = Vec::new();
    for (name, bytes) in seeds.iter().flat_map(|s| &s.companions) {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).expect("write data file");
        companions.push(p);
    }
    let mut failures = Vec::new();
    for i in 0..count {
        let s = i as usize % seeds.len();
        let seed = &seeds[s];
        let m = mutant(seed, &mut mutant_rng(BASE, reader, i));
        let path = tmp.path().join(format!("mutant.{}", seed.extension));
        let side = segauge_io::sidecar_path(&path);
        std::fs::write(&path, &m.bytes).expect("write mutant");
        match &m.sidecar {
            Some(bytes) => std::fs::write(&side, bytes).expect("write sidecar"),
            None => {
                let _ = std::fs::remove_file(&side);
            }
        }
        let outcome = read_measured(seed, &path);
        let mut others: Vec<&Path> = vec![&side];
        others.extend(seed.series.as_deref());
        others.extend(companions.iter().map(PathBuf::as_path));
        let problem = match &outcome.result {
            Err(panic) => Some(format!("panicked: {panic}")),
            Ok(Err(msg)) => {
                check_message(msg, &path, &others, MAX_EXTRA).err().map(|p| format!("{p}: {msg:.2000}"))
            }
            Ok(Ok(())) => None,
        };
        let problem = problem.or_else(|| {
            (outcome.peak > CEILING)
                .then(|| format!("peak heap {} bytes, above the ceiling of {CEILING}", outcome.peak))
        });
        if let Some(p) = problem {
            failures.push(format!(
                "{} seed {s} ({}) mutant {i} [{}]: {p}",
                reader.name(),
                seed.name,
                m.mutator
            ));
        }
        let _ = std::fs::remove_file(&path);
    }
    failures
}

fn assert_no_failures(reader: Reader) {
    let failures = run(reader);
    assert!(failures.is_empty(), "{} of the mutants failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn mutants_of_nifti_files() {
    assert_no_failures(Reader::Nifti);
}

#[test]
fn mutants_of_gzipped_nifti_files() {
    assert_no_failures(Reader::NiftiGz);
}

#[test]
fn mutants_of_npy_files_and_sidecars() {
    assert_no_failures(Reader::Npy);
}

#[cfg(feature = "dicom")]
#[test]
fn mutants_of_dicom_segs() {
    assert_no_failures(Reader::Seg);
}

#[cfg(feature = "dicom")]
#[test]
fn mutants_of_rtstructs() {
    assert_no_failures(Reader::RtStruct);
}

#[cfg(feature = "metaimage")]
#[test]
fn mutants_of_metaimage_files() {
    assert_no_failures(Reader::MetaImage);
}

#[cfg(feature = "nrrd")]
#[test]
fn mutants_of_nrrd_files() {
    assert_no_failures(Reader::Nrrd);
}

// ---------------------------------------------------------------------------------------------------------------
// The inputs of issue 11
// ---------------------------------------------------------------------------------------------------------------

/// The most heap a read of one of the small files below may hold (each once allocated gigabytes).
const REGRESSION_CEILING: u64 = 200 << 20;

/// The error of a read that must fail within [`REGRESSION_CEILING`], after checking its message.
fn hostile(path: &Path, read: impl FnOnce() -> Result<(), Error>) -> Error {
    let mut result = None;
    let info = allocation_counter::measure(|| result = Some(read()));
    let err = match result.expect("ran") {
        Ok(()) => panic!("{}: read, expected an error", path.display()),
        Err(e) => e,
    };
    let msg = err.to_string();
    assert!(
        info.bytes_max < REGRESSION_CEILING,
        "{}: peak heap {} bytes (ceiling {REGRESSION_CEILING}): {msg:.300}",
        path.display(),
        info.bytes_max
    );
    if let Err(p) = check_message(&msg, path, &[], MAX_EXTRA) {
        panic!("{p}: {msg:.300}");
    }
    err
}

/// Explicit VR Big Endian: refused by name before dicom-rs reads an element (which announces 3 GiB here).
#[cfg(feature = "dicom")]
#[test]
fn big_endian_dicom_is_refused_before_parsing() {
    let tmp = TempDir::new().expect("tempdir");
    let mut bytes = dicom::minimal_meta(dicom::SEG_SOP_CLASS, dicom::EXPLICIT_VR_BE);
    // (0008,0016) OB announcing 3 GiB, big-endian.
    bytes.extend_from_slice(&[0x00, 0x08, 0x00, 0x16, b'O', b'B', 0, 0, 0xC0, 0x00, 0x00, 0x00]);
    bytes.resize(384, 0);
    let path = tmp.path().join("big_endian.dcm");
    std::fs::write(&path, &bytes).expect("write");
    let check = |err: Error| {
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("1.2.840.10008.1.2.2") && msg.contains("Explicit VR Big Endian"), "{msg}");
    };
    check(hostile(&path, || segauge_io::dicom::dicom_kind(&path).map(drop)));
    check(hostile(&path, || segauge_io::read_labels(&path, &ReadOptions::default()).map(drop)));
    check(hostile(&path, || segauge_io::dicom::read_series(tmp.path()).map(drop)));
}

/// Deflated Explicit VR Little Endian whose inflated data set holds a length of 2 GiB: the lengths are checked
/// against the inflated size before dicom-rs reads them.
#[cfg(feature = "dicom")]
#[test]
fn a_lying_length_inside_a_deflated_data_set_is_truncated() {
    let tmp = TempDir::new().expect("tempdir");
    let mut data_set = dicom::explicit_element((0x0008, 0x0016), *b"UI", b"1.2.840.10008.5.1.4.1.1.66.4");
    data_set.extend(dicom::explicit_element((0x0008, 0x0060), *b"CS", b"SEG "));
    // (0008,1030) UN announcing 2 GiB, followed by a few bytes.
    data_set.extend_from_slice(&[0x08, 0x00, 0x30, 0x10, b'U', b'N', 0, 0, 0x00, 0x00, 0x00, 0x80]);
    data_set.extend_from_slice(&[0; 16]);
    let mut bytes = dicom::minimal_meta(dicom::SEG_SOP_CLASS, dicom::DEFLATED_EXPLICIT_VR_LE);
    bytes.extend(dicom::deflate(&data_set));
    let path = tmp.path().join("deflated.dcm");
    std::fs::write(&path, &bytes).expect("write");
    for err in [
        hostile(&path, || segauge_io::dicom::dicom_kind(&path).map(drop)),
        hostile(&path, || segauge_io::read_labels(&path, &ReadOptions::default()).map(drop)),
    ] {
        assert!(matches!(err, Error::Truncated { .. }), "{err}");
        assert!(
            err.to_string().contains("element (0008,1030) at byte 48 announces 2147483648 bytes"),
            "{err}"
        );
    }
}

/// A data set deflated about 1000 to 1 (a megabyte of zeros in a kilobyte) is read, within the ceiling: the bound
/// on inflating (1032:1, deflate's largest ratio) refuses only streams no deflater can write.
#[cfg(feature = "dicom")]
#[test]
fn a_highly_compressed_data_set_is_read_within_the_ceiling() {
    let tmp = TempDir::new().expect("tempdir");
    let mut data_set = dicom::explicit_element((0x0008, 0x0016), *b"UI", b"1.2.840.10008.5.1.4.1.1.66.4");
    data_set.extend(dicom::explicit_element((0x0009, 0x1000), *b"OB", &vec![0; 1 << 20]));
    let mut bytes = dicom::minimal_meta(dicom::SEG_SOP_CLASS, dicom::DEFLATED_EXPLICIT_VR_LE);
    let compressed = dicom::deflate(&data_set);
    assert!(
        compressed.len() * 900 < data_set.len(),
        "{} bytes compress to {}",
        data_set.len(),
        compressed.len()
    );
    bytes.extend(compressed);
    let path = tmp.path().join("bomb.dcm");
    std::fs::write(&path, &bytes).expect("write");
    // Read through (the SEG has no Rows), not refused as corrupt.
    let err = hostile(&path, || segauge_io::read_labels(&path, &ReadOptions::default()).map(drop));
    assert!(matches!(err, Error::InvalidHeader { .. }) && err.to_string().contains("Rows"), "{err}");
}

/// Nested sequences deeper than segauge accepts: refused before dicom-rs recurses into them.
#[cfg(feature = "dicom")]
#[test]
fn deeply_nested_sequences_are_refused() {
    let tmp = TempDir::new().expect("tempdir");
    // ContentSequence (0040,A730) items nested `levels` deep, each level a sequence and an item.
    let nested = |levels: usize| {
        let mut bytes = dicom::minimal_meta(dicom::SEG_SOP_CLASS, dicom::EXPLICIT_VR_LE);
        bytes.extend(dicom::explicit_element((0x0008, 0x0016), *b"UI", b"1.2.840.10008.5.1.4.1.1.66.4"));
        for _ in 0..levels {
            bytes.extend_from_slice(&[0x40, 0x00, 0x30, 0xA7, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
            bytes.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        }
        for _ in 0..levels {
            bytes
                .extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        }
        bytes
    };
    // 20 000 levels once overflowed the stack of the thread reading them (dicom-rs recurses per level).
    let path = tmp.path().join("deep.dcm");
    std::fs::write(&path, nested(20_000)).expect("write");
    let err = hostile(&path, || segauge_io::read_labels(&path, &ReadOptions::default()).map(drop));
    assert!(matches!(err, Error::Unsupported { .. }) && err.to_string().contains("nested"), "{err}");
    // As deep as accepted (32 sequences in 32 items): read through on a test thread's 2 MiB stack.
    let path = tmp.path().join("deepest.dcm");
    std::fs::write(&path, nested(32)).expect("write");
    let err = hostile(&path, || segauge_io::read_labels(&path, &ReadOptions::default()).map(drop));
    assert!(err.to_string().contains("Rows"), "{err}");
}

/// An RTSTRUCT on a series whose slices are not evenly spaced: the error names the RTSTRUCT (and the series), as
/// a SEG's does. Found by `cargo xtask fuzz` (a SEG's SOP class set to RTSTRUCT, read on the SEG's irregular
/// series): the message named only the series folder.
#[cfg(feature = "dicom")]
#[test]
fn an_rtstruct_on_an_irregular_series_names_the_rtstruct() {
    let rt = data_dir().join("dicom/cases/rtutils_mock_rt/input.dcm");
    let series = data_dir().join("dicom/series/pydicom_ct2_16x16x4");
    let options = ReadOptions::default();
    let labels = hostile(&rt, || segauge_io::read_labels_on(&rt, &options, Some(&series), None).map(drop));
    let file = hostile(&rt, || segauge_io::read_label_file_on(&rt, &options, Some(&series), None).map(drop));
    for err in [labels, file] {
        let msg = err.to_string();
        assert!(matches!(err, Error::InvalidFileGrid { .. }), "{msg}");
        assert!(
            msg.starts_with(&format!("{}: invalid grid: series {}: ", rt.display(), series.display())),
            "{msg}"
        );
        assert!(msg.contains("not evenly spaced"), "{msg}");
    }
}

/// A `.npy` whose header length covers a megabyte of data and whose header lacks `shape`: the message quotes
/// at most 200 bytes of it.
#[test]
fn a_damaged_npy_header_gives_a_short_message() {
    let tmp = TempDir::new().expect("tempdir");
    let header = "{'descr': '|u1', 'fortran_order': False, 'sh': (1024, 1024), }";
    let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
    let body_len = header.len() + (1 << 20);
    bytes.extend_from_slice(&(body_len as u32).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.resize(12 + body_len, 0);
    let path = tmp.path().join("damaged.npy");
    std::fs::write(&path, &bytes).expect("write");
    std::fs::write(segauge_io::sidecar_path(&path), r#"{"spacing": [1, 1, 1]}"#).expect("write");
    let err = hostile(&path, || segauge_io::read_labels(&path, &ReadOptions::default()).map(drop));
    let msg = err.to_string();
    assert!(matches!(err, Error::NotFormat { .. }) && msg.contains("no 'shape'"), "{msg:.300}");
    assert!(msg.contains(&format!("({} bytes)", body_len)), "{msg:.300}");
}

/// The size a `.npy` shape needs is a number, or says that it does not fit; never Rust's `Some(…)`.
#[test]
fn npy_data_sizes_are_plain_numbers() {
    let tmp = TempDir::new().expect("tempdir");
    let path = tmp.path().join("short.npy");
    std::fs::write(segauge_io::sidecar_path(&path), r#"{"spacing": [1, 1, 1]}"#).expect("write");
    for (shape, want) in [
        (&[1024usize, 1024, 50][..], "needs 52428800 bytes of data, found 16"),
        (&[1 << 32, 1 << 32, 1 << 32][..], "needs more data than fits in memory, found 16 bytes"),
    ] {
        segauge_tests::write_npy(&path, "|u1", false, shape, &[0; 16]).expect("write");
        let err = hostile(&path, || segauge_io::read_labels(&path, &ReadOptions::default()).map(drop));
        let msg = err.to_string();
        assert!(matches!(err, Error::Truncated { .. }) && msg.contains(want), "{msg}");
        assert!(!msg.contains("Some("), "{msg}");
    }
}

/// A NIfTI header announcing a gigabyte of voxels in a file of a few hundred bytes: refused from the file size
/// (uncompressed) or read only as far as the stream goes (gzip), without reserving the gigabyte.
#[test]
fn nifti_headers_announcing_more_than_the_file_holds() {
    let tmp = TempDir::new().expect("tempdir");
    let mut img = segauge_tests::Nifti::u8([4, 4, 4], [1.0; 3], vec![1; 64]);
    img.dim = [3, 1000, 1000, 1000, 1, 1, 1, 1];
    for name in ["huge.nii", "huge.nii.gz"] {
        let path = tmp.path().join(name);
        img.write(&path).expect("write");
        assert!(std::fs::metadata(&path).expect("size").len() < 1000);
        let err = hostile(&path, || segauge_io::read_labels(&path, &ReadOptions::default()).map(drop));
        assert!(matches!(err, Error::Truncated { .. }), "{err}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// MetaImage and NRRD
// ---------------------------------------------------------------------------------------------------------------

/// Headers announcing a thousand million voxels in files of a few hundred bytes: refused from the file size
/// (uncompressed), from the text's length (ASCII, hex), or read only as far as the stream goes (deflate, bzip2),
/// never allocating the gigabyte.
#[test]
fn metaimage_and_nrrd_headers_announcing_more_than_the_file_holds() {
    use std::io::Write;
    let tmp = TempDir::new().expect("tempdir");
    let zlib = |data: &[u8]| {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).expect("zlib into memory");
        z.finish().expect("zlib into memory")
    };
    let gzip = |data: &[u8]| {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).expect("gzip into memory");
        z.finish().expect("gzip into memory")
    };
    let mha = |extra: &str| {
        format!("ObjectType = Image\nNDims = 3\nDimSize = 1000 1000 1000\n{extra}ElementType = MET_UCHAR\nElementDataFile = LOCAL\n")
            .into_bytes()
    };
    let nrrd = |encoding: &str| {
        format!("NRRD0004\ntype: uchar\ndimension: 3\nsizes: 1000 1000 1000\nencoding: {encoding}\n\n")
            .into_bytes()
    };
    let with = |mut head: Vec<u8>, data: &[u8]| {
        head.extend_from_slice(data);
        head
    };
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    bz.write_all(&[1u8; 4096]).expect("bzip2 into memory");
    let bz = bz.finish().expect("bzip2 into memory");
    for (name, bytes) in [
        ("raw.mha", with(mha(""), &[1; 64])),
        ("zlib.mha", with(mha("CompressedData = True\n"), &zlib(&[1; 64]))),
        ("ascii.mha", with(mha("BinaryData = False\n"), b"1 2 3 4\n")),
        ("end.mha", with(mha("HeaderSize = -1\n"), &[1; 64])),
        ("raw.nrrd", with(nrrd("raw"), &[1; 64])),
        ("gzip.nrrd", with(nrrd("gzip"), &gzip(&[1; 64]))),
        ("bzip2.nrrd", with(nrrd("bzip2"), &bz)),
        ("ascii.nrrd", with(nrrd("ascii"), b"1 2 3 4\n")),
        ("hex.nrrd", with(nrrd("hex"), b"01020304\n")),
    ] {
        let path = tmp.path().join(name);
        std::fs::write(&path, &bytes).expect("write");
        let err = hostile(&path, || segauge_io::read_labels(&path, &ReadOptions::default()).map(drop));
        assert!(matches!(err, Error::Truncated { .. }), "{name}: {err}");
    }
}

/// A 3D Slicer header of 10 000 segments (0.7 MB, near the 1 MiB a header may take) on a tiny image: read within
/// the ceiling, each segment its own label.
#[test]
fn a_slicer_header_with_thousands_of_segments() {
    let tmp = TempDir::new().expect("tempdir");
    let mut head =
        b"NRRD0004\ntype: uint16\ndimension: 3\nsizes: 2 2 2\nendian: little\nencoding: raw\n".to_vec();
    for n in 0..10_000 {
        head.extend_from_slice(
            format!("Segment{n}_ID:=s{n}\nSegment{n}_Layer:=0\nSegment{n}_LabelValue:={}\n", n + 1)
                .as_bytes(),
        );
    }
    head.push(b'\n');
    for v in [1u16, 2, 3, 10_000, 0, 0, 0, 7] {
        head.extend_from_slice(&v.to_le_bytes());
    }
    let path = tmp.path().join("many.seg.nrrd");
    std::fs::write(&path, &head).expect("write");
    let mut result = None;
    let info = allocation_counter::measure(|| {
        result = Some(segauge_io::read_labels(&path, &ReadOptions::default()))
    });
    let vol = result.expect("ran").expect("read");
    assert_eq!(vol.max_label(), 10_000);
    assert!(info.bytes_max < CEILING, "peak heap {}", info.bytes_max);
}
