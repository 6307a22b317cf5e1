// The adaptive router against the optimum and the tools people use, on simulated clusters.
//   npm run bench:router-sim      (needs `npm run build` first)
// Clusters of 2-16 nodes, speed ratios 1-50x (spread geometrically, or one fast node and the
// rest slow), overheads 0-200 ms, noise 0-30% per call, batches of 100 and 1000 items. Every
// strategy runs its real code on simulated time (VirtualClock):
//   optimal          the optimal split with the true speeds, one call per node (under the same noise)
//   adaptive-known   the adaptive router given the true speeds and their spread (noise) as priors, first batch
//   adaptive         the adaptive router learning from scratch, its 4th batch (after 3 learning batches)
//   one-node         every item in one call to the best node
//   equal-split      an equal share per node, one call each
//   self-scheduling  each node pulls one item at a time
//   flock            the embedding tool's rules (FlockRouter), its 4th batch
// The reference is the optimal finish time with known speeds and no noise; under noise each
// strategy's finish is its median over NOISY_SEEDS runs. Then: crashes
// mid-batch, a 4x slow-down's detection, and planning speed (tinybench).
// Writes bench/results/router-sim.json, a plot of each strategy's performance profile at each noise
// level (bench/results/router-sim.svg) and prints tables.
import { mkdirSync, writeFileSync } from 'node:fs';

import { Bench } from 'tinybench';

import { machine as measuredOn, median } from '../lib.mjs';
import { CostEstimator } from '../../dist/src/router/index.js';
import { ROUTE_STRATEGIES, baselineFinishMs, optimalFinishMs, profilePlot, simulateRoute } from '../../dist/src/lab/index.js';
import { planSplit } from '../../dist/src/router/index.js';
import { seededRandom } from '../../dist/src/lab/seeded-random.js';
import { NOISES, clusterOf, clusterSpecs, describeCluster } from './clusters.mjs';

const NOISY_SEEDS = 5;

const geomean = (xs) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
};

async function grid() {
  const rows = [];
  for (const spec of clusterSpecs()) {
    const { noise, items } = spec;
    const cluster = clusterOf(spec);
    const optimalMs = optimalFinishMs(cluster, items);
    const row = { ...spec, optimalMs, ...baselineFinishMs(cluster, items), finishMs: {}, lost: {} };
    // Under noise one run is one draw of every node's luck: each strategy's finish is the median
    // over NOISY_SEEDS runs (the same draws for every strategy).
    const seeds = noise > 0 ? NOISY_SEEDS : 1;
    for (const strategy of ROUTE_STRATEGIES) {
      const finishes = [];
      row.lost[strategy] = 0;
      for (let s = 0; s < seeds; s++) {
        const outcome = await simulateRoute({ nodes: cluster, items, seed: spec.seed * 100 + s }, strategy);
        finishes.push(outcome.finishMs);
        row.lost[strategy] += outcome.lost + outcome.misplaced;
      }
      row.finishMs[strategy] = median(finishes);
    }
    if (noise === 0) {
      // The true speeds without their spread: the router assumes its default 15%.
      const outcome = await simulateRoute({ nodes: cluster, items, seed: spec.seed, knownUncertainty: 'default' }, 'adaptive-known');
      row.knownDefaultUncertaintyMs = outcome.finishMs;
    }
    rows.push(row);
  }
  return rows;
}

