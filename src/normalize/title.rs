//! Title tags: the labels outlets put around a headline, recognised by their shape.
//!
//! Aggregators and outlets decorate the same headline differently: a label before a separator
//! (`عاجل | …`, `بالفيديو.. …`, `بالصور: …`) and an attribution or media note after one
//! (`… - واس`, `… | صحيفة الوئام`, `… (صور)`). On a headline of eight words such a tag is a
//! fifth of the text, enough to hide a duplicate or to make two different stories look alike.
//!
//! The tags are found by their *shape*, not from a word list, so the labels of outlets we have
//! never seen are found too: at the start of the first line, one or two words followed by `:`,
//! or one word followed by `|` or `..`; at its end, up to three short words after ` - `, ` – `
//! or ` | `, or in final parentheses. Tags holding a digit are kept (`(2)` tells parts of a
//! series apart). Only the first line (the title) is looked at.
//!
//! The headline itself is never removed. A label is removed only when at least as many words
//! follow it as it has, and a bar after two or more words is the start of an attribution, not
//! the end of a label: `ناصر الجديع: مصنع الهلال | صحيفة الوئام` keeps `مصنع الهلال`, where
//! reading `مصنع الهلال |` as a second label would keep only the outlet's name.

use std::borrow::Cow;

/// What [`strip`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    /// The labels removed from the start (with their separators), if any.
    pub prefix: Option<String>,
    /// The tags removed from the end (with their separators), outermost first.
    pub suffixes: Vec<String>,
}

impl Removed {
    /// True when nothing was removed.
    pub fn is_empty(&self) -> bool {
        self.prefix.is_none() && self.suffixes.is_empty()
    }
}

/// Longest attribution removed from the end, in characters.
const MAX_SUFFIX_CHARS: usize = 25;
/// Longest parenthesised note removed from the end, in characters.
const MAX_PAREN_CHARS: usize = 15;
/// Most words in a removed suffix.
const MAX_SUFFIX_WORDS: usize = 3;
/// Most words in a removed prefix label.
const MAX_PREFIX_WORDS: usize = 2;

/// Invisible characters that may sit next to a separator (bidi and zero-width marks).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}' | '\u{FEFF}' | '\u{2060}'
    )
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || is_invisible(c)
}

/// Separators that end a prefix label (`..` and `…` are handled apart).
fn is_label_separator(c: char) -> bool {
    matches!(
        c,
        ':' | '|' | '\u{FF1A}' | '\u{FF5C}' | '\u{00A6}' | '\u{FE55}'
    )
}

/// Separators that start a suffix tag when surrounded by spaces.
fn is_suffix_separator(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2013}' | '\u{2014}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}' | '|' | '\u{FF5C}'
    )
}

