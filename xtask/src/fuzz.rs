//! `cargo xtask fuzz --minutes N [--out DIR] [--seed S]`: the hostile-input mutants of segauge-io's mutation test
//! (`segauge_tests::mutate`) for `N` minutes, with the base seed `S` (default: from the clock, printed so that the
//! run can be repeated), on stable Rust.
//!
//! Builds `segauge-fuzz` (segauge-benches, release, with every reader of segauge-io) and runs it as a child process
//! until the time is up. The child
//! writes each input to `DIR/current.*` before reading it and keeps every failure it sees (a panic, a message
//! that is not one bounded line naming the file, a peak heap over 64 MiB, a slow read) as `DIR/fail-*`; when it
//! dies instead (an abort, a signal, its watchdog's exit code 3 for a read that hangs), this task keeps the
//! input as `DIR/crash-<reader>-<seed>-<index>.*` with a `.txt` saying what happened, and restarts it from the
//! next mutant. `DIR` defaults to `target/fuzz-failures`. Ends with the mutants run per reader and the failures
//! found; exits with an error when there are any.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use segauge_tests::mutate::Reader;

/// The features of segauge-io that hold the readers of [`Reader::ALL`].
const READER_FEATURES: [&str; 5] = ["nifti", "npy", "dicom", "metaimage", "nrrd"];

/// The options of `cargo xtask fuzz`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Options {
    pub(crate) minutes: f64,
    pub(crate) out: Option<PathBuf>,
    pub(crate) seed: Option<u64>,
}

pub(crate) fn parse(args: &[String]) -> anyhow::Result<Options> {
    let mut o = Options { minutes: 0.0, out: None, seed: None };
    let mut minutes = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--minutes" => {
                let v = value()?;
                minutes = Some(
                    v.parse::<f64>()
                        .ok()
                        .filter(|m| *m > 0.0)
                        .with_context(|| format!("--minutes {v:?} is not a positive number"))?,
                );
            }
            "--out" => o.out = Some(PathBuf::from(value()?)),
            "--seed" => {
                let v = value()?;
                o.seed = Some(v.parse().with_context(|| format!("--seed {v:?} is not a whole number"))?);
            }
            other => bail!(
                "unknown argument {other:?}; usage: cargo xtask fuzz --minutes N [--out DIR] [--seed S]"
            ),
        }
    }
    o.minutes = minutes.context("usage: cargo xtask fuzz --minutes N [--out DIR] [--seed S]")?;
    Ok(o)
}

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let o = parse(args)?;
    let out = o.out.clone().unwrap_or_else(|| root.join("target/fuzz-failures"));
    std::fs::create_dir_all(&out).with_context(|| format!("{}", out.display()))?;
    let seed = o.seed.unwrap_or_else(|| {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_secs() ^ u64::from(d.subsec_nanos()))
    });
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // segauge-benches turns on only the readers its benchmarks use; the fuzzer needs them all.
    let status = Command::new(&cargo)
        .args(["build", "--release", "-p", "segauge-benches", "--bin", "segauge-fuzz", "--features"])
        .arg(READER_FEATURES.map(|f| format!("segauge-io/{f}")).join(","))
        .current_dir(root)
        .status()
        .context("cannot run cargo build")?;
    if !status.success() {
        bail!("building segauge-fuzz failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let exe = target.join("release/segauge-fuzz");
    println!("fuzzing for {} min with seed {seed}; failures go to {}", o.minutes, out.display());

    let deadline = Instant::now() + Duration::from_secs_f64(o.minutes * 60.0);
    let mut start = 0u64;
    let mut crashes = 0usize;
    let mut failures = 0usize;
    let mut summary = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let mut child = Command::new(&exe)
            .args([
                "--out",
                &out.to_string_lossy(),
                "--seed",
                &seed.to_string(),
                "--start",
                &start.to_string(),
            ])
            .args(["--seconds", &format!("{:.3}", left.as_secs_f64())])
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot run {}", exe.display()))?;
        let mut done = None;
        let mut lines = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            for line in BufReader::new(stdout).lines() {
                let line = line.context("reading segauge-fuzz's output")?;
                if let Some(n) = line.strip_prefix("done ") {
                    done = n.parse::<u64>().ok();
                } else if let Some(n) = line.strip_prefix("failures ") {
                    failures += n.parse::<usize>().unwrap_or(0);
                } else if line.starts_with("FAIL ") {
                    println!("{line}");
                } else {
                    lines.push(line);
                }
            }
        }
        let status = child.wait().context("waiting for segauge-fuzz")?;
        if status.success() {
            summary = lines;
            start = done.unwrap_or(start);
            break;
        }
        // A crash or a hang: keep the input it was reading and go on after it.
        crashes += 1;
        let (index, kept) = keep_crash(&out, seed, &status)?;
        println!("CRASH {kept}: {status}");
        start = index + 1;
    }
    println!("mutants per reader (indices 0..{start}, seed {seed}):");
    for (k, reader) in Reader::ALL.iter().enumerate() {
        let n = Reader::ALL.len() as u64;
        let count = start / n + u64::from(start % n > k as u64);
        println!("  {:<10} {count}", reader.name());
    }
    if !summary.is_empty() {
        println!(
            "outcomes of the {} (mutants, failures, largest peak heap, slowest read, results):",
            if crashes > 0 { "run since the last restart" } else { "run" }
        );
    }
    for line in &summary {
        println!("  {line}");
    }
    println!("failures: {failures} in-process, {crashes} crashes or hangs (kept in {})", out.display());
    if failures + crashes > 0 {
        bail!("fuzzing found {} failing inputs", failures + crashes);
    }
    Ok(())
}

