// What a synced log write costs on this disk, appended (the file grows with each write) or
// written into space zero-filled beforehand (what the embedded store's write-ahead log does):
// groups of 26 KB (about 24 batches of 5 observations) written with O_DSYNC, 2 ms apart (the
// log's default spacing), for a few seconds each, the two ways taking turns.
//
//   npm run bench:wal-writes            writes bench/results/hub-wal-writes.json
//   npm run bench:wal-writes -- --quick
import { closeSync, constants, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { machine, median, percentile } from '../lib.mjs';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;
const SECONDS = quick ? 2 : 5;
const GROUP_BYTES = 26 * 1024;
const SPACING_MS = 2;
const ZERO_FILL_BYTES = 96 * 1024 * 1024;

const dir = mkdtempSync(join(os.tmpdir(), 'fleetscale-bench-wal-'));

/** One run: synced writes of a group every SPACING_MS for SECONDS; their latencies in ms. */
function run(mode) {
  const path = join(dir, `${mode}.log`);
  if (mode === 'zero-filled') {
    const fd = openSync(path, 'w');
    const zeros = Buffer.alloc(1024 * 1024);
    for (let at = 0; at < ZERO_FILL_BYTES; at += zeros.length) writeSync(fd, zeros);
    fsyncSync(fd);
    closeSync(fd);
  }
  const append = mode === 'append';
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_DSYNC | (append ? constants.O_APPEND : 0));
  const group = Buffer.alloc(GROUP_BYTES, 0x61);
  const times = [];
  let offset = 0;
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end && offset + GROUP_BYTES <= ZERO_FILL_BYTES) {
    const started = performance.now();
    writeSync(fd, group, 0, GROUP_BYTES, append ? null : offset);
    times.push(performance.now() - started);
    offset += GROUP_BYTES;
    // Spaced like the log's writes (a busy wait: a timer here would add its own jitter).
    while (performance.now() < started + SPACING_MS);
  }
  closeSync(fd);
  rmSync(path);
  times.sort((a, b) => a - b);
  return { writes: times.length, p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99), p999Ms: percentile(times, 0.999), maxMs: times.at(-1) };
}

const runs = { append: [], 'zero-filled': [] };
try {
  for (let k = 0; k < ROUNDS; k++) for (const mode of Object.keys(runs)) runs[mode].push(run(mode));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const rows = Object.entries(runs).map(([mode, list]) => ({
  mode,
  groupBytes: GROUP_BYTES,
  spacingMs: SPACING_MS,
  writes: list.reduce((n, r) => n + r.writes, 0),
  p50Ms: median(list.map((r) => r.p50Ms)),
  p99Ms: median(list.map((r) => r.p99Ms)),
  p999Ms: median(list.map((r) => r.p999Ms)),
  maxMs: Math.max(...list.map((r) => r.maxMs)),
  runs: list.length,
}));
mkdirSync(new URL('../results', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/hub-wal-writes.json', import.meta.url), `${JSON.stringify({ suite: 'hub-wal-writes', machine: machine(), rows }, null, 2)}\n`);
console.table(
  rows.map((r) => ({ mode: r.mode, writes: r.writes, 'p50 ms': r.p50Ms.toFixed(3), 'p99 ms': r.p99Ms.toFixed(3), 'p99.9 ms': r.p999Ms.toFixed(3), 'max ms': r.maxMs.toFixed(2) })),
);
