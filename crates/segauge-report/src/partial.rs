//! Partial files of a sharded run: one per shard, `segauge-shard-K-of-N.jsonl`, JSON lines appended as cases
//! finish, and the reader that gathers them for the merge.
//!
//! The first line is the [`Header`]: the format number, the segauge version, the digests of the per-case options
//! and of the case list, K and N, and the [`Plan`] itself (so that the merge needs no input folder). Every
//! further line is one [`CaseRecord`]. Numbers are written so that they read back bit for bit (non-finite ones
//! as the strings `nan`, `inf`, `-inf`).
//!
//! **Architecture Invariant:** a line is written whole, then flushed and synced to disk before the next case is
//! recorded, so a killed shard keeps every case it reported; only the last line can be incomplete, and
//! [`PartialWriter::open`] with `resume` cuts it off and lets the case be redone.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use segauge_eval::{CaseRecord, EvalOptions, Plan, Shard};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::exact_json::{from_value, to_value};

/// The format number of partial files (the `format` of their header).
pub const PARTIAL_FORMAT: u32 = 1;

/// The segauge version written into headers: the version of segauge-eval, which computes every number.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The first line of a partial file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Header {
    /// [`PARTIAL_FORMAT`].
    pub format: u32,
    /// The segauge version that wrote the file.
    pub version: String,
    /// SHA-256 (hex) of the per-case options as stored ([`Plan::options`]).
    pub options_digest: String,
    /// SHA-256 (hex) of the case list: the models, their cases (ids, files, failures known before reading) and
    /// the cases' sizes, which decide the assignment to shards.
    pub cases_digest: String,
    /// K, from 1.
    pub shard: usize,
    /// N.
    pub shards: usize,
    /// Everything the shards share.
    pub plan: Plan,
}

impl Header {
    /// The header of `shard` of `plan`.
    ///
    /// # Errors
    /// [`Error::Partial`] if the plan cannot be serialised (it always can).
    pub fn new(plan: &Plan, shard: Shard) -> Result<Header, Error> {
        let (options_digest, cases_digest) = digests(plan)?;
        Ok(Header {
            format: PARTIAL_FORMAT,
            version: VERSION.to_string(),
            options_digest,
            cases_digest,
            shard: shard.index,
            shards: shard.count,
            plan: plan.clone(),
        })
    }

    /// The shard this header is for.
    pub fn shard(&self) -> Shard {
        Shard { index: self.shard, count: self.shards }
    }
}

/// The options and case-list digests of a plan.
fn digests(plan: &Plan) -> Result<(String, String), Error> {
    let hash = |v: serde_json::Value| -> String {
        let digest = Sha256::digest(v.to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    };
    let bad = |e: serde_json::Error| Error::Partial { path: PathBuf::new(), detail: e.to_string() };
    let options = hash(to_value(&plan.options).map_err(bad)?);
    let cases = hash(to_value(&(&plan.models, &plan.gt_dir, &plan.sizes)).map_err(bad)?);
    Ok((options, cases))
}

/// The partial file of `shard` in `dir`: `segauge-shard-K-of-N.jsonl`.
///
/// ```
/// let path = segauge_report::partial_path("parts".as_ref(), "2/8".parse()?);
/// assert_eq!(path, std::path::Path::new("parts/segauge-shard-2-of-8.jsonl"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn partial_path(dir: &Path, shard: Shard) -> PathBuf {
    dir.join(format!("segauge-shard-{}-of-{}.jsonl", shard.index, shard.count))
}

/// The shard a partial file's name stands for.
fn shard_of_name(name: &str) -> Option<Shard> {
    let rest = name.strip_prefix("segauge-shard-")?.strip_suffix(".jsonl")?;
    let (k, n) = rest.split_once("-of-")?;
    format!("{k}/{n}").parse().ok()
}

/// A case record as one line of a partial file, without its newline, for front ends that move records between
/// processes themselves (the Python package's executors) and merge them with [`Plan::merge`].
///
/// # Errors
/// [`Error::Partial`] if the record cannot be serialised (it always can).
pub fn record_line(record: &CaseRecord) -> Result<String, Error> {
    let v = to_value(record).map_err(|e| text_error("<record>", e))?;
    Ok(v.to_string())
}

