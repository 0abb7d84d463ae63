//! The input readers against well-formed and malformed input, one format at a time.
//!
//! Each malformed case checks the exact location reported (source, line, field) and that the
//! next good record is still read, with its own line number. Small fixtures live in
//! `tests/data/input/`; inputs that are easier to describe as bytes (gzip, invalid UTF-8) are
//! written to temporary folders.

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use mukarrar::input::{self, Format, InputConfig};
use mukarrar::{Document, Error, Location, RecordError};
use proptest::prelude::*;
use serde_json::json;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/input");

fn fixture(name: &str) -> String {
    format!("{DATA}/{name}")
}

fn read(path: &str, config: &InputConfig) -> Vec<Result<Document, Error>> {
    input::open(path, config)
        .unwrap_or_else(|e| panic!("open {path}: {e}"))
        .collect()
}

fn config() -> InputConfig {
    InputConfig::default()
}

/// Writes `bytes` to `name` inside `dir` and returns the path.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// The document, or a panic that shows the error.
#[track_caller]
fn ok(item: &Result<Document, Error>) -> &Document {
    match item {
        Ok(doc) => doc,
        Err(e) => panic!("expected a document, got {e}"),
    }
}

/// Asserts a record error at `location` and returns its kind.
#[track_caller]
fn record_err(item: &Result<Document, Error>, location: Location) -> RecordError {
    match item {
        Err(Error::Record {
            location: got,
            kind,
        }) => {
            assert_eq!(got, &location, "location of {kind}");
            kind.clone()
        }
        Err(e) => panic!("expected a record error at {location}, got {e}"),
        Ok(doc) => panic!("expected a record error at {location}, got document {doc:?}"),
    }
}

fn at(source: &str, line: u64) -> Location {
    Location::line(source, line)
}

// ---------------------------------------------------------------------------------------------
// JSON Lines

#[test]
fn jsonl_mixed_fixture() {
    let path = fixture("mixed.jsonl");
    let items = read(&path, &config());
    assert_eq!(items.len(), 12, "{items:#?}");

    // Line 1: BOM skipped, CRLF stripped, title and text joined.
    let doc = ok(&items[0]);
    assert_eq!((doc.id.as_str(), doc.line), ("a", 1));
    assert_eq!(doc.text, "خبر\nنص");
    assert_eq!(doc.raw, None);
    assert!(doc.fields.is_empty());

    // Line 2 is blank: no record. Line 3: a numeric id.
    let doc = ok(&items[1]);
    assert_eq!(
        (doc.id.as_str(), doc.text.as_str(), doc.line),
        ("7", "numeric id", 3)
    );

    // Line 4: not JSON.
    match record_err(&items[2], at(&path, 4)) {
        RecordError::InvalidJson(msg) => assert_eq!(msg, "expected ident at column 2"),
        other => panic!("{other:?}"),
    }
    // Line 5: JSON but not an object.
    assert_eq!(
        record_err(&items[3], at(&path, 5)),
        RecordError::NotAnObject("array")
    );
    // Line 6: reading goes on after errors, with the right line number.
    let doc = ok(&items[4]);
    assert_eq!(
        (doc.id.as_str(), doc.text.as_str(), doc.line),
        ("b", "after errors", 6)
    );
    // Line 7: a null title and no text.
    assert_eq!(
        record_err(&items[5], at(&path, 7)),
        RecordError::NoTextField(vec!["title".into(), "text".into()])
    );
    // Line 8 is whitespace only. Line 9: an id of the wrong type names the field.
    assert_eq!(
        record_err(&items[6], at(&path, 9).with_field("id")),
        RecordError::BadFieldType("boolean")
    );
    // Line 10: a text field of the wrong type names the field.
    assert_eq!(
        record_err(&items[7], at(&path, 10).with_field("text")),
        RecordError::BadFieldType("array")
    );
    // Line 11: no id, so the line number.
    let doc = ok(&items[8]);
    assert_eq!(
        (doc.id.as_str(), doc.text.as_str(), doc.line),
        ("11", "no id", 11)
    );
    // Line 12: an empty title counts as present but adds no line: the text is the first line.
    assert_eq!(ok(&items[9]).text, "t");
    // Line 13: invalid UTF-8 at byte 9 of the line.
    assert_eq!(
        record_err(&items[10], at(&path, 13)),
        RecordError::InvalidUtf8(9)
    );
    // Line 14 (no final newline): null id → line number; numbers as text, in field order.
    let doc = ok(&items[11]);
    assert_eq!(
        (doc.id.as_str(), doc.text.as_str(), doc.line),
        ("14", "2\n1.5", 14)
    );
}

#[test]
fn jsonl_each_error_is_followed_by_the_next_record() {
    let bad_lines: [&[u8]; 9] = [
        b"{",
        b"{\"text\": \"a\"} trailing",
        b"\"a string\"",
        b"42",
        b"null",
        b"{\"text\": \"\xc3\x28\"}",
        b"{\"other\": 1}",
        b"{\"text\": {\"nested\": 1}}",
        b"{\"id\": [1], \"text\": \"x\"}",
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, bad) in bad_lines.iter().enumerate() {
        let mut bytes = b"{\"id\": \"first\", \"text\": \"one\"}\n\n".to_vec();
        bytes.extend_from_slice(bad);
        bytes.extend_from_slice(b"\n{\"id\": \"next\", \"text\": \"two\"}\n");
        let path = write(dir.path(), &format!("case{i}.jsonl"), &bytes);
        let items = read(&path, &config());
        assert_eq!(items.len(), 3, "case {i}: {items:?}");
        assert_eq!(ok(&items[0]).line, 1);
        let err = items[1].as_ref().unwrap_err();
        assert!(err.is_record_error(), "case {i}: {err}");
        assert_eq!(err.location().unwrap().line, Some(3), "case {i}");
        assert_eq!(err.location().unwrap().source, path);
        let next = ok(&items[2]);
        assert_eq!((next.id.as_str(), next.line), ("next", 4), "case {i}");
    }
}

