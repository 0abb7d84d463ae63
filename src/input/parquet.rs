//! The Parquet reader: the format corpus builders keep text in (Hugging Face datasets, web-crawl
//! dumps), read a row group at a time, several row groups decoded at once.
//!
//! A Parquet file is read from its footer, which holds the schema and where each row group is,
//! so every file of the input (one file, or every `.parquet` file under a folder, in name order
//! as shards are numbered) has its footer read and its columns checked when the input is
//! opened: a missing or non-string column fails before any document is read. Only the columns
//! needed are decoded (every column when the whole record is kept), in batches of
//! [`BATCH_ROWS`] rows.
//!
//! Decoding (decompressing pages, turning Arrow arrays into documents) runs on a few threads of
//! its own, each taking the next row group of the input; their batches are handed out in the
//! input's order, and each row group may run at most [`AHEAD`] batches ahead of the one being
//! read, so memory holds a few batches per thread, never a file.
//!
//! Columns are named like JSON fields: a column's name, or a dotted path into struct columns
//! (`meta.id`). Text columns may be strings (plain, large, view or dictionary-encoded); an id
//! column may also be an integer column. A null is an absent field: a null id gives the row
//! number, a null text field is skipped, and a row whose text fields are all null has no text.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Fields as ArrowFields, Schema, TimeUnit};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use serde_json::{Map, Number, Value};

use super::field::{self, FieldPath};
use super::source::ByteCounter;
use super::{line_id, Fields};
use crate::document::Document;
use crate::error::{Error, Location, RecordError, Result};

/// Rows decoded at a time.
pub(crate) const BATCH_ROWS: usize = 1024;

/// Batches a row group may decode ahead of the one being read.
const AHEAD: usize = 1;

/// The most threads that decode row groups at once.
const MAX_DECODERS: usize = 8;

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// Calls `f` on every file under `dir` (and links to files), in no particular order.
fn walk(dir: &Path, f: &mut dyn FnMut(&Path) -> std::io::Result<()>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        // Links to folders are not followed, so that a cycle cannot loop forever.
        if entry.file_type()?.is_dir() {
            walk(&path, f)?;
        } else {
            f(&path)?;
        }
    }
    Ok(())
}

/// The `.parquet` files under `dir`, sorted by their path (shards `train-00000-of-00004` come
/// in order), and the other files, relative to `dir` and sorted, which are not read. Hidden
/// files (`.part` files being written, `._` metadata) are not read either.
fn shards(dir: &str) -> Result<(Vec<PathBuf>, Vec<String>)> {
    let root = Path::new(dir);
    let mut files = Vec::new();
    let mut ignored = Vec::new();
    walk(root, &mut |p| {
        let hidden = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if extension(p).as_deref() == Some("parquet") && !hidden {
            files.push(p.to_path_buf());
        } else {
            let relative = p.strip_prefix(root).unwrap_or(p);
            ignored.push(relative.to_string_lossy().into_owned());
        }
        Ok(())
    })
    .map_err(|e| Error::io(dir, e))?;
    files.sort();
    ignored.sort();
    if files.is_empty() {
        return Err(Error::Input {
            location: Location::file(dir),
            message: "holds no .parquet file".into(),
        });
    }
    Ok((files, ignored))
}

/// A configured field found in a file's schema: the top-level column and the struct fields
/// below it.
#[derive(Debug, Clone)]
struct Column {
    /// Index of the top-level column in the file's schema.
    root: usize,
    /// Names from the top-level column down to the field.
    path: Vec<String>,
}

