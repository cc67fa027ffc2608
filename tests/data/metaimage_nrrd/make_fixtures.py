"""Writes the MetaImage and NRRD fixtures of segauge-io's integration tests (crates/segauge-io/tests/io/itk.rs).

Run from the repository root, with SimpleITK, pynrrd, nibabel and numpy installed:

    python tests/data/metaimage_nrrd/make_fixtures.py

Every expected value comes from another implementation, never from segauge:

- "twins": each MetaImage/NRRD file has a NIfTI twin, written by the same tool from the same image (SimpleITK
  writes both from one sitk.Image; for pynrrd's files nibabel writes the twin from the same array and the affine
  that the NRRD header describes, turned to RAS here from the NRRD spec). The test reads both with segauge and
  asserts the same labels and the same grid (dims exact; spacing, origin, direction within 1e-6). For the SimpleITK
  files, SimpleITK's own reading of the file is checked here against the image it was written from.
- "slicer": 3D Slicer segmentations written with pynrrd following Slicer's conventions
  (vtkMRMLSegmentationStorageNode, Docs/developer_guide/modules/segmentations.md): the expected layers (x fastest)
  and names are computed here with numpy from the segment definitions.
- "third_party": files copied from pynrrd's and ITK's test data (see PROVENANCE.md); their expected values are
  read here by pynrrd (NRRD) or SimpleITK (MetaImage), and checked against what pynrrd's own tests assert.

The layout of expected.json: {"versions": {...}, "twins": [[file, twin], ...], "slicer": {file: {"dims",
"layers": [[values, x fastest], ...], "names": {label: name}}}, "third_party": {file: {"dims", "spacing", "origin",
"direction" (RAS, rows), "counts": {value: voxels}, "voxels": [[i, j, k, value], ...], "sha256"}}}.
"""

import gzip
import hashlib
import json
import math
import os
import shutil
import sys

import nibabel as nib
import nrrd
import numpy as np
import SimpleITK as sitk

HERE = os.path.dirname(os.path.abspath(__file__))
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])


def path(name):
    return os.path.join(HERE, name)


