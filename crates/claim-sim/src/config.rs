//! What a simulation runs: the workload, the workers, the claim strategy and what each step
//! costs. Read from JSON (camelCase, unknown fields refused) and checked before a run.

use serde::{Deserialize, Serialize};

use crate::error::{check_range, Result, SimError};
use crate::growth::{self, GrowthPoint};

/// How a claimer picks its batch (the same three as the claims queue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Pick the first B pending ids, then update those still pending: concurrent claimers pick
    /// the same ids, wait for each other's row locks and come back short.
    OptimisticAny,
    /// `FOR UPDATE SKIP LOCKED`: claimers pass over rows another claimer holds.
    SkipLocked,
    /// One partition per worker, skip-locked within it; steals across partitions only when its
    /// own is empty.
    Partitioned,
}

/// Where `optimistic-any` reads its ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimisticSelect {
    /// In a subquery of the update (fleetscale's queue): ids are read and locked in one
    /// statement.
    Subquery,
    /// In a separate `SELECT` before the update (the team's code): one more round trip, and the
    /// ids can be taken by others in between.
    Separate,
}

/// The order in which a worker's event loop runs what a finished task goes on to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoopOrder {
    /// Every task waits its turn at the back of the loop's queue, a consumer resumed by a reply
    /// included (a loop that schedules resumed coroutines as new callbacks, as asyncio does).
    Fifo,
    /// A consumer resumed by a reply runs on in the same turn, before any callback waiting: its
    /// jobs and its next statement go to the front of the queue (Node's promise continuations).
    ContinuationsFirst,
}

/// What each step costs, in milliseconds. Worker costs run on the worker process's one event
/// loop; database costs run on the statement's backend; both share the host's cores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Costs {
    /// Worker CPU per statement sent and its reply handled (driver, protocol, promise).
    pub worker_statement_ms: f64,
    /// Worker CPU per claimed row decoded.
    pub worker_row_ms: f64,
    /// Worker CPU per job besides its own work (dispatch, result kept).
    pub worker_job_ms: f64,
    /// Worker CPU per result encoded into a flush.
    pub worker_result_ms: f64,
    /// Database CPU per claim statement.
    pub db_claim_ms: f64,
    /// Database CPU per row a claim updates.
    pub db_claim_row_ms: f64,
    /// Database CPU per locked row a skip-locked scan passes over.
    pub db_skip_row_ms: f64,
    /// Database CPU per dead index entry a scan for pending jobs passes over: the entries of
    /// jobs claimed since the table was last vacuumed, which every claim (and the backlog
    /// probe) walks from the start of its queue or partition. It makes a claim's cost grow
    /// through a run, and an empty claim at the end of one cost a scan of the whole queue.
    /// `fleetscale claims validate` measures it (`probeDeadEntries`).
    pub db_dead_entry_ms: f64,
    /// Database CPU per completion statement (mark done + store results).
    pub db_complete_ms: f64,
    /// Database CPU per job completed.
    pub db_complete_row_ms: f64,
    /// Database CPU per read-only statement (the backlog probe, a separate select of ids).
    pub db_query_ms: f64,
    /// WAL flush at commit; commits waiting together share one flush (group commit).
    pub commit_ms: f64,
    /// Network round trip per statement.
    pub rtt_ms: f64,
    /// Coefficient of variation of every cost (0: fixed; 1: exponential).
    pub cv: f64,
}

impl Default for Costs {
    fn default() -> Self {
        Self {
            worker_statement_ms: 0.12,
            worker_row_ms: 0.01,
            worker_job_ms: 0.005,
            worker_result_ms: 0.004,
            db_claim_ms: 0.25,
            db_claim_row_ms: 0.02,
            db_skip_row_ms: 0.002,
            db_dead_entry_ms: 0.0,
            db_complete_ms: 0.25,
            db_complete_row_ms: 0.04,
            db_query_ms: 0.08,
            commit_ms: 0.5,
            rtt_ms: 0.08,
            cv: 0.3,
        }
    }
}

