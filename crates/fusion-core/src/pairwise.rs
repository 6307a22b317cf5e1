//! The legacy algorithm fleetscale replaces: for every pair of nodes, block and compare the two
//! nodes' records (`combinations(node_ids, 2)`). Kept as the baseline for equivalence tests and
//! benchmarks; it finds exactly the candidates of the global index, at O(nodes²) cost.

use rayon::prelude::*;

use crate::blocking::{BlockStats, BlockingIndex, Pair};

/// Candidate pairs found node pair by node pair, sorted.
pub fn candidates(index: &BlockingIndex<'_>, node: &[u32]) -> (Vec<Pair>, BlockStats) {
    // Records of each node, nodes in code order.
    let mut by_node: Vec<(u32, Vec<u32>)> = Vec::new();
    let mut order: Vec<u32> = (0..node.len() as u32).collect();
    order.sort_by_key(|&i| (node[i as usize], i));
    for i in order {
        match by_node.last_mut() {
            Some((n, list)) if *n == node[i as usize] => list.push(i),
            _ => by_node.push((node[i as usize], vec![i])),
        }
    }
    let results: Vec<(Vec<Pair>, BlockStats)> = (0..by_node.len())
        .into_par_iter()
        .map(|a| {
            let mut out = Vec::new();
            let mut stats = BlockStats::default();
            let mut subset = Vec::new();
            for b in a + 1..by_node.len() {
                subset.clear();
                subset.extend_from_slice(&by_node[a].1);
                subset.extend_from_slice(&by_node[b].1);
                stats.absorb(index.candidates_within(&subset, &mut out));
            }
            (out, stats)
        })
        .collect();
    let mut pairs = Vec::new();
    let mut stats = BlockStats::default();
    for (chunk, s) in results {
        pairs.extend(chunk);
        stats.absorb(s);
    }
    pairs.par_sort_unstable();
    (pairs, stats)
}
