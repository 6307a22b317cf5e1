/**
 * Versioned schema migrations: a database that an earlier fleetscale set up (before migrations
 * were versioned) is filled, then opened by this version, which migrates it; nothing is lost and
 * everything still works. Also: concurrent starts, a failing migration, a newer schema.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

import { ClaimQueue, ClaimWorker } from '../src/claims/index.js';
import { FleetscaleError, fuseSync } from '../src/index.js';
import { loadMigrations, migrate } from '../src/pg/migrate.js';
import { batchDigest } from '../src/hub/rounds.js';
import { PostgresStore, reportManyParams } from '../src/hub/store/postgres.js';
import { dropSchemas, freshSchema, HubClient, PG_URL, postgresAvailable, recordsOf, testHub } from './hub-helpers.js';

const withPostgres = await postgresAvailable();
const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

const fixture = (name: string, schema: string) => readFileSync(join(import.meta.dirname, 'fixtures/pre-migrations', `${name}.sql`), 'utf8').replaceAll('{{schema}}', schema);

async function withPool<T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 4 });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

function schema(): string {
  const s = freshSchema();
  schemas.push(s);
  return s;
}

describe('migration files', () => {
  it('are numbered from 1 without gaps, and 000001 is the schema as it was before versioning', () => {
    for (const component of ['hub', 'claims']) {
      const migrations = loadMigrations(component);
      expect(migrations[0]).toMatchObject({ version: 1, name: 'initial' });
      // The first migration carries exactly what the unversioned code ran at every start.
      const body = (sql: string) =>
        sql
          .split('\n')
          .filter((l) => !l.startsWith('-- ') || l.includes('{{'))
          .join('\n')
          .trim();
      expect(body(migrations[0]!.sql)).toBe(body(fixture(component, '{{schema}}')));
    }
  });

  it('refuse a gap in the numbers and a badly named file', () => {
    const root = mkdtempSync(join(tmpdir(), 'fleetscale-migrations-'));
    mkdirSync(join(root, 'gap'));
    writeFileSync(join(root, 'gap', '000001_a.sql'), 'SELECT 1');
    writeFileSync(join(root, 'gap', '000003_c.sql'), 'SELECT 1');
    mkdirSync(join(root, 'name'));
    writeFileSync(join(root, 'name', '1_a.sql'), 'SELECT 1');
    const url = pathToFileURL(`${root}/`);
    expect(() => loadMigrations('gap', url)).toThrow(expect.objectContaining({ code: 'ERR_MIGRATION', message: expect.stringMatching(/numbered 1, 2, 3/) }));
    expect(() => loadMigrations('name', url)).toThrow(expect.objectContaining({ code: 'ERR_MIGRATION', message: expect.stringMatching(/NNNNNN_name\.sql/) }));
  });
});

describe.skipIf(!withPostgres)('migrations on PostgreSQL', () => {
  it('upgrade a claims queue that an earlier version created: nothing lost, everything works', async () => {
    const s = schema();
    await withPool(async (pool) => {
      await pool.query(fixture('claims', s));
      await pool.query(`INSERT INTO ${s}.jobs (queue, max_attempts, payload) SELECT 'old', 3, jsonb_build_object('n', n) FROM generate_series(1, 4) AS n`);
      const { rows } = await pool.query<{ id: string }>(`UPDATE ${s}.jobs SET state = 'done', attempts = 1, finished_at = now() WHERE payload->>'n' = '4' RETURNING id`);
      await pool.query(`INSERT INTO ${s}.results (job_id, queue, attempt, worker, result) VALUES ($1, 'old', 1, 'old-worker', '16')`, [rows[0]!.id]);
    });

    const queue = await ClaimQueue.open({ connectionString: PG_URL, schema: s });
    try {
      await withPool(async (pool) => {
        const { rows } = await pool.query(`SELECT version, name FROM ${s}.migrations ORDER BY version`);
        expect(rows).toEqual([{ version: 1, name: 'initial' }]);
      });
      expect(await queue.counts('old')).toEqual({ pending: 3, running: 0, done: 1, failed: 0 });
      const worker = new ClaimWorker<{ n: number }, number>({ queue, queueName: 'old', handler: (job) => job.payload.n ** 2, untilEmpty: true });
      expect((await worker.run()).completed).toBe(3);
      const results = await queue.results('old');
      expect(results.map((r) => r.result).sort()).toEqual([1, 16, 4, 9].sort());
      expect(results.find((r) => r.result === 16)?.worker).toBe('old-worker');
    } finally {
      await queue.close();
    }
    // Opening again applies nothing.
    expect(await withPool((pool) => migrate(pool, s, loadMigrations('claims')))).toEqual({ from: 1, to: 1, applied: [] });
  });

  it("upgrade a hub's store that an earlier version created, mid-round: nothing lost, the round completes", async () => {
    const s = schema();
    const a = recordsOf('a', 3);
    const b1 = recordsOf('b', 2);
    const b2 = recordsOf('b', 2, 2);
    const bodyOf = (node: string, seq: number, final: boolean, records: ReturnType<typeof recordsOf>) => JSON.stringify({ node, seq, final, records });
    await withPool(async (pool) => {
      await pool.query(fixture('hub', s));
      const now = Date.now();
      await pool.query(`SELECT status FROM ${s}.announce_many($1, $2, $3, $4) WITH ORDINALITY AS t(status, n) ORDER BY n`, [
        ['old', 'old'],
        ['a', 'b'],
        [now, now],
        [600_000, 600_000],
      ]);
      const batch = (node: string, seq: number, final: boolean, records: ReturnType<typeof recordsOf>) => {
        const json = bodyOf(node, seq, final, records);
        return { round: 'old', batch: { node, seq, final, ids: records.map((r) => r.id), digest: batchDigest(json), json } };
      };
      const { rows } = await pool.query<{ status: string }>(
        `SELECT status FROM ${s}.report_many($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) WITH ORDINALITY AS t(status, n) ORDER BY n`,
        reportManyParams([batch('a', 1, true, a), batch('b', 1, false, b1)]),
      );
      expect(rows.map((r) => r.status)).toEqual(['accepted:complete', 'accepted']);
    });

    const hub = await testHub({ postgres: { url: PG_URL, schema: s } });
    try {
      const client = new HubClient(hub.url);
      // A retry of a batch acknowledged before the upgrade is still recognised.
      const retry = await client.request('POST', '/v1/rounds/old/observations', { as: 'a', raw: bodyOf('a', 1, true, a) });
      expect(retry.status).toBe(202);
      expect(retry.body.duplicate).toBe(true);
      expect((await client.report('old', 'b', 2, b2, true)).status).toBe(202);
      const result = await client.result('old', 20_000);
      expect(result.status).toBe(200);
      expect(result.body.events).toEqual(fuseSync([...a, ...b1, ...b2]).events);
      expect((await client.summary('old')).body).toMatchObject({ state: 'fused', closeReason: 'final', nodes: 2, batches: 3, observations: 7 });
      // And a new round works end to end.
      await client.announce('new', 'a');
      await client.report('new', 'a', 1, recordsOf('a', 2, 10), true);
      expect((await client.result('new', 20_000)).status).toBe(200);
    } finally {
      await hub.close();
    }
    await withPool(async (pool) => expect((await pool.query(`SELECT version FROM ${s}.migrations`)).rows).toEqual([{ version: 1 }]));
  });

  it('tell an unreachable server (ERR_STORE_UNAVAILABLE) from a failed migration', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    await expect(PostgresStore.open(`postgres://postgres@127.0.0.1:${port}/test`, { schema: schema() })).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', statusCode: 503 });
  });

  it('run once when several processes start at once', async () => {
    const s = schema();
    const queues = await Promise.all(Array.from({ length: 4 }, () => ClaimQueue.open({ connectionString: PG_URL, schema: s, poolSize: 2 })));
    await Promise.all(queues.map((q) => q.close()));
    await withPool(async (pool) => expect((await pool.query(`SELECT version FROM ${s}.migrations`)).rows).toEqual([{ version: 1 }]));
  });

  it('roll a failing migration back whole and say which one failed', async () => {
    const s = schema();
    const migrations = [
      { version: 1, name: 'first', sql: 'CREATE TABLE {{schema}}.one (x int)' },
      { version: 2, name: 'broken', sql: 'CREATE TABLE {{schema}}.two (x int); SELECT no_such_function()' },
    ];
    const error = await withPool((pool) => migrate(pool, s, migrations)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FleetscaleError);
    expect(error).toMatchObject({
      code: 'ERR_MIGRATION',
      message: expect.stringMatching(/^migration 2 \(broken\) of schema ".*" failed and was rolled back: function no_such_function\(\) does not exist/),
    });
    await withPool(async (pool) => {
      expect((await pool.query(`SELECT version FROM ${s}.migrations`)).rows).toEqual([{ version: 1 }]);
      expect((await pool.query(`SELECT to_regclass('${s}.two') AS two, to_regclass('${s}.one') IS NOT NULL AS one`)).rows).toEqual([{ two: null, one: true }]);
      // Fixed, it goes on from where it stopped.
      expect(await migrate(pool, s, [migrations[0]!, { ...migrations[1]!, sql: 'CREATE TABLE {{schema}}.two (x int)' }])).toEqual({ from: 1, to: 2, applied: [2] });
    });
  });

  it('refuse a schema newer than this version knows, and leave it alone', async () => {
    const s = schema();
    const queue = await ClaimQueue.open({ connectionString: PG_URL, schema: s });
    await queue.close();
    await withPool((pool) => pool.query(`INSERT INTO ${s}.migrations (version, name) VALUES (2, 'from_the_future')`));
    const error = await ClaimQueue.open({ connectionString: PG_URL, schema: s }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_MIGRATION',
      message: expect.stringMatching(/is at migration 2, newer than this version of fleetscale knows \(1\): upgrade fleetscale/),
    });
  });
});
