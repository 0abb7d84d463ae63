//! `mukarrar completions` and `mukarrar man`: shell completion scripts and manual pages,
//! generated from the same clap definitions as `--help` (clap_complete, clap_mangen).

use anyhow::Context;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, Status};

/// Print a completion script for a shell.
///
/// The script completes commands, options and their values (formats, profiles, shells).
/// Write it where the shell looks for completions, or source it from the shell's startup file.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar completions bash > ~/.local/share/bash-completion/completions/mukarrar
  mukarrar completions zsh > ~/.zfunc/_mukarrar    # with fpath+=(~/.zfunc) before compinit
  mukarrar completions fish > ~/.config/fish/completions/mukarrar.fish
  mukarrar completions powershell >> $PROFILE")]
pub struct Args {
    /// The shell.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// Print a manual page (roff) for mukarrar or for one of its commands.
///
/// Without COMMAND, the page of `mukarrar` itself, which lists the commands; with it, the page
/// of that command (`mukarrar man index add` for a command of `index`).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar man | man -l -
  mukarrar man cluster > mukarrar-cluster.1
  mukarrar man > /usr/local/share/man/man1/mukarrar.1")]
pub struct ManArgs {
    /// A command, as typed after `mukarrar`.
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}

pub fn completions(args: &Args) -> anyhow::Result<Status> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "mukarrar", &mut script);
    crate::cli::output::write_to(None, |w| w.write_all(&script))?;
    Ok(Status::Ok)
}

pub fn man(args: &ManArgs) -> anyhow::Result<Status> {
    let mut cmd = Cli::command();
    // Gives each command its full name (`mukarrar-index-add`) for the page's title.
    cmd.build();
    let mut page = &cmd;
    for (i, name) in args.command.iter().enumerate() {
        page = page.find_subcommand(name).with_context(|| {
            let known: Vec<&str> = page
                .get_subcommands()
                .filter(|c| c.get_name() != "help")
                .map(|c| c.get_name())
                .collect();
            let asked = args.command[..=i].join(" ");
            let parent = page.get_bin_name().unwrap_or("mukarrar");
            if known.is_empty() {
                format!("no command `{asked}`: `{parent}` has no commands")
            } else {
                format!(
                    "no command `{asked}`: the commands of `{parent}` are {}",
                    known.join(", ")
                )
            }
        })?;
    }
    let mut roff = Vec::new();
    clap_mangen::Man::new(page.clone())
        .source(format!("mukarrar {}", env!("CARGO_PKG_VERSION")))
        .render(&mut roff)?;
    crate::cli::output::write_to(None, |w| w.write_all(&roff))?;
    Ok(Status::Ok)
}
