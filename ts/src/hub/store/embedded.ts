/**
 * The embedded default store: everything lives in the data directory, no server to run.
 *
 * Protocol events (announce, batch, close) go to a write-ahead log with group commit
 * (`wal/`), so a batch is acknowledged only once it is fsynced. A fused round's result and
 * summary are written to `rounds/<round>.json` (temp file, fsync, rename, directory fsync);
 * once every round a log segment mentions has its file, the segment is deleted. On open, the
 * round files are read, then the log is replayed: open rounds come back with their
 * observations, closed rounds that had no result yet are fused again by the hub.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';

import type { FusionResult, SensorRecord } from '../../fusion/types.js';
import { HubError } from '../errors.js';
import { ByteArena } from './byte-arena.js';
import { type Announced, type Batch, type BatchOutcome, type CloseReason, FUSED_ROUNDS_REMEMBERED, type RoundStore, type RoundSummary, type StoredResult } from './types.js';
import { syncDir, WriteAheadLog } from './wal.js';

type NodeProgress = {
  /** Accepted seqs and their content digests. */
  seqs: Map<number, string>;
  /** Seq of the final batch, 0 until it arrives. */
  finalSeq: number;
  /** Batches of this node that are durable. */
  durable: number;
  complete: boolean;
};

/**
 * An accepted batch: the UTF-8 bytes of its JSON text, in the round's arena, off the JS heap,
 * until the fusion thread reads them. (Records kept as objects for a whole round, and texts
 * kept as strings, survive every young-generation collection: measured slower under load.)
 */
type LiveBatch = { node: string; seq: number; text: Buffer };

/** What undoing a booked batch needs (not its text). */
type Booked = Pick<Batch, 'node' | 'seq' | 'final' | 'ids'>;

type LiveRound = {
  summary: RoundSummary;
  nodes: Map<string, NodeProgress>;
  /** Accepted batches in order of acceptance (durable or in flight). */
  batches: LiveBatch[];
  /** Where the batches' texts are kept until fusion. */
  arena: ByteArena;
  ids: Set<string>;
  /** In-flight writes of batches, by `node:seq`, so a retry waits for the original. */
  pending: Map<string, Promise<void>>;
  /** Log segments holding this round's entries. */
  segments: Set<number>;
};

/**
 * A log entry is a JSON header; a batch's header is followed by a newline and the batch's JSON
 * text as received (not re-serialised), whose `records` are the observations.
 */
type Entry =
  | { k: 'a'; r: string; n: string; t: number; d: number }
  | { k: 'b'; r: string; n: string; s: number; f: boolean; h: string; body?: Buffer }
  | { k: 'c'; r: string; t: number; why: CloseReason };

const NEWLINE = 0x0a;
const NEWLINE_BYTE = Buffer.from([NEWLINE]);

function decodeEntry(payload: Buffer): Entry {
  const split = payload.indexOf(NEWLINE);
  if (split < 0) return JSON.parse(payload.toString('utf8')) as Entry;
  const entry = JSON.parse(payload.toString('utf8', 0, split)) as Entry;
  if (entry.k === 'b') entry.body = payload.subarray(split + 1);
  return entry;
}

/** `rounds/<round>.json`: a round's summary and its result or why its fusion failed. */
type RoundFile = { summary: RoundSummary; result?: FusionResult; failure?: string };

export type EmbeddedStoreOptions = {
  /** Bytes per log segment before a new one starts (default 64 MiB). */
  segmentBytes?: number;
  /** Told about a torn log tail cut off on open. */
  onTruncate?: (segment: string, atByte: number, droppedBytes: number) => void;
  /** The least time between two synced log writes (default 2 ms; see `WalOptions`). */
  minSyncIntervalMs?: number;
};

/** Up to this many records, a batch's ids are checked against each other pairwise. */
const SMALL_BATCH = 16;

/** How many results are kept in memory besides the files. */
const RESULT_CACHE = 8;

/**
 * The hub's default store: rounds and batches in a write-ahead log in the data directory
 * (fsync'd, group-committed), so an acknowledged batch survives `kill -9` with no server.
 */
