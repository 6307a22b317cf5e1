// CPU time a server spends, read from /proc (Linux): of its main thread (the event loop that
// answers every request) and of its whole process tree (other threads: the collector's, the
// file system's, the fusion thread; and worker processes). In ms; null where /proc is not.
import { readFileSync } from 'node:fs';

// USER_HZ: the unit of /proc's times, 100 on every Linux build Node runs on.
const TICK_MS = 10;

function stat(path) {
  const text = readFileSync(path, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function children(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function tree(pid) {
  let ticks = stat(`/proc/${pid}/stat`);
  for (const child of children(pid)) ticks += tree(child);
  return ticks;
}

/** `{ mainMs, allMs }` of process `pid` so far, or null off Linux. */
export function cpuTime(pid) {
  if (process.platform !== 'linux') return null;
  try {
    return { mainMs: stat(`/proc/${pid}/task/${pid}/stat`) * TICK_MS, allMs: tree(pid) * TICK_MS };
  } catch {
    return null;
  }
}

/**
 * CPU time the hypervisor gave to others while this machine's vCPUs wanted it (steal, summed
 * over the vCPUs, ms), or null off Linux: on a shared host a run that lost CPU this way was
 * slowed by its neighbours, not by what it measures.
 */
export function stealTime() {
  if (process.platform !== 'linux') return null;
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/);
    return Number(fields[8]) * TICK_MS;
  } catch {
    return null;
  }
}
