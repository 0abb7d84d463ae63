//! Unicode properties the rules and the pass ask about.
//!
//! General categories come from `unicode-general-category`, combining classes and quick-check
//! values from `unicode-normalization`. The script test is a block test: the rules only need to
//! tell Arabic letters from other letters, and every Arabic letter lives in one of the Arabic
//! blocks.

use unicode_general_category::{get_general_category, GeneralCategory as Gc};
use unicode_normalization::char::{canonical_combining_class, decompose_compatible};
use unicode_normalization::{is_nfkc_quick, IsNormalized};

/// Class of a character for the script-boundary rule (R19) and the digit-separator rule (R14):
/// neither a letter nor a digit.
pub(crate) const NEUTRAL: u8 = 0;
/// A letter in one of the Arabic blocks.
pub(crate) const ARABIC: u8 = 1;
/// A letter outside the Arabic blocks, or a decimal digit.
pub(crate) const OTHER: u8 = 2;
/// An ASCII digit (also [`OTHER`]).
pub(crate) const DIGIT: u8 = OTHER | 4;

/// Whether R19 puts a space between characters of classes `a` and `b` (one Arabic letter, one
/// other letter or digit).
#[inline]
pub(crate) fn script_boundary(a: u8, b: u8) -> bool {
    (a | b) & (ARABIC | OTHER) == ARABIC | OTHER
}

/// Whether `c` lies in a block of the Arabic script.
pub(crate) fn in_arabic_block(c: char) -> bool {
    matches!(c,
        '\u{0600}'..='\u{06FF}'     // Arabic
        | '\u{0750}'..='\u{077F}'   // Arabic Supplement
        | '\u{0870}'..='\u{089F}'   // Arabic Extended-B
        | '\u{08A0}'..='\u{08FF}'   // Arabic Extended-A
        | '\u{FB50}'..='\u{FDFF}'   // Arabic Presentation Forms-A
        | '\u{FE70}'..='\u{FEFF}'   // Arabic Presentation Forms-B
        | '\u{10EC0}'..='\u{10EFF}' // Arabic Extended-C
        | '\u{1EE00}'..='\u{1EEFF}' // Arabic Mathematical Alphabetic Symbols
    )
}

fn is_letter(gc: Gc) -> bool {
    matches!(
        gc,
        Gc::UppercaseLetter
            | Gc::LowercaseLetter
            | Gc::TitlecaseLetter
            | Gc::ModifierLetter
            | Gc::OtherLetter
    )
}

/// The R19/R14 class of `c`.
pub(crate) fn class(c: char) -> u8 {
    if c.is_ascii() {
        return if c.is_ascii_digit() {
            DIGIT
        } else if c.is_ascii_alphabetic() {
            OTHER
        } else {
            NEUTRAL
        };
    }
    let gc = get_general_category(c);
    if is_letter(gc) {
        if in_arabic_block(c) {
            ARABIC
        } else {
            OTHER
        }
    } else if gc == Gc::DecimalNumber {
        OTHER
    } else {
        NEUTRAL
    }
}

/// Whether `c` has General_Category Cf.
pub(crate) fn is_format(c: char) -> bool {
    !c.is_ascii() && get_general_category(c) == Gc::Format
}

/// Whether `c` has General_Category P* or S*.
pub(crate) fn is_punct_or_symbol(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    matches!(
        get_general_category(c),
        Gc::ConnectorPunctuation
            | Gc::DashPunctuation
            | Gc::OpenPunctuation
            | Gc::ClosePunctuation
            | Gc::InitialPunctuation
            | Gc::FinalPunctuation
            | Gc::OtherPunctuation
            | Gc::MathSymbol
            | Gc::CurrencySymbol
            | Gc::ModifierSymbol
            | Gc::OtherSymbol
    )
}

