// The claims queue's own throughput at its best configuration, against the target of
// ≥ 10,000 jobs/s claimed, persisted and completed durably: the run reads the server's fsync
// and synchronous_commit first and records them (both on: every claim and flush returns only
// once its WAL is on disk), and the target counts only if they are.
//
// Light jobs (0.025 ms of CPU), batches of 100, results flushed 500 at a time or every
// 1000 ms, 4 consumers and a pool of 50 per worker, warm workers (10,000 jobs each first, off
// the clock), over 1, 2 and 3 worker processes and both strategies that scale (skip-locked,
// partitioned). Every cell runs --repeats times (the cells rotated each pass, so no cell always
// runs first) and keeps its median; the range is reported beside it.
//
//   npm run bench:claims-queue -- [--jobs 50000] [--repeats 3]   (needs `npm run build` first)
//
// Writes bench/results/claims-queue.json and prints a table. Not part of `npm test`.
import { mkdirSync, writeFileSync } from 'node:fs';

import pg from 'pg';

import { runClaims } from '../../dist/src/lab/claims/harness.js';
import { machine, median } from '../lib.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const url = process.env.FLEETSCALE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const jobs = arg('jobs', 50_000);
const repeats = arg('repeats', 3);
const TARGET_JOBS_PER_S = 10_000;

const SETTING = { batchSize: 100, flushSize: 500, flushMs: 1000, concurrency: 4, poolSize: 50, workMs: 0.025, warmupJobs: 10_000 };
const CELLS = ['skip-locked', 'partitioned'].flatMap((strategy) => [1, 2, 3].map((workers) => ({ strategy, workers })));

const db = new pg.Client({ connectionString: url });
await db.connect();
const serverSetting = async (name) => (await db.query(`SELECT current_setting($1) AS v`, [name])).rows[0].v;
const server = { version: await serverSetting('server_version'), fsync: await serverSetting('fsync'), synchronousCommit: await serverSetting('synchronous_commit') };
await db.end();
const durable = server.fsync === 'on' && server.synchronousCommit !== 'off';

const runs = new Map(CELLS.map((c) => [key(c), []]));
function key(c) {
  return `${c.strategy} W${c.workers}`;
}

for (let pass = 0; pass < repeats; pass++) {
  const order = CELLS.map((_, i) => CELLS[(i + pass * 2) % CELLS.length]);
  for (const cell of order) {
    const r = await runClaims({ url, jobs, ...SETTING, ...cell });
    if (r.completed !== jobs || r.failed !== 0) throw new Error(`${key(cell)}: completed ${r.completed} of ${jobs}, ${r.failed} failed`);
    const host = r.cpu.host;
    // How busy the host's cores were over the run (busy ÷ busy + idle + stolen): what is left for more workers.
    const busyShare = host ? host.busyMs / (host.busyMs + host.idleMs + host.stealMs) : null;
    runs.get(key(cell)).push({ throughput: r.throughput, p99Ms: r.latencyMs?.p99 ?? null, busyShare });
    process.stdout.write(`[${pass + 1}/${repeats}] ${key(cell).padEnd(16)} ${Math.round(r.throughput).toLocaleString('en-US')} jobs/s\n`);
  }
}

const rows = CELLS.map((cell) => {
  const rs = runs.get(key(cell));
  const throughputs = rs.map((r) => r.throughput);
  return {
    name: key(cell),
    ...cell,
    throughput: median(throughputs),
    min: Math.min(...throughputs),
    max: Math.max(...throughputs),
    p99Ms: median(rs.map((r) => r.p99Ms ?? Number.NaN)),
    busyShare: rs.some((r) => r.busyShare === null) ? null : median(rs.map((r) => r.busyShare)),
    throughputs,
  };
});
for (const row of rows) {
  const one = rows.find((r) => r.strategy === row.strategy && r.workers === 1);
  row.speedup = row.throughput / one.throughput;
}
const best = rows.reduce((a, b) => (b.throughput > a.throughput ? b : a));
const result = {
  suite: 'claims-queue',
  machine: machine(),
  jobs,
  repeats,
  setting: SETTING,
  server,
  durable,
  rows,
  best: { name: best.name, throughput: best.throughput, target: TARGET_JOBS_PER_S, met: durable && best.throughput >= TARGET_JOBS_PER_S },
};
mkdirSync(new URL('../results', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/claims-queue.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);

const n = (v) => Math.round(v).toLocaleString('en-US');
console.log(`\nclaims-queue — ${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}; ${n(jobs)} jobs, median of ${repeats}\n`);
const pct = (v) => (v === null ? '—' : `${(v * 100).toFixed(0)}%`);
console.log('| cell | jobs/s | range | vs 1 worker | p99 claim→complete ms | cores busy |\n|---|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${n(r.throughput)} | ${n(r.min)}–${n(r.max)} | ${r.speedup.toFixed(2)}× | ${r.p99Ms.toFixed(0)} | ${pct(r.busyShare)} |`);
console.log(
  `\nbest: ${best.name} at ${n(best.throughput)} jobs/s (target ≥ ${n(TARGET_JOBS_PER_S)}: ${result.best.met ? 'met' : 'missed'}); PostgreSQL ${server.version}, fsync ${server.fsync}, synchronous_commit ${server.synchronousCommit}`,
);
