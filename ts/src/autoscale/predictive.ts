/**
 * The `predictive` preset, fleetscale's own: sizes the pool from what arrives and what one
 * replica drains, both measured, instead of from a utilisation ratio.
 *
 * Each interval it measures
 * - the drain rate of one replica, μ: throughput / (ready replicas × CPU), what a replica
 *   would do at 100% (or throughput / ready while a backlog keeps them saturated and CPU is
 *   not reported), smoothed;
 * - the arrival rate, λ = throughput + growth of the backlog (lag or pending) per second,
 *   smoothed (a jump is followed at once), and its trend: the slope fitted to the last
 *   `trendWindowS` less two standard errors, so that noise alone adds nothing;
 * and asks for the replicas that carry λ at the target utilisation, the growth expected over
 * `leadS` (a cold start and an interval), and the backlog drained within `drainS`:
 *
 *     replicas = ⌈(λ + max(0, trend) × leadS + backlog / drainS) / (μ × target)⌉
 *
 * (the lag-growth rule). Until μ has been measured, it falls back to proportional rules on
 * CPU and on lag per replica, and does not add to replicas still starting (their first
 * interval measures μ; the window then forgets the fallback's guesses). A p99 above its
 * target adds a replica when the rule would hold, and blocks a scale-down.
 * Up at once, beyond a tolerance; down only to the highest recommendation of `downWindowS`,
 * with the tolerance as headroom, so noise does not turn into reversals. With min 0 it goes to
 * zero after `idleToZeroS` idle, and any backlog at zero wakes it at the next decision.
 */
import { Type } from 'typebox';

import { configError } from './errors.js';
import { BoundsSchema, checkBounds, checkSample, checkTargets, optionsCheck, pct, readyReplicas, round, Seconds } from './sample.js';
import type { Autoscaler, AutoscaleDecision, AutoscaleSample, AutoscaleTargets } from './types.js';

export type PredictiveOptions = {
  min: number;
  max: number;
  /** `cpu`: the utilisation to plan at (default 0.7); `lag`, `pending`: per replica, for the fallback; `p99Ms`: a latency bound. */
  targets?: AutoscaleTargets;
  /** Seconds within which a backlog should be drained (default 30). */
  drainS?: number;
  /** Seconds ahead the trend is followed: a cold start plus an interval (default 60). */
  leadS?: number;
  /** A scale-down goes only as low as the highest recommendation of this window (default 300 s, as HPA's). */
  downWindowS?: number;
  /** Relative headroom against noise: no scale-up within it, and it is kept on a scale-down (default 0.1). */
  tolerance?: number;
  /** Seconds idle (no backlog, no throughput) before going to zero; needs min 0 (default 300). */
  idleToZeroS?: number;
  /** Weight of the newest measurement in the smoothed rates (default 0.5). */
  smoothing?: number;
  /** Seconds from one step down to the next: the pool shrinks in stages, so capacity a burst needed stays a while for the next (default 300). */
  downStepS?: number;
  /** Seconds of measured arrival rates the trend is fitted to (default 120). */
  trendWindowS?: number;
};

const DEFAULT_UTILISATION = 0.7;

const checkPredictiveOptions = optionsCheck(
  Type.Object({
    ...BoundsSchema,
    targets: Type.Optional(Type.Unknown()),
    drainS: Seconds(1),
    leadS: Seconds(),
    downWindowS: Seconds(),
    tolerance: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    idleToZeroS: Seconds(),
    smoothing: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    downStepS: Seconds(),
    trendWindowS: Seconds(1),
  }),
);

/** Scales on the lag and its growth: enough replicas to drain the backlog within the SLO at the rate it is arriving, before latency shows it. */
export class Predictive implements Autoscaler {
  readonly preset = 'predictive';
  private readonly min: number;
  private readonly max: number;
  private readonly targets: AutoscaleTargets;
  private readonly utilisation: number;
  private readonly drainS: number;
  private readonly leadS: number;
  private readonly downWindowS: number;
  private readonly tolerance: number;
  private readonly idleToZeroS: number;
  private readonly smoothing: number;
  private readonly trendWindowS: number;
  private readonly downStepS: number;

  private lastNow = -Infinity;
  private lastBacklog: number | undefined;
  /** Smoothed drain rate of one replica (items/s at 100%). */
  private drain: number | undefined;
  private arrivals: number | undefined;
  /** Measured arrival rates of the trend window, for the trend's regression. */
  private history: Array<{ at: number; arrivals: number }> = [];
  private recommendations: Array<{ at: number; replicas: number }> = [];
  private idleSince: number | undefined;
  private lastDown = -Infinity;

