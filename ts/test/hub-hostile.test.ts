import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RunningHub } from '../src/hub/server.js';
import { nodeToken } from '../src/hub/tokens.js';
import { HubClient, recordsOf, testHub } from './hub-helpers.js';

type Case = {
  name: string;
  method?: string;
  path?: string;
  /** Node whose token signs the request (default: the body's node "a"); null: no token. */
  as?: string | null;
  headers?: Record<string, string>;
  body?: unknown;
  raw?: string;
  status: number;
  code: string;
};

const good = recordsOf('a', 1, 100)[0];
const batch = (over: Record<string, unknown> = {}, record: Record<string, unknown> = {}) => ({
  node: 'a',
  seq: 7,
  records: [{ ...good, ...record }],
  ...over,
});
const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const OBS = '/v1/rounds/h/observations';

const cases: Case[] = [
  { name: 'no token', as: null, body: batch(), status: 401, code: 'ERR_UNAUTHORIZED' },
  { name: 'no token and a malformed body', as: null, raw: '{"node":', status: 401, code: 'ERR_UNAUTHORIZED' },
  { name: 'no token and a 6 MB body', as: null, body: batch({ records: [{ ...good, label: 'l'.repeat(6_000_000) }] }), status: 401, code: 'ERR_UNAUTHORIZED' },
  { name: 'a token that is not hex', as: null, headers: { authorization: 'Bearer not-a-token' }, body: batch(), status: 401, code: 'ERR_UNAUTHORIZED' },
  { name: 'basic auth', as: null, headers: { authorization: 'Basic YTpi' }, body: batch(), status: 401, code: 'ERR_UNAUTHORIZED' },
  { name: 'a token under another secret', as: null, headers: { authorization: `Bearer ${nodeToken('other', 'a')}` }, body: batch(), status: 401, code: 'ERR_UNAUTHORIZED' },
  { name: 'posting as another node', as: 'b', body: batch(), status: 403, code: 'ERR_FORBIDDEN_NODE' },
  { name: 'the admin posting observations', as: 'admin', body: batch(), status: 403, code: 'ERR_FORBIDDEN_NODE' },
  { name: 'records of another node', body: batch({}, { node: 'b' }), status: 403, code: 'ERR_FORBIDDEN_NODE' },
  { name: 'the reserved node id', as: 'admin', path: '/v1/rounds/h/announce', body: { node: 'admin' }, status: 400, code: 'ERR_RESERVED_NODE' },
  { name: 'malformed JSON', raw: '{"node": "a", "seq": ', status: 400, code: 'ERR_INVALID_JSON' },
  { name: 'an empty body', raw: '', status: 400, code: 'ERR_INVALID_JSON' },
  { name: 'NaN', raw: JSON.stringify(batch()).replace(/"lat":[0-9.]+/, '"lat":NaN'), status: 400, code: 'ERR_INVALID_JSON' },
  { name: 'Infinity', raw: JSON.stringify(batch()).replace(/"t":[0-9.]+/, '"t":Infinity'), status: 400, code: 'ERR_INVALID_JSON' },
  { name: 'text/plain', headers: { 'content-type': 'text/plain' }, raw: JSON.stringify(batch()), status: 415, code: 'ERR_UNSUPPORTED_MEDIA_TYPE' },
  { name: '__proto__ poisoning', raw: JSON.stringify(batch()).replace('{', '{"__proto__":{"admin":true},'), status: 400, code: 'ERR_INVALID_JSON' },
  { name: '__proto__ poisoning spelt with an escape', raw: JSON.stringify(batch()).replace('{', '{"\\u005f_proto__":{"admin":true},'), status: 400, code: 'ERR_INVALID_JSON' },
  { name: 'constructor poisoning', raw: JSON.stringify(batch()).replace('{', '{"constructor":{"prototype":{"x":1}},'), status: 400, code: 'ERR_INVALID_JSON' },
  { name: 'an array body', body: [batch()], status: 400, code: 'ERR_VALIDATION' },
  { name: 'seq as a string', body: batch({ seq: '7' }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'seq 0', body: batch({ seq: 0 }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'a fractional seq', body: batch({ seq: 1.5 }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'final as a string', body: batch({ final: 'yes' }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'records not an array', body: batch({ records: { 0: good } }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'a record without id', body: batch({ records: [{ ...good, id: undefined }] }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'an empty id', body: batch({}, { id: '' }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'an id of 200 characters', body: batch({}, { id: 'x'.repeat(200) }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'a class of 100 kB', body: batch({}, { cls: 'c'.repeat(100_000) }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'latitude 91', body: batch({}, { lat: 91 }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'longitude -181', body: batch({}, { lon: -181 }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'a negative time', body: batch({}, { t: -5 }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'a time of 1e300', body: batch({}, { t: 1e300 }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'latitude as a string', body: batch({}, { lat: '52.1' }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'latitude null', body: batch({}, { lat: null }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'an unknown record field', body: batch({}, { speed: 3 }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'an unknown batch field', body: batch({ priority: 1 }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'a string among values', body: batch({}, { values: { speed: 'fast' } }), status: 400, code: 'ERR_VALIDATION' },
  { name: '40 values', body: batch({}, { values: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`v${i}`, i])) }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'deep nesting', raw: JSON.stringify(batch()).replace('"records":', `"x":${deep(50_000)},"records":`), status: 400, code: 'ERR_VALIDATION' },
  { name: '1001 observations', body: batch({ records: Array.from({ length: 1001 }, (_, i) => ({ ...good, id: `big-${i}` })) }), status: 400, code: 'ERR_BATCH_TOO_LARGE' },
  { name: 'a 6 MB body', body: batch({ records: [{ ...good, label: 'l'.repeat(6_000_000) }] }), status: 413, code: 'ERR_BODY_TOO_LARGE' },
  { name: 'a record id with a NUL', body: batch({}, { id: 'a\u0000b' }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'a record id with a control character', body: batch({}, { id: 'a\nb' }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'a record id with half a surrogate pair', raw: JSON.stringify(batch({}, { id: 'aXb' })).replace('aXb', 'a\\ud800b'), status: 400, code: 'ERR_VALIDATION' },
  { name: 'duplicate ids in a batch', body: batch({ records: [good, good] }), status: 409, code: 'ERR_DUPLICATE_RECORD_ID' },
  { name: 'a node id with spaces', as: 'a b', body: batch({ node: 'a b' }), status: 400, code: 'ERR_VALIDATION' },
  { name: 'a round id with a path', path: '/v1/rounds/..%2Fetc/observations', body: batch(), status: 400, code: 'ERR_VALIDATION' },
  { name: 'a round id of 65 characters', path: `/v1/rounds/${'r'.repeat(65)}/observations`, body: batch(), status: 400, code: 'ERR_VALIDATION' },
  { name: 'an unknown round', path: '/v1/rounds/nowhere/observations', body: batch(), status: 404, code: 'ERR_ROUND_NOT_FOUND' },
  { name: 'an unknown route', method: 'GET', path: '/v1/nothing', status: 404, code: 'ERR_ROUTE_NOT_FOUND' },
  { name: 'a wrong method', method: 'DELETE', path: '/v1/rounds/h', status: 404, code: 'ERR_ROUTE_NOT_FOUND' },
  { name: 'waitMs below zero', method: 'GET', path: '/v1/rounds/h/result?waitMs=-1', status: 400, code: 'ERR_VALIDATION' },
  { name: 'waitMs not a number', method: 'GET', path: '/v1/rounds/h/result?waitMs=soon', status: 400, code: 'ERR_VALIDATION' },
  { name: 'an unknown query parameter', method: 'GET', path: '/v1/rounds?limit=5&drop=1', status: 400, code: 'ERR_VALIDATION' },
  { name: 'a stateless fuse with a node token', path: '/v1/fuse', as: 'a', body: { records: [good] }, status: 403, code: 'ERR_FORBIDDEN_NODE' },
  { name: 'a stateless fuse with an unknown token', path: '/v1/fuse', as: 'stranger', body: { records: [good] }, status: 401, code: 'ERR_UNAUTHORIZED' },
  { name: 'closing with a node token', path: '/v1/rounds/h/close', as: 'b', status: 403, code: 'ERR_FORBIDDEN_NODE' },
];

describe.each([
  { hub: 'one process', workers: 0 },
  { hub: '2 worker processes', workers: 2 },
])('hostile and malformed requests ($hub)', ({ workers }) => {
  let hub: RunningHub;
  let c: HubClient;
  beforeAll(async () => {
    hub = await testHub({ workers });
    c = new HubClient(hub.url);
    await c.announce('h', 'a');
    await c.announce('h', 'b');
  });
  afterAll(async () => {
    await hub.close();
  });

  it(`has at least 30 cases`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('rejects $name with $status $code', async (t) => {
    const reply = await c.request(t.method ?? 'POST', t.path ?? OBS, {
      as: t.as === undefined ? 'a' : t.as,
      headers: t.headers,
      body: t.body,
      raw: t.raw,
    });
    expect(reply.status, JSON.stringify(reply.body).slice(0, 300)).toBe(t.status);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(reply.body.error.code).toBe(t.code);
    expect(typeof reply.body.error.message).toBe('string');
    expect(reply.body.error.message.length).toBeGreaterThan(0);
  });

  it('names the record whose id is refused', async () => {
    const reply = await c.report('h', 'a', 1, [good, { ...good, id: 'x\u0001' }]);
    expect(reply.status).toBe(400);
    expect(reply.body.error.message).toBe('records[1].id must hold no control character (U+0000 to U+001F) and no half of a surrogate pair');
  });

  it('keeps serving and has accepted nothing from them', async () => {
    expect((await c.request('GET', '/healthz')).status).toBe(200);
    expect((await c.summary('h')).body).toMatchObject({ state: 'open', batches: 0, observations: 0 });
    // A record id outside the Basic Multilingual Plane (a whole surrogate pair) is fine.
    const ok = await c.report('h', 'a', 1, [good, { ...good, id: 'a-\u{1F697}' }], true);
    expect(ok.status).toBe(202);
    const metrics = (await c.request('GET', '/metrics')).body as string;
    const rejected = [...metrics.matchAll(/^fleetscale_hub_rejected_total\{code="(\w+)"\} (\d+)$/gm)];
    expect(rejected.reduce((n, m) => n + Number(m[2]), 0)).toBe(cases.length + 1);
  });
});

describe('overload', () => {
  it('answers 503 with Retry-After and a code when under pressure', async () => {
    const hub = await testHub({ pressure: { maxHeapUsedBytes: 1, retryAfterS: 3, sampleIntervalMs: 10 } });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const reply = await new HubClient(hub.url).announce('p', 'a');
      expect(reply.status).toBe(503);
      expect(reply.headers.get('retry-after')).toBe('3');
      expect(reply.body.error.code).toBe('ERR_OVERLOADED');
    } finally {
      await hub.close();
    }
  });
});
