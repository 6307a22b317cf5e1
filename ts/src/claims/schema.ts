/**
 * The claims queue's tables. One `jobs` table holds every queue (a `queue` column names it, so
 * the orchestrator's PostgreSQL backend can keep its task queues here too); a job moves
 * pending → running (claimed, under a lease) → done or failed, or back to pending when its
 * attempt failed or its lease expired with attempts left. `results` holds what completed jobs
 * returned, written in the same transaction that marks them done.
 */
import type pg from 'pg';

import { inTransaction } from '../pg/transaction.js';
import { claimsError } from './errors.js';

export const DEFAULT_SCHEMA = 'fleetscale_claims';

/** Advisory lock key of migrations (an arbitrary constant: "fc"). */
const MIGRATION_LOCK = 0x6663;

/** Throws unless `schema` is a plain lowercase SQL identifier (it is spliced into SQL). */
export function checkSchema(schema: string): string {
  if (typeof schema !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw claimsError('ERR_CLAIMS_CONFIG', `schema name ${JSON.stringify(schema)} must be a lowercase SQL identifier`);
  }
  return schema;
}

function migration(s: string): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.jobs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue text NOT NULL,
  part integer NOT NULL DEFAULT 0,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  run_after timestamptz NOT NULL DEFAULT now(),
  lease_until timestamptz,
  claimed_at timestamptz,
  locked_by text,
  payload jsonb NOT NULL,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_cost_delay = 0);
-- When the current attempt was claimed (finished_at - claimed_at: claim-to-complete latency).
ALTER TABLE ${s}.jobs ADD COLUMN IF NOT EXISTS claimed_at timestamptz;
-- Claims read a queue's (or partition's) pending jobs in the order they became runnable. Only
-- these indexes give that order, so the planner walks one of them and stops after B rows,
-- rather than reading the primary key through every finished job.
CREATE INDEX IF NOT EXISTS jobs_ready ON ${s}.jobs (queue, run_after, id) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS jobs_ready_part ON ${s}.jobs (queue, part, run_after, id) WHERE state = 'pending';
-- The reaper looks for expired leases. A job holds a lease exactly while it runs; the predicate
-- names the lease, not the state, so statements that select running jobs by id (completion,
-- failure, extension) are not offered this index: statistics taken while every job was pending
-- make it look empty, and a plan walking it (and its dead entries) once per given id is
-- quadratic in the flush size.
DROP INDEX IF EXISTS ${s}.jobs_leases;
CREATE INDEX IF NOT EXISTS jobs_lease_expiry ON ${s}.jobs (lease_until) WHERE lease_until IS NOT NULL;
CREATE TABLE IF NOT EXISTS ${s}.results (
  job_id bigint PRIMARY KEY,
  queue text NOT NULL,
  attempt integer NOT NULL,
  worker text NOT NULL,
  result jsonb,
  finished_at timestamptz NOT NULL DEFAULT now()
);
`;
}

/** Creates the schema and tables if missing; safe to run from many processes at once. */
export async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  const sql = migration(checkSchema(schema));
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(sql);
  });
}
