/**
 * CPU time of the PostgreSQL server's processes on this host, and of the host as a whole, read
 * from `/proc` (Linux), so a claims run can say what each job cost the database as well as the
 * workers (the measurement the contention model is calibrated with), and what the host spent
 * besides: kernel work outside any process (softirq: loopback networking), other processes,
 * and time the hypervisor gave the cores to someone else (steal). `undefined` where `/proc`
 * cannot tell (another OS, or no `postgres` process here because the database is elsewhere).
 */
import { readdirSync, readFileSync } from 'node:fs';

import type { Switches } from './ipc.js';

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ: 100 on Linux). */
const TICKS_PER_S = 100;

/**
 * Calls `visit` with the pid and `/proc/<pid>/stat` fields (after the command name) of every
 * process named `postgres`; false where `/proc` cannot be listed or none is found.
 */
function eachPostgres(visit: (pid: string, fields: string[]) => void): boolean {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return false;
  }
  let found = false;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid …": comm may hold spaces; the fields after its ")" are fixed.
    const close = stat.lastIndexOf(')');
    if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
    visit(pid, stat.slice(close + 2).split(' '));
    found = true;
  }
  return found;
}

/** utime + stime (ticks): fields 14 and 15 of the stat line, 12 and 13 after "state". */
const cpuTicks = (fields: string[]) => Number(fields[11]) + Number(fields[12]);

/** Sum of user + system CPU (ms) of every process named `postgres`, or undefined. */
export function postgresCpuMs(): number | undefined {
  let ticks = 0;
  return eachPostgres((_pid, fields) => (ticks += cpuTicks(fields))) ? (ticks * 1000) / TICKS_PER_S : undefined;
}

/**
 * CPU time (ms) and context switches, voluntary and involuntary (from `/proc/<pid>/status`), of
 * every process named `postgres` so far, in one pass over `/proc`; undefined where it cannot
 * tell. A backend that exits between two readings takes its counts with it, so read both ends
 * while the connections are open.
 */
export function postgresUsage(): { cpuMs: number; switches: Switches } | undefined {
  let ticks = 0;
  const switches = { voluntary: 0, involuntary: 0 };
  const found = eachPostgres((pid, fields) => {
    ticks += cpuTicks(fields);
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'latin1');
    } catch {
      return; // exited meanwhile
    }
    switches.voluntary += Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1] ?? 0);
    switches.involuntary += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1] ?? 0);
  });
  return found ? { cpuMs: (ticks * 1000) / TICKS_PER_S, switches } : undefined;
}

/** The host's CPU time since boot (ms, summed over its cores), by kind, from `/proc/stat`. */
export type HostCpuTimes = {
  /** user, nice, system, irq and softirq: every core's busy time. */
  busyMs: number;
  /** Of `busyMs`, kernel work outside any process's account (network receive, timers). */
  softirqMs: number;
  /** Time the hypervisor ran something else on a core this host had work for. */
  stealMs: number;
  /** idle and iowait. */
  idleMs: number;
};

/** The host's CPU times, or undefined where `/proc/stat` cannot tell. */
export function hostCpuTimes(): HostCpuTimes | undefined {
  let line: string;
  try {
    line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0];
  } catch {
    return undefined;
  }
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice" (ticks).
  const [label, ...fields] = line.trim().split(/\s+/);
  const t = fields.map(Number);
  if (label !== 'cpu' || t.length < 8 || t.some((x) => !Number.isFinite(x))) return undefined;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = t;
  const ms = (ticks: number) => (ticks * 1000) / TICKS_PER_S;
  return { busyMs: ms(user + nice + system + irq + softirq), softirqMs: ms(softirq), stealMs: ms(steal), idleMs: ms(idle + iowait) };
}

/** `b − a`, kind by kind. */
export function hostCpuSpent(a: HostCpuTimes, b: HostCpuTimes): HostCpuTimes {
  return { busyMs: b.busyMs - a.busyMs, softirqMs: b.softirqMs - a.softirqMs, stealMs: b.stealMs - a.stealMs, idleMs: b.idleMs - a.idleMs };
}
