//! Criterion benchmark of the DICOM-SEG reader: a 512×512×300 BINARY SEG with 3 segments (900 frames of 1-bit
//! pixels, 0.8 × 0.8 × 1.5 mm), generated once from the conformance set's `gen_seg_binary_3seg` as a template
//! (its attributes, with the size, the per-frame positions and segment numbers, and the pixel data replaced):
//! - `dicom/read_seg_512x512x300_3seg`: `read_seg` without series (grid from the frames), every segment's mask;
//! - `dicom/seg_to_label_volume`: the same plus the label volume segauge evaluates.
//!
//! Run with `cargo bench -p segauge-benches --bench dicom` (or `cargo xtask bench dicom`).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_main};
use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use segauge_io::dicom::{SegOptions, read_seg};

const N: usize = 512;
const SLICES: usize = 300;
const SEGMENTS: usize = 3;
const SPACING: [f64; 3] = [0.8, 0.8, 1.5];

/// Whether voxel (i, j, k) is in segment `s` (1-based): three overlapping-free ellipsoids of organ size.
fn inside(s: usize, i: usize, j: usize, k: usize) -> bool {
    let (x, y, z) = (i as f64 * SPACING[0], j as f64 * SPACING[1], k as f64 * SPACING[2]);
    let (c, r): ([f64; 3], [f64; 3]) = match s {
        1 => ([150.0, 200.0, 220.0], [90.0, 70.0, 110.0]),
        2 => ([300.0, 150.0, 200.0], [40.0, 45.0, 70.0]),
        _ => ([300.0, 290.0, 230.0], [35.0, 30.0, 60.0]),
    };
    ((x - c[0]) / r[0]).powi(2) + ((y - c[1]) / r[1]).powi(2) + ((z - c[2]) / r[2]).powi(2) <= 1.0
}

fn item(elements: Vec<DataElement<InMemDicomObject>>) -> InMemDicomObject {
    InMemDicomObject::from_element_iter(elements)
}

fn sequence(tag: dicom_core::Tag, items: Vec<InMemDicomObject>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::SQ, DataSetSequence::from(items))
}

/// Writes the benchmark SEG unless it exists, and returns its path.
fn ensure_seg() -> PathBuf {
    let path = segauge_benches::data_dir().join("seg-v1-512x512x300-3seg.dcm");
    if path.is_file() {
        return path;
    }
    std::fs::create_dir_all(segauge_benches::data_dir()).expect("bench data folder");
    let template =
        segauge_benches::workspace_root().join("tests/data/dicom/cases/gen_seg_binary_3seg/input.dcm");
    let mut obj = dicom_object::open_file(&template).expect("template SEG");
    obj.put(DataElement::new(tags::ROWS, VR::US, PrimitiveValue::from(N as u16)));
    obj.put(DataElement::new(tags::COLUMNS, VR::US, PrimitiveValue::from(N as u16)));
    obj.put(DataElement::new(
        tags::NUMBER_OF_FRAMES,
        VR::IS,
        PrimitiveValue::from((SEGMENTS * SLICES).to_string()),
    ));
    obj.put(sequence(
        tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE,
        vec![item(vec![
            sequence(
                tags::PIXEL_MEASURES_SEQUENCE,
                vec![item(vec![
                    DataElement::new(tags::PIXEL_SPACING, VR::DS, PrimitiveValue::from("0.8\\0.8")),
                    DataElement::new(tags::SLICE_THICKNESS, VR::DS, PrimitiveValue::from("1.5")),
                    DataElement::new(tags::SPACING_BETWEEN_SLICES, VR::DS, PrimitiveValue::from("1.5")),
                ])],
            ),
            sequence(
                tags::PLANE_ORIENTATION_SEQUENCE,
                vec![item(vec![DataElement::new(
                    tags::IMAGE_ORIENTATION_PATIENT,
                    VR::DS,
                    PrimitiveValue::from("1\\0\\0\\0\\1\\0"),
                )])],
            ),
        ])],
    ));
    let mut frames = Vec::with_capacity(SEGMENTS * SLICES);
    let mut bits = vec![0u8; (SEGMENTS * SLICES * N * N).div_ceil(8)];
    let mut bit = 0usize;
    for s in 1..=SEGMENTS {
        for k in 0..SLICES {
            let position = format!("-200\\-200\\{}", k as f64 * SPACING[2]);
            frames.push(item(vec![
                sequence(
                    tags::PLANE_POSITION_SEQUENCE,
                    vec![item(vec![DataElement::new(
                        tags::IMAGE_POSITION_PATIENT,
                        VR::DS,
                        PrimitiveValue::from(position),
                    )])],
                ),
                sequence(
                    tags::SEGMENT_IDENTIFICATION_SEQUENCE,
                    vec![item(vec![DataElement::new(
                        tags::REFERENCED_SEGMENT_NUMBER,
                        VR::US,
                        PrimitiveValue::from(s as u16),
                    )])],
                ),
            ]));
            for j in 0..N {
                for i in 0..N {
                    if inside(s, i, j, k) {
                        bits[bit / 8] |= 1 << (bit % 8);
                    }
                    bit += 1;
                }
            }
        }
    }
    obj.put(sequence(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE, frames));
    obj.put(DataElement::new(tags::PIXEL_DATA, VR::OB, PrimitiveValue::from(bits)));
    let tmp = path.with_extension("tmp");
    obj.write_to_file(&tmp).expect("write the benchmark SEG");
    std::fs::rename(&tmp, &path).expect("rename");
    path
}

fn dicom(c: &mut Criterion) {
    let path = ensure_seg();
    let check = read_seg(&path, &SegOptions::default()).expect("read the benchmark SEG");
    assert_eq!((check.segments.len(), check.geometry.slice_count()), (SEGMENTS, SLICES));
    let mut group = c.benchmark_group("dicom");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    group.bench_function("read_seg_512x512x300_3seg", |b| {
        b.iter(|| read_seg(black_box(Path::new(&path)), &SegOptions::default()).expect("read"))
    });
    group.bench_function("seg_to_label_volume", |b| {
        b.iter(|| {
            read_seg(black_box(Path::new(&path)), &SegOptions::default())
                .expect("read")
                .to_label_volume()
                .expect("labels")
        })
    });
    group.finish();
}

/// The benchmark group, configured from the command line.
fn benches() {
    let mut criterion = Criterion::default().configure_from_args();
    dicom(&mut criterion);
}

criterion_main!(benches);
