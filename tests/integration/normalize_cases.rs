//! The reference cases of `docs/normalization.md` (`tests/data/normalization-cases.json`),
//! checked under the default profile and with R12 (hamza seats) switched off.
//!
//! Every case runs; the failures are collected and reported together with input, expected and
//! actual output, code points included, so one broken rule does not hide another.

use mukarrar::normalize::{Normalizer, Profile};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    id: String,
    what: String,
    input: String,
    expected: String,
    #[serde(rename = "expected_without_R12_hamza_seats")]
    expected_without_r12: String,
}

fn cases() -> Vec<Case> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/normalization-cases.json"
    );
    let text = std::fs::read_to_string(path).expect("read the cases file");
    serde_json::from_str(&text).expect("parse the cases file")
}

fn code_points(s: &str) -> String {
    s.chars()
        .map(|c| format!("{:04X}", c as u32))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs every case through `n`, comparing with the field `pick` selects.
fn check(label: &str, n: &Normalizer, pick: fn(&Case) -> &str) {
    let cases = cases();
    assert_eq!(cases.len(), 39, "the cases file should hold 39 cases");
    let mut failures = Vec::new();
    for case in &cases {
        let want = pick(case);
        let got = n.normalize(&case.input);
        if got != want {
            failures.push(format!(
                "{} ({}):\n  input    {:?}\n  expected {:?}\n           [{}]\n  \
                 got      {:?}\n           [{}]",
                case.id,
                case.what,
                case.input,
                want,
                code_points(want),
                got,
                code_points(&got),
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{label}: {} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn default_profile() {
    check("default", &Normalizer::new(Profile::Default), |c| {
        &c.expected
    });
}

#[test]
fn default_profile_without_r12() {
    let n = Normalizer::builder()
        .profile(Profile::Default)
        .rule("R12", false)
        .build()
        .expect("R12 is a known rule");
    check("default without R12", &n, |c| &c.expected_without_r12);
}

#[test]
fn explain_names_a_rule_for_every_case_that_changes() {
    let n = Normalizer::new(Profile::Default);
    for case in cases() {
        if n.normalize(&case.input) != case.input {
            assert!(
                !n.explain(&case.input).is_empty(),
                "{}: output differs from input but explain reports nothing",
                case.id
            );
        }
    }
}

/// What `cluster` shingles: HTML references decoded, title tags removed, then the rules.
#[test]
fn texts_as_the_shingler_sees_them() {
    use mukarrar::pipeline::{Scratch, Settings, Signer};
    let signer = Signer::new(&Settings::default());
    let mut scratch = Scratch::default();
    let mut shingled = |text: &str| {
        signer.normalize_into(text, &mut scratch);
        scratch.normalized.clone()
    };
    assert_eq!(shingled("ڤيديو"), shingled("فيديو"));
    // Named references decode to what they stand for, not to their names.
    assert_eq!(shingled("&lrm;قال&rlm; &quot;الوزير&quot;"), "قال الوزير");
    assert_eq!(shingled("Caf&eacute; &amp; مقهى"), "café مقهي");
    // The headline stays; the outlet's name goes.
    assert_eq!(
        shingled("ناصَرَ الجديع: مصنع الهلال | صحيفة الوئام"),
        shingled("ناصر الجديع: مصنع الهلال !!")
    );
    assert_eq!(
        shingled("ناصَرَ الجديع: مصنع الهلال | صحيفة الوئام"),
        "مصنع الهلال"
    );
}

/// `normalize --explain` writes marks as marks (on a dotted circle when alone), not as escapes,
/// and keeps the headline.
#[test]
fn explain_on_the_command_line_shows_marks_as_characters() {
    let out = assert_cmd::Command::cargo_bin("mukarrar")
        .unwrap()
        .args([
            "normalize",
            "--explain",
            "ناصَرَ الجديع: مصنَع الهلال | صحيفة الوئام",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(out.lines().next(), Some("مصنع الهلال"), "{out}");
    assert!(
        out.contains("R5   harakat deleted: \"\u{25CC}\u{064E}\" → \"\""),
        "{out}"
    );
    assert!(
        out.contains("T2   title tag removed: \" | صحيفة الوئام\""),
        "{out}"
    );
    assert!(!out.contains("\\u{"), "{out}");
}

/// The cells of a Markdown table row, `\|` read as `|`.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells.iter().map(|c| c.trim().to_string()).collect()
}

/// A cell's code span, with `\u{XXXX}` standing for the character.
fn code(cell: &str) -> String {
    let inner = cell
        .strip_prefix('`')
        .and_then(|c| c.strip_suffix('`'))
        .unwrap_or_else(|| panic!("not a code span: {cell}"));
    let mut out = String::new();
    let mut rest = inner;
    while let Some(at) = rest.find("\\u{") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find('}').unwrap() + at;
        let cp = u32::from_str_radix(&rest[at + 3..end], 16).unwrap();
        out.push(char::from_u32(cp).unwrap());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Every example of `docs/normalization.md` is what mukarrar does.
#[test]
fn the_examples_of_the_user_documentation_hold() {
    use mukarrar::pipeline::{Scratch, Settings, Signer};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/normalization.md");
    let doc = std::fs::read_to_string(path).expect("read docs/normalization.md");
    let signer = Signer::new(&Settings::default());
    let mut scratch = Scratch::default();
    let default = Normalizer::new(Profile::Default);
    let mut steps = Vec::new();
    let mut profiles = 0;
    let mut failures = Vec::new();
    for line in doc.lines().filter(|l| l.starts_with("| ")) {
        let c = cells(line);
        if c.len() == 4 && c[0].starts_with(['R', 'T']) && c[2].starts_with('`') {
            let (input, want) = (code(&c[2]), code(&c[3]));
            let got = if c[0] == "R0" || c[0].starts_with('T') {
                signer.normalize_into(&input, &mut scratch);
                scratch.normalized.clone()
            } else {
                default.normalize(&input)
            };
            if got != want {
                failures.push(format!(
                    "{}: {input:?} → {got:?}, documented {want:?}",
                    c[0]
                ));
            }
            steps.push(c[0].clone());
        } else if c.len() == 4 && c[0].starts_with('`') {
            let input = code(&c[0]);
            for (profile, cell) in Profile::ALL.into_iter().zip(&c[1..]) {
                let got = Normalizer::new(profile).normalize(&input);
                if got != code(cell) {
                    failures.push(format!("{profile}: {input:?} → {got:?}, documented {cell}"));
                }
            }
            profiles += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every rule is documented with an example, in pipeline order.
    let rules: Vec<String> = Normalizer::all_rules()
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    assert_eq!(steps[..3], ["R0", "T1", "T2"]);
    assert_eq!(steps[3..], rules[..]);
    assert_eq!(profiles, 2);
}
