/** `fleetscale claims`: the PostgreSQL batch-claim queue's harness. */
import { DEFAULT_WARMUP_JOBS, runClaims, type ClaimsRunReport } from '../claims/harness.js';
import { CLAIM_STRATEGIES, type ClaimStrategy } from '../../claims/queue.js';
import { probeSchedulerSlice } from '../claims/scheduler-probe.js';
import { probeStatementCpu } from '../claims/statement-cpu-probe.js';
import { probeSwitchCost } from '../claims/switch-probe.js';
import { intItem, listOption, numberOption, parseArgs, UsageError, pgUrlOption } from '../../cli/args.js';
import { sweepCommand, sweepUsage, validateCommand, validateUsage } from './claims-grid.js';
import { ProgressBar } from '../../cli/progress.js';

const runUsage = `fleetscale lab claims run --workers W --batch B --strategy S --jobs N --work-ms X
                [--concurrency 4] [--pool 10] [--flush-size 100] [--flush-ms 500] [--lease-ms 30000]
                [--window-ms 10000] [--warmup ${DEFAULT_WARMUP_JOBS}] [--pg URL] [--schema fleetscale_claims] [--keep] [--json]
  Enqueues N jobs in PostgreSQL (--pg or FLEETSCALE_PG_URL), runs W worker processes with C
  consumers each claiming batches of B (strategy ${CLAIM_STRATEGIES.join(' | ')}), X ms of CPU per job,
  results flushed in transactions of --flush-size or every --flush-ms, and prints throughput and
  the per-window claim / persist / work totals. --warmup J has every worker run J jobs of its own
  first, off the clock (warm code, connections and plans). --json prints one JSON object instead.`;

const probeUsage = `fleetscale lab claims probe [--processes CORES+1] [--duration-ms 1500] [--json]
  Measures this host's scheduler time slice (the model's cpuSliceMs): forks one more busy
  process than there are cores and times how long each runs before it is switched out.
fleetscale lab claims probe --statements [--workers 1,2,4,8] [--connections 4] [--rows 10] [--duration-ms 2000]
                [--rounds 3] [--warmup 2000] [--pg URL] [--json]
  Measures how the CPU a statement costs (worker and database) grows with the number of worker
  processes (the model's cpuGrowth): each count of processes runs round trips on all its
  connections at once, warm, in --rounds rounds; growth is over the single worker's cost.
fleetscale lab claims probe --switch [--units 10000] [--rounds 3] [--json]
  Measures what a switch between processes on one core costs the one switched in (the model's
  cpuSwitchMs): a unit of work timed in one process alone, then in two pinned to one core
  taking turns (and, for the record, two on two cores). Needs Linux and taskset.`;

export const claimsUsage = [runUsage, sweepUsage, validateUsage, probeUsage].join('\n');

async function probeCommand(argv: string[]): Promise<void> {
  if (argv.includes('--statements')) return statementProbeCommand(argv);
  if (argv.includes('--switch')) return switchProbeCommand(argv);
  const args = parseArgs(argv, ['json'], ['processes', 'duration-ms']);
  const report = await probeSchedulerSlice({
    processes: args.options.has('processes') ? numberOption(args, 'processes', 0, { integer: true, min: 2 }) : undefined,
    durationMs: numberOption(args, 'duration-ms', 1500, { min: 100 }),
  });
  if (args.options.has('json')) return void process.stdout.write(`${JSON.stringify(report)}\n`);
  process.stdout.write(
    `scheduler slice ${report.sliceMs.toFixed(2)} ms (median of ${report.runs} runs of ${report.processes} busy processes on ${report.cores} cores; median wait switched out ${report.waitMs.toFixed(2)} ms)\n` +
      `  model it with cpuSliceMs: ${report.sliceMs.toFixed(2)} (fleetscale lab claims validate --cpu-slice-ms ${report.sliceMs.toFixed(2)})\n`,
  );
}

