//! Which reader an input needs.
//!
//! The format is normally guessed from the path, so `mukarrar cluster news.csv.gz` just works;
//! a user can always override the guess (`--format tsv`). Guessing only looks at the name and
//! at whether the path is a folder: whether the bytes are gzip-compressed is decided later, from
//! the bytes themselves.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// Name suffixes of compressed files, removed before the format's extension is looked at
/// (the compression itself is told from the bytes).
const COMPRESSION_SUFFIXES: [&str; 5] = [".gz", ".zst", ".zstd", ".bz2", ".xz"];

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// One JSON object per line (optionally gzip-compressed).
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row (no quoting).
    Tsv,
    /// A folder: `.txt` files one document each, files of the other formats by their
    /// extension.
    TextDir,
    /// A Parquet file, or a folder of `.parquet` files (shards, read in name order).
    Parquet,
}

impl Format {
    /// Every format, in the order they are listed in messages.
    pub const ALL: [Format; 5] = [
        Format::Jsonl,
        Format::Csv,
        Format::Tsv,
        Format::TextDir,
        Format::Parquet,
    ];

    /// The format's short name, as accepted by [`Format::from_str`]: `jsonl`, `csv`, `tsv`,
    /// `txt` or `parquet`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::TextDir => "txt",
            Format::Parquet => "parquet",
        }
    }

    /// Guesses the format of `path` (`-` for standard input).
    ///
    /// A folder is [`Format::Parquet`] when it holds `.parquet` files and no other file a
    /// folder reads (`.txt`, JSON Lines, CSV, TSV), [`Format::TextDir`] otherwise; a file is judged by its name
    /// ([`Format::from_file_name`]); standard input and unknown names are [`Format::Jsonl`].
    /// This looks at the file system (to tell folders from files) but never reads the file.
    pub fn detect(path: &str) -> Format {
        if path == "-" {
            return Format::Jsonl;
        }
        let path_ref = std::path::Path::new(path);
        if path_ref.is_dir() {
            return if is_parquet_folder(path_ref) {
                Format::Parquet
            } else {
                Format::TextDir
            };
        }
        Format::from_file_name(path).unwrap_or(Format::Jsonl)
    }

    /// The format a file name implies, or `None` when the extension is not one we know.
    ///
    /// `.jsonl`, `.ndjson` and `.json` are JSON Lines, `.csv` is CSV, `.tsv` and `.tab` are
    /// TSV; each may be followed by a compression suffix (`.gz`, `.zst`, `.zstd`, `.bz2`,
    /// `.xz`). `.parquet` is Parquet. Case is ignored. Only the name is used.
    pub fn from_file_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".parquet") {
            return Some(Format::Parquet);
        }
        let stem = COMPRESSION_SUFFIXES
            .iter()
            .find_map(|suffix| lower.strip_suffix(suffix))
            .unwrap_or(&lower);
        let ext = stem.rsplit_once('.').map(|(_, ext)| ext)?;
        // A dot in a folder name (`v1.2/data`) is not an extension.
        if ext.contains('/') || ext.contains('\\') {
            return None;
        }
        match ext {
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            "csv" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            _ => None,
        }
    }
}

/// Whether the folder `path` holds `.parquet` files and no other file that a folder reads
/// (`.txt`, JSON Lines, CSV, TSV): its shards are then read as one Parquet input (one schema,
/// row numbers running on across files) rather than file by file.
fn is_parquet_folder(path: &std::path::Path) -> bool {
    fn walk(dir: &std::path::Path, parquet: &mut bool, other: &mut bool) {
        let Ok(listing) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in listing.flatten() {
            // Links to folders are not followed, so that a cycle cannot loop forever.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&entry.path(), parquet, other);
                continue;
            }
            let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
            match Format::from_file_name(&name) {
                Some(Format::Parquet) => *parquet = true,
                Some(_) => *other = true,
                None if name.ends_with(".txt") => *other = true,
                None => {}
            }
        }
    }
    let (mut parquet, mut other) = (false, false);
    walk(path, &mut parquet, &mut other);
    parquet && !other
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = Error;

    /// Parses `jsonl`, `csv`, `tsv`, `txt` or `parquet` (ASCII case ignored).
    fn from_str(s: &str) -> Result<Format, Error> {
        Format::ALL
            .into_iter()
            .find(|format| format.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown input format `{s}` (expected jsonl, csv, tsv, txt or parquet)"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for format in Format::ALL {
            assert_eq!(format.name().parse::<Format>().unwrap(), format);
        }
        assert_eq!("CSV".parse::<Format>().unwrap(), Format::Csv);
        assert!("xml".parse::<Format>().is_err());
    }

    #[test]
    fn file_names() {
        let cases = [
            ("a.jsonl", Some(Format::Jsonl)),
            ("a.ndjson.gz", Some(Format::Jsonl)),
            ("dir/a.JSON", Some(Format::Jsonl)),
            ("a.csv", Some(Format::Csv)),
            ("a.csv.gz", Some(Format::Csv)),
            ("a.tsv.gz", Some(Format::Tsv)),
            ("a.jsonl.zst", Some(Format::Jsonl)),
            ("a.csv.ZSTD", Some(Format::Csv)),
            ("a.tsv.bz2", Some(Format::Tsv)),
            ("a.ndjson.xz", Some(Format::Jsonl)),
            ("a.xz", None),
            ("data/train-00000-of-00002.Parquet", Some(Format::Parquet)),
            ("a.tab", Some(Format::Tsv)),
            ("a.txt", None),
            ("a.gz", None),
            ("v1.2/data", None),
            ("noext", None),
        ];
        for (name, want) in cases {
            assert_eq!(Format::from_file_name(name), want, "{name}");
        }
        assert_eq!(Format::detect("-"), Format::Jsonl);
        assert_eq!(Format::detect("unknown.bin"), Format::Jsonl);
    }
}
