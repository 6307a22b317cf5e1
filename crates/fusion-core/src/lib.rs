//! fusion-core: find the observations from different nodes that describe the same real-world
//! event, with a global blocking index instead of an O(nodes²) loop over node pairs.
//!
//! The pipeline is [`blocking`] (candidate pairs, exact at bucket edges, each pair once) →
//! [`scoring`] (Fellegi–Sunter match weights) → [`cluster`] (union-find, optionally at most one
//! record per node per event) → fused events ([`fuse`]). [`pairwise`] keeps the legacy
//! per-node-pair algorithm as a baseline, [`generator`] makes seeded fleets with known truth and
//! [`evaluate`] scores a result against it.

pub mod blocking;
pub mod cluster;
pub mod config;
pub mod error;
pub mod evaluate;
pub mod events;
pub mod fuse;
pub mod generator;
pub mod geo;
pub mod pairwise;
pub mod preset;
pub mod records;
pub mod result_json;
pub use seeded_rng as rng;
pub mod scoring;
pub mod texts;

pub use config::FusionConfig;
pub use error::{FusionError, FusionErrorKind};
pub use fuse::{fuse, Events, FusedEvent, FusionOutput, FusionStats};
pub use records::{Column, Records};
