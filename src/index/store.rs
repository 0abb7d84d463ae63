//! Rows in and out of the SQLite file: meta, documents with their signatures, band keys,
//! clusters, and whole-index views (statistics, export).

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::schema::{self, NOW};
use super::{Access, Index};
use crate::cluster::Representative;
use crate::error::Result;
use crate::pipeline::Settings;
use crate::report::{Cluster, Member, Params, Report};
use crate::settings::{Signed, Traits};

/// The hash of the settings JSON stored next to it, so an edited or damaged file is noticed.
pub(super) fn settings_hash(json: &str) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(json.as_bytes()))
}

/// Lays out a new, empty index.
pub(super) fn initialize(conn: &Connection, settings: &Settings) -> rusqlite::Result<()> {
    conn.pragma_update(None, "application_id", schema::APPLICATION_ID)?;
    conn.pragma_update(None, "user_version", schema::FORMAT_VERSION)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.execute_batch(schema::SCHEMA)?;
    conn.execute_batch(schema::BATCH_LOG)?;
    let json = serde_json::to_string(settings).expect("settings serialize");
    let rows: [(&str, String); 8] = [
        ("application", schema::APPLICATION.into()),
        ("format_version", schema::FORMAT_VERSION.to_string()),
        ("oldest_supported", schema::READABLE_FROM.to_string()),
        ("settings_hash", settings_hash(&json)),
        ("settings", json),
        ("mukarrar_version", env!("CARGO_PKG_VERSION").into()),
        ("next_pos", "0".into()),
        ("bands_merged_below", "0".into()),
    ];
    for (key, value) in rows {
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)",
            params![key, value],
        )?;
    }
    conn.execute(
        &format!("INSERT INTO meta (key, value) VALUES ('created', {NOW})"),
        [],
    )?;
    Ok(())
}

/// Adds the tables that a file written by an older mukarrar of the same format lacks.
pub(super) fn complete(conn: &Connection) -> rusqlite::Result<()> {
    let has_log: bool = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE name = 'batch_clusters'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has_log {
        conn.execute_batch(schema::BATCH_LOG)?;
    }
    Ok(())
}

/// Connection settings: WAL is a property of the file; the rest is per connection.
pub(super) fn tune(conn: &Connection, access: Access) -> rusqlite::Result<()> {
    // FULL makes each commit durable across a power cut too, at one fsync per commit.
    conn.pragma_update(None, "synchronous", "FULL")?;
    let cache_kib: i64 = match access {
        Access::ReadOnly => 64 * 1024,
        Access::ReadWrite => 256 * 1024,
    };
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    // Band-key lookups read pages all over the file: mapping it spares a read call and a copy
    // per page.
    conn.pragma_update(None, "mmap_size", 1i64 << 36)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Each page's cells are checked as the page is read: damage is reported as such
    // wherever a command reads, at little cost.
    conn.pragma_update(None, "cell_size_check", true)?;
    Ok(())
}

/// A signature as stored: little-endian `u32`s.
pub(super) fn signature_blob(sig: &[u32]) -> Vec<u8> {
    sig.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Reads a stored signature into `out` (which has the signature length).
pub(super) fn read_signature(blob: &[u8], out: &mut Vec<u32>, k: usize) -> rusqlite::Result<()> {
    if blob.len() != 4 * k {
        return Err(rusqlite::Error::InvalidColumnType(
            0,
            format!("signature of {} bytes, expected {}", blob.len(), 4 * k),
            rusqlite::types::Type::Blob,
        ));
    }
    out.clear();
    out.extend(
        blob.chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
    );
    Ok(())
}

/// The next free position (positions are never reused, so it is kept in `meta`).
pub(super) fn next_pos(conn: &Connection) -> rusqlite::Result<u64> {
    let v: String = conn.query_row("SELECT value FROM meta WHERE key = 'next_pos'", [], |r| {
        r.get(0)
    })?;
    v.parse().map_err(|_| {
        rusqlite::Error::InvalidColumnType(0, "next_pos".into(), rusqlite::types::Type::Text)
    })
}

pub(super) fn set_next_pos(conn: &Connection, pos: u64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'next_pos'",
        [pos.to_string()],
    )?;
    Ok(())
}

