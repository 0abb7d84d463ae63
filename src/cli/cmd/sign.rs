//! `mukarrar sign`: the per-document stages as a stream, for map tasks of a distributed run.
//!
//! Each document is read, normalized, shingled, signed and banded exactly as `cluster` does
//! it for the same flags, and written as one JSON line ([`SignedDoc`]) in input order. Nothing
//! is kept from one document to the next, so any slice of a corpus can be signed anywhere and
//! the lines grouped by band key elsewhere. Output is flushed after every batch, so the
//! command also works as a filter on a live stream.

use std::io::{self, BufReader, BufWriter, Write};
use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};

use anyhow::{bail, Context};
use mukarrar::input::{self, Format, Reader};
use mukarrar::pipeline::{Scratch, Settings};
use mukarrar::progress::Progress;
use mukarrar::sign::{KeyQueue, KeyedLines, RecordSigner, SkipReason, SkippedLine};
use mukarrar::{Document, Error};
use rayon::prelude::*;
use serde_json::Value;

use crate::cli::args::{inputs_or_stdin, InputArgs, SettingsArgs};
use crate::cli::progress::Bars;
use crate::cli::{Global, Status};

/// Sign documents for a distributed run: one JSON line per document, with its band keys.
///
/// Reads INPUT (JSONL, gzip-compressed JSONL, CSV/TSV, a folder, or `-` for standard input;
/// standard input also when no INPUT is given and it is not a terminal) and writes, for every document in input order, a JSON object with its
/// `id`, its `line` in the input and `pos` among the documents, the distinct shingle count
/// `n`, its length `chars`, whether it is `empty` after normalization, and its band keys `b`
/// (one per LSH band, as signed 64-bit integers; none for an empty document). Documents with
/// an equal key in the same band are the candidate pairs that `cluster` verifies. With
/// --with-signature each line also holds the MinHash signature `sig` (signed 32-bit
/// integers), from which a pair's similarity is estimated.
///
/// The normalization, shingling, signature and banding flags are those of `cluster`, with the
/// same defaults, so grouping the output of `sign` finds exactly the candidates of `cluster`.
/// --print-settings shows every parameter the flags resolve to (threshold, measure, bands ×
/// rows, …) as JSON, for the job that does the grouping. `sign` keeps nothing from one
/// document to the next: it does not check that ids are unique. A run that signs no document
/// is an error unless --allow-empty is given (or --keyed, where every line has its answer and
/// an empty split of a distributed job is normal).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar sign samples/headlines.jsonl
  zcat corpus.jsonl.gz | mukarrar sign - --with-signature > signed.jsonl
  mukarrar sign --print-settings --threshold 0.7 --shingle char
  printf '17\\t{\"id\":\"a\",\"title\":\"نص\"}\\n' | mukarrar sign --keyed")]
pub struct Args {
    /// Input file or folder; `-` reads standard input [default: standard input, when it is
    /// not a terminal].
    #[arg(value_name = "INPUT")]
    pub input: Option<String>,
    #[command(flatten)]
    pub input_args: InputArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,

    /// Also write each document's MinHash signature (`sig`).
    #[arg(long, help_heading = "Output")]
    pub with_signature: bool,

    /// Print the settings the flags resolve to as JSON and exit without reading input.
    #[arg(long, help_heading = "Output")]
    pub print_settings: bool,

    /// Each input line is KEY, a tab, then a JSON record. KEY (any text without a tab) is
    /// copied into the line's output as `key`, and every input line gets exactly one output
    /// line: a blank record gives `{"key":…,"line":…,"skipped":"blank"}`, and with
    /// --skip-invalid an invalid one gives `"skipped":"invalid"` and the `error`. For map
    /// tasks that must match outputs to inputs. Uncompressed JSONL only.
    #[arg(long, help_heading = "Output")]
    pub keyed: bool,
}

/// Documents signed together, then written and flushed together.
const BATCH: usize = 256;

