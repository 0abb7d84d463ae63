//! MinHash signatures: `num_perm` seeded permutations of the shingle hashes, keeping the
//! minimum of each.
//!
//! Each permutation is an affine map `x ↦ a·x + b (mod 2³²)` with odd `a`, applied to the low
//! 32 bits of the xxh3 shingle hash. The shingle hashes are already uniformly distributed, so
//! the maps only have to be bijections that decorrelate the permutations from each other; the
//! loop over permutations is plain `u32` arithmetic that compilers vectorize. The
//! coefficients come from a fixed generator seeded by `seed`, so a signature depends only on
//! the text and the configuration: never on the run, the thread count or the machine.

use serde::{Deserialize, Serialize};

/// Signature length and seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinHashConfig {
    /// Number of permutations (the signature length).
    pub num_perm: usize,
    /// Seed of the permutation coefficients.
    pub seed: u64,
}

impl Default for MinHashConfig {
    fn default() -> MinHashConfig {
        MinHashConfig {
            num_perm: 128,
            seed: 1,
        }
    }
}

impl MinHashConfig {
    /// Checks the signature length.
    pub fn validate(&self) -> Result<(), String> {
        if self.num_perm == 0 || self.num_perm > 4096 {
            return Err(format!(
                "--num-perm {} is out of range (1 to 4096)",
                self.num_perm
            ));
        }
        Ok(())
    }
}

/// The value of every slot of an empty set's signature.
pub const EMPTY: u32 = u32::MAX;

/// Computes MinHash signatures.
#[derive(Debug, Clone)]
pub struct MinHasher {
    a: Box<[u32]>,
    b: Box<[u32]>,
}

/// SplitMix64: a small, well-known generator, used only to derive coefficients from a seed.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl MinHasher {
    /// A hasher for `config` (which must be valid, see [`MinHashConfig::validate`]).
    pub fn new(config: MinHashConfig) -> MinHasher {
        assert!(config.validate().is_ok(), "invalid minhash config");
        let mut state = config.seed;
        let mut a = Vec::with_capacity(config.num_perm);
        let mut b = Vec::with_capacity(config.num_perm);
        for _ in 0..config.num_perm {
            let r = splitmix64(&mut state);
            a.push((r as u32) | 1);
            b.push((r >> 32) as u32);
        }
        MinHasher {
            a: a.into_boxed_slice(),
            b: b.into_boxed_slice(),
        }
    }

    /// The signature length.
    pub fn num_perm(&self) -> usize {
        self.a.len()
    }

    /// Writes the signature of the set of `shingles` (duplicates do not matter) into `sig`,
    /// whose length must be [`num_perm`](Self::num_perm). An empty set gives all [`EMPTY`].
    pub fn sign_into(&self, shingles: &[u64], sig: &mut [u32]) {
        assert_eq!(sig.len(), self.a.len(), "signature buffer length");
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { sign_avx2(&self.a, &self.b, shingles, sig) };
            return;
        }
        sign_blocks(&self.a, &self.b, shingles, sig);
    }

    /// The slots `start..start + out.len()` of the signature of `shingles`: what one LSH band
    /// of a small set needs, without the rest.
    pub fn sign_range(&self, shingles: &[u64], start: usize, out: &mut [u32]) {
        let end = start + out.len();
        out.fill(EMPTY);
        for &h in shingles {
            let x = h as u32;
            for ((s, &a), &b) in out
                .iter_mut()
                .zip(&self.a[start..end])
                .zip(&self.b[start..end])
            {
                *s = (*s).min(a.wrapping_mul(x).wrapping_add(b));
            }
        }
    }

    /// The signature of the set of `shingles`.
    pub fn sign(&self, shingles: &[u64]) -> Vec<u32> {
        let mut sig = vec![EMPTY; self.num_perm()];
        self.sign_into(shingles, &mut sig);
        sig
    }
}

/// Permutations handled per pass over the shingles: their running minima stay in registers.
const BLOCK: usize = 32;