#[test]
fn jsonl_not_an_object_names_the_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "t.jsonl", b"\"s\"\n1\nnull\ntrue\n[]\n");
    let kinds: Vec<RecordError> = read(&path, &config())
        .iter()
        .enumerate()
        .map(|(i, item)| record_err(item, at(&path, i as u64 + 1)))
        .collect();
    assert_eq!(
        kinds,
        ["string", "number", "null", "boolean", "array"].map(RecordError::NotAnObject)
    );
}

#[test]
fn jsonl_bad_field_types() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "t.jsonl",
        b"{\"id\": {}, \"text\": \"x\"}\n{\"title\": false, \"text\": \"x\"}\n{\"title\": \"t\", \"text\": {}}\n",
    );
    let items = read(&path, &config());
    assert_eq!(
        record_err(&items[0], at(&path, 1).with_field("id")),
        RecordError::BadFieldType("object")
    );
    assert_eq!(
        record_err(&items[1], at(&path, 2).with_field("title")),
        RecordError::BadFieldType("boolean")
    );
    assert_eq!(
        record_err(&items[2], at(&path, 3).with_field("text")),
        RecordError::BadFieldType("object")
    );
}

#[test]
fn jsonl_invalid_utf8_offset_counts_from_the_start_of_the_line() {
    let dir = tempfile::tempdir().unwrap();
    // On the first line, the offset includes the byte-order mark.
    let path = write(
        dir.path(),
        "t.jsonl",
        b"\xef\xbb\xbf{\"text\": \"\xff\"}\n{\"text\": \"ok\"}\n",
    );
    let items = read(&path, &config());
    assert_eq!(
        record_err(&items[0], at(&path, 1)),
        RecordError::InvalidUtf8(13)
    );
    assert_eq!(ok(&items[1]).line, 2);
}

#[test]
fn jsonl_empty_and_blank_files_have_no_documents() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("empty.jsonl", &b""[..]),
        ("blank.jsonl", b"\n\n  \r\n\t\n"),
        ("bom.jsonl", b"\xef\xbb\xbf\n"),
    ] {
        let path = write(dir.path(), name, bytes);
        let mut reader = input::open(&path, &config()).unwrap();
        assert!(reader.next().is_none(), "{name}");
        assert!(reader.next().is_none(), "{name}: stays ended");
        assert_eq!(reader.bytes_read(), bytes.len() as u64);
        assert_eq!(reader.total_bytes(), Some(bytes.len() as u64));
    }
}

#[test]
fn jsonl_crlf_and_missing_final_newline() {
    let dir = tempfile::tempdir().unwrap();
    let config = InputConfig {
        keep_raw: true,
        ..config()
    };
    let path = write(
        dir.path(),
        "t.jsonl",
        b"{\"text\": \"a\"}\r\n\r\n{\"text\": \"b\\r\"}\r\n{\"text\": \"c\"}",
    );
    let docs: Vec<Document> = read(&path, &config)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let got: Vec<(&str, &str, u64, &str)> = docs
        .iter()
        .map(|d| {
            (
                d.id.as_str(),
                d.text.as_str(),
                d.line,
                d.raw.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("1", "a", 1, "{\"text\": \"a\"}"),
            ("3", "b\r", 3, "{\"text\": \"b\\r\"}"),
            ("4", "c", 4, "{\"text\": \"c\"}"),
        ]
    );
}

#[test]
fn jsonl_dotted_paths() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "t.jsonl",
        concat!(
            r#"{"meta": {"id": "m1", "tags": ["x", "y"]}, "body": {"title": "T", "text": "B"}}"#,
            "\n",
            r#"{"meta": "not an object", "body": {"text": "B2"}}"#,
            "\n",
            r#"{"meta.id": "flat key wins", "meta": {"id": "nested"}, "body": {"title": "T3"}}"#,
            "\n",
            r#"{"meta": {"id": 12}, "body": {"title": ["bad"]}}"#,
            "\n",
            r#"{"body": {"title": null}, "text": "top-level text is not body.text"}"#,
            "\n"
        )
        .as_bytes(),
    );
    let config = InputConfig {
        id_field: "meta.id".into(),
        text_fields: vec!["body.title".into(), "body.text".into()],
        keep_fields: vec!["meta.tags.1".into(), "missing.field".into(), "body".into()],
        ..config()
    };
    let items = read(&path, &config);
    let doc = ok(&items[0]);
    assert_eq!((doc.id.as_str(), doc.text.as_str()), ("m1", "T\nB"));
    assert_eq!(
        doc.fields,
        vec![
            ("meta.tags.1".to_string(), json!("y")),
            ("body".to_string(), json!({"title": "T", "text": "B"})),
        ]
    );
    let doc = ok(&items[1]);
    assert_eq!((doc.id.as_str(), doc.text.as_str()), ("2", "B2"));
    let doc = ok(&items[2]);
    assert_eq!(
        (doc.id.as_str(), doc.text.as_str()),
        ("flat key wins", "T3")
    );
    assert_eq!(
        record_err(&items[3], at(&path, 4).with_field("body.title")),
        RecordError::BadFieldType("array")
    );
    assert_eq!(
        record_err(&items[4], at(&path, 5)),
        RecordError::NoTextField(vec!["body.title".into(), "body.text".into()])
    );
}

