//! `segauge-fuzz`: the hostile-input mutants of segauge-io's mutation test (`segauge_tests::mutate`), run for as
//! long as asked with any base seed. Run by `cargo xtask fuzz`, which restarts it after a crash.
//!
//! Usage: `segauge-fuzz --out DIR [--seed S] [--start I] [--count N] [--seconds T] [--time-limit SECS]
//! [--ceiling BYTES]`.
//!
//! Mutant `i` (from `--start`, 0 by default) is for reader `Reader::ALL[i % 7]` and is that reader's mutant number
//! `i / 7`, built exactly as the test builds it (`mutant_rng(S, reader, i / 7)` on seed `(i / 7) % seeds`), so
//! `--seed 11 --count 2100` repeats the test's mutants. Each mutant is read twice, by its file name: with
//! `segauge_io::read_label_file_on` (every layer and name kept: the multi-channel, 3D Slicer and overlapping DICOM
//! outputs) and with `read_labels_on` (one label volume, as the test reads it). Each read must give a result or a
//! one-line error naming the file with at most 1000 other bytes, must not panic, must peak under `--ceiling`
//! bytes of heap (default 64 MiB; `allocation-counter`, this thread only) and must take under a second. The input
//! is written to `DIR/current.<ext>` (with `current.json` for a sidecar; the data files of detached `.mhd` and
//! `.nhdr` headers lie in `DIR` unchanged) and described in `DIR/current.txt` before it is read, so that a crash
//! leaves it behind; a watchdog ends the process with exit code 3 when the reads of one mutant run past
//! `--time-limit` (default 10 s), and the address space is capped at 4 GiB so that a runaway allocation aborts
//! instead of exhausting the machine. Every failure is kept as `DIR/fail-<reader>-<S>-<i>.<ext>` (and `.json`)
//! with a `.txt` saying what went wrong. Before the first mutant, one seed of each reader at least must read: a
//! reader whose feature is off in this build would otherwise pass every mutant with one error.
//!
//! Prints, per reader, the mutants run, their outcomes (a volume, a file of `n` layers, or the error's kind; as a
//! label file, then as a label volume where that differs), the largest peak heap and the slowest read; then
//! `failures <n>` and `done <next index>` for `cargo xtask fuzz`.
#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a command-line runner")]

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use segauge_io::{Grid, LabelFile, LabelVolume, ReadOptions};
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
    let data_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data");
    let seeds: Vec<Vec<Seed>> = Reader::ALL.iter().map(|&r| mutate::seeds(r, &data_dir)).collect();
    // The data files of detached headers, which the mutants' headers name.
    let mut companions = Vec::new();
    for (name, bytes) in seeds.iter().flatten().flat_map(|s| &s.companions) {
        let p = o.out.join(name);
        std::fs::write(&p, bytes).map_err(|e| io(&p, e))?;
        companions.push(p);
    }
    if let Err(e) = check_readers(&o.out, &seeds) {
        for p in &companions {
            let _ = std::fs::remove_file(p);
        }
        return Err(e);
    }
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
        let path = o.out.join(format!("current.{}", seed.extension));
        let side = segauge_io::sidecar_path(&path);
        let data_files: Vec<&str> = seed.companions.iter().map(|(name, _)| name.as_str()).collect();
        let describe = format!(
            "reader {}\nfile {}\nbase seed {}\nmutant {n} (index {i})\nseed {s}: {}\nmutator {}\n{}reproduce: segauge_tests::mutate::mutant(&seeds(Reader::{reader:?}, ..)[{s}], &mut mutant_rng({}, Reader::{reader:?}, {n}))\n",
            reader.name(),
            path.file_name().map(|f| f.to_string_lossy()).unwrap_or_default(),
            o.seed,
            seed.name,
            m.mutator,
            if data_files.is_empty() {
                String::new()
            } else {
                format!("data files (beside it, unchanged): {}\n", data_files.join(", "))
            },
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
        let reads = [
            measured(&last_panic, "as a label file", || read_file(seed, &path).map(|f| outcome_of_file(&f))),
            measured(&last_panic, "as a label volume", || read(seed, &path).map(|_| "volume".to_string())),
        ];
        started.store(0, Ordering::Relaxed);

        let st = stats.entry(reader).or_default();
        st.mutants += 1;
        let mut others: Vec<&Path> = vec![&side];
        others.extend(seed.series.as_deref());
        others.extend(companions.iter().map(PathBuf::as_path));
        let mut outcomes = Vec::new();
        let mut failed = None;
        for r in &reads {
            st.peak = st.peak.max(r.peak);
            st.slowest = st.slowest.max(r.elapsed);
            let (outcome, mut problem) = match &r.result {
                Ok(Ok(outcome)) => (outcome.clone(), None),
                Ok(Err(msg)) => (kind(msg, &path), check_message(msg, &path, &others, MAX_EXTRA).err()),
                Err(panic) => ("panic".to_string(), Some(format!("panicked: {panic}"))),
            };
            if problem.is_none() && r.peak > o.ceiling {
                problem = Some(format!("peak heap {} bytes, above the ceiling of {}", r.peak, o.ceiling));
            }
            if problem.is_none() && r.elapsed > SLOW {
                problem = Some(format!("the read took {:?}", r.elapsed));
            }
            if !outcomes.contains(&outcome) {
                outcomes.push(outcome);
            }
            if failed.is_none() {
                failed = problem.map(|p| (r, format!("read {}: {p}", r.what)));
            }
        }
        *st.outcomes.entry(outcomes.join(" / ")).or_default() += 1;
        if let Some((r, p)) = failed {
            st.failures += 1;
            let stem = format!("fail-{}-{}-{i}", reader.name(), o.seed);
            let message = match &r.result {
                Ok(Err(msg)) => format!("message: {}\n", msg.chars().take(4000).collect::<String>()),
                _ => String::new(),
            };
            let report = format!(
                "{describe}failure: {p}\n{message}peak heap: {} bytes\ntime: {:?}\n",
                r.peak, r.elapsed
            );
            keep(&o.out, &stem, seed.extension, &m.bytes, m.sidecar.as_deref(), &report)
                .map_err(|e| io(&o.out, e))?;
            println!("FAIL {stem}: {}", p.chars().take(300).collect::<String>());
        }
        i += 1;
    }
    // A normal end: the inputs left behind are of reads that passed.
    for ext in Reader::ALL.iter().flat_map(|r| r.extensions()) {
        let _ = std::fs::remove_file(o.out.join(format!("current.{ext}")));
    }
    let _ = std::fs::remove_file(o.out.join("current.json"));
    let _ = std::fs::remove_file(o.out.join("current.txt"));
    // The data files stay while a kept input may name them.
    if !kept_inputs(&o.out) {
        for p in &companions {
            let _ = std::fs::remove_file(p);
        }
    }
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

