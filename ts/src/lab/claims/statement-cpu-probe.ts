/**
 * Measures how the CPU cost of a statement grows with the number of worker processes on this
 * host: the contention model's `cpuGrowth`. Calibration sees one worker; with more, each
 * switch between processes leaves the next one's code and data to be fetched back into the
 * caches, and the same statement costs its worker and its backend more CPU.
 *
 * The probe forks as many worker processes as the largest count asked for, each with
 * `connections` connections (as a harness worker has consumers). Every process first runs a
 * warm-up, so all code is compiled and every backend has its plan. Then, for each worker count
 * N, the first N processes run statement round trips on all their connections at once for
 * `durationMs`: each statement returns `rows` rows with a JSON payload, as a claim does. The
 * workers report their own CPU time; the database's is read from `/proc`. Counts are visited
 * in alternating order over `rounds` rounds, and each keeps the median of its rounds.
 *
 * The ratio of CPU per statement at N to that at 1 is noisy on a shared host: one count's can
 * land below 1, another's far above its neighbours. The growth the model takes is therefore
 * the least-squares line through (1, 1) over every count's ratio, `1 + slope × (N − 1)`, with a
 * slope of at least 0, for the workers and the database apart.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

import { median } from './accuracy.js';
import { claimsError, intOption, numberOption } from '../../claims/errors.js';
import { postgresCpuMs } from './host-cpu.js';
import { Inbox } from './ipc.js';

export type StatementCpuProbeOptions = {
  url: string;
  /** Worker counts to measure (default 1, 2, 4, 8; 1 is always measured: growth is relative to it). */
  workers?: readonly number[];
  /** Connections per worker, all busy at once (default 4). */
  connections?: number;
  /** Rows each statement returns (default 10). */
  rows?: number;
  /** How long each count runs per round (ms; default 2000). */
  durationMs?: number;
  /** Statements per connection before any timed run (default 2000). */
  warmupStatements?: number;
  /** Rounds over every count (default 3). */
  rounds?: number;
};

export type StatementCpuPoint = {
  workers: number;
  /** Statements per second, all workers together. */
  statementsPerS: number;
  /** CPU per statement (µs): the workers', and the database's (null where `/proc` cannot show it). */
  workerUs: number;
  dbUs: number | null;
};

/** The model's growth at one worker count: factors on the worker's and the database's CPU costs. */
export type CpuGrowthPoint = { workers: number; worker: number; db: number };

export type StatementCpuProbeReport = {
  cores: number;
  connections: number;
  rows: number;
  durationMs: number;
  rounds: number;
  points: StatementCpuPoint[];
  /** Each point's CPU per statement over the single worker's, as measured. */
  ratios: CpuGrowthPoint[];
  /** Growth per worker beyond the first: the slope of the line fitted to `ratios`. */
  slope: { worker: number; db: number };
  /** The fitted line at each count: the model's `cpuGrowth`. The database's factor is 1 where
   * its CPU cannot be read (it runs on another host). */
  growth: CpuGrowthPoint[];
};

/** The slope of the least-squares line through (1, 1) over `(workers, ratio)` points, at least 0. */
export function growthSlope(points: ReadonlyArray<{ workers: number; ratio: number }>): number {
  let num = 0;
  let den = 0;
  for (const { workers, ratio } of points) {
    num += (workers - 1) * (ratio - 1);
    den += (workers - 1) ** 2;
  }
  return den > 0 ? Math.max(0, num / den) : 0;
}

/** Parent → probe process. */
export type ProbeCommand = { kind: 'warm'; statements: number } | { kind: 'run'; ms: number } | { kind: 'end' };
/** Probe process → parent. */
export type ProbeReply = { kind: 'ready' } | { kind: 'warmed' } | { kind: 'ran'; statements: number; cpuMs: number } | { kind: 'error'; message: string };

const probeEntry = new URL('./statement-cpu-probe-process.js', import.meta.url);

/** A forked probe process and its replies, one at a time. */
class ProbeProcess {
  private readonly child: ChildProcess;
  private readonly replies: Inbox<ProbeReply>;
  readonly exited: Promise<number | null>;

