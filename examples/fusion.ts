import { evaluate, fuse, fuseSync, generateFleet, sensorPreset, type FusionResult } from 'fleetscale/fusion';

// 2000 nodes, 5 observations each, with the truth of which observations are one event.
const { records, truth } = generateFleet({ nodes: 2000, obsPerNode: 5, seed: 42 });

const result: FusionResult = fuseSync(records); // the config defaults to sensorPreset()
const tuned = await fuse(records, sensorPreset({ timeWindowMs: 10_000, radiusM: 250 })); // on the libuv pool

const quality = evaluate(result, truth);
console.log(`${result.events.length} events from ${records.length} records; F1 ${quality.f1.toFixed(3)}, B-cubed F1 ${quality.bcubedF1.toFixed(3)}`);
console.log(`the async twin agrees: ${tuned.events.length === result.events.length}`);