/// The case record of a line written by [`record_line`] (or a record line of a partial file).
///
/// # Errors
/// [`Error::Partial`] if the line is not a case record.
pub fn read_record_line(line: &str) -> Result<CaseRecord, Error> {
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| text_error("<record>", e))?;
    from_value(value).map_err(|e| text_error("<record>", e))
}

/// Per-case options as the headers' plan stores them (every number read back bit for bit), for a front end that
/// sends them to the processes evaluating its shards.
///
/// # Errors
/// [`Error::Partial`] if the options cannot be serialised (they always can).
pub fn options_line(options: &EvalOptions) -> Result<String, Error> {
    let v = to_value(options).map_err(|e| text_error("<options>", e))?;
    Ok(v.to_string())
}

/// The per-case options of a text written by [`options_line`].
///
/// # Errors
/// [`Error::Partial`] if the text is not such options.
pub fn read_options_line(text: &str) -> Result<EvalOptions, Error> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| text_error("<options>", e))?;
    from_value(value).map_err(|e| text_error("<options>", e))
}

fn text_error(what: &str, e: serde_json::Error) -> Error {
    Error::Partial { path: PathBuf::from(what), detail: e.to_string() }
}

/// Appends the records of one shard to its partial file.
#[derive(Debug)]
pub struct PartialWriter {
    file: File,
    path: PathBuf,
}

/// What [`PartialWriter::open`] found.
#[derive(Debug, Default)]
pub struct Resumed {
    /// The cases already recorded, to skip.
    pub done: BTreeSet<String>,
    /// Bytes of an incomplete last line that were cut off (its case is redone).
    pub cut: u64,
}

