/**
 * A hub worker's rounds: every protocol call goes to the process that owns the store (the
 * primary), batched per event-loop turn. The worker digests a batch itself, so the primary's
 * share of a batch is the protocol check and the log append.
 */
import { HubError } from '../errors.js';
import type { ObservationBatch, RoundService } from '../round-service.js';
import { batchDigest, type RoundEngine } from '../rounds.js';
import type { BatchOutcome, RoundSummary } from '../store/types.js';
import type { RpcPeer } from './rpc.js';

/** Calls a worker may have waiting on the primary before it sheds load (default). */
export const DEFAULT_MAX_IN_FLIGHT = 20_000;

export class RoundClient implements RoundService {
  constructor(
    private readonly primary: RpcPeer,
    readonly storeKind: string,
    private readonly maxInFlight = DEFAULT_MAX_IN_FLIGHT,
  ) {}

  private call<T>(method: string, args: unknown[]): Promise<T> {
    if (this.primary.inFlight >= this.maxInFlight) {
      return Promise.reject(new HubError('ERR_OVERLOADED', `the hub has ${this.primary.inFlight} requests waiting on its store; retry later`));
    }
    return this.primary.call<T>(method, args);
  }

  // The primary runs the rounds' timers and fusions; a worker has none of its own.
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  announce(round: string, node: string): Promise<{ deadline: number }> {
    return this.call('announce', [round, node]);
  }

  /** Sends the batch's text and record ids, not its parsed records: the primary reads them at fusion. */
  report(round: string, batch: ObservationBatch, json = JSON.stringify(batch)): Promise<BatchOutcome> {
    const ids = batch.records.map((record) => record.id);
    return this.call('report', [round, batch.node, batch.seq, batch.final === true, ids, json, batchDigest(json)]);
  }

  close(round: string): Promise<{ closedNow: boolean; state: string }> {
    return this.call('close', [round]);
  }

  resultJson(round: string, waitMs = 0): Promise<string> {
    return this.call('resultJson', [round, waitMs]);
  }

  summary(round: string): Promise<RoundSummary | undefined> {
    return this.call('summary', [round]);
  }

  list(limit: number): Promise<RoundSummary[]> {
    return this.call('list', [limit]);
  }

  openRounds(): Promise<number> {
    return this.call('openRounds', []);
  }
}

/** The primary's side: the calls a worker's `RoundClient` makes, answered by the round engine. */
export function roundHandlers(rounds: RoundEngine) {
  return {
    announce: (round: string, node: string) => rounds.announce(round, node),
    report: (round: string, node: string, seq: number, final: boolean, ids: string[], json: string, digest: string) =>
      rounds.accept(round, { node, seq, final, ids, json, digest }),
    close: (round: string) => rounds.close(round),
    resultJson: (round: string, waitMs: number) => rounds.resultJson(round, waitMs),
    summary: (round: string) => rounds.summary(round),
    list: (limit: number) => rounds.list(limit),
    openRounds: () => rounds.openRounds(),
  };
}
