//! The `mukarrar` command: argument parsing and glue over the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
