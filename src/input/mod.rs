//! Input readers: turning files, folders and pipes into [`Document`]s.
//!
//! Every command reads its input through [`open`], the one input builder: it picks the reader
//! for the format (guessed from the path, or [`InputConfig::format`]), decompresses gzip when
//! the bytes say so, and yields documents one at a time so that inputs larger than memory can
//! stream through the pipeline.
//!
//! Problems are reported in two kinds. A malformed record (a line that is not JSON, a row with
//! the wrong number of cells, a file that is not UTF-8) is an [`Error::Record`]: the iterator
//! yields it and goes on with the next record on the following call to `next`, so the caller
//! decides whether to stop or to count and skip. A problem with the input as a whole (a missing
//! file, a corrupt gzip stream, a CSV header without any of the text columns) is an
//! [`Error::Input`] or [`Error::Io`], and nothing more is read after it.
//!
//! The formats:
//!
//! - **JSON Lines** (`.jsonl`, `.ndjson`, `.json`, standard input, unknown names): one object
//!   per line; blank lines are skipped; field names may be dotted paths (`meta.id`).
//! - **CSV / TSV** (`.csv`, `.tsv`, `.tab`): a header row names the columns; TSV has no quoting.
//! - **Folder** (a directory): every file under it, sorted by relative path, read by its
//!   extension: a `.txt` file is one document, a file of one of the formats above is read as
//!   that format; other files are skipped and listed by [`Reader::ignored_files`].
//! - **Parquet** (`.parquet`, or a folder of `.parquet` shards and no other readable files,
//!   read in name order): fields are columns, dotted paths reach into struct columns; read a
//!   row group at a time.
//!
//! JSON Lines, CSV and TSV may be compressed with gzip, zstd, bzip2 or xz, told by their first
//! bytes.
//!
//! Ids: the id field's value when it is a string or a number; when it is absent (or null, or an
//! empty CSV cell) the document's line number, which is unique within the input (in a folder,
//! the file's relative path and the line: `2024/a.jsonl:3`). For a `.txt` file the id is its
//! relative path without `.txt`.

mod delimited;
mod field;
mod format;
mod jsonl;
#[cfg(feature = "parquet")]
mod parquet;
mod source;
mod textdir;

use std::fmt;
use std::io::Read;

pub use format::Format;
pub use source::ByteCounter;

use crate::document::Document;
use crate::error::{Error, Location, Result};
use field::FieldPath;

/// How to read documents.
#[derive(Debug, Clone)]
pub struct InputConfig {
    /// The field holding the id (a dotted path in JSON Lines, a column name in CSV/TSV).
    pub id_field: String,
    /// The fields whose values, joined by newlines in this order, make the text; absent
    /// fields are skipped, and a record with none of them is an error.
    pub text_fields: Vec<String>,
    /// The format; detected from the path when `None`.
    pub format: Option<Format>,
    /// Keep each record's original form in [`Document::raw`].
    pub keep_raw: bool,
    /// Fields to keep in [`Document::fields`].
    pub keep_fields: Vec<String>,
    /// The id field was named on purpose: when the first record (or the CSV/TSV header) lacks
    /// it, the input is refused with the fields that are there, instead of every document
    /// being numbered by its line. Off by default, so input without ids just works.
    pub require_id: bool,
    /// JSON Lines whose first records (up to a hundred, or all of a shorter input) have none
    /// of the text fields are refused as a whole, the fields that are there listed, rather
    /// than record by record (on by default). Off where every record must get an answer of
    /// its own, such as one output line per input line.
    pub check_text_fields: bool,
    /// The longest line a JSON Lines input may hold, in bytes: a longer one is a record error
    /// found after reading this many bytes of it, never buffered whole.
    pub max_record_size: u64,
}

/// The default [`InputConfig::max_record_size`]: 64 MiB, far beyond any article.
pub const DEFAULT_MAX_RECORD_SIZE: u64 = 64 << 20;

