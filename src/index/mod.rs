//! A persistent, incremental index: each night's documents are added to a store of the
//! documents already seen and checked against it, without signing the old ones again.
//!
//! The index is one SQLite file (WAL mode, so readers work while a writer adds) that anyone can
//! open with standard tools. It holds the [`Settings`] it was created with (fixed for its whole
//! life), every document's signature and shingle count, the band keys of every signature
//! indexed for lookup, and the clusters.
//!
//! Clustering is the same as [`crate::pipeline::run`]'s: clusters are the connected components
//! of the graph whose edges are the candidate pairs (sharing a band key) whose similarity
//! reaches the threshold. Adding documents only adds nodes and edges, so components can only
//! merge: a new document is linked to the indexed documents it shares a band key with and to
//! the other new ones, and the components it touches merge. Adding a corpus in slices therefore
//! gives the same clusters as clustering it in one run.
//!
//! Cluster ids are stable. A document's position is the order in which it was added, never
//! reused. A cluster's id is the position of its oldest member when it formed, and a document
//! in no cluster has its own position as cluster id; when components merge, the oldest (smallest)
//! id survives and the others are recorded as merged into it. When every slice is added in
//! order, positions are input positions and the ids are exactly those of `mukarrar cluster`.
//! Removing documents can split a cluster: its remaining members are clustered again, the part
//! holding the oldest remaining member keeps the id, and every other part is named after its own
//! oldest member.
//!
//! Every change runs in one transaction (or one per batch), so a process killed at any moment
//! leaves the index as of its last commit.

mod change;
mod nearest;
mod remove;
mod schema;
mod store;
mod stream;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

pub use change::{
    AddOptions, Change, ChangeKind, ChangeStats, ChangedCluster, ChangedMember, Commit, OnDuplicate,
};
pub use nearest::{NearestOptions, NearestStats, Neighbour, StoredDocument};
pub use remove::Removal;
pub use schema::{FORMAT_VERSION, OLDEST_SUPPORTED};
pub use store::IndexStats;
pub use stream::{Appender, IndexMatch, Unmatched};

use crate::error::{Error, Result};
use crate::pipeline::Settings;

/// What [`Index::check`] found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// Documents stored.
    pub documents: u64,
    /// Every problem found, SQLite's integrity check first; empty when the index is sound.
    pub problems: Vec<String>,
}

/// Whether an index is opened for reading only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read only: the file is opened read-only and never changed.
    ReadOnly,
    /// Read and write.
    ReadWrite,
}

/// An open index.
#[derive(Debug)]
pub struct Index {
    conn: Connection,
    path: PathBuf,
    settings: Settings,
    /// The head bander of `settings` (cross-length matching), made once.
    heads: crate::cross::Heads,
    format_version: u32,
}

