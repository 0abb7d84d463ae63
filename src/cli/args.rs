//! Argument groups shared by subcommands, and their conversion into library settings.
//!
//! Each group is a clap struct flattened into the subcommands that need it; the `settings`
//! functions are the one place where flags become a validated [`Settings`].

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::ValueEnum;
use mukarrar::cluster::{Measure, Representative, Verify};
use mukarrar::input::{self, ByteCounter, InputConfig, Reader};
use mukarrar::lsh::{LshParams, Objective};
use mukarrar::minhash::MinHashConfig;
use mukarrar::normalize::Profile;
use mukarrar::pipeline::Input;
use mukarrar::report;
use mukarrar::settings::{
    self, Cross, Lead, Linkage, Options, Reword, Settings, ShortText, DEFAULT_THRESHOLD,
};
use mukarrar::shingle::ShingleKind;

use super::progress::Bars;

/// Input format names on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// One JSON object per line (also gzip-compressed).
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
    /// A folder: .txt files one document each, the other formats by their extension.
    Txt,
    /// A Parquet file, or a folder of .parquet shards.
    Parquet,
}

/// What a folder reads, for messages.
const FOLDER_READS: &str = ".txt, .jsonl, .ndjson, .json, .csv, .tsv, .tab and .parquet files, \
                            the text ones also compressed (.gz, .zst, .bz2, .xz)";

/// How documents are read.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Input")]
pub struct InputArgs {
    /// Field (or CSV column) holding the document id; dotted paths reach into objects
    /// (`meta.id`). A record without it gets its line number as id. A field named here must
    /// be in the first record (or the CSV header) [default: id].
    #[arg(long, value_name = "FIELD")]
    pub id_field: Option<String>,

    /// Field (or CSV column) holding text; repeat it to join several fields with newlines.
    /// Absent fields are skipped; a record with none of them is invalid, and an input whose
    /// first records have none of them is refused. [default: title, then text]
    #[arg(long = "text-field", value_name = "FIELD")]
    pub text_fields: Vec<String>,

    /// Input format, when the file name does not tell (.jsonl/.json/.ndjson, .csv, .tsv,
    /// a folder, .parquet; gzip, zstd, bzip2 and xz are detected by content). A folder's files
    /// are read by their extension: .txt files one document each, the others as their format
    /// (a folder of .parquet shards is read as Parquet); other files are named in a warning and
    /// not read.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,

    /// Skip invalid records (bad JSON or UTF-8, no text field, repeated id) with a warning
    /// instead of stopping; the summary counts them.
    #[arg(long)]
    pub skip_invalid: bool,

    /// Accept a run that reads no documents (an empty input, a folder without a file to
    /// read, every record skipped as invalid); without it such a run is an error (exit 2).
    #[arg(long)]
    pub allow_empty: bool,

    /// The longest record accepted (a JSON Lines line, a CSV or TSV record), in bytes, with
    /// an optional K, M or G suffix (powers of 1024): a longer record is an invalid record,
    /// named by file and line, and found after reading that many bytes of it, so a line
    /// without end (a broken export, a gzip bomb) fails fast in little memory. A CSV or TSV
    /// record more than 512 KiB past the limit stops reading its file, even with
    /// --skip-invalid: where the next record begins is not known without reading it.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = record_size)]
    pub max_record_size: u64,
}

/// How much memory a run holds before it writes to temporary files.
#[derive(Debug, Clone, clap::Args)]
pub struct MemoryArgs {
    /// Memory for the run: half of it holds signatures and documents; beyond that they go to
    /// temporary files in --temp-dir and bands are sorted on disk, so corpora larger than
    /// memory run on one machine; the clusters are the same, the run slower. Every document
    /// also costs about 150 bytes that stay in memory (its id, what linking keeps), which the
    /// other half covers up to some millions of documents [default: half the physical
    /// memory].
    #[arg(long, value_name = "SIZE", value_parser = record_size)]
    pub memory_limit: Option<u64>,

