/**
 * `fleetscale/lab`: the machinery that measures and models fleetscale rather than runs it:
 * the claims queue's multi-process harness, calibration probes, validation and grid sweeps with
 * their accuracy statistics; the router's simulated clusters and the FlockParser rule table it
 * is compared with; the autoscaler's trace simulator; plots; the legacy pairwise fusion
 * baseline; the native HTTP load generator. Nothing outside the lab imports it.
 */
// Fusion: the legacy per-node-pair loop that `fuse` replaces (for equivalence and benchmarks).
export { fusePairwise } from '../fusion/fuse.js';

// Claims: the harness, its sweeps, the model's calibration and its validation.
export { runClaims } from './claims/harness.js';
export type { ClaimsRunOptions, ClaimsRunReport } from './claims/harness.js';
export { calibrateClaims } from '../claims/model.js';
export type { ClaimsMeasurement, CalibrationRequest, Calibration, ProposalOutcome } from '../claims/model.js';
export { gridCells, runCells, simulationOf, measurementOf, spreadOf } from './claims/grid.js';
export type { CellSettings, GridAxes, Workload, CellRun, OnRun } from './claims/grid.js';
export { probeSchedulerSlice } from './claims/scheduler-probe.js';
export type { SliceProbeOptions, SliceProbeReport } from './claims/scheduler-probe.js';
export { probeStatementCpu, type StatementCpuProbeOptions, type StatementCpuProbeReport, type StatementCpuPoint, type CpuGrowthPoint } from './claims/statement-cpu-probe.js';
export { probeDeadEntries, type DeadEntryProbe, type DeadEntryProbeOptions } from './claims/dead-entry-probe.js';
export { probeSkippedRows, type SkipRowProbe, type SkipRowProbeOptions } from './claims/skip-row-probe.js';
export { probeSwitchCost, type SwitchProbeOptions, type SwitchProbeReport } from './claims/switch-probe.js';
export { backgroundShareOf, replayValidation, validateModel, validationPlot, VALIDATION_TARGETS } from './claims/validate.js';
export type { Measured, ReplayOptions, ValidationOptions, ValidationReport, ValidatedCell, ValidationStep } from './claims/validate.js';
export { mape, median, noiseFloor, spearman, type NoiseFloor, type RepeatedCell } from './claims/accuracy.js';

// Router: simulated clusters, the FlockParser rules it is compared with, plots.
export { flockRules, flockHealthScore, flockSpeed, flockStats, flockWorkers, flockEstimate } from './router/flock-rules.js';
export type { FlockNodeStats, FlockDecision, FlockReason } from './router/flock-rules.js';
export { FlockRouter } from './router/flock-router.js';
export type { FlockNodeSpec, FlockRouterOptions, FlockRunResult, FlockNodeReport } from './router/flock-router.js';
export {
  SimCluster,
  simulateRoute,
  optimalFinishMs,
  baselineFinishMs,
  checkSimNodes,
  costsOf,
  typicalLogError,
  expectedFixedFinishMs,
  ROUTE_STRATEGIES,
} from './router/simulate.js';
export type { SimNodeSpec, RouteStrategy, RouteScenario, RouteOutcome } from './router/simulate.js';
export { profilePlot, profilePoints } from './router/plot.js';
export type { ProfileCurve, ProfilePanel } from './router/plot.js';

// Autoscale: load traces, the replica simulator, plots.
export { makeTrace, traceOf, TRACE_SHAPES } from './autoscale/traces.js';
export type { LoadTrace, TraceOptions, TraceShape } from './autoscale/traces.js';
export { simulateAutoscaler } from './autoscale/simulate.js';
export type { ServiceModel, SimulationResult, SimulatedDecision, SimulatedInterval } from './autoscale/simulate.js';
export { replayPlot } from './autoscale/plot.js';
export type { ReplayPanel } from './autoscale/plot.js';

// Load: the native HTTP load generator the hub's benchmark drives it with.
export { runHttpLoad } from './load/http-load.js';
export type { HttpLoadOptions, HttpLoadReport } from './load/http-load.js';
