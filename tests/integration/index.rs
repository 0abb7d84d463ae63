//! `mukarrar index`: incremental adds give `cluster`'s clusters, ids stay stable, merges and
//! splits are reported, and bad files or settings are refused with a way out.

use crate::support;

use std::fs;

use serde_json::Value;
use support::*;
use tempfile::TempDir;

/// Adds `lines` to a new index in `slices` slices and checks that export equals one `cluster`
/// run over all of them, in every format that carries the clusters.
pub(crate) fn slices_equal_one_run(lines: &[String], slices: usize, settings: &[&str]) {
    let dir = TempDir::new().unwrap();
    let all = dir.path().join("all.jsonl");
    write_lines(&all, lines);
    let db = dir.path().join("index.db");
    let mut create = vec!["index", "create", s(&db)];
    create.extend_from_slice(settings);
    run(&create);
    let per = lines.len().div_ceil(slices);
    for (n, chunk) in lines.chunks(per).enumerate() {
        let slice = dir.path().join(format!("slice-{n}.jsonl"));
        write_lines(&slice, chunk);
        run(&["index", "add", s(&db), s(&slice), "--format", "csv"]);
    }
    for (extra, format) in [(&[][..], "csv"), (&["--include-singletons"][..], "jsonl")] {
        {
            let mut cluster = vec!["cluster", s(&all), "--format", format];
            cluster.extend_from_slice(settings);
            cluster.extend_from_slice(extra);
            let mut export = vec!["index", "export", s(&db), "--format", format];
            export.extend_from_slice(extra);
            let expected = run(&cluster);
            assert!(expected.lines().count() > 2, "{expected}");
            assert_eq!(run(&export), expected, "{format} {extra:?} {settings:?}");
        }
    }
}

#[test]
fn samples_added_in_ten_slices_equal_one_cluster_run() {
    let mut lines = Vec::new();
    for f in ["labelled.jsonl", "headlines.jsonl"] {
        let text = fs::read_to_string(sample(f)).unwrap();
        lines.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(String::from),
        );
    }
    slices_equal_one_run(&lines, 10, &[]);
}

#[test]
fn generated_corpus_added_in_ten_slices_equals_one_cluster_run() {
    // The generated words need no Arabic normalization (and `none` starts fastest).
    let lines = corpus(600, 7);
    slices_equal_one_run(
        &lines,
        10,
        &[
            "--normalize",
            "none",
            "--threshold",
            "0.3",
            "--representative",
            "longest",
            "--measure",
            "containment",
        ],
    );
}

fn doc(id: &str, words: &[String]) -> String {
    format!("{{\"id\":\"{id}\",\"text\":\"{}\"}}", words.join(" "))
}

fn words(from: usize, n: usize) -> Vec<String> {
    (from..from + n).map(|i| format!("kalima{i}")).collect()
}

/// Two stories (A, B), a near copy of each, and a bridge M that holds both.
struct Stories {
    a: String,
    a2: String,
    b: String,
    b2: String,
    m: String,
}

fn stories() -> Stories {
    let a = words(0, 30);
    let b = words(100, 30);
    let mut a2 = a.clone();
    a2[29] = "tabdil".into();
    let mut b2 = b.clone();
    b2[0] = "tabdil".into();
    let mut m = a.clone();
    m.extend(b.iter().cloned());
    Stories {
        a: doc("A", &a),
        a2: doc("A2", &a2),
        b: doc("B", &b),
        b2: doc("B2", &b2),
        m: doc("M", &m),
    }
}

