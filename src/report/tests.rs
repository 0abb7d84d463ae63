use super::*;
use crate::pipeline::{cluster_texts, Settings};

fn sample() -> Report {
    let texts = [
        "مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة",
        "ترامب يصف مكالمته مع بوتين بالجيدة",
        "مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة",
    ];
    let outcome = cluster_texts(&texts, &Settings::default()).unwrap();
    Report::new(&outcome, vec!["in.jsonl".into()], false)
}

fn render(format: Format, report: &Report) -> String {
    let mut out = Vec::new();
    format.write(report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn csv_has_the_contract_header_and_one_row_per_member() {
    let csv = render(Format::Csv, &sample());
    assert_eq!(
        csv,
        "cluster_id,doc_id,similarity,is_representative\n0,1,1.0000,true\n0,3,1.0000,false\n"
    );
}

#[test]
fn singletons_are_added_in_id_order() {
    let texts = ["a b c d", "x y z w", "a b c d"];
    let outcome = cluster_texts(&texts, &Settings::default()).unwrap();
    let report = Report::new(&outcome, vec![], true);
    let ids: Vec<(u64, usize)> = report.clusters.iter().map(|c| (c.id, c.size)).collect();
    assert_eq!(ids, vec![(0, 2), (1, 1)]);
}

#[test]
fn json_round_trips() {
    let report = sample();
    let json = render(Format::Json, &report);
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
}

#[test]
fn jsonl_is_one_cluster_per_line() {
    let jsonl = render(Format::Jsonl, &sample());
    let lines: Vec<&str> = jsonl.lines().collect();
    assert_eq!(lines.len(), 1);
    let c: Cluster = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(c.size, 2);
    assert_eq!(c.representative, "1");
}

#[test]
fn text_names_members_and_marks_the_representative() {
    let text = render(Format::Text, &sample());
    assert!(
        text.starts_with("cluster 0 (2 documents)\n  * 1  1.000  مجلس"),
        "{text}"
    );
    assert!(text.contains("\n    3  1.000  مجلس"), "{text}");
}

#[test]
fn format_from_extension() {
    assert_eq!(Format::from_extension("out.CSV"), Some(Format::Csv));
    assert_eq!(Format::from_extension("a.b.jsonl"), Some(Format::Jsonl));
    assert_eq!(Format::from_extension("report"), None);
}
