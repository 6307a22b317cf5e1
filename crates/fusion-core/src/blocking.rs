//! The global blocking index: candidate pairs from every node at once.
//!
//! Each pass keys every record by a cell: the exact parts' values (interned), the window parts'
//! buckets (width just over the window) and the geo parts' grid cells ([`GeoGrid`]). A cell is
//! compared with itself and with each neighbouring cell whose key is greater, so every pair of
//! cells is visited once; every pair found is then gated by the exact predicates. A pair that an
//! earlier pass already accepts is left to that pass, so each pair comes out once however many
//! passes there are. The result equals a brute-force check of the predicates over all
//! cross-node pairs ([`brute_force_candidates`]), bucket edges included.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::config::{Compiled, Part, MAX_KEY_DIMS};
use crate::geo::{within_m, GeoGrid};
use crate::records::{Column, Records};

/// Relative slack of window buckets over the window, so rounding never splits a true pair by
/// two buckets.
const BUCKET_SLACK: f64 = 1e-6;

/// Largest bucket number (in magnitude) kept relative to 0; beyond it buckets are counted from
/// the smallest value so the quotient keeps enough precision for the slack.
const ABSOLUTE_BUCKETS_UP_TO: f64 = 1e9;

/// Where window buckets of `width` are counted from: 0 (so bucket edges do not depend on the
/// data) unless the values are too large for that to stay exact, then the smallest value.
pub fn bucket_origin(values: impl Iterator<Item = f64>, width: f64) -> f64 {
    let (lo, hi) = values
        .filter(|v| !v.is_nan())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() || lo.abs().max(hi.abs()) / width < ABSOLUTE_BUCKETS_UP_TO {
        0.0
    } else {
        lo
    }
}

/// Bucket of `value` for a window of `width` (buckets are a little wider than the window).
pub fn window_bucket(value: f64, origin: f64, width: f64) -> i64 {
    ((value - origin) / (width * (1.0 + BUCKET_SLACK))).floor() as i64
}

/// Lower edge of bucket `k` (the inverse of [`window_bucket`]).
pub fn window_bucket_edge(k: i64, origin: f64, width: f64) -> f64 {
    origin + k as f64 * width * (1.0 + BUCKET_SLACK)
}

/// A candidate pair of record indices, `a < b`.
pub type Pair = (u32, u32);

/// Counts of one blocking run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockStats {
    /// Non-empty cells, summed over passes.
    pub blocks: u64,
    /// Records in the largest cell (a hot block shows here; it is never dropped).
    pub largest_block: u64,
    /// Record pairs compared by the exact gates.
    pub compared: u64,
}

impl BlockStats {
    /// Adds another run's counts (largest block is the maximum).
    pub fn absorb(&mut self, other: BlockStats) {
        self.blocks += other.blocks;
        self.largest_block = self.largest_block.max(other.largest_block);
        self.compared += other.compared;
    }
}

/// How one part's key dimensions are laid out and searched.
#[derive(Debug, Clone)]
enum Layout {
    Exact,
    Window,
    Geo(GeoGrid),
}

/// Cell keys of every record for one pass.
#[derive(Debug)]
struct PassKeys {
    dims: usize,
    layout: Vec<Layout>,
    /// `n * dims` key values.
    keys: Vec<i64>,
    /// Whether the record has every value the pass needs.
    valid: Vec<bool>,
}

impl PassKeys {
    fn key(&self, i: u32) -> &[i64] {
        let s = i as usize * self.dims;
        &self.keys[s..s + self.dims]
    }
}

fn prefix_of(s: &str, prefix: Option<usize>) -> &str {
    match prefix {
        Some(n) => match s.char_indices().nth(n) {
            Some((end, _)) => &s[..end],
            None => s,
        },
        None => s,
    }
}

/// The blocking index over a set of records: every pass's cell keys plus the exact gates.
pub struct BlockingIndex<'a> {
    records: &'a Records,
    config: &'a Compiled,
    passes: Vec<PassKeys>,
}

