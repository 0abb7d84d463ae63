//! `mukarrar eval`: cluster labelled files and score the result against the labels.

use std::collections::HashMap;

use anyhow::bail;
use mukarrar::eval::{self, Scores};
use mukarrar::pipeline::{self, RunOptions};
use serde::Serialize;

use crate::cli::args::{self, ClusterArgs, InputArgs, LshArgs, SignatureArgs};
use crate::cli::progress::Bars;
use crate::cli::{output, Global, Status};

/// Cluster labelled documents and score the clusters against the labels.
///
/// Each record carries a group label (--group-field); records with equal labels are
/// duplicates of each other. Prints pairwise precision, recall, F1 and the adjusted Rand
/// index of the clustering that the given settings produce, per file and over all files.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mukarrar eval samples/labelled.jsonl
  mukarrar eval dev/articles.jsonl.gz dev/headlines.jsonl.gz --format json
  mukarrar eval dev/headlines.jsonl.gz --shingle char --ngram 4 --threshold 0.6")]
pub struct Args {
    /// Labelled input files; each is clustered and scored on its own.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<String>,

    /// Field holding each record's group label.
    #[arg(long, value_name = "FIELD", default_value = "group")]
    pub group_field: String,

    /// Output format: text or json.
    #[arg(short, long, value_name = "FORMAT", default_value = "text")]
    pub format: EvalFormat,

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
    let mut results = Vec::new();
    for file in &args.files {
        let reader = mukarrar::input::open(file, &cfg)?;
        let inputs = vec![pipeline::Input::new(file.clone(), reader)];
        let options = RunOptions {
            skip_invalid: args.input.skip_invalid,
            keep_text: false,
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
        results.push(FileScores {
            file: file.clone(),
            scores: eval::score(&truth, &predicted),
        });
    }
    let text = match args.format {
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
    };
    output::write_to(None, |w| w.write_all(text.as_bytes()))?;
    Ok(Status::Ok)
}
