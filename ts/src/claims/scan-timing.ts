/**
 * Timing a claim's scan by the server's own clock, for the probes that measure what the scan
 * passes over (dead index entries, rows other claims hold): `EXPLAIN ANALYZE` of the
 * skip-locked claim's `SELECT`, execution time only, median of several.
 */
import type pg from 'pg';

import { median } from './accuracy.js';
import { claimsError } from './errors.js';

/**
 * The skip-locked claim's scan of queue `queue` in schema `schema`, taking up to `limit` jobs.
 * Both names must be made by the caller of `[a-z0-9_-]` only: EXPLAIN takes no bind parameters.
 */
export function claimScanSql(schema: string, queue: string, limit: number): string {
  return `EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) SELECT id FROM ${schema}.jobs WHERE queue = '${queue}' AND state = 'pending' AND run_after <= now() ORDER BY run_after, id LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
}

type Plan = { 'QUERY PLAN': Array<{ 'Execution Time': number; Plan: { 'Actual Rows': number } }> };

/** The median execution time (ms) of `scans` runs of `sql`, each of which must return `rows` rows. */
export async function timedScan(pool: pg.Pool, sql: string, scans: number, rows: number, probe: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < scans; i++) {
    const res = await pool.query<Plan>(sql);
    const [plan] = res.rows[0]['QUERY PLAN'];
    if (plan.Plan['Actual Rows'] !== rows) throw claimsError('ERR_CLAIMS_UNAVAILABLE', `${probe} probe: the scan found ${plan.Plan['Actual Rows']} jobs where ${rows} were expected (is something else using its queue?)`);
    times.push(plan['Execution Time']);
  }
  return median(times);
}
