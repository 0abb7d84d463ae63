//! The CSV and TSV reader: spreadsheets and database exports, columns found by header name.
//!
//! Both formats share one reader built on the `csv` crate; TSV only differs in its delimiter
//! and in having no quoting (a `"` in a TSV cell is just a character). Records are read as
//! bytes so that one record that is not UTF-8 is that record's problem, not the whole file's.
//!
//! Line numbers are counted here rather than taken from the `csv` crate, whose record
//! positions stop at the first byte of a line ending: with `\r\n` endings, or blank lines
//! between records, its line numbers run behind the file's.

use std::collections::VecDeque;
use std::io::{self, Read};

use csv::{ByteRecord, ReaderBuilder};
use serde_json::Value;

use super::source::{read_error, Compression, Stream, BUFFER_SIZE};
use super::{field, Fields};
use crate::document::Document;
use crate::error::{Error, Location, RecordError, Result};

/// A run of `\r` and `\n` bytes holding at least one `\n`.
#[derive(Debug, Clone, Copy)]
struct Run {
    /// The stream offset of the run's first byte.
    start: u64,
    newlines: u64,
}

/// A quoted field that runs over more lines than this is taken for a quote never closed.
pub(crate) const MAX_QUOTED_LINES: u64 = 10_000;

/// Where CSV quoting stands after the bytes read so far (the `csv` crate's rules: a quote
/// opens a quoted field only at the start of a field, `""` inside one is a quote, and bytes
/// after the closing quote continue the field unquoted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the field's end, or the first half of `""`.
    QuoteInQuoted,
}

/// A quoted field that cannot be right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QuoteProblem {
    /// The input ends inside the quoted field opened on this line.
    Unclosed { line: u64 },
    /// The quoted field opened on this line runs over more than [`MAX_QUOTED_LINES`] lines.
    TooLong { line: u64 },
}

impl QuoteProblem {
    fn message(self) -> (u64, String) {
        match self {
            QuoteProblem::Unclosed { line } => (
                line,
                "a quoted field opens on this line and is never closed (the file ends inside \
                 it): a closing `\"` is missing, and every line after it would be read as \
                 part of one field"
                    .into(),
            ),
            QuoteProblem::TooLong { line } => (
                line,
                format!(
                    "a quoted field opens on this line and runs over more than \
                     {MAX_QUOTED_LINES} lines: a closing `\"` is probably missing"
                ),
            ),
        }
    }
}

/// Passes bytes through while noting where line breaks are, so that the line a record starts
/// on can be found from its byte offset; for CSV, also follows the quoting, so that a quote
/// that is never closed is reported at the line where it opened instead of swallowing the
/// rest of the file into one field.
///
/// A record found at byte offset `x` (just after the previous record's first terminator
/// byte) really starts after the run of line-break bytes at `x`; its line is one more than the
/// number of `\n` bytes in every run that starts at or before `x`. Runs are dropped once a
/// record is past them, so only the parser's read-ahead is kept.
struct LineBreaks<R> {
    inner: R,
    /// Offset of the next byte to be read.
    offset: u64,
    /// The run the last bytes read belong to, not yet ended.
    open: Option<Run>,
    runs: VecDeque<Run>,
    /// `\n` bytes in the runs already dropped.
    passed: u64,
    /// The delimiter, when quotes are followed (CSV).
    delimiter: Option<u8>,
    quoting: Quoting,
    /// Where the open quoted field began, and the `\n` bytes in it so far.
    quote_at: u64,
    quote_lines: u64,
    pub(crate) problem: Option<QuoteProblem>,
    /// Where the record being read began, as far as the reader knows (the start of the one
    /// after the last it returned), and how far past it reading may go.
    record_start: u64,
    reach: u64,
    /// Set when a record ran past `reach`: reading stops there rather than buffering it.
    too_long: bool,
}

impl<R> LineBreaks<R> {
    fn new(inner: R) -> LineBreaks<R> {
        LineBreaks {
            inner,
            offset: 0,
            open: None,
            runs: VecDeque::new(),
            passed: 0,
            delimiter: None,
            quoting: Quoting::FieldStart,
            quote_at: 0,
            quote_lines: 0,
            problem: None,
            record_start: 0,
            reach: u64::MAX,
            too_long: false,
        }
    }

