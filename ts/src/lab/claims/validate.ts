/**
 * Checks the contention model against this machine: calibrates its costs on single-worker runs
 * only, predicts every held-out cell (2 or more workers) before running it, then runs them and
 * reports the error per cell, MAPE, the worst cell, the error of the predicted speedup over one
 * worker, and Spearman's ρ between the predicted and measured ordering of the cells. It also
 * lets the model pick, in advance, the settings it expects to run fastest with `pickWorkers`
 * workers, and measures that pick's speedup over one worker.
 *
 * `replayValidation` redoes the calibration and the predictions of a saved report on its own
 * measurements, so that a change to the model (or to a setting such as the time slice) can be
 * checked against runs already made, reproducibly, without running anything.
 */
import { availableParallelism, cpus } from 'node:os';

import { Type, type Static } from 'typebox';

import { mape, median, noiseFloor, relativeError, spearman, type NoiseFloor } from './accuracy.js';
import { claimsError, numberOption } from '../../claims/errors.js';
import { cellName, gridCells, measurementOf, runCells, seriesName, simulationOf, spreadOf, type CellRun, type CellSettings, type GridAxes, type Workload } from './grid.js';
import { CLAIM_STRATEGIES } from '../../claims/queue.js';
import { probeDeadEntries, type DeadEntryProbe } from './dead-entry-probe.js';
import { probeSchedulerSlice, type SliceProbeReport } from './scheduler-probe.js';
import { probeSwitchCost, type SwitchProbeReport } from './switch-probe.js';
import { probeSkippedRows, type SkipRowProbe } from './skip-row-probe.js';
import { probeStatementCpu, type CpuGrowthPoint, type StatementCpuProbeReport } from './statement-cpu-probe.js';
import type { ClaimsRunOptions, ClaimsRunReport } from './harness.js';
import { schemaCheck } from '../../schema-check.js';
import { throughputPlot, type PlotSeries } from './plot.js';
import {
  calibrateClaims,
  simulateClaims,
  simulateClaimsAsync,
  type Bottleneck,
  type Calibration,
  type CalibrationRequest,
  type ClaimCosts,
  type ClaimsMeasurement,
  type LoopOrder,
  type SimulationReport,
  isLoopOrder,
  LOOP_ORDERS,
} from '../../claims/model.js';

/** The costs calibration fits by default (the rest keep the model's defaults). */
export const VALIDATION_FIT: NonNullable<CalibrationRequest['fit']> = [
  'workerStatementMs',
  'workerRowMs',
  'workerJobMs',
  'workerResultMs',
  'dbClaimMs',
  'dbClaimRowMs',
  'dbCompleteMs',
  'dbCompleteRowMs',
  'commitMs',
];

/** What the issue asks of the model on held-out cells. */
export const VALIDATION_TARGETS = { mape: 0.1, worst: 0.25, spearman: 0.9, speedupError: 0.1 } as const;

/** Simulations calibration may run per cost it fits, unless told otherwise. */
const DEFAULT_MAX_EVALUATIONS = 600;

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
  /**
   * What a switch between processes on one core costs the process switched in (ms; the model
   * charges it under time slices). Default: measured by `probeSwitchCost` before the runs.
   */
  cpuSwitchMs?: number;
  /** Runs of every cell; each cell keeps its median run (default 1). */
  repeats?: number;
  /**
   * The model's cost of a dead index entry (ms). Default: measured on the server by
   * `probeDeadEntries` before the runs. Not fitted: the single-worker cells all drain queues
   * of one length, where it cannot be told apart from a claim's fixed cost.
   */
  deadEntryMs?: number;
  /**
   * The model's cost of a row held by another claim that a skip-locked scan passes (ms).
   * Default: measured on the server by `probeSkippedRows` before the runs. Not fitted: one
   * worker's claims hold too few rows at once to tell it apart from a claim's fixed cost.
   */
  skipRowMs?: number;
  /**
   * How statement CPU grows with the worker count (the model's `cpuGrowth`; `[]`: it does
   * not). Default: measured by `probeStatementCpu` before the runs, at 1 worker, every held-out
   * count and the pick's, with the workload's consumers as connections and the smallest batch
   * as rows. Not fitted: calibration sees one worker only.
   */
  cpuGrowth?: readonly CpuGrowthPoint[];
  /** How the model's worker loops order their work (default `fifo`; see `SimulationConfig`). */
  loopOrder?: LoopOrder;
  /**
   * The share of the workers' own CPU costs their background threads spend beside the event
   * loop (the model's `workerBackgroundShare`). Default: measured on the single-worker runs
   * (`backgroundShareOf`), which is all calibration sees.
   */
  workerBackgroundShare?: number;
  /** Told each step: a cell measured, the calibration done, predictions made. */
  onStep?: (step: ValidationStep) => void;
};

export type ValidationStep =
  | { kind: 'measured'; phase: 'calibration' | 'held-out' | 'pick'; cell: CellSettings; throughput: number; done: number; of: number }
  | { kind: 'calibrated'; objective: number; evaluations: number; ms: number }
  | { kind: 'predicted'; cells: number }
  /** A probe of the host or the server starts (they take seconds each, before any cell runs). */
  | { kind: 'probing'; probe: string };

