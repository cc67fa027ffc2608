//! Integration tests of segauge-stats against independent references: scipy, statsmodels and numpy
//! re-implementations recorded in `tests/data/stats/expected.json` by `make_fixtures.py` (see PROVENANCE.md
//! there). Running them needs no Python.

mod bootstrap;
mod edge;
mod paired;
#[cfg(feature = "parallel")]
mod parallel;
mod rank;
mod rng;

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

/// The fixture document, read once.
fn expected() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/stats/expected.json");
        serde_json::from_slice(&std::fs::read(&path).expect("read expected.json"))
            .expect("parse expected.json")
    })
}

/// A number, with JSON null standing for NaN.
fn num(v: &Value) -> f64 {
    if v.is_null() { f64::NAN } else { v.as_f64().expect("number") }
}

/// A list of numbers (null = NaN).
fn nums(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(num).collect()
}

/// A u64 written as a decimal string (JSON numbers cannot carry all u64 values to every reader).
fn u64_str(v: &Value) -> u64 {
    v.as_str().expect("string").parse().expect("u64")
}

/// `actual` equals `want` within `tol` absolute (or `tol` relative for |want| > 1); NaN matches NaN.
#[track_caller]
fn assert_close(actual: f64, want: f64, tol: f64, what: &str) {
    if want.is_nan() {
        assert!(actual.is_nan(), "{what}: {actual} vs NaN");
        return;
    }
    assert!((actual - want).abs() <= tol * want.abs().max(1.0), "{what}: {actual} vs {want} (tol {tol})");
}
