//! The normalization rules as data.
//!
//! Every rule of `docs/normalization.md` is one [`RuleDef`]: an id, a description and a list of
//! [`Op`]s saying which code points it maps or deletes, or which neighbour-dependent step it
//! performs. Nothing here runs text; [`super::table`] compiles an enabled list of rules into one
//! lookup table and [`super::reference`] applies them one by one (for `explain` and as the
//! oracle the fast path is tested against). Keeping the rules declarative is what lets a
//! profile or a builder switch single rules on and off without touching the pass.

use caseless::Caseless;
use unicode_normalization::char::decompose_compatible;
use unicode_normalization::UnicodeNormalization;

use super::chars;
use super::Profile;

/// What a rule does: a per-code-point mapping, or a step that looks at neighbours.
#[derive(Debug)]
pub(crate) enum Op {
    /// Replace each listed code point by its string (`""` deletes it).
    Map(&'static [(char, &'static str)]),
    /// Replace every code point in the inclusive ranges by the string (`""` deletes it).
    Ranges(&'static [(char, char)], &'static str),
    /// Delete every code point of General_Category Cf.
    DeleteFormat,
    /// Unicode compatibility normalization. Per code point it is compiled into the table; the
    /// canonical composition of a letter with a following mark (ا + U+0654 → أ) is done during
    /// the pass, before any mark is deleted.
    Nfkc,
    /// Every decimal digit (General_Category Nd) becomes its ASCII digit.
    DigitsToAscii,
    /// Every punctuation or symbol character (General_Category P* or S*) becomes a space,
    /// except a `.` or `,` between two ASCII digits when [`Context::DigitSeparators`] is on.
    PunctuationToSpace,
    /// Unicode default case folding.
    CaseFold,
    /// Every White_Space character becomes U+0020.
    WhitespaceToSpace,
    /// A step that depends on the neighbouring characters.
    Context(Context),
}

impl Op {
    /// Applies this op to one code point, pushing the result onto `out`.
    ///
    /// Context steps push the code point unchanged: they are carried out on whole strings by
    /// the reference and during the pass. `keep_separators` says whether [`Op::PunctuationToSpace`]
    /// leaves `.` and `,` for [`Context::DigitSeparators`] to decide.
    pub(crate) fn apply_char(&self, c: char, keep_separators: bool, out: &mut Vec<char>) {
        match self {
            Op::Map(pairs) => match pairs.iter().find(|(from, _)| *from == c) {
                Some((_, to)) => out.extend(to.chars()),
                None => out.push(c),
            },
            Op::Ranges(ranges, to) => {
                if ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) {
                    out.extend(to.chars());
                } else {
                    out.push(c);
                }
            }
            Op::DeleteFormat => {
                if !chars::is_format(c) {
                    out.push(c);
                }
            }
            Op::Nfkc => {
                // A character that does not decompose is its own NFKC; so is a Hangul
                // syllable, which decomposes and recomposes.
                let mut unchanged = true;
                if !c.is_ascii() && !('\u{AC00}'..='\u{D7A3}').contains(&c) {
                    decompose_compatible(c, |d| unchanged &= d == c);
                }
                if unchanged {
                    out.push(c);
                } else {
                    out.extend(std::iter::once(c).nfkc());
                }
            }
            Op::DigitsToAscii => match chars::digit_value(c) {
                Some(d) if !c.is_ascii() => out.push(char::from(b'0' + d as u8)),
                _ => out.push(c),
            },
            Op::PunctuationToSpace => {
                if chars::is_punct_or_symbol(c) && !(keep_separators && (c == '.' || c == ',')) {
                    out.push(' ');
                } else {
                    out.push(c);
                }
            }
            Op::CaseFold => {
                if c.is_ascii() {
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.extend(std::iter::once(c).default_case_fold());
                }
            }
            Op::WhitespaceToSpace => out.push(if c.is_whitespace() { ' ' } else { c }),
            Op::Context(_) => out.push(c),
        }
    }
}

/// The neighbour-dependent steps. Each is carried out during the single pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    /// R12: a run of ي directly before ء is dropped (after ؤ, ئ → ء).
    YehBeforeHamza,
    /// R14: `.` and `,` survive [`Op::PunctuationToSpace`] when they sit between two ASCII
    /// digits.
    DigitSeparators,
    /// R19: a space between an Arabic letter and a non-Arabic letter or a digit.
    ScriptBoundary,
    /// R3: whitespace runs become one space; leading and trailing whitespace is trimmed.
    CollapseWhitespace,
}

