//! A run shared by MPI ranks (or a team of threads): rank 0 leads, handing out chunks of
//! replications and merging what the others wrote; every other rank works its shares.

use std::io;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::*;

/// Rank 0 of a team running the replications of `plan` (of sweep variant `variant`).
pub(super) struct Lead<'a, 'b> {
    pub(super) run: &'a Common<'b>,
    pub(super) scenario: &'a Scenario,
    pub(super) variant: Option<u64>,
    pub(super) plan: &'a crate::experiment::montecarlo::Plan,
    pub(super) saving: Option<&'a Saving<'b>>,
    /// Steps run since the last checkpoint.
    pub(super) since: std::cell::Cell<u64>,
}

/// A sink that counts the steps of the replications it hands on.
struct Counted<'a> {
    sink: &'a mut (dyn Sink + Send),
    steps: &'a mut u64,
}

impl Sink for Counted<'_> {
    fn replication(&mut self, r: Replication) -> io::Result<()> {
        *self.steps += r.steps.len();
        self.sink.replication(r)
    }
}

impl Lead<'_, '_> {
    /// Runs the plan from replication `done` on, as a single process would (the first
    /// `plan.count`, then batches until a target is reached), into `writer`.
    pub(super) fn all(&self, writer: &mut RunWriter, done: u64) -> io::Result<RunStats> {
        let metric = self.plan.target.as_ref().map_or(0, |t| t.metric);
        let mut state = (writer, false);
        let (done, target) = in_chunks(
            self.plan,
            done,
            &mut state,
            |(writer, interrupted), first, n| self.chunk(writer, first, n, interrupted),
            |(writer, _)| &writer.values()[metric],
            |(_, interrupted)| *interrupted,
        )?;
        Ok(RunStats {
            replications: done,
            interrupted: state.1,
            target,
        })
    }

    /// Replications `first..first + count`, over the ranks, into `writer`; returns how many
    /// were written complete. With checkpoints, in rounds of a few per thread and rank, each
    /// followed by one if `every` steps have run since the last.
    fn chunk(
        &self,
        writer: &mut RunWriter,
        first: u64,
        count: u64,
        interrupted: &mut bool,
    ) -> io::Result<u64> {
        let (team, size) = (self.run.team, self.run.team.size());
        let round = match self.saving {
            Some(_) => size as u64 * self.plan.window(),
            None => count.max(1),
        };
        let mut done = 0;
        while done < count && !*interrupted {
            let n = (count - done).min(round);
            let at = first + done;
            let order = Command::Run {
                variant: self.variant,
                first: at,
                count: n,
                scenario: self.scenario.resolved_toml().to_string(),
            };
            team.broadcast(&encode(&order)?)?;
            let mine = share(at, n, 0, size);
            let mut steps = 0;
            let mut plan = self.plan.clone();
            plan.first = mine.start;
            plan.count = mine.end - mine.start;
            plan.target = None;
            let progress = self.run.progress;
            let local = if plan.count == 0 {
                Ok(None)
            } else {
                let mut told = Told {
                    sink: &mut *writer,
                    progress,
                };
                let mut counted = Counted {
                    sink: &mut told,
                    steps: &mut steps,
                };
                self.scenario
                    .run_replications_with(
                        &plan,
                        &mut counted,
                        self.run.stop,
                        progress,
                        Extras::default(),
                    )
                    .map(Some)
            };
            // Every rank's reply is taken, even after an error here: they wait to send it.
            let replies = team.gather(&[])?;
            if local?.is_some_and(|s| s.interrupted) {
                *interrupted = true;
            }
            for (rank, bytes) in replies.iter().enumerate().skip(1) {
                // As one process: nothing after a replication cut short is handed on.
                let cut = *interrupted;
                let state = match decode::<Reply>(bytes)? {
                    Reply::Ran {
                        state,
                        interrupted: i,
                    } => {
                        *interrupted |= i;
                        state
                    }
                    Reply::Failed(why) => {
                        return Err(io::Error::other(format!("rank {rank}: {why}")));
                    }
                };
                if cut {
                    continue;
                }
                let from = writer.values().first().map_or(0, Vec::len);
                let share_start = share(at, n, rank, size).start;
                let k = state.replications();
                steps += state.steps();
                writer.append(state)?;
                for i in 0..k as usize {
                    let values: Vec<f64> = writer.values().iter().map(|v| v[from + i]).collect();
                    progress.replication_done(share_start + i as u64);
                    progress.metrics(share_start + i as u64, &values);
                }
            }
            if !*interrupted {
                done += n;
                // As one process: a checkpoint once `every` more steps have run.
                if let Some(saving) = self.saving {
                    let since = self.since.get() + steps;
                    self.since.set(since);
                    if since >= saving.every {
                        let state = writer.state()?;
                        saving.write(state.replications(), Some(&state), None)?;
                        self.since.set(0);
                    }
                }
            }
        }
        Ok(done)
    }
}

