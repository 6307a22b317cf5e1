/**
 * One worker process of the claims harness (forked by `runClaims`): connects, warms up on a
 * queue of its own when asked, says it is ready, waits for the start signal with the run's
 * shared clock origin, drains the queue, and sends its report back over IPC. It keeps its
 * connections until the harness releases it, so the database's CPU is read while every
 * backend of the run still exists.
 */
import pg from 'pg';

import { HARNESS_IDLE_MS, type WorkerMessage, type WorkerTask } from './harness.js';
import { mainThreadCpuMs, processCpuMs, processSwitches, sendToParent, switchesSpent } from './ipc.js';
import { ClaimQueue } from '../../claims/queue.js';
import { PerfWindows } from '../../claims/windows.js';
import { ClaimWorker, spin } from '../../claims/worker.js';

const send = (message: WorkerMessage) => sendToParent(message);

async function main(task: WorkerTask): Promise<void> {
  // Idle connections are never closed during the run: a backend that exits takes its CPU time
  // out of the database's total.
  const pool = new pg.Pool({ connectionString: task.url, max: task.poolSize, idleTimeoutMillis: 0 });
  const released = new Promise<void>((resolve) => {
    process.on('message', (m: { type?: string }) => m.type === 'release' && resolve());
    process.once('disconnect', resolve);
  });
  try {
    const queue = await ClaimQueue.open({ pool, schema: task.schema });
    // Open the pool's connections before the clock starts.
    await Promise.all(Array.from({ length: Math.min(task.poolSize, task.concurrency + 2) }, () => queue.pool.query('SELECT 1')));
    if (task.warmupJobs > 0) await warmUp(queue, task);
    const go = new Promise<number>((resolve) => process.on('message', (m: { type?: string; start?: number }) => m.type === 'go' && resolve(m.start!)));
    await send({ type: 'ready' });
    const start = await go;
    const cpu0 = processCpuMs();
    const loop0 = mainThreadCpuMs();
    const switches0 = processSwitches();
    let lastSent = 0;
    const report = await workerOn(queue, task, task.queueName, new PerfWindows(start, task.windowMs), (completed) => {
      const now = performance.now();
      if (now - lastSent >= 100) {
        lastSent = now;
        process.send!({ type: 'progress', completed } satisfies WorkerMessage);
      }
    }).run();
    const cpuMs = processCpuMs() - cpu0;
    const loop1 = mainThreadCpuMs();
    const loopCpuMs = loop0 === undefined || loop1 === undefined ? null : loop1 - loop0;
    const switches = switchesSpent(switches0, processSwitches());
    await send({ type: 'progress', completed: report.completed });
    await send({ type: 'done', report, cpuMs, loopCpuMs, switches });
    await released;
  } finally {
    await pool.end();
  }
}

/** The run's worker, on `queueName`: the task's settings, its partition, drained to empty. */
function workerOn(queue: ClaimQueue, task: WorkerTask, queueName: string, windows: PerfWindows, onProgress?: (completed: number) => void) {
  return new ClaimWorker<{ i: number }, number>({
    queue,
    queueName,
    worker: task.worker,
    strategy: task.strategy,
    partition: task.index,
    batchSize: task.batchSize,
    concurrency: task.concurrency,
    flushSize: task.flushSize,
    flushMs: task.flushMs,
    leaseMs: task.leaseMs,
    idleMs: HARNESS_IDLE_MS,
    untilEmpty: true,
    windows,
    handler: (job) => {
      if (task.workMs > 0) spin(task.workMs);
      return job.payload.i;
    },
    onProgress,
  });
}

/**
 * Runs `warmupJobs` jobs through the same code, statements and connections as the run, on a
 * queue of this worker's own (spread over the run's partitions, so a partitioned worker also
 * steals), then deletes them. The harness vacuums their dead rows before the clock starts.
 */
async function warmUp(queue: ClaimQueue, task: WorkerTask): Promise<void> {
  const name = `${task.queueName}-warmup-${task.index}`;
  await queue.enqueue(
    name,
    Array.from({ length: task.warmupJobs }, (_, i) => ({ i })),
    { partitions: task.workers },
  );
  try {
    await workerOn(queue, task, name, new PerfWindows(Date.now(), task.windowMs)).run();
  } finally {
    await queue.purge(name);
  }
}

process.once('message', (task: WorkerTask) => {
  main(task).then(
    () => process.disconnect(),
    async (e: Error & { code?: string }) => {
      await send({ type: 'error', code: e.code, message: e.message });
      process.exit(1);
    },
  );
});
