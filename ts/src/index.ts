/**
 * fleetscale: run a hub and its fleet at scale.
 *
 * Fusion finds the observations from different nodes that describe the same real-world event,
 * with a native global blocking index instead of comparing every pair of nodes.
 */
export * from './fusion/index.js';

// The hub: a fastify plugin, a server around it, its stores and tokens.
export { hubApp } from './hub/app.js';
export type { HubAppOptions } from './hub/app.js';
export { startHub } from './hub/server.js';
export type { HubServerOptions, RunningHub } from './hub/server.js';
export { EmbeddedStore } from './hub/store/embedded.js';
export type { EmbeddedStoreOptions } from './hub/store/embedded.js';
export { PostgresStore } from './hub/store/postgres.js';
export type { PostgresStoreOptions } from './hub/store/postgres.js';
export type { RoundStore, RoundSummary, RoundState, CloseReason, Batch, BatchOutcome, Announced } from './hub/store/types.js';
export { nodeToken, loadSecret, ADMIN_NODE } from './hub/tokens.js';
export { HubError, hubErrors, isHubError } from './hub/errors.js';
export type { HubErrorCode, HubErrorBody } from './hub/errors.js';
export { runFleet } from './fleet/simulator.js';
export type { FleetRunOptions, FleetReport, RoundReport } from './fleet/simulator.js';

// Claims: a PostgreSQL batch-claim work queue, its workers, the multi-process harness and the
// contention model (simulate, USL fit, calibration, the team's preset).
export { ClaimQueue, CLAIM_STRATEGIES } from './claims/queue.js';
export type { ClaimStrategy, ClaimedJob, ClaimRequest, ClaimQueueOptions, EnqueueOptions, JobCounts, Backlog } from './claims/queue.js';
export { ClaimWorker } from './claims/worker.js';
export type { ClaimWorkerOptions, WorkerReport } from './claims/worker.js';
export { PerfWindows } from './claims/windows.js';
export type { PerfWindow, PhaseTotals } from './claims/windows.js';
export { runClaims } from './claims/harness.js';
export type { ClaimsRunOptions, ClaimsRunReport } from './claims/harness.js';
export { simulateClaims, simulateClaimsAsync, fitUsl, calibrateClaims, claimPresets } from './claims/model.js';
export type { SimulationConfig, SimulationReport, ClaimCosts, Bottleneck, UslFit, ClaimsMeasurement, CalibrationRequest, Calibration, ProposalOutcome } from './claims/model.js';
export { gridCells, runCells, simulationOf, measurementOf, spreadOf } from './claims/grid.js';
export type { CellSettings, GridAxes, Workload, CellRun, OnRun } from './claims/grid.js';
export { probeSchedulerSlice } from './claims/scheduler-probe.js';
export { probeStatementCpu, type StatementCpuProbeOptions, type StatementCpuProbeReport, type StatementCpuPoint, type CpuGrowthPoint } from './claims/statement-cpu-probe.js';
export { probeDeadEntries, type DeadEntryProbe, type DeadEntryProbeOptions } from './claims/dead-entry-probe.js';
export { probeSkippedRows, type SkipRowProbe, type SkipRowProbeOptions } from './claims/skip-row-probe.js';
export { probeSwitchCost, type SwitchProbeOptions, type SwitchProbeReport } from './claims/switch-probe.js';
export type { SliceProbeOptions, SliceProbeReport } from './claims/scheduler-probe.js';
export { backgroundShareOf, replayValidation, validateModel, validationPlot, VALIDATION_TARGETS } from './claims/validate.js';
export type { Measured, ReplayOptions, ValidationOptions, ValidationReport, ValidatedCell, ValidationStep } from './claims/validate.js';
export { mape, median, noiseFloor, spearman, type NoiseFloor, type RepeatedCell } from './claims/accuracy.js';
export { claimsError, isClaimsError } from './claims/errors.js';
export type { ClaimsError, ClaimsErrorCode } from './claims/errors.js';

