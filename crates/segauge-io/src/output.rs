//! Output files, written so that nothing is lost: an output never replaces or lands among the inputs
//! ([`check_outputs`], run before any work), and it is written whole or not at all ([`write_atomically`]).
//!
//! # Resolution
//! Paths are compared after resolution: relative paths against the working directory, `..` and symbolic links
//! (of the folders and of the file itself, followed to their end) by the operating system, and on Unix hard
//! links by device and inode when the output already exists. An output is refused when it resolves to an input
//! file, to any path inside an input folder (a data-set folder or a DICOM series folder: a file written there
//! would be read as an input by the next run), when two outputs resolve to the same file, and when its folder
//! does not exist or cannot be written (found before hours of work, not after).
//!
//! # Atomic writes
//! The bytes go to a temporary file in the target's own folder (so that the final rename stays on one file
//! system), which is flushed and synced, then renamed over the target (a symbolic link is followed: its target
//! is replaced, the link stays). On any error the temporary file is removed and an existing target is left as it
//! was. A new file gets the permissions `0o666` less the umask, as `File::create` would give it; a replaced file
//! keeps its permissions.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::Error;

/// An input of a run: a file, or a folder every path inside which is an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// An input file (a segmentation, a metadata CSV, a reference volume).
    File(&'a Path),
    /// An input folder (predictions, ground truths, an image series): nothing may be written inside it.
    Folder(&'a Path),
}

impl Input<'_> {
    fn path(&self) -> &Path {
        match self {
            Input::File(p) | Input::Folder(p) => p,
        }
    }
}

/// Refuses outputs that would overwrite an input, land inside an input folder, collide with each other, or
/// cannot be created; call it before any work.
///
/// `outputs` are `(what, path)`, where `what` names the output in messages (a command-line flag, say). Inputs
/// that do not exist are skipped (reading them reports the problem).
///
/// ```
/// use segauge_io::{Input, check_outputs};
/// # let dir = tempfile::tempdir()?;
/// let gt = dir.path().join("gt");
/// std::fs::create_dir(&gt)?;
/// let inputs = [Input::Folder(&gt)];
/// assert!(check_outputs(&[("--csv", &dir.path().join("cases.csv"))], &inputs).is_ok());
/// let err = check_outputs(&[("--csv", &gt.join("cases.csv"))], &inputs).unwrap_err();
/// assert!(err.to_string().contains("inside the input folder"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::OutputIsInput`] naming the output and the input, [`Error::SameOutput`] naming both outputs,
/// [`Error::OutputUnusable`] when the output's folder is missing or not writable, or the output is a folder.
pub fn check_outputs(outputs: &[(&str, &Path)], inputs: &[Input<'_>]) -> Result<(), Error> {
    let inputs: Vec<(Input<'_>, PathBuf)> =
        inputs.iter().filter_map(|i| std::fs::canonicalize(i.path()).ok().map(|c| (*i, c))).collect();
    let mut seen: Vec<(&str, &Path, PathBuf)> = Vec::new();
    for &(what, path) in outputs {
        let unusable = |detail: String| Error::OutputUnusable {
            what: what.to_string(),
            path: path.to_path_buf(),
            detail,
        };
        let target = resolve(path).map_err(|e| unusable(e.to_string()))?;
        if target.is_dir() {
            return Err(unusable("it is a folder".into()));
        }
        for (input, canonical) in &inputs {
            let relation = match input {
                Input::File(_) if target == *canonical || same_file(&target, canonical) => "over the input",
                Input::Folder(_) if target.starts_with(canonical) => "inside the input folder",
                Input::Folder(_) if linked_inside(&target, canonical) => {
                    "over a hard link into the input folder"
                }
                _ => continue,
            };
            return Err(Error::OutputIsInput {
                what: what.to_string(),
                output: path.to_path_buf(),
                input: input.path().to_path_buf(),
                relation,
            });
        }
        if let Some((other, other_path, _)) =
            seen.iter().find(|(_, _, t)| *t == target || same_file(t, &target))
        {
            return Err(Error::SameOutput {
                a: format!("{other} {}", other_path.display()),
                b: format!("{what} {}", path.display()),
            });
        }
        // The folder must take a new file now, not after the run.
        let folder = target.parent().unwrap_or(Path::new("/"));
        tempfile::Builder::new()
            .prefix(".segauge-check-")
            .tempfile_in(folder)
            .map_err(|e| unusable(format!("cannot create a file in {}: {e}", folder.display())))?;
        seen.push((what, path, target));
    }
    Ok(())
}

/// Writes a file whole or not at all: `write` fills a temporary file in the target's folder, which is synced
/// and renamed over `path` only when `write` succeeded.
///
/// ```
/// use std::io::Write;
/// # let dir = tempfile::tempdir()?;
/// let path = dir.path().join("out.txt");
/// segauge_io::write_atomically(&path, |w| w.write_all(b"done\n").map_err(|e| segauge_io::Error::Write {
///     path: path.clone(),
///     source: e,
/// }))?;
/// assert_eq!(std::fs::read_to_string(&path)?, "done\n");
/// // A failing writer leaves the file as it was, and no temporary file behind.
/// let failed = segauge_io::write_atomically(&path, |w| {
///     w.write_all(b"half").and_then(|_| Err(std::io::Error::other("disk full")))
///         .map_err(|e| segauge_io::Error::Write { path: path.clone(), source: e })
/// });
/// assert!(failed.is_err());
/// assert_eq!(std::fs::read_to_string(&path)?, "done\n");
/// assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// The error of `write`, or [`Error::Write`] naming `path` when the temporary file cannot be created, written,
/// synced or renamed.
pub fn write_atomically<E: From<Error>>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), E> {
    let io = |source| Error::Write { path: path.to_path_buf(), source };
    let target = resolve(path).map_err(io)?;
    let folder = target.parent().unwrap_or(Path::new("/"));
    let name = target.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".part");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder.tempfile_in(folder).map_err(io)?;
    if let Ok(meta) = std::fs::metadata(&target) {
        tmp.as_file().set_permissions(meta.permissions()).map_err(io)?;
    }
    let mut out = BufWriter::with_capacity(1 << 16, tmp);
    write(&mut out)?;
    let tmp = out.into_inner().map_err(|e| io(e.into_error()))?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(&target).map_err(|e| io(e.error))?;
    // Make the rename itself durable; a folder that cannot be opened or synced (some platforms) is not an error.
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// The absolute path a write to `path` lands on: symbolic links of the file followed to their end (a dangling
/// link resolves to where it points), the folder canonicalised.
fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = std::path::absolute(path)?;
    // As the kernel's limit on nested links.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(parent) if to.is_relative() => parent.join(to),
                    _ => to,
                };
            }
            _ => break,
        }
    }
    match (p.parent(), p.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = std::fs::canonicalize(parent).map_err(|e| {
                std::io::Error::new(e.kind(), format!("its folder {} cannot be used: {e}", parent.display()))
            })?;
            Ok(parent.join(name))
        }
        // `/`, or a path ending in `..`: a folder.
        _ => std::fs::canonicalize(&p),
    }
}