impl Column {
    /// Finds `field` in `schema`: a top-level column of that exact name, or a dotted path
    /// through struct columns. Returns the column and its type.
    fn find(schema: &Schema, field: &FieldPath) -> Option<(Column, DataType)> {
        if let Some((root, f)) = schema.column_with_name(&field.name) {
            let column = Column {
                root,
                path: vec![field.name.clone()],
            };
            return Some((column, f.data_type().clone()));
        }
        let segments: Vec<&str> = field.name.split('.').collect();
        let (root, first) = schema.column_with_name(segments[0])?;
        let mut data_type = first.data_type().clone();
        for segment in &segments[1..] {
            let DataType::Struct(children) = &data_type else {
                return None;
            };
            data_type = children.find(segment)?.1.data_type().clone();
        }
        let path = segments.iter().map(|s| s.to_string()).collect();
        Some((Column { root, path }, data_type))
    }

    /// This column's array in `batch` (whose columns are the projected ones, by name), with
    /// the arrays it is nested in (whose nulls make it null too).
    fn array<'b>(&self, batch: &'b RecordBatch) -> Option<(&'b ArrayRef, Vec<&'b ArrayRef>)> {
        let mut array = batch.column_by_name(&self.path[0])?;
        let mut parents = Vec::new();
        for name in &self.path[1..] {
            let child = array.as_struct_opt()?.column_by_name(name)?;
            parents.push(array);
            array = child;
        }
        Some((array, parents))
    }
}

/// True for a column type that holds text.
fn is_string(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, values) => is_string(values),
        _ => false,
    }
}

fn is_integer(data_type: &DataType) -> bool {
    data_type.is_integer()
        || matches!(data_type, DataType::Dictionary(_, values) if values.is_integer())
}

/// The columns of one file that the configured fields name.
#[derive(Debug, Clone)]
struct Columns {
    id: Option<Column>,
    /// The text columns that exist, in the configured order.
    text: Vec<Column>,
    /// The kept fields that exist, as (name, column).
    keep: Vec<(String, Column)>,
}

impl Columns {
    fn resolve(schema: &Schema, fields: &Fields, file: &str) -> Result<Columns> {
        let wrong_type = |name: &str, data_type: &DataType, expected: &str| Error::Input {
            location: Location::file(file).with_field(name),
            message: format!("the column is of type {data_type}, not {expected}"),
        };
        let names = column_names(schema.fields(), "");
        let id = match Column::find(schema, &fields.id) {
            None if fields.require_id => {
                return Err(Error::Input {
                    location: Location::file(file).with_field(&fields.id.name),
                    message: format!(
                        "the id column `{}` is not in the file ({})",
                        fields.id.name,
                        field::missing(std::slice::from_ref(&fields.id.name), &names, "the file")
                    ),
                })
            }
            None => None,
            Some((column, t)) if is_string(&t) || is_integer(&t) => Some(column),
            Some((_, t)) => return Err(wrong_type(&fields.id.name, &t, "a string or integer")),
        };
        let mut text = Vec::new();
        for path in &fields.text {
            match Column::find(schema, path) {
                None => {}
                Some((column, t)) if is_string(&t) => text.push(column),
                Some((_, t)) => return Err(wrong_type(&path.name, &t, "a string")),
            }
        }
        if text.is_empty() {
            return Err(Error::Input {
                location: Location::file(file),
                message: format!(
                    "none of the text columns {} is in the file ({})",
                    field::list(&fields.text_names),
                    field::missing(&fields.text_names, &names, "the file")
                ),
            });
        }
        let keep = fields
            .keep
            .iter()
            .filter_map(|path| Column::find(schema, path).map(|(c, _)| (path.name.clone(), c)))
            .collect();
        Ok(Columns { id, text, keep })
    }

    /// The top-level columns to decode.
    fn roots(&self) -> Vec<usize> {
        let mut roots: Vec<usize> = self.id.iter().chain(&self.text).map(|c| c.root).collect();
        roots.extend(self.keep.iter().map(|(_, c)| c.root));
        roots.sort_unstable();
        roots.dedup();
        roots
    }
}

