//! Misuse and hostile input: a path typed wrong, a file that is also an output, dates that are
//! not dates, escape sequences in ids, broken stderr, two writers at once, read-only and
//! damaged indexes. Each test names the behaviour it holds.

use crate::support;

use std::fs;
use std::path::Path;
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
        let labelled = sample("labelled.jsonl");
        for args in [
            vec!["index", "remove", s(&db), "--before", bad],
            vec!["index", "add", s(&db), s(&labelled), "--first-seen", bad],
        ] {
            let err = fails(&args);
            assert!(
                err.contains(&format!("`{bad}` is not a date")),
                "{bad}: {err}"
            );
        }
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

// ── stored settings and damage ───────────────────────────────────────────────────────────

/// Runs mukarrar with a time limit; `None` when it had to be killed.
fn run_within(args: &[&str], seconds: u64) -> Option<std::process::Output> {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Some(child.wait_with_output().unwrap())
}

/// Rewrites the index's stored settings with `edit`, and their hash to match.
pub(crate) fn edit_settings(db: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let json: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'settings'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    edit(&mut v);
    let json = v.to_string();
    let hash = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(json.as_bytes()));
    conn.execute("UPDATE meta SET value = ?1 WHERE key = 'settings'", [&json])
        .unwrap();
    conn.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'settings_hash'",
        [&hash],
    )
    .unwrap();
}

#[test]
fn stored_settings_are_checked_as_the_command_line_checks_them() {
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 5] = [
        ("bands × rows over num_perm", |v| {
            v["lsh"] = serde_json::json!({"bands": 100, "rows": 3})
        }),
        ("bands × rows overflowing", |v| {
            v["lsh"] = serde_json::json!({"bands": 1u64 << 62, "rows": 8})
        }),
        ("shingle size 0", |v| v["shingle"]["n"] = 0.into()),
        ("num_perm 0", |v| v["minhash"]["num_perm"] = 0.into()),
        ("num_perm 1e8", |v| {
            v["minhash"]["num_perm"] = 100_000_000.into()
        }),
    ];
    let dir = TempDir::new().unwrap();
    let clean = small_index(&dir, "2024-01-01");
    let labelled = sample("labelled.jsonl");
    for (what, edit) in edits {
        let db = dir.path().join("edited.db");
        fs::copy(&clean, &db).unwrap();
        edit_settings(&db, edit);
        for args in [
            vec!["index", "query", s(&db), s(&labelled)],
            vec!["index", "add", s(&db), s(&labelled)],
            vec!["index", "stats", s(&db)],
            vec!["index", "export", s(&db)],
            vec!["index", "check", s(&db)],
            vec!["filter", s(&labelled), "--db", s(&db)],
        ] {
            let out = run_within(&args, 20).unwrap_or_else(|| panic!("{what}: {args:?} hangs"));
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{what}: {args:?}: {err}");
            assert!(
                err.contains("its stored settings are invalid"),
                "{what}: {err}"
            );
        }
    }
}

/// Overwrites the root page of the index on document ids with zeros.
fn damage_id_index(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    let root: i64 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'documents' \
             AND sql IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    assert!(!Path::new(&format!("{}-wal", s(db))).exists());
    let mut bytes = fs::read(db).unwrap();
    let at = ((root - 1) * page_size) as usize;
    bytes[at..at + page_size as usize].fill(0);
    fs::write(db, bytes).unwrap();
}

#[test]
fn damage_is_reported_as_damage_and_index_check_finds_it() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("in.jsonl");
    let lines = corpus(400, 3);
    write_lines(&input, &lines[..300]);
    let more = dir.path().join("more.jsonl");
    write_lines(&more, &lines[300..]);
    let db = dir.path().join("i.db");
    run(&["index", "create", s(&db)]);
    run(&["index", "add", s(&db), s(&input)]);
    let sound = run(&["index", "check", s(&db)]);
    assert!(sound.contains("integrity  ok"), "{sound}");
    assert!(sound.contains("documents  300"), "{sound}");

    damage_id_index(&db);
    for args in [
        vec!["index", "add", s(&db), s(&more)],
        vec!["index", "query", s(&db), s(&more)],
        vec!["index", "remove", s(&db), "g00001"],
    ] {
        let err = fails(&args);
        assert!(err.contains("the index is damaged"), "{args:?}: {err}");
        assert!(err.contains("mukarrar index check"), "{args:?}: {err}");
    }
    let out = mukarrar()
        .args(["index", "check", s(&db)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(listed.contains("problem "), "{listed}");
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("the index is damaged"),
        "{listed}"
    );
}

