import { FleetscaleError } from '../errors.js';
import { checkInteger, checkNumber } from '../option-checks.js';

/** Stable error codes of the router. */
export type RouterErrorCode =
  /** A router option or node spec is missing, of the wrong type or out of range. */
  | 'ERR_ROUTER_CONFIG'
  /** `run()` was given something other than an array of items. */
  | 'ERR_ROUTER_INPUT'
  /** A node answered with something other than one result per item (not JSON, not an array, wrong length). */
  | 'ERR_ROUTER_NODE_RESPONSE'
  /** A node took longer than the call's time limit. */
  | 'ERR_ROUTER_NODE_TIMEOUT'
  /** A node failed a call (an HTTP error status, a refused connection, a handler that threw). */
  | 'ERR_ROUTER_NODE_FAILED'
  /** Some items failed on every attempt; the error lists them and carries the results that did arrive. */
  | 'ERR_ROUTER_EXHAUSTED';

/** What `ERR_ROUTER_EXHAUSTED` carries in `details`. */
export type ExhaustedDetails = {
  /** The indices of the items that never got a result. */
  failedItems: number[];
  /** The results that did arrive (holes where items failed). */
  partialResults: unknown[];
};

/** A {@link FleetscaleError} with one of the router's codes. */
export function routerError(code: RouterErrorCode, message: string, cause?: unknown, details?: ExhaustedDetails): FleetscaleError<RouterErrorCode> {
  return new FleetscaleError(code, message, { cause, details });
}

/** Checks a number option: `name` must be finite and in [min, max]. */
export function routerNumber(name: string, value: unknown, min: number, max = Number.MAX_VALUE): number {
  return checkNumber(name, value, min, max, configError);
}

/** Checks an integer option: `name` must be an integer in [min, max]. */
export function routerInt(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  return checkInteger(name, value, min, max, configError);
}

function configError(message: string): Error {
  return routerError('ERR_ROUTER_CONFIG', message);
}