#[test]
fn jsonl_numeric_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "t.jsonl",
        b"{\"id\": 42, \"text\": \"a\"}\n{\"id\": -3, \"text\": \"a\"}\n{\"id\": 18446744073709551615, \"text\": \"a\"}\n{\"id\": 2.5, \"text\": \"a\"}\n{\"id\": \"\", \"text\": \"a\"}\n",
    );
    let ids: Vec<String> = read(&path, &config())
        .into_iter()
        .map(|d| d.unwrap().id)
        .collect();
    assert_eq!(ids, ["42", "-3", "18446744073709551615", "2.5", ""]);
}

#[test]
fn jsonl_keep_raw_and_fields() {
    let dir = tempfile::tempdir().unwrap();
    let line = r#"{"id": "x", "text": "t", "source": "spa", "n": 3, "tags": ["a"]}"#;
    let path = write(dir.path(), "t.jsonl", format!("{line}\n").as_bytes());
    let config = InputConfig {
        keep_raw: true,
        keep_fields: vec![
            "tags".into(),
            "nope".into(),
            "source".into(),
            "n".into(),
            "text".into(),
        ],
        ..config()
    };
    let doc = read(&path, &config).remove(0).unwrap();
    assert_eq!(doc.raw.as_deref(), Some(line));
    assert_eq!(
        doc.fields,
        vec![
            ("tags".to_string(), json!(["a"])),
            ("source".to_string(), json!("spa")),
            ("n".to_string(), json!(3)),
            ("text".to_string(), json!("t")),
        ]
    );
    // A kept text field is still the text.
    assert_eq!(doc.text, "t");
}

#[test]
fn jsonl_custom_fields_and_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "t.jsonl",
        b"{\"key\": \"k\", \"headline\": \"h\", \"body\": \"b\"}\n",
    );
    let config = InputConfig {
        id_field: "key".into(),
        text_fields: vec!["body".into(), "headline".into(), "body".into()],
        ..config()
    };
    let doc = read(&path, &config).remove(0).unwrap();
    // Configured order, a repeated field used once.
    assert_eq!((doc.id.as_str(), doc.text.as_str()), ("k", "b\nh"));
}

// ---------------------------------------------------------------------------------------------
// gzip

#[test]
fn gzip_is_detected_by_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let plain = b"{\"id\": \"g\", \"text\": \"zipped\"}\n\n{\"text\": \"two\"}\n";
    let compressed = gzip(plain);
    for name in ["a.jsonl.gz", "misnamed.jsonl", "no-extension"] {
        let path = write(dir.path(), name, &compressed);
        let mut reader = input::open(&path, &config()).unwrap();
        assert_eq!(reader.format(), Format::Jsonl);
        assert_eq!(reader.total_bytes(), Some(compressed.len() as u64));
        let docs: Vec<Document> = reader.by_ref().map(Result::unwrap).collect();
        assert_eq!(docs.len(), 2, "{name}");
        assert_eq!(
            (docs[0].id.as_str(), docs[0].text.as_str()),
            ("g", "zipped")
        );
        assert_eq!((docs[1].id.as_str(), docs[1].line), ("3", 3));
        assert_eq!(reader.bytes_read(), compressed.len() as u64, "{name}");
    }
    // A plain file named .gz is read as plain text: the bytes decide.
    let path = write(dir.path(), "plain.jsonl.gz", plain);
    assert_eq!(read(&path, &config()).len(), 2);

    // Concatenated gzip members read as one stream, as zcat does.
    let mut two = gzip(b"{\"text\": \"a\"}\n");
    two.extend(gzip(b"{\"text\": \"b\"}\n"));
    let path = write(dir.path(), "members.jsonl.gz", &two);
    let texts: Vec<String> = read(&path, &config())
        .into_iter()
        .map(|d| d.unwrap().text)
        .collect();
    assert_eq!(texts, ["a", "b"]);

    // Compressed CSV, by extension and by magic.
    let csv = gzip(b"id,text\nr1,hello\n");
    for name in ["t.csv.gz", "t.csv"] {
        let path = write(dir.path(), name, &csv);
        let docs = read(&path, &config());
        assert_eq!(ok(&docs[0]).text, "hello", "{name}");
        assert_eq!(ok(&docs[0]).line, 2, "{name}");
    }
}

fn many_lines(n: usize) -> Vec<u8> {
    let mut plain = Vec::new();
    for i in 1..=n {
        writeln!(
            plain,
            "{{\"id\": {i}, \"text\": \"line {i} {}\"}}",
            "x".repeat(i % 97)
        )
        .unwrap();
    }
    plain
}

