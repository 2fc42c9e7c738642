//! Checkpoint files: a run stopped part-way, to be resumed by `microsim resume`.
//!
//! # Format (version 1)
//! | bytes | what |
//! |---|---|
//! | 8 | the magic `MSIMCKPT` |
//! | 4 | the format version, little-endian |
//! | 4 | the header's length, little-endian |
//! | … | the header: JSON ([`Header`]), readable with `head -c 600` |
//! | 8 | the body's length, little-endian |
//! | … | the body: the length of its index (8 bytes), the index (postcard), then the snapshot of the replication under way, if any ([`crate::Snapshot::to_bytes`]) |
//! | 4 | CRC-32 of the body, little-endian |
//!
//! The index holds the resolved scenario (so a checkpoint resumes without its scenario
//! file), the replications done and, for a run of several, everything written of them so far
//! (zstd-compressed), so that a resumed run runs none of them again. A checkpoint is written
//! to a temporary name and renamed into place, so a file under its own name is always whole;
//! a damaged one (truncated, altered, of another program or format) is refused with a
//! message that says what is wrong, never half-read.

mod validate;

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::codec::{from_bytes, to_bytes};
use crate::engine::scheduler::Snapshot;
use crate::engine::stats::StepRow;
use crate::experiment::output::{AtomicFile, WriterState, now_rfc3339};
use crate::experiment::safe_fs;

/// The first bytes of every checkpoint.
pub const MAGIC: &[u8; 8] = b"MSIMCKPT";
/// The format version this program writes and reads (3: streams are derived by version 3 of
/// [`crate::engine::rng`]'s derivation, so a run of format 2 would not go on as it began; tasks
/// may carry ids and places, and be born; messages from cells; step rows with the model's
/// series. 2: tasks carry no stream position, since a task's stream is derived from its id and
/// the step).
pub const FORMAT: u32 = 3;
/// The directory of a result directory that holds its checkpoints.
pub const DIR: &str = crate::experiment::results::ResultDir::CHECKPOINTS;
/// The longest header read (a header is a few hundred bytes).
const MAX_HEADER: u32 = 1 << 20;

/// What a checkpoint says about itself, in plain JSON at the start of the file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// The format version (also in the binary prefix).
    pub format: u32,
    /// The microsim version that wrote it.
    pub microsim: String,
    /// The model's registered name.
    pub model: String,
    /// The scenario's name.
    pub scenario: String,
    /// A hash of the resolved scenario in the body (hex).
    pub scenario_hash: String,
    /// The scenario seed.
    pub seed: u64,
    /// Replications finished and kept.
    pub replications_done: u64,
    /// The replication under way and the step it is at, if it is snapshotted.
    pub running: Option<(u64, u32)>,
    /// When it was written (RFC 3339, UTC).
    pub written_at: String,
}

/// The replication under way: its index, its snapshot and its step rows so far.
#[derive(Clone)]
pub struct Running {
    /// The replication's index.
    pub index: u64,
    /// The simulation at a step boundary.
    pub snapshot: Snapshot,
    /// The rows of the steps before it.
    pub steps: Vec<StepRow>,
}

/// A checkpoint read back ([`Checkpoint::read`]; [`Parts`] writes one).
#[derive(Clone)]
pub struct Checkpoint {
    /// The header.
    pub header: Header,
    /// The resolved scenario, as TOML.
    pub scenario: String,
    /// `--replication K` of the run, if given.
    pub only: Option<u64>,
    /// Replications of the run's plan finished and kept.
    pub done: u64,
    /// What was written of them (a run of several replications).
    pub writer: Option<WriterState>,
    /// The replication under way (a run of one).
    pub running: Option<Running>,
}

/// A checkpoint to write, by reference (a snapshot is not copied to be written).
pub struct Parts<'a> {
    /// The header.
    pub header: &'a Header,
    /// The resolved scenario.
    pub scenario: &'a str,
    /// `--replication K`, if given.
    pub only: Option<u64>,
    /// Replications finished and kept.
    pub done: u64,
    /// What was written of them.
    pub writer: Option<&'a WriterState>,
    /// The replication under way: its index, snapshot and step rows.
    pub running: Option<(u64, &'a Snapshot, &'a [StepRow])>,
}

