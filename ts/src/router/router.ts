/**
 * The adaptive router: splits a batch over heterogeneous nodes at the finish time its estimates
 * say is optimal, learns each node's overhead and time per item from the calls it makes, keeps a
 * self-scheduled tail so a wrong estimate costs little, retries failed chunks where they finish
 * soonest and takes failing nodes out with a circuit breaker.
 */
import { Type } from 'typebox';

import { schemaCheck } from '../schema-check.js';
import { CircuitBreaker, type BreakerOptions, type BreakerState } from './breaker.js';
import { realClock, type RouterClock } from './clock.js';
import { hasCodePrefix, type FleetscaleError } from '../errors.js';
import { routerError, type RouterErrorCode } from './errors.js';
import { CostEstimator, type CostEstimate, type EstimatorOptions } from './estimator.js';
import { fleetNoise, noiseOf, planningLines, type CostLine } from './learned-lines.js';
import { checkNodes, checkResults, describe, type RouterNode, type RouterNodeSpec } from './nodes.js';
import { itemsWithinMs, planUnderNoise, type NodeCost, type PlanMode, type SplitPlan } from './plan.js';
import { explainPlans, type RoutePlan } from './plan-report.js';

/** Options of {@link AdaptiveRouter}. */
export interface AdaptiveRouterOptions {
  /** The nodes, each an HTTP endpoint or an async function (see {@link RouterNodeSpec}). */
  nodes: RouterNodeSpec[];
  /** `auto` (default) plans over any subset; `sequential` uses the best single node; `parallel` every node. */
  mode?: PlanMode;
  /**
   * How much of a node's planned share it holds back for the self-scheduled tail, per unit of the
   * node's uncertainty (default 1.5; the share held back is at most 0.75). 0 sends every plan in
   * one call per node.
   */
  tailGain?: number;
  /** Attempts per item before it is given up (default 4). */
  maxAttempts?: number;
  /** Longest time a call may take, in ms (default 60000); also the limit for a node not yet measured. */
  callTimeoutMs?: number;
  /** A measured node's call may take this many times its prediction (default 5)... */
  timeoutFactor?: number;
  /** ...but never less than this, in ms (default 2000). */
  minCallTimeoutMs?: number;
  /** A run fails its remaining items when no node has been usable for this long, in ms (default 30000). */
  maxStallMs?: number;
  /** Circuit breaker tuning. */
  breaker?: BreakerOptions;
  /** Estimator tuning. */
  estimator?: EstimatorOptions;
  /** The clock (default: wall-clock time). Simulations pass a `VirtualClock`. */
  clock?: RouterClock;
}

/** One node's line in {@link AdaptiveRouter.stats}. */
export interface RouterNodeStats {
  id: string;
  /** Circuit breaker state. */
  state: BreakerState;
  /** 1 when closed and never failing; lower with recent errors; 0.5 when suspect or half-open, 0 when open. */
  health: number;
  requests: number;
  errors: number;
  items: number;
  /** Mean time of the answered calls, in ms. */
  meanLatencyMs: number;
  lastLatencyMs: number | null;
  inFlight: number;
  /** What the router believes of the node's speed. */
  estimate: CostEstimate;
  /** Items per second at a call of 100 items, from the estimate. */
  itemsPerSecond: number;
}

interface NodeState {
  node: RouterNode;
  estimator: CostEstimator;
  breaker: CircuitBreaker;
  inFlight: number;
  busyUntil: number;
  /** Until when the node is likely still working on calls the router abandoned. */
  drainUntil: number;
  requests: number;
  errors: number;
  /** Calls that answered (neither failed nor abandoned). */
  answered: number;
  items: number;
  latencyTotal: number;
  lastLatencyMs: number | null;
  errorRate: number;
}

interface Call {
  run: BatchRun;
  state: NodeState;
  items: number[];
  startedAt: number;
  predictedMs: number;
  controller: AbortController;
  /** Another node answered these items first. */
  abandoned: boolean;
  /** This call is a backup of a late call. */
  backup: boolean;
  /** The backup of this call, or the call this one backs up. */
  partner?: Call;
  /** How long the call was expected to queue behind abandoned work on its node. */
  waitMs: number;
}

