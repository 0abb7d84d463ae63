//! The HTML report: one self-contained page that opens anywhere, with no server and no
//! network.
//!
//! The page is right-to-left Arabic (`lang="ar" dir="rtl"`). The clusters come first: the
//! page opens on the counts, the search box and the list. The parameters, the timings, one
//! S-curve per comparison rule the shown documents were judged by (short texts by their word
//! sets, long texts by MinHash estimates) and a histogram of cluster sizes sit below the counts
//! in a collapsed `<details>`. All of that is written here as static, escaped HTML and inline
//! SVG. The groups themselves travel as one JSON block
//! (`<script type="application/json">`, with `<`, `>` and `&` written as `\u003c`, `\u003e`
//! and `\u0026`, so no text can close the block) and a small inline script renders them
//! lazily: rows as they scroll into view, texts when a group is opened, always through
//! `textContent`. An original text is shown with its HTML character references decoded once
//! (`&quot;` as `"`), exactly as the normalizer reads it, and the browser's `textContent`
//! escapes it once. Word-level differences between each member and its representative are
//! computed here, over the original and over the normalized texts, so the page only wraps
//! ranges in `<mark>`.
//!
//! A Content-Security-Policy allows only the page's own script and style (by a nonce derived
//! from the page's content) and no network access at all: even markup that got into the page
//! could neither run nor load anything.
//!
//! [`write()`] renders a [`Report`] (what `--format html` prints); [`write_eval`] renders the
//! wrongly clustered pairs of an evaluation ([`EvalPage`]).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;
use similar::{Algorithm, DiffTag, TextDiff};

use super::Report;
use crate::eval::{CaseKind, Scores};
use crate::normalize::entities;
use crate::pipeline::{Scratch, Settings, Signer, Stats};

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

/// Extras of an HTML page beyond its model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HtmlOptions {
    /// The page's heading (default: "mukarrar report" in Arabic); the window title adds the
    /// inputs.
    pub title: Option<String>,
    /// More rows for the parameters table, after the settings (e.g. an index's path).
    pub notes: Vec<(String, String)>,
}

/// An evaluation to show: the settings and, per labelled file, its scores and wrong pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalPage {
    /// The settings every file was clustered with.
    pub settings: Settings,
    /// One entry per file, in the order given.
    pub files: Vec<EvalFile>,
}

/// The evaluation of one labelled file.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalFile {
    /// The file's name as given.
    pub name: String,
    /// Its scores.
    pub scores: Scores,
    /// The wrong pairs to show (e.g. from [`crate::eval::explain`]).
    pub cases: Vec<EvalCase>,
}

/// A wrongly clustered pair with its texts.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalCase {
    /// Merge or split.
    pub kind: CaseKind,
    /// The first document (shown where a cluster shows its representative).
    pub a: CaseDoc,
    /// The second document.
    pub b: CaseDoc,
    /// The pair's similarity.
    pub similarity: f64,
}

/// One document of an [`EvalCase`].
#[derive(Debug, Clone, PartialEq)]
pub struct CaseDoc {
    /// Its id.
    pub id: String,
    /// Its original text.
    pub text: String,
    /// Its group label.
    pub label: String,
}

/// Writes `report` as one self-contained HTML page.
///
/// Members' whole texts are shown when the report carries them ([`super::Member::text`]);
/// otherwise their previews. The output depends only on `report` and `options`.
pub fn write(report: &Report, options: &HtmlOptions, out: &mut dyn Write) -> io::Result<()> {
    let settings = &report.params.settings;
    let mut payload = Payload::new("clusters", settings);
    let mut order: Vec<&super::Cluster> = report.clusters.iter().collect();
    order.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
    for c in order {
        let rep = c
            .members
            .iter()
            .find(|m| m.is_representative)
            .or(c.members.first());
        let Some(rep) = rep else { continue };
        let r = payload.doc(&rep.id, member_text(rep));
        let mut pairs = Vec::with_capacity(c.members.len().saturating_sub(1));
        for m in c.members.iter().filter(|m| !std::ptr::eq(*m, rep)) {
            let d = payload.doc(&m.id, member_text(m));
            pairs.push(payload.pair(r, d, m.similarity));
        }
        payload.groups.push(GroupRow {
            id: c.id.to_string(),
            n: c.size,
            r,
            m: pairs,
            k: None,
            f: None,
        });
    }

    payload.finish();
    let heading = options.title.as_deref().unwrap_or("تقرير مكرر");
    let title = format!("{heading} — {}", report.params.inputs.join("، "));
    let mut header = String::new();
    header_start(&mut header, heading, &report.params.inputs);
    summary_card(&mut header, &report.stats);
    about_start(&mut header, "المعاملات والأزمنة والمنحنيات");
    header.push_str("<div class=\"top\">");
    params_card(&mut header, settings, &options.notes);
    timings_card(&mut header, &report.stats);
    header.push_str("</div><div class=\"charts\">");
    s_curves(&mut header, settings, payload.rules_used());
    header.push_str("<figure class=\"card\">");
    histogram(&mut header, report);
    header.push_str("</figure></div></details>\n");
    page(out, &title, &header, false, &payload)
}

