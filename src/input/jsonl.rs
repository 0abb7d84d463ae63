//! The JSON Lines reader: one JSON object per line, the format other tools hand us most.
//!
//! Lines are read as bytes into one reused buffer, so a line that is not UTF-8 is reported as
//! that line's problem (and reading goes on) instead of ending the input, and no allocation is
//! made per line beyond what the document itself needs.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};

use serde_json::{Map, Value};

use super::field::{self, type_name};
use super::source::{read_error, Compression, BUFFER_SIZE};
use super::Fields;
use crate::document::Document;
use crate::error::{Error, Location, RecordError, Result};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A line buffer that grew past this is shrunk back after use, so one huge line does not keep
/// its memory for the rest of the input.
const KEEP_CAPACITY: usize = 16 * 1024 * 1024;

/// Reads documents from JSON Lines.
pub(crate) struct JsonlReader {
    input: BufReader<Box<dyn Read + Send>>,
    source: String,
    fields: Fields,
    compression: Compression,
    buf: Vec<u8>,
    /// The number of the last line read (1-based).
    line: u64,
    /// The rest of an over-long line is still to be passed over.
    skipping: bool,
    done: bool,
    /// The first record that is a JSON object, once it is read.
    first: Option<FirstRecord>,
}

/// What the field checks need of the first record.
struct FirstRecord {
    /// Its top-level fields.
    fields: Vec<String>,
    /// Whether it has the id field.
    has_id: bool,
}

/// What [`read_line`] found.
enum Line {
    /// The end of the input.
    End,
    /// A whole line (with its line break, if any) is in the buffer.
    Whole,
    /// The line is longer than the limit: the buffer holds its first bytes, the rest is unread.
    TooLong,
}

/// Reads one line into `buf` like [`BufRead::read_until`], but stops once `buf` holds more
/// than `limit` bytes without a line break: a 10 GB line (a broken export, a gzip bomb) is
/// refused after `limit` bytes instead of being buffered. [`pass_line`] consumes the rest.
fn read_line(input: &mut impl BufRead, buf: &mut Vec<u8>, limit: u64) -> std::io::Result<Line> {
    loop {
        let chunk = fill(input)?;
        if chunk.is_empty() {
            return Ok(if buf.is_empty() {
                Line::End
            } else {
                Line::Whole
            });
        }
        let room = (limit as usize).saturating_sub(buf.len()).saturating_add(1);
        let (take, whole) = match memchr(chunk) {
            Some(i) if i < room => (i + 1, true),
            _ => (chunk.len().min(room), false),
        };
        buf.extend_from_slice(&chunk[..take]);
        input.consume(take);
        if whole {
            return Ok(Line::Whole);
        }
        if buf.len() as u64 > limit {
            return Ok(Line::TooLong);
        }
    }
}

/// Consumes input up to and including the next line break, keeping none of it; false at the
/// end of the input.
fn pass_line(input: &mut impl BufRead) -> std::io::Result<bool> {
    loop {
        let chunk = fill(input)?;
        if chunk.is_empty() {
            return Ok(false);
        }
        match memchr(chunk) {
            Some(i) => {
                input.consume(i + 1);
                return Ok(true);
            }
            None => {
                let n = chunk.len();
                input.consume(n);
            }
        }
    }
}

