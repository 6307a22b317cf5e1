/**
 * Measures what a dead index entry costs a claim (the model's `dbDeadEntryMs`). Every claim
 * reads its queue's pending jobs from the start of the `jobs_ready` index, and every job
 * claimed since the last vacuum has left an entry there whose row is no longer pending: the
 * scan passes over all of them, so claims grow dearer through a run and an empty claim at its
 * end walks the whole queue.
 *
 * The probe fills a queue of its own, marks every job done (one statement, as claims and
 * completions would, leaving one dead entry per job), lets a first scan mark the entries dead,
 * then times the claim's scan by the server's own clock (`EXPLAIN ANALYZE`, execution time)
 * against the same scan of a queue with no entries. A property of this server, measured
 * without any worker, so the model's validation can use it without looking at held-out runs.
 */
import { intOption } from '../../claims/errors.js';
import { claimScanSql, timedScan, withProbeQueue } from './server-probe.js';

export type DeadEntryProbeOptions = {
  url: string;
  schema?: string;
  /** Dead entries to scan (default 20,000). */
  entries?: number;
  /** Timed scans of each kind (default 15). */
  scans?: number;
};

export type DeadEntryProbe = {
  /** Database CPU per dead entry passed (ms). */
  deadEntryMs: number;
  entries: number;
  /** Median execution time of the scan over the dead entries, and of the scan of no entries (ms). */
  scanMs: number;
  emptyScanMs: number;
  scans: number;
};

/** Measures what a dead index entry costs a claim scan on the server (the model's `dbDeadEntryMs`). */
export async function probeDeadEntries(options: DeadEntryProbeOptions): Promise<DeadEntryProbe> {
  const entries = intOption('entries', options.entries ?? 20_000, 100, 10_000_000);
  const scans = intOption('scans', options.scans ?? 15, 1, 1000);
  return withProbeQueue({ ...options, connections: 1 }, 'dead', 'dead-entry', async (queue, name) => {
    const s = queue.schema;
    const timed = async (q: string) => (await timedScan(queue.pool, claimScanSql(s, q, 100), scans, 0, 'dead-entry')).ms;
    await queue.enqueue(
      name,
      Array.from({ length: entries }, (_, i) => i),
    );
    await queue.vacuum();
    await queue.pool.query(`UPDATE ${s}.jobs SET state = 'done', finished_at = now() WHERE queue = $1`, [name]);
    // The first scan finds the rows dead and marks their entries so (as a run's claims do).
    await queue.pool.query(claimScanSql(s, name, 100));
    const scanMs = await timed(name);
    const emptyScanMs = await timed(`${name}-none`);
    return { deadEntryMs: Math.max(0, scanMs - emptyScanMs) / entries, entries, scanMs, emptyScanMs, scans };
  });
}