/// Writes an evaluation as one self-contained HTML page: the scores of each file, then its
/// wrong pairs side by side with their differences marked.
pub fn write_eval(
    page_model: &EvalPage,
    options: &HtmlOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let settings = &page_model.settings;
    let mut payload = Payload::new("eval", settings);
    let mut labels: Vec<String> = Vec::new();
    for (f, file) in page_model.files.iter().enumerate() {
        payload.files.push(file.name.clone());
        // Documents are shared between cases of one file, never across files.
        payload.seen.clear();
        for (n, case) in file.cases.iter().enumerate() {
            let a = payload.doc(&case.a.id, &case.a.text);
            let b = payload.doc(&case.b.id, &case.b.text);
            labels.resize(payload.docs.len(), String::new());
            labels[a] = case.a.label.clone();
            labels[b] = case.b.label.clone();
            let pair = payload.pair(a, b, case.similarity);
            payload.groups.push(GroupRow {
                id: format!("{}:{}", f + 1, n + 1),
                n: 2,
                r: a,
                m: vec![pair],
                k: Some(case.kind.name()),
                f: Some(f),
            });
        }
    }
    payload.labels = Some(labels);
    payload.finish();

    let names: Vec<String> = page_model.files.iter().map(|f| f.name.clone()).collect();
    let heading = options.title.as_deref().unwrap_or("تقييم مكرر");
    let title = format!("{heading} — {}", names.join("، "));
    let mut header = String::new();
    header_start(&mut header, heading, &names);
    header.push_str("<div class=\"top\">");
    scores_card(&mut header, page_model);
    header.push_str("</div>");
    about_start(&mut header, "المعاملات والمنحنيات");
    header.push_str("<div class=\"top\">");
    params_card(&mut header, settings, &options.notes);
    header.push_str("</div><div class=\"charts\">");
    s_curves(&mut header, settings, payload.rules_used());
    header.push_str("</div></details>\n");
    page(out, &title, &header, true, &payload)
}

fn member_text(m: &super::Member) -> &str {
    m.text.as_deref().unwrap_or(&m.preview)
}

// ── the embedded data ──────────────────────────────────────────────────────────────────────

/// What the page's script renders. Documents are listed once; groups point into them.
#[derive(Serialize)]
struct Payload {
    mode: &'static str,
    /// `[id, original text, normalized text or null when normalization changes nothing]`.
    docs: Vec<(String, String, Option<String>)>,
    groups: Vec<GroupRow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    files: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<Vec<String>>,
    /// Prepares and normalizes texts as the run did.
    #[serde(skip)]
    signer: Signer,
    /// Texts of fewer words than this (after normalization) are short; 0: none is.
    #[serde(skip)]
    short_words: usize,
    /// Per document: whether it is a short text (filled in by [`Self::finish`]).
    #[serde(skip)]
    short: Vec<bool>,
    /// The (representative, member) documents of every pair, in group order.
    #[serde(skip)]
    pending: Vec<(usize, usize)>,
    /// Document id → index in `docs`.
    #[serde(skip)]
    seen: HashMap<String, usize>,
}

/// One group: a cluster, or one wrong pair of an evaluation.
#[derive(Serialize)]
struct GroupRow {
    id: String,
    /// Size.
    n: usize,
    /// The representative (or first document).
    r: usize,
    /// The other members, each compared with `r`.
    m: Vec<PairRow>,
    /// Kind of an evaluation case.
    #[serde(skip_serializing_if = "Option::is_none")]
    k: Option<&'static str>,
    /// File of an evaluation case.
    #[serde(skip_serializing_if = "Option::is_none")]
    f: Option<usize>,
}

