//! `mukarrar filter`: a feed in, each story once out; duplicates aside, decided at once.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use anyhow::Context;
use mukarrar::filter::{self, End, FilterOptions, FilterStats, Outputs, WindowLimit};
use mukarrar::index::{Access, Index};
use mukarrar::input;
use mukarrar::input::ParquetSchema;
use mukarrar::pipeline::Input;
#[cfg(feature = "parquet")]
use mukarrar::report::parquet::{output_schema, ParquetRows};

use crate::cli::args::{inputs_or_stdin, InputArgs, SettingsArgs, Watch};
use crate::cli::paths::Protected;
use crate::cli::progress::Bars;
use crate::cli::{Global, Status};

/// Pass each story once: write every document whose story is new to stdout as soon as it is
/// read, and set repeats aside.
///
/// Documents are read in order (JSONL, gzip-compressed JSONL, CSV/TSV with a header, a folder;
/// standard input with `-`, or when no INPUT is given and it is not a terminal) and decided
/// one by one. A
/// document is a duplicate when an earlier document in the window (or in the --db index) is
/// an LSH candidate of it and reaches the threshold against it: the edges of `mukarrar
/// cluster`. With a window larger than the input, the first document of each of cluster's
/// clusters is written and a later member is a duplicate when it matches an earlier one (a
/// member that matches only later documents, which join it to the cluster, is written too).
///
/// First-seen documents are written to stdout as they came (the original JSON line, byte for
/// byte, ended by \n whatever its line break; a CSV/TSV record as a JSON object of its columns,
/// a .txt file as {"id", "text"}).
/// Duplicates go to --duplicates FILE with three fields added before the closing brace:
/// `duplicate_of` (the id of the earliest earlier document it matches), `cluster_id` (the
/// story: the input position, from 0, of the story's first document, or with --db its
/// cluster in the index) and `similarity` (to `duplicate_of`). With --annotate every document
/// goes to stdout with those fields (`duplicate_of` and `similarity` null for first-seen
/// documents, whose `cluster_id` is their own position).
///
/// Output is flushed whenever no more input is waiting: in a live feed each document goes out
/// as soon as it is decided; a fast pipe is written in blocks. A closed stdout (`| head`)
/// ends the run quietly with status 0. SIGINT or SIGTERM writes out what was decided (never
/// half a line), commits the --add batch and exits with 130 or 143; a second signal exits at
/// once. Invalid records stop the run with file:line, or with --skip-invalid are counted,
/// warned about and written nowhere. Repeated ids are not an error: a feed that sends an item
/// again sends a duplicate.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  zcat feed.jsonl.gz | mukarrar filter > stories.jsonl
  mukarrar filter feed.jsonl --duplicates repeats.jsonl > stories.jsonl
  tail -f feed.jsonl | mukarrar filter --window 20000 | consumer
  mukarrar filter feed.jsonl --window-days 3 --date-field published
  mukarrar filter feed.jsonl --annotate | jq 'select(.duplicate_of != null)'
  mukarrar filter today.jsonl --db news.db --add > new-stories.jsonl")]
pub struct Args {
    /// Input files or folders; `-` reads standard input [default: standard input, when it is
    /// not a terminal].
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,

    /// Write duplicates to FILE (created or truncated), one JSON object per line with
    /// duplicate_of, cluster_id and similarity added. Without it they are only counted.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub duplicates: Option<PathBuf>,

    /// Write every document to stdout with duplicate_of, cluster_id and similarity added
    /// (null duplicate_of and similarity for first-seen documents).
    #[arg(long, conflicts_with = "duplicates", help_heading = "Output")]
    pub annotate: bool,