/// What the reader thread hands over, in input order.
enum Item {
    /// A document, with its key in keyed mode.
    Doc(Document, Option<String>),
    /// A keyed line that produced no document (a blank record).
    Blank(SkippedLine),
    /// A record error, with the line's key in keyed mode.
    Invalid(Error, Option<String>),
    /// A whole-input error: nothing follows it.
    Fatal(Error),
}

/// One output line to make, in input order.
enum Job {
    /// A document to sign, with its key, position and whether its id is its line number.
    Sign(Document, Option<String>, u64, bool),
    /// A line that is ready.
    Line(String),
}

pub fn run(args: &Args, global: &Global) -> anyhow::Result<Status> {
    let settings = args.settings.settings()?;
    if args.print_settings {
        let text = serde_json::to_string_pretty(&settings)? + "\n";
        crate::cli::output::write_to(None, |w| w.write_all(text.as_bytes()))?;
        return Ok(Status::Ok);
    }
    let mut config = args.input_args.config();
    // The id field is kept as a field too: its absence says the id is the line number.
    config.keep_fields = vec![config.id_field.clone()];
    let paths = inputs_or_stdin(
        &Vec::from_iter(args.input.clone()),
        "zcat corpus.jsonl.gz | mukarrar sign -",
    )?;
    let name = paths[0].as_str();
    let bars = Bars::new(global.quiet);
    let (reader, keys, watch) = if args.keyed {
        if !matches!(config.format, None | Some(Format::Jsonl)) {
            bail!("--keyed reads JSON Lines only (drop --input-format)");
        }
        let mut source: Box<dyn io::BufRead + Send> = if name == "-" {
            Box::new(BufReader::with_capacity(1 << 16, io::stdin()))
        } else {
            let file =
                std::fs::File::open(name).with_context(|| format!("cannot read input {name}"))?;
            Box::new(BufReader::with_capacity(1 << 16, file))
        };
        let head = source
            .fill_buf()
            .with_context(|| format!("cannot read input {name}"))?;
        if head.starts_with(&[0x1f, 0x8b]) {
            bail!(
                "{name} is gzip-compressed, and --keyed reads uncompressed JSON Lines (a key, a \
                 tab, a record on each line): decompress it first, e.g. `zcat {name} | mukarrar \
                 sign --keyed -`"
            );
        }
        let (lines, keys) = KeyedLines::new(source);
        // Every line gets its own answer, a record without text included.
        config.check_text_fields = false;
        let reader = input::from_reader(lines, name, Format::Jsonl, &config)?;
        (reader, Some(keys), None)
    } else {
        let (mut readers, watch) = args.input_args.open_readers(&paths, &config, &bars)?;
        (readers.remove(0), None, Some(watch))
    };
    let counts = sign_stream(reader, keys, &settings, args, &bars)?;
    if let Some(watch) = watch {
        watch.check(counts.documents as usize, counts.skipped as usize, &bars)?;
    }
    bars.message(&format!(
        "{} documents signed ({} skipped as invalid, {} empty after normalization)",
        counts.documents, counts.skipped, counts.empty
    ));
    Ok(Status::Ok)
}

#[derive(Debug, Default)]
struct Counts {
    documents: u64,
    skipped: u64,
    empty: u64,
}

