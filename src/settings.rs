//! Every setting that shapes a result, its defaults, and the one rule that decides whether two
//! signed documents are duplicates.
//!
//! The defaults were chosen by measurement on labelled Arabic news (BENCHMARKS.md, "Quality"):
//!
//! - **Title tags** (`عاجل | …`, `… - واس`, `… (صور)`) are removed from the first line before
//!   normalization ([`crate::normalize::title`]).
//! - **Length-adaptive shingles.** A text of fewer than [`ShortText::words`] words (a headline,
//!   a teaser) is compared only with other short texts, exactly, by its words: by the Jaccard
//!   similarity of the word sets against its own, higher threshold, or by a long shared run of
//!   words (a headline whose subject was reworded); and two short texts that hold different
//!   numbers (`إضافة أولى` / `إضافة ثانية`, `مقتل 3` / `مقتل 5`) are never duplicates. MinHash
//!   only proposes the candidates. A longer text is compared by word 3-grams.
//! - **Lead weighting.** In a longer text the shingles of the first [`Lead::words`] words count
//!   [`Lead::weight`] times. A story is identified by its lead, while outlets append their own
//!   footers, "read also" lists and tag lines at the end: weighting the lead keeps two
//!   different short stories in one outlet's template apart, and two copies of one story under
//!   different templates together.
//!
//! Every rule here is a function of one document or of one pair, never of the rest of the
//! corpus, so a batch run, an incremental index, a streaming filter and a distributed job that
//! share these settings reach the same decisions.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::cluster::{Measure, Representative, Verify};
use crate::error::{Error, Result};
use crate::lsh::{LshParams, Objective};
use crate::minhash::MinHashConfig;
use crate::normalize::Profile;
use crate::shingle::{ShingleConfig, ShingleKind};

/// How short texts are told apart from long ones, and compared.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShortText {
    /// A text with fewer words than this (after normalization) is short; 0 turns the short
    /// regime off.
    pub words: usize,
    /// Shingles of short texts.
    pub shingle: ShingleConfig,
    /// The similarity two short texts must reach.
    pub threshold: f64,
    /// Two short texts that both hold numbers (digits and Arabic ordinal words), and not the
    /// same sequence of them, are never duplicates.
    pub numbers: bool,
    /// Two short texts that share a run of at least this many consecutive words, covering at
    /// least [`run_share`](Self::run_share) of the shorter one, are duplicates whatever their
    /// word-set similarity (`الأمم المتحدة تحث قادة العالم على …` / `غوتيريش يحث قادة العالم
    /// على …`); 0 turns the rule off.
    pub run_words: usize,
    /// The share of the shorter text that the shared run must cover.
    pub run_share: f64,
}

/// Matching across lengths: a bare headline or a teaser (headline and first sentences) with
/// the article it comes from.
///
/// Every text keeps the hashes of its opening [`words`](Self::words) words (its *lead*) and
/// knows how many of them form its *head*: its first line, which is the title when the record
/// has a title field (the text fields are joined by newlines, title first), at most
/// [`HEAD_WORDS`] words. Two texts are duplicates by this rule when
///
/// - their heads match as two short texts do (word-set similarity of at least
///   [`ShortText::threshold`] or a long shared run, see [`ShortText::run_words`]), and their
///   heads do not hold different numbers (with [`ShortText::numbers`]); and
/// - one of them is nothing but its head (a bare headline), or the distinct words of the
///   shorter lead are at least [`containment`](Self::containment) contained in the other lead.
///
/// A headline is so compared with the other text's title, never with its body: an article
/// whose "read also" footer lists other stories' headlines does not match those headlines.
/// Candidates come from banding a MinHash of each head's words, the most common words of news
/// left out ([`crate::cross`]).
///
/// The defaults were measured on the mixed-length dev set (articles, teasers, headlines;
/// `scripts/eval-kinds`, BENCHMARKS.md "Cross-length matching"): any lead of 25 to 32 words
/// with containment 0.8 gives mixed F1 0.993 and recall ≥ 0.97 for every pair of kinds, while
/// longer leads lose recall on the articles set (0.9956 at 30 words, 0.9935 at 40, 0.9927 at
/// 60: an outlet's lead diverges after its first sentences) and containment 0.6 or 0.7 lets
/// look-alike stories in (mixed precision 0.990–0.992). 30 words keep a margin for titles
/// that differ by a few words and cost 240 bytes per long text.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Cross {
    /// How many opening words of every text are kept; 0 turns cross-length matching off.
    pub words: usize,
    /// The share of the shorter lead's distinct words that must be in the other lead.
    pub containment: f64,
    /// How many of the most frequent words of news ([`crate::cross::COMMON_WORDS`]) heads
    /// are banded without: candidates only, never the decision. 0 (what settings stored
    /// before it existed hold) bands every word, so an index keeps the keys it was built with.
    #[serde(default)]
    pub common_words: usize,
}

