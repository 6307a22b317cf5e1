/**
 * The contention model through the public API: simulations conserve jobs and repeat for a
 * seed, the async twin agrees, the USL fit recovers known coefficients, calibration recovers
 * known costs from simulated measurements, the team's preset reproduces their figures, and
 * every caller mistake is a coded error.
 */
import { describe, expect, it } from 'vitest';

import { calibrateClaims } from '../src/lab/index.js';
import { claimPresets, fitUsl, simulateClaimsAsync } from '../src/claims/index.js';
import { isFleetscaleError, simulateClaims, type SimulationConfig } from '../src/index.js';

const PERF_WINDOW_KEYS = [
  'index',
  'claimBatches',
  'claimMs',
  'claimedJobs',
  'partialBatches',
  'emptyClaims',
  'persistFlushes',
  'persistMs',
  'workMs',
  'completed',
  'failed',
].sort();

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    expect(isFleetscaleError(e)).toBe(true);
    return (e as { code: string }).code;
  }
  return undefined;
}

describe('simulateClaims', () => {
  it('runs every job once, in the perf windows the queue reports, and repeats for a seed', () => {
    const config: SimulationConfig = { jobs: 30_000, workers: 3, strategy: 'optimistic-any', windowMs: 1000 };
    const report = simulateClaims(config);
    expect(report.completed).toBe(30_000);
    expect(report.totals.claimedJobs).toBe(30_000);
    expect(report.windows.length).toBeGreaterThan(1);
    for (const w of report.windows) expect(Object.keys(w).sort()).toEqual(PERF_WINDOW_KEYS);
    expect(report.windows.reduce((n, w) => n + w.completed, 0)).toBe(30_000);
    expect(report.throughput).toBeCloseTo(30_000 / (report.elapsedMs / 1000), 6);
    expect(report.totals.emptyClaims).toBeGreaterThan(0);
    expect(['cpu', 'worker-loop', 'commit', 'row-locks', 'pool', 'latency']).toContain(report.bottleneck);
    expect(simulateClaims(config)).toEqual(report);
    expect(simulateClaims({ ...config, seed: 2 })).not.toEqual(report);
  });

  it('has an async twin that gives the same report', async () => {
    const config: SimulationConfig = { jobs: 10_000, workers: 2, strategy: 'partitioned' };
    expect(await simulateClaimsAsync(config)).toEqual(simulateClaims(config));
  });

  it('shows skip-locked workers scaling where optimistic-any ones collide', () => {
    const at = (strategy: SimulationConfig['strategy'], workers: number) => simulateClaims({ jobs: 20_000, workers, strategy, cores: 8, workMs: 0.5 });
    // Job-bound workers: each worker's event loop is the limit, so more workers help…
    expect(at('skip-locked', 3).throughput / at('skip-locked', 1).throughput).toBeGreaterThan(2.5);
    expect(at('skip-locked', 3).bottleneck).toBe('worker-loop');
    // …and optimistic-any claimers lose claims to each other on the way.
    expect(at('optimistic-any', 3).totals.emptyClaims).toBeGreaterThan(100 * at('skip-locked', 3).totals.emptyClaims);
    expect(at('optimistic-any', 3).throughput).toBeLessThan(at('skip-locked', 3).throughput);
    // Claim-bound (no work): optimistic-any serialises on the head rows and falls behind.
    const claimBound = (strategy: SimulationConfig['strategy']) => simulateClaims({ jobs: 20_000, workers: 3, strategy, cores: 8 }).throughput;
    expect(claimBound('optimistic-any')).toBeLessThan(claimBound('skip-locked') / 2);
  });

  it('refuses bad configs with ERR_CLAIMS_CONFIG, sync and async', async () => {
    expect(codeOf(() => simulateClaims({ workers: 0 }))).toBe('ERR_CLAIMS_CONFIG');
    expect(codeOf(() => simulateClaims({ strategy: 'fastest' as never }))).toBe('ERR_CLAIMS_CONFIG');
    expect(codeOf(() => simulateClaims({ costs: { commitMs: -1 } }))).toBe('ERR_CLAIMS_CONFIG');
    expect(codeOf(() => simulateClaims({ wokers: 3 } as never))).toBe('ERR_CLAIMS_CONFIG');
    expect(codeOf(() => simulateClaims(null as never))).toBe('ERR_CLAIMS_CONFIG');
    expect(codeOf(() => simulateClaims([1, 2] as never))).toBe('ERR_CLAIMS_CONFIG');
    expect(codeOf(() => simulateClaims({ jobs: 10n } as never))).toBe('ERR_CLAIMS_CONFIG');
    await expect(simulateClaimsAsync({ batchSize: 0 })).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG', message: expect.stringContaining('batchSize') });
    expect(codeOf(() => simulateClaims({ cpuGrowth: [{ workers: 0, worker: 1, db: 1 }] }))).toBe('ERR_CLAIMS_CONFIG');
    expect(
      codeOf(() =>
        simulateClaims({
          cpuGrowth: [
            { workers: 2, worker: 1, db: 1 },
            { workers: 2, worker: 1.2, db: 1 },
          ],
        }),
      ),
    ).toBe('ERR_CLAIMS_CONFIG');
  });

  it('grows statement CPU with the worker count along a given curve, and not at all for one worker', () => {
    const cpuGrowth = [
      { workers: 1, worker: 1, db: 1 },
      { workers: 8, worker: 1.5, db: 1.3 },
    ];
    const at = (workers: number, growth?: typeof cpuGrowth) => simulateClaims({ jobs: 5000, workers, batchSize: 10, workMs: 0.1, cores: 2, cpuGrowth: growth });
    expect(at(1, cpuGrowth)).toEqual(at(1));
    const [plain, grown] = [at(8), at(8, cpuGrowth)];
    // Every statement dearer on both sides: more CPU per job, so fewer jobs/s on 2 busy cores.
    expect(grown.waits.workerCpuMs).toBeGreaterThan(plain.waits.workerCpuMs);
    expect(grown.waits.dbCpuMs).toBeGreaterThan(plain.waits.dbCpuMs);
    expect(grown.throughput).toBeLessThan(plain.throughput);
  });
});

