/**
 * The fusion thread runs at the lowest CPU priority. A hub fuses a closed round while it
 * acknowledges the next round's batches: on a small machine the fusion (and the native
 * engine's pool threads, which inherit the priority of the thread that starts them) would
 * otherwise take cores from the event loop in the middle of a load, in the acknowledgement
 * latency of everything in flight. At nice 19 it runs in what the event loop leaves idle.
 *
 * Linux gives each thread its own nice value (the kernel's id of this thread is the last part
 * of /proc/thread-self); elsewhere, or where the process may not change it, this does nothing.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The nice value of the fusion thread; `FLEETSCALE_FUSION_NICE` overrides it (0: unchanged). */
export const FUSION_NICE = 19;

/** Lowers the calling thread's priority; returns the nice value set, or undefined. */
export function lowerThreadPriority(nice = Number(process.env.FLEETSCALE_FUSION_NICE ?? FUSION_NICE)): number | undefined {
  if (process.platform !== 'linux' || !Number.isInteger(nice) || nice === 0) return undefined;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid)) return undefined;
    setPriority(tid, nice);
    return nice;
  } catch {
    return undefined;
  }
}
