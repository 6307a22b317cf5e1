/**
 * What the HTTP app needs of the rounds: the protocol's operations and the store's kind. The
 * `RoundEngine` is one, in the hub's own process; a hub worker's `RoundClient` is another,
 * forwarding each call to the process that owns the store.
 */
import type { SensorRecord } from '../fusion/types.js';
import type { BatchOutcome, RoundSummary } from './store/types.js';

export type ObservationBatch = { node: string; seq: number; final?: boolean; records: SensorRecord[] };

export interface RoundService {
  /** `embedded` or `postgres`. */
  readonly storeKind: string;
  /** Fuses rounds a crash left unfused and closes rounds past their deadline. */
  start(): Promise<void>;
  /** Stops timers and waits for work in flight. */
  stop(): Promise<void>;
  announce(round: string, node: string): Promise<{ deadline: number }>;
  /**
   * Accepts a batch once. `json` is the batch as JSON text (the request body as received):
   * the store keeps it, and its digest is what a retry must match.
   */
  report(round: string, batch: ObservationBatch, json?: string): Promise<BatchOutcome>;
  /** An admin's close: closes now (if open) and fuses. */
  close(round: string): Promise<{ closedNow: boolean; state: string }>;
  /**
   * The fused result as JSON text (a `FusionResult`), serialised once per round: every node of
   * a round may fetch it. Waits up to `waitMs` for an open or fusing round.
   */
  resultJson(round: string, waitMs?: number): Promise<string>;
  summary(round: string): Promise<RoundSummary | undefined>;
  /** Rounds, newest first. */
  list(limit: number): Promise<RoundSummary[]>;
  /** Open rounds right now. */
  openRounds(): Promise<number>;
}
