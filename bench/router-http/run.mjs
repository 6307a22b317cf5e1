// The adaptive router against the embedding tool's rules and the simple splits, over real HTTP
// nodes on 127.0.0.1 (bench/router-http/nodes.mjs: injected overhead and per-item delays).
//   npm run bench:router-http      (needs `npm run build` first)
// Per scenario and strategy: 3 learning batches, then 5 measured batches; medians of wall time.
// Writes bench/results/router-http.json and prints a table.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

import { machine as measuredOn, median } from '../lib.mjs';
import { AdaptiveRouter, planSplit } from '../../dist/src/router/index.js';
import { FlockRouter, costsOf, optimalFinishMs } from '../../dist/src/lab/index.js';
import { equalSplitCounts } from '../../dist/src/router/plan.js';

const SCENARIOS = [
  {
    id: "the tool's example (1 fast, 2 at 10x)",
    items: 100,
    nodes: [
      { perItemMs: 10, overheadMs: 5 },
      { perItemMs: 100, overheadMs: 5 },
      { perItemMs: 100, overheadMs: 5 },
    ],
  },
  { id: '4 nodes spread 1-10x, 20 ms overhead', items: 400, nodes: [2, 4.3, 9.3, 20].map((a) => ({ perItemMs: a, overheadMs: 20 })) },
  { id: '8 equal nodes, 10 ms overhead', items: 400, nodes: Array.from({ length: 8 }, () => ({ perItemMs: 5, overheadMs: 10 })) },
  {
    id: '3 nodes, one far (300 ms overhead)',
    items: 200,
    nodes: [
      { perItemMs: 5, overheadMs: 5 },
      { perItemMs: 5, overheadMs: 5 },
      { perItemMs: 2, overheadMs: 300 },
    ],
  },
];
const LEARNING = 3;
const MEASURED = 5;

async function startNodes(specs) {
  const child = spawn(process.execPath, [new URL('./nodes.mjs', import.meta.url).pathname, JSON.stringify(specs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  return { child, urls: JSON.parse(line).ports.map((p) => `http://127.0.0.1:${p}/`) };
}

async function post(url, items) {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(items), headers: { 'content-type': 'application/json' } });
  return response.json();
}

async function timed(batches, runBatch) {
  const times = [];
  for (let b = 0; b < batches; b++) {
    const started = performance.now();
    await runBatch(b);
    times.push(performance.now() - started);
  }
  return times;
}

async function scenario(s) {
  const { child, urls } = await startNodes(s.nodes);
  const batch = (b) => Array.from({ length: s.items }, (_, i) => ({ b, i }));
  const costs = costsOf(s.nodes);
  const row = { id: s.id, items: s.items, optimalMs: optimalFinishMs(s.nodes, s.items), medians: {} };
  try {
    const adaptive = new AdaptiveRouter({ nodes: urls.map((url, i) => ({ id: `n${i + 1}`, url })) });
    await timed(LEARNING, (b) => adaptive.run(batch(b)));
    row.medians.adaptive = median(await timed(MEASURED, (b) => adaptive.run(batch(100 + b))));
    row.learned = adaptive.stats().map((n) => ({ id: n.id, overheadMs: n.estimate.overheadMs, perItemMs: n.estimate.perItemMs }));

    const known = new AdaptiveRouter({ nodes: urls.map((url, i) => ({ id: `n${i + 1}`, url, ...costs[i] })) });
    row.medians['adaptive-known'] = median(await timed(MEASURED, (b) => known.run(batch(200 + b))));

    const flock = new FlockRouter({ nodes: urls.map((url, i) => ({ id: `n${i + 1}`, url, latencyMs: s.nodes[i].overheadMs })) });
    await timed(LEARNING, (b) => flock.run(batch(b)));
    let decision;
    row.medians.flock = median(await timed(MEASURED, async (b) => (decision = (await flock.run(batch(300 + b))).decision)));
    row.flockDecision = decision.reason;

    const split = (counts) => async (b) => {
      const items = batch(400 + b);
      let next = 0;
      await Promise.all(counts.map((count, i) => (count === 0 ? null : post(urls[i], items.slice(next, (next += count))))));
    };
    row.medians['equal-split'] = median(await timed(MEASURED, split(equalSplitCounts(costs, s.items))));
    row.medians['one-node'] = median(await timed(MEASURED, split(planSplit(costs, s.items, 'sequential').counts)));
    row.medians['optimal plan'] = median(await timed(MEASURED, split(planSplit(costs, s.items).counts)));
  } finally {
    child.kill();
  }
  return row;
}

async function main() {
  const rows = [];
  for (const s of SCENARIOS) rows.push(await scenario(s));
  const result = { suite: 'router-http', machine: measuredOn(), learningBatches: LEARNING, measuredBatches: MEASURED, rows };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/router-http.json', `${JSON.stringify(result, null, 1)}\n`);
  const strategies = ['optimal plan', 'adaptive-known', 'adaptive', 'one-node', 'equal-split', 'flock'];
  console.log(`\nrouter over real HTTP nodes on 127.0.0.1 (median ms of ${MEASURED} batches; optimal = predicted with known speeds)\n`);
  console.log(`| scenario | items | optimal | ${strategies.join(' | ')} | flock's rule |`);
  console.log(`|---|---|---|${strategies.map(() => '---').join('|')}|---|`);
  for (const r of rows) console.log(`| ${r.id} | ${r.items} | ${r.optimalMs.toFixed(0)} | ${strategies.map((k) => r.medians[k].toFixed(0)).join(' | ')} | ${r.flockDecision} |`);
  console.log('\nwrote bench/results/router-http.json');
}

await main();
