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
import { inTransaction } from '../../pg/transaction.js';
import { HubError, type HubErrorCode } from '../errors.js';
import { GroupCommit, type GroupCommitOptions } from './group-commit.js';
import { type Announced, type Batch, type BatchOutcome, type CloseReason, FUSED_ROUNDS_REMEMBERED, type RoundState, type RoundStore, type RoundSummary, type StoredResult } from './types.js';

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

/** Advisory lock namespace of round locks (an arbitrary constant: "fs"). */
const LOCK_NS = 0x6673;

function migration(s: string): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.rounds (
  round text PRIMARY KEY,
  state text NOT NULL,
  opened_at bigint NOT NULL,
  deadline bigint NOT NULL,
  closed_at bigint,
  close_reason text,
  fusing_by text,
  fusing_at bigint,
  events integer,
  fusion_ms double precision,
  final_counts jsonb,
  result text,
  failure text
);
CREATE INDEX IF NOT EXISTS rounds_open_deadline ON ${s}.rounds (deadline) WHERE state = 'open';
CREATE TABLE IF NOT EXISTS ${s}.nodes (
  round text NOT NULL,
  node text NOT NULL,
  final_seq integer NOT NULL DEFAULT 0,
  max_seq integer NOT NULL DEFAULT 0,
  batches integer NOT NULL DEFAULT 0,
  complete boolean NOT NULL DEFAULT false,
  PRIMARY KEY (round, node)
);
CREATE TABLE IF NOT EXISTS ${s}.batches (
  round text NOT NULL,
  node text NOT NULL,
  seq integer NOT NULL,
  final boolean NOT NULL,
  digest text NOT NULL,
  observations integer NOT NULL,
  body text NOT NULL,
  PRIMARY KEY (round, node, seq)
);
CREATE TABLE IF NOT EXISTS ${s}.record_ids (
  round text NOT NULL,
  id text NOT NULL,
  PRIMARY KEY (round, id)
);
-- A fused round's batch digests, a row per node (seqs[k] has digests[k]): a retry of a batch
-- acknowledged before the fusion is still answered as a duplicate, while the batches' rows
-- (40,000 for a round of 2000 nodes) go with the fusion.
CREATE TABLE IF NOT EXISTS ${s}.fused_digests (
  round text NOT NULL,
  node text NOT NULL,
  seqs integer[] NOT NULL,
  digests text[] NOT NULL,
  PRIMARY KEY (round, node)
);
-- A round's result (14.6 MB of JSON for 200,000 observations) compressed with lz4 where the
-- server has it: pglz took three times as long to store it.
DO $$ BEGIN
  IF (SELECT attcompression FROM pg_attribute WHERE attrelid = '${s}.rounds'::regclass AND attname = 'result') <> 'l' THEN
    ALTER TABLE ${s}.rounds ALTER COLUMN result SET COMPRESSION lz4;
  END IF;
EXCEPTION WHEN feature_not_supported THEN NULL;
END $$;

