//! The rules applied one at a time to the whole text.
//!
//! Slow, and plainly in the documented order: each rule's ops run over the full text before the
//! next rule starts, NFKC runs on the whole string, and the context steps look at real
//! neighbours. [`super::Normalizer::explain`] uses it to say which rule changed what, and the
//! tests hold the single-pass normalizer to it.

use unicode_normalization::UnicodeNormalization;

use super::chars;
use super::rules::{Context, Op, RuleDef};
use super::Change;

const YEH: char = '\u{064A}';
const HAMZA: char = '\u{0621}';

/// Normalizes `text` by `rules`, rule by rule, noting each distinct change in `log`.
pub(crate) fn normalize(
    rules: &[&'static RuleDef],
    text: &str,
    mut log: Option<&mut Vec<Change>>,
) -> String {
    let keep_separators = rules
        .iter()
        .flat_map(|r| r.ops)
        .any(|op| matches!(op, Op::Context(Context::DigitSeparators)));
    let mut cur: Vec<char> = text.chars().collect();
    for &rule in rules {
        for op in rule.ops {
            let mut note = |from: String, to: String| {
                if let Some(log) = log.as_deref_mut() {
                    let change = Change {
                        rule: rule.id,
                        description: rule.description,
                        from,
                        to,
                    };
                    if !log.contains(&change) {
                        log.push(change);
                    }
                }
            };
            cur = apply(op, &cur, keep_separators, &mut note);
        }
    }
    cur.into_iter().collect()
}

fn apply(
    op: &Op,
    cur: &[char],
    keep_separators: bool,
    note: &mut dyn FnMut(String, String),
) -> Vec<char> {
    let mut out = Vec::with_capacity(cur.len());
    match op {
        Op::Nfkc => {
            out.extend(cur.iter().copied().nfkc());
            // Name the changes cluster by cluster (NFKC never reaches across a boundary).
            let mut start = 0;
            for end in 1..=cur.len() {
                if end == cur.len() || chars::nfkc_boundary_before(cur[end]) {
                    let seg: String = cur[start..end].iter().collect();
                    let done: String = seg.nfkc().collect();
                    if seg != done {
                        note(seg, done);
                    }
                    start = end;
                }
            }
        }
        Op::PunctuationToSpace => {
            for (i, &c) in cur.iter().enumerate() {
                if !chars::is_punct_or_symbol(c) {
                    out.push(c);
                    continue;
                }
                let digit_before = i > 0 && cur[i - 1].is_ascii_digit();
                let digit_after = cur.get(i + 1).is_some_and(char::is_ascii_digit);
                if keep_separators && (c == '.' || c == ',') && digit_before && digit_after {
                    out.push(c);
                } else {
                    note(c.to_string(), " ".to_string());
                    out.push(' ');
                }
            }
        }
        Op::Context(Context::YehBeforeHamza) => {
            let mut i = 0;
            while i < cur.len() {
                if cur[i] != YEH {
                    out.push(cur[i]);
                    i += 1;
                    continue;
                }
                let run_end = i + cur[i..].iter().take_while(|&&c| c == YEH).count();
                if cur.get(run_end) == Some(&HAMZA) {
                    note(cur[i..=run_end].iter().collect(), HAMZA.to_string());
                } else {
                    out.extend_from_slice(&cur[i..run_end]);
                }
                i = run_end;
            }
        }
        Op::Context(Context::DigitSeparators) => out.extend_from_slice(cur),
        Op::Context(Context::ScriptBoundary) => {
            for (i, &c) in cur.iter().enumerate() {
                if i > 0 && chars::script_boundary(chars::class(cur[i - 1]), chars::class(c)) {
                    note(format!("{}{c}", cur[i - 1]), format!("{} {c}", cur[i - 1]));
                    out.push(' ');
                }
                out.push(c);
            }
        }
        Op::Context(Context::CollapseWhitespace) => {
            let mut i = 0;
            while i < cur.len() {
                if !cur[i].is_whitespace() {
                    out.push(cur[i]);
                    i += 1;
                    continue;
                }
                let end = i + cur[i..].iter().take_while(|c| c.is_whitespace()).count();
                let run: String = cur[i..end].iter().collect();
                if i == 0 || end == cur.len() {
                    note(run, String::new());
                } else {
                    if run != " " {
                        note(run, " ".to_string());
                    }
                    out.push(' ');
                }
                i = end;
            }
        }
        _ => {
            let mut buf = Vec::with_capacity(4);
            for &c in cur {
                buf.clear();
                op.apply_char(c, keep_separators, &mut buf);
                if buf.len() != 1 || buf[0] != c {
                    note(c.to_string(), buf.iter().collect());
                }
                out.extend_from_slice(&buf);
            }
        }
    }
    out
}
