//! The result of `cluster` (and of `Index.export`): clusters of near-duplicate documents,
//! each with its representative and every member's similarity to it.

use mukarrar::pipeline::Outcome;
use mukarrar::report::Report;
use pyo3::exceptions::{PyImportError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::texts::Ids;

/// One document of a cluster.
#[pyclass(frozen, module = "mukarrar", get_all)]
pub struct Member {
    /// The document's id: the caller's id object, or its position when no ids were given.
    pub id: Py<PyAny>,
    /// Its position in the texts clustered (None for a document from an index export).
    pub index: Option<usize>,
    /// Its similarity to the cluster's representative (1.0 for the representative).
    pub similarity: f64,
    /// True for the representative.
    pub is_representative: bool,
}

#[pymethods]
impl Member {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Member(id={}, index={}, similarity={}, is_representative={})",
            self.id.bind(py).repr()?,
            self.index.map_or_else(|| "None".into(), |i| i.to_string()),
            self.similarity,
            if self.is_representative {
                "True"
            } else {
                "False"
            }
        ))
    }
}

/// A group of near-duplicate documents.
#[pyclass(frozen, module = "mukarrar")]
pub struct Cluster {
    /// The cluster's id: the position of its first document (as `mukarrar cluster` numbers
    /// them).
    #[pyo3(get)]
    pub id: u64,
    /// The representative's id.
    #[pyo3(get)]
    pub representative: Py<PyAny>,
    members: Vec<Py<Member>>,
}

#[pymethods]
impl Cluster {
    /// The members, in input order.
    #[getter]
    fn members<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, &self.members)
    }

    /// The number of members.
    #[getter]
    fn size(&self) -> usize {
        self.members.len()
    }

    fn __len__(&self) -> usize {
        self.members.len()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.members(py)?.try_iter()?.into_any())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Cluster(id={}, size={}, representative={})",
            self.id,
            self.members.len(),
            self.representative.bind(py).repr()?
        ))
    }
}

/// Clusters of near-duplicate documents (two or more each), ordered by id.
///
/// `len()` is the number of clusters and iterating gives them; `stats` has the run's counts
/// and `params` its settings, as `mukarrar cluster --format json` writes them.
#[pyclass(frozen, module = "mukarrar")]
pub struct Clusters {
    groups: Vec<Py<Cluster>>,
    /// For each input position, its cluster's id (None when alone); absent for an export.
    labels: Option<Vec<Option<u64>>>,
    /// For each input position, true when it is a representative.
    representatives: Vec<bool>,
    /// The run's counts.
    #[pyo3(get)]
    stats: Py<PyAny>,
    /// The settings of the run.
    #[pyo3(get)]
    params: Py<PyAny>,
}

/// A member as the builder takes it: (id, position, similarity, is representative).
type Row = (Py<PyAny>, Option<usize>, f64, bool);

fn cluster(py: Python<'_>, id: u64, rows: Vec<Row>) -> PyResult<Py<Cluster>> {
    let representative = rows
        .iter()
        .find(|r| r.3)
        .map_or_else(|| py.None(), |r| r.0.clone_ref(py));
    let members = rows
        .into_iter()
        .map(|(id, index, similarity, is_representative)| {
            Py::new(
                py,
                Member {
                    id,
                    index,
                    similarity,
                    is_representative,
                },
            )
        })
        .collect::<PyResult<_>>()?;
    Py::new(
        py,
        Cluster {
            id,
            representative,
            members,
        },
    )
}

fn settings_dict(py: Python<'_>, settings: &mukarrar::pipeline::Settings) -> PyResult<Py<PyAny>> {
    Ok(pythonize::pythonize(py, settings)?.unbind())
}

impl Clusters {
    /// The clusters of a run over `n` Python items (`ids`: the caller's ids, when given).
    pub fn from_outcome(
        py: Python<'_>,
        outcome: &Outcome,
        ids: Option<&Ids>,
        n: usize,
    ) -> PyResult<Clusters> {
        let ids = ids.map(|i| i.lock().expect("ids lock"));
        let position = |doc: usize| outcome.docs[doc].line as usize - 1;
        let id_of = |pos: usize| -> PyResult<Py<PyAny>> {
            match &ids {
                Some(ids) => Ok(ids[pos].clone_ref(py)),
                None => Ok(pos.into_pyobject(py)?.into_any().unbind()),
            }
        };
        let mut labels = vec![None; n];
        let mut representatives = vec![false; n];
        let mut groups = Vec::with_capacity(outcome.groups.len());
        for g in &outcome.groups {
            let first = position(g.members[0] as usize) as u64;
            let rows = g
                .members
                .iter()
                .zip(&g.similarities)
                .map(|(&m, &s)| {
                    let pos = position(m as usize);
                    labels[pos] = Some(first);
                    representatives[pos] = m == g.representative;
                    Ok((id_of(pos)?, Some(pos), s, m == g.representative))
                })
                .collect::<PyResult<Vec<Row>>>()?;
            groups.push(cluster(py, first, rows)?);
        }
        Ok(Clusters {
            groups,
            labels: Some(labels),
            representatives,
            stats: pythonize::pythonize(py, &outcome.stats)?.unbind(),
            params: settings_dict(py, &outcome.settings)?,
        })
    }

