/**
 * Acknowledged means durable: the hub process is killed with SIGKILL in the middle of a load
 * run, restarted on the same data directory, and every observation it acknowledged must be in
 * the round's result exactly once; alone, and with HTTP worker processes in front of it.
 */
import { afterEach, describe, expect, it } from 'vitest';

import type { SensorRecord } from '../src/index.js';
import { HubClient, killHubProcesses, recordsOf, startHubProcess, tempDir } from './hub-helpers.js';

afterEach(() => killHubProcesses());

/** The hub alone, and the hub behind 2 HTTP worker processes (killing the store's owner ends them). */
describe.each([
  { hub: 'one process', extra: [] },
  { hub: '2 worker processes', extra: ['--workers', '2'] },
])('kill -9 of the hub ($hub) during a load run', ({ extra }) => {
  it('loses no acknowledged observation and duplicates none', async () => {
    const dataDir = tempDir();
    const first = await startHubProcess(['--data', dataDir, ...extra]);
    let c = new HubClient(first.url);
    const nodes = Array.from({ length: 150 }, (_, i) => `node-${i}`);
    for (const node of nodes) expect((await c.announce('k', node)).status).toBe(200);

    const acked = new Map<string, SensorRecord[]>(); // `${node}:${seq}` → records
    const unacked = new Map<string, { node: string; seq: number; records: SensorRecord[] }>();
    let killed = false;
    const exited = new Promise((resolve) => first.child.once('exit', resolve));
    // Every node posts batches back to back until the hub dies.
    const load = nodes.map(async (node) => {
      for (let seq = 1; seq <= 400 && !killed; seq++) {
        const records = recordsOf(node, 3, seq * 3);
        const key = `${node}:${seq}`;
        unacked.set(key, { node, seq, records });
        try {
          const reply = await c.report('k', node, seq, records);
          if (reply.status === 202) {
            acked.set(key, records);
            unacked.delete(key);
          } else throw new Error(`unexpected ${reply.status}`);
        } catch {
          return; // the hub is gone: this batch's fate is unknown
        }
      }
    });
    while (acked.size < 1500) await new Promise((r) => setTimeout(r, 5));
    first.child.kill('SIGKILL');
    killed = true;
    await Promise.all(load);
    await exited;
    expect(acked.size).toBeGreaterThanOrEqual(1500);

    const second = await startHubProcess(['--data', dataDir, ...extra]);
    c = new HubClient(second.url);
    const recovered = await c.summary('k');
    expect(recovered.body.state).toBe('open');
    expect(recovered.body.observations).toBeGreaterThanOrEqual(acked.size * 3);
    // Nodes retry what they never heard back about: accepted now, or recognised as a retry.
    for (const { node, seq, records } of unacked.values()) {
      const reply = await c.report('k', node, seq, records);
      expect(reply.status).toBe(202);
      acked.set(`${node}:${seq}`, records);
    }
    expect((await c.close('k')).status).toBe(200);
    const result = await c.result('k', 30_000);
    expect(result.status).toBe(200);
    const members: string[] = result.body.events.flatMap((e: { members: string[] }) => e.members);
    const expected = [...acked.values()].flat().map((r) => r.id);
    expect(new Set(members).size).toBe(members.length); // nothing twice
    expect(members.sort()).toEqual(expected.sort()); // everything acknowledged, nothing else
  });
});
