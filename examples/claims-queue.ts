import { ClaimQueue, ClaimWorker } from 'fleetscale/claims';

// Any PostgreSQL database; the queue creates (or migrates) its own schema in it.
const queue = await ClaimQueue.open({ connectionString: process.env.FLEETSCALE_PG_URL, schema: 'fleetscale_example' });
await queue.enqueue(
  'squares',
  [1, 2, 3, 4, 5].map((n) => ({ n })),
  { maxAttempts: 3 },
);

// A worker needs a queue and a handler; strategy, batch size and name have defaults.
const worker = new ClaimWorker<{ n: number }, number>({
  queue,
  queueName: 'squares',
  handler: (job) => job.payload.n * job.payload.n, // the return value is stored as the result
  untilEmpty: true, // without it, run() keeps claiming until worker.stop()
});
const report = await worker.run();

const results = (await queue.results('squares')).map((r) => r.result as number).sort((a, b) => a - b);
console.log(`${report.completed} jobs done: ${results.join(', ')}`);
await queue.purge('squares');
await queue.close();
