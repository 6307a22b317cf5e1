/**
 * Golden cases for the `hpa` preset, one or more per branch of Kubernetes' HPA controller
 * (autoscaling/v2 with default behaviour), each worked out by hand from its rules: tolerance,
 * the largest proposal over metrics, missing metrics blocking a scale-down, the not-ready and
 * missing-metric dampening, out-of-range current replicas, the scale-down stabilisation window,
 * the scale-up and scale-down rate policies per period, and the caps at min and max.
 */
import { describe, expect, it } from 'vitest';

import { createAutoscaler } from '../src/autoscale/autoscaler.js';
import type { AutoscaleSample } from '../src/autoscale/types.js';

const S = 1000;
const hpa = (options: Partial<Parameters<typeof createAutoscaler>[0]> = {}) => createAutoscaler({ preset: 'hpa', min: 1, max: 100, targets: { cpu: 0.5 }, ...options });
const at = (now: number, replicas: number, metrics: AutoscaleSample['metrics'], pods?: AutoscaleSample['pods']) => ({ now, replicas, metrics, pods });

describe('hpa preset: proposals', () => {
  it('scales by the ratio, and not at all within the tolerance', () => {
    expect(hpa().decide(at(0, 4, { cpu: 0.9 }))).toMatchObject({ replicas: 8 }); // ceil(4 × 1.8) = 8, limit 8
    expect(hpa().decide(at(0, 4, { cpu: 0.75 })).replicas).toBe(6); // ceil(4 × 1.5)
    expect(hpa().decide(at(0, 4, { cpu: 0.53 })).replicas).toBe(4); // ratio 1.06: within 0.1
    const lag = () => hpa({ targets: { lag: 100 } });
    expect(lag().decide(at(0, 10, { lag: 1090 })).replicas).toBe(10); // ratio 1.09: within
    // 1100 / 1000 is the double just above 1.1, whose distance from 1 exceeds the double 0.1:
    // Go's float64 arithmetic scales here too, to ceil(1100 / 100).
    expect(lag().decide(at(0, 10, { lag: 1100 })).replicas).toBe(11);
    expect(lag().decide(at(0, 10, { lag: 1101 })).replicas).toBe(12); // ceil(1101 / 100)
    expect(hpa({ targets: { cpu: 0.5 }, tolerance: 0 }).decide(at(0, 4, { cpu: 0.53 })).replicas).toBe(5); // ceil(4.24)
  });

  it('takes the largest proposal over its metrics and says which one decided', () => {
    const a = hpa({ targets: { cpu: 0.5, lag: 100, p99Ms: 500 } });
    const d = a.decide(at(0, 4, { cpu: 0.5, lag: 700, p99Ms: 600 }));
    expect(d.replicas).toBe(7); // cpu → 4, lag → ceil(7) = 7, p99 ratio 1.2 → ceil(4.8) = 5
    expect(d.reason).toMatch(/^lag 700/);
  });

  it('never scales down while a metric is missing, and holds when all are', () => {
    const both = { targets: { cpu: 0.5, lag: 100 } };
    const down = hpa(both).decide(at(0, 4, { cpu: 0.25 }));
    expect(down).toMatchObject({ replicas: 4 });
    expect(down.reason).toMatch(/no scale-down while lag is missing/);
    expect(hpa(both).decide(at(0, 4, { cpu: 1.0 })).replicas).toBe(8); // scaling up is allowed
    expect(hpa(both).decide(at(0, 4, {}))).toMatchObject({ replicas: 4, reason: expect.stringMatching(/every metric is missing/) });
  });

  it('counts not-ready replicas as idle on a scale-up, and holds if that reverses the direction', () => {
    const pods = (cpu: number) => [{ cpu }, { cpu }, { cpu }, { ready: false }];
    // 3 ready at 90%: ratio 1.8; with the not-ready one at 0: mean 67.5%, ratio 1.35 → ceil(5.4) = 6.
    expect(hpa().decide(at(0, 4, {}, pods(0.9))).replicas).toBe(6);
    // 3 ready at 60%: ratio 1.2, but with the not-ready one at 0 the ratio is 0.9: no change.
    const held = hpa().decide(at(0, 4, {}, pods(0.6)));
    expect(held.replicas).toBe(4);
    expect(held.reason).toMatch(/recomputed ratio 0\.9 → no change/);
  });

  it('counts a replica with a missing metric as busy on a scale-down and idle on a scale-up', () => {
    // 3 at 10% and one missing, counted at 100%: mean 32.5%, ratio 0.65 → ceil(2.6) = 3.
    expect(hpa().decide(at(0, 4, {}, [{ cpu: 0.1 }, { cpu: 0.1 }, { cpu: 0.1 }, {}])).replicas).toBe(3);
    // 3 at 100% and one missing, counted at 0: mean 75%, ratio 1.5 → 6.
    expect(hpa().decide(at(0, 4, {}, [{ cpu: 1 }, { cpu: 1 }, { cpu: 1 }, {}])).replicas).toBe(6);
  });

  it('sizes from zero on a value metric when min is 0, and is disabled at 0 when min is above 0', () => {
    expect(hpa({ min: 0, targets: { p99Ms: 500 } }).decide(at(0, 0, { p99Ms: 1000 })).replicas).toBe(2); // ceil(ratio 2)
    expect(hpa({ min: 0, targets: { lag: 100 } }).decide(at(0, 0, { lag: 350 })).replicas).toBe(4); // ceil(3.5); limit 0 + 4
    expect(hpa({ min: 1 }).decide(at(0, 0, { cpu: 1 }))).toMatchObject({ replicas: 0, reason: expect.stringMatching(/disabled/) });
  });
});