impl Parts<'_> {
    /// Writes the checkpoint into `out` (a temporary file, synced, then renamed into place).
    pub fn write(&self, mut out: AtomicFile) -> io::Result<()> {
        let snapshot_len = self.running.map_or(0, |r| r.1.byte_len());
        let index = Index {
            scenario: self.scenario.to_string(),
            only: self.only,
            done: self.done,
            writer: self.writer.map(pack).transpose()?,
            running: self
                .running
                .map(|(i, _, steps)| pack(&steps).map(|s| (i, s)))
                .transpose()?,
        };
        let index = to_bytes(&index).map_err(io::Error::other)?;
        let header = serde_json::to_vec_pretty(self.header).map_err(io::Error::other)?;
        let body_len = 8 + index.len() as u64 + snapshot_len;
        out.write_all(MAGIC)?;
        out.write_all(&FORMAT.to_le_bytes())?;
        out.write_all(&(header.len() as u32).to_le_bytes())?;
        out.write_all(&header)?;
        out.write_all(&body_len.to_le_bytes())?;
        let mut body = Crc {
            out: &mut out,
            crc: crc32fast::Hasher::new(),
        };
        body.write_all(&(index.len() as u64).to_le_bytes())?;
        body.write_all(&index)?;
        if let Some((_, snapshot, _)) = self.running {
            snapshot.write_to(&mut body)?;
        }
        let crc = body.crc.finalize();
        out.write_all(&crc.to_le_bytes())?;
        out.commit().map(drop)
    }
}

/// The body's index.
#[derive(Serialize, Deserialize)]
struct Index {
    scenario: String,
    only: Option<u64>,
    done: u64,
    /// [`WriterState`], postcard then zstd.
    writer: Option<Vec<u8>>,
    /// The running replication's index, and its step rows (postcard then zstd).
    running: Option<(u64, Vec<u8>)>,
}

/// Why a checkpoint cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The file could not be read.
    #[error("{path}: cannot read it: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// Not a checkpoint at all.
    #[error("{path}: not a microsim checkpoint (it does not start with `MSIMCKPT`)")]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// A checkpoint of another format version.
    #[error(
        "{path}: a checkpoint in format {found}; this microsim ({}) reads format {FORMAT}",
        env!("CARGO_PKG_VERSION")
    )]
    Format {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// Written by another microsim version, whose results may differ.
    #[error(
        "{path}: written by microsim {found}; this is microsim {}, whose engine may draw \
         differently, so the run would not go on as it began\n  hint: resume it with \
         microsim {found}",
        env!("CARGO_PKG_VERSION")
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// The version that wrote it.
        found: String,
    },
    /// Not a regular file (a FIFO, a device, a directory).
    #[error("{path}: {why}")]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is, with a hint.
        why: String,
    },
    /// Truncated or altered.
    #[error("{path}: the checkpoint is damaged ({why}); resume from an earlier one")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

