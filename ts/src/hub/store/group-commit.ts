/**
 * Group commit for a store that can answer many requests in one round trip and one
 * transaction. Requests that arrive while `concurrency` flushes are in flight wait and go
 * together in the next flush (at most `maxItems` each). The requests of one event-loop turn
 * also go together, and flushes start at least `minIntervalMs` apart, so under load each
 * commit carries more. An idle store flushes at once, so a quiet hub adds no delay.
 */
export type GroupCommitOptions = {
  /** Flushes in flight at once (default 4). */
  concurrency?: number;
  /** Most items in one flush (default 500). */
  maxItems?: number;
  /** The least time from the start of one flush to the start of the next (default 0). */
  minIntervalMs?: number;
};

/** A commit interval must be a finite number of milliseconds, 0 or more. */
export function checkCommitInterval(name: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${ms}`);
  return ms;
}

type Waiting<T, R> = { item: T; resolve: (result: R) => void; reject: (error: unknown) => void };

export class GroupCommit<T, R> {
  private queue: Array<Waiting<T, R>> = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly concurrency: number;
  private readonly maxItems: number;
  private readonly minIntervalMs: number;
  /** When the last flush started (performance.now()). */
  private lastFlushAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  /** `flush` answers a group of items in order (one result per item) or fails them all. */
  constructor(
    private readonly flush: (items: T[]) => Promise<R[]>,
    options: GroupCommitOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 4;
    this.maxItems = options.maxItems ?? 500;
    this.minIntervalMs = checkCommitInterval('minIntervalMs', options.minIntervalMs ?? 0);
  }

  /** Queues `item` for the next flush; resolves with its own result. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Items waiting for a flush. */
  get waiting(): number {
    return this.queue.length;
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const wait = this.lastFlushAt + this.minIntervalMs - performance.now();
      if (wait > 0) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.lastFlushAt = performance.now();
      const group = this.queue.splice(0, this.maxItems);
      this.inFlight++;
      this.run(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async run(group: Array<Waiting<T, R>>): Promise<void> {
    try {
      const results = await this.flush(group.map((w) => w.item));
      group.forEach((w, k) => w.resolve(results[k]));
    } catch (e) {
      for (const w of group) w.reject(e);
    }
  }
}
