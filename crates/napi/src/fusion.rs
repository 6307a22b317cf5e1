//! `#[napi]` wrappers of fusion-core.

use fusion_core::config::{Compiled, FusionConfig};
use fusion_core::evaluate::{evaluate_blocking, evaluate_clusters};
use fusion_core::fuse::{candidate_pairs, fuse_validated, fuse_with, FusionOutput, Method};
use fusion_core::generator::{generate, FleetSpec, CLASSES};
use fusion_core::preset::{sensor, SensorOptions};
use fusion_core::records::Records;
use fusion_core::result_json::{write_result_json, RecordNames};
use fusion_core::texts::read_batch_texts;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::columns::{to_records, NativeColumns};
use crate::error::{coded, input_error, ErrorCode};

fn compile(config_json: &str) -> Result<Compiled, ErrorCode> {
    FusionConfig::from_json(config_json)
        .and_then(|c| c.compile())
        .map_err(coded)
}

fn method(name: Option<String>) -> Result<Method, ErrorCode> {
    match name.as_deref() {
        None | Some("index") => Ok(Method::Index),
        Some("pairwise") => Ok(Method::Pairwise),
        Some(other) => Err(input_error(format!(
            "method must be \"index\" or \"pairwise\", got \"{other}\""
        ))),
    }
}

/// One phase's wall time.
#[napi(object)]
pub struct NativePhase {
    pub phase: String,
    pub ms: f64,
}

/// Counts of a fusion run.
#[napi(object)]
pub struct NativeStats {
    pub records: f64,
    pub blocks: f64,
    pub largest_block: f64,
    pub candidates: f64,
    pub scored: f64,
    pub matched: f64,
    pub timings: Vec<NativePhase>,
}

/// Fused events in columns: event `e` has members
/// `eventMembers[eventOffsets[e] .. eventOffsets[e + 1]]` (record indices, ascending).
#[napi(object)]
pub struct NativeFusion {
    pub event_offsets: Uint32Array,
    pub event_members: Uint32Array,
    /// Class code per event (into the class field's dictionary), -1 when none.
    pub event_class: Int32Array,
    pub event_t: Float64Array,
    pub event_lat: Float64Array,
    pub event_lon: Float64Array,
    pub event_score: Float64Array,
    pub stats: NativeStats,
}

fn to_native(out: FusionOutput) -> NativeFusion {
    let events = out.events;
    let class: Vec<i32> = events
        .class
        .iter()
        .map(|c| c.map(|c| c as i32).unwrap_or(-1))
        .collect();
    let s = out.stats;
    NativeFusion {
        event_offsets: events.offsets.into(),
        event_members: events.members.into(),
        event_class: class.into(),
        event_t: events.t.into(),
        event_lat: events.lat.into(),
        event_lon: events.lon.into(),
        event_score: events.score.into(),
        stats: NativeStats {
            records: s.records as f64,
            blocks: s.blocks as f64,
            largest_block: s.largest_block as f64,
            candidates: s.candidates as f64,
            scored: s.scored as f64,
            matched: s.matched as f64,
            timings: s
                .timings_ms
                .into_iter()
                .map(|(phase, ms)| NativePhase {
                    phase: phase.to_string(),
                    ms,
                })
                .collect(),
        },
    }
}

/// Fuses columnar records on the calling thread. `config` is a `FusionConfig` as JSON;
/// `method` is `"index"` (default) or `"pairwise"` (the legacy per-node-pair loop).
#[napi(catch_unwind)]
pub fn fuse_columns(
    config: String,
    columns: NativeColumns,
    method_name: Option<String>,
) -> Result<NativeFusion, ErrorCode> {
    let compiled = compile(&config)?;
    let records = to_records(&columns, &compiled)?;
    let how = method(method_name)?;
    fuse_with(&records, &compiled, how)
        .map(to_native)
        .map_err(coded)
}

/// A fusion run on the libuv pool; records were copied and validated before it was queued.
pub struct FuseTask {
    config: Compiled,
    records: Records,
    validate_ms: f64,
}

#[napi]
impl Task for FuseTask {
    type Output = FusionOutput;
    type JsValue = NativeFusion;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(fuse_validated(
            &self.records,
            &self.config,
            Method::Index,
            self.validate_ms,
        ))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(to_native(output))
    }
}

