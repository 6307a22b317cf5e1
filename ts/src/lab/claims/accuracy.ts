/**
 * How well predictions match measurements: relative error per cell, mean absolute percentage
 * error, the worst cell, and Spearman's rank correlation (does the model order configurations
 * as the measurements do?).
 */
import { seededRandom } from '../seeded-random.js';
import { claimsError } from '../../claims/errors.js';

/** predicted / measured − 1 (0.1: the prediction is 10% high). */
export function relativeError(predicted: number, measured: number): number {
  if (!(measured > 0) || !Number.isFinite(predicted)) {
    throw claimsError('ERR_CLAIMS_INPUT', `relative error needs a positive measurement and a finite prediction, got ${predicted} vs ${measured}`);
  }
  return predicted / measured - 1;
}

/** Mean absolute percentage error, as a fraction (0.1 = 10%). */
export function mape(pairs: ReadonlyArray<{ predicted: number; measured: number }>): number {
  if (pairs.length === 0) throw claimsError('ERR_CLAIMS_INPUT', 'MAPE needs at least one pair');
  return pairs.reduce((s, p) => s + Math.abs(relativeError(p.predicted, p.measured)), 0) / pairs.length;
}

/** Ranks 1..n, ties sharing their mean rank. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k][1]] = rank;
    i = j + 1;
  }
  return out;
}

/** Spearman's ρ: the Pearson correlation of the ranks (ties averaged); NaN when a side is constant. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length < 2) {
    throw claimsError('ERR_CLAIMS_INPUT', `Spearman's rho needs two series of the same length (at least 2), got ${a.length} and ${b.length}`);
  }
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (a.length + 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < ra.length; i++) {
    const x = ra[i] - mean;
    const y = rb[i] - mean;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** The middle value (the mean of the two middle ones for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The median item by `key`: the middle one, the lower of the middle two for an even count (the run a grid cell keeps). */
export function lowerMedianBy<T>(xs: readonly T[], key: (x: T) => number): T {
  const s = [...xs].sort((a, b) => key(a) - key(b));
  return s[(s.length - 1) >> 1];
}

const keptMedian = (xs: readonly number[]) => lowerMedianBy(xs, (x) => x);

/** A held-out cell's repeats and those of the same settings with one worker. */
export type RepeatedCell = { throughputs: readonly number[]; oneWorker: readonly number[] };

/** What the measurement's scatter alone makes of the error figures (see `noiseFloor`). */
export type NoiseFloor = {
  mape: number;
  speedupError: number;
  /** The worst cell's throughput error (absolute), on average over the resamples. */
  worst: number;
  resamples: number;
};

/**
 * The MAPE, worst cell and mean speedup error that a model predicting every cell's true
 * throughput exactly would still show against these measurements, from their scatter alone:
 * each cell's repeats (and its one-worker cell's) are resampled with replacement, a resample's
 * median run standing for another measurement of the same cell and the median run of all of
 * them for the truth (the bootstrap, seeded, so a report's floor is the same every time it is
 * worked out). A model's error near its floor cannot be told from noise; a target below the
 * floor cannot be shown on that host with that many repeats. `null` when no cell has two repeats.
 */
export function noiseFloor(cells: readonly RepeatedCell[], options: { resamples?: number; seed?: number } = {}): NoiseFloor | null {
  const resamples = options.resamples ?? 1000;
  if (!Number.isInteger(resamples) || resamples < 1) throw claimsError('ERR_CLAIMS_INPUT', `resamples must be a positive integer, got ${resamples}`);
  if (cells.length === 0) throw claimsError('ERR_CLAIMS_INPUT', 'a noise floor needs at least one cell');
  for (const c of cells) {
    for (const t of [...c.throughputs, ...c.oneWorker]) {
      if (!(t > 0) || !Number.isFinite(t)) throw claimsError('ERR_CLAIMS_INPUT', `throughputs must be positive and finite, got ${t}`);
    }
    if (c.throughputs.length === 0 || c.oneWorker.length === 0) throw claimsError('ERR_CLAIMS_INPUT', 'every cell needs at least one run, and so does its one-worker cell');
  }
  if (cells.every((c) => c.throughputs.length < 2 && c.oneWorker.length < 2)) return null;
  const random = seededRandom(options.seed ?? 1);
  const resample = (xs: readonly number[]) => keptMedian(xs.map(() => xs[Math.floor(random() * xs.length)]));
  let throughputError = 0;
  let speedupError = 0;
  // Resample i of every cell makes one whole run of the grid: its worst cell.
  const worst = new Float64Array(resamples);
  for (const c of cells) {
    const truth = keptMedian(c.throughputs);
    const speedup = truth / keptMedian(c.oneWorker);
    for (let i = 0; i < resamples; i++) {
      const many = resample(c.throughputs);
      const one = resample(c.oneWorker);
      const error = Math.abs(many / truth - 1);
      throughputError += error;
      worst[i] = Math.max(worst[i], error);
      speedupError += Math.abs(many / one - speedup);
    }
  }
  const n = cells.length * resamples;
  return { mape: throughputError / n, speedupError: speedupError / n, worst: worst.reduce((a, b) => a + b, 0) / resamples, resamples };
}
