/**
 * The measures the model's validation reports: relative error, MAPE, ranks with ties and
 * Spearman's rho against hand-worked values; and the SVG plot of measured vs predicted.
 */
import { describe, expect, it } from 'vitest';

import { mape, median, noiseFloor, ranks, relativeError, spearman } from '../src/lab/claims/accuracy.js';
import { passOrder, spreadOf, type CellRun } from '../src/lab/claims/grid.js';
import { throughputPlot } from '../src/lab/claims/plot.js';

describe('model accuracy measures', () => {
  it('relative error and MAPE', () => {
    expect(relativeError(110, 100)).toBeCloseTo(0.1, 12);
    expect(relativeError(75, 100)).toBeCloseTo(-0.25, 12);
    expect(
      mape([
        { predicted: 110, measured: 100 },
        { predicted: 75, measured: 100 },
        { predicted: 300, measured: 300 },
      ]),
    ).toBeCloseTo(0.35 / 3, 12);
  });

  it('ranks share ties, and Spearman matches a worked example', () => {
    expect(ranks([10, 30, 20, 20])).toEqual([1, 4, 2.5, 2.5]);
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // d = rank differences 0, -1, 1, 0, 0 → 1 - 6·2 / (5·24) = 0.9 (no ties).
    expect(spearman([1, 2, 3, 4, 5], [1, 3, 2, 4, 5])).toBeCloseTo(0.9, 12);
    // A monotone but non-linear relation still ranks perfectly.
    expect(spearman([1, 2, 3, 4], [1, 8, 27, 64])).toBeCloseTo(1, 12);
  });

  it('median of odd and even counts, unsorted input left alone', () => {
    const xs = [5, 1, 4];
    expect(median(xs)).toBe(4);
    expect(xs).toEqual([5, 1, 4]);
    expect(median([3, 1, 4, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('repeat passes: the first in grid order, the others shuffled, each a permutation, the same every time', () => {
    expect(passOrder(6, 0)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const pass of [1, 2, 7]) {
      const order = passOrder(24, pass);
      expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i));
      expect(order).not.toEqual(passOrder(24, 0));
      expect(passOrder(24, pass)).toEqual(order);
    }
    expect(passOrder(24, 1)).not.toEqual(passOrder(24, 2));
    expect(passOrder(0, 3)).toEqual([]);
  });

  it("a cell's spread is (max − min) over its median run's throughput", () => {
    const cell = (throughputs: number[], kept: number) => ({ throughputs, report: { throughput: kept } }) as unknown as CellRun;
    expect(spreadOf(cell([90, 100, 120], 100))).toBeCloseTo(0.3, 12);
    expect(spreadOf(cell([100], 100))).toBe(0);
  });

  it("the noise floor: what a model exact on every cell would still show, from the repeats' scatter", () => {
    // Repeats 90, 100, 110 resampled: the median of three draws is 90 or 110 with chance 7/27
    // each, so a measurement is 10% off the truth (100) with chance 14/27; against one run of
    // 50 with one worker, a speedup 0.2 off the truth (2) as often.
    const floor = noiseFloor([{ throughputs: [110, 90, 100], oneWorker: [50] }], { resamples: 40_000 });
    expect(floor?.resamples).toBe(40_000);
    expect(floor?.mape).toBeCloseTo((14 / 27) * 0.1, 2);
    expect(floor?.speedupError).toBeCloseTo((14 / 27) * 0.2, 2);
    // One cell: its error is the worst; two such cells: 10% unless both land on the truth.
    expect(floor?.worst).toBeCloseTo(floor?.mape ?? 0, 12);
    const pair = noiseFloor(
      [
        { throughputs: [110, 90, 100], oneWorker: [50] },
        { throughputs: [90, 110, 100], oneWorker: [50] },
      ],
      { resamples: 40_000 },
    );
    expect(pair?.worst).toBeCloseTo(0.1 * (1 - (13 / 27) ** 2), 2);
    // The same seed, the same floor; repeats that agree have none; a cell of one run adds
    // nothing but counts (the mean is over cells).
    expect(noiseFloor([{ throughputs: [110, 90, 100], oneWorker: [50] }], { resamples: 40_000 })).toEqual(floor);
    expect(noiseFloor([{ throughputs: [7, 7, 7], oneWorker: [3, 3] }])).toEqual({ mape: 0, speedupError: 0, worst: 0, resamples: 1000 });
    const halved = noiseFloor(
      [
        { throughputs: [110, 90, 100], oneWorker: [50] },
        { throughputs: [80], oneWorker: [40] },
      ],
      { resamples: 40_000 },
    );
    expect(halved?.mape).toBeCloseTo((floor?.mape ?? 0) / 2, 2);
    expect(halved?.worst).toBeCloseTo(floor?.worst ?? 0, 2);
    // Scatter in the one-worker runs alone moves the speedup, not the throughput.
    const one = noiseFloor([{ throughputs: [100], oneWorker: [45, 50, 55] }], { resamples: 40_000 });
    expect(one?.mape).toBe(0);
    expect(one?.speedupError).toBeGreaterThan(0.1);
    // One run per cell everywhere: no scatter to read, no floor.
    expect(noiseFloor([{ throughputs: [100], oneWorker: [50] }])).toBeNull();
  });

  it('refuses what it cannot measure with a coded error', () => {
    expect(() => noiseFloor([])).toThrow(expect.objectContaining({ code: 'ERR_CLAIMS_INPUT' }));
    expect(() => noiseFloor([{ throughputs: [], oneWorker: [1] }])).toThrow(expect.objectContaining({ code: 'ERR_CLAIMS_INPUT' }));
    expect(() => noiseFloor([{ throughputs: [1, 0], oneWorker: [1] }])).toThrow(expect.objectContaining({ code: 'ERR_CLAIMS_INPUT' }));
    expect(() => noiseFloor([{ throughputs: [1, 2], oneWorker: [1] }], { resamples: 0 })).toThrow(expect.objectContaining({ code: 'ERR_CLAIMS_INPUT' }));
    expect(() => relativeError(1, 0)).toThrow(expect.objectContaining({ code: 'ERR_CLAIMS_INPUT' }));
    expect(() => relativeError(Number.NaN, 1)).toThrow(expect.objectContaining({ code: 'ERR_CLAIMS_INPUT' }));
    expect(() => mape([])).toThrow(expect.objectContaining({ code: 'ERR_CLAIMS_INPUT' }));
    expect(() => spearman([1, 2], [1])).toThrow(expect.objectContaining({ code: 'ERR_CLAIMS_INPUT' }));
    expect(() => spearman([1], [1])).toThrow(expect.objectContaining({ code: 'ERR_CLAIMS_INPUT' }));
  });

  it('plots one panel per series: a model line and a dot per measurement', () => {
    const svg = throughputPlot(
      [
        {
          name: 'skip-locked B100',
          points: [
            { workers: 1, predicted: 100, measured: 90, calibration: true },
            { workers: 2, predicted: 150, measured: 160 },
            { workers: 4, predicted: 170, measured: 165 },
          ],
        },
        {
          name: 'a <b> & "c"',
          points: [
            { workers: 1, predicted: 80, measured: 80, calibration: true },
            { workers: 4, predicted: 60 },
          ],
        },
      ],
      'title',
      'sub',
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    // 4 measurements + 2 legend dots; calibration dots (and their legend) hollow.
    expect(svg.match(/<circle /g)).toHaveLength(6);
    expect(svg.match(/<circle [^>]*fill="white"/g)).toHaveLength(3);
    expect(svg).toContain('a &lt;b&gt; &amp; &quot;c&quot;');
    // The y axis reaches the largest value (165 measured) on round ticks.
    expect(svg).toMatch(/>200</);
  });
});