/// Every column name, struct fields as dotted paths.
fn column_names(fields: &ArrowFields, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    for f in fields {
        let name = format!("{prefix}{}", f.name());
        if let DataType::Struct(children) = f.data_type() {
            names.extend(column_names(children, &format!("{name}.")));
        } else {
            names.push(name);
        }
    }
    names
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One file of the input, its footer read and its columns found.
struct Shard {
    path: PathBuf,
    name: String,
    metadata: ArrowReaderMetadata,
    columns: Columns,
}

/// The message for a file the Parquet library cannot read.
fn parquet_error(file: &str, row: Option<u64>, err: impl std::fmt::Display) -> Error {
    let location = match row {
        Some(row) => Location::line(file, row),
        None => Location::file(file),
    };
    let message = match row {
        Some(_) => format!("cannot decode the Parquet data (corrupt or truncated?): {err}"),
        None => format!("is not a readable Parquet file (truncated, or another format?): {err}"),
    };
    Error::Input { location, message }
}

impl Shard {
    fn open(path: PathBuf, fields: &Fields) -> Result<Shard> {
        let name = path.to_string_lossy().into_owned();
        let file = File::open(&path).map_err(|e| Error::io(name.as_str(), e))?;
        let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
            .map_err(|e| parquet_error(&name, None, e))?;
        let columns = Columns::resolve(metadata.schema(), fields, &name)?;
        Ok(Shard {
            path,
            name,
            metadata,
            columns,
        })
    }

    fn size(&self) -> u64 {
        self.metadata
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.compressed_size() as u64)
            .sum()
    }
}

/// One row group of the input, as a decoder thread reads it.
struct Job {
    /// The shard, by its place in the input.
    shard: usize,
    /// The row group, by its place in the shard.
    group: usize,
    /// The number (1-based, within the file) of the row group's first row.
    first: u64,
    /// Rows of the input's earlier files, added to row numbers used as ids.
    id_base: u64,
    /// Where its batches go, in order, then `None` once the row group is done.
    out: SyncSender<Option<Vec<Result<Document>>>>,
}

/// A row group handed to a decoder thread.
struct Running {
    /// Its batches, then `None` at its end.
    batches: Receiver<Option<Vec<Result<Document>>>>,
    /// Its compressed size, counted once it is read.
    size: u64,
    shard: usize,
    /// The number of its first row in its file.
    first: u64,
}

/// What the decoder threads share.
struct Shared {
    shards: Vec<Shard>,
    fields: Fields,
    /// Whether the input is a folder (documents then name their file).
    folder: bool,
}

/// Reads documents from Parquet files.
pub(crate) struct ParquetReader {
    shared: Arc<Shared>,
    /// The row groups not handed to a decoder yet, in order: (shard, row group).
    groups: VecDeque<(usize, usize)>,
    /// Per shard, the first row of each row group and the rows of the earlier shards.
    starts: Vec<(Vec<u64>, u64)>,
    /// Work for the decoder threads; `None` before the first document is asked for.
    jobs: Option<Sender<Job>>,
    /// The row groups being decoded, in the input's order.
    running: VecDeque<Running>,
    /// How many row groups are decoded at once.
    decoders: usize,
    /// Documents (and record errors) of the current batch, not yet handed out.
    pending: std::vec::IntoIter<Result<Document>>,
    counter: ByteCounter,
    /// For a folder: its files that are not read, and how many are.
    ignored: Vec<String>,
    files: Option<usize>,
    done: bool,
}

