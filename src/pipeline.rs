//! The one place where the stages meet: read → normalize → shingle → sign → band → verify →
//! cluster.
//!
//! Reading runs on its own thread and hands batches of documents to the rayon pool, which
//! normalizes, shingles and signs them in parallel while the next batch is read. Everything
//! after signing works on a flat array of signatures. The result depends only on the input
//! and the [`Settings`], never on the number of threads.

use std::collections::HashMap;
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cluster::{self, Group, Measure, Representative, Verify};
use crate::document::Document;
use crate::error::{Error, Location, RecordError, Result};
use crate::lsh::{self, LshParams, Objective};
use crate::minhash::{self, MinHashConfig, MinHasher};
use crate::normalize::{Normalizer, Profile};
use crate::progress::{Progress, Stage};
use crate::shingle::{ShingleConfig, ShingleKind, Shingler};

/// Every setting that shapes a run's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Normalization profile.
    #[serde(with = "profile_name")]
    pub profile: Profile,
    /// Shingle kind, size and seed.
    pub shingle: ShingleConfig,
    /// Signature length and seed.
    pub minhash: MinHashConfig,
    /// Similarity a pair must reach to be kept.
    pub threshold: f64,
    /// How bands × rows were chosen (informational when `lsh` was given explicitly).
    pub objective: Objective,
    /// Bands × rows.
    pub lsh: LshParams,
    /// What similarity the threshold applies to.
    pub measure: Measure,
    /// How candidate pairs are verified.
    pub verify: Verify,
    /// How each cluster's representative is chosen.
    pub representative: Representative,
}

/// (De)serializes a [`Profile`] by its name.
mod profile_name {
    use super::Profile;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &Profile, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(p.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Profile, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// The default similarity threshold.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

impl Default for Settings {
    fn default() -> Settings {
        let minhash = MinHashConfig::default();
        Settings {
            profile: Profile::Default,
            shingle: ShingleConfig::default(),
            minhash,
            threshold: DEFAULT_THRESHOLD,
            objective: Objective::Area,
            lsh: LshParams::choose(DEFAULT_THRESHOLD, minhash.num_perm, Objective::Area),
            measure: Measure::Jaccard,
            verify: Verify::Estimate,
            representative: Representative::First,
        }
    }
}

impl Settings {
    /// Settings for `threshold` and `num_perm` with bands × rows chosen by `objective`; the
    /// rest at defaults.
    pub fn with_threshold(threshold: f64, num_perm: usize, objective: Objective) -> Settings {
        Settings {
            minhash: MinHashConfig {
                num_perm,
                ..MinHashConfig::default()
            },
            threshold,
            objective,
            lsh: LshParams::choose(threshold, num_perm, objective),
            ..Settings::default()
        }
    }

    /// Checks every setting; the message names the flag to change.
    pub fn validate(&self) -> Result<()> {
        let check = |r: std::result::Result<(), String>| r.map_err(Error::Config);
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(Error::Config(format!(
                "--threshold {} is out of range (greater than 0, at most 1)",
                self.threshold
            )));
        }
        check(self.shingle.validate())?;
        check(self.minhash.validate())?;
        check(self.lsh.validate(self.minhash.num_perm))?;
        Ok(())
    }
}

/// Per-document work shared by every command: normalize, shingle, sign.
#[derive(Debug, Clone)]
pub struct Signer {
    normalizer: Normalizer,
    shingler: Shingler,
    minhasher: MinHasher,
}

/// Reusable buffers for [`Signer::sign_into`], one per thread.
#[derive(Debug, Default)]
pub struct Scratch {
    /// The normalized text of the last document signed.
    pub normalized: String,
    /// The shingle hashes of the last document signed.
    pub shingles: Vec<u64>,
}

impl Signer {
    /// A signer for `settings` (which must be valid).
    pub fn new(settings: &Settings) -> Signer {
        Signer {
            normalizer: Normalizer::new(settings.profile),
            shingler: Shingler::new(settings.shingle),
            minhasher: MinHasher::new(settings.minhash),
        }
    }

    /// The signature length.
    pub fn num_perm(&self) -> usize {
        self.minhasher.num_perm()
    }

