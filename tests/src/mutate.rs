//! Deterministic mutants of segmentation files, shared by segauge-io's mutation test and `cargo xtask fuzz`.
//!
//! A [`Seed`] is a small valid input of one [`Reader`]: generated NIfTI images and `.npy` arrays with JSON
//! sidecars; DICOM-SEG and RTSTRUCT files of the conformance set (`tests/data/dicom`), some re-encoded (a bare
//! data set, a deflated data set), with the image series they are read on; MetaImage and NRRD files of
//! `tests/data/metaimage_nrrd` (raw, compressed, detached with their data file, 2D, multi-channel, 3D Slicer
//! segmentations) and a few written here (ASCII, hex). [`mutant`] turns a seed and a [`SplitMix`] into a
//! [`Mutant`]: one to three mutations, each either generic (bit flips, byte overwrites, interesting integers,
//! truncation, insertion, deletion, duplication of a block) or aware of the format (NIfTI header fields set to
//! extremes; `.npy` header length, shape, dtype and order; sidecar JSON; DICOM element lengths, VRs, tags and
//! values such as Rows, NumberOfFrames or ContourData, duplicated elements, another transfer syntax; MetaImage and
//! NRRD header lines given extreme values, numbers changed, lines deleted, duplicated or inserted). Compressed
//! seeds are mostly mutated before compression (so the mutations reach the structure) and sometimes after it (so
//! the decompressor sees damage too).
//!
//! Everything is a function of the seed and the generator's state: the same numbers give the same mutant, so a
//! failure is reproduced from its reader, seed index and mutant number alone. [`check_message`] holds the
//! properties every error message must have.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::dicom::{self, ElementHeader};
use crate::{Nifti, SplitMix, label_map, npy_bytes};

/// The reader a seed is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reader {
    /// NIfTI-1, uncompressed `.nii`.
    Nifti,
    /// NIfTI-1, gzip-compressed `.nii.gz`.
    NiftiGz,
    /// NumPy `.npy` with a JSON sidecar.
    Npy,
    /// DICOM-SEG (`.dcm`), with its image series where it has one.
    Seg,
    /// DICOM RTSTRUCT (`.dcm`), on its image series or on a reference grid.
    RtStruct,
    /// MetaImage: `.mha`, or `.mhd` with its data file.
    MetaImage,
    /// NRRD: `.nrrd`, 3D Slicer `.seg.nrrd`, or `.nhdr` with its data file.
    Nrrd,
}

impl Reader {
    /// Every reader. (A reader's position in the declaration, not here, picks its stream in [`mutant_rng`]: new
    /// readers go last, so that the mutants of the others stay the same.)
    pub const ALL: [Reader; 7] = [
        Reader::Nifti,
        Reader::NiftiGz,
        Reader::Npy,
        Reader::Seg,
        Reader::RtStruct,
        Reader::MetaImage,
        Reader::Nrrd,
    ];

    /// A short name for reports and file names.
    pub fn name(self) -> &'static str {
        match self {
            Reader::Nifti => "nifti",
            Reader::NiftiGz => "nifti-gz",
            Reader::Npy => "npy",
            Reader::Seg => "dicom-seg",
            Reader::RtStruct => "rtstruct",
            Reader::MetaImage => "metaimage",
            Reader::Nrrd => "nrrd",
        }
    }

    /// The file name extensions of the reader's seeds ([`Seed::extension`]), by which `segauge_io` chooses it.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Reader::Nifti => &["nii"],
            Reader::NiftiGz => &["nii.gz"],
            Reader::Npy => &["npy"],
            Reader::Seg | Reader::RtStruct => &["dcm"],
            Reader::MetaImage => &["mha", "mhd"],
            Reader::Nrrd => &["nrrd", "seg.nrrd", "nhdr"],
        }
    }
}

/// How a seed's bytes are stored in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// As they are.
    Plain,
    /// gzip (the whole file).
    Gzip,
    /// The data set after the first `meta_len` bytes (preamble, `DICM`, File Meta) raw-deflated, as Deflated
    /// Explicit VR Little Endian stores it.
    DeflatedDataSet {
        /// Bytes of preamble, `DICM` and File Meta group.
        meta_len: usize,
    },
}

/// The grid an RTSTRUCT without series is rasterised on (RAS, identity direction).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reference {
    /// Voxels along x, y, z.
    pub dims: [usize; 3],
    /// Spacing in mm.
    pub spacing: [f64; 3],
    /// Origin in mm.
    pub origin: [f64; 3],
}

/// A valid input of one reader.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The reader.
    pub reader: Reader,
    /// What it is, for reports.
    pub name: String,
    /// The extension of the file's name (one of [`Reader::extensions`]), as the fixture has it.
    pub extension: &'static str,
    /// The file's bytes before [`Seed::encoding`] (the uncompressed NIfTI, the inflated DICOM).
    pub plain: Vec<u8>,
    /// How the file stores them.
    pub encoding: Encoding,
    /// The JSON sidecar of a `.npy`.
    pub sidecar: Option<Vec<u8>>,
    /// The image series folder of a DICOM file (read, never mutated).
    pub series: Option<PathBuf>,
    /// The grid of an RTSTRUCT without series.
    pub reference: Option<Reference>,
    /// The files a detached header (`.mhd`, `.nhdr`) names, by name, to be written beside it (never mutated; the
    /// header is, and through it where the data are looked for).
    pub companions: Vec<(String, Vec<u8>)>,
}

impl Seed {
    /// The bytes of the seed's file.
    pub fn file_bytes(&self) -> Vec<u8> {
        encode(&self.plain, self.encoding)
    }
}

/// A mutated input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutant {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// The sidecar's bytes (`.npy` only; `None`: no sidecar file).
    pub sidecar: Option<Vec<u8>>,
    /// What was done, e.g. `dicom-length (0028,0010)@1234 2->4294967295 + flip 3 bits`.
    pub mutator: String,
}

