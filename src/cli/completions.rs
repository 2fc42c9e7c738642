//! `microsim completions SHELL`: the shell's completion script for every command and flag
//! (clap_complete), to be sourced by the shell.

use std::process::ExitCode;

use clap_complete::Shell;

use super::Failure;

/// Print the completion script for a shell.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  microsim completions bash > ~/.local/share/bash-completion/completions/microsim
  microsim completions zsh > ~/.zfunc/_microsim      # with fpath+=(~/.zfunc) in ~/.zshrc
  microsim completions fish > ~/.config/fish/completions/microsim.fish")]
pub(super) struct Args {
    /// The shell: bash, zsh, fish, powershell or elvish.
    shell: Shell,
}

pub(super) fn run(args: Args, mut command: clap::Command) -> Result<ExitCode, Failure> {
    let name = super::bin().to_string();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut command, name, &mut out);
    Ok(ExitCode::SUCCESS)
}
