// One worker process of a peer queue (graphile-worker or pg-boss), forked by run.mjs: it
// connects and says 'ready'; on 'go' it starts consuming, spinning each job's CPU time and
// reporting its completed count as it goes; on 'stop' it stops and reports its
// claim-to-complete latencies.
import pg from 'pg';

import { spin } from '../../dist/src/claims/worker.js';

const message = (type) =>
  new Promise((resolve) => {
    const on = (m) => {
      if (m.type !== type) return;
      process.off('message', on);
      resolve(m);
    };
    process.on('message', on);
  });

const task = await message('task');
const { system, url, schema, queue, workMs, concurrency, batchSize } = task;
let completed = 0;
const latencies = [];
let start;
let stop;

if (system === 'graphile-worker') {
  const { run, Logger } = await import('graphile-worker');
  const pgPool = new pg.Pool({ connectionString: url, max: concurrency + 2 });
  pgPool.on('error', (e) => process.send({ type: 'error', message: e.message }));
  await Promise.all(Array.from({ length: concurrency + 2 }, () => pgPool.query('SELECT 1')));
  start = async () => {
    const runner = await run({
      pgPool,
      schema,
      concurrency,
      noHandleSignals: true,
      // Silent: by default it logs a line per job, which would cost it its throughput here.
      logger: new Logger(() => () => {}),
      pollInterval: 1000,
      taskList: {
        [queue]: async () => {
          if (workMs > 0) spin(workMs);
        },
      },
      preset: {
        worker: {
          // graphile-worker's own throughput options (off by default): fetch jobs in batches
          // into a local queue, complete them in batches.
          localQueue: { size: batchSize },
          completeJobBatchDelay: 0,
          failJobBatchDelay: 0,
        },
      },
    });
    // Emitted when the job's completion is queued (written in a batch just after): its latency
    // here stops short of the write; run.mjs reads the run's end from the table.
    runner.events.on('job:complete', ({ job, error }) => {
      if (error) return;
      completed++;
      latencies.push(Date.now() - new Date(job.locked_at).getTime());
    });
    stop = async () => {
      await runner.stop();
      await pgPool.end();
    };
  };
} else if (system === 'pg-boss') {
  const { default: PgBoss } = await import('pg-boss');
  const boss = new PgBoss({ connectionString: url, schema, max: concurrency + 2, supervise: false, schedule: false, migrate: false });
  boss.on('error', (e) => process.send({ type: 'error', message: e.message }));
  await boss.start();
  start = async () => {
    for (let c = 0; c < concurrency; c++) {
      await boss.work(queue, { batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
        for (let i = 0; i < jobs.length; i++) if (workMs > 0) spin(workMs);
        // pg-boss completes the batch after this resolves; run.mjs reads completion from its table.
        completed += jobs.length;
      });
    }
    stop = () => boss.stop({ graceful: true, wait: true, timeout: 5000 });
  };
} else {
  throw new Error(`unknown system ${system}`);
}

process.send({ type: 'ready' });
await message('go');
const timer = setInterval(() => process.send({ type: 'progress', completed }), 50);
await start();
await message('stop');
clearInterval(timer);
await stop();
process.send({ type: 'done', completed, latencies });
process.disconnect();
