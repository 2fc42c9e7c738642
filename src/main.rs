//! The `microsim` command: parses arguments, calls the library, maps the outcome to an exit
//! code (0 ok, 1 run failed, 2 bad input or usage, 130 interrupted).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
