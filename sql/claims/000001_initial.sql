-- 000001: the claims queue's schema as it stood when migrations began: one jobs table for every
-- queue, and the results completed jobs returned. Written to be re-runnable, so on a database
-- an earlier fleetscale set up without migrations it brings that schema up to this one.
CREATE SCHEMA IF NOT EXISTS {{schema}};
CREATE TABLE IF NOT EXISTS {{schema}}.jobs (
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
ALTER TABLE {{schema}}.jobs ADD COLUMN IF NOT EXISTS claimed_at timestamptz;
-- Claims read a queue's (or partition's) pending jobs in the order they became runnable. Only
-- these indexes give that order, so the planner walks one of them and stops after B rows,
-- rather than reading the primary key through every finished job.
CREATE INDEX IF NOT EXISTS jobs_ready ON {{schema}}.jobs (queue, run_after, id) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS jobs_ready_part ON {{schema}}.jobs (queue, part, run_after, id) WHERE state = 'pending';
-- The reaper looks for expired leases. A job holds a lease exactly while it runs; the predicate
-- names the lease, not the state, so statements that select running jobs by id (completion,
-- failure, extension) are not offered this index: statistics taken while every job was pending
-- make it look empty, and a plan walking it (and its dead entries) once per given id is
-- quadratic in the flush size.
DROP INDEX IF EXISTS {{schema}}.jobs_leases;
CREATE INDEX IF NOT EXISTS jobs_lease_expiry ON {{schema}}.jobs (lease_until) WHERE lease_until IS NOT NULL;
CREATE TABLE IF NOT EXISTS {{schema}}.results (
  job_id bigint PRIMARY KEY,
  queue text NOT NULL,
  attempt integer NOT NULL,
  worker text NOT NULL,
  result jsonb,
  finished_at timestamptz NOT NULL DEFAULT now()
);
