//! The jobs table as claimers see it: per lane (the whole queue, or one partition) the jobs in
//! id order, split into those claimed and committed, those locked by a claim that has not
//! committed yet, and the pending rest.
//!
//! Claims take the lowest pending ids, so pending jobs are always a suffix `[head, len)` of
//! their lane and locked ones are runs below `head`, one per in-flight claim, in lock order.
//! That keeps every step O(log claims in flight) without a row per job.

use std::collections::BTreeMap;

use smallvec::SmallVec;

/// Runs of rows: one or two almost always (a claim's batch, an optimistic read's locked runs
/// then pending ones), so kept inline; a claim in flight keeps its own.
pub type Runs = SmallVec<[Run; 2]>;

/// A run of positions `[start, end)` in lane `lane`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub lane: u32,
    pub start: u64,
    pub end: u64,
}

impl Run {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

#[derive(Debug, Default)]
struct Lane {
    len: u64,
    head: u64,
    /// Locked runs by start: (end, holding op).
    locked: BTreeMap<u64, (u64, u32)>,
    locked_rows: u64,
}

impl Lane {
    /// Rows claimed and committed: the dead index entries a scan of the lane passes first.
    fn dead(&self) -> u64 {
        self.head - self.locked_rows
    }
}

/// What a claimer gets from one lock attempt.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outcome {
    /// Runs now locked by the claimer.
    pub taken: Runs,
    /// Ops holding rows the claimer must wait for (then find not pending, and skip).
    pub holders: SmallVec<[u32; 4]>,
    /// Locked rows a skip-locked scan passed over.
    pub skipped: u64,
    /// Dead index entries (rows claimed and committed) the scan passed over first.
    pub dead: u64,
    /// Under optimistic-any, the candidate rows it did not take (held by other claims, or
    /// claimed and committed since it read them). PostgreSQL's update finds each one updated,
    /// locks its newest version and re-checks it (EvalPlanQual), and keeps that lock to its
    /// commit: a claim that takes nothing still writes and commits, and those re-checking the
    /// same rows after it wait for that commit.
    pub rechecked: u64,
}

impl Outcome {
    pub fn rows(&self) -> u64 {
        self.taken.iter().map(Run::len).sum()
    }
}

/// The ids an `optimistic-any` claimer read: the runs it will try to lock.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Candidates {
    pub runs: Runs,
    /// Dead index entries the read passed over first.
    pub dead: u64,
}

#[derive(Debug)]
pub struct Table {
    lanes: Vec<Lane>,
    /// Rows locked by claims in flight, over all lanes.
    locked_rows: u64,
    /// Claims in flight that hold rows.
    holders: u64,
}

impl Table {
    /// `jobs` spread round-robin over `lanes` lanes (job `i` in lane `i % lanes`).
    pub fn new(jobs: u64, lanes: u32) -> Self {
        let lanes = lanes.max(1) as u64;
        Self {
            lanes: (0..lanes)
                .map(|l| Lane {
                    len: jobs / lanes + u64::from(l < jobs % lanes),
                    ..Lane::default()
                })
                .collect(),
            locked_rows: 0,
            holders: 0,
        }
    }

    /// Jobs neither claimed nor locked.
    pub fn pending(&self) -> u64 {
        self.lanes.iter().map(|l| l.len - l.head).sum()
    }

    /// Jobs a `state = 'pending'` query still sees: pending plus locked by uncommitted claims.
    pub fn ready(&self) -> bool {
        self.locked_rows > 0 || self.pending() > 0
    }

    /// Index entries a scan of the whole queue in id order (jobs spread round-robin over the
    /// lanes) passes before the first row where `first` stops it in its lane: that row's id,
    /// or every job when no lane has one.
    fn dead_before(&self, first: impl Fn(&Lane) -> Option<u64>) -> u64 {
        let n = self.lanes.len() as u64;
        self.lanes
            .iter()
            .enumerate()
            .filter_map(|(i, l)| first(l).map(|p| p * n + i as u64))
            .min()
            .unwrap_or_else(|| self.lanes.iter().map(|l| l.len).sum())
    }

