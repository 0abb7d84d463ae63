//! The JSON Lines reader: one JSON object per line, the format other tools hand us most.
//!
//! Lines are read as bytes into one reused buffer, so a line that is not UTF-8 is reported as
//! that line's problem (and reading goes on) instead of ending the input, and no allocation is
//! made per line beyond what the document itself needs.

use std::io::{BufRead, BufReader, Read};

use serde_json::{Map, Value};

use super::field::type_name;
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
    done: bool,
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
            done: false,
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
            match self.input.read_until(b'\n', &mut self.buf) {
                Ok(0) => self.done = true,
                Ok(_) => {
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
                    return Some(parse_line(bytes, offset, &self.fields, self.line, location));
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
        None | Some(Value::Null) => line.to_string(),
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
