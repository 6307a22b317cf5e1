/**
 * `fleetscale lab claims run`, `sweep` and `validate`: worker processes drain a queue in PostgreSQL
 * and the reports add up (the built CLI, as operators run it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { dropSchemas, freshSchema, PG_URL, postgresAvailable, withClient } from './pg-helpers.js';
import { backgroundShareOf } from '../src/lab/index.js';

const withPostgres = await postgresAvailable();
const cli = join(import.meta.dirname, '../../dist/src/cli/main.js');
const schema = freshSchema();
afterAll(() => (withPostgres ? dropSchemas([schema]) : undefined));

/** Jobs of any queue still in the schema (the harness deletes a run's, and its warm-ups'). */
const jobsLeft = (s: string) => withClient(async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${s}.jobs`)).rows[0].n));

const claims = (...args: string[]) => spawnSync(process.execPath, [cli, 'lab', 'claims', ...args], { encoding: 'utf8', env: { ...process.env, FLEETSCALE_PG_URL: PG_URL } });

/** A measured quantity: a finite number in [min, max] (NaN, a negative count or an absurd value fails). */
function expectWithin(value: number, min: number, max: number): void {
  expect(Number.isFinite(value), `${value} is finite`).toBe(true);
  expect(value).toBeGreaterThanOrEqual(min);
  expect(value).toBeLessThanOrEqual(max);
}

describe.skipIf(!withPostgres)('fleetscale lab claims run', () => {
  it.each(['optimistic-any', 'skip-locked', 'partitioned'])('%s: 3 worker processes warm up, then complete every job once; --json adds up', async (strategy) => {
    const run = claims(
      'run',
      '--workers',
      '3',
      '--batch',
      '20',
      '--strategy',
      strategy,
      '--jobs',
      '3000',
      '--work-ms',
      '0.01',
      '--flush-size',
      '50',
      '--flush-ms',
      '20',
      '--window-ms',
      '200',
      '--warmup',
      '150',
      '--schema',
      schema,
      '--json',
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    // The warm-up's jobs ran off the clock, on queues of their own: none is counted, none is left.
    expect(report).toMatchObject({ strategy, workers: 3, batchSize: 20, jobs: 3000, completed: 3000, failed: 0, warmupJobs: 150 });
    expect(await jobsLeft(schema)).toBe(0);
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
    // Of it, the main threads' (the event loops: every job ran there) and, the rest, what V8's
    // background threads spent beside them (Linux tells both apart; CI runs Linux).
    expect(report.cpu.workerLoopMs).toBeGreaterThan(report.cpu.workerMs * 0.5);
    expect(report.cpu.workerLoopMs).toBeLessThanOrEqual(report.cpu.workerMs + 1);
    expect(report.cpu.workerLoopMsPerJob).toBeCloseTo(report.cpu.workerLoopMs / 3000, 9);
    // Context switches per job: each worker blocks waiting for replies now and then, and every
    // backend blocks between the statements it is sent (several a claim of 20 jobs).
    const switches = report.cpu.switchesPerJob;
    expect(switches.worker.voluntary).toBeGreaterThan(0);
    // Preempted, per job: a count, and far fewer than one a job on a run this light.
    expectWithin(switches.worker.involuntary, 0, switches.worker.voluntary + 1);
    if (/@(127\.0\.0\.1|localhost)[:/]/.test(PG_URL)) {
      expect(switches.database.voluntary * 3000).toBeGreaterThan(report.totals.claimBatches);
      expectWithin(switches.database.involuntary, 0, switches.database.voluntary + 1);
    }
    // The whole host over the run: every core's time is busy, stolen or idle (give or take the
    // 10 ms tick of each core and the reads of /proc at either end), and the workers' CPU is
    // part of the busy time.
    const host = report.cpu.host;
    const coreMs = availableParallelism() * report.elapsedMs;
    const slack = 0.25 * coreMs + 30 * availableParallelism();
    expect(Math.abs(host.busyMs + host.stealMs + host.idleMs - coreMs)).toBeLessThan(slack);
    expect(host.busyMs).toBeGreaterThan(0.5 * report.cpu.workerMs);
    expectWithin(host.softirqMs, 0, host.busyMs);
    expect(host.stealMsPerJob).toBeCloseTo(host.stealMs / 3000, 9);
    expect(host.idleMsPerJob).toBeCloseTo(host.idleMs / 3000, 9);
    // What else was busy: the host's busy time less the workers' and the database's, per job.
    expectWithin(host.otherMsPerJob, 0, host.busyMs / 3000);
    // Claim-to-complete latency of every job, from the jobs table.
    // Every job waited for its batch's flush (up to 50 results or 20 ms), so none completed at once.
    expect(report.latencyMs.p50).toBeGreaterThan(0);
    expect(report.latencyMs.p99).toBeGreaterThanOrEqual(report.latencyMs.p50);
    expect(report.latencyMs.max).toBeGreaterThanOrEqual(report.latencyMs.p99);
    expect(typeof report.autovacuum).toBe('boolean');
  });

  it('prints a human report by default', () => {
    const run = claims('run', '--workers', '1', '--batch', '50', '--jobs', '500', '--warmup', '100', '--schema', schema);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/skip-locked: 1 worker\(s\) × 4 consumers, batch 50, .*, 100 warm-up jobs per worker off the clock/);
    expect(run.stdout).toMatch(/500 of 500 jobs in [\d,]+ ms: [\d,]+ jobs\/s/);
    expect(run.stdout).toMatch(/window\s+claim batches\s+claim ms/);
    expect(run.stdout).toMatch(/cpu: workers [\d,]+ ms \([\d.]+ µs\/job\), database /);
  });

  it('sweep runs every cell of the grid and writes them as JSON', () => {
    const out = join(tmpdir(), `fleetscale-sweep-${process.pid}.json`);
    const run = claims(
      'sweep',
      '--workers',
      '1,2',
      '--strategy',
      'skip-locked,partitioned',
      '--batch',
      '25',
      '--pool',
      '4',
      '--flush',
      '50/20',
      '--jobs',
      '600',
      '--work-ms',
      '0',
      '--warmup',
      '0',
      '--repeats',
      '2',
      '--schema',
      schema,
      '--out',
      out,
    );
    expect(run.status, run.stderr).toBe(0);
    // Pass 1 in grid order; pass 2 shuffled: 8 runs in all.
    expect(run.stderr).toMatch(/\[4\/8\] partitioned B25 P4 F50\/20ms W2 /);
    expect(run.stderr).toMatch(/\[8\/8\] /);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    rmSync(out);
    expect(result.cells.map((c: { name: string }) => c.name)).toEqual([
      'skip-locked B25 P4 F50/20ms W1',
      'skip-locked B25 P4 F50/20ms W2',
      'partitioned B25 P4 F50/20ms W1',
      'partitioned B25 P4 F50/20ms W2',
    ]);
    expect(result.repeats).toBe(2);
    for (const c of result.cells) {
      expect(c.report).toMatchObject({ jobs: 600, completed: 600, batchSize: 25, poolSize: 4, flushSize: 50, flushMs: 20 });
      // The kept run is one of the cell's two, the slower (the lower median of two).
      expect(c.throughputs).toHaveLength(2);
      expect(c.report.throughput).toBe(Math.min(...c.throughputs));
    }
  });

  it('validate calibrates on one worker, predicts the held-out cells, measures them and plots them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetscale-validate-'));
    const run = claims(
      'validate',
      '--workers',
      '2',
      '--strategy',
      'skip-locked',
      '--batch',
      '20,50',
      '--pool',
      '4',
      '--flush',
      '50/20',
      '--jobs',
      '800',
      '--work-ms',
      '0',
      '--warmup',
      '50',
      '--pick-workers',
      '2',
      '--schema',
      schema,
      '--out',
      join(dir, 'v.json'),
      '--svg',
      join(dir, 'v.svg'),
    );
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(readFileSync(join(dir, 'v.json'), 'utf8'));
    const svg = readFileSync(join(dir, 'v.svg'), 'utf8');
    // Replayed by this build, the report reproduces itself from its own measurements; nothing runs.
    const replay = claims('validate', '--replay', join(dir, 'v.json'), '--json');
    const replayedHuman = claims('validate', '--replay', join(dir, 'v.json'), '--cpu-slice-ms', '0');
    rmSync(dir, { recursive: true });
    expect(replay.status, replay.stderr).toBe(0);
    const again = JSON.parse(replay.stdout);
    expect(again.replay.source).toBe(join(dir, 'v.json'));
    expect(r.replay).toBeNull();
    expect(again.calibration.costs).toEqual(r.calibration.costs);
    expect(again.heldOut).toEqual(r.heldOut);
    expect(again.summary).toEqual(r.summary);
    expect(again.pick).toEqual(r.pick);
    expect(again.model).toEqual(r.model);
    expect(replay.stderr).not.toMatch(/\[(calibration|held-out)/);
    expect(replay.stderr).toMatch(/predicted 2 held-out cells\n/);
    expect(replayedHuman.status, replayedHuman.stderr).toBe(0);
    expect(replayedHuman.stdout).toMatch(/^replay of .*v\.json: calibration and predictions redone on runs measured \S+ to \S+; nothing ran\n/);
    expect(replayedHuman.stdout).toMatch(/CPU: processor sharing \(given\)/);
    expect(replayedHuman.stdout).toMatch(/held out: 2 cells \(predicted from the single-worker cells alone\)/);
    expect(r.calibration.cells.map((c: { name: string }) => c.name)).toEqual(['skip-locked B20 P4 F50/20ms W1', 'skip-locked B50 P4 F50/20ms W1']);
    expect(r.heldOut.map((c: { name: string }) => c.name)).toEqual(['skip-locked B20 P4 F50/20ms W2', 'skip-locked B50 P4 F50/20ms W2']);
    // Every cell keeps what calibration compared, so its report can be refitted later.
    for (const c of [...r.calibration.cells, ...r.heldOut]) {
      // The database's CPU is read from /proc in 10 ms ticks: a run this small may spend less
      // than one, and then it is left out rather than kept as 0.
      const expected = ['claimMs', 'claimsPerJob', 'elapsedMs', 'host', 'persistMs', 'switches', 'throughput', 'workerCpuMsPerJob', 'workerLoopCpuMsPerJob'];
      if (c.measured.dbCpuMsPerJob !== undefined) expected.push('dbCpuMsPerJob');
      expect(Object.keys(c.measured).sort()).toEqual(expected.sort());
      // What else the host's cores did, per job (a replay keeps it: heldOut is compared above).
      const coreMs = availableParallelism() * c.measured.elapsedMs;
      expectWithin(c.measured.host.stealMs + c.measured.host.idleMs, 0, coreMs * 1.25 + 30 * availableParallelism());
      if (c.measured.host.otherMs !== null) expectWithin(c.measured.host.otherMs, 0, coreMs * 1.25);
      // And how often the cores changed hands (kept for comparing with the model's switches).
      expect(c.measured.switches.worker.voluntary).toBeGreaterThan(0);
      expectWithin(c.measured.switches.worker.involuntary, 0, c.measured.switches.worker.voluntary + 1);
      if (c.measured.dbCpuMsPerJob !== undefined) expect(c.measured.dbCpuMsPerJob).toBeGreaterThan(0);
      // The event loops' share of the workers' CPU (Linux tells the main thread apart).
      expect(c.measured.workerLoopCpuMsPerJob).toBeGreaterThan(0);
      expect(c.measured.workerLoopCpuMsPerJob).toBeLessThanOrEqual(c.measured.workerCpuMsPerJob * 1.01);
      // At least one claim for every batch of jobs.
      expect(c.measured.claimsPerJob).toBeGreaterThanOrEqual(1 / c.settings.batchSize);
    }
    for (const c of r.heldOut) {
      expect(c.measured.throughput).toBeGreaterThan(0);
      expect(c.predicted.throughput).toBeGreaterThan(0);
      expect(c.error).toBeCloseTo(c.predicted.throughput / c.measured.throughput - 1, 9);
      const one = r.calibration.cells.find((k: { settings: { batchSize: number } }) => k.settings.batchSize === c.settings.batchSize);
      expect(c.speedup.measured).toBeCloseTo(c.measured.throughput / one.measured.throughput, 9);
      expect(c.speedup.predicted).toBeCloseTo(c.predicted.throughput / one.predicted, 9);
    }
    expect(r.summary.cells).toBe(2);
    expect(r.summary.mape).toBeCloseTo((Math.abs(r.heldOut[0].error) + Math.abs(r.heldOut[1].error)) / 2, 9);
    expect(Math.abs(r.summary.spearman)).toBeCloseTo(1, 9); // two cells: ranked the same way or not
    expect(Object.keys(r.calibration.costs)).toContain('dbClaimMs');
    // The pick is one of the settings, measured at its worker count.
    expect([20, 50]).toContain(r.pick.settings.batchSize);
    expect(r.pick.measured.speedup).toBeCloseTo(r.pick.measured.many / r.pick.measured.one, 9);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(run.stdout).toMatch(/MAPE [\d.]+% \(target ≤ 10%: (met|MISSED)\)/);
    expect(run.stdout).toMatch(/model's pick for 2 workers: skip-locked B(20|50) /);
    // The scheduler's slice was measured before the runs, and the model ran its CPU in it.
    expect(r.model.sliceProbe).toMatchObject({ cores: availableParallelism(), processes: availableParallelism() + 1 });
    expect(r.model.sliceProbe.runs).toBeGreaterThan(0);
    expect(r.model.cpuSliceMs).toBe(r.model.sliceProbe.sliceMs);
    expect(r.model.cpuSliceMs).toBeGreaterThan(0.5);
    expect(run.stdout).toMatch(new RegExp(`CPU: time slices of ${r.model.cpuSliceMs.toFixed(2)} ms \\(probe: median of \\d+ runs of \\d+ busy processes`));
    // So was statement CPU's growth, at 1 worker and the held-out count, with the workload's
    // consumers as connections and the smallest batch as rows; the model used the probe's curve.
    expect(r.model.growthProbe).toMatchObject({ connections: 4, rows: 20 });
    expect(r.model.growthProbe.points.map((p: { workers: number }) => p.workers)).toEqual([1, 2]);
    expect(r.model.cpuGrowth).toEqual(r.model.growthProbe.growth);
    expect(r.model.cpuGrowth[0]).toEqual({ workers: 1, worker: 1, db: 1 });
    expect(run.stdout).toMatch(
      /statement CPU growth: 1 workers ×1\.00 worker, ×1\.00 database; 2 workers ×[\d.]+ worker, ×[\d.]+ database \(probe: median of 3 rounds of 2000 ms\)/,
    );
    // The dead-entry cost was measured on the server before the runs, and the model used it.
    expect(r.model).toMatchObject({ deadEntryProbe: { entries: 20_000 } });
    expect(r.model.deadEntryMs).toBe(r.model.deadEntryProbe.deadEntryMs);
    // Through the native side's JSON: serde_json's fast float parser may land one ulp off.
    expect(r.calibration.costs.dbDeadEntryMs / r.model.deadEntryMs).toBeCloseTo(1, 12);
    expect(r.calibration.fit).not.toContain('dbDeadEntryMs');
    expect(run.stdout).toMatch(/dead index entry: [\d.]+ ns each \(probe: 20,000 entries scanned in [\d.]+ ms, none in [\d.]+ ms\)/);
    // So was what a held row costs a skip-locked scan; given to the model, not fitted.
    expect(r.model.skipRowProbe).toMatchObject({ rows: 2000 });
    expect(r.model.skipRowMs).toBe(r.model.skipRowProbe.skipRowMs);
    expect(r.calibration.costs.dbSkipRowMs / r.model.skipRowMs).toBeCloseTo(1, 12);
    expect(r.calibration.fit).not.toContain('dbSkipRowMs');
    expect(run.stdout).toMatch(/row held by another claim, passed by a skip-locked scan: \d+ ns each \(probe: past 2,000 held rows in [\d.]+ ms, none in [\d.]+ ms\)/);
    // The share of the workers' own CPU spent beside their loops, from the single-worker runs.
    expect(r.model.backgroundShares).toHaveLength(r.calibration.cells.length);
    expect(r.model.workerBackgroundShare).toBe(backgroundShareOf(r.calibration.cells, r.workload.workMs).share);
    expect(run.stdout).toMatch(/worker CPU beside the event loop \(background threads\): [\d.]+% of the workers' own \(median of 2 single-worker runs/);
    expect(r.workload.warmupJobs).toBe(50);
    expect(r.summary.noise).toMatchObject({ repeats: 1, medianSpread: 0, worstSpread: 0, floor: null });
  });

  it("validate --repeats keeps every cell's median run and reports the spread; --cpu-slice-ms reaches the model", () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetscale-validate-'));
    const run = claims(
      'validate',
      '--workers',
      '2',
      '--strategy',
      'optimistic-any',
      '--batch',
      '20',
      '--pool',
      '4',
      '--flush',
      '50/20',
      '--jobs',
      '600',
      '--work-ms',
      '0',
      '--pick-workers',
      '2',
      '--repeats',
      '3',
      '--cpu-slice-ms',
      '4',
      '--cpu-switch-ms',
      '0.01',
      '--dead-entry-ms',
      '0.00002',
      '--skip-row-ms',
      '0.0006',
      '--cpu-growth',
      '1:1:1,2:1.25:1.1',
      '--loop-order',
      'continuations-first',
      '--background-share',
      '0.2',
      '--warmup',
      '0',
      '--schema',
      schema,
      '--out',
      join(dir, 'v.json'),
    );
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(readFileSync(join(dir, 'v.json'), 'utf8'));
    rmSync(dir, { recursive: true });
    // A given slice, switch cost, dead-entry cost and growth are used as given (no probes).
    expect(r.model).toEqual({
      cpuSliceMs: 4,
      sliceProbe: null,
      cpuSwitchMs: 0.01,
      switchProbe: null,
      deadEntryMs: 0.00002,
      deadEntryProbe: null,
      skipRowMs: 0.0006,
      skipRowProbe: null,
      cpuGrowth: [
        { workers: 1, worker: 1, db: 1 },
        { workers: 2, worker: 1.25, db: 1.1 },
      ],
      growthProbe: null,
      loopOrder: 'continuations-first',
      workerBackgroundShare: 0.2,
      backgroundShares: null,
    });
    expect(run.stdout).toMatch(/worker CPU beside the event loop \(background threads\): 20\.0% of the workers' own \(given\)/);
    expect(run.stdout).toMatch(/statement CPU growth: 1 workers ×1\.00 worker, ×1\.00 database; 2 workers ×1\.25 worker, ×1\.10 database \(given\)/);
    expect(run.stdout).toMatch(/CPU: time slices of 4\.00 ms \(given\); worker loops continuations-first/);
    expect(run.stdout).toMatch(/switch between processes on a core: 10\.0 µs to the one switched in \(given\)/);
    expect(r.calibration.costs.dbDeadEntryMs).toBe(0.00002);
    expect(r.calibration.costs.dbSkipRowMs).toBe(0.0006);
    expect(run.stdout).toMatch(/row held by another claim, passed by a skip-locked scan: 600 ns each \(given\)/);
    const cells = [...r.calibration.cells, ...r.heldOut];
    expect(cells).toHaveLength(2);
    const spreads = [];
    for (const c of cells) {
      expect(c.throughputs).toHaveLength(3);
      const sorted = [...c.throughputs].sort((a: number, b: number) => a - b);
      expect(c.measured.throughput).toBe(sorted[1]);
      spreads.push((sorted[2] - sorted[0]) / sorted[1]);
    }
    expect(r.summary.noise.repeats).toBe(3);
    expect(r.summary.noise.worstSpread).toBeCloseTo(Math.max(...spreads), 9);
    expect(r.summary.noise.medianSpread).toBeCloseTo((spreads[0] + spreads[1]) / 2, 9);
    expect(run.stdout).toMatch(/measurement noise: 3 runs per cell, spread \(max − min\) \/ median [\d.]+% at the median cell/);
    expect(r.summary.noise.floor).toMatchObject({ resamples: 1000 });
    expectWithin(r.summary.noise.floor.mape, 0, spreads[1]);
    // The worst cell of a run of the grid is at least its mean cell, and no further off than the widest spread.
    expect(r.summary.noise.floor.worst).toBeGreaterThanOrEqual(r.summary.noise.floor.mape);
    expect(r.summary.noise.floor.worst).toBeLessThanOrEqual(Math.max(...spreads));
    expect(run.stdout).toMatch(/noise floor: a model exact on every cell would still show MAPE [\d.]+%, a worst cell of [\d.]+% and speedup error [\d.]+ against these runs/);
    // 3 calibration runs, then 3 held-out runs (the pick is the held-out cell).
    expect(run.stderr.match(/\[calibration \d\/3\]/g)).toHaveLength(3);
    expect(run.stderr.match(/\[held-out \d\/3\]/g)).toHaveLength(3);
  });

  it('answers bad options with usage errors and an unreachable database with a coded error', () => {
    for (const args of [
      ['run', '--strategy', 'random'],
      ['run', '--workers', '0'],
      ['run', '--batch', '1.5'],
      ['run', '--bogus'],
      ['fly'],
      ['sweep', '--workers', '1,x'],
      ['sweep', '--flush', '100'],
      ['sweep', '--strategy', 'skip-locked,random'],
      ['validate', '--workers', '1,2'],
      ['validate', '--batch', ''],
      ['validate', '--repeats', '0'],
      ['validate', '--cpu-slice-ms', '-1'],
      ['validate', '--dead-entry-ms', '-0.1'],
      ['validate', '--skip-row-ms', 'x'],
      ['validate', '--cpu-growth', '2:1.1'],
      ['validate', '--cpu-growth', '0:1:1'],
      ['validate', '--cpu-growth', '2:-1:1'],
      ['validate', '--cpu-growth', '2:x:1'],
      ['validate', '--loop-order', 'lifo'],
      ['validate', '--background-share', '0.95'],
      ['validate', '--background-share', '-0.1'],
      ['probe', '--statements', '--workers', '0'],
      ['probe', '--statements', '--rounds', '0'],
      ['probe', '--statements', '--duration-ms', '10'],
      ['run', '--warmup', '-5'],
      ['sweep', '--warmup', '1.5'],
      ['sweep', '--repeats', '1.5'],
      ['probe', '--processes', '1'],
      ['probe', '--duration-ms', '5'],
    ]) {
      const run = claims(...args, '--schema', schema);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/^fleetscale lab claims: /);
    }
    const down = claims('run', '--jobs', '10', '--pg', 'postgres://postgres@127.0.0.1:1/test');
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/ERR_CLAIMS_UNAVAILABLE/);
    const probeDown = claims('probe', '--statements', '--workers', '2', '--pg', 'postgres://postgres@127.0.0.1:1/test');
    expect(probeDown.status).toBe(1);
    expect(probeDown.stderr).toMatch(/ERR_CLAIMS_UNAVAILABLE.*statement-CPU probe: .*ECONNREFUSED/s);
    // A growth curve the model refuses is refused before any run: nothing is measured.
    const backwards = claims('validate', '--workers', '2', '--cpu-growth', '4:1:1,2:1:1', '--schema', schema);
    expect(backwards.status).toBe(1);
    expect(backwards.stderr).toMatch(/ERR_CLAIMS_CONFIG.*increasing order/);
    expect(backwards.stderr).not.toMatch(/\[calibration/);
  });
});

describe('fleetscale lab claims validate --replay', () => {
  it('refuses grid options beside it, and a file it cannot read or that is not a report, with coded errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetscale-replay-'));
    writeFileSync(join(dir, 'broken.json'), '{"heldOut": [');
    writeFileSync(join(dir, 'other.json'), '{"jobs": 10}');
    const runs = {
      clash: claims('validate', '--replay', join(dir, 'other.json'), '--workers', '2'),
      missing: claims('validate', '--replay', join(dir, 'missing.json')),
      broken: claims('validate', '--replay', join(dir, 'broken.json')),
      other: claims('validate', '--replay', join(dir, 'other.json')),
    };
    rmSync(dir, { recursive: true });
    expect(runs.clash.status).toBe(2);
    expect(runs.clash.stderr).toMatch(/^fleetscale lab claims: --replay takes the grid, the workload and the runs from its file; --workers cannot go with it/);
    expect(runs.missing.status).toBe(1);
    expect(runs.missing.stderr).toMatch(/ERR_CLAIMS_INPUT: cannot read the report to replay: ENOENT/);
    expect(runs.broken.status).toBe(1);
    expect(runs.broken.stderr).toMatch(/ERR_CLAIMS_INPUT: .*broken\.json is not JSON/);
    expect(runs.other.status).toBe(1);
    expect(runs.other.stderr).toMatch(/ERR_CLAIMS_INPUT: not a validation report \(fleetscale lab claims validate --out\): the report must have required properties machine/);
  });
});

describe('fleetscale lab claims probe', () => {
  it("measures the scheduler's slice with one busy process more than there are cores", () => {
    const run = claims('probe', '--duration-ms', '400', '--json');
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r.processes).toBe(r.cores + 1);
    expect(r.runs).toBeGreaterThan(0);
    // Whatever the kernel's tick, a slice is longer than the 0.5 ms gap that delimits it and
    // shorter than the probe itself.
    expect(r.sliceMs).toBeGreaterThan(0.5);
    expect(r.sliceMs).toBeLessThan(400);
    expect(r.waitMs).toBeGreaterThan(0.5);
    const human = claims('probe', '--duration-ms', '300', '--processes', String(r.cores + 2));
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^scheduler slice [\\d.]+ ms \\(median of \\d+ runs of ${r.cores + 2} busy processes on ${r.cores} cores`));
  });
});

