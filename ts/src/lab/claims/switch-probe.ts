/**
 * Measures what a switch between processes on one core costs the process switched in: the
 * contention model's `cpuSwitchMs`. One worker on a host of its own keeps its core; several
 * share the cores with each other and with the database, and a core that takes up a process
 * after running another makes it pay for the switch (into the kernel and out, caches and
 * branch predictors refilled). Calibration sees one worker and cannot see this.
 *
 * The probe pins processes to one core with `taskset` (Linux, util-linux) and times a unit of
 * work that stands in for handling one statement's reply (decode a 10-row JSON reply, walk part
 * of a longer-lived heap): run back to back by one process alone, and by two processes taking
 * turns through a pair of FIFOs, so that every unit starts right after a switch from the other.
 * The difference in CPU per unit is the switch's cost. Two processes pinned to different cores
 * are timed as well, for the record: there every unit starts with a wake-up on an idle core,
 * which costs far more on a virtual machine, and which the model does not charge (its loops
 * and backends are rarely woken on an idle core when it matters: with the cores saturated).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { median } from './accuracy.js';
import { claimsError, intOption } from '../../claims/errors.js';

export type SwitchProbeOptions = {
  /** Units each process times per run (default 10,000). */
  units?: number;
  /** Runs of each arrangement; each keeps its median (default 3). */
  rounds?: number;
};

export type SwitchProbeReport = {
  /** The cores the probe pinned to (the first two this process may run on). */
  cpus: number[];
  units: number;
  rounds: number;
  /** CPU per unit (µs): one process alone; two taking turns on one core; two on two cores. */
  aloneUs: number;
  sharedUs: number;
  apartUs: number | null;
  /** What a switch costs the process switched in (ms): `(sharedUs − aloneUs) / 1000`, at least 0. */
  switchMs: number;
};

/** What a probe process prints. */
export type SwitchProbeSample = { cpuUsPerUnit: number; sink: number };

const probeEntry = fileURLToPath(new URL('./switch-probe-process.js', import.meta.url));

/** The CPUs this process may run on, from `taskset -cp` (which also says taskset is there). */
function allowedCpus(): number[] {
  const out = spawnSync('taskset', ['-cp', String(process.pid)], { encoding: 'utf8' });
  if (out.error || out.status !== 0) {
    throw claimsError('ERR_CLAIMS_UNAVAILABLE', `the switch probe pins processes with taskset (util-linux), which failed here: ${out.error?.message ?? out.stderr.trim()}`);
  }
  const list = /:\s*([\d,\-\s]+)$/.exec(out.stdout.trim())?.[1] ?? '';
  return list
    .split(',')
    .flatMap((part) => {
      const [a, b] = part.trim().split('-').map(Number);
      return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
    })
    .filter(Number.isInteger);
}

function runPinned(cpu: number, args: string[]): Promise<SwitchProbeSample> {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(cpu), process.execPath, probeEntry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.once('error', reject);
    // 'close', not 'exit': a child's stdout can still hold its report when it exits.
    child.once('close', (code) => {
      try {
        if (code !== 0) throw new Error(`exited with ${code}: ${err.trim()}`);
        resolve(JSON.parse(out) as SwitchProbeSample);
      } catch (e) {
        reject(claimsError('ERR_CLAIMS_UNAVAILABLE', `switch probe process: ${(e as Error).message}`));
      }
    });
  });
}

/** Measures what a switch between two processes on one core costs the one switched in (the model's `cpuSwitchMs`). */
export async function probeSwitchCost(options: SwitchProbeOptions = {}): Promise<SwitchProbeReport> {
  const units = intOption('units', options.units ?? 10_000, 100, 10_000_000);
  const rounds = intOption('rounds', options.rounds ?? 3, 1, 100);
  if (process.platform !== 'linux') throw claimsError('ERR_CLAIMS_UNAVAILABLE', `the switch probe needs Linux (taskset, FIFOs), not ${process.platform}`);
  const cpus = allowedCpus().slice(0, 2);
  if (cpus.length === 0) throw claimsError('ERR_CLAIMS_UNAVAILABLE', 'taskset listed no CPU this process may run on');
  const dir = mkdtempSync(join(tmpdir(), 'fleetscale-switch-'));
  const [ab, ba] = [join(dir, 'ab'), join(dir, 'ba')];
  try {
    try {
      execFileSync('mkfifo', [ab, ba], { stdio: 'pipe' });
    } catch (e) {
      throw claimsError('ERR_CLAIMS_UNAVAILABLE', `the switch probe's processes take turns through FIFOs, and mkfifo failed here: ${(e as Error).message}`);
    }
    const alone: number[] = [];
    const shared: number[] = [];
    const apart: number[] = [];
    const pair = async (first: number, second: number) => {
      const [a, b] = await Promise.all([runPinned(first, [String(units), 'first', ba, ab]), runPinned(second, [String(units), 'second', ab, ba])]);
      return (a.cpuUsPerUnit + b.cpuUsPerUnit) / 2;
    };
    for (let round = 0; round < rounds; round++) {
      alone.push((await runPinned(cpus[0], [String(units), 'alone'])).cpuUsPerUnit);
      shared.push(await pair(cpus[0], cpus[0]));
      if (cpus.length > 1) apart.push(await pair(cpus[0], cpus[1]));
    }
    const aloneUs = median(alone);
    const sharedUs = median(shared);
    return {
      cpus,
      units,
      rounds,
      aloneUs,
      sharedUs,
      apartUs: apart.length > 0 ? median(apart) : null,
      switchMs: Math.max(0, sharedUs - aloneUs) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
