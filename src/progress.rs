//! Progress and warnings reach the caller through a trait, so the library never prints.
//!
//! The command-line tool implements [`Progress`] with progress bars; library users get
//! [`NoProgress`] unless they supply their own.

use crate::error::Error;

/// The stages of a run, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Reading input, normalizing, shingling and signing documents.
    Sign,
    /// Building band keys, grouping them into candidate buckets, verifying candidate pairs.
    Band,
    /// Forming clusters: representatives and similarities.
    Cluster,
    /// Writing the report.
    Report,
}

impl Stage {
    /// A short lower-case name, as shown in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Sign => "read+sign",
            Stage::Band => "band+verify",
            Stage::Cluster => "cluster",
            Stage::Report => "report",
        }
    }
}

/// Receives progress and non-fatal warnings. Every method has a no-op default.
pub trait Progress: Send + Sync {
    /// A stage begins; `total` is the amount of work when known (documents or bytes).
    fn start(&self, _stage: Stage, _total: Option<u64>) {}
    /// `n` more units of the current stage are done.
    fn advance(&self, _n: u64) {}
    /// The current stage is done.
    fn finish(&self, _stage: Stage) {}
    /// A record was skipped (with `skip_invalid`); the error names file and line.
    fn warn(&self, _error: &Error) {}
    /// True when the caller wants the run to stop (a front end that saw Ctrl-C): a run that
    /// asks ([`crate::pipeline::run`], between batches of documents and between stages)
    /// stops with [`Error::Interrupted`].
    fn interrupted(&self) -> bool {
        false
    }
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}
