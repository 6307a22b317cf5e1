/**
 * The `pipestream` and `predictive` presets, decision by decision: thresholds, cooldowns, the
 * lag-growth rule, the down window and steps, scale-to-zero and wake-on-work, and their errors.
 */
import { describe, expect, it } from 'vitest';

import { createAutoscaler, type AutoscalerOptions } from '../src/autoscale/autoscaler.js';
import type { AutoscaleSample } from '../src/autoscale/types.js';

const S = 1000;
const at = (now: number, replicas: number, metrics: AutoscaleSample['metrics'], pods?: AutoscaleSample['pods']) => ({ now, replicas, metrics, pods });
const pipestream = (options: Partial<Extract<AutoscalerOptions, { preset: 'pipestream' }>> = {}) => createAutoscaler({ preset: 'pipestream', ...options });
const predictive = (options: Partial<Extract<AutoscalerOptions, { preset: 'predictive' }>> = {}) =>
  createAutoscaler({ preset: 'predictive', min: 1, max: 100, targets: { cpu: 0.5 }, ...options });

describe('pipestream preset', () => {
  it('scales up one replica on lag or p99 at once, and on CPU only after 5 minutes above 70%', () => {
    expect(pipestream().decide(at(0, 3, { lag: 1001 }))).toMatchObject({ replicas: 4, reason: 'lag 1001 above 1000 → +1' });
    expect(pipestream().decide(at(0, 3, { p99Ms: 501 })).replicas).toBe(4);
    // No rule fires, but without CPU there is no scale-down either.
    expect(pipestream().decide(at(0, 3, { lag: 1000, p99Ms: 500 }))).toMatchObject({ replicas: 3, reason: expect.stringMatching(/without CPU/) });
    const cpu = pipestream();
    for (let t = 0; t < 300; t += 15) expect(cpu.decide(at(t * S, 3, { cpu: 0.8 })).replicas).toBe(3);
    expect(cpu.decide(at(300 * S, 3, { cpu: 0.8 }))).toMatchObject({ replicas: 4, reason: expect.stringMatching(/^cpu 80% above 70% for 300 s/) });
    // A dip resets the 5 minutes.
    const dip = pipestream();
    dip.decide(at(0, 3, { cpu: 0.8 }));
    dip.decide(at(150 * S, 3, { cpu: 0.6 }));
    expect(dip.decide(at(300 * S, 3, { cpu: 0.8 })).replicas).toBe(3);
  });

  it('waits 60 s after a change to grow again and 300 s to shrink, one replica at a time', () => {
    const a = pipestream();
    expect(a.decide(at(0, 3, { lag: 5000 })).replicas).toBe(4);
    expect(a.decide(at(30 * S, 4, { lag: 5000 }))).toMatchObject({ replicas: 4, reason: expect.stringMatching(/up cooldown, 30 s left/) });
    expect(a.decide(at(60 * S, 4, { lag: 5000 })).replicas).toBe(5);
    expect(a.decide(at(120 * S, 5, { lag: 0, cpu: 0.2 }))).toMatchObject({ replicas: 5, reason: expect.stringMatching(/down cooldown, 240 s left/) });
    expect(a.decide(at(360 * S, 5, { lag: 0, cpu: 0.2 }))).toMatchObject({ replicas: 4, reason: 'no rule fires; cooldown passed → -1' });
    // 4 replicas at 60% would leave 3 at 80%: not taken.
    const busy = pipestream();
    expect(busy.decide(at(0, 4, { lag: 0, cpu: 0.6 }))).toMatchObject({ replicas: 4, reason: expect.stringMatching(/3 replicas would run at 80% CPU/) });
  });

  it('keeps each pool within its bounds: the engine never below 2, CPU modules up to 20', () => {
    expect(pipestream().decide(at(0, 1, {}))).toMatchObject({ replicas: 2, reason: 'below min 2' });
    expect(pipestream().decide(at(0, 10, { lag: 9999 }))).toMatchObject({ replicas: 10, reason: expect.stringMatching(/held at max 10/) });
    expect(pipestream({ pool: 'cpu' }).decide(at(0, 5, { pending: 11 })).replicas).toBe(6);
    expect(pipestream({ pool: 'cpu' }).decide(at(0, 5, { p99Ms: 2001 })).replicas).toBe(6);
    expect(pipestream({ pool: 'cpu' }).decide(at(0, 5, { p99Ms: 1999, lag: 5000 })).replicas).toBe(5); // modules ignore lag
    expect(pipestream({ pool: 'cpu' }).decide(at(0, 20, { pending: 99 })).replicas).toBe(20);
  });

  it('takes GPU modules to zero after 5 idle minutes and wakes them on pending work at once', () => {
    const gpu = pipestream({ pool: 'gpu' });
    expect(gpu.decide(at(0, 2, { pending: 0, cpu: 0 })).replicas).toBe(1); // an idle step down first
    expect(gpu.decide(at(299 * S, 1, { pending: 0, cpu: 0 })).replicas).toBe(1);
    expect(gpu.decide(at(300 * S, 1, { pending: 0, cpu: 0 }))).toMatchObject({ replicas: 0, reason: 'idle for 300 s → 0' });
    expect(gpu.decide(at(315 * S, 0, { pending: 0 }))).toMatchObject({ replicas: 0, reason: 'idle at zero' });
    // Work 5 s after the last change: the wake ignores cooldowns.
    expect(gpu.decide(at(320 * S, 0, { pending: 3 }))).toMatchObject({ replicas: 1, reason: 'wake: 3 waiting with no replica' });
    expect(gpu.decide(at(335 * S, 1, { pending: 30, p99Ms: 12_000 })).replicas).toBe(1); // up cooldown
  });

  it('refuses bad options with ERR_AUTOSCALE_CONFIG', () => {
    expect(() => pipestream({ pool: 'tpu' as 'gpu' })).toThrow(
      expect.objectContaining({ code: 'ERR_AUTOSCALE_CONFIG', message: expect.stringMatching(/pool must be one of engine, cpu, gpu/) }),
    );
    expect(() => pipestream({ pool: 'engine', idleToZeroS: 60 })).toThrow(/options\.idleToZeroS needs options\.min 0/);
    expect(() => pipestream({ min: 5, max: 2 })).toThrow(/options\.max \(2\) must be at least options\.min \(5\)/);
    expect(() => pipestream({ upCooldownS: -1 })).toThrow(/upCooldownS/);
    expect(() => pipestream({ cpu: Number.NaN })).toThrow(/options\.cpu must be number, got NaN/);
  });
});

