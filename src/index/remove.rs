//! Removing documents while keeping band keys and clusters consistent.
//!
//! A removed document takes its band keys with it. Its cluster may fall apart: the remaining
//! members are clustered again exactly as `cluster` would cluster them (their candidate pairs
//! verified against the threshold, connected components), which is correct because no edge
//! can join a member of one cluster to a document outside it. The part holding the oldest
//! remaining member keeps the cluster's id; every other part of two or more documents is named
//! after its own oldest member.

use std::collections::BTreeSet;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::schema::NOW;
use super::store::{self, Row};
use super::{index_error, Index};
use crate::cluster;
use crate::error::Result;
use crate::lsh;
use crate::pipeline::Settings;

/// What a removal did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Removal {
    /// Documents removed.
    pub removed: usize,
    /// Ids asked for that are not in the index.
    pub not_found: Vec<String>,
    /// The clusters that lost members, by id.
    pub clusters: Vec<ClusterAfterRemoval>,
    /// Documents left in the index.
    pub indexed: u64,
}

/// A cluster that lost members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterAfterRemoval {
    /// The cluster's id.
    pub id: u64,
    /// Its size before the removal.
    pub before: usize,
    /// The size of the part that keeps the id (below 2: the id no longer names a cluster).
    pub after: usize,
    /// Parts of two or more documents that split off, as (new id, size).
    pub split_into: Vec<(u64, usize)>,
}

impl Index {
    /// Removes the documents with the given ids, in one transaction.
    pub fn remove_ids(&mut self, ids: &[String]) -> Result<Removal> {
        self.removal(|conn| {
            let mut found = Vec::new();
            let mut missing = Vec::new();
            for id in ids {
                match store::position(conn, id)? {
                    Some(pos) => found.push(pos),
                    None => missing.push(id.clone()),
                }
            }
            Ok((found, missing))
        })
    }

    /// Removes every document first seen before `date` (an ISO 8601 date or time, UTC), in one
    /// transaction.
    pub fn remove_before(&mut self, date: &str) -> Result<Removal> {
        let when = self.timestamp(date)?;
        self.removal(|conn| {
            let mut stmt = conn.prepare("SELECT pos FROM documents WHERE added < ?1")?;
            let found = stmt
                .query_map([&when], |r| r.get::<_, i64>(0).map(|p| p as u64))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((found, Vec::new()))
        })
    }

    /// `date` (one of the forms [`crate::date::parse`] reads) as a stored timestamp
    /// (`YYYY-MM-DDTHH:MM:SS.sssZ`).
    pub(super) fn timestamp(&self, date: &str) -> Result<String> {
        crate::date::parse(date)
            .map(crate::date::to_stored)
            .map_err(|e| index_error(&self.path, e))
    }

    fn removal(
        &mut self,
        select: impl FnOnce(&Connection) -> rusqlite::Result<(Vec<u64>, Vec<String>)>,
    ) -> Result<Removal> {
        let settings = self.settings.clone();
        let conn = &self.conn;
        let run = || -> rusqlite::Result<Removal> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            let (found, not_found) = select(conn)?;
            let clusters = remove_positions(conn, &settings, &found)?;
            let indexed = conn
                .query_row("SELECT count(*) FROM documents", [], |r| r.get::<_, i64>(0))?
                as u64;
            conn.execute_batch("COMMIT")?;
            Ok(Removal {
                removed: found.len(),
                not_found,
                clusters,
                indexed,
            })
        };
        run().map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            self.sql(e)
        })
    }
}