function summarise(rows) {
  const by = (filter) => rows.filter(filter);
  const ratioTo = (subset, strategy, reference = (r) => r.optimalMs) => subset.map((r) => r.finishMs[strategy] / reference(r));
  const strategies = ROUTE_STRATEGIES.map((strategy) => {
    const all = ratioTo(rows, strategy);
    return {
      strategy,
      geomeanVsOptimal: geomean(all),
      medianVsOptimal: median(all),
      p90VsOptimal: quantile(all, 0.9),
      worstVsOptimal: Math.max(...all),
      noiseFree: geomean(
        ratioTo(
          by((r) => r.noise === 0),
          strategy,
        ),
      ),
      noise30: geomean(
        ratioTo(
          by((r) => r.noise === 0.3),
          strategy,
        ),
      ),
      lostItems: rows.reduce((s, r) => s + r.lost[strategy], 0),
    };
  });
  const against = (strategy) => {
    const worse = rows.map((r) => ({ r, ratio: r.finishMs[strategy] / Math.min(r.finishMs['one-node'], r.finishMs['equal-split']) }));
    const over = worse.filter((w) => w.ratio > 1.02);
    const worst = worse.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    const byNoise = Object.fromEntries(NOISES.map((noise) => [String(noise), over.filter((w) => w.r.noise === noise).length]));
    return {
      scenariosOver2Percent: over.length,
      scenariosOver2PercentByNoise: byNoise,
      worstRatio: worst.ratio,
      worstScenario: describeCluster(worst.r),
    };
  };
  const vsFlock = (strategy) => 1 - geomean(rows.map((r) => r.finishMs[strategy] / r.finishMs.flock));
  const knownNoiseFree = ratioTo(
    by((r) => r.noise === 0),
    'adaptive-known',
  );
  const knownDefaultNoiseFree = by((r) => r.noise === 0).map((r) => r.knownDefaultUncertaintyMs / r.optimalMs);
  const learnedNoiseFree = ratioTo(
    by((r) => r.noise === 0),
    'adaptive',
  );
  return {
    scenarios: rows.length,
    strategies,
    targets: {
      knownWithin5Percent: {
        noiseFreeWorst: Math.max(...knownNoiseFree),
        noiseFreeMedian: median(knownNoiseFree),
        share: knownNoiseFree.filter((x) => x <= 1.05).length / knownNoiseFree.length,
      },
      knownDefaultUncertaintyWithin5Percent: {
        noiseFreeWorst: Math.max(...knownDefaultNoiseFree),
        noiseFreeMedian: median(knownDefaultNoiseFree),
        share: knownDefaultNoiseFree.filter((x) => x <= 1.05).length / knownDefaultNoiseFree.length,
      },
      learnedWithin10Percent: {
        noiseFreeWorst: Math.max(...learnedNoiseFree),
        noiseFreeMedian: median(learnedNoiseFree),
        share: learnedNoiseFree.filter((x) => x <= 1.1).length / learnedNoiseFree.length,
      },
      // Under noise the reference is the optimal plan run under the same noise.
      knownVsOracleUnderNoise: geomean(by((r) => r.noise > 0).map((r) => r.finishMs['adaptive-known'] / r.finishMs.optimal)),
      learnedVsOracleUnderNoise: geomean(by((r) => r.noise > 0).map((r) => r.finishMs.adaptive / r.finishMs.optimal)),
      adaptiveVsFlockGeomeanReduction: vsFlock('adaptive'),
      knownVsFlockGeomeanReduction: vsFlock('adaptive-known'),
      adaptiveVsBetterOfOneNodeAndEqualSplit: against('adaptive'),
      knownVsBetterOfOneNodeAndEqualSplit: against('adaptive-known'),
      optimalVsBetterOfOneNodeAndEqualSplit: against('optimal'),
    },
  };
}

/** A crash mid-batch: the fastest node dies at 30% of the optimal finish time. */
async function crashes() {
  const rows = [];
  for (const nodes of [4, 8])
    for (const noise of [0, 0.1])
      for (const items of [100, 1000]) {
        const cluster = clusterOf({ nodes, ratio: 10, shape: 'spread', overheadMs: 20, noise, seed: 99 + nodes });
        const optimalMs = optimalFinishMs(cluster, items);
        cluster[0].crashAtMs = 0.3 * optimalMs;
        const survivorsMs = optimalFinishMs(cluster.slice(1), items);
        const row = { nodes, noise, items, optimalMs, survivorsOptimalMs: survivorsMs, finishMs: {}, lost: {} };
        for (const strategy of ['adaptive-known', 'adaptive', 'equal-split', 'self-scheduling', 'flock']) {
          const outcome = await simulateRoute({ nodes: cluster, items, seed: 5, learningBatches: 0 }, strategy);
          row.finishMs[strategy] = outcome.finishMs;
          row.lost[strategy] = outcome.lost + outcome.misplaced;
        }
        rows.push(row);
      }
  return rows;
}

/**
 * A node that slowed 4x: requests until the router sees it (its prediction at least 2x the old
 * speed's, halfway to the new one in ratio), and until the estimate is within 25% of the new speed.
 * With ±30% noise per call the second is at its statistical limit: even the mean of the first
 * three calls after the change misses 25% about once in 200 (Monte Carlo: 0.52%).
 */
