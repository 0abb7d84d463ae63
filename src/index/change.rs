//! Adding documents to an index, and asking what adding them would do.
//!
//! Both go through one plan: sign the new documents (in parallel), find their candidates among
//! the indexed documents (band-key lookups) and among themselves (the same bucketing as
//! `cluster`), verify the pairs with the index's measure and threshold, and join the new
//! documents with the clusters they reach. `add` writes the plan and commits; `query` only
//! reports it. The report says which new documents joined which existing clusters, which
//! formed new ones, and which existing clusters were merged into which.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;
use std::time::Instant;

use rayon::prelude::*;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::remove::{cluster_size, remove_positions, upsert_cluster};
use super::schema::{self, NOW};
use super::store::{self, Row};
use super::Index;
use crate::cluster;
use crate::document::Document;
use crate::error::{Error, Location, RecordError, Result};
use crate::pipeline::{numbered, preview, Input, Scratch, Settings, Signer};
use crate::progress::{Progress, Stage};
use crate::report::text::MemberLine;
use crate::report::{self, Format, Params, Report};
use crate::settings::{head_words, Signed, Traits};

/// What `add` does with a document whose id is already in the index (or earlier in the same
/// run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnDuplicate {
    /// Keep the stored document, skip the new one (counted).
    #[default]
    Skip,
    /// Remove the stored document and add the new one in its place (at a new position).
    Replace,
    /// Stop with an error naming the file and line; earlier batches stay committed.
    Error,
}

impl OnDuplicate {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            OnDuplicate::Skip => "skip",
            OnDuplicate::Replace => "replace",
            OnDuplicate::Error => "error",
        }
    }
}

impl fmt::Display for OnDuplicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for OnDuplicate {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<OnDuplicate, String> {
        match s {
            "skip" => Ok(OnDuplicate::Skip),
            "replace" => Ok(OnDuplicate::Replace),
            "error" => Ok(OnDuplicate::Error),
            _ => Err(format!(
                "unknown duplicate-id policy `{s}` (expected skip, replace or error)"
            )),
        }
    }
}

/// Options of `add` and `query`.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// What to do with ids already present.
    pub on_duplicate: OnDuplicate,
    /// Commit after every this many input records; `None`: one transaction for the run.
    pub batch_size: Option<usize>,
    /// Skip invalid records (counted, and passed to [`Progress::warn`]) instead of failing.
    pub skip_invalid: bool,
    /// The first-seen time to record (ISO 8601, UTC); `None`: now.
    pub first_seen: Option<String>,
    /// Also report new documents that joined nothing, each as a cluster of one.
    pub include_singletons: bool,
}

/// A committed batch, as passed to `add`'s commit callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// The batch number (1 for an index's first batch).
    pub batch: u64,
    /// Input records the batch covered.
    pub records: usize,
    /// Documents it added.
    pub added: usize,
    /// Documents in the index after it.
    pub indexed: u64,
}

/// How a reported cluster relates to the index before the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Formed by new documents (alone or with indexed documents that were in no cluster).
    New,
    /// An existing cluster that new documents joined (possibly merging others into it).
    Grown,
    /// A new document that joined nothing (reported only with `include_singletons`).
    Unmatched,
}

/// One member of a reported cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangedMember {
    /// The document's id.
    pub id: String,
    /// Similarity to the cluster's representative (1 for the representative itself).
    pub similarity: f64,
    /// True for the representative.
    pub is_representative: bool,
    /// True for a document of this run; false for one that was already indexed.
    pub new: bool,
    /// The first words of the original text.
    pub preview: String,
    /// True when the document was empty after normalization.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty: bool,
}

/// A cluster that new documents formed or joined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangedCluster {
    /// The cluster's (stable) id.
    pub id: u64,
    /// New, grown, or an unmatched document.
    pub kind: ChangeKind,
    /// Number of members.
    pub size: usize,
    /// Id of the representative document.
    pub representative: String,
    /// Ids of existing clusters that were merged into this one (they no longer exist).
    pub merged: Vec<u64>,
    /// Members by position (indexed documents first).
    pub members: Vec<ChangedMember>,
}

/// Counts of an `add` or `query` run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeStats {
    /// Input records read (documents and invalid records).
    pub read: usize,
    /// New documents (added, or for `query` that would be added).
    pub new: usize,
    /// Documents skipped because their id was already present.
    pub skipped: usize,
    /// Stored documents replaced by a new version.
    pub replaced: usize,
    /// Invalid records skipped.
    pub invalid: usize,
    /// New documents empty after normalization (stored, never clustered).
    pub empty: usize,
    /// New documents that joined existing clusters.
    pub joined: usize,
    /// New documents in new clusters.
    pub in_new_clusters: usize,
    /// Clusters formed.
    pub new_clusters: usize,
    /// Existing clusters that grew.
    pub grown_clusters: usize,
    /// Existing clusters merged into others.
    pub merged_clusters: usize,
    /// Distinct candidate pairs verified (new against indexed, and new against new).
    #[serde(default)]
    pub verified: usize,
    /// Batches committed (0 for `query`).
    pub batches: usize,
    /// Documents in the index after the run.
    pub indexed: u64,
    /// Seconds per step.
    pub seconds: Vec<(String, f64)>,
}

/// The report of an `add` or `query` run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// True for `add` (the change is committed), false for `query`.
    pub committed: bool,
    /// The settings of the index and the inputs.
    pub params: Params,
    /// Counts.
    pub stats: ChangeStats,
    /// Clusters formed or joined, by id.
    pub clusters: Vec<ChangedCluster>,
}

