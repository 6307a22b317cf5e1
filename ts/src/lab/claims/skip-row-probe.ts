/**
 * Measures what a row held by another claim costs a skip-locked claim's scan (the model's
 * `dbSkipRowMs`). Claims in flight have updated their rows and not committed: a skip-locked
 * scan still finds those rows pending in its snapshot, tries each one's lock and passes on,
 * so with W workers × C consumers × B rows in flight every claim passes up to W·C·B of them.
 * One worker's runs hold too few such rows for calibration to tell this cost from a claim's
 * fixed cost; at 8 workers it is most of a claim's work.
 *
 * The probe fills a queue of its own, times the scan with nothing held, then holds its first
 * `rows` jobs the way claims do (updated to running in a transaction left open) and times the
 * same scan again, by the server's own clock. A property of this server, measured without any
 * worker, so the model's validation can use it without looking at held-out runs.
 */
import { claimsError, intOption } from '../../claims/errors.js';
import { claimScanSql, timedScan, withProbeQueue } from './server-probe.js';

export type SkipRowProbeOptions = {
  url: string;
  schema?: string;
  /** Rows held while the scan runs (default 2,000). */
  rows?: number;
  /** Timed scans of each kind (default 15). */
  scans?: number;
};

export type SkipRowProbe = {
  /** Database CPU per held row a skip-locked scan passes (ms). */
  skipRowMs: number;
  rows: number;
  /** Held rows the timed scan passed over, by its plan (the probe checks it is `rows`). */
  passedRows: number;
  /** Median execution time of the scan past the held rows, and with none held (ms). */
  scanMs: number;
  freeScanMs: number;
  scans: number;
};

/** Jobs each scan takes, as a claim of a batch of 100 would. */
const TAKE = 100;

/** Measures what a locked row a skip-locked scan passes over costs (the model's `dbSkipRowMs`). */
export async function probeSkippedRows(options: SkipRowProbeOptions): Promise<SkipRowProbe> {
  const rows = intOption('rows', options.rows ?? 2000, 100, 1_000_000);
  const scans = intOption('scans', options.scans ?? 15, 1, 1000);
  return withProbeQueue({ ...options, connections: 2 }, 'skip', 'skipped-row', async (queue, name) => {
    const s = queue.schema;
    const timed = () => timedScan(queue.pool, claimScanSql(s, name, TAKE), scans, TAKE, 'skipped-row');
    await queue.enqueue(
      name,
      Array.from({ length: rows + TAKE }, (_, i) => i),
    );
    await queue.vacuum();
    // Warm, then with nothing held.
    await queue.pool.query(claimScanSql(s, name, TAKE));
    const free = await timed();
    const holder = await queue.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`UPDATE ${s}.jobs SET state = 'running' WHERE id IN (SELECT id FROM ${s}.jobs WHERE queue = $1 ORDER BY run_after, id LIMIT $2)`, [name, rows]);
      const held = await timed();
      const passedRows = held.scanned - TAKE;
      if (passedRows !== rows || free.scanned !== TAKE) {
        throw claimsError(
          'ERR_CLAIMS_UNAVAILABLE',
          `skipped-row probe: the scan passed ${passedRows} held rows where ${rows} were held (and ${free.scanned - TAKE} with none held)`,
        );
      }
      return { skipRowMs: Math.max(0, held.ms - free.ms) / rows, rows, passedRows, scanMs: held.ms, freeScanMs: free.ms, scans };
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      holder.release();
    }
  });
}
