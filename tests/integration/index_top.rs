//! `mukarrar index query --top K`: the stored documents most similar to each input document,
//! best first, ties to the older, filtered by --min-similarity.

use crate::support;

use serde_json::Value;
use support::*;
use tempfile::TempDir;

const QUERIES: &str = r#"{"id":"q1","title":"جوتيريش يحث قادة العالم على بذل الجهود لحل الدولتين"}
{"id":"q2","title":"مجلس الأمن يصوت اليوم على قرار لوقف إطلاق النار بغزة"}
{"id":"q3","title":"خبر لا علاقة له بأي شيء مخزن هنا"}
"#;

/// An index of both samples, and the query file.
fn index_of_samples(dir: &TempDir) -> (String, String) {
    let db = dir.path().join("news.db");
    run(&["index", "create", s(&db)]);
    run(&[
        "index",
        "add",
        s(&db),
        s(&sample("headlines.jsonl")),
        s(&sample("labelled.jsonl")),
    ]);
    let queries = write(dir, "queries.jsonl", QUERIES);
    (s(&db).to_string(), queries)
}

#[test]
fn the_nearest_stored_documents_come_best_first_with_ties_to_the_older() {
    let dir = TempDir::new().unwrap();
    let (db, queries) = index_of_samples(&dir);
    let out = run(&[
        "index", "query", &db, &queries, "--top", "3", "--format", "csv",
    ]);
    // seed-readalso and seed-similar-10 are the same text: the one added first ranks first.
    // q3 shares no band key with any stored document: no rows.
    assert_eq!(
        out,
        "query_id,rank,id,similarity,duplicate,cluster_id\n\
         q1,1,seed-similar-02,1.0000,true,1\n\
         q1,2,seed-similar-01,0.5833,true,1\n\
         q2,1,seed-readalso,0.7500,true,0\n\
         q2,2,seed-similar-10,0.7500,true,0\n\
         q2,3,seed-similar-09,0.5625,false,9\n"
    );
    let out = run(&[
        "index", "query", &db, &queries, "--top", "1", "--format", "csv",
    ]);
    assert_eq!(
        out.lines().skip(1).collect::<Vec<_>>(),
        [
            "q1,1,seed-similar-02,1.0000,true,1",
            "q2,1,seed-readalso,0.7500,true,0"
        ]
    );
}

#[test]
fn min_similarity_leaves_out_the_less_similar() {
    let dir = TempDir::new().unwrap();
    let (db, queries) = index_of_samples(&dir);
    let out = run(&[
        "index",
        "query",
        &db,
        &queries,
        "--top",
        "3",
        "--min-similarity",
        "0.6",
        "--format",
        "jsonl",
    ]);
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["query_id"].as_str().unwrap(), r["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("q1", "seed-similar-02"),
            ("q2", "seed-readalso"),
            ("q2", "seed-similar-10")
        ]
    );
    assert!(rows
        .iter()
        .all(|r| r["similarity"].as_f64().unwrap() >= 0.6));
    assert_eq!(
        rows[1]["preview"],
        "مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة"
    );
    let err = fails(&[
        "index",
        "query",
        &db,
        &queries,
        "--top",
        "2",
        "--min-similarity",
        "1.5",
    ]);
    assert!(
        err.contains("--min-similarity 1.5 is out of range (0 to 1)"),
        "{err}"
    );
    let err = fails(&["index", "query", &db, &queries, "--min-similarity", "0.5"]);
    assert!(err.contains("--top"), "{err}");
}

#[test]
fn a_stored_document_is_not_its_own_neighbour() {
    let dir = TempDir::new().unwrap();
    let (db, _) = index_of_samples(&dir);
    let again = write(
        &dir,
        "again.jsonl",
        r#"{"id":"seed-similar-01","title":"الأمم المتحدة تحثّ قادة العالم على بذل الجهود لحل الدولتين"}"#,
    );
    let out = run(&[
        "index", "query", &db, &again, "--top", "5", "--format", "json",
    ]);
    let rows: Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["seed-similar-02"]);
}

#[test]
fn fail_on_duplicates_exits_1_when_a_neighbour_is_a_duplicate() {
    let dir = TempDir::new().unwrap();
    let (db, queries) = index_of_samples(&dir);
    let out = mukarrar()
        .args([
            "-q",
            "index",
            "query",
            &db,
            &queries,
            "--top",
            "2",
            "--fail-on-duplicates",
        ])
        .args(["--format", "text"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("q1\n   1  1.000 = seed-similar-02  "),
        "{text}"
    );
    let unrelated = write(
        &dir,
        "other.jsonl",
        r#"{"id":"x","title":"خبر لا علاقة له بأي شيء مخزن هنا"}"#,
    );
    let out = run(&[
        "index",
        "query",
        &db,
        &unrelated,
        "--top",
        "2",
        "--fail-on-duplicates",
        "--format",
        "json",
    ]);
    assert_eq!(out, "[]\n");
    let err = fails(&[
        "index", "query", &db, &queries, "--top", "2", "--format", "html",
    ]);
    assert!(
        err.contains("--top writes text, json, jsonl or csv"),
        "{err}"
    );
}

/// Every neighbour marked a duplicate is in the cluster that `index query` puts the document
/// in, and similarities never rise down a document's list.
#[test]
fn duplicate_neighbours_agree_with_the_clusters_of_query() {
    let dir = TempDir::new().unwrap();
    let lines = corpus(600, 11);
    let (stored, queries) = lines.split_at(450);
    let db = dir.path().join("gen.db");
    let (stored_path, query_path) = (dir.path().join("s.jsonl"), dir.path().join("q.jsonl"));
    write_lines(&stored_path, stored);
    write_lines(&query_path, queries);
    run(&["index", "create", s(&db), "--normalize", "none"]);
    run(&["index", "add", s(&db), s(&stored_path)]);
    let mut cluster_of = std::collections::HashMap::new();
    let report = run(&["index", "query", s(&db), s(&query_path), "--format", "csv"]);
    for row in report.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        cluster_of.insert(f[1].to_string(), f[0].to_string());
    }
    let top = run(&[
        "index",
        "query",
        s(&db),
        s(&query_path),
        "--top",
        "4",
        "--format",
        "csv",
    ]);
    let mut duplicates = 0;
    let mut last: Option<(String, f64)> = None;
    for row in top.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let similarity: f64 = f[3].parse().unwrap();
        if let Some((query, previous)) = &last {
            if query == f[0] {
                assert!(similarity <= *previous, "{top}");
            }
        }
        last = Some((f[0].to_string(), similarity));
        if f[4] == "true" {
            duplicates += 1;
            assert_eq!(cluster_of.get(f[0]), cluster_of.get(f[2]), "{row}");
            assert!(cluster_of.contains_key(f[0]), "{row}");
        }
    }
    assert!(duplicates >= 15, "{top}");
}
