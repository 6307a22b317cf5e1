/**
 * Versioned schema migrations for the hub's PostgreSQL store and the claims queue. Each
 * component's migrations are numbered SQL files (`sql/<component>/000001_initial.sql`, …),
 * applied in order, each in its own transaction together with its row in the schema's
 * `migrations` table, all under a session advisory lock so two processes starting at once do
 * not race (the second waits, then finds nothing left to do). A database whose schema is newer
 * than this version of fleetscale knows is refused rather than touched.
 */
import { readdirSync, readFileSync } from 'node:fs';

import type pg from 'pg';

import { FleetscaleError } from '../errors.js';

/** One numbered migration. */
export type Migration = { version: number; name: string; sql: string };

/** Where the SQL files live: `sql/` at the package root (beside `ts/` and `dist/`). */
const SQL_ROOT = new URL('../../../sql/', import.meta.url);

/** Advisory-lock namespace of migrations ("mg"); the second key is the schema's hash. */
const MIGRATION_LOCK_NS = 0x6d67;

const FILE = /^(\d{6})_([a-z0-9_]+)\.sql$/;

/** Whether `name` is a plain lowercase SQL identifier, as a schema name spliced into SQL must be. */
export function isSchemaName(name: unknown): name is string {
  return typeof name === 'string' && /^[a-z_][a-z0-9_]{0,62}$/.test(name);
}

/** The migrations of a component (`hub`, `claims`), in order; the files' numbers must run 1, 2, 3, … */
export function loadMigrations(component: string, root: URL = SQL_ROOT): Migration[] {
  const dir = new URL(`${component}/`, root);
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const match = FILE.exec(file);
      if (!match) throw new FleetscaleError('ERR_MIGRATION', `${component} migration file "${file}" is not named NNNNNN_name.sql`);
      return { version: Number(match[1]), name: match[2]!, sql: readFileSync(new URL(file, dir), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new FleetscaleError('ERR_MIGRATION', `${component} migrations must be numbered 1, 2, 3, …; found ${m.version} in position ${i + 1}`);
  });
  return migrations;
}

/** What `migrate` did. */
export type MigrationReport = { from: number; to: number; applied: number[] };

/**
 * Brings `schema` up to the latest of `migrations`. `{{schema}}` in a migration's SQL is the
 * schema's name, which must be a plain lowercase identifier (it is spliced into SQL).
 */
export async function migrate(pool: pg.Pool, schema: string, migrations: readonly Migration[]): Promise<MigrationReport> {
  if (!isSchemaName(schema)) throw new FleetscaleError('ERR_MIGRATION', `schema name ${JSON.stringify(schema)} must be a lowercase SQL identifier`);
  const latest = migrations.at(-1)?.version ?? 0;
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [MIGRATION_LOCK_NS, schema]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${schema}.migrations`);
      const from = rows[0]?.version ?? 0;
      if (from > latest) {
        throw new FleetscaleError(
          'ERR_MIGRATION',
          `schema "${schema}" is at migration ${from}, newer than this version of fleetscale knows (${latest}): upgrade fleetscale, or point it at another schema`,
        );
      }
      const applied: number[] = [];
      for (const migration of migrations) {
        if (migration.version <= from) continue;
        try {
          await client.query('BEGIN');
          await client.query(migration.sql.replaceAll('{{schema}}', schema));
          await client.query(`INSERT INTO ${schema}.migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw new FleetscaleError(
            'ERR_MIGRATION',
            `migration ${migration.version} (${migration.name}) of schema "${schema}" failed and was rolled back: ${(error as Error).message}`,
            { cause: error },
          );
        }
        applied.push(migration.version);
      }
      return { from, to: Math.max(from, latest), applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [MIGRATION_LOCK_NS, schema]).catch(() => {});
    }
  } finally {
    client.release();
  }
}
