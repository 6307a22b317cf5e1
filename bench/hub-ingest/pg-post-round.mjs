// What a large round costs PostgreSQL once it closes: the PostgreSQL store reads the round's
// batch texts for the fusion, stores the result, and tidies the round's working rows. A round
// of 2000 nodes × 20 batches × 5 observations (200,000 observations, the sustained benchmark's
// round) is reported through the store, closed, and then put through those three steps:
// - before: the statements the store ran until this benchmark was written: the texts sorted
//   by (node, seq) on their text keys, the result stored with pglz, the batches' bodies emptied
//   in the background (their rows, kept for their digests, deleted 16 rounds later);
// - after: the store as it is: the texts read along the primary key by a thread of their own
//   (the hub's fusion thread reads them), the result stored with lz4, a row of digests per
//   node written and the round's batches deleted with the result.
// Per step: wall time, the CPU of the database's processes on this host, and the CPU of this
// process's main thread (the hub's event loop, which acknowledges batches), from /proc; on a
// hub these steps run while the next round is being acknowledged, on the same cores.
//
//   npm run bench:pg-post-round     (FLEETSCALE_PG_URL, default postgres://postgres@127.0.0.1:5432/test)
//   npm run bench:pg-post-round -- --quick
//
// Writes bench/results/hub-pg-post-round.json and prints a table.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

import pg from 'pg';

import { postgresCpuMs } from '../../dist/src/lab/claims/host-cpu.js';
import { sensorPreset } from '../../dist/src/fusion/preset.js';
import { TextFusion } from '../../dist/src/fusion/text-fusion.js';
import { batchDigest } from '../../dist/src/hub/rounds.js';
import { PostgresStore } from '../../dist/src/hub/store/postgres.js';
import { machine, median } from '../lib.mjs';
import { cpuTime } from './cpu-time.mjs';
import { fleetBatchBodies } from './raw-load.mjs';

const PG_URL = process.env.FLEETSCALE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NODES = 2000;
const BATCHES = 20;
const RUNS = process.argv.includes('--quick') ? 1 : 5;
const ROUND = 'big';

const fleet = fleetBatchBodies({ nodes: NODES, batches: BATCHES, batchSize: 5, seed: 7 });
const batches = fleet.map(({ node, bodies }) =>
  bodies.map((json, b) => ({ node, seq: b + 1, final: b === BATCHES - 1, ids: JSON.parse(json).records.map((r) => r.id), json, digest: batchDigest(json) })),
);

/** A store on a schema of its own holding the closed round, as the hub's reports left it. */
async function closedRound() {
  const schema = `bench_pg_post_${Date.now().toString(36)}`;
  const store = await PostgresStore.open(PG_URL, { schema });
  await Promise.all(fleet.map(({ node }) => store.announce(ROUND, node, Date.now(), 600_000)));
  for (let b = 0; b < BATCHES; b++) await Promise.all(batches.map((ofNode) => store.report(ROUND, ofNode[b])));
  await store.close(ROUND, 'final', Date.now());
  return { store, schema };
}

/** CPU of this process's main thread so far (ms; NaN off Linux). */
const mainThreadCpuMs = () => cpuTime(process.pid)?.mainMs ?? NaN;

/** Wall time, database CPU and main-thread CPU of `step` (ms). */
async function measured(step) {
  const cpu0 = postgresCpuMs();
  const main0 = mainThreadCpuMs();
  const started = performance.now();
  const value = await step();
  const wallMs = performance.now() - started;
  const cpu1 = postgresCpuMs();
  return { value, wallMs, dbCpuMs: cpu0 === undefined || cpu1 === undefined ? NaN : cpu1 - cpu0, mainCpuMs: mainThreadCpuMs() - main0 };
}

/**
 * A thread that reads texts as the hub's fusion thread does (over its own connection, opened
 * ahead, as the fusion thread keeps its own): `read(query)` resolves with their number.
 */