/// `[doc, similarity]` when both texts are equal, else
/// `[doc, similarity, rep marks, doc marks, rep marks normalized, doc marks normalized]`;
/// marks are `[start, end, …]` in UTF-16 code units, as JavaScript strings count.
#[derive(Serialize)]
#[serde(untagged)]
enum PairRow {
    Same(usize, f64),
    Diff(usize, f64, Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>),
}

impl Payload {
    fn new(mode: &'static str, settings: &Settings) -> Payload {
        Payload {
            mode,
            docs: Vec::new(),
            groups: Vec::new(),
            files: Vec::new(),
            labels: None,
            signer: Signer::new(settings),
            short_words: settings.short.words,
            short: Vec::new(),
            pending: Vec::new(),
            seen: HashMap::new(),
        }
    }

    fn doc(&mut self, id: &str, text: &str) -> usize {
        if let Some(&i) = self.seen.get(id) {
            return i;
        }
        let i = self.docs.len();
        self.docs.push((id.to_string(), text.to_string(), None));
        self.seen.insert(id.to_string(), i);
        i
    }

    /// A pair of `r` (the representative) and `d`; its marks are filled in by [`Self::finish`].
    fn pair(&mut self, r: usize, d: usize, similarity: f64) -> PairRow {
        self.pending.push((r, d));
        PairRow::Same(d, (similarity * 10_000.0).round() / 10_000.0)
    }

    /// Normalizes every document and marks every pair's differences, in parallel (on the
    /// current rayon pool); the result does not depend on the number of threads.
    ///
    /// Each document is normalized from its text as given, as the run did; the text shown (and
    /// compared word by word) has its HTML character references decoded.
    fn finish(&mut self) {
        let signer = &self.signer;
        let prepared: Vec<(String, String)> = self
            .docs
            .par_iter()
            .map_init(Scratch::default, |scratch, (_, text, _)| {
                signer.normalize_into(text, scratch);
                let normalized = std::mem::take(&mut scratch.normalized);
                (entities::decode(text).into_owned(), normalized)
            })
            .collect();
        let short_words = self.short_words;
        self.short = prepared
            .iter()
            .map(|(_, n)| !n.is_empty() && n.split(' ').count() < short_words)
            .collect();
        for (doc, (shown, _)) in self.docs.iter_mut().zip(&prepared) {
            doc.1.clone_from(shown);
        }
        let docs = &self.docs;
        let rows: Vec<&mut PairRow> = self.groups.iter_mut().flat_map(|g| &mut g.m).collect();
        rows.into_par_iter()
            .zip(self.pending.par_iter())
            .for_each(|(row, &(r, d))| {
                let sim = match row {
                    PairRow::Same(_, s) | PairRow::Diff(_, s, ..) => *s,
                };
                let (a, b) = (&docs[r].1, &docs[d].1);
                if a != b {
                    let (ra, da) = word_marks(a, b);
                    let (rn, dn) = word_marks(&prepared[r].1, &prepared[d].1);
                    *row = PairRow::Diff(d, sim, ra, da, rn, dn);
                }
            });
        self.pending.clear();
        for (doc, (_, norm)) in self.docs.iter_mut().zip(prepared) {
            if norm != doc.1 {
                doc.2 = Some(norm);
            }
        }
    }

    /// How many groups were judged by each comparison rule: a group's rule is its first
    /// document's (short and long texts are never compared with each other).
    fn rules_used(&self) -> RulesUsed {
        let mut used = RulesUsed::default();
        for g in &self.groups {
            if self.short[g.r] {
                used.short += 1;
            } else {
                used.long += 1;
            }
        }
        used
    }
}

/// Groups per comparison rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct RulesUsed {
    short: usize,
    long: usize,
}

/// Serializes the payload for a `<script type="application/json">` block: `<`, `>` and `&`
/// (which JSON only allows inside strings) become `\u` escapes, so the block's content can
/// never read as `</script>` or `<!--`.
fn json_for_script<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_string(value).expect("the payload serializes");
    let mut out = String::with_capacity(json.len() + json.len() / 64);
    for ch in json.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

// ── word differences ───────────────────────────────────────────────────────────────────────

