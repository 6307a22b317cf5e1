/**
 * Grids of harness runs: the settings of one cell, the cells of a grid (every combination of
 * the axes), running them one after another, and what a run measured in the form the model's
 * calibration takes.
 */
import { availableParallelism } from 'node:os';

import { lowerMedianBy } from './accuracy.js';
import { claimsError } from '../../claims/errors.js';
import { HARNESS_IDLE_MS, runClaims, type ClaimsRunOptions, type ClaimsRunReport } from './harness.js';
import type { ClaimStrategy } from '../../claims/queue.js';
import type { ClaimsMeasurement, SimulationConfig } from '../../claims/model.js';
import { seededRandom } from '../seeded-random.js';

/** What varies between cells. */
export type CellSettings = {
  workers: number;
  strategy: ClaimStrategy;
  batchSize: number;
  poolSize: number;
  flushSize: number;
  flushMs: number;
};

/** What every cell shares. */
export type Workload = {
  jobs: number;
  /** CPU time each job takes (ms). */
  workMs: number;
  /** Consumers per worker. */
  concurrency: number;
  /** Jobs each worker runs before the clock starts (default 0; see `ClaimsRunOptions`). */
  warmupJobs?: number;
};

export type GridAxes = {
  workers: readonly number[];
  strategies: readonly ClaimStrategy[];
  batchSizes: readonly number[];
  poolSizes: readonly number[];
  /** Flush settings: results per flush and longest wait (ms). */
  flushes: ReadonlyArray<{ size: number; ms: number }>;
};

/** Every combination of the axes (workers vary fastest, so a series over workers is adjacent). */
export function gridCells(axes: GridAxes): CellSettings[] {
  const cells: CellSettings[] = [];
  for (const strategy of axes.strategies)
    for (const batchSize of axes.batchSizes)
      for (const poolSize of axes.poolSizes)
        for (const flush of axes.flushes) for (const workers of axes.workers) cells.push({ workers, strategy, batchSize, poolSize, flushSize: flush.size, flushMs: flush.ms });
  return cells;
}

/** A cell's name without its worker count: the series it belongs to. */
export function seriesName(c: Omit<CellSettings, 'workers'>): string {
  return `${c.strategy} B${c.batchSize} P${c.poolSize} F${c.flushSize}/${c.flushMs}ms`;
}

export function cellName(c: CellSettings): string {
  return `${seriesName(c)} W${c.workers}`;
}

/** The simulation of a cell on this host (its cores shared by workers and database). */
export function simulationOf(c: CellSettings, w: Workload, cores = availableParallelism()): SimulationConfig {
  return {
    jobs: w.jobs,
    workers: c.workers,
    consumers: w.concurrency,
    batchSize: c.batchSize,
    strategy: c.strategy,
    optimisticSelect: 'subquery',
    poolSize: c.poolSize,
    flushSize: c.flushSize,
    flushMs: c.flushMs,
    workMs: w.workMs,
    // The harness's worker: after an empty claim it asks whether jobs are ready, claims again
    // at once if so, else waits its idle time.
    idleMs: HARNESS_IDLE_MS,
    emptyBackoffMs: 0,
    checkAfterEmpty: true,
    cores,
    setupMs: 0,
  };
}

/** What a run measured, as a calibration cell. */
export function measurementOf(r: ClaimsRunReport, config: SimulationConfig): ClaimsMeasurement {
  const t = r.totals;
  const positive = (x: number) => (Number.isFinite(x) && x > 0 ? x : undefined);
  return {
    config,
    throughput: r.throughput,
    claimMs: positive(t.claimMs / t.claimBatches),
    persistMs: positive(t.persistMs / t.persistFlushes),
    claimsPerJob: positive(t.claimBatches / r.completed),
    workerCpuMsPerJob: positive(r.cpu.workerMsPerJob),
    dbCpuMsPerJob: r.cpu.databaseMsPerJob === null ? undefined : positive(r.cpu.databaseMsPerJob),
  };
}

export type CellRun = {
  settings: CellSettings;
  /** The run whose throughput is the median of the cell's repeats (the lower of the middle two for an even count). */
  report: ClaimsRunReport;
  /** Every repeat's throughput, in the order they ran. */
  throughputs: number[];
};

/** Told after every run: the cell, that run's report, how many runs are done of how many. */
export type OnRun = (run: { settings: CellSettings; report: ClaimsRunReport }, done: number, of: number) => void;

/**
 * Runs every cell `repeats` times, one run at a time (never together: each has the machine to
 * itself), and keeps each cell's median run. The first pass runs the cells in order, later
 * passes in a shuffled order (the same for the same pass), so that something disturbing the
 * machine for a few runs in a row meets different cells in each pass and the median leaves it
 * out.
 */
export async function runCells(
  cells: readonly CellSettings[],
  workload: Workload,
  connection: Pick<ClaimsRunOptions, 'url' | 'schema'>,
  onRun?: OnRun,
  repeats = 1,
): Promise<CellRun[]> {
  if (!Number.isInteger(repeats) || repeats < 1) throw claimsError('ERR_CLAIMS_CONFIG', `repeats must be an integer of 1 or more, got ${repeats}`);
  const runs: ClaimsRunReport[][] = cells.map(() => []);
  const of = cells.length * repeats;
  let done = 0;
  for (let pass = 0; pass < repeats; pass++) {
    for (const i of passOrder(cells.length, pass)) {
      const settings = cells[i];
      const report = await runClaims({
        ...connection,
        ...settings,
        jobs: workload.jobs,
        workMs: workload.workMs,
        concurrency: workload.concurrency,
        warmupJobs: workload.warmupJobs,
      });
      runs[i].push(report);
      onRun?.({ settings, report }, ++done, of);
    }
  }
  return cells.map((settings, i) => ({ settings, report: lowerMedianBy(runs[i], (r) => r.throughput), throughputs: runs[i].map((r) => r.throughput) }));
}

/** Pass 0 in order; pass p > 0 a Fisher–Yates shuffle seeded by p (mulberry32). */
export function passOrder(n: number, pass: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  if (pass === 0) return order;
  const random = seededRandom(0x9e3779b9 * pass);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** How far apart a cell's repeats landed: (max − min) / median throughput (0 for one run). */
export function spreadOf(run: { throughputs: readonly number[]; report: { throughput: number } }): number {
  const t = run.throughputs;
  return t.length < 2 ? 0 : (Math.max(...t) - Math.min(...t)) / run.report.throughput;
}
