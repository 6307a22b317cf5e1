/**
 * The autoscaler simulator: a pool of replicas serving a queue, second by second, with the
 * policy deciding once per interval on the signals the pool would report.
 *
 * Service model (fluid, FIFO): each ready replica finishes `perReplicaRate` items/s; items
 * arrive as the trace says and wait in one backlog. A new replica costs from the moment it is
 * asked for and serves after `coldStartS`; a removed one stops at once (starting ones go
 * first). An item arriving in second t waits for the backlog ahead of it, so its latency is
 * backlog / capacity + 1 / rate; a second whose arrivals would see more than `sloMs` (or no
 * replica at all) is a second of SLO violation.
 *
 * Signals per interval: CPU (busy fraction of the ready replicas), lag and pending (the
 * backlog at the decision), p99 (of the interval's arrivals' latencies, missing without a
 * ready replica), throughput (items finished per second), and per-replica readiness.
 */
import { checkInteger, checkNumber } from '../../option-checks.js';
import { configError } from '../../autoscale/errors.js';
import type { LoadTrace } from './traces.js';
import type { Autoscaler, AutoscaleSample } from '../../autoscale/types.js';

export type ServiceModel = {
  /** Items one ready replica finishes per second. */
  perReplicaRate: number;
  /** Seconds from asking for a replica to its serving (default 30). */
  coldStartS?: number;
  /** Seconds between decisions (default 15). */
  intervalS?: number;
  /** Latency bound of an item (default 2000 ms). */
  sloMs?: number;
  /** Replicas ready at the start. */
  initialReplicas: number;
};

export type SimulatedDecision = { t: number; from: number; to: number; reason: string };

/** One decision interval, for plots. */
export type SimulatedInterval = {
  /** The decision's second; the row describes the interval that ends there. */
  t: number;
  /** Items arriving per second over the interval. */
  arrivals: number;
  replicas: number;
  ready: number;
  backlog: number;
  p99Ms: number | null;
  /** Seconds of the interval that broke the SLO. */
  violationSeconds: number;
};

export type SimulationResult = {
  /** Replica-seconds paid for (starting replicas included). */
  replicaSeconds: number;
  /** Seconds in which arriving items would exceed the SLO. */
  sloViolationSeconds: number;
  /** Changes of scaling direction (up after down or down after up). */
  reversals: number;
  /** Per wake from zero: seconds from the first item waiting to the decision that wakes, and to a ready replica. */
  wakes: Array<{ decisionS: number; readyS: number }>;
  /** Items that arrived, that were finished, and that wait at the end. */
  items: { arrived: number; finished: number; waiting: number };
  decisions: SimulatedDecision[];
  intervals: SimulatedInterval[];
};

