//! `mukarrar eval`: cluster labelled files and score the result against the labels.

use std::path::PathBuf;

use anyhow::bail;
use mukarrar::eval::{self, Case, CaseKind, Scores};
use mukarrar::pipeline::{self, Outcome, RunOptions, Settings};
use mukarrar::report::html::{self, CaseDoc, EvalCase, EvalFile, EvalPage, HtmlOptions};
use mukarrar::report::printable;
use serde::Serialize;

use crate::cli::args::{inputs_or_stdin, unknown_extension, InputArgs, SettingsArgs};
use crate::cli::output::Output;
use crate::cli::paths::Protected;
use crate::cli::progress::Bars;
use crate::cli::{Global, Status};

/// Cluster labelled documents and score the clusters against the labels.
///
/// Each record carries a group label (--group-field); records with equal labels are
/// duplicates of each other. Prints pairwise precision, recall, F1 and the adjusted Rand
/// index of the clustering that the given settings produce, for each file. --explain N adds
/// the N worst false merges (most similar pairs of different groups that were joined) and
/// false splits (pieces of one group that were not joined, least similar first), with the
/// first words of both texts and their similarity. `--format html` (or `-o errors.html`)
/// writes a page with the scores and those pairs side by side, their differing words marked
/// (100 of each kind per file unless --explain says otherwise).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar eval samples/labelled.jsonl
  mukarrar eval dev/articles.jsonl.gz dev/headlines.jsonl.gz --format json
  mukarrar eval dev/headlines.jsonl.gz --explain 10 --threshold 0.6
  mukarrar eval dev/headlines.jsonl.gz -o headlines-errors.html")]
pub struct Args {
    /// Labelled input files; each is clustered and scored on its own. `-` reads standard
    /// input [default: standard input, when it is not a terminal].
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,

    /// Field holding each record's group label.
    #[arg(long, value_name = "FIELD", default_value = "group")]
    pub group_field: String,

    /// Show the N worst false merges and the N worst false splits of each file.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = crate::cli::args::count,
          allow_negative_numbers = true)]
    pub explain: usize,

    /// Output format: text, json or html [default: from the --output extension, else text].
    #[arg(short, long, value_name = "FORMAT")]
    pub format: Option<EvalFormat>,

    /// Write the result to FILE (through a temporary file renamed into place) instead of
    /// standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

/// Output formats of `eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalFormat {
    /// A table for people.
    Text,
    /// One JSON document.
    Json,
    /// One self-contained web page with the wrongly clustered pairs side by side.
    Html,
}

/// Wrong pairs of each kind shown per file by `--format html` without --explain.
const HTML_CASES: usize = 100;

impl Args {
    /// --format, else the --output extension (one that says no format is an error), else
    /// text.
    fn format(&self) -> anyhow::Result<EvalFormat> {
        if let Some(f) = self.format {
            return Ok(f);
        }
        let Some((path, ext)) = self
            .output
            .as_ref()
            .and_then(|p| p.extension().map(|e| (p, e)))
        else {
            return Ok(EvalFormat::Text);
        };
        match ext.to_string_lossy().to_ascii_lowercase().as_str() {
            "html" | "htm" => Ok(EvalFormat::Html),
            "json" => Ok(EvalFormat::Json),
            "txt" => Ok(EvalFormat::Text),
            _ => Err(unknown_extension(path, ext, ".txt, .json, .html, .htm")),
        }
    }
}

#[derive(Debug, Serialize)]
struct Side {
    id: String,
    group: String,
    preview: String,
}

#[derive(Debug, Serialize)]
struct Explained {
    kind: CaseKind,
    similarity: f64,
    a: Side,
    b: Side,
}

#[derive(Debug, Serialize)]
struct FileScores {
    file: String,
    #[serde(flatten)]
    scores: Scores,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cases: Vec<Explained>,
}

#[derive(Debug, Serialize)]
struct EvalReport<'a> {
    settings: &'a Settings,
    results: Vec<FileScores>,
}

/// Labels of each document: (truth, predicted cluster = first member's position).
fn labels(outcome: &Outcome, file: &str, field: &str) -> anyhow::Result<(Vec<String>, Vec<u64>)> {
    let mut truth = Vec::with_capacity(outcome.docs.len());
    for (i, doc) in outcome.docs.iter() {
        match doc.fields.first() {
            Some((_, serde_json::Value::String(s))) => truth.push(s.clone()),
            Some((_, v)) if !v.is_null() => truth.push(v.to_string()),
            _ => bail!(
                "{}: record `{}` has no `{field}` field (set --group-field); in {file}",
                outcome.origin(i),
                doc.id,
            ),
        }
    }
    let mut predicted: Vec<u64> = (0..outcome.docs.len() as u64).collect();
    for g in &outcome.groups {
        for &m in &g.members {
            predicted[m as usize] = g.members[0] as u64;
        }
    }
    Ok((truth, predicted))
}