/// The words of `old` missing from `new` and the words of `new` missing from `old`, as
/// `[start, end, …]` ranges in UTF-16 code units. Neighbouring changed words are one range.
pub(crate) fn word_marks(old: &str, new: &str) -> (Vec<u32>, Vec<u32>) {
    if old == new {
        return (Vec::new(), Vec::new());
    }
    // No deadline: the result must not depend on the machine's speed.
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .diff_words(old, new);
    let old_tokens = diff.old_slices();
    let new_tokens = diff.new_slices();
    let old_at = utf16_offsets(old_tokens);
    let new_at = utf16_offsets(new_tokens);
    let mut old_marks = Vec::new();
    let mut new_marks = Vec::new();
    for op in diff.ops() {
        let tag = op.tag();
        if matches!(tag, DiffTag::Delete | DiffTag::Replace) {
            push_range(&mut old_marks, old_tokens, &old_at, op.old_range());
        }
        if matches!(tag, DiffTag::Insert | DiffTag::Replace) {
            push_range(&mut new_marks, new_tokens, &new_at, op.new_range());
        }
    }
    (old_marks, new_marks)
}

/// UTF-16 offset of each token's start, and of the end.
fn utf16_offsets(tokens: &[&str]) -> Vec<u32> {
    let mut at = Vec::with_capacity(tokens.len() + 1);
    let mut pos = 0u32;
    at.push(0);
    for t in tokens {
        pos += t.encode_utf16().count() as u32;
        at.push(pos);
    }
    at
}

/// Adds the tokens `range` (trimmed of whitespace tokens) to `marks`, joining it to the last
/// range when only whitespace lies between them.
fn push_range(marks: &mut Vec<u32>, tokens: &[&str], at: &[u32], range: std::ops::Range<usize>) {
    let blank = |i: usize| tokens[i].trim().is_empty();
    let (mut start, mut end) = (range.start, range.end);
    while start < end && blank(start) {
        start += 1;
    }
    while end > start && blank(end - 1) {
        end -= 1;
    }
    if start == end {
        return;
    }
    if let Some(last) = marks.last_mut() {
        let gap_start = at.partition_point(|&x| x < *last);
        if gap_start <= start && (gap_start..start).all(blank) {
            *last = at[end];
            return;
        }
    }
    marks.push(at[start]);
    marks.push(at[end]);
}

// ── the page ───────────────────────────────────────────────────────────────────────────────

