//! `mukarrar.Index`: the persistent index, the same SQLite file the command line uses.

use std::path::PathBuf;
use std::sync::Mutex;

use mukarrar::index::{Access, AddOptions, Index as Store, OnDuplicate};
use mukarrar::pipeline::Input;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::clusters::Clusters;
use crate::errors::{to_py, PYTHON};
use crate::options;
use crate::texts::{Docs, Watch};

/// A persistent, incremental index: documents are added night after night and checked
/// against everything already held. The file is the one `mukarrar index` reads and writes.
///
/// `Index(path)` opens an index (`readonly=True` for reading only); `Index.create(path,
/// **settings)` makes a new one. Use it as a context manager, or call `close()`.
#[pyclass(module = "mukarrar")]
pub struct Index {
    store: Mutex<Option<Store>>,
    path: PathBuf,
}

impl Index {
    /// Runs `f` on the open index with the GIL released.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Store) -> PyResult<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            let mut guard = self.store.lock().expect("index lock");
            match guard.as_mut() {
                Some(store) => f(store),
                None => Err(PyValueError::new_err(format!(
                    "{}: the index is closed",
                    self.path.display()
                ))),
            }
        })
    }
}

fn add_options(
    on_duplicate: &str,
    batch_size: Option<usize>,
    first_seen: Option<String>,
    skip_invalid: bool,
    include_singletons: bool,
) -> PyResult<AddOptions> {
    if batch_size == Some(0) {
        return Err(PyValueError::new_err("batch_size must be at least 1"));
    }
    Ok(AddOptions {
        on_duplicate: on_duplicate
            .parse::<OnDuplicate>()
            .map_err(PyValueError::new_err)?,
        batch_size,
        skip_invalid,
        first_seen,
        include_singletons,
    })
}

#[pymethods]
impl Index {
    #[new]
    #[pyo3(signature = (path, readonly=false))]
    fn open(py: Python<'_>, path: PathBuf, readonly: bool) -> PyResult<Index> {
        let access = if readonly {
            Access::ReadOnly
        } else {
            Access::ReadWrite
        };
        let store = py.detach(|| Store::open(&path, access)).map_err(to_py)?;
        Ok(Index {
            store: Mutex::new(Some(store)),
            path,
        })
    }

    /// Creates a new index at `path` with the settings given (the command line's names and
    /// defaults), fixed for the index's life.
    #[staticmethod]
    #[pyo3(signature = (path, **settings))]
    fn create(
        py: Python<'_>,
        path: PathBuf,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Index> {
        let settings = options::settings(settings, "create")?;
        let store = py
            .detach(|| Store::create(&path, &settings))
            .map_err(to_py)?;
        Ok(Index {
            store: Mutex::new(Some(store)),
            path,
        })
    }

    /// Adds the documents (`texts` with their `ids`) and reports which joined which clusters,
    /// as `mukarrar index add --format json` does. One transaction, or one per `batch_size`
    /// documents; ids already indexed are skipped (`on_duplicate="replace"` or `"error"`).
    #[pyo3(signature = (texts, ids, *, batch_size=None, on_duplicate="skip", first_seen=None, skip_invalid=false, include_singletons=false))]
    #[allow(clippy::too_many_arguments)]
    fn add<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        ids: &Bound<'py, PyAny>,
        batch_size: Option<usize>,
        on_duplicate: &str,
        first_seen: Option<String>,
        skip_invalid: bool,
        include_singletons: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = add_options(
            on_duplicate,
            batch_size,
            first_seen,
            skip_invalid,
            include_singletons,
        )?;
        let watch = Watch::new();
        let (docs, _) = Docs::new(texts, Some(ids), false, &watch)?;
        let input = Input::new(PYTHON, docs);
        let change = self.with(py, |store| {
            store
                .add(vec![input], &options, &*watch, &mut |_| {})
                .map_err(|e| watch.error(e))
        })?;
        Ok(pythonize::pythonize(py, &change)?)
    }

    /// Reports what adding the documents would do, without changing the index, as
    /// `mukarrar index query --format json` does.
    #[pyo3(signature = (texts, ids, *, skip_invalid=false, include_singletons=false))]
    fn query<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        ids: &Bound<'py, PyAny>,
        skip_invalid: bool,
        include_singletons: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = add_options("skip", None, None, skip_invalid, include_singletons)?;
        let watch = Watch::new();
        let (docs, _) = Docs::new(texts, Some(ids), false, &watch)?;
        let input = Input::new(PYTHON, docs);
        let change = self.with(py, |store| {
            store
                .query(vec![input], &options, &*watch)
                .map_err(|e| watch.error(e))
        })?;
        Ok(pythonize::pythonize(py, &change)?)
    }

    /// Removes the documents with the given ids, or (`before=DATE`) every document first
    /// seen before a date; clusters that lose members are re-formed. One transaction.
    #[pyo3(signature = (ids=None, *, before=None))]
    fn remove<'py>(
        &self,
        py: Python<'py>,
        ids: Option<Vec<String>>,
        before: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let removal = match (ids, before) {
            (Some(ids), None) => self.with(py, |s| s.remove_ids(&ids).map_err(to_py))?,
            (None, Some(date)) => self.with(py, |s| s.remove_before(&date).map_err(to_py))?,
            _ => {
                return Err(PyValueError::new_err(
                    "give either ids or before=DATE (not both)",
                ))
            }
        };
        Ok(pythonize::pythonize(py, &removal)?)
    }

    /// Every cluster in the index, as `mukarrar index export` reports them (with
    /// `include_singletons`, every other document as a cluster of one).
    #[pyo3(signature = (include_singletons=false))]
    fn export(&self, py: Python<'_>, include_singletons: bool) -> PyResult<Clusters> {
        let report = self.with(py, |s| s.export(include_singletons).map_err(to_py))?;
        Clusters::from_report(py, &report)
    }

    /// Counts and facts about the index, as `mukarrar index stats --format json` gives them.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let stats = self.with(py, |s| s.stats().map_err(to_py))?;
        let dict = pythonize::pythonize(py, &stats)?;
        dict.set_item("path", self.path.display().to_string())?;
        Ok(dict)
    }

    /// The settings the index was created with.
    #[getter]
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let settings = self.with(py, |s| Ok(s.settings().clone()))?;
        Ok(pythonize::pythonize(py, &settings)?)
    }

    /// The index file.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Closes the index (every change is already committed).
    fn close(&self, py: Python<'_>) {
        let store = py.detach(|| self.store.lock().expect("index lock").take());
        drop(store);
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        format!("Index({:?})", self.path.display().to_string())
    }
}
