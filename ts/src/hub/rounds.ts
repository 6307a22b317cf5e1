/**
 * The round protocol on top of a store: announce → report → close → fuse. Closes a round when
 * every announced node sent its final batch, at its deadline (a timer per round plus a sweep
 * for rounds this process did not open), or on an admin's request, and fuses it off the event
 * loop: the batch texts go to a fusion thread, which reads, fuses and serialises the round.
 * Results are served from memory as soon as they exist; the store persists them.
 */
import { hash } from 'node:crypto';

import { sensorPreset } from '../fusion/preset.js';
import { isFusionError } from '../fusion/errors.js';
import { TextFusion } from '../fusion/text-fusion.js';
import type { FusionConfig } from '../fusion/types.js';
import { HubError } from './errors.js';
import type { HubMetrics } from './metrics.js';
import type { ObservationBatch, RoundService } from './round-service.js';
import type { Batch, BatchOutcome, CloseReason, RoundStore, RoundSummary } from './store/types.js';

export type RoundEngineOptions = {
  store: RoundStore;
  metrics: HubMetrics;
  /** Time from a round's first announce to its forced close (default 30 s). */
  deadlineMs?: number;
  /** Fusion config of every round (default: the sensor preset). */
  fusion?: FusionConfig;
  /** How often to look for rounds past their deadline or left unfused (default 1 s). */
  sweepMs?: number;
  /** Told about background failures (fusion, sweeps); the hub logs them. */
  onError?: (error: Error, context: string) => void;
  /** Told one line per fused round: why it closed, its nodes, observations, events and fusion time. */
  onRound?: (line: string) => void;
  /** The clock (epoch ms); tests move it. */
  now?: () => number;
};

/** The digest a retry must match: of the batch's JSON text as received. */
export function batchDigest(json: string): string {
  return hash('sha1', json, 'base64');
}

/** The log line of a fused round. */
export function roundLine(summary: RoundSummary, events: number, fusionMs: number): string {
  const reason = summary.closeReason === 'final' ? 'every node sent its final batch' : summary.closeReason === 'deadline' ? 'its deadline passed' : 'the admin closed it';
  return `round ${summary.round} fused: closed because ${reason}; ${summary.finalNodes}/${summary.nodes} nodes final, ${summary.observations} observations in ${summary.batches} batches, ${events} events, fusion ${fusionMs.toFixed(1)} ms`;
}

/** Rounds whose serialised result is kept (the latest are the ones fetched). */
const RESULT_TEXTS = 4;

/** Tries at fusing a round whose fusion failed for a reason other than its input. */
const FUSION_ATTEMPTS = 3;

/** How often a waiting result request re-reads the store (another hub may fuse the round). */
const RESULT_POLL_MS = 50;

