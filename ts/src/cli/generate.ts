/** `fleetscale generate`: a seeded fleet as JSONL records. */
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { once } from 'node:events';

import { generateFleet } from '../fusion/generate.js';
import { numberOption, parseArgs } from './args.js';
import { ProgressBar } from './progress.js';

export const generateUsage = `fleetscale generate --nodes N --obs-per-node K --seed S [--noise X] [--edge-stress] [--out FILE] [--truth FILE]
  Writes a generated fleet as JSONL records (stdout unless --out); --truth writes record id -> event id as JSON.`;

export async function generateCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['edge-stress'], ['nodes', 'obs-per-node', 'seed', 'noise', 'out', 'truth']);
  const nodes = numberOption(args, 'nodes', 100, { integer: true, min: 1 });
  const obsPerNode = numberOption(args, 'obs-per-node', 5, { integer: true, min: 1 });
  const seed = numberOption(args, 'seed', 1, { integer: true, min: 0 });
  const noise = numberOption(args, 'noise', 1, { min: 0 });
  const fleet = generateFleet({ nodes, obsPerNode, seed, noise, edgeStress: args.options.has('edge-stress') });
  const out = args.options.get('out');
  const stream = typeof out === 'string' ? createWriteStream(out) : process.stdout;
  const bar = new ProgressBar('writing', fleet.records.length);
  let chunk = '';
  for (let i = 0; i < fleet.records.length; i++) {
    chunk += `${JSON.stringify(fleet.records[i])}\n`;
    if (chunk.length > 1 << 16) {
      if (!stream.write(chunk)) await once(stream, 'drain');
      chunk = '';
      bar.update(i);
    }
  }
  stream.write(chunk);
  bar.done();
  if (stream !== process.stdout) {
    stream.end();
    await once(stream, 'finish');
  }
  const truth = args.options.get('truth');
  if (typeof truth === 'string') await writeFile(truth, JSON.stringify(fleet.truth));
  process.stderr.write(`generated ${fleet.records.length} records from ${nodes} nodes (seed ${seed})\n`);
}