const BRIDGE: [&str; 4] = ["--threshold", "0.3", "--num-perm", "256"];

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn ids_stay_stable_and_merges_are_reported() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("i.db");
    let st = stories();
    let day1 = dir.path().join("day1.jsonl");
    let day2 = dir.path().join("day2.jsonl");
    let day3 = dir.path().join("day3.jsonl");
    write_lines(&day1, &[st.a.clone(), st.a2.clone(), st.b.clone()]);
    write_lines(&day2, std::slice::from_ref(&st.b2));
    write_lines(&day3, std::slice::from_ref(&st.m));
    let mut create = vec!["index", "create", s(&db)];
    create.extend(BRIDGE);
    run(&create);

    let r1 = json(&run(&[
        "index",
        "add",
        s(&db),
        s(&day1),
        "--format",
        "json",
    ]));
    assert_eq!(r1["committed"], true);
    assert_eq!(r1["stats"]["new"], 3);
    assert_eq!(r1["clusters"].as_array().unwrap().len(), 1);
    assert_eq!(r1["clusters"][0]["id"], 0);
    assert_eq!(r1["clusters"][0]["kind"], "new");

    // B2 joins the indexed B: a new cluster named after B (position 2), B not new.
    let r2 = json(&run(&[
        "index",
        "add",
        s(&db),
        s(&day2),
        "--format",
        "json",
    ]));
    let c = &r2["clusters"][0];
    assert_eq!(
        (c["id"].as_u64(), c["kind"].as_str()),
        (Some(2), Some("new"))
    );
    let members: Vec<(&str, bool)> = c["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["new"].as_bool().unwrap()))
        .collect();
    assert_eq!(members, vec![("B", false), ("B2", true)]);

    // A query says what M would do, and changes nothing.
    let q = json(&run(&[
        "index",
        "query",
        s(&db),
        s(&day3),
        "--format",
        "json",
    ]));
    assert_eq!(q["committed"], false);
    assert_eq!(q["clusters"][0]["id"], 0);
    assert_eq!(q["clusters"][0]["merged"], serde_json::json!([2]));
    assert_eq!(stored_ids(&db).len(), 4);

    // M bridges both clusters: the oldest id (0) survives and 2 is reported merged into it.
    let r3 = json(&run(&[
        "index",
        "add",
        s(&db),
        s(&day3),
        "--format",
        "json",
    ]));
    assert_eq!(r3["clusters"], q["clusters"], "query foresaw the add");
    let c = &r3["clusters"][0];
    assert_eq!(c["id"], 0);
    assert_eq!(c["kind"], "grown");
    assert_eq!(c["size"], 5);
    assert_eq!(c["merged"], serde_json::json!([2]));
    assert_eq!(r3["stats"]["merged_clusters"], 1);
    assert_eq!(r3["stats"]["joined"], 1);
    let text = run(&["index", "add", s(&db), s(&day3), "--format", "text"]);
    assert!(text.contains("no new document"), "{text}");

    let export = clusters(&run(&["index", "export", s(&db), "--format", "csv"]));
    assert_eq!(
        export.into_iter().collect::<Vec<_>>(),
        vec![(
            "0".to_string(),
            vec!["A", "A2", "B", "B2", "M"]
                .into_iter()
                .map(String::from)
                .collect()
        )]
    );
    let text = mukarrar()
        .args(["index", "add", s(&db), s(&day3), "--format", "text"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&text.stderr);
    assert!(err.contains("1 skipped as already indexed"), "{err}");
}

#[test]
fn removal_by_id_splits_a_cluster_and_the_oldest_part_keeps_the_id() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("i.db");
    let st = stories();
    let all = dir.path().join("all.jsonl");
    write_lines(
        &all,
        &[
            st.a.clone(),
            st.m.clone(),
            st.a2.clone(),
            st.b.clone(),
            st.b2.clone(),
        ],
    );
    let mut create = vec!["index", "create", s(&db)];
    create.extend(BRIDGE);
    run(&create);
    run(&["index", "add", s(&db), s(&all)]);
    let before = clusters(&run(&["index", "export", s(&db), "--format", "csv"]));
    assert_eq!(before.len(), 1);

    let r = json(&run(&[
        "index",
        "remove",
        s(&db),
        "M",
        "nothing-here",
        "--format",
        "json",
    ]));
    assert_eq!(r["removed"], 1);
    assert_eq!(r["not_found"], serde_json::json!(["nothing-here"]));
    assert_eq!(
        r["clusters"],
        serde_json::json!([{"id": 0, "before": 5, "after": 2, "split_into": [[3, 2]]}])
    );
    let after = clusters(&run(&["index", "export", s(&db), "--format", "csv"]));
    let expect: Vec<(String, Vec<String>)> = vec![
        ("0".into(), vec!["A".into(), "A2".into()]),
        ("3".into(), vec!["B".into(), "B2".into()]),
    ];
    assert_eq!(after.into_iter().collect::<Vec<_>>(), expect);
    assert_eq!(integrity(&db), "ok");

    // Removing A2 leaves A alone: id 0 no longer names a cluster; B's cluster is untouched.
    let r = json(&run(&["index", "remove", s(&db), "A2", "--format", "json"]));
    assert_eq!(r["clusters"][0]["after"], 1);
    let after = clusters(&run(&["index", "export", s(&db), "--format", "csv"]));
    assert_eq!(after.keys().collect::<Vec<_>>(), vec!["3"]);

    // A new near copy of A joins A again: its cluster is named after A (position 0).
    let again = dir.path().join("again.jsonl");
    write_lines(&again, &[st.a2.replace("\"A2\"", "\"A3\"")]);
    let r = json(&run(&[
        "index",
        "add",
        s(&db),
        s(&again),
        "--format",
        "json",
    ]));
    assert_eq!(r["clusters"][0]["id"], 0);
}