/// The longest head: a first line of more words is cut here.
pub const HEAD_WORDS: usize = 24;

impl Cross {
    /// Cross-length matching turned off: what an index created before it existed holds.
    pub fn off() -> Cross {
        Cross {
            words: 0,
            ..Cross::default()
        }
    }

    /// True when cross-length matching is on.
    pub fn on(&self) -> bool {
        self.words > 0
    }
}

impl Default for Cross {
    fn default() -> Cross {
        Cross {
            words: DEFAULT_CROSS_WORDS,
            containment: 0.8,
            common_words: crate::cross::DEFAULT_COMMON_WORDS,
        }
    }
}

/// A second look at two long texts just below the threshold: reworded copies.
///
/// Outlets reword the copies they run: a synonym for a word breaks up to three word 3-grams,
/// a moved clause two. Every long text's signature therefore ends with a sketch of its words
/// in [`sketch`](Self::sketch) slots: each word's hash picks a slot, and a slot keeps the
/// smallest value it got ([`EMPTY_SLOT`] when none). Two long texts whose
/// similarity is below the threshold but at least [`low`](Self::low) are still duplicates when
/// the Jaccard similarity of their word sets, estimated from the sketches
/// ([`sketch_jaccard`]), reaches [`threshold`](Self::threshold). The words change little
/// when phrases move or a synonym replaces one word in sixteen, while two different stories on
/// one topic share their subject's words but rarely half of all their words.
///
/// `--word-sketch`, `--word-low` and `--word-threshold` set it. The defaults were measured on
/// the dev sets and on copies reworded by
/// `scripts/perturb-set` (BENCHMARKS.md, "Rewording"): at low 0.2 and threshold 0.55 no dev
/// set loses F1 or precision, and heavily reworded copies (every listed word replaced, every
/// sentence reordered) reach F1 0.9891 instead of 0.9771 on the natural set. The rule only
/// verifies: candidates still come from the bands of the shingles' MinHash.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reword {
    /// How many slots the sketch has; 0 turns the rule off (and signatures end
    /// without a sketch).
    pub sketch: usize,
    /// The similarity below the threshold from which the words are looked at.
    pub low: f64,
    /// The word-set similarity that makes such a pair duplicates.
    pub threshold: f64,
}

/// The value of an unused slot of a word sketch (no word picked it; every slot of a short or
/// empty text). Values in a sketch have 31 bits, so no word takes it.
pub const EMPTY_SLOT: u32 = u32::MAX;

impl Reword {
    /// The rule turned off: what settings stored before it existed hold.
    pub fn off() -> Reword {
        Reword {
            sketch: 0,
            ..Reword::default()
        }
    }

    /// True when the rule is on.
    pub fn on(&self) -> bool {
        self.sketch > 0
    }
}

impl Default for Reword {
    fn default() -> Reword {
        Reword {
            sketch: 64,
            low: 0.2,
            threshold: 0.55,
        }
    }
}

/// The Jaccard similarity of two word sets estimated from their sketches (one-permutation
/// MinHash: each word's hash picks a slot, and a slot keeps the smallest value it got): of the
/// slots that either text filled, the share where both hold the same value. 0 when neither
/// filled any.
pub fn sketch_jaccard(a: &[u32], b: &[u32]) -> f64 {
    let (mut used, mut equal) = (0usize, 0usize);
    for (&x, &y) in a.iter().zip(b) {
        if x != EMPTY_SLOT || y != EMPTY_SLOT {
            used += 1;
            equal += usize::from(x == y);
        }
    }
    if used == 0 {
        0.0
    } else {
        equal as f64 / used as f64
    }
}

/// Weight of the opening words of a long text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lead {
    /// How many opening words form the lead; 0 turns weighting off.
    pub words: usize,
    /// How many times each lead shingle counts (1 = no weighting).
    pub weight: usize,
}

/// How verified pairs become clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Linkage {
    /// Clusters are the connected groups of verified pairs.
    #[default]
    Single,
    /// A document joins a cluster only when it reaches the threshold against the cluster's
    /// representative (its first document), so look-alikes cannot chain distinct stories.
    Representative,
}

impl Linkage {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Linkage::Single => "single",
            Linkage::Representative => "representative",
        }
    }
}

