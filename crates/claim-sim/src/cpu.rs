//! The host's cores, shared by every runnable worker event loop and database backend, under one
//! of two disciplines:
//!
//! - **Processor sharing** (`slice_ms == 0`): each runnable entity runs on at most one core;
//!   when more are runnable than there are cores, they share them equally. All runnable
//!   entities then progress at the same rate `min(1, cores / n)`, so one virtual clock (work
//!   done per entity since the start) orders their completions: an entity that starts `w` ms
//!   of work at virtual time `v` finishes at virtual time `v + w`, whatever joins or leaves in
//!   between. Each step is O(log n).
//! - **Time slices** (`slice_ms > 0`), as a Linux host runs them: an entity holds a core until
//!   its work is done or it has run one slice while others wait, then goes to the back of the
//!   run queue (FIFO). Work shorter than a slice (most statements, most event-loop tasks) runs
//!   uninterrupted, so a statement holds its row locks for its own CPU time, not for that time
//!   stretched over every runnable process. `ceil(cores)` cores each run at
//!   `cores / ceil(cores)` of full speed. Each step is O(log cores).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::ops::Range;

use crate::due::Due;

/// The host's cores under processor sharing or time slices (see the module's notes).
#[derive(Debug)]
pub struct Cpu {
    discipline: Discipline,
    /// Core-milliseconds spent, in all.
    pub busy_core_ms: f64,
}

#[derive(Debug)]
enum Discipline {
    Sharing(Sharing),
    Slices(Slices),
}

impl Cpu {
    /// `cores` shared by processor sharing (`slice_ms == 0`) or in time slices of `slice_ms`.
    pub fn new(cores: f64, slice_ms: f64) -> Self {
        let discipline = if slice_ms > 0.0 {
            Discipline::Slices(Slices::new(cores, slice_ms))
        } else {
            Discipline::Sharing(Sharing::new(cores))
        };
        Self {
            discipline,
            busy_core_ms: 0.0,
        }
    }

    /// Under time slices, a core that takes up an entity other than the last one it ran charges
    /// it `switch_ms` of extra work first (its caches refilled); entities in `backends` are
    /// database backends, the rest the workers' (see `switched_ms`). Nothing changes under
    /// processor sharing, which has no switches.
    pub fn with_switch_cost(mut self, switch_ms: f64, backends: Range<u32>) -> Self {
        if let Discipline::Slices(s) = &mut self.discipline {
            s.switch_ms = switch_ms.max(0.0);
            s.backends = backends;
        }
        self
    }

    /// Extra work charged for switches so far: (workers, backends).
    pub fn switched_ms(&self) -> (f64, f64) {
        match &self.discipline {
            Discipline::Sharing(_) => (0.0, 0.0),
            Discipline::Slices(s) => (s.switched[0], s.switched[1]),
        }
    }

    /// `entity` becomes runnable with `work` ms of one core to do.
    pub fn start(&mut self, now: f64, entity: u32, work: f64) {
        let work = work.max(0.0);
        match &mut self.discipline {
            Discipline::Sharing(s) => s.start(now, entity, work, &mut self.busy_core_ms),
            Discipline::Slices(s) => s.start(now, entity, work),
        }
    }

    /// Runs `entity` for no work at all, if that takes no time and changes nothing else: what
    /// `start(now, entity, 0.0)` and the `step` that finishes it would do, without the step.
    /// True under processor sharing; under time slices only when a core is idle and switches
    /// cost nothing. False (nothing changed): `start` it as any other work.
    pub fn run_instantly(&mut self, now: f64, entity: u32) -> bool {
        match &mut self.discipline {
            Discipline::Sharing(s) => {
                s.advance(now, &mut self.busy_core_ms);
                true
            }
            Discipline::Slices(s) => s.run_instantly(entity),
        }
    }

    /// When the next change happens (an entity finishes or a slice ends), if anything runs.
    pub fn next_event(&self) -> Option<f64> {
        match &self.discipline {
            Discipline::Sharing(s) => s.next_finish(),
            Discipline::Slices(s) => s.next_event(),
        }
    }

