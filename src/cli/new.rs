//! `microsim new MODEL [PATH]`: a commented starter scenario.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::experiment::registry::starter_scenario;

use super::Failure;

/// Write a commented starter scenario for a model.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  microsim new musical_chairs\n  microsim new musical_chairs robots.toml\n  microsim new musical_chairs -   # print to stdout"
)]
pub(super) struct Args {
    /// The model (see `microsim list`).
    model: String,
    /// Where to write it (default: MODEL.toml; `-` prints it).
    path: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    force: bool,
}

pub(super) fn run(args: Args, registry: &crate::Registry) -> Result<ExitCode, Failure> {
    let Some(info) = registry.model(&args.model) else {
        return Err(Failure::Input(format!(
            "unknown model `{}`\n  hint: the models are {} (`{} list` describes them)",
            args.model,
            registry.listed(),
            super::bin()
        )));
    };
    let text = starter_scenario(&info);
    let path = args
        .path
        .unwrap_or_else(|| PathBuf::from(format!("{}.toml", args.model)));
    if path.as_os_str() == "-" {
        std::io::stdout().lock().write_all(text.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    if path.exists() && !args.force {
        return Err(Failure::Input(format!(
            "{} already exists\n  hint: choose another path, or pass --force to overwrite it",
            path.display()
        )));
    }
    let written =
        crate::experiment::output::AtomicFile::create_following(&path).and_then(|mut f| {
            std::io::Write::write_all(&mut f, text.as_bytes())?;
            f.commit()
        });
    written.map_err(|e| Failure::Input(format!("{}: cannot write: {e}", path.display())))?;
    eprintln!(
        "wrote {} — run it with `{} run {}`",
        path.display(),
        super::bin(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
