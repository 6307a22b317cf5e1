/** `fleetscale lab autoscale replay`: every preset's decisions over a load trace, side by side. */
import { readFileSync, writeFileSync } from 'node:fs';

import { AUTOSCALE_PRESETS, createAutoscaler, type AutoscalePreset, type AutoscalerOptions } from '../../autoscale/autoscaler.js';
import { inputError } from '../../autoscale/errors.js';
import { PIPESTREAM_POOLS, type PipestreamPool } from '../../autoscale/pipestream.js';
import { replayPlot } from '../autoscale/plot.js';
import { simulateAutoscaler, type SimulationResult } from '../autoscale/simulate.js';
import { makeTrace, TRACE_SHAPES, traceOf, type LoadTrace, type TraceShape } from '../autoscale/traces.js';
import type { AutoscaleSample, AutoscaleTargets } from '../../autoscale/types.js';
import { listOption, numberOption, parseArgs, UsageError, type ParsedArgs } from '../../cli/args.js';

export const autoscaleUsage = `fleetscale lab autoscale replay <trace> [--preset hpa,pipestream,predictive] [--min 1] [--max 60]
    [--cpu 0.7] [--lag 50] [--p99-ms 2000] [--pool cpu] [--rate 50] [--cold-start-s 30]
    [--interval-s 15] [--slo-ms 2000] [--replicas N] [--seconds 7200] [--base 100] [--noise 0.1]
    [--seed 1] [--decisions 12] [--svg FILE] [--json]
  Replays a trace through each preset (all of them by default) and prints replica-hours,
  SLO-violation-seconds, direction reversals and wakes from zero, the first decisions with their
  reasons and the replicas over time; --svg draws them. <trace> is a shape (${TRACE_SHAPES.join(', ')}),
  run on the simulator (one replica finishes --rate items/s, serves --cold-start-s after it is
  asked for, decides every --interval-s); a file of arrival rates (items/s for each second: one
  number per line, or a JSON array), run the same way; or a .jsonl file of recorded samples
  ({ "now", "replicas", "metrics" } per line), whose decisions are printed as they would be made.`;

/** The presets' options from the command line, the same targets for every preset that takes them. */
function presetOptions(preset: AutoscalePreset, args: ParsedArgs, min: number): AutoscalerOptions {
  const max = numberOption(args, 'max', 60, { integer: true, min: 1 });
  const targets: AutoscaleTargets = {
    cpu: numberOption(args, 'cpu', 0.7, { min: 0 }),
    lag: numberOption(args, 'lag', 50, { min: 0 }),
    p99Ms: numberOption(args, 'p99-ms', 2000, { min: 0 }),
  };
  if (preset !== 'pipestream') return { preset, min, max, targets };
  const raw = args.options.get('pool');
  const pool = (raw === undefined ? (min === 0 ? 'gpu' : 'cpu') : raw) as PipestreamPool;
  if (typeof pool !== 'string' || !(pool in PIPESTREAM_POOLS)) throw new UsageError(`--pool must be one of ${Object.keys(PIPESTREAM_POOLS).join(', ')}, got ${String(raw)}`);
  return { preset, pool, max, ...(pool === 'gpu' ? {} : { min }) };
}

