import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { type FusionResult, fuseSync, generateFleet, type SensorRecord } from '../src/index.js';
import type { RunningHub } from '../src/hub/server.js';
import { readBatchRecords } from '../src/fusion/batch-texts.js';
import { batchDigest } from '../src/hub/rounds.js';
import { EmbeddedStore } from '../src/hub/store/embedded.js';
import { FUSED_ROUNDS_REMEMBERED } from '../src/hub/store/types.js';
import { PostgresStore } from '../src/hub/store/postgres.js';
import { dropSchemas, freshSchema, HubClient, PG_URL, postgresAvailable, recordsOf, tempDir, testHub } from './hub-helpers.js';

const hubs: RunningHub[] = [];
const schemas: string[] = [];
afterEach(async () => {
  while (hubs.length) await hubs.pop()!.close();
});
afterAll(async () => {
  await dropSchemas(schemas);
});

const withPostgres = await postgresAvailable();
const pgSchema = () => {
  const schema = freshSchema();
  schemas.push(schema);
  return schema;
};
/**
 * The protocol suite runs on every store, and behind worker processes (HTTP in 2 processes on
 * one port: on the embedded store they call the one process that owns it; on PostgreSQL each
 * is a hub of its own): the rules are the store's to keep, whichever process takes a request.
 */
const stores: Array<{ kind: string; store: string; options: () => Promise<Parameters<typeof testHub>[0]> }> = [
  { kind: 'embedded', store: 'embedded', options: async () => ({}) },
  { kind: 'embedded, 2 worker processes', store: 'embedded', options: async () => ({ workers: 2 }) },
  ...(withPostgres
    ? [
        { kind: 'postgres', store: 'postgres', options: async () => ({ store: await PostgresStore.open(PG_URL, { schema: pgSchema() }) }) },
        { kind: 'postgres, 2 worker processes', store: 'postgres', options: async () => ({ postgres: { url: PG_URL, schema: pgSchema() }, workers: 2 }) },
      ]
    : []),
];

/** Normalises a result for comparison: phase timings differ from run to run. */
const events = (result: { events: unknown[] }) => result.events;

