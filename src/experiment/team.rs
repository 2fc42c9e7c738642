//! Replications across processes: a [`Team`] of ranks (MPI ranks under `mpirun`/`srun` with
//! the `mpi` feature, or threads in one process for tests) runs a scenario's replications as
//! one run. Rank 0 leads: it writes the result directory (and its checkpoints), runs the first
//! share of every chunk of replications itself, and tells the other ranks which share to run
//! ([`Command`]); each sends back what a [`crate::experiment::output::RunWriter`] would hold of its share
//! ([`WriterState`]), which rank 0 appends in rank order. Shares are cut from consecutive
//! replications, so the result directory is the same bytes, in every deterministic file, as
//! one process writes: at any rank count, thread count and shard count. Chunks are what a
//! single process runs between two checks of a precision target, so a target stops at the
//! same count.
//!
//! The leader's orders and the workers' replies are postcard bytes; a [`Team`] only moves
//! bytes (rank 0 to all, all to rank 0).

use std::io;
use std::sync::{Arc, Condvar, Mutex};

use serde::{Deserialize, Serialize};

use crate::engine::scheduler::Peers;
use crate::experiment::output::WriterState;

#[cfg(feature = "mpi")]
pub mod mpi;

/// Ranks that run one scenario together; rank 0 leads. As [`Peers`], they also share one
/// replication ([`crate::Simulation::new_on`]).
pub trait Team: Peers {
    /// Rank 0's `bytes`, on every rank (what other ranks pass is ignored).
    fn broadcast(&self, bytes: &[u8]) -> io::Result<Vec<u8>>;
    /// Every rank's `bytes`, on rank 0 in rank order (rank 0's own first); other ranks get
    /// nothing back.
    fn gather(&self, bytes: &[u8]) -> io::Result<Vec<Vec<u8>>>;
}

/// What the leader tells every rank.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Run your share of replications `first..first + count` of the scenario (of sweep
    /// variant `variant`), whose resolved text hashes to `scenario`.
    Run {
        /// The sweep variant, or `None` for a run without a sweep.
        variant: Option<u64>,
        /// The chunk's first replication.
        first: u64,
        /// The chunk's length.
        count: u64,
        /// [`crate::internal::checkpoint::scenario_hash`] of the leader's resolved scenario.
        scenario: String,
    },
    /// Run replication `index` of the scenario (of sweep variant `variant`) together: every
    /// rank steps its own shards of it ([`crate::Simulation::new_on`]). No reply: its shards
    /// go to rank 0 at the end.
    Replicate {
        /// The sweep variant, or `None` for a run without a sweep.
        variant: Option<u64>,
        /// The replication.
        index: u64,
        /// Steps between the snapshots every rank takes together (0: none).
        every: u32,
        /// The leader's resolved scenario.
        scenario: String,
    },
    /// The run is over: leave.
    Done,
    /// The leader failed: leave without results.
    Abort,
}

/// What a rank sends back after a [`Command::Run`].
#[derive(Debug, Serialize, Deserialize)]
pub enum Reply {
    /// Its share, written.
    Ran {
        /// What a writer holds of the share.
        state: WriterState,
        /// Whether it was stopped (Ctrl-C) before the share was done.
        interrupted: bool,
    },
    /// It could not run its share.
    Failed(String),
}

pub use crate::engine::scheduler::share;

/// Postcard bytes of `value`.
pub fn encode<T: Serialize>(value: &T) -> io::Result<Vec<u8>> {
    postcard::to_stdvec(value).map_err(|e| io::Error::other(e.to_string()))
}

/// A value read back from [`encode`]'s bytes.
pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> io::Result<T> {
    postcard::from_bytes(bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a message between ranks is damaged: {e}"),
        )
    })
}

/// A team of one: every collective returns the caller's own bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Alone;

impl Peers for Alone {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn all_to_all(&self, out: Vec<Vec<u8>>) -> io::Result<Vec<Vec<u8>>> {
        Ok(out)
    }
}

impl Team for Alone {
    fn broadcast(&self, bytes: &[u8]) -> io::Result<Vec<u8>> {
        Ok(bytes.to_vec())
    }
    fn gather(&self, bytes: &[u8]) -> io::Result<Vec<Vec<u8>>> {
        Ok(vec![bytes.to_vec()])
    }
}

