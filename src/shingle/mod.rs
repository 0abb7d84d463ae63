//! Shingles: the overlapping pieces of a normalized text whose sets MinHash compares.
//!
//! A shingle is never materialized as a `String`. The normalizer's output separates words by
//! exactly one space: each word is hashed once with xxh3, and a word n-gram's hash combines the
//! hashes of its words; a character n-gram is a contiguous slice of the text, hashed with xxh3.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// What a shingle is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShingleKind {
    /// `n` consecutive words.
    Word,
    /// `n` consecutive characters (Unicode scalar values, spaces included).
    Char,
}

impl ShingleKind {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ShingleKind::Word => "word",
            ShingleKind::Char => "char",
        }
    }
}

impl ShingleKind {
    /// The default size for this kind.
    pub fn default_n(self) -> usize {
        match self {
            ShingleKind::Word => 3,
            ShingleKind::Char => 5,
        }
    }
}

impl fmt::Display for ShingleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ShingleKind {
    type Err = String;
    fn from_str(s: &str) -> Result<ShingleKind, String> {
        match s {
            "word" => Ok(ShingleKind::Word),
            "char" => Ok(ShingleKind::Char),
            _ => Err(format!(
                "unknown shingle kind `{s}` (expected word or char)"
            )),
        }
    }
}

/// The largest supported shingle size.
pub const MAX_N: usize = 32;

/// How to cut a normalized text into shingles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShingleConfig {
    /// Words or characters.
    pub kind: ShingleKind,
    /// Shingle size, 1 ..= [`MAX_N`].
    pub n: usize,
    /// Seed of the shingle hash.
    pub seed: u64,
}

impl Default for ShingleConfig {
    fn default() -> ShingleConfig {
        ShingleConfig {
            kind: ShingleKind::Word,
            n: 3,
            seed: 0,
        }
    }
}

impl ShingleConfig {
    /// Checks the size.
    pub fn validate(&self) -> Result<(), String> {
        if self.n == 0 || self.n > MAX_N {
            return Err(format!(
                "shingle size {} is out of range (1 to {MAX_N})",
                self.n
            ));
        }
        Ok(())
    }
}

