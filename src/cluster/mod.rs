//! Verification and clustering: which candidates are kept, how they group, who represents a
//! group.
//!
//! LSH proposes candidates; a candidate pair is kept only when its similarity reaches the
//! threshold. Kept pairs are joined with a union-find, so the clusters are the connected
//! components of the graph of kept pairs. Components do not depend on the order in which
//! pairs are looked at, which is what makes the result identical for any thread count.

mod union_find;

use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::lsh::{Bucket, LshParams};
use crate::minhash;
pub use union_find::UnionFind;

/// How a candidate pair's similarity is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verify {
    /// Estimated from the MinHash signatures (fast, no shingle sets kept).
    #[default]
    Estimate,
    /// Exact Jaccard over the shingle sets (kept in memory for the whole run).
    Exact,
}

impl Verify {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Verify::Estimate => "estimate",
            Verify::Exact => "exact",
        }
    }
}

impl fmt::Display for Verify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Verify {
    type Err = String;
    fn from_str(s: &str) -> Result<Verify, String> {
        match s {
            "estimate" => Ok(Verify::Estimate),
            "exact" => Ok(Verify::Exact),
            _ => Err(format!(
                "unknown verification `{s}` (expected estimate or exact)"
            )),
        }
    }
}

/// What similarity a pair is measured by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    /// Jaccard: |A ∩ B| / |A ∪ B|.
    #[default]
    Jaccard,
    /// Containment of the smaller set: |A ∩ B| / min(|A|, |B|). An excerpt that keeps most of
    /// a story scores high against the whole story.
    Containment,
}

impl Measure {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Jaccard => "jaccard",
            Measure::Containment => "containment",
        }
    }

    /// The measure over two sorted, deduplicated shingle sets.
    pub fn exact(self, a: &[u64], b: &[u64]) -> f64 {
        match self {
            Measure::Jaccard => minhash::jaccard(a, b),
            Measure::Containment => {
                let smaller = a.len().min(b.len());
                if smaller == 0 {
                    0.0
                } else {
                    minhash::intersection(a, b) as f64 / smaller as f64
                }
            }
        }
    }

    /// The measure estimated from two signatures and the sizes of their shingle sets: the
    /// Jaccard estimate `J` gives |A ∩ B| ≈ J (|A| + |B|) / (1 + J).
    pub fn estimate(self, a: &[u32], size_a: u32, b: &[u32], size_b: u32) -> f64 {
        let j = minhash::estimate(a, b);
        match self {
            Measure::Jaccard => j,
            Measure::Containment => {
                let smaller = size_a.min(size_b);
                if smaller == 0 {
                    return 0.0;
                }
                let inter = j * (size_a as f64 + size_b as f64) / (1.0 + j);
                (inter / smaller as f64).min(1.0)
            }
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Measure {
    type Err = String;
    fn from_str(s: &str) -> Result<Measure, String> {
        match s {
            "jaccard" => Ok(Measure::Jaccard),
            "containment" => Ok(Measure::Containment),
            _ => Err(format!(
                "unknown measure `{s}` (expected jaccard or containment)"
            )),
        }
    }
}

/// Which member represents a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Representative {
    /// The member that came first in the input.
    #[default]
    First,
    /// The member with the longest original text (the first of equals).
    Longest,
}

impl Representative {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Representative::First => "first",
            Representative::Longest => "longest",
        }
    }
}

impl fmt::Display for Representative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Representative {
    type Err = String;
    fn from_str(s: &str) -> Result<Representative, String> {
        match s {
            "first" => Ok(Representative::First),
            "longest" => Ok(Representative::Longest),
            _ => Err(format!(
                "unknown representative `{s}` (expected first or longest)"
            )),
        }
    }
}

/// Buckets up to this size have all their pairs verified in parallel; larger ones are walked
/// sequentially, skipping pairs that are already in one component.
const PARALLEL_BUCKET_LIMIT: usize = 64;

