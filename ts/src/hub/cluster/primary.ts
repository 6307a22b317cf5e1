/**
 * The hub over several processes: N HTTP worker processes share the listening port (node's
 * cluster hands each new connection to a worker), and this process owns the store and the
 * one round engine. Every protocol call goes to it (batches over a report link of their own,
 * `report-link.ts`; the rest over cluster IPC), so the log (or the PostgreSQL group commit),
 * the protocol's rules and each round's fusion stay in one place, while parsing, validation,
 * tokens and replies spread over the cores. A worker that dies is replaced;
 * `/metrics` on any worker answers for the whole hub. (Hubs on several hosts share rounds
 * through PostgreSQL, each of them with workers or not.)
 */
import cluster, { type Worker } from 'node:cluster';
import type { Duplex } from 'node:stream';

import { AggregatorRegistry } from 'prom-client';

import { builtEntry } from '../../built-entry.js';
import type { FusionConfig } from '../../fusion/types.js';
import { HubError } from '../errors.js';
import { HubMetrics } from '../metrics.js';
import { RoundEngine } from '../rounds.js';
import { TokenChecker } from '../tokens.js';
import type { RoundStore } from '../store/types.js';
import { REPORT_LINK_FD, serveReports } from './report-link.js';
import { roundHandlers } from './round-client.js';
import { isRpcPacket, RpcPeer, type RpcHandlers } from './rpc.js';

/** What a worker is told when it starts: everything it needs but the store. */
export type WorkerConfig = {
  host: string;
  port: number;
  secret: string;
  logger: boolean | { level: string };
  dashboard: boolean;
  storeKind: string;
  bodyLimit?: number;
  fuseBodyLimit?: number;
  pressure?: { maxEventLoopDelayMs?: number; maxHeapUsedBytes?: number; retryAfterS?: number; sampleIntervalMs?: number };
  /** The rounds' fusion config; workers use it for the stateless `/v1/fuse`. */
  fusion?: FusionConfig;
};

export type ClusterOptions = {
  workers: number;
  store: RoundStore;
  /** Also the rounds' fusion config (`config.fusion`). */
  config: WorkerConfig;
  roundDeadlineMs?: number;
  sweepMs?: number;
  warn: (message: string) => void;
  /** Told informational lines (one per fused round). */
  info?: (message: string) => void;
};

export type HubCluster = {
  url: string;
  /** Worker processes running now. */
  workers: () => number;
  close: () => Promise<void>;
};

/** The worker entry, beside this file in the build. */
function workerEntry(): string {
  const path = builtEntry(import.meta.url, 'worker-main.js');
  if (!path) throw new HubError('ERR_INTERNAL', 'hub workers need the built package: dist/src/hub/cluster/worker-main.js is missing (npm run build)');
  return path;
}

const STOP_TIMEOUT_MS = 10_000;

/** Waits for `work`, or for the stop timeout, whichever comes first. */
async function withinStopTimeout(work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)))]);
  clearTimeout(timer);
}
const RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;