export class RoundEngine implements RoundService {
  readonly store: RoundStore;
  readonly deadlineMs: number;
  private readonly metrics: HubMetrics;
  /** The store histogram's `report` child, the one every batch observes into. */
  private readonly reportSeconds: { observe: (seconds: number) => void };
  /** Reads, fuses and serialises each round on a thread of its own. */
  private readonly fusionThread: TextFusion;
  private readonly now: () => number;
  private readonly onError: (error: Error, context: string) => void;
  private readonly onRound: ((line: string) => void) | undefined;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly fusing = new Map<string, Promise<void>>();
  /** Closes in flight here, by round: the batches that complete a round at once close it once. */
  private readonly closing = new Map<string, Promise<boolean>>();
  /** Failed tries at fusing a round, for rounds whose fusion failed for a reason not its own. */
  private readonly attempts = new Map<string, number>();
  /** Rounds fused here, until the store has their results (and a little after). */
  private readonly fresh = new Map<string, { events: number; ms: number }>();
  private readonly waiters = new Map<string, Set<() => void>>();
  /**
   * Results as JSON text, newest last, a few rounds' worth: each of a round's nodes may fetch
   * it, and a text is one flat string to the collector where a parsed result is a graph.
   */
  private readonly resultTexts = new Map<string, string>();
  private sweeper: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: RoundEngineOptions) {
    this.store = options.store;
    this.metrics = options.metrics;
    this.reportSeconds = options.metrics.storeOp('report');
    this.deadlineMs = options.deadlineMs ?? 30_000;
    this.fusionThread = new TextFusion(options.fusion ?? sensorPreset());
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => {});
    this.onRound = options.onRound;
    const sweepMs = options.sweepMs ?? 1000;
    this.sweeper = setInterval(() => void this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  /**
   * Starts the fusion thread (a bad fusion config fails here), fuses rounds a crash left closed
   * but unfused, and closes rounds past their deadline.
   */
  async start(): Promise<void> {
    await this.fusionThread.start();
    await this.sweep();
  }

  private async sweep(): Promise<void> {
    if (this.stopped) return;
    try {
      for (const round of await this.store.due(this.now())) void this.closeRound(round, 'deadline');
      for (const round of await this.store.unfused()) void this.fuseRound(round);
    } catch (e) {
      this.onError(e as Error, 'sweep');
    }
  }

  async announce(round: string, node: string): Promise<{ deadline: number }> {
    const { deadline, opened } = await this.metrics.timeStore('announce', this.store.announce(round, node, this.now(), this.deadlineMs));
    if (opened) this.metrics.rounds.inc({ event: 'opened' });
    if (!this.timers.has(round)) {
      const timer = setTimeout(() => void this.closeRound(round, 'deadline'), Math.max(0, deadline - this.now()));
      timer.unref();
      this.timers.set(round, timer);
    }
    return { deadline };
  }

  get storeKind(): string {
    return this.store.kind;
  }

  openRounds(): Promise<number> {
    return this.store.openRounds();
  }

  /**
   * Accepts a batch once. `json` is the batch as JSON text (the request body as received):
   * it is what the store keeps, and its digest is what a retry must match, so a retry must
   * resend the same bytes. `digest` is `batchDigest(json)`, when the caller has it already.
   */
  report(round: string, batch: ObservationBatch, json = JSON.stringify(batch), digest = batchDigest(json)): Promise<BatchOutcome> {
    const ids = batch.records.map((record) => record.id);
    return this.accept(round, { node: batch.node, seq: batch.seq, final: batch.final === true, ids, digest, json });
  }

  /** `report` for a batch as the store takes it (a hub worker sends its text, ids and digest). */
  async accept(round: string, batch: Batch): Promise<BatchOutcome> {
    // The hot path: the batch (its text included) is the store's from here, and nothing in this
    // frame keeps it while the write waits for its fsync.
    const observations = batch.ids.length;
    const started = performance.now();
    const outcome = await this.store.report(round, batch);
    this.reportSeconds.observe((performance.now() - started) / 1000);
    if (outcome.duplicate) this.metrics.batchesDuplicate.inc();
    else {
      this.metrics.batchesAccepted.inc();
      this.metrics.observations.inc(observations);
    }
    if (outcome.complete && outcome.state === 'open') {
      void this.closeRound(round, 'final');
      return { ...outcome, state: 'closed' };
    }
    // A round fused here whose result the store has still to commit is fused, as `summary`
    // and the result route already say.
    if (outcome.duplicate && outcome.state === 'closed' && this.fresh.has(round)) return { ...outcome, state: 'fused' };
    return outcome;
  }

  /** An admin's close: closes now (if open) and fuses. */
  async close(round: string): Promise<{ closedNow: boolean; state: string }> {
    const closedNow = await this.closeRound(round, 'admin', true);
    const summary = await this.store.summary(round);
    return { closedNow, state: summary?.state ?? 'closed' };
  }

  /**
   * Closes a round and starts its fusion. Errors are reported to `onError` unless `rethrow`
   * (the admin route answers them).
   */
  private closeRound(round: string, reason: CloseReason, rethrow = false): Promise<boolean> {
    // One close per round at a time from this process: on PostgreSQL every batch of the group
    // that completes a round sees it complete, and hundreds of closes queued on the round's
    // lock held up the connections its fusion needed. A close that joins one in flight did
    // not close the round itself; the one in flight reports its own failure.
    const inFlight = this.closing.get(round);
    if (inFlight) {
      return inFlight.then(
        () => false,
        (e: unknown) => {
          if (rethrow) throw e;
          return false;
        },
      );
    }
    const closing = this.closeOnce(round, reason, rethrow).finally(() => this.closing.delete(round));
    this.closing.set(round, closing);
    return closing;
  }

  private async closeOnce(round: string, reason: CloseReason, rethrow: boolean): Promise<boolean> {
    const timer = this.timers.get(round);
    if (timer) clearTimeout(timer);
    this.timers.delete(round);
    try {
      const closed = await this.metrics.timeStore('close', this.store.close(round, reason, this.now()));
      if (closed) {
        this.metrics.rounds.inc({ event: `closed_${reason}` });
        // Whoever closed it fuses it; the sweep picks up rounds a crashed closer left.
        void this.fuseRound(round);
      }
      return closed;
    } catch (e) {
      if (rethrow) throw e;
      this.onError(e as Error, `closing round ${round}`);
      return false;
    }
  }

  /** Fuses a closed round once per process. */
  private fuseRound(round: string): Promise<void> {
    let running = this.fusing.get(round);
    if (!running) {
      running = this.runFusion(round).finally(() => this.fusing.delete(round));
      this.fusing.set(round, running);
    }
    return running;
  }

  private async runFusion(round: string): Promise<void> {
    // A round closed while the hub stops stays closed and unfused: the next start fuses it.
    if (this.stopped) return;
    const summary = await this.store.summary(round);
    if (summary?.state !== 'closed') return;
    const started = performance.now();
    try {
      const query = this.store.batchTextsQuery?.(round);
      const result = query ? await this.fusionThread.fuseQuery(query) : await this.fusionThread.fuse(await this.store.batchTexts(round));
      const ms = performance.now() - started;
      this.metrics.fusionSeconds.observe(ms / 1000);
      this.metrics.rounds.inc({ event: 'fused' });
      this.cacheText(round, result.json);
      this.fresh.set(round, { events: result.events, ms });
      this.attempts.delete(round);
      this.notify(round);
      this.onRound?.(roundLine(summary, result.events, ms));
      await this.metrics.timeStore('save_result', this.store.saveResult(round, result, ms));
    } catch (e) {
      this.onError(e as Error, `fusing round ${round}`);
      // The round's own fault (its records or the config) fails it; anything else (the thread
      // died, the store could not be read, the hub is stopping) is retried by the sweep, a few
      // times, so that one bad round cannot kill threads for ever.
      const attempts = (this.attempts.get(round) ?? 0) + 1;
      if (!isFusionError(e) && (this.stopped || attempts < FUSION_ATTEMPTS)) {
        this.attempts.set(round, attempts);
        return;
      }
      this.attempts.delete(round);
      this.metrics.rounds.inc({ event: 'failed' });
      if (!this.fresh.has(round)) {
        try {
          await this.store.saveFailure(round, (e as Error).message);
        } catch (inner) {
          this.onError(inner as Error, `recording the failure of round ${round}`);
        }
        this.notify(round);
      }
    } finally {
      // The store serves it from now on; keep memory bounded.
      if (this.fresh.size > 4) this.fresh.delete(this.fresh.keys().next().value!);
    }
  }

  private notify(round: string): void {
    const waiting = this.waiters.get(round);
    this.waiters.delete(round);
    for (const wake of waiting ?? []) wake();
  }

  /** A round's summary; a result fused here but not yet stored already counts as fused. */
  async summary(round: string): Promise<RoundSummary | undefined> {
    return this.withFresh(await this.store.summary(round));
  }

  /** Rounds, newest first, as `summary` sees them. */
  async list(limit: number): Promise<RoundSummary[]> {
    return (await this.store.list(limit)).map((s) => this.withFresh(s)!);
  }

  private withFresh(summary: RoundSummary | undefined): RoundSummary | undefined {
    const fresh = summary && summary.state === 'closed' ? this.fresh.get(summary.round) : undefined;
    if (!summary || !fresh) return summary;
    return { ...summary, state: 'fused', events: fresh.events, fusionMs: fresh.ms };
  }

  /**
   * The fused result of a round as JSON text (a `FusionResult`), serialised once per round.
   * Waits up to `waitMs` for an open or fusing round; then throws ERR_ROUND_OPEN /
   * ERR_ROUND_FUSING (409), ERR_ROUND_NOT_FOUND (404) or ERR_FUSION_FAILED (500).
   */
  async resultJson(round: string, waitMs = 0): Promise<string> {
    const until = this.now() + waitMs;
    for (;;) {
      const cached = this.resultTexts.get(round);
      if (cached !== undefined) return cached;
      const summary = await this.store.summary(round);
      if (!summary) throw new HubError('ERR_ROUND_NOT_FOUND', `round "${round}" does not exist`);
      if (summary.state === 'fused') {
        const json = await this.store.resultJson(round);
        if (json !== undefined) return this.cacheText(round, json);
      }
      if (summary.state === 'failed') {
        throw new HubError('ERR_FUSION_FAILED', `fusion of round "${round}" failed: ${(await this.store.failure(round)) ?? 'unknown error'}`);
      }
      const left = until - this.now();
      if (left <= 0 || this.stopped) {
        if (summary.state === 'open') {
          throw new HubError(
            'ERR_ROUND_OPEN',
            `round "${round}" is still open (${summary.finalNodes} of ${summary.nodes} nodes final; deadline ${new Date(summary.deadline).toISOString()})`,
          );
        }
        throw new HubError('ERR_ROUND_FUSING', `round "${round}" is closed and being fused`);
      }
      await new Promise<void>((resolve) => {
        let waiting = this.waiters.get(round);
        if (!waiting) this.waiters.set(round, (waiting = new Set()));
        const timer = setTimeout(done, Math.min(left, RESULT_POLL_MS));
        function done(): void {
          clearTimeout(timer);
          waiting!.delete(done);
          resolve();
        }
        waiting.add(done);
      });
    }
  }

  private cacheText(round: string, json: string): string {
    this.resultTexts.set(round, json);
    if (this.resultTexts.size > RESULT_TEXTS) this.resultTexts.delete(this.resultTexts.keys().next().value!);
    return json;
  }

  /** Stops timers and waits for fusions in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.fusing.values()]);
    await this.fusionThread.close();
    for (const round of [...this.waiters.keys()]) this.notify(round);
  }
}
