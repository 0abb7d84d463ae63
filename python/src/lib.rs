//! The Python package's native module, `mukarrar._mukarrar`: a thin layer that converts
//! arguments and results and calls the mukarrar library, which does the work (with the GIL
//! released, on rayon's threads).

mod clusters;
mod errors;
mod filter;
mod index;
mod options;
mod texts;

use std::sync::{Arc, Mutex};

use mukarrar::normalize::Profile;
use mukarrar::pipeline::{self, Input, RunOptions, Scratch, Settings, Signer};
use mukarrar::settings::Options;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use clusters::Clusters;
use errors::PYTHON;
use texts::{Docs, Watch};

/// The settings and signer of the last `sign` or `normalize` call, reused while the same
/// options come again (building a signer draws its permutations and chooses its bands).
static SIGNER: Mutex<Option<(Options, Shared)>> = Mutex::new(None);

/// Settings and their signer, shared between calls.
type Shared = Arc<(Settings, Signer)>;

fn signer_for(options: Options) -> PyResult<Shared> {
    let mut last = SIGNER.lock().expect("signer lock");
    if let Some((o, s)) = last.as_ref() {
        if *o == options {
            return Ok(s.clone());
        }
    }
    let settings = options.settings().map_err(errors::to_py)?;
    let signer = Arc::new((settings.clone(), Signer::new(&settings)));
    *last = Some((options, signer.clone()));
    Ok(signer)
}

/// One change made to a text before shingling, as `mukarrar normalize --explain` lists it.
#[pyclass(frozen, module = "mukarrar", get_all)]
struct Change {
    /// The step: `R0` (HTML references), `T1`/`T2` (title label and tags), `R1`… (rules).
    rule: &'static str,
    /// What the step does.
    description: &'static str,
    /// The text before.
    before: String,
    /// The text after (empty when removed).
    after: String,
}

#[pymethods]
impl Change {
    fn __repr__(&self) -> String {
        format!(
            "Change(rule={:?}, description={:?}, before={:?}, after={:?})",
            self.rule, self.description, self.before, self.after
        )
    }

    fn __str__(&self) -> String {
        format!(
            "{} {}: {:?} → {:?}",
            self.rule, self.description, self.before, self.after
        )
    }
}

