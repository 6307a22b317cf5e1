/**
 * Learning a node's call overhead and time per item from the calls it answered.
 *
 * Each answered call is a point (items k, time t); the estimate is the least-squares line
 * t = overhead + k·perItem through the recent points, older points weighing less by a constant
 * factor per call. A weak anchor at k = 0 (the prior overhead, or for a node nobody described the
 * first call's time shared equally between the overhead and each item) keeps the line defined
 * when every call had the same size, and keeps noisy calls of a few small sizes from tilting it
 * flat (all overhead, no time per item). When a call's time is far from the prediction the
 * history is mostly forgotten (twice in a row in the same direction: nearly all of it), so a node
 * that slows down 4× is re-learned within two or three calls instead of being averaged away.
 */

/** What the router believes of a node. */
export interface CostEstimate {
  /** Fixed time per call, in ms. */
  overheadMs: number;
  /** Time per item, in ms. */
  perItemMs: number;
  /**
   * The typical relative error of a prediction: a decaying mean of |ln(actual / predicted)|
   * (0.1 ≈ 10%). 1 for a node that has answered nothing and had no prior.
   */
  uncertainty: number;
  /** Answered calls seen. */
  observations: number;
  /**
   * Whether the caller said how far the node's calls stray (the prior's `uncertainty`), so that
   * `uncertainty` is the node's noise rather than a default or the first calls' guesses.
   */
  spreadDeclared: boolean;
  /**
   * How far the node's recent calls strayed from their predictions: the median |ln(actual /
   * predicted)| of the last five calls, once there are three (else undefined). Before a call of
   * another size pins the line, only calls of the size seen so far count (their prediction does
   * not hang on the guess of how overhead and time per item share it). Unlike `uncertainty`, the
   * first calls' guesses soon leave it.
   */
  recentError: number | undefined;
  /** The errors `recentError` is the median of, however few (the fleet pools them: `fleetNoise`). */
  recentErrors: readonly number[];
  /**
   * How surely the calls so far fix the time per item, for a node nobody described (undefined for
   * one given a prior): `perItemErrorMs` is the least-squares standard error of `perItemMs` per
   * unit of relative noise in the calls (multiply by the node's noise, as a standard deviation of
   * actual / predicted), and `pivotItems` the call size the line is surest at (the calls' weighted
   * mean size). `pinned`: calls of two sizes have been seen; before that the time per item is the
   * anchor's guess, and its error several times the estimate.
   */
  slope: { perItemErrorMs: number; pivotItems: number; pinned: boolean } | undefined;
  /** True once the node answered a call or was given a prior. */
  known: boolean;
  /** How many times a sustained change of speed made the estimator forget its history. */
  shifts: number;
}

/** A node's speed as the caller knows it beforehand. */
export interface CostPrior {
  overheadMs?: number;
  perItemMs?: number;
  /** The typical relative error of predictions from this prior (default 0.15). */
  uncertainty?: number;
}

/** Tuning of the estimator; the defaults suit calls of milliseconds to minutes. */
export interface EstimatorOptions {
  /** Weight kept by older points at each new call (default 0.8: a half-life of about three calls). */
  decay?: number;
  /** A prediction off by more than this factor is a surprise (default 1.5). */
  surpriseRatio?: number;
}

const ANCHOR_WEIGHT = 0.05;
const PRIOR_WEIGHT = 1;
const PRIOR_ITEMS = 10;
const SOFT_FORGET = 0.3;
const SURPRISE_PER_UNCERTAINTY = 2.5;
const HARD_FORGET = 0.02;
const UNCERTAINTY_RATE = 0.3;
const PRIOR_UNCERTAINTY = 0.15;
const FIRST_ANSWER_UNCERTAINTY = 0.5;
const MIN_PER_ITEM_MS = 1e-6;
const MAX_LOG_RESCALE = Math.log(10);
const RECENT_CALLS = 5;
const RECENT_MIN = 3;

/**
 * The time per item of the weighted least-squares line through calls summarised by their sums
 * (weights, weighted sizes, sizes², times, sizes × times); undefined while the sizes are too
 * nearly all the same to tell it from the overhead.
 */
