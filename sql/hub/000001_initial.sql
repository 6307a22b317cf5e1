-- 000001: the hub's schema as it stood when migrations began: rounds, nodes, batches, record
-- ids and fused digests, and the functions that run the protocol's rules inside the database
-- (26227 is the advisory-lock namespace of round locks, "fs"). Written to be re-runnable (IF
-- NOT EXISTS, CREATE OR REPLACE), so on a database an earlier fleetscale set up without
-- migrations it brings that schema up to this one without losing a row.
CREATE SCHEMA IF NOT EXISTS {{schema}};
CREATE TABLE IF NOT EXISTS {{schema}}.rounds (
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
CREATE INDEX IF NOT EXISTS rounds_open_deadline ON {{schema}}.rounds (deadline) WHERE state = 'open';
CREATE TABLE IF NOT EXISTS {{schema}}.nodes (
  round text NOT NULL,
  node text NOT NULL,
  final_seq integer NOT NULL DEFAULT 0,
  max_seq integer NOT NULL DEFAULT 0,
  batches integer NOT NULL DEFAULT 0,
  complete boolean NOT NULL DEFAULT false,
  PRIMARY KEY (round, node)
);
CREATE TABLE IF NOT EXISTS {{schema}}.batches (
  round text NOT NULL,
  node text NOT NULL,
  seq integer NOT NULL,
  final boolean NOT NULL,
  digest text NOT NULL,
  observations integer NOT NULL,
  body text NOT NULL,
  PRIMARY KEY (round, node, seq)
);
CREATE TABLE IF NOT EXISTS {{schema}}.record_ids (
  round text NOT NULL,
  id text NOT NULL,
  PRIMARY KEY (round, id)
);
-- A fused round's batch digests, a row per node (seqs[k] has digests[k]): a retry of a batch
-- acknowledged before the fusion is still answered as a duplicate, while the batches' rows
-- (40,000 for a round of 2000 nodes) go with the fusion.
CREATE TABLE IF NOT EXISTS {{schema}}.fused_digests (
  round text NOT NULL,
  node text NOT NULL,
  seqs integer[] NOT NULL,
  digests text[] NOT NULL,
  PRIMARY KEY (round, node)
);
-- A round's result (14.6 MB of JSON for 200,000 observations) compressed with lz4 where the
-- server has it: pglz took three times as long to store it.
DO $$ BEGIN
  IF (SELECT attcompression FROM pg_attribute WHERE attrelid = '{{schema}}.rounds'::regclass AND attname = 'result') <> 'l' THEN
    ALTER TABLE {{schema}}.rounds ALTER COLUMN result SET COMPRESSION lz4;
  END IF;
EXCEPTION WHEN feature_not_supported THEN NULL;
END $$;

-- Announces grouped like reports: one call and one transaction for the announces that arrive
-- together. Each answers as if alone and in order: the first announce of a new round opens it
-- ('opened:<deadline>', at its p_now plus its p_deadline_ms), the rest join
-- ('joined:<deadline>'), and a round that is no longer open refuses them (ERR_ROUND_CLOSED).
DROP FUNCTION IF EXISTS {{schema}}.announce(text, text, bigint, bigint);
DROP FUNCTION IF EXISTS {{schema}}.announce_many(text[], text[], bigint[], bigint);
CREATE OR REPLACE FUNCTION {{schema}}.announce_many(p_round text[], p_node text[], p_now bigint[], p_deadline_ms bigint[])
RETURNS SETOF text LANGUAGE plpgsql
-- Key lookups whatever the statistics say, one plan per statement (see report_many).
SET plan_cache_mode = force_generic_plan SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off SET jit = off AS $$
DECLARE v_opened text[];
BEGIN
  PERFORM pg_advisory_xact_lock_shared(26227, hashtext(r)) FROM (SELECT DISTINCT r FROM unnest(p_round) AS t(r) ORDER BY r) AS locks;
  WITH firsts AS (
    SELECT DISTINCT ON (t.r) t.r, t.at, t.ms FROM unnest(p_round, p_now, p_deadline_ms) WITH ORDINALITY AS t(r, at, ms, k) ORDER BY t.r, t.k
  ), opened AS (
    INSERT INTO {{schema}}.rounds (round, state, opened_at, deadline)
      SELECT f.r, 'open', f.at, f.at + f.ms FROM firsts f ORDER BY f.r
      ON CONFLICT (round) DO NOTHING RETURNING round
  )
  SELECT coalesce(array_agg(round), '{}') INTO v_opened FROM opened;
  INSERT INTO {{schema}}.nodes (round, node)
    SELECT t.r, t.nd FROM unnest(p_round, p_node) AS t(r, nd)
      CROSS JOIN LATERAL (SELECT x.state FROM {{schema}}.rounds x WHERE x.round = t.r) AS r
      WHERE r.state = 'open'
      ORDER BY t.r, t.nd
    ON CONFLICT DO NOTHING;
  RETURN QUERY
    SELECT CASE
        WHEN r.state <> 'open' THEN 'ERR_ROUND_CLOSED'
        WHEN t.r = ANY(v_opened) AND t.k = min(t.k) OVER (PARTITION BY t.r) THEN 'opened:' || r.deadline
        ELSE 'joined:' || r.deadline END
      FROM unnest(p_round) WITH ORDINALITY AS t(r, k)
      CROSS JOIN LATERAL (SELECT x.state, x.deadline FROM {{schema}}.rounds x WHERE x.round = t.r) AS r
      ORDER BY t.k;
END $$;

CREATE OR REPLACE FUNCTION {{schema}}.report(p_round text, p_node text, p_seq integer, p_final boolean,
  p_digest text, p_body text, p_ids text[])
RETURNS text LANGUAGE plpgsql
-- Lookups by primary key whatever the statistics say (a table a vacuum counted empty fills
-- again within seconds), so one plan per statement serves.
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET jit = off AS $$
DECLARE
  v_state text; v_digest text; v_final integer; v_max integer; v_batches integer; v_inserted integer;
  v_dup text; v_announced boolean;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(26227, hashtext(p_round));
  SELECT state INTO v_state FROM {{schema}}.rounds WHERE round = p_round;
  IF NOT FOUND THEN RETURN 'ERR_ROUND_NOT_FOUND'; END IF;
  -- The node's row lock first: a copy of this batch in flight elsewhere (a retry that reached
  -- another hub or another group) holds it until it commits, so the look for the batch below
  -- sees it, and the retry is a duplicate rather than a clash of record ids.
  SELECT final_seq, max_seq, batches INTO v_final, v_max, v_batches
    FROM {{schema}}.nodes WHERE round = p_round AND node = p_node FOR UPDATE;
  v_announced := FOUND;
  SELECT digest INTO v_digest FROM {{schema}}.batches WHERE round = p_round AND node = p_node AND seq = p_seq;
  IF v_digest IS NULL AND v_state = 'fused' THEN
    SELECT f.digests[array_position(f.seqs, p_seq)] INTO v_digest FROM {{schema}}.fused_digests f WHERE f.round = p_round AND f.node = p_node;
  END IF;
  IF v_digest IS NOT NULL THEN
    IF v_digest = p_digest THEN RETURN 'duplicate:' || v_state; END IF;
    RETURN 'ERR_BATCH_CONFLICT';
  END IF;
  IF v_state <> 'open' THEN RETURN 'ERR_ROUND_CLOSED'; END IF;
  IF NOT v_announced THEN RETURN 'ERR_NOT_ANNOUNCED'; END IF;
  IF v_final > 0 AND (p_seq > v_final OR p_final) THEN RETURN 'ERR_AFTER_FINAL:' || v_final; END IF;
  IF p_final AND v_max > p_seq THEN RETURN 'ERR_AFTER_FINAL:' || v_max; END IF;
  SELECT id INTO v_dup FROM {{schema}}.record_ids WHERE round = p_round AND id = ANY(p_ids) LIMIT 1;
  IF FOUND THEN RETURN 'ERR_DUPLICATE_RECORD_ID:' || v_dup; END IF;
  INSERT INTO {{schema}}.record_ids (round, id) SELECT p_round, unnest(p_ids) ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS v_inserted = ROW_COUNT;
  IF v_inserted < cardinality(p_ids) THEN
    -- Another node's batch took one of these ids meanwhile: undo this whole batch.
    RAISE EXCEPTION 'ERR_DUPLICATE_RECORD_ID' USING ERRCODE = 'FS409';
  END IF;
  INSERT INTO {{schema}}.batches (round, node, seq, final, digest, observations, body)
    VALUES (p_round, p_node, p_seq, p_final, p_digest, cardinality(p_ids), p_body);
  IF p_final THEN v_final := p_seq; END IF;
  UPDATE {{schema}}.nodes SET batches = v_batches + 1, max_seq = greatest(v_max, p_seq), final_seq = v_final,
      complete = (v_final > 0 AND v_batches + 1 = v_final)
    WHERE round = p_round AND node = p_node;
  RETURN CASE WHEN v_final > 0 AND v_batches + 1 = v_final THEN 'accepted:complete' ELSE 'accepted' END;
