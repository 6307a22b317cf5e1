/**
 * What a hub store does. A store owns the rounds' durable state and enforces the protocol's
 * rules atomically (one announce per node, each batch once, nothing after a node's final batch
 * or after the round closed, record ids unique in a round), so that several hub processes on
 * one shared store (PostgreSQL) agree. Every method that changes state resolves only once the
 * change is durable.
 */
import type { BatchText } from '../../fusion/batch-texts.js';
import type { TextQuery } from '../../fusion/query-texts.js';

/** open → closed (no more batches) → fused (result stored) or failed (fusion threw). */
export type RoundState = 'open' | 'closed' | 'fused' | 'failed';
export type CloseReason = 'final' | 'deadline' | 'admin';

export type RoundSummary = {
  round: string;
  state: RoundState;
  /** Epoch ms of the first announce. */
  openedAt: number;
  /** Epoch ms at which the round closes whatever has arrived. */
  deadline: number;
  closedAt: number | null;
  closeReason: CloseReason | null;
  /** Announced nodes. */
  nodes: number;
  /** Nodes whose final batch (and every batch before it) arrived. */
  finalNodes: number;
  batches: number;
  observations: number;
  /** Fused events, once fused. */
  events: number | null;
  fusionMs: number | null;
};

export type Batch = {
  node: string;
  seq: number;
  final: boolean;
  /** Ids of the batch's records, in order (unique in a round). */
  ids: string[];
  /** Digest of the batch content: a retry with the same seq must carry the same digest. */
  digest: string;
  /**
   * JSON text with the batch's `records` (the request body as received), stored as is: a
   * string, or its UTF-8 bytes (as a hub worker's batch arrives over the report link).
   */
  json: string | Uint8Array;
};

/**
 * A fused round's result as a store keeps it: the JSON text of its `FusionResult`, serialised
 * once (results are served as text, and a parsed result of a large round is tens of MB of
 * objects for the collector to trace), its number of events, and, when the fusion thread gave
 * them, the same text's UTF-8 bytes (a store may write those instead of encoding the text).
 */
export type StoredResult = { json: string; bytes?: Uint8Array; events: number };

export type Announced = {
  /** Epoch ms at which the round closes whatever has arrived. */
  deadline: number;
  /** True for the announce that opened the round. */
  opened: boolean;
};

/**
 * How many of the latest fused rounds keep their batches' digests, so that a node retrying an
 * acknowledged batch whose reply it lost is still answered as a duplicate (202) after the round
 * was fused, not ERR_ROUND_CLOSED. Older rounds, and on the embedded store rounds fused before
 * the hub restarted, answer ERR_ROUND_CLOSED.
 */
export const FUSED_ROUNDS_REMEMBERED = 16;

export type BatchOutcome = {
  /** True when this (node, seq) had been accepted before with the same content. */
  duplicate: boolean;
  /** The round's state after the batch. */
  state: RoundState;
  /** True when every announced node has now sent its final batch. */
  complete: boolean;
};

export interface RoundStore {
  /** `embedded` or `postgres`, for health and metrics. */
  readonly kind: string;
  /**
   * Joins `node` to `round`, opening the round (deadline `now + deadlineMs`) on its first
   * announce. A repeated announce is a no-op. Throws ERR_ROUND_CLOSED for a closed round.
   */
  announce(round: string, node: string, now: number, deadlineMs: number): Promise<Announced>;
  /**
   * Accepts a batch once. Throws ERR_ROUND_NOT_FOUND, ERR_ROUND_CLOSED, ERR_NOT_ANNOUNCED,
   * ERR_BATCH_CONFLICT (same seq, other content), ERR_AFTER_FINAL, ERR_DUPLICATE_RECORD_ID.
   */
  report(round: string, batch: Batch): Promise<BatchOutcome>;
  /** Closes an open round; false when it was not open (already closed by someone). */
  close(round: string, reason: CloseReason, now: number): Promise<boolean>;
  /**
   * The JSON texts of a closed round's batches, in a stable order, for fusion: each an object
   * with the batch's `records`, as it was received.
   */
  batchTexts(round: string): Promise<BatchText[]>;
  /**
   * The query that returns `batchTexts(round)`, where the store is a database the fusion
   * thread can read from itself (PostgreSQL): the texts then never pass the event loop.
   */
  batchTextsQuery?(round: string): TextQuery;
  /** Stores a round's result; the first stored result wins. */
  saveResult(round: string, result: StoredResult, fusionMs: number): Promise<void>;
  /** Marks a round whose fusion failed. */
  saveFailure(round: string, message: string): Promise<void>;
  /** A fused round's result as JSON text (a `FusionResult`), as it was saved. */
  resultJson(round: string): Promise<string | undefined>;
  /** Why fusion failed, for a failed round. */
  failure(round: string): Promise<string | undefined>;
  summary(round: string): Promise<RoundSummary | undefined>;
  /** Rounds, newest first. */
  list(limit: number): Promise<RoundSummary[]>;
  /** Open rounds whose deadline has passed. */
  due(now: number): Promise<string[]>;
  /** Closed rounds without a result (left by a crash, or by another hub). */
  unfused(): Promise<string[]>;
  /** Open rounds right now. */
  openRounds(): Promise<number>;
  /** Finishes pending writes and releases files or connections. */
  shutdown(): Promise<void>;
}
