/**
 * What the claims harness's and probes' forked processes share: sending to the parent,
 * reading messages one at a time, and a process's own CPU time.
 */
import type { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';

/** Sends `message` to the parent process; resolves once the channel has taken it. */
export function sendToParent(message: unknown): Promise<void> {
  return new Promise<void>((resolve) => process.send!(message, () => resolve()));
}

/** This process's CPU time so far, all threads, user and system (ms). */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * CPU time of this process's main thread so far (ms): its event loop, without the threads V8
 * and libuv run beside it (garbage collection, compilation). From the scheduler's own count
 * (`/proc/self/task/<pid>/schedstat`, in ns); undefined where there is none.
 */
export function mainThreadCpuMs(): number | undefined {
  try {
    const ns = Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'latin1').split(' ')[0]);
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/** Context switches of this process so far, all threads: voluntary (it blocked: waited for I/O or a lock) and involuntary (the scheduler preempted it). */
export type Switches = { voluntary: number; involuntary: number };

export function processSwitches(): Switches {
  const u = process.resourceUsage();
  return { voluntary: u.voluntaryContextSwitches, involuntary: u.involuntaryContextSwitches };
}

/** `b − a`, kind by kind. */
export function switchesSpent(a: Switches, b: Switches): Switches {
  return { voluntary: b.voluntary - a.voluntary, involuntary: b.involuntary - a.involuntary };
}

/**
 * The `message` events of `source` (a child process, or `process` in a child), one at a time.
 * When `closeEvent` fires, `closed(...its arguments)` becomes the last message, and every read
 * after it gets it again: a reader never waits on a channel that has ended.
 */
export class Inbox<T> {
  private readonly queue: T[] = [];
  private readonly readers: Array<(message: T) => void> = [];
  private end: T | undefined;

  constructor(source: EventEmitter, closeEvent: string, closed: (...args: unknown[]) => T) {
    source.on('message', (m: T) => this.deliver(m));
    source.once(closeEvent, (...args: unknown[]) => {
      const last = closed(...args);
      this.deliver(last);
      this.end = last;
    });
  }

  private deliver(message: T): void {
    const reader = this.readers.shift();
    if (reader) reader(message);
    else this.queue.push(message);
  }

  /** The next message (or, once the channel has ended and its messages are read, the last one). */
  next(): Promise<T> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift()!);
    if (this.end !== undefined) return Promise.resolve(this.end);
    return new Promise<T>((resolve) => this.readers.push(resolve));
  }
}