impl ParquetReader {
    /// Opens `path` (a `.parquet` file or a folder of them) and checks every file's columns;
    /// returns the reader and the input's size in (compressed) bytes.
    pub(crate) fn new(
        path: &str,
        folder: bool,
        fields: Fields,
        counter: ByteCounter,
    ) -> Result<(ParquetReader, u64)> {
        let (paths, ignored) = if folder {
            shards(path)?
        } else {
            (vec![PathBuf::from(path)], Vec::new())
        };
        let files = folder.then_some(paths.len());
        let shards = paths
            .into_iter()
            .map(|p| Shard::open(p, &fields))
            .collect::<Result<Vec<Shard>>>()?;
        // Records kept whole are written back with one schema: every shard must have it.
        if fields.keep_raw {
            let first = shards[0].metadata.schema();
            if let Some(other) = shards
                .iter()
                .find(|s| s.metadata.schema().fields() != first.fields())
            {
                return Err(Error::Input {
                    location: Location::file(other.name.as_str()),
                    message: format!(
                        "has other columns than {} (its columns: {})",
                        shards[0].name,
                        quoted(&column_names(other.metadata.schema().fields(), ""))
                    ),
                });
            }
        }
        let total = shards.iter().map(Shard::size).sum();
        let mut groups = VecDeque::new();
        let mut starts = Vec::with_capacity(shards.len());
        let mut rows_before = 0;
        for (i, shard) in shards.iter().enumerate() {
            let mut first = Vec::new();
            let mut row = 1;
            for (g, group) in shard.metadata.metadata().row_groups().iter().enumerate() {
                groups.push_back((i, g));
                first.push(row);
                row += group.num_rows().max(0) as u64;
            }
            starts.push((first, rows_before));
            rows_before += row - 1;
        }
        let decoders = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_DECODERS)
            .min(groups.len().max(1));
        let reader = ParquetReader {
            shared: Arc::new(Shared {
                shards,
                fields,
                folder,
            }),
            groups,
            starts,
            jobs: None,
            running: VecDeque::new(),
            decoders,
            pending: Vec::new().into_iter(),
            counter,
            ignored,
            files,
            done: false,
        };
        Ok((reader, total))
    }

    /// The columns of the input's first file.
    pub(crate) fn schema(&self) -> Option<arrow_schema::SchemaRef> {
        Some(self.shared.shards.first()?.metadata.schema().clone())
    }

    /// For a folder, its files that are not read (not `.parquet`, or hidden), in name order.
    pub(crate) fn ignored(&self) -> &[String] {
        &self.ignored
    }

    /// For a folder, how many `.parquet` files it holds; `None` for a file.
    pub(crate) fn files(&self) -> Option<usize> {
        self.files
    }

    /// Starts the decoder threads.
    fn start(&mut self) -> Sender<Job> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..self.decoders {
            let queue = Arc::clone(&queue);
            let shared = Arc::clone(&self.shared);
            std::thread::Builder::new()
                .name("parquet-decoder".into())
                .spawn(move || loop {
                    // The lock is held only to take a job, so jobs are taken in order.
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    decode_group(&shared, job);
                })
                .expect("cannot start a Parquet decoder thread");
        }
        jobs
    }

    /// Hands row groups to the decoders until as many run as there are decoders.
    fn dispatch(&mut self) {
        let jobs = match &self.jobs {
            Some(jobs) => jobs.clone(),
            None => {
                let jobs = self.start();
                self.jobs = Some(jobs.clone());
                jobs
            }
        };
        while self.running.len() < self.decoders {
            let Some((shard, group)) = self.groups.pop_front() else {
                // No more work: the threads end once the queue is empty.
                self.jobs = None;
                return;
            };
            let (out, batches) = mpsc::sync_channel(AHEAD);
            let (first_rows, id_base) = &self.starts[shard];
            let job = Job {
                shard,
                group,
                first: first_rows[group],
                id_base: *id_base,
                out,
            };
            let size = self.shared.shards[shard].metadata.metadata().row_groups()[group]
                .compressed_size()
                .max(0) as u64;
            if jobs.send(job).is_err() {
                return;
            }
            self.running.push_back(Running {
                batches,
                size,
                shard,
                first: first_rows[group],
            });
        }
    }

    /// The next batch of documents, in the input's order; `None` at the end of the input.
    fn next_batch(&mut self) -> Option<Vec<Result<Document>>> {
        loop {
            if self.running.len() < self.decoders && !self.groups.is_empty() {
                self.dispatch();
            }
            let running = self.running.front()?;
            match running.batches.recv() {
                Ok(Some(batch)) => return Some(batch),
                Ok(None) => {
                    // The row group is done.
                    self.counter.add(running.size);
                    self.running.pop_front();
                }
                Err(_) => {
                    // The decoder stopped without finishing the row group (it panicked): an
                    // error, never documents silently left out.
                    let name = &self.shared.shards[running.shard].name;
                    return Some(vec![Err(Error::Input {
                        location: Location::line(name, running.first),
                        message: "the Parquet decoder failed in the row group starting here".into(),
                    })]);
                }
            }
        }
    }
}

