//! Temporary files and folders that must not outlive an interrupted run.
//!
//! A report is written through a temporary file beside its destination, and anything else
//! temporary (spilled runs, scratch folders) lives in a temporary path too. Their owners remove
//! them when dropped, on success and on error; but SIGINT and SIGTERM end the process without
//! running destructors. [`install`] starts one thread that, on either signal, removes every
//! path still [`register`]ed and exits with 128 + the signal (130 for SIGINT, 143 for SIGTERM).
//!
//! A command that stops gracefully on a signal (`filter` writes out what it decided and
//! commits) calls [`graceful`] instead: the first signal then only raises a flag it polls, and a
//! second one cleans up and exits at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};

/// Paths to remove on a signal, by registration number.
static PATHS: Mutex<BTreeMap<u64, PathBuf>> = Mutex::new(BTreeMap::new());
static NEXT: AtomicU64 = AtomicU64::new(0);
/// Set by [`graceful`]: the first signal raises [`Flags::stop`] instead of exiting.
static GRACEFUL: OnceLock<Flags> = OnceLock::new();

/// What a graceful command polls: `stop` is raised by the first SIGINT or SIGTERM and
/// `signal` says which.
#[derive(Clone)]
pub struct Flags {
    pub stop: Arc<AtomicBool>,
    pub signal: Arc<AtomicI32>,
}

/// Starts the signal thread. Called once, before any command runs; if the handlers cannot be
/// installed the signals keep their default action (nothing is lost but the cleanup).
pub fn install() {
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("mukarrar-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if let Some(flags) = GRACEFUL.get() {
                    if !flags.stop.swap(true, Ordering::SeqCst) {
                        flags.signal.store(signal, Ordering::SeqCst);
                        continue;
                    }
                }
                remove_all();
                std::process::exit(128 + signal);
            }
        });
}

/// Makes the first SIGINT or SIGTERM raise the returned flags instead of ending the process.
pub fn graceful() -> Flags {
    GRACEFUL
        .get_or_init(|| Flags {
            stop: Arc::new(AtomicBool::new(false)),
            signal: Arc::new(AtomicI32::new(0)),
        })
        .clone()
}

/// Keeps `path` on the list of paths removed on a signal until the returned guard is dropped.
/// The guard does not remove the path itself: its owner does (a `tempfile` handle, a rename).
#[must_use = "the path is unregistered when the guard is dropped"]
pub struct Registered(u64);

impl Drop for Registered {
    fn drop(&mut self) {
        if let Ok(mut paths) = PATHS.lock() {
            paths.remove(&self.0);
        }
    }
}

/// Registers a temporary file or folder to be removed if the process is stopped by a signal.
pub fn register(path: &Path) -> Registered {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut paths) = PATHS.lock() {
        paths.insert(n, path.to_path_buf());
    }
    Registered(n)
}

fn remove_all() {
    let paths = match PATHS.lock() {
        Ok(paths) => paths.values().cloned().collect::<Vec<_>>(),
        Err(poisoned) => poisoned.into_inner().values().cloned().collect(),
    };
    for path in paths {
        if path.is_dir() {
            let _ = std::fs::remove_dir_all(&path);
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_guard_is_no_longer_removed() {
        let dir = tempfile::tempdir().unwrap();
        let kept = dir.path().join("kept");
        let gone = dir.path().join("gone");
        std::fs::write(&kept, "x").unwrap();
        std::fs::create_dir(&gone).unwrap();
        std::fs::write(gone.join("run-0"), "x").unwrap();
        let guard = register(&kept);
        drop(guard);
        let _still = register(&gone);
        remove_all();
        assert!(kept.exists(), "an unregistered path must survive");
        assert!(
            !gone.exists(),
            "a registered folder is removed with its contents"
        );
    }
}