    /// Normalizes, shingles and signs `text` into `sig`, and returns the number of distinct
    /// shingles: 0 when the text is empty after normalization (then `sig` is all
    /// [`minhash::EMPTY`]). The normalized text and the sorted, deduplicated shingle set stay
    /// in `scratch`.
    pub fn sign_into(&self, text: &str, scratch: &mut Scratch, sig: &mut [u32]) -> u32 {
        self.normalizer
            .normalize_into(text, &mut scratch.normalized);
        scratch.shingles.clear();
        self.shingler
            .shingles(&scratch.normalized, &mut scratch.shingles);
        scratch.shingles.sort_unstable();
        scratch.shingles.dedup();
        self.minhasher.sign_into(&scratch.shingles, sig);
        scratch.shingles.len() as u32
    }
}

/// What is kept of each document for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct DocInfo {
    /// The document's id.
    pub id: String,
    /// Where it came from (`source:line`).
    pub origin: Location,
    /// Length of the original text in characters.
    pub chars: usize,
    /// The first words of the original text.
    pub preview: String,
    /// The whole original text, when [`RunOptions::keep_text`] is set.
    pub text: Option<String>,
    /// True when nothing was left after normalization.
    pub empty: bool,
    /// The number of distinct shingles (0 when empty).
    pub shingles: u32,
    /// The fields the reader was asked to keep ([`crate::input::InputConfig::keep_fields`]).
    pub fields: Vec<(String, serde_json::Value)>,
}

/// Counts and timings of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Documents read and signed.
    pub documents: usize,
    /// Records skipped as invalid (only with `skip_invalid`).
    pub skipped: usize,
    /// Documents empty after normalization (never clustered).
    pub empty: usize,
    /// Candidate buckets (two or more documents sharing a band key).
    pub buckets: usize,
    /// Clusters of two or more documents.
    pub clusters: usize,
    /// Documents in clusters of two or more.
    pub clustered: usize,
    /// Documents that repeat an earlier one: `clustered − clusters`.
    pub duplicates: usize,
    /// Seconds spent per stage, in pipeline order.
    pub seconds: Vec<(String, f64)>,
}

/// Options of one run that do not change the clusters.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Skip invalid records (counted, and passed to [`Progress::warn`]) instead of failing.
    pub skip_invalid: bool,
    /// Keep each document's whole original text in [`DocInfo::text`].
    pub keep_text: bool,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The settings used.
    pub settings: Settings,
    /// Every document read, in input order (its index is its position).
    pub docs: Vec<DocInfo>,
    /// Clusters of two or more documents, ordered by their first member.
    pub groups: Vec<Group>,
    /// Counts and timings.
    pub stats: Stats,
}

const BATCH: usize = 512;
const PREVIEW_WORDS: usize = 12;

