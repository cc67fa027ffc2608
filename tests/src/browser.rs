//! Headless Chromium for the report tests: render an HTML file, dump its DOM, take a screenshot, and pick the
//! console lines out of the browser's log. The flags suit a root user on a closed network (`--no-sandbox`,
//! `--disable-background-networking`, a fresh `--user-data-dir`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `id` of every section of segauge's HTML report, in page order for one model (the last two only with
/// several models, where they come first).
pub const REPORT_SECTIONS: [&str; 10] = [
    "overview",
    "settings",
    "summary",
    "distributions",
    "subgroups",
    "detection",
    "worst-cases",
    "failures",
    "comparison",
    "ranking",
];

/// The first of `chromium`, `chromium-browser` on PATH.
pub fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

/// Runs one headless Chromium with `args` and the page, in a fresh profile; returns (stdout, stderr).
fn run_chromium(binary: &Path, page: &Path, args: &[String]) -> Result<(String, String), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let file = |p: &Path| std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut child = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(file(&out)?)
        .stderr(file(&err)?)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break status,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{} timed out", binary.display()));
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let (stdout, stderr) = (read(&out)?, read(&err)?);
    if !status.success() {
        return Err(format!("{} failed ({status}): {stderr}", binary.display()));
    }
    Ok((stdout, stderr))
}

/// Renders an HTML file in headless Chromium: the serialised DOM after load, the browser's stderr (both runs)
/// and a 1280 × 4000 PNG screenshot. Fails when no `chromium`/`chromium-browser` is on PATH.
pub fn render_in_chromium(html_path: &Path) -> Result<(String, String, Vec<u8>), String> {
    let binary = chromium().ok_or("no chromium or chromium-browser on PATH")?;
    let html_path = html_path.canonicalize().map_err(|e| format!("{}: {e}", html_path.display()))?;
    let shots = tempfile::tempdir().map_err(|e| e.to_string())?;
    let shot = shots.path().join("shot.png");
    let (_, stderr_shot) = run_chromium(
        &binary,
        &html_path,
        &[format!("--screenshot={}", shot.display()), "--window-size=1280,4000".to_string()],
    )?;
    let (dom, stderr_dom) = run_chromium(&binary, &html_path, &["--dump-dom".to_string()])?;
    let png = std::fs::read(&shot).map_err(|e| format!("no screenshot {}: {e}", shot.display()))?;
    Ok((dom, format!("{stderr_shot}{stderr_dom}"), png))
}

/// Console messages in Chromium's log: `[pid:tid:time:INFO:CONSOLE:line] "message", source: …` (older
/// versions: `INFO:CONSOLE(line)`), and uncaught exceptions. The report has no script, so any of them is an
/// error (a blocked resource, a CSP violation).
pub fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_lines_are_recognised() {
        let log = "[1:2:1127/083242.3:ERROR:dbus/bus.cc:405] Failed to connect to the bus\n\
                   [1:1:1127/083242.6:INFO:CONSOLE:1] \"boom\", source: file:///t.html (1)\n\
                   [1:1:1127/083242.6:INFO:CONSOLE(3)] \"Uncaught ReferenceError: f is not defined\", source: x \
                   (3)";
        assert_eq!(console_lines(log).len(), 2);
    }
}
