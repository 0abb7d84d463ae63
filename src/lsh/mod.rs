//! Locality-sensitive hashing by banding: candidate pairs without comparing every pair.
//!
//! A signature of `num_perm` slots is cut into `bands` bands of `rows` slots; two documents
//! become candidates when all the rows of at least one band agree. For Jaccard similarity `s`
//! the probability of that is `1 − (1 − sʳ)ᵇ`, an S-curve whose steep part should sit at the
//! threshold. [`LshParams::choose`] picks `b × r` for a threshold by one of two objectives.
//!
//! Candidates are found by sorting `(key, doc)` pairs band by band rather than by filling hash
//! maps of buckets: sorting is deterministic, cache-friendly, and the same grouping that an
//! external sort or a distributed shuffle performs.

use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// How bands × rows are chosen from a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// Minimize the sum of the false-positive area (below the threshold) and the
    /// false-negative area (above it) under the S-curve, equally weighted.
    #[default]
    Area,
    /// The most selective `r` whose S-curve still gives P(candidate | s = threshold) ≥ 0.99.
    Recall,
}

impl Objective {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Objective::Area => "area",
            Objective::Recall => "recall",
        }
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Objective {
    type Err = String;
    fn from_str(s: &str) -> Result<Objective, String> {
        match s {
            "area" => Ok(Objective::Area),
            "recall" => Ok(Objective::Recall),
            _ => Err(format!(
                "unknown LSH objective `{s}` (expected area or recall)"
            )),
        }
    }
}

/// The recall the `recall` objective keeps at the threshold.
pub const RECALL_TARGET: f64 = 0.99;

/// Bands × rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LshParams {
    /// Number of bands.
    pub bands: usize,
    /// Rows (signature slots) per band.
    pub rows: usize,
}

impl LshParams {
    /// P(candidate | Jaccard similarity `s`) = 1 − (1 − sʳ)ᵇ.
    pub fn probability(&self, s: f64) -> f64 {
        1.0 - (1.0 - s.powi(self.rows as i32)).powi(self.bands as i32)
    }

    /// Checks that the bands fit in a signature of `num_perm` slots (without overflowing,
    /// whatever the numbers: they may come from a stored index or another front end).
    pub fn validate(&self, num_perm: usize) -> Result<(), String> {
        if self.bands == 0 || self.rows == 0 {
            return Err("--bands and --rows must be at least 1".into());
        }
        match self.bands.checked_mul(self.rows) {
            Some(slots) if slots <= num_perm => Ok(()),
            Some(slots) => Err(format!(
                "--bands {} × --rows {} = {slots} exceeds --num-perm {num_perm}",
                self.bands, self.rows
            )),
            None => Err(format!(
                "--bands {} × --rows {} exceeds --num-perm {num_perm}",
                self.bands, self.rows
            )),
        }
    }

    /// Chooses bands × rows for `threshold` and `num_perm` by `objective`.
    ///
    /// ```
    /// use mukarrar::lsh::{LshParams, Objective};
    /// let p = LshParams::choose(0.5, 128, Objective::Area);
    /// assert!(p.bands * p.rows <= 128);
    /// assert!(p.probability(0.9) > 0.99 && p.probability(0.1) < 0.01);
    /// let strict = LshParams::choose(0.5, 128, Objective::Recall);
    /// assert!(strict.probability(0.5) >= 0.99);
    /// ```
    pub fn choose(threshold: f64, num_perm: usize, objective: Objective) -> LshParams {
        let threshold = threshold.clamp(0.0, 1.0);
        let all = (1..=num_perm).map(|rows| LshParams {
            bands: num_perm / rows,
            rows,
        });
        match objective {
            Objective::Area => {
                let mut best = LshParams {
                    bands: num_perm,
                    rows: 1,
                };
                let mut best_err = f64::INFINITY;
                for p in all {
                    let err = p.false_positive_area(threshold) + p.false_negative_area(threshold);
                    if err < best_err - 1e-12 {
                        best = p;
                        best_err = err;
                    }
                }
                best
            }
            Objective::Recall => all
                .filter(|p| p.probability(threshold) >= RECALL_TARGET)
                .max_by_key(|p| p.rows)
                .unwrap_or(LshParams {
                    bands: num_perm,
                    rows: 1,
                }),
        }
    }