impl fmt::Display for Linkage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Linkage {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Linkage, String> {
        match s {
            "single" => Ok(Linkage::Single),
            "representative" => Ok(Linkage::Representative),
            _ => Err(format!(
                "unknown linkage `{s}` (expected single or representative)"
            )),
        }
    }
}

/// Every setting that shapes a run's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Normalization profile.
    #[serde(with = "profile_name")]
    pub profile: Profile,
    /// Remove title tags from the first line before normalizing.
    pub title_tags: bool,
    /// Shingles of long texts (kind, size, seed).
    pub shingle: ShingleConfig,
    /// Lead weighting of long texts.
    pub lead: Lead,
    /// Boilerplate suppression: lines (normalized) that occur in this many documents or more
    /// are left out of every signature; 0 (the default) turns it off. It depends on the whole
    /// corpus, so only `cluster` and `eval` offer it.
    #[serde(default)]
    pub boilerplate_df: usize,
    /// The short-text regime.
    pub short: ShortText,
    /// Cross-length matching (off in settings stored before it existed).
    #[serde(default = "Cross::off")]
    pub cross: Cross,
    /// Signature length and seed.
    pub minhash: MinHashConfig,
    /// The word check of long texts below the threshold (off in settings stored before it
    /// existed).
    #[serde(default = "Reword::off")]
    pub reword: Reword,
    /// Similarity two long texts must reach.
    pub threshold: f64,
    /// How bands × rows were chosen (informational when `lsh` was given explicitly).
    pub objective: Objective,
    /// Bands × rows.
    pub lsh: LshParams,
    /// What similarity the thresholds apply to.
    pub measure: Measure,
    /// How candidate pairs are verified.
    pub verify: Verify,
    /// How verified pairs become clusters.
    pub linkage: Linkage,
    /// How each cluster's representative is chosen.
    pub representative: Representative,
}

/// (De)serializes a [`Profile`] by its name.
mod profile_name {
    use super::Profile;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &Profile, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(p.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Profile, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// The default threshold of long texts.
pub const DEFAULT_THRESHOLD: f64 = 0.3;
/// The default threshold of short texts.
pub const DEFAULT_SHORT_THRESHOLD: f64 = 0.75;
/// The default word count below which a text is short.
pub const DEFAULT_SHORT_WORDS: usize = 25;
/// The default number of opening words kept for cross-length matching.
pub const DEFAULT_CROSS_WORDS: usize = 30;

impl Default for ShortText {
    fn default() -> ShortText {
        ShortText {
            words: DEFAULT_SHORT_WORDS,
            shingle: ShingleConfig {
                kind: ShingleKind::Word,
                n: 1,
                seed: ShingleConfig::default().seed,
            },
            threshold: DEFAULT_SHORT_THRESHOLD,
            numbers: true,
            run_words: 7,
            run_share: 0.7,
        }
    }
}

impl Default for Lead {
    fn default() -> Lead {
        Lead {
            words: 60,
            weight: 3,
        }
    }
}

impl Default for Settings {
    fn default() -> Settings {
        let minhash = MinHashConfig::default();
        Settings {
            profile: Profile::Default,
            title_tags: true,
            shingle: ShingleConfig::default(),
            lead: Lead::default(),
            boilerplate_df: 0,
            short: ShortText::default(),
            cross: Cross::default(),
            minhash,
            reword: Reword::default(),
            threshold: DEFAULT_THRESHOLD,
            objective: Objective::Area,
            lsh: LshParams::choose(DEFAULT_THRESHOLD, minhash.num_perm, Objective::Area),
            measure: Measure::Jaccard,
            verify: Verify::Estimate,
            linkage: Linkage::Single,
            representative: Representative::First,
        }
    }
}

/// What verification needs to know of a signed document besides its signature.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Traits {
    /// Distinct shingles (lead copies included); 0 for a text empty after normalization.
    pub shingles: u32,
    /// True for a short text.
    pub short: bool,
    /// Fingerprint of the text's sequence of numbers (0 when it holds none, and for long
    /// texts).
    pub numbers: u64,
    /// How many of the kept words form the head (0 without cross-length matching).
    pub head: u16,
    /// Fingerprint of the head's numbers (0 when it holds none).
    pub head_numbers: u64,
}

impl Traits {
    /// True when the text was empty after normalization.
    pub fn is_empty(&self) -> bool {
        self.shingles == 0
    }
}

/// Checks that a threshold is in (0, 1]; the message names the flag.
pub(crate) fn in_unit(name: &str, v: f64) -> std::result::Result<(), String> {
    if v > 0.0 && v <= 1.0 {
        Ok(())
    } else {
        Err(format!(
            "{name} {v} is out of range (greater than 0, at most 1)"
        ))
    }
}

impl Settings {
    /// Settings for `threshold` and `num_perm` with bands × rows chosen by `objective`; the
    /// rest at defaults.
    pub fn with_threshold(threshold: f64, num_perm: usize, objective: Objective) -> Settings {
        Settings {
            minhash: MinHashConfig {
                num_perm,
                ..MinHashConfig::default()
            },
            threshold,
            objective,
            lsh: LshParams::choose(threshold, num_perm, objective),
            ..Settings::default()
        }
    }

