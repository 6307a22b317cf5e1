/** The autoscaler simulator's service model, its traces, and what the presets do on them. */
import { describe, expect, it } from 'vitest';

import { createAutoscaler } from '../src/autoscale/autoscaler.js';
import { simulateAutoscaler } from '../src/lab/autoscale/simulate.js';
import { makeTrace, TRACE_SHAPES, traceOf } from '../src/lab/autoscale/traces.js';
import type { Autoscaler, AutoscaleSample } from '../src/autoscale/types.js';

/** A policy that asks for `plan(t)` replicas and records what it was told. */
function scripted(plan: (seconds: number) => number): Autoscaler & { seen: AutoscaleSample[] } {
  const seen: AutoscaleSample[] = [];
  return {
    preset: 'scripted',
    seen,
    decide: (s) => {
      seen.push(s);
      return { replicas: plan(s.now / 1000), reason: 'scripted' };
    },
  };
}

const flat = (rate: number, seconds: number) => traceOf('flat', Array(seconds).fill(rate));

describe('simulateAutoscaler', () => {
  it('serves within capacity without violations and pays replicas × seconds', () => {
    const r = simulateAutoscaler(
      scripted(() => 3),
      flat(100, 600),
      { perReplicaRate: 50, initialReplicas: 3 },
    );
    expect(r).toMatchObject({ replicaSeconds: 1800, sloViolationSeconds: 0, reversals: 0, decisions: [] });
    expect(r.items).toEqual({ arrived: 60_000, finished: 60_000, waiting: 0 });
  });

  it('lets the backlog grow at arrivals minus capacity, and counts the seconds it breaks the SLO', () => {
    const policy = scripted(() => 1);
    const r = simulateAutoscaler(policy, flat(60, 100), { perReplicaRate: 50, initialReplicas: 1, sloMs: 1000, intervalS: 10 });
    expect(r.items.waiting).toBeCloseTo(1000, 6); // 10/s for 100 s
    // Latency after t seconds: 10 (t + 1) / 50 + 1/50 s, above 1 s from t = 4 on: 96 seconds.
    expect(r.sloViolationSeconds).toBe(96);
    const at50 = policy.seen.find((s) => s.now === 50_000)!;
    expect(at50.metrics).toMatchObject({ lag: 500, pending: 500, throughput: 50, cpu: 1 });
    expect(at50.metrics.p99Ms).toBeCloseTo((500 / 50 + 1 / 50) * 1000, 6);
  });

  it('charges a new replica from the decision and serves with it after the cold start', () => {
    const policy = scripted((t) => (t >= 15 ? 3 : 1));
    const r = simulateAutoscaler(policy, flat(100, 120), { perReplicaRate: 50, initialReplicas: 1, coldStartS: 30, intervalS: 15 });
    expect(r.decisions).toEqual([{ t: 15, from: 1, to: 3, reason: 'scripted' }]);
    expect(r.replicaSeconds).toBe(15 + 3 * 105);
    // 50/s short from 0 to 45 s, then 150/s of capacity drains it by 67.5 s.
    const at30 = policy.seen.find((s) => s.now === 30_000)!;
    expect(at30.pods?.map((p) => p.ready)).toEqual([true, false, false]);
    expect(at30.metrics.lag).toBeCloseTo(1500, 6);
    expect(r.items.waiting).toBe(0);
    expect(r.items.finished).toBeCloseTo(12_000, 6);
  });

  it('removes starting replicas before ready ones and counts reversals of direction', () => {
    const steps = [1, 4, 2, 2, 5, 5, 1];
    const r = simulateAutoscaler(
      scripted((t) => steps[t / 10]),
      flat(10, 70),
      { perReplicaRate: 50, initialReplicas: 1, intervalS: 10, coldStartS: 30 },
    );
    expect(r.decisions.map((d) => [d.from, d.to])).toEqual([
      [1, 4],
      [4, 2],
      [2, 5],
      [5, 1],
    ]);
    expect(r.reversals).toBe(3);
    // Of the 3 asked for at 10 s, 2 go at 20 s while still starting; the third serves from 40 s.
    expect(r.replicaSeconds).toBe(10 + 4 * 10 + 2 * 20 + 5 * 20 + 1 * 10);
  });

  it('is deterministic for a seed and conserves items on every trace', () => {
    for (const shape of TRACE_SHAPES) {
      const run = (seed: number) =>
        simulateAutoscaler(createAutoscaler({ preset: 'predictive', min: 0, max: 40, targets: { cpu: 0.7 } }), makeTrace(shape, { seconds: 3600, seed }), {
          perReplicaRate: 50,
          initialReplicas: 2,
        });
      const a = run(3);
      expect(run(3)).toEqual(a);
      expect(a.items.arrived).toBeCloseTo(a.items.finished + a.items.waiting, 3);
      if (shape !== 'wake') expect(run(4).items.arrived).not.toBe(a.items.arrived);
    }
  });

  it('shapes traces as documented', () => {
    const quiet = { seconds: 3000, base: 10, noise: 0 };
    expect(Array.from(makeTrace('step', quiet).rates.subarray(998, 1002))).toEqual([10, 10, 30, 30]);
    expect(makeTrace('spike', quiet).rates[1000]).toBe(200);
    expect(makeTrace('spike', quiet).rates[1120]).toBe(10);
    expect(makeTrace('ramp', quiet).rates.at(-1)).toBe(50);
    expect(makeTrace('diurnal', quiet).rates[0]).toBeCloseTo(2, 9);
    expect(makeTrace('diurnal', quiet).rates[750]).toBeCloseTo(18, 9);
    const wake = makeTrace('wake', quiet).rates;
    expect([wake[999], wake[1000], wake[1599], wake[1600]]).toEqual([0, 10, 10, 0]);
    const bursty = makeTrace('bursty', { ...quiet, seed: 5 }).rates;
    expect(new Set(bursty)).toEqual(new Set([10, 40]));
    const noisy = makeTrace('flat', { seconds: 10_000, base: 100, noise: 0.2, seed: 2 }).rates;
    const mean = noisy.reduce((a, b) => a + b, 0) / noisy.length;
    const sd = Math.sqrt(noisy.reduce((a, b) => a + (b - mean) ** 2, 0) / noisy.length);
    expect(mean).toBeGreaterThan(98);
    expect(mean).toBeLessThan(102);
    expect(sd).toBeGreaterThan(18);
    expect(sd).toBeLessThan(22);
  });

  it('refuses a bad model or trace with ERR_AUTOSCALE_CONFIG', () => {
    const a = scripted(() => 1);
    expect(() => simulateAutoscaler(a, flat(1, 10), { perReplicaRate: 0, initialReplicas: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_AUTOSCALE_CONFIG', message: expect.stringMatching(/perReplicaRate/) }),
    );
    expect(() => simulateAutoscaler(a, flat(1, 10), { perReplicaRate: 1, initialReplicas: -1 })).toThrow(/initialReplicas/);
    expect(() => simulateAutoscaler(a, flat(1, 10), { perReplicaRate: 1, initialReplicas: 1, intervalS: 0 })).toThrow(/intervalS/);
    expect(() => traceOf('t', [1, -2])).toThrow(/trace t: rate at second 1 must be a number/);
    expect(() => traceOf('t', [])).toThrow(/has no rates/);
    expect(() => makeTrace('sawtooth' as 'flat')).toThrow(/trace must be one of flat, step/);
    expect(() => makeTrace('flat', { seconds: 0 })).toThrow(/seconds/);
  });
});

describe('presets on the simulator', () => {
  const service = { perReplicaRate: 50, coldStartS: 30, intervalS: 15, sloMs: 2000 };
  const targets = { cpu: 0.7, lag: 50, p99Ms: 2000 };

  it('predictive reverses at most once per 10 minutes on flat load with 20% noise', () => {
    for (const seed of [1, 2, 3]) {
      const trace = makeTrace('flat', { seconds: 7200, base: 100, noise: 0.2, seed });
      const r = simulateAutoscaler(createAutoscaler({ preset: 'predictive', min: 1, max: 60, targets }), trace, { ...service, initialReplicas: 3 });
      expect(r.reversals).toBeLessThanOrEqual(7200 / 600);
      expect(r.sloViolationSeconds).toBe(0);
    }
  });

  it('predictive wakes from zero at the first decision after work arrives', () => {
    const trace = makeTrace('wake', { seconds: 3600, base: 100, noise: 0.1, seed: 1 });
    const r = simulateAutoscaler(createAutoscaler({ preset: 'predictive', min: 0, max: 60, targets, idleToZeroS: 300 }), trace, { ...service, initialReplicas: 0 });
    expect(r.wakes.length).toBeGreaterThanOrEqual(1);
    for (const wake of r.wakes) {
      expect(wake.decisionS).toBeLessThanOrEqual(service.intervalS);
      expect(wake.readyS).toBeLessThanOrEqual(service.intervalS + service.coldStartS);
    }
    // It went back to zero after the work, and paid nothing while idle before it.
    expect(r.decisions.at(-1)).toMatchObject({ to: 0 });
    expect(r.decisions[0].t).toBeGreaterThanOrEqual(1200);
  });
});
