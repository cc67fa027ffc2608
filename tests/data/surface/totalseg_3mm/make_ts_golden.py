# Golden cases for segauge-metrics' smooth-vtk surface, from TotalSegmentator 2.18.0's test reference outputs.
# For each label: crop both files to the label's union box grown by 2 voxels (clipped to the image), write the
# crops as NIfTI (original header, translated sform), then compute the metrics as MeshMetrics would on VTK's
# smoothed SurfaceNets meshes: SimpleITK reads each crop, (img == label), ConstantPad by 1, sitk2vtk(mask > 0),
# vtkSurfaceNets3D with SetValue(0, 1) and every other setting at its default (smoothing on). (MeshMetrics itself
# calls no SetValue: VTK 9.7.2 then extracts label 0, the complement, whose non-manifold cells resolve differently;
# those values are recorded too, as `meshmetrics_call_label0`.)
# Distances from triangle centres to the other mesh, area weights:
# (a) exact point-to-triangle distances in float64 (numpy brute force), centre (a+b+c)/3, area |(b-a)x(c-a)|/2,
#     from VTK's float32 points;
# (b) MeshMetrics' own calls: vtkDistancePolyDataFilter (cell centre distance) and vtkCell.ComputeArea.
import sys, json, os, hashlib
import numpy as np, nibabel as nib, SimpleITK as sitk, vtk
from vtk.util import numpy_support as ns
from SimpleITK.utilities.vtk import sitk2vtk

# usage: make_ts_golden.py OUT_DIR SDIST_TAR_GZ SDIST_REFERENCE_FILES_DIR
OUT, TAR, SRC = sys.argv[1], sys.argv[2], sys.argv[3].rstrip('/') + '/'
CASES = [(32, 'vertebrae_T12'), (98, 'rib_left_7'), (113, 'rib_right_10')]
MARGIN = 2
GT, PRED = 'example_seg.nii.gz', 'example_seg_fast.nii.gz'

def sha(p): return hashlib.sha256(open(p, 'rb').read()).hexdigest()

def mesh_of(img, label, value=1):
    m = sitk.Cast(img == label, sitk.sitkUInt8)
    m = sitk.ConstantPad(m, (1, 1, 1), (1, 1, 1), 0)
    v = sitk2vtk(m > 0)
    sn = vtk.vtkSurfaceNets3D(); sn.SetInputData(v)
    if value is not None: sn.SetValue(0, value)
    sn.Update()
    pd = vtk.vtkPolyData(); pd.DeepCopy(sn.GetOutput())
    return pd

def arrays(pd):
    P = ns.vtk_to_numpy(pd.GetPoints().GetData()).copy()
    off = ns.vtk_to_numpy(pd.GetPolys().GetOffsetsArray()); con = ns.vtk_to_numpy(pd.GetPolys().GetConnectivityArray())
    assert np.all(np.diff(off) == 3)
    return P, con.reshape(-1, 3).astype(np.int64)

def closest_dist(p, A, B, C):
    # Exact distance from points p (n,3) to triangles (m,3 each), min over triangles (Ericson, RTCD 5.1.5).
    out = np.empty(len(p))
    ab, ac = B - A, C - A
    for s in range(0, len(p), 256):
        q = p[s:s + 256, None, :]
        ap = q - A; d1 = (ab * ap).sum(-1); d2 = (ac * ap).sum(-1)
        bp = q - B; d3 = (ab * bp).sum(-1); d4 = (ac * bp).sum(-1)
        cp = q - C; d5 = (ab * cp).sum(-1); d6 = (ac * cp).sum(-1)
        va = d3 * d6 - d5 * d4; vb = d5 * d2 - d1 * d6; vc = d1 * d4 - d3 * d2
        with np.errstate(divide='ignore', invalid='ignore'):
            denom = va + vb + vc
            v = vb / denom; w = vc / denom
            res = A + ab * v[..., None] + ac * w[..., None]                      # interior
            t = d1 / (d1 - d3); r = np.where((vc <= 0) & (d1 >= 0) & (d3 <= 0), 1, 0)
            res = np.where(r[..., None] == 1, A + ab * t[..., None], res)         # edge AB
            t = d2 / (d2 - d6); r = (vb <= 0) & (d2 >= 0) & (d6 <= 0)
            res = np.where(r[..., None], A + ac * t[..., None], res)             # edge AC
            t = (d4 - d3) / ((d4 - d3) + (d5 - d6)); r = (va <= 0) & ((d4 - d3) >= 0) & ((d5 - d6) >= 0)
            res = np.where(r[..., None], B + (C - B) * t[..., None], res)        # edge BC
        res = np.where(((d6 >= 0) & (d5 <= d6))[..., None], C, res)
        res = np.where(((d3 >= 0) & (d4 <= d3))[..., None], B, res)
        res = np.where(((d1 <= 0) & (d2 <= 0))[..., None], A, res)
        out[s:s + 256] = np.sqrt(((q - res) ** 2).sum(-1)).min(1)
    return out