    /// Takes the change due now (call at the time `next_event` gave): the entity that finished,
    /// or `None` when a slice ended and the run queue turned.
    pub fn step(&mut self, now: f64) -> Option<u32> {
        match &mut self.discipline {
            Discipline::Sharing(s) => Some(s.finish(now, &mut self.busy_core_ms)),
            Discipline::Slices(s) => s.step(now, &mut self.busy_core_ms),
        }
    }
}

/// Processor sharing with an O(log n) virtual clock.
#[derive(Debug)]
struct Sharing {
    cores: f64,
    /// Work done by every runnable entity so far (ms of one core).
    virtual_ms: f64,
    /// Real time up to which `virtual_ms` and the busy time are accounted.
    at: f64,
    /// Each runnable entity by the virtual time it finishes at.
    running: BinaryHeap<Reverse<Due>>,
    /// When the first of them finishes, worked out whenever they change (the engine asks
    /// before every event).
    next: Option<f64>,
    /// The rate every runnable entity progresses at, worked out whenever their number changes.
    rate: f64,
}

impl Sharing {
    fn new(cores: f64) -> Self {
        Self {
            cores,
            virtual_ms: 0.0,
            at: 0.0,
            running: BinaryHeap::new(),
            next: None,
            rate: 0.0,
        }
    }

    /// After the runnable entities changed: their rate and the first finish.
    fn changed(&mut self) {
        let n = self.running.len() as f64;
        self.rate = if n == 0.0 {
            0.0
        } else {
            (self.cores / n).min(1.0)
        };
        self.next = self.first_finish();
    }

    fn advance(&mut self, now: f64, busy: &mut f64) {
        let dt = now - self.at;
        if dt > 0.0 {
            let rate = self.rate;
            self.virtual_ms += rate * dt;
            *busy += rate * self.running.len() as f64 * dt;
            self.at = now;
        }
    }

    fn start(&mut self, now: f64, entity: u32, work: f64, busy: &mut f64) {
        self.advance(now, busy);
        self.running
            .push(Reverse(Due::new(self.virtual_ms + work, entity.into())));
        self.changed();
    }

    fn next_finish(&self) -> Option<f64> {
        self.next
    }

    fn first_finish(&self) -> Option<f64> {
        self.running.peek().map(|Reverse(due)| {
            let left = (due.at() - self.virtual_ms).max(0.0);
            if left == 0.0 {
                self.at
            } else {
                self.at + left / self.rate
            }
        })
    }

    fn finish(&mut self, now: f64, busy: &mut f64) -> u32 {
        self.advance(now, busy);
        let Reverse(due) = self.running.pop().expect("an entity is running");
        self.changed();
        due.tie() as u32
    }
}

/// What one core is running.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    entity: u32,
    /// Work left at `since` (ms of one full-speed core).
    left: f64,
    since: f64,
}

/// Time slices over a FIFO run queue.
#[derive(Debug)]
struct Slices {
    slice_ms: f64,
    /// Speed of each core (1 unless the host has a fractional number of cores).
    speed: f64,
    slots: Vec<Slot>,
    idle: Vec<u32>,
    /// (when the core's slot stops: its work done or its slice over, core)
    stops: BinaryHeap<Reverse<Due>>,
    queue: VecDeque<(u32, f64)>,
    /// What a switch to another entity costs the one switched in (see `with_switch_cost`).
    switch_ms: f64,
    backends: Range<u32>,
    /// The entity each core ran last (`u32::MAX`: none yet).
    last: Vec<u32>,
    /// Switch work charged to event loops and to backends.
    switched: [f64; 2],
}

impl Slices {
    fn new(cores: f64, slice_ms: f64) -> Self {
        let n = cores.ceil().max(1.0) as u32;
        Self {
            slice_ms,
            speed: cores / n as f64,
            slots: vec![Slot::default(); n as usize],
            idle: (0..n).rev().collect(),
            stops: BinaryHeap::new(),
            queue: VecDeque::new(),
            switch_ms: 0.0,
            backends: 0..0,
            last: vec![u32::MAX; n as usize],
            switched: [0.0; 2],
        }
    }

