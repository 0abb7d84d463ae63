//! `mukarrar index`: a persistent index that each day's documents are added to and checked
//! against (create, add, query, remove, stats, export).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Args as _, FromArgMatches, Subcommand};
use mukarrar::index::{
    Access, AddOptions, Change, ChangeStats, Index, NearestOptions, Neighbour, OnDuplicate,
};
use mukarrar::lsh::LshParams;
use mukarrar::pipeline::Settings;
use mukarrar::report::{self, Format};
use serde::Serialize;

use crate::cli::args::{
    self, inputs_or_stdin, ClusterArgs, InputArgs, LshArgs, OutputArgs, SettingsArgs, SignatureArgs,
};
use crate::cli::output::{self, Output};
use crate::cli::paths::Protected;
use crate::cli::progress::Bars;
use crate::cli::{Global, Status};

/// Keep a persistent index of documents; add each day's documents and learn which repeat
/// stories already held.
///
/// The index is one SQLite file (WAL mode: readers work while `add` runs). Its signature,
/// LSH and clustering settings are fixed by `create`. `add` signs only the new documents,
/// matches them against the indexed ones and each other, stores them and reports which joined
/// which existing clusters and which formed new ones; clusters are those `mukarrar cluster`
/// finds over all the documents together, and cluster ids stay stable across runs.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar index create news.db --threshold 0.6
  mukarrar index add news.db crawl-2024-05-01.jsonl.gz --batch-size 10000
  mukarrar index query news.db today.jsonl --format json
  mukarrar index remove news.db --before 2023-01-01
  mukarrar index stats news.db
  mukarrar index export news.db --format csv -o clusters.csv
  mukarrar index check news.db")]
pub struct Args {
    #[command(subcommand)]
    pub command: IndexCommand,
}

/// The index subcommands.
#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    Create(CreateArgs),
    Add(AddArgs),
    Query(QueryArgs),
    Remove(RemoveArgs),
    Stats(StatsArgs),
    Export(ExportArgs),
    Check(CheckArgs),
}

/// Create an empty index with fixed signature, LSH and clustering settings.
///
/// The flags are those of `mukarrar cluster`; they cannot change later (build a new index
/// to change them). --verify exact is not available: an index keeps signatures, not shingle
/// sets.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar index create news.db
  mukarrar index create news.db --threshold 0.6 --num-perm 256
  mukarrar index create headlines.db --shingle char --ngram 4 --measure containment")]
pub struct CreateArgs {
    /// The index file to create (must not exist).
    #[arg(value_name = "DB")]
    pub db: PathBuf,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

/// Add documents to an index and report which joined existing clusters and which formed
/// new ones.
///
/// Documents whose id is already indexed are skipped by default (--on-duplicate-id). The
/// run is one transaction, or one per --batch-size input records: a run that is stopped or
/// fails keeps every committed batch, and running the same input again completes it.
/// Signature, LSH and clustering flags may be given only to check them: they must match the
/// settings the index was created with.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar index add news.db crawl-2024-05-01.jsonl.gz
  mukarrar index add news.db day1.jsonl day2.jsonl --batch-size 5000 --format json -o added.json
  mukarrar index add news.db fixes.jsonl --on-duplicate-id replace
  mukarrar index add news.db feed.csv --text-field body --id-field url --keep-field source")]
pub struct AddArgs {
    /// The index file.
    #[arg(value_name = "DB")]
    pub db: PathBuf,
    /// Input files or folders; `-` reads standard input [default: standard input, when it is
    /// not a terminal].
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Commit after every N input records (each commit is reported on stderr) instead of
    /// once at the end.
    #[arg(long, value_name = "N", value_parser = crate::cli::args::at_least_one, allow_negative_numbers = true)]
    pub batch_size: Option<u64>,
    /// What to do with a document whose id is already indexed (or earlier in the input):
    /// `skip` it (counted), `replace` the stored one, or stop with an `error`.
    #[arg(long, value_name = "POLICY", default_value = "skip")]
    pub on_duplicate_id: OnDuplicate,
    /// Store this input field with each document (repeatable); `export` does not show it,
    /// SQLite queries on the `documents.fields` JSON do.
    #[arg(long = "keep-field", value_name = "FIELD")]
    pub keep_fields: Vec<String>,
    /// Record DATE (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, with an optional offset such as
    /// +03:00; UTC without one) as the documents' first-seen time instead of now, e.g. when
    /// loading older crawls; `remove --before` uses it.
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    pub first_seen: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Report what adding documents would do, without changing the index; or, with --top, the
/// stored documents most similar to each document.
///
/// The same report as `add`, from the index as of one commit (a concurrent `add` does not
/// mix into it); the file is opened read-only. Documents whose id is already indexed are
/// skipped and counted.
///
/// With --top K ("have we run this already?"), for each input document the K stored documents
/// most similar to it, best first (equal similarities: the one added first), one row per
/// (query, neighbour): `query_id,rank,id,similarity,duplicate,cluster_id` in CSV, objects with
/// the neighbour's first words too in JSON and JSON Lines, a list per document in text.
/// `duplicate` says whether the index's rule makes the two duplicates. The neighbours are
/// ranked among the candidates the index's LSH bands find, as `add` finds them: documents far
/// below the threshold are rarely candidates, so a document may have fewer than K neighbours
/// while less similar stored documents exist. A stored document with the input document's own
/// id is left out (it is the document itself); ids already indexed are not skipped.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar index query news.db today.jsonl
  mukarrar index query news.db today.jsonl --format csv -o matches.csv --include-singletons
  mukarrar index query news.db draft.jsonl --top 5
  mukarrar index query news.db today.jsonl --top 3 --min-similarity 0.5 --format jsonl")]
pub struct QueryArgs {
    /// The index file.
    #[arg(value_name = "DB")]
    pub db: PathBuf,
    /// Input files or folders; `-` reads standard input [default: standard input, when it is
    /// not a terminal].
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// List for each input document the K most similar stored documents (among the LSH
    /// candidates) instead of the clusters it would join; --fail-on-duplicates then exits
    /// with status 1 when a neighbour is a duplicate.
    #[arg(long, value_name = "K", value_parser = crate::cli::args::at_least_one,
          allow_negative_numbers = true, conflicts_with = "include_singletons")]
    pub top: Option<u64>,
    /// With --top: leave out neighbours less similar than S (0 to 1) [default: every
    /// candidate the rule can compare, that is a similarity above 0; a short text and a long
    /// one, or two short texts with different numbers, are never compared].
    #[arg(
        long,
        value_name = "S",
        requires = "top",
        allow_negative_numbers = true
    )]
    pub min_similarity: Option<f64>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Remove documents by id, or every document first seen before a date.
