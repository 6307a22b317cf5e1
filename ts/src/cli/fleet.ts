/** `fleetscale fleet`: a simulated fleet reporting to a hub over HTTP. */
import { runFleet, type FleetReport } from '../hub/fleet-simulator.js';
import { loadSecret } from '../hub/tokens.js';
import { numberOption, parseArgs, urlOption, type ParsedArgs } from './args.js';
import { ProgressBar } from './progress.js';

export const fleetUsage = `fleetscale fleet --hub <url> [--nodes 2000] [--obs-per-node 5] [--rounds 1] [--batch-size K]
                [--concurrency N] [--batch-interval-ms 0] [--seed 42] [--data DIR | --secret S] [--json]
  Runs that many generated nodes through the round protocol over real HTTP (keep-alive, up to
  N requests in flight; default all nodes) and prints ingest time, latency, retries, errors and
  each round's fusion summary. Tokens come from the hub secret (FLEETSCALE_SECRET, --secret, or
  the hub's data directory).`;

export const fleetValued = ['hub', 'nodes', 'obs-per-node', 'rounds', 'batch-size', 'concurrency', 'batch-interval-ms', 'seed', 'data', 'secret'] as const;

/** Fleet options shared by `fleet` and `demo`. */
export function fleetSettings(args: ParsedArgs) {
  return {
    nodes: numberOption(args, 'nodes', 2000, { integer: true, min: 1 }),
    obsPerNode: numberOption(args, 'obs-per-node', 5, { integer: true, min: 1 }),
    rounds: numberOption(args, 'rounds', 1, { integer: true, min: 1 }),
    batchSize: args.options.has('batch-size') ? numberOption(args, 'batch-size', 1, { integer: true, min: 1 }) : undefined,
    concurrency: args.options.has('concurrency') ? numberOption(args, 'concurrency', 1, { integer: true, min: 1 }) : undefined,
    batchIntervalMs: numberOption(args, 'batch-interval-ms', 0, { min: 0 }),
    seed: numberOption(args, 'seed', 42, { integer: true, min: 0 }),
  };
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

/** Prints a fleet report for people. */
export function printFleetReport(report: FleetReport, out: NodeJS.WritableStream = process.stdout): void {
  const log = (s: string) => void out.write(`${s}\n`);
  for (const r of report.rounds) {
    log(`round ${r.round}: ${r.nodes} nodes, ${r.observations} observations in ${r.batches} batches`);
    log(`  announce       ${ms(r.announceMs)}`);
    log(`  ingest         ${ms(r.ingestMs)} until all acknowledged (${Math.round(r.batchesPerS)} batches/s)`);
    log(`  latency        p50 ${ms(r.latencyMs.p50)}, p90 ${ms(r.latencyMs.p90)}, p99 ${ms(r.latencyMs.p99)}, max ${ms(r.latencyMs.max)}`);
    log(
      `  retries        ${r.retries}, errors ${r.errors}${
        r.errors
          ? ` (${Object.entries(r.errorCodes)
              .map(([c, n]) => `${c}×${n}`)
              .join(', ')})`
          : ''
      }`,
    );
    log(
      `  fusion         ${r.events} events (${r.multiNodeEvents} seen by several nodes); hub fusion ${r.hubFusionMs === null ? '–' : ms(r.hubFusionMs)}, close → result ${ms(r.closeToResultMs)}`,
    );
  }
}

export async function fleetCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['json'], [...fleetValued]);
  const hub = urlOption(args, 'hub', 'http://127.0.0.1:8080');
  const settings = fleetSettings(args);
  const secret = args.options.has('secret')
    ? String(args.options.get('secret'))
    : loadSecret(String(args.options.get('data') ?? './fleetscale-data'), process.env, { create: false });
  const bar = new ProgressBar('fleet', 1);
  const report = await runFleet({
    hub,
    secret,
    ...settings,
    onProgress: (done, total) => bar.update(done, total),
  }).finally(() => bar.done());
  if (args.options.has('json')) process.stdout.write(`${JSON.stringify(report)}\n`);
  else printFleetReport(report);
  failOnErrors(report);
}

/** A run in which any request failed exits non-zero, with one line that counts them. */
export function failOnErrors(report: FleetReport): void {
  const failed = report.rounds.reduce((n, r) => n + r.errors, 0);
  if (failed === 0) return;
  const codes: Record<string, number> = {};
  for (const r of report.rounds) for (const [code, n] of Object.entries(r.errorCodes)) codes[code] = (codes[code] ?? 0) + n;
  process.stderr.write(
    `fleetscale fleet: ${failed} requests failed (${Object.entries(codes)
      .map(([c, n]) => `${c} ×${n}`)
      .join(', ')})\n`,
  );
  process.exitCode = 1;
}
