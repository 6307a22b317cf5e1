/**
 * The PostgreSQL store: several hub processes behind a load balancer share rounds through one
 * database. The protocol's rules run inside the database, in one call per request (PL/pgSQL
 * functions), so they hold across processes:
 * - a report takes a shared advisory lock on its round and a close an exclusive one, so no
 *   batch is accepted after the close that a fusion would miss;
 * - (round, node, seq) and (round, record id) are primary keys, so a retried batch is
 *   accepted once wherever it lands;
 * - round counters are derived from the node and batch rows, never a hot row every batch
 *   would update.
 * Acknowledged = committed (synchronous_commit as the server has it; on by default).
 */
import pg from 'pg';

import { runTextQuery, type TextQuery } from '../../fusion/query-texts.js';
import { isFleetscaleError } from '../../errors.js';
import { isSchemaName, loadMigrations, migrate } from '../../pg/migrate.js';
import { inTransaction } from '../../pg/transaction.js';
import { HubError, type HubErrorCode } from '../errors.js';
import { GroupCommit, type GroupCommitOptions } from './group-commit.js';
import {
  type Announced,
  type Batch,
  type BatchOutcome,
  type CloseReason,
  FUSED_ROUNDS_REMEMBERED,
  type RoundState,
  type RoundStore,
  type RoundSummary,
  type StoredResult,
} from './types.js';

export type PostgresStoreOptions = {
  /** Schema of the hub's tables and functions (default `fleetscale_hub`). */
  schema?: string;
  /** Connections in the pool (default 20). */
  poolSize?: number;
  /** A claimed fusion not finished within this time may be taken over by another hub (ms). */
  fusionClaimMs?: number;
  /**
   * How reports and announces are grouped into transactions (default: 1 in flight, up to
   * 500 each). One group at a time makes the groups as large as the load: a group costs the
   * database about half a millisecond however small (`npm run bench:pg-groups`), so on a busy
   * host several small groups in flight cost more than one large one.
   */
  groupCommit?: GroupCommitOptions;
  /** Told when the store could not do its housekeeping (trimming, pruning and vacuuming fused rounds' rows). */
  onWarning?: (message: string) => void;
};

type PendingReport = { round: string; batch: Batch };
type PendingAnnounce = { round: string; node: string; now: number; deadlineMs: number };
type ReportStatus = { status: string; roundComplete: boolean };

function compareReports(a: PendingReport, b: PendingReport): number {
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  if (a.batch.node !== b.batch.node) return a.batch.node < b.batch.node ? -1 : 1;
  return a.batch.seq - b.batch.seq;
}

type SummaryRow = {
  round: string;
  state: RoundState;
  opened_at: string;
  deadline: string;
  closed_at: string | null;
  close_reason: CloseReason | null;
  events: number | null;
  fusion_ms: number | null;
  final_counts: { nodes: number; finalNodes: number; batches: number; observations: number } | null;
  nodes: string | null;
  final_nodes: string | null;
  batches: string | null;
  observations: string | null;
};

/**
 * `report_many`'s ten parameters for a group: rounds, nodes, seqs, finals and digests per
 * batch; the batches' texts as UTF-8 back to back in one buffer and where each ends; every
 * batch's record ids back to back, how many each has, and whose each is (1-based).
 */
export function reportManyParams(items: ReadonlyArray<{ round: string; batch: Batch }>): unknown[] {
  const ids: string[] = [];
  const counts: number[] = [];
  const owners: number[] = [];
  const ends: number[] = [];
  let end = 0;
  items.forEach(({ batch }, k) => {
    for (const id of batch.ids) {
      ids.push(id);
      owners.push(k + 1);
    }
    counts.push(batch.ids.length);
    ends.push((end += Buffer.byteLength(batch.json)));
  });
  // The texts written straight into one buffer.
  const bodies = Buffer.allocUnsafe(end);
  items.forEach(({ batch }, k) => {
    const at = k === 0 ? 0 : ends[k - 1];
    if (typeof batch.json === 'string') bodies.write(batch.json, at, 'utf8');
    else bodies.set(batch.json, at);
  });
  return [
    items.map((i) => i.round),
    items.map((i) => i.batch.node),
    items.map((i) => i.batch.seq),
    items.map((i) => i.batch.final),
    items.map((i) => i.batch.digest),
    bodies,
    ends,
    ids,
    counts,
    owners,
  ];
}