fn page(
    out: &mut dyn Write,
    title: &str,
    header: &str,
    eval: bool,
    payload: &Payload,
) -> io::Result<()> {
    let json = json_for_script(payload);
    let nonce = {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(json.as_bytes());
        h.update(header.as_bytes());
        h.update(JS.as_bytes());
        h.update(CSS.as_bytes());
        format!("{:032x}", h.digest128())
    };
    let mut head = String::new();
    let _ = write!(
        head,
        "<!DOCTYPE html>\n<html lang=\"ar\" dir=\"rtl\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src 'none'; \
         base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"mukarrar {}\">\n<title>{}</title>\n\
         <style nonce=\"{nonce}\">\n{CSS}</style>\n</head>\n<body>\n",
        env!("CARGO_PKG_VERSION"),
        esc(title)
    );
    out.write_all(head.as_bytes())?;
    out.write_all(header.as_bytes())?;
    let mut bar = String::new();
    bar.push_str(
        "\n<div class=\"toolbar\" role=\"search\">\
         <input id=\"q\" type=\"search\" dir=\"auto\" autocomplete=\"off\" \
         placeholder=\"ابحث في المعرّفات والنصوص\" aria-label=\"بحث\">",
    );
    if eval {
        bar.push_str(
            "<select id=\"kind\" aria-label=\"النوع\"><option value=\"\">كل الحالات</option>\
             <option value=\"false-merge\">دمج خاطئ</option>\
             <option value=\"false-split\">فصل خاطئ</option></select>",
        );
    }
    bar.push_str(
        "<label><input id=\"norm\" type=\"checkbox\"> الصيغة بعد التطبيع</label>\
         <span id=\"count\"></span>\
         <span class=\"keys\"><kbd>/</kbd> بحث · <kbd>j</kbd> <kbd>k</kbd> تنقّل · \
         <kbd>Enter</kbd> فتح · <kbd>n</kbd> التطبيع</span></div>\n\
         <main id=\"list\"></main>\n<div id=\"more\"></div>\n\
         <noscript><p class=\"empty\">يحتاج عرض المجموعات إلى جافاسكربت.</p></noscript>\n\
         <script type=\"application/json\" id=\"mukarrar-data\">",
    );
    out.write_all(bar.as_bytes())?;
    out.write_all(json.as_bytes())?;
    let tail = format!("</script>\n<script nonce=\"{nonce}\">\n{JS}</script>\n</body>\n</html>\n");
    out.write_all(tail.as_bytes())
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn header_start(h: &mut String, heading: &str, inputs: &[String]) {
    let _ = write!(
        h,
        "<header>\n<h1>{}<small>mukarrar</small></h1>\n<p class=\"inputs\">",
        esc(heading)
    );
    for (n, i) in inputs.iter().enumerate() {
        let sep = if n > 0 { "، " } else { "" };
        let _ = write!(h, "{sep}<bdi dir=\"ltr\" class=\"mono\">{}</bdi>", esc(i));
    }
    h.push_str("</p>\n</header>\n");
}

/// The counts, in one line above the search box.
fn summary_card(h: &mut String, stats: &Stats) {
    h.push_str("<section class=\"card summary\" aria-label=\"الملخص\"><dl class=\"stats\">");
    let items = [
        ("المستندات", stats.documents),
        ("المجموعات", stats.clusters),
        ("النسخ المكررة", stats.duplicates),
        ("في مجموعات", stats.clustered),
        ("فارغة بعد التطبيع", stats.empty),
        ("متخطاة", stats.skipped),
    ];
    for (label, n) in items {
        let _ = write!(
            h,
            "<div><dt>{label}</dt><dd><bdi class=\"num\">{n}</bdi></dd></div>"
        );
    }
    h.push_str("</dl></section>\n");
}

/// Opens the collapsed section that holds the parameters and the charts, titled `what`.
fn about_start(h: &mut String, what: &str) {
    let _ = writeln!(
        h,
        "<details class=\"about\" id=\"about\"><summary>{}</summary>",
        esc(what)
    );
}

/// Seconds per stage, and the candidate buckets.
fn timings_card(h: &mut String, stats: &Stats) {
    h.push_str("<section class=\"card\"><h2>الأزمنة</h2><table class=\"kv\"><tbody>");
    let mut total = 0.0;
    for (stage, s) in &stats.seconds {
        total += s;
        let _ = write!(
            h,
            "<tr><th><code>{}</code></th><td><bdi class=\"num\">{s:.3} s</bdi></td></tr>",
            esc(stage)
        );
    }
    if !stats.seconds.is_empty() {
        let _ = write!(
            h,
            "<tr><th>المجموع</th><td><bdi class=\"num\">{total:.3} s</bdi></td></tr>"
        );
    }
    let _ = write!(
        h,
        "<tr><th>دلاء مرشحة</th><td><bdi class=\"num\">{}</bdi></td></tr>\
         <tr><th>أزواج فُحصت</th><td><bdi class=\"num\">{}</bdi></td></tr>",
        stats.buckets, stats.verified
    );
    h.push_str("</tbody></table></section>");
}

fn params_card(h: &mut String, settings: &Settings, notes: &[(String, String)]) {
    h.push_str("<section class=\"card\"><h2>المعاملات</h2><table class=\"kv\"><tbody>");
    let mut rows = Vec::new();
    if let Ok(value) = serde_json::to_value(settings) {
        flatten("", &value, &mut rows);
    }
    rows.extend(notes.iter().cloned());
    for (k, v) in rows {
        let _ = write!(
            h,
            "<tr><th><code>{}</code></th><td><bdi dir=\"ltr\" class=\"mono\">{}</bdi></td></tr>",
            esc(&k),
            esc(&v)
        );
    }
    h.push_str("</tbody></table></section>");
}

/// Flattens nested settings into `a.b = value` rows.
fn flatten(prefix: &str, v: &serde_json::Value, rows: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, rows);
            }
        }
        serde_json::Value::String(s) => rows.push((prefix.to_string(), s.clone())),
        other => rows.push((prefix.to_string(), other.to_string())),
    }
}

