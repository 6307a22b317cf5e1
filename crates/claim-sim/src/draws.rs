//! The stream of cost factors a simulation draws (`costs.cv` around each mean), in order from
//! its seed. The stream does not depend on what the simulation does with it, so a large run
//! has a second thread draw it ahead in blocks while the engine runs on: the same numbers in
//! the same order as drawing them inline, so the results are identical either way. Inline, it
//! is drawn in small blocks too, so that taking the next factor is one read on either path.

use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;

use seeded_rng::{Factor, Rng};

/// Factors per block a drawing thread hands over.
const BLOCK: usize = 8192;
/// Blocks drawn ahead of the engine at most.
const AHEAD: usize = 4;

/// Cost factors with mean 1 and the configured spread, drawn in blocks: inline (small blocks)
/// or ahead on a thread. Either way `next` only reads the block it holds.
pub struct Draws {
    block: Vec<f64>,
    at: usize,
    source: Source,
}

/// Factors per block drawn inline: small, so a short run draws few it does not use.
const INLINE_BLOCK: usize = 64;

enum Source {
    Inline(Factor, Rng),
    Ahead {
        blocks: Option<Receiver<Vec<f64>>>,
        drawer: Option<JoinHandle<()>>,
    },
}

impl Draws {
    /// The factors of coefficient of variation `cv` from `seed`; with `ahead`, drawn on a thread
    /// of their own (inline when the spread is zero, which draws nothing, when the host has one
    /// core, or when no thread can be started).
    pub fn new(seed: u64, cv: f64, ahead: bool) -> Self {
        let factor = Factor::new(cv);
        let rng = Rng::new(seed);
        // Asked only when drawing ahead is wanted: finding the cores reads cgroup files, and
        // calibration and sweeps start many small runs.
        let spare_core = || std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
        if !ahead || matches!(factor, Factor::One) || !spare_core() {
            return Self::inline(factor, rng);
        }
        let (send, blocks) = sync_channel::<Vec<f64>>(AHEAD);
        let mut drawing = (factor, rng);
        let spawned = std::thread::Builder::new()
            .name("claim-sim draws".into())
            .spawn(move || {
                let (factor, rng) = &mut drawing;
                loop {
                    let block: Vec<f64> = (0..BLOCK).map(|_| factor.draw(rng)).collect();
                    // The engine is done and dropped its end: stop.
                    if send.send(block).is_err() {
                        return;
                    }
                }
            });
        match spawned {
            Ok(drawer) => Self {
                block: Vec::new(),
                at: 0,
                source: Source::Ahead {
                    blocks: Some(blocks),
                    drawer: Some(drawer),
                },
            },
            Err(_) => Self::inline(Factor::new(cv), Rng::new(seed)),
        }
    }

    fn inline(factor: Factor, rng: Rng) -> Self {
        Self {
            block: Vec::with_capacity(INLINE_BLOCK),
            at: 0,
            source: Source::Inline(factor, rng),
        }
    }

    /// The next factor.
    #[inline]
    pub fn next(&mut self) -> f64 {
        if self.at == self.block.len() {
            self.refill();
        }
        let factor = self.block[self.at];
        self.at += 1;
        factor
    }

    #[cold]
    fn refill(&mut self) {
        match &mut self.source {
            Source::Inline(factor, rng) => {
                self.block.clear();
                self.block
                    .extend((0..INLINE_BLOCK).map(|_| factor.draw(rng)));
            }
            Source::Ahead { blocks, .. } => {
                self.block = blocks
                    .as_ref()
                    .and_then(|b| b.recv().ok())
                    .expect("the drawing thread draws until the engine is done");
            }
        }
        self.at = 0;
    }
}

impl Drop for Draws {
    fn drop(&mut self) {
        if let Source::Ahead { blocks, drawer } = &mut self.source {
            // Closing our end makes the thread's next hand-over fail, and it stops.
            drop(blocks.take());
            if let Some(drawer) = drawer.take() {
                let _ = drawer.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawing_ahead_gives_the_inline_stream_across_blocks() {
        for cv in [0.0, 0.3, 1.0, 1.5] {
            let mut inline = Draws::new(42, cv, false);
            let mut ahead = Draws::new(42, cv, true);
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            assert_eq!(
                matches!(ahead.source, Source::Ahead { .. }),
                cv > 0.0 && cores > 1,
                "cv {cv}: a thread draws exactly when there is something to draw and a core to spare"
            );
            for i in 0..3 * BLOCK + 17 {
                assert_eq!(
                    inline.next().to_bits(),
                    ahead.next().to_bits(),
                    "cv {cv}, draw {i}"
                );
            }
        }
    }

    #[test]
    fn dropping_a_stream_drawn_ahead_stops_its_thread() {
        // A full channel and a blocked sender: the drop must not hang.
        let mut ahead = Draws::new(7, 0.5, true);
        let _ = ahead.next();
        std::thread::sleep(std::time::Duration::from_millis(20));
        drop(ahead);
    }
}