impl<'a> BlockingIndex<'a> {
    /// Keys every record for every pass. `records` must have been validated against `config`.
    pub fn new(records: &'a Records, config: &'a Compiled) -> Self {
        let passes = config
            .passes
            .iter()
            .map(|parts| Self::key_pass(records, parts))
            .collect();
        Self {
            records,
            config,
            passes,
        }
    }

    fn key_pass(records: &Records, parts: &[Part]) -> PassKeys {
        let n = records.len();
        let mut layout = Vec::with_capacity(parts.len());
        let mut dims = 0;
        for part in parts {
            match part {
                Part::Exact { .. } => {
                    layout.push(Layout::Exact);
                    dims += 1;
                }
                Part::Window { .. } => {
                    layout.push(Layout::Window);
                    dims += 1;
                }
                Part::Geo { field, radius_m } => {
                    let mut grid = GeoGrid::new(*radius_m);
                    let column = &records.columns[*field];
                    let (lo, hi) = (0..n)
                        .map(|i| column.geo_at(i).0)
                        .filter(|lat| !lat.is_nan())
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                            (lo.min(v), hi.max(v))
                        });
                    grid.cache_bands(lo, hi);
                    layout.push(Layout::Geo(grid));
                    dims += 2;
                }
            }
        }
        let mut keys = vec![0i64; n * dims];
        let mut valid = vec![true; n];
        let mut d = 0;
        for (part, lay) in parts.iter().zip(&layout) {
            let column = &records.columns[part.field()];
            for (i, v) in valid.iter_mut().enumerate() {
                *v &= column.present(i);
            }
            match (part, lay) {
                (Part::Exact { prefix, .. }, _) => match (column, prefix) {
                    (Column::Category { codes, .. }, None) => {
                        for (i, &c) in codes.iter().enumerate() {
                            keys[i * dims + d] = c as i64;
                        }
                    }
                    _ => {
                        let mut interned: FxHashMap<&str, i64> = FxHashMap::default();
                        for i in 0..n {
                            if let Some(s) = column.str_at(i) {
                                let next = interned.len() as i64;
                                keys[i * dims + d] =
                                    *interned.entry(prefix_of(s, *prefix)).or_insert(next);
                            }
                        }
                    }
                },
                (Part::Window { width, .. }, _) => {
                    let origin = bucket_origin((0..n).map(|i| column.num_at(i)), *width);
                    let out: Vec<i64> = (0..n)
                        .into_par_iter()
                        .map(|i| {
                            let v = column.num_at(i);
                            if v.is_nan() {
                                0
                            } else {
                                window_bucket(v, origin, *width)
                            }
                        })
                        .collect();
                    for (i, k) in out.into_iter().enumerate() {
                        keys[i * dims + d] = k;
                    }
                }
                (Part::Geo { .. }, Layout::Geo(grid)) => {
                    let out: Vec<(i64, i64)> = (0..n)
                        .into_par_iter()
                        .map(|i| {
                            let (lat, lon) = column.geo_at(i);
                            if lat.is_nan() {
                                (0, 0)
                            } else {
                                grid.cell_of(lat, lon)
                            }
                        })
                        .collect();
                    for (i, (b, c)) in out.into_iter().enumerate() {
                        keys[i * dims + d] = b;
                        keys[i * dims + d + 1] = c;
                    }
                }
                (Part::Geo { .. }, _) => unreachable!("geo part without a geo layout"),
            }
            d += match part {
                Part::Geo { .. } => 2,
                _ => 1,
            };
        }
        PassKeys {
            dims,
            layout,
            keys,
            valid,
        }
    }

    /// An order of the records that keeps each cell of the first pass, and each row of its
    /// neighbouring cells, together: records sorted by that pass's cell key (records the pass
    /// cannot key last), ties by index. Fusing records laid out in this order touches memory
    /// cell by cell instead of record by record all over the input.
    pub fn locality_order(&self) -> Vec<u32> {
        match self.passes.first() {
            None => (0..self.records.len() as u32).collect(),
            Some(keys) => match keys.dims {
                1 => order_by_cell::<1>(keys),
                2 => order_by_cell::<2>(keys),
                3 => order_by_cell::<3>(keys),
                4 => order_by_cell::<4>(keys),
                _ => order_by_cell::<MAX_KEY_DIMS>(keys),
            },
        }
    }

    /// This index over `records`, which are this index's records in `order` (row `k` of
    /// `records` is row `order[k]` of this index's), without keying them again.
    pub fn rearranged<'b>(&self, records: &'b Records, order: &[u32]) -> BlockingIndex<'b>
    where
        'a: 'b,
    {
        debug_assert_eq!(records.len(), order.len());
        let passes = self
            .passes
            .iter()
            .map(|keys| PassKeys {
                dims: keys.dims,
                layout: keys.layout.clone(),
                keys: order
                    .par_iter()
                    .flat_map_iter(|&i| keys.key(i).iter().copied())
                    .collect(),
                valid: order.par_iter().map(|&i| keys.valid[i as usize]).collect(),
            })
            .collect();
        BlockingIndex {
            records,
            config: self.config,
            passes,
        }
    }

    /// Whether records `i` and `j` satisfy every part of pass `p` (the exact gate).
    pub fn pass_holds(&self, p: usize, i: u32, j: u32) -> bool {
        let keys = &self.passes[p];
        if !keys.valid[i as usize] || !keys.valid[j as usize] {
            return false;
        }
        let (ki, kj) = (keys.key(i), keys.key(j));
        let mut d = 0;
        for part in &self.config.passes[p] {
            let column = &self.records.columns[part.field()];
            let ok = match *part {
                Part::Exact { .. } => {
                    d += 1;
                    ki[d - 1] == kj[d - 1]
                }
                Part::Window { width, .. } => {
                    d += 1;
                    (column.num_at(i as usize) - column.num_at(j as usize)).abs() <= width
                }
                Part::Geo { radius_m, .. } => {
                    d += 2;
                    let (a, b) = (column.geo_at(i as usize), column.geo_at(j as usize));
                    within_m(a.0, a.1, b.0, b.1, radius_m)
                }
            };
            if !ok {
                return false;
            }
        }
        true
    }

    /// Whether pass `p` is the first pass that makes `(i, j)` a candidate.
    #[inline]
    fn first_pass_of(&self, p: usize, i: u32, j: u32) -> bool {
        self.records.node[i as usize] != self.records.node[j as usize]
            && self.pass_holds(p, i, j)
            && (0..p).all(|q| !self.pass_holds(q, i, j))
    }

    /// Groups `subset` into cells of pass `p`: record order, cell starts, key → cell.
    fn cells<'k>(&'k self, p: usize, subset: &[u32], parallel: bool) -> CellTable<'k> {
        let keys = &self.passes[p];
        match keys.dims {
            1 => cell_table::<1>(keys, subset, parallel),
            2 => cell_table::<2>(keys, subset, parallel),
            3 => cell_table::<3>(keys, subset, parallel),
            4 => cell_table::<4>(keys, subset, parallel),
            _ => cell_table::<MAX_KEY_DIMS>(keys, subset, parallel),
        }
    }

    /// Candidates of pass `p` that start in cell `cell` of `table`: pairs inside the cell, and
    /// pairs with every neighbouring cell whose key is greater. Neighbours are found by row (the
    /// key without its last dimension, one hash lookup) and then by a binary search on the last
    /// dimension within the row.
    fn cell_candidates(
        &self,
        p: usize,
        table: &CellTable<'_>,
        cell: usize,
        scratch: &mut Scratch,
        out: &mut Vec<Pair>,
    ) -> u64 {
        let keys = &self.passes[p];
        let dims = keys.dims;
        let members = table.members(cell);
        let own = keys.key(members[0]);
        let (own_prefix, own_last) = (&own[..dims - 1], own[dims - 1]);
        let mut compared = 0u64;
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                compared += 1;
                if self.first_pass_of(p, i, j) {
                    out.push((i.min(j), i.max(j)));
                }
            }
        }
        // Alternatives of every part but the last; the last part's as ranges of the last key
        // dimension (for a geo part, one or two ranges per neighbouring band).
        scratch.alternatives.clear();
        scratch.geo.clear();
        scratch.tail.clear();
        let last_part = keys.layout.len() - 1;
        let mut d = 0;
        for (k, lay) in keys.layout.iter().enumerate() {
            let is_last = k == last_part;
            match lay {
                Layout::Exact => {
                    if is_last {
                        scratch.tail.push((None, own[d], own[d]));
                    } else {
                        scratch.alternatives.push(Alternatives::One(own[d]));
                    }
                    d += 1;
                }
                Layout::Window => {
                    if is_last {
                        scratch.tail.push((None, own[d] - 1, own[d] + 1));
                    } else {
                        scratch.alternatives.push(Alternatives::Three(own[d]));
                    }
                    d += 1;
                }
                Layout::Geo(grid) => {
                    if is_last {
                        scratch.ranges.clear();
                        grid.neighbour_ranges(own[d], own[d + 1], &mut scratch.ranges);
                        scratch
                            .tail
                            .extend(scratch.ranges.iter().map(|&(b, lo, hi)| (Some(b), lo, hi)));
                    } else {
                        let start = scratch.geo.len();
                        grid.neighbours(own[d], own[d + 1], &mut scratch.geo);
                        scratch
                            .alternatives
                            .push(Alternatives::Geo(start, scratch.geo.len()));
                    }
                    d += 2;
                }
            }
        }
        let mut choice = [0usize; MAX_KEY_DIMS];
        let mut prefix = [0i64; MAX_KEY_DIMS];
        let parts = scratch.alternatives.len();
        loop {
            // The prefix of the current combination of the leading parts.
            let mut d = 0;
            for (k, alt) in scratch.alternatives.iter().enumerate() {
                match *alt {
                    Alternatives::One(v) => {
                        prefix[d] = v;
                        d += 1;
                    }
                    Alternatives::Three(v) => {
                        prefix[d] = v - 1 + choice[k] as i64;
                        d += 1;
                    }
                    Alternatives::Geo(s, _) => {
                        let (b, c) = scratch.geo[s + choice[k]];
                        prefix[d] = b;
                        prefix[d + 1] = c;
                        d += 2;
                    }
                }
            }
            for &(band, lo, hi) in &scratch.tail {
                let len = match band {
                    Some(b) => {
                        prefix[d] = b;
                        d + 1
                    }
                    None => d,
                };
                let row_key = &prefix[..len];
                let from = match row_key.cmp(own_prefix) {
                    std::cmp::Ordering::Less => continue,
                    std::cmp::Ordering::Equal => lo.max(own_last + 1),
                    std::cmp::Ordering::Greater => lo,
                };
                if from > hi {
                    continue;
                }
                let Some(&(row_start, row_end)) = table.rows.get(row_key) else {
                    continue;
                };
                let (row_start, row_end) = (row_start as usize, row_end as usize);
                let mut other =
                    row_start + table.last[row_start..row_end].partition_point(|&v| v < from);
                while other < row_end && table.last[other] <= hi {
                    for &i in members {
                        for &j in table.members(other) {
                            compared += 1;
                            if self.first_pass_of(p, i, j) {
                                out.push((i.min(j), i.max(j)));
                            }
                        }
                    }
                    other += 1;
                }
            }
            // Advance the odometer.
            let mut k = 0;
            loop {
                if k == parts {
                    return compared;
                }
                choice[k] += 1;
                if choice[k] < scratch.alternatives[k].count() {
                    break;
                }
                choice[k] = 0;
                k += 1;
            }
        }
    }

    /// Every candidate pair over all records, sorted; blocks in parallel.
    pub fn candidates(&self) -> (Vec<Pair>, BlockStats) {
        let (mut pairs, stats) = self.candidates_unsorted();
        pairs.par_sort_unstable();
        (pairs, stats)
    }

    /// Every candidate pair over all records, cell by cell rather than sorted; blocks in
    /// parallel.
    pub fn candidates_unsorted(&self) -> (Vec<Pair>, BlockStats) {
        let all: Vec<u32> = (0..self.records.len() as u32).collect();
        let mut pairs = Vec::new();
        let mut stats = BlockStats::default();
        for p in 0..self.passes.len() {
            let table = self.cells(p, &all, true);
            stats.blocks += table.len() as u64;
            stats.largest_block = stats.largest_block.max(table.largest() as u64);
            let chunks: Vec<(Vec<Pair>, u64)> = (0..table.len())
                .into_par_iter()
                .fold(
                    || (Vec::new(), 0u64, Scratch::default()),
                    |(mut out, mut compared, mut scratch), cell| {
                        compared += self.cell_candidates(p, &table, cell, &mut scratch, &mut out);
                        (out, compared, scratch)
                    },
                )
                .map(|(out, compared, _)| (out, compared))
                .collect();
            for (chunk, compared) in chunks {
                stats.compared += compared;
                pairs.extend(chunk);
            }
        }
        (pairs, stats)
    }

    /// Candidate pairs among `subset` only (used per node pair by the legacy algorithm),
    /// appended to `out` unsorted.
    pub fn candidates_within(&self, subset: &[u32], out: &mut Vec<Pair>) -> BlockStats {
        let mut stats = BlockStats::default();
        let mut scratch = Scratch::default();
        for p in 0..self.passes.len() {
            let table = self.cells(p, subset, false);
            let mut local = BlockStats {
                blocks: table.len() as u64,
                largest_block: table.largest() as u64,
                compared: 0,
            };
            for cell in 0..table.len() {
                local.compared += self.cell_candidates(p, &table, cell, &mut scratch, out);
            }
            stats.absorb(local);
        }
        stats
    }
}

