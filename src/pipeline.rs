//! The one place where the stages meet: read → normalize → shingle → sign → band → verify →
//! cluster.
//!
//! Reading runs on its own thread and hands batches of documents to the rayon pool, which
//! normalizes, shingles and signs them in parallel while the next batch is read. Everything
//! after signing works on a flat array of signatures. The result depends only on the input
//! and the [`Settings`], never on the number of threads.

use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::{Scope, ScopedJoinHandle};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cluster::{self, Group, Verify};
use crate::document::Document;
use crate::error::{Error, Location, RecordError, Result};
use crate::minhash;
use crate::progress::{Progress, Stage};
use crate::settings::{Linkage, Signed, Traits};
use crate::spill::{BandFiles, Records};

pub use crate::spill::Budget;

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
    /// The hashes of the words verification keeps ([`Signed::words`]), in order; empty in
    /// the outcome of a run that went to disk, whose verification is over.
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
    /// Bytes written to temporary files when the run went beyond its memory budget (0 when it
    /// stayed in memory).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub spilled: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The documents of an [`Outcome`], by position in input order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Docs {
    infos: Vec<DocInfo>,
    /// The positions of `infos`, ascending, when only some documents are kept.
    kept: Option<Vec<u32>>,
    len: usize,
}

impl Docs {
    /// Every document, in order.
    pub fn every(infos: Vec<DocInfo>) -> Docs {
        Docs {
            len: infos.len(),
            infos,
            kept: None,
        }
    }

    /// Number of documents read (kept or not).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no document was read.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when every document is kept.
    pub fn is_complete(&self) -> bool {
        self.kept.is_none()
    }

    /// Document `i`, when kept.
    pub fn get(&self, i: usize) -> Option<&DocInfo> {
        match &self.kept {
            None => self.infos.get(i),
            Some(kept) => kept.binary_search(&(i as u32)).ok().map(|k| &self.infos[k]),
        }
    }

    /// The kept documents with their positions, in order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &DocInfo)> {
        self.infos
            .iter()
            .enumerate()
            .map(|(k, d)| match &self.kept {
                None => (k, d),
                Some(kept) => (kept[k] as usize, d),
            })
    }
}

impl std::ops::Index<usize> for Docs {
    type Output = DocInfo;
    fn index(&self, i: usize) -> &DocInfo {
        self.get(i).unwrap_or_else(|| {
            panic!("document {i} was not kept by a run that spilled (RunOptions::every_doc)")
        })
    }
}