/// The text as the shingler sees it: HTML references decoded, title tags removed (unless
/// `keep_title_tags`), then the rules of `profile` ("default", "light" or "none"). With
/// `explain=True`, a pair: the text and the list of changes each step made.
#[pyfunction]
#[pyo3(signature = (text, profile="default", explain=false, keep_title_tags=false))]
fn normalize(
    py: Python<'_>,
    text: &str,
    profile: &str,
    explain: bool,
    keep_title_tags: bool,
) -> PyResult<Py<PyAny>> {
    let options = Options {
        normalize: profile.parse::<Profile>().map_err(PyValueError::new_err)?,
        keep_title_tags,
        ..Options::default()
    };
    let signer = signer_for(options)?;
    let mut scratch = Scratch::default();
    signer.1.normalize_into(text, &mut scratch);
    if !explain {
        return Ok(scratch.normalized.into_pyobject(py)?.into_any().unbind());
    }
    let changes = signer
        .1
        .explain(text)
        .into_iter()
        .map(|c| {
            Py::new(
                py,
                Change {
                    rule: c.rule,
                    description: c.description,
                    before: c.from,
                    after: c.to,
                },
            )
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok((scratch.normalized, changes)
        .into_pyobject(py)?
        .into_any()
        .unbind())
}

/// A signed text: what `mukarrar sign --signature` writes for one document.
#[pyclass(frozen, module = "mukarrar", get_all)]
struct Signature {
    /// The MinHash signature (`num_perm` values).
    minhash: Vec<u32>,
    /// The sketch of a long text's words that ends its signature: each word's hash picks a
    /// slot, which keeps the smallest value; 4294967295 for unused slots (all of them for a
    /// short or empty text).
    word_sketch: Vec<u32>,
    /// One LSH band key per band (none for a text empty after normalization).
    band_keys: Vec<u64>,
    /// The number of distinct shingles (0 when empty after normalization).
    shingles: u32,
    /// True for a short text (fewer than `short_words` words), compared by its words.
    short: bool,
    /// True when nothing was left after normalization.
    empty: bool,
    /// Fingerprint of a short text's numbers (0 when it holds none).
    numbers: u64,
    /// The hashes of a short text's words, in order (empty for a long text).
    words: Vec<u64>,
}

#[pymethods]
impl Signature {
    fn __repr__(&self) -> String {
        format!(
            "Signature(shingles={}, short={}, empty={}, minhash=[{} values], band_keys=[{} keys])",
            self.shingles,
            if self.short { "True" } else { "False" },
            if self.empty { "True" } else { "False" },
            self.minhash.len(),
            self.band_keys.len()
        )
    }
}

/// Normalizes, shingles and signs one text with the settings given (the command line's
/// names and defaults), as every mukarrar command signs it.
#[pyfunction]
#[pyo3(signature = (text, **settings))]
fn sign(text: &str, settings: Option<&Bound<'_, PyDict>>) -> PyResult<Signature> {
    let signer = signer_for(options::options(settings, "sign")?)?;
    let (settings, signer) = (&signer.0, &signer.1);
    let mut minhash = vec![0; signer.num_perm()];
    let mut scratch = Scratch::default();
    let traits = signer.sign_into(text, &mut scratch, &mut minhash);
    let band_keys = if traits.is_empty() {
        Vec::new()
    } else {
        (0..settings.lsh.bands)
            .map(|b| settings.lsh.band_key(&minhash, b))
            .collect()
    };
    let word_sketch = minhash.split_off(settings.minhash.num_perm);
    Ok(Signature {
        minhash,
        word_sketch,
        band_keys,
        shingles: traits.shingles,
        short: traits.short,
        empty: traits.is_empty(),
        numbers: traits.numbers,
        words: scratch.words,
    })
}

/// LSH bands × rows for a threshold, and the S-curve they give: what `mukarrar params`
/// shows.
#[pyclass(frozen, module = "mukarrar", get_all)]
struct LshParams {
    /// Number of bands.
    bands: usize,
    /// Rows (signature slots) per band.
    rows: usize,
    /// The threshold they were chosen for.
    threshold: f64,
    /// The signature length.
    num_perm: usize,
    /// ∫₀ᵗ P(s) ds: how much below-threshold similarity still becomes a candidate.
    false_positive_area: f64,
    /// ∫ₜ¹ (1 − P(s)) ds: how much above-threshold similarity is missed.
    false_negative_area: f64,
}

#[pymethods]
impl LshParams {
    /// P(candidate | Jaccard similarity `s`) = 1 − (1 − sʳ)ᵇ.
    fn probability(&self, s: f64) -> f64 {
        mukarrar::lsh::LshParams {
            bands: self.bands,
            rows: self.rows,
        }
        .probability(s)
    }

    fn __repr__(&self) -> String {
        format!(
            "LshParams(bands={}, rows={}, threshold={}, num_perm={})",
            self.bands, self.rows, self.threshold, self.num_perm
        )
    }
}

/// The LSH bands × rows chosen for `threshold` and `num_perm` (by `lsh_objective`: "area"
/// or "recall"), or given as `bands` and/or `rows`.
#[pyfunction]
#[pyo3(signature = (threshold=0.3, num_perm=128, lsh_objective="area", bands=None, rows=None))]
fn params(
    threshold: f64,
    num_perm: usize,
    lsh_objective: &str,
    bands: Option<usize>,
    rows: Option<usize>,
) -> PyResult<LshParams> {
    // Without short texts the candidate threshold is `threshold` itself.
    let settings = Options {
        threshold,
        num_perm,
        lsh_objective: lsh_objective.parse().map_err(PyValueError::new_err)?,
        bands,
        rows,
        short_words: 0,
        ..Options::default()
    }
    .settings()
    .map_err(errors::to_py)?;
    let p = settings.lsh;
    Ok(LshParams {
        bands: p.bands,
        rows: p.rows,
        threshold,
        num_perm,
        false_positive_area: p.false_positive_area(threshold),
        false_negative_area: p.false_negative_area(threshold),
    })
}

/// Clusters near-duplicate texts, as `mukarrar cluster` does: the same groups, the same
/// similarities. `texts` is any iterable of str (a list, a generator, a pandas Series, a
/// pyarrow array); `ids` the documents' ids in the same order (default: their positions).
/// Settings are keyword arguments with the command line's names and defaults.
/// `memory_limit` (bytes; default half the physical memory) and `temp_dir` are the command
/// line's `--memory-limit` and `--temp-dir`: beyond half the limit, signatures and documents
/// go to temporary files, with the same clusters.
#[pyfunction]
#[pyo3(signature = (texts, ids=None, *, skip_invalid=false, memory_limit=None, temp_dir=None, **settings))]
fn cluster(
    py: Python<'_>,
    texts: &Bound<'_, PyAny>,
    ids: Option<&Bound<'_, PyAny>>,
    skip_invalid: bool,
    memory_limit: Option<u64>,
    temp_dir: Option<std::path::PathBuf>,
    settings: Option<&Bound<'_, PyDict>>,
) -> PyResult<Clusters> {
    let settings = options::settings(settings, "cluster")?;
    let budget = budget(memory_limit, temp_dir)?;
    let watch = Watch::new();
    let (docs, kept) = Docs::new(texts, ids.filter(|i| !i.is_none()), true, &watch)?;
    let input = Input::new(PYTHON, docs);
    let run = RunOptions {
        skip_invalid,
        budget: Some(budget),
        // `Clusters` shows ids and positions, never previews.
        skip_previews: true,
        ..RunOptions::default()
    };
    let outcome = py
        .detach(|| pipeline::run(vec![input], &settings, &run, &*watch))
        .map_err(|e| watch.error(e))?;
    let n = outcome.docs.len() + outcome.stats.skipped;
    Clusters::from_outcome(py, &outcome, kept.as_ref(), n)
}

/// The memory budget of `memory_limit` bytes (default: half the physical memory, as on the
/// command line) with temporary files in `temp_dir` (default: the system's temporary folder),
/// checked before any work.
pub(crate) fn budget(
    memory_limit: Option<u64>,
    temp_dir: Option<std::path::PathBuf>,
) -> PyResult<mukarrar::spill::Budget> {
    if memory_limit == Some(0) {
        return Err(PyValueError::new_err(
            "memory_limit must be at least 1 byte",
        ));
    }
    mukarrar::spill::Budget::checked(memory_limit, temp_dir)
        .map_err(|e| PyValueError::new_err(format!("temp_dir {e}")))
}

#[pymodule]
fn _mukarrar(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("SETTINGS", options::NAMES.to_vec())?;
    m.add("Error", py.get_type::<errors::Error>())?;
    m.add("InputError", py.get_type::<errors::InputError>())?;
    m.add("IndexFileError", py.get_type::<errors::IndexFileError>())?;
    m.add_function(wrap_pyfunction!(normalize, m)?)?;
    m.add_function(wrap_pyfunction!(sign, m)?)?;
    m.add_function(wrap_pyfunction!(params, m)?)?;
    m.add_function(wrap_pyfunction!(cluster, m)?)?;
    m.add_class::<Change>()?;
    m.add_class::<Signature>()?;
    m.add_class::<LshParams>()?;
    m.add_class::<Clusters>()?;
    m.add_class::<clusters::Cluster>()?;
    m.add_class::<clusters::Member>()?;
    m.add_class::<filter::Filter>()?;
    m.add_class::<filter::Decision>()?;
    m.add_class::<index::Index>()?;
    Ok(())
}