/// The cell table of the valid records of `subset`. Sorts copies of the keys (`N` wide, at least
/// the pass's dimensions, zero-padded), not indices into them, and finds cell and row edges on
/// the sorted copies, so both stream through memory.
fn cell_table<'k, const N: usize>(
    keys: &'k PassKeys,
    subset: &[u32],
    parallel: bool,
) -> CellTable<'k> {
    let mut sorted: Vec<([i64; N], u32)> = subset
        .iter()
        .filter(|&&i| keys.valid[i as usize])
        .map(|&i| {
            let mut k = [0i64; N];
            k[..keys.dims].copy_from_slice(keys.key(i));
            (k, i)
        })
        .collect();
    // Records laid out in this pass's locality order arrive sorted.
    if sorted.is_sorted() {
    } else if parallel {
        sorted.par_sort_unstable();
    } else {
        sorted.sort_unstable();
    }
    let dims = keys.dims;
    let mut starts = Vec::new();
    let mut last = Vec::new();
    let mut rows: FxHashMap<&[i64], (u32, u32)> = FxHashMap::default();
    let mut row_start = 0u32;
    for pos in 0..sorted.len() {
        let key = &sorted[pos].0[..dims];
        if pos > 0 && &sorted[pos - 1].0[..dims] == key {
            continue;
        }
        let cell = starts.len() as u32;
        if pos > 0 && sorted[pos - 1].0[..dims - 1] != key[..dims - 1] {
            // The row map borrows the prefix from the records' own keys.
            rows.insert(&keys.key(sorted[pos - 1].1)[..dims - 1], (row_start, cell));
            row_start = cell;
        }
        starts.push(pos as u32);
        last.push(key[dims - 1]);
    }
    if let Some(&(_, i)) = sorted.last() {
        rows.insert(&keys.key(i)[..dims - 1], (row_start, starts.len() as u32));
    }
    starts.push(sorted.len() as u32);
    let order = sorted.into_iter().map(|(_, i)| i).collect();
    CellTable {
        order,
        starts,
        last,
        rows,
    }
}

