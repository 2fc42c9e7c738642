//! The `microsim` command line, as a library call: [`main`] runs it for a [`Registry`], so a
//! crate of your own gets every command with its own models. Each subcommand lives in its own
//! file; the exit codes are 0 (ok), 1 (the run failed), 2 (bad input or usage) and 130
//! (interrupted, partial results kept).

mod check;
mod compare;
mod completions;
mod list;
mod merge;
mod new;
mod out;
mod plot;
mod progress;
mod resume;
mod run;
mod serve;
mod show;
mod table;

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::OnceLock;

use crate::Registry;
use crate::experiment::scenario::{Override, ScenarioError};
use crate::experiment::team::{Alone, Team};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// The version `--version` prints: the crate's, and the commit it was built from when
/// known (`0.1.0 (commit 7ba2f4d0c1e2)`; written by build.rs).
const VERSION: &str = env!("MICROSIM_VERSION_LINE");

/// microsim: run lightweight-task microsimulations from scenario files.
#[derive(Parser, Debug)]
#[command(name = "microsim", version = VERSION, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    /// When to colour messages: auto (a terminal, and NO_COLOR unset), always or never.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

const EXAMPLES: &str = "\
Examples:
  microsim run scenarios/musical_chairs.toml
  microsim run scenarios/musical_chairs.toml --set model.robots=1000000 --seed 7
  microsim check scenarios/musical_chairs.toml
  microsim list
  microsim new musical_chairs my_robots.toml
  microsim compare outputs/mamma_mia outputs/mamma_mia-2
  microsim resume outputs/robots/checkpoints/step-000040.ckpt --threads 16
  microsim run scenarios/mamma_mia.toml --replications 10000 --serve   # a live view";

#[derive(Subcommand, Debug)]
enum Command {
    Run(run::Args),
    Check(check::Args),
    Compare(compare::Args),
    List(list::Args),
    Merge(merge::Args),
    New(new::Args),
    Plot(plot::Args),
    Resume(resume::Args),
    Serve(serve::Args),
    Completions(completions::Args),
}

/// Why a command failed, and so its exit code.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad input or usage: exit 2.
    Input(String),
    /// The run itself failed (I/O while writing results, …): exit 1.
    Run(String),
}

impl From<ScenarioError> for Failure {
    fn from(e: ScenarioError) -> Self {
        Failure::Input(e.to_string())
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Run(e.to_string())
    }
}

/// The flag that is shorthand for `field`.
fn flag_of(field: &str) -> &'static str {
    match field {
        "run.seed" => "--seed",
        "run.threads" => "--threads",
        "montecarlo.replications" => "--replications",
        _ => "--set",
    }
}

/// Turns `--set` texts and flag shorthands (`(field, value)`) into overrides. A flag's value
/// is taken as the whole number it is: one beyond TOML's 64-bit integers (which no field
/// accepts) is refused here, saying the number and the field's range.
pub(crate) fn overrides(
    sets: &[String],
    flags: &[(&str, Option<u64>)],
) -> Result<Vec<Override>, ScenarioError> {
    let mut out: Vec<Override> = sets.iter().map(|s| s.parse()).collect::<Result<_, _>>()?;
    for (field, value) in flags {
        if let Some(v) = value {
            out.push(Override::flag(flag_of(field), field, *v)?);
        }
    }
    Ok(out)
}

/// Runs the command line of this process (`std::env::args`) with the models of `registry`,
/// and returns the exit code. A crate's whole `main`:
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     microsim::cli::main(microsim::Registry::builtin())
/// }
/// ```
pub fn main(registry: Registry) -> ExitCode {
    crate::alloc::keep_freed_pages();
    run(registry, std::env::args_os())
}

