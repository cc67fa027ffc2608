"""Runs MeshMetrics on the notebook's masks and compares with the values examples.ipynb printed. Not needed by
segauge's tests; it backs PROVENANCE.md.

    python verify_with_peer.py /path/to/MeshMetrics-checkout [--append-path DIR] [--write]

The checkout's `MeshMetrics/` package is imported (put the checkout of the release you want to test first on the
path); its `data/` folder supplies the NIfTI files for the SimpleITK-input cases, as the notebook reads them. Needs
numpy, SimpleITK, SimpleITKUtilities and vtk; --append-path adds a directory at the END of sys.path (e.g. another
venv's site-packages supplying SimpleITK while this interpreter's own vtk is used). With --write the values go to
peer_output.json.
"""
import json
import math
import os
import sys
from importlib.metadata import version

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = sys.argv[1]
sys.path.insert(0, CHECKOUT)
if "--append-path" in sys.argv:
    sys.path.append(sys.argv[sys.argv.index("--append-path") + 1])
sys.path.insert(1, os.path.dirname(HERE))
import SimpleITK as sitk  # noqa: E402
import vtk  # noqa: E402

from MeshMetrics import DistanceMetrics  # noqa: E402
from MeshMetrics.utils import sitk2np  # noqa: E402
from peer_fixtures import write_json  # noqa: E402


def run(dm):
    return {"HD_100": dm.hd(), "HD_95": dm.hd(percentile=95), "MASD": dm.masd(), "ASSD": dm.assd(),
            "NSD_2.0": dm.nsd(tau=2.0), "BIoU_2.0": dm.biou(tau=2.0)}


def main():
    doc = json.load(open(os.path.join(HERE, "cases.json")))
    print("MeshMetrics from", CHECKOUT, "| vtk", vtk.vtkVersion.GetVTKVersion(), "| SimpleITK", sitk.Version_VersionString(),
          "| numpy", np.__version__)
    outputs = {}
    for case in doc["cases"]:
        dim = case["case"][:2]
        ref_img = sitk.ReadImage(os.path.join(CHECKOUT, "data", f"example_{dim}_ref_mask.nii.gz"))
        pred_img = sitk.ReadImage(os.path.join(CHECKOUT, "data", f"example_{dim}_pred_mask.nii.gz"))
        gt, pred = np.load(os.path.join(HERE, case["gt"])) > 0, np.load(os.path.join(HERE, case["pred"])) > 0
        same_masks = np.array_equal(sitk2np(ref_img) > 0, gt) and np.array_equal(sitk2np(pred_img) > 0, pred)
        dm = DistanceMetrics()
        if case["case"].endswith("sitk"):
            dm.set_input(ref=ref_img, pred=pred_img)
        else:
            dm.set_input(ref=gt, pred=pred, spacing=tuple(case["spacing"]))
        got = {k: float(v) for k, v in run(dm).items()}
        rel = {k: (abs(got[k] - e) / abs(e) if e else abs(got[k] - e)) for k, e in case["expected"].items()}
        worst = max(rel.values())
        outputs[case["case"]] = got
        print(f"{case['case']}: masks equal the notebook's: {same_masks}; largest difference from the notebook "
              f"{worst:.3g} ({'relative' if worst else 'exact'})")
        for k, e in case["expected"].items():
            print(f"   {k}: notebook {e!r}, now {got[k]!r}")
    if "--write" in sys.argv:
        write_json(os.path.join(HERE, "peer_output.json"), {
            "peer": f"MeshMetrics from a checkout (see PROVENANCE.md), vtk {vtk.vtkVersion.GetVTKVersion()}, "
                    f"SimpleITK {sitk.Version_VersionString()}, numpy {np.__version__}",
            "note": "values computed by running MeshMetrics on the notebook's masks (verify_with_peer.py); the "
                    "notebook's own printed values are the expected values in cases.json",
            "cases": outputs,
        })


if __name__ == "__main__":
    main()
