//! The part of the window beyond the memory budget: its oldest documents, in a temporary
//! SQLite database on disk, still found by their band keys.
//!
//! When the window holds more than the budget (`--memory-limit`), [`super::Engine`] moves its
//! oldest documents here, oldest first. Every document here is therefore older than every
//! document in memory, and a lookup asks this part first: walking each of the new document's
//! band keys in position order (the keys table is ordered by band, key, position) and merging
//! the walks, it verifies candidates in position order and stops at the first linked one,
//! exactly as the window in memory does. A key's positions are read in pages that grow (8,
//! 32, … 1,024), so that a window full of copies of one text still answers after one page and
//! one verification. Documents leave in the same two ways as from memory: the oldest first
//! when the window holds more than its count, and by date.
//!
//! The database is SQLite's private temporary database, in the folder the budget names: SQLite
//! removes the file's name as it creates it, so nothing is left behind however the process
//! ends. It keeps a small page cache; the rest is on disk.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use super::window::Entry;
use super::SignedDoc;
use crate::cross::Heads;
use crate::error::{Error, Result};
use crate::settings::{Settings, Signed, Traits};

/// Pages of the database kept in memory (KiB).
const CACHE_KIB: i64 = 16 * 1024;

/// Writes between commits: a commit lets SQLite write out and forget dirty pages.
const WRITES_PER_COMMIT: usize = 4096;

/// A key's positions are read this many at first, then four times as many per page, up to
/// [`LAST_PAGE`].
const FIRST_PAGE: usize = 8;
const LAST_PAGE: usize = 1024;

/// Documents read back and deleted at once when the window evicts from disk.
const DELETED_AT_ONCE: usize = 1024;

const SCHEMA: &str = "
CREATE TABLE docs (
    pos      INTEGER PRIMARY KEY,
    cluster  INTEGER NOT NULL,
    id       TEXT NOT NULL,
    traits   BLOB NOT NULL,
    words    BLOB NOT NULL,
    shingles BLOB,
    date     INTEGER,
    sig      BLOB NOT NULL
);
CREATE INDEX docs_date ON docs (date) WHERE date IS NOT NULL;
CREATE TABLE keys (
    band INTEGER NOT NULL,
    key  INTEGER NOT NULL,
    pos  INTEGER NOT NULL,
    PRIMARY KEY (band, key, pos)
) WITHOUT ROWID;
";

/// A document read back for verification.
struct Row {
    pos: u64,
    cluster: u64,
    id: String,
    doc: SignedDoc,
}

/// The earliest linked document found on disk.
pub(crate) struct Found {
    pub position: u64,
    pub id: String,
    pub cluster_id: u64,
    pub similarity: f64,
}

/// One band key's walk through its positions during a lookup.
struct Walk {
    band: i64,
    key: i64,
    /// Positions read and not yet taken, in order.
    page: std::collections::VecDeque<u64>,
    /// The last position read; the next page starts after it.
    last: i64,
    /// The size of the next page.
    next: usize,
    done: bool,
}

/// The window's documents on disk.
pub(crate) struct Cold {
    conn: Connection,
    folder: std::path::PathBuf,
    heads: Heads,
    len: usize,
    writes: usize,
    verified: u64,
}

impl std::fmt::Debug for Cold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cold")
            .field("folder", &self.folder)
            .field("len", &self.len)
            .finish()
    }
}