fn scores_card(h: &mut String, page_model: &EvalPage) {
    h.push_str(
        "<section class=\"card wide\"><h2>النتائج</h2><table class=\"scores\"><thead><tr>\
         <th>الملف</th><th class=\"num\">المستندات</th><th class=\"num\">الدقة</th>\
         <th class=\"num\">الاستدعاء</th><th class=\"num\">F1</th><th class=\"num\">ARI</th>\
         <th class=\"num\">أزواج مدمجة خطأ</th><th class=\"num\">أزواج مفصولة خطأ</th>\
         </tr></thead><tbody>",
    );
    for f in &page_model.files {
        let s = &f.scores;
        let merges = s.predicted_pairs - s.correct_pairs;
        let splits = s.true_pairs - s.correct_pairs;
        let _ = write!(
            h,
            "<tr><td><bdi dir=\"ltr\" class=\"mono\">{}</bdi></td>\
             <td class=\"num\"><bdi class=\"num\">{}</bdi></td>\
             <td class=\"num\"><bdi class=\"num\">{:.4}</bdi></td>\
             <td class=\"num\"><bdi class=\"num\">{:.4}</bdi></td>\
             <td class=\"num\"><bdi class=\"num\">{:.4}</bdi></td>\
             <td class=\"num\"><bdi class=\"num\">{:.4}</bdi></td>\
             <td class=\"num\"><bdi class=\"num\">{merges}</bdi></td>\
             <td class=\"num\"><bdi class=\"num\">{splits}</bdi></td></tr>",
            esc(&f.name),
            s.documents,
            s.precision,
            s.recall,
            s.f1,
            s.ari
        );
    }
    h.push_str(
        "</tbody></table><p class=\"keys\">تعرض القائمة أدناه أشد الحالات: أكثر الأزواج المدمجة \
         خطأً تشابهًا، وأقل الأزواج المفصولة خطأً تشابهًا.</p></section>",
    );
}

// ── charts ─────────────────────────────────────────────────────────────────────────────────

const W: f64 = 420.0;
const H: f64 = 240.0;
const LEFT: f64 = 46.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 40.0;

/// One S-curve per comparison rule the shown groups were judged by; when no group is shown,
/// one per rule the settings have.
fn s_curves(h: &mut String, settings: &Settings, used: RulesUsed) {
    let nothing = used == RulesUsed::default();
    let p = settings.lsh;
    let bands = format!(
        "<bdi class=\"num\">{} × {}</bdi> (نطاقات × صفوف)",
        p.bands, p.rows
    );
    if settings.short.words > 0 && (used.short > 0 || nothing) {
        let short = &settings.short;
        let run = if short.run_words > 0 {
            format!(
                "، أو اشتركا في تتابع من <bdi class=\"num\">{}</bdi> كلمات متتالية على الأقل \
                 يغطي <bdi class=\"num\">{:.0}%</bdi> من الأقصر",
                short.run_words,
                short.run_share * 100.0
            )
        } else {
            String::new()
        };
        let numbers = if short.numbers {
            "؛ ونصّان فيهما أرقام مختلفة لا يُعدّان مكررين"
        } else {
            ""
        };
        let caption = format!(
            "<strong>النصوص القصيرة</strong> (أقل من <bdi class=\"num\">{words}</bdi> كلمة؛ \
             <bdi class=\"num\">{groups}</bdi> مجموعة): يرشّح LSH ‏{bands} الأزواج بتقدير \
             تشابه مجموعتي الكلمات، ثم يُقبل الزوج إن بلغ تشابه Jaccard الدقيق لمجموعتي كلماته \
             <bdi class=\"num\">{t:.2}</bdi>{run}{numbers}. الأحمر: مرشحون تحت العتبة يرفضهم \
             التحقق الدقيق، الأخضر: أزواج فوق العتبة قد لا تُرشَّح.",
            words = short.words,
            groups = used.short,
            t = short.threshold,
        );
        s_curve(
            h,
            "s-curve-short",
            settings,
            short.threshold,
            "تشابه مجموعتي الكلمات (Jaccard)",
            &caption,
        );
    }
    if used.long > 0 || nothing {
        let size = if settings.short.words > 0 {
            format!(
                "<bdi class=\"num\">{}</bdi> كلمة فأكثر؛ ",
                settings.short.words
            )
        } else {
            String::new()
        };
        let words = if settings.reword.on() && settings.reword.low < settings.threshold {
            format!(
                "، أو بلغ <bdi class=\"num\">{:.2}</bdi> وبلغ تشابه مجموعتي كلماته \
                 <bdi class=\"num\">{:.2}</bdi> (نسخة أعيدت صياغتها)",
                settings.reword.low, settings.reword.threshold
            )
        } else {
            String::new()
        };
        let caption = format!(
            "<strong>النصوص الطويلة</strong> ({size}<bdi class=\"num\">{groups}</bdi> مجموعة): \
             منحنى LSH ‏{bands}؛ يُقبل الزوج إن بلغ تقدير التشابه من البصمات \
             <bdi class=\"num\">{t:.2}</bdi>{words}. الأحمر: مرشحون تحت العتبة، الأخضر: أزواج \
             فوق العتبة قد تفوت.",
            groups = used.long,
            t = settings.threshold,
        );
        s_curve(
            h,
            "s-curve-long",
            settings,
            settings.threshold,
            &format!("التشابه ({})", settings.measure.name()),
            &caption,
        );
    }
}

