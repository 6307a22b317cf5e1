//! `#[napi]` wrappers of claim-sim. Configs, reports and requests cross as JSON text (the
//! TypeScript facade types them); every caller error is `ERR_CLAIMS_CONFIG`.

use claim_sim::calibrate::{prepare, CalibrationRequest, Prepared};
use claim_sim::preset::{seed_phase3, seed_phase3_calibration, seed_phase3_report};
use claim_sim::{fit_usl, SimConfig, SimError, UslPoint};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::ErrorCode;

fn coded(e: SimError) -> napi::Error<ErrorCode> {
    napi::Error::new(ErrorCode::ClaimsConfig, e.message)
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("reports serialise")
}

fn config_error(message: String) -> napi::Error<ErrorCode> {
    coded(SimError::config(message))
}

/// Runs one simulation on the calling thread; `config` and the result are JSON.
#[napi(catch_unwind)]
pub fn simulate_claims(config: String) -> Result<String, ErrorCode> {
    let config = SimConfig::from_json(&config).map_err(coded)?;
    Ok(to_json(&claim_sim::simulate(&config).map_err(coded)?))
}

/// A simulation on the libuv pool (checked before it is queued).
pub struct SimulateTask(SimConfig);

#[napi]
impl Task for SimulateTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> Result<Self::Output> {
        let report = claim_sim::simulate(&self.0).map_err(|e| Error::from_reason(e.to_string()))?;
        Ok(to_json(&report))
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
) -> Result<AsyncTask<SimulateTask>, ErrorCode> {
    let config = SimConfig::from_json(&config).map_err(coded)?;
    Ok(AsyncTask::with_optional_signal(
        SimulateTask(config),
        signal,
    ))
}

/// Fits the Universal Scalability Law to `[{ n, throughput }, …]` (JSON); returns the fit.
#[napi(catch_unwind)]
pub fn fit_usl_points(points: String) -> Result<String, ErrorCode> {
    let points: Vec<UslPoint> = serde_json::from_str(&points)
        .map_err(|e| config_error(format!("points must be [{{ n, throughput }}, …]: {e}")))?;
    Ok(to_json(&fit_usl(&points).map_err(coded)?))
}

/// A calibration on the libuv pool (checked before it is queued).
pub struct CalibrateTask(Prepared);

#[napi]
impl Task for CalibrateTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(to_json(&self.0.run()))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}

/// Fits cost parameters to measured cells (a `CalibrationRequest` as JSON) on the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<string>")]
pub fn calibrate_claims_async(
    request: String,
    signal: Option<AbortSignal>,
) -> Result<AsyncTask<CalibrateTask>, ErrorCode> {
    let request: CalibrationRequest = serde_json::from_str(&request)
        .map_err(|e| config_error(format!("invalid calibration request: {e}")))?;
    let prepared = prepare(&request).map_err(coded)?;
    Ok(AsyncTask::with_optional_signal(
        CalibrateTask(prepared),
        signal,
    ))
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
