/**
 * The switch probe, through the CLI (it pins forked processes with taskset): what a switch
 * between processes on one core costs the one switched in.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import type { SwitchProbeReport } from '../src/lab/claims/switch-probe.js';

const cli = join(import.meta.dirname, '../../dist/src/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'lab', 'claims', 'probe', '--switch', ...args], { encoding: 'utf8', timeout: 120_000 });
const runWithout = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  spawnSync(process.execPath, [cli, 'lab', 'claims', 'probe', '--switch', ...args], { encoding: 'utf8', timeout: 120_000, env });
const hasTaskset = spawnSync('taskset', ['-cp', String(process.pid)]).status === 0;

describe('fleetscale lab claims probe --switch', () => {
  it.runIf(hasTaskset)('times a unit alone and taking turns on one core, and takes the difference as the switch', () => {
    const r = run('--units', '400', '--rounds', '1', '--json');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as SwitchProbeReport;
    expect(report.units).toBe(400);
    expect(report.rounds).toBe(1);
    expect(report.cpus.length).toBeGreaterThanOrEqual(1);
    expect(report.aloneUs).toBeGreaterThan(0);
    expect(report.sharedUs).toBeGreaterThan(0);
    expect(report.switchMs).toBeCloseTo(Math.max(0, report.sharedUs - report.aloneUs) / 1000, 12);
    if (report.cpus.length > 1) expect(report.apartUs).toBeGreaterThan(0);
    const text = run('--units', '400', '--rounds', '1');
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/switch between processes on one core: [\d.]+ µs/);
    expect(text.stdout).toContain('--cpu-switch-ms');
  });

  it('says, with its code, that it cannot pin processes where taskset cannot be run', () => {
    const r = runWithout({ PATH: '/nonexistent' }, '--units', '100', '--rounds', '1');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ERR_CLAIMS_UNAVAILABLE');
    expect(r.stderr).toContain('taskset');
  });

  it('refuses bad options with a usage error before it forks anything', () => {
    for (const args of [
      ['--units', '5'],
      ['--rounds', '0'],
      ['--units', 'many'],
    ]) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/--(units|rounds) must be an integer/);
    }
  });
});
