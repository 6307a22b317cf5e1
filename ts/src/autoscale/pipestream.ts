/**
 * The `pipestream` preset: a streaming platform's published scaling model, as rules.
 *
 * Pools: `engine` (2–10, never zero), `cpu` modules (1–20) and `gpu` modules (0–5). Scale up
 * one replica when CPU has been above 70% for 5 minutes, consumer lag is above 1000 messages
 * or p99 is above 500 ms (engine); modules scale up on more than 10 pending, or p99 above 2 s
 * (CPU) or 10 s (GPU). Up quickly (60 s cooldown after any change), down slowly (300 s). GPU
 * modules go to zero after 5 minutes idle and wake on pending work.
 *
 * Where the model is silent, our reading: a step is one replica; a scale-down takes one when
 * no scale-up rule fires, the cooldown has passed, and the remaining replicas would still be
 * under the CPU threshold (otherwise it would undo itself), so not without CPU; the wake from
 * zero ignores cooldowns; and a missing signal fires no rule.
 */
import { Type } from 'typebox';

import { configError } from './errors.js';
import { BoundsSchema, checkBounds, checkSample, optionsCheck, pct, readyReplicas, round, Seconds } from './sample.js';
import type { Autoscaler, AutoscaleDecision, AutoscaleSample } from './types.js';

export type PipestreamPool = 'engine' | 'cpu' | 'gpu';

/** The thresholds and timings of one pool. A threshold left out is not a rule of that pool. */
export type PipestreamRules = {
  min: number;
  max: number;
  /** CPU utilisation above which, held for `cpuForS`, the pool grows. */
  cpu: number;
  cpuForS: number;
  lag?: number;
  pending?: number;
  p99Ms: number;
  /** Seconds after any change before the next scale-up. */
  upCooldownS: number;
  /** Seconds after any change before the next scale-down. */
  downCooldownS: number;
  /** Idle seconds (nothing pending, no lag) before going to zero; only for pools with min 0. */
  idleToZeroS?: number;
};

const COMMON = { cpu: 0.7, cpuForS: 300, upCooldownS: 60, downCooldownS: 300 };

/** The reference pipeline's rules for each pool (engine, cpu, gpu): thresholds, how long they must hold, cooldowns. */
export const PIPESTREAM_POOLS: Record<PipestreamPool, PipestreamRules> = {
  engine: { ...COMMON, min: 2, max: 10, lag: 1000, p99Ms: 500 },
  cpu: { ...COMMON, min: 1, max: 20, pending: 10, p99Ms: 2000 },
  gpu: { ...COMMON, min: 0, max: 5, pending: 10, p99Ms: 10_000, idleToZeroS: 300 },
};

export type PipestreamOptions = { pool?: PipestreamPool } & Partial<PipestreamRules>;

