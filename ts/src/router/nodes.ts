/**
 * The nodes a router sends work to: an HTTP endpoint that takes a JSON array of items and answers
 * a JSON array with one result per item, or an async function doing the same.
 */
import { Type } from 'typebox';

import type { FleetscaleError } from '../errors.js';
import { schemaCheck } from '../schema-check.js';
import { routerError, type RouterErrorCode } from './errors.js';

/** Sends one chunk of items to a node; resolves to one result per item, in order. */
export type NodeHandler = (items: unknown[], context: { signal: AbortSignal }) => Promise<unknown[]>;

/** A node as the caller describes it. */
export interface RouterNodeSpec {
  /** Unique name of the node. */
  id: string;
  /** An HTTP(S) endpoint: POST a JSON array of items, get a JSON array of results. */
  url?: string;
  /** Or an async function doing the same. */
  handler?: NodeHandler;
  /** Extra request headers for `url` (an `Authorization` header, say). */
  headers?: Record<string, string>;
  /** Known time per item, in ms; without it the router learns it from the first calls. */
  perItemMs?: number;
  /** Known fixed time per call, in ms. */
  overheadMs?: number;
  /**
   * How far a call's time typically strays from `overheadMs + items × perItemMs`, as a relative
   * error (0.1: about 10%; 0: the speeds are exact). Needs `perItemMs`; default 0.15. The router
   * holds back less of a node's share for the self-scheduled tail the surer it is of the node.
   */
  uncertainty?: number;
}

/** A checked node spec with its caller. */
export interface RouterNode {
  id: string;
  call: NodeHandler;
  prior: { overheadMs?: number; perItemMs?: number; uncertainty?: number };
}

const MAX_ID_LENGTH = 200;

/** A node spec's shape; which fields go together is checked by `checkNodes`. */
const NodeSpecSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH }),
    url: Type.Optional(Type.Unknown()),
    handler: Type.Optional(Type.Unknown()),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    perItemMs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    overheadMs: Type.Optional(Type.Number({ minimum: 0 })),
    uncertainty: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
  },
  { additionalProperties: false },
);
const checkSpecs = schemaCheck(Type.Array(NodeSpecSchema, { minItems: 1 }), (message) => routerError('ERR_ROUTER_CONFIG', message), {
  root: 'nodes (a non-empty array of { id, url } or { id, handler })',
  prefix: 'nodes',
});

/** Checks node specs and builds their callers; every mistake gets `ERR_ROUTER_CONFIG`. */
export function checkNodes(specs: unknown): RouterNode[] {
  const checked = checkSpecs(specs);
  const seen = new Set<string>();
  return checked.map((s, index) => {
    const where = `nodes[${index}]`;
    if (seen.has(s.id)) throw routerError('ERR_ROUTER_CONFIG', `${where}.id "${s.id}" is used by another node; ids must be unique`);
    seen.add(s.id);
    if ((s.url === undefined) === (s.handler === undefined)) {
      throw routerError('ERR_ROUTER_CONFIG', `${where} ("${s.id}") needs exactly one of url or handler`);
    }
    const prior: RouterNode['prior'] = {};
    if (s.perItemMs !== undefined) prior.perItemMs = s.perItemMs;
    if (s.overheadMs !== undefined) prior.overheadMs = s.overheadMs;
    if (s.uncertainty !== undefined) prior.uncertainty = s.uncertainty;
    if (prior.overheadMs !== undefined && prior.perItemMs === undefined) {
      throw routerError('ERR_ROUTER_CONFIG', `${where}.overheadMs needs perItemMs as well (a known speed is both)`);
    }
    if (prior.uncertainty !== undefined && prior.perItemMs === undefined) {
      throw routerError('ERR_ROUTER_CONFIG', `${where}.uncertainty needs perItemMs (it says how well the given speed is known)`);
    }
    if (s.handler !== undefined) {
      if (typeof s.handler !== 'function') throw routerError('ERR_ROUTER_CONFIG', `${where}.handler must be an async function (items) => results, got ${describe(s.handler)}`);
      if (s.headers !== undefined) throw routerError('ERR_ROUTER_CONFIG', `${where}.headers only applies to url nodes`);
      return { id: s.id, call: s.handler as NodeHandler, prior };
    }
    return { id: s.id, call: httpCaller(where, s.url, s.headers), prior };
  });
}

function httpCaller(where: string, url: unknown, headers: unknown): NodeHandler {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw routerError('ERR_ROUTER_CONFIG', `${where}.url must be an http(s) URL, got ${describe(url)}`);
  }
  if (typeof url !== 'string' || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw routerError('ERR_ROUTER_CONFIG', `${where}.url must be an http(s) URL, got ${describe(url)}`);
  }
  const requestHeaders = { 'content-type': 'application/json', accept: 'application/json', ...(headers as Record<string, string> | undefined) };
  return async (items, { signal }) => {
    const response = await fetch(parsed, { method: 'POST', body: JSON.stringify(items), headers: requestHeaders, signal });
    const text = await response.text();
    if (!response.ok) {
      throw routerError('ERR_ROUTER_NODE_FAILED', `${parsed.href} answered ${response.status}: ${text.slice(0, 200)}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw routerError('ERR_ROUTER_NODE_RESPONSE', `${parsed.href} answered something that is not JSON: ${text.slice(0, 100)}`, error);
    }
    return body as unknown[];
  };
}

/** Checks a node's answer: one result per item. */
export function checkResults(id: string, results: unknown, items: number): unknown[] | FleetscaleError<RouterErrorCode> {
  if (!Array.isArray(results)) return routerError('ERR_ROUTER_NODE_RESPONSE', `node "${id}" answered ${describe(results)} instead of an array of results`);
  if (results.length !== items) {
    return routerError('ERR_ROUTER_NODE_RESPONSE', `node "${id}" answered ${results.length} results for ${items} items`);
  }
  return results;
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return typeof value;
  }
}
