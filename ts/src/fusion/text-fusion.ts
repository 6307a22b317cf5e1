/**
 * Fusion of batch texts on a thread of its own. A hub fuses a closed round while it goes on
 * acknowledging the next one's batches; reading 200,000 observations from their texts,
 * preparing them and serialising the result took the hub's event loop for hundreds of
 * milliseconds, in the acknowledgement latency of everything in flight. Here that work (and its
 * garbage) belongs to another thread with its own heap; the event loop only hands the texts
 * over, packed (`packed-texts.ts`), and receives the result's text.
 */
import { Worker } from 'node:worker_threads';

import { builtEntry } from '../built-entry.js';
import type { BatchText } from './batch-texts.js';
import { fusionError, type FusionErrorCode } from './errors.js';
import { packTexts } from './packed-texts.js';
import type { TextQuery } from './query-texts.js';
import type { FusionConfig } from './types.js';

/** A fused result as JSON text (a `FusionResult`), the same text as UTF-8, and its number of events. */
export type FusedText = { json: string; bytes: Uint8Array; events: number };

type Reply = { id: number; json?: string; bytes?: Uint8Array; events?: number; error?: { message: string; code?: string } };
type Waiting = { resolve: (result: FusedText) => void; reject: (error: Error) => void };

export class TextFusion {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private closed = false;

  /** `config` is checked by the first fusion (an error then names it). */
  constructor(private readonly config: FusionConfig) {}

  /**
   * Starts the thread and fuses nothing on it, so that loading it (and checking the config)
   * happens now rather than at the first round; rejects with the config's error.
   */
  async start(): Promise<void> {
    await this.fuse([]);
  }

  /** Fuses the records of `texts` (each a JSON object with a `records` array). */
  fuse(texts: readonly BatchText[]): Promise<FusedText> {
    return this.request((id) => ({ id, packed: packTexts(texts) }));
  }

  /**
   * Fuses the records of the texts `query` returns, read by the fusion thread over a
   * connection of its own (see `query-texts.ts`). A failure to read them rejects with a plain
   * error (not the round's fault); texts that are not batches, with ERR_FUSION_INPUT.
   */
  fuseQuery(query: TextQuery): Promise<FusedText> {
    return this.request((id) => ({ id, query }));
  }

  private request(message: (id: number) => object): Promise<FusedText> {
    if (this.closed) return Promise.reject(new Error('the fusion thread is closed'));
    const worker = this.thread();
    const id = this.nextId++;
    return new Promise<FusedText>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage(message(id));
    });
  }

  /** Stops the thread; fusions in flight reject. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
    this.fail(new Error('the fusion thread is closed'));
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const entry = builtEntry(import.meta.url, 'text-fusion-worker.js');
    if (!entry) throw new Error('the fusion thread needs the built package: dist/src/fusion/text-fusion-worker.js is missing (npm run build)');
    const worker = new Worker(entry, { workerData: { config: this.config } });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const waiting = this.waiting.get(reply.id);
      if (!waiting) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (reply.error) {
        const { message, code } = reply.error;
        waiting.reject(code === 'ERR_FUSION_CONFIG' || code === 'ERR_FUSION_INPUT' ? fusionError(code as FusionErrorCode, message) : new Error(message));
      } else waiting.resolve({ json: reply.json!, bytes: reply.bytes!, events: reply.events! });
    });
    // A thread that dies takes its fusions with it; the next fusion starts another.
    const lost = (why: string) => {
      if (this.worker === worker) this.worker = undefined;
      this.fail(new Error(`the fusion thread ${why}`));
    };
    worker.on('error', (e) => lost(`failed: ${e.message}`));
    worker.on('exit', (code) => lost(`exited (${code})`));
    this.worker = worker;
    return worker;
  }

  private fail(error: Error): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.reject(error);
  }
}
