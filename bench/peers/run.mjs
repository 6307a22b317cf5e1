// Peer comparison: fleetscale vs Splink 5 (DuckDB 1.5) on the same generated records, with
// equivalent blocking (|Δt| ≤ 10 s, distance ≤ 250 m, different nodes) and the generator's
// true m/u values (fleetscale's sensor preset, no training on either side).
//
//   bash bench/peers/setup.sh        once: Python venv with Splink and DuckDB
//   node bench/peers/run.mjs [--big] 10k and 100k records (--big adds 1M)
//
// Writes bench/results/peers-splink.json and prints a table. Not part of `npm test`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

import { evaluate, fuse, fuseColumns, fuseSync, generateFleetColumns, sensorPreset } from '../../dist/src/fusion/index.js';
import { median } from '../lib.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const python = `${here}.venv/bin/python`;
const data = `${here}data/`;
mkdirSync(data, { recursive: true });

const sizes = [2000, 20_000, ...(process.argv.includes('--big') ? [200_000] : [])];

function writeCsv(path, columns) {
  const { ids, node, nodeNames, cls, classNames, t, lat, lon } = columns;
  let lat0 = Infinity;
  let lon0 = Infinity;
  for (let i = 0; i < lat.length; i++) {
    lat0 = Math.min(lat0, lat[i]);
    lon0 = Math.min(lon0, lon[i]);
  }
  const perDegree = 111_195.08;
  const cos0 = Math.cos((lat0 * Math.PI) / 180);
  const lines = ['id,node,cls,t,lat,lon,x,y'];
  for (let i = 0; i < ids.length; i++) {
    const x = (lon[i] - lon0) * perDegree * cos0;
    const y = (lat[i] - lat0) * perDegree;
    lines.push(`${ids[i]},${nodeNames[node[i]]},${classNames[cls[i]]},${t[i]},${lat[i]},${lon[i]},${x},${y}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

const presetPath = `${data}preset.json`;
writeFileSync(presetPath, JSON.stringify(sensorPreset()));
const rows = [];
for (const nodes of sizes) {
  const records = nodes * 5;
  process.stderr.write(`${records} records …\n`);
  const { columns, truth } = generateFleetColumns({ nodes, obsPerNode: 5, seed: 42 });
  const truthById = Object.fromEntries(columns.ids.map((id, i) => [id, truth[i] < 0 ? null : `e${truth[i]}`]));
  const csv = `${data}fleet-${records}.csv`;
  writeCsv(csv, columns);

  // fleetscale, from columns in memory to fused events: as event objects (fuseSync / fuse)
  // and as columns (fuseColumns). Two warm-up runs each, then the median.
  const runs = records <= 100_000 ? 9 : 5;
  const times = [];
  const bulkTimes = [];
  let result;
  for (let i = 0; i < runs + 2; i++) {
    let t0 = performance.now();
    result = records <= 100_000 ? fuseSync(columns) : await fuse(columns);
    if (i >= 2) times.push(performance.now() - t0);
    t0 = performance.now();
    await fuseColumns(columns);
    if (i >= 2) bulkTimes.push(performance.now() - t0);
  }
  const ours = evaluate(result, truthById);

  // Splink, from a DataFrame in memory to clusters (its own timer; Python start and CSV
  // reading excluded).
  const splinkRuns = records <= 100_000 ? 3 : 1;
  const splinkSeconds = [];
  let splinkOut;
  for (let i = 0; i < splinkRuns; i++) {
    const out = execFileSync(python, [`${here}splink_run.py`, csv, `${data}clusters-${records}.json`, presetPath], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    splinkOut = JSON.parse(out.trim().split('\n').pop());
    splinkSeconds.push(splinkOut.seconds);
  }
  const mapping = JSON.parse(readFileSync(`${data}clusters-${records}.json`, 'utf8'));
  const groups = new Map();
  for (const id of columns.ids) {
    const c = mapping[id] ?? `single-${id}`;
    if (!groups.has(c)) groups.set(c, []);
    groups.get(c).push(id);
  }
  const splinkResult = {
    events: [...groups.values()].map((members, id) => ({ id, members, nodes: [], cls: '', t: 0, lat: 0, lon: 0, score: 0 })),
    stats: result.stats,
  };
  const theirs = evaluate(splinkResult, truthById);
  const fleetscaleMs = median(times);
  const bulkMs = median(bulkTimes);
  const splinkMs = median(splinkSeconds) * 1000;
  rows.push({
    records,
    fleetscaleMedianMs: fleetscaleMs,
    fleetscaleColumnsMedianMs: bulkMs,
    splinkMedianMs: splinkMs,
    speedRatio: splinkMs / fleetscaleMs,
    speedRatioColumns: splinkMs / bulkMs,
    fleetscale: { f1: ours.f1, bcubedF1: ours.bcubedF1, precision: ours.precision, recall: ours.recall },
    splink: { f1: theirs.f1, bcubedF1: theirs.bcubedF1, precision: theirs.precision, recall: theirs.recall, acceptedPairs: splinkOut.acceptedPairs },
    fleetscaleMatched: result.stats.matched,
  });
}

const versions = execFileSync(python, ['-c', 'import splink, duckdb; print(splink.__version__, duckdb.__version__)'], { encoding: 'utf8' }).trim().split(' ');
const machine = { cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), node: process.version, splink: versions[0], duckdb: versions[1], date: new Date().toISOString() };
mkdirSync(new URL('../results', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/peers-splink.json', import.meta.url), `${JSON.stringify({ suite: 'peers-splink', machine, rows }, null, 2)}\n`);
console.log(`\npeers — fleetscale vs Splink ${machine.splink} (DuckDB ${machine.duckdb}), ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\n`);
console.log(
  '| records | fleetscale, event objects: median ms | fleetscale, fuseColumns: median ms | Splink median ms | Splink ÷ fleetscale (objects / columns) | fleetscale F1 (B-cubed) | Splink F1 (B-cubed) |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.records} | ${r.fleetscaleMedianMs.toFixed(1)} | ${r.fleetscaleColumnsMedianMs.toFixed(1)} | ${r.splinkMedianMs.toFixed(0)} | ${r.speedRatio.toFixed(1)}× / ${r.speedRatioColumns.toFixed(1)}× | ${r.fleetscale.f1.toFixed(4)} (${r.fleetscale.bcubedF1.toFixed(4)}) | ${r.splink.f1.toFixed(4)} (${r.splink.bcubedF1.toFixed(4)}) |`,
  );
}