/// Before a commit (inside its transaction), with `next` the index's next free position:
/// moves every key of `bands_recent` into `bands` when the recent keys cover more than
/// 1 / [`schema::RECENT_SHARE`] of the positions that `bands` covers. Returns whether it did.
///
/// The keys move in key order, so each page of `bands` is written once however many keys
/// land on it; between merges an add writes only to the small table.
pub(super) fn settle_band_keys(conn: &Connection, next: u64) -> rusqlite::Result<bool> {
    let below: String = conn.query_row(
        "SELECT value FROM meta WHERE key = 'bands_merged_below'",
        [],
        |r| r.get(0),
    )?;
    let below: u64 = below.parse().map_err(|_| {
        rusqlite::Error::InvalidColumnType(
            0,
            "bands_merged_below".into(),
            rusqlite::types::Type::Text,
        )
    })?;
    let recent = next.saturating_sub(below);
    if recent == 0 || recent.saturating_mul(schema::RECENT_SHARE) <= below {
        return Ok(false);
    }
    conn.execute_batch(
        "INSERT INTO bands (band, key, pos) \
         SELECT band, key, pos FROM bands_recent ORDER BY band, key, pos; \
         DELETE FROM bands_recent;",
    )?;
    conn.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'bands_merged_below'",
        [next.to_string()],
    )?;
    Ok(true)
}

/// A short text's word hashes as stored: little-endian `u64`s.
pub(super) fn words_blob(words: &[u64]) -> Option<Vec<u8>> {
    (!words.is_empty()).then(|| words.iter().flat_map(|w| w.to_le_bytes()).collect())
}

fn read_words(blob: Option<&[u8]>) -> rusqlite::Result<Vec<u64>> {
    let Some(blob) = blob else {
        return Ok(Vec::new());
    };
    if blob.len() % 8 != 0 {
        return Err(rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Blob,
            format!("words of {} bytes, not a multiple of 8", blob.len()).into(),
        ));
    }
    Ok(blob
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect())
}

/// One stored document, as far as clustering and reports need it.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub pos: u64,
    pub id: String,
    pub cluster: u64,
    pub signature: Vec<u32>,
    pub traits: Traits,
    pub words: Vec<u64>,
    pub chars: u64,
    pub preview: String,
}

impl Row {
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

const ROW_COLUMNS: &str =
    "pos, id, cluster, signature, shingles, chars, preview, short, numbers, words, head, head_numbers";

fn row(r: &rusqlite::Row<'_>, k: usize) -> rusqlite::Result<Row> {
    let mut signature = Vec::with_capacity(k);
    read_signature(r.get_ref(3)?.as_blob()?, &mut signature, k)?;
    Ok(Row {
        pos: r.get::<_, i64>(0)? as u64,
        id: r.get(1)?,
        cluster: r.get::<_, i64>(2)? as u64,
        signature,
        traits: Traits {
            shingles: r.get::<_, i64>(4)? as u32,
            short: r.get::<_, i64>(7)? != 0,
            numbers: r.get::<_, i64>(8)? as u64,
            head: r.get::<_, i64>(10)? as u16,
            head_numbers: r.get::<_, i64>(11)? as u64,
        },
        words: read_words(r.get_ref(9)?.as_blob_or_null()?)?,
        chars: r.get::<_, i64>(5)? as u64,
        preview: r.get(6)?,
    })
}

/// The documents whose cluster id is `cluster`, by position.
pub(super) fn members(conn: &Connection, cluster: u64, k: usize) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ROW_COLUMNS} FROM documents WHERE cluster = ?1 ORDER BY pos"
    ))?;
    let rows = stmt.query_map([cluster as i64], |r| row(r, k))?;
    rows.collect()
}

/// The document at `pos`.
pub(super) fn document(conn: &Connection, pos: u64, k: usize) -> rusqlite::Result<Option<Row>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ROW_COLUMNS} FROM documents WHERE pos = ?1"
    ))?;
    stmt.query_row([pos as i64], |r| row(r, k)).optional()
}

/// The position of the document with id `id`.
pub(super) fn position(conn: &Connection, id: &str) -> rusqlite::Result<Option<u64>> {
    let mut stmt = conn.prepare_cached("SELECT pos FROM documents WHERE id = ?1")?;
    stmt.query_row([id], |r| r.get::<_, i64>(0).map(|p| p as u64))
        .optional()
}

/// The representative of `members` (sorted by position) under `rule`, as
/// [`crate::cluster::groups`] picks it: the first, or the longest (the first of equals).
pub(super) fn representative(members: &[(u64, u64)], rule: Representative) -> u64 {
    match rule {
        Representative::First => members.iter().map(|m| m.0).min().unwrap_or(0),
        Representative::Longest => {
            let mut best = members[0];
            for &m in &members[1..] {
                if m.1 > best.1 || (m.1 == best.1 && m.0 < best.0) {
                    best = m;
                }
            }
            best.0
        }
    }
}