#[test]
fn truncated_gzip_is_an_input_error_after_the_good_lines() {
    let dir = tempfile::tempdir().unwrap();
    let compressed = gzip(&many_lines(5000));
    let path = write(
        dir.path(),
        "t.jsonl.gz",
        &compressed[..compressed.len() / 2],
    );
    let items = read(&path, &config());
    let (last, docs) = items.split_last().unwrap();
    assert!(!docs.is_empty());
    for (i, doc) in docs.iter().enumerate() {
        assert_eq!(ok(doc).line, i as u64 + 1);
    }
    match last {
        Err(Error::Input { location, message }) => {
            assert_eq!(location.source, path);
            assert_eq!(location.line, Some(docs.len() as u64 + 1));
            assert!(message.contains("gzip"), "{message}");
        }
        other => panic!("expected an input error, got {other:?}"),
    }

    // Only the header of a gzip stream.
    let path = write(dir.path(), "stub.jsonl", &compressed[..10]);
    let items = read(&path, &config());
    assert!(
        matches!(items.as_slice(), [Err(Error::Input { .. })]),
        "{items:?}"
    );
}

#[test]
fn corrupt_gzip_ends_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = b"id,text\n".to_vec();
    for i in 0..20000 {
        writeln!(csv, "{i},row {i} {}", "y".repeat(i % 89)).unwrap();
    }
    for (name, plain) in [("t.jsonl.gz", many_lines(5000)), ("t.csv.gz", csv)] {
        let mut compressed = gzip(&plain);
        let middle = compressed.len() / 2;
        for b in &mut compressed[middle..middle + 64] {
            *b ^= 0x5a;
        }
        let path = write(dir.path(), name, &compressed);
        let mut reader = input::open(&path, &config()).unwrap();
        let items: Vec<_> = reader.by_ref().collect();
        assert!(items.len() > 1, "{name}");
        let last = items.last().unwrap();
        assert!(matches!(last, Err(Error::Input { .. })), "{name}: {last:?}");
        assert_eq!(last.as_ref().unwrap_err().location().unwrap().source, path);
        assert!(
            items[..items.len() - 1]
                .iter()
                .all(|i| i.is_ok() || i.as_ref().unwrap_err().is_record_error()),
            "{name}"
        );
        assert!(
            reader.next().is_none(),
            "{name}: nothing after an input error"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// CSV and TSV

#[test]
fn csv_fixture() {
    let path = fixture("articles.csv");
    let config = InputConfig {
        keep_fields: vec!["source".into(), "missing".into()],
        ..config()
    };
    let mut reader = input::open(&path, &config).unwrap();
    assert_eq!(reader.format(), Format::Csv);
    let items: Vec<_> = reader.by_ref().collect();
    assert_eq!(items.len(), 6, "{items:#?}");

    // A quoted field spanning lines 2-3: the record starts on line 2.
    let doc = ok(&items[0]);
    assert_eq!((doc.id.as_str(), doc.line), ("a", 2));
    assert_eq!(doc.text, "عنوان\nنص\nعلى سطرين");
    assert_eq!(doc.fields, vec![("source".to_string(), json!("spa"))]);
    // An empty title cell is absent.
    let doc = ok(&items[1]);
    assert_eq!(
        (doc.id.as_str(), doc.text.as_str(), doc.line),
        ("b", "only text", 4)
    );
    // A row with the wrong number of fields.
    match record_err(&items[2], at(&path, 5)) {
        RecordError::InvalidCsv(msg) => {
            assert_eq!(msg, "expected 4 fields as in the header, found 2")
        }
        other => panic!("{other:?}"),
    }
    // An empty id cell: the line number; an empty kept field is left out.
    let doc = ok(&items[3]);
    assert_eq!(
        (doc.id.as_str(), doc.text.as_str(), doc.line),
        ("6", "quoted, comma\nx", 6)
    );
    assert!(doc.fields.is_empty());
    // All text cells empty.
    assert_eq!(
        record_err(&items[4], at(&path, 7)),
        RecordError::NoTextField(vec!["title".into(), "text".into()])
    );
    // Escaped quotes; no final newline.
    let doc = ok(&items[5]);
    assert_eq!(
        (doc.id.as_str(), doc.text.as_str(), doc.line),
        ("f", "say \"hi\"\nt", 8)
    );
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(reader.bytes_read(), size);
    assert_eq!(reader.total_bytes(), Some(size));
}

#[test]
fn csv_without_text_columns_fails_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "t.csv", b"id,body,headline\n1,a,b\n");
    let err = input::open(&path, &config()).unwrap_err();
    match &err {
        Error::Input { location, message } => {
            assert_eq!(location, &at(&path, 1));
            assert_eq!(
                message,
                "none of the text columns `title`, `text` is in the header \
                 (the header has `id`, `body`, `headline`)"
            );
        }
        other => panic!("{other:?}"),
    }
    // One of the text columns is enough.
    let config = InputConfig {
        text_fields: vec!["title".into(), "body".into()],
        ..config()
    };
    let docs = read(&path, &config);
    assert_eq!(ok(&docs[0]).text, "a");
}

#[test]
fn csv_invalid_utf8_names_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "t.csv",
        b"id,text,source\n1,ok,a\n2,caf\xe9,b\n3,fine,\xff\n4,next,c\n",
    );
    let items = read(&path, &config());
    assert_eq!(items.len(), 4);
    assert_eq!(ok(&items[0]).line, 2);
    // Byte offsets count the cells and separators before the bad byte.
    assert_eq!(
        record_err(&items[1], at(&path, 3).with_field("text")),
        RecordError::InvalidUtf8(5)
    );
    assert_eq!(
        record_err(&items[2], at(&path, 4).with_field("source")),
        RecordError::InvalidUtf8(7)
    );
    let doc = ok(&items[3]);
    assert_eq!((doc.id.as_str(), doc.line), ("4", 5));
}

