import { describe, expect, it } from 'vitest';

import { FlockRouter, SimCluster, flockEstimate, flockHealthScore, flockRules, flockStats, flockWorkers, type FlockNodeStats } from '../src/lab/index.js';

/** A node that answered `requests` requests of `seconds` each. */
function measured(id: string, seconds: number, requests = 10, extra: Partial<FlockNodeStats> = {}): FlockNodeStats {
  return flockStats(id, { requests, totalSeconds: seconds * requests, ...extra });
}

describe('flockRules (the embedding tool rule table)', () => {
  it('goes sequential with one node', () => {
    expect(flockRules([measured('a', 0.1)], 500)).toMatchObject({ parallel: false, reason: 'single_node' });
  });

  it('goes sequential on a dominant node (ratio >= 5), whatever the batch size', () => {
    const decision = flockRules([measured('gpu', 0.1), measured('cpu', 0.9)], 1000);
    expect(decision).toMatchObject({ parallel: false, reason: 'dominant_node', recommendedNode: 'gpu', fastest: 'gpu' });
    expect(decision.speedRatio).toBeCloseTo(10 / 1.1111, 3);
  });

  it('goes sequential on small batches (< 20 items)', () => {
    expect(flockRules([measured('a', 0.1), measured('b', 0.12)], 19)).toMatchObject({ parallel: false, reason: 'small_batch' });
    expect(flockRules([measured('a', 0.1), measured('b', 0.12)], 20)).toMatchObject({ parallel: true, reason: 'balanced_cluster', parallelWorkers: 4 });
  });

  it('uses the top 3 nodes between 3x and 5x, and falls back to sequential with two nodes', () => {
    const three = [measured('a', 0.1), measured('b', 0.2), measured('c', 0.4)];
    expect(flockRules(three, 100)).toMatchObject({ parallel: true, reason: 'hybrid_parallel', parallelWorkers: 6 });
    expect(flockRules([measured('a', 0.1), measured('c', 0.4)], 100)).toMatchObject({ parallel: false, reason: 'default_sequential' });
  });

  it('floors the slowest speed at 1 request/s, so slow clusters look balanced (the quirk, kept)', () => {
    // 2 s against 20 s per request is a 10x gap, yet the ratio reads 0.5 / max(0.05, 1) = 0.5.
    const decision = flockRules([measured('a', 2), measured('b', 20)], 100);
    expect(decision.speedRatio).toBeCloseTo(0.5, 9);
    expect(decision).toMatchObject({ parallel: true, reason: 'balanced_cluster' });
  });

  it('gives unmeasured nodes the GPU (100) or CPU (10) prior', () => {
    const gpu = flockStats('gpu', { hasGpu: true, gpuLoaded: true });
    const cpu = flockStats('cpu', { hasGpu: false });
    expect(flockRules([gpu, cpu], 100)).toMatchObject({ reason: 'dominant_node', speedRatio: 10 });
  });

  it('scores health with GPU, VRAM, latency, error, slowness and load terms', () => {
    expect(flockHealthScore(flockStats('x'))).toBe(100);
    expect(flockHealthScore(flockStats('x', { hasGpu: true, gpuLoaded: true, vramGb: 8 }))).toBe(560);
    expect(flockHealthScore(flockStats('x', { hasGpu: true, gpuLoaded: false }))).toBe(50);
    expect(flockHealthScore(flockStats('x', { hasGpu: false }))).toBe(0);
    expect(flockHealthScore(flockStats('x', { latencyMs: 400 }))).toBe(70);
    expect(flockHealthScore(flockStats('x', { latencyMs: 5000 }))).toBe(50);
    expect(flockHealthScore(measured('x', 1, 10, { errors: 5 }))).toBe(80);
    expect(flockHealthScore(measured('x', 3, 10))).toBe(90);
    expect(flockHealthScore(flockStats('x', { concurrentRequests: 4 }))).toBe(80);
    expect(flockHealthScore(flockStats('x', { concurrentRequests: 4, hasGpu: true, gpuLoaded: true }))).toBe(392);
  });

  it('sizes the worker pool and estimates as the tool does', () => {
    expect(flockWorkers(10, 3)).toBe(6);
    expect(flockWorkers(4, 3)).toBe(4);
    expect(flockWorkers(100, 3)).toBe(6);
    expect(flockWorkers(500, 3)).toBe(12);
    const estimate = flockEstimate([measured('a', 0.1), measured('b', 1)], 100);
    expect(estimate.sequentialSeconds).toBeCloseTo(10, 9);
    expect(estimate.parallelSeconds).toBeCloseTo(0.1 * (100 / 4) + 0.5, 9);
    expect(estimate.recommendation).toBe('parallel');
  });
});

describe('FlockRouter', () => {
  it("runs the tool's example in 10 s sequential on the GPU once it has measured the nodes", async () => {
    const sim = new SimCluster([
      { id: 'gpu', overheadMs: 0, perItemMs: 100 },
      { id: 'cpu1', overheadMs: 0, perItemMs: 1000 },
      { id: 'cpu2', overheadMs: 0, perItemMs: 1000 },
    ]);
    const router = new FlockRouter({ nodes: sim.flockNodes(), clock: sim.clock });
    // Three items forced parallel: one request each, the load penalty spreads them over the nodes.
    const first = await sim.clock.run(router.run([0, 1, 2], 'parallel'));
    expect(first.failedItems).toEqual([]);
    expect(router.stats().map((s) => s.meanResponseMs)).toEqual([100, 1000, 1000]);
    const started = sim.clock.now();
    const { decision, results, failedItems } = await sim.clock.run(router.run(Array.from({ length: 100 }, (_, i) => i)));
    expect(failedItems).toEqual([]);
    expect(results).toHaveLength(100);
    expect(decision.reason).toBe('dominant_node');
    expect(sim.clock.now() - started).toBe(10_000);
  });

  it('loses the items of a node that dies in sequential mode (it never fails over)', async () => {
    const sim = new SimCluster([
      { id: 'a', overheadMs: 0, perItemMs: 10, crashAtMs: 95 },
      { id: 'b', overheadMs: 0, perItemMs: 10 },
    ]);
    const router = new FlockRouter({ nodes: sim.flockNodes(), clock: sim.clock, mode: 'sequential' });
    const { failedItems } = await sim.clock.run(router.run(Array.from({ length: 20 }, (_, i) => i)));
    expect(failedItems.length).toBeGreaterThan(0);
  });

  it('rejects bad options with ERR_ROUTER_CONFIG and bad items with ERR_ROUTER_INPUT', async () => {
    expect(() => new FlockRouter({ nodes: [] })).toThrow(expect.objectContaining({ code: 'ERR_ROUTER_CONFIG' }));
    expect(() => new FlockRouter({ nodes: 'x' as never })).toThrow(/non-empty array/);
    const router = new FlockRouter({ nodes: [{ id: 'a', handler: async (b) => b }] });
    await expect(router.run(5 as never)).rejects.toMatchObject({ code: 'ERR_ROUTER_INPUT' });
  });
});
