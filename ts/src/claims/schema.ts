/**
 * The claims queue's tables. One `jobs` table holds every queue (a `queue` column names it, so
 * the orchestrator's PostgreSQL backend can keep its task queues here too); a job moves
 * pending → running (claimed, under a lease) → done or failed, or back to pending when its
 * attempt failed or its lease expired with attempts left. `results` holds what completed jobs
 * returned, written in the same transaction that marks them done. The tables themselves are the
 * numbered migrations in `sql/claims/`.
 */
import type pg from 'pg';

import { isSchemaName, loadMigrations, migrate as runMigrations, type MigrationReport } from '../pg/migrate.js';
import { claimsError } from './errors.js';

export const DEFAULT_SCHEMA = 'fleetscale_claims';

/** Throws unless `schema` is a plain lowercase SQL identifier (it is spliced into SQL). */
export function checkSchema(schema: string): string {
  if (!isSchemaName(schema)) {
    throw claimsError('ERR_CLAIMS_CONFIG', `schema name ${JSON.stringify(schema)} must be a lowercase SQL identifier`);
  }
  return schema;
}

/** Creates the schema and tables, or brings them up to date; safe to run from many processes at once. */
export async function migrate(pool: pg.Pool, schema: string): Promise<MigrationReport> {
  return runMigrations(pool, checkSchema(schema), loadMigrations('claims'));
}