#[test]
fn csv_header_details() {
    let dir = tempfile::tempdir().unwrap();
    // BOM before the header, CRLF line ends, no id column, blank lines skipped.
    let path = write(
        dir.path(),
        "t.csv",
        b"\xef\xbb\xbftext,extra\r\nfirst,1\r\n\r\nsecond,2\r\n",
    );
    let config = InputConfig {
        keep_raw: true,
        ..config()
    };
    let docs: Vec<Document> = read(&path, &config)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let got: Vec<(&str, &str, u64)> = docs
        .iter()
        .map(|d| (d.id.as_str(), d.text.as_str(), d.line))
        .collect();
    assert_eq!(got, [("2", "first", 2), ("4", "second", 4)]);
    assert_eq!(
        docs[0].raw.as_deref(),
        Some(r#"{"text":"first","extra":"1"}"#)
    );

    // Empty file, header only: no documents.
    for (name, bytes) in [("empty.csv", &b""[..]), ("header.csv", b"id,text\n")] {
        let path = write(dir.path(), name, bytes);
        assert!(read(&path, &InputConfig::default()).is_empty(), "{name}");
    }
}

#[test]
fn csv_line_numbers_are_physical() {
    // (input, the line each record starts on)
    let cases: [(&str, &[u64]); 8] = [
        ("text\na\nb\n", &[2, 3]),
        ("text\r\na\r\nb\r\n", &[2, 3]),
        ("text\n\na\n\n\nb\n", &[3, 6]),
        ("text\r\n\r\na\r\n\r\nb\r\n", &[3, 5]),
        ("\n\ntext\na\n", &[4]),
        ("text\n\"a\nx\"\nb\n", &[2, 4]),
        ("text\r\n\"a\r\n\r\nx\"\r\nb", &[2, 5]),
        ("\u{feff}text\r\na\r\n", &[2]),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (input, lines)) in cases.iter().enumerate() {
        let path = write(dir.path(), &format!("{i}.csv"), input.as_bytes());
        let got: Vec<u64> = read(&path, &config())
            .into_iter()
            .map(|d| d.unwrap().line)
            .collect();
        assert_eq!(&got, lines, "{input:?}");
    }
    // The header's line, in the missing-column error, counts leading blank lines too.
    let path = write(dir.path(), "h.csv", b"\r\n\r\nbody\nx\n");
    let err = input::open(&path, &config()).unwrap_err();
    assert_eq!(err.location(), Some(&at(&path, 3)));
}

#[test]
fn csv_keep_raw_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "t.csv",
        "id,text\nq,\"a \"\"quote\"\" and\nnewline\"\n".as_bytes(),
    );
    let config = InputConfig {
        keep_raw: true,
        ..config()
    };
    let doc = read(&path, &config).remove(0).unwrap();
    let raw: serde_json::Value = serde_json::from_str(doc.raw.as_deref().unwrap()).unwrap();
    assert_eq!(raw, json!({"id": "q", "text": "a \"quote\" and\nnewline"}));
}

#[test]
fn tsv_fixture() {
    let path = fixture("articles.tsv");
    let mut reader = input::open(&path, &config()).unwrap();
    assert_eq!(reader.format(), Format::Tsv);
    let items: Vec<_> = reader.by_ref().collect();
    assert_eq!(items.len(), 3);
    // Quotes are ordinary characters in TSV.
    let doc = ok(&items[0]);
    assert_eq!(
        (doc.id.as_str(), doc.text.as_str(), doc.line),
        ("a", "\"quotes\" are plain", 2)
    );
    assert!(matches!(
        record_err(&items[1], at(&path, 3)),
        RecordError::InvalidCsv(_)
    ));
    assert_eq!(ok(&items[2]).line, 4);
}

