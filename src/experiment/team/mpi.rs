//! The ranks of an MPI job as a [`Team`] (the `mpi` feature): `mpirun -np N microsim run …`,
//! or `srun` under Slurm. Only the thread that made the team calls MPI (the replications'
//! worker threads never do), so MPI is initialised at the "funneled" threading level.

use std::io;

use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use super::Team;
use crate::engine::scheduler::Peers;

/// The most bytes one MPI message carries (its count is a C `int`).
const PIECE: usize = 1 << 30;

/// This process's place among the ranks of `MPI_COMM_WORLD`. MPI is finalised when it is
/// dropped.
pub struct MpiTeam {
    world: SimpleCommunicator,
    _universe: Universe,
}

impl MpiTeam {
    /// Initialises MPI, if this process was started by an MPI launcher (`mpirun`, `mpiexec`,
    /// `srun` with PMI: it sets the variables looked at here); `None` otherwise. An MPI
    /// library that cannot be initialised, or not at the "serialized" threading level, is an
    /// error (every rank would otherwise run the whole scenario on its own).
    pub fn from_launcher() -> Result<Option<MpiTeam>, String> {
        const LAUNCHED: [&str; 5] = [
            "OMPI_COMM_WORLD_SIZE",
            "PMI_SIZE",
            "PMI_RANK",
            "PMIX_RANK",
            "MPI_LOCALNRANKS",
        ];
        if !LAUNCHED.iter().any(|v| std::env::var_os(v).is_some()) {
            return Ok(None);
        }
        let (universe, level) = mpi::initialize_with_threading(mpi::Threading::Serialized)
            .ok_or("MPI could not be initialised (was it initialised already?)")?;
        if level < mpi::Threading::Serialized {
            return Err(format!(
                "the MPI library offers the threading level {level:?}; microsim needs \
                 Serialized (an MPI built with thread support)"
            ));
        }
        Ok(Some(MpiTeam {
            world: universe.world(),
            _universe: universe,
        }))
    }

    /// Sends `bytes` to `rank`: their length, then pieces of at most [`PIECE`] bytes.
    fn send(&self, rank: usize, bytes: &[u8]) {
        let p = self.world.process_at_rank(rank as i32);
        p.send(&(bytes.len() as u64));
        for piece in bytes.chunks(PIECE) {
            p.send(piece);
        }
    }

    /// Receives what [`MpiTeam::send`] sent from `rank`.
    fn receive(&self, rank: usize) -> io::Result<Vec<u8>> {
        let p = self.world.process_at_rank(rank as i32);
        let (len, _) = p.receive::<u64>();
        let len = usize::try_from(len).map_err(|_| io::Error::other("a message too long"))?;
        let mut out = Vec::new();
        out.try_reserve_exact(len)
            .map_err(|_| io::Error::other(format!("no memory for a message of {len} bytes")))?;
        out.resize(len, 0);
        for piece in out.chunks_mut(PIECE) {
            p.receive_into(piece);
        }
        Ok(out)
    }
}

// SAFETY: MPI is initialised at the "serialized" threading level (checked in
// `from_launcher`), under which any thread may call MPI as long as no two do at once. A team's
// calls are made by one thread at a time: the leader's (or worker's) main thread between runs,
// or, while a replication shared by the ranks runs, the one pool thread stepping it (the main
// thread waits in `pool.install` meanwhile). Nothing else touches the communicator.
#[allow(unsafe_code)]
unsafe impl Send for MpiTeam {}
// SAFETY: as above.
#[allow(unsafe_code)]
unsafe impl Sync for MpiTeam {}

impl Peers for MpiTeam {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn size(&self) -> usize {
        self.world.size() as usize
    }

    fn all_to_all(&self, out: Vec<Vec<u8>>) -> io::Result<Vec<Vec<u8>>> {
        use mpi::datatype::{Partition, PartitionMut};
        let count = |n: usize| {
            i32::try_from(n).map_err(|_| io::Error::other("a step's exchange over 2 GiB per rank"))
        };
        let sizes: Vec<u64> = out.iter().map(|b| b.len() as u64).collect();
        let mut theirs = vec![0u64; sizes.len()];
        self.world.all_to_all_into(&sizes[..], &mut theirs[..]);
        // Never an empty buffer: its dangling address (1) is Open MPI's MPI_IN_PLACE.
        let mut send: Vec<u8> = out.concat();
        send.reserve(1);
        send.push(0);
        let counts: Vec<i32> = out
            .iter()
            .map(|b| count(b.len()))
            .collect::<io::Result<_>>()?;
        let displs: Vec<i32> = offsets(&counts)?;
        let rcounts: Vec<i32> = theirs
            .iter()
            .map(|&n| count(n as usize))
            .collect::<io::Result<_>>()?;
        let rdispls: Vec<i32> = offsets(&rcounts)?;
        let total: usize = rcounts.iter().map(|&c| c as usize).sum();
        let mut recv = vec![0u8; total + 1];
        {
            let sendp = Partition::new(&send[..], &counts[..], &displs[..]);
            let mut recvp = PartitionMut::new(&mut recv[..], &rcounts[..], &rdispls[..]);
            self.world.all_to_all_varcount_into(&sendp, &mut recvp);
        }
        Ok(rcounts
            .iter()
            .zip(&rdispls)
            .map(|(&c, &d)| recv[d as usize..(d + c) as usize].to_vec())
            .collect())
    }
}

/// Where each of `counts` starts when they are laid one after another.
fn offsets(counts: &[i32]) -> io::Result<Vec<i32>> {
    let mut at = 0i32;
    counts
        .iter()
        .map(|&c| {
            let here = at;
            at = at
                .checked_add(c)
                .ok_or_else(|| io::Error::other("a step's exchange over 2 GiB per rank"))?;
            Ok(here)
        })
        .collect()
}

impl Team for MpiTeam {
    fn broadcast(&self, bytes: &[u8]) -> io::Result<Vec<u8>> {
        let root = self.world.process_at_rank(0);
        let mut len = bytes.len() as u64;
        root.broadcast_into(&mut len);
        let len = usize::try_from(len).map_err(|_| io::Error::other("a message too long"))?;
        let mut out = if self.rank() == 0 {
            bytes.to_vec()
        } else {
            vec![0u8; len]
        };
        for piece in out.chunks_mut(PIECE) {
            root.broadcast_into(piece);
        }
        Ok(out)
    }

    fn gather(&self, bytes: &[u8]) -> io::Result<Vec<Vec<u8>>> {
        if self.rank() != 0 {
            self.send(0, bytes);
            return Ok(Vec::new());
        }
        let mut all = vec![bytes.to_vec()];
        for rank in 1..self.size() {
            all.push(self.receive(rank)?);
        }
        Ok(all)
    }
}