describe('fitUsl', () => {
  const usl = (n: number, s: number, k: number, l: number) => (l * n) / (1 + s * (n - 1) + k * n * (n - 1));

  it('recovers known σ, κ and λ, and the peak', () => {
    const points = [1, 2, 3, 4, 6, 8, 12, 16].map((n) => ({ n, throughput: usl(n, 0.08, 0.004, 950) }));
    const fit = fitUsl(points);
    expect(fit.sigma).toBeCloseTo(0.08, 3);
    expect(fit.kappa).toBeCloseTo(0.004, 4);
    expect(fit.lambda).toBeCloseTo(950, 0);
    expect(fit.peakN).toBeCloseTo(Math.sqrt(0.92 / 0.004), 0);
    expect(fit.rSquared).toBeGreaterThan(0.9999);
  });

  it('reports an unbounded peak when there is no coherency cost', () => {
    const fit = fitUsl([1, 2, 4, 8].map((n) => ({ n, throughput: usl(n, 0.2, 0, 100) })));
    expect(fit.kappa).toBeLessThan(1e-6);
    expect(fit.peakN).toBe(Infinity);
    expect(fit.peakThroughput).toBeCloseTo(100 / 0.2, -1);
  });

  it('refuses too few or bad points with ERR_CLAIMS_CONFIG', () => {
    expect(
      codeOf(() =>
        fitUsl([
          { n: 1, throughput: 1 },
          { n: 2, throughput: 2 },
        ]),
      ),
    ).toBe('ERR_CLAIMS_CONFIG');
    expect(
      codeOf(() =>
        fitUsl([
          { n: 1, throughput: 1 },
          { n: 2, throughput: -2 },
          { n: 3, throughput: 3 },
        ]),
      ),
    ).toBe('ERR_CLAIMS_CONFIG');
    expect(codeOf(() => fitUsl({} as never))).toBe('ERR_CLAIMS_CONFIG');
    expect(codeOf(() => fitUsl([{ n: 'one', throughput: 1 }] as never))).toBe('ERR_CLAIMS_CONFIG');
  });
});

