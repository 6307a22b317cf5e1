/**
 * The fleet simulator: runs N generated edge nodes through the hub's round protocol over real
 * HTTP (keep-alive, bounded concurrency up to all nodes at once). Every node announces, then
 * posts its observations in batches (the last one `final`), retrying network errors and 503s
 * with the same sequence number (the hub accepts a retried batch once); then the round's
 * result is fetched. Measures what an operator asks: time until everything is acknowledged,
 * latency percentiles, retries, errors, and the time from the round's close to its result.
 */
import { Pool } from 'undici';

import { generateFleet } from '../fusion/generate.js';
import type { SensorRecord } from '../fusion/types.js';
import { ERROR_CODES, FleetscaleError, type FleetscaleErrorCode } from '../errors.js';
import { nodeToken } from './tokens.js';

export type FleetRunOptions = {
  /** Hub base URL, e.g. `http://127.0.0.1:8080`. */
  hub: string;
  /** Hub secret, to derive each node's token. */
  secret: string;
  nodes: number;
  obsPerNode: number;
  rounds?: number;
  /** Observations per batch (default: all of a node's observations in one batch). */
  batchSize?: number;
  /** Requests in flight at most (default: all nodes). */
  concurrency?: number;
  /**
   * Paces each node: a node sends its next batch this long after its previous one was due
   * (open loop; default 0 = as fast as acknowledgements come back).
   */
  batchIntervalMs?: number;
  seed?: number;
  /** Round ids are `<prefix>-<k>` (default: a fresh prefix per run). */
  roundPrefix?: string;
  /** Retries per request on network errors, 5xx and 503 (default 8). */
  maxRetries?: number;
  /** How long to wait for each round's result after the last acknowledgement (default 60 s). */
  resultTimeoutMs?: number;
  /** Called as requests complete: (done, total) over the whole run. */
  onProgress?: (done: number, total: number) => void;
};

export type RoundReport = {
  round: string;
  nodes: number;
  observations: number;
  batches: number;
  /** From the first observation POST to the last acknowledgement (ms). */
  ingestMs: number;
  /** Acknowledged batches per second during ingest. */
  batchesPerS: number;
  /** From the announce phase's start to its last reply (ms). */
  announceMs: number;
  /** Observation POST latency percentiles (ms), retries included. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  retries: number;
  /** Requests that failed for good (after retries, or a 4xx). */
  errors: number;
  /** Error codes seen, with counts. */
  errorCodes: Record<string, number>;
  /** From the last acknowledgement to the result being available (ms). */
  closeToResultMs: number;
  /** The hub's own fusion time for the round (ms), when reported. */
  hubFusionMs: number | null;
  events: number;
  multiNodeEvents: number;
  stats: Record<string, unknown> | null;
};

export type FleetReport = { hub: string; rounds: RoundReport[] };

type Reply = { status: number; body: unknown; retries: number };

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Runs `tasks` with at most `limit` in flight. */
async function bounded(limit: number, count: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Throws ERR_HUB_UNREACHABLE unless the hub answers `/healthz` (any status) within three tries. */
async function reachable(pool: Pool, origin: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await pool.request({ method: 'GET', path: '/healthz' });
      await res.body.dump();
      return;
    } catch (error) {
      if (attempt >= 3) throw new FleetscaleError('ERR_HUB_UNREACHABLE', `cannot reach the hub at ${origin}`, { cause: error });
      await sleep(200 * attempt);
    }
  }
}

/**
 * Runs `nodes` generated edge nodes through the hub's round protocol over HTTP and reports
 * what an operator asks: time to acknowledge everything, latency percentiles, retries, errors,
 * and the time from close to result. Throws `ERR_HUB_UNREACHABLE` when the hub does not answer,
 * and stops at once (`ERR_UNAUTHORIZED`) when it rejects the fleet's tokens.
 */
