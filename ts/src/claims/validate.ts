/**
 * Checks the contention model against this machine: calibrates its costs on single-worker runs
 * only, predicts every held-out cell (2 or more workers) before running it, then runs them and
 * reports the error per cell, MAPE, the worst cell, the error of the predicted speedup over one
 * worker, and Spearman's ρ between the predicted and measured ordering of the cells. It also
 * lets the model pick, in advance, the settings it expects to run fastest with `pickWorkers`
 * workers, and measures that pick's speedup over one worker.
 */
import { availableParallelism, cpus } from 'node:os';

import { mape, median, relativeError, spearman } from './accuracy.js';
import { claimsError, numberOption } from './errors.js';
import { cellName, gridCells, measurementOf, runCells, seriesName, simulationOf, spreadOf, type CellRun, type CellSettings, type GridAxes, type Workload } from './grid.js';
import { probeDeadEntries, type DeadEntryProbe } from './dead-entry-probe.js';
import { probeSchedulerSlice, type SliceProbeReport } from './scheduler-probe.js';
import { probeStatementCpu, type CpuGrowthPoint, type StatementCpuProbeReport } from './statement-cpu-probe.js';
import type { ClaimsRunOptions } from './harness.js';
import { throughputPlot, type PlotSeries } from './plot.js';
import { calibrateClaims, simulateClaims, simulateClaimsAsync, type Bottleneck, type Calibration, type CalibrationRequest, type ClaimCosts } from './model.js';

/** The costs calibration fits by default (the rest keep the model's defaults). */
export const VALIDATION_FIT: NonNullable<CalibrationRequest['fit']> = [
  'workerStatementMs',
  'workerRowMs',
  'workerJobMs',
  'workerResultMs',
  'dbClaimMs',
  'dbClaimRowMs',
  'dbSkipRowMs',
  'dbCompleteMs',
  'dbCompleteRowMs',
  'commitMs',
];

/** What the issue asks of the model on held-out cells. */
export const VALIDATION_TARGETS = { mape: 0.1, worst: 0.25, spearman: 0.9, speedupError: 0.1 } as const;

export type ValidationOptions = Pick<ClaimsRunOptions, 'url' | 'schema'> & {
  workload: Workload;
  /** The held-out grid; its `workers` must all be 2 or more (1 is the calibration's). */
  axes: GridAxes;
  /** Worker count the model picks its fastest settings for (default 3). */
  pickWorkers?: number;
  fit?: CalibrationRequest['fit'];
  maxEvaluations?: number;
  /** Host cores the model shares between workers and database (default: this host's). */
  cores?: number;
  /**
   * The model's CPU time slice (ms; 0: processor sharing). Default: this host's scheduler slice,
   * measured by `probeSchedulerSlice` before the runs. See `SimulationConfig`.
   */
  cpuSliceMs?: number;
  /** Runs of every cell; each cell keeps its median run (default 1). */
  repeats?: number;
  /**
   * The model's cost of a dead index entry (ms). Default: measured on the server by
   * `probeDeadEntries` before the runs. Not fitted: the single-worker cells all drain queues
   * of one length, where it cannot be told apart from a claim's fixed cost.
   */
  deadEntryMs?: number;
  /**
   * How statement CPU grows with the worker count (the model's `cpuGrowth`; `[]`: it does
   * not). Default: measured by `probeStatementCpu` before the runs, at 1 worker, every held-out
   * count and the pick's, with the workload's consumers as connections and the smallest batch
   * as rows. Not fitted: calibration sees one worker only.
   */
  cpuGrowth?: readonly CpuGrowthPoint[];
  /** Told each step: a cell measured, the calibration done, predictions made. */
  onStep?: (step: ValidationStep) => void;
};

export type ValidationStep =
  | { kind: 'measured'; phase: 'calibration' | 'held-out' | 'pick'; cell: CellSettings; throughput: number; done: number; of: number }
  | { kind: 'calibrated'; objective: number; evaluations: number; ms: number }
  | { kind: 'predicted'; cells: number };

/** What a cell's median run measured: every quantity calibration compares, and its elapsed time. */
type Measured = { throughput: number; claimMs?: number; persistMs?: number; claimsPerJob?: number; workerCpuMsPerJob?: number; dbCpuMsPerJob?: number; elapsedMs: number };