/// One normalization rule.
#[derive(Debug)]
pub(crate) struct RuleDef {
    /// The id used in `docs/normalization.md`, the cases file and the builder (`R6`).
    pub(crate) id: &'static str,
    /// What the rule does, for `explain`.
    pub(crate) description: &'static str,
    /// What the rule does, in order.
    pub(crate) ops: &'static [Op],
}

const ALEF: &str = "\u{0627}";
const YEH: &str = "\u{064A}";
const KAF: &str = "\u{0643}";
const HEH: &str = "\u{0647}";
const HAMZA: &str = "\u{0621}";

/// R1a: the bismillah ligature, which has no decomposition.
pub(crate) static R1A: RuleDef = RuleDef {
    id: "R1a",
    description: "bismillah ligature spelled out",
    ops: &[Op::Map(&[(
        '\u{FDFD}',
        "\u{0628}\u{0633}\u{0645} \u{0627}\u{0644}\u{0644}\u{0647} \
         \u{0627}\u{0644}\u{0631}\u{062D}\u{0645}\u{0646} \
         \u{0627}\u{0644}\u{0631}\u{062D}\u{064A}\u{0645}",
    )])],
};

/// R1: NFKC.
pub(crate) static R1: RuleDef = RuleDef {
    id: "R1",
    description: "compatibility normalization (NFKC)",
    ops: &[Op::Nfkc],
};

/// R2: format, bidi and zero-width controls.
pub(crate) static R2: RuleDef = RuleDef {
    id: "R2",
    description: "format and bidi controls (Cf) deleted",
    ops: &[Op::DeleteFormat],
};

/// R3: whitespace.
pub(crate) static R3: RuleDef = RuleDef {
    id: "R3",
    description: "whitespace collapsed to one space",
    ops: &[
        Op::WhitespaceToSpace,
        Op::Context(Context::CollapseWhitespace),
    ],
};

/// R4: tatweel.
pub(crate) static R4: RuleDef = RuleDef {
    id: "R4",
    description: "tatweel deleted",
    ops: &[Op::Ranges(&[('\u{0640}', '\u{0640}')], "")],
};

/// R5: the eight harakat (exactly Lucene's set).
pub(crate) static R5: RuleDef = RuleDef {
    id: "R5",
    description: "harakat deleted",
    ops: &[Op::Ranges(&[('\u{064B}', '\u{0652}')], "")],
};

/// R5b: maddah, hamza above/below and the other marks U+0653–U+065F.
pub(crate) static R5B: RuleDef = RuleDef {
    id: "R5b",
    description: "other Arabic combining marks deleted",
    ops: &[Op::Ranges(&[('\u{0653}', '\u{065F}')], "")],
};

/// R5c: superscript (dagger) alef.
pub(crate) static R5C: RuleDef = RuleDef {
    id: "R5c",
    description: "superscript alef deleted",
    ops: &[Op::Ranges(&[('\u{0670}', '\u{0670}')], "")],
};

/// R5d: honorific signs and Quranic annotation marks (U+06DD is Cf: R2).
pub(crate) static R5D: RuleDef = RuleDef {
    id: "R5d",
    description: "honorific and Quranic marks deleted",
    ops: &[Op::Ranges(
        &[
            ('\u{0610}', '\u{061A}'),
            ('\u{06D6}', '\u{06DC}'),
            ('\u{06DE}', '\u{06ED}'),
            ('\u{08CA}', '\u{08E1}'),
            ('\u{08E3}', '\u{08FF}'),
        ],
        "",
    )],
};

/// R5e: high hamza (what NFKC leaves of U+0675–U+0678).
pub(crate) static R5E: RuleDef = RuleDef {
    id: "R5e",
    description: "high hamza deleted",
    ops: &[Op::Ranges(&[('\u{0674}', '\u{0674}')], "")],
};

/// R6: alef variants, including wasla and the wavy-hamza alefs.
pub(crate) static R6: RuleDef = RuleDef {
    id: "R6",
    description: "alef variants → bare alef",
    ops: &[Op::Ranges(
        &[
            ('\u{0622}', '\u{0623}'),
            ('\u{0625}', '\u{0625}'),
            ('\u{0671}', '\u{0673}'),
        ],
        ALEF,
    )],
};

/// R6 as Lucene's `ArabicNormalizer` has it: آ أ إ only.
pub(crate) static R6_LUCENE: RuleDef = RuleDef {
    id: "R6",
    description: "alef variants آ أ إ → bare alef",
    ops: &[Op::Ranges(
        &[('\u{0622}', '\u{0623}'), ('\u{0625}', '\u{0625}')],
        ALEF,
    )],
};

/// R7: alef maksura.
pub(crate) static R7: RuleDef = RuleDef {
    id: "R7",
    description: "alef maksura → yeh",
    ops: &[Op::Ranges(&[('\u{0649}', '\u{0649}')], YEH)],
};