/// P(candidate | similarity) of the chosen bands × rows, with the threshold `t` marked and the
/// false-positive and false-negative areas shaded. The threshold's value is written above the
/// plot and P(t) beside the dot, so no label meets the dashed line.
fn s_curve(h: &mut String, id: &str, settings: &Settings, t: f64, x_label: &str, caption: &str) {
    let p = settings.lsh;
    let t = t.clamp(0.0, 1.0);
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let x = |s: f64| LEFT + s * pw;
    let y = |v: f64| TOP + (1.0 - v) * ph;
    const STEPS: usize = 200;
    let pts: Vec<(f64, f64)> = (0..=STEPS)
        .map(|i| {
            let s = i as f64 / STEPS as f64;
            (s, p.probability(s))
        })
        .collect();
    let _ = write!(
        h,
        "<figure class=\"card\"><svg class=\"chart s-curve\" id=\"{id}\" viewBox=\"0 0 {W} {H}\" \
         role=\"img\" aria-label=\"S-curve\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    grid(h, pw, ph);
    // False positives: under the curve, left of the threshold.
    let mut fp = format!("M{:.1},{:.1}", x(0.0), y(0.0));
    for &(s, v) in pts.iter().filter(|(s, _)| *s <= t) {
        let _ = write!(fp, " L{:.1},{:.1}", x(s), y(v));
    }
    let _ = write!(
        fp,
        " L{:.1},{:.1} L{:.1},{:.1} Z",
        x(t),
        y(p.probability(t)),
        x(t),
        y(0.0)
    );
    // False negatives: above the curve, right of the threshold.
    let mut fneg = format!(
        "M{:.1},{:.1} L{:.1},{:.1}",
        x(t),
        y(1.0),
        x(t),
        y(p.probability(t))
    );
    for &(s, v) in pts.iter().filter(|(s, _)| *s >= t) {
        let _ = write!(fneg, " L{:.1},{:.1}", x(s), y(v));
    }
    let _ = write!(fneg, " L{:.1},{:.1} Z", x(1.0), y(1.0));
    let mut curve = String::new();
    for (i, &(s, v)) in pts.iter().enumerate() {
        let _ = write!(
            curve,
            "{}{:.1},{:.1}",
            if i == 0 { "M" } else { " L" },
            x(s),
            y(v)
        );
    }
    let pt = p.probability(t);
    let right = t <= 0.6;
    let _ = write!(
        h,
        "<path class=\"fp\" d=\"{fp}\"/><path class=\"fn\" d=\"{fneg}\"/>\
         <path class=\"curve\" d=\"{curve}\"/>\
         <line class=\"thr\" x1=\"{tx:.1}\" y1=\"{y0:.1}\" x2=\"{tx:.1}\" y2=\"{y1:.1}\"/>\
         <circle class=\"dot\" cx=\"{tx:.1}\" cy=\"{ty:.1}\" r=\"3.5\"/>\
         <text class=\"lbl thr-lbl\" x=\"{tlx:.1}\" y=\"{tly:.1}\" text-anchor=\"middle\">t = {t:.2}</text>\
         <text class=\"lbl p-lbl\" x=\"{plx:.1}\" y=\"{ply:.1}\" text-anchor=\"{anchor}\">P = {pt:.3}</text>",
        tx = x(t),
        y0 = y(0.0),
        y1 = y(1.0),
        ty = y(pt),
        tlx = x(t).clamp(LEFT + 22.0, W - RIGHT - 22.0),
        tly = TOP - 6.0,
        plx = if right { x(t) + 8.0 } else { x(t) - 8.0 },
        ply = (y(pt) + 4.0).clamp(TOP + 10.0, TOP + ph - 4.0),
        anchor = if right { "start" } else { "end" },
    );
    axis_labels(h, x_label, "احتمال الترشيح");
    let _ = write!(h, "</svg><figcaption>{caption}</figcaption></figure>");
}

fn grid(h: &mut String, pw: f64, ph: f64) {
    for i in 0..=4 {
        let f = i as f64 / 4.0;
        let gx = LEFT + f * pw;
        let gy = TOP + (1.0 - f) * ph;
        let _ = write!(
            h,
            "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{gy:.1}\" x2=\"{:.1}\" y2=\"{gy:.1}\"/>\
             <line class=\"grid\" x1=\"{gx:.1}\" y1=\"{TOP}\" x2=\"{gx:.1}\" y2=\"{:.1}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{f}</text>\
             <text x=\"{gx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{f}</text>",
            LEFT + pw,
            TOP + ph,
            LEFT - 5.0,
            gy + 4.0,
            TOP + ph + 14.0
        );
    }
    axis_lines(h);
}

/// The left and bottom edges of the plot area.
fn axis_lines(h: &mut String) {
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let _ = write!(
        h,
        "<path class=\"axis\" d=\"M{LEFT},{TOP} L{LEFT},{:.1} L{:.1},{:.1}\"/>",
        TOP + ph,
        LEFT + pw,
        TOP + ph
    );
}

fn axis_labels(h: &mut String, x_label: &str, y_label: &str) {
    let _ = write!(
        h,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
         <text transform=\"translate(12 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        LEFT + (W - LEFT - RIGHT) / 2.0,
        H - 6.0,
        esc(x_label),
        TOP + (H - TOP - BOTTOM) / 2.0,
        esc(y_label)
    );
}

/// Size classes of the histogram: exact sizes up to 5, then wider bins.
const BINS: [(usize, usize); 11] = [
    (2, 2),
    (3, 3),
    (4, 4),
    (5, 5),
    (6, 10),
    (11, 20),
    (21, 50),
    (51, 100),
    (101, 200),
    (201, 1000),
    (1001, usize::MAX),
];

/// The smallest of 4, 8, 20, 40, 80, 200, … that is at least `n`, so that the four grid steps
/// are whole numbers.
fn nice_ceiling(n: usize) -> usize {
    let mut base = 1;
    loop {
        for step in [1, 2, 5] {
            if 4 * step * base >= n {
                return 4 * step * base;
            }
        }
        base *= 10;
    }
}

/// Number of clusters per size class.
fn histogram(h: &mut String, report: &Report) {
    let mut counts = [0usize; BINS.len()];
    let mut singletons = 0usize;
    for c in &report.clusters {
        if c.size < 2 {
            singletons += 1;
            continue;
        }
        if let Some(i) = BINS
            .iter()
            .position(|&(lo, hi)| c.size >= lo && c.size <= hi)
        {
            counts[i] += 1;
        }
    }
    let last = counts.iter().rposition(|&n| n > 0).map_or(4, |i| i.max(4));
    let bins = &BINS[..=last];
    let max = nice_ceiling(counts[..=last].iter().copied().max().unwrap_or(0));
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let slot = pw / bins.len() as f64;
    let _ = write!(
        h,
        "<svg class=\"chart\" id=\"histogram\" viewBox=\"0 0 {W} {H}\" role=\"img\" \
         aria-label=\"cluster sizes\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for i in 0..=4 {
        let f = i as f64 / 4.0;
        let gy = TOP + (1.0 - f) * ph;
        let _ = write!(
            h,
            "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{gy:.1}\" x2=\"{:.1}\" y2=\"{gy:.1}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT + pw,
            LEFT - 5.0,
            gy + 4.0,
            max / 4 * i
        );
    }
    for (i, &(lo, hi)) in bins.iter().enumerate() {
        let n = counts[i];
        let bh = n as f64 / max as f64 * ph;
        let bx = LEFT + i as f64 * slot + slot * 0.15;
        let label = match (lo, hi) {
            (lo, hi) if lo == hi => lo.to_string(),
            (lo, usize::MAX) => format!("{lo}+"),
            (lo, hi) => format!("{lo}–{hi}"),
        };
        let _ = write!(
            h,
            "<rect class=\"bar\" x=\"{bx:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\"/>\
             <text class=\"lbl\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{n}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>",
            TOP + ph - bh,
            slot * 0.7,
            bx + slot * 0.35,
            TOP + ph - bh - 4.0,
            bx + slot * 0.35,
            TOP + ph + 14.0
        );
    }
    axis_lines(h);
    axis_labels(h, "حجم المجموعة", "عدد المجموعات");
    h.push_str("</svg><figcaption>توزيع أحجام المجموعات");
    if singletons > 0 {
        let _ = write!(
            h,
            "؛ ومعها <bdi class=\"num\">{singletons}</bdi> مستندًا بلا نظير"
        );
    }
    h.push_str(".</figcaption>");
}

#[cfg(test)]
mod tests;