/// The hash of a word n-gram from the hashes of its words, in order: an order-sensitive fold
/// finished by a full avalanche (the finalizer of MurmurHash3), so that every input bit
/// affects every output bit.
#[inline]
fn combine(words: impl Iterator<Item = u64>) -> u64 {
    let mut h: u64 = 0x243F_6A88_85A3_08D3;
    for w in words {
        h = (h ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(31);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

/// Cuts normalized text into hashed shingles.
#[derive(Debug, Clone, Copy)]
pub struct Shingler {
    config: ShingleConfig,
}

impl Shingler {
    /// A shingler for `config` (which must be valid, see [`ShingleConfig::validate`]).
    pub fn new(config: ShingleConfig) -> Shingler {
        assert!(config.validate().is_ok(), "invalid shingle config");
        Shingler { config }
    }

    /// The configuration.
    pub fn config(&self) -> &ShingleConfig {
        &self.config
    }

    /// Appends the hashes of the shingles of `normalized` to `out` (duplicates included, in
    /// text order). `normalized` must be the output of the normalizer: words separated by
    /// single spaces, no leading or trailing space. A text shorter than one shingle gives one
    /// shingle of its whole text; an empty text gives none.
    pub fn shingles(&self, normalized: &str, out: &mut Vec<u64>) {
        if normalized.is_empty() {
            return;
        }
        match self.config.kind {
            ShingleKind::Word => self.words(normalized, out, |_| {}),
            ShingleKind::Char => self.chars(normalized, out),
        }
    }

    /// [`shingles`](Self::shingles), calling `each_word` with the hash of every word in
    /// order too (the hashes [`word_hashes`](Self::word_hashes) collects): word shingles hash
    /// each word once for both.
    pub fn shingles_and_words(
        &self,
        normalized: &str,
        out: &mut Vec<u64>,
        mut each_word: impl FnMut(u64),
    ) {
        if normalized.is_empty() {
            return;
        }
        match self.config.kind {
            ShingleKind::Word => self.words(normalized, out, each_word),
            ShingleKind::Char => {
                self.chars(normalized, out);
                self.each_word_hash(normalized, &mut each_word);
            }
        }
    }

    fn hash(&self, s: &str) -> u64 {
        xxh3_64_with_seed(s.as_bytes(), self.config.seed)
    }

    fn words(&self, text: &str, out: &mut Vec<u64>, mut each_word: impl FnMut(u64)) {
        let n = self.config.n;
        // Hashes of the last n words, as a ring: each word is hashed once, and an n-gram's
        // hash combines the hashes of its words.
        let mut ring = [0u64; MAX_N];
        let mut count = 0usize;
        for word in text.as_bytes().split(|&b| b == b' ') {
            if word.is_empty() {
                continue;
            }
            let h = xxh3_64_with_seed(word, self.config.seed);
            each_word(h);
            ring[count % n] = h;
            count += 1;
            if count >= n {
                out.push(combine((0..n).map(|j| ring[(count - n + j) % n])));
            }
        }
        if count > 0 && count < n {
            out.push(combine(ring[..count].iter().copied()));
        }
    }

    /// Appends the hash of every word of `normalized`, in order (the words themselves, not
    /// n-grams): short texts are verified exactly on these.
    pub fn word_hashes(&self, normalized: &str, out: &mut Vec<u64>) {
        out.extend(
            normalized
                .as_bytes()
                .split(|&b| b == b' ')
                .filter(|w| !w.is_empty())
                .map(|w| xxh3_64_with_seed(w, self.config.seed)),
        );
    }

    /// Calls `f` with the hash of each word of `normalized`, in order (the hashes
    /// [`word_hashes`](Self::word_hashes) collects).
    pub fn each_word_hash(&self, normalized: &str, mut f: impl FnMut(u64)) {
        for w in normalized.as_bytes().split(|&b| b == b' ') {
            if !w.is_empty() {
                f(xxh3_64_with_seed(w, self.config.seed));
            }
        }
    }

    fn chars(&self, text: &str, out: &mut Vec<u64>) {
        let n = self.config.n;
        let mut starts = [0usize; MAX_N];
        let mut count = 0usize;
        for (pos, _) in text.char_indices() {
            if count >= n {
                let first = starts[(count - n) % n];
                out.push(self.hash(&text[first..pos]));
            }
            starts[count % n] = pos;
            count += 1;
        }
        if count >= n {
            let first = starts[(count - n) % n];
            out.push(self.hash(&text[first..]));
        } else if count > 0 {
            out.push(self.hash(text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashes(kind: ShingleKind, n: usize, text: &str) -> Vec<u64> {
        let mut out = Vec::new();
        Shingler::new(ShingleConfig { kind, n, seed: 7 }).shingles(text, &mut out);
        out
    }

    fn h(s: &str) -> u64 {
        xxh3_64_with_seed(s.as_bytes(), 7)
    }

    /// The hash of a word n-gram, spelled out.
    fn w(s: &str) -> u64 {
        combine(s.split(' ').map(h))
    }

    #[test]
    fn word_ngrams_combine_word_hashes_in_order() {
        let got = hashes(ShingleKind::Word, 2, "قال الرئيس اليوم");
        assert_eq!(got, vec![w("قال الرئيس"), w("الرئيس اليوم")]);
        assert_ne!(w("قال الرئيس"), w("الرئيس قال"));
    }

    #[test]
    fn short_text_gives_one_shingle_of_the_whole() {
        assert_eq!(
            hashes(ShingleKind::Word, 5, "عاجل خبر"),
            vec![w("عاجل خبر")]
        );
        assert_eq!(hashes(ShingleKind::Char, 5, "خبر"), vec![h("خبر")]);
    }

    #[test]
    fn empty_text_gives_none() {
        assert!(hashes(ShingleKind::Word, 3, "").is_empty());
        assert!(hashes(ShingleKind::Char, 3, "").is_empty());
    }

    #[test]
    fn char_ngrams_count_scalar_values_not_bytes() {
        let got = hashes(ShingleKind::Char, 3, "غزة 1");
        assert_eq!(got, vec![h("غزة"), h("زة "), h("ة 1")]);
    }

    #[test]
    fn exact_length_gives_one_full_shingle() {
        assert_eq!(hashes(ShingleKind::Word, 2, "a b"), vec![w("a b")]);
        assert_eq!(hashes(ShingleKind::Char, 3, "abc"), vec![h("abc")]);
    }

    #[test]
    fn unigram_words() {
        assert_eq!(
            hashes(ShingleKind::Word, 1, "x y x"),
            vec![w("x"), w("y"), w("x")]
        );
    }

    #[test]
    fn kind_parses() {
        assert_eq!("char".parse::<ShingleKind>(), Ok(ShingleKind::Char));
        assert!("bytes".parse::<ShingleKind>().is_err());
    }
}