/**
 * The hub's store on PostgreSQL, shared by several hub processes behind a load balancer: each
 * round's batches, closes and results in one schema; `PostgresStore.open(url)` creates it.
 */
export class PostgresStore implements RoundStore {
  readonly kind = 'postgres';
  private readonly s: string;
  private readonly owner = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  private readonly claimMs: number;
  private readonly reports: GroupCommit<PendingReport, ReportStatus>;
  private readonly announces: GroupCommit<PendingAnnounce, string>;
  private readonly warn: (message: string) => void;
  /** The housekeeping pass running now, and whether another round was fused since it began. */
  private tidying: Promise<void> | undefined;
  private tidyAgain = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    options: PostgresStoreOptions,
  ) {
    this.s = options.schema ?? 'fleetscale_hub';
    this.claimMs = options.fusionClaimMs ?? 60_000;
    this.reports = new GroupCommit((items) => this.reportMany(items), { concurrency: 1, ...options.groupCommit });
    this.announces = new GroupCommit((items) => this.announceMany(items), { concurrency: 1, ...options.groupCommit });
    this.warn = options.onWarning ?? (() => {});
  }

  /**
   * Connects and brings the schema up to date: the numbered migrations in `sql/hub/`, under an
   * advisory lock (`ERR_MIGRATION` when one fails, or when the schema is newer than this
   * version knows).
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const schema = options.schema ?? 'fleetscale_hub';
    if (!isSchemaName(schema)) throw new HubError('ERR_VALIDATION', `schema name "${schema}" must be a lowercase SQL identifier`);
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 20 });
    pool.on('error', () => {}); // idle client errors surface on the next query
    try {
      await migrate(pool, schema, loadMigrations('hub'));
    } catch (e) {
      await pool.end();
      // A failed migration says so itself; anything else is the server out of reach.
      throw isFleetscaleError(e) ? e : new HubError('ERR_STORE_UNAVAILABLE', `cannot connect to PostgreSQL: ${(e as Error).message}`, { cause: e });
    }
    return new PostgresStore(pool, url, options);
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (e) {
      const err = e as { code?: string; message: string };
      if (err.code === undefined || /^(08|57P)/.test(err.code)) throw new HubError('ERR_STORE_UNAVAILABLE', `PostgreSQL: ${err.message}`);
      throw e;
    }
  }

  private static fail(status: string, round: string, node?: string, seq?: number): never {
    const [code, detail] = status.split(':') as [HubErrorCode, string | undefined];
    const messages: Partial<Record<HubErrorCode, string>> = {
      ERR_ROUND_NOT_FOUND: `round "${round}" does not exist (announce opens it)`,
      ERR_ROUND_CLOSED: `round "${round}" is closed; it takes no more batches or nodes`,
      ERR_NOT_ANNOUNCED: `node "${node}" has not announced itself in round "${round}"`,
      ERR_BATCH_CONFLICT: `node "${node}" already sent batch ${seq} of round "${round}" with other content`,
      ERR_AFTER_FINAL: `node "${node}" ended round "${round}" at batch ${detail}; batch ${seq} cannot be final or come after it`,
      ERR_DUPLICATE_RECORD_ID:
        detail === undefined ? `an observation id of this batch is already in round "${round}"` : `observation id "${detail}" is already in round "${round}"`,
    };
    throw new HubError(code, messages[code] ?? status);
  }

  async announce(round: string, node: string, now: number, deadlineMs: number): Promise<Announced> {
    const status = await this.announces.submit({ round, node, now, deadlineMs });
    const [kind, deadline] = status.split(':');
    if (kind !== 'opened' && kind !== 'joined') PostgresStore.fail(status, round, node);
    return { deadline: Number(deadline), opened: kind === 'opened' };
  }

  /** One group of announces: one `announce_many` call, one transaction. */
  private async announceMany(items: PendingAnnounce[]): Promise<string[]> {
    const { rows } = await this.query<{ status: string }>(`SELECT status FROM ${this.s}.announce_many($1, $2, $3, $4) WITH ORDINALITY AS t(status, n) ORDER BY n`, [
      items.map((i) => i.round),
      items.map((i) => i.node),
      items.map((i) => i.now),
      items.map((i) => i.deadlineMs),
    ]);
    return rows.map((r) => r.status);
  }

  async report(round: string, batch: Batch): Promise<BatchOutcome> {
    const { status, roundComplete } = await this.reports.submit({ round, batch });
    if (status.startsWith('duplicate:')) return { duplicate: true, state: status.slice(10) as RoundState, complete: false };
    if (!status.startsWith('accepted')) PostgresStore.fail(status, round, batch.node, batch.seq);
    return { duplicate: false, state: 'open', complete: roundComplete };
  }

  /**
   * One group commit: the reports in one `report_many` call (one transaction), then one query
   * for which of the rounds that just had a node complete are now complete. That check runs
   * after the commit: of two nodes completing at once, the later commit sees both.
   */
  private async reportMany(items: PendingReport[]): Promise<ReportStatus[]> {
    // One lock order for every group: by round, node, seq.
    const order = items.map((_, k) => k).sort((a, b) => compareReports(items[a], items[b]));
    const statuses = await this.callReportMany(order.map((k) => items[k])).catch(async (e: { code?: string }) => {
      // Two groups deadlocked after all (ids of other nodes' batches colliding): one at a time.
      if (e.code !== '40P01') throw e;
      const one: string[] = [];
      for (const k of order) one.push(...(await this.callReportMany([items[k]])));
      return one;
    });
    const byItem = new Array<string>(items.length);
    order.forEach((k, at) => (byItem[k] = statuses[at]));
    const completing = [...new Set(items.filter((_, k) => byItem[k] === 'accepted:complete').map((item) => item.round))];
    const complete = new Set<string>();
    if (completing.length > 0) {
      const { rows } = await this.query<{ round: string }>(
        `SELECT r.round FROM unnest($1::text[]) AS r(round)
          WHERE NOT EXISTS (SELECT 1 FROM ${this.s}.nodes n WHERE n.round = r.round AND NOT n.complete)`,
        [completing],
      );
      for (const row of rows) complete.add(row.round);
    }
    return items.map((item, k) => ({ status: byItem[k], roundComplete: byItem[k] === 'accepted:complete' && complete.has(item.round) }));
  }

  private async callReportMany(items: PendingReport[]): Promise<string[]> {
    const { rows } = await this.query<{ status: string }>(
      `SELECT status FROM ${this.s}.report_many($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) WITH ORDINALITY AS t(status, n) ORDER BY n`,
      reportManyParams(items),
    );
    return rows.map((r) => r.status);
  }

  async close(round: string, reason: CloseReason, now: number): Promise<boolean> {
    const { rows } = await this.query<{ status: string }>(`SELECT ${this.s}.close($1, $2, $3, $4) AS status`, [round, reason, now, this.owner]);
    if (rows[0].status === 'ERR_ROUND_NOT_FOUND') PostgresStore.fail(rows[0].status, round);
    return rows[0].status === 'closed';
  }

  async batchTexts(round: string): Promise<string[]> {
    const client = await this.pool.connect().catch((e: Error) => {
      throw new HubError('ERR_STORE_UNAVAILABLE', `PostgreSQL: ${e.message}`);
    });
    try {
      return await runTextQuery(client, this.batchTextsQuery(round));
    } finally {
      client.release();
    }
  }

  /**
   * The round's texts in (node, seq) order, read along the primary key whatever the
   * statistics say: sorting 40,000 rows by their text keys took longer than reading them
   * (`npm run bench:pg-post-round`).
   */
  batchTextsQuery(round: string): TextQuery {
    return {
      url: this.url,
      text: `SELECT body FROM ${this.s}.batches WHERE round = $1 ORDER BY round, node, seq`,
      values: [round],
      settings: { enable_sort: 'off', enable_seqscan: 'off', enable_bitmapscan: 'off', jit: 'off' },
    };
  }

  async saveResult(round: string, result: StoredResult, fusionMs: number): Promise<void> {
    const fused = await inTransaction(this.pool, async (client) => {
      const counts = await this.liveCounts(round, client);
      const updated = await client.query(
        `UPDATE ${this.s}.rounds SET state = 'fused', result = $2, events = $3, fusion_ms = $4, final_counts = $5
          WHERE round = $1 AND state = 'closed'`,
        [round, result.json, result.events, fusionMs, JSON.stringify(counts)],
      );
      // The observations live on in the result, and the counts in final_counts: the round's
      // working rows go, but for the batches' digests, a row per node, which the latest fused
      // rounds keep so that a retry of an acknowledged batch is still answered as a duplicate
      // (a late batch meets the round's state: ERR_ROUND_CLOSED). Keeping the batch rows for
      // their digests and emptying their bodies instead cost the database twice as much in all
      // (`npm run bench:pg-post-round`).
      if (updated.rowCount === 1) {
        await client.query(
          `INSERT INTO ${this.s}.fused_digests (round, node, seqs, digests)
            SELECT round, node, array_agg(seq ORDER BY seq), array_agg(digest ORDER BY seq)
              FROM ${this.s}.batches WHERE round = $1 GROUP BY round, node`,
          [round],
        );
        await client.query(`DELETE FROM ${this.s}.batches WHERE round = $1`, [round]);
        await client.query(`DELETE FROM ${this.s}.record_ids WHERE round = $1`, [round]);
        await client.query(`DELETE FROM ${this.s}.nodes WHERE round = $1`, [round]);
      }
      return updated.rowCount === 1;
    });
    if (fused) this.tidy();
  }

  /**
   * The background housekeeping after a round is fused: deletes the digests of rounds older
   * than the latest FUSED_ROUNDS_REMEMBERED fused ones (and the batches such rounds kept
   * before their digests had a table of their own), and reclaims the deleted rows (hundreds of
   * thousands of record ids for a large round, a row per batch and per node): where autovacuum
   * is off, or lags, the working tables would otherwise grow by every round and every lookup
   * would wade through the dead rows. One pass at a time; rounds fused meanwhile are covered
   * by one more. SKIP_LOCKED: a vacuum already running there (another hub's, or autovacuum)
   * does the work.
   */
  private tidy(): void {
    if (this.tidying) {
      this.tidyAgain = true;
      return;
    }
    this.tidying = this.tidyOnce()
      .catch((e: Error) => this.warn(`postgres: could not tidy the fused rounds' rows: ${e.message}`))
      .finally(() => {
        this.tidying = undefined;
        if (this.tidyAgain) {
          this.tidyAgain = false;
          this.tidy();
        }
      });
  }

  private async tidyOnce(): Promise<void> {
    const forgotten = `SELECT round FROM ${this.s}.rounds WHERE state = 'fused' ORDER BY closed_at DESC, round OFFSET $1`;
    await this.pool.query(`DELETE FROM ${this.s}.fused_digests WHERE round IN (${forgotten})`, [FUSED_ROUNDS_REMEMBERED]);
    await this.pool.query(`DELETE FROM ${this.s}.batches WHERE round IN (${forgotten})`, [FUSED_ROUNDS_REMEMBERED]);
    await this.pool.query(`VACUUM (SKIP_LOCKED) ${this.s}.record_ids, ${this.s}.batches, ${this.s}.nodes, ${this.s}.fused_digests`);
  }

  /** Resolves once the background housekeeping started so far is done. */
  async tidied(): Promise<void> {
    while (this.tidying) await this.tidying;
  }

  private async liveCounts(round: string, client: pg.PoolClient | pg.Pool = this.pool) {
    const { rows } = await client.query<{ nodes: string; final_nodes: string; batches: string; observations: string }>(
      `SELECT (SELECT count(*) FROM ${this.s}.nodes WHERE round = $1) AS nodes,
              (SELECT count(*) FROM ${this.s}.nodes WHERE round = $1 AND complete) AS final_nodes,
              (SELECT count(*) FROM ${this.s}.batches WHERE round = $1) AS batches,
              (SELECT coalesce(sum(observations), 0) FROM ${this.s}.batches WHERE round = $1) AS observations`,
      [round],
    );
    const r = rows[0];
    return { nodes: Number(r.nodes), finalNodes: Number(r.final_nodes), batches: Number(r.batches), observations: Number(r.observations) };
  }

  async saveFailure(round: string, message: string): Promise<void> {
    await this.query(`UPDATE ${this.s}.rounds SET state = 'failed', failure = $2 WHERE round = $1 AND state = 'closed'`, [round, message]);
  }

  async resultJson(round: string): Promise<string | undefined> {
    const { rows } = await this.query<{ result: string | null }>(`SELECT result FROM ${this.s}.rounds WHERE round = $1`, [round]);
    return rows[0]?.result ?? undefined;
  }

  async failure(round: string): Promise<string | undefined> {
    const { rows } = await this.query<{ failure: string | null }>(`SELECT failure FROM ${this.s}.rounds WHERE round = $1`, [round]);
    return rows[0]?.failure ?? undefined;
  }

  /** Summaries with live counts for rounds not fused yet, stored counts for fused ones. */
  private summariesSql(where: string): string {
    const s = this.s;
    return `SELECT r.round, r.state, r.opened_at, r.deadline, r.closed_at, r.close_reason, r.events, r.fusion_ms, r.final_counts,
        n.nodes, n.final_nodes, b.batches, b.observations
      FROM ${s}.rounds r
      LEFT JOIN LATERAL (SELECT count(*) AS nodes, count(*) FILTER (WHERE complete) AS final_nodes
        FROM ${s}.nodes WHERE round = r.round AND r.final_counts IS NULL) n ON true
      LEFT JOIN LATERAL (SELECT count(*) AS batches, coalesce(sum(observations), 0) AS observations
        FROM ${s}.batches WHERE round = r.round AND r.final_counts IS NULL) b ON true
      ${where}`;
  }

  private static toSummary(row: SummaryRow): RoundSummary {
    const counts = row.final_counts ?? {
      nodes: Number(row.nodes ?? 0),
      finalNodes: Number(row.final_nodes ?? 0),
      batches: Number(row.batches ?? 0),
      observations: Number(row.observations ?? 0),
    };
    return {
      round: row.round,
      state: row.state,
      openedAt: Number(row.opened_at),
      deadline: Number(row.deadline),
      closedAt: row.closed_at === null ? null : Number(row.closed_at),
      closeReason: row.close_reason,
      ...counts,
      events: row.events,
      fusionMs: row.fusion_ms,
    };
  }

  async summary(round: string): Promise<RoundSummary | undefined> {
    const { rows } = await this.query<SummaryRow>(this.summariesSql('WHERE r.round = $1'), [round]);
    return rows[0] ? PostgresStore.toSummary(rows[0]) : undefined;
  }

  async list(limit: number): Promise<RoundSummary[]> {
    const { rows } = await this.query<SummaryRow>(this.summariesSql('ORDER BY r.opened_at DESC, r.round DESC LIMIT $1'), [limit]);
    return rows.map(PostgresStore.toSummary);
  }

  async due(now: number): Promise<string[]> {
    const { rows } = await this.query<{ round: string }>(`SELECT round FROM ${this.s}.rounds WHERE state = 'open' AND deadline <= $1`, [now]);
    return rows.map((r) => r.round);
  }

  /** Closed, unfused rounds this hub may fuse: its own, or ones whose claim went stale. */
  async unfused(): Promise<string[]> {
    const now = Date.now();
    const { rows } = await this.query<{ round: string }>(
      `UPDATE ${this.s}.rounds SET fusing_by = $1, fusing_at = $2
        WHERE state = 'closed' AND (fusing_by = $1 OR fusing_by IS NULL OR fusing_at < $3)
        RETURNING round`,
      [this.owner, now, now - this.claimMs],
    );
    return rows.map((r) => r.round);
  }

  async openRounds(): Promise<number> {
    const { rows } = await this.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.s}.rounds WHERE state = 'open'`, []);
    return Number(rows[0].n);
  }

  async shutdown(): Promise<void> {
    this.tidyAgain = false;
    await this.tidying;
    await this.pool.end();
  }

  /** Drops the schema with everything in it (tests). */
  async dropSchema(): Promise<void> {
    await this.query(`DROP SCHEMA IF EXISTS ${this.s} CASCADE`, []);
  }
}