/// Whether two existing paths are one file (hard links included).
#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &Path, _: &Path) -> bool {
    false
}

/// Whether an existing output with several hard links is one of the files under `folder` (searched only then).
#[cfg(unix)]
fn linked_inside(target: &Path, folder: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(target) else { return false };
    if meta.nlink() < 2 {
        return false;
    }
    let mut stack = vec![folder.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(m) = entry.metadata() else { continue };
            if m.is_dir() {
                stack.push(entry.path());
            } else if m.dev() == meta.dev() && m.ino() == meta.ino() {
                return true;
            }
        }
    }
    false
}

#[cfg(not(unix))]
fn linked_inside(_: &Path, _: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_follows_links_and_dot_dot() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("gt")).unwrap();
        std::fs::write(root.join("gt/a.nii"), b"x").unwrap();
        assert_eq!(resolve(&root.join("gt/../gt/a.nii")).unwrap(), root.join("gt/a.nii"));
        assert_eq!(resolve(&root.join("gt/new.csv")).unwrap(), root.join("gt/new.csv"));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("gt/a.nii"), root.join("link")).unwrap();
            std::os::unix::fs::symlink("gt/missing.csv", root.join("dangling")).unwrap();
            std::os::unix::fs::symlink("gt", root.join("gtlink")).unwrap();
            assert_eq!(resolve(&root.join("link")).unwrap(), root.join("gt/a.nii"));
            assert_eq!(resolve(&root.join("dangling")).unwrap(), root.join("gt/missing.csv"));
            assert_eq!(resolve(&root.join("gtlink/x.csv")).unwrap(), root.join("gt/x.csv"));
        }
        assert!(resolve(&root.join("nowhere/x.csv")).is_err());
    }
}