/// Every distinct candidate pair (two members of one bucket), `a < b`, sorted, from buckets of
/// up to `limit` members.
fn candidate_pairs(buckets: &[Bucket], limit: usize) -> Vec<(u32, u32)> {
    let mut pairs: Vec<(u32, u32)> = buckets
        .par_iter()
        .filter(|b| b.members.len() <= limit)
        .flat_map_iter(|b| {
            let m = &b.members;
            (0..m.len()).flat_map(move |i| (i + 1..m.len()).map(move |j| (m[i], m[j])))
        })
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

/// Joins every candidate pair (two members of one bucket) for which `linked(a, b)` holds:
/// the clusters are the connected components of the verified pairs. `linked` must be
/// symmetric.
pub fn link(
    n_docs: usize,
    buckets: &[Bucket],
    linked: &(dyn Fn(u32, u32) -> bool + Sync),
) -> UnionFind {
    let kept: Vec<(u32, u32)> = candidate_pairs(buckets, PARALLEL_BUCKET_LIMIT)
        .into_par_iter()
        .filter(|&(a, b)| linked(a, b))
        .collect();
    let mut uf = UnionFind::new(n_docs);
    for (a, b) in kept {
        uf.union(a, b);
    }
    for bucket in buckets
        .iter()
        .filter(|b| b.members.len() > PARALLEL_BUCKET_LIMIT)
    {
        let m = &bucket.members;
        for i in 0..m.len() {
            for j in i + 1..m.len() {
                if uf.find(m[i]) != uf.find(m[j]) && linked(m[i], m[j]) {
                    uf.union(m[i], m[j]);
                }
            }
        }
    }
    uf
}

/// Counts of the banding and verification work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Candidate buckets (two or more documents sharing a band key), over all bands.
    pub buckets: usize,
    /// Candidate pairs verified (pairs already in one cluster are not).
    pub verified: usize,
}

/// Bands processed together: their keys are built and sorted in parallel, and their candidate
/// pairs verified in parallel, while memory holds only these bands' keys.
const BANDS_PER_ROUND: usize = 4;

