//! The per-document stages, shared by every command: HTML references and title tags →
//! normalize → shingle → sign.
//!
//! [`Signer::sign_into`] is a pure function of one text and the [`Settings`]: the batch
//! pipeline, the index, the streaming filter and `mukarrar sign` all call it, so a document
//! gets the same signature and [`Traits`] wherever it is signed.

use crate::cluster::Verify;
use crate::minhash::MinHasher;
use std::borrow::Cow;

use crate::normalize::{entities, title, Change, Normalizer};
use crate::settings::{Settings, Traits, EMPTY_SLOT, HEAD_WORDS};
use crate::shingle::{ShingleKind, Shingler};

/// Per-document work: normalize, shingle, sign.
#[derive(Debug, Clone)]
pub struct Signer {
    title_tags: bool,
    normalizer: Normalizer,
    shingler: Shingler,
    short_shingler: Shingler,
    short_words: usize,
    numbers: bool,
    lead_words: usize,
    lead_weight: usize,
    cross_words: usize,
    sorted_sets: bool,
    minhasher: MinHasher,
    sketch: usize,
}

/// Reusable buffers for [`Signer::sign_into`], one per thread.
#[derive(Debug, Default)]
pub struct Scratch {
    /// The normalized text of the last document signed.
    pub normalized: String,
    /// The shingles of the last document signed (lead copies included): sorted and
    /// deduplicated when the settings verify exactly, in text order otherwise.
    pub shingles: Vec<u64>,
    /// The hashes of the words of the last document signed, in order: every word of a short
    /// text (short texts are verified exactly on them), the opening
    /// [`Cross::words`](crate::settings::Cross::words) words of a long one.
    pub words: Vec<u64>,
    /// How many words the first line of the last text normalized has (`usize::MAX` when it
    /// has one line): its head ([`crate::settings::Cross`]). Set by
    /// [`Signer::normalize_into`]; whoever fills `normalized` otherwise sets it too.
    pub first_line_words: usize,
    lead: Vec<u64>,
    table: Vec<u64>,
}

/// Adds a word's hash to a word sketch ([`crate::settings::Reword`]): the hash's low 32 bits
/// choose the slot, its high 31 bits are the value, and each slot keeps the smallest value
/// it gets. One multiplication and one comparison a word, whatever the text.
#[inline]
pub(crate) fn add_to_sketch(slots: &mut [u32], word_hash: u64) {
    let slot = ((word_hash & 0xFFFF_FFFF) * slots.len() as u64) >> 32;
    let v = (word_hash >> 33) as u32;
    let s = &mut slots[slot as usize];
    if v < *s {
        *s = v;
    }
}

