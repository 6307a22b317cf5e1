/**
 * A PostgreSQL work queue that hands jobs out in batches. Three claim strategies, the
 * subject of the contention model (`claim-sim`):
 *
 * - `optimistic-any`: pick the first B pending ids, then `UPDATE … WHERE id = ANY(ids) AND
 *   state = 'pending'`. Concurrent claimers pick the same ids, wait on each other's row locks,
 *   and come back with partial or empty batches: the pattern that stops more workers helping.
 * - `skip-locked`: `SELECT … FOR UPDATE SKIP LOCKED` under the update, so claimers pass over
 *   rows another claimer holds and each gets a full batch of its own.
 * - `partitioned`: jobs are spread over P partitions when enqueued; a worker claims from its
 *   own partition (skip-locked within it, for its own consumers) and steals from the others
 *   only when its own is empty.
 *
 * A claim takes a lease; a job whose lease expires (its worker died) is returned to pending by
 * `reap`, or failed once it used up its attempts. Completion is fenced by the attempt number,
 * so a worker that lost its lease cannot complete a job another worker now holds, and it
 * writes the results in the same statement (one transaction) that marks the jobs done.
 */
import pg from 'pg';
import { Type } from 'typebox';

import { isFleetscaleError } from '../errors.js';
import { inTransaction } from '../pg/transaction.js';
import { schemaCheck } from '../schema-check.js';
import { claimsError, intOption } from './errors.js';
import { checkSchema, DEFAULT_SCHEMA, migrate } from './schema.js';

export type ClaimStrategy = 'optimistic-any' | 'skip-locked' | 'partitioned';
/** The ways a worker can claim a batch: any pending rows optimistically, `FOR UPDATE SKIP LOCKED`, or its own partition. */
export const CLAIM_STRATEGIES: readonly ClaimStrategy[] = ['optimistic-any', 'skip-locked', 'partitioned'];

export function checkStrategy(strategy: unknown): ClaimStrategy {
  if (!CLAIM_STRATEGIES.includes(strategy as ClaimStrategy)) {
    throw claimsError('ERR_CLAIMS_CONFIG', `strategy must be one of ${CLAIM_STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}`);
  }
  return strategy as ClaimStrategy;
}

/** A claimed job: complete or fail it with its `attempt`, which fences the lease. */
export type ClaimedJob<P = unknown> = { id: number; attempt: number; payload: P };

export type ClaimRequest = {
  queue: string;
  /** Who claims: recorded on the jobs and the results. */
  worker: string;
  strategy: ClaimStrategy;
  batchSize: number;
  /** How long the claim holds the jobs before the reaper may hand them out again (ms). */
  leaseMs: number;
  /** The worker's partition (`partitioned` only; default 0). */
  partition?: number;
};

export type Backlog = { ready: boolean; waiting: boolean; running: boolean };

export type JobCounts = { pending: number; running: number; done: number; failed: number };

export type ClaimQueueOptions = {
  /** A pool to use (not closed by `close`); else one is made from `connectionString`. */
  pool?: pg.Pool;
  connectionString?: string;
  /** Connections of the pool made here (default 10). */
  poolSize?: number;
  /** Schema of the tables (default `fleetscale_claims`). */
  schema?: string;
};

/** How `ClaimQueue.open` checks its options' shapes (the pool is pg's own). */
const QueueOptionsSchema = Type.Object({
  connectionString: Type.Optional(Type.String({ minLength: 1 })),
  poolSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  schema: Type.Optional(Type.String()),
});
const checkQueueOptions = schemaCheck(QueueOptionsSchema, (message) => claimsError('ERR_CLAIMS_CONFIG', message), { root: 'the options', prefix: 'options' });

export type EnqueueOptions = {
  /** Attempts before a job is marked failed (default 3). */
  maxAttempts?: number;
  /** Jobs are spread round-robin over this many partitions (default 1). */
  partitions?: number;
};

const ENQUEUE_CHUNK = 10_000;

/** A queue or worker name: 1 to 200 characters. */
function checkName(what: 'queue' | 'worker', name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw claimsError('ERR_CLAIMS_CONFIG', `${what} must be a name of 1 to 200 characters, got ${JSON.stringify(name)}`);
  }
  return name;
}