export type ValidatedCell = {
  name: string;
  series: string;
  settings: CellSettings;
  measured: Measured;
  /** Every repeat's throughput; `measured` is the median run's. */
  throughputs: number[];
  predicted: { throughput: number; bottleneck: Bottleneck };
  /** predicted / measured − 1. */
  error: number;
  /** Throughput over the same settings with one worker, measured and predicted. */
  speedup: { measured: number; predicted: number; error: number };
};

export type ValidationReport = {
  machine: { cores: number; cpu: string; node: string; postgres: string | null };
  workload: Workload;
  axes: GridAxes;
  model: {
    cpuSliceMs: number;
    sliceProbe: SliceProbeReport | null;
    deadEntryMs: number;
    deadEntryProbe: DeadEntryProbe | null;
    cpuGrowth: CpuGrowthPoint[];
    growthProbe: StatementCpuProbeReport | null;
  };
  startedAt: string;
  finishedAt: string;
  calibration: {
    costs: ClaimCosts;
    fit: string[];
    objective: number;
    evaluations: number;
    ms: number;
    cells: Array<{ name: string; settings: CellSettings; measured: Measured; throughputs: number[]; predicted: number; error: number }>;
  };
  heldOut: ValidatedCell[];
  summary: {
    cells: number;
    mape: number;
    worst: { name: string; error: number };
    spearman: number;
    speedupError: { mean: number; worst: number; worstName: string };
    targets: typeof VALIDATION_TARGETS;
    met: { mape: boolean; worst: boolean; spearman: boolean; speedupError: boolean };
    /**
     * How far apart repeats of the same cell landed, (max − min) / median, over every cell
     * measured: the measurement's own noise, below which no model's error can be read.
     */
    noise: { repeats: number; medianSpread: number; worstSpread: number; worstName: string };
  };
  /** The settings the model expected, before measuring, to run fastest with `workers` workers. */
  pick: {
    workers: number;
    settings: Omit<CellSettings, 'workers'>;
    predicted: { one: number; many: number; speedup: number; bottleneck: Bottleneck };
    measured: { one: number; many: number; speedup: number };
  };
};

function measuredOf(run: CellRun): Measured {
  const m = measurementOf(run.report, {});
  return {
    throughput: m.throughput,
    claimMs: m.claimMs,
    persistMs: m.persistMs,
    claimsPerJob: m.claimsPerJob,
    workerCpuMsPerJob: m.workerCpuMsPerJob,
    dbCpuMsPerJob: m.dbCpuMsPerJob,
    elapsedMs: run.report.elapsedMs,
  };
}

const sameSettings = (a: Omit<CellSettings, 'workers'>, b: Omit<CellSettings, 'workers'>) => seriesName(a) === seriesName(b);