#[test]
fn tsv_by_extension_and_override() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = b"id\ttext\nx\ta,b\n";
    for name in ["t.tab", "t.tsv", "t.tsv.gz"] {
        let path = write(dir.path(), name, bytes);
        let docs = read(&path, &config());
        assert_eq!(ok(&docs[0]).text, "a,b", "{name}");
    }
    let path = write(dir.path(), "t.txt", bytes);
    let config = InputConfig {
        format: Some(Format::Tsv),
        ..config()
    };
    assert_eq!(ok(&read(&path, &config)[0]).id, "x");
    // The same file as CSV has one column named "id\ttext": no text column.
    let config = InputConfig {
        format: Some(Format::Csv),
        ..InputConfig::default()
    };
    assert!(matches!(
        input::open(&path, &config),
        Err(Error::Input { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Text folders

#[test]
fn textdir_fixture() {
    let root = fixture("textdir");
    let mut reader = input::open(&root, &config()).unwrap();
    assert_eq!(reader.format(), Format::TextDir);
    let total = reader.total_bytes().unwrap();
    let items: Vec<_> = reader.by_ref().collect();
    let ids: Vec<String> = items
        .iter()
        .map(|item| match item {
            Ok(doc) => doc.id.clone(),
            Err(e) => format!("error: {}", e.location().unwrap().source),
        })
        .collect();
    // Byte order of the relative path: '-' (0x2d) sorts before '/' (0x2f). notes.md is ignored.
    assert_eq!(
        ids,
        [
            "a-c".to_string(),
            "a/b/deep".into(),
            "a/z".into(),
            "b".into(),
            "bom".into(),
            "empty".into(),
            format!("error: {root}/latin1.txt"),
        ]
    );
    let by_id = |id: &str| {
        ok(items
            .iter()
            .find(|i| i.as_ref().is_ok_and(|d| d.id == id))
            .unwrap())
    };
    assert_eq!(by_id("b").text, "بيان");
    assert_eq!(by_id("bom").text, "with bom");
    assert_eq!(by_id("empty").text, "");
    assert_eq!(by_id("a/b/deep").line, 1);
    assert_eq!(
        record_err(&items[6], Location::file(format!("{root}/latin1.txt"))),
        RecordError::InvalidUtf8(3)
    );
    assert_eq!(reader.bytes_read(), total);
}

#[test]
fn textdir_edge_cases() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    // An empty folder.
    assert!(read(&root, &config()).is_empty());

    // A folder named like a text file is walked into, not read.
    std::fs::create_dir(dir.path().join("x.txt")).unwrap();
    write(&dir.path().join("x.txt"), "inner.txt", b"inner");
    write(dir.path(), "y.TXT", b"other case: ignored");
    let config = InputConfig {
        keep_raw: true,
        ..config()
    };
    let docs: Vec<Document> = read(&root, &config)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].id, "x.txt/inner");
    assert_eq!(docs[0].raw.as_deref(), Some("inner"));

    // A trailing slash on the folder does not change ids.
    let docs = read(&format!("{root}/"), &InputConfig::default());
    assert_eq!(ok(&docs[0]).id, "x.txt/inner");
}

#[cfg(unix)]
#[test]
fn textdir_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    write(&root, "real.txt", b"real");
    std::os::unix::fs::symlink(root.join("real.txt"), root.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(root.join("gone"), root.join("dangling.txt")).unwrap();
    std::os::unix::fs::symlink(&root, root.join("loop")).unwrap();
    let ids: Vec<String> = read(root.to_str().unwrap(), &config())
        .into_iter()
        .map(|d| d.unwrap().id)
        .collect();
    assert_eq!(ids, ["link", "real"]);
}

// ---------------------------------------------------------------------------------------------
// Opening

#[test]
fn open_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.jsonl");
    let missing = missing.to_str().unwrap();
    match input::open(missing, &config()) {
        Err(Error::Io { path, source }) => {
            assert_eq!(path, Path::new(missing));
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }

    let root = dir.path().to_str().unwrap();
    let config = InputConfig {
        format: Some(Format::Jsonl),
        ..config()
    };
    match input::open(root, &config) {
        Err(Error::Input { location, message }) => {
            assert_eq!(location, Location::file(root));
            assert_eq!(message, "is a folder, not a jsonl file");
        }
        other => panic!("{other:?}"),
    }

    let file = write(dir.path(), "a.jsonl", b"");
    let config = InputConfig {
        format: Some(Format::TextDir),
        ..InputConfig::default()
    };
    match input::open(&file, &config) {
        Err(Error::Input { location, .. }) => assert_eq!(location, Location::file(&file)),
        other => panic!("{other:?}"),
    }
    let config = InputConfig {
        format: Some(Format::TextDir),
        ..InputConfig::default()
    };
    assert!(matches!(
        input::open("-", &config),
        Err(Error::Input { .. })
    ));

    let config = InputConfig {
        text_fields: vec![],
        ..InputConfig::default()
    };
    assert!(matches!(input::open(&file, &config), Err(Error::Config(_))));
}

#[test]
fn format_detection_and_override() {
    assert_eq!(Format::detect(&fixture("textdir")), Format::TextDir);
    assert_eq!(Format::detect(&fixture("articles.csv")), Format::Csv);
    assert_eq!(Format::detect("-"), Format::Jsonl);
    assert_eq!("txt".parse::<Format>().unwrap(), Format::TextDir);
    assert_eq!(Format::Tsv.to_string(), "tsv");

    // JSON Lines in a file named .csv, by override.
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "t.csv", b"{\"text\": \"j\"}\n");
    let config = InputConfig {
        format: Some(Format::Jsonl),
        ..config()
    };
    assert_eq!(ok(&read(&path, &config)[0]).text, "j");
}

/// Run as a child process by `stdin_is_read_and_gunzipped`: prints what `open("-")` reads.
#[test]
fn stdin_child() {
    if std::env::var_os("MUKARRAR_STDIN_CHILD").is_none() {
        return;
    }
    let mut reader = input::open("-", &config()).unwrap();
    assert_eq!(reader.total_bytes(), None);
    for item in reader.by_ref() {
        let doc = item.unwrap();
        println!("doc {}={}@{}", doc.id, doc.text, doc.line);
    }
    println!("bytes {}", reader.bytes_read());
}

#[test]
fn stdin_is_read_and_gunzipped() {
    let plain = b"{\"id\": \"s1\", \"text\": \"one\"}\n\n{\"text\": \"two\"}\n".to_vec();
    for bytes in [plain.clone(), gzip(&plain)] {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "input_readers::stdin_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("MUKARRAR_STDIN_CHILD", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let stdout = String::from_utf8(out.stdout).unwrap();
        // The test harness may print its own text before ours on a line.
        let lines: Vec<&str> = stdout
            .lines()
            .filter_map(|l| {
                l.find("doc ")
                    .or_else(|| l.find("bytes "))
                    .map(|at| &l[at..])
            })
            .collect();
        let bytes_line = format!("bytes {}", bytes.len());
        assert_eq!(lines, ["doc s1=one@1", "doc 3=two@3", bytes_line.as_str()]);
    }
}