/** What the router makes of one node's estimate when it plans. */
interface NodeView {
  /** The estimator's own estimate. */
  own: CostEstimate;
  /** The same, or for a node never measured the measured nodes' median. */
  estimate: CostEstimate;
  /** The line the planner uses ({@link planningLines}). */
  line: CostLine;
  /** How far its work may stray ({@link spreadOf}). */
  spread: number;
}

const MAX_TAIL = 0.75;
const ERROR_RATE_WEIGHT = 0.2;
const REFERENCE_CHUNK = 100;
/** A call is late once it runs this many times its prediction, plus HEDGE_MARGIN_MS. */
const HEDGE_AFTER = 1.5;
const HEDGE_MARGIN_MS = 1;
/** A factor uniform in 1 ± w has a mean |ln| of about w / 2 (`typicalLogError(0.3)` = 0.152). */
const SPREAD_PER_UNCERTAINTY = 2;
const MAX_SPREAD = 0.95;

const Ms = (minimum: number) => Type.Optional(Type.Number({ minimum }));
/** The router's options besides its nodes and clock (each node spec is checked by `checkNodes`). */
const RouterOptionsSchema = Type.Object({
  nodes: Type.Unknown(),
  mode: Type.Optional(Type.Enum(['auto', 'sequential', 'parallel'])),
  tailGain: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  callTimeoutMs: Ms(1),
  timeoutFactor: Ms(1),
  minCallTimeoutMs: Ms(0),
  maxStallMs: Ms(0),
  breaker: Type.Optional(Type.Object({ failureThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), cooldownMs: Ms(0), maxCooldownMs: Ms(0) })),
  estimator: Type.Optional(Type.Object({ decay: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })), surpriseRatio: Ms(1.01) })),
});
const checkRouterOptions = schemaCheck(RouterOptionsSchema, (message) => routerError('ERR_ROUTER_CONFIG', message), { root: 'the options', prefix: 'options' });

/** A batch router over heterogeneous nodes. */
export class AdaptiveRouter {
  readonly #nodes: NodeState[];
  readonly #clock: RouterClock;
  readonly #mode: PlanMode;
  readonly #tailGain: number;
  readonly #maxAttempts: number;
  readonly #callTimeoutMs: number;
  readonly #timeoutFactor: number;
  readonly #minCallTimeoutMs: number;
  readonly #maxStallMs: number;
  readonly #runs = new Set<BatchRun>();