    /// Bands × rows as the command line takes them: chosen by `objective` for `threshold`,
    /// unless `bands` or `rows` is given; one of them alone takes as many of the other as fit
    /// in `num_perm` slots. The message of an error names the flag to change.
    ///
    /// The threshold and `num_perm` are checked first (as [`crate::settings::Settings`]
    /// checks them), so that an out-of-range value fails at once instead of after a search
    /// over every split of a huge signature.
    ///
    /// ```
    /// use mukarrar::lsh::{LshParams, Objective};
    /// let p = LshParams::given(0.5, 128, Objective::Area, Some(16), None).unwrap();
    /// assert_eq!((p.bands, p.rows), (16, 8));
    /// assert!(LshParams::given(0.5, 128, Objective::Area, Some(16), Some(9)).is_err());
    /// assert!(LshParams::given(1.5, 128, Objective::Area, None, None).is_err());
    /// assert!(LshParams::given(0.5, 10_000_000, Objective::Area, None, None).is_err());
    /// ```
    pub fn given(
        threshold: f64,
        num_perm: usize,
        objective: Objective,
        bands: Option<usize>,
        rows: Option<usize>,
    ) -> Result<LshParams, String> {
        crate::settings::in_unit("--threshold", threshold)?;
        crate::minhash::MinHashConfig {
            num_perm,
            ..crate::minhash::MinHashConfig::default()
        }
        .validate()?;
        for (flag, n) in [("--bands", bands), ("--rows", rows)] {
            if let Some(n) = n.filter(|&n| n == 0 || n > num_perm) {
                return Err(format!(
                    "{flag} {n} is out of range (1 to --num-perm {num_perm})"
                ));
            }
        }
        let p = match (bands, rows) {
            (None, None) => LshParams::choose(threshold, num_perm, objective),
            (Some(b), Some(r)) => LshParams { bands: b, rows: r },
            (Some(b), None) => LshParams {
                bands: b,
                rows: num_perm / b.max(1),
            },
            (None, Some(r)) => LshParams {
                bands: num_perm / r.max(1),
                rows: r,
            },
        };
        p.validate(num_perm)?;
        Ok(p)
    }

    /// ∫₀ᵗ P(s) ds: how much below-threshold similarity still becomes a candidate.
    pub fn false_positive_area(&self, threshold: f64) -> f64 {
        integrate(|s| self.probability(s), 0.0, threshold)
    }

    /// ∫ₜ¹ (1 − P(s)) ds: how much above-threshold similarity is missed.
    pub fn false_negative_area(&self, threshold: f64) -> f64 {
        integrate(|s| 1.0 - self.probability(s), threshold, 1.0)
    }

    /// The band key of band `band` of `sig`.
    #[inline]
    pub fn band_key(&self, sig: &[u32], band: usize) -> u64 {
        Self::rows_key(&sig[band * self.rows..(band + 1) * self.rows], band)
    }

    /// The key of band `band` whose rows are `rows`.
    pub fn rows_key(rows: &[u32], band: usize) -> u64 {
        let mut bytes = [0u8; 4 * 64];
        if rows.len() <= 64 {
            for (chunk, v) in bytes.chunks_exact_mut(4).zip(rows) {
                chunk.copy_from_slice(&v.to_le_bytes());
            }
            xxh3_64_with_seed(&bytes[..rows.len() * 4], band as u64)
        } else {
            let v: Vec<u8> = rows.iter().flat_map(|v| v.to_le_bytes()).collect();
            xxh3_64_with_seed(&v, band as u64)
        }
    }
}

/// Composite Simpson's rule with 256 intervals: the curves are smooth polynomials.
fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    if b <= a {
        return 0.0;
    }
    let n = 256;
    let h = (b - a) / n as f64;
    let mut sum = f(a) + f(b);
    for i in 1..n {
        let x = a + i as f64 * h;
        sum += if i % 2 == 1 { 4.0 } else { 2.0 } * f(x);
    }
    sum * h / 3.0
}

