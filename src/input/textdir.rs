//! The folder reader: every file under a folder is read by its extension.
//!
//! This is how scraped or exported articles often arrive: a `.txt` file is one document, and
//! a file of records (`.jsonl`, `.csv`, `.tsv`, … and their compressed forms, `.parquet`, as
//! [`Format::from_file_name`] knows them) is read as that format, each record a document.
//! Other files are not read, and are listed ([`TextDirReader::ignored`]) so that the caller
//! can say so. The folder is listed once, up front, and sorted by relative path (byte order),
//! so documents come in the same order on every machine and file system; files are read one
//! at a time as the iterator advances. A `.txt` file that cannot be read or is not UTF-8 is
//! that document's error, and the others are still read; a record without an id in a file of
//! records gets `path:line` as its id (`2024/a.jsonl:3`), unique across the folder.

use std::fs;
use std::path::{Path, PathBuf};

use super::source::ByteCounter;
use super::{Fields, Format, Reader};
use crate::document::Document;
use crate::error::{Error, Location, RecordError, Result};

/// One file found under the folder, or a sub-folder that could not be listed.
struct Entry {
    /// The path relative to the folder, `/`-separated.
    relative: String,
    path: PathBuf,
    /// `None` for a `.txt` file (one document), else the format of its records.
    records: Option<Format>,
    /// Why the entry cannot be read, when listing already failed.
    error: Option<String>,
}

/// Reads documents from a folder.
pub(crate) struct TextDirReader {
    /// The folder as given, for messages.
    root: String,
    entries: std::vec::IntoIter<Entry>,
    fields: Fields,
    counter: ByteCounter,
    /// The file of records being read.
    current: Option<Box<Reader>>,
    /// The files that are not read, relative to the folder, in name order.
    ignored: Vec<String>,
    /// How many files are read.
    files: usize,
}

impl TextDirReader {
    /// Lists `root` (recursively) and returns the reader with the total size of the files.
    pub(crate) fn new(
        root: &str,
        fields: Fields,
        counter: ByteCounter,
    ) -> Result<(TextDirReader, u64)> {
        let root_path = Path::new(root);
        let listing = fs::read_dir(root_path).map_err(|e| Error::io(root_path, e))?;
        let mut entries = Vec::new();
        let mut ignored = Vec::new();
        let mut total = 0;
        walk(
            listing,
            root_path,
            "",
            &mut entries,
            &mut ignored,
            &mut total,
        );
        entries.sort_by(|a, b| a.relative.cmp(&b.relative));
        ignored.sort();
        Ok((
            TextDirReader {
                root: root.trim_end_matches('/').to_string(),
                files: entries.iter().filter(|e| e.error.is_none()).count(),
                entries: entries.into_iter(),
                fields,
                counter,
                current: None,
                ignored,
            },
            total,
        ))
    }

    /// The files under the folder that are not read (their extension is not one of a known
    /// format), relative to the folder, in name order.
    pub(crate) fn ignored(&self) -> &[String] {
        &self.ignored
    }

    /// How many files are read.
    pub(crate) fn files(&self) -> usize {
        self.files
    }
}

/// Adds the files under `listing` (the listing of `dir`) to `out`, and to `ignored` those of
/// no known format. Symbolic links to files are followed; links to folders are not, so a link
/// cycle cannot loop forever.
fn walk(
    listing: fs::ReadDir,
    dir: &Path,
    prefix: &str,
    out: &mut Vec<Entry>,
    ignored: &mut Vec<String>,
    total: &mut u64,
) {
    for entry in listing {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                out.push(Entry {
                    relative: prefix.to_string(),
                    path: dir.to_path_buf(),
                    records: None,
                    error: Some(format!("cannot list folder: {e}")),
                });
                // A failing listing may keep failing; one message for the folder is enough.
                return;
            }
        };
        let path = entry.path();
        let name = escaped_name(&entry.file_name());
        let relative = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            match fs::read_dir(&path) {
                Ok(listing) => walk(listing, &path, &relative, out, ignored, total),
                Err(e) => out.push(Entry {
                    relative,
                    path,
                    records: None,
                    error: Some(format!("cannot list folder: {e}")),
                }),
            }
            continue;
        }
        let records = if path.extension().is_some_and(|ext| ext == "txt") {
            None
        } else if let Some(format) = Format::from_file_name(&relative) {
            Some(format)
        } else {
            ignored.push(relative);
            continue;
        };
        // For a symbolic link this follows it: a link to a file counts, a link to a folder
        // (or a dangling link) does not.
        match fs::metadata(&path) {
            Ok(meta) if meta.is_file() => {
                *total += meta.len();
                out.push(Entry {
                    relative,
                    path,
                    records,
                    error: None,
                });
            }
            Ok(_) => {}
            Err(_) if kind.is_symlink() => {}
            Err(e) => out.push(Entry {
                relative,
                path,
                records,
                error: Some(e.to_string()),
            }),
        }
    }
}