/** What a cell's median run measured: every quantity calibration compares, and its elapsed time. */
export type Measured = Omit<ClaimsMeasurement, 'config'> & {
  elapsedMs: number;
  /**
   * What else the host's cores did over the run, per job (ms): stolen by the hypervisor, idle,
   * and busy with neither the workers nor the database. Not calibrated on; it says how much
   * of the cores the workers and the database really had (absent in reports from before it).
   */
  host?: HostTimePerJob;
  /**
   * Context switches per job of the workers and the database, voluntary and involuntary (see
   * `ClaimsRunReport.cpu.switchesPerJob`); not calibrated on (absent in reports from before it).
   */
  switches?: ClaimsRunReport['cpu']['switchesPerJob'];
  /**
   * Of `workerCpuMsPerJob`, what the workers' main threads (their event loops) spent; the rest
   * ran on their background threads. Not calibrated on: it gives the model's
   * `workerBackgroundShare` (absent in reports from before it, or where `/proc` cannot tell).
   */
  workerLoopCpuMsPerJob?: number;
};

export type HostTimePerJob = { stealMs: number; idleMs: number; otherMs: number | null };

/** A cell as a report keeps it: its settings, its median run's measurement, every repeat's throughput. */
type MeasuredCell = { settings: CellSettings; measured: Measured; throughputs: number[] };

/** The quantities besides throughput that a run measures and calibration compares. */
export const FIT_QUANTITIES = ['claimMs', 'persistMs', 'claimsPerJob', 'workerCpuMsPerJob', 'dbCpuMsPerJob'] as const;
export type FitQuantity = 'throughput' | (typeof FIT_QUANTITIES)[number];
export type ModelledQuantities = Record<(typeof FIT_QUANTITIES)[number], number>;

/** What a simulation says of the quantities a run measures besides throughput. */
function modelledOf(r: SimulationReport): ModelledQuantities {
  const t = r.totals;
  return {
    claimMs: t.claimMs / t.claimBatches,
    persistMs: t.persistMs / t.persistFlushes,
    claimsPerJob: t.claimBatches / r.completed,
    workerCpuMsPerJob: r.waits.workerCpuMs / r.completed,
    dbCpuMsPerJob: r.waits.dbCpuMs / r.completed,
  };
}

/** Mean predicted ÷ measured − 1 per quantity over the cells that measured it. */
function meanErrorsOf(cells: ReadonlyArray<{ measured: Measured; predicted: number; modelled: ModelledQuantities }>): Record<FitQuantity, number | null> {
  const mean = (pairs: Array<[number, number | undefined]>) => {
    const errors = pairs.filter((p): p is [number, number] => p[1] !== undefined && p[1] > 0).map(([p, m]) => relativeError(p, m));
    return errors.length === 0 ? null : errors.reduce((a, b) => a + b, 0) / errors.length;
  };
  return {
    throughput: mean(cells.map((c) => [c.predicted, c.measured.throughput])),
    ...(Object.fromEntries(FIT_QUANTITIES.map((q) => [q, mean(cells.map((c) => [c.modelled[q], c.measured[q]]))])) as Record<(typeof FIT_QUANTITIES)[number], number | null>),
  };
}

export type ValidatedCell = {
  name: string;
  series: string;
  settings: CellSettings;
  measured: Measured;
  /** Every repeat's throughput; `measured` is the median run's. */
  throughputs: number[];
  /** The model's throughput and bottleneck, and what it expects of the quantities measured beside throughput. */
  predicted: { throughput: number; bottleneck: Bottleneck; claimsPerJob: number; workerCpuMsPerJob: number; dbCpuMsPerJob: number };
  /** predicted / measured − 1. */
  error: number;
  /** Throughput over the same settings with one worker, measured and predicted. */
  speedup: { measured: number; predicted: number; error: number };
};

