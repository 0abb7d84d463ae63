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

    /// Worker threads (default: one per CPU core; at most 8 per core). Results do not
    /// depend on it.
    #[arg(short = 'j', long, global = true, value_name = "N", value_parser = args::count,
          allow_negative_numbers = true)]
    threads: Option<usize>,
}

/// Threads beyond this many per core only add memory and start-up time (each has its own
/// stack): `-j 10000` is a mistake to refuse, not a pool to build.
const THREADS_PER_CORE: usize = 8;

/// Checks --threads against the machine: 1 to [`THREADS_PER_CORE`] per core.
fn check_threads(threads: usize, cores: usize) -> anyhow::Result<()> {
    let max = THREADS_PER_CORE * cores.max(1);
    if threads == 0 || threads > max {
        anyhow::bail!(
            "--threads {threads} is out of range (1 to {max}: {THREADS_PER_CORE} per core, and \
             this machine has {cores})"
        );
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
enum Command {
    Cluster(cmd::cluster::Args),
    Compare(cmd::compare::Args),
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
    /// `compare` found the pair distinct (exit 1, as `cmp` and `diff` for a difference).
    Distinct,
    /// Stopped by a signal: exit with this status (130 for SIGINT, 143 for SIGTERM).
    Signal(u8),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    cleanup::install();
    match run(cli) {
        Ok(Status::Ok) => ExitCode::SUCCESS,
        Ok(Status::DuplicatesFound | Status::Distinct) => ExitCode::from(1),
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
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        check_threads(n, cores)?;
        pool = pool.num_threads(n);
    }
    let pool = pool.build()?;
    let global = &cli.global;
    pool.install(|| match &cli.command {
        Command::Cluster(args) => cmd::cluster::run(args, global),
        Command::Compare(args) => cmd::compare::run(args, global),
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

    #[test]
    fn threads_are_bounded_by_the_cores() {
        check_threads(1, 2).unwrap();
        check_threads(16, 2).unwrap();
        let err = check_threads(17, 2).unwrap_err().to_string();
        assert_eq!(
            err,
            "--threads 17 is out of range (1 to 16: 8 per core, and this machine has 2)"
        );
        assert!(check_threads(0, 2).is_err());
        assert!(check_threads(10_000, 64).is_err());
    }
}