/// Runs the command line `args` (the first is the program name) with the models of
/// `registry`, and returns the exit code; what [`main`] does with the process's arguments.
pub fn run<I, T>(registry: Registry, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let command_line = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Some(name) = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_stem())
    {
        let _ = BIN.set(name.to_string_lossy().into_owned());
    }
    let parsed = command()
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let _ = COLOR.set(cli.color);
    // Under an MPI launcher (with the `mpi` feature), this process is one rank of the run.
    #[cfg(feature = "mpi")]
    let mpi_team = match &cli.command {
        Command::Run(_) | Command::Resume(_) => {
            match crate::experiment::team::mpi::MpiTeam::from_launcher() {
                Ok(team) => team,
                Err(e) => return report(&format!("MPI: {e}"), 1),
            }
        }
        _ => None,
    };
    #[cfg(feature = "mpi")]
    let team: &dyn Team = match &mpi_team {
        Some(t) => t,
        None => &Alone,
    };
    #[cfg(not(feature = "mpi"))]
    let team: &dyn Team = &Alone;
    let rank = team.rank();
    let result = match cli.command {
        Command::Run(a) => run::run(a, &registry, command_line, team),
        Command::Check(a) => check::run(a, &registry),
        Command::Compare(a) => compare::run(a),
        Command::List(a) => list::run(a, &registry),
        Command::Merge(a) => merge::run(a, &registry, command_line),
        Command::New(a) => new::run(a, &registry),
        Command::Plot(a) => plot::run(a),
        Command::Resume(a) => resume::run(a, &registry, command_line, team),
        Command::Serve(a) => serve::run(a),
        Command::Completions(a) => completions::run(a, command()),
    };
    let ranked = |msg: String| match rank {
        0 => msg,
        r => format!("rank {r}: {msg}"),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Run(msg)) if msg.contains("Broken pipe") => ExitCode::SUCCESS,
        Err(Failure::Input(msg)) => report(&ranked(msg), 2),
        Err(Failure::Run(msg)) => report(&ranked(msg), 1),
    }
}

fn report(msg: &str, code: u8) -> ExitCode {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{} {}", error_label(), own_name(msg));
    ExitCode::from(code)
}

/// The program's name as the user ran it (`microsim`, or the name of a crate's own binary).
static BIN: OnceLock<String> = OnceLock::new();
/// `--color`, once parsed.
static COLOR: OnceLock<Color> = OnceLock::new();

/// The program's name as the user ran it: what hints tell them to type.
pub(crate) fn bin() -> &'static str {
    BIN.get().map_or("microsim", String::as_str)
}

/// `text` with every command it quotes (`` `microsim …` ``) naming this program instead, for
/// a crate's own binary (`my_models list`).
pub(crate) fn own_name(text: &str) -> String {
    renamed(text, bin())
}

/// `text` with the commands it quotes naming `name` instead of `microsim`.
fn renamed(text: &str, name: &str) -> String {
    match name {
        "microsim" => text.to_string(),
        name => text
            .replace("`microsim ", &format!("`{name} "))
            .replace("  microsim ", &format!("  {name} ")),
    }
}

/// The command line's definition, its examples naming this program.
fn command() -> clap::Command {
    let name = bin();
    let mut cmd = Cli::command();
    if name != "microsim" {
        cmd = cmd.name(name).bin_name(name);
        fn rename(c: clap::Command) -> clap::Command {
            match c.get_after_help().map(|h| h.to_string()) {
                Some(h) => c.after_help(own_name(&h)),
                None => c,
            }
        }
        cmd = rename(cmd);
        let subs: Vec<String> = cmd
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect();
        for sub in subs {
            cmd = cmd.mut_subcommand(sub, rename);
        }
    }
    cmd
}

/// Whether messages on stderr are coloured: `--color`, else a terminal with NO_COLOR unset.
fn colour() -> bool {
    match COLOR.get().copied().unwrap_or(Color::Auto) {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// `error:`, in bold red where colour is on.
fn error_label() -> String {
    paint("error:", "1;31")
}

/// `note:`, in bold (not red: a note is not an error) where colour is on.
pub(crate) fn note_label() -> String {
    paint("note:", "1")
}

fn paint(text: &str, sgr: &str) -> String {
    if colour() {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_the_binary_that_runs() {
        let hint =
            "unknown model `x`\n  hint: the models are `pi` (`microsim list` describes them)";
        assert_eq!(
            renamed(hint, "my_models"),
            "unknown model `x`\n  hint: the models are `pi` (`my_models list` describes them)"
        );
        assert_eq!(renamed(hint, "microsim"), hint);
        let help = "Examples:\n  microsim run a.toml\n  microsim list";
        assert_eq!(
            renamed(help, "walkers"),
            "Examples:\n  walkers run a.toml\n  walkers list"
        );
    }

    #[test]
    fn flags_beyond_toml_integers_say_the_number_and_the_range() {
        let e = overrides(&[], &[("run.threads", Some(u64::MAX))]).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("--threads 18446744073709551615")
                && msg.contains("`run.threads` is too large: 18446744073709551615")
                && msg.contains("from 0 to 1024")
                && !msg.contains("-1"),
            "{msg}"
        );
        let e = overrides(&[], &[("run.seed", Some(1 << 63))]).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("9223372036854775808") && !msg.contains("-9223372036854775808"),
            "{msg}"
        );
        assert!(msg.contains("from 0 to 9223372036854775807"), "{msg}");
        let ok = overrides(&[], &[("run.seed", Some(i64::MAX as u64))]).unwrap();
        assert_eq!(ok[0].value(), &toml::Value::Integer(i64::MAX));
    }
}
