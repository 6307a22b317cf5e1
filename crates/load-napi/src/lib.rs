//! N-API binding of http-load, built apart from the published binding (`npm run build:load`):
//! the hub's ingest benchmark drives the hub with it, and nothing a user installs contains it.
//! A plan is checked on the calling thread and run on the libuv pool (the load's own thread);
//! its report comes back as JSON. A malformed plan is `ERR_LOAD_CONFIG`.

use std::net::{SocketAddr, ToSocketAddrs};

use http_load::LoadPlan;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// The `code` a thrown JS error carries.
#[derive(Debug, Clone, Copy)]
pub enum ErrorCode {
    LoadConfig,
}

impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        match self {
            ErrorCode::LoadConfig => "ERR_LOAD_CONFIG",
        }
    }
}

/// A load run on the libuv pool; its result is JSON.
pub struct LoadTask(Option<Box<dyn FnOnce() -> String + Send>>);

#[napi]
impl Task for LoadTask {
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

/// What `runHttpLoad` sends; see `LoadPlan`.
#[napi(object)]
pub struct HttpLoadPlan {
    pub host: String,
    pub port: u32,
    /// Request bytes, connection after connection: its warm-up request, then its timed ones.
    pub requests: Buffer,
    /// End offset of each request in `requests`.
    pub ends: Vec<u32>,
    pub connections: u32,
    /// Timed requests per connection.
    pub timed: u32,
    /// 0: closed loop; else the interval between one connection's requests (ms).
    pub interval_ms: f64,
    /// Default 600,000.
    pub timeout_ms: Option<f64>,
}

fn config_error(message: impl Into<String>) -> Error<ErrorCode> {
    Error::new(ErrorCode::LoadConfig, message.into())
}

fn resolve(host: &str, port: u32) -> Result<SocketAddr, ErrorCode> {
    let port =
        u16::try_from(port).map_err(|_| config_error(format!("port {port} is not a TCP port")))?;
    (host, port)
        .to_socket_addrs()
        .map_err(|e| config_error(format!("cannot resolve {host}: {e}")))?
        .next()
        .ok_or_else(|| config_error(format!("{host} has no address")))
}

/// Runs a load on a thread of the libuv pool; resolves with its report as JSON
/// (`{ ok: true, report }` or `{ ok: false, error }` when a connection could not be made).
#[napi(catch_unwind, ts_return_type = "Promise<string>")]
pub fn run_http_load(plan: HttpLoadPlan) -> Result<AsyncTask<LoadTask>, ErrorCode> {
    let plan = LoadPlan {
        addr: resolve(&plan.host, plan.port)?,
        requests: plan.requests.to_vec(),
        ends: plan.ends.iter().map(|&e| e as usize).collect(),
        connections: plan.connections as usize,
        timed: plan.timed as usize,
        interval_ms: plan.interval_ms,
        timeout_ms: plan.timeout_ms.unwrap_or(600_000.0),
    };
    plan.check().map_err(|e| config_error(e.0))?;
    Ok(AsyncTask::new(LoadTask(Some(Box::new(
        move || match http_load::run(&plan) {
            Ok(report) => format!(
                "{{\"ok\":true,\"report\":{}}}",
                serde_json::to_string(&report).expect("reports serialise")
            ),
            Err(e) => serde_json::json!({ "ok": false, "error": e.0 }).to_string(),
        },
    )))))
}
