//! End-to-end tests of the `mukarrar` binary on the bundled samples and on small inputs
//! written per test.

use std::fs;

use predicates::prelude::*;
use tempfile::TempDir;

use crate::support;
use support::{count_before, mukarrar, s, sample, write};

/// Parses the CSV report into (cluster_id, doc_id, similarity, is_representative) rows.
fn rows(csv: &str) -> Vec<(String, String, f64, bool)> {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("cluster_id,doc_id,similarity,is_representative")
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_string(),
                f[1].to_string(),
                f[2].parse().unwrap(),
                f[3] == "true",
            )
        })
        .collect()
}

/// Cluster id of each clustered document.
fn cluster_of(csv: &str) -> std::collections::HashMap<String, String> {
    rows(csv).into_iter().map(|(c, d, _, _)| (d, c)).collect()
}

fn run_csv(args: &[&str]) -> String {
    let out = mukarrar()
        .args(args)
        .args(["--format", "csv", "-q"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn seed_headlines_cluster_as_expected() {
    let csv = run_csv(&["cluster", sample("headlines.jsonl").to_str().unwrap()]);
    let c = cluster_of(&csv);
    // The Security Council headline, repeated verbatim, is one cluster.
    let vote = c.get("seed-readalso").expect("repeated headline clustered");
    assert_eq!(c.get("seed-similar-10"), Some(vote), "{csv}");
    // The two "leaders urged to work for the two-state solution" headlines are one cluster.
    let urge = c
        .get("seed-similar-01")
        .expect("two-state headlines clustered");
    assert_eq!(c.get("seed-similar-02"), Some(urge), "{csv}");
    assert_ne!(vote, urge);
    // The veto headline is in neither.
    let veto = c.get("seed-similar-07");
    assert!(veto != Some(vote) && veto != Some(urge), "{csv}");
}

#[test]
fn labelled_sample_groups_are_found() {
    let csv = run_csv(&["cluster", sample("labelled.jsonl").to_str().unwrap()]);
    let c = cluster_of(&csv);
    for (a, b) in [
        ("health-wire", "health-persian-keys"),
        ("football-1", "football-3"),
        ("bank-1", "bank-2"),
        ("quake-1", "quake-3"),
    ] {
        assert!(c.contains_key(a), "{a} not clustered:\n{csv}");
        assert_eq!(c.get(a), c.get(b), "{a} and {b}:\n{csv}");
    }
    // Same template, different stories.
    assert_ne!(c.get("road-1"), c.get("expo-1").or(Some(&"none".into())));
}

#[test]
fn output_is_identical_for_one_and_two_threads() {
    let input = sample("labelled.jsonl");
    let one = run_csv(&["cluster", input.to_str().unwrap(), "--threads", "1"]);
    let two = run_csv(&["cluster", input.to_str().unwrap(), "--threads", "2"]);
    assert!(!rows(&one).is_empty());
    assert_eq!(one, two);
}

#[test]
fn csv_rows_follow_the_contract() {
    let csv = run_csv(&["cluster", sample("labelled.jsonl").to_str().unwrap()]);
    let rows = rows(&csv);
    let mut reps = std::collections::HashMap::new();
    for (cluster, _, sim, is_rep) in &rows {
        assert!((0.0..=1.0).contains(sim));
        if *is_rep {
            assert_eq!(*sim, 1.0);
            *reps.entry(cluster.clone()).or_insert(0) += 1;
        }
    }
    for cluster in rows.iter().map(|r| &r.0) {
        assert_eq!(
            reps.get(cluster),
            Some(&1),
            "one representative per cluster"
        );
    }
}

#[test]
fn include_singletons_reports_every_document_once() {
    let csv = run_csv(&[
        "cluster",
        sample("labelled.jsonl").to_str().unwrap(),
        "--include-singletons",
    ]);
    let ids: Vec<String> = rows(&csv).into_iter().map(|r| r.1).collect();
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), 34);
    assert_eq!(unique.len(), 34);
}

#[test]
fn invalid_json_names_file_and_line() {
    let dir = TempDir::new().unwrap();
    let p = write(
        &dir,
        "bad.jsonl",
        "{\"id\":\"a\",\"text\":\"نص اول\"}\n{\"id\":\"b\",\"text\":\n{\"id\":\"c\",\"text\":\"نص\"}\n",
    );
    mukarrar()
        .args(["cluster", &p])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{p}:2")))
        .stderr(predicate::str::contains("invalid JSON"));
}

#[test]
fn skip_invalid_counts_and_warns() {
    let dir = TempDir::new().unwrap();
    let p = write(
        &dir,
        "bad.jsonl",
        "{\"id\":\"a\",\"text\":\"نص اول هنا\"}\n[1,2]\n{\"id\":\"c\",\"body\":\"x\"}\n{\"id\":\"d\",\"text\":\"نص اول هنا\"}\n",
    );
    mukarrar()
        .args(["cluster", &p, "--skip-invalid", "--format", "csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains("0,a,1.0000,true"))
        .stdout(predicate::str::contains("0,d,1.0000,false"))
        .stderr(predicate::str::contains(format!("{p}:2")))
        .stderr(predicate::str::contains(format!("{p}:3")))
        .stderr(predicate::str::contains("2 skipped as invalid"));
}

#[test]
fn duplicate_ids_are_an_error_naming_both_places() {
    let dir = TempDir::new().unwrap();
    let a = write(&dir, "a.jsonl", "{\"id\":\"x\",\"text\":\"اول\"}\n");
    let b = write(
        &dir,
        "b.jsonl",
        "{\"id\":\"y\",\"text\":\"ثاني\"}\n{\"id\":\"x\",\"text\":\"ثالث\"}\n",
    );
    mukarrar()
        .args(["cluster", &a, &b])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{b}:2")))
        .stderr(predicate::str::contains(format!("{a}:1")))
        .stderr(predicate::str::contains("duplicate id `x`"));
}

#[test]
fn empty_documents_are_counted_and_never_clustered() {
    let dir = TempDir::new().unwrap();
    let p = write(
        &dir,
        "e.jsonl",
        "{\"id\":\"1\",\"text\":\"\"}\n{\"id\":\"2\",\"text\":\"«»\"}\n{\"id\":\"3\",\"text\":\"   \"}\n",
    );
    mukarrar()
        .args(["cluster", &p, "--format", "csv"])
        .assert()
        .success()
        .stdout("cluster_id,doc_id,similarity,is_representative\n")
        .stderr(predicate::str::contains("3 empty after normalization"));
}

#[test]
fn output_file_is_replaced_only_on_success() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("report.csv");
    fs::write(&out, "previous report\n").unwrap();
    let bad = write(
        &dir,
        "bad.jsonl",
        "{\"id\":\"a\",\"text\":\"x\"}\nnot json\n",
    );
    mukarrar()
        .args(["cluster", &bad, "-o", out.to_str().unwrap()])
        .assert()
        .code(2);
    assert_eq!(fs::read_to_string(&out).unwrap(), "previous report\n");
    mukarrar()
        .args([
            "cluster",
            sample("headlines.jsonl").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    let written = fs::read_to_string(&out).unwrap();
    assert!(written.starts_with("cluster_id,doc_id,similarity,is_representative\n"));
    // No temporary files are left behind.
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn standard_input_is_read_with_a_dash() {
    let input = fs::read_to_string(sample("headlines.jsonl")).unwrap();
    let out = mukarrar()
        .args(["cluster", "-", "--format", "jsonl", "-q"])
        .write_stdin(input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("\"seed-readalso\""), "{text}");
}

#[test]
fn fail_on_duplicates_sets_status_one() {
    mukarrar()
        .args([
            "cluster",
            sample("headlines.jsonl").to_str().unwrap(),
            "--fail-on-duplicates",
            "-q",
            "--format",
            "csv",
        ])
        .assert()
        .code(1);
}

#[test]
fn missing_input_file_is_a_clear_error() {
    mukarrar()
        .args(["cluster", "no/such/file.jsonl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/file.jsonl"));
}

#[test]
fn bad_settings_name_the_flag() {
    mukarrar()
        .args(["cluster", "-", "--threshold", "1.5"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--threshold"));
    mukarrar()
        .args(["cluster", "-", "--bands", "100", "--rows", "5"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--num-perm"));
}

#[test]
fn params_prints_bands_rows_and_the_s_curve() {
    let out = mukarrar()
        .args(["params", "--threshold", "0.7", "--num-perm", "128"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("bands b = "), "{text}");
    assert!(
        text.contains(
            "word check: long texts from 0.2 to 0.7 are duplicates when their word sets reach 0.55"
        ),
        "{text}"
    );
    let curve: Vec<f64> = text
        .lines()
        .skip_while(|l| !l.starts_with("similarity"))
        .skip(1)
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(curve.len(), 10);
    assert!(curve.windows(2).all(|w| w[0] <= w[1]));
    assert!(curve[0] < 0.01 && curve[9] == 1.0);
}

#[test]
fn normalize_prints_the_normalized_text() {
    mukarrar()
        .args(["normalize", "أعلنت وزارة الصحة"])
        .assert()
        .success()
        .stdout("اعلنت وزاره الصحه\n");
    mukarrar()
        .args(["normalize", "--explain", "أحمد"])
        .assert()
        .success()
        .stdout(predicate::str::contains("R6"));
}

#[test]
fn eval_scores_the_labelled_sample() {
    let out = mukarrar()
        .args([
            "eval",
            sample("labelled.jsonl").to_str().unwrap(),
            "--format",
            "json",
            "-q",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let r = &v["results"][0];
    assert_eq!(r["documents"], 34);
    assert!(r["precision"].as_f64().unwrap() > 0.9, "{v}");
    assert!(r["recall"].as_f64().unwrap() > 0.7, "{v}");
}

#[test]
fn an_html_output_name_writes_the_html_report_with_whole_texts() {
    let dir = TempDir::new().unwrap();
    let page = dir.path().join("report.html");
    mukarrar()
        .args([
            "cluster",
            sample("headlines.jsonl").to_str().unwrap(),
            "-q",
            "-o",
        ])
        .arg(&page)
        .assert()
        .success()
        .stdout("");
    let html = fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"ar\" dir=\"rtl\">"));
    // The whole text of a member, not its preview.
    assert!(html.contains("جوتيريش يحثّ قادة العالم على بذل الجهود لحل الدولتين"));
    // Other formats do not carry the texts.
    let out = mukarrar()
        .args([
            "cluster",
            sample("headlines.jsonl").to_str().unwrap(),
            "-q",
            "--format",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(v["clusters"][0]["members"][0].get("text").is_none(), "{v}");
}

#[test]
fn eval_writes_an_html_page_of_wrong_pairs() {
    let dir = TempDir::new().unwrap();
    let labelled = write(
        &dir,
        "labelled.jsonl",
        "{\"id\": \"a\", \"text\": \"أمطار غزيرة على الرياض اليوم وتحذيرات من السيول\", \"group\": \"rain\"}\n\
         {\"id\": \"b\", \"text\": \"أمطار غزيرة على الرياض اليوم وتحذيرات من السيول\", \"group\": \"flood\"}\n",
    );
    let page = dir.path().join("eval.html");
    mukarrar()
        .args(["eval", &labelled, "-q", "-o"])
        .arg(&page)
        .assert()
        .success();
    let html = fs::read_to_string(&page).unwrap();
    assert!(html.contains("\"mode\":\"eval\""));
    assert!(html.contains("\"k\":\"false-merge\""));
    // -o with another name keeps the text table; --format overrides the name.
    let table = dir.path().join("scores.txt");
    mukarrar()
        .args(["eval", &labelled, "-q", "-o"])
        .arg(&table)
        .assert()
        .success();
    assert!(fs::read_to_string(&table).unwrap().starts_with("file "));
    mukarrar()
        .args(["eval", &labelled, "-q", "--format", "html"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("<!DOCTYPE html>"));
}

#[cfg(unix)]
#[test]
fn output_to_a_fifo_writes_through_it_and_leaves_it_a_fifo() {
    use std::os::unix::fs::FileTypeExt;
    let dir = TempDir::new().unwrap();
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        return; // no mkfifo on this system: nothing to test
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
    };
    mukarrar()
        .args([
            "cluster",
            sample("headlines.jsonl").to_str().unwrap(),
            "-q",
            "-o",
            fifo.to_str().unwrap(),
        ])
        .assert()
        .success();
    let got = reader.join().unwrap();
    assert!(
        got.starts_with("cluster_id,doc_id,similarity,is_representative\n"),
        "{got}"
    );
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[cfg(unix)]
#[test]
fn a_report_file_is_not_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("report.csv");
    mukarrar()
        .args([
            "cluster",
            sample("headlines.jsonl").to_str().unwrap(),
            "-q",
            "-o",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    let probe = dir.path().join("probe");
    fs::write(&probe, "").unwrap();
    let expected = fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        expected
    );
    // Replacing a file keeps that file's permissions.
    fs::set_permissions(&out, fs::Permissions::from_mode(0o640)).unwrap();
    mukarrar()
        .args([
            "cluster",
            sample("headlines.jsonl").to_str().unwrap(),
            "-q",
            "-o",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    assert_eq!(
        fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

/// Thousands of documents (many signing batches, many buckets): copies of the labelled sample
/// with a varying word inserted, and texts shuffled from its words.
fn generated_corpus(dir: &TempDir) -> String {
    let sample = fs::read_to_string(sample("labelled.jsonl")).unwrap();
    let texts: Vec<String> = sample
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect();
    let words: Vec<&str> = texts.iter().flat_map(|t| t.split(' ')).collect();
    let mut out = String::new();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for i in 0..3000 {
        let text = if i % 3 == 0 {
            let base = &texts[next(texts.len())];
            format!("{base} {}", words[next(words.len())])
        } else {
            (0..30)
                .map(|_| words[next(words.len())])
                .collect::<Vec<_>>()
                .join(" ")
        };
        out.push_str(&serde_json::json!({"id": format!("g{i}"), "text": text}).to_string());
        out.push('\n');
    }
    write(dir, "generated.jsonl", &out)
}

#[test]
fn output_is_identical_for_one_and_two_threads_on_thousands_of_documents() {
    let dir = TempDir::new().unwrap();
    let input = generated_corpus(&dir);
    let one = run_csv(&["cluster", &input, "--threads", "1"]);
    let two = run_csv(&["cluster", &input, "--threads", "2"]);
    assert!(rows(&one).len() > 500, "the corpus forms many clusters");
    assert_eq!(one, two);
}

// ── inputs that mean something get read ─────────────────────────────────────────────────

/// Runs mukarrar and returns (exit status, stdout, stderr).
fn outcome(args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    let out = mukarrar().args(args).write_stdin(stdin).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const REPEATED: &str = "مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة";

#[test]
fn a_folder_reads_every_file_by_its_extension_and_names_the_others() {
    let dir = TempDir::new().unwrap();
    let folder = dir.path().join("feed");
    fs::create_dir_all(folder.join("2024")).unwrap();
    let line = |id: &str| format!("{{\"id\":\"{id}\",\"title\":\"{REPEATED}\"}}\n");
    fs::write(folder.join("a.jsonl"), line("j1") + &line("j2")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, line("z1").as_bytes()).unwrap();
    fs::write(folder.join("2024").join("b.jsonl.gz"), gz.finish().unwrap()).unwrap();
    fs::write(folder.join("c.csv"), format!("id,title\nc1,{REPEATED}\n")).unwrap();
    fs::write(folder.join("d.tsv"), format!("id\ttitle\nt1\t{REPEATED}\n")).unwrap();
    fs::write(folder.join("e.txt"), REPEATED).unwrap();
    fs::write(folder.join("notes.md"), "# notes").unwrap();
    fs::write(folder.join("sheet.xlsx"), "PK").unwrap();
    let (code, out, err) = outcome(&["cluster", s(&folder), "--format", "csv"], "");
    assert_eq!(code, Some(0), "{err}");
    let ids: Vec<String> = rows(&out).into_iter().map(|r| r.1).collect();
    assert_eq!(ids, ["z1", "j1", "j2", "c1", "t1", "e"], "{out}");
    assert!(
        err.contains(&format!("warning: {}: 2 files not read", s(&folder))),
        "{err}"
    );
    assert!(err.contains("notes.md, sheet.xlsx"), "{err}");
    assert!(err.contains("6 documents read"), "{err}");
}

#[test]
fn records_without_ids_in_a_folder_are_named_by_file_and_line() {
    let dir = TempDir::new().unwrap();
    let folder = dir.path().join("feed");
    fs::create_dir(&folder).unwrap();
    let line = format!("{{\"title\":\"{REPEATED}\"}}\n");
    fs::write(folder.join("a.jsonl"), &line).unwrap();
    fs::write(folder.join("b.jsonl"), format!("\n{line}")).unwrap();
    let out = run_csv(&["cluster", s(&folder)]);
    let ids: Vec<String> = rows(&out).into_iter().map(|r| r.1).collect();
    assert_eq!(ids, ["a.jsonl:1", "b.jsonl:2"]);
}

#[test]
fn a_folder_without_a_file_to_read_is_an_error_unless_empty_runs_are_allowed() {
    let dir = TempDir::new().unwrap();
    let folder = dir.path().join("docs");
    fs::create_dir(&folder).unwrap();
    fs::write(folder.join("readme.md"), "x").unwrap();
    let (code, out, err) = outcome(&["cluster", s(&folder), "--format", "csv"], "");
    assert_eq!(code, Some(2));
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("no file in this folder can be read"), "{err}");
    assert!(err.contains("it holds only readme.md"), "{err}");
    let (code, out, _) = outcome(
        &["cluster", s(&folder), "--format", "csv", "--allow-empty"],
        "",
    );
    assert_eq!(code, Some(0));
    assert_eq!(out, "cluster_id,doc_id,similarity,is_representative\n");
}

#[test]
fn a_run_that_reads_no_documents_says_why() {
    let dir = TempDir::new().unwrap();
    let empty = write(&dir, "empty.jsonl", "");
    let blank = write(&dir, "blank.jsonl", "\n  \n");
    let (code, out, err) = outcome(&["cluster", &empty, "--format", "csv"], "");
    assert_eq!((code, out.as_str()), (Some(2), ""));
    assert!(
        err.contains(&format!("no documents read: {empty} is empty")),
        "{err}"
    );
    let (code, _, err) = outcome(&["cluster", &blank, "-q"], "");
    assert_eq!(code, Some(2));
    assert!(err.contains(&format!("{blank} holds no records")), "{err}");
    let (code, _, err) = outcome(&["cluster", "-"], "");
    assert_eq!(code, Some(2));
    assert!(err.contains("standard input is empty"), "{err}");
    for command in [&["filter"][..], &["sign"], &["eval"]] {
        let (code, _, err) = outcome(command, "\n");
        assert_eq!(code, Some(2), "{command:?}: {err}");
        assert!(err.contains("no documents read"), "{command:?}: {err}");
        let mut allowed = command.to_vec();
        allowed.push("--allow-empty");
        assert_eq!(outcome(&allowed, "\n").0, Some(0), "{command:?}");
    }

    let invalid = write(
        &dir,
        "invalid.jsonl",
        "{\"id\":\"a\",\"title\":1.5e999}\n[]\n",
    );
    let (code, _, err) = outcome(&["cluster", &invalid, "--skip-invalid"], "");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("all 2 records were invalid and skipped (the first:"),
        "{err}"
    );
}

#[test]
fn a_misnamed_id_field_is_an_error_listing_the_fields() {
    let headlines = sample("headlines.jsonl");
    let (code, out, err) = outcome(
        &[
            "cluster",
            s(&headlines),
            "--id-field",
            "doc_id",
            "--format",
            "csv",
        ],
        "",
    );
    assert_eq!((code, out.as_str()), (Some(2), ""));
    assert!(
        err.contains(
            "the id field `doc_id` is not in the first record (the record has `id`, `title`"
        ),
        "{err}"
    );
    assert!(err.contains("did you mean `id` for `doc_id`?"), "{err}");
    // Named and present, or not named at all: read as before.
    run_csv(&["cluster", s(&headlines), "--id-field", "id"]);

    let dir = TempDir::new().unwrap();
    let csv = write(&dir, "a.csv", "url,title\nu1,نص\n");
    let (code, _, err) = outcome(&["cluster", &csv, "--id-field", "URL"], "");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("the id column `URL` is not in the header (the header has `url`, `title`; did you mean `url` for `URL`?)"),
        "{err}"
    );
}

#[test]
fn a_misnamed_text_field_is_one_error_listing_the_fields() {
    let headlines = sample("headlines.jsonl");
    for skip in [false, true] {
        let mut args = vec!["cluster", s(&headlines), "--text-field", "body"];
        if skip {
            args.push("--skip-invalid");
        }
        let (code, out, err) = outcome(&args, "");
        assert_eq!((code, out.as_str()), (Some(2), ""), "{err}");
        assert!(
            err.contains("none of the 11 records has a text field `body` (the first record has `id`, `title`)"),
            "{err}"
        );
        assert!(!err.contains("warning"), "{err}");
    }
}

#[test]
fn no_input_reads_standard_input_when_it_is_not_a_terminal() {
    let headlines = fs::read_to_string(sample("headlines.jsonl")).unwrap();
    let (code, out, err) = outcome(&["cluster", "--format", "csv"], &headlines);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, run_csv(&["cluster", s(&sample("headlines.jsonl"))]));
}

/// Runs `command` with a terminal as standard input (through `script`, from util-linux), or
/// returns `None`, saying so, where there is no `script`.
fn on_a_terminal(command: &str) -> Option<String> {
    let script = std::process::Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output();
    match script {
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        Err(e) => {
            eprintln!("SKIPPED: no `script` to give mukarrar a terminal ({e})");
            None
        }
    }
}

#[test]
fn no_input_on_a_terminal_is_a_hint_not_a_wait() {
    let bin = support::bin();
    for command in [
        "cluster",
        "filter",
        "sign",
        "normalize",
        "eval",
        "index add x.db",
    ] {
        // `timeout` ends a run that would wait for the terminal.
        let line = format!("timeout 20 {} {command}; echo status=$?", bin.display());
        let Some(out) = on_a_terminal(&line) else {
            return;
        };
        assert!(
            out.contains("or use - for standard input"),
            "{command}: {out}"
        );
        assert!(out.contains("status=2"), "{command}: {out}");
    }
}

#[test]
fn normalize_refuses_json_lines() {
    let headlines = fs::read_to_string(sample("headlines.jsonl")).unwrap();
    let (code, out, err) = outcome(&["normalize", "-"], &headlines);
    assert_eq!((code, out.as_str()), (Some(2), ""));
    assert!(
        err.contains(
            "standard input, line 1: this is a JSON object, and normalize reads plain text"
        ),
        "{err}"
    );
    assert!(err.contains("jq -r .title"), "{err}");
    // Plain text that merely starts with a brace is text.
    let (code, out, _) = outcome(&["normalize"], "{ملاحظة} نص\n");
    assert_eq!(code, Some(0));
    assert_eq!(out.lines().count(), 1);
}

// ── arguments ───────────────────────────────────────────────────────────────────────────

#[test]
fn every_command_checks_its_numbers_before_any_work() {
    let headlines = sample("headlines.jsonl");
    let h = s(&headlines);
    let cases: &[(&[&str], &str)] = &[
        (
            &["params", "-t", "1.5"],
            "--threshold 1.5 is out of range (greater than 0, at most 1)",
        ),
        (
            &["cluster", h, "-t", "-0.2"],
            "--threshold -0.2 is out of range (greater than 0, at most 1)",
        ),
        (
            &["params", "--threshold=-0.2"],
            "--threshold -0.2 is out of range",
        ),
        (
            &["cluster", h, "--short-threshold", "-1"],
            "--short-threshold -1 is out of range",
        ),
        (
            &["cluster", h, "--num-perm", "1000000"],
            "--num-perm 1000000 is out of range (1 to 4096)",
        ),
        (
            &["params", "--num-perm", "10000000"],
            "--num-perm 10000000 is out of range (1 to 4096)",
        ),
        (
            &["params", "--num-perm", "-5"],
            "-5 is negative: give a whole number, 0 or more",
        ),
        (
            &[
                "params",
                "--bands",
                "100000000000",
                "--rows",
                "100000000000",
            ],
            "--bands 100000000000 is out of range (1 to --num-perm 128)",
        ),
        (
            &["sign", h, "--bands", "64", "--rows", "3"],
            "--bands 64 × --rows 3 = 192 exceeds --num-perm 128",
        ),
        (
            &["-j", "10000", "params"],
            "--threads 10000 is out of range (1 to",
        ),
        (&["-j", "0", "params"], "--threads 0 is out of range"),
        (&["-j", "-3", "params"], "-3 is negative"),
        (&["filter", h, "--window", "-5"], "-5 is negative"),
        (
            &["filter", h, "--window", "0"],
            "0 is out of range: give 1 or more",
        ),
        (
            &["filter", h, "--window-days", "-1", "--date-field", "d"],
            "--window-days -1 must be a positive number of days",
        ),
        (&["eval", h, "--explain", "-1"], "-1 is negative"),
        (&["cluster", h, "--lead-weight", "-2"], "-2 is negative"),
    ];
    for (args, message) in cases {
        let err = support::fails(args);
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
    }
}

#[test]
fn an_output_extension_of_no_format_is_an_error() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out.xlsx");
    let headlines = sample("headlines.jsonl");
    let err = support::fails(&["cluster", s(&headlines), "-o", s(&out)]);
    assert!(
        err.contains("`.xlsx` is not the extension of an output format (known: .txt, .json, .jsonl, .ndjson, .csv, .html, .htm, .parquet); give --format"),
        "{err}"
    );
    assert!(!out.exists());
    let err = support::fails(&["eval", s(&sample("labelled.jsonl")), "-o", s(&out)]);
    assert!(err.contains("(known: .txt, .json, .html, .htm)"), "{err}");
    // --format says what to write whatever the name.
    mukarrar()
        .args([
            "-q",
            "cluster",
            s(&headlines),
            "-o",
            s(&out),
            "--format",
            "csv",
        ])
        .assert()
        .success();
    assert!(fs::read_to_string(&out).unwrap().starts_with("cluster_id,"));
}

#[test]
fn a_missing_input_is_named_once() {
    let err = support::fails(&["cluster", "nosuch.jsonl"]);
    assert_eq!(
        err.trim_end(),
        "error: cannot read input nosuch.jsonl: No such file or directory (os error 2)"
    );
}

#[test]
fn keyed_signing_answers_every_line_even_without_text_fields() {
    let (code, out, err) = outcome(
        &["sign", "--keyed", "--skip-invalid"],
        "k1\t{\"id\":\"a\"}\nk2\t{\"id\":\"b\"}\n",
    );
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    for (line, key) in lines.iter().zip(["k1", "k2"]) {
        assert_eq!(line["key"], key);
        assert_eq!(line["skipped"], "invalid");
    }
}

/// A word of Arabic letters of its own for every number.
fn letters(mut n: usize) -> String {
    const ABC: [char; 16] = [
        'ب', 'ت', 'ج', 'د', 'ر', 'س', 'ش', 'ص', 'ط', 'ع', 'ف', 'ق', 'ك', 'ل', 'م', 'ن',
    ];
    let mut w = String::from("و");
    loop {
        w.push(ABC[n % 16]);
        n /= 16;
        if n == 0 {
            return w;
        }
    }
}

/// `n` copies of one headline and `n` copies of one article, interleaved with `n` ordinary
/// documents.
fn floods(n: usize) -> String {
    let headline = "عاجل: مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار";
    let article: String = (0..200).map(|i| format!("كلمة{i} ")).collect();
    let mut body = String::new();
    for i in 0..n {
        body.push_str(&format!("{{\"id\":\"h{i}\",\"title\":\"{headline}\"}}\n"));
        body.push_str(&format!("{{\"id\":\"a{i}\",\"text\":\"{article}\"}}\n"));
        let own: String = (0..40).map(|w| letters(i * 40 + w) + " ").collect();
        body.push_str(&format!("{{\"id\":\"o{i}\",\"text\":\"{own}\"}}\n"));
    }
    body
}

#[test]
fn thousands_of_identical_documents_verify_a_linear_number_of_pairs() {
    let dir = TempDir::new().unwrap();
    let n = 3000;
    let p = write(&dir, "flood.jsonl", &floods(n));
    for linkage in ["single", "representative"] {
        let out = mukarrar()
            .args(["cluster", &p, "--format", "csv", "--linkage", linkage])
            .output()
            .unwrap();
        assert!(out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        let verified = count_before(&stderr, "candidate pairs verified");
        assert!(verified <= 3 * n, "{linkage}: {verified} pairs verified");
        assert_eq!(count_before(&stderr, "exact copies set aside"), 2 * (n - 1));
        let csv = String::from_utf8(out.stdout).unwrap();
        let c = cluster_of(&csv);
        assert_eq!(c.len(), 2 * n, "{linkage}: the two floods, nothing else");
        assert!((0..n).all(|i| c[&format!("h{i}")] == c["h0"]));
        assert!((0..n).all(|i| c[&format!("a{i}")] == c["a0"]));
        assert_ne!(c["h0"], c["a0"]);
    }
}

#[test]
fn thousands_of_near_copies_verify_a_linear_number_of_pairs_in_both_linkages() {
    // Distinct texts (each copy has a word of its own, in an article's lead), so none is set
    // aside as an exact copy: the floods meet in buckets of thousands in most bands.
    let dir = TempDir::new().unwrap();
    let n = 2000;
    let headline = "عاجل مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار";
    let article: String = (0..200).map(|i| format!("كلمة{i} ")).collect();
    let mut body = String::new();
    for i in 0..n {
        let own = letters(i);
        body.push_str(&format!(
            "{{\"id\":\"h{i}\",\"title\":\"{headline} {own}\"}}\n"
        ));
        body.push_str(&format!(
            "{{\"id\":\"a{i}\",\"text\":\"{own} {article}\"}}\n"
        ));
    }
    let p = write(&dir, "near.jsonl", &body);
    for linkage in ["single", "representative"] {
        let out = mukarrar()
            .args(["cluster", &p, "--format", "csv", "--linkage", linkage])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(count_before(&stderr, "exact copies set aside"), 0);
        let verified = count_before(&stderr, "candidate pairs verified");
        // All the pairs of each flood would be 2 × 1,999,000.
        assert!(
            verified <= 3 * 2 * n,
            "{linkage}: {verified} pairs verified"
        );
        let c = cluster_of(&String::from_utf8(out.stdout).unwrap());
        assert_eq!(c.len(), 2 * n, "{linkage}: the two floods, nothing else");
        assert!((0..n).all(|i| c[&format!("h{i}")] == c["h0"]), "{linkage}");
        assert!((0..n).all(|i| c[&format!("a{i}")] == c["a0"]), "{linkage}");
    }
}

#[test]
fn a_csv_record_over_the_size_limit_names_file_and_line() {
    let dir = TempDir::new().unwrap();
    let long: String = "ب".repeat(3000);
    let p = write(
        &dir,
        "long.csv",
        &format!("id,text\na,نص اول هنا\nb,\"{long}\"\nc,نص اول هنا\n"),
    );
    mukarrar()
        .args(["cluster", &p, "--max-record-size", "4K"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{p}:3")))
        .stderr(predicate::str::contains("longer than 4096 bytes"));
    mukarrar()
        .args(["cluster", &p, "--max-record-size", "4K", "--skip-invalid"])
        .args(["--format", "csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains("0,c,1.0000,false"))
        .stderr(predicate::str::contains("1 skipped as invalid"));
    // A record far past the limit (a line of 1.2 MB) is not read whole: reading stops at it,
    // with its line, even with --skip-invalid, and says so.
    let huge = "ب".repeat(600_000);
    let p = write(
        &dir,
        "huge.tsv",
        &format!("id\ttext\na\tنص اول هنا\nb\t{huge}\nc\tنص اول هنا\n"),
    );
    for extra in [&[][..], &["--skip-invalid"][..]] {
        mukarrar()
            .args(["cluster", &p, "--max-record-size", "4K"])
            .args(extra)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("{p}:3")))
            .stderr(predicate::str::contains("the rest of the file is not read"));
    }
}

#[test]
fn a_record_over_the_size_limit_names_file_and_line() {
    let dir = TempDir::new().unwrap();
    let long: String = "ب".repeat(3000);
    let p = write(
        &dir,
        "long.jsonl",
        &format!(
            "{{\"id\":\"a\",\"text\":\"نص اول هنا\"}}\n{{\"id\":\"b\",\"text\":\"{long}\"}}\n\
             {{\"id\":\"c\",\"text\":\"نص اول هنا\"}}\n"
        ),
    );
    mukarrar()
        .args(["cluster", &p, "--max-record-size", "4K"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{p}:2")))
        .stderr(predicate::str::contains("longer than 4096 bytes"));
    mukarrar()
        .args(["cluster", &p, "--max-record-size", "4K", "--skip-invalid"])
        .args(["--format", "csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains("0,c,1.0000,false"))
        .stderr(predicate::str::contains("1 skipped as invalid"));
    // Under the default limit the line is an ordinary record.
    mukarrar().args(["cluster", &p, "-q"]).assert().success();
    mukarrar()
        .args(["cluster", &p, "--max-record-size", "lots"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a size"));
}