    /// Dead index entries an `EXISTS (pending)` probe of the whole queue passes before it meets
    /// a row its snapshot sees as pending (a locked row's pending version counts).
    pub fn dead_before_ready(&self) -> u64 {
        self.dead_before(|l| {
            let locked = l.locked.keys().next().copied();
            match (locked, l.head < l.len) {
                (Some(s), _) => Some(s),
                (None, true) => Some(l.head),
                (None, false) => None,
            }
        })
    }

    /// Claims in flight holding rows (under optimistic-any, everyone else waits behind them).
    pub fn holders(&self) -> u64 {
        self.holders
    }

    pub fn lane_pending(&self, lane: u32) -> u64 {
        let l = &self.lanes[lane as usize];
        l.len - l.head
    }

    fn lock(&mut self, op: u32, lane: u32, rows: u64, out: &mut Outcome) {
        if rows == 0 {
            return;
        }
        let l = &mut self.lanes[lane as usize];
        let start = l.head;
        l.head += rows;
        l.locked.insert(start, (start + rows, op));
        l.locked_rows += rows;
        self.locked_rows += rows;
        out.taken.push(Run {
            lane,
            start,
            end: start + rows,
        });
    }

    fn count_holder(&mut self, out: &Outcome) {
        if !out.taken.is_empty() {
            self.holders += 1;
        }
    }

    /// `FOR UPDATE SKIP LOCKED` on one lane: the first `batch` pending rows; the scan passes
    /// over the rows others hold.
    pub fn skip_locked(&mut self, op: u32, lane: u32, batch: u64) -> Outcome {
        let l = &self.lanes[lane as usize];
        let mut out = Outcome {
            skipped: l.locked_rows,
            dead: l.dead(),
            ..Outcome::default()
        };
        let rows = batch.min(self.lane_pending(lane));
        self.lock(op, lane, rows, &mut out);
        self.count_holder(&out);
        out
    }

    /// Skip-locked across every lane in global id order (job `i` = position × lanes + lane):
    /// a partitioned worker stealing once its own lane is empty.
    pub fn steal(&mut self, op: u32, batch: u64) -> Outcome {
        let n = self.lanes.len() as u64;
        let mut take = vec![0u64; n as usize];
        let mut left = batch;
        while left > 0 {
            // The lane whose next pending job has the lowest global id.
            let next = (0..n)
                .filter(|&l| {
                    self.lanes[l as usize].head + take[l as usize] < self.lanes[l as usize].len
                })
                .min_by_key(|&l| (self.lanes[l as usize].head + take[l as usize]) * n + l);
            let Some(l) = next else { break };
            take[l as usize] += 1;
            left -= 1;
        }
        let mut out = Outcome {
            skipped: self.locked_rows,
            dead: self
                .dead_before(|l| (l.head < l.len).then_some(l.head))
                .saturating_sub(self.locked_rows),
            ..Outcome::default()
        };
        for (l, rows) in take.into_iter().enumerate() {
            self.lock(op, l as u32, rows, &mut out);
        }
        self.count_holder(&out);
        out
    }

    /// The ids an optimistic claimer reads on `lane`: the first `batch` not yet claimed and
    /// committed, which are the runs locked by claims in flight, in order, then pending rows.
    pub fn read_candidates(&self, lane: u32, batch: u64) -> Candidates {
        let l = &self.lanes[lane as usize];
        let mut runs = Runs::new();
        let mut left = batch;
        for (&start, &(end, _)) in &l.locked {
            if left == 0 {
                break;
            }
            let end = end.min(start + left);
            left -= end - start;
            runs.push(Run { lane, start, end });
        }
        let rows = left.min(l.len - l.head);
        if rows > 0 {
            runs.push(Run {
                lane,
                start: l.head,
                end: l.head + rows,
            });
        }
        Candidates {
            runs,
            dead: l.dead(),
        }
    }

