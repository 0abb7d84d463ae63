//! Where reports go: standard output, or a file written through a temporary file in the same
//! folder and renamed into place, so a failed run never leaves half a report.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Runs `write` against `path` (or standard output when `None`).
pub fn write_to(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    Output::open(path)?.write(write)
}

/// A report's destination, opened before the work that makes the report: a folder that does
/// not exist or cannot be written fails the run before it reads or commits anything.
pub enum Output {
    /// Standard output.
    Stdout,
    /// A device, a FIFO or the like, written as it is.
    Device(std::fs::File, PathBuf),
    /// A temporary file beside the destination, renamed into place when written; removed
    /// when dropped unwritten, and on SIGINT or SIGTERM.
    File(tempfile::NamedTempFile, PathBuf, super::cleanup::Registered),
}

impl Output {
    /// Opens the destination: for a file, creates its temporary file now.
    pub fn open(path: Option<&Path>) -> anyhow::Result<Output> {
        match path {
            None => Ok(Output::Stdout),
            Some(path) if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) => {
                if path.is_dir() {
                    anyhow::bail!("cannot write {}: it is a folder", path.display());
                }
                // A device, a FIFO or the like (`-o /dev/null`, `-o >(gzip ...)`): write to it
                // as it is. Renaming a temporary file onto it would replace the device with a
                // file.
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Ok(Output::Device(file, path.to_path_buf()))
            }
            Some(path) => {
                let dir = match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                if !dir.is_dir() {
                    anyhow::bail!(
                        "cannot write {}: the folder {} does not exist",
                        path.display(),
                        dir.display()
                    );
                }
                let tmp = tempfile::Builder::new()
                    .prefix(".mukarrar-")
                    .suffix(".tmp")
                    .tempfile_in(dir)
                    .with_context(|| {
                        format!(
                            "cannot write {}: cannot create a file in {}",
                            path.display(),
                            dir.display()
                        )
                    })?;
                let registered = super::cleanup::register(tmp.path());
                Ok(Output::File(tmp, path.to_path_buf(), registered))
            }
        }
    }

    /// Writes the report with `write` and puts it in place.
    pub fn write(self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> anyhow::Result<()> {
        match self {
            Output::Stdout => {
                let stdout = io::stdout();
                let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
                write(&mut out)?;
                out.flush()?;
                Ok(())
            }
            Output::Device(file, path) => {
                let mut out = BufWriter::with_capacity(1 << 16, file);
                write(&mut out).with_context(|| format!("writing {}", path.display()))?;
                out.flush()
                    .with_context(|| format!("writing {}", path.display()))?;
                Ok(())
            }
            Output::File(tmp, path, _registered) => {
                let path = path.as_path();
                let mut out = BufWriter::with_capacity(1 << 16, tmp);
                write(&mut out).with_context(|| format!("writing {}", path.display()))?;
                let tmp = out
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("writing {}", path.display()))?;
                tmp.as_file()
                    .sync_all()
                    .with_context(|| format!("writing {}", path.display()))?;
                // A temporary file is private (0600); the report gets the permissions of the
                // file it replaces, or those of a newly created file.
                let permissions = match std::fs::metadata(path) {
                    Ok(m) => Some(m.permissions()),
                    Err(_) => new_file_permissions(),
                };
                if let Some(permissions) = permissions {
                    std::fs::set_permissions(tmp.path(), permissions)
                        .with_context(|| format!("writing {}", path.display()))?;
                }
                tmp.persist(path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Ok(())
            }
        }
    }
}

/// The permissions of a newly created file: 0666 less the process umask, learnt from a file
/// created the ordinary way. `None` where permissions are not Unix modes.
fn new_file_permissions() -> Option<std::fs::Permissions> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().ok()?;
        let probe = dir.path().join("probe");
        std::fs::File::create(&probe).ok()?;
        let mode = std::fs::metadata(&probe).ok()?.permissions().mode();
        Some(std::fs::Permissions::from_mode(mode & 0o777))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// True when standard output is a terminal.
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}