END $$;

-- Batch k's JSON text out of a group's texts back to back (see report_many). The text comes
-- out in the database's default collation: convert_from's takes the "C" of its encoding's
-- name, and passed on to report() beside keys in the default one, the call's collation would
-- be indeterminate and no index on those keys could serve them.
CREATE OR REPLACE FUNCTION {{schema}}.batch_text(p_bodies bytea, p_ends integer[], k integer)
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
DROP FUNCTION IF EXISTS {{schema}}.report_many(text[], text[], integer[], boolean[], text[], text[], text[], integer[]);
CREATE OR REPLACE FUNCTION {{schema}}.report_many(p_round text[], p_node text[], p_seq integer[],
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
      PERFORM pg_advisory_xact_lock_shared(26227, hashtext(r)) FROM (SELECT DISTINCT r FROM unnest(p_round) AS t(r) ORDER BY r) AS locks;
      -- Each batch's node row, locked in (round, node) order, with its counts (null: not announced).
      SELECT array_agg(n.final_seq ORDER BY t.k), array_agg(n.max_seq ORDER BY t.k), array_agg(n.batches ORDER BY t.k), array_agg(n.row_id ORDER BY t.k)
        INTO v_final, v_max, v_batches, v_rows
        FROM (SELECT * FROM unnest(p_round, p_node) WITH ORDINALITY AS t(r, nd, k) ORDER BY t.r, t.nd) AS t
        LEFT JOIN LATERAL (SELECT x.final_seq, x.max_seq, x.batches, x.ctid AS row_id FROM {{schema}}.nodes x
          WHERE x.round = t.r AND x.node = t.nd FOR UPDATE) AS n ON true;
      WITH taken AS (
        -- One of each batch's ids already in its round, if any.
        SELECT DISTINCT ON (u.k) u.k, x.id
          FROM unnest(p_ids, p_owner) AS u(id, k)
          CROSS JOIN LATERAL (SELECT x.id FROM {{schema}}.record_ids x WHERE x.round = p_round[u.k] AND x.id = u.id LIMIT 1) AS x
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
        LEFT JOIN LATERAL (SELECT x.state FROM {{schema}}.rounds x WHERE x.round = i.round LIMIT 1) AS r ON true
        -- An earlier copy of the batch: none can exist past the node's highest seq (a fused
        -- round has no node rows nor batches, but keeps its digests for a while).
        LEFT JOIN LATERAL (
          (SELECT x.digest FROM {{schema}}.batches x
            WHERE (i.seq <= i.max_seq OR i.row_id IS NULL) AND x.round = i.round AND x.node = i.node AND x.seq = i.seq)
          UNION ALL
          (SELECT f.digests[array_position(f.seqs, i.seq)] FROM {{schema}}.fused_digests f
            WHERE r.state = 'fused' AND f.round = i.round AND f.node = i.node)
          LIMIT 1) AS b ON true
        LEFT JOIN taken d ON d.k = i.k;
      -- Accepted: their ids, their batches, their nodes' counts.
      -- A concurrent transaction (another hub) that took one of these ids since the check
      -- above makes this fail: the group is undone and goes batch by batch.
      INSERT INTO {{schema}}.record_ids (round, id)
        SELECT p_round[u.k], u.id FROM unnest(p_ids, p_owner) AS u(id, k) WHERE v_statuses[u.k] LIKE 'accepted%';
      INSERT INTO {{schema}}.batches (round, node, seq, final, digest, observations, body)
        SELECT t.round, t.node, t.seq, t.final, t.digest, t.cnt, {{schema}}.batch_text(p_bodies, p_ends, t.k::integer)
          FROM unnest(p_round, p_node, p_seq, p_final, p_digest, p_counts, v_statuses) WITH ORDINALITY
            AS t(round, node, seq, final, digest, cnt, st, k)
          WHERE t.st LIKE 'accepted%';
      UPDATE {{schema}}.nodes n SET batches = n.batches + 1, max_seq = greatest(n.max_seq, t.seq),
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
      v_status := {{schema}}.report(p_round[i], p_node[i], p_seq[i], p_final[i], p_digest[i], {{schema}}.batch_text(p_bodies, p_ends, i),
        coalesce(p_ids[v_from : v_from + p_counts[i] - 1], '{}'));
    EXCEPTION WHEN SQLSTATE 'FS409' THEN
      v_status := 'ERR_DUPLICATE_RECORD_ID';
    END;
    v_from := v_from + p_counts[i];
    RETURN NEXT v_status;
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION {{schema}}.close(p_round text, p_reason text, p_now bigint, p_owner text)
RETURNS text LANGUAGE plpgsql
-- Lookups by primary key whatever the statistics say, so one plan per statement serves.
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET jit = off AS $$
DECLARE v_state text;
BEGIN
  PERFORM pg_advisory_xact_lock(26227, hashtext(p_round));
  SELECT state INTO v_state FROM {{schema}}.rounds WHERE round = p_round FOR UPDATE;
  IF NOT FOUND THEN RETURN 'ERR_ROUND_NOT_FOUND'; END IF;
  IF v_state <> 'open' THEN RETURN 'already'; END IF;
  UPDATE {{schema}}.rounds SET state = 'closed', closed_at = p_now, close_reason = p_reason,
      fusing_by = p_owner, fusing_at = p_now
    WHERE round = p_round;
  RETURN 'closed';
END $$;
