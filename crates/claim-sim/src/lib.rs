//! A seeded discrete-event model of batch claiming: W worker processes × C consumers claim
//! batches of B jobs from one PostgreSQL table, run them and persist the results, on a host
//! whose cores the workers and the database share. It answers "will more workers help?" from
//! measured costs, and says which resource stops them.
//!
//! - `simulate(config)`: elapsed time, throughput, the claims queue's 10 s windows, waits,
//!   utilisation of each resource and the bottleneck.
//! - `usl::fit_usl(points)`: the Universal Scalability Law fitted to measured throughputs.
//! - `calibrate`: cost parameters fitted to single-worker measurements.
//!
//! Plain Rust (no napi); `crates/napi` exposes it to Node.

pub mod calibrate;
pub mod config;
mod cpu;
mod draws;
mod due;
mod engine;
pub mod error;
pub mod growth;
mod minimize;
pub mod preset;
pub mod queueing;
pub mod report;
pub mod table;
pub mod usl;
mod wal;

pub use calibrate::{calibrate, Calibration, CalibrationRequest, Measurement};
pub use config::{Costs, LoopOrder, OptimisticSelect, SimConfig, Strategy};
pub use error::{Result, SimError};
pub use growth::GrowthPoint;
pub use report::{Counters, SimReport, Utilisation, Waits, Window};
pub use usl::{fit_usl, UslFit, UslPoint};

/// Runs the simulation `config` describes (checked first).
pub fn simulate(config: &SimConfig) -> Result<SimReport> {
    config.validate()?;
    Ok(engine::run(config))
}
