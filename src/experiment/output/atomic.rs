//! Files written whole or not at all: under a temporary name (`.NAME.PID.partial`) in one
//! directory handle, renamed into place when complete (see the [`super`] module docs).

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use serde_json::Value;

use crate::experiment::results::FileRecord;
use crate::experiment::safe_fs::Dir;

/// A file being written under a temporary name (`.NAME.PID.partial`), renamed into place by
/// [`AtomicFile::commit`]. Both names are in one directory handle ([`Dir`]): the temporary
/// file is created exclusively and without following a link, and the rename replaces whatever
/// is at the name (a link included) rather than writing through it. Dropped without a commit
/// (an error on the way), the temporary file is removed. What is written is hashed as it goes
/// (SHA-256), and [`AtomicFile::commit`] returns the hash: what `summary.json` records.
pub struct AtomicFile {
    dir: Dir,
    tmp: OsString,
    dest: OsString,
    out: BufWriter<File>,
    hash: Sha256,
    bytes: u64,
    committed: bool,
}

/// The suffix of a temporary file.
pub(crate) const PARTIAL: &str = ".partial";

impl AtomicFile {
    /// Starts writing `dest`, a file of a result directory: its directory is opened by its
    /// path (refused if it is a link), the file in it as [`AtomicFile::create_in`] does.
    pub fn create(dest: &Path) -> io::Result<Self> {
        Self::create_with(dest, Dir::open)
    }

    /// Starts writing `dest`, a file the user named outside any result directory (a starter
    /// scenario): its directory is the user's path, links followed; the file is created as
    /// [`AtomicFile::create_in`] does.
    pub fn create_following(dest: &Path) -> io::Result<Self> {
        Self::create_with(dest, Dir::open_following)
    }

    fn create_with(dest: &Path, open: fn(&Path) -> io::Result<Dir>) -> io::Result<Self> {
        let parent = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = dest.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: not a file name", dest.display()),
            )
        })?;
        Self::create_in(open(parent)?, name)
    }

    /// Starts writing `name` in the directory `dir`.
    pub fn create_in(dir: Dir, name: &OsStr) -> io::Result<Self> {
        let mut tmp = OsString::from(".");
        tmp.push(name);
        tmp.push(format!(".{}{PARTIAL}", std::process::id()));
        let file = dir.create_new(&tmp)?;
        Ok(AtomicFile {
            dir,
            tmp,
            dest: name.to_os_string(),
            out: BufWriter::new(file),
            hash: Sha256::new(),
            bytes: 0,
            committed: false,
        })
    }

    /// Everything written so far (flushed to the temporary file and read back from it).
    pub fn written(&mut self) -> io::Result<Vec<u8>> {
        self.out.flush()?;
        self.flushed()
    }

    /// What the temporary file holds (what was written up to the last flush).
    pub fn flushed(&self) -> io::Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let file = self.out.get_ref();
        let mut bytes = vec![0; file.metadata()?.len() as usize];
        file.read_exact_at(&mut bytes, 0)?;
        Ok(bytes)
    }

    /// Flushes, syncs and renames the file into place; returns its length and SHA-256.
    pub fn commit(mut self) -> io::Result<FileRecord> {
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        self.dir.rename(&self.tmp, &self.dest)?;
        self.committed = true;
        Ok(FileRecord {
            bytes: self.bytes,
            sha256: hex(&std::mem::take(&mut self.hash).finalize()),
        })
    }
}

/// Bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = self.dir.remove_file(&self.tmp);
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes `bytes` to `dest` atomically.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(dest)?;
    f.write_all(bytes)?;
    f.commit().map(drop)
}

/// A JSON array written one element at a time, to exactly the bytes that
/// `serde_json::to_string_pretty` of the whole array (plus a final newline) would give: what
/// lets `details.json` stream instead of being held in memory until the end.
pub struct JsonArrayWriter {
    out: AtomicFile,
    len: u64,
}

impl JsonArrayWriter {
    /// Starts writing the array into `out` (atomically: it appears when finished).
    pub fn create(out: AtomicFile) -> Self {
        JsonArrayWriter { out, len: 0 }
    }

