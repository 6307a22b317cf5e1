/**
 * `fleetscale claims run`: worker processes drain a queue in PostgreSQL and the report adds up
 * (the built CLI, as operators run it).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { dropSchemas, freshSchema, PG_URL, postgresAvailable } from './pg-helpers.js';

const withPostgres = await postgresAvailable();
const cli = join(import.meta.dirname, '../../dist/src/cli/main.js');
const schema = freshSchema();
afterAll(() => (withPostgres ? dropSchemas([schema]) : undefined));

const claims = (...args: string[]) => spawnSync(process.execPath, [cli, 'claims', ...args], { encoding: 'utf8', env: { ...process.env, FLEETSCALE_PG_URL: PG_URL } });

describe.skipIf(!withPostgres)('fleetscale claims run', () => {
  it.each(['optimistic-any', 'skip-locked', 'partitioned'])('%s: 3 worker processes complete every job once; --json adds up', (strategy) => {
    const run = claims('run', '--workers', '3', '--batch', '20', '--strategy', strategy, '--jobs', '3000', '--work-ms', '0.01', '--flush-size', '50', '--flush-ms', '20', '--window-ms', '200', '--schema', schema, '--json');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ strategy, workers: 3, batchSize: 20, jobs: 3000, completed: 3000, failed: 0 });
    expect(report.elapsedMs).toBeGreaterThan(0);
    expect(report.throughput).toBeCloseTo((3000 / report.elapsedMs) * 1000, 6);
    expect(report.perWorker).toHaveLength(3);
    expect(report.perWorker.reduce((a: number, w: { completed: number }) => a + w.completed, 0)).toBe(3000);
    expect(report.windows.length).toBeGreaterThan(0);
    const sum = (k: string) => report.windows.reduce((a: number, w: Record<string, number>) => a + w[k], 0);
    expect(sum('completed')).toBe(3000);
    expect(sum('claimedJobs')).toBe(3000);
    expect(sum('claimBatches')).toBe(report.totals.claimBatches);
    expect(report.totals.workMs).toBeGreaterThan(0);
    // CPU the run cost: the workers' own, and the database's when it runs on this host (it
    // does in CI and here: 127.0.0.1).
    expect(report.cpu.workerMs).toBeGreaterThan(0);
    expect(report.cpu.workerMsPerJob).toBeCloseTo(report.cpu.workerMs / 3000, 9);
    expect(report.perWorker.reduce((a: number, w: { cpuMs: number }) => a + w.cpuMs, 0)).toBeCloseTo(report.cpu.workerMs, 6);
    if (/@(127\.0\.0\.1|localhost)[:/]/.test(PG_URL)) expect(report.cpu.databaseMs).toBeGreaterThan(0);
  });

  it('prints a human report by default', () => {
    const run = claims('run', '--workers', '1', '--batch', '50', '--jobs', '500', '--schema', schema);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/skip-locked: 1 worker\(s\) × 4 consumers, batch 50/);
    expect(run.stdout).toMatch(/500 of 500 jobs in [\d,]+ ms: [\d,]+ jobs\/s/);
    expect(run.stdout).toMatch(/window\s+claim batches\s+claim ms/);
    expect(run.stdout).toMatch(/cpu: workers [\d,]+ ms \([\d.]+ µs\/job\), database /);
  });

  it('answers bad options with usage errors and an unreachable database with a coded error', () => {
    for (const args of [['run', '--strategy', 'random'], ['run', '--workers', '0'], ['run', '--batch', '1.5'], ['run', '--bogus'], ['fly']]) {
      const run = claims(...args, '--schema', schema);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/^fleetscale claims: /);
    }
    const down = claims('run', '--jobs', '10', '--pg', 'postgres://postgres@127.0.0.1:1/test');
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/ERR_CLAIMS_UNAVAILABLE/);
  });
});
