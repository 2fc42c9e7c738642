//! Where a command's results go: `--out DIR`, `[output] dir`, or a default, checked and
//! claimed (shared by `run`, `resume` and `merge`).

use std::io;
use std::path::{Path, PathBuf};

use crate::experiment::output::{Claimed, Taking, claim_dir, unusable_dir};
use crate::experiment::safe_fs::refusal;

use super::Failure;

/// Where the results of a command go, and who chose it.
pub(crate) enum Out {
    /// `--out DIR`.
    Flag(PathBuf),
    /// `[output] dir` of the scenario.
    Field(PathBuf),
    /// The command's default (`outputs/NAME`, a resumed run's `DIR-2`).
    Default(PathBuf),
}

impl Out {
    /// `--out` if given, else `[output] dir` if set, else `default`.
    pub(crate) fn choose(flag: Option<&Path>, field: Option<&str>, default: PathBuf) -> Out {
        match (flag, field) {
            (Some(out), _) => Out::Flag(out.to_path_buf()),
            (None, Some(dir)) => Out::Field(PathBuf::from(dir)),
            (None, None) => Out::Default(default),
        }
    }

    /// The path asked for.
    pub(crate) fn path(&self) -> &Path {
        match self {
            Out::Flag(p) | Out::Field(p) | Out::Default(p) => p,
        }
    }

    /// How it is named in a message: `--out DIR`, `` `output.dir` ``, or the path.
    fn named(&self) -> String {
        match self {
            Out::Flag(p) => format!("--out {}", p.display()),
            Out::Field(p) => format!("`output.dir` ({})", p.display()),
            Out::Default(p) => p.display().to_string(),
        }
    }

    /// Refuses a path that cannot be a result directory (a file, a pseudo file system such
    /// as `/proc`, a name longer than the file system allows), before anything runs.
    pub(crate) fn check(&self) -> Result<(), Failure> {
        match unusable_dir(self.path()) {
            Some(why) => Err(Failure::Input(format!(
                "{}: {why}\n  hint: {}",
                self.named(),
                self.hint()
            ))),
            None => Ok(()),
        }
    }

    fn hint(&self) -> &'static str {
        match self {
            Out::Flag(_) => "give --out a directory that can be created (or one of yours)",
            Out::Field(_) => {
                "set `[output] dir` to a directory that can be created, or leave it out"
            }
            Out::Default(_) => "give --out a directory that can be created",
        }
    }

    /// Claims the directory (see [`claim_dir`]): a named one that holds a result is refused
    /// unless `force`; the default one goes on to `-2`, `-3`, …
    pub(crate) fn claim(&self, force: bool) -> Result<PathBuf, Failure> {
        self.claimed(force).map(|c| c.dir)
    }

    /// [`Out::claim`], saying whether the directory was created.
    pub(crate) fn claimed(&self, force: bool) -> Result<Claimed, Failure> {
        self.check()?;
        let how = match self {
            _ if force => Taking::Forced,
            Out::Flag(_) | Out::Field(_) => Taking::Named,
            Out::Default(_) => Taking::Numbered,
        };
        claim_dir(self.path(), how).map_err(|e| self.failure(e))
    }

    /// What an error claiming the directory means: bad input where the path is at fault,
    /// else a failed run.
    fn failure(&self, e: io::Error) -> Failure {
        if let Some(r) = refusal(&e) {
            return Failure::Input(match self {
                Out::Default(_) => r.to_string(),
                _ if r.path == self.path() => format!("{}: {}", self.named(), r.why),
                _ => format!("{}: {r}", self.named()),
            });
        }
        use io::ErrorKind::*;
        let bad_path = matches!(
            e.kind(),
            PermissionDenied
                | NotADirectory
                | ReadOnlyFilesystem
                | InvalidFilename
                | AlreadyExists
                | InvalidInput
        );
        let msg = format!("{}: cannot be the result directory: {e}", self.named());
        if bad_path {
            Failure::Input(format!("{msg}\n  hint: {}", self.hint()))
        } else {
            Failure::Run(msg)
        }
    }
}