// Router: split a batch over heterogeneous nodes at the optimal finish time, learn their speeds,
// fail over; the embedding tool's rule table for comparison; simulated clusters.
export { AdaptiveRouter } from './router/router.js';
export type { AdaptiveRouterOptions, RouterNodeStats } from './router/router.js';
export { explainPlans } from './router/plan-report.js';
export type { RoutePlan, PlannedShare, ExplainedNode } from './router/plan-report.js';
export type { RouterNodeSpec, NodeHandler } from './router/nodes.js';
export { planSplit, planSplitUnderNoise, expectedFinishMs, fractionalFinishMs, equalSplitCounts, equalSplitMs, finishMsOf } from './router/plan.js';
export type { NodeCost, SplitPlan, PlanMode } from './router/plan.js';
export { CostEstimator } from './router/estimator.js';
export type { CostEstimate, CostPrior, EstimatorOptions } from './router/estimator.js';
export { planningLines, cautiousLine, fleetNoise, noiseOf } from './router/learned-lines.js';
export type { CostLine } from './router/learned-lines.js';
export { CircuitBreaker } from './router/breaker.js';
export type { BreakerOptions, BreakerState } from './router/breaker.js';
export { realClock, VirtualClock } from './router/clock.js';
export type { RouterClock } from './router/clock.js';
export { flockRules, flockHealthScore, flockSpeed, flockStats, flockWorkers, flockEstimate } from './router/flock-rules.js';
export type { FlockNodeStats, FlockDecision, FlockReason } from './router/flock-rules.js';
export { FlockRouter } from './router/flock-router.js';
export type { FlockNodeSpec, FlockRouterOptions, FlockRunResult, FlockNodeReport } from './router/flock-router.js';
export { SimCluster, simulateRoute, optimalFinishMs, baselineFinishMs, checkSimNodes, costsOf, typicalLogError, expectedFixedFinishMs, ROUTE_STRATEGIES } from './router/simulate.js';
export type { SimNodeSpec, RouteStrategy, RouteScenario, RouteOutcome } from './router/simulate.js';
export { profilePlot, profilePoints } from './router/plot.js';
export type { ProfileCurve, ProfilePanel } from './router/plot.js';
export { routerError, isRouterError } from './router/errors.js';
export type { RouterError, RouterErrorCode } from './router/errors.js';

// Autoscaling: replica-count policies called once per decision interval.
export { createAutoscaler, AUTOSCALE_PRESETS } from './autoscale/autoscaler.js';
export type { AutoscalerOptions, AutoscalePreset } from './autoscale/autoscaler.js';
export { Hpa, HPA_SCALE_UP, HPA_SCALE_DOWN } from './autoscale/hpa.js';
export type { HpaOptions, HpaRules, HpaPolicy, HpaPolicyType } from './autoscale/hpa.js';
export { Pipestream, PIPESTREAM_POOLS } from './autoscale/pipestream.js';
export type { PipestreamOptions, PipestreamPool, PipestreamRules } from './autoscale/pipestream.js';
export { Predictive } from './autoscale/predictive.js';
export type { PredictiveOptions } from './autoscale/predictive.js';
export { makeTrace, traceOf, TRACE_SHAPES } from './autoscale/traces.js';
export type { LoadTrace, TraceOptions, TraceShape } from './autoscale/traces.js';
export { simulateAutoscaler } from './autoscale/simulate.js';
export { replayPlot } from './autoscale/plot.js';
export type { ReplayPanel } from './autoscale/plot.js';
export type { ServiceModel, SimulationResult, SimulatedDecision, SimulatedInterval } from './autoscale/simulate.js';
export { autoscaleError } from './autoscale/errors.js';
export type { AutoscaleError, AutoscaleErrorCode } from './autoscale/errors.js';
export type { Autoscaler, AutoscaleSample, AutoscaleMetrics, AutoscaleDecision, AutoscaleTargets, ReplicaSample } from './autoscale/types.js';