///
/// Band keys go with the documents; a cluster that loses members is clustered again from
/// its remaining members, and may split: the part holding its oldest remaining member keeps
/// the id, other parts are named after their own oldest member. One transaction.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar index remove news.db article-17 article-18
  mukarrar index remove news.db --before 2023-01-01")]
pub struct RemoveArgs {
    /// The index file.
    #[arg(value_name = "DB")]
    pub db: PathBuf,
    /// Ids of the documents to remove.
    #[arg(
        value_name = "ID",
        required_unless_present = "before",
        conflicts_with = "before"
    )]
    pub ids: Vec<String>,
    /// Remove every document first seen before DATE (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, with
    /// an optional offset such as +03:00; UTC without one).
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    pub before: Option<String>,
    /// Output format: text or json.
    #[arg(short, long, value_name = "FORMAT", default_value = "text")]
    pub format: SummaryFormat,
}

/// Show an index's settings and counts.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar index stats news.db
  mukarrar index stats news.db --format json")]
pub struct StatsArgs {
    /// The index file.
    #[arg(value_name = "DB")]
    pub db: PathBuf,
    /// Output format: text or json.
    #[arg(short, long, value_name = "FORMAT", default_value = "text")]
    pub format: SummaryFormat,
}

/// Write every cluster of an index, as `mukarrar cluster` reports them.
///
/// The CSV is `cluster_id,doc_id,similarity,is_representative`, one row per document in a
/// cluster of two or more (--include-singletons adds the rest).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar index export news.db --format csv -o clusters.csv
  mukarrar index export news.db --format jsonl --include-singletons
  mukarrar index export news.db --batch 12 --format json -o batch-12.json")]
pub struct ExportArgs {
    /// The index file.
    #[arg(value_name = "DB")]
    pub db: PathBuf,
    /// Write the report of committed batch N instead, in the formats of `add`: the clusters
    /// its documents formed or joined (as they are now), its documents marked new, and the
    /// clusters it merged. Right after the batch it is the report `add` wrote.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub batch: Option<u64>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// A date flag's value, checked when the command line is read (before any work).
fn date_arg(s: &str) -> Result<String, String> {
    mukarrar::date::parse(s).map(|_| s.to_string())
}

/// Check an index for damage: SQLite's integrity check of every page, the stored settings,
/// and mukarrar's own invariants.
///
/// Reads the whole file (read-only), so it takes time in proportion to its size. Exits with
/// status 0 when the index is sound and 2, listing the problems, when it is not: run it
/// before a nightly `add` to never write into a damaged file.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar index check news.db
  mukarrar index check news.db && mukarrar index add news.db today.jsonl")]
pub struct CheckArgs {
    /// The index file.
    #[arg(value_name = "DB")]
    pub db: PathBuf,
    /// Output format: text or json.
    #[arg(short, long, value_name = "FORMAT", default_value = "text")]
    pub format: SummaryFormat,
}

/// Output formats of `stats`, `remove` and `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormat {
    /// Lines for people.
    Text,
    /// One JSON document.
    Json,
}

