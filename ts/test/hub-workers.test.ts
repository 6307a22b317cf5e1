/**
 * The hub behind HTTP worker processes (`fleetscale hub --workers N`): a worker that dies is
 * replaced while the rounds, kept by the primary, go on; many connections spread over the
 * workers and `/metrics` counts them all; a bad `--workers` is a usage error.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { Agent } from 'undici';

import { startHub } from '../src/hub/server.js';
import { HubClient, killHubProcesses, recordsOf, startHubProcess, tempDir } from './hub-helpers.js';

afterEach(() => killHubProcesses());

/** Pids of a process's children (the hub's workers). */
function childPids(pid: number): number[] {
  const out = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((n) => n > 0);
}

async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('fleetscale hub --workers', () => {
  it('replaces a worker that dies; the round it was serving goes on', async () => {
    const { child, url } = await startHubProcess(['--data', tempDir(), '--workers', '2']);
    const c = new HubClient(url);
    await until(() => childPids(child.pid!).length === 2, 'two workers');
    for (const node of ['a', 'b']) expect((await c.announce('w', node)).status).toBe(200);
    expect((await c.report('w', 'a', 1, recordsOf('a', 2))).status).toBe(202);

    const [victim] = childPids(child.pid!);
    process.kill(victim, 'SIGKILL');
    await until(() => {
      const pids = childPids(child.pid!);
      return pids.length === 2 && !pids.includes(victim);
    }, 'a replacement worker');

    // Fresh connections land on the surviving and the new worker alike; the round is intact.
    for (let k = 0; k < 4; k++) {
      const fresh = new Agent({ connections: 1 });
      try {
        expect((await new HubClient(url, undefined, fresh).request('GET', '/healthz')).status).toBe(200);
      } finally {
        await fresh.close();
      }
    }
    expect((await c.report('w', 'a', 1, recordsOf('a', 2))).body).toMatchObject({ duplicate: true });
    expect((await c.report('w', 'a', 2, recordsOf('a', 1, 2), true)).status).toBe(202);
    expect((await c.report('w', 'b', 1, recordsOf('b', 2), true)).status).toBe(202);
    const result = await c.result('w', 10_000);
    expect(result.status).toBe(200);
    expect(result.body.stats.records).toBe(5);
  });

  it('spreads connections over the workers and counts every one in /metrics', async () => {
    const { url } = await startHubProcess(['--data', tempDir(), '--workers', '2']);
    const nodes = Array.from({ length: 24 }, (_, k) => `n${k}`);
    // One connection per node, so the cluster hands them round-robin to both workers.
    const agents = nodes.map(() => new Agent({ connections: 1 }));
    try {
      const clients = agents.map((agent) => new HubClient(url, undefined, agent));
      await Promise.all(nodes.map((node, k) => clients[k].announce('spread', node)));
      const replies = await Promise.all(nodes.map((node, k) => clients[k].report('spread', node, 1, recordsOf(node, 3), true)));
      expect(replies.map((r) => r.status)).toEqual(nodes.map(() => 202));
      const result = await clients[0].result('spread', 10_000);
      expect(result.body.stats.records).toBe(72);
      const metrics = (await clients[0].request('GET', '/metrics')).body as string;
      expect(metrics).toMatch(/^fleetscale_hub_batches_total\{outcome="accepted"\} 24$/m);
      expect(metrics).toMatch(/^fleetscale_hub_ingest_seconds_count 24$/m);
      expect(metrics).toMatch(/^fleetscale_hub_observations_total 72$/m);
      expect(metrics).toMatch(/^fleetscale_hub_open_rounds 0$/m);
    } finally {
      await Promise.all(agents.map((a) => a.close()));
    }
  });

  it('refuses workers that are not a whole number >= 0, or a sync interval that is not a number >= 0, before it opens anything', async () => {
    for (const workers of [-1, 1.5, Number.NaN]) {
      await expect(startHub({ dataDir: tempDir(), secret: 's', port: 0, workers })).rejects.toMatchObject({ code: 'ERR_VALIDATION', message: expect.stringMatching(/workers/) });
    }
    for (const syncIntervalMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(startHub({ dataDir: tempDir(), secret: 's', port: 0, syncIntervalMs })).rejects.toMatchObject({
        code: 'ERR_VALIDATION',
        message: expect.stringMatching(/syncIntervalMs/),
      });
    }
  });

  it('refuses a --workers that is not a whole number from 0 to 256', () => {
    const cli = join(import.meta.dirname, '../../dist/src/cli/main.js');
    for (const bad of ['-1', '1.5', 'many', '257']) {
      const run = spawnSync(process.execPath, [cli, 'hub', '--workers', bad, '--data', tempDir()], { encoding: 'utf8' });
      expect(run.status, bad).toBe(2);
      expect(run.stderr).toMatch(/--workers/);
    }
    expect(execFileSync(process.execPath, [cli, 'hub', '--help'], { encoding: 'utf8' })).toMatch(/--workers/);
  });
});
