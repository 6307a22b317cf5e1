//! When something is due, with a tie-breaker, as one integer: the engine's queues compare
//! these on every push and pop, and an integer compare is cheaper than a float's total order
//! followed by a second key. Times are never negative, so their IEEE bits order as they do.
//!
//! `DueQueue` is the engine's event queue built on them (see there for why it is not a plain heap).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Due(u128);

impl Due {
    /// Due at `at` (ms, not negative); among equal times, the lower `tie` first.
    pub fn new(at: f64, tie: u64) -> Self {
        debug_assert!(at >= 0.0 && at.is_sign_positive(), "due at {at}");
        Self((u128::from(at.to_bits()) << 64) | u128::from(tie))
    }

    pub fn at(self) -> f64 {
        f64::from_bits((self.0 >> 64) as u64)
    }

    pub fn tie(self) -> u64 {
        self.0 as u64
    }
}

/// The earliest `Due` first, for a simulation's events. What a handler schedules is nearly always
/// due before everything already pending (the next step of a statement in flight goes before
/// flush timers and wake-ups hundreds of times its delay away): in the claims engine's thrash
/// two thirds of new events are the earliest pending and 98% are among the three earliest. A
/// heap would carry each of them up to its root and take it back down again. So the earliest
/// few are kept apart, sorted latest first, with every one of them due before anything in the
/// heap: an event goes in by a short scan from the earliest end, comes out by a `pop` of the
/// vector, and only what is due later than the heap's first (or is pushed out of a full sorted
/// part) goes through the heap. Entries must be unique (the engine's carry the order they were
/// scheduled in), and then they come out in the order a heap alone would give.
#[derive(Debug, Default)]
pub struct DueQueue {
    /// The earliest entries, latest first; each due before any in `later`.
    soonest: Vec<Due>,
    later: BinaryHeap<Reverse<Due>>,
}

/// Most entries kept sorted apart from the heap. An insertion into them costs up to this many
/// compares and moves, so a run whose new events land anywhere pays little more than a heap's.
const SOONEST: usize = 16;

impl DueQueue {
    pub fn push(&mut self, due: Due) {
        if self.later.peek().is_some_and(|Reverse(first)| *first < due) {
            self.later.push(Reverse(due));
            return;
        }
        // One step of an insertion sort from the earliest end: those due before it move up one.
        let soonest = &mut self.soonest;
        soonest.push(due);
        let mut at = soonest.len() - 1;
        while at > 0 && soonest[at - 1] < due {
            soonest[at] = soonest[at - 1];
            at -= 1;
        }
        soonest[at] = due;
        if soonest.len() > SOONEST {
            // The latest of them is still due before all of the heap: its new first.
            let latest = soonest.remove(0);
            self.later.push(Reverse(latest));
        }
    }

    pub fn first(&self) -> Option<Due> {
        match self.soonest.last() {
            Some(&due) => Some(due),
            None => self.later.peek().map(|&Reverse(due)| due),
        }
    }

    pub fn pop(&mut self) -> Option<Due> {
        match self.soonest.pop() {
            Some(due) => Some(due),
            None => self.later.pop().map(|Reverse(due)| due),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Due, DueQueue, SOONEST};

    #[test]
    fn orders_by_time_then_tie_and_gives_both_back() {
        let times = [0.0, 1e-300, 0.04, 0.5, 0.5, 3.0, 1e12];
        let dues: Vec<Due> = times
            .iter()
            .enumerate()
            .map(|(i, &t)| Due::new(t, 10 - i as u64))
            .collect();
        for (a, b) in dues.iter().zip(&dues[1..]) {
            let expected = a.at().total_cmp(&b.at()).then(a.tie().cmp(&b.tie()));
            assert_eq!(a.cmp(b), expected, "{a:?} {b:?}");
        }
        assert_eq!((dues[3].at(), dues[3].tie()), (0.5, 7));
        assert!(Due::new(0.5, 7) < Due::new(0.5, 8));
    }

    /// Pushes and pops of dues from `next_time` against a plain heap: the same order out.
    fn same_order_as_a_heap(mut next_time: impl FnMut(f64, u64) -> f64) {
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut queue = DueQueue::default();
        let mut heap = std::collections::BinaryHeap::new();
        let (mut now, mut tie) = (0.0, 0);
        for round in 0..20_000 {
            // Grow for a while, then drain: every size up to a few hundred, both parts in use.
            let pushes = if round < 10_000 {
                random() % 3
            } else {
                random() % 2
            };
            for _ in 0..pushes {
                tie += 1;
                let due = Due::new(next_time(now, random()), tie);
                queue.push(due);
                heap.push(std::cmp::Reverse(due));
            }
            for _ in 0..random() % 3 {
                let popped = queue.pop();
                assert_eq!(popped, heap.pop().map(|r| r.0), "round {round}");
                if let Some(due) = popped {
                    now = due.at();
                }
            }
            assert_eq!(queue.first(), heap.peek().map(|r| r.0), "round {round}");
        }
        while let Some(std::cmp::Reverse(due)) = heap.pop() {
            assert_eq!(queue.pop(), Some(due));
        }
        assert_eq!(queue.pop(), None);
    }

    #[test]
    fn the_queue_gives_dues_in_a_heaps_order_when_new_ones_come_first() {
        // As in the engine: short delays beside a few far-off timers, with repeated times.
        same_order_as_a_heap(|now, r| {
            if r % 10 == 0 {
                now + 500.0
            } else {
                now + (r % 8) as f64 * 0.01
            }
        });
    }

    #[test]
    fn the_queue_gives_dues_in_a_heaps_order_when_new_ones_land_anywhere() {
        // Uniform delays: new dues land all over, the sorted part overflows into the heap.
        same_order_as_a_heap(|now, r| now + (r % 1000) as f64);
    }

    #[test]
    fn the_sorted_part_stays_within_its_bound() {
        let mut queue = DueQueue::default();
        for i in (0..100).rev() {
            queue.push(Due::new(f64::from(i), 0));
            assert!(queue.soonest.len() <= SOONEST);
        }
        assert_eq!(queue.later.len(), 100 - SOONEST);
        let out: Vec<f64> = std::iter::from_fn(|| queue.pop()).map(Due::at).collect();
        assert_eq!(out, (0..100).map(f64::from).collect::<Vec<_>>());
    }
}
