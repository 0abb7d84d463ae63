//! HTML character references: `&quot;`, `&eacute;`, `&lrm;`, `&#8220;`, `&#x201C;` in text
//! scraped from web pages.
//!
//! Outlets and scrapers leave some quotation marks and dashes encoded and decode others, so one
//! headline arrives as `“بن علي”` from one feed and `&#8220;بن علي&#8221;` from another. Left
//! alone, the references become words of their own (`8220`, `lrm`, `eacute`), which breaks
//! shingles and reads as a number or a word. They are decoded before anything else looks at
//! the text. Every named reference of HTML is known (the WHATWG table of 2,125 names, from the
//! `html-escape` crate), with its closing `;`. Digits written in Arabic-Indic or Persian form,
//! and Arabic marks or tatweel that an editor let slip inside a reference, do not stop it from
//! being recognised; anything that is not a complete reference is left as it is.

use std::borrow::Cow;

/// The longest numeric reference looked at, in digits (marks inside not counted).
const MAX_DIGITS: usize = 12;

/// The longest name of a named reference (`CounterClockwiseContourIntegral`), in bytes.
const MAX_NAME: usize = 31;

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

/// What a reference stands for: one character, or (for a few names) two.
enum Decoded {
    Char(char),
    Str(&'static str),
}

/// What a reference starting at `s` (just after its `&`) stands for, and the reference's
/// length in bytes (without the `&`).
fn reference(s: &str) -> Option<(Decoded, usize)> {
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
                    .map(|ch| (Decoded::Char(ch), i + 1));
            }
            let d = digit(c, radix)?;
            digits += 1;
            if digits > MAX_DIGITS {
                return None;
            }
            value = value.checked_mul(radix)?.checked_add(d)?;
        }
        return None;
    }
    // A name: ASCII letters and digits up to `;`, marks that slipped in skipped.
    let mut name = [0u8; MAX_NAME];
    for (len, (i, c)) in std::iter::once((0, first)).chain(chars).enumerate() {
        if c == ';' {
            return named(&name[..len]).map(|decoded| (decoded, i + 1));
        }
        let slot = name.get_mut(len)?;
        if !c.is_ascii_alphanumeric() {
            return None;
        }
        *slot = c as u8;
    }
    None
}

/// What the named reference `name` (without `&` and `;`) stands for.
fn named(name: &[u8]) -> Option<Decoded> {
    let at = html_escape::NAMED_ENTITIES
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()?;
    let value = html_escape::NAMED_ENTITIES[at].1;
    let mut chars = value.chars();
    Some(match (chars.next(), chars.next()) {
        (Some(c), None) => Decoded::Char(c),
        _ => Decoded::Str(value),
    })
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
            Some((decoded, len)) => {
                match decoded {
                    Decoded::Char(ch) => out.push(ch),
                    Decoded::Str(s) => out.push_str(s),
                }
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
    fn every_named_reference_of_html() {
        assert_eq!(decode("&lrm;قال&rlm;"), "\u{200E}قال\u{200F}");
        assert_eq!(decode("caf&eacute; &copy; &hellip;"), "café © …");
        assert_eq!(decode("&CounterClockwiseContourIntegral;"), "\u{2233}");
        // Two characters.
        assert_eq!(decode("&NotEqualTilde;"), "\u{2242}\u{0338}");
        // Names are case-sensitive, as in HTML.
        assert_eq!(decode("&AMP; &Eacute;"), "& É");
        assert_eq!(decode("&Lrm;"), "&Lrm;");
        // A mark that slipped into a name.
        assert_eq!(decode("&qu\u{064E}ot;"), "\"");
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
            "&eacute",
            "&CounterClockwiseContourIntegralX;",
            "&amp ;",
            "&é;",
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
        fn never_panics(text in "[&#;xX0-9a-zA-Z\\u{0660}-\\u{0669}\\u{064E}\\u{00E9} ]{0,40}") {
            let _ = decode(&text);
        }
    }
}