impl Cold {
    /// An empty store whose file goes in `folder`.
    pub(crate) fn open(settings: &Settings, folder: &Path) -> Result<Cold> {
        let fail = |e: rusqlite::Error| error(folder, e);
        let dir = folder.to_str().ok_or_else(|| {
            Error::Config(format!(
                "--temp-dir {}: the folder's name is not UTF-8, which SQLite needs",
                folder.display()
            ))
        })?;
        // An empty name opens SQLite's private temporary database, which goes to the
        // temporary folder set here (for this process) and is unlinked as it is created.
        let conn = Connection::open("").map_err(fail)?;
        // Statements are cached by their text, which depends on a document's number of keys.
        conn.set_prepared_statement_cache_capacity(64);
        conn.pragma_update(None, "temp_store_directory", dir)
            .map_err(fail)?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB)
            .map_err(fail)?;
        conn.pragma_update(None, "journal_mode", "OFF")
            .map_err(fail)?;
        conn.pragma_update(None, "synchronous", "OFF")
            .map_err(fail)?;
        conn.execute_batch(SCHEMA).map_err(fail)?;
        conn.execute_batch("BEGIN").map_err(fail)?;
        Ok(Cold {
            conn,
            folder: folder.to_path_buf(),
            heads: Heads::new(settings),
            len: 0,
            writes: 0,
            verified: 0,
        })
    }

    /// Documents stored.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Candidate pairs verified on disk so far.
    pub(crate) fn verified(&self) -> u64 {
        self.verified
    }

    fn fail(&self, e: rusqlite::Error) -> Error {
        error(&self.folder, e)
    }

    /// Commits now and then, so that the page cache stays small.
    fn wrote(&mut self, n: usize) -> Result<()> {
        self.writes += n;
        if self.writes >= WRITES_PER_COMMIT {
            self.writes = 0;
            self.conn
                .execute_batch("COMMIT; BEGIN")
                .map_err(|e| self.fail(e))?;
        }
        Ok(())
    }

    /// Stores a document of the window, newer than every document stored before, with its
    /// signature and its band keys ([`Heads::stored_keys`]).
    pub(crate) fn push(&mut self, entry: &Entry, sig: &[u32], keys: &[(usize, u64)]) -> Result<()> {
        let result = (|| -> rusqlite::Result<()> {
            self.conn
                .prepare_cached(
                    "INSERT INTO docs (pos, cluster, id, traits, words, shingles, date, sig) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    entry.position as i64,
                    entry.cluster_id as i64,
                    entry.id,
                    traits_blob(&entry.traits),
                    u64s_blob(&entry.words),
                    entry.set.as_deref().map(u64s_blob),
                    entry.date,
                    sig.iter()
                        .flat_map(|v| v.to_le_bytes())
                        .collect::<Vec<u8>>(),
                ])?;
            if !keys.is_empty() {
                let sql = format!(
                    "INSERT INTO keys (band, key, pos) VALUES {}",
                    rows_of_three(keys.len())
                );
                let values = key_values(keys, entry.position);
                self.conn
                    .prepare_cached(&sql)?
                    .execute(rusqlite::params_from_iter(values))?;
            }
            Ok(())
        })();
        result.map_err(|e| self.fail(e))?;
        self.len += 1;
        self.wrote(1 + keys.len())
    }

    fn row(&self, pos: u64) -> rusqlite::Result<Option<Row>> {
        self.conn
            .prepare_cached(
                "SELECT cluster, id, traits, words, shingles, sig FROM docs WHERE pos = ?1",
            )?
            .query_row([pos as i64], |r| {
                Ok(Row {
                    pos,
                    cluster: r.get::<_, i64>(0)? as u64,
                    id: r.get(1)?,
                    doc: SignedDoc {
                        traits: traits_of(&r.get::<_, Vec<u8>>(2)?),
                        words: u64s_of(&r.get::<_, Vec<u8>>(3)?),
                        set: r.get::<_, Option<Vec<u8>>>(4)?.map(|b| u64s_of(&b)),
                        sig: r
                            .get::<_, Vec<u8>>(5)?
                            .chunks_exact(4)
                            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
                            .collect(),
                    },
                })
            })
            .optional()
    }

    /// The smallest position stored under each of `keys`, in order.
    fn first_positions(&self, keys: &[(usize, u64)]) -> rusqlite::Result<Vec<Option<u64>>> {
        let pairs = vec!["(?, ?)"; keys.len()].join(", ");
        let sql = format!(
            "WITH k (band, key) AS (VALUES {pairs}) SELECT (SELECT pos FROM keys \
             WHERE keys.band = k.band AND keys.key = k.key ORDER BY pos LIMIT 1) FROM k"
        );
        let values = keys.iter().flat_map(|&(b, k)| [b as i64, k as i64]);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
            r.get::<_, Option<i64>>(0)
        })?;
        rows.map(|r| r.map(|p| p.map(|p| p as u64))).collect()
    }

    /// Reads the next page of a walk.
    fn refill(&self, walk: &mut Walk) -> rusqlite::Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT pos FROM keys WHERE band = ?1 AND key = ?2 AND pos > ?3 ORDER BY pos LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![walk.band, walk.key, walk.last, walk.next as i64],
            |r| r.get::<_, i64>(0),
        )?;
        let mut n = 0;
        for pos in rows {
            let pos = pos?;
            walk.page.push_back(pos as u64);
            walk.last = pos;
            n += 1;
        }
        if n < walk.next {
            walk.done = true;
        }
        walk.next = (walk.next * 4).min(LAST_PAGE);
        Ok(())
    }

    /// The earliest stored document (smallest position) that is an LSH candidate of `doc`
    /// (shares one of `keys`) and linked to it under `settings`: candidates are verified in
    /// position order, each once, and the search stops at the first linked one.
    pub(crate) fn first_linked(
        &mut self,
        doc: &Signed<'_>,
        keys: &[(usize, u64)],
        settings: &Settings,
    ) -> Result<Option<Found>> {
        if doc.traits.is_empty() || self.len == 0 {
            return Ok(None);
        }
        let result = (|| -> rusqlite::Result<Option<Found>> {
            // One statement finds each key's oldest position: most documents have no
            // candidate at all, and in a flood of copies the oldest one links.
            let mut walks: Vec<Walk> = Vec::new();
            for (&(band, key), first) in keys.iter().zip(self.first_positions(keys)?) {
                if let Some(first) = first {
                    walks.push(Walk {
                        band: band as i64,
                        key: key as i64,
                        page: [first].into(),
                        last: first as i64,
                        next: FIRST_PAGE,
                        done: false,
                    });
                }
            }
            loop {
                let mut next: Option<u64> = None;
                for walk in walks.iter_mut() {
                    if walk.page.is_empty() && !walk.done {
                        self.refill(walk)?;
                    }
                    if let Some(&p) = walk.page.front() {
                        next = Some(next.map_or(p, |n| n.min(p)));
                    }
                }
                let Some(pos) = next else {
                    return Ok(None);
                };
                // A position under several keys is verified once.
                for walk in walks.iter_mut() {
                    if walk.page.front() == Some(&pos) {
                        walk.page.pop_front();
                    }
                }
                let Some(row) = self.row(pos)? else {
                    continue;
                };
                self.verified += 1;
                if settings.linked(&row.doc.signed(), doc) {
                    return Ok(Some(Found {
                        position: row.pos,
                        similarity: settings.similarity(&row.doc.signed(), doc),
                        id: row.id,
                        cluster_id: row.cluster,
                    }));
                }
            }
        })();
        result.map_err(|e| self.fail(e))
    }

    /// Deletes the documents that `select` returns (a query of positions, ?1 bound to `param`
    /// and ?2 to a limit), and their keys, [`DELETED_AT_ONCE`] at a time until fewer come back or
    /// `most` are gone; returns how many. Only a slice of them is ever in memory, however far
    /// a date jumps.
    fn delete(&mut self, select: &str, param: i64, most: usize) -> Result<usize> {
        let mut deleted = 0;
        while deleted < most {
            let limit = DELETED_AT_ONCE.min(most - deleted);
            let n = self.delete_some(select, param, limit)?;
            deleted += n;
            if n < limit {
                break;
            }
        }
        Ok(deleted)
    }

    fn delete_some(&mut self, select: &str, param: i64, limit: usize) -> Result<usize> {
        let result = (|| -> rusqlite::Result<Vec<Row>> {
            let positions: Vec<i64> = self
                .conn
                .prepare_cached(select)?
                .query_map(params![param, limit as i64], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut rows = Vec::with_capacity(positions.len());
            for pos in positions {
                if let Some(row) = self.row(pos as u64)? {
                    rows.push(row);
                }
            }
            Ok(rows)
        })();
        let rows = result.map_err(|e| self.fail(e))?;
        let mut writes = 0;
        for row in &rows {
            let keys = self.heads.stored_keys(&row.doc.signed());
            let result = (|| -> rusqlite::Result<()> {
                if !keys.is_empty() {
                    // Terms joined by OR are each a search of the primary key (a row-value
                    // IN list would scan the table).
                    let terms = vec!["(band = ? AND key = ? AND pos = ?)"; keys.len()];
                    let sql = format!("DELETE FROM keys WHERE {}", terms.join(" OR "));
                    let values = key_values(&keys, row.pos);
                    self.conn
                        .prepare_cached(&sql)?
                        .execute(rusqlite::params_from_iter(values))?;
                }
                self.conn
                    .prepare_cached("DELETE FROM docs WHERE pos = ?1")?
                    .execute([row.pos as i64])?;
                Ok(())
            })();
            result.map_err(|e| self.fail(e))?;
            writes += 1 + keys.len();
        }
        self.len -= rows.len();
        self.wrote(writes)?;
        Ok(rows.len())
    }

    /// Deletes the `n` oldest documents; returns how many there were.
    pub(crate) fn evict_oldest(&mut self, n: usize) -> Result<usize> {
        if n == 0 || self.len == 0 {
            return Ok(0);
        }
        let n = n.min(self.len);
        // No value to compare: ?1 is bound and unused.
        self.delete("SELECT pos FROM docs ORDER BY pos LIMIT ?2", 0, n)
    }

    /// Deletes every document dated before `cutoff`; returns how many.
    pub(crate) fn evict_before(&mut self, cutoff: i64) -> Result<usize> {
        if self.len == 0 {
            return Ok(0);
        }
        self.delete(
            "SELECT pos FROM docs WHERE date IS NOT NULL AND date < ?1 ORDER BY pos LIMIT ?2",
            cutoff,
            usize::MAX,
        )
    }
}