/// The signature loop: for each block of [`BLOCK`] permutations, one pass over the shingles
/// keeping the block's minima in a fixed-size array, which compilers keep in vector
/// registers. Plain `u32` arithmetic, identical results on every CPU.
#[inline(always)]
fn sign_blocks(a: &[u32], b: &[u32], shingles: &[u64], sig: &mut [u32]) {
    let mut start = 0;
    while start < sig.len() {
        let end = (start + BLOCK).min(sig.len());
        if end - start == BLOCK {
            let a: &[u32; BLOCK] = a[start..end].try_into().expect("block");
            let b: &[u32; BLOCK] = b[start..end].try_into().expect("block");
            let mut min = [EMPTY; BLOCK];
            for &h in shingles {
                let x = h as u32;
                for i in 0..BLOCK {
                    min[i] = min[i].min(a[i].wrapping_mul(x).wrapping_add(b[i]));
                }
            }
            sig[start..end].copy_from_slice(&min);
        } else {
            let out = &mut sig[start..end];
            out.fill(EMPTY);
            for &h in shingles {
                let x = h as u32;
                for ((s, &a), &b) in out.iter_mut().zip(&a[start..end]).zip(&b[start..end]) {
                    *s = (*s).min(a.wrapping_mul(x).wrapping_add(b));
                }
            }
        }
        start = end;
    }
}

/// [`sign_blocks`] compiled for AVX2 (eight `u32` lanes per instruction).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sign_avx2(a: &[u32], b: &[u32], shingles: &[u64], sig: &mut [u32]) {
    sign_blocks(a, b, shingles, sig)
}

/// The Jaccard similarity estimated from two signatures: the fraction of equal slots.
pub fn estimate(a: &[u32], b: &[u32]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    if a.is_empty() {
        return 0.0;
    }
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    equal as f64 / a.len() as f64
}

/// Sorts and deduplicates shingle hashes into a set, for exact similarity.
pub fn to_set(mut shingles: Vec<u64>) -> Vec<u64> {
    shingles.sort_unstable();
    shingles.dedup();
    shingles
}

/// Size of the intersection of two sorted, deduplicated sets.
pub fn intersection(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Exact Jaccard similarity of two sorted, deduplicated sets (0 when both are empty).
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let inter = intersection(a, b);
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher(k: usize) -> MinHasher {
        MinHasher::new(MinHashConfig {
            num_perm: k,
            seed: 42,
        })
    }

    #[test]
    fn identical_sets_estimate_one() {
        let m = hasher(64);
        let s: Vec<u64> = (0..50u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        let mut shuffled = s.clone();
        shuffled.reverse();
        shuffled.extend_from_slice(&s[..10]);
        assert_eq!(m.sign(&s), m.sign(&shuffled));
        assert_eq!(estimate(&m.sign(&s), &m.sign(&shuffled)), 1.0);
    }

    #[test]
    fn signatures_depend_on_seed_only() {
        let s = [1u64, 2, 3, 99];
        assert_eq!(hasher(32).sign(&s), hasher(32).sign(&s));
        let other = MinHasher::new(MinHashConfig {
            num_perm: 32,
            seed: 43,
        });
        assert_ne!(hasher(32).sign(&s), other.sign(&s));
    }

    #[test]
    fn vector_and_plain_loops_agree() {
        // Signature lengths that are and are not multiples of the block.
        for k in [1, 31, 32, 100, 128, 256] {
            let m = hasher(k);
            let shingles: Vec<u64> = (0..300u64)
                .map(|i| i.wrapping_mul(0xD6E8_FEB8_6659_FD93))
                .collect();
            let mut plain = vec![0; k];
            sign_blocks(&m.a, &m.b, &shingles, &mut plain);
            let mut reference = vec![EMPTY; k];
            for &h in &shingles {
                for (r, (&a, &b)) in reference.iter_mut().zip(m.a.iter().zip(m.b.iter())) {
                    *r = (*r).min(a.wrapping_mul(h as u32).wrapping_add(b));
                }
            }
            assert_eq!(plain, reference);
            assert_eq!(m.sign(&shingles), reference);
        }
    }

    #[test]
    fn empty_set_signature_is_all_empty() {
        assert!(hasher(8).sign(&[]).iter().all(|&v| v == EMPTY));
    }

    #[test]
    fn exact_jaccard() {
        let a = to_set(vec![1, 2, 3, 4]);
        let b = to_set(vec![3, 4, 5, 5]);
        assert_eq!(intersection(&a, &b), 2);
        assert!((jaccard(&a, &b) - 0.4).abs() < 1e-12);
        assert_eq!(jaccard(&[], &[]), 0.0);
    }

    #[test]
    fn config_validation_names_the_flag() {
        let err = MinHashConfig {
            num_perm: 0,
            seed: 0,
        }
        .validate()
        .unwrap_err();
        assert!(err.contains("--num-perm"));
    }
}