/// The buffered bytes, read again when a signal interrupted the read.
fn fill(input: &mut impl BufRead) -> std::io::Result<&[u8]> {
    loop {
        match input.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    input.fill_buf()
}

fn memchr(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

impl JsonlReader {
    pub(crate) fn new(
        bytes: Box<dyn Read + Send>,
        compression: Compression,
        source: String,
        fields: Fields,
    ) -> JsonlReader {
        JsonlReader {
            input: BufReader::with_capacity(BUFFER_SIZE, bytes),
            source,
            fields,
            compression,
            buf: Vec::with_capacity(64 * 1024),
            line: 0,
            skipping: false,
            done: false,
            first: None,
        }
    }
}

impl Iterator for JsonlReader {
    type Item = Result<Document>;

    fn next(&mut self) -> Option<Result<Document>> {
        while !self.done {
            if self.buf.capacity() > KEEP_CAPACITY {
                self.buf = Vec::with_capacity(64 * 1024);
            }
            self.buf.clear();
            if self.skipping {
                self.skipping = false;
                match pass_line(&mut self.input) {
                    Ok(true) => {}
                    Ok(false) => self.done = true,
                    Err(e) => {
                        self.done = true;
                        return Some(Err(read_error(
                            &self.source,
                            self.line,
                            self.compression,
                            &e,
                        )));
                    }
                }
                continue;
            }
            let limit = self.fields.max_record_size;
            match read_line(&mut self.input, &mut self.buf, limit) {
                Ok(Line::End) => self.done = true,
                Ok(Line::TooLong) => {
                    self.line += 1;
                    // The rest of the line is passed over only if reading goes on.
                    self.skipping = true;
                    self.buf = Vec::with_capacity(64 * 1024);
                    let location = Location::line(&self.source, self.line);
                    return Some(Err(record_error(location, RecordError::TooLarge { limit })));
                }
                Ok(Line::Whole) => {
                    self.line += 1;
                    let mut bytes = self.buf.as_slice();
                    bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
                    bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
                    let mut offset = 0;
                    if self.line == 1 {
                        if let Some(rest) = bytes.strip_prefix(BOM) {
                            bytes = rest;
                            offset = BOM.len();
                        }
                    }
                    if bytes.iter().all(|&b| matches!(b, b' ' | b'\t' | b'\r')) {
                        continue;
                    }
                    let location = || Location::line(&self.source, self.line);
                    let first = self.first.is_none().then_some(&mut self.first);
                    return Some(parse_line(
                        bytes,
                        offset,
                        &self.fields,
                        self.line,
                        location,
                        first,
                    ));
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(read_error(
                        &self.source,
                        self.line + 1,
                        self.compression,
                        &e,
                    )));
                }
            }
        }
        None
    }
}

/// How many records from the start of an input may lack every text field before the input is
/// refused as a whole (the text field is misnamed) rather than record by record.
pub(crate) const TEXT_PROBE: usize = 100;

/// A [`JsonlReader`] that checks the configured field names against the first records: a
/// required id field missing from the first record, or text fields missing from every one of
/// the first [`TEXT_PROBE`] records, is a misnamed field, and so one error about the input
/// (listing the fields that are there) rather than a document numbered by its line or one
/// error per record.
pub(crate) struct CheckedJsonl {
    lines: JsonlReader,
    /// Whether the first record was checked for the id field.
    id_checked: bool,
    /// Whether some record had a text field. Until one has, records without any are held
    /// back in `held` (with whatever came after them), so that if none of the first
    /// [`TEXT_PROBE`] has one, the input's error replaces theirs.
    text_seen: bool,
    held: VecDeque<Result<Document>>,
    /// How many of `held` lack every text field.
    held_without_text: usize,
}

impl CheckedJsonl {
    pub(crate) fn new(lines: JsonlReader) -> CheckedJsonl {
        CheckedJsonl {
            id_checked: false,
            // Not checking is as if a text field had been seen.
            text_seen: !lines.fields.check_text_fields,
            lines,
            held: VecDeque::new(),
            held_without_text: 0,
        }
    }

    /// The input's error when the first record lacks a required id field.
    fn missing_id(&mut self) -> Option<Error> {
        let first = self.lines.first.as_ref()?;
        if std::mem::replace(&mut self.id_checked, true)
            || !self.lines.fields.require_id
            || first.has_id
        {
            return None;
        }
        let id = &self.lines.fields.id.name;
        Some(Error::Input {
            location: Location::line(&self.lines.source, self.lines.line),
            message: format!(
                "the id field `{id}` is not in the first record ({})",
                field::missing(std::slice::from_ref(id), &first.fields, "the record")
            ),
        })
    }

    /// The input's error when none of the `n` records read had a text field; `all` when they
    /// are the whole input.
    fn missing_text(&self, n: usize, all: bool) -> Error {
        let fields = &self.lines.fields;
        let present = self
            .lines
            .first
            .as_ref()
            .map_or(&[][..], |first| &first.fields[..]);
        let records = match (all, n) {
            (true, 1) => "the only record".to_string(),
            (true, _) => format!("none of the {n} records"),
            (false, _) => format!("none of the first {n} records"),
        };
        Error::Input {
            location: Location::file(&self.lines.source),
            message: format!(
                "{records} has a text field {} ({})",
                fields
                    .text_names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(" or "),
                field::missing(&fields.text_names, present, "the first record")
            ),
        }
    }
}

impl Iterator for CheckedJsonl {
    type Item = Result<Document>;

    fn next(&mut self) -> Option<Result<Document>> {
        if self.text_seen || (self.held.is_empty() && self.lines.done) {
            return self.held.pop_front().or_else(|| self.lines.next());
        }
        loop {
            let item = self.lines.next();
            if let Some(err) = self.missing_id() {
                self.held.clear();
                self.lines.done = true;
                return Some(Err(err));
            }
            match item {
                None => {
                    if self.held_without_text > 0 {
                        let n = self.held_without_text;
                        self.held.clear();
                        return Some(Err(self.missing_text(n, true)));
                    }
                    return self.held.pop_front();
                }
                Some(Ok(doc)) => {
                    self.text_seen = true;
                    self.held.push_back(Ok(doc));
                    return self.held.pop_front();
                }
                Some(Err(Error::Record {
                    location,
                    kind: RecordError::NoTextField(names),
                })) => {
                    self.held_without_text += 1;
                    self.held.push_back(Err(Error::Record {
                        location,
                        kind: RecordError::NoTextField(names),
                    }));
                    if self.held_without_text >= TEXT_PROBE {
                        self.held.clear();
                        self.lines.done = true;
                        return Some(Err(self.missing_text(TEXT_PROBE, false)));
                    }
                }
                Some(other) => {
                    // Nothing held: pass it on at once; otherwise keep the order.
                    if self.held.is_empty() {
                        return Some(other);
                    }
                    self.held.push_back(other);
                }
            }
        }
    }
}

fn record_error(location: Location, kind: RecordError) -> Error {
    Error::Record { location, kind }
}

/// Turns one line (without its line break) into a document. `offset` is where `bytes` starts
/// in the physical line (after a byte-order mark), for byte positions in messages.
fn parse_line(
    bytes: &[u8],
    offset: usize,
    fields: &Fields,
    line: u64,
    location: impl Fn() -> Location,
    first: Option<&mut Option<FirstRecord>>,
) -> Result<Document> {
    let record = super::utf8(bytes).map_err(|valid_up_to| {
        record_error(location(), RecordError::InvalidUtf8(offset + valid_up_to))
    })?;
    let value: Value = serde_json::from_str(record).map_err(|e| {
        record_error(
            location(),
            RecordError::InvalidJson(json_message(&e, record)),
        )
    })?;
    let mut object = match value {
        Value::Object(object) => object,
        other => {
            return Err(record_error(
                location(),
                RecordError::NotAnObject(type_name(&other)),
            ))
        }
    };
    if let Some(first) = first {
        *first = Some(FirstRecord {
            fields: object.keys().cloned().collect(),
            has_id: fields.id.get(&object).is_some(),
        });
    }

    // Kept fields and the id are copied before the text is moved out, in case a field is used
    // for more than one purpose.
    let kept: Vec<(String, Value)> = fields
        .keep
        .iter()
        .filter_map(|path| {
            path.get(&object)
                .map(|value| (path.name.clone(), value.clone()))
        })
        .collect();
    let id = match fields.id.get(&object) {
        None | Some(Value::Null) => super::line_id(fields.line_id_prefix.as_deref(), line),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(record_error(
                location().with_field(&fields.id.name),
                RecordError::BadFieldType(type_name(other)),
            ))
        }
    };
    let text = take_text(&mut object, fields, location)?;
    Ok(Document {
        id,
        text,
        line,
        raw: fields.keep_raw.then(|| record.to_string()),
        fields: kept,
        file: None,
    })
}

