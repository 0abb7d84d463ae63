//! `mukarrar compare`: the decision on a pair and why, from texts, an input file or an index,
//! and its exit status (0 duplicate, 1 distinct, 2 error).

use crate::support;

use serde_json::Value;
use support::*;
use tempfile::TempDir;

const VOTE: &str = "مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة";
/// The same headline as another outlet ran it: a title label, no hamza seats.
const VOTE_EDITED: &str = "عاجل | مجلس الامن يصوت اليوم على قرار لوقف دائم لاطلاق النار بغزة";
const VETO: &str = "فيتو أمريكي ضد مشروع قرار في مجلس الأمن لوقف إطلاق النار في غزة";
const UN: &str = "الأمم المتحدة تحثّ قادة العالم على بذل الجهود لحل الدولتين";
const GUTERRES: &str = "جوتيريش يحثّ قادة العالم على بذل الجهود لحل الدولتين";

/// Runs `compare` with `args` and returns (exit status, stdout, stderr).
fn compare(args: &[&str]) -> (i32, String, String) {
    let out = mukarrar().arg("compare").args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn json(args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (status, out, err) = compare(&all);
    assert_ne!(status, 2, "{err}");
    (
        status,
        serde_json::from_str(&out).expect("compare --format json"),
    )
}

#[test]
fn the_guterres_headlines_are_duplicates_by_their_shared_run() {
    let (status, out, _) = compare(&[UN, GUTERRES]);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("DUPLICATE by short: shared run"), "{out}");
    // Off a terminal the shared passage is bracketed, in both normalized forms.
    assert!(
        out.contains("normalized  جوتيريش يحث [قاده العالم علي بذل الجهود لحل الدولتين]"),
        "{out}"
    );
    assert!(out.contains("words       word-set Jaccard 0.583 · longest shared run 7 (needed 7)"));
}

#[test]
fn the_vote_headline_repeated_with_edits_is_a_duplicate() {
    let (status, c) = json(&[VOTE, VOTE_EDITED]);
    assert_eq!(status, 0);
    assert_eq!(c["a"]["normalized"], c["b"]["normalized"]);
    assert_eq!(c["rule"], "short");
    assert_eq!(c["decision"]["duplicate"], true);
    assert_eq!(c["decision"]["by"], "short: word sets");
    assert_eq!(c["exact"]["jaccard"], 1.0);
    assert_eq!(c["shingles"]["shared"], 11);
    assert_eq!(c["passages"]["a"][0]["words"], 11);
}

#[test]
fn two_different_stories_are_distinct_with_status_1() {
    let (status, out, _) = compare(&[VOTE, VETO]);
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains(
            "DISTINCT by short: word sets: word-set Jaccard 0.278 is below 0.75, and the \
             longest shared run of 2 words is below the 8 needed"
        ),
        "{out}"
    );
    assert!(out.contains("passages    [مجلس الامن] (2 words)"), "{out}");
}

#[test]
fn different_numbers_keep_two_headlines_apart() {
    let (status, c) = json(&[
        "مقتل 3 أشخاص في حادث سير بالرياض",
        "مقتل 5 أشخاص في حادث سير بالرياض",
    ]);
    assert_eq!(status, 1);
    assert_eq!(c["decision"]["by"], "short: numbers");
    assert_eq!(c["numbers"]["passed"], false);
    assert_eq!(c["a"]["numbers"], serde_json::json!(["3"]));
    // The same pair with the check off: the word sets decide.
    let (status, c) = json(&[
        "مقتل 3 أشخاص في حادث سير بالرياض",
        "مقتل 5 أشخاص في حادث سير بالرياض",
        "--ignore-numbers",
        "--short-threshold",
        "0.7",
    ]);
    assert_eq!(status, 0);
    assert_eq!(c["numbers"]["applies"], false);
}

#[test]
fn long_texts_are_decided_by_their_shingles_against_the_threshold() {
    let labelled = sample("labelled.jsonl");
    let (status, c) = json(&[
        "--input",
        s(&labelled),
        "health-wire",
        "health-persian-keys",
    ]);
    assert_eq!(status, 0);
    assert_eq!(c["rule"], "long");
    assert_eq!(c["decision"]["by"], "long: jaccard");
    assert_eq!(c["decision"]["threshold"], 0.3);
    let estimated = c["estimated"]["jaccard"].as_f64().unwrap();
    assert_eq!(c["decision"]["value"].as_f64().unwrap(), estimated);
    assert!(c["exact"]["jaccard"].as_f64().unwrap() >= 0.3, "{c}");
    let (status, c) = json(&["--input", s(&labelled), "health-wire", "road-1"]);
    assert_eq!(status, 1);
    assert!(c["decision"]["value"].as_f64().unwrap() < 0.3, "{c}");
}