impl Checkpoint {
    /// Reads and checks the checkpoint at `path`: its magic, format, version, checksum and
    /// every length in it. Only a regular file is read (a FIFO, a device, a directory is
    /// refused at once), and it is read against its declared lengths: the prefix and header
    /// first (at most [`MAX_HEADER`] bytes), then the body only if the file is exactly as long
    /// as they say. The snapshot's pieces are checked when it is restored.
    pub fn read(path: &Path) -> Result<Checkpoint, CheckpointError> {
        let io = |source: io::Error| match safe_fs::refusal(&source) {
            Some(r) => CheckpointError::NotAFile {
                path: path.to_path_buf(),
                why: r.why.clone(),
            },
            None => CheckpointError::Io {
                path: path.to_path_buf(),
                source,
            },
        };
        let file = safe_fs::open_regular(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        let head_len = size.min(16 + MAX_HEADER as u64 + 8);
        let mut bytes = Vec::with_capacity(head_len as usize);
        let mut file = file.take(head_len);
        file.read_to_end(&mut bytes).map_err(io)?;
        // What the prefix and header say the whole file holds; refused here if not `size`.
        let total = Self::declared_len(&bytes, path)?;
        if total != size {
            // `parse` says what is wrong with the bytes there are (a cut, bytes after).
            let mut rest = file
                .into_inner()
                .take(total.min(size).saturating_sub(head_len));
            rest.read_to_end(&mut bytes).map_err(io)?;
            return Self::parse(&bytes, path);
        }
        let mut file = file.into_inner();
        bytes.reserve_exact((size - head_len) as usize);
        file.read_to_end(&mut bytes).map_err(io)?;
        Self::parse(&bytes, path)
    }

    /// The length of the whole checkpoint its first bytes (`head`) declare: the prefix, the
    /// header and the body's length are checked (as [`Checkpoint::parse`] checks them).
    fn declared_len(head: &[u8], path: &Path) -> Result<u64, CheckpointError> {
        let mut r = Reader { bytes: head, at: 0 };
        Self::prefix(&mut r, path)?;
        let Some(body_len) = r.u64() else {
            return Ok(head.len() as u64 + 1); // cut: `parse` says where
        };
        Ok((r.at as u64).saturating_add(body_len).saturating_add(4))
    }

    /// Reads and checks the magic, the format, the header's length and the header.
    fn prefix(r: &mut Reader<'_>, path: &Path) -> Result<Header, CheckpointError> {
        let damaged = |why: &str| CheckpointError::Damaged {
            path: path.to_path_buf(),
            why: why.to_string(),
        };
        if r.take(8) != Some(MAGIC) {
            return Err(CheckpointError::Foreign {
                path: path.to_path_buf(),
            });
        }
        let format = r
            .u32()
            .ok_or_else(|| damaged("it ends inside its prefix"))?;
        if format != FORMAT {
            return Err(CheckpointError::Format {
                path: path.to_path_buf(),
                found: format,
            });
        }
        let header_len = r
            .u32()
            .filter(|&n| n <= MAX_HEADER)
            .ok_or_else(|| damaged("its header length is wrong"))?;
        let header = r
            .take(header_len as usize)
            .ok_or_else(|| damaged("it ends inside its header (truncated)"))?;
        let header: Header = serde_json::from_slice(header)
            .map_err(|e| damaged(&format!("its header is not valid: {e}")))?;
        if header.microsim != env!("CARGO_PKG_VERSION") {
            return Err(CheckpointError::Version {
                path: path.to_path_buf(),
                found: header.microsim,
            });
        }
        if header.format != format {
            return Err(damaged(&format!(
                "its header says format {}, its prefix {format}",
                header.format
            )));
        }
        Ok(header)
    }

    /// [`Checkpoint::read`] of bytes already read from `path`.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Checkpoint, CheckpointError> {
        let damaged = |why: &str| CheckpointError::Damaged {
            path: path.to_path_buf(),
            why: why.to_string(),
        };
        let mut r = Reader { bytes, at: 0 };
        let header = Self::prefix(&mut r, path)?;
        let body_len = r
            .u64()
            .ok_or_else(|| damaged("it ends after its header (truncated)"))?;
        let left = (bytes.len() - r.at) as u64;
        if body_len.checked_add(4) != Some(left) {
            let why = if body_len.saturating_add(4) > left {
                format!(
                    "{} of its {body_len} bytes are there (truncated)",
                    left.saturating_sub(4)
                )
            } else {
                format!("{} bytes follow its end", left - body_len - 4)
            };
            return Err(damaged(&why));
        }
        let body = r.take(body_len as usize).expect("the length was checked");
        let crc = r.u32().expect("the length was checked");
        if crc32fast::hash(body) != crc {
            return Err(damaged(
                "its checksum does not match: it was altered or not fully written",
            ));
        }
        let mut b = Reader { bytes: body, at: 0 };
        let index_len = b.u64().ok_or_else(|| damaged("its body is too short"))?;
        let index = b
            .take(usize::try_from(index_len).unwrap_or(usize::MAX))
            .ok_or_else(|| damaged("its index runs past its end"))?;
        let index: Index = from_bytes(index).map_err(|e| damaged(&format!("its index: {e}")))?;
        if scenario_hash(&index.scenario) != header.scenario_hash {
            return Err(damaged("its scenario does not match its header"));
        }
        let writer = match &index.writer {
            Some(w) => {
                Some(unpack::<WriterState>(w).map_err(|e| damaged(&format!("its results: {e}")))?)
            }
            None => None,
        };
        let rest = &body[b.at..];
        let running = match index.running {
            Some((i, steps)) => {
                let steps: Vec<StepRow> =
                    unpack(&steps).map_err(|e| damaged(&format!("its step rows: {e}")))?;
                let snapshot = Snapshot::from_bytes(rest).map_err(|e| damaged(&e.to_string()))?;
                if steps.len() != snapshot.step() as usize {
                    return Err(damaged("its step rows do not match its snapshot"));
                }
                Some(Running {
                    index: i,
                    snapshot,
                    steps,
                })
            }
            None if rest.is_empty() => None,
            None => return Err(damaged("bytes after its index")),
        };
        if header.replications_done != index.done
            || header.running.map(|r| r.0) != running.as_ref().map(|r| r.index)
        {
            return Err(damaged("its header does not match its body"));
        }
        let checkpoint = Checkpoint {
            header,
            scenario: index.scenario,
            only: index.only,
            done: index.done,
            writer,
            running,
        };
        validate::check(&checkpoint).map_err(|why| damaged(&why))?;
        Ok(checkpoint)
    }
}

