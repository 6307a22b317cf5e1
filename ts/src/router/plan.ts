/**
 * Splitting N items over nodes so that the batch finishes as early as possible.
 *
 * A node i that is sent n ≥ 1 items in one call finishes after `o_i + n·a_i`, where `o_i` is its
 * per-call overhead plus the time until it is free (`readyInMs`) and `a_i` its time per item; a
 * node sent nothing finishes at 0. The batch's finish time is the latest node's.
 *
 * Relaxed to fractional items, the optimum has every used node finish together:
 * `T = (N + Σ o_i/a_i) / Σ 1/a_i` over the used set, and a node helps exactly when `o_i < T`, so
 * the used set is a prefix of the nodes sorted by `o_i` (a node left out while one with a larger
 * overhead is in could join and lower T). With whole items, the best finish time is the N-th
 * smallest of the values `o_i + k·a_i` (k ≥ 1) over all nodes, since each node's values increase
 * with k: taking the N smallest gives every node a count and the largest one taken is the finish
 * time. The planner takes the fractional optimum's floors (all at or below T, at most one item
 * short per used node) and then the few smallest values left, so it is exact in O(P log P)
 * whatever N is.
 */

/** What the planner needs to know of one node. */
export interface NodeCost {
  /** Fixed time of one call, in ms (latency, request set-up, model warm-up). */
  overheadMs: number;
  /** Time per item, in ms (> 0). */
  perItemMs: number;
  /** Time until the node is free to start, in ms (0 when idle). */
  readyInMs?: number;
}

/** A split of a batch. */
export interface SplitPlan {
  /** Items for each node, in the order of the costs given. */
  counts: number[];
  /** When the last node finishes, in ms from now. */
  finishMs: number;
  /** How many nodes get at least one item. */
  used: number;
}

/** Which nodes a plan may use. */
export type PlanMode = 'auto' | 'sequential' | 'parallel';

const MIN_PER_ITEM_MS = 1e-9;

function offsetOf(cost: NodeCost): number {
  return Math.max(0, cost.overheadMs) + Math.max(0, cost.readyInMs ?? 0);
}

function perItemOf(cost: NodeCost): number {
  return Math.max(MIN_PER_ITEM_MS, cost.perItemMs);
}

/**
 * The finish time of the fractional relaxation: a lower bound of any split's finish time, reached
 * when items divide evenly. `Infinity` without nodes.
 */
export function fractionalFinishMs(costs: readonly NodeCost[], items: number): number {
  if (items <= 0) return 0;
  const order = costs.map((_, i) => i).sort((x, y) => offsetOf(costs[x]!) - offsetOf(costs[y]!));
  let rates = 0;
  let weighted = 0;
  let best = Infinity;
  for (const i of order) {
    const o = offsetOf(costs[i]!);
    if (o >= best) break;
    const a = perItemOf(costs[i]!);
    rates += 1 / a;
    weighted += o / a;
    best = (items + weighted) / rates;
  }
  return best;
}

/** Finish time of node i holding `count` items. */
function finishOf(cost: NodeCost, count: number): number {
  return count > 0 ? offsetOf(cost) + count * perItemOf(cost) : 0;
}

/** The latest finish over nodes for the given counts. */
export function finishMsOf(costs: readonly NodeCost[], counts: readonly number[]): number {
  let finish = 0;
  for (let i = 0; i < costs.length; i++) finish = Math.max(finish, finishOf(costs[i]!, counts[i] ?? 0));
  return finish;
}

/**
 * Hands out `remaining` items one by one, each to the node whose finish time after taking it is
 * the smallest. Starting from counts whose finishes are all at or below the optimum, this takes
 * exactly the smallest values left, which keeps the plan optimal.
 */
function fillSmallest(costs: readonly NodeCost[], counts: number[], remaining: number): void {
  for (let r = 0; r < remaining; r++) {
    let pick = -1;
    let pickFinish = Infinity;
    for (let i = 0; i < costs.length; i++) {
      const next = offsetOf(costs[i]!) + (counts[i]! + 1) * perItemOf(costs[i]!);
      if (next < pickFinish) {
        pickFinish = next;
        pick = i;
      }
    }
    counts[pick]! += 1;
  }
}

/** Takes items back from the latest-finishing nodes (floating-point guard; never below `floor`). */
function trimExcess(costs: readonly NodeCost[], counts: number[], excess: number, floor: number): void {
  for (let r = 0; r < excess; r++) {
    let pick = -1;
    let pickFinish = -Infinity;
    for (let i = 0; i < costs.length; i++) {
      if (counts[i]! <= floor) continue;
      const finish = finishOf(costs[i]!, counts[i]!);
      if (finish > pickFinish) {
        pickFinish = finish;
        pick = i;
      }
    }
    counts[pick]! -= 1;
  }
}

