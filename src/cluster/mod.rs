//! Verification and clustering: which candidates are kept, how they group, who represents a
//! group.
//!
//! LSH proposes candidates; a candidate pair is kept only when its similarity reaches the
//! threshold. Kept pairs are joined with a union-find, so the clusters are the connected
//! components of the graph of kept pairs. Components do not depend on the order in which
//! pairs are looked at, which is what makes the result identical for any thread count.

mod union_find;

use std::collections::HashMap;
use std::convert::Infallible;
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
/// sequentially by [`walk_bucket`].
pub(crate) const PARALLEL_BUCKET_LIMIT: usize = 64;

/// True when `a` and `b` agree on every row of some band before `band`: the pair was a
/// candidate in that earlier band and was dealt with there (verified, or already in one
/// cluster), so it need not be verified again. Equal rows give equal band keys, so this never
/// skips a pair that an earlier band did not see.
#[inline]
pub fn shares_earlier_band(params: LshParams, a: &[u32], b: &[u32], band: usize) -> bool {
    let r = params.rows;
    (0..band).any(|t| a[t * r..(t + 1) * r] == b[t * r..(t + 1) * r])
}

/// Single linkage inside one bucket of any size, in O(size) verifications when its members
/// are alike.
///
/// Members are taken in order. The bucket's members seen so far are kept as groups, one per
/// cluster; a new member is compared with each other group's members until one is linked to
/// it, and every group it links to merges with it. Pairs in one cluster are never verified
/// and a group stops at its first linked member, so a bucket of n copies or near-copies costs
/// n − 1 verifications, where trying every pair cost n²/2 checks. Members that link to
/// nothing are still compared with every group, as they must be: the components are exactly
/// those of verifying every pair. `verify(a, b)` is `None` for a pair known not to need
/// verifying (dealt with in an earlier band), else whether the pair is linked; returns the
/// number of pairs verified.
pub(crate) fn walk_bucket(
    members: impl Iterator<Item = u32>,
    uf: &mut UnionFind,
    verify: &dyn Fn(u32, u32) -> Option<bool>,
) -> usize {
    let mut verified = 0;
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for m in members {
        let mut home: Option<usize> = None;
        let mut g = 0;
        while g < groups.len() {
            let joined = uf.find(groups[g][0]) == uf.find(m)
                || groups[g].iter().any(|&x| {
                    let (a, b) = (x.min(m), x.max(m));
                    verify(a, b).is_some_and(|linked| {
                        verified += 1;
                        linked
                    })
                });
            if !joined {
                g += 1;
                continue;
            }
            uf.union(groups[g][0], m);
            match home {
                None => {
                    groups[g].push(m);
                    home = Some(g);
                    g += 1;
                }
                Some(h) => {
                    // `h < g`, so the group swapped into `g` is not `h`; look at it next.
                    let merged = groups.swap_remove(g);
                    groups[h].extend(merged);
                }
            }
        }
        if home.is_none() {
            groups.push(vec![m]);
        }
    }
    verified
}

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
        walk_bucket(bucket.members.iter().copied(), &mut uf, &|a, b| {
            Some(linked(a, b))
        });
    }
    uf
}

/// Exact copies: for every document, the first document (smallest index) whose verification
/// inputs are identical to its own, or itself.
///
/// Documents with the same signature, traits, word hashes and (with exact verification)
/// shingle set are indistinguishable to [`crate::settings::Settings::linked`]: linked to each
/// other (similarity 1) and to exactly the same other documents. So they belong to one cluster,
/// and clustering only the first of each set of copies and then adding the copies to its
/// cluster gives the clusters of clustering them all. A flood of n copies then costs one
/// sort of n identity hashes instead of n buckets of n in every band. Inactive documents
/// (empty after normalization) are never copies.
///
/// `identity(i)` hashes what `same(a, b)` compares; equal hashes are confirmed by `same`, so a
/// hash collision never joins two different documents.
pub fn exact_copies(
    n_docs: usize,
    active: &(dyn Fn(usize) -> bool + Sync),
    identity: &(dyn Fn(usize) -> u64 + Sync),
    same: &(dyn Fn(u32, u32) -> bool + Sync),
) -> Vec<u32> {
    let mut first: Vec<u32> = (0..n_docs as u32).collect();
    let mut hashed: Vec<(u64, u32)> = (0..n_docs)
        .into_par_iter()
        .filter(|&i| active(i))
        .map(|i| (identity(i), i as u32))
        .collect();
    hashed.par_sort_unstable();
    for run in hashed.chunk_by(|x, y| x.0 == y.0).filter(|r| r.len() > 1) {
        // Usually one set of copies per hash; a collision adds another leader.
        let mut leaders: Vec<u32> = Vec::new();
        for &(_, d) in run {
            match leaders.iter().find(|&&l| same(l, d)) {
                Some(&l) => first[d as usize] = l,
                None => leaders.push(d),
            }
        }
    }
    first
}

