/**
 * A listening hub: a fastify instance around the hub plugin, on the embedded store in a data
 * directory (or on PostgreSQL), with the secret loaded or generated there.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';

import { hubApp, type HubAppOptions } from './app.js';
import { dashboardHtml } from './dashboard.js';
import { EmbeddedStore } from './store/embedded.js';
import type { RoundStore } from './store/types.js';
import { loadSecret } from './tokens.js';

export type HubServerOptions = Omit<HubAppOptions, 'store' | 'secret'> & {
  /** Data directory: the embedded store and the generated secret (default ./fleetscale-data). */
  dataDir?: string;
  /** A store to use instead of the embedded one (e.g. a PostgreSQL store). */
  store?: RoundStore;
  /** Overrides `FLEETSCALE_SECRET` and the data directory's secret. */
  secret?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** fastify's logger option (default: warnings and errors only). */
  logger?: boolean | { level: string };
  /** Serve the dashboard at `/` (default true). */
  dashboard?: boolean;
};

export type RunningHub = {
  app: FastifyInstance;
  /** `http://host:port` */
  url: string;
  secret: string;
  store: RoundStore;
  close: () => Promise<void>;
};

/** Levels at which fastify writes no per-request lines, so a request needs no logger of its own. */
const QUIET_LEVELS = new Set(['warn', 'error', 'fatal', 'silent']);

/** The fastify options the hub runs with: keep-alive for fleets, no coercion surprises. */
export function hubFastify(logger: HubServerOptions['logger'] = { level: 'warn' }): FastifyInstance {
  const quiet = logger === false || (typeof logger === 'object' && QUIET_LEVELS.has(logger.level));
  return Fastify({
    logger,
    // A pino child per request (to bind its id) costs a fifth of a bare route's time; when only
    // warnings and errors are written, requests share the hub's logger and the one error
    // handler names the request id itself.
    ...(quiet ? { childLoggerFactory: (parent: FastifyBaseLogger) => parent } : {}),
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

/** Opens the store, builds the app and listens. */
export async function startHub(options: HubServerOptions = {}): Promise<RunningHub> {
  const dataDir = options.dataDir ?? './fleetscale-data';
  const secret = options.secret ?? loadSecret(dataDir);
  const app = hubFastify(options.logger);
  const store = options.store ?? (await EmbeddedStore.open(dataDir, { onTruncate: (segment, at, dropped) => app.log.warn(`wal: cut a torn tail of ${dropped} bytes off ${segment} at byte ${at}`) }));
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
    close: async () => {
      await app.close();
      await store.shutdown();
    },
  };
}