def exact_samples(pa, pb):
    # centres and areas of mesh a, distances to mesh b
    P, T = arrays(pa); Q, U = arrays(pb)
    P = P.astype(np.float64); Q = Q.astype(np.float64)
    a, b, c = P[T[:, 0]], P[T[:, 1]], P[T[:, 2]]
    centre = (a + b + c) / 3.0
    area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    d = closest_dist(centre, Q[U[:, 0]], Q[U[:, 1]], Q[U[:, 2]])
    return d, area

def vtk_samples(ref, pred):
    f = vtk.vtkDistancePolyDataFilter(); f.SetInputData(0, ref); f.SetInputData(1, pred)
    f.SignedDistanceOn(); f.ComputeCellCenterDistanceOn(); f.ComputeSecondDistanceOn(); f.Update()
    d1 = np.abs(ns.vtk_to_numpy(f.GetOutput().GetCellData().GetArray('Distance')))
    d2 = np.abs(ns.vtk_to_numpy(f.GetSecondDistanceOutput().GetCellData().GetArray('Distance')))
    area = lambda m: np.array([m.GetCell(i).ComputeArea() for i in range(m.GetNumberOfCells())])
    return (d1, area(ref)), (d2, area(pred))

def metrics(g2p, p2g, tau=2.0, perc=95.0):
    # MeshMetrics 0.2.1's formulas (perc_surface_dist, assd, masd, nsd), on |d| sorted by |d| (stable).
    def srt(d, w):
        o = np.argsort(d, kind='stable'); return d[o], w[o]
    def pct(d, w, p):
        c = np.cumsum(w) / np.sum(w); i = min(np.searchsorted(c, p / 100.0), len(d) - 1); return d[i]
    (dg, wg), (dp, wp) = srt(*g2p), srt(*p2g)
    return dict(
        hd=float(max(dg.max(), dp.max())),
        hd95=float(max(pct(dg, wg, perc), pct(dp, wp, perc))),
        assd=float((np.dot(dg, wg) + np.dot(dp, wp)) / (wg.sum() + wp.sum())),
        masd=float((np.dot(dg, wg) / wg.sum() + np.dot(dp, wp) / wp.sum()) / 2),
        nsd=float((wg[dg <= tau].sum() + wp[dp <= tau].sum()) / (wg.sum() + wp.sum())),
        min_gap_to_tau=float(min(np.abs(dg - tau).min(), np.abs(dp - tau).min())),
    )