fn preview(text: &str) -> String {
    let mut out = String::new();
    for (i, w) in text.split_whitespace().enumerate() {
        if i == PREVIEW_WORDS {
            out.push_str(" …");
            break;
        }
        if i > 0 {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// One named source of documents.
pub struct Input {
    /// The name used in messages (the path as given, `-` for standard input).
    pub name: String,
    /// The documents.
    pub docs: Box<dyn Iterator<Item = Result<Document>> + Send>,
}

impl Input {
    /// A named source.
    pub fn new(
        name: impl Into<String>,
        docs: impl Iterator<Item = Result<Document>> + Send + 'static,
    ) -> Input {
        Input {
            name: name.into(),
            docs: Box::new(docs),
        }
    }
}

/// Reads every document of `inputs`, in order, then clusters them.
///
/// Record errors stop the run unless `options.skip_invalid` is set; a repeated id is a record
/// error too. Must be called inside the rayon pool that should do the work.
pub fn run(
    inputs: Vec<Input>,
    settings: &Settings,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<Outcome> {
    settings.validate()?;
    let signer = Signer::new(settings);
    let k = signer.num_perm();
    let exact = settings.verify == Verify::Exact;
    let mut stats = Stats::default();

    // ── read + sign ────────────────────────────────────────────────────────────────────
    let started = Instant::now();
    progress.start(Stage::Sign, None);
    let mut docs: Vec<DocInfo> = Vec::new();
    let mut signatures: Vec<u32> = Vec::new();
    let mut sets: Vec<Vec<u64>> = Vec::new();
    let mut skipped = 0usize;
    let names: Vec<String> = inputs.iter().map(|i| i.name.clone()).collect();
    let names = &names;
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = sync_channel::<Result<Vec<(Document, usize)>>>(4);
        let reader = scope.spawn(move || {
            let mut seen: HashMap<String, Location> = HashMap::new();
            let mut batch = Vec::with_capacity(BATCH);
            let mut skipped = 0usize;
            let all = inputs
                .into_iter()
                .enumerate()
                .flat_map(|(n, input)| input.docs.map(move |d| d.map(|d| (d, n))));
            for item in all {
                let checked = item.and_then(|(doc, n)| {
                    let here = Location::line(names[n].as_str(), doc.line);
                    match seen.get(&doc.id) {
                        Some(first) => Err(Error::Record {
                            location: here,
                            kind: RecordError::DuplicateId {
                                id: doc.id.clone(),
                                first: first.to_string(),
                            },
                        }),
                        None => {
                            seen.insert(doc.id.clone(), here);
                            Ok((doc, n))
                        }
                    }
                });
                match checked {
                    Ok(doc) => {
                        batch.push(doc);
                        if batch.len() == BATCH {
                            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                            if tx.send(Ok(full)).is_err() {
                                return skipped;
                            }
                        }
                    }
                    Err(e) if e.is_record_error() && options.skip_invalid => {
                        skipped += 1;
                        progress.warn(&e);
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return skipped;
                    }
                }
            }
            if !batch.is_empty() {
                let _ = tx.send(Ok(batch));
            }
            skipped
        });
        for batch in rx {
            let batch = batch?;
            let base = signatures.len();
            signatures.resize(base + batch.len() * k, minhash::EMPTY);
            let results: Vec<(DocInfo, Option<Vec<u64>>)> = batch
                .into_par_iter()
                .zip(signatures[base..].par_chunks_mut(k))
                .map_init(Scratch::default, |scratch, ((doc, n), sig)| {
                    let shingles = signer.sign_into(&doc.text, scratch, sig);
                    let set = exact.then(|| scratch.shingles.clone());
                    let info = DocInfo {
                        origin: Location::line(names[n].as_str(), doc.line),
                        chars: doc.text.chars().count(),
                        preview: preview(&doc.text),
                        text: options.keep_text.then_some(doc.text),
                        id: doc.id,
                        empty: shingles == 0,
                        shingles,
                        fields: doc.fields,
                    };
                    (info, set)
                })
                .collect();
            progress.advance(results.len() as u64);
            for (info, set) in results {
                docs.push(info);
                if let Some(set) = set {
                    sets.push(set);
                }
            }
        }
        skipped = reader.join().expect("reader thread panicked");
        Ok(())
    })?;
    progress.finish(Stage::Sign);
    stats.documents = docs.len();
    stats.skipped = skipped;
    stats.empty = docs.iter().filter(|d| d.empty).count();
    stats
        .seconds
        .push((Stage::Sign.name().into(), started.elapsed().as_secs_f64()));

    // ── band ───────────────────────────────────────────────────────────────────────────
    let started = Instant::now();
    progress.start(Stage::Band, Some(settings.lsh.bands as u64));
    let sig = |i: usize| &signatures[i * k..(i + 1) * k];
    let buckets = lsh::buckets(settings.lsh, docs.len(), &|i| !docs[i].empty, &sig);
    stats.buckets = buckets.len();
    progress.finish(Stage::Band);
    stats
        .seconds
        .push((Stage::Band.name().into(), started.elapsed().as_secs_f64()));

    // ── verify + cluster ───────────────────────────────────────────────────────────────
    let started = Instant::now();
    progress.start(Stage::Cluster, None);
    let measure = settings.measure;
    let similarity = |a: u32, b: u32| -> f64 {
        let (a, b) = (a as usize, b as usize);
        if exact {
            measure.exact(&sets[a], &sets[b])
        } else {
            measure.estimate(sig(a), docs[a].shingles, sig(b), docs[b].shingles)
        }
    };
    let mut uf = cluster::link(docs.len(), &buckets, settings.threshold, &similarity);
    drop(buckets);
    let groups = cluster::groups(
        &mut uf,
        settings.representative,
        &|i| docs[i as usize].chars,
        &similarity,
    );
    stats.clusters = groups.len();
    stats.clustered = groups.iter().map(|g| g.members.len()).sum();
    stats.duplicates = stats.clustered - stats.clusters;
    progress.finish(Stage::Cluster);
    stats.seconds.push((
        Stage::Cluster.name().into(),
        started.elapsed().as_secs_f64(),
    ));

    Ok(Outcome {
        settings: settings.clone(),
        docs,
        groups,
        stats,
    })
}

/// Convenience for library users: clusters in-memory texts with `settings`.
///
/// ```
/// use mukarrar::pipeline::{cluster_texts, Settings};
/// let texts = [
///     "مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة",
///     "مجلس الامن يصوت اليوم على قرار لوقف دائم لاطلاق النار بغزة",
///     "ترامب يصف مكالمته مع بوتين بالجيدة",
/// ];
/// let outcome = cluster_texts(&texts, &Settings::default()).unwrap();
/// assert_eq!(outcome.groups.len(), 1);
/// assert_eq!(outcome.groups[0].members, vec![0, 1]);
/// ```
pub fn cluster_texts(texts: &[&str], settings: &Settings) -> Result<Outcome> {
    let docs = texts.iter().enumerate().map(|(i, t)| {
        let mut d = Document::new((i + 1).to_string(), *t);
        d.line = i as u64 + 1;
        Ok(d)
    });
    run(
        vec![Input::new("<memory>", docs.collect::<Vec<_>>().into_iter())],
        settings,
        &RunOptions::default(),
        &crate::progress::NoProgress,
    )
}

impl ShingleKind {
    /// The default size for this kind.
    pub fn default_n(self) -> usize {
        match self {
            ShingleKind::Word => 3,
            ShingleKind::Char => 5,
        }
    }
}
