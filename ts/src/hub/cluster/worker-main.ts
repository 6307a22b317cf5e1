/**
 * A hub worker process (forked by `startHubCluster`): the hub's HTTP app on the shared port,
 * its rounds the primary's (`RoundClient`). It asks the primary for its config, starts, and exits with the primary (node's
 * cluster ends a worker whose IPC channel closes).
 */
import cluster from 'node:cluster';
import { Socket } from 'node:net';

import type { FastifyInstance } from 'fastify';

import { hubApp } from '../app.js';
import { dashboardHtml } from '../dashboard.js';
import { hubFastify } from '../server.js';
import type { WorkerConfig } from './primary.js';
import { REPORT_LINK_FD, REPORT_WRITE_GAP_MS, ReportSender } from './report-link.js';
import { RoundClient } from './round-client.js';
import { isRpcPacket, RpcPeer } from './rpc.js';

if (!cluster.isWorker || !process.send) throw new Error('worker-main.js is started by the hub (fleetscale hub --workers N), not directly');

let app: FastifyInstance | undefined;

async function start(config: WorkerConfig): Promise<string> {
  app = hubFastify(config.logger);
  await app.register(hubApp, {
    ...config,
    rounds: new RoundClient(primary, reports, config.storeKind),
    scrape: () => primary.call<string>('metrics'),
    tokenOwner: (token) => primary.call<string | undefined>('tokenOwner', [token]),
    dashboardHtml: config.dashboard ? dashboardHtml() : undefined,
  });
  return app.listen({ host: config.host, port: config.port, backlog: 4096 });
}

// The worker lives as long as its IPC channel (cluster ends it with the channel), so the report
// link alone does not hold it up.
const reportLink = new Socket({ fd: REPORT_LINK_FD, readable: true, writable: true });
reportLink.unref();
const reports = new ReportSender(reportLink, REPORT_WRITE_GAP_MS);

const primary: RpcPeer = new RpcPeer(
  {
    send: (packet) => void process.send!(packet),
    onPacket: (listener) => process.on('message', (message) => isRpcPacket(message) && listener(message)),
  },
  {
    metricsJson: () => app!.hubMetrics.registry.getMetricsAsJSON(),
    stop: async () => {
      await app?.close();
    },
  },
);

primary
  .call<WorkerConfig>('config')
  .then(start)
  .then(
    (url) => primary.call('listening', [url]),
    async (e: Error) => {
      await primary.call('failed', [e.message]).catch(() => {});
      process.exit(1);
    },
  );