describe('calibrateClaims', () => {
  it('recovers the costs that produced simulated single-worker measurements', async () => {
    const truth = { commitMs: 1.5, dbClaimMs: 0.6 };
    const cells = [5, 20, 80].map((batchSize) => {
      const config: SimulationConfig = { jobs: 4000, batchSize, seed: batchSize };
      const r = simulateClaims({ ...config, costs: truth });
      return { config, throughput: r.throughput, claimMs: r.totals.claimMs / r.totals.claimBatches };
    });
    const cal = await calibrateClaims({ base: { costs: { commitMs: 0.5, dbClaimMs: 0.2 } }, cells, fit: ['commitMs', 'dbClaimMs'], maxEvaluations: 200 });
    expect(cal.config.costs.commitMs).toBeGreaterThan(1.5 * 0.85);
    expect(cal.config.costs.commitMs).toBeLessThan(1.5 * 1.15);
    expect(cal.config.costs.dbClaimMs).toBeGreaterThan(0.6 * 0.7);
    expect(cal.config.costs.dbClaimMs).toBeLessThan(0.6 * 1.3);
    for (const cell of cal.cells) expect(Math.abs(cell.throughputError)).toBeLessThan(0.03);
  });

  it('refuses a bad request before it is queued', async () => {
    await expect(calibrateClaims({ cells: [] })).rejects.toMatchObject({ code: 'ERR_CLAIMS_CONFIG' });
    await expect(calibrateClaims({ cells: [{ config: {}, throughput: 100 }], fit: ['colour' as never] })).rejects.toMatchObject({
      code: 'ERR_CLAIMS_CONFIG',
      message: expect.stringContaining('colour'),
    });
    await expect(calibrateClaims({ cells: [{ config: { workers: -1 }, throughput: 100 }] })).rejects.toMatchObject({ message: expect.stringContaining('cells[0].config') });
    await expect(calibrateClaims({ cells: [{ config: {}, throughput: 0 }] })).rejects.toMatchObject({ message: expect.stringContaining('cells[0].throughput') });
  });
});

describe('claimPresets.seedPhase3', () => {
  it('reproduces what the team measured within 5%', () => {
    for (const { workers, jobs, seconds } of claimPresets.seedPhase3Measured) {
      const r = simulateClaims(claimPresets.seedPhase3({ workers, jobs }));
      expect(Math.abs(r.elapsedMs / 1000 / seconds - 1), `${workers} workers, ${jobs} runs`).toBeLessThanOrEqual(0.05);
      expect(r.bottleneck).toBe('row-locks');
    }
  });

  it('predicts their proposals flat and skip-locked or partitions scaling', () => {
    const report = claimPresets.seedPhase3Report({ jobs: 20_000 });
    const speedup = (name: string) => report.find((p) => p.name === name)!.speedup;
    for (const name of ['as measured', 'batch 20', 'batch 50', 'pool 10', 'pool 100', 'persist 100', 'persist 200', 'flush 1000 ms']) expect(speedup(name), name).toBeLessThan(1.1);
    expect(speedup('skip-locked')).toBeGreaterThanOrEqual(1.5);
    expect(speedup('partitioned')).toBeGreaterThanOrEqual(1.5);
    expect(claimPresets.seedPhase3Calibration().cells).toHaveLength(4);
    expect(codeOf(() => claimPresets.seedPhase3({ workers: 0 }))).toBe('ERR_CLAIMS_CONFIG');
    expect(codeOf(() => claimPresets.seedPhase3({ jobs: 1.5 }))).toBe('ERR_CLAIMS_CONFIG');
  });
});
