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
//! - **Text folder** (a directory): every `.txt` file under it, sorted by relative path.
//! - **Parquet** (`.parquet`, or a folder of `.parquet` shards read in name order): fields
//!   are columns, dotted paths reach into struct columns; read a batch of rows at a time.
//!
//! JSON Lines, CSV and TSV may be compressed with gzip, zstd, bzip2 or xz, told by their first
//! bytes.
//!
//! Ids: the id field's value when it is a string or a number; when it is absent (or null, or an
//! empty CSV cell) the document's line number, which is unique within the input. For a text
//! folder the id is the file's relative path without `.txt`.

mod delimited;
mod field;
mod format;
mod jsonl;
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
}

impl Default for InputConfig {
    fn default() -> InputConfig {
        InputConfig {
            id_field: "id".into(),
            text_fields: vec!["title".into(), "text".into()],
            format: None,
            keep_raw: false,
            keep_fields: Vec::new(),
        }
    }
}

/// The configured field names, compiled once per input.
pub(crate) struct Fields {
    id: FieldPath,
    text: Vec<FieldPath>,
    keep: Vec<FieldPath>,
    /// The text field names, for messages.
    text_names: Vec<String>,
    keep_raw: bool,
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
        })
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
    Jsonl(jsonl::JsonlReader),
    Delimited(delimited::DelimitedReader),
    TextDir(textdir::TextDirReader),
    Parquet(parquet::ParquetReader),
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
    pub fn parquet_schema(&self) -> Option<arrow_schema::SchemaRef> {
        match &self.inner {
            Inner::Parquet(r) => r.schema(),
            _ => None,
        }
    }

    /// A handle on the byte count that another thread can poll while this reader is iterated.
    pub fn byte_counter(&self) -> ByteCounter {
        self.counter.clone()
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
                message: "standard input cannot be read as a folder of .txt files".into(),
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
        let (reader, total) =
            parquet::ParquetReader::new(path, meta.is_dir(), fields, counter.clone())?;
        return Ok(Reader {
            inner: Inner::Parquet(reader),
            source: path.to_string(),
            format,
            counter,
            total: Some(total),
        });
    }
    match (meta.is_dir(), format) {
        (true, Format::TextDir) => {
            let (reader, total) =
                textdir::TextDirReader::new(path, fields.keep_raw, counter.clone())?;
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
                message: "is not a folder (the txt format reads a folder of .txt files)".into(),
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
        Format::Jsonl => Inner::Jsonl(jsonl::JsonlReader::new(
            stream.bytes,
            stream.compression,
            source.clone(),
            fields,
        )),
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
