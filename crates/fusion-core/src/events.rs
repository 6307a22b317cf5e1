//! Fused events: each connected component of accepted pairs is clustered on its own (with the
//! `onePerNode` constraint), in parallel, and its clusters become events; events are then
//! ordered by time and first record.
//!
//! The result equals one greedy pass over all accepted pairs in order of falling probability
//! (ties by record pair): a pair's fate depends only on the clusters of its two records, which
//! only earlier pairs of the same component have shaped.

use rayon::prelude::*;

use crate::cluster::{Clusters, Components};
use crate::config::Compiled;
use crate::geo::centroid;
use crate::records::{Column, Records};

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

/// Original row of each record of the records being fused: `None` when they are the input
/// rows themselves, else the order they were laid out in (row `k` is input row `order[k]`).
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a>(pub Option<&'a [u32]>);

impl Origin<'_> {
    #[inline]
    pub fn of(&self, k: u32) -> u32 {
        match self.0 {
            Some(order) => order[k as usize],
            None => k,
        }
    }
}

/// Events in the order they were made, with members as input rows.
#[derive(Default)]
struct Chunk {
    /// End of each event's members in `members`.
    ends: Vec<u32>,
    members: Vec<u32>,
    class: Vec<Option<u32>>,
    t: Vec<f64>,
    lat: Vec<f64>,
    lon: Vec<f64>,
    score: Vec<f64>,
    matched: u64,
}

impl Chunk {
    fn push(&mut self, summary: Summary, score: f64) {
        self.ends.push(self.members.len() as u32);
        self.class.push(summary.class);
        self.t.push(summary.t);
        self.lat.push(summary.lat);
        self.lon.push(summary.lon);
        self.score.push(score);
    }

    fn append(mut self, other: Chunk) -> Chunk {
        let base = self.members.len() as u32;
        self.ends.extend(other.ends.iter().map(|e| e + base));
        self.members.extend(other.members);
        self.class.extend(other.class);
        self.t.extend(other.t);
        self.lat.extend(other.lat);
        self.lon.extend(other.lon);
        self.score.extend(other.score);
        self.matched += other.matched;
        self
    }

    fn start(&self, e: usize) -> usize {
        if e == 0 {
            0
        } else {
            self.ends[e - 1] as usize
        }
    }
}

/// A pair of one component in clustering order: (sort key: falling probability, then input
/// rows), the two records' positions in the component, the probability.
type OrderedPair = ((u64, u32, u32), u32, u32, f64);

/// Working memory of one thread, reused from component to component.
#[derive(Default)]
struct Scratch {
    pairs: Vec<OrderedPair>,
    nodes: Vec<u32>,
    clusters: Clusters,
    /// Cluster of each position (clusters numbered by first position).
    cluster_of: Vec<u32>,
    /// Cluster number of each root, then each cluster's next free place in `grouped`.
    slot: Vec<u32>,
    /// Matched probability sum and count of each cluster.
    sums: Vec<(f64, u64)>,
    /// Members grouped by cluster: cluster `k` is `grouped[starts[k] .. starts[k + 1]]`.
    starts: Vec<u32>,
    grouped: Vec<u32>,
}

/// What fusing needs besides the component: the records, their input rows, the config.
struct Context<'a> {
    records: &'a Records,
    origin: Origin<'a>,
    config: &'a Compiled,
    components: &'a Components,
}

