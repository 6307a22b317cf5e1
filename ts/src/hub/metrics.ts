/** The hub's Prometheus metrics, in a registry of its own (several hubs can share a process). */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class HubMetrics {
  readonly registry = new Registry();
  readonly batches: Counter<'outcome'>;
  /** `batches` by outcome, bound once (labels are hashed per call otherwise). */
  readonly batchesAccepted: { inc: () => void };
  readonly batchesDuplicate: { inc: () => void };
  readonly observations: Counter;
  readonly ingestSeconds: Histogram;
  readonly rounds: Counter<'event'>;
  readonly openRounds: Gauge;
  readonly fusionSeconds: Histogram;
  readonly storeSeconds: Histogram<'op'>;
  readonly rejected: Counter<'code'>;

  /** `openRounds` asks the store at scrape time (with a shared store, other hubs open rounds too). */
  constructor(opts: { processMetrics?: boolean; openRounds?: () => Promise<number> } = {}) {
    const registers = [this.registry];
    this.batches = new Counter({ name: 'fleetscale_hub_batches_total', help: 'Observation batches by outcome (accepted, duplicate).', labelNames: ['outcome'], registers });
    this.batchesAccepted = this.batches.labels({ outcome: 'accepted' });
    this.batchesDuplicate = this.batches.labels({ outcome: 'duplicate' });
    this.observations = new Counter({ name: 'fleetscale_hub_observations_total', help: 'Observations accepted (durable).', registers });
    this.ingestSeconds = new Histogram({
      name: 'fleetscale_hub_ingest_seconds',
      help: 'Time from a batch request arriving to its acknowledgement (durable).',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.rounds = new Counter({
      name: 'fleetscale_hub_rounds_total',
      help: 'Round events (opened, closed_final, closed_deadline, closed_admin, fused, failed).',
      labelNames: ['event'],
      registers,
    });
    const countOpen = opts.openRounds;
    this.openRounds = new Gauge({
      name: 'fleetscale_hub_open_rounds',
      help: 'Rounds open now (in the store).',
      registers,
      // Across worker processes every one that asks the store sees the same count.
      aggregator: 'max',
      async collect() {
        if (countOpen) this.set(await countOpen());
      },
    });
    this.fusionSeconds = new Histogram({
      name: 'fleetscale_hub_fusion_seconds',
      help: 'Time to fuse a closed round (records read, native fusion).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.storeSeconds = new Histogram({
      name: 'fleetscale_hub_store_seconds',
      help: 'Store operation latency (durable).',
      labelNames: ['op'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.rejected = new Counter({ name: 'fleetscale_hub_rejected_total', help: 'Rejected requests by error code.', labelNames: ['code'], registers });
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'fleetscale_hub_' });
  }

  /** The store histogram's child per op, bound once. */
  private readonly storeOps = new Map<string, { observe: (seconds: number) => void }>();

  /** The store histogram's child for `op`, to observe seconds into. */
  storeOp(op: string): { observe: (seconds: number) => void } {
    let child = this.storeOps.get(op);
    if (!child) this.storeOps.set(op, (child = this.storeSeconds.labels({ op })));
    return child;
  }

  /** Times `work` into the store histogram under `op`. */
  async timeStore<T>(op: string, work: Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work;
    } finally {
      this.storeOp(op).observe((performance.now() - started) / 1000);
    }
  }
}