impl PartialWriter {
    /// Opens the partial file of `shard` in `dir` (created if need be): a new file gets its header; with
    /// `resume`, an existing file must have this plan's header (version, digests, K and N), its complete records
    /// are kept (their cases are listed in [`Resumed::done`]) and an incomplete last line is cut off.
    ///
    /// # Errors
    /// [`Error::Partial`] naming the file: it exists and `resume` is not set, its header is another run's, a
    /// record before the last line is damaged, or it cannot be written.
    pub fn open(
        dir: &Path,
        plan: &Plan,
        shard: Shard,
        resume: bool,
    ) -> Result<(PartialWriter, Resumed), Error> {
        let path = partial_path(dir, shard);
        let fail = |detail: String| Error::Partial { path: path.clone(), detail };
        let header = Header::new(plan, shard)?;
        let line = |h: &Header| -> Result<String, Error> {
            let v = to_value(h).map_err(|e| fail(e.to_string()))?;
            Ok(format!("{v}\n"))
        };
        let exists = path.exists();
        if exists && !resume {
            return Err(fail(
                "exists: pass --resume to continue it, or remove it to start this shard again".into(),
            ));
        }
        let io = |what: &str, e: std::io::Error| fail(format!("cannot {what}: {e}"));
        let mut file =
            OpenOptions::new().read(true).append(true).create(true).open(&path).map_err(|e| io("open", e))?;
        let mut resumed = Resumed::default();
        let mut text = Vec::new();
        file.read_to_end(&mut text).map_err(|e| io("read", e))?;
        let keep = if text.is_empty() {
            0
        } else {
            let lines = parse(&text, &path)?;
            match lines.header {
                // Killed before its header was whole: nothing was recorded.
                None => 0,
                Some(found) => {
                    if let Some(what) = difference(&found, &header) {
                        return Err(fail(format!(
                            "was written by another run (its {what} differ from this run's); remove it or use \
                             another --partial folder"
                        )));
                    }
                    if found.shard() != shard {
                        return Err(fail(format!(
                            "is the partial file of shard {}, not {shard}",
                            found.shard()
                        )));
                    }
                    resumed.done = lines.records.into_iter().map(|r| r.case).collect();
                    lines.complete
                }
            }
        };
        if keep < text.len() as u64 {
            file.set_len(keep).map_err(|e| io("cut its incomplete last line", e))?;
            resumed.cut = text.len() as u64 - keep;
        }
        file.seek(SeekFrom::End(0)).map_err(|e| io("seek", e))?;
        let mut writer = PartialWriter { file, path: path.clone() };
        if keep == 0 {
            writer.write_line(&line(&header)?)?;
            // The new file's name is durable too.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok((writer, resumed))
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record as a line, flushed and synced to disk before returning.
    ///
    /// # Errors
    /// [`Error::Partial`] naming the file when it cannot be written.
    pub fn append(&mut self, record: &CaseRecord) -> Result<(), Error> {
        let v = to_value(record)
            .map_err(|e| Error::Partial { path: self.path.clone(), detail: e.to_string() })?;
        self.write_line(&format!("{v}\n"))
    }

    fn write_line(&mut self, line: &str) -> Result<(), Error> {
        let fail = |e: std::io::Error| Error::Partial {
            path: self.path.clone(),
            detail: format!("cannot write: {e}"),
        };
        self.file.write_all(line.as_bytes()).map_err(fail)?;
        self.file.flush().map_err(fail)?;
        self.file.sync_data().map_err(fail)
    }
}

/// The lines of a partial file.
struct Lines {
    header: Option<Header>,
    records: Vec<CaseRecord>,
    /// Bytes of the complete lines (header and records).
    complete: u64,
    /// Whether an incomplete last line followed them.
    incomplete: bool,
}

/// Parses a partial file's text: complete lines must parse; the last line may be incomplete (no newline, or a
/// newline but unparsable: killed mid-write).
fn parse(text: &[u8], path: &Path) -> Result<Lines, Error> {
    let fail = |detail: String| Error::Partial { path: path.to_path_buf(), detail };
    let mut out = Lines { header: None, records: Vec::new(), complete: 0, incomplete: false };
    let mut start = 0usize;
    let mut number = 0usize;
    while start < text.len() {
        number += 1;
        let end = text[start..].iter().position(|&b| b == b'\n').map(|i| start + i);
        let last = end.is_none_or(|e| e + 1 == text.len());
        let body = &text[start..end.unwrap_or(text.len())];
        let value = end.and_then(|_| serde_json::from_slice::<serde_json::Value>(body).ok());
        let Some(value) = value else {
            if last {
                out.incomplete = true;
                break;
            }
            return Err(fail(format!("line {number} is damaged (not JSON), and it is not the last line")));
        };
        if out.header.is_none() {
            let header: Header = from_value(value).map_err(|e| {
                fail(format!("line 1 is no partial-file header ({e}); is this a segauge partial file?"))
            })?;
            if header.format != PARTIAL_FORMAT {
                return Err(fail(format!(
                    "partial-file format {} (this segauge reads format {PARTIAL_FORMAT})",
                    header.format
                )));
            }
            out.header = Some(header);
        } else {
            let record: CaseRecord =
                from_value(value).map_err(|e| fail(format!("line {number} is no case record: {e}")))?;
            out.records.push(record);
        }
        let end = end.unwrap_or(text.len());
        start = end + 1;
        out.complete = start as u64;
    }
    Ok(out)
}

/// What differs between the headers of two runs, if anything.
fn difference(a: &Header, b: &Header) -> Option<String> {
    let short = |d: &str| d.chars().take(12).collect::<String>();
    if a.version != b.version {
        Some(format!("segauge versions ({} and {})", a.version, b.version))
    } else if a.options_digest != b.options_digest {
        Some(format!(
            "per-case options (digests {} and {})",
            short(&a.options_digest),
            short(&b.options_digest)
        ))
    } else if a.cases_digest != b.cases_digest {
        Some(format!(
            "case lists (digests {} and {}: other cases, files or file sizes)",
            short(&a.cases_digest),
            short(&b.cases_digest)
        ))
    } else if a.shards != b.shards {
        Some(format!("numbers of shards ({} and {})", a.shards, b.shards))
    } else {
        None
    }
}

/// The partial files of one run, read for the merge.
#[derive(Debug)]
pub struct Partials {
    /// The plan they share.
    pub plan: Plan,
    /// N.
    pub shards: usize,
    /// The shards (K) that have a file.
    pub present: BTreeSet<usize>,
    /// Every complete record, in the order of the files (by K) and their lines.
    pub records: Vec<CaseRecord>,
    /// Notes for the user (e.g. a file whose last line was incomplete).
    pub notes: Vec<String>,
    /// The shard of every case id.
    assignment: std::collections::BTreeMap<String, usize>,
}

impl Partials {
    /// The reason a case without a record failed: its shard's file is missing, or the file lacks it.
    pub fn missing_reason(&self, case: &str) -> String {
        let k = self.assignment.get(case).copied().unwrap_or(0);
        let n = self.shards;
        if self.present.contains(&k) {
            format!("not evaluated: shard {k}/{n} did not record it (rerun that shard with --resume)")
        } else {
            format!("not evaluated: shard {k}/{n} missing")
        }
    }
}

/// Reads every partial file (`segauge-shard-K-of-N.jsonl`) in `dirs` and checks that they come from one run:
/// the same segauge version, per-case options, case list and N.
///
/// # Errors
/// [`Error::Partial`] naming the file(s): no partial file at all, a damaged file, two files of different runs, or
/// two files for one shard.
pub fn read_partials(dirs: &[PathBuf]) -> Result<Partials, Error> {
    let mut files: Vec<(Shard, PathBuf)> = Vec::new();
    for dir in dirs {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Error::Partial { path: dir.clone(), detail: format!("cannot list: {e}") })?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            if let Some(shard) = name.to_str().and_then(shard_of_name) {
                files.push((shard, entry.path()));
            }
        }
    }
    files.sort();
    let Some((_, first)) = files.first() else {
        let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        return Err(Error::Partial {
            path: PathBuf::from(shown.join(", ")),
            detail: "no partial file (segauge-shard-K-of-N.jsonl) there".into(),
        });
    };
    let first = first.clone();
    let mut reference: Option<Header> = None;
    let mut out = Partials {
        plan: Plan::default(),
        shards: 0,
        present: BTreeSet::new(),
        records: Vec::new(),
        notes: Vec::new(),
        assignment: Default::default(),
    };
    let mut seen: Vec<(usize, PathBuf)> = Vec::new();
    for (shard, path) in &files {
        let text = std::fs::read(path)
            .map_err(|e| Error::Partial { path: path.clone(), detail: format!("cannot read: {e}") })?;
        let lines = parse(&text, path)?;
        let Some(header) = lines.header else {
            out.notes.push(format!("{}: no complete header; nothing recorded", path.display()));
            continue;
        };
        if header.shard() != *shard {
            return Err(Error::Partial {
                path: path.clone(),
                detail: format!("its header is shard {}, its name {shard}", header.shard()),
            });
        }
        match &reference {
            Some(r) => {
                if let Some(what) = difference(&header, r) {
                    return Err(Error::Partial {
                        path: path.clone(),
                        detail: format!(
                            "and {} come from different runs: their {what} differ",
                            first.display()
                        ),
                    });
                }
            }
            None => reference = Some(header.clone()),
        }
        if let Some((_, other)) = seen.iter().find(|(k, _)| *k == shard.index) {
            return Err(Error::Partial {
                path: path.clone(),
                detail: format!("and {} are both shard {shard}; merge one of them", other.display()),
            });
        }
        seen.push((shard.index, path.clone()));
        if lines.incomplete {
            out.notes.push(format!(
                "{}: the last line is incomplete (the shard was stopped while writing it); its case is not counted",
                path.display()
            ));
        }
        out.present.insert(shard.index);
        out.records.extend(lines.records);
    }
    let Some(header) = reference else {
        return Err(Error::Partial { path: first, detail: "no partial file has a complete header".into() });
    };
    out.shards = header.shards;
    out.plan = header.plan;
    out.assignment = out.plan.assignment(out.shards).into_iter().map(|(id, k)| (id.to_string(), k)).collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use segauge_eval::{Failure, ModelOutcome, Outcome};

    #[test]
    fn records_and_options_read_back_as_written() {
        let record = CaseRecord {
            case: "c1".into(),
            models: vec![ModelOutcome {
                model: "a".into(),
                outcome: Outcome::Failed(Failure { case: "c1".into(), error: "unreadable".into() }),
            }],
        };
        let line = record_line(&record).unwrap();
        assert!(!line.contains('\n'));
        assert_eq!(read_record_line(&line).unwrap(), record);
        let mut options = EvalOptions::default();
        if let Some(s) = options.surface.as_mut() {
            s.tau = 0.1 + 0.2; // not the shortest decimal of its neighbours: it must survive exactly
        }
        assert_eq!(read_options_line(&options_line(&options).unwrap()).unwrap(), options);
        assert!(read_record_line("{\"case\": 1}").is_err());
    }
}
