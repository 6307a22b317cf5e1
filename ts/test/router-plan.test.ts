import { describe, expect, it } from 'vitest';

import { equalSplitMs, finishMsOf, fractionalFinishMs } from '../src/router/plan.js';
import { expectedFinishMs, planSplit, planSplitUnderNoise, type NodeCost } from '../src/router/index.js';
import { itemsWithinMs } from '../src/router/plan.js';
import { seededRandom } from '../src/lab/seeded-random.js';

/** Every way to put `items` items on `nodes` nodes (optionally at least one each): the best finish time. */
function bruteForce(costs: NodeCost[], items: number, minEach = 0): number {
  let best = Infinity;
  const counts = costs.map(() => 0);
  const walk = (node: number, left: number): void => {
    if (node === costs.length - 1) {
      if (left < minEach) return;
      counts[node] = left;
      best = Math.min(best, finishMsOf(costs, counts));
      return;
    }
    for (let c = minEach; c <= left; c++) {
      counts[node] = c;
      walk(node + 1, left - c);
    }
  };
  walk(0, items);
  return best;
}

function randomCosts(random: () => number, n: number): NodeCost[] {
  return Array.from({ length: n }, () => ({
    overheadMs: random() < 0.3 ? 0 : Math.round(random() * 200),
    perItemMs: Math.round(1 + random() * 50 * (random() < 0.5 ? 1 : 10)),
    readyInMs: random() < 0.3 ? Math.round(random() * 100) : 0,
  }));
}

describe('planSplit', () => {
  it('matches brute force on small cases, for any subset, one node and every node', () => {
    const random = seededRandom(42);
    for (let trial = 0; trial < 300; trial++) {
      const nodes = 1 + Math.floor(random() * 4);
      const items = 1 + Math.floor(random() * 9);
      const costs = randomCosts(random, nodes);
      const auto = planSplit(costs, items);
      expect(auto.counts.reduce((a, b) => a + b, 0)).toBe(items);
      expect(auto.finishMs).toBeCloseTo(bruteForce(costs, items), 9);
      expect(auto.finishMs).toBeGreaterThanOrEqual(fractionalFinishMs(costs, items) - 1e-9);
      const sequential = planSplit(costs, items, 'sequential');
      expect(sequential.used).toBe(1);
      expect(sequential.finishMs).toBeCloseTo(Math.min(...costs.map((c) => finishMsOf([c], [items]))), 9);
      if (items >= nodes) {
        const parallel = planSplit(costs, items, 'parallel');
        expect(parallel.counts.every((c) => c >= 1)).toBe(true);
        expect(parallel.counts.reduce((a, b) => a + b, 0)).toBe(items);
        expect(parallel.finishMs).toBeCloseTo(bruteForce(costs, items, 1), 9);
      }
    }
  });

  it("finds 8.4 s for the tool's example where its rules take 10 s", () => {
    const costs = [
      { overheadMs: 0, perItemMs: 100 },
      { overheadMs: 0, perItemMs: 1000 },
      { overheadMs: 0, perItemMs: 1000 },
    ];
    const plan = planSplit(costs, 100);
    expect(plan.counts).toEqual([84, 8, 8]);
    expect(plan.finishMs).toBe(8400);
    expect(fractionalFinishMs(costs, 100)).toBeCloseTo(8333.33, 1);
    expect(equalSplitMs(costs, 100)).toBe(33_000);
  });

  it('leaves out a node whose overhead alone outlasts the others', () => {
    const costs = [
      { overheadMs: 10, perItemMs: 10 },
      { overheadMs: 10, perItemMs: 10 },
      { overheadMs: 5000, perItemMs: 1 },
    ];
    const plan = planSplit(costs, 100);
    expect(plan.counts[2]).toBe(0);
    expect(plan.used).toBe(2);
    expect(plan.finishMs).toBe(510);
  });

  it('stays exact for large batches on many nodes (sum of counts, no node over the finish time)', () => {
    const random = seededRandom(7);
    const costs = randomCosts(random, 64);
    const plan = planSplit(costs, 100_000);
    expect(plan.counts.reduce((a, b) => a + b, 0)).toBe(100_000);
    // Optimality certificate: no single item can move to a node that would finish it earlier.
    const cheapestNext = Math.min(...costs.map((c, i) => (c.readyInMs ?? 0) + c.overheadMs + (plan.counts[i]! + 1) * c.perItemMs));
    expect(cheapestNext).toBeGreaterThanOrEqual(plan.finishMs - 1e-6);
    expect(plan.finishMs).toBeGreaterThanOrEqual(fractionalFinishMs(costs, 100_000) - 1e-6);
  });

  it('handles empty batches and no nodes', () => {
    expect(planSplit([{ overheadMs: 1, perItemMs: 1 }], 0)).toEqual({ counts: [0], finishMs: 0, used: 0 });
    expect(planSplit([], 5).finishMs).toBe(Infinity);
  });
});

