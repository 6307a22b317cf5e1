//! The host's cores, shared by every runnable worker event loop and database backend.
//!
//! Each runnable entity runs on at most one core; when more are runnable than there are cores,
//! they share them equally (processor sharing). All runnable entities then progress at the
//! same rate `min(1, cores / n)`, so one virtual clock (work done per entity since the start)
//! orders their completions: an entity that starts `w` ms of work at virtual time `v` finishes
//! at virtual time `v + w`, whatever joins or leaves in between. Each step is O(log n).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Finish(f64, u32);

impl Eq for Finish {}

impl Ord for Finish {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

impl PartialOrd for Finish {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Processor sharing over `cores`, with an O(log n) virtual clock.
#[derive(Debug)]
pub struct Cpu {
    cores: f64,
    /// Work done by every runnable entity so far (ms of one core).
    virtual_ms: f64,
    /// Real time up to which `virtual_ms` and `busy_core_ms` are accounted.
    at: f64,
    running: BinaryHeap<Reverse<Finish>>,
    /// Core-milliseconds spent, in all.
    pub busy_core_ms: f64,
}

impl Cpu {
    pub fn new(cores: f64) -> Self {
        Self {
            cores,
            virtual_ms: 0.0,
            at: 0.0,
            running: BinaryHeap::new(),
            busy_core_ms: 0.0,
        }
    }

    fn rate(&self) -> f64 {
        let n = self.running.len() as f64;
        if n == 0.0 {
            0.0
        } else {
            (self.cores / n).min(1.0)
        }
    }

    fn advance(&mut self, now: f64) {
        let dt = now - self.at;
        if dt > 0.0 {
            let rate = self.rate();
            self.virtual_ms += rate * dt;
            self.busy_core_ms += rate * self.running.len() as f64 * dt;
            self.at = now;
        }
    }

    /// `entity` becomes runnable with `work` ms of one core to do.
    pub fn start(&mut self, now: f64, entity: u32, work: f64) {
        self.advance(now);
        self.running
            .push(Reverse(Finish(self.virtual_ms + work.max(0.0), entity)));
    }

    /// When the next runnable entity finishes, if any is runnable.
    pub fn next_finish(&self) -> Option<f64> {
        self.running.peek().map(|Reverse(Finish(v, _))| {
            let left = (v - self.virtual_ms).max(0.0);
            if left == 0.0 {
                self.at
            } else {
                self.at + left / self.rate()
            }
        })
    }

    /// Takes the entity that finishes next (call at the time `next_finish` gave).
    pub fn finish(&mut self, now: f64) -> u32 {
        self.advance(now);
        let Reverse(Finish(_, entity)) = self.running.pop().expect("an entity is running");
        entity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(cpu: &mut Cpu) -> Vec<(u32, f64)> {
        let mut out = vec![];
        while let Some(t) = cpu.next_finish() {
            out.push((cpu.finish(t), t));
        }
        out
    }

    #[test]
    fn shares_cores_equally_and_caps_each_entity_at_one() {
        // Two cores, three entities of 3 ms: each runs at 2/3, all end at 4.5 ms.
        let mut cpu = Cpu::new(2.0);
        for e in 0..3 {
            cpu.start(0.0, e, 3.0);
        }
        let done = drain(&mut cpu);
        assert!(
            done.iter().all(|&(_, t)| (t - 4.5).abs() < 1e-9),
            "{done:?}"
        );
        assert!((cpu.busy_core_ms - 9.0).abs() < 1e-9);
        // One entity on two cores still takes its full time.
        let mut cpu = Cpu::new(2.0);
        cpu.start(0.0, 7, 5.0);
        assert_eq!(drain(&mut cpu), vec![(7, 5.0)]);
    }

    #[test]
    fn a_late_arrival_slows_the_others_from_then_on() {
        // One core: A (4 ms) alone for 2 ms, then B (1 ms) joins; both at half speed, B ends
        // at 4, A has 1 ms left at full speed and ends at 5.
        let mut cpu = Cpu::new(1.0);
        cpu.start(0.0, 0, 4.0);
        assert_eq!(cpu.next_finish(), Some(4.0));
        cpu.start(2.0, 1, 1.0);
        let done = drain(&mut cpu);
        assert_eq!(done.len(), 2);
        assert_eq!(done[0].0, 1);
        assert!((done[0].1 - 4.0).abs() < 1e-9);
        assert!((done[1].1 - 5.0).abs() < 1e-9, "{done:?}");
    }
}
