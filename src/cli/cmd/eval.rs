//! `mukarrar eval`: cluster labelled files and score the result against the labels.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::bail;
use mukarrar::eval::{self, Scores};
use mukarrar::pipeline::{self, Outcome, RunOptions};
use mukarrar::report::html::{self, CaseDoc, EvalCase, EvalFile, EvalPage, HtmlOptions};
use serde::Serialize;

use crate::cli::args::{self, ClusterArgs, InputArgs, LshArgs, SignatureArgs};
use crate::cli::progress::Bars;
use crate::cli::{output, Global, Status};

/// Cluster labelled documents and score the clusters against the labels.
///
/// Each record carries a group label (--group-field); records with equal labels are
/// duplicates of each other. Prints pairwise precision, recall, F1 and the adjusted Rand
/// index of the clustering that the given settings produce, per file and over all files.
/// `--format html` writes a page with the scores and, side by side, the wrongly merged and
/// wrongly split pairs of each file (the most similar false merges and the least similar
/// false splits, up to 100 of each).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar eval samples/labelled.jsonl
  mukarrar eval dev/articles.jsonl.gz dev/headlines.jsonl.gz --format json
  mukarrar eval dev/headlines.jsonl.gz -o headlines-errors.html
  mukarrar eval dev/headlines.jsonl.gz --shingle char --ngram 4 --threshold 0.6")]
pub struct Args {
    /// Labelled input files; each is clustered and scored on its own.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<String>,

    /// Field holding each record's group label.
    #[arg(long, value_name = "FIELD", default_value = "group")]
    pub group_field: String,

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
    pub signature: SignatureArgs,
    #[command(flatten)]
    pub lsh: LshArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
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

/// Wrong pairs of each kind shown per file by `--format html`.
const HTML_CASES: usize = 100;

impl Args {
    fn format(&self) -> EvalFormat {
        if let Some(f) = self.format {
            return f;
        }
        let ext = self
            .output
            .as_ref()
            .and_then(|p| p.extension())
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("html" | "htm") => EvalFormat::Html,
            Some("json") => EvalFormat::Json,
            _ => EvalFormat::Text,
        }
    }
}

#[derive(Debug, Serialize)]
struct FileScores {
    file: String,
    #[serde(flatten)]
    scores: Scores,
}

pub fn run(args: &Args, global: &Global) -> anyhow::Result<Status> {
    let settings = args::settings(&args.signature, &args.lsh, &args.cluster)?;
    let bars = Bars::new(global.quiet);
    let mut cfg = args.input.config();
    cfg.keep_fields = vec![args.group_field.clone()];
    let format = args.format();
    let mut results = Vec::new();
    let mut pages = Vec::new();
    for file in &args.files {
        let reader = mukarrar::input::open(file, &cfg)?;
        let inputs = vec![pipeline::Input::new(file.clone(), reader)];
        let options = RunOptions {
            skip_invalid: args.input.skip_invalid,
            keep_text: format == EvalFormat::Html,
        };
        let outcome = pipeline::run(inputs, &settings, &options, &bars)?;
        let mut truth = Vec::with_capacity(outcome.docs.len());
        for doc in &outcome.docs {
            match doc.fields.first() {
                Some((_, v)) if !v.is_null() => truth.push(v.to_string()),
                _ => bail!(
                    "{}: record `{}` has no `{}` field (set --group-field)",
                    doc.origin,
                    doc.id,
                    args.group_field
                ),
            }
        }
        let mut predicted: Vec<u64> = (0..outcome.docs.len() as u64).collect();
        for g in &outcome.groups {
            for &m in &g.members {
                predicted[m as usize] = g.members[0] as u64;
            }
        }
        let scores = eval::score(&truth, &predicted);
        if format == EvalFormat::Html {
            pages.push(EvalFile {
                name: file.clone(),
                scores,
                cases: cases(&outcome, &truth)?,
            });
        }
        results.push(FileScores {
            file: file.clone(),
            scores,
        });
    }
    if format == EvalFormat::Html {
        let page = EvalPage {
            settings,
            files: pages,
        };
        output::write_to(args.output.as_deref(), |out| {
            html::write_eval(&page, &HtmlOptions::default(), out)
        })?;
        return Ok(Status::Ok);
    }
    let text = match format {
        EvalFormat::Json => {
            let mut map = HashMap::new();
            map.insert("settings", serde_json::to_value(&settings)?);
            map.insert("results", serde_json::to_value(&results)?);
            serde_json::to_string_pretty(&map)? + "\n"
        }
        EvalFormat::Text => {
            let mut s = format!(
                "{:<40} {:>6} {:>9} {:>9} {:>9} {:>9}\n",
                "file", "docs", "precision", "recall", "F1", "ARI"
            );
            for r in &results {
                s.push_str(&format!(
                    "{:<40} {:>6} {:>9.4} {:>9.4} {:>9.4} {:>9.4}\n",
                    r.file,
                    r.scores.documents,
                    r.scores.precision,
                    r.scores.recall,
                    r.scores.f1,
                    r.scores.ari
                ));
            }
            s
        }
        EvalFormat::Html => unreachable!("written above"),
    };
    output::write_to(args.output.as_deref(), |w| w.write_all(text.as_bytes()))?;
    Ok(Status::Ok)
}

/// The wrong pairs of one file, with their texts and labels.
fn cases(outcome: &Outcome, truth: &[String]) -> anyhow::Result<Vec<EvalCase>> {
    let doc = |i: u32| {
        let d = &outcome.docs[i as usize];
        CaseDoc {
            id: d.id.clone(),
            text: d.text.clone().unwrap_or_default(),
            // Labels are JSON values: show a string label without its quotes.
            label: serde_json::from_str::<String>(&truth[i as usize])
                .unwrap_or_else(|_| truth[i as usize].clone()),
        }
    };
    Ok(eval::explain(outcome, truth, HTML_CASES)?
        .into_iter()
        .map(|c| EvalCase {
            kind: c.kind,
            a: doc(c.a),
            b: doc(c.b),
            similarity: c.similarity,
        })
        .collect())
}
