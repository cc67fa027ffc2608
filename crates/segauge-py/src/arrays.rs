//! numpy arrays in and out: label volumes indexed `[x, y, z]` (or `[z, y, x]` with `axes="zyx"`), geometry in
//! x, y, z order whatever the axes, batches for training loops, and files loaded as arrays.
//!
//! An array is read in place (no copy in Python) and copied once, with the GIL held, into segauge's layout (x
//! fastest, the narrowest unsigned type); the computation then runs without the GIL. Integer and boolean dtypes
//! are accepted; a float array must hold integer values (as the file readers require).

use std::path::PathBuf;

use ndarray::{Array3, Axis, ShapeBuilder};
use numpy::{IntoPyArray, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use segauge::eval::LabelRef;

use segauge::io::{Grid, LabelVolume, Labels};

use crate::{eval_error, io_error, options, raise};

/// The array as a view of labels (u32), whatever its dtype; `None` when the dtype is not numeric.
fn labels_dyn(py: Python<'_>, array: &Bound<'_, PyAny>) -> PyResult<ndarray::ArrayD<u32>> {
    macro_rules! try_int {
        ($($t:ty),*) => {$(
            if let Ok(a) = array.extract::<PyReadonlyArrayDyn<'_, $t>>() {
                let view = a.as_array();
                let mut bad = None;
                let out = view.map(|&v| {
                    u32::try_from(v).unwrap_or_else(|_| {
                        bad.get_or_insert(v.to_string());
                        0
                    })
                });
                return match bad {
                    None => Ok(out),
                    Some(v) => Err(raise(py, "OptionError", format!(
                        "invalid array: value {v} is not a label (an integer from 0 to {})", u32::MAX))),
                };
            }
        )*};
    }
    if let Ok(a) = array.extract::<PyReadonlyArrayDyn<'_, bool>>() {
        return Ok(a.as_array().map(|&v| u32::from(v)));
    }
    try_int!(u8, u16, u32, u64, i8, i16, i32, i64);
    macro_rules! try_float {
        ($($t:ty),*) => {$(
            if let Ok(a) = array.extract::<PyReadonlyArrayDyn<'_, $t>>() {
                let view = a.as_array();
                let mut bad = None;
                let out = view.map(|&v| {
                    let x = f64::from(v);
                    if x.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&x) {
                        x as u32
                    } else {
                        bad.get_or_insert(x);
                        0
                    }
                });
                return match bad {
                    None => Ok(out),
                    Some(v) => Err(raise(py, "OptionError", format!(
                        "invalid array: value {v} is not a label (labels are integers ≥ 0; threshold \
                         probabilities first)"))),
                };
            }
        )*};
    }
    try_float!(f32, f64);
    let dtype = array.getattr("dtype").map_or_else(|_| "unknown".to_string(), |d| d.to_string());
    Err(raise(
        py,
        "OptionError",
        format!("invalid array: dtype {dtype}; labels must be integers or booleans"),
    ))
}

/// The geometry of an array: spacing (x, y, z order, or x, y for 2D), origin and direction, from a dict with
/// `spacing`, `origin`, `direction`, `affine` (4×4) and `axes` (`"xyz"` or `"zyx"`).
struct Geometry {
    spacing: Option<Vec<f64>>,
    origin: Option<[f64; 3]>,
    direction: Option<[[f64; 3]; 3]>,
    zyx: bool,
}

