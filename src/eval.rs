//! Scoring a clustering against labelled groups: pairwise precision, recall, F1 and the
//! adjusted Rand index.
//!
//! Pairwise scores count unordered pairs of documents: a pair is *predicted* when both
//! documents are in one cluster and *true* when both carry the same label. Precision is the
//! share of predicted pairs that are true, recall the share of true pairs that are predicted.
//!
//! [`explain`] lists the pairs behind the missing precision and recall: false merges and false
//! splits, each with the similarity the run would have measured.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::cluster::Verify;
use crate::error::{Error, Result};
use crate::pipeline::{Outcome, Scratch, Signer};

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

/// Which way a pair of documents was clustered wrongly.
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

/// One wrongly clustered pair of documents.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Merge or split.
    pub kind: CaseKind,
    /// The pair's first document (index into [`Outcome::docs`]; `a < b`).
    pub a: u32,
    /// The pair's second document.
    pub b: u32,
    /// The pair's similarity, measured as the run measures a candidate pair
    /// ([`crate::pipeline::Settings::measure`] and [`crate::pipeline::Settings::verify`]). For a
    /// false merge it can be below the threshold: the pair was joined through other members.
    pub similarity: f64,
}

/// The wrongly clustered pairs of `outcome`, judged against `truth` (one label per document, in
/// input order, as for [`score`]).
///
/// Every pair of one cluster with different labels is a false merge; every pair with equal
/// labels in different clusters (or outside any cluster) is a false split. Returns at most
/// `limit` cases of each kind, the most striking first: false merges from the most similar
/// pair down (where a threshold or normalization change would help), false splits from the
/// least similar up (the duplicates the shingles see least of); equal similarities in (a, b)
/// order. False merges come before false splits.
///
/// Similarities are measured again from the documents' texts, so the run must have kept them
/// ([`crate::pipeline::RunOptions::keep_text`]); only documents in a wrong pair are signed.
pub fn explain<L>(outcome: &Outcome, truth: &[L], limit: usize) -> Result<Vec<Case>>
where
    L: Eq + std::hash::Hash,
{
    let n = outcome.docs.len();
    if truth.len() != n {
        return Err(Error::Config(format!(
            "explain: {} labels for {n} documents",
            truth.len()
        )));
    }
    // Predicted cluster of each document: its group's index, or a number of its own.
    let mut cluster: Vec<usize> = (0..n).map(|i| outcome.groups.len() + i).collect();
    for (g, group) in outcome.groups.iter().enumerate() {
        for &m in &group.members {
            cluster[m as usize] = g;
        }
    }
    let mut merges: Vec<(u32, u32)> = Vec::new();
    for group in &outcome.groups {
        for (i, &a) in group.members.iter().enumerate() {
            for &b in &group.members[i + 1..] {
                if truth[a as usize] != truth[b as usize] {
                    merges.push((a, b));
                }
            }
        }
    }
    let mut by_label: HashMap<&L, Vec<u32>> = HashMap::new();
    for (i, label) in truth.iter().enumerate() {
        by_label.entry(label).or_default().push(i as u32);
    }
    let mut splits: Vec<(u32, u32)> = Vec::new();
    for docs in by_label.values() {
        for (i, &a) in docs.iter().enumerate() {
            for &b in &docs[i + 1..] {
                if cluster[a as usize] != cluster[b as usize] {
                    splits.push((a, b));
                }
            }
        }
    }

    // Sign every document that takes part in a wrong pair.
    let mut involved: Vec<u32> = merges
        .iter()
        .chain(&splits)
        .flat_map(|&(a, b)| [a, b])
        .collect();
    involved.sort_unstable();
    involved.dedup();
    let settings = &outcome.settings;
    let signer = Signer::new(settings);
    let k = signer.num_perm();
    let mut slot: HashMap<u32, usize> = HashMap::with_capacity(involved.len());
    let mut sigs = vec![0u32; involved.len() * k];
    let mut sizes = Vec::with_capacity(involved.len());
    let mut sets: Vec<Vec<u64>> = Vec::new();
    let mut scratch = Scratch::default();
    for (s, &d) in involved.iter().enumerate() {
        let doc = &outcome.docs[d as usize];
        let text = doc.text.as_deref().ok_or_else(|| {
            Error::Config(format!(
                "explain needs the documents' texts (document `{}` has none): \
                 run with RunOptions::keep_text",
                doc.id
            ))
        })?;
        sizes.push(signer.sign_into(text, &mut scratch, &mut sigs[s * k..(s + 1) * k]));
        if settings.verify == Verify::Exact {
            sets.push(std::mem::take(&mut scratch.shingles));
        }
        slot.insert(d, s);
    }
    let similarity = |a: u32, b: u32| -> f64 {
        let (a, b) = (slot[&a], slot[&b]);
        match settings.verify {
            Verify::Exact => settings.measure.exact(&sets[a], &sets[b]),
            _ => settings.measure.estimate(
                &sigs[a * k..(a + 1) * k],
                sizes[a],
                &sigs[b * k..(b + 1) * k],
                sizes[b],
            ),
        }
    };
    let measured = |pairs: Vec<(u32, u32)>, kind: CaseKind| -> Vec<Case> {
        let mut cases: Vec<Case> = pairs
            .into_iter()
            .map(|(a, b)| Case {
                kind,
                a,
                b,
                similarity: similarity(a, b),
            })
            .collect();
        cases.sort_by(|x, y| {
            let by_sim = match kind {
                CaseKind::FalseMerge => y.similarity.total_cmp(&x.similarity),
                CaseKind::FalseSplit => x.similarity.total_cmp(&y.similarity),
            };
            by_sim.then((x.a, x.b).cmp(&(y.a, y.b)))
        });
        cases.truncate(limit);
        cases
    };
    let mut cases = measured(merges, CaseKind::FalseMerge);
    cases.extend(measured(splits, CaseKind::FalseSplit));
    Ok(cases)
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

    fn outcome(texts: &[&str], keep_text: bool) -> Outcome {
        use crate::pipeline::{run, Input, RunOptions, Settings};
        let docs: Vec<crate::Result<crate::Document>> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Ok(crate::Document::new(i.to_string(), *t)))
            .collect();
        let options = RunOptions {
            keep_text,
            ..RunOptions::default()
        };
        let inputs = vec![Input::new("mem", docs.into_iter())];
        run(
            inputs,
            &Settings::default(),
            &options,
            &crate::progress::NoProgress,
        )
        .unwrap()
    }

    const STORY: &str = "مجلس الأمن يصوت اليوم على قرار لوقف دائم لإطلاق النار في غزة بعد مفاوضات";
    const OTHER: &str = "ترامب يصف مكالمته مع بوتين بالجيدة ويأمل في لقاء قريب بين البلدين";

    #[test]
    fn explain_finds_false_merges_and_false_splits() {
        // 0 and 1 are one text with two labels (a false merge); 2 and 3 share a label but
        // nothing else (a false split); 4 is right.
        let texts = [
            STORY,
            STORY,
            OTHER,
            "نص قصير مختلف عن كل ما سبق تماما",
            OTHER,
        ];
        let o = outcome(&texts, true);
        let truth = ["a", "b", "c", "c", "d"];
        let cases = explain(&o, &truth, 10).unwrap();
        let got: Vec<(CaseKind, u32, u32)> = cases.iter().map(|c| (c.kind, c.a, c.b)).collect();
        assert_eq!(
            got,
            vec![
                (CaseKind::FalseMerge, 0, 1),
                (CaseKind::FalseMerge, 2, 4),
                (CaseKind::FalseSplit, 2, 3),
            ]
        );
        assert_eq!(cases[0].similarity, 1.0);
        assert!(cases[2].similarity < 0.2, "{}", cases[2].similarity);
        // The counts agree with the pairwise scores.
        let predicted: Vec<u64> = (0..5)
            .map(|i| {
                if i < 2 {
                    0
                } else if i == 3 {
                    3
                } else {
                    2
                }
            })
            .collect();
        let s = score(&truth, &predicted);
        assert_eq!(s.predicted_pairs - s.correct_pairs, 2);
        assert_eq!(s.true_pairs - s.correct_pairs, 1);
    }

    #[test]
    fn explain_keeps_the_most_striking_cases_first() {
        // One label over three texts that the run keeps apart: three false splits, the least
        // similar first, cut to the limit.
        let texts = [STORY, OTHER, "نص قصير مختلف عن كل ما سبق تماما"];
        let o = outcome(&texts, true);
        let all = explain(&o, &["x", "x", "x"], 10).unwrap();
        assert_eq!(all.len(), 3);
        assert!(all.windows(2).all(|w| w[0].similarity <= w[1].similarity));
        let two = explain(&o, &["x", "x", "x"], 2).unwrap();
        assert_eq!(two[..], all[..2]);
    }

    #[test]
    fn explain_needs_the_texts() {
        let o = outcome(&[STORY, STORY], false);
        let err = explain(&o, &["a", "b"], 10).unwrap_err().to_string();
        assert!(err.contains("keep_text"), "{err}");
        // Nothing wrong: no text is needed.
        assert!(explain(&o, &["a", "a"], 10).unwrap().is_empty());
        assert!(explain(&o, &["a"], 10).is_err());
    }

    #[test]
    fn nothing_predicted() {
        let s = score(&[0, 0, 1], &[0, 1, 2]);
        assert_eq!((s.precision, s.recall, s.f1), (1.0, 0.0, 0.0));
    }
}
