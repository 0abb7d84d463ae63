//! Where reports go: standard output, or a file written through a temporary file in the same
//! folder and renamed into place, so a failed run never leaves half a report.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;

/// Runs `write` against `path` (or standard output when `None`).
pub fn write_to(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    match path {
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
            write(&mut out)?;
            out.flush()?;
            Ok(())
        }
        Some(path) if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) => {
            // A device, a FIFO or the like (`-o /dev/null`, `-o >(gzip ...)`): write to it as it
            // is. Renaming a temporary file onto it would replace the device with a file.
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let mut out = BufWriter::with_capacity(1 << 16, file);
            write(&mut out).with_context(|| format!("writing {}", path.display()))?;
            out.flush()
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(())
        }
        Some(path) => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let tmp = tempfile::Builder::new()
                .prefix(".mukarrar-")
                .suffix(".tmp")
                .tempfile_in(dir)
                .with_context(|| format!("cannot create a file in {}", dir.display()))?;
            let _registered = super::cleanup::register(tmp.path());
            let mut out = BufWriter::with_capacity(1 << 16, tmp);
            write(&mut out).with_context(|| format!("writing {}", path.display()))?;
            let tmp = out
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(|| format!("writing {}", path.display()))?;
            tmp.as_file()
                .sync_all()
                .with_context(|| format!("writing {}", path.display()))?;
            // A temporary file is private (0600); the report gets the permissions of the file
            // it replaces, or those of a newly created file.
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
