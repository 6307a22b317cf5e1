// Every autoscaler preset side by side over load traces, on the simulator's service model.
//   npm run bench:autoscale      (needs `npm run build` first)
// Service: one replica finishes 50 items/s, a new one serves 30 s after it is asked for,
// decisions every 15 s, SLO 2 s per item; 3 replicas at the start, min 1, max 60 (the wake
// trace: min 0, starting from 0). Traces of 2 hours, base 100 items/s, noise 10% per second
// (flat: 20%), 5 seeds each; the figures are medians over the seeds.
//   hpa          Kubernetes' HPA with CPU 70%, lag 50 per replica and p99 2 s targets
//   hpa-cpu      Kubernetes' HPA with the CPU target alone
//   pipestream   the streaming platform's rules (its CPU-module pool; GPU pool for wake)
//   predictive   fleetscale's lag-growth rule, the same targets as hpa
// Then the speed of decide() (tinybench). Writes bench/results/autoscale-sim.json and a plot of
// the bursty trace's first seed, bench/results/autoscale-bursty.svg.
import { mkdirSync, writeFileSync } from 'node:fs';

import { Bench } from 'tinybench';

import { machine, median } from '../lib.mjs';
import { createAutoscaler } from '../../dist/src/index.js';
import { makeTrace, replayPlot, simulateAutoscaler, TRACE_SHAPES } from '../../dist/src/lab/index.js';

const SEEDS = [1, 2, 3, 4, 5];
const SECONDS = 7200;
const SERVICE = { perReplicaRate: 50, coldStartS: 30, intervalS: 15, sloMs: 2000 };
const TARGETS = { cpu: 0.7, lag: 50, p99Ms: 2000 };

/** The presets, for a pool with `min` replicas at least. */
const PRESETS = {
  hpa: (min) => ({ preset: 'hpa', min, max: 60, targets: TARGETS }),
  'hpa-cpu': (min) => ({ preset: 'hpa', min, max: 60, targets: { cpu: TARGETS.cpu } }),
  pipestream: (min) => (min === 0 ? { preset: 'pipestream', pool: 'gpu', max: 60 } : { preset: 'pipestream', pool: 'cpu', min, max: 60 }),
  predictive: (min) => ({ preset: 'predictive', min, max: 60, targets: TARGETS }),
};

mkdirSync(new URL('../results', import.meta.url), { recursive: true });
const rows = [];
/** The bursty trace's first-seed runs, for the plot. */
const burstyPanels = [];
for (const shape of TRACE_SHAPES) {
  const min = shape === 'wake' ? 0 : 1;
  for (const [preset, options] of Object.entries(PRESETS)) {
    const runs = SEEDS.map((seed) => {
      const trace = makeTrace(shape, { seconds: SECONDS, base: 100, noise: shape === 'flat' ? 0.2 : 0.1, seed });
      return simulateAutoscaler(createAutoscaler(options(min)), trace, { ...SERVICE, initialReplicas: min === 0 ? 0 : 3 });
    });
    if (shape === 'bursty') {
      const r = runs[0];
      burstyPanels.push({
        name: preset,
        result: r,
        summary: `${(r.replicaSeconds / 3600).toFixed(1)} h of replicas, ${r.sloViolationSeconds} s over the SLO, ${r.reversals} reversals`,
      });
    }
    const wakes = runs.flatMap((r) => r.wakes);
    rows.push({
      trace: shape,
      preset,
      replicaHours: median(runs.map((r) => r.replicaSeconds / 3600)),
      sloViolationSeconds: median(runs.map((r) => r.sloViolationSeconds)),
      reversals: median(runs.map((r) => r.reversals)),
      reversalsPer10Min: median(runs.map((r) => r.reversals / (SECONDS / 600))),
      decisions: median(runs.map((r) => r.decisions.length)),
      wakes: wakes.length,
      wakeDecisionS: wakes.length ? Math.max(...wakes.map((w) => w.decisionS)) : null,
      wakeReadyS: wakes.length ? Math.max(...wakes.map((w) => w.readyS)) : null,
      lostItems: Math.max(...runs.map((r) => Math.abs(r.items.arrived - r.items.finished - r.items.waiting))),
      perSeed: runs.map((r) => ({ replicaHours: r.replicaSeconds / 3600, sloViolationSeconds: r.sloViolationSeconds, reversals: r.reversals })),
    });
  }
}

// decide() speed: a policy is called once per interval, but a fleet of pools or a replay calls it a lot.
const bench = new Bench({ time: 300 });
const burst = makeTrace('bursty', { seconds: SECONDS, seed: 1 });
for (const [preset, options] of Object.entries(PRESETS)) {
  bench.add(`${preset}: a 2-hour bursty trace (480 decisions)`, () => {
    simulateAutoscaler(createAutoscaler(options(1)), burst, { ...SERVICE, initialReplicas: 3 });
  });
}
await bench.run();
const speed = bench.tasks.map((t) => ({ id: t.name, medianMs: t.result.latency.p50 }));

writeFileSync(
  new URL('../results/autoscale-bursty.svg', import.meta.url),
  replayPlot(
    burstyPanels,
    SERVICE.perReplicaRate,
    `Every preset on the bursty trace (seed ${SEEDS[0]})`,
    `one replica ${SERVICE.perReplicaRate} items/s, cold start ${SERVICE.coldStartS} s, decisions every ${SERVICE.intervalS} s, SLO ${SERVICE.sloMs} ms`,
  ),
);

const by = (trace, preset) => rows.find((r) => r.trace === trace && r.preset === preset);
const bursty = { hpa: by('bursty', 'hpa'), predictive: by('bursty', 'predictive') };
const perSeedWins = bursty.hpa.perSeed.map((h, k) => {
  const p = bursty.predictive.perSeed[k];
  return { sloReduction: 1 - p.sloViolationSeconds / h.sloViolationSeconds, replicaRatio: p.replicaHours / h.replicaHours };
});
const result = {
  suite: 'autoscale-sim',
  machine: machine(),
  service: SERVICE,
  targets: TARGETS,
  seconds: SECONDS,
  seeds: SEEDS,
  rows,
  speed,
  bursty: { perSeed: perSeedWins },
};
writeFileSync(new URL('../results/autoscale-sim.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
const f = (v, d = 1) => (v === null || v === undefined ? '—' : v.toFixed(d));
console.table(
  rows.map((r) => ({
    trace: r.trace,
    preset: r.preset,
    'replica h': f(r.replicaHours),
    'SLO-viol s': f(r.sloViolationSeconds, 0),
    reversals: f(r.reversals, 0),
    'wake s': f(r.wakeDecisionS, 0),
    'wake ready s': f(r.wakeReadyS, 0),
  })),
);
console.table(perSeedWins);
console.table(speed);