-- Announces grouped like reports: one call and one transaction for the announces that arrive
-- together. Each answers as if alone and in order: the first announce of a new round opens it
-- ('opened:<deadline>', at its p_now plus its p_deadline_ms), the rest join
-- ('joined:<deadline>'), and a round that is no longer open refuses them (ERR_ROUND_CLOSED).
DROP FUNCTION IF EXISTS ${s}.announce(text, text, bigint, bigint);
DROP FUNCTION IF EXISTS ${s}.announce_many(text[], text[], bigint[], bigint);
CREATE OR REPLACE FUNCTION ${s}.announce_many(p_round text[], p_node text[], p_now bigint[], p_deadline_ms bigint[])
RETURNS SETOF text LANGUAGE plpgsql
-- Key lookups whatever the statistics say, one plan per statement (see report_many).
SET plan_cache_mode = force_generic_plan SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off SET jit = off AS $$
DECLARE v_opened text[];
BEGIN
  PERFORM pg_advisory_xact_lock_shared(${LOCK_NS}, hashtext(r)) FROM (SELECT DISTINCT r FROM unnest(p_round) AS t(r) ORDER BY r) AS locks;
  WITH firsts AS (
    SELECT DISTINCT ON (t.r) t.r, t.at, t.ms FROM unnest(p_round, p_now, p_deadline_ms) WITH ORDINALITY AS t(r, at, ms, k) ORDER BY t.r, t.k
  ), opened AS (
    INSERT INTO ${s}.rounds (round, state, opened_at, deadline)
      SELECT f.r, 'open', f.at, f.at + f.ms FROM firsts f ORDER BY f.r
      ON CONFLICT (round) DO NOTHING RETURNING round
  )
  SELECT coalesce(array_agg(round), '{}') INTO v_opened FROM opened;
  INSERT INTO ${s}.nodes (round, node)
    SELECT t.r, t.nd FROM unnest(p_round, p_node) AS t(r, nd)
      CROSS JOIN LATERAL (SELECT x.state FROM ${s}.rounds x WHERE x.round = t.r) AS r
      WHERE r.state = 'open'
      ORDER BY t.r, t.nd
    ON CONFLICT DO NOTHING;
  RETURN QUERY
    SELECT CASE
        WHEN r.state <> 'open' THEN 'ERR_ROUND_CLOSED'
        WHEN t.r = ANY(v_opened) AND t.k = min(t.k) OVER (PARTITION BY t.r) THEN 'opened:' || r.deadline
        ELSE 'joined:' || r.deadline END
      FROM unnest(p_round) WITH ORDINALITY AS t(r, k)
      CROSS JOIN LATERAL (SELECT x.state, x.deadline FROM ${s}.rounds x WHERE x.round = t.r) AS r
      ORDER BY t.k;
END $$;

CREATE OR REPLACE FUNCTION ${s}.report(p_round text, p_node text, p_seq integer, p_final boolean,
  p_digest text, p_body text, p_ids text[])
RETURNS text LANGUAGE plpgsql
-- Lookups by primary key whatever the statistics say (a table a vacuum counted empty fills
-- again within seconds), so one plan per statement serves.
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET jit = off AS $$
DECLARE
  v_state text; v_digest text; v_final integer; v_max integer; v_batches integer; v_inserted integer;
  v_dup text; v_announced boolean;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(${LOCK_NS}, hashtext(p_round));
  SELECT state INTO v_state FROM ${s}.rounds WHERE round = p_round;
  IF NOT FOUND THEN RETURN 'ERR_ROUND_NOT_FOUND'; END IF;
  -- The node's row lock first: a copy of this batch in flight elsewhere (a retry that reached
  -- another hub or another group) holds it until it commits, so the look for the batch below
  -- sees it, and the retry is a duplicate rather than a clash of record ids.
  SELECT final_seq, max_seq, batches INTO v_final, v_max, v_batches
    FROM ${s}.nodes WHERE round = p_round AND node = p_node FOR UPDATE;
  v_announced := FOUND;
  SELECT digest INTO v_digest FROM ${s}.batches WHERE round = p_round AND node = p_node AND seq = p_seq;
  IF v_digest IS NULL AND v_state = 'fused' THEN
    SELECT f.digests[array_position(f.seqs, p_seq)] INTO v_digest FROM ${s}.fused_digests f WHERE f.round = p_round AND f.node = p_node;
  END IF;
  IF v_digest IS NOT NULL THEN
    IF v_digest = p_digest THEN RETURN 'duplicate:' || v_state; END IF;
    RETURN 'ERR_BATCH_CONFLICT';
  END IF;
  IF v_state <> 'open' THEN RETURN 'ERR_ROUND_CLOSED'; END IF;
  IF NOT v_announced THEN RETURN 'ERR_NOT_ANNOUNCED'; END IF;
  IF v_final > 0 AND (p_seq > v_final OR p_final) THEN RETURN 'ERR_AFTER_FINAL:' || v_final; END IF;
  IF p_final AND v_max > p_seq THEN RETURN 'ERR_AFTER_FINAL:' || v_max; END IF;
  SELECT id INTO v_dup FROM ${s}.record_ids WHERE round = p_round AND id = ANY(p_ids) LIMIT 1;
  IF FOUND THEN RETURN 'ERR_DUPLICATE_RECORD_ID:' || v_dup; END IF;
  INSERT INTO ${s}.record_ids (round, id) SELECT p_round, unnest(p_ids) ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS v_inserted = ROW_COUNT;
  IF v_inserted < cardinality(p_ids) THEN
    -- Another node's batch took one of these ids meanwhile: undo this whole batch.
    RAISE EXCEPTION 'ERR_DUPLICATE_RECORD_ID' USING ERRCODE = 'FS409';
  END IF;
  INSERT INTO ${s}.batches (round, node, seq, final, digest, observations, body)
    VALUES (p_round, p_node, p_seq, p_final, p_digest, cardinality(p_ids), p_body);
  IF p_final THEN v_final := p_seq; END IF;
  UPDATE ${s}.nodes SET batches = v_batches + 1, max_seq = greatest(v_max, p_seq), final_seq = v_final,
      complete = (v_final > 0 AND v_batches + 1 = v_final)
    WHERE round = p_round AND node = p_node;
  RETURN CASE WHEN v_final > 0 AND v_batches + 1 = v_final THEN 'accepted:complete' ELSE 'accepted' END;
