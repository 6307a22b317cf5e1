//! What a simulation reports: the team's per-window counters, phase totals, utilisation of each
//! resource and the bottleneck.

use serde::Serialize;

/// Counters of one window (or of a whole run), in the claims queue's `PerfWindow` shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    /// Claim statements, empty ones included.
    pub claim_batches: u64,
    /// Time in claims (pool wait, round trips, lock waits, commit), summed over consumers (ms).
    pub claim_ms: f64,
    pub claimed_jobs: u64,
    pub partial_batches: u64,
    pub empty_claims: u64,
    pub persist_flushes: u64,
    pub persist_ms: f64,
    pub work_ms: f64,
    pub completed: u64,
    /// Always 0: simulated jobs do not fail (kept for the shape).
    pub failed: u64,
}

impl Counters {
    pub fn add(&mut self, other: &Counters) {
        self.claim_batches += other.claim_batches;
        self.claim_ms += other.claim_ms;
        self.claimed_jobs += other.claimed_jobs;
        self.partial_batches += other.partial_batches;
        self.empty_claims += other.empty_claims;
        self.persist_flushes += other.persist_flushes;
        self.persist_ms += other.persist_ms;
        self.work_ms += other.work_ms;
        self.completed += other.completed;
        self.failed += other.failed;
    }
}

/// One window: `[index × windowMs, (index + 1) × windowMs)` after the first claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    pub index: u64,
    #[serde(flatten)]
    pub counters: Counters,
}

/// Where the time went, over the whole run (ms, summed over whoever waited).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Waits {
    /// Waiting for a pooled connection.
    pub pool_wait_ms: f64,
    /// Claims waiting for another claim's row locks.
    pub lock_wait_ms: f64,
    /// Statements waiting for their commit's WAL flush.
    pub commit_wait_ms: f64,
    /// Event-loop tasks waiting for their worker's loop.
    pub loop_wait_ms: f64,
    /// CPU the worker processes used.
    pub worker_cpu_ms: f64,
    /// CPU the database backends used.
    pub db_cpu_ms: f64,
}

/// Busy fraction of each resource over the run (0..1).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Utilisation {
    /// Host cores in use.
    pub cpu: f64,
    /// Worker event loops busy (mean over workers).
    pub worker_loop: f64,
    /// The busiest worker's event loop.
    pub worker_loop_max: f64,
    /// The WAL writer flushing.
    pub commit: f64,
    /// Under optimistic-any, the queue's head contended: its rows held by an uncommitted claim
    /// (every other claimer waits behind it and comes back short), or claimers that lost them
    /// backing off (0 for the other strategies).
    pub row_locks: f64,
    /// Every connection of a worker's pool in use (the busiest pool).
    pub pool: f64,
}

impl Utilisation {
    /// The resource that limits throughput: the busiest one (ties go to the first of cpu,
    /// worker-loop, commit, row-locks, pool), or `latency` when none is 80% busy and the
    /// consumers are waiting on round trips.
    pub fn bottleneck(&self) -> &'static str {
        let ranked = [
            ("cpu", self.cpu),
            ("worker-loop", self.worker_loop_max),
            ("commit", self.commit),
            ("row-locks", self.row_locks),
            ("pool", self.pool),
        ];
        let best = ranked.iter().map(|r| r.1).fold(0.0, f64::max);
        if best < 0.8 {
            return "latency";
        }
        ranked
            .iter()
            .find(|r| r.1 >= best - 0.02)
            .map(|r| r.0)
            .unwrap_or("latency")
    }
}

/// The outcome of one simulation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimReport {
    /// Start-up plus the run, first claim to last worker done (ms).
    pub elapsed_ms: f64,
    /// First claim to last worker done (ms).
    pub run_ms: f64,
    /// Jobs completed per second of `elapsedMs`.
    pub throughput: f64,
    pub jobs: u64,
    pub completed: u64,
    pub windows: Vec<Window>,
    pub totals: Counters,
    pub waits: Waits,
    pub utilisation: Utilisation,
    pub bottleneck: String,
    /// Events the simulation processed.
    pub events: u64,
}
