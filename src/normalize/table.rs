//! Compiles a list of rules into one lookup table.
//!
//! For every code point of the Basic Multilingual Plane the table holds what all per-character
//! rules together make of it, composed in order at build time (U+FEF7 → NFKC لأ → R6 لا), plus
//! the few facts the pass needs about it: whether NFKC may combine it with its neighbours, and
//! its class for the context rules. Code points outside the BMP are rare in Arabic text and are
//! computed on demand by the same function. A compiled rule set is built once per process and
//! shared behind an `Arc`.

use std::sync::{Arc, Mutex, OnceLock};

use caseless::Caseless;
use unicode_normalization::char::decompose_compatible;

use super::chars;
use super::rules::{self, Context, Op, RuleDef};

/// How the pass handles a code point.
pub(crate) mod kind {
    /// Emit the input character unchanged.
    pub(crate) const KEEP: u8 = 0;
    /// Emit one replacement character (held in [`super::Entry::off`]).
    pub(crate) const CHAR: u8 = 1;
    /// Emit a replacement string that needs no per-character care.
    pub(crate) const STR: u8 = 2;
    /// Delete: invisible to every context rule.
    pub(crate) const DELETE: u8 = 3;
    /// A space.
    pub(crate) const SPACE: u8 = 4;
    /// A yeh, held back until R12 knows whether a hamza follows.
    pub(crate) const YEH: u8 = 5;
    /// A bare hamza: drops the yeh run before it (R12).
    pub(crate) const HAMZA: u8 = 6;
    /// A replacement that holds spaces, separators, yeh or hamza, or an inner script boundary:
    /// fed to the pass one character at a time.
    pub(crate) const CHARS: u8 = 7;
}

/// The code point starts an NFKC-independent stretch (see [`chars::nfkc_boundary_before`]).
pub(crate) const BOUNDARY: u8 = 1;
/// A mark NFKC leaves alone and a rule deletes: it may be skipped after its base letter.
pub(crate) const INERT: u8 = 2;

/// In [`Compiled::short`]: the code point is an Arabic letter that comes out unchanged and
/// starts an NFKC-independent stretch.
pub(crate) const SHORT_PLAIN: u8 = 1;
/// In [`Compiled::short`]: the code point is replaced by one Arabic letter (bits 8 and up)
/// and starts an NFKC-independent stretch.
pub(crate) const SHORT_CHAR: u8 = 8;
/// In [`Compiled::short`]: [`BOUNDARY`].
pub(crate) const SHORT_BOUNDARY: u8 = 2;
/// In [`Compiled::short`]: U+064A itself under R12, which comes out unchanged unless a ء
/// follows.
pub(crate) const SHORT_YEH: u8 = 4;

/// What the table says about one code point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Byte offset of the replacement in the pool, or the replacement character itself for
    /// [`kind::CHAR`].
    pub(crate) off: u32,
    /// Byte length of the replacement.
    pub(crate) len: u8,
    /// One of [`kind`].
    pub(crate) kind: u8,
    /// [`BOUNDARY`] and [`INERT`].
    pub(crate) flags: u8,
    /// R19 class of the first (low nibble) and last (high nibble) output character.
    pub(crate) class: u8,
}

impl Entry {
    #[inline]
    pub(crate) fn first_class(self) -> u8 {
        self.class & 0x0F
    }

    #[inline]
    pub(crate) fn last_class(self) -> u8 {
        self.class >> 4
    }
}