    /// Folder of the temporary files (created unlinked: they never outlive the run, whatever
    /// ends it) [default: the system's temporary folder, $TMPDIR].
    #[arg(long, value_name = "DIR")]
    pub temp_dir: Option<std::path::PathBuf>,
}

impl MemoryArgs {
    /// The budget, after checking that the temporary folder is a folder.
    pub fn budget(&self) -> anyhow::Result<mukarrar::spill::Budget> {
        mukarrar::spill::Budget::checked(self.memory_limit, self.temp_dir.clone())
            .map_err(|e| anyhow::anyhow!("--temp-dir {e}"))
    }
}

/// A size in bytes: digits with an optional K, M or G suffix (powers of 1024, `KiB` and `KB`
/// spelt out too), at least 1 byte.
pub(crate) fn record_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => {
            return Err(format!(
                "`{s}` is not a size (examples: 65536, 64K, 64M, 1G)"
            ))
        }
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a size (examples: 65536, 64K, 64M, 1G)"))?;
    match n.checked_mul(1 << shift) {
        Some(0) => Err("the size must be at least 1 byte".into()),
        Some(v) => Ok(v),
        None => Err(format!("`{s}` is too large")),
    }
}

/// The inputs named on the command line, or standard input when none is and it is not a
/// terminal. On a terminal, waiting for typed input would look like a hang: that is an error
/// that says how to name an input (`example` shows the command in use).
pub fn inputs_or_stdin(paths: &[String], example: &str) -> anyhow::Result<Vec<String>> {
    if !paths.is_empty() {
        return Ok(paths.to_vec());
    }
    no_input_on_terminal(
        std::io::stdin().is_terminal(),
        "name a file or folder",
        example,
    )?;
    Ok(vec!["-".into()])
}

/// The error of a command given no input while standard input is a terminal: `what` says
/// what to give instead.
pub fn no_input_on_terminal(terminal: bool, what: &str, example: &str) -> anyhow::Result<()> {
    if terminal {
        anyhow::bail!(
            "no input given: {what}, or use - for standard input (e.g. `{example}`); see --help"
        );
    }
    Ok(())
}

/// The opened inputs' byte counts, to say afterwards why a run read no documents.
#[derive(Debug)]
pub struct Watch {
    inputs: Vec<(String, ByteCounter)>,
    allow_empty: bool,
}

impl Watch {
    /// Fails a run that read no documents (`skipped` records were skipped as invalid), saying
    /// why, unless --allow-empty was given.
    pub fn check(&self, documents: usize, skipped: usize, bars: &Bars) -> anyhow::Result<()> {
        self.check_inputs(&self.inputs, documents, skipped, bars)
    }

    /// [`Watch::check`] for the run of the `i`-th input alone.
    pub fn check_one(
        &self,
        i: usize,
        documents: usize,
        skipped: usize,
        bars: &Bars,
    ) -> anyhow::Result<()> {
        self.check_inputs(&self.inputs[i..=i], documents, skipped, bars)
    }

    fn check_inputs(
        &self,
        inputs: &[(String, ByteCounter)],
        documents: usize,
        skipped: usize,
        bars: &Bars,
    ) -> anyhow::Result<()> {
        if documents > 0 || self.allow_empty {
            return Ok(());
        }
        let why = if skipped > 0 {
            let first = bars
                .first_warning()
                .map(|w| format!(" (the first: {w})"))
                .unwrap_or_default();
            match skipped {
                1 => format!("the only record was invalid and skipped{first}"),
                n => format!("all {n} records were invalid and skipped{first}"),
            }
        } else {
            let each: Vec<String> = inputs
                .iter()
                .map(|(name, bytes)| {
                    let name = if name == "-" {
                        "standard input"
                    } else {
                        name.as_str()
                    };
                    if bytes.get() == 0 {
                        format!("{name} is empty")
                    } else {
                        format!("{name} holds no records")
                    }
                })
                .collect();
            each.join("; ")
        };
        anyhow::bail!("no documents read: {why} (--allow-empty accepts a run without documents)")
    }
}

