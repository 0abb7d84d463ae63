//! The streaming filter decides as `cluster` does: with a window larger than the input, a
//! document is a duplicate exactly when an earlier member of its `cluster` group is an LSH
//! candidate of it and linked to it; and the window forgets what it should.

use crate::support;

use std::io::Cursor;
use std::sync::atomic::AtomicBool;

use mukarrar::cluster::Verify;
use mukarrar::filter::{self, End, FilterOptions, FilterStats, Outputs, WindowLimit};
use mukarrar::input::{self, Format, InputConfig};
use mukarrar::lsh::LshParams;
use mukarrar::pipeline::{self, Input, RunOptions, Settings};
use mukarrar::progress::NoProgress;
use mukarrar::settings::Signed;
use mukarrar::shingle::{ShingleConfig, ShingleKind};
use serde_json::Value;

fn input(lines: &[String], keep_raw: bool, keep_fields: &[&str]) -> Input {
    let body = lines.join("\n") + "\n";
    let config = InputConfig {
        keep_raw,
        keep_fields: keep_fields.iter().map(|s| s.to_string()).collect(),
        ..InputConfig::default()
    };
    let reader = input::from_reader(Cursor::new(body), "feed", Format::Jsonl, &config).unwrap();
    Input::new("feed", reader)
}

/// Runs the filter over `lines` with every document written (`--annotate`); returns the
/// output objects and the counts.
fn filter(
    lines: &[String],
    settings: &Settings,
    options: &FilterOptions,
) -> mukarrar::Result<(Vec<Value>, FilterStats)> {
    let fields: Vec<&str> = options.date_field.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    let stats = filter::run(
        vec![input(lines, true, &fields)],
        settings,
        options,
        None,
        Outputs {
            kept: &mut out,
            duplicates: None,
            duplicates_name: String::new(),
        },
        &AtomicBool::new(false),
        &NoProgress,
    )?;
    let values = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Ok((values, stats))
}

fn annotate(window: usize) -> FilterOptions {
    FilterOptions {
        window: WindowLimit {
            documents: Some(window),
            days: None,
        },
        annotate: true,
        ..FilterOptions::default()
    }
}

