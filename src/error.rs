//! One error type for the library.
//!
//! Every error that comes from input data says where the data was: the file (or `-` for
//! standard input), the line (or CSV record) number, and the field when one is involved, so
//! a user can open the file at that line and see the problem.

use std::fmt;
use std::path::PathBuf;

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in the input a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The input path as the user gave it (`-` for standard input).
    pub source: String,
    /// 1-based line (JSONL, text) or record (CSV/TSV, counting the header as line 1) number.
    pub line: Option<u64>,
    /// The field involved, when one is.
    pub field: Option<String>,
}

impl Location {
    /// A location in `source` at `line`.
    pub fn line(source: impl Into<String>, line: u64) -> Location {
        Location {
            source: source.into(),
            line: Some(line),
            field: None,
        }
    }

    /// A whole-file location.
    pub fn file(source: impl Into<String>) -> Location {
        Location {
            source: source.into(),
            line: None,
            field: None,
        }
    }

    /// The same location, naming `field`.
    pub fn with_field(mut self, field: impl Into<String>) -> Location {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        Ok(())
    }
}

/// What was wrong with one input record. A record error affects one document only: with
/// `skip_invalid` the reader goes on with the next record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The line is not valid JSON (the parser's message is kept).
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// The line is valid JSON but not an object.
    #[error("expected a JSON object, found {0}")]
    NotAnObject(&'static str),
    /// The bytes are not UTF-8.
    #[error("invalid UTF-8 at byte {0} of the record")]
    InvalidUtf8(usize),
    /// None of the text fields is present.
    #[error("none of the text fields {0:?} is present")]
    NoTextField(Vec<String>),
    /// A field has a type that cannot be used as text or id.
    #[error("expected a string or number, found {0}")]
    BadFieldType(&'static str),
    /// A CSV/TSV record could not be parsed.
    #[error("invalid CSV record: {0}")]
    InvalidCsv(String),
    /// The record (a file of a text folder) could not be read; the system's message is kept.
    #[error("cannot be read: {0}")]
    Unreadable(String),
    /// The date field (of a date window) is missing or holds no date; says why.
    #[error("not a usable date: {0}")]
    BadDate(String),
    /// The record is longer than the limit (`--max-record-size`); it was not read whole.
    #[error("record longer than {limit} bytes (--max-record-size)")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The id was already used by an earlier document.
    #[error("duplicate id `{id}` (first seen at {first})")]
    DuplicateId {
        /// The repeated id.
        id: String,
        /// Where the id was first seen.
        first: String,
    },
}

/// The library's error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A record of the input is malformed; see [`RecordError`].
    #[error("{location}: {kind}")]
    Record {
        /// Where the record is.
        location: Location,
        /// What is wrong with it.
        kind: RecordError,
    },
    /// The input as a whole cannot be read (missing file, unreadable, corrupt compression,
    /// missing header column).
    #[error("{location}: {message}")]
    Input {
        /// The file (and line, when known).
        location: Location,
        /// What went wrong.
        message: String,
    },
    /// An I/O error on a path.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An invalid combination of settings; the message names the setting.
    #[error("{0}")]
    Config(String),
    /// A persistent index ([`crate::index`]) cannot be used as asked: not an index, a newer
    /// format, other settings, or a storage failure. The message says what to do.
    #[error("{}: {message}", path.display())]
    Index {
        /// The index file.
        path: PathBuf,
        /// What is wrong, and what to do about it.
        message: String,
    },
    /// The caller asked the run to stop ([`crate::progress::Progress::interrupted`]).
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    /// True when the error affects one record only, so a reader may skip it and go on.
    pub fn is_record_error(&self) -> bool {
        matches!(self, Error::Record { .. })
    }

    /// The input location, when the error has one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Error::Record { location, .. } | Error::Input { location, .. } => Some(location),
            _ => None,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
