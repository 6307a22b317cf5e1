// Fusion scaling benchmark: the old spec's S-20a…f (10 … 2000 nodes × 5 observations) plus
// 20,000 and 200,000 nodes (1M records), through the public TypeScript API.
//
//   npm run bench:fusion                 all sizes (each in its own process, for peak RSS)
//   npm run bench:fusion -- --quick      up to 20,000 nodes
//   node bench/fusion-scaling/run.mjs --size 2000   one size, prints its JSON row
//
// Writes bench/results/fusion-scaling.json and prints a table.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { Bench } from 'tinybench';

import { machine as measuredOn, median } from '../lib.mjs';

import { evaluate, evaluateBlocking, fuse, fuseColumns, fusePairwise, fuseSync, generateFleet, generateFleetColumns } from '../../dist/src/fusion/index.js';

const OBS_PER_NODE = 5;
const SEED = 42;
const SIZES = [
  { id: 'S-20a', nodes: 10 },
  { id: 'S-20b', nodes: 50 },
  { id: 'S-20c', nodes: 100 },
  { id: 'S-20d', nodes: 500 },
  { id: 'S-20e', nodes: 1000 },
  { id: 'S-20f', nodes: 2000 },
  { id: 'S-20k', nodes: 20_000 },
  { id: 'S-200k', nodes: 200_000 },
];
/** Largest fleet the legacy per-node-pair loop is run on (2000 nodes: ~2M node pairs). */
const LEGACY_MAX_NODES = 2000;
/** Largest fleet also measured as record objects (1M objects would measure V8 and its heap, not fusion: the 1M row uses columns). */
const OBJECTS_MAX_NODES = 20_000;

