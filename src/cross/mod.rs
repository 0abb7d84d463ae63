//! Candidates for cross-length matching ([`crate::settings::Cross`]): the band keys of each
//! text's head.
//!
//! The signatures of a headline (word 1-grams) and of an article (weighted word 3-grams of its
//! whole text) never share a band, so verification would never see the pair. Every text
//! therefore gets a second set of band keys, from a MinHash of its head's words (its title, or
//! the whole of a bare headline) other than the most common words of news ([`COMMON_WORDS`]),
//! banded for [`HEAD_CANDIDATES`]: a headline, a teaser and an
//! article with (nearly) the same title meet in a bucket, and
//! [`Settings::linked`] decides. The keys are computed from the head's word hashes, which
//! every signed document keeps anyway, so they cost no memory in a batch run; an index and
//! `mukarrar sign` store them next to the signature's keys (band numbers after those of the
//! signature, [`Heads::band_number`]).

use rayon::prelude::*;

use std::convert::Infallible;

use crate::cluster::{self, BucketVisitor, LinkStats, UnionFind};
use crate::lsh::{self, LshParams};
use crate::minhash::MinHasher;
use crate::settings::{Settings, Signed, HEAD_WORDS};
use crate::shingle::Shingler;

/// The head similarity the heads' bands are chosen for (25 bands × 5 rows of 128 slots).
///
/// Heads match at a word-set similarity of [`crate::settings::ShortText::threshold`] (0.75) or
/// through a long shared run, which leaves them at 0.5 or more in practice. Measured on the
/// mixed-length dev set and the dev corpus (BENCHMARKS.md, "Cross-length matching"): banding
/// for 0.3, as the signatures are, verified 339,484 head pairs on the dev corpus for the same
/// mixed-set recall that 0.5 reaches with 20,539; 0.6 and 0.7 lose headline–teaser pairs
/// (recall 0.966, 0.959 against 0.969).
pub const HEAD_CANDIDATES: f64 = 0.5;

/// The most frequent words of Arabic news, normalized, most frequent first: document
/// frequency in the bundled news corpus's titles and texts (`scripts/common-words`, digits
/// left out). Heads are banded without the first
/// [`Cross::common_words`](crate::settings::Cross::common_words) of them.
pub const COMMON_WORDS: &str = include_str!("common-words.txt");

/// How many of [`COMMON_WORDS`] heads are banded without, by default.
pub const DEFAULT_COMMON_WORDS: usize = 2000;

/// Computes the band keys of heads.
#[derive(Debug, Clone)]
pub struct Heads {
    minhasher: MinHasher,
    /// The hashes of the common words left out of heads' MinHash, sorted.
    common: Vec<u64>,
    params: LshParams,
    /// The signature's bands, numbered before the head's.
    signature: LshParams,
}

impl Heads {
    /// The head bander of `settings` (which must be valid).
    pub fn new(settings: &Settings) -> Heads {
        let shingler = Shingler::new(settings.shingle);
        let mut common = Vec::new();
        for word in COMMON_WORDS.lines().take(settings.cross.common_words) {
            shingler.word_hashes(word, &mut common);
        }
        common.sort_unstable();
        common.dedup();
        Heads {
            common,
            minhasher: MinHasher::new(settings.minhash),
            params: LshParams::choose(
                HEAD_CANDIDATES,
                settings.minhash.num_perm,
                settings.objective,
            ),
            signature: settings.lsh,
        }
    }

    /// The keys of bands `first..first + out.len()` of a head whose word hashes are `head`
    /// (not empty), into `out`: one pass over the head for all of their rows.
    pub fn keys_into(&self, head: &[u64], first: usize, out: &mut [u64]) {
        let mut buffer = [0u64; HEAD_WORDS];
        let head = self.informative(head, &mut buffer);
        let r = self.params.rows;
        let mut stack = [0u32; 128];
        let mut heap = Vec::new();
        let slots = if r * out.len() <= stack.len() {
            &mut stack[..r * out.len()]
        } else {
            heap.resize(r * out.len(), 0);
            &mut heap[..]
        };
        self.minhasher.sign_range(head, first * r, slots);
        for (j, key) in out.iter_mut().enumerate() {
            *key = rows_key(&slots[j * r..(j + 1) * r], first + j);
        }
    }