/// The `(key, doc)` pairs of one band for the documents that take part, sorted: documents with
/// equal keys are adjacent, in index order.
pub fn band_keys<'a>(
    params: LshParams,
    band: usize,
    n_docs: usize,
    active: &(dyn Fn(usize) -> bool + Sync),
    signature: &(dyn Fn(usize) -> &'a [u32] + Sync),
) -> Vec<(u64, u32)> {
    let mut keys: Vec<(u64, u32)> = (0..n_docs)
        .filter(|&i| active(i))
        .map(|i| (params.band_key(signature(i), band), i as u32))
        .collect();
    keys.sort_unstable();
    keys
}

/// The runs of two or more equal keys in sorted `keys`: the candidate buckets of one band.
pub fn runs(keys: &[(u64, u32)]) -> impl Iterator<Item = &[(u64, u32)]> {
    keys.chunk_by(|x, y| x.0 == y.0)
        .filter(|run| run.len() >= 2)
}

/// Documents sharing one band key: `members` is sorted by document index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// The band.
    pub band: usize,
    /// Document indices, ascending.
    pub members: Vec<u32>,
}

/// Groups documents by band key. `signature(i)` gives document `i`'s signature and `active`
/// says which documents take part (empty documents do not). Returns, for every band, the
/// buckets of two or more documents, bands in order and buckets by their first member.
pub fn buckets<'a>(
    params: LshParams,
    n_docs: usize,
    active: &(dyn Fn(usize) -> bool + Sync),
    signature: &(dyn Fn(usize) -> &'a [u32] + Sync),
) -> Vec<Bucket> {
    let per_band: Vec<Vec<Bucket>> = (0..params.bands)
        .into_par_iter()
        .map(|band| {
            let keys = band_keys(params, band, n_docs, active, signature);
            let mut out: Vec<Bucket> = runs(&keys)
                .map(|run| Bucket {
                    band,
                    members: run.iter().map(|&(_, d)| d).collect(),
                })
                .collect();
            out.sort_unstable_by_key(|b| b.members[0]);
            out
        })
        .collect();
    per_band.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s_curve_is_monotone_and_bounded() {
        let p = LshParams { bands: 20, rows: 5 };
        let mut last = -1.0;
        for i in 0..=100 {
            let v = p.probability(i as f64 / 100.0);
            assert!((0.0..=1.0).contains(&v));
            assert!(v >= last);
            last = v;
        }
        assert_eq!(p.probability(0.0), 0.0);
        assert_eq!(p.probability(1.0), 1.0);
    }

    #[test]
    fn area_objective_moves_with_the_threshold() {
        let low = LshParams::choose(0.3, 128, Objective::Area);
        let high = LshParams::choose(0.9, 128, Objective::Area);
        assert!(low.rows < high.rows, "{low:?} {high:?}");
    }

    #[test]
    fn recall_objective_keeps_recall_at_threshold() {
        for t in [0.5, 0.7, 0.8, 0.9] {
            let p = LshParams::choose(t, 128, Objective::Recall);
            assert!(p.probability(t) >= RECALL_TARGET, "{t} {p:?}");
            let stricter = LshParams {
                bands: 128 / (p.rows + 1),
                rows: p.rows + 1,
            };
            assert!(stricter.probability(t) < RECALL_TARGET, "{t} {p:?}");
        }
    }

    #[test]
    fn validation_names_the_flags() {
        let err = LshParams { bands: 20, rows: 7 }.validate(128).unwrap_err();
        assert!(err.contains("--bands 20") && err.contains("--num-perm 128"));
    }

    #[test]
    fn integration_is_accurate() {
        let v = integrate(|x| x * x, 0.0, 1.0);
        assert!((v - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn buckets_group_equal_bands() {
        let sigs: Vec<Vec<u32>> = vec![
            vec![1, 2, 3, 4],
            vec![1, 2, 9, 9],
            vec![7, 7, 3, 4],
            vec![5, 5, 5, 5],
        ];
        let params = LshParams { bands: 2, rows: 2 };
        let b = buckets(params, 4, &|_| true, &|i| &sigs[i]);
        assert_eq!(
            b,
            vec![
                Bucket {
                    band: 0,
                    members: vec![0, 1]
                },
                Bucket {
                    band: 1,
                    members: vec![0, 2]
                },
            ]
        );
        let none = buckets(params, 4, &|i| i != 1, &|i| &sigs[i]);
        assert_eq!(none.len(), 1);
    }
}