#[test]
fn removal_by_date_splits_a_cluster() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("i.db");
    let st = stories();
    let old = dir.path().join("old.jsonl");
    let new = dir.path().join("new.jsonl");
    write_lines(&old, std::slice::from_ref(&st.m));
    write_lines(
        &new,
        &[st.a.clone(), st.a2.clone(), st.b.clone(), st.b2.clone()],
    );
    let mut create = vec!["index", "create", s(&db)];
    create.extend(BRIDGE);
    run(&create);
    run(&[
        "index",
        "add",
        s(&db),
        s(&old),
        "--first-seen",
        "2020-01-01",
    ]);
    run(&[
        "index",
        "add",
        s(&db),
        s(&new),
        "--first-seen",
        "2021-06-01T12:00:00",
    ]);
    let one = clusters(&run(&["index", "export", s(&db), "--format", "csv"]));
    assert_eq!(one.len(), 1);
    assert!(one.contains_key("0"));

    let text = run(&["index", "remove", s(&db), "--before", "2021-01-01"]);
    assert!(text.contains("removed 1 documents"), "{text}");
    assert!(text.contains("split off cluster 3 (2 documents)"), "{text}");
    let after = clusters(&run(&["index", "export", s(&db), "--format", "csv"]));
    // A (position 1) is the oldest remaining member: its part keeps id 0.
    let expect: Vec<(String, Vec<String>)> = vec![
        ("0".into(), vec!["A".into(), "A2".into()]),
        ("3".into(), vec!["B".into(), "B2".into()]),
    ];
    assert_eq!(after.into_iter().collect::<Vec<_>>(), expect);
    let stats = json(&run(&["index", "stats", s(&db), "--format", "json"]));
    assert_eq!(stats["documents"], 4);
    assert_eq!(stats["clusters"], 2);
    assert_eq!(stats["band_keys"].as_u64().unwrap() % 4, 0);

    let err = fails(&["index", "remove", s(&db), "--before", "yesterday"]);
    assert!(err.contains("is not a date"), "{err}");
}