pub fn run(args: &Args, global: &Global) -> anyhow::Result<Status> {
    let settings = args.settings.settings()?;
    let files = inputs_or_stdin(&args.files, "mukarrar eval samples/labelled.jsonl")?;
    Protected::default()
        .inputs(&files)
        .check("-o", args.output.as_deref())?;
    let format = args.format()?;
    let out = Output::open(args.output.as_deref())?;
    let bars = Bars::new(global.quiet);
    let mut cfg = args.input.config();
    cfg.keep_fields = vec![args.group_field.clone()];
    let explain = match (format, args.explain) {
        (EvalFormat::Html, 0) => HTML_CASES,
        (_, n) => n,
    };
    let mut results = Vec::new();
    let mut pages = Vec::new();
    let (readers, watch) = args.input.open_readers(&files, &cfg, &bars)?;
    for (i, (file, reader)) in files.iter().zip(readers).enumerate() {
        let inputs = vec![pipeline::Input::new(file.clone(), reader)];
        let options = RunOptions {
            skip_invalid: args.input.skip_invalid,
            keep_text: format == EvalFormat::Html,
            keep_signatures: explain > 0,
            // Scores need every document; dev sets fit in memory.
            budget: None,
            every_doc: true,
            skip_previews: false,
        };
        let outcome = pipeline::run(inputs, &settings, &options, &bars)?;
        watch.check_one(i, outcome.stats.documents, outcome.stats.skipped, &bars)?;
        let (truth, predicted) = labels(&outcome, file, &args.group_field)?;
        let scores = eval::score(&truth, &predicted);
        let cases = if explain > 0 {
            let sim = |a: usize, b: usize| outcome.similarity(a, b).unwrap_or(f64::NAN);
            eval::explain(&truth, &predicted, sim, explain)
        } else {
            Vec::new()
        };
        if format == EvalFormat::Html {
            let doc = |i: usize| CaseDoc {
                id: outcome.docs[i].id.clone(),
                text: outcome.docs[i].text.clone().unwrap_or_default(),
                label: truth[i].clone(),
            };
            pages.push(EvalFile {
                name: file.clone(),
                scores,
                cases: cases
                    .iter()
                    .map(|c| EvalCase {
                        kind: c.kind,
                        a: doc(c.a),
                        b: doc(c.b),
                        similarity: c.similarity,
                    })
                    .collect(),
            });
        }
        let cases = cases
            .into_iter()
            .map(|c: Case| {
                let side = |i: usize| Side {
                    id: outcome.docs[i].id.clone(),
                    group: truth[i].clone(),
                    preview: outcome.docs[i].preview.clone(),
                };
                Explained {
                    kind: c.kind,
                    similarity: c.similarity,
                    a: side(c.a),
                    b: side(c.b),
                }
            })
            .collect();
        results.push(FileScores {
            file: file.clone(),
            scores,
            cases,
        });
    }
    match format {
        EvalFormat::Html => {
            let page = EvalPage {
                settings,
                files: pages,
            };
            out.write(|out| html::write_eval(&page, &HtmlOptions::default(), out))?;
        }
        EvalFormat::Json => {
            let report = EvalReport {
                settings: &settings,
                results,
            };
            let text = serde_json::to_string_pretty(&report)? + "\n";
            out.write(|w| w.write_all(text.as_bytes()))?;
        }
        EvalFormat::Text => {
            let text = text(&results);
            out.write(|w| w.write_all(text.as_bytes()))?;
        }
    }
    Ok(Status::Ok)
}

fn text(results: &[FileScores]) -> String {
    let width = results
        .iter()
        .map(|r| printable(&r.file).chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut s = format!(
        "{:<width$} {:>6} {:>9} {:>9} {:>9} {:>9}\n",
        "file", "docs", "precision", "recall", "F1", "ARI"
    );
    for r in results {
        s.push_str(&format!(
            "{:<width$} {:>6} {:>9.4} {:>9.4} {:>9.4} {:>9.4}\n",
            printable(&r.file),
            r.scores.documents,
            r.scores.precision,
            r.scores.recall,
            r.scores.f1,
            r.scores.ari
        ));
    }
    for r in results.iter().filter(|r| !r.cases.is_empty()) {
        s.push_str(&format!("\n{}:\n", printable(&r.file)));
        for c in &r.cases {
            let kind = match c.kind {
                CaseKind::FalseMerge => "false merge",
                CaseKind::FalseSplit => "false split",
            };
            s.push_str(&format!("  {kind}, similarity {:.3}\n", c.similarity));
            for side in [&c.a, &c.b] {
                s.push_str(&format!(
                    "    {} [{}] {}\n",
                    printable(&side.id),
                    printable(&side.group),
                    printable(&side.preview)
                ));
            }
        }
    }
    s
}
