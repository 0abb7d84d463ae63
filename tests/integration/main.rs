//! The integration tests: the library through its public API and the `mukarrar` binary as a
//! user runs it, one module per area, in one test binary (one link instead of one per file).
//!
//! Tests that need programs a fresh machine may lack (Chromium, Java, pyspark) are in
//! `tests/external`, which reports them as skipped when those are absent.

// Where a test file of its own (`tests/NAME.rs`, `mod support;`) finds it too.
#[path = "../support/mod.rs"]
mod support;

mod cli;
mod compare;
mod completions;
mod cross;
mod filter;
mod filter_cli;
mod formats;
mod hostile;
mod index;
mod index_crash;
mod index_top;
mod input_readers;
mod minhash_estimate;
mod normalize_cases;
mod readme;
mod reword;
mod sign;
mod spill;