/** JSON text of a payload or result; `undefined` becomes null. */
function toJson(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw claimsError('ERR_CLAIMS_INPUT', `${what} is not JSON-serialisable: ${(e as Error).message}`);
  }
  return text ?? 'null';
}

/** Times a statement PostgreSQL picked as a deadlock victim is run. */
const DEADLOCK_ATTEMPTS = 5;

/** Wraps a database failure in ERR_CLAIMS_UNAVAILABLE (coded errors pass through). */
function unavailable(e: unknown, doing: string): Error {
  if (isFleetscaleError(e)) return e;
  return claimsError('ERR_CLAIMS_UNAVAILABLE', `${doing}: ${(e as Error).message}`, e);
}

/**
 * Jobs of any number of named queues in one PostgreSQL table: `await ClaimQueue.open(url)`,
 * `enqueue(name, payloads)`, then workers claim them in batches (see {@link ClaimWorker}).
 * `open` creates or migrates its schema; `close()` ends its pool.
 */
export class ClaimQueue {
  readonly schema: string;
  readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly sql: Statements;

  private constructor(pool: pg.Pool, ownsPool: boolean, schema: string) {
    this.pool = pool;
    this.ownsPool = ownsPool;
    this.schema = schema;
    this.sql = statements(schema);
  }

