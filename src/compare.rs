//! Why two texts are, or are not, duplicates: every quantity the duplicate rule looks at for one
//! pair, the part of the rule that applies, and the decision, as `mukarrar compare` shows them.
//!
//! The decision is always [`Settings::linked`], the one rule that `cluster`, `filter`, `index`
//! and the Spark job apply; this module only measures and explains it. A pair is described by
//! [`Rule::of`], the one place that names the parts of the rule, and by [`explain`], which says
//! which measurement decided.
//!
//! ```
//! use mukarrar::compare::{compare, Subject};
//! use mukarrar::settings::Settings;
//! let c = compare(
//!     &Settings::default(),
//!     Subject::text("الأمم المتحدة تحثّ قادة العالم على بذل الجهود لحل الدولتين"),
//!     Subject::text("جوتيريش يحثّ قادة العالم على بذل الجهود لحل الدولتين"),
//! );
//! assert!(c.decision.duplicate);
//! assert_eq!(c.decision.by, "short: shared run");
//! assert_eq!(c.passages.unwrap().a[0].text, "قاده العالم علي بذل الجهود لحل الدولتين");
//! ```

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64;

use crate::cluster::{Measure, Verify};
use crate::minhash;
use crate::report::html::esc;
use crate::report::printable;
use crate::settings::{longest_common_run, word_jaccard, Settings, Signed, Traits};
use crate::shingle::ShingleKind;
use crate::signature::{numbers_fingerprint, Scratch, Signer};

/// One side of a comparison, as given.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A text, normalized and signed here.
    Text {
        /// Its id, when it has one.
        id: Option<&'a str>,
        /// The original text.
        text: &'a str,
    },
    /// A document already signed (an index keeps signatures, not texts): what needs the text
    /// (normalized form, exact shingle sets, shared passages) is left out.
    Signed {
        /// Its id.
        id: &'a str,
        /// The document as verification sees it.
        signed: Signed<'a>,
    },
}

impl<'a> Subject<'a> {
    /// A text without an id.
    pub fn text(text: &'a str) -> Subject<'a> {
        Subject::Text { id: None, text }
    }
}

/// The part of the duplicate rule that applies to a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Both texts short: their word sets, exactly, or a long shared run of words; never when
    /// their numbers differ.
    Short,
    /// Both texts long: the measure over their (lead-weighted) shingles, and a little below
    /// the threshold their word sets ([`crate::settings::Reword`]).
    Long,
    /// One short text and one long one, without cross-length matching: no part of the rule
    /// compares them.
    Mixed,
    /// One short text and one long one: their heads (titles) and leads
    /// ([`crate::settings::Cross`]).
    Cross,
    /// A text empty after normalization: never a duplicate.
    Empty,
}

impl Rule {
    /// The part of the rule for two documents with these traits.
    ///
    /// This is the one place where a pair is assigned a part of the rule: a new part (such as
    /// one that compares a short text with the title and lead of a long one) is a new variant
    /// returned here, its name in [`Rule::name`] and its measurements in [`explain`].
    pub fn of(settings: &Settings, a: &Traits, b: &Traits) -> Rule {
        match (a.is_empty() || b.is_empty(), a.short, b.short) {
            (true, _, _) => Rule::Empty,
            (false, true, true) => Rule::Short,
            (false, false, false) => Rule::Long,
            (false, _, _) if settings.cross.on() => Rule::Cross,
            (false, _, _) => Rule::Mixed,
        }
    }

    /// The name shown and serialized.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Short => "short",
            Rule::Long => "long",
            Rule::Mixed => "mixed",
            Rule::Cross => "cross-length",
            Rule::Empty => "empty",
        }
    }

    /// What the part of the rule does, with `settings`' values.
    pub fn description(self, s: &Settings) -> String {
        match self {
            Rule::Short => format!(
                "both texts have fewer than {} words: duplicates when their word sets reach \
                 Jaccard {}, or when they share a run of {} words covering {:.0}% of the \
                 shorter one; never when both hold numbers and not the same ones",
                s.short.words,
                s.short.threshold,
                s.short.run_words,
                100.0 * s.short.run_share
            ),
            Rule::Long => format!(
                "both texts have {} words or more: duplicates when the {} of their {} reaches {} \
                 ({}; the first {} words count {} times)",
                s.short.words,
                s.measure.name(),
                shingle_name(s),
                s.threshold,
                match s.verify {
                    Verify::Estimate => "estimated from the MinHash signatures",
                    Verify::Exact => "exact, over the shingle sets",
                },
                s.lead.words,
                s.lead.weight
            ),
            Rule::Mixed => format!(
                "one text has fewer than {} words and the other more: never compared, so \
                 never duplicates",
                s.short.words
            ),
            Rule::Cross => format!(
                "one text has fewer than {} words and the other more: duplicates when their \
                 heads (first line, at most {} words) match as two short texts do, without \
                 different numbers, and one text is nothing but its head or {:.0}% of the \
                 distinct words of the shorter lead (first {} words) are in the other's",
                s.short.words,
                crate::settings::HEAD_WORDS,
                100.0 * s.cross.containment,
                s.cross.words
            ),
            Rule::Empty => "a text empty after normalization: never a duplicate".into(),
        }
    }
}

