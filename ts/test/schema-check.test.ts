import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';

import { pathText, schemaCheck } from '../src/schema-check.js';

const fail = (message: string) => new Error(message);

describe('schemaCheck', () => {
  const check = schemaCheck(
    Type.Object({
      cells: Type.Array(Type.Object({ n: Type.Integer({ minimum: 1 }), kind: Type.Enum(['a', 'b']) })),
      limits: Type.Optional(Type.Object({ x: Type.Optional(Type.Number()) }, { additionalProperties: false })),
    }),
    fail,
    { root: 'the plan', prefix: 'plan' },
  );

  it('returns a value that matches, as it is', () => {
    const value = { cells: [{ n: 2, kind: 'a' }], extra: true };
    expect(check(value)).toBe(value);
  });

  it('names where and what for each kind of mistake', () => {
    expect(() => check(null)).toThrow(/^the plan must be object$/);
    expect(() => check({})).toThrow(/^the plan must have required properties cells$/);
    expect(() => check({ cells: [{ n: 0, kind: 'a' }] })).toThrow(/^plan\.cells\[0\]\.n must be >= 1, got 0$/);
    expect(() => check({ cells: [{ n: 1, kind: 'c' }] })).toThrow(/^plan\.cells\[0\]\.kind must be equal to one of the allowed values \(a, b\), got "c"$/);
    expect(() => check({ cells: [], limits: { x: Number.NaN } })).toThrow(/^plan\.limits\.x must be number, got NaN$/);
    expect(() => check({ cells: [], limits: { y: 1 } })).toThrow(/^plan\.limits must not have y$/);
  });

  it('writes JSON pointers as paths', () => {
    expect(pathText('', 'the report')).toBe('the report');
    expect(pathText('/heldOut/3/measured/throughput', 'the report')).toBe('heldOut[3].measured.throughput');
    expect(pathText('/a~1b/0', 'x', 'opts')).toBe('opts.a/b[0]');
    expect(pathText('/0/x', 'x', 'list')).toBe('list[0].x');
  });
});