pub fn run(args: &Args, global: &Global) -> anyhow::Result<Status> {
    match &args.command {
        IndexCommand::Create(a) => create(a, global),
        IndexCommand::Add(a) => add(a, global),
        IndexCommand::Query(a) => query(a, global),
        IndexCommand::Remove(a) => remove(a),
        IndexCommand::Stats(a) => stats(a),
        IndexCommand::Export(a) => export(a),
        IndexCommand::Check(a) => check(a),
    }
}

fn create(args: &CreateArgs, global: &Global) -> anyhow::Result<Status> {
    let settings = args.settings.settings()?;
    // Stopped by a signal, the half-built file goes too.
    let _registered: Vec<_> = Index::temporary_paths(&args.db)
        .iter()
        .map(|p| crate::cli::cleanup::register(p))
        .collect();
    let index = Index::create(&args.db, &settings)?;
    if !global.quiet {
        crate::cli::progress::stderr_line(&format!(
            "created {} with {}",
            index.path().display(),
            flag_line(&settings_flags(index.settings()))
        ));
    }
    Ok(Status::Ok)
}

/// The inputs of `add` or `query` (standard input when none is named; `example` shows how to
/// name one), checked so that the report can overwrite neither them nor the index, and the
/// report format.
fn checked_paths(
    db: &Path,
    inputs: &[String],
    output: &OutputArgs,
    example: &str,
) -> anyhow::Result<(Vec<String>, Format)> {
    let paths = inputs_or_stdin(inputs, example)?;
    Protected::default()
        .index(db)
        .inputs(&paths)
        .check("-o", output.output.as_deref())?;
    Ok((paths, output.format()?))
}

fn add(args: &AddArgs, global: &Global) -> anyhow::Result<Status> {
    let started = Instant::now();
    let (paths, format) = checked_paths(
        &args.db,
        &args.inputs,
        &args.output,
        "zcat today.jsonl.gz | mukarrar index add news.db -",
    )?;
    let to = args.output.output.as_deref();
    let mut index = Index::open(&args.db, Access::ReadWrite)?;
    check_settings(&index)?;
    // Before the first commit: a report that cannot be written stops the run here.
    let out = Output::open(to)?;
    let bars = Bars::new(global.quiet);
    let (inputs, watch) = args.input.open_keeping(&paths, &args.keep_fields, &bars)?;
    let options = AddOptions {
        on_duplicate: args.on_duplicate_id,
        batch_size: args.batch_size.map(|n| n as usize),
        skip_invalid: args.input.skip_invalid,
        first_seen: args.first_seen.clone(),
        include_singletons: args.output.include_singletons,
    };
    let batches = args.batch_size.is_some();
    let mut committed = Vec::new();
    let change = index.add(inputs, &options, &bars, &mut |c| {
        committed.push(c.batch);
        if batches {
            bars.message(&format!(
                "committed batch {}: {} records, {} documents added, {} indexed",
                c.batch, c.records, c.added, c.indexed
            ));
        }
    })?;
    watch.check(
        change.stats.read - change.stats.invalid,
        change.stats.invalid,
        &bars,
    )?;
    out.write(|w| change.write(format, w)).with_context(|| {
        let again: Vec<String> = committed
            .iter()
            .map(|b| format!("`mukarrar index export {} --batch {b}`", args.db.display()))
            .collect();
        format!(
            "the documents are added ({} batches committed); the report of each batch can be \
             written again with {}",
            committed.len(),
            again.join(", ")
        )
    })?;
    finish(&change, &args.output, &bars, started)
}

