use serde_json::Value;

use super::*;
use crate::eval::Scores;
use crate::pipeline::{self, Input, RunOptions};
use crate::progress::NoProgress;
use crate::report::{Cluster, Format};
use crate::Document;

/// Clusters `(id, text)` documents, keeping their texts as `--format html` does.
fn report_of(docs: &[(&str, &str)]) -> Report {
    let docs: Vec<crate::Result<Document>> = docs
        .iter()
        .enumerate()
        .map(|(i, (id, text))| {
            let mut d = Document::new(*id, *text);
            d.line = i as u64 + 1;
            Ok(d)
        })
        .collect();
    let options = RunOptions {
        keep_text: true,
        ..RunOptions::default()
    };
    let outcome = pipeline::run(
        vec![Input::new("in.jsonl", docs.into_iter())],
        &Settings::default(),
        &options,
        &NoProgress,
    )
    .unwrap();
    let mut report = Report::new(&outcome, vec!["in.jsonl".into()], false);
    report.stats.seconds.clear();
    report
}

fn html(report: &Report) -> String {
    let mut out = Vec::new();
    write(report, &HtmlOptions::default(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The embedded JSON block, parsed.
fn data(page: &str) -> Value {
    let start = page.find("id=\"mukarrar-data\">").unwrap() + "id=\"mukarrar-data\">".len();
    let end = start + page[start..].find("</script>").unwrap();
    serde_json::from_str(&page[start..end]).unwrap()
}

const STORY: &str = "مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار في غزة بعد مفاوضات طويلة";

#[test]
fn marks_cover_the_changed_words_in_utf16_units() {
    assert_eq!(word_marks("a b c", "a b c"), (vec![], vec![]));
    // One word replaced: marked on both sides.
    assert_eq!(word_marks("a b c", "a x c"), (vec![2, 3], vec![2, 3]));
    // Neighbouring changed words make one range; the space between them is inside it.
    assert_eq!(word_marks("a b c d", "a x y d"), (vec![2, 5], vec![2, 5]));
    // Deleted only: nothing to mark on the new side.
    assert_eq!(word_marks("a b c", "a c"), (vec![2, 3], vec![]));
    // Offsets count UTF-16 units, as JavaScript does: 😀 is two.
    assert_eq!(word_marks("😀 ab", "😀 cd"), (vec![3, 5], vec![3, 5]));
    let (old, new) = word_marks("الأمم المتحدة تحثّ قادة", "جوتيريش يحثّ قادة");
    assert_eq!(old, vec![0, 18]);
    assert_eq!(new, vec![0, 12]);
}

#[test]
fn the_page_is_right_to_left_arabic_and_self_contained() {
    let page = html(&report_of(&[("a", STORY), ("b", STORY)]));
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"ar\" dir=\"rtl\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "));
    // Nothing is loaded from anywhere: no src or href, no URL but the SVG namespace.
    assert!(!page.contains("src="));
    assert!(!page.contains("href="));
    assert_eq!(
        page.matches("http").count(),
        page.matches("http://www.w3.org/2000/svg").count() + 1,
        "only the SVG namespace and the CSP's http-equiv"
    );
    // The page's own style and script carry the CSP's nonce.
    let csp_nonce = page
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert_eq!(csp_nonce.len(), 32);
    assert!(page.contains(&format!("<style nonce=\"{csp_nonce}\">")));
    assert!(page.contains(&format!("<script nonce=\"{csp_nonce}\">")));
    assert_eq!(page.matches("<script").count(), 2);
    assert!(page.contains("<svg class=\"chart s-curve\" id=\"s-curve-short\""));
    assert!(page.contains("<svg class=\"chart\" id=\"histogram\""));
}

/// A text of `n` distinct words.
fn long_text(n: usize, topic: &str) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{topic}{}",
                char::from_u32(0x0628 + (i % 20) as u32).unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_clusters_come_first_and_the_parameters_and_charts_are_collapsed_below_the_counts() {
    let page = html(&report_of(&[("a", STORY), ("b", STORY)]));
    let at = |needle: &str| {
        page.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing"))
    };
    // Counts, then the (closed) details, then the search box, then the list.
    assert!(at("class=\"card summary\"") < at("<details class=\"about\""));
    assert!(at("<details class=\"about\"") < at("<input id=\"q\""));
    assert!(at("<input id=\"q\"") < at("<main id=\"list\">"));
    assert!(!page.contains("<details class=\"about\" id=\"about\" open"));
    // The parameters, the timings and every chart are inside the details.
    let (open, close) = (at("<details class=\"about\""), at("</details>"));
    for inside in ["<h2>المعاملات</h2>", "<h2>الأزمنة</h2>", "<svg"] {
        let i = at(inside);
        assert!(open < i && i < close, "{inside} outside the details");
    }
    assert_eq!(page[close..].matches("<svg").count(), 0);
}

#[test]
fn one_s_curve_per_comparison_rule_the_groups_were_judged_by() {
    let curves = |docs: &[(&str, &str)]| -> Vec<String> {
        let page = html(&report_of(docs));
        page.split("<svg class=\"chart s-curve\" id=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_string())
            .collect()
    };
    // Headlines only: the short-text rule, drawn at its own threshold.
    assert_eq!(curves(&[("a", STORY), ("b", STORY)]), ["s-curve-short"]);
    let long = long_text(40, "خبر");
    assert_eq!(curves(&[("a", &long), ("b", &long)]), ["s-curve-long"]);
    assert_eq!(
        curves(&[("a", &long), ("b", &long), ("c", STORY), ("d", STORY)]),
        ["s-curve-short", "s-curve-long"]
    );
    // No group: every rule the settings have.
    assert_eq!(
        curves(&[("a", STORY), ("b", &long)]),
        ["s-curve-short", "s-curve-long"]
    );
    // The short curve marks the short threshold, the long one the threshold.
    let page = html(&report_of(&[
        ("a", &long),
        ("b", &long),
        ("c", STORY),
        ("d", STORY),
    ]));
    let settings = Settings::default();
    assert!(page.contains(&format!(">t = {:.2}</text>", settings.short.threshold)));
    assert!(page.contains(&format!(">t = {:.2}</text>", settings.threshold)));
}

#[test]
fn the_threshold_label_sits_above_the_dashed_line() {
    let page = html(&report_of(&[("a", STORY), ("b", STORY)]));
    let attr = |tag: &str, name: &str| -> f64 {
        let at = page.find(tag).unwrap();
        let rest = &page[at..];
        let v = rest.split(&format!(" {name}=\"")).nth(1).unwrap();
        v.split('"').next().unwrap().parse().unwrap()
    };
    // The line runs from y1 (bottom) up to y2 (top of the plot); the label's baseline is above.
    let top = attr("<line class=\"thr\"", "y2");
    assert!(attr("<text class=\"lbl thr-lbl\"", "y") < top - 2.0);
    // P(t) is written beside the line, never across it.
    let x = attr("<line class=\"thr\"", "x1");
    let px = attr("<text class=\"lbl p-lbl\"", "x");
    assert!((px - x).abs() >= 8.0);
}

#[test]
fn html_references_in_originals_are_decoded_once() {
    let quoted = format!("{STORY} &quot;تحديث&quot; &amp;quot;");
    let plain = format!("{STORY} \"تحديث\" &amp;quot;");
    let shown = format!("{STORY} \"تحديث\" &quot;");
    let data = data(&html(&report_of(&[("a", &quoted), ("b", &plain)])));
    let texts: Vec<&str> = data["docs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d[1].as_str().unwrap())
        .collect();
    // Shown as the normalizer read it: `&quot;` is a quotation mark, and `&amp;quot;` the
    // text `&quot;`, not decoded a second time.
    assert_eq!(texts, [shown.as_str(), shown.as_str()]);
    // Equal once decoded: no word is marked.
    assert_eq!(data["groups"][0]["m"][0].as_array().unwrap().len(), 2);
}

#[test]
fn markup_in_texts_ids_and_inputs_is_escaped_everywhere() {
    let bad = [
        "</script><script>alert(1)</script>",
        "<!-- <script>alert(2)</script>",
        "\"><img src=x onerror=alert(3)>",
        "' onmouseover='alert(4)",
    ];
    let docs: Vec<(String, String)> = bad
        .iter()
        .enumerate()
        .flat_map(|(i, b)| {
            // The two copies differ by a word, not a number: short texts holding different
            // numbers are never duplicates.
            ["صباحا", "مساء"]
                .iter()
                .enumerate()
                .map(move |(c, w)| (format!("{b}{i}{c}"), format!("{STORY} {b} {w}")))
        })
        .collect();
    let refs: Vec<(&str, &str)> = docs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let mut report = report_of(&refs);
    report.params.inputs = vec!["<b>in</b>.jsonl".into()];
    report.stats.seconds = vec![("<i>sign</i>".into(), 0.5)];
    let page = html(&report);

    // Exactly the page's two script elements open and close.
    assert_eq!(page.matches("<script").count(), 2);
    assert_eq!(page.matches("</script>").count(), 2);
    assert!(!page.contains("<!--"));
    assert!(!page.contains("<img"));
    assert!(!page.contains("<b>"));
    assert!(!page.contains("<i>"));
    assert!(page.contains("&lt;b&gt;in&lt;/b&gt;.jsonl"));
    assert!(page.contains("&lt;i&gt;sign&lt;/i&gt;"));
    // Inside the data block there is no '<', '>' or '&' at all…
    let start = page.find("id=\"mukarrar-data\">").unwrap() + 19;
    let block = &page[start..start + page[start..].find("</script>").unwrap()];
    assert!(!block.contains(['<', '>', '&']));
    // …and the texts come back intact from it.
    let data = data(&page);
    let docs_back: Vec<&str> = data["docs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d[1].as_str().unwrap())
        .collect();
    for b in bad {
        assert!(docs_back.iter().any(|t| t.contains(b)), "{b}");
    }
}

#[test]
fn clusters_come_largest_first_with_marks_for_both_forms() {
    let report = report_of(&[
        (
            "small-1",
            "ترامب يصف مكالمته مع بوتين بالجيدة ويأمل في لقاء قريب",
        ),
        ("big-1", STORY),
        (
            "small-2",
            "ترامب يصف مكالمته مع بوتين بالجيدة ويأمل في لقاء قريب جدا",
        ),
        ("big-2", STORY),
        (
            "big-3",
            "مجلس الامن يصوت اليوم على قرار لوقف دائم لاطلاق النار في غزة بعد مفاوضات طويلة",
        ),
    ]);
    let data = data(&html(&report));
    assert_eq!(data["mode"], "clusters");
    let groups = data["groups"].as_array().unwrap();
    let sizes: Vec<u64> = groups.iter().map(|g| g["n"].as_u64().unwrap()).collect();
    assert_eq!(sizes, vec![3, 2]);
    let docs = data["docs"].as_array().unwrap();
    let id = |i: &Value| {
        docs[i.as_u64().unwrap() as usize][0]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(id(&groups[0]["r"]), "big-1");
    let pairs = groups[0]["m"].as_array().unwrap();
    // big-2 is identical to the representative: no marks at all.
    assert_eq!(pairs[0].as_array().unwrap().len(), 2);
    assert_eq!(id(&pairs[0][0]), "big-2");
    // big-3 differs in hamza spelling only: marked in the original, not once normalized.
    let p = pairs[1].as_array().unwrap();
    assert_eq!(id(&p[0]), "big-3");
    assert_eq!(p.len(), 6);
    assert_ne!(p[2], serde_json::json!([]));
    assert_eq!(p[4], serde_json::json!([]));
    assert_eq!(p[5], serde_json::json!([]));
    // The normalized form is stored only when it differs from the original.
    assert!(docs.iter().all(|d| d[2].is_null() || d[2] != d[1]));
}

#[test]
fn the_same_report_gives_the_same_bytes_on_any_number_of_threads() {
    let mut docs: Vec<(String, String)> = Vec::new();
    for i in 0..40 {
        docs.push((format!("a{i}"), format!("{STORY} رقم {i}")));
        docs.push((format!("b{i}"), format!("{STORY} العدد {i} الأخير")));
    }
    let refs: Vec<(&str, &str)> = docs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let report = report_of(&refs);
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| html(&report))
    };
    let one = on(1);
    assert_eq!(one, on(3));
    assert_eq!(one, html(&report.clone()));
}

#[test]
fn without_texts_the_previews_are_shown() {
    let mut report = report_of(&[("a", STORY), ("b", STORY)]);
    for c in &mut report.clusters {
        for m in &mut c.members {
            m.text = None;
        }
    }
    let data = data(&html(&report));
    let preview = report.clusters[0].members[0].preview.clone();
    assert!(preview.ends_with('…'));
    assert_eq!(data["docs"][0][1], preview.as_str());
}

#[test]
fn the_format_writes_html_and_other_formats_stay_unchanged() {
    assert_eq!(Format::from_extension("out.html"), Some(Format::Html));
    assert_eq!(Format::from_extension("out.HTM"), Some(Format::Html));
    assert_eq!("html".parse::<Format>(), Ok(Format::Html));
    assert!(Format::Html.needs_text() && !Format::Json.needs_text());
    let report = report_of(&[("a", STORY), ("b", STORY)]);
    let mut out = Vec::new();
    Format::Html.write(&report, &mut out).unwrap();
    assert!(out.starts_with(b"<!DOCTYPE html>"));
    // JSON carries the texts only when the run kept them.
    let mut json = Vec::new();
    Format::Json.write(&report, &mut json).unwrap();
    assert!(String::from_utf8(json).unwrap().contains("\"text\""));
    let mut plain = report.clone();
    plain
        .clusters
        .iter_mut()
        .flat_map(|c| &mut c.members)
        .for_each(|m| m.text = None);
    let mut json = Vec::new();
    Format::Json.write(&plain, &mut json).unwrap();
    assert!(!String::from_utf8(json).unwrap().contains("\"text\""));
}

#[test]
fn the_histogram_counts_clusters_per_size_class() {
    let mut report = report_of(&[("a", STORY), ("b", STORY)]);
    let template = report.clusters[0].clone();
    report.clusters = [2, 2, 3, 7, 8, 150]
        .iter()
        .enumerate()
        .map(|(i, &size)| Cluster {
            id: i as u64,
            size,
            ..template.clone()
        })
        .collect();
    let mut svg = String::new();
    histogram(&mut svg, &report);
    // Bars up to the class of the largest cluster (101–200), labelled with their counts.
    assert_eq!(svg.matches("<rect class=\"bar\"").count(), 9);
    let counts: Vec<&str> = svg
        .split("text-anchor=\"middle\">")
        .skip(1)
        .map(|s| s.split('<').next().unwrap())
        .collect();
    assert_eq!(
        &counts[..18],
        &[
            "2",
            "2",
            "1",
            "3",
            "0",
            "4",
            "0",
            "5",
            "2",
            "6–10",
            "0",
            "11–20",
            "0",
            "21–50",
            "0",
            "51–100",
            "1",
            "101–200"
        ]
    );
}

#[test]
fn the_eval_page_lists_cases_with_kinds_and_labels() {
    let scores = crate::eval::score(&["x", "x", "y"], &[0, 1, 1]);
    let doc = |id: &str, text: &str, label: &str| CaseDoc {
        id: id.into(),
        text: text.into(),
        label: label.into(),
    };
    let page_model = EvalPage {
        settings: Settings::default(),
        files: vec![EvalFile {
            name: "<dev>.jsonl".into(),
            scores,
            cases: vec![
                EvalCase {
                    kind: CaseKind::FalseMerge,
                    a: doc("1", STORY, "x"),
                    b: doc("2", STORY, "y"),
                    similarity: 1.0,
                },
                EvalCase {
                    kind: CaseKind::FalseSplit,
                    a: doc("1", STORY, "x"),
                    b: doc("3", "نص مختلف تماما", "x"),
                    similarity: 0.0,
                },
            ],
        }],
    };
    let mut out = Vec::new();
    write_eval(&page_model, &HtmlOptions::default(), &mut out).unwrap();
    let page = String::from_utf8(out).unwrap();
    assert!(page.contains("<select id=\"kind\""));
    assert!(page.contains("&lt;dev&gt;.jsonl"));
    assert!(page.contains("<table class=\"scores\">"));
    let data = data(&page);
    assert_eq!(data["mode"], "eval");
    let kinds: Vec<&str> = data["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["k"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["false-merge", "false-split"]);
    // Document "1" is listed once and shared by both cases.
    assert_eq!(data["docs"].as_array().unwrap().len(), 3);
    assert_eq!(data["labels"], serde_json::json!(["x", "y", "x"]));
    let _: Scores = scores;
}

#[test]
fn histogram_steps_are_whole_numbers() {
    let got: Vec<usize> = [0, 1, 4, 5, 9, 21, 2_001].map(nice_ceiling).to_vec();
    assert_eq!(got, vec![4, 4, 4, 8, 20, 40, 4_000]);
}
