/**
 * `fleetscale demo` (what `npm start` runs): the hub on the embedded store, a 2000-node fleet
 * reporting one round to it over HTTP from a process of its own (so the figures are the hub's,
 * not a hub sharing its event loop with 2000 clients), the summary, and the hub and dashboard
 * left running.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { FleetscaleError } from '../errors.js';
import type { FleetReport } from '../hub/fleet-simulator.js';
import { fleetSettings, failOnErrors, printFleetReport } from './fleet.js';
import { closeOnSignal, parseHubOptions, startHubFromCli } from './hub.js';

export const demoUsage = `fleetscale demo [--nodes 2000] [--obs-per-node 5] [--rounds 1] [--port 8080] [--data ./fleetscale-data] [--once]
  Starts the hub on the embedded store, runs a simulated fleet through a round over HTTP from
  a separate process, prints ingest time, latency and the fusion summary, and keeps the hub and
  its dashboard up (--once: exit after the fleet's rounds).
  example: fleetscale demo --nodes 500 --once`;

/** The fleet's options as `fleetscale fleet` takes them. */
const FLEET_OPTIONS = ['nodes', 'obs-per-node', 'rounds', 'batch-size', 'concurrency', 'batch-interval-ms', 'seed'];

/** Runs `fleetscale fleet --json` in a child process against `hub` and returns its report. */
function fleetInChild(hub: string, secret: string, argv: string[]): Promise<FleetReport> {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const child = spawn(process.execPath, [main, 'fleet', '--hub', hub, '--json', ...argv], {
    env: { ...process.env, FLEETSCALE_SECRET: secret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1);
      try {
        resolve(JSON.parse(line ?? '') as FleetReport);
      } catch {
        reject(new FleetscaleError('ERR_INTERNAL', `the fleet process exited with code ${code} and no report`));
      }
    });
  });
}

export async function demoCommand(argv: string[]): Promise<void> {
  const { args, options } = parseHubOptions(argv, ['once'], FLEET_OPTIONS);
  const settings = fleetSettings(args);
  const hub = await startHubFromCli(options);
  const log = (s: string) => void process.stdout.write(`${s}\n`);
  log(`fleetscale hub on ${hub.url} (store: ${hub.store.kind}, data: ${options.dataDir})`);
  log(`fleet: ${settings.nodes} nodes × ${settings.obsPerNode} observations, ${settings.rounds} round(s), all nodes at once, from a separate process`);
  const fleetArgv = FLEET_OPTIONS.flatMap((name) => (args.options.has(name) ? [`--${name}`, String(args.options.get(name))] : []));
  try {
    const report = await fleetInChild(hub.url, hub.secret, fleetArgv);
    printFleetReport(report);
    failOnErrors(report);
  } catch (e) {
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