/** A pool of `replicas` all ready, each at `cpu`, finishing `throughput`/s with `lag` waiting. */
const pool = (now: number, replicas: number, metrics: AutoscaleSample['metrics']) => at(now, replicas, metrics);

describe('predictive preset: the lag-growth rule', () => {
  it('sizes the pool from measured arrivals and drain rate, backlog drained within drainS', () => {
    const a = predictive({ drainS: 20 });
    // 4 replicas at 50% finish 100/s: one replica drains 100 / (4 × 0.5) = 50/s.
    a.decide(pool(0, 4, { cpu: 0.5, throughput: 100, lag: 0 }));
    // Lag grew by 3000 in 15 s: 200/s more than finished arrive, 300/s in all.
    // (300 + 3000 / 20) / (50 × 0.5) = 18.
    const d = a.decide(pool(15 * S, 4, { cpu: 1, throughput: 200, lag: 3000 }));
    // The drain rate at 100%: 200 / 4 = 50/s, the same; arrivals jump straight to 400/s
    // (200 finished + 3000 / 15 s of growth), so (400 + 150) / 25 = 22.
    expect(d).toMatchObject({ replicas: 22 });
    expect(d.reason).toMatch(/^arrivals 400\/s, backlog 3000 over 20 s; a replica drains 50\/s, planned at 50% → 22$/);
  });

  it('follows a trend beyond its noise, and ignores noise without one', () => {
    const ramp = predictive({ leadS: 100, downStepS: 0 });
    let last = { replicas: 0, reason: '' };
    for (let k = 0; k <= 8; k++) {
      // Arrivals rise 1/s every second (15/s per interval); each of 10 replicas drains 50/s.
      const throughput = 100 + 15 * k;
      last = ramp.decide(pool(k * 15 * S, 10, { cpu: throughput / 500, throughput, lag: 0 }));
    }
    // Arrivals smoothed to 205.1/s, rising 1/s per s with no noise: planned for
    // 205.1 + 100 over the lead at 50 × 0.5 = 25/s each → ⌈12.2⌉ = 13 (without the trend, 9).
    expect(last).toMatchObject({ replicas: 13, reason: expect.stringMatching(/^arrivals 205.12\/s, \+100\/s by trend;/) });
    // Noise of ±12% around 100/s, 4 replicas of 25/s planned: no trend, no change.
    const flat = predictive({ leadS: 100 });
    const noisy = [100, 100, 112, 91, 104, 96, 109, 93, 101, 99, 108];
    const seen = noisy.map((throughput, k) => flat.decide(pool(k * 15 * S, 4, { cpu: throughput / 200, throughput, lag: 0 })));
    expect(seen.map((d) => d.replicas)).toEqual(Array(noisy.length).fill(4));
    expect(seen.some((d) => /by trend/.test(d.reason))).toBe(false);
  });

  it('scales down only to the highest recommendation of the window, in steps downStepS apart', () => {
    const a = predictive({ downWindowS: 60, downStepS: 120, tolerance: 0 });
    a.decide(pool(0, 10, { cpu: 0.5, throughput: 250, lag: 0 })); // 50/s each; needs 250 / 25 = 10
    expect(a.decide(pool(15 * S, 10, { cpu: 0.3, throughput: 150, lag: 0 })).replicas).toBe(10); // 6 now, 10 in the window
    expect(a.decide(pool(45 * S, 10, { cpu: 0.3, throughput: 150, lag: 0 })).replicas).toBe(10);
    const down = a.decide(pool(75 * S, 10, { cpu: 0.3, throughput: 150, lag: 0 }));
    expect(down).toMatchObject({ replicas: 6, reason: expect.stringMatching(/highest of the last 60 s is 6$/) });
    expect(a.decide(pool(90 * S, 6, { cpu: 0.2, throughput: 60, lag: 0 }))).toMatchObject({ replicas: 6, reason: expect.stringMatching(/held at 6 by the last 60 s$/) });
    // Past the window, fewer would do; the last step down was 75 s ago, the next comes at 195 s,
    // to the window's highest: arrivals smoothed to 82.5/s at 150 s → ⌈3.3⌉ = 4.
    expect(a.decide(pool(150 * S, 6, { cpu: 0.2, throughput: 60, lag: 0 }))).toMatchObject({ replicas: 6, reason: expect.stringMatching(/the last step down was 75 s ago/) });
    expect(a.decide(pool(195 * S, 6, { cpu: 0.2, throughput: 60, lag: 0 })).replicas).toBe(4);
  });

  it('holds within the tolerance and never scales down while a signal it needs is missing', () => {
    const a = predictive();
    a.decide(pool(0, 4, { cpu: 0.5, throughput: 100, lag: 0 }));
    expect(a.decide(pool(15 * S, 4, { cpu: 0.54, throughput: 108, lag: 0 }))).toMatchObject({ replicas: 4, reason: expect.stringMatching(/within tolerance of 4/) });
    const b = predictive({ downWindowS: 0, downStepS: 0 });
    expect(b.decide(pool(0, 8, { cpu: 0.5, throughput: 200, lag: 0 })).replicas).toBe(8);
    expect(b.decide(pool(15 * S, 8, { cpu: 0.5, throughput: 200, lag: 0 })).replicas).toBe(8); // 50/s each, 200/s: 8
    // Arrivals fall to 100/s, smoothed to 150/s: 6, kept with 10% headroom as 7.
    expect(b.decide(pool(30 * S, 8, { cpu: 0.25, throughput: 100, lag: 0 })).replicas).toBe(7);
    // No throughput: the arrival rate is stale, so no scale-down on it.
    expect(b.decide(pool(45 * S, 7, { cpu: 0.1, lag: 0 }))).toMatchObject({ replicas: 7, reason: expect.stringMatching(/no scale-down while a signal it needs is missing/) });
    expect(b.decide(pool(60 * S, 7, {})).replicas).toBe(7);
    // Measured again (two intervals: the growth of lag needs the last one): 125/s → ⌈5.5⌉ = 6.
    expect(b.decide(pool(75 * S, 7, { cpu: 100 / 350, throughput: 100, lag: 0 })).replicas).toBe(7);
    expect(b.decide(pool(90 * S, 7, { cpu: 100 / 350, throughput: 100, lag: 0 })).replicas).toBe(6);
  });

  it('falls back to CPU and lag per replica until it has measured a rate', () => {
    const a = predictive({ targets: { cpu: 0.5, lag: 100 } });
    expect(a.decide(pool(0, 4, { cpu: 0.9 }))).toMatchObject({ replicas: 8, reason: 'cpu 90% of 4 for 50% → 8' }); // 4 × 0.9 / 0.5 = 7.2
    expect(predictive({ targets: { lag: 100 } }).decide(pool(0, 2, { lag: 950 })).replicas).toBe(10);
  });

  it('does not pile replicas on a backlog while the ones it asked for start, before it has a rate', () => {
    const a = predictive({ min: 0, targets: { lag: 100 } });
    expect(a.decide(pool(0, 0, { lag: 1000, throughput: 0 })).replicas).toBe(10); // the lag fallback: 1000 / 100
    const starting = Array.from({ length: 10 }, () => ({ ready: false }));
    expect(a.decide(at(15 * S, 10, { lag: 2500, throughput: 0 }, starting))).toMatchObject({
      replicas: 10,
      reason: expect.stringMatching(/waiting for 10 starting replicas to measure a drain rate$/),
    });
    // Ready, they finished 2000 in the interval at 26.7% CPU: 50/s each at 100%, and arrivals of
    // 133.3 - 500 / 15 = 100/s. The rate rules from now on and the window forgets the fallback's
    // guesses: (100 + 2000 / 30) / 35 = 4.8 → 5, kept with headroom as 6.
    const d = a.decide(pool(30 * S, 10, { lag: 2000, throughput: 2000 / 15, cpu: 2000 / 15 / 500 }));
    expect(d).toMatchObject({
      replicas: 6,
      reason: expect.stringMatching(/^arrivals 100\/s, backlog 2000 over 30 s; a replica drains 50\/s, planned at 70% → 5; highest of the last 300 s is 6$/),
    });
  });

  it('adds a replica for a p99 above its target when the rule would hold, and blocks a scale-down', () => {
    const b = predictive({ targets: { cpu: 0.5, p99Ms: 500 }, downWindowS: 0, downStepS: 0 });
    b.decide(pool(0, 8, { cpu: 0.25, throughput: 100, lag: 0 }));
    expect(b.decide(pool(15 * S, 8, { cpu: 0.25, throughput: 100, lag: 0, p99Ms: 900 }))).toMatchObject({
      replicas: 8,
      reason: expect.stringMatching(/no scale-down while p99 900 ms is above 500 ms$/),
    });
    expect(b.decide(pool(30 * S, 8, { cpu: 0.25, throughput: 100, lag: 0, p99Ms: 400 })).replicas).toBe(5);
  });

  it('adds a replica for a p99 above its target when the rule would not', () => {
    const a = predictive({ targets: { cpu: 0.5, p99Ms: 500 } });
    a.decide(pool(0, 4, { cpu: 0.5, throughput: 100, lag: 0 }));
    expect(a.decide(pool(15 * S, 4, { cpu: 0.5, throughput: 100, lag: 0, p99Ms: 800 }))).toMatchObject({
      replicas: 5,
      reason: expect.stringMatching(/p99 800 ms above 500 ms → 5$/),
    });
  });

  it('goes to zero after idleToZeroS idle with min 0 and wakes on the first backlog, sized by it', () => {
    const a = predictive({ min: 0, idleToZeroS: 60 });
    a.decide(pool(0, 2, { cpu: 0.5, throughput: 50, lag: 0 })); // 50/s per replica
    expect(a.decide(pool(15 * S, 2, { cpu: 0, throughput: 0, lag: 0 })).replicas).toBe(2);
    expect(a.decide(pool(75 * S, 2, { cpu: 0, throughput: 0, lag: 0 }))).toMatchObject({ replicas: 0, reason: 'idle for 60 s → 0' });
    expect(a.decide(pool(90 * S, 0, { lag: 0, throughput: 0 }))).toMatchObject({ replicas: 0, reason: 'idle at zero' });
    // 1500 arrived in 15 s with nothing to serve them: 100/s and a backlog of 1500 (30 s to drain).
    const wake = a.decide(pool(105 * S, 0, { lag: 1500, throughput: 0 }));
    expect(wake.replicas).toBe(6); // (100 + 1500 / 30) / 25
    expect(wake.reason).toMatch(/^wake: 1500 waiting with no replica → 6$/);
    // With min 1 it never goes to zero; without signals it is not idle.
    const one = predictive({ min: 1, idleToZeroS: 0 });
    expect(one.decide(pool(0, 2, { cpu: 0, throughput: 0, lag: 0 })).replicas).toBeGreaterThanOrEqual(1);
    const blind = predictive({ min: 0, idleToZeroS: 0 });
    expect(blind.decide(pool(0, 2, {})).replicas).toBe(2);
  });

  it('refuses bad options and samples with stable codes', () => {
    expect(() => predictive({ targets: { cpu: 1.5 } })).toThrow(expect.objectContaining({ code: 'ERR_AUTOSCALE_CONFIG', message: expect.stringMatching(/at most 1/) }));
    expect(() => predictive({ drainS: 0 })).toThrow(/options\.drainS must be >= 1, got 0/);
    expect(() => predictive({ targets: { qps: 3 } as never })).toThrow(/targets must not have qps/);
    expect(() => predictive({ smoothing: 0 })).toThrow(/smoothing/);
    const a = predictive();
    expect(() => a.decide(pool(0, 2, { throughput: -1 }))).toThrow(expect.objectContaining({ code: 'ERR_AUTOSCALE_INPUT', message: expect.stringMatching(/metrics.throughput/) }));
    a.decide(pool(10 * S, 2, { cpu: 0.1 }));
    expect(() => a.decide(pool(5 * S, 2, { cpu: 0.1 }))).toThrow(/now went backwards/);
    expect(() => createAutoscaler({ preset: 'keda' } as never)).toThrow(/preset must be one of hpa, pipestream, predictive/);
  });
});