END $$;

-- Batch k's JSON text out of a group's texts back to back (see report_many). The text comes
-- out in the database's default collation: convert_from's takes the "C" of its encoding's
-- name, and passed on to report() beside keys in the default one, the call's collation would
-- be indeterminate and no index on those keys could serve them.
CREATE OR REPLACE FUNCTION ${s}.batch_text(p_bodies bytea, p_ends integer[], k integer)
RETURNS text LANGUAGE sql STABLE AS $$
  SELECT convert_from(substring(p_bodies FROM coalesce(p_ends[k - 1], 0) + 1 FOR p_ends[k] - coalesce(p_ends[k - 1], 0)), 'UTF8') COLLATE "default"
$$;

-- Group commit: many reports in one transaction and one round trip. p_bodies holds every
-- batch's JSON text as UTF-8 back to back (one binary parameter: nothing to escape), p_ends
-- where each ends; p_ids every batch's record ids back to back, p_counts how many each has,
-- p_owner the batch (1-based) of each id. Callers pass the batches sorted by (round, node,
-- seq), so concurrent calls take their row locks in one order.
--
-- A group whose batches are of distinct nodes and share no record id (the usual group: a node
-- has one batch in flight) is decided in a few statements over the whole group: its statuses
-- are the ones the batch-at-a-time loop below would give, since no batch of the group can
-- change another's. Any other group, or one that loses a record id to a concurrent
-- transaction after its checks, runs batch by batch, each batch in its own subtransaction, so
-- one batch's rejection undoes only that batch.
DROP FUNCTION IF EXISTS ${s}.report_many(text[], text[], integer[], boolean[], text[], text[], text[], integer[]);
CREATE OR REPLACE FUNCTION ${s}.report_many(p_round text[], p_node text[], p_seq integer[],
  p_final boolean[], p_digest text[], p_bodies bytea, p_ends integer[], p_ids text[], p_counts integer[], p_owner integer[])