export class EmbeddedStore implements RoundStore {
  readonly kind = 'embedded';
  /** Rounds still needing the log: open, closed, or fused with the file not yet written. */
  private readonly live = new Map<string, LiveRound>();
  /** Summaries of every round, live or done. */
  private readonly summaries = new Map<string, RoundSummary>();
  /** Results as JSON text, the latest few. */
  private readonly results = new Map<string, string>();
  private readonly failures = new Map<string, string>();
  /**
   * The nodes' accepted seqs and digests of the latest fused rounds, oldest first: in memory, so
   * a restarted hub answers a retry into a round fused before ERR_ROUND_CLOSED.
   */
  private readonly fusedSeqs = new Map<string, Map<string, NodeProgress>>();
  /** Live rounds per log segment. */
  private readonly segmentRounds = new Map<number, Set<string>>();
  private readonly roundsDir: string;

  private constructor(
    private readonly wal: WriteAheadLog,
    dataDir: string,
  ) {
    this.roundsDir = join(dataDir, 'rounds');
  }

  /** Opens (or creates) the store in `dataDir` and recovers its rounds. */
  static async open(dataDir: string, options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
    const roundsDir = join(dataDir, 'rounds');
    mkdirSync(roundsDir, { recursive: true });
    const { wal, entries } = await WriteAheadLog.open(join(dataDir, 'wal'), options);
    const store = new EmbeddedStore(wal, dataDir);
    store.loadRoundFiles();
    for (const { segment, payload } of entries) store.replay(decodeEntry(payload), segment);
    // Segments that no live round needs (all their rounds have files) go now.
    for (const n of wal.segments()) if (!store.segmentRounds.get(n)?.size) wal.dropSegment(n);
    return store;
  }

  private loadRoundFiles(): void {
    for (const name of readdirSync(this.roundsDir)) {
      if (!name.endsWith('.json')) continue;
      const file = JSON.parse(readFileSync(join(this.roundsDir, name), 'utf8')) as RoundFile;
      this.summaries.set(file.summary.round, file.summary);
      if (file.failure !== undefined) this.failures.set(file.summary.round, file.failure);
    }
  }

  /** Applies one recovered log entry (already checked when it was written). */
  private replay(entry: Entry, segment: number): void {
    const done = this.summaries.get(entry.r);
    if (done && !this.live.has(entry.r)) return; // the round has its file: nothing to restore
    if (entry.k === 'a') {
      const round = this.live.get(entry.r) ?? this.createRound(entry.r, entry.t, entry.d);
      this.joinNode(round, entry.n);
      this.track(round, segment);
    } else if (entry.k === 'b') {
      const round = this.live.get(entry.r);
      if (!round) return;
      const node = round.nodes.get(entry.n);
      if (!node || node.seqs.has(entry.s)) return;
      const body = entry.body ?? Buffer.from('{"records":[]}');
      // Its ids, for the round's duplicate check; its text waits for fusion like any other.
      const ids = (JSON.parse(body.toString('utf8')) as { records: SensorRecord[] }).records.map((r) => r.id);
      this.acceptBatch(round, node, { node: entry.n, seq: entry.s, final: entry.f, ids, digest: entry.h, json: '' }, body);
      this.markDurable(round, node);
      this.track(round, segment);
    } else if (entry.k === 'c') {
      const round = this.live.get(entry.r);
      if (round?.summary.state !== 'open') return;
      round.summary.state = 'closed';
      round.summary.closedAt = entry.t;
      round.summary.closeReason = entry.why;
      this.track(round, segment);
    }
  }

  private createRound(id: string, now: number, deadline: number): LiveRound {
    const summary: RoundSummary = {
      round: id,
      state: 'open',
      openedAt: now,
      deadline,
      closedAt: null,
      closeReason: null,
      nodes: 0,
      finalNodes: 0,
      batches: 0,
      observations: 0,
      events: null,
      fusionMs: null,
    };
    const round: LiveRound = { summary, nodes: new Map(), batches: [], arena: new ByteArena(), ids: new Set(), pending: new Map(), segments: new Set() };
    this.live.set(id, round);
    this.summaries.set(id, summary);
    return round;
  }

  private joinNode(round: LiveRound, node: string): NodeProgress {
    let progress = round.nodes.get(node);
    if (!progress) {
      progress = { seqs: new Map(), finalSeq: 0, durable: 0, complete: false };
      round.nodes.set(node, progress);
      round.summary.nodes++;
    }
    return progress;
  }

