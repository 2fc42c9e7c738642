//! Files reached without following a symbolic link, and files that must be files.
//!
//! A result directory is written and served through a [`Dir`], a handle on it opened once.
//! The guarantees, which hold whatever another process plants in the directory or swaps while
//! it is used:
//!
//! 1. The directory itself is opened by its path with `O_NOFOLLOW`: a result directory that is
//!    a link is refused ([`Refused`]). What is above it is the user's path, taken as given.
//! 2. Everything in it is reached from the handle one component at a time, each opened with
//!    `O_NOFOLLOW` relative to the one before (what `openat2`'s `RESOLVE_BENEATH |
//!    RESOLVE_NO_SYMLINKS` does in one call, on any Unix): a link at any component, there
//!    from the start or swapped in a microsecond before, makes the open fail; it is never
//!    followed. Names are plain components: no `..`, no root, nothing empty.
//! 3. Files are created exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW`) and directories with
//!    `mkdirat`, so a name that already exists (a link included) is never written through;
//!    renames and removals act on names in a directory handle (`renameat`, `unlinkat`), which
//!    replace or remove a link, never what it points to.
//! 4. A file opened to be read must be a regular file ([`open_regular`], [`Dir::open_file`]):
//!    a FIFO, a device, a socket or a directory is refused at once (it is opened
//!    non-blocking, so a FIFO without a writer cannot hold the open up, then checked).
//!
//! A refusal is an [`io::Error`] carrying [`Refused`] (see [`refusal`]): bad input, not a
//! failed run, and it names the path.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

/// Why a path was refused: it is a link, not a regular file, or owned by another user.
#[derive(Debug, thiserror::Error)]
#[error("{}: {why}", path.display())]
pub struct Refused {
    /// The path refused.
    pub path: PathBuf,
    /// Why, with a hint.
    pub why: String,
}

impl Refused {
    /// What is wrong (`is a FIFO …`), and the hint, if there is one.
    pub fn split(&self) -> (&str, Option<&str>) {
        match self.why.split_once("\n  hint: ") {
            Some((why, hint)) => (why, Some(hint)),
            None => (&self.why, None),
        }
    }
}

/// The [`Refused`] an error carries, if it is one.
pub fn refusal(e: &io::Error) -> Option<&Refused> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<Refused>())
}

fn refuse(path: &Path, why: impl Into<String>) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        Refused {
            path: path.to_path_buf(),
            why: why.into(),
        },
    )
}

/// The refusal of a link at `path`.
pub fn link_refused(path: &Path) -> io::Error {
    refuse(path, LINK)
}

/// What a link found in a result directory is told.
const LINK: &str = "is a symbolic link; microsim never reads or writes a result directory \
                    through a link\n  hint: remove the link (or choose another directory)";

/// A directory, opened once; what is in it is reached without following a link.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