    /// How documents are written: `jsonl` (each record as a JSON line, as described above)
    /// or `parquet`, for Parquet input: a Parquet file with the input's columns, and the
    /// annotation columns in --duplicates and with --annotate (stdout must then be a file or
    /// a pipe).
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        default_value = "jsonl",
        help_heading = "Output"
    )]
    pub format: OutputFormat,

    /// Check each document against the last N documents [default: 100000 when no
    /// --window-days is given; a peak of about 270 MB with the default settings].
    #[arg(long, value_name = "N", help_heading = "Window",
          value_parser = crate::cli::args::at_least_one, allow_negative_numbers = true)]
    pub window: Option<u64>,

    /// Check each document against the documents dated at most D days (fractions allowed)
    /// before the newest date seen so far; needs --date-field. With --window too, both
    /// limits apply.
    #[arg(
        long,
        value_name = "D",
        requires = "date_field",
        help_heading = "Window",
        allow_negative_numbers = true
    )]
    pub window_days: Option<f64>,

    /// Memory for the window: beyond it, its oldest documents go to a temporary database in
    /// --temp-dir, where they are still found, so a date window can hold more documents than
    /// memory; the decisions are the same, the run slower. A document takes about 3 KB in
    /// memory with the default settings [default: half the physical memory].
    #[arg(long, value_name = "SIZE", help_heading = "Window",
          value_parser = crate::cli::args::record_size)]
    pub memory_limit: Option<u64>,

    /// Folder of the window's temporary database (unlinked as it is created: it never
    /// outlives the run) [default: the system's temporary folder, $TMPDIR].
    #[arg(long, value_name = "DIR", help_heading = "Window")]
    pub temp_dir: Option<std::path::PathBuf>,

    /// The field holding each document's date, for --window-days: a string YYYY-MM-DD or
    /// YYYY-MM-DDTHH:MM:SS (T or a space), with an optional fraction of a second and offset
    /// (Z, +03:00; a time without offset is UTC), or a JSON number of Unix seconds. A
    /// document without a readable date is an invalid record.
    #[arg(long, value_name = "FIELD", help_heading = "Window")]
    pub date_field: Option<String>,

    /// Also check each document against this index (made by `mukarrar index create`); its
    /// settings are used, and signature flags given here must agree with them.
    #[arg(long, value_name = "INDEX", help_heading = "Index")]
    pub db: Option<PathBuf>,

    /// Store the first-seen documents in the --db index (those whose id it already holds
    /// are not stored), committing every --batch-size records and whenever the input is
    /// idle for a second.
    #[arg(long, requires = "db", help_heading = "Index")]
    pub add: bool,

    /// With --add: commit after every N input records.
    #[arg(long, value_name = "N", default_value_t = 1000, help_heading = "Index",
          value_parser = crate::cli::args::at_least_one, allow_negative_numbers = true)]
    pub batch_size: u64,

    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

/// How `filter` writes documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON object per line.
    Jsonl,
    /// A Parquet file with the input's columns (Parquet input only).
    Parquet,
}

/// Where documents go: JSON lines, or the rows of a Parquet file finished at the end.
enum Sink<W: Write + Send> {
    Lines(BufWriter<W>),
    #[cfg(feature = "parquet")]
    Parquet(Box<ParquetRows<BufWriter<W>>>),
}

impl<W: Write + Send> Sink<W> {
    fn new(out: W, schema: Option<&ParquetSchema>, annotated: bool) -> anyhow::Result<Sink<W>> {
        let out = BufWriter::with_capacity(1 << 16, out);
        Ok(match schema {
            None => Sink::Lines(out),
            #[cfg(feature = "parquet")]
            Some(schema) => {
                let schema = output_schema(schema, annotated).map_err(anyhow::Error::msg)?;
                Sink::Parquet(Box::new(ParquetRows::new(out, schema)?))
            }
            #[cfg(not(feature = "parquet"))]
            Some(schema) => {
                let _ = annotated;
                match *schema {}
            }
        })
    }

    /// Writes what is buffered (for Parquet, the last row group and the footer).
    fn finish(self) -> io::Result<()> {
        match self {
            Sink::Lines(mut w) => w.flush(),
            #[cfg(feature = "parquet")]
            Sink::Parquet(p) => p.finish()?.flush(),
        }
    }
}

