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
import { machine, median } from '../lib.mjs';
import { fleetBatchBodies } from './raw-load.mjs';

const RUNS = process.argv.includes('--quick') ? 3 : 9;
const NODES = 2000;
const BATCHES = 20;

// The round's batches as the hub keeps them, node after node.
const jsons = fleetBatchBodies({ nodes: NODES, batches: BATCHES }).flatMap(({ bodies }) => bodies);

/** The texts as the embedded store keeps them: views of its arena's (shared) chunks. */
function arenaViews() {
  const arena = new ByteArena();
  return jsons.map((json) => arena.put(json));
}

/** The same views over plain copies of the arena's chunks: the arena before it used shared memory. */
function plainChunkViews() {
  const copies = new Map();
  return arenaViews().map((view) => {
    let copy = copies.get(view.buffer);
    if (!copy) copies.set(view.buffer, (copy = new Uint8Array(view.buffer).slice().buffer));
    return new Uint8Array(copy, view.byteOffset, view.byteLength);
  });
}

/** The texts as PostgreSQL's rows give them: strings of their own, new each run. */
const freshStrings = () => jsons.map((json) => `${json} `.slice(0, -1));

const sentOneByOne = (texts) => ({ texts });
const sentPacked = (texts) => ({ packed: packTexts(texts) });

const cases = [
  { texts: 'bytes (embedded store)', sent: 'one by one, plain chunks (before)', make: plainChunkViews, message: sentOneByOne },
  { texts: 'bytes (embedded store)', sent: 'packed, shared chunks (now)', make: arenaViews, message: sentPacked },
  { texts: 'strings (PostgreSQL store)', sent: 'one by one (before)', make: freshStrings, message: sentOneByOne },
  { texts: 'strings (PostgreSQL store)', sent: 'packed (now: all strings, so sent as they are)', make: freshStrings, message: sentPacked },
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
  rows.push({
    texts: c.texts,
    sent: c.sent,
    batches: jsons.length,
    megabytes: bytes / 2 ** 20,
    medianMs: median(times),
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    runs: RUNS,
  });
}
await thread.terminate();

const result = { suite: 'hub-fusion-handoff', machine: machine(), rows };
mkdirSync(new URL('../results', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/hub-fusion-handoff.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
console.table(
  rows.map((r) => ({
    texts: r.texts,
    sent: r.sent,
    batches: r.batches,
    MB: r.megabytes.toFixed(1),
    'median ms': r.medianMs.toFixed(1),
    'min ms': r.minMs.toFixed(1),
    'max ms': r.maxMs.toFixed(1),
  })),
);
