/**
 * Grids of harness runs: the settings of one cell, the cells of a grid (every combination of
 * the axes), running them one after another, and what a run measured in the form the model's
 * calibration takes.
 */
import { availableParallelism } from 'node:os';

import { runClaims, type ClaimsRunOptions, type ClaimsRunReport } from './harness.js';
import type { ClaimStrategy } from './queue.js';
import type { ClaimsMeasurement, SimulationConfig } from './model.js';
import { DEFAULT_IDLE_MS } from './worker.js';

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
        for (const flush of axes.flushes)
          for (const workers of axes.workers) cells.push({ workers, strategy, batchSize, poolSize, flushSize: flush.size, flushMs: flush.ms });
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
    // The claims worker: after an empty claim it asks whether jobs are ready, claims again at
    // once if so, else waits its idle time.
    idleMs: DEFAULT_IDLE_MS,
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

export type CellRun = { settings: CellSettings; report: ClaimsRunReport };

/**
 * Runs the cells one after another (never together: each has the machine to itself) and
 * tells `onCell` after each.
 */
export async function runCells(
  cells: readonly CellSettings[],
  workload: Workload,
  connection: Pick<ClaimsRunOptions, 'url' | 'schema'>,
  onCell?: (done: CellRun, index: number) => void,
): Promise<CellRun[]> {
  const out: CellRun[] = [];
  for (const [i, settings] of cells.entries()) {
    const report = await runClaims({ ...connection, ...settings, jobs: workload.jobs, workMs: workload.workMs, concurrency: workload.concurrency });
    out.push({ settings, report });
    onCell?.(out[out.length - 1], i);
  }
  return out;
}
