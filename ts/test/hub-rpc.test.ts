/**
 * The batched link between hub workers and the process owning the store, over an in-process
 * channel that clones packets the way cluster IPC serialises them, and a worker's app over
 * it and the report link: codes survive the hop, a turn's calls travel in one packet, a lost
 * peer fails its calls, and a worker with too much waiting sheds load with 503.
 */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

import { hubApp } from '../src/hub/app.js';
import { ReportSender, serveReports } from '../src/hub/cluster/report-link.js';
import { RoundClient } from '../src/hub/cluster/round-client.js';
import { RpcPeer, type RpcChannel, type RpcHandlers, type RpcPacket } from '../src/hub/cluster/rpc.js';
import { HubError } from '../src/hub/errors.js';
import { batchDigest } from '../src/hub/rounds.js';
import { nodeToken } from '../src/hub/tokens.js';
import type { Batch, BatchOutcome } from '../src/hub/store/types.js';
import { recordsOf, SECRET, socketPair } from './hub-helpers.js';

/** Two connected ends; `sent` records every packet each end sent. */
function link(handlersA: RpcHandlers = {}, handlersB: RpcHandlers = {}, opts: { deliver?: boolean } = {}) {
  const listeners: Array<(packet: RpcPacket) => void> = [];
  const sent: RpcPacket[][] = [[], []];
  const end = (self: 0 | 1): RpcChannel => ({
    send: (packet) => {
      sent[self].push(packet);
      const copy = structuredClone(packet);
      if (opts.deliver !== false) setImmediate(() => listeners[1 - self](copy));
    },
    onPacket: (listener) => void (listeners[self] = listener),
  });
  const a = new RpcPeer(end(0), handlersA);
  const b = new RpcPeer(end(1), handlersB);
  return { a, b, sent };
}

describe('RpcPeer', () => {
  it('answers calls both ways, in one packet per turn', async () => {
    const { a, b, sent } = link({ ping: () => 'pong' }, { add: (x: number, y: number) => x + y, later: async (x: number) => x * 2 });
    const answers = await Promise.all([a.call('add', [1, 2]), a.call('later', [21]), a.call('add', [10, 20]), b.call('ping')]);
    expect(answers).toEqual([3, 42, 30, 'pong']);
    expect(sent[0][0].calls).toHaveLength(3);
    expect(a.inFlight).toBe(0);
  });

  it('keeps a HubError code across the hop and turns anything else into ERR_INTERNAL', async () => {
    const { a } = link(
      {},
      {
        closed: () => {
          throw new HubError('ERR_ROUND_CLOSED', 'round "r" is closed');
        },
        rejects: async () => Promise.reject(new HubError('ERR_BATCH_CONFLICT', 'other content')),
        crashes: () => {
          throw new TypeError('boom');
        },
      },
    );
    await expect(a.call('closed')).rejects.toMatchObject({ name: 'FleetscaleError', code: 'ERR_ROUND_CLOSED', statusCode: 409, message: 'round "r" is closed' });
    await expect(a.call('rejects')).rejects.toMatchObject({ code: 'ERR_BATCH_CONFLICT', statusCode: 409 });
    await expect(a.call('crashes')).rejects.toMatchObject({ code: 'ERR_INTERNAL', statusCode: 500, message: 'boom' });
    await expect(a.call('missing')).rejects.toMatchObject({ code: 'ERR_INTERNAL', message: 'no handler "missing" on the other end' });
    await expect(a.call('toString')).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
  });

  it('fails every call in flight, and every later one, once the other end is gone', async () => {
    const { a } = link({}, {}, { deliver: false });
    const waiting = [a.call('x'), a.call('y')];
    expect(a.inFlight).toBe(2);
    a.fail(new HubError('ERR_STORE_UNAVAILABLE', 'gone'));
    for (const call of waiting) await expect(call).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' });
    await expect(a.call('z')).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' });
    expect(a.inFlight).toBe(0);
  });

  it('fails its calls with ERR_STORE_UNAVAILABLE when the channel throws on send', async () => {
    const peer = new RpcPeer({
      send: () => {
        throw new Error('channel closed');
      },
      onPacket: () => {},
    });
    await expect(peer.call('x')).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', message: expect.stringMatching(/channel closed/) });
  });
});