RETURNS SETOF text LANGUAGE plpgsql
-- Every statement here looks a group's keys up in tables that fill by a round a minute and
-- empty when it is fused. Their statistics lag behind: once a vacuum had counted a table empty,
-- the planner took it for the outer side of a join and scanned it whole for each of a group's
-- ids. So the group drives every statement and each table is reached key by key through its
-- primary key (LATERAL lookups, no sequential scans), or by the row ids the locking read gave;
-- and since the plans no longer depend on the statistics, each is made once per connection
-- (planning afresh for every group cost more than a small group's work). No JIT: these
-- statements are small, and compiling them took longer than running them.
SET plan_cache_mode = force_generic_plan SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off SET jit = off AS $$
DECLARE
  v_from integer := 1; v_status text; v_statuses text[];
  v_final integer[]; v_max integer[]; v_batches integer[]; v_rows tid[];
BEGIN
  IF (SELECT count(*) = count(DISTINCT (r, n)) FROM unnest(p_round, p_node) AS t(r, n))
     AND (SELECT count(*) = count(DISTINCT i) FROM unnest(p_ids) AS t(i)) THEN
    BEGIN
      PERFORM pg_advisory_xact_lock_shared(${LOCK_NS}, hashtext(r)) FROM (SELECT DISTINCT r FROM unnest(p_round) AS t(r) ORDER BY r) AS locks;
      -- Each batch's node row, locked in (round, node) order, with its counts (null: not announced).
      SELECT array_agg(n.final_seq ORDER BY t.k), array_agg(n.max_seq ORDER BY t.k), array_agg(n.batches ORDER BY t.k), array_agg(n.row_id ORDER BY t.k)
        INTO v_final, v_max, v_batches, v_rows
        FROM (SELECT * FROM unnest(p_round, p_node) WITH ORDINALITY AS t(r, nd, k) ORDER BY t.r, t.nd) AS t
        LEFT JOIN LATERAL (SELECT x.final_seq, x.max_seq, x.batches, x.ctid AS row_id FROM ${s}.nodes x
          WHERE x.round = t.r AND x.node = t.nd FOR UPDATE) AS n ON true;
      WITH taken AS (
        -- One of each batch's ids already in its round, if any.
        SELECT DISTINCT ON (u.k) u.k, x.id
          FROM unnest(p_ids, p_owner) AS u(id, k)
          CROSS JOIN LATERAL (SELECT x.id FROM ${s}.record_ids x WHERE x.round = p_round[u.k] AND x.id = u.id LIMIT 1) AS x
          ORDER BY u.k
      )
      SELECT array_agg(CASE
          WHEN r.state IS NULL THEN 'ERR_ROUND_NOT_FOUND'
          WHEN b.digest IS NOT NULL THEN CASE WHEN b.digest = i.digest THEN 'duplicate:' || r.state ELSE 'ERR_BATCH_CONFLICT' END
          WHEN r.state <> 'open' THEN 'ERR_ROUND_CLOSED'
          WHEN i.row_id IS NULL THEN 'ERR_NOT_ANNOUNCED'
          WHEN i.final_seq > 0 AND (i.seq > i.final_seq OR i.final) THEN 'ERR_AFTER_FINAL:' || i.final_seq
          WHEN i.final AND i.max_seq > i.seq THEN 'ERR_AFTER_FINAL:' || i.max_seq
          WHEN d.id IS NOT NULL THEN 'ERR_DUPLICATE_RECORD_ID:' || d.id
          WHEN i.final AND i.batches + 1 = i.seq THEN 'accepted:complete'
          WHEN NOT i.final AND i.final_seq > 0 AND i.batches + 1 = i.final_seq THEN 'accepted:complete'
          ELSE 'accepted' END ORDER BY i.k)
        INTO v_statuses
        FROM unnest(p_round, p_node, p_seq, p_final, p_digest, v_final, v_max, v_batches, v_rows) WITH ORDINALITY
          AS i(round, node, seq, final, digest, final_seq, max_seq, batches, row_id, k)
        LEFT JOIN LATERAL (SELECT x.state FROM ${s}.rounds x WHERE x.round = i.round LIMIT 1) AS r ON true
        -- An earlier copy of the batch: none can exist past the node's highest seq (a fused
        -- round has no node rows nor batches, but keeps its digests for a while).
        LEFT JOIN LATERAL (
          (SELECT x.digest FROM ${s}.batches x
            WHERE (i.seq <= i.max_seq OR i.row_id IS NULL) AND x.round = i.round AND x.node = i.node AND x.seq = i.seq)
          UNION ALL
          (SELECT f.digests[array_position(f.seqs, i.seq)] FROM ${s}.fused_digests f
            WHERE r.state = 'fused' AND f.round = i.round AND f.node = i.node)
          LIMIT 1) AS b ON true
        LEFT JOIN taken d ON d.k = i.k;
      -- Accepted: their ids, their batches, their nodes' counts.
      -- A concurrent transaction (another hub) that took one of these ids since the check
      -- above makes this fail: the group is undone and goes batch by batch.
      INSERT INTO ${s}.record_ids (round, id)
        SELECT p_round[u.k], u.id FROM unnest(p_ids, p_owner) AS u(id, k) WHERE v_statuses[u.k] LIKE 'accepted%';
      INSERT INTO ${s}.batches (round, node, seq, final, digest, observations, body)
        SELECT t.round, t.node, t.seq, t.final, t.digest, t.cnt, ${s}.batch_text(p_bodies, p_ends, t.k::integer)
          FROM unnest(p_round, p_node, p_seq, p_final, p_digest, p_counts, v_statuses) WITH ORDINALITY
            AS t(round, node, seq, final, digest, cnt, st, k)
          WHERE t.st LIKE 'accepted%';
      UPDATE ${s}.nodes n SET batches = n.batches + 1, max_seq = greatest(n.max_seq, t.seq),
          final_seq = CASE WHEN t.final THEN t.seq ELSE n.final_seq END,
          complete = t.st = 'accepted:complete'
        FROM unnest(v_rows, p_seq, p_final, v_statuses) AS t(row_id, seq, final, st)
        WHERE n.ctid = ANY(v_rows) AND n.ctid = t.row_id AND t.st LIKE 'accepted%';
      RETURN QUERY SELECT unnest(v_statuses);
      RETURN;
    EXCEPTION WHEN unique_violation THEN
      NULL; -- undone: batch by batch below
    END;
  END IF;
  FOR i IN 1 .. coalesce(array_length(p_round, 1), 0) LOOP
    BEGIN
      v_status := ${s}.report(p_round[i], p_node[i], p_seq[i], p_final[i], p_digest[i], ${s}.batch_text(p_bodies, p_ends, i),
        coalesce(p_ids[v_from : v_from + p_counts[i] - 1], '{}'));
    EXCEPTION WHEN SQLSTATE 'FS409' THEN
      v_status := 'ERR_DUPLICATE_RECORD_ID';
    END;
    v_from := v_from + p_counts[i];
    RETURN NEXT v_status;
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION ${s}.close(p_round text, p_reason text, p_now bigint, p_owner text)
RETURNS text LANGUAGE plpgsql
-- Lookups by primary key whatever the statistics say, so one plan per statement serves.
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET jit = off AS $$
DECLARE v_state text;
BEGIN
  PERFORM pg_advisory_xact_lock(${LOCK_NS}, hashtext(p_round));
  SELECT state INTO v_state FROM ${s}.rounds WHERE round = p_round FOR UPDATE;
  IF NOT FOUND THEN RETURN 'ERR_ROUND_NOT_FOUND'; END IF;
  IF v_state <> 'open' THEN RETURN 'already'; END IF;
  UPDATE ${s}.rounds SET state = 'closed', closed_at = p_now, close_reason = p_reason,
      fusing_by = p_owner, fusing_at = p_now
    WHERE round = p_round;
  RETURN 'closed';
