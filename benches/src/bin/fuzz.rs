//! `segauge-fuzz`: the hostile-input mutants of segauge-io's mutation test (`segauge_tests::mutate`), run for as
//! long as asked with any base seed. Run by `cargo xtask fuzz`, which restarts it after a crash.
//!
//! Usage: `segauge-fuzz --out DIR [--seed S] [--start I] [--count N] [--seconds T] [--time-limit SECS]
//! [--ceiling BYTES]`.
//!
//! Mutant `i` (from `--start`, 0 by default) is for reader `READERS[i % 5]` and is that reader's mutant number
//! `i / 5`, built exactly as the test builds it (`mutant_rng(S, reader, i / 5)` on seed `(i / 5) % seeds`), so
//! `--seed 11 --count 1500` repeats the test's mutants. Each read must give a volume or a one-line error naming
//! the file with at most 1000 other bytes, must not panic, must peak under `--ceiling` bytes of heap (default
//! 64 MiB; `allocation-counter`, this thread only) and must take under a second. The input is written to
//! `DIR/current.<ext>` (with `current.json` for a sidecar) and described in `DIR/current.txt` before it is read,
//! so that a crash leaves it behind; a watchdog ends the process with exit code 3 when one read runs past
//! `--time-limit` (default 10 s), and the address space is capped at 4 GiB so that a runaway allocation aborts
//! instead of exhausting the machine. Every failure is kept as `DIR/fail-<reader>-<S>-<i>.<ext>` (and `.json`)
//! with a `.txt` saying what went wrong.
//!
//! Prints, per reader, the mutants run, their outcomes (volume or error kind), the largest peak heap and the
//! slowest read; then `failures <n>` and `done <next index>` for `cargo xtask fuzz`.
#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a command-line runner")]

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use segauge_io::{Grid, ReadOptions};
use segauge_tests::mutate::{self, Reader, Seed, check_message, mutant, mutant_rng};

/// Bytes a message may have besides the paths it names (as the test).
const MAX_EXTRA: usize = 1000;
/// A read slower than this is a failure (the seeds are kilobytes; a correct read takes milliseconds).
const SLOW: Duration = Duration::from_secs(1);
/// The address-space cap of the process.
const ADDRESS_SPACE: u64 = 4 << 30;