impl Change {
    /// The same clusters in the report model of `cluster`, for writers that follow its
    /// contract (CSV: `cluster_id,doc_id,similarity,is_representative`).
    pub fn to_report(&self) -> Report {
        let clustered: usize = self
            .clusters
            .iter()
            .filter(|c| c.size >= 2)
            .map(|c| c.size)
            .sum();
        let clusters = self.clusters.iter().filter(|c| c.size >= 2).count();
        Report {
            params: self.params.clone(),
            stats: crate::pipeline::Stats {
                documents: self.stats.new,
                skipped: self.stats.invalid,
                empty: self.stats.empty,
                clusters,
                clustered,
                duplicates: clustered - clusters,
                ..Default::default()
            },
            clusters: self
                .clusters
                .iter()
                .map(|c| report::Cluster {
                    id: c.id,
                    size: c.size,
                    representative: c.representative.clone(),
                    members: c
                        .members
                        .iter()
                        .map(|m| report::Member {
                            id: m.id.clone(),
                            similarity: m.similarity,
                            is_representative: m.is_representative,
                            preview: m.preview.clone(),
                            empty: m.empty,
                            text: None,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Writes the report in `format`: CSV as `cluster` writes it; JSON the whole [`Change`];
    /// JSON Lines one [`ChangedCluster`] per line; text for people.
    pub fn write(&self, format: Format, out: &mut dyn Write) -> io::Result<()> {
        match format {
            // CSV keeps the contract; the page shows the clusters the run touched.
            Format::Csv | Format::Html | Format::Parquet => format.write(&self.to_report(), out),
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, self)?;
                out.write_all(b"\n")
            }
            Format::Jsonl => {
                for c in &self.clusters {
                    serde_json::to_writer(&mut *out, c)?;
                    out.write_all(b"\n")?;
                }
                Ok(())
            }
            Format::Text => self.write_text(out),
        }
    }

    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let width = self
            .clusters
            .iter()
            .flat_map(|c| {
                c.members
                    .iter()
                    .map(|m| report::printable(&m.id).chars().count())
            })
            .max()
            .unwrap_or(0)
            .min(40);
        for (i, c) in self.clusters.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            let added = c.members.iter().filter(|m| m.new).count();
            match c.kind {
                ChangeKind::New => {
                    let old = c.size - added;
                    write!(out, "new cluster {} ({} documents", c.id, c.size)?;
                    if old > 0 {
                        write!(out, ", {old} already indexed")?;
                    }
                    write!(out, ")")?;
                }
                ChangeKind::Grown => write!(
                    out,
                    "cluster {} grew by {added} (now {} documents)",
                    c.id, c.size
                )?,
                ChangeKind::Unmatched => write!(out, "unmatched {}", c.id)?,
            }
            if !c.merged.is_empty() {
                let ids: Vec<String> = c.merged.iter().map(u64::to_string).collect();
                let noun = if ids.len() == 1 {
                    "cluster"
                } else {
                    "clusters"
                };
                write!(out, "; {noun} {} merged into it", ids.join(", "))?;
            }
            writeln!(out)?;
            for m in &c.members {
                let marks = match (m.is_representative, m.new) {
                    (true, true) => "*+",
                    (true, false) => "* ",
                    (false, true) => " +",
                    (false, false) => "  ",
                };
                let line = MemberLine {
                    id: &m.id,
                    similarity: m.similarity,
                    preview: &m.preview,
                    empty: m.empty,
                };
                line.write(out, marks, width)?;
            }
        }
        if self.clusters.is_empty() {
            writeln!(out, "no new document matches another")?;
        } else {
            writeln!(out, "\n(* representative, + new document)")?;
        }
        Ok(())
    }
}

/// A new document, signed.
pub(super) struct NewDoc {
    pub(super) id: String,
    origin: String,
    chars: u64,
    preview: String,
    fields: Option<String>,
    pub(super) signature: Vec<u32>,
    pub(super) traits: Traits,
    words: Vec<u64>,
}

impl NewDoc {
    /// The document as verification sees it.
    pub(super) fn signed(&self) -> Signed<'_> {
        Signed {
            sig: &self.signature,
            traits: self.traits,
            words: &self.words,
            set: None,
        }
    }
}

/// An existing cluster (or a document in none) that new documents reach.
#[derive(Debug, Clone, Copy)]
struct Existing {
    id: u64,
    size: u64,
    rep: u64,
    rep_chars: u64,
}

/// New documents and existing clusters that end up in one cluster.
struct Component {
    id: u64,
    new: Vec<usize>,
    existing: Vec<Existing>,
    rep: u64,
}

impl Component {
    fn size(&self) -> u64 {
        self.new.len() as u64 + self.existing.iter().map(|e| e.size).sum::<u64>()
    }
}

/// Documents read per step; a batch is committed at the first step boundary that completes it.
const CHUNK: usize = 8192;

/// The texts an `add` run remembers across chunks ([`plan`]), about 32 MB at most; when
/// full it forgets them all and starts again, which costs lookups, never correctness.
const TEXTS_REMEMBERED: usize = 1 << 20;

/// Which clusters a span of commits (a whole run, or one batch) formed, grew and merged: what
/// its report says, against the index as it was before the span.
#[derive(Default)]
struct Span {
    /// Clusters that formed during the span.
    created: HashSet<u64>,
    /// Clusters whose members include ones that were clustered before the span.
    grown: HashSet<u64>,
    /// Every cluster id retired during the span → the id it was merged into.
    redirect: HashMap<u64, u64>,
    /// Clusters of before the span that were merged.
    merged: Vec<u64>,
    touched: BTreeSet<u64>,
}

impl Span {
    fn resolve(&self, mut id: u64) -> u64 {
        while let Some(&next) = self.redirect.get(&id) {
            id = next;
        }
        id
    }

    fn existed_before(&self, e: &Existing) -> bool {
        e.size >= 2 && !self.created.contains(&e.id)
    }

    /// Notes a component of two or more documents that a step stored.
    fn record(&mut self, c: &Component) {
        let grown = c
            .existing
            .iter()
            .any(|e| self.existed_before(e) || self.grown.contains(&e.id));
        for e in c.existing.iter().filter(|e| e.id != c.id) {
            if self.existed_before(e) {
                self.merged.push(e.id);
            }
            self.redirect.insert(e.id, c.id);
            self.touched.remove(&e.id);
        }
        if !c
            .existing
            .iter()
            .any(|e| e.id == c.id && self.existed_before(e))
        {
            self.created.insert(c.id);
        }
        if grown {
            self.grown.insert(c.id);
        }
        self.touched.insert(c.id);
    }

