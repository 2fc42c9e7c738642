//! Helpers for tests that run the real `microsim` binary: spawning it, checking how it ended,
//! and (in `files`) reading the result directory it writes.

#![allow(dead_code)]

pub mod files;
pub mod fingerprint;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A scenario parsed from `text` by the built-in registry, with `overrides` (a test's own
/// scenario: any error is the test's bug).
pub fn scenario(
    text: &str,
    overrides: &[microsim::internal::scenario::Override],
) -> microsim::internal::scenario::Scenario {
    microsim::Registry::builtin()
        .parse(text.as_bytes(), Path::new("test.toml"), overrides)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_microsim");

/// A small scenario (200 robots, 30×30 cells, 5 rounds, 20 replications) that runs in
/// milliseconds even in a debug build.
pub fn small() -> String {
    repo_path("scenarios/musical_chairs_small.toml")
}

/// A path inside the repository, as text.
pub fn repo_path(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    path.to_str()
        .expect("the repository path is UTF-8")
        .to_string()
}

/// A file of the bad-input corpus.
pub fn bad_input(file: &str) -> String {
    repo_path(&format!("tests/bad_inputs/{file}"))
}

/// A path as text, for an argument list.
pub fn arg(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// What a finished `microsim` said and how it ended.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code; `None` if a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn of(out: Output) -> Self {
        Outcome {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts exit code 0 and no panic, showing the output otherwise.
    pub fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "expected success\n{self}");
        assert!(
            !self.stderr.contains("panicked"),
            "the binary panicked\n{self}"
        );
        self
    }

    /// What is wrong with this as the refusal of bad input: exit code 2, every `expect` on
    /// stderr, no `forbid` there, and nothing written in `dir`. Empty if nothing is.
    pub fn refusal_problems(&self, expect: &[&str], forbid: &[&str], dir: &Path) -> Vec<String> {
        let mut wrong = Vec::new();
        if self.code != Some(2) {
            wrong.push(format!("exit code {:?}, not 2", self.code));
        }
        let missing = expect.iter().filter(|e| !self.stderr.contains(*e));
        wrong.extend(missing.map(|e| format!("stderr lacks {e:?}")));
        let said = forbid.iter().filter(|f| self.stderr.contains(*f));
        wrong.extend(said.map(|f| format!("stderr says {f:?}")));
        let written = files::names_in(dir);
        if !written.is_empty() {
            wrong.push(format!("wrote {written:?}"));
        }
        wrong
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Outcome {
            code,
            stdout,
            stderr,
        } = self;
        write!(
            f,
            "exit code: {code:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        )
    }
}

/// A `microsim` command that runs in `dir` (so nothing lands in the repository).
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .env_remove("NO_COLOR");
    c
}

/// Runs `microsim args…` in `dir` to the end.
pub fn microsim(dir: &Path, args: &[&str]) -> Outcome {
    Outcome::of(command(dir, args).output().expect("the binary starts"))
}

/// Runs `microsim args…` in `dir` and asserts it succeeded.
pub fn microsim_ok(dir: &Path, args: &[&str]) -> Outcome {
    microsim(dir, args).ok()
}

/// A child process that is killed if the test ends (or panics) before it exits.
pub struct Running(Option<Child>);

impl Running {
    /// Starts `microsim args…` in `dir` with its output captured.
    pub fn start(dir: &Path, args: &[&str]) -> Self {
        let child = command(dir, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        Running(Some(child))
    }

    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("the child is still held")
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child().try_wait().expect("try_wait works").is_none()
    }

    /// Waits up to `limit` for the process to end, then collects its output.
    pub fn wait(mut self, limit: Duration) -> Outcome {
        let deadline = Instant::now() + limit;
        while self.alive() {
            assert!(
                Instant::now() < deadline,
                "the process did not end within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let child = self.0.take().expect("the child is still held");
        Outcome::of(child.wait_with_output().expect("the output can be read"))
    }
}

impl From<Child> for Running {
    /// A child started some other way (under `sh -c`, with limits).
    fn from(child: Child) -> Self {
        Running(Some(child))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