#[test]
fn duplicate_id_policies() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("i.db");
    let st = stories();
    let first = dir.path().join("first.jsonl");
    write_lines(&first, &[st.a.clone(), st.b.clone()]);
    run(&["index", "create", s(&db)]);
    run(&["index", "add", s(&db), s(&first)]);

    // skip (the default): counted, nothing changes.
    let again = json(&run(&[
        "index",
        "add",
        s(&db),
        s(&first),
        "--format",
        "json",
    ]));
    assert_eq!(again["stats"]["skipped"], 2);
    assert_eq!(again["stats"]["new"], 0);
    assert_eq!(stored_ids(&db), vec!["A", "B"]);

    // error: names the file, line and id; what was committed stays.
    let dup = dir.path().join("dup.jsonl");
    write_lines(&dup, &[doc("C", &words(200, 20)), st.b.clone()]);
    let err = fails(&[
        "index",
        "add",
        s(&db),
        s(&dup),
        "--on-duplicate-id",
        "error",
    ]);
    assert!(err.contains(&format!("{}:2", s(&dup))), "{err}");
    assert!(err.contains("duplicate id `B`"), "{err}");
    assert_eq!(stored_ids(&db), vec!["A", "B"]);

    // A repeated id inside one input is a duplicate too.
    let twice = dir.path().join("twice.jsonl");
    write_lines(
        &twice,
        &[doc("D", &words(300, 20)), doc("D", &words(400, 20))],
    );
    let err = fails(&[
        "index",
        "add",
        s(&db),
        s(&twice),
        "--on-duplicate-id",
        "error",
    ]);
    assert!(err.contains(&format!("{}:1", s(&twice))), "{err}");

    // replace: the stored B goes, the new text takes its place (now a near copy of A).
    let mut a_like = words(0, 30);
    a_like[3] = "jadid".into();
    let replace = dir.path().join("replace.jsonl");
    write_lines(&replace, &[doc("B", &a_like)]);
    let r = json(&run(&[
        "index",
        "add",
        s(&db),
        s(&replace),
        "--on-duplicate-id",
        "replace",
        "--format",
        "json",
    ]));
    assert_eq!(r["stats"]["replaced"], 1);
    assert_eq!(stored_ids(&db), vec!["A", "B"]);
    let export = clusters(&run(&["index", "export", s(&db), "--format", "csv"]));
    assert_eq!(
        export.get("0"),
        Some(&vec!["A".to_string(), "B".to_string()])
    );

    // With skip, the second D of one input is skipped.
    let r = json(&run(&[
        "index",
        "add",
        s(&db),
        s(&twice),
        "--format",
        "json",
    ]));
    assert_eq!(
        (r["stats"]["new"].as_u64(), r["stats"]["skipped"].as_u64()),
        (Some(1), Some(1))
    );
}

#[test]
fn other_settings_are_refused_with_what_to_do() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("i.db");
    let input = sample("headlines.jsonl");
    run(&[
        "index",
        "create",
        s(&db),
        "--threshold",
        "0.6",
        "--num-perm",
        "64",
    ]);
    let err = fails(&["index", "add", s(&db), s(&input), "--threshold", "0.5"]);
    assert!(err.contains("created with"), "{err}");
    assert!(err.contains("--num-perm 64"), "{err}");
    assert!(err.contains("--threshold 0.6"), "{err}");
    assert!(err.contains("mukarrar index create NEW.db"), "{err}");
    assert!(err.contains("Drop them"), "{err}");
    let err = fails(&["index", "query", s(&db), s(&input), "--shingle", "char"]);
    assert!(err.contains("--shingle char"), "{err}");
    assert!(stored_ids(&db).is_empty());
    // The same settings, given again, are accepted.
    run(&[
        "index",
        "add",
        s(&db),
        s(&input),
        "-t",
        "0.6",
        "--num-perm=64",
    ]);
    assert_eq!(stored_ids(&db).len(), 11);
    // Exact verification cannot be indexed.
    let err = fails(&[
        "index",
        "create",
        s(&dir.path().join("x.db")),
        "--verify",
        "exact",
    ]);
    assert!(err.contains("--verify estimate"), "{err}");
    // An existing file is not overwritten.
    let err = fails(&["index", "create", s(&db)]);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn files_that_are_not_indexes_are_refused() {
    let dir = TempDir::new().unwrap();
    let input = sample("headlines.jsonl");
    let text = dir.path().join("notes.db");
    fs::write(&text, "these are notes, not an index\n".repeat(100)).unwrap();
    let err = fails(&["index", "add", s(&text), s(&input)]);
    assert!(err.contains("is not a mukarrar index"), "{err}");
    assert_eq!(
        fs::read_to_string(&text).unwrap(),
        "these are notes, not an index\n".repeat(100)
    );

    let other = dir.path().join("other.sqlite");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(conn);
    let err = fails(&["index", "stats", s(&other)]);
    assert!(err.contains("is not a mukarrar index"), "{err}");

    let missing = dir.path().join("missing.db");
    let err = fails(&["index", "add", s(&missing), s(&input)]);
    assert!(err.contains("mukarrar index create"), "{err}");
    assert!(!missing.exists());
}