/// Decodes one row group, sending its documents a batch at a time; stops at the first error
/// that is not a record's (which ends the batch it is in) or when the reader is gone.
fn decode_group(shared: &Shared, job: Job) {
    let shard = &shared.shards[job.shard];
    let send = |docs: Vec<Result<Document>>| job.out.send(Some(docs)).is_ok();
    let batches = File::open(&shard.path)
        .map_err(|e| Error::io(shard.name.as_str(), e))
        .and_then(|file| {
            let mask = if shared.fields.keep_raw {
                ProjectionMask::all()
            } else {
                ProjectionMask::roots(shard.metadata.parquet_schema(), shard.columns.roots())
            };
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, shard.metadata.clone())
                .with_row_groups(vec![job.group])
                .with_projection(mask)
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| parquet_error(&shard.name, Some(job.first), e))
        });
    let batches = match batches {
        Ok(batches) => batches,
        Err(e) => {
            send(vec![Err(e)]);
            return;
        }
    };
    let file = shared.folder.then(|| shard.name.clone());
    let mut row = job.first;
    for batch in batches {
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                send(vec![Err(parquet_error(&shard.name, Some(row), e))]);
                return;
            }
        };
        let decoder = Batch {
            batch: &batch,
            columns: &shard.columns,
            fields: &shared.fields,
            name: &shard.name,
            first: row,
            id_base: job.id_base,
        };
        row += batch.num_rows() as u64;
        let mut docs = Vec::with_capacity(batch.num_rows());
        let failed = decoder.decode(file.clone(), &mut docs).err();
        let stop = failed.is_some();
        docs.extend(failed.map(Err));
        if !send(docs) || stop {
            return;
        }
    }
    let _ = job.out.send(None);
}

impl Iterator for ParquetReader {
    type Item = Result<Document>;

    fn next(&mut self) -> Option<Result<Document>> {
        loop {
            if let Some(doc) = self.pending.next() {
                if doc.as_ref().is_err_and(|e| !e.is_record_error()) {
                    // The input cannot be read any further.
                    self.done = true;
                    self.pending = Vec::new().into_iter();
                    self.running.clear();
                    self.groups.clear();
                    self.jobs = None;
                }
                return Some(doc);
            }
            if self.done {
                return None;
            }
            match self.next_batch() {
                Some(batch) => self.pending = batch.into_iter(),
                None => self.done = true,
            }
        }
    }
}

/// Reads one column's values as text, row by row.
struct Strings<'a> {
    array: &'a dyn Array,
    /// Arrays the column is nested in: a null there is a null here.
    parents: Vec<&'a ArrayRef>,
    /// For a dictionary column, its keys: each row's index into `array` (its values).
    keys: Option<&'a dyn Array>,
    dictionary: Option<&'a dyn Array>,
}