  constructor(options: AdaptiveRouterOptions) {
    if (options === null || typeof options !== 'object') {
      throw routerError('ERR_ROUTER_CONFIG', `AdaptiveRouter needs options { nodes }, got ${describe(options)}`);
    }
    const checked = checkRouterOptions(options);
    const nodes = checkNodes(options.nodes);
    this.#mode = checked.mode ?? 'auto';
    this.#tailGain = checked.tailGain ?? 1.5;
    this.#maxAttempts = checked.maxAttempts ?? 4;
    this.#callTimeoutMs = checked.callTimeoutMs ?? 60_000;
    this.#timeoutFactor = checked.timeoutFactor ?? 5;
    this.#minCallTimeoutMs = checked.minCallTimeoutMs ?? 2000;
    this.#maxStallMs = checked.maxStallMs ?? 30_000;
    const breaker = options.breaker ?? {};
    const estimator = options.estimator ?? {};
    this.#clock = options.clock ?? realClock;
    this.#nodes = nodes.map((node) => ({
      node,
      estimator: new CostEstimator(node.prior, estimator),
      breaker: new CircuitBreaker(breaker),
      inFlight: 0,
      busyUntil: 0,
      drainUntil: 0,
      requests: 0,
      errors: 0,
      answered: 0,
      items: 0,
      latencyTotal: 0,
      lastLatencyMs: null,
      errorRate: 0,
    }));
  }

  /**
   * Runs `items` over the nodes and resolves to one result per item, in input order. Rejects with
   * `ERR_ROUTER_EXHAUSTED` (carrying `failedItems` and `partialResults`) when some items failed on
   * every attempt or no node was usable for `maxStallMs`.
   */
  run(items: unknown[]): Promise<unknown[]> {
    if (!Array.isArray(items)) {
      return Promise.reject(routerError('ERR_ROUTER_INPUT', `run() takes an array of items, got ${describe(items)}`));
    }
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const run = new BatchRun(items, this.#maxAttempts, resolve, reject);
      this.#runs.add(run);
      this.#pump(run);
    });
  }

  /** Per-node health, requests, errors, latency, in-flight calls and the speed estimate. */
  stats(): RouterNodeStats[] {
    const now = this.#clock.now();
    return this.#nodes.map((s) => {
      const state = s.breaker.state(now);
      const estimate = s.estimator.estimate();
      return {
        id: s.node.id,
        state,
        health: state === 'closed' ? 1 - s.errorRate : state === 'open' ? 0 : 0.5,
        requests: s.requests,
        errors: s.errors,
        items: s.items,
        meanLatencyMs: s.answered > 0 ? s.latencyTotal / s.answered : 0,
        lastLatencyMs: s.lastLatencyMs,
        inFlight: s.inFlight,
        estimate,
        itemsPerSecond: (1000 * REFERENCE_CHUNK) / (estimate.overheadMs + REFERENCE_CHUNK * estimate.perItemMs),
      };
    });
  }

  /**
   * Explains the plan for each batch size: which nodes, how many items each, the predicted finish
   * time against the best single node and an equal split.
   */
  report(batchSizes: number[] = [10, 50, 100, 200]): RoutePlan[] {
    const now = this.#clock.now();
    let usable = this.#nodes.filter((s) => s.breaker.state(now) !== 'open');
    if (usable.length === 0) usable = this.#nodes;
    const out = this.#nodes.filter((s) => !usable.includes(s)).map((s) => s.node.id);
    const view = this.#fleetView();
    return explainPlans(
      usable.map((s) => {
        const { own, line, spread } = view.get(s)!;
        return { id: s.node.id, cost: this.#costOf(s, now, false, line), known: own.known, spread };
      }),
      batchSizes,
      this.#mode,
      out.length > 0 ? [`out (breaker open): ${out.join(', ')}`] : [],
    );
  }

  /** The cost the planner uses for a node whose line (see {@link NodeView}) is `line`. */
  #costOf(s: NodeState, now: number, withReady: boolean, line: CostLine): NodeCost {
    return {
      overheadMs: line.overheadMs,
      perItemMs: line.perItemMs,
      // A late call is guessed to need about as long again as it is already late; an abandoned
      // call may keep the node busy until its predicted end.
      readyInMs: withReady ? Math.max(s.inFlight > 0 ? (s.busyUntil > now ? s.busyUntil - now : now - s.busyUntil) : 0, s.drainUntil - now) : 0,
    };
  }

  /** What the router makes of every node's estimate, worked out once per plan (see {@link NodeView}). */
  #fleetView(): Map<NodeState, NodeView> {
    const own = this.#nodes.map((s) => s.estimator.estimate());
    const median = fleetMedian(own);
    const estimates = own.map((e) => (e.known ? e : (median ?? e)));
    const lines = planningLines(estimates);
    const noise = fleetNoise(own);
    return new Map(this.#nodes.map((s, i) => [s, { own: own[i]!, estimate: estimates[i]!, line: lines[i]!, spread: spreadOf(own[i]!, noise) }]));
  }

  /** Sends whatever `run` can send now, and settles it when it is finished. */
  /** Sends whatever `run` can send now, and settles it when it is finished. */
  #pump(run: BatchRun): void {
    if (run.finished) return;
    const now = this.#clock.now();
    if (run.settleIfDone()) {
      this.#runs.delete(run);
      return;
    }
    if (run.remaining() > 0) this.#dispatch(run, now);
    if (run.remaining() === 0) this.#hedge(run, now);
    if (run.calls.size === 0 && run.remaining() > 0) {
      // Nothing of this run is out and nothing could be sent: wait for a node to come back.
      if (!this.#nodes.some((s) => s.breaker.isClosed())) {
        run.stalledSince ??= now;
        if (now - run.stalledSince >= this.#maxStallMs) {
          run.failRemaining();
          run.settleIfDone();
          this.#runs.delete(run);
          return;
        }
      } else {
        run.stalledSince = undefined;
      }
      const reopen = Math.min(...this.#nodes.map((s) => s.breaker.reopensAt(now) ?? Infinity));
      const stallEnd = run.stalledSince !== undefined ? run.stalledSince + this.#maxStallMs : Infinity;
      this.#wakeAt(run, Math.min(reopen, stallEnd), now);
    }
  }

  /** Pumps `run` again at time `at` (one timer per run: the earliest wins). */
  #wakeAt(run: BatchRun, at: number, now: number): void {
    if (!Number.isFinite(at) || (run.wakeAt !== undefined && run.wakeAt <= at)) return;
    run.wakeAt = at;
    void this.#clock.sleep(Math.max(0, at - now)).then(() => {
      if (run.wakeAt === at) run.wakeAt = undefined;
      this.#pump(run);
    });
  }

  #dispatch(run: BatchRun, now: number): void {
    const closed = this.#nodes.filter((s) => s.breaker.isClosed());
    // Probes: one item to a node that failed or whose time out ended, while others can carry the rest.
    for (const s of this.#nodes) {
      if (run.remaining() === 0) return;
      if (s.inFlight > 0 || !s.breaker.mayProbe(now)) continue;
      if (run.remaining() < 2 && closed.length > 0) continue;
      s.breaker.probeSent();
      this.#send(run, s, run.take(1), now);
    }
    if (closed.length === 0 || run.remaining() === 0) return;
    const view = this.#fleetView();
    const seen = closed.map((s) => view.get(s)!);
    const costs = closed.map((s, i) => this.#costOf(s, now, true, seen[i]!.line));
    // The split with the least expected finish under the nodes' spreads (see planUnderNoise).
    const plan = planUnderNoise(
      costs,
      run.remaining(),
      this.#mode,
      seen.map((v) => v.spread),
      seen.map((v) => v.own.known),
    );
    for (let i = 0; i < closed.length; i++) {
      const s = closed[i]!;
      const count = plan.counts[i]!;
      if (count === 0 || s.inFlight > 0 || run.remaining() === 0) continue;
      this.#send(run, s, run.take(this.#chunkOf(s, seen[i]!.own, count, costs, i, plan)), now);
    }
  }

  /**
   * Backup calls: once nothing is left to send, an idle node takes over the items of a call that
   * runs well past its prediction, if it would finish them before that call is likely to (a call
   * already late by t is assumed to need about t more). The first answer wins; the other call is
   * abandoned.
   */
  #hedge(run: BatchRun, now: number): void {
    let nextCheck = Infinity;
    let view: Map<NodeState, NodeView> | undefined;
    for (const call of [...run.calls].sort((x, y) => x.startedAt - y.startedAt)) {
      if (call.partner || call.backup) continue;
      const elapsed = now - call.startedAt;
      const due = call.startedAt + HEDGE_AFTER * call.predictedMs + HEDGE_MARGIN_MS;
      if (now < due || !Number.isFinite(call.predictedMs)) {
        nextCheck = Math.min(nextCheck, due);
        continue;
      }
      let best: NodeState | undefined;
      let bestFinish = elapsed;
      view ??= this.#fleetView();
      for (const s of this.#nodes) {
        if (s === call.state || s.inFlight > 0 || !s.breaker.isClosed()) continue;
        const cost = view.get(s)!.estimate;
        const finish = cost.overheadMs + call.items.length * cost.perItemMs;
        if (finish < bestFinish) {
          bestFinish = finish;
          best = s;
        }
      }
      if (best) this.#send(run, best, call.items, now, call);
    }
    if (run.remaining() === 0 && Number.isFinite(nextCheck)) this.#wakeAt(run, nextCheck, now);
  }

  /**
   * How much of a planned share to send now; the rest stays in the pool for whoever frees up
   * first. A plan on one node (as every `sequential` plan is) sends its whole share: that node
   * would take a held-back tail itself, after a second call's overhead.
   */
  #chunkOf(s: NodeState, estimate: CostEstimate, count: number, costs: readonly NodeCost[], i: number, plan: SplitPlan): number {
    if (plan.used === 1) return count;
    const cost = costs[i]!;
    // A node never measured gets one item first: with its next, larger call that tells its
    // overhead from its time per item.
    if (!estimate.known) return 1;
    // A node seen with calls of one size only has a guessed time per item. A call of another size
    // pins it, so when even the most pessimistic line (no overhead: the time seen, per item) has
    // that call done by the plan's finish, it goes whole (up to twice the size seen) instead of as
    // a call of the size already seen and a tail: learning then costs nothing.
    const slope = estimate.slope;
    if (slope && !slope.pinned) {
      const seen = Math.max(1, Math.round(slope.pivotItems));
      const whole = Math.min(count, 2 * seen);
      const worst = (cost.readyInMs ?? 0) + (s.estimator.predict(seen) / seen) * whole;
      if (whole !== seen && worst <= plan.finishMs) return whole;
    }
    const tail = Math.min(MAX_TAIL, this.#tailGain * estimate.uncertainty);
    let hold = Math.floor(count * tail);
    // Holding items back costs a later call's overhead; it pays only when the share's likely
    // error (its uncertainty times its length) is worth more than that overhead.
    if (cost.overheadMs >= 0.5 * estimate.uncertainty * count * cost.perItemMs) hold = 0;
    // Nor when the other nodes could take too few of them, while this one would work on them, to
    // save that overhead: the rest come back to this node after it (a fast node beside much
    // slower ones keeps its whole share).
    if (hold > 0) {
      const others = costs.filter((_, j) => j !== i);
      if (itemsWithinMs(others, hold * cost.perItemMs) * cost.perItemMs <= cost.overheadMs) hold = 0;
    }
    return Math.max(1, count - hold);
  }

  #send(run: BatchRun, s: NodeState, indices: number[], now: number, original?: Call): void {
    const estimate = s.estimator.estimate();
    const predictedMs = estimate.known ? s.estimator.predict(indices.length) : Infinity;
    const timeoutMs = Number.isFinite(predictedMs) ? Math.min(this.#callTimeoutMs, Math.max(this.#minCallTimeoutMs, this.#timeoutFactor * predictedMs)) : this.#callTimeoutMs;
    const controller = new AbortController();
    const waitMs = Math.max(0, s.drainUntil - now);
    const call: Call = { run, state: s, items: indices, startedAt: now, predictedMs, controller, abandoned: false, backup: original !== undefined, waitMs };
    if (original) {
      original.partner = call;
      call.partner = original;
    }
    s.inFlight += 1;
    s.requests += 1;
    s.busyUntil = Math.max(s.busyUntil, now) + (Number.isFinite(predictedMs) ? predictedMs : 0);
    run.calls.add(call);
    const timer = new AbortController();
    const payload = indices.map((i) => run.items[i]);
    const timeout = this.#clock.sleep(timeoutMs, timer.signal).then(() => {
      const error = routerError('ERR_ROUTER_NODE_TIMEOUT', `node "${s.node.id}" took longer than ${timeoutMs.toFixed(0)} ms for ${indices.length} items`);
      controller.abort(error);
      throw error;
    });
    timeout.catch(() => undefined);
    let attempt: Promise<unknown[]>;
    try {
      attempt = Promise.resolve(s.node.call(payload, { signal: controller.signal }));
    } catch (error) {
      attempt = Promise.reject(error as Error);
    }
    const abandoned = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true }));
    abandoned.catch(() => undefined);
    Promise.race([attempt, timeout, abandoned]).then(
      (results) => {
        timer.abort();
        const checked = checkResults(s.node.id, results, indices.length);
        if (checked instanceof Error) this.#settle(call, checked);
        else this.#settle(call, undefined, checked);
      },
      (error: unknown) => {
        timer.abort();
        this.#settle(call, error);
      },
    );
  }

  #settle(call: Call, error: unknown, results?: unknown[]): void {
    const now = this.#clock.now();
    const s = call.state;
    const run = call.run;
    s.inFlight -= 1;
    if (s.inFlight === 0) s.busyUntil = now;
    run.calls.delete(call);
    const elapsed = now - call.startedAt;
    const partner = call.partner && run.calls.has(call.partner) ? call.partner : undefined;
    // A call sent to a node that may still be working on abandoned calls waited for somewhere
    // between nothing and `waitMs`: its own time lies in [elapsed − waitMs, elapsed], and only the
    // lower bound is certain.
    const worked = Math.max(1e-3, elapsed - call.waitMs);
    if (call.abandoned) {
      // Another node answered these items first; a call this late still tells how slow the node
      // is, and the node may go on working on it (abandoning does not stop every server).
      s.estimator.observeAtLeast(call.items.length, worked);
      if (Number.isFinite(call.predictedMs)) s.drainUntil = Math.max(s.drainUntil, call.startedAt + call.waitMs + Math.max(call.predictedMs, worked));
    } else if (results) {
      s.answered += 1;
      s.items += call.items.length;
      s.latencyTotal += elapsed;
      s.lastLatencyMs = elapsed;
      s.errorRate *= 1 - ERROR_RATE_WEIGHT;
      if (call.waitMs > 0) s.estimator.observeAtLeast(call.items.length, worked);
      else s.estimator.observe(call.items.length, worked);
      s.breaker.succeeded();
      run.complete(call.items, results);
      if (partner) {
        partner.abandoned = true;
        partner.controller.abort(routerError('ERR_ROUTER_NODE_TIMEOUT', `node "${s.node.id}" answered these items first`));
      }
    } else {
      s.errors += 1;
      s.errorRate += ERROR_RATE_WEIGHT * (1 - s.errorRate);
      s.breaker.failed(now);
      // Items still covered by a live backup (or original) call wait for it instead of a retry.
      if (!partner) run.retry(call.items, toRouterError(s.node.id, error));
    }
    // Any answer may free a node another run is waiting for.
    for (const other of [...this.#runs]) this.#pump(other);
  }
}

