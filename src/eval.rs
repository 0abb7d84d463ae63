//! Scoring a clustering against labelled groups: pairwise precision, recall, F1 and the
//! adjusted Rand index.
//!
//! Pairwise scores count unordered pairs of documents: a pair is *predicted* when both
//! documents are in one cluster and *true* when both carry the same label. Precision is the
//! share of predicted pairs that are true, recall the share of true pairs that are predicted.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Pairwise and adjusted-Rand scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Documents scored.
    pub documents: usize,
    /// Pairs with equal labels.
    pub true_pairs: u64,
    /// Pairs in one predicted cluster.
    pub predicted_pairs: u64,
    /// Pairs that are both.
    pub correct_pairs: u64,
    /// correct / predicted (1 when nothing is predicted).
    pub precision: f64,
    /// correct / true (1 when there are no true pairs).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Adjusted Rand index (1 = identical partitions, about 0 = chance).
    pub ari: f64,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Scores `predicted` against `truth`: both give one label per document (any `Eq + Hash`
/// labels; a document in no predicted cluster must get a label of its own).
pub fn score<A, B>(truth: &[A], predicted: &[B]) -> Scores
where
    A: Eq + std::hash::Hash,
    B: Eq + std::hash::Hash,
{
    assert_eq!(truth.len(), predicted.len(), "one label per document");
    let mut t: HashMap<&A, u64> = HashMap::new();
    let mut p: HashMap<&B, u64> = HashMap::new();
    let mut both: HashMap<(&A, &B), u64> = HashMap::new();
    for (a, b) in truth.iter().zip(predicted) {
        *t.entry(a).or_default() += 1;
        *p.entry(b).or_default() += 1;
        *both.entry((a, b)).or_default() += 1;
    }
    let true_pairs: u64 = t.values().map(|&n| pairs(n)).sum();
    let predicted_pairs: u64 = p.values().map(|&n| pairs(n)).sum();
    let correct_pairs: u64 = both.values().map(|&n| pairs(n)).sum();
    let precision = if predicted_pairs == 0 {
        1.0
    } else {
        correct_pairs as f64 / predicted_pairs as f64
    };
    let recall = if true_pairs == 0 {
        1.0
    } else {
        correct_pairs as f64 / true_pairs as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    let all = pairs(truth.len() as u64) as f64;
    let expected = if all == 0.0 {
        0.0
    } else {
        true_pairs as f64 * predicted_pairs as f64 / all
    };
    let max = (true_pairs as f64 + predicted_pairs as f64) / 2.0;
    let ari = if (max - expected).abs() < f64::EPSILON {
        1.0
    } else {
        (correct_pairs as f64 - expected) / (max - expected)
    };
    Scores {
        documents: truth.len(),
        true_pairs,
        predicted_pairs,
        correct_pairs,
        precision,
        recall,
        f1,
        ari,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_clustering() {
        let s = score(&["a", "a", "b", "c"], &[1, 1, 2, 3]);
        assert_eq!((s.precision, s.recall, s.f1, s.ari), (1.0, 1.0, 1.0, 1.0));
        assert_eq!(s.true_pairs, 1);
    }

    #[test]
    fn one_false_merge() {
        // truth {0,1} {2} {3}; predicted {0,1,2} {3}: 3 predicted pairs, 1 correct.
        let s = score(&[0, 0, 1, 2], &[0, 0, 0, 3]);
        assert_eq!((s.predicted_pairs, s.correct_pairs), (3, 1));
        assert!((s.precision - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.recall, 1.0);
        assert!(s.ari < 1.0);
    }

    #[test]
    fn ari_matches_a_known_value() {
        // sklearn.metrics.adjusted_rand_score([0,0,1,1], [0,0,1,2]) = 0.5714285714285715
        let s = score(&[0, 0, 1, 1], &[0, 0, 1, 2]);
        assert!((s.ari - 0.571_428_571_428_571_5).abs() < 1e-12, "{}", s.ari);
    }

    #[test]
    fn nothing_predicted() {
        let s = score(&[0, 0, 1], &[0, 1, 2]);
        assert_eq!((s.precision, s.recall, s.f1), (1.0, 0.0, 0.0));
    }
}