async function textReader(url) {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     import(workerData.module).then(({ readQueryTexts }) => {
       parentPort.on('message', (query) => readQueryTexts(query).then((texts) => parentPort.postMessage(texts.length)));
       return readQueryTexts({ url: workerData.url, text: 'SELECT 1', values: [] });
     }).then(() => parentPort.postMessage('ready'));`,
    { eval: true, workerData: { module: new URL('../../dist/src/fusion/query-texts.js', import.meta.url).href, url } },
  );
  const next = () =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  await next();
  return {
    read: (query) => {
      const answer = next();
      worker.postMessage(query);
      return answer;
    },
    close: () => worker.terminate(),
  };
}

/** The three steps as the store used to run them, on `client`. */
async function before(client, s, result) {
  await client.query(`ALTER TABLE ${s}.rounds ALTER COLUMN result SET COMPRESSION pglz`);
  const read = await measured(async () => (await client.query(`SELECT body FROM ${s}.batches WHERE round = $1 ORDER BY node, seq`, [ROUND])).rows.length);
  const save = await measured(async () => {
    await client.query('BEGIN');
    await liveCounts(client, s);
    await client.query(`UPDATE ${s}.rounds SET state = 'fused', result = $2, events = $3, fusion_ms = 1 WHERE round = $1 AND state = 'closed'`, [
      ROUND,
      result.json,
      result.events,
    ]);
    await client.query(`DELETE FROM ${s}.record_ids WHERE round = $1`, [ROUND]);
    await client.query(`DELETE FROM ${s}.nodes WHERE round = $1`, [ROUND]);
    await client.query('COMMIT');
  });
  const tidy = await measured(async () => {
    await client.query(`UPDATE ${s}.batches SET body = '' WHERE round = $1 AND body <> ''`, [ROUND]);
    await client.query(`VACUUM ${s}.record_ids, ${s}.batches, ${s}.nodes`);
    // FUSED_ROUNDS_REMEMBERED rounds later: the rows kept for their digests.
    await client.query(`DELETE FROM ${s}.batches WHERE round = $1`, [ROUND]);
    await client.query(`VACUUM ${s}.batches`);
  });
  return { read, save, tidy };
}

async function liveCounts(client, s) {
  await client.query(
    `SELECT (SELECT count(*) FROM ${s}.nodes WHERE round = $1), (SELECT count(*) FROM ${s}.nodes WHERE round = $1 AND complete),
            (SELECT count(*) FROM ${s}.batches WHERE round = $1), (SELECT coalesce(sum(observations), 0) FROM ${s}.batches WHERE round = $1)`,
    [ROUND],
  );
}

/** The three steps through the store. */
async function after(store, result) {
  const reader = await textReader(PG_URL);
  const read = await measured(() => reader.read(store.batchTextsQuery(ROUND)));
  await reader.close();
  const save = await measured(() => store.saveResult(ROUND, result, 1));
  const tidy = await measured(() => store.tidied());
  return { read, save, tidy };
}

// The round's result, fused once (the fusion itself is not measured here).
const fusion = new TextFusion(sensorPreset());
const result = await fusion.fuse(batches.flatMap((ofNode) => ofNode.map((b) => b.json)));
await fusion.close();

const client = new pg.Client(PG_URL);
await client.connect();
const runs = { before: [], after: [] };
for (let k = 0; k < RUNS; k++) {
  for (const variant of ['before', 'after']) {
    const { store, schema } = await closedRound();
    try {
      await client.query('CHECKPOINT');
      const steps = variant === 'before' ? await before(client, schema, result) : await after(store, result);
      if (steps.read.value !== NODES * BATCHES) throw new Error(`${variant}: read ${steps.read.value} texts, not ${NODES * BATCHES}`);
      runs[variant].push(steps);
    } finally {
      await store.dropSchema();
      await store.shutdown();
    }
  }
}
await client.end();

const rows = [];
for (const variant of ['before', 'after']) {
  for (const step of ['read', 'save', 'tidy']) {
    const of = runs[variant].map((r) => r[step]);
    rows.push({
      variant,
      step,
      wallMs: median(of.map((r) => r.wallMs)),
      dbCpuMs: median(of.map((r) => r.dbCpuMs)),
      mainCpuMs: median(of.map((r) => r.mainCpuMs)),
      runs: of.length,
    });
  }
  const sum = (r, key) => r.read[key] + r.save[key] + r.tidy[key];
  const totals = runs[variant].map((r) => ({ wallMs: sum(r, 'wallMs'), dbCpuMs: sum(r, 'dbCpuMs'), mainCpuMs: sum(r, 'mainCpuMs') }));
  rows.push({
    variant,
    step: 'all',
    wallMs: median(totals.map((t) => t.wallMs)),
    dbCpuMs: median(totals.map((t) => t.dbCpuMs)),
    mainCpuMs: median(totals.map((t) => t.mainCpuMs)),
    runs: totals.length,
  });
}
mkdirSync(new URL('../results', import.meta.url), { recursive: true });
writeFileSync(
  new URL('../results/hub-pg-post-round.json', import.meta.url),
  `${JSON.stringify({ suite: 'hub-pg-post-round', machine: machine(), nodes: NODES, batchesPerNode: BATCHES, observations: NODES * BATCHES * 5, resultBytes: result.bytes.length, rows }, null, 2)}\n`,
);
console.table(
  rows.map((r) => ({ variant: r.variant, step: r.step, 'wall ms': r.wallMs.toFixed(0), 'database cpu ms': r.dbCpuMs.toFixed(0), 'main thread cpu ms': r.mainCpuMs.toFixed(0) })),
);
