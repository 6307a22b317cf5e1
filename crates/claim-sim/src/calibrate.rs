//! Calibration: fits cost parameters so that simulations of measured cells (normally
//! single-worker runs) reproduce what was measured. The objective is the sum over cells of
//! squared log errors: throughput with weight 1, each other measured quantity (claim and
//! persist latency, claims per job, CPU per job) with weight ¼. Parameters are searched in log
//! space by Nelder–Mead; every simulation uses the cell's own seed, so the objective is
//! deterministic.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::SimConfig;
use crate::engine;
use crate::error::{Result, SimError};
use crate::minimize::nelder_mead;
use crate::report::SimReport;

/// One measured cell: its settings and what was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Measurement {
    /// The cell's settings, over the calibration's base config (a partial `SimConfig`).
    #[serde(default)]
    pub config: Value,
    /// Jobs completed per second.
    pub throughput: f64,
    /// Mean time per claim statement (ms).
    #[serde(default)]
    pub claim_ms: Option<f64>,
    /// Mean time per result flush (ms).
    #[serde(default)]
    pub persist_ms: Option<f64>,
    /// Claim statements per job (1 / batch when every batch is full).
    #[serde(default)]
    pub claims_per_job: Option<f64>,
    /// Worker process CPU per job (ms).
    #[serde(default)]
    pub worker_cpu_ms_per_job: Option<f64>,
    /// Database CPU per job (ms).
    #[serde(default)]
    pub db_cpu_ms_per_job: Option<f64>,
}

/// What to fit to what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CalibrationRequest {
    /// Settings every cell starts from (its costs are the starting point of the fit).
    #[serde(default)]
    pub base: Value,
    pub cells: Vec<Measurement>,
    /// Cost names to fit (JSON names, e.g. `dbClaimMs`; `setupMs` fits the start-up).
    #[serde(default = "default_fit")]
    pub fit: Vec<String>,
    /// Cells with more jobs are simulated with this many and scaled (default 20,000).
    #[serde(default = "default_max_jobs")]
    pub max_jobs: u64,
    /// Evaluations of the objective (each simulates every cell) at most, the first simplex's
    /// `fit.len() + 1` always (default 400).
    #[serde(default = "default_max_evaluations")]
    pub max_evaluations: usize,
}

fn default_fit() -> Vec<String> {
    [
        "workerStatementMs",
        "workerJobMs",
        "dbClaimMs",
        "dbCompleteRowMs",
        "commitMs",
    ]
    .map(String::from)
    .to_vec()
}

fn default_max_jobs() -> u64 {
    20_000
}

fn default_max_evaluations() -> usize {
    400
}

/// Measured against predicted, for one cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CellFit {
    pub measured: Observed,
    pub predicted: Observed,
    /// Predicted / measured − 1, on throughput.
    pub throughput_error: f64,
}

/// The quantities calibration compares.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observed {
    pub throughput: f64,
    pub claim_ms: Option<f64>,
    pub persist_ms: Option<f64>,
    pub claims_per_job: Option<f64>,
    pub worker_cpu_ms_per_job: Option<f64>,
    pub db_cpu_ms_per_job: Option<f64>,
}

/// The fitted config and how well it fits.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Calibration {
    /// The base config with the fitted costs (and start-up).
    pub config: SimConfig,
    pub cells: Vec<CellFit>,
    /// The objective at the fit (sum of weighted squared log errors).
    pub objective: f64,
    pub evaluations: usize,
}

/// `patch`'s fields over `base`'s (objects merged recursively).
pub fn merge(base: &Value, patch: &Value) -> Value {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            let mut out = b.clone();
            for (k, v) in p {
                let merged = match out.get(k) {
                    Some(old) => merge(old, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (_, Value::Null) => base.clone(),
        _ => patch.clone(),
    }
}

fn config_of(base: &Value, patch: &Value, what: &str) -> Result<SimConfig> {
    let base = if base.is_null() {
        &Value::Object(Default::default())
    } else {
        base
    };
    SimConfig::from_value(merge(base, patch))
        .map_err(|e| SimError::config(format!("{what}: {}", e.message)))
}

/// What a simulation of `config` predicts for the quantities calibration compares; a config
/// with more than `max_jobs` jobs is simulated with `max_jobs` and its run time scaled. The
/// shorter run's queue has proportionally fewer dead entries at the same point of the run, so
/// each is charged that much more.
pub fn observe(config: &SimConfig, max_jobs: u64) -> Observed {
    let mut run = config.clone();
    run.jobs = config.jobs.min(max_jobs.max(1));
    run.costs.db_dead_entry_ms *= config.jobs as f64 / run.jobs as f64;
    let report = engine::run(&run);
    observed(config, &run, &report)
}

fn observed(config: &SimConfig, run: &SimConfig, r: &SimReport) -> Observed {
    let scale = config.jobs as f64 / run.jobs as f64;
    let elapsed = config.setup_ms + r.run_ms * scale;
    let t = &r.totals;
    let per = |x: f64, n: u64| if n > 0 { Some(x / n as f64) } else { None };
    Observed {
        throughput: config.jobs as f64 / (elapsed / 1000.0),
        claim_ms: per(t.claim_ms, t.claim_batches),
        persist_ms: per(t.persist_ms, t.persist_flushes),
        claims_per_job: per(t.claim_batches as f64, r.completed),
        worker_cpu_ms_per_job: per(r.waits.worker_cpu_ms, r.completed),
        db_cpu_ms_per_job: per(r.waits.db_cpu_ms, r.completed),
    }
}

fn log_error(predicted: Option<f64>, measured: Option<f64>) -> f64 {
    match (predicted, measured) {
        (Some(p), Some(m)) if m > 0.0 => (p.max(1e-9) / m).ln().powi(2),
        (None, Some(_)) => 25.0,
        _ => 0.0,
    }
}

fn cell_error(p: &Observed, m: &Observed) -> f64 {
    log_error(Some(p.throughput), Some(m.throughput))
        + 0.25
            * (log_error(p.claim_ms, m.claim_ms)
                + log_error(p.persist_ms, m.persist_ms)
                + log_error(p.claims_per_job, m.claims_per_job)
                + log_error(p.worker_cpu_ms_per_job, m.worker_cpu_ms_per_job)
                + log_error(p.db_cpu_ms_per_job, m.db_cpu_ms_per_job))
}

/// The fittable value `name` of `config`: a cost, `setupMs` or `emptyBackoffMs`.
fn fittable<'a>(config: &'a mut SimConfig, name: &str) -> Option<&'a mut f64> {
    match name {
        "setupMs" => Some(&mut config.setup_ms),
        "emptyBackoffMs" => Some(&mut config.empty_backoff_ms),
        _ => config.costs.get_mut(name),
    }
}