/// Reads on a thread of its own, signs each batch in parallel and writes it in order.
fn sign_stream(
    reader: Reader,
    keys: Option<KeyQueue>,
    settings: &Settings,
    args: &Args,
    bars: &Bars,
) -> anyhow::Result<Counts> {
    // Only a text folder's ids never come from line numbers.
    let ids_may_be_lines = reader.format() != Format::TextDir;
    let (tx, rx) = sync_channel::<Item>(4 * BATCH);
    // Not scoped: when output fails (a closed pipe) the reader may be blocked on input, and
    // the process must be able to exit without waiting for it.
    std::thread::spawn(move || read_items(reader, keys, |item| tx.send(item).is_ok()));

    let signer = RecordSigner::new(settings, args.with_signature);
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut counts = Counts::default();
    while let Some(items) = next_batch(&rx) {
        // Positions and errors are settled in input order, before the parallel part.
        let mut jobs = Vec::with_capacity(items.len());
        let mut stop: Option<anyhow::Error> = None;
        for item in items {
            match item {
                Item::Doc(doc, key) => {
                    let id_from_line = ids_may_be_lines
                        && matches!(doc.fields.first(), None | Some((_, Value::Null)));
                    jobs.push(Job::Sign(doc, key, counts.documents, id_from_line));
                    counts.documents += 1;
                }
                Item::Blank(skipped) => jobs.push(Job::Line(to_json(&skipped))),
                Item::Invalid(err, key) => {
                    if !args.input_args.skip_invalid {
                        stop = Some(match key {
                            Some(key) => anyhow::anyhow!("{err} (key {key})"),
                            None => err.into(),
                        });
                        break;
                    }
                    counts.skipped += 1;
                    bars.warn(&err);
                    if let Some(key) = key {
                        let (line, error) = match &err {
                            Error::Record { location, kind } => {
                                (location.line.unwrap_or(0), kind.to_string())
                            }
                            other => (0, other.to_string()),
                        };
                        jobs.push(Job::Line(to_json(&SkippedLine {
                            key,
                            line,
                            skipped: SkipReason::Invalid,
                            error: Some(error),
                        })));
                    }
                }
                Item::Fatal(err) => {
                    stop = Some(err.into());
                    break;
                }
            }
        }
        let lines: Vec<(String, bool)> = jobs
            .into_par_iter()
            .map_init(
                || (Scratch::default(), Vec::new()),
                |(scratch, sig), job| match job {
                    Job::Sign(doc, key, pos, id_from_line) => {
                        let mut signed = signer.sign(&doc, pos, id_from_line, scratch, sig);
                        signed.key = key;
                        (to_json(&signed), signed.empty)
                    }
                    Job::Line(line) => (line, false),
                },
            )
            .collect();
        for (line, empty) in lines {
            counts.empty += u64::from(empty);
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        if let Some(err) = stop {
            return Err(err);
        }
    }
    Ok(counts)
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("records serialize")
}

/// Waits for one item, then takes whatever else is ready, up to [`BATCH`], without waiting:
/// full batches under load, and no delay on a slow stream. `None` at the end of input.
fn next_batch(rx: &Receiver<Item>) -> Option<Vec<Item>> {
    let first = rx.recv().ok()?;
    let mut items = Vec::with_capacity(BATCH);
    items.push(first);
    while items.len() < BATCH {
        match rx.try_recv() {
            Ok(item) => items.push(item),
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
        }
    }
    Some(items)
}

/// Turns the reader's records into [`Item`]s, attaching keys in keyed mode (and reporting the
/// blank lines between records); `send` returns false when nobody listens any more.
fn read_items(reader: Reader, keys: Option<KeyQueue>, mut send: impl FnMut(Item) -> bool) {
    let blanks = |lines: Vec<(u64, String)>, send: &mut dyn FnMut(Item) -> bool| {
        lines.into_iter().all(|(line, key)| {
            send(Item::Blank(SkippedLine {
                key,
                line,
                skipped: SkipReason::Blank,
                error: None,
            }))
        })
    };
    for item in reader {
        let line = match &item {
            Ok(doc) => Some(doc.line),
            Err(e) if e.is_record_error() => e.location().and_then(|l| l.line),
            Err(_) => None,
        };
        let key = match (&keys, line) {
            (Some(keys), Some(line)) => {
                let (before, key) = keys.take_through(line);
                if !blanks(before, &mut send) {
                    return;
                }
                key
            }
            _ => None,
        };
        let item = match item {
            Ok(doc) => Item::Doc(doc, key),
            Err(e) if e.is_record_error() => Item::Invalid(e, key),
            Err(e) => {
                send(Item::Fatal(e));
                return;
            }
        };
        if !send(item) {
            return;
        }
    }
    if let Some(keys) = &keys {
        blanks(keys.take_rest(), &mut send);
    }
}
