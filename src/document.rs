//! The unit of work: one document as read from the input.

use serde_json::Value;

/// One input document.
///
/// `text` is the original text (the configured text fields joined by a newline), never the
/// normalized form: reports show what the user wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The document's id (from the id field, or the line number when the field is absent).
    pub id: String,
    /// The original text.
    pub text: String,
    /// 1-based line (or record) number in its source, for messages.
    pub line: u64,
    /// The original record (the JSON line, or the CSV record re-encoded as a JSON object), kept
    /// only when [`crate::input::InputConfig::keep_raw`] is set.
    pub raw: Option<String>,
    /// Extra fields kept on request ([`crate::input::InputConfig::keep_fields`]), in the
    /// order they were asked for; absent fields are left out.
    pub fields: Vec<(String, Value)>,
    /// The file the document was read from, when its input is a folder (a `.txt` file is one
    /// document, a file of records many); `None` when the input itself is the file.
    pub file: Option<String>,
}

impl Document {
    /// A document with just an id and a text.
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Document {
        Document {
            id: id.into(),
            text: text.into(),
            line: 0,
            raw: None,
            fields: Vec::new(),
            file: None,
        }
    }

    /// Where the document is, for messages: its file (and line, in a file of records), or
    /// `input` and its line.
    pub fn location(&self, input: &str) -> crate::error::Location {
        match &self.file {
            // A folder's files of records are the ones with a format's extension.
            Some(file) if crate::input::Format::from_file_name(file).is_some() => {
                crate::error::Location::line(file.as_str(), self.line)
            }
            Some(file) => crate::error::Location::file(file.as_str()),
            None => crate::error::Location::line(input, self.line),
        }
    }
}