impl Context<'_> {
    /// Clusters component `c` and appends its events to `out`.
    fn fuse_component(&self, c: usize, scratch: &mut Scratch, out: &mut Chunk) {
        let members = self.components.members(c);
        if let [only] = members {
            out.members.push(self.origin.of(*only));
            out.push(describe(self.records, self.config, members), 0.0);
            return;
        }
        // Pairs by falling probability, ties by input rows: the order of the one global pass.
        scratch.pairs.clear();
        for &(a, b, p) in self.components.edges(c) {
            let (oa, ob) = (self.origin.of(a), self.origin.of(b));
            scratch.pairs.push((
                (!p.to_bits(), oa.min(ob), oa.max(ob)),
                self.components.position(a),
                self.components.position(b),
                p,
            ));
        }
        scratch.pairs.sort_unstable_by_key(|pair| pair.0);
        scratch.nodes.clear();
        scratch
            .nodes
            .extend(members.iter().map(|&m| self.records.node[m as usize]));
        scratch.clusters.reset(&scratch.nodes);
        for &(_, a, b, _) in &scratch.pairs {
            scratch.clusters.union(a, b, self.config.one_per_node);
        }
        // Clusters numbered by first position; each one's matched pairs summed in pair order.
        let m = members.len();
        scratch.slot.clear();
        scratch.slot.resize(m, u32::MAX);
        scratch.cluster_of.clear();
        let mut clusters = 0u32;
        for x in 0..m as u32 {
            let root = scratch.clusters.find(x) as usize;
            if scratch.slot[root] == u32::MAX {
                scratch.slot[root] = clusters;
                clusters += 1;
            }
            scratch.cluster_of.push(scratch.slot[root]);
        }
        scratch.sums.clear();
        scratch.sums.resize(clusters as usize, (0.0, 0));
        for &(_, a, b, p) in &scratch.pairs {
            let k = scratch.cluster_of[a as usize];
            if k == scratch.cluster_of[b as usize] {
                let sum = &mut scratch.sums[k as usize];
                sum.0 += p;
                sum.1 += 1;
            }
        }
        // Members grouped by cluster in one counting pass (a hot component can hold thousands
        // of clusters; scanning it once per cluster would be quadratic).
        scratch.starts.clear();
        scratch.starts.resize(clusters as usize + 1, 0);
        for &k in &scratch.cluster_of {
            scratch.starts[k as usize + 1] += 1;
        }
        for k in 0..clusters as usize {
            scratch.starts[k + 1] += scratch.starts[k];
        }
        scratch.grouped.clear();
        scratch.grouped.resize(m, 0);
        scratch.slot.clear();
        scratch
            .slot
            .extend_from_slice(&scratch.starts[..clusters as usize]);
        for (x, &member) in members.iter().enumerate() {
            let at = &mut scratch.slot[scratch.cluster_of[x] as usize];
            scratch.grouped[*at as usize] = member;
            *at += 1;
        }
        for k in 0..clusters as usize {
            let local =
                &scratch.grouped[scratch.starts[k] as usize..scratch.starts[k + 1] as usize];
            let from = out.members.len();
            out.members
                .extend(local.iter().map(|&member| self.origin.of(member)));
            out.members[from..].sort_unstable();
            let (sum, count) = scratch.sums[k];
            out.matched += count;
            let score = if count == 0 { 0.0 } else { sum / count as f64 };
            out.push(describe(self.records, self.config, local), score);
        }
    }
}

/// Clusters every component and returns the events, sorted by time, then first input row,
/// with the number of accepted pairs that ended inside one event.
pub fn fuse_components(
    records: &Records,
    origin: Origin<'_>,
    config: &Compiled,
    components: &Components,
) -> (Events, u64) {
    let context = Context {
        records,
        origin,
        config,
        components,
    };
    let chunk = (0..components.len())
        .into_par_iter()
        .fold(
            || (Chunk::default(), Scratch::default()),
            |(mut out, mut scratch), c| {
                context.fuse_component(c, &mut scratch, &mut out);
                (out, scratch)
            },
        )
        .map(|(out, _)| out)
        .reduce(Chunk::default, Chunk::append);
    // Order by (time, first member): keys held inline so the sort streams through memory.
    let mut order: Vec<(u64, u32, u32)> = (0..chunk.t.len())
        .into_par_iter()
        .map(|e| {
            (
                total_order_key(chunk.t[e]),
                chunk.members[chunk.start(e)],
                e as u32,
            )
        })
        .collect();
    order.par_sort_unstable();
    let mut offsets = Vec::with_capacity(order.len() + 1);
    offsets.push(0u32);
    for &(_, _, e) in &order {
        let e = e as usize;
        offsets.push(
            offsets.last().copied().unwrap_or(0) + (chunk.ends[e] as usize - chunk.start(e)) as u32,
        );
    }
    let column = |values: &Vec<f64>| -> Vec<f64> {
        order
            .par_iter()
            .map(|&(_, _, e)| values[e as usize])
            .collect()
    };
    let events = Events {
        offsets,
        members: order
            .par_iter()
            .flat_map_iter(|&(_, _, e)| {
                let e = e as usize;
                chunk.members[chunk.start(e)..chunk.ends[e] as usize]
                    .iter()
                    .copied()
            })
            .collect(),
        class: order
            .par_iter()
            .map(|&(_, _, e)| chunk.class[e as usize])
            .collect(),
        t: column(&chunk.t),
        lat: column(&chunk.lat),
        lon: column(&chunk.lon),
        score: column(&chunk.score),
    };
    (events, chunk.matched)
}

/// A key whose unsigned order is `f64::total_cmp`'s order.
fn total_order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_order_key_orders_like_total_cmp() {
        let values = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -0.0,
            0.0,
            1e-300,
            1.0,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        for a in values {
            for b in values {
                assert_eq!(
                    total_order_key(a).cmp(&total_order_key(b)),
                    a.total_cmp(&b),
                    "{a} vs {b}"
                );
            }
        }
    }
}
