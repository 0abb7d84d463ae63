//! Candidates for cross-length matching ([`crate::settings::Cross`]): the band keys of each
//! text's head.
//!
//! The signatures of a headline (word 1-grams) and of an article (weighted word 3-grams of its
//! whole text) never share a band, so verification would never see the pair. Every text
//! therefore gets a second set of band keys, from a MinHash of its head's words (its title, or
//! the whole of a bare headline), with the same bands × rows as the signatures: a headline, a
//! teaser and an article with (nearly) the same title meet in a bucket, and
//! [`Settings::linked`] decides. The keys are computed from the head's word hashes, which
//! every signed document keeps anyway, so they cost no memory in a batch run; an index and
//! `mukarrar sign` store them next to the signature's keys (band numbers after those of the
//! signature, [`Heads::band_number`]).

use rayon::prelude::*;

use crate::cluster::{self, LinkStats, UnionFind};
use crate::lsh::{self, LshParams};
use crate::minhash::MinHasher;
use crate::settings::{Settings, Signed};

/// Computes the band keys of heads.
#[derive(Debug, Clone)]
pub struct Heads {
    minhasher: MinHasher,
    params: LshParams,
}

impl Heads {
    /// The head bander of `settings` (which must be valid).
    pub fn new(settings: &Settings) -> Heads {
        Heads {
            minhasher: MinHasher::new(settings.minhash),
            params: settings.lsh,
        }
    }

    /// The key of band `band` of a head whose word hashes are `head` (not empty).
    pub fn key(&self, head: &[u64], band: usize) -> u64 {
        let mut rows = [0u32; 64];
        let r = self.params.rows;
        if r <= rows.len() {
            self.minhasher.sign_range(head, band * r, &mut rows[..r]);
            LshParams::rows_key(&rows[..r], band)
        } else {
            let mut rows = vec![0u32; r];
            self.minhasher.sign_range(head, band * r, &mut rows);
            LshParams::rows_key(&rows, band)
        }
    }

    /// Every band key of a head, band by band (none for an empty head).
    pub fn keys(&self, head: &[u64]) -> Vec<u64> {
        if head.is_empty() {
            return Vec::new();
        }
        (0..self.params.bands).map(|b| self.key(head, b)).collect()
    }

    /// Every band key a stored document is found under, as (band number, key): the
    /// signature's bands, then its head's ([`band_number`](Self::band_number)). None for an
    /// empty document.
    pub fn stored_keys(&self, doc: &Signed<'_>) -> Vec<(usize, u64)> {
        if doc.traits.is_empty() {
            return Vec::new();
        }
        let params = self.params;
        let mut keys: Vec<(usize, u64)> = (0..params.bands)
            .map(|b| (b, params.band_key(doc.sig, b)))
            .collect();
        let head = doc.head();
        if !head.is_empty() {
            keys.extend((0..params.bands).map(|b| (self.band_number(b), self.key(head, b))));
        }
        keys
    }

    /// The band number under which head band `band` is stored next to the signature's bands
    /// (an index's `bands` table, the Spark job's buckets): after them.
    pub fn band_number(&self, band: usize) -> usize {
        self.params.bands + band
    }
}

/// Links the pairs that share a head band key and that `linked` links, into `uf` (the union-find
/// of the signature bands' pairs): the cross-length candidates of a batch run. `head(i)` is
/// document `i`'s head word hashes (empty when it takes no part). Pairs already in one
/// cluster are not verified; large buckets are walked as the signature bands' are.
pub fn link_heads<'a>(
    heads: &Heads,
    n_docs: usize,
    head: &(dyn Fn(usize) -> &'a [u64] + Sync),
    uf: &mut UnionFind,
    linked: &(dyn Fn(u32, u32) -> bool + Sync),
) -> LinkStats {
    let mut stats = LinkStats::default();
    let bands: Vec<usize> = (0..heads.params.bands).collect();
    for round in bands.chunks(cluster::BANDS_PER_ROUND) {
        let keys: Vec<Vec<(u64, u32)>> = round
            .par_iter()
            .map(|&band| {
                let mut keys: Vec<(u64, u32)> = (0..n_docs)
                    .into_par_iter()
                    .filter(|&i| !head(i).is_empty())
                    .map(|i| (heads.key(head(i), band), i as u32))
                    .collect();
                keys.par_sort_unstable();
                keys
            })
            .collect();
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for band_keys in &keys {
            for run in lsh::runs(band_keys) {
                stats.buckets += 1;
                if run.len() > cluster::PARALLEL_BUCKET_LIMIT {
                    stats.verified +=
                        cluster::walk_bucket(run.iter().map(|&(_, d)| d), uf, linked, &|_, _| {
                            false
                        });
                    continue;
                }
                for i in 0..run.len() {
                    for j in i + 1..run.len() {
                        let (a, b) = (run[i].1, run[j].1);
                        if uf.find(a) != uf.find(b) {
                            pairs.push((a, b));
                        }
                    }
                }
            }
        }
        drop(keys);
        pairs.par_sort_unstable();
        pairs.dedup();
        stats.verified += pairs.len();
        let kept: Vec<(u32, u32)> = pairs
            .into_par_iter()
            .filter(|&(a, b)| linked(a, b))
            .collect();
        for (a, b) in kept {
            uf.union(a, b);
        }
    }
    stats
}

/// The distinct pairs that share a head band key, `a < b`, sorted: the cross-length
/// candidates for representative linkage.
pub fn head_pairs<'a>(
    heads: &Heads,
    n_docs: usize,
    head: &(dyn Fn(usize) -> &'a [u64] + Sync),
) -> Vec<(u32, u32)> {
    let per_band: Vec<Vec<(u32, u32)>> = (0..heads.params.bands)
        .into_par_iter()
        .map(|band| {
            let mut keys: Vec<(u64, u32)> = (0..n_docs)
                .filter(|&i| !head(i).is_empty())
                .map(|i| (heads.key(head(i), band), i as u32))
                .collect();
            keys.sort_unstable();
            let mut pairs = Vec::new();
            for run in lsh::runs(&keys) {
                for i in 0..run.len() {
                    for j in i + 1..run.len() {
                        pairs.push((run[i].1, run[j].1));
                    }
                }
            }
            pairs
        })
        .collect();
    let mut pairs: Vec<(u32, u32)> = per_band.into_iter().flatten().collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}
