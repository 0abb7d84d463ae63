//! `mukarrar normalize`: see what the normalizer does to a text.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use mukarrar::normalize::{visible, Profile};
use mukarrar::pipeline::{Scratch, Settings, Signer};

use crate::cli::args::no_input_on_terminal;
use crate::cli::{Global, Status};

/// Fails when the first line of the input is a JSON object: the input is then JSON Lines,
/// and normalizing each line whole would treat the field names and quotes as text (and the
/// start of the line as a title tag).
fn refuse_json(line: &str, number: usize) -> anyhow::Result<()> {
    let trimmed = line.trim().trim_start_matches('\u{feff}');
    if trimmed.starts_with('{')
        && serde_json::from_str::<serde_json::Value>(trimmed).is_ok_and(|v| v.is_object())
    {
        anyhow::bail!(
            "standard input, line {number}: this is a JSON object, and normalize reads plain \
             text, one text per line; extract the text first, e.g. `jq -r .title FILE | \
             mukarrar normalize`"
        );
    }
    Ok(())
}

/// Print the normalized form of a text, as the shingler sees it.
///
/// With TEXT, normalizes it; with `-` (or nothing, when standard input is not a terminal),
/// reads plain text from standard input, one text per line, and prints one normalized line
/// for each. Input that is JSON Lines is refused: extract the text first (`jq -r .title`).
/// Before the Arabic rules, HTML character references are decoded (`&quot;`, `&#8220;`) and
/// title tags removed from the first line (`عاجل |`, `بالفيديو..`, `- واس`, `(صور)`), as
/// `cluster` does. --explain lists what each step and rule changed. The rules, their order,
/// examples and the profiles: docs/normalization.md.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar normalize 'قال الرئيس إن «الحكومة» ستعلن ٣٫٥ مليون'
  mukarrar normalize --explain 'عاجل | مسئول: &quot;الوضع مستقر&quot;'
  cat titles.txt | mukarrar normalize --profile light
  jq -r .title samples/headlines.jsonl | mukarrar normalize")]
pub struct Args {
    /// The text to normalize; `-` reads plain text from standard input, one text per line
    /// [default: standard input, when it is not a terminal].
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
        given => {
            if given.is_none() {
                no_input_on_terminal(
                    std::io::stdin().is_terminal(),
                    "give the TEXT",
                    "cat titles.txt | mukarrar normalize -",
                )?;
            }
            let stdin = std::io::stdin();
            let mut checked = false;
            for (i, line) in stdin.lock().lines().enumerate() {
                let line = line.with_context(|| format!("standard input, line {}", i + 1))?;
                if !checked && !line.trim().is_empty() {
                    checked = true;
                    refuse_json(&line, i + 1)?;
                }
                one(&line, &mut out)?;
            }
        }
    }
    out.flush()?;
    Ok(Status::Ok)
}