/// The value of a decimal digit (General_Category Nd), from any script.
///
/// Decimal digits are encoded in runs of ten consecutive code points from 0 to 9, and runs that
/// touch each other are still aligned on ten, so the value is the distance from the start of the
/// run, modulo ten.
pub(crate) fn digit_value(c: char) -> Option<u32> {
    if c.is_ascii_digit() {
        return Some(c as u32 - '0' as u32);
    }
    if c.is_ascii() || get_general_category(c) != Gc::DecimalNumber {
        return None;
    }
    let mut start = c as u32;
    while let Some(prev) = char::from_u32(start.wrapping_sub(1)) {
        if get_general_category(prev) != Gc::DecimalNumber {
            break;
        }
        start -= 1;
    }
    Some((c as u32 - start) % 10)
}

/// Whether `c` can be the second character of a canonical composition (NFKC_Quick_Check =
/// Maybe).
pub(crate) fn is_composing_second(c: char) -> bool {
    is_nfkc_quick(std::iter::once(c)) == IsNormalized::Maybe
}

/// Whether NFKC never reaches across the point just before `c`: NFKC(a + b) = NFKC(a) + NFKC(b)
/// whenever `b` starts with such a character.
///
/// True when the first character of the compatibility decomposition of `c` is a starter
/// (combining class 0) that cannot be the second half of a composition: then canonical
/// reordering stops at it and it cannot compose with anything before it.
pub(crate) fn nfkc_boundary_before(c: char) -> bool {
    if c.is_ascii() {
        return true;
    }
    let mut first = None;
    decompose_compatible(c, |d| {
        first.get_or_insert(d);
    });
    let first = first.unwrap_or(c);
    canonical_combining_class(first) == 0 && !is_composing_second(first)
}

/// Whether `c` is a combining mark that NFKC leaves alone wherever it stands: it does not
/// decompose, never composes with what precedes it, and has a non-zero combining class. Such a
/// mark, once a rule deletes it, can be skipped without running NFKC over its cluster.
pub(crate) fn is_plain_nonstarter(c: char) -> bool {
    if canonical_combining_class(c) == 0 || is_composing_second(c) {
        return false;
    }
    let mut same = true;
    decompose_compatible(c, |d| same &= d == c);
    same
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_values() {
        assert_eq!(digit_value('7'), Some(7));
        assert_eq!(digit_value('\u{0662}'), Some(2));
        assert_eq!(digit_value('\u{06F4}'), Some(4));
        assert_eq!(digit_value('\u{0660}'), Some(0));
        assert_eq!(digit_value('\u{1D7CE}'), Some(0));
        assert_eq!(digit_value('\u{1D7D9}'), Some(1));
        assert_eq!(digit_value('a'), None);
        assert_eq!(digit_value('\u{00B2}'), None);
    }

    #[test]
    fn classes() {
        assert_eq!(class('\u{0627}'), ARABIC);
        assert_eq!(class('\u{0621}'), ARABIC);
        assert_eq!(class('b'), OTHER);
        assert_eq!(class('\u{00E9}'), OTHER);
        assert_eq!(class('5'), DIGIT);
        assert_eq!(class('\u{0665}'), OTHER);
        assert_eq!(class('\u{064E}'), NEUTRAL);
        assert_eq!(class('-'), NEUTRAL);
        assert!(script_boundary(ARABIC, DIGIT));
        assert!(script_boundary(OTHER, ARABIC));
        assert!(!script_boundary(ARABIC, ARABIC));
        assert!(!script_boundary(OTHER, DIGIT));
        assert!(!script_boundary(NEUTRAL, ARABIC));
    }

    #[test]
    fn nfkc_boundaries() {
        assert!(nfkc_boundary_before('\u{0627}'));
        assert!(nfkc_boundary_before('\u{FE8D}'));
        assert!(!nfkc_boundary_before('\u{0654}'));
        assert!(!nfkc_boundary_before('\u{064E}'));
        assert!(!nfkc_boundary_before('\u{0301}'));
        // Half-width katakana voiced sound mark decomposes to a composing mark.
        assert!(!nfkc_boundary_before('\u{FF9E}'));
        assert!(is_plain_nonstarter('\u{064E}'));
        assert!(!is_plain_nonstarter('\u{0654}'));
        assert!(!is_plain_nonstarter('\u{0627}'));
    }
}