function fittedPerItem(w: number, wk: number, wkk: number, wt: number, wkt: number): number | undefined {
  const det = w * wkk - wk * wk;
  return det > 1e-9 * w * wkk ? (w * wkt - wk * wt) / det : undefined;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

/** Decayed least-squares estimate of one node's overhead and per-item time. */
export class CostEstimator {
  /** Sums over remembered calls, each weighted by its decay weight / time² (errors are relative). */
  #w = 0;
  #wk = 0;
  #wt = 0;
  #wkk = 0;
  #wkt = 0;
  /** Sum of the plain decay weights, to put the anchor on the same scale. */
  #plain = 0;
  #anchor: number;
  #overheadMs: number;
  #perItemMs: number;
  #perItemErrorMs = Infinity;
  #pivotItems = 0;
  #uncertainty: number;
  #observations = 0;
  #known: boolean;
  readonly #spreadDeclared: boolean;
  readonly #described: boolean;
  /** |ln(actual / predicted)| of the last RECENT_CALLS calls that count (see `recentError`). */
  readonly #recent: number[] = [];
  /** The size of the first call answered (the first kept: see `observe`). */
  #firstSize: number | undefined;
  /** Whether a call of another size has pinned the line (a prior pins it from the start). */
  #pinned: boolean;
  #shifts = 0;
  #lastSurprise = 0;
  readonly #decay: number;
  readonly #surprise: number;

  constructor(prior?: CostPrior, options: EstimatorOptions = {}) {
    this.#decay = options.decay ?? 0.8;
    this.#surprise = Math.log(options.surpriseRatio ?? 1.5);
    this.#anchor = prior?.overheadMs ?? 0;
    this.#overheadMs = this.#anchor;
    this.#perItemMs = prior?.perItemMs ?? 1;
    this.#known = prior?.perItemMs !== undefined;
    this.#pinned = this.#known;
    this.#described = this.#known;
    this.#spreadDeclared = this.#known && prior?.uncertainty !== undefined;
    this.#uncertainty = this.#known ? (prior?.uncertainty ?? PRIOR_UNCERTAINTY) : 1;
    if (this.#known) {
      // Two pseudo-calls that pin the prior line; real calls outweigh them within a few answers.
      this.#add(1, this.#overheadMs + this.#perItemMs, PRIOR_WEIGHT);
      this.#add(PRIOR_ITEMS, this.#overheadMs + PRIOR_ITEMS * this.#perItemMs, PRIOR_WEIGHT);
    }
  }

  /** Predicted time of a call with `items` items, in ms. */
  predict(items: number): number {
    return this.#overheadMs + items * this.#perItemMs;
  }

  /** The current estimate. */
  estimate(): CostEstimate {
    return {
      overheadMs: this.#overheadMs,
      perItemMs: this.#perItemMs,
      uncertainty: this.#uncertainty,
      observations: this.#observations,
      spreadDeclared: this.#spreadDeclared,
      recentError: this.#recent.length >= RECENT_MIN ? median(this.#recent) : undefined,
      recentErrors: [...this.#recent],
      slope: this.#described || !this.#known ? undefined : { perItemErrorMs: this.#perItemErrorMs, pivotItems: this.#pivotItems, pinned: this.#pinned },
      known: this.#known,
      shifts: this.#shifts,
    };
  }

  /**
   * Takes an answered call of `items` items that took `ms`. Returns ln(actual / predicted) as it
   * was before this call (0 for the first call of an unknown node).
   */
  observe(items: number, ms: number): number {
    const predicted = this.predict(items);
    const error = this.#known ? Math.log(Math.max(ms, 1e-9) / Math.max(predicted, 1e-9)) : 0;
    // As noise, the miss counts against the calls alone: the anchor's slight pull on the line is
    // no noise, and noise-free calls would otherwise show it as errors of up to a few percent.
    const miss = this.#known ? Math.abs(Math.log(Math.max(ms, 1e-9) / this.#callsPrediction(items, predicted))) : 0;
    // Until calls of two sizes have been seen (or a prior drew the line), the line is a guess:
    // a miss then says how overhead and time per item share the time, not that the node changed.
    if (this.#known && this.#pinned) {
      // Noise the node has shown is no surprise: the threshold grows with its uncertainty.
      if (Math.abs(error) > Math.max(this.#surprise, SURPRISE_PER_UNCERTAINTY * this.#uncertainty)) {
        const sign = Math.sign(error);
        const sustained = sign === this.#lastSurprise;
        // Assume the node changed speed as a whole: what is kept of the history is rescaled by the
        // surprise, so one slow call of a different size is not read as a change of the line's
        // shape. The rescale is a guess (this call's noise is in it): the bigger the surprise, the
        // less of the rescaled history is kept, in either direction. One call rescales by at most
        // 10× either way: a node 100× faster is learned in two calls, and one absurd time cannot
        // wipe out every other.
        this.#rescale(Math.exp(Math.max(-MAX_LOG_RESCALE, Math.min(MAX_LOG_RESCALE, error))));
        this.#scale((sustained ? HARD_FORGET : SOFT_FORGET) * Math.exp(-2 * Math.abs(error)));
        if (sustained) this.#shifts += 1;
        this.#lastSurprise = sign;
      } else {
        this.#lastSurprise = 0;
      }
      this.#uncertainty += UNCERTAINTY_RATE * (Math.min(Math.abs(error), 2) - this.#uncertainty);
      this.#remember(miss);
    } else if (this.#known && items === this.#firstSize) {
      // Before the line is pinned, a call of the size seen so far misses by the node's noise
      // alone: how overhead and time per item share the time does not change its prediction.
      this.#remember(miss);
    } else if (!this.#known) {
      // The first answer of a node nobody described: its speed is now known to a rough degree.
      // One call cannot tell overhead from time per item, so the anchor guesses the overhead
      // costs as much as one item until calls of other sizes tell them apart.
      this.#uncertainty = FIRST_ANSWER_UNCERTAINTY;
      this.#anchor = ms / (items + 1);
    }
    if (this.#firstSize === undefined) {
      this.#firstSize = items;
    } else if (!this.#pinned && items !== this.#firstSize) {
      if ((ms - this.predict(this.#firstSize)) / (items - this.#firstSize) <= 0) {
        // More items in no more time (or fewer in no less): the calls so far cannot be on one line
        // with this one. The first calls to a node are the ones that pay for connections and warm
        // caches, so they go, and this call starts the node's history as a first call would.
        this.#scale(HARD_FORGET);
        this.#anchor = ms / (items + 1);
        this.#firstSize = items;
      } else {
        this.#pinned = true;
      }
    }
    this.#scale(this.#decay);
    this.#add(items, ms, 1);
    this.#observations += 1;
    this.#known = true;
    this.#solve();
    return error;
  }

  /**
   * Takes a call that was abandoned after `ms` (another node answered its items first): it would
   * have taken at least that long, which says something only when that is more than predicted.
   */
  observeAtLeast(items: number, ms: number): void {
    if (ms > this.predict(items)) this.observe(items, ms);
  }

  /**
   * What the calls alone (without the anchor) predict for `items`: their least-squares line, or
   * while they are all of one size their weighted mean time; `fallback` when they predict nothing
   * positive.
   */
  #callsPrediction(items: number, fallback: number): number {
    if (!(this.#w > 0)) return Math.max(fallback, 1e-9);
    const perItem = fittedPerItem(this.#w, this.#wk, this.#wkk, this.#wt, this.#wkt);
    const predicted = perItem === undefined ? this.#wt / this.#w : (this.#wt - perItem * this.#wk) / this.#w + perItem * items;
    return predicted > 0 ? predicted : Math.max(fallback, 1e-9);
  }

  #remember(miss: number): void {
    this.#recent.push(miss);
    if (this.#recent.length > RECENT_CALLS) this.#recent.shift();
  }

  #add(k: number, t: number, w: number): void {
    // Call times vary in proportion to their length, so each call weighs by 1 / time²: a short
    // call pins the overhead as firmly as a long one pins the time per item.
    const rel = w / Math.max(t, 1e-6) ** 2;
    this.#plain += w;
    this.#w += rel;
    this.#wk += rel * k;
    this.#wt += rel * t;
    this.#wkk += rel * k * k;
    this.#wkt += rel * k * t;
  }

  /**
   * Multiplies every remembered call time by `factor`, each call keeping its weight (weighing
   * them again by their new times would make a call that the rescale shortened count for more).
   */
  #rescale(factor: number): void {
    this.#wt *= factor;
    this.#wkt *= factor;
    this.#anchor *= factor;
  }

  #scale(factor: number): void {
    this.#plain *= factor;
    this.#w *= factor;
    this.#wk *= factor;
    this.#wt *= factor;
    this.#wkk *= factor;
    this.#wkt *= factor;
  }

  #solve(): void {
    const anchorWeight = this.#plain > 0 ? (ANCHOR_WEIGHT * this.#w) / this.#plain : ANCHOR_WEIGHT;
    const w = this.#w + anchorWeight;
    const wt = this.#wt + anchorWeight * this.#anchor;
    const det = w * this.#wkk - this.#wk * this.#wk;
    // Weights are 1 / time² (relative errors), so with relative noise σ the covariance of the fit
    // is σ² times the inverse of the weighted normal matrix, whose time-per-item entry is w / det.
    // The anchor counts as the weak pseudo-call it is: calls all of one size leave the time per
    // item to it, and its error is then several times the estimate.
    this.#perItemErrorMs = det > 0 ? Math.sqrt(w / det) : Infinity;
    this.#pivotItems = this.#w > 0 ? this.#wk / this.#w : 0;
    let perItem = fittedPerItem(w, this.#wk, this.#wkk, wt, this.#wkt) ?? this.#perItemMs;
    let overhead = (wt - perItem * this.#wk) / w;
    if (overhead < 0) {
      // A line through the origin: every call's time is items × perItem.
      overhead = 0;
      perItem = this.#wkk > 0 ? this.#wkt / this.#wkk : perItem;
    }
    if (!(perItem >= MIN_PER_ITEM_MS)) {
      // Calls took no longer with more items: the time is all overhead.
      perItem = MIN_PER_ITEM_MS;
      overhead = Math.max(0, (wt - perItem * this.#wk) / w);
    }
    this.#perItemMs = perItem;
    this.#overheadMs = overhead;
  }
}