  /**
   * Connects and brings the schema's tables up to date: the numbered migrations in
   * `sql/claims/`, under an advisory lock (`ERR_MIGRATION` when one fails, or when the schema is
   * newer than this version knows).
   */
  static async open(options: ClaimQueueOptions = {}): Promise<ClaimQueue> {
    checkQueueOptions(options);
    const schema = checkSchema(options.schema ?? DEFAULT_SCHEMA);
    if (!options.pool && !options.connectionString) throw claimsError('ERR_CLAIMS_CONFIG', 'give a pool or a connectionString');
    const poolSize = options.poolSize ?? 10;
    const pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: poolSize });
    const queue = new ClaimQueue(pool, !options.pool, schema);
    try {
      await migrate(pool, schema);
    } catch (e) {
      await queue.close();
      throw unavailable(e, 'creating the claims tables');
    }
    return queue;
  }

  /** Adds jobs (in one transaction: all or none); returns how many. */
  async enqueue(queue: string, payloads: unknown[], options: EnqueueOptions = {}): Promise<number> {
    checkName('queue', queue);
    if (!Array.isArray(payloads)) throw claimsError('ERR_CLAIMS_INPUT', 'payloads must be an array');
    const maxAttempts = intOption('maxAttempts', options.maxAttempts ?? 3, 1, 1000);
    const partitions = intOption('partitions', options.partitions ?? 1, 1, 1_000_000);
    const texts = payloads.map((p, i) => toJson(p, `payloads[${i}]`));
    try {
      await inTransaction(this.pool, async (client) => {
        for (let at = 0; at < texts.length; at += ENQUEUE_CHUNK) {
          await client.query(this.sql.enqueue, [queue, texts.slice(at, at + ENQUEUE_CHUNK), at, partitions, maxAttempts]);
        }
      });
    } catch (e) {
      throw unavailable(e, 'enqueue');
    }
    return texts.length;
  }

  /**
   * Runs one of the queue's statements (prepared once per connection, by name); a database
   * failure becomes ERR_CLAIMS_UNAVAILABLE naming the operation.
   *
   * Each runs alone, in its own transaction. Concurrent statements lock overlapping rows in
   * whatever order their plans visit them (an optimistic claim also keeps the lock on a row it
   * re-checked and skipped), so PostgreSQL may abort one to break a deadlock (SQLSTATE 40P01).
   * The victim rolled back whole, having changed nothing, so it is simply run again.
   */
  private async run<R extends pg.QueryResultRow>(op: keyof Statements, values: unknown[]): Promise<pg.QueryResult<R>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pool.query<R>({ name: `${this.schema}.${op}`, text: this.sql[op], values });
      } catch (e) {
        if (attempt < DEADLOCK_ATTEMPTS && (e as { code?: unknown }).code === '40P01') continue;
        throw unavailable(e, op);
      }
    }
  }

  /** Claims up to `batchSize` pending jobs under a lease (fewer when others hold them). */
  async claim<P = unknown>(request: ClaimRequest): Promise<ClaimedJob<P>[]> {
    const queue = checkName('queue', request.queue);
    const worker = checkName('worker', request.worker);
    const strategy = checkStrategy(request.strategy);
    const batchSize = intOption('batchSize', request.batchSize, 1, 100_000);
    const leaseMs = intOption('leaseMs', request.leaseMs, 1);
    type Row = { id: string; attempts: number; payload: P };
    const values = [queue, batchSize, worker, leaseMs];
    let rows: Row[];
    if (strategy === 'partitioned') {
      const partition = intOption('partition', request.partition ?? 0, 0);
      rows = (await this.run<Row>('claimPartition', [...values, partition])).rows;
      if (rows.length === 0) rows = (await this.run<Row>('claimSkipLocked', values)).rows;
    } else {
      rows = (await this.run<Row>(strategy === 'skip-locked' ? 'claimSkipLocked' : 'claimOptimistic', values)).rows;
    }
    return rows.map((r) => ({ id: Number(r.id), attempt: r.attempts, payload: r.payload }));
  }

  /**
   * Marks jobs done and stores their results, in one transaction. A job counts only if the
   * caller still holds it at that attempt; returns how many were completed.
   */
  async complete(worker: string, done: Array<{ id: number; attempt: number; result?: unknown }>): Promise<number> {
    checkName('worker', worker);
    if (done.length === 0) return 0;
    const results = done.map((d, i) => toJson(d.result, `results[${i}]`));
    const res = await this.run('complete', [done.map((d) => d.id), heldJson(done, results), worker]);
    return res.rowCount ?? 0;
  }

  /**
   * Gives jobs back after a failed attempt: pending again after `backoffMs`, or failed for
   * good once they used `maxAttempts`.
   */
  async fail(worker: string, failed: Array<{ id: number; attempt: number; error: string }>, backoffMs = 0): Promise<{ retried: number; failed: number }> {
    checkName('worker', worker);
    intOption('backoffMs', backoffMs, 0);
    if (failed.length === 0) return { retried: 0, failed: 0 };
    const errors = failed.map((f) => JSON.stringify(String(f.error).slice(0, 2000)));
    const res = await this.run<{ state: string }>('fail', [failed.map((f) => f.id), heldJson(failed, errors), backoffMs, worker]);
    return tally(res.rows);
  }

  /** Extends the leases of jobs the worker still holds; returns how many. */
  async extend(worker: string, held: Array<{ id: number; attempt: number }>, leaseMs: number): Promise<number> {
    checkName('worker', worker);
    intOption('leaseMs', leaseMs, 1);
    if (held.length === 0) return 0;
    const res = await this.run('extend', [held.map((h) => h.id), heldJson(held), leaseMs, worker]);
    return res.rowCount ?? 0;
  }

  /**
   * Returns jobs whose lease expired (their worker died or stalled) to pending, or fails
   * those with no attempts left, in every queue of the schema. Takes at most `limit` per call,
   * skipping rows being claimed.
   */
  async reap(limit = 10_000): Promise<{ retried: number; failed: number }> {
    intOption('limit', limit, 1);
    return tally((await this.run<{ state: string }>('reap', [limit])).rows);
  }

  async counts(queue: string): Promise<JobCounts> {
    const out: JobCounts = { pending: 0, running: 0, done: 0, failed: 0 };
    const res = await this.run<{ state: keyof JobCounts; n: number }>('counts', [checkName('queue', queue)]);
    for (const row of res.rows) out[row.state] = row.n;
    return out;
  }

  /**
   * What the queue still holds: jobs ready to claim, pending jobs waiting out a retry backoff,
   * and running jobs (claimed, unfinished).
   */
  async backlog(queue: string): Promise<Backlog> {
    return (await this.run<Backlog>('backlog', [checkName('queue', queue)])).rows[0];
  }

  /**
   * Claim-to-complete latency of a queue's done jobs (ms, by the database's clock: from the
   * claim of the attempt that completed to the start of the statement completing it), or null
   * when none is done.
   */
  async latency(queue: string): Promise<{ p50: number; p99: number; max: number } | null> {
    const res = await this.run<{ p: number[] | null; max: number | null }>('latency', [checkName('queue', queue)]);
    const { p, max } = res.rows[0];
    return p === null || max === null ? null : { p50: p[0], p99: p[1], max };
  }

  /** Stored results of a queue's completed jobs, by job id. */
  async results(queue: string): Promise<Array<{ id: number; attempt: number; worker: string; result: unknown }>> {
    const res = await this.run<{ job_id: string; attempt: number; worker: string; result: unknown }>('results', [checkName('queue', queue)]);
    return res.rows.map((r) => ({ id: Number(r.job_id), attempt: r.attempt, worker: r.worker, result: r.result }));
  }

  /** Deletes a queue's jobs and results (one statement). */
  async purge(queue: string): Promise<void> {
    await this.run('purge', [checkName('queue', queue)]);
  }

  /**
   * Reclaims the dead row versions claims and completions leave behind and refreshes the
   * planner's statistics (`VACUUM (ANALYZE)` of both tables). Autovacuum does this on a server
   * that runs it; where it is off, claims walk ever more dead index entries and slow down run
   * by run, so call this between runs (the harness does before each).
   */
  async vacuum(): Promise<void> {
    try {
      await this.pool.query(`VACUUM (ANALYZE) ${this.schema}.jobs, ${this.schema}.results`);
    } catch (e) {
      throw unavailable(e, 'vacuum');
    }
  }

  /** Whether the server runs autovacuum (`SHOW autovacuum`). */
  async autovacuum(): Promise<boolean> {
    try {
      return (await this.pool.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0].autovacuum === 'on';
    } catch (e) {
      throw unavailable(e, 'show autovacuum');
    }
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}