impl<W: Write + Send> Write for Sink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Lines(w) => w.write(buf),
            #[cfg(feature = "parquet")]
            Sink::Parquet(p) => p.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Lines(w) => w.flush(),
            #[cfg(feature = "parquet")]
            Sink::Parquet(p) => p.flush(),
        }
    }
}

/// For `--format parquet`: the columns every input shares (all must be Parquet, with the same
/// columns), checked before anything is written.
fn parquet_schema(
    args: &Args,
    paths: &[String],
    schemas: &[Option<ParquetSchema>],
) -> anyhow::Result<Option<ParquetSchema>> {
    if args.format != OutputFormat::Parquet {
        return Ok(None);
    }
    #[cfg(not(feature = "parquet"))]
    {
        let _ = (paths, schemas);
        anyhow::bail!("--format parquet: {}", input::NO_PARQUET)
    }
    #[cfg(feature = "parquet")]
    {
        let mut first: Option<&ParquetSchema> = None;
        for (path, schema) in paths.iter().zip(schemas) {
            let Some(schema) = schema else {
                anyhow::bail!(
                    "--format parquet writes the input's columns back, so it needs Parquet input, \
                     and {path} is not Parquet"
                );
            };
            match first {
                None => first = Some(schema),
                Some(f) if f.fields() != schema.fields() => anyhow::bail!(
                    "--format parquet writes one file of one schema, and {path} has other columns \
                     than {}",
                    paths[0]
                ),
                Some(_) => {}
            }
        }
        if crate::cli::output::stdout_is_terminal() {
            anyhow::bail!(
                "--format parquet writes a binary file to standard output: redirect it to a file \
                 (`> kept.parquet`) or a pipe"
            );
        }
        Ok(first.cloned())
    }
}

/// Opens every input keeping each record's original form (and the date field); with each, its
/// Parquet columns when it is Parquet.
fn open_inputs(
    args: &Args,
    paths: &[String],
    bars: &Bars,
) -> anyhow::Result<(Vec<Input>, Watch, Vec<Option<ParquetSchema>>)> {
    let mut cfg = args.input.config();
    cfg.keep_raw = true;
    cfg.keep_fields = args.date_field.iter().cloned().collect();
    let (readers, watch) = args.input.open_readers(paths, &cfg, bars)?;
    let schemas = readers.iter().map(|r| r.parquet_schema()).collect();
    let inputs = paths
        .iter()
        .zip(readers)
        .map(|(p, reader)| {
            if reader.format() == input::Format::TextDir {
                // A text file's "record" is its text: write such documents as {"id", "text"}
                // (a folder's files of records keep their records).
                let docs = reader.map(|d| {
                    d.map(|mut d| {
                        if d.file
                            .as_deref()
                            .is_some_and(|f| input::Format::from_file_name(f).is_none())
                        {
                            d.raw = None;
                        }
                        d
                    })
                });
                Input::new(p.clone(), docs)
            } else {
                Input::new(p.clone(), reader)
            }
        })
        .collect();
    Ok((inputs, watch, schemas))
}