struct Options {
    out: PathBuf,
    seed: u64,
    start: u64,
    count: Option<u64>,
    seconds: Option<f64>,
    time_limit: Duration,
    ceiling: u64,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        out: PathBuf::new(),
        seed: 11,
        start: 0,
        count: None,
        seconds: None,
        time_limit: Duration::from_secs(10),
        ceiling: 64 << 20,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| v.parse::<u64>().map_err(|_| format!("{flag}: {v:?} is not a whole number"));
        match flag.as_str() {
            "--out" => o.out = PathBuf::from(value()?),
            "--seed" => o.seed = number(value()?)?,
            "--start" => o.start = number(value()?)?,
            "--count" => o.count = Some(number(value()?)?),
            "--seconds" => {
                let v = value()?;
                o.seconds = Some(v.parse().map_err(|_| format!("--seconds: {v:?} is not a number"))?);
            }
            "--time-limit" => o.time_limit = Duration::from_secs(number(value()?)?),
            "--ceiling" => o.ceiling = number(value()?)?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.out.as_os_str().is_empty() {
        return Err("--out DIR is required".into());
    }
    if o.count.is_none() && o.seconds.is_none() {
        return Err("give --count N or --seconds T".into());
    }
    Ok(o)
}

/// What one reader's mutants did.
#[derive(Default)]
struct Stats {
    mutants: u64,
    outcomes: BTreeMap<String, u64>,
    failures: u64,
    peak: u64,
    slowest: Duration,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("segauge-fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = run(&o) {
        eprintln!("segauge-fuzz: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn run(o: &Options) -> Result<(), String> {
    let io = |what: &Path, e: std::io::Error| format!("{}: {e}", what.display());
    std::fs::create_dir_all(&o.out).map_err(|e| io(&o.out, e))?;
    if let Err(e) =
        nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_AS, ADDRESS_SPACE, ADDRESS_SPACE)
    {
        eprintln!(
            "segauge-fuzz: cannot cap the address space ({e}); a runaway allocation may take the machine's memory"
        );
    }
    let dicom_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/dicom");
    let seeds: Vec<Vec<Seed>> = Reader::ALL.iter().map(|&r| mutate::seeds(r, &dicom_dir)).collect();
    // Panics are caught and reported with the input; keep their message (and place) instead of printing it.
    let last_panic = Arc::new(Mutex::new(String::new()));
    let hook_panic = Arc::clone(&last_panic);
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(mut p) = hook_panic.lock() {
            *p = info.to_string().replace('\n', " ");
        }
    }));
    // The watchdog: `started` is the start of the current read in ms since `epoch` (0: none running).
    let epoch = Instant::now();
    let started = Arc::new(AtomicU64::new(0));
    {
        let started = Arc::clone(&started);
        let limit = o.time_limit;
        let out = o.out.clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(100));
                let s = started.load(Ordering::Relaxed);
                let now = epoch.elapsed().as_millis() as u64;
                if s != 0 && now.saturating_sub(s) > limit.as_millis() as u64 {
                    let note = format!("timeout: the read ran past {} s\n", limit.as_secs());
                    let _ = std::fs::write(out.join("current.timeout"), note);
                    #[allow(
                        clippy::disallowed_methods,
                        reason = "the main thread hangs in the read, so only ending the process from here stops it; \
                                  the input and its description are already on disk"
                    )]
                    std::process::exit(3);
                }
            }
        });
    }
    let deadline = o.seconds.map(|s| epoch + Duration::from_secs_f64(s));
    let mut stats: BTreeMap<Reader, Stats> = BTreeMap::new();
    let mut i = o.start;
    loop {
        if o.count.is_some_and(|n| i >= o.start + n) || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let k = (i % Reader::ALL.len() as u64) as usize;
        let reader = Reader::ALL[k];
        let n = i / Reader::ALL.len() as u64;
        let s = n as usize % seeds[k].len();
        let seed = &seeds[k][s];
        let m = mutant(seed, &mut mutant_rng(o.seed, reader, n));
        let path = o.out.join(format!("current.{}", reader.extension()));
        let side = segauge_io::sidecar_path(&path);
        let describe = format!(
            "reader {}\nbase seed {}\nmutant {n} (index {i})\nseed {s}: {}\nmutator {}\nreproduce: segauge_tests::mutate::mutant(&seeds(Reader::{reader:?}, ..)[{s}], &mut mutant_rng({}, Reader::{reader:?}, {n}))\n",
            reader.name(),
            o.seed,
            seed.name,
            m.mutator,
            o.seed
        );
        std::fs::write(o.out.join("current.txt"), &describe).map_err(|e| io(&o.out, e))?;
        std::fs::write(&path, &m.bytes).map_err(|e| io(&path, e))?;
        match &m.sidecar {
            Some(b) => std::fs::write(&side, b).map_err(|e| io(&side, e))?,
            None => {
                let _ = std::fs::remove_file(&side);
            }
        }

        started.store(epoch.elapsed().as_millis().max(1) as u64, Ordering::Relaxed);
        let t = Instant::now();
        let mut result = Err(String::new());
        let info = allocation_counter::measure(|| {
            result =
                catch_unwind(AssertUnwindSafe(|| read(seed, &path).map(drop).map_err(|e| e.to_string())))
                    .map_err(|_| last_panic.lock().map(|p| p.clone()).unwrap_or_default());
        });
        let elapsed = t.elapsed();
        started.store(0, Ordering::Relaxed);

        let st = stats.entry(reader).or_default();
        st.mutants += 1;
        st.peak = st.peak.max(info.bytes_max);
        st.slowest = st.slowest.max(elapsed);
        let mut others: Vec<&Path> = vec![&side];
        others.extend(seed.series.as_deref());
        let (outcome, mut problem) = match &result {
            Ok(Ok(())) => ("volume".to_string(), None),
            Ok(Err(msg)) => (kind(msg, &path), check_message(msg, &path, &others, MAX_EXTRA).err()),
            Err(panic) => ("panic".to_string(), Some(format!("panicked: {panic}"))),
        };
        *st.outcomes.entry(outcome).or_default() += 1;
        if problem.is_none() && info.bytes_max > o.ceiling {
            problem = Some(format!("peak heap {} bytes, above the ceiling of {}", info.bytes_max, o.ceiling));
        }
        if problem.is_none() && elapsed > SLOW {
            problem = Some(format!("the read took {elapsed:?}"));
        }
        if let Some(p) = problem {
            st.failures += 1;
            let stem = format!("fail-{}-{}-{i}", reader.name(), o.seed);
            let message = match &result {
                Ok(Err(msg)) => format!("message: {}\n", msg.chars().take(4000).collect::<String>()),
                _ => String::new(),
            };
            let report = format!(
                "{describe}failure: {p}\n{message}peak heap: {} bytes\ntime: {elapsed:?}\n",
                info.bytes_max
            );
            keep(&o.out, &stem, reader, &m.bytes, m.sidecar.as_deref(), &report)
                .map_err(|e| io(&o.out, e))?;
            println!("FAIL {stem}: {}", p.chars().take(300).collect::<String>());
        }
        i += 1;
    }
    // A normal end: the inputs left behind are of reads that passed.
    for r in Reader::ALL {
        let _ = std::fs::remove_file(o.out.join(format!("current.{}", r.extension())));
    }
    let _ = std::fs::remove_file(o.out.join("current.json"));
    let _ = std::fs::remove_file(o.out.join("current.txt"));
    let mut failures = 0;
    for (reader, st) in &stats {
        let outcomes: Vec<String> = st.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!(
            "{:<10} {:>7} mutants, {} failures; peak heap {:.1} MiB, slowest read {:.1} ms; {}",
            reader.name(),
            st.mutants,
            st.failures,
            st.peak as f64 / f64::from(1 << 20),
            st.slowest.as_secs_f64() * 1e3,
            outcomes.join(", ")
        );
        failures += st.failures;
    }
    println!("failures {failures}");
    println!("done {i}");
    Ok(())
}

