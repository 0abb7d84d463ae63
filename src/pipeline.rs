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

use crate::cluster::{self, Group, Verify};
use crate::document::Document;
use crate::error::{Error, Location, RecordError, Result};
use crate::minhash;
use crate::progress::{Progress, Stage};
use crate::settings::{Linkage, Signed, Traits};

pub use crate::settings::{Settings, DEFAULT_THRESHOLD};
pub use crate::signature::{Scratch, Signer};

/// What is kept of each document for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct DocInfo {
    /// The document's id.
    pub id: String,
    /// Which input it came from (an index into [`Outcome::inputs`]).
    pub input: u32,
    /// Its line (or record) number in that input.
    pub line: u64,
    /// Length of the original text in characters.
    pub chars: usize,
    /// The first words of the original text.
    pub preview: String,
    /// The whole original text, when [`RunOptions::keep_text`] is set.
    pub text: Option<String>,
    /// What verification needs besides the signature.
    pub traits: Traits,
    /// The hashes of the words of a short text, in order (empty for long texts).
    pub words: Box<[u64]>,
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
    /// Candidate buckets (two or more documents sharing a band key), over all bands.
    pub buckets: usize,
    /// Documents set aside as exact copies of an earlier document (same signature and
    /// verification inputs): they join its cluster without being banded or verified.
    #[serde(default)]
    pub copies: usize,
    /// Distinct candidate pairs verified (each at most once, copies never).
    pub verified: usize,
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
    /// Keep the signatures (and, with `--verify exact`, the shingle sets) in the outcome, so
    /// that [`Outcome::similarity`] can compare any two documents afterwards.
    pub keep_signatures: bool,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The settings used.
    pub settings: Settings,
    /// The inputs' names, in the order read.
    pub inputs: Vec<String>,
    /// Every document read, in input order (its index is its position).
    pub docs: Vec<DocInfo>,
    /// Clusters of two or more documents, ordered by their first member.
    pub groups: Vec<Group>,
    /// Counts and timings.
    pub stats: Stats,
    /// Signatures, `num_perm` values per document (empty unless
    /// [`RunOptions::keep_signatures`]).
    pub signatures: Vec<u32>,
    /// Shingle sets with `--verify exact` (empty unless [`RunOptions::keep_signatures`]).
    pub sets: Vec<Vec<u64>>,
}

impl Outcome {
    /// Where document `i` came from.
    pub fn origin(&self, i: usize) -> Location {
        let doc = &self.docs[i];
        Location::line(self.inputs[doc.input as usize].as_str(), doc.line)
    }

    /// The similarity of documents `a` and `b` as the run measured it, when the signatures
    /// were kept ([`RunOptions::keep_signatures`]).
    pub fn similarity(&self, a: usize, b: usize) -> Option<f64> {
        let k = self.settings.minhash.num_perm;
        let signed = |i: usize| -> Option<Signed<'_>> {
            Some(Signed {
                sig: self.signatures.get(i * k..(i + 1) * k)?,
                traits: self.docs[i].traits,
                words: &self.docs[i].words,
                set: self.sets.get(i).map(Vec::as_slice),
            })
        };
        Some(self.settings.similarity(&signed(a)?, &signed(b)?))
    }
}

const BATCH: usize = 512;
const PREVIEW_WORDS: usize = 12;

