/**
 * `fleetscale/hub`: the hub that thousands of edge nodes report to (a fastify plugin and a
 * server around it), its stores, its tokens, and a simulated fleet that drives it over HTTP.
 */
export { hubApp } from './app.js';
export type { HubAppOptions } from './app.js';
export { startHub } from './server.js';
export type { HubServerOptions, RunningHub } from './server.js';
export { EmbeddedStore } from './store/embedded.js';
export type { EmbeddedStoreOptions } from './store/embedded.js';
export { PostgresStore } from './store/postgres.js';
export type { PostgresStoreOptions } from './store/postgres.js';
export type { RoundStore, RoundSummary, RoundState, CloseReason, Batch, BatchOutcome, Announced } from './store/types.js';
export { nodeToken, loadSecret, ADMIN_NODE } from './tokens.js';
export { HubError, hubErrors } from './errors.js';
export type { HubErrorCode, HubErrorBody } from './errors.js';
export { runFleet } from './fleet-simulator.js';
export type { FleetRunOptions, FleetReport, RoundReport } from './fleet-simulator.js';
export { FleetscaleError, isFleetscaleError } from '../errors.js';
