/**
 * The claims harness: enqueues N jobs, runs W worker processes (each with C consumers and a
 * pool of P connections) against one PostgreSQL until the queue is drained, and reports
 * throughput, per-phase totals and the 10 s windows merged over the processes. Workers start
 * together on a signal, after connecting, so the clock measures claiming, not start-up.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { claimsError, intOption, numberOption } from '../../claims/errors.js';
import { checkStrategy, ClaimQueue, type ClaimStrategy } from '../../claims/queue.js';
import { hostCpuSpent, hostCpuTimes, postgresUsage, type HostCpuTimes } from './host-cpu.js';
import { switchesSpent, type Switches } from './ipc.js';
import { DEFAULT_SCHEMA } from '../../claims/schema.js';
import { PerfWindows, type PerfWindow, type PhaseTotals } from '../../claims/windows.js';
import type { WorkerReport } from '../../claims/worker.js';

export type ClaimsRunOptions = {
  /** PostgreSQL connection string. */
  url: string;
  schema?: string;
  workers: number;
  batchSize: number;
  strategy: ClaimStrategy;
  jobs: number;
  /** CPU time each job takes (ms; 0 = none). */
  workMs: number;
  /** Consumers per worker (default 4). */
  concurrency?: number;
  /** Connections per worker (default 10). */
  poolSize?: number;
  /** Results flushed per transaction (default 100). */
  flushSize?: number;
  /** Longest a result waits to be flushed (ms; default 500). */
  flushMs?: number;
  /** Lease of a claim (ms; default 30 s). */
  leaseMs?: number;
  /** Window width of the perf windows (ms; default 10 s). */
  windowMs?: number;
  /**
   * Jobs each worker process claims and completes from a queue of its own before the clock
   * starts (default 0): its JIT-compiled code and its backends' caches and plans are then warm,
   * so the run measures long-running workers rather than their first seconds.
   */
  warmupJobs?: number;
  /** Keep the run's jobs and results in the tables (default false: deleted afterwards). */
  keep?: boolean;
  /** Told completed jobs over all workers as they are flushed. */
  onProgress?: (completed: number, total: number) => void;
};

/** Everything a worker process needs (sent over IPC). */
export type WorkerTask = {
  url: string;
  schema: string;
  queueName: string;
  worker: string;
  index: number;
  strategy: ClaimStrategy;
  batchSize: number;
  concurrency: number;
  poolSize: number;
  flushSize: number;
  flushMs: number;
  leaseMs: number;
  workMs: number;
  windowMs: number;
  workers: number;
  warmupJobs: number;
};

/**
 * How long a harness worker waits after an empty claim while other workers still hold jobs
 * (ms): short, so a drained run ends soon after its last flush. The model's cells use it too.
 */
export const HARNESS_IDLE_MS = 5;

/** Warm-up jobs per worker the CLI's runs take by default (`--warmup`). */
export const DEFAULT_WARMUP_JOBS = 10_000;

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; completed: number }
  | { type: 'done'; report: WorkerReport; cpuMs: number; loopCpuMs: number | null; switches: Switches }
  | { type: 'error'; code?: string; message: string };

