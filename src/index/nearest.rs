//! Reading an index by document: one stored document by id, and the stored documents most
//! similar to each of a set of query documents (`index query --top K`).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use rayon::prelude::*;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::change::{band_keys, read_rows, sign, stored_candidates, NewDoc};
use super::store::{self, Row};
use super::Index;
use crate::error::Result;
use crate::pipeline::{numbered, Input, Signer};
use crate::progress::{Progress, Stage};
use crate::settings::{Signed, Traits};

/// A document as an index stores it: its signature and what verification needs, never its
/// text (only the first words, and the fields `add --keep-field` kept).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDocument {
    /// Its id.
    pub id: String,
    /// Its position (the order in which it was added).
    pub pos: u64,
    /// Its cluster's id.
    pub cluster: u64,
    /// Its MinHash signature.
    pub signature: Vec<u32>,
    /// What verification knows of it besides the signature.
    pub traits: Traits,
    /// The hashes of its words in order (short texts only).
    pub words: Vec<u64>,
    /// The first words of its text.
    pub preview: String,
    /// The fields kept with it (`add --keep-field`), by name.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl StoredDocument {
    /// The document as verification sees it.
    pub fn signed(&self) -> Signed<'_> {
        Signed {
            sig: &self.signature,
            traits: self.traits,
            words: &self.words,
            set: None,
        }
    }
}

/// Options of [`Index::nearest`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearestOptions {
    /// Neighbours kept per query document (at least 1).
    pub top: usize,
    /// The lowest similarity reported; 0 reports every candidate the rule can compare (a
    /// similarity above 0).
    pub min_similarity: f64,
    /// Skip invalid records (counted, and passed to [`Progress::warn`]) instead of failing.
    pub skip_invalid: bool,
}

/// One stored document near a query document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Neighbour {
    /// The query document's id.
    pub query_id: String,
    /// 1 for the most similar.
    pub rank: usize,
    /// The stored document's id.
    pub id: String,
    /// Their similarity, as the index's rule measures it ([`crate::settings::Settings::similarity`]).
    pub similarity: f64,
    /// True when the rule makes them duplicates ([`crate::settings::Settings::linked`]).
    pub duplicate: bool,
    /// The stored document's cluster.
    pub cluster_id: u64,
    /// The first words of the stored document.
    pub preview: String,
}

/// Counts of a [`Index::nearest`] run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NearestStats {
    /// Input records read (documents and invalid records).
    pub read: usize,
    /// Query documents.
    pub queries: usize,
    /// Invalid records skipped.
    pub invalid: usize,
    /// Query documents empty after normalization (they have no neighbours).
    pub empty: usize,
    /// Query documents with at least one neighbour reported.
    pub matched: usize,
    /// Distinct (query, stored document) candidate pairs measured.
    pub candidates: usize,
}

/// Query documents read and signed at a time.
const CHUNK: usize = 8192;

/// A candidate, ordered so that the worst is the greatest: the top of a bounded max-heap is
/// the one to drop. Better is a higher similarity, then an older (smaller) position.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    similarity: f64,
    pos: u64,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Candidate) -> Ordering {
        other
            .similarity
            .total_cmp(&self.similarity)
            .then(self.pos.cmp(&other.pos))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Candidate) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Candidate) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

/// The best `top` of `candidates`, best first, kept in a heap of `top` entries.
fn best(candidates: impl Iterator<Item = Candidate>, top: usize) -> Vec<Candidate> {
    let mut heap = BinaryHeap::with_capacity(top + 1);
    for c in candidates {
        heap.push(c);
        if heap.len() > top {
            heap.pop();
        }
    }
    heap.into_sorted_vec()
}