impl<'a> Strings<'a> {
    fn new(array: &'a ArrayRef, parents: Vec<&'a ArrayRef>) -> Strings<'a> {
        match array.as_any_dictionary_opt() {
            Some(dict) => Strings {
                array: dict.values().as_ref(),
                parents,
                keys: Some(dict.keys()),
                dictionary: Some(array.as_ref()),
            },
            None => Strings {
                array: array.as_ref(),
                parents,
                keys: None,
                dictionary: None,
            },
        }
    }

    /// The value at `row`, `None` when null.
    fn get(&self, row: usize) -> Option<String> {
        if self.parents.iter().any(|p| p.is_null(row))
            || self.dictionary.is_some_and(|d| d.is_null(row))
        {
            return None;
        }
        let i = match self.keys {
            // A key out of range (a damaged file) reads as null.
            Some(keys) => usize::try_from(integer(keys, row)?)
                .ok()
                .filter(|&k| k < self.array.len())?,
            None => row,
        };
        let a = self.array;
        if a.is_null(i) {
            return None;
        }
        if let Some(s) = a.as_string_opt::<i32>() {
            return Some(s.value(i).to_string());
        }
        if let Some(s) = a.as_string_opt::<i64>() {
            return Some(s.value(i).to_string());
        }
        if let Some(s) = a.as_string_view_opt() {
            return Some(s.value(i).to_string());
        }
        // An integer id column (the types were checked when the file was opened).
        integer(a, i).map(|n| n.to_string())
    }
}

/// The integer at `i` of an integer array.
fn integer(a: &dyn Array, i: usize) -> Option<i128> {
    macro_rules! try_int {
        ($($t:ty),*) => {$(
            if let Some(p) = a.as_primitive_opt::<$t>() {
                return Some(p.value(i) as i128);
            }
        )*};
    }
    try_int!(
        Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type
    );
    None
}

/// One decoded batch, turned into documents.
struct Batch<'a> {
    batch: &'a RecordBatch,
    columns: &'a Columns,
    fields: &'a Fields,
    name: &'a str,
    /// The row number (1-based, within the file) of the batch's first row.
    first: u64,
    /// Rows of the input before this file, added to row numbers used as ids.
    id_base: u64,
}

impl Batch<'_> {
    fn strings(&self, column: &Column) -> Result<Strings<'_>> {
        let (array, parents) = column.array(self.batch).ok_or_else(|| Error::Input {
            location: Location::line(self.name, self.first),
            message: format!(
                "the column `{}` is missing from a batch",
                column.path.join(".")
            ),
        })?;
        Ok(Strings::new(array, parents))
    }

    fn decode(&self, file: Option<String>, out: &mut Vec<Result<Document>>) -> Result<()> {
        let id = self
            .columns
            .id
            .as_ref()
            .map(|c| self.strings(c))
            .transpose()?;
        let text = self
            .columns
            .text
            .iter()
            .map(|c| self.strings(c))
            .collect::<Result<Vec<_>>>()?;
        for row in 0..self.batch.num_rows() {
            let line = self.first + row as u64;
            let location = || Location::line(self.name, line);
            // As in JSON Lines: a null field is absent, and an empty one adds no line break.
            let mut present = false;
            let mut joined = String::new();
            for column in &text {
                let Some(piece) = column.get(row) else {
                    continue;
                };
                present = true;
                if joined.is_empty() {
                    joined = piece;
                } else if !piece.is_empty() {
                    joined.push('\n');
                    joined.push_str(&piece);
                }
            }
            if !present {
                out.push(Err(Error::Record {
                    location: location(),
                    kind: RecordError::NoTextField(self.fields.text_names.clone()),
                }));
                continue;
            }
            let id = id.as_ref().and_then(|c| c.get(row)).unwrap_or_else(|| {
                line_id(self.fields.line_id_prefix.as_deref(), self.id_base + line)
            });
            let mut kept = Vec::with_capacity(self.columns.keep.len());
            for (name, column) in &self.columns.keep {
                if let Some((array, parents)) = column.array(self.batch) {
                    if parents.iter().any(|p| p.is_null(row)) {
                        continue;
                    }
                    match json_value(array.as_ref(), row) {
                        Ok(Value::Null) => {}
                        Ok(value) => kept.push((name.clone(), value)),
                        Err(why) => {
                            return Err(Error::Input {
                                location: location().with_field(name),
                                message: why,
                            })
                        }
                    }
                }
            }
            let raw = if self.fields.keep_raw {
                match row_json(self.batch, row) {
                    Ok(raw) => Some(raw),
                    Err((column, why)) => {
                        return Err(Error::Input {
                            location: location().with_field(&column),
                            message: why,
                        })
                    }
                }
            } else {
                None
            };
            out.push(Ok(Document {
                id,
                text: joined,
                line,
                raw,
                fields: kept,
                file: file.clone(),
            }));
        }
        Ok(())
    }
}