impl Default for InputConfig {
    fn default() -> InputConfig {
        InputConfig {
            id_field: "id".into(),
            text_fields: vec!["title".into(), "text".into()],
            format: None,
            keep_raw: false,
            keep_fields: Vec::new(),
            require_id: false,
            check_text_fields: true,
            max_record_size: DEFAULT_MAX_RECORD_SIZE,
        }
    }
}

/// The configured field names, compiled once per input.
#[derive(Clone)]
pub(crate) struct Fields {
    id: FieldPath,
    text: Vec<FieldPath>,
    keep: Vec<FieldPath>,
    /// The text field names, for messages.
    text_names: Vec<String>,
    keep_raw: bool,
    require_id: bool,
    check_text_fields: bool,
    /// Put before the line number of a record without an id, so that records of different
    /// files of one folder do not share ids (`2024/a.jsonl:3`).
    line_id_prefix: Option<String>,
    max_record_size: u64,
}

impl Fields {
    fn new(config: &InputConfig) -> Result<Fields> {
        if config.text_fields.is_empty() {
            return Err(Error::Config(
                "no text field is configured: give at least one".into(),
            ));
        }
        let text = field::paths(&config.text_fields);
        Ok(Fields {
            id: FieldPath::new(&config.id_field),
            text_names: text.iter().map(|p| p.name.clone()).collect(),
            text,
            keep: field::paths(&config.keep_fields),
            keep_raw: config.keep_raw,
            require_id: config.require_id,
            check_text_fields: config.check_text_fields,
            line_id_prefix: None,
            max_record_size: config.max_record_size,
        })
    }
}

/// The id of a record without one: its line number, after `prefix` when there is one.
fn line_id(prefix: Option<&str>, line: u64) -> String {
    match prefix {
        Some(prefix) => format!("{prefix}:{line}"),
        None => line.to_string(),
    }
}

/// A stream of documents from one input.
///
/// Yields `Ok(document)` for each record, `Err(Error::Record { .. })` for a malformed record
/// (and continues with the next one when called again), and at most one whole-input error,
/// after which it ends.
pub struct Reader {
    inner: Inner,
    source: String,
    format: Format,
    counter: ByteCounter,
    total: Option<u64>,
}

enum Inner {
    Jsonl(jsonl::CheckedJsonl),
    Delimited(delimited::DelimitedReader),
    TextDir(textdir::TextDirReader),
    #[cfg(feature = "parquet")]
    Parquet(parquet::ParquetReader),
}

/// The columns of a Parquet input, as Arrow describes them.
#[cfg(feature = "parquet")]
pub type ParquetSchema = arrow_schema::SchemaRef;

/// The columns of a Parquet input: none can be read in a build without the `parquet` feature,
/// so there is no value of this type.
#[cfg(not(feature = "parquet"))]
#[derive(Debug, Clone)]
pub enum ParquetSchema {}

/// What a build without the `parquet` cargo feature says when asked to read or write Parquet.
pub const NO_PARQUET: &str = "this build of mukarrar has no Parquet support (the `parquet` \
     cargo feature, on by default, was left out): build it with `--features parquet` (`cargo \
     install --path . --features parquet`), or give the data as JSON Lines or CSV";

/// Opens a Parquet file, or a folder of Parquet shards.
#[cfg(feature = "parquet")]
fn open_parquet(path: &str, folder: bool, fields: Fields, counter: ByteCounter) -> Result<Reader> {
    let (reader, total) = parquet::ParquetReader::new(path, folder, fields, counter.clone())?;
    Ok(Reader {
        inner: Inner::Parquet(reader),
        source: path.to_string(),
        format: Format::Parquet,
        counter,
        total: Some(total),
    })
}

/// A build without the `parquet` feature reads no Parquet: an error naming the input.
#[cfg(not(feature = "parquet"))]
fn open_parquet(path: &str, _: bool, _: Fields, _: ByteCounter) -> Result<Reader> {
    Err(Error::Input {
        location: Location::file(path),
        message: NO_PARQUET.into(),
    })
}