  constructor(options: PredictiveOptions) {
    const o = checkPredictiveOptions(options);
    ({ min: this.min, max: this.max } = checkBounds(o.min, o.max));
    this.targets = checkTargets(options.targets);
    this.utilisation = this.targets.cpu ?? DEFAULT_UTILISATION;
    if (this.utilisation > 1) throw configError(`targets.cpu plans a utilisation; it must be at most 1, got ${this.utilisation}`);
    this.drainS = o.drainS ?? 30;
    this.leadS = o.leadS ?? 60;
    this.downWindowS = o.downWindowS ?? 300;
    this.tolerance = o.tolerance ?? 0.1;
    this.idleToZeroS = o.idleToZeroS ?? 300;
    this.smoothing = o.smoothing ?? 0.5;
    this.downStepS = o.downStepS ?? 300;
    this.trendWindowS = o.trendWindowS ?? 120;
  }

  decide(sample: AutoscaleSample): AutoscaleDecision {
    const { now, replicas } = checkSample(sample, this.lastNow);
    const dtS = (now - this.lastNow) / 1000;
    this.lastNow = now;
    const m = sample.metrics;
    const ready = readyReplicas(sample);
    const backlog = m.lag ?? m.pending;
    this.measure(now, m.throughput, m.cpu, backlog, ready, dtS);

    // Idle: nothing waiting and nothing done (as far as the signals tell; none tell nothing).
    const idle = (backlog !== undefined || m.throughput !== undefined) && (backlog ?? 0) === 0 && (m.throughput ?? 0) === 0 && (m.cpu ?? 0) === 0;
    if (idle) this.idleSince ??= now;
    else this.idleSince = undefined;

    if (replicas === 0) {
      if ((backlog ?? 0) > 0) {
        const wake = Math.min(this.max, Math.max(1, this.min, this.proposal(backlog ?? 0, m, 0).replicas));
        return this.decided(now, wake, `wake: ${round(backlog!)} waiting with no replica → ${wake}`, true);
      }
      if (this.min > 0) return this.decided(now, this.min, `below min ${this.min}`, true);
      return { replicas: 0, reason: 'idle at zero' };
    }
    if (this.min === 0 && this.idleSince !== undefined && now - this.idleSince >= this.idleToZeroS * 1000) {
      return this.decided(now, 0, `idle for ${round((now - this.idleSince) / 1000)} s → 0`, false);
    }

    const proposal = this.proposal(backlog ?? 0, m, ready);
    let { replicas: wanted, reason } = proposal;
    if (!proposal.measured && ready < replicas && wanted > replicas) {
      // Without a rate, a backlog says little about how many more: wait for the starting ones.
      this.remember(now, replicas);
      return { replicas, reason: `${reason}; waiting for ${replicas - ready} starting replicas to measure a drain rate` };
    }
    // A p99 above its target adds a replica when the rule would hold, and blocks a scale-down
    // (the interval's latency may still be a backlog's that more replicas already drain).
    const slow = this.targets.p99Ms !== undefined && m.p99Ms !== undefined && m.p99Ms > this.targets.p99Ms;
    if (slow && wanted === replicas) {
      wanted = replicas + 1;
      reason += `; p99 ${round(m.p99Ms!)} ms above ${round(this.targets.p99Ms!)} ms → ${wanted}`;
    }
    const floor = Math.max(this.min, 1);
    wanted = Math.min(this.max, Math.max(floor, wanted));
    // What the pool could shrink to, with headroom, remembered for the down window.
    const keep = Math.min(this.max, Math.max(floor, Math.ceil(proposal.raw * (1 + this.tolerance) - 1e-9), wanted > replicas ? wanted : 0));
    this.remember(now, keep);
    if (wanted > replicas) {
      if (proposal.raw <= replicas * (1 + this.tolerance) && wanted === proposal.replicas) return { replicas, reason: `${reason}; within tolerance of ${replicas}` };
      return this.decided(now, wanted, reason + (wanted === this.max ? `; capped at max ${this.max}` : ''), true);
    }
    if (!proposal.complete) return { replicas, reason: `${reason}; no scale-down while a signal it needs is missing` };
    if (slow && proposal.replicas < replicas) return { replicas, reason: `${reason}; no scale-down while p99 ${round(m.p99Ms!)} ms is above ${round(this.targets.p99Ms!)} ms` };
    const lowest = Math.max(...this.recommendations.map((r) => r.replicas));
    if (lowest < replicas) {
      if (now < this.lastDown + this.downStepS * 1000) return { replicas, reason: `${reason}; the last step down was ${round((now - this.lastDown) / 1000)} s ago` };
      this.lastDown = now;
      return this.decided(now, lowest, `${reason}; highest of the last ${round(this.downWindowS)} s is ${lowest}`, false);
    }
    return { replicas, reason: proposal.replicas < replicas ? `${reason}; held at ${replicas} by the last ${round(this.downWindowS)} s` : `${reason}; holding ${replicas}` };
  }

