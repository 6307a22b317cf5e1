/** Fusion of batch texts on its own thread: the same result as on the calling thread, and its failures. */
import { readdirSync, readFileSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';

import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { readBatchRecords } from '../src/fusion/batch-texts.js';
import { runTextQuery } from '../src/fusion/query-texts.js';
import { TextFusion } from '../src/fusion/text-fusion.js';
import { FUSION_NICE } from '../src/fusion/thread-priority.js';
import { fuseSync, generateFleet, sensorPreset, type SensorRecord } from '../src/index.js';
import { dropSchemas, freshSchema, PG_URL, postgresAvailable } from './pg-helpers.js';

const threads: TextFusion[] = [];
afterEach(async () => {
  await Promise.all(threads.splice(0).map((t) => t.close()));
});
const thread = (config = sensorPreset()) => {
  const t = new TextFusion(config);
  threads.push(t);
  return t;
};

/** A fleet's records as batch texts of 5, alternately bytes and strings. */
function texts(records: SensorRecord[]): Array<Uint8Array | string> {
  const out: Array<Uint8Array | string> = [];
  for (let k = 0; k < records.length; k += 5) {
    const json = JSON.stringify({ node: records[k].node, seq: k / 5 + 1, records: records.slice(k, k + 5) });
    out.push(out.length % 2 ? json : Buffer.from(json));
  }
  return out;
}

describe('TextFusion', () => {
  it('fuses texts to the JSON of the result fuseSync gives for the same records', async () => {
    const { records } = generateFleet({ nodes: 200, obsPerNode: 5, seed: 11 });
    const batches = texts(records);
    expect(readBatchRecords(batches)).toEqual(records);
    const fused = await thread().fuse(batches);
    const result = JSON.parse(fused.json);
    const expected = fuseSync(records);
    expect(result.events).toEqual(expected.events);
    expect(fused.events).toBe(expected.events.length);
    expect(result.stats.records).toBe(records.length);
    // The same text as UTF-8, for a store to write as it is.
    expect(new TextDecoder().decode(fused.bytes)).toBe(fused.json);
  });

  it('runs one fusion after another on the same thread, and the config it was given', async () => {
    const t = thread({ ...sensorPreset(), onePerNode: false });
    const a = generateFleet({ nodes: 20, obsPerNode: 5, seed: 1 }).records;
    const b = generateFleet({ nodes: 30, obsPerNode: 5, seed: 2 }).records;
    const [ra, rb] = await Promise.all([t.fuse(texts(a)), t.fuse(texts(b))]);
    expect(JSON.parse(ra.json).events).toEqual(fuseSync(a, { ...sensorPreset(), onePerNode: false }).events);
    expect(JSON.parse(rb.json).stats.records).toBe(b.length);
  });

  it('rejects bad input with the fusion error codes, and goes on working', async () => {
    const t = thread();
    await expect(t.fuse(['{"records": [']).catch((e) => e)).resolves.toMatchObject({ code: 'ERR_FUSION_INPUT', message: expect.stringMatching(/^batch 0 is not JSON/) });
    await expect(t.fuse(['{"records":[]}', '{"node":"a"}'])).rejects.toMatchObject({ code: 'ERR_FUSION_INPUT', message: 'batch 1 has no records array' });
    const r = { id: 'x', node: 'a', cls: 'vehicle', t: 0, lat: 0, lon: 0 };
    await expect(t.fuse([JSON.stringify({ records: [r, r] })])).rejects.toMatchObject({ code: 'ERR_FUSION_INPUT', message: expect.stringMatching(/duplicate id "x"/) });
    await expect(t.fuse([JSON.stringify({ records: [{ ...r, lat: 91 }] })])).rejects.toMatchObject({ code: 'ERR_FUSION_INPUT', message: expect.stringMatching(/latitude/) });
    expect((await t.fuse([JSON.stringify({ records: [r] })])).events).toBe(1);
    await expect(thread({ fields: [] } as never).fuse(['{"records":[]}'])).rejects.toMatchObject({ code: 'ERR_FUSION_CONFIG' });
  });

  it('rejects the fusions in flight when the thread dies, and starts another for the next', async () => {
    const t = thread();
    const big = texts(generateFleet({ nodes: 2000, obsPerNode: 20, seed: 3 }).records);
    const inFlight = t.fuse(big);
    await (t as unknown as { worker: Worker }).worker.terminate();
    await expect(inFlight).rejects.toThrow(/the fusion thread exited/);
    expect((await t.fuse(texts(generateFleet({ nodes: 5, obsPerNode: 2, seed: 4 }).records))).events).toBeGreaterThan(0);
  });

  it('starts ahead of the first round, and fails to start on a bad config', async () => {
    const t = thread();
    await t.start();
    expect((await t.fuse([])).events).toBe(0);
    await expect(thread({ fields: [{ name: 't', kind: 'time', weight: -1 }] } as never).start()).rejects.toMatchObject({ code: 'ERR_FUSION_CONFIG' });
  });

  it.runIf(process.platform === 'linux')('runs at the lowest CPU priority, and leaves the calling thread as it was', async () => {
    const nice = (stat: string) => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    const before = nice(readFileSync('/proc/thread-self/stat', 'utf8'));
    await thread().start();
    const threadsNice = readdirSync('/proc/self/task').map((tid) => nice(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')));
    expect(threadsNice).toContain(FUSION_NICE);
    expect(nice(readFileSync('/proc/thread-self/stat', 'utf8'))).toBe(before);
  });

  it('refuses work once closed', async () => {
    const t = thread();
    await t.close();
    await expect(t.fuse(['{"records":[]}'])).rejects.toThrow(/closed/);
  });
});

const withPostgres = await postgresAvailable();

describe.skipIf(!withPostgres)('TextFusion reading its texts from PostgreSQL', () => {
  const schema = freshSchema();
  const batches = texts(generateFleet({ nodes: 100, obsPerNode: 5, seed: 12 }).records).map((t) => (typeof t === 'string' ? t : Buffer.from(t).toString()));
  beforeAll(async () => {
    const client = new pg.Client(PG_URL);
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(`CREATE TABLE ${schema}.texts (k integer PRIMARY KEY, body text NOT NULL)`);
      // Stored in reverse: the query's order is the one fused.
      await client.query(`INSERT INTO ${schema}.texts SELECT -k, body FROM unnest($1::text[]) WITH ORDINALITY AS t(body, k)`, [batches]);
      await client.query(`INSERT INTO ${schema}.texts VALUES (1, '{"node":"a"}')`);
    } finally {
      await client.end();
    }
  });
  afterAll(() => dropSchemas([schema]));
  const query = (text: string, url = PG_URL) => ({ url, text, values: [0] });

  it('fuses the texts a query returns to the result the same texts give', async () => {
    const t = thread();
    const fromQuery = await t.fuseQuery(query(`SELECT body FROM ${schema}.texts WHERE k < $1 ORDER BY k DESC`));
    const fromTexts = await t.fuse(batches);
    // The same events and counts (the timings differ).
    expect(JSON.parse(fromQuery.json).events).toEqual(JSON.parse(fromTexts.json).events);
    expect(JSON.parse(fromQuery.json).stats.records).toBe(500);
    expect(fromQuery.events).toBe(fromTexts.events);
    expect(fromQuery.events).toBeGreaterThan(0);
  });

  it('rejects a failed read with a plain error (a retry may succeed), bad texts with ERR_FUSION_INPUT, and goes on working', async () => {
    const t = thread();
    const missing = await t.fuseQuery(query(`SELECT body FROM ${schema}.nowhere WHERE $1 = 0`)).catch((e) => e);
    expect(missing).toBeInstanceOf(Error);
    expect(missing.message).toMatch(/^reading the batch texts from PostgreSQL: .*nowhere/);
    expect(missing.code).toBeUndefined();
    const unreachable = await t.fuseQuery(query('SELECT $1::text', 'postgres://postgres@127.0.0.1:1/test')).catch((e) => e);
    expect(unreachable.message).toMatch(/^reading the batch texts from PostgreSQL/);
    expect(unreachable.code).toBeUndefined();
    await expect(t.fuseQuery(query(`SELECT body FROM ${schema}.texts WHERE k >= $1 ORDER BY k`))).rejects.toMatchObject({
      code: 'ERR_FUSION_INPUT',
      message: 'batch 0 has no records array',
    });
    expect((await t.fuseQuery(query(`SELECT body FROM ${schema}.texts WHERE k < $1 ORDER BY k DESC`))).events).toBeGreaterThan(0);
  });

  it("applies a query's settings to its read only, and leaves its connection as it was, also after a failure", async () => {
    const client = new pg.Client(PG_URL);
    await client.connect();
    try {
      const settings = { enable_sort: 'off', work_mem: '1234kB' };
      expect(
        await runTextQuery(client, { url: PG_URL, text: `SELECT current_setting('enable_sort') || ' ' || current_setting('work_mem') || ' ' || $1`, values: ['x'], settings }),
      ).toEqual(['off 1234kB x']);
      expect((await client.query('SHOW enable_sort')).rows[0].enable_sort).toBe('on');
      await expect(runTextQuery(client, { url: PG_URL, text: 'SELECT 1/0', values: [], settings })).rejects.toThrow(/division by zero/);
      // Rolled back (an aborted transaction would refuse this query), its settings with it.
      expect((await client.query('SELECT current_setting($1) AS s', ['work_mem'])).rows[0].s).not.toBe('1234kB');
    } finally {
      await client.end();
    }
  });
});
