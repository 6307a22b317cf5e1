/**
 * The contention model (Rust `claim-sim`): simulate W workers × C consumers claiming batches
 * from one PostgreSQL before buying the workers, fit the Universal Scalability Law to measured
 * points, and calibrate the model's costs from single-worker measurements.
 *
 * Configs and reports cross the native boundary as JSON; every caller mistake is an `Error`
 * with code `ERR_CLAIMS_CONFIG`.
 */
import { native } from '../native.js';
import { claimsError } from './errors.js';
import type { ClaimStrategy } from './queue.js';
import type { PerfWindow, PhaseTotals } from './windows.js';

/** What each step costs (ms). Worker costs run on the worker's one event loop; database costs on
 * the statement's backend; both share the host's cores. */
export type ClaimCosts = {
  /** Worker CPU per statement sent and its reply handled. */
  workerStatementMs: number;
  /** Worker CPU per claimed row decoded. */
  workerRowMs: number;
  /** Worker CPU per job besides its own work. */
  workerJobMs: number;
  /** Worker CPU per result encoded into a flush. */
  workerResultMs: number;
  dbClaimMs: number;
  dbClaimRowMs: number;
  /** Per locked row a skip-locked scan passes over. */
  dbSkipRowMs: number;
  /** Per dead index entry a scan for pending jobs passes over (jobs claimed since the last
   * vacuum; `probeDeadEntries` measures it). */
  dbDeadEntryMs: number;
  dbCompleteMs: number;
  dbCompleteRowMs: number;
  /** Per read-only statement (backlog probe, a separate select of ids). */
  dbQueryMs: number;
  /** WAL flush at commit (commits waiting together share one: group commit). */
  commitMs: number;
  rttMs: number;
  /** Coefficient of variation of every cost (0 fixed, 1 exponential). */
  cv: number;
};

/** How a worker's event loop orders its work: see `SimulationConfig.loopOrder`. */
export const LOOP_ORDERS = ['fifo', 'continuations-first'] as const;
export type LoopOrder = (typeof LOOP_ORDERS)[number];

export const isLoopOrder = (v: unknown): v is LoopOrder => LOOP_ORDERS.includes(v as LoopOrder);

/** A simulation; a field left out takes the model's default (`crates/claim-sim/src/config.rs`, `impl Default for SimConfig`). */
export type SimulationConfig = {
  jobs?: number;
  workers?: number;
  /** Consumers (concurrent claim loops) per worker. */
  consumers?: number;
  batchSize?: number;
  strategy?: ClaimStrategy;
  /** Where optimistic-any reads its ids: in the update's subquery (fleetscale) or a separate
   * `SELECT` first (one more round trip; the ids can go meanwhile). */
  optimisticSelect?: 'subquery' | 'separate';
  /**
   * How each worker's event loop orders its work: `fifo` (default; every task waits its turn,
   * a consumer resumed by a reply included, as an asyncio loop runs it) or
   * `continuations-first` (a resumed consumer runs its jobs and sends its next statement in the
   * same turn, as Node runs an `await`'s continuation).
   */
  loopOrder?: LoopOrder;
  /** Connections per worker. */
  poolSize?: number;
  flushSize?: number;
  flushMs?: number;
  workMs?: number;
  idleMs?: number;
  /** Wait after an empty claim while jobs are still ready (ms; 0: at once). */
  emptyBackoffMs?: number;
  checkAfterEmpty?: boolean;
  /** Host cores shared by workers and database. */
  cores?: number;
  /** The host scheduler's time slice (ms; 0: processor sharing). `probeSchedulerSlice` measures it. */
  cpuSliceMs?: number;
  /** Under time slices: the extra CPU a process pays when a core takes it up after running
   * another (ms; 0 free). One worker keeps its core; several sharing the cores pay it often. */
  cpuSwitchMs?: number;
  /**
   * The share of a worker's own CPU costs (statements, rows, jobs, results; not the jobs' work)
   * that its background threads spend beside its event loop: Node's garbage collector and
   * compiler threads take cores but hold up no statement (0 to 0.9; default 0: all on the
   * loop). The harness measures it (`cpu.workerLoopMs` against `cpu.workerMs`).
   */
  workerBackgroundShare?: number;
  /**
   * How the CPU cost of handling statements grows with the worker count: points by worker
   * count, each with factors on the worker's and the database's CPU costs (linear between
   * points, the nearest point's outside; default none). `probeStatementCpu` measures it.
   */
  cpuGrowth?: Array<{ workers: number; worker: number; db: number }>;
  setupMs?: number;
  windowMs?: number;
  seed?: number;
  costs?: Partial<ClaimCosts>;
};

export type Bottleneck = 'cpu' | 'worker-loop' | 'commit' | 'row-locks' | 'pool' | 'latency';

export type SimulationReport = {
  /** Start-up plus the run (ms). */
  elapsedMs: number;
  /** First claim to last worker done (ms). */
  runMs: number;
  /** Jobs per second of `elapsedMs`. */
  throughput: number;
  jobs: number;
  completed: number;
  windows: PerfWindow[];
  totals: PhaseTotals;
  waits: { poolWaitMs: number; lockWaitMs: number; commitWaitMs: number; loopWaitMs: number; workerCpuMs: number; dbCpuMs: number };
  /** Busy fraction of each resource (0..1). */
  utilisation: { cpu: number; workerLoop: number; workerLoopMax: number; commit: number; rowLocks: number; pool: number };
  bottleneck: Bottleneck;
  events: number;
};