/// Every record, sorted by (cannot be keyed, cell key, index); records the pass cannot key
/// have no cell key and go last by index.
fn order_by_cell<const N: usize>(keys: &PassKeys) -> Vec<u32> {
    match Packing::of(keys) {
        // One integer per record orders like the whole key: a sort of 16-byte items.
        Some(packing) => packed_order(keys, &packing),
        None => lexicographic_order::<N>(keys),
    }
}

fn packed_order(keys: &PassKeys, packing: &Packing) -> Vec<u32> {
    let mut sorted: Vec<(u64, u32)> = (0..keys.valid.len() as u32)
        .into_par_iter()
        .map(|i| (packing.pack(keys, i), i))
        .collect();
    sorted.par_sort_unstable();
    sorted.into_par_iter().map(|(_, i)| i).collect()
}

fn lexicographic_order<const N: usize>(keys: &PassKeys) -> Vec<u32> {
    let mut sorted: Vec<(bool, [i64; N], u32)> = (0..keys.valid.len() as u32)
        .into_par_iter()
        .map(|i| {
            let mut k = [0i64; N];
            let valid = keys.valid[i as usize];
            if valid {
                k[..keys.dims].copy_from_slice(keys.key(i));
            }
            (!valid, k, i)
        })
        .collect();
    sorted.par_sort_unstable();
    sorted.into_par_iter().map(|(_, _, i)| i).collect()
}

