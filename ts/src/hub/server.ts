/**
 * A listening hub: a fastify instance around the hub plugin, on the embedded store in a data
 * directory (or on PostgreSQL), with the secret loaded or generated there; or, with
 * `workers`, that many HTTP worker processes on one port in front of this process's store.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';

import { Type } from 'typebox';

import { schemaCheck } from '../schema-check.js';
import { hubApp, type HubAppOptions } from './app.js';
import { startHubCluster } from './cluster/primary.js';
import { dashboardHtml } from './dashboard.js';
import { HubError } from './errors.js';
import { EmbeddedStore } from './store/embedded.js';
import type { RoundStore } from './store/types.js';
import { loadSecret } from './tokens.js';

export type HubServerOptions = Omit<HubAppOptions, 'store' | 'secret' | 'rounds' | 'scrape' | 'tokenOwner'> & {
  /** Data directory: the embedded store and the generated secret (default ./fleetscale-data). */
  dataDir?: string;
  /** A store to use instead of the embedded one. */
  store?: RoundStore;
  /** PostgreSQL instead of the embedded store (several hubs may share it). */
  postgres?: { url: string; schema?: string };
  /**
   * The embedded store's least time between two synced log writes, in ms (default 2): the
   * most an acknowledgement waits for its group to fill; 0 syncs back to back.
   */
  syncIntervalMs?: number;
  /**
   * HTTP worker processes on the hub's port, in front of this process's store (default 0:
   * this process serves HTTP itself). Needs the built package; `now` does not apply.
   */
  workers?: number;
  /** Overrides `FLEETSCALE_SECRET` and the data directory's secret. */
  secret?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** fastify's logger option (default: warnings and errors only). */
  logger?: boolean | { level: string; stream?: { write: (line: string) => void } };
  /** Serve the dashboard at `/` (default true). */
  dashboard?: boolean;
};

export type RunningHub = {
  /** The fastify instance; undefined when worker processes serve HTTP. */
  app: FastifyInstance | undefined;
  /** `http://host:port` */
  url: string;
  secret: string;
  store: RoundStore;
  /** HTTP worker processes running (0 when this process serves HTTP itself). */
  workers: () => number;
  close: () => Promise<void>;
};

/**
 * Levels at which fastify writes no per-request lines, so a request needs no logger of its own.
 * At `info` the hub logs a line per round and per period of rejected requests, not per request;
 * `debug` and `trace` add fastify's lines for every request.
 */
const QUIET_LEVELS = new Set(['info', 'warn', 'error', 'fatal', 'silent']);

/** The fastify options the hub runs with: keep-alive for fleets, no coercion surprises. */
export function hubFastify(logger: HubServerOptions['logger'] = { level: 'warn' }): FastifyInstance {
  const quiet = logger === false || (typeof logger === 'object' && QUIET_LEVELS.has(logger.level));
  return Fastify({
    logger,
    // A pino child per request (to bind its id) costs a fifth of a bare route's time; when only
    // warnings and errors are written, requests share the hub's logger and the one error
    // handler names the request id itself.
    ...(quiet ? { childLoggerFactory: (parent: FastifyBaseLogger) => parent, logController: new LogController({ disableRequestLogging: true }) } : {}),
    // Fleets keep connections open between batches; outlive their idle gaps.
    keepAliveTimeout: 75_000,
    requestTimeout: 120_000,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // The one error handler answers malformed JSON, oversized bodies and prototype poisoning.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });
}

async function openStore(options: HubServerOptions, dataDir: string, warn: (message: string) => void): Promise<RoundStore> {
  if (options.store) return options.store;
  if (options.postgres) {
    const { PostgresStore } = await import('./store/postgres.js');
    return PostgresStore.open(options.postgres.url, { schema: options.postgres.schema, onWarning: warn });
  }
  return EmbeddedStore.open(dataDir, {
    minSyncIntervalMs: options.syncIntervalMs,
    onTruncate: (segment, at, dropped) => warn(`wal: cut a torn tail of ${dropped} bytes off ${segment} at byte ${at}`),
  });
}

/** The shapes and ranges of the server's scalar options (stores, loggers and fusion configs are checked where they are used). */
const ServerOptionsSchema = Type.Object({
  dataDir: Type.Optional(Type.String({ minLength: 1 })),
  postgres: Type.Optional(Type.Object({ url: Type.String({ minLength: 1 }), schema: Type.Optional(Type.String()) })),
  syncIntervalMs: Type.Optional(Type.Number({ minimum: 0, maximum: 1000 })),
  workers: Type.Optional(Type.Integer({ minimum: 0, maximum: 256 })),
  secret: Type.Optional(Type.String({ minLength: 1 })),
  host: Type.Optional(Type.String({ minLength: 1 })),
  port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535 })),
  roundDeadlineMs: Type.Optional(Type.Integer({ minimum: 1 })),
  bodyLimit: Type.Optional(Type.Integer({ minimum: 1024 })),
  fuseBodyLimit: Type.Optional(Type.Integer({ minimum: 1024 })),
  rejectedSummaryMs: Type.Optional(Type.Integer({ minimum: 0 })),
  dashboard: Type.Optional(Type.Boolean()),
});
const checkServerOptions = schemaCheck(ServerOptionsSchema, (message) => new HubError('ERR_VALIDATION', message), { root: 'the options', prefix: 'options' });

/** Opens the store, builds the app and listens (or starts the worker processes); a bad option is `ERR_VALIDATION`, before anything opens. */
export async function startHub(options: HubServerOptions = {}): Promise<RunningHub> {
  checkServerOptions(options);
  const dataDir = options.dataDir ?? './fleetscale-data';
  const secret = options.secret ?? loadSecret(dataDir);
  if (options.workers) return startClustered(options, dataDir, secret, options.workers);
  const app = hubFastify(options.logger);
  const store = await openStore(options, dataDir, (message) => app.log.warn(message));
  await app.register(hubApp, {
    ...options,
    store,
    secret,
    dashboardHtml: options.dashboard === false ? undefined : dashboardHtml(),
  });
  let address: string;
  try {
    address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8080, backlog: 4096 });
  } catch (e) {
    await app.close();
    await store.shutdown();
    throw e;
  }
  return {
    app,
    url: address,
    secret,
    store,
    workers: () => 0,
    close: async () => {
      await app.close();
      await store.shutdown();
    },
  };
}

async function startClustered(options: HubServerOptions, dataDir: string, secret: string, workers: number): Promise<RunningHub> {
  const level = options.logger === undefined ? 'warn' : options.logger === false ? 'silent' : options.logger === true ? 'info' : options.logger.level;
  const warn = (message: string) => {
    if (level !== 'silent' && level !== 'error' && level !== 'fatal') process.stderr.write(`fleetscale hub: ${message}\n`);
  };
  const info = (message: string) => {
    if (['info', 'debug', 'trace'].includes(level)) process.stderr.write(`fleetscale hub: ${message}\n`);
  };
  const store = await openStore(options, dataDir, warn);
  const cluster = await startHubCluster({
    workers,
    store,
    roundDeadlineMs: options.roundDeadlineMs,
    sweepMs: options.sweepMs,
    warn,
    info,
    config: {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8080,
      secret,
      logger: options.logger ?? { level: 'warn' },
      dashboard: options.dashboard !== false,
      storeKind: store.kind,
      bodyLimit: options.bodyLimit,
      fuseBodyLimit: options.fuseBodyLimit,
      pressure: options.pressure,
      fusion: options.fusion,
    },
  });
  return { app: undefined, url: cluster.url, secret, store, workers: cluster.workers, close: cluster.close };
}