    /// Follows the quoting of fields delimited by `delimiter` too.
    fn with_quotes(inner: R, delimiter: u8) -> LineBreaks<R> {
        LineBreaks {
            delimiter: Some(delimiter),
            ..LineBreaks::new(inner)
        }
    }

    /// Advances the quoting over `data`, which starts at stream offset `at`. Returns the
    /// problem found, if any (the line breaks of `data` must already be noted).
    fn follow_quotes(&mut self, data: &[u8], at: u64) -> Option<QuoteProblem> {
        let delimiter = self.delimiter?;
        let mut i = 0;
        while i < data.len() {
            // Inside a quoted field only quotes and line feeds matter, inside an unquoted one
            // only its ends: skip to the next.
            let next = match self.quoting {
                Quoting::Quoted => data[i..].iter().position(|&b| b == b'"' || b == b'\n'),
                Quoting::Unquoted => data[i..]
                    .iter()
                    .position(|&b| b == delimiter || b == b'\n' || b == b'\r'),
                _ => Some(0),
            };
            match next {
                Some(n) => i += n,
                None => break,
            }
            let b = data[i];
            self.quoting = match (self.quoting, b) {
                (Quoting::FieldStart, b'"') => {
                    self.quote_at = at + i as u64;
                    self.quote_lines = 0;
                    Quoting::Quoted
                }
                (Quoting::Quoted, b'"') => Quoting::QuoteInQuoted,
                (Quoting::Quoted, _) => {
                    // A line feed inside the quoted field.
                    self.quote_lines += 1;
                    if self.quote_lines > MAX_QUOTED_LINES {
                        let line = self.line_at(self.quote_at);
                        return Some(QuoteProblem::TooLong { line });
                    }
                    Quoting::Quoted
                }
                (Quoting::QuoteInQuoted, b'"') => Quoting::Quoted,
                (_, b'\n' | b'\r') => Quoting::FieldStart,
                (_, b) if b == delimiter => Quoting::FieldStart,
                _ => Quoting::Unquoted,
            };
            i += 1;
        }
        None
    }

    /// The line of a record found at byte offset `x`. Offsets must not decrease between calls.
    fn line_at(&mut self, x: u64) -> u64 {
        while let Some(run) = self.runs.front() {
            if run.start > x {
                break;
            }
            self.passed += run.newlines;
            self.runs.pop_front();
        }
        let open = self
            .open
            .filter(|run| run.start <= x)
            .map_or(0, |run| run.newlines);
        1 + self.passed + open
    }
}

impl<R: Read> Read for LineBreaks<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.problem.is_some() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "unclosed quote"));
        }
        // The csv reader holds the record it is reading, however long: it is stopped once
        // the record runs past the limit (and the reader's buffer).
        if self.offset - self.record_start > self.reach {
            self.too_long = true;
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "record too long",
            ));
        }
        let n = self.inner.read(buf)?;
        let start = self.offset;
        self.note_line_breaks(&buf[..n]);
        let problem = if n == 0 && self.quoting == Quoting::Quoted {
            let line = self.line_at(self.quote_at);
            Some(QuoteProblem::Unclosed { line })
        } else {
            self.follow_quotes(&buf[..n], start)
        };
        if problem.is_some() {
            self.problem = problem;
            return Err(io::Error::new(io::ErrorKind::InvalidData, "unclosed quote"));
        }
        Ok(n)
    }
}

