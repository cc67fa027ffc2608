//! The CSV writer of every CSV output: RFC 4180 quoting, linear in the length of a cell, and terminal-safe text.
//!
//! Written here rather than with the `csv` crate (still used to read metadata): csv 1.4 searches the rest of a
//! quoted field for a quote character each time its 8 KiB buffer fills, so one long quoted cell costs time
//! quadratic in its length (a 52 MB error message took 33 s). The format is the one csv wrote with its defaults,
//! byte for byte on every output segauge writes: fields separated by `,`, records ended by `\n`, a field quoted
//! (with `"` doubled) when it holds `,` or `"` or a line break, and a record of one empty field written `""`.
//! Control characters are escaped first ([`printable`](crate::printable)), so no cell can move a terminal's
//! cursor or hide text, and no cell holds a line break.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::output::printable;

/// A CSV writer whose records all have the same number of fields.
pub(crate) struct CsvWriter<W: Write> {
    out: W,
    path: PathBuf,
    fields: Option<usize>,
    line: Vec<u8>,
}

impl<W: Write> CsvWriter<W> {
    /// A writer to `out`; `path` names it in errors.
    pub(crate) fn new(out: W, path: &Path) -> Self {
        CsvWriter { out, path: path.to_path_buf(), fields: None, line: Vec::new() }
    }

    /// Writes one record.
    ///
    /// # Errors
    /// [`Error::Write`] when the output fails or the record has another number of fields than the first.
    pub(crate) fn record<S: AsRef<str>>(&mut self, fields: &[S]) -> Result<(), Error> {
        match self.fields {
            None => self.fields = Some(fields.len()),
            Some(n) if n != fields.len() => {
                return Err(Error::Write {
                    path: self.path.clone(),
                    source: std::io::Error::other(format!(
                        "a record of {} fields after records of {n}",
                        fields.len()
                    )),
                });
            }
            Some(_) => {}
        }
        self.line.clear();
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                self.line.push(b',');
            }
            let text = printable(field.as_ref());
            if text.contains([',', '"', '\n', '\r']) {
                self.line.push(b'"');
                self.line.extend_from_slice(text.replace('"', "\"\"").as_bytes());
                self.line.push(b'"');
            } else {
                self.line.extend_from_slice(text.as_bytes());
            }
        }
        if fields.len() == 1 && self.line.is_empty() {
            self.line.extend_from_slice(b"\"\"");
        }
        self.line.push(b'\n');
        self.out.write_all(&self.line).map_err(|e| self.error(e))
    }

    /// Flushes the output.
    ///
    /// # Errors
    /// [`Error::Write`] when the output fails.
    pub(crate) fn finish(mut self) -> Result<(), Error> {
        self.out.flush().map_err(|e| self.error(e))
    }

    fn error(&self, source: std::io::Error) -> Error {
        Error::Write { path: self.path.clone(), source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(records: &[&[&str]]) -> String {
        let mut buf = Vec::new();
        let mut w = CsvWriter::new(&mut buf, Path::new("t.csv"));
        for r in records {
            w.record(r).unwrap();
        }
        w.finish().unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn quoting_as_rfc_4180() {
        assert_eq!(
            csv(&[&["a", "b c", ""], &["1,5", "say \"hi\"", "x"]]),
            "a,b c,\n\"1,5\",\"say \"\"hi\"\"\",x\n"
        );
        assert_eq!(csv(&[&[""]]), "\"\"\n");
        // Control characters are escaped, so a cell never breaks a line.
        assert_eq!(csv(&[&["a\nb", "\u{1b}[31mred"]]), "a\\nb,\\u{1b}[31mred\n");
    }

    #[test]
    fn records_of_another_length_are_refused() {
        let mut w = CsvWriter::new(Vec::new(), Path::new("t.csv"));
        w.record(&["a", "b"]).unwrap();
        let err = w.record(&["a"]).unwrap_err();
        assert!(
            err.to_string().starts_with("t.csv: cannot write: a record of 1 fields after records of 2"),
            "{err}"
        );
    }

    #[test]
    fn the_csv_crate_reads_back_what_is_written() {
        let cells = ["plain", "with, comma", "with \"quotes\"", "", "é ü ∞"];
        let text = csv(&[&cells, &cells]);
        let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
        for rec in r.records() {
            let rec = rec.unwrap();
            assert_eq!(rec.iter().collect::<Vec<_>>(), cells);
        }
    }
}