  /** Updates the drain rate, the arrival rate and its trend from this interval's signals. */
  private measure(now: number, throughput: number | undefined, cpu: number | undefined, backlog: number | undefined, ready: number, dtS: number): void {
    const a = this.smoothing;
    if (throughput !== undefined && ready > 0) {
      let perReplica: number | undefined;
      if (cpu !== undefined && cpu >= 0.05) perReplica = throughput / (ready * Math.min(cpu, 1));
      else if (cpu === undefined && (backlog ?? 0) > 0) perReplica = throughput / ready;
      if (perReplica !== undefined && perReplica > 0) {
        // The fallback's recommendations were guesses without a rate: the window forgets them.
        if (this.drain === undefined) this.recommendations = [];
        this.drain = this.drain === undefined ? perReplica : this.drain + a * (perReplica - this.drain);
      }
    }
    if (throughput !== undefined && backlog !== undefined && this.lastBacklog !== undefined && dtS > 0 && Number.isFinite(dtS)) {
      const arrivals = Math.max(0, throughput + (backlog - this.lastBacklog) / dtS);
      this.history = this.history.filter((h) => h.at > now - this.trendWindowS * 1000);
      this.history.push({ at: now, arrivals });
      this.arrivals = this.arrivals === undefined ? arrivals : this.arrivals + a * (arrivals - this.arrivals);
      // A jump is followed at once: smoothing is for noise, not for bursts.
      if (arrivals > this.arrivals * (1 + 2 * this.tolerance)) this.arrivals = arrivals;
    }
    this.lastBacklog = backlog;
  }

  /** The lag-growth rule, or the proportional fallback until rates are measured. */
  private proposal(backlog: number, m: AutoscaleSample['metrics'], ready: number): { replicas: number; raw: number; reason: string; complete: boolean; measured: boolean } {
    const hasBacklog = m.lag !== undefined || m.pending !== undefined;
    if (this.drain !== undefined && this.arrivals !== undefined) {
      const perReplica = this.drain * this.utilisation;
      const growth = this.growthRate() * this.leadS;
      const raw = (this.arrivals + growth + backlog / this.drainS) / perReplica;
      const replicas = Math.ceil(raw - 1e-9);
      const parts = [`arrivals ${round(this.arrivals)}/s`];
      if (growth > 0) parts.push(`+${round(growth)}/s by trend`);
      if (backlog > 0) parts.push(`backlog ${round(backlog)} over ${round(this.drainS)} s`);
      const complete = m.throughput !== undefined && hasBacklog;
      return { replicas, raw, complete, measured: true, reason: `${parts.join(', ')}; a replica drains ${round(this.drain)}/s, planned at ${pct(this.utilisation)} → ${replicas}` };
    }
    let raw = 0;
    const why: string[] = [];
    if (m.cpu !== undefined && ready > 0) {
      raw = Math.max(raw, (ready * m.cpu) / this.utilisation);
      why.push(`cpu ${pct(m.cpu)} of ${ready} for ${pct(this.utilisation)}`);
    }
    const perReplica = this.targets.lag ?? this.targets.pending;
    if (perReplica !== undefined && backlog > 0) {
      raw = Math.max(raw, backlog / perReplica);
      why.push(`backlog ${round(backlog)} for ${round(perReplica)} per replica`);
    }
    const replicas = Math.ceil(raw - 1e-9);
    const complete = m.cpu !== undefined && (perReplica === undefined || hasBacklog);
    return { replicas, raw, complete, measured: false, reason: `${why.length ? why.join(', ') : 'no rate measured yet'} → ${replicas}` };
  }

  /**
   * The arrival rate's growth (items/s per s) that the trend window shows beyond its noise:
   * the least-squares slope less two standard errors, or 0. Noise alone rarely clears it.
   */
  private growthRate(): number {
    const h = this.history;
    if (h.length < 3) return 0;
    const n = h.length;
    const mx = h.reduce((s, p) => s + p.at, 0) / n / 1000;
    const my = h.reduce((s, p) => s + p.arrivals, 0) / n;
    let sxx = 0;
    let sxy = 0;
    for (const p of h) {
      sxx += (p.at / 1000 - mx) ** 2;
      sxy += (p.at / 1000 - mx) * (p.arrivals - my);
    }
    if (sxx === 0) return 0;
    const slope = sxy / sxx;
    let sse = 0;
    for (const p of h) sse += (p.arrivals - my - slope * (p.at / 1000 - mx)) ** 2;
    const standardError = Math.sqrt(sse / (n - 2) / sxx);
    return Math.max(0, slope - 2 * standardError);
  }

  private remember(now: number, replicas: number): void {
    const cutoff = now - this.downWindowS * 1000;
    this.recommendations = this.recommendations.filter((r) => r.at > cutoff);
    this.recommendations.push({ at: now, replicas });
  }

  /**
   * A scale-up (a wake or a min too) stands for the window, as if recommended; a scale-down
   * follows the window's recommendations down as they age out.
   */
  private decided(now: number, replicas: number, reason: string, up: boolean): AutoscaleDecision {
    if (up) this.remember(now, replicas);
    return { replicas, reason };
  }
}