#[test]
fn from_reader_reads_streams() {
    let bytes = gzip(b"{\"text\": \"s\"}\n");
    let reader = input::from_reader(
        std::io::Cursor::new(bytes),
        "stream",
        Format::Jsonl,
        &config(),
    );
    let mut reader = reader.unwrap();
    assert_eq!(reader.source(), "stream");
    assert_eq!(reader.total_bytes(), None);
    let counter = reader.byte_counter();
    let doc = reader.next().unwrap().unwrap();
    assert_eq!((doc.id.as_str(), doc.text.as_str()), ("1", "s"));
    assert!(reader.next().is_none());
    assert_eq!(counter.get(), reader.bytes_read());
    assert!(counter.get() > 0);

    let err = input::from_reader(std::io::empty(), "s", Format::TextDir, &config()).unwrap_err();
    assert!(matches!(err, Error::Config(_)));
}

// ---------------------------------------------------------------------------------------------
// Properties: no input makes a reader panic, and every item is a document, a record error, or
// a final input error.

fn check_items(reader: mukarrar::input::Reader) -> Result<(), TestCaseError> {
    let items: Vec<_> = reader.collect();
    for (i, item) in items.iter().enumerate() {
        match item {
            Ok(doc) => prop_assert!(doc.line >= 1),
            Err(Error::Record { location, .. }) => prop_assert!(location.line.is_some()),
            Err(Error::Input { .. }) => prop_assert_eq!(i, items.len() - 1),
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
    Ok(())
}

fn stream(bytes: Vec<u8>, format: Format) -> Result<mukarrar::input::Reader, Error> {
    input::from_reader(
        std::io::Cursor::new(bytes),
        "prop",
        format,
        &InputConfig::default(),
    )
}

/// Bytes that look a little like the formats, so the properties reach past the first check.
fn input_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"{\"id\": 1, \"text\": \"a\"}".to_vec()),
        Just(b"{\"title\": [".to_vec()),
        Just(b"id,title,text\n".to_vec()),
        Just(b"\"".to_vec()),
        Just(b",".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\xef\xbb\xbf".to_vec()),
        Just(b"\x1f\x8b".to_vec()),
        Just("نص".as_bytes().to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in input_bytes()) {
        for format in [Format::Jsonl, Format::Csv, Format::Tsv] {
            match stream(bytes.clone(), format) {
                Ok(reader) => check_items(reader)?,
                Err(e) => prop_assert!(matches!(e, Error::Input { .. }), "{e}"),
            }
        }
        // The same bytes compressed, and cut short.
        let compressed = gzip(&bytes);
        let cut = compressed.len() * 2 / 3;
        for data in [compressed.clone(), compressed[..cut].to_vec()] {
            match stream(data, Format::Jsonl) {
                Ok(reader) => check_items(reader)?,
                Err(e) => prop_assert!(matches!(e, Error::Input { .. }), "{e}"),
            }
        }
    }

    #[test]
    fn raw_random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for format in [Format::Jsonl, Format::Csv, Format::Tsv] {
            match stream(bytes.clone(), format) {
                Ok(reader) => check_items(reader)?,
                Err(e) => prop_assert!(matches!(e, Error::Input { .. }), "{e}"),
            }
        }
    }

    #[test]
    fn jsonl_line_numbers_are_physical(lines in proptest::collection::vec(
        prop_oneof![
            Just("{\"text\": \"ok\"}"),
            Just("not json"),
            Just(""),
            Just("  "),
            Just("[]"),
            Just("{\"nothing\": 1}"),
        ],
        0..40,
    )) {
        let bytes = lines.join("\n").into_bytes();
        let items: Vec<_> = stream(bytes, Format::Jsonl).unwrap().collect();
        // Without a single record holding the text field, the input is refused as a whole
        // from the first record without one on.
        let first_without = lines.iter().position(|l| *l == "{\"nothing\": 1}");
        if let (false, Some(at)) = (lines.contains(&"{\"text\": \"ok\"}"), first_without) {
            let before = lines[..at].iter().filter(|l| !l.trim().is_empty()).count();
            prop_assert_eq!(items.len(), before + 1);
            prop_assert!(matches!(items[before], Err(Error::Input { .. })), "{:?}", items[before]);
            return Ok(());
        }
        let expected: Vec<u64> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, _)| i as u64 + 1)
            .collect();
        let got: Vec<u64> = items
            .iter()
            .map(|item| match item {
                Ok(doc) => doc.line,
                Err(e) => e.location().and_then(|l| l.line).unwrap_or(0),
            })
            .collect();
        prop_assert_eq!(got, expected);
    }
}

// ---------------------------------------------------------------------------------------------
// Folders of files of records, and field names checked against the first records