describe.each(stores)('hub round protocol on the $kind store', ({ store: kind, options: variant }) => {
  async function hub(options: Parameters<typeof testHub>[0] = {}) {
    const h = await testHub({ ...(await variant()), ...options });
    hubs.push(h);
    return { h, c: new HubClient(h.url) };
  }
  it('announce → batches → final closes the round; the result equals fusing the same records', async () => {
    const { c } = await hub();
    const fleet = generateFleet({ nodes: 12, obsPerNode: 4, seed: 3 });
    const byNode = new Map<string, SensorRecord[]>();
    for (const r of fleet.records) byNode.set(r.node, [...(byNode.get(r.node) ?? []), r]);
    for (const node of byNode.keys()) {
      const reply = await c.announce('r1', node);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ round: 'r1', node, state: 'open' });
      expect(reply.body.deadline).toBeGreaterThan(Date.now());
    }
    const nodes = [...byNode.keys()];
    for (const [k, node] of nodes.entries()) {
      const records = byNode.get(node)!;
      const first = await c.report('r1', node, 1, records.slice(0, 2));
      expect(first.status).toBe(202);
      expect(first.body).toEqual({ round: 'r1', node, seq: 1, accepted: 2, duplicate: false, state: 'open' });
      const last = await c.report('r1', node, 2, records.slice(2), true);
      expect(last.status).toBe(202);
      // The last node's final batch closes the round.
      expect(last.body.state).toBe(k === nodes.length - 1 ? 'closed' : 'open');
    }
    const result = await c.result('r1', 10_000);
    expect(result.status).toBe(200);
    expect(events(result.body)).toEqual(fuseSync(fleet.records).events);
    expect(result.body.stats.records).toBe(fleet.records.length);

    const summary = await c.summary('r1');
    expect(summary.body).toMatchObject({
      round: 'r1',
      state: 'fused',
      closeReason: 'final',
      nodes: 12,
      finalNodes: 12,
      batches: 24,
      observations: 48,
      events: result.body.events.length,
    });
    const list = await c.request('GET', '/v1/rounds');
    expect(list.status).toBe(200);
    expect(list.body.rounds.map((r: { round: string }) => r.round)).toEqual(['r1']);
  });

  it('accepts a retried batch once, also when the retries race the original', async () => {
    const { c } = await hub();
    await c.announce('r', 'a');
    await c.announce('r', 'b');
    const batch = recordsOf('a', 3);
    const replies = await Promise.all(Array.from({ length: 8 }, () => c.report('r', 'a', 1, batch)));
    expect(replies.every((r) => r.status === 202)).toBe(true);
    expect(replies.filter((r) => !r.body.duplicate)).toHaveLength(1);
    expect(replies.filter((r) => r.body.duplicate).every((r) => r.body.accepted === 0)).toBe(true);
    const again = await c.report('r', 'a', 1, batch);
    expect(again.body).toMatchObject({ duplicate: true, accepted: 0 });
    expect((await c.summary('r')).body).toMatchObject({ batches: 1, observations: 3 });
    // The same seq with other content is a conflict, not a silent overwrite.
    const other = await c.report('r', 'a', 1, recordsOf('a', 2, 10));
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('ERR_BATCH_CONFLICT');
  });

  it('answers each of many concurrent batches on its own (one group commit on PostgreSQL)', async () => {
    const { c } = await hub();
    const nodes = Array.from({ length: 30 }, (_, k) => `n${k}`);
    await Promise.all(nodes.map((n) => c.announce('m', n)));
    await c.report('m', 'n0', 1, recordsOf('n0', 2));
    const stolen = recordsOf('n2', 1).map((r) => ({ ...r, id: 'n0-r0' }));
    const replies = await Promise.all([
      ...nodes.slice(3).map((n) => c.report('m', n, 1, recordsOf(n, 2))),
      c.report('m', 'n0', 1, recordsOf('n0', 2)), // a retry
      c.report('m', 'n0', 2, recordsOf('n0', 1, 5)), // new
      c.report('m', 'n1', 1, recordsOf('n1', 2)),
      c.report('m', 'n2', 1, stolen), // another node's record id
    ]);
    const [ok, retry, next, n1, dupId] = [replies.slice(0, 27), ...replies.slice(27)];
    expect(ok.every((r) => r.status === 202 && r.body.accepted === 2 && !r.body.duplicate)).toBe(true);
    expect(retry.body).toMatchObject({ duplicate: true, accepted: 0 });
    expect(next.body).toMatchObject({ duplicate: false, accepted: 1 });
    expect(n1.status).toBe(202);
    expect(dupId.status).toBe(409);
    expect(dupId.body.error.code).toBe('ERR_DUPLICATE_RECORD_ID');
    // The rejected batch left nothing behind: its seq is free for a corrected batch.
    expect((await c.report('m', 'n2', 1, recordsOf('n2', 1))).status).toBe(202);
    expect((await c.summary('m')).body).toMatchObject({ state: 'open', batches: 31, observations: 2 + 54 + 1 + 2 + 1 });
    // Every node's final batch at once: the round closes, once, with every record.
    const finals = await Promise.all(nodes.map((n) => c.report('m', n, n === 'n0' ? 3 : 2, recordsOf(n, 1, 9), true)));
    expect(finals.every((r) => r.status === 202)).toBe(true);
    const result = await c.result('m', 10_000);
    expect(result.status).toBe(200);
    expect(result.body.stats.records).toBe(60 + 30);
    expect((await c.summary('m')).body).toMatchObject({ state: 'fused', closeReason: 'final', finalNodes: 30 });
    // However many of those batches saw the round complete, the store was asked to close it once.
    const metrics = (await c.request('GET', '/metrics')).body as unknown as string;
    expect(/^fleetscale_hub_store_seconds_count\{op="close"\} (\d+)$/m.exec(metrics)?.[1]).toBe('1');
  });

  it('closes a round at its deadline with what arrived', async () => {
    const { c } = await hub({ roundDeadlineMs: 300, sweepMs: 50 });
    await c.announce('d', 'a');
    await c.announce('d', 'b');
    await c.report('d', 'a', 1, recordsOf('a', 2), true);
    await c.report('d', 'b', 1, recordsOf('b', 1)); // b never sends a final batch
    const early = await c.result('d');
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('ERR_ROUND_OPEN');
    const result = await c.result('d', 10_000);
    expect(result.status).toBe(200);
    expect(result.body.stats.records).toBe(3);
    expect((await c.summary('d')).body).toMatchObject({ state: 'fused', closeReason: 'deadline', finalNodes: 1, nodes: 2 });
    const late = await c.report('d', 'b', 2, recordsOf('b', 1, 5), true);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('ERR_ROUND_CLOSED');
    // A retry of a batch the hub acknowledged (its reply lost) is still that batch once the
    // round is fused: a duplicate, not a refusal; with other content it is a conflict.
    const retry = await c.report('d', 'b', 1, recordsOf('b', 1));
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ duplicate: true, accepted: 0, state: 'fused' });
    const retryFinal = await c.report('d', 'a', 1, recordsOf('a', 2), true);
    expect(retryFinal.body).toMatchObject({ duplicate: true, state: 'fused' });
    const changed = await c.report('d', 'b', 1, recordsOf('b', 1, 9));
    expect(changed.status).toBe(409);
    expect(changed.body.error.code).toBe('ERR_BATCH_CONFLICT');
    expect((await c.result('d')).body.stats.records).toBe(3);
  });

  it('lets the admin close a round, once; nodes may not', async () => {
    const { c } = await hub();
    await c.announce('x', 'a');
    await c.report('x', 'a', 1, recordsOf('a', 2));
    const byNode = await c.request('POST', '/v1/rounds/x/close', { as: 'a' });
    expect(byNode.status).toBe(403);
    const anonymous = await c.request('POST', '/v1/rounds/x/close');
    expect(anonymous.status).toBe(401);
    const closed = await c.close('x');
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ round: 'x', closedNow: true });
    const again = await c.close('x');
    expect(again.body.closedNow).toBe(false);
    expect((await c.result('x', 10_000)).body.stats.records).toBe(2);
    expect((await c.summary('x')).body.closeReason).toBe('admin');
    expect((await c.announce('x', 'b')).body.error.code).toBe('ERR_ROUND_CLOSED');
    expect((await c.close('nope')).status).toBe(404);
  });

  it('enforces the order of the protocol', async () => {
    const { c } = await hub();
    expect((await c.report('none', 'a', 1, recordsOf('a', 1))).body.error.code).toBe('ERR_ROUND_NOT_FOUND');
    expect((await c.result('none')).status).toBe(404);
    await c.announce('o', 'a');
    const notAnnounced = await c.report('o', 'b', 1, recordsOf('b', 1));
    expect(notAnnounced.status).toBe(409);
    expect(notAnnounced.body.error.code).toBe('ERR_NOT_ANNOUNCED');
    await c.announce('o', 'c');
    expect((await c.report('o', 'a', 1, recordsOf('a', 1), true)).status).toBe(202);
    const after = await c.report('o', 'a', 2, recordsOf('a', 1, 3));
    expect(after.status).toBe(409);
    expect(after.body.error.code).toBe('ERR_AFTER_FINAL');
    await c.report('o', 'c', 3, recordsOf('c', 1));
    const finalBefore = await c.report('o', 'c', 2, recordsOf('c', 1, 4), true);
    expect(finalBefore.body.error.code).toBe('ERR_AFTER_FINAL');
    const dupId = await c.report('o', 'c', 4, recordsOf('c', 1));
    expect(dupId.status).toBe(409);
    expect(dupId.body.error.code).toBe('ERR_DUPLICATE_RECORD_ID');
    // A repeated announce is harmless and keeps the deadline.
    const first = await c.announce('o', 'c');
    const second = await c.announce('o', 'c');
    expect(second.body.deadline).toBe(first.body.deadline);
    expect((await c.summary('o')).body.nodes).toBe(2);
  });

  it("waits for a gap in a node's batches before counting it final", async () => {
    const { c } = await hub();
    await c.announce('g', 'a');
    await c.report('g', 'a', 2, recordsOf('a', 1, 2), true);
    expect((await c.summary('g')).body).toMatchObject({ state: 'open', finalNodes: 0 });
    const filled = await c.report('g', 'a', 1, recordsOf('a', 1));
    expect(filled.body.state).toBe('closed');
    expect((await c.result('g', 10_000)).body.stats.records).toBe(2);
  });

  it('fuses a payload statelessly for the admin', async () => {
    const { c } = await hub();
    const fleet = generateFleet({ nodes: 30, obsPerNode: 3, seed: 5 });
    const reply = await c.request('POST', '/v1/fuse', { as: 'admin', body: { records: fleet.records } });
    expect(reply.status).toBe(200);
    expect(reply.body.events).toEqual(fuseSync(fleet.records).events);
    expect((await c.request('POST', '/v1/fuse', { as: 'node-1', body: { records: [] } })).status).toBe(401);
    const dup = await c.request('POST', '/v1/fuse', { as: 'admin', body: { records: [fleet.records[0], fleet.records[0]] } });
    expect(dup.body.error.code).toBe('ERR_DUPLICATE_RECORD_ID');
  });

  it('serves health, Prometheus metrics and the dashboard page', async () => {
    const { c } = await hub();
    await c.announce('m', 'a');
    await c.report('m', 'a', 1, recordsOf('a', 4), true);
    await c.result('m', 10_000);
    await c.request('POST', '/v1/rounds/m/observations', { as: 'a', raw: '{' });
    const health = await c.request('GET', '/healthz');
    expect(health.body).toMatchObject({ status: 'ok', store: kind, openRounds: 0 });
    const metrics = await c.request('GET', '/metrics');
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = metrics.body as string;
    expect(text).toMatch(/^fleetscale_hub_observations_total 4$/m);
    expect(text).toMatch(/^fleetscale_hub_batches_total\{outcome="accepted"\} 1$/m);
    expect(text).toMatch(/^fleetscale_hub_ingest_seconds_count 1$/m);
    expect(text).toMatch(/^fleetscale_hub_rounds_total\{event="fused"\} 1$/m);
    expect(text).toMatch(/^fleetscale_hub_rounds_total\{event="opened"\} 1$/m);
    expect(text).toMatch(/^fleetscale_hub_open_rounds 0$/m);
    expect(text).toMatch(/^fleetscale_hub_fusion_seconds_count 1$/m);
    expect(text).toMatch(/^fleetscale_hub_store_seconds_count\{op="report"\} 1$/m);
    expect(text).toMatch(/^fleetscale_hub_rejected_total\{code="ERR_INVALID_JSON"\} 1$/m);
    const page = await c.request('GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.body).toMatch(/<svg id="scatter"/);
  });
});

