/**
 * The router's notion of time. The real clock reads `performance.now()` and sleeps on timers;
 * {@link VirtualClock} runs the same router code on simulated time, so simulations and tests
 * exercise exactly what production runs, thousands of batches a second.
 */
import { setImmediate as nextTurn, setTimeout as sleepFor } from 'node:timers/promises';

/** A source of time and delays. */
export interface RouterClock {
  /** Milliseconds from an arbitrary origin. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Wall-clock time. */
export const realClock: RouterClock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleepFor(Math.max(0, ms), undefined, signal ? { signal } : undefined),
};

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * Simulated time. Sleeps wait for `run()` to advance the clock: it lets every pending promise
 * settle, then jumps to the earliest timer, and repeats until the promise it drives settles.
 */
export class VirtualClock implements RouterClock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve: () => resolve() };
      this.#push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.#timers.indexOf(timer);
          if (index >= 0) this.#timers.splice(index, 1);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Runs `work` to completion on simulated time and returns its result. */
  async run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const watched = work.finally(() => {
      settled = true;
    });
    watched.catch(() => undefined);
    for (;;) {
      await nextTurn();
      if (settled) return watched;
      const first = this.#timers[0];
      if (!first) throw new Error('VirtualClock.run: the work waits on something other than the clock');
      this.#now = Math.max(this.#now, first.at);
      // Every timer due at this instant fires in one turn, in the order they were set.
      let due = 0;
      while (due < this.#timers.length && this.#timers[due]!.at <= this.#now) due++;
      for (const timer of this.#timers.splice(0, due)) timer.resolve();
    }
  }

  #push(timer: Timer): void {
    // Sorted insert by (time, order of creation); timers are few, and most land near the end.
    let i = this.#timers.length;
    while (i > 0) {
      const before = this.#timers[i - 1]!;
      if (before.at < timer.at || (before.at === timer.at && before.seq < timer.seq)) break;
      i--;
    }
    this.#timers.splice(i, 0, timer);
  }
}