async function switchProbeCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['json', 'switch'], ['units', 'rounds']);
  const report = await probeSwitchCost({
    units: numberOption(args, 'units', 10_000, { integer: true, min: 100 }),
    rounds: numberOption(args, 'rounds', 3, { integer: true, min: 1 }),
  });
  if (args.options.has('json')) return void process.stdout.write(`${JSON.stringify(report)}\n`);
  process.stdout.write(
    `switch between processes on one core: ${(report.switchMs * 1000).toFixed(1)} µs to the one switched in (CPU per unit, median of ${report.rounds} runs of ${report.units}: ${report.aloneUs.toFixed(1)} µs alone, ${report.sharedUs.toFixed(1)} µs taking turns on cpu ${report.cpus[0]}` +
      `${report.apartUs === null ? '' : `; ${report.apartUs.toFixed(1)} µs taking turns on cpus ${report.cpus.join(' and ')}, each woken on an idle core`})\n` +
      `  model it with cpuSwitchMs: ${report.switchMs.toFixed(4)} (fleetscale lab claims validate --cpu-switch-ms ${report.switchMs.toFixed(4)})\n`,
  );
}

async function statementProbeCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['json', 'statements'], ['workers', 'connections', 'rows', 'duration-ms', 'rounds', 'warmup', 'pg']);
  const report = await probeStatementCpu({
    url: pgUrlOption(args),
    workers: listOption(args, 'workers', [1, 2, 4, 8], intItem('workers', 1)),
    connections: numberOption(args, 'connections', 4, { integer: true, min: 1 }),
    rows: numberOption(args, 'rows', 10, { integer: true, min: 1 }),
    durationMs: numberOption(args, 'duration-ms', 2000, { min: 50 }),
    rounds: numberOption(args, 'rounds', 3, { integer: true, min: 1 }),
    warmupStatements: numberOption(args, 'warmup', 2000, { integer: true, min: 0 }),
  });
  if (args.options.has('json')) return void process.stdout.write(`${JSON.stringify(report)}\n`);
  const log = (line: string) => void process.stdout.write(`${line}\n`);
  log(
    `statement CPU on ${report.cores} cores: ${report.connections} connections per worker, ${report.rows} rows per statement, median of ${report.rounds} rounds of ${report.durationMs} ms`,
  );
  log(`  workers  statements/s  worker µs/stmt  db µs/stmt  ratio: worker    db  fitted: worker    db`);
  report.points.forEach((p, i) => {
    const [r, g] = [report.ratios[i], report.growth[i]];
    log(
      `  ${String(p.workers).padStart(7)}  ${Math.round(p.statementsPerS).toLocaleString('en-US').padStart(12)}  ${p.workerUs.toFixed(1).padStart(14)}  ${(p.dbUs === null ? '—' : p.dbUs.toFixed(1)).padStart(10)}  ${r.worker.toFixed(2).padStart(13)}  ${r.db.toFixed(2).padStart(4)}  ${g.worker.toFixed(2).padStart(14)}  ${g.db.toFixed(2).padStart(4)}`,
    );
  });
  log(`  growth per worker beyond the first (least-squares line through 1 worker's 1): worker +${report.slope.worker.toFixed(3)}, database +${report.slope.db.toFixed(3)}`);
  log(`  model it with cpuGrowth: ${JSON.stringify(report.growth.map((g) => ({ workers: g.workers, worker: +g.worker.toFixed(3), db: +g.db.toFixed(3) })))}`);
}

const ms = (x: number) => `${Math.round(x).toLocaleString('en-US')} ms`;

