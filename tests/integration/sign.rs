//! Tests of `mukarrar sign`: its output carries everything a distributed job needs to find the
//! clusters of `mukarrar cluster`, keyed input gives one output line per input line, and it
//! behaves as a filter in a pipeline (flushes, closed pipes, invalid records).

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command as Process, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use mukarrar::cluster;
use mukarrar::lsh::Bucket;
use mukarrar::pipeline::Settings;
use mukarrar::settings::Signed;
use mukarrar::sign::{SignedDoc, SkipReason, SkippedLine};
use tempfile::TempDir;

use crate::support;
use support::{mukarrar, sample, write};

fn stdout(args: &[&str]) -> String {
    let out = mukarrar()
        .args(args)
        .assert()
        .success()
        .get_output()
        .clone();
    String::from_utf8(out.stdout).unwrap()
}

fn signed(args: &[&str]) -> Vec<SignedDoc> {
    stdout(args)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn settings(flags: &[&str]) -> Settings {
    let mut args = vec!["sign", "--print-settings"];
    args.extend_from_slice(flags);
    serde_json::from_str(&stdout(&args)).unwrap()
}

/// Clusters `sign`'s output the way `cluster` does (buckets of equal band keys of the
/// signatures and of the heads, every pair verified from the signatures and words, connected
/// components) and prints the CSV report.
fn cluster_signed(docs: &[SignedDoc], settings: &Settings) -> String {
    let mut by_key: HashMap<(usize, i64), Vec<u32>> = HashMap::new();
    for (i, d) in docs.iter().enumerate() {
        assert_eq!(d.pos, i as u64);
        // The head's keys come after the signature's, numbered after its bands.
        for (band, &key) in d.b.iter().chain(&d.hb).enumerate() {
            by_key.entry((band, key)).or_default().push(i as u32);
        }
    }
    let buckets: Vec<Bucket> = by_key
        .into_iter()
        .filter(|(_, m)| m.len() > 1)
        .map(|((band, _), members)| Bucket { band, members })
        .collect();
    let sigs: Vec<Vec<u32>> = docs.iter().map(|d| d.signature().unwrap()).collect();
    let words: Vec<Vec<u64>> = docs.iter().map(|d| d.words()).collect();
    let signed = |i: u32| Signed {
        sig: &sigs[i as usize],
        traits: docs[i as usize].traits(),
        words: &words[i as usize],
        set: None,
    };
    let similarity = |a: u32, b: u32| settings.similarity(&signed(a), &signed(b));
    let linked = |a: u32, b: u32| settings.linked(&signed(a), &signed(b));
    let mut uf = cluster::link(docs.len(), &buckets, &linked);
    let groups = cluster::groups(
        uf.groups(),
        settings.representative,
        &|i| docs[i as usize].chars as usize,
        &similarity,
    );
    let mut csv = String::from("cluster_id,doc_id,similarity,is_representative\n");
    for g in &groups {
        for (&m, s) in g.members.iter().zip(&g.similarities) {
            csv.push_str(&format!(
                "{},{},{:.4},{}\n",
                g.members[0],
                docs[m as usize].id,
                s,
                m == g.representative
            ));
        }
    }
    csv
}

#[test]
fn grouping_sign_output_gives_the_clusters_of_cluster() {
    let input = sample("labelled.jsonl");
    let input = input.to_str().unwrap();
    for flags in [
        vec![],
        vec![
            "--measure",
            "containment",
            "--representative",
            "longest",
            "--threshold",
            "0.6",
        ],
        vec![
            "--shingle",
            "char",
            "--num-perm",
            "64",
            "--threshold",
            "0.7",
        ],
    ] {
        let settings = settings(&flags);
        let mut sign_args = vec!["sign", input, "--with-signature"];
        sign_args.extend_from_slice(&flags);
        let docs = signed(&sign_args);
        let mut cluster_args = vec!["cluster", input, "--format", "csv", "-q"];
        cluster_args.extend_from_slice(&flags);
        let want = stdout(&cluster_args);
        assert!(want.lines().count() > 3, "the sample has clusters: {want}");
        assert_eq!(cluster_signed(&docs, &settings), want, "flags {flags:?}");
    }
}

#[test]
fn printed_settings_are_those_of_cluster() {
    let input = sample("headlines.jsonl");
    for flags in [
        vec![],
        vec![
            "--threshold",
            "0.7",
            "--shingle",
            "char",
            "--num-perm",
            "64",
            "--measure",
            "containment",
            "--representative",
            "longest",
            "--lsh-objective",
            "recall",
        ],
        vec!["--bands", "16", "--rows", "8", "--normalize", "light"],
    ] {
        let mut args = vec!["cluster", input.to_str().unwrap(), "--format", "json", "-q"];
        args.extend_from_slice(&flags);
        let report: serde_json::Value = serde_json::from_str(&stdout(&args)).unwrap();
        let mut params = report["params"].clone();
        params.as_object_mut().unwrap().remove("inputs");
        let printed = serde_json::to_value(settings(&flags)).unwrap();
        assert_eq!(printed, params, "flags {flags:?}");
    }
    let bad = mukarrar()
        .args(["sign", "--print-settings", "--bands", "20", "--rows", "7"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--bands 20 × --rows 7"));
}

#[test]
fn band_keys_and_signatures_follow_the_documents() {
    let input = sample("labelled.jsonl");
    let docs = signed(&["sign", input.to_str().unwrap(), "--with-signature"]);
    // The settings `sign` ran with (its default seed is not the library's): the heads' keys
    // leave out common words by their hashes under that seed.
    let settings = settings(&[]);
    let heads = mukarrar::cross::Heads::new(&settings);
    assert_eq!(docs.len(), 34);
    for (i, d) in docs.iter().enumerate() {
        assert_eq!((d.pos, d.line), (i as u64, i as u64 + 1));
        assert!(!d.empty && !d.id_from_line && d.key.is_none());
        assert_eq!(d.b.len(), settings.lsh.bands);
        let sig = d.signature().unwrap();
        assert_eq!(sig.len(), settings.sig_len());
        for (band, &key) in d.b.iter().enumerate() {
            assert_eq!(key as u64, settings.lsh.band_key(&sig, band));
        }
        // The head's keys: a MinHash of the head's words, banded the same way.
        let words = d.words();
        let head: Vec<u64> = d.hb.iter().map(|&k| k as u64).collect();
        assert!(d.h > 0 && d.h as usize <= words.len());
        assert_eq!(head, heads.keys(&words[..d.h as usize]));
    }
    // The two exact republications of the health story share every band key.
    let by_id: HashMap<&str, &SignedDoc> = docs.iter().map(|d| (d.id.as_str(), d)).collect();
    assert_eq!(by_id["health-wire"].b, by_id["health-plain-spelling"].b);
    // Without --with-signature there is no signature, and the keys are the same.
    let lean = signed(&["sign", input.to_str().unwrap()]);
    assert!(lean.iter().all(|d| d.sig.is_none()));
    assert!(lean
        .iter()
        .zip(&docs)
        .all(|(a, b)| a.b == b.b && a.n == b.n));
    // Thread counts change nothing.
    let one = stdout(&["-j", "1", "sign", input.to_str().unwrap()]);
    let two = stdout(&["-j", "2", "sign", input.to_str().unwrap()]);
    assert_eq!(one, two);
}

#[test]
fn empty_documents_have_no_band_keys() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "e.jsonl",
        "{\"id\":\"a\",\"title\":\" ؟ ، \"}\n{\"id\":\"b\",\"title\":\"نص عربي قصير\"}\n",
    );
    let docs = signed(&["sign", &path]);
    assert!(docs[0].empty && docs[0].b.is_empty() && docs[0].n == 0);
    assert!(!docs[1].empty && !docs[1].b.is_empty());
}

#[test]
fn ids_from_line_numbers_are_marked() {
    let dir = TempDir::new().unwrap();
    let jsonl = write(
        &dir,
        "ids.jsonl",
        "{\"id\":\"x\",\"title\":\"أ\"}\n\n{\"title\":\"ب\"}\n{\"id\":null,\"title\":\"ت\"}\n{\"id\":7,\"title\":\"ث\"}\n",
    );
    let docs = signed(&["sign", &jsonl]);
    let got: Vec<(&str, bool, u64, u64)> = docs
        .iter()
        .map(|d| (d.id.as_str(), d.id_from_line, d.line, d.pos))
        .collect();
    assert_eq!(
        got,
        [
            ("x", false, 1, 0),
            ("3", true, 3, 1),
            ("4", true, 4, 2),
            ("7", false, 5, 3)
        ]
    );
    let csv = write(&dir, "ids.csv", "id,title\na,أ\n,ب\n");
    let docs = signed(&["sign", &csv]);
    assert_eq!((docs[1].id.as_str(), docs[1].id_from_line), ("3", true));
    assert!(!docs[0].id_from_line);
    let folder = dir.path().join("texts");
    fs::create_dir(&folder).unwrap();
    fs::write(folder.join("one.txt"), "نص").unwrap();
    let docs = signed(&["sign", folder.to_str().unwrap()]);
    assert_eq!((docs[0].id.as_str(), docs[0].id_from_line), ("one", false));
}

#[test]
fn invalid_records_follow_the_rules_of_cluster() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "bad.jsonl",
        "{\"id\":\"a\",\"title\":\"أ\"}\nnot json\n{\"id\":\"b\",\"title\":\"ب\"}\n",
    );
    let out = mukarrar()
        .args(["sign", &path])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.jsonl:2: invalid JSON"), "{err}");
    // What was signed before the bad record has been written.
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);

    let out = mukarrar()
        .args(["sign", &path, "--skip-invalid"])
        .assert()
        .success()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: skipped") && err.contains("bad.jsonl:2"),
        "{err}"
    );
    let docs: Vec<SignedDoc> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(&str, u64, u64)> = docs
        .iter()
        .map(|d| (d.id.as_str(), d.line, d.pos))
        .collect();
    assert_eq!(got, [("a", 1, 0), ("b", 3, 1)]);
}