// ── outputs that are inputs ──────────────────────────────────────────────────────────────

#[test]
fn an_output_that_is_the_index_or_an_input_is_refused_before_any_work() {
    let dir = TempDir::new().unwrap();
    let db = small_index(&dir, "2024-01-01");
    let ids = stored_ids(&db);
    let before = fs::read(&db).unwrap();
    let input = dir.path().join("in.jsonl");
    fs::copy(sample("labelled.jsonl"), &input).unwrap();
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&db, &link).unwrap();
    let dotted = dir.path().join(".").join("i.db");
    let wal = format!("{}-wal", s(&db));
    for target in [s(&db), s(&dotted), s(&link), wal.as_str()] {
        for args in [
            vec!["index", "add", s(&db), s(&input), "-o", target],
            vec!["index", "query", s(&db), s(&input), "-o", target],
            vec!["index", "export", s(&db), "-o", target],
        ] {
            let err = fails(&args);
            assert!(err.contains("would overwrite"), "{args:?}: {err}");
            assert!(err.contains(&format!("the index {}", s(&db))), "{err}");
        }
    }
    assert_eq!(stored_ids(&db), ids, "nothing added");
    assert_eq!(fs::read(&db).unwrap(), before, "the index is untouched");

    let text = fs::read(&input).unwrap();
    for args in [
        vec!["cluster", s(&input), "-o", s(&input)],
        vec!["index", "add", s(&db), s(&input), "-o", s(&input)],
        vec!["eval", s(&input), "-o", s(&input)],
    ] {
        let err = fails(&args);
        assert!(
            err.contains(&format!("would overwrite the input {}", s(&input))),
            "{args:?}: {err}"
        );
    }
    assert_eq!(fs::read(&input).unwrap(), text);
    assert_eq!(stored_ids(&db), ids);
}

#[test]
fn duplicates_never_overwrite_an_input_or_the_index() {
    let dir = TempDir::new().unwrap();
    let db = small_index(&dir, "2024-01-01");
    let before = fs::read(&db).unwrap();
    let input = dir.path().join("s.jsonl");
    fs::copy(sample("labelled.jsonl"), &input).unwrap();
    let text = fs::read(&input).unwrap();
    let err = fails(&["filter", s(&input), "--duplicates", s(&input)]);
    assert!(err.contains("--duplicates"), "{err}");
    assert!(err.contains("would overwrite the input"), "{err}");
    assert_eq!(fs::read(&input).unwrap(), text);
    for target in [s(&db).to_string(), format!("{}-shm", s(&db))] {
        let err = fails(&["filter", s(&input), "--db", s(&db), "--duplicates", &target]);
        assert!(err.contains("would overwrite"), "{err}");
    }
    assert_eq!(fs::read(&db).unwrap(), before);
}

/// `index add` of the labelled sample with `-o output`, expected to fail; returns stderr.
fn add_labelled(db: &Path, output: &str) -> String {
    let labelled = sample("labelled.jsonl");
    fails(&["index", "add", s(db), s(&labelled), "-o", output])
}

#[test]
fn an_unwritable_report_stops_index_add_before_it_commits() {
    let dir = TempDir::new().unwrap();
    let db = small_index(&dir, "2024-01-01");
    let ids = stored_ids(&db);
    let err = add_labelled(&db, "/nonexistent/r.csv");
    assert!(err.contains("/nonexistent"), "{err}");
    assert_eq!(stored_ids(&db), ids, "nothing committed");
}

// ── every batch's report, later ──────────────────────────────────────────────────────────