/// A team of threads in one process, for tests and for embedding: [`ThreadTeam::new`] gives
/// one member per rank, each to be used by its own thread. Collectives wait for every member,
/// as MPI's do.
pub struct ThreadTeam {
    rank: usize,
    shared: Arc<Shared>,
}

struct Shared {
    size: usize,
    state: Mutex<Round>,
    turned: Condvar,
}

/// One collective under way: the bytes put in so far, and how many members have taken the
/// result.
#[derive(Default)]
struct Round {
    generation: u64,
    put: Vec<Option<Vec<u8>>>,
    taken: usize,
    result: Option<Vec<Vec<u8>>>,
}

impl ThreadTeam {
    /// The `size` members of a new team, rank 0 first.
    pub fn new(size: usize) -> Vec<ThreadTeam> {
        let shared = Arc::new(Shared {
            size,
            state: Mutex::new(Round {
                put: vec![None; size],
                ..Round::default()
            }),
            turned: Condvar::new(),
        });
        (0..size)
            .map(|rank| ThreadTeam {
                rank,
                shared: shared.clone(),
            })
            .collect()
    }

    /// Every member's bytes, on every member, in rank order.
    fn exchange(&self, bytes: &[u8]) -> Vec<Vec<u8>> {
        let s = &self.shared;
        let mut round = s.state.lock().unwrap_or_else(|p| p.into_inner());
        // Wait for the previous collective to be taken by everyone.
        while round.result.is_some() {
            round = s.turned.wait(round).unwrap_or_else(|p| p.into_inner());
        }
        let generation = round.generation;
        round.put[self.rank] = Some(bytes.to_vec());
        if round.put.iter().all(Option::is_some) {
            round.result = Some(round.put.iter_mut().map(|b| b.take().unwrap()).collect());
            s.turned.notify_all();
        }
        while round.result.is_none() || round.generation != generation {
            round = s.turned.wait(round).unwrap_or_else(|p| p.into_inner());
        }
        let out = round.result.clone().expect("the round has a result");
        round.taken += 1;
        if round.taken == s.size {
            round.taken = 0;
            round.result = None;
            round.generation += 1;
            s.turned.notify_all();
        }
        out
    }
}

impl Peers for ThreadTeam {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.shared.size
    }
    fn all_to_all(&self, out: Vec<Vec<u8>>) -> io::Result<Vec<Vec<u8>>> {
        // Every member sees every member's buffers and keeps those sent to it.
        let all = self.exchange(&encode(&out)?);
        all.iter()
            .map(|bytes| {
                let mut theirs: Vec<Vec<u8>> = decode(bytes)?;
                Ok(std::mem::take(&mut theirs[self.rank]))
            })
            .collect()
    }
}

impl Team for ThreadTeam {
    fn broadcast(&self, bytes: &[u8]) -> io::Result<Vec<u8>> {
        Ok(self.exchange(bytes).swap_remove(0))
    }
    fn gather(&self, bytes: &[u8]) -> io::Result<Vec<Vec<u8>>> {
        let all = self.exchange(bytes);
        Ok(if self.rank == 0 { all } else { Vec::new() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_a_chunk_in_rank_order() {
        for size in 1..7 {
            for count in 0..20 {
                let mut next = 5;
                for r in 0..size {
                    let s = share(5, count, r, size);
                    assert_eq!(s.start, next);
                    assert!(s.end - s.start <= count / size as u64 + 1);
                    next = s.end;
                }
                assert_eq!(next, 5 + count);
            }
        }
    }

    #[test]
    fn a_thread_team_broadcasts_and_gathers_round_after_round() {
        let team = ThreadTeam::new(3);
        let got: Vec<Vec<Vec<u8>>> = std::thread::scope(|s| {
            let handles: Vec<_> = team
                .iter()
                .map(|m| {
                    s.spawn(move || {
                        let mut seen = Vec::new();
                        for round in 0..50u8 {
                            let b = m.broadcast(&[round, m.rank() as u8]).unwrap();
                            seen.push(b);
                            let g = m.gather(&[m.rank() as u8, round]).unwrap();
                            if m.rank() == 0 {
                                assert_eq!(g, vec![vec![0, round], vec![1, round], vec![2, round]]);
                            } else {
                                assert!(g.is_empty());
                            }
                        }
                        seen
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for seen in got {
            let want: Vec<Vec<u8>> = (0..50u8).map(|r| vec![r, 0]).collect();
            assert_eq!(seen, want);
        }
    }
}
