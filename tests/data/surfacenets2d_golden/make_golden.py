"""Writes VTK's vtkSurfaceNets2D output for a few small 2D masks (segauge's own script; numpy + the vtk wheel).

    python make_golden.py            # writes <case>.vtk<version>.json next to this file

Each case: a 0/1 mask [nx, ny] (i = x fastest in VTK memory), its spacing and origin, and VTK's output with
default settings plus SetValue(0, 1): smoothed points (float32, printed with 9 significant digits, which identify
a float32 exactly) and lines, and the same with SmoothingOff().
"""
import json
import os

import numpy as np
import vtk
from vtk.util.numpy_support import numpy_to_vtk, vtk_to_numpy

HERE = os.path.dirname(os.path.abspath(__file__))


def masks():
    x, y = np.meshgrid(np.arange(41), np.arange(33), indexing="ij")
    yield "disk", ((x - 20.3) ** 2 + (y - 15.6) ** 2 < 11.7 ** 2), [1.0, 1.0], [0.0, 0.0]
    x, y = np.meshgrid(np.arange(30), np.arange(50), indexing="ij")
    yield "ellipse_aniso", (((x - 14.2) * 0.5 / 6.0) ** 2 + ((y - 24.9) * 1.5 / 30.0) ** 2 < 1), [0.5, 1.5], [-3.25, 7.5]
    rng = np.random.default_rng(7)
    blob = rng.random((24, 19)) < 0.55
    blob[0, :] = blob[-1, :] = False
    blob[:, 0] = blob[:, -1] = False
    yield "random_blob", blob, [0.3, 0.9], [12.1, -4.7]
    x, y = np.meshgrid(np.arange(10), np.arange(8), indexing="ij")
    # Touching the right and top borders (open contour). VTK reads a copy of column 0 left of the image when
    # classifying y-edges, so a mask touching the left border gets extra stencil edges there: segauge does not
    # reproduce that (its masks are always padded), hence no such case.
    yield "touch_border", (x + y > 9), [1.0, 2.0], [0.0, 0.0]


def run(mask, spacing, origin, smoothing):
    img = vtk.vtkImageData()
    img.SetDimensions(mask.shape[0], mask.shape[1], 1)
    img.SetSpacing(spacing[0], spacing[1], 1.0)
    img.SetOrigin(origin[0], origin[1], 0.0)
    flat = mask.astype(np.uint8).ravel(order="F")  # x fastest
    img.GetPointData().SetScalars(numpy_to_vtk(flat, deep=True, array_type=vtk.VTK_UNSIGNED_CHAR))
    nets = vtk.vtkSurfaceNets2D()
    nets.SetInputData(img)
    nets.SetValue(0, 1)
    if not smoothing:
        nets.SmoothingOff()
    nets.Update()
    out = nets.GetOutput()
    pts = vtk_to_numpy(out.GetPoints().GetData()) if out.GetNumberOfPoints() else np.zeros((0, 3), np.float32)
    assert pts.dtype == np.float32
    lines = vtk_to_numpy(out.GetLines().GetConnectivityArray()).reshape(-1, 2)
    return [[float(f"{v:.9g}") for v in p[:2]] for p in pts], lines.tolist(), sorted(set(float(z) for z in pts[:, 2]))


def main():
    for old in os.listdir(HERE):
        if old.endswith(".json"):
            os.remove(os.path.join(HERE, old))
    version = vtk.vtkVersion.GetVTKVersion()
    for name, mask, spacing, origin in masks():
        smoothed, lines, zs = run(mask, spacing, origin, True)
        raw, raw_lines, _ = run(mask, spacing, origin, False)
        assert raw_lines == lines and zs == [0.0]
        doc = {"vtk_version": version, "case": name, "mask_shape": list(mask.shape),
               "mask_ones": np.argwhere(mask).tolist(), "spacing": spacing, "origin": origin,
               "points_smoothed": smoothed, "points_unsmoothed": raw, "lines": lines}
        with open(os.path.join(HERE, f"{name}.vtk{version}.json"), "w") as f:
            json.dump(doc, f, separators=(",", ":"))
        print(name, len(smoothed), "points", len(lines), "lines")


if __name__ == "__main__":
    main()