  private track(round: LiveRound, segment: number): void {
    round.segments.add(segment);
    let rounds = this.segmentRounds.get(segment);
    if (!rounds) this.segmentRounds.set(segment, (rounds = new Set()));
    rounds.add(round.summary.round);
  }

  private async write(entry: Entry, text?: Buffer): Promise<number> {
    const header = JSON.stringify(entry);
    try {
      return await (text === undefined ? this.wal.append(header) : this.wal.append(header, NEWLINE_BYTE, text));
    } catch (e) {
      throw new HubError('ERR_STORE_UNAVAILABLE', `the write-ahead log could not be written: ${(e as Error).message}`);
    }
  }

  async announce(id: string, node: string, now: number, deadlineMs: number): Promise<Announced> {
    let round = this.live.get(id);
    const done = this.summaries.get(id);
    if (!round && done) throw new HubError('ERR_ROUND_CLOSED', `round "${id}" is ${done.state}`);
    if (round && round.summary.state !== 'open') throw new HubError('ERR_ROUND_CLOSED', `round "${id}" is ${round.summary.state}`);
    if (round?.nodes.has(node)) {
      // Wait for the original announce to be durable before confirming again.
      await round.pending.get(`${node}:0`);
      return { deadline: round.summary.deadline, opened: false };
    }
    const opening = !round;
    round ??= this.createRound(id, now, now + deadlineMs);
    this.joinNode(round, node);
    const key = `${node}:0`;
    const durable = this.write({ k: 'a', r: id, n: node, t: round.summary.openedAt, d: round.summary.deadline }).then((segment) => {
      this.track(round, segment);
    });
    round.pending.set(key, durable);
    try {
      await durable;
    } catch (e) {
      round.nodes.delete(node);
      round.summary.nodes--;
      if (opening && round.nodes.size === 0) {
        this.live.delete(id);
        this.summaries.delete(id);
      }
      throw e;
    } finally {
      round.pending.delete(key);
    }
    return { deadline: round.summary.deadline, opened: opening };
  }

  async report(id: string, batch: Batch): Promise<BatchOutcome> {
    const round = this.live.get(id);
    if (!round) {
      const done = this.summaries.get(id);
      if (!done) throw new HubError('ERR_ROUND_NOT_FOUND', `round "${id}" does not exist (announce opens it)`);
      if (this.isRetry(id, batch, this.fusedSeqs.get(id)?.get(batch.node))) return { duplicate: true, state: done.state, complete: false };
      throw new HubError('ERR_ROUND_CLOSED', `round "${id}" is ${done.state}; it takes no more batches`);
    }
    const node = round.nodes.get(batch.node);
    if (this.isRetry(id, batch, node)) {
      await round.pending.get(`${batch.node}:${batch.seq}`);
      return { duplicate: true, state: round.summary.state, complete: this.isComplete(round) };
    }
    if (round.summary.state !== 'open') throw new HubError('ERR_ROUND_CLOSED', `round "${id}" is ${round.summary.state}; it takes no more batches`);
    if (!node) throw new HubError('ERR_NOT_ANNOUNCED', `node "${batch.node}" has not announced itself in round "${id}"`);
    if (node.finalSeq > 0 && batch.seq > node.finalSeq) {
      throw new HubError('ERR_AFTER_FINAL', `node "${batch.node}" ended round "${id}" with batch ${node.finalSeq}; batch ${batch.seq} comes after it`);
    }
    if (batch.final) {
      if (node.finalSeq > 0) throw new HubError('ERR_AFTER_FINAL', `node "${batch.node}" already sent its final batch (${node.finalSeq}) in round "${id}"`);
      for (const seq of node.seqs.keys()) {
        if (seq > batch.seq) throw new HubError('ERR_AFTER_FINAL', `node "${batch.node}" already sent batch ${seq}, after the final batch ${batch.seq}`);
      }
    }
    this.checkRecords(round, batch, id);
    const text = this.acceptBatch(round, node, batch);
    const durable = this.write({ k: 'b', r: id, n: batch.node, s: batch.seq, f: batch.final, h: batch.digest }, text).then((segment) => {
      this.track(round, segment);
      this.markDurable(round, node);
    });
    // The text is in the arena now: what waits for the fsync keeps only what a rollback needs,
    // so the request's text and parsed body can go in the next young-generation collection.
    return this.untilDurable(round, node, durable, { node: batch.node, seq: batch.seq, final: batch.final, ids: batch.ids });
  }

