/**
 * Batch texts the fusion thread reads from PostgreSQL itself. A round of 40,000 batches came
 * back from the database as 40,000 rows, and taking them apart cost the event loop that
 * acknowledges batches 80-110 ms of CPU at every round close (one aggregated text was no
 * cheaper). Given the query instead of the texts, the fusion thread reads them over a
 * connection of its own, at its own low priority, and the event loop does none of it.
 */
import pg from 'pg';

/** A query whose rows' first column is a batch text each, in the order they are to be fused. */
export type TextQuery = {
  /** The database's URL (`postgres://…`). */
  url: string;
  /** The statement; `$1`… are `values`. */
  text: string;
  values: unknown[];
  /**
   * Settings for the read (`SET LOCAL`, in a read-only transaction of its own), such as the
   * planner's: the query's plan should not hang on statistics that lag behind the table.
   */
  settings?: Record<string, string>;
};

/** Runs `query` on `client` (a connection of its own, or one out of a pool); its texts. */
export async function runTextQuery(client: pg.ClientBase, query: TextQuery): Promise<string[]> {
  const settings = Object.entries(query.settings ?? {});
  if (settings.length === 0) return texts(await client.query<string[]>({ text: query.text, values: query.values, rowMode: 'array' }));
  await client.query('BEGIN READ ONLY');
  try {
    await client.query(`SELECT ${settings.map((_, k) => `set_config($${2 * k + 1}, $${2 * k + 2}, true)`).join(', ')}`, settings.flat());
    const result = await client.query<string[]>({ text: query.text, values: query.values, rowMode: 'array' });
    await client.query('COMMIT');
    return texts(result);
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

function texts(result: pg.QueryResult<string[]>): string[] {
  return result.rows.map((row) => row[0]);
}

/** One connection per database, opened on first use and replaced after a failure. */
const clients = new Map<string, Promise<pg.Client>>();

function connection(url: string): Promise<pg.Client> {
  let client = clients.get(url);
  if (!client) {
    client = (async () => {
      const c = new pg.Client({ connectionString: url });
      // A connection lost while idle is replaced on the next read.
      c.on('error', () => clients.delete(url));
      await c.connect();
      return c;
    })();
    client.catch(() => clients.delete(url));
    clients.set(url, client);
  }
  return client;
}

/** The texts `query` returns; a failure names PostgreSQL (the caller retries: not the round's fault). */
export async function readQueryTexts(query: TextQuery): Promise<string[]> {
  try {
    return await runTextQuery(await connection(query.url), query);
  } catch (e) {
    const client = clients.get(query.url);
    clients.delete(query.url);
    void client?.then((c) => c.end()).catch(() => {});
    throw new Error(`reading the batch texts from PostgreSQL: ${(e as Error).message}`);
  }
}
