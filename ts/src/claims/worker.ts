/**
 * A claims worker: C consumers in one process claim batches from a `ClaimQueue`, run each job
 * through a handler, and buffer the results; a buffer is flushed (results stored and jobs
 * marked done, one transaction) when it holds `flushSize` results or its oldest result is
 * `flushMs` old. While jobs are held their leases are extended, and the worker returns other
 * workers' expired leases to the queue. Every phase is timed into 10 s windows.
 *
 * A database failure stops the worker (its `run()` rejects): whatever it held comes back to
 * the queue when the leases expire, so nothing is lost and nothing is done twice.
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

import { Type } from 'typebox';

import { schemaCheck } from '../schema-check.js';
import { claimsError } from './errors.js';
import { CLAIM_STRATEGIES, type ClaimedJob, type ClaimQueue, type ClaimStrategy } from './queue.js';
import { PerfWindows, type PerfWindow, type PhaseTotals } from './windows.js';

/** What a {@link ClaimWorker} needs: a queue and a handler; everything else has a default. */
export type ClaimWorkerOptions<P = unknown, R = unknown> = {
  /** The queue (the database connection) to claim from. */
  queue: ClaimQueue;
  /** The job's work; what it returns is stored as the result. A throw fails the attempt. */
  handler: (job: ClaimedJob<P>) => R | Promise<R>;
  /** The queue's name in the jobs table, as given to `enqueue` (default `'default'`). */
  queueName?: string;
  /** This worker's name on claimed jobs and stored results (default host:pid:n). */
  worker?: string;
  /** How a batch is claimed (default `'skip-locked'`; see `CLAIM_STRATEGIES`). */
  strategy?: ClaimStrategy;
  /** Jobs a consumer claims at once (default 10). */
  batchSize?: number;
  /** Consumers claiming concurrently (default 4). */
  concurrency?: number;
  /** The worker's partition (`partitioned`; default 0). */
  partition?: number;
  /** Flush once this many results are buffered (default 100). */
  flushSize?: number;
  /** …or once the oldest buffered result is this old (ms; default 500). */
  flushMs?: number;
  /** Lease of a claim (ms; default 30 s); held jobs are extended every third of it. */
  leaseMs?: number;
  /** Wait after an empty claim (ms; default 50). */
  idleMs?: number;
  /** Return when the queue has nothing pending or running (default false: until `stop()`). */
  untilEmpty?: boolean;
  /** Return expired leases to the queue this often (ms; default half the lease; 0 = never). */
  reapEveryMs?: number;
  /** A failed attempt is retried after this long (ms; default 0). */
  backoffMs?: number;
  /** Counters per window; pass one with the run's shared start to merge across processes. */
  windows?: PerfWindows;
  /** Told the worker's completed count after each flush. */
  onProgress?: (completed: number) => void;
};

export type WorkerReport = {
  worker: string;
  completed: number;
  failed: number;
  /** Jobs whose completion was refused because the lease had passed to another worker. */
  lostLeases: number;
  elapsedMs: number;
  windows: PerfWindow[];
  totals: PhaseTotals;
};

/** How long a worker waits after an empty claim when nothing is ready (ms). */
export const DEFAULT_IDLE_MS = 50;

let workersMade = 0;

const Ms = (minimum: number) => Type.Optional(Type.Integer({ minimum }));
/** The worker's options besides the queue and the handler: each optional, each with its default. */
const WorkerOptionsSchema = Type.Object({
  queueName: Type.Optional(Type.String({ minLength: 1 })),
  worker: Type.Optional(Type.String({ minLength: 1 })),
  strategy: Type.Optional(Type.Enum([...CLAIM_STRATEGIES])),
  batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  partition: Ms(0),
  flushSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  flushMs: Ms(0),
  leaseMs: Ms(10),
  idleMs: Ms(0),
  untilEmpty: Type.Optional(Type.Boolean()),
  reapEveryMs: Ms(0),
  backoffMs: Ms(0),
});
const checkWorkerOptions = schemaCheck(WorkerOptionsSchema, (message) => claimsError('ERR_CLAIMS_CONFIG', message), { root: 'the options', prefix: 'options' });

type Done = { id: number; attempt: number; result: unknown };