    /// The length of every signature: [`MinHashConfig::num_perm`] MinHash slots, then the
    /// word sketch of [`Reword::sketch`] slots.
    pub fn sig_len(&self) -> usize {
        self.minhash.num_perm + self.reword.sketch
    }

    /// The MinHash slots of a signature (without the word sketch).
    pub fn minhash_part<'s>(&self, sig: &'s [u32]) -> &'s [u32] {
        &sig[..self.minhash.num_perm.min(sig.len())]
    }

    /// The word check ([`Reword`]) of two long texts of `similarity` below the threshold:
    /// the word-set Jaccard estimated from the sketches that end their signatures `a` and
    /// `b`, when the check is on, `similarity` reaches [`Reword::low`] and both signatures
    /// have a sketch; `None` otherwise.
    pub fn word_check(&self, similarity: f64, a: &[u32], b: &[u32]) -> Option<f64> {
        let n = self.minhash.num_perm;
        (self.reword.on() && similarity >= self.reword.low && a.len() > n && b.len() > n)
            .then(|| sketch_jaccard(&a[n..], &b[n..]))
    }

    /// True when two long texts of `similarity` below the threshold are duplicates by the
    /// word check ([`Reword`]).
    pub fn reworded(&self, similarity: f64, a: &[u32], b: &[u32]) -> bool {
        self.word_check(similarity, a, b)
            .is_some_and(|words| words >= self.reword.threshold)
    }

    /// The lowest threshold in use: LSH must find candidates down to it.
    pub fn candidate_threshold(&self) -> f64 {
        if self.short.words > 0 {
            self.threshold.min(self.short.threshold)
        } else {
            self.threshold
        }
    }

    /// Checks every setting; the message names the flag to change.
    pub fn validate(&self) -> Result<()> {
        let check = |r: std::result::Result<(), String>| r.map_err(Error::Config);
        check(in_unit("--threshold", self.threshold))?;
        check(in_unit("--short-threshold", self.short.threshold))?;
        check(in_unit("--cross-containment", self.cross.containment))?;
        check(in_unit("--word-low", self.reword.low))?;
        check(in_unit("--word-threshold", self.reword.threshold))?;
        if self.reword.sketch > 4096 {
            return Err(Error::Config(format!(
                "--word-sketch {} is out of range (0 to 4096)",
                self.reword.sketch
            )));
        }
        if self.cross.on() && self.cross.words <= HEAD_WORDS {
            return Err(Error::Config(format!(
                "--cross-words {} is too small: the lead must hold more than a head of \
                 {HEAD_WORDS} words (give 0 to turn cross-length matching off)",
                self.cross.words
            )));
        }
        check(self.shingle.validate())?;
        check(self.short.shingle.validate())?;
        check(self.minhash.validate())?;
        check(self.lsh.validate(self.minhash.num_perm))?;
        if self.lead.words > 0 && !(1..=16).contains(&self.lead.weight) {
            return Err(Error::Config(format!(
                "--lead-weight {} is out of range (1 to 16)",
                self.lead.weight
            )));
        }
        Ok(())
    }

    /// True when two documents can be compared at all: both non-empty, both short or both
    /// long, and, for short texts with the number check, not holding different numbers.
    pub fn comparable(&self, a: &Traits, b: &Traits) -> bool {
        !a.is_empty()
            && !b.is_empty()
            && a.short == b.short
            && (!a.short
                || !self.short.numbers
                || a.numbers == 0
                || b.numbers == 0
                || a.numbers == b.numbers)
    }

    /// The similarity of two signed documents: for long texts the measure estimated from the
    /// signatures (or exact over the shingle sets, when both are given), for short texts the
    /// exact Jaccard similarity of their word sets, and for a short and a long text that
    /// [`Cross`] links, the Jaccard similarity of their heads' word sets. 0 when they are not
    /// [`comparable`](Self::comparable) and not linked across lengths.
    pub fn similarity(&self, a: &Signed<'_>, b: &Signed<'_>) -> f64 {
        if !self.comparable(&a.traits, &b.traits) {
            if a.traits.short != b.traits.short && self.cross_linked(a, b) {
                return word_jaccard(a.head(), b.head());
            }
            return 0.0;
        }
        if a.traits.short {
            return word_jaccard(a.words, b.words);
        }
        match (a.set, b.set) {
            (Some(x), Some(y)) => self.measure.exact(x, y),
            _ => self.measure.estimate(
                self.minhash_part(a.sig),
                a.traits.shingles,
                self.minhash_part(b.sig),
                b.traits.shingles,
            ),
        }
    }

    /// Whether two signed documents are a duplicate pair: two short texts by their words, two
    /// long texts by the similarity of their shingles (or, a little below the threshold, of
    /// their words: [`Reword`]), and any two texts by [`Cross`].
    pub fn linked(&self, a: &Signed<'_>, b: &Signed<'_>) -> bool {
        if self.comparable(&a.traits, &b.traits) {
            let same_length = if a.traits.short {
                self.short_rule(a.words, b.words)
            } else {
                let similarity = self.similarity(a, b);
                similarity >= self.threshold || self.reworded(similarity, a.sig, b.sig)
            };
            if same_length {
                return true;
            }
        }
        self.cross_linked(a, b)
    }

    /// The short-text rule on two word sequences: the Jaccard similarity of their word sets
    /// reaches the short threshold, or they share a long run of words.
    pub(crate) fn short_rule(&self, a: &[u64], b: &[u64]) -> bool {
        word_jaccard(a, b) >= self.short.threshold || {
            let need = self.run_needed(a.len().min(b.len()));
            need > 0 && longest_common_run(a, b) >= need
        }
    }

    /// The shared run of words the short rule needs between two texts, the shorter of
    /// `shorter` words (0 when that part of the rule is off).
    pub(crate) fn run_needed(&self, shorter: usize) -> usize {
        if self.short.run_words == 0 {
            return 0;
        }
        self.short
            .run_words
            .max((self.short.run_share * shorter as f64).ceil() as usize)
    }

    /// The cross-length rule ([`Cross`]).
    pub fn cross_linked(&self, a: &Signed<'_>, b: &Signed<'_>) -> bool {
        let (ta, tb) = (&a.traits, &b.traits);
        if !self.cross.on() || ta.is_empty() || tb.is_empty() || ta.head == 0 || tb.head == 0 {
            return false;
        }
        if self.short.numbers
            && ta.head_numbers != 0
            && tb.head_numbers != 0
            && ta.head_numbers != tb.head_numbers
        {
            return false;
        }
        if !self.short_rule(a.head(), b.head()) {
            return false;
        }
        let bare = |s: &Signed<'_>| s.words.len() == s.traits.head as usize;
        bare(a) || bare(b) || word_containment(a.lead(self), b.lead(self)) >= self.cross.containment
    }
}