/// A file name as text: bytes that are not UTF-8 are written `\xFF`, so that two names that
/// differ only there stay two ids (a lossy decoding would make both `a�`).
fn escaped_name(name: &std::ffi::OsStr) -> String {
    let mut out = String::new();
    for chunk in name.as_encoded_bytes().utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

impl TextDirReader {
    /// The entry's path as messages name it: under the folder as given.
    fn source(&self, entry: &Entry) -> String {
        if entry.relative.is_empty() {
            entry.path.display().to_string()
        } else {
            format!("{}/{}", self.root, entry.relative)
        }
    }

    /// Opens a file of records, read with the folder's fields and byte count.
    fn open_records(&self, entry: &Entry, format: Format) -> Result<Reader> {
        let source = self.source(entry);
        let unreadable = |e: std::io::Error| Error::Record {
            location: Location::file(&source),
            kind: RecordError::Unreadable(e.to_string()),
        };
        if format == Format::Parquet {
            // Read from its footer, by columns: not a stream.
            let mut fields = self.fields.clone();
            fields.line_id_prefix = Some(entry.relative.clone());
            return super::open_parquet(&source, false, fields, self.counter.clone());
        }
        let file = fs::File::open(&entry.path).map_err(unreadable)?;
        let stream = super::source::stream(file, self.counter.clone()).map_err(unreadable)?;
        let mut fields = self.fields.clone();
        fields.line_id_prefix = Some(entry.relative.clone());
        super::from_stream(stream, &source, format, fields, self.counter.clone(), None)
    }

    fn document(&self, entry: Entry) -> Result<Document> {
        let source = self.source(&entry);
        let fail = |kind| Error::Record {
            location: Location::file(&source),
            kind,
        };
        if let Some(message) = entry.error {
            return Err(fail(RecordError::Unreadable(message)));
        }
        let bytes =
            fs::read(&entry.path).map_err(|e| fail(RecordError::Unreadable(e.to_string())))?;
        self.counter.add(bytes.len() as u64);
        let mut text = String::from_utf8(bytes)
            .map_err(|e| fail(RecordError::InvalidUtf8(e.utf8_error().valid_up_to())))?;
        if text.starts_with('\u{feff}') {
            text.replace_range(..'\u{feff}'.len_utf8(), "");
        }
        let raw = self.fields.keep_raw.then(|| text.clone());
        let id = entry
            .relative
            .strip_suffix(".txt")
            .unwrap_or(&entry.relative)
            .to_string();
        Ok(Document {
            id,
            text,
            line: 1,
            raw,
            fields: Vec::new(),
            file: Some(source),
        })
    }
}

impl Iterator for TextDirReader {
    type Item = Result<Document>;

    fn next(&mut self) -> Option<Result<Document>> {
        loop {
            if let Some(records) = &mut self.current {
                match records.next() {
                    Some(Ok(mut doc)) => {
                        doc.file = Some(records.source().to_string());
                        return Some(Ok(doc));
                    }
                    Some(Err(e)) => {
                        if !e.is_record_error() {
                            // The file cannot be read any further, and neither, by the
                            // reader's rule, can the folder.
                            self.current = None;
                            self.entries = Vec::new().into_iter();
                        }
                        return Some(Err(e));
                    }
                    None => self.current = None,
                }
            }
            let entry = self.entries.next()?;
            match entry.records {
                Some(format) if entry.error.is_none() => match self.open_records(&entry, format) {
                    Ok(records) => self.current = Some(Box::new(records)),
                    Err(e) => {
                        if !e.is_record_error() {
                            self.entries = Vec::new().into_iter();
                        }
                        return Some(Err(e));
                    }
                },
                _ => return Some(self.document(entry)),
            }
        }
    }
}
