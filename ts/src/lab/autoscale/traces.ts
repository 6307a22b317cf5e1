/**
 * Load traces for the autoscaler simulator: items arriving per second, one value per second.
 * Each shape is relative to a base rate, with seeded multiplicative noise per second.
 */
import { checkInteger, checkNumber } from '../../option-checks.js';
import { seededRandom } from '../seeded-random.js';
import { configError } from '../../autoscale/errors.js';

/** The synthetic load shapes `makeTrace` draws. */
export const TRACE_SHAPES = ['flat', 'step', 'ramp', 'diurnal', 'bursty', 'spike', 'wake'] as const;
export type TraceShape = (typeof TRACE_SHAPES)[number];

export type LoadTrace = {
  name: string;
  /** Items arriving in each second. */
  rates: Float64Array;
};

export type TraceOptions = {
  /** Length in seconds (default 7200). */
  seconds?: number;
  /** Base arrival rate, items/s (default 100). */
  base?: number;
  /** Standard deviation of the per-second multiplicative noise (default 0.1). */
  noise?: number;
  seed?: number;
};

/**
 * The shape's rate, relative to the base, at second `t` of `n`:
 * - `flat`: 1;
 * - `step`: 1, then 3 from a third of the way;
 * - `ramp`: 1 rising linearly to 5 over the middle half, then held;
 * - `diurnal`: two days in the trace, from 0.2 at night to 1.8 at noon;
 * - `bursty`: 1, and each minute a 15% chance of a burst of 4 for 30-120 s;
 * - `spike`: 1, and 20 for 2 minutes from a third of the way;
 * - `wake`: nothing, then 1 for 10 minutes from a third of the way, then nothing (scale-to-zero).
 */
function shape(kind: TraceShape, n: number, random: () => number): Float64Array {
  const out = new Float64Array(n);
  const third = Math.floor(n / 3);
  switch (kind) {
    case 'flat':
      out.fill(1);
      break;
    case 'step':
      for (let t = 0; t < n; t++) out[t] = t < third ? 1 : 3;
      break;
    case 'ramp':
      for (let t = 0; t < n; t++) out[t] = 1 + 4 * Math.min(1, Math.max(0, (t - n / 4) / (n / 2)));
      break;
    case 'diurnal':
      for (let t = 0; t < n; t++) out[t] = 1 - 0.8 * Math.cos((4 * Math.PI * t) / n);
      break;
    case 'bursty': {
      out.fill(1);
      for (let minute = 0; minute * 60 < n; minute++) {
        if (random() >= 0.15) continue;
        const start = minute * 60 + Math.floor(random() * 60);
        const length = 30 + Math.floor(random() * 91);
        for (let t = start; t < Math.min(n, start + length); t++) out[t] = 4;
      }
      break;
    }
    case 'spike':
      for (let t = 0; t < n; t++) out[t] = t >= third && t < third + 120 ? 20 : 1;
      break;
    case 'wake':
      for (let t = 0; t < n; t++) out[t] = t >= third && t < third + 600 ? 1 : 0;
      break;
  }
  return out;
}

/** A standard normal draw (Box–Muller). */
function gaussian(random: () => number): number {
  const u = Math.max(random(), Number.MIN_VALUE);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Builds a trace of `kind`; throws `ERR_AUTOSCALE_CONFIG` on a bad option. */
export function makeTrace(kind: TraceShape, options: TraceOptions = {}): LoadTrace {
  if (!(TRACE_SHAPES as readonly string[]).includes(kind)) throw configError(`trace must be one of ${TRACE_SHAPES.join(', ')}, got ${JSON.stringify(kind)}`);
  const seconds = checkInteger('seconds', options.seconds ?? 7200, 1, 31 * 86_400, configError);
  const base = checkNumber('base', options.base ?? 100, 0, 1e9, configError);
  const noise = checkNumber('noise', options.noise ?? 0.1, 0, 2, configError);
  const random = seededRandom(checkInteger('seed', options.seed ?? 1, 0, 2 ** 32 - 1, configError));
  const rates = shape(kind, seconds, random);
  for (let t = 0; t < seconds; t++) rates[t] = Math.max(0, base * rates[t] * (1 + noise * gaussian(random)));
  return { name: kind, rates };
}

/** A trace from recorded rates (items per second, one per second); each must be a finite number ≥ 0. */
export function traceOf(name: string, rates: ArrayLike<unknown>): LoadTrace {
  if (rates.length === 0) throw configError(`trace ${name} has no rates`);
  const out = new Float64Array(rates.length);
  for (let t = 0; t < rates.length; t++) out[t] = checkNumber(`trace ${name}: rate at second ${t}`, rates[t], 0, 1e12, configError);
  return { name, rates: out };
}
