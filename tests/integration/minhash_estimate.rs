//! The MinHash estimate of Jaccard similarity is unbiased and as precise as theory says:
//! for k permutations its standard deviation is σ = sqrt(J(1−J)/k).

use mukarrar::minhash::{estimate, jaccard, to_set, MinHashConfig, MinHasher};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use xxhash_rust::xxh3::xxh3_64;

/// Two sets of shingle-like hashes with `shared` common elements and `only_a`/`only_b` own
/// elements, drawn from `salt` so that different cases use different values.
fn pair(shared: usize, only_a: usize, only_b: usize, salt: u64) -> (Vec<u64>, Vec<u64>) {
    let h = |tag: u64, i: usize| {
        xxh3_64(
            &[
                salt.to_le_bytes(),
                tag.to_le_bytes(),
                (i as u64).to_le_bytes(),
            ]
            .concat(),
        )
    };
    let common: Vec<u64> = (0..shared).map(|i| h(0, i)).collect();
    let mut a = common.clone();
    a.extend((0..only_a).map(|i| h(1, i)));
    let mut b = common;
    b.extend((0..only_b).map(|i| h(2, i)));
    (to_set(a), to_set(b))
}

fn sigma(j: f64, k: usize) -> f64 {
    (j * (1.0 - j) / k as f64).sqrt()
}

proptest! {
    #![proptest_config(Config {
        cases: 400,
        rng_seed: RngSeed::Fixed(0x6d756b61),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn estimate_is_within_four_sigma(
        shared in 0usize..600,
        only_a in 0usize..600,
        only_b in 0usize..600,
        salt in any::<u64>(),
        k in prop_oneof![Just(64usize), Just(128), Just(256)],
        seed in 0u64..4,
    ) {
        prop_assume!(shared + only_a > 0 && shared + only_b > 0);
        let (a, b) = pair(shared, only_a, only_b, salt);
        let m = MinHasher::new(MinHashConfig { num_perm: k, seed });
        let j = jaccard(&a, &b);
        let est = estimate(&m.sign(&a), &m.sign(&b));
        // Half a slot of slack for the granularity of k slots.
        let bound = 4.0 * sigma(j, k) + 0.5 / k as f64;
        prop_assert!((est - j).abs() <= bound, "J={j} est={est} k={k} bound={bound}");
    }
}

/// Over many pairs, the standardized errors have mean ≈ 0 and variance ≈ 1: the permutations
/// behave like independent ones (correlated permutations would inflate the variance).
#[test]
fn standardized_errors_match_theory() {
    let k = 128;
    let m = MinHasher::new(MinHashConfig {
        num_perm: k,
        seed: 9,
    });
    let mut zs = Vec::new();
    for case in 0..600u64 {
        let shared = 20 + (case as usize * 37) % 400;
        let only_a = 5 + (case as usize * 53) % 300;
        let only_b = 5 + (case as usize * 71) % 300;
        let (a, b) = pair(shared, only_a, only_b, case);
        let j = jaccard(&a, &b);
        let est = estimate(&m.sign(&a), &m.sign(&b));
        zs.push((est - j) / sigma(j, k));
    }
    let n = zs.len() as f64;
    let mean = zs.iter().sum::<f64>() / n;
    let var = zs.iter().map(|z| (z - mean).powi(2)).sum::<f64>() / (n - 1.0);
    // With 600 samples the mean's standard error is ≈ 0.04 and the variance's ≈ 0.06.
    assert!(mean.abs() < 0.2, "mean of z = {mean}");
    assert!((0.75..1.25).contains(&var), "variance of z = {var}");
}
