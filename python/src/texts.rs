//! Texts and ids from Python as the library's document stream: pulled in chunks under the
//! GIL (a generator is streamed, never copied into a list), while the library works with the
//! GIL released. A [`Watch`] carries Ctrl-C and Python exceptions out of the library's run.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mukarrar::error::{Location, RecordError};
use mukarrar::progress::Progress;
use mukarrar::Document;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyInt, PyIterator, PyList, PyString};

use crate::errors::PYTHON;

/// Items taken from Python per visit under the GIL.
const CHUNK: usize = 1024;
/// How often a run looks for Ctrl-C.
const POLL: Duration = Duration::from_millis(50);

/// What stops a run from the Python side: Ctrl-C (a signal handler that raised), or an
/// exception from the caller's iterable. The first such error is kept and raised at the end.
#[derive(Debug)]
pub struct Watch {
    stopped: AtomicBool,
    error: Mutex<Option<PyErr>>,
    last_poll: Mutex<Instant>,
}

impl Watch {
    pub fn new() -> Arc<Watch> {
        Arc::new(Watch {
            stopped: AtomicBool::new(false),
            error: Mutex::new(None),
            last_poll: Mutex::new(Instant::now()),
        })
    }

    /// Stops the run with `error`, unless an earlier error already did.
    pub fn fail(&self, error: PyErr) {
        let mut slot = self.error.lock().expect("watch lock");
        if slot.is_none() {
            *slot = Some(error);
        }
        self.stopped.store(true, Ordering::Relaxed);
    }

    /// Runs the signal handlers (on the main thread only: elsewhere this does nothing), and
    /// says whether the run must stop.
    fn poll(&self, py: Python<'_>) -> bool {
        if let Err(e) = py.check_signals() {
            self.fail(e);
        }
        self.stopped.load(Ordering::Relaxed)
    }

    /// The error that stopped the run, if the Python side stopped it.
    pub fn take(&self) -> Option<PyErr> {
        self.error.lock().expect("watch lock").take()
    }

    /// The Python exception for a failed run: the Python side's own error when it stopped
    /// the run, else the library's error.
    pub fn error(&self, e: mukarrar::Error) -> PyErr {
        self.take().unwrap_or_else(|| crate::errors::to_py(e))
    }
}

impl Progress for Watch {
    fn interrupted(&self) -> bool {
        if self.stopped.load(Ordering::Relaxed) {
            return true;
        }
        {
            let mut last = self.last_poll.lock().expect("watch lock");
            if last.elapsed() < POLL {
                return false;
            }
            *last = Instant::now();
        }
        Python::attach(|py| self.poll(py))
    }
}

/// A Python iterable of items: any iterator, or a pyarrow array read in slices (its own
/// iterator would give pyarrow scalars, one object each).
enum Source {
    Iter(Py<PyIterator>),
    Arrow {
        array: Py<PyAny>,
        len: usize,
        next: usize,
        slice: VecDeque<Py<PyAny>>,
    },
}

impl Source {
    fn new(obj: &Bound<'_, PyAny>, argument: &str) -> PyResult<Source> {
        if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
            return Err(PyTypeError::new_err(format!(
                "{argument} must be an iterable of strings, not a single {}",
                obj.get_type().name()?
            )));
        }
        let module: String = obj.get_type().getattr("__module__")?.extract()?;
        if module.starts_with("pyarrow") && obj.hasattr("to_pylist")? && obj.hasattr("slice")? {
            return Ok(Source::Arrow {
                array: obj.clone().unbind(),
                len: obj.len()?,
                next: 0,
                slice: VecDeque::new(),
            });
        }
        let iter = obj.try_iter().map_err(|_| {
            PyTypeError::new_err(format!(
                "{argument} must be an iterable of strings, not {}",
                obj.get_type()
                    .name()
                    .map_or_else(|_| "?".into(), |n| n.to_string())
            ))
        })?;
        Ok(Source::Iter(iter.unbind()))
    }

    fn next<'py>(&mut self, py: Python<'py>) -> Option<PyResult<Bound<'py, PyAny>>> {
        match self {
            Source::Iter(iter) => iter.bind(py).clone().next(),
            Source::Arrow {
                array,
                len,
                next,
                slice,
            } => {
                if slice.is_empty() && *next < *len {
                    let n = CHUNK.min(*len - *next);
                    let items = array
                        .bind(py)
                        .call_method1("slice", (*next, n))
                        .and_then(|s| s.call_method0("to_pylist"))
                        .and_then(|l| Ok(l.cast_into::<PyList>()?));
                    match items {
                        Ok(list) => slice.extend(list.iter().map(Bound::unbind)),
                        Err(e) => return Some(Err(e)),
                    }
                    *next += n;
                }
                slice.pop_front().map(|o| Ok(o.into_bound(py)))
            }
        }
    }
}