/**
 * How far a node's work may stray, as the half-width of a uniform factor around its estimate:
 * SPREAD_PER_UNCERTAINTY times its declared uncertainty, or else times its noise as
 * {@link noiseOf} weighs its recent errors against the fleet's `noise`. A fleet that has shown no
 * noise has none.
 */
function spreadOf(e: CostEstimate, noise: number): number {
  const error = e.spreadDeclared ? e.uncertainty : noiseOf(e, noise);
  return Math.min(MAX_SPREAD, SPREAD_PER_UNCERTAINTY * error);
}

/** The measured nodes' median overhead and time per item: the guess for a node never measured. */
function fleetMedian(estimates: readonly CostEstimate[]): CostEstimate | undefined {
  const known = estimates.filter((e) => e.known);
  if (known.length === 0) return undefined;
  const middle = (values: number[]): number => values.sort((x, y) => x - y)[Math.floor((values.length - 1) / 2)]!;
  return {
    ...known[0]!,
    overheadMs: middle(known.map((e) => e.overheadMs)),
    perItemMs: middle(known.map((e) => e.perItemMs)),
    slope: undefined,
    recentError: undefined,
    recentErrors: [],
  };
}

type RouterError = FleetscaleError<RouterErrorCode>;

function toRouterError(id: string, error: unknown): RouterError {
  if (hasCodePrefix(error, 'ERR_ROUTER_')) return error as RouterError;
  const message = error instanceof Error ? error.message : String(error);
  return routerError('ERR_ROUTER_NODE_FAILED', `node "${id}" failed: ${message}`, error);
}

