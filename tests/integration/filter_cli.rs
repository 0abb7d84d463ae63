//! `mukarrar filter` on the command line: what it writes where, pipe manners (a closed
//! stdout, SIGINT and SIGTERM, a live feed), invalid records, and the index.

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use support::{bin, count_before, fails, mukarrar, run, s, sample, write_lines};

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).unwrap()
}

fn samples(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("samples.jsonl");
    let mut body = std::fs::read_to_string(sample("labelled.jsonl")).unwrap();
    body.push_str(&std::fs::read_to_string(sample("headlines.jsonl")).unwrap());
    std::fs::write(&path, body).unwrap();
    path
}

#[test]
fn first_seen_lines_pass_through_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("feed.jsonl");
    // Odd spacing, key order and escapes must survive; the third line repeats the first.
    let raw = [
        r#"{ "text" : "أعلنت وزارة الصحة اليوم تسجيل 120 إصابة جديدة بفيروس كورونا في منطقة الرياض وأكدت أن الحالات مستقرة وأن فرقها الميدانية تتابع المخالطين في الأحياء الشرقية", "id":"a", "n": 1.50 }"#,
        r#"{"id":"b","text":"\u0641\u0627\u0632 الهلال على النصر بهدفين نظيفين في مباراة الجولة العاشرة من الدوري السعودي للمحترفين التي أقيمت مساء أمس على ملعب الملك فهد الدولي"}   "#,
        r#"{"id":"a-copy","text":"اعلنت وزارة الصحة اليوم تسجيل 120 اصابة جديدة بفيروس كورونا في منطقة الرياض وأكدت أن الحالات مستقرة وأن فرقها الميدانية تتابع المخالطين في الأحياء الشرقية","extra":{"k":[1,2]}}"#,
    ];
    std::fs::write(&input, raw.join("\n") + "\n").unwrap();
    let dups = dir.path().join("dups.jsonl");
    let out = run(&["filter", s(&input), "--duplicates", s(&dups)]);
    assert_eq!(out, format!("{}\n{}\n", raw[0], raw[1]));
    let dups = std::fs::read_to_string(&dups).unwrap();
    let expected_prefix = raw[2].strip_suffix('}').unwrap();
    assert!(dups.starts_with(expected_prefix), "{dups}");
    let d = json(&dups);
    assert_eq!(d["duplicate_of"], "a");
    assert_eq!(d["cluster_id"], 0);
    assert!(d["similarity"].as_f64().unwrap() > 0.9);
    assert_eq!(d["extra"]["k"][1], 2);

    // --annotate: every document on stdout, with the fields.
    let out = run(&["filter", s(&input), "--annotate"]);
    let all: Vec<Value> = lines(&out).into_iter().map(json).collect();
    assert_eq!(all.len(), 3);
    assert!(all[0]["duplicate_of"].is_null() && all[0]["similarity"].is_null());
    assert_eq!(all[1]["cluster_id"], 1);
    assert_eq!(all[2]["duplicate_of"], "a");
}

#[test]
fn samples_keep_one_document_per_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let input = samples(dir.path());
    let clusters = run(&["cluster", s(&input), "--format", "csv"]);
    let out = run(&["filter", s(&input)]);
    let kept: Vec<String> = lines(&out)
        .iter()
        .map(|l| json(l)["id"].as_str().unwrap().to_string())
        .collect();
    // Every member of a cluster but its first is left out (the samples bridge no clusters).
    for members in support::clusters(&clusters).values() {
        let in_kept = members.iter().filter(|m| kept.contains(m)).count();
        assert_eq!(in_kept, 1, "{members:?}");
    }
    assert_eq!(kept.len(), 28);
}

#[test]
fn csv_records_and_text_files_are_written_as_json_objects() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("feed.csv");
    std::fs::write(
        &csv,
        "id,body,source\n1,\"مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة\",x\n\
         2,\"مجلس الامن يصوت اليوم على قرار لوقف دائم لاطلاق النار بغزة\",y\n",
    )
    .unwrap();
    let out = run(&["filter", s(&csv), "--text-field", "body", "--annotate"]);
    let docs: Vec<Value> = lines(&out).into_iter().map(json).collect();
    assert_eq!(docs[0]["source"], "x");
    assert_eq!(docs[1]["duplicate_of"], "1");

    let folder = dir.path().join("texts");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("one.txt"), "ترامب يصف مكالمته مع بوتين بالجيدة").unwrap();
    let out = run(&["filter", s(&folder)]);
    let doc = json(out.trim_end());
    assert_eq!(doc["id"], "one");
    assert_eq!(doc["text"], "ترامب يصف مكالمته مع بوتين بالجيدة");
}

