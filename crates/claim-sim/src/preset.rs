//! The team's case ("seed phase 3"): simulation workers claiming runs in batches of 10 with
//! `SELECT` of pending ids, then `UPDATE … WHERE id = ANY($ids) AND status = 'Pending'`,
//! 4 concurrent batches per worker, pool 50, results flushed every 50–100 or 500–1000 ms.
//! Measured: 10K runs 1 worker 11.6 s, 3 workers 11.0 s; 50K runs 1 worker 52.5 s, 3 workers
//! 55.3 s; per 10 s with 1 worker about 1000 claim batches.
//!
//! The costs below were picked by `cargo run --release -p claim-sim --example phase3 -- --grid`:
//! a grid over the commit's WAL flush, the back-off after an empty claim, the completion's
//! per-row cost and the start-up, each point simulated with seeds 1 to 7, keeping the four
//! elapsed times within 5% for every seed (worst 3.9%) and the claims per 10 s within 15% of
//! what the team counted (`calibrate(&seed_phase3_calibration())` lands in a worse local minimum
//! since the model's empty optimistic claims lock and commit). Seeds matter here: the 3-worker
//! runs end on whichever consumer is backing off last, and at the costs picked before (with one
//! seed) a 10K-run with 3 workers came out 3% or 10% long depending on the seed. They say the
//! team's claims serialised on the queue's head rows: a claim holds the first pending rows from
//! its update until its commit's WAL flush (~6.5 ms); every claimer that read the same ids waits
//! for it, then locks those rows to re-check them and commits in turn, and comes back empty
//! (then backs off, ~0.65 s), so one claim at a time makes progress whatever the worker count.
//! Not reproduced: the ~14 ms mean claim time and ~5 s persist time per 10 s the team
//! measured (the model gives ~8 ms and ~1.9 s).

use serde::Serialize;
use serde_json::{json, Value};

use crate::calibrate::{merge, CalibrationRequest, Measurement};
use crate::config::{OptimisticSelect, SimConfig, Strategy};
use crate::engine;
use crate::error::{Result, SimError};

/// What the team measured: (workers, runs, elapsed seconds).
pub const SEED_PHASE3_MEASURED: [(u32, u64, f64); 4] = [
    (1, 10_000, 11.6),
    (1, 50_000, 52.5),
    (3, 10_000, 11.0),
    (3, 50_000, 55.3),
];

/// Claim batches per 10 s the team counted with 1 worker, and runs done in those 10 s.
pub const SEED_PHASE3_CLAIMS_PER_10S: (f64, f64) = (1000.0, 9520.0);

/// The team's settings before any cost is known (what calibration starts from).
fn phase3_settings() -> SimConfig {
    let mut c = SimConfig {
        jobs: 50_000,
        workers: 1,
        consumers: 4,
        batch_size: 10,
        strategy: Strategy::OptimisticAny,
        optimistic_select: OptimisticSelect::Separate,
        pool_size: 50,
        flush_size: 75,
        flush_ms: 750.0,
        work_ms: 0.025,
        check_after_empty: false,
        // An assumption: the team's host is not known; the fit does not depend on it (the CPU
        // is ~5% busy).
        cores: 4.0,
        empty_backoff_ms: 10.0,
        setup_ms: 500.0,
        seed: 7,
        ..SimConfig::default()
    };
    c.costs.rtt_ms = 0.1;
    c
}

/// The team's case with `workers` workers and `jobs` runs.
pub fn seed_phase3(workers: u32, jobs: u64) -> Result<SimConfig> {
    let mut c = phase3_settings();
    c.workers = workers;
    c.jobs = jobs;
    c.empty_backoff_ms = 650.0;
    c.setup_ms = 550.0;
    c.costs.commit_ms = 6.5;
    c.costs.rtt_ms = 0.0026;
    c.costs.db_complete_row_ms = 0.125;
    c.validate()?;
    Ok(c)
}

/// The calibration that produced `seed_phase3`'s costs.
pub fn seed_phase3_calibration() -> CalibrationRequest {
    let (claims, runs) = SEED_PHASE3_CLAIMS_PER_10S;
    CalibrationRequest {
        base: serde_json::to_value(phase3_settings()).expect("serialisable"),
        cells: SEED_PHASE3_MEASURED
            .iter()
            .map(|&(workers, jobs, seconds)| Measurement {
                config: json!({ "workers": workers, "jobs": jobs }),
                throughput: jobs as f64 / seconds,
                claim_ms: None,
                persist_ms: None,
                claims_per_job: (workers == 1 && jobs == 50_000).then_some(claims / runs),
                worker_cpu_ms_per_job: None,
                db_cpu_ms_per_job: None,
            })
            .collect(),
        fit: [
            "commitMs",
            "rttMs",
            "dbCompleteRowMs",
            "setupMs",
            "emptyBackoffMs",
        ]
        .map(String::from)
        .to_vec(),
        max_jobs: 50_000,
        max_evaluations: 600,
    }
}

/// One of the team's proposals: a change to their settings.
#[derive(Debug, Clone, Serialize)]
pub struct Proposal {
    pub name: &'static str,
    pub change: Value,
}

/// The proposals the team weighed, and the alternatives fleetscale offers.
pub fn seed_phase3_proposals() -> Vec<Proposal> {
    let p = |name, change| Proposal { name, change };
    vec![
        p("as measured", json!({})),
        p("batch 20", json!({ "batchSize": 20 })),
        p("batch 50", json!({ "batchSize": 50 })),
        p("pool 10", json!({ "poolSize": 10 })),
        p("pool 100", json!({ "poolSize": 100 })),
        p("persist 100", json!({ "flushSize": 100 })),
        p("persist 200", json!({ "flushSize": 200 })),
        p("flush 1000 ms", json!({ "flushMs": 1000 })),
        p("skip-locked", json!({ "strategy": "skip-locked" })),
        p("partitioned", json!({ "strategy": "partitioned" })),
        p(
            "skip-locked, batch 50, persist 200",
            json!({ "strategy": "skip-locked", "batchSize": 50, "flushSize": 200 }),
        ),
    ]
}

/// What the model predicts for one proposal at 1 and 3 workers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProposalOutcome {
    pub name: &'static str,
    pub change: Value,
    /// Runs per second with 1 worker.
    pub one_worker: f64,
    /// Runs per second with 3 workers.
    pub three_workers: f64,
    /// `threeWorkers / oneWorker` (the team's goal: ≥ 1.5).
    pub speedup: f64,
    pub elapsed_ms_one: f64,
    pub elapsed_ms_three: f64,
    /// What limits 3 workers.
    pub bottleneck: String,
}

/// Every proposal simulated with `jobs` runs at 1 and 3 workers.
pub fn seed_phase3_report(jobs: u64) -> Result<Vec<ProposalOutcome>> {
    seed_phase3_proposals()
        .into_iter()
        .map(|p| {
            let run = |workers| -> Result<crate::SimReport> {
                let base = serde_json::to_value(seed_phase3(workers, jobs)?).expect("serialisable");
                let config = SimConfig::from_value(merge(&base, &p.change))
                    .map_err(|e| SimError::config(format!("proposal {}: {}", p.name, e.message)))?;
                Ok(engine::run(&config))
            };
            let (one, three) = (run(1)?, run(3)?);
            Ok(ProposalOutcome {
                name: p.name,
                one_worker: one.throughput,
                three_workers: three.throughput,
                speedup: three.throughput / one.throughput,
                elapsed_ms_one: one.elapsed_ms,
                elapsed_ms_three: three.elapsed_ms,
                bottleneck: three.bottleneck,
                change: p.change,
            })
        })
        .collect()
}
