//! The `microsim` command with the built-in models; see [`microsim::cli`].

fn main() -> std::process::ExitCode {
    microsim::cli::main(microsim::Registry::builtin())
}