/// The original ids, kept so that results name documents by the caller's own objects.
pub type Ids = Arc<Mutex<Vec<Py<PyAny>>>>;

/// Documents from Python texts (and ids): the `i`-th item is document `i` of input
/// [`PYTHON`], its line `i + 1`, its id the `i`-th id (a str, or an int as its decimal
/// form), or `i` without ids.
pub struct Docs {
    texts: Source,
    ids: Option<Source>,
    kept: Option<Ids>,
    position: usize,
    buffer: VecDeque<mukarrar::Result<Document>>,
    done: bool,
    watch: Arc<Watch>,
}

impl Docs {
    /// Documents from `texts` and `ids`; with `keep_ids`, the id objects are kept in the
    /// returned list, in order.
    pub fn new(
        texts: &Bound<'_, PyAny>,
        ids: Option<&Bound<'_, PyAny>>,
        keep_ids: bool,
        watch: &Arc<Watch>,
    ) -> PyResult<(Docs, Option<Ids>)> {
        let kept = (keep_ids && ids.is_some()).then(|| Arc::new(Mutex::new(Vec::new())));
        let docs = Docs {
            texts: Source::new(texts, "texts")?,
            ids: ids.map(|i| Source::new(i, "ids")).transpose()?,
            kept: kept.clone(),
            position: 0,
            buffer: VecDeque::new(),
            done: false,
            watch: watch.clone(),
        };
        Ok((docs, kept))
    }

    /// Stops the stream with a Python error (raised when the library's run returns).
    fn fail(&mut self, error: PyErr) {
        self.watch.fail(error);
        self.buffer.push_back(Err(mukarrar::Error::Interrupted));
        self.done = true;
    }

    fn bad_item(&self, field: &str, item: &Bound<'_, PyAny>) -> mukarrar::Error {
        let found = if item.is_none() {
            "None"
        } else if item.is_instance_of::<PyBytes>() {
            "bytes"
        } else if item.is_instance_of::<pyo3::types::PyFloat>() {
            "a float (NaN marks a missing value in pandas)"
        } else {
            "another type"
        };
        mukarrar::Error::Record {
            location: Location::line(PYTHON, self.position as u64 + 1).with_field(field),
            kind: RecordError::BadFieldType(found),
        }
    }

    fn id_of(&self, item: &Bound<'_, PyAny>) -> Result<String, mukarrar::Error> {
        if let Ok(s) = item.cast::<PyString>() {
            return s
                .to_cow()
                .map(|c| c.into_owned())
                .map_err(|_| self.bad_item("ids", item));
        }
        if item.is_instance_of::<PyInt>() && !item.is_instance_of::<PyBool>() {
            return Ok(item.to_string());
        }
        Err(self.bad_item("ids", item))
    }

    /// Takes up to [`CHUNK`] items from Python.
    fn fill(&mut self, py: Python<'_>) {
        if self.watch.poll(py) {
            self.buffer.push_back(Err(mukarrar::Error::Interrupted));
            self.done = true;
            return;
        }
        for _ in 0..CHUNK {
            let text = match self.texts.next(py) {
                None => {
                    if let Some(Some(_)) = self.ids.as_mut().map(|i| i.next(py)) {
                        self.fail(PyValueError::new_err(format!(
                            "ids has more items than texts ({})",
                            self.position
                        )));
                    }
                    self.done = true;
                    return;
                }
                Some(Err(e)) => return self.fail(e),
                Some(Ok(text)) => text,
            };
            let id = match self.ids.as_mut().map(|i| i.next(py)) {
                None => Ok(self.position.to_string()),
                Some(None) => {
                    return self.fail(PyValueError::new_err(format!(
                        "ids has fewer items than texts ({} ids)",
                        self.position
                    )))
                }
                Some(Some(Err(e))) => return self.fail(e),
                Some(Some(Ok(id))) => {
                    let parsed = self.id_of(&id);
                    if let Some(kept) = &self.kept {
                        kept.lock().expect("ids lock").push(id.unbind());
                    }
                    parsed
                }
            };
            let doc = id.and_then(|id| {
                let text = text
                    .cast::<PyString>()
                    .ok()
                    .and_then(|s| s.to_cow().ok())
                    .ok_or_else(|| self.bad_item("texts", &text))?;
                let mut doc = Document::new(id, text.into_owned());
                doc.line = self.position as u64 + 1;
                Ok(doc)
            });
            self.buffer.push_back(doc);
            self.position += 1;
        }
    }
}

impl Iterator for Docs {
    type Item = mukarrar::Result<Document>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buffer.is_empty() && !self.done {
            Python::attach(|py| self.fill(py));
        }
        self.buffer.pop_front()
    }
}
