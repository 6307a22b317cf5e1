// What one group of reports costs PostgreSQL, by group size: the PostgreSQL store's reports
// in groups of exactly G (G reports submitted at once, groups capped at G), one group in flight,
// 2000 announced nodes each sending 10 batches of 5 observations, on a schema of its own.
// The nodes' announces go in groups of the same size first: their wall time per announce.
// Per batch: wall time, and the CPU of the database's processes on this host (from /proc),
// for groups decided set-wide (distinct nodes, the usual group) and batch by batch (each
// group holds two batches of one node, which sends the group down the one-at-a-time path).
//
//   npm run bench:pg-groups        (FLEETSCALE_PG_URL, default postgres://postgres@127.0.0.1:5432/test)
//
// Writes bench/results/hub-pg-groups.json and prints a table.
import { mkdirSync, writeFileSync } from 'node:fs';

import { postgresCpuMs } from '../../dist/src/lab/claims/host-cpu.js';
import { batchDigest } from '../../dist/src/hub/rounds.js';
import { PostgresStore } from '../../dist/src/hub/store/postgres.js';
import { machine, median } from '../lib.mjs';

const PG_URL = process.env.FLEETSCALE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NODES = 2000;
const BATCHES = 10;
const RUNS = process.argv.includes('--quick') ? 1 : 3;

function batchOf(node, seq) {
  const records = Array.from({ length: 5 }, (_, k) => ({
    id: `${node}-${seq}-${k}`,
    node,
    cls: k % 2 ? 'person' : 'vehicle',
    t: 1_700_000_000_000 + seq * 1000 + k,
    lat: 52.37,
    lon: 4.89,
  }));
  const json = JSON.stringify({ node, seq, final: seq === BATCHES, records });
  return { node, seq, final: seq === BATCHES, ids: records.map((r) => r.id), json, digest: batchDigest(json) };
}

/** One run: a round of NODES × BATCHES batches in groups of `size`; µs per batch. */
async function run(size, path) {
  const schema = `bench_pg_groups_${Date.now().toString(36)}`;
  const store = await PostgresStore.open(PG_URL, { schema, groupCommit: { concurrency: 1, maxItems: size } });
  try {
    const nodes = Array.from({ length: NODES }, (_, k) => `n${String(k).padStart(4, '0')}`);
    const announcing = performance.now();
    await Promise.all(nodes.map((node) => store.announce('r', node, Date.now(), 600_000)));
    const announceUs = ((performance.now() - announcing) * 1000) / NODES;
    // Set-wide: each group is `size` distinct nodes' batches of one seq. Batch by batch: each
    // group holds two consecutive batches of `size / 2` nodes.
    const groups = [];
    if (path === 'set-wide') {
      for (let seq = 1; seq <= BATCHES; seq++) for (let at = 0; at < NODES; at += size) groups.push(nodes.slice(at, at + size).map((node) => batchOf(node, seq)));
    } else {
      for (let seq = 1; seq <= BATCHES; seq += 2) {
        for (let at = 0; at < NODES; at += size / 2) groups.push(nodes.slice(at, at + size / 2).flatMap((node) => [batchOf(node, seq), batchOf(node, seq + 1)]));
      }
    }
    const cpu0 = postgresCpuMs();
    const started = performance.now();
    let batches = 0;
    for (const group of groups) {
      const outcomes = await Promise.all(group.map((batch) => store.report('r', batch)));
      if (outcomes.some((o) => o.duplicate)) throw new Error('a batch was taken for a retry');
      batches += group.length;
    }
    const wallMs = performance.now() - started;
    const cpu1 = postgresCpuMs();
    return { announceUs, wallUs: (wallMs * 1000) / batches, dbCpuUs: cpu0 === undefined || cpu1 === undefined ? NaN : ((cpu1 - cpu0) * 1000) / batches };
  } finally {
    await store.dropSchema();
    await store.shutdown();
  }
}

const rows = [];
for (const path of ['set-wide', 'batch by batch']) {
  for (const size of [2, 10, 50, 200]) {
    const runs = [];
    for (let k = 0; k < RUNS; k++) runs.push(await run(size, path));
    rows.push({
      path,
      groupSize: size,
      announceUsPerNode: median(runs.map((r) => r.announceUs)),
      wallUsPerBatch: median(runs.map((r) => r.wallUs)),
      dbCpuUsPerBatch: median(runs.map((r) => r.dbCpuUs)),
      runs: runs.length,
    });
  }
}
mkdirSync(new URL('../results', import.meta.url), { recursive: true });
writeFileSync(
  new URL('../results/hub-pg-groups.json', import.meta.url),
  `${JSON.stringify({ suite: 'hub-pg-groups', machine: machine(), nodes: NODES, batchesPerNode: BATCHES, rows }, null, 2)}\n`,
);
console.table(
  rows.map((r) => ({
    path: r.path,
    'group size': r.groupSize,
    'announce µs/node': r.announceUsPerNode.toFixed(0),
    'wall µs/batch': r.wallUsPerBatch.toFixed(0),
    'database cpu µs/batch': r.dbCpuUsPerBatch.toFixed(0),
  })),
);
