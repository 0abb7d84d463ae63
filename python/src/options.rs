//! Keyword arguments → [`Settings`]: every setting by its command-line name, through the
//! library's [`Options`], so that names, defaults and messages are the command line's.

use mukarrar::cluster::{Measure, Representative, Verify};
use mukarrar::lsh::Objective;
use mukarrar::normalize::Profile;
use mukarrar::settings::{Linkage, Options, Settings};
use mukarrar::shingle::ShingleKind;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};

/// A keyword argument's value, checked the way the command line checks its flag.
trait Keyword: Sized {
    fn from_py(value: &Bound<'_, PyAny>, name: &str) -> PyResult<Self>;
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map_or_else(|_| "?".into(), |n| n.to_string())
}

impl Keyword for bool {
    fn from_py(value: &Bound<'_, PyAny>, name: &str) -> PyResult<bool> {
        if value.is_instance_of::<PyBool>() {
            value.extract()
        } else {
            Err(PyTypeError::new_err(format!(
                "{name} must be True or False, not {}",
                type_name(value)
            )))
        }
    }
}

/// A whole number ≥ 0 (bool, a subclass of int, is refused).
fn whole(value: &Bound<'_, PyAny>, name: &str) -> PyResult<u64> {
    if !value.is_instance_of::<PyInt>() || value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{name} must be an int, not {}",
            type_name(value)
        )));
    }
    value.extract::<u64>().map_err(|_| {
        PyValueError::new_err(format!(
            "{name} {value} is out of range (a whole number from 0 to {})",
            u64::MAX
        ))
    })
}

impl Keyword for u64 {
    fn from_py(value: &Bound<'_, PyAny>, name: &str) -> PyResult<u64> {
        whole(value, name)
    }
}

impl Keyword for usize {
    fn from_py(value: &Bound<'_, PyAny>, name: &str) -> PyResult<usize> {
        usize::try_from(whole(value, name)?)
            .map_err(|_| PyValueError::new_err(format!("{name} {value} is out of range")))
    }
}

impl Keyword for Option<usize> {
    fn from_py(value: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<usize>> {
        if value.is_none() {
            Ok(None)
        } else {
            usize::from_py(value, name).map(Some)
        }
    }
}

impl Keyword for f64 {
    fn from_py(value: &Bound<'_, PyAny>, name: &str) -> PyResult<f64> {
        let number = value.is_instance_of::<PyFloat>()
            || (value.is_instance_of::<PyInt>() && !value.is_instance_of::<PyBool>());
        if number {
            value.extract()
        } else {
            Err(PyTypeError::new_err(format!(
                "{name} must be a float, not {}",
                type_name(value)
            )))
        }
    }
}

/// Settings named by a word (`linkage="representative"`): parsed as the command line parses
/// them, with its message for an unknown word.
macro_rules! named {
    ($($t:ty),* $(,)?) => {$(
        impl Keyword for $t {
            fn from_py(value: &Bound<'_, PyAny>, name: &str) -> PyResult<$t> {
                let text = value.cast::<PyString>().map_err(|_| {
                    PyTypeError::new_err(format!("{name} must be a str, not {}", type_name(value)))
                })?;
                text.to_cow()?.parse::<$t>().map_err(PyValueError::new_err)
            }
        }
    )*};
}
named!(
    Profile,
    ShingleKind,
    Objective,
    Measure,
    Verify,
    Linkage,
    Representative
);

/// Every field of [`Options`] as a keyword: the pattern in `_every_field` stops the build
/// when the library gains a setting that is not listed here.
macro_rules! keywords {
    ($($name:ident),* $(,)?) => {
        /// The keyword names, in the order of the command line's `--help`.
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];

        fn set(options: &mut Options, name: &str, value: &Bound<'_, PyAny>) -> PyResult<bool> {
            match name {
                $(stringify!($name) => options.$name = Keyword::from_py(value, name)?,)*
                _ => return Ok(false),
            }
            Ok(true)
        }

        #[allow(dead_code)]
        fn _every_field(options: Options) {
            let Options { $($name: _),* } = options;
        }
    };
}

keywords!(
    normalize,
    shingle,
    ngram,
    keep_title_tags,
    short_words,
    short_threshold,
    ignore_numbers,
    short_run_words,
    cross_words,
    cross_containment,
    lead_words,
    boilerplate_df,
    lead_weight,
    num_perm,
    word_sketch,
    seed,
    threshold,
    word_low,
    word_threshold,
    lsh_objective,
    bands,
    rows,
    measure,
    verify,
    linkage,
    representative,
);

/// Applies the keyword arguments to `options`; `function` names the caller in the message
/// for an unknown keyword.
fn apply(
    options: &mut Options,
    kwargs: Option<&Bound<'_, PyDict>>,
    function: &str,
) -> PyResult<()> {
    let Some(kwargs) = kwargs else {
        return Ok(());
    };
    for (key, value) in kwargs.iter() {
        let name: String = key.extract()?;
        if !set(options, &name, &value)? {
            return Err(PyTypeError::new_err(format!(
                "{function}() got an unexpected keyword argument '{name}'; the settings are: {}",
                NAMES.join(", ")
            )));
        }
    }
    Ok(())
}

/// The options the keyword arguments give, from the command line's defaults.
pub fn options(kwargs: Option<&Bound<'_, PyDict>>, function: &str) -> PyResult<Options> {
    let mut options = Options::default();
    apply(&mut options, kwargs, function)?;
    Ok(options)
}

/// The validated settings the keyword arguments give.
pub fn settings(kwargs: Option<&Bound<'_, PyDict>>, function: &str) -> PyResult<Settings> {
    options(kwargs, function)?
        .settings()
        .map_err(crate::errors::to_py)
}

/// The settings `stored` with the keyword arguments applied over them, as the command line
/// reads settings flags given with an index: a new kind of shingle takes its own default size
/// unless `ngram` is given too.
pub fn over(
    stored: &Settings,
    kwargs: Option<&Bound<'_, PyDict>>,
    function: &str,
) -> PyResult<Settings> {
    let mut options = Options::from_settings(stored);
    if kwargs.is_some_and(|k| k.contains("shingle").unwrap_or(false)) {
        options.ngram = None;
    }
    apply(&mut options, kwargs, function)?;
    options.settings().map_err(crate::errors::to_py)
}