  /** Whether `batch` is one `node` already sent (ERR_BATCH_CONFLICT if with other content). */
  private isRetry(id: string, batch: Batch, node: NodeProgress | undefined): boolean {
    const seen = node?.seqs.get(batch.seq);
    if (seen === undefined) return false;
    if (seen !== batch.digest) {
      throw new HubError('ERR_BATCH_CONFLICT', `node "${batch.node}" already sent batch ${batch.seq} of round "${id}" with other content`);
    }
    return true;
  }

  private async untilDurable(round: LiveRound, node: NodeProgress, durable: Promise<void>, booked: Booked): Promise<BatchOutcome> {
    const key = `${booked.node}:${booked.seq}`;
    round.pending.set(key, durable);
    try {
      await durable;
    } catch (e) {
      this.rollBack(round, node, booked);
      throw e;
    } finally {
      round.pending.delete(key);
    }
    return { duplicate: false, state: round.summary.state, complete: this.isComplete(round) };
  }

  private checkRecords(round: LiveRound, batch: Batch, id: string): void {
    const ids = batch.ids;
    // A batch's ids against each other: pairwise for a small batch (the usual few), a set beyond.
    const inBatch = ids.length > SMALL_BATCH ? new Set<string>() : undefined;
    for (let i = 0; i < ids.length; i++) {
      const recordId = ids[i];
      let again = round.ids.has(recordId);
      if (!again && inBatch) {
        again = inBatch.has(recordId);
        inBatch.add(recordId);
      } else if (!again) {
        for (let j = 0; j < i && !again; j++) again = ids[j] === recordId;
      }
      if (again) throw new HubError('ERR_DUPLICATE_RECORD_ID', `records[${i}].id "${recordId}" is already in round "${id}"`);
    }
  }

  /** Books an accepted batch; its text (or, recovered from the log, its bytes) goes to the round's arena. */
  private acceptBatch(round: LiveRound, node: NodeProgress, batch: Batch, bytes?: Uint8Array): Buffer {
    node.seqs.set(batch.seq, batch.digest);
    if (batch.final) node.finalSeq = batch.seq;
    for (const recordId of batch.ids) round.ids.add(recordId);
    const text = round.arena.put(bytes ?? batch.json);
    round.batches.push({ node: batch.node, seq: batch.seq, text });
    round.summary.batches++;
    round.summary.observations += batch.ids.length;
    return text;
  }

  private markDurable(round: LiveRound, node: NodeProgress): void {
    node.durable++;
    if (!node.complete && node.finalSeq > 0 && node.durable === node.finalSeq && node.seqs.size === node.finalSeq) {
      node.complete = true;
      round.summary.finalNodes++;
    }
  }

  private rollBack(round: LiveRound, node: NodeProgress, batch: Booked): void {
    node.seqs.delete(batch.seq);
    if (batch.final) node.finalSeq = 0;
    for (const recordId of batch.ids) round.ids.delete(recordId);
    const at = round.batches.findIndex((b) => b.node === batch.node && b.seq === batch.seq);
    if (at >= 0) round.batches.splice(at, 1);
    round.summary.batches--;
    round.summary.observations -= batch.ids.length;
  }

  private isComplete(round: LiveRound): boolean {
    return round.summary.nodes > 0 && round.summary.finalNodes === round.summary.nodes;
  }

  async close(id: string, reason: CloseReason, now: number): Promise<boolean> {
    const round = this.live.get(id);
    if (!round) {
      if (this.summaries.has(id)) return false;
      throw new HubError('ERR_ROUND_NOT_FOUND', `round "${id}" does not exist`);
    }
    if (round.summary.state !== 'open') return false;
    round.summary.state = 'closed';
    round.summary.closedAt = now;
    round.summary.closeReason = reason;
    try {
      this.track(round, await this.write({ k: 'c', r: id, t: now, why: reason }));
    } catch (e) {
      // Not durable: the round stays open and takes batches again.
      round.summary.state = 'open';
      round.summary.closedAt = null;
      round.summary.closeReason = null;
      throw e;
    }
    return true;
  }

