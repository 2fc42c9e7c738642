//! Claiming a result directory, and writing into it from a handle: a run takes a directory
//! only when it is new or empty (or `--force`), never one that is a link, holds a link or
//! belongs to another user; every file and folder is then created from a handle on it
//! ([`crate::experiment::safe_fs`]). Temporary files of killed runs are cleaned up here too.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::atomic::PARTIAL;
use super::{AtomicFile, now_rfc3339};
use crate::experiment::results::{FileRecord, ResultDir};
use crate::experiment::safe_fs::{self, Dir};

/// The process id in the name of a temporary file `.NAME.PID.partial`, if `name` is one.
pub fn partial_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(PARTIAL)?;
    let (_, pid) = rest.rsplit_once('.')?;
    (!pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        .then(|| pid.parse().ok())
        .flatten()
}

/// Whether process `pid` is alive, where the OS can say (Linux: `/proc/PID` exists); `None`
/// where it cannot.
fn process_alive(pid: u32) -> Option<bool> {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return None;
    }
    Some(pid == std::process::id() || proc.join(pid.to_string()).exists())
}

/// Removes the temporary files (`.NAME.PID.partial`) that killed runs left in the result
/// directory `dir`: in it, in its `histograms/`, `plots/` and `checkpoints/`, and in those of each sweep
/// variant (`variants/NNN/`), where a run writes. Only files whose process is gone are
/// removed: a file of a live process (another run writing there now) is kept, and so is every
/// file where the OS cannot tell whether its process lives. Nothing is touched in a directory
/// that does not look like a result directory (none of `INCOMPLETE`, `summary.json`,
/// `replications.csv`, `steps.csv`, `histograms/`, `variants/` is there), so a `--out` that
/// names some other directory never loses a file. Directories are reached and files removed
/// through directory handles, never through a link. Returns how many were removed; errors (a
/// directory that cannot be read, a file that cannot be removed) are ignored.
pub fn remove_stale_partials(dir: &Path) -> usize {
    fn clean(dir: &Dir, variants: bool, removed: &mut usize) {
        let Ok(entries) = fs::read_dir(dir.path()) else {
            return;
        };
        for e in entries.flatten() {
            let Ok(kind) = e.file_type() else { continue };
            let name = e.file_name();
            let text = name.to_string_lossy();
            if kind.is_file() {
                if let Some(pid) = partial_pid(&text)
                    && process_alive(pid) == Some(false)
                    && dir.remove_file(&name).is_ok()
                {
                    *removed += 1;
                }
            } else if kind.is_dir() {
                let Ok(sub) = dir.dir(Path::new(&name)) else {
                    continue;
                };
                if text == ResultDir::HISTOGRAMS
                    || text == ResultDir::PLOTS
                    || text == crate::experiment::checkpoint::DIR
                {
                    clean(&sub, false, removed);
                } else if variants && text == ResultDir::VARIANTS {
                    for v in fs::read_dir(sub.path()).into_iter().flatten().flatten() {
                        if v.file_type().is_ok_and(|k| k.is_dir())
                            && let Ok(vdir) = sub.dir(Path::new(&v.file_name()))
                        {
                            clean(&vdir, false, removed);
                        }
                    }
                }
            }
        }
    }
    let ours = [
        ResultDir::INCOMPLETE,
        ResultDir::SUMMARY,
        ResultDir::REPLICATIONS,
        ResultDir::STEPS,
        ResultDir::HISTOGRAMS,
        ResultDir::VARIANTS,
    ];
    if !ours.iter().any(|f| dir.join(f).exists()) {
        return 0;
    }
    let Ok(handle) = Dir::open(dir) else {
        return 0;
    };
    let mut removed = 0;
    clean(&handle, true, &mut removed);
    removed
}

/// How a run may take its result directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Taking {
    /// The default directory (`outputs/NAME`, a resumed run's `DIR-2`): if it holds a result,
    /// the next free `-2`, `-3`, … is taken instead.
    Numbered,
    /// A directory the user named (`--out`, `[output] dir`): refused if it holds a result.
    Named,
    /// `--force`: taken whatever it holds.
    Forced,
}