impl Index {
    /// The stored document with id `id`, if any.
    pub fn document(&self, id: &str) -> Result<Option<StoredDocument>> {
        let found = (|| -> rusqlite::Result<Option<StoredDocument>> {
            let Some(pos) = store::position(&self.conn, id)? else {
                return Ok(None);
            };
            let k = self.settings.sig_len();
            let Some(row) = store::document(&self.conn, pos, k)? else {
                return Ok(None);
            };
            let fields: Option<String> = self
                .conn
                .query_row(
                    "SELECT fields FROM documents WHERE pos = ?1",
                    params![pos as i64],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            let fields = match fields.map(|f| serde_json::from_str(&f)) {
                Some(Ok(serde_json::Value::Object(map))) => map,
                _ => serde_json::Map::new(),
            };
            Ok(Some(StoredDocument {
                id: row.id,
                pos: row.pos,
                cluster: row.cluster,
                signature: row.signature,
                traits: row.traits,
                words: row.words,
                preview: row.preview,
                fields,
            }))
        })();
        found.map_err(|e| self.sql(e))
    }

    /// For each document of `inputs`, in input order, the `options.top` stored documents most
    /// similar to it, best first (equal similarities: the older first), passed to `emit` with
    /// the query documents of each chunk read.
    ///
    /// The neighbours are ranked among the candidates the index's LSH bands find (the stored
    /// documents that share a band key with the query document), as `query` and `add` find
    /// them: a stored document far below the threshold is rarely a candidate, so it may be
    /// missing even when fewer than `top` are reported. A stored document with the query
    /// document's own id is left out (it is the document itself). One read transaction, so a
    /// concurrent `add` is seen as of one commit; the input is read in chunks, and each chunk
    /// costs its band-key lookups and one read of each distinct candidate.
    ///
    /// Must be called inside the rayon pool that should do the signing.
    pub fn nearest(
        &self,
        inputs: Vec<Input>,
        options: &NearestOptions,
        progress: &dyn Progress,
        emit: &mut dyn FnMut(&[Neighbour]) -> Result<()>,
    ) -> Result<NearestStats> {
        let (names, mut docs) = numbered(inputs);
        let signer = Signer::new(&self.settings);
        let mut stats = NearestStats::default();
        self.conn
            .execute_batch("BEGIN DEFERRED")
            .map_err(|e| self.sql(e))?;
        let result = (|| -> Result<()> {
            progress.start(Stage::Sign, None);
            loop {
                let mut chunk = Vec::new();
                while chunk.len() < CHUNK {
                    let Some((n, doc)) = docs.next() else { break };
                    stats.read += 1;
                    match doc {
                        Ok(doc) => {
                            let origin = doc.location(&names[n]);
                            chunk.push((doc, origin));
                        }
                        Err(e) if e.is_record_error() && options.skip_invalid => {
                            stats.invalid += 1;
                            progress.warn(&e);
                        }
                        Err(e) => return Err(e),
                    }
                }
                if chunk.is_empty() {
                    break;
                }
                progress.advance(chunk.len() as u64);
                let queries = sign(&signer, chunk);
                stats.queries += queries.len();
                stats.empty += queries.iter().filter(|d| d.traits.is_empty()).count();
                let rows = self
                    .nearest_chunk(&queries, options, &mut stats)
                    .map_err(|e| self.sql(e))?;
                emit(&rows)?;
            }
            progress.finish(Stage::Sign);
            Ok(())
        })();
        let _ = self.conn.execute_batch("COMMIT");
        result.map(|()| stats)
    }

    fn nearest_chunk(
        &self,
        queries: &[NewDoc],
        options: &NearestOptions,
        stats: &mut NearestStats,
    ) -> rusqlite::Result<Vec<Neighbour>> {
        let settings = &self.settings;
        let keys = band_keys(&crate::cross::Heads::new(settings), queries);
        let pairs = stored_candidates(&self.conn, &keys, |_| true)?;
        stats.candidates += pairs.len();
        let mut stored: HashMap<u64, Row> = HashMap::new();
        read_rows(&self.conn, &pairs, settings.sig_len(), &mut stored)?;
        // Pairs are sorted by query document: each one's candidates are one run.
        let runs: Vec<&[(u32, u64)]> = pairs.chunk_by(|x, y| x.0 == y.0).collect();
        let ranked: Vec<(u32, Vec<Candidate>)> = runs
            .into_par_iter()
            .map(|run| {
                let q = &queries[run[0].0 as usize];
                let candidates = run.iter().filter_map(|&(_, p)| {
                    let s = stored.get(&p).filter(|s| s.id != q.id)?;
                    let similarity = settings.similarity(&s.signed(), &q.signed());
                    (similarity > 0.0 && similarity >= options.min_similarity)
                        .then_some(Candidate { similarity, pos: p })
                });
                (run[0].0, best(candidates, options.top))
            })
            .collect();
        let mut out = Vec::new();
        for (i, list) in ranked {
            let q = &queries[i as usize];
            stats.matched += usize::from(!list.is_empty());
            for (rank, c) in list.into_iter().enumerate() {
                let s = &stored[&c.pos];
                out.push(Neighbour {
                    query_id: q.id.clone(),
                    rank: rank + 1,
                    id: s.id.clone(),
                    similarity: c.similarity,
                    duplicate: settings.linked(&s.signed(), &q.signed()),
                    cluster_id: s.cluster,
                    preview: s.preview.clone(),
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_are_kept_best_first_and_ties_go_to_the_older() {
        let c = |similarity, pos| Candidate { similarity, pos };
        let all = [c(0.5, 7), c(0.9, 3), c(0.5, 2), c(0.7, 9), c(0.1, 1)];
        let top: Vec<(f64, u64)> = best(all.into_iter(), 3)
            .iter()
            .map(|c| (c.similarity, c.pos))
            .collect();
        assert_eq!(top, [(0.9, 3), (0.7, 9), (0.5, 2)]);
        assert_eq!(best(all.into_iter(), 10).len(), 5);
    }
}