/// Row `row` of `batch` as a JSON object of every column, for the record a document keeps.
fn row_json(batch: &RecordBatch, row: usize) -> std::result::Result<String, (String, String)> {
    let mut object = Map::new();
    for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
        let value = json_value(array.as_ref(), row).map_err(|why| (field.name().clone(), why))?;
        object.insert(field.name().clone(), value);
    }
    Ok(Value::Object(object).to_string())
}

/// The value at `row` of `array` as JSON: strings, numbers, booleans, structs (objects) and
/// lists (arrays); dates and timestamps as (fractional) Unix seconds, which is also what a date
/// field accepts.
pub(crate) fn json_value(array: &dyn Array, row: usize) -> std::result::Result<Value, String> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    if let Some(dict) = array.as_any_dictionary_opt() {
        // The key of this row alone (normalizing every key would make a batch quadratic).
        let values = dict.values();
        let key = integer(dict.keys(), row)
            .and_then(|k| usize::try_from(k).ok())
            .filter(|&k| k < values.len());
        return match key {
            Some(key) => json_value(values.as_ref(), key),
            None => Err("a dictionary key is out of range".into()),
        };
    }
    let number = |f: f64| Number::from_f64(f).map_or(Value::Null, Value::Number);
    let seconds = |n: i64, per_second: i64| {
        if n % per_second == 0 {
            Value::from(n / per_second)
        } else {
            number(n as f64 / per_second as f64)
        }
    };
    Ok(match array.data_type() {
        DataType::Utf8 => Value::from(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Value::from(array.as_string::<i64>().value(row)),
        DataType::Utf8View => Value::from(array.as_string_view().value(row)),
        DataType::Boolean => Value::from(array.as_boolean().value(row)),
        t if t.is_integer() => {
            let n = integer(array, row).expect("an integer type");
            i64::try_from(n)
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(n as u64))
        }
        DataType::Float32 => number(array.as_primitive::<Float32Type>().value(row) as f64),
        DataType::Float64 => number(array.as_primitive::<Float64Type>().value(row)),
        DataType::Date32 => {
            Value::from(array.as_primitive::<Date32Type>().value(row) as i64 * 86_400)
        }
        DataType::Date64 => seconds(array.as_primitive::<Date64Type>().value(row), 1000),
        DataType::Timestamp(unit, _) => match unit {
            TimeUnit::Second => Value::from(array.as_primitive::<TimestampSecondType>().value(row)),
            TimeUnit::Millisecond => seconds(
                array.as_primitive::<TimestampMillisecondType>().value(row),
                1000,
            ),
            TimeUnit::Microsecond => seconds(
                array.as_primitive::<TimestampMicrosecondType>().value(row),
                1_000_000,
            ),
            TimeUnit::Nanosecond => seconds(
                array.as_primitive::<TimestampNanosecondType>().value(row),
                1_000_000_000,
            ),
        },
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut object = Map::new();
            for (field, child) in fields.iter().zip(s.columns()) {
                object.insert(field.name().clone(), json_value(child.as_ref(), row)?);
            }
            Value::Object(object)
        }
        DataType::List(_) => list_json(array.as_list::<i32>().value(row))?,
        DataType::LargeList(_) => list_json(array.as_list::<i64>().value(row))?,
        other => return Err(unsupported(other)),
    })
}

fn list_json(items: ArrayRef) -> std::result::Result<Value, String> {
    (0..items.len())
        .map(|i| json_value(items.as_ref(), i))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map(Value::Array)
}

fn unsupported(data_type: &DataType) -> String {
    format!(
        "the column is of type {data_type}, which cannot be kept as JSON (supported: strings, \
         integers, floats, booleans, dates, timestamps, structs and lists of these)"
    )
}
