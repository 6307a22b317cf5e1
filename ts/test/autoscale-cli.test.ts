import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { createAutoscaler } from '../src/autoscale/autoscaler.js';
import { simulateAutoscaler } from '../src/lab/autoscale/simulate.js';
import { makeTrace, traceOf } from '../src/lab/autoscale/traces.js';

const cli = join(import.meta.dirname, '../../dist/src/cli/main.js');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const dir = () => mkdtempSync(join(tmpdir(), 'fleetscale-autoscale-'));

describe('fleetscale lab autoscale replay', () => {
  it('replays a shape through every preset and prints the figures the simulator gives', () => {
    const out = run(['lab', 'autoscale', 'replay', 'bursty', '--seconds', '3600', '--seed', '2', '--replicas', '3']);
    expect(out.status, out.stderr).toBe(0);
    const expected = simulateAutoscaler(
      createAutoscaler({ preset: 'predictive', min: 1, max: 60, targets: { cpu: 0.7, lag: 50, p99Ms: 2000 } }),
      makeTrace('bursty', { seconds: 3600, seed: 2 }),
      { perReplicaRate: 50, initialReplicas: 3 },
    );
    const line = out.stdout.split('\n').find((l) => l.startsWith('predictive '))!;
    expect(line.split(/\s{2,}/).slice(0, 4)).toEqual([
      'predictive',
      `${(expected.replicaSeconds / 3600).toFixed(1)} h`,
      String(expected.sloViolationSeconds),
      String(expected.reversals),
    ]);
    for (const preset of ['hpa', 'pipestream']) expect(out.stdout).toMatch(new RegExp(`^${preset} `, 'm'));
    expect(out.stdout).toContain('replicas over time');
    expect(out.stdout).toMatch(/predictive: \d+ changes/);
  });

  it('writes a plot and JSON, and runs a file of rates', () => {
    const d = dir();
    const rates = join(d, 'rates.txt');
    writeFileSync(rates, `# items per second\n${Array.from({ length: 600 }, (_, t) => (t < 300 ? 20 : 200)).join('\n')}\n`);
    const svg = join(d, 'replay.svg');
    const out = run(['lab', 'autoscale', 'replay', rates, '--preset', 'hpa,predictive', '--json', '--svg', svg]);
    expect(out.status, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout) as { seconds: number; runs: Array<{ preset: string; result: { replicaSeconds: number; decisions: unknown[] } }> };
    expect(report.seconds).toBe(600);
    expect(report.runs.map((r) => r.preset)).toEqual(['hpa', 'predictive']);
    const trace = traceOf(
      rates,
      Array.from({ length: 600 }, (_, t) => (t < 300 ? 20 : 200)),
    );
    const hpa = simulateAutoscaler(createAutoscaler({ preset: 'hpa', min: 1, max: 60, targets: { cpu: 0.7, lag: 50, p99Ms: 2000 } }), trace, {
      perReplicaRate: 50,
      initialReplicas: 4,
    });
    expect(report.runs[0].result.replicaSeconds).toBe(hpa.replicaSeconds);
    const plot = readFileSync(svg, 'utf8');
    expect(plot).toMatch(/^<svg/);
    expect(plot.match(/font-weight="bold">(hpa|predictive)</g)).toHaveLength(2);
  });

  it('prints what each preset would decide on recorded samples', () => {
    const file = join(dir(), 'samples.jsonl');
    writeFileSync(
      file,
      [
        { now: 0, replicas: 4, metrics: { cpu: 0.9, lag: 3000 } },
        { now: 15000, replicas: 4, metrics: { cpu: 0.5, lag: 100 } },
      ]
        .map((s) => JSON.stringify(s))
        .join('\n'),
    );
    const out = run(['lab', 'autoscale', 'replay', file, '--preset', 'hpa']);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain('hpa: 2 samples, 1 would change the replicas');
    expect(out.stdout).toContain('now 0    4 → 8    lag 3000 for target 50 per replica → 60; scale-up rate limit: at most 8 now');
  });

  it.each([
    [['lab', 'autoscale'], 2, /needs a subcommand: replay/],
    [['lab', 'autoscale', 'play', 'flat'], 2, /unknown subcommand "play"/],
    [['lab', 'autoscale', 'replay'], 2, /replay takes one <trace>/],
    [['lab', 'autoscale', 'replay', 'sawtooth'], 2, /neither a shape .* nor a readable file/],
    [['lab', 'autoscale', 'replay', 'flat', '--preset', 'keda'], 2, /--preset items must be hpa, pipestream, predictive/],
    [['lab', 'autoscale', 'replay', 'flat', '--pool', 'tpu', '--preset', 'pipestream'], 2, /--pool must be one of engine, cpu, gpu/],
    [['lab', 'autoscale', 'replay', 'flat', '--rate', '0'], 2, /--rate must be a number/],
    [['lab', 'autoscale', 'replay', 'flat', '--max', '0'], 2, /--max must be an integer >= 1/],
    [['lab', 'autoscale', 'replay', 'flat', '--min', '5', '--max', '2'], 1, /ERR_AUTOSCALE_CONFIG: options\.max \(2\) must be at least options\.min \(5\)/],
  ])('%j is refused', (args, status, message) => {
    const out = run(args);
    expect(out.status).toBe(status);
    expect(out.stderr).toMatch(message);
  });

  it('refuses a bad rate or sample file with its code', () => {
    const d = dir();
    writeFileSync(join(d, 'bad.txt'), '10\n-5\n');
    const rates = run(['lab', 'autoscale', 'replay', join(d, 'bad.txt')]);
    expect(rates.status).toBe(1);
    expect(rates.stderr).toMatch(/ERR_AUTOSCALE_CONFIG: trace .*bad.txt: rate at second 1 must be a number/);
    writeFileSync(join(d, 'bad.jsonl'), '{"now": 0, "replicas": 1, "metrics": {}}\nnot json\n');
    const samples = run(['lab', 'autoscale', 'replay', join(d, 'bad.jsonl')]);
    expect(samples.status).toBe(1);
    expect(samples.stderr).toMatch(/ERR_AUTOSCALE_INPUT: .*bad.jsonl line 2 is not JSON/);
    writeFileSync(join(d, 'back.jsonl'), '{"now": 10, "replicas": 1, "metrics": {}}\n{"now": 5, "replicas": 1, "metrics": {}}\n');
    const back = run(['lab', 'autoscale', 'replay', join(d, 'back.jsonl'), '--preset', 'hpa']);
    expect(back.status).toBe(1);
    expect(back.stderr).toMatch(/ERR_AUTOSCALE_INPUT: now went backwards/);
  });
});