fn query(args: &QueryArgs, global: &Global) -> anyhow::Result<Status> {
    if let Some(top) = args.top {
        return nearest(args, top as usize, global);
    }
    let started = Instant::now();
    let (paths, format) = checked_paths(
        &args.db,
        &args.inputs,
        &args.output,
        "mukarrar index query news.db today.jsonl",
    )?;
    let to = args.output.output.as_deref();
    let index = Index::open(&args.db, Access::ReadOnly)?;
    check_settings(&index)?;
    let out = Output::open(to)?;
    let bars = Bars::new(global.quiet);
    let (inputs, watch) = args.input.open(&paths, &bars)?;
    let options = AddOptions {
        skip_invalid: args.input.skip_invalid,
        include_singletons: args.output.include_singletons,
        ..AddOptions::default()
    };
    let change = index.query(inputs, &options, &bars)?;
    watch.check(
        change.stats.read - change.stats.invalid,
        change.stats.invalid,
        &bars,
    )?;
    out.write(|w| change.write(format, w))?;
    finish(&change, &args.output, &bars, started)
}

/// `index query --top`: the nearest stored documents of each input document, written as
/// each chunk of input is ranked.
fn nearest(args: &QueryArgs, top: usize, global: &Global) -> anyhow::Result<Status> {
    let started = Instant::now();
    let min_similarity = args.min_similarity.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&min_similarity) {
        anyhow::bail!("--min-similarity {min_similarity} is out of range (0 to 1)");
    }
    let (paths, format) = checked_paths(
        &args.db,
        &args.inputs,
        &args.output,
        "mukarrar index query news.db draft.jsonl --top 5",
    )?;
    let to = args.output.output.as_deref();
    if format == Format::Html {
        anyhow::bail!("--top writes text, json, jsonl or csv, not html: choose one with --format");
    }
    let index = Index::open(&args.db, Access::ReadOnly)?;
    check_settings(&index)?;
    let out = Output::open(to)?;
    let output_name = to.map_or_else(|| PathBuf::from("standard output"), Path::to_path_buf);
    let bars = Bars::new(global.quiet);
    let (inputs, watch) = args.input.open(&paths, &bars)?;
    let options = NearestOptions {
        top,
        min_similarity,
        skip_invalid: args.input.skip_invalid,
    };
    let mut failure = None;
    let mut done = None;
    let mut duplicates = 0usize;
    let written = out.write(|w| {
        let mut rows = NeighbourWriter::new(format, w)?;
        let mut emit = |found: &[Neighbour]| -> mukarrar::Result<()> {
            duplicates += found.iter().filter(|n| n.duplicate).count();
            rows.write(found).map_err(|source| mukarrar::Error::Io {
                path: output_name.clone(),
                source,
            })
        };
        match index.nearest(inputs, &options, &bars, &mut emit) {
            Ok(stats) => {
                rows.finish()?;
                done = Some(stats);
                Ok(())
            }
            Err(e) => {
                failure = Some(e);
                Err(std::io::Error::other("stopped"))
            }
        }
    });
    if let Some(e) = failure {
        return Err(e.into());
    }
    written?;
    let stats = done.expect("written");
    watch.check(stats.read - stats.invalid, stats.invalid, &bars)?;
    bars.message(&format!(
        "{} documents read ({} skipped as invalid, {} empty after normalization): {} have \
         stored neighbours (top {top}{}), {duplicates} neighbours are duplicates; {} candidate \
         pairs measured against {} indexed documents; total {:.2}s",
        stats.queries,
        stats.invalid,
        stats.empty,
        stats.matched,
        if min_similarity > 0.0 {
            format!(", similarity {min_similarity} or more")
        } else {
            String::new()
        },
        stats.candidates,
        index.stats().map_or(0, |s| s.documents),
        started.elapsed().as_secs_f64()
    ));
    Ok(if args.output.fail_on_duplicates && duplicates > 0 {
        Status::DuplicatesFound
    } else {
        Status::Ok
    })
}

/// Writes the rows of `index query --top` as they come, in one format.
struct NeighbourWriter<'w> {
    format: Format,
    sink: Sink<'w>,
    first: bool,
    last_query: Option<String>,
}

