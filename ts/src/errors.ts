/**
 * The one error type every part of fleetscale throws. A caller branches on `code`, which is
 * stable across releases; the message says what happened and what to change, and may be
 * reworded. `cause` carries the lower-level error (a socket error, a database error) when there
 * is one; `details` carries data a caller can act on (the items a router call could not place).
 */

/** Every stable error code, with what it means. `docs/errors.md` lists the same table. */
export const ERROR_CODES = {
  // fusion
  ERR_FUSION_CONFIG: 'A fusion config is malformed: an unknown field kind, a bad threshold, a blocking pass on a missing field.',
  ERR_FUSION_INPUT: 'Records or columns fusion cannot take: a missing field, a value of the wrong type, a bad line of JSON.',
  // hub (the HTTP status each answers with is in `hubErrors`)
  ERR_VALIDATION: 'A request body or parameter does not match the route schema.',
  ERR_INVALID_JSON: 'A request body is not JSON.',
  ERR_BATCH_TOO_LARGE: 'A batch has more observations than the hub takes in one request.',
  ERR_RESERVED_NODE: 'A node id the hub keeps for itself.',
  ERR_UNAUTHORIZED: 'No token, or a token the hub did not sign.',
  ERR_FORBIDDEN_NODE: 'A token for one node used to post as another.',
  ERR_ROUND_NOT_FOUND: 'No such round.',
  ERR_ROUTE_NOT_FOUND: 'No such route.',
  ERR_METHOD_NOT_ALLOWED: 'The route exists, but not with this method.',
  ERR_ROUND_OPEN: 'The round is still open: its result is not ready.',
  ERR_ROUND_FUSING: 'The round is being fused: its result is not ready.',
  ERR_ROUND_CLOSED: 'The round has closed: it takes no more announcements or batches.',
  ERR_NOT_ANNOUNCED: 'A node posted a batch to a round it did not announce.',
  ERR_BATCH_CONFLICT: 'A batch reuses a sequence number with different content.',
  ERR_AFTER_FINAL: 'A node posted after its final batch.',
  ERR_DUPLICATE_RECORD_ID: 'A record id already used in this round.',
  ERR_BODY_TOO_LARGE: 'A request body over the size limit.',
  ERR_UNSUPPORTED_MEDIA_TYPE: 'A request body that is not application/json.',
  ERR_BAD_REQUEST: 'A request the hub cannot parse.',
  ERR_FUSION_FAILED: "Fusing a round failed; the round's batches are kept.",
  ERR_INTERNAL: 'An unexpected failure inside the hub.',
  ERR_STORE_UNAVAILABLE: 'The store (disk or PostgreSQL) cannot take writes now; retry later.',
  ERR_OVERLOADED: 'The hub is over its event-loop or memory limits; retry later.',
  ERR_HUB_UNREACHABLE: 'The simulated fleet could not reach the hub at all.',
  // claims
  ERR_CLAIMS_CONFIG: 'A claims queue, worker or model option is missing, of the wrong type or out of range.',
  ERR_CLAIMS_INPUT: 'Data the queue or the model cannot take: not JSON, an unknown job, a saved report that is not one.',
  ERR_CLAIMS_UNAVAILABLE: 'The database failed or could not be reached.',
  // router
  ERR_ROUTER_CONFIG: 'A router option or node spec is missing, of the wrong type or out of range.',
  ERR_ROUTER_INPUT: '`run()` was given something other than an array of items.',
  ERR_ROUTER_NODE_RESPONSE: 'A node answered with something other than one result per item.',
  ERR_ROUTER_NODE_TIMEOUT: "A node took longer than the call's time limit.",
  ERR_ROUTER_NODE_FAILED: 'A node failed a call: an HTTP error status, a refused connection, a handler that threw.',
  ERR_ROUTER_EXHAUSTED: 'Some items failed on every attempt; `details` lists them and carries the results that did arrive.',
  // autoscale
  ERR_AUTOSCALE_CONFIG: 'An autoscaler option is missing, of the wrong type or out of range.',
  ERR_AUTOSCALE_INPUT: 'A `decide()` sample is malformed: bad replicas, time going backwards, a metric out of range.',
  // orchestrator
  ERR_ORCH_DEFINITION: 'A DAG definition is malformed: an unknown dependency, a cycle, a duplicate id, a bad queue, tag or duration; the message names the file, task and field.',
  // schema migrations (the hub's PostgreSQL store, the claims queue)
  ERR_MIGRATION: 'A schema migration failed (and was rolled back), or the database holds a newer schema than this version of fleetscale knows.',
  // lab
  ERR_LOAD_CONFIG: 'A load plan for the lab load generator is malformed.',
  ERR_LOAD_FAILED: 'The lab load generator could not reach the server.',
} as const;

/** A stable error code. */
export type FleetscaleErrorCode = keyof typeof ERROR_CODES;

/** What a {@link FleetscaleError} may carry besides its message. */
export type FleetscaleErrorOptions = {
  /** The lower-level error this one explains. */
  cause?: unknown;
  /** Data a caller can act on; each code documents its own. */
  details?: Record<string, unknown>;
};

/** The error every fleetscale API throws: `code` is stable, the message is for people. */
export class FleetscaleError<C extends FleetscaleErrorCode = FleetscaleErrorCode> extends Error {
  /** The stable code: branch on this, never on the message. */
  readonly code: C;
  /** Data a caller can act on, when the code documents some. */
  readonly details?: Record<string, unknown>;

  constructor(code: C, message: string, options: FleetscaleErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FleetscaleError';
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
  }
}

/**
 * Whether `error` is a {@link FleetscaleError} (also one made by another copy of the package),
 * and, when codes are given, one of them.
 */
export function isFleetscaleError<C extends FleetscaleErrorCode>(error: unknown, ...codes: C[]): error is FleetscaleError<C> {
  if (!(error instanceof Error) || error.name !== 'FleetscaleError') return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !(code in ERROR_CODES)) return false;
  return codes.length === 0 || (codes as string[]).includes(code);
}

/** Whether `error` carries a code of one capability (`ERR_FUSION_`, `ERR_CLAIMS_`, …). */
export function hasCodePrefix(error: unknown, prefix: string): error is FleetscaleError {
  return isFleetscaleError(error) && error.code.startsWith(prefix);
}

/**
 * An error from the native binding as a {@link FleetscaleError}: napi-rs throws a plain `Error`
 * whose `code` is the core's stable code. Anything else passes through unchanged.
 */
export function fromNative(error: unknown): unknown {
  if (isFleetscaleError(error) || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code in ERROR_CODES) return new FleetscaleError(code as FleetscaleErrorCode, error.message);
  return error;
}
