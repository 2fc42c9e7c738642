//! Checkpoints of a run of several replications: the replications done, saved every so
//! often (`[run] checkpoint_every`), and a lone replication's snapshots.

use std::io;
use std::path::Path;

use super::*;

/// Where and how a run writes its checkpoints (`[run] checkpoint_every`).
pub(super) struct Saving<'a> {
    pub(super) scenario: &'a Scenario,
    pub(super) dir: ResultDir,
    pub(super) only: Option<u64>,
    pub(super) every: u64,
    /// The checkpoints written and kept, oldest first: the last is the newest.
    pub(super) kept: Mutex<std::collections::VecDeque<String>>,
}

impl<'a> Saving<'a> {
    /// The checkpoints of a run of `scenario` into `dir`, if it writes any (its
    /// `checkpoints/` directory is created here).
    pub(super) fn new(
        scenario: &'a Scenario,
        dir: &ResultDir,
        only: Option<u64>,
    ) -> io::Result<Option<Self>> {
        let every = scenario.run.checkpoint_every;
        if every == 0 {
            return Ok(None);
        }
        dir.handle()?.create_dir_all(Path::new(checkpoint::DIR))?;
        Ok(Some(Saving {
            scenario,
            dir: dir.clone(),
            only,
            every,
            kept: Mutex::new(Default::default()),
        }))
    }

    /// The newest checkpoint written, if any.
    pub(super) fn last(&self) -> Option<PathBuf> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.back()
            .map(|name| self.dir.path().join(checkpoint::DIR).join(name))
    }

    /// Writes a checkpoint with these contents. A run of several keeps only its newest; a
    /// run of one its newest `run.checkpoint_keep`, the older ones removed once the new one is
    /// in place (renamed after being synced).
    pub(super) fn write(
        &self,
        done: u64,
        writer: Option<&crate::experiment::output::WriterState>,
        running: Option<(u64, &Snapshot, &[crate::engine::stats::StepRow])>,
    ) -> io::Result<()> {
        let s = self.scenario;
        let resolved = s.resolved_toml();
        let at = running.map(|(i, snap, _)| (i, snap.step()));
        let header = checkpoint::header(s.model_name(), &s.name, resolved, s.seed(), done, at);
        let name = checkpoint::file_name(at, done, self.only.is_some());
        let file = self
            .dir
            .create_file(&format!("{}/{name}", checkpoint::DIR))?;
        Parts {
            header: &header,
            scenario: resolved,
            only: self.only,
            done,
            writer,
            running,
        }
        .write(file)?;
        let keep = match running {
            Some(_) => s.run.checkpoint_keep.max(1) as usize,
            None => 1,
        };
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|k| *k != name);
        kept.push_back(name);
        let folder = self.dir.handle()?.dir(Path::new(checkpoint::DIR))?;
        while kept.len() > keep {
            let old = kept.pop_front().expect("more than one kept");
            let _ = folder.remove_file(std::ffi::OsStr::new(&old));
        }
        Ok(())
    }
}

impl Checkpoints for Saving<'_> {
    fn every(&self) -> u32 {
        self.every.min(u32::MAX as u64) as u32
    }

    fn save(&self, index: u64, snapshot: &Snapshot, steps: &mut StepLog) -> io::Result<()> {
        let rows = steps.rows()?;
        self.write(0, None, Some((index, snapshot, &rows)))
    }
}

/// The sink of a run of several replications with checkpoints: after every replication that
/// brings `every` more steps, it records the replications done so far (and what was written of
/// them); when the first interrupted replication arrives, it records those before it.
pub(super) struct Keeping<'a, 'b> {
    pub(super) writer: &'a mut RunWriter,
    pub(super) saving: &'a Saving<'b>,
    /// Replications handed on, all complete.
    pub(super) done: u64,
    /// Steps since the last checkpoint.
    pub(super) since: u64,
    /// `done` at the last checkpoint.
    pub(super) saved: u64,
    /// An interrupted replication was handed on: nothing after it is recorded.
    pub(super) frozen: bool,
}

impl Keeping<'_, '_> {
    pub(super) fn save(&mut self) -> io::Result<()> {
        let state = self.writer.state()?;
        self.saving.write(self.done, Some(&state), None)?;
        self.saved = self.done;
        self.since = 0;
        Ok(())
    }
}

impl Sink for Keeping<'_, '_> {
    fn replication(&mut self, r: Replication) -> io::Result<()> {
        let interrupted = r.ending == crate::engine::scheduler::Ending::Interrupted;
        if interrupted && !self.frozen {
            if self.done > self.saved {
                self.save()?;
            }
            self.frozen = true;
        }
        let steps = r.steps.len();
        self.writer.replication(r)?;
        if !self.frozen {
            self.done += 1;
            self.since += steps;
            if self.since >= self.saving.every {
                self.save()?;
            }
        }
        Ok(())
    }
}