    /// The words of `head` that its band keys are made of: those that are not common words,
    /// or the whole head when fewer than two are left (a headline of common words only is
    /// still found by its copies).
    ///
    /// Unrelated headlines share common words ("في", "السعوديه", "وزير") far more often than
    /// any other, and a MinHash of eight words puts two heads that share two of them in one
    /// bucket of some band with a probability of about 1/1000: banding whole heads made the
    /// candidates of generated news grow with the square of the corpus (272,391 pairs verified
    /// for 200k documents and 1,031,228 for 400k, of which the signature's bands give 43,974
    /// and 87,928). Without the 2,000 most common words, 200k documents verify 46,360. Two
    /// heads of one story still meet: they share their informative words (names, places,
    /// events). Measured (BENCHMARKS.md, "Heads banded without the most common words"): the
    /// mixed-length dev set keeps precision 0.9939 and F1 0.9917 (0.9931 banding every word;
    /// headline–teaser recall 0.956 against 0.969), 1,000 words give 0.9925 but leave
    /// generated news quadratic, and the other dev sets do not change. The rule
    /// ([`Settings::linked`]) still compares whole heads: only the candidates change.
    fn informative<'h>(&self, head: &'h [u64], buffer: &'h mut [u64; HEAD_WORDS]) -> &'h [u64] {
        if self.common.is_empty() {
            return head;
        }
        let mut n = 0;
        for &w in head.iter().take(HEAD_WORDS) {
            if self.common.binary_search(&w).is_err() {
                buffer[n] = w;
                n += 1;
            }
        }
        if n < 2 {
            head
        } else {
            &buffer[..n]
        }
    }

    /// Every band key of a head, band by band (none for an empty head).
    pub fn keys(&self, head: &[u64]) -> Vec<u64> {
        if head.is_empty() {
            return Vec::new();
        }
        let mut keys = vec![0; self.params.bands];
        self.keys_into(head, 0, &mut keys);
        keys
    }

    /// The number of head bands.
    pub fn bands(&self) -> usize {
        self.params.bands
    }

    /// Every band key a stored document is found under, as (band number, key): the
    /// signature's bands, then its head's ([`band_number`](Self::band_number)). None for an
    /// empty document.
    pub fn stored_keys(&self, doc: &Signed<'_>) -> Vec<(usize, u64)> {
        if doc.traits.is_empty() {
            return Vec::new();
        }
        let mut keys: Vec<(usize, u64)> = (0..self.signature.bands)
            .map(|b| (b, self.signature.band_key(doc.sig, b)))
            .collect();
        let head = doc.head();
        if !head.is_empty() {
            let own = self.keys(head).into_iter().enumerate();
            keys.extend(own.map(|(b, key)| (self.band_number(b), key)));
        }
        keys
    }

    /// The band number under which head band `band` is stored next to the signature's bands
    /// (an index's `bands` table, the Spark job's buckets): after them.
    pub fn band_number(&self, band: usize) -> usize {
        self.signature.bands + band
    }
}