    /// `UPDATE … WHERE id = ANY(candidates) AND state = 'pending'`: locks what is still
    /// pending, waits for the claims holding the rest (which then are not pending: skipped).
    /// Rows claimed and committed by others meanwhile are skipped without a wait.
    pub fn lock_candidates(&mut self, op: u32, candidates: &Candidates) -> Outcome {
        let mut out = Outcome::default();
        for run in &candidates.runs {
            let l = &self.lanes[run.lane as usize];
            // Held by others: every locked run overlapping [start, min(end, head)).
            let held_end = run.end.min(l.head);
            if run.start < held_end {
                for (&s, &(e, holder)) in l.locked.range(..held_end).rev() {
                    if e <= run.start {
                        break;
                    }
                    if s < held_end && !out.holders.contains(&holder) {
                        out.holders.push(holder);
                    }
                }
            }
            // Still pending: [max(start, head), end), which begins at head.
            if run.end > l.head {
                let rows = run.end - l.head.max(run.start);
                debug_assert!(
                    run.start <= l.head,
                    "pending is a suffix: a candidate run cannot start past head"
                );
                self.lock(op, run.lane, rows, &mut out);
            }
        }
        let read: u64 = candidates.runs.iter().map(Run::len).sum();
        out.rechecked = read - out.rows();
        self.count_holder(&out);
        out
    }

