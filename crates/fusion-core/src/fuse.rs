//! The fusion pipeline: validate → block → score → cluster → fused events.

use std::time::Instant;

use rayon::prelude::*;

use crate::blocking::{BlockStats, BlockingIndex, Pair};
use crate::cluster::Clusters;
use crate::config::Compiled;
use crate::error::Result;
use crate::geo::centroid;
use crate::pairwise;
use crate::records::{Column, Records};
use crate::scoring::score_pairs;

/// How candidate pairs are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// One global blocking index over all nodes.
    Index,
    /// The legacy loop: blocking inside every pair of nodes.
    Pairwise,
}

/// One fused event (a view into [`Events`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusedEvent<'a> {
    /// Record indices, ascending.
    pub members: &'a [u32],
    /// Majority code of the class field (ties to the smaller string), if the schema has one.
    pub class: Option<u32>,
    /// Mean time, NaN without a time field.
    pub t: f64,
    /// Centroid, NaN without a geo field.
    pub lat: f64,
    pub lon: f64,
    /// Mean match probability of the matched pairs inside the event; 0 for a single record.
    pub score: f64,
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

/// Fused events in columns, sorted by time, then first member: event `e` has the records
/// `members[offsets[e] .. offsets[e + 1]]` (ascending). Columns, not a `Vec` per event, so a
/// million records cost a handful of allocations and cross to JS as typed arrays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Events {
    pub offsets: Vec<u32>,
    pub members: Vec<u32>,
    pub class: Vec<Option<u32>>,
    pub t: Vec<f64>,
    pub lat: Vec<f64>,
    pub lon: Vec<f64>,
    pub score: Vec<f64>,
}

impl Events {
    pub fn len(&self) -> usize {
        self.t.len()
    }

    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }

    /// Event `e`.
    pub fn get(&self, e: usize) -> FusedEvent<'_> {
        FusedEvent {
            members: &self.members[self.offsets[e] as usize..self.offsets[e + 1] as usize],
            class: self.class[e],
            t: self.t[e],
            lat: self.lat[e],
            lon: self.lon[e],
            score: self.score[e],
        }
    }

    /// Every event, in order.
    pub fn iter(&self) -> impl Iterator<Item = FusedEvent<'_>> {
        (0..self.len()).map(|e| self.get(e))
    }
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
    Ok(find_candidates(records, config, method))
}

fn find_candidates(
    records: &Records,
    config: &Compiled,
    method: Method,
) -> (Vec<Pair>, BlockStats) {
    let index = BlockingIndex::new(records, config);
    match method {
        Method::Index => index.candidates(),
        Method::Pairwise => pairwise::candidates(&index, &records.node),
    }
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
    let mut timings = vec![("validate", validate_ms)];

    let started = Instant::now();
    let (pairs, block_stats) = find_candidates(records, config, method);
    timings.push(("block", ms(started)));

    let started = Instant::now();
    let probs = score_pairs(config, records, &pairs);
    timings.push(("score", ms(started)));

    let started = Instant::now();
    // Accepted pairs, strongest evidence first; ties broken by the pair, so the result never
    // depends on thread scheduling. A probability's bits order like the probability (it is
    // never negative), so the sort key is plain integers held inline.
    let mut accepted: Vec<(u64, Pair, f64)> = pairs
        .par_iter()
        .zip(probs.par_iter())
        .filter(|(_, &p)| p >= config.threshold)
        .map(|(&pair, &p)| (!p.to_bits(), pair, p))
        .collect();
    accepted.par_sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut clusters = Clusters::new(&records.node);
    for &(_, (i, j), _) in &accepted {
        clusters.union(i, j, config.one_per_node);
    }
    timings.push(("cluster", ms(started)));

    let started = Instant::now();
    let n = records.len();
    let roots: Vec<u32> = (0..n as u32).map(|i| clusters.find(i)).collect();
    // Groups numbered in order of their first (smallest) record; members laid out flat.
    let mut slot = vec![u32::MAX; n];
    let mut group_of = vec![0u32; n];
    let mut sizes: Vec<u32> = Vec::new();
    for (i, &r) in roots.iter().enumerate() {
        let s = &mut slot[r as usize];
        if *s == u32::MAX {
            *s = sizes.len() as u32;
            sizes.push(0);
        }
        group_of[i] = *s;
        sizes[*s as usize] += 1;
    }
    let groups = sizes.len();
    let mut starts = Vec::with_capacity(groups + 1);
    starts.push(0u32);
    for &size in &sizes {
        starts.push(starts.last().copied().unwrap_or(0) + size);
    }
    let mut fill = starts.clone();
    let mut flat = vec![0u32; n];
    for (i, &g) in group_of.iter().enumerate() {
        flat[fill[g as usize] as usize] = i as u32;
        fill[g as usize] += 1;
    }
    let mut score_sum = vec![0.0f64; groups];
    let mut score_count = vec![0u64; groups];
    for &(_, (i, j), prob) in &accepted {
        if roots[i as usize] == roots[j as usize] {
            let g = group_of[i as usize] as usize;
            score_sum[g] += prob;
            score_count[g] += 1;
        }
    }
    let matched = score_count.iter().sum();
    let members_of = |g: usize| &flat[starts[g] as usize..starts[g + 1] as usize];
    let summaries: Vec<Summary> = (0..groups)
        .into_par_iter()
        .map(|g| describe(records, config, members_of(g)))
        .collect();
    let mut order: Vec<u32> = (0..groups as u32).collect();
    order.par_sort_unstable_by(|&a, &b| {
        summaries[a as usize]
            .t
            .total_cmp(&summaries[b as usize].t)
            .then(members_of(a as usize)[0].cmp(&members_of(b as usize)[0]))
    });
    let mut offsets = Vec::with_capacity(groups + 1);
    offsets.push(0u32);
    for &g in &order {
        offsets.push(offsets.last().copied().unwrap_or(0) + sizes[g as usize]);
    }
    let events = Events {
        offsets,
        members: order
            .par_iter()
            .flat_map_iter(|&g| members_of(g as usize).iter().copied())
            .collect(),
        class: order
            .par_iter()
            .map(|&g| summaries[g as usize].class)
            .collect(),
        t: order.par_iter().map(|&g| summaries[g as usize].t).collect(),
        lat: order
            .par_iter()
            .map(|&g| summaries[g as usize].lat)
            .collect(),
        lon: order
            .par_iter()
            .map(|&g| summaries[g as usize].lon)
            .collect(),
        score: order
            .par_iter()
            .map(|&g| {
                let g = g as usize;
                if score_count[g] == 0 {
                    0.0
                } else {
                    score_sum[g] / score_count[g] as f64
                }
            })
            .collect(),
    };
    timings.push(("events", ms(started)));

    FusionOutput {
        events,
        stats: FusionStats {
            records: n as u64,
            blocks: block_stats.blocks,
            largest_block: block_stats.largest_block,
            candidates: pairs.len() as u64,
            scored: pairs.len() as u64,
            matched,
            timings_ms: timings,
        },
    }
}