/// Where the rows go: a CSV writer, or the output itself.
enum Sink<'w> {
    Csv(Box<csv::Writer<&'w mut dyn std::io::Write>>),
    Plain(&'w mut dyn std::io::Write),
}

impl<'w> NeighbourWriter<'w> {
    /// The CSV header, or the opening of the JSON array.
    fn new(format: Format, out: &'w mut dyn std::io::Write) -> std::io::Result<Self> {
        let sink = match format {
            Format::Csv => {
                let mut csv = csv::Writer::from_writer(out);
                csv.write_record([
                    "query_id",
                    "rank",
                    "id",
                    "similarity",
                    "duplicate",
                    "cluster_id",
                ])?;
                Sink::Csv(Box::new(csv))
            }
            Format::Json => {
                out.write_all(b"[")?;
                Sink::Plain(out)
            }
            _ => Sink::Plain(out),
        };
        Ok(NeighbourWriter {
            format,
            sink,
            first: true,
            last_query: None,
        })
    }

    fn write(&mut self, rows: &[Neighbour]) -> std::io::Result<()> {
        for n in rows {
            match &mut self.sink {
                Sink::Csv(csv) => csv.write_record([
                    n.query_id.as_str(),
                    &n.rank.to_string(),
                    &n.id,
                    &format!("{:.4}", n.similarity),
                    if n.duplicate { "true" } else { "false" },
                    &n.cluster_id.to_string(),
                ])?,
                Sink::Plain(out) => match self.format {
                    Format::Json => {
                        out.write_all(if self.first { b"\n  " } else { b",\n  " })?;
                        serde_json::to_writer(&mut **out, n)?;
                    }
                    Format::Jsonl => {
                        serde_json::to_writer(&mut **out, n)?;
                        out.write_all(b"\n")?;
                    }
                    _ => {
                        if self.last_query.as_deref() != Some(n.query_id.as_str()) {
                            if !self.first {
                                writeln!(out)?;
                            }
                            writeln!(out, "{}", report::printable(&n.query_id))?;
                            self.last_query = Some(n.query_id.clone());
                        }
                        writeln!(
                            out,
                            "  {:>2}  {:.3} {} {}  {}",
                            n.rank,
                            n.similarity,
                            if n.duplicate { "=" } else { " " },
                            report::printable(&n.id),
                            report::printable(&n.preview)
                        )?;
                    }
                },
            }
            self.first = false;
        }
        Ok(())
    }

    /// The end of the JSON array, and the CSV writer's buffer.
    fn finish(self) -> std::io::Result<()> {
        match self.sink {
            Sink::Csv(mut csv) => csv.flush(),
            Sink::Plain(out) => match self.format {
                Format::Json if self.first => out.write_all(b"]\n"),
                Format::Json => out.write_all(b"\n]\n"),
                Format::Text if !self.first => {
                    writeln!(out, "\n(= a duplicate under the index's rule)")
                }
                _ => Ok(()),
            },
        }
    }
}

/// The summary of `add` or `query`, and the exit status.
fn finish(
    change: &Change,
    out: &OutputArgs,
    bars: &Bars,
    started: Instant,
) -> anyhow::Result<Status> {
    summary(
        bars,
        &change.stats,
        change.committed,
        started.elapsed().as_secs_f64(),
    );
    Ok(change_status(change, out))
}

/// Status 1 when `change` matched documents and --fail-on-duplicates asks for it.
fn change_status(change: &Change, out: &OutputArgs) -> Status {
    let matched = change.stats.joined + change.stats.in_new_clusters;
    if out.fail_on_duplicates && matched > 0 {
        Status::DuplicatesFound
    } else {
        Status::Ok
    }
}

fn summary(bars: &Bars, s: &ChangeStats, committed: bool, total: f64) {
    let (verb, join, form) = if committed {
        ("added", "joined", "formed")
    } else {
        ("new", "would join", "would form")
    };
    bars.message(&format!(
        "{} records read: {} documents {verb} ({} skipped as already indexed, {} replaced, \
         {} invalid, {} empty after normalization)",
        s.read, s.new, s.skipped, s.replaced, s.invalid, s.empty
    ));
    let mut line = format!(
        "{} {join} {} existing clusters, {} {form} {} new clusters",
        s.joined, s.grown_clusters, s.in_new_clusters, s.new_clusters
    );
    if s.merged_clusters > 0 {
        line.push_str(&format!(", {} clusters merged", s.merged_clusters));
    }
    if committed {
        line.push_str(&format!(
            "; {} batches committed, {} documents indexed",
            s.batches, s.indexed
        ));
    } else {
        line.push_str(&format!("; index unchanged ({} documents)", s.indexed));
    }
    bars.message(&line);
    let stages: Vec<String> = s
        .seconds
        .iter()
        .map(|(name, secs)| format!("{name} {secs:.2}s"))
        .collect();
    bars.message(&format!(
        "{} candidate pairs verified; time: {} · total {total:.2}s",
        s.verified,
        stages.join(" · ")
    ));
}

fn remove(args: &RemoveArgs) -> anyhow::Result<Status> {
    let mut index = Index::open(&args.db, Access::ReadWrite)?;
    let removal = match &args.before {
        Some(date) => index.remove_before(date)?,
        None => index.remove_ids(&args.ids)?,
    };
    let text = match args.format {
        SummaryFormat::Json => serde_json::to_string_pretty(&removal)? + "\n",
        SummaryFormat::Text => {
            let mut s = format!("removed {} documents", removal.removed);
            if !removal.not_found.is_empty() {
                s.push_str(&format!(
                    "; not in the index: {}",
                    removal.not_found.join(", ")
                ));
            }
            s.push_str(&format!("; {} documents indexed\n", removal.indexed));
            for c in &removal.clusters {
                let after = if c.after >= 2 {
                    format!("{} documents", c.after)
                } else {
                    "no longer a cluster".into()
                };
                s.push_str(&format!(
                    "cluster {}: {} documents → {after}",
                    c.id, c.before
                ));
                for (id, size) in &c.split_into {
                    s.push_str(&format!("; split off cluster {id} ({size} documents)"));
                }
                s.push('\n');
            }
            s
        }
    };
    output::write_to(None, |w| w.write_all(text.as_bytes()))?;
    Ok(Status::Ok)
}

fn stats(args: &StatsArgs) -> anyhow::Result<Status> {
    let index = Index::open(&args.db, Access::ReadOnly)?;
    let st = index.stats()?;
    let text = match args.format {
        SummaryFormat::Json => {
            #[derive(Serialize)]
            struct Out<'a> {
                path: String,
                file_bytes: u64,
                #[serde(flatten)]
                stats: &'a mukarrar::index::IndexStats,
            }
            let out = Out {
                path: args.db.display().to_string(),
                file_bytes: file_bytes(&args.db),
                stats: &st,
            };
            serde_json::to_string_pretty(&out)? + "\n"
        }
        SummaryFormat::Text => {
            let mut rows: Vec<(&str, String)> = vec![
                ("index", args.db.display().to_string()),
                (
                    "format",
                    format!(
                        "{} (this mukarrar reads {} to {})",
                        st.format_version,
                        mukarrar::index::OLDEST_SUPPORTED,
                        mukarrar::index::FORMAT_VERSION
                    ),
                ),
                ("created", st.created.clone()),
                ("settings", flag_line(&settings_flags(&st.settings))),
                (
                    "documents",
                    format!("{} ({} empty after normalization)", st.documents, st.empty),
                ),
                (
                    "clusters",
                    format!(
                        "{} holding {} documents, {} duplicates; largest {}",
                        st.clusters, st.clustered, st.duplicates, st.largest_cluster
                    ),
                ),
                ("band keys", st.band_keys.to_string()),
                (
                    "batches",
                    format!(
                        "{}, last committed {}",
                        st.batches,
                        st.last_commit.as_deref().unwrap_or("never")
                    ),
                ),
            ];
            if let Some((a, b)) = &st.first_seen {
                rows.push(("first seen", format!("{a} … {b}")));
            }
            rows.push(("file size", format!("{} bytes", file_bytes(&args.db))));
            rows.iter().map(|(k, v)| format!("{k:<11} {v}\n")).collect()
        }
    };
    output::write_to(None, |w| w.write_all(text.as_bytes()))?;
    Ok(Status::Ok)
}