impl Reader {
    /// The input's name as given (`-` for standard input).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The number of input bytes consumed so far: compressed bytes for gzip input, file bytes
    /// for a text folder. Runs slightly ahead of the documents yielded, because input is read
    /// in large blocks. Cheap to call (one atomic load).
    pub fn bytes_read(&self) -> u64 {
        self.counter.get()
    }

    /// The input's size in bytes when known (the file size, or the total size of a folder's
    /// `.txt` files), to compare with [`Reader::bytes_read`]; `None` for standard input, pipes
    /// and other readers of unknown length.
    pub fn total_bytes(&self) -> Option<u64> {
        self.total
    }

    /// The columns of a Parquet input (of its first file), before anything is read; `None`
    /// for other formats.
    pub fn parquet_schema(&self) -> Option<ParquetSchema> {
        match &self.inner {
            #[cfg(feature = "parquet")]
            Inner::Parquet(r) => r.schema(),
            _ => None,
        }
    }

    /// A handle on the byte count that another thread can poll while this reader is iterated.
    pub fn byte_counter(&self) -> ByteCounter {
        self.counter.clone()
    }

    /// For a folder, the files under it that are not read because their extension is not one
    /// of a known format (`notes.md`, `data.xlsx`), relative to the folder and in name order:
    /// for a warning, so that no file is left out silently. Empty for other inputs.
    pub fn ignored_files(&self) -> &[String] {
        match &self.inner {
            Inner::TextDir(r) => r.ignored(),
            #[cfg(feature = "parquet")]
            Inner::Parquet(r) => r.ignored(),
            _ => &[],
        }
    }

    /// For a folder, how many of its files are read; `None` for other inputs.
    pub fn folder_files(&self) -> Option<usize> {
        match &self.inner {
            Inner::TextDir(r) => Some(r.files()),
            #[cfg(feature = "parquet")]
            Inner::Parquet(r) => r.files(),
            _ => None,
        }
    }
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("source", &self.source)
            .field("format", &self.format)
            .field("bytes_read", &self.bytes_read())
            .field("total_bytes", &self.total)
            .finish_non_exhaustive()
    }
}

impl Iterator for Reader {
    type Item = Result<Document>;

    fn next(&mut self) -> Option<Result<Document>> {
        match &mut self.inner {
            Inner::Jsonl(r) => r.next(),
            Inner::Delimited(r) => r.next(),
            Inner::TextDir(r) => r.next(),
            #[cfg(feature = "parquet")]
            Inner::Parquet(r) => r.next(),
        }
    }
}