/// What describes an event besides its members and score.
struct Summary {
    class: Option<u32>,
    t: f64,
    lat: f64,
    lon: f64,
}

/// Values of one event's members in a canonical (sorted) order, so that sums, and with them
/// centroids, do not depend on the order the records came in. Events are small: up to 8
/// values stay on the stack.
struct Canonical {
    inline: [(f64, f64); 8],
    len: usize,
    spill: Vec<(f64, f64)>,
}

impl Canonical {
    fn new() -> Self {
        Canonical {
            inline: [(0.0, 0.0); 8],
            len: 0,
            spill: Vec::new(),
        }
    }

    fn push(&mut self, value: (f64, f64)) {
        if self.len < self.inline.len() {
            self.inline[self.len] = value;
        } else {
            if self.spill.is_empty() {
                self.spill.extend_from_slice(&self.inline);
            }
            self.spill.push(value);
        }
        self.len += 1;
    }

    fn sorted(&mut self) -> &[(f64, f64)] {
        let values = if self.len <= self.inline.len() {
            &mut self.inline[..self.len]
        } else {
            &mut self.spill[..]
        };
        values.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        values
    }
}

fn describe(records: &Records, config: &Compiled, members: &[u32]) -> Summary {
    let class = config.class_field.and_then(|f| match &records.columns[f] {
        Column::Category { codes, dictionary } => {
            let mut counts: Vec<(u32, u32)> = Vec::new();
            for &m in members {
                let c = codes[m as usize];
                if c == crate::records::MISSING_CODE {
                    continue;
                }
                match counts.iter_mut().find(|(code, _)| *code == c) {
                    Some(entry) => entry.1 += 1,
                    None => counts.push((c, 1)),
                }
            }
            counts
                .into_iter()
                .max_by(|a, b| {
                    a.1.cmp(&b.1)
                        .then_with(|| dictionary[b.0 as usize].cmp(&dictionary[a.0 as usize]))
                })
                .map(|(code, _)| code)
        }
        _ => None,
    });
    let t = config
        .time_field
        .map(|f| {
            let column = &records.columns[f];
            let mut values = Canonical::new();
            for &m in members {
                let v = column.num_at(m as usize);
                if !v.is_nan() {
                    values.push((v, 0.0));
                }
            }
            match values.sorted() {
                [] => f64::NAN,
                [(v, _)] => *v,
                all => all.iter().map(|(v, _)| v).sum::<f64>() / all.len() as f64,
            }
        })
        .unwrap_or(f64::NAN);
    let (lat, lon) = config
        .position_field
        .map(|f| {
            let column = &records.columns[f];
            let mut points = Canonical::new();
            for &m in members {
                let point = column.geo_at(m as usize);
                if !point.0.is_nan() {
                    points.push(point);
                }
            }
            match points.sorted() {
                [] => (f64::NAN, f64::NAN),
                [one] => *one,
                all => centroid(all.iter().copied()),
            }
        })
        .unwrap_or((f64::NAN, f64::NAN));
    Summary { class, t, lat, lon }
}