pub(crate) fn set_meta(db: &std::path::Path, key: &str, value: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute("UPDATE meta SET value = ?1 WHERE key = ?2", [value, key])
        .unwrap();
}

pub(crate) fn meta(db: &std::path::Path, key: &str) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .unwrap()
}

#[test]
fn newer_formats_are_refused_and_say_so() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("i.db");
    let input = sample("headlines.jsonl");
    run(&["index", "create", s(&db)]);
    run(&["index", "add", s(&db), s(&input)]);

    let current = mukarrar::index::FORMAT_VERSION;
    let oldest = mukarrar::index::OLDEST_SUPPORTED;
    let newer = (current + 1).to_string();

    // A newer format that this version may still read: reads work, writes do not.
    set_meta(&db, "format_version", &newer);
    run(&["index", "stats", s(&db)]);
    run(&["index", "export", s(&db), "--format", "csv"]);
    let err = fails(&["index", "add", s(&db), s(&input)]);
    assert!(
        err.contains(&format!("writes only formats 3, 4 and {current}")),
        "{err}"
    );

    // A newer format that this version cannot read.
    set_meta(&db, "oldest_supported", &newer);
    let err = fails(&["index", "stats", s(&db)]);
    assert!(err.contains("newer mukarrar"), "{err}");
    assert!(err.contains("upgrade mukarrar"), "{err}");

    // An older format than this version reads.
    set_meta(&db, "oldest_supported", "1");
    set_meta(&db, "format_version", &(oldest - 1).to_string());
    let err = fails(&["index", "stats", s(&db)]);
    assert!(err.contains("no longer reads"), "{err}");
    assert!(err.contains("mukarrar index create"), "{err}");

    // Settings edited by hand no longer match their hash.
    set_meta(&db, "oldest_supported", &oldest.to_string());
    set_meta(&db, "format_version", &current.to_string());
    let conn = rusqlite::Connection::open(&db).unwrap();
    let stored = format!("\"threshold\":{}", mukarrar::settings::DEFAULT_THRESHOLD);
    let edited = conn
        .execute(
            &format!(
                "UPDATE meta SET value = replace(value, '{stored}', '\"threshold\":0.9') \
                 WHERE key = 'settings'"
            ),
            [],
        )
        .unwrap();
    assert_eq!(edited, 1);
    let settings: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'settings'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(settings.contains("\"threshold\":0.9"), "{settings}");
    drop(conn);
    let err = fails(&["index", "stats", s(&db)]);
    assert!(err.contains("does not match its hash"), "{err}");
}

