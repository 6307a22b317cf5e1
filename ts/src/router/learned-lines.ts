/**
 * How the planner reads the lines the estimators learned. A line fitted to a few noisy calls is
 * surest near the sizes those calls had; further out, its time per item is a guess. Sending a
 * node more items than it was ever seen with, on that guess, is what makes a learned router late
 * where one given the true speeds is not.
 */
import { median, type CostEstimate } from './estimator.js';

/** A call's time as overhead + items × per-item time, in ms. */
export interface CostLine {
  overheadMs: number;
  perItemMs: number;
}

/**
 * A median |ln(actual / predicted)| of m is a standard deviation of about 1.15 m when calls stray
 * uniformly around their prediction and 1.48 m when they stray normally; 1.25 sits between.
 */
const NOISE_PER_MEDIAN_ERROR = 1.25;

/**
 * The fleet's noise: the median of every node's recent errors pooled (a node called three times
 * since its line was pinned says little alone; the fleet's calls together say more). 0 until
 * three calls have counted, and for a fleet that has shown no noise.
 */
export function fleetNoise(estimates: readonly CostEstimate[]): number {
  const errors = estimates.flatMap((e) => e.recentErrors);
  return errors.length >= 3 ? median(errors) : 0;
}

/** How many of the fleet's errors a node's own recent errors are weighed against (see `noiseOf`). */
const FLEET_PSEUDO_CALLS = 5;

/**
 * A node's noise, as a median |ln(actual / predicted)|: the median of its own recent errors,
 * weighed against the fleet's as if the fleet had FLEET_PSEUDO_CALLS calls more (the median of a
 * handful of errors is itself a rough figure; a node lucky in its last calls would otherwise be
 * taken as exact). The fleet's alone for a node with none.
 */
export function noiseOf(e: CostEstimate, fleetNoiseLevel: number): number {
  const own = e.recentErrors.length;
  if (own === 0) return fleetNoiseLevel;
  return (own * median(e.recentErrors) + FLEET_PSEUDO_CALLS * fleetNoiseLevel) / (own + FLEET_PSEUDO_CALLS);
}

/** A node's noise as a standard deviation of ln(actual / predicted). */
function sigma(e: CostEstimate, fleetNoiseLevel: number): number {
  return NOISE_PER_MEDIAN_ERROR * noiseOf(e, fleetNoiseLevel);
}

/** How many standard errors apart two nodes' times per item must be to count as different. */
const DISTINCT_AT = 2;

interface Learned {
  /** ln of the time per item. */
  x: number;
  /** Variance of `x` (the relative standard error of the time per item, squared). */
  v: number;
}

/**
 * The lines the planner should use for these estimates. Each learned time per item is first drawn
 * toward the nodes it cannot be told apart from (those within two standard errors of it, itself
 * included): toward their precision-weighted mean, by how much of their scatter their own errors
 * explain (an empirical-Bayes shrinkage; nodes that scatter no more than their errors would make
 * them are taken as equal). Eight equal nodes learned from a few noisy calls each come out
 * slightly different, and a plan on those differences is lopsided; a fast node among slow ones is
 * far outside their errors and keeps its own. Then each line is made cautious ({@link
 * cautiousLine}) with what error is left. Lines keep their prediction at the call size they are
 * surest at. Without noise, every line is as learned.
 */
export function planningLines(estimates: readonly CostEstimate[]): CostLine[] {
  const noise = fleetNoise(estimates);
  const learned: (Learned | undefined)[] = estimates.map((e) => {
    const noiseSd = sigma(e, noise);
    // A line not yet pinned by calls of two sizes rests on the anchor's guess, which every such
    // node shares: its error does not average out over them.
    if (!e.slope?.pinned || !(noiseSd > 0) || !(e.perItemMs > 0)) return undefined;
    const relative = (noiseSd * e.slope.perItemErrorMs) / e.perItemMs;
    return Number.isFinite(relative) && relative > 0 ? { x: Math.log(e.perItemMs), v: relative * relative } : undefined;
  });
  return estimates.map((e, i) => {
    const own = learned[i];
    if (!own) return cautiousLine(e, noise);
    // The nodes this one cannot be told apart from, and how they scatter beyond their errors.
    let weights = 0;
    let weighted = 0;
    const near: Learned[] = [];
    for (const other of learned) {
      if (!other || Math.abs(other.x - own.x) > DISTINCT_AT * Math.sqrt(own.v + other.v)) continue;
      near.push(other);
      weights += 1 / other.v;
      weighted += other.x / other.v;
    }
    const centre = weighted / weights;
    let scatter = 0;
    let errors = 0;
    for (const other of near) {
      scatter += (other.x - centre) ** 2;
      errors += other.v;
    }
    const between = near.length > 1 ? Math.max(0, scatter / (near.length - 1) - errors / near.length) : Infinity;
    // Shrunk: x' = centre + k (x − centre), k = between / (between + v); what is left of the
    // error: v·k, or, when the nodes are taken as equal, the error of their mean.
    const keep = Number.isFinite(between) ? between / (between + own.v) : 1;
    const x = centre + keep * (own.x - centre);
    const left = keep > 0 ? own.v * keep : 1 / weights;
    const perItemMs = Math.exp(x);
    const pivot = e.slope!.pivotItems;
    const overheadMs = Math.max(0, e.overheadMs + (e.perItemMs - perItemMs) * pivot);
    return tilt({ overheadMs, perItemMs }, Math.sqrt(left) * perItemMs, pivot);
  });
}

/**
 * A learned line made cautious where its calls leave it unsure: the time per item raised by one
 * standard error (with the node's noise as `noiseOf` weighs it against the fleet's), turned about
 * the call size the line is surest at, so that predictions there stay and larger calls come out
 * slower; at most as far as a line through the origin (no overhead). A node seen only with one
 * item is then not sent two on the anchor's guess that half its time was overhead. Nodes described
 * by a prior, and fleets that show no noise, keep their line.
 */
export function cautiousLine(e: CostEstimate, fleetNoiseLevel: number): CostLine {
  const noise = sigma(e, fleetNoiseLevel);
  if (!e.slope || !(noise > 0)) return { overheadMs: e.overheadMs, perItemMs: e.perItemMs };
  return tilt(e, noise * e.slope.perItemErrorMs, e.slope.pivotItems);
}

/** `line` with its time per item raised by `raiseMs` about `pivot` items, at most to a line through the origin. */
function tilt(line: CostLine, raiseMs: number, pivot: number): CostLine {
  const raise = Math.min(raiseMs, line.overheadMs / Math.max(pivot, 1e-9));
  return { overheadMs: Math.max(0, line.overheadMs - raise * pivot), perItemMs: line.perItemMs + raise };
}