/// Removes the documents at `positions` (inside the caller's transaction) and re-forms the
/// clusters they were in.
pub(super) fn remove_positions(
    conn: &Connection,
    settings: &Settings,
    positions: &[u64],
) -> rusqlite::Result<Vec<ClusterAfterRemoval>> {
    let k = settings.sig_len();
    let heads = crate::cross::Heads::new(settings);
    let mut affected = BTreeSet::new();
    let mut delete_key =
        conn.prepare_cached("DELETE FROM bands WHERE band = ?1 AND key = ?2 AND pos = ?3")?;
    let mut delete_recent_key =
        conn.prepare_cached("DELETE FROM bands_recent WHERE band = ?1 AND key = ?2 AND pos = ?3")?;
    let mut delete_doc = conn.prepare_cached("DELETE FROM documents WHERE pos = ?1")?;
    for &pos in positions {
        let Some(row) = store::document(conn, pos, k)? else {
            continue;
        };
        for (band, key) in heads.stored_keys(&row.signed()) {
            let (band, key) = (band as i64, key as i64);
            if delete_key.execute(params![band, key, pos as i64])? == 0 {
                delete_recent_key.execute(params![band, key, pos as i64])?;
            }
        }
        delete_doc.execute([pos as i64])?;
        if row.cluster != pos || cluster_size(conn, row.cluster)?.is_some() {
            affected.insert(row.cluster);
        }
    }
    let mut out = Vec::new();
    for id in affected {
        let before = cluster_size(conn, id)?.unwrap_or(1) as usize;
        let members = store::members(conn, id, k)?;
        let parts = components(&members, settings, &heads);
        let mut after = ClusterAfterRemoval {
            id,
            before,
            after: 0,
            split_into: Vec::new(),
        };
        for (n, part) in parts.iter().enumerate() {
            // Parts come ordered by their oldest member, so the first holds the oldest.
            let part_id = if n == 0 { id } else { members[part[0]].pos };
            if n == 0 {
                after.after = part.len();
            } else if part.len() >= 2 {
                after.split_into.push((part_id, part.len()));
            }
            if part.len() >= 2 {
                let by_len: Vec<(u64, u64)> = part
                    .iter()
                    .map(|&i| (members[i].pos, members[i].chars))
                    .collect();
                let rep = store::representative(&by_len, settings.representative);
                upsert_cluster(conn, part_id, part.len(), rep)?;
                if part_id != id {
                    for &i in part {
                        set_cluster(conn, members[i].pos, part_id)?;
                    }
                }
            } else {
                set_cluster(conn, members[part[0]].pos, members[part[0]].pos)?;
            }
        }
        if after.after < 2 {
            conn.execute("DELETE FROM clusters WHERE id = ?1", [id as i64])?;
        }
        out.push(after);
    }
    Ok(out)
}

/// The connected components of `members` (sorted by position) under the index's settings:
/// index lists into `members`, each sorted, ordered by their first element; documents in no
/// pair come as parts of one.
fn components(
    members: &[Row],
    settings: &Settings,
    heads: &crate::cross::Heads,
) -> Vec<Vec<usize>> {
    let n = members.len();
    let sig = |i: usize| members[i].signature.as_slice();
    let buckets = lsh::buckets(settings.lsh, n, &|i| !members[i].traits.is_empty(), &sig);
    let linked = |a: u32, b: u32| {
        settings.linked(&members[a as usize].signed(), &members[b as usize].signed())
    };
    let mut uf = cluster::link(n, &buckets, &linked);
    let head = |i: usize| members[i].signed().head();
    crate::cross::link_heads(heads, n, &head, &mut uf, &linked);
    let mut parts: Vec<Vec<usize>> = uf
        .groups()
        .into_iter()
        .map(|g| g.into_iter().map(|i| i as usize).collect())
        .collect();
    let mut grouped = vec![false; n];
    for &i in parts.iter().flatten() {
        grouped[i] = true;
    }
    parts.extend((0..n).filter(|&i| !grouped[i]).map(|i| vec![i]));
    parts.sort_by_key(|p| p[0]);
    parts
}

/// The size of live cluster `id`, when there is one.
pub(super) fn cluster_size(conn: &Connection, id: u64) -> rusqlite::Result<Option<u64>> {
    let mut stmt =
        conn.prepare_cached("SELECT size FROM clusters WHERE id = ?1 AND merged_into IS NULL")?;
    stmt.query_row([id as i64], |r| r.get::<_, i64>(0).map(|s| s as u64))
        .optional()
}

/// Records live cluster `id` with its size and representative (reviving an id that was
/// merged into another cluster earlier, when a split gives it back).
pub(super) fn upsert_cluster(
    conn: &Connection,
    id: u64,
    size: usize,
    representative: u64,
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(&format!(
        "INSERT INTO clusters (id, size, representative, created, updated) \
         VALUES (?1, ?2, ?3, {NOW}, {NOW}) \
         ON CONFLICT (id) DO UPDATE SET size = excluded.size, \
         representative = excluded.representative, updated = excluded.updated, \
         merged_into = NULL"
    ))?;
    stmt.execute(params![id as i64, size as i64, representative as i64])?;
    Ok(())
}

fn set_cluster(conn: &Connection, pos: u64, cluster: u64) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached("UPDATE documents SET cluster = ?2 WHERE pos = ?1")?;
    stmt.execute(params![pos as i64, cluster as i64])?;
    Ok(())
}