impl Index {
    /// Creates a new index at `path` with `settings`, which stay fixed for the index's life.
    ///
    /// The file is built under a temporary name next to `path` and renamed into place, so a
    /// failed creation leaves nothing behind.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the settings are invalid, ask for exact verification (the index
    /// keeps signatures, not shingle sets), boilerplate suppression (it depends on the whole
    /// corpus) or representative linkage (it regroups old clusters); [`Error::Index`] when
    /// `path` exists or cannot be written.
    pub fn create(path: &Path, settings: &Settings) -> Result<Index> {
        index_settings(settings).map_err(Error::Config)?;
        if path.is_dir() {
            return Err(index_error(
                path,
                "is a folder; give the index file to create in it (e.g. news.db inside it)",
            ));
        }
        if path.exists() {
            return Err(index_error(
                path,
                "already exists; choose a new path, or add to it with `mukarrar index add`",
            ));
        }
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !folder.is_dir() {
            return Err(index_error(
                path,
                format!(
                    "cannot be created: the folder {} does not exist",
                    folder.display()
                ),
            ));
        }
        let [tmp, ..] = Index::temporary_paths(path);
        let built = (|| -> Result<()> {
            let _ = std::fs::remove_file(&tmp);
            let conn = Connection::open(&tmp).map_err(|e| sqlite(path, e))?;
            store::initialize(&conn, settings).map_err(|e| sqlite(path, e))?;
            conn.close().map_err(|(_, e)| sqlite(path, e))?;
            // A link fails when the path exists by now (another `create`): never replace it.
            match std::fs::hard_link(&tmp, path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(index_error(
                    path,
                    "already exists (created meanwhile by another process)",
                )),
                // A file system without hard links: rename, which replaces.
                Err(_) => std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)),
            }
        })();
        for p in Index::temporary_paths(path) {
            let _ = std::fs::remove_file(p);
        }
        built?;
        Index::open(path, Access::ReadWrite)
    }

    /// The temporary files [`Index::create`] builds an index at `path` under (the file, then
    /// SQLite's files beside it), so that a caller can remove them if the process is stopped.
    pub fn temporary_paths(path: &Path) -> [PathBuf; 4] {
        let name = path
            .file_name()
            .map_or_else(|| "index".into(), |n| n.to_string_lossy().into_owned());
        let tmp = path.with_file_name(format!(".{name}.creating-{}", std::process::id()));
        ["", "-wal", "-shm", "-journal"].map(|suffix| {
            let mut p = tmp.clone().into_os_string();
            p.push(suffix);
            PathBuf::from(p)
        })
    }

    /// Opens the index at `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Index`] when there is no file, when the file is not a mukarrar index, when it
    /// was written in a format this version cannot read, or (for [`Access::ReadWrite`]) in a
    /// format other than [`FORMAT_VERSION`].
    pub fn open(path: &Path, access: Access) -> Result<Index> {
        if !path.is_file() {
            return Err(index_error(
                path,
                format!(
                    "no index here; create one with `mukarrar index create {}`",
                    path.display()
                ),
            ));
        }
        let flags = match access {
            Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
            Access::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE,
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let wait = match access {
            Access::ReadOnly => READER_WAIT,
            Access::ReadWrite => WRITER_WAIT,
        };
        let connect = |immutable: bool| -> rusqlite::Result<(Connection, i32)> {
            let conn = if immutable {
                Connection::open_with_flags(immutable_uri(path), flags)?
            } else {
                Connection::open_with_flags(path, flags)?
            };
            conn.busy_timeout(wait)?;
            let app = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
            Ok((conn, app))
        };
        let not_an_index = || {
            index_error(
                path,
                "is not a mukarrar index; create one with `mukarrar index create PATH`",
            )
        };
        let (conn, app) = match connect(false) {
            Ok(v) => v,
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::NotADatabase =>
            {
                return Err(not_an_index())
            }
            // A reader in a folder it cannot write, where SQLite cannot make the index's
            // shared-memory file: with no write-ahead log waiting, the file alone holds every
            // commit, and no writer can be at work (it could not make the log either), so it
            // is read as it is.
            Err(rusqlite::Error::SqliteFailure(e, _))
                if access == Access::ReadOnly
                    && matches!(
                        e.code,
                        rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen
                    )
                    && !has_wal(path) =>
            {
                connect(true).map_err(|e| sqlite(path, e))?
            }
            Err(e) => return Err(sqlite(path, e)),
        };
        if app != schema::APPLICATION_ID {
            return Err(not_an_index());
        }
        let meta = |key: &str| -> Result<Option<String>> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(|e| sqlite(path, e))
        };
        if meta("application")?.as_deref() != Some(schema::APPLICATION) {
            return Err(not_an_index());
        }
        let number = |key: &str| -> Result<u32> {
            meta(key)?
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| index_error(path, format!("meta `{key}` is missing or damaged")))
        };
        let format_version = number("format_version")?;
        let oldest = number("oldest_supported")?;
        if oldest > FORMAT_VERSION {
            return Err(index_error(
                path,
                format!(
                    "was written by a newer mukarrar (index format {format_version}, readable \
                     from format {oldest}); this mukarrar reads formats {OLDEST_SUPPORTED} to \
                     {FORMAT_VERSION}: upgrade mukarrar"
                ),
            ));
        }
        if format_version < OLDEST_SUPPORTED {
            return Err(index_error(
                path,
                format!(
                    "uses index format {format_version}, which this mukarrar no longer reads \
                     (oldest supported: {OLDEST_SUPPORTED}); rebuild it with `mukarrar index \
                     create` and `mukarrar index add`"
                ),
            ));
        }
        let writable = schema::WRITABLE_OLDER.contains(&format_version);
        if access == Access::ReadWrite && format_version != FORMAT_VERSION && !writable {
            return Err(index_error(
                path,
                format!(
                    "uses index format {format_version}; this mukarrar writes only formats \
                     {} and {FORMAT_VERSION}: open it read-only (query, stats, export) or use the \
                     mukarrar that wrote it",
                    schema::WRITABLE_OLDER.map(|v| v.to_string()).join(", ")
                ),
            ));
        }
        let json =
            meta("settings")?.ok_or_else(|| index_error(path, "meta `settings` is missing"))?;
        let hash = meta("settings_hash")?;
        if hash.as_deref() != Some(store::settings_hash(&json).as_str()) {
            return Err(index_error(
                path,
                "meta `settings` does not match its hash: the file was edited or damaged",
            ));
        }
        let settings: Settings = serde_json::from_str(&json).map_err(|e| {
            index_error(
                path,
                format!(
                    "its settings cannot be read by this mukarrar ({e}); rebuild it with \
                     `mukarrar index create`"
                ),
            )
        })?;
        index_settings(&settings).map_err(|e| {
            index_error(
                path,
                format!(
                    "its stored settings are invalid ({e}): the file was edited or damaged; \
                     rebuild it with `mukarrar index create` and `mukarrar index add`"
                ),
            )
        })?;
        store::tune(&conn, access).map_err(|e| sqlite(path, e))?;
        if format_version < 3 {
            // After `tune`: setting `temp_store` drops every temporary object.
            conn.execute_batch(schema::FORMAT_2_VIEW)
                .map_err(|e| sqlite(path, e))?;
        }
        if access == Access::ReadWrite {
            store::complete(&conn).map_err(|e| sqlite(path, e))?;
        }
        Ok(Index {
            conn,
            path: path.to_path_buf(),
            heads: crate::cross::Heads::new(&settings),
            settings,
            format_version,
        })
    }

    /// The index file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The settings the index was created with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The format version of the file.
    pub fn format_version(&self) -> u32 {
        self.format_version
    }

    /// Counts and facts about the index.
    pub fn stats(&self) -> Result<IndexStats> {
        store::stats(&self.conn, &self.settings, self.format_version).map_err(|e| self.sql(e))
    }

    /// Runs `PRAGMA integrity_check` and returns its findings (`["ok"]` when sound).
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.sql(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.sql(e))
    }

    /// Checks the whole file: SQLite's integrity check (every page, every b-tree, every
    /// index against its table), then mukarrar's own invariants (signature lengths, the next
    /// free position, band keys of stored documents). The settings were checked by
    /// [`Index::open`]. Reads every page, so it takes time in proportion to the file.
    pub fn check(&self) -> Result<Check> {
        // SQLite's findings, up to the damage that stops the check itself, if any.
        let mut found = Vec::new();
        let integrity = (|| {
            let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let text: String = row.get(0)?;
                found.extend(
                    text.lines()
                        .filter(|l| *l != "ok" && !l.starts_with("*** in database"))
                        .map(str::to_string),
                );
            }
            Ok(None)
        })();
        let mut problems = found;
        // Damage that stops a query is a finding too, not the end of the check.
        let mut note = |r: rusqlite::Result<Option<String>>| -> Result<()> {
            match r {
                Ok(found) => problems.extend(found),
                Err(e) if is_damage(&e) => problems.push(format!("SQLite: {e}")),
                Err(e) => return Err(self.sql(e)),
            }
            Ok(())
        };
        note(integrity)?;
        let count = |sql: &str| -> rusqlite::Result<u64> {
            self.conn
                .query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
        };
        let k = 4 * self.settings.sig_len();
        note(
            count(&format!(
                "SELECT count(*) FROM documents WHERE length(signature) != {k}"
            ))
            .map(|bad| {
                (bad > 0).then(|| {
                    format!("{bad} documents have a signature of another length than {k} bytes")
                })
            }),
        )?;
        note(store::next_pos(&self.conn).and_then(|next| {
            count(&format!(
                "SELECT count(*) FROM documents WHERE pos >= {next}"
            ))
            .map(|above| {
                (above > 0).then(|| {
                    format!("{above} documents sit at or above the next free position {next}")
                })
            })
        }))?;
        note(
            count(
                "SELECT count(*) FROM (SELECT pos FROM bands UNION ALL SELECT pos FROM \
                 bands_recent) WHERE pos NOT IN (SELECT pos FROM documents)",
            )
            .map(|orphans| {
                (orphans > 0).then(|| format!("{orphans} band keys belong to no stored document"))
            }),
        )?;
        let mut documents = 0;
        note(count("SELECT count(*) FROM documents").map(|n| {
            documents = n;
            None
        }))?;
        Ok(Check {
            documents,
            problems,
        })
    }

    fn sql(&self, e: rusqlite::Error) -> Error {
        sqlite(&self.path, e)
    }
}

