"""Writes the test vectors of medpy 0.5.2's `tests/metric_/binary.py` as fixtures, with cases.json (PROVENANCE.md).

medpy is GPL-3.0: only facts are taken from it (the four small arrays, which function each test calls with which
arguments, and the value or relation it asserts). This script is our own.

    python make_fixtures.py   # needs numpy; writes the .npy/.json files and cases.json beside this script
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from peer_fixtures import size_note, write_json, write_mask  # noqa: E402

TEST = "tests/metric_/binary.py"
EXACT = {"abs": 0.0, "rule": "plain assert with == (exact)"}
RELATION = {"abs": 0.0, "rule": "plain assert with != or == between two calls (exact floating-point comparison)"}

# The test's vectors. The two "min" arrays are 1D in the test; they are stored as 2x1 (axis 0 = the test's axis, a
# second axis of length one with spacing 1), which changes no distance: a single voxel with nothing beside it.
MIN_RESULT = [1, 0]
MIN_REFERENCE = [0, 1]
SYM_RESULT = [[1, 0, 0, 0],
              [1, 0, 0, 0],
              [1, 0, 0, 0],
              [1, 1, 0, 0]]
SYM_REFERENCE = [[1, 1, 0, 0],
                 [1, 0, 0, 0],
                 [1, 0, 0, 0],
                 [0, 0, 0, 0]]


def as_2x1(vector):
    return np.asarray(vector, np.uint8).reshape(-1, 1)


def main():
    files = {
        "min_result": write_mask(HERE, "min_result", as_2x1(MIN_RESULT), (1, 1)),
        "min_reference": write_mask(HERE, "min_reference", as_2x1(MIN_REFERENCE), (1, 1)),
        "min_result_sp2": write_mask(HERE, "min_result_sp2", as_2x1(MIN_RESULT), (2, 1)),
        "min_reference_sp2": write_mask(HERE, "min_reference_sp2", as_2x1(MIN_REFERENCE), (2, 1)),
        "sym_result": write_mask(HERE, "sym_result", np.asarray(SYM_RESULT), (1, 1)),
        "sym_reference": write_mask(HERE, "sym_reference", np.asarray(SYM_REFERENCE), (1, 1)),
    }
    min_note = ("the test's arrays are 1D ([1, 0] and [0, 1]); stored as 2x1 arrays (second axis of length 1, "
                "spacing 1); medpy gives the same value on both forms (verify_with_peer.py)")
    cases = []

    def case(name, line, fn, pred, gt, spacing, voxelspacing, expected=None, relations=None, note=""):
        c = {
            "case": name,
            "source": f"{TEST}:{line} {name}",
            "pred": files[pred],
            "gt": files[gt],
            "spacing": spacing,
            "args": {"function": fn, "result": "pred", "reference": "gt", "voxelspacing": voxelspacing,
                     "connectivity": 1},
        }
        if pred.startswith("min"):
            c["test_shape"] = [2]
        if expected is not None:
            c["expected"] = expected
            c["tolerance"] = EXACT
        if relations is not None:
            c["expected"] = {}
            c["relations"] = relations
            c["tolerance"] = RELATION
        c["note"] = (min_note + ("; " + note if note else "")) if pred.startswith("min") else note
        cases.append(c)

    # Identity: result and reference are the same array.
    case("test_asd_identity", 24, "asd", "min_result", "min_result", [1.0, 1.0], None, {"asd": 0.0})
    case("test_assd_identity", 28, "assd", "min_result", "min_result", [1.0, 1.0], None, {"assd": 0.0})
    case("test_obj_asd_identity", 32, "obj_asd", "min_result", "min_result", [1.0, 1.0], None, {"obj_asd": 0.0})
    case("test_obj_assd_identity", 36, "obj_assd", "min_result", "min_result", [1.0, 1.0], None,
         {"obj_assd": 0.0})
    # Two single voxels one voxel apart.
    case("test_asd_distance", 40, "asd", "min_result", "min_reference", [1.0, 1.0], None, {"asd": 1.0})
    case("test_assd_distance", 44, "assd", "min_result", "min_reference", [1.0, 1.0], None, {"assd": 1.0})
    case("test_asd_voxelspacing", 48, "asd", "min_result_sp2", "min_reference_sp2", [2.0, 1.0], [2],
         {"asd": 2.0}, note="voxelspacing=[2] for the test's 1D arrays; [2, 1] for the stored 2x1 arrays")
    case("test_assd_voxelspacing", 52, "assd", "min_result_sp2", "min_reference_sp2", [2.0, 1.0], [2],
         {"assd": 2.0}, note="voxelspacing=[2] for the test's 1D arrays; [2, 1] for the stored 2x1 arrays")
    # Symmetry: the same two 4x4 masks in both argument orders; the test asserts only a relation.
    sym_note = ("the test calls the function twice, f(result_sym, reference_sym) and f(reference_sym, result_sym), "
                "and asserts only the relation; medpy 0.5.2's own values are in peer_output.json")
    case("test_asd_is_not_symetric", 56, "asd", "sym_result", "sym_reference", [1.0, 1.0], None,
         relations=[{"kind": "not_equal", "lhs": "asd(result=pred, reference=gt)",
                     "rhs": "asd(result=gt, reference=pred)"}], note=sym_note)
    case("test_assd_is_symetric", 62, "assd", "sym_result", "sym_reference", [1.0, 1.0], None,
         relations=[{"kind": "equal", "lhs": "assd(result=pred, reference=gt)",
                     "rhs": "assd(result=gt, reference=pred)"}], note=sym_note)
    case("test_obj_asd_is_not_symetric", 68, "obj_asd", "sym_result", "sym_reference", [1.0, 1.0], None,
         relations=[{"kind": "not_equal", "lhs": "obj_asd(result=pred, reference=gt)",
                     "rhs": "obj_asd(result=gt, reference=pred)"}], note=sym_note)
    case("test_obj_assd_is_symetric", 74, "obj_assd", "sym_result", "sym_reference", [1.0, 1.0], None,
         relations=[{"kind": "equal", "lhs": "obj_assd(result=pred, reference=gt)",
                     "rhs": "obj_assd(result=gt, reference=pred)"}], note=sym_note)

    write_json(os.path.join(HERE, "cases.json"), {
        "peer": "medpy 0.5.2",
        "repository": "https://github.com/loli/medpy",
        "commit": "3fbdf6c9608ebba9734e7a32a4d0642f022f0815",
        "tag": "0.5.2",
        "test_file": TEST,
        "arrays": "masks indexed as the test indexes them (axis 0 = x, axis 1 = y); medpy's `result` is the "
                  "prediction and `reference` the ground truth",
        "cases": cases,
    })
    print(f"{len(cases)} cases, {size_note(HERE)} bytes of .npy")


if __name__ == "__main__":
    main()