full = {k: nib.load(SRC + f) for k, f in (('gt', GT), ('pred', PRED))}
data = {k: np.asarray(v.dataobj) for k, v in full.items()}
assert full['gt'].affine.tolist() == full['pred'].affine.tolist()
aff = full['gt'].affine
for label, name in CASES:
    idx = np.concatenate([np.argwhere(data[k] == label) for k in data])
    lo = np.maximum(idx.min(0) - MARGIN, 0); hi = np.minimum(idx.max(0) + MARGIN, np.array(data['gt'].shape) - 1)
    d = os.path.join(OUT, name); os.makedirs(d, exist_ok=True)
    caff = aff.copy(); caff[:3, 3] = aff[:3, 3] + aff[:3, :3] @ lo
    assert np.all(caff.astype(np.float32) == caff), 'crop sform not exact in float32'
    meshes, full_meshes = {}, {}
    for role in ('gt', 'pred'):
        crop = np.ascontiguousarray(data[role][lo[0]:hi[0] + 1, lo[1]:hi[1] + 1, lo[2]:hi[2] + 1])
        hdr = full[role].header.copy()
        im = nib.Nifti1Image(crop, caff, header=hdr); im.set_sform(caff, code=int(hdr['sform_code']))
        im.set_qform(None, code=0)
        p = os.path.join(d, f'{role}.nii.gz'); nib.save(im, p)
        meshes[role] = mesh_of(sitk.ReadImage(p), label)
        full_meshes[role] = mesh_of(sitk.ReadImage(SRC + (GT if role == 'gt' else PRED)), label)
        P1, T1 = arrays(meshes[role]); P2, T2 = arrays(full_meshes[role])
        same_as_full = bool(np.array_equal(P1, P2) and np.array_equal(T1, T2))
        assert same_as_full, f'{name} {role}: crop mesh differs from whole-image mesh'
    ex = metrics(exact_samples(meshes['gt'], meshes['pred']), exact_samples(meshes['pred'], meshes['gt']))
    vg, vp = vtk_samples(meshes['gt'], meshes['pred'])
    vt = metrics(vg, vp)
    l0 = {r: mesh_of(sitk.ReadImage(os.path.join(d, f'{r}.nii.gz')), label, None) for r in ('gt', 'pred')}
    m0 = metrics(*vtk_samples(l0['gt'], l0['pred']))
    rel = {k: abs(ex[k] - vt[k]) / abs(ex[k]) for k in ('hd', 'hd95', 'assd', 'masd', 'nsd')}
    sitk_img = sitk.ReadImage(os.path.join(d, 'gt.nii.gz'))
    out = dict(
        label=label, name=name,
        source=dict(archive='totalsegmentator-2.18.0.tar.gz', archive_sha256=sha(TAR),
                    gt='tests/reference_files/' + GT, gt_sha256=sha(SRC + GT),
                    pred='tests/reference_files/' + PRED, pred_sha256=sha(SRC + PRED)),
        crop=dict(lo=lo.tolist(), hi_inclusive=hi.tolist(), source_shape=list(data['gt'].shape),
                  note='voxel index box (i, j, k) of the source image, union box of the label in both files grown by 2 voxels and clipped to the image'),
        geometry=dict(shape=list(map(int, hi - lo + 1)), sform_ras=caff.tolist(),
                      sitk_origin_lps=list(sitk_img.GetOrigin()), sitk_direction_lps=list(sitk_img.GetDirection()),
                      spacing=list(sitk_img.GetSpacing())),
        meshes=dict(gt=dict(points=meshes['gt'].GetNumberOfPoints(), triangles=meshes['gt'].GetNumberOfCells()),
                    pred=dict(points=meshes['pred'].GetNumberOfPoints(), triangles=meshes['pred'].GetNumberOfCells()),
                    equal_to_whole_image_meshes=True),
        tau=2.0, percentile=95.0,
        expected_exact=ex, expected_vtk_distance_filter=vt, relative_difference_exact_vs_vtk_filter=rel,
        meshmetrics_call_label0=dict(note='not a target: MeshMetrics 0.2.1 vtk_3D_meshing with smoothing on, i.e. no SetValue (VTK 9.7.2 then extracts label 0); vtkDistancePolyDataFilter distances', **m0),
        versions=dict(vtk=vtk.vtkVersion.GetVTKVersion(), simpleitk=sitk.Version.VersionString(),
                      numpy=np.__version__, nibabel=nib.__version__),
    )
    json.dump(out, open(os.path.join(d, 'expected.json'), 'w'), indent=1)
    print(name, 'crop', lo, hi, 'tris', out['meshes'], '\n exact', ex, '\n vtk  ', vt, '\n rel', rel, '\n label0', m0)