    /// The clusters of a report (an index export): documents are known by their ids.
    pub fn from_report(py: Python<'_>, report: &Report) -> PyResult<Clusters> {
        let groups = report
            .clusters
            .iter()
            .map(|c| {
                let rows = c
                    .members
                    .iter()
                    .map(|m| {
                        let id = m.id.clone().into_pyobject(py)?.into_any().unbind();
                        Ok((id, None, m.similarity, m.is_representative))
                    })
                    .collect::<PyResult<Vec<Row>>>()?;
                cluster(py, c.id, rows)
            })
            .collect::<PyResult<_>>()?;
        Ok(Clusters {
            groups,
            labels: None,
            representatives: Vec::new(),
            stats: pythonize::pythonize(py, &report.stats)?.unbind(),
            params: settings_dict(py, &report.params.settings)?,
        })
    }

    fn positions(&self) -> PyResult<&Vec<Option<u64>>> {
        self.labels.as_ref().ok_or_else(|| {
            PyValueError::new_err(
                "an index export names documents by id, not by position: use the clusters",
            )
        })
    }

    /// The rows of the CSV report as columns: cluster_id, doc_id, index, similarity,
    /// is_representative.
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let mut cluster_id = Vec::new();
        let mut doc_id = Vec::new();
        let mut index = Vec::new();
        let mut similarity = Vec::new();
        let mut is_representative = Vec::new();
        for c in &self.groups {
            let c = c.get();
            for m in &c.members {
                let m = m.get();
                cluster_id.push(c.id);
                doc_id.push(m.id.clone_ref(py));
                index.push(m.index);
                similarity.push(m.similarity);
                is_representative.push(m.is_representative);
            }
        }
        let columns = PyDict::new(py);
        columns.set_item("cluster_id", cluster_id)?;
        columns.set_item("doc_id", doc_id)?;
        if self.labels.is_some() {
            columns.set_item("index", index)?;
        }
        columns.set_item("similarity", similarity)?;
        columns.set_item("is_representative", is_representative)?;
        Ok(columns)
    }
}

fn import<'py>(py: Python<'py>, module: &str, method: &str) -> PyResult<Bound<'py, PyModule>> {
    py.import(module).map_err(|_| {
        PyImportError::new_err(format!(
            "Clusters.{method}() needs {module}: pip install {module}"
        ))
    })
}

#[pymethods]
impl Clusters {
    /// The clusters, as a list.
    #[getter]
    fn groups<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, &self.groups)
    }

    fn __len__(&self) -> usize {
        self.groups.len()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.groups(py)?.try_iter()?.into_any())
    }

    fn __getitem__(&self, py: Python<'_>, i: isize) -> PyResult<Py<Cluster>> {
        let n = self.groups.len() as isize;
        let j = if i < 0 { i + n } else { i };
        if !(0..n).contains(&j) {
            return Err(pyo3::exceptions::PyIndexError::new_err(
                "cluster index out of range",
            ));
        }
        Ok(self.groups[j as usize].clone_ref(py))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let documents = self
            .stats
            .bind(py)
            .get_item("documents")
            .map_or_else(|_| "?".into(), |d| d.to_string());
        Ok(format!(
            "Clusters({} clusters over {documents} documents)",
            self.groups.len()
        ))
    }

    /// For each text clustered, in order, the id of its cluster; a text in no cluster is
    /// its own cluster, named by its position (as `mukarrar filter` and the index name it).
    fn labels(&self) -> PyResult<Vec<u64>> {
        Ok(self
            .positions()?
            .iter()
            .enumerate()
            .map(|(i, l)| l.unwrap_or(i as u64))
            .collect())
    }

    /// For each text clustered, in order: True for the texts to keep when removing
    /// duplicates (every representative, and every text in no cluster), False for the rest.
    fn keep(&self) -> PyResult<Vec<bool>> {
        Ok(self
            .positions()?
            .iter()
            .zip(&self.representatives)
            .map(|(l, &r)| l.is_none() || r)
            .collect())
    }

    /// One row per member of a cluster (the CSV report's rows, plus each member's `index`)
    /// as a pandas DataFrame.
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        import(py, "pandas", "to_pandas")?.call_method1("DataFrame", (self.columns(py)?,))
    }

    /// The rows of [`to_pandas`] as a pyarrow Table.
    fn to_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        import(py, "pyarrow", "to_arrow")?.call_method1("table", (self.columns(py)?,))
    }
}