/// Renames `current.*` to `crash-<reader>-<seed>-<index>.*` with a report; returns the mutant index and stem.
fn keep_crash(out: &Path, seed: u64, status: &std::process::ExitStatus) -> anyhow::Result<(u64, String)> {
    let described = std::fs::read_to_string(out.join("current.txt")).with_context(|| {
        format!("segauge-fuzz died ({status}) before writing {}/current.txt", out.display())
    })?;
    let field = |name: &str| described.lines().find_map(|l| l.strip_prefix(name).map(str::trim));
    let index = field("mutant ")
        .and_then(|v| v.split("(index ").nth(1))
        .and_then(|v| v.trim_end_matches(')').parse::<u64>().ok())
        .context("current.txt names no mutant index")?;
    let name = field("reader ").unwrap_or("unknown").to_string();
    let reader = Reader::ALL.into_iter().find(|r| r.name() == name).context("current.txt names no reader")?;
    let ext = field("file ")
        .and_then(|f| f.strip_prefix("current."))
        .filter(|e| reader.extensions().contains(e))
        .context("current.txt names no input file of its reader")?;
    let stem = format!("crash-{name}-{seed}-{index}");
    let timeout = std::fs::read_to_string(out.join("current.timeout")).ok();
    let _ = std::fs::remove_file(out.join("current.timeout"));
    // The input (and the sidecar of a .npy); other current.* files are older inputs that passed. The data files of
    // a detached header stay in `out`, where it names them.
    let mut kept = vec![ext];
    if reader == Reader::Npy {
        kept.push("json");
    }
    for ext in kept {
        let from = out.join(format!("current.{ext}"));
        if ext == "json" && !from.exists() {
            continue; // a mutant without sidecar
        }
        std::fs::rename(&from, out.join(format!("{stem}.{ext}")))
            .with_context(|| format!("{}", from.display()))?;
    }
    let what = timeout.unwrap_or_else(|| format!("crash: segauge-fuzz ended with {status}\n"));
    std::fs::write(out.join(format!("{stem}.txt")), format!("{described}{what}"))?;
    let _ = std::fs::remove_file(out.join("current.txt"));
    Ok((index, stem))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn arguments() {
        let o = parse(&args(&["--minutes", "2.5", "--seed", "7"])).unwrap();
        assert_eq!(o, Options { minutes: 2.5, out: None, seed: Some(7) });
        let o = parse(&args(&["--out", "x", "--minutes", "1"])).unwrap();
        assert_eq!(o.out, Some(PathBuf::from("x")));
        assert!(parse(&args(&[])).is_err());
        assert!(parse(&args(&["--minutes", "0"])).is_err());
        assert!(parse(&args(&["--minutes", "1", "--bogus"])).is_err());
    }

    #[test]
    fn a_crash_keeps_the_input_named_in_current_txt() {
        use std::os::unix::process::ExitStatusExt;
        let out = std::env::temp_dir().join(format!("segauge-xtask-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(
            out.join("current.txt"),
            "reader nrrd\nfile current.seg.nrrd\nbase seed 5\nmutant 3 (index 27)\nseed 3: x\nmutator m\n",
        )
        .unwrap();
        std::fs::write(out.join("current.seg.nrrd"), b"NRRD0004\n").unwrap();
        std::fs::write(out.join("current.nrrd"), b"an older input").unwrap();
        let (index, stem) = keep_crash(&out, 5, &std::process::ExitStatus::from_raw(6)).unwrap();
        assert_eq!((index, stem.as_str()), (27, "crash-nrrd-5-27"));
        assert_eq!(std::fs::read(out.join("crash-nrrd-5-27.seg.nrrd")).unwrap(), b"NRRD0004\n");
        let report = std::fs::read_to_string(out.join("crash-nrrd-5-27.txt")).unwrap();
        assert!(
            report.starts_with("reader nrrd\nfile current.seg.nrrd\n") && report.contains("crash:"),
            "{report}"
        );
        assert!(out.join("current.nrrd").exists() && !out.join("current.txt").exists());
        std::fs::remove_dir_all(&out).unwrap();
    }
}
