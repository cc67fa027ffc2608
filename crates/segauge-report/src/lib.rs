//! The output formats of segauge: a data-set [`Report`](segauge_eval::Report) (computed by segauge-eval) as one
//! self-contained HTML file, JSON, CSV and text, and one comparison as JSON or a text table.
//!
//! # Overview
//! - Data set: [`report_html`] (one self-contained file), [`report_json`] (schema [`SCHEMA`]; to a file with
//!   [`write_report_json`], which writes its case rows one at a time),
//!   [`write_cases_csv`] (one row per case and label), [`write_summary_csv`] (every aggregate),
//!   [`write_lesion_csv`] (one row per lesion), [`summary_text`] and [`subgroup_text`] (for a terminal).
//! - One pair: [`compare_json`] and [`compare_table`].
//! - Input: [`read_metadata`] reads the case metadata CSV.
//! - Sharded runs: [`PartialWriter`] appends a shard's records to its partial file (JSON lines, header
//!   [`Header`]); [`read_partials`] reads and checks the partial files of a run for the merge;
//!   [`record_line`] and [`options_line`] (and their readers) carry records and per-case options between the
//!   processes of a front end that distributes cases itself.
//! - Text safety: [`printable`] escapes control characters in every text output.
//!
//! # Semantics
//! Names, units and directions of metrics come from the run's [`Catalogue`](segauge_eval::Catalogue). Numbers
//! are written with the shortest representation that reads back to the same f64; non-finite numbers are the
//! strings `inf`, `-inf`, `nan` in JSON and CSV. This crate computes nothing: it renders what segauge-eval
//! computed, and it is the only crate that knows serialisation formats.
//!
//! # Example
//! ```
//! # let dir = tempfile::tempdir()?;
//! # let (pred, gt) = (dir.path().join("p.nii"), dir.path().join("g.nii"));
//! # segauge_tests::Nifti::u8([4, 1, 1], [1.0, 1.0, 2.0], vec![1, 1, 0, 0]).write(&pred)?;
//! # segauge_tests::Nifti::u8([4, 1, 1], [1.0, 1.0, 2.0], vec![0, 1, 1, 0]).write(&gt)?;
//! let options = segauge_eval::EvalOptions::default();
//! let result = segauge_eval::compare(&pred, &gt, &options)?;
//! let json: serde_json::Value = serde_json::from_str(&segauge_report::compare_json(&result, &options))?;
//! assert_eq!(json["labels"][0]["dice"], 0.5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Feature flags
//! None: the formats need no optional dependency.
#![deny(missing_docs)]

mod csv_write;
mod dataset;
mod exact_json;
mod html;
mod output;
mod partial;

use std::path::PathBuf;

pub use dataset::{
    SCHEMA, read_metadata, report_json, subgroup_text, summary_text, write_lesion_csv, write_report_json,
    write_summary_csv,
};
pub use html::report_html;
pub use output::{compare_json, compare_table, printable, write_cases_csv};
pub use partial::{
    Header, PARTIAL_FORMAT, PartialWriter, Partials, Resumed, VERSION, options_line, partial_path,
    read_options_line, read_partials, read_record_line, record_line,
};

/// Errors of the output formats.
///
/// # How to fix
/// The message names the file and the problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The case metadata file is unusable.
    #[error("{}: {detail}", path.display())]
    Metadata {
        /// The metadata file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// Writing an output failed.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The output file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A partial file of a sharded run is unusable: damaged, of another run, or not writable.
    #[error("{}: {detail}", path.display())]
    Partial {
        /// The partial file (or folder).
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// An output was refused or could not be put in place (see [`segauge_io::check_outputs`] and
    /// [`segauge_io::write_atomically`]).
    #[error(transparent)]
    Io(#[from] segauge_io::Error),
}