    /// The clusters the span touched, by their ids now: (id, grown, ids of clusters of before
    /// the span merged into it, sorted).
    fn outcome(&self) -> Vec<(u64, bool, Vec<u64>)> {
        let mut merged_into: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for &m in &self.merged {
            merged_into.entry(self.resolve(m)).or_default().push(m);
        }
        let finals: BTreeSet<u64> = self.touched.iter().map(|&t| self.resolve(t)).collect();
        finals
            .into_iter()
            .map(|id| {
                let mut merged = merged_into.remove(&id).unwrap_or_default();
                merged.sort_unstable();
                (id, self.grown.contains(&id), merged)
            })
            .collect()
    }
}

/// What a run remembers across chunks and batches.
#[derive(Default)]
struct RunState {
    /// The positions this run stored documents at, as [start, end) ranges: another writer's
    /// batches may come between this run's.
    ours: Vec<(u64, u64)>,
    /// Documents in the index after the last commit (or at the start).
    indexed: u64,
    next_pos: u64,
    stats: ChangeStats,
    /// The whole run, and the batch being written.
    run: Span,
    batch: Span,
    unmatched: Vec<u64>,
    sign_seconds: f64,
    match_seconds: f64,
    write_seconds: f64,
    /// Identity hash → the first position this run stored that text at ([`plan`]).
    texts: HashMap<u64, u64>,
}

impl RunState {
    fn is_ours(&self, pos: u64) -> bool {
        self.ours.iter().any(|&(a, b)| (a..b).contains(&pos))
    }
}

impl Index {
    /// Adds the documents of `inputs` in one transaction, or one per `options.batch_size`
    /// input records (`on_commit` hears of each commit), and reports which new documents
    /// joined which clusters. A failure rolls back the current batch only.
    ///
    /// Must be called inside the rayon pool that should do the signing.
    pub fn add(
        &mut self,
        inputs: Vec<Input>,
        options: &AddOptions,
        progress: &dyn Progress,
        on_commit: &mut dyn FnMut(&Commit),
    ) -> Result<Change> {
        let first_seen = match &options.first_seen {
            Some(d) => Some(self.timestamp(d)?),
            None => None,
        };
        let (names, mut docs) = numbered(inputs);
        let signer = Signer::new(&self.settings);
        let batch_size = options.batch_size.unwrap_or(usize::MAX).max(1);
        let mut state = RunState::default();
        let conn = &self.conn;
        let path = &self.path;
        let sql = |e: rusqlite::Error| super::sqlite(path, e);
        progress.start(Stage::Sign, None);
        let mut open = false;
        let result = (|| -> Result<()> {
            // Where the last commit left the index: positions and counts are read again
            // inside each batch's write transaction, after any other writer's commits.
            let mut expected: Option<u64> = None;
            let mut in_batch = 0usize;
            let mut batch_added = 0usize;
            let mut batch_skipped = 0usize;
            let mut batch_replaced = 0usize;
            loop {
                let want = CHUNK.min(batch_size - in_batch);
                let chunk = read_chunk(&mut docs, want, &names, options, progress, &mut state)?;
                let done = chunk.read < want;
                if chunk.read == 0 && in_batch == 0 {
                    break;
                }
                if !open {
                    // Waits (up to the busy timeout) while another writer holds the index.
                    conn.execute_batch("BEGIN IMMEDIATE").map_err(sql)?;
                    open = true;
                    let pos = store::next_pos(conn).map_err(sql)?;
                    if expected != Some(pos) {
                        state.indexed = count_documents(conn).map_err(sql)?;
                    }
                    state.next_pos = pos;
                }
                let before = (state.stats.new, state.stats.skipped, state.stats.replaced);
                let batch: i64 = conn
                    .query_row("SELECT coalesce(max(id), 0) + 1 FROM batches", [], |r| {
                        r.get(0)
                    })
                    .map_err(sql)?;
                self.add_chunk(chunk.docs, options, &signer, batch, &first_seen, &mut state)
                    .map_err(|e| match e {
                        StepError::Sql(e) => sql(e),
                        StepError::Other(e) => e,
                    })?;
                progress.advance(chunk.read as u64);
                in_batch += chunk.read;
                batch_added += state.stats.new - before.0;
                batch_skipped += state.stats.skipped - before.1;
                batch_replaced += state.stats.replaced - before.2;
                if (in_batch == batch_size || done) && batch_added + batch_replaced == 0 {
                    // Nothing changed (every record skipped or invalid): no batch to record.
                    conn.execute_batch("ROLLBACK").map_err(sql)?;
                    open = false;
                    in_batch = 0;
                    batch_skipped = 0;
                } else if in_batch == batch_size || done {
                    let started = Instant::now();
                    log_batch(conn, batch, &std::mem::take(&mut state.batch)).map_err(sql)?;
                    store::set_next_pos(conn, state.next_pos).map_err(sql)?;
                    store::settle_band_keys(conn, state.next_pos).map_err(sql)?;
                    conn.execute(
                        &format!(
                            "INSERT INTO batches (id, committed, documents, skipped, replaced, \
                             inputs) VALUES (?1, {NOW}, ?2, ?3, ?4, ?5)"
                        ),
                        params![
                            batch,
                            batch_added as i64,
                            batch_skipped as i64,
                            batch_replaced as i64,
                            serde_json::to_string(&names).expect("names serialize")
                        ],
                    )
                    .map_err(sql)?;
                    conn.execute_batch("COMMIT").map_err(sql)?;
                    open = false;
                    expected = Some(state.next_pos);
                    state.write_seconds += started.elapsed().as_secs_f64();
                    state.stats.batches += 1;
                    on_commit(&Commit {
                        batch: batch as u64,
                        records: in_batch,
                        added: batch_added,
                        indexed: state.indexed,
                    });
                    in_batch = 0;
                    batch_added = 0;
                    batch_skipped = 0;
                    batch_replaced = 0;
                }
                if done {
                    break;
                }
            }
            Ok(())
        })();
        progress.finish(Stage::Sign);
        if let Err(e) = result {
            if open {
                let _ = conn.execute_batch("ROLLBACK");
            }
            return Err(e);
        }
        progress.start(Stage::Report, None);
        let change = self.add_report(names, state).map_err(|e| self.sql(e));
        progress.finish(Stage::Report);
        change
    }