export async function runFleet(options: FleetRunOptions): Promise<FleetReport> {
  const rounds = options.rounds ?? 1;
  const concurrency = Math.max(1, options.concurrency ?? options.nodes);
  const batchSize = Math.max(1, options.batchSize ?? options.obsPerNode);
  const maxRetries = options.maxRetries ?? 8;
  const prefix = options.roundPrefix ?? `fleet${Date.now().toString(36)}`;
  const url = new URL(options.hub);
  const pool = new Pool(url.origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const tokens = new Map<string, string>();
  const tokenOf = (node: string): string => {
    let token = tokens.get(node);
    if (!token) tokens.set(node, (token = nodeToken(options.secret, node)));
    return token;
  };

  /** One request with retries on network errors, 5xx and 503 (honouring Retry-After). */
  const send = async (method: 'GET' | 'POST', path: string, body: unknown, node?: string): Promise<Reply> => {
    let retries = 0;
    for (;;) {
      try {
        const res = await pool.request({
          method,
          path,
          headers: {
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(node !== undefined ? { authorization: `Bearer ${tokenOf(node)}` } : {}),
          },
          body: body !== undefined ? JSON.stringify(body) : undefined,
        });
        const text = await res.body.text();
        const parsed: unknown = text === '' ? null : JSON.parse(text);
        if ((res.statusCode >= 500 || res.statusCode === 429) && retries < maxRetries) {
          retries++;
          const after = Number(res.headers['retry-after']);
          await sleep(Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 5000) : 50 * 2 ** retries);
          continue;
        }
        return { status: res.statusCode, body: parsed, retries };
      } catch (e) {
        if (retries >= maxRetries) return { status: 0, body: { error: { code: 'ERR_NETWORK', message: (e as Error).message } }, retries };
        retries++;
        await sleep(Math.min(50 * 2 ** retries, 2000));
      }
    }
  };

  const fleet = generateFleet({ nodes: options.nodes, obsPerNode: options.obsPerNode, seed: options.seed ?? 42 });
  const byNode = new Map<string, SensorRecord[]>();
  for (const record of fleet.records) {
    let list = byNode.get(record.node);
    if (!list) byNode.set(record.node, (list = []));
    list.push(record);
  }
  const nodeIds = [...byNode.keys()];
  const batchesPerNode = Math.max(1, Math.ceil(options.obsPerNode / batchSize));
  const total = rounds * (nodeIds.length * (1 + batchesPerNode) + 1);
  let done = 0;
  const tick = () => options.onProgress?.(++done, total);

  const reports: RoundReport[] = [];
  try {
    await reachable(pool, url.origin);
    for (let k = 1; k <= rounds; k++) {
      const round = `${prefix}-${k}`;
      const errorCodes: Record<string, number> = {};
      let errors = 0;
      let retries = 0;
      const fail = (reply: Reply) => {
        errors++;
        const code = (reply.body as { error?: { code?: string } } | null)?.error?.code ?? `HTTP_${reply.status}`;
        errorCodes[code] = (errorCodes[code] ?? 0) + 1;
      };

      const announceStart = performance.now();
      const announce = async (i: number) => {
        const node = nodeIds[i];
        const reply = await send('POST', `/v1/rounds/${round}/announce`, { node }, node);
        retries += reply.retries;
        if (reply.status !== 200) fail(reply);
        tick();
        return reply;
      };
      // The first node alone: a hub that rejects the fleet's tokens stops the run here.
      const first = await announce(0);
      if (first.status === 401) {
        throw new FleetscaleError(
          'ERR_UNAUTHORIZED',
          `the hub at ${url.origin} rejected the fleet's token (401): give the fleet the hub's secret (--secret, FLEETSCALE_SECRET, or --data with the hub's data directory)`,
        );
      }
      await bounded(concurrency, nodeIds.length - 1, async (i) => void (await announce(i + 1)));
      const announceMs = performance.now() - announceStart;
      if (errors === nodeIds.length) {
        const [code, count] = Object.entries(errorCodes).sort((a, b) => b[1] - a[1])[0]!;
        throw new FleetscaleError(
          code in ERROR_CODES ? (code as FleetscaleErrorCode) : 'ERR_INTERNAL',
          `the hub at ${url.origin} refused every node's announcement (${code} ×${count}); nothing was sent`,
        );
      }

      const latencies: number[] = [];
      let batches = 0;
      let observations = 0;
      const ingestStart = performance.now();
      let lastAck = ingestStart;
      await bounded(concurrency, nodeIds.length, async (i) => {
        const node = nodeIds[i];
        const records = byNode.get(node)!;
        const due = performance.now();
        for (let b = 0; b < batchesPerNode; b++) {
          if (options.batchIntervalMs) {
            const wait = due + b * options.batchIntervalMs - performance.now();
            if (wait > 0) await sleep(wait);
          }
          const slice = records.slice(b * batchSize, (b + 1) * batchSize);
          const started = performance.now();
          const reply = await send('POST', `/v1/rounds/${round}/observations`, { node, seq: b + 1, final: b === batchesPerNode - 1, records: slice }, node);
          const now = performance.now();
          latencies.push(now - started);
          retries += reply.retries;
          if (reply.status === 202) {
            batches++;
            observations += slice.length;
            lastAck = Math.max(lastAck, now);
          } else fail(reply);
          tick();
        }
      });
      const ingestMs = lastAck - ingestStart;

      const resultReply = await send('GET', `/v1/rounds/${round}/result?waitMs=${options.resultTimeoutMs ?? 60_000}`, undefined);
      const resultAt = performance.now();
      tick();
      let events = 0;
      let multiNodeEvents = 0;
      let stats: Record<string, unknown> | null = null;
      if (resultReply.status === 200) {
        const result = resultReply.body as { events: Array<{ nodes: string[] }>; stats: Record<string, unknown> };
        events = result.events.length;
        multiNodeEvents = result.events.filter((e) => e.nodes.length > 1).length;
        stats = result.stats;
      } else fail(resultReply);
      const summary = await send('GET', `/v1/rounds/${round}`, undefined);
      const hubFusionMs = summary.status === 200 ? ((summary.body as { fusionMs: number | null }).fusionMs ?? null) : null;

      latencies.sort((a, b) => a - b);
      reports.push({
        round,
        nodes: nodeIds.length,
        observations,
        batches,
        ingestMs,
        batchesPerS: ingestMs > 0 ? (batches / ingestMs) * 1000 : 0,
        announceMs,
        latencyMs: { p50: percentile(latencies, 0.5), p90: percentile(latencies, 0.9), p99: percentile(latencies, 0.99), max: latencies.at(-1) ?? 0 },
        retries,
        errors,
        errorCodes,
        closeToResultMs: resultAt - lastAck,
        hubFusionMs,
        events,
        multiNodeEvents,
        stats,
      });
    }
  } finally {
    await pool.close();
  }
  return { hub: options.hub, rounds: reports };
}