    fn dispatch(&mut self, now: f64, core: u32, entity: u32, mut left: f64) {
        let last = std::mem::replace(&mut self.last[core as usize], entity);
        if self.switch_ms > 0.0 && last != entity {
            left += self.switch_ms;
            self.switched[usize::from(self.backends.contains(&entity))] += self.switch_ms;
        }
        self.slots[core as usize] = Slot {
            entity,
            left,
            since: now,
        };
        let run = (left / self.speed).min(self.slice_ms);
        self.stops.push(Reverse(Due::new(now + run, core.into())));
    }

    fn start(&mut self, now: f64, entity: u32, work: f64) {
        // With switches to pay for, an idle core that ran this entity last takes it back (its
        // caches are warm; Linux wakes a task on its previous core when that core is idle);
        // else, as without, the core freed last.
        let warm = (self.switch_ms > 0.0)
            .then(|| {
                self.idle
                    .iter()
                    .rposition(|&core| self.last[core as usize] == entity)
            })
            .flatten();
        let core = match warm {
            Some(i) => Some(self.idle.remove(i)),
            None => self.idle.pop(),
        };
        match core {
            Some(core) => self.dispatch(now, core, entity, work),
            None => self.queue.push_back((entity, work)),
        }
    }

    /// No work on an idle core, when switches cost nothing: the core runs the entity for no
    /// time and is the last one freed, as after `dispatch` and `step`. With switches to pay
    /// for, no: a core that `start` took for no work is still taken by anything else started in
    /// the same instant, which then waits for it and may pay a switch on it.
    fn run_instantly(&mut self, entity: u32) -> bool {
        if self.switch_ms > 0.0 {
            return false;
        }
        let Some(core) = self.idle.pop() else {
            return false;
        };
        self.last[core as usize] = entity;
        self.idle.push(core);
        true
    }

    fn next_event(&self) -> Option<f64> {
        self.stops.peek().map(|Reverse(due)| due.at())
    }

