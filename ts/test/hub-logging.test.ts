/** What the hub tells its operator: a line per fused round, and rejected requests summed by code once a period. */
import { afterEach, describe, expect, it, vi } from 'vitest';

import { hubApp } from '../src/hub/app.js';
import { hubFastify } from '../src/hub/server.js';
import { EmbeddedStore } from '../src/hub/store/embedded.js';
import { nodeToken } from '../src/hub/tokens.js';
import { recordsOf, SECRET, tempDir } from './hub-helpers.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  vi.useRealTimers();
  while (closers.length) await closers.pop()!();
});

async function loggedHub(rejectedSummaryMs: number) {
  const lines: Array<{ level: number; msg: string }> = [];
  const app = hubFastify({ level: 'info', stream: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  const store = await EmbeddedStore.open(tempDir());
  await app.register(hubApp, { store, secret: SECRET, rejectedSummaryMs });
  await app.ready();
  closers.push(async () => {
    await app.close();
    await store.shutdown();
  });
  const post = (url: string, node: string | undefined, body: unknown) =>
    app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', ...(node ? { authorization: `Bearer ${nodeToken(SECRET, node)}` } : {}) },
      payload: JSON.stringify(body),
    });
  return { app, lines, post };
}

describe('hub logs', () => {
  it('one line per fused round: why it closed, nodes, observations, events, fusion time', async () => {
    const { app, lines, post } = await loggedHub(0);
    expect((await post('/v1/rounds/r1/announce', 'a', { node: 'a' })).statusCode).toBe(200);
    expect((await post('/v1/rounds/r1/announce', 'b', { node: 'b' })).statusCode).toBe(200);
    expect((await post('/v1/rounds/r1/observations', 'a', { node: 'a', seq: 1, final: true, records: recordsOf('a', 3) })).statusCode).toBe(202);
    expect((await post('/v1/rounds/r1/observations', 'b', { node: 'b', seq: 1, final: true, records: recordsOf('b', 2) })).statusCode).toBe(202);
    expect((await app.inject({ method: 'GET', url: '/v1/rounds/r1/result?waitMs=20000' })).statusCode).toBe(200);
    const fused = lines.filter((l) => l.msg.startsWith('hub: round r1 fused'));
    expect(fused).toHaveLength(1);
    expect(fused[0]!.level).toBe(30); // info
    expect(fused[0]!.msg).toMatch(
      /^hub: round r1 fused: closed because every node sent its final batch; 2\/2 nodes final, 5 observations in 2 batches, \d+ events, fusion [\d.]+ ms$/,
    );
    // No line per request at info.
    expect(lines.filter((l) => /incoming request|request completed/.test(l.msg))).toEqual([]);
  });

  it('rejected requests summed by code once a period, and nothing when there were none', async () => {
    // The period's timer is faked: the requests cannot straddle two periods however slow the host.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { app, lines, post } = await loggedHub(150);
    for (let i = 0; i < 3; i++) expect((await post('/v1/rounds/r2/announce', undefined, { node: 'x' })).statusCode).toBe(401);
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/rounds/r2/announce',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${nodeToken(SECRET, 'x')}` },
      payload: '{not json',
    });
    expect(bad.statusCode).toBe(400);
    vi.advanceTimersByTime(150);
    vi.advanceTimersByTime(300);
    vi.useRealTimers();
    const summaries = lines.filter((l) => l.msg.startsWith('hub: rejected'));
    expect(summaries[0]!.level).toBe(40); // warn
    expect(summaries[0]!.msg).toBe('hub: rejected in the last 150 ms: ERR_UNAUTHORIZED ×3, ERR_INVALID_JSON ×1');
    // Each period reports what it saw: the later ones had nothing, so they said nothing.
    expect(summaries).toHaveLength(1);
  });
});