fn read(seed: &Seed, path: &Path) -> Result<segauge_io::LabelVolume, segauge_io::Error> {
    let reference = seed.reference.map(|r| {
        Grid::new(r.dims, r.spacing)
            .and_then(|g| g.with_origin(r.origin))
            .expect("the reference grid is valid")
    });
    segauge_io::read_labels_on(path, &ReadOptions::default(), seed.series.as_deref(), reference.as_ref())
}

/// The kind of an error from its message: the words after the path up to the next colon ("truncated or
/// corrupt", "invalid header", ...), "not a label" for a voxel, "sidecar …" for an error about the sidecar.
fn kind(message: &str, path: &Path) -> String {
    let file = path.display().to_string();
    let (rest, sidecar) = match message.strip_prefix(&file) {
        Some(rest) => (rest, false),
        None => (message.split_once(": ").map_or(message, |(_, r)| r), true),
    };
    let rest = rest.trim_start_matches(':').trim_start();
    let words = if rest.starts_with("voxel (") {
        "not a label".to_string()
    } else {
        let head = rest.split(':').next().unwrap_or("");
        head.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    };
    if sidecar { format!("sidecar {words}") } else { words }
}

/// Keeps a failing input (and its sidecar) with its report.
fn keep(
    out: &Path,
    stem: &str,
    reader: Reader,
    bytes: &[u8],
    sidecar: Option<&[u8]>,
    report: &str,
) -> std::io::Result<()> {
    std::fs::write(out.join(format!("{stem}.{}", reader.extension())), bytes)?;
    if let Some(s) = sidecar {
        std::fs::write(out.join(format!("{stem}.json")), s)?;
    }
    std::fs::write(out.join(format!("{stem}.txt")), report)
}