#[test]
fn long_texts_just_below_the_threshold_are_decided_by_their_words() {
    // Reworded copies share two thirds of their words, quotes a seventh: between 0.2 and the
    // threshold, the word sets decide (`long: words`), and compare says so as cluster does.
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("reworded.jsonl");
    write_lines(&path, &reworded_stories(12, 3));
    let (mut copies, mut joined, mut quotes) = (0, 0, 0);
    for i in 0..12 {
        for other in [format!("r{i}-copy"), format!("r{i}-quote")] {
            let story = format!("r{i}");
            let (status, c) = json(&["--input", s(&path), &story, &other]);
            let similarity = c["estimated"]["jaccard"].as_f64().unwrap();
            if !(0.2..0.3).contains(&similarity) {
                continue;
            }
            let decision = &c["decision"];
            assert_eq!(decision["by"], "long: words", "{c}");
            assert_eq!(decision["threshold"], 0.55);
            let words = decision["value"].as_f64().unwrap();
            let duplicate = words >= 0.55;
            assert_eq!(decision["duplicate"], duplicate, "{c}");
            assert_eq!(status, if duplicate { 0 } else { 1 });
            if other.ends_with("copy") {
                copies += 1;
                joined += usize::from(duplicate);
            } else {
                quotes += 1;
                assert!(!duplicate, "{c}");
            }
        }
    }
    // The sketch estimates the copies' two thirds with some spread; most pass.
    assert!(
        copies >= 6 && joined * 4 >= copies * 3,
        "{joined} of {copies} copies"
    );
    assert!(quotes >= 4, "{quotes} quotes");
}

#[test]
fn ids_from_a_jsonl_input_compare_their_texts() {
    let headlines = sample("headlines.jsonl");
    let (status, c) = json(&[
        "--input",
        s(&headlines),
        "seed-similar-01",
        "seed-similar-02",
    ]);
    assert_eq!(status, 0);
    assert_eq!(c["a"]["id"], "seed-similar-01");
    assert_eq!(c["b"]["text"], GUTERRES);
    let (status, c) = json(&["--input", s(&headlines), "seed-readalso", "seed-similar-07"]);
    assert_eq!(status, 1);
    assert_eq!(c["b"]["text"], VETO);
}

#[test]
fn ids_from_a_csv_input_use_the_input_flags() {
    let dir = TempDir::new().unwrap();
    let csv = write(
        &dir,
        "feed.csv",
        &format!("url,body\nu1,{UN}\nu2,{GUTERRES}\nu3,{VETO}\n"),
    );
    let (status, c) = json(&[
        "--input",
        &csv,
        "--id-field",
        "url",
        "--text-field",
        "body",
        "u1",
        "u2",
    ]);
    assert_eq!(status, 0);
    assert_eq!(c["a"]["text"], UN);
}

#[test]
fn a_missing_id_is_an_error_naming_the_file() {
    let headlines = sample("headlines.jsonl");
    let err = fails(&["compare", "--input", s(&headlines), "seed-readalso", "nope"]);
    assert!(err.contains(s(&headlines)), "{err}");
    assert!(
        err.contains("no document with id `nope` among its 11 documents"),
        "{err}"
    );
    let err = fails(&["compare", "--id-field", "url", UN, GUTERRES]);
    assert!(err.contains("give --input FILE"), "{err}");
}

#[test]
fn ids_from_an_index_are_compared_under_its_settings() {
    let dir = TempDir::new().unwrap();
    let headlines = sample("headlines.jsonl");
    // One index keeps the text field, the other only signatures.
    let kept = dir.path().join("kept.db");
    let bare = dir.path().join("bare.db");
    for (db, extra) in [(&kept, &["--keep-field", "title"][..]), (&bare, &[][..])] {
        run(&["index", "create", s(db)]);
        let mut add = vec!["index", "add", s(db), s(&headlines)];
        add.extend_from_slice(extra);
        run(&add);
    }
    let (status, c) = json(&["--index", s(&kept), "seed-similar-01", "seed-similar-02"]);
    assert_eq!(status, 0);
    assert_eq!(c["b"]["text"], GUTERRES);
    assert_eq!(c["decision"]["by"], "short: shared run");
    // From the stored signature and word hashes: the same decision, without the texts.
    let (status, c) = json(&["--index", s(&bare), "seed-similar-01", "seed-similar-02"]);
    assert_eq!(status, 0);
    assert_eq!(c["a"]["normalized"], Value::Null);
    assert_eq!(c["passages"], Value::Null);
    assert_eq!(c["words"]["longest_run"], 7);
    assert_eq!(c["decision"]["by"], "short: shared run");
    let (status, _) = json(&["--index", s(&bare), "seed-readalso", "seed-similar-07"]);
    assert_eq!(status, 1);
    let err = fails(&["compare", "--index", s(&bare), "seed-readalso", "nope"]);
    assert!(err.contains(s(&bare)), "{err}");
    assert!(
        err.contains("no document with id `nope` in this index"),
        "{err}"
    );
    // Flags that contradict the index's settings are refused.
    let err = fails(&[
        "compare",
        "--index",
        s(&bare),
        "seed-readalso",
        "seed-similar-10",
        "--threshold",
        "0.9",
    ]);
    assert!(err.contains("this index was created with"), "{err}");
}

#[test]
fn the_html_page_marks_the_passages_and_escapes_the_texts() {
    let (status, out, _) = compare(&[
        &format!("{UN} <script>alert(1)</script>"),
        GUTERRES,
        "--format",
        "html",
    ]);
    assert_eq!(status, 0);
    assert!(out.starts_with("<!DOCTYPE html>"), "{out}");
    assert!(
        out.contains("<mark>قاده العالم علي بذل الجهود لحل الدولتين</mark>"),
        "{out}"
    );
    assert!(!out.contains("<script>alert"), "{out}");
    assert!(
        out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{out}"
    );
}
