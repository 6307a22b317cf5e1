import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '../../dist/src/cli/main.js');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('fleetscale route', () => {
  it("prints the plan for the tool's example: 8.4 s where its rules take 10 s", () => {
    const out = run(['route', '--nodes', 'gpu=100ms,cpu1=1s,cpu2=1s', '--batch-sizes', '10,100']);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain('| 100 | parallel | gpu 84, cpu1 8, cpu2 8 | 8400 ms | 10.0 s (gpu) | 33.0 s |\n');
    expect(out.stdout).toContain('| 10 | sequential | gpu 10 | 1000 ms |');
    expect(out.stdout).not.toContain('flockRules');
  });

  it('lab router compare adds what the rule table decides, simulated on the same nodes', () => {
    const out = run(['lab', 'router', 'compare', '--nodes', 'gpu=100ms,cpu1=1s,cpu2=1s', '--batch-sizes', '10,100']);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain('| 100 | parallel | gpu 84, cpu1 8, cpu2 8 | 8400 ms | 10.0 s (gpu) | 33.0 s | dominant_node | 10.0 s |');
    const json = run(['lab', 'router', 'compare', '--nodes', 'gpu=100ms,cpu1=1s', '--batch-sizes', '10', '--json']);
    expect(json.status, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { flock: { reason: string } }[])[0]!.flock.reason).toMatch(/\w/);
  });

  it('reads a JSON file of nodes and prints JSON', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fleetscale-route-')), 'nodes.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'a', perItemMs: 10, overheadMs: 50 },
        { id: 'b', perItemMs: 20 },
      ]),
    );
    const out = run(['route', '--nodes', file, '--batch-sizes', '30', '--json']);
    expect(out.status, out.stderr).toBe(0);
    const [plan] = JSON.parse(out.stdout) as { items: number; predictedMs: number; nodes: { id: string; items: number }[] }[];
    expect(plan!.items).toBe(30);
    expect(plan!.nodes.reduce((s, n) => s + n.items, 0)).toBe(30);
    expect(plan!.predictedMs).toBe(240); // a: 50 + 19 × 10, b: 11 × 20
  });

  it.each([
    [['route'], /--nodes is required/],
    [['route', '--nodes', 'gpu'], /entries look like gpu=100ms\+20ms/],
    [['route', '--nodes', 'gpu=fast'], /must be a duration/],
    [['route', '--nodes', 'a=1ms,a=2ms'], /appears twice/],
    [['route', '--nodes', 'a=1ms', '--batch-sizes', '0'], /integers >= 1/],
    [['route', '--nodes', 'a=1ms', '--mode', 'fastest'], /--mode must be/],
    [['route', '--nodes', '/nonexistent/nodes.json'], /nonexistent\/nodes.json: no such file/],
    [['route', '--nodes', 'a=0ms'], /perItemMs must be a number/],
  ])('%j is refused with a usage message', (args, message) => {
    const out = run(args);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(message);
  });
});
