//! Reports: one serde model of a run's result and one writer per format.
//!
//! The model ([`Report`]) is what `--format json` prints; the other formats are views of the
//! same model, so every format tells the same story.

mod csv;
pub mod html;
#[cfg(feature = "parquet")]
pub mod parquet;
pub(crate) mod text;

pub use text::printable;

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::pipeline::{Outcome, Settings, Stats};

/// A run's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The settings that shaped the result, and the inputs.
    pub params: Params,
    /// Counts and timings.
    pub stats: Stats,
    /// Clusters, ordered by id.
    pub clusters: Vec<Cluster>,
}

/// Settings and inputs of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// The input paths as given.
    pub inputs: Vec<String>,
    /// The settings.
    #[serde(flatten)]
    pub settings: Settings,
}

/// One group of near-duplicate documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// Stable id: the input position (0-based, over all inputs in order) of the cluster's
    /// first document. The same input and settings always give the same ids.
    pub id: u64,
    /// Number of members.
    pub size: usize,
    /// Id of the representative document.
    pub representative: String,
    /// Members in input order.
    pub members: Vec<Member>,
}

/// One document of a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The document's id.
    pub id: String,
    /// Similarity to the cluster's representative (1 for the representative itself).
    pub similarity: f64,
    /// True for the representative.
    pub is_representative: bool,
    /// The first words of the original text.
    pub preview: String,
    /// True when the document was empty after normalization (only in singleton clusters).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty: bool,
    /// The whole original text, when the run kept it ([`crate::pipeline::RunOptions::keep_text`],
    /// which the command line sets for `--format html` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Report {
    /// Builds the report of `outcome`; with `include_singletons`, every document that is in no
    /// cluster appears as a cluster of its own.
    pub fn new(outcome: &Outcome, inputs: Vec<String>, include_singletons: bool) -> Report {
        let mut clusters: Vec<Cluster> = outcome
            .groups
            .iter()
            .map(|g| Cluster {
                id: g.members[0] as u64,
                size: g.members.len(),
                representative: outcome.docs[g.representative as usize].id.clone(),
                members: g
                    .members
                    .iter()
                    .zip(&g.similarities)
                    .map(|(&m, &s)| {
                        let doc = &outcome.docs[m as usize];
                        Member {
                            id: doc.id.clone(),
                            similarity: s,
                            is_representative: m == g.representative,
                            preview: doc.preview.clone(),
                            empty: false,
                            text: doc.text.clone(),
                        }
                    })
                    .collect(),
            })
            .collect();
        if include_singletons {
            let mut grouped = vec![false; outcome.docs.len()];
            for g in &outcome.groups {
                for &m in &g.members {
                    grouped[m as usize] = true;
                }
            }
            for (i, doc) in outcome.docs.iter() {
                if !grouped[i] {
                    clusters.push(Cluster {
                        id: i as u64,
                        size: 1,
                        representative: doc.id.clone(),
                        members: vec![Member {
                            id: doc.id.clone(),
                            similarity: 1.0,
                            is_representative: true,
                            preview: doc.preview.clone(),
                            empty: doc.traits.is_empty(),
                            text: doc.text.clone(),
                        }],
                    });
                }
            }
            clusters.sort_by_key(|c| c.id);
        }
        Report {
            params: Params {
                inputs,
                settings: outcome.settings.clone(),
            },
            stats: outcome.stats.clone(),
            clusters,
        }
    }
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// For people: each cluster with its members' ids and first words.
    Text,
    /// The whole [`Report`] as one JSON document.
    Json,
    /// One JSON object per cluster per line.
    Jsonl,
    /// `cluster_id,doc_id,similarity,is_representative`, one row per member.
    Csv,
    /// One self-contained web page: clusters side by side with their differences marked.
    Html,
    /// The CSV's rows and columns, typed, in a Parquet file.
    Parquet,
}

impl Format {
    /// Every format, as listed in `--help`.
    pub const ALL: [Format; 6] = [
        Format::Text,
        Format::Json,
        Format::Jsonl,
        Format::Csv,
        Format::Html,
        Format::Parquet,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Html => "html",
            Format::Parquet => "parquet",
        }
    }

    /// Whether this build can write the format: every format but Parquet in a build without
    /// the `parquet` feature. The error says how to get it, so a command can refuse the format
    /// before it reads anything.
    pub fn supported(self) -> Result<Format, String> {
        if self == Format::Parquet && !cfg!(feature = "parquet") {
            return Err(crate::input::NO_PARQUET.to_string());
        }
        Ok(self)
    }

    /// True when the format shows whole texts, so the run must keep them
    /// ([`crate::pipeline::RunOptions::keep_text`]); the others need only the preview.
    pub fn needs_text(self) -> bool {
        self == Format::Html
    }

    /// Whether the report shows each document's preview (CSV and Parquet rows are ids).
    pub fn shows_previews(self) -> bool {
        !matches!(self, Format::Csv | Format::Parquet)
    }

    /// The format a file name's extension implies, if any.
    pub fn from_extension(path: &str) -> Option<Format> {
        let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "txt" => Some(Format::Text),
            "json" => Some(Format::Json),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "csv" => Some(Format::Csv),
            "html" | "htm" => Some(Format::Html),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }

    /// Writes `report` in this format.
    pub fn write(self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Format::Text => text::write(report, out),
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, report)?;
                out.write_all(b"\n")
            }
            Format::Jsonl => {
                for c in &report.clusters {
                    serde_json::to_writer(&mut *out, c)?;
                    out.write_all(b"\n")?;
                }
                Ok(())
            }
            Format::Csv => csv::write(report, out),
            Format::Html => html::write(report, &html::HtmlOptions::default(), out),
            #[cfg(feature = "parquet")]
            Format::Parquet => parquet::write(report, out),
            #[cfg(not(feature = "parquet"))]
            Format::Parquet => Err(io::Error::other(crate::input::NO_PARQUET)),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!("unknown format `{s}` (expected text, json, jsonl, csv, html or parquet)")
            })
    }
}

#[cfg(test)]
mod tests;