/// Joins the text fields that are present, in the configured order, moving strings out of
/// the parsed record rather than copying them where it can.
fn take_text(
    object: &mut Map<String, Value>,
    fields: &Fields,
    location: impl Fn() -> Location,
) -> Result<String> {
    let mut text: Option<String> = None;
    let mut present = false;
    for path in &fields.text {
        let piece = match path.get_mut(object) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => std::mem::take(s),
            Some(Value::Number(n)) => n.to_string(),
            Some(other) => {
                return Err(record_error(
                    location().with_field(&path.name),
                    RecordError::BadFieldType(type_name(other)),
                ))
            }
        };
        present = true;
        // An empty field adds nothing, not even a line break: a record with an empty title
        // has its text as its first line.
        if piece.is_empty() {
            continue;
        }
        match &mut text {
            None => text = Some(piece),
            Some(text) => {
                text.reserve(piece.len() + 1);
                text.push('\n');
                text.push_str(&piece);
            }
        }
    }
    if present && text.is_none() {
        text = Some(String::new());
    }
    text.ok_or_else(|| {
        record_error(
            location(),
            RecordError::NoTextField(fields.text_names.clone()),
        )
    })
}

/// serde_json's message without its "at line 1 column N" suffix (a record is one line, so the
/// line would mislead), with the column kept; a lone UTF-16 surrogate escape, which serde_json
/// reports as a broken escape, is named as such.
fn json_message(err: &serde_json::Error, record: &str) -> String {
    if err.to_string().contains("escape") {
        if let Some((column, escape)) = lone_surrogate(record) {
            return format!(
                "a lone UTF-16 surrogate `{escape}` at column {column}: JSON can hold it only \
                 as half of a pair (`\\ud83d\\ude00`), so the text was cut in the middle of a \
                 character"
            );
        }
    }
    let mut message = err.to_string();
    if let Some(at) = message.rfind(" at line ") {
        message.truncate(at);
    }
    if err.column() > 0 {
        message.push_str(&format!(" at column {}", err.column()));
    }
    message
}

