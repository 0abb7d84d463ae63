//! mukarrar finds near-duplicate Arabic texts and groups them.
#![deny(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod document;
pub mod error;
pub mod input;
pub mod normalize;
pub mod progress;

pub use document::Document;
pub use error::{Error, Location, RecordError, Result};
