//! Cross-length matching: an article, its teaser and its bare headline are one story, in
//! `cluster`, the filter and the index alike, while a look-alike headline with another number
//! and a headline listed in another article's "read also" line stay apart.

use std::collections::BTreeMap;

use crate::support::{self, run, s, write_lines};

use mukarrar::settings::Settings;
use tempfile::TempDir;

/// Each document's cluster id in a CSV report with singletons.
fn cluster_of(csv: &str) -> BTreeMap<String, String> {
    support::clusters(csv)
        .into_iter()
        .flat_map(|(c, members)| members.into_iter().map(move |m| (m, c.clone())))
        .collect()
}

fn clusters(lines: &[String], flags: &[&str]) -> BTreeMap<String, String> {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("mixed.jsonl");
    write_lines(&path, lines);
    let mut args = vec![
        "cluster",
        s(&path),
        "--format",
        "csv",
        "--include-singletons",
    ];
    args.extend_from_slice(flags);
    cluster_of(&run(&args))
}

#[test]
fn a_story_in_three_lengths_is_one_cluster_and_look_alikes_stay_apart() {
    let lines = support::mixed_lengths(300, 3);
    let of = clusters(&lines, &[]);
    let group = |id: &str| id.split('-').next().unwrap().to_string();
    let (mut together, mut pairs, mut wrong) = (0, 0, Vec::new());
    for (a, ca) in &of {
        for (b, cb) in
            of.range::<String, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded))
        {
            let same_story =
                group(a) == group(b) && !a.ends_with("lookalike") && !b.ends_with("lookalike");
            if same_story {
                pairs += 1;
                together += usize::from(ca == cb);
            } else if ca == cb {
                wrong.push((a.clone(), b.clone()));
            }
        }
    }
    // Every form of a story joins its article; nothing else is joined (the look-alikes hold
    // another number, and "read also" lines list titles in an article's body, not its title).
    assert!(pairs > 400, "{pairs}");
    assert_eq!(together, pairs, "pairs of one story apart");
    assert!(wrong.is_empty(), "{wrong:?}");
    assert!(of.keys().any(|id| id.ends_with("lookalike")));

    // Without cross-length matching a headline never meets its article.
    let off = clusters(&lines, &["--cross-words", "0"]);
    let apart = (0..300)
        .filter(|i| {
            let (a, h) = (format!("s{i}-article"), format!("s{i}-headline"));
            off.contains_key(&h) && off[&a] != off[&h]
        })
        .count();
    assert!(apart > 150, "{apart}");
}

#[test]
fn the_filter_decides_as_cluster_on_mixed_lengths() {
    let c =
        crate::filter::check_equals_cluster(&support::mixed_lengths(400, 5), &Settings::default());
    assert!(c.duplicates > 400, "{}", c.duplicates);
}

#[test]
fn the_index_in_slices_equals_one_cluster_run_on_mixed_lengths() {
    crate::index::slices_equal_one_run(&support::mixed_lengths(200, 7), 5, &[]);
}

/// A made-up word of Arabic letters that normalization leaves alone, different for each `n`.
fn made_up(mut n: usize) -> String {
    const LETTERS: [char; 16] = [
        'ب', 'ت', 'ث', 'ج', 'ح', 'خ', 'د', 'ذ', 'ر', 'ز', 'س', 'ش', 'ص', 'ض', 'ط', 'ق',
    ];
    let mut w = String::from("م");
    for _ in 0..5 {
        w.push(LETTERS[n % 16]);
        n /= 16;
    }
    w
}

/// `n` articles of different stories whose titles are six of the twenty most common words of
/// news and two words of their own, and whose texts share nothing.
fn unrelated_titles(n: usize) -> Vec<String> {
    let common: Vec<&str> = mukarrar::cross::COMMON_WORDS.lines().take(20).collect();
    (0..n)
        .map(|i| {
            let title: Vec<&str> = (0..6).map(|j| common[(i * 7 + j * 3) % 20]).collect();
            let body: Vec<String> = (0..40).map(|j| made_up(3 * n + i * 40 + j)).collect();
            format!(
                "{{\"id\":\"d{i}\",\"title\":\"{} {} {}\",\"text\":\"{}\"}}",
                title.join(" "),
                made_up(i),
                made_up(n + i),
                body.join(" ")
            )
        })
        .collect()
}

#[test]
fn unrelated_titles_that_share_common_words_are_not_candidates() {
    // Banding whole titles put thousands of these pairs in one bucket (the candidates grew
    // with the square of the corpus); the common words are left out of the heads' bands, and
    // nothing else brings these texts together.
    let n = 2000;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("titles.jsonl");
    write_lines(&path, &unrelated_titles(n));
    let json = run(&["cluster", s(&path), "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let stats = &value["stats"];
    assert_eq!(stats["documents"], n);
    assert_eq!(stats["duplicates"], 0);
    let verified = stats["verified"].as_u64().unwrap();
    assert!(
        verified < 20,
        "{verified} pairs verified for {n} unrelated texts"
    );
}

#[test]
fn a_format_3_index_keeps_banding_heads_whole() {
    // An index written before heads were banded without common words holds settings without
    // `common_words`: this mukarrar adds to it with the keys it was built with, and leaves it
    // readable by the mukarrar that wrote it.
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("titles.jsonl");
    write_lines(&input, &unrelated_titles(300));
    let verified = |db: &std::path::Path| {
        let out = support::mukarrar()
            .args(["index", "add", s(db), s(&input)])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        support::count_before(&stderr, "candidate pairs verified")
    };
    let (old, new) = (dir.path().join("old.db"), dir.path().join("new.db"));
    run(&["index", "create", s(&old)]);
    run(&["index", "create", s(&new)]);
    crate::hostile::edit_settings(&old, |v| {
        v["cross"].as_object_mut().unwrap().remove("common_words");
    });
    crate::index::set_meta(&old, "format_version", "3");
    crate::index::set_meta(&old, "oldest_supported", "2");
    assert!(verified(&new) < 10);
    assert!(verified(&old) > 1000);
    let meta = crate::index::meta;
    assert_eq!(meta(&old, "format_version"), "3");
    assert_eq!(meta(&new, "format_version"), "5");
    assert_eq!(meta(&new, "oldest_supported"), "5");
    let export = run(&["index", "export", s(&old), "--format", "csv"]);
    assert_eq!(
        export,
        run(&["index", "export", s(&new), "--format", "csv"])
    );
}