impl Dir {
    /// Opens the directory at `path`, refusing a link there (the components above are the
    /// caller's path, followed as usual).
    pub fn open(path: &Path) -> io::Result<Dir> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(rustix::fs::CWD, path, flags, Mode::empty())
            .map_err(|e| explain(e, path, || is_link_at(rustix::fs::CWD, path)))?;
        Ok(Dir {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// Opens the directory at `path`, a path the user gave, following links as usual (for
    /// files that are not part of a result directory, such as a starter scenario).
    pub fn open_following(path: &Path) -> io::Result<Dir> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(rustix::fs::CWD, path, flags, Mode::empty()).map_err(|e| {
            let inner = io::Error::from(e);
            io::Error::new(inner.kind(), format!("{}: {inner}", path.display()))
        })?;
        Ok(Dir {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The user id that owns it.
    pub fn owner(&self) -> io::Result<u32> {
        Ok(rustix::fs::fstat(&self.fd)?.st_uid)
    }

    /// Refuses a directory that another user owns: a run never takes over someone else's
    /// directory (one they could plant links in, or read the process id from).
    pub fn check_owner(&self) -> io::Result<()> {
        let me = rustix::process::geteuid().as_raw();
        let owner = self.owner()?;
        if owner != me {
            return Err(refuse(
                &self.path,
                format!(
                    "is owned by another user (uid {owner}, this process runs as uid {me}); \
                     microsim writes results only into a directory of its own user\n  hint: \
                     choose a directory of your own"
                ),
            ));
        }
        Ok(())
    }

    /// The directory `rel` beneath this one (plain names only, no link at any component).
    pub fn dir(&self, rel: &Path) -> io::Result<Dir> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY;
        let fd = self.walk(rel, flags, Mode::empty())?;
        Ok(Dir {
            fd,
            path: self.path.join(rel),
        })
    }

    /// The directory `rel` beneath this one, created with its missing parents (each with
    /// `mkdirat`, then opened without following a link).
    pub fn create_dir_all(&self, rel: &Path) -> io::Result<Dir> {
        plain(rel, &self.path)?;
        let mut at = self.dup()?;
        for part in rel.components() {
            let name = part.as_os_str();
            match rustix::fs::mkdirat(&at.fd, name, Mode::from_raw_mode(0o777)) {
                Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                Err(e) => return Err(at.error(e, name)),
            }
            at = at.child_dir(name)?;
        }
        Ok(at)
    }

    /// A new file `name` in this directory, created exclusively (refused if anything is there
    /// already, a link included), open for reading and writing.
    pub fn create_new(&self, name: &OsStr) -> io::Result<File> {
        let flags =
            OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(0o666))
            .map_err(|e| self.error(e, name))?;
        Ok(File::from(fd))
    }

    /// The regular file `rel` beneath this one, open for reading (refused: a link at any
    /// component, anything but a regular file).
    pub fn open_file(&self, rel: &Path) -> io::Result<File> {
        let fd = self.walk(rel, OFlags::RDONLY | OFlags::NONBLOCK, Mode::empty())?;
        regular(File::from(fd), &self.path.join(rel))
    }

    /// Renames `from` to `to`, both names in this directory: `to` is replaced (a link there
    /// is replaced, never followed).
    pub fn rename(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
        rustix::fs::renameat(&self.fd, from, &self.fd, to).map_err(|e| self.error(e, to))
    }

    /// Removes the file (or link) `name` in this directory.
    pub fn remove_file(&self, name: &OsStr) -> io::Result<()> {
        rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()).map_err(|e| self.error(e, name))
    }

    /// The kind of `name` in this directory, without following it (`None`: nothing there).
    pub fn kind_of(&self, name: &OsStr) -> io::Result<Option<FileType>> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(FileType::from_raw_mode(st.st_mode as _))),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(self.error(e, name)),
        }
    }

    /// A second handle on the same directory.
    fn dup(&self) -> io::Result<Dir> {
        Ok(Dir {
            fd: self.fd.try_clone()?,
            path: self.path.clone(),
        })
    }

    /// The directory `name` (one component) in this one, not through a link.
    fn child_dir(&self, name: &OsStr) -> io::Result<Dir> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::empty())
            .map_err(|e| self.error(e, name))?;
        Ok(Dir {
            fd,
            path: self.path.join(name),
        })
    }

    /// Opens `rel` beneath this directory with `flags`, one component at a time, none of
    /// them through a link.
    fn walk(&self, rel: &Path, flags: OFlags, mode: Mode) -> io::Result<OwnedFd> {
        plain(rel, &self.path)?;
        let mut parts: Vec<&OsStr> = rel.components().map(|c| c.as_os_str()).collect();
        let last = parts.pop().expect("plain paths are not empty");
        let mut at = self.dup()?;
        for part in parts {
            at = at.child_dir(part)?;
        }
        rustix::fs::openat(
            &at.fd,
            last,
            flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            mode,
        )
        .map_err(|e| at.error(e, last))
    }

    /// An error of the system call on `name` in this directory, said as a refusal where a
    /// link is what stopped it.
    fn error(&self, e: rustix::io::Errno, name: &OsStr) -> io::Error {
        explain(e, &self.path.join(name), || is_link_at(&self.fd, name))
    }
}

/// `e` about `path`, as a refusal if `path` is a link (which `is_link` says).
fn explain(e: rustix::io::Errno, path: &Path, is_link: impl Fn() -> bool) -> io::Error {
    use rustix::io::Errno;
    let maybe_link = matches!(e, Errno::LOOP | Errno::NOTDIR | Errno::EXIST | Errno::MLINK);
    if maybe_link && is_link() {
        return refuse(path, LINK);
    }
    let inner = io::Error::from(e);
    io::Error::new(inner.kind(), format!("{}: {inner}", path.display()))
}

/// Whether `name` in the directory `dir` is a link.
fn is_link_at<Fd: AsFd>(dir: Fd, name: impl AsRef<Path>) -> bool {
    rustix::fs::statat(dir, name.as_ref(), AtFlags::SYMLINK_NOFOLLOW)
        .is_ok_and(|st| FileType::from_raw_mode(st.st_mode as _) == FileType::Symlink)
}

/// Refuses a path that is not plain names (no `..`, no root, not empty).
fn plain(rel: &Path, base: &Path) -> io::Result<()> {
    let ok = rel.components().next().is_some()
        && rel.components().all(|c| matches!(c, Component::Normal(_)));
    if ok {
        Ok(())
    } else {
        Err(refuse(
            &base.join(rel),
            "is not a plain name below the directory (no `..`, no root, not empty)",
        ))
    }
}

