import { describe, expect, it } from 'vitest';

import { candidatePairs, evaluateBlocking } from '../src/fusion/index.js';
import { fusePairwise } from '../src/lab/index.js';
import { fuseSync, generateFleet, type FusionConfig } from '../src/index.js';
import { seededRandom } from '../src/lab/seeded-random.js';

describe('index, legacy loop and brute force agree', () => {
  it('on random fleets, edge-stress included', () => {
    const rand = seededRandom(2026);
    for (let round = 0; round < 24; round++) {
      const nodes = 2 + Math.floor(rand() * 60);
      const obsPerNode = 1 + Math.floor(rand() * 6);
      const edgeStress = round % 2 === 0;
      const noise = rand() * 3;
      const { records } = generateFleet({ nodes, obsPerNode, seed: round, noise, edgeStress });
      const index = candidatePairs(records, undefined, 'index');
      const legacy = candidatePairs(records, undefined, 'pairwise');
      const brute = candidatePairs(records, undefined, 'brute');
      expect(index).toEqual(brute);
      expect(legacy).toEqual(brute);
      expect(fusePairwise(records).events).toEqual(fuseSync(records).events);
    }
  });

  it('on a multi-pass generic schema with prefixes, windows and radii', () => {
    const rand = seededRandom(7);
    const names = ['anna', 'annie', 'ann', 'bob', 'bobby', 'carla', 'carl', 'zoë', 'zoe'];
    const records = Array.from({ length: 300 }, (_, i) => ({
      id: `r${i}`,
      node: `n${Math.floor(rand() * 8)}`,
      name: names[Math.floor(rand() * names.length)],
      score: Math.floor(rand() * 20) * 0.5,
      at: { lat: 89.999 + rand() * 0.001, lon: rand() * 360 - 180 },
    }));
    const config: FusionConfig = {
      fields: [
        { name: 'name', kind: 'text' },
        { name: 'score', kind: 'number' },
        { name: 'at', kind: 'geo' },
      ],
      blocking: [
        {
          parts: [
            { field: 'name', prefix: 3 },
            { field: 'score', within: 1 },
          ],
        },
        { parts: [{ field: 'at', within: 80 }] },
        { parts: [{ field: 'name', exact: true }] },
      ],
      comparators: [{ field: 'name', levels: [{ jaroWinkler: 0.9, m: 0.9, u: 0.1 }], otherwise: { m: 0.1, u: 0.9 } }],
      prior: 0.1,
      threshold: 0.5,
    };
    const brute = candidatePairs(records, config, 'brute');
    expect(brute.length).toBeGreaterThan(100);
    expect(candidatePairs(records, config, 'index')).toEqual(brute);
    expect(candidatePairs(records, config, 'pairwise')).toEqual(brute);
    expect(fusePairwise(records, config).events).toEqual(fuseSync(records, config).events);
  });

  it('keeps every true pair on edge-stress fleets', () => {
    for (const seed of [1, 2]) {
      const fleet = generateFleet({ nodes: 1000, obsPerNode: 5, seed, edgeStress: true });
      const q = evaluateBlocking(fleet.records, fleet.truth);
      expect(q.pairsCompleteness).toBeGreaterThanOrEqual(0.995);
      expect(q.reductionRatio).toBeGreaterThan(0.99);
    }
  });
});