export async function validateModel(options: ValidationOptions): Promise<ValidationReport> {
  const { axes, workload } = options;
  if (axes.workers.length === 0 || axes.workers.some((w) => !Number.isInteger(w) || w < 2)) {
    throw claimsError('ERR_CLAIMS_CONFIG', `held-out worker counts must be integers of 2 or more (1 is what calibration measures), got ${JSON.stringify(axes.workers)}`);
  }
  const pickWorkers = options.pickWorkers ?? 3;
  if (!Number.isInteger(pickWorkers) || pickWorkers < 2) throw claimsError('ERR_CLAIMS_CONFIG', `pickWorkers must be an integer of 2 or more, got ${pickWorkers}`);
  const cores = options.cores ?? availableParallelism();
  // Checked here, before the runs: the model would refuse it only after them.
  if (options.cpuSliceMs !== undefined) numberOption('cpuSliceMs', options.cpuSliceMs, 0);
  // The model's own checks of a given growth curve (a one-job simulation), before the runs.
  if (options.cpuGrowth !== undefined) simulateClaims({ jobs: 1, cpuGrowth: [...options.cpuGrowth] });
  const repeats = options.repeats ?? 1;
  // Probed before any run, on an idle host: the probe's busy processes must be all that runs.
  const sliceProbe = options.cpuSliceMs === undefined ? await probeSchedulerSlice() : null;
  const cpuSliceMs = options.cpuSliceMs ?? sliceProbe!.sliceMs;
  // Before the dead-entry probe, whose writes and vacuum leave the server busy for a while.
  const growthProbe =
    options.cpuGrowth === undefined
      ? await probeStatementCpu({ url: options.url, workers: [1, ...axes.workers, pickWorkers], connections: workload.concurrency, rows: Math.min(...axes.batchSizes) })
      : null;
  const cpuGrowth = options.cpuGrowth === undefined ? growthProbe!.growth : [...options.cpuGrowth];
  const deadEntryProbe = options.deadEntryMs === undefined ? await probeDeadEntries({ url: options.url, schema: options.schema }) : null;
  const deadEntryMs = options.deadEntryMs === undefined ? deadEntryProbe!.deadEntryMs : numberOption('deadEntryMs', options.deadEntryMs, 0);
  const simulation = (c: CellSettings) => ({ ...simulationOf(c, workload, cores), cpuSliceMs, cpuGrowth });
  const connection = { url: options.url, schema: options.schema };
  const startedAt = new Date().toISOString();
  const step = options.onStep ?? (() => {});
  const measure = (phase: 'calibration' | 'held-out' | 'pick', cells: readonly CellSettings[]) =>
    runCells(cells, workload, connection, (run, done, of) => step({ kind: 'measured', phase, cell: run.settings, throughput: run.report.throughput, done, of }), repeats);

  // 1. Single-worker runs of every setting: all calibration sees.
  const single = gridCells({ ...axes, workers: [1] });
  const singleRuns = await measure('calibration', single);
  const t0 = performance.now();
  const fit = options.fit ?? VALIDATION_FIT;
  const calibration: Calibration = await calibrateClaims({
    base: { costs: { dbDeadEntryMs: deadEntryMs } },
    cells: singleRuns.map((r) => measurementOf(r.report, simulation(r.settings))),
    fit,
    maxJobs: 10_000,
    maxEvaluations: options.maxEvaluations ?? 600,
  });
  const calibrationMs = performance.now() - t0;
  step({ kind: 'calibrated', objective: calibration.objective, evaluations: calibration.evaluations, ms: calibrationMs });
  const costs = calibration.config.costs;
  const predict = (c: CellSettings) => simulateClaimsAsync({ ...simulation(c), costs });

  // 2. Predictions, all made before any held-out cell runs.
  const heldOut = gridCells(axes);
  const predictions = await Promise.all(heldOut.map(predict));
  const singlePredictions = await Promise.all(single.map(predict));
  const manyPredictions = await Promise.all(single.map((s) => predict({ ...s, workers: pickWorkers })));
  let best = 0;
  for (let i = 1; i < single.length; i++) if (manyPredictions[i].throughput > manyPredictions[best].throughput) best = i;
  const picked = single[best];
  step({ kind: 'predicted', cells: heldOut.length });

  // 3. The held-out runs (and the pick's, if the grid does not hold it).
  const heldOutRuns = await measure('held-out', heldOut);
  let pickRun = heldOutRuns.find((r) => r.settings.workers === pickWorkers && sameSettings(r.settings, picked));
  if (!pickRun) {
    [pickRun] = await measure('pick', [{ ...picked, workers: pickWorkers }]);
  }

  const oneWorker = (settings: CellSettings) => {
    const i = single.findIndex((s) => sameSettings(s, settings));
    return { measured: singleRuns[i].report.throughput, predicted: singlePredictions[i].throughput };
  };
  const cells: ValidatedCell[] = heldOutRuns.map((run, i) => {
    const measured = measuredOf(run);
    const predicted = predictions[i];
    const one = oneWorker(run.settings);
    const speedupMeasured = measured.throughput / one.measured;
    const speedupPredicted = predicted.throughput / one.predicted;
    return {
      name: cellName(run.settings),
      series: seriesName(run.settings),
      settings: run.settings,
      measured,
      throughputs: run.throughputs,
      predicted: { throughput: predicted.throughput, bottleneck: predicted.bottleneck },
      error: relativeError(predicted.throughput, measured.throughput),
      speedup: { measured: speedupMeasured, predicted: speedupPredicted, error: speedupPredicted - speedupMeasured },
    };
  });
  const worst = cells.reduce((a, b) => (Math.abs(b.error) > Math.abs(a.error) ? b : a));
  const worstSpeedup = cells.reduce((a, b) => (Math.abs(b.speedup.error) > Math.abs(a.speedup.error) ? b : a));
  const mapeAll = mape(cells.map((c) => ({ predicted: c.predicted.throughput, measured: c.measured.throughput })));
  const rho = cells.length >= 2 ? spearman(cells.map((c) => c.predicted.throughput), cells.map((c) => c.measured.throughput)) : Number.NaN;
  const speedupMean = cells.reduce((s, c) => s + Math.abs(c.speedup.error), 0) / cells.length;
  const measuredRuns = [...singleRuns, ...heldOutRuns];
  const spreads = measuredRuns.map(spreadOf);
  const worstSpread = spreads.indexOf(Math.max(...spreads));
  const summary = {
    cells: cells.length,
    mape: mapeAll,
    worst: { name: worst.name, error: worst.error },
    spearman: rho,
    speedupError: { mean: speedupMean, worst: Math.abs(worstSpeedup.speedup.error), worstName: worstSpeedup.name },
    targets: VALIDATION_TARGETS,
    met: {
      mape: mapeAll <= VALIDATION_TARGETS.mape,
      worst: Math.abs(worst.error) <= VALIDATION_TARGETS.worst,
      spearman: rho >= VALIDATION_TARGETS.spearman,
      speedupError: speedupMean <= VALIDATION_TARGETS.speedupError,
    },
    noise: { repeats, medianSpread: median(spreads), worstSpread: spreads[worstSpread], worstName: cellName(measuredRuns[worstSpread].settings) },
  };
  const pickOne = oneWorker(picked);
  const { workers: _w, ...pickSettings } = picked;
  return {
    machine: { cores, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, postgres: await postgresVersion(options.url) },
    workload,
    axes,
    model: { cpuSliceMs, sliceProbe, deadEntryMs, deadEntryProbe, cpuGrowth, growthProbe },
    startedAt,
    finishedAt: new Date().toISOString(),
    calibration: {
      costs,
      fit: [...fit],
      objective: calibration.objective,
      evaluations: calibration.evaluations,
      ms: calibrationMs,
      cells: singleRuns.map((run, i) => ({
        name: cellName(run.settings),
        settings: run.settings,
        measured: measuredOf(run),
        throughputs: run.throughputs,
        predicted: singlePredictions[i].throughput,
        error: relativeError(singlePredictions[i].throughput, run.report.throughput),
      })),
    },
    heldOut: cells,
    summary,
    pick: {
      workers: pickWorkers,
      settings: pickSettings,
      predicted: { one: pickOne.predicted, many: manyPredictions[best].throughput, speedup: manyPredictions[best].throughput / pickOne.predicted, bottleneck: manyPredictions[best].bottleneck },
      measured: { one: pickOne.measured, many: pickRun.report.throughput, speedup: pickRun.report.throughput / pickOne.measured },
    },
  };
}

async function postgresVersion(url: string): Promise<string | null> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    return (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The report's cells as a plot: one panel per series of settings, throughput over workers. */
export function validationPlot(r: ValidationReport): string {
  const series = new Map<string, PlotSeries>();
  const of = (name: string) => {
    let s = series.get(name);
    if (!s) series.set(name, (s = { name, points: [] }));
    return s;
  };
  for (const c of r.calibration.cells) of(seriesName(c.settings)).points.push({ workers: 1, measured: c.measured.throughput, predicted: c.predicted, calibration: true });
  for (const c of r.heldOut) of(c.series).points.push({ workers: c.settings.workers, measured: c.measured.throughput, predicted: c.predicted.throughput });
  const s = r.summary;
  return throughputPlot(
    [...series.values()],
    `Claims model vs PostgreSQL on ${r.machine.cores} cores: throughput (jobs/s) over workers`,
    `${r.workload.jobs} jobs × ${r.workload.workMs} ms; held-out MAPE ${(s.mape * 100).toFixed(1)}%, worst ${(s.worst.error * 100).toFixed(1)}%, Spearman ${s.spearman.toFixed(2)}, speedup error ${s.speedupError.mean.toFixed(3)}`,
  );
}
