//! `mukarrar.Filter`: the streaming filter, one document (or one batch) at a time, in memory
//! or against (and into) an index.

use std::path::PathBuf;
use std::sync::Mutex;

use mukarrar::cluster::Verify;
use mukarrar::filter::{Decision as Decided, Engine, WindowLimit};
use mukarrar::index::{Access, Appender, Index, Unmatched};
use mukarrar::pipeline::{preview, Scratch, Settings, Signer};
use mukarrar::settings::{Signed, Traits};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyString};
use rayon::prelude::*;

use crate::errors::{to_py, PYTHON};
use crate::options;
use crate::texts::{Docs, Watch};

/// The decision about one document.
#[pyclass(frozen, module = "mukarrar", get_all)]
pub struct Decision {
    /// True when an earlier document tells the same story.
    pub is_duplicate: bool,
    /// The id of the earliest such document (None for a first-seen document).
    pub duplicate_of: Option<String>,
    /// The story: a first-seen document's own position; a duplicate's, the cluster of the
    /// document it repeats (with an index, the cluster in the index).
    pub cluster_id: u64,
    /// The similarity to `duplicate_of` (None for a first-seen document).
    pub similarity: Option<f64>,
    /// The document's position in the stream (continuing the index's positions).
    pub position: u64,
    /// The position of `duplicate_of` (None for a first-seen document).
    pub duplicate_position: Option<u64>,
    /// True when `duplicate_of` was found in the index rather than in the window.
    pub in_index: bool,
}

impl From<Decided> for Decision {
    fn from(d: Decided) -> Decision {
        let earlier = d.duplicate_of.as_ref();
        Decision {
            is_duplicate: d.is_duplicate(),
            duplicate_of: earlier.map(|e| e.id.clone()),
            cluster_id: d.cluster_id,
            similarity: earlier.map(|e| e.similarity),
            position: d.position,
            duplicate_position: earlier.map(|e| e.position),
            in_index: earlier.is_some_and(|e| e.in_index),
        }
    }
}

#[pymethods]
impl Decision {
    fn __bool__(&self) -> bool {
        self.is_duplicate
    }

    fn __repr__(&self) -> String {
        match (&self.duplicate_of, self.similarity) {
            (Some(of), Some(s)) => format!(
                "Decision(is_duplicate=True, duplicate_of={of:?}, cluster_id={}, similarity={s}, position={})",
                self.cluster_id, self.position
            ),
            _ => format!(
                "Decision(is_duplicate=False, cluster_id={}, position={})",
                self.cluster_id, self.position
            ),
        }
    }
}

/// A signed document, owned.
struct SignedText {
    sig: Vec<u32>,
    traits: Traits,
    words: Vec<u64>,
    set: Option<Vec<u64>>,
    chars: u64,
    preview: String,
}

fn sign(signer: &Signer, exact: bool, text: &str, scratch: &mut Scratch) -> SignedText {
    let mut sig = vec![0; signer.num_perm()];
    let traits = signer.sign_into(text, scratch, &mut sig);
    SignedText {
        sig,
        traits,
        words: scratch.words.clone(),
        set: exact.then(|| scratch.shingles.clone()),
        chars: text.chars().count() as u64,
        preview: preview(text),
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    documents: u64,
    duplicates: u64,
    stored: u64,
    not_stored: u64,
    batches: u64,
}

/// The counts `Filter.stats` gives, kept when the filter is closed.
#[derive(Debug, Clone, Copy)]
struct Snapshot {
    counts: Counts,
    window: usize,
    evicted: u64,
    spilled: u64,
    adds: bool,
}

struct State {
    engine: Engine,
    signer: Signer,
    exact: bool,
    scratch: Scratch,
    index: Option<Index>,
    appender: Option<Appender>,
    batch_size: usize,
    counts: Counts,
}

impl State {
    /// Decides about one signed document, against the index too when there is one, and
    /// stores it there when asked and first seen.
    fn decide(&mut self, id: Option<String>, doc: &SignedText) -> mukarrar::Result<Decided> {
        let id = id.unwrap_or_else(|| self.engine.next_position().to_string());
        let signed = Signed {
            sig: &doc.sig,
            traits: doc.traits,
            words: &doc.words,
            set: doc.set.as_deref(),
        };
        let decision = match &self.index {
            None => self.engine.decide(&id, &signed, None, None)?,
            Some(index) => {
                if let Some(appender) = self.appender.as_mut() {
                    if !appender.is_open() {
                        let next = appender.begin(index)?;
                        self.engine.align(next);
                    }
                }
                let indexed = index.first_match(&signed)?;
                let decision = self.engine.decide(&id, &signed, None, indexed)?;
                if let Some(appender) = self.appender.as_mut() {
                    appender.record();
                    if !decision.is_duplicate() {
                        if index.contains_id(&id)? {
                            appender.skip();
                            self.counts.not_stored += 1;
                        } else {
                            let source = format!("{PYTHON}:{}", self.counts.documents + 1);
                            let doc = Unmatched {
                                id: &id,
                                signed,
                                chars: doc.chars,
                                preview: &doc.preview,
                                source: &source,
                            };
                            appender.append(index, decision.position, &doc)?;
                            self.counts.stored += 1;
                        }
                    }
                    if appender.records() >= self.batch_size {
                        self.commit()?;
                    }
                }
                decision
            }
        };
        self.counts.documents += 1;
        self.counts.duplicates += u64::from(decision.is_duplicate());
        Ok(decision)
    }

    /// Commits the open batch of stored documents, if any.
    fn commit(&mut self) -> mukarrar::Result<()> {
        if let (Some(appender), Some(index)) = (self.appender.as_mut(), &self.index) {
            if appender
                .commit(index, self.engine.next_position())?
                .is_some()
            {
                self.counts.batches += 1;
            }
        }
        Ok(())
    }
}

impl State {
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            counts: self.counts,
            window: self.engine.window_len(),
            evicted: self.engine.evicted(),
            spilled: self.engine.spilled(),
            adds: self.appender.is_some(),
        }
    }
}

