//! `mukarrar cluster`: a corpus in, groups of near-duplicates out.

use std::time::Instant;

use mukarrar::pipeline::{self, RunOptions, Stats};
use mukarrar::report::Report;

use crate::cli::args::{inputs_or_stdin, InputArgs, MemoryArgs, OutputArgs, SettingsArgs};
use crate::cli::output::Output;
use crate::cli::paths::Protected;
use crate::cli::progress::Bars;
use crate::cli::{Global, Status};

/// Find groups of near-duplicate documents and report them.
///
/// Reads every INPUT (JSONL, gzip-compressed JSONL, CSV/TSV with a header, a folder, or `-`
/// for standard input; standard input also when no INPUT is given and it is not a terminal),
/// normalizes, shingles and signs each document, finds candidate pairs with LSH, keeps the
/// pairs whose similarity reaches --threshold and reports the connected groups. Documents that
/// are empty after normalization are counted and never clustered. A run that reads no
/// document is an error unless --allow-empty is given.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar cluster samples/headlines.jsonl
  mukarrar cluster news.jsonl.gz --format csv -o clusters.csv
  mukarrar cluster news.jsonl.gz -o report.html     (a page to open in a browser)
  mukarrar cluster articles.csv --text-field body --id-field url --threshold 0.6
  zcat feed.jsonl.gz | mukarrar cluster - --format jsonl
  mukarrar cluster crawl/ --memory-limit 2G --temp-dir /scratch   (larger than memory)")]
pub struct Args {
    /// Input files or folders; `-` reads standard input [default: standard input, when it is
    /// not a terminal].
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub memory: MemoryArgs,
}

pub fn run(args: &Args, global: &Global) -> anyhow::Result<Status> {
    let started = Instant::now();
    let settings = args.settings.settings()?;
    let paths = inputs_or_stdin(&args.inputs, "zcat feed.jsonl.gz | mukarrar cluster -")?;
    let to = args.output.output.as_deref();
    Protected::default().inputs(&paths).check("-o", to)?;
    let format = args.output.format()?;
    let budget = args.memory.budget()?;
    let out = Output::open(to)?;
    let bars = Bars::new(global.quiet);
    let (inputs, watch) = args.input.open(&paths, &bars)?;
    let options = RunOptions {
        skip_invalid: args.input.skip_invalid,
        keep_text: format.needs_text(),
        keep_signatures: false,
        budget: Some(budget),
        every_doc: args.output.include_singletons,
        skip_previews: !format.shows_previews(),
    };
    let outcome = pipeline::run(inputs, &settings, &options, &bars)?;
    watch.check(outcome.stats.documents, outcome.stats.skipped, &bars)?;

    let report_started = Instant::now();
    let report = Report::new(&outcome, paths, args.output.include_singletons);
    out.write(|out| format.write(&report, out))?;
    let mut stats = outcome.stats.clone();
    stats
        .seconds
        .push(("report".into(), report_started.elapsed().as_secs_f64()));
    summary(&bars, &stats, started.elapsed().as_secs_f64());

    if args.output.fail_on_duplicates && stats.duplicates > 0 {
        Ok(Status::DuplicatesFound)
    } else {
        Ok(Status::Ok)
    }
}

/// The summary on stderr: what was read, what was found, where the time went.
pub fn summary(bars: &Bars, stats: &Stats, total: f64) {
    bars.message(&format!(
        "{} documents read ({} skipped as invalid, {} empty after normalization): \
         {} clusters holding {} documents, {} duplicates",
        stats.documents,
        stats.skipped,
        stats.empty,
        stats.clusters,
        stats.clustered,
        stats.duplicates
    ));
    let stages: Vec<String> = stats
        .seconds
        .iter()
        .map(|(name, s)| format!("{name} {s:.2}s"))
        .collect();
    bars.message(&format!(
        "{} exact copies set aside, {} candidate buckets, {} candidate pairs verified; time: {} \
         · total {total:.2}s",
        stats.copies,
        stats.buckets,
        stats.verified,
        stages.join(" · ")
    ));
}