/**
 * The jobs a worker holds as one JSON object, id → [attempt, extra], where `extra` is JSON text
 * (a result, an error). Statements look each updated row up in it by key (binary search), so
 * they need no join whose plan the statistics could get wrong.
 */
function heldJson(held: ReadonlyArray<{ id: number; attempt: number }>, extra?: readonly string[]): string {
  const parts = held.map((h, i) => {
    if (!Number.isSafeInteger(h.id) || !Number.isSafeInteger(h.attempt)) {
      throw claimsError('ERR_CLAIMS_INPUT', `job ${i} needs an integer id and attempt, got ${JSON.stringify({ id: h.id, attempt: h.attempt })}`);
    }
    return `"${h.id}":[${h.attempt}${extra ? `,${extra[i]}` : ''}]`;
  });
  return `{${parts.join(',')}}`;
}

function tally(rows: Array<{ state: string }>): { retried: number; failed: number } {
  let failed = 0;
  for (const r of rows) if (r.state === 'failed') failed++;
  return { retried: rows.length - failed, failed };
}

type Statements = ReturnType<typeof statements>;

/** The queue's SQL, in schema `s` (exported for plan tests). */
export function statements(s: string) {
  const lease = `now() + make_interval(secs => $4::float8 / 1000)`;
  // The attempt the caller holds row j at, from the held-jobs JSON parameter.
  const held = (param: string) => `(${param}::jsonb -> j.id::text ->> 0)::int`;
  const take = `state = 'running', attempts = j.attempts + 1, locked_by = $3, claimed_at = now(), lease_until = ${lease}`;
  return {
    // $1 queue, $2 payloads (jsonb[]), $3 offset of the chunk, $4 partitions, $5 max attempts
    enqueue: `INSERT INTO ${s}.jobs (queue, part, max_attempts, payload)
      SELECT $1, (($3::bigint + t.ord - 1) % $4)::int, $5, t.p FROM unnest($2::jsonb[]) WITH ORDINALITY AS t(p, ord)`,
    // $1 queue, $2 batch size, $3 worker, $4 lease ms. The ids are read without locks; the
    // update re-checks each row's state after waiting for whoever holds it.
    claimOptimistic: `UPDATE ${s}.jobs j SET ${take}
      WHERE j.id = ANY(ARRAY(SELECT id FROM ${s}.jobs WHERE queue = $1 AND state = 'pending' AND run_after <= now() ORDER BY run_after, id LIMIT $2))
        AND j.state = 'pending'
      RETURNING j.id, j.attempts, j.payload`,
    claimSkipLocked: `UPDATE ${s}.jobs j SET ${take}
      FROM (SELECT id FROM ${s}.jobs WHERE queue = $1 AND state = 'pending' AND run_after <= now() ORDER BY run_after, id LIMIT $2 FOR UPDATE SKIP LOCKED) c
      WHERE j.id = c.id
      RETURNING j.id, j.attempts, j.payload`,
    // $5 partition
    claimPartition: `UPDATE ${s}.jobs j SET ${take}
      FROM (SELECT id FROM ${s}.jobs WHERE queue = $1 AND part = $5 AND state = 'pending' AND run_after <= now() ORDER BY run_after, id LIMIT $2 FOR UPDATE SKIP LOCKED) c
      WHERE j.id = c.id
      RETURNING j.id, j.attempts, j.payload`,
    // Completion, failure and lease extension select rows by `j.id = ANY($1)` and fence each by
    // its attempt looked up in $2: primary-key lookups and no join, so no plan whatever the
    // statistics say of running jobs (joined to an unnest of the input, a generic plan that
    // believed none were running rescanned the input once per row: quadratic in the flush).
    // $1 ids, $2 the held jobs as JSON ({ "id": [attempt, result] }), $3 worker
    complete: `WITH done AS (
        UPDATE ${s}.jobs j SET state = 'done', finished_at = now(), lease_until = NULL
        WHERE j.id = ANY($1::bigint[]) AND j.state = 'running' AND j.locked_by = $3 AND j.attempts = ${held('$2')}
        RETURNING j.id, j.queue, j.attempts)
      INSERT INTO ${s}.results (job_id, queue, attempt, worker, result) SELECT id, queue, attempts, $3, $2::jsonb -> id::text -> 1 FROM done`,
    // $1 ids, $2 the held jobs as JSON ({ "id": [attempt, error] }), $3 backoff ms, $4 worker
    fail: `UPDATE ${s}.jobs j SET
        state = CASE WHEN j.attempts >= j.max_attempts THEN 'failed' ELSE 'pending' END,
        finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,
        run_after = now() + make_interval(secs => $3::float8 / 1000),
        last_error = $2::jsonb -> j.id::text ->> 1, lease_until = NULL, locked_by = NULL
      WHERE j.id = ANY($1::bigint[]) AND j.state = 'running' AND j.locked_by = $4 AND j.attempts = ${held('$2')}
      RETURNING j.state`,
    // $1 ids, $2 the held jobs as JSON ({ "id": [attempt] }), $3 lease ms, $4 worker
    extend: `UPDATE ${s}.jobs j SET lease_until = now() + make_interval(secs => $3::float8 / 1000)
      WHERE j.id = ANY($1::bigint[]) AND j.state = 'running' AND j.locked_by = $4 AND j.attempts = ${held('$2')}`,
    // $1 limit
    reap: `UPDATE ${s}.jobs j SET
        state = CASE WHEN j.attempts >= j.max_attempts THEN 'failed' ELSE 'pending' END,
        finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,
        last_error = 'lease expired (held by ' || coalesce(j.locked_by, '?') || ')',
        lease_until = NULL, locked_by = NULL
      FROM (SELECT id FROM ${s}.jobs WHERE lease_until < now() AND state = 'running' ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED) x
      WHERE j.id = x.id
      RETURNING j.state`,
    latency: `SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY ms) AS p, max(ms) AS max
      FROM (SELECT (extract(epoch FROM finished_at - claimed_at) * 1000)::float8 AS ms FROM ${s}.jobs WHERE queue = $1 AND state = 'done') d`,
    counts: `SELECT state, count(*)::int AS n FROM ${s}.jobs WHERE queue = $1 GROUP BY state`,
    results: `SELECT job_id, attempt, worker, result FROM ${s}.results WHERE queue = $1 ORDER BY job_id`,
    purge: `WITH gone AS (DELETE FROM ${s}.results WHERE queue = $1) DELETE FROM ${s}.jobs WHERE queue = $1`,
    // \`ready\` reads the first ready job along the ready index, as a claim does. An EXISTS
    // would be planned without the order: statistics taken while every job was pending make
    // a sequential scan look as if it stopped at once, and on a drained queue it reads the
    // whole table, on every idle worker's every look.
    backlog: `SELECT (SELECT id FROM ${s}.jobs WHERE queue = $1 AND state = 'pending' AND run_after <= now() ORDER BY run_after, id LIMIT 1) IS NOT NULL AS ready,
      EXISTS (SELECT 1 FROM ${s}.jobs WHERE queue = $1 AND state = 'pending' AND run_after > now()) AS waiting,
      EXISTS (SELECT 1 FROM ${s}.jobs WHERE state = 'running' AND lease_until IS NOT NULL AND queue = $1) AS running`,
  };
}
