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

const CODES: ReadonlySet<string> = new Set<RouterErrorCode>([
  'ERR_ROUTER_CONFIG',
  'ERR_ROUTER_INPUT',
  'ERR_ROUTER_NODE_RESPONSE',
  'ERR_ROUTER_NODE_TIMEOUT',
  'ERR_ROUTER_NODE_FAILED',
  'ERR_ROUTER_EXHAUSTED',
]);

/** An `Error` whose `code` says which contract broke. */
export interface RouterError extends Error {
  code: RouterErrorCode;
  /** On `ERR_ROUTER_EXHAUSTED`: the indices of the items that never got a result. */
  failedItems?: number[];
  /** On `ERR_ROUTER_EXHAUSTED`: the results that did arrive (holes where items failed). */
  partialResults?: unknown[];
}

/** Makes a {@link RouterError}. */
export function routerError(code: RouterErrorCode, message: string, cause?: unknown): RouterError {
  const error = new Error(message, cause === undefined ? undefined : { cause }) as RouterError;
  error.code = code;
  return error;
}

/** True when `error` is an `Error` with one of the router's codes. */
export function isRouterError(error: unknown): error is RouterError {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && CODES.has(code);
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
