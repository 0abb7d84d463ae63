//! Argument groups shared by subcommands, and their conversion into library settings.
//!
//! Each group is a clap struct flattened into the subcommands that need it; the `settings`
//! functions are the one place where flags become a validated [`Settings`].

use std::path::PathBuf;

use anyhow::Context;
use clap::ValueEnum;
use mukarrar::cluster::{Measure, Representative, Verify};
use mukarrar::input::{self, InputConfig};
use mukarrar::lsh::{LshParams, Objective};
use mukarrar::minhash::MinHashConfig;
use mukarrar::normalize::Profile;
use mukarrar::pipeline::Input;
use mukarrar::report;
use mukarrar::settings::{self, Lead, Linkage, Options, Settings, ShortText, DEFAULT_THRESHOLD};
use mukarrar::shingle::ShingleKind;

/// Input format names on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// One JSON object per line (also gzip-compressed).
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
    /// A folder of .txt files, one document each.
    Txt,
    /// A Parquet file, or a folder of .parquet shards.
    Parquet,
}

/// How documents are read.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Input")]
pub struct InputArgs {
    /// Field (or CSV column) holding the document id; dotted paths reach into objects
    /// (`meta.id`). A record without it gets its line number as id.
    #[arg(long, value_name = "FIELD", default_value = "id")]
    pub id_field: String,

    /// Field (or CSV column) holding text; repeat it to join several fields with newlines.
    /// Absent fields are skipped; a record with none of them is invalid.
    /// [default: title, then text]
    #[arg(long = "text-field", value_name = "FIELD")]
    pub text_fields: Vec<String>,

    /// Input format, when the file name does not tell (.jsonl/.json/.ndjson, .csv, .tsv,
    /// .parquet, a folder of .txt or .parquet files; gzip, zstd, bzip2 and xz are detected
    /// by content).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,

    /// Skip invalid records (bad JSON or UTF-8, no text field, repeated id) with a warning
    /// instead of stopping; the summary counts them.
    #[arg(long)]
    pub skip_invalid: bool,
}

impl InputArgs {
    /// The reader configuration.
    pub fn config(&self) -> InputConfig {
        let mut cfg = InputConfig {
            id_field: self.id_field.clone(),
            format: self.input_format.map(|f| match f {
                InputFormat::Jsonl => input::Format::Jsonl,
                InputFormat::Csv => input::Format::Csv,
                InputFormat::Tsv => input::Format::Tsv,
                InputFormat::Txt => input::Format::TextDir,
                InputFormat::Parquet => input::Format::Parquet,
            }),
            ..InputConfig::default()
        };
        if !self.text_fields.is_empty() {
            cfg.text_fields = self.text_fields.clone();
        }
        cfg
    }

    /// Opens every input (before any is read, so a missing file fails at once).
    pub fn open(&self, paths: &[String]) -> anyhow::Result<Vec<Input>> {
        self.open_keeping(paths, &[])
    }

    /// Opens every input like [`InputArgs::open`], keeping the `keep_fields` of each record.
    pub fn open_keeping(
        &self,
        paths: &[String],
        keep_fields: &[String],
    ) -> anyhow::Result<Vec<Input>> {
        let mut cfg = self.config();
        cfg.keep_fields = keep_fields.to_vec();
        if paths.iter().filter(|p| *p == "-").count() > 1 {
            anyhow::bail!("standard input (`-`) can be given only once");
        }
        paths
            .iter()
            .map(|p| {
                let reader =
                    input::open(p, &cfg).with_context(|| format!("cannot read input {p}"))?;
                Ok(Input::new(p.clone(), reader))
            })
            .collect()
    }
}

/// What a signature is made of.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Signatures")]
pub struct SignatureArgs {
    /// Normalization profile: `default` (all Arabic rules), `light` (Lucene's
    /// ArabicNormalizer) or `none` (whitespace only). See `mukarrar normalize --help`.
    #[arg(long = "normalize", value_name = "PROFILE", default_value = "default")]
    pub profile: Profile,