impl<R> LineBreaks<R> {
    /// Notes the line breaks of `data`, the next bytes of the stream.
    fn note_line_breaks(&mut self, data: &[u8]) {
        let n = data.len();
        let mut i = 0;
        while i < n {
            if self.open.is_none() {
                // Skip eight bytes at a time while there is no line break: most bytes are text.
                while let Some(chunk) = data.get(i..i + 8) {
                    let mut word = [0u8; 8];
                    word.copy_from_slice(chunk);
                    if has_line_break(u64::from_le_bytes(word)) {
                        break;
                    }
                    i += 8;
                }
                if i >= n {
                    break;
                }
            }
            match data[i] {
                b @ (b'\n' | b'\r') => {
                    let run = self.open.get_or_insert(Run {
                        start: self.offset + i as u64,
                        newlines: 0,
                    });
                    run.newlines += u64::from(b == b'\n');
                }
                _ => {
                    if let Some(run) = self.open.take() {
                        if run.newlines > 0 {
                            self.runs.push_back(run);
                        }
                    }
                }
            }
            i += 1;
        }
        self.offset += n as u64;
    }
}

/// Whether any of the eight bytes of `word` is `\n` or `\r`.
fn has_line_break(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Nonzero exactly when some byte of `v` is zero.
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    has_zero(word ^ (ONES * u64::from(b'\n'))) || has_zero(word ^ (ONES * u64::from(b'\r')))
}

/// Reads documents from CSV or TSV with a header row.
pub(crate) struct DelimitedReader {
    rdr: csv::Reader<LineBreaks<Box<dyn Read + Send>>>,
    source: String,
    compression: Compression,
    /// The header's column names (lossily decoded, byte-order mark removed).
    header: Vec<String>,
    id_column: Option<usize>,
    /// The text columns that exist, in the configured order.
    text_columns: Vec<usize>,
    /// The kept fields that exist, as (name, column), in the configured order.
    keep_columns: Vec<(String, usize)>,
    text_names: Vec<String>,
    keep_raw: bool,
    line_id_prefix: Option<String>,
    record: ByteRecord,
    /// `--max-record-size`.
    limit: u64,
    done: bool,
    /// The byte position of the last parse error, to stop rather than repeat it forever.
    last_error_at: Option<u64>,
}

impl DelimitedReader {
    /// Reads the header and checks that at least one text column is there.
    pub(crate) fn new(
        stream: Stream,
        source: String,
        delimiter: u8,
        quoting: bool,
        fields: Fields,
    ) -> Result<DelimitedReader> {
        let mut breaks = if quoting {
            LineBreaks::with_quotes(stream.bytes, delimiter)
        } else {
            LineBreaks::new(stream.bytes)
        };
        let limit = fields.max_record_size;
        breaks.reach = limit.saturating_add(2 * BUFFER_SIZE as u64);
        let mut rdr = ReaderBuilder::new()
            .delimiter(delimiter)
            .quoting(quoting)
            .has_headers(true)
            .flexible(true)
            .buffer_capacity(BUFFER_SIZE)
            .from_reader(breaks);
        let (header, header_at) = match rdr.byte_headers() {
            Ok(header) => (
                header
                    .iter()
                    .enumerate()
                    .map(|(i, name)| {
                        let name = if i == 0 {
                            name.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(name)
                        } else {
                            name
                        };
                        String::from_utf8_lossy(name).into_owned()
                    })
                    .collect::<Vec<String>>(),
                header.position().map_or(0, |p| p.byte()),
            ),
            Err(e) => {
                if let Some(problem) = rdr.get_ref().problem {
                    return Err(quote_error(&source, problem));
                }
                if rdr.get_ref().too_long {
                    return Err(too_long(&source, 1, limit));
                }
                let line = rdr.get_mut().line_at(0);
                return Err(csv_fatal(&source, line, stream.compression, &e));
            }
        };
        let header_line = rdr.get_mut().line_at(header_at);
        let after_header = rdr.position().byte();
        rdr.get_mut().record_start = after_header;
        // A name that is not UTF-8 would silently match no field (the id column lost, the
        // text column missing): the file is in another encoding.
        if let Ok(raw) = rdr.byte_headers() {
            for (i, name) in raw.iter().enumerate() {
                let name = if i == 0 {
                    name.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(name)
                } else {
                    name
                };
                if let Err(valid_up_to) = super::utf8(name) {
                    return Err(Error::Input {
                        location: Location::line(&source, header_line),
                        message: format!(
                            "column {} of the header (`{}`) is not UTF-8 (invalid byte at \
                             position {}): the file is in another encoding; convert it to \
                             UTF-8 first (e.g. `iconv -f CP1256 -t UTF-8`)",
                            i + 1,
                            String::from_utf8_lossy(name),
                            valid_up_to + 1
                        ),
                    });
                }
            }
        }
        let column = |name: &str| header.iter().position(|h| h == name);
        let text_columns: Vec<usize> = fields.text.iter().filter_map(|p| column(&p.name)).collect();
        let empty = header.is_empty();
        if text_columns.is_empty() && !empty {
            return Err(Error::Input {
                location: Location::line(&source, header_line),
                message: format!(
                    "none of the text columns {} is in the header ({})",
                    field::list(&fields.text_names),
                    field::missing(&fields.text_names, &header, "the header")
                ),
            });
        }
        if fields.require_id && !empty && column(&fields.id.name).is_none() {
            return Err(Error::Input {
                location: Location::line(&source, header_line),
                message: format!(
                    "the id column `{}` is not in the header ({})",
                    fields.id.name,
                    field::missing(std::slice::from_ref(&fields.id.name), &header, "the header")
                ),
            });
        }
        Ok(DelimitedReader {
            id_column: column(&fields.id.name),
            keep_columns: fields
                .keep
                .iter()
                .filter_map(|p| column(&p.name).map(|i| (p.name.clone(), i)))
                .collect(),
            text_columns,
            text_names: fields.text_names,
            keep_raw: fields.keep_raw,
            line_id_prefix: fields.line_id_prefix,
            header,
            rdr,
            source,
            compression: stream.compression,
            record: ByteRecord::new(),
            limit,
            done: empty,
            last_error_at: None,
        })
    }