fn shingle_name(s: &Settings) -> String {
    match s.shingle.kind {
        ShingleKind::Word => format!("word {}-grams", s.shingle.n),
        ShingleKind::Char => format!("character {}-grams", s.shingle.n),
    }
}

/// One side's facts.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// Its id, when it has one.
    pub id: Option<String>,
    /// The original text (absent for a stored signature).
    pub text: Option<String>,
    /// The text as the shingler sees it (absent for a stored signature).
    pub normalized: Option<String>,
    /// Words after normalization (absent for a stored long text).
    pub words: Option<usize>,
    /// True for a short text.
    pub short: bool,
    /// True when empty after normalization.
    pub empty: bool,
    /// Distinct shingles, lead copies included (what MinHash signed).
    pub shingles: u32,
    /// The words that carry numbers (digits, Arabic ordinal words), in order; absent for a
    /// stored signature.
    pub numbers: Option<Vec<String>>,
}

/// Shingle counts of the two texts, over the exact sets (lead copies included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Overlap {
    /// Distinct shingles of A.
    pub a: usize,
    /// Distinct shingles of B.
    pub b: usize,
    /// Shingles in both.
    pub shared: usize,
    /// Shingles in either.
    pub union: usize,
}

/// Jaccard similarity and containment (of the smaller set) of the shingle sets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Similarities {
    /// |A ∩ B| / |A ∪ B|.
    pub jaccard: f64,
    /// |A ∩ B| / min(|A|, |B|).
    pub containment: f64,
}

/// What the short rule measures on the words of two short texts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Words {
    /// Jaccard similarity of the two word sets.
    pub jaccard: f64,
    /// The longest run of consecutive words the two share.
    pub longest_run: usize,
    /// The run the shared-run rule needs for this pair (0: the rule is off).
    pub run_needed: usize,
}

/// The numbers check of short texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Numbers {
    /// True when the check applies: both texts short and the check on (`--ignore-numbers`
    /// turns it off).
    pub applies: bool,
    /// True when both texts hold numbers.
    pub both_hold_numbers: bool,
    /// True when their sequences of numbers are the same (by fingerprint).
    pub same: bool,
    /// False when the check keeps the pair apart.
    pub passed: bool,
}

/// What the cross-length rule ([`crate::settings::Cross`]) measures on a pair.
#[derive(Debug, Clone, Serialize)]
pub struct CrossParts {
    /// Words in each head.
    pub head_words: (usize, usize),
    /// Word-set Jaccard similarity of the heads.
    pub head_jaccard: f64,
    /// Longest run of words the heads share.
    pub head_run: usize,
    /// The shared run the short rule needs between the heads (0 when that part is off).
    pub head_run_needed: usize,
    /// Whether the heads match as two short texts do.
    pub heads_match: bool,
    /// False when both heads hold numbers, and not the same ones.
    pub numbers_passed: bool,
    /// Whether a text is nothing but its head (a bare headline).
    pub bare: bool,
    /// Share of the shorter lead's distinct words found in the other lead.
    pub lead_containment: f64,
    /// The share needed.
    pub containment_needed: f64,
    /// The cross-length rule's verdict.
    pub linked: bool,
}

impl CrossParts {
    /// The cross-length rule's measurements on `a` and `b`, or `None` where it does not apply.
    pub fn of(settings: &Settings, a: &Signed<'_>, b: &Signed<'_>) -> Option<CrossParts> {
        let (ta, tb) = (&a.traits, &b.traits);
        if !settings.cross.on() || ta.is_empty() || tb.is_empty() || ta.head == 0 || tb.head == 0 {
            return None;
        }
        let (ha, hb) = (a.head(), b.head());
        let head_jaccard = word_jaccard(ha, hb);
        let head_run = longest_common_run(ha, hb);
        let head_run_needed = settings.run_needed(ha.len().min(hb.len()));
        let heads_match = settings.short_rule(ha, hb);
        let numbers_passed = !settings.short.numbers
            || ta.head_numbers == 0
            || tb.head_numbers == 0
            || ta.head_numbers == tb.head_numbers;
        let bare = a.words.len() == ta.head as usize || b.words.len() == tb.head as usize;
        Some(CrossParts {
            head_words: (ha.len(), hb.len()),
            head_jaccard,
            head_run,
            head_run_needed,
            heads_match,
            numbers_passed,
            bare,
            lead_containment: crate::settings::word_containment(a.lead(settings), b.lead(settings)),
            containment_needed: settings.cross.containment,
            linked: settings.cross_linked(a, b),
        })
    }