/// The name of a checkpoint: of replication `index` at step `step` (a run of one), or after
/// `done` replications (a run of several).
pub fn file_name(running: Option<(u64, u32)>, done: u64, only: bool) -> String {
    match running {
        Some((i, step)) if only => format!("replication-{i:06}-step-{step:06}.ckpt"),
        Some((_, step)) => format!("step-{step:06}.ckpt"),
        None => format!("replications-{done:06}.ckpt"),
    }
}

/// A hash of the resolved scenario text (FNV-1a, 64-bit, as hex): the header names the
/// scenario the body holds.
pub fn scenario_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// A new header for a checkpoint of this run.
pub fn header(
    model: &str,
    scenario: &str,
    resolved: &str,
    seed: u64,
    done: u64,
    running: Option<(u64, u32)>,
) -> Header {
    Header {
        format: FORMAT,
        microsim: env!("CARGO_PKG_VERSION").to_string(),
        model: model.to_string(),
        scenario: scenario.to_string(),
        scenario_hash: scenario_hash(resolved),
        seed,
        replications_done: done,
        running,
        written_at: now_rfc3339(),
    }
}

fn pack<T: Serialize>(value: &T) -> io::Result<Vec<u8>> {
    let raw = to_bytes(value).map_err(io::Error::other)?;
    zstd::bulk::compress(&raw, 3)
}

/// `packed` (zstd, as [`pack`] writes it) decoded: only up to the size its frame declares,
/// which must fit the memory this process can use, read as it comes (a forged size costs
/// nothing up front).
fn unpack<T: serde::de::DeserializeOwned>(packed: &[u8]) -> Result<T, String> {
    let declared = zstd::zstd_safe::get_frame_content_size(packed)
        .ok()
        .flatten()
        .ok_or("its compressed size is not declared")?;
    let room = crate::experiment::scenario::usable_memory().map_or(4 << 30, |(m, _)| m);
    if declared > room {
        return Err(format!(
            "it would take {declared} bytes in memory, more than the {room} available"
        ));
    }
    let decoder = zstd::stream::read::Decoder::with_buffer(packed).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    decoder
        .take(declared + 1)
        .read_to_end(&mut raw)
        .map_err(|e| e.to_string())?;
    if raw.len() as u64 != declared {
        return Err(format!("{} bytes where {declared} were written", raw.len()));
    }
    from_bytes(&raw)
}

/// A writer that keeps the CRC-32 of what goes through it.
struct Crc<'a, W: Write> {
    out: &'a mut W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for Crc<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Bytes read from the front.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let out = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(out)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
}