/// The first `\uXXXX` escape of `record` that is a surrogate without its other half, as
/// (1-based column in characters, the escape).
fn lone_surrogate(record: &str) -> Option<(usize, String)> {
    let b = record.as_bytes();
    let escape_at = |i: usize| -> Option<u16> {
        let hex = b.get(i + 2..i + 6)?;
        (b.get(i..i + 2) == Some(b"\\u"))
            .then(|| u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok())
            .flatten()
    };
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        match escape_at(i) {
            Some(high @ 0xD800..=0xDBFF) => {
                if matches!(escape_at(i + 6), Some(0xDC00..=0xDFFF)) {
                    i += 12;
                    continue;
                }
                return Some((record[..i].chars().count() + 1, format!("\\u{high:04x}")));
            }
            Some(low @ 0xDC00..=0xDFFF) => {
                return Some((record[..i].chars().count() + 1, format!("\\u{low:04x}")));
            }
            // Any other escape (`\\`, `\"`, `\u0041`) is skipped whole.
            Some(_) => i += 6,
            None => i += 2,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_are_found() {
        assert_eq!(
            lone_surrogate(r#"{"t":"x\ud800"}"#),
            Some((8, r"\ud800".into()))
        );
        assert_eq!(
            lone_surrogate(r#"{"t":"\\ud800 \ud83d\ude00 \udc00"}"#),
            Some((28, r"\udc00".into()))
        );
        assert_eq!(lone_surrogate(r#"{"t":"\ud83d\ude00 \u0041"}"#), None);
    }
}