impl InputArgs {
    /// The reader configuration.
    pub fn config(&self) -> InputConfig {
        let mut cfg = InputConfig {
            id_field: self.id_field.clone().unwrap_or_else(|| "id".into()),
            require_id: self.id_field.is_some(),
            format: self.input_format.map(|f| match f {
                InputFormat::Jsonl => input::Format::Jsonl,
                InputFormat::Csv => input::Format::Csv,
                InputFormat::Tsv => input::Format::Tsv,
                InputFormat::Txt => input::Format::TextDir,
                InputFormat::Parquet => input::Format::Parquet,
            }),
            max_record_size: self.max_record_size,
            ..InputConfig::default()
        };
        if !self.text_fields.is_empty() {
            cfg.text_fields = self.text_fields.clone();
        }
        cfg
    }

    /// Opens every input (before any is read, so a missing file fails at once).
    pub fn open(&self, paths: &[String], bars: &Bars) -> anyhow::Result<(Vec<Input>, Watch)> {
        self.open_keeping(paths, &[], bars)
    }

    /// Opens every input like [`InputArgs::open`], keeping the `keep_fields` of each record.
    pub fn open_keeping(
        &self,
        paths: &[String],
        keep_fields: &[String],
        bars: &Bars,
    ) -> anyhow::Result<(Vec<Input>, Watch)> {
        let mut cfg = self.config();
        cfg.keep_fields = keep_fields.to_vec();
        let (readers, watch) = self.open_readers(paths, &cfg, bars)?;
        let inputs = paths
            .iter()
            .zip(readers)
            .map(|(p, reader)| Input::new(p.clone(), reader))
            .collect();
        Ok((inputs, watch))
    }

    /// Opens every input with `cfg`, before any is read. A folder's files that are not read
    /// are named in a warning, and a folder with no file to read is an error (unless
    /// --allow-empty).
    pub fn open_readers(
        &self,
        paths: &[String],
        cfg: &InputConfig,
        bars: &Bars,
    ) -> anyhow::Result<(Vec<Reader>, Watch)> {
        if paths.iter().filter(|p| *p == "-").count() > 1 {
            anyhow::bail!("standard input (`-`) can be given only once");
        }
        let mut readers = Vec::with_capacity(paths.len());
        for path in paths {
            let reader = open_one(path, cfg)?;
            let ignored = reader.ignored_files();
            if !ignored.is_empty() {
                bars.message(&format!(
                    "warning: {path}: {} not read (a folder reads {FOLDER_READS}): {}",
                    match ignored.len() {
                        1 => "1 file".to_string(),
                        n => format!("{n} files"),
                    },
                    name_list(ignored)
                ));
            }
            if reader.folder_files() == Some(0) && !self.allow_empty {
                anyhow::bail!(
                    "{path}: no file in this folder can be read (a folder reads {FOLDER_READS}){}; \
                     --allow-empty accepts a run without documents",
                    if ignored.is_empty() {
                        " and it holds none".to_string()
                    } else {
                        format!(", and it holds only {}", name_list(ignored))
                    }
                );
            }
            readers.push(reader);
        }
        let watch = Watch {
            inputs: paths
                .iter()
                .zip(&readers)
                .map(|(p, r)| (p.clone(), r.byte_counter()))
                .collect(),
            allow_empty: self.allow_empty,
        };
        Ok((readers, watch))
    }
}

/// Opens one input; a file that cannot be opened is named once in the message.
pub fn open_one(path: &str, cfg: &InputConfig) -> anyhow::Result<Reader> {
    input::open(path, cfg).map_err(|e| match e {
        mukarrar::Error::Io { path, source } => {
            anyhow::anyhow!("cannot read input {}: {source}", path.display())
        }
        other => other.into(),
    })
}

