//! The single pass over the input.
//!
//! Each code point is looked up once in the compiled table ([`super::table`]); ASCII skips the
//! table altogether. What the table cannot know, because it depends on neighbours, is kept in a
//! few fields of [`Emitter`]:
//!
//! - NFKC composition: a base letter followed by marks that may combine with it (ا + U+0654)
//!   is normalized as one cluster before the table is consulted; marks that never combine and
//!   are deleted anyway (harakat) are simply skipped.
//! - R12: a run of ي is held back until the next visible character shows whether it is ء.
//! - R14: a `.` or `,` after an ASCII digit is held back until the next character shows
//!   whether it is a digit too.
//! - R19: the class of the last character written decides whether a space goes before the next.
//! - R3: a space is only written when a visible character follows it.
//!
//! Deleted characters touch none of this state, so they are invisible to every context rule,
//! as they are when the rules run one after another.

use unicode_normalization::UnicodeNormalization;

use super::chars::{self, ARABIC, DIGIT, NEUTRAL, OTHER};
use super::table::{
    kind, Compiled, Entry, Scratch, BOUNDARY, INERT, SHORT_BOUNDARY, SHORT_CHAR, SHORT_PLAIN,
    SHORT_YEH,
};

const BISMILLAH: &str = "\u{0628}\u{0633}\u{0645} \u{0627}\u{0644}\u{0644}\u{0647} \
     \u{0627}\u{0644}\u{0631}\u{062D}\u{0645}\u{0646} \
     \u{0627}\u{0644}\u{0631}\u{062D}\u{064A}\u{0645}";

/// Normalizes `text` into `out` (cleared first) by the compiled rules.
///
/// Characters that come out unchanged, in the same class as the one before and with no context
/// rule waiting, are not written one by one: they extend a span of the input (`span..i`) that
/// is copied in one go when something else has to be written.
pub(crate) fn run(c: &Compiled, text: &str, out: &mut String) {
    out.clear();
    out.reserve(text.len());
    let mut em = Emitter::new(c, out);
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut astral = Astral::default();
    let mut span = 0;
    let mut i = 0;
    while i < n {
        if em.unchanged(ARABIC) {
            i = arabic_run(c, &mut em, text, &mut span, i, &mut astral);
            if i >= n {
                break;
            }
        }
        let b = bytes[i];
        if b < 0x80 {
            if c.compose && i + 1 < n && bytes[i + 1] >= 0x80 {
                match follow(c, bytes, i + 1, &mut astral) {
                    Follow::Boundary => {}
                    Follow::Inert(end) => {
                        em.out.push_str(&text[span..i]);
                        em.ascii(b);
                        i = end;
                        span = i;
                        continue;
                    }
                    Follow::Cluster => {
                        em.out.push_str(&text[span..i]);
                        i = cluster(c, &mut em, text, i, &mut astral);
                        span = i;
                        continue;
                    }
                }
            }
            if em.ascii_unchanged(b) {
                i += 1;
                continue;
            }
            em.out.push_str(&text[span..i]);
            em.ascii(b);
            i += 1;
            span = i;
            continue;
        }
        let (cp, len) = decode(bytes, i);
        let j = i + len;
        let mut next = j;
        if c.compose && j < n && bytes[j] >= 0x80 {
            match follow(c, bytes, j, &mut astral) {
                Follow::Boundary => {}
                Follow::Inert(end) => next = end,
                Follow::Cluster => {
                    em.out.push_str(&text[span..i]);
                    i = cluster(c, &mut em, text, i, &mut astral);
                    span = i;
                    continue;
                }
            }
        }
        if cp < 0x1_0000 {
            let e = c.bmp(cp);
            if next == j && e.kind == kind::KEEP && em.unchanged(e.first_class()) {
                i = j;
                continue;
            }
            em.out.push_str(&text[span..i]);
            let ch = char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER);
            em.unit(e, ch, &c.pool);
        } else {
            em.out.push_str(&text[span..i]);
            let ch = char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER);
            let e = astral.entry(c, cp);
            em.unit(e, ch, &astral.pool);
        }
        i = next;
        span = i;
    }
    em.out.push_str(&text[span..]);
    em.finish();
}

