//! The on-disk layout of an index: one SQLite file, its tables, and the format versions.
//!
//! Everything that decides whether a file can be read lives here, so that a change of layout
//! is one edit: bump [`FORMAT_VERSION`], and [`OLDEST_SUPPORTED`] when old files can no longer
//! be read.

/// The format this version of mukarrar writes.
pub const FORMAT_VERSION: u32 = 5;

/// The oldest format this version of mukarrar reads. A file also records the oldest version
/// that can read *it*, so a newer mukarrar can say when an older one may still open its files.
///
/// Format 1 kept every band key in `bands`; format 2 keeps the newest in `bands_recent`;
/// format 3 adds each document's head (`head`, `head_numbers`) and the band keys of its head
/// (bands numbered after the signature's) for cross-length matching. A format-2 file is read
/// through [`FORMAT_2_VIEW`]: its settings have cross-length matching off, so no rule reads
/// the heads. Format 4 has format 3's layout; its settings band heads without the most common
/// words ([`crate::settings::Cross::common_words`]), which a reader of format 3 would not know
/// to do, so it is readable from format 4 only ([`READABLE_FROM`]). Format 5 has the same
/// layout again; its settings end every signature with a sketch of the text's words
/// ([`crate::settings::Reword`]), which a reader of format 4 would take for a signature of
/// the wrong length, so it is readable from format 5 only.
pub const OLDEST_SUPPORTED: u32 = 2;

/// The oldest format whose readers can read the files this version writes: what a new file
/// records as `oldest_supported`.
pub const READABLE_FROM: u32 = 5;

/// The older formats that this version writes to as they are: format 3 and 4 files have the
/// current layout; format 3 settings (no `common_words`) band heads whole, as their keys were
/// made, and format 3 and 4 settings (no `reword`) sign without a word sketch.
pub const WRITABLE_OLDER: [u32; 2] = [3, 4];

/// Shadows a format-2 file's `documents` with a temporary view (temporary objects come first
/// in SQLite's name lookup, and a read-only connection may create them) that adds the format-3
/// columns, with no head.
pub const FORMAT_2_VIEW: &str = "CREATE TEMP VIEW documents AS \
     SELECT *, 0 AS head, 0 AS head_numbers FROM main.documents";

/// SQLite's `application_id` of an index ("mkrr"), so `file(1)` and mukarrar can tell an
/// index from any other SQLite database.
pub const APPLICATION_ID: i32 = 0x6d6b_7272;

/// The `meta` value that names the file's purpose.
pub const APPLICATION: &str = "mukarrar index";

/// The tables. Positions (`pos`) are assigned in the order documents are added and never
/// reused; a cluster's id is the position of a document (its oldest member when it formed),
/// and a document in no cluster has its own position as cluster id.
///
/// A document's band keys are in `bands` or in `bands_recent`, never both; lookups read both.
/// New keys go to `bands_recent`, which stays small, so that the hash-ordered inserts of an
/// add touch few pages however large the index; when it holds the keys of more than an
/// eighth as many positions as `bands`, a commit moves them all into `bands` in key order
/// ([`RECENT_SHARE`]; meta `bands_merged_below` is the position below which keys were merged).
pub const SCHEMA: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE documents (
    pos       INTEGER PRIMARY KEY,
    id        TEXT NOT NULL UNIQUE,
    cluster   INTEGER NOT NULL,
    signature BLOB NOT NULL,
    shingles  INTEGER NOT NULL,
    short     INTEGER NOT NULL,
    numbers   INTEGER NOT NULL,
    words     BLOB,
    head         INTEGER NOT NULL DEFAULT 0,
    head_numbers INTEGER NOT NULL DEFAULT 0,
    chars     INTEGER NOT NULL,
    added     TEXT NOT NULL,
    batch     INTEGER NOT NULL,
    source    TEXT NOT NULL,
    preview   TEXT NOT NULL,
    fields    TEXT
);
CREATE INDEX documents_cluster ON documents (cluster, pos);
CREATE INDEX documents_added ON documents (added);

CREATE TABLE bands (
    band INTEGER NOT NULL,
    key  INTEGER NOT NULL,
    pos  INTEGER NOT NULL,
    PRIMARY KEY (band, key, pos)
) WITHOUT ROWID;

CREATE TABLE bands_recent (
    band INTEGER NOT NULL,
    key  INTEGER NOT NULL,
    pos  INTEGER NOT NULL,
    PRIMARY KEY (band, key, pos)
) WITHOUT ROWID;

CREATE TABLE clusters (
    id             INTEGER PRIMARY KEY,
    size           INTEGER NOT NULL,
    representative INTEGER,
    created        TEXT NOT NULL,
    updated        TEXT NOT NULL,
    merged_into    INTEGER
);

CREATE TABLE batches (
    id        INTEGER PRIMARY KEY,
    committed TEXT NOT NULL,
    documents INTEGER NOT NULL,
    skipped   INTEGER NOT NULL,
    replaced  INTEGER NOT NULL,
    inputs    TEXT NOT NULL
);
";

/// The batch log: for each batch `add` committed, the clusters its documents formed or joined
/// (their ids at the commit), whether each held documents clustered before the batch
/// (`grown`), and the clusters of before the batch merged into it (a JSON array of ids). With
/// the documents' `batch` column it gives a batch's report again (`index export --batch N`).
/// Created when a file without it is opened for writing; a mukarrar that does not know it
/// leaves it alone (such a batch is reported without its merges).
pub const BATCH_LOG: &str = "
CREATE TABLE IF NOT EXISTS batch_clusters (
    batch   INTEGER NOT NULL,
    cluster INTEGER NOT NULL,
    grown   INTEGER NOT NULL,
    merged  TEXT NOT NULL,
    PRIMARY KEY (batch, cluster)
) WITHOUT ROWID;
";

/// `bands_recent` is merged into `bands` once it covers more than 1 / `RECENT_SHARE` of the
/// positions that `bands` covers.
pub const RECENT_SHARE: u64 = 8;

/// Looks up the positions of one (band, key) in both band-key tables.
pub const LOOKUP_BAND_KEY: &str = "SELECT pos FROM bands WHERE band = ?1 AND key = ?2 \
     UNION ALL SELECT pos FROM bands_recent WHERE band = ?1 AND key = ?2";

/// Stores one band key of a new document.
pub const INSERT_BAND_KEY: &str = "INSERT INTO bands_recent (band, key, pos) VALUES (?1, ?2, ?3)";

/// SQLite's clock as an ISO 8601 UTC timestamp with milliseconds.
pub const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
