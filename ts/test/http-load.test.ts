/**
 * The native load generator through its TypeScript facade, against a node:http server:
 * requests answered and counted, failures by code, and every malformed plan refused with
 * ERR_LOAD_CONFIG, an unreachable server with ERR_LOAD_FAILED.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runHttpLoad } from '../src/lab/load/http-load.js';

let server: http.Server;
let url: string;
const seen: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push(`${req.url} ${body}`);
      const failed = req.url === '/fail';
      if (req.url === '/slow') {
        setTimeout(() => {
          res.writeHead(202, { 'content-type': 'application/json', 'content-length': 2 });
          res.end('{}');
        }, 300);
        return;
      }
      const out = failed ? JSON.stringify({ error: { code: 'ERR_TEST', message: 'no' } }) : '{}';
      res.writeHead(failed ? 400 : 202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const request = (path: string, body: string) => Buffer.from(`POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

describe('runHttpLoad', () => {
  it('sends each connection its warm-up, then its timed requests, and counts the answers', async () => {
    seen.length = 0;
    const connections = [0, 1, 2].map((c) => ({ warmUp: request('/warm', `w${c}`), timed: [1, 2, 3].map((k) => request(k === 2 && c === 1 ? '/fail' : '/ok', `c${c}k${k}`)) }));
    const report = await runHttpLoad({ url, connections, intervalMs: 5 });
    expect(report.acked).toBe(8);
    expect(report.replies).toBe(9);
    expect(report.failures).toEqual({ ERR_TEST: 1 });
    expect(report.latenciesMs).toHaveLength(9);
    // Paced 5 ms apart, the 9 replies were sent in the run's first 100 ms window.
    expect(report.timeline).toEqual([{ startMs: 0, replies: 9, maxMs: report.latenciesMs.at(-1), maxSendLateMs: expect.any(Number) }]);
    // How late the generator sent a request: not before its time, and within the run.
    expect(report.timeline[0].maxSendLateMs).toBeGreaterThanOrEqual(0);
    expect(report.timeline[0].maxSendLateMs).toBeLessThan(report.elapsedMs);
    expect(seen).toHaveLength(12);
    // A connection's requests arrive in order, warm-up first.
    const ofConnection1 = seen.filter((s) => / [wc]1/.test(s)).map((s) => s.split(' ')[1]);
    expect(ofConnection1).toEqual(['w1', 'c1k1', 'c1k2', 'c1k3']);
  });

  it('refuses malformed plans with ERR_LOAD_CONFIG', async () => {
    const one = [{ warmUp: request('/warm', 'w'), timed: [request('/ok', 'a')] }];
    await expect(runHttpLoad({ url: 'not a url', connections: one })).rejects.toMatchObject({ code: 'ERR_LOAD_CONFIG' });
    await expect(runHttpLoad({ url: 'https://127.0.0.1:1', connections: one })).rejects.toMatchObject({ code: 'ERR_LOAD_CONFIG' });
    await expect(runHttpLoad({ url, connections: [] })).rejects.toMatchObject({ code: 'ERR_LOAD_CONFIG', message: expect.stringContaining('at least one') });
    await expect(runHttpLoad({ url, connections: [...one, { warmUp: request('/warm', 'w'), timed: [] }] })).rejects.toMatchObject({
      code: 'ERR_LOAD_CONFIG',
      message: expect.stringContaining('as many timed'),
    });
    await expect(runHttpLoad({ url, connections: [{ warmUp: new Uint8Array(0), timed: [] }] })).rejects.toMatchObject({ code: 'ERR_LOAD_CONFIG' });
    await expect(runHttpLoad({ url, connections: one, intervalMs: -1 })).rejects.toMatchObject({ code: 'ERR_LOAD_CONFIG', message: expect.stringContaining('intervalMs') });
    await expect(runHttpLoad({ url, connections: one, timeoutMs: Number.NaN })).rejects.toMatchObject({ code: 'ERR_LOAD_CONFIG' });
  });

  it("counts a request waiting for its connection's previous reply as the server's delay, not the generator's lateness", async () => {
    // Paced 5 ms apart, each reply 300 ms late: every request after the first goes about 295 ms
    // after its scheduled time, because its connection was waiting, and it counts from then.
    const connections = [{ warmUp: request('/warm', 'w'), timed: [1, 2, 3].map(() => request('/slow', 's')) }];
    const report = await runHttpLoad({ url, connections, intervalMs: 5 });
    expect(report.acked).toBe(3);
    expect(report.latenciesMs.at(-1)).toBeGreaterThan(550);
    expect(Math.max(...report.timeline.map((w) => w.maxSendLateMs))).toBeLessThan(250);
  });

  it('rejects with ERR_LOAD_FAILED when nothing listens', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const one = [{ warmUp: request('/warm', 'w'), timed: [request('/ok', 'a')] }];
    await expect(runHttpLoad({ url: `http://127.0.0.1:${port}`, connections: one })).rejects.toMatchObject({ code: 'ERR_LOAD_FAILED' });
  });
});