/// Takes the Arabic letters (and single spaces between them) from `start` that need no context
/// rule, when the last character written was an Arabic letter and nothing is pending. Letters
/// that come out unchanged just extend the unwritten span (`*span..`); a letter replaced by
/// another Arabic letter (ة → ه) is written with the span before it. Returns where the run
/// stops.
///
/// A letter followed by a mark that may change it is left for the caller, and so is a trailing
/// ي (R12) when what follows might turn out to be ء. Leaving more than needed is always safe:
/// the caller handles any character exactly.
#[inline(always)]
fn arabic_run(
    c: &Compiled,
    em: &mut Emitter<'_>,
    text: &str,
    span: &mut usize,
    start: usize,
    astral: &mut Astral,
) -> usize {
    let bytes = text.as_bytes();
    let short: &[u32; 0x800] = &c.short;
    let n = bytes.len();
    let mut i = start;
    // Where the letters that may still be left for the caller begin.
    let mut floor = start;
    // Start of the last letter taken (with the space before it, if any).
    let mut last = start;
    // Start of the trailing ي taken, if the run ends in ي, and the same before the last letter.
    let mut yeh: Option<usize> = None;
    let mut yeh_before_last: Option<usize> = None;
    loop {
        if i + 1 >= n {
            return i;
        }
        let k = i + usize::from(bytes[i] == b' ');
        if k + 1 >= n || bytes[k] < 0x80 {
            // End of text, or ASCII: never ء, and never a mark.
            return i;
        }
        let b0 = bytes[k];
        let f = if b0 & 0xE0 == 0xC0 {
            short[(usize::from(b0 & 0x1F) << 6) | usize::from(bytes[k + 1] & 0x3F)]
        } else if k == i {
            if boundary_at(c, bytes, k, astral) {
                u32::from(SHORT_BOUNDARY)
            } else {
                0
            }
        } else {
            0
        };
        if f & u32::from(SHORT_PLAIN | SHORT_YEH) != 0 {
            yeh_before_last = yeh;
            if f & u32::from(SHORT_YEH) == 0 {
                yeh = None;
            } else if k != i || yeh.is_none() {
                yeh = Some(i);
            }
            last = i;
            i = k + 2;
            continue;
        }
        if f & u32::from(SHORT_CHAR) != 0
            && (k + 2 >= n || bytes[k + 2] < 0x80 || boundary_at(c, bytes, k + 2, astral))
        {
            em.out.push_str(&text[*span..k]);
            em.out
                .push(char::from_u32(f >> 8).unwrap_or(char::REPLACEMENT_CHARACTER));
            i = k + 2;
            *span = i;
            floor = i;
            last = i;
            yeh = None;
            yeh_before_last = None;
            continue;
        }
        if k != i {
            // A space settles everything before it.
            return i;
        }
        if f & u32::from(SHORT_BOUNDARY) == 0 && i > floor {
            // The last letter and this mark are one NFKC cluster.
            return yeh_before_last.unwrap_or(last);
        }
        return yeh.unwrap_or(i);
    }
}

/// Whether the (non-ASCII) character at `k` starts an NFKC-independent stretch.
#[inline(always)]
fn boundary_at(c: &Compiled, bytes: &[u8], k: usize, astral: &mut Astral) -> bool {
    let (cp, _) = decode(bytes, k);
    let flags = if cp < 0x1_0000 {
        c.bmp(cp).flags
    } else {
        astral.entry(c, cp).flags
    };
    flags & BOUNDARY != 0
}

/// Decodes the code point starting at `i` (not ASCII) and its length in bytes.
#[inline(always)]
fn decode(bytes: &[u8], i: usize) -> (u32, usize) {
    let b0 = u32::from(bytes[i]);
    if b0 < 0xE0 {
        (((b0 & 0x1F) << 6) | (u32::from(bytes[i + 1]) & 0x3F), 2)
    } else if b0 < 0xF0 {
        (
            ((b0 & 0x0F) << 12)
                | ((u32::from(bytes[i + 1]) & 0x3F) << 6)
                | (u32::from(bytes[i + 2]) & 0x3F),
            3,
        )
    } else {
        (
            ((b0 & 0x07) << 18)
                | ((u32::from(bytes[i + 1]) & 0x3F) << 12)
                | ((u32::from(bytes[i + 2]) & 0x3F) << 6)
                | (u32::from(bytes[i + 3]) & 0x3F),
            4,
        )
    }
}

/// Decodes the code point at `i`, ASCII or not.
#[inline]
fn decode_any(bytes: &[u8], i: usize) -> (u32, usize) {
    if bytes[i] < 0x80 {
        (u32::from(bytes[i]), 1)
    } else {
        decode(bytes, i)
    }
}