    /// Signs, matches and stores one chunk, inside the open transaction.
    fn add_chunk(
        &self,
        docs: Vec<(Document, Location)>,
        options: &AddOptions,
        signer: &Signer,
        batch: i64,
        first_seen: &Option<String>,
        state: &mut RunState,
    ) -> std::result::Result<(), StepError> {
        let conn = &self.conn;
        let settings = &self.settings;
        // Duplicate ids: against the index (which holds this run's earlier chunks) and within
        // the chunk.
        let mut keep: Vec<Option<(Document, Location)>> = Vec::with_capacity(docs.len());
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut replace = Vec::new();
        for (doc, origin) in docs {
            let earlier = seen.get(&doc.id).copied();
            let stored = match earlier {
                Some(_) => None,
                None => store::position(conn, &doc.id)?,
            };
            if earlier.is_none() && stored.is_none() {
                seen.insert(doc.id.clone(), keep.len());
                keep.push(Some((doc, origin)));
                continue;
            }
            match options.on_duplicate {
                OnDuplicate::Skip => state.stats.skipped += 1,
                OnDuplicate::Error => {
                    let first = match earlier {
                        Some(i) => keep[i].as_ref().expect("kept").1.to_string(),
                        None => "an earlier run: it is already in the index".into(),
                    };
                    return Err(StepError::Other(Error::Record {
                        location: origin,
                        kind: RecordError::DuplicateId { id: doc.id, first },
                    }));
                }
                OnDuplicate::Replace => {
                    state.stats.replaced += 1;
                    match earlier {
                        Some(i) => keep[i] = None,
                        None => replace.extend(stored),
                    }
                    seen.insert(doc.id.clone(), keep.len());
                    keep.push(Some((doc, origin)));
                }
            }
        }
        if !replace.is_empty() {
            remove_positions(conn, settings, &replace)?;
            state.indexed -= replace.len() as u64;
        }
        let docs: Vec<(Document, Location)> = keep.into_iter().flatten().collect();

        let started = Instant::now();
        let new = sign(signer, docs);
        state.sign_seconds += started.elapsed().as_secs_f64();
        state.stats.new += new.len();
        state.stats.empty += new.iter().filter(|d| d.traits.is_empty()).count();

        let started = Instant::now();
        let texts = Some(&mut state.texts);
        let (components, keys, verified) = plan(conn, settings, &new, state.next_pos, texts)?;
        state.stats.verified += verified;
        state.match_seconds += started.elapsed().as_secs_f64();

        let started = Instant::now();
        let first = state.next_pos;
        let mut cluster_of: Vec<u64> = (0..new.len() as u64).map(|i| first + i).collect();
        for c in &components {
            for &i in &c.new {
                cluster_of[i] = c.id;
            }
        }
        let added = first_seen.as_deref();
        let mut insert_doc = conn.prepare_cached(&format!(
            "INSERT INTO documents (pos, id, cluster, signature, shingles, chars, added, batch, \
             source, preview, fields, short, numbers, words, head, head_numbers) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, coalesce(?7, {NOW}), ?8, ?9, ?10, ?11, ?12, ?13, ?14, \
             ?15, ?16)"
        ))?;
        let mut insert_key = conn.prepare_cached(schema::INSERT_BAND_KEY)?;
        for (i, d) in new.iter().enumerate() {
            let pos = first + i as u64;
            insert_doc.execute(params![
                pos as i64,
                d.id,
                cluster_of[i] as i64,
                store::signature_blob(&d.signature),
                d.traits.shingles as i64,
                d.chars as i64,
                added,
                batch,
                d.origin,
                d.preview,
                d.fields,
                i64::from(d.traits.short),
                d.traits.numbers as i64,
                store::words_blob(&d.words),
                i64::from(d.traits.head),
                d.traits.head_numbers as i64,
            ])?;
        }
        // In key order, so that neighbouring inserts touch neighbouring pages.
        for &(band, key, i) in &keys {
            insert_key.execute(params![band as i64, key as i64, (first + i as u64) as i64])?;
        }
        let mut in_component = vec![false; new.len()];
        for c in &components {
            for &i in &c.new {
                in_component[i] = true;
            }
            for e in c.existing.iter().filter(|e| e.id != c.id) {
                conn.prepare_cached("UPDATE documents SET cluster = ?1 WHERE cluster = ?2")?
                    .execute(params![c.id as i64, e.id as i64])?;
                if e.size >= 2 {
                    conn.prepare_cached(&format!(
                        "UPDATE clusters SET merged_into = ?1, size = 0, updated = {NOW} \
                         WHERE id = ?2"
                    ))?
                    .execute(params![c.id as i64, e.id as i64])?;
                }
            }
            upsert_cluster(conn, c.id, c.size() as usize, c.rep)?;
            if c.size() >= 2 {
                state.run.record(c);
                state.batch.record(c);
            }
        }
        if options.include_singletons {
            state.unmatched.extend(
                (0..new.len())
                    .filter(|&i| !in_component[i])
                    .map(|i| first + i as u64),
            );
        }
        state.next_pos = first + new.len() as u64;
        state.ours.push((first, state.next_pos));
        state.indexed += new.len() as u64;
        state.write_seconds += started.elapsed().as_secs_f64();
        Ok(())
    }

    /// The report of an `add` run, read from the index as committed.
    fn add_report(&self, names: Vec<String>, mut state: RunState) -> rusqlite::Result<Change> {
        let started = Instant::now();
        let outcome = state.run.outcome();
        let finals: BTreeSet<u64> = outcome.iter().map(|c| c.0).collect();
        let (mut clusters, merged) = self.changed_clusters(outcome, |pos| state.is_ours(pos))?;
        clusters.extend(self.unmatched(&state.unmatched, &finals)?);
        state.stats.indexed = state.indexed;
        state.stats.seconds = vec![
            ("read+sign".into(), state.sign_seconds),
            ("match".into(), state.match_seconds),
            ("write".into(), state.write_seconds),
            ("report".into(), started.elapsed().as_secs_f64()),
        ];
        Ok(self.change(true, names, clusters, state.stats, merged))
    }

