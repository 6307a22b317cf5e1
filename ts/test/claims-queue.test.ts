/**
 * The PostgreSQL claims queue: every strategy under concurrent claimers hands each job to one
 * holder and loses none; leases bring a killed worker's jobs back; the attempt cap fails a
 * job for good; completion is fenced by the attempt; bad options and bad data get coded errors.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLAIM_STRATEGIES, ClaimQueue, statements, type ClaimStrategy } from '../src/claims/queue.js';
import { probeDeadEntries } from '../src/lab/claims/dead-entry-probe.js';
import { probeSkippedRows } from '../src/lab/claims/skip-row-probe.js';
import { growthSlope, probeStatementCpu } from '../src/lab/claims/statement-cpu-probe.js';
import { ClaimWorker } from '../src/claims/worker.js';
import { PerfWindows } from '../src/claims/windows.js';
import { dropSchemas, freshSchema, PG_URL, postgresAvailable } from './pg-helpers.js';

const withPostgres = await postgresAvailable();
const schema = freshSchema();
let queue: ClaimQueue;
let queueNo = 0;
const fresh = () => `q${queueNo++}`;

beforeAll(async () => {
  if (withPostgres) queue = await ClaimQueue.open({ connectionString: PG_URL, schema, poolSize: 20 });
});
afterAll(async () => {
  if (!withPostgres) return;
  await queue.close();
  await dropSchemas([schema]);
});

describe.skipIf(!withPostgres)('claims queue on PostgreSQL', () => {
  it('claims, completes and stores results in one step', async () => {
    const q = fresh();
    expect(await queue.enqueue(q, [{ n: 1 }, { n: 2 }, { n: 3 }])).toBe(3);
    const jobs = await queue.claim<{ n: number }>({ queue: q, worker: 'w1', strategy: 'skip-locked', batchSize: 2, leaseMs: 60_000 });
    expect(jobs.map((j) => j.payload.n)).toEqual([1, 2]);
    expect(jobs.every((j) => j.attempt === 1)).toBe(true);
    expect(await queue.counts(q)).toEqual({ pending: 1, running: 2, done: 0, failed: 0 });
    expect(
      await queue.complete(
        'w1',
        jobs.map((j) => ({ id: j.id, attempt: j.attempt, result: { twice: j.payload.n * 2 } })),
      ),
    ).toBe(2);
    expect(await queue.counts(q)).toEqual({ pending: 1, running: 0, done: 2, failed: 0 });
    const results = await queue.results(q);
    expect(results.map((r) => r.result)).toEqual([{ twice: 2 }, { twice: 4 }]);
    expect(results.every((r) => r.worker === 'w1' && r.attempt === 1)).toBe(true);
    // Completing again changes nothing (the jobs are done).
    expect(
      await queue.complete(
        'w1',
        jobs.map((j) => ({ id: j.id, attempt: j.attempt })),
      ),
    ).toBe(0);
    // Claim-to-complete latency of the two done jobs; none for a queue with nothing done.
    const latency = await queue.latency(q);
    expect(latency).not.toBeNull();
    expect(latency!.p50).toBeGreaterThan(0);
    expect(latency!.max).toBeGreaterThanOrEqual(latency!.p99);
    expect(await queue.latency(fresh())).toBeNull();
  });

  it.each(CLAIM_STRATEGIES)('%s: concurrent claimers in 3 workers hold each job once and lose none', async (strategy: ClaimStrategy) => {
    const q = fresh();
    const jobs = 3000;
    await queue.enqueue(
      q,
      Array.from({ length: jobs }, (_, i) => ({ i })),
      { partitions: 3 },
    );
    const claims = new Map<number, number>();
    const start = Date.now();
    const workers = [0, 1, 2].map(
      (w) =>
        new ClaimWorker<{ i: number }>({
          queue,
          queueName: q,
          worker: `w${w}`,
          strategy,
          partition: w,
          batchSize: 25,
          concurrency: 4,
          flushSize: 50,
          flushMs: 20,
          idleMs: 5,
          untilEmpty: true,
          windows: new PerfWindows(start),
          handler: (job) => {
            claims.set(job.id, (claims.get(job.id) ?? 0) + 1);
            return job.payload.i;
          },
        }),
    );
    const reports = await Promise.all(workers.map((w) => w.run()));
    expect(claims.size).toBe(jobs);
    expect([...claims.values()].every((n) => n === 1)).toBe(true);
    expect(reports.reduce((a, r) => a + r.completed, 0)).toBe(jobs);
    expect(reports.every((r) => r.lostLeases === 0 && r.failed === 0)).toBe(true);
    expect(await queue.counts(q)).toEqual({ pending: 0, running: 0, done: jobs, failed: 0 });
    const results = await queue.results(q);
    expect(results).toHaveLength(jobs);
    expect(new Set(results.map((r) => r.result)).size).toBe(jobs);
    // The windows add up to what happened.
    const totals = PerfWindows.totals(PerfWindows.merge(reports.map((r) => r.windows)));
    expect(totals.claimedJobs).toBe(jobs);
    expect(totals.completed).toBe(jobs);
    expect(totals.claimBatches).toBeGreaterThanOrEqual(jobs / 25);
  });

  it('optimistic-any: claimers that pick the same rows get partial or empty batches, never a shared job', async () => {
    const q = fresh();
    await queue.enqueue(
      q,
      Array.from({ length: 400 }, (_, i) => i),
    );
    const rounds = await Promise.all(Array.from({ length: 8 }, (_, k) => queue.claim({ queue: q, worker: `c${k}`, strategy: 'optimistic-any', batchSize: 50, leaseMs: 60_000 })));
    const ids = rounds.flat().map((j) => j.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeLessThanOrEqual(400);
  });

  it('skip-locked passes over rows another claimer holds and fills its batch from the rest', async () => {
    const q = fresh();
    await queue.enqueue(
      q,
      Array.from({ length: 30 }, (_, i) => i),
    );
    const sql = statements(schema);
    const holder = await queue.pool.connect();
    try {
      // Another claimer's transaction holds the first 10 rows, uncommitted.
      await holder.query('BEGIN');
      const held = (await holder.query(sql.claimSkipLocked, [q, 10, 'holder', 60_000])).rows.map((r) => Number(r.id));
      const mine = await queue.claim<number>({ queue: q, worker: 'w', strategy: 'skip-locked', batchSize: 10, leaseMs: 60_000 });
      expect(mine).toHaveLength(10);
      expect(mine.map((j) => j.payload)).toEqual(Array.from({ length: 10 }, (_, i) => i + 10));
      expect(mine.some((j) => held.includes(j.id))).toBe(false);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });

  it('runs a statement again when PostgreSQL picks it as a deadlock victim: nothing taken, nothing lost', async () => {
    // One attempt builds the cycle: the claim holds the first row and waits for the second,
    // then another transaction wants the first. Whichever backend's deadlock check finds the
    // cycle is the victim: the claim's check fires deadlock_timeout (1 s) after it began to
    // wait, so when the machine is slow to start the other wait, the other transaction's
    // check finds the cycle instead. Such an attempt tests nothing; run another.
    const attempt = async (): Promise<'claim was the victim' | 'other was the victim'> => {
      const q = fresh();
      await queue.enqueue(q, [0, 1]);
      const ids = (await queue.pool.query(`SELECT id FROM ${schema}.jobs WHERE queue = $1 ORDER BY id`, [q])).rows.map((r) => r.id);
      const other = await queue.pool.connect();
      try {
        const otherPid = (await other.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        await other.query('BEGIN');
        await other.query(`SELECT 1 FROM ${schema}.jobs WHERE id = $1 FOR UPDATE`, [ids[1]]);
        // The claim locks the first row (ids in order) and waits for the second…
        const claim = queue.claim<number>({ queue: q, worker: 'w', strategy: 'optimistic-any', batchSize: 2, leaseMs: 60_000 });
        const waiting = async (pid: number) => (await queue.pool.query('SELECT count(*)::int AS n FROM pg_locks WHERE pid = $1 AND NOT granted', [pid])).rows[0].n > 0;
        while (
          !(await waiting((await queue.pool.query(`SELECT pid FROM pg_stat_activity WHERE query LIKE 'UPDATE ${schema}.jobs j SET%' AND state = 'active'`)).rows[0]?.pid ?? -1))
        )
          await sleep(20);
        // …and the other transaction now wants the first: a cycle.
        let outcome: 'granted' | 'aborted' | undefined;
        let sawOtherWait = false;
        const second = other.query(`SELECT 1 FROM ${schema}.jobs WHERE id = $1 FOR UPDATE`, [ids[0]]).then(
          () => (outcome = 'granted'),
          (e: { code?: string }) => {
            if (e.code !== '40P01') throw e;
            outcome = 'aborted';
          },
        );
        while (outcome === undefined) {
          sawOtherWait ||= await waiting(otherPid);
          await sleep(20);
        }
        await second;
        expect(sawOtherWait).toBe(true);
        await other.query(outcome === 'granted' ? 'COMMIT' : 'ROLLBACK');
        // Either way the claim ends with both jobs, each once.
        const jobs = await claim;
        expect(jobs.map((j) => j.payload).sort()).toEqual([0, 1]);
        return outcome === 'granted' ? 'claim was the victim' : 'other was the victim';
      } finally {
        other.release();
      }
    };
    const outcomes = [];
    for (let i = 0; i < 5 && outcomes.at(-1) !== 'claim was the victim'; i++) outcomes.push(await attempt());
    // The claim's lock on the first row went (the other transaction got it), and it came back
    // with both jobs: it ran again after its abort.
    expect(outcomes.at(-1), outcomes.join(', ')).toBe('claim was the victim');
  });

  it('partitioned: a worker takes its own partition first, then steals', async () => {
    const q = fresh();
    await queue.enqueue(
      q,
      Array.from({ length: 8 }, (_, i) => i),
      { partitions: 2 },
    );
    const own = await queue.claim<number>({ queue: q, worker: 'p1', strategy: 'partitioned', partition: 1, batchSize: 10, leaseMs: 60_000 });
    expect(own.map((j) => j.payload)).toEqual([1, 3, 5, 7]);
    const stolen = await queue.claim<number>({ queue: q, worker: 'p1', strategy: 'partitioned', partition: 1, batchSize: 10, leaseMs: 60_000 });
    expect(stolen.map((j) => j.payload)).toEqual([0, 2, 4, 6]);
  });

  it('fences completion by attempt: a worker whose lease passed on cannot complete', async () => {
    const q = fresh();
    await queue.enqueue(q, ['x']);
    const [first] = await queue.claim({ queue: q, worker: 'slow', strategy: 'skip-locked', batchSize: 1, leaseMs: 10 });
    await new Promise((r) => setTimeout(r, 30));
    expect(await queue.reap()).toMatchObject({ retried: 1, failed: 0 });
    const [second] = await queue.claim({ queue: q, worker: 'fast', strategy: 'skip-locked', batchSize: 1, leaseMs: 60_000 });
    expect(second.id).toBe(first.id);
    expect(second.attempt).toBe(2);
    expect(await queue.complete('slow', [{ id: first.id, attempt: first.attempt, result: 'late' }])).toBe(0);
    expect(await queue.extend('slow', [{ id: first.id, attempt: first.attempt }], 60_000)).toBe(0);
    expect(await queue.complete('fast', [{ id: second.id, attempt: second.attempt, result: 'on time' }])).toBe(1);
    expect(await queue.results(q)).toEqual([{ id: first.id, attempt: 2, worker: 'fast', result: 'on time' }]);
  });

  it('extends the leases of held jobs so the reaper leaves them alone', async () => {
    const q = fresh();
    await queue.enqueue(q, [1]);
    const [job] = await queue.claim({ queue: q, worker: 'w', strategy: 'skip-locked', batchSize: 1, leaseMs: 40 });
    expect(await queue.extend('w', [job], 60_000)).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    await queue.reap();
    expect((await queue.counts(q)).running).toBe(1);
    await expect(queue.complete('w', [{ id: 1.5, attempt: job.attempt }])).rejects.toMatchObject({ code: 'ERR_CLAIMS_INPUT' });
    await expect(queue.extend('w', [{ id: job.id, attempt: Number.NaN }], 1000)).rejects.toMatchObject({ code: 'ERR_CLAIMS_INPUT' });
    expect((await queue.counts(q)).running).toBe(1);
  });

  it('caps attempts: a job that keeps failing is marked failed with its last error', async () => {
    const q = fresh();
    await queue.enqueue(q, ['ok', 'bad', 'ok'], { maxAttempts: 2 });
    let tries = 0;
    const report = await new ClaimWorker<string>({
      queue,
      queueName: q,
      worker: 'cap',
      strategy: 'skip-locked',
      batchSize: 10,
      concurrency: 1,
      idleMs: 1,
      flushMs: 1,
      untilEmpty: true,
      handler: (job) => {
        if (job.payload === 'bad') {
          tries++;
          throw new Error(`bad payload (attempt ${job.attempt})`);
        }
        return job.payload;
      },
    }).run();
    expect(tries).toBe(2);
    expect(report).toMatchObject({ completed: 2, failed: 1 });
    expect(await queue.counts(q)).toEqual({ pending: 0, running: 0, done: 2, failed: 1 });
    const { rows } = await queue.pool.query(`SELECT attempts, last_error FROM ${schema}.jobs WHERE queue = $1 AND state = 'failed'`, [q]);
    expect(rows).toEqual([{ attempts: 2, last_error: 'bad payload (attempt 2)' }]);
  });

  it('gives a killed worker process its jobs back after the lease: each job done once', async () => {
    const q = fresh();
    await queue.enqueue(
      q,
      Array.from({ length: 60 }, (_, i) => i),
    );
    // A worker process claims a batch, says so, and is killed (-9) before completing it.
    const dist = join(import.meta.dirname, '../../dist/src/claims/queue.js');
    const script = `
      const { ClaimQueue } = await import(${JSON.stringify(dist)});
      const queue = await ClaimQueue.open({ connectionString: ${JSON.stringify(PG_URL)}, schema: ${JSON.stringify(schema)}, poolSize: 1 });
      const jobs = await queue.claim({ queue: ${JSON.stringify(q)}, worker: 'doomed', strategy: 'skip-locked', batchSize: 20, leaseMs: 300 });
      console.log('claimed ' + jobs.length);
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => resolve(d.toString().trim()));
      child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
    });
    expect(line).toBe('claimed 20');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect((await queue.counts(q)).running).toBe(20);

    const report = await new ClaimWorker<number>({
      queue,
      queueName: q,
      worker: 'survivor',
      strategy: 'skip-locked',
      batchSize: 10,
      concurrency: 2,
      idleMs: 20,
      flushMs: 5,
      reapEveryMs: 50,
      untilEmpty: true,
      handler: (job) => job.payload,
    }).run();
    expect(report.completed).toBe(60);
    const results = await queue.results(q);
    expect(results.map((r) => r.result)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(results.filter((r) => r.attempt === 2)).toHaveLength(20);
  });

  it('claims walk the ready index and stop after a batch, however many jobs are finished', async () => {
    const q = fresh();
    await queue.enqueue(
      q,
      Array.from({ length: 4000 }, (_, i) => i),
      { partitions: 2 },
    );
    for (let k = 0; k < 4; k++) {
      const jobs = await queue.claim({ queue: q, worker: 'w', strategy: 'skip-locked', batchSize: 500, leaseMs: 60_000 });
      await queue.complete('w', jobs);
    }
    const sql = statements(schema);
    const client = await queue.pool.connect();
    try {
      for (const [name, text, values] of [
        ['any', sql.claimOptimistic, [q, 100, 'w', 1000]],
        ['skip', sql.claimSkipLocked, [q, 100, 'w', 1000]],
        ['part', sql.claimPartition, [q, 100, 'w', 1000, 1]],
      ] as const) {
        await client.query(`PREPARE plan_${name} AS ${text}`);
        for (const analyzed of [false, true]) {
          if (analyzed) await client.query(`ANALYZE ${schema}.jobs`);
          const plan = (await client.query(`EXPLAIN EXECUTE plan_${name}(${values.map((v) => (typeof v === 'string' ? `'${v}'` : v)).join(', ')})`)).rows
            .map((r) => r['QUERY PLAN'])
            .join('\n');
          // The batch is chosen by walking the ready index under a Limit: no sort of all
          // pending jobs, no scan of the table or of the primary key through finished jobs.
          expect(plan, plan).toMatch(
            name === 'part'
              ? /Limit[\s\S]*?->\s+(LockRows[\s\S]*?->\s+)?Index (Only )?Scan using jobs_ready_part on/
              : /Limit[\s\S]*?->\s+(LockRows[\s\S]*?->\s+)?Index (Only )?Scan using jobs_ready on/,
          );
          expect(plan, plan).not.toMatch(/Sort|Seq Scan|Index Scan using jobs_pkey on jobs \s*\(/);
        }
        await client.query(`DEALLOCATE plan_${name}`);
      }
    } finally {
      client.release();
    }
  });

  it('the backlog probe finds ready jobs along the ready index, never by reading the table, even when statistics say every job is pending', async () => {
    const q = fresh();
    await queue.enqueue(
      q,
      Array.from({ length: 3000 }, (_, i) => i),
    );
    await queue.vacuum(); // statistics taken now: every job pending
    // Drained: every job claimed and done, which the statistics do not know.
    for (let k = 0; k < 3; k++) await queue.complete('w', await queue.claim({ queue: q, worker: 'w', strategy: 'skip-locked', batchSize: 1000, leaseMs: 60_000 }));
    const client = await queue.pool.connect();
    try {
      for (const mode of ['force_custom_plan', 'force_generic_plan']) {
        await client.query(`SET plan_cache_mode = ${mode}`);
        await client.query(`PREPARE backlog_probe AS ${statements(schema).backlog}`);
        const plan = (await client.query(`EXPLAIN EXECUTE backlog_probe('${q}')`)).rows.map((r) => r['QUERY PLAN']).join('\n');
        await client.query('DEALLOCATE backlog_probe');
        // (An EXISTS was planned as a sequential scan expected to stop at its first row: on a
        // drained queue it read the whole table at every idle look, 5-10 ms for 40,000 jobs.)
        expect(plan, plan).toMatch(/Limit[\s\S]*?->\s+Index (Only )?Scan using jobs_ready on/);
        expect(plan, plan).not.toMatch(/Seq Scan|Sort/);
      }
    } finally {
      await client.query('RESET plan_cache_mode');
      client.release();
    }
    expect(await queue.backlog(q)).toEqual({ ready: false, waiting: false, running: false });
    await queue.enqueue(q, [1]);
    expect(await queue.backlog(q)).toEqual({ ready: true, waiting: false, running: false });
  });

  it('probeDeadEntries times a claim scan over dead index entries against one over none, and leaves nothing behind', async () => {
    const probe = await probeDeadEntries({ url: PG_URL, schema, entries: 20_000, scans: 5 });
    expect(probe).toMatchObject({ entries: 20_000, scans: 5 });
    // Passing 20,000 entries is more work than passing none, whatever the machine's speed.
    expect(probe.scanMs).toBeGreaterThan(probe.emptyScanMs);
    expect(probe.deadEntryMs).toBeCloseTo((probe.scanMs - probe.emptyScanMs) / 20_000, 12);
    const left = await queue.pool.query(`SELECT count(*)::int AS n FROM ${schema}.jobs WHERE queue LIKE 'probe-dead-%'`);
    expect(left.rows[0].n).toBe(0);
    await expect(probeDeadEntries({ url: PG_URL, schema, entries: 5 })).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG' });
    await expect(probeDeadEntries({ url: PG_URL, schema, scans: 0 })).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG' });
    await expect(probeDeadEntries({ url: 'postgres://postgres@127.0.0.1:1/test', schema })).rejects.toMatchObject({ code: 'ERR_CLAIMS_UNAVAILABLE' });
  });

  it('probeSkippedRows times a skip-locked scan past rows another claim holds against one past none, and leaves nothing behind', async () => {
    const probe = await probeSkippedRows({ url: PG_URL, schema, rows: 2000, scans: 5 });
    // By the scan's own plan, it passed every held row (the probe refuses a measurement that did not).
    expect(probe).toMatchObject({ rows: 2000, passedRows: 2000, scans: 5 });
    expect(probe.skipRowMs).toBeCloseTo(Math.max(0, probe.scanMs - probe.freeScanMs) / 2000, 12);
    const left = await queue.pool.query(`SELECT count(*)::int AS n FROM ${schema}.jobs WHERE queue LIKE 'probe-skip-%'`);
    // (Purging them would wait for its holding transaction, had it not ended.)
    expect(left.rows[0].n).toBe(0);
    await expect(probeSkippedRows({ url: PG_URL, schema, rows: 5 })).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG' });
    await expect(probeSkippedRows({ url: PG_URL, schema, scans: 0 })).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG' });
    await expect(probeSkippedRows({ url: 'postgres://postgres@127.0.0.1:1/test', schema })).rejects.toMatchObject({ code: 'ERR_CLAIMS_UNAVAILABLE' });
  });

  it('the scan probes walk the ready index on a table of nothing but their own queue, where the planner would rather sort', async () => {
    // A schema of its own whose jobs table holds only what each probe enqueues, beside indexes
    // grown by earlier runs (as a long-used queue's are: vacuum does not shrink them). A plain
    // query would read the small table and sort it, passing none of the held rows by index.
    const alone = freshSchema();
    const own = await ClaimQueue.open({ connectionString: PG_URL, schema: alone, poolSize: 2 });
    try {
      await own.enqueue(
        'earlier',
        Array.from({ length: 200_000 }, (_, i) => i),
      );
      await own.purge('earlier');
      await own.vacuum();
      expect(await probeSkippedRows({ url: PG_URL, schema: alone, rows: 2000, scans: 3 })).toMatchObject({ rows: 2000, passedRows: 2000 });
      const dead = await probeDeadEntries({ url: PG_URL, schema: alone, entries: 5000, scans: 3 });
      expect(dead.entries).toBe(5000);
      // A cost per entry: finite, not negative, and well under a millisecond.
      expect(Number.isFinite(dead.deadEntryMs)).toBe(true);
      expect(dead.deadEntryMs).toBeGreaterThanOrEqual(0);
      expect(dead.deadEntryMs).toBeLessThan(1);
    } finally {
      await own.close();
      await dropSchemas([alone]);
    }
  });

  it("growthSlope fits the least-squares line through one worker's 1, and never a falling one", () => {
    // Exactly on a line: its slope.
    expect(growthSlope([1, 2, 4, 8].map((workers) => ({ workers, ratio: 1 + 0.1 * (workers - 1) })))).toBeCloseTo(0.1, 12);
    // Noisy ratios: Σ(N−1)(r−1) / Σ(N−1)² = (1·−0.03 + 2·0.26 + 3·0.39 + 7·0.73) / 63.
    const noisy = [
      { workers: 1, ratio: 1 },
      { workers: 2, ratio: 0.97 },
      { workers: 3, ratio: 1.26 },
      { workers: 4, ratio: 1.39 },
      { workers: 8, ratio: 1.73 },
    ];
    expect(growthSlope(noisy)).toBeCloseTo(6.77 / 63, 12);
    // Cheaper with more workers is noise, not a model: no growth.
    expect(
      growthSlope([
        { workers: 2, ratio: 0.9 },
        { workers: 4, ratio: 0.95 },
      ]),
    ).toBe(0);
    expect(growthSlope([{ workers: 1, ratio: 1 }])).toBe(0);
  });

  it('probeStatementCpu refuses bad options with ERR_CLAIMS_CONFIG before it forks anything', async () => {
    for (const [options, says] of [
      [{ workers: [] }, 'workers must list'],
      [{ workers: [2, 0] }, 'workers[1]'],
      [{ workers: [1.5] }, 'workers[0]'],
      [{ connections: 0 }, 'connections'],
      [{ rows: 0 }, 'rows'],
      [{ durationMs: 10 }, 'durationMs'],
      [{ warmupStatements: -1 }, 'warmupStatements'],
      [{ rounds: 0 }, 'rounds'],
    ] as const) {
      await expect(probeStatementCpu({ url: PG_URL, ...options }), says).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG', message: expect.stringContaining(says) });
    }
  });

  it('completion, failure and extension look the given ids up by primary key, even when statistics say nothing runs', async () => {
    const q = fresh();
    await queue.enqueue(
      q,
      Array.from({ length: 3000 }, (_, i) => i),
    );
    await queue.vacuum(); // statistics taken now: every job pending
    const jobs = await queue.claim({ queue: q, worker: 'w', strategy: 'skip-locked', batchSize: 500, leaseMs: 60_000 });
    const sql = statements(schema);
    const client = await queue.pool.connect();
    try {
      await client.query('SET plan_cache_mode = force_generic_plan');
      const ids = `'{${jobs.map((j) => j.id).join(',')}}'`;
      const held = `'{${jobs.map((j) => `"${j.id}":[${j.attempt},null]`).join(',')}}'`;
      for (const [name, text, values] of [
        ['complete', sql.complete, [ids, held, "'w'"]],
        ['fail', sql.fail, [ids, held, 0, "'w'"]],
        ['extend', sql.extend, [ids, held, 1000, "'w'"]],
      ] as const) {
        await client.query(`PREPARE held_${name} AS ${text}`);
        const plan = (await client.query(`EXPLAIN EXECUTE held_${name}(${values.join(', ')})`)).rows.map((r) => r['QUERY PLAN']).join('\n');
        // The rows come from the primary key; nothing is joined (a join planned for "no
        // running jobs" rescanned the input once per row) and nothing walks the table.
        // (By an index scan or a bitmap of it, as the table's statistics make either cheaper.)
        expect(plan, plan).toMatch(/Index Scan using jobs_pkey on jobs j|Bitmap Index Scan on jobs_pkey/);
        expect(plan, plan).not.toMatch(/Nested Loop|Hash Join|Function Scan|Seq Scan/);
        await client.query(`DEALLOCATE held_${name}`);
      }
    } finally {
      await client.query('RESET plan_cache_mode');
      client.release();
    }
    // And they do their work: half completed with results, the rest failed with their error.
    const [a, b] = [jobs.slice(0, 250), jobs.slice(250)];
    expect(await queue.extend('w', b, 60_000)).toBe(250);
    expect(
      await queue.complete(
        'w',
        a.map((j) => ({ ...j, result: { id: j.id } })),
      ),
    ).toBe(250);
    expect(
      await queue.fail(
        'w',
        b.map((j) => ({ ...j, error: `boom "${j.id}"` })),
      ),
    ).toEqual({ retried: 250, failed: 0 });
    expect((await queue.results(q)).map((r) => r.result)).toEqual(a.map((j) => ({ id: j.id })));
    expect(await queue.counts(q)).toEqual({ pending: 2750, running: 0, done: 250, failed: 0 });
  });

  it('refuses bad options and bad data with coded errors, keeping what it holds', async () => {
    const q = fresh();
    const base = { queue: q, worker: 'w', strategy: 'skip-locked' as ClaimStrategy, batchSize: 1, leaseMs: 1000 };
    await expect(queue.claim({ ...base, strategy: 'random' as ClaimStrategy })).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG' });
    await expect(queue.claim({ ...base, batchSize: 0 })).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG' });
    await expect(queue.claim({ ...base, batchSize: 2.5 })).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG' });
    await expect(queue.claim({ ...base, leaseMs: Number.NaN })).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG' });
    await expect(queue.claim({ ...base, queue: '' })).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG' });
    await expect(queue.claim({ ...base, worker: '' })).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG' });
    await expect(queue.claim({ ...base, strategy: 'partitioned', partition: -1 })).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG' });
    await expect(queue.enqueue(q, [1, 2n])).rejects.toMatchObject({ code: 'ERR_CLAIMS_INPUT' });
    await expect(queue.enqueue(q, 'jobs' as unknown as unknown[])).rejects.toMatchObject({ code: 'ERR_CLAIMS_INPUT' });
    await expect(queue.enqueue(q, [1], { maxAttempts: 0 })).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG' });
    // Nothing of a refused enqueue went in.
    expect(await queue.counts(q)).toEqual({ pending: 0, running: 0, done: 0, failed: 0 });
    await queue.enqueue(q, [1]);
    const [job] = await queue.claim(base);
    await expect(queue.complete('w', [{ id: job.id, attempt: job.attempt, result: { big: 1n } }])).rejects.toMatchObject({ code: 'ERR_CLAIMS_INPUT' });
    expect((await queue.counts(q)).running).toBe(1);
    await expect(queue.complete('w', [{ id: 1.5, attempt: job.attempt }])).rejects.toMatchObject({ code: 'ERR_CLAIMS_INPUT' });
    await expect(queue.extend('w', [{ id: job.id, attempt: Number.NaN }], 1000)).rejects.toMatchObject({ code: 'ERR_CLAIMS_INPUT' });
    expect((await queue.counts(q)).running).toBe(1);
    expect(() => new ClaimWorker({ ...base, queue, queueName: q, handler: undefined as never })).toThrow(expect.objectContaining({ code: 'ERR_CLAIMS_CONFIG' }));
    expect(() => new ClaimWorker({ ...base, queue, queueName: q, handler: () => 1, concurrency: 0 })).toThrow(expect.objectContaining({ code: 'ERR_CLAIMS_CONFIG' }));
    await expect(ClaimQueue.open({ connectionString: PG_URL, schema: 'Bad-Name' })).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG' });
    await expect(ClaimQueue.open({})).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG' });
  });

  it('reports an unreachable database as ERR_CLAIMS_UNAVAILABLE', async () => {
    await expect(ClaimQueue.open({ connectionString: 'postgres://postgres@127.0.0.1:1/test', schema })).rejects.toMatchObject({ code: 'ERR_CLAIMS_UNAVAILABLE' });
  });
});