impl Drop for State {
    fn drop(&mut self) {
        // What was decided is kept, as the command line keeps it when stopped.
        let _ = self.commit();
    }
}

fn id_text(id: Option<&Bound<'_, PyAny>>) -> PyResult<Option<String>> {
    let Some(id) = id.filter(|i| !i.is_none()) else {
        return Ok(None);
    };
    if let Ok(s) = id.cast::<PyString>() {
        return Ok(Some(s.to_cow()?.into_owned()));
    }
    if id.is_instance_of::<PyInt>() && !id.is_instance_of::<PyBool>() {
        return Ok(Some(id.to_string()));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "id must be a str or an int, not {}",
        id.get_type().name()?
    )))
}

/// The streaming filter: each document is checked against the documents seen before it (the
/// last `window` of them) and, with `db`, against an index; with `add`, first-seen
/// documents are stored in the index (committed every `batch_size` documents, on `commit()`,
/// `close()` and at the end of a `with` block). `memory_limit` (bytes; default half the
/// physical memory) and `temp_dir` are `mukarrar filter`'s `--memory-limit` and `--temp-dir`:
/// the oldest documents of a window larger than the limit move to a temporary database, with
/// the same decisions.
#[pyclass(module = "mukarrar")]
pub struct Filter {
    state: Mutex<Option<State>>,
    /// The counts at `close()`.
    closed: Mutex<Option<Snapshot>>,
    settings: Settings,
}

impl Filter {
    fn with_state<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut State) -> mukarrar::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            let mut guard = self.state.lock().expect("filter lock");
            match guard.as_mut() {
                Some(state) => f(state).map_err(to_py),
                None => Err(PyValueError::new_err("the filter is closed")),
            }
        })
    }
}

#[pymethods]
impl Filter {
    #[new]
    #[pyo3(signature = (window=100_000, db=None, add=false, batch_size=1000, *, memory_limit=None, temp_dir=None, **settings))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        window: usize,
        db: Option<PathBuf>,
        add: bool,
        batch_size: usize,
        memory_limit: Option<u64>,
        temp_dir: Option<PathBuf>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Filter> {
        if add && db.is_none() {
            return Err(PyValueError::new_err(
                "add=True stores first-seen documents in an index: give db=PATH too",
            ));
        }
        if batch_size == 0 {
            return Err(PyValueError::new_err("batch_size must be at least 1"));
        }
        let budget = crate::budget(memory_limit, temp_dir)?;
        let index = match &db {
            Some(path) => {
                let access = if add {
                    Access::ReadWrite
                } else {
                    Access::ReadOnly
                };
                Some(py.detach(|| Index::open(path, access)).map_err(to_py)?)
            }
            None => None,
        };
        let settings = match &index {
            Some(index) => {
                let stored = index.settings();
                let asked = options::over(stored, settings, "Filter")?;
                if &asked != stored {
                    return Err(PyValueError::new_err(format!(
                        "{}: the index was created with other settings than those given; drop \
                         them (the index's own settings are used), or create a new index with \
                         them",
                        index.path().display()
                    )));
                }
                asked
            }
            None => options::settings(settings, "Filter")?,
        };
        let limit = WindowLimit {
            documents: Some(window),
            days: None,
        };
        let mut engine = Engine::new(&settings, limit).map_err(to_py)?;
        engine
            .spill_beyond(budget)
            .map_err(|e| PyValueError::new_err(format!("temp_dir {e}")))?;
        if let Some(index) = &index {
            engine.align(index.next_position().map_err(to_py)?);
        }
        let state = State {
            engine,
            signer: Signer::new(&settings),
            exact: settings.verify == Verify::Exact,
            scratch: Scratch::default(),
            appender: (add && index.is_some()).then(|| Appender::new(&[PYTHON.to_string()])),
            index,
            batch_size,
            counts: Counts::default(),
        };
        Ok(Filter {
            state: Mutex::new(Some(state)),
            closed: Mutex::new(None),
            settings,
        })
    }

