//! `mukarrar compare`: why two texts are, or are not, duplicates.

use std::path::PathBuf;

use mukarrar::compare::{compare, Comparison, Subject};
use mukarrar::index::{Access, Index, StoredDocument};
use mukarrar::pipeline::{Scratch, Settings, Signer};
use mukarrar::progress::Progress;
use mukarrar::Document;

use crate::cli::args::{InputArgs, SettingsArgs};
use crate::cli::output;
use crate::cli::progress::Bars;
use crate::cli::{Global, Status};

/// Show why two texts are, or are not, duplicates: the "why did these merge?" answer.
///
/// Prints both normalized forms with the passages they share marked, the part of the duplicate
/// rule that applies (`short`: two texts of fewer than --short-words words, compared by their
/// word sets; `long`: two longer texts, compared by their lead-weighted word 3-grams; `mixed`:
/// one of each, never compared), the shingle counts and overlap, the Jaccard similarity and
/// containment estimated from the MinHash signatures and computed exactly over the shingle
/// sets, the numbers check (two short texts holding different numbers are never duplicates),
/// and the decision with the measurement and threshold that made it. The decision is the one
/// `cluster`, `filter` and `index` reach for the pair under the same settings.
///
/// A and B are two texts; with --input, the ids of two documents of an input file (any input
/// format, read with the input flags); with --index, the ids of two documents of an index,
/// compared under the index's settings. An index keeps signatures, not texts: unless the
/// documents were added with their text fields kept (`index add --keep-field title
/// --keep-field text`), the comparison is made from the stored signatures and word hashes, and
/// what needs the text (normalized forms, exact sets, passages) is left out.
///
/// On a terminal the shared passages are highlighted; elsewhere they are bracketed `[…]`.
///
/// Exit status, as `cmp` and `diff`: 0 when the pair is a duplicate, 1 when it is distinct, 2
/// on an error (a missing id, an unreadable file).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar compare 'الأمم المتحدة تحثّ قادة العالم على بذل الجهود لحل الدولتين' \\
                   'جوتيريش يحثّ قادة العالم على بذل الجهود لحل الدولتين'
  mukarrar compare --input samples/headlines.jsonl seed-readalso seed-similar-07
  mukarrar compare --input feed.csv --id-field url --text-field body URL1 URL2 --format html > why.html
  mukarrar compare --index news.db article-17 article-18 --format json
  mukarrar compare \"$A\" \"$B\" > /dev/null && echo duplicate")]
pub struct Args {
    /// The first text, or with --input or --index the id of the first document.
    #[arg(value_name = "A")]
    pub a: String,

    /// The second text, or with --input or --index the id of the second document.
    #[arg(value_name = "B")]
    pub b: String,

    /// Read A and B as ids of documents of this input file (JSON Lines, CSV, TSV, also
    /// gzip-compressed; --id-field and --text-field say where the id and the text are).
    #[arg(long, value_name = "FILE", conflicts_with = "index")]
    pub input: Option<String>,

    /// Read A and B as ids of documents of this index, and use its settings.
    #[arg(long, value_name = "DB")]
    pub index: Option<PathBuf>,

    /// Output format: `text` (for people), `json` (every quantity, one JSON document) or
    /// `html` (one self-contained page).
    #[arg(short, long, value_name = "FORMAT", default_value = "text")]
    pub format: CompareFormat,

    #[command(flatten)]
    pub input_args: InputArgs,

    #[command(flatten)]
    pub settings: SettingsArgs,
}

/// Output formats of `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    /// Lines for people; shared passages highlighted on a terminal, bracketed elsewhere.
    Text,
    /// Every quantity as one JSON document.
    Json,
    /// One self-contained web page.
    Html,
}

pub fn run(args: &Args, global: &Global) -> anyhow::Result<Status> {
    let bars = Bars::new(global.quiet);
    let input_flags = args.input_args.id_field.is_some()
        || args.input_args.input_format.is_some()
        || args.input_args.skip_invalid;
    if args.input.is_none() && args.index.is_none() && input_flags {
        anyhow::bail!(
            "--id-field, --input-format and --skip-invalid read documents from a file: give \
             --input FILE (A and B are then ids)"
        );
    }
    let comparison = if let Some(db) = &args.index {
        from_index(args, db, &bars)?
    } else {
        let settings = args.settings.settings()?;
        match &args.input {
            Some(path) => {
                let [a, b] = find(path, &args.input_args, [&args.a, &args.b], &bars)?;
                compare(
                    &settings,
                    Subject::Text {
                        id: Some(&a.id),
                        text: &a.text,
                    },
                    Subject::Text {
                        id: Some(&b.id),
                        text: &b.text,
                    },
                )
            }
            None => compare(&settings, Subject::text(&args.a), Subject::text(&args.b)),
        }
    };
    write(&comparison, args.format)?;
    Ok(if comparison.decision.duplicate {
        Status::Ok
    } else {
        Status::Distinct
    })
}

