/**
 * `fleetscale/autoscale`: how many replicas now, from CPU, lag and its trend, latency and
 * idleness. Each policy is called once per decision interval with the latest samples.
 */
export { createAutoscaler, AUTOSCALE_PRESETS } from './autoscaler.js';
export type { AutoscalerOptions, AutoscalePreset } from './autoscaler.js';
export { Hpa, HPA_SCALE_UP, HPA_SCALE_DOWN } from './hpa.js';
export type { HpaOptions, HpaRules, HpaPolicy, HpaPolicyType } from './hpa.js';
export { Pipestream, PIPESTREAM_POOLS } from './pipestream.js';
export type { PipestreamOptions, PipestreamPool, PipestreamRules } from './pipestream.js';
export { Predictive } from './predictive.js';
export type { PredictiveOptions } from './predictive.js';
export type { AutoscaleErrorCode } from './errors.js';
export type { Autoscaler, AutoscaleSample, AutoscaleMetrics, AutoscaleDecision, AutoscaleTargets, ReplicaSample } from './types.js';
export { FleetscaleError, isFleetscaleError } from '../errors.js';