export type UslFit = {
  sigma: number;
  kappa: number;
  lambda: number;
  /** Where throughput peaks (`Infinity` when κ is 0). */
  peakN: number;
  /** Throughput at the peak (`λ/σ` when κ is 0; `Infinity` when both are 0). */
  peakThroughput: number;
  rSquared: number;
};

/** One measured cell for calibration: its settings and what was measured. */
export type ClaimsMeasurement = {
  config: SimulationConfig;
  throughput: number;
  claimMs?: number;
  persistMs?: number;
  claimsPerJob?: number;
  workerCpuMsPerJob?: number;
  dbCpuMsPerJob?: number;
};

export type CalibrationRequest = {
  base?: SimulationConfig;
  cells: ClaimsMeasurement[];
  /** Costs to fit (default workerStatementMs, workerJobMs, dbClaimMs, dbCompleteRowMs, commitMs). */
  fit?: Array<keyof ClaimCosts | 'setupMs' | 'emptyBackoffMs'>;
  /** Cells with more jobs are simulated with this many and scaled (default 20,000). */
  maxJobs?: number;
  /** Evaluations of the objective at most, each a simulation of every cell (default 400). */
  maxEvaluations?: number;
};

type Observed = Omit<ClaimsMeasurement, 'config'>;

export type Calibration = {
  config: Required<Omit<SimulationConfig, 'costs'>> & { costs: ClaimCosts };
  cells: Array<{ measured: Observed; predicted: Observed; throughputError: number }>;
  objective: number;
  evaluations: number;
};

export type ProposalOutcome = {
  name: string;
  change: SimulationConfig;
  oneWorker: number;
  threeWorkers: number;
  speedup: number;
  elapsedMsOne: number;
  elapsedMsThree: number;
  bottleneck: Bottleneck;
};

function toJson(what: string, value: unknown): string {
  if (value === null || typeof value !== 'object') {
    throw claimsError('ERR_CLAIMS_CONFIG', `${what} must be an object, got ${value === null ? 'null' : typeof value}`);
  }
  try {
    return JSON.stringify(value);
  } catch (e) {
    throw claimsError('ERR_CLAIMS_CONFIG', `${what} is not JSON: ${(e as Error).message}`, e);
  }
}

/** Simulates `config` on the calling thread (1M jobs × 64 skip-locked workers: ~0.1 s). */
export function simulateClaims(config: SimulationConfig = {}): SimulationReport {
  return JSON.parse(native.simulateClaims(toJson('config', config))) as SimulationReport;
}

/** `simulateClaims` on the libuv pool. */
export async function simulateClaimsAsync(config: SimulationConfig = {}, options: { signal?: AbortSignal } = {}): Promise<SimulationReport> {
  return JSON.parse(await native.simulateClaimsAsync(toJson('config', config), options.signal)) as SimulationReport;
}

/** Fits the Universal Scalability Law (σ contention, κ coherency, λ one's throughput). */
export function fitUsl(points: Array<{ n: number; throughput: number }>): UslFit {
  if (!Array.isArray(points)) throw claimsError('ERR_CLAIMS_CONFIG', 'points must be an array of { n, throughput }');
  const fit = JSON.parse(native.fitUslPoints(JSON.stringify(points))) as Omit<UslFit, 'peakN' | 'peakThroughput'> & { peakN: number | null; peakThroughput: number | null };
  return { ...fit, peakN: fit.peakN ?? Infinity, peakThroughput: fit.peakThroughput ?? Infinity };
}

/** Fits cost parameters so simulations of the measured cells reproduce them (libuv pool). */
export async function calibrateClaims(request: CalibrationRequest, options: { signal?: AbortSignal } = {}): Promise<Calibration> {
  return JSON.parse(await native.calibrateClaimsAsync(toJson('request', request), options.signal)) as Calibration;
}

/** Cases the model was fitted to. */
export const claimPresets = {
  /**
   * The team's case: 1 or more workers × 4 consumers, batches of 10 by a separate `SELECT` then
   * `UPDATE … WHERE id = ANY($ids)`, pool 50, results flushed every ~75 or 750 ms. Reproduces
   * their 11.6 / 52.5 s (1 worker) and 11.0 / 55.3 s (3 workers) within 5%.
   */
  seedPhase3({ workers = 1, jobs = 50_000 }: { workers?: number; jobs?: number } = {}): SimulationConfig {
    return JSON.parse(native.claimPresetConfig('seed-phase3', workers, jobs)) as SimulationConfig;
  },
  /** What the model predicts for the team's proposals, each at 1 and 3 workers. */
  seedPhase3Report({ jobs = 50_000 }: { jobs?: number } = {}): ProposalOutcome[] {
    return JSON.parse(native.claimPresetReport('seed-phase3', jobs)) as ProposalOutcome[];
  },
  /** The calibration request the preset's costs were fitted with. */
  seedPhase3Calibration(): CalibrationRequest {
    return JSON.parse(native.claimPresetCalibration('seed-phase3')) as CalibrationRequest;
  },
  /** What the team measured: workers, runs, elapsed seconds. */
  get seedPhase3Measured(): ReadonlyArray<{ workers: number; jobs: number; seconds: number }> {
    return JSON.parse(native.claimPresetMeasured('seed-phase3')) as Array<{ workers: number; jobs: number; seconds: number }>;
  },
};