describe('embedded store durability', () => {
  async function hub(options: Parameters<typeof testHub>[0] = {}) {
    const h = await testHub(options);
    hubs.push(h);
    return { h, c: new HubClient(h.url) };
  }
  it("recovers open rounds with their observations and keeps closed rounds' results after a restart", async () => {
    const dataDir = tempDir();
    let { h, c } = await hub({ dataDir });
    await c.announce('done', 'a');
    await c.report('done', 'a', 1, recordsOf('a', 3), true);
    const before = await c.result('done', 10_000);
    await c.announce('open', 'a');
    await c.announce('open', 'b');
    await c.report('open', 'a', 1, recordsOf('a', 2), true);
    await c.report('open', 'b', 1, recordsOf('b', 2));
    await h.close();
    hubs.pop();

    ({ h, c } = await hub({ dataDir }));
    expect((await c.result('done')).body).toEqual(before.body);
    expect((await c.summary('open')).body).toMatchObject({ state: 'open', nodes: 2, finalNodes: 1, batches: 2, observations: 4 });
    // Retries of what was acknowledged before the restart are still recognised.
    expect((await c.report('open', 'b', 1, recordsOf('b', 2))).body.duplicate).toBe(true);
    expect((await c.report('open', 'b', 2, recordsOf('b', 1, 7), true)).body.state).toBe('closed');
    const result = await c.result('open', 10_000);
    expect(result.body.events.flatMap((e: { members: string[] }) => e.members).sort()).toEqual(
      [...recordsOf('a', 2), ...recordsOf('b', 2), ...recordsOf('b', 1, 7)].map((r) => r.id).sort(),
    );
  });

  it('cuts a torn tail off the log and keeps every whole entry before it', async () => {
    const dataDir = tempDir();
    const { h, c } = await hub({ dataDir });
    await c.announce('t', 'a');
    await c.report('t', 'a', 1, recordsOf('a', 2));
    await h.close();
    hubs.pop();
    const walDir = join(dataDir, 'wal');
    const last = readdirSync(walDir)
      .sort()
      .filter((f) => f.endsWith('.log'))
      .at(-1)!;
    // A frame header promising 1000 bytes, then only a few: a write cut off by a crash.
    appendFileSync(join(walDir, last), Buffer.from([0xe8, 0x03, 0, 0, 1, 2, 3, 4, 5, 6, 7]));
    const truncated: number[] = [];
    const store = await EmbeddedStore.open(dataDir, { onTruncate: (_segment, _at, dropped) => truncated.push(dropped) });
    expect(truncated).toEqual([11]);
    expect(await store.summary('t')).toMatchObject({ state: 'open', batches: 1, observations: 2 });
    await store.shutdown();
  });

  it('answers a retry into the latest fused rounds as a duplicate, and ERR_ROUND_CLOSED after a restart', async () => {
    const dataDir = tempDir();
    const store = await EmbeddedStore.open(dataDir);
    const batch = (seq: number, records: SensorRecord[]) => {
      const json = JSON.stringify({ node: 'a', seq, final: true, records });
      return { node: 'a', seq, final: true, ids: records.map((r) => r.id), digest: batchDigest(json), json };
    };
    const rounds = Array.from({ length: FUSED_ROUNDS_REMEMBERED + 1 }, (_, k) => `f${k}`);
    for (const round of rounds) {
      await store.announce(round, 'a', Date.now(), 60_000);
      await store.report(round, batch(1, recordsOf('a', 2)));
      await store.close(round, 'final', Date.now());
      await store.saveResult(round, { json: '{"events":[]}', events: 0 }, 1);
    }
    // f0 is one round too old; f1 is the oldest remembered.
    await expect(store.report('f0', batch(1, recordsOf('a', 2)))).rejects.toMatchObject({ code: 'ERR_ROUND_CLOSED' });
    expect(await store.report('f1', batch(1, recordsOf('a', 2)))).toEqual({ duplicate: true, state: 'fused', complete: false });
    await expect(store.report('f1', batch(1, recordsOf('a', 3)))).rejects.toMatchObject({ code: 'ERR_BATCH_CONFLICT' });
    await expect(store.report('f1', batch(2, recordsOf('a', 1, 5)))).rejects.toMatchObject({ code: 'ERR_ROUND_CLOSED' });
    await store.shutdown();
    const reopened = await EmbeddedStore.open(dataDir);
    await expect(reopened.report('f1', batch(1, recordsOf('a', 2)))).rejects.toMatchObject({ code: 'ERR_ROUND_CLOSED' });
    await reopened.shutdown();
  });

  it('deletes log segments once every round in them has its result file', async () => {
    const dataDir = tempDir();
    const store = await EmbeddedStore.open(dataDir, { segmentBytes: 512 });
    const batch = (node: string, seq: number, records: SensorRecord[], final = false) => ({
      node,
      seq,
      final,
      ids: records.map((r) => r.id),
      digest: `${node}${seq}`,
      json: JSON.stringify({ records }),
    });
    for (let k = 0; k < 6; k++) {
      await store.announce(`s${k}`, 'a', Date.now(), 60_000);
      await store.report(`s${k}`, batch('a', 1, recordsOf('a', 5)));
      await store.report(`s${k}`, batch('a', 2, recordsOf('a', 5, 5), true));
    }
    const segments = () => readdirSync(join(dataDir, 'wal')).length;
    const many = segments();
    expect(many).toBeGreaterThan(3);
    for (let k = 0; k < 6; k++) {
      await store.close(`s${k}`, 'final', Date.now());
      const fused = fuseSync(readBatchRecords(await store.batchTexts(`s${k}`)));
      await store.saveResult(`s${k}`, { json: JSON.stringify(fused), events: fused.events.length }, 1);
    }
    // Only the segment being written is left.
    expect(segments()).toBe(1);
    await store.shutdown();
    const reopened = await EmbeddedStore.open(dataDir, { segmentBytes: 512 });
    expect((await reopened.list(10)).map((r) => r.state)).toEqual(Array(6).fill('fused'));
    // Read back from the round's file, as the text of the result that was saved.
    const saved = JSON.parse((await reopened.resultJson('s3'))!) as FusionResult;
    expect(saved.stats.records).toBe(10);
    expect(saved.events).toEqual(fuseSync([...recordsOf('a', 5), ...recordsOf('a', 5, 5)]).events);
    expect((await reopened.summary('s3'))?.events).toBe(saved.events.length);
    await reopened.shutdown();
  });
});