pub fn run(args: &Args, global: &Global) -> anyhow::Result<Status> {
    let paths = inputs_or_stdin(&args.inputs, "tail -f feed.jsonl | mukarrar filter -")?;
    let mut protected = Protected::default().inputs(&paths);
    if let Some(db) = &args.db {
        protected = protected.index(db);
    }
    protected.check("--duplicates", args.duplicates.as_deref())?;
    let index = match &args.db {
        Some(path) => {
            let access = if args.add {
                Access::ReadWrite
            } else {
                Access::ReadOnly
            };
            let index = Index::open(path, access)?;
            super::index::check_settings(&index)?;
            Some(index)
        }
        None => None,
    };
    let settings = match &index {
        Some(index) => index.settings().clone(),
        None => args.settings.settings()?,
    };
    let window = WindowLimit {
        documents: match (args.window, args.window_days) {
            (Some(n), _) => Some(n as usize),
            (None, Some(_)) => None,
            (None, None) => Some(filter::DEFAULT_WINDOW),
        },
        days: args.window_days,
    };
    // Settings problems, and a temporary folder the window could not use once it outgrows
    // memory, are reported before any input is opened.
    let budget = crate::cli::args::MemoryArgs {
        memory_limit: args.memory_limit,
        temp_dir: args.temp_dir.clone(),
    }
    .budget()?;
    filter::Engine::new(&settings, window)?
        .spill_beyond(budget.clone())
        .map_err(|e| anyhow::anyhow!("--temp-dir {e}"))?;
    let options = FilterOptions {
        window,
        date_field: args.date_field.clone(),
        annotate: args.annotate,
        skip_invalid: args.input.skip_invalid,
        add: args.add,
        batch_size: args.batch_size as usize,
        budget: Some(budget),
    };
    let bars = Bars::new(global.quiet);
    let (inputs, watch, schemas) = open_inputs(args, &paths, &bars)?;
    let schema = parquet_schema(args, &paths, &schemas)?;
    let mut duplicates = match &args.duplicates {
        Some(path) => Some(Sink::new(
            File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
            schema.as_ref(),
            true,
        )?),
        None => None,
    };
    let crate::cli::cleanup::Flags { stop, signal } = crate::cli::cleanup::graceful();
    let mut kept = Sink::new(io::stdout(), schema.as_ref(), args.annotate)?;
    let outputs = Outputs {
        kept: &mut kept,
        duplicates: duplicates.as_mut().map(|d| d as &mut dyn Write),
        duplicates_name: args
            .duplicates
            .as_ref()
            .map_or_else(String::new, |p| p.display().to_string()),
    };
    let stats = filter::run(
        inputs,
        &settings,
        &options,
        index.as_ref(),
        outputs,
        &stop,
        &bars,
    )?;
    if let (Some(d), Some(path)) = (duplicates, &args.duplicates) {
        d.finish()
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if stats.end != End::OutputClosed {
        kept.finish().context("cannot write standard output")?;
    }
    match stats.end {
        End::OutputClosed => Ok(Status::Ok),
        End::Input => {
            watch.check(stats.documents, stats.invalid, &bars)?;
            summary(&bars, &stats, None);
            Ok(Status::Ok)
        }
        End::Stopped => {
            let signal = signal.load(Ordering::SeqCst);
            summary(&bars, &stats, Some(signal));
            Ok(Status::Signal(128 + signal as u8))
        }
    }
}

/// The summary on stderr.
fn summary(bars: &Bars, s: &FilterStats, signal: Option<i32>) {
    let mut line = format!(
        "{} records read: {} first-seen, {} duplicates",
        s.read, s.first_seen, s.duplicates
    );
    if s.duplicates_of_indexed > 0 {
        line.push_str(&format!(
            " ({} of indexed documents)",
            s.duplicates_of_indexed
        ));
    }
    line.push_str(&format!(
        ", {} invalid, {} empty after normalization; {} evicted from the window, {} in it; {} \
         candidate pairs verified",
        s.invalid, s.empty, s.evicted, s.window, s.verified
    ));
    if s.spilled > 0 {
        line.push_str(&format!(
            "; {} documents of the window moved to disk beyond --memory-limit",
            s.spilled
        ));
    }
    bars.message(&line);
    if s.stored + s.not_stored > 0 || s.batches > 0 {
        bars.message(&format!(
            "index: {} first-seen documents stored in {} batches, {} not stored (id already \
             indexed)",
            s.stored, s.batches, s.not_stored
        ));
    }
    let docs_per_s = s.documents as f64 / s.seconds.max(1e-9);
    let mut time = format!("time: {:.2}s, {docs_per_s:.0} documents/s", s.seconds);
    if let Some(signal) = signal {
        let name = if signal == signal_hook::consts::SIGTERM {
            "SIGTERM"
        } else {
            "SIGINT"
        };
        time.push_str(&format!("; stopped by {name}"));
    }
    bars.message(&time);
}