/// The async twin of `fuseColumns` (index method): validates now, fuses on the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<NativeFusion>")]
pub fn fuse_columns_async(
    config: String,
    columns: NativeColumns,
    signal: Option<AbortSignal>,
) -> Result<AsyncTask<FuseTask>, ErrorCode> {
    let compiled = compile(&config)?;
    let records = to_records(&columns, &compiled)?;
    let started = std::time::Instant::now();
    records.validate(&compiled).map_err(coded)?;
    let validate_ms = started.elapsed().as_secs_f64() * 1e3;
    Ok(AsyncTask::with_optional_signal(
        FuseTask {
            config: compiled,
            records,
            validate_ms,
        },
        signal,
    ))
}

/// Candidate pairs as `[a0, b0, a1, b1, …]` (sorted, `a < b`), found by `"index"`,
/// `"pairwise"` or `"brute"` (every pair checked against the pass predicates).
#[napi(catch_unwind)]
pub fn candidate_pairs_columns(
    config: String,
    columns: NativeColumns,
    method_name: String,
) -> Result<Uint32Array, ErrorCode> {
    let compiled = compile(&config)?;
    let records = to_records(&columns, &compiled)?;
    let pairs = if method_name == "brute" {
        records.validate(&compiled).map_err(coded)?;
        fusion_core::blocking::brute_force_candidates(&records, &compiled)
    } else {
        candidate_pairs(&records, &compiled, method(Some(method_name))?)
            .map_err(coded)?
            .0
    };
    Ok(pairs
        .into_iter()
        .flat_map(|(a, b)| [a, b])
        .collect::<Vec<u32>>()
        .into())
}

/// The sensor preset as `FusionConfig` JSON.
#[napi(catch_unwind)]
pub fn sensor_preset_json(time_window_ms: f64, radius_m: f64, one_per_node: bool) -> String {
    let config = sensor(SensorOptions {
        time_window_ms,
        radius_m,
        one_per_node,
    });
    serde_json::to_string(&config).unwrap_or_default()
}

/// A fused result as JSON text (UTF-8) and its number of events.
#[napi(object)]
pub struct NativeFusedText {
    pub json: Buffer,
    pub events: u32,
}

/// Fuses batch texts (each a JSON object with a `records` array) read straight into columns,
/// and writes the result's JSON text, the text `JSON.stringify(fuseSync(records))` gives but
/// for the timings. Text `k` is `strings[k]` when `spans` is null; otherwise `spans` holds three
/// numbers per text: the index of its chunk in `chunks`, its byte offset and its length there,
/// or -1, its index in `strings` and 0. Returns null when the config or the texts hold
/// anything the TypeScript reader would reject, or read in a way this one does not: the caller
/// then reads them the TypeScript way, which names the problem (`fusion_core::texts`).
#[napi(catch_unwind)]
pub fn fuse_batch_texts(
    config: String,
    chunks: Vec<Uint8Array>,
    spans: Option<Float64Array>,
    strings: Vec<String>,
) -> Option<NativeFusedText> {
    let compiled = compile(&config).ok()?;
    let started = std::time::Instant::now();
    let texts: Vec<&[u8]> = match &spans {
        None => strings.iter().map(|s| s.as_bytes()).collect(),
        Some(spans) => spans
            .chunks_exact(3)
            .map(|span| {
                let (at, offset, length) = (span[0], span[1] as usize, span[2] as usize);
                if at < 0.0 {
                    strings.get(offset).map(|s| s.as_bytes())
                } else {
                    chunks
                        .get(at as usize)?
                        .get(offset..offset.checked_add(length)?)
                }
            })
            .collect::<Option<_>>()?,
    };
    let read = read_batch_texts(&texts, &compiled)?;
    let read_ms = started.elapsed().as_secs_f64() * 1e3;
    let out = fuse_with(&read.records, &compiled, Method::Index).ok()?;
    let names = RecordNames {
        ids: &read.ids,
        node: &read.records.node,
        node_names: &read.node_names,
    };
    let class_column = compiled.class_field.map(|k| &read.records.columns[k]);
    let json = write_result_json(&out, &names, class_column, &[("prepare", read_ms)]);
    Some(NativeFusedText {
        events: out.events.len() as u32,
        json: json.into_bytes().into(),
    })
}

/// Checks a `FusionConfig` JSON; throws `ERR_FUSION_CONFIG` naming the problem.
#[napi(catch_unwind)]
pub fn validate_config(config: String) -> Result<(), ErrorCode> {
    compile(&config).map(|_| ())
}

/// A generated fleet in columns, records ordered by node then observation.
#[napi(object)]
pub struct NativeFleet {
    pub node: Uint32Array,
    pub obs: Uint32Array,
    pub cls: Uint32Array,
    pub classes: Vec<String>,
    pub t: Float64Array,
    pub lat: Float64Array,
    pub lon: Float64Array,
    /// True event per record, -1 for clutter.
    pub truth: Int32Array,
}