describe('itemsWithinMs', () => {
  it('counts the whole items each node finishes in one call within the window, overhead first', () => {
    const nodes: NodeCost[] = [
      { overheadMs: 20, perItemMs: 10 },
      { overheadMs: 20, perItemMs: 500, readyInMs: 1e6 },
      { overheadMs: 300, perItemMs: 1 },
    ];
    // 220 ms: 20 + 20 x 10 on the first; the second not one item; the third's overhead outlasts it.
    expect(itemsWithinMs(nodes, 220)).toBe(20);
    // 520 ms: 50 + 1 + 220; what keeps a node busy now does not count against it.
    expect(itemsWithinMs(nodes, 520)).toBe(50 + 1 + 220);
    expect(itemsWithinMs(nodes, 0)).toBe(0);
    expect(itemsWithinMs([], 1000)).toBe(0);
  });
});

describe('planSplitUnderNoise', () => {
  it('is planSplit without spreads, and drops a slow node carrying a sliver once nodes are noisy', () => {
    const costs: NodeCost[] = [
      { overheadMs: 0, perItemMs: 10 },
      { overheadMs: 0, perItemMs: 500 },
    ];
    const plain = planSplit(costs, 1000);
    expect(plain.used).toBe(2);
    expect(planSplitUnderNoise(costs, 1000, [0, 0])).toEqual(plain);
    // ±30% on each: the slow node's ~20 items would finish anywhere in ±3 s around the fast
    // node's finish; alone, the fast node finishes 2% later but is never waited for.
    const noisy = planSplitUnderNoise(costs, 1000, [0.3, 0.3]);
    expect(noisy.counts).toEqual([1000, 0]);
    expect(expectedFinishMs(costs, noisy.counts, [0.3, 0.3])).toBeLessThan(expectedFinishMs(costs, plain.counts, [0.3, 0.3]));
    // Equal nodes keep sharing: each one carries enough to pay for its risk.
    const equal = Array.from({ length: 4 }, () => ({ overheadMs: 5, perItemMs: 10 }));
    expect(planSplitUnderNoise(equal, 400, [0.3, 0.3, 0.3, 0.3]).used).toBe(4);
  });

  it('never expects worse than the plain optimum, on random clusters', () => {
    const random = seededRandom(17);
    for (let trial = 0; trial < 200; trial++) {
      const n = 2 + Math.floor(random() * 7);
      const costs = Array.from({ length: n }, () => ({ overheadMs: random() * 100, perItemMs: 1 + random() * 100, readyInMs: random() < 0.3 ? random() * 200 : 0 }));
      const spreads = costs.map(() => random() * 0.6);
      const items = 1 + Math.floor(random() * 500);
      const chosen = planSplitUnderNoise(costs, items, spreads);
      expect(chosen.counts.reduce((a, b) => a + b, 0)).toBe(items);
      expect(expectedFinishMs(costs, chosen.counts, spreads)).toBeLessThanOrEqual(expectedFinishMs(costs, planSplit(costs, items).counts, spreads) + 1e-9);
    }
  });

  it('integrates the expected latest finish as sampling it does, waits included', () => {
    const costs: NodeCost[] = [
      { overheadMs: 10, perItemMs: 3, readyInMs: 40 },
      { overheadMs: 30, perItemMs: 5 },
      { overheadMs: 0, perItemMs: 8 },
    ];
    const counts = [30, 20, 12];
    const spreads = [0.2, 0.5, 0];
    const random = seededRandom(5);
    let sum = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      let latest = 0;
      costs.forEach((c, j) => {
        const f = 1 + spreads[j]! * (2 * random() - 1);
        latest = Math.max(latest, c.overheadMs + (c.readyInMs ?? 0) + counts[j]! * c.perItemMs * f);
      });
      sum += latest;
    }
    expect(expectedFinishMs(costs, counts, spreads) / (sum / n)).toBeCloseTo(1, 3);
    expect(expectedFinishMs(costs, counts, [0, 0, 0])).toBeCloseTo(finishMsOf(costs, counts), 9);
  });
});
