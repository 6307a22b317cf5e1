/** `fleetscale fuse`: JSONL records in, fused events as JSONL out, summary on stderr. */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';

import { fusionError } from '../fusion/errors.js';
import { fuse } from '../fusion/fuse.js';
import { sensorPreset } from '../fusion/preset.js';
import type { FusionConfig } from '../fusion/types.js';
import { numberOption, parseArgs } from './args.js';
import { ProgressBar } from './progress.js';

export const fuseUsage = `fleetscale fuse [FILE|-] [--config FILE] [--window-ms MS] [--radius-m M] [--out FILE]
  Reads JSONL records (stdin when FILE is - or absent), writes one fused event per line,
  prints a summary and timings on stderr. --config takes a FusionConfig JSON file
  (default: the sensor preset with --window-ms and --radius-m).`;

/** Reads JSONL into objects; a bad line is an ERR_FUSION_INPUT naming its line. */
async function readJsonl(path: string | undefined): Promise<unknown[]> {
  const fromStdin = path === undefined || path === '-';
  const total = fromStdin ? 0 : statSync(path).size;
  const stream = fromStdin ? process.stdin : createReadStream(path);
  const bar = new ProgressBar('reading', total);
  const records: unknown[] = [];
  let rest = '';
  let line = 0;
  let read = 0;
  const take = (text: string): void => {
    line++;
    if (text.trim() === '') return;
    try {
      records.push(JSON.parse(text));
    } catch (e) {
      throw fusionError('ERR_FUSION_INPUT', `line ${line}: not JSON (${(e as Error).message})`);
    }
  };
  stream.setEncoding('utf8');
  for await (const chunk of stream as AsyncIterable<string>) {
    read += Buffer.byteLength(chunk);
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) take(l);
    if (total > 1 << 20) bar.update(read);
  }
  if (rest !== '') take(rest);
  bar.done();
  return records;
}

export async function fuseCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, [], ['config', 'window-ms', 'radius-m', 'out']);
  const configPath = args.options.get('config');
  const config: FusionConfig =
    typeof configPath === 'string'
      ? (JSON.parse(await readFile(configPath, 'utf8')) as FusionConfig)
      : sensorPreset({
          timeWindowMs: numberOption(args, 'window-ms', 10_000),
          radiusM: numberOption(args, 'radius-m', 250),
        });
  const started = performance.now();
  const records = await readJsonl(args.positionals[0]);
  const readMs = performance.now() - started;
  const result = await fuse(records as never, config);
  const out = args.options.get('out');
  const stream = typeof out === 'string' ? createWriteStream(out) : process.stdout;
  let chunk = '';
  for (const event of result.events) {
    chunk += `${JSON.stringify(event)}\n`;
    if (chunk.length > 1 << 16) {
      if (!stream.write(chunk)) await once(stream, 'drain');
      chunk = '';
    }
  }
  stream.write(chunk);
  if (stream !== process.stdout) {
    stream.end();
    await once(stream, 'finish');
  }
  const s = result.stats;
  const multi = result.events.filter((e) => e.members.length > 1).length;
  const timings = Object.entries({ read: readMs, ...s.timingsMs })
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
  process.stderr.write(
    `fused ${s.records} records into ${result.events.length} events (${multi} seen by several nodes)\n` +
      `blocks ${s.blocks}, largest ${s.largestBlock}, candidates ${s.candidates}, matched ${s.matched}\n` +
      `timings ms: ${timings}\n`,
  );
}
