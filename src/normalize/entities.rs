//! HTML character references: `&quot;`, `&#8220;`, `&#x201C;` in text scraped from web pages.
//!
//! Outlets and scrapers leave some quotation marks and dashes encoded and decode others, so one
//! headline arrives as `“بن علي”` from one feed and `&#8220;بن علي&#8221;` from another. Left
//! alone, the references become words of their own (`8220`), which breaks shingles and reads
//! as a number. They are decoded before anything else looks at the text. Digits written in
//! Arabic-Indic or Persian form, and Arabic marks or tatweel that an editor let slip inside a
//! reference, do not stop it from being recognised; anything that is not a complete reference
//! is left as it is.

use std::borrow::Cow;

/// Named references common in news text, and what they stand for.
const NAMED: [(&str, char); 18] = [
    ("amp", '&'),
    ("quot", '"'),
    ("apos", '\''),
    ("lt", '<'),
    ("gt", '>'),
    ("nbsp", '\u{00A0}'),
    ("laquo", '«'),
    ("raquo", '»'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("ndash", '–'),
    ("mdash", '—'),
    ("hellip", '…'),
    ("zwnj", '\u{200C}'),
    ("zwj", '\u{200D}'),
    ("rlm", '\u{200F}'),
];

/// The longest reference looked at, in characters (marks inside not counted).
const MAX_LEN: usize = 12;

fn is_ignorable(c: char) -> bool {
    matches!(c, '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' | '\u{200B}'..='\u{200F}')
}

fn digit(c: char, radix: u32) -> Option<u32> {
    match c {
        '\u{0660}'..='\u{0669}' if radix == 10 => Some(c as u32 - 0x0660),
        '\u{06F0}'..='\u{06F9}' if radix == 10 => Some(c as u32 - 0x06F0),
        _ => c.to_digit(radix),
    }
}

/// The character a reference starting at `s` (just after its `&`) stands for, and the
/// reference's length in bytes (without the `&`).
fn reference(s: &str) -> Option<(char, usize)> {
    let mut chars = s.char_indices().filter(|(_, c)| !is_ignorable(*c));
    let (_, first) = chars.next()?;
    if first == '#' {
        let mut radix = 10;
        let mut value: u32 = 0;
        let mut digits = 0;
        for (i, c) in chars.by_ref() {
            if digits == 0 && radix == 10 && (c == 'x' || c == 'X') {
                radix = 16;
                continue;
            }
            if c == ';' {
                return (digits > 0)
                    .then(|| char::from_u32(value))
                    .flatten()
                    .map(|ch| (ch, i + 1));
            }
            let d = digit(c, radix)?;
            digits += 1;
            if digits > MAX_LEN {
                return None;
            }
            value = value.checked_mul(radix)?.checked_add(d)?;
        }
        return None;
    }
    let end = s.find(';')?;
    if end > MAX_LEN {
        return None;
    }
    let name = &s[..end];
    NAMED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, ch)| (ch, end + 1))
}

/// `text` with its HTML character references decoded (borrowed when it has none).
pub fn decode(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match reference(after) {
            Some((ch, len)) => {
                out.push(ch);
                rest = &after[len..];
                changed = true;
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_and_named_references() {
        assert_eq!(decode("&#8220;بن علي&#8221;"), "“بن علي”");
        assert_eq!(decode("&#x201C;x&#X201d;"), "“x”");
        assert_eq!(
            decode("جلاكسي &quot;تاب&quot; &amp; نوت"),
            "جلاكسي \"تاب\" & نوت"
        );
    }

    #[test]
    fn arabic_digits_and_stray_marks_inside() {
        assert_eq!(decode("&#٨٢٢٠;"), "“");
        assert_eq!(decode("&#۸۲۲۱;"), "”");
        assert_eq!(decode("&#ُ8ُ22ّ1ُ;"), "”");
    }

    #[test]
    fn anything_else_is_kept() {
        for t in [
            "A & B",
            "&",
            "&#;",
            "&#12",
            "&unknown;",
            "&#xZZ;",
            "&#99999999999;",
            "a&b;c",
        ] {
            assert_eq!(decode(t), t, "{t}");
        }
        assert!(matches!(decode("no reference"), Cow::Borrowed(_)));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "[&#;x0-9a-z\\u{0660}-\\u{0669}\\u{064E} ]{0,30}") {
            let _ = decode(&text);
        }
    }
}