function summarise(costs: readonly NodeCost[], counts: number[]): SplitPlan {
  return { counts, finishMs: finishMsOf(costs, counts), used: counts.filter((c) => c > 0).length };
}

/** The best split over any subset of the nodes. */
function planAuto(costs: readonly NodeCost[], items: number): SplitPlan {
  const finish = fractionalFinishMs(costs, items);
  const counts = costs.map((cost) => {
    const room = (finish - offsetOf(cost)) / perItemOf(cost);
    return room >= 1 ? Math.floor(room) : 0;
  });
  const assigned = counts.reduce((sum, c) => sum + c, 0);
  if (assigned > items) trimExcess(costs, counts, assigned - items, 0);
  else fillSmallest(costs, counts, items - assigned);
  return summarise(costs, counts);
}

/** The best single node: everything in one call to the node that finishes it first. */
function planSequential(costs: readonly NodeCost[], items: number): SplitPlan {
  let pick = 0;
  for (let i = 1; i < costs.length; i++) {
    if (finishOf(costs[i]!, items) < finishOf(costs[pick]!, items)) pick = i;
  }
  const counts = costs.map((_, i) => (i === pick ? items : 0));
  return summarise(costs, counts);
}

/** The best split that gives every node at least one item (or the `items` quickest nodes one each). */
function planParallel(costs: readonly NodeCost[], items: number): SplitPlan {
  if (items < costs.length) {
    const order = costs.map((_, i) => i).sort((x, y) => finishOf(costs[x]!, 1) - finishOf(costs[y]!, 1));
    const counts = costs.map(() => 0);
    for (const i of order.slice(0, items)) counts[i] = 1;
    return summarise(costs, counts);
  }
  // Water-fill over the nodes that get more than their one item; the others are pinned at one.
  const pinned = new Set<number>();
  let finish = 0;
  for (;;) {
    let rates = 0;
    let weighted = 0;
    for (let i = 0; i < costs.length; i++) {
      if (pinned.has(i)) continue;
      rates += 1 / perItemOf(costs[i]!);
      weighted += offsetOf(costs[i]!) / perItemOf(costs[i]!);
    }
    finish = rates > 0 ? (items - pinned.size + weighted) / rates : 0;
    let grew = false;
    for (let i = 0; i < costs.length; i++) {
      if (!pinned.has(i) && finishOf(costs[i]!, 1) > finish) {
        pinned.add(i);
        grew = true;
      }
    }
    if (!grew) break;
  }
  const counts = costs.map((cost, i) => (pinned.has(i) ? 1 : Math.max(1, Math.floor((finish - offsetOf(cost)) / perItemOf(cost)))));
  const assigned = counts.reduce((sum, c) => sum + c, 0);
  if (assigned > items) trimExcess(costs, counts, assigned - items, 1);
  else fillSmallest(costs, counts, items - assigned);
  return summarise(costs, counts);
}

/**
 * Splits `items` over the nodes to minimise the finish time: `auto` picks the best subset (one
 * node, all of them or any in between), `sequential` the best single node, `parallel` uses every
 * node. Exact for whole items; O(P log P) in the number of nodes, independent of `items`.
 */
export function planSplit(costs: readonly NodeCost[], items: number, mode: PlanMode = 'auto'): SplitPlan {
  if (items <= 0 || costs.length === 0) return { counts: costs.map(() => 0), finishMs: items <= 0 ? 0 : Infinity, used: 0 };
  if (mode === 'sequential') return planSequential(costs, items);
  if (mode === 'parallel') return planParallel(costs, items);
  return planAuto(costs, items);
}

/**
 * The items dealt out evenly over every node (the usual default); the few left over go to the
 * nodes that finish one more item first, as a fair dealer would.
 */
export function equalSplitCounts(costs: readonly NodeCost[], items: number): number[] {
  const per = Math.floor(items / costs.length);
  const extra = items - per * costs.length;
  const counts = costs.map(() => per);
  const order = costs.map((_, i) => i).sort((x, y) => finishOf(costs[x]!, per + 1) - finishOf(costs[y]!, per + 1));
  for (const i of order.slice(0, extra)) counts[i]! += 1;
  return counts;
}

/**
 * How many items `nodes` could finish within `windowMs` between them, each in one call of its own
 * (its overhead, then its time per item; whatever keeps it busy now is left out): what a held-back
 * tail that takes one node `windowMs` could hand to the others once they are free.
 */
export function itemsWithinMs(nodes: readonly NodeCost[], windowMs: number): number {
  let items = 0;
  for (const n of nodes) items += Math.max(0, Math.floor((windowMs - Math.max(0, n.overheadMs)) / perItemOf(n)));
  return items;
}

/** The finish time of {@link equalSplitCounts}. */
export function equalSplitMs(costs: readonly NodeCost[], items: number): number {
  return finishMsOf(costs, equalSplitCounts(costs, items));
}