/// `(?, ?, ?), …` for `n` rows.
fn rows_of_three(n: usize) -> String {
    vec!["(?, ?, ?)"; n].join(", ")
}

/// The parameters of [`rows_of_three`] for `keys` at `pos`.
fn key_values(keys: &[(usize, u64)], pos: u64) -> Vec<i64> {
    keys.iter()
        .flat_map(|&(band, key)| [band as i64, key as i64, pos as i64])
        .collect()
}

fn error(folder: &Path, e: rusqlite::Error) -> Error {
    Error::Io {
        path: folder.to_path_buf(),
        source: std::io::Error::other(format!(
            "the window's temporary database in this folder failed: {e}"
        )),
    }
}

fn traits_blob(t: &Traits) -> Vec<u8> {
    let mut out = Vec::with_capacity(23);
    out.extend(t.shingles.to_le_bytes());
    out.push(u8::from(t.short));
    out.extend(t.numbers.to_le_bytes());
    out.extend(t.head.to_le_bytes());
    out.extend(t.head_numbers.to_le_bytes());
    out
}

fn traits_of(b: &[u8]) -> Traits {
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    Traits {
        shingles: u32::from_le_bytes(b[0..4].try_into().expect("4 bytes")),
        short: b[4] != 0,
        numbers: u64_at(5),
        head: u16::from_le_bytes(b[13..15].try_into().expect("2 bytes")),
        head_numbers: u64_at(15),
    }
}

