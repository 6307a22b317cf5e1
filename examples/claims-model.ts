import { fitUsl, simulateClaims } from 'fleetscale/claims';

// Will a third worker help? Simulate the same workload at 1, 2 and 3 workers on 2 cores.
for (const workers of [1, 2, 3]) {
  const r = simulateClaims({ jobs: 20_000, workers, strategy: 'skip-locked', batchSize: 10, cores: 2 });
  console.log(`${workers} worker(s): ${Math.round(r.throughput)} jobs/s, bottleneck ${r.bottleneck}`);
}

// Or fit the Universal Scalability Law to throughputs you measured.
const usl = fitUsl([
  { n: 1, throughput: 950 },
  { n: 2, throughput: 1700 },
  { n: 4, throughput: 2600 },
]);
console.log(`USL: peak ${Math.round(usl.peakThroughput)} jobs/s at ${usl.peakN.toFixed(1)} workers`);