/** Prints a run for people. */
export function printClaimsReport(r: ClaimsRunReport, out: NodeJS.WritableStream = process.stdout): void {
  const log = (s: string) => void out.write(`${s}\n`);
  const t = r.totals;
  log(
    `${r.strategy}: ${r.workers} worker(s) × ${r.concurrency} consumers, batch ${r.batchSize}, pool ${r.poolSize}, flush ${r.flushSize} / ${r.flushMs} ms, work ${r.workMs} ms/job${r.warmupJobs ? `, ${r.warmupJobs} warm-up jobs per worker off the clock` : ''}`,
  );
  log(
    `  ${r.completed.toLocaleString('en-US')} of ${r.jobs.toLocaleString('en-US')} jobs in ${ms(r.elapsedMs)}: ${Math.round(r.throughput).toLocaleString('en-US')} jobs/s${r.failed ? `, ${r.failed} failed` : ''}`,
  );
  log(
    `  claims ${t.claimBatches} (${t.partialBatches} partial, ${t.emptyClaims} empty), ${ms(t.claimMs)} in all, ${(t.claimMs / Math.max(1, t.claimBatches)).toFixed(2)} ms each; persist ${t.persistFlushes} flushes, ${ms(t.persistMs)}; work ${ms(t.workMs)}`,
  );
  const perJob = (v: number | null) => (v === null ? '—' : `${(v * 1000).toFixed(1)} µs/job`);
  if (r.latencyMs) log(`  claim to complete: p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms, max ${r.latencyMs.max.toFixed(1)} ms`);
  log(
    `  cpu: workers ${ms(r.cpu.workerMs)} (${perJob(r.cpu.workerMsPerJob)}), database ${r.cpu.databaseMs === null ? 'not on this host' : `${ms(r.cpu.databaseMs)} (${perJob(r.cpu.databaseMsPerJob)})`}`,
  );
  log(`  window  claim batches  claim ms  partial  persist ms  work ms  completed`);
  for (const w of r.windows) {
    log(
      `  ${String(w.index).padStart(6)}  ${String(w.claimBatches).padStart(13)}  ${String(Math.round(w.claimMs)).padStart(8)}  ${String(w.partialBatches).padStart(7)}  ${String(Math.round(w.persistMs)).padStart(10)}  ${String(Math.round(w.workMs)).padStart(7)}  ${String(w.completed).padStart(9)}`,
    );
  }
}

export async function claimsCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === 'sweep') return sweepCommand(rest);
  if (sub === 'validate') return validateCommand(rest);
  if (sub === 'probe') return probeCommand(rest);
  if (sub !== 'run') throw new UsageError(sub === undefined ? 'name a subcommand: run, sweep, validate or probe' : `unknown subcommand "${sub}" (run, sweep, validate, probe)`);
  const args = parseArgs(
    rest,
    ['json', 'keep'],
    ['workers', 'batch', 'strategy', 'jobs', 'work-ms', 'concurrency', 'pool', 'flush-size', 'flush-ms', 'lease-ms', 'window-ms', 'warmup', 'pg', 'schema'],
  );
  const strategy = String(args.options.get('strategy') ?? 'skip-locked');
  if (!CLAIM_STRATEGIES.includes(strategy as ClaimStrategy)) throw new UsageError(`--strategy must be one of ${CLAIM_STRATEGIES.join(', ')}, got ${strategy}`);
  const jobs = numberOption(args, 'jobs', 10_000, { integer: true, min: 1 });
  const bar = new ProgressBar('claims', jobs);
  const report = await runClaims({
    url: pgUrlOption(args),
    schema: args.options.has('schema') ? String(args.options.get('schema')) : undefined,
    workers: numberOption(args, 'workers', 1, { integer: true, min: 1 }),
    batchSize: numberOption(args, 'batch', 10, { integer: true, min: 1 }),
    strategy: strategy as ClaimStrategy,
    jobs,
    workMs: numberOption(args, 'work-ms', 0, { min: 0 }),
    concurrency: numberOption(args, 'concurrency', 4, { integer: true, min: 1 }),
    poolSize: numberOption(args, 'pool', 10, { integer: true, min: 1 }),
    flushSize: numberOption(args, 'flush-size', 100, { integer: true, min: 1 }),
    flushMs: numberOption(args, 'flush-ms', 500, { integer: true, min: 0 }),
    leaseMs: numberOption(args, 'lease-ms', 30_000, { integer: true, min: 10 }),
    windowMs: numberOption(args, 'window-ms', 10_000, { integer: true, min: 1 }),
    warmupJobs: numberOption(args, 'warmup', DEFAULT_WARMUP_JOBS, { integer: true, min: 0 }),
    keep: args.options.has('keep'),
    onProgress: (done, total) => bar.update(done, total),
  });
  bar.done();
  if (args.options.has('json')) process.stdout.write(`${JSON.stringify(report)}\n`);
  else printClaimsReport(report);
}
