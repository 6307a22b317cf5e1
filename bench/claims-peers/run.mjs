// The claims queue beside its peers on the same machine and workloads: N jobs of X ms of CPU,
// W worker processes of C consumers each, batches of B, one PostgreSQL. For each system:
// jobs/s from the start signal to the last completion, and the p99 claim-to-complete latency.
// Systems run in turn (rotated each repeat) so each has the machine to itself; medians over
// the repeats. graphile-worker's run ends when its table is empty (polled every 20 ms); its
// latency ends at its completion event, which fires as the write is queued, a little before it.
//
// By default three workloads run one after another: light jobs in batches of 100 and of 10, and
// 1 ms jobs over 4 workers in batches of 10. Giving any workload option runs that one instead.
//
//   bash bench/claims-peers/setup.sh      once: graphile-worker and pg-boss
//   node bench/claims-peers/run.mjs [--jobs 20000] [--work-ms 0.1] [--workers 2] [--concurrency 4]
//                                   [--batch 100] [--flush 100/100] [--repeats 3]
//
// Writes bench/results/claims-peers.json and prints a table per workload. Not part of `npm test`.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import { runClaims } from '../../dist/src/lab/claims/harness.js';
import { machine, median } from '../lib.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
};
const url = process.env.FLEETSCALE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DEFAULT_WORKLOADS = [
  { name: '0.1 ms jobs, batches of 100', jobs: 20_000, workMs: 0.1, workers: 2, concurrency: 4, batchSize: 100, flushSize: 100, flushMs: 100 },
  { name: '0.1 ms jobs, batches of 10', jobs: 20_000, workMs: 0.1, workers: 2, concurrency: 4, batchSize: 10, flushSize: 100, flushMs: 100 },
  { name: '1 ms jobs, 4 workers, batches of 10', jobs: 8_000, workMs: 1, workers: 4, concurrency: 4, batchSize: 10, flushSize: 100, flushMs: 100 },
];
const OPTIONS = ['jobs', 'work-ms', 'workers', 'concurrency', 'batch', 'flush'];
const workloads = OPTIONS.some((o) => process.argv.includes(`--${o}`))
  ? [
      (() => {
        const [flushSize, flushMs] = String(arg('flush', '100/100')).split('/').map(Number);
        const w = {
          jobs: Number(arg('jobs', 20_000)),
          workMs: Number(arg('work-ms', 0.1)),
          workers: Number(arg('workers', 2)),
          concurrency: Number(arg('concurrency', 4)),
          batchSize: Number(arg('batch', 100)),
          flushSize,
          flushMs,
        };
        return { name: `${w.workMs} ms jobs, ${w.workers} workers, batches of ${w.batchSize}`, ...w };
      })(),
    ]
  : DEFAULT_WORKLOADS;
const repeats = Number(arg('repeats', 3));
const QUEUE = 'bench';

// One connection for the orchestrator's own queries (set-up, polling for the end, results):
// a connection per query would fork a backend every 20 ms while the systems run.
const db = new pg.Client({ connectionString: url });
await db.connect();
const sql = async (text, values) => (await db.query(text, values)).rows;

async function fleetscale(workload) {
  const r = await runClaims({
    url,
    workers: workload.workers,
    batchSize: workload.batchSize,
    strategy: 'skip-locked',
    jobs: workload.jobs,
    workMs: workload.workMs,
    concurrency: workload.concurrency,
    poolSize: workload.concurrency + 2,
    flushSize: workload.flushSize,
    flushMs: workload.flushMs,
  });
  if (r.completed !== workload.jobs) throw new Error(`fleetscale completed ${r.completed} of ${workload.jobs}`);
  return { elapsedMs: r.elapsedMs, p50Ms: r.latencyMs.p50, p99Ms: r.latencyMs.p99 };
}

/** Creates the peer's schema afresh and enqueues the jobs. */
async function prepare(system, schema, workload) {
  await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  const payloads = Array.from({ length: workload.jobs }, (_, i) => ({ i }));
  if (system === 'graphile-worker') {
    const { runMigrations, makeWorkerUtils, Logger } = await import('graphile-worker');
    const logger = new Logger(() => () => {});
    await runMigrations({ connectionString: url, schema, logger });
    const utils = await makeWorkerUtils({ connectionString: url, schema, logger });
    try {
      for (let at = 0; at < payloads.length; at += 5000) {
        await utils.addJobs(payloads.slice(at, at + 5000).map((payload) => ({ identifier: QUEUE, payload, maxAttempts: 3 })));
      }
    } finally {
      await utils.release();
    }
    await sql(`VACUUM (ANALYZE) ${schema}._private_jobs`);
  } else {
    const { default: PgBoss } = await import('pg-boss');
    const boss = new PgBoss({ connectionString: url, schema, supervise: false, schedule: false });
    await boss.start();
    try {
      await boss.createQueue(QUEUE);
      for (let at = 0; at < payloads.length; at += 5000) {
        await boss.insert(payloads.slice(at, at + 5000).map((data) => ({ name: QUEUE, data, retryLimit: 2 })));
      }
    } finally {
      await boss.stop({ graceful: false, wait: true });
    }
    await sql(`VACUUM (ANALYZE) ${schema}.job`);
  }
}