fn field(config: &SimConfig, name: &str) -> Option<f64> {
    fittable(&mut config.clone(), name).map(|v| *v)
}

/// A checked calibration, ready to run (checking is quick; fitting runs simulations).
#[derive(Debug, Clone)]
pub struct Prepared {
    base: SimConfig,
    cells: Vec<(SimConfig, Observed)>,
    fit: Vec<String>,
    max_jobs: u64,
    max_evaluations: usize,
}

/// Checks `request`: the base and every cell's config, the names to fit, the measurements.
pub fn prepare(request: &CalibrationRequest) -> Result<Prepared> {
    if request.cells.is_empty() {
        return Err(SimError::config(
            "calibration needs at least one measured cell",
        ));
    }
    if request.fit.is_empty() {
        return Err(SimError::config("fit names no cost to fit"));
    }
    let base = config_of(&request.base, &Value::Null, "base")?;
    for name in &request.fit {
        if name == "cv" || field(&base, name).is_none() {
            return Err(SimError::config(format!(
                "cannot fit {name:?}: fit takes cost names (workerStatementMs, dbClaimMs, commitMs, …), setupMs or emptyBackoffMs"
            )));
        }
    }
    let mut cells = Vec::with_capacity(request.cells.len());
    for (i, m) in request.cells.iter().enumerate() {
        if !(m.throughput.is_finite() && m.throughput > 0.0) {
            return Err(SimError::config(format!(
                "cells[{i}].throughput must be a positive number, got {}",
                m.throughput
            )));
        }
        let config = config_of(&request.base, &m.config, &format!("cells[{i}].config"))?;
        let measured = Observed {
            throughput: m.throughput,
            claim_ms: m.claim_ms,
            persist_ms: m.persist_ms,
            claims_per_job: m.claims_per_job,
            worker_cpu_ms_per_job: m.worker_cpu_ms_per_job,
            db_cpu_ms_per_job: m.db_cpu_ms_per_job,
        };
        for (field, v) in [
            ("claimMs", measured.claim_ms),
            ("persistMs", measured.persist_ms),
            ("claimsPerJob", measured.claims_per_job),
            ("workerCpuMsPerJob", measured.worker_cpu_ms_per_job),
            ("dbCpuMsPerJob", measured.db_cpu_ms_per_job),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && v > 0.0) {
                    return Err(SimError::config(format!(
                        "cells[{i}].{field} must be a positive number, got {v}"
                    )));
                }
            }
        }
        cells.push((config, measured));
    }
    Ok(Prepared {
        base,
        cells,
        fit: request.fit.clone(),
        max_jobs: request.max_jobs,
        max_evaluations: request.max_evaluations,
    })
}

impl Prepared {
    /// Fits the named parameters (log space, Nelder–Mead over simulations of every cell).
    pub fn run(&self) -> Calibration {
        let names = &self.fit;
        let apply = |config: &SimConfig, x: &[f64]| {
            let mut c = config.clone();
            for (name, &lx) in names.iter().zip(x) {
                if let Some(v) = fittable(&mut c, name) {
                    *v = lx.exp();
                }
            }
            c
        };
        let mut objective = |x: &[f64]| {
            self.cells
                .iter()
                .map(|(config, measured)| {
                    cell_error(&observe(&apply(config, x), self.max_jobs), measured)
                })
                .sum::<f64>()
        };
        let start: Vec<f64> = names
            .iter()
            .map(|n| field(&self.base, n).unwrap_or(0.0).max(1e-3).ln())
            .collect();
        let step = vec![0.7; start.len()];
        let m = nelder_mead(
            &mut objective,
            &start,
            &step,
            1e-6,
            self.max_evaluations.max(start.len() + 2),
        );
        let cells = self
            .cells
            .iter()
            .map(|(config, measured)| {
                let predicted = observe(&apply(config, &m.x), self.max_jobs);
                CellFit {
                    throughput_error: predicted.throughput / measured.throughput - 1.0,
                    measured: measured.clone(),
                    predicted,
                }
            })
            .collect();
        Calibration {
            config: apply(&self.base, &m.x),
            cells,
            objective: m.value,
            evaluations: m.evaluations,
        }
    }
}

/// Fits `request.fit` to the measured cells.
pub fn calibrate(request: &CalibrationRequest) -> Result<Calibration> {
    Ok(prepare(request)?.run())
}