/** A trace given by shape or file: arrival rates, or recorded samples (.jsonl). */
function readTrace(source: string, args: ParsedArgs): { rates?: LoadTrace; samples?: AutoscaleSample[] } {
  if ((TRACE_SHAPES as readonly string[]).includes(source)) {
    return {
      rates: makeTrace(source as TraceShape, {
        seconds: numberOption(args, 'seconds', 7200, { integer: true, min: 1 }),
        base: numberOption(args, 'base', 100, { min: 0 }),
        noise: numberOption(args, 'noise', 0.1, { min: 0 }),
        seed: numberOption(args, 'seed', 1, { integer: true, min: 0 }),
      }),
    };
  }
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (e) {
    throw new UsageError(`<trace> is neither a shape (${TRACE_SHAPES.join(', ')}) nor a readable file: ${(e as Error).message}`);
  }
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  if (source.endsWith('.jsonl')) {
    return {
      samples: lines.map((line, k) => {
        try {
          return JSON.parse(line) as AutoscaleSample;
        } catch (e) {
          throw inputError(`${source} line ${k + 1} is not JSON: ${(e as Error).message}`);
        }
      }),
    };
  }
  let rates: unknown[];
  if (text.trim().startsWith('[')) {
    try {
      rates = JSON.parse(text) as unknown[];
    } catch (e) {
      throw inputError(`${source} is not a JSON array of rates: ${(e as Error).message}`);
    }
    if (!Array.isArray(rates)) throw inputError(`${source} is not a JSON array of rates`);
  } else {
    rates = lines.map((line) => (/^-?\d/.test(line) ? Number(line) : line));
  }
  return { rates: traceOf(source, rates) };
}

/** Replicas over time in one line of block characters, `width` wide. */
function sparkline(values: readonly number[], width: number, max: number): string {
  if (values.length === 0) return '';
  const blocks = ' ▁▂▃▄▅▆▇█';
  let out = '';
  for (let k = 0; k < width; k++) {
    const from = Math.floor((k * values.length) / width);
    const to = Math.max(from + 1, Math.floor(((k + 1) * values.length) / width));
    const v = Math.max(...values.slice(from, to));
    out += blocks[Math.min(8, Math.ceil((v / Math.max(1, max)) * 8))];
  }
  return out;
}

const hours = (seconds: number) => `${(seconds / 3600).toFixed(1)} h`;
const clock = (t: number) => `${String(Math.floor(t / 60)).padStart(4)}m${String(t % 60).padStart(2, '0')}s`;

