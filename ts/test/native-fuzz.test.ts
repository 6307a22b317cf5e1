import { describe, expect, it } from 'vitest';

import { sensorPreset } from '../src/index.js';
import { native } from '../src/native.js';

/**
 * Hostile input straight at the binding, past the facade's checks: wrong lengths, wrong types,
 * out-of-range codes, NaN and infinities. Every call must return or throw an Error with a code;
 * none may panic or abort the process.
 */
describe('native binding fuzz', () => {
  it('survives thousands of malformed column sets', () => {
    let state = 12345;
    const rand = (): number => {
      state = (state * 1664525 + 1013904223) >>> 0;
      return state / 4294967296;
    };
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
    const numbers = [0, 1, -1, NaN, Infinity, -Infinity, 91, -181, 1e308, 1767225600000, 48.1, 11.5, 2 ** 32];
    const f64 = (n: number) => Float64Array.from({ length: n }, () => pick(numbers));
    const u32 = (n: number) => Uint32Array.from({ length: n }, () => pick([0, 1, 2, 5, 0xffffffff, 2 ** 31]));
    const config = JSON.stringify(sensorPreset());
    const codes = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const n = Math.floor(rand() * 8);
      const len = () => (rand() < 0.15 ? Math.floor(rand() * 8) : n);
      const fields: unknown[] = [
        { codes: u32(len()), dictionary: pick([['a', 'b'], [], ['x']]) },
        rand() < 0.1 ? { codes: u32(len()) } : { values: f64(len()) },
        rand() < 0.1 ? { lat: f64(len()) } : { lat: f64(len()), lon: f64(len()) },
        { text: Array.from({ length: len() }, () => pick(['', 'abc', null, 'é'])) },
      ];
      if (rand() < 0.05) fields.pop();
      const columns = { node: u32(len()), fields } as never;
      try {
        const out = rand() < 0.5 ? native.fuseColumns(config, columns, 'index') : native.fuseColumns(config, columns, 'pairwise');
        const members = out.eventMembers.length;
        expect(members).toBe(out.stats.records);
        codes.set('ok', (codes.get('ok') ?? 0) + 1);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        const code = (e as { code?: unknown }).code;
        expect(typeof code).toBe('string');
        codes.set(code as string, (codes.get(code as string) ?? 0) + 1);
      }
    }
    // Both the error path and the happy path were exercised, and input errors carry our code.
    expect([...codes.keys()].every((c) => ['ok', 'ERR_FUSION_INPUT', 'ERR_FUSION_CONFIG'].includes(c))).toBe(true);
    expect(codes.get('ok')).toBeGreaterThan(50);
    expect(codes.get('ERR_FUSION_INPUT')).toBeGreaterThan(1000);
  });

  it('takes an empty column as all-missing for an optional field only', () => {
    const config = JSON.stringify(sensorPreset());
    const node = Uint32Array.of(0, 1);
    const cls = { codes: Uint32Array.of(0, 0), dictionary: ['car'] };
    const t = { values: Float64Array.of(1_767_225_600_000, 1_767_225_600_500) };
    const pos = { lat: Float64Array.of(48.1, 48.1), lon: Float64Array.of(11.5, 11.5) };
    const out = native.fuseColumns(config, { node, fields: [cls, t, pos, {}] }, 'index');
    expect(Array.from(out.eventOffsets)).toEqual([0, 2]);
    expect(() => native.fuseColumns(config, { node, fields: [cls, {}, pos, {}] }, 'index')).toThrow(
      expect.objectContaining({ code: 'ERR_FUSION_INPUT', message: 'field "t": column needs `values`' }),
    );
  });

  it('rejects an unknown method and a malformed config with stable codes', () => {
    const columns = { node: new Uint32Array(0), fields: [] } as never;
    expect(() => native.fuseColumns('{', columns, 'index')).toThrow(expect.objectContaining({ code: 'ERR_FUSION_CONFIG' }));
    expect(() => native.fuseColumns(JSON.stringify(sensorPreset()), columns, 'sideways')).toThrow(expect.objectContaining({ code: 'ERR_FUSION_INPUT' }));
    expect(() => native.generateFleetColumns(-1, 5, 1, 1, false)).toThrow(expect.objectContaining({ code: 'ERR_FUSION_INPUT' }));
    expect(() => native.generateFleetColumns(10, 5, 1, NaN, false)).toThrow(/noise must be in \[0, 10\]/);
    expect(() => native.evaluateLabels(new Uint32Array(2), new Int32Array(3))).toThrow(/predicted has 2 labels, truth has 3/);
  });
});