/// Checks that `settings` can drive an index: valid as the command line requires
/// ([`Settings::validate`]), and none of the choices an incremental index cannot keep.
/// Stored settings go through the same check when an index is opened, so a file whose
/// settings were edited (or damaged, with its hash recomputed) is refused, never run.
fn index_settings(settings: &Settings) -> std::result::Result<(), String> {
    let lsh = settings.lsh;
    // Checked before `validate`, whose product must not overflow.
    if lsh.bands.checked_mul(lsh.rows).is_none() {
        return Err(format!(
            "--bands {} × --rows {} is out of range",
            lsh.bands, lsh.rows
        ));
    }
    settings.validate().map_err(|e| e.to_string())?;
    if settings.verify == crate::cluster::Verify::Exact {
        return Err(
            "--verify exact needs every document's shingle set, which an index does \
             not keep: create the index with --verify estimate (the default)"
                .into(),
        );
    }
    if settings.boilerplate_df > 0 {
        return Err(
            "--boilerplate-df depends on the whole corpus, which an index never sees \
             at once: create the index without it"
                .into(),
        );
    }
    if settings.linkage != crate::settings::Linkage::Single {
        return Err(
            "--linkage representative can regroup old clusters when documents \
             arrive, which an incremental index cannot do: create the index with --linkage \
             single (the default)"
                .into(),
        );
    }
    Ok(())
}