/** Starts the workers around `options.store`; resolves once every worker listens. */
export async function startHubCluster(options: ClusterOptions): Promise<HubCluster> {
  const metrics = new HubMetrics({ openRounds: () => options.store.openRounds() });
  const engine = new RoundEngine({
    store: options.store,
    metrics,
    deadlineMs: options.roundDeadlineMs,
    fusion: options.config.fusion,
    sweepMs: options.sweepMs,
    onError: (error, context) => options.warn(`${context}: ${error.message}`),
    onRound: options.info,
  });
  await engine.start();

  const peers = new Map<Worker, RpcPeer>();
  let closing = false;
  let restartDelay = RESTART_DELAY_MS;

  const scrape = async (): Promise<string> => {
    const parts = await Promise.all([...peers.values()].map((peer) => peer.call<object[]>('metricsJson').catch(() => undefined)));
    const all = [await metrics.registry.getMetricsAsJSON(), ...parts.filter((p) => p !== undefined)];
    return AggregatorRegistry.aggregate(all).metrics();
  };
  // Which node a token belongs to, learnt from announces: a worker that never saw a node's
  // token still answers 403, not 401, when that node posts as another.
  const tokens = new TokenChecker(options.config.secret);
  const rounds = roundHandlers(engine);
  const handlers: RpcHandlers = {
    ...rounds,
    announce: (round: string, node: string) => {
      tokens.learn(node);
      return rounds.announce(round, node);
    },
    tokenOwner: (token: string) => tokens.ownerOf(token),
    metrics: scrape,
  };

  const spawn = (): Promise<string> => {
    // stdio: the parent's output, cluster's IPC channel, and a socket pair for the report link.
    cluster.setupPrimary({ exec: workerEntry(), serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'] });
    const worker = cluster.fork();
    const reportLink = worker.process.stdio[REPORT_LINK_FD] as Duplex;
    serveReports(
      reportLink,
      (round, batch) => engine.accept(round, batch),
      (e) => {
        if (!closing) options.warn(`the report link of worker ${worker.process.pid} broke: ${e.message}`);
      },
    );
    // A worker asks for its config once it listens to the channel (a message sent before then
    // would be lost), and says where it listens or why it could not.
    let listening!: (url: string) => void;
    let failed!: (error: Error) => void;
    const started = new Promise<string>((resolve, reject) => {
      listening = resolve;
      failed = reject;
    });
    const startup: RpcHandlers = {
      config: () => options.config,
      listening: (url: string) => listening(url),
      failed: (message: string) => failed(new HubError('ERR_INTERNAL', `a hub worker could not start: ${message}`)),
    };
    const peer = new RpcPeer(
      {
        send: (packet) => {
          if (worker.isConnected()) worker.send(packet);
        },
        onPacket: (listener) => worker.on('message', (message) => isRpcPacket(message) && listener(message)),
      },
      { ...handlers, ...startup },
    );
    peers.set(worker, peer);
    const exited = new Promise<never>((_, reject) => {
      worker.once('exit', (code, signal) => {
        reportLink.destroy();
        peers.delete(worker);
        peer.fail(new HubError('ERR_INTERNAL', `hub worker ${worker.process.pid} exited`));
        reject(new HubError('ERR_INTERNAL', `hub worker ${worker.process.pid} exited (${signal ?? code}) before it listened`));
        if (closing) return;
        options.warn(`worker ${worker.process.pid} exited (${signal ?? code}); starting another in ${restartDelay} ms`);
        const delay = restartDelay;
        restartDelay = Math.min(MAX_RESTART_DELAY_MS, restartDelay * 2);
        setTimeout(() => {
          if (closing) return;
          spawn().then(
            () => (restartDelay = RESTART_DELAY_MS),
            (e: Error) => options.warn(`a replacement worker failed to start: ${e.message}`),
          );
        }, delay).unref();
      });
    });
    exited.catch(() => {});
    return Promise.race([started, exited]);
  };

  /** Closes a worker's server (requests in flight are answered), lets it exit, kills it if it hangs. */
  const stopWorker = async (worker: Worker, peer: RpcPeer) => {
    const exited = new Promise<void>((resolve) => (worker.isDead() ? resolve() : worker.once('exit', () => resolve())));
    await withinStopTimeout(
      peer.call('stop').then(
        () => worker.isConnected() && worker.disconnect(),
        () => {},
      ),
    );
    await withinStopTimeout(exited);
    if (!worker.isDead()) worker.process.kill('SIGKILL');
    await exited;
  };

  const close = async () => {
    closing = true;
    await Promise.all([...peers].map(([worker, peer]) => stopWorker(worker, peer)));
    await engine.stop();
    await options.store.shutdown();
  };

  let urls: string[];
  try {
    urls = await Promise.all(Array.from({ length: options.workers }, spawn));
  } catch (e) {
    await close();
    throw e;
  }
  return { url: urls[0], workers: () => peers.size, close };
}