/// Cell keys of one pass packed into one `u64` in mixed radix (records that cannot be keyed
/// after all others), when the keys' ranges are small enough; the packed order is the keys'
/// lexicographic order.
struct Packing {
    low: Vec<i64>,
    /// Place value of each dimension.
    scale: Vec<u64>,
    /// Packed value of records the pass cannot key (larger than any packed key).
    invalid: u64,
}

impl Packing {
    fn of(keys: &PassKeys) -> Option<Packing> {
        let dims = keys.dims;
        let mut low = vec![i64::MAX; dims];
        let mut high = vec![i64::MIN; dims];
        for (i, _) in keys.valid.iter().enumerate().filter(|(_, &v)| v) {
            for (d, &k) in keys.key(i as u32).iter().enumerate() {
                low[d] = low[d].min(k);
                high[d] = high[d].max(k);
            }
        }
        let mut scale = vec![0u64; dims];
        let mut place = 1u64;
        for d in (0..dims).rev() {
            scale[d] = place;
            let span = u64::try_from(high[d].checked_sub(low[d])?).ok()? + 1;
            place = place.checked_mul(span)?;
        }
        // `place` is one more than the largest packed key: room for the invalid value.
        Some(Packing {
            low,
            scale,
            invalid: place,
        })
    }

    fn pack(&self, keys: &PassKeys, i: u32) -> u64 {
        if !keys.valid[i as usize] {
            return self.invalid;
        }
        keys.key(i)
            .iter()
            .zip(&self.low)
            .zip(&self.scale)
            .map(|((&k, &low), &scale)| (k - low) as u64 * scale)
            .sum()
    }
}

