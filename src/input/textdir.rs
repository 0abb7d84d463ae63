//! The folder reader: every `.txt` file under a folder is one document.
//!
//! This is how scraped or exported articles often arrive. The folder is listed once, up front,
//! and sorted by relative path (byte order), so documents come in the same order on every
//! machine and file system; files are read one at a time as the iterator advances. A file that
//! cannot be read or is not UTF-8 is that document's error, and the others are still read.

use std::fs;
use std::path::{Path, PathBuf};

use super::source::ByteCounter;
use crate::document::Document;
use crate::error::{Error, Location, RecordError, Result};

/// One `.txt` file found under the folder, or a sub-folder that could not be listed.
struct Entry {
    /// The path relative to the folder, `/`-separated.
    relative: String,
    path: PathBuf,
    /// Why the entry cannot be read, when listing already failed.
    error: Option<String>,
}

/// Reads documents from a folder of text files.
pub(crate) struct TextDirReader {
    /// The folder as given, for messages.
    root: String,
    entries: std::vec::IntoIter<Entry>,
    keep_raw: bool,
    counter: ByteCounter,
}

impl TextDirReader {
    /// Lists `root` (recursively) and returns the reader with the total size of the files.
    pub(crate) fn new(
        root: &str,
        keep_raw: bool,
        counter: ByteCounter,
    ) -> Result<(TextDirReader, u64)> {
        let root_path = Path::new(root);
        let listing = fs::read_dir(root_path).map_err(|e| Error::io(root_path, e))?;
        let mut entries = Vec::new();
        let mut total = 0;
        walk(listing, root_path, "", &mut entries, &mut total);
        entries.sort_by(|a, b| a.relative.cmp(&b.relative));
        Ok((
            TextDirReader {
                root: root.trim_end_matches('/').to_string(),
                entries: entries.into_iter(),
                keep_raw,
                counter,
            },
            total,
        ))
    }
}

/// Adds the `.txt` files under `listing` (the listing of `dir`) to `out`. Symbolic links to
/// files are followed; links to folders are not, so a link cycle cannot loop forever.
fn walk(listing: fs::ReadDir, dir: &Path, prefix: &str, out: &mut Vec<Entry>, total: &mut u64) {
    for entry in listing {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                out.push(Entry {
                    relative: prefix.to_string(),
                    path: dir.to_path_buf(),
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
                Ok(listing) => walk(listing, &path, &relative, out, total),
                Err(e) => out.push(Entry {
                    relative,
                    path,
                    error: Some(format!("cannot list folder: {e}")),
                }),
            }
            continue;
        }
        if path.extension().is_none_or(|ext| ext != "txt") {
            continue;
        }
        // For a symbolic link this follows it: a link to a file counts, a link to a folder
        // (or a dangling link) does not.
        match fs::metadata(&path) {
            Ok(meta) if meta.is_file() => {
                *total += meta.len();
                out.push(Entry {
                    relative,
                    path,
                    error: None,
                });
            }
            Ok(_) => {}
            Err(_) if kind.is_symlink() => {}
            Err(e) => out.push(Entry {
                relative,
                path,
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
    fn document(&self, entry: Entry) -> Result<Document> {
        let source = if entry.relative.is_empty() {
            entry.path.display().to_string()
        } else {
            format!("{}/{}", self.root, entry.relative)
        };
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
        let raw = self.keep_raw.then(|| text.clone());
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
        let entry = self.entries.next()?;
        Some(self.document(entry))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}
