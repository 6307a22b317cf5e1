/** Checks shared by every preset: a `decide()` sample, targets, and how reasons print numbers. */
import { checkInteger, checkNumber } from '../option-checks.js';
import { configError, inputError } from './errors.js';
import type { AutoscaleSample, AutoscaleTargets } from './types.js';

/** The signals a sample may carry. */
export const SIGNALS = ['cpu', 'lag', 'p99Ms', 'pending', 'throughput'] as const;
/** The signals a target may be set for. */
const TARGETED = ['cpu', 'lag', 'p99Ms', 'pending'] as const;

/** Checks a sample's shape and that time does not go backwards. */
export function checkSample(sample: AutoscaleSample, lastNow: number): { now: number; replicas: number } {
  if (typeof sample !== 'object' || sample === null) throw inputError('decide() takes { now, replicas, metrics }');
  checkNumber('now', sample.now, -Number.MAX_VALUE, Number.MAX_VALUE, inputError);
  if (sample.now < lastNow) throw inputError(`now went backwards: ${sample.now} after ${lastNow}`);
  checkInteger('replicas', sample.replicas, 0, 1_000_000, inputError);
  if (typeof sample.metrics !== 'object' || sample.metrics === null) throw inputError('metrics must be an object (signals missing this interval are left out)');
  for (const [key, value] of Object.entries(sample.metrics)) {
    if (!(SIGNALS as readonly string[]).includes(key)) throw inputError(`metrics.${key} is not a signal (${SIGNALS.join(', ')})`);
    if (value !== undefined) checkNumber(`metrics.${key}`, value, 0, Number.MAX_VALUE, inputError);
  }
  if (sample.pods !== undefined) {
    if (!Array.isArray(sample.pods) || sample.pods.length !== sample.replicas) throw inputError(`pods must list each of the ${sample.replicas} replicas`);
    sample.pods.forEach((p, i) => {
      if (p.cpu !== undefined) checkNumber(`pods[${i}].cpu`, p.cpu, 0, Number.MAX_VALUE, inputError);
      if (p.ready !== undefined && typeof p.ready !== 'boolean') throw inputError(`pods[${i}].ready must be a boolean`);
    });
  }
  return { now: sample.now, replicas: sample.replicas };
}

/** Replicas that serve now: those not marked not-ready (all of them without `pods`). */
export function readyReplicas(sample: AutoscaleSample): number {
  return sample.pods ? sample.pods.filter((p) => p.ready !== false).length : sample.replicas;
}

/** Checks `targets` (each a positive number, only known signals); returns them. */
export function checkTargets(targets: AutoscaleTargets | undefined): AutoscaleTargets {
  const out = targets ?? {};
  if (typeof out !== 'object' || out === null) throw configError('targets must be an object');
  for (const key of Object.keys(out)) {
    if (!(TARGETED as readonly string[]).includes(key)) throw configError(`targets.${key} is not a signal (${TARGETED.join(', ')})`);
    const value = out[key as keyof AutoscaleTargets];
    if (value !== undefined) checkNumber(`targets.${key}`, value, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER, configError);
  }
  return out;
}

/** `min` and `max` replicas of a pool, checked. */
export function checkBounds(min: unknown, max: unknown): { min: number; max: number } {
  const lo = checkInteger('min', min, 0, 100_000, configError);
  return { min: lo, max: checkInteger('max', max, Math.max(1, lo), 100_000, configError) };
}

export const round = (v: number): string => (Math.round(v * 100) / 100).toString();
export const pct = (v: number): string => `${Math.round(v * 1000) / 10}%`;