#[derive(Debug, Clone, Copy)]
enum Alternatives {
    One(i64),
    Three(i64),
    Geo(usize, usize),
}

impl Alternatives {
    fn count(&self) -> usize {
        match *self {
            Alternatives::One(_) => 1,
            Alternatives::Three(_) => 3,
            Alternatives::Geo(s, e) => e - s,
        }
    }
}

#[derive(Default)]
struct Scratch {
    alternatives: Vec<Alternatives>,
    geo: Vec<(i64, i64)>,
    /// Ranges of the last key dimension: `(band of a geo last part, first, last)`.
    tail: Vec<(Option<i64>, i64, i64)>,
    ranges: Vec<(i64, i64, i64)>,
}

struct CellTable<'k> {
    order: Vec<u32>,
    starts: Vec<u32>,
    /// Last key dimension of each cell.
    last: Vec<i64>,
    /// Key without its last dimension → the cells with that prefix (contiguous: cells are
    /// sorted by key).
    rows: FxHashMap<&'k [i64], (u32, u32)>,
}

impl CellTable<'_> {
    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    fn members(&self, cell: usize) -> &[u32] {
        &self.order[self.starts[cell] as usize..self.starts[cell + 1] as usize]
    }

    fn largest(&self) -> usize {
        self.starts
            .windows(2)
            .map(|w| (w[1] - w[0]) as usize)
            .max()
            .unwrap_or(0)
    }
}