/// The identity hash of a signed document for [`exact_copies`]: everything verification reads.
pub fn identity(doc: &crate::settings::Signed<'_>) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut bytes: Vec<u8> = Vec::with_capacity(4 * doc.sig.len() + 8 * doc.words.len() + 16);
    bytes.extend(doc.sig.iter().flat_map(|v| v.to_le_bytes()));
    bytes.extend(doc.traits.shingles.to_le_bytes());
    bytes.push(doc.traits.short as u8);
    bytes.extend(doc.traits.numbers.to_le_bytes());
    bytes.extend(doc.traits.head.to_le_bytes());
    bytes.extend(doc.traits.head_numbers.to_le_bytes());
    bytes.extend(doc.words.iter().flat_map(|v| v.to_le_bytes()));
    h.update(&bytes);
    if let Some(set) = doc.set {
        bytes.clear();
        bytes.extend(set.iter().flat_map(|v| v.to_le_bytes()));
        h.update(&bytes);
    }
    h.digest()
}

/// True when two signed documents are exact copies for verification (see [`exact_copies`]).
pub fn same(a: &crate::settings::Signed<'_>, b: &crate::settings::Signed<'_>) -> bool {
    a.sig == b.sig && a.traits == b.traits && a.words == b.words && a.set == b.set
}

/// Counts of the banding and verification work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Candidate buckets (two or more documents sharing a band key), over all bands.
    pub buckets: usize,
    /// Distinct candidate pairs verified: a pair is verified at most once, in the first band
    /// it shares, and not at all when its documents are already in one cluster.
    pub verified: usize,
}

/// Bands processed together: their keys are built and sorted in parallel, and their candidate
/// pairs verified in parallel, while memory holds only these bands' keys.
pub(crate) const BANDS_PER_ROUND: usize = 4;

/// Single linkage straight from the signatures, band by band: the clusters are the connected
/// components of candidate pairs (two documents sharing a band key) for which `linked` holds.
///
/// Each round sorts a few bands' keys, collects the pairs of every small bucket whose
/// documents are not yet in one cluster and do not share an earlier band, verifies them in
/// parallel and joins the linked ones; a large bucket is walked by [`walk_bucket`], which
/// costs a linear number of verifications when its members are alike. A pair is verified at
/// most once over all bands, and memory holds a few bands at a time. The components do not
/// depend on the order of the work, hence not on the number of threads.
pub fn link_bands<'a>(
    params: LshParams,
    n_docs: usize,
    active: &(dyn Fn(usize) -> bool + Sync),
    signature: &(dyn Fn(usize) -> &'a [u32] + Sync),
    linked: &(dyn Fn(u32, u32) -> bool + Sync),
) -> (UnionFind, LinkStats) {
    let earlier = |a: u32, b: u32, band: usize| {
        shares_earlier_band(params, signature(a as usize), signature(b as usize), band)
    };
    let linked_bands = link_buckets(
        n_docs,
        params.bands,
        &mut in_memory_buckets(params, n_docs, active, signature),
        &earlier,
        &|a, b, _| Some(linked(a, b)),
    );
    infallible(linked_bands)
}