const Threshold = (maximum: number) => Type.Number({ exclusiveMinimum: 0, maximum });
/** A pool's rules after the options are laid over its defaults. */
const checkRules = optionsCheck(
  Type.Object({
    ...BoundsSchema,
    cpu: Threshold(10),
    cpuForS: Type.Number({ minimum: 0, maximum: 86_400 }),
    lag: Type.Optional(Type.Number({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    pending: Type.Optional(Type.Number({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    p99Ms: Threshold(Number.MAX_SAFE_INTEGER),
    upCooldownS: Type.Number({ minimum: 0, maximum: 86_400 }),
    downCooldownS: Type.Number({ minimum: 0, maximum: 86_400 }),
    idleToZeroS: Seconds(),
  }),
);

/** The reference pipeline's threshold rules: scale up on sustained CPU or pending work, down after a cooldown, to zero when idle. */
export class Pipestream implements Autoscaler {
  readonly preset = 'pipestream';
  readonly rules: PipestreamRules;
  private lastNow = -Infinity;
  private lastChange = -Infinity;
  /** Since when CPU has been above its threshold (undefined: it is not). */
  private hotSince: number | undefined;
  /** Since when the pool has been idle. */
  private idleSince: number | undefined;

  constructor(options: PipestreamOptions = {}) {
    const pool = options.pool ?? 'engine';
    if (!(pool in PIPESTREAM_POOLS)) throw configError(`pool must be one of ${Object.keys(PIPESTREAM_POOLS).join(', ')}, got ${JSON.stringify(pool)}`);
    const { pool: _pool, ...overrides } = options;
    const rules = checkRules({ ...PIPESTREAM_POOLS[pool], ...overrides }) as PipestreamRules;
    const { min, max } = checkBounds(rules.min, rules.max);
    if (rules.idleToZeroS !== undefined && min !== 0) throw configError(`options.idleToZeroS needs options.min 0 (min is ${min})`);
    this.rules = { ...rules, min, max };
  }

  decide(sample: AutoscaleSample): AutoscaleDecision {
    const { now, replicas } = checkSample(sample, this.lastNow);
    this.lastNow = now;
    const r = this.rules;
    const m = sample.metrics;
    const queued = (m.pending ?? 0) + (m.lag ?? 0);
    const cpu = readyReplicas(sample) > 0 ? m.cpu : undefined;
    if (cpu !== undefined && cpu > r.cpu) this.hotSince ??= now;
    else this.hotSince = undefined;
    if (queued === 0 && (cpu === undefined || cpu === 0)) this.idleSince ??= now;
    else this.idleSince = undefined;

    if (replicas < r.min) return this.change(now, r.min, `below min ${r.min}`);
    if (replicas > r.max) return this.change(now, r.max, `above max ${r.max}`);
    if (replicas === 0) {
      if (queued > 0) return this.change(now, 1, `wake: ${round(queued)} waiting with no replica`);
      return { replicas: 0, reason: 'idle at zero' };
    }
    const fired = this.upRules(sample, now, cpu);
    if (fired.length > 0) {
      if (replicas >= r.max) return { replicas, reason: `${fired.join(', ')}; held at max ${r.max}` };
      const wait = this.lastChange + r.upCooldownS * 1000 - now;
      if (wait > 0) return { replicas, reason: `${fired.join(', ')}; up cooldown, ${round(wait / 1000)} s left` };
      return this.change(now, replicas + 1, `${fired.join(', ')} → +1`);
    }
    if (r.idleToZeroS !== undefined && this.idleSince !== undefined && now - this.idleSince >= r.idleToZeroS * 1000) {
      return this.change(now, 0, `idle for ${round((now - this.idleSince) / 1000)} s → 0`);
    }
    if (replicas <= Math.max(r.min, 1)) return { replicas, reason: `no rule fires; at min ${r.min}` };
    const wait = this.lastChange + r.downCooldownS * 1000 - now;
    if (wait > 0) return { replicas, reason: `no rule fires; down cooldown, ${round(wait / 1000)} s left` };
    if (cpu === undefined) return { replicas, reason: 'no rule fires; no scale-down without CPU to check it against' };
    if ((cpu * replicas) / (replicas - 1) > r.cpu) {
      return { replicas, reason: `no rule fires; ${replicas - 1} replicas would run at ${pct((cpu * replicas) / (replicas - 1))} CPU` };
    }
    return this.change(now, replicas - 1, 'no rule fires; cooldown passed → -1');
  }

  /** The scale-up rules that fire, in words. */
  private upRules(sample: AutoscaleSample, now: number, cpu: number | undefined): string[] {
    const r = this.rules;
    const m = sample.metrics;
    const fired: string[] = [];
    if (cpu !== undefined && this.hotSince !== undefined && now - this.hotSince >= r.cpuForS * 1000) {
      fired.push(`cpu ${pct(cpu)} above ${pct(r.cpu)} for ${round((now - this.hotSince) / 1000)} s`);
    }
    if (r.lag !== undefined && m.lag !== undefined && m.lag > r.lag) fired.push(`lag ${round(m.lag)} above ${r.lag}`);
    if (r.pending !== undefined && m.pending !== undefined && m.pending > r.pending) fired.push(`pending ${round(m.pending)} above ${r.pending}`);
    if (m.p99Ms !== undefined && m.p99Ms > r.p99Ms) fired.push(`p99 ${round(m.p99Ms)} ms above ${r.p99Ms} ms`);
    return fired;
  }

  private change(now: number, replicas: number, reason: string): AutoscaleDecision {
    this.lastChange = now;
    return { replicas, reason };
  }
}