/// The key of head band `band` whose rows are `rows`: a multiply–xorshift fold, cheaper than
/// the signature bands' xxh3 for the few rows of a head band (its keys are only compared with
/// other head keys).
fn rows_key(rows: &[u32], band: usize) -> u64 {
    let mut h = (band as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for &r in rows {
        h = (h ^ u64::from(r)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h ^= h >> 31;
    }
    h
}

/// The buckets of the heads' bands, a few consecutive bands at a time, from head word hashes
/// in memory (a [`cluster::BucketSource`]); `head(i)` is document `i`'s head word hashes,
/// empty when it takes no part. Each head is hashed once per round for all of its bands.
pub fn in_memory_head_buckets<'a, 's>(
    heads: &'s Heads,
    n_docs: usize,
    head: &'s (dyn Fn(usize) -> &'a [u64] + Sync),
) -> impl FnMut(&[usize], &mut BucketVisitor<'_>) -> Result<(), Infallible> + use<'a, 's> {
    move |round, f| {
        let Some(&first) = round.first() else {
            return Ok(());
        };
        let mut done = 0;
        // Rounds longer than the key array are read in parts.
        while done < round.len() {
            let part = (round.len() - done).min(cluster::BANDS_PER_ROUND);
            let start = first + done;
            let per_doc: Vec<(u32, [u64; cluster::BANDS_PER_ROUND])> = (0..n_docs)
                .into_par_iter()
                .filter(|&i| !head(i).is_empty())
                .map(|i| {
                    let mut keys = [0; cluster::BANDS_PER_ROUND];
                    heads.keys_into(head(i), start, &mut keys[..part]);
                    (i as u32, keys)
                })
                .collect();
            let keys: Vec<Vec<(u64, u32)>> = (0..part)
                .into_par_iter()
                .map(|j| {
                    let mut keys: Vec<(u64, u32)> =
                        per_doc.iter().map(|(i, k)| (k[j], *i)).collect();
                    keys.sort_unstable();
                    keys
                })
                .collect();
            drop(per_doc);
            for (j, band_keys) in keys.iter().enumerate() {
                for run in lsh::runs(band_keys) {
                    f(start + j, run);
                }
            }
            done += part;
        }
        Ok(())
    }
}

/// Links the pairs that share a head band key and that `linked` links, into `uf` (the union-find
/// of the signature bands' pairs): the cross-length candidates of a batch run. `head(i)` is
/// document `i`'s head word hashes (empty when it takes no part). Pairs already in one
/// cluster are not verified; large buckets are walked as the signature bands' are
/// ([`cluster::link_buckets_into`]).
pub fn link_heads<'a>(
    heads: &Heads,
    n_docs: usize,
    head: &(dyn Fn(usize) -> &'a [u64] + Sync),
    uf: &mut UnionFind,
    linked: &(dyn Fn(u32, u32) -> bool + Sync),
) -> LinkStats {
    let done = cluster::link_buckets_into(
        uf,
        heads.bands(),
        &mut in_memory_head_buckets(heads, n_docs, head),
        &|_, _, _| false,
        &|a, b, _| Some(linked(a, b)),
    );
    cluster::infallible(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shingle::Shingler;

    fn hashes(settings: &Settings, text: &str) -> Vec<u64> {
        let mut out = Vec::new();
        Shingler::new(settings.shingle).word_hashes(text, &mut out);
        out
    }

    #[test]
    fn heads_are_banded_without_common_words() {
        let settings = Settings::default();
        let heads = Heads::new(&settings);
        let common: Vec<&str> = COMMON_WORDS.lines().take(5).collect();
        assert_eq!(common[0], "في");
        // Two heads that differ only in common words have the same keys.
        let a = hashes(
            &settings,
            &format!("{} كاميرون بيرمنغهام {}", common[0], common[1]),
        );
        let b = hashes(
            &settings,
            &format!("كاميرون {} {} بيرمنغهام", common[2], common[3]),
        );
        assert_eq!(heads.keys(&a), heads.keys(&b));
        // Two heads of the same common words and different informative ones share none.
        let c = hashes(
            &settings,
            &format!("{} نيوكاسل ليفربول {}", common[0], common[1]),
        );
        let shared = heads
            .keys(&a)
            .iter()
            .zip(heads.keys(&c))
            .filter(|(x, y)| **x == *y)
            .count();
        assert_eq!(shared, 0);
    }

    #[test]
    fn a_head_of_fewer_than_two_informative_words_is_banded_whole() {
        let settings = Settings::default();
        let heads = Heads::new(&settings);
        let common: Vec<&str> = COMMON_WORDS.lines().take(4).collect();
        let a = hashes(&settings, &format!("{} {} كاميرون", common[0], common[1]));
        let b = hashes(&settings, &format!("{} {} كاميرون", common[2], common[3]));
        assert_ne!(heads.keys(&a), heads.keys(&b));
        assert_eq!(
            heads.keys(&a),
            heads.keys(&a.iter().rev().copied().collect::<Vec<_>>())
        );
    }

    #[test]
    fn settings_stored_without_the_common_words_band_every_word() {
        let mut value = serde_json::to_value(Settings::default()).unwrap();
        value["cross"]
            .as_object_mut()
            .unwrap()
            .remove("common_words");
        let stored: Settings = serde_json::from_value(value).unwrap();
        assert_eq!(stored.cross.common_words, 0);
        assert_eq!(Settings::default().cross.common_words, DEFAULT_COMMON_WORDS);
        let (old, new) = (Heads::new(&stored), Heads::new(&Settings::default()));
        let a = hashes(&stored, "في كاميرون بيرمنغهام");
        let b = hashes(&stored, "كاميرون بيرمنغهام");
        assert_ne!(old.keys(&a), old.keys(&b));
        assert_eq!(new.keys(&a), new.keys(&b));
    }
}
