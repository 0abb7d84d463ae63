//! Command-line front end: clap arguments → validated library settings → library call → exit
//! code. Only this module knows about clap, indicatif and the terminal.

mod args;
mod cleanup;
mod cmd;
mod output;
mod paths;
mod progress;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Find near-duplicate Arabic texts and group them.
///
/// mukarrar normalizes Arabic spelling (hamza seats, alef/yeh/teh-marbuta variants, Persian
/// letters, diacritics, tatweel, digits, invisible marks), cuts each text into shingles,
/// signs it with MinHash, finds candidate pairs with LSH banding, verifies them against a
/// similarity threshold and reports the resulting clusters.
#[derive(Debug, Parser)]
#[command(
    name = "mukarrar",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options of every subcommand.
#[derive(Debug, clap::Args)]
struct Global {
    /// No progress bars, warnings or summary on stderr (errors are still printed).
    #[arg(short, long, global = true)]
    quiet: bool,

    /// Worker threads (default: one per CPU core). Results do not depend on it.
    #[arg(short = 'j', long, global = true, value_name = "N")]
    threads: Option<usize>,
}

#[derive(Debug, Subcommand)]
enum Command {
    Cluster(cmd::cluster::Args),
    Eval(cmd::eval::Args),
    Filter(cmd::filter::Args),
    Index(cmd::index::Args),
    Normalize(cmd::normalize::Args),
    Params(cmd::params::Args),
    Sign(cmd::sign::Args),
    Completions(cmd::completions::Args),
    Man(cmd::completions::ManArgs),
}

/// Exit statuses (see DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Success.
    Ok,
    /// Duplicates were found and `--fail-on-duplicates` was given.
    DuplicatesFound,
    /// Stopped by a signal: exit with this status (130 for SIGINT, 143 for SIGTERM).
    Signal(u8),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    cleanup::install();
    match run(cli) {
        Ok(Status::Ok) => ExitCode::SUCCESS,
        Ok(Status::DuplicatesFound) => ExitCode::from(1),
        Ok(Status::Signal(code)) => ExitCode::from(code),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            print_error(&err);
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Status> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = cli.global.threads {
        if n == 0 {
            anyhow::bail!("--threads must be at least 1");
        }
        pool = pool.num_threads(n);
    }
    let pool = pool.build()?;
    let global = &cli.global;
    pool.install(|| match &cli.command {
        Command::Cluster(args) => cmd::cluster::run(args, global),
        Command::Eval(args) => cmd::eval::run(args, global),
        Command::Filter(args) => cmd::filter::run(args, global),
        Command::Index(args) => cmd::index::run(args, global),
        Command::Normalize(args) => cmd::normalize::run(args, global),
        Command::Params(args) => cmd::params::run(args, global),
        Command::Sign(args) => cmd::sign::run(args, global),
        Command::Completions(args) => cmd::completions::completions(args),
        Command::Man(args) => cmd::completions::man(args),
    })
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<mukarrar::Error>()
                .is_some_and(|e| matches!(e, mukarrar::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe))
    })
}

fn print_error(err: &anyhow::Error) {
    let mut msg = err.to_string();
    for cause in err.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    // The label's colour is added after the message's control characters are escaped.
    let color = std::io::stderr().is_terminal();
    let label = if color {
        "\x1b[1;31merror:\x1b[0m "
    } else {
        "error: "
    };
    progress::labelled_stderr_line(label, &msg);
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
