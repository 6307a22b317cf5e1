/** `fleetscale lab claims sweep` and `fleetscale lab claims validate`: grids of harness runs. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { cellName, gridCells, runCells, type GridAxes, type OnRun, type Workload } from '../claims/grid.js';
import { DEFAULT_WARMUP_JOBS } from '../claims/harness.js';
import { CLAIM_STRATEGIES, type ClaimStrategy } from '../../claims/queue.js';
import type { CpuGrowthPoint } from '../claims/statement-cpu-probe.js';
import { claimsError } from '../../claims/errors.js';
import { isLoopOrder, LOOP_ORDERS, type LoopOrder } from '../../claims/model.js';
import { Ticker } from '../../cli/progress.js';
import { replayValidation, validateModel, validationPlot, type ValidationReport, type ValidationStep } from '../claims/validate.js';
import { intItem, listOption, numberOption, parseArgs, UsageError, type ParsedArgs, pgUrlOption } from '../../cli/args.js';

const GRID_OPTIONS = ['workers', 'strategy', 'batch', 'pool', 'flush', 'jobs', 'work-ms', 'concurrency', 'warmup', 'repeats', 'pg', 'schema', 'out'] as const;

function strategyItem(item: string): ClaimStrategy {
  if (!CLAIM_STRATEGIES.includes(item as ClaimStrategy)) throw new UsageError(`--strategy items must be among ${CLAIM_STRATEGIES.join(', ')}, got ${item}`);
  return item as ClaimStrategy;
}

function flushItem(item: string): { size: number; ms: number } {
  const m = /^(\d+)\/(\d+)$/.exec(item);
  if (!m || Number(m[1]) < 1) throw new UsageError(`--flush items are SIZE/MS (results per flush / longest wait), e.g. 100/500, got ${item}`);
  return { size: Number(m[1]), ms: Number(m[2]) };
}

function gridArgs(args: ParsedArgs, defaults: GridAxes & Workload): { axes: GridAxes; workload: Workload; repeats: number; connection: { url: string; schema?: string } } {
  return {
    repeats: numberOption(args, 'repeats', 1, { integer: true, min: 1 }),
    axes: {
      workers: listOption(args, 'workers', defaults.workers, intItem('workers', 1)),
      strategies: listOption(args, 'strategy', defaults.strategies, strategyItem),
      batchSizes: listOption(args, 'batch', defaults.batchSizes, intItem('batch', 1)),
      poolSizes: listOption(args, 'pool', defaults.poolSizes, intItem('pool', 1)),
      flushes: listOption(args, 'flush', defaults.flushes, flushItem),
    },
    workload: {
      jobs: numberOption(args, 'jobs', defaults.jobs, { integer: true, min: 1 }),
      workMs: numberOption(args, 'work-ms', defaults.workMs, { min: 0 }),
      concurrency: numberOption(args, 'concurrency', defaults.concurrency, { integer: true, min: 1 }),
      warmupJobs: numberOption(args, 'warmup', defaults.warmupJobs ?? 0, { integer: true, min: 0 }),
    },
    connection: {
      url: pgUrlOption(args),
      schema: args.options.has('schema') ? String(args.options.get('schema')) : undefined,
    },
  };
}

function writeOut(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

const fmt = (v: number | undefined, digits = 0) => (v === undefined ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const pct = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;

export const sweepUsage = `fleetscale lab claims sweep [--workers 1,2,4] [--strategy skip-locked,...] [--batch 10,100] [--pool 10]
                [--flush 100/500] [--jobs 20000] [--work-ms 0.1] [--concurrency 4] [--warmup ${DEFAULT_WARMUP_JOBS}] [--repeats 1] [--pg URL] [--out FILE] [--json]
  Runs every combination of the lists, one run at a time, and prints each run's throughput,
  claim and flush times and CPU per job. With --repeats N every cell runs N times (later passes
  in shuffled order) and keeps its median run. --out writes the JSON; --json prints it.`;

export async function sweepCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['json'], GRID_OPTIONS);
  const { axes, workload, repeats, connection } = gridArgs(args, {
    workers: [1, 2, 4],
    strategies: ['skip-locked'],
    batchSizes: [10, 100],
    poolSizes: [10],
    flushes: [{ size: 100, ms: 500 }],
    jobs: 20_000,
    workMs: 0.1,
    concurrency: 4,
    warmupJobs: DEFAULT_WARMUP_JOBS,
  });
  const cells = gridCells(axes);
  const log = (s: string) => void process.stderr.write(`${s}\n`);
  log(
    `sweep: ${cells.length} cells × ${repeats} run(s) × ${workload.jobs.toLocaleString('en-US')} jobs, ${workload.workMs} ms of work each, ${workload.concurrency} consumers per worker`,
  );
  const onRun: OnRun = (run, done, of) => {
    const r = run.report;
    const t = r.totals;
    log(
      `[${done}/${of}] ${cellName(run.settings).padEnd(44)} ${fmt(r.throughput).padStart(7)} jobs/s  claim ${fmt(t.claimMs / Math.max(1, t.claimBatches), 2)} ms  flush ${fmt(t.persistMs / Math.max(1, t.persistFlushes), 1)} ms  cpu ${fmt(r.cpu.workerMsPerJob * 1000, 1)} + ${r.cpu.databaseMsPerJob === null ? '—' : fmt(r.cpu.databaseMsPerJob * 1000, 1)} µs/job`,
    );
  };
  const runs = await runCells(cells, workload, connection, onRun, repeats);
  const result = { workload, axes, repeats, cells: runs.map((r) => ({ name: cellName(r.settings), settings: r.settings, throughputs: r.throughputs, report: r.report })) };
  const json = `${JSON.stringify(result, null, 1)}\n`;
  if (args.options.has('out')) writeOut(String(args.options.get('out')), json);
  if (args.options.has('json')) process.stdout.write(json);
}

export const validateUsage = `fleetscale lab claims validate [--workers 2,4,8] [--strategy optimistic-any,skip-locked,partitioned]
                [--batch 10,100] [--pool 2,10] [--flush 100/200,1000/1000] [--jobs 20000] [--work-ms 0.1]
                [--warmup ${DEFAULT_WARMUP_JOBS}] [--pick-workers 3] [--repeats 1] [--cpu-slice-ms X] [--cpu-switch-ms X] [--dead-entry-ms X] [--skip-row-ms X] [--cpu-growth W:F:F,...|off] [--loop-order fifo|continuations-first] [--background-share X] [--out FILE.json] [--svg FILE.svg] [--pg URL] [--json]
  Calibrates the contention model on single-worker runs of every setting, predicts every
  held-out cell (the worker counts × the settings) before running it, runs them, and reports
  the error per cell, MAPE, the worst cell, the speedup error, Spearman's rho, and the model's
  pick of the fastest settings at --pick-workers workers with its measured speedup. --repeats N
  runs every cell N times and keeps its median (and reports how far repeats spread). Before the
  runs it measures the host's scheduler slice (as \`fleetscale lab claims probe\` does), which the
  model's CPU runs in, unless --cpu-slice-ms gives it (0: processor sharing); what a switch
  between processes on one core costs the one switched in (as \`fleetscale lab claims probe --switch\`
  measures it), unless --cpu-switch-ms gives it; what a dead
  index entry costs a claim on the server, unless --dead-entry-ms gives it; what a row another
  claim holds costs a skip-locked scan that passes it, unless --skip-row-ms gives it; and how statement
  CPU grows with the worker count (as \`fleetscale lab claims probe --statements\` does), unless
  --cpu-growth gives it as workers:worker-factor:db-factor points (off: no growth). --loop-order sets how the
  model's worker loops order their work (fifo, the default, or continuations-first, as Node resumes an await).
  --background-share gives the share of the workers' own CPU their background threads (garbage collection,
  compilation) spend beside the event loop; by default the single-worker runs measure it.
  Every worker of every run first runs --warmup jobs of its own off the clock, so runs measure warm workers.
fleetscale lab claims validate --replay FILE.json [--cpu-slice-ms X] [--cpu-switch-ms X] [--dead-entry-ms X] [--skip-row-ms X] [--cpu-growth W:F:F,...|off] [--loop-order fifo|continuations-first] [--background-share X] [--out FILE.json] [--svg FILE.svg] [--json]
  Redoes a saved report's calibration and predictions on its own measurements with this build's
  model, and reports as above; nothing runs against a database. The model's settings are the
  report's unless given, so a replay reproduces the report it reads; give one to see what it
  changes. The grid and the workload come from the file.`;

export function printValidation(r: ValidationReport, out: NodeJS.WritableStream = process.stdout): void {
  const log = (s: string) => void out.write(`${s}\n`);
  const s = r.summary;
  if (r.replay) log(`replay${r.replay.source ? ` of ${r.replay.source}` : ''}: calibration and predictions redone on runs measured ${r.startedAt} to ${r.finishedAt}; nothing ran`);
  log(
    `model vs ${r.machine.cores}-core host (${r.machine.cpu}), PostgreSQL ${r.machine.postgres ?? '?'}, ${r.workload.jobs.toLocaleString('en-US')} jobs × ${r.workload.workMs} ms`,
  );
  const slice = r.model.sliceProbe;
  log(
    `CPU: ${r.model.cpuSliceMs > 0 ? `time slices of ${r.model.cpuSliceMs.toFixed(2)} ms` : 'processor sharing'}${slice ? ` (probe: median of ${slice.runs} runs of ${slice.processes} busy processes on ${slice.cores} cores)` : ' (given)'}; worker loops ${r.model.loopOrder}`,
  );
  const switched = r.model.switchProbe;
  log(
    `switch between processes on a core: ${(r.model.cpuSwitchMs * 1000).toFixed(1)} µs to the one switched in${switched ? ` (probe: ${switched.sharedUs.toFixed(1)} µs a unit taking turns on one core, ${switched.aloneUs.toFixed(1)} µs alone)` : ' (given)'}${r.model.cpuSliceMs > 0 ? '' : ', not charged under processor sharing'}`,
  );
  const growth = r.model.cpuGrowth;
  log(
    `statement CPU growth: ${growth.length === 0 ? 'none' : growth.map((g) => `${g.workers} workers ×${g.worker.toFixed(2)} worker, ×${g.db.toFixed(2)} database`).join('; ')}${r.model.growthProbe ? ` (probe: median of ${r.model.growthProbe.rounds} rounds of ${r.model.growthProbe.durationMs} ms)` : ' (given)'}`,
  );
  const shares = r.model.backgroundShares;
  log(
    `worker CPU beside the event loop (background threads): ${(r.model.workerBackgroundShare * 100).toFixed(1)}% of the workers' own${shares ? (shares.length > 0 ? ` (median of ${shares.length} single-worker runs, ${(Math.min(...shares) * 100).toFixed(1)}–${(Math.max(...shares) * 100).toFixed(1)}%)` : ' (not measured: all of it on the loop)') : ' (given)'}`,
  );
  const probe = r.model.deadEntryProbe;
  log(
    `dead index entry: ${(r.model.deadEntryMs * 1e6).toFixed(1)} ns each${probe ? ` (probe: ${probe.entries.toLocaleString('en-US')} entries scanned in ${probe.scanMs.toFixed(3)} ms, none in ${probe.emptyScanMs.toFixed(3)} ms)` : ' (given)'}`,
  );
  const skip = r.model.skipRowProbe;
  log(
    r.model.skipRowMs === null
      ? 'row held by another claim, passed by a skip-locked scan: fitted by calibration'
      : `row held by another claim, passed by a skip-locked scan: ${(r.model.skipRowMs * 1e6).toFixed(0)} ns each${skip ? ` (probe: past ${skip.rows.toLocaleString('en-US')} held rows in ${skip.scanMs.toFixed(3)} ms, none in ${skip.freeScanMs.toFixed(3)} ms)` : ' (given)'}`,
  );
  log(`calibration: ${r.calibration.cells.length} single-worker cells, ${r.calibration.evaluations} simulations of each, ${(r.calibration.ms / 1000).toFixed(1)} s`);
  for (const c of r.calibration.cells) log(`  ${c.name.padEnd(46)} measured ${fmt(c.measured.throughput).padStart(7)}  fitted ${fmt(c.predicted).padStart(7)}  ${pct(c.error)}`);
  const fitErrors = r.calibration.meanErrors;
  if (fitErrors) {
    const quantities = Object.entries(fitErrors).filter((e): e is [string, number] => e[1] !== null);
    log(`  the fit, mean predicted ÷ measured − 1: ${quantities.map(([q, e]) => `${q} ${pct(e)}`).join(', ')}`);
  }
  log(`held out: ${s.cells} cells (${r.replay ? 'predicted from the single-worker cells alone' : 'predicted before they ran'})`);
  for (const c of r.heldOut) {
    log(
      `  ${c.name.padEnd(46)} measured ${fmt(c.measured.throughput).padStart(7)}  predicted ${fmt(c.predicted.throughput).padStart(7)}  ${pct(c.error).padStart(7)}  speedup ${c.speedup.measured.toFixed(2)} vs ${c.speedup.predicted.toFixed(2)}  ${c.predicted.bottleneck}`,
    );
  }
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  log(
    `MAPE ${(s.mape * 100).toFixed(1)}% (target ≤ ${s.targets.mape * 100}%: ${mark(s.met.mape)}); worst ${pct(s.worst.error)} at ${s.worst.name} (≤ ${s.targets.worst * 100}%: ${mark(s.met.worst)})`,
  );
  log(
    `Spearman rho ${s.spearman.toFixed(3)} (≥ ${s.targets.spearman}: ${mark(s.met.spearman)}); speedup error mean ${s.speedupError.mean.toFixed(3)}, worst ${s.speedupError.worst.toFixed(3)} at ${s.speedupError.worstName} (mean ≤ ${s.targets.speedupError}: ${mark(s.met.speedupError)})`,
  );
  const n = s.noise;
  if (n.repeats > 1)
    log(
      `measurement noise: ${n.repeats} runs per cell, spread (max − min) / median ${(n.medianSpread * 100).toFixed(1)}% at the median cell, ${(n.worstSpread * 100).toFixed(1)}% at worst (${n.worstName})`,
    );
  if (n.floor)
    log(
      `noise floor: a model exact on every cell would still show MAPE ${(n.floor.mape * 100).toFixed(1)}%, a worst cell of ${(n.floor.worst * 100).toFixed(1)}% and speedup error ${n.floor.speedupError.toFixed(3)} against these runs (bootstrap of the repeats)`,
    );
  const p = r.pick;
  const measured = p.measured
    ? `measured ${fmt(p.measured.one)} → ${fmt(p.measured.many)} (${p.measured.speedup.toFixed(2)}×)`
    : `not measured at ${p.workers} workers in the replayed runs`;
  log(
    `model's pick for ${p.workers} workers: ${p.settings.strategy} B${p.settings.batchSize} P${p.settings.poolSize} F${p.settings.flushSize}/${p.settings.flushMs}ms: predicted ${fmt(p.predicted.one)} → ${fmt(p.predicted.many)} jobs/s (${p.predicted.speedup.toFixed(2)}×, ${p.predicted.bottleneck}); ${measured}`,
  );
}

function loopOrderOption(value: string): LoopOrder {
  if (!isLoopOrder(value)) throw new UsageError(`--loop-order must be one of ${LOOP_ORDERS.join(', ')}, got ${JSON.stringify(value)}`);
  return value;
}

export async function validateCommand(argv: string[]): Promise<void> {
  const args = parseArgs(
    argv,
    ['json'],
    [...GRID_OPTIONS, 'svg', 'pick-workers', 'cpu-slice-ms', 'cpu-switch-ms', 'dead-entry-ms', 'skip-row-ms', 'cpu-growth', 'loop-order', 'background-share', 'replay'],
  );
  const model = {
    cpuSliceMs: args.options.has('cpu-slice-ms') ? numberOption(args, 'cpu-slice-ms', 0, { min: 0 }) : undefined,
    cpuSwitchMs: args.options.has('cpu-switch-ms') ? numberOption(args, 'cpu-switch-ms', 0, { min: 0 }) : undefined,
    deadEntryMs: args.options.has('dead-entry-ms') ? numberOption(args, 'dead-entry-ms', 0, { min: 0 }) : undefined,
    skipRowMs: args.options.has('skip-row-ms') ? numberOption(args, 'skip-row-ms', 0, { min: 0 }) : undefined,
    cpuGrowth: args.options.has('cpu-growth') ? growthOption(args) : undefined,
    loopOrder: args.options.has('loop-order') ? loopOrderOption(String(args.options.get('loop-order'))) : undefined,
    workerBackgroundShare: args.options.has('background-share') ? numberOption(args, 'background-share', 0, { min: 0, max: 0.9 }) : undefined,
  };
  // Each step is a line; between steps (a probe, a cell's run: seconds each) a TTY shows the time.
  const ticker = new Ticker();
  const log = (s: string) => {
    ticker.stop();
    process.stderr.write(`${s}\n`);
  };
  const replay = args.options.get('replay');
  const onStep = (step: ValidationStep) => {
    if (step.kind === 'measured') {
      log(`[${step.phase} ${step.done}/${step.of}] ${cellName(step.cell).padEnd(46)} ${fmt(step.throughput).padStart(7)} jobs/s`);
      if (step.done < step.of) ticker.start(`[${step.phase} ${step.done + 1}/${step.of}] running`);
    } else if (step.kind === 'calibrated') log(`calibrated: objective ${step.objective.toFixed(4)} after ${step.evaluations} evaluations (${(step.ms / 1000).toFixed(1)} s)`);
    else if (step.kind === 'probing') {
      log(`probing ${step.probe}`);
      ticker.start(`  probing ${step.probe}`);
    } else log(`predicted ${step.cells} held-out cells${replay === undefined ? '; running them' : ''}`);
  };
  let report: ValidationReport;
  if (replay !== undefined) {
    // The file holds the grid, the workload and the runs: options that would set them clash.
    const clash = [...GRID_OPTIONS, 'pick-workers'].find((o) => o !== 'out' && args.options.has(o));
    if (clash) throw new UsageError(`--replay takes the grid, the workload and the runs from its file; --${clash} cannot go with it`);
    report = await replayValidation(readReport(String(replay)), { ...model, source: String(replay), onStep }).finally(() => ticker.stop());
  } else {
    const { axes, workload, repeats, connection } = gridArgs(args, {
      workers: [2, 4, 8],
      strategies: CLAIM_STRATEGIES,
      batchSizes: [10, 100],
      poolSizes: [2, 10],
      flushes: [
        { size: 100, ms: 200 },
        { size: 1000, ms: 1000 },
      ],
      jobs: 20_000,
      workMs: 0.1,
      concurrency: 4,
      warmupJobs: DEFAULT_WARMUP_JOBS,
    });
    if (axes.workers.some((w) => w < 2)) throw new UsageError('--workers lists the held-out worker counts: 2 or more (calibration runs 1 worker of every setting)');
    report = await validateModel({
      ...connection,
      ...model,
      axes,
      workload,
      pickWorkers: numberOption(args, 'pick-workers', 3, { integer: true, min: 2 }),
      repeats,
      onStep,
    }).finally(() => ticker.stop());
  }
  const json = `${JSON.stringify(report, null, 1)}\n`;
  if (args.options.has('out')) writeOut(String(args.options.get('out')), json);
  if (args.options.has('svg')) writeOut(String(args.options.get('svg')), validationPlot(report));
  if (args.options.has('json')) process.stdout.write(json);
  else printValidation(report);
}

/** A saved report, read and parsed (its shape is `replayValidation`'s to check). */
function readReport(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw claimsError('ERR_CLAIMS_INPUT', `cannot read the report to replay: ${(e as Error).message}`, e);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw claimsError('ERR_CLAIMS_INPUT', `${file} is not JSON: ${(e as Error).message}`, e);
  }
}

/** `--cpu-growth off` or `workers:worker-factor:db-factor,…` (the model's `cpuGrowth`). */
function growthOption(args: ParsedArgs): CpuGrowthPoint[] {
  if (args.options.get('cpu-growth') === 'off') return [];
  return listOption(args, 'cpu-growth', [], (item) => {
    const parts = item.split(':').map(Number);
    const [workers, worker, db] = parts;
    if (parts.length !== 3 || !Number.isInteger(workers) || workers < 1 || !(worker > 0) || !(db > 0) || !Number.isFinite(worker) || !Number.isFinite(db)) {
      throw new UsageError(`--cpu-growth items are workers:worker-factor:db-factor (an integer >= 1 and two positive numbers), or the list is "off"; got ${item}`);
    }
    return { workers, worker, db };
  });
}