    /// The documents at `positions` that are in no cluster now (and not among `reported`),
    /// each as an unmatched new document.
    fn unmatched(
        &self,
        positions: &[u64],
        reported: &BTreeSet<u64>,
    ) -> rusqlite::Result<Vec<ChangedCluster>> {
        let k = self.settings.sig_len();
        let mut out = Vec::new();
        for &pos in positions.iter().filter(|p| !reported.contains(p)) {
            if let Some(row) = store::document(&self.conn, pos, k)? {
                if row.cluster == pos && store::members(&self.conn, pos, k)?.len() < 2 {
                    out.push(changed_cluster(
                        pos,
                        ChangeKind::Unmatched,
                        Vec::new(),
                        &[row],
                        &[true],
                        &self.settings,
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The reported clusters of a span's `outcome` (see [`Span::outcome`]) as the index holds
    /// them now, with `new` telling the span's documents by position; clusters that no longer
    /// hold two documents are left out. Also returns how many clusters were merged.
    fn changed_clusters(
        &self,
        outcome: Vec<(u64, bool, Vec<u64>)>,
        new: impl Fn(u64) -> bool,
    ) -> rusqlite::Result<(Vec<ChangedCluster>, usize)> {
        let k = self.settings.sig_len();
        let mut clusters = Vec::new();
        let mut merged_count = 0;
        for (id, grown, merged) in outcome {
            merged_count += merged.len();
            let members = store::members(&self.conn, id, k)?;
            if members.len() < 2 {
                continue;
            }
            let kind = if grown {
                ChangeKind::Grown
            } else {
                ChangeKind::New
            };
            let is_new: Vec<bool> = members.iter().map(|m| new(m.pos)).collect();
            clusters.push(changed_cluster(
                id,
                kind,
                merged,
                &members,
                &is_new,
                &self.settings,
            ));
        }
        Ok((clusters, merged_count))
    }

    /// The report of committed batch `batch` as `add` wrote it, from the batch log and the
    /// documents as the index holds them now: the clusters its documents formed or joined
    /// (under their ids now, with their members now), which documents it added, and which
    /// clusters it merged. Right after the batch, this is its report exactly.
    ///
    /// # Errors
    ///
    /// [`Error::Index`] when there is no such batch.
    pub fn batch_report(&self, batch: u64, include_singletons: bool) -> Result<Change> {
        let found = self.batch_report_inner(batch, include_singletons);
        match found {
            Ok(Some(change)) => Ok(change),
            Ok(None) => {
                let last = self.stats()?.batches;
                Err(super::index_error(
                    &self.path,
                    format!("has no batch {batch} (its batches are 1 to {last})"),
                ))
            }
            Err(e) => Err(self.sql(e)),
        }
    }

    fn batch_report_inner(
        &self,
        batch: u64,
        include_singletons: bool,
    ) -> rusqlite::Result<Option<Change>> {
        let conn = &self.conn;
        let row: Option<(i64, i64, String)> = conn
            .query_row(
                "SELECT skipped, replaced, inputs FROM batches WHERE id = ?1",
                [batch as i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((skipped, replaced, inputs)) = row else {
            return Ok(None);
        };
        let names: Vec<String> = serde_json::from_str(&inputs).unwrap_or_default();
        let mut added: HashSet<u64> = HashSet::new();
        let mut empty = 0;
        let mut stmt = conn.prepare("SELECT pos, shingles FROM documents WHERE batch = ?1")?;
        for r in stmt.query_map([batch as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })? {
            let (pos, shingles) = r?;
            added.insert(pos as u64);
            empty += usize::from(shingles == 0);
        }
        // The logged clusters under their ids now (merges since move them).
        let mut logged: BTreeMap<u64, (bool, Vec<u64>)> = BTreeMap::new();
        let mut stmt =
            conn.prepare("SELECT cluster, grown, merged FROM batch_clusters WHERE batch = ?1")?;
        let rows = stmt.query_map([batch as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for r in rows {
            let (mut id, grown, merged) = r?;
            let mut hops = 0;
            while let Some(into) = conn
                .prepare_cached("SELECT merged_into FROM clusters WHERE id = ?1")?
                .query_row([id], |r| r.get::<_, Option<i64>>(0))
                .optional()?
                .flatten()
            {
                id = into;
                hops += 1;
                if hops > 1_000_000 {
                    break;
                }
            }
            let entry = logged.entry(id as u64).or_default();
            entry.0 |= grown != 0;
            entry
                .1
                .extend(serde_json::from_str::<Vec<u64>>(&merged).unwrap_or_default());
        }
        let outcome: Vec<(u64, bool, Vec<u64>)> = logged
            .into_iter()
            .map(|(id, (grown, mut merged))| {
                merged.sort_unstable();
                merged.dedup();
                (id, grown, merged)
            })
            .collect();
        let (mut clusters, merged) = self.changed_clusters(outcome, |pos| added.contains(&pos))?;
        if include_singletons {
            let reported: BTreeSet<u64> = clusters.iter().map(|c| c.id).collect();
            let mut alone: Vec<u64> = added.iter().copied().collect();
            alone.sort_unstable();
            clusters.extend(self.unmatched(&alone, &reported)?);
        }
        let stats = ChangeStats {
            read: added.len() + skipped as usize,
            new: added.len(),
            skipped: skipped as usize,
            replaced: replaced as usize,
            empty,
            batches: 1,
            indexed: count_documents(conn)?,
            ..ChangeStats::default()
        };
        Ok(Some(self.change(true, names, clusters, stats, merged)))
    }

    /// The report of a run: the clusters by id, and the counts they give.
    fn change(
        &self,
        committed: bool,
        names: Vec<String>,
        mut clusters: Vec<ChangedCluster>,
        mut stats: ChangeStats,
        merged: usize,
    ) -> Change {
        clusters.sort_by_key(|c| c.id);
        tally(&mut stats, &clusters, merged);
        Change {
            committed,
            params: Params {
                inputs: names,
                settings: self.settings.clone(),
            },
            stats,
            clusters,
        }
    }

    /// Reports what adding the documents of `inputs` would do, without changing the index:
    /// one read transaction, so a concurrent `add` is seen as of one commit. Ids already in the
    /// index are skipped and counted; all query documents are held in memory.
    pub fn query(
        &self,
        inputs: Vec<Input>,
        options: &AddOptions,
        progress: &dyn Progress,
    ) -> Result<Change> {
        let (names, mut docs) = numbered(inputs);
        let signer = Signer::new(&self.settings);
        let mut state = RunState::default();
        let conn = &self.conn;
        conn.execute_batch("BEGIN DEFERRED")
            .map_err(|e| self.sql(e))?;
        let result = (|| -> std::result::Result<Change, StepError> {
            state.next_pos = store::next_pos(conn)?;
            progress.start(Stage::Sign, None);
            let chunk = read_chunk(&mut docs, usize::MAX, &names, options, progress, &mut state)?;
            progress.advance(chunk.read as u64);
            let mut seen = HashSet::new();
            let mut fresh = Vec::new();
            for (doc, origin) in chunk.docs {
                if store::position(conn, &doc.id)?.is_some() || !seen.insert(doc.id.clone()) {
                    state.stats.skipped += 1;
                } else {
                    fresh.push((doc, origin));
                }
            }
            let started = Instant::now();
            let new = sign(&signer, fresh);
            state.sign_seconds = started.elapsed().as_secs_f64();
            progress.finish(Stage::Sign);
            state.stats.new = new.len();
            state.stats.empty = new.iter().filter(|d| d.traits.is_empty()).count();
            let started = Instant::now();
            let (components, _, verified) = plan(conn, &self.settings, &new, state.next_pos, None)?;
            state.stats.verified += verified;
            state.match_seconds = started.elapsed().as_secs_f64();
            let change = self.query_report(names, options, &new, &components, state)?;
            Ok(change)
        })();
        let _ = conn.execute_batch("COMMIT");
        result.map_err(|e| match e {
            StepError::Sql(e) => self.sql(e),
            StepError::Other(e) => e,
        })
    }

    fn query_report(
        &self,
        names: Vec<String>,
        options: &AddOptions,
        new: &[NewDoc],
        components: &[Component],
        mut state: RunState,
    ) -> rusqlite::Result<Change> {
        let started = Instant::now();
        let conn = &self.conn;
        let k = self.settings.sig_len();
        let first = state.next_pos;
        let new_row = |i: usize| Row {
            pos: first + i as u64,
            id: new[i].id.clone(),
            cluster: first + i as u64,
            signature: new[i].signature.clone(),
            traits: new[i].traits,
            words: new[i].words.clone(),
            chars: new[i].chars,
            preview: new[i].preview.clone(),
        };
        let mut clusters = Vec::new();
        let mut in_component = vec![false; new.len()];
        for c in components {
            let mut members = Vec::new();
            for e in &c.existing {
                if e.size >= 2 {
                    members.extend(store::members(conn, e.id, k)?);
                } else {
                    members.extend(store::document(conn, e.id, k)?);
                }
            }
            let old = members.len();
            for &i in &c.new {
                in_component[i] = true;
                members.push(new_row(i));
            }
            let mut flags: Vec<(Row, bool)> = members
                .into_iter()
                .enumerate()
                .map(|(n, r)| (r, n >= old))
                .collect();
            flags.sort_by_key(|(r, _)| r.pos);
            let (rows, is_new): (Vec<Row>, Vec<bool>) = flags.into_iter().unzip();
            let grown = c.existing.iter().any(|e| e.size >= 2);
            let mut merged: Vec<u64> = c
                .existing
                .iter()
                .filter(|e| e.size >= 2 && e.id != c.id)
                .map(|e| e.id)
                .collect();
            merged.sort_unstable();
            state.stats.merged_clusters += merged.len();
            let kind = if grown {
                ChangeKind::Grown
            } else {
                ChangeKind::New
            };
            clusters.push(changed_cluster(
                c.id,
                kind,
                merged,
                &rows,
                &is_new,
                &self.settings,
            ));
        }
        if options.include_singletons {
            for i in (0..new.len()).filter(|&i| !in_component[i]) {
                clusters.push(changed_cluster(
                    first + i as u64,
                    ChangeKind::Unmatched,
                    Vec::new(),
                    &[new_row(i)],
                    &[true],
                    &self.settings,
                ));
            }
        }
        state.stats.indexed = count_documents(conn)?;
        state.stats.seconds = vec![
            ("read+sign".into(), state.sign_seconds),
            ("match".into(), state.match_seconds),
            ("report".into(), started.elapsed().as_secs_f64()),
        ];
        let merged = state.stats.merged_clusters;
        Ok(self.change(false, names, clusters, state.stats, merged))
    }
}

/// An error inside a step: SQLite's (to be named with the index path) or the library's.
enum StepError {
    Sql(rusqlite::Error),
    Other(Error),
}

impl From<rusqlite::Error> for StepError {
    fn from(e: rusqlite::Error) -> StepError {
        StepError::Sql(e)
    }
}

impl From<Error> for StepError {
    fn from(e: Error) -> StepError {
        StepError::Other(e)
    }
}

/// Writes the batch log of batch `batch` (inside its transaction).
fn log_batch(conn: &Connection, batch: i64, span: &Span) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO batch_clusters (batch, cluster, grown, merged) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (id, grown, merged) in span.outcome() {
        insert.execute(params![
            batch,
            id as i64,
            i64::from(grown),
            serde_json::to_string(&merged).expect("ids serialize")
        ])?;
    }
    Ok(())
}

fn count_documents(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT count(*) FROM documents", [], |r| {
        r.get::<_, i64>(0).map(|n| n as u64)
    })
}

/// Fills the per-cluster counts of `stats` from the reported clusters.
fn tally(stats: &mut ChangeStats, clusters: &[ChangedCluster], merged: usize) {
    for c in clusters {
        let added = c.members.iter().filter(|m| m.new).count();
        match c.kind {
            ChangeKind::New => {
                stats.new_clusters += 1;
                stats.in_new_clusters += added;
            }
            ChangeKind::Grown => {
                stats.grown_clusters += 1;
                stats.joined += added;
            }
            ChangeKind::Unmatched => {}
        }
    }
    stats.merged_clusters = merged;
}

/// A reported cluster from its members (sorted by position), with the representative and
/// similarities computed exactly as for `export` and `cluster`.
fn changed_cluster(
    id: u64,
    kind: ChangeKind,
    merged: Vec<u64>,
    members: &[Row],
    new: &[bool],
    settings: &Settings,
) -> ChangedCluster {
    let c = store::report_cluster(id, members, settings);
    ChangedCluster {
        id,
        kind,
        size: c.size,
        representative: c.representative,
        merged,
        members: c
            .members
            .into_iter()
            .zip(new)
            .map(|(m, &new)| ChangedMember {
                id: m.id,
                similarity: m.similarity,
                is_representative: m.is_representative,
                new,
                preview: m.preview,
                empty: m.empty,
            })
            .collect(),
    }
}

struct Chunk {
    docs: Vec<(Document, Location)>,
    /// Records consumed, valid or not.
    read: usize,
}

/// Reads up to `want` records; invalid ones are skipped (and counted) or stop the run.
fn read_chunk(
    docs: &mut impl Iterator<Item = (usize, Result<Document>)>,
    want: usize,
    names: &[String],
    options: &AddOptions,
    progress: &dyn Progress,
    state: &mut RunState,
) -> Result<Chunk> {
    let mut out = Vec::new();
    let mut read = 0;
    while read < want {
        let Some((n, doc)) = docs.next() else { break };
        read += 1;
        state.stats.read += 1;
        match doc {
            Ok(doc) => {
                let origin = doc.location(&names[n]);
                out.push((doc, origin));
            }
            Err(e) if e.is_record_error() && options.skip_invalid => {
                state.stats.invalid += 1;
                progress.warn(&e);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Chunk { docs: out, read })
}

/// Signs documents in parallel, keeping what the index stores.
pub(super) fn sign(signer: &Signer, docs: Vec<(Document, Location)>) -> Vec<NewDoc> {
    let k = signer.num_perm();
    docs.into_par_iter()
        .map_init(Scratch::default, |scratch, (doc, origin)| {
            let mut signature = vec![crate::minhash::EMPTY; k];
            let traits = signer.sign_into(&doc.text, scratch, &mut signature);
            let fields = (!doc.fields.is_empty()).then(|| {
                let map: serde_json::Map<String, serde_json::Value> =
                    doc.fields.into_iter().collect();
                serde_json::Value::Object(map).to_string()
            });
            NewDoc {
                chars: doc.text.chars().count() as u64,
                preview: preview(&doc.text),
                id: doc.id,
                origin: origin.to_string(),
                fields,
                signature,
                traits,
                words: scratch.words.clone(),
            }
        })
        .collect()
}

/// A new document's band key: (band, key, document index).
type BandKey = (u32, u64, u32);

/// The band keys of the new documents that are not empty ([`crate::cross::Heads::stored_keys`]),
/// as (band, key, document), sorted.
pub(super) fn band_keys(heads: &crate::cross::Heads, new: &[NewDoc]) -> Vec<BandKey> {
    let mut keys: Vec<BandKey> = new
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, d)| {
            heads
                .stored_keys(&d.signed())
                .into_iter()
                .map(move |(b, key)| (b as u32, key, i as u32))
        })
        .collect();
    keys.par_sort_unstable();
    keys
}

/// The candidate pairs (document, stored position) of the sorted band `keys` of the documents
/// that `wanted` admits, sorted and distinct: one lookup per distinct (band, key), in key order
/// so that neighbouring lookups touch neighbouring pages.
pub(super) fn stored_candidates(
    conn: &Connection,
    keys: &[BandKey],
    wanted: impl Fn(u32) -> bool,
) -> rusqlite::Result<Vec<(u32, u64)>> {
    let mut lookup = conn.prepare_cached(schema::LOOKUP_BAND_KEY)?;
    let mut pairs: Vec<(u32, u64)> = Vec::new();
    let mut found: Vec<u64> = Vec::new();
    let mut last: Option<(u32, u64)> = None;
    for &(band, key, i) in keys {
        if last != Some((band, key)) {
            found.clear();
            let rows = lookup.query_map(params![band as i64, key as i64], |r| {
                r.get::<_, i64>(0).map(|p| p as u64)
            })?;
            for p in rows {
                found.push(p?);
            }
            last = Some((band, key));
        }
        if wanted(i) {
            pairs.extend(found.iter().map(|&p| (i, p)));
        }
    }
    pairs.par_sort_unstable();
    pairs.dedup();
    Ok(pairs)
}

/// Reads the stored documents of `pairs` that `stored` does not hold yet into it, once each.
pub(super) fn read_rows(
    conn: &Connection,
    pairs: &[(u32, u64)],
    k: usize,
    stored: &mut HashMap<u64, Row>,
) -> rusqlite::Result<()> {
    for &(_, p) in pairs {
        if let std::collections::hash_map::Entry::Vacant(slot) = stored.entry(p) {
            if let Some(row) = store::document(conn, p, k)? {
                slot.insert(row);
            }
        }
    }
    Ok(())
}

/// Finds the clusters the new documents form or join. New document `i` would take position
/// `first_pos + i`. Also returns the new documents' band keys as (band, key, document),
/// sorted.
///
/// Exact copies among the new documents ([`cluster::exact_copies`]) are set aside first: only
/// the first of each text looks up and verifies candidates, and its copies join its component.
/// A batch of n copies against an index holding m copies of the same text then verifies m + n
/// pairs at most, not n × m.
///
/// `texts` remembers, for `add`, the first position this run stored each text at (by
/// identity hash), so that a text repeated in a later chunk joins that document's cluster
/// without looking its candidates up again: every indexed document linked to it shares that
/// cluster already (it was joined to it when either of them was added; a removal since splits
/// a cluster only between documents not linked to each other). The stored document is read
/// back and compared, so a hash collision or a removed document only costs the lookup. Without
/// it, n copies added in chunks of c against m indexed copies would verify (n / c) × m pairs.
/// Returns the pairs verified too.
fn plan(
    conn: &Connection,
    settings: &Settings,
    new: &[NewDoc],
    first_pos: u64,
    mut texts: Option<&mut HashMap<u64, u64>>,
) -> rusqlite::Result<(Vec<Component>, Vec<BandKey>, usize)> {
    let n = new.len();
    let params = settings.lsh;
    let k = settings.sig_len();
    let active = |i: usize| !new[i].traits.is_empty();
    let identities: Vec<u64> = new
        .par_iter()
        .map(|d| {
            if d.traits.is_empty() {
                0
            } else {
                cluster::identity(&d.signed())
            }
        })
        .collect();
    let copies = cluster::exact_copies(n, &active, &|i| identities[i], &|a, b| {
        cluster::same(&new[a as usize].signed(), &new[b as usize].signed())
    });
    let first_copy = |i: usize| active(i) && copies[i] as usize == i;

    // First copies whose text this run stored before: (document, stored position).
    let mut stored: HashMap<u64, Row> = HashMap::new();
    let mut known: Vec<(u32, u64)> = Vec::new();
    if let Some(texts) = texts.as_deref_mut() {
        for i in (0..n).filter(|&i| first_copy(i)) {
            if let Some(&pos) = texts.get(&identities[i]) {
                if let Some(row) = store::document(conn, pos, k)? {
                    if cluster::same(&row.signed(), &new[i].signed()) {
                        known.push((i as u32, pos));
                        stored.insert(pos, row);
                    }
                }
            }
        }
    }
    let is_known = |i: u32| known.binary_search_by_key(&i, |&(d, _)| d).is_ok();

    // Candidates among the indexed documents, found under the signature's bands and the
    // heads' (stored after the signature's, under band numbers after theirs: `crate::cross`).
    let heads = &crate::cross::Heads::new(settings);
    let head = |i: usize| -> &[u64] {
        if settings.cross.on() {
            head_words(&new[i].words, &new[i].traits)
        } else {
            &[]
        }
    };
    let keys = band_keys(heads, new);
    let pairs = stored_candidates(conn, &keys, |i| copies[i as usize] == i && !is_known(i))?;
    let mut verified = pairs.len();
    read_rows(conn, &pairs, k, &mut stored)?;
    let kept: Vec<(u32, u64)> = pairs
        .into_par_iter()
        .filter(|&(i, p)| {
            let d = &new[i as usize];
            stored
                .get(&p)
                .is_some_and(|s| settings.linked(&s.signed(), &d.signed()))
        })
        .collect();
    let kept: Vec<(u32, u64)> = kept.into_iter().chain(known.iter().copied()).collect();
    if let Some(texts) = texts {
        if texts.len() > TEXTS_REMEMBERED {
            texts.clear();
        }
        for i in (0..n).filter(|&i| first_copy(i)) {
            texts.entry(identities[i]).or_insert(first_pos + i as u64);
        }
    }

    // The existing clusters reached: each becomes one node after the new documents.
    let mut node_of: HashMap<u64, usize> = HashMap::new();
    let mut existing: Vec<Existing> = Vec::new();
    let mut edges: Vec<(u32, u32)> = Vec::with_capacity(kept.len());
    for &(i, p) in &kept {
        let cluster = stored[&p].cluster;
        let node = match node_of.get(&cluster) {
            Some(&node) => node,
            None => {
                let e = match cluster_size(conn, cluster)? {
                    Some(size) => {
                        let rep: i64 = conn
                            .prepare_cached("SELECT representative FROM clusters WHERE id = ?1")?
                            .query_row([cluster as i64], |r| r.get(0))?;
                        let rep = rep as u64;
                        let rep_chars = match stored.get(&rep) {
                            Some(r) => r.chars,
                            None => store::document(conn, rep, k)?.map_or(0, |r| r.chars),
                        };
                        Existing {
                            id: cluster,
                            size,
                            rep,
                            rep_chars,
                        }
                    }
                    None => Existing {
                        id: cluster,
                        size: 1,
                        rep: p,
                        rep_chars: stored[&p].chars,
                    },
                };
                existing.push(e);
                node_of.insert(cluster, n + existing.len() - 1);
                n + existing.len() - 1
            }
        };
        edges.push((i, node as u32));
    }

    // Candidates among the new documents, banded and verified as `cluster` does.
    let sig = |i: usize| new[i].signature.as_slice();
    let linked =
        |a: u32, b: u32| settings.linked(&new[a as usize].signed(), &new[b as usize].signed());
    let (mut uf, link) = cluster::link_bands(params, n, &first_copy, &sig, &linked);
    verified += link.verified;
    if settings.cross.on() {
        let first_head = |i: usize| if first_copy(i) { head(i) } else { &[] };
        verified += crate::cross::link_heads(heads, n, &first_head, &mut uf, &linked).verified;
    }
    uf.grow(n + existing.len());
    for (i, &c) in copies.iter().enumerate() {
        if c as usize != i {
            uf.union(c, i as u32);
        }
    }
    for (a, b) in edges {
        uf.union(a, b);
    }

    let components = uf
        .groups()
        .into_iter()
        .map(|group| {
            let (fresh, old): (Vec<u32>, Vec<u32>) =
                group.into_iter().partition(|&x| (x as usize) < n);
            let new_idx: Vec<usize> = fresh.into_iter().map(|x| x as usize).collect();
            let old: Vec<Existing> = old.into_iter().map(|x| existing[x as usize - n]).collect();
            let id = old
                .iter()
                .map(|e| e.id)
                .chain(new_idx.iter().map(|&i| first_pos + i as u64))
                .min()
                .expect("a component has members");
            let candidates: Vec<(u64, u64)> = old
                .iter()
                .map(|e| (e.rep, e.rep_chars))
                .chain(
                    new_idx
                        .iter()
                        .map(|&i| (first_pos + i as u64, new[i].chars)),
                )
                .collect();
            let rep = store::representative(&candidates, settings.representative);
            Component {
                id,
                new: new_idx,
                existing: old,
                rep,
            }
        })
        .collect();
    Ok((components, keys, verified))
}