export type ValidationReport = {
  machine: { cores: number; cpu: string; node: string; postgres: string | null };
  /**
   * Set when this report replays a saved one (`replayValidation`): calibration and predictions
   * were redone on that report's measurements (`startedAt`/`finishedAt` are still when they were
   * measured); nothing ran. `null` for a report of runs.
   */
  replay: { at: string; source: string | null } | null;
  workload: Workload;
  axes: GridAxes;
  model: {
    cpuSliceMs: number;
    sliceProbe: SliceProbeReport | null;
    /** What a switch between processes costs (0 in reports from before it). */
    cpuSwitchMs: number;
    switchProbe: SwitchProbeReport | null;
    deadEntryMs: number;
    deadEntryProbe: DeadEntryProbe | null;
    /** `null` in reports from before the probe, whose calibration fitted it (`dbSkipRowMs`). */
    skipRowMs: number | null;
    skipRowProbe: SkipRowProbe | null;
    cpuGrowth: CpuGrowthPoint[];
    growthProbe: StatementCpuProbeReport | null;
    /** How the model's worker loops order their work (`fifo` in reports from before it). */
    loopOrder: LoopOrder;
    /** The share of the workers' own CPU costs spent beside their loops (0 in reports from before it). */
    workerBackgroundShare: number;
    /** Where it came from: the single-worker cells' shares it is the median of (`null`: given). */
    backgroundShares: number[] | null;
  };
  startedAt: string;
  finishedAt: string;
  calibration: {
    costs: ClaimCosts;
    fit: string[];
    maxEvaluations: number;
    objective: number;
    evaluations: number;
    ms: number;
    cells: Array<{
      name: string;
      settings: CellSettings;
      measured: Measured;
      throughputs: number[];
      /** The fitted model's throughput. */
      predicted: number;
      error: number;
      /** What the fitted model makes of the other quantities measured (absent in reports from before it). */
      modelled?: ModelledQuantities;
    }>;
    /**
     * How the fit matches each measured quantity: the mean of predicted ÷ measured − 1 over the
     * cells that measured it (`null` where none did). A fit that matches throughput only by
     * getting another quantity wrong shows here (absent in reports from before it).
     */
    meanErrors?: Record<FitQuantity, number | null>;
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
    noise: {
      repeats: number;
      medianSpread: number;
      worstSpread: number;
      worstName: string;
      /**
       * The MAPE and speedup error a model exact on every cell would still show, from the
       * repeats' scatter alone (`noiseFloor`); `null` with one run per cell, absent in reports
       * from before it.
       */
      floor?: NoiseFloor | null;
    };
  };
  /** The settings the model expected, before measuring, to run fastest with `workers` workers. */
  pick: {
    workers: number;
    settings: Omit<CellSettings, 'workers'>;
    predicted: { one: number; many: number; speedup: number; bottleneck: Bottleneck };
    /** `null` only in a replay whose model picks settings the saved runs never measured at `workers`. */
    measured: { one: number; many: number; speedup: number } | null;
  };
};

function measuredOf(run: CellRun): Measured {
  const { config: _config, ...measured } = measurementOf(run.report, {});
  const h = run.report.cpu.host;
  const host = h && run.report.completed > 0 ? { stealMs: h.stealMsPerJob, idleMs: h.idleMsPerJob, otherMs: h.otherMsPerJob } : undefined;
  const loop = run.report.cpu.workerLoopMsPerJob;
  return {
    ...measured,
    elapsedMs: run.report.elapsedMs,
    ...(host ? { host } : {}),
    switches: run.report.cpu.switchesPerJob,
    ...(loop !== null ? { workerLoopCpuMsPerJob: loop } : {}),
  };
}

/**
 * The model's `workerBackgroundShare` from single-worker runs: for each cell that measured its
 * loop's CPU, the CPU the workers spent off their main threads over what they spent on their
 * own handling (all their CPU but the jobs' `workMs`), and the median of those (0 where no cell
 * measured it), each within [0, 0.9]. One worker is what calibration may see; it leaves the
 * loop room to spare, so its jobs' work (a busy wait) costs what it asks.
 */
export function backgroundShareOf(
  cells: ReadonlyArray<{ measured: Pick<Measured, 'workerCpuMsPerJob' | 'workerLoopCpuMsPerJob'> }>,
  workMs: number,
): { share: number; shares: number[] } {
  const shares: number[] = [];
  for (const { measured: m } of cells) {
    if (m.workerLoopCpuMsPerJob === undefined || m.workerCpuMsPerJob === undefined) continue;
    const own = m.workerCpuMsPerJob - workMs;
    if (own <= 0) continue;
    shares.push(Math.min(0.9, Math.max(0, (m.workerCpuMsPerJob - m.workerLoopCpuMsPerJob) / own)));
  }
  return { share: shares.length > 0 ? median(shares) : 0, shares };
}

const measuredCellOf = (run: CellRun): MeasuredCell => ({ settings: run.settings, measured: measuredOf(run), throughputs: run.throughputs });

const sameSettings = (a: Omit<CellSettings, 'workers'>, b: Omit<CellSettings, 'workers'>) => seriesName(a) === seriesName(b);

type ModelSettings = ValidationReport['model'];

/** What the model says before any held-out cell is measured. */
type Predictions = {
  calibration: Calibration;
  calibrationMs: number;
  fit: NonNullable<CalibrationRequest['fit']>;
  maxEvaluations: number;
  single: readonly MeasuredCell[];
  singlePredicted: SimulationReport[];
  heldOut: readonly CellSettings[];
  heldOutPredicted: SimulationReport[];
  /** The single-worker settings the model expects to run fastest with `pickWorkers`, and that prediction. */
  picked: CellSettings;
  pickPredicted: SimulationReport;
  pickWorkers: number;
};

type PredictionRequest = {
  /** The single-worker cells, measured: all calibration sees. */
  single: readonly MeasuredCell[];
  heldOut: readonly CellSettings[];
  workload: Workload;
  cores: number;
  model: Pick<ModelSettings, 'cpuSliceMs' | 'cpuSwitchMs' | 'cpuGrowth' | 'deadEntryMs' | 'skipRowMs' | 'loopOrder' | 'workerBackgroundShare'>;
  pickWorkers: number;
  fit: NonNullable<CalibrationRequest['fit']>;
  maxEvaluations: number;
  step: (step: ValidationStep) => void;
};