/// Counts and facts about an index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexStats {
    /// The format version of the file.
    pub format_version: u32,
    /// The oldest format version this mukarrar reads.
    pub oldest_supported: u32,
    /// When the index was created (UTC).
    pub created: String,
    /// The settings it was created with.
    pub settings: Settings,
    /// Documents stored.
    pub documents: u64,
    /// Documents empty after normalization (stored, never clustered).
    pub empty: u64,
    /// Clusters of two or more documents.
    pub clusters: u64,
    /// Documents in clusters of two or more.
    pub clustered: u64,
    /// Documents that repeat an earlier one: `clustered − clusters`.
    pub duplicates: u64,
    /// The size of the largest cluster.
    pub largest_cluster: u64,
    /// Band keys stored.
    pub band_keys: u64,
    /// Committed batches so far.
    pub batches: u64,
    /// When the last batch was committed (UTC).
    pub last_commit: Option<String>,
    /// The earliest and latest first-seen times of the stored documents (UTC).
    pub first_seen: Option<(String, String)>,
}

pub(super) fn stats(
    conn: &Connection,
    settings: &Settings,
    format_version: u32,
) -> rusqlite::Result<IndexStats> {
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0).map(|v| v as u64));
    let created: String =
        conn.query_row("SELECT value FROM meta WHERE key = 'created'", [], |r| {
            r.get(0)
        })?;
    let (clusters, clustered, largest): (i64, i64, i64) = conn.query_row(
        "SELECT count(*), coalesce(sum(size), 0), coalesce(max(size), 0) FROM clusters \
         WHERE merged_into IS NULL",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let first_seen = conn.query_row("SELECT min(added), max(added) FROM documents", [], |r| {
        Ok((
            r.get::<_, Option<String>>(0)?,
            r.get::<_, Option<String>>(1)?,
        ))
    })?;
    Ok(IndexStats {
        format_version,
        oldest_supported: schema::OLDEST_SUPPORTED,
        created,
        settings: settings.clone(),
        documents: count("SELECT count(*) FROM documents")?,
        empty: count("SELECT count(*) FROM documents WHERE shingles = 0")?,
        clusters: clusters as u64,
        clustered: clustered as u64,
        duplicates: (clustered - clusters) as u64,
        largest_cluster: largest as u64,
        band_keys: count(
            "SELECT (SELECT count(*) FROM bands) + (SELECT count(*) FROM bands_recent)",
        )?,
        batches: count("SELECT count(*) FROM batches")?,
        last_commit: conn.query_row("SELECT max(committed) FROM batches", [], |r| r.get(0))?,
        first_seen: match first_seen {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        },
    })
}

impl Index {
    /// Every cluster in the index, as the report of `mukarrar cluster` over the same documents
    /// would list them (with `include_singletons`, every other document as a cluster of one).
    /// The report's inputs name the index file; its stats count the index's documents.
    pub fn export(&self, include_singletons: bool) -> Result<Report> {
        self.export_inner(include_singletons)
            .map_err(|e| self.sql(e))
    }

    fn export_inner(&self, include_singletons: bool) -> rusqlite::Result<Report> {
        let k = self.settings.sig_len();
        let mut clusters = Vec::new();
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ROW_COLUMNS} FROM documents ORDER BY cluster, pos"
        ))?;
        let mut rows = stmt.query_map([], |r| row(r, k))?.peekable();
        let mut stats = crate::pipeline::Stats::default();
        while let Some(first) = rows.next() {
            let mut group = vec![first?];
            while let Some(Ok(next)) = rows.peek() {
                if next.cluster != group[0].cluster {
                    break;
                }
                group.push(rows.next().expect("peeked")?);
            }
            stats.documents += group.len();
            stats.empty += group.iter().filter(|d| d.traits.is_empty()).count();
            if group.len() < 2 && !include_singletons {
                continue;
            }
            if group.len() >= 2 {
                stats.clusters += 1;
                stats.clustered += group.len();
            }
            clusters.push(report_cluster(group[0].cluster, &group, &self.settings));
        }
        stats.duplicates = stats.clustered - stats.clusters;
        Ok(Report {
            params: Params {
                inputs: vec![self.path.display().to_string()],
                settings: self.settings.clone(),
            },
            stats,
            clusters,
        })
    }
}

/// One cluster of the `cluster` report model from its members (sorted by position).
pub(super) fn report_cluster(id: u64, members: &[Row], settings: &Settings) -> Cluster {
    let by_len: Vec<(u64, u64)> = members.iter().map(|m| (m.pos, m.chars)).collect();
    let rep_pos = representative(&by_len, settings.representative);
    let rep = members
        .iter()
        .find(|m| m.pos == rep_pos)
        .expect("representative is a member");
    Cluster {
        id,
        size: members.len(),
        representative: rep.id.clone(),
        members: members
            .iter()
            .map(|m| Member {
                id: m.id.clone(),
                similarity: if m.pos == rep.pos {
                    1.0
                } else {
                    settings.similarity(&rep.signed(), &m.signed())
                },
                is_representative: m.pos == rep.pos,
                preview: m.preview.clone(),
                empty: m.traits.is_empty() && members.len() == 1,
                text: None,
            })
            .collect(),
    }
}