END $$;
`;
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

  /** Connects, creates the schema, tables and functions if needed (under an advisory lock). */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const schema = options.schema ?? 'fleetscale_hub';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new HubError('ERR_VALIDATION', `schema name "${schema}" must be a lowercase SQL identifier`);
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 20 });
    pool.on('error', () => {}); // idle client errors surface on the next query
    const client = await pool.connect().catch(async (e: Error) => {
      await pool.end();
      throw new HubError('ERR_STORE_UNAVAILABLE', `cannot connect to PostgreSQL: ${e.message}`);
    });
    try {
      await client.query('SELECT pg_advisory_lock($1, 0)', [LOCK_NS]);
      try {
        await client.query(migration(schema));
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, 0)', [LOCK_NS]);
      }
    } finally {
      client.release();
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
        detail === undefined
          ? `an observation id of this batch is already in round "${round}"`
          : `observation id "${detail}" is already in round "${round}"`,
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
    const { rows } = await this.query<{ status: string }>(
      `SELECT status FROM ${this.s}.announce_many($1, $2, $3, $4) WITH ORDINALITY AS t(status, n) ORDER BY n`,
      [items.map((i) => i.round), items.map((i) => i.node), items.map((i) => i.now), items.map((i) => i.deadlineMs)],
    );
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