/// A rule list compiled for the single pass.
pub(crate) struct Compiled {
    /// The enabled rules, in pipeline order.
    pub(crate) rules: Vec<&'static RuleDef>,
    /// The per-character ops of those rules, in order.
    ops: Vec<&'static Op>,
    /// One entry per BMP code point.
    table: Box<[Entry]>,
    /// The replacement strings the entries point into.
    pub(crate) pool: String,
    /// `SHORT_*` flags (low byte) and the replacement letter of [`SHORT_CHAR`] (bits 8 and
    /// up) for the code points below U+0800 (one or two UTF-8 bytes), for the pass's run of
    /// Arabic letters.
    pub(crate) short: Box<[u32; 0x800]>,
    /// R1 is on: NFKC composes marks with their base during the pass.
    pub(crate) compose: bool,
    /// R1a is on: U+FDFD is spelled out before NFKC.
    pub(crate) bismillah: bool,
    /// R12's yeh-before-hamza step is on.
    pub(crate) yeh_hamza: bool,
    /// R14 and R17 are on: `.`/`,` are kept between two ASCII digits, spaces elsewhere.
    pub(crate) digit_separators: bool,
    /// R19 is on.
    pub(crate) script_boundary: bool,
    /// ASCII capitals are lowered (R18).
    pub(crate) ascii_fold: bool,
    /// ASCII punctuation and symbols become spaces (R17).
    pub(crate) ascii_punct_space: bool,
    /// ASCII quotes become spaces (R16 or R17).
    pub(crate) ascii_quote_space: bool,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The table itself is 65,536 entries: name the rules instead.
        f.debug_struct("Compiled")
            .field(
                "rules",
                &self.rules.iter().map(|r| r.id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Compiled {
    /// Compiles `rules` (in pipeline order).
    pub(crate) fn build(rules: Vec<&'static RuleDef>) -> Compiled {
        let ops: Vec<&'static Op> = rules.iter().flat_map(|r| r.ops.iter()).collect();
        let has_op = |f: &dyn Fn(&Op) -> bool| ops.iter().any(|op| f(op));
        let mut c = Compiled {
            compose: has_op(&|op| matches!(op, Op::Nfkc)),
            bismillah: rules.iter().any(|r| std::ptr::eq(*r, &rules::R1A)),
            yeh_hamza: has_op(&|op| matches!(op, Op::Context(Context::YehBeforeHamza))),
            digit_separators: has_op(&|op| matches!(op, Op::Context(Context::DigitSeparators)))
                && has_op(&|op| matches!(op, Op::PunctuationToSpace)),
            script_boundary: has_op(&|op| matches!(op, Op::Context(Context::ScriptBoundary))),
            rules,
            ops,
            table: Box::default(),
            pool: String::new(),
            short: Box::new([0; 0x800]),
            ascii_fold: false,
            ascii_punct_space: false,
            ascii_quote_space: false,
        };
        let mut table = vec![Entry::default(); 0x1_0000];
        let mut pool = String::new();
        let mut scratch = Scratch::default();
        let screen = Screen::new(&c.ops);
        for cp in 0..0x1_0000u32 {
            if let Some(ch) = char::from_u32(cp) {
                let f = if screen.untouched(ch) {
                    std::slice::from_ref(&ch)
                } else {
                    c.final_chars(ch, &mut scratch)
                };
                table[cp as usize] = c.classify(ch, f, &mut pool);
            }
        }
        c.short = short_table(&table);
        c.table = table.into_boxed_slice();
        c.pool = pool;
        c.ascii_fold = c.final_str('A') == "a";
        c.ascii_punct_space = c.final_str('!') == " ";
        c.ascii_quote_space = c.final_str('"') == " ";
        c
    }

    /// The table entry of a BMP code point.
    #[inline]
    pub(crate) fn bmp(&self, cp: u32) -> Entry {
        self.table[cp as usize]
    }

    /// What all per-character rules make of `ch` (no context steps).
    pub(crate) fn final_chars<'s>(&self, ch: char, scratch: &'s mut Scratch) -> &'s [char] {
        let Scratch { a, b } = scratch;
        let (mut src, mut dst) = (a, b);
        src.clear();
        src.push(ch);
        for op in &self.ops {
            dst.clear();
            for &c in src.iter() {
                op.apply_char(c, self.digit_separators, dst);
            }
            std::mem::swap(&mut src, &mut dst);
        }
        src
    }

    fn final_str(&self, ch: char) -> String {
        let mut scratch = Scratch::default();
        self.final_chars(ch, &mut scratch).iter().collect()
    }

    /// Computes the entry of `ch`, appending its replacement (if any) to `pool`.
    pub(crate) fn compute(&self, ch: char, pool: &mut String, scratch: &mut Scratch) -> Entry {
        let f = self.final_chars(ch, scratch);
        self.classify(ch, f, pool)
    }

    /// The entry of `ch`, given what the per-character rules make of it (`f`).
    fn classify(&self, ch: char, f: &[char], pool: &mut String) -> Entry {
        let mut flags = 0;
        if !self.compose || chars::nfkc_boundary_before(ch) {
            flags |= BOUNDARY;
        } else if f.is_empty() && chars::is_plain_nonstarter(ch) {
            flags |= INERT;
        }
        let special = |c: char| {
            c == ' '
                || (self.digit_separators && (c == '.' || c == ','))
                || (self.yeh_hamza && (c == '\u{064A}' || c == '\u{0621}'))
        };
        let (first, last) = match (f.first(), f.last()) {
            (Some(&a), Some(&b)) => (chars::class(a), chars::class(b)),
            _ => (chars::NEUTRAL, chars::NEUTRAL),
        };
        let mut e = Entry {
            flags,
            class: first | (last << 4),
            ..Entry::default()
        };
        e.kind = if f.is_empty() {
            kind::DELETE
        } else if f.len() == 1 && f[0] == ' ' {
            kind::SPACE
        } else if f.len() == 1 && self.yeh_hamza && f[0] == '\u{064A}' {
            kind::YEH
        } else if f.len() == 1 && self.yeh_hamza && f[0] == '\u{0621}' {
            kind::HAMZA
        } else if f.len() == 1 && f[0] == ch && !special(ch) {
            kind::KEEP
        } else if f.len() == 1 && !special(f[0]) {
            e.off = u32::from(f[0]);
            kind::CHAR
        } else {
            let inner_boundary = self.script_boundary
                && f.windows(2)
                    .any(|w| chars::script_boundary(chars::class(w[0]), chars::class(w[1])));
            let off = pool.len();
            pool.extend(f.iter());
            e.off = u32::try_from(off).expect("replacement pool stays small");
            // The longest decomposition in Unicode (U+FDFA) is 18 characters.
            e.len = u8::try_from(pool.len() - off).expect("replacements are short");
            if inner_boundary || f.iter().any(|&c| special(c)) {
                kind::CHARS
            } else {
                kind::STR
            }
        };
        e
    }
}

/// The `SHORT_*` summary of the entries below U+0800.
fn short_table(table: &[Entry]) -> Box<[u32; 0x800]> {
    let arabic = chars::ARABIC | (chars::ARABIC << 4);
    let mut short = Box::new([0u32; 0x800]);
    for (cp, (e, s)) in table.iter().zip(short.iter_mut()).enumerate() {
        if e.flags & BOUNDARY == 0 {
            continue;
        }
        *s = u32::from(SHORT_BOUNDARY);
        if e.kind == kind::KEEP && e.class == arabic {
            *s |= u32::from(SHORT_PLAIN);
        } else if e.kind == kind::YEH && cp == 0x064A {
            *s |= u32::from(SHORT_YEH);
        } else if e.kind == kind::CHAR && e.class == arabic {
            *s |= u32::from(SHORT_CHAR) | (e.off << 8);
        }
    }
    short
}

/// Which BMP code points some op may change, so that building the table can skip the ops for
/// all the others (most of the BMP).
struct Screen {
    /// Bit set of the code points a [`Op::Map`] or [`Op::Ranges`] names.
    listed: Vec<u64>,
    format: bool,
    punct: bool,
    digits: bool,
    whitespace: bool,
    nfkc: bool,
    fold: bool,
}

impl Screen {
    fn new(ops: &[&Op]) -> Screen {
        let mut screen = Screen {
            listed: vec![0; 0x1_0000 / 64],
            format: false,
            punct: false,
            digits: false,
            whitespace: false,
            nfkc: false,
            fold: false,
        };
        let mut list = |lo: char, hi: char| {
            for cp in lo as usize..=(hi as usize).min(0xFFFF) {
                screen.listed[cp / 64] |= 1 << (cp % 64);
            }
        };
        for op in ops {
            match op {
                Op::Map(pairs) => pairs.iter().for_each(|&(c, _)| list(c, c)),
                Op::Ranges(ranges, _) => ranges.iter().for_each(|&(lo, hi)| list(lo, hi)),
                _ => {}
            }
        }
        for op in ops {
            match op {
                Op::DeleteFormat => screen.format = true,
                Op::PunctuationToSpace => screen.punct = true,
                Op::DigitsToAscii => screen.digits = true,
                Op::WhitespaceToSpace => screen.whitespace = true,
                Op::Nfkc => screen.nfkc = true,
                Op::CaseFold => screen.fold = true,
                Op::Map(_) | Op::Ranges(..) | Op::Context(_) => {}
            }
        }
        screen
    }

