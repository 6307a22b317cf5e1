//! Quality of a fusion result against known truth: pairwise precision/recall/F1, B-cubed F1,
//! and blocking quality (pairs completeness, reduction ratio).

use rustc_hash::FxHashMap;

use crate::blocking::Pair;

/// Clustering quality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterQuality {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub bcubed_precision: f64,
    pub bcubed_recall: f64,
    pub bcubed_f1: f64,
    /// Record pairs put together by the result.
    pub predicted_pairs: u64,
    /// Record pairs that belong together.
    pub true_pairs: u64,
    /// Record pairs in both.
    pub correct_pairs: u64,
}

/// Cluster label of each of `n` records from fused events (the event's position); records in
/// no event get `u32::MAX`.
pub fn labels_from_events(events: &crate::Events, n: usize) -> Vec<u32> {
    let mut label = vec![u32::MAX; n];
    for (e, event) in events.iter().enumerate() {
        for &m in event.members {
            label[m as usize] = e as u32;
        }
    }
    label
}

fn pairs_of(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// Truth labels with every `None` (clutter) as its own singleton.
fn truth_labels(truth: &[Option<u32>]) -> Vec<u64> {
    truth
        .iter()
        .enumerate()
        .map(|(i, t)| match t {
            Some(e) => *e as u64,
            None => (1u64 << 32) + i as u64,
        })
        .collect()
}

fn sizes(labels: impl Iterator<Item = u64>) -> FxHashMap<u64, u64> {
    let mut m = FxHashMap::default();
    for l in labels {
        *m.entry(l).or_insert(0) += 1;
    }
    m
}

/// Compares predicted cluster labels with true event labels (`None` = clutter, a singleton).
/// With no predicted pairs precision is 1; with no true pairs recall is 1.
pub fn evaluate_clusters(predicted: &[u32], truth: &[Option<u32>]) -> ClusterQuality {
    assert_eq!(predicted.len(), truth.len(), "one label per record");
    let truth = truth_labels(truth);
    let pred_size = sizes(predicted.iter().map(|&p| p as u64));
    let true_size = sizes(truth.iter().copied());
    let mut joint: FxHashMap<(u32, u64), u64> = FxHashMap::default();
    for (p, t) in predicted.iter().zip(&truth) {
        *joint.entry((*p, *t)).or_insert(0) += 1;
    }
    let predicted_pairs: u64 = pred_size.values().map(|&s| pairs_of(s)).sum();
    let true_pairs: u64 = true_size.values().map(|&s| pairs_of(s)).sum();
    let correct_pairs: u64 = joint.values().map(|&s| pairs_of(s)).sum();
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
    let n = predicted.len() as f64;
    let (mut bp, mut br) = (0.0, 0.0);
    for (&(p, t), &c) in &joint {
        // Each of the c records in this cell has precision c/|P| and recall c/|T|.
        let c = c as f64;
        bp += c * c / pred_size[&(p as u64)] as f64;
        br += c * c / true_size[&t] as f64;
    }
    let (bp, br) = if n == 0.0 {
        (1.0, 1.0)
    } else {
        (bp / n, br / n)
    };
    ClusterQuality {
        precision,
        recall,
        f1: f1(precision, recall),
        bcubed_precision: bp,
        bcubed_recall: br,
        bcubed_f1: f1(bp, br),
        predicted_pairs,
        true_pairs,
        correct_pairs,
    }
}

/// Blocking quality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockingQuality {
    /// True cross-node pairs that are candidates, as a share of all true cross-node pairs.
    pub pairs_completeness: f64,
    /// `1 - candidates / all cross-node pairs`.
    pub reduction_ratio: f64,
    pub candidates: u64,
    pub true_pairs: u64,
    pub true_pairs_found: u64,
}

/// Measures a candidate set against the truth. `pairs` must be sorted and `a < b`.
pub fn evaluate_blocking(pairs: &[Pair], node: &[u32], truth: &[Option<u32>]) -> BlockingQuality {
    let n = node.len() as u64;
    let per_node = sizes(node.iter().map(|&x| x as u64));
    let cross_pairs = pairs_of(n) - per_node.values().map(|&s| pairs_of(s)).sum::<u64>();
    let mut members: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for (i, t) in truth.iter().enumerate() {
        if let Some(e) = t {
            members.entry(*e).or_default().push(i as u32);
        }
    }
    let (mut true_pairs, mut found) = (0u64, 0u64);
    for list in members.values() {
        for (x, &a) in list.iter().enumerate() {
            for &b in &list[x + 1..] {
                if node[a as usize] == node[b as usize] {
                    continue;
                }
                true_pairs += 1;
                if pairs.binary_search(&(a.min(b), a.max(b))).is_ok() {
                    found += 1;
                }
            }
        }
    }
    BlockingQuality {
        pairs_completeness: if true_pairs == 0 {
            1.0
        } else {
            found as f64 / true_pairs as f64
        },
        reduction_ratio: if cross_pairs == 0 {
            1.0
        } else {
            1.0 - pairs.len() as f64 / cross_pairs as f64
        },
        candidates: pairs.len() as u64,
        true_pairs,
        true_pairs_found: found,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_result_scores_one() {
        let truth = [Some(1), Some(1), Some(2), None, Some(2)];
        let q = evaluate_clusters(&[0, 0, 1, 2, 1], &truth);
        assert_eq!(
            (q.precision, q.recall, q.f1, q.bcubed_f1),
            (1.0, 1.0, 1.0, 1.0)
        );
        assert_eq!(q.true_pairs, 2);
    }

    #[test]
    fn merged_clusters_lose_precision_not_recall() {
        // Two true events of two records each, predicted as one cluster of four.
        let truth = [Some(1), Some(1), Some(2), Some(2)];
        let q = evaluate_clusters(&[0, 0, 0, 0], &truth);
        assert_eq!(q.predicted_pairs, 6);
        assert!((q.precision - 2.0 / 6.0).abs() < 1e-12);
        assert_eq!(q.recall, 1.0);
        assert!((q.bcubed_precision - 0.5).abs() < 1e-12);
        assert_eq!(q.bcubed_recall, 1.0);
    }

    #[test]
    fn split_clusters_lose_recall() {
        let truth = [Some(1), Some(1), Some(1)];
        let q = evaluate_clusters(&[0, 0, 1], &truth);
        assert_eq!(q.precision, 1.0);
        assert!((q.recall - 1.0 / 3.0).abs() < 1e-12);
        // B-cubed recall: (2/3 + 2/3 + 1/3) / 3.
        assert!((q.bcubed_recall - 5.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn clutter_is_never_a_true_pair() {
        let q = evaluate_clusters(&[0, 0], &[None, None]);
        assert_eq!(q.true_pairs, 0);
        assert_eq!(q.precision, 0.0);
        assert_eq!(q.recall, 1.0);
    }

    #[test]
    fn blocking_quality_counts_cross_node_pairs() {
        let node = [0, 1, 2, 0];
        let truth = [Some(5), Some(5), Some(5), None];
        // True pairs (0,1) (0,2) (1,2); candidates find two of them plus one wrong pair.
        let q = evaluate_blocking(&[(0, 1), (1, 2), (1, 3)], &node, &truth);
        assert_eq!(q.true_pairs, 3);
        assert_eq!(q.true_pairs_found, 2);
        assert!((q.pairs_completeness - 2.0 / 3.0).abs() < 1e-12);
        // 6 pairs in all, 1 within node 0: 5 cross-node pairs.
        assert!((q.reduction_ratio - (1.0 - 3.0 / 5.0)).abs() < 1e-12);
    }
}