fn export(args: &ExportArgs) -> anyhow::Result<Status> {
    let to = args.output.output.as_deref();
    Protected::default().index(&args.db).check("-o", to)?;
    let format = args.output.format()?;
    let index = Index::open(&args.db, Access::ReadOnly)?;
    let out = Output::open(to)?;
    if let Some(batch) = args.batch {
        let change = index.batch_report(batch, args.output.include_singletons)?;
        out.write(|w| change.write(format, w))?;
        return Ok(change_status(&change, &args.output));
    }
    let report = index.export(args.output.include_singletons)?;
    out.write(|w| format.write(&report, w))?;
    if args.output.fail_on_duplicates && report.stats.duplicates > 0 {
        Ok(Status::DuplicatesFound)
    } else {
        Ok(Status::Ok)
    }
}

fn check(args: &CheckArgs) -> anyhow::Result<Status> {
    // Opening checks the format and the stored settings.
    let index = Index::open(&args.db, Access::ReadOnly)?;
    let check = index.check()?;
    let text = match args.format {
        SummaryFormat::Json => serde_json::to_string_pretty(&check)? + "\n",
        SummaryFormat::Text => {
            let mut s = format!("index      {}\n", args.db.display());
            s.push_str(&format!("documents  {}\n", check.documents));
            s.push_str("settings   ok\n");
            if check.problems.is_empty() {
                s.push_str("integrity  ok\n");
            }
            for p in &check.problems {
                s.push_str(&format!("problem    {}\n", mukarrar::report::printable(p)));
            }
            s
        }
    };
    output::write_to(None, |w| w.write_all(text.as_bytes()))?;
    if check.problems.is_empty() {
        return Ok(Status::Ok);
    }
    anyhow::bail!(
        "{}: the index is damaged ({} problems, listed above): restore it from a backup, or \
         rebuild it with `mukarrar index create` and `mukarrar index add`",
        args.db.display(),
        check.problems.len()
    )
}

