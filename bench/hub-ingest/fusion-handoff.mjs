// What handing a closed round's batch texts to the fusion thread costs the event loop that
// acknowledges batches: the time `postMessage` takes on the calling thread for a round of
// 40,000 batch texts (2000 nodes × 20 batches of 5 observations), sent as they were before
// (an array of texts: the structured clone serialises each one) and packed
// (`ts/src/fusion/packed-texts.ts`: each buffer once, a shared one not copied; strings stay
// strings, since joining them was measured slower than cloning them).
// Byte texts are the embedded store's (views of its arena's chunks: plain memory before,
// shared memory now); string texts are PostgreSQL's. Each case waits for the thread to take
// the message before the next.
//
//   npm run bench:fusion-handoff        writes bench/results/hub-fusion-handoff.json
import { mkdirSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

import { packTexts } from '../../dist/src/fusion/packed-texts.js';
import { ByteArena } from '../../dist/src/hub/store/byte-arena.js';
import { generateFleet } from '../../dist/src/fusion/generate.js';
import { machine, median } from '../lib.mjs';

const RUNS = process.argv.includes('--quick') ? 3 : 9;
const NODES = 2000;
const BATCHES = 20;

// The round's batches as the hub keeps them.
const fleet = generateFleet({ nodes: NODES, obsPerNode: BATCHES * 5, seed: 7 });
const byNode = new Map();
for (const r of fleet.records) {
  let list = byNode.get(r.node);
  if (!list) byNode.set(r.node, (list = []));
  list.push(r);
}
const jsons = [];
for (let b = 0; b < BATCHES; b++) {
  for (const [node, records] of byNode) jsons.push(JSON.stringify({ node, seq: b + 1, final: b === BATCHES - 1, records: records.slice(b * 5, b * 5 + 5) }));
}

/** Views of 1 MiB chunks of plain memory: the arena before it used shared memory. */
function plainChunkViews(texts) {
  let chunk = Buffer.allocUnsafeSlow(1 << 20);
  let used = 0;
  return texts.map((text) => {
    const length = Buffer.byteLength(text);
    if (used + length > chunk.length) {
      chunk = Buffer.allocUnsafeSlow(1 << 20);
      used = 0;
    }
    chunk.write(text, used, length, 'utf8');
    used += length;
    return chunk.subarray(used - length, used);
  });
}

const cases = [
  { texts: 'bytes (embedded store)', sent: 'one by one, plain chunks (before)', make: () => plainChunkViews(jsons), message: (texts) => ({ texts }) },
  { texts: 'bytes (embedded store)', sent: 'packed, shared chunks (now)', make: () => { const arena = new ByteArena(); return jsons.map((j) => arena.put(j)); }, message: (texts) => ({ packed: packTexts(texts) }) },
  { texts: 'strings (PostgreSQL store)', sent: 'one by one (before)', make: () => jsons.map((j) => `${j} `.slice(0, -1)), message: (texts) => ({ texts }) },
  { texts: 'strings (PostgreSQL store)', sent: 'packed (now: all strings, so sent as they are)', make: () => jsons.map((j) => `${j} `.slice(0, -1)), message: (texts) => ({ packed: packTexts(texts) }) },
];

const thread = new Worker('require("node:worker_threads").parentPort.on("message", () => require("node:worker_threads").parentPort.postMessage(0));', { eval: true });
const rows = [];
for (const c of cases) {
  const times = [];
  for (let k = 0; k < RUNS; k++) {
    const texts = c.make();
    const started = performance.now();
    thread.postMessage(c.message(texts));
    times.push(performance.now() - started);
    await new Promise((resolve) => thread.once('message', resolve));
  }
  const bytes = jsons.reduce((n, j) => n + Buffer.byteLength(j), 0);
  rows.push({ texts: c.texts, sent: c.sent, batches: jsons.length, megabytes: bytes / 2 ** 20, medianMs: median(times), minMs: Math.min(...times), maxMs: Math.max(...times), runs: RUNS });
}
await thread.terminate();

const result = { suite: 'hub-fusion-handoff', machine: machine(), rows };
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/hub-fusion-handoff.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
console.table(rows.map((r) => ({ texts: r.texts, sent: r.sent, batches: r.batches, MB: r.megabytes.toFixed(1), 'median ms': r.medianMs.toFixed(1), 'min ms': r.minMs.toFixed(1), 'max ms': r.maxMs.toFixed(1) })));