/// Options of one run that do not change the clusters.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Skip invalid records (counted, and passed to [`Progress::warn`]) instead of failing.
    pub skip_invalid: bool,
    /// Keep each document's whole original text in [`DocInfo::text`].
    pub keep_text: bool,
    /// Keep the signatures (and, with `--verify exact`, the shingle sets) in the outcome, so
    /// that [`Outcome::similarity`] can compare any two documents afterwards. Such a run never
    /// spills.
    pub keep_signatures: bool,
    /// Memory budget and temporary folder: beyond the budget, signatures, documents and band
    /// keys go to temporary files and bands are sorted on disk (see [`crate::spill`]). `None`
    /// keeps everything in memory. The clusters are the same either way.
    pub budget: Option<Budget>,
    /// Keep every document in [`Outcome::docs`], not only the members of clusters, when the
    /// run spills (an in-memory run always keeps every document).
    pub every_doc: bool,
    /// Leave [`DocInfo::preview`] empty in the outcome of a run that spills (a report that
    /// shows ids only needs no previews, and millions of them weigh gigabytes).
    pub skip_previews: bool,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The settings used.
    pub settings: Settings,
    /// The inputs' names, in the order read.
    pub inputs: Vec<String>,
    /// The documents read, by their position in input order: every one, or after a run that
    /// spilled without [`RunOptions::every_doc`], the members of clusters.
    pub docs: Docs,
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
        let k = self.settings.sig_len();
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
    // Signatures, documents and shingle sets held in memory, as counted against the budget.
    let mut held = 0u64;
    let mut spilled: Option<Spilled> = None;
    let budget = options
        .budget
        .as_ref()
        .filter(|_| !boilerplate && !options.keep_signatures);
    let mut pending: Vec<Vec<String>> = Vec::new();
    let (names, all) = numbered(inputs);
    let names = &names;
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = sync_channel::<Result<Vec<(Document, usize)>>>(4);
        let reader = std::thread::Builder::new()
            .name("mukarrar-read".into())
            .spawn_scoped(scope, move || {
                // Ids are remembered by a 128-bit hash and where they were first seen: 32
                // bytes a document whatever the id's length (a collision between two
                // different ids has a probability of about n² / 2¹²⁹).
                let mut seen: HashMap<u128, (u32, u64)> = HashMap::new();
                let mut seen_in_files: HashMap<u128, Location> = HashMap::new();
                let mut batch = Vec::with_capacity(BATCH);
                let mut skipped = 0usize;
                for (n, item) in all {
                    let checked = item.and_then(|doc| {
                        let key = xxhash_rust::xxh3::xxh3_128(doc.id.as_bytes());
                        let first = match seen.get(&key) {
                            Some(&(input, line)) => {
                                Some(Location::line(names[input as usize].as_str(), line))
                            }
                            None => seen_in_files.get(&key).cloned(),
                        };
                        match first {
                            Some(first) => Err(Error::Record {
                                location: doc.location(&names[n]),
                                kind: RecordError::DuplicateId {
                                    id: doc.id.clone(),
                                    first: first.to_string(),
                                },
                            }),
                            None => {
                                if doc.file.is_some() {
                                    seen_in_files.insert(key, doc.location(&names[n]));
                                } else {
                                    seen.insert(key, (n as u32, doc.line));
                                }
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
        // Once the budget is exceeded, documents go to the temporary files through a thread
        // of their own (see `Writer`) while the next batches are signed.
        let mut writer: Option<Writer> = None;
        for batch in rx {
            let batch = batch?;
            // A run that spills leaves out the previews of its report when asked to: the
            // documents signed from then on need none.
            let previews = !(writer.is_some() && options.skip_previews);
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
                        preview: if previews {
                            preview(&doc.text)
                        } else {
                            String::new()
                        },
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
            if let Some(writer) = writer.as_mut() {
                let batch = results.into_iter().map(|(info, set, _)| (info, set));
                writer.push(settings, &signatures, batch)?;
                signatures.clear();
                continue;
            }
            for (info, set, lines) in results {
                held += in_memory_bytes(&info, set.as_deref(), k);
                docs.push(info);
                if let Some(set) = set {
                    sets.push(set);
                }
                if boilerplate {
                    pending.push(lines);
                }
            }
            // Half the budget holds documents; the other half is for what every document
            // costs whether held or not (the ids seen, what verification keeps in memory) and
            // for the reader's batches in flight.
            if let Some(budget) = budget.filter(|b| held > b.bytes / 2) {
                // Beyond the budget: what is held goes to temporary files, and so does every
                // document from here on.
                let spilled = Spilled::new(budget, settings)?;
                let mut spill = Writer::start(scope, spilled, !options.skip_previews)?;
                let mut sets = std::mem::take(&mut sets).into_iter();
                let held_docs = std::mem::take(&mut docs).into_iter().map(|info| {
                    (
                        info,
                        exact.then(|| sets.next().expect("one set a document")),
                    )
                });
                spill.push(settings, &std::mem::take(&mut signatures), held_docs)?;
                writer = Some(spill);
            }
        }
        skipped = reader.join().expect("reader thread panicked");
        if let Some(writer) = writer {
            spilled = Some(writer.finish()?);
        }
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
    stats.skipped = skipped;
    if let Some(spill) = spilled {
        stats
            .seconds
            .push((Stage::Sign.name().into(), started.elapsed().as_secs_f64()));
        return spill.finish(settings, options, names.clone(), stats, progress);
    }
    stats.documents = docs.len();
    stats.empty = docs.iter().filter(|d| d.traits.is_empty()).count();
    stats
        .seconds
        .push((Stage::Sign.name().into(), started.elapsed().as_secs_f64()));

    // ── band + verify + cluster ────────────────────────────────────────────────────────
    let sig = |i: usize| &signatures[i * k..(i + 1) * k];
    let signed = |i: u32| Signed {
        sig: sig(i as usize),
        traits: docs[i as usize].traits,
        words: &docs[i as usize].words,
        set: exact.then(|| sets[i as usize].as_slice()),
    };
    let similarity = |a: u32, b: u32| settings.similarity(&signed(a), &signed(b));
    let linked = |a: u32, b: u32| settings.linked(&signed(a), &signed(b));
    let params = settings.lsh;
    let n = docs.len();
    let heads = crate::cross::Heads::new(settings);
    let groups = band_and_cluster(
        settings,
        &Verification {
            n_docs: n,
            active: &|i| !docs[i].traits.is_empty(),
            identity: &|i| cluster::identity(&signed(i as u32)),
            same: &|a, b| cluster::same(&signed(a), &signed(b)),
            // Signatures in memory: a pair that shares an earlier band is told while the
            // buckets are read.
            earlier: &|a, b, band| {
                cluster::shares_earlier_band(params, sig(a as usize), sig(b as usize), band)
            },
            verify: &|a, b, _| Some(linked(a, b)),
            similarity: &similarity,
            linked: &linked,
            length: &|i| docs[i as usize].chars,
        },
        &mut |round, active, f| {
            let Ok(()) = cluster::in_memory_buckets(params, n, active, &sig)(round, f);
            Ok(())
        },
        &mut |round, active, f| {
            let head = |i: usize| -> &[u64] {
                if active(i) {
                    crate::settings::head_words(&docs[i].words, &docs[i].traits)
                } else {
                    &[]
                }
            };
            let Ok(()) = crate::cross::in_memory_head_buckets(&heads, n, &head)(round, f);
            Ok(())
        },
        &mut stats,
        progress,
    )?;

    let (signatures, sets) = if options.keep_signatures {
        (signatures, sets)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Outcome {
        settings: settings.clone(),
        inputs: names.clone(),
        docs: Docs::every(docs),
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

/// What banding, verification and clustering read of the documents, however they are stored.
struct Verification<'a> {
    n_docs: usize,
    /// Not empty after normalization.
    active: &'a (dyn Fn(usize) -> bool + Sync),
    /// [`cluster::identity`] of a document.
    identity: &'a (dyn Fn(usize) -> u64 + Sync),
    /// [`cluster::same`] of two documents.
    same: &'a (dyn Fn(u32, u32) -> bool + Sync),
    /// See [`cluster::link_buckets`].
    earlier: &'a (dyn Fn(u32, u32, usize) -> bool + Sync),
    /// See [`cluster::link_buckets`].
    verify: &'a (dyn Fn(u32, u32, usize) -> Option<bool> + Sync),
    similarity: &'a (dyn Fn(u32, u32) -> f64 + Sync),
    linked: &'a (dyn Fn(u32, u32) -> bool + Sync),
    /// Length of the original text in characters.
    length: &'a (dyn Fn(u32) -> usize + Sync),
}

/// Calls `f(band, bucket)` for every bucket of the given bands, with only the documents that
/// `active` names.
type Buckets<'a> = dyn FnMut(&[usize], &(dyn Fn(usize) -> bool + Sync), &mut cluster::BucketVisitor<'_>) -> Result<()>
    + 'a;

/// The band, verify and cluster stages, the same for documents in memory and on disk.
fn band_and_cluster(
    settings: &Settings,
    docs: &Verification<'_>,
    buckets: &mut Buckets<'_>,
    head_buckets: &mut Buckets<'_>,
    stats: &mut Stats,
    progress: &dyn Progress,
) -> Result<Vec<Group>> {
    if progress.interrupted() {
        return Err(Error::Interrupted);
    }
    let started = Instant::now();
    progress.start(Stage::Band, Some(settings.lsh.bands as u64));
    let n = docs.n_docs;
    // Exact copies are set aside before banding and joined to their first copy afterwards:
    // see `cluster::exact_copies` for why the clusters stay the same. Without this, n copies
    // of one text form a bucket of n in every band. Measured on 200k copies of one headline
    // (BENCHMARKS.md, "Degenerate input"), the sort of identity hashes costs about what
    // signing costs, while walking the buckets cost minutes.
    let copies = cluster::exact_copies(n, docs.active, docs.identity, docs.same);
    stats.copies = copies
        .iter()
        .enumerate()
        .filter(|&(i, &c)| c as usize != i)
        .count();
    let first_copy = |i: usize| (docs.active)(i) && copies[i] as usize == i;
    let mut buckets =
        |round: &[usize], f: &mut cluster::BucketVisitor<'_>| buckets(round, &first_copy, f);
    // Cross-length candidates: the first copies' heads, banded apart (`crate::cross`).
    let head_bands = if settings.cross.on() {
        crate::cross::Heads::new(settings).bands()
    } else {
        0
    };
    let mut head_buckets =
        |round: &[usize], f: &mut cluster::BucketVisitor<'_>| head_buckets(round, &first_copy, f);
    let (mut uf, link) = match settings.linkage {
        Linkage::Single => {
            let (mut uf, mut link) = cluster::link_buckets(
                n,
                settings.lsh.bands,
                &mut buckets,
                docs.earlier,
                docs.verify,
            )?;
            let more = cluster::link_buckets_into(
                &mut uf,
                head_bands,
                &mut head_buckets,
                &|_, _, _| false,
                &|a, b, _| Some((docs.linked)(a, b)),
            )?;
            link.buckets += more.buckets;
            link.verified += more.verified;
            (uf, link)
        }
        Linkage::Representative => {
            // The copies of a text form one cluster before any other pair is looked at (they
            // are linked with similarity 1, the highest); the first copies are then grouped by
            // representative linkage, and each takes its copies along.
            let (clusters, link) = cluster::link_representative_buckets(
                n,
                settings.lsh.bands,
                &mut buckets,
                (head_bands, &mut head_buckets),
                docs.earlier,
                docs.verify,
                docs.similarity,
                docs.linked,
            )?;
            let mut uf = cluster::UnionFind::new(n);
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

    if progress.interrupted() {
        return Err(Error::Interrupted);
    }
    let started = Instant::now();
    progress.start(Stage::Cluster, None);
    let groups = cluster::groups(
        clusters,
        settings.representative,
        docs.length,
        docs.similarity,
    );
    stats.clusters = groups.len();
    stats.clustered = groups.iter().map(|g| g.members.len()).sum();
    stats.duplicates = stats.clustered - stats.clusters;
    progress.finish(Stage::Cluster);
    stats.seconds.push((
        Stage::Cluster.name().into(),
        started.elapsed().as_secs_f64(),
    ));
    Ok(groups)
}

/// Memory a document held by an in-memory run takes, as counted against the budget.
fn in_memory_bytes(info: &DocInfo, set: Option<&[u64]>, k: usize) -> u64 {
    let fields: usize = info
        .fields
        .iter()
        .map(|(name, value)| name.len() + 32 + json_bytes(value))
        .sum();
    (std::mem::size_of::<DocInfo>()
        + 4 * k
        + info.id.len()
        + info.preview.len()
        + info.text.as_ref().map_or(0, String::len)
        + 8 * info.words.len()
        + set.map_or(0, |s| 24 + 8 * s.len())
        + fields) as u64
}

fn json_bytes(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::String(s) => s.len(),
        serde_json::Value::Array(a) => a.iter().map(json_bytes).sum::<usize>() + 24,
        serde_json::Value::Object(o) => o.iter().map(|(k, v)| k.len() + json_bytes(v) + 48).sum(),
        _ => 8,
    }
}

/// What memory keeps of a spilled document: what banding and clustering read for every
/// document. The rest (signature, words, shingle set, id, preview, fields) is on disk.
#[derive(Debug, Clone, Copy)]
struct Kept {
    traits: Traits,
    chars: u32,
    identity: u64,
}

/// What a document spilled to disk still costs in memory while bands are linked: its
/// [`Kept`], its identity and copy in `cluster::exact_copies`, its union-find entry.
const FIXED_BYTES_PER_DOC: u64 = std::mem::size_of::<Kept>() as u64 + 16 + 4 + 8;

/// A run that went beyond its memory budget: documents on disk, read back by number.
struct Spilled {
    budget: Budget,
    /// Per document: signature, word hashes and shingle set ([`encode_signed`]).
    signed: Records,
    /// Per document: what the report shows ([`encode_info`]).
    infos: Records,
    kept: Vec<Kept>,
    bands: BandFiles,
    /// The heads' band keys ([`crate::cross`]), when cross-length matching is on.
    heads: Option<(crate::cross::Heads, BandFiles)>,
}

/// Numbers the spilled runs of the process, for [`with_pair`]'s cache.
static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Calls `then` on documents `a` and `b` of spilled run `run`, read back by `fetch` (`None`
/// when a read fails). Candidate pairs come sorted by their first document, and a bucket's
/// pairs share it, so each thread keeps the last first document it read: one read a pair
/// instead of two.
fn with_pair<R>(
    run: u64,
    fetch: &dyn Fn(u32) -> Option<Fetched>,
    a: u32,
    b: u32,
    then: impl FnOnce(&Fetched, &Fetched) -> R,
) -> Option<R> {
    thread_local!(static FIRST: std::cell::RefCell<Option<(u64, u32, Fetched)>> = const {
        std::cell::RefCell::new(None)
    });
    FIRST.with_borrow_mut(|first| {
        let fa = match first {
            Some((r, i, fa)) if *r == run && *i == a => fa,
            _ => &first.insert((run, a, fetch(a)?)).2,
        };
        Some(then(fa, &fetch(b)?))
    })
}

/// One spilled document's verification inputs, read back.
struct Fetched {
    sig: Vec<u32>,
    words: Vec<u64>,
    set: Option<Vec<u64>>,
}

fn view<'f>(kept: &[Kept], i: u32, f: &'f Fetched) -> Signed<'f> {
    Signed {
        sig: &f.sig,
        traits: kept[i as usize].traits,
        words: &f.words,
        set: f.set.as_deref(),
    }
}

fn put_u64s(out: &mut Vec<u8>, values: &[u64]) {
    out.extend((values.len() as u64).to_le_bytes());
    out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

/// Reads what `put_*` wrote, in order.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn u64(&mut self) -> u64 {
        let (head, rest) = self.0.split_at(8);
        self.0 = rest;
        u64::from_le_bytes(head.try_into().expect("8 bytes"))
    }
    fn bytes(&mut self) -> &[u8] {
        let n = self.u64() as usize;
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
    fn u64s(&mut self) -> Vec<u64> {
        let n = self.u64() as usize;
        (0..n).map(|_| self.u64()).collect()
    }
    fn string(&mut self) -> String {
        String::from_utf8(self.bytes().to_vec()).expect("written from a String")
    }

    /// Passes over a string, giving an empty one.
    fn skip_string(&mut self) -> String {
        self.bytes();
        String::new()
    }
}

fn encode_signed(sig: &[u32], words: &[u64], set: Option<&[u64]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 * sig.len() + 8 * words.len() + 24);
    out.extend(sig.iter().flat_map(|v| v.to_le_bytes()));
    put_u64s(&mut out, words);
    match set {
        None => out.push(0),
        Some(set) => {
            out.push(1);
            put_u64s(&mut out, set);
        }
    }
    out
}

fn decode_signed(bytes: &[u8], k: usize) -> Fetched {
    let (sig, rest) = bytes.split_at(4 * k);
    let sig = sig
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect();
    let mut c = Cursor(rest);
    let words = c.u64s();
    let set = match c.0.split_first() {
        Some((1, rest)) => Some(Cursor(rest).u64s()),
        _ => None,
    };
    Fetched { sig, words, set }
}

/// Encodes what the report shows of a document; its preview only when `preview` is true (an
/// empty one is written in its place otherwise).
fn encode_info(info: &DocInfo, preview: bool) -> Vec<u8> {
    let preview = if preview { info.preview.as_str() } else { "" };
    let mut out = Vec::with_capacity(info.id.len() + preview.len() + 64);
    put_str(&mut out, &info.id);
    out.extend(u64::from(info.input).to_le_bytes());
    out.extend(info.line.to_le_bytes());
    out.extend((info.chars as u64).to_le_bytes());
    put_str(&mut out, preview);
    match &info.text {
        None => out.push(0),
        Some(text) => {
            out.push(1);
            put_str(&mut out, text);
        }
    }
    let fields = serde_json::to_string(&info.fields).expect("JSON values serialize");
    put_str(&mut out, &fields);
    out
}

fn decode_info(bytes: &[u8], traits: Traits, words: Vec<u64>, preview: bool) -> DocInfo {
    let mut c = Cursor(bytes);
    let id = c.string();
    let input = c.u64() as u32;
    let line = c.u64();
    let chars = c.u64() as usize;
    let preview = if preview { c.string() } else { c.skip_string() };
    let text = match c.0.split_first() {
        Some((1, rest)) => {
            c.0 = rest;
            Some(c.string())
        }
        Some((_, rest)) => {
            c.0 = rest;
            None
        }
        None => None,
    };
    let fields = serde_json::from_str(&c.string()).expect("written by encode_info");
    DocInfo {
        id,
        input,
        line,
        chars,
        preview,
        text,
        traits,
        words: words.into(),
        fields,
    }
}

impl Spilled {
    fn new(budget: &Budget, settings: &Settings) -> Result<Spilled> {
        let io = |e| Error::io(budget.dir.display().to_string(), e);
        Ok(Spilled {
            budget: budget.clone(),
            signed: Records::new(&budget.dir).map_err(io)?,
            infos: Records::new(&budget.dir).map_err(io)?,
            kept: Vec::new(),
            bands: BandFiles::new(settings.lsh.bands, &budget.dir).map_err(io)?,
            heads: if settings.cross.on() {
                let heads = crate::cross::Heads::new(settings);
                let files = BandFiles::new(heads.bands(), &budget.dir).map_err(io)?;
                Some((heads, files))
            } else {
                None
            },
        })
    }

    /// Appends encoded documents to the files, numbering them on from those already written.
    fn write(&mut self, encoded: Vec<Encoded>) -> Result<()> {
        let io = |e| Error::io(self.budget.dir.display().to_string(), e);
        for (record, info, kept, keys, head_keys) in encoded {
            let doc = self.kept.len() as u32;
            self.signed.push(&record).map_err(io)?;
            self.infos.push(&info).map_err(io)?;
            for (band, key) in keys.into_iter().enumerate() {
                self.bands.push(band, key, doc).map_err(io)?;
            }
            if let Some((_, files)) = &mut self.heads {
                for (band, key) in head_keys.into_iter().enumerate() {
                    files.push(band, key, doc).map_err(io)?;
                }
            }
            self.kept.push(kept);
        }
        Ok(())
    }

    /// Bands, verifies and clusters the documents on disk, and reads back those the report
    /// needs.
    fn finish(
        mut self,
        settings: &Settings,
        options: &RunOptions,
        inputs: Vec<String>,
        mut stats: Stats,
        progress: &dyn Progress,
    ) -> Result<Outcome> {
        let k = settings.sig_len();
        let params = settings.lsh;
        let io = |e| Error::io(self.budget.dir.display().to_string(), e);
        self.signed.flush().map_err(io)?;
        self.infos.flush().map_err(io)?;
        stats.spilled = self.written();
        let Spilled {
            budget,
            signed: records,
            infos: info_records,
            kept,
            mut bands,
            heads,
        } = self;
        let mut head_files = heads.map(|(_, files)| files);
        let dir = budget.dir.display().to_string();
        let io = |e| Error::io(dir.as_str(), e);
        let read = |i: u32, buf: &mut Vec<u8>| -> Result<Fetched> {
            records.read(i as usize, buf).map_err(io)?;
            Ok(decode_signed(buf, k))
        };
        let n = kept.len();
        stats.documents = n;
        stats.empty = kept.iter().filter(|d| d.traits.is_empty()).count();
        // Reading a document back can fail only if the temporary file itself does (a disk
        // error); the first such error is kept and ends the run after the stage.
        let failure: std::sync::Mutex<Option<Error>> = std::sync::Mutex::new(None);
        let fetch = |i: u32| -> Option<Fetched> {
            thread_local!(static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) });
            BUF.with_borrow_mut(|buf| match read(i, buf) {
                Ok(f) => Some(f),
                Err(e) => {
                    failure.lock().expect("not poisoned").get_or_insert(e);
                    None
                }
            })
        };
        let kept_all = kept;
        let kept = &kept_all;
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let both = |a: u32, b: u32, then: &dyn Fn(&Signed<'_>, &Signed<'_>) -> bool| {
            with_pair(run, &fetch, a, b, |fa, fb| {
                then(&view(kept, a, fa), &view(kept, b, fb))
            })
        };
        let similarity = |a: u32, b: u32| {
            with_pair(run, &fetch, a, b, |fa, fb| {
                settings.similarity(&view(kept, a, fa), &view(kept, b, fb))
            })
            .unwrap_or(0.0)
        };
        let linked = |a: u32, b: u32| both(a, b, &|x, y| settings.linked(x, y)) == Some(true);
        // Signatures on disk: whether a pair shares an earlier band is told when the pair is
        // verified, from the signatures read for it.
        let verify = |a: u32, b: u32, band: usize| {
            with_pair(run, &fetch, a, b, |fa, fb| {
                if cluster::shares_earlier_band(params, &fa.sig, &fb.sig, band) {
                    None
                } else {
                    Some(settings.linked(&view(kept, a, fa), &view(kept, b, fb)))
                }
            })
            .unwrap_or(Some(false))
        };
        // The bands are sorted one at a time in what the budget leaves beside the documents'
        // fixed costs (kept traits, copies, union-find), halved for the pairs being verified;
        // a band larger than that is sorted on disk in runs of that size and merged.
        let fixed = n as u64 * FIXED_BYTES_PER_DOC;
        let share = (budget.bytes.saturating_sub(fixed) / 2).max(budget.bytes / 8);
        let mut members: Vec<(u64, u32)> = Vec::new();
        let mut head_members: Vec<(u64, u32)> = Vec::new();
        let groups = band_and_cluster(
            settings,
            &Verification {
                n_docs: n,
                active: &|i| !kept[i].traits.is_empty(),
                identity: &|i| kept[i].identity,
                same: &|a, b| both(a, b, &|x, y| cluster::same(x, y)) == Some(true),
                earlier: &|_, _, _| false,
                verify: &verify,
                similarity: &similarity,
                linked: &linked,
                length: &|i| kept[i as usize].chars as usize,
            },
            &mut |round, active, f| {
                band_runs(&mut bands, round, share, &mut members, active, f)
                    .map_err(|e| Error::io(dir.as_str(), e))
            },
            &mut |round, active, f| match &mut head_files {
                Some(files) => band_runs(files, round, share, &mut head_members, active, f)
                    .map_err(|e| Error::io(dir.as_str(), e)),
                None => Ok(()),
            },
            &mut stats,
            progress,
        )?;
        if let Some(e) = failure.into_inner().expect("not poisoned") {
            return Err(e);
        }

        // The documents the report shows, read back in order.
        let wanted: Vec<u32> = if options.every_doc {
            (0..n as u32).collect()
        } else {
            let mut wanted: Vec<u32> = groups
                .iter()
                .flat_map(|g| g.members.iter().copied())
                .collect();
            wanted.sort_unstable();
            wanted
        };
        let traits: Vec<Traits> = wanted.iter().map(|&i| kept[i as usize].traits).collect();
        drop(kept_all);
        let mut buf = Vec::new();
        let mut infos = Vec::with_capacity(wanted.len());
        for (&i, &traits) in wanted.iter().zip(&traits) {
            info_records.read(i as usize, &mut buf).map_err(io)?;
            let preview = !options.skip_previews;
            infos.push(decode_info(&buf, traits, Vec::new(), preview));
        }
        Ok(Outcome {
            settings: settings.clone(),
            inputs,
            docs: Docs {
                infos,
                kept: (wanted.len() < n).then_some(wanted),
                len: n,
            },
            groups,
            stats,
            signatures: Vec::new(),
            sets: Vec::new(),
        })
    }

    /// Bytes written to the temporary files.
    fn written(&self) -> u64 {
        let heads = self.heads.as_ref().map_or(0, |(_, files)| files.bytes());
        self.signed.bytes() + self.infos.bytes() + self.bands.bytes() + heads
    }
}

/// A document as [`Spilled::write`] appends it: its [`encode_signed`] and [`encode_info`]
/// records, what memory keeps of it, its band keys and its head's band keys.
type Encoded = (Vec<u8>, Vec<u8>, Kept, Vec<u64>, Vec<u64>);

/// Encodes documents signed in order, `signatures` holding theirs back to back, in parallel;
/// their previews only when `previews` is true.
fn encode(
    settings: &Settings,
    heads: Option<&crate::cross::Heads>,
    previews: bool,
    signatures: &[u32],
    docs: Vec<(DocInfo, Option<Vec<u64>>)>,
) -> Vec<Encoded> {
    let k = settings.sig_len();
    let params = settings.lsh;
    docs.into_par_iter()
        .zip(signatures.par_chunks(k))
        .map(|((info, set), sig)| {
            let signed = Signed {
                sig,
                traits: info.traits,
                words: &info.words,
                set: set.as_deref(),
            };
            let kept = Kept {
                traits: info.traits,
                chars: info.chars.min(u32::MAX as usize) as u32,
                identity: cluster::identity(&signed),
            };
            let keys = if info.traits.is_empty() {
                Vec::new()
            } else {
                (0..params.bands).map(|b| params.band_key(sig, b)).collect()
            };
            let head_keys = match heads {
                Some(heads) if !info.traits.is_empty() => {
                    heads.keys(crate::settings::head_words(&info.words, &info.traits))
                }
                _ => Vec::new(),
            };
            let record = encode_signed(sig, &info.words, set.as_deref());
            (record, encode_info(&info, previews), kept, keys, head_keys)
        })
        .collect()
}

/// Chunks of encoded documents waiting for the writer thread: with the chunk being encoded
/// and the one being written, at most four chunks of [`BATCH`] documents are in memory.
const WRITES_IN_FLIGHT: usize = 2;

/// Writes a spilled run's documents on a thread of its own, so that signing the next batch
/// (in the rayon pool) overlaps writing this one.
///
/// The caller encodes each chunk of documents in parallel ([`encode`]) and sends it through
/// a bounded channel; the writer thread appends the chunks to the temporary files in the
/// order they were sent, which is the order the documents were read, so documents are
/// numbered as in an in-memory run. When a write fails the thread stops and drops its end
/// of the channel: the next send fails, or [`Writer::finish`] is reached, and either joins
/// the thread and returns its error (naming the temporary folder). A writer dropped without
/// `finish` (an interrupted run, an error elsewhere) closes the channel: the thread writes
/// what was already sent and ends with the scope; the files, unlinked from the start,
/// vanish with it.
struct Writer<'scope> {
    tx: SyncSender<Vec<Encoded>>,
    thread: Option<ScopedJoinHandle<'scope, Result<Spilled>>>,
    heads: Option<crate::cross::Heads>,
    /// Whether the documents' previews are written (a report that shows ids only reads none).
    previews: bool,
}

impl<'scope> Writer<'scope> {
    fn start(
        scope: &'scope Scope<'scope, '_>,
        mut spilled: Spilled,
        previews: bool,
    ) -> Result<Writer<'scope>> {
        let heads = spilled.heads.as_ref().map(|(heads, _)| heads.clone());
        let (tx, rx) = sync_channel::<Vec<Encoded>>(WRITES_IN_FLIGHT);
        let thread = std::thread::Builder::new()
            .name("mukarrar-spill".into())
            .spawn_scoped(scope, move || {
                for chunk in rx {
                    spilled.write(chunk)?;
                }
                Ok(spilled)
            })
            .map_err(|e| Error::io("<spill writer thread>", e))?;
        Ok(Writer {
            tx,
            thread: Some(thread),
            heads,
            previews,
        })
    }

    /// Writes out documents signed in order, `signatures` holding theirs back to back.
    fn push(
        &mut self,
        settings: &Settings,
        signatures: &[u32],
        docs: impl Iterator<Item = (DocInfo, Option<Vec<u64>>)>,
    ) -> Result<()> {
        let k = settings.sig_len();
        // A chunk at a time: the documents held when the budget is reached are many, and their
        // encoded copies must not all be in memory beside them.
        let mut docs = docs.peekable();
        let mut at = 0;
        while docs.peek().is_some() {
            let chunk: Vec<(DocInfo, Option<Vec<u64>>)> = docs.by_ref().take(BATCH).collect();
            let n = chunk.len();
            let signatures = &signatures[at * k..(at + n) * k];
            let encoded = encode(
                settings,
                self.heads.as_ref(),
                self.previews,
                signatures,
                chunk,
            );
            at += n;
            if self.tx.send(encoded).is_err() {
                // The thread has stopped, which it does only on an error.
                let error = Self::join(&mut self.thread).err();
                return Err(error.expect("the writer stops early only on an error"));
            }
        }
        Ok(())
    }

    /// Waits for every document sent to be written, and gives back the files.
    fn finish(mut self) -> Result<Spilled> {
        drop(self.tx);
        Self::join(&mut self.thread)
    }

    fn join(thread: &mut Option<ScopedJoinHandle<'scope, Result<Spilled>>>) -> Result<Spilled> {
        let thread = thread.take().expect("the writer is joined once");
        thread.join().expect("spill writer thread panicked")
    }
}

/// Calls `f(band, bucket)` for every bucket of the bands `round` of `files`, with only the
/// documents that `active` names; `members` is scratch space.
fn band_runs(
    files: &mut BandFiles,
    round: &[usize],
    share: u64,
    members: &mut Vec<(u64, u32)>,
    active: &(dyn Fn(usize) -> bool + Sync),
    f: &mut cluster::BucketVisitor<'_>,
) -> std::io::Result<()> {
    for &band in round {
        files.runs(band, share, &mut |run| {
            members.clear();
            members.extend(run.iter().filter(|e| active(e.1 as usize)));
            if members.len() >= 2 {
                f(band, members);
            }
        })?;
    }
    Ok(())
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
        let temp = tempfile::tempdir().unwrap();
        // In memory, and spilled from the first batch on (the writer thread is then busy
        // when the run stops).
        for budget in [
            None,
            Some(Budget::new(64 << 10, Some(temp.path().to_path_buf()))),
        ] {
            let options = RunOptions {
                budget,
                ..RunOptions::default()
            };
            let run_with = |after: u64| {
                let progress = StopAfter {
                    after,
                    done: AtomicU64::new(0),
                };
                let outcome = run(inputs(1500), &settings, &options, &progress);
                (outcome, progress.done.load(Ordering::Relaxed))
            };
            let (stopped, signed) = run_with(600);
            assert!(matches!(stopped, Err(Error::Interrupted)));
            assert!(
                signed < 1500,
                "stopped after the second batch, not at the end"
            );
            let (finished, signed) = run_with(u64::MAX);
            let finished = finished.unwrap();
            assert_eq!(finished.stats.documents, 1500);
            assert_eq!(finished.stats.spilled > 0, options.budget.is_some());
            assert_eq!(signed, 1500);
        }
        assert_eq!(std::fs::read_dir(temp.path()).unwrap().count(), 0);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod writer_tests {
    use super::*;

    /// Writes `chunks` batches of documents through a [`Writer`] whose signature records go
    /// to `/dev/full`, which refuses every write as a full disk does.
    fn write_to_a_full_disk(chunks: usize) -> (Result<Spilled>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::default();
        let k = settings.sig_len();
        let budget = Budget::new(1, Some(dir.path().to_path_buf()));
        let mut spilled = Spilled::new(&budget, &settings).unwrap();
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
        spilled.signed = Records::on(full.unwrap()).unwrap();
        let doc = |i: usize| {
            let info = DocInfo {
                id: i.to_string(),
                input: 0,
                line: i as u64 + 1,
                chars: 500,
                preview: String::new(),
                text: None,
                traits: Traits {
                    shingles: 100,
                    ..Traits::default()
                },
                words: (0..100).collect(),
                fields: Vec::new(),
            };
            (info, None)
        };
        // About 1.3 KB a record: the writer's 1 MiB buffer overflows within two batches.
        let signatures = vec![7u32; BATCH * k];
        let result = std::thread::scope(|scope| {
            let mut writer = Writer::start(scope, spilled, true)?;
            for c in 0..chunks {
                writer.push(
                    &settings,
                    &signatures,
                    (c * BATCH..(c + 1) * BATCH).map(doc),
                )?;
            }
            writer.finish()
        });
        (result, dir)
    }

    #[test]
    fn a_write_that_fails_on_the_writer_thread_is_the_runs_error() {
        // 3 batches: the failure may be found when the writer is finished; 50: the writer
        // stops long before the last batch is sent.
        for chunks in [3, 50] {
            match write_to_a_full_disk(chunks) {
                (Err(Error::Io { path, source }), dir) => {
                    assert_eq!(path, dir.path(), "{chunks} batches");
                    assert_eq!(source.kind(), std::io::ErrorKind::StorageFull);
                }
                (Err(e), _) => panic!("{chunks} batches: {e}"),
                (Ok(_), _) => panic!("{chunks} batches: the failed write was lost"),
            }
        }
    }
}