/** Calibrates on the single-worker cells, then predicts every held-out cell and makes the pick. */
async function calibrateAndPredict(r: PredictionRequest): Promise<Predictions> {
  const { cpuSliceMs, cpuSwitchMs, cpuGrowth, deadEntryMs, skipRowMs, loopOrder, workerBackgroundShare } = r.model;
  // A measured skip cost is given, not fitted.
  const fit = skipRowMs === null ? r.fit : r.fit.filter((name) => name !== 'dbSkipRowMs');
  const simulation = (c: CellSettings) => ({ ...simulationOf(c, r.workload, r.cores), cpuSliceMs, cpuSwitchMs, cpuGrowth: [...cpuGrowth], loopOrder, workerBackgroundShare });
  const t0 = performance.now();
  const calibration = await calibrateClaims({
    base: { costs: { dbDeadEntryMs: deadEntryMs, ...(skipRowMs === null ? {} : { dbSkipRowMs: skipRowMs }) } },
    cells: r.single.map(({ settings, measured: { elapsedMs: _e, host: _h, switches: _s, workerLoopCpuMsPerJob: _l, ...m } }) => ({ config: simulation(settings), ...m })),
    fit,
    maxJobs: 10_000,
    maxEvaluations: r.maxEvaluations,
  });
  const calibrationMs = performance.now() - t0;
  r.step({ kind: 'calibrated', objective: calibration.objective, evaluations: calibration.evaluations, ms: calibrationMs });
  const costs = calibration.config.costs;
  const predict = (c: CellSettings) => simulateClaimsAsync({ ...simulation(c), costs });
  const heldOutPredicted = await Promise.all(r.heldOut.map(predict));
  const singlePredicted = await Promise.all(r.single.map((c) => predict(c.settings)));
  const manyPredicted = await Promise.all(r.single.map((c) => predict({ ...c.settings, workers: r.pickWorkers })));
  let best = 0;
  for (let i = 1; i < manyPredicted.length; i++) if (manyPredicted[i].throughput > manyPredicted[best].throughput) best = i;
  r.step({ kind: 'predicted', cells: r.heldOut.length });
  return {
    calibration,
    calibrationMs,
    fit,
    maxEvaluations: r.maxEvaluations,
    single: r.single,
    singlePredicted,
    heldOut: r.heldOut,
    heldOutPredicted,
    picked: r.single[best].settings,
    pickPredicted: manyPredicted[best],
    pickWorkers: r.pickWorkers,
  };
}

type ReportFrame = Pick<ValidationReport, 'machine' | 'replay' | 'workload' | 'axes' | 'model' | 'startedAt' | 'finishedAt'>;

/** The report: the held-out cells' measurements (in the order of `p.heldOut`) against the predictions. */
function reportOf(frame: ReportFrame, p: Predictions, heldOutMeasured: readonly MeasuredCell[], pickMany: number | null, repeats: number): ValidationReport {
  const oneWorker = (settings: Omit<CellSettings, 'workers'>) => {
    const i = p.single.findIndex((s) => sameSettings(s.settings, settings));
    return { measured: p.single[i].measured.throughput, predicted: p.singlePredicted[i].throughput, throughputs: p.single[i].throughputs };
  };
  const cells: ValidatedCell[] = heldOutMeasured.map((m, i) => {
    const predicted = p.heldOutPredicted[i];
    const one = oneWorker(m.settings);
    const speedupMeasured = m.measured.throughput / one.measured;
    const speedupPredicted = predicted.throughput / one.predicted;
    const { claimsPerJob, workerCpuMsPerJob, dbCpuMsPerJob } = modelledOf(predicted);
    return {
      name: cellName(m.settings),
      series: seriesName(m.settings),
      settings: m.settings,
      measured: m.measured,
      throughputs: m.throughputs,
      predicted: { throughput: predicted.throughput, bottleneck: predicted.bottleneck, claimsPerJob, workerCpuMsPerJob, dbCpuMsPerJob },
      error: relativeError(predicted.throughput, m.measured.throughput),
      speedup: { measured: speedupMeasured, predicted: speedupPredicted, error: speedupPredicted - speedupMeasured },
    };
  });
  const worst = cells.reduce((a, b) => (Math.abs(b.error) > Math.abs(a.error) ? b : a));
  const worstSpeedup = cells.reduce((a, b) => (Math.abs(b.speedup.error) > Math.abs(a.speedup.error) ? b : a));
  const mapeAll = mape(cells.map((c) => ({ predicted: c.predicted.throughput, measured: c.measured.throughput })));
  const rho =
    cells.length >= 2
      ? spearman(
          cells.map((c) => c.predicted.throughput),
          cells.map((c) => c.measured.throughput),
        )
      : Number.NaN;
  const speedupMean = cells.reduce((s, c) => s + Math.abs(c.speedup.error), 0) / cells.length;
  const measuredCells = [...p.single, ...heldOutMeasured];
  const spreads = measuredCells.map((c) => spreadOf({ throughputs: c.throughputs, report: c.measured }));
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
    noise: {
      repeats,
      medianSpread: median(spreads),
      worstSpread: spreads[worstSpread],
      worstName: cellName(measuredCells[worstSpread].settings),
      floor: noiseFloor(heldOutMeasured.map((m) => ({ throughputs: m.throughputs, oneWorker: oneWorker(m.settings).throughputs }))),
    },
  };
  const calibrationCells = p.single.map((c, i) => ({
    name: cellName(c.settings),
    settings: c.settings,
    measured: c.measured,
    throughputs: c.throughputs,
    predicted: p.singlePredicted[i].throughput,
    error: relativeError(p.singlePredicted[i].throughput, c.measured.throughput),
    modelled: modelledOf(p.singlePredicted[i]),
  }));
  const pickOne = oneWorker(p.picked);
  const { workers: _w, ...pickSettings } = p.picked;
  return {
    ...frame,
    calibration: {
      costs: p.calibration.config.costs,
      fit: [...p.fit],
      maxEvaluations: p.maxEvaluations,
      objective: p.calibration.objective,
      evaluations: p.calibration.evaluations,
      ms: p.calibrationMs,
      cells: calibrationCells,
      meanErrors: meanErrorsOf(calibrationCells),
    },
    heldOut: cells,
    summary,
    pick: {
      workers: p.pickWorkers,
      settings: pickSettings,
      predicted: { one: pickOne.predicted, many: p.pickPredicted.throughput, speedup: p.pickPredicted.throughput / pickOne.predicted, bottleneck: p.pickPredicted.bottleneck },
      measured: pickMany === null ? null : { one: pickOne.measured, many: pickMany, speedup: pickMany / pickOne.measured },
    },
  };
}

