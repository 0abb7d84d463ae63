//! `mukarrar normalize`: see what the normalizer does to a text.

use std::io::{BufRead, Write};

use anyhow::Context;
use mukarrar::normalize::{visible, Profile};
use mukarrar::pipeline::{Scratch, Settings, Signer};

use crate::cli::{Global, Status};

/// Print the normalized form of a text, as the shingler sees it.
///
/// With TEXT, normalizes it; with `-` or nothing, normalizes standard input line by line.
/// Before the Arabic rules, HTML character references are decoded (`&quot;`, `&#8220;`) and
/// title tags removed from the first line (`عاجل |`, `بالفيديو..`, `- واس`, `(صور)`), as
/// `cluster` does. --explain lists what each step and rule changed. The rules, their order,
/// examples and the profiles: docs/normalization.md.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar normalize 'قال الرئيس إن «الحكومة» ستعلن ٣٫٥ مليون'
  mukarrar normalize --explain 'عاجل | مسئول: &quot;الوضع مستقر&quot;'
  cat titles.txt | mukarrar normalize --profile light")]
pub struct Args {
    /// The text to normalize; `-` (or nothing) reads standard input line by line.
    #[arg(value_name = "TEXT")]
    pub text: Option<String>,

    /// Normalization profile: default, light or none.
    #[arg(long, value_name = "PROFILE", default_value = "default")]
    pub profile: Profile,

    /// Keep title tags (as `cluster --keep-title-tags`).
    #[arg(long)]
    pub keep_title_tags: bool,

    /// After each normalized text, list the steps and rules that changed it and what they
    /// changed.
    #[arg(long)]
    pub explain: bool,
}

pub fn run(args: &Args, _global: &Global) -> anyhow::Result<Status> {
    let settings = Settings {
        profile: args.profile,
        title_tags: !args.keep_title_tags,
        ..Settings::default()
    };
    let signer = Signer::new(&settings);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut scratch = Scratch::default();
    let mut one = |text: &str, out: &mut dyn Write| -> std::io::Result<()> {
        signer.normalize_into(text, &mut scratch);
        writeln!(out, "{}", scratch.normalized)?;
        if args.explain {
            for c in signer.explain(text) {
                writeln!(
                    out,
                    "  {:<4} {}: \"{}\" → \"{}\"",
                    c.rule,
                    c.description,
                    visible(&c.from),
                    visible(&c.to)
                )?;
            }
        }
        Ok(())
    };
    match args.text.as_deref() {
        Some(text) if text != "-" => one(text, &mut out)?,
        _ => {
            let stdin = std::io::stdin();
            for (i, line) in stdin.lock().lines().enumerate() {
                let line = line.with_context(|| format!("standard input, line {}", i + 1))?;
                one(&line, &mut out)?;
            }
        }
    }
    out.flush()?;
    Ok(Status::Ok)
}