    /// Shingles of words or of characters.
    #[arg(long, value_name = "KIND", default_value = "word")]
    pub shingle: ShingleKind,

    /// Shingle size [default: 3 for words, 5 for characters].
    #[arg(long, value_name = "N")]
    pub ngram: Option<usize>,

    /// Keep title tags: by default a short label before `:`, `|` or `..` at the start of the
    /// first line (`عاجل |`, `بالفيديو..`) and a short attribution at its end (`- واس`,
    /// `(صور)`) are removed before normalizing.
    #[arg(long)]
    pub keep_title_tags: bool,

    /// Texts of fewer words than this are short: they are compared by their sets of words,
    /// against --short-threshold, only with other short texts, and never when their numbers
    /// differ. 0 treats every text as long.
    #[arg(long, value_name = "WORDS", default_value_t = settings::DEFAULT_SHORT_WORDS)]
    pub short_words: usize,

    /// Similarity two short texts must reach.
    #[arg(long, value_name = "T", default_value_t = settings::DEFAULT_SHORT_THRESHOLD)]
    pub short_threshold: f64,

    /// Compare short texts even when their numbers (digits, Arabic ordinal words) differ.
    #[arg(long)]
    pub ignore_numbers: bool,

    /// Two short texts sharing a run of this many consecutive words (and at least 70% of the
    /// shorter one) are duplicates even below --short-threshold; 0 turns the rule off.
    #[arg(long, value_name = "WORDS", default_value_t = ShortText::default().run_words)]
    pub short_run_words: usize,

    /// Opening words of a long text whose shingles count --lead-weight times; 0 turns lead
    /// weighting off.
    #[arg(long, value_name = "WORDS", default_value_t = Lead::default().words)]
    pub lead_words: usize,

    /// Leave out of every signature the lines that occur in N or more documents of the input
    /// (boilerplate: footers, "read also" lists, tag lines). Off by default: the lead weighting
    /// handles templates without looking at the rest of the corpus.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub boilerplate_df: usize,

    /// How many times each shingle of the lead counts.
    #[arg(long, value_name = "W", default_value_t = Lead::default().weight)]
    pub lead_weight: usize,

    /// Signature length (MinHash permutations): more is more accurate and slower.
    #[arg(long, value_name = "K", default_value_t = MinHashConfig::default().num_perm)]
    pub num_perm: usize,

    /// Seed of the shingle hash and the permutations; signatures are comparable only
    /// between runs with the same seed.
    #[arg(long, value_name = "SEED", default_value_t = MinHashConfig::default().seed)]
    pub seed: u64,
}

/// Candidate generation.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Matching")]
pub struct LshArgs {
    /// Similarity (Jaccard of shingle sets, 0–1) at which two long documents are duplicates.
    #[arg(short, long, value_name = "T", default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,

    /// How bands × rows are chosen from the threshold: `area` balances missed and spurious
    /// candidates; `recall` keeps P(candidate | similarity = threshold) ≥ 0.99.
    #[arg(long, value_name = "OBJECTIVE", default_value = "area")]
    pub lsh_objective: Objective,

    /// Number of LSH bands (overrides the objective; with --rows or alone).
    #[arg(long, value_name = "B")]
    pub bands: Option<usize>,

    /// Rows per LSH band (overrides the objective; with --bands or alone).
    #[arg(long, value_name = "R")]
    pub rows: Option<usize>,
}

impl LshArgs {
    /// Bands × rows for a signature of `num_perm` slots, finding candidates down to
    /// `threshold`.
    pub fn params(&self, threshold: f64, num_perm: usize) -> anyhow::Result<LshParams> {
        LshParams::given(
            threshold,
            num_perm,
            self.lsh_objective,
            self.bands,
            self.rows,
        )
        .map_err(anyhow::Error::msg)
    }
}

/// Verification and clustering.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Clustering")]
pub struct ClusterArgs {
    /// What the threshold applies to: `jaccard` (shared shingles over all shingles) or
    /// `containment` (shared shingles over the smaller document's shingles, so an excerpt
    /// matches its whole story).
    #[arg(long, value_name = "MEASURE", default_value = "jaccard")]
    pub measure: Measure,

