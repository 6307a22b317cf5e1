/**
 * The native load generator (crates/http-load): each connection sends one warm-up request,
 * untimed, then its timed requests, closed loop or paced, on one thread outside the event loop.
 * It costs less CPU per request than a JavaScript client on the event loop, so on a machine
 * shared with the server under test the server gets more of the cores (its report says what
 * it took). Requests are bytes the caller built
 * (HTTP/1.1 with `Content-Length`); replies must carry `Content-Length` too.
 */
import { createRequire } from 'node:module';

import type * as LoadBinding from '../../../native/load/binding.cjs';
import { FleetscaleError } from '../../errors.js';
import { checkInteger, checkNumber } from '../../option-checks.js';

/** Stable error codes of the load generator: `ERR_LOAD_CONFIG` (a malformed plan: no connections, a bad URL, out-of-range numbers) and `ERR_LOAD_FAILED` (the server could not be reached). */
export type LoadErrorCode = 'ERR_LOAD_CONFIG' | 'ERR_LOAD_FAILED';

function loadError(code: LoadErrorCode, message: string): FleetscaleError<LoadErrorCode> {
  return new FleetscaleError(code, message);
}

let binding: typeof LoadBinding | undefined;

/**
 * The load generator's own native binding (crates/load-napi), built apart from the published
 * one by `npm run build:load`, so nothing a user installs carries it.
 */
function loadBinding(): typeof LoadBinding {
  if (binding) return binding;
  try {
    binding = createRequire(import.meta.url)('../../../native/load/binding.cjs') as typeof LoadBinding;
  } catch (error) {
    throw new FleetscaleError('ERR_LOAD_FAILED', 'runHttpLoad needs the bench-only load generator binding: run `npm run build:load` in a checkout of fleetscale', { cause: error });
  }
  return binding;
}

const configError = (message: string) => loadError('ERR_LOAD_CONFIG', `runHttpLoad: ${message}`);

export type HttpLoadOptions = {
  /** `http://host:port` of the server. */
  url: string;
  /** Per connection: its warm-up request and its timed requests, as bytes. */
  connections: ReadonlyArray<{ warmUp: Uint8Array; timed: ReadonlyArray<Uint8Array> }>;
  /** 0 (default): closed loop; else each connection's interval between requests (ms). */
  intervalMs?: number;
  /** Gives up after this long (default 600 s); what is unanswered counts as `ERR_LOAD_TIMEOUT`. */
  timeoutMs?: number;
};

export type HttpLoadReport = {
  /** Timed requests answered 2xx. */
  acked: number;
  /** Timed requests answered at all. */
  replies: number;
  /** From the start of the timed phase to the last 2xx (ms). */
  elapsedMs: number;
  /** Every answered timed request's latency (ms), ascending, from its scheduled send time. */
  latenciesMs: number[];
  /** Failures by their JSON error `code` (or `HTTP_<status>`), warm-ups included. */
  failures: Record<string, number>;
  /** CPU the generator's thread spent in the timed phase (µs); null where the platform does not tell it (Windows). */
  cpuUs: number | null;
  /**
   * The timed phase in windows of 100 ms by send time (scheduled, when paced): how many
   * replies each window's requests got and their worst latency, so a run's tail can be placed;
   * and, paced, the most the generator sent one of them late (after its scheduled time, or the
   * reply before it on its connection, whichever came later): the client's own delay.
   */
  timeline: Array<{ startMs: number; replies: number; maxMs: number; maxSendLateMs: number }>;
};

/** Runs the load; resolves once every request is answered (or the timeout passed). */
export async function runHttpLoad(options: HttpLoadOptions): Promise<HttpLoadReport> {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw configError(`url must be http://host:port, got ${JSON.stringify(options.url)}`);
  }
  if (url.protocol !== 'http:') throw configError(`url must be http://host:port, got ${JSON.stringify(options.url)}`);
  const connections = options.connections;
  if (!Array.isArray(connections) || connections.length === 0) throw configError('connections must name at least one connection');
  const timed = connections[0].timed.length;
  const parts: Uint8Array[] = [];
  const ends: number[] = [];
  let at = 0;
  connections.forEach((c, i) => {
    if (c.timed.length !== timed) throw configError(`every connection needs as many timed requests (connection 0 has ${timed}, connection ${i} ${c.timed.length})`);
    for (const request of [c.warmUp, ...c.timed]) {
      if (!(request instanceof Uint8Array) || request.length === 0) throw configError(`connection ${i} has an empty or non-byte request`);
      parts.push(request);
      at += request.length;
      ends.push(at);
    }
  });
  const intervalMs = checkNumber('intervalMs', options.intervalMs ?? 0, 0, 3_600_000, configError);
  const timeoutMs = checkNumber('timeoutMs', options.timeoutMs ?? 600_000, 1, 86_400_000, configError);
  const port = checkInteger('port', Number(url.port || 80), 1, 65_535, configError);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let answer: string;
  try {
    answer = await loadBinding().runHttpLoad({ host, port, requests: Buffer.concat(parts), ends, connections: connections.length, timed, intervalMs, timeoutMs });
  } catch (e) {
    const error = e as Error & { code?: string };
    if (error.code === 'ERR_LOAD_CONFIG') throw configError(error.message);
    throw e;
  }
  const result = JSON.parse(answer) as { ok: true; report: HttpLoadReport } | { ok: false; error: string };
  if (!result.ok) throw loadError('ERR_LOAD_FAILED', `runHttpLoad: ${result.error}`);
  return result.report;
}