/// The value of a result that cannot be an error (buckets read from memory).
pub(crate) fn infallible<T>(result: Result<T, Infallible>) -> T {
    match result {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// `f(band, bucket)`: called for every bucket of a band (see [`link_buckets`]).
pub type BucketVisitor<'f> = dyn FnMut(usize, &[(u64, u32)]) + 'f;

/// `buckets(bands, f)`: calls `f` for every bucket of the given bands (see [`link_buckets`]).
pub type BucketSource<'b, E> = dyn FnMut(&[usize], &mut BucketVisitor<'_>) -> Result<(), E> + 'b;

/// The buckets of a few bands at a time, from signatures in memory: their keys are built and
/// sorted in parallel, and `f(band, bucket)` called for every bucket, band by band.
pub fn in_memory_buckets<'a, 's>(
    params: LshParams,
    n_docs: usize,
    active: &'s (dyn Fn(usize) -> bool + Sync),
    signature: &'s (dyn Fn(usize) -> &'a [u32] + Sync),
) -> impl FnMut(&[usize], &mut BucketVisitor<'_>) -> Result<(), Infallible> + use<'a, 's> {
    move |round, f| {
        let keys: Vec<Vec<(u64, u32)>> = round
            .par_iter()
            .map(|&band| crate::lsh::band_keys(params, band, n_docs, active, signature))
            .collect();
        for (&band, band_keys) in round.iter().zip(&keys) {
            for run in crate::lsh::runs(band_keys) {
                f(band, run);
            }
        }
        Ok(())
    }
}

/// Single linkage from buckets however they are stored: the clusters are the connected
/// components of candidate pairs (two documents in one bucket) that verify as linked.
///
/// `buckets(bands, f)` calls `f(band, bucket)` for every bucket of the given bands (a bucket
/// is a run of two or more entries of one key, sorted by document), bands in order;
/// [`in_memory_buckets`] does it from signatures in memory, [`crate::spill::BandFiles`] from
/// keys on disk. `earlier(a, b, band)` says cheaply, where it can, that a pair shares a band
/// before `band` (it was dealt with there); `verify(a, b, band)` is `None` for such a pair
/// and otherwise whether it is linked. The earlier check runs while buckets are read when it
/// is cheap (signatures in memory), else inside `verify`, in parallel: the pairs verified are
/// the same either way.
///
/// Each round reads a few bands' buckets, collects the pairs of every small bucket whose
/// documents are not yet in one cluster, verifies them in parallel and joins the linked ones;
/// a large bucket is walked by [`walk_bucket`], which costs a linear number of verifications
/// when its members are alike. A pair is verified at most once over all bands. The components
/// do not depend on the order of the work, hence not on the number of threads.
pub fn link_buckets<E>(
    n_docs: usize,
    bands: usize,
    buckets: &mut BucketSource<'_, E>,
    earlier: &(dyn Fn(u32, u32, usize) -> bool + Sync),
    verify: &(dyn Fn(u32, u32, usize) -> Option<bool> + Sync),
) -> Result<(UnionFind, LinkStats), E> {
    let mut uf = UnionFind::new(n_docs);
    let stats = link_buckets_into(&mut uf, bands, buckets, earlier, verify)?;
    Ok((uf, stats))
}

/// [`link_buckets`] into the union-find `uf`, which may already hold links (those of the
/// signature's bands, when the heads' bands are read: [`crate::cross`]); pairs already in one
/// cluster are not verified.
pub fn link_buckets_into<E>(
    uf: &mut UnionFind,
    bands: usize,
    buckets: &mut BucketSource<'_, E>,
    earlier: &(dyn Fn(u32, u32, usize) -> bool + Sync),
    verify: &(dyn Fn(u32, u32, usize) -> Option<bool> + Sync),
) -> Result<LinkStats, E> {
    let mut stats = LinkStats::default();
    let all: Vec<usize> = (0..bands).collect();
    for round in all.chunks(BANDS_PER_ROUND) {
        let mut pairs: Vec<(u32, u32, u32)> = Vec::new();
        buckets(round, &mut |band, run| {
            stats.buckets += 1;
            if run.len() > PARALLEL_BUCKET_LIMIT {
                let verify = |a: u32, b: u32| {
                    if earlier(a, b, band) {
                        None
                    } else {
                        verify(a, b, band)
                    }
                };
                stats.verified += walk_bucket(run.iter().map(|&(_, d)| d), uf, &verify);
                return;
            }
            for i in 0..run.len() {
                for j in i + 1..run.len() {
                    let (a, b) = (run[i].1, run[j].1);
                    if uf.find(a) != uf.find(b) && !earlier(a, b, band) {
                        pairs.push((a, b, band as u32));
                    }
                }
            }
        })?;
        // A pair met in two bands of this round is verified in the first.
        pairs.par_sort_unstable();
        pairs.dedup_by_key(|&mut (a, b, _)| (a, b));
        let checked: Vec<(u32, u32, Option<bool>)> = pairs
            .into_par_iter()
            .map(|(a, b, band)| (a, b, verify(a, b, band as usize)))
            .collect();
        for (a, b, linked) in checked {
            match linked {
                None => {}
                Some(linked) => {
                    stats.verified += 1;
                    if linked {
                        uf.union(a, b);
                    }
                }
            }
        }
    }
    Ok(stats)
}