describe('hpa preset: range, stabilisation and rate', () => {
  it('brings current replicas into [min, max] first', () => {
    expect(hpa({ min: 2, max: 5 }).decide(at(0, 9, { cpu: 0.5 }))).toMatchObject({ replicas: 5, reason: expect.stringMatching(/above max 5/) });
    expect(hpa({ min: 2, max: 5 }).decide(at(0, 1, { cpu: 0.5 }))).toMatchObject({ replicas: 2, reason: expect.stringMatching(/below min 2/) });
  });

  it('caps at max, and names the cap', () => {
    const d = hpa({ max: 10 }).decide(at(0, 8, { cpu: 1.0 })); // 16, rate limit 16, max 10
    expect(d).toMatchObject({ replicas: 10, reason: expect.stringMatching(/capped at max 10/) });
  });

  it("scales up at most by the larger of +4 pods and +100% per 15 s, from the period's start", () => {
    const a = hpa();
    expect(a.decide(at(0, 2, { cpu: 5 }))).toMatchObject({ replicas: 6, reason: expect.stringMatching(/scale-up rate limit: at most 6/) }); // 20 wanted
    expect(a.decide(at(5 * S, 6, { cpu: 5 })).replicas).toBe(6); // the period started at 2: limit still 6
    expect(a.decide(at(16 * S, 6, { cpu: 5 })).replicas).toBe(12); // new period from 6: max(6 + 4, 12)
    expect(a.decide(at(31 * S, 12, { cpu: 5 })).replicas).toBe(24);
  });

  it('scales down to the highest recommendation of the last 300 s', () => {
    const a = hpa({ max: 20 });
    expect(a.decide(at(0, 10, { cpu: 0.5 })).replicas).toBe(10); // recommends 10
    const held = a.decide(at(60 * S, 10, { cpu: 0.25 })); // recommends 5
    expect(held).toMatchObject({ replicas: 10, reason: expect.stringMatching(/held at 10: the highest recommendation of the last 300 s/) });
    expect(a.decide(at(301 * S, 10, { cpu: 0.25 })).replicas).toBe(5); // the 10 left the window
  });

  it('scales down no faster than its policies allow, per period', () => {
    const a = hpa({ scaleDown: { stabilizationWindowS: 0, policies: [{ type: 'pods', value: 2, periodS: 60 }] } });
    expect(a.decide(at(0, 10, { cpu: 0.1 }))).toMatchObject({ replicas: 8, reason: expect.stringMatching(/scale-down rate limit: at least 8/) });
    expect(a.decide(at(30 * S, 8, { cpu: 0.1 })).replicas).toBe(8); // the period started at 10
    expect(a.decide(at(61 * S, 8, { cpu: 0.1 })).replicas).toBe(6);
  });

  it('holds at min, takes the smallest change with select min, and none with disabled', () => {
    expect(hpa({ min: 3, scaleDown: { stabilizationWindowS: 0 } }).decide(at(0, 10, { cpu: 0.05 }))).toMatchObject({ replicas: 3, reason: expect.stringMatching(/held at min 3/) });
    expect(hpa({ scaleUp: { select: 'min' } }).decide(at(0, 2, { cpu: 5 })).replicas).toBe(4); // min(2 + 4, 2 × 2)
    expect(hpa({ scaleDown: { select: 'disabled', stabilizationWindowS: 0 } }).decide(at(0, 10, { cpu: 0.1 })).replicas).toBe(10);
  });
});