#[test]
fn a_batch_report_can_be_written_again_from_the_index() {
    let dir = TempDir::new().unwrap();
    let lines = corpus(900, 8);
    let db = dir.path().join("i.db");
    run(&["index", "create", s(&db), "--normalize", "none"]);
    let mut reports = Vec::new();
    for (day, part) in lines.chunks(300).enumerate() {
        let input = dir.path().join(format!("day-{day}.jsonl"));
        write_lines(&input, part);
        let report: serde_json::Value = serde_json::from_str(&run(&[
            "index",
            "add",
            s(&db),
            s(&input),
            "--format",
            "json",
        ]))
        .unwrap();
        let again: serde_json::Value = serde_json::from_str(&run(&[
            "index",
            "export",
            s(&db),
            "--batch",
            &(day + 1).to_string(),
            "--format",
            "json",
        ]))
        .unwrap();
        assert_eq!(again["clusters"], report["clusters"], "batch {}", day + 1);
        assert_eq!(again["params"]["inputs"], report["params"]["inputs"]);
        reports.push(report);
    }
    // Grown and merged clusters are among them.
    let kinds: Vec<&str> = reports[2]["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"grown") && kinds.contains(&"new"),
        "{kinds:?}"
    );
    // Later, batch 1's documents are still the ones marked new.
    let first: serde_json::Value = serde_json::from_str(&run(&[
        "index",
        "export",
        s(&db),
        "--batch",
        "1",
        "--format",
        "json",
    ]))
    .unwrap();
    for c in first["clusters"].as_array().unwrap() {
        for m in c["members"].as_array().unwrap() {
            let pos: usize = m["id"].as_str().unwrap()[1..].parse().unwrap();
            assert_eq!(m["new"].as_bool().unwrap(), pos < 300, "{m}");
        }
    }
    let err = fails(&["index", "export", s(&db), "--batch", "9"]);
    assert!(
        err.contains("has no batch 9 (its batches are 1 to 3)"),
        "{err}"
    );
}

#[test]
fn a_report_lost_after_the_commit_names_the_command_that_writes_it_again() {
    let dir = TempDir::new().unwrap();
    let db = small_index(&dir, "2024-01-01");
    let err = add_labelled(&db, "/dev/full");
    assert!(
        err.contains(&format!("mukarrar index export {} --batch 2", s(&db))),
        "{err}"
    );
}

// ── two writers at once ──────────────────────────────────────────────────────────────────

/// Runs `index add` on each input at the same moment; returns their exit statuses.
fn add_at_once(db: &Path, inputs: &[&Path], extra: &[&str]) -> Vec<Option<i32>> {
    let children: Vec<_> = inputs
        .iter()
        .map(|input| {
            Command::new(bin())
                .args(["-q", "index", "add", s(db), s(input)])
                .args(extra)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.status.code()
        })
        .collect()
}

#[test]
fn two_writers_at_once_queue_and_give_the_sequential_result() {
    let dir = TempDir::new().unwrap();
    let lines = corpus(2400, 21);
    let a = dir.path().join("a.jsonl");
    let b = dir.path().join("b.jsonl");
    write_lines(&a, &lines[..1200]);
    write_lines(&b, &lines[1200..]);
    let export = |db: &Path| {
        run(&[
            "index",
            "export",
            s(db),
            "--format",
            "csv",
            "--include-singletons",
        ])
    };
    let sequential = |first: &Path, second: &Path| {
        let db = dir.path().join("seq.db");
        let _ = fs::remove_file(&db);
        run(&["index", "create", s(&db), "--normalize", "none"]);
        run(&["index", "add", s(&db), s(first)]);
        run(&["index", "add", s(&db), s(second)]);
        export(&db)
    };
    let orders = [sequential(&a, &b), sequential(&b, &a)];

    // One transaction each: the second waits for the first.
    let db = dir.path().join("i.db");
    run(&["index", "create", s(&db), "--normalize", "none"]);
    add_at_once(&db, &[&a, &b], &[]);
    let got = export(&db);
    assert!(orders.contains(&got), "not the result of either order");
    assert_eq!(integrity(&db), "ok");

    // Small batches interleave: the same clusters (ids depend on the order of arrival).
    let db = dir.path().join("j.db");
    run(&["index", "create", s(&db), "--normalize", "none"]);
    add_at_once(&db, &[&a, &b], &["--batch-size", "100"]);
    let groups = |csv: &str| {
        let mut g: Vec<Vec<String>> = clusters(csv).into_values().collect();
        g.sort();
        g
    };
    assert_eq!(groups(&export(&db)), groups(&orders[0]));
    assert_eq!(stored_ids(&db).len(), 2400);
}

// ── CSV quotes ───────────────────────────────────────────────────────────────────────────

