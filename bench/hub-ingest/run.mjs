// Hub ingest benchmark over real sockets: the hub runs as its own process (`fleetscale hub`),
// the fleet simulator in this one, both on this machine.
//
//   npm run bench:hub                  embedded store and PostgreSQL (FLEETSCALE_PG_URL)
//   npm run bench:hub -- --quick       fewer repetitions
//   npm run bench:hub -- --no-pg       embedded store only
//
// Cases:
// - S-20g/h/i: 100, 500, 2000 nodes post one batch (5 observations) at once over warm
//   keep-alive connections: time until all are acknowledged (median over rounds), and for
//   2000 nodes the time from the round's close (the last final batch) to its result.
// - sustained: 2000 connections, each node posting 5-observation batches back to back
//   (closed loop: the most the hub takes), and paced at 10,000 batches/s in all (each node
//   every 200 ms: open loop), with p50/p99 latency of acknowledgements.
// Writes bench/results/hub-ingest.json and prints a table.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

import { runFleet } from '../../dist/src/fleet/simulator.js';
import { machine, median } from '../lib.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const withPg = !args.includes('--no-pg');
const PG_URL = process.env.FLEETSCALE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = 'bench-secret';
const cli = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;


function startHub(extra) {
  const child = spawn(process.execPath, [cli, 'hub', '--port', '0', '--round-deadline-ms', '600000', ...extra], {
    env: { ...process.env, FLEETSCALE_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ child, url: match[1] });
    });
    child.once('exit', (code) => reject(new Error(`hub exited (${code}): ${out}`)));
  });
}

async function stopHub(hub) {
  const exited = new Promise((r) => hub.child.once('exit', r));
  hub.child.kill('SIGTERM');
  await exited;
}

let roundNo = 0;
async function round(url, nodes, opts = {}) {
  const report = await runFleet({ hub: url, secret: SECRET, nodes, obsPerNode: 5, rounds: 1, roundPrefix: `b${roundNo++}x${Date.now().toString(36)}`, ...opts });
  const r = report.rounds[0];
  if (r.errors) throw new Error(`round with errors: ${JSON.stringify(r.errorCodes)}`);
  return r;
}

async function measureStore(store, extra) {
  const hub = await startHub(extra);
  const rows = [];
  try {
    // Warm-up: JIT, connections, the store's first files.
    await round(hub.url, 2000);
    for (const [id, nodes] of [['S-20g', 100], ['S-20h', 500], ['S-20i', 2000]]) {
      const runs = [];
      for (let k = 0; k < (quick ? 3 : 7); k++) runs.push(await round(hub.url, nodes));
      rows.push({
        id,
        store,
        nodes,
        observations: nodes * 5,
        allAcknowledgedMs: median(runs.map((r) => r.ingestMs)),
        p50Ms: median(runs.map((r) => r.latencyMs.p50)),
        p99Ms: median(runs.map((r) => r.latencyMs.p99)),
        closeToResultMs: median(runs.map((r) => r.closeToResultMs)),
        hubFusionMs: median(runs.map((r) => r.hubFusionMs ?? NaN)),
        events: runs[0].events,
        runs: runs.length,
      });
    }
    const batches = quick ? 10 : 20;
    const closed = await round(hub.url, 2000, { obsPerNode: 5 * batches, batchSize: 5 });
    rows.push({ id: 'sustained, closed loop', store, nodes: 2000, batches: closed.batches, batchesPerS: closed.batchesPerS, p50Ms: closed.latencyMs.p50, p99Ms: closed.latencyMs.p99 });
    const paced = await round(hub.url, 2000, { obsPerNode: 5 * batches, batchSize: 5, batchIntervalMs: 200 });
    rows.push({ id: 'sustained, paced 10k/s', store, nodes: 2000, batches: paced.batches, batchesPerS: paced.batchesPerS, p50Ms: paced.latencyMs.p50, p99Ms: paced.latencyMs.p99 });
  } finally {
    await stopHub(hub);
  }
  return rows;
}

const rows = [];
const dataDir = mkdtempSync(join(os.tmpdir(), 'fleetscale-bench-hub-'));
try {
  rows.push(...(await measureStore('embedded', ['--data', dataDir])));
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
if (withPg) {
  const schema = `bench_hub_${Date.now().toString(36)}`;
  try {
    rows.push(...(await measureStore('postgres', ['--pg', PG_URL, '--pg-schema', schema, '--data', mkdtempSync(join(os.tmpdir(), 'fleetscale-bench-pg-'))])));
  } finally {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
}

const result = {
  suite: 'hub-ingest',
  machine: machine(),
  rows,
};
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/hub-ingest.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
const f = (v, d = 1) => (v === undefined || Number.isNaN(v) ? '—' : v.toFixed(d));
console.table(rows.map((r) => ({ case: r.id, store: r.store, nodes: r.nodes, 'all acked ms': f(r.allAcknowledgedMs), 'batches/s': f(r.batchesPerS, 0), 'p50 ms': f(r.p50Ms), 'p99 ms': f(r.p99Ms), 'close→result ms': f(r.closeToResultMs) })));