fn geometry(py: Python<'_>, g: &Bound<'_, PyDict>) -> PyResult<Geometry> {
    let bad = |what: &str, e: PyErr| raise(py, "OptionError", format!("invalid option: {what}: {e}"));
    let item = |k: &str| g.get_item(k).ok().flatten().filter(|v| !v.is_none());
    let mut out = Geometry { spacing: None, origin: None, direction: None, zyx: false };
    if let Some(a) = item("axes") {
        out.zyx = match a.extract::<String>().map_err(|e| bad("axes", e))?.as_str() {
            "xyz" => false,
            "zyx" => true,
            other => {
                return Err(raise(
                    py,
                    "OptionError",
                    format!("invalid option: axes: {other:?} is not xyz or zyx"),
                ));
            }
        };
    }
    if let Some(a) = item("affine") {
        let m: Vec<Vec<f64>> =
            a.call_method0("tolist").and_then(|l| l.extract()).map_err(|e| bad("affine", e))?;
        if m.len() < 3 || m.iter().take(3).any(|r| r.len() != 4) {
            return Err(raise(py, "OptionError", "invalid option: affine: expected a 4×4 matrix".into()));
        }
        let mut spacing = vec![0.0; 3];
        let mut dir = [[0.0; 3]; 3];
        for c in 0..3 {
            spacing[c] = (0..3).map(|r| m[r][c] * m[r][c]).sum::<f64>().sqrt();
            for r in 0..3 {
                dir[r][c] = if spacing[c] > 0.0 { m[r][c] / spacing[c] } else { 0.0 };
            }
        }
        out.spacing = Some(spacing);
        out.origin = Some([m[0][3], m[1][3], m[2][3]]);
        out.direction = Some(dir);
    }
    if let Some(s) = item("spacing") {
        out.spacing = Some(s.extract().map_err(|e| bad("spacing", e))?);
    }
    if let Some(o) = item("origin") {
        out.origin = Some(o.extract().map_err(|e| bad("origin", e))?);
    }
    if let Some(d) = item("direction") {
        let rows: Vec<Vec<f64>> = d
            .call_method0("tolist")
            .or_else(|_| Ok::<_, PyErr>(d.clone()))
            .and_then(|l| l.extract())
            .map_err(|e| bad("direction", e))?;
        let flat: Vec<f64> = rows.concat();
        let m = <[f64; 9]>::try_from(flat.as_slice()).map_err(|_| {
            raise(py, "OptionError", "invalid option: direction: expected 3×3 numbers".into())
        })?;
        out.direction = Some([[m[0], m[1], m[2]], [m[3], m[4], m[5]], [m[6], m[7], m[8]]]);
    }
    Ok(out)
}

/// A label volume from an array and its geometry; `need_spacing` refuses a missing spacing (distances need it).
fn volume(
    py: Python<'_>,
    array: &Bound<'_, PyAny>,
    geo: &Geometry,
    need_spacing: bool,
) -> PyResult<LabelVolume> {
    macro_rules! try_dtype {
        ($($t:ty),*) => {$(
            if let Ok(a) = array.extract::<PyReadonlyArrayDyn<'_, $t>>() {
                return volume_of(py, a.as_array(), geo, need_spacing);
            }
        )*};
    }
    try_dtype!(bool, u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);
    let dtype = array.getattr("dtype").map_or_else(|_| "unknown".to_string(), |d| d.to_string());
    Err(raise(
        py,
        "OptionError",
        format!("invalid array: dtype {dtype}; labels must be integers or booleans"),
    ))
}

/// A value of a numpy array that may be a label.
trait Label: Copy + Send + Sync {
    /// Every value of the type is a label that fits in a `u8` (booleans, `u8`): no checking pass is needed.
    const U8: bool = false;
    /// The label, or `None` when the value is not one.
    fn label(self) -> Option<u32>;
    /// The message of a value that is not a label.
    fn refusal(self) -> String;
}

macro_rules! integer_label {
    ($($t:ty),*) => {$(
        impl Label for $t {
            #[inline]
            fn label(self) -> Option<u32> {
                u32::try_from(self).ok()
            }
            fn refusal(self) -> String {
                format!("invalid array: value {self} is not a label (an integer from 0 to {})", u32::MAX)
            }
        }
    )*};
}
integer_label!(u16, u32, u64, i8, i16, i32, i64);

impl Label for u8 {
    const U8: bool = true;
    #[inline]
    fn label(self) -> Option<u32> {
        Some(u32::from(self))
    }
    fn refusal(self) -> String {
        String::new() // every u8 is a label
    }
}

impl Label for bool {
    const U8: bool = true;
    #[inline]
    fn label(self) -> Option<u32> {
        Some(u32::from(self))
    }
    fn refusal(self) -> String {
        String::new() // every boolean is a label
    }
}

macro_rules! float_label {
    ($($t:ty),*) => {$(
        impl Label for $t {
            #[inline]
            fn label(self) -> Option<u32> {
                let x = f64::from(self);
                (x.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&x)).then_some(x as u32)
            }
            fn refusal(self) -> String {
                format!(
                    "invalid array: value {} is not a label (labels are integers ≥ 0; threshold probabilities first)",
                    f64::from(self)
                )
            }
        }
    )*};
}
float_label!(f32, f64);

/// Arrays from this many voxels on are copied by all threads (the copy is bound by page faults on the new buffer).
const PARALLEL_COPY: usize = 1 << 20;

