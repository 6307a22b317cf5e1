/**
 * Measures the host scheduler's time slice, the `cpuSliceMs` of the contention model: how long
 * a CPU-bound process runs before the kernel hands its core to another runnable one. It forks
 * one more busy process than there are cores, so that someone always waits; each process spins
 * on the clock and notes every gap in its own running (a gap longer than `gapMs` is time it was
 * switched out). The runs between gaps are the slices; their median is the answer. Linux
 * preempts at its scheduler tick (4 ms at 250 Hz, 1 ms at 1000 Hz).
 */
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';

import { median } from './accuracy.js';
import { claimsError, intOption, numberOption } from '../../claims/errors.js';

export type SliceProbeOptions = {
  /** Busy processes (default: cores + 1). */
  processes?: number;
  /** How long each spins (ms; default 1500). */
  durationMs?: number;
  /** A pause in a process's own clock longer than this (ms) counts as switched out (default 0.5). */
  gapMs?: number;
};

export type SliceProbeReport = {
  cores: number;
  processes: number;
  /** Median uninterrupted run between two switches (ms). */
  sliceMs: number;
  /** Median time switched out (ms): about (processes − cores) / cores slices. */
  waitMs: number;
  /** Runs measured (whole runs only: the first and last of each process are cut). */
  runs: number;
};

/** What each probe process sends back: whole runs between switches, and the gaps (ms). */
export type SliceProbeSample = { runs: number[]; gaps: number[] };

const probeEntry = new URL('./scheduler-probe-process.js', import.meta.url);

/** Measures this host's scheduler time slice with one more busy process than cores (the model's `cpuSliceMs`). */
export async function probeSchedulerSlice(options: SliceProbeOptions = {}): Promise<SliceProbeReport> {
  const cores = availableParallelism();
  const processes = intOption('processes', options.processes ?? cores + 1, 2, 256);
  const durationMs = numberOption('durationMs', options.durationMs ?? 1500, 100, 600_000);
  const gapMs = numberOption('gapMs', options.gapMs ?? 0.5, 0.01, 1000);
  const samples = await Promise.all(
    Array.from(
      { length: processes },
      () =>
        new Promise<SliceProbeSample>((resolve, reject) => {
          const child = fork(probeEntry, [String(durationMs), String(gapMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
          let sample: SliceProbeSample | undefined;
          child.once('message', (m) => (sample = m as SliceProbeSample));
          child.once('error', reject);
          child.once('exit', (code) => (sample && code === 0 ? resolve(sample) : reject(new Error(`probe process exited with ${code} before reporting`))));
        }),
    ),
  );
  const runs = samples.flatMap((s) => s.runs);
  const gaps = samples.flatMap((s) => s.gaps);
  if (runs.length === 0) {
    throw claimsError('ERR_CLAIMS_CONFIG', `no process was switched out in ${durationMs} ms with ${processes} busy processes on ${cores} cores: run more processes or longer`);
  }
  return { cores, processes, sliceMs: median(runs), waitMs: median(gaps), runs: runs.length };
}