    /// The measurements on one line.
    fn summary(&self) -> String {
        let run = if self.head_run_needed > 0 {
            format!(
                "longest shared run {} (needed {})",
                self.head_run, self.head_run_needed
            )
        } else {
            format!("longest shared run {}", self.head_run)
        };
        format!(
            "heads of {} and {} words: word-set Jaccard {:.3} · {run} · numbers {} · {} · lead \
             containment {:.3} (needed {}) · {}",
            self.head_words.0,
            self.head_words.1,
            self.head_jaccard,
            if self.numbers_passed {
                "passed"
            } else {
                "FAILED"
            },
            if self.bare {
                "a bare headline"
            } else {
                "no bare headline"
            },
            self.lead_containment,
            self.containment_needed,
            if self.linked { "linked" } else { "not linked" }
        )
    }

    /// Why the rule links the pair or not, in words.
    fn reason(&self) -> String {
        let heads = format!(
            "heads of {} and {} words: word-set Jaccard {:.3}, longest shared run {}",
            self.head_words.0, self.head_words.1, self.head_jaccard, self.head_run
        );
        if !self.numbers_passed {
            format!("{heads}; both heads hold numbers, and not the same ones")
        } else if !self.heads_match {
            format!("{heads}: the heads do not match")
        } else if self.bare {
            format!("{heads}: the heads match and one text is a bare headline")
        } else {
            let verdict = if self.lead_containment >= self.containment_needed {
                "reaches"
            } else {
                "is below"
            };
            format!(
                "{heads}: the heads match; lead containment {:.3} {verdict} {}",
                self.lead_containment, self.containment_needed
            )
        }
    }
}

/// The decision and what made it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The pair is a duplicate ([`Settings::linked`]).
    pub duplicate: bool,
    /// The part of the rule and the measurement that decided (`short: word sets`, `short:
    /// shared run`, `short: numbers`, `long: jaccard`, `long: words`, `mixed`, `empty`).
    pub by: String,
    /// The measurement against its threshold, in words.
    pub reason: String,
    /// The measured value, when one decided.
    pub value: Option<f64>,
    /// The threshold it was held against.
    pub threshold: Option<f64>,
}

/// A run of words of one normalized text that the other text holds too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Passage {
    /// The position of its first word in the normalized text (from 0).
    pub start: usize,
    /// Its length in words.
    pub words: usize,
    /// Its words.
    pub text: String,
}

/// The shared passages of both texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Passages {
    /// A passage is made of runs of this many words found in both texts ([`PASSAGE_WORDS`],
    /// fewer for texts shorter than that).
    pub min_words: usize,
    /// The passages of A found in B, in text order.
    pub a: Vec<Passage>,
    /// The passages of B found in A, in text order.
    pub b: Vec<Passage>,
}

/// The words of a run that marks a shared passage: for long texts, the size of word shingles
/// (3 unless word shingles of another size are in use); for short texts, two words (a single
/// shared word such as `في` is no passage).
pub const PASSAGE_WORDS: (usize, usize) = (2, 3);

/// Everything `mukarrar compare` reports about a pair.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The first text.
    pub a: Side,
    /// The second text.
    pub b: Side,
    /// The part of the duplicate rule that applies.
    pub rule: Rule,
    /// What that part does.
    pub rule_description: String,
    /// Shingle counts over the exact sets (absent when a side is a stored signature).
    pub shingles: Option<Overlap>,
    /// The MinHash signature length.
    pub num_perm: usize,
    /// Similarities estimated from the signatures.
    pub estimated: Similarities,
    /// Similarities over the exact shingle sets (absent when a side is a stored signature).
    pub exact: Option<Similarities>,
    /// For two short texts: what the short rule measures on their words.
    pub words: Option<Words>,
    /// The similarity as the rule measures it ([`Settings::similarity`]).
    pub similarity: f64,
    /// The numbers check.
    pub numbers: Numbers,
    /// What the cross-length rule measures on the heads and leads (absent when it is off or a
    /// text is empty or has no head).
    pub cross: Option<CrossParts>,
    /// The decision.
    pub decision: Decision,
    /// The shared passages (absent when a side is a stored signature).
    pub passages: Option<Passages>,
}

/// A side, signed.
struct Prepared {
    side: Side,
    sig: Vec<u32>,
    traits: Traits,
    words: Vec<u64>,
    /// The sorted, distinct shingles, when the text is known.
    set: Option<Vec<u64>>,
}

impl Prepared {
    fn new(signer: &Signer, subject: Subject<'_>) -> Prepared {
        match subject {
            Subject::Text { id, text } => {
                let mut scratch = Scratch::default();
                let mut sig = vec![0; signer.num_perm()];
                let traits = signer.sign_into(text, &mut scratch, &mut sig);
                let normalized = std::mem::take(&mut scratch.normalized);
                let words = normalized.split(' ').filter(|w| !w.is_empty());
                let numbers = words
                    .clone()
                    .filter(|w| numbers_fingerprint(w) != 0)
                    .map(str::to_string)
                    .collect();
                Prepared {
                    side: Side {
                        id: id.map(str::to_string),
                        text: Some(text.to_string()),
                        words: Some(words.count()),
                        normalized: Some(normalized),
                        short: traits.short,
                        empty: traits.is_empty(),
                        shingles: traits.shingles,
                        numbers: Some(numbers),
                    },
                    sig,
                    traits,
                    words: std::mem::take(&mut scratch.words),
                    set: Some(minhash::to_set(std::mem::take(&mut scratch.shingles))),
                }
            }
            Subject::Signed { id, signed } => Prepared {
                side: Side {
                    id: Some(id.to_string()),
                    text: None,
                    normalized: None,
                    words: signed.traits.short.then_some(signed.words.len()),
                    short: signed.traits.short,
                    empty: signed.traits.is_empty(),
                    shingles: signed.traits.shingles,
                    numbers: None,
                },
                sig: signed.sig.to_vec(),
                traits: signed.traits,
                words: signed.words.to_vec(),
                set: None,
            },
        }
    }