/// A signed document as verification sees it.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// The MinHash signature.
    pub sig: &'a [u32],
    /// Its traits.
    pub traits: Traits,
    /// The hashes of its words in order: every word of a short text, the opening
    /// [`Cross::words`] words of a long one (none without cross-length matching).
    pub words: &'a [u64],
    /// Its exact shingle set, when verification is exact.
    pub set: Option<&'a [u64]>,
}

/// The head's word hashes among a document's kept `words`.
pub fn head_words<'w>(words: &'w [u64], traits: &Traits) -> &'w [u64] {
    &words[..(traits.head as usize).min(words.len())]
}

impl<'a> Signed<'a> {
    /// The hashes of the head's words.
    pub fn head(&self) -> &'a [u64] {
        head_words(self.words, &self.traits)
    }

    /// The hashes of the lead's words: the kept words, at most [`Cross::words`] of them.
    pub fn lead(&self, settings: &Settings) -> &'a [u64] {
        &self.words[..settings.cross.words.min(self.words.len())]
    }
}

/// The share of the distinct words of the sequence with fewer distinct words that the other
/// holds.
pub fn word_containment(a: &[u64], b: &[u64]) -> f64 {
    let set = |w: &[u64]| {
        let mut v = w.to_vec();
        v.sort_unstable();
        v.dedup();
        v
    };
    let (x, y) = (set(a), set(b));
    crate::cluster::Measure::Containment.exact(&x, &y)
}

/// Jaccard similarity of the sets of words of two word-hash sequences.
pub fn word_jaccard(a: &[u64], b: &[u64]) -> f64 {
    let mut x: Vec<u64> = a.to_vec();
    let mut y: Vec<u64> = b.to_vec();
    x.sort_unstable();
    x.dedup();
    y.sort_unstable();
    y.dedup();
    crate::minhash::jaccard(&x, &y)
}