/// `f` applied to every value of an `[x, y, z]` view in segauge's order (x fastest), straight from memory when the
/// view is x-fastest contiguous (a Fortran-ordered `[x, y, z]` array, a C-ordered `[z, y, x]` one).
fn map_xyz<T: Copy + Sync, U: Copy + Default + Send + Sync>(
    xyz: &ndarray::ArrayView3<'_, T>,
    f: impl Fn(T) -> U + Sync + Send,
) -> Vec<U> {
    use rayon::prelude::*;
    let zyx = xyz.view().permuted_axes([2, 1, 0]);
    let n = zyx.len();
    match zyx.as_slice() {
        Some(values) if n >= PARALLEL_COPY => values.par_iter().map(|&v| f(v)).collect(),
        Some(values) => values.iter().map(|&v| f(v)).collect(),
        None if n >= PARALLEL_COPY => {
            // Strided (a C-ordered [x, y, z] array, say): one slice of z per task, y then x.
            let (nx, ny, _) = xyz.dim();
            let mut out = vec![U::default(); n];
            out.par_chunks_mut(nx * ny).enumerate().for_each(|(k, slab)| {
                let plane = xyz.index_axis(Axis(2), k); // [x, y]
                for (o, &v) in slab.iter_mut().zip(plane.t().iter()) {
                    *o = f(v);
                }
            });
            out
        }
        None => zyx.iter().map(|&v| f(v)).collect(),
    }
}

/// The labels of an `[x, y, z]` view, x fastest, in the narrowest type that holds them (as
/// [`Labels::from_u32`]), with one pass to check the values and one to copy them (only the copy for booleans and
/// `u8`); the first value that is not a label otherwise.
fn labels_xyz<T: Label>(xyz: &ndarray::ArrayView3<'_, T>) -> Result<Labels, T> {
    if T::U8 {
        return Ok(Labels::U8(map_xyz(xyz, |v| v.label().unwrap_or(0) as u8)));
    }
    let zyx = xyz.view().permuted_axes([2, 1, 0]);
    let mut max = 0u32;
    let mut bad = None;
    let mut check = |v: T| match v.label() {
        Some(l) => max = max.max(l),
        None => {
            bad.get_or_insert(v);
        }
    };
    match zyx.as_slice() {
        Some(values) => values.iter().copied().for_each(&mut check),
        None => zyx.iter().copied().for_each(&mut check),
    }
    if let Some(v) = bad {
        return Err(v);
    }
    // Every value is a label no larger than `max`, so the narrowing casts below are exact.
    let label = |v: T| v.label().unwrap_or(0);
    Ok(if max <= u32::from(u8::MAX) {
        Labels::U8(map_xyz(xyz, |v| label(v) as u8))
    } else if max <= u32::from(u16::MAX) {
        Labels::U16(map_xyz(xyz, |v| label(v) as u16))
    } else {
        Labels::U32(map_xyz(xyz, label))
    })
}

/// [`volume`] of an array of one dtype: its values copied once, in segauge's order and narrowest type.
fn volume_of<T: Label>(
    py: Python<'_>,
    labels: ndarray::ArrayViewD<'_, T>,
    geo: &Geometry,
    need_spacing: bool,
) -> PyResult<LabelVolume> {
    let ndim = labels.ndim();
    if !(2..=3).contains(&ndim) {
        return Err(raise(
            py,
            "OptionError",
            format!(
                "invalid array: {ndim} dimensions; a label map is 2D or 3D (use batch_metrics for batches)"
            ),
        ));
    }
    // To [x, y, z]: `zyx` reverses the axes; a 2D array gets z = 1.
    let mut view = labels;
    if geo.zyx {
        view = view.reversed_axes();
    }
    let xyz = if ndim == 2 { view.insert_axis(Axis(2)) } else { view };
    let xyz =
        xyz.into_dimensionality::<ndarray::Ix3>().map_err(|e| raise(py, "OptionError", e.to_string()))?;
    let (nx, ny, nz) = xyz.dim();
    let spacing: [f64; 3] = match (&geo.spacing, ndim) {
        (Some(s), 3) if s.len() == 3 => [s[0], s[1], s[2]],
        (Some(s), 2) if s.len() == 2 => [s[0], s[1], 1.0],
        (Some(s), _) => {
            return Err(raise(
                py,
                "OptionError",
                format!(
                    "invalid option: spacing has {} numbers for a {ndim}D array; give one per axis, in x, y(, z) \
                     order whatever `axes` says",
                    s.len()
                ),
            ));
        }
        (None, _) if need_spacing => {
            return Err(raise(
                py,
                "OptionError",
                "invalid option: spacing is required for surface distances: spacing=(sx, sy, sz) in mm, x, y, z \
                 order (as image.GetSpacing() and the NIfTI header give it), or affine=..."
                    .into(),
            ));
        }
        (None, _) => [1.0; 3],
    };
    let io = |e: segauge::io::Error| io_error(py, &e);
    let mut grid = Grid::new([nx, ny, nz], spacing).map_err(io)?;
    if let Some(o) = geo.origin {
        grid = grid.with_origin(o).map_err(io)?;
    }
    if let Some(d) = geo.direction {
        grid = grid.with_direction(d).map_err(io)?;
    }
    let labels = labels_xyz(&xyz).map_err(|v| raise(py, "OptionError", v.refusal()))?;
    LabelVolume::new(grid, labels).map_err(io)
}