/// Representative linkage: verified pairs are taken from the most similar down, and two
/// clusters merge only when every member of the merged cluster is linked to its first member
/// (the representative). Look-alikes then cannot chain distinct stories into one cluster.
/// Returns the clusters of two or more, each sorted, ordered by first member, and the counts.
///
/// Candidate pairs are gathered band by band, each pair once (in the first band it shares),
/// so memory holds the distinct candidate pairs, not one copy per shared band. Exact copies
/// are best left out by the caller (see [`exact_copies`]): every pair of them would be an
/// edge.
pub fn link_representative<'a>(
    params: LshParams,
    n_docs: usize,
    active: &(dyn Fn(usize) -> bool + Sync),
    signature: &(dyn Fn(usize) -> &'a [u32] + Sync),
    similarity: &(dyn Fn(u32, u32) -> f64 + Sync),
    linked: &(dyn Fn(u32, u32) -> bool + Sync),
) -> (Vec<Vec<u32>>, LinkStats) {
    let earlier = |a: u32, b: u32, band: usize| {
        shares_earlier_band(params, signature(a as usize), signature(b as usize), band)
    };
    let done = link_representative_buckets(
        n_docs,
        params.bands,
        &mut in_memory_buckets(params, n_docs, active, signature),
        (0, &mut |_, _| Ok(())),
        &earlier,
        &|a, b, _| Some(linked(a, b)),
        similarity,
        linked,
    );
    infallible(done)
}

/// No leader yet (see [`walk_representative`]).
const NO_LEADER: u32 = u32::MAX;

/// Representative linkage inside one bucket of more than [`PARALLEL_BUCKET_LIMIT`] members,
/// in O(size) verifications when its members are alike: the candidate pairs it yields are, for
/// each member in order, its pairs with the first member of each group of the bucket until one
/// is linked to it (it then joins that group; a member linked to none starts a group).
///
/// All the pairs of a bucket of n near-copies (distinct texts that share a band key: a
/// breaking-news line with a word of its own in each copy) are n²/2 verifications and as many
/// edges held in memory; representative linkage keeps a member only if it is linked to the
/// cluster's first member, which is the first member of its group here, so these pairs are the
/// ones its decisions rest on. Buckets this large do not occur in ordinary corpora (the dev
/// corpus and samples give the same clusters either way).
///
/// The same near-copies meet in most bands, in buckets whose first member differs from band
/// to band. `leader[d]` is the first member of the group that `d` joined in an earlier walk:
/// two members of one bucket with the same leader are both linked to it, so the pair is not
/// needed and not verified. `linked(a, b)`, `a < b`, verifies a pair (or recalls it).
fn walk_representative(
    members: impl Iterator<Item = u32>,
    leader: &mut [u32],
    linked: &mut dyn FnMut(u32, u32) -> bool,
) {
    let mut firsts: Vec<u32> = Vec::new();
    for m in members {
        let led = leader[m as usize];
        let home = firsts.iter().copied().find(|&g| {
            (led != NO_LEADER && leader[g as usize] == led) || linked(g.min(m), g.max(m))
        });
        match home {
            Some(g) => {
                if leader[g as usize] == NO_LEADER {
                    leader[g as usize] = g;
                }
                if led == NO_LEADER {
                    leader[m as usize] = leader[g as usize];
                }
            }
            None => firsts.push(m),
        }
    }
}