/// Words: runs between spaces that hold a letter or a digit (`!!` and `|` are not words).
fn word_count(s: &str) -> usize {
    s.split(is_space)
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

fn has_digit(s: &str) -> bool {
    s.chars().any(|c| c.is_numeric())
}

/// Removes title tags from the first line of `text`; the rest of the text is untouched.
pub fn strip(text: &str) -> (Cow<'_, str>, Removed) {
    // The title is the first line that holds more than spaces.
    let start = text
        .split_inclusive('\n')
        .take_while(|line| line.trim().is_empty())
        .map(str::len)
        .sum::<usize>();
    let end_of_title = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let (head, rest) = text.split_at(end_of_title);
    let (blank, title) = head.split_at(start);
    let mut removed = Removed::default();
    let mut t = title;
    // Labels first: in `عاجل | نص قصير` the bar ends a label, not a headline. Two may be
    // stacked (`عاجل: بالصور.. …`).
    let mut labels = String::new();
    for _ in 0..2 {
        match strip_prefix(t) {
            Some((label, kept)) => {
                labels.push_str(label);
                t = kept;
            }
            None => break,
        }
    }
    if !labels.is_empty() {
        removed.prefix = Some(labels);
    }
    for _ in 0..2 {
        match strip_suffix(t) {
            Some((kept, tag)) => {
                removed.suffixes.push(tag.to_string());
                t = kept;
            }
            None => break,
        }
    }
    if removed.is_empty() {
        return (Cow::Borrowed(text), removed);
    }
    let mut out = String::with_capacity(blank.len() + t.len() + rest.len());
    out.push_str(blank);
    out.push_str(t);
    out.push_str(rest);
    (Cow::Owned(out), removed)
}

/// Arabic marks and tatweel, which may sit anywhere in a label, even between the dots of `..`.
fn is_mark(c: char) -> bool {
    matches!(c, '\u{0610}'..='\u{061A}' | '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' | '\u{06D6}'..='\u{06ED}')
}

/// True when a run of dots (marks between them allowed) of two or more starts at `rest`.
fn starts_with_dots(rest: &str) -> bool {
    let mut dots = 0;
    for c in rest.chars() {
        match c {
            '.' => dots += 1,
            c if is_mark(c) || is_invisible(c) => {}
            _ => break,
        }
    }
    dots >= 2
}

/// `label` + separator at the start of `t`: one or two words followed by `:`, or one word
/// followed by `|`, `..` or `…` (`بالفيديو..`; two words before dots are a topic, not a label:
/// `حوادث المعلمات.. الضحايا في ازدياد`, and two words before a bar are a headline followed by
/// its outlet: `طيور الظلام | صحيفة الوئام`). At least as many words as the label has must
/// follow it.
fn strip_prefix(t: &str) -> Option<(&str, &str)> {
    let mut words = 0;
    let mut in_word = false;
    for (i, c) in t.char_indices() {
        let dots = c == '.' && starts_with_dots(&t[i..]);
        if is_label_separator(c) || c == '\u{2026}' || dots {
            let colon = matches!(c, ':' | '\u{FF1A}' | '\u{FE55}');
            if words == 0 || (words > 1 && !colon) {
                return None;
            }
            // Swallow the whole separator run (marks included) and the spaces after it.
            let mut end = i + c.len_utf8();
            for (j, d) in t[end..].char_indices() {
                if d == '.' || d == '\u{2026}' || is_label_separator(d) || is_space(d) || is_mark(d)
                {
                    end = i + c.len_utf8() + j + d.len_utf8();
                } else {
                    break;
                }
            }
            let kept = &t[end..];
            let label = &t[..end];
            if word_count(kept) == 0 || word_count(kept) < word_count(label) || has_digit(label) {
                return None;
            }
            return Some((label, kept));
        }
        if is_space(c) {
            in_word = false;
        } else if !in_word {
            in_word = true;
            words += 1;
            if words > MAX_PREFIX_WORDS {
                return None;
            }
        }
    }
    None
}

/// The title without its last tag, and the tag, when `t` ends with one.
fn strip_suffix(t: &str) -> Option<(&str, &str)> {
    let trimmed = t.trim_end_matches(is_space);
    // A note in final parentheses.
    if let Some(inner_end) = trimmed.strip_suffix([')', '\u{FF09}']) {
        let open = inner_end.rfind(['(', '\u{FF08}'])?;
        let inner = &inner_end[open + 1..];
        let before = &trimmed[..open];
        if inner.chars().count() <= MAX_PAREN_CHARS
            && word_count(inner) <= MAX_SUFFIX_WORDS
            && !has_digit(inner)
            && word_count(before) > 0
            && before.ends_with(is_space)
        {
            return Some((before.trim_end_matches(is_space), &t[open..]));
        }
        return None;
    }
    // An attribution after a spaced dash or bar: the last such separator.
    let mut candidate = None;
    let chars: Vec<(usize, char)> = trimmed.char_indices().collect();
    for k in 1..chars.len().saturating_sub(1) {
        let (i, c) = chars[k];
        if is_suffix_separator(c) && is_space(chars[k - 1].1) && is_space(chars[k + 1].1) {
            candidate = Some(i);
        }
    }
    let at = candidate?;
    let tag = &trimmed[at..];
    let separator = tag.chars().next().map_or(1, char::len_utf8);
    let body = &tag[separator..];
    let before = trimmed[..at].trim_end_matches(is_space);
    if word_count(body) == 0
        || word_count(body) > MAX_SUFFIX_WORDS
        || body.trim_matches(is_space).chars().count() > MAX_SUFFIX_CHARS
        || has_digit(body)
        || word_count(before) == 0
    {
        return None;
    }
    Some((before, &t[before.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prop_assert;
    use proptest::prop_assert_eq;

    fn s(text: &str) -> String {
        strip(text).0.into_owned()
    }

    #[test]
    fn prefix_labels() {
        assert_eq!(s("عاجل | الرضاعة الطبيعية"), "الرضاعة الطبيعية");
        assert_eq!(s("عاجل: الرضاعة الطبيعية"), "الرضاعة الطبيعية");
        assert_eq!(s("بالفيديو.. نمر يقتحم مدرسة"), "نمر يقتحم مدرسة");
        assert_eq!(s("عاـجل | خبر"), "خبر");
        assert_eq!(s("باْلفيّديِو.. نمر"), "نمر");
        assert_eq!(s("\u{200F}عاجل\u{200F} | خبر"), "خبر");
        assert_eq!(s("عاجل ｜ خبر"), "خبر");
    }

    #[test]
    fn stacked_labels_and_marked_dots() {
        assert_eq!(s("عاجل: بالصور.. داعش يعدم جنودا"), "داعش يعدم جنودا");
        assert_eq!(s("بالصُوَر: مجلس الهلال .. بلوت"), "مجلس الهلال .. بلوت");
        assert_eq!(s("باْلفيّديِو.َ. نمر"), "نمر");
    }

    #[test]
    fn two_words_before_dots_are_a_topic() {
        let t = "حوادث المعلمات.. الضحايا في ازدياد!";
        assert_eq!(s(t), t);
        assert_eq!(
            s("حوِاّدث المعلمات.َ. الضحايا في ازدياد!"),
            "حوِاّدث المعلمات.َ. الضحايا في ازدياد!"
        );
    }

    #[test]
    fn suffix_tags() {
        assert_eq!(s("ناسا تصور القمر | صحيفة الوئام"), "ناسا تصور القمر");
        assert_eq!(s("ناسا تصور القمر - سبق"), "ناسا تصور القمر");
        assert_eq!(s("حركة «طالبان» تقترب (صور)"), "حركة «طالبان» تقترب");
        assert_eq!(s("خبر عن شيء (صور) - واس"), "خبر عن شيء");
    }

    #[test]
    fn keeps_what_is_not_a_tag() {
        for t in [
            "تأجيل خليجي 23 إلى نهاية 2016",
            "اسوأ ترجمات على مر التاريخ (2)",
            "الحلقة - 9",
            "د. صالح يفتتح المركز",
            "عاجل:",
            "العنوان الطويل هنا | داعش ليبيا يخسر تعاطف القبائل في مدينة درنة",
            "مواجهة بين الفريقين - الهلال - النصر اليوم في الرياض",
            "ثلاث كلمات فقط هنا",
        ] {
            assert_eq!(s(t), t, "{t}");
        }
    }

    #[test]
    fn the_headline_is_never_removed() {
        // A bar after two words starts the outlet's name; it does not end a second label.
        assert_eq!(s("ناصَرَ الجديع: مصنع الهلال | صحيفة الوئام"), "مصنع الهلال");
        assert_eq!(s("طيور الظلام | صحيفة الوئام"), "طيور الظلام");
        assert_eq!(s("زاد !! | صحيفة الوئام"), "زاد !!");
        // A label needs as many words after it as it has.
        assert_eq!(s("ناصر الجديع: زاد"), "ناصر الجديع: زاد");
        assert_eq!(s("ناصر الجديع: مصنع الهلال !!"), "مصنع الهلال !!");
        // One word before a bar is a label, whatever follows.
        assert_eq!(s("عاجل | الجديع: من يشبهك يا هلال ؟!"), "من يشبهك يا هلال ؟!");
        assert_eq!(s("عاجل | المثقف"), "المثقف");
    }

    #[test]
    fn only_the_first_line_is_touched() {
        assert_eq!(
            s("عاجل | العنوان\nالنص: يبدأ هنا - واس"),
            "العنوان\nالنص: يبدأ هنا - واس"
        );
    }

    #[test]
    fn the_title_is_the_first_line_with_text() {
        assert_eq!(s("\n  \nعاجل | خبر\nنص"), "\n  \nخبر\nنص");
    }

    #[test]
    fn wide_separators() {
        assert_eq!(s("خبر عن الطائف – الطائف"), "خبر عن الطائف");
        assert_eq!(s("خبر عن الطائف — واس"), "خبر عن الطائف");
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_only_shortens_the_title(text in "[ -~\u{0600}-\u{06FF}\u{2013}\u{2014}\u{FF5C}\u{200F}()|:.\n]{0,40}") {
            let (out, removed) = strip(&text);
            prop_assert!(out.len() <= text.len());
            prop_assert_eq!(removed.is_empty(), out == text);
        }
    }

    proptest::proptest! {
        /// Two or more words before a spaced bar or dash are the headline: they stay, whatever
        /// follows.
        #[test]
        fn words_before_a_bar_stay(
            head in proptest::collection::vec("[\u{0628}-\u{0639}]{2,6}", 2..6),
            tail in proptest::collection::vec("[\u{0628}-\u{0639}]{2,6}", 1..4),
            sep in proptest::sample::select(vec![" | ", " - ", " – ", " ｜ "]),
        ) {
            let head = head.join(" ");
            let text = format!("{head}{sep}{}", tail.join(" "));
            let out = s(&text);
            prop_assert!(out.starts_with(&head), "{text:?} → {out:?}");
        }
    }

    #[test]
    fn reports_what_was_removed() {
        let (_, r) = strip("بالصور: خبر - سبق");
        assert_eq!(r.prefix.as_deref(), Some("بالصور: "));
        assert_eq!(r.suffixes, vec![" - سبق".to_string()]);
    }
}
