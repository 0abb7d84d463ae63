//! One document at a time: what a stream (the `filter` command) needs of an index.
//!
//! [`Index::first_match`] looks up one signed document by its band keys and returns the
//! earliest indexed document linked to it, the same lookups and rule as `add` uses.
//! [`Appender`] stores documents that matched nothing, in batches that are each one
//! transaction, with a batch row like `add`'s, so that `stats` and a killed run behave as
//! after `add`.
//!
//! Storing a document as unmatched keeps the index's invariant (clusters are the connected
//! components of linked candidates) only when the document is linked to no indexed candidate.
//! [`Appender::begin`] takes the write lock before the documents of a batch are looked up, so
//! no other writer can add a document in between that a later one of the batch would match.

use rusqlite::params;

use super::schema::{self, NOW};
use super::store;
use super::Index;
use crate::error::Result;
use crate::settings::Signed;

/// The indexed document that a new document repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexMatch {
    /// Its position in the index.
    pub position: u64,
    /// Its id.
    pub id: String,
    /// The id of its cluster (its own position when it is in none).
    pub cluster: u64,
    /// The similarity of the new document to it.
    pub similarity: f64,
}

impl Index {
    /// The earliest indexed document (smallest position) that shares a band key with `doc`
    /// and is linked to it ([`crate::settings::Settings::linked`] with the index's settings);
    /// `None` for a document empty after normalization or without such a match.
    ///
    /// Inside an open [`Appender`] batch, the documents appended so far are found too.
    pub fn first_match(&self, doc: &Signed<'_>) -> Result<Option<IndexMatch>> {
        self.first_match_inner(doc).map_err(|e| self.sql(e))
    }

    fn first_match_inner(&self, doc: &Signed<'_>) -> rusqlite::Result<Option<IndexMatch>> {
        if doc.traits.is_empty() {
            return Ok(None);
        }
        let k = self.settings.sig_len();
        let mut lookup = self.conn.prepare_cached(schema::LOOKUP_BAND_KEY)?;
        let mut found: Vec<u64> = Vec::new();
        for (band, key) in self.heads.stored_keys(doc) {
            let rows = lookup.query_map(params![band as i64, key as i64], |r| {
                r.get::<_, i64>(0).map(|p| p as u64)
            })?;
            for p in rows {
                found.push(p?);
            }
        }
        found.sort_unstable();
        found.dedup();
        for pos in found {
            let Some(row) = store::document(&self.conn, pos, k)? else {
                continue;
            };
            if self.settings.linked(&row.signed(), doc) {
                return Ok(Some(IndexMatch {
                    position: pos,
                    similarity: self.settings.similarity(&row.signed(), doc),
                    id: row.id,
                    cluster: row.cluster,
                }));
            }
        }
        Ok(None)
    }

    /// True when a document with id `id` is indexed.
    pub fn contains_id(&self, id: &str) -> Result<bool> {
        store::position(&self.conn, id)
            .map(|p| p.is_some())
            .map_err(|e| self.sql(e))
    }

    /// The position the next added document would take.
    pub fn next_position(&self) -> Result<u64> {
        store::next_pos(&self.conn).map_err(|e| self.sql(e))
    }
}

/// A document to store as matching nothing in the index.
#[derive(Debug, Clone, Copy)]
pub struct Unmatched<'a> {
    /// Its id (not yet in the index: see [`Index::contains_id`]).
    pub id: &'a str,
    /// Its signature and what verification needs.
    pub signed: Signed<'a>,
    /// The length of its original text in characters.
    pub chars: u64,
    /// The first words of its original text.
    pub preview: &'a str,
    /// Where it was read (`file:line`).
    pub source: &'a str,
}

/// Stores unmatched documents in batches, each one transaction.
#[derive(Debug)]
pub struct Appender {
    inputs: String,
    batch: Option<i64>,
    added: usize,
    skipped: usize,
    records: usize,
    last_pos: Option<u64>,
}

impl Appender {
    /// An appender whose batches record `inputs` as their inputs.
    pub fn new(inputs: &[String]) -> Appender {
        Appender {
            inputs: serde_json::to_string(inputs).expect("names serialize"),
            batch: None,
            added: 0,
            skipped: 0,
            records: 0,
            last_pos: None,
        }
    }

    /// True while a batch is open.
    pub fn is_open(&self) -> bool {
        self.batch.is_some()
    }

    /// Documents appended to the open batch.
    pub fn pending(&self) -> usize {
        self.added
    }

    /// Input records the open batch covers ([`record`](Self::record)).
    pub fn records(&self) -> usize {
        self.records
    }