fn write(c: &Comparison, format: CompareFormat) -> anyhow::Result<()> {
    let color = format == CompareFormat::Text
        && output::stdout_is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    output::write_to(None, |w| match format {
        CompareFormat::Text => c.write_text(color, w),
        CompareFormat::Json => {
            serde_json::to_writer_pretty(&mut *w, c)?;
            writeln!(w)
        }
        CompareFormat::Html => c.write_html(w),
    })
}

/// The documents with ids `ids` in the input at `path`, read until both are found (the first
/// of each id).
fn find(
    path: &str,
    input: &InputArgs,
    ids: [&str; 2],
    bars: &Bars,
) -> anyhow::Result<[Document; 2]> {
    let cfg = input.config();
    let (readers, _) = input.open_readers(&[path.to_string()], &cfg, bars)?;
    let mut found: [Option<Document>; 2] = [None, None];
    let mut read = 0u64;
    for doc in readers.into_iter().flatten() {
        let doc = match doc {
            Ok(doc) => doc,
            Err(e) if e.is_record_error() && input.skip_invalid => {
                bars.warn(&e);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        read += 1;
        for (slot, id) in found.iter_mut().zip(ids) {
            if slot.is_none() && doc.id == id {
                *slot = Some(doc.clone());
            }
        }
        if found.iter().all(Option::is_some) {
            break;
        }
    }
    let missing: Vec<String> = found
        .iter()
        .zip(ids)
        .filter(|(slot, _)| slot.is_none())
        .map(|(_, id)| format!("`{id}`"))
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "{path}: no document with id {} among its {read} documents (ids are read from the \
             `{}` field, or are line numbers where a record has none; --id-field names another)",
            missing.join(" or "),
            cfg.id_field
        );
    }
    let [a, b] = found;
    Ok([a.expect("found"), b.expect("found")])
}

/// Compares two documents of the index at `db`, under its settings.
fn from_index(args: &Args, db: &std::path::Path, bars: &Bars) -> anyhow::Result<Comparison> {
    let index = Index::open(db, Access::ReadOnly)?;
    super::index::check_settings(&index)?;
    let settings = index.settings();
    let get = |id: &str| -> anyhow::Result<StoredDocument> {
        index.document(id)?.ok_or_else(|| {
            anyhow::anyhow!(
                "{}: no document with id `{id}` in this index ({} documents)",
                db.display(),
                index.stats().map_or(0, |s| s.documents)
            )
        })
    };
    let (a, b) = (get(&args.a)?, get(&args.b)?);
    let text_fields = args.input_args.config().text_fields;
    let (ta, tb) = (
        kept_text(settings, &a, &text_fields, bars),
        kept_text(settings, &b, &text_fields, bars),
    );
    Ok(compare(
        settings,
        subject(&a, ta.as_deref()),
        subject(&b, tb.as_deref()),
    ))
}

/// A stored document as a text when its text is known, else as its signature.
fn subject<'a>(doc: &'a StoredDocument, text: Option<&'a str>) -> Subject<'a> {
    match text {
        Some(text) => Subject::Text {
            id: Some(&doc.id),
            text,
        },
        None => Subject::Signed {
            id: &doc.id,
            signed: doc.signed(),
        },
    }
}

/// The text of a stored document from the text fields kept with it, when they give back its
/// stored signature (they are the fields it was read from).
fn kept_text(
    settings: &Settings,
    doc: &StoredDocument,
    text_fields: &[String],
    bars: &Bars,
) -> Option<String> {
    let parts: Vec<&str> = text_fields
        .iter()
        .filter_map(|f| doc.fields.get(f)?.as_str())
        .collect();
    if parts.is_empty() {
        return None;
    }
    let text = parts.join("\n");
    let signer = Signer::new(settings);
    let mut sig = vec![0; signer.num_perm()];
    signer.sign_into(&text, &mut Scratch::default(), &mut sig);
    if sig != doc.signature {
        bars.message(&format!(
            "warning: {}: the kept fields {} do not give its stored signature; compared by \
             the signature alone",
            doc.id,
            text_fields.join(", ")
        ));
        return None;
    }
    Some(text)
}
