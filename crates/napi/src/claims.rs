//! `#[napi]` wrappers of claim-sim. Configs, reports and requests cross as JSON text (the
//! TypeScript facade types them); every caller error is `ERR_CLAIMS_CONFIG`.

use claim_sim::calibrate::{prepare, CalibrationRequest};
use claim_sim::preset::{
    seed_phase3, seed_phase3_calibration, seed_phase3_report, SEED_PHASE3_MEASURED,
};
use claim_sim::{fit_usl, SimConfig, SimError, UslPoint};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::ErrorCode;

fn coded(e: SimError) -> Error<ErrorCode> {
    Error::new(ErrorCode::ClaimsConfig, e.message)
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("reports serialise")
}

fn config_error(message: String) -> Error<ErrorCode> {
    coded(SimError::config(message))
}

/// Runs one simulation on the calling thread; `config` and the result are JSON.
#[napi(catch_unwind)]
pub fn simulate_claims(config: String) -> Result<String, ErrorCode> {
    let config = SimConfig::from_json(&config).map_err(coded)?;
    Ok(to_json(&claim_sim::simulate(&config).map_err(coded)?))
}

/// Work checked on the calling thread, then run on the libuv pool; its result is JSON.
pub struct JsonTask(Option<Box<dyn FnOnce() -> String + Send>>);

impl JsonTask {
    pub(crate) fn new(work: impl FnOnce() -> String + Send + 'static) -> Self {
        Self(Some(Box::new(work)))
    }
}

#[napi]
impl Task for JsonTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> Result<Self::Output> {
        let work = self
            .0
            .take()
            .ok_or_else(|| Error::from_reason("task ran twice"))?;
        Ok(work())
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}

/// The async twin of `simulateClaims`.
#[napi(catch_unwind, ts_return_type = "Promise<string>")]
pub fn simulate_claims_async(
    config: String,
    signal: Option<AbortSignal>,
) -> Result<AsyncTask<JsonTask>, ErrorCode> {
    let config = SimConfig::from_json(&config).map_err(coded)?;
    // Checked above: the simulation itself cannot fail.
    let task = JsonTask::new(move || to_json(&claim_sim::simulate(&config).expect("checked")));
    Ok(AsyncTask::with_optional_signal(task, signal))
}

/// Fits the Universal Scalability Law to `[{ n, throughput }, …]` (JSON); returns the fit.
#[napi(catch_unwind)]
pub fn fit_usl_points(points: String) -> Result<String, ErrorCode> {
    let points: Vec<UslPoint> = serde_json::from_str(&points)
        .map_err(|e| config_error(format!("points must be [{{ n, throughput }}, …]: {e}")))?;
    Ok(to_json(&fit_usl(&points).map_err(coded)?))
}

/// Fits cost parameters to measured cells (a `CalibrationRequest` as JSON) on the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<string>")]
pub fn calibrate_claims_async(
    request: String,
    signal: Option<AbortSignal>,
) -> Result<AsyncTask<JsonTask>, ErrorCode> {
    let request: CalibrationRequest = serde_json::from_str(&request)
        .map_err(|e| config_error(format!("invalid calibration request: {e}")))?;
    let prepared = prepare(&request).map_err(coded)?;
    let task = JsonTask::new(move || to_json(&prepared.run()));
    Ok(AsyncTask::with_optional_signal(task, signal))
}

fn check_preset(name: &str) -> Result<(), ErrorCode> {
    match name {
        "seed-phase3" => Ok(()),
        other => Err(config_error(format!(
            "unknown claims preset {other:?} (known: seed-phase3)"
        ))),
    }
}

fn count(field: &str, value: f64, max: f64) -> Result<u64, ErrorCode> {
    if value.is_finite() && value >= 1.0 && value <= max && value.fract() == 0.0 {
        Ok(value as u64)
    } else {
        Err(config_error(format!(
            "{field} must be an integer in [1, {max}], got {value}"
        )))
    }
}

/// A preset's config (JSON) for `workers` workers and `jobs` jobs.
#[napi(catch_unwind)]
pub fn claim_preset_config(name: String, workers: f64, jobs: f64) -> Result<String, ErrorCode> {
    check_preset(&name)?;
    let config = seed_phase3(
        count("workers", workers, 4096.0)? as u32,
        count("jobs", jobs, 1e9)?,
    )
    .map_err(coded)?;
    Ok(to_json(&config))
}

/// What the model predicts for a preset's proposals (JSON), each at 1 and 3 workers.
#[napi(catch_unwind)]
pub fn claim_preset_report(name: String, jobs: f64) -> Result<String, ErrorCode> {
    check_preset(&name)?;
    Ok(to_json(
        &seed_phase3_report(count("jobs", jobs, 1e7)?).map_err(coded)?,
    ))
}

/// The calibration request a preset's costs were fitted with (JSON).
#[napi(catch_unwind)]
pub fn claim_preset_calibration(name: String) -> Result<String, ErrorCode> {
    check_preset(&name)?;
    Ok(to_json(&seed_phase3_calibration()))
}

/// What the team behind a preset measured (JSON: `[{ workers, jobs, seconds }, …]`).
#[napi(catch_unwind)]
pub fn claim_preset_measured(name: String) -> Result<String, ErrorCode> {
    check_preset(&name)?;
    let runs: Vec<_> = SEED_PHASE3_MEASURED
        .iter()
        .map(|&(workers, jobs, seconds)| serde_json::json!({ "workers": workers, "jobs": jobs, "seconds": seconds }))
        .collect();
    Ok(to_json(&runs))
}
