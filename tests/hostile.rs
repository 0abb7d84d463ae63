//! Misuse and hostile input: a path typed wrong, a file that is also an output, dates that are
//! not dates, escape sequences in ids, broken stderr, two writers at once, read-only and
//! damaged indexes. Each test names the behaviour it holds.

mod support;

use std::fs;
use std::process::Command;

use support::*;
use tempfile::TempDir;

/// Two near-identical headlines under ids holding an escape sequence (window title, clear
/// screen) and a line break, and a third document.
fn hostile_ids(dir: &TempDir) -> String {
    write(
        dir,
        "ids.jsonl",
        concat!(
            r#"{"id":"a\u001b]0;PWNED\u0007\u001b[2J","title":"مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة"}"#,
            "\n",
            r#"{"id":"b\nfake line","title":"مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة"}"#,
            "\n",
            r#"{"id":"c","title":"ترامب يصف مكالمته مع بوتين بالجيدة"}"#,
            "\n",
        ),
    )
}

// ── stderr that cannot be written ────────────────────────────────────────────────────────

#[test]
fn a_full_stderr_changes_no_exit_status() {
    let full = || {
        fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let out = Command::new(bin())
        .args(["cluster", s(&sample("headlines.jsonl")), "--format", "csv"])
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "the summary cannot be written");
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("cluster_id,"));

    let out = Command::new(bin())
        .args(["cluster", "no-such-file.jsonl"])
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "the error cannot be written");

    let dir = TempDir::new().unwrap();
    let db = dir.path().join("i.db");
    let out = Command::new(bin())
        .args(["index", "create", s(&db)])
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "`created …` cannot be written");
}

#[test]
fn a_closed_stderr_pipe_changes_no_exit_status() {
    let dir = TempDir::new().unwrap();
    let status = dir.path().join("status");
    // The reader of stderr (`true`) is gone before mukarrar starts writing.
    let script = format!(
        "{{ sleep 0.3; '{bin}' cluster '{input}' --format csv > /dev/null; echo $? > '{status}'; \
         '{bin}' cluster no-such-file.jsonl; echo $? >> '{status}'; }} 2>&1 | true",
        bin = s(&bin()),
        input = s(&sample("headlines.jsonl")),
        status = s(&status)
    );
    let out = Command::new("sh").arg("-c").arg(script).output().unwrap();
    assert!(out.status.success());
    assert_eq!(fs::read_to_string(&status).unwrap(), "0\n2\n");
}

// ── control characters in ids and names ──────────────────────────────────────────────────