    /// Decides about the next document: a duplicate of an earlier one, or first seen.
    /// Without an id, a document is known by its position.
    #[pyo3(signature = (text, id=None))]
    fn check(
        &self,
        py: Python<'_>,
        text: &Bound<'_, PyString>,
        id: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        let text = text.to_cow()?;
        let id = id_text(id)?;
        let text: &str = &text;
        self.with_state(py, move |state| {
            let mut scratch = std::mem::take(&mut state.scratch);
            let doc = sign(&state.signer, state.exact, text, &mut scratch);
            state.scratch = scratch;
            state.decide(id, &doc)
        })
        .map(Decision::from)
    }

    /// Decides about a batch of documents in order (signed in parallel): the same decisions
    /// as `check` on each in turn.
    #[pyo3(signature = (texts, ids=None))]
    fn check_many(
        &self,
        py: Python<'_>,
        texts: &Bound<'_, PyAny>,
        ids: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Decision>> {
        let watch = Watch::new();
        let given = ids.is_some_and(|i| !i.is_none());
        let (docs, _) = Docs::new(texts, ids.filter(|_| given), false, &watch)?;
        let items = docs
            .map(|d| d.map(|d| (d.text, given.then_some(d.id))))
            .collect::<mukarrar::Result<Vec<_>>>()
            .map_err(|e| watch.error(e))?;
        self.with_state(py, move |state| {
            let (signer, exact) = (&state.signer, state.exact);
            let signed: Vec<SignedText> = items
                .par_iter()
                .map_init(Scratch::default, |scratch, (text, _)| {
                    sign(signer, exact, text, scratch)
                })
                .collect();
            items
                .into_iter()
                .zip(&signed)
                .map(|((_, id), doc)| state.decide(id, doc).map(Decision::from))
                .collect()
        })
    }

    /// Commits the documents stored since the last commit (with `add=True`).
    fn commit(&self, py: Python<'_>) -> PyResult<()> {
        self.with_state(py, State::commit)
    }

    /// Commits what was stored and closes the index; the filter cannot be used afterwards
    /// (its `stats` stay).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let state = py.detach(|| self.state.lock().expect("filter lock").take());
        let Some(mut state) = state else {
            return Ok(());
        };
        let committed = py.detach(|| state.commit().map_err(to_py));
        *self.closed.lock().expect("filter lock") = Some(state.snapshot());
        committed
    }

    /// The settings decisions are made by (an index's own, with `db`).
    #[getter]
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.settings)?)
    }

    /// Counts so far: documents, first_seen, duplicates, window (documents in it now),
    /// evicted, spilled (documents of the window moved to disk beyond `memory_limit`), and
    /// with `add=True` stored, not_stored (ids already indexed) and batches.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let open = self
            .state
            .lock()
            .expect("filter lock")
            .as_ref()
            .map(State::snapshot);
        let snapshot = open.or(*self.closed.lock().expect("filter lock"));
        let stats = PyDict::new(py);
        if let Some(s) = snapshot {
            let c = &s.counts;
            stats.set_item("documents", c.documents)?;
            stats.set_item("first_seen", c.documents - c.duplicates)?;
            stats.set_item("duplicates", c.duplicates)?;
            stats.set_item("window", s.window)?;
            stats.set_item("evicted", s.evicted)?;
            stats.set_item("spilled", s.spilled)?;
            if s.adds {
                stats.set_item("stored", c.stored)?;
                stats.set_item("not_stored", c.not_stored)?;
                stats.set_item("batches", c.batches)?;
            }
        }
        Ok(stats)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }
}