/// R8: Persian and Urdu yeh variants.
pub(crate) static R8: RuleDef = RuleDef {
    id: "R8",
    description: "Persian/Urdu yeh variants → yeh",
    ops: &[
        Op::Ranges(
            &[
                ('\u{0620}', '\u{0620}'),
                ('\u{063D}', '\u{063F}'),
                ('\u{06CC}', '\u{06CD}'),
                ('\u{06D0}', '\u{06D0}'),
                ('\u{06D2}', '\u{06D2}'),
            ],
            YEH,
        ),
        Op::Map(&[('\u{06D3}', "\u{0626}")]),
    ],
};

/// R9: keheh and kaf variants.
pub(crate) static R9: RuleDef = RuleDef {
    id: "R9",
    description: "keheh/kaf variants → kaf",
    ops: &[Op::Ranges(
        &[('\u{063B}', '\u{063C}'), ('\u{06A9}', '\u{06AB}')],
        KAF,
    )],
};

/// R9b: the letters Persian, Urdu, Kurdish, Turkic and Maghrebi writers add to the Arabic script
/// for sounds Arabic lacks, folded to the Arabic letter an Arabic writer uses for the same word
/// (ڤيديو and فيديو, پاريس and باريس, گوگل and كوكل, چاي and جاي).
pub(crate) static R9B: RuleDef = RuleDef {
    id: "R9b",
    description: "letters for sounds Arabic lacks → nearest Arabic letter",
    ops: &[Op::Map(&[
        ('\u{067E}', "\u{0628}"), // پ pe → ب
        ('\u{0679}', "\u{062A}"), // ٹ tteh → ت
        ('\u{0686}', "\u{062C}"), // چ tcheh → ج
        ('\u{0688}', "\u{062F}"), // ڈ ddal → د
        ('\u{0691}', "\u{0631}"), // ڑ rreh → ر
        ('\u{0698}', "\u{0632}"), // ژ jeh → ز
        ('\u{06A4}', "\u{0641}"), // ڤ veh → ف
        ('\u{06A5}', "\u{0641}"), // ڥ Maghrebi veh → ف
        ('\u{06A8}', "\u{0642}"), // ڨ Maghrebi gaf (qaf with three dots) → ق
        ('\u{06AD}', "\u{0643}"), // ڭ ng → ك
        ('\u{06AF}', "\u{0643}"), // گ gaf → ك
        ('\u{06BA}', "\u{0646}"), // ں noon ghunna → ن
        ('\u{06C6}', "\u{0648}"), // ۆ oe → و
        ('\u{06C7}', "\u{0648}"), // ۇ u → و
        ('\u{06CB}', "\u{0648}"), // ۋ ve → و
        ('\u{06CE}', "\u{064A}"), // ێ yeh with small v → ي
    ])],
};

/// R10: heh variants; teh marbuta goal goes to teh marbuta (then R11).
pub(crate) static R10: RuleDef = RuleDef {
    id: "R10",
    description: "heh variants → heh",
    ops: &[
        Op::Ranges(
            &[
                ('\u{06BE}', '\u{06BE}'),
                ('\u{06C0}', '\u{06C2}'),
                ('\u{06D5}', '\u{06D5}'),
                ('\u{06FF}', '\u{06FF}'),
            ],
            HEH,
        ),
        Op::Map(&[('\u{06C3}', "\u{0629}")]),
    ],
};

/// R11: teh marbuta.
pub(crate) static R11: RuleDef = RuleDef {
    id: "R11",
    description: "teh marbuta → heh",
    ops: &[Op::Ranges(&[('\u{0629}', '\u{0629}')], HEH)],
};

/// R12: hamza seats. The seats go first so that the output holds no ي before ء and a second
/// pass changes nothing (see the module docs of [`super`]).
pub(crate) static R12: RuleDef = RuleDef {
    id: "R12",
    description: "hamza seats → bare hamza",
    ops: &[
        Op::Ranges(&[('\u{0624}', '\u{0624}'), ('\u{0626}', '\u{0626}')], HAMZA),
        Op::Context(Context::YehBeforeHamza),
    ],
};

/// R13: all decimal digits.
pub(crate) static R13: RuleDef = RuleDef {
    id: "R13",
    description: "digits → ASCII",
    ops: &[Op::DigitsToAscii],
};

/// R14: Arabic number punctuation, and digit-internal separators kept.
pub(crate) static R14: RuleDef = RuleDef {
    id: "R14",
    description: "Arabic number punctuation → ASCII",
    ops: &[
        Op::Map(&[
            ('\u{066A}', "%"),
            ('\u{066B}', "."),
            ('\u{066C}', ","),
            ('\u{066D}', "*"),
        ]),
        Op::Context(Context::DigitSeparators),
    ],
};