#[test]
fn a_folder_reads_files_of_records_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    write(
        dir.path(),
        "a.jsonl",
        b"{\"id\":\"j\",\"text\":\"x\"}\n{\"text\":\"no id\"}\n",
    );
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    write(
        &dir.path().join("sub"),
        "b.csv.gz",
        &gzip(b"id,text\nc,cell\n,no id\n"),
    );
    write(dir.path(), "c.txt", b"a text file");
    write(dir.path(), "d.md", b"not read");
    write(dir.path(), "e.parquet.bak", b"not read");
    let mut reader = input::open(&root, &config()).unwrap();
    assert_eq!(reader.format(), Format::TextDir);
    assert_eq!(reader.folder_files(), Some(3));
    assert_eq!(reader.ignored_files(), ["d.md", "e.parquet.bak"]);
    let total = reader.total_bytes().unwrap();
    let docs: Vec<Document> = reader.by_ref().map(Result::unwrap).collect();
    let got: Vec<(&str, &str, u64, Option<&str>)> = docs
        .iter()
        .map(|d| (d.id.as_str(), d.text.as_str(), d.line, d.file.as_deref()))
        .collect();
    let a = format!("{root}/a.jsonl");
    let b = format!("{root}/sub/b.csv.gz");
    let c = format!("{root}/c.txt");
    assert_eq!(
        got,
        [
            ("j", "x", 1, Some(a.as_str())),
            ("a.jsonl:2", "no id", 2, Some(a.as_str())),
            ("c", "a text file", 1, Some(c.as_str())),
            ("c", "cell", 2, Some(b.as_str())),
            ("sub/b.csv.gz:3", "no id", 3, Some(b.as_str())),
        ]
    );
    // A record of a file of records is placed by its line; a text file by its name.
    assert_eq!(docs[1].location(&root), Location::line(&a, 2));
    assert_eq!(docs[2].location(&root), Location::file(&c));
    assert!(reader.bytes_read() > 0 && total > 0);

    // A record error names the file inside the folder and the line.
    write(
        dir.path(),
        "a.jsonl",
        b"{\"id\":\"j\",\"text\":\"x\"}\nnot json\n",
    );
    let items = read(&root, &config());
    let kind = record_err(&items[1], Location::line(&a, 2));
    assert!(matches!(kind, RecordError::InvalidJson(_)), "{kind:?}");

    // A file of records that cannot be read as a whole (a CSV without the text column) ends
    // the folder, naming the file.
    write(dir.path(), "0.csv", b"id,body\nx,y\n");
    let items = read(&root, &config());
    assert_eq!(items.len(), 1);
    match &items[0] {
        Err(Error::Input { location, message }) => {
            assert_eq!(location.source, format!("{root}/0.csv"));
            assert!(message.contains("none of the text columns"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_required_id_field_must_be_in_the_first_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "a.jsonl",
        b"\n{\"id\":\"1\",\"title\":\"t\",\"meta\":{\"uid\":\"u\"}}\n",
    );
    let required = |id: &str| InputConfig {
        id_field: id.into(),
        require_id: true,
        ..config()
    };
    let items = read(&path, &required("doc_id"));
    assert_eq!(items.len(), 1);
    match &items[0] {
        Err(Error::Input { location, message }) => {
            assert_eq!(*location, Location::line(&path, 2));
            assert_eq!(
                message,
                "the id field `doc_id` is not in the first record (the record has `id`, \
                 `meta`, `title`; did you mean `id` for `doc_id`?)"
            );
        }
        other => panic!("{other:?}"),
    }
    // Present, also as a dotted path: read as usual.
    assert_eq!(ok(&read(&path, &required("meta.uid"))[0]).id, "u");
    // Not required: the line number, as before.
    let loose = InputConfig {
        id_field: "doc_id".into(),
        ..config()
    };
    assert_eq!(ok(&read(&path, &loose)[0]).id, "2");
}

#[test]
fn text_fields_missing_from_every_first_record_are_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let body = InputConfig {
        text_fields: vec!["body".into()],
        ..config()
    };
    // Three records, none with the field: one error for the input, none per record.
    let path = write(
        dir.path(),
        "a.jsonl",
        b"{\"id\":1,\"bodyy\":\"x\"}\nnot json\n{\"id\":2,\"bodyy\":\"y\"}\n{\"id\":3}\n",
    );
    let items = read(&path, &body);
    assert_eq!(items.len(), 1, "{items:?}");
    match &items[0] {
        Err(Error::Input { location, message }) => {
            assert_eq!(*location, Location::file(&path));
            assert_eq!(
                message,
                "none of the 3 records has a text field `body` (the first record has \
                 `bodyy`, `id`; did you mean `bodyy` for `body`?)"
            );
        }
        other => panic!("{other:?}"),
    }
    // One record with the field later on: every record is reported on its own, in order.
    let path = write(
        dir.path(),
        "b.jsonl",
        b"{\"id\":1}\nnot json\n{\"id\":2,\"body\":\"y\"}\n{\"id\":3}\n",
    );
    let items = read(&path, &body);
    assert_eq!(items.len(), 4);
    record_err(&items[0], Location::line(&path, 1));
    record_err(&items[1], Location::line(&path, 2));
    assert_eq!(ok(&items[2]).id, "2");
    record_err(&items[3], Location::line(&path, 4));
    // Unchecked, every record is reported on its own.
    let unchecked = InputConfig {
        check_text_fields: false,
        ..body.clone()
    };
    let path = write(dir.path(), "a2.jsonl", b"{\"id\":1}\n{\"id\":2}\n");
    let items = read(&path, &unchecked);
    assert_eq!(items.len(), 2);
    record_err(&items[1], Location::line(&path, 2));
    // A long input without the field stops after the first hundred records.
    let many = "{\"id\":1,\"title\":\"t\"}\n".repeat(1000);
    let path = write(dir.path(), "c.jsonl", many.as_bytes());
    let items = read(&path, &body);
    assert_eq!(items.len(), 1);
    let message = items[0].as_ref().unwrap_err().to_string();
    assert!(
        message.contains("none of the first 100 records has a text field `body`"),
        "{message}"
    );
}