#[test]
fn text_reports_and_messages_escape_control_characters() {
    let dir = TempDir::new().unwrap();
    let input = hostile_ids(&dir);
    let text = run(&["cluster", &input, "--format", "text", "--threshold", "0.5"]);
    assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    assert!(text.contains(r"a\u{1b}]0;PWNED\u{7}\u{1b}[2J"), "{text}");
    assert!(text.contains(r"b\nfake line"), "{text}");
    // One line per member: the cluster header, two members.
    assert_eq!(text.lines().count(), 3, "{text}");

    // Warnings and errors name the id escaped too.
    let repeated = write(
        &dir,
        "repeated.jsonl",
        &(fs::read_to_string(&input).unwrap() + &fs::read_to_string(&input).unwrap()),
    );
    let out = mukarrar()
        .args(["cluster", &repeated, "--skip-invalid", "--format", "csv"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(r"duplicate id `a\u{1b}]0;PWNED"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\x07'),
        "{stderr:?}"
    );
    let err = fails(&["cluster", &repeated]);
    assert!(!err.contains('\x1b'), "{err:?}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let err = fails(&["cluster", "missing-\x1b[2J.jsonl"]);
    assert!(err.contains(r"missing-\u{1b}[2J.jsonl"), "{err:?}");
}

#[test]
fn csv_and_json_keep_ids_exactly() {
    let dir = TempDir::new().unwrap();
    let input = hostile_ids(&dir);
    let csv = run(&["cluster", &input, "--format", "csv", "--threshold", "0.5"]);
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let ids: Vec<String> = rows.records().map(|r| r.unwrap()[1].to_string()).collect();
    assert_eq!(ids, ["a\x1b]0;PWNED\x07\x1b[2J", "b\nfake line"]);
    let json: serde_json::Value = serde_json::from_str(&run(&[
        "cluster",
        &input,
        "--format",
        "json",
        "--threshold",
        "0.5",
    ]))
    .unwrap();
    assert_eq!(
        json["clusters"][0]["members"][0]["id"],
        "a\x1b]0;PWNED\x07\x1b[2J"
    );
}

// ── dates ────────────────────────────────────────────────────────────────────────────────

/// An index holding the two sample files, the first seen on `first_seen`.
fn small_index(dir: &TempDir, first_seen: &str) -> std::path::PathBuf {
    let db = dir.path().join("i.db");
    run(&["index", "create", s(&db)]);
    run(&[
        "index",
        "add",
        s(&db),
        s(&sample("headlines.jsonl")),
        "--first-seen",
        first_seen,
    ]);
    db
}

#[test]
fn one_date_parser_refuses_what_is_not_a_documented_date() {
    let dir = TempDir::new().unwrap();
    let db = small_index(&dir, "2024-05-01T12:00:00+03:00");
    let held = stored_ids(&db).len();
    assert!(held > 0);
    for bad in ["5000000", "now", "0", "1e6", "2024-02-30", "2024-01-01ZZZ"] {
        let err = fails(&["index", "remove", s(&db), "--before", bad]);
        assert!(
            err.contains(&format!("`{bad}` is not a date")),
            "{bad}: {err}"
        );
        let err = fails(&[
            "index",
            "add",
            s(&db),
            s(&sample("labelled.jsonl")),
            "--first-seen",
            bad,
        ]);
        assert!(
            err.contains(&format!("`{bad}` is not a date")),
            "{bad}: {err}"
        );
    }
    assert_eq!(stored_ids(&db).len(), held, "nothing removed or added");

    // The offset is applied: 12:00 at +03:00 is 09:00 UTC.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let added: String = conn
        .query_row("SELECT min(added) FROM documents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(added, "2024-05-01T09:00:00.000Z");
    drop(conn);
    let kept = run(&[
        "index",
        "remove",
        s(&db),
        "--before",
        "2024-05-01T08:59:59Z",
    ]);
    assert!(kept.starts_with("removed 0 documents"), "{kept}");
    let gone = run(&[
        "index",
        "remove",
        s(&db),
        "--before",
        "2024-05-01T12:00:01+03:00",
    ]);
    assert!(
        gone.starts_with(&format!("removed {held} documents")),
        "{gone}"
    );
}

#[test]
fn the_filter_reads_dates_with_the_same_parser() {
    let dir = TempDir::new().unwrap();
    let feed = write(
        &dir,
        "feed.jsonl",
        concat!(
            r#"{"id":"a","title":"خبر أول عن الطقس","date":"2024-05-01T10:00:00Z"}"#,
            "\n",
            r#"{"id":"b","title":"خبر ثان عن الرياضة","date":"2024-02-30"}"#,
            "\n",
            r#"{"id":"c","title":"خبر ثالث عن الاقتصاد","date":1714557600}"#,
            "\n",
            r#"{"id":"d","title":"خبر رابع عن السياسة","date":"2024-05-01T10:00"}"#,
            "\n",
        ),
    );
    let args = [
        "filter",
        &feed,
        "--window-days",
        "1",
        "--date-field",
        "date",
    ];
    let err = fails(&args);
    assert!(err.contains("feed.jsonl:2: field `date`"), "{err}");
    assert!(err.contains("`2024-02-30` is not a date"), "{err}");
    let out = mukarrar()
        .args(args)
        .arg("--skip-invalid")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let kept: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = kept.iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["a", "c"],
        "a number is Unix seconds; a time without seconds is no date"
    );
}