    /// The claim holding `taken` committed: its rows are claimed for good.
    pub fn release(&mut self, taken: &[Run]) {
        for run in taken {
            let lane = &mut self.lanes[run.lane as usize];
            let removed = lane.locked.remove(&run.start);
            debug_assert!(removed.is_some(), "released a run that was not locked");
            lane.locked_rows -= run.len();
            self.locked_rows -= run.len();
        }
        if !taken.is_empty() {
            self.holders -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_pass_the_entries_of_committed_claims_before_their_rows() {
        let mut t = Table::new(100, 1);
        let a = t.skip_locked(1, 0, 10);
        assert_eq!((a.dead, a.skipped), (0, 0));
        // Locked rows are skipped, not dead; once committed they are dead.
        let b = t.skip_locked(2, 0, 10);
        assert_eq!((b.dead, b.skipped), (0, 10));
        assert_eq!(t.dead_before_ready(), 0);
        t.release(&a.taken);
        let c = t.skip_locked(3, 0, 10);
        assert_eq!((c.dead, c.skipped), (10, 10));
        // The backlog probe stops at the first row its snapshot sees pending: b's, still locked.
        assert_eq!(t.dead_before_ready(), 10);
        t.release(&b.taken);
        t.release(&c.taken);
        assert_eq!(t.dead_before_ready(), 30);
        assert_eq!(t.read_candidates(0, 5).dead, 30);
        let rest = t.skip_locked(4, 0, 100);
        t.release(&rest.taken);
        assert_eq!(
            (t.skip_locked(5, 0, 10).dead, t.dead_before_ready()),
            (100, 100)
        );
    }

    #[test]
    fn a_whole_queue_scan_of_partitions_passes_dead_entries_in_id_order() {
        // 4 lanes of 10: job i is in lane i % 4 at position i / 4.
        let mut t = Table::new(40, 4);
        let own = t.skip_locked(1, 0, 10);
        assert_eq!(own.dead, 0);
        t.release(&own.taken);
        // Lane 0 is done; the other lanes' first pending ids are 1, 2, 3: a steal passes job 0.
        let steal = t.steal(2, 3);
        assert_eq!((steal.dead, steal.rows()), (1, 3));
        t.release(&steal.taken);
        assert_eq!(t.dead_before_ready(), 5);
    }

    #[test]
    fn optimistic_claimers_behind_a_holder_wait_and_come_back_empty() {
        let mut t = Table::new(100, 1);
        let a = t.read_candidates(0, 10);
        let got_a = t.lock_candidates(1, &a);
        assert_eq!(got_a.rows(), 10);
        assert!(got_a.holders.is_empty());
        // B reads while A is uncommitted: the same ten ids, all held by A.
        let b = t.read_candidates(0, 10);
        assert_eq!(b, a);
        let got_b = t.lock_candidates(2, &b);
        assert_eq!((got_b.rows(), got_b.holders.to_vec()), (0, vec![1]));
        // B will re-check all ten once A commits.
        assert_eq!((got_a.rechecked, got_b.rechecked), (0, 10));
        t.release(&got_a.taken);
        // C reads after A committed: the next ten.
        let c = t.read_candidates(0, 10);
        assert_eq!(
            c.runs.to_vec(),
            vec![Run {
                lane: 0,
                start: 10,
                end: 20
            }]
        );
        assert_eq!(t.pending(), 90);
        assert!(t.ready());
    }

    #[test]
    fn a_separate_select_loses_the_ids_taken_between_select_and_update() {
        let mut t = Table::new(100, 1);
        let a = t.read_candidates(0, 10);
        let b = t.read_candidates(0, 10);
        let got_a = t.lock_candidates(1, &a);
        t.release(&got_a.taken);
        // B's ids were claimed and committed meanwhile: skipped, no wait, nothing taken.
        let got_b = t.lock_candidates(2, &b);
        assert_eq!(
            (got_b.rows(), got_b.holders.len(), got_b.rechecked),
            (0, 0, 10)
        );
        // A partial overlap: D read 10 while E holds 4 of them (E read a batch of 4).
        let d = t.read_candidates(0, 10);
        let e = t.read_candidates(0, 4);
        let got_e = t.lock_candidates(3, &e);
        let got_d = t.lock_candidates(4, &d);
        assert_eq!(
            (got_d.rows(), got_d.holders.to_vec(), got_d.rechecked),
            (6, vec![3], 4)
        );
        assert_eq!(
            got_d.taken.to_vec(),
            vec![Run {
                lane: 0,
                start: 14,
                end: 20
            }]
        );
        t.release(&got_e.taken);
        t.release(&got_d.taken);
        assert_eq!(t.pending(), 80);
        assert!(!t.ready() || t.pending() > 0);
    }

    #[test]
    fn skip_locked_passes_over_held_rows_and_partitions_steal_in_id_order() {
        let mut t = Table::new(25, 1);
        let a = t.skip_locked(1, 0, 10);
        let b = t.skip_locked(2, 0, 10);
        let c = t.skip_locked(3, 0, 10);
        assert_eq!((a.rows(), b.rows(), c.rows()), (10, 10, 5));
        assert_eq!((a.skipped, b.skipped, c.skipped), (0, 10, 20));
        assert_eq!(t.holders(), 3);
        for o in [&a, &b, &c] {
            t.release(&o.taken);
        }
        assert!(!t.ready());

        // 10 jobs in 3 lanes: lane 0 holds ids 0, 3, 6, 9.
        let mut t = Table::new(10, 3);
        assert_eq!(
            (t.lane_pending(0), t.lane_pending(1), t.lane_pending(2)),
            (4, 3, 3)
        );
        let own = t.skip_locked(1, 1, 3);
        assert_eq!(own.rows(), 3);
        assert_eq!(t.lane_pending(1), 0);
        // Stealing 4 takes the lowest ids left: 0 and 2 (positions 0), 3 and 5 (positions 1).
        let stolen = t.steal(2, 4);
        assert_eq!(stolen.rows(), 4);
        assert_eq!(stolen.skipped, 3);
        assert_eq!((t.lane_pending(0), t.lane_pending(2)), (2, 1));
    }
}