function slowdownDetection() {
  const rows = [];
  for (const noise of [0, 0.1, 0.3]) {
    const counts = [];
    const seen = [];
    for (let trial = 0; trial < 200; trial++) {
      const random = seededRandom(1000 + trial);
      const jitter = () => 1 + noise * (2 * random() - 1);
      const estimator = new CostEstimator({ overheadMs: 20, perItemMs: 10 });
      const size = () => 20 + Math.floor(random() * 80);
      for (let i = 0; i < 20; i++) {
        const k = size();
        estimator.observe(k, (20 + 10 * k) * jitter());
      }
      let requests = 0;
      let seenAt;
      const probe = 60;
      const before = 20 + 10 * probe;
      const truth = 20 + 40 * probe;
      for (;;) {
        const k = size();
        estimator.observe(k, (20 + 40 * k) * jitter());
        requests++;
        if (seenAt === undefined && estimator.predict(probe) >= 2 * before) seenAt = requests;
        if ((seenAt !== undefined && Math.abs(estimator.predict(probe) - truth) / truth <= 0.25) || requests >= 50) break;
      }
      counts.push(requests);
      seen.push(seenAt ?? requests);
    }
    rows.push({
      noise,
      medianRequests: median(counts),
      p90Requests: quantile(counts, 0.9),
      maxRequests: Math.max(...counts),
      within3: counts.filter((c) => c <= 3).length / counts.length,
      seenMaxRequests: Math.max(...seen),
      seenWithin3: seen.filter((c) => c <= 3).length / seen.length,
    });
  }
  return rows;
}

async function planningSpeed() {
  const random = seededRandom(64);
  const cases = [
    { id: '64 nodes × 100k items', nodes: 64, items: 100_000 },
    { id: '16 nodes × 1k items', nodes: 16, items: 1000 },
    { id: '1024 nodes × 1M items', nodes: 1024, items: 1_000_000 },
  ].map((c) => ({
    ...c,
    costs: Array.from({ length: c.nodes }, () => ({ overheadMs: random() * 200, perItemMs: 1 + random() * 500, readyInMs: random() < 0.5 ? random() * 1000 : 0 })),
  }));
  const bench = new Bench({ name: 'router-plan', throws: true, time: 500 });
  for (const c of cases) bench.add(c.id, () => planSplit(c.costs, c.items));
  await bench.run();
  return cases.map((c) => {
    const task = bench.tasks.find((t) => t.name === c.id);
    return { id: c.id, medianMs: task.result.latency.p50, p99Ms: task.result.latency.p99, samples: task.result.latency.samplesCount };
  });
}