/// One read of a mutant.
struct Read {
    /// How it was read: "as a label file", "as a label volume".
    what: &'static str,
    /// `Ok(Ok)`: its outcome; `Ok(Err)`: an error's message; `Err`: a panic's message.
    result: Result<Result<String, String>, String>,
    peak: u64,
    elapsed: Duration,
}

/// Runs `read`, measuring its peak heap and time; a panic is caught inside the measurement.
fn measured(
    last_panic: &Mutex<String>,
    what: &'static str,
    read: impl FnOnce() -> Result<String, segauge_io::Error>,
) -> Read {
    let t = Instant::now();
    let mut result = Err(String::new());
    let info = allocation_counter::measure(|| {
        result = catch_unwind(AssertUnwindSafe(|| read().map_err(|e| e.to_string())))
            .map_err(|_| last_panic.lock().map(|p| p.clone()).unwrap_or_default());
    });
    Read { what, result, peak: info.bytes_max, elapsed: t.elapsed() }
}

fn reference(seed: &Seed) -> Option<Grid> {
    seed.reference.map(|r| {
        Grid::new(r.dims, r.spacing)
            .and_then(|g| g.with_origin(r.origin))
            .expect("the reference grid is valid")
    })
}

/// Reads `path` as one label volume, as `seed`'s reader does (with its series or reference grid).
fn read(seed: &Seed, path: &Path) -> Result<LabelVolume, segauge_io::Error> {
    let options = ReadOptions::default();
    segauge_io::read_labels_on(path, &options, seed.series.as_deref(), reference(seed).as_ref())
}

/// Reads `path` with its layers and names, as `seed`'s reader does.
fn read_file(seed: &Seed, path: &Path) -> Result<LabelFile, segauge_io::Error> {
    let options = ReadOptions::default();
    segauge_io::read_label_file_on(path, &options, seed.series.as_deref(), reference(seed).as_ref())
}

fn outcome_of_file(file: &LabelFile) -> String {
    match file.layers().len() {
        1 => "volume".into(),
        n => format!("{n} layers"),
    }
}

/// Reads every seed; fails when all the seeds of a reader fail (its feature off in this build, or its fixtures
/// broken), since its mutants would then test one error only.
fn check_readers(out: &Path, seeds: &[Vec<Seed>]) -> Result<(), String> {
    for (reader, seeds) in Reader::ALL.iter().zip(seeds) {
        let mut first_error = None;
        for seed in seeds {
            let path = out.join(format!("seed.{}", seed.extension));
            let side = segauge_io::sidecar_path(&path);
            std::fs::write(&path, seed.file_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
            if let Some(bytes) = &seed.sidecar {
                std::fs::write(&side, bytes).map_err(|e| format!("{}: {e}", side.display()))?;
            }
            let result = read_file(seed, &path);
            let _ = std::fs::remove_file(&path);
            let _ = std::fs::remove_file(&side);
            match result {
                Ok(_) => {
                    first_error = None;
                    break;
                }
                Err(e) => {
                    first_error.get_or_insert(format!("seed {:?}: {e}", seed.name));
                }
            }
        }
        if let Some(e) = first_error {
            return Err(format!(
                "no seed of reader {} reads (is segauge-io built with its feature?); {e}",
                reader.name()
            ));
        }
    }
    Ok(())
}

/// Whether `out` holds kept inputs (`fail-*`, `crash-*`).
fn kept_inputs(out: &Path) -> bool {
    std::fs::read_dir(out).into_iter().flatten().flatten().any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        name.starts_with("fail-") || name.starts_with("crash-")
    })
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
    } else if rest.starts_with("segments ") && rest.contains(" overlap in ") {
        "overlapping segments".to_string()
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
    extension: &str,
    bytes: &[u8],
    sidecar: Option<&[u8]>,
    report: &str,
) -> std::io::Result<()> {
    std::fs::write(out.join(format!("{stem}.{extension}")), bytes)?;
    if let Some(s) = sidecar {
        std::fs::write(out.join(format!("{stem}.json")), s)?;
    }
    std::fs::write(out.join(format!("{stem}.txt")), report)
}