/// Up to ten names, then how many more.
fn name_list(names: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut list = names
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        list.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    list
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
    #[arg(long, value_name = "N", value_parser = count, allow_negative_numbers = true)]
    pub ngram: Option<usize>,

    /// Keep title tags: by default a short label before `:`, `|` or `..` at the start of the
    /// first line (`عاجل |`, `بالفيديو..`) and a short attribution at its end (`- واس`,
    /// `(صور)`) are removed before normalizing.
    #[arg(long)]
    pub keep_title_tags: bool,

    /// Texts of fewer words than this are short: they are compared by their sets of words,
    /// against --short-threshold, only with other short texts, and never when their numbers
    /// differ. 0 treats every text as long.
    #[arg(long, value_name = "WORDS", default_value_t = settings::DEFAULT_SHORT_WORDS,
          value_parser = count, allow_negative_numbers = true)]
    pub short_words: usize,

    /// Similarity two short texts must reach.
    #[arg(long, value_name = "T", default_value_t = settings::DEFAULT_SHORT_THRESHOLD,
          allow_negative_numbers = true)]
    pub short_threshold: f64,

    /// Compare short texts even when their numbers (digits, Arabic ordinal words) differ.
    #[arg(long)]
    pub ignore_numbers: bool,

    /// Two short texts sharing a run of this many consecutive words (and at least 70% of the
    /// shorter one) are duplicates even below --short-threshold; 0 turns the rule off.
    #[arg(long, value_name = "WORDS", default_value_t = ShortText::default().run_words,
          value_parser = count, allow_negative_numbers = true)]
    pub short_run_words: usize,

    /// Cross-length matching: a bare headline or a teaser matches the article it comes from.
    /// Every text keeps its first WORDS words (its lead); two texts match when their heads
    /// (first lines: the title, when the record has a title field) match as two short texts
    /// do, and one is a bare headline or the shorter lead is --cross-containment contained in
    /// the other. 0 turns it off.
    #[arg(long, value_name = "WORDS", default_value_t = settings::DEFAULT_CROSS_WORDS,
          value_parser = count, allow_negative_numbers = true)]
    pub cross_words: usize,

    /// The share of the shorter lead's distinct words that the other lead must hold for two
    /// texts with matching heads to be duplicates.
    #[arg(long, value_name = "C", default_value_t = Cross::default().containment,
          allow_negative_numbers = true)]
    pub cross_containment: f64,

    /// Opening words of a long text whose shingles count --lead-weight times; 0 turns lead
    /// weighting off.
    #[arg(long, value_name = "WORDS", default_value_t = Lead::default().words,
          value_parser = count, allow_negative_numbers = true)]
    pub lead_words: usize,

    /// Leave out of every signature the lines that occur in N or more documents of the input
    /// (boilerplate: footers, "read also" lists, tag lines). Off by default: the lead weighting
    /// handles templates without looking at the rest of the corpus.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = count,
          allow_negative_numbers = true)]
    pub boilerplate_df: usize,

    /// How many times each shingle of the lead counts.
    #[arg(long, value_name = "W", default_value_t = Lead::default().weight,
          value_parser = count, allow_negative_numbers = true)]
    pub lead_weight: usize,

    /// Signature length (MinHash permutations, 1 to 4096): more is more accurate and slower.
    #[arg(long, value_name = "K", default_value_t = MinHashConfig::default().num_perm,
          value_parser = count, allow_negative_numbers = true)]
    pub num_perm: usize,

    /// Slots of the sketch of its words (each word's hash picks a slot, which keeps the
    /// smallest value) that ends every long text's signature, for the word check of reworded
    /// copies (--word-low, --word-threshold); 0 turns the check off.
    #[arg(long, value_name = "K", default_value_t = Reword::default().sketch,
          value_parser = count, allow_negative_numbers = true)]
    pub word_sketch: usize,

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
    /// Between --word-low and T, two long documents whose word sets reach --word-threshold
    /// are duplicates too.
    #[arg(short, long, value_name = "T", default_value_t = DEFAULT_THRESHOLD,
          allow_negative_numbers = true)]
    pub threshold: f64,

    /// The similarity from which two long documents below --threshold are compared by their
    /// word sets (reworded copies: a synonym breaks three word 3-grams but one word).
    #[arg(long, value_name = "L", default_value_t = Reword::default().low,
          allow_negative_numbers = true)]
    pub word_low: f64,

    /// The Jaccard similarity of their word sets (estimated from --word-sketch) at which two
    /// long documents between --word-low and --threshold are duplicates.
    #[arg(long, value_name = "W", default_value_t = Reword::default().threshold,
          allow_negative_numbers = true)]
    pub word_threshold: f64,

    /// How bands × rows are chosen from the threshold: `area` balances missed and spurious
    /// candidates; `recall` keeps P(candidate | similarity = threshold) ≥ 0.99.
    #[arg(long, value_name = "OBJECTIVE", default_value = "area")]
    pub lsh_objective: Objective,

    /// Number of LSH bands (overrides the objective; with --rows or alone).
    #[arg(long, value_name = "B", value_parser = count, allow_negative_numbers = true)]
    pub bands: Option<usize>,

    /// Rows per LSH band (overrides the objective; with --bands or alone).
    #[arg(long, value_name = "R", value_parser = count, allow_negative_numbers = true)]
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
        cross_words: sig.cross_words,
        cross_containment: sig.cross_containment,
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
        word_sketch: sig.word_sketch,
        word_low: lsh.word_low,
        word_threshold: lsh.word_threshold,
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
    /// The report format to use: --format, else the --output extension (an extension that is
    /// not a report format's is an error: `-o out.xlsx` must not quietly write CSV), else text
    /// on a terminal and CSV elsewhere.
    pub fn format(&self) -> anyhow::Result<report::Format> {
        if let Some(f) = self.format {
            return f.supported().map_err(anyhow::Error::msg);
        }
        if let Some(path) = &self.output {
            if let Some(ext) = path.extension() {
                let format =
                    report::Format::from_extension(&path.to_string_lossy()).ok_or_else(|| {
                        unknown_extension(
                            path,
                            ext,
                            ".txt, .json, .jsonl, .ndjson, .csv, .html, .htm, .parquet",
                        )
                    })?;
                return format.supported().map_err(anyhow::Error::msg);
            }
        }
        if self.output.is_none() && super::output::stdout_is_terminal() {
            Ok(report::Format::Text)
        } else {
            Ok(report::Format::Csv)
        }
    }
}

/// The error of an --output whose extension says no format.
pub fn unknown_extension(
    path: &std::path::Path,
    ext: &std::ffi::OsStr,
    known: &str,
) -> anyhow::Error {
    anyhow::anyhow!(
        "-o {}: `.{}` is not the extension of an output format (known: {known}); give \
         --format to choose one",
        path.display(),
        ext.to_string_lossy()
    )
}

/// Parses a count of at least 1 for clap (a window, a batch size).
pub fn at_least_one(s: &str) -> Result<u64, String> {
    match count(s)? {
        0 => Err("0 is out of range: give 1 or more".into()),
        n => Ok(n as u64),
    }
}

/// Parses a count (a whole number, 0 or more) for clap, so that a negative number gets a
/// message that says what is wrong with it rather than "invalid digit".
pub fn count(s: &str) -> Result<usize, String> {
    s.parse::<usize>().map_err(|_| match s.parse::<i128>() {
        Ok(n) if n < 0 => format!("{s} is negative: give a whole number, 0 or more"),
        Ok(_) => format!("{s} is too large"),
        Err(_) => format!("`{s}` is not a whole number"),
    })
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