/// Claims the result directory `base` as `how` says, so an earlier result is never silently
/// overwritten.
///
/// The claim is atomic, so two runs started together never share a directory: a new
/// directory is created exclusively (`create_dir`), and the claim itself is the `INCOMPLETE`
/// marker created exclusively inside it (which also lets an existing empty directory be
/// claimed by exactly one run). The returned directory exists and holds the marker, which
/// the run removes once its results are complete. Refused ([`crate::experiment::safe_fs::Refused`],
/// bad input): a directory that is a link, that holds a link (what would be written through
/// it), or that another user owns; a named one that holds a result. Temporary files left by
/// killed runs are removed from every directory looked at.
pub fn choose_dir(base: &Path, how: Taking) -> io::Result<PathBuf> {
    claim_dir(base, how).map(|c| c.dir)
}

/// A directory claimed by [`claim_dir`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    /// The directory.
    pub dir: PathBuf,
    /// Whether this process created it (rather than took an existing one): a run that fails
    /// before it writes anything may remove it again.
    pub created: bool,
}

/// [`choose_dir`], saying whether the directory was created.
pub fn claim_dir(base: &Path, how: Taking) -> io::Result<Claimed> {
    if let Some(parent) = base.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    if let Some(created) = claim(base, how)? {
        return Ok(Claimed {
            dir: base.to_path_buf(),
            created,
        });
    }
    if how == Taking::Named {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            safe_fs::Refused {
                path: base.to_path_buf(),
                why: "holds an earlier result, which a run never overwrites unasked\n  hint: \
                      pass --force to write over it, or choose another directory"
                    .into(),
            },
        ));
    }
    let name = base
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    for i in 2.. {
        let candidate = base.with_file_name(format!("{name}-{i}"));
        if let Some(created) = claim(&candidate, how)? {
            return Ok(Claimed {
                dir: candidate,
                created,
            });
        }
    }
    unreachable!("some numbered directory is free")
}

/// Tries to claim `dir` for a run (see [`choose_dir`]): whether this process now owns it
/// (`Some`), and if so whether it created it.
fn claim(dir: &Path, how: Taking) -> io::Result<Option<bool>> {
    let created = match fs::create_dir(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if !safe_fs::is_link(dir) && !dir.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a directory", dir.display()),
                ));
            }
            false
        }
        Err(e) => return Err(e),
    };
    let handle = Dir::open(dir)?;
    handle.check_owner()?;
    if !created {
        refuse_links(&handle, 0)?;
        remove_stale_partials(dir);
        if how != Taking::Forced && fs::read_dir(dir)?.next().is_some() {
            return Ok(None);
        }
    }
    let marker = OsStr::new(ResultDir::INCOMPLETE);
    if how == Taking::Forced && handle.kind_of(marker)?.is_some() {
        handle.remove_file(marker)?;
    }
    match handle.create_new(marker) {
        Ok(mut f) => {
            f.write_all(marker_text().as_bytes())?;
            Ok(Some(created))
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(e),
    }
}

/// The deepest a result directory goes below its root (`variants/003/histograms/x.hlog`).
const DEPTH: usize = 3;