/// One output line per input line, in order: a document or a skipped line.
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum KeyedOut {
    Skipped(SkippedLine),
    Doc(SignedDoc),
}

#[test]
fn keyed_input_gives_one_line_per_input_line() {
    let input = "k1\t{\"id\":\"a\",\"title\":\"أ\"}\n\
                 k2\t   \n\
                 k:3\tnot json\n\
                 k4\t{\"title\":\"ب\"}\r\n\
                 k5\t{\"id\":\"c\"}\n\
                 k6\t\n";
    let out = mukarrar()
        .args(["sign", "--keyed", "--skip-invalid", "-q"])
        .write_stdin(input)
        .assert()
        .success()
        .get_output()
        .clone();
    let lines: Vec<KeyedOut> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "{lines:?}");
    let summary: Vec<String> = lines
        .iter()
        .map(|l| match l {
            KeyedOut::Doc(d) => format!(
                "{} doc {} line {} pos {} {}",
                d.key.as_deref().unwrap(),
                d.id,
                d.line,
                d.pos,
                d.id_from_line
            ),
            KeyedOut::Skipped(s) => format!(
                "{} {} line {}{}",
                s.key,
                match s.skipped {
                    SkipReason::Blank => "blank",
                    SkipReason::Invalid => "invalid",
                },
                s.line,
                s.error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "k1 doc a line 1 pos 0 false",
            "k2 blank line 2",
            "k:3 invalid line 3: invalid JSON: expected ident at column 2",
            "k4 doc 4 line 4 pos 1 true",
            "k5 invalid line 5: none of the text fields [\"title\", \"text\"] is present",
            "k6 blank line 6",
        ]
    );
}