    /// As verification sees it; with the exact set when `exact`.
    fn signed(&self, exact: bool) -> Signed<'_> {
        Signed {
            sig: &self.sig,
            traits: self.traits,
            words: &self.words,
            set: if exact { self.set.as_deref() } else { None },
        }
    }
}

/// Compares two texts (or stored signatures) under `settings` (which must be valid).
pub fn compare(settings: &Settings, a: Subject<'_>, b: Subject<'_>) -> Comparison {
    let signer = Signer::new(settings);
    let a = Prepared::new(&signer, a);
    let b = Prepared::new(&signer, b);
    // The rule verifies over exact sets only when asked to and both are known.
    let exact = settings.verify == Verify::Exact && a.set.is_some() && b.set.is_some();
    let (sa, sb) = (a.signed(exact), b.signed(exact));
    let rule = Rule::of(settings, &a.traits, &b.traits);
    let empty = rule == Rule::Empty;
    let estimated = if empty {
        Similarities {
            jaccard: 0.0,
            containment: 0.0,
        }
    } else {
        Similarities {
            jaccard: minhash::estimate(
                settings.minhash_part(&a.sig),
                settings.minhash_part(&b.sig),
            ),
            containment: Measure::Containment.estimate(
                settings.minhash_part(&a.sig),
                a.traits.shingles,
                settings.minhash_part(&b.sig),
                b.traits.shingles,
            ),
        }
    };
    let (shingles, exact_similarities) = match (&a.set, &b.set) {
        (Some(x), Some(y)) => {
            let shared = minhash::intersection(x, y);
            (
                Some(Overlap {
                    a: x.len(),
                    b: y.len(),
                    shared,
                    union: x.len() + y.len() - shared,
                }),
                Some(Similarities {
                    jaccard: Measure::Jaccard.exact(x, y),
                    containment: Measure::Containment.exact(x, y),
                }),
            )
        }
        _ => (None, None),
    };
    let words = (rule == Rule::Short).then(|| Words {
        jaccard: word_jaccard(&a.words, &b.words),
        longest_run: longest_common_run(&a.words, &b.words),
        run_needed: settings.run_needed(a.words.len().min(b.words.len())),
    });
    let both = a.traits.numbers != 0 && b.traits.numbers != 0;
    let applies = rule == Rule::Short && settings.short.numbers;
    let numbers = Numbers {
        applies,
        both_hold_numbers: both,
        same: a.traits.numbers == b.traits.numbers,
        passed: !applies || !both || a.traits.numbers == b.traits.numbers,
    };
    let passages = match (&a.side.normalized, &b.side.normalized) {
        (Some(x), Some(y)) if !empty => {
            let n = if rule == Rule::Short {
                PASSAGE_WORDS.0
            } else if settings.shingle.kind == ShingleKind::Word {
                settings.shingle.n
            } else {
                PASSAGE_WORDS.1
            };
            Some(shared_passages(x, y, n))
        }
        _ => None,
    };
    let similarity = settings.similarity(&sa, &sb);
    let decision = explain(settings, rule, &sa, &sb, words.as_ref(), &numbers);
    let cross = CrossParts::of(settings, &sa, &sb);
    Comparison {
        rule_description: rule.description(settings),
        a: a.side,
        b: b.side,
        rule,
        shingles,
        num_perm: settings.minhash.num_perm,
        estimated,
        exact: exact_similarities,
        words,
        similarity,
        numbers,
        cross,
        decision,
        passages,
    }
}

