/**
 * One worker process of the statement-CPU probe (`statement-cpu-probe.ts`): opens argv[3]
 * connections to argv[2] and, told by its parent over IPC, runs statement round trips on all
 * of them at once (each returns argv[4] rows with a JSON payload, as a claim does): a warm-up
 * of a count of statements per connection, or a timed run, after which it reports how many
 * statements it made and the CPU time it spent.
 */
import pg from 'pg';

import type { ProbeCommand, ProbeReply } from './statement-cpu-probe.js';

const [url, connectionsArg, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const query = { name: 'fleetscale-statement-cpu-probe', text: `SELECT g AS id, jsonb_build_object('n', g, 'at', now()) AS payload FROM generate_series(1, $1::int) g`, values: [rows] };

const send = (reply: ProbeReply) => new Promise<void>((resolve) => process.send!(reply, () => resolve()));
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function main(): Promise<void> {
  const clients = Array.from({ length: Number(connectionsArg) }, () => new pg.Client({ connectionString: url }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    await send({ kind: 'ready' });
    for await (const command of commands()) {
      if (command.kind === 'end') break;
      if (command.kind === 'warm') {
        await Promise.all(clients.map(async (c) => {
          for (let i = 0; i < command.statements; i++) await c.query(query);
        }));
        await send({ kind: 'warmed' });
      } else {
        const cpu0 = cpuMs();
        const end = performance.now() + command.ms;
        let statements = 0;
        await Promise.all(clients.map(async (c) => {
          while (performance.now() < end) {
            await c.query(query);
            statements++;
          }
        }));
        await send({ kind: 'ran', statements, cpuMs: cpuMs() - cpu0 });
      }
    }
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}

/** The parent's commands, one at a time. */
async function* commands(): AsyncGenerator<ProbeCommand> {
  const queue: ProbeCommand[] = [];
  let wake: (() => void) | undefined;
  process.on('message', (m) => {
    queue.push(m as ProbeCommand);
    wake?.();
  });
  process.once('disconnect', () => {
    queue.push({ kind: 'end' });
    wake?.();
  });
  for (;;) {
    while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    yield queue.shift()!;
  }
}

main().then(
  () => process.exit(0),
  async (e: unknown) => {
    await send({ kind: 'error', message: e instanceof Error ? e.message : String(e) }).catch(() => {});
    process.exit(1);
  },
);
