//! Commits and the WAL flush, with group commit: one flush at a time; commits that arrive
//! while a flush is under way wait for the next one, which takes all of them at once.

/// The WAL writer's state.
#[derive(Debug, Default)]
pub struct Wal {
    flushing: bool,
    /// Commits in the flush under way.
    current: Vec<u32>,
    /// Commits waiting for the next flush.
    next: Vec<u32>,
    pub flushes: u64,
    /// Time spent flushing (ms).
    pub busy_ms: f64,
}

/// What a commit request asks of the caller.
pub enum Commit {
    /// A flush starts now (the caller schedules its end).
    StartFlush,
    /// The commit waits for the flush after the one under way.
    Queued,
}

impl Wal {
    /// Asks for `op` to be made durable.
    pub fn commit(&mut self, op: u32) -> Commit {
        if self.flushing {
            self.next.push(op);
            Commit::Queued
        } else {
            self.flushing = true;
            self.flushes += 1;
            self.current.push(op);
            Commit::StartFlush
        }
    }

    /// The flush under way ended after `took` ms: its commits are durable (moved into `done`).
    /// Returns whether another flush starts at once (for the commits that queued meanwhile).
    pub fn flushed(&mut self, took: f64, done: &mut Vec<u32>) -> bool {
        self.busy_ms += took;
        done.clear();
        done.append(&mut self.current);
        if self.next.is_empty() {
            self.flushing = false;
            false
        } else {
            std::mem::swap(&mut self.current, &mut self.next);
            self.flushes += 1;
            true
        }
    }
}
