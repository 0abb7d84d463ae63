//! Input readers (placeholder: JSONL only; the full set replaces it).

use std::io::BufRead;

use crate::document::Document;
use crate::error::{Error, Location, RecordError, Result};

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line (optionally gzip-compressed).
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
    /// A folder of `.txt` files, one document each.
    TextDir,
}

/// How to read documents.
#[derive(Debug, Clone)]
pub struct InputConfig {
    /// The field holding the id.
    pub id_field: String,
    /// The fields whose values, joined by newlines, make the text.
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

/// A stream of documents from one input.
pub struct Reader {
    inner: Box<dyn Iterator<Item = Result<Document>> + Send>,
}

impl Iterator for Reader {
    type Item = Result<Document>;
    fn next(&mut self) -> Option<Result<Document>> {
        self.inner.next()
    }
}

/// Opens `path` (`-` for standard input).
pub fn open(path: &str, config: &InputConfig) -> Result<Reader> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = std::io::BufReader::new(file);
    let source = path.to_string();
    let cfg = config.clone();
    let iter = reader.lines().enumerate().map(move |(i, line)| {
        let line_no = i as u64 + 1;
        let line = line.map_err(|e| Error::io(&source, e))?;
        let v: serde_json::Value = serde_json::from_str(&line).map_err(|e| Error::Record {
            location: Location::line(&source, line_no),
            kind: RecordError::InvalidJson(e.to_string()),
        })?;
        let id = match v.get(&cfg.id_field) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => line_no.to_string(),
        };
        let parts: Vec<&str> = cfg
            .text_fields
            .iter()
            .filter_map(|f| v.get(f).and_then(|x| x.as_str()))
            .collect();
        if parts.is_empty() {
            return Err(Error::Record {
                location: Location::line(&source, line_no),
                kind: RecordError::NoTextField(cfg.text_fields.clone()),
            });
        }
        let mut doc = Document::new(id, parts.join("\n"));
        doc.line = line_no;
        Ok(doc)
    });
    Ok(Reader {
        inner: Box::new(iter),
    })
}
