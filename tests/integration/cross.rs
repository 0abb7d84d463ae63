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