/// Length of the longest run of consecutive words the two sequences share.
pub fn longest_common_run(a: &[u64], b: &[u64]) -> usize {
    // Dynamic programming over one row; the sequences are short texts.
    let mut row = vec![0usize; b.len() + 1];
    let mut best = 0;
    for &x in a {
        let mut diagonal = 0;
        for (j, &y) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if x == y { diagonal + 1 } else { 0 };
            best = best.max(row[j + 1]);
            diagonal = above;
        }
    }
    best
}

/// Every setting by the name of its command-line flag (`--short-words` is `short_words`), with
/// the command line's defaults: what the command line and other front ends (the Python
/// package's keyword arguments) turn into [`Settings`], so that a name means the same thing
/// everywhere.
///
/// ```
/// use mukarrar::settings::Options;
/// let settings = Options { threshold: 0.5, ..Options::default() }.settings().unwrap();
/// assert_eq!(settings.threshold, 0.5);
/// assert_eq!(Options::from_settings(&settings).threshold, 0.5);
/// let err = Options { threshold: 1.5, ..Options::default() }.settings().unwrap_err();
/// assert_eq!(err.to_string(), "--threshold 1.5 is out of range (greater than 0, at most 1)");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `--normalize`: the normalization profile.
    pub normalize: Profile,
    /// `--shingle`: shingles of words or of characters.
    pub shingle: ShingleKind,
    /// `--ngram`: the shingle size; `None` takes the kind's default (3 words, 5 characters).
    pub ngram: Option<usize>,
    /// `--keep-title-tags`: do not remove title tags.
    pub keep_title_tags: bool,
    /// `--short-words`: texts of fewer words are short; 0 treats every text as long.
    pub short_words: usize,
    /// `--short-threshold`: the similarity two short texts must reach.
    pub short_threshold: f64,
    /// `--ignore-numbers`: compare short texts even when their numbers differ.
    pub ignore_numbers: bool,
    /// `--short-run-words`: a shared run of this many words makes two short texts duplicates;
    /// 0 turns the rule off.
    pub short_run_words: usize,
    /// `--cross-words`: opening words of every text kept for cross-length matching; 0 turns
    /// it off.
    pub cross_words: usize,
    /// `--cross-containment`: the share of the shorter lead that the other lead must hold.
    pub cross_containment: f64,
    /// `--lead-words`: opening words of a long text whose shingles are weighted.
    pub lead_words: usize,
    /// `--lead-weight`: how many times each lead shingle counts.
    pub lead_weight: usize,
    /// `--boilerplate-df`: leave out lines that occur in this many documents; 0 is off.
    pub boilerplate_df: usize,
    /// `--num-perm`: the signature length.
    pub num_perm: usize,
    /// `--seed`: seed of the shingle hash and of the permutations.
    pub seed: u64,
    /// `--threshold`: the similarity two long texts must reach.
    pub threshold: f64,
    /// `--lsh-objective`: how bands × rows are chosen.
    pub lsh_objective: Objective,
    /// `--bands`: LSH bands (overrides the objective).
    pub bands: Option<usize>,
    /// `--rows`: rows per band (overrides the objective).
    pub rows: Option<usize>,
    /// `--measure`: what the thresholds apply to.
    pub measure: Measure,
    /// `--verify`: how candidate pairs are verified.
    pub verify: Verify,
    /// `--linkage`: how verified pairs form clusters.
    pub linkage: Linkage,
    /// `--representative`: which member represents a cluster.
    pub representative: Representative,
    /// `--word-sketch`: slots of the word sketch that ends a long text's signature; 0 turns
    /// the word check off.
    pub word_sketch: usize,
    /// `--word-low`: the similarity from which long texts below the threshold are compared by
    /// their words.
    pub word_low: f64,
    /// `--word-threshold`: the word-set similarity that makes such a pair duplicates.
    pub word_threshold: f64,
}

impl Default for Options {
    fn default() -> Options {
        let short = ShortText::default();
        let lead = Lead::default();
        let minhash = MinHashConfig::default();
        Options {
            normalize: Profile::Default,
            shingle: ShingleKind::Word,
            ngram: None,
            keep_title_tags: false,
            short_words: short.words,
            short_threshold: short.threshold,
            ignore_numbers: !short.numbers,
            short_run_words: short.run_words,
            cross_words: Cross::default().words,
            cross_containment: Cross::default().containment,
            lead_words: lead.words,
            lead_weight: lead.weight,
            boilerplate_df: 0,
            num_perm: minhash.num_perm,
            seed: minhash.seed,
            threshold: DEFAULT_THRESHOLD,
            lsh_objective: Objective::Area,
            bands: None,
            rows: None,
            measure: Measure::Jaccard,
            verify: Verify::Estimate,
            linkage: Linkage::Single,
            representative: Representative::First,
            word_sketch: Reword::default().sketch,
            word_low: Reword::default().low,
            word_threshold: Reword::default().threshold,
        }
    }
}