fn index_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Index {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// How long a reader waits for a lock (only recovery after a crash takes one).
const READER_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a writer waits for another writer to finish: writers queue, and a nightly job
/// would rather wait than fail.
const WRITER_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// True when the index's write-ahead log exists and holds anything.
fn has_wal(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).is_ok_and(|m| m.len() > 0)
}

/// `path` as an SQLite URI that opens it read-only without locks or shared memory.
fn immutable_uri(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut uri = String::from("file:");
    for &b in absolute.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/._-~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?mode=ro&immutable=1");
    uri
}

/// True for SQLite's errors that say the file is damaged.
fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if matches!(
        f.code,
        rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
    ))
}

fn sqlite(path: &Path, e: rusqlite::Error) -> Error {
    let message = match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy => {
            format!("{e} (another process holds the index: try again when it is done)")
        }
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ReadOnly => {
            format!("{e} (the file or its folder is read-only)")
        }
        _ if is_damage(&e) => {
            format!(
                "the index is damaged (SQLite: {e}); `mukarrar index check {}` lists the \
                 damage. Restore the file from a backup, or rebuild it with `mukarrar index \
                 create` and `mukarrar index add`",
                path.display()
            )
        }
        _ => format!("SQLite: {e}"),
    };
    index_error(path, message)
}
