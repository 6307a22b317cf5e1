//! The fusion pipeline: validate → index (key the records, lay them out cell by cell) → block
//! → score → cluster (connected components of accepted pairs) → fused events.

use std::time::Instant;

use rayon::prelude::*;

use crate::blocking::{BlockStats, BlockingIndex, Pair};
use crate::cluster::{Components, Edge};
use crate::config::Compiled;
use crate::error::Result;
use crate::events::{fuse_components, Origin};
pub use crate::events::{Events, FusedEvent};
use crate::pairwise;
use crate::records::Records;
use crate::scoring::score_pairs;

/// How candidate pairs are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// One global blocking index over all nodes.
    Index,
    /// The legacy loop: blocking inside every pair of nodes.
    Pairwise,
}

/// Counts and phase timings of one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FusionStats {
    pub records: u64,
    pub blocks: u64,
    pub largest_block: u64,
    pub candidates: u64,
    pub scored: u64,
    /// Candidate pairs accepted and inside one event.
    pub matched: u64,
    /// Milliseconds per phase, in pipeline order.
    pub timings_ms: Vec<(&'static str, f64)>,
}

/// Fused events and stats.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FusionOutput {
    pub events: Events,
    pub stats: FusionStats,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// Fuses validated-or-not records with the global blocking index.
pub fn fuse(records: &Records, config: &Compiled) -> Result<FusionOutput> {
    fuse_with(records, config, Method::Index)
}

/// Candidate pairs (sorted, each once) by the chosen method, after validating the records.
pub fn candidate_pairs(
    records: &Records,
    config: &Compiled,
    method: Method,
) -> Result<(Vec<Pair>, BlockStats)> {
    records.validate(config)?;
    let index = BlockingIndex::new(records, config);
    Ok(match method {
        Method::Index => {
            let order = index.locality_order();
            let local = records.gather(&order);
            let (pairs, stats) = index.rearranged(&local, &order).candidates_unsorted();
            let mut pairs: Vec<Pair> = pairs
                .into_par_iter()
                .map(|(a, b)| {
                    let (a, b) = (order[a as usize], order[b as usize]);
                    (a.min(b), a.max(b))
                })
                .collect();
            pairs.par_sort_unstable();
            (pairs, stats)
        }
        Method::Pairwise => pairwise::candidates(&index, &records.node),
    })
}

/// Fuses records with the chosen candidate method. Both methods give the same output.
pub fn fuse_with(records: &Records, config: &Compiled, method: Method) -> Result<FusionOutput> {
    let started = Instant::now();
    records.validate(config)?;
    Ok(fuse_validated(records, config, method, ms(started)))
}

/// Fuses records that already passed [`Records::validate`] against `config` (for callers that
/// validate up front, such as a task queued for another thread); `validate_ms` is reported as
/// the validation phase.
pub fn fuse_validated(
    records: &Records,
    config: &Compiled,
    method: Method,
    validate_ms: f64,
) -> FusionOutput {
    // On a pool thread from the start: every parallel step below then runs there instead of
    // handing work over from this thread and waiting, a cost small inputs would notice.
    rayon::scope(|_| fuse_on_pool(records, config, method, validate_ms))
}

fn fuse_on_pool(
    records: &Records,
    config: &Compiled,
    method: Method,
    validate_ms: f64,
) -> FusionOutput {
    let mut timings = vec![("validate", validate_ms)];
    let started = Instant::now();
    let index = BlockingIndex::new(records, config);
    match method {
        Method::Index => {
            // Records laid out cell by cell, so every later phase reads memory that is close.
            let order = index.locality_order();
            let local = records.gather(&order);
            let index = index.rearranged(&local, &order);
            timings.push(("index", ms(started)));
            let started = Instant::now();
            let (pairs, stats) = index.candidates_unsorted();
            timings.push(("block", ms(started)));
            fuse_candidates(&local, Origin(Some(&order)), config, pairs, stats, timings)
        }
        Method::Pairwise => {
            timings.push(("index", ms(started)));
            let started = Instant::now();
            let (pairs, stats) = pairwise::candidates(&index, &records.node);
            timings.push(("block", ms(started)));
            fuse_candidates(records, Origin(None), config, pairs, stats, timings)
        }
    }
}

/// Scores the candidate pairs of `records`, clusters the accepted ones and builds the events.
fn fuse_candidates(
    records: &Records,
    origin: Origin<'_>,
    config: &Compiled,
    pairs: Vec<Pair>,
    block_stats: BlockStats,
    mut timings: Vec<(&'static str, f64)>,
) -> FusionOutput {
    let started = Instant::now();
    let probs = score_pairs(config, records, &pairs);
    timings.push(("score", ms(started)));

    let started = Instant::now();
    let candidates = pairs.len() as u64;
    let accepted: Vec<Edge> = pairs
        .into_par_iter()
        .zip(probs.into_par_iter())
        .filter(|&(_, p)| p >= config.threshold)
        .map(|((a, b), p)| (a, b, p))
        .collect();
    let components = Components::new(records.len(), accepted);
    timings.push(("cluster", ms(started)));

    let started = Instant::now();
    let (events, matched) = fuse_components(records, origin, config, &components);
    timings.push(("events", ms(started)));

    FusionOutput {
        events,
        stats: FusionStats {
            records: records.len() as u64,
            blocks: block_stats.blocks,
            largest_block: block_stats.largest_block,
            candidates,
            scored: candidates,
            matched,
            timings_ms: timings,
        },
    }
}
