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
