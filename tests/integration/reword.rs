//! The word check of long texts: a reworded copy (a word in five replaced, so that only a
//! quarter of the word 3-grams survive) is one story with its original in `cluster`, the
//! filter and the index alike, while a text that quotes a passage of another, at the same
//! similarity, stays apart; an index made before the check existed keeps deciding without it.

use std::collections::BTreeMap;

use crate::support::{self, run, s, write_lines};

use mukarrar::settings::Settings;
use tempfile::TempDir;

const STORIES: usize = 60;

/// Each document's cluster id in a CSV report with singletons.
fn cluster_of(csv: &str) -> BTreeMap<String, String> {
    support::clusters(csv)
        .into_iter()
        .flat_map(|(c, members)| members.into_iter().map(move |m| (m, c.clone())))
        .collect()
}

/// How many stories share a cluster with their copy, and with their quote.
fn joined(of: &BTreeMap<String, String>) -> (usize, usize) {
    let with = |i: usize, suffix: &str| of[&format!("r{i}")] == of[&format!("r{i}{suffix}")];
    (
        (0..STORIES).filter(|&i| with(i, "-copy")).count(),
        (0..STORIES).filter(|&i| with(i, "-quote")).count(),
    )
}

#[test]
fn a_reworded_copy_is_one_story_and_a_quoted_passage_is_not() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("reworded.jsonl");
    write_lines(&path, &support::reworded_stories(STORIES, 3));
    let csv = run(&[
        "cluster",
        s(&path),
        "--format",
        "csv",
        "--include-singletons",
    ]);
    let (copies, quotes) = joined(&cluster_of(&csv));
    // A copy is joined when the bands make it a candidate (about half of the pairs at 0.25,
    // more above): without the word check only estimates above 0.3 join, about one in ten.
    assert!(
        copies >= STORIES * 2 / 5,
        "{copies} of {STORIES} copies joined"
    );
    assert_eq!(quotes, 0, "a quote joined its story");
}

#[test]
fn the_filter_decides_as_cluster_on_reworded_copies() {
    let lines = support::reworded_stories(STORIES, 5);
    let c = crate::filter::check_equals_cluster(&lines, &Settings::default());
    assert!(c.duplicates >= STORIES * 2 / 5, "{}", c.duplicates);
}

#[test]
fn the_index_in_slices_equals_one_cluster_run_on_reworded_copies() {
    crate::index::slices_equal_one_run(&support::reworded_stories(STORIES, 7), 4, &[]);
}

#[test]
fn a_format_4_index_keeps_deciding_without_the_word_check() {
    // An index written before the word check holds settings without `reword` and signatures
    // without a word sketch: this mukarrar adds to it as before, and leaves it at format 4,
    // readable by the mukarrar that wrote it.
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("reworded.jsonl");
    write_lines(&input, &support::reworded_stories(STORIES, 3));
    let (old, new) = (dir.path().join("old.db"), dir.path().join("new.db"));
    run(&["index", "create", s(&old)]);
    run(&["index", "create", s(&new)]);
    crate::hostile::edit_settings(&old, |v| {
        v.as_object_mut().unwrap().remove("reword");
    });
    crate::index::set_meta(&old, "format_version", "4");
    crate::index::set_meta(&old, "oldest_supported", "4");
    let copies = |db: &std::path::Path| {
        run(&["index", "add", s(db), s(&input)]);
        let csv = run(&[
            "index",
            "export",
            s(db),
            "--format",
            "csv",
            "--include-singletons",
        ]);
        joined(&cluster_of(&csv))
    };
    let (old_copies, old_quotes) = copies(&old);
    let (new_copies, new_quotes) = copies(&new);
    assert_eq!((old_quotes, new_quotes), (0, 0));
    assert!(
        new_copies >= old_copies + STORIES / 5,
        "{old_copies} copies joined without the word check, {new_copies} with it"
    );
    let meta = crate::index::meta;
    assert_eq!(meta(&old, "format_version"), "4");
    assert_eq!(meta(&new, "format_version"), "5");
    assert_eq!(meta(&new, "oldest_supported"), "5");
    // The old file's signatures are read at their own length: the stories again, under
    // other ids, each find themselves at similarity 1.
    let again = dir.path().join("again.jsonl");
    let stories: Vec<String> = support::reworded_stories(STORIES, 3)
        .into_iter()
        .step_by(3)
        .map(|l| l.replacen("\"id\":\"r", "\"id\":\"again-r", 1))
        .collect();
    write_lines(&again, &stories);
    for db in [&old, &new] {
        let query = run(&["index", "query", s(db), s(&again), "--format", "csv"]);
        for i in 0..STORIES {
            let found = format!("again-r{i},1.0000,false");
            assert!(query.lines().any(|l| l.ends_with(&found)), "{query}");
        }
    }
}
