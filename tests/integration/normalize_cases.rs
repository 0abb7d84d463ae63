//! The reference cases of `NORMALIZATION.md` (`tests/data/normalization-cases.json`), checked
//! under the default profile and with R12 (hamza seats) switched off.
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
    assert_eq!(cases.len(), 37, "the cases file should hold 37 cases");
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
