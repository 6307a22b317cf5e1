/**
 * What the server-side probes share: a queue of their own, filled and purged around the
 * measurement, and a claim's scan timed by the server's own clock (`EXPLAIN ANALYZE` of the
 * skip-locked claim's `SELECT`, execution time only, median of several).
 */
import { randomBytes } from 'node:crypto';

import type pg from 'pg';

import { median } from './accuracy.js';
import { claimsError } from '../../claims/errors.js';
import { hasCodePrefix } from '../../errors.js';
import { ClaimQueue } from '../../claims/queue.js';
import { DEFAULT_SCHEMA } from '../../claims/schema.js';

/**
 * The skip-locked claim's scan of queue `queue` in schema `schema`, taking up to `limit` jobs.
 * Both names must be made by the caller of `[a-z0-9_-]` only: EXPLAIN takes no bind parameters.
 */
export function claimScanSql(schema: string, queue: string, limit: number): string {
  return `EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) SELECT id FROM ${schema}.jobs WHERE queue = '${queue}' AND state = 'pending' AND run_after <= now() ORDER BY run_after, id LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
}

type PlanNode = { 'Actual Rows': number; Plans?: PlanNode[] };
type Plan = { 'QUERY PLAN': Array<{ 'Execution Time': number; Plan: PlanNode }> };

export type TimedScan = {
  /** Median execution time (ms). */
  ms: number;
  /** Rows the index scan handed up, taken or passed over (rows it found not pending are not counted). */
  scanned: number;
};

/** `scans` runs of `sql`, each of which must return `rows` rows. */
export async function timedScan(pool: pg.Pool, sql: string, scans: number, rows: number, probe: string): Promise<TimedScan> {
  const times: number[] = [];
  let scanned = 0;
  const client = await pool.connect();
  try {
    // A claim on a queue of any size walks the ready index in order; on a probe's small queue
    // the planner may rather read the whole table and sort it, which measures nothing a claim
    // pays. Its locks last to the rollback, and a transaction passes over none of its own.
    await client.query('BEGIN; SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off');
    for (let i = 0; i < scans; i++) {
      const res = await client.query<Plan>(sql);
      const [plan] = res.rows[0]['QUERY PLAN'];
      if (plan.Plan['Actual Rows'] !== rows)
        throw claimsError(
          'ERR_CLAIMS_UNAVAILABLE',
          `${probe} probe: the scan found ${plan.Plan['Actual Rows']} jobs where ${rows} were expected (is something else using its queue?)`,
        );
      let leaf = plan.Plan;
      while (leaf.Plans?.length) leaf = leaf.Plans[0];
      scanned = leaf['Actual Rows'];
      times.push(plan['Execution Time']);
    }
  } finally {
    await client.query('ROLLBACK').catch(() => {});
    client.release();
  }
  return { ms: median(times), scanned };
}

/**
 * Runs `measure` on a queue of the probe's own (named `probe-<kind>-<random>`, of
 * `[a-z0-9-]` only), then purges it and vacuums. A failure of the database is
 * `ERR_CLAIMS_UNAVAILABLE`, naming the probe.
 */
export async function withProbeQueue<T>(
  options: { url: string; schema?: string; connections: number },
  kind: string,
  probe: string,
  measure: (queue: ClaimQueue, name: string) => Promise<T>,
): Promise<T> {
  const queue = await ClaimQueue.open({ connectionString: options.url, schema: options.schema ?? DEFAULT_SCHEMA, poolSize: options.connections });
  const name = `probe-${kind}-${randomBytes(4).toString('hex')}`;
  try {
    return await measure(queue, name);
  } catch (e) {
    if (hasCodePrefix(e, 'ERR_CLAIMS_')) throw e;
    throw claimsError('ERR_CLAIMS_UNAVAILABLE', `${probe} probe: ${(e as Error).message}`, e);
  } finally {
    try {
      await queue.purge(name);
      await queue.vacuum();
    } finally {
      await queue.close();
    }
  }
}