async function peer(system, workload) {
  const schema = system === 'graphile-worker' ? 'fleetscale_peer_graphile' : 'fleetscale_peer_pgboss';
  await prepare(system, schema, workload);
  const children = [];
  const progress = new Array(workload.workers).fill(0);
  const reports = [];
  try {
    const ready = [];
    const done = [];
    for (let w = 0; w < workload.workers; w++) {
      const child = fork(`${here}worker.mjs`, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      ready.push(
        new Promise((resolve, reject) => {
          child.on('message', (m) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'progress') progress[w] = m.completed;
            else if (m.type === 'done') reports[w] = m;
            else if (m.type === 'error') reject(new Error(`${system} worker ${w}: ${m.message}`));
          });
          child.once('exit', (code) => reject(new Error(`${system} worker ${w} exited (${code})`)));
        }),
      );
      done.push(new Promise((resolve) => child.once('exit', resolve)));
      child.send({ type: 'task', system, url, schema, queue: QUEUE, workMs: workload.workMs, concurrency: workload.concurrency, batchSize: workload.batchSize });
    }
    await Promise.all(ready);
    const go = Date.now();
    for (const child of children) child.send({ type: 'go' });
    let last = -1;
    let lastChange = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 20));
      const sum = progress.reduce((a, b) => a + b, 0);
      if (sum !== last) [last, lastChange] = [sum, Date.now()];
      if (Date.now() - lastChange > 60_000) throw new Error(`${system} made no progress for 60 s (${sum} of ${workload.jobs})`);
      if (sum < workload.jobs) continue;
      // Done when the database says so: graphile-worker deletes a job once its completion is
      // written; pg-boss marks it completed.
      const [{ n }] =
        system === 'graphile-worker'
          ? await sql(`SELECT ${workload.jobs} - count(*)::int AS n FROM ${schema}._private_jobs`)
          : await sql(`SELECT count(*)::int AS n FROM ${schema}.job WHERE name = $1 AND state = 'completed'`, [QUEUE]);
      if (n >= workload.jobs) break;
    }
    const end = Date.now();
    for (const child of children) child.send({ type: 'stop' });
    await Promise.all(done);
    if (system === 'graphile-worker') {
      const latencies = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
      const [{ left }] = await sql(`SELECT count(*)::int AS left FROM ${schema}._private_jobs`);
      if (left !== 0 || latencies.length !== workload.jobs) throw new Error(`graphile-worker left ${left} jobs, completed ${latencies.length}`);
      const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
      return { elapsedMs: end - go, p50Ms: at(0.5), p99Ms: at(0.99) };
    }
    const [row] = await sql(
      `SELECT count(*)::int AS n, (extract(epoch FROM max(completed_on)) * 1000)::float8 AS last,
         percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY (extract(epoch FROM completed_on - started_on) * 1000)::float8) AS p
       FROM ${schema}.job WHERE name = $1 AND state = 'completed'`,
      [QUEUE],
    );
    if (row.n !== workload.jobs) throw new Error(`pg-boss completed ${row.n} of ${workload.jobs}`);
    return { elapsedMs: row.last - go, p50Ms: row.p[0], p99Ms: row.p[1] };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

const systems = { fleetscale, 'graphile-worker': (w) => peer('graphile-worker', w), 'pg-boss': (w) => peer('pg-boss', w) };
const names = Object.keys(systems);
const results = [];
for (const workload of workloads) {
  console.error(
    `${workload.name}: ${workload.jobs} jobs of ${workload.workMs} ms, ${workload.workers} workers × ${workload.concurrency} consumers, batches of ${workload.batchSize}`,
  );
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < repeats; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      const m = await systems[name](workload);
      const run = { ...m, throughput: (workload.jobs / m.elapsedMs) * 1000 };
      runs[name].push(run);
      console.error(`[${r + 1}/${repeats}] ${name.padEnd(16)} ${Math.round(run.throughput).toLocaleString('en-US').padStart(7)} jobs/s  p99 ${run.p99Ms.toFixed(1)} ms`);
    }
  }
  const summary = Object.fromEntries(
    names.map((n) => [n, { throughput: median(runs[n].map((x) => x.throughput)), p50Ms: median(runs[n].map((x) => x.p50Ms)), p99Ms: median(runs[n].map((x) => x.p99Ms)) }]),
  );
  const fs = summary.fleetscale;
  const ratios = Object.fromEntries(
    names.filter((n) => n !== 'fleetscale').map((n) => [n, { throughput: fs.throughput / summary[n].throughput, p99: summary[n].p99Ms / fs.p99Ms }]),
  );
  results.push({ workload: { ...workload, strategy: 'skip-locked' }, summary, ratios, runs });
}
const versions = {
  'graphile-worker': (await import('graphile-worker/package.json', { with: { type: 'json' } })).default.version,
  'pg-boss': (await import('pg-boss/package.json', { with: { type: 'json' } })).default.version,
};
const result = {
  machine: machine(),
  postgres: (await sql('SHOW server_version'))[0].server_version,
  versions,
  repeats,
  workloads: results,
};
mkdirSync(`${here}../results`, { recursive: true });
writeFileSync(`${here}../results/claims-peers.json`, `${JSON.stringify(result, null, 1)}\n`);
await db.end();
for (const { workload, summary, ratios } of results) {
  console.log(`${workload.name}\nsystem            jobs/s (median)  p50 ms  p99 ms  fleetscale ×`);
  for (const n of names) {
    const s = summary[n];
    console.log(
      `${n.padEnd(16)}  ${Math.round(s.throughput).toLocaleString('en-US').padStart(15)}  ${s.p50Ms.toFixed(1).padStart(6)}  ${s.p99Ms.toFixed(1).padStart(6)}  ${n === 'fleetscale' ? '' : `${ratios[n].throughput.toFixed(2)}× jobs/s, ${ratios[n].p99.toFixed(2)}× lower p99`}`,
    );
  }
}