fn count(value: f64, what: &str, max: f64) -> Result<u64, ErrorCode> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= max {
        Ok(value as u64)
    } else {
        Err(input_error(format!(
            "{what} must be an integer in [0, {max}], got {value}"
        )))
    }
}

/// Generates a seeded fleet with known truth.
#[napi(catch_unwind)]
pub fn generate_fleet_columns(
    nodes: f64,
    obs_per_node: f64,
    seed: f64,
    noise: f64,
    edge_stress: bool,
) -> Result<NativeFleet, ErrorCode> {
    let nodes = count(nodes, "nodes", 10_000_000.0)? as u32;
    let obs_per_node = count(obs_per_node, "obsPerNode", 100_000.0)? as u32;
    if (nodes as u64) * (obs_per_node as u64) > 100_000_000 {
        return Err(input_error(
            "nodes × obsPerNode must be at most 100,000,000",
        ));
    }
    let seed = count(seed, "seed", 9_007_199_254_740_991.0)?;
    if !(noise.is_finite() && (0.0..=10.0).contains(&noise)) {
        return Err(input_error(format!(
            "noise must be in [0, 10], got {noise}"
        )));
    }
    let fleet = generate(&FleetSpec {
        nodes,
        obs_per_node,
        seed,
        noise,
        edge_stress,
    });
    Ok(NativeFleet {
        node: fleet.node.into(),
        obs: fleet.obs.into(),
        cls: fleet.cls.into(),
        classes: CLASSES.iter().map(|s| s.to_string()).collect(),
        t: fleet.t.into(),
        lat: fleet.lat.into(),
        lon: fleet.lon.into(),
        truth: fleet
            .truth
            .iter()
            .map(|t| t.map(|e| e as i32).unwrap_or(-1))
            .collect::<Vec<_>>()
            .into(),
    })
}

fn truth_of(truth: &[i32]) -> Vec<Option<u32>> {
    truth
        .iter()
        .map(|&t| if t < 0 { None } else { Some(t as u32) })
        .collect()
}

/// Clustering quality of predicted labels against true labels (-1 = clutter).
#[napi(object)]
pub struct NativeQuality {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub bcubed_precision: f64,
    pub bcubed_recall: f64,
    pub bcubed_f1: f64,
    pub predicted_pairs: f64,
    pub true_pairs: f64,
    pub correct_pairs: f64,
}

/// Pairwise and B-cubed quality of a clustering.
#[napi(catch_unwind)]
pub fn evaluate_labels(
    predicted: Uint32Array,
    truth: Int32Array,
) -> Result<NativeQuality, ErrorCode> {
    if predicted.len() != truth.len() {
        return Err(input_error(format!(
            "predicted has {} labels, truth has {}",
            predicted.len(),
            truth.len()
        )));
    }
    let q = evaluate_clusters(&predicted, &truth_of(&truth));
    Ok(NativeQuality {
        precision: q.precision,
        recall: q.recall,
        f1: q.f1,
        bcubed_precision: q.bcubed_precision,
        bcubed_recall: q.bcubed_recall,
        bcubed_f1: q.bcubed_f1,
        predicted_pairs: q.predicted_pairs as f64,
        true_pairs: q.true_pairs as f64,
        correct_pairs: q.correct_pairs as f64,
    })
}

/// Blocking quality of a configuration on records with known truth.
#[napi(object)]
pub struct NativeBlockingQuality {
    pub pairs_completeness: f64,
    pub reduction_ratio: f64,
    pub candidates: f64,
    pub true_pairs: f64,
    pub true_pairs_found: f64,
}

/// Pairs completeness and reduction ratio of the blocking of `config` on these records.
#[napi(catch_unwind)]
pub fn evaluate_blocking_columns(
    config: String,
    columns: NativeColumns,
    truth: Int32Array,
) -> Result<NativeBlockingQuality, ErrorCode> {
    let compiled = compile(&config)?;
    let records = to_records(&columns, &compiled)?;
    if truth.len() != records.len() {
        return Err(input_error(format!(
            "truth has {} labels for {} records",
            truth.len(),
            records.len()
        )));
    }
    let (pairs, _) = candidate_pairs(&records, &compiled, Method::Index).map_err(coded)?;
    let q = evaluate_blocking(&pairs, &records.node, &truth_of(&truth));
    Ok(NativeBlockingQuality {
        pairs_completeness: q.pairs_completeness,
        reduction_ratio: q.reduction_ratio,
        candidates: q.candidates as f64,
        true_pairs: q.true_pairs as f64,
        true_pairs_found: q.true_pairs_found as f64,
    })
}
