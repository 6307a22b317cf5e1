import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runFleet, startHub } from 'fleetscale/hub';

// The hub on the embedded store (a write-ahead log in the data directory), on a free port.
const dataDir = mkdtempSync(join(tmpdir(), 'fleetscale-example-'));
const hub = await startHub({ dataDir, port: 0, roundDeadlineMs: 30_000 });
// Scaled out instead: startHub({ postgres: { url }, port: 8080 }) on several machines, one secret.

// 200 simulated nodes report one round to it over HTTP.
const report = await runFleet({ hub: hub.url, secret: hub.secret, nodes: 200, obsPerNode: 5 });
const [round] = report.rounds;
console.log(`${round!.observations} observations acknowledged in ${round!.ingestMs.toFixed(0)} ms, ${round!.errors} errors, ${round!.events} fused events`);

await hub.close();
rmSync(dataDir, { recursive: true, force: true });