describe('a worker app over RoundClient', () => {
  type Accept = (round: string, batch: Batch) => Promise<BatchOutcome>;
  async function workerApp(handlers: RpcHandlers, accept: Accept = async () => Promise.reject(new Error('no reports here')), maxInFlight?: number) {
    const { a } = link({}, handlers);
    const [workerEnd, primaryEnd] = await socketPair();
    serveReports(primaryEnd, accept);
    const app = Fastify({ logger: false });
    await app.register(hubApp, { rounds: new RoundClient(a, new ReportSender(workerEnd), 'embedded', maxInFlight), secret: SECRET, scrape: async () => 'scraped 1\n' });
    app.addHook('onClose', async () => {
      workerEnd.destroy();
      primaryEnd.destroy();
    });
    return app;
  }
  const post = (app: Awaited<ReturnType<typeof workerApp>>, path: string, node: string, body: unknown) =>
    app.inject({ method: 'POST', url: path, headers: { authorization: `Bearer ${nodeToken(SECRET, node)}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });

  it("sends a batch as its text, record ids and digest, and answers with the primary's outcome", async () => {
    const reports: Array<[string, Batch]> = [];
    const app = await workerApp({ openRounds: () => 3 }, async (round, batch) => {
      reports.push([round, batch]);
      return { duplicate: false, state: 'open', complete: false };
    });
    const records = recordsOf('a', 2);
    const body = { node: 'a', seq: 1, records };
    const reply = await post(app, '/v1/rounds/r/observations', 'a', body);
    expect(reply.statusCode).toBe(202);
    expect(reply.json()).toMatchObject({ round: 'r', node: 'a', seq: 1, accepted: 2, duplicate: false, state: 'open' });
    expect(reports).toHaveLength(1);
    const [round, { node, seq, final, ids, json, digest }] = reports[0];
    expect([round, node, seq, final, ids]).toEqual(['r', 'a', 1, false, ['a-r0', 'a-r1']]);
    // The text arrives as the UTF-8 bytes of the body as sent, with the digest of that text.
    expect(Buffer.isBuffer(json)).toBe(true);
    expect((json as Buffer).toString('utf8')).toBe(JSON.stringify(body));
    expect(digest).toBe(batchDigest(JSON.stringify(body)));
    expect((await app.inject({ url: '/healthz' })).json()).toMatchObject({ store: 'embedded', openRounds: 3 });
    expect((await app.inject({ url: '/metrics' })).body).toBe('scraped 1\n');
    await app.close();
  });

  it("answers the primary's rejection with its status and code, and its own checks before any call", async () => {
    let calls = 0;
    const app = await workerApp({}, async () => {
      calls++;
      throw new HubError('ERR_NOT_ANNOUNCED', 'node "a" has not announced itself');
    });
    const rejected = await post(app, '/v1/rounds/r/observations', 'a', { node: 'a', seq: 1, records: recordsOf('a', 1) });
    expect(rejected.statusCode).toBe(409);
    expect(rejected.json().error.code).toBe('ERR_NOT_ANNOUNCED');
    const foreign = await post(app, '/v1/rounds/r/observations', 'a', { node: 'a', seq: 2, records: recordsOf('b', 1) });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.code).toBe('ERR_FORBIDDEN_NODE');
    expect(calls).toBe(1);
    await app.close();
  });

  it('sheds load with 503, Retry-After and ERR_OVERLOADED when too many calls wait on the primary', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const bothArrived = new Promise<void>((resolve) => (arrived = resolve));
    let calls = 0;
    const app = await workerApp(
      {
        announce: async () => {
          if (++calls === 2) arrived();
          return held.then(() => ({ deadline: 1 }));
        },
      },
      async () => {
        if (++calls === 2) arrived();
        return held.then(() => ({ duplicate: false, state: 'open' as const, complete: false }));
      },
      2,
    );
    // One call on each link: the cap counts both.
    const waiting = [post(app, '/v1/rounds/r/announce', 'a', { node: 'a' }), post(app, '/v1/rounds/r/observations', 'b', { node: 'b', seq: 1, records: recordsOf('b', 1) })];
    await bothArrived; // both calls wait on the primary now
    for (const [path, body] of [
      ['/v1/rounds/r/announce', { node: 'c' }],
      ['/v1/rounds/r/observations', { node: 'c', seq: 1, records: recordsOf('c', 1) }],
    ] as const) {
      const shed = await post(app, path, 'c', body);
      expect(shed.statusCode).toBe(503);
      expect(shed.headers['retry-after']).toBe('1');
      expect(shed.json().error.code).toBe('ERR_OVERLOADED');
    }
    release();
    expect((await Promise.all(waiting)).map((reply) => reply.statusCode)).toEqual([200, 202]);
    await app.close();
  });
});
