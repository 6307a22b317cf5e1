// The simulated clusters the router benchmarks share: 2-16 nodes, speed ratios 1-50x (spread
// geometrically, or one fast node and the rest slow), overheads 0-200 ms (±50% per node), noise
// 0-30% per call, batches of 100 and 1000 items. Each cluster has its own seed.
import { seededRandom } from '../../dist/src/lab/seeded-random.js';

export const NODE_COUNTS = [2, 4, 8, 16];
export const RATIOS = [1, 3, 10, 50];
export const SHAPES = ['spread', 'one-fast'];
export const OVERHEADS = [0, 20, 200];
export const NOISES = [0, 0.1, 0.3];
export const SIZES = [100, 1000];
const FASTEST_MS = 10;

/** The nodes of one cluster. */
export function clusterOf({ nodes, ratio, shape, overheadMs, noise, seed }) {
  const random = seededRandom(seed);
  return Array.from({ length: nodes }, (_, i) => {
    const slowness = shape === 'spread' ? ratio ** (i / (nodes - 1)) : i === 0 ? 1 : ratio;
    return {
      id: `n${i + 1}`,
      perItemMs: FASTEST_MS * slowness,
      // Overheads vary ±50% around the scenario's.
      overheadMs: overheadMs * (0.5 + random()),
      noise,
    };
  });
}

/** Every cluster of the grid, in a fixed order: { nodes, ratio, shape, overheadMs, noise, items, seed }. */
export function clusterSpecs() {
  const specs = [];
  let seed = 1;
  for (const nodes of NODE_COUNTS)
    for (const ratio of RATIOS)
      for (const shape of SHAPES) {
        if (ratio === 1 && shape === 'one-fast') continue;
        for (const overheadMs of OVERHEADS) for (const noise of NOISES) for (const items of SIZES) specs.push({ nodes, ratio, shape, overheadMs, noise, items, seed: seed++ });
      }
  return specs;
}

/** How a cluster is named in reports. */
export const describeCluster = (c) => `${c.nodes} nodes, ${c.shape} ${c.ratio}x, overhead ${c.overheadMs} ms, noise ${c.noise}, ${c.items} items`;
