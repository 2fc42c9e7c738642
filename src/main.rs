//! The `microsim` command with the built-in models; see [`microsim::cli`].

#[global_allocator]
static ALLOC: microsim::alloc::Allocator = microsim::alloc::Allocator;

fn main() -> std::process::ExitCode {
    microsim::cli::main(microsim::Registry::builtin())
}