/**
 * The model settings the caller gave (undefined: not given, so probed or taken from a saved
 * report), checked before anything runs: a growth curve by the model itself (a one-job
 * simulation), which would otherwise refuse it only after the runs.
 */
function givenModelSettings(o: Pick<ValidationOptions, 'cpuSliceMs' | 'cpuSwitchMs' | 'deadEntryMs' | 'skipRowMs' | 'cpuGrowth' | 'loopOrder' | 'workerBackgroundShare'>) {
  const cost = (name: string, v: number | undefined, max?: number) => (v === undefined ? undefined : numberOption(name, v, 0, max));
  if (o.cpuGrowth !== undefined) simulateClaims({ jobs: 1, cpuGrowth: [...o.cpuGrowth] });
  if (o.loopOrder !== undefined && !isLoopOrder(o.loopOrder)) {
    throw claimsError('ERR_CLAIMS_CONFIG', `loopOrder must be one of ${LOOP_ORDERS.join(', ')}, got ${JSON.stringify(o.loopOrder)}`);
  }
  return {
    cpuSliceMs: cost('cpuSliceMs', o.cpuSliceMs),
    cpuSwitchMs: cost('cpuSwitchMs', o.cpuSwitchMs, 1000),
    deadEntryMs: cost('deadEntryMs', o.deadEntryMs),
    skipRowMs: cost('skipRowMs', o.skipRowMs),
    cpuGrowth: o.cpuGrowth === undefined ? undefined : [...o.cpuGrowth],
    loopOrder: o.loopOrder,
    workerBackgroundShare: o.workerBackgroundShare === undefined ? undefined : numberOption('workerBackgroundShare', o.workerBackgroundShare, 0, 0.9),
  };
}

