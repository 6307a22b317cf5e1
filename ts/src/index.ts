/**
 * fleetscale: run a hub and its fleet at scale.
 *
 * The root holds what most users start with; each capability has its own entry with the rest
 * (`fleetscale/fusion`, `/hub`, `/claims`, `/router`, `/autoscale`), and the measurement
 * machinery lives apart in `fleetscale/lab`.
 */
export { FleetscaleError, isFleetscaleError, ERROR_CODES } from './errors.js';
export type { FleetscaleErrorCode, FleetscaleErrorOptions } from './errors.js';

// Fusion: which observations from different nodes are the same real-world event?
export { fuse, fuseSync, fuseColumns, sensorPreset, generateFleet, evaluate } from './fusion/index.js';
export type { FusionConfig, FusionResult, FusedEvent, SensorRecord, GenericRecord, SensorColumns, FusionInput, Quality } from './fusion/index.js';

// The hub: thousands of nodes report to it in rounds; it fuses each round.
export { startHub, hubApp, EmbeddedStore, PostgresStore, nodeToken } from './hub/index.js';
export type { HubServerOptions, RunningHub, HubAppOptions, RoundStore } from './hub/index.js';

// Claims: a PostgreSQL batch-claim queue, and a model of whether more workers help.
export { ClaimQueue, ClaimWorker, simulateClaims } from './claims/index.js';
export type { ClaimQueueOptions, ClaimWorkerOptions, ClaimStrategy, SimulationConfig, SimulationReport } from './claims/index.js';

// Router: split a batch over fast and slow nodes.
export { AdaptiveRouter } from './router/index.js';
export type { AdaptiveRouterOptions, RouterNodeSpec } from './router/index.js';

// Autoscale: how many replicas now.
export { createAutoscaler } from './autoscale/index.js';
export type { AutoscalerOptions, AutoscaleSample, AutoscaleDecision } from './autoscale/index.js';