/// Single linkage straight from the signatures, band by band: the clusters are the connected
/// components of candidate pairs (two documents sharing a band key) for which `linked` holds.
///
/// Each round sorts a few bands' keys, collects the pairs of every bucket whose documents are
/// not yet in one cluster, verifies them in parallel and joins the linked ones. A pair of
/// documents already joined through an earlier band is never verified again, so duplicates cost
/// one verification each, and memory holds a few bands at a time. The components do not
/// depend on the order of the work, hence not on the number of threads.
pub fn link_bands<'a>(
    params: LshParams,
    n_docs: usize,
    active: &(dyn Fn(usize) -> bool + Sync),
    signature: &(dyn Fn(usize) -> &'a [u32] + Sync),
    linked: &(dyn Fn(u32, u32) -> bool + Sync),
) -> (UnionFind, LinkStats) {
    let mut uf = UnionFind::new(n_docs);
    let mut stats = LinkStats::default();
    let bands: Vec<usize> = (0..params.bands).collect();
    for round in bands.chunks(BANDS_PER_ROUND) {
        let keys: Vec<Vec<(u64, u32)>> = round
            .par_iter()
            .map(|&band| crate::lsh::band_keys(params, band, n_docs, active, signature))
            .collect();
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for band in &keys {
            for run in crate::lsh::runs(band) {
                stats.buckets += 1;
                if run.len() > PARALLEL_BUCKET_LIMIT {
                    // A huge bucket: walk it here, skipping pairs joined meanwhile.
                    for i in 0..run.len() {
                        for j in i + 1..run.len() {
                            let (a, b) = (run[i].1, run[j].1);
                            if uf.find(a) != uf.find(b) {
                                stats.verified += 1;
                                if linked(a, b) {
                                    uf.union(a, b);
                                }
                            }
                        }
                    }
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
    (uf, stats)
}

/// Representative linkage: verified pairs are taken from the most similar down, and two
/// clusters merge only when every member of the merged cluster is linked to its first member
/// (the representative). Look-alikes then cannot chain distinct stories into one cluster.
/// Returns the clusters of two or more, each sorted, ordered by first member.
pub fn link_representative(
    n_docs: usize,
    buckets: &[Bucket],
    similarity: &(dyn Fn(u32, u32) -> f64 + Sync),
    linked: &(dyn Fn(u32, u32) -> bool + Sync),
) -> Vec<Vec<u32>> {
    let mut edges: Vec<(f64, u32, u32)> = candidate_pairs(buckets, usize::MAX)
        .into_par_iter()
        .filter(|&(a, b)| linked(a, b))
        .map(|(a, b)| (similarity(a, b), a, b))
        .collect();
    edges.sort_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    let mut uf = UnionFind::new(n_docs);
    let mut members: Vec<Vec<u32>> = (0..n_docs as u32).map(|i| vec![i]).collect();
    for (_, a, b) in edges {
        let (ra, rb) = (uf.find(a), uf.find(b));
        if ra == rb {
            continue;
        }
        let rep = members[ra as usize][0].min(members[rb as usize][0]);
        let ok = members[ra as usize]
            .iter()
            .chain(&members[rb as usize])
            .all(|&m| m == rep || linked(rep.min(m), rep.max(m)));
        if ok {
            uf.union(ra, rb);
            let root = uf.find(ra);
            let mut merged = std::mem::take(&mut members[ra as usize]);
            merged.append(&mut members[rb as usize]);
            merged.sort_unstable();
            members[root as usize] = merged;
        }
    }
    uf.groups()
}

/// One cluster of document indices.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Member document indices, ascending.
    pub members: Vec<u32>,
    /// The representative's index (one of `members`).
    pub representative: u32,
    /// Each member's similarity to the representative, in `members` order.
    pub similarities: Vec<f64>,
}

/// Turns clusters into groups: picks each representative (`length(i)` is document `i`'s
/// original text length) and measures every member against it.
pub fn groups(
    clusters: Vec<Vec<u32>>,
    representative: Representative,
    length: &(dyn Fn(u32) -> usize + Sync),
    similarity: &(dyn Fn(u32, u32) -> f64 + Sync),
) -> Vec<Group> {
    clusters
        .into_par_iter()
        .map(|members| {
            let rep = match representative {
                Representative::First => members[0],
                Representative::Longest => {
                    let mut best = members[0];
                    for &m in &members[1..] {
                        if length(m) > length(best) {
                            best = m;
                        }
                    }
                    best
                }
            };
            let similarities = members
                .iter()
                .map(|&m| if m == rep { 1.0 } else { similarity(rep, m) })
                .collect();
            Group {
                members,
                representative: rep,
                similarities,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim_table(pairs: &[(u32, u32, f64)]) -> impl Fn(u32, u32) -> f64 + Sync + '_ {
        move |a, b| {
            let (a, b) = (a.min(b), a.max(b));
            pairs
                .iter()
                .find(|p| p.0 == a && p.1 == b)
                .map_or(0.0, |p| p.2)
        }
    }

    #[test]
    fn only_verified_pairs_join() {
        let buckets = vec![Bucket {
            band: 0,
            members: vec![0, 1, 2, 3],
        }];
        let sims = [(0, 1, 0.9), (2, 3, 0.4), (1, 2, 0.5)];
        let sim = sim_table(&sims);
        let mut uf = link(5, &buckets, &|a, b| sim(a, b) >= 0.5);
        assert_eq!(uf.groups(), vec![vec![0, 1, 2]]);
    }

    #[test]
    fn large_buckets_give_the_same_components() {
        let n = 200u32;
        let members: Vec<u32> = (0..n).collect();
        let buckets = vec![Bucket { band: 0, members }];
        // Even documents are similar to each other; odd ones to nothing.
        let sim = |a: u32, b: u32| if a % 2 == 0 && b % 2 == 0 { 1.0 } else { 0.0 };
        let mut uf = link(n as usize, &buckets, &|a, b| sim(a, b) >= 0.5);
        let g = uf.groups();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0], (0..n).filter(|x| x % 2 == 0).collect::<Vec<_>>());
    }

    #[test]
    fn containment_estimate_follows_the_sets() {
        use crate::minhash::{MinHashConfig, MinHasher};
        let m = MinHasher::new(MinHashConfig {
            num_perm: 256,
            seed: 3,
        });
        let whole: Vec<u64> = (0..1000u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        let excerpt = &whole[..600];
        let (a, b) = (m.sign(&whole), m.sign(excerpt));
        let exact = Measure::Containment.exact(
            &minhash::to_set(whole.clone()),
            &minhash::to_set(excerpt.to_vec()),
        );
        assert_eq!(exact, 1.0);
        let est = Measure::Containment.estimate(&a, 1000, &b, 600);
        assert!((est - 1.0).abs() < 0.1, "{est}");
        let j = Measure::Jaccard.estimate(&a, 1000, &b, 600);
        assert!((j - 0.6).abs() < 0.1, "{j}");
    }

    #[test]
    fn banded_linking_equals_bucket_linking() {
        use crate::lsh::{buckets, LshParams};
        // Random small signatures so that many buckets form; linked = equal first slot parity.
        let n = 300usize;
        let sigs: Vec<Vec<u32>> = (0..n as u32)
            .map(|i| {
                (0..8u32)
                    .map(|j| (i.wrapping_mul(2654435761) >> (j * 3)) % 5)
                    .collect()
            })
            .collect();
        let params = LshParams { bands: 4, rows: 2 };
        let linked = |a: u32, b: u32| (sigs[a as usize][7] + sigs[b as usize][6]) % 2 == 0;
        let sig = |i: usize| sigs[i].as_slice();
        let all = buckets(params, n, &|_| true, &sig);
        let mut expected = link(n, &all, &linked);
        let (mut got, stats) = link_bands(params, n, &|_| true, &sig, &linked);
        assert_eq!(got.groups(), expected.groups());
        assert_eq!(stats.buckets, all.len());
    }

    #[test]
    fn representative_linkage_does_not_chain() {
        // 0-1 and 1-2 are linked, 0-2 is not: single linkage chains all three,
        // representative linkage keeps 2 out.
        let buckets = vec![Bucket {
            band: 0,
            members: vec![0, 1, 2],
        }];
        let sims = [(0, 1, 0.9), (1, 2, 0.8), (0, 2, 0.2)];
        let sim = sim_table(&sims);
        let linked = |a: u32, b: u32| sim(a, b) >= 0.5;
        assert_eq!(link(3, &buckets, &linked).groups(), vec![vec![0, 1, 2]]);
        assert_eq!(
            link_representative(3, &buckets, &sim, &linked),
            vec![vec![0, 1]]
        );
    }

    #[test]
    fn representative_choice() {
        let mut uf = UnionFind::new(3);
        uf.union(0, 1);
        uf.union(1, 2);
        let lens = [5usize, 9, 9];
        let sim = |_a: u32, _b: u32| 0.75;
        let first = groups(
            uf.groups(),
            Representative::First,
            &|i| lens[i as usize],
            &sim,
        );
        assert_eq!(first[0].representative, 0);
        assert_eq!(first[0].similarities, vec![1.0, 0.75, 0.75]);
        let longest = groups(
            uf.groups(),
            Representative::Longest,
            &|i| lens[i as usize],
            &sim,
        );
        assert_eq!(longest[0].representative, 1);
        assert_eq!(longest[0].similarities, vec![0.75, 1.0, 0.75]);
    }
}