describe.skipIf(!withPostgres)('fleetscale lab claims probe --statements', () => {
  it("measures statement CPU at each worker count and its growth over one worker's", () => {
    const run = claims('probe', '--statements', '--workers', '3,2', '--connections', '2', '--rows', '5', '--duration-ms', '150', '--rounds', '2', '--warmup', '20', '--json');
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r).toMatchObject({ connections: 2, rows: 5, durationMs: 150, rounds: 2 });
    // One worker is always measured (growth is relative to it), and counts come out sorted.
    expect(r.points.map((p: { workers: number }) => p.workers)).toEqual([1, 2, 3]);
    for (const p of r.points) {
      expect(p.statementsPerS).toBeGreaterThan(0);
      expect(p.workerUs).toBeGreaterThan(0);
      expectWithin(p.dbUs, 0, 1e6); // the database is on this host: /proc shows it (a statement under a second)
    }
    expect(r.ratios[0]).toEqual({ workers: 1, worker: 1, db: 1 });
    expect(r.growth[0]).toEqual({ workers: 1, worker: 1, db: 1 });
    for (const [i, p] of r.points.entries()) {
      expect(r.ratios[i].worker).toBeCloseTo(p.workerUs / r.points[0].workerUs, 12);
      if (r.points[0].dbUs > 0) expect(r.ratios[i].db).toBeCloseTo(p.dbUs / r.points[0].dbUs, 12);
      // The model's growth is the line fitted through one worker's 1, never falling.
      expect(r.growth[i].worker).toBeCloseTo(1 + r.slope.worker * (p.workers - 1), 12);
      expect(r.growth[i].db).toBeCloseTo(1 + r.slope.db * (p.workers - 1), 12);
    }
    // The growth never falls: a slope is clamped at 0 and is finite.
    expectWithin(r.slope.worker, 0, 10);
    expectWithin(r.slope.db, 0, 10);
    const human = claims('probe', '--statements', '--workers', '2', '--duration-ms', '100', '--rounds', '1', '--warmup', '10');
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^statement CPU on \d+ cores: 4 connections per worker, 10 rows per statement, median of 1 rounds of 100 ms\n/);
    // workers, statements/s, worker and database µs per statement, their ratios, the fitted line.
    expect(human.stdout).toMatch(/\n\s+2\s+[\d,]+\s+[\d.]+\s+[\d.—]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\n/);
    expect(human.stdout).toMatch(/growth per worker beyond the first \(least-squares line through 1 worker's 1\): worker \+[\d.]+, database \+[\d.]+\n/);
    expect(human.stdout).toMatch(/model it with cpuGrowth: \[\{"workers":1,"worker":1,"db":1\},\{"workers":2,/);
  });
});