  constructor(url: string, connections: number, rows: number) {
    this.child = fork(probeEntry, [url, String(connections), String(rows)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    this.child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    this.replies = new Inbox<ProbeReply>(this.child, 'exit', (code) => ({ kind: 'error', message: `probe process exited with ${code}${stderr ? `: ${stderr.trim()}` : ''}` }));
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
  }

  /** Sends `command` (if any) and waits for the reply of `kind`. */
  async ask<K extends ProbeReply['kind']>(kind: K, command?: ProbeCommand): Promise<Extract<ProbeReply, { kind: K }>> {
    // A process that died has sent its error (or its exit was delivered as one): read that.
    if (command && this.child.connected) this.child.send(command);
    const reply = await this.replies.next();
    if (reply.kind === kind) return reply as Extract<ProbeReply, { kind: K }>;
    throw claimsError('ERR_CLAIMS_UNAVAILABLE', `statement-CPU probe: ${reply.kind === 'error' ? reply.message : `expected ${kind}, got ${reply.kind}`}`);
  }

  end(): void {
    if (this.child.connected) this.child.send({ kind: 'end' } satisfies ProbeCommand);
    else this.child.kill();
  }
}

/** Measures how a statement's CPU (worker and database) grows with the number of worker processes (the model's `cpuGrowth`). */
export async function probeStatementCpu(options: StatementCpuProbeOptions): Promise<StatementCpuProbeReport> {
  const asked = options.workers ?? [1, 2, 4, 8];
  if (!Array.isArray(asked) || asked.length === 0) throw claimsError('ERR_CLAIMS_CONFIG', `workers must list worker counts, got ${JSON.stringify(asked)}`);
  const counts = [...new Set([1, ...asked.map((w, i) => intOption(`workers[${i}]`, w, 1, 256))])].sort((a, b) => a - b);
  const connections = intOption('connections', options.connections ?? 4, 1, 64);
  const rows = intOption('rows', options.rows ?? 10, 1, 10_000);
  const durationMs = numberOption('durationMs', options.durationMs ?? 2000, 50, 600_000);
  const warmupStatements = intOption('warmupStatements', options.warmupStatements ?? 2000, 0, 10_000_000);
  const rounds = intOption('rounds', options.rounds ?? 3, 1, 100);

  const processes = Array.from({ length: counts[counts.length - 1] }, () => new ProbeProcess(options.url, connections, rows));
  const samples = new Map<number, Array<{ statements: number; workerMs: number; dbMs: number | undefined }>>(counts.map((n) => [n, []]));
  try {
    await Promise.all(processes.map((p) => p.ask('ready')));
    await Promise.all(processes.map((p) => p.ask('warmed', { kind: 'warm', statements: warmupStatements })));
    for (let round = 0; round < rounds; round++) {
      for (const n of round % 2 === 0 ? counts : [...counts].reverse()) {
        const db0 = postgresCpuMs();
        const ran = await Promise.all(processes.slice(0, n).map((p) => p.ask('ran', { kind: 'run', ms: durationMs })));
        const db1 = postgresCpuMs();
        samples.get(n)!.push({
          statements: ran.reduce((s, r) => s + r.statements, 0),
          workerMs: ran.reduce((s, r) => s + r.cpuMs, 0),
          dbMs: db0 === undefined || db1 === undefined ? undefined : db1 - db0,
        });
      }
    }
  } finally {
    for (const p of processes) p.end();
    await Promise.all(processes.map((p) => p.exited));
  }

  const points: StatementCpuPoint[] = counts.map((workers) => {
    const runs = samples.get(workers)!;
    if (runs.some((r) => r.statements === 0)) throw claimsError('ERR_CLAIMS_UNAVAILABLE', `statement-CPU probe: ${workers} workers made no statement in ${durationMs} ms`);
    const db = runs.every((r) => r.dbMs !== undefined) ? median(runs.map((r) => (r.dbMs! * 1000) / r.statements)) : null;
    return {
      workers,
      statementsPerS: median(runs.map((r) => (r.statements * 1000) / durationMs)),
      workerUs: median(runs.map((r) => (r.workerMs * 1000) / r.statements)),
      dbUs: db,
    };
  });
  const [one] = points;
  const ratios = points.map((p) => ({
    workers: p.workers,
    worker: p.workerUs / one.workerUs,
    db: p.dbUs !== null && one.dbUs !== null && one.dbUs > 0 ? p.dbUs / one.dbUs : 1,
  }));
  const slope = {
    worker: growthSlope(ratios.map((r) => ({ workers: r.workers, ratio: r.worker }))),
    db: growthSlope(ratios.map((r) => ({ workers: r.workers, ratio: r.db }))),
  };
  const growth = counts.map((workers) => ({ workers, worker: 1 + slope.worker * (workers - 1), db: 1 + slope.db * (workers - 1) }));
  return { cores: availableParallelism(), connections, rows, durationMs, rounds, points, ratios, slope, growth };
}