export type ClaimsRunReport = {
  strategy: ClaimStrategy;
  workers: number;
  batchSize: number;
  concurrency: number;
  poolSize: number;
  flushSize: number;
  flushMs: number;
  workMs: number;
  /** Jobs each worker ran before the clock started. */
  warmupJobs: number;
  jobs: number;
  completed: number;
  failed: number;
  /** From the start signal to the last worker's last flush (ms). */
  elapsedMs: number;
  /** Completed jobs per second. */
  throughput: number;
  totals: PhaseTotals;
  windows: PerfWindow[];
  /** Claim-to-complete latency of the completed jobs (ms; database clock). */
  latencyMs: { p50: number; p99: number; max: number } | null;
  /** Whether the server runs autovacuum (the harness vacuums the tables before each run either way). */
  autovacuum: boolean;
  perWorker: Array<{ worker: string; completed: number; lostLeases: number; cpuMs: number }>;
  /**
   * CPU the run cost (ms): the worker processes' (user + system, from the start signal on) and
   * the PostgreSQL processes' on this host over the same span (`null` when the database is not
   * on this host or `/proc` cannot tell; it includes any other load on that server). The
   * per-job figures calibrate the contention model.
   */
  cpu: {
    workerMs: number;
    databaseMs: number | null;
    workerMsPerJob: number;
    /**
     * Of `workerMs`, what the workers' main threads spent: their event loops, where statements
     * are sent and decoded and jobs run one at a time (`null` where `/proc` cannot tell). The
     * rest ran beside them on V8's threads (garbage collection, compilation), off the loop.
     */
    workerLoopMs: number | null;
    workerLoopMsPerJob: number | null;
    databaseMsPerJob: number | null;
    /**
     * The whole host over the same span (all cores, ms; `null` where `/proc/stat` cannot tell):
     * busy time (every process, and kernel work such as loopback networking that no process
     * is charged for), steal (cores the hypervisor gave to others) and idle; and per job, steal,
     * idle, and busy time that was neither the workers' nor the database's.
     */
    host: (HostCpuTimes & { otherMsPerJob: number | null; stealMsPerJob: number; idleMsPerJob: number }) | null;
    /**
     * Context switches per job over the run: the worker processes' (all threads) and the
     * PostgreSQL processes' (`null` where `/proc` cannot tell), voluntary (a process blocked:
     * an event loop waiting for replies, a backend for its next statement or a lock) and
     * involuntary (the scheduler took the core away). How often the cores change hands is
     * what sharing them costs beyond the work itself.
     */
    switchesPerJob: { worker: Switches; database: Switches | null };
  };
};

const workerEntry = new URL('./worker-process.js', import.meta.url);

