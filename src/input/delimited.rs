//! The CSV and TSV reader: spreadsheets and database exports, columns found by header name.
//!
//! Both formats share one reader built on the `csv` crate; TSV only differs in its delimiter
//! and in having no quoting (a `"` in a TSV cell is just a character). Records are read as
//! bytes so that one record that is not UTF-8 is that record's problem, not the whole file's.

use std::io::Read;

use csv::{ByteRecord, ReaderBuilder};
use serde_json::Value;

use super::source::{read_error, Stream, BUFFER_SIZE};
use super::Fields;
use crate::document::Document;
use crate::error::{Error, Location, RecordError, Result};

/// Reads documents from CSV or TSV with a header row.
pub(crate) struct DelimitedReader {
    rdr: csv::Reader<Box<dyn Read + Send>>,
    source: String,
    gzip: bool,
    /// The header's column names (lossily decoded, byte-order mark removed).
    header: Vec<String>,
    id_column: Option<usize>,
    /// The text columns that exist, in the configured order.
    text_columns: Vec<usize>,
    /// The kept fields that exist, as (name, column), in the configured order.
    keep_columns: Vec<(String, usize)>,
    text_names: Vec<String>,
    keep_raw: bool,
    record: ByteRecord,
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
        let mut rdr = ReaderBuilder::new()
            .delimiter(delimiter)
            .quoting(quoting)
            .has_headers(true)
            .flexible(true)
            .buffer_capacity(BUFFER_SIZE)
            .from_reader(stream.bytes);
        let (header, header_line) = match rdr.byte_headers() {
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
                header.position().map_or(1, |p| p.line()),
            ),
            Err(e) => return Err(csv_fatal(&source, 1, stream.gzip, &e)),
        };
        let column = |name: &str| header.iter().position(|h| h == name);
        let text_columns: Vec<usize> = fields.text.iter().filter_map(|p| column(&p.name)).collect();
        let empty = header.is_empty();
        if text_columns.is_empty() && !empty {
            let list = |names: &mut dyn Iterator<Item = &String>| {
                names
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(Error::Input {
                location: Location::line(&source, header_line),
                message: format!(
                    "none of the text columns {} is in the header (the header has {})",
                    list(&mut fields.text_names.iter()),
                    list(&mut header.iter())
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
            header,
            rdr,
            source,
            gzip: stream.gzip,
            record: ByteRecord::new(),
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
            if let Err(e) = std::str::from_utf8(cell) {
                return Err(Error::Record {
                    location: location().with_field(&self.header[i]),
                    kind: RecordError::InvalidUtf8(offset + e.valid_up_to()),
                });
            }
            offset += cell.len() + 1;
        }
        // Every cell is UTF-8 from here on. An empty cell counts as absent: CSV cannot tell
        // an empty value from a missing one.
        let cell = |i: usize| {
            record
                .get(i)
                .and_then(|c| std::str::from_utf8(c).ok())
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
            None => line.to_string(),
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
                let value = record.get(i).and_then(|c| std::str::from_utf8(c).ok());
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
        })
    }
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// The whole-input error for a csv error that stops reading.
fn csv_fatal(source: &str, line: u64, gzip: bool, err: &csv::Error) -> Error {
    match err.kind() {
        csv::ErrorKind::Io(io) => read_error(source, line, gzip, io),
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
                let line = self
                    .record
                    .position()
                    .map_or_else(|| self.rdr.position().line(), |p| p.line());
                Some(self.document(line))
            }
            Err(e) => {
                let line = e
                    .position()
                    .map_or_else(|| self.rdr.position().line(), |p| p.line());
                let at = self.rdr.position().byte();
                if matches!(e.kind(), csv::ErrorKind::Io(_)) || self.last_error_at == Some(at) {
                    self.done = true;
                    return Some(Err(csv_fatal(&self.source, line, self.gzip, &e)));
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