/// The number of distinct values in `values`, counted with an open-addressing table (reused
/// between calls) instead of a sort.
fn count_distinct(values: &[u64], table: &mut Vec<u64>) -> usize {
    if values.is_empty() {
        return 0;
    }
    let size = (values.len() * 2).next_power_of_two();
    table.clear();
    table.resize(size, 0);
    let mask = size - 1;
    let mut distinct = 0;
    let mut zero = false;
    for &v in values {
        if v == 0 {
            // 0 marks a free slot; count the value 0 apart.
            distinct += usize::from(!zero);
            zero = true;
            continue;
        }
        let mut slot = (v.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & mask;
        loop {
            match table[slot] {
                0 => {
                    table[slot] = v;
                    distinct += 1;
                    break;
                }
                x if x == v => break,
                _ => slot = (slot + 1) & mask,
            }
        }
    }
    distinct
}

/// Arabic ordinal words (normalized) and the number each stands for, so that `الجزء الثاني`
/// and `الجزء 2` carry the same number.
const ORDINALS: [(&str, &str); 40] = [
    ("اول", "1"),
    ("اولي", "1"),
    ("الاول", "1"),
    ("الاولي", "1"),
    ("ثاني", "2"),
    ("ثانيه", "2"),
    ("الثاني", "2"),
    ("الثانيه", "2"),
    ("ثالث", "3"),
    ("ثالثه", "3"),
    ("الثالث", "3"),
    ("الثالثه", "3"),
    ("رابع", "4"),
    ("رابعه", "4"),
    ("الرابع", "4"),
    ("الرابعه", "4"),
    ("خامس", "5"),
    ("خامسه", "5"),
    ("الخامس", "5"),
    ("الخامسه", "5"),
    ("سادس", "6"),
    ("سادسه", "6"),
    ("السادس", "6"),
    ("السادسه", "6"),
    ("سابع", "7"),
    ("سابعه", "7"),
    ("السابع", "7"),
    ("السابعه", "7"),
    ("ثامن", "8"),
    ("ثامنه", "8"),
    ("الثامن", "8"),
    ("الثامنه", "8"),
    ("تاسع", "9"),
    ("تاسعه", "9"),
    ("التاسع", "9"),
    ("التاسعه", "9"),
    ("عاشر", "10"),
    ("عاشره", "10"),
    ("العاشر", "10"),
    ("العاشره", "10"),
];

/// The number a normalized word stands for, if any.
fn number_of(word: &str) -> Option<&str> {
    let b = word.as_bytes();
    if !b.is_empty()
        && b[0].is_ascii_digit()
        && b.iter()
            .all(|c| c.is_ascii_digit() || *c == b'.' || *c == b',')
    {
        return Some(word);
    }
    ORDINALS.iter().find(|(w, _)| *w == word).map(|(_, n)| *n)
}

/// Fingerprint of the sequence of numbers in a normalized text; 0 when it holds none.
pub fn numbers_fingerprint(normalized: &str) -> u64 {
    // Streamed: the same value as hashing "n1 n2 … " at once, without building it.
    let mut hasher = xxhash_rust::xxh3::Xxh3::with_seed(0x6e75_6d62);
    let mut any = false;
    for n in normalized.split(' ').filter_map(number_of) {
        hasher.update(n.as_bytes());
        hasher.update(b" ");
        any = true;
    }
    if any {
        hasher.digest().max(1)
    } else {
        0
    }
}

/// The `copy`-th weighted copy of shingle hash `h` (a bijective mix, different per copy).
#[inline]
fn copy_of(h: u64, copy: usize) -> u64 {
    let mut z = h ^ (copy as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^ (z >> 29)
}

/// Byte offset just past the `n`-th word of a normalized text (the whole text if shorter;
/// the first word for `n` = 0).
fn end_of_words(text: &str, n: usize) -> usize {
    let mut spaces = 0;
    for (i, &b) in text.as_bytes().iter().enumerate() {
        if b == b' ' {
            spaces += 1;
            if spaces >= n {
                return i;
            }
        }
    }
    text.len()
}

impl Signer {
    /// A signer for `settings` (which must be valid, see [`Settings::validate`]).
    pub fn new(settings: &Settings) -> Signer {
        Signer {
            title_tags: settings.title_tags,
            normalizer: Normalizer::new(settings.profile),
            shingler: Shingler::new(settings.shingle),
            short_shingler: Shingler::new(settings.short.shingle),

            short_words: settings.short.words,
            numbers: settings.short.numbers,
            lead_words: settings.lead.words,
            lead_weight: settings.lead.weight,
            cross_words: settings.cross.words,
            sorted_sets: settings.verify == Verify::Exact,
            minhasher: MinHasher::new(settings.minhash),
            sketch: settings.reword.sketch,
        }
    }

    /// The signature length ([`Settings::sig_len`]): the MinHash slots, then the word
    /// sketch.
    pub fn num_perm(&self) -> usize {
        self.minhasher.num_perm() + self.sketch
    }

    /// The text as the normalizer gets it: HTML character references decoded, then title tags
    /// removed (when enabled).
    pub fn prepare<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let decoded = entities::decode(text);
        if !self.title_tags {
            return decoded;
        }
        match decoded {
            Cow::Borrowed(t) => title::strip(t).0,
            Cow::Owned(t) => Cow::Owned(title::strip(&t).0.into_owned()),
        }
    }

    /// Every change made to `text` before it is shingled, in order: HTML character references
    /// decoded (`R0`), the title label (`T1`) and title tags (`T2`) removed (when title tags
    /// are removed), then the changes of each normalization rule ([`Normalizer::explain`]).
    /// Much slower than [`normalize_into`](Self::normalize_into): meant for single texts.
    ///
    /// ```
    /// use mukarrar::pipeline::{Settings, Signer};
    /// let signer = Signer::new(&Settings::default());
    /// let steps: Vec<_> = signer.explain("عاجل | مسئول").iter().map(|c| c.rule).collect();
    /// assert_eq!(steps, ["T1", "R12"]);
    /// ```
    pub fn explain(&self, text: &str) -> Vec<Change> {
        let mut changes = Vec::new();
        let decoded = entities::decode(text);
        if decoded != text {
            changes.push(Change {
                rule: "R0",
                description: "HTML character references decoded",
                from: text.to_string(),
                to: decoded.to_string(),
            });
        }
        let prepared = if self.title_tags {
            let (stripped, removed) = title::strip(&decoded);
            let removal = |rule, description, tag: &str| Change {
                rule,
                description,
                from: tag.to_string(),
                to: String::new(),
            };
            changes.extend(
                removed
                    .prefix
                    .iter()
                    .map(|label| removal("T1", "title label removed", label)),
            );
            changes.extend(
                removed
                    .suffixes
                    .iter()
                    .map(|tag| removal("T2", "title tag removed", tag)),
            );
            stripped.into_owned()
        } else {
            decoded.into_owned()
        };
        changes.extend(self.normalizer.explain(&prepared));
        changes
    }

    /// Prepares ([`prepare`](Self::prepare)) and normalizes `text` into `scratch.normalized`.
    pub fn normalize_into(&self, text: &str, scratch: &mut Scratch) {
        let prepared = self.prepare(text);
        self.normalizer
            .normalize_into(&prepared, &mut scratch.normalized);
        scratch.first_line_words = usize::MAX;
        if self.cross_words == 0 {
            return;
        }
        // The head is the first line with words: the title, when the record has a title
        // field. Only that line is normalized again (a single-line text is all head).
        let Some(end) = prepared.find('\n') else {
            return;
        };
        if prepared[end..].trim().is_empty() {
            return;
        }
        let mut line = String::new();
        self.normalizer.normalize_into(&prepared[..end], &mut line);
        if line.is_empty() {
            for l in prepared[end + 1..].lines() {
                self.normalizer.normalize_into(l, &mut line);
                if !line.is_empty() {
                    break;
                }
            }
        }
        if !line.is_empty() {
            scratch.first_line_words = line.split(' ').count();
        }
    }

    /// The normalized lines of `text` (title tags removed first, when enabled), blank lines
    /// left out.
    pub fn normalized_lines(&self, text: &str) -> Vec<String> {
        self.prepare(text)
            .lines()
            .map(|l| self.normalizer.normalize(l))
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// Normalizes, shingles and signs `text` into `sig` (whose length must be
    /// [`num_perm`](Self::num_perm)) and returns the document's [`Traits`]. A text empty after
    /// normalization gets 0 shingles and a signature of [`crate::minhash::EMPTY`]. The
    /// normalized text and the shingle set stay in `scratch`.
    pub fn sign_into(&self, text: &str, scratch: &mut Scratch, sig: &mut [u32]) -> Traits {
        self.normalize_into(text, scratch);
        self.sign_normalized(scratch, sig)
    }

    /// Shingles and signs `scratch.normalized` (already normalized text).
    pub fn sign_normalized(&self, scratch: &mut Scratch, sig: &mut [u32]) -> Traits {
        assert_eq!(
            sig.len(),
            self.num_perm(),
            "signature buffer length (Signer::num_perm)"
        );
        let text = scratch.normalized.as_str();
        let (minhash, sketch) = sig.split_at_mut(self.minhasher.num_perm());
        sketch.fill(EMPTY_SLOT);
        scratch.shingles.clear();
        scratch.words.clear();
        let words = if text.is_empty() {
            0
        } else {
            text.bytes().filter(|&b| b == b' ').count() + 1
        };
        let short = words > 0 && words < self.short_words;
        let mut numbers = 0;
        let (mut head, mut head_numbers) = (0, 0);
        if self.cross_words > 0 && words > 0 {
            head = scratch.first_line_words.min(HEAD_WORDS).min(words);
            if self.numbers {
                head_numbers = numbers_fingerprint(&text[..end_of_words(text, head)]);
            }
            if !short {
                let lead = &text[..end_of_words(text, self.cross_words)];
                self.shingler.word_hashes(lead, &mut scratch.words);
            }
        }
        if short {
            self.shingler.word_hashes(text, &mut scratch.words);
            self.short_shingler.shingles(text, &mut scratch.shingles);
            if self.numbers {
                numbers = numbers_fingerprint(text);
            }
        } else {
            if self.sketch > 0 {
                self.shingler
                    .shingles_and_words(text, &mut scratch.shingles, |h| add_to_sketch(sketch, h));
            } else {
                self.shingler.shingles(text, &mut scratch.shingles);
            }
            if self.lead_words > 0 && self.lead_weight > 1 && words > 0 {
                let config = self.shingler.config();
                let lead_count = if words <= self.lead_words {
                    scratch.shingles.len()
                } else if config.kind == ShingleKind::Word {
                    // Word shingles come in text order, one starting at each word.
                    (self.lead_words + 1).saturating_sub(config.n).max(1)
                } else {
                    scratch.lead.clear();
                    let lead = &text[..end_of_words(text, self.lead_words)];
                    self.shingler.shingles(lead, &mut scratch.lead);
                    usize::MAX
                };
                for copy in 1..self.lead_weight {
                    if lead_count == usize::MAX {
                        let lead = scratch.lead.iter().map(|&h| copy_of(h, copy));
                        scratch.shingles.extend(lead);
                    } else {
                        for i in 0..lead_count {
                            let h = scratch.shingles[i];
                            scratch.shingles.push(copy_of(h, copy));
                        }
                    }
                }
            }
        }
        // MinHash ignores repeats; sorting is only needed when exact verification keeps the
        // sets, and otherwise a small hash table counts the distinct shingles.
        let distinct = if self.sorted_sets {
            scratch.shingles.sort_unstable();
            scratch.shingles.dedup();
            scratch.shingles.len()
        } else {
            count_distinct(&scratch.shingles, &mut scratch.table)
        };
        self.minhasher.sign_into(&scratch.shingles, minhash);
        Traits {
            shingles: distinct as u32,
            short,
            numbers,
            head: head as u16,
            head_numbers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    fn sign(settings: &Settings, text: &str) -> (Vec<u32>, Traits) {
        let signer = Signer::new(settings);
        let mut sig = vec![0; signer.num_perm()];
        let t = signer.sign_into(text, &mut Scratch::default(), &mut sig);
        (sig, t)
    }

    #[test]
    fn short_texts_are_marked_and_carry_their_numbers() {
        let s = Settings::default();
        let (_, a) = sign(&s, "عاجل | اضافة أولى لجلسة مجلس الوزراء");
        let (_, b) = sign(&s, "إضافة ثانية لجلسة مجلس الوزراء");
        let (_, c) = sign(&s, "بالفيديو.. اضافه اولى لجلسه مجلس الوزراء");
        assert!(a.short && b.short);
        assert_ne!(a.numbers, b.numbers);
        assert_eq!(a.numbers, c.numbers);
        assert!(!s.comparable(&a, &b));
        assert!(s.comparable(&a, &c));
        // A copy that dropped its only number is still comparable.
        let (_, d) = sign(&s, "لجلسة مجلس الوزراء");
        assert!(s.comparable(&a, &d));
    }

    #[test]
    fn ordinals_and_digits_are_the_same_number() {
        assert_eq!(
            numbers_fingerprint("الجزء الثاني من الحوار"),
            numbers_fingerprint("الجزء 2 من الحوار")
        );
        assert_ne!(numbers_fingerprint("مقتل 3"), numbers_fingerprint("مقتل 5"));
        assert_eq!(numbers_fingerprint("مقتل"), 0);
        assert_ne!(numbers_fingerprint("مقتل 3"), 0);
    }

    #[test]
    fn title_tags_do_not_change_the_signature() {
        let s = Settings::default();
        assert_eq!(
            sign(&s, "عاجل | نمر يقتحم مدرسة في جنوب الهند"),
            sign(&s, "نمر يقتحم مدرسة في جنوب الهند - سبق")
        );
    }

    #[test]
    fn lead_shingles_are_weighted() {
        let words: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
        let text = words.join(" ");
        let mut s = Settings::default();
        let (_, weighted) = sign(&s, &text);
        s.lead.weight = 1;
        let (_, plain) = sign(&s, &text);
        assert!(!weighted.short);
        assert_eq!(plain.shingles, 98);
        // The first 60 words give 58 trigrams, each counted twice more.
        assert_eq!(weighted.shingles, 98 + 2 * 58);
    }

    #[test]
    fn short_and_long_texts_are_not_compared() {
        let s = Settings::default();
        let (_, a) = sign(&s, "نص قصير");
        let long = vec!["كلمة"; 40].join(" ");
        let (_, b) = sign(&s, &long);
        assert!(!s.comparable(&a, &b));
    }

    #[test]
    fn empty_texts_are_not_compared() {
        let s = Settings::default();
        let (sig, e) = sign(&s, "«» ...");
        assert!(e.is_empty());
        assert!(sig.iter().all(|&v| v == crate::minhash::EMPTY));
        assert!(!s.comparable(&e, &e));
    }

    proptest::proptest! {
        #[test]
        fn distinct_count_matches_a_set(values in proptest::collection::vec(0u64..40, 0..200)) {
            let set: std::collections::HashSet<u64> = values.iter().copied().collect();
            let mut table = Vec::new();
            proptest::prop_assert_eq!(count_distinct(&values, &mut table), set.len());
        }
    }

    #[test]
    fn a_long_text_ends_its_signature_with_a_sketch_of_its_words() {
        let settings = Settings::default();
        let signer = Signer::new(&settings);
        let n = settings.minhash.num_perm;
        let sign = |text: &str| {
            let mut sig = vec![0; signer.num_perm()];
            let mut scratch = Scratch::default();
            signer.sign_into(text, &mut scratch, &mut sig);
            sig.split_off(n)
        };
        // 3,000 words, each twice: each slot holds the smallest value of the words that
        // picked it, and repeating a word changes nothing.
        let words: Vec<String> = (0..3000).map(|i| format!("w{}", i % 1500)).collect();
        let sketch = sign(&words.join(" "));
        assert_eq!(sketch, sign(&words[..1500].join(" ")));
        let shingler = crate::shingle::Shingler::new(settings.shingle);
        let mut all = Vec::new();
        shingler.word_hashes(&words.join(" "), &mut all);
        let k = settings.reword.sketch as u64;
        let mut want = vec![EMPTY_SLOT; k as usize];
        for h in all {
            let slot = (((h & 0xFFFF_FFFF) * k) >> 32) as usize;
            want[slot] = want[slot].min((h >> 33) as u32);
        }
        assert_eq!(sketch, want);
        assert!(sketch.iter().all(|&v| v != EMPTY_SLOT));
        // One word repeated: one slot filled.
        let same = sign(&vec!["كلمة"; 100_000].join(" "));
        assert_eq!(same.iter().filter(|&&v| v != EMPTY_SLOT).count(), 1);
        // Short and empty texts have no sketch.
        assert!(sign("خبر قصير").iter().all(|&v| v == EMPTY_SLOT));
        assert!(sign("").iter().all(|&v| v == EMPTY_SLOT));
    }

    #[test]
    fn end_of_words_counts_words() {
        assert_eq!(&"a b c d"[..end_of_words("a b c d", 2)], "a b");
        assert_eq!(end_of_words("a b", 5), 3);
    }
}