/// [`link_representative`] from buckets however they are stored (see [`link_buckets`] for
/// `buckets`, `earlier` and `verify`), and from the buckets of `heads.0` more bands
/// (`heads.1`, the heads' bands of [`crate::cross`]), whose pairs are verified as found in a
/// band after the signature's last: `verify(a, b, bands)`. A bucket of more than
/// [`PARALLEL_BUCKET_LIMIT`] members is walked by [`walk_representative`].
#[allow(clippy::too_many_arguments)] // the linkage's inputs, each a different closure
pub fn link_representative_buckets<E>(
    n_docs: usize,
    bands: usize,
    buckets: &mut BucketSource<'_, E>,
    heads: (usize, &mut BucketSource<'_, E>),
    earlier: &(dyn Fn(u32, u32, usize) -> bool + Sync),
    verify: &(dyn Fn(u32, u32, usize) -> Option<bool> + Sync),
    similarity: &(dyn Fn(u32, u32) -> f64 + Sync),
    linked: &(dyn Fn(u32, u32) -> bool + Sync),
) -> Result<(Vec<Vec<u32>>, LinkStats), E> {
    let mut stats = LinkStats::default();
    let mut pairs: Vec<(u32, u32, u32)> = Vec::new();
    // The pairs verified by walks, whatever band they met in: band 0, before which no pair
    // meets, verifies any pair.
    let mut walked: HashMap<(u32, u32), bool> = HashMap::new();
    let mut leader: Vec<u32> = Vec::new();
    let mut visit = |band: usize, run: &[(u64, u32)]| {
        stats.buckets += 1;
        if run.len() > PARALLEL_BUCKET_LIMIT {
            let mut linked = |a: u32, b: u32| {
                *walked
                    .entry((a, b))
                    .or_insert_with(|| verify(a, b, 0).unwrap_or(false))
            };
            if leader.is_empty() {
                leader = vec![NO_LEADER; n_docs];
            }
            walk_representative(run.iter().map(|&(_, d)| d), &mut leader, &mut linked);
            return;
        }
        for i in 0..run.len() {
            for j in i + 1..run.len() {
                let (a, b) = (run[i].1, run[j].1);
                if !earlier(a, b, band) {
                    pairs.push((a, b, band as u32));
                }
            }
        }
    };
    let all: Vec<usize> = (0..bands).collect();
    for round in all.chunks(BANDS_PER_ROUND) {
        buckets(round, &mut visit)?;
    }
    let (head_bands, head_buckets) = heads;
    let all: Vec<usize> = (0..head_bands).collect();
    for round in all.chunks(BANDS_PER_ROUND) {
        head_buckets(round, &mut |_, run| visit(bands, run))?;
    }
    // A pair met in several bands is verified once: as found in the first, or where a walk
    // verified it.
    pairs.par_sort_unstable();
    pairs.dedup_by_key(|&mut (a, b, _)| (a, b));
    let mut walked: Vec<(u32, u32, bool)> =
        walked.into_iter().map(|((a, b), l)| (a, b, l)).collect();
    walked.par_sort_unstable();
    pairs.retain(|&(a, b, _)| {
        walked
            .binary_search_by(|&(x, y, _)| (x, y).cmp(&(a, b)))
            .is_err()
    });
    let checked: Vec<(u32, u32, bool)> = pairs
        .into_par_iter()
        .filter_map(|(a, b, band)| verify(a, b, band as usize).map(|l| (a, b, l)))
        .collect();
    stats.verified = checked.len() + walked.len();
    let mut edges: Vec<(f64, u32, u32)> = checked
        .into_par_iter()
        .chain(walked)
        .filter(|&(_, _, linked)| linked)
        .map(|(a, b, _)| (similarity(a, b), a, b))
        .collect();
    edges.sort_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    // Each cluster's members (in no order) and representative, at its union-find root. Every
    // member of a cluster is linked to its representative, so a merge checks only the members
    // of the cluster whose representative is not the merged one's: a near-copy joining a large
    // cluster costs one check, not one per member.
    let mut uf = UnionFind::new(n_docs);
    let mut members: Vec<Vec<u32>> = (0..n_docs as u32).map(|i| vec![i]).collect();
    let mut rep: Vec<u32> = (0..n_docs as u32).collect();
    for (_, a, b) in edges {
        let (ra, rb) = (uf.find(a), uf.find(b));
        if ra == rb {
            continue;
        }
        let (ra, rb) = (ra as usize, rb as usize);
        let new_rep = rep[ra].min(rep[rb]);
        let other = if rep[ra] == new_rep { rb } else { ra };
        let ok = members[other]
            .iter()
            .all(|&m| m == new_rep || linked(new_rep.min(m), new_rep.max(m)));
        if ok {
            uf.union(ra as u32, rb as u32);
            let root = uf.find(ra as u32) as usize;
            let (mut big, small) = if members[ra].len() >= members[rb].len() {
                (
                    std::mem::take(&mut members[ra]),
                    std::mem::take(&mut members[rb]),
                )
            } else {
                (
                    std::mem::take(&mut members[rb]),
                    std::mem::take(&mut members[ra]),
                )
            };
            big.extend(small);
            members[root] = big;
            rep[root] = new_rep;
        }
    }
    Ok((uf.groups(), stats))
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

    /// A deterministic pseudo-random relation for the equivalence tests.
    fn mixed(a: u32, b: u32) -> bool {
        let (a, b) = (a.min(b) as u64, a.max(b) as u64);
        (a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)) % 7 == 0
    }

    #[test]
    fn walking_a_bucket_equals_verifying_every_pair() {
        for n in [2u32, 5, 65, 300] {
            let members: Vec<u32> = (0..n).collect();
            let mut walked = UnionFind::new(n as usize);
            walk_bucket(members.iter().copied(), &mut walked, &|a, b| {
                Some(mixed(a, b))
            });
            let mut every = UnionFind::new(n as usize);
            for a in 0..n {
                for b in a + 1..n {
                    if mixed(a, b) {
                        every.union(a, b);
                    }
                }
            }
            assert_eq!(walked.groups(), every.groups(), "n = {n}");
        }
    }

    #[test]
    fn a_bucket_of_alike_documents_costs_a_linear_number_of_verifications() {
        let n = 5000u32;
        let mut uf = UnionFind::new(n as usize);
        let verified = walk_bucket(0..n, &mut uf, &|_, _| Some(true));
        assert_eq!(verified, n as usize - 1);
        assert_eq!(uf.groups().len(), 1);
    }

    #[test]
    fn a_pair_sharing_many_bands_is_verified_once() {
        // Ten documents with one signature, never linked: 45 pairs in each of 8 bands.
        let params = LshParams { bands: 8, rows: 2 };
        let sigs: Vec<Vec<u32>> = (0..10).map(|_| (0..16).collect()).collect();
        let sig = |i: usize| sigs[i].as_slice();
        let (mut uf, stats) = link_bands(params, 10, &|_| true, &sig, &|_, _| false);
        assert_eq!(stats.verified, 45);
        assert_eq!(stats.buckets, 8);
        assert!(uf.groups().is_empty());
        // The same in buckets too large for the parallel path.
        let sigs: Vec<Vec<u32>> = (0..100).map(|_| (0..16).collect()).collect();
        let sig = |i: usize| sigs[i].as_slice();
        let (_, stats) = link_bands(params, 100, &|_| true, &sig, &|_, _| false);
        assert_eq!(stats.verified, 100 * 99 / 2);
        let (_, stats) = link_bands(params, 100, &|_| true, &sig, &|_, _| true);
        assert_eq!(stats.verified, 99);
    }

    #[test]
    fn exact_copies_point_at_their_first_copy() {
        let texts = [5u64, 7, 5, 9, 7, 5, 0];
        let copies = exact_copies(
            texts.len(),
            &|i| texts[i] != 0,
            // Every hash collides: `same` must still tell the texts apart.
            &|_| 1,
            &|a, b| texts[a as usize] == texts[b as usize],
        );
        assert_eq!(copies, vec![0, 1, 0, 3, 1, 0, 6]);
        let inactive = exact_copies(3, &|_| false, &|_| 1, &|_, _| true);
        assert_eq!(inactive, vec![0, 1, 2]);
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
        // One band of one row that all three share.
        let params = LshParams { bands: 1, rows: 1 };
        let sigs = [[7u32], [7], [7]];
        let (groups, stats) =
            link_representative(params, 3, &|_| true, &|i| &sigs[i], &sim, &linked);
        assert_eq!(groups, vec![vec![0, 1]]);
        assert_eq!(stats.verified, 3);
        assert_eq!(stats.buckets, 1);
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
