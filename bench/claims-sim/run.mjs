// The contention model's own speed, and what it says about the team's case.
//   npm run bench:claims-sim      (needs `npm run build` first)
// Speed: medians (tinybench) of simulateClaims for 1M jobs × 64 workers per strategy (target
// ≤ 1 s); optimistic-any at that size thrashes (every claimer re-claims behind the one holding
// the head rows: ~19M events) and is timed over 7 runs, with their range (a shared host's speed
// varies from run to run and from one day to the next). Then the seed-phase3 preset against the team's measured
// runs, and its proposals at 1 and 3 workers.
// Writes bench/results/claims-sim.json and prints tables.
import { mkdirSync, writeFileSync } from 'node:fs';

import { Bench } from 'tinybench';

import { machine as measuredOn } from '../lib.mjs';
import { claimPresets } from '../../dist/src/claims/index.js';
import { simulateClaims } from '../../dist/src/index.js';

const SPEED_CASES = [
  { id: '1M jobs × 64 workers, skip-locked', config: { jobs: 1_000_000, workers: 64, strategy: 'skip-locked' } },
  { id: '1M jobs × 64 workers, partitioned', config: { jobs: 1_000_000, workers: 64, strategy: 'partitioned' } },
  { id: '1M jobs × 1 worker, skip-locked', config: { jobs: 1_000_000, workers: 1, strategy: 'skip-locked' } },
  { id: '50K jobs × 3 workers, seed-phase3', config: claimPresets.seedPhase3({ workers: 3, jobs: 50_000 }) },
];
const THRASH_RUNS = 7;
const THRASH = { id: `1M jobs × 64 workers, optimistic-any (${THRASH_RUNS} runs)`, config: { jobs: 1_000_000, workers: 64, strategy: 'optimistic-any' } };

async function main() {
  const bench = new Bench({ name: 'claims-sim', throws: true, time: 0, iterations: 7, warmupIterations: 1 });
  const reports = new Map();
  for (const c of SPEED_CASES) bench.add(c.id, () => void reports.set(c.id, simulateClaims(c.config)));
  await bench.run();
  const speed = SPEED_CASES.map((c) => {
    const r = reports.get(c.id);
    return { id: c.id, medianMs: bench.tasks.find((t) => t.name === c.id).result.latency.p50, events: r.events, simulatedThroughput: r.throughput, bottleneck: r.bottleneck };
  });
  const slow = new Bench({ name: 'claims-sim-thrash', throws: true, time: 0, iterations: THRASH_RUNS, warmupIterations: 0 });
  let thrash;
  slow.add(THRASH.id, () => void (thrash = simulateClaims(THRASH.config)));
  await slow.run();
  const { latency } = slow.tasks[0].result;
  speed.push({
    id: THRASH.id,
    medianMs: latency.p50,
    minMs: latency.min,
    maxMs: latency.max,
    runs: THRASH_RUNS,
    events: thrash.events,
    simulatedThroughput: thrash.throughput,
    bottleneck: thrash.bottleneck,
  });

  const phase3 = claimPresets.seedPhase3Measured.map(({ workers, jobs, seconds }) => {
    const r = simulateClaims(claimPresets.seedPhase3({ workers, jobs }));
    return {
      workers,
      jobs,
      measuredS: seconds,
      modelS: r.elapsedMs / 1000,
      error: r.elapsedMs / 1000 / seconds - 1,
      claimsPer10s: (r.totals.claimBatches / r.runMs) * 10_000,
      claimMs: r.totals.claimMs / r.totals.claimBatches,
      bottleneck: r.bottleneck,
    };
  });
  const proposals = claimPresets.seedPhase3Report({ jobs: 50_000 });

  const machine = measuredOn();
  mkdirSync(new URL('../results', import.meta.url), { recursive: true });
  writeFileSync(new URL('../results/claims-sim.json', import.meta.url), `${JSON.stringify({ suite: 'claims-sim', machine, speed, phase3, proposals }, null, 2)}\n`);
  console.log(`\nclaims-sim — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\n`);
  console.log('| case | median ms | events | simulated jobs/s | bottleneck |\n|---|---:|---:|---:|---|');
  for (const s of speed)
    console.log(
      `| ${s.id} | ${s.medianMs.toFixed(1)}${s.runs ? ` (${s.minMs.toFixed(0)}–${s.maxMs.toFixed(0)})` : ''} | ${s.events.toLocaleString('en-US')} | ${s.simulatedThroughput.toFixed(0)} | ${s.bottleneck} |`,
    );
  console.log('\n| workers | runs | measured s | model s | error | claims / 10 s | bottleneck |\n|---:|---:|---:|---:|---:|---:|---|');
  for (const p of phase3)
    console.log(`| ${p.workers} | ${p.jobs} | ${p.measuredS} | ${p.modelS.toFixed(2)} | ${(p.error * 100).toFixed(1)}% | ${p.claimsPer10s.toFixed(0)} | ${p.bottleneck} |`);
  console.log('\n| proposal | 1 worker jobs/s | 3 workers jobs/s | speed-up | bottleneck at 3 |\n|---|---:|---:|---:|---|');
  for (const p of proposals) console.log(`| ${p.name} | ${p.oneWorker.toFixed(0)} | ${p.threeWorkers.toFixed(0)} | ${p.speedup.toFixed(2)}× | ${p.bottleneck} |`);
}

await main();
