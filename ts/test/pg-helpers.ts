/** Shared helpers of the suites that need PostgreSQL (the server on 127.0.0.1, or FLEETSCALE_PG_URL). */
import { serviceAvailable } from './services.js';

export const PG_URL = process.env.FLEETSCALE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Whether PostgreSQL answers. With CI=true an unreachable server fails the run (unless
 * FLEETSCALE_SKIP_SERVICES names postgres); elsewhere the suites that need it skip.
 */
export async function postgresAvailable(): Promise<boolean> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (e) {
    return serviceAvailable('postgres', false, `PostgreSQL at ${PG_URL} is unreachable (${(e as Error).message})`);
  } finally {
    await client.end().catch(() => {});
  }
}

let schemaCount = 0;
/** A fresh schema name for one test's PostgreSQL store. */
export function freshSchema(): string {
  return `fs_test_${process.pid}_${Date.now().toString(36)}_${schemaCount++}`;
}

/** Runs `fn` on a client of its own, closed afterwards. */
export async function withClient<T>(fn: (client: import('pg').Client) => Promise<T>): Promise<T> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Drops test schemas. */
export async function dropSchemas(schemas: string[]): Promise<void> {
  if (schemas.length === 0) return;
  await withClient(async (client) => {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  });
}
