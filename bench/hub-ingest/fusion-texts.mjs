// What the hub's fusion thread spends on a closed round, from its batch texts to the result's
// JSON text (as UTF-8 bytes and as a string, the two forms the hub uses): the TypeScript path
// (parse each text into objects, build the columns, fuse, build the result's objects,
// JSON.stringify, encode) against the native one (`ts/src/fusion/native-texts.ts`: the texts
// read straight into columns, fused and written as JSON by the native layer, then decoded).
// Two rounds of the fleet the hub benchmark sends: 2000 nodes × 1 batch of 5 observations (the
// round of S-20i, whose close-to-result target is 50 ms) and 2000 nodes × 20 batches (the
// sustained benchmark's round, 200,000 observations). Texts as the embedded store keeps them
// (bytes in shared chunks); tinybench, median; and the median split of a run into reading the
// texts into columns, the fusion engine, and writing the result's text.
//
//   npm run bench:fusion-texts        writes bench/results/hub-fusion-texts.json
import { mkdirSync, writeFileSync } from 'node:fs';

import { Bench } from 'tinybench';

import { readBatchRecords } from '../../dist/src/fusion/batch-texts.js';
import { configJson, fuseSync } from '../../dist/src/fusion/fuse.js';
import { fuseTextsNatively } from '../../dist/src/fusion/native-texts.js';
import { packTexts, unpackTexts } from '../../dist/src/fusion/packed-texts.js';
import { sensorPreset } from '../../dist/src/fusion/preset.js';
import { ByteArena } from '../../dist/src/hub/store/byte-arena.js';
import { machine, median } from '../lib.mjs';
import { fleetBatchBodies } from './raw-load.mjs';

const quick = process.argv.includes('--quick');
const config = sensorPreset();
const configText = configJson(config);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const rows = [];
for (const batches of [1, 20]) {
  const arena = new ByteArena();
  const packed = packTexts(fleetBatchBodies({ nodes: 2000, batches }).flatMap(({ bodies }) => bodies.map((json) => arena.put(json))));
  const observations = 2000 * batches * 5;
  const big = batches > 1;
  const bench = new Bench({ name: `fusion texts ${observations}`, throws: true, time: 0, iterations: quick ? 3 : big ? 9 : 30, warmupIterations: big ? 1 : 5 });
  const results = {};
  // Each run's split: reading the texts into columns, the fusion engine, writing the result's
  // text (the engine's own phases and the columns' preparation from the result's timingsMs).
  const phases = { 'TypeScript path': [], 'native path': [] };
  const engineMs = (timings) =>
    Object.entries(timings)
      .filter(([k]) => !['prepare', 'result'].includes(k))
      .reduce((sum, [, ms]) => sum + ms, 0);
  bench.add('TypeScript path', () => {
    const t0 = performance.now();
    const records = readBatchRecords(unpackTexts(packed));
    const t1 = performance.now();
    const result = fuseSync(records, config);
    const t2 = performance.now();
    const json = JSON.stringify(result);
    results.ts = { json, bytes: encoder.encode(json) };
    const t3 = performance.now();
    const { prepare, result: build } = result.stats.timingsMs;
    phases['TypeScript path'].push({ readMs: t1 - t0 + prepare, engineMs: engineMs(result.stats.timingsMs), writeMs: build + (t3 - t2) });
  });
  bench.add('native path', () => {
    const fused = fuseTextsNatively(packed, configText);
    const t1 = performance.now();
    results.native = { json: decoder.decode(fused.bytes), bytes: fused.bytes };
    const t2 = performance.now();
    const timings = JSON.parse(results.native.json.slice(results.native.json.indexOf('"timingsMs":') + 12, -2));
    phases['native path'].push({ readMs: timings.prepare, engineMs: engineMs(timings), writeMs: timings.result + (t2 - t1) });
  });
  await bench.run();
  // The same events from both (the timings in the stats differ).
  const events = (json) => json.slice(0, json.indexOf(',"stats":'));
  if (events(results.ts.json) !== events(results.native.json)) throw new Error(`the paths disagree on a round of ${observations} observations`);
  for (const task of bench.tasks) {
    const split = (key) => median(phases[task.name].map((p) => p[key]));
    rows.push({
      observations,
      batches: 2000 * batches,
      path: task.name,
      medianMs: task.result.latency.p50,
      minMs: task.result.latency.min,
      maxMs: task.result.latency.max,
      samples: task.result.latency.samples.length,
      readMs: split('readMs'),
      engineMs: split('engineMs'),
      writeMs: split('writeMs'),
      resultBytes: results.native.bytes.length,
    });
  }
}
mkdirSync(new URL('../results', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/hub-fusion-texts.json', import.meta.url), `${JSON.stringify({ suite: 'hub-fusion-texts', machine: machine(), rows }, null, 2)}\n`);
console.table(
  rows.map((r) => ({
    observations: r.observations,
    path: r.path,
    'median ms': r.medianMs.toFixed(1),
    'min ms': r.minMs.toFixed(1),
    'max ms': r.maxMs.toFixed(1),
    'read ms': r.readMs.toFixed(1),
    'engine ms': r.engineMs.toFixed(1),
    'write ms': r.writeMs.toFixed(1),
  })),
);