/// A simulation: W worker processes × C consumers claiming batches of B jobs until N are done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SimConfig {
    /// Jobs in the queue at the start.
    pub jobs: u64,
    /// Worker processes.
    pub workers: u32,
    /// Consumers (concurrent claim loops) per worker.
    pub consumers: u32,
    pub batch_size: u32,
    pub strategy: Strategy,
    pub optimistic_select: OptimisticSelect,
    /// How each worker's event loop orders its work (default `fifo`, the order validation has
    /// been calibrated with; see `LoopOrder`).
    pub loop_order: LoopOrder,
    /// Connections per worker.
    pub pool_size: u32,
    /// Results flushed at once when this many are buffered…
    pub flush_size: u32,
    /// …or this long after the first of them was buffered (ms).
    pub flush_ms: f64,
    /// CPU time of each job's own work (ms).
    pub work_ms: f64,
    /// After an empty claim with nothing ready, wait this long before looking again (ms).
    pub idle_ms: f64,
    /// After an empty claim while jobs are still ready (others took them first), wait this
    /// long before claiming again (ms; 0: at once, as the claims worker does).
    pub empty_backoff_ms: f64,
    /// After an empty claim, ask the database whether jobs are ready (one read-only statement)
    /// before claiming again.
    pub check_after_empty: bool,
    /// Host cores shared by the worker processes and the database.
    pub cores: f64,
    /// The host scheduler's time slice (ms): a runnable process holds a core until its work is
    /// done or it has run this long while others wait. 0 models processor sharing (every
    /// runnable process progresses at once at `cores / runnable`). Linux preempts at its
    /// scheduler tick (4 ms at 250 Hz); `fleetscale claims probe` measures it.
    pub cpu_slice_ms: f64,
    /// Under time slices (`cpuSliceMs > 0`): the extra CPU a process pays when a core takes it
    /// up after running another (caches and branch predictors refilled), ms. One worker keeps
    /// its core and rarely pays it; several sharing the cores with the database pay it on most
    /// statements. 0: switches are free.
    pub cpu_switch_ms: f64,
    /// The share of a worker's own CPU costs (handling statements, rows, jobs and results; not
    /// the jobs' work) that its background threads spend, in parallel with its event loop:
    /// Node's garbage collector and compiler threads. They take a core like anything else but
    /// hold up no statement. 0: all of it on the loop. Measured by the harness (main thread's
    /// CPU against the process's).
    pub worker_background_share: f64,
    /// How the CPU cost of handling statements grows with the number of worker processes
    /// (points by worker count; empty: it does not). `probeStatementCpu` measures it; see
    /// `growth`.
    pub cpu_growth: Vec<GrowthPoint>,
    /// Start-up before the first claim (process start, connecting), added to the elapsed time.
    pub setup_ms: f64,
    /// Width of the perf windows (ms).
    pub window_ms: f64,
    pub seed: u64,
    pub costs: Costs,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            jobs: 10_000,
            workers: 1,
            consumers: 4,
            batch_size: 10,
            strategy: Strategy::SkipLocked,
            optimistic_select: OptimisticSelect::Subquery,
            loop_order: LoopOrder::Fifo,
            pool_size: 10,
            flush_size: 100,
            flush_ms: 500.0,
            work_ms: 0.0,
            idle_ms: 50.0,
            empty_backoff_ms: 0.0,
            check_after_empty: true,
            cores: 2.0,
            cpu_slice_ms: 0.0,
            cpu_switch_ms: 0.0,
            worker_background_share: 0.0,
            cpu_growth: Vec::new(),
            setup_ms: 0.0,
            window_ms: 10_000.0,
            seed: 1,
            costs: Costs::default(),
        }
    }
}

