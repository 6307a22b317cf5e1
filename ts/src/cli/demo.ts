/**
 * `fleetscale demo` (what `npm start` runs): the hub on the embedded store, a 2000-node fleet
 * reporting one round to it over HTTP, the summary, and the hub and dashboard left running.
 */
import { runFleet } from '../fleet/simulator.js';
import { fleetSettings, printFleetReport } from './fleet.js';
import { closeOnSignal, parseHubOptions, startHubFromCli } from './hub.js';
import { ProgressBar } from './progress.js';

export const demoUsage = `fleetscale demo [--nodes 2000] [--obs-per-node 5] [--rounds 1] [--port 8080] [--data ./fleetscale-data] [--once]
  Starts the hub on the embedded store, runs a simulated fleet through a round over HTTP,
  prints ingest time, latency and the fusion summary, and keeps the hub and its dashboard up
  (--once: exit after the fleet's rounds).`;

export async function demoCommand(argv: string[]): Promise<void> {
  const fleetOnly = ['nodes', 'obs-per-node', 'rounds', 'batch-size', 'concurrency', 'batch-interval-ms', 'seed'];
  const { args, options } = parseHubOptions(argv, ['once'], fleetOnly);
  const settings = fleetSettings(args);
  const hub = await startHubFromCli(options);
  const log = (s: string) => void process.stdout.write(`${s}\n`);
  log(`fleetscale hub on ${hub.url} (store: ${hub.store.kind}, data: ${options.dataDir})`);
  log(`fleet: ${settings.nodes} nodes × ${settings.obsPerNode} observations, ${settings.rounds} round(s), all nodes at once`);
  const bar = new ProgressBar('fleet', 1);
  try {
    const report = await runFleet({ hub: hub.url, secret: hub.secret, ...settings, onProgress: (done, total) => bar.update(done, total) });
    bar.done();
    printFleetReport(report);
    if (report.rounds.some((r) => r.errors > 0)) process.exitCode = 1;
  } catch (e) {
    bar.done();
    await hub.close();
    throw e;
  }
  if (args.options.has('once')) {
    await hub.close();
    return;
  }
  log('');
  log(`dashboard: ${hub.url}/  (Ctrl-C stops the hub)`);
  await closeOnSignal(hub);
}