    /// Turns the record just read into a document.
    fn document(&self, line: u64) -> Result<Document> {
        let location = || Location::line(&self.source, line);
        let record = &self.record;
        if record.len() != self.header.len() {
            return Err(Error::Record {
                location: location(),
                kind: RecordError::InvalidCsv(format!(
                    "expected {} fields as in the header, found {}",
                    self.header.len(),
                    record.len()
                )),
            });
        }
        let mut offset = 0;
        for (i, cell) in record.iter().enumerate() {
            if let Err(valid_up_to) = super::utf8(cell) {
                return Err(Error::Record {
                    location: location().with_field(&self.header[i]),
                    kind: RecordError::InvalidUtf8(offset + valid_up_to),
                });
            }
            offset += cell.len() + 1;
        }
        // Every cell is UTF-8 from here on. An empty cell counts as absent: CSV cannot tell
        // an empty value from a missing one.
        let cell = |i: usize| {
            record
                .get(i)
                .and_then(|c| super::utf8(c).ok())
                .filter(|c| !c.is_empty())
        };

        let mut text: Option<String> = None;
        for piece in self.text_columns.iter().filter_map(|&i| cell(i)) {
            match &mut text {
                None => text = Some(piece.to_string()),
                Some(text) => {
                    text.push('\n');
                    text.push_str(piece);
                }
            }
        }
        let Some(text) = text else {
            return Err(Error::Record {
                location: location(),
                kind: RecordError::NoTextField(self.text_names.clone()),
            });
        };
        let id = match self.id_column.and_then(cell) {
            Some(id) => id.to_string(),
            None => super::line_id(self.line_id_prefix.as_deref(), line),
        };
        let fields = self
            .keep_columns
            .iter()
            .filter_map(|(name, i)| cell(*i).map(|c| (name.clone(), Value::String(c.to_string()))))
            .collect();
        let raw = self.keep_raw.then(|| {
            let mut raw = String::from("{");
            for (i, name) in self.header.iter().enumerate() {
                if i > 0 {
                    raw.push(',');
                }
                let value = record.get(i).and_then(|c| super::utf8(c).ok());
                raw.push_str(&json_string(name));
                raw.push(':');
                raw.push_str(&json_string(value.unwrap_or_default()));
            }
            raw.push('}');
            raw
        });
        Ok(Document {
            id,
            text,
            line,
            raw,
            fields,
            file: None,
        })
    }
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// The whole-input error for a quoted field that cannot be right.
fn quote_error(source: &str, problem: QuoteProblem) -> Error {
    let (line, message) = problem.message();
    Error::Input {
        location: Location::line(source, line),
        message,
    }
}

/// The error for a record that ran far past `--max-record-size`: reading stops there, since
/// where the next record begins cannot be told without reading this one.
fn too_long(source: &str, line: u64, limit: u64) -> Error {
    Error::Input {
        location: Location::line(source, line),
        message: format!(
            "record longer than {limit} bytes (--max-record-size); the rest of the file is not \
             read, since the end of a CSV or TSV record cannot be found without reading it \
             (raise --max-record-size to read it)"
        ),
    }
}

/// The whole-input error for a csv error that stops reading.
fn csv_fatal(source: &str, line: u64, compression: Compression, err: &csv::Error) -> Error {
    match err.kind() {
        csv::ErrorKind::Io(io) => read_error(source, line, compression, io),
        _ => Error::Input {
            location: Location::line(source, line),
            message: err.to_string(),
        },
    }
}

impl Iterator for DelimitedReader {
    type Item = Result<Document>;