/// (documents whose keys are in `bands`, in `bands_recent`)
fn key_tables(db: &std::path::Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let count = |table: &str| -> i64 {
        conn.query_row(
            &format!("SELECT count(DISTINCT pos) FROM {table}"),
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    (count("bands"), count("bands_recent"))
}

#[test]
fn small_adds_keep_their_keys_aside_until_they_are_merged_and_match_through_both() {
    let dir = TempDir::new().unwrap();
    let settings = ["--normalize", "none", "--threshold", "0.3"];
    let lines = corpus(600, 11);
    let all = dir.path().join("all.jsonl");
    write_lines(&all, &lines);
    let db = dir.path().join("index.db");
    let mut create = vec!["index", "create", s(&db)];
    create.extend_from_slice(&settings);
    run(&create);
    let first = dir.path().join("first.jsonl");
    write_lines(&first, &lines[..400]);
    run(&["index", "add", s(&db), s(&first), "--format", "csv"]);
    assert_eq!(
        key_tables(&db),
        (400, 0),
        "a first add into an empty index is merged"
    );

    // Slices of 10: kept in `bands_recent` until they cover more than an eighth of the 400
    // positions in `bands` (50), then merged with the sixth slice.
    let mut seen_recent = false;
    let mut merged = false;
    for (n, chunk) in lines[400..].chunks(10).enumerate() {
        let slice = dir.path().join(format!("slice-{n}.jsonl"));
        write_lines(&slice, chunk);
        run(&["index", "add", s(&db), s(&slice), "--format", "csv"]);
        let (main, recent) = key_tables(&db);
        assert_eq!(main + recent, 400 + 10 * (n as i64 + 1), "slice {n}");
        if n < 5 {
            assert_eq!((main, recent), (400, 10 * (n as i64 + 1)), "slice {n}");
        }
        seen_recent |= recent > 0;
        merged |= main > 400;
    }
    assert!(seen_recent && merged);
    let mut cluster = vec!["cluster", s(&all), "--format", "csv"];
    cluster.extend_from_slice(&settings);
    assert_eq!(
        run(&["index", "export", s(&db), "--format", "csv"]),
        run(&cluster),
        "matches found through both key tables give the clusters of one run"
    );

    // Removing documents whose keys are in either table leaves no key of theirs behind.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let in_recent: String = conn
        .query_row(
            "SELECT d.id FROM documents d WHERE d.pos IN (SELECT pos FROM bands_recent) LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let in_main: String = conn
        .query_row(
            "SELECT d.id FROM documents d WHERE d.pos IN (SELECT pos FROM bands) LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    let (main, recent) = key_tables(&db);
    run(&["index", "remove", s(&db), &in_recent, &in_main]);
    assert_eq!(key_tables(&db), (main - 1, recent - 1));
    let stats: Value = json(&run(&["index", "stats", s(&db), "--format", "json"]));
    assert_eq!(stats["documents"], 598, "{stats}");
}

#[test]
fn stats_and_kept_fields() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("i.db");
    let input = dir.path().join("in.jsonl");
    let st = stories();
    write_lines(
        &input,
        &[
            st.a.replace("{", "{\"source\":\"wire\","),
            st.a2.clone(),
            "{\"id\":\"E\",\"text\":\"...\"}".into(),
        ],
    );
    run(&["index", "create", s(&db)]);
    let out = mukarrar()
        .args(["index", "add", s(&db), s(&input), "--keep-field", "source"])
        .args(["--batch-size", "2", "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("committed batch 1: 2 records"), "{err}");
    assert!(err.contains("committed batch 2: 1 records"), "{err}");
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.starts_with("cluster_id,doc_id,similarity,is_representative\n0,A,1.0000,true\n"),
        "{csv}"
    );
    let stats = run(&["index", "stats", s(&db)]);
    assert!(stats.contains("3 (1 empty after normalization)"), "{stats}");
    assert!(stats.contains("1 holding 2 documents"), "{stats}");
    assert!(stats.contains("batches     2"), "{stats}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let fields: String = conn
        .query_row("SELECT fields FROM documents WHERE id = 'A'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fields, "{\"source\":\"wire\"}");
}

#[test]
fn bad_input_names_its_line_and_keeps_what_was_committed() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("i.db");
    let input = dir.path().join("in.jsonl");
    let mut lines: Vec<String> = (0..4)
        .map(|i| doc(&format!("ok{i}"), &words(i * 50, 20)))
        .collect();
    lines.push("{\"id\": \"broken\", \"text\": ".into());
    lines.push(doc("after", &words(500, 20)));
    write_lines(&input, &lines);
    run(&["index", "create", s(&db)]);
    let err = fails(&["index", "add", s(&db), s(&input), "--batch-size", "2"]);
    assert!(err.contains(&format!("{}:5", s(&input))), "{err}");
    assert!(err.contains("invalid JSON"), "{err}");
    assert_eq!(stored_ids(&db), vec!["ok0", "ok1", "ok2", "ok3"]);
    // With --skip-invalid the rest goes in, and the committed documents are skipped.
    let r = json(&run(&[
        "index",
        "add",
        s(&db),
        s(&input),
        "--skip-invalid",
        "--format",
        "json",
    ]));
    assert_eq!(r["stats"]["invalid"], 1);
    assert_eq!(r["stats"]["skipped"], 4);
    assert_eq!(stored_ids(&db), vec!["ok0", "ok1", "ok2", "ok3", "after"]);
}

#[test]
fn copies_against_an_index_of_copies_verify_a_linear_number_of_pairs() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("i.db");
    let n = 2000;
    let text: String = (0..120).map(|i| format!("كلمة{i} ")).collect();
    let batch = |name: &str, from: usize| {
        let path = dir.path().join(name);
        let lines: Vec<String> = (from..from + n)
            .map(|i| format!("{{\"id\":\"c{i}\",\"text\":\"{text}\"}}"))
            .collect();
        write_lines(&path, &lines);
        path
    };
    let (first, second, asked) = (
        batch("1.jsonl", 0),
        batch("2.jsonl", n),
        batch("3.jsonl", 2 * n),
    );
    run(&["index", "create", s(&db)]);
    let verified = |args: &[&str]| {
        let out = mukarrar().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (count_before(&stderr, "candidate pairs verified"), stderr)
    };
    let (v, err) = verified(&["index", "add", s(&db), s(&first)]);
    assert!(v <= n, "{v} pairs verified for {n} new copies\n{err}");
    let (v, err) = verified(&["index", "add", s(&db), s(&second)]);
    assert!(v <= 2 * n, "{v} pairs verified, {n} copies into {n}\n{err}");
    assert!(
        err.contains(&format!("{n} joined 1 existing clusters")),
        "{err}"
    );
    let (v, err) = verified(&["index", "query", s(&db), s(&asked)]);
    assert!(
        v <= 3 * n,
        "{v} pairs verified, {n} copies against {}\n{err}",
        2 * n
    );
    let stats = run(&["index", "stats", s(&db)]);
    assert!(
        stats.contains(&format!("1 holding {} documents", 2 * n)),
        "{stats}"
    );
}

#[test]
fn a_format_2_index_is_read_as_before_and_refused_for_writing() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("i.db");
    let input = sample("labelled.jsonl");
    // Format 2 had no heads, and its settings no cross-length matching.
    run(&["index", "create", s(&db), "--cross-words", "0"]);
    run(&["index", "add", s(&db), s(&input)]);
    let before = run(&["index", "export", s(&db), "--format", "csv"]);
    assert!(before.lines().count() > 3, "{before}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "ALTER TABLE documents DROP COLUMN head; ALTER TABLE documents DROP COLUMN head_numbers;",
    )
    .unwrap();
    drop(conn);
    set_meta(&db, "format_version", "2");
    assert_eq!(run(&["index", "export", s(&db), "--format", "csv"]), before);
    run(&["index", "stats", s(&db)]);
    let err = fails(&["index", "add", s(&db), s(&input)]);
    assert!(err.contains("writes only formats 3, 4 and 5"), "{err}");
}