/// Two volumes on one geometry.
pub(crate) fn pair(
    py: Python<'_>,
    pred: &Bound<'_, PyAny>,
    gt: &Bound<'_, PyAny>,
    geometry_dict: &Bound<'_, PyDict>,
) -> PyResult<(LabelVolume, LabelVolume)> {
    let geo = geometry(py, geometry_dict)?;
    let need =
        geometry_dict.get_item("need_spacing").ok().flatten().is_some_and(|v| v.is_truthy().unwrap_or(true));
    Ok((volume(py, pred, &geo, need)?, volume(py, gt, &geo, need)?))
}

/// A case of the pipeline from a dict (`id`, `pred`, `gt` paths or arrays, `metadata`, geometry of arrays).
pub(crate) fn case(py: Python<'_>, d: &Bound<'_, PyDict>) -> PyResult<segauge::Case> {
    let item = |k: &str| d.get_item(k).ok().flatten().filter(|v| !v.is_none());
    let id: String =
        item("id").ok_or_else(|| raise(py, "OptionError", "a case without id".into()))?.extract()?;
    let metadata = match item("metadata") {
        Some(m) => m.extract()?,
        None => Default::default(),
    };
    let (p, g) = (item("pred"), item("gt"));
    let is_array = |v: &Option<Bound<'_, PyAny>>| {
        v.as_ref().is_some_and(|v| {
            v.hasattr("__array_interface__").unwrap_or(false) || v.hasattr("shape").unwrap_or(false)
        })
    };
    if is_array(&p) || is_array(&g) {
        let (Some(p), Some(g)) = (p, g) else {
            return Err(raise(py, "OptionError", format!("case {id}: an array case needs both pred and gt")));
        };
        let geo = geometry(py, d)?;
        let p = volume(py, &p, &geo, true).map_err(|e| with_case(py, &id, e))?;
        let g = volume(py, &g, &geo, true).map_err(|e| with_case(py, &id, e))?;
        let mut c = segauge::Case::in_memory(id, p, g);
        c.metadata = metadata;
        return Ok(c);
    }
    let path = |v: Option<Bound<'_, PyAny>>| -> PyResult<Option<PathBuf>> {
        v.map(|v| v.extract::<PathBuf>()).transpose()
    };
    Ok(segauge::Case { id, pred: path(p)?, gt: path(g)?, metadata, volumes: None })
}

/// The same error with the case named first.
fn with_case(py: Python<'_>, id: &str, e: PyErr) -> PyErr {
    let message = e.value(py).str().map_or_else(|_| String::new(), |s| s.to_string());
    let class = e.get_type(py).name().map_or_else(|_| "SegaugeError".to_string(), |n| n.to_string());
    raise(py, &class, format!("case {id}: {message}"))
}

/// The metrics `batch_metrics` returns, by key, for these options.
fn batch_keys(options: &segauge::EvalOptions) -> Vec<(String, segauge::Metric)> {
    use segauge::Metric::*;
    let c = segauge::Catalogue::new(options);
    [Dice, Iou, Hd, HdPercentile, Assd, Masd, Nsd, Biou]
        .into_iter()
        .filter(|m| c.metrics().contains(m))
        .map(|m| (c.key(m).into_owned(), m))
        .collect()
}

