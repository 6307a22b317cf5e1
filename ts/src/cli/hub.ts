/** `fleetscale hub`: the HTTP hub on the embedded store (or PostgreSQL). */
import { availableParallelism } from 'node:os';

import { startHub, type RunningHub } from '../hub/server.js';
import { DEFAULT_MIN_SYNC_INTERVAL_MS } from '../hub/store/wal.js';
import { numberOption, parseArgs, UsageError } from './args.js';

export const hubUsage = `fleetscale hub [--port 8080] [--host 127.0.0.1] [--data ./fleetscale-data] [--pg <url> [--pg-schema fleetscale_hub]]
              [--workers 0|N|auto] [--round-deadline-ms 30000] [--sync-interval-ms 2] [--log-level info]
  Starts the hub: the three-phase round protocol under /v1, the dashboard at /, /healthz and
  /metrics. Observations are kept in the data directory's write-ahead log (fsync, group
  commit; synced writes start at least --sync-interval-ms apart, the most an acknowledgement
  waits for its group to fill), or with --pg in PostgreSQL, where several hubs behind a load
  balancer share rounds (give them one FLEETSCALE_SECRET). The secret is FLEETSCALE_SECRET or
  is generated into the data directory. --workers N serves HTTP from N worker processes on the
  one port, in front of this process's store (auto: one per core; 0, the default: this
  process serves HTTP). It logs (JSON lines) a line per fused round, why it closed, its nodes,
  observations and fusion time, and once a minute the requests it rejected, by code; --log-level
  warn keeps only the latter, debug adds a line per request.
  example: fleetscale hub --port 8080 --data ./fleetscale-data --workers auto`;

/** A wait longer than this for every acknowledgement is a typo, not a plan (ms). */
const MAX_SYNC_INTERVAL_MS = 1000;

/** More worker processes than this is a typo, not a plan. */
const MAX_WORKERS = 256;

export type HubCliOptions = {
  port: number;
  host: string;
  dataDir: string;
  pgUrl?: string;
  pgSchema?: string;
  roundDeadlineMs: number;
  syncIntervalMs: number;
  logLevel: string;
  workers: number;
};

export function parseHubOptions(argv: string[], extraFlags: readonly string[] = [], extraValued: readonly string[] = [], defaultLogLevel = 'warn') {
  const args = parseArgs(argv, extraFlags, ['port', 'host', 'data', 'pg', 'pg-schema', 'round-deadline-ms', 'sync-interval-ms', 'log-level', 'workers', ...extraValued]);
  const options: HubCliOptions = {
    port: numberOption(args, 'port', 8080, { integer: true, min: 0 }),
    host: String(args.options.get('host') ?? '127.0.0.1'),
    dataDir: String(args.options.get('data') ?? './fleetscale-data'),
    pgUrl: args.options.has('pg') ? String(args.options.get('pg')) : undefined,
    pgSchema: args.options.has('pg-schema') ? String(args.options.get('pg-schema')) : undefined,
    roundDeadlineMs: numberOption(args, 'round-deadline-ms', 30_000, { integer: true, min: 1 }),
    syncIntervalMs: numberOption(args, 'sync-interval-ms', DEFAULT_MIN_SYNC_INTERVAL_MS, { min: 0 }),
    logLevel: String(args.options.get('log-level') ?? defaultLogLevel),
    workers: args.options.get('workers') === 'auto' ? availableParallelism() : numberOption(args, 'workers', 0, { integer: true, min: 0 }),
  };
  if (options.port > 65535) throw new UsageError(`--port must be <= 65535, got ${options.port}`);
  if (options.syncIntervalMs > MAX_SYNC_INTERVAL_MS) throw new UsageError(`--sync-interval-ms must be <= ${MAX_SYNC_INTERVAL_MS}, got ${options.syncIntervalMs}`);
  if (options.workers > MAX_WORKERS) throw new UsageError(`--workers must be <= ${MAX_WORKERS}, got ${options.workers}`);
  return { args, options };
}

/** Starts a hub from CLI options. */
export async function startHubFromCli(options: HubCliOptions): Promise<RunningHub> {
  const postgres = options.pgUrl !== undefined ? { url: options.pgUrl, schema: options.pgSchema } : undefined;
  return startHub({ ...options, postgres, logger: { level: options.logLevel } });
}

/** Closes the hub on SIGINT / SIGTERM (a second signal exits at once). */
export function closeOnSignal(hub: RunningHub): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const stop = (signal: NodeJS.Signals) => {
      if (closing) process.exit(130);
      closing = true;
      process.stderr.write(`\nfleetscale hub: ${signal}, closing\n`);
      void hub.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export async function hubCommand(argv: string[]): Promise<void> {
  const { options } = parseHubOptions(argv, [], [], 'info');
  const hub = await startHubFromCli(options);
  const workers = hub.workers() ? `, ${hub.workers()} worker processes` : '';
  process.stdout.write(`fleetscale hub listening on ${hub.url} (store: ${hub.store.kind}${options.pgUrl ? '' : `, data: ${options.dataDir}`}${workers})\n`);
  process.stdout.write(`  dashboard ${hub.url}/   metrics ${hub.url}/metrics   admin token: fleetscale token admin --data ${options.dataDir}\n`);
  await closeOnSignal(hub);
}