    fn step(&mut self, now: f64, busy: &mut f64) -> Option<u32> {
        let Reverse(due) = self.stops.pop().expect("a core is running");
        let core = due.tie() as u32;
        let slot = self.slots[core as usize];
        let done = ((now - slot.since) * self.speed).min(slot.left);
        *busy += done;
        let left = slot.left - done;
        // Work left below a nanosecond of a core is rounding: the entity is done.
        if left <= 1e-9 {
            match self.queue.pop_front() {
                Some((next, work)) => self.dispatch(now, core, next, work),
                None => self.idle.push(core),
            }
            return Some(slot.entity);
        }
        match self.queue.pop_front() {
            Some((next, work)) => {
                self.queue.push_back((slot.entity, left));
                self.dispatch(now, core, next, work);
            }
            None => self.dispatch(now, core, slot.entity, left),
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(cpu: &mut Cpu) -> Vec<(u32, f64)> {
        let mut out = vec![];
        while let Some(t) = cpu.next_event() {
            if let Some(e) = cpu.step(t) {
                out.push((e, t));
            }
        }
        out
    }

    #[test]
    fn shares_cores_equally_and_caps_each_entity_at_one() {
        // Two cores, three entities of 3 ms: each runs at 2/3, all end at 4.5 ms.
        let mut cpu = Cpu::new(2.0, 0.0);
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
        let mut cpu = Cpu::new(2.0, 0.0);
        cpu.start(0.0, 7, 5.0);
        assert_eq!(drain(&mut cpu), vec![(7, 5.0)]);
    }

    #[test]
    fn a_late_arrival_slows_the_others_from_then_on() {
        // One core: A (4 ms) alone for 2 ms, then B (1 ms) joins; both at half speed, B ends
        // at 4, A has 1 ms left at full speed and ends at 5.
        let mut cpu = Cpu::new(1.0, 0.0);
        cpu.start(0.0, 0, 4.0);
        assert_eq!(cpu.next_event(), Some(4.0));
        cpu.start(2.0, 1, 1.0);
        let done = drain(&mut cpu);
        assert_eq!(done.len(), 2);
        assert_eq!(done[0].0, 1);
        assert!((done[0].1 - 4.0).abs() < 1e-9);
        assert!((done[1].1 - 5.0).abs() < 1e-9, "{done:?}");
    }

    #[test]
    fn slices_run_short_work_uninterrupted_and_rotate_long_work() {
        // One core, 4 ms slices: A (10 ms) starts; B (1 ms) and C (1 ms) arrive at 1 ms and
        // wait for A's slice to end at 4; B runs 4-5, C 5-6, A 6-10 and, alone, 10-12.
        let mut cpu = Cpu::new(1.0, 4.0);
        cpu.start(0.0, 0, 10.0);
        cpu.start(1.0, 1, 1.0);
        cpu.start(1.0, 2, 1.0);
        let done = drain(&mut cpu);
        assert_eq!(done, vec![(1, 5.0), (2, 6.0), (0, 12.0)]);
        assert!((cpu.busy_core_ms - 12.0).abs() < 1e-9);
    }

    #[test]
    fn slices_fill_every_core_and_a_fractional_core_runs_slower() {
        // Two cores, three 3 ms entities in 10 ms slices: two run at once, the third after.
        let mut cpu = Cpu::new(2.0, 10.0);
        for e in 0..3 {
            cpu.start(0.0, e, 3.0);
        }
        assert_eq!(drain(&mut cpu), vec![(0, 3.0), (1, 3.0), (2, 6.0)]);
        // Half a core: 2 ms of work takes 4 ms.
        let mut cpu = Cpu::new(0.5, 4.0);
        cpu.start(0.0, 9, 2.0);
        assert_eq!(drain(&mut cpu), vec![(9, 4.0)]);
    }

    #[test]
    fn both_disciplines_spend_the_same_core_time() {
        for slice in [0.0, 0.5, 4.0] {
            let mut cpu = Cpu::new(2.0, slice);
            // Entity e arrives at 0.3·e ms with 1 + e ms of work; events in time order.
            let mut arrivals = (0..7u32).map(|e| (e as f64 * 0.3, e)).peekable();
            let mut done = 0;
            loop {
                let next_cpu = cpu.next_event();
                match (arrivals.peek().copied(), next_cpu) {
                    (Some((t, e)), c) if c.is_none_or(|c| t <= c) => {
                        arrivals.next();
                        cpu.start(t, e, 1.0 + e as f64);
                    }
                    (_, Some(c)) => done += cpu.step(c).is_some() as u32,
                    (None, None) => break,
                    _ => unreachable!(),
                }
            }
            assert_eq!(done, 7, "slice {slice}");
            assert!(
                (cpu.busy_core_ms - 28.0).abs() < 1e-9,
                "slice {slice}: {}",
                cpu.busy_core_ms
            );
        }
    }

    #[test]
    fn a_core_charges_a_switch_to_another_entity_but_not_a_return_to_its_own() {
        // One core, 4 ms slices, switches cost 0.5 ms; entities 0 (a loop) and 1, 2 (backends).
        let mut cpu = Cpu::new(1.0, 4.0).with_switch_cost(0.5, 1..u32::MAX);
        // The first dispatch switches (the core ran nothing): 0 runs 0–1.5.
        cpu.start(0.0, 0, 1.0);
        assert_eq!(drain(&mut cpu), vec![(0, 1.5)]);
        // 0 again on the same core: no switch.
        cpu.start(2.0, 0, 1.0);
        assert_eq!(drain(&mut cpu), vec![(0, 3.0)]);
        // 1 and 2 queue behind each other: each is switched in and pays.
        cpu.start(3.0, 1, 1.0);
        cpu.start(3.0, 2, 1.0);
        assert_eq!(drain(&mut cpu), vec![(1, 4.5), (2, 6.0)]);
        assert_eq!(cpu.switched_ms(), (0.5, 1.0));
        // Work 4 ms and three switches.
        assert!((cpu.busy_core_ms - 5.5).abs() < 1e-9);
        // A long entity rotated out by a slice pays again when it comes back.
        let mut cpu = Cpu::new(1.0, 2.0).with_switch_cost(0.5, 1..u32::MAX);
        cpu.start(0.0, 0, 3.0);
        cpu.start(0.0, 1, 1.0);
        // 0 runs 0–2 (0.5 switch + 1.5 work), 1 runs 2–3.5, 0 comes back: 0.5 + 1.5 left, 3.5–5.5.
        assert_eq!(drain(&mut cpu), vec![(1, 3.5), (0, 5.5)]);
        assert_eq!(cpu.switched_ms(), (1.0, 0.5));
    }

    #[test]
    fn a_woken_entity_goes_back_to_the_idle_core_it_last_ran_on() {
        // Two cores: 0 runs on one, 1 on the other; both idle, then 0 wakes: no switch to pay.
        let mut cpu = Cpu::new(2.0, 4.0).with_switch_cost(0.5, 0..u32::MAX);
        cpu.start(0.0, 0, 1.0);
        cpu.start(0.0, 1, 2.0);
        assert_eq!(drain(&mut cpu), vec![(0, 1.5), (1, 2.5)]);
        cpu.start(3.0, 0, 1.0);
        assert_eq!(drain(&mut cpu), vec![(0, 4.0)]);
        assert_eq!(cpu.switched_ms(), (0.0, 1.0));
        // Processor sharing has no switches to charge.
        let mut cpu = Cpu::new(1.0, 0.0).with_switch_cost(0.5, 1..u32::MAX);
        cpu.start(0.0, 0, 1.0);
        cpu.start(0.0, 1, 1.0);
        assert_eq!(drain(&mut cpu).len(), 2);
        assert_eq!(cpu.switched_ms(), (0.0, 0.0));
    }

    #[test]
    fn running_no_work_instantly_leaves_the_cores_as_starting_and_finishing_it_would() {
        // Each discipline: entity 5 runs for no work at 1 ms, either instantly or as work that
        // a step finishes; what follows runs the same.
        for slice in [0.0, 4.0] {
            let setup = || {
                let mut cpu = Cpu::new(2.0, slice);
                cpu.start(0.0, 5, 0.5);
                cpu.start(0.0, 6, 0.5);
                let _ = drain(&mut cpu);
                cpu
            };
            let (mut instant, mut stepped) = (setup(), setup());
            assert!(instant.run_instantly(1.0, 5), "slice {slice}");
            stepped.start(1.0, 5, 0.0);
            assert_eq!(drain(&mut stepped), vec![(5, 1.0)]);
            for cpu in [&mut instant, &mut stepped] {
                cpu.start(2.0, 6, 1.0);
                cpu.start(2.0, 5, 1.0);
                cpu.start(2.0, 7, 1.0);
            }
            assert_eq!(drain(&mut instant), drain(&mut stepped));
            assert_eq!(instant.switched_ms(), stepped.switched_ms());
            assert_eq!(instant.busy_core_ms, stepped.busy_core_ms);
        }
    }

    #[test]
    fn no_work_waits_its_turn_when_it_would_cost_time() {
        // Both cores busy under time slices: no work still waits in the run queue.
        let mut cpu = Cpu::new(2.0, 4.0);
        cpu.start(0.0, 0, 1.0);
        cpu.start(0.0, 1, 1.0);
        assert!(!cpu.run_instantly(0.5, 2));
        // With switches to pay for, even on an idle core that ran it last: an entity started
        // in the same instant would find that core taken.
        let mut cpu = Cpu::new(1.0, 4.0).with_switch_cost(0.5, 0..u32::MAX);
        cpu.start(0.0, 0, 1.0);
        let _ = drain(&mut cpu);
        assert!(!cpu.run_instantly(2.0, 0));
        assert_eq!(cpu.next_event(), None);
        let mut cpu = Cpu::new(1.0, 4.0);
        assert!(cpu.run_instantly(2.0, 0));
    }
}