#[test]
fn an_unclosed_csv_quote_is_an_error_at_the_line_where_it_opened() {
    let dir = TempDir::new().unwrap();
    let mut text = String::from("id,title\na,\"text\n");
    for i in 0..1000 {
        text.push_str(&format!("r{i},row {i}\n"));
    }
    let csv = write(&dir, "q.csv", &text);
    let err = fails(&["cluster", &csv]);
    assert!(
        err.contains("q.csv:2: a quoted field opens on this line and is never closed"),
        "{err}"
    );
    // Quoted fields over several lines, and quotes inside them, are fine.
    let fine = write(
        &dir,
        "ok.csv",
        "id,title\na,\"سطر\nسطر \"\"مقتبس\"\"\"\nb,\"x\"\n",
    );
    let out = run(&[
        "cluster",
        &fine,
        "--include-singletons",
        "--format",
        "jsonl",
    ]);
    assert_eq!(out.lines().count(), 2, "{out}");
    // A quote that closes only thousands of lines later is caught too.
    let mut long = String::from("id,title\na,\"text\n");
    for i in 0..10_001 {
        long.push_str(&format!("r{i},row {i}\n"));
    }
    long.push_str("\"\n");
    let long = write(&dir, "long.csv", &long);
    let err = fails(&["cluster", &long]);
    assert!(
        err.contains(
            "long.csv:2: a quoted field opens on this line and runs over more than 10000 lines"
        ),
        "{err}"
    );
}

// ── messages that name the real problem ──────────────────────────────────────────────────

