/**
 * One process of the switch probe (`switch-probe.ts`). It handles argv[2] units of work, each
 * a stand-in for handling one statement's reply in a worker: decode a 10-row JSON reply and
 * walk part of a longer-lived heap. Alone (argv[3] `alone`) it runs them back to back; in a
 * pair it blocks on its inbox FIFO (argv[4]) before each unit and writes one byte to its
 * partner's (argv[5]) after it, so the two take turns. It prints its CPU time per unit (µs).
 */
import { openSync, readSync, writeSync } from 'node:fs';

import type { SwitchProbeSample } from './switch-probe.js';

const units = Number(process.argv[2]);
const mode = process.argv[3];
const reply = JSON.stringify(Array.from({ length: 10 }, (_, i) => ({ id: i, payload: { n: i, at: new Date(0).toISOString(), note: 'x'.repeat(64) } })));
const heap = Array.from({ length: 20_000 }, (_, i) => ({ i, key: `k${i}` }));
let sink = 0;

function unit(k: number): void {
  for (const row of JSON.parse(reply) as Array<{ id: number; payload: { n: number } }>) sink += row.id + row.payload.n;
  for (let j = 0; j < 2000; j++) sink += heap[(k * 2000 + j) % heap.length].i;
}

// Warm up alone, so compilation is not counted.
for (let k = 0; k < 2000; k++) unit(k);
const byte = Buffer.alloc(1);
let cpu0 = process.cpuUsage();
if (mode === 'alone') {
  for (let k = 0; k < units; k++) unit(k);
} else {
  // Read-write opens do not wait for the other end.
  const inbox = openSync(process.argv[4], 'r+');
  const outbox = openSync(process.argv[5], 'r+');
  if (mode === 'first') writeSync(outbox, byte);
  // The first turn waits for the partner's start-up: not counted.
  readSync(inbox, byte, 0, 1, null);
  cpu0 = process.cpuUsage();
  for (let k = 0; k < units; k++) {
    unit(k);
    writeSync(outbox, byte);
    if (k < units - 1 || mode !== 'first') readSync(inbox, byte, 0, 1, null);
  }
}
const cpu = process.cpuUsage(cpu0);
// `sink` is printed so the work cannot be optimised away.
const sample: SwitchProbeSample = { cpuUsPerUnit: (cpu.user + cpu.system) / units, sink: sink % 2 };
process.stdout.write(`${JSON.stringify(sample)}\n`);
