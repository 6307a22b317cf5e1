/**
 * One worker process of the statement-CPU probe (`statement-cpu-probe.ts`): opens argv[3]
 * connections to argv[2] and, told by its parent over IPC, runs statement round trips on all
 * of them at once (each returns argv[4] rows with a JSON payload, as a claim does): a warm-up
 * of a count of statements per connection, or a timed run, after which it reports how many
 * statements it made and the CPU time it spent.
 */
import pg from 'pg';

import { Inbox, processCpuMs, sendToParent } from './ipc.js';
import type { ProbeCommand, ProbeReply } from './statement-cpu-probe.js';

const [url, connectionsArg, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const query = {
  name: 'fleetscale-statement-cpu-probe',
  text: `SELECT g AS id, jsonb_build_object('n', g, 'at', now()) AS payload FROM generate_series(1, $1::int) g`,
  values: [rows],
};
// A parent that goes away ends the probe as an 'end' would.
const commands = new Inbox<ProbeCommand>(process, 'disconnect', () => ({ kind: 'end' }));
const send = (reply: ProbeReply) => sendToParent(reply);

async function main(): Promise<void> {
  const clients = Array.from({ length: Number(connectionsArg) }, () => new pg.Client({ connectionString: url }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    await send({ kind: 'ready' });
    for (let command = await commands.next(); command.kind !== 'end'; command = await commands.next()) {
      if (command.kind === 'warm') {
        const { statements } = command;
        await Promise.all(
          clients.map(async (c) => {
            for (let i = 0; i < statements; i++) await c.query(query);
          }),
        );
        await send({ kind: 'warmed' });
      } else {
        const cpu0 = processCpuMs();
        const end = performance.now() + command.ms;
        let statements = 0;
        await Promise.all(
          clients.map(async (c) => {
            while (performance.now() < end) {
              await c.query(query);
              statements++;
            }
          }),
        );
        await send({ kind: 'ran', statements, cpuMs: processCpuMs() - cpu0 });
      }
    }
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}

main().then(
  () => process.exit(0),
  async (e: unknown) => {
    await send({ kind: 'error', message: e instanceof Error ? e.message : String(e) }).catch(() => {});
    process.exit(1);
  },
);