    /// Whether no op can change `ch` (a BMP code point).
    fn untouched(&self, ch: char) -> bool {
        let cp = ch as usize;
        if self.listed[cp / 64] & (1 << (cp % 64)) != 0 {
            return false;
        }
        if (self.format && chars::is_format(ch))
            || (self.punct && chars::is_punct_or_symbol(ch))
            || (self.digits && chars::digit_value(ch).is_some_and(|_| !ch.is_ascii()))
            || (self.whitespace && ch.is_whitespace())
        {
            return false;
        }
        if self.nfkc && !('\u{AC00}'..='\u{D7A3}').contains(&ch) {
            // Hangul syllables decompose and recompose to themselves.
            let mut same = true;
            decompose_compatible(ch, |d| same &= d == ch);
            if !same {
                return false;
            }
        }
        if self.fold {
            let mut folded = std::iter::once(ch).default_case_fold();
            if folded.next() != Some(ch) || folded.next().is_some() {
                return false;
            }
        }
        true
    }
}

/// Two reusable buffers for [`Compiled::final_chars`].
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    a: Vec<char>,
    b: Vec<char>,
}

/// A rule list, as indices into [`rules::ALL_DEFS`].
type CacheKey = Vec<usize>;

/// Compiled rule sets, one per distinct list of rules.
type Cache = Mutex<Vec<(CacheKey, Arc<Compiled>)>>;

/// The rule sets compiled so far in this process.
static CACHE: OnceLock<Cache> = OnceLock::new();

/// The compiled form of `rules`, built once per process.
pub(crate) fn compiled(rules: Vec<&'static RuleDef>) -> Arc<Compiled> {
    let key: CacheKey = rules.iter().map(|r| rules::def_index(r)).collect();
    let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
    let mut cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, c)) = cache.iter().find(|(k, _)| *k == key) {
        return Arc::clone(c);
    }
    let c = Arc::new(Compiled::build(rules));
    cache.push((key, Arc::clone(&c)));
    c
}
