/**
 * One worker process of the claims harness (forked by `runClaims`): connects, says it is
 * ready, waits for the start signal with the run's shared clock origin, drains the queue, and
 * sends its report back over IPC. It keeps its connections until the harness releases it,
 * so the database's CPU is read while every backend of the run still exists.
 */
import pg from 'pg';

import type { WorkerMessage, WorkerTask } from './harness.js';
import { ClaimQueue } from './queue.js';
import { PerfWindows } from './windows.js';
import { ClaimWorker, spin } from './worker.js';

const send = (message: WorkerMessage) => new Promise<void>((resolve) => process.send!(message, () => resolve()));

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
    const go = new Promise<number>((resolve) => process.on('message', (m: { type?: string; start?: number }) => m.type === 'go' && resolve(m.start!)));
    await send({ type: 'ready' });
    const start = await go;
    const cpu0 = process.cpuUsage();
    let lastSent = 0;
    const worker = new ClaimWorker<{ i: number }, number>({
      queue,
      queueName: task.queueName,
      worker: task.worker,
      strategy: task.strategy,
      partition: task.index,
      batchSize: task.batchSize,
      concurrency: task.concurrency,
      flushSize: task.flushSize,
      flushMs: task.flushMs,
      leaseMs: task.leaseMs,
      idleMs: 5,
      untilEmpty: true,
      windows: new PerfWindows(start, task.windowMs),
      handler: (job) => {
        if (task.workMs > 0) spin(task.workMs);
        return job.payload.i;
      },
      onProgress: (completed) => {
        const now = performance.now();
        if (now - lastSent >= 100) {
          lastSent = now;
          process.send!({ type: 'progress', completed } satisfies WorkerMessage);
        }
      },
    });
    const report = await worker.run();
    const cpu = process.cpuUsage(cpu0);
    await send({ type: 'progress', completed: report.completed });
    await send({ type: 'done', report, cpuMs: (cpu.user + cpu.system) / 1000 });
    await released;
  } finally {
    await pool.end();
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