impl Options {
    /// The validated settings these options give. Bands × rows are chosen for the lowest
    /// threshold in use ([`Settings::candidate_threshold`]) unless `bands` or `rows` is given.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the flag to change.
    pub fn settings(&self) -> Result<Settings> {
        let seed = self.seed;
        let mut settings = Settings {
            profile: self.normalize,
            title_tags: !self.keep_title_tags,
            shingle: ShingleConfig {
                kind: self.shingle,
                n: self.ngram.unwrap_or(self.shingle.default_n()),
                seed,
            },
            lead: Lead {
                words: self.lead_words,
                weight: self.lead_weight,
            },
            boilerplate_df: self.boilerplate_df,
            short: ShortText {
                words: self.short_words,
                shingle: ShingleConfig {
                    seed,
                    ..ShortText::default().shingle
                },
                threshold: self.short_threshold,
                numbers: !self.ignore_numbers,
                run_words: self.short_run_words,
                ..ShortText::default()
            },
            cross: Cross {
                words: self.cross_words,
                containment: self.cross_containment,
                ..Cross::default()
            },
            minhash: MinHashConfig {
                num_perm: self.num_perm,
                seed,
            },
            reword: Reword {
                sketch: self.word_sketch,
                low: self.word_low,
                threshold: self.word_threshold,
            },
            threshold: self.threshold,
            objective: self.lsh_objective,
            lsh: LshParams { bands: 1, rows: 1 },
            measure: self.measure,
            verify: self.verify,
            linkage: self.linkage,
            representative: self.representative,
        };
        // Everything but the bands first: choosing bands reads the thresholds and num_perm.
        settings.validate()?;
        settings.lsh = LshParams::given(
            settings.candidate_threshold(),
            self.num_perm,
            self.lsh_objective,
            self.bands,
            self.rows,
        )
        .map_err(Error::Config)?;
        Ok(settings)
    }

