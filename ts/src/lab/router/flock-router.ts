/**
 * Runs batches the way the embedding tool does (see `flock-rules.ts`), over the same node specs as
 * the adaptive router, so the two can be measured side by side on the same nodes.
 *
 * Every request carries one item. Sequential: each item in turn on the node with the best health
 * score; a failed item stays empty. Parallel: a pool of workers; each item goes to the best-scored
 * available node and, on failure, to the next best, up to one try per node. The tool checks
 * availability with a cached ping; here a node whose last request failed counts as unavailable for
 * `availabilityTtlMs` (the tool's cache does the same job).
 */
import { realClock, type RouterClock } from '../../router/clock.js';
import { routerError, routerNumber } from '../../router/errors.js';
import { flockHealthScore, flockRules, flockStats, flockWorkers, type FlockDecision, type FlockNodeStats } from './flock-rules.js';
import { checkNodes, checkResults, describe, type RouterNode, type RouterNodeSpec } from '../../router/nodes.js';

/** A node for {@link FlockRouter}: the router's spec plus what the tool detects at start-up. */
export interface FlockNodeSpec extends RouterNodeSpec {
  /** GPU detected: true, CPU only: false, unknown: undefined. */
  gpu?: boolean;
  /** The model sits in VRAM (default true for GPU nodes). */
  gpuLoaded?: boolean;
  vramGb?: number;
  /** The ping latency measured when the node was added, in ms. */
  latencyMs?: number;
}

/** Options of {@link FlockRouter}. */
export interface FlockRouterOptions {
  nodes: FlockNodeSpec[];
  /** Forces a mode, as the tool's `force_mode` does. */
  mode?: 'sequential' | 'parallel';
  /** How long a failed node counts as unavailable, in ms (default 30000). */
  availabilityTtlMs?: number;
  clock?: RouterClock;
}

/** The outcome of one batch: results with holes where items failed. */
export interface FlockRunResult {
  results: unknown[];
  failedItems: number[];
  decision: FlockDecision;
}

/** The tool's per-node statistics line. */
export interface FlockNodeReport {
  id: string;
  health: number;
  requests: number;
  errors: number;
  meanResponseMs: number;
  inFlight: number;
}

interface FlockNode {
  node: RouterNode;
  stats: FlockNodeStats;
  failedAt: number;
}

/** The embedding tool's batch routing, for comparison. */
export class FlockRouter {
  readonly #nodes: FlockNode[];
  readonly #clock: RouterClock;
  readonly #mode: 'sequential' | 'parallel' | undefined;
  readonly #availabilityTtlMs: number;