fn u64s_blob(v: &[u64]) -> Vec<u8> {
    v.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn u64s_of(b: &[u8]) -> Vec<u64> {
    b.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store holding `n` documents of one signature, the i-th dated i.
    fn store_of(n: u64, folder: &Path) -> Cold {
        let settings = Settings::default();
        let mut cold = Cold::open(&settings, folder).unwrap();
        let sig = vec![7u32; settings.sig_len()];
        let traits = Traits {
            shingles: 10,
            ..Traits::default()
        };
        for i in 0..n {
            let doc = Signed {
                sig: &sig,
                traits,
                words: &[],
                set: None,
            };
            let keys = cold.heads.stored_keys(&doc);
            let entry = crate::filter::window::entry(i, i, &format!("d{i}"), &doc, Some(i as i64));
            cold.push(&entry, &sig, &keys).unwrap();
        }
        cold
    }

    #[test]
    fn evictions_beyond_one_slice_delete_every_document_asked() {
        let folder = tempfile::tempdir().unwrap();
        let n = 2 * DELETED_AT_ONCE as u64 + 300;
        let mut cold = store_of(n, folder.path());
        assert_eq!(
            cold.evict_oldest(DELETED_AT_ONCE + 10).unwrap(),
            DELETED_AT_ONCE + 10
        );
        assert_eq!(cold.len(), (n as usize) - DELETED_AT_ONCE - 10);
        // Every date before the last: all but one go, in several slices.
        let all_but_one = cold.len() - 1;
        assert_eq!(cold.evict_before(n as i64 - 1).unwrap(), all_but_one);
        assert_eq!(cold.len(), 1);
        let keys: i64 = cold
            .conn
            .query_row("SELECT count(*) FROM keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(keys as usize, Settings::default().lsh.bands);
    }

    #[test]
    fn traits_survive_the_round_trip() {
        let t = Traits {
            shingles: 70_000,
            short: true,
            numbers: u64::MAX - 5,
            head: 513,
            head_numbers: 0x0123_4567_89ab_cdef,
        };
        assert_eq!(traits_of(&traits_blob(&t)), t);
    }
}