  async batchTexts(id: string): Promise<Buffer[]> {
    const round = this.live.get(id);
    if (!round) throw new HubError('ERR_ROUND_NOT_FOUND', `round "${id}" has no stored observations`);
    // Batches accepted before the close may still be in flight: wait, so that only durable ones
    // are left (a failed write takes its batch back out).
    await Promise.allSettled([...round.pending.values()]);
    return round.batches.map((b) => b.text);
  }

  async saveResult(id: string, result: StoredResult, fusionMs: number): Promise<void> {
    const summary = this.summaries.get(id);
    if (!summary) throw new HubError('ERR_ROUND_NOT_FOUND', `round "${id}" does not exist`);
    if (summary.state === 'fused') return;
    summary.state = 'fused';
    summary.events = result.events;
    summary.fusionMs = fusionMs;
    this.cacheResult(id, result.json);
    // A RoundFile, composed around the result's bytes (or text) rather than serialising it again.
    await this.persist(id, `{"summary":${JSON.stringify(summary)},"result":`, result.bytes ?? result.json, '}');
  }

  async saveFailure(id: string, message: string): Promise<void> {
    const summary = this.summaries.get(id);
    if (!summary) throw new HubError('ERR_ROUND_NOT_FOUND', `round "${id}" does not exist`);
    summary.state = 'failed';
    this.failures.set(id, message);
    await this.persist(id, JSON.stringify({ summary, failure: message } satisfies RoundFile));
  }

  private cacheResult(id: string, json: string): void {
    this.results.delete(id);
    this.results.set(id, json);
    while (this.results.size > RESULT_CACHE) this.results.delete(this.results.keys().next().value!);
  }

  /** Writes the round file atomically, then lets the log forget the round. */
  private async persist(id: string, ...parts: Array<string | Uint8Array>): Promise<void> {
    const path = join(this.roundsDir, `${id}.json`);
    const temp = `${path}.tmp`;
    const handle = await open(temp, 'w');
    try {
      // One after the other from the file's position; the result's bytes are written as they are.
      for (const part of parts) await handle.writeFile(part);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await syncDir(this.roundsDir);
    this.forget(id);
  }

  /** Drops a round that has its file from the log bookkeeping, deleting unneeded segments. */
  private forget(id: string): void {
    const round = this.live.get(id);
    if (!round) return;
    this.live.delete(id);
    this.fusedSeqs.set(id, round.nodes);
    for (const old of this.fusedSeqs.keys()) {
      if (this.fusedSeqs.size <= FUSED_ROUNDS_REMEMBERED) break;
      this.fusedSeqs.delete(old);
    }
    for (const segment of round.segments) {
      const rounds = this.segmentRounds.get(segment);
      rounds?.delete(id);
      if (rounds && rounds.size === 0 && segment < this.wal.currentSegment) {
        this.segmentRounds.delete(segment);
        this.wal.dropSegment(segment);
      }
    }
  }

  async resultJson(id: string): Promise<string | undefined> {
    const cached = this.results.get(id);
    if (cached !== undefined) return cached;
    if (this.summaries.get(id)?.state !== 'fused') return undefined;
    try {
      // An older round, read back from its file (rare: the latest rounds are cached).
      const file = JSON.parse(readFileSync(join(this.roundsDir, `${id}.json`), 'utf8')) as RoundFile;
      if (file.result === undefined) return undefined;
      const json = JSON.stringify(file.result);
      this.cacheResult(id, json);
      return json;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async failure(id: string): Promise<string | undefined> {
    return this.failures.get(id);
  }

  async summary(id: string): Promise<RoundSummary | undefined> {
    return this.summaries.get(id);
  }

  async list(limit: number): Promise<RoundSummary[]> {
    return [...this.summaries.values()].sort((a, b) => b.openedAt - a.openedAt || (a.round < b.round ? 1 : -1)).slice(0, limit);
  }

  async due(now: number): Promise<string[]> {
    const out: string[] = [];
    for (const round of this.live.values()) if (round.summary.state === 'open' && round.summary.deadline <= now) out.push(round.summary.round);
    return out;
  }

  async unfused(): Promise<string[]> {
    const out: string[] = [];
    for (const round of this.live.values()) if (round.summary.state === 'closed') out.push(round.summary.round);
    return out;
  }

  async openRounds(): Promise<number> {
    let n = 0;
    for (const round of this.live.values()) if (round.summary.state === 'open') n++;
    return n;
  }

  async shutdown(): Promise<void> {
    await this.wal.close();
  }
}