    fn next(&mut self) -> Option<Result<Document>> {
        if self.done {
            return None;
        }
        match self.rdr.read_byte_record(&mut self.record) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                let at = self
                    .record
                    .position()
                    .map_or_else(|| self.rdr.position().byte(), |p| p.byte());
                let next = self.rdr.position().byte();
                self.rdr.get_mut().record_start = next;
                let line = self.rdr.get_mut().line_at(at);
                if next - at > self.limit {
                    return Some(Err(Error::Record {
                        location: Location::line(&self.source, line),
                        kind: RecordError::TooLarge { limit: self.limit },
                    }));
                }
                Some(self.document(line))
            }
            Err(e) => {
                if let Some(problem) = self.rdr.get_ref().problem {
                    self.done = true;
                    return Some(Err(quote_error(&self.source, problem)));
                }
                if self.rdr.get_ref().too_long {
                    self.done = true;
                    let start = self.rdr.get_ref().record_start;
                    let line = self.rdr.get_mut().line_at(start);
                    return Some(Err(too_long(&self.source, line, self.limit)));
                }
                let at = e
                    .position()
                    .map_or_else(|| self.rdr.position().byte(), |p| p.byte());
                let line = self.rdr.get_mut().line_at(at);
                if matches!(e.kind(), csv::ErrorKind::Io(_)) || self.last_error_at == Some(at) {
                    self.done = true;
                    return Some(Err(csv_fatal(&self.source, line, self.compression, &e)));
                }
                self.last_error_at = Some(at);
                Some(Err(Error::Record {
                    location: Location::line(&self.source, line),
                    kind: RecordError::InvalidCsv(e.to_string()),
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_break_words() {
        assert!(!has_line_break(u64::from_le_bytes(*b"abcdefgh")));
        assert!(!has_line_break(u64::from_le_bytes(
            *b"\t\x0b\x0c\x0e\x09\x8a\x8d\xff"
        )));
        for at in 0..8 {
            for b in [b'\n', b'\r'] {
                let mut word = *b"\xd8\xa7\xd9\x84 abc";
                word[at] = b;
                assert!(has_line_break(u64::from_le_bytes(word)), "{at} {b}");
            }
        }
    }

    /// Line numbers must not depend on how the input is split into reads.
    #[test]
    fn runs_across_reads() {
        let input = b"h\r\n\r\nabcdefghijklmnop\r\n\n\nqrstuvwxyz0123456789\r\nend";
        let records = [(0u64, 1u64), (2, 3), (23, 6), (46, 7)];
        for chunk in 1..input.len() {
            let mut breaks = LineBreaks::new(&input[..]);
            let mut sink = Vec::new();
            let mut buf = vec![0u8; chunk];
            loop {
                let n = breaks.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                sink.extend_from_slice(&buf[..n]);
            }
            assert_eq!(sink, input);
            for (at, line) in records {
                assert_eq!(breaks.line_at(at), line, "chunk {chunk}, offset {at}");
            }
        }
    }
}