/// The generator state of mutant `index` of reader `reader` in a run with base seed `base`: every mutant has its
/// own stream, so any one of them is reproduced alone.
pub fn mutant_rng(base: u64, reader: Reader, index: u64) -> SplitMix {
    let mut mix = SplitMix(base ^ (reader as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    let offset = mix.next_u64();
    SplitMix(offset.wrapping_add(index.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

/// The properties of an error message of a reader: one line, naming `file`, and at most `max_extra` bytes
/// besides the paths it names (`file` and any of `others`, such as a sidecar or series folder).
///
/// # Errors
/// What is wrong with the message.
pub fn check_message(message: &str, file: &Path, others: &[&Path], max_extra: usize) -> Result<(), String> {
    if message.contains('\n') || message.contains('\r') {
        return Err("the message is not one line".into());
    }
    let file_s = file.display().to_string();
    if !message.contains(&file_s) {
        return Err(format!("the message does not name {file_s}"));
    }
    let mut rest = message.replace(&file_s, "");
    for p in others {
        rest = rest.replace(&p.display().to_string(), "");
    }
    if rest.len() > max_extra {
        return Err(format!("the message has {} bytes besides the paths (at most {max_extra})", rest.len()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Seeds
// ---------------------------------------------------------------------------------------------------------------

/// The seeds of `reader`. `data_dir` is `tests/data`: DICOM seeds are read from its `dicom`, MetaImage and NRRD
/// seeds from its `metaimage_nrrd`.
///
/// # Panics
/// When a fixture cannot be read.
pub fn seeds(reader: Reader, data_dir: &Path) -> Vec<Seed> {
    match reader {
        Reader::Nifti | Reader::NiftiGz => nifti_seeds(reader),
        Reader::Npy => npy_seeds(),
        Reader::Seg => seg_seeds(&data_dir.join("dicom")),
        Reader::RtStruct => rtstruct_seeds(&data_dir.join("dicom")),
        Reader::MetaImage | Reader::Nrrd => text_seeds(reader, &data_dir.join("metaimage_nrrd")),
    }
}

fn seed(reader: Reader, name: &str, plain: Vec<u8>, encoding: Encoding) -> Seed {
    Seed {
        reader,
        name: name.into(),
        extension: reader.extensions()[0],
        plain,
        encoding,
        sidecar: None,
        series: None,
        reference: None,
        companions: Vec::new(),
    }
}

fn nifti_seeds(reader: Reader) -> Vec<Seed> {
    let encoding = if reader == Reader::NiftiGz { Encoding::Gzip } else { Encoding::Plain };
    let dims = [6, 5, 4];
    let u8_sform = Nifti::u8(dims, [1.0, 1.0, 2.0], label_map(dims, |i, j, k| ((i + j + k) % 3) as u8));
    // int16 under a qform (30° about z) with scaling 2x + 0.
    let mut i16_qform = Nifti::u8(dims, [0.8, 0.8, 2.5], vec![0; 120]);
    i16_qform.datatype = 4;
    i16_qform.data = label_map(dims, |i, _, k| (i * k % 4) as u8)
        .iter()
        .flat_map(|&v| i16::from(v).to_le_bytes())
        .collect();
    (i16_qform.sform_code, i16_qform.qform_code) = (0, 1);
    i16_qform.quatern = [0.0, 0.0, 0.258_819, 10.0, -20.0, 30.0];
    (i16_qform.scl_slope, i16_qform.scl_inter) = (2.0, 0.0);
    // float32, 2D, big-endian, no transform (the Analyze base affine).
    let d2 = [7, 6, 1];
    let mut f32_2d = Nifti::u8(d2, [0.5, 0.5, 1.0], vec![0; 42]);
    f32_2d.dim = [2, 7, 6, 1, 1, 1, 1, 1];
    f32_2d.datatype = 16;
    f32_2d.data =
        label_map(d2, |i, j, _| u8::from(i > j)).iter().flat_map(|&v| f32::from(v).to_be_bytes()).collect();
    (f32_2d.sform_code, f32_2d.qform_code) = (0, 0);
    f32_2d.big_endian = true;
    [("u8 sform", u8_sform), ("i16 qform scaled", i16_qform), ("f32 2D big-endian", f32_2d)]
        .into_iter()
        .map(|(name, img)| seed(reader, name, img.to_bytes(), encoding))
        .collect()
}

fn npy_seeds() -> Vec<Seed> {
    let c_u8 = npy_bytes("|u1", false, &[6, 5, 4], &(0..120u8).map(|v| v % 4).collect::<Vec<_>>());
    let f_u2 = npy_bytes(
        "<u2",
        true,
        &[4, 3, 2],
        &(0..24u16).flat_map(|v| (v % 3).to_le_bytes()).collect::<Vec<_>>(),
    );
    let f4_2d = npy_bytes(
        "<f4",
        false,
        &[5, 4],
        &(0..20).flat_map(|v| ((v % 2) as f32).to_le_bytes()).collect::<Vec<_>>(),
    );
    let sidecars = [
        r#"{"spacing": [1.0, 1.0, 2.0]}"#,
        r#"{"spacing": [0.5, 0.5, 1.5], "origin": [1.0, -2.0, 3.0], "direction": [0, 1, 0, 1, 0, 0, 0, 0, -1], "axes": "zyx"}"#,
        r#"{"spacing": [0.7, 0.7, 1.0], "axes": "xyz"}"#,
    ];
    [("u1 C order", c_u8), ("<u2 Fortran order zyx", f_u2), ("<f4 2D", f4_2d)]
        .into_iter()
        .zip(sidecars)
        .map(|((name, bytes), side)| Seed {
            sidecar: Some(side.as_bytes().to_vec()),
            ..seed(Reader::Npy, name, bytes, Encoding::Plain)
        })
        .collect()
}

fn read_fixture(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn case_file(dicom_dir: &Path, case: &str) -> Vec<u8> {
    read_fixture(&dicom_dir.join("cases").join(case).join("input.dcm"))
}

fn seg_seeds(dir: &Path) -> Vec<Seed> {
    let series = |name: &str| Some(dir.join("series").join(name));
    let dcm = |name: &str, bytes, series| Seed { series, ..seed(Reader::Seg, name, bytes, Encoding::Plain) };
    let mut out = vec![
        dcm("hd_ct_binary (BINARY, implicit)", case_file(dir, "hd_ct_binary"), series("pydicom_ct2_16x16x4")),
        dcm(
            "hd_ct_true_fractional (FRACTIONAL)",
            case_file(dir, "hd_ct_true_fractional"),
            series("pydicom_ct2_16x16x4"),
        ),
        dcm("dcmqi_labelmap_ppv5 (LABELMAP)", case_file(dir, "dcmqi_labelmap_ppv5"), series("dcmqi_24x38x3")),
        dcm("gen_seg_rle (RLE Lossless)", case_file(dir, "gen_seg_rle"), series("gen_ct_axial_64x64x40")),
        dcm(
            "dcmqi_23x38x3 bare data set",
            dicom::bare_copy(&case_file(dir, "dcmqi_23x38x3")),
            series("dcmqi_23x38x3"),
        ),
        dcm("hd_ct_binary without series (grid of its frames)", case_file(dir, "hd_ct_binary"), None),
        dcm("gen_seg_rle without series (grid of its frames)", case_file(dir, "gen_seg_rle"), None),
    ];
    let explicit = case_file(dir, "dcmqi_24x38x3");
    let (_, meta_len) = dicom::meta_elements(&explicit);
    let mut plain = dicom::with_meta(&explicit, dicom::DEFLATED_EXPLICIT_VR_LE, &[]);
    plain.extend_from_slice(&explicit[meta_len..]);
    let meta_len = plain.len() - (explicit.len() - meta_len);
    out.push(Seed {
        series: series("dcmqi_24x38x3"),
        ..seed(Reader::Seg, "dcmqi_24x38x3 deflated", plain, Encoding::DeflatedDataSet { meta_len })
    });
    out
}

fn rtstruct_seeds(dir: &Path) -> Vec<Seed> {
    vec![
        Seed {
            reference: Some(Reference { dims: [8, 8, 4], spacing: [1.0; 3], origin: [0.0; 3] }),
            ..seed(
                Reader::RtStruct,
                "pydicom_rtstruct (bare, on a grid)",
                case_file(dir, "pydicom_rtstruct"),
                Encoding::Plain,
            )
        },
        Seed {
            series: Some(dir.join("series/rtutils_ct_512x2")),
            ..seed(
                Reader::RtStruct,
                "rtutils_mock_rt (on its series)",
                case_file(dir, "rtutils_mock_rt"),
                Encoding::Plain,
            )
        },
    ]
}

/// The MetaImage or NRRD seeds: the fixtures of `dir` (`tests/data/metaimage_nrrd`) with the data files of the
/// detached headers, and an ASCII MetaImage and a hex NRRD written here.
fn text_seeds(reader: Reader, dir: &Path) -> Vec<Seed> {
    let file = |name: &str, extension, companions: &[&str]| Seed {
        extension,
        companions: companions.iter().map(|c| (c.to_string(), read_fixture(&dir.join(c)))).collect(),
        ..seed(reader, name, read_fixture(&dir.join(name)), Encoding::Plain)
    };
    if reader == Reader::MetaImage {
        let mut ascii = b"ObjectType = Image\nNDims = 3\nBinaryData = False\nDimSize = 3 2 2\nElementSpacing = 0.5 0.5 2\n\
            Offset = 1 2 3\nElementType = MET_FLOAT\nElementDataFile = LOCAL\n"
            .to_vec();
        ascii.extend_from_slice(b"0 1 2\n3 0 1\n2 3 0\n1 2 3\n");
        vec![
            file("sitk_u8.mha", "mha", &[]),
            file("sitk_u8_zlib.mha", "mha", &[]),
            file("sitk_channels.mha", "mha", &[]),
            file("sitk_i16_2d.mha", "mha", &[]),
            file("sitk_u8.mhd", "mhd", &["sitk_u8.raw"]),
            file("hand_i16_msb.mhd", "mhd", &["hand_i16_msb.raw"]),
            file("blob0.mha", "mha", &[]),
            seed(reader, "ASCII float", ascii, Encoding::Plain),
        ]
    } else {
        let mut hex = b"NRRD0004\ntype: ushort\ndimension: 3\nsizes: 2 2 2\nendian: big\nencoding: hex\n\
            space: RAS\nspace directions: (1,0,0) (0,1,0) (0,0,1)\n\n"
            .to_vec();
        hex.extend_from_slice(b"0000 0001 0002 0003\n0100 0000 0001 0002\n");
        vec![
            file("sitk_u8.nrrd", "nrrd", &[]),
            file("sitk_u8_gzip.nrrd", "nrrd", &[]),
            file("sitk_channels.nrrd", "nrrd", &[]),
            file("sitk_i16_2d.nrrd", "nrrd", &[]),
            file("slicer_two_layers.seg.nrrd", "seg.nrrd", &[]),
            file("slicer_one_layer.seg.nrrd", "seg.nrrd", &[]),
            file("pynrrd_detached.nhdr", "nhdr", &["pynrrd_detached.raw.gz"]),
            file("pynrrd_ras_i16.nrrd", "nrrd", &[]),
            file("test2d_ascii.nrrd", "nrrd", &[]),
            file("BallBinary30x30x30_bz2.nrrd", "nrrd", &[]),
            file("BallBinary30x30x30_gz_lineskip.nrrd", "nrrd", &[]),
            seed(reader, "hex", hex, Encoding::Plain),
        ]
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Mutation
// ---------------------------------------------------------------------------------------------------------------

/// One mutant of `seed`: one mutation, sometimes two or three stacked.
pub fn mutant(seed: &Seed, rng: &mut SplitMix) -> Mutant {
    let rounds = match rng.below(8) {
        0 => 3,
        1 | 2 => 2,
        _ => 1,
    };
    let mut plain = seed.plain.clone();
    let mut encoding = seed.encoding;
    let mut sidecar = seed.sidecar.clone();
    let mut done = Vec::new();
    let mut encoded: Option<Vec<u8>> = None;
    for _ in 0..rounds {
        // A few mutations hit the compressed bytes; the file is encoded once, then only those follow.
        if encoding != Encoding::Plain && (encoded.is_some() || rng.chance(0.25)) {
            let bytes = encoded.get_or_insert_with(|| encode(&plain, encoding));
            done.push(format!("compressed: {}", generic(bytes, rng)));
            continue;
        }
        let what = match (seed.reader, encoding) {
            (Reader::Nifti | Reader::NiftiGz, _) => {
                if rng.chance(0.45) {
                    nifti_field(&mut plain, rng)
                } else {
                    generic(&mut plain, rng)
                }
            }
            (Reader::Npy, _) => match rng.below(10) {
                0..=3 => npy_header(&mut plain, rng),
                4..=6 => sidecar_mutation(&mut sidecar, rng),
                _ => generic(&mut plain, rng),
            },
            (Reader::Seg | Reader::RtStruct, Encoding::DeflatedDataSet { meta_len }) => {
                // The File Meta group and the (inflated) data set apart, so that the data set stays deflated
                // from where the group ends.
                let mut ds = plain.split_off(meta_len.min(plain.len()));
                let what = if rng.chance(0.15) {
                    format!("File Meta: {}", dicom_meta_mutation(&mut plain, rng))
                } else {
                    format!("data set: {}", dicom_mutation(&mut ds, Some(0), rng))
                };
                encoding = Encoding::DeflatedDataSet { meta_len: plain.len() };
                plain.append(&mut ds);
                what
            }
            (Reader::Seg | Reader::RtStruct, _) => dicom_mutation(&mut plain, None, rng),
            (Reader::MetaImage | Reader::Nrrd, _) => {
                if rng.chance(0.55) {
                    header_mutation(seed.reader, &mut plain, rng)
                } else {
                    generic(&mut plain, rng)
                }
            }
        };
        done.push(what);
    }
    let bytes = encoded.unwrap_or_else(|| encode(&plain, encoding));
    let mut mutator = done.join(" + ");
    if mutator.len() > 300 {
        let cut = (0..=300).rev().find(|&i| mutator.is_char_boundary(i)).unwrap_or(0);
        mutator.truncate(cut);
        mutator.push('…');
    }
    Mutant { bytes, sidecar, mutator }
}

fn encode(plain: &[u8], encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Plain => plain.to_vec(),
        Encoding::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(plain).expect("gzip into memory");
            gz.finish().expect("gzip into memory")
        }
        Encoding::DeflatedDataSet { meta_len } => {
            let cut = meta_len.min(plain.len());
            let mut out = plain[..cut].to_vec();
            out.extend(dicom::deflate(&plain[cut..]));
            out
        }
    }
}

/// Integers that break parsers: boundaries of signed and unsigned widths, and lengths near 3 GiB.
const INTERESTING: [u64; 17] = [
    0,
    1,
    2,
    0x7F,
    0x80,
    0xFF,
    0x100,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x1_0000,
    0x7FFF_FFFF,
    0x8000_0000,
    0xC000_0000,
    0xFFFF_FFFE,
    0xFFFF_FFFF,
    0x1_0000_0000,
];

/// A mutation that knows nothing of the format.
pub fn generic(b: &mut Vec<u8>, rng: &mut SplitMix) -> String {
    if b.is_empty() {
        b.push(rng.next_u64() as u8);
        return "insert 1 byte into an empty file".into();
    }
    let len = b.len();
    match rng.below(7) {
        0 => {
            let k = 1 + rng.below(8);
            for _ in 0..k {
                let at = rng.below(len);
                b[at] ^= 1 << rng.below(8);
            }
            format!("flip {k} bits")
        }
        1 => {
            let at = rng.below(len);
            let n = (1 + rng.below(16)).min(len - at);
            for x in &mut b[at..at + n] {
                *x = rng.next_u64() as u8;
            }
            format!("overwrite {n} bytes at {at}")
        }
        2 => {
            let value = *rng.pick(&INTERESTING);
            let width = *rng.pick(&[1usize, 2, 4]);
            let at = rng.below(len);
            let big = rng.chance(0.3);
            let bytes = if big {
                value.to_be_bytes()[8 - width..].to_vec()
            } else {
                value.to_le_bytes()[..width].to_vec()
            };
            let n = width.min(len - at);
            b[at..at + n].copy_from_slice(&bytes[..n]);
            format!("{width}-byte {value:#x} ({}) at {at}", if big { "BE" } else { "LE" })
        }
        3 => {
            let at = rng.below(len);
            b.truncate(at);
            format!("truncate to {at} bytes")
        }
        4 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(64);
            let fill = rng.next_u64() as u8;
            let bytes: Vec<u8> =
                (0..n).map(|_| if rng.chance(0.5) { fill } else { rng.next_u64() as u8 }).collect();
            b.splice(at..at, bytes);
            format!("insert {n} bytes at {at}")
        }
        5 => {
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(64));
            b.drain(at..at + n);
            format!("delete {n} bytes at {at}")
        }
        _ => {
            let from = rng.below(len);
            let n = 1 + rng.below((len - from).min(256));
            let to = rng.below(len + 1);
            let chunk = b[from..from + n].to_vec();
            b.splice(to..to, chunk);
            format!("duplicate {n} bytes from {from} to {to}")
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// NIfTI
// ---------------------------------------------------------------------------------------------------------------

/// NIfTI-1 header fields: name, offset, type (`'h'` i16, `'i'` i32, `'f'` f32, `'b'` byte), count.
const NIFTI_FIELDS: [(&str, usize, char, usize); 16] = [
    ("sizeof_hdr", 0, 'i', 1),
    ("dim", 40, 'h', 8),
    ("datatype", 70, 'h', 1),
    ("bitpix", 72, 'h', 1),
    ("pixdim", 76, 'f', 8),
    ("vox_offset", 108, 'f', 1),
    ("scl_slope", 112, 'f', 1),
    ("scl_inter", 116, 'f', 1),
    ("xyzt_units", 123, 'b', 1),
    ("qform_code", 252, 'h', 1),
    ("sform_code", 254, 'h', 1),
    ("quatern", 256, 'f', 6),
    ("srow_x", 280, 'f', 4),
    ("srow_y", 296, 'f', 4),
    ("srow_z", 312, 'f', 4),
    ("magic", 344, 'b', 4),
];

const I16_EXTREMES: [i16; 16] = [0, -1, 1, 2, 3, 4, 7, 8, 16, 255, 256, 1024, 1280, 2304, i16::MAX, i16::MIN];
const F32_EXTREMES: [f32; 18] = [
    0.0,
    -0.0,
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::MAX,
    -f32::MAX,
    1e-40,
    348.0,
    352.0,
    351.5,
    4_294_967_296.0,
    2_147_483_648.0,
    1e9,
    -352.0,
    0.5,
    1.0,
    -1.0,
];

/// Sets one NIfTI header field (or one element of an array field) to an extreme value.
fn nifti_field(b: &mut Vec<u8>, rng: &mut SplitMix) -> String {
    if b.len() < 348 {
        return generic(b, rng);
    }
    let big = i32::from_be_bytes([b[0], b[1], b[2], b[3]]) == 348;
    let (name, offset, kind, count) = *rng.pick(&NIFTI_FIELDS);
    let i = rng.below(count);
    match kind {
        'h' => {
            let v = if rng.chance(0.8) { *rng.pick(&I16_EXTREMES) } else { rng.next_u64() as i16 };
            let at = offset + 2 * i;
            b[at..at + 2].copy_from_slice(&if big { v.to_be_bytes() } else { v.to_le_bytes() });
            format!("nifti {name}[{i}] = {v}")
        }
        'i' => {
            let v = *rng.pick(&[0i32, 540, -1, i32::MAX, 348_i32.swap_bytes()]);
            b[offset..offset + 4].copy_from_slice(&if big { v.to_be_bytes() } else { v.to_le_bytes() });
            format!("nifti {name} = {v}")
        }
        'f' => {
            let v = if rng.chance(0.85) {
                *rng.pick(&F32_EXTREMES)
            } else {
                f32::from_bits(rng.next_u64() as u32)
            };
            let at = offset + 4 * i;
            b[at..at + 4].copy_from_slice(&if big { v.to_be_bytes() } else { v.to_le_bytes() });
            format!("nifti {name}[{i}] = {v}")
        }
        _ => {
            let v = rng.next_u64() as u8;
            b[offset + i] = v;
            format!("nifti {name}[{i}] = {v:#x}")
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// .npy and sidecars
// ---------------------------------------------------------------------------------------------------------------

const SHAPES: [&str; 14] = [
    "(4294967296, 4294967296, 4294967296)",
    "(18446744073709551615, 2, 2)",
    "(3037000500, 3037000500, 2)",
    "(65536, 65536, 65536)",
    "(0, 4, 4)",
    "()",
    "(5,)",
    "(2, 3, 4, 5)",
    "(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)",
    "(-1, 5, 4)",
    "(6, 5, 4",
    "(6 5 4)",
    "(6, 5, 3)",
    "(6, 5, 5)",
];
const DESCRS: [&str; 12] =
    ["'<f8'", "'>u8'", "'|b1'", "'<c16'", "'|O'", "'<U10'", "''", "'<i16'", "'<f2'", "'>'", "<u1", "'=i4'"];
const ORDERS: [&str; 5] = ["True", "False", "Maybe", "", "1"];

/// The header text of a version-1 `.npy` and where it sits.
fn npy_header_span(b: &[u8]) -> Option<(usize, usize)> {
    if b.len() < 10 || &b[..6] != b"\x93NUMPY" || b[6] != 1 {
        return None;
    }
    let len = usize::from(u16::from_le_bytes([b[8], b[9]]));
    (10 + len <= b.len()).then_some((10, 10 + len))
}

/// Rewrites the value of `key` in a `.npy` header dict (keeping or fixing the header length).
fn npy_replace(b: &mut Vec<u8>, key: &str, value: &str, fix_length: bool) -> bool {
    let Some((start, end)) = npy_header_span(b) else { return false };
    let text = String::from_utf8_lossy(&b[start..end]).into_owned();
    let Some(k) = text.find(&format!("'{key}':")) else { return false };
    let from = k + key.len() + 3;
    let mut depth = 0i32;
    let to = text[from..]
        .char_indices()
        .find(|&(_, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            depth <= 0 && (c == ',' && depth == 0 || c == '}')
        })
        .map_or(text.len(), |(i, _)| from + i);
    let new = format!("{} {value}{}", &text[..from], &text[to..]);
    b.splice(start..end, new.bytes());
    if fix_length {
        let n = u16::try_from(new.len()).unwrap_or(u16::MAX);
        b[8..10].copy_from_slice(&n.to_le_bytes());
    }
    true
}

fn npy_header(b: &mut Vec<u8>, rng: &mut SplitMix) -> String {
    let fix = rng.chance(0.8);
    match rng.below(6) {
        0 if b.len() >= 12 => {
            let v = *rng.pick(&[0u32, 1, 9, 0xFFFF, 0xFFFF_FFFF, b.len() as u32, b.len() as u32 - 9]);
            if b[6] == 1 {
                b[8..10].copy_from_slice(&(v as u16).to_le_bytes());
            } else {
                b[8..12].copy_from_slice(&v.to_le_bytes());
            }
            format!("npy header length = {v}")
        }
        1 if b.len() >= 10 => {
            let v = *rng.pick(&[0u8, 2, 3, 4, 255]);
            b[6] = v;
            format!("npy version = {v}")
        }
        2 => {
            let shape = if rng.chance(0.1) {
                format!("({})", "1, ".repeat(5000))
            } else {
                rng.pick(&SHAPES).to_string()
            };
            let ok = npy_replace(b, "shape", &shape, fix);
            format!("npy shape = {} ({})", cut(&shape, 40), if ok { "done" } else { "no header" })
        }
        3 => {
            let descr = rng.pick(&DESCRS);
            npy_replace(b, "descr", descr, fix);
            format!("npy descr = {descr}")
        }
        4 => {
            let order = rng.pick(&ORDERS);
            npy_replace(b, "fortran_order", order, fix);
            format!("npy fortran_order = {order:?}")
        }
        _ => {
            let n = 1 + rng.below(64);
            if rng.chance(0.5) {
                b.extend((0..n).map(|_| rng.next_u64() as u8));
                format!("npy data + {n} bytes")
            } else {
                let keep = b.len().saturating_sub(n);
                b.truncate(keep);
                format!("npy data - {n} bytes")
            }
        }
    }
}

const SIDECARS: [&str; 14] = [
    r#"{"spacing": [0, 1, 1]}"#,
    r#"{"spacing": [1e308, 1e308, 1e308]}"#,
    r#"{"spacing": [-1, 1, 1]}"#,
    r#"{"spacing": [1, 1]}"#,
    r#"{"spacing": "1,1,1"}"#,
    r#"{"spacing": [1, 1, 1], "axes": "yxz"}"#,
    r#"{"spacing": [1, 1, 1], "direction": [0, 0, 0, 0, 0, 0, 0, 0, 0]}"#,
    r#"{"spacing": [1, 1, 1], "direction": [1, 0, 0, 0, 1, 0, 0, 0]}"#,
    r#"{"spacing": [1, 1, 1], "origin": [1e308, -1e308, 1e308]}"#,
    r#"{"spacing": [1, 1, 1], "origin": [1e999, 0, 0]}"#,
    r#"{"spacing": [1, 1, 1], "extra": true}"#,
    r#"{"spacing": [1, 1, 1], "direction": [2, 0, 0, 0, 2, 0, 0, 0, 2]}"#,
    r#"[1, 1, 1]"#,
    "",
];

fn sidecar_mutation(sidecar: &mut Option<Vec<u8>>, rng: &mut SplitMix) -> String {
    match rng.below(6) {
        0 => {
            *sidecar = None;
            "sidecar removed".into()
        }
        1 => {
            let text = rng.pick(&SIDECARS);
            *sidecar = Some(text.as_bytes().to_vec());
            format!("sidecar = {text}")
        }
        2 => {
            // Long or deep content: a long string, a long unknown key, deeply nested arrays.
            let n = 1000 + rng.below(100_000);
            let text = match rng.below(3) {
                0 => format!(r#"{{"spacing": "{}"}}"#, "x".repeat(n)),
                1 => format!(r#"{{"spacing": [1, 1, 1], "axes": "{}\n\u001b[31m"}}"#, "z".repeat(n)),
                _ => format!(r#"{{"spacing": {}1{}}}"#, "[".repeat(n % 5000), "]".repeat(n % 5000)),
            };
            *sidecar = Some(text.into_bytes());
            format!("sidecar with {n}-byte content")
        }
        _ => {
            let b = sidecar.get_or_insert_with(Vec::new);
            format!("sidecar: {}", generic(b, rng))
        }
    }
}

fn cut(s: &str, n: usize) -> &str {
    let end = (0..=n.min(s.len())).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    &s[..end]
}

// ---------------------------------------------------------------------------------------------------------------
// DICOM
// ---------------------------------------------------------------------------------------------------------------

/// Attributes whose values the readers act on, and text to put in them.
const DICOM_TARGETS: [(u16, u16); 24] = [
    (0x0028, 0x0010), // Rows
    (0x0028, 0x0011), // Columns
    (0x0028, 0x0008), // NumberOfFrames
    (0x0028, 0x0100), // BitsAllocated
    (0x0028, 0x0101), // BitsStored
    (0x0028, 0x0002), // SamplesPerPixel
    (0x0028, 0x0120), // PixelPaddingValue
    (0x0062, 0x000E), // MaximumFractionalValue
    (0x0062, 0x0001), // SegmentationType
    (0x0062, 0x0004), // SegmentNumber
    (0x0062, 0x000B), // ReferencedSegmentNumber
    (0x0020, 0x0032), // ImagePositionPatient
    (0x0020, 0x0037), // ImageOrientationPatient
    (0x0028, 0x0030), // PixelSpacing
    (0x0018, 0x0088), // SpacingBetweenSlices
    (0x0018, 0x0050), // SliceThickness
    (0x3006, 0x0046), // NumberOfContourPoints
    (0x3006, 0x0050), // ContourData
    (0x3006, 0x0042), // ContourGeometricType
    (0x3006, 0x0022), // ROINumber
    (0x3006, 0x0084), // ReferencedROINumber
    (0x0008, 0x0016), // SOPClassUID
    (0x0020, 0x0052), // FrameOfReferenceUID
    (0x7FE0, 0x0010), // PixelData
];
/// Attributes of VR US, for Implicit VR data sets (no VR in the file).
const US_TAGS: [(u16, u16); 6] = [
    (0x0028, 0x0002),
    (0x0028, 0x0010),
    (0x0028, 0x0011),
    (0x0028, 0x0100),
    (0x0028, 0x0101),
    (0x0028, 0x0120),
];
const DICOM_TEXT: [&str; 26] = [
    "0",
    "0\\0\\9000",
    "-100\\-100\\-4000",
    "-1",
    "1",
    "65535",
    "65536",
    "4294967295",
    "4294967296",
    "99999999999",
    "1e308",
    "-1e308",
    "NaN",
    "inf",
    "1e-300",
    "2147483648",
    "0\\0\\0",
    "1\\0\\0\\0\\1\\0",
    "0\\0\\0\\0\\0\\0",
    "1\\1\\1\\1\\1\\1\\1\\1\\1\\1\\1",
    "BINARY",
    "FRACTIONAL",
    "LABELMAP",
    "CLOSED_PLANAR",
    "POINT",
    "1.2.840.10008.5.1.4.1.1.481.3",
];
const VRS: [[u8; 2]; 12] =
    [*b"OB", *b"OW", *b"UN", *b"SQ", *b"US", *b"UL", *b"DS", *b"IS", *b"CS", *b"UT", *b"ZZ", [0, 0]];
const TAGS: [(u16, u16); 7] = [
    (0x7FE0, 0x0010),
    (0xFFFE, 0xE000),
    (0xFFFE, 0xE00D),
    (0xFFFE, 0xE0DD),
    (0x0028, 0x0010),
    (0x0008, 0x0016),
    (0x0062, 0x0002),
];
const SYNTAXES: [&str; 10] = [
    dicom::IMPLICIT_VR_LE,
    dicom::EXPLICIT_VR_LE,
    dicom::EXPLICIT_VR_BE,
    dicom::DEFLATED_EXPLICIT_VR_LE,
    dicom::RLE_LOSSLESS,
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.95",
    "1.2.3",
    "1.2.840.10008.1.2.1.99.1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25",
];

/// A mutation of a File Meta group (preamble, `DICM` and group 0002 only): another transfer syntax, or a
/// length or value of one of its elements.
fn dicom_meta_mutation(b: &mut Vec<u8>, rng: &mut SplitMix) -> String {
    if b.len() < 144 || &b[128..132] != b"DICM" {
        return generic(b, rng);
    }
    if rng.chance(0.4) {
        let ts = rng.pick(&SYNTAXES);
        *b = dicom::with_meta(b, ts, &[]);
        return format!("transfer syntax = {ts}");
    }
    let found = dicom::headers(b, 132, true);
    if found.is_empty() || rng.chance(0.2) {
        return generic(b, rng);
    }
    let h = *rng.pick(&found);
    if rng.chance(0.5) { set_length(b, &h, rng) } else { set_value(b, &h, rng) }
}

/// A DICOM mutation of a whole file, or of an Explicit VR data set starting at `data_set` (a deflated seed's
/// data set, inflated).
fn dicom_mutation(b: &mut Vec<u8>, data_set: Option<usize>, rng: &mut SplitMix) -> String {
    if rng.chance(0.4) {
        return generic(b, rng);
    }
    let (start, explicit) = data_set.map_or_else(|| dicom::data_set_start(b), |at| (at, true));
    let has_meta = data_set.is_none() && b.len() >= 144 && &b[128..132] == b"DICM";
    if has_meta && rng.chance(0.15) {
        let mut meta = b[..start.min(b.len())].to_vec();
        let what = dicom_meta_mutation(&mut meta, rng);
        b.splice(..start.min(b.len()), meta);
        return format!("File Meta: {what}");
    }
    let found = dicom::headers(b, start, explicit);
    if found.is_empty() {
        return generic(b, rng);
    }
    match rng.below(10) {
        0..=2 => {
            let h = *rng.pick(&found);
            set_length(b, &h, rng)
        }
        3 => {
            // The PixelData element or one of its fragments.
            let pixel: Vec<ElementHeader> =
                found.iter().copied().skip_while(|h| h.tag != (0x7FE0, 0x0010)).collect();
            let h = if pixel.is_empty() { *rng.pick(&found) } else { *rng.pick(&pixel) };
            set_length(b, &h, rng)
        }
        4..=6 => {
            let targets: Vec<ElementHeader> =
                found.iter().copied().filter(|h| DICOM_TARGETS.contains(&h.tag)).collect();
            let h = if targets.is_empty() { *rng.pick(&found) } else { *rng.pick(&targets) };
            set_value(b, &h, rng)
        }
        7 => {
            let with_vr: Vec<ElementHeader> = found.iter().copied().filter(|h| h.vr.is_some()).collect();
            let Some(h) = (!with_vr.is_empty()).then(|| *rng.pick(&with_vr)) else { return generic(b, rng) };
            let vr = *rng.pick(&VRS);
            b[h.offset + 4..h.offset + 6].copy_from_slice(&vr);
            format!("dicom {} VR -> {}", name(&h), String::from_utf8_lossy(&vr))
        }
        8 => {
            let h = *rng.pick(&found);
            let tag = if rng.chance(0.8) {
                *rng.pick(&TAGS)
            } else {
                (rng.next_u64() as u16, rng.next_u64() as u16)
            };
            b[h.offset..h.offset + 2].copy_from_slice(&tag.0.to_le_bytes());
            b[h.offset + 2..h.offset + 4].copy_from_slice(&tag.1.to_le_bytes());
            format!("dicom {} tag -> ({:04X},{:04X})", name(&h), tag.0, tag.1)
        }
        _ => {
            // Duplicate an element with a defined length (a repeated attribute, item or fragment).
            let h = *rng.pick(&found);
            let end = h.value_at.saturating_add(if h.length == u32::MAX { 0 } else { h.length as usize });
            if end > b.len() || end - h.offset > 1 << 16 {
                return generic(b, rng);
            }
            let copies = if rng.chance(0.2) { 1 + rng.below(64) } else { 1 };
            let chunk = b[h.offset..end].to_vec();
            let all: Vec<u8> = (0..copies).flat_map(|_| chunk.iter().copied()).collect();
            b.splice(end..end, all);
            format!("dicom {} duplicated {copies}x", name(&h))
        }
    }
}

fn name(h: &ElementHeader) -> String {
    format!("({:04X},{:04X})@{}", h.tag.0, h.tag.1, h.offset)
}

/// Sets an element's or item's length to a lying, odd, undefined or huge value.
fn set_length(b: &mut [u8], h: &ElementHeader, rng: &mut SplitMix) -> String {
    let len = h.length;
    let left = (b.len() - h.value_at) as u32;
    let random = rng.next_u64();
    let v = if h.length_size == 4 {
        *rng.pick(&[
            u32::MAX,
            u32::MAX - 1,
            0xC000_0000,
            0x7FFF_FFFF,
            0x8000_0000,
            len.wrapping_add(1),
            len.wrapping_add(2),
            len.wrapping_sub(1),
            0,
            left.wrapping_add(1),
            left.wrapping_add(8),
            random as u32,
        ])
    } else {
        u32::from(*rng.pick(&[
            u16::MAX,
            0,
            (len as u16).wrapping_add(1),
            (len as u16).wrapping_sub(1),
            0x8000,
            random as u16,
        ]))
    };
    if h.length_size == 4 {
        b[h.length_at..h.length_at + 4].copy_from_slice(&v.to_le_bytes());
    } else {
        b[h.length_at..h.length_at + 2].copy_from_slice(&(v as u16).to_le_bytes());
    }
    format!("dicom {} length {len} -> {v}", name(h))
}

/// Rewrites an element's value with extreme numbers or text, in place (same length) or resized (its length
/// fixed, so enclosing defined lengths now lie).
fn set_value(b: &mut Vec<u8>, h: &ElementHeader, rng: &mut SplitMix) -> String {
    if h.length == u32::MAX || h.value_at + h.length as usize > b.len() {
        return set_length(b, h, rng);
    }
    let len = h.length as usize;
    let binary = match h.vr {
        Some(vr) => matches!(&vr, b"US" | b"UL" | b"SS" | b"SL" | b"OB" | b"OW" | b"FL" | b"FD" | b"AT"),
        None => US_TAGS.contains(&h.tag),
    };
    if binary && len > 0 {
        let v = *rng.pick(&INTERESTING);
        let n = len.min(8);
        b[h.value_at..h.value_at + n].copy_from_slice(&v.to_le_bytes()[..n]);
        return format!("dicom {} value = {v:#x}", name(h));
    }
    let text = if rng.chance(0.05) {
        format!("{}\n\u{1b}[2J", "9".repeat(1 + rng.below(5000)))
    } else {
        rng.pick(&DICOM_TEXT).to_string()
    };
    let mut value = text.clone().into_bytes();
    if value.len() % 2 == 1 {
        value.push(b' ');
    }
    if rng.chance(0.7) || h.length_size == 2 && value.len() > 0xFFFF {
        // Same length: pad with spaces or cut.
        value.resize(len, b' ');
        b[h.value_at..h.value_at + len].copy_from_slice(&value);
        format!("dicom {} value = {:?} (in place)", name(h), cut(&text, 40))
    } else {
        let new_len = value.len() as u32;
        if h.length_size == 4 {
            b[h.length_at..h.length_at + 4].copy_from_slice(&new_len.to_le_bytes());
        } else {
            b[h.length_at..h.length_at + 2].copy_from_slice(&(new_len as u16).to_le_bytes());
        }
        b.splice(h.value_at..h.value_at + len, value);
        format!("dicom {} value = {:?} (resized {len} -> {new_len})", name(h), cut(&text, 40))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// MetaImage and NRRD
// ---------------------------------------------------------------------------------------------------------------

/// Values that break text headers: boundaries of integer widths, non-numbers, sizes of gigabytes, the forms of
/// the data file, and long or control-character-laden strings.
const TEXT_VALUES: [&str; 40] = [
    "0",
    "-1",
    "-2",
    "1",
    "2",
    "255",
    "65536",
    "4294967296",
    "18446744073709551616",
    "-9223372036854775809",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "",
    "1 1 1",
    "100000 100000 100000",
    "65535 65535 65535 65535",
    "1000 1000 1000 1000 1000",
    "(1,0,0) (0,1,0) (0,0,1)",
    "none none none",
    "(nan,nan,nan)",
    "(0,0,0) (0,0,0) (0,0,0)",
    "(1e308,0,0) (0,1,0) (0,0,1)",
    "LOCAL",
    "LIST",
    "x%03d.raw 1 2 1",
    "/",
    "..",
    "True",
    "False",
    "MET_DOUBLE",
    "MET_FLOAT_ARRAY",
    "gzip",
    "bzip2",
    "ascii",
    "hex",
    "list domain domain domain",
    "uint64",
    "\u{1b}[2J\r\u{202e}",
];

/// Field names to insert, of either format.
const TEXT_FIELDS: [&str; 24] = [
    "NDims",
    "DimSize",
    "ElementType",
    "ElementDataFile",
    "CompressedData",
    "CompressedDataSize",
    "HeaderSize",
    "BinaryData",
    "ElementNumberOfChannels",
    "TransformMatrix",
    "ElementSpacing",
    "FileFormatVersion",
    "dimension",
    "sizes",
    "type",
    "encoding",
    "endian",
    "kinds",
    "space",
    "space directions",
    "byte skip",
    "line skip",
    "data file",
    "Segment0_Layer",
];

/// The header's end: after the `ElementDataFile` line (MetaImage) or the empty line (NRRD), else the whole file.
fn header_len(reader: Reader, b: &[u8]) -> usize {
    let find = |needle: &[u8]| b.windows(needle.len()).position(|w| w == needle);
    if reader == Reader::Nrrd {
        find(b"\n\n").map_or(b.len(), |at| at + 2)
    } else {
        find(b"ElementDataFile")
            .and_then(|at| b[at..].iter().position(|&c| c == b'\n').map(|n| at + n + 1))
            .unwrap_or(b.len())
    }
}

/// A mutation of one line of a MetaImage or NRRD header: a value set to an extreme, a number changed, a line
/// deleted, duplicated or added.
fn header_mutation(reader: Reader, b: &mut Vec<u8>, rng: &mut SplitMix) -> String {
    let nrrd = reader == Reader::Nrrd;
    let end = header_len(reader, b);
    let head = String::from_utf8_lossy(&b[..end]).into_owned();
    let data = b[end..].to_vec();
    let mut lines: Vec<String> = head.lines().map(str::to_string).collect();
    if lines.len() < 2 {
        return generic(b, rng);
    }
    // Keep NRRD's magic and its closing empty line in place most of the time.
    let first = usize::from(nrrd);
    let last = lines.len() - usize::from(nrrd && lines.last().is_some_and(String::is_empty));
    let line = first + rng.below(last.saturating_sub(first).max(1));
    let line = line.min(lines.len() - 1);
    let sep = |l: &str| l.find(":=").map(|i| i + 2).or_else(|| l.find([':', '=']).map(|i| i + 1));
    let what = match rng.below(10) {
        0..=4 => {
            let value =
                if rng.chance(0.05) { "x".repeat(100_000) } else { rng.pick(&TEXT_VALUES).to_string() };
            let l = &mut lines[line];
            let at = sep(l).unwrap_or(l.len());
            l.truncate(at);
            l.push(' ');
            l.push_str(&value);
            format!("line {line} value := {:?}", cut(&value, 40))
        }
        5 | 6 => {
            // One number in the line set to an extreme.
            let l = lines[line].clone();
            let numbers: Vec<(usize, usize)> = l
                .char_indices()
                .filter(|(i, c)| c.is_ascii_digit() && (*i == 0 || !l.as_bytes()[i - 1].is_ascii_digit()))
                .map(|(i, _)| (i, l[i..].find(|c: char| !c.is_ascii_digit()).map_or(l.len(), |n| i + n)))
                .collect();
            if numbers.is_empty() {
                return generic(b, rng);
            }
            let (s, e) = *rng.pick(&numbers);
            let value = *rng.pick(&["0", "4294967295", "4294967296", "9999999999999", "3", "65535"]);
            lines[line] = format!("{}{}{}", &l[..s], value, &l[e..]);
            format!("line {line} number at {s} := {value}")
        }
        7 => {
            lines.remove(line);
            format!("delete line {line}")
        }
        8 => {
            let copy = lines[line].clone();
            lines.insert(line, copy);
            format!("duplicate line {line}")
        }
        _ => {
            let field = *rng.pick(&TEXT_FIELDS);
            let value = *rng.pick(&TEXT_VALUES);
            let sep = if nrrd { ": " } else { " = " };
            lines.insert(line, format!("{field}{sep}{value}"));
            format!("insert {:?} at line {line}", cut(&format!("{field}{sep}{value}"), 60))
        }
    };
    let mut out = lines.join("\n").into_bytes();
    out.push(b'\n');
    if nrrd && end < b.len() && !out.ends_with(b"\n\n") {
        out.push(b'\n');
    }
    out.extend(data);
    *b = out;
    what
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
    }

    #[test]
    fn mutants_are_deterministic_and_differ_from_their_seed() {
        for reader in Reader::ALL {
            let seeds = seeds(reader, &data_dir());
            assert!(!seeds.is_empty(), "{reader:?}");
            assert!(seeds.iter().all(|s| reader.extensions().contains(&s.extension)), "{reader:?}");
            let mut changed = 0;
            for i in 0..40 {
                let s = &seeds[i % seeds.len()];
                let a = mutant(s, &mut mutant_rng(7, reader, i as u64));
                let b = mutant(s, &mut mutant_rng(7, reader, i as u64));
                assert_eq!(a, b, "{reader:?} mutant {i}");
                changed += usize::from(a.bytes != s.file_bytes() || a.sidecar != s.sidecar);
            }
            // A mutation may undo itself (a flip twice, a value rewritten with itself), but rarely.
            assert!(changed >= 36, "{reader:?}: only {changed} of 40 mutants differ from their seed");
        }
    }

    #[test]
    fn encodings_round_trip() {
        let seg = seeds(Reader::Seg, &data_dir());
        let deflated =
            seg.iter().find(|s| matches!(s.encoding, Encoding::DeflatedDataSet { .. })).expect("seed");
        let file = deflated.file_bytes();
        assert_eq!(dicom::transfer_syntax(&file), dicom::DEFLATED_EXPLICIT_VR_LE);
        let Encoding::DeflatedDataSet { meta_len } = deflated.encoding else { unreachable!() };
        let mut inflated = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::DeflateDecoder::new(&file[meta_len..]), &mut inflated)
            .expect("inflate");
        assert_eq!(inflated, deflated.plain[meta_len..]);
        let gz = &seeds(Reader::NiftiGz, &data_dir())[0];
        assert_eq!(&gz.file_bytes()[..2], &[0x1f, 0x8b]);
    }

    #[test]
    fn messages_are_checked() {
        let file = Path::new("/data/case 1.nii");
        assert!(check_message("/data/case 1.nii: truncated", file, &[], 100).is_ok());
        assert!(check_message("/data/case 1.nii: a\nb", file, &[], 100).is_err());
        assert!(check_message("somewhere: truncated", file, &[], 100).is_err());
        assert!(check_message(&format!("/data/case 1.nii: {}", "x".repeat(200)), file, &[], 100).is_err());
        let side = Path::new("/data/case 1.json");
        assert!(
            check_message("/data/case 1.json: sidecar of /data/case 1.nii: bad", file, &[side], 20).is_ok()
        );
    }

    #[test]
    fn text_header_mutations_keep_the_data() {
        for reader in [Reader::MetaImage, Reader::Nrrd] {
            // The attached ones: a detached header has no data after it.
            for s in seeds(reader, &data_dir()).iter().filter(|s| s.companions.is_empty()) {
                let end = header_len(reader, &s.plain);
                assert!(end < s.plain.len(), "{}: no data after the header", s.name);
                for i in 0..40 {
                    let mut b = s.plain.clone();
                    let what = header_mutation(reader, &mut b, &mut SplitMix(i));
                    assert!(!what.contains(['\n', '\r']), "{what}");
                    // A line without numbers to change gets a generic mutation instead.
                    if what.starts_with("line ") || what.contains(" line ") {
                        assert!(b.ends_with(&s.plain[end..]), "{} [{what}]: the data changed", s.name);
                    }
                }
            }
        }
    }

    #[test]
    fn the_npy_header_is_rewritten_in_place() {
        let mut b = npy_bytes("|u1", false, &[2, 2, 2], &[0; 8]);
        assert!(npy_replace(&mut b, "shape", "(9, 9)", true));
        let (s, e) = npy_header_span(&b).expect("header");
        let text = String::from_utf8_lossy(&b[s..e]);
        assert!(text.contains("'shape': (9, 9),"), "{text}");
        assert!(text.contains("'descr': '|u1'"), "{text}");
    }
}
