/**
 * Simulated clusters for the router: nodes with a call overhead, a time per item, noise, a
 * slow-down or a crash, on a {@link VirtualClock}. The adaptive router and the tool's rules run
 * their real code against them; the fixed baselines (one node, equal split, per-item
 * self-scheduling, the optimal plan with known speeds) run on the same nodes.
 *
 * A node's call spends half its overhead getting there, waits for the node's single processing
 * lane (calls are processed one at a time, in arrival order), processes its items at the node's
 * speed times a noise factor drawn per call, and spends the other half of the overhead coming back.
 */
import { VirtualClock } from '../../router/clock.js';
import { routerError, routerInt, routerNumber } from '../../router/errors.js';
import { FlockRouter, type FlockNodeSpec } from './flock-router.js';
import { equalSplitCounts, equalSplitMs, expectedFinishMs, planSplit, type NodeCost } from '../../router/plan.js';
import { AdaptiveRouter, type AdaptiveRouterOptions } from '../../router/router.js';
import type { NodeHandler, RouterNodeSpec } from '../../router/nodes.js';
import { seededRandom } from '../seeded-random.js';

/** A simulated node. */
export interface SimNodeSpec {
  id?: string;
  /** Per-call overhead (network round trip and set-up), in ms. */
  overheadMs: number;
  /** Processing time per item, in ms. */
  perItemMs: number;
  /** Each call's processing time is scaled by 1 + noise·u, u uniform in [−1, 1] (default 0). */
  noise?: number;
  /** From this simulated time on, processing takes `factor` times longer. */
  slowdown?: { atMs: number; factor: number };
  /** From this simulated time on, the node fails every call (in-flight ones included). */
  crashAtMs?: number;
}

/** How a batch is routed in a simulation. */
export type RouteStrategy = 'optimal' | 'adaptive' | 'adaptive-known' | 'one-node' | 'equal-split' | 'self-scheduling' | 'flock';

/** Every strategy, in the order reports list them. */
export const ROUTE_STRATEGIES: readonly RouteStrategy[] = ['optimal', 'adaptive-known', 'adaptive', 'one-node', 'equal-split', 'self-scheduling', 'flock'];

/** A simulated run. */
export interface RouteScenario {
  nodes: SimNodeSpec[];
  /** Items per batch. */
  items: number;
  /** Batches run before the measured one, for the strategies that learn (default 3). */
  learningBatches?: number;
  /** Seed of the noise (default 1). */
  seed?: number;
  /** Options for the adaptive router (its nodes and clock are the simulation's). */
  router?: Omit<AdaptiveRouterOptions, 'nodes' | 'clock'>;
  /**
   * The uncertainty `adaptive-known` declares with the true speeds (default: the nodes' true
   * spread, {@link typicalLogError} of their noise; `'default'`: none, the router assumes its own).
   */
  knownUncertainty?: number | 'default';
}

/** What a simulated run measured. */
export interface RouteOutcome {
  strategy: RouteStrategy;
  /** Time of the measured batch, in simulated ms. */
  finishMs: number;
  /** Items of the measured batch without a result. */
  lost: number;
  /** Items whose result came back more than once or under the wrong index. */
  misplaced: number;
  /** Calls made for the measured batch. */
  calls: number;
}

/** Checks simulated node specs. */
export function checkSimNodes(nodes: unknown): SimNodeSpec[] {
  if (!Array.isArray(nodes) || nodes.length === 0) throw routerError('ERR_ROUTER_CONFIG', 'a simulated cluster needs a non-empty array of nodes');
  return nodes.map((n: SimNodeSpec, i) => {
    const where = `nodes[${i}]`;
    if (n === null || typeof n !== 'object') throw routerError('ERR_ROUTER_CONFIG', `${where} must be an object { overheadMs, perItemMs }`);
    routerNumber(`${where}.overheadMs`, n.overheadMs, 0);
    routerNumber(`${where}.perItemMs`, n.perItemMs, 1e-6);
    if (n.noise !== undefined) routerNumber(`${where}.noise`, n.noise, 0, 0.99);
    if (n.crashAtMs !== undefined) routerNumber(`${where}.crashAtMs`, n.crashAtMs, 0);
    if (n.slowdown !== undefined) {
      routerNumber(`${where}.slowdown.atMs`, n.slowdown.atMs, 0);
      routerNumber(`${where}.slowdown.factor`, n.slowdown.factor, 1e-3);
    }
    return { ...n, id: n.id ?? `n${i + 1}` };
  });
}

/** A simulated cluster on one virtual clock. Items come back as `{ item, node }`. */
export class SimCluster {
  readonly clock: VirtualClock;
  readonly specs: SimNodeSpec[];
  /** Calls each node received. */
  readonly calls: number[];
  readonly #busyUntil: number[];
  readonly #random: (() => number)[];