/// Whether `(i, j)` satisfies every part of `parts`, evaluated on the raw values with no index
/// at all. The reference the index is tested against.
pub fn predicate_holds(records: &Records, parts: &[Part], i: usize, j: usize) -> bool {
    parts.iter().all(|part| {
        let column = &records.columns[part.field()];
        if !column.present(i) || !column.present(j) {
            return false;
        }
        match *part {
            Part::Exact { prefix, .. } => {
                let (a, b) = (
                    column.str_at(i).unwrap_or(""),
                    column.str_at(j).unwrap_or(""),
                );
                prefix_of(a, prefix) == prefix_of(b, prefix)
            }
            Part::Window { width, .. } => (column.num_at(i) - column.num_at(j)).abs() <= width,
            Part::Geo { radius_m, .. } => {
                let (a, b) = (column.geo_at(i), column.geo_at(j));
                within_m(a.0, a.1, b.0, b.1, radius_m)
            }
        }
    })
}

/// Every cross-node pair that satisfies some pass, by checking all `n²/2` pairs. O(n²): for
/// tests and small inputs only.
pub fn brute_force_candidates(records: &Records, config: &Compiled) -> Vec<Pair> {
    let n = records.len();
    let mut out = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            if records.node[i] != records.node[j]
                && config
                    .passes
                    .iter()
                    .any(|parts| predicate_holds(records, parts, i, j))
            {
                out.push((i as u32, j as u32));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn pass_keys(dims: usize, keys: Vec<i64>, valid: Vec<bool>) -> PassKeys {
        PassKeys {
            dims,
            layout: vec![Layout::Exact; dims],
            keys,
            valid,
        }
    }

    #[test]
    fn packed_order_is_the_lexicographic_order() {
        let mut rng = Rng::new(7);
        for case in 0..200 {
            let dims = 1 + case % 4;
            let n = rng.below(300) as usize;
            let spans: Vec<i64> = (0..dims).map(|_| 1 + rng.below(50) as i64).collect();
            let keys = (0..n * dims)
                .map(|k| rng.below(spans[k % dims] as u64) as i64 - 20)
                .collect();
            let valid = (0..n).map(|_| !rng.chance(0.1)).collect();
            let keys = pass_keys(dims, keys, valid);
            let packing = Packing::of(&keys);
            if n > 0 && keys.valid.iter().any(|&v| v) {
                let packing = packing.expect("small ranges pack");
                assert_eq!(
                    packed_order(&keys, &packing),
                    lexicographic_order::<MAX_KEY_DIMS>(&keys)
                );
            }
        }
    }

    #[test]
    fn keys_too_wide_to_pack_fall_back_to_the_full_sort() {
        let keys = pass_keys(
            2,
            vec![i64::MIN / 2, 0, i64::MAX / 2, 1, 0, i64::MAX, 5, i64::MIN],
            vec![true, true, true, false],
        );
        assert!(Packing::of(&keys).is_none());
        assert_eq!(order_by_cell::<2>(&keys), vec![0, 2, 1, 3]);
    }
}