/// What follows a character, as far as NFKC is concerned.
enum Follow {
    /// A boundary: the character is normalized on its own.
    Boundary,
    /// Only inert marks up to this byte offset, then a boundary: the character is normalized on
    /// its own and the marks are skipped.
    Inert(usize),
    /// Marks that may combine: normalize the whole cluster.
    Cluster,
}

#[inline]
fn follow(c: &Compiled, bytes: &[u8], j: usize, astral: &mut Astral) -> Follow {
    let mut k = j;
    while k < bytes.len() && bytes[k] >= 0x80 {
        let (cp, len) = decode(bytes, k);
        let flags = if cp < 0x1_0000 {
            c.bmp(cp).flags
        } else {
            astral.entry(c, cp).flags
        };
        if flags & BOUNDARY != 0 {
            break;
        }
        if flags & INERT == 0 {
            return Follow::Cluster;
        }
        k += len;
    }
    if k == j {
        Follow::Boundary
    } else {
        Follow::Inert(k)
    }
}

/// Normalizes the cluster starting at `i` (a character and every following character NFKC may
/// combine with it) through NFKC, then each resulting character through the table. Returns the
/// end of the cluster.
#[cold]
fn cluster(c: &Compiled, em: &mut Emitter<'_>, text: &str, i: usize, astral: &mut Astral) -> usize {
    let bytes = text.as_bytes();
    let (_, len) = decode_any(bytes, i);
    let mut end = i + len;
    while end < bytes.len() {
        let (cp, len) = decode_any(bytes, end);
        let boundary = match char::from_u32(cp) {
            Some(ch) if cp >= 0x1_0000 => chars::nfkc_boundary_before(ch),
            _ => c.bmp(cp).flags & BOUNDARY != 0,
        };
        if boundary {
            break;
        }
        end += len;
    }
    let bismillah = c.bismillah;
    let premapped = text[i..end].chars().flat_map(move |ch| {
        let spelled = if bismillah && ch == '\u{FDFD}' {
            BISMILLAH
        } else {
            ""
        };
        let own = if spelled.is_empty() { Some(ch) } else { None };
        spelled.chars().chain(own)
    });
    for ch in premapped.nfkc() {
        let cp = ch as u32;
        if cp < 0x1_0000 {
            em.unit(c.bmp(cp), ch, &c.pool);
        } else {
            let e = astral.entry(c, cp);
            em.unit(e, ch, &astral.pool);
        }
    }
    end
}

/// Entries for code points beyond the BMP, computed on demand (one at a time).
#[derive(Default)]
struct Astral {
    pool: String,
    scratch: Scratch,
    last: Option<(u32, Entry)>,
}

impl Astral {
    #[cold]
    fn entry(&mut self, c: &Compiled, cp: u32) -> Entry {
        if let Some((last, e)) = self.last {
            if last == cp {
                return e;
            }
        }
        self.pool.clear();
        let ch = char::from_u32(cp).expect("decoded from valid UTF-8");
        let e = c.compute(ch, &mut self.pool, &mut self.scratch);
        self.last = Some((cp, e));
        e
    }
}

/// Writes the output and carries the context rules' state.
struct Emitter<'a> {
    out: &'a mut String,
    /// Class of the last character written ([`NEUTRAL`] at the start).
    prev: u8,
    /// `b' '` for a pending space, `b'.'`/`b','` for a separator after a digit, or 0.
    pending: u8,
    /// Number of ي held back (R12).
    held: u32,
    yeh_hamza: bool,
    digit_separators: bool,
    script_boundary: bool,
    ascii_fold: bool,
    ascii_punct_space: bool,
    ascii_quote_space: bool,
}