/** Failed items waiting for another try, and how many of them one call may carry. */
interface RetryGroup {
  items: number[];
  maxChunk: number;
}

/** One `run()` call: the items not yet sent, the calls out, the results and the attempts. */
class BatchRun {
  readonly items: unknown[];
  readonly results: unknown[];
  readonly calls = new Set<Call>();
  finished = false;
  wakeAt: number | undefined;
  stalledSince: number | undefined;
  #next = 0;
  #retry: RetryGroup[] = [];
  #retrying = 0;
  #done = 0;
  #failed: number[] = [];
  #lastError: RouterError | undefined;
  readonly #completed: Uint8Array;
  readonly #attempts: Uint8Array;
  readonly #maxAttempts: number;
  readonly #resolve: (results: unknown[]) => void;
  readonly #reject: (error: RouterError) => void;

  constructor(items: unknown[], maxAttempts: number, resolve: (results: unknown[]) => void, reject: (error: RouterError) => void) {
    this.items = items;
    this.results = new Array<unknown>(items.length);
    this.#completed = new Uint8Array(items.length);
    this.#attempts = new Uint8Array(items.length);
    this.#maxAttempts = maxAttempts;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  remaining(): number {
    return this.#retrying + this.items.length - this.#next;
  }

  /**
   * Takes up to `count` items. Failed items go first, and a call carries failed items of one
   * group only, at most half the size of the call they failed in: a chunk that keeps failing is
   * split until the item that breaks it is alone.
   */
  take(count: number): number[] {
    const group = this.#retry[0];
    if (group) {
      const taken = group.items.splice(0, Math.min(count, group.maxChunk));
      if (group.items.length === 0) this.#retry.shift();
      this.#retrying -= taken.length;
      return taken;
    }
    const first = this.#next;
    this.#next = Math.min(this.items.length, this.#next + count);
    return Array.from({ length: this.#next - first }, (_, j) => first + j);
  }

  complete(indices: number[], results: unknown[]): void {
    if (this.finished) return;
    for (let j = 0; j < indices.length; j++) {
      const i = indices[j]!;
      if (this.#completed[i]) continue;
      this.#completed[i] = 1;
      this.results[i] = results[j];
      this.#done += 1;
    }
  }

  /** Puts failed items back; an item that failed alone counts an attempt and is given up after the last. */
  retry(indices: number[], error: RouterError): void {
    if (this.finished) return;
    this.#lastError = error;
    const again: number[] = [];
    for (const i of indices) {
      if (this.#completed[i]) continue;
      if (indices.length === 1) this.#attempts[i]! += 1;
      if (this.#attempts[i]! >= this.#maxAttempts) this.#failed.push(i);
      else again.push(i);
    }
    if (again.length === 0) return;
    this.#retry.push({ items: again, maxChunk: Math.max(1, Math.ceil(indices.length / 2)) });
    this.#retrying += again.length;
  }

  /** Gives up every item not yet sent (no node usable for too long). */
  failRemaining(): void {
    while (this.remaining() > 0) this.#failed.push(...this.take(this.remaining()));
    this.#lastError ??= routerError('ERR_ROUTER_NODE_FAILED', 'no node was usable');
  }

  /** Resolves or rejects once every item has a result or was given up; true when it did. */
  settleIfDone(): boolean {
    if (this.finished) return true;
    if (this.#done + this.#failed.length < this.items.length || this.calls.size > 0) return false;
    this.finished = true;
    if (this.#failed.length === 0) {
      this.#resolve(this.results);
    } else {
      const failed = [...this.#failed].sort((x, y) => x - y);
      const error = routerError(
        'ERR_ROUTER_EXHAUSTED',
        `${failed.length} of ${this.items.length} items failed on every attempt; last error: ${this.#lastError?.message ?? 'unknown'}`,
        this.#lastError,
        { failedItems: failed, partialResults: this.results },
      );
      this.#reject(error);
    }
    return true;
  }
}
