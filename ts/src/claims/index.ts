/**
 * `fleetscale/claims`: a PostgreSQL work queue whose workers claim jobs in batches, and the
 * contention model that says whether more workers would help before you buy them.
 */
export { ClaimQueue, CLAIM_STRATEGIES } from './queue.js';
export type { ClaimStrategy, ClaimedJob, ClaimRequest, ClaimQueueOptions, EnqueueOptions, JobCounts, Backlog } from './queue.js';
export { ClaimWorker } from './worker.js';
export type { ClaimWorkerOptions, WorkerReport } from './worker.js';
export { PerfWindows } from './windows.js';
export type { PerfWindow, PhaseTotals } from './windows.js';
export { simulateClaims, simulateClaimsAsync, fitUsl, claimPresets } from './model.js';
export type { SimulationConfig, SimulationReport, ClaimCosts, Bottleneck, UslFit, LoopOrder } from './model.js';
export type { ClaimsErrorCode } from './errors.js';
export { FleetscaleError, isFleetscaleError } from '../errors.js';