#[test]
fn messages_name_the_real_problem() {
    let dir = TempDir::new().unwrap();
    let surrogate = write(&dir, "s.jsonl", "{\"id\":\"a\",\"title\":\"x\\ud800\"}\n");
    let err = fails(&["cluster", &surrogate]);
    assert!(
        err.contains(r"s.jsonl:1: invalid JSON: a lone UTF-16 surrogate `\ud800` at column 21"),
        "{err}"
    );

    let missing = dir.path().join("nodir").join("x.db");
    let err = fails(&["index", "create", s(&missing)]);
    assert!(err.contains("the folder"), "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert!(!err.contains(".creating"), "{err}");
    let err = fails(&["index", "create", s(dir.path())]);
    assert!(err.contains("is a folder"), "{err}");

    let gz = dir.path().join("k.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, b"1\t{\"id\":\"a\",\"title\":\"x\"}\n").unwrap();
    fs::write(&gz, enc.finish().unwrap()).unwrap();
    let err = fails(&["sign", "--keyed", s(&gz)]);
    assert!(err.contains("is gzip-compressed"), "{err}");

    let header = dir.path().join("h.csv");
    fs::write(&header, b"i\xffd,title\na,text\n").unwrap();
    let err = fails(&["cluster", s(&header)]);
    assert!(err.contains("h.csv:1: column 1 of the header"), "{err}");
    assert!(err.contains("is not UTF-8"), "{err}");
}

#[test]
fn text_folder_ids_keep_non_utf8_names_apart_and_name_their_files() {
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new().unwrap();
    let one = dir.path().join("in").join("dir1");
    let two = dir.path().join("in").join("dir2");
    fs::create_dir_all(&one).unwrap();
    fs::create_dir_all(&two).unwrap();
    for name in [&b"a\xff.txt"[..], b"a\xfe.txt"] {
        fs::write(
            two.join(std::ffi::OsStr::from_bytes(name)),
            "خبر عن الطقس اليوم",
        )
        .unwrap();
    }
    let out = run(&["cluster", s(&two), "--format", "json", "--threshold", "0.5"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = v["clusters"][0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [r"a\xFE", r"a\xFF"]);

    fs::write(one.join("x.txt"), "نص أول").unwrap();
    fs::write(two.join("x.txt"), "نص ثان").unwrap();
    let err = fails(&["cluster", s(&one), s(&two)]);
    assert!(
        err.contains(&format!(
            "{}/x.txt: duplicate id `x` (first seen at {}/x.txt)",
            s(&two),
            s(&one)
        )),
        "{err}"
    );
}

// ── read-only files and folders ──────────────────────────────────────────────────────────

/// True when the tests run as root, for whom permissions do not apply.
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    let probe = TempDir::new().unwrap();
    fs::metadata(probe.path()).unwrap().uid() == 0
}

#[test]
fn read_only_operations_work_on_a_read_only_folder() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = TempDir::new().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let folder = dir.path().join("ro");
    fs::create_dir(&folder).unwrap();
    let db = folder.join("i.db");
    run(&["index", "create", s(&db)]);
    run(&["index", "add", s(&db), s(&sample("labelled.jsonl"))]);
    assert!(!folder.join("i.db-wal").exists() && !folder.join("i.db-shm").exists());
    let input = dir.path().join("in.jsonl");
    fs::copy(sample("headlines.jsonl"), &input).unwrap();
    fs::set_permissions(&input, fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(&db, fs::Permissions::from_mode(0o444)).unwrap();
    fs::set_permissions(&folder, fs::Permissions::from_mode(0o555)).unwrap();
    // As root, run as `nobody`, whom the permissions bind.
    let reader = |args: &[&str]| {
        let mut cmd = Command::new(bin());
        cmd.arg("-q").args(args).current_dir(dir.path());
        if is_root() {
            cmd.uid(65534).gid(65534);
        }
        cmd.output().unwrap()
    };
    for args in [
        vec!["index", "stats", s(&db)],
        vec!["index", "export", s(&db), "--format", "csv"],
        vec!["index", "query", s(&db), s(&input), "--format", "csv"],
        vec!["index", "check", s(&db)],
        vec!["filter", s(&input), "--db", s(&db)],
    ] {
        let out = reader(&args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "{args:?}");
    }
    // A writer is refused, and says why.
    let out = reader(&["index", "add", s(&db), s(&input)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("read-only"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::set_permissions(&folder, fs::Permissions::from_mode(0o755)).unwrap();
}

// ── signals ──────────────────────────────────────────────────────────────────────────────

/// The files whose names start with `.mukarrar-` in `dir`.
fn temporary_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".mukarrar-"))
        .collect()
}

#[test]
fn a_signal_while_a_report_is_open_leaves_no_temporary_file() {
    use std::io::Write;
    for (signal, status) in [("INT", 130), ("TERM", 143)] {
        let dir = TempDir::new().unwrap();
        let report = dir.path().join("report.csv");
        let mut child = Command::new(bin())
            .args(["-q", "cluster", "-", "-o", s(&report)])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Input keeps coming: the run is under way, its report's file open.
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(&fs::read(sample("headlines.jsonl")).unwrap())
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while temporary_files(dir.path()).is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "the report's temporary file never appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let killed = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        assert_eq!(child.wait().unwrap().code(), Some(status), "SIG{signal}");
        drop(stdin);
        assert_eq!(
            temporary_files(dir.path()),
            Vec::<String>::new(),
            "SIG{signal}"
        );
        assert!(!report.exists());
    }
}

// ── any bytes at all ─────────────────────────────────────────────────────────────────────

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Every reader takes any bytes without panicking (scripts/fuzz runs this at length).
    #[test]
    fn readers_take_any_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
        use mukarrar::input::{from_reader, Format, InputConfig};
        for format in [Format::Jsonl, Format::Csv, Format::Tsv] {
            let cfg = InputConfig { keep_raw: true, ..InputConfig::default() };
            if let Ok(reader) = from_reader(std::io::Cursor::new(bytes.clone()), "p", format, &cfg) {
                for doc in reader {
                    let _ = doc;
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = mukarrar::date::parse(&text);
    }
}

/// A gzip-compressed line without end (what `head -c 10G /dev/zero | gzip` makes, smaller) is
/// refused as a record over the limit, naming file and line, after reading the limit's worth.
#[test]
fn a_line_without_end_is_refused_at_the_record_size_limit() {
    use std::io::Write;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("bomb.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(b"{\"id\":\"a\",\"text\":\"\xD9\x86\xD8\xB5\"}\n")
        .unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..16 {
        enc.write_all(&zeros).unwrap();
    }
    fs::write(&path, enc.finish().unwrap()).unwrap();
    let p = s(&path);
    let err = fails(&["cluster", p, "--max-record-size", "1M"]);
    assert!(err.contains(&format!("{p}:2")), "{err}");
    assert!(err.contains("longer than 1048576 bytes"), "{err}");
    // Skipped, the rest of the line is passed over and the run ends normally.
    let out = mukarrar()
        .args(["cluster", p, "--max-record-size", "1M", "--skip-invalid"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 documents read (1 skipped"));
}
