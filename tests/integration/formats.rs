//! Corpus formats: compressed inputs told by their bytes (gzip, zstd, bzip2, xz), whole
//! multi-member files, and what a damaged compressed file says; Parquet files and folders of
//! shards in, with every kind of string column and each way a Parquet input can be wrong
//! (with the `parquet` feature; without it, what a Parquet input says).

use std::fs;
use std::io::Write;

use tempfile::TempDir;

use crate::support::{mukarrar, run, s, sample};

/// The compressions an input may have, with a name suffix and a compressor.
type Compress = fn(&[u8]) -> Vec<u8>;

const COMPRESSIONS: [(&str, Compress); 4] =
    [("gz", gzip), ("zst", zstd), ("bz2", bzip2), ("xz", xz)];

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 3).unwrap()
}

fn bzip2(bytes: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut e = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::default()).unwrap();
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn cluster_csv(input: &str) -> String {
    run(&["cluster", input, "--format", "csv", "--include-singletons"])
}

/// The bytes of `text` compressed as two members (split at a line break), one after the other:
/// what `cat a.gz b.gz`, `pzstd`, `pbzip2` or `pixz` make.
fn two_members(text: &[u8], compress: Compress) -> Vec<u8> {
    let middle = text[..text.len() / 2]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    let mut out = compress(&text[..middle]);
    out.extend(compress(&text[middle..]));
    out
}

#[test]
fn compressed_samples_give_the_plain_files_csv() {
    let dir = TempDir::new().unwrap();
    for name in ["headlines.jsonl", "labelled.jsonl"] {
        let plain = fs::read(sample(name)).unwrap();
        let want = cluster_csv(s(&sample(name)));
        assert!(want.lines().count() > 10, "{want}");
        for (suffix, compress) in COMPRESSIONS {
            let path = dir.path().join(format!("{name}.{suffix}"));
            fs::write(&path, compress(&plain)).unwrap();
            assert_eq!(cluster_csv(s(&path)), want, "{name}.{suffix}");

            let path = dir.path().join(format!("two-members-{name}.{suffix}"));
            fs::write(&path, two_members(&plain, compress)).unwrap();
            assert_eq!(
                cluster_csv(s(&path)),
                want,
                "{name}.{suffix} in two members"
            );
        }
    }
}

#[test]
fn compressed_standard_input_and_misleading_names_are_read_by_content() {
    let plain = fs::read(sample("headlines.jsonl")).unwrap();
    let want = cluster_csv(s(&sample("headlines.jsonl")));
    let dir = TempDir::new().unwrap();
    for (suffix, compress) in COMPRESSIONS {
        let out = mukarrar()
            .args([
                "-q",
                "cluster",
                "-",
                "--format",
                "csv",
                "--include-singletons",
            ])
            .write_stdin(compress(&plain))
            .output()
            .unwrap();
        assert!(out.status.success(), "{suffix} on stdin");
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            want,
            "{suffix} on stdin"
        );

        // Named as plain JSON Lines, compressed all the same.
        let path = dir.path().join(format!("really-{suffix}.jsonl"));
        fs::write(&path, compress(&plain)).unwrap();
        assert_eq!(cluster_csv(s(&path)), want, "{suffix} named .jsonl");
    }
}

#[test]
fn compressed_csv_is_read_by_its_inner_extension() {
    let dir = TempDir::new().unwrap();
    let csv = "id,text\na,الأمم المتحدة تدعو إلى وقف إطلاق النار في غزة فورا\n\
               b,الأمم المتحدة تدعو إلى وقف إطلاق النار في غزة فورا\n";
    let plain = dir.path().join("docs.csv");
    fs::write(&plain, csv).unwrap();
    let want = cluster_csv(s(&plain));
    assert!(want.contains(",a,") && want.contains(",b,"), "{want}");
    for (suffix, compress) in COMPRESSIONS {
        let path = dir.path().join(format!("docs.csv.{suffix}"));
        fs::write(&path, compress(csv.as_bytes())).unwrap();
        assert_eq!(cluster_csv(s(&path)), want, "docs.csv.{suffix}");
    }
}