/// The first words of a text, as reports show them.
pub fn preview(text: &str) -> String {
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

/// The names of `inputs` (for messages) and all their documents in order, each with the
/// position of its input in `inputs` (an index into the names).
pub(crate) fn numbered(
    inputs: Vec<Input>,
) -> (
    Vec<String>,
    impl Iterator<Item = (usize, Result<Document>)> + Send,
) {
    let names = inputs.iter().map(|i| i.name.clone()).collect();
    let docs = inputs
        .into_iter()
        .enumerate()
        .flat_map(|(n, input)| input.docs.map(move |d| (n, d)));
    (names, docs)
}

/// Reads every document of `inputs`, in order, then clusters them.
///
/// Record errors stop the run unless `options.skip_invalid` is set; a repeated id is a record
/// error too. The run stops with [`Error::Interrupted`] when [`Progress::interrupted`] says so
/// (asked after every batch of documents and between stages). Must be called inside the rayon
/// pool that should do the work.
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
    let boilerplate = settings.boilerplate_df > 0;
    let mut pending: Vec<Vec<String>> = Vec::new();
    let (names, all) = numbered(inputs);
    let names = &names;
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = sync_channel::<Result<Vec<(Document, usize)>>>(4);
        let reader = std::thread::Builder::new()
            .name("mukarrar-read".into())
            .spawn_scoped(scope, move || {
                let mut seen: HashMap<String, Location> = HashMap::new();
                let mut batch = Vec::with_capacity(BATCH);
                let mut skipped = 0usize;
                for (n, item) in all {
                    let checked = item.and_then(|doc| {
                        let here = doc.location(&names[n]);
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
            })
            .map_err(|e| Error::io("<reader thread>", e))?;
        for batch in rx {
            let batch = batch?;
            let base = signatures.len();
            signatures.resize(base + batch.len() * k, minhash::EMPTY);
            type BatchItem = (DocInfo, Option<Vec<u64>>, Vec<String>);
            let results: Vec<BatchItem> = batch
                .into_par_iter()
                .zip(signatures[base..].par_chunks_mut(k))
                .map_init(Scratch::default, |scratch, ((doc, n), sig)| {
                    let mut lines = Vec::new();
                    let traits = if boilerplate {
                        // Signed once the document frequency of every line is known.
                        lines = signer.normalized_lines(&doc.text);
                        Traits::default()
                    } else {
                        signer.sign_into(&doc.text, scratch, sig)
                    };
                    let set = exact.then(|| scratch.shingles.clone());
                    let info = DocInfo {
                        input: n as u32,
                        line: doc.line,
                        chars: doc.text.chars().count(),
                        preview: preview(&doc.text),
                        text: options.keep_text.then_some(doc.text),
                        id: doc.id,
                        traits,
                        words: scratch.words.as_slice().into(),
                        fields: doc.fields,
                    };
                    (info, set, lines)
                })
                .collect();
            progress.advance(results.len() as u64);
            if progress.interrupted() {
                return Err(Error::Interrupted);
            }
            for (info, set, lines) in results {
                docs.push(info);
                if let Some(set) = set {
                    sets.push(set);
                }
                if boilerplate {
                    pending.push(lines);
                }
            }
        }
        skipped = reader.join().expect("reader thread panicked");
        Ok(())
    })?;
    if boilerplate {
        sign_without_boilerplate(
            &signer,
            settings.boilerplate_df,
            pending,
            &mut docs,
            &mut signatures,
            &mut sets,
            exact,
        );
    }
    progress.finish(Stage::Sign);
    stats.documents = docs.len();
    stats.skipped = skipped;
    stats.empty = docs.iter().filter(|d| d.traits.is_empty()).count();
    stats
        .seconds
        .push((Stage::Sign.name().into(), started.elapsed().as_secs_f64()));

    // ── band + verify ──────────────────────────────────────────────────────────────────
    if progress.interrupted() {
        return Err(Error::Interrupted);
    }
    let started = Instant::now();
    progress.start(Stage::Band, Some(settings.lsh.bands as u64));
    let sig = |i: usize| &signatures[i * k..(i + 1) * k];
    let signed = |i: u32| Signed {
        sig: sig(i as usize),
        traits: docs[i as usize].traits,
        words: &docs[i as usize].words,
        set: exact.then(|| sets[i as usize].as_slice()),
    };
    let similarity = |a: u32, b: u32| settings.similarity(&signed(a), &signed(b));
    let linked = |a: u32, b: u32| settings.linked(&signed(a), &signed(b));
    let active = |i: usize| !docs[i].traits.is_empty();
    // Exact copies are set aside before banding and joined to their first copy afterwards:
    // see `cluster::exact_copies` for why the clusters stay the same. Without this, n copies
    // of one text form a bucket of n in every band. Measured on 200k copies of one headline
    // (BENCHMARKS.md, "Degenerate input"), the sort of identity hashes costs about what
    // signing costs, while walking the buckets cost minutes.
    let copies = cluster::exact_copies(
        docs.len(),
        &active,
        &|i| cluster::identity(&signed(i as u32)),
        &|a, b| cluster::same(&signed(a), &signed(b)),
    );
    stats.copies = copies
        .iter()
        .enumerate()
        .filter(|&(i, &c)| c as usize != i)
        .count();
    let first_copy = |i: usize| active(i) && copies[i] as usize == i;
    // Cross-length candidates: the first copies' heads, banded apart (`crate::cross`).
    let heads = crate::cross::Heads::new(settings);
    let head = |i: usize| -> &[u64] {
        if settings.cross.on() && first_copy(i) {
            crate::settings::head_words(&docs[i].words, &docs[i].traits)
        } else {
            &[]
        }
    };
    let (mut uf, link) = match settings.linkage {
        Linkage::Single => {
            let (mut uf, mut link) =
                cluster::link_bands(settings.lsh, docs.len(), &first_copy, &sig, &linked);
            if settings.cross.on() {
                let more = crate::cross::link_heads(&heads, docs.len(), &head, &mut uf, &linked);
                link.buckets += more.buckets;
                link.verified += more.verified;
            }
            (uf, link)
        }
        Linkage::Representative => {
            // The copies of a text form one cluster before any other pair is looked at (they
            // are linked with similarity 1, the highest); the first copies are then grouped by
            // representative linkage, and each takes its copies along.
            let (clusters, link) = cluster::link_representative(
                settings.lsh,
                docs.len(),
                &first_copy,
                &sig,
                &similarity,
                &linked,
                if settings.cross.on() {
                    crate::cross::head_pairs(&heads, docs.len(), &head)
                } else {
                    Vec::new()
                },
            );
            let mut uf = cluster::UnionFind::new(docs.len());
            for c in &clusters {
                for &m in &c[1..] {
                    uf.union(c[0], m);
                }
            }
            (uf, link)
        }
    };
    for (i, &c) in copies.iter().enumerate() {
        if c as usize != i {
            uf.union(c, i as u32);
        }
    }
    stats.buckets = link.buckets;
    stats.verified = link.verified;
    let clusters = uf.groups();
    progress.finish(Stage::Band);
    stats
        .seconds
        .push((Stage::Band.name().into(), started.elapsed().as_secs_f64()));

    // ── cluster ────────────────────────────────────────────────────────────────────────
    if progress.interrupted() {
        return Err(Error::Interrupted);
    }
    let started = Instant::now();
    progress.start(Stage::Cluster, None);
    let groups = cluster::groups(
        clusters,
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

    let (signatures, sets) = if options.keep_signatures {
        (signatures, sets)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Outcome {
        settings: settings.clone(),
        inputs: names.clone(),
        docs,
        groups,
        stats,
        signatures,
        sets,
    })
}

/// The boilerplate-suppression pass: counts in how many documents each normalized line
/// occurs, then signs every document without the lines that occur in `cutoff` or more.
fn sign_without_boilerplate(
    signer: &Signer,
    cutoff: usize,
    lines: Vec<Vec<String>>,
    docs: &mut [DocInfo],
    signatures: &mut [u32],
    sets: &mut Vec<Vec<u64>>,
    exact: bool,
) {
    let hash = |l: &str| xxhash_rust::xxh3::xxh3_64(l.as_bytes());
    let mut df: HashMap<u64, usize> = HashMap::new();
    for doc in &lines {
        let mut seen: Vec<u64> = doc.iter().map(|l| hash(l)).collect();
        seen.sort_unstable();
        seen.dedup();
        for h in seen {
            *df.entry(h).or_default() += 1;
        }
    }
    let k = signer.num_perm();
    type Resigned = (Traits, Box<[u64]>, Option<Vec<u64>>);
    let signed: Vec<Resigned> = lines
        .into_par_iter()
        .zip(signatures.par_chunks_mut(k))
        .map_init(Scratch::default, |scratch, (doc, sig)| {
            scratch.normalized.clear();
            scratch.first_line_words = usize::MAX;
            for l in doc.iter().filter(|l| df[&hash(l)] < cutoff) {
                if !scratch.normalized.is_empty() {
                    if scratch.first_line_words == usize::MAX {
                        scratch.first_line_words = scratch.normalized.split(' ').count();
                    }
                    scratch.normalized.push(' ');
                }
                scratch.normalized.push_str(l);
            }
            let traits = signer.sign_normalized(scratch, sig);
            let set = exact.then(|| scratch.shingles.clone());
            (traits, scratch.words.as_slice().into(), set)
        })
        .collect();
    sets.clear();
    for (doc, (traits, words, set)) in docs.iter_mut().zip(signed) {
        doc.traits = traits;
        doc.words = words;
        if let Some(set) = set {
            sets.push(set);
        }
    }
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

#[cfg(test)]
mod interrupt_tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// Asks the run to stop once `after` documents are signed.
    struct StopAfter {
        after: u64,
        done: AtomicU64,
    }

    impl Progress for StopAfter {
        fn advance(&self, n: u64) {
            self.done.fetch_add(n, Ordering::Relaxed);
        }
        fn interrupted(&self) -> bool {
            self.done.load(Ordering::Relaxed) >= self.after
        }
    }

    fn inputs(n: usize) -> Vec<Input> {
        let docs = (0..n).map(|i| Ok(Document::new(i.to_string(), format!("a{i} b{i} c{i}"))));
        vec![Input::new("<memory>", docs.collect::<Vec<_>>().into_iter())]
    }

    #[test]
    fn a_run_stops_when_asked_and_not_otherwise() {
        let settings = Settings::default();
        let run_with = |after: u64| {
            let progress = StopAfter {
                after,
                done: AtomicU64::new(0),
            };
            let outcome = run(inputs(1500), &settings, &RunOptions::default(), &progress);
            (outcome, progress.done.load(Ordering::Relaxed))
        };
        let (stopped, signed) = run_with(1);
        assert!(matches!(stopped, Err(Error::Interrupted)));
        assert!(
            signed < 1500,
            "stopped after the first batch, not at the end"
        );
        let (finished, signed) = run_with(u64::MAX);
        assert_eq!(finished.unwrap().stats.documents, 1500);
        assert_eq!(signed, 1500);
    }
}