    /// How a candidate pair's similarity is measured: `estimate` from the signatures, or
    /// `exact` over the shingle sets (keeps every set in memory).
    #[arg(long, value_name = "HOW", default_value = "estimate")]
    pub verify: Verify,

    /// How verified pairs form clusters: `single` joins every connected group; with
    /// `representative` a document joins a cluster only when it matches the cluster's first
    /// document.
    #[arg(long, value_name = "HOW", default_value = "single")]
    pub linkage: Linkage,

    /// Which member represents each cluster: the `first` in input order or the `longest`.
    #[arg(long, value_name = "WHICH", default_value = "first")]
    pub representative: Representative,
}

/// Every flag that shapes a result: signatures, matching and clustering, as one group.
#[derive(Debug, Clone, clap::Args)]
pub struct SettingsArgs {
    #[command(flatten)]
    pub signature: SignatureArgs,
    #[command(flatten)]
    pub lsh: LshArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

impl SettingsArgs {
    /// The validated settings these flags give.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        settings(&self.signature, &self.lsh, &self.cluster)
    }
}

/// Builds validated settings from the argument groups (through [`Options`], which names
/// every setting as its flag does).
pub fn settings(
    sig: &SignatureArgs,
    lsh: &LshArgs,
    cluster: &ClusterArgs,
) -> anyhow::Result<Settings> {
    let options = Options {
        normalize: sig.profile,
        shingle: sig.shingle,
        ngram: sig.ngram,
        keep_title_tags: sig.keep_title_tags,
        short_words: sig.short_words,
        short_threshold: sig.short_threshold,
        ignore_numbers: sig.ignore_numbers,
        short_run_words: sig.short_run_words,
        lead_words: sig.lead_words,
        lead_weight: sig.lead_weight,
        boilerplate_df: sig.boilerplate_df,
        num_perm: sig.num_perm,
        seed: sig.seed,
        threshold: lsh.threshold,
        lsh_objective: lsh.lsh_objective,
        bands: lsh.bands,
        rows: lsh.rows,
        measure: cluster.measure,
        verify: cluster.verify,
        linkage: cluster.linkage,
        representative: cluster.representative,
    };
    Ok(options.settings()?)
}

/// Report output.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Report format: text, json, jsonl, csv, html (one self-contained page: texts side by
    /// side with their differences marked) or parquet (the csv columns, typed) [default: from the --output extension, else text
    /// on a terminal and csv in a pipe].
    #[arg(short, long, value_name = "FORMAT")]
    pub format: Option<report::Format>,

    /// Write the report to FILE (through a temporary file renamed into place) instead of
    /// standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also report documents that have no duplicate, each as a cluster of one.
    #[arg(long)]
    pub include_singletons: bool,

    /// Exit with status 1 when any duplicates are found.
    #[arg(long)]
    pub fail_on_duplicates: bool,
}

impl OutputArgs {
    /// The report format to use.
    pub fn format(&self) -> report::Format {
        if let Some(f) = self.format {
            return f;
        }
        if let Some(f) = self
            .output
            .as_ref()
            .and_then(|p| report::Format::from_extension(&p.to_string_lossy()))
        {
            return f;
        }
        if self.output.is_none() && super::output::stdout_is_terminal() {
            report::Format::Text
        } else {
            report::Format::Csv
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        settings: SettingsArgs,
    }

    #[test]
    fn flag_defaults_are_the_library_options_defaults() {
        let flags = Flags::try_parse_from(["mukarrar"]).unwrap();
        assert_eq!(
            flags.settings.settings().unwrap(),
            Options::default().settings().unwrap()
        );
        let flags =
            Flags::try_parse_from(["mukarrar", "--shingle", "char", "--rows", "4"]).unwrap();
        let options = Options {
            shingle: ShingleKind::Char,
            rows: Some(4),
            ..Options::default()
        };
        assert_eq!(
            flags.settings.settings().unwrap(),
            options.settings().unwrap()
        );
    }
}