#[test]
fn an_invalid_line_stops_the_run_unless_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("feed.jsonl");
    std::fs::write(
        &input,
        "{\"id\":\"a\",\"text\":\"ترامب يصف مكالمته مع بوتين بالجيدة\"}\n{\"id\": oops}\n\
         {\"id\":\"b\",\"text\":\"فيتو أمريكي ضد مشروع قرار في مجلس الأمن\"}\n",
    )
    .unwrap();
    let out = mukarrar().args(["filter", s(&input)]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("feed.jsonl:2"), "{stderr}");
    // What was decided before the bad line is written.
    assert_eq!(lines(&String::from_utf8_lossy(&out.stdout)).len(), 1);

    let out = mukarrar()
        .args(["filter", s(&input), "--skip-invalid"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(lines(&String::from_utf8_lossy(&out.stdout)).len(), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning: skipped") && stderr.contains("feed.jsonl:2"));
    assert!(
        stderr.contains("3 records read: 2 first-seen, 0 duplicates, 1 invalid"),
        "{stderr}"
    );
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("feed.jsonl");
    write_lines(&input, &support::corpus(4000, 5));
    let mut child = Command::new(bin())
        .args(["filter", s(&input)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here: the pipe closes.
    assert!(first.starts_with("{\"id\":\"g00000\""));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// A filter reading a feed from a pipe that the test writes into.
struct Feed {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Feed {
    fn start(args: &[&str]) -> Feed {
        let mut child = Command::new(bin())
            .arg("filter")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line.unwrap()).is_err() {
                    return;
                }
            }
        });
        Feed { child, lines }
    }

    fn send(&mut self, id: &str, text: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        let line = serde_json::json!({ "id": id, "text": text }).to_string();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// The next output line; the generous limit only keeps a broken build from hanging.
    fn next(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(60))
            .expect("a decided document is written while the input stays open")
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Exit status, stderr and whatever stdout still held.
    fn finish(mut self) -> (Option<i32>, String, Vec<String>) {
        // The input stays open until the process has exited: it stops for the signal alone.
        let stdin = self.child.stdin.take();
        let status = self.child.wait().unwrap();
        drop(stdin);
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let rest = self.lines.iter().collect();
        (status.code(), stderr, rest)
    }
}

const A: &str = "مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة";
const A2: &str = "مجلس الامن يصوت اليوم على قرار لوقف دائم لاطلاق النار بغزة";
const B: &str = "ترامب يصف مكالمته مع بوتين بالجيدة";

#[cfg(unix)]
fn stopped_by(signal: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let dups = dir.path().join("dups.jsonl");
    let mut feed = Feed::start(&["-", "--duplicates", s(&dups)]);
    // Each first-seen document comes out while the input is still open.
    feed.send("a", A);
    assert_eq!(json(&feed.next())["id"], "a");
    feed.send("a2", A2);
    feed.send("b", B);
    assert_eq!(json(&feed.next())["id"], "b");
    feed.signal(signal);
    let (status, stderr, rest) = feed.finish();
    assert_eq!(status, Some(code), "{stderr}");
    assert!(rest.is_empty());
    assert!(
        stderr.contains(&format!("stopped by SIG{signal}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 records read: 2 first-seen, 1 duplicates"),
        "{stderr}"
    );
    // The duplicate was written whole before the exit.
    let dups = std::fs::read_to_string(&dups).unwrap();
    assert!(dups.ends_with("}\n"));
    assert_eq!(json(&dups)["duplicate_of"], "a");
}

#[cfg(unix)]
#[test]
fn sigterm_flushes_what_was_decided_and_exits_143() {
    stopped_by("TERM", 143);
}

#[cfg(unix)]
#[test]
fn sigint_flushes_what_was_decided_and_exits_130() {
    stopped_by("INT", 130);
}

#[test]
fn the_index_is_checked_and_grows_by_first_seen_documents() {
    let dir = tempfile::tempdir().unwrap();
    let input = samples(dir.path());
    let db = dir.path().join("news.db");
    run(&["index", "create", s(&db)]);
    let first = run(&["filter", s(&input), "--db", s(&db), "--add", "--annotate"]);
    let first: Vec<Value> = lines(&first).into_iter().map(json).collect();
    let first_seen: Vec<&str> = first
        .iter()
        .filter(|d| d["duplicate_of"].is_null())
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    // 28: `oil-3` and `weather-2` repeat shorter texts of their stories (cross-length).
    assert_eq!(first_seen.len(), 28);
    // The index holds exactly the first-seen documents, at their input positions.
    let stored = support::stored_ids(&db);
    assert_eq!(stored, first_seen);
    assert_eq!(support::integrity(&db), "ok");

    // Fed again, every document repeats an indexed one: a first-seen one itself, a duplicate
    // the one it repeated; the stories keep their ids.
    let again = run(&["filter", s(&input), "--db", s(&db), "--annotate"]);
    let again: Vec<Value> = lines(&again).into_iter().map(json).collect();
    assert_eq!(again.len(), first.len());
    for (a, f) in again.iter().zip(&first) {
        assert_eq!(a["cluster_id"], f["cluster_id"], "{a}");
        let expected = if f["duplicate_of"].is_null() {
            &f["id"]
        } else {
            &f["duplicate_of"]
        };
        assert_eq!(&a["duplicate_of"], expected);
    }

    // A new story continues the index's positions.
    let new = dir.path().join("new.jsonl");
    std::fs::write(
        &new,
        "{\"id\":\"n1\",\"text\":\"افتتح وزير النقل طريقا جديدا يربط المدينتين\"}\n",
    )
    .unwrap();
    let out = run(&["filter", s(&new), "--db", s(&db), "--add", "--annotate"]);
    assert_eq!(json(out.trim_end())["cluster_id"], 45);
    assert_eq!(support::stored_ids(&db).len(), 29);

    // Signature flags must agree with the index's.
    let err = fails(&["filter", s(&input), "--db", s(&db), "--threshold", "0.9"]);
    assert!(err.contains("ask for other settings"), "{err}");
    let err = fails(&["filter", s(&input), "--add"]);
    assert!(err.contains("--db"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_killed_run_keeps_the_committed_batches() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("news.db");
    run(&["index", "create", s(&db)]);
    let mut feed = Feed::start(&[
        "-",
        "--db",
        s(&db),
        "--add",
        "--batch-size",
        "10",
        "--annotate",
    ]);
    let mut first_seen = Vec::new();
    for line in support::corpus(25, 9) {
        let doc = json(&line);
        feed.send(doc["id"].as_str().unwrap(), doc["text"].as_str().unwrap());
        let out = json(&feed.next());
        if out["duplicate_of"].is_null() {
            first_seen.push(out["id"].as_str().unwrap().to_string());
        }
    }
    feed.child.kill().unwrap();
    feed.child.wait().unwrap();
    // Whole batches of ten records were committed (more if the feed idled for a second
    // between documents); the rest died with the process.
    let stored = support::stored_ids(&db);
    assert_eq!(support::integrity(&db), "ok");
    // The first two batches covered records g00000 to g00019.
    let committed_by_count = first_seen
        .iter()
        .filter(|id| id.as_str() < "g00020")
        .count();
    assert!(stored.len() >= committed_by_count, "{stored:?}");
    assert_eq!(stored, first_seen[..stored.len()]);
}

#[test]
fn a_flood_of_copies_verifies_one_pair_per_copy() {
    let dir = tempfile::tempdir().unwrap();
    let n = 3000;
    let headline = "عاجل: مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار";
    let feed: Vec<String> = (0..n)
        .map(|i| format!("{{\"id\":\"h{i}\",\"title\":\"{headline}\"}}"))
        .collect();
    let input = dir.path().join("flood.jsonl");
    write_lines(&input, &feed);
    // In memory, and with all but one copy in the window's database on disk.
    for extra in [
        &[][..],
        &["--memory-limit", "1K", "--temp-dir", s(dir.path())][..],
    ] {
        let out = mukarrar()
            .args(["filter", s(&input)])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(lines(&String::from_utf8(out.stdout).unwrap()).len(), 1);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(count_before(&stderr, "duplicates"), n - 1, "{stderr}");
        assert_eq!(
            count_before(&stderr, "candidate pairs verified"),
            n - 1,
            "{stderr}"
        );
        if !extra.is_empty() {
            assert_eq!(
                count_before(&stderr, "documents of the window moved to disk"),
                n - 1,
                "{stderr}"
            );
        }
    }
}

/// Runs `filter` on a one-document feed with `--temp-dir temp_dir` (None: a file of the
/// feed's folder), checks that it failed before writing anything, and returns its stderr.
fn refused_temp_dir(temp_dir: Option<&std::ffi::OsStr>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("feed.jsonl");
    write_lines(&input, &[r#"{"id":"a","text":"خبر"}"#.to_string()]);
    let temp_dir = match temp_dir {
        Some(name) => {
            let folder = dir.path().join(name);
            std::fs::create_dir(&folder).unwrap();
            folder
        }
        None => input.clone(),
    };
    let out = mukarrar()
        .args(["filter", s(&input), "--memory-limit", "1K", "--temp-dir"])
        .arg(&temp_dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[cfg(unix)]
#[test]
fn a_temp_dir_whose_name_is_not_utf8_is_refused_before_reading() {
    use std::os::unix::ffi::OsStrExt;
    let stderr = refused_temp_dir(Some(std::ffi::OsStr::from_bytes(b"tmp-\xff")));
    assert!(
        stderr.contains("--temp-dir") && stderr.contains("not UTF-8"),
        "{stderr}"
    );
}

#[test]
fn a_temp_dir_that_is_not_a_folder_is_refused_before_reading() {
    let stderr = refused_temp_dir(None);
    assert!(
        stderr.contains("--temp-dir") && stderr.contains("not a folder"),
        "{stderr}"
    );
}