export async function autoscaleCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'replay') throw new UsageError(sub === undefined ? 'autoscale needs a subcommand: replay' : `unknown subcommand "${sub}" (replay)`);
  const args = parseArgs(
    rest,
    ['json'],
    ['preset', 'min', 'max', 'cpu', 'lag', 'p99-ms', 'pool', 'rate', 'cold-start-s', 'interval-s', 'slo-ms', 'replicas', 'seconds', 'base', 'noise', 'seed', 'decisions', 'svg'],
  );
  if (args.positionals.length !== 1) throw new UsageError('replay takes one <trace>');
  const source = args.positionals[0];
  const presets = listOption(args, 'preset', AUTOSCALE_PRESETS, (p) => {
    if (!(AUTOSCALE_PRESETS as readonly string[]).includes(p)) throw new UsageError(`--preset items must be ${AUTOSCALE_PRESETS.join(', ')}, got ${p}`);
    return p as AutoscalePreset;
  });
  const min = numberOption(args, 'min', source === 'wake' ? 0 : 1, { integer: true, min: 0 });
  const shown = numberOption(args, 'decisions', 12, { integer: true, min: 0 });
  const trace = readTrace(source, args);

  if (trace.samples) {
    // Open loop: the recorded pool does not follow the decisions; each is what the preset says.
    const replays = presets.map((preset) => {
      const policy = createAutoscaler(presetOptions(preset, args, min));
      return { preset, decisions: trace.samples!.map((sample) => ({ now: sample.now, running: sample.replicas, ...policy.decide(sample) })) };
    });
    if (args.options.has('json')) {
      process.stdout.write(`${JSON.stringify({ trace: source, replays }, null, 2)}\n`);
      return;
    }
    for (const { preset, decisions } of replays) {
      const changes = decisions.filter((d) => d.replicas !== d.running);
      process.stdout.write(`${preset}: ${decisions.length} samples, ${changes.length} would change the replicas${changes.length > shown ? `; the first ${shown}` : ''}\n`);
      for (const d of changes.slice(0, shown)) process.stdout.write(`  now ${d.now}  ${String(d.running).padStart(3)} → ${String(d.replicas).padEnd(3)}  ${d.reason}\n`);
    }
    return;
  }

  const service = {
    perReplicaRate: numberOption(args, 'rate', 50, { min: Number.MIN_VALUE }),
    coldStartS: numberOption(args, 'cold-start-s', 30, { integer: true, min: 0 }),
    intervalS: numberOption(args, 'interval-s', 15, { integer: true, min: 1 }),
    sloMs: numberOption(args, 'slo-ms', 2000, { min: Number.MIN_VALUE }),
  };
  const mean = trace.rates!.rates.reduce((a, b) => a + b, 0) / trace.rates!.rates.length;
  const initialReplicas = numberOption(args, 'replicas', min === 0 ? 0 : Math.max(min, Math.ceil(mean / (service.perReplicaRate * 0.7))), { integer: true, min: 0 });
  const runs: Array<{ preset: AutoscalePreset; result: SimulationResult }> = presets.map((preset) => ({
    preset,
    result: simulateAutoscaler(createAutoscaler(presetOptions(preset, args, min)), trace.rates!, { ...service, initialReplicas }),
  }));
  const svg = args.options.get('svg');
  if (typeof svg === 'string') {
    const panels = runs.map(({ preset, result: r }) => ({
      name: preset,
      result: r,
      summary: `${hours(r.replicaSeconds)} of replicas, ${r.sloViolationSeconds} s over the SLO, ${r.reversals} reversals`,
    }));
    writeFileSync(
      svg,
      replayPlot(
        panels,
        service.perReplicaRate,
        `Autoscaler replay: ${trace.rates!.name}`,
        `one replica ${service.perReplicaRate} items/s, cold start ${service.coldStartS} s, decisions every ${service.intervalS} s, SLO ${service.sloMs} ms`,
      ),
    );
  }
  if (args.options.has('json')) {
    process.stdout.write(`${JSON.stringify({ trace: trace.rates!.name, seconds: trace.rates!.rates.length, service: { ...service, initialReplicas }, runs }, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `trace ${trace.rates!.name}: ${trace.rates!.rates.length} s, ${mean.toFixed(1)} items/s on average; one replica ${service.perReplicaRate}/s, cold start ${service.coldStartS} s, decisions every ${service.intervalS} s, SLO ${service.sloMs} ms, ${initialReplicas} replicas at the start\n\n`,
  );
  const header = ['preset', 'replica-hours', 'SLO-violation s', 'reversals', 'decisions', 'wake s (decision / ready)'];
  const rows = runs.map(({ preset, result: r }) => [
    preset,
    hours(r.replicaSeconds),
    String(r.sloViolationSeconds),
    String(r.reversals),
    String(r.decisions.length),
    r.wakes.length ? `${Math.max(...r.wakes.map((w) => w.decisionS))} / ${Math.max(...r.wakes.map((w) => w.readyS))}` : '—',
  ]);
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  for (const row of [header, ...rows]) process.stdout.write(`${row.map((c, k) => c.padEnd(widths[k])).join('  ')}\n`);
  const max = Math.max(1, ...runs.flatMap((r) => r.result.intervals.map((i) => i.replicas)));
  process.stdout.write(`\nreplicas over time (0 to ${max}):\n`);
  for (const { preset, result } of runs)
    process.stdout.write(
      `  ${preset.padEnd(11)}${sparkline(
        result.intervals.map((i) => i.replicas),
        72,
        max,
      )}\n`,
    );
  for (const { preset, result } of runs) {
    process.stdout.write(`\n${preset}: ${result.decisions.length} changes${result.decisions.length > shown ? `, the first ${shown}` : ''}\n`);
    for (const d of result.decisions.slice(0, shown)) process.stdout.write(`  ${clock(d.t)}  ${String(d.from).padStart(3)} → ${String(d.to).padEnd(3)}  ${d.reason}\n`);
  }
  if (typeof svg === 'string') process.stdout.write(`\nplot written to ${svg}\n`);
}
