/**
 * A hub worker's rounds: every protocol call goes to the process that owns the store (the
 * primary), batched per event-loop turn: batches over the report link, everything else over
 * the RPC link. The worker digests a batch itself, so the primary's share of a batch is the
 * protocol check and the store's write.
 */
import { HubError } from '../errors.js';
import type { ObservationBatch, RoundService } from '../round-service.js';
import { batchDigest, type RoundEngine } from '../rounds.js';
import type { BatchOutcome, RoundSummary } from '../store/types.js';
import type { ReportSender } from './report-link.js';
import type { RpcPeer } from './rpc.js';

/** Calls a worker may have waiting on the primary before it sheds load (default). */
export const DEFAULT_MAX_IN_FLIGHT = 20_000;

export class RoundClient implements RoundService {
  constructor(
    private readonly primary: RpcPeer,
    private readonly reports: ReportSender,
    readonly storeKind: string,
    private readonly maxInFlight = DEFAULT_MAX_IN_FLIGHT,
  ) {}

  /** ERR_OVERLOADED when too many calls wait on the primary already. */
  private overloaded(): HubError | undefined {
    const waiting = this.primary.inFlight + this.reports.inFlight;
    if (waiting < this.maxInFlight) return undefined;
    return new HubError('ERR_OVERLOADED', `the hub has ${waiting} requests waiting on its store; retry later`);
  }

  private call<T>(method: string, args: unknown[]): Promise<T> {
    const overloaded = this.overloaded();
    return overloaded ? Promise.reject(overloaded) : this.primary.call<T>(method, args);
  }

  // The primary runs the rounds' timers and fusions; a worker has none of its own.
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  announce(round: string, node: string): Promise<{ deadline: number }> {
    return this.call('announce', [round, node]);
  }

  /** Sends the batch's text and record ids, not its parsed records: the primary reads them at fusion. */
  report(round: string, batch: ObservationBatch, json = JSON.stringify(batch)): Promise<BatchOutcome> {
    const overloaded = this.overloaded();
    if (overloaded) return Promise.reject(overloaded);
    const ids = batch.records.map((record) => record.id);
    return this.reports.report({ round, node: batch.node, seq: batch.seq, final: batch.final === true, ids, json, digest: batchDigest(json) });
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

/**
 * The primary's side: the RPC calls a worker's `RoundClient` makes, answered by the round
 * engine (its reports come over the report link, to `rounds.accept`).
 */
export function roundHandlers(rounds: RoundEngine) {
  return {
    announce: (round: string, node: string) => rounds.announce(round, node),
    close: (round: string) => rounds.close(round),
    resultJson: (round: string, waitMs: number) => rounds.resultJson(round, waitMs),
    summary: (round: string) => rounds.summary(round),
    list: (limit: number) => rounds.list(limit),
    openRounds: () => rounds.openRounds(),
  };
}
