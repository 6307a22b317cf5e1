/**
 * `fleetscale/router`: split a batch over fast and slow nodes at the optimal finish time, learn
 * each node's speed from its calls, and fail over.
 */
export { AdaptiveRouter } from './router.js';
export type { AdaptiveRouterOptions, RouterNodeStats } from './router.js';
export { explainPlans } from './plan-report.js';
export type { RoutePlan, PlannedShare, ExplainedNode } from './plan-report.js';
export type { RouterNodeSpec, NodeHandler } from './nodes.js';
export { planSplit, planSplitUnderNoise, expectedFinishMs } from './plan.js';
export type { NodeCost, SplitPlan, PlanMode } from './plan.js';
export { CostEstimator } from './estimator.js';
export type { CostEstimate, CostPrior, EstimatorOptions } from './estimator.js';
export { CircuitBreaker } from './breaker.js';
export type { BreakerOptions, BreakerState } from './breaker.js';
export { VirtualClock } from './clock.js';
export type { RouterClock } from './clock.js';
export type { RouterErrorCode, ExhaustedDetails } from './errors.js';
export { FleetscaleError, isFleetscaleError } from '../errors.js';