/** Enqueues jobs and runs W worker processes against the queue, reporting throughput, latency, CPU and per-window phase times. */
export async function runClaims(options: ClaimsRunOptions): Promise<ClaimsRunReport> {
  const workers = intOption('workers', options.workers, 1, 256);
  const jobs = intOption('jobs', options.jobs, 1, 100_000_000);
  const task: Omit<WorkerTask, 'worker' | 'index'> = {
    url: options.url,
    schema: options.schema ?? DEFAULT_SCHEMA,
    queueName: `run-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
    strategy: checkStrategy(options.strategy),
    batchSize: intOption('batchSize', options.batchSize, 1, 100_000),
    concurrency: intOption('concurrency', options.concurrency ?? 4, 1, 1000),
    poolSize: intOption('poolSize', options.poolSize ?? 10, 1, 1000),
    flushSize: intOption('flushSize', options.flushSize ?? 100, 1, 1_000_000),
    flushMs: intOption('flushMs', options.flushMs ?? 500, 0),
    leaseMs: intOption('leaseMs', options.leaseMs ?? 30_000, 10),
    workMs: numberOption('workMs', options.workMs, 0, 60_000),
    windowMs: intOption('windowMs', options.windowMs ?? 10_000, 1),
    workers,
    warmupJobs: intOption('warmupJobs', options.warmupJobs ?? 0, 0, 10_000_000),
  };
  const queue = await ClaimQueue.open({ connectionString: options.url, schema: task.schema, poolSize: 2 });
  const children: ChildProcess[] = [];
  try {
    await queue.enqueue(
      task.queueName,
      Array.from({ length: jobs }, (_, i) => ({ i })),
      { partitions: workers },
    );
    const progress = new Array<number>(workers).fill(0);
    const ready: Promise<void>[] = [];
    /** A worker's report with what it measured of its own CPU. */
    type Finished = WorkerReport & Omit<Extract<WorkerMessage, { type: 'done' }>, 'type' | 'report'>;
    const done: Promise<Finished>[] = [];
    for (let w = 0; w < workers; w++) {
      const child = fork(workerEntry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      let markReady!: () => void;
      ready.push(new Promise<void>((r) => (markReady = r)));
      done.push(
        new Promise<Finished>((resolve, reject) => {
          child.on('message', (m: WorkerMessage) => {
            if (m.type === 'ready') markReady();
            else if (m.type === 'progress') {
              progress[w] = m.completed;
              options.onProgress?.(
                progress.reduce((a, b) => a + b, 0),
                jobs,
              );
            } else if (m.type === 'done') {
              const { type: _type, report, ...usage } = m;
              resolve({ ...report, ...usage });
            } else reject(claimsError(m.code === 'ERR_CLAIMS_CONFIG' ? 'ERR_CLAIMS_CONFIG' : 'ERR_CLAIMS_UNAVAILABLE', `worker ${w}: ${m.message}`));
          });
          child.once('exit', (code, signal) => reject(claimsError('ERR_CLAIMS_UNAVAILABLE', `worker ${w} exited (${signal ?? code}) before reporting`)));
        }),
      );
      child.send({ ...task, worker: `w${w}`, index: w } satisfies WorkerTask);
    }
    // A worker failing before it is ready must not leave the others waiting for the signal.
    await Promise.race([Promise.all(ready), Promise.all(done)]);
    // Every run starts from the same table: earlier runs' (and the warm-ups') dead rows
    // reclaimed, statistics that know this run's jobs, hint bits set (else the first claims pay
    // for them).
    await queue.vacuum();
    const autovacuum = await queue.autovacuum();
    // Read before the clock starts: a pass over /proc is not the run's work.
    const db0 = postgresUsage();
    const host0 = hostCpuTimes();
    const start = Date.now();
    const t0 = performance.now();
    for (const child of children) child.send({ type: 'go', start });
    const reports = await Promise.all(done);
    const elapsedMs = performance.now() - t0;
    const db1 = postgresUsage();
    const host1 = hostCpuTimes();
    // Read before the workers close their connections (an exited backend's CPU leaves the sum).
    for (const child of children) child.send({ type: 'release' });
    const databaseMs = db0 === undefined || db1 === undefined ? null : Math.max(0, db1.cpuMs - db0.cpuMs);
    const workerMs = reports.reduce((a, r) => a + r.cpuMs, 0);
    const workerLoopMs = reports.every((r) => r.loopCpuMs !== null) ? reports.reduce((a, r) => a + r.loopCpuMs!, 0) : null;
    const latencyMs = await queue.latency(task.queueName);
    const windows = PerfWindows.merge(reports.map((r) => r.windows));
    const totals = PerfWindows.totals(windows);
    const completed = reports.reduce((a, r) => a + r.completed, 0);
    const perJob = (ms: number) => (completed > 0 ? ms / completed : 0);
    const hostSpent = host0 && host1 ? hostCpuSpent(host0, host1) : undefined;
    // A postgres process that exits over the run (an autovacuum worker) takes its count along: never below 0.
    const switchesPerJob = (s: Switches) => ({ voluntary: perJob(Math.max(0, s.voluntary)), involuntary: perJob(Math.max(0, s.involuntary)) });
    const workerSwitches = reports.reduce((a, r) => ({ voluntary: a.voluntary + r.switches.voluntary, involuntary: a.involuntary + r.switches.involuntary }), {
      voluntary: 0,
      involuntary: 0,
    });
    const dbSwitches = db0 && db1 ? switchesSpent(db0.switches, db1.switches) : undefined;
    const host = hostSpent
      ? {
          ...hostSpent,
          otherMsPerJob: databaseMs === null ? null : perJob(Math.max(0, hostSpent.busyMs - workerMs - databaseMs)),
          stealMsPerJob: perJob(hostSpent.stealMs),
          idleMsPerJob: perJob(hostSpent.idleMs),
        }
      : null;
    return {
      strategy: task.strategy,
      workers,
      batchSize: task.batchSize,
      concurrency: task.concurrency,
      poolSize: task.poolSize,
      flushSize: task.flushSize,
      flushMs: task.flushMs,
      workMs: task.workMs,
      warmupJobs: task.warmupJobs,
      jobs,
      completed,
      failed: totals.failed,
      elapsedMs,
      throughput: (completed / elapsedMs) * 1000,
      totals,
      windows,
      autovacuum,
      latencyMs,
      perWorker: reports.map((r) => ({ worker: r.worker, completed: r.completed, lostLeases: r.lostLeases, cpuMs: r.cpuMs })),
      cpu: {
        workerMs,
        databaseMs,
        workerMsPerJob: perJob(workerMs),
        workerLoopMs,
        workerLoopMsPerJob: workerLoopMs === null ? null : perJob(workerLoopMs),
        databaseMsPerJob: databaseMs === null ? null : perJob(databaseMs),
        host,
        switchesPerJob: { worker: switchesPerJob(workerSwitches), database: dbSwitches ? switchesPerJob(dbSwitches) : null },
      },
    };
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    try {
      if (!options.keep) await queue.purge(task.queueName);
    } finally {
      await queue.close();
    }
  }
}