#[test]
fn keyed_input_errors_name_the_line_and_its_key() {
    let out = mukarrar()
        .args(["sign", "--keyed"])
        .write_stdin("k1\t{\"id\":\"a\",\"title\":\"أ\"}\nk2\tnot json\n")
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("-:2: invalid JSON") && err.contains("key k2"),
        "{err}"
    );

    let out = mukarrar()
        .args(["sign", "--keyed"])
        .write_stdin("k1\t{\"id\":\"a\",\"title\":\"أ\"}\nno key here\n")
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("keyed input line 2 has no tab"), "{err}");

    mukarrar()
        .args(["sign", "--keyed", "--input-format", "csv"])
        .write_stdin("")
        .assert()
        .code(2);
}

fn many_docs(n: usize) -> String {
    (0..n)
        .map(|i| format!("{{\"id\":\"d{i}\",\"title\":\"خبر رقم {i} عن الطقس في الرياض\"}}\n"))
        .collect()
}

#[test]
fn a_closed_output_pipe_is_not_an_error() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "many.jsonl", &many_docs(20_000));
    let mut child = Process::new(env!("CARGO_BIN_EXE_mukarrar"))
        .args(["sign", &path, "--with-signature", "-q"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("{\"line\":1,"), "{first}");
    // The reader is dropped here: the pipe closes with most of the output unwritten.
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{status} {err}");
    assert_eq!(err, "");
}

#[test]
fn each_batch_is_written_before_more_input_arrives() {
    let mut child = Process::new(env!("CARGO_BIN_EXE_mukarrar"))
        .args(["sign", "-", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"{\"id\":\"first\",\"title\":\"\xd8\xa3\"}\n")
        .unwrap();
    stdin.flush().unwrap();
    // Standard input stays open: the line must come out anyway. The channel only keeps a
    // broken build from hanging the test suite.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = tx.send(lines.next().map(|l| l.unwrap()));
    });
    let line = rx.recv_timeout(Duration::from_secs(120));
    drop(stdin);
    child.wait().unwrap();
    let line = line.expect("no output while input was still open").unwrap();
    let doc: SignedDoc = serde_json::from_str(&line).unwrap();
    assert_eq!(doc.id, "first");
}
