/**
 * Two hub processes on one PostgreSQL share a round: nodes announce at either, post their
 * batches to both alternately (retries land on the other hub), and both serve one result.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import pg from 'pg';

import { fuseSync, generateFleet, type SensorRecord } from '../src/index.js';
import { batchDigest } from '../src/hub/rounds.js';
import { PostgresStore, reportManyParams, type PostgresStoreOptions } from '../src/hub/store/postgres.js';
import { FUSED_ROUNDS_REMEMBERED } from '../src/hub/store/types.js';
import { dropSchemas, freshSchema, HubClient, killHubProcesses, PG_URL, postgresAvailable, recordsOf, startHubProcess, tempDir } from './hub-helpers.js';

const withPostgres = await postgresAvailable();
const schemas: string[] = [];
afterEach(() => killHubProcesses());
afterAll(() => dropSchemas(schemas));

describe.skipIf(!withPostgres)('PostgreSQL store with two hub processes', () => {
  it('shares one round between two hubs: every batch once, one result', async () => {
    const schema = freshSchema();
    schemas.push(schema);
    const args = ['--pg', PG_URL, '--pg-schema', schema];
    // Both start at once: the migration runs once, under an advisory lock.
    const [a, b] = await Promise.all([startHubProcess([...args, '--data', tempDir()]), startHubProcess([...args, '--data', tempDir()])]);
    const hubs = [new HubClient(a.url), new HubClient(b.url)];
    const fleet = generateFleet({ nodes: 60, obsPerNode: 6, seed: 21 });
    const byNode = new Map<string, SensorRecord[]>();
    for (const r of fleet.records) byNode.set(r.node, [...(byNode.get(r.node) ?? []), r]);
    const nodes = [...byNode.keys()];

    await Promise.all(nodes.map((node, i) => hubs[i % 2].announce('shared', node)));
    expect((await hubs[1].summary('shared')).body.nodes).toBe(60);
    const replies = await Promise.all(
      nodes.map(async (node, i) => {
        const records = byNode.get(node)!;
        const out = [];
        for (let seq = 1; seq <= 3; seq++) {
          const batch = records.slice((seq - 1) * 2, seq * 2);
          const hub = hubs[(i + seq) % 2];
          out.push(await hub.report('shared', node, seq, batch, seq === 3));
          // A retry of the same batch through the other hub is recognised.
          if (seq === 2) out.push(await hubs[(i + seq + 1) % 2].report('shared', node, seq, batch));
        }
        return out;
      }),
    );
    const flat = replies.flat();
    expect(flat.every((r) => r.status === 202)).toBe(true);
    expect(flat.filter((r) => r.body.duplicate)).toHaveLength(60);

    const [ra, rb] = await Promise.all(hubs.map((h) => h.result('shared', 20_000)));
    expect(ra.status).toBe(200);
    expect(rb.status).toBe(200);
    expect(ra.body.events).toEqual(rb.body.events);
    expect(ra.body.events).toEqual(fuseSync(fleet.records).events);
    const summary = (await hubs[0].summary('shared')).body;
    expect(summary).toMatchObject({ state: 'fused', closeReason: 'final', nodes: 60, finalNodes: 60, batches: 180, observations: 360 });
    // Closed for both.
    const late = await hubs[1].report('shared', nodes[0], 4, [{ ...byNode.get(nodes[0])![0], id: 'late' }]);
    expect(late.status).toBe(409);
  });

  it('lets either hub close a round by its deadline and fuse it once', async () => {
    const schema = freshSchema();
    schemas.push(schema);
    const args = ['--pg', PG_URL, '--pg-schema', schema, '--round-deadline-ms', '400'];
    const [a, b] = await Promise.all([startHubProcess([...args, '--data', tempDir()]), startHubProcess([...args, '--data', tempDir()])]);
    const hubs = [new HubClient(a.url), new HubClient(b.url)];
    const fleet = generateFleet({ nodes: 10, obsPerNode: 2, seed: 4 });
    const nodes = [...new Set(fleet.records.map((r) => r.node))];
    for (const [i, node] of nodes.entries()) await hubs[i % 2].announce('late', node);
    for (const [i, node] of nodes.entries()) {
      await hubs[(i + 1) % 2].report(
        'late',
        node,
        1,
        fleet.records.filter((r) => r.node === node),
      );
    }
    const result = await hubs[1].result('late', 20_000);
    expect(result.status).toBe(200);
    expect(result.body.events).toEqual(fuseSync(fleet.records).events);
    // The hub that fused it serves the result at once; the other once it is stored.
    expect((await hubs[0].result('late', 20_000)).body.events).toEqual(result.body.events);
    expect((await hubs[0].summary('late')).body).toMatchObject({ state: 'fused', closeReason: 'deadline' });
    const fusedBy = await Promise.all(
      hubs.map(async (h) => Number(/^fleetscale_hub_rounds_total\{event="fused"\} (\d+)$/m.exec((await h.request('GET', '/metrics')).body)?.[1] ?? 0)),
    );
    expect(fusedBy[0] + fusedBy[1]).toBe(1);
  });

  it("recognises a retry racing its original in another store's group as a duplicate", async () => {
    const schema = freshSchema();
    schemas.push(schema);
    const [one, two] = await Promise.all([PostgresStore.open(PG_URL, { schema }), PostgresStore.open(PG_URL, { schema })]);
    try {
      const nodes = Array.from({ length: 40 }, (_, k) => `n${k}`);
      for (const node of nodes) await one.announce('race', node, Date.now(), 60_000);
      const batchOf = (node: string) => {
        const records = recordsOf(node, 3);
        const json = JSON.stringify({ node, seq: 1, records });
        return { node, seq: 1, final: false, ids: records.map((r) => r.id), records, json, digest: batchDigest(json) };
      };
      // Each store sends all 40 in one group; the two groups overlap in the database.
      const outcomes = await Promise.all([nodes.map((n) => one.report('race', batchOf(n))), nodes.map((n) => two.report('race', batchOf(n)))].flat());
      for (const [k, node] of nodes.entries()) {
        const pair = [outcomes[k], outcomes[k + nodes.length]];
        expect(
          pair.filter((o) => o.duplicate),
          node,
        ).toHaveLength(1);
      }
      expect(await one.summary('race')).toMatchObject({ batches: 40, observations: 120 });
    } finally {
      await Promise.all([one.shutdown(), two.shutdown()]);
    }
  });
});

describe.skipIf(!withPostgres)('PostgreSQL store: one group of reports decided at once', () => {
  const batchOf = (node: string, seq: number, records: SensorRecord[], final = false) => {
    const json = JSON.stringify({ node, seq, final, records });
    return { node, seq, final, ids: records.map((r) => r.id), json, digest: batchDigest(json) };
  };
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
  /** A store on a schema of its own, dropped after the test. */
  async function freshStore(options: PostgresStoreOptions = {}) {
    const schema = freshSchema();
    schemas.push(schema);
    const store = await PostgresStore.open(PG_URL, { ...options, schema });
    cleanups.push(async () => {
      await store.dropSchema();
      await store.shutdown();
    });
    return { store, schema };
  }
  /** A connection of its own (another hub's transaction, a monitor), closed after the test. */
  async function connection() {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    cleanups.push(() => client.end());
    return client;
  }
  const outcome = (p: Promise<unknown>) =>
    p.then(
      (o) => o,
      (e: { code?: string; message: string }) => ({ code: e.code, message: e.message }),
    );

  it('gives every batch of one group the answer it would get alone', async () => {
    const { store } = await freshStore();
    const now = Date.now();
    for (const node of ['ok', 'done', 'retry', 'clash', 'ended', 'taker', 'thief', 'last']) await store.announce('g', node, now, 60_000);
    await store.announce('shut', 'late', now, 60_000);
    // What went before, each alone.
    const retried = batchOf('retry', 1, recordsOf('retry', 2));
    await store.report('g', retried);
    await store.report('g', batchOf('clash', 1, recordsOf('clash', 2)));
    await store.report('g', batchOf('ended', 1, recordsOf('ended', 1), true));
    await store.report('g', batchOf('taker', 1, recordsOf('taker', 1)));
    await store.report('g', batchOf('last', 1, recordsOf('last', 1)));
    await store.close('shut', 'admin', now);
    // One group: ten distinct nodes, no id shared within it.
    const answers = await Promise.all([
      outcome(store.report('g', batchOf('ok', 1, recordsOf('ok', 3)))),
      outcome(store.report('g', batchOf('done', 1, recordsOf('done', 2), true))),
      outcome(store.report('g', retried)),
      outcome(store.report('g', batchOf('clash', 1, recordsOf('clash', 2, 7)))),
      outcome(store.report('g', batchOf('ended', 2, recordsOf('ended', 1, 4)))),
      outcome(store.report('g', batchOf('stranger', 1, recordsOf('stranger', 1)))),
      outcome(store.report('g', batchOf('thief', 1, [{ ...recordsOf('thief', 1)[0], id: 'taker-r0' }]))),
      outcome(store.report('g', batchOf('last', 2, recordsOf('last', 1, 1), true))),
      outcome(store.report('nowhere', batchOf('ok', 1, recordsOf('ok', 1, 9)))),
      outcome(store.report('shut', batchOf('late', 1, recordsOf('late', 1)))),
    ]);
    expect(answers).toMatchObject([
      { duplicate: false, state: 'open', complete: false },
      { duplicate: false, state: 'open', complete: false }, // its node is done; others are not
      { duplicate: true, state: 'open' },
      { code: 'ERR_BATCH_CONFLICT' },
      { code: 'ERR_AFTER_FINAL' },
      { code: 'ERR_NOT_ANNOUNCED' },
      { code: 'ERR_DUPLICATE_RECORD_ID', message: expect.stringContaining('"taker-r0"') },
      { duplicate: false, state: 'open', complete: false },
      { code: 'ERR_ROUND_NOT_FOUND' },
      { code: 'ERR_ROUND_CLOSED' },
    ]);
    // Only the accepted left rows: 2 + 2 + 1 + 1 + 1 before, 3 + 2 + 1 now.
    expect(await store.summary('g')).toMatchObject({ nodes: 8, finalNodes: 3, batches: 8, observations: 13 });
    expect(await store.summary('shut')).toMatchObject({ batches: 0 });
    // The rejected batches' seqs are free for corrected ones, and the last nodes complete the round.
    await store.report('g', batchOf('thief', 1, recordsOf('thief', 1), true));
    await store.report('g', batchOf('taker', 2, recordsOf('taker', 1, 1), true));
    await store.report('g', batchOf('clash', 2, recordsOf('clash', 1, 2), true));
    const [okFinal, retryFinal] = await Promise.all([
      store.report('g', batchOf('ok', 2, recordsOf('ok', 1, 3), true)),
      store.report('g', batchOf('retry', 2, recordsOf('retry', 1, 2), true)),
    ]);
    // In one group both see the round complete (the check follows the group's commit).
    expect(okFinal.complete || retryFinal.complete).toBe(true);
    expect(await store.summary('g')).toMatchObject({ nodes: 8, finalNodes: 8, batches: 13, observations: 18 });
  });

  it('answers each announce of one group as if alone: one opens a round, the rest join, a closed round refuses', async () => {
    const { store } = await freshStore();
    await store.announce('shut', 'x', 1_000, 60_000);
    await store.close('shut', 'admin', 2_000);
    const nodes = ['a', 'b', 'c', 'b'];
    const answers = await Promise.all([
      ...nodes.map((node, k) => outcome(store.announce('fresh', node, 10_000 + k, 60_000))),
      outcome(store.announce('shut', 'y', 10_010, 60_000)),
      outcome(store.announce('other', 'a', 10_020, 5_000)),
    ]);
    expect(answers).toEqual([
      { deadline: 70_000, opened: true },
      { deadline: 70_000, opened: false },
      { deadline: 70_000, opened: false },
      { deadline: 70_000, opened: false },
      { code: 'ERR_ROUND_CLOSED', message: expect.stringContaining('"shut"') },
      { deadline: 15_020, opened: true },
    ]);
    expect(await store.summary('fresh')).toMatchObject({ state: 'open', nodes: 3, openedAt: 10_000 });
    expect(await store.summary('shut')).toMatchObject({ state: 'closed', nodes: 1 });
  });

  it('undoes a group that loses a record id to a concurrent transaction and decides it batch by batch', async () => {
    const { store, schema } = await freshStore();
    const other = await connection();
    for (const node of ['a', 'b']) await store.announce('race', node, Date.now(), 60_000);
    // Another hub's transaction holds 'x-1' uncommitted: the group's check cannot see it.
    await other.query('BEGIN');
    await other.query(`INSERT INTO ${schema}.record_ids (round, id) VALUES ('race', 'x-1')`);
    const stolen = [{ ...recordsOf('a', 1)[0], id: 'x-1' }];
    const answers = Promise.all([outcome(store.report('race', batchOf('a', 1, stolen))), outcome(store.report('race', batchOf('b', 1, recordsOf('b', 2))))]);
    // Commit only once the group waits on that row: it has passed its checks, so the unique
    // violation, not the check, must be what catches the id. (Activity is read from a third
    // connection: a transaction sees one snapshot of it.)
    const monitor = await connection();
    const waiting = async () =>
      (await monitor.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`, [`%${schema}.report_many%`])).rows[0].n !==
      '0';
    const until = Date.now() + 20_000;
    while (!(await waiting()) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(await waiting()).toBe(true);
    await other.query('COMMIT');
    expect(await answers).toMatchObject([{ code: 'ERR_DUPLICATE_RECORD_ID' }, { duplicate: false }]);
    expect(await store.summary('race')).toMatchObject({ batches: 1, observations: 2 });
  });

  it("deletes and vacuums a fused round's working rows but its digests, kept for the latest rounds only", async () => {
    const warnings: string[] = [];
    const { store, schema } = await freshStore({ onWarning: (m) => warnings.push(m) });
    const monitor = await connection();
    const nodes = Array.from({ length: 20 }, (_, k) => `n${k}`);
    for (const node of nodes) await store.announce('big', node, Date.now(), 60_000);
    await Promise.all(nodes.map((node) => store.report('big', batchOf(node, 1, recordsOf(node, 10)))));
    // n0 leaves a gap (seqs 1 and 3; it never completes): its digests are looked up by seq, not by position.
    await Promise.all(nodes.map((node) => store.report('big', batchOf(node, node === 'n0' ? 3 : 2, recordsOf(node, 1, 10), true))));
    await store.close('big', 'deadline', Date.now());
    // The texts in (node, seq) order, read along the primary key.
    const read = (await store.batchTexts('big')).map((text) => JSON.parse(text as string) as { node: string; seq: number });
    const order = (a: { node: string; seq: number }, b: { node: string; seq: number }) => (a.node === b.node ? a.seq - b.seq : a.node < b.node ? -1 : 1);
    expect(read.length).toBe(40);
    expect(read).toEqual([...read].sort(order));
    // A result large enough to be compressed (over 2 kB).
    const events = Array.from({ length: 500 }, (_, k) => ({ id: k, members: [`n${k % 20}-r0`], cls: 'person' }));
    await store.saveResult('big', { json: JSON.stringify({ events }), events: events.length }, 1);
    const count = async (table: string, round?: string) =>
      Number((await monitor.query(`SELECT count(*) AS n FROM ${schema}.${table}${round ? ' WHERE round = $1' : ''}`, round ? [round] : [])).rows[0].n);
    // In the fusion's own transaction: the working rows are gone, a row of digests per node stays.
    expect([await count('batches'), await count('record_ids'), await count('nodes'), await count('fused_digests', 'big')]).toEqual([0, 0, 0, 20]);
    const vacuumed = async () => {
      const { rows } = await monitor.query<{ vacuums: string }>(
        `SELECT s.vacuum_count + s.autovacuum_count AS vacuums FROM pg_stat_user_tables s
          WHERE s.schemaname = $1 AND s.relname IN ('record_ids', 'batches', 'nodes', 'fused_digests')`,
        [schema],
      );
      return rows.length === 4 && rows.every((r) => Number(r.vacuums) > 0);
    };
    const deadline = Date.now() + 20_000;
    while (!(await vacuumed()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await vacuumed()).toBe(true);
    expect(warnings).toEqual([]);
    // The result is stored compressed with lz4 (this server has it), and reads back as saved.
    const stored = await monitor.query(`SELECT pg_column_compression(result) AS c FROM ${schema}.rounds WHERE round = 'big'`);
    expect(stored.rows[0].c).toBe('lz4');
    expect(JSON.parse((await store.resultJson('big'))!)).toEqual({ events });
    expect(await store.summary('big')).toMatchObject({ state: 'fused', nodes: 20, finalNodes: 19, batches: 40, observations: 220 });
    // A retry of an acknowledged batch is still a duplicate, on its own and in a group that
    // goes batch by batch (two copies of one batch); other content is a conflict; a seq or a
    // node the round never had meets the closed round.
    expect(await store.report('big', batchOf('n0', 1, recordsOf('n0', 10)))).toMatchObject({ duplicate: true, state: 'fused' });
    expect(await store.report('big', batchOf('n0', 3, recordsOf('n0', 1, 10), true))).toMatchObject({ duplicate: true, state: 'fused' });
    expect(
      await Promise.all([store.report('big', batchOf('n5', 2, recordsOf('n5', 1, 10), true)), store.report('big', batchOf('n5', 2, recordsOf('n5', 1, 10), true))]),
    ).toMatchObject([
      { duplicate: true, state: 'fused' },
      { duplicate: true, state: 'fused' },
    ]);
    await expect(store.report('big', batchOf('n0', 1, recordsOf('n0', 9)))).rejects.toMatchObject({ code: 'ERR_BATCH_CONFLICT' });
    await expect(store.report('big', batchOf('n0', 2, recordsOf('n0', 1, 20)))).rejects.toMatchObject({ code: 'ERR_ROUND_CLOSED' });
    await expect(store.report('big', batchOf('stranger', 1, recordsOf('stranger', 1)))).rejects.toMatchObject({ code: 'ERR_ROUND_CLOSED' });
    // Once FUSED_ROUNDS_REMEMBERED later rounds are fused, the round's digests go too.
    for (let k = 0; k < FUSED_ROUNDS_REMEMBERED; k++) {
      await store.announce(`later${k}`, 'n0', Date.now() + k + 1, 60_000);
      await store.report(`later${k}`, batchOf('n0', 1, recordsOf('n0', 1), true));
      await store.close(`later${k}`, 'final', Date.now() + k + 1);
      await store.saveResult(`later${k}`, { json: '{"events":[]}', events: 0 }, 1);
      await store.tidied();
      expect(await count('fused_digests', 'big')).toBe(k < FUSED_ROUNDS_REMEMBERED - 1 ? 20 : 0);
    }
    await expect(store.report('big', batchOf('n0', 1, recordsOf('n0', 10)))).rejects.toMatchObject({ code: 'ERR_ROUND_CLOSED' });
    expect(await store.report('later0', batchOf('n0', 1, recordsOf('n0', 1), true))).toMatchObject({ duplicate: true });
  });

  it('looks batches up by primary key even when a vacuum has counted the tables empty', async () => {
    const { store, schema } = await freshStore();
    const client = await connection();
    // A fused round's rows are vacuumed away while the next round's first rows are still
    // uncommitted: the vacuum counts no live row in pages full of them, and the statistics
    // say "empty" while the tables fill.
    const filler = await connection();
    await filler.query('BEGIN');
    await filler.query(`INSERT INTO ${schema}.record_ids SELECT 'filler', 'id' || k FROM generate_series(1, 100000) AS k`);
    await filler.query(`INSERT INTO ${schema}.nodes (round, node) SELECT 'filler', 'n' || k FROM generate_series(1, 5000) AS k`);
    await filler.query(`INSERT INTO ${schema}.batches (round, node, seq, final, digest, observations, body)
      SELECT 'filler', 'n' || k, 1, false, 'd', 1, '{}' FROM generate_series(1, 5000) AS k`);
    await client.query(`VACUUM ${schema}.record_ids, ${schema}.batches, ${schema}.nodes`);
    await filler.query('COMMIT');
    const { rows: counted } = await client.query<{ reltuples: number; relpages: number }>(`SELECT reltuples, relpages FROM pg_class WHERE oid = '${schema}.record_ids'::regclass`);
    expect(counted[0]).toMatchObject({ reltuples: 0 });
    expect(counted[0].relpages).toBeGreaterThan(10);
    // A group as large as a busy hub sends: 100 batches of 5.
    const nodes = Array.from({ length: 100 }, (_, k) => `n${String(k).padStart(3, '0')}`);
    for (const node of nodes) await store.announce('now', node, Date.now(), 60_000);
    const plans: string[] = [];
    client.on('notice', (n) => plans.push(n.message ?? ''));
    await client.query(`LOAD 'auto_explain'`);
    await client.query(
      `SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; SET auto_explain.log_analyze = on;
       SET auto_explain.log_timing = off; SET auto_explain.log_level = notice; SET client_min_messages = notice`,
    );
    // What the store sends for a group, from this client, whose plans auto_explain reports.
    const reportMany = async (batches: Array<ReturnType<typeof batchOf>>) => {
      const params = reportManyParams(batches.map((batch) => ({ round: 'now', batch })));
      const { rows } = await client.query<{ status: string }>(`SELECT t.status FROM ${schema}.report_many($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) AS t(status)`, params);
      return rows.map((r) => r.status);
    };
    // Every scan of a large table reads one key's row (or none) per loop: no whole-table
    // scan, sequential or through an index.
    const wideScans = () => {
      const statements = plans.splice(0).filter((p) => p.includes('Query Text'));
      const scans = statements.flatMap((p) => p.split('\n')).filter((line) => /Scan .*on (record_ids|batches|nodes)\b/.test(line));
      expect(scans.length).toBeGreaterThan(3);
      const rowsRead = (line: string) => (line.includes('(never executed)') ? 0 : Number(/actual rows=(\d+)/.exec(line)?.[1] ?? Infinity));
      return scans.filter((line) => /Seq Scan/.test(line) || rowsRead(line) > 1);
    };
    // The set-wide path,
    expect(await reportMany(nodes.map((node) => batchOf(node, 1, recordsOf(node, 5))))).toEqual(nodes.map(() => 'accepted'));
    expect(wideScans()).toEqual([]);
    // and batch by batch (two batches of one node in one group).
    expect(await reportMany([batchOf('n000', 2, recordsOf('n000', 5, 5)), batchOf('n000', 3, recordsOf('n000', 5, 10))])).toEqual(['accepted', 'accepted']);
    expect(wideScans()).toEqual([]);
  });
});
