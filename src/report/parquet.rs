//! The CSV report's rows as a Parquet file: `cluster_id` (uint64), `doc_id` (string),
//! `similarity` (float64) and `is_representative` (boolean), one row per member, for tools
//! that load reports into a data frame.

use std::io::{self, Write};
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, StringBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::Report;

/// Members written per row group.
const ROW_GROUP_ROWS: usize = 64 * 1024;

/// The report's columns.
pub fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new(super::csv::HEADER[0], DataType::UInt64, false),
        Field::new(super::csv::HEADER[1], DataType::Utf8, false),
        Field::new(super::csv::HEADER[2], DataType::Float64, false),
        Field::new(super::csv::HEADER[3], DataType::Boolean, false),
    ]))
}

/// Writer settings shared by every Parquet output: zstd pages.
pub(crate) fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build()
}

pub(crate) fn into_io(e: parquet::errors::ParquetError) -> io::Error {
    match e {
        parquet::errors::ParquetError::External(e) => io::Error::other(e),
        other => io::Error::other(other.to_string()),
    }
}

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    // The Parquet writer needs an output it can own (and send between threads); a report is
    // in memory already, and its Parquet form is smaller than it.
    let schema = schema();
    let mut writer =
        ArrowWriter::try_new(Vec::new(), schema.clone(), Some(properties())).map_err(into_io)?;
    let members = report
        .clusters
        .iter()
        .flat_map(|c| c.members.iter().map(move |m| (c.id, m)));
    let mut members = members.peekable();
    while members.peek().is_some() {
        let mut cluster = UInt64Builder::new();
        let mut doc = StringBuilder::new();
        let mut similarity = Float64Builder::new();
        let mut representative = BooleanBuilder::new();
        for (id, m) in members.by_ref().take(ROW_GROUP_ROWS) {
            cluster.append_value(id);
            doc.append_value(&m.id);
            similarity.append_value(m.similarity);
            representative.append_value(m.is_representative);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(cluster.finish()),
            Arc::new(doc.finish()),
            Arc::new(similarity.finish()),
            Arc::new(representative.finish()),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).map_err(io::Error::other)?;
        writer.write(&batch).map_err(into_io)?;
        writer.flush().map_err(into_io)?;
    }
    let bytes = writer.into_inner().map_err(into_io)?;
    out.write_all(&bytes)
}

/// The annotation columns `filter` adds to a record: `duplicate_of`, `cluster_id` and
/// `similarity`.
pub fn annotation_fields() -> [Field; 3] {
    [
        Field::new("duplicate_of", DataType::Utf8, true),
        Field::new("cluster_id", DataType::UInt64, true),
        Field::new("similarity", DataType::Float64, true),
    ]
}

/// The columns a Parquet input's records are written back with: the input's, with
/// dictionary-encoded and view columns as plain ones (the same values), and the annotation
/// columns when `annotated`.
///
/// # Errors
///
/// A column of a type records cannot be written back as (a message naming it).
pub fn output_schema(input: &Schema, annotated: bool) -> Result<Arc<Schema>, String> {
    let mut fields = Vec::with_capacity(input.fields().len() + 3);
    for f in input.fields() {
        let data_type = plain_type(f.data_type()).ok_or_else(|| {
            format!(
                "the column `{}` is of type {}, {}",
                f.name(),
                f.data_type(),
                UNSUPPORTED
            )
        })?;
        fields.push(f.as_ref().clone().with_data_type(data_type));
    }
    if annotated {
        for a in annotation_fields() {
            if input.field_with_name(a.name()).is_ok() {
                return Err(format!(
                    "the input already has a column `{}`, which the annotations would repeat",
                    a.name()
                ));
            }
            fields.push(a);
        }
    }
    Ok(Arc::new(Schema::new(fields)))
}

const UNSUPPORTED: &str = "which cannot be written back (supported: strings, integers, floats, \
                           booleans, dates, timestamps, structs and lists of these)";

/// The type a column of `data_type` is written as, or `None` when unsupported.
fn plain_type(data_type: &DataType) -> Option<DataType> {
    use DataType::*;
    Some(match data_type {
        Dictionary(_, values) => plain_type(values)?,
        Utf8View => Utf8,
        Utf8 | LargeUtf8 | Boolean | Float32 | Float64 | Date32 | Date64 | Timestamp(_, _) => {
            data_type.clone()
        }
        t if t.is_integer() => t.clone(),
        Struct(fields) => Struct(
            fields
                .iter()
                .map(|f| {
                    Some(
                        f.as_ref()
                            .clone()
                            .with_data_type(plain_type(f.data_type())?),
                    )
                })
                .collect::<Option<Vec<Field>>>()?
                .into(),
        ),
        List(item) => List(Arc::new(
            item.as_ref()
                .clone()
                .with_data_type(plain_type(item.data_type())?),
        )),
        LargeList(item) => LargeList(Arc::new(
            item.as_ref()
                .clone()
                .with_data_type(plain_type(item.data_type())?),
        )),
        _ => return None,
    })
}