    /// Appends `value`.
    pub fn push(&mut self, value: &Value) -> io::Result<()> {
        let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
        self.out
            .write_all(if self.len == 0 { b"[\n  " } else { b",\n  " })?;
        // One level deeper: every line of the element gets two more spaces. Strings hold no
        // raw newline (JSON escapes it), so every newline in `text` is a line break.
        let mut lines = text.split('\n');
        if let Some(first) = lines.next() {
            self.out.write_all(first.as_bytes())?;
        }
        for line in lines {
            self.out.write_all(b"\n  ")?;
            self.out.write_all(line.as_bytes())?;
        }
        self.len += 1;
        Ok(())
    }

    /// What was written so far and how many elements (for a checkpoint).
    pub fn written(&mut self) -> io::Result<(Vec<u8>, u64)> {
        Ok((self.out.written()?, self.len))
    }

    /// Starts writing into `out` with `bytes`, an array of `len` elements left open by
    /// [`JsonArrayWriter::written`].
    pub fn resume(mut out: AtomicFile, bytes: &[u8], len: u64) -> io::Result<Self> {
        out.write_all(bytes)?;
        Ok(JsonArrayWriter { out, len })
    }

    /// Appends the `len` elements of `open`, an array left open as
    /// [`JsonArrayWriter::written`] returns it.
    pub fn append(&mut self, open: &[u8], len: u64) -> io::Result<()> {
        if len == 0 {
            return Ok(());
        }
        let rest = open
            .strip_prefix(b"[\n  ")
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an open JSON array"))?;
        self.out
            .write_all(if self.len == 0 { b"[\n  " } else { b",\n  " })?;
        self.out.write_all(rest)?;
        self.len += len;
        Ok(())
    }

    /// Appends the elements of the array `file` holds (as [`JsonArrayWriter::finish`] writes
    /// it), streamed, which must be `len`.
    pub fn append_from(&mut self, file: &mut File, len: u64) -> io::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_string());
        let size = file.metadata()?.len();
        let (head, tail): (&[u8], &[u8]) = if len == 0 {
            (b"[]\n", b"")
        } else {
            (b"[\n  ", b"\n]\n")
        };
        let body = size
            .checked_sub((head.len() + tail.len()) as u64)
            .ok_or_else(|| bad("not a JSON array as microsim writes it"))?;
        let mut start = vec![0; head.len()];
        file.read_exact(&mut start)?;
        let mut end = vec![0; tail.len()];
        file.seek(SeekFrom::End(-(tail.len() as i64)))?;
        file.read_exact(&mut end)?;
        if start != head || end != tail {
            return Err(bad("not a JSON array as microsim writes it"));
        }
        if len == 0 {
            return Ok(());
        }
        // Every element is an object; each after the first starts a line of its own at the
        // array's indentation (`\n  {`: deeper lines are indented further). There must be
        // `len` of them.
        file.seek(SeekFrom::Start(head.len() as u64))?;
        self.out
            .write_all(if self.len == 0 { b"[\n  " } else { b",\n  " })?;
        let (mut left, mut found, mut carry) = (body, 1u64, Vec::new());
        let mut buf = vec![0u8; 1 << 16];
        while left > 0 {
            let n = file.read(&mut buf[..left.min(1 << 16) as usize])?;
            if n == 0 {
                return Err(bad("the file changed while it was read"));
            }
            self.out.write_all(&buf[..n])?;
            carry.extend_from_slice(&buf[..n]);
            found += carry.windows(4).filter(|w| *w == b"\n  {").count() as u64;
            let keep = carry.len().min(3);
            carry.drain(..carry.len() - keep);
            left -= n as u64;
        }
        if found != len {
            return Err(bad(&format!(
                "it holds {found} elements, not the {len} replications of its replications.csv"
            )));
        }
        self.len += len;
        Ok(())
    }

    /// Closes the array and puts the file in place; returns its length and SHA-256.
    pub fn finish(mut self) -> io::Result<FileRecord> {
        self.out
            .write_all(if self.len == 0 { b"[]\n" } else { b"\n]\n" })?;
        self.out.commit()
    }
}