/// A rank other than 0 of `team`: runs the share of each chunk of `scenario`'s replications
/// that the leader orders and sends back what it wrote, until the leader says the run is
/// over. Returns whether it ended well ([`Command::Done`]) rather than by the leader's failure
/// ([`Command::Abort`]). `from` is the checkpoint the run goes on from (resumed, or a sweep's
/// branch point), if any: a replication shared by the ranks starts from its snapshot. Its shares are written to a scratch directory (under `scratch`), read
/// back and removed.
pub fn work(
    team: &dyn Team,
    scenario: &Scenario,
    from: Option<&Checkpoint>,
    scratch: &Path,
    stop: &AtomicBool,
) -> io::Result<bool> {
    let variants = match &scenario.sweep {
        Some(_) => scenario
            .variants()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?,
        None => Vec::new(),
    };
    let prefix = format!(".rank-{}.", team.rank());
    loop {
        let order: Command = decode(&team.broadcast(&[])?)?;
        let (variant, first, count, text) = match order {
            Command::Done => return Ok(true),
            Command::Abort => return Ok(false),
            Command::Run {
                variant,
                first,
                count,
                scenario,
            } => (variant, first, count, scenario),
            Command::Replicate {
                variant,
                index,
                every,
                scenario: text,
            } => {
                let s = variant_of(scenario, &variants, variant)?;
                if let Some(field) = differing_fields(&text, s.resolved_toml()).first() {
                    return Err(io::Error::other(format!(
                        "this rank's scenario differs from rank 0's in `{field}`: every rank \
                         must run the same scenario file with the same overrides"
                    )));
                }
                let mut plan = s.plan(None);
                plan.first = index;
                plan.count = 1;
                plan.target = None;
                // Resumed or branched: every rank starts from the checkpoint's snapshot.
                let running = from
                    .and_then(|c| c.running.as_ref())
                    .filter(|r| r.index == index)
                    .map(|r| (r.snapshot.clone(), r.steps.clone()));
                let extras = Extras {
                    peers: Some(team as &dyn Peers),
                    every,
                    resumed: Resumed {
                        running,
                        ..Resumed::default()
                    },
                    ..Extras::default()
                };
                let silent = crate::experiment::montecarlo::Silent;
                s.run_replications_with(&plan, &mut Discard, stop, &silent, extras)?;
                continue;
            }
        };
        let ran = || -> io::Result<Reply> {
            let s = variant_of(scenario, &variants, variant)?;
            if let Some(field) = differing_fields(&text, s.resolved_toml()).first() {
                return Err(io::Error::other(format!(
                    "this rank's scenario differs from rank 0's in `{field}`: every rank must \
                     run the same scenario file with the same overrides"
                )));
            }
            let mine = share(first, count, team.rank(), team.size());
            let mut plan = s.plan(None);
            plan.first = mine.start;
            plan.count = mine.end - mine.start;
            plan.target = None;
            // A fresh directory of its own, of a name no one can have planted a link at.
            let tmp = tempfile::Builder::new()
                .prefix(&prefix)
                .tempdir_in(scratch)?;
            let dir = ResultDir::new(tmp.path());
            plan.spool = Some(tmp.path().to_path_buf());
            let mut writer = RunWriter::create(&dir, s.model_info(), s.montecarlo.confidence)?;
            let stats = match plan.count {
                0 => None,
                _ => Some(s.run_replications_with(
                    &plan,
                    &mut writer,
                    stop,
                    &crate::experiment::montecarlo::Silent,
                    Extras::default(),
                )?),
            };
            let state = writer.state()?;
            drop(writer);
            drop(tmp);
            Ok(Reply::Ran {
                state,
                interrupted: stats.is_some_and(|s| s.interrupted),
            })
        };
        let reply = ran().unwrap_or_else(|e| Reply::Failed(e.to_string()));
        team.gather(&encode(&reply)?)?;
    }
}

/// The scenario of sweep variant `variant` (`None`: the scenario itself).
fn variant_of<'a>(
    scenario: &'a Scenario,
    variants: &'a [Variant],
    variant: Option<u64>,
) -> io::Result<&'a Scenario> {
    match variant {
        None => Ok(scenario),
        Some(v) => variants
            .get(v as usize)
            .map(|v| &v.scenario)
            .ok_or_else(|| {
                io::Error::other(format!(
                    "rank 0 ran variant {v}, which this rank's sweep does not have"
                ))
            }),
    }
}

/// A sink that keeps nothing (a rank's part of a shared replication went to rank 0).
struct Discard;

impl Sink for Discard {
    fn replication(&mut self, _: Replication) -> io::Result<()> {
        Ok(())
    }
}