/// What kind of thing a non-regular file is, for messages.
fn kind_name(t: FileType) -> &'static str {
    match t {
        FileType::Directory => "a directory",
        FileType::Fifo => "a FIFO (named pipe)",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Socket => "a socket",
        FileType::Symlink => "a symbolic link",
        _ => "not a regular file",
    }
}

/// The refusal of `path`, which is a `kind`, not a regular file.
fn not_regular(path: &Path, kind: FileType) -> io::Error {
    refuse(
        path,
        format!(
            "is {}, not a regular file; microsim reads only regular files (which cannot \
             block it or go on without end)\n  hint: give the file itself",
            kind_name(kind)
        ),
    )
}

/// `file` (opened non-blocking from `path`) if it is a regular file, made blocking again;
/// refused otherwise.
fn regular(file: File, path: &Path) -> io::Result<File> {
    let st = rustix::fs::fstat(&file)?;
    let kind = FileType::from_raw_mode(st.st_mode as _);
    if kind != FileType::RegularFile {
        return Err(not_regular(path, kind));
    }
    let flags = rustix::fs::fcntl_getfl(&file)?;
    rustix::fs::fcntl_setfl(&file, flags - OFlags::NONBLOCK)?;
    Ok(file)
}

/// Opens the file at `path` (a path the user gave: links followed as usual) for reading,
/// refusing at once anything but a regular file: a FIFO, a device, a socket, a directory.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(rustix::fs::CWD, path, flags, Mode::empty()).map_err(|e| {
        // What cannot be opened at all may still say what it is (a socket: ENXIO).
        if let Ok(st) = rustix::fs::stat(path) {
            let kind = FileType::from_raw_mode(st.st_mode as _);
            if kind != FileType::RegularFile {
                return not_regular(path, kind);
            }
        }
        let inner = io::Error::from(e);
        io::Error::new(inner.kind(), format!("{}: {inner}", path.display()))
    })?;
    regular(File::from(fd), path)
}

/// Reads the regular file at `path` whole, refusing one longer than `limit` bytes before
/// reading more than that (a file that grows while it is read included).
pub fn read_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    read_up_to(file, path, limit)
}

/// Reads `file` (of `path`) whole, refusing it past `limit` bytes.
pub fn read_up_to(file: File, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let size = file.metadata()?.len();
    let too_long = |size: u64| {
        refuse(
            path,
            format!("is {size} bytes long, more than the {limit} bytes such a file may have"),
        )
    };
    if size > limit {
        return Err(too_long(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_long(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Whether the entry `name` of `dir` (a path) is a symbolic link, without following it.
pub fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_are_never_followed_beneath_the_handle() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("run");
        let victim = tmp.path().join("victim");
        std::fs::create_dir_all(root.join("histograms")).unwrap();
        std::fs::create_dir_all(&victim).unwrap();
        std::fs::write(victim.join("secret"), "s").unwrap();
        symlink(&victim, root.join("plots")).unwrap();
        symlink(victim.join("secret"), root.join("report.html")).unwrap();
        let dir = Dir::open(&root).unwrap();
        for rel in [
            "plots/secret",
            "report.html",
            "../victim/secret",
            "/etc/passwd",
            "",
        ] {
            let e = dir.open_file(Path::new(rel)).unwrap_err();
            assert!(refusal(&e).is_some(), "{rel}: {e}");
        }
        assert!(refusal(&dir.create_dir_all(Path::new("plots")).unwrap_err()).is_some());
        let e = dir.create_new(OsStr::new("report.html")).unwrap_err();
        assert!(refusal(&e).is_some(), "{e}");
        assert_eq!(std::fs::read_to_string(victim.join("secret")).unwrap(), "s");
        // A link as the directory itself.
        let e = Dir::open(&root.join("plots")).unwrap_err();
        assert!(refusal(&e).unwrap().why.contains("symbolic link"), "{e}");
        // What is plain is there.
        let mut f = dir
            .create_dir_all(Path::new("histograms/deep"))
            .unwrap()
            .create_new(OsStr::new("x"))
            .unwrap();
        f.write_all(b"ok").unwrap();
        let mut text = String::new();
        dir.open_file(Path::new("histograms/deep/x"))
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "ok");
    }

    #[test]
    fn only_regular_files_are_read() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        for (path, says) in [
            (fifo.as_path(), "FIFO"),
            (Path::new("/dev/zero"), "character device"),
            (tmp.path(), "directory"),
        ] {
            let e = open_regular(path).unwrap_err();
            let r = refusal(&e).unwrap_or_else(|| panic!("{e}"));
            assert!(r.why.contains(says), "{e}");
        }
        let file = tmp.path().join("f");
        std::fs::write(&file, "0123456789").unwrap();
        assert_eq!(read_bounded(&file, 10).unwrap().len(), 10);
        assert!(refusal(&read_bounded(&file, 9).unwrap_err()).is_some());
    }
}