/** Calibrates the contention model on single-worker runs, predicts every held-out cell before running it, runs them and reports the error. */
export async function validateModel(options: ValidationOptions): Promise<ValidationReport> {
  const { axes, workload } = options;
  if (axes.workers.length === 0 || axes.workers.some((w) => !Number.isInteger(w) || w < 2)) {
    throw claimsError('ERR_CLAIMS_CONFIG', `held-out worker counts must be integers of 2 or more (1 is what calibration measures), got ${JSON.stringify(axes.workers)}`);
  }
  const pickWorkers = options.pickWorkers ?? 3;
  if (!Number.isInteger(pickWorkers) || pickWorkers < 2) throw claimsError('ERR_CLAIMS_CONFIG', `pickWorkers must be an integer of 2 or more, got ${pickWorkers}`);
  const cores = options.cores ?? availableParallelism();
  const given = givenModelSettings(options);
  const repeats = options.repeats ?? 1;
  const step = options.onStep ?? (() => {});
  const probing = <T>(probe: string, run: () => Promise<T>): Promise<T> => {
    step({ kind: 'probing', probe });
    return run();
  };
  // Probed before any run, on an idle host: the probe's busy processes must be all that runs.
  const sliceProbe = given.cpuSliceMs === undefined ? await probing("the scheduler's time slice", () => probeSchedulerSlice()) : null;
  const cpuSliceMs = given.cpuSliceMs ?? sliceProbe!.sliceMs;
  const switchProbe = given.cpuSwitchMs === undefined ? await probing('what a switch between processes costs', () => probeSwitchCost()) : null;
  const cpuSwitchMs = given.cpuSwitchMs ?? switchProbe!.switchMs;
  // Before the dead-entry probe, whose writes and vacuum leave the server busy for a while.
  const growthProbe =
    given.cpuGrowth === undefined
      ? await probing("how statements' CPU grows with workers", () =>
          probeStatementCpu({ url: options.url, workers: [1, ...axes.workers, pickWorkers], connections: workload.concurrency, rows: Math.min(...axes.batchSizes) }),
        )
      : null;
  const cpuGrowth = given.cpuGrowth ?? growthProbe!.growth;
  const deadEntryProbe =
    given.deadEntryMs === undefined ? await probing('what a dead index entry costs a scan', () => probeDeadEntries({ url: options.url, schema: options.schema })) : null;
  const deadEntryMs = given.deadEntryMs ?? deadEntryProbe!.deadEntryMs;
  const skipRowProbe =
    given.skipRowMs === undefined ? await probing('what a locked row costs a skip-locked scan', () => probeSkippedRows({ url: options.url, schema: options.schema })) : null;
  const skipRowMs = given.skipRowMs ?? skipRowProbe!.skipRowMs;
  const probed = {
    cpuSliceMs,
    sliceProbe,
    cpuSwitchMs,
    switchProbe,
    deadEntryMs,
    deadEntryProbe,
    skipRowMs,
    skipRowProbe,
    cpuGrowth,
    growthProbe,
    loopOrder: given.loopOrder ?? 'fifo',
  };
  const connection = { url: options.url, schema: options.schema };
  const startedAt = new Date().toISOString();
  const measure = (phase: 'calibration' | 'held-out' | 'pick', cells: readonly CellSettings[]) =>
    runCells(cells, workload, connection, (run, done, of) => step({ kind: 'measured', phase, cell: run.settings, throughput: run.report.throughput, done, of }), repeats);

  // 1. Single-worker runs of every setting: all calibration sees.
  const singleRuns = await measure('calibration', gridCells({ ...axes, workers: [1] }));
  const measuredShare = backgroundShareOf(singleRuns.map(measuredCellOf), workload.workMs);
  const model: ModelSettings = {
    ...probed,
    workerBackgroundShare: given.workerBackgroundShare ?? measuredShare.share,
    backgroundShares: given.workerBackgroundShare === undefined ? measuredShare.shares : null,
  };
  // 2. Calibration, then every prediction, all before any held-out cell runs.
  const predictions = await calibrateAndPredict({
    single: singleRuns.map(measuredCellOf),
    heldOut: gridCells(axes),
    workload,
    cores,
    model,
    pickWorkers,
    fit: options.fit ?? VALIDATION_FIT,
    maxEvaluations: options.maxEvaluations ?? DEFAULT_MAX_EVALUATIONS,
    step,
  });
  // 3. The held-out runs (and the pick's, if the grid does not hold it).
  const heldOutRuns = await measure('held-out', predictions.heldOut);
  const picked = predictions.picked;
  let pickRun = heldOutRuns.find((r) => r.settings.workers === pickWorkers && sameSettings(r.settings, picked));
  if (!pickRun) {
    [pickRun] = await measure('pick', [{ ...picked, workers: pickWorkers }]);
  }
  const frame: ReportFrame = {
    machine: { cores, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, postgres: await postgresVersion(options.url) },
    replay: null,
    workload,
    axes,
    model,
    startedAt,
    finishedAt: new Date().toISOString(),
  };
  return reportOf(frame, predictions, heldOutRuns.map(measuredCellOf), pickRun.report.throughput, repeats);
}

export type ReplayOptions = Pick<
  ValidationOptions,
  'fit' | 'maxEvaluations' | 'cpuSliceMs' | 'cpuSwitchMs' | 'deadEntryMs' | 'skipRowMs' | 'cpuGrowth' | 'loopOrder' | 'workerBackgroundShare' | 'onStep'
> & {
  /** Host cores the model shares (default: the saved report's machine's). */
  cores?: number;
  /** Where the saved report came from (a file name), for the new report's `replay.source`. */
  source?: string;
};

/**
 * Redoes a saved report's calibration and predictions on its own measurements: the same
 * single-worker cells calibrate the model, every held-out cell is predicted from that alone and
 * compared with what was measured. The model's settings (time slice, dead-entry cost, growth
 * curve; the fitted costs and evaluation budget) are the saved report's unless given, so
 * replaying a report with this build's model reproduces it. Nothing runs against a database.
 *
 * The pick is made again; if the model now picks settings the saved runs did not measure at the
 * pick's worker count, the new report's `pick.measured` is `null`.
 */