/// Opens `path` (`-` for standard input) for reading documents.
///
/// The format is [`InputConfig::format`] when set, otherwise [`Format::detect`]'s guess.
/// Gzip-compressed input (recognised by its first bytes, whatever the name) is decompressed.
/// For CSV and TSV the header is read here, so a header without any of the text columns fails
/// now rather than on the first record.
///
/// # Errors
///
/// [`Error::Io`] when the path cannot be opened (it names the path); [`Error::Input`] when a
/// folder is given for a file format or a file for the text-folder format, when standard input
/// is asked to be a folder, or when a CSV/TSV header lacks every text column;
/// [`Error::Config`] when no text field is configured.
pub fn open(path: &str, config: &InputConfig) -> Result<Reader> {
    let fields = Fields::new(config)?;
    let counter = ByteCounter::default();
    if path == "-" {
        let format = config.format.unwrap_or(Format::Jsonl);
        if format == Format::Parquet {
            return Err(Error::Input {
                location: Location::file(path),
                message: "standard input cannot be read as Parquet (a Parquet file is read \
                          from its end): give the file's name"
                    .into(),
            });
        }
        if format == Format::TextDir {
            return Err(Error::Input {
                location: Location::file(path),
                message: "standard input cannot be read as a folder".into(),
            });
        }
        let stream =
            source::stream(std::io::stdin(), counter.clone()).map_err(|e| Error::io(path, e))?;
        return from_stream(stream, path, format, fields, counter, None);
    }

    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let format = config.format.unwrap_or_else(|| {
        if meta.is_dir() {
            Format::detect(path)
        } else {
            Format::from_file_name(path).unwrap_or(Format::Jsonl)
        }
    });
    if format == Format::Parquet {
        return open_parquet(path, meta.is_dir(), fields, counter);
    }
    match (meta.is_dir(), format) {
        (true, Format::TextDir) => {
            let (reader, total) = textdir::TextDirReader::new(path, fields, counter.clone())?;
            return Ok(Reader {
                inner: Inner::TextDir(reader),
                source: path.to_string(),
                format,
                counter,
                total: Some(total),
            });
        }
        (true, _) => {
            return Err(Error::Input {
                location: Location::file(path),
                message: format!("is a folder, not a {format} file"),
            })
        }
        (false, Format::TextDir) => {
            return Err(Error::Input {
                location: Location::file(path),
                message: "is not a folder (the txt format reads a folder)".into(),
            })
        }
        (false, _) => {}
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let total = meta.is_file().then_some(meta.len());
    let stream = source::stream(file, counter.clone()).map_err(|e| Error::io(path, e))?;
    from_stream(stream, path, format, fields, counter, total)
}

/// Reads documents from any byte stream, named `source` in messages: for input that is
/// already in memory or arrives some other way (a map task's standard input, a network
/// body). Gzip is detected as in [`open`].
///
/// # Errors
///
/// As for [`open`]; [`Format::TextDir`] is a [`Error::Config`] error here (a stream is not a
/// folder).
pub fn from_reader<R: Read + Send + 'static>(
    reader: R,
    source: &str,
    format: Format,
    config: &InputConfig,
) -> Result<Reader> {
    let fields = Fields::new(config)?;
    if matches!(format, Format::TextDir | Format::Parquet) {
        return Err(Error::Config(format!(
            "the {format} format reads files, not a stream"
        )));
    }
    let counter = ByteCounter::default();
    let stream = source::stream(reader, counter.clone()).map_err(|e| Error::io(source, e))?;
    from_stream(stream, source, format, fields, counter, None)
}

fn from_stream(
    stream: source::Stream,
    path: &str,
    format: Format,
    fields: Fields,
    counter: ByteCounter,
    total: Option<u64>,
) -> Result<Reader> {
    let source = path.to_string();
    let inner = match format {
        Format::Jsonl => Inner::Jsonl(jsonl::CheckedJsonl::new(jsonl::JsonlReader::new(
            stream.bytes,
            stream.compression,
            source.clone(),
            fields,
        ))),
        Format::Csv => Inner::Delimited(delimited::DelimitedReader::new(
            stream,
            source.clone(),
            b',',
            true,
            fields,
        )?),
        Format::Tsv => Inner::Delimited(delimited::DelimitedReader::new(
            stream,
            source.clone(),
            b'\t',
            false,
            fields,
        )?),
        Format::TextDir | Format::Parquet => {
            return Err(Error::Config(format!(
                "the {format} format reads files, not a stream"
            )))
        }
    };
    Ok(Reader {
        inner,
        source,
        format,
        counter,
        total,
    })
}

/// `bytes` as text, or the length of its longest valid UTF-8 prefix.
///
/// Checking UTF-8 is most of the cost of reading Arabic JSON Lines with the standard library's
/// check (every letter is a two-byte sequence), so the common, valid case uses a SIMD check
/// and only an invalid input pays for the standard one, which says where the problem is.
pub(crate) fn utf8(bytes: &[u8]) -> std::result::Result<&str, usize> {
    simdutf8::basic::from_utf8(bytes)
        .or_else(|_| std::str::from_utf8(bytes).map_err(|e| e.valid_up_to()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_is_send() {
        fn send<T: Send>() {}
        send::<Reader>();
        send::<ByteCounter>();
    }
}
