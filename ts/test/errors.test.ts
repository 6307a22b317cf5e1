import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { AdaptiveRouter, ClaimQueue, ERROR_CODES, FleetscaleError, createAutoscaler, fuse, fuseSync, isFleetscaleError } from '../src/index.js';
import { fromNative } from '../src/errors.js';
import { ClaimWorker } from '../src/claims/index.js';
import { HubError, hubErrors, startHub } from '../src/hub/index.js';

const caught = async (fn: () => unknown): Promise<unknown> => {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};

describe('FleetscaleError', () => {
  it('carries a stable code, a cause and details', () => {
    const cause = new Error('socket hang up');
    const error = new FleetscaleError('ERR_ROUTER_EXHAUSTED', '2 of 3 items failed', { cause, details: { failedItems: [0, 2] } });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('FleetscaleError');
    expect(error.code).toBe('ERR_ROUTER_EXHAUSTED');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ failedItems: [0, 2] });
    expect(isFleetscaleError(error)).toBe(true);
    expect(isFleetscaleError(error, 'ERR_ROUTER_EXHAUSTED', 'ERR_ROUTER_CONFIG')).toBe(true);
    expect(isFleetscaleError(error, 'ERR_FUSION_INPUT')).toBe(false);
  });

  it('is recognised across copies of the package, and nothing else is', () => {
    // Another copy's class: same name and a known code, a different constructor.
    const other = Object.assign(new Error('x'), { name: 'FleetscaleError', code: 'ERR_FUSION_INPUT' });
    expect(isFleetscaleError(other)).toBe(true);
    expect(isFleetscaleError(Object.assign(new Error('x'), { name: 'FleetscaleError', code: 'ERR_MADE_UP' }))).toBe(false);
    expect(isFleetscaleError(Object.assign(new Error('x'), { code: 'ERR_FUSION_INPUT' }))).toBe(false);
    expect(isFleetscaleError({ name: 'FleetscaleError', code: 'ERR_FUSION_INPUT', message: 'x' })).toBe(false);
    expect(isFleetscaleError(undefined)).toBe(false);
  });

  it("turns the native layer's coded errors into FleetscaleErrors and leaves others alone", () => {
    const native = Object.assign(new Error('row 1: bad'), { code: 'ERR_FUSION_INPUT' });
    const converted = fromNative(native) as FleetscaleError;
    expect(converted).toBeInstanceOf(FleetscaleError);
    expect(converted).toMatchObject({ code: 'ERR_FUSION_INPUT', message: 'row 1: bad' });
    const plain = new Error('boom');
    expect(fromNative(plain)).toBe(plain);
    const napiInternal = Object.assign(new Error('x'), { code: 'GenericFailure' });
    expect(fromNative(napiInternal)).toBe(napiInternal);
  });

  it('is what each capability throws, sync and async, native included', async () => {
    const bad = [{ id: 'a', node: 'n', cls: 'x', t: 0, lat: 91, lon: 0 }];
    const errors = [
      await caught(() => fuseSync(bad)),
      await caught(() => fuse(bad)),
      await caught(() => fuseSync([], { fields: 'nope' } as never)),
      await caught(() => new AdaptiveRouter({ nodes: [] })),
      await caught(() => createAutoscaler({ preset: 'hpa', min: 5, max: 2 } as never)),
      await caught(() => ClaimQueue.open({ schema: 'no such; schema' })),
    ];
    for (const error of errors) {
      expect(error, String(error)).toBeInstanceOf(FleetscaleError);
      expect((error as FleetscaleError).code in ERROR_CODES).toBe(true);
    }
    expect(errors.map((e) => (e as FleetscaleError).code)).toEqual([
      'ERR_FUSION_INPUT',
      'ERR_FUSION_INPUT',
      'ERR_FUSION_CONFIG',
      'ERR_ROUTER_CONFIG',
      'ERR_AUTOSCALE_CONFIG',
      'ERR_CLAIMS_CONFIG',
    ]);
  });

  it('a claims worker needs only a queue and a handler, and names a bad option with its path and value', () => {
    const queue = {} as ClaimQueue;
    const handler = () => 1;
    expect(() => new ClaimWorker({ queue, handler })).not.toThrow();
    const bad: Array<[object, RegExp]> = [
      [{ batchSize: 0 }, /^options\.batchSize must be >= 1, got 0$/],
      [{ batchSize: 2.5 }, /^options\.batchSize must be integer, got 2\.5$/],
      [{ strategy: 'fastest' }, /^options\.strategy must be equal to one of the allowed values \(optimistic-any, skip-locked, partitioned\), got "fastest"$/],
      [{ leaseMs: 5 }, /^options\.leaseMs must be >= 10, got 5$/],
      [{ untilEmpty: 'yes' }, /^options\.untilEmpty must be boolean, got "yes"$/],
      [{ handler: 'not a function' }, /^handler must be a function$/],
    ];
    for (const [options, message] of bad) {
      expect(() => new ClaimWorker({ queue, handler, ...options } as never)).toThrow(
        expect.objectContaining({ code: 'ERR_CLAIMS_CONFIG', message: expect.stringMatching(message) }),
      );
    }
  });

  it('startHub refuses a bad option before it opens anything, naming it and its value', async () => {
    await expect(startHub({ port: 70_000 })).rejects.toMatchObject({ code: 'ERR_VALIDATION', message: 'options.port must be <= 65535, got 70000' });
    await expect(startHub({ bodyLimit: 10 })).rejects.toMatchObject({ code: 'ERR_VALIDATION', message: 'options.bodyLimit must be >= 1024, got 10' });
    await expect(startHub({ host: '' })).rejects.toMatchObject({ code: 'ERR_VALIDATION', message: expect.stringMatching(/^options\.host must not have fewer than 1 characters/) });
  });

  it("the hub's errors are FleetscaleErrors with their HTTP status, and every hub code is a known code", () => {
    const error = new HubError('ERR_ROUND_CLOSED', 'round "r" is closed');
    expect(error).toBeInstanceOf(FleetscaleError);
    expect(error.statusCode).toBe(409);
    for (const code of Object.keys(hubErrors)) expect(code in ERROR_CODES, code).toBe(true);
  });

  it('docs/errors.md is the page the generator writes, and lists every code with its meaning', () => {
    const page = readFileSync(join(import.meta.dirname, '../../docs/errors.md'), 'utf8');
    const generated = execFileSync(process.execPath, ['scripts/errors-doc.mjs', '--stdout'], { cwd: join(import.meta.dirname, '../..'), encoding: 'utf8' });
    expect(page, 'npm run build && npm run docs:errors rewrites the page').toBe(generated);
    for (const code of Object.keys(ERROR_CODES)) expect(page, code).toContain(`| \`${code}\` |`);
  });
});