/// Metrics of a batch: `[B, X, Y, Z]` label arrays (`one_hot=False`) or `[B, C, X, Y, Z]` one-hot arrays; returns
/// one `[B, C]` float array per metric (NaN where undefined) and the labels or channels of the columns.
#[pyfunction]
#[pyo3(signature = (pred, gt, geometry, one_hot, include_background, labels = None, **kwargs))]
#[allow(clippy::too_many_arguments, reason = "the Python signature, one argument each")]
pub(crate) fn batch_metrics<'py>(
    py: Python<'py>,
    pred: &Bound<'py, PyAny>,
    gt: &Bound<'py, PyAny>,
    geometry: &Bound<'py, PyDict>,
    one_hot: bool,
    include_background: bool,
    labels: Option<Vec<u32>>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<(Bound<'py, PyDict>, Vec<u32>)> {
    let mut parsed = options::parse(py, kwargs)?;
    parsed.options.eval.lesions = None;
    let eval = parsed.options.eval;
    let geo = crate::arrays::geometry(py, geometry)?;
    let need = eval.surface.is_some();
    let (p, g) = (labels_dyn(py, pred)?, labels_dyn(py, gt)?);
    if p.shape() != g.shape() {
        return Err(raise(py, "GridMismatch", format!("pred has shape {:?}, gt {:?}", p.shape(), g.shape())));
    }
    let want = if one_hot { 5 } else { 4 };
    if p.ndim() != want && p.ndim() != want - 1 {
        return Err(raise(
            py,
            "OptionError",
            format!(
                "invalid array: shape {:?}; expected [B, {}X, Y, Z] (or 2D images without Z)",
                p.shape(),
                if one_hot { "C, " } else { "" }
            ),
        ));
    }
    let batch = p.shape()[0];
    // Every item's (pred, gt) volumes and the columns: labels, or channels.
    let mut items: Vec<Vec<(LabelVolume, LabelVolume)>> = Vec::with_capacity(batch);
    let to_py =
        |a: ndarray::ArrayViewD<'_, u32>| -> Bound<'py, PyAny> { a.to_owned().into_pyarray(py).into_any() };
    let columns: Vec<u32>;
    if one_hot {
        let channels = p.shape()[1];
        columns = (u32::from(!include_background)..channels as u32).collect();
        for b in 0..batch {
            let mut row = Vec::with_capacity(columns.len());
            for &c in &columns {
                let pc = to_py(p.index_axis(Axis(0), b).index_axis(Axis(0), c as usize).into_dyn());
                let gc = to_py(g.index_axis(Axis(0), b).index_axis(Axis(0), c as usize).into_dyn());
                row.push((volume(py, &pc, &geo, need)?, volume(py, &gc, &geo, need)?));
            }
            items.push(row);
        }
    } else {
        columns = labels.clone().unwrap_or_else(|| {
            let max = p.iter().chain(g.iter()).copied().max().unwrap_or(0);
            (u32::from(!include_background)..=max).filter(|&l| l > 0 || include_background).collect()
        });
        if columns.contains(&0) {
            return Err(raise(py, "OptionError", "invalid option: label 0 of a label map is background; use one-hot arrays with include_background=True".into()));
        }
        for b in 0..batch {
            let pb = to_py(p.index_axis(Axis(0), b));
            let gb = to_py(g.index_axis(Axis(0), b));
            items.push(vec![(volume(py, &pb, &geo, need)?, volume(py, &gb, &geo, need)?)]);
        }
    }
    let keys = batch_keys(&eval);
    let n_cols = columns.len();
    let results = py.detach(|| {
        use rayon::prelude::*;
        items
            .par_iter()
            .map(|row| -> Result<Vec<Vec<f64>>, segauge::eval::Error> {
                let mut out = vec![vec![f64::NAN; n_cols]; keys.len()];
                if one_hot {
                    let o = segauge::EvalOptions { labels: Some(vec![LabelRef::Number(1)]), ..eval.clone() };
                    for (c, (pv, gv)) in row.iter().enumerate() {
                        let r = segauge::compare_volumes(pv, gv, &o)?;
                        for (k, (_, m)) in keys.iter().enumerate() {
                            out[k][c] = m.value(&r.labels[0]).as_f64();
                        }
                    }
                } else {
                    let o = segauge::EvalOptions {
                        labels: Some(columns.iter().map(|&c| LabelRef::Number(c)).collect()),
                        ..eval.clone()
                    };
                    let r = segauge::compare_volumes(&row[0].0, &row[0].1, &o)?;
                    for (c, l) in r.labels.iter().enumerate() {
                        for (k, (_, m)) in keys.iter().enumerate() {
                            out[k][c] = m.value(l).as_f64();
                        }
                    }
                }
                Ok(out)
            })
            .collect::<Result<Vec<_>, _>>()
    });
    let results = results.map_err(|e| eval_error(py, &e))?;
    let dict = PyDict::new(py);
    for (k, (key, _)) in keys.iter().enumerate() {
        let mut a = ndarray::Array2::<f64>::from_elem((batch, n_cols), f64::NAN);
        for (b, r) in results.iter().enumerate() {
            for c in 0..n_cols {
                a[[b, c]] = r[k][c];
            }
        }
        dict.set_item(key, a.into_pyarray(py))?;
    }
    Ok((dict, columns))
}