impl SimConfig {
    /// Parses and checks a JSON config; missing fields take their defaults.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| SimError::config(format!("invalid simulation config: {e}")))?;
        Self::from_value(value)
    }

    /// Checks a config given as a JSON value (it must be an object).
    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        if !value.is_object() {
            return Err(SimError::config(format!(
                "invalid simulation config: expected an object, got {value}"
            )));
        }
        let config: SimConfig = serde_json::from_value(value)
            .map_err(|e| SimError::config(format!("invalid simulation config: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    /// Every field in its range, or a config error naming the first one that is not.
    pub fn validate(&self) -> Result<()> {
        check_range("jobs", self.jobs as f64, 1.0, 1e9)?;
        check_range("workers", self.workers as f64, 1.0, 4096.0)?;
        check_range("consumers", self.consumers as f64, 1.0, 1024.0)?;
        check_range("batchSize", self.batch_size as f64, 1.0, 100_000.0)?;
        check_range("poolSize", self.pool_size as f64, 1.0, 10_000.0)?;
        check_range("flushSize", self.flush_size as f64, 1.0, 1e7)?;
        check_range("flushMs", self.flush_ms, 0.0, 3.6e6)?;
        check_range("workMs", self.work_ms, 0.0, 3.6e6)?;
        check_range("idleMs", self.idle_ms, 0.1, 3.6e6)?;
        check_range("emptyBackoffMs", self.empty_backoff_ms, 0.0, 3.6e6)?;
        check_range("cores", self.cores, 0.01, 4096.0)?;
        check_range("cpuSliceMs", self.cpu_slice_ms, 0.0, 3.6e6)?;
        check_range("cpuSwitchMs", self.cpu_switch_ms, 0.0, 1000.0)?;
        check_range(
            "workerBackgroundShare",
            self.worker_background_share,
            0.0,
            0.9,
        )?;
        check_range("setupMs", self.setup_ms, 0.0, 3.6e6)?;
        check_range("windowMs", self.window_ms, 1.0, 8.64e7)?;
        growth::validate(&self.cpu_growth)?;
        self.costs.validate()
    }

    /// The costs the simulation runs with: `costs` grown to `workers` processes.
    pub fn costs_at_scale(&self) -> Costs {
        growth::grown(&self.costs, &self.cpu_growth, self.workers)
    }
}

impl Costs {
    /// Every cost by its JSON name: the one list checks, calibration and reports go by.
    pub fn fields_mut(&mut self) -> [(&'static str, &mut f64); 14] {
        [
            ("workerStatementMs", &mut self.worker_statement_ms),
            ("workerRowMs", &mut self.worker_row_ms),
            ("workerJobMs", &mut self.worker_job_ms),
            ("workerResultMs", &mut self.worker_result_ms),
            ("dbClaimMs", &mut self.db_claim_ms),
            ("dbClaimRowMs", &mut self.db_claim_row_ms),
            ("dbSkipRowMs", &mut self.db_skip_row_ms),
            ("dbDeadEntryMs", &mut self.db_dead_entry_ms),
            ("dbCompleteMs", &mut self.db_complete_ms),
            ("dbCompleteRowMs", &mut self.db_complete_row_ms),
            ("dbQueryMs", &mut self.db_query_ms),
            ("commitMs", &mut self.commit_ms),
            ("rttMs", &mut self.rtt_ms),
            ("cv", &mut self.cv),
        ]
    }

    /// The costs' values by JSON name.
    pub fn fields(&self) -> [(&'static str, f64); 14] {
        self.clone()
            .fields_mut()
            .map(|(name, value)| (name, *value))
    }

    /// The cost named `name` (its JSON name), for calibration.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut f64> {
        self.fields_mut()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    pub fn validate(&self) -> Result<()> {
        for (name, value) in self.fields() {
            let max = if name == "cv" { 4.0 } else { 3.6e6 };
            check_range(&format!("costs.{name}"), value, 0.0, max)?;
        }
        Ok(())
    }
}