/// The decision ([`Settings::linked`]) and the measurement that made it, for a pair under
/// `rule`. A part of the rule that [`Rule::of`] names gets its explanation here.
pub fn explain(
    settings: &Settings,
    rule: Rule,
    a: &Signed<'_>,
    b: &Signed<'_>,
    words: Option<&Words>,
    numbers: &Numbers,
) -> Decision {
    let duplicate = settings.linked(a, b);
    // Each part of the rule says what it measured and what that implies.
    let decided = |by: &str, reason: String, value: Option<f64>, threshold: Option<f64>| {
        (by.to_string(), reason, value, threshold)
    };
    let ((by, reason, value, threshold), implied) = match (rule, words) {
        (Rule::Empty, _) => (
            decided(
                "empty",
                "a text empty after normalization is never a duplicate".into(),
                None,
                None,
            ),
            false,
        ),
        (Rule::Mixed, _) => (
            decided(
                "mixed",
                format!(
                    "one text is short (fewer than {} words) and the other long: they are \
                     never compared",
                    settings.short.words
                ),
                None,
                None,
            ),
            false,
        ),
        (Rule::Cross, _) => {
            let parts = CrossParts::of(settings, a, b);
            let linked = parts.as_ref().is_some_and(|p| p.linked);
            let reason = parts.map_or_else(
                || "a text has no head: the cross-length rule does not apply".to_string(),
                |p| p.reason(),
            );
            (decided("cross-length", reason, None, None), linked)
        }
        (Rule::Short, _) if !numbers.passed => (
            decided(
                "short: numbers",
                "both texts hold numbers, and not the same ones".into(),
                None,
                None,
            ),
            false,
        ),
        (Rule::Short, Some(w)) => {
            let t = settings.short.threshold;
            if w.jaccard >= t {
                (
                    decided(
                        "short: word sets",
                        format!("word-set Jaccard {:.3} reaches {t}", w.jaccard),
                        Some(w.jaccard),
                        Some(t),
                    ),
                    true,
                )
            } else if w.run_needed > 0 && w.longest_run >= w.run_needed {
                (
                    decided(
                        "short: shared run",
                        format!(
                            "a shared run of {} words reaches the {} needed (word-set Jaccard \
                             {:.3} is below {t})",
                            w.longest_run, w.run_needed, w.jaccard
                        ),
                        Some(w.longest_run as f64),
                        Some(w.run_needed as f64),
                    ),
                    true,
                )
            } else {
                let run = if w.run_needed > 0 {
                    format!(
                        ", and the longest shared run of {} words is below the {} needed",
                        w.longest_run, w.run_needed
                    )
                } else {
                    String::new()
                };
                (
                    decided(
                        "short: word sets",
                        format!("word-set Jaccard {:.3} is below {t}{run}", w.jaccard),
                        Some(w.jaccard),
                        Some(t),
                    ),
                    false,
                )
            }
        }
        (Rule::Short, None) | (Rule::Long, _) => {
            let value = settings.similarity(a, b);
            let t = settings.threshold;
            let how = if a.set.is_some() && b.set.is_some() {
                "exact"
            } else {
                "estimated"
            };
            let verdict = if value >= t { "reaches" } else { "is below" };
            let measured = format!("{how} {} {value:.3} {verdict} {t}", settings.measure.name());
            let reword = &settings.reword;
            let words = (value < t)
                .then(|| settings.word_check(value, a.sig, b.sig))
                .flatten();
            if let Some(words) = words {
                let (verdict, linked) = if words >= reword.threshold {
                    ("reaches", true)
                } else {
                    ("is below", false)
                };
                (
                    decided(
                        "long: words",
                        format!(
                            "{measured}, but at least {}: the word sets' Jaccard, estimated \
                             {words:.3}, {verdict} {}",
                            reword.low, reword.threshold
                        ),
                        Some(words),
                        Some(reword.threshold),
                    ),
                    linked,
                )
            } else {
                (
                    decided(
                        &format!("long: {}", settings.measure.name()),
                        measured,
                        Some(value),
                        Some(t),
                    ),
                    value >= t,
                )
            }
        }
    };
    // Two texts of one kind that their own part does not link may still be linked by the
    // cross-length rule (their titles match and their leads agree): that part is then named.
    let ((by, reason, value, threshold), implied) = match CrossParts::of(settings, a, b) {
        Some(p) if !implied && p.linked && matches!(rule, Rule::Short | Rule::Long) => (
            (
                "cross-length".to_string(),
                format!("{reason}; but {}", p.reason()),
                value,
                threshold,
            ),
            true,
        ),
        _ => ((by, reason, value, threshold), implied),
    };
    // The decision is the rule's: should a part of it that is not itemized here decide
    // otherwise, the measurement is still shown, and the disagreement said.
    let reason = if implied == duplicate {
        reason
    } else {
        format!(
            "{reason}; yet the rule finds the pair {}, by a part of it that compare does not \
             itemize",
            if duplicate { "duplicate" } else { "distinct" }
        )
    };
    Decision {
        duplicate,
        by,
        reason,
        value,
        threshold,
    }
}

