/** `fleetscale lab fusion compare`: a generated fleet fused in-process, old algorithm beside the new one. */
import { Worker } from 'node:worker_threads';

import { builtEntry } from '../../built-entry.js';
import { numberOption, parseArgs } from '../../cli/args.js';
import { Ticker } from '../../cli/progress.js';
import { evaluate, evaluateBlocking } from '../../fusion/evaluate.js';
import { fuseSync } from '../../fusion/fuse.js';
import { generateFleet } from '../../fusion/generate.js';
import type { FusedEvent, SensorRecord } from '../../fusion/types.js';

export const compareUsage = `fleetscale lab fusion compare [--nodes 2000] [--obs-per-node 5] [--seed 42] [--runs 5] [--no-legacy]
  Generates a fleet, fuses it with the global index and with the legacy per-node-pair loop,
  and prints the cost of each beside the quality of the result (on a TTY the legacy loop shows
  its running time: about 2 s for 2000 nodes, growing with their square).
  example: fleetscale lab fusion compare --nodes 500`;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The legacy per-node-pair loop on a worker thread (the built script beside this module), timed there. */
function legacyFusion(records: readonly SensorRecord[]): Promise<{ ms: number; events: FusedEvent[]; candidates: number }> {
  const entry = builtEntry(import.meta.url, 'legacy-fusion-worker.js');
  if (!entry) return Promise.reject(new Error('the legacy loop needs the built package: dist/src/lab/cli/legacy-fusion-worker.js is missing (npm run build)'));
  return new Promise((resolve, reject) => {
    const worker = new Worker(entry, { workerData: { records } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`the legacy loop's thread exited with code ${code}`)));
  });
}

export async function compareCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['no-legacy'], ['nodes', 'obs-per-node', 'seed', 'runs']);
  const nodes = numberOption(args, 'nodes', 2000, { integer: true, min: 2 });
  const obsPerNode = numberOption(args, 'obs-per-node', 5, { integer: true, min: 1 });
  const seed = numberOption(args, 'seed', 42, { integer: true, min: 0 });
  const runs = numberOption(args, 'runs', 5, { integer: true, min: 1 });
  const log = (s: string): void => void process.stdout.write(`${s}\n`);

  const fleet = generateFleet({ nodes, obsPerNode, seed });
  const n = fleet.records.length;
  const nodePairs = (nodes * (nodes - 1)) / 2;
  log(`fleetscale lab fusion compare: ${nodes} nodes × ${obsPerNode} observations = ${n} records (seed ${seed})`);

  const times: number[] = [];
  // Warm-up: the first calls include JIT compilation of the facade.
  let result = fuseSync(fleet.records);
  for (let i = 0; i < 3; i++) result = fuseSync(fleet.records);
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    result = fuseSync(fleet.records);
    times.push(performance.now() - t);
  }
  const indexMs = median(times);
  const quality = evaluate(result, fleet.truth);
  const blocking = evaluateBlocking(fleet.records, fleet.truth);
  const multi = result.events.filter((e) => e.members.length > 1).length;

  log('');
  log(`global blocking index (fuseSync, median of ${runs} after warm-up): ${indexMs.toFixed(1)} ms`);
  log(`  ${result.stats.blocks} blocks (largest ${result.stats.largestBlock}), ${result.stats.candidates} candidate pairs, ${result.stats.matched} matched`);
  log(`  ${result.events.length} events, ${multi} seen by more than one node`);
  if (!args.options.has('no-legacy')) {
    log('');
    log(`legacy per-node-pair loop (fusePairwise): ${nodePairs.toLocaleString('en-US')} node pairs …`);
    const ticker = new Ticker();
    ticker.start('  legacy loop running');
    const legacy = await legacyFusion(fleet.records).finally(() => ticker.stop());
    const legacyMs = legacy.ms;
    const same = JSON.stringify(legacy.events) === JSON.stringify(result.events);
    log(`  ${legacyMs.toFixed(0)} ms, ${legacy.candidates} candidate pairs, same events: ${same ? 'yes' : 'NO'}`);
    log(`  the global index is ${(legacyMs / indexMs).toFixed(0)}× faster`);
  }
  log('');
  log('quality against the generator truth:');
  log(`  pairwise precision ${quality.precision.toFixed(4)}, recall ${quality.recall.toFixed(4)}, F1 ${quality.f1.toFixed(4)}`);
  log(`  B-cubed F1 ${quality.bcubedF1.toFixed(4)}`);
  log(`  pairs completeness ${blocking.pairsCompleteness.toFixed(4)}, reduction ratio ${blocking.reductionRatio.toFixed(6)}`);
}