    /// The options that give `settings` back (when the command line can express them): the
    /// bands and rows are named only when they are not the objective's choice.
    pub fn from_settings(settings: &Settings) -> Options {
        let chosen = LshParams::choose(
            settings.candidate_threshold(),
            settings.minhash.num_perm,
            settings.objective,
        );
        let explicit = settings.lsh != chosen;
        Options {
            normalize: settings.profile,
            shingle: settings.shingle.kind,
            ngram: Some(settings.shingle.n),
            keep_title_tags: !settings.title_tags,
            short_words: settings.short.words,
            short_threshold: settings.short.threshold,
            ignore_numbers: !settings.short.numbers,
            short_run_words: settings.short.run_words,
            cross_words: settings.cross.words,
            cross_containment: settings.cross.containment,
            lead_words: settings.lead.words,
            lead_weight: settings.lead.weight,
            boilerplate_df: settings.boilerplate_df,
            num_perm: settings.minhash.num_perm,
            seed: settings.minhash.seed,
            threshold: settings.threshold,
            lsh_objective: settings.objective,
            bands: explicit.then_some(settings.lsh.bands),
            rows: explicit.then_some(settings.lsh.rows),
            measure: settings.measure,
            verify: settings.verify,
            linkage: settings.linkage,
            representative: settings.representative,
            word_sketch: settings.reword.sketch,
            word_low: settings.reword.low,
            word_threshold: settings.reword.threshold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_run() {
        assert_eq!(longest_common_run(&[1, 2, 3, 4, 5], &[9, 2, 3, 4, 8]), 3);
        assert_eq!(longest_common_run(&[1, 2], &[3, 4]), 0);
        assert_eq!(longest_common_run(&[], &[3, 4]), 0);
        assert_eq!(longest_common_run(&[7, 7, 7], &[7, 7]), 2);
    }

    #[test]
    fn word_sets() {
        assert_eq!(word_jaccard(&[1, 2, 2, 3], &[3, 2, 1]), 1.0);
        assert!((word_jaccard(&[1, 2, 3], &[3, 4]) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn word_sketches_estimate_the_jaccard_of_their_words() {
        let e = EMPTY_SLOT;
        // Slots filled by either: 0, 1 and 2; equal in slot 0.
        assert_eq!(sketch_jaccard(&[1, e, 3, e], &[1, 2, 4, e]), 1.0 / 3.0);
        assert_eq!(sketch_jaccard(&[1, 2, e], &[1, 2, e]), 1.0);
        assert_eq!(sketch_jaccard(&[e, e], &[e, e]), 0.0);
        assert_eq!(sketch_jaccard(&[1, e], &[e, e]), 0.0);
        // Sets of 400 words sharing 200, 300 or 360 (Jaccard 1/3, 0.6, 0.818), sketched in
        // 64 slots as the signer does: the estimates fall near the truth.
        let mut x = 7u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for shared in [200usize, 300, 360] {
            let truth = shared as f64 / (800 - shared) as f64;
            let mut total = 0.0;
            for _ in 0..50 {
                let common: Vec<u64> = (0..shared).map(|_| next()).collect();
                let sketch = |words: &mut dyn FnMut() -> u64| {
                    let mut slots = vec![e; 64];
                    for &h in common.iter() {
                        crate::signature::add_to_sketch(&mut slots, h);
                    }
                    for _ in shared..400 {
                        crate::signature::add_to_sketch(&mut slots, words());
                    }
                    slots
                };
                let (a, b) = (sketch(&mut next), sketch(&mut next));
                let j = sketch_jaccard(&a, &b);
                assert!((j - truth).abs() < 0.25, "{j} against {truth}");
                total += j;
            }
            let mean = total / 50.0;
            assert!((mean - truth).abs() < 0.03, "mean {mean} against {truth}");
        }
    }

    #[test]
    fn the_word_check_looks_only_between_low_and_the_threshold() {
        let s = Settings::default();
        let n = s.minhash.num_perm;
        let sig = |words: &[u32]| {
            let mut v = vec![0u32; n];
            v.extend_from_slice(words);
            v.resize(s.sig_len(), EMPTY_SLOT);
            v
        };
        let (a, b) = (sig(&[1, 2, 3, 4, 5]), sig(&[1, 2, 3, 4, 6]));
        // Word-set Jaccard 4/6 = 0.67 ≥ 0.55.
        assert!(s.reworded(0.2, &a, &b));
        assert!(!s.reworded(0.19, &a, &b));
        let c = sig(&[1, 2, 7, 8, 9]);
        assert!(!s.reworded(0.29, &a, &c));
        // Signatures without a sketch (an index made before the check) never pass it.
        assert!(!s.reworded(0.29, &a[..n], &b[..n]));
        let off = Settings {
            reword: Reword::off(),
            ..Settings::default()
        };
        assert!(!off.reworded(0.29, &a, &b));
        assert_eq!(off.sig_len(), n);
    }

    #[test]
    fn options_give_their_settings_back() {
        let defaults = Options::default().settings().unwrap();
        assert_eq!(
            Options::from_settings(&defaults).settings().unwrap(),
            defaults
        );
        let other = Options {
            shingle: ShingleKind::Char,
            bands: Some(20),
            ignore_numbers: true,
            seed: 7,
            ..Options::default()
        }
        .settings()
        .unwrap();
        assert_eq!(
            (other.shingle.n, other.lsh.bands, other.lsh.rows),
            (5, 20, 6)
        );
        assert_eq!((other.short.shingle.seed, other.minhash.seed), (7, 7));
        assert_eq!(Options::from_settings(&other).settings().unwrap(), other);
    }

    #[test]
    fn stored_settings_with_huge_bands_are_refused_without_overflow() {
        let settings = Settings {
            lsh: LshParams {
                bands: usize::MAX,
                rows: 3,
            },
            ..Settings::default()
        };
        assert_eq!(
            settings.validate().unwrap_err().to_string(),
            format!("--bands {} × --rows 3 exceeds --num-perm 128", usize::MAX)
        );
    }

    #[test]
    fn options_are_checked_before_bands_are_chosen() {
        let err = |o: Options| o.settings().unwrap_err().to_string();
        assert_eq!(
            err(Options {
                num_perm: 1 << 40,
                ..Options::default()
            }),
            "--num-perm 1099511627776 is out of range (1 to 4096)"
        );
        assert_eq!(
            err(Options {
                bands: Some(100),
                rows: Some(3),
                ..Options::default()
            }),
            "--bands 100 × --rows 3 = 300 exceeds --num-perm 128"
        );
        assert_eq!(
            err(Options {
                bands: Some(usize::MAX),
                rows: Some(usize::MAX),
                ..Options::default()
            }),
            format!(
                "--bands {} is out of range (1 to --num-perm 128)",
                usize::MAX
            )
        );
        assert_eq!(
            err(Options {
                threshold: -0.2,
                ..Options::default()
            }),
            "--threshold -0.2 is out of range (greater than 0, at most 1)"
        );
    }
}