/// A file as an array indexed `[x, y, z]` (Fortran order: no copy) and its geometry.
#[pyfunction]
#[pyo3(signature = (path, series = None, **kwargs))]
pub(crate) fn load<'py>(
    py: Python<'py>,
    path: PathBuf,
    series: Option<PathBuf>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyDict>)> {
    let parsed = options::parse(py, kwargs)?;
    let read = parsed.options.eval.read;
    let volume = py
        .detach(|| segauge::io::read_labels_on(&path, &read, series.as_deref(), None))
        .map_err(|e| io_error(py, &e))?;
    let (grid, labels) = volume.into_parts();
    let [nx, ny, nz] = grid.dims();
    let shape = (nx, ny, nz).f();
    let err = |e: ndarray::ShapeError| raise(py, "SegaugeError", e.to_string());
    let array: Bound<'py, PyAny> = match labels {
        Labels::U8(v) => Array3::from_shape_vec(shape, v).map_err(err)?.into_pyarray(py).into_any(),
        Labels::U16(v) => Array3::from_shape_vec(shape, v).map_err(err)?.into_pyarray(py).into_any(),
        Labels::U32(v) => Array3::from_shape_vec(shape, v).map_err(err)?.into_pyarray(py).into_any(),
    };
    Ok((array, geometry_dict(py, &grid)?))
}

/// `{shape, spacing, origin, direction, affine, axes}` of a grid (RAS, mm, x, y, z order).
fn geometry_dict<'py>(py: Python<'py>, grid: &Grid) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let (s, o, dir) = (grid.spacing(), grid.origin(), grid.direction());
    d.set_item("shape", grid.dims().to_vec())?;
    d.set_item("spacing", s.to_vec())?;
    d.set_item("origin", o.to_vec())?;
    d.set_item("direction", dir.iter().map(|r| r.to_vec()).collect::<Vec<_>>())?;
    let affine: Vec<Vec<f64>> = (0..4)
        .map(|r| {
            if r == 3 {
                vec![0.0, 0.0, 0.0, 1.0]
            } else {
                vec![dir[r][0] * s[0], dir[r][1] * s[1], dir[r][2] * s[2], o[r]]
            }
        })
        .collect();
    d.set_item("affine", PyList::new(py, affine)?)?;
    d.set_item("axes", "xyz")?;
    Ok(d)
}

/// One ROI of an RTSTRUCT rasterised on its image series, as a boolean array `[x, y, z]`, and the geometry.
#[pyfunction]
pub(crate) fn load_rtstruct<'py>(
    py: Python<'py>,
    series_dir: PathBuf,
    rtstruct: PathBuf,
    roi_name: String,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyDict>)> {
    let read = segauge::io::ReadOptions {
        dicom: segauge::io::dicom::DicomOptions { mapping: vec![(roi_name, 1)], ..Default::default() },
        ..Default::default()
    };
    let volume = py
        .detach(|| segauge::io::read_labels_on(&rtstruct, &read, Some(&series_dir), None))
        .map_err(|e| io_error(py, &e))?;
    let [nx, ny, nz] = volume.grid().dims();
    let mask: Vec<bool> = (0..nx * ny * nz).map(|i| volume.labels().get(i) == Some(1)).collect();
    let array = Array3::from_shape_vec((nx, ny, nz).f(), mask)
        .map_err(|e| raise(py, "SegaugeError", e.to_string()))?
        .into_pyarray(py)
        .into_any();
    Ok((array, geometry_dict(py, volume.grid())?))
}
