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

/// Whether a case is a false merge or a false split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseKind {
    /// In one cluster, but labelled as different stories (costs precision).
    FalseMerge,
    /// Labelled as one story, but in different clusters (costs recall).
    FalseSplit,
}

impl CaseKind {
    /// The name used in reports: `false-merge` or `false-split`.
    pub fn name(self) -> &'static str {
        match self {
            CaseKind::FalseMerge => "false-merge",
            CaseKind::FalseSplit => "false-split",
        }
    }
}

/// One error of a clustering, as a pair of documents.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Merge or split.
    pub kind: CaseKind,
    /// One document (index).
    pub a: usize,
    /// The other document (index).
    pub b: usize,
    /// Their similarity.
    pub similarity: f64,
}

/// The errors of `predicted` against `truth`, one pair per error:
///
/// - for every predicted cluster holding several labels, and every two labels in it, the most
///   similar pair across the two labels (the link that most likely made the merge); ordered
///   most similar first;
/// - for every label split over several predicted clusters, and every two of its fragments,
///   the most similar pair across the two fragments (how close they came to being joined);
///   ordered least similar first.
///
/// At most `limit` of each kind are returned.
pub fn explain<A, B>(
    truth: &[A],
    predicted: &[B],
    similarity: impl Fn(usize, usize) -> f64,
    limit: usize,
) -> Vec<Case>
where
    A: Eq + std::hash::Hash + Ord,
    B: Eq + std::hash::Hash + Ord,
{
    use std::collections::BTreeMap;
    let mut by_pred: BTreeMap<&B, Vec<usize>> = BTreeMap::new();
    let mut by_truth: BTreeMap<&A, Vec<usize>> = BTreeMap::new();
    for (i, (a, b)) in truth.iter().zip(predicted).enumerate() {
        by_pred.entry(b).or_default().push(i);
        by_truth.entry(a).or_default().push(i);
    }
    // Best pair per (group key, part x, part y), where parts are labels within a cluster or
    // clusters within a label.
    fn best_pairs<K: Ord>(
        members: &[usize],
        part: impl Fn(usize) -> K,
        similarity: &impl Fn(usize, usize) -> f64,
        kind: CaseKind,
        out: &mut Vec<Case>,
    ) {
        let mut best: BTreeMap<(K, K), Case> = BTreeMap::new();
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                let (pi, pj) = (part(i), part(j));
                if pi == pj {
                    continue;
                }
                let key = if pi < pj { (pi, pj) } else { (pj, pi) };
                let s = similarity(i, j);
                let case = Case {
                    kind,
                    a: i,
                    b: j,
                    similarity: s,
                };
                best.entry(key)
                    .and_modify(|c| {
                        if s > c.similarity {
                            *c = case;
                        }
                    })
                    .or_insert(case);
            }
        }
        out.extend(best.into_values());
    }
    let mut merges = Vec::new();
    for members in by_pred.values().filter(|m| m.len() > 1) {
        best_pairs(
            members,
            |i| &truth[i],
            &similarity,
            CaseKind::FalseMerge,
            &mut merges,
        );
    }
    let mut splits = Vec::new();
    for members in by_truth.values().filter(|m| m.len() > 1) {
        best_pairs(
            members,
            |i| &predicted[i],
            &similarity,
            CaseKind::FalseSplit,
            &mut splits,
        );
    }
    merges.sort_by(|x, y| y.similarity.total_cmp(&x.similarity).then(x.a.cmp(&y.a)));
    splits.sort_by(|x, y| x.similarity.total_cmp(&y.similarity).then(x.a.cmp(&y.a)));
    merges.truncate(limit);
    splits.truncate(limit);
    merges.extend(splits);
    merges
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
    fn explain_finds_the_linking_pair_and_the_closest_split() {
        // truth: {0,1,2} {3}; predicted: {0,1,3} {2}
        let truth = [0, 0, 0, 1];
        let predicted = [7, 7, 9, 7];
        let sim = |a: usize, b: usize| match (a.min(b), a.max(b)) {
            (0, 3) => 0.6,
            (1, 3) => 0.8,
            (0, 2) => 0.3,
            (1, 2) => 0.4,
            _ => 0.9,
        };
        let cases = explain(&truth, &predicted, sim, 10);
        assert_eq!(
            cases,
            vec![
                Case {
                    kind: CaseKind::FalseMerge,
                    a: 1,
                    b: 3,
                    similarity: 0.8
                },
                Case {
                    kind: CaseKind::FalseSplit,
                    a: 1,
                    b: 2,
                    similarity: 0.4
                },
            ]
        );
    }

    #[test]
    fn nothing_predicted() {
        let s = score(&[0, 0, 1], &[0, 1, 2]);
        assert_eq!((s.precision, s.recall, s.f1), (1.0, 0.0, 0.0));
    }
}