/// Refuses `dir` if anything in it, down to [`DEPTH`], is a link: what a run would write
/// through. (Each write refuses a link on its own as well; this says so before anything runs.)
fn refuse_links(dir: &Dir, depth: usize) -> io::Result<()> {
    for e in fs::read_dir(dir.path())?.flatten() {
        let name = e.file_name();
        match dir.kind_of(&name)? {
            Some(rustix::fs::FileType::Symlink) => {
                return Err(safe_fs::link_refused(&dir.path().join(&name)));
            }
            Some(rustix::fs::FileType::Directory) if depth < DEPTH => {
                refuse_links(&dir.dir(Path::new(&name))?, depth + 1)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The longest name of one file or directory that file systems take (`NAME_MAX`).
pub const MAX_NAME_BYTES: usize = 255;

/// Why `dir` cannot be a result directory, judged from the file system as it is now: a
/// component longer than [`MAX_NAME_BYTES`], an existing file (or a path inside one), a
/// directory on a pseudo file system (`/proc`, `/sys`, …, which holds no files). `None` if it
/// may be one.
pub fn unusable_dir(dir: &Path) -> Option<String> {
    if dir.as_os_str().is_empty() {
        return Some("is empty: results would land in the current directory".into());
    }
    for part in dir.components() {
        let len = part.as_os_str().len();
        if len > MAX_NAME_BYTES {
            let shown: String = part
                .as_os_str()
                .to_string_lossy()
                .chars()
                .take(20)
                .collect();
            return Some(format!(
                "its name `{shown}…` is {len} bytes long, more than the {MAX_NAME_BYTES} a file \
                 name may have"
            ));
        }
    }
    for at in dir.ancestors() {
        let at = if at.as_os_str().is_empty() {
            Path::new(".")
        } else {
            at
        };
        match fs::metadata(at) {
            Ok(m) if m.is_dir() => return pseudo_fs(at),
            Ok(_) if at == dir => return Some("exists and is not a directory".into()),
            Ok(_) => return Some(format!("{:?} is not a directory", at.display().to_string())),
            // Missing (it will be created), or inside something that is not a directory
            // (found at the next step up).
            Err(_) => continue,
        }
    }
    None
}

/// Why the directory `at` is on a file system that holds no results, if it is.
fn pseudo_fs(at: &Path) -> Option<String> {
    let kinds: [(i64, &str); 8] = [
        (0x9fa0, "proc"),
        (0x6265_6572, "sysfs"),
        (0x1cd1, "devpts"),
        (0x2762_3ebe, "cgroup"),
        (0x6367_7270, "cgroup2"),
        (0x6462_6720, "debugfs"),
        (0x7363_6673, "securityfs"),
        (0x7472_6163, "tracefs"),
    ];
    let kind = rustix::fs::statfs(at).ok()?.f_type as i64;
    kinds.iter().find(|(k, _)| *k == kind).map(|(_, name)| {
        format!(
            "{} is on the {name} pseudo file system, which holds no result files",
            at.display()
        )
    })
}

/// What the `INCOMPLETE` marker says.
fn marker_text() -> String {
    format!(
        "microsim {} (process {}) started writing this result directory at {}.\n\
         While this file is here the results are not complete: the run is still going, or it \
         did not finish (killed, out of disk space).\n",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        now_rfc3339()
    )
}

/// Writing into a result directory: every file and folder created from a handle on it,
/// never through a link ([`crate::experiment::safe_fs`]).
impl ResultDir {
    /// A handle on this directory, reached from its anchor without following a link.
    pub fn handle(&self) -> io::Result<Dir> {
        let (anchor, below) = self.anchored();
        let dir = Dir::open(anchor)?;
        if below.as_os_str().is_empty() {
            Ok(dir)
        } else {
            dir.dir(below)
        }
    }

    /// Creates this directory (its anchor with its parents, as a caller's path; below it from
    /// a handle) and its `histograms/`.
    pub fn create_dirs(&self) -> io::Result<()> {
        let (anchor, below) = self.anchored();
        if !safe_fs::is_link(anchor) {
            fs::create_dir_all(anchor)?;
        }
        let dir = Dir::open(anchor)?;
        let dir = if below.as_os_str().is_empty() {
            dir
        } else {
            dir.create_dir_all(below)?
        };
        dir.create_dir_all(Path::new(ResultDir::HISTOGRAMS))?;
        Ok(())
    }

    /// Starts writing the file `rel` (`summary.json`, `histograms/points.hlog`) atomically;
    /// its folder must exist.
    pub fn create_file(&self, rel: &str) -> io::Result<AtomicFile> {
        let rel = Path::new(rel);
        let name = rel.file_name().expect("file names are plain");
        let dir = match rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) => self.handle()?.dir(parent)?,
            None => self.handle()?,
        };
        AtomicFile::create_in(dir, name)
    }

    /// Writes `bytes` as the file `rel`, atomically; returns its length and SHA-256.
    pub fn write_file(&self, rel: &str, bytes: &[u8]) -> io::Result<FileRecord> {
        let mut f = self.create_file(rel)?;
        f.write_all(bytes)?;
        f.commit()
    }

    /// Writes `value` as pretty JSON (as [`write_json`](super::write_json)) to the file `rel`; returns its
    /// SHA-256.
    pub fn write_json<T: serde::Serialize>(&self, rel: &str, value: &T) -> io::Result<FileRecord> {
        let text = serde_json::to_string_pretty(value).map_err(io::Error::other)? + "\n";
        self.write_file(rel, text.as_bytes())
    }

    /// Marks the directory incomplete: writes its `INCOMPLETE` marker (first, before any
    /// result file), in place of a marker already there.
    pub fn mark_incomplete(&self) -> io::Result<()> {
        let dir = self.handle()?;
        let marker = OsStr::new(ResultDir::INCOMPLETE);
        match dir.kind_of(marker)? {
            Some(rustix::fs::FileType::RegularFile) => dir.remove_file(marker)?,
            Some(rustix::fs::FileType::Symlink) => {
                return Err(safe_fs::link_refused(&dir.path().join(marker)));
            }
            _ => {}
        }
        dir.create_new(marker)?.write_all(marker_text().as_bytes())
    }

    /// Marks the directory complete: removes its `INCOMPLETE` marker (last, after
    /// `summary.json`).
    pub fn mark_complete(&self) -> io::Result<()> {
        match self
            .handle()?
            .remove_file(OsStr::new(ResultDir::INCOMPLETE))
        {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_result_is_not_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("run");
        assert_eq!(choose_dir(&base, Taking::Numbered).unwrap(), base);
        fs::write(base.join("summary.json"), "{}").unwrap();
        assert_eq!(
            choose_dir(&base, Taking::Numbered).unwrap(),
            tmp.path().join("run-2")
        );
        assert_eq!(choose_dir(&base, Taking::Forced).unwrap(), base);
    }

    #[test]
    fn a_claimed_directory_is_never_claimed_again() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("deep/er/run");
        // The parents are created; the claim leaves the marker, so a claimed directory is
        // never free again, even before anything else is written in it.
        assert_eq!(choose_dir(&base, Taking::Numbered).unwrap(), base);
        assert!(base.join(ResultDir::INCOMPLETE).is_file());
        assert_eq!(
            choose_dir(&base, Taking::Numbered).unwrap(),
            base.with_file_name("run-2")
        );
        // An existing empty directory is claimed as before.
        let empty = tmp.path().join("empty");
        fs::create_dir(&empty).unwrap();
        assert_eq!(choose_dir(&empty, Taking::Numbered).unwrap(), empty);
        // A file in the way is an error, not something to write next to.
        let file = tmp.path().join("file");
        fs::write(&file, "x").unwrap();
        assert!(choose_dir(&file, Taking::Numbered).is_err());
        // --force reuses a directory and marks it incomplete until the run completes.
        ResultDir::new(&base).mark_complete().unwrap();
        assert_eq!(choose_dir(&base, Taking::Forced).unwrap(), base);
        assert!(base.join(ResultDir::INCOMPLETE).is_file());
    }

    #[test]
    fn runs_claiming_at_once_get_a_directory_each() {
        for _ in 0..20 {
            let tmp = tempfile::tempdir().unwrap();
            let base = tmp.path().join("run");
            let barrier = std::sync::Barrier::new(8);
            let mut dirs: Vec<PathBuf> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            choose_dir(&base, Taking::Numbered).unwrap()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            dirs.sort();
            dirs.dedup();
            assert_eq!(dirs.len(), 8, "{dirs:?}");
        }
    }

    #[test]
    fn temporary_names_carry_the_process_id() {
        assert_eq!(partial_pid(".steps.csv.1234.partial"), Some(1234));
        assert_eq!(partial_pid(".x.77.partial"), Some(77));
        for not in [
            "steps.csv.1234.partial",
            ".steps.csv.partial",
            ".steps.csv.12a.partial",
            ".steps.csv.1234",
            "..partial",
            ".steps.csv..partial",
        ] {
            assert_eq!(partial_pid(not), None, "{not}");
        }
    }

    #[test]
    fn stale_temporary_files_are_removed_and_live_ones_kept() {
        if process_alive(1).is_none() {
            return; // no /proc: nothing is ever removed
        }
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("variants/000/histograms");
        fs::create_dir_all(&deep).unwrap();
        fs::create_dir_all(tmp.path().join("plots")).unwrap();
        // No process has an id this large (Linux caps them at 2^22).
        let dead = [
            tmp.path().join(".replications.csv.999999999.partial"),
            tmp.path().join("plots/.cdf_x.png.999999999.partial"),
            deep.join(".points.hlog.999999999.partial"),
        ];
        let live = [
            tmp.path()
                .join(format!(".steps.csv.{}.partial", std::process::id())),
            tmp.path().join(".details.json.1.partial"),
        ];
        let other = [
            tmp.path().join("summary.json"),
            tmp.path().join(".hidden.999999999.txt"),
        ];
        for f in dead.iter().chain(&live).chain(&other) {
            fs::write(f, "x").unwrap();
        }
        assert_eq!(remove_stale_partials(tmp.path()), 3);
        assert!(dead.iter().all(|f| !f.exists()));
        assert!(live.iter().chain(&other).all(|f| f.exists()));

        // A directory that is not a result directory is left alone.
        let elsewhere = tempfile::tempdir().unwrap();
        let theirs = elsewhere.path().join(".download.999999999.partial");
        fs::write(&theirs, "x").unwrap();
        assert_eq!(remove_stale_partials(elsewhere.path()), 0);
        assert!(theirs.exists());
    }
}
