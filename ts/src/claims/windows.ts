/**
 * Per-window performance counters of a claims run, in the shape the team measured by: per 10 s,
 * how many claim batches and what they cost in all (summed over concurrent consumers), what
 * persisting and the work itself cost, and what got done. Windows from several worker
 * processes merge by index when they share a start time.
 */

export type PerfWindow = {
  /** Window number: covers [start + index × windowMs, start + (index + 1) × windowMs). */
  index: number;
  /** Claim statements that ran (empty ones included). */
  claimBatches: number;
  /** Time spent in claim statements, summed over consumers (ms). */
  claimMs: number;
  claimedJobs: number;
  /** Claims that got fewer jobs than asked for, but some. */
  partialBatches: number;
  /** Claims that got nothing. */
  emptyClaims: number;
  /** Result flushes (complete + results, one transaction each). */
  persistFlushes: number;
  /** Time spent in flushes (ms). */
  persistMs: number;
  /** Time spent running jobs (ms). */
  workMs: number;
  completed: number;
  failed: number;
};

export type PhaseTotals = Omit<PerfWindow, 'index'>;

const ZERO: PhaseTotals = {
  claimBatches: 0,
  claimMs: 0,
  claimedJobs: 0,
  partialBatches: 0,
  emptyClaims: 0,
  persistFlushes: 0,
  persistMs: 0,
  workMs: 0,
  completed: 0,
  failed: 0,
};

const FIELDS = Object.keys(ZERO) as Array<keyof PhaseTotals>;

/** Per-window totals of a worker's phases (claim, work, persist), merged across processes by their shared start. */
export class PerfWindows {
  private readonly windows: PerfWindow[] = [];

  /** `start` is the run's epoch-ms origin, shared by every process of a run. */
  constructor(
    readonly start: number,
    readonly windowMs = 10_000,
  ) {}

  /** The window an event at epoch ms `at` falls in. */
  at(at: number): PerfWindow {
    const index = Math.max(0, Math.floor((at - this.start) / this.windowMs));
    while (this.windows.length <= index) this.windows.push({ index: this.windows.length, ...ZERO });
    return this.windows[index];
  }

  /** Adds `delta` to the window of `at`. */
  add(at: number, delta: Partial<PhaseTotals>): void {
    const w = this.at(at);
    for (const k of FIELDS) if (delta[k] !== undefined) w[k] += delta[k];
  }

  list(): PerfWindow[] {
    return this.windows.map((w) => ({ ...w }));
  }

  /** Merges windows of several processes (same start and width) by index. */
  static merge(lists: PerfWindow[][]): PerfWindow[] {
    const out: PerfWindow[] = [];
    for (const list of lists) {
      for (const w of list) {
        while (out.length <= w.index) out.push({ index: out.length, ...ZERO });
        for (const k of FIELDS) out[w.index][k] += w[k];
      }
    }
    return out;
  }

  /** Totals over windows. */
  static totals(windows: PerfWindow[]): PhaseTotals {
    const out = { ...ZERO };
    for (const w of windows) for (const k of FIELDS) out[k] += w[k];
    return out;
  }
}