async function main() {
  const started = performance.now();
  const rows = await grid();
  const summary = summarise(rows);
  const crashRows = await crashes();
  const detection = slowdownDetection();
  const planning = await planningSpeed();
  const result = {
    suite: 'router-sim',
    machine: measuredOn(),
    wallSeconds: (performance.now() - started) / 1000,
    noisySeeds: NOISY_SEEDS,
    summary,
    crashes: crashRows,
    detection,
    planning,
    rows,
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/router-sim.json', `${JSON.stringify(result, null, 1)}\n`);
  const panels = NOISES.map((noise) => ({
    name: noise === 0 ? 'no noise' : `noise ${100 * noise}% per call (median of ${NOISY_SEEDS} runs)`,
    curves: ROUTE_STRATEGIES.map((strategy) => ({ strategy, ratios: rows.filter((r) => r.noise === noise).map((r) => r.finishMs[strategy] / r.optimalMs) })),
  }));
  writeFileSync(
    'bench/results/router-sim.svg',
    profilePlot(
      panels,
      `Share of the ${rows.length / NOISES.length} clusters at each noise level finished within x times the optimum`,
      'the optimum: the best split with the true speeds and no noise; learning strategies on their 4th batch',
    ),
  );

  const pct = (x) => `${(100 * x).toFixed(1)}%`;
  console.log(`\nrouter over ${summary.scenarios} simulated clusters (finish time / optimal with known speeds, no noise)\n`);
  console.log('| strategy | geomean | median | p90 | worst | noise 0 | noise 30% | items lost |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const s of summary.strategies) {
    console.log(
      `| ${s.strategy} | ${s.geomeanVsOptimal.toFixed(3)} | ${s.medianVsOptimal.toFixed(3)} | ${s.p90VsOptimal.toFixed(3)} | ${s.worstVsOptimal.toFixed(2)} | ${s.noiseFree.toFixed(3)} | ${s.noise30.toFixed(3)} | ${s.lostItems} |`,
    );
  }
  const t = summary.targets;
  console.log(
    `\nknown speeds, no noise: median ${t.knownWithin5Percent.noiseFreeMedian.toFixed(3)}, worst ${t.knownWithin5Percent.noiseFreeWorst.toFixed(3)}, within 5%: ${pct(t.knownWithin5Percent.share)}`,
  );
  const d = t.knownDefaultUncertaintyWithin5Percent;
  console.log(`known speeds, default uncertainty 0.15, no noise: median ${d.noiseFreeMedian.toFixed(3)}, worst ${d.noiseFreeWorst.toFixed(3)}, within 5%: ${pct(d.share)}`);
  console.log(
    `learned (4th batch), no noise: median ${t.learnedWithin10Percent.noiseFreeMedian.toFixed(3)}, worst ${t.learnedWithin10Percent.noiseFreeWorst.toFixed(3)}, within 10%: ${pct(t.learnedWithin10Percent.share)}`,
  );
  console.log(`under noise vs the optimal plan under the same noise: known ${t.knownVsOracleUnderNoise.toFixed(3)}, learned ${t.learnedVsOracleUnderNoise.toFixed(3)}`);
  console.log(`geomean finish time below flockRules: adaptive ${pct(t.adaptiveVsFlockGeomeanReduction)}, known ${pct(t.knownVsFlockGeomeanReduction)}`);
  const b = t.adaptiveVsBetterOfOneNodeAndEqualSplit;
  console.log(
    `adaptive > 2% worse than the better of one node and equal split: ${b.scenariosOver2Percent} scenarios (by noise ${JSON.stringify(b.scenariosOver2PercentByNoise)}); worst ${b.worstRatio.toFixed(3)} (${b.worstScenario})`,
  );
  const k = t.knownVsBetterOfOneNodeAndEqualSplit;
  const o = t.optimalVsBetterOfOneNodeAndEqualSplit;
  console.log(
    `the optimal plan itself > 2% worse than the better of one node and equal split: ${o.scenariosOver2Percent} scenarios (by noise ${JSON.stringify(o.scenariosOver2PercentByNoise)})`,
  );
  console.log(
    `known > 2% worse than the better of one node and equal split: ${k.scenariosOver2Percent} scenarios (by noise ${JSON.stringify(k.scenariosOver2PercentByNoise)}); worst ${k.worstRatio.toFixed(3)} (${k.worstScenario})`,
  );
  console.log('\ncrash of the fastest node at 30% of the optimal time (finish / optimum over the survivors; items lost)\n');
  console.log('| nodes | noise | items | adaptive-known | adaptive | equal-split | self-scheduling | flock |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of crashRows) {
    const cell = (s) => `${(r.finishMs[s] / r.survivorsOptimalMs).toFixed(2)} (${r.lost[s]} lost)`;
    console.log(
      `| ${r.nodes} | ${r.noise} | ${r.items} | ${cell('adaptive-known')} | ${cell('adaptive')} | ${cell('equal-split')} | ${cell('self-scheduling')} | ${cell('flock')} |`,
    );
  }
  console.log('\n4x slow-down: requests until the router sees it, and until its estimate is within 25%\n');
  for (const d of detection)
    console.log(
      `noise ${d.noise}: seen (prediction ≥ 2x the old) within 3 requests ${pct(d.seenWithin3)} (max ${d.seenMaxRequests}); within 25%: median ${d.medianRequests}, p90 ${d.p90Requests}, max ${d.maxRequests}, within 3 requests ${pct(d.within3)}`,
    );
  console.log('\nplanning speed (tinybench medians)\n');
  for (const p of planning) console.log(`${p.id}: ${(p.medianMs * 1000).toFixed(1)} µs (p99 ${(p.p99Ms * 1000).toFixed(1)} µs)`);
  console.log(`\nwall ${result.wallSeconds.toFixed(0)} s; wrote bench/results/router-sim.json`);
}

await main();
