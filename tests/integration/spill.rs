//! Runs beyond the memory budget: documents, signatures and band keys in temporary files,
//! bands sorted on disk. The result must be the in-memory result, byte for byte.

use crate::support::{self, run, s};

fn stats(json: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["stats"].clone()
}

/// Everything but the timings.
fn counts(stats: &serde_json::Value) -> serde_json::Value {
    let mut c = stats.clone();
    let o = c.as_object_mut().unwrap();
    o.remove("seconds");
    o.remove("spilled");
    c
}

#[test]
fn a_tiny_budget_gives_the_in_memory_report_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let input = dir.path().join("corpus.jsonl");
    let mut lines = support::corpus(1000, 7);
    // Floods of copies and of near-copies, and empty documents, among ordinary ones.
    for i in 0..100 {
        lines.push(format!(
            "{{\"id\":\"c{i}\",\"text\":\"عاجل: مجلس الأمن يصوت على قرار وقف إطلاق النار في غزة\"}}"
        ));
        lines.push(format!("{{\"id\":\"e{i}\",\"text\":\"...\"}}"));
    }
    // Headlines, and articles under the same title: found by the heads' bands alone.
    let spelled = |i: usize| -> String {
        i.to_string()
            .chars()
            .map(|d| "ابتثجحخدذر".chars().nth(d as usize - '0' as usize).unwrap())
            .collect()
    };
    for i in 0..50 {
        let title: Vec<String> = ["وزير", "يبحث", "ملف", "مع", "نظيره", "في", "العاصمة"]
            .iter()
            .map(|w| format!("{w}{}", spelled(i)))
            .collect();
        let title = title.join(" ");
        let body = vec![
            format!("وقال المتحدث إن اللقاء تناول قضايا {}", spelled(i + 7));
            8
        ];
        lines.push(format!("{{\"id\":\"h{i}\",\"text\":\"{title}\"}}"));
        lines.push(format!(
            "{{\"id\":\"a{i}\",\"text\":\"{title}\\n{}\"}}",
            body.join(" ")
        ));
    }
    support::write_lines(&input, &lines);
    let temp_dir = s(temp.path());
    for extra in [
        &[][..],
        &["--linkage", "representative"][..],
        &[
            "--verify",
            "exact",
            "--include-singletons",
            "--measure",
            "containment",
        ][..],
    ] {
        let base = [&["cluster", s(&input)][..], extra].concat();
        let memory = run(&[&base[..], &["--format", "csv"]].concat());
        // 1 KiB: every batch goes to disk and every band is sorted in many runs.
        let spill = ["--memory-limit", "1K", "--temp-dir", temp_dir];
        let spilled = run(&[&base[..], &["--format", "csv"], &spill[..]].concat());
        assert_eq!(spilled, memory, "{extra:?}");
        assert!(memory.lines().count() > 400, "{extra:?}: clusters formed");
        let cluster_of = |id: &str| {
            let line = memory.lines().find(|l| l.split(',').any(|f| f == id));
            line.map(|l| l.split(',').next().unwrap().to_string())
        };
        assert!(
            cluster_of("h7").is_some() && cluster_of("h7") == cluster_of("a7"),
            "{extra:?}: a headline joins the article under its title"
        );

        if !extra.is_empty() {
            continue;
        }
        let in_memory_json = run(&[&base[..], &["--format", "json"]].concat());
        let on_disk_json = run(&[&base[..], &["--format", "json"], &spill[..]].concat());
        // The JSON report shows previews, read back from disk.
        let clusters = |json: &str| {
            serde_json::from_str::<serde_json::Value>(json).unwrap()["clusters"].clone()
        };
        assert_eq!(clusters(&on_disk_json), clusters(&in_memory_json));
        assert!(in_memory_json.contains("\"preview\""));
        let (in_memory, on_disk) = (stats(&in_memory_json), stats(&on_disk_json));
        assert_eq!(counts(&on_disk), counts(&in_memory), "{extra:?}");
        assert!(in_memory.get("spilled").is_none());
        assert!(on_disk["spilled"].as_u64().unwrap() > 500_000, "{on_disk}");
        assert_eq!(
            std::fs::read_dir(temp.path()).unwrap().count(),
            0,
            "temporary files are gone"
        );
    }
}

#[test]
fn identical_documents_on_disk_verify_a_linear_number_of_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("copies.jsonl");
    // Near-copies: the same headline with a different last word, so that they are not set
    // aside as exact copies and meet in large buckets.
    let lines: Vec<String> = (0..1500)
        .map(|i| {
            format!(
                "{{\"id\":\"d{i}\",\"text\":\"عاجل مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار في غزة بعد مفاوضات طويلة بين الأعضاء الدائمين وغير الدائمين رقم w{}\"}}",
                i % 500
            )
        })
        .collect();
    support::write_lines(&input, &lines);
    let json = run(&[
        "cluster",
        s(&input),
        "--format",
        "json",
        "--memory-limit",
        "1K",
    ]);
    let st = stats(&json);
    assert_eq!(st["documents"], 1500);
    assert_eq!(st["clusters"], 1);
    assert_eq!(st["copies"], 1000);
    // All pairs of the 500 distinct texts would be 124,750.
    let verified = st["verified"].as_u64().unwrap();
    assert!(
        verified < 3 * 500,
        "{verified} pairs verified for 500 distinct texts"
    );
}

#[test]
fn a_temporary_folder_that_is_not_one_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let file = support::write(&dir, "file", "x");
    let out = dir.path().join("out.csv");
    let err = support::fails(&[
        "cluster",
        s(&support::sample("headlines.jsonl")),
        "--temp-dir",
        &file,
        "-o",
        s(&out),
    ]);
    assert!(
        err.contains("--temp-dir") && err.contains("not a folder"),
        "{err}"
    );
    assert!(!out.exists());
    let err = support::fails(&["cluster", "-", "--memory-limit", "0"]);
    assert!(err.contains("--memory-limit"), "{err}");
}