async function measure(size) {
  const { nodes } = size;
  const records = nodes * OBS_PER_NODE;
  const small = records <= 20_000;
  const bench = new Bench({
    name: `fusion ${size.id}`,
    throws: true,
    time: small ? 1000 : 0,
    iterations: small ? 10 : records <= 100_000 ? 10 : 5,
    warmupIterations: small ? 5 : 1,
  });
  const fleet = nodes <= OBJECTS_MAX_NODES ? generateFleet({ nodes, obsPerNode: OBS_PER_NODE, seed: SEED }) : undefined;
  const { columns, truth } = generateFleetColumns({ nodes, obsPerNode: OBS_PER_NODE, seed: SEED });
  let last;
  if (fleet) bench.add('fuseSync(records)', () => void (last = fuseSync(fleet.records)));
  bench.add('fuse(columns)', async () => void (last = await fuse(columns)));
  // The native pipeline's own time (its phases, without the JS side) of every run.
  const nativeRuns = [];
  const nativeOf = (timingsMs) =>
    Object.entries(timingsMs)
      .filter(([k]) => !['prepare', 'result'].includes(k))
      .reduce((s, [, v]) => s + v, 0);
  bench.add('fuseColumns(columns)', async () => void nativeRuns.push(nativeOf((await fuseColumns(columns)).stats.timingsMs)));
  let legacyMs = null;
  let legacySame = null;
  if (nodes <= LEGACY_MAX_NODES) {
    // One timed run (it is slow by design); checked against the index result.
    const t = performance.now();
    const legacy = fusePairwise(columns);
    legacyMs = performance.now() - t;
    legacySame = JSON.stringify(legacy.events) === JSON.stringify(fuseSync(columns).events);
  }
  await bench.run();
  const row = (name) => {
    const task = bench.tasks.find((t) => t.name === name);
    return task ? task.result.latency.p50 : null;
  };
  const result = last ?? (await fuse(columns));
  const blocking = evaluateBlocking(columns, truth);
  const stress = nodes <= 20_000 ? generateFleetColumns({ nodes, obsPerNode: OBS_PER_NODE, seed: SEED, edgeStress: true }) : undefined;
  const stressBlocking = stress ? evaluateBlocking(stress.columns, stress.truth) : undefined;
  const quality = fleet ? evaluate(result, fleet.truth) : evaluate(result, Object.fromEntries(columns.ids.map((id, i) => [id, truth[i] < 0 ? null : `e${truth[i]}`])));
  const fuseSyncMs = row('fuseSync(records)');
  const fuseColumnsMs = row('fuse(columns)');
  const bulkMs = row('fuseColumns(columns)');
  return {
    id: size.id,
    nodes,
    records,
    fuseSyncMedianMs: fuseSyncMs,
    fuseColumnsMedianMs: fuseColumnsMs,
    bulkMedianMs: bulkMs,
    // Warm-up runs pushed too; the timed runs are the last ones.
    nativeMs: median(nativeRuns.slice(-bench.tasks.find((t) => t.name === 'fuseColumns(columns)').result.latency.samples.length)),
    legacyMs,
    legacySameEvents: legacySame,
    speedup: legacyMs && fuseSyncMs ? legacyMs / fuseSyncMs : null,
    nodePairs: (nodes * (nodes - 1)) / 2,
    blocks: result.stats.blocks,
    largestBlock: result.stats.largestBlock,
    candidates: result.stats.candidates,
    matched: result.stats.matched,
    pairsCompleteness: blocking.pairsCompleteness,
    edgeStressPairsCompleteness: stressBlocking?.pairsCompleteness ?? null,
    reductionRatio: blocking.reductionRatio,
    precision: quality.precision,
    recall: quality.recall,
    f1: quality.f1,
    bcubedF1: quality.bcubedF1,
    benchProcessPeakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

/** Peak RSS of a fresh process that generates the fleet as columns and fuses it once. */
async function peakRss(nodes) {
  const { columns } = generateFleetColumns({ nodes, obsPerNode: OBS_PER_NODE, seed: SEED });
  await fuse(columns);
  return process.resourceUsage().maxRSS / 1024;
}

function child(args) {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop());
}

const fmt = (v, digits = 1) => (v === null || v === undefined ? '—' : typeof v === 'number' ? v.toFixed(digits) : String(v));

async function main() {
  const args = process.argv.slice(2);
  const rssAt = args.indexOf('--rss');
  if (rssAt >= 0) {
    process.stdout.write(`${JSON.stringify(await peakRss(Number(args[rssAt + 1])))}\n`);
    return;
  }
  const at = args.indexOf('--size');
  if (at >= 0) {
    const nodes = Number(args[at + 1]);
    const size = SIZES.find((s) => s.nodes === nodes) ?? { id: `N-${nodes}`, nodes };
    process.stdout.write(`${JSON.stringify(await measure(size))}\n`);
    return;
  }
  const sizes = args.includes('--quick') ? SIZES.filter((s) => s.nodes <= 20_000) : SIZES;
  const rows = [];
  for (const size of sizes) {
    process.stderr.write(`${size.id}: ${size.nodes} nodes × ${OBS_PER_NODE} …\n`);
    // Timing in one fresh process per size; peak RSS in another that only generates and fuses
    // once, so the figure is fusion's own and not the benchmark's bookkeeping.
    const row = child(['--size', String(size.nodes)]);
    row.peakRssMiB = child(['--rss', String(size.nodes)]);
    rows.push(row);
  }
  // Growth from 100k to 1M records at fixed density (1.0 would be exactly linear).
  const rowOf = (n) => rows.find((r) => r.records === n);
  const growth =
    rowOf(100_000) && rowOf(1_000_000)
      ? Object.fromEntries(['fuseColumnsMedianMs', 'bulkMedianMs', 'nativeMs'].map((k) => [k, rowOf(1_000_000)[k] / rowOf(100_000)[k] / 10]))
      : null;
  const machine = measuredOn();
  mkdirSync(new URL('../results', import.meta.url), { recursive: true });
  writeFileSync(new URL('../results/fusion-scaling.json', import.meta.url), `${JSON.stringify({ suite: 'fusion-scaling', machine, rows, growth100kTo1M: growth }, null, 2)}\n`);
  console.log(`\nfusion-scaling — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\n`);
  console.log(
    '| case | nodes | records | fuseSync median ms | fuse(columns) median ms | fuseColumns median ms | legacy ms | speed-up | candidates | matched | pairs completeness (edge-stress) | F1 | B-cubed F1 | peak RSS MiB (generate + fuse) |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  if (growth) {
    console.log(
      `\ngrowth 100k → 1M records, relative to linear (1.0 = linear): ${Object.entries(growth)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')}\n`,
    );
  }
  for (const r of rows) {
    console.log(
      `| ${r.id} | ${r.nodes} | ${r.records} | ${fmt(r.fuseSyncMedianMs, 2)} | ${fmt(r.fuseColumnsMedianMs, 2)} | ${fmt(r.bulkMedianMs, 2)} | ${fmt(r.legacyMs, 0)} | ${r.speedup ? `${r.speedup.toFixed(0)}×` : '—'} | ${r.candidates} | ${r.matched} | ${fmt(r.pairsCompleteness, 4)} (${fmt(r.edgeStressPairsCompleteness, 4)}) | ${fmt(r.f1, 4)} | ${fmt(r.bcubedF1, 4)} | ${fmt(r.peakRssMiB, 0)} |`,
    );
  }
}

await main();