/**
 * The expected finish time of a split when node i's work (its items, not its overhead) takes a
 * factor uniform in [1 − spreads[i], 1 + spreads[i]] of its estimate, independently: the latest
 * node's finish is a maximum, so the expectation is `L + ∫_L^U (1 − Π F_i(t)) dt` between the
 * latest earliest finish L and the latest latest finish U (Simpson's rule on `steps` steps; the
 * integrand is a piecewise polynomial, so 4096 give it to rounding).
 */
export function expectedFinishMs(costs: readonly NodeCost[], counts: readonly number[], spreads: readonly number[], steps = 4096): number {
  const spans: { lo: number; hi: number }[] = [];
  for (let i = 0; i < costs.length; i++) {
    const k = counts[i] ?? 0;
    if (k <= 0) continue;
    const work = k * perItemOf(costs[i]!);
    const spread = Math.min(1, Math.max(0, spreads[i] ?? 0));
    spans.push({ lo: offsetOf(costs[i]!) + work * (1 - spread), hi: offsetOf(costs[i]!) + work * (1 + spread) });
  }
  if (spans.length === 0) return 0;
  let lower = 0;
  let upper = 0;
  for (const s of spans) {
    lower = Math.max(lower, s.lo);
    upper = Math.max(upper, s.hi);
  }
  if (!(upper > lower)) return lower;
  const running = (t: number): number => {
    let allDone = 1;
    for (const s of spans) if (s.hi > s.lo) allDone *= Math.min(1, Math.max(0, (t - s.lo) / (s.hi - s.lo)));
    return 1 - allDone;
  };
  const n = steps + (steps % 2);
  const h = (upper - lower) / n;
  let sum = running(lower) + running(upper);
  for (let j = 1; j < n; j++) sum += (j % 2 ? 4 : 2) * running(lower + j * h);
  return lower + (sum * h) / 3;
}

/** How many subsets short of the plain optimum {@link planSplitUnderNoise} weighs at most. */
const MAX_RISK_CANDIDATES = 12;

/**
 * The split with the least expected finish time ({@link expectedFinishMs}) when each node's time
 * per item may stray by up to `spreads[i]`. The plain optimum has every used node finish together,
 * so under noise each one it adds is one more chance to finish late: a node that would carry a
 * sliver of the batch can cost more than it saves. The candidates are the optimal splits over the
 * nodes with the m largest shares of the plain optimum (m = 1, 2, …, every used node; at most
 * twelve values of m, spaced geometrically beyond eight); without spreads this is `planSplit`.
 */
export function planSplitUnderNoise(costs: readonly NodeCost[], items: number, spreads: readonly number[], steps = 512): SplitPlan {
  return weighSubsets(costs, items, spreads, planSplit(costs, items), steps);
}

/** {@link planSplitUnderNoise} from the plain optimum `plain`, already worked out. */
function weighSubsets(costs: readonly NodeCost[], items: number, spreads: readonly number[], plain: SplitPlan, steps: number): SplitPlan {
  if (plain.used <= 1 || !spreads.some((x) => x > 0)) return plain;
  const byShare = plain.counts
    .map((count, i) => ({ count, i }))
    .filter((x) => x.count > 0)
    .sort((x, y) => y.count - x.count)
    .map((x) => x.i);
  let best = plain;
  let bestExpected = expectedFinishMs(costs, plain.counts, spreads, steps);
  // m = 1, 2, …, 8, then × 1.5, short of every used node (the plain optimum itself).
  let candidates = 0;
  for (let m = 1; m < byShare.length && candidates < MAX_RISK_CANDIDATES; m = m < 8 ? m + 1 : Math.ceil(m * 1.5), candidates++) {
    const subset = byShare.slice(0, m);
    const sub = planSplit(
      subset.map((i) => costs[i]!),
      items,
    );
    const counts = costs.map(() => 0);
    subset.forEach((i, j) => (counts[i] = sub.counts[j]!));
    const expected = expectedFinishMs(costs, counts, spreads, steps);
    if (expected < bestExpected) {
      bestExpected = expected;
      best = summarise(costs, counts);
    }
  }
  return best;
}

/**
 * The plan a router runs: `planSplit` in `sequential` or `parallel` mode; in `auto` mode the split
 * with the least expected finish time under the nodes' spreads ({@link planSplitUnderNoise}),
 * unless the plain optimum gives items to a node not yet `measured`, which keeps its share so
 * that it gets measured. `plain`: the plain optimum, when the caller has it already.
 */
export function planUnderNoise(
  costs: readonly NodeCost[],
  items: number,
  mode: PlanMode,
  spreads: readonly number[],
  measured: readonly boolean[],
  plain: SplitPlan = planSplit(costs, items, mode),
): SplitPlan {
  if (mode !== 'auto' || plain.counts.some((count, i) => count > 0 && !measured[i])) return plain;
  return weighSubsets(costs, items, spreads, plain, 512);
}