fn samples() -> Vec<String> {
    ["labelled.jsonl", "headlines.jsonl"]
        .iter()
        .flat_map(|name| {
            std::fs::read_to_string(support::sample(name))
                .unwrap()
                .lines()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What the check found, for the assertions of each case.
pub(crate) struct Check {
    pub(crate) documents: usize,
    pub(crate) duplicates: usize,
    /// Groups in which more than one document was first-seen (a later document linked
    /// stories first seen apart).
    pub(crate) bridged: usize,
}

/// Runs `cluster` and the filter over `lines` and checks every decision against the
/// cluster groups, the LSH candidates and `Settings::linked`.
pub(crate) fn check_equals_cluster(lines: &[String], settings: &Settings) -> Check {
    let options = RunOptions {
        keep_signatures: true,
        ..RunOptions::default()
    };
    let outcome = pipeline::run(
        vec![input(lines, false, &[])],
        settings,
        &options,
        &NoProgress,
    )
    .unwrap();
    let n = outcome.docs.len();
    let (out, stats) = filter(lines, settings, &annotate(n + 1)).unwrap();
    assert_eq!(out.len(), n);
    assert_eq!(stats.end, End::Input);
    assert_eq!(stats.evicted, 0);

    let mut group_of: Vec<Option<usize>> = vec![None; n];
    for (g, group) in outcome.groups.iter().enumerate() {
        for &m in &group.members {
            group_of[m as usize] = Some(g);
        }
    }
    let k = settings.sig_len();
    let signed = |i: usize| Signed {
        sig: &outcome.signatures[i * k..(i + 1) * k],
        traits: outcome.docs[i].traits,
        words: &outcome.docs[i].words,
        set: outcome.sets.get(i).map(Vec::as_slice),
    };
    // The signature's band keys, then the head's (cross-length matching), by band number.
    let heads = mukarrar::cross::Heads::new(settings);
    let keys: Vec<Vec<(usize, u64)>> = (0..n).map(|i| heads.stored_keys(&signed(i))).collect();
    let candidates = |i: usize, j: usize| keys[i].iter().any(|k| keys[j].contains(k));
    let mut duplicates = 0;
    let mut first_seen_in_group = vec![Vec::new(); outcome.groups.len()];
    for i in 0..n {
        let doc = &out[i];
        assert_eq!(doc["id"], outcome.docs[i].id.as_str(), "document {i}");
        let edge = |j: usize| candidates(i, j) && settings.linked(&signed(j), &signed(i));
        // Every edge of cluster's graph stays inside a group.
        for j in (0..i).filter(|&j| edge(j)) {
            assert!(group_of[i].is_some() && group_of[i] == group_of[j]);
        }
        let expected =
            (0..i).find(|&j| group_of[j].is_some() && group_of[j] == group_of[i] && edge(j));
        match expected {
            Some(j) => {
                duplicates += 1;
                assert_eq!(
                    doc["duplicate_of"],
                    outcome.docs[j].id.as_str(),
                    "document {i} ({})",
                    outcome.docs[i].id
                );
                let similarity = settings.similarity(&signed(j), &signed(i));
                // serde_json reads floats back to within an ulp.
                let written = doc["similarity"].as_f64().unwrap();
                assert!(
                    (written - similarity).abs() < 1e-12,
                    "{written} {similarity}"
                );
                assert_eq!(doc["cluster_id"], out[j]["cluster_id"]);
            }
            None => {
                assert!(
                    doc["duplicate_of"].is_null(),
                    "document {i} ({}) should be first-seen: {doc}",
                    outcome.docs[i].id
                );
                assert!(doc["similarity"].is_null());
                assert_eq!(doc["cluster_id"], i as u64);
                if let Some(g) = group_of[i] {
                    first_seen_in_group[g].push(i);
                }
            }
        }
    }
    // The first member of every group is first-seen, and the cluster id of every member is
    // that of a first-seen member of its group: the group's own id when the group was never
    // bridged.
    let mut bridged = 0;
    for (g, group) in outcome.groups.iter().enumerate() {
        let firsts = &first_seen_in_group[g];
        assert_eq!(firsts[0], group.members[0] as usize);
        bridged += usize::from(firsts.len() > 1);
        for &m in &group.members {
            let id = out[m as usize]["cluster_id"].as_u64().unwrap() as usize;
            assert!(firsts.contains(&id), "member {m} of group {g}");
            if firsts.len() == 1 {
                assert_eq!(id, group.members[0] as usize);
            }
        }
    }
    assert_eq!(stats.duplicates, duplicates);
    assert_eq!(stats.first_seen, n - duplicates);
    Check {
        documents: n,
        duplicates,
        bridged,
    }
}

fn with_lsh(mut s: Settings) -> Settings {
    s.lsh = LshParams::choose(s.candidate_threshold(), s.minhash.num_perm, s.objective);
    s
}

#[test]
fn decisions_equal_cluster_on_the_samples() {
    let c = check_equals_cluster(&samples(), &Settings::default());
    assert_eq!(c.documents, 45);
    // Two by cross-length matching: `oil-3` and `weather-2` are longer copies of shorter
    // texts of their stories.
    assert_eq!(c.duplicates, 17);
}

#[test]
fn decisions_equal_cluster_on_generated_documents() {
    let mut lines = samples();
    lines.extend(support::corpus(1500, 7));
    let c = check_equals_cluster(&lines, &Settings::default());
    assert!(c.duplicates > 300, "{}", c.duplicates);
    // The generator writes documents made of halves of two stories: some link stories that
    // were first seen apart.
    assert!(c.bridged > 0);
}

#[test]
fn decisions_equal_cluster_under_other_settings() {
    let mut lines = samples();
    lines.extend(support::corpus(400, 11));
    let mut chars = Settings {
        threshold: 0.5,
        shingle: ShingleConfig {
            kind: ShingleKind::Char,
            n: 5,
            ..ShingleConfig::default()
        },
        ..Settings::default()
    };
    chars.short.words = 0;
    check_equals_cluster(&lines, &with_lsh(chars));
    let exact = Settings {
        verify: Verify::Exact,
        ..Settings::default()
    };
    check_equals_cluster(&lines, &exact);
}

fn doc(id: &str, text: &str, date: Option<&str>) -> String {
    let mut v = serde_json::json!({ "id": id, "text": text });
    if let Some(d) = date {
        v["date"] = d.into();
    }
    v.to_string()
}

const STORY: &str = "أعلنت وزارة الصحة اليوم تسجيل 120 إصابة جديدة بفيروس كورونا في منطقة الرياض، \
                     وأكدت أن الحالات مستقرة وأن فرقها الميدانية تتابع المخالطين في الأحياء \
                     الشرقية من المدينة منذ صباح اليوم.";
const OTHER: &str = "فاز الهلال على النصر بهدفين نظيفين في مباراة الجولة العاشرة من الدوري \
                     السعودي للمحترفين التي أقيمت مساء أمس على ملعب الملك فهد الدولي بالرياض \
                     أمام جمهور غفير من المشجعين.";
const THIRD: &str = "ارتفعت أسعار النفط والذهب في الأسواق العالمية اليوم مع تراجع الدولار \
                     الأمريكي وتزايد المخاوف من تباطؤ النمو الاقتصادي في الصين وأوروبا خلال \
                     الربع الأخير من العام الحالي.";

fn duplicate_of(v: &Value) -> Option<&str> {
    v["duplicate_of"].as_str()
}

#[test]
fn a_document_leaves_the_window_after_n_more() {
    let lines = vec![
        doc("a", STORY, None),
        doc("b", OTHER, None),
        doc("c", THIRD, None),
        doc("a2", STORY, None),
    ];
    let settings = Settings::default();
    let (out, stats) = filter(&lines, &settings, &annotate(3)).unwrap();
    assert_eq!(duplicate_of(&out[3]), Some("a"));
    assert_eq!(stats.evicted, 1);
    assert_eq!(stats.window, 3);
    let (out, stats) = filter(&lines, &settings, &annotate(2)).unwrap();
    assert_eq!(duplicate_of(&out[3]), None);
    assert_eq!(out[3]["cluster_id"], 3);
    assert_eq!(stats.evicted, 2);
    assert_eq!(stats.first_seen, 4);
}

#[test]
fn duplicates_stay_in_the_window() {
    // With a gone from a window of two, its copy b still catches the third copy.
    let lines = vec![
        doc("a", STORY, None),
        doc("b", STORY, None),
        doc("x", THIRD, None),
        doc("c", STORY, None),
    ];
    let (out, _) = filter(&lines, &Settings::default(), &annotate(2)).unwrap();
    assert_eq!(duplicate_of(&out[1]), Some("a"));
    assert_eq!(duplicate_of(&out[3]), Some("b"));
    assert_eq!(out[3]["cluster_id"], 0);
}

fn by_date(days: f64) -> FilterOptions {
    FilterOptions {
        window: WindowLimit {
            documents: None,
            days: Some(days),
        },
        date_field: Some("date".into()),
        annotate: true,
        ..FilterOptions::default()
    }
}

#[test]
fn the_date_window_keeps_the_last_days() {
    let lines = vec![
        doc("a", STORY, Some("2024-05-01 10:00:00")),
        doc("b", OTHER, Some("2024-05-03T09:00:00Z")),
        // Late: dated before b, still within two days of the newest date.
        doc("c", THIRD, Some("2024-05-02")),
        doc("b2", OTHER, Some("2024-05-04")),
        doc("a2", STORY, Some("2024-05-04")),
        doc("c2", THIRD, Some("2024-05-04 12:00:00")),
    ];
    let settings = Settings::default();
    let (out, stats) = filter(&lines, &settings, &by_date(2.0)).unwrap();
    let dups: Vec<Option<&str>> = out.iter().map(duplicate_of).collect();
    assert_eq!(dups, [None, None, None, Some("b"), None, None]);
    assert_eq!(stats.window, 4);
    // With three days, a is still there for a2 and c for c2.
    let (out, _) = filter(&lines, &settings, &by_date(3.0)).unwrap();
    let dups: Vec<Option<&str>> = out.iter().map(duplicate_of).collect();
    assert_eq!(dups, [None, None, None, Some("b"), Some("a"), Some("c")]);
}

#[test]
fn a_document_without_a_date_is_an_invalid_record() {
    let lines = vec![
        doc("a", STORY, Some("2024-05-01")),
        doc("b", OTHER, None),
        doc("c", THIRD, Some("soon")),
        doc("a2", STORY, Some("2024-05-01")),
    ];
    let err = filter(&lines, &Settings::default(), &by_date(1.0))
        .expect_err("a missing date is an error")
        .to_string();
    assert!(err.contains("feed:2: field `date`"), "{err}");
    let options = FilterOptions {
        skip_invalid: true,
        ..by_date(1.0)
    };
    let (out, stats) = filter(&lines, &Settings::default(), &options).unwrap();
    assert_eq!(stats.invalid, 2);
    assert_eq!(stats.read, 4);
    let ids: Vec<&str> = out.iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a", "a2"]);
    assert_eq!(duplicate_of(&out[1]), Some("a"));
    // Positions count the valid documents only, as cluster's do.
    assert_eq!(out[1]["cluster_id"], 0);
}

#[test]
fn a_raised_stop_flag_decides_nothing_more() {
    let lines = support::corpus(50, 3);
    let mut out = Vec::new();
    let stats = filter::run(
        vec![input(&lines, true, &[])],
        &Settings::default(),
        &annotate(100),
        None,
        Outputs {
            kept: &mut out,
            duplicates: None,
            duplicates_name: String::new(),
        },
        &AtomicBool::new(true),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(stats.end, End::Stopped);
    assert_eq!(stats.documents, 0);
    assert!(out.is_empty());
}

/// `lines` with a `date` field: a day every 40 documents, some a day late.
fn dated(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let mut v: Value = serde_json::from_str(line).unwrap();
            let day = 1 + i / 40 - usize::from(i % 7 == 3 && i >= 40);
            v["date"] = format!("2024-03-{:02}", 1 + day % 28).into();
            v.to_string()
        })
        .collect()
}

#[test]
fn a_window_beyond_the_memory_budget_decides_as_in_memory() {
    let mut lines = samples();
    lines.extend(support::corpus(600, 5));
    // Copies of one text among them: lookups on disk find the oldest copy first.
    lines.extend((0..40).map(|i| doc(&format!("flood-{i}"), STORY, None)));
    lines.extend(support::corpus(200, 9));
    let lines = dated(&lines);
    let settings = Settings::default();
    let folder = tempfile::tempdir().unwrap();
    let windows = [
        (Some(150), None),
        (None, Some(2.0)),
        (Some(120), Some(3.0)),
        (Some(5000), None),
    ];
    for (documents, days) in windows {
        let mut options = FilterOptions {
            window: WindowLimit { documents, days },
            date_field: days.map(|_| "date".to_string()),
            annotate: true,
            ..FilterOptions::default()
        };
        let (in_memory, memory_stats) = filter(&lines, &settings, &options).unwrap();
        assert_eq!(memory_stats.spilled, 0);
        // One byte: a single document stays in memory, every older one goes to disk.
        options.budget = Some(mukarrar::spill::Budget::new(
            1,
            Some(folder.path().to_path_buf()),
        ));
        let (spilled, disk_stats) = filter(&lines, &settings, &options).unwrap();
        assert_eq!(spilled, in_memory, "window {documents:?} / {days:?} days");
        assert!(disk_stats.spilled > 100, "{disk_stats:?}");
        assert!(disk_stats.duplicates > 100, "{disk_stats:?}");
        let without_spill = FilterStats {
            spilled: 0,
            seconds: 0.0,
            ..disk_stats
        };
        let memory = FilterStats {
            seconds: 0.0,
            ..memory_stats
        };
        assert_eq!(
            without_spill, memory,
            "window {documents:?} / {days:?} days"
        );
    }
    // The database leaves no file behind.
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0);
}
