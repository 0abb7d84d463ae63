//! Refusing, before any work, an output that would overwrite an input or an index.
//!
//! `-o i.db` written over the index, `--duplicates feed.jsonl` truncating the feed being read:
//! a typed path that names a file the run reads is caught here, by file identity (device and
//! inode) rather than by name, so `./i.db`, a symbolic link or a hard link to it are caught
//! too. A file that does not exist yet is compared by its folder's identity and its name:
//! that is how an index's write-ahead log (`i.db-wal`), which SQLite creates on demand, is
//! protected before it exists.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Where a path is: the file itself when it exists, and its folder and name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    file: Option<(u64, u64)>,
    slot: Option<((u64, u64), OsString)>,
}

#[cfg(unix)]
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::hash::{Hash, Hasher};
    // Without inodes, the canonical path stands for the file.
    let canonical = std::fs::canonicalize(path).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    canonical.hash(&mut h);
    Some((0, h.finish()))
}

fn identity(path: &Path) -> Identity {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Identity {
        file: file_id(path),
        slot: path
            .file_name()
            .and_then(|name| file_id(parent).map(|dir| (dir, name.to_os_string()))),
    }
}

/// The files a run reads or keeps, which no output may replace.
#[derive(Debug, Default)]
pub struct Protected {
    /// (identity, what the file is, for messages).
    files: Vec<(Identity, String)>,
    /// Input folders: (identity of the folder, its name), whose `.txt` files and files of
    /// records (`.jsonl`, `.csv`, …) are inputs.
    folders: Vec<((u64, u64), String)>,
}

impl Protected {
    /// Protects every input path (`-` is standard input and protects nothing).
    pub fn inputs<S: AsRef<str>>(mut self, inputs: &[S]) -> Protected {
        for input in inputs.iter().map(AsRef::as_ref).filter(|p| *p != "-") {
            let path = Path::new(input);
            if path.is_dir() {
                if let Some(id) = file_id(path) {
                    self.folders.push((id, input.to_string()));
                }
            } else {
                self.files
                    .push((identity(path), format!("the input {input}")));
            }
        }
        self
    }

    /// Protects an index and the files SQLite keeps beside it.
    pub fn index(mut self, db: &Path) -> Protected {
        let name = db.display();
        self.files.push((identity(db), format!("the index {name}")));
        for (suffix, what) in [
            ("-wal", "write-ahead log"),
            ("-shm", "shared-memory file"),
            ("-journal", "journal"),
        ] {
            let mut path = db.as_os_str().to_owned();
            path.push(suffix);
            let path = PathBuf::from(path);
            self.files.push((
                identity(&path),
                format!("{}, the {what} of the index {name}", path.display()),
            ));
        }
        self
    }

    /// Fails when writing `path` (given with `flag`) would replace a protected file.
    pub fn check_output(&self, flag: &str, path: &Path) -> anyhow::Result<()> {
        let out = identity(path);
        for (id, what) in &self.files {
            let same_file = out.file.is_some() && out.file == id.file;
            let same_slot = out.slot.is_some() && out.slot == id.slot;
            if same_file || same_slot {
                anyhow::bail!(
                    "{flag} {} would overwrite {what}; write it somewhere else",
                    path.display()
                );
            }
        }
        let read = path.extension().is_some_and(|e| e == "txt")
            || mukarrar::input::Format::from_file_name(&path.to_string_lossy()).is_some();
        if read {
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let dirs = std::fs::canonicalize(parent).ok();
            for dir in dirs.iter().flat_map(|d| d.ancestors()) {
                if let Some((_, name)) =
                    file_id(dir).and_then(|id| self.folders.iter().find(|(f, _)| *f == id))
                {
                    anyhow::bail!(
                        "{flag} {} would be read as input of the input folder {name} (its .txt \
                         files and files of records such as .jsonl and .csv are inputs); write \
                         it somewhere else",
                        path.display()
                    );
                }
            }
        }
        Ok(())
    }

    /// [`check_output`](Self::check_output) for an optional output.
    pub fn check(&self, flag: &str, path: Option<&Path>) -> anyhow::Result<()> {
        match path {
            Some(path) => self.check_output(flag, path),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_file_under_other_names() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.jsonl");
        std::fs::write(&input, "{}\n").unwrap();
        let db = dir.path().join("i.db");
        std::fs::write(&db, "").unwrap();
        let guard = Protected::default()
            .inputs(&[input.to_str().unwrap()])
            .index(&db);
        let other = dir.path().join("out.csv");
        guard.check_output("-o", &other).unwrap();
        let dotted = dir.path().join(".").join("in.jsonl");
        let err = guard.check_output("-o", &dotted).unwrap_err().to_string();
        assert!(err.contains("would overwrite the input"), "{err}");
        let linked = dir.path().join("hard-link");
        std::fs::hard_link(&input, &linked).unwrap();
        assert!(guard.check_output("-o", &linked).is_err());
        // Not there yet, and still protected.
        let wal = dir.path().join("i.db-wal");
        let err = guard.check_output("-o", &wal).unwrap_err().to_string();
        assert!(err.contains("write-ahead log of the index"), "{err}");
    }

    #[test]
    fn a_text_file_inside_an_input_folder() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("docs");
        std::fs::create_dir_all(folder.join("sub")).unwrap();
        let guard = Protected::default().inputs(&[folder.to_str().unwrap()]);
        assert!(guard
            .check_output("-o", &folder.join("sub").join("report.txt"))
            .is_err());
        for name in ["report.csv", "report.jsonl", "dups.jsonl.gz", "report.tsv"] {
            let err = guard
                .check_output("-o", &folder.join(name))
                .unwrap_err()
                .to_string();
            assert!(err.contains("would be read as input"), "{name}: {err}");
        }
        guard
            .check_output("-o", &folder.join("report.html"))
            .unwrap();
        guard
            .check_output("-o", &dir.path().join("report.txt"))
            .unwrap();
    }
}