  constructor(nodes: SimNodeSpec[], seed = 1, clock = new VirtualClock()) {
    this.specs = checkSimNodes(nodes);
    this.clock = clock;
    this.calls = this.specs.map(() => 0);
    this.#busyUntil = this.specs.map(() => 0);
    this.#random = this.specs.map((_, i) => seededRandom(seed * 7919 + i * 104729));
  }

  /** The node's handler. */
  handler(index: number): NodeHandler {
    const spec = this.specs[index]!;
    const id = spec.id!;
    return async (items, { signal }) => {
      this.calls[index]! += 1;
      const clock = this.clock;
      const half = spec.overheadMs / 2;
      const crashed = (): boolean => spec.crashAtMs !== undefined && clock.now() >= spec.crashAtMs;
      await clock.sleep(half, signal);
      if (crashed()) {
        await clock.sleep(half, signal);
        throw new Error(`${id} is down`);
      }
      const noise = spec.noise ? 1 + spec.noise * (2 * this.#random[index]!() - 1) : 1;
      const slow = spec.slowdown && clock.now() >= spec.slowdown.atMs ? spec.slowdown.factor : 1;
      const start = Math.max(clock.now(), this.#busyUntil[index]!);
      const end = start + items.length * spec.perItemMs * noise * slow;
      this.#busyUntil[index] = end;
      if (spec.crashAtMs !== undefined && end > spec.crashAtMs) {
        await clock.sleep(Math.max(0, spec.crashAtMs - clock.now()) + half, signal);
        throw new Error(`${id} went down`);
      }
      await clock.sleep(end - clock.now(), signal);
      await clock.sleep(half, signal);
      return items.map((item) => ({ item, node: id }));
    };
  }

  /**
   * Node specs for the adaptive router; with `known`, each carries its true speed as a prior, and
   * how far its calls stray from it (its noise as a typical relative error, unless `uncertainty`
   * says otherwise; `'default'` leaves it to the router's default).
   */
  routerNodes(known = false, uncertainty?: number | 'default'): RouterNodeSpec[] {
    return this.specs.map((spec, i) => ({
      id: spec.id!,
      handler: this.handler(i),
      ...(known ? { overheadMs: spec.overheadMs, perItemMs: spec.perItemMs } : {}),
      ...(known && uncertainty !== 'default' ? { uncertainty: uncertainty ?? typicalLogError(spec.noise ?? 0) } : {}),
    }));
  }

  /** Node specs for the tool's router: GPU unknown, the overhead as its start-up ping. */
  flockNodes(): FlockNodeSpec[] {
    return this.specs.map((spec, i) => ({ id: spec.id!, handler: this.handler(i), latencyMs: spec.overheadMs }));
  }

  /** The true costs. */
  costs(): NodeCost[] {
    return costsOf(this.specs);
  }
}

/**
 * The mean |ln f| of a noise factor f uniform in [1 − noise, 1 + noise]: how far a node's calls
 * typically stray from its speed, in the units of the router's uncertainty.
 */
export function typicalLogError(noise: number): number {
  if (noise <= 0) return 0;
  const integral = (x: number): number => (x > 0 ? x * Math.log(x) - x : 0);
  // ∫|ln x| dx over [1 − noise, 1 + noise]: −ln x below 1, ln x above.
  const below = -(integral(1) - integral(1 - noise));
  const above = integral(1 + noise) - integral(1);
  return (below + above) / (2 * noise);
}

/**
 * The expected finish time of a fixed plan, one call per node (`counts[i]` items to node i), under
 * each node's noise: node i finishes at `o_i + k_i·a_i·f_i` with f_i uniform in
 * [1 − noise_i, 1 + noise_i] ({@link expectedFinishMs}, exact to rounding). Slow-downs and
 * crashes are not part of it.
 */
export function expectedFixedFinishMs(nodes: readonly SimNodeSpec[], counts: readonly number[]): number {
  return expectedFinishMs(
    costsOf(nodes),
    counts,
    nodes.map((n) => n.noise ?? 0),
  );
}

/** The planner's view of simulated nodes: their true overhead and time per item. */
export function costsOf(nodes: readonly SimNodeSpec[]): NodeCost[] {
  return nodes.map((s) => ({ overheadMs: s.overheadMs, perItemMs: s.perItemMs }));
}

/** The optimal finish time with known speeds and no noise (the reference every strategy is held to). */
export function optimalFinishMs(nodes: SimNodeSpec[], items: number): number {
  return planSplit(costsOf(nodes), items).finishMs;
}

/** Predicted equal-split and one-node finish times with known speeds and no noise. */
export function baselineFinishMs(nodes: SimNodeSpec[], items: number): { oneNodeMs: number; equalSplitMs: number } {
  const costs = costsOf(nodes);
  return { oneNodeMs: planSplit(costs, items, 'sequential').finishMs, equalSplitMs: equalSplitMs(costs, items) };
}

function batchOf(n: number, tag: number): { tag: number; i: number }[] {
  return Array.from({ length: n }, (_, i) => ({ tag, i }));
}

function tally(results: unknown[], batch: { tag: number; i: number }[]): { lost: number; misplaced: number } {
  let lost = 0;
  let misplaced = 0;
  for (let i = 0; i < batch.length; i++) {
    const r = results[i] as { item?: { tag: number; i: number } } | undefined;
    if (r === undefined) lost++;
    else if (r.item !== batch[i]) misplaced++;
  }
  return { lost, misplaced };
}

/** Sends fixed chunks, one call per node, in parallel; failed chunks stay empty. */
async function runFixed(cluster: SimCluster, counts: number[], batch: unknown[]): Promise<unknown[]> {
  const results = new Array<unknown>(batch.length);
  let next = 0;
  await Promise.all(
    counts.map(async (count, node) => {
      if (count === 0) return;
      const first = next;
      next += count;
      try {
        const answer = await cluster.handler(node)(batch.slice(first, first + count), { signal: new AbortController().signal });
        answer.forEach((r, j) => (results[first + j] = r));
      } catch {
        // No failover in a fixed plan.
      }
    }),
  );
  return results;
}

/** Every node pulls one item at a time from a shared queue (one call in flight per node); failed items are lost. */
async function runSelfScheduled(cluster: SimCluster, batch: unknown[]): Promise<unknown[]> {
  const results = new Array<unknown>(batch.length);
  let next = 0;
  await Promise.all(
    cluster.specs.map(async (_, node) => {
      const call = cluster.handler(node);
      let alive = true;
      while (alive && next < batch.length) {
        const i = next++;
        try {
          results[i] = (await call([batch[i]], { signal: new AbortController().signal }))[0];
        } catch {
          alive = false;
        }
      }
    }),
  );
  return results;
}

/** Runs one strategy on a fresh simulated cluster and measures its last batch. */
export async function simulateRoute(scenario: RouteScenario, strategy: RouteStrategy): Promise<RouteOutcome> {
  const learning = routerInt('learningBatches', scenario.learningBatches ?? 3, 0, 1000);
  const items = routerInt('items', scenario.items, 1);
  const cluster = new SimCluster(scenario.nodes, scenario.seed ?? 1);
  const clock = cluster.clock;
  const measure = async (work: (batch: { tag: number; i: number }[]) => Promise<unknown[]>): Promise<RouteOutcome> => {
    const batch = batchOf(items, learning);
    const callsBefore = cluster.calls.reduce((a, b) => a + b, 0);
    const started = clock.now();
    const results = await clock.run(work(batch));
    return { strategy, finishMs: clock.now() - started, ...tally(results, batch), calls: cluster.calls.reduce((a, b) => a + b, 0) - callsBefore };
  };
  switch (strategy) {
    case 'optimal':
      return measure((batch) => runFixed(cluster, planSplit(cluster.costs(), items).counts, batch));
    case 'one-node':
      return measure((batch) => runFixed(cluster, planSplit(cluster.costs(), items, 'sequential').counts, batch));
    case 'equal-split':
      return measure((batch) => runFixed(cluster, equalSplitCounts(cluster.costs(), items), batch));
    case 'self-scheduling':
      return measure((batch) => runSelfScheduled(cluster, batch));
    case 'adaptive':
    case 'adaptive-known': {
      const known = strategy === 'adaptive-known';
      const router = new AdaptiveRouter({ ...scenario.router, nodes: cluster.routerNodes(known, scenario.knownUncertainty), clock });
      const warmups = known ? 0 : learning;
      for (let b = 0; b < warmups; b++) await clock.run(router.run(batchOf(items, b)).catch(() => []));
      return measure((batch) => router.run(batch).catch((error: { details?: { partialResults?: unknown[] } }) => error.details?.partialResults ?? []));
    }
    case 'flock': {
      const router = new FlockRouter({ nodes: cluster.flockNodes(), clock });
      for (let b = 0; b < learning; b++) await clock.run(router.run(batchOf(items, b)));
      return measure(async (batch) => (await router.run(batch)).results);
    }
    default:
      throw routerError('ERR_ROUTER_CONFIG', `unknown strategy ${JSON.stringify(strategy)} (known: ${ROUTE_STRATEGIES.join(', ')})`);
  }
}