/// R15: Arabic punctuation.
pub(crate) static R15: RuleDef = RuleDef {
    id: "R15",
    description: "Arabic punctuation → ASCII",
    ops: &[Op::Map(&[
        ('\u{060C}', ","),
        ('\u{060D}', "/"),
        ('\u{061B}', ";"),
        ('\u{061F}', "?"),
        ('\u{06D4}', "."),
    ])],
};

/// R16: quotes, guillemets, apostrophes and primes.
pub(crate) static R16: RuleDef = RuleDef {
    id: "R16",
    description: "quotes and guillemets → space",
    ops: &[Op::Ranges(
        &[
            ('"', '"'),
            ('\'', '\''),
            ('`', '`'),
            ('\u{00AB}', '\u{00AB}'),
            ('\u{00BB}', '\u{00BB}'),
            ('\u{2018}', '\u{201F}'),
            ('\u{2032}', '\u{2033}'),
            ('\u{2039}', '\u{203A}'),
        ],
        " ",
    )],
};

/// R17: punctuation and symbols.
pub(crate) static R17: RuleDef = RuleDef {
    id: "R17",
    description: "punctuation and symbols → space",
    ops: &[Op::PunctuationToSpace],
};

/// R18: case folding.
pub(crate) static R18: RuleDef = RuleDef {
    id: "R18",
    description: "case folding",
    ops: &[Op::CaseFold],
};

/// R19: script and digit boundaries.
pub(crate) static R19: RuleDef = RuleDef {
    id: "R19",
    description: "space between Arabic letters and Latin letters or digits",
    ops: &[Op::Context(Context::ScriptBoundary)],
};

/// Every rule of the default profile, in the order they apply. A rule switched on through the
/// builder takes its place in this order.
pub(crate) static DEFAULT_RULES: [&RuleDef; 25] = [
    &R1A, &R1, &R2, &R4, &R5, &R5B, &R5C, &R5D, &R5E, &R6, &R7, &R8, &R9, &R9B, &R10, &R11, &R12,
    &R13, &R14, &R15, &R16, &R17, &R18, &R19, &R3,
];

/// Lucene's `ArabicNormalizer`, plus whitespace.
static LIGHT_RULES: [&RuleDef; 6] = [&R4, &R5, &R6_LUCENE, &R7, &R11, &R3];

/// Whitespace only.
static NONE_RULES: [&RuleDef; 1] = [&R3];

/// Every distinct rule definition; an index into this list identifies a definition in a cache
/// key.
pub(crate) static ALL_DEFS: [&RuleDef; 26] = [
    &R1A, &R1, &R2, &R4, &R5, &R5B, &R5C, &R5D, &R5E, &R6, &R7, &R8, &R9, &R9B, &R10, &R11, &R12,
    &R13, &R14, &R15, &R16, &R17, &R18, &R19, &R3, &R6_LUCENE,
];

/// The rules a profile starts from, in pipeline order.
pub(crate) fn profile_rules(profile: Profile) -> &'static [&'static RuleDef] {
    match profile {
        Profile::Default => &DEFAULT_RULES,
        Profile::Light => &LIGHT_RULES,
        Profile::None => &NONE_RULES,
    }
}

/// The position of a rule id in the pipeline order, if the id exists.
pub(crate) fn rank(id: &str) -> Option<usize> {
    DEFAULT_RULES.iter().position(|r| r.id == id)
}

/// The rule ids, in pipeline order (for error messages and `--help`).
pub(crate) fn rule_ids() -> impl Iterator<Item = &'static str> {
    DEFAULT_RULES.iter().map(|r| r.id)
}

/// The index of a definition in [`ALL_DEFS`].
pub(crate) fn def_index(def: &RuleDef) -> usize {
    ALL_DEFS
        .iter()
        .position(|d| std::ptr::eq(*d, def))
        .expect("every rule definition is listed in ALL_DEFS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_every_definition_is_listed() {
        let ids: Vec<_> = rule_ids().collect();
        for (i, id) in ids.iter().enumerate() {
            assert!(!ids[i + 1..].contains(id), "duplicate rule id {id}");
        }
        for p in Profile::ALL {
            for r in profile_rules(p) {
                def_index(r);
                assert!(rank(r.id).is_some());
            }
        }
    }

    #[test]
    fn profiles_are_in_pipeline_order() {
        for p in Profile::ALL {
            let ranks: Vec<_> = profile_rules(p)
                .iter()
                .map(|r| rank(r.id).unwrap())
                .collect();
            assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{p}: {ranks:?}");
        }
    }
}