  constructor(options: FlockRouterOptions) {
    if (options === null || typeof options !== 'object') throw routerError('ERR_ROUTER_CONFIG', `FlockRouter needs options { nodes }, got ${describe(options)}`);
    const specs = Array.isArray(options.nodes) ? options.nodes : [];
    const plain = specs.map((spec) => {
      if (spec === null || typeof spec !== 'object') return spec;
      const { gpu: _gpu, gpuLoaded: _loaded, vramGb: _vram, latencyMs: _latency, ...rest } = spec;
      return rest;
    });
    const nodes = checkNodes(Array.isArray(options.nodes) ? plain : options.nodes);
    if (options.mode !== undefined && options.mode !== 'sequential' && options.mode !== 'parallel') {
      throw routerError('ERR_ROUTER_CONFIG', `mode must be 'sequential' or 'parallel', got ${describe(options.mode)}`);
    }
    this.#mode = options.mode;
    this.#availabilityTtlMs = routerNumber('availabilityTtlMs', options.availabilityTtlMs ?? 30_000, 0);
    this.#clock = options.clock ?? realClock;
    this.#nodes = nodes.map((node, i) => {
      const spec = specs[i]!;
      const gpu = spec.gpu;
      return {
        node,
        stats: flockStats(node.id, {
          hasGpu: gpu ?? null,
          gpuLoaded: gpu === true ? (spec.gpuLoaded ?? true) : false,
          vramGb: spec.vramGb ?? 0,
          latencyMs: spec.latencyMs ?? null,
        }),
        failedAt: -Infinity,
      };
    });
  }

  /** The rule table's decision for a batch of `batchSize` items, given what was measured so far. */
  decide(batchSize: number): FlockDecision {
    return flockRules(
      this.#nodes.map((n) => n.stats),
      batchSize,
    );
  }

  /** Per-node health, requests, errors, mean response and requests in flight. */
  stats(): FlockNodeReport[] {
    return this.#nodes.map(({ stats }) => ({
      id: stats.id,
      health: flockHealthScore(stats),
      requests: stats.requests,
      errors: stats.errors,
      meanResponseMs: stats.requests > 0 ? (1000 * stats.totalSeconds) / stats.requests : 0,
      inFlight: stats.concurrentRequests,
    }));
  }

  /** Runs a batch the tool's way; `forceMode` overrides the rules for this batch, as the tool's `force_mode` does. */
  async run(items: unknown[], forceMode?: 'sequential' | 'parallel'): Promise<FlockRunResult> {
    if (!Array.isArray(items)) throw routerError('ERR_ROUTER_INPUT', `run() takes an array of items, got ${describe(items)}`);
    if (forceMode !== undefined && forceMode !== 'sequential' && forceMode !== 'parallel') {
      throw routerError('ERR_ROUTER_CONFIG', `forceMode must be 'sequential' or 'parallel', got ${describe(forceMode)}`);
    }
    const forced = forceMode ?? this.#mode;
    const decision =
      forced === undefined ? this.decide(items.length) : ({ parallel: forced === 'parallel', reason: 'single_node', detail: `forced ${forced}` } satisfies FlockDecision);
    const results = new Array<unknown>(items.length);
    const failedItems: number[] = [];
    if (!decision.parallel) {
      const node = this.#best(this.#nodes);
      for (let i = 0; i < items.length; i++) {
        const answer = await this.#request(node, items[i]);
        if (answer.ok) results[i] = answer.value;
        else failedItems.push(i);
      }
      return { results, failedItems, decision };
    }
    const workers = flockWorkers(items.length, this.#available().length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const i = next++;
        let done = false;
        for (let attempt = 0; attempt < this.#nodes.length && !done; attempt++) {
          const answer = await this.#request(this.#best(this.#available()), items[i]);
          if (answer.ok) {
            results[i] = answer.value;
            done = true;
          }
        }
        if (!done) failedItems.push(i);
      }
    };
    await Promise.all(Array.from({ length: Math.min(workers, items.length) }, worker));
    failedItems.sort((x, y) => x - y);
    return { results, failedItems, decision };
  }

  #available(): FlockNode[] {
    const now = this.#clock.now();
    const up = this.#nodes.filter((n) => now - n.failedAt >= this.#availabilityTtlMs);
    // As in the tool: when every node looks down, all of them are tried.
    return up.length > 0 ? up : this.#nodes;
  }

  #best(candidates: FlockNode[]): FlockNode {
    let best = candidates[0]!;
    let bestScore = -1;
    for (const n of candidates) {
      const score = flockHealthScore(n.stats);
      if (score > bestScore) {
        bestScore = score;
        best = n;
      }
    }
    return best;
  }

  async #request(n: FlockNode, item: unknown): Promise<{ ok: true; value: unknown } | { ok: false }> {
    const { stats } = n;
    stats.concurrentRequests += 1;
    const started = this.#clock.now();
    let outcome: { ok: true; value: unknown } | { ok: false };
    try {
      const answer = checkResults(n.node.id, await n.node.call([item], { signal: new AbortController().signal }), 1);
      if (answer instanceof Error) throw answer;
      outcome = { ok: true, value: answer[0] };
    } catch {
      outcome = { ok: false };
    }
    const seconds = (this.#clock.now() - started) / 1000;
    stats.concurrentRequests = Math.max(0, stats.concurrentRequests - 1);
    stats.requests += 1;
    stats.totalSeconds += seconds;
    if (outcome.ok) {
      if (seconds < 3) stats.latencyMs = (stats.latencyMs ?? seconds * 1000) * 0.8 + seconds * 1000 * 0.2;
      // As in the tool: a loaded GPU answering in over 2 s is taken for VRAM exhaustion.
      if (stats.hasGpu === true && stats.gpuLoaded && seconds > 2) stats.gpuLoaded = false;
    } else {
      stats.errors += 1;
      n.failedAt = this.#clock.now();
    }
    return outcome;
  }
}