    /// Opens a batch unless one is open: takes the index's write lock (waiting for another
    /// writer up to the busy timeout) and returns the next free position, which later
    /// appends must not go below.
    pub fn begin(&mut self, index: &Index) -> Result<u64> {
        let mut run = || -> rusqlite::Result<u64> {
            if self.batch.is_none() {
                index.conn.execute_batch("BEGIN IMMEDIATE")?;
                let batch =
                    index
                        .conn
                        .query_row("SELECT coalesce(max(id), 0) + 1 FROM batches", [], |r| {
                            r.get(0)
                        });
                match batch {
                    Ok(b) => self.batch = Some(b),
                    Err(e) => {
                        let _ = index.conn.execute_batch("ROLLBACK");
                        return Err(e);
                    }
                }
            }
            store::next_pos(&index.conn)
        };
        run().map_err(|e| index.sql(e))
    }

    /// Counts one more input record covered by the open batch.
    pub fn record(&mut self) {
        self.records += 1;
    }

    /// Counts a document that was not stored because its id is already indexed.
    pub fn skip(&mut self) {
        self.skipped += 1;
    }

    /// Stores `doc` at `position` (at least the position [`begin`](Self::begin) returned,
    /// and above every earlier append) as a document in no cluster, with its band keys.
    ///
    /// The caller guarantees that `doc` is linked to no indexed document that shares a band
    /// key with it ([`Index::first_match`] returned `None` inside this batch), so that the
    /// clusters stay those of `add`. Panics when no batch is open.
    pub fn append(&mut self, index: &Index, position: u64, doc: &Unmatched<'_>) -> Result<()> {
        let batch = self.batch.expect("append inside an open batch");
        let run = || -> rusqlite::Result<()> {
            let mut insert_doc = index.conn.prepare_cached(&format!(
                "INSERT INTO documents (pos, id, cluster, signature, shingles, chars, added, \
                 batch, source, preview, fields, short, numbers, words, head, head_numbers) \
                 VALUES (?1, ?2, ?1, ?3, ?4, ?5, {NOW}, ?6, ?7, ?8, NULL, ?9, ?10, ?11, ?12, ?13)"
            ))?;
            let s = &doc.signed;
            insert_doc.execute(params![
                position as i64,
                doc.id,
                store::signature_blob(s.sig),
                s.traits.shingles as i64,
                doc.chars as i64,
                batch,
                doc.source,
                doc.preview,
                i64::from(s.traits.short),
                s.traits.numbers as i64,
                store::words_blob(s.words),
                i64::from(s.traits.head),
                s.traits.head_numbers as i64,
            ])?;
            let mut insert_key = index.conn.prepare_cached(schema::INSERT_BAND_KEY)?;
            for (band, key) in index.heads.stored_keys(s) {
                insert_key.execute(params![band as i64, key as i64, position as i64])?;
            }
            Ok(())
        };
        run().map_err(|e| index.sql(e))?;
        self.added += 1;
        self.last_pos = Some(self.last_pos.map_or(position, |p| p.max(position)));
        Ok(())
    }

    /// Commits the open batch, moving the index's next free position to at least
    /// `next_position` (so that positions handed out without storing are never reused), and
    /// returns what it held; a batch that stored nothing is rolled back and gives `None`.
    pub fn commit(&mut self, index: &Index, next_position: u64) -> Result<Option<super::Commit>> {
        let Some(batch) = self.batch else {
            return Ok(None);
        };
        let run = || -> rusqlite::Result<Option<super::Commit>> {
            if self.added == 0 {
                index.conn.execute_batch("ROLLBACK")?;
                return Ok(None);
            }
            let stored = store::next_pos(&index.conn)?;
            let next = stored
                .max(next_position)
                .max(self.last_pos.map_or(0, |p| p + 1));
            store::set_next_pos(&index.conn, next)?;
            store::settle_band_keys(&index.conn, next)?;
            index.conn.execute(
                &format!(
                    "INSERT INTO batches (id, committed, documents, skipped, replaced, inputs) \
                     VALUES (?1, {NOW}, ?2, ?3, 0, ?4)"
                ),
                params![batch, self.added as i64, self.skipped as i64, self.inputs],
            )?;
            index.conn.execute_batch("COMMIT")?;
            let indexed = index
                .conn
                .query_row("SELECT count(*) FROM documents", [], |r| r.get::<_, i64>(0))?;
            Ok(Some(super::Commit {
                batch: batch as u64,
                records: self.records,
                added: self.added,
                indexed: indexed as u64,
            }))
        };
        let result = run();
        self.batch = None;
        self.added = 0;
        self.skipped = 0;
        self.records = 0;
        self.last_pos = None;
        match result {
            Ok(c) => Ok(c),
            Err(e) => {
                let _ = index.conn.execute_batch("ROLLBACK");
                Err(index.sql(e))
            }
        }
    }

    /// Rolls the open batch back.
    pub fn rollback(&mut self, index: &Index) {
        if self.batch.take().is_some() {
            let _ = index.conn.execute_batch("ROLLBACK");
        }
        self.added = 0;
        self.skipped = 0;
        self.records = 0;
        self.last_pos = None;
    }
}
