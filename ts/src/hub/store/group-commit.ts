/**
 * Group commit for a store that can answer many requests in one round trip and one
 * transaction. Requests that arrive while `concurrency` flushes are in flight wait and go
 * together in the next flush (at most `maxItems` each). The requests of one event-loop turn
 * also go together. An idle store flushes at once, so a quiet hub adds no delay.
 */
export type GroupCommitOptions = {
  /** Flushes in flight at once (default 4). */
  concurrency?: number;
  /** Most items in one flush (default 500). */
  maxItems?: number;
};

type Waiting<T, R> = { item: T; resolve: (result: R) => void; reject: (error: unknown) => void };

export class GroupCommit<T, R> {
  private queue: Array<Waiting<T, R>> = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly concurrency: number;
  private readonly maxItems: number;

  /** `flush` answers a group of items in order (one result per item) or fails them all. */
  constructor(
    private readonly flush: (items: T[]) => Promise<R[]>,
    options: GroupCommitOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 4;
    this.maxItems = options.maxItems ?? 500;
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