/// The passages of each normalized text that the other holds: the maximal runs of words
/// covered by a run of `n` consecutive words found in both (`n` shrinks to the shorter text's
/// length). Linear in the two texts: the runs of each are hashed into a set.
pub fn shared_passages(a: &str, b: &str, n: usize) -> Passages {
    let wa: Vec<&str> = a.split(' ').filter(|w| !w.is_empty()).collect();
    let wb: Vec<&str> = b.split(' ').filter(|w| !w.is_empty()).collect();
    let n = n.max(1).min(wa.len()).min(wb.len());
    if n == 0 {
        return Passages {
            min_words: 0,
            a: Vec::new(),
            b: Vec::new(),
        };
    }
    let runs = |w: &[&str]| -> Vec<u64> {
        w.windows(n)
            .map(|run| {
                let mut h = 0u64;
                for word in run {
                    h = xxh3_64(word.as_bytes()) ^ h.rotate_left(17);
                }
                h
            })
            .collect()
    };
    let (ra, rb) = (runs(&wa), runs(&wb));
    let (sa, sb): (HashSet<u64>, HashSet<u64>) =
        (ra.iter().copied().collect(), rb.iter().copied().collect());
    Passages {
        min_words: n,
        a: passages(&wa, &ra, &sb, n),
        b: passages(&wb, &rb, &sa, n),
    }
}