#[test]
fn truncated_compressed_input_is_an_error_naming_the_file_and_compression() {
    // Enough text that the cut falls inside compressed data, not in a header.
    let mut plain = Vec::new();
    for i in 0..400 {
        writeln!(
            plain,
            r#"{{"id":"d{i}","text":"نص رقم {i} عن الاقتصاد والسياسة {}"}}"#,
            i * 7919 % 10007
        )
        .unwrap();
    }
    let dir = TempDir::new().unwrap();
    let names = [
        ("gz", "gzip"),
        ("zst", "zstd"),
        ("bz2", "bzip2"),
        ("xz", "xz"),
    ];
    for ((suffix, compress), (_, name)) in COMPRESSIONS.into_iter().zip(names) {
        let whole = compress(&plain);
        let path = dir.path().join(format!("cut.jsonl.{suffix}"));
        fs::write(&path, &whole[..whole.len() / 2]).unwrap();
        let out = mukarrar()
            .args(["-q", "cluster", s(&path), "--format", "csv"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{suffix}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(s(&path)), "{suffix}: {err}");
        assert!(
            err.contains(&format!("corrupt or truncated {name} data")),
            "{suffix}: {err}"
        );
        assert!(out.stdout.is_empty(), "{suffix}: a report was written");
    }
}

/// Parquet in and out.
#[cfg(feature = "parquet")]
mod parquet_files {
    use std::fs;
    use std::path::Path;
    use std::sync::Arc;

    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int32Type, Int64Type, UInt64Type};
    use arrow_array::{
        Array, ArrayRef, DictionaryArray, Int64Array, LargeStringArray, RecordBatch, StringArray,
        StructArray,
    };
    use arrow_schema::{DataType, Field};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;
    use tempfile::TempDir;

    use super::cluster_csv;
    use crate::support::{fails, mukarrar, run, s, sample};

    // Parquet input.

    /// Writes `batches` as a Parquet file at `path`, `row_group` rows per row group.
    fn write_parquet(path: &Path, batches: &[RecordBatch], row_group: usize) {
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(row_group))
            .set_compression(parquet::basic::Compression::SNAPPY)
            .build();
        let file = fs::File::create(path).unwrap();
        let mut w = ArrowWriter::try_new(file, batches[0].schema(), Some(props)).unwrap();
        for b in batches {
            w.write(b).unwrap();
        }
        w.close().unwrap();
    }

    /// The JSON Lines file `name` of the samples as a batch of string columns `id`, `title` and
    /// `text` (null where a record has no such field).
    fn sample_batch(name: &str) -> RecordBatch {
        let text = fs::read_to_string(sample(name)).unwrap();
        let records: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let column = |field: &str| -> ArrayRef {
            Arc::new(StringArray::from(
                records
                    .iter()
                    .map(|r| r.get(field).and_then(|v| v.as_str()))
                    .collect::<Vec<_>>(),
            ))
        };
        RecordBatch::try_from_iter([
            ("id", column("id")),
            ("title", column("title")),
            ("text", column("text")),
        ])
        .unwrap()
    }

    #[test]
    fn parquet_files_and_folders_of_shards_give_the_jsonl_csv() {
        let dir = TempDir::new().unwrap();
        for name in ["headlines.jsonl", "labelled.jsonl"] {
            let want = cluster_csv(s(&sample(name)));
            let batch = sample_batch(name);
            // Several row groups, and a batch split across them.
            let file = dir.path().join(format!("{name}.parquet"));
            write_parquet(&file, std::slice::from_ref(&batch), 7);
            assert_eq!(cluster_csv(s(&file)), want, "{name} as one file");

            // The same rows as shards in a folder, named so that name order is row order, written
            // out of order.
            let shards = dir.path().join(format!("{name}-shards"));
            fs::create_dir_all(shards.join("data")).unwrap();
            let n = batch.num_rows();
            let cuts = [0, n / 3, 2 * n / 3, n];
            for i in (0..3).rev() {
                let part = batch.slice(cuts[i], cuts[i + 1] - cuts[i]);
                write_parquet(
                    &shards.join(format!("data/train-0000{i}-of-00003.parquet")),
                    &[part],
                    5,
                );
            }
            assert_eq!(cluster_csv(s(&shards)), want, "{name} as shards");
        }
    }

    /// Reads the report rows (cluster_id, doc_id) of a CSV report.
    fn pairs(csv: &str) -> Vec<(String, String)> {
        csv.lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[0].to_string(), f[1].to_string())
            })
            .collect()
    }

    #[test]
    fn parquet_struct_paths_dictionary_and_large_strings_and_nulls() {
        let same = "الأمم المتحدة تدعو إلى وقف إطلاق النار في غزة فورا وتطالب بإدخال المساعدات";
        let other = "ارتفاع أسعار النفط في الأسواق العالمية بعد قرار أوبك خفض الإنتاج الشهر المقبل";
        // meta.id: integer ids inside a struct; body: dictionary-encoded; title: large strings with
        // nulls (a null title is skipped, as an absent JSON field is).
        let ids = Int64Array::from(vec![10, 11, 12, 13]);
        let meta = StructArray::from(vec![(
            Arc::new(Field::new("id", DataType::Int64, false)),
            Arc::new(ids) as ArrayRef,
        )]);
        let body: DictionaryArray<Int32Type> = vec![Some(same), Some(other), Some(same), None]
            .into_iter()
            .collect();
        let title = LargeStringArray::from(vec![None, None, Some(""), Some(same)]);
        let batch = RecordBatch::try_from_iter([
            ("meta", Arc::new(meta) as ArrayRef),
            ("title", Arc::new(title) as ArrayRef),
            ("body", Arc::new(body) as ArrayRef),
        ])
        .unwrap();
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("typed.parquet");
        write_parquet(&path, &[batch], 3);
        let csv = run(&[
            "cluster",
            s(&path),
            "--format",
            "csv",
            "--id-field",
            "meta.id",
            "--text-field",
            "title",
            "--text-field",
            "body",
        ]);
        let got = pairs(&csv);
        // 10, 12 (its empty title adds nothing) and 13 (title only) are one story.
        assert_eq!(
            got,
            [("0", "10"), ("0", "12"), ("0", "13")].map(|(c, d)| (c.to_string(), d.to_string())),
            "{csv}"
        );
    }

    #[test]
    fn parquet_row_without_text_is_an_invalid_record_naming_file_and_row() {
        let batch = RecordBatch::try_from_iter([
            (
                "id",
                Arc::new(StringArray::from(vec!["a", "b", "c"])) as ArrayRef,
            ),
            (
                "text",
                Arc::new(StringArray::from(vec![Some("نص"), None, Some("نص")])) as ArrayRef,
            ),
        ])
        .unwrap();
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("nulls.parquet");
        write_parquet(&path, &[batch], 10);
        let err = fails(&["cluster", s(&path), "--format", "csv"]);
        assert!(err.contains(&format!("{}:2", s(&path))), "{err}");
        let out = run(&["cluster", s(&path), "--format", "csv", "--skip-invalid"]);
        assert!(out.contains(",a,") && out.contains(",c,"), "{out}");
    }

    #[test]
    fn parquet_missing_column_lists_the_columns_present() {
        let batch = RecordBatch::try_from_iter([
            ("url", Arc::new(StringArray::from(vec!["u"])) as ArrayRef),
            (
                "content",
                Arc::new(StringArray::from(vec!["نص"])) as ArrayRef,
            ),
        ])
        .unwrap();
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("columns.parquet");
        write_parquet(&path, &[batch], 10);
        let err = fails(&["cluster", s(&path), "--format", "csv"]);
        assert!(err.contains(s(&path)), "{err}");
        assert!(err.contains("`title`, `text`"), "{err}");
        assert!(err.contains("the file has `url`, `content`"), "{err}");

        // A named id column must be there too, with a hint when a column is close.
        let err = fails(&[
            "cluster",
            s(&path),
            "--text-field",
            "content",
            "--id-field",
            "uri",
            "--format",
            "csv",
        ]);
        assert!(err.contains(s(&path)), "{err}");
        assert!(
            err.contains("the id column `uri` is not in the file"),
            "{err}"
        );
        assert!(err.contains("did you mean `url` for `uri`?"), "{err}");
    }

    /// Many small row groups over two shards, decoded on several threads: documents come out
    /// in the input's order, and rows without an id are numbered across the shards.
    #[test]
    fn parquet_row_groups_decoded_at_once_keep_the_input_order() {
        let rows = 1200;
        // Texts that share no words, so that every document is new and checking is quick.
        let text = |i: usize| -> String {
            (1..=8)
                .map(|k| format!("ك{}", (i * 8 + k) * 7919 % 100_003))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let ids: Vec<Option<String>> = (0..rows)
            .map(|i| (i % 3 != 0).then(|| format!("d{i}")))
            .collect();
        let texts: Vec<String> = (0..rows).map(text).collect();
        let batch = RecordBatch::try_from_iter([
            ("id", Arc::new(StringArray::from(ids.clone())) as ArrayRef),
            (
                "text",
                Arc::new(StringArray::from(texts.clone())) as ArrayRef,
            ),
        ])
        .unwrap();
        let dir = TempDir::new().unwrap();
        let shards = dir.path().join("shards");
        fs::create_dir(&shards).unwrap();
        let half = rows / 2;
        write_parquet(&shards.join("part-0.parquet"), &[batch.slice(0, half)], 37);
        write_parquet(
            &shards.join("part-1.parquet"),
            &[batch.slice(half, rows - half)],
            41,
        );
        // Every document is new, so filter writes each one, in the order read.
        let out = mukarrar()
            .args(["-q", "filter", s(&shards)])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["text"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(got, texts);

        // Ids: the column's, else the row number counted across shards (1-based).
        let csv = run(&[
            "cluster",
            s(&shards),
            "--include-singletons",
            "--format",
            "csv",
        ]);
        let mut got_ids: Vec<String> = pairs(&csv).into_iter().map(|(_, id)| id).collect();
        got_ids.sort();
        let mut want_ids: Vec<String> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| id.clone().unwrap_or_else(|| (i + 1).to_string()))
            .collect();
        want_ids.sort();
        assert_eq!(got_ids, want_ids);
    }

    /// A folder of Parquet shards with other files: the others are named in a warning; a
    /// folder that mixes Parquet with other formats reads each file by its extension.
    #[test]
    fn parquet_folders_warn_of_other_files_and_mix_with_other_formats() {
        let dir = TempDir::new().unwrap();
        let shards = dir.path().join("shards");
        fs::create_dir(&shards).unwrap();
        write_parquet(
            &shards.join("train-0.parquet"),
            &[sample_batch("headlines.jsonl")],
            10,
        );
        fs::write(shards.join("README.md"), "a dataset card").unwrap();
        let out = mukarrar()
            .args(["cluster", s(&shards), "--format", "csv"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("1 file not read"), "{err}");
        assert!(err.contains("README.md"), "{err}");

        // With a text file beside it, the folder is read file by file: the Parquet file's
        // documents, then the text file.
        let mixed = dir.path().join("mixed");
        fs::create_dir(&mixed).unwrap();
        write_parquet(
            &mixed.join("a.parquet"),
            &[sample_batch("headlines.jsonl")],
            10,
        );
        fs::write(mixed.join("b.txt"), "نص قصير في ملف نصي وحده").unwrap();
        let csv = run(&[
            "cluster",
            s(&mixed),
            "--include-singletons",
            "--format",
            "csv",
        ]);
        let headlines = run(&[
            "cluster",
            s(&sample("headlines.jsonl")),
            "--include-singletons",
            "--format",
            "csv",
        ]);
        let ids = |csv: &str| -> Vec<String> {
            let mut ids: Vec<String> = pairs(csv).into_iter().map(|(_, id)| id).collect();
            ids.sort();
            ids
        };
        let mut want = ids(&headlines);
        want.push("b".to_string());
        want.sort();
        assert_eq!(ids(&csv), want);
    }

    #[test]
    fn parquet_non_string_column_is_refused_naming_file_and_column() {
        let batch = RecordBatch::try_from_iter([
            ("id", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
            ("text", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
        ])
        .unwrap();
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("typed.parquet");
        write_parquet(&path, &[batch], 10);
        let err = fails(&["cluster", s(&path), "--format", "csv"]);
        assert!(err.contains(s(&path)), "{err}");
        assert!(err.contains("text"), "{err}");
        assert!(err.contains("Int64, not a string"), "{err}");
    }

    #[test]
    fn truncated_and_non_parquet_files_are_refused_before_any_output() {
        let dir = TempDir::new().unwrap();
        let good = dir.path().join("good.parquet");
        write_parquet(&good, &[sample_batch("labelled.jsonl")], 5);
        let bytes = fs::read(&good).unwrap();

        // Cut in the middle: the footer is gone.
        let cut = dir.path().join("cut.parquet");
        fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        // Not Parquet at all.
        let json = dir.path().join("json.parquet");
        fs::copy(sample("labelled.jsonl"), &json).unwrap();
        // A folder whose second shard is damaged: nothing is read from the first either.
        let shards = dir.path().join("shards");
        fs::create_dir(&shards).unwrap();
        fs::copy(&good, shards.join("part-0.parquet")).unwrap();
        fs::copy(&cut, shards.join("part-1.parquet")).unwrap();
        let bad_shard = shards.join("part-1.parquet");

        for (input, named) in [(&cut, &cut), (&json, &json), (&shards, &bad_shard)] {
            let out = mukarrar()
                .args(["-q", "cluster", s(input), "--format", "csv"])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{}", input.display());
            assert!(out.stdout.is_empty(), "{}", input.display());
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(s(named)), "{err}");
            assert!(err.contains("not a readable Parquet file"), "{err}");
        }

        // Damaged pages after a good footer: the error names the file and the first row of the
        // batch that could not be decoded.
        let mut damaged = bytes.clone();
        for b in &mut damaged[8..bytes.len() / 2] {
            *b = !*b;
        }
        let path = dir.path().join("damaged.parquet");
        fs::write(&path, &damaged).unwrap();
        let err = fails(&["cluster", s(&path), "--format", "csv"]);
        assert!(err.contains(&format!("{}:1", s(&path))), "{err}");
        assert!(err.contains("cannot decode the Parquet data"), "{err}");

        // Parquet on standard input cannot be read (a Parquet file is read from its end).
        let out = mukarrar()
            .args(["-q", "cluster", "-", "--format", "csv"])
            .write_stdin(bytes)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("Parquet"));
    }

    // Parquet output.

    /// Reads a whole Parquet file back with the Rust reader.
    fn read_parquet(path: &Path) -> Vec<RecordBatch> {
        let file = fs::File::open(path).unwrap();
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap()
            .map(|b| b.unwrap())
            .collect()
    }

    #[test]
    fn cluster_writes_the_csv_rows_as_typed_parquet() {
        let dir = TempDir::new().unwrap();
        let input = sample("labelled.jsonl");
        let csv = cluster_csv(s(&input));
        let out = dir.path().join("clusters.parquet");
        // The format follows the extension.
        run(&["cluster", s(&input), "--include-singletons", "-o", s(&out)]);
        let batches = read_parquet(&out);
        let schema = batches[0].schema();
        let types: Vec<(String, DataType)> = schema
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        assert_eq!(
            types,
            [
                ("cluster_id".to_string(), DataType::UInt64),
                ("doc_id".to_string(), DataType::Utf8),
                ("similarity".to_string(), DataType::Float64),
                ("is_representative".to_string(), DataType::Boolean),
            ]
        );
        let mut rows = vec!["cluster_id,doc_id,similarity,is_representative".to_string()];
        for b in &batches {
            let cluster = b.column(0).as_primitive::<UInt64Type>();
            let doc = b.column(1).as_string::<i32>();
            let sim = b.column(2).as_primitive::<Float64Type>();
            let rep = b.column(3).as_boolean();
            for i in 0..b.num_rows() {
                rows.push(format!(
                    "{},{},{:.4},{}",
                    cluster.value(i),
                    doc.value(i),
                    sim.value(i),
                    rep.value(i)
                ));
            }
        }
        assert_eq!(rows.join("\n") + "\n", csv);
    }

    /// A Parquet feed of six documents: a story told three times, another twice, and one alone,
    /// with an integer column, a struct column and dictionary-encoded text.
    fn feed_batch() -> RecordBatch {
        let a = "الأمم المتحدة تدعو إلى وقف إطلاق النار في غزة فورا وتطالب بإدخال المساعدات الإنسانية";
        let b =
            "ارتفاع أسعار النفط في الأسواق العالمية بعد قرار أوبك خفض الإنتاج الشهر المقبل بنسبة كبيرة";
        let c =
            "افتتاح معرض الرياض الدولي للكتاب بمشاركة أكثر من ألف دار نشر من ثلاثين دولة عربية وأجنبية";
        let text: DictionaryArray<Int32Type> =
            vec![a, b, a, c, b, a].into_iter().map(Some).collect();
        let source = StructArray::from(vec![(
            Arc::new(Field::new("name", DataType::Utf8, true)),
            Arc::new(StringArray::from(vec!["x", "y", "x", "z", "y", "w"])) as ArrayRef,
        )]);
        RecordBatch::try_from_iter([
            (
                "id",
                Arc::new(StringArray::from(vec!["d0", "d1", "d2", "d3", "d4", "d5"])) as ArrayRef,
            ),
            ("text", Arc::new(text) as ArrayRef),
            (
                "views",
                Arc::new(Int64Array::from(vec![
                    Some(5),
                    None,
                    Some(7),
                    Some(1),
                    Some(2),
                    Some(3),
                ])) as ArrayRef,
            ),
            ("source", Arc::new(source) as ArrayRef),
        ])
        .unwrap()
    }

    #[test]
    fn filter_from_parquet_writes_parquet_with_the_input_columns_and_the_annotations() {
        let dir = TempDir::new().unwrap();
        let input = dir.path().join("feed.parquet");
        write_parquet(&input, &[feed_batch()], 4);
        let dups = dir.path().join("dups.parquet");
        let out = mukarrar()
            .args([
                "-q",
                "filter",
                s(&input),
                "--format",
                "parquet",
                "--duplicates",
                s(&dups),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let kept = dir.path().join("kept.parquet");
        fs::write(&kept, &out.stdout).unwrap();

        let kept = read_parquet(&kept);
        let names = |b: &RecordBatch| -> Vec<String> {
            b.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        };
        // Kept documents: the input's columns (the dictionary column as plain strings).
        assert_eq!(names(&kept[0]), ["id", "text", "views", "source"]);
        assert_eq!(kept[0].schema().field(1).data_type(), &DataType::Utf8);
        assert_eq!(
            kept[0].schema().field(3).data_type(),
            feed_batch().schema().field(3).data_type()
        );
        let kept_ids: Vec<&str> = kept
            .iter()
            .flat_map(|b| b.column(0).as_string::<i32>().iter().map(Option::unwrap))
            .collect();
        assert_eq!(kept_ids, ["d0", "d1", "d3"]);
        let views = kept[0].column(2).as_primitive::<Int64Type>();
        assert_eq!(
            (views.value(0), views.is_null(1), views.value(2)),
            (5, true, 1)
        );
        let names_col = kept[0].column(3).as_struct().column(0).as_string::<i32>();
        assert_eq!(names_col.value(2), "z");

        // Duplicates: the input's columns plus duplicate_of, cluster_id and similarity.
        let dups = read_parquet(&dups);
        assert_eq!(
            names(&dups[0]),
            [
                "id",
                "text",
                "views",
                "source",
                "duplicate_of",
                "cluster_id",
                "similarity"
            ]
        );
        let ids: Vec<&str> = dups[0]
            .column(0)
            .as_string::<i32>()
            .iter()
            .map(Option::unwrap)
            .collect();
        let of: Vec<&str> = dups[0]
            .column(4)
            .as_string::<i32>()
            .iter()
            .map(Option::unwrap)
            .collect();
        let cluster: Vec<u64> = dups[0]
            .column(5)
            .as_primitive::<UInt64Type>()
            .values()
            .to_vec();
        assert_eq!(ids, ["d2", "d4", "d5"]);
        assert_eq!(of, ["d0", "d1", "d0"]);
        assert_eq!(cluster, [0, 1, 0]);
        let sim = dups[0].column(6).as_primitive::<Float64Type>();
        assert!((0..3).all(|i| sim.value(i) > 0.99), "{sim:?}");
    }

    #[test]
    fn filter_parquet_output_needs_parquet_input_and_is_refused_before_writing() {
        let dir = TempDir::new().unwrap();
        let dups = dir.path().join("dups.parquet");
        let err = fails(&[
            "filter",
            s(&sample("headlines.jsonl")),
            "--format",
            "parquet",
            "--duplicates",
            s(&dups),
        ]);
        assert!(err.contains("needs Parquet input"), "{err}");
        assert!(!dups.exists(), "--duplicates was created");
    }
}

/// Without the `parquet` feature, a Parquet input is refused saying how to get it.
#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_input_without_the_feature_says_how_to_get_it() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("data.parquet");
    std::fs::write(&path, b"PAR1 not read").unwrap();
    for args in [
        vec!["cluster", s(&path), "--format", "csv"],
        vec![
            "cluster",
            s(&sample("headlines.jsonl")),
            "--format",
            "parquet",
        ],
    ] {
        let err = crate::support::fails(&args);
        assert!(err.contains("no Parquet support"), "{err}");
        assert!(err.contains("--features parquet"), "{err}");
    }
}