/** Runs `autoscaler` against `trace` under `service`; the same inputs give the same result. */
export function simulateAutoscaler(autoscaler: Autoscaler, trace: LoadTrace, service: ServiceModel): SimulationResult {
  const rate = checkNumber('perReplicaRate', service.perReplicaRate, Number.MIN_VALUE, 1e12, configError);
  const coldStartS = checkInteger('coldStartS', service.coldStartS ?? 30, 0, 86_400, configError);
  const intervalS = checkInteger('intervalS', service.intervalS ?? 15, 1, 86_400, configError);
  const sloS = checkNumber('sloMs', service.sloMs ?? 2000, Number.MIN_VALUE, 1e9, configError) / 1000;
  let ready = checkInteger('initialReplicas', service.initialReplicas, 0, 1_000_000, configError);

  /** Seconds at which each starting replica serves, soonest first. */
  let starting: number[] = [];
  let backlog = 0;
  const items = { arrived: 0, finished: 0, waiting: 0 };
  let replicaSeconds = 0;
  let violations = 0;
  let reversals = 0;
  let lastDirection = 0;
  const decisions: SimulatedDecision[] = [];
  const intervals: SimulatedInterval[] = [];
  const wakes: Array<{ decisionS: number; readyS: number }> = [];
  let waitingSince: number | undefined;
  let wokenAt: number | undefined;
  // Accumulators of the current interval.
  let busy = 0;
  let readySeconds = 0;
  let finished = 0;
  let arrived = 0;
  let slowSeconds = 0;
  let latencies: Array<[number, number]> = [];

  for (let t = 0; t < trace.rates.length; t++) {
    if (t > 0 && t % intervalS === 0) {
      const p99 = weightedQuantile(latencies, 0.99);
      const cpu = readySeconds > 0 ? busy / readySeconds : undefined;
      const replicas = ready + starting.length;
      const sample: AutoscaleSample = {
        now: t * 1000,
        replicas,
        metrics: { lag: backlog, pending: backlog, throughput: finished / intervalS },
        pods: [...Array.from({ length: ready }, () => ({ cpu, ready: true })), ...starting.map(() => ({ ready: false }))],
      };
      if (cpu !== undefined) sample.metrics.cpu = cpu;
      if (p99 !== undefined) sample.metrics.p99Ms = p99 * 1000;
      intervals.push({ t, arrivals: arrived / intervalS, replicas, ready, backlog, p99Ms: p99 === undefined ? null : p99 * 1000, violationSeconds: slowSeconds });
      const { replicas: wanted, reason } = autoscaler.decide(sample);
      if (wanted !== replicas) {
        decisions.push({ t, from: replicas, to: wanted, reason });
        const direction = Math.sign(wanted - replicas);
        if (lastDirection !== 0 && direction !== lastDirection) reversals++;
        lastDirection = direction;
        if (wanted > replicas) for (let k = replicas; k < wanted; k++) starting.push(t + coldStartS);
        else {
          let drop = replicas - wanted;
          const fromStarting = Math.min(drop, starting.length);
          starting = starting.slice(0, starting.length - fromStarting);
          drop -= fromStarting;
          ready -= drop;
        }
        if (replicas === 0 && wanted > 0 && waitingSince !== undefined) wokenAt = t;
      }
      busy = readySeconds = finished = arrived = slowSeconds = 0;
      latencies = [];
    }
    while (starting.length > 0 && starting[0] <= t) {
      starting.shift();
      ready++;
    }
    if (wokenAt !== undefined && waitingSince !== undefined && ready > 0) {
      wakes.push({ decisionS: wokenAt - waitingSince, readyS: t - waitingSince });
      wokenAt = waitingSince = undefined;
    }
    const capacity = ready * rate;
    const incoming = trace.rates[t];
    const done = Math.min(backlog + incoming, capacity);
    backlog += incoming - done;
    if (backlog < 1e-9) backlog = 0;
    items.arrived += incoming;
    items.finished += done;
    arrived += incoming;
    finished += done;
    busy += done / rate;
    readySeconds += ready;
    replicaSeconds += ready + starting.length;
    if (ready === 0 && backlog > 0) waitingSince ??= t;
    if (incoming > 0 || backlog > 0) {
      const latency = capacity > 0 ? backlog / capacity + 1 / rate : Infinity;
      if (latency > sloS) {
        violations++;
        slowSeconds++;
      }
      if (capacity > 0 && incoming > 0) latencies.push([latency, incoming]);
    }
  }
  items.waiting = backlog;
  return { replicaSeconds, sloViolationSeconds: violations, reversals, wakes, items, decisions, intervals };
}

/** The `q` quantile of values weighted by their counts; undefined for none. */
function weightedQuantile(points: Array<[number, number]>, q: number): number | undefined {
  const total = points.reduce((n, [, w]) => n + w, 0);
  if (total <= 0) return undefined;
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  let seen = 0;
  for (const [value, weight] of sorted) {
    seen += weight;
    if (seen >= q * total) return value;
  }
  return sorted.at(-1)![0];
}
