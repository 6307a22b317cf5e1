/** What an autoscaler is told at each decision and what it answers. */

/** Signals of one decision interval. A signal left out is missing for this interval. */
export type AutoscaleMetrics = {
  /** Mean CPU utilisation of the ready replicas, 0..1 of their request (may exceed 1). */
  cpu?: number;
  /** Messages waiting in the pool's input (consumer lag), in all. */
  lag?: number;
  /** 99th percentile latency of the interval (ms). */
  p99Ms?: number;
  /** Requests or jobs waiting, in all. */
  pending?: number;
  /**
   * Items the pool finished per second over the interval. With it, a policy can measure what
   * one replica drains and what arrives (throughput plus the growth of lag).
   */
  throughput?: number;
};

/** One replica as the metrics pipeline sees it (for HPA's missing-metric and not-ready rules). */
export type ReplicaSample = {
  /** CPU utilisation of its request; undefined when its metric is missing. */
  cpu?: number;
  /** False while it starts (not ready): its CPU does not count, and on a scale-up it counts as 0. */
  ready?: boolean;
};

export type AutoscaleSample = {
  /** Epoch ms (or any clock in ms); never goes backwards. */
  now: number;
  /** Replicas running now. */
  replicas: number;
  metrics: AutoscaleMetrics;
  /** Per-replica detail, when known; `metrics.cpu` is then derived from it. */
  pods?: ReplicaSample[];
};

export type AutoscaleDecision = {
  /** Replicas to run from now on. */
  replicas: number;
  /** Why, in words: the signal that decided and any limit that applied. */
  reason: string;
};

/** Per-replica targets: what one replica should carry. */
export type AutoscaleTargets = {
  /** CPU utilisation per replica (0..1 of its request). */
  cpu?: number;
  /** Lag per replica (messages). */
  lag?: number;
  /** p99 latency (ms) of the pool. */
  p99Ms?: number;
  /** Pending requests per replica. */
  pending?: number;
};

/** A stateful policy: call `decide` once per decision interval. */
export interface Autoscaler {
  readonly preset: string;
  decide(sample: AutoscaleSample): AutoscaleDecision;
}