/// Writes JSON Lines records (as `filter` writes them: a Parquet input's rows as JSON objects,
/// perhaps with annotations) as the rows of a Parquet file of a given schema.
///
/// It takes bytes like any output, so `filter` writes to it as to a JSON Lines output; whole
/// lines are parsed and kept until a row group is full, so memory holds one row group.
/// [`ParquetRows::finish`] writes the last row group and the footer: a file not finished is
/// not a readable Parquet file.
pub struct ParquetRows<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: Arc<Schema>,
    partial: Vec<u8>,
    rows: Vec<serde_json::Value>,
}

impl<W: Write + Send> ParquetRows<W> {
    /// Rows kept before they are written as a row group.
    const ROW_GROUP_ROWS: usize = 16 * 1024;

    /// A writer of rows of `schema` (from [`output_schema`]) to `out`.
    pub fn new(out: W, schema: Arc<Schema>) -> io::Result<ParquetRows<W>> {
        let writer =
            ArrowWriter::try_new(out, schema.clone(), Some(properties())).map_err(into_io)?;
        Ok(ParquetRows {
            writer,
            schema,
            partial: Vec::new(),
            rows: Vec::new(),
        })
    }

    fn write_rows(&mut self) -> io::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let rows: Vec<Option<&serde_json::Value>> = self.rows.iter().map(Some).collect();
        let columns = self
            .schema
            .fields()
            .iter()
            .map(|f| {
                let values: Vec<Option<&serde_json::Value>> = rows
                    .iter()
                    .map(|r| r.and_then(|r| r.get(f.name())))
                    .collect();
                column(f.data_type(), &values)
            })
            .collect::<io::Result<Vec<ArrayRef>>>()?;
        let batch = RecordBatch::try_new(self.schema.clone(), columns).map_err(io::Error::other)?;
        self.writer.write(&batch).map_err(into_io)?;
        self.writer.flush().map_err(into_io)?;
        self.rows.clear();
        Ok(())
    }

    /// Writes the rows still kept and the footer, and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.partial.is_empty() {
            return Err(io::Error::other(
                "the last record was not ended by a line break",
            ));
        }
        self.write_rows()?;
        self.writer.into_inner().map_err(into_io)
    }
}

impl<W: Write + Send> Write for ParquetRows<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&rest[..end]);
            rest = &rest[end + 1..];
            let row = serde_json::from_slice(&self.partial).map_err(io::Error::other)?;
            self.partial.clear();
            self.rows.push(row);
            if self.rows.len() >= Self::ROW_GROUP_ROWS {
                self.write_rows()?;
            }
        }
        self.partial.extend_from_slice(rest);
        Ok(buf.len())
    }

    /// Rows are written a row group at a time, by [`ParquetRows::finish`] at the latest.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The column of `data_type` holding `values` (JSON, as the Parquet reader writes records:
/// dates and timestamps in Unix seconds); `None` and JSON null are null.
fn column(data_type: &DataType, values: &[Option<&serde_json::Value>]) -> io::Result<ArrayRef> {
    use arrow_array::types::*;
    use arrow_array::*;
    use serde_json::Value;
    let value = |i: usize| values[i].filter(|v| !v.is_null());
    let n = values.len();
    let ints =
        |i: usize| value(i).and_then(|v| v.as_i64().or_else(|| v.as_u64().map(|u| u as i64)));
    let floats = |i: usize| value(i).and_then(Value::as_f64);
    // Seconds (perhaps fractional) to a count of `per_second` units.
    let scaled = |i: usize, per_second: f64| floats(i).map(|s| (s * per_second).round() as i64);
    macro_rules! primitive {
        ($t:ty, $f:expr) => {
            Arc::new((0..n).map($f).collect::<PrimitiveArray<$t>>()) as ArrayRef
        };
    }
    Ok(match data_type {
        DataType::Utf8 => Arc::new(
            (0..n)
                .map(|i| value(i).and_then(Value::as_str))
                .collect::<StringArray>(),
        ),
        DataType::LargeUtf8 => Arc::new(
            (0..n)
                .map(|i| value(i).and_then(Value::as_str))
                .collect::<LargeStringArray>(),
        ),
        DataType::Boolean => Arc::new(
            (0..n)
                .map(|i| value(i).and_then(Value::as_bool))
                .collect::<BooleanArray>(),
        ),
        DataType::Int8 => primitive!(Int8Type, |i| ints(i).map(|v| v as i8)),
        DataType::Int16 => primitive!(Int16Type, |i| ints(i).map(|v| v as i16)),
        DataType::Int32 => primitive!(Int32Type, |i| ints(i).map(|v| v as i32)),
        DataType::Int64 => primitive!(Int64Type, ints),
        DataType::UInt8 => primitive!(UInt8Type, |i| ints(i).map(|v| v as u8)),
        DataType::UInt16 => primitive!(UInt16Type, |i| ints(i).map(|v| v as u16)),
        DataType::UInt32 => primitive!(UInt32Type, |i| ints(i).map(|v| v as u32)),
        DataType::UInt64 => primitive!(UInt64Type, |i| value(i).and_then(Value::as_u64)),
        DataType::Float32 => primitive!(Float32Type, |i| floats(i).map(|v| v as f32)),
        DataType::Float64 => primitive!(Float64Type, floats),
        DataType::Date32 => {
            primitive!(Date32Type, |i| ints(i).map(|s| s.div_euclid(86_400) as i32))
        }
        DataType::Date64 => primitive!(Date64Type, |i| scaled(i, 1e3)),
        DataType::Timestamp(unit, zone) => {
            use arrow_schema::TimeUnit;
            let array: ArrayRef = match unit {
                TimeUnit::Second => Arc::new(
                    (0..n)
                        .map(ints)
                        .collect::<TimestampSecondArray>()
                        .with_timezone_opt(zone.clone()),
                ),
                TimeUnit::Millisecond => Arc::new(
                    (0..n)
                        .map(|i| scaled(i, 1e3))
                        .collect::<TimestampMillisecondArray>()
                        .with_timezone_opt(zone.clone()),
                ),
                TimeUnit::Microsecond => Arc::new(
                    (0..n)
                        .map(|i| scaled(i, 1e6))
                        .collect::<TimestampMicrosecondArray>()
                        .with_timezone_opt(zone.clone()),
                ),
                TimeUnit::Nanosecond => Arc::new(
                    (0..n)
                        .map(|i| scaled(i, 1e9))
                        .collect::<TimestampNanosecondArray>()
                        .with_timezone_opt(zone.clone()),
                ),
            };
            array
        }
        DataType::Struct(fields) => {
            let children = fields
                .iter()
                .map(|f| {
                    let child: Vec<Option<&Value>> = (0..n)
                        .map(|i| value(i).and_then(|v| v.get(f.name())))
                        .collect();
                    column(f.data_type(), &child)
                })
                .collect::<io::Result<Vec<ArrayRef>>>()?;
            let nulls = arrow_buffer::NullBuffer::from_iter((0..n).map(|i| value(i).is_some()));
            Arc::new(
                StructArray::try_new(fields.clone(), children, Some(nulls))
                    .map_err(io::Error::other)?,
            )
        }
        DataType::List(item) => {
            let (offsets, items, nulls) = flatten::<i32>(values)?;
            let child = column(item.data_type(), &items)?;
            Arc::new(
                ListArray::try_new(item.clone(), offsets, child, Some(nulls))
                    .map_err(io::Error::other)?,
            )
        }
        DataType::LargeList(item) => {
            let (offsets, items, nulls) = flatten::<i64>(values)?;
            let child = column(item.data_type(), &items)?;
            Arc::new(
                LargeListArray::try_new(item.clone(), offsets, child, Some(nulls))
                    .map_err(io::Error::other)?,
            )
        }
        other => {
            return Err(io::Error::other(format!(
                "a column of type {other}, {UNSUPPORTED}"
            )))
        }
    })
}

/// The items of JSON arrays, one after the other, with the offsets and nulls of a list column.
type Flattened<'v, O> = (
    arrow_buffer::OffsetBuffer<O>,
    Vec<Option<&'v serde_json::Value>>,
    arrow_buffer::NullBuffer,
);

fn flatten<'v, O: arrow_array::OffsetSizeTrait>(
    values: &[Option<&'v serde_json::Value>],
) -> io::Result<Flattened<'v, O>> {
    let mut items = Vec::new();
    let mut lengths = Vec::with_capacity(values.len());
    let mut valid = Vec::with_capacity(values.len());
    for v in values {
        match v.and_then(|v| v.as_array()) {
            Some(list) => {
                items.extend(list.iter().map(Some));
                lengths.push(list.len());
                valid.push(true);
            }
            None => {
                lengths.push(0);
                valid.push(false);
            }
        }
    }
    Ok((
        arrow_buffer::OffsetBuffer::from_lengths(lengths),
        items,
        arrow_buffer::NullBuffer::from(valid),
    ))
}