impl<'a> Emitter<'a> {
    fn new(c: &Compiled, out: &'a mut String) -> Emitter<'a> {
        Emitter {
            out,
            prev: NEUTRAL,
            pending: 0,
            held: 0,
            yeh_hamza: c.yeh_hamza,
            digit_separators: c.digit_separators,
            script_boundary: c.script_boundary,
            ascii_fold: c.ascii_fold,
            ascii_punct_space: c.ascii_punct_space,
            ascii_quote_space: c.ascii_quote_space,
        }
    }

    /// Whether writing a character of class `class` unchanged needs nothing else written
    /// first (no held yeh, no pending space or separator, no script boundary).
    #[inline(always)]
    fn unchanged(&self, class: u8) -> bool {
        self.held == 0 && self.pending == 0 && self.prev == class
    }

    /// Whether ASCII `b` comes out as itself with nothing written before it.
    #[inline(always)]
    fn ascii_unchanged(&self, b: u8) -> bool {
        match b {
            b'a'..=b'z' => self.unchanged(OTHER),
            b'0'..=b'9' => self.unchanged(DIGIT),
            b'A'..=b'Z' => !self.ascii_fold && self.unchanged(OTHER),
            _ => false,
        }
    }

    /// One ASCII character, without the table.
    #[inline]
    fn ascii(&mut self, b: u8) {
        match b {
            b'a'..=b'z' => self.ascii_word(b, OTHER),
            b'A'..=b'Z' => self.ascii_word(if self.ascii_fold { b | 0x20 } else { b }, OTHER),
            b'0'..=b'9' => self.ascii_word(b, DIGIT),
            b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r' => self.space(),
            b'.' | b',' if self.digit_separators => self.separator(b),
            b'"' | b'\'' | b'`' if self.ascii_quote_space => self.space(),
            b'!'..=b'~' if self.ascii_punct_space => self.space(),
            _ => self.ascii_word(b, NEUTRAL),
        }
    }

    #[inline(always)]
    fn ascii_word(&mut self, b: u8, class: u8) {
        self.put(char::from(b), class);
    }

    /// One table entry; `ch` is the input character, `pool` holds the replacements.
    #[inline(always)]
    fn unit(&mut self, e: Entry, ch: char, pool: &str) {
        match e.kind {
            kind::KEEP => self.put(ch, e.first_class()),
            kind::CHAR => self.put(
                char::from_u32(e.off).unwrap_or(char::REPLACEMENT_CHARACTER),
                e.first_class(),
            ),
            kind::DELETE => {}
            kind::SPACE => self.space(),
            kind::YEH => self.held += 1,
            kind::HAMZA => self.hamza(),
            kind::STR => {
                let s = &pool[e.off as usize..e.off as usize + e.len as usize];
                self.word(s, e.first_class(), e.last_class());
            }
            _ => self.chars(&pool[e.off as usize..e.off as usize + e.len as usize]),
        }
    }

    /// The characters of a [`kind::CHARS`] replacement, one at a time.
    #[cold]
    fn chars(&mut self, s: &str) {
        for ch in s.chars() {
            match ch {
                ' ' => self.space(),
                '.' | ',' if self.digit_separators => self.separator(ch as u8),
                '\u{064A}' if self.yeh_hamza => self.held += 1,
                '\u{0621}' if self.yeh_hamza => self.hamza(),
                _ => self.put(ch, chars::class(ch)),
            }
        }
    }

    /// Writes one visible character of class `class`.
    #[inline(always)]
    fn put(&mut self, ch: char, class: u8) {
        if self.held != 0 || self.pending != 0 || self.prev != class {
            self.before(class);
            self.prev = class;
        }
        self.out.push(ch);
    }

    #[inline]
    fn hamza(&mut self) {
        self.held = 0;
        self.put('\u{0621}', ARABIC);
    }

    /// Writes what is pending before a visible character of class `first`.
    #[inline(never)]
    fn before(&mut self, first: u8) {
        if self.held != 0 {
            self.flush_yeh();
        }
        if self.pending != 0 {
            let p = self.pending;
            self.pending = 0;
            if p == b' ' {
                if !self.out.is_empty() {
                    self.out.push(' ');
                }
            } else if first == DIGIT {
                self.out.push(char::from(p));
            } else {
                self.out.push(' ');
            }
        } else if self.script_boundary && chars::script_boundary(self.prev, first) {
            self.out.push(' ');
        }
    }

    #[inline(always)]
    fn word(&mut self, s: &str, first: u8, last: u8) {
        self.before(first);
        self.out.push_str(s);
        self.prev = last;
    }

    #[cold]
    fn flush_yeh(&mut self) {
        let n = self.held;
        self.held = 0;
        for _ in 0..n {
            self.put('\u{064A}', ARABIC);
        }
    }

    #[inline]
    fn space(&mut self) {
        if self.held != 0 {
            self.flush_yeh();
        }
        self.pending = b' ';
    }

    fn separator(&mut self, b: u8) {
        if self.held != 0 {
            self.flush_yeh();
        }
        self.pending = if self.pending == 0 && self.prev == DIGIT && !self.out.is_empty() {
            b
        } else {
            b' '
        };
    }

    fn finish(mut self) {
        if self.held != 0 {
            self.flush_yeh();
        }
    }
}
