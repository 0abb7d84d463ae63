//! mukarrar finds near-duplicate Arabic texts and groups them.
#![deny(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod cluster;
pub mod compare;
pub mod cross;
pub mod date;
pub mod document;
pub mod error;
pub mod eval;
pub mod filter;
pub mod index;
pub mod input;
pub mod lsh;
pub mod minhash;
pub mod normalize;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod settings;
pub mod shingle;
pub mod sign;
pub mod signature;
pub mod spill;

pub use document::Document;
pub use error::{Error, Location, RecordError, Result};