/// The size of the index file with its write-ahead log.
fn file_bytes(db: &Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    [db.to_path_buf(), PathBuf::from(wal)]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// The flags of `index create` that give `settings`, as (long name, value); a switch (a flag
/// without a value) has an empty value.
fn settings_flags(s: &Settings) -> Vec<(&'static str, String)> {
    let mut flags = vec![("normalize", s.profile.name().to_string())];
    if !s.title_tags {
        flags.push(("keep-title-tags", String::new()));
    }
    flags.extend([
        ("shingle", s.shingle.kind.name().to_string()),
        ("ngram", s.shingle.n.to_string()),
        ("short-words", s.short.words.to_string()),
        ("short-threshold", s.short.threshold.to_string()),
        ("short-run-words", s.short.run_words.to_string()),
        ("cross-words", s.cross.words.to_string()),
        ("cross-containment", s.cross.containment.to_string()),
        ("lead-words", s.lead.words.to_string()),
        ("lead-weight", s.lead.weight.to_string()),
        ("num-perm", s.minhash.num_perm.to_string()),
        ("word-sketch", s.reword.sketch.to_string()),
        ("seed", s.minhash.seed.to_string()),
        ("threshold", s.threshold.to_string()),
        ("word-low", s.reword.low.to_string()),
        ("word-threshold", s.reword.threshold.to_string()),
        ("lsh-objective", s.objective.name().to_string()),
    ]);
    if !s.short.numbers {
        flags.push(("ignore-numbers", String::new()));
    }
    if s.lsh != LshParams::choose(s.candidate_threshold(), s.minhash.num_perm, s.objective) {
        flags.push(("bands", s.lsh.bands.to_string()));
        flags.push(("rows", s.lsh.rows.to_string()));
    }
    flags.push(("measure", s.measure.name().to_string()));
    flags.push(("verify", s.verify.name().to_string()));
    flags.push(("representative", s.representative.name().to_string()));
    flags
}

fn flag_line(flags: &[(&str, String)]) -> String {
    flags
        .iter()
        .map(|(k, v)| {
            if v.is_empty() {
                format!("--{k}")
            } else {
                format!("--{k} {v}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The signature, LSH and clustering flags as a clap command of their own.
fn settings_command() -> clap::Command {
    let cmd = clap::Command::new("settings").no_binary_name(true);
    ClusterArgs::augment_args(LshArgs::augment_args(SignatureArgs::augment_args(cmd)))
}

/// The signature, LSH and clustering flags given on this command line, as (long, value).
///
/// Their parsed values cannot tell a flag given with its default value from one not given,
/// so the command line itself is read, for the flags that the argument groups define.
fn given_settings_flags(argv: &[String]) -> Vec<(String, String)> {
    let cmd = settings_command();
    let known: Vec<(String, Option<char>, bool)> = cmd
        .get_arguments()
        .filter_map(|a| {
            a.get_long()
                .map(|l| (l.to_string(), a.get_short(), a.get_action().takes_values()))
        })
        .collect();
    let mut given = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let t = &argv[i];
        i += 1;
        if t == "--" {
            break;
        }
        let (long, inline) = if let Some(rest) = t.strip_prefix("--") {
            match rest.split_once('=') {
                Some((name, value)) => (name.to_string(), Some(value.to_string())),
                None => (rest.to_string(), None),
            }
        } else if let Some(rest) = t.strip_prefix('-') {
            let mut chars = rest.chars();
            let Some(c) = chars.next() else { continue };
            match known.iter().find(|(_, s, _)| *s == Some(c)) {
                Some((long, _, _)) => {
                    let tail: String = chars.collect();
                    let tail = tail.strip_prefix('=').unwrap_or(&tail).to_string();
                    (long.clone(), (!tail.is_empty()).then_some(tail))
                }
                None => continue,
            }
        } else {
            continue;
        };
        let Some((_, _, takes_value)) = known.iter().find(|(l, _, _)| *l == long) else {
            continue;
        };
        if !takes_value {
            given.push((long, String::new()));
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None if i < argv.len() => {
                i += 1;
                argv[i - 1].clone()
            }
            None => continue,
        };
        given.push((long, value));
    }
    given
}

/// Fails when the signature, LSH or clustering flags given ask for other settings than the
/// index's, and says what to do.
pub(crate) fn check_settings(index: &Index) -> anyhow::Result<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    check_settings_against(index.settings(), &given_settings_flags(&argv))
        .with_context(|| index.path().display().to_string())
}

fn check_settings_against(stored: &Settings, given: &[(String, String)]) -> anyhow::Result<()> {
    if given.is_empty() {
        return Ok(());
    }
    let stored_flags = settings_flags(stored);
    let mut merged: BTreeMap<String, String> = stored_flags
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    // A new kind of shingle takes its own default size unless one is given.
    if given.iter().any(|(k, _)| k == "shingle") {
        merged.remove("ngram");
    }
    for (k, v) in given {
        merged.insert(k.clone(), v.clone());
    }
    let tokens: Vec<String> = merged
        .iter()
        .flat_map(|(k, v)| {
            let flag = format!("--{k}");
            if v.is_empty() {
                vec![flag]
            } else {
                vec![flag, v.clone()]
            }
        })
        .collect();
    let matches = settings_command().try_get_matches_from(&tokens)?;
    let mut requested = args::settings(
        &SignatureArgs::from_arg_matches(&matches)?,
        &LshArgs::from_arg_matches(&matches)?,
        &ClusterArgs::from_arg_matches(&matches)?,
    )?;
    // Not a flag: an index keeps banding heads as it was made to.
    requested.cross.common_words = stored.cross.common_words;
    if requested == *stored {
        return Ok(());
    }
    let asked: Vec<(&str, String)> = given.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    anyhow::bail!(
        "this index was created with {}; the flags {} ask for other settings. Drop them (the \
         index's own settings are used), or build a new index with them: `mukarrar index \
         create NEW.db {}` and add the documents to it",
        flag_line(&stored_flags),
        flag_line(&asked),
        flag_line(&settings_flags(&requested))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn given_flags_are_read_from_the_command_line() {
        let g = given_settings_flags(&argv(
            "index add db.sqlite in.jsonl -t 0.6 --num-perm=64 --batch-size 5 --measure jaccard",
        ));
        assert_eq!(
            g,
            vec![
                ("threshold".to_string(), "0.6".to_string()),
                ("num-perm".to_string(), "64".to_string()),
                ("measure".to_string(), "jaccard".to_string()),
            ]
        );
        assert!(given_settings_flags(&argv("index add db in.jsonl -q")).is_empty());
    }

    /// The settings `index create` makes when given no flags.
    fn created_with_defaults() -> Settings {
        let m = settings_command()
            .try_get_matches_from(Vec::<String>::new())
            .unwrap();
        args::settings(
            &SignatureArgs::from_arg_matches(&m).unwrap(),
            &LshArgs::from_arg_matches(&m).unwrap(),
            &ClusterArgs::from_arg_matches(&m).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn flags_equal_to_the_stored_settings_pass() {
        let stored = created_with_defaults();
        let same: Vec<(String, String)> = settings_flags(&stored)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        check_settings_against(&stored, &same).unwrap();
        check_settings_against(&stored, &[]).unwrap();
    }

    #[test]
    fn settings_of_older_indexes_pass_with_their_own_flags() {
        // Format 2 (no cross-length matching), 3 (heads banded whole) and 4 (no word check).
        let defaults = created_with_defaults();
        let older = [
            Settings {
                cross: mukarrar::settings::Cross::off(),
                reword: mukarrar::settings::Reword::off(),
                ..defaults.clone()
            },
            Settings {
                cross: mukarrar::settings::Cross {
                    common_words: 0,
                    ..defaults.cross
                },
                reword: mukarrar::settings::Reword::off(),
                ..defaults.clone()
            },
            Settings {
                reword: mukarrar::settings::Reword::off(),
                ..defaults.clone()
            },
        ];
        for stored in older {
            let threshold = [("threshold".to_string(), stored.threshold.to_string())];
            check_settings_against(&stored, &threshold).unwrap();
            let other = [("threshold".to_string(), "0.8".to_string())];
            assert!(check_settings_against(&stored, &other).is_err());
        }
    }

    #[test]
    fn other_settings_are_refused_with_the_rebuild_command() {
        let stored = created_with_defaults();
        let err = check_settings_against(&stored, &[("threshold".into(), "0.8".into())])
            .unwrap_err()
            .to_string();
        let default = format!("--threshold {}", mukarrar::settings::DEFAULT_THRESHOLD);
        assert!(err.contains(&default), "{err}");
        assert!(err.contains("mukarrar index create NEW.db"), "{err}");
        assert!(err.contains("--threshold 0.8"), "{err}");
    }
}
