import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';

import { ListQuery, ObservationsBody, RoundParams } from '../src/hub/schemas.js';
import { hubValidatorCompiler } from '../src/hub/validator.js';

const compile = (schema: unknown, httpPart: string) =>
  hubValidatorCompiler({ schema, httpPart, method: 'GET', url: '/' } as Parameters<typeof hubValidatorCompiler>[0]) as (value: unknown) => {
    value?: unknown;
    error?: Array<{ keyword: string; instancePath: string }>;
  };

describe('the hub validator', () => {
  it('passes params that already match through unchanged', () => {
    const params = { round: 'r-1' };
    const result = compile(RoundParams, 'params')(params);
    expect(result.error).toBeUndefined();
    expect(result.value).toBe(params);
  });

  it('converts a query string value to the number its schema asks for', () => {
    expect(compile(ListQuery, 'querystring')({ limit: '25' })).toEqual({ value: { limit: 25 } });
  });

  it('refuses a query value that converts to no valid number, naming the field', () => {
    const { error } = compile(ListQuery, 'querystring')({ limit: 'soon' });
    expect(error?.map((e) => e.instancePath)).toContain('/limit');
    expect(compile(ListQuery, 'querystring')({ limit: '0' }).error).toBeDefined();
    expect(compile(ListQuery, 'querystring')({ limit: '5', drop: '1' }).error).toBeDefined();
  });

  it('never converts a body: a number sent as a string is an error', () => {
    const body = { node: 'n1', seq: '1', records: [] };
    const { error } = compile(ObservationsBody, 'body')(body);
    expect(error?.some((e) => e.instancePath === '/seq')).toBe(true);
    const ok = { node: 'n1', seq: 1, records: [] };
    expect(compile(ObservationsBody, 'body')(ok).value).toBe(ok);
  });

  it('converts params only when they do not match as sent', () => {
    const schema = Type.Object({ n: Type.Integer() });
    expect(compile(schema, 'params')({ n: '7' })).toEqual({ value: { n: 7 } });
  });
});
