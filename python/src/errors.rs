//! The library's errors as Python exceptions: `ValueError` for settings, `KeyboardInterrupt`
//! for an interrupted call, and `mukarrar.Error` subclasses for input and index errors, with
//! the command line's messages.

use mukarrar::error::{Location, RecordError};
use pyo3::exceptions::{PyException, PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;

pyo3::create_exception!(
    mukarrar,
    Error,
    PyException,
    "Base class of the errors mukarrar raises (besides ValueError for bad settings)."
);
pyo3::create_exception!(
    mukarrar,
    InputError,
    Error,
    "A text or id that cannot be used, or an input that cannot be read; the message says which."
);
pyo3::create_exception!(
    mukarrar,
    IndexFileError,
    Error,
    "An index file that cannot be used as asked; the message says what to do."
);

/// The name of every input that comes from Python; locations in it are positions.
pub const PYTHON: &str = "<python>";

/// `texts[5]` for the 6th item of a Python input (`field` names the argument), or the
/// location as the library writes it.
fn position(location: &Location, field: &str) -> String {
    match location.line {
        Some(line) if location.source == PYTHON => {
            let field = location.field.as_deref().unwrap_or(field);
            format!("{field}[{}]", line.saturating_sub(1))
        }
        _ => location.to_string(),
    }
}

/// The library's message, with Python positions (`ids[3]`) where the input came from Python.
fn message(e: &mukarrar::Error) -> String {
    let mukarrar::Error::Record { location, kind } = e else {
        return e.to_string();
    };
    match kind {
        RecordError::DuplicateId { id, first } => {
            let first = match first.split_once(':') {
                Some((source, line)) if source == PYTHON => {
                    format!(
                        "ids[{}]",
                        line.parse::<u64>().unwrap_or(1).saturating_sub(1)
                    )
                }
                _ => first.clone(),
            };
            format!(
                "{}: duplicate id `{id}` (first seen at {first})",
                position(location, "ids")
            )
        }
        RecordError::BadFieldType(found) => format!(
            "{}: expected a string, found {found}",
            position(location, "texts")
        ),
        kind => format!("{}: {kind}", position(location, "texts")),
    }
}

/// The Python exception for a library error.
pub fn to_py(e: mukarrar::Error) -> PyErr {
    match e {
        mukarrar::Error::Config(m) => PyValueError::new_err(m),
        mukarrar::Error::Interrupted => PyKeyboardInterrupt::new_err(()),
        mukarrar::Error::Index { .. } => IndexFileError::new_err(e.to_string()),
        mukarrar::Error::Record { .. }
        | mukarrar::Error::Input { .. }
        | mukarrar::Error::Io { .. } => InputError::new_err(message(&e)),
        e => Error::new_err(e.to_string()),
    }
}