describe('hpa preset: bad configs and samples', () => {
  const configs: Array<[string, object, RegExp]> = [
    ['no target', { targets: {} }, /at least one target/],
    ['an unknown target', { targets: { memory: 0.5 } }, /targets must not have memory/],
    ['a zero target', { targets: { cpu: 0 } }, /targets\.cpu must be > 0, got 0/],
    ['max below min', { min: 5, max: 4 }, /options\.max \(4\) must be at least options\.min \(5\)/],
    ['a fractional min', { min: 1.5 }, /options\.min must be integer, got 1\.5/],
    ['a tolerance above 1', { tolerance: 2 }, /options\.tolerance must be <= 1, got 2/],
    ['an unknown policy type', { scaleUp: { policies: [{ type: 'nodes', value: 1, periodS: 15 }] } }, /scaleUp\.policies\[0\]\.type/],
    ['no policies', { scaleDown: { policies: [] } }, /options\.scaleDown\.policies must not have fewer than 1 items, got \[\]/],
    ['an unknown select', { scaleDown: { select: 'fastest' } }, /scaleDown\.select/],
  ];
  it.each(configs)('refuses %s with ERR_AUTOSCALE_CONFIG', (_name, options, message) => {
    expect(() => hpa(options as never)).toThrow(expect.objectContaining({ code: 'ERR_AUTOSCALE_CONFIG', message: expect.stringMatching(message) }));
  });

  it('refuses an unknown preset', () => {
    expect(() => createAutoscaler({ preset: 'magic' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_AUTOSCALE_CONFIG', message: expect.stringMatching(/preset must be one of hpa/) }),
    );
  });

  const samples: Array<[string, unknown, RegExp]> = [
    ['no sample', undefined, /the sample \(decide\(\) takes \{ now, replicas, metrics \}\) must be object/],
    ['negative replicas', at(0, -1, {}), /replicas must be >= 0, got -1/],
    ['a NaN metric', at(0, 2, { cpu: Number.NaN }), /metrics\.cpu must be number, got NaN/],
    ['a negative lag', at(0, 2, { lag: -3 }), /metrics\.lag must be >= 0, got -3/],
    ['an unknown metric', at(0, 2, { memory: 1 } as never), /metrics must not have memory/],
    ['pods that do not match replicas', at(0, 2, {}, [{ cpu: 0.5 }]), /pods must list each of the 2 replicas/],
  ];
  it.each(samples)('refuses %s with ERR_AUTOSCALE_INPUT', (_name, sample, message) => {
    expect(() => hpa().decide(sample as AutoscaleSample)).toThrow(expect.objectContaining({ code: 'ERR_AUTOSCALE_INPUT', message: expect.stringMatching(message) }));
  });

  it('refuses time going backwards, and keeps deciding after a refused sample', () => {
    const a = hpa();
    a.decide(at(10 * S, 4, { cpu: 0.5 }));
    expect(() => a.decide(at(5 * S, 4, { cpu: 0.5 }))).toThrow(expect.objectContaining({ code: 'ERR_AUTOSCALE_INPUT', message: expect.stringMatching(/now went backwards/) }));
    expect(a.decide(at(20 * S, 4, { cpu: 0.75 })).replicas).toBe(6);
  });
});