/// The passages of `words`: each maximal sequence of consecutive runs (hashes `runs`, of `n`
/// words each) that `other` holds, as the words they cover. Two passages may touch, where
/// the run that would join them is not shared.
fn passages(words: &[&str], runs: &[u64], other: &HashSet<u64>, n: usize) -> Vec<Passage> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < runs.len() {
        if !other.contains(&runs[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < runs.len() && other.contains(&runs[i]) {
            i += 1;
        }
        // Runs start..i cover words start..i - 1 + n; a passage that would overlap the last
        // one (a run after an unshared one, inside the last run's words) begins after it.
        let from = out
            .last()
            .map_or(start, |p: &Passage| start.max(p.start + p.words));
        let end = i - 1 + n;
        if from < end {
            out.push(Passage {
                start: from,
                words: end - from,
                text: words[from..end].join(" "),
            });
        }
    }
    out
}

/// `normalized` with each passage between `open` and `close`.
pub fn mark(normalized: &str, passages: &[Passage], open: &str, close: &str) -> String {
    let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    let mut out = String::with_capacity(normalized.len() + passages.len() * 8);
    let mut next = passages.iter().peekable();
    let mut i = 0;
    while i < words.len() {
        if !out.is_empty() {
            out.push(' ');
        }
        match next.peek() {
            Some(p) if p.start == i => {
                out.push_str(open);
                out.push_str(&words[i..p.start + p.words].join(" "));
                out.push_str(close);
                i = p.start + p.words;
                next.next();
            }
            _ => {
                out.push_str(words[i]);
                i += 1;
            }
        }
    }
    out
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

impl Comparison {
    /// The report for people. With `color` (a terminal), shared passages are highlighted and
    /// the decision coloured; without, passages are bracketed `[…]`.
    pub fn write_text(&self, color: bool, out: &mut dyn Write) -> io::Result<()> {
        let (open, close) = if color {
            ("\x1b[1;30;43m", "\x1b[0m")
        } else {
            ("[", "]")
        };
        let empty = Vec::new();
        for (name, side, passages) in [
            ("A", &self.a, self.passages.as_ref().map(|p| &p.a)),
            ("B", &self.b, self.passages.as_ref().map(|p| &p.b)),
        ] {
            match &side.id {
                Some(id) => writeln!(out, "{name}  {}", printable(id))?,
                None => writeln!(out, "{name}")?,
            }
            match (&side.text, &side.normalized) {
                (Some(text), Some(normalized)) => {
                    writeln!(out, "  text        {}", printable(text))?;
                    let marked = mark(normalized, passages.unwrap_or(&empty), open, close);
                    writeln!(out, "  normalized  {}", printable(&marked))?;
                }
                _ => writeln!(
                    out,
                    "  text        (not stored: only its signature is known)"
                )?,
            }
            let mut facts = Vec::new();
            if let Some(w) = side.words {
                facts.push(format!("{w} words"));
            }
            facts.push(if side.empty {
                "empty after normalization".into()
            } else if side.short {
                "short".into()
            } else {
                "long".into()
            });
            facts.push(format!("{} shingles", side.shingles));
            if let Some(numbers) = &side.numbers {
                facts.push(if numbers.is_empty() {
                    "numbers: none".into()
                } else {
                    format!("numbers: {}", numbers.join(" "))
                });
            }
            writeln!(out, "  {}", facts.join(" · "))?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "rule        {} — {}",
            self.rule.name(),
            self.rule_description
        )?;
        if let Some(s) = &self.shingles {
            writeln!(
                out,
                "shingles    A {} · B {} · shared {} · union {}",
                s.a, s.b, s.shared, s.union
            )?;
        }
        if matches!(self.rule, Rule::Mixed | Rule::Cross) {
            writeln!(
                out,
                "note        a short text is shingled by its words and a long one by the rule's \
                 shingles: no rule measures the similarities below"
            )?;
        }
        writeln!(
            out,
            "estimated   Jaccard {:.3} · containment {:.3}   (MinHash, {} slots)",
            self.estimated.jaccard, self.estimated.containment, self.num_perm
        )?;
        if let Some(e) = &self.exact {
            writeln!(
                out,
                "exact       Jaccard {:.3} · containment {:.3}   (shingle sets)",
                e.jaccard, e.containment
            )?;
        }
        if let Some(w) = &self.words {
            writeln!(
                out,
                "words       word-set Jaccard {:.3} · longest shared run {} (needed {})",
                w.jaccard, w.longest_run, w.run_needed
            )?;
        }
        let n = &self.numbers;
        let numbers = if !n.applies {
            "not checked (it applies to two short texts)".to_string()
        } else if !n.both_hold_numbers {
            "passed (not both texts hold numbers)".to_string()
        } else if n.same {
            "passed (the same numbers)".to_string()
        } else {
            "FAILED (different numbers keep the pair apart)".to_string()
        };
        writeln!(out, "numbers     {numbers}")?;
        if let Some(c) = &self.cross {
            writeln!(out, "cross       {}", c.summary())?;
        }
        let verdict = if self.decision.duplicate {
            "DUPLICATE"
        } else {
            "DISTINCT"
        };
        let verdict = match (color, self.decision.duplicate) {
            (true, true) => format!("\x1b[1;32m{verdict}\x1b[0m"),
            (true, false) => format!("\x1b[1;31m{verdict}\x1b[0m"),
            (false, _) => verdict.to_string(),
        };
        writeln!(
            out,
            "decision    {verdict} by {}: {}",
            self.decision.by, self.decision.reason
        )?;
        if let Some(p) = &self.passages {
            let shared: Vec<String> =
                p.a.iter()
                    .map(|p| format!("{open}{}{close} ({} words)", p.text, p.words))
                    .collect();
            if shared.is_empty() {
                writeln!(
                    out,
                    "passages    none (no run of {} words in both)",
                    p.min_words
                )?;
            } else {
                writeln!(out, "passages    {}", printable(&shared.join(" · ")))?;
            }
        }
        Ok(())
    }

    /// One self-contained page: both texts, their normalized forms with the shared passages
    /// marked, every measurement and the decision. Every text is escaped.
    pub fn write_html(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut h = String::new();
        let verdict = if self.decision.duplicate {
            "duplicate"
        } else {
            "distinct"
        };
        h.push_str(
            "<!DOCTYPE html>\n<html lang=\"ar\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        );
        let _ = writeln!(h, "<title>mukarrar compare: {verdict}</title>");
        h.push_str(
            "<style>\nbody{font-family:system-ui,sans-serif;margin:2em;max-width:80em}\n\
             .sides{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}\n\
             .text{direction:rtl;text-align:right;font-size:1.15em;line-height:1.7}\n\
             .normalized{color:#333;background:#f6f6f6;padding:.5em}\n\
             mark{background:#ffe08a}\ntable{border-collapse:collapse;margin-top:1.5em}\n\
             td,th{text-align:left;padding:.25em .8em;border-bottom:1px solid #ddd;\
             vertical-align:top}\n.duplicate{color:#0a7a2f}.distinct{color:#b3261e}\n\
             </style>\n</head>\n<body>\n",
        );
        let _ = writeln!(
            h,
            "<h1>mukarrar compare: <span class=\"{verdict}\">{verdict}</span></h1>"
        );
        h.push_str("<div class=\"sides\">\n");
        let none = Vec::new();
        for (name, side, passages) in [
            ("A", &self.a, self.passages.as_ref().map(|p| &p.a)),
            ("B", &self.b, self.passages.as_ref().map(|p| &p.b)),
        ] {
            h.push_str("<section>\n");
            let _ = write!(h, "<h2>{name}");
            if let Some(id) = &side.id {
                let _ = write!(h, " <code>{}</code>", esc(id));
            }
            h.push_str("</h2>\n");
            match (&side.text, &side.normalized) {
                (Some(text), Some(normalized)) => {
                    let _ = writeln!(h, "<p class=\"text\">{}</p>", esc(text));
                    // Escaped word by word, then marked: a word cannot hold a tag.
                    let words: String =
                        normalized.split(' ').map(esc).collect::<Vec<_>>().join(" ");
                    let marked = mark(&words, passages.unwrap_or(&none), "<mark>", "</mark>");
                    let _ = writeln!(h, "<p class=\"text normalized\">{marked}</p>");
                }
                _ => h.push_str("<p>(not stored: only its signature is known)</p>\n"),
            }
            let _ = writeln!(
                h,
                "<p>{} · {} shingles</p>",
                if side.empty {
                    "empty after normalization"
                } else if side.short {
                    "short"
                } else {
                    "long"
                },
                side.shingles
            );
            h.push_str("</section>\n");
        }
        h.push_str("</div>\n<table>\n");
        let mut row = |k: &str, v: String| {
            let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
        };
        row(
            "rule",
            format!("{}: {}", self.rule.name(), self.rule_description),
        );
        if let Some(s) = &self.shingles {
            row(
                "shingles",
                format!(
                    "A {} · B {} · shared {} · union {}",
                    s.a, s.b, s.shared, s.union
                ),
            );
        }
        row(
            "estimated",
            format!(
                "Jaccard {:.3} · containment {:.3} (MinHash, {} slots)",
                self.estimated.jaccard, self.estimated.containment, self.num_perm
            ),
        );
        if let Some(e) = &self.exact {
            row(
                "exact",
                format!(
                    "Jaccard {:.3} · containment {:.3}",
                    e.jaccard, e.containment
                ),
            );
        }
        if let Some(w) = &self.words {
            row(
                "words",
                format!(
                    "word-set Jaccard {:.3} · longest shared run {} (needed {})",
                    w.jaccard, w.longest_run, w.run_needed
                ),
            );
        }
        row(
            "numbers",
            format!(
                "applies: {} · both hold numbers: {} · passed: {}",
                yes(self.numbers.applies),
                yes(self.numbers.both_hold_numbers),
                yes(self.numbers.passed)
            ),
        );
        if let Some(c) = &self.cross {
            row("cross-length", c.summary());
        }
        row(
            "decision",
            format!(
                "{verdict} by {}: {}",
                self.decision.by, self.decision.reason
            ),
        );
        h.push_str("</table>\n</body>\n</html>\n");
        out.write_all(h.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(a: &str, b: &str) -> Comparison {
        compare(&Settings::default(), Subject::text(a), Subject::text(b))
    }

    #[test]
    fn passages_are_the_shared_runs() {
        let p = shared_passages("a b c d e f", "x b c d y e f", 2);
        let a: Vec<&str> = p.a.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(a, ["b c d", "e f"]);
        assert_eq!(p.b[0].start, 1);
        assert_eq!(mark("a b c d e f", &p.a, "[", "]"), "a [b c d] [e f]");
        // A single shared word is no passage of two words.
        assert!(shared_passages("a b", "b c", 2).a.is_empty());
    }

    #[test]
    fn different_numbers_keep_short_texts_apart() {
        let c = texts("مقتل 3 في حادث سير", "مقتل 5 في حادث سير");
        assert_eq!(c.rule, Rule::Short);
        assert!(!c.decision.duplicate);
        assert_eq!(c.decision.by, "short: numbers");
        assert_eq!(c.a.numbers.as_deref(), Some(&["3".to_string()][..]));
        assert!(!c.numbers.passed);
    }

    #[test]
    fn a_short_and_a_long_text_are_compared_by_their_heads() {
        // An article whose first line is the headline, and a headline from another outlet.
        let headline = "مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة";
        let body = ["وقال دبلوماسيون إن التصويت قد يتأجل إلى الأسبوع المقبل"; 5].join(" ");
        let article = format!("مجلس الامن يصوت اليوم على قرار لوقف دائم لاطلاق النار بغزه\n{body}");
        let c = texts(headline, &article);
        assert_eq!(c.rule, Rule::Cross);
        assert!(c.decision.duplicate, "{}", c.decision.reason);
        assert_eq!(c.decision.by, "cross-length");
        let parts = c.cross.as_ref().expect("measured");
        assert!(parts.bare && parts.heads_match && parts.linked);
        // Another headline: the heads do not match, and the reason says so.
        let c = texts("ترامب يصف مكالمته مع بوتين بالجيدة", &article);
        assert_eq!(c.rule, Rule::Cross);
        assert!(!c.decision.duplicate);
        assert!(
            c.decision.reason.contains("the heads do not match"),
            "{}",
            c.decision.reason
        );
        // Without cross-length matching, the two are never compared.
        let mut settings = Settings::default();
        settings.cross = crate::settings::Cross::off();
        let c = compare(&settings, Subject::text(headline), Subject::text(&article));
        assert_eq!(c.rule, Rule::Mixed);
        assert!(!c.decision.duplicate);
        assert!(c.cross.is_none());
    }

    #[test]
    fn a_decision_no_itemized_part_explains_is_said_to_be_the_rules() {
        let settings = Settings::default();
        let signer = Signer::new(&settings);
        let text = "مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار بغزة";
        let mut scratch = Scratch::default();
        let mut sig = vec![0; signer.num_perm()];
        let traits = signer.sign_into(text, &mut scratch, &mut sig);
        let doc = Signed {
            sig: &sig,
            traits,
            words: &scratch.words,
            set: None,
        };
        assert_eq!(Rule::of(&settings, &traits, &traits), Rule::Short);
        let numbers = Numbers {
            applies: false,
            both_hold_numbers: false,
            same: true,
            passed: true,
        };
        // A pair the rule links, explained as a part that never links: the decision stays the
        // rule's, and the reason says that another part decided.
        let d = explain(&settings, Rule::Mixed, &doc, &doc, None, &numbers);
        assert!(d.duplicate);
        assert!(
            d.reason.ends_with(
                "yet the rule finds the pair duplicate, by a part of it that \
                 compare does not itemize"
            ),
            "{}",
            d.reason
        );
    }

    #[test]
    fn html_escapes_the_texts() {
        let c = texts("<script>x</script> خبر", "<b>خبر</b>");
        let mut page = Vec::new();
        c.write_html(&mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(!page.contains("<script>x"), "{page}");
        assert!(page.contains("&lt;script&gt;x"));
    }
}