/**
 * Claims jobs from a {@link ClaimQueue} in batches and runs each through a handler:
 * `new ClaimWorker({ queue, handler })`, then `await worker.run()`. By default `run()` keeps
 * claiming (waiting `idleMs` whenever nothing is ready) until `stop()` is called, then resolves
 * with a report once the jobs in hand are done and flushed; with `untilEmpty: true` it resolves
 * as soon as the queue has nothing pending or running. A database failure rejects `run()` with
 * `ERR_CLAIMS_UNAVAILABLE`; the jobs it held return to the queue when their leases lapse.
 */
export class ClaimWorker<P = unknown, R = unknown> {
  readonly windows: PerfWindows;
  private readonly o: Required<Omit<ClaimWorkerOptions<P, R>, 'windows' | 'onProgress' | 'partition'>> & Pick<ClaimWorkerOptions<P, R>, 'onProgress' | 'partition'>;
  private buffer: Done[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  /** Jobs claimed and not yet completed or failed: id → attempt. */
  private readonly held = new Map<number, number>();
  private stopping = false;
  private failure: Error | undefined;
  private completed = 0;
  private failed = 0;
  private lostLeases = 0;
  private readonly flushes = new Set<Promise<void>>();

  constructor(options: ClaimWorkerOptions<P, R>) {
    if (typeof options !== 'object' || options === null) throw claimsError('ERR_CLAIMS_CONFIG', 'ClaimWorker takes { queue, handler, … }');
    if (typeof options.handler !== 'function') throw claimsError('ERR_CLAIMS_CONFIG', 'handler must be a function');
    const checked = checkWorkerOptions(options);
    const leaseMs = checked.leaseMs ?? 30_000;
    this.o = {
      ...options,
      queueName: checked.queueName ?? 'default',
      worker: checked.worker ?? `${hostname()}:${process.pid}:${++workersMade}`,
      strategy: checked.strategy ?? 'skip-locked',
      batchSize: checked.batchSize ?? 10,
      concurrency: checked.concurrency ?? 4,
      flushSize: checked.flushSize ?? 100,
      flushMs: checked.flushMs ?? 500,
      leaseMs,
      idleMs: checked.idleMs ?? DEFAULT_IDLE_MS,
      untilEmpty: checked.untilEmpty ?? false,
      reapEveryMs: checked.reapEveryMs ?? Math.floor(leaseMs / 2),
      backoffMs: checked.backoffMs ?? 0,
    };
    this.windows = options.windows ?? new PerfWindows(Date.now());
  }

  /**
   * Claims and runs jobs. Resolves with the worker's report after `stop()` (once the jobs in
   * hand are done and flushed), or, with `untilEmpty`, once the queue has nothing pending or
   * running; it does not return on its own while the queue is merely empty for now.
   */
  async run(): Promise<WorkerReport> {
    const started = performance.now();
    const timers: NodeJS.Timeout[] = [];
    timers.push(setInterval(() => void this.heartbeat(), Math.max(5, Math.floor(this.o.leaseMs / 3))));
    if (this.o.reapEveryMs > 0) timers.push(setInterval(() => void this.reap(), this.o.reapEveryMs));
    try {
      await Promise.all(Array.from({ length: this.o.concurrency }, () => this.consume()));
      await this.flush();
      await Promise.all(this.flushes);
    } finally {
      for (const t of timers) clearInterval(t);
      clearTimeout(this.flushTimer);
    }
    if (this.failure) throw this.failure;
    const windows = this.windows.list();
    return {
      worker: this.o.worker,
      completed: this.completed,
      failed: this.failed,
      lostLeases: this.lostLeases,
      elapsedMs: performance.now() - started,
      windows,
      totals: PerfWindows.totals(windows),
    };
  }

  /** Stops claiming; `run()` resolves once the jobs in hand are done and flushed. */
  stop(): void {
    this.stopping = true;
  }

  private halt(e: unknown): void {
    this.failure ??= e as Error;
    this.stopping = true;
  }

  private async consume(): Promise<void> {
    const o = this.o;
    while (!this.stopping) {
      let jobs: ClaimedJob<P>[];
      const t0 = performance.now();
      try {
        jobs = await o.queue.claim<P>({ queue: o.queueName, worker: o.worker, strategy: o.strategy, batchSize: o.batchSize, leaseMs: o.leaseMs, partition: o.partition });
      } catch (e) {
        this.halt(e);
        return;
      }
      const n = jobs.length;
      this.windows.add(Date.now(), {
        claimBatches: 1,
        claimMs: performance.now() - t0,
        claimedJobs: n,
        partialBatches: n > 0 && n < o.batchSize ? 1 : 0,
        emptyClaims: n === 0 ? 1 : 0,
      });
      if (n === 0) {
        const next = await this.afterEmptyClaim();
        if (next === 'stop') return;
        if (next === 'wait' && o.idleMs > 0) await sleep(o.idleMs);
        continue;
      }
      for (const job of jobs) this.held.set(job.id, job.attempt);
      const failures: Array<{ id: number; attempt: number; error: string }> = [];
      const w0 = performance.now();
      for (const job of jobs) {
        try {
          this.buffer.push({ id: job.id, attempt: job.attempt, result: await o.handler(job) });
        } catch (e) {
          failures.push({ id: job.id, attempt: job.attempt, error: e instanceof Error ? e.message : String(e) });
        }
      }
      this.windows.add(Date.now(), { workMs: performance.now() - w0 });
      if (failures.length > 0) {
        try {
          const out = await o.queue.fail(o.worker, failures, o.backoffMs);
          this.failed += out.failed;
          this.windows.add(Date.now(), { failed: out.failed });
          for (const f of failures) this.held.delete(f.id);
        } catch (e) {
          this.halt(e);
          return;
        }
      }
      if (this.buffer.length >= o.flushSize) await this.flush();
      else if (this.buffer.length > 0 && this.flushTimer === undefined) {
        this.flushTimer = setTimeout(() => {
          this.flushTimer = undefined;
          void this.flush();
        }, o.flushMs);
      }
    }
  }

  /**
   * After an empty claim: 'again' when jobs are ready but others took them first (contention:
   * claim again at once), 'stop' when draining and nothing is left, else 'wait'.
   */
  private async afterEmptyClaim(): Promise<'again' | 'wait' | 'stop'> {
    const o = this.o;
    try {
      let backlog = await o.queue.backlog(o.queueName);
      if (backlog.ready) return 'again';
      if (!o.untilEmpty) return 'wait';
      if (this.buffer.length > 0 || this.flushes.size > 0) {
        // Our own buffered jobs count as running: flush them, then look again.
        await this.flush();
        await Promise.all(this.flushes);
        backlog = await o.queue.backlog(o.queueName);
        if (backlog.ready) return 'again';
      }
      return backlog.running || backlog.waiting ? 'wait' : 'stop';
    } catch (e) {
      this.halt(e);
      return 'stop';
    }
  }

  /** Completes what is buffered, in one transaction. */
  private flush(): Promise<void> {
    if (this.buffer.length === 0) return Promise.resolve();
    const items = this.buffer;
    this.buffer = [];
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const run = (async () => {
      const t0 = performance.now();
      try {
        const n = await this.o.queue.complete(this.o.worker, items);
        this.completed += n;
        this.lostLeases += items.length - n;
        this.windows.add(Date.now(), { persistFlushes: 1, persistMs: performance.now() - t0, completed: n });
        for (const item of items) this.held.delete(item.id);
        this.o.onProgress?.(this.completed);
      } catch (e) {
        // Not stored: the leases bring these jobs back to the queue.
        this.halt(e);
      }
    })();
    this.flushes.add(run);
    void run.finally(() => this.flushes.delete(run));
    return run;
  }

  private async heartbeat(): Promise<void> {
    if (this.held.size === 0 || this.failure) return;
    const held = [...this.held].map(([id, attempt]) => ({ id, attempt }));
    try {
      await this.o.queue.extend(this.o.worker, held, this.o.leaseMs);
    } catch (e) {
      this.halt(e);
    }
  }

  private async reap(): Promise<void> {
    if (this.failure) return;
    try {
      await this.o.queue.reap();
    } catch (e) {
      this.halt(e);
    }
  }
}

/** Busy CPU work for `ms` milliseconds (the harness's stand-in for a simulation). */
export function spin(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x++;
  return x;
}