export async function replayValidation(saved: unknown, options: ReplayOptions = {}): Promise<ValidationReport> {
  const r = savedReport(saved);
  const cores = options.cores === undefined ? r.machine.cores : numberOption('cores', options.cores, 1);
  const given = givenModelSettings(options);
  const cpuSliceMs = given.cpuSliceMs ?? r.model.cpuSliceMs;
  const deadEntryMs = given.deadEntryMs ?? r.model.deadEntryMs;
  const skipRowMs = given.skipRowMs ?? r.model.skipRowMs;
  const cpuGrowth = given.cpuGrowth ?? r.model.cpuGrowth;
  if (cpuSliceMs === undefined) throw claimsError('ERR_CLAIMS_INPUT', 'the saved report does not say which time slice its model used (model.cpuSliceMs): give cpuSliceMs');
  if (deadEntryMs === undefined)
    throw claimsError('ERR_CLAIMS_INPUT', 'the saved report does not say what its model took a dead index entry to cost (model.deadEntryMs): give deadEntryMs');
  // A given value replaces the saved probe's.
  const model: ModelSettings = {
    cpuSliceMs,
    sliceProbe: options.cpuSliceMs === undefined ? r.model.sliceProbe : null,
    cpuSwitchMs: given.cpuSwitchMs ?? r.model.cpuSwitchMs,
    switchProbe: options.cpuSwitchMs === undefined ? r.model.switchProbe : null,
    deadEntryMs,
    deadEntryProbe: options.deadEntryMs === undefined ? r.model.deadEntryProbe : null,
    skipRowMs,
    skipRowProbe: options.skipRowMs === undefined ? r.model.skipRowProbe : null,
    cpuGrowth,
    growthProbe: options.cpuGrowth === undefined ? r.model.growthProbe : null,
    loopOrder: given.loopOrder ?? r.model.loopOrder,
    workerBackgroundShare: given.workerBackgroundShare ?? r.model.workerBackgroundShare,
    backgroundShares: given.workerBackgroundShare === undefined ? r.model.backgroundShares : null,
  };
  const predictions = await calibrateAndPredict({
    single: r.single,
    heldOut: r.heldOut.map((c) => c.settings),
    workload: r.workload,
    cores,
    model,
    pickWorkers: r.pickWorkers,
    fit: options.fit ?? r.fit ?? VALIDATION_FIT,
    maxEvaluations: options.maxEvaluations ?? r.maxEvaluations ?? DEFAULT_MAX_EVALUATIONS,
    step: options.onStep ?? (() => {}),
  });
  // The pick's measurement, if the saved runs made one at the pick's settings.
  const picked = predictions.picked;
  const pickMany = sameSettings(picked, r.pickSettings)
    ? r.pickMany
    : (r.heldOut.find((c) => c.settings.workers === r.pickWorkers && sameSettings(c.settings, picked))?.measured.throughput ?? null);
  const frame: ReportFrame = {
    machine: { ...r.machine, cores },
    replay: { at: new Date().toISOString(), source: options.source ?? null },
    workload: r.workload,
    axes: r.axes,
    model,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
  };
  return reportOf(frame, predictions, r.heldOut, pickMany, r.repeats);
}

/** What a replay reads from a saved report, checked. */
type SavedReport = {
  machine: ValidationReport['machine'];
  workload: Workload;
  axes: GridAxes;
  model: Omit<ModelSettings, 'cpuSliceMs' | 'deadEntryMs'> & { cpuSliceMs?: number; deadEntryMs?: number };
  startedAt: string;
  finishedAt: string;
  fit?: NonNullable<CalibrationRequest['fit']>;
  maxEvaluations?: number;
  single: MeasuredCell[];
  heldOut: MeasuredCell[];
  repeats: number;
  pickWorkers: number;
  pickSettings: Omit<CellSettings, 'workers'>;
  pickMany: number | null;
};

const Positive = Type.Number({ exclusiveMinimum: 0 });
const NonNegative = Type.Number({ minimum: 0 });
const AtLeast = (minimum: number) => Type.Integer({ minimum });
const SeriesSchema = Type.Object({
  strategy: Type.Enum([...CLAIM_STRATEGIES]),
  batchSize: AtLeast(1),
  poolSize: AtLeast(1),
  flushSize: AtLeast(1),
  flushMs: NonNegative,
});
const SwitchesSchema = Type.Object({ voluntary: NonNegative, involuntary: NonNegative });
const CellSchema = Type.Object({
  settings: Type.Intersect([Type.Object({ workers: AtLeast(1) }), SeriesSchema]),
  measured: Type.Object({
    throughput: Positive,
    claimMs: Type.Optional(Positive),
    persistMs: Type.Optional(Positive),
    claimsPerJob: Type.Optional(Positive),
    workerCpuMsPerJob: Type.Optional(Positive),
    dbCpuMsPerJob: Type.Optional(Positive),
    workerLoopCpuMsPerJob: Type.Optional(Positive),
    elapsedMs: NonNegative,
    host: Type.Optional(Type.Object({ stealMs: NonNegative, idleMs: NonNegative, otherMs: Type.Union([NonNegative, Type.Null()]) })),
    switches: Type.Optional(Type.Object({ worker: SwitchesSchema, database: Type.Union([SwitchesSchema, Type.Null()]) })),
  }),
  // Reports from before repeats kept one run a cell.
  throughputs: Type.Optional(Type.Array(Positive, { minItems: 1 })),
});
/** What a saved report (`fleetscale lab claims validate --out`) must hold for a replay; extra fields are kept as they are. */
const SavedReportSchema = Type.Object({
  machine: Type.Object({ cores: Type.Number({ minimum: 1 }), cpu: Type.Optional(Type.Unknown()), node: Type.Optional(Type.Unknown()), postgres: Type.Optional(Type.Unknown()) }),
  workload: Type.Object({ jobs: AtLeast(1), workMs: NonNegative, concurrency: AtLeast(1), warmupJobs: Type.Optional(AtLeast(0)) }),
  axes: Type.Object({}),
  // Each model setting is absent from reports made before it existed; the replay supplies what those ran with.
  model: Type.Optional(
    Type.Object({
      cpuSliceMs: Type.Optional(NonNegative),
      cpuSwitchMs: Type.Optional(NonNegative),
      deadEntryMs: Type.Optional(NonNegative),
      skipRowMs: Type.Optional(Type.Union([NonNegative, Type.Null()])),
      cpuGrowth: Type.Optional(Type.Array(Type.Unknown())),
      loopOrder: Type.Optional(Type.Enum([...LOOP_ORDERS])),
      workerBackgroundShare: Type.Optional(NonNegative),
      backgroundShares: Type.Optional(Type.Union([Type.Array(NonNegative), Type.Null()])),
    }),
  ),
  calibration: Type.Object({ cells: Type.Array(CellSchema, { minItems: 1 }), fit: Type.Optional(Type.Array(Type.String())), maxEvaluations: Type.Optional(AtLeast(1)) }),
  heldOut: Type.Array(CellSchema, { minItems: 1 }),
  pick: Type.Object({ workers: AtLeast(2), settings: SeriesSchema, measured: Type.Optional(Type.Union([Type.Object({ many: Positive }), Type.Null()])) }),
  startedAt: Type.Optional(Type.String()),
  finishedAt: Type.Optional(Type.String()),
});