def labels_xyz(shape):
    """A label pattern on an x, y, z grid (x fastest in the files): labels 0..3 in blocks, some voxels empty."""
    nx, ny, nz = shape
    i, j, k = np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij")
    out = ((i // 2 + j // 2 + k) % 4).astype(np.uint8)
    out[(i + j + k) % 5 == 0] = 0
    return out


def rotation():
    """An oblique rotation: 0.3 rad about z, then 0.2 rad about x."""
    c, s = math.cos(0.3), math.sin(0.3)
    rz = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    c, s = math.cos(0.2), math.sin(0.2)
    rx = np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    return rz @ rx


def sitk_image(xyz, spacing, origin, direction, vector=False):
    """A SimpleITK image from an array indexed [x, y, z(, c)]."""
    arr = np.ascontiguousarray(np.moveaxis(xyz, [0, 1, 2], [2, 1, 0]) if xyz.ndim >= 3 else xyz.T)
    img = sitk.GetImageFromArray(arr, isVector=vector)
    img.SetSpacing(spacing)
    img.SetOrigin(origin)
    img.SetDirection(tuple(np.asarray(direction, float).flatten()))
    return img


def check_sitk_roundtrip(name, img):
    back = sitk.ReadImage(path(name))
    assert back.GetSize() == img.GetSize(), name
    assert np.allclose(back.GetSpacing(), img.GetSpacing(), atol=1e-12), name
    assert np.allclose(back.GetOrigin(), img.GetOrigin(), atol=1e-12), name
    assert np.allclose(back.GetDirection(), img.GetDirection(), atol=1e-12), name
    assert np.array_equal(sitk.GetArrayFromImage(back), sitk.GetArrayFromImage(img)), name


def write_sitk(img, names, twin):
    for name, compress in names:
        sitk.WriteImage(img, path(name), compress)
        check_sitk_roundtrip(name, img)
    sitk.WriteImage(img, path(twin), True)
    return [[name, twin] for name, _ in names]


def sitk_fixtures():
    twins = []
    shape = (7, 6, 5)
    img = sitk_image(labels_xyz(shape), (0.7, 0.9, 1.3), (10.25, -20.5, 30.125), rotation())
    twins += write_sitk(
        img,
        [
            ("sitk_u8.mha", False),
            ("sitk_u8_zlib.mha", True),
            ("sitk_u8.mhd", False),
            ("sitk_u8.nrrd", False),
            ("sitk_u8_gzip.nrrd", True),
        ],
        "sitk_u8.nii.gz",
    )

    # 2D int16 with negative values (background) and an in-plane rotation.
    xy = labels_xyz((7, 6, 1))[:, :, 0].astype(np.int16) * 100 - 50
    xy[xy < 0] = -3
    img2 = sitk_image(xy, (0.5, 0.75), (1.5, -2.25), [[0.8, -0.6], [0.6, 0.8]])
    twins += write_sitk(img2, [("sitk_i16_2d.mha", True), ("sitk_i16_2d.nrrd", False)], "sitk_i16_2d.nii.gz")

    # Two overlapping 0/1 channels (a vector image): ElementNumberOfChannels in MetaImage, a vector axis in NRRD,
    # a 5D NIfTI (dim[4] = 1) as ITK writes vector images.
    ch = np.zeros(shape + (2,), np.uint8)
    ch[1:4, 1:4, 1:4, 0] = 1
    ch[3:6, 2:5, 2:4, 1] = 1
    img3 = sitk_image(ch, (1.0, 1.0, 2.0), (-5.0, 4.5, 0.25), np.diag([1.0, -1.0, 1.0]), vector=True)
    twins += write_sitk(img3, [("sitk_channels.mha", True), ("sitk_channels.nrrd", True)], "sitk_channels.nii.gz")

    # Written by hand, read by SimpleITK: the old aliases (Position, Orientation, ElementSize), big-endian
    # int16 in a separate data file behind a 16-byte header of its own, found by HeaderSize = -1 (data at the end).
    direction = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # rows: LPS x, y, z
    values = labels_xyz((4, 3, 2)).astype(np.int16) * 300 - 100
    values[0, 0, 0] = -7
    column_wise = " ".join(str(v) for v in direction.T.flatten())
    header = (
        "ObjectType = Image\nNDims = 3\nBinaryData = True\nElementByteOrderMSB = True\n"
        f"Orientation = {column_wise}\nPosition = 3 -4.5 6.25\nElementSize = 1.5 2 2.5\nDimSize = 4 3 2\n"
        "HeaderSize = -1\nElementType = MET_SHORT\nElementDataFile = hand_i16_msb.raw\n"
    )
    with open(path("hand_i16_msb.mhd"), "w", newline="\n") as f:
        f.write(header)
    with open(path("hand_i16_msb.raw"), "wb") as f:
        f.write(b"JUNKHEADER012345" + values.astype(">i2").tobytes(order="F"))
    hand = sitk.ReadImage(path("hand_i16_msb.mhd"))
    assert hand.GetSize() == (4, 3, 2)
    assert np.allclose(hand.GetSpacing(), (1.5, 2, 2.5))
    assert np.allclose(hand.GetOrigin(), (3, -4.5, 6.25))
    assert np.allclose(np.array(hand.GetDirection()).reshape(3, 3), direction)
    assert np.array_equal(sitk.GetArrayFromImage(hand), np.moveaxis(values, [0, 1, 2], [2, 1, 0]))
    sitk.WriteImage(hand, path("hand_i16_msb.nii.gz"), True)
    twins.append(["hand_i16_msb.mhd", "hand_i16_msb.nii.gz"])
    return twins


def nifti_twin(name, data_xyz, affine_ras, nrrd_name):
    # ITK reads the NRRD file with the geometry nibabel writes into the twin (ITK in LPS, the twin in RAS).
    img = sitk.ReadImage(path(nrrd_name))
    lps = np.array(img.GetDirection()).reshape(3, 3) * np.array(img.GetSpacing())
    assert np.allclose(LPS_TO_RAS @ lps, affine_ras[:3, :3], atol=1e-12), nrrd_name
    assert np.allclose(LPS_TO_RAS @ np.array(img.GetOrigin()), affine_ras[:3, 3], atol=1e-12), nrrd_name
    assert np.array_equal(np.moveaxis(sitk.GetArrayFromImage(img), [0, 1, 2], [2, 1, 0]), data_xyz), nrrd_name
    img = nib.Nifti1Image(data_xyz, affine_ras)
    img.header.set_xyzt_units("mm")
    img.set_qform(affine_ras, code=1)
    img.set_sform(affine_ras, code=1)
    nib.save(img, path(name))


def pynrrd_fixtures():
    twins = []
    # RAS space, oblique directions, gzip, big-endian int16 with negative values.
    shape = (7, 6, 5)
    data = labels_xyz(shape).astype(np.int16) * 7 - 3
    spacing = np.array([0.75, 1.25, 2.0])
    dirs = (rotation() * spacing).T  # rows: the space direction of each axis
    origin = np.array([-12.5, 8.25, 40.0])
    header = {
        "type": "int16",
        "dimension": 3,
        "space": "right-anterior-superior",
        "space directions": dirs,
        "space origin": origin,
        "kinds": ["domain"] * 3,
        "endian": "big",
        "encoding": "gzip",
    }
    nrrd.write(path("pynrrd_ras_i16.nrrd"), data, header, index_order="F")
    affine = np.eye(4)
    affine[:3, :3] = dirs.T
    affine[:3, 3] = origin
    nifti_twin("pynrrd_ras_i16.nii.gz", data, affine, "pynrrd_ras_i16.nrrd")
    twins.append(["pynrrd_ras_i16.nrrd", "pynrrd_ras_i16.nii.gz"])

    # Detached header (.nhdr + .raw.gz), LPS space, float32 labels.
    data = labels_xyz((5, 4, 3)).astype(np.float32)
    dirs = np.diag([0.5, 0.5, 3.0])[[1, 0, 2]]  # axis 0 along y, axis 1 along x
    origin = np.array([100.0, -50.5, 7.0])
    header = {
        "type": "float",
        "dimension": 3,
        "space": "left-posterior-superior",
        "space directions": dirs,
        "space origin": origin,
        "kinds": ["domain"] * 3,
        "endian": "little",
        "encoding": "gzip",
    }
    nrrd.write(path("pynrrd_detached.nhdr"), data, header, detached_header=True, index_order="F")
    affine = np.eye(4)
    affine[:3, :3] = LPS_TO_RAS @ dirs.T
    affine[:3, 3] = LPS_TO_RAS @ origin
    nifti_twin("pynrrd_detached.nii.gz", data, affine, "pynrrd_detached.nhdr")
    twins.append(["pynrrd_detached.nhdr", "pynrrd_detached.nii.gz"])
    return twins


def slicer_header(kinds, dirs, origin, segments):
    header = {
        "type": "unsigned char",
        "dimension": len(kinds),
        "space": "left-posterior-superior",
        "kinds": kinds,
        "space directions": dirs,
        "space origin": origin,
        "encoding": "gzip",
        "Segmentation_ContainedRepresentationNames": "Binary labelmap|Closed surface|",
        "Segmentation_ConversionParameters": "Collapse labelmaps|2|Merge the labelmaps into as few shared labelmaps as possible",
        "Segmentation_MasterRepresentation": "Binary labelmap",
        "Segmentation_ReferenceImageExtentOffset": "0 0 0",
    }
    for n, (seg_id, name, layer, value, color) in enumerate(segments):
        header[f"Segment{n}_Color"] = color
        header[f"Segment{n}_ColorAutoGenerated"] = "1"
        header[f"Segment{n}_Extent"] = "0 6 0 5 0 4"
        header[f"Segment{n}_ID"] = seg_id
        header[f"Segment{n}_LabelValue"] = str(value)
        header[f"Segment{n}_Layer"] = str(layer)
        header[f"Segment{n}_Name"] = name
        header[f"Segment{n}_NameAutoGenerated"] = "0"
        header[f"Segment{n}_Tags"] = "Segmentation.Status:inprogress|TerminologyEntry:Segmentation category and type - 3D Slicer General Anatomy list~SCT^123037004^Anatomical Structure~SCT^10200004^Liver~^^~Anatomic codes - DICOM master list~^^~^^|"
    return header


def slicer_fixtures():
    out = {}
    shape = (7, 6, 5)
    i, j, k = np.meshgrid(*(np.arange(s) for s in shape), indexing="ij")
    liver = (i >= 1) & (i <= 4) & (j >= 1) & (j <= 3) & (k >= 1) & (k <= 3)
    spleen = (i == 6) & (j >= 2) & (k >= 2)
    kidney = (i <= 1) & (j >= 4)
    tumour = (i >= 3) & (i <= 5) & (j >= 2) & (j <= 4) & (k >= 2) & (k <= 3)  # overlaps the liver
    spacing = np.array([0.8, 0.8, 1.5])
    dirs3 = np.diag(spacing)
    origin = np.array([-20.0, 15.5, -100.25])

    # One layer, unique label values 1, 2 and 5: the values are kept.
    layer = np.zeros(shape, np.uint8)
    layer[liver] = 1
    layer[spleen] = 2
    layer[kidney] = 5
    segments = [
        ("Segment_1", "liver", 0, 1, "0.86 0.55 0.39"),
        ("Segment_2", "spleen", 0, 2, "0.61 0.31 0.31"),
        ("Segment_5", "left kidney", 0, 5, "0.72 0.38 0.31"),
    ]
    header = slicer_header(["domain"] * 3, dirs3, origin, segments)
    nrrd.write(path("slicer_one_layer.seg.nrrd"), layer, header, index_order="F")
    out["slicer_one_layer.seg.nrrd"] = {
        "dims": list(shape),
        "layers": [layer.flatten(order="F").tolist()],
        "names": {"1": "liver", "2": "spleen", "5": "left kidney"},
    }

    # Two layers (a list axis first, as Slicer writes overlapping segments): layer 0 holds the liver (1) and the
    # spleen (2), layer 1 the tumour (1, overlapping the liver). The label values repeat, so segauge numbers the
    # segments 1, 2, 3 in segment order: liver 1, tumour 2, spleen 3.
    layers = np.zeros((2,) + shape, np.uint8)
    layers[0][liver] = 1
    layers[0][spleen] = 2
    layers[1][tumour] = 1
    segments = [
        ("Segment_1", "liver", 0, 1, "0.86 0.55 0.39"),
        ("Segment_3", "tumour", 1, 1, "0.9 0.9 0.5"),
        ("Segment_2", "spleen", 0, 2, "0.61 0.31 0.31"),
    ]
    dirs4 = np.vstack([np.full(3, np.nan), dirs3])
    header = slicer_header(["list", "domain", "domain", "domain"], dirs4, origin, segments)
    nrrd.write(path("slicer_two_layers.seg.nrrd"), layers, header, index_order="F")
    want0 = np.zeros(shape, np.uint8)
    want0[liver] = 1
    want0[spleen] = 3
    want1 = np.zeros(shape, np.uint8)
    want1[tumour] = 2
    assert (liver & tumour).any()
    out["slicer_two_layers.seg.nrrd"] = {
        "dims": list(shape),
        "layers": [want0.flatten(order="F").tolist(), want1.flatten(order="F").tolist()],
        "names": {"1": "liver", "2": "tumour", "3": "spleen"},
    }
    # Both files' grid: LPS diag(spacing) at origin, in RAS; ITK reads them so (the layers as vector components).
    for name in out:
        d, h = nrrd.read(path(name), index_order="F")
        assert d.shape[-3:] == shape
        img = sitk.ReadImage(path(name))
        assert img.GetSize() == shape and img.GetNumberOfComponentsPerPixel() == len(out[name]["layers"])
        assert np.allclose(img.GetSpacing(), spacing) and np.allclose(img.GetOrigin(), origin)
        assert np.allclose(np.array(img.GetDirection()).reshape(3, 3), np.eye(3))
        out[name]["spacing"] = spacing.tolist()
        out[name]["origin"] = (LPS_TO_RAS @ origin).tolist()
        out[name]["direction"] = LPS_TO_RAS.tolist()
    return out


def sha256(name):
    with open(path(name), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def summary(data_xyz, spacing, origin_ras, direction_ras, name):
    values, counts = np.unique(data_xyz, return_counts=True)
    shape = list(data_xyz.shape) + [1] * (3 - data_xyz.ndim)
    pick = [(0, 0, 0), tuple(s // 2 for s in shape), tuple(s - 1 for s in shape)]
    d3 = data_xyz.reshape(shape, order="F")
    return {
        "dims": shape,
        "spacing": [float(s) for s in spacing],
        "origin": [float(o) for o in origin_ras],
        "direction": np.asarray(direction_ras, float).tolist(),
        "counts": {str(int(v)): int(c) for v, c in zip(values, counts)},
        "voxels": [[*p, int(d3[p])] for p in pick],
        "sha256": sha256(name),
    }


def third_party():
    out = {}
    # pynrrd's test2d_ascii.nrrd: its test asserts sizes (3, 9), spacings (1.0458, 2), unsigned short,
    # data = arange(1, 28) in Fortran order.
    data, header = nrrd.read(path("test2d_ascii.nrrd"), index_order="F")
    assert list(header["sizes"]) == [3, 9] and header["type"] == "unsigned short"
    assert np.array_equal(data, np.arange(1, 28).reshape((3, 9), order="F"))
    spacing = list(header["spacings"]) + [1.0]
    # No space: ITK's identity direction in LPS, origin 0.
    out["test2d_ascii.nrrd"] = summary(data, spacing, [0.0, 0.0, 0.0], LPS_TO_RAS, "test2d_ascii.nrrd")

    # pynrrd's BallBinary30x30x30 (bzip2; gzip after 3 lines of line skip): its test asserts LPS, identity space
    # directions, origin 0, short, and data equal to BallBinary30x30x30.raw (not copied here).
    for name in ["BallBinary30x30x30_bz2.nrrd", "BallBinary30x30x30_gz_lineskip.nrrd"]:
        data, header = nrrd.read(path(name), index_order="F")
        assert header["space"] == "left-posterior-superior"
        assert np.array_equal(header["space directions"], np.eye(3)) and np.all(header["space origin"] == 0)
        assert data.shape == (30, 30, 30) and data.dtype == np.int16
        out[name] = summary(data, [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], LPS_TO_RAS, name)
    a = out["BallBinary30x30x30_bz2.nrrd"]
    b = out["BallBinary30x30x30_gz_lineskip.nrrd"]
    assert a["counts"] == b["counts"] and a["voxels"] == b["voxels"]

    # ITK's blob0.mha (Modules/Filtering/Cuberille/test/Input): zlib-compressed MET_UCHAR 40^3, read by SimpleITK.
    img = sitk.ReadImage(path("blob0.mha"))
    data = np.moveaxis(sitk.GetArrayFromImage(img), [0, 1, 2], [2, 1, 0])
    direction = LPS_TO_RAS @ np.array(img.GetDirection()).reshape(3, 3)
    origin = LPS_TO_RAS @ np.array(img.GetOrigin())
    out["blob0.mha"] = summary(data, img.GetSpacing(), origin, direction, "blob0.mha")
    return out


def main():
    for name in [
        "test2d_ascii.nrrd",
        "BallBinary30x30x30_bz2.nrrd",
        "BallBinary30x30x30_gz_lineskip.nrrd",
        "blob0.mha",
    ]:
        if not os.path.exists(path(name)):
            sys.exit(f"{name} is missing: copy it from its repository first (see PROVENANCE.md)")
    twins = sitk_fixtures() + pynrrd_fixtures()
    expected = {
        "versions": {
            "SimpleITK": sitk.Version.VersionString(),
            "pynrrd": nrrd.__version__,
            "nibabel": nib.__version__,
            "numpy": np.__version__,
            "python": sys.version.split()[0],
        },
        "twins": twins,
        "slicer": slicer_fixtures(),
        "third_party": third_party(),
    }
    with open(path("expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