const notAReport = (what: string) => claimsError('ERR_CLAIMS_INPUT', `not a validation report (fleetscale lab claims validate --out): ${what}`);
const checkSavedReport = schemaCheck(SavedReportSchema, notAReport, { root: 'the report' });

function savedReport(value: unknown): SavedReport {
  const root = checkSavedReport(value);
  const cellOf = (c: Static<typeof CellSchema>): MeasuredCell => {
    const { settings, measured, throughputs } = c;
    return {
      settings: {
        workers: settings.workers,
        strategy: settings.strategy,
        batchSize: settings.batchSize,
        poolSize: settings.poolSize,
        flushSize: settings.flushSize,
        flushMs: settings.flushMs,
      },
      measured: { ...measured },
      throughputs: throughputs ?? [measured.throughput],
    };
  };
  const single = root.calibration.cells.map(cellOf);
  const heldOut = root.heldOut.map(cellOf);
  for (const [i, c] of single.entries()) {
    if (c.settings.workers !== 1) throw notAReport(`calibration.cells[${i}] ran ${c.settings.workers} workers; calibration cells run 1`);
  }
  for (const [i, c] of heldOut.entries()) {
    if (c.settings.workers < 2) throw notAReport(`heldOut[${i}] ran ${c.settings.workers} worker; held-out cells run 2 or more`);
    if (!single.some((s) => sameSettings(s.settings, c.settings)))
      throw notAReport(`heldOut[${i}] (${cellName(c.settings)}) has no single-worker cell of its settings to compare with`);
  }
  const model = (root.model ?? {}) as Static<NonNullable<typeof SavedReportSchema.properties.model>> & Record<string, unknown>;
  const { strategy, batchSize, poolSize, flushSize, flushMs } = root.pick.settings;
  const repeats = Math.max(...[...single, ...heldOut].map((c) => c.throughputs.length));
  return {
    machine: {
      cores: root.machine.cores,
      cpu: String(root.machine.cpu ?? 'unknown'),
      node: String(root.machine.node ?? 'unknown'),
      postgres: typeof root.machine.postgres === 'string' ? root.machine.postgres : null,
    },
    workload: { jobs: root.workload.jobs, workMs: root.workload.workMs, concurrency: root.workload.concurrency, warmupJobs: root.workload.warmupJobs },
    axes: root.axes as unknown as GridAxes,
    model: {
      cpuSliceMs: model.cpuSliceMs,
      sliceProbe: (model.sliceProbe ?? null) as ModelSettings['sliceProbe'],
      // Reports from before the setting charged no switches.
      cpuSwitchMs: model.cpuSwitchMs ?? 0,
      switchProbe: (model.switchProbe ?? null) as ModelSettings['switchProbe'],
      deadEntryMs: model.deadEntryMs,
      deadEntryProbe: (model.deadEntryProbe ?? null) as ModelSettings['deadEntryProbe'],
      // Reports from before the probe fitted it (their calibration.fit names dbSkipRowMs).
      skipRowMs: model.skipRowMs ?? null,
      skipRowProbe: (model.skipRowProbe ?? null) as ModelSettings['skipRowProbe'],
      // Reports from before the model had growth: none. The model checks the points themselves.
      cpuGrowth: (model.cpuGrowth ?? []) as CpuGrowthPoint[],
      growthProbe: (model.growthProbe ?? null) as ModelSettings['growthProbe'],
      // Reports from before the setting ran FIFO loops.
      loopOrder: model.loopOrder ?? 'fifo',
      // Reports from before the setting kept all of the workers' CPU on their loops.
      workerBackgroundShare: model.workerBackgroundShare ?? 0,
      backgroundShares: model.backgroundShares ?? null,
    },
    startedAt: root.startedAt ?? '',
    finishedAt: root.finishedAt ?? '',
    fit: root.calibration.fit as NonNullable<CalibrationRequest['fit']> | undefined,
    maxEvaluations: root.calibration.maxEvaluations,
    single,
    heldOut,
    repeats,
    pickWorkers: root.pick.workers,
    pickSettings: { strategy, batchSize, poolSize, flushSize, flushMs },
    pickMany: root.pick.measured?.many ?? null,
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
