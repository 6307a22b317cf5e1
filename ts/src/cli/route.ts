/** `fleetscale route`: the adaptive router's plan for given nodes and batch sizes. */
import { readFileSync } from 'node:fs';

import { routerNumber } from '../router/errors.js';
import { explainPlans, type RoutePlan } from '../router/plan-report.js';
import type { PlanMode } from '../router/plan.js';
import { intItem, listOption, parseArgs, UsageError, type ParsedArgs } from './args.js';

export const routeUsage = `fleetscale route --nodes <spec> [--batch-sizes 10,50,100,200] [--mode auto|sequential|parallel] [--json]
  Prints the adaptive router's plan for each batch size: the nodes used and their items, and
  the predicted finish time against the best single node and an equal split.
  <spec> is a comma-separated list of id=perItem[+overhead] with ms or s units
  (gpu=100ms+20ms,cpu1=1s,cpu2=1s), or a JSON file of [{ "id", "perItemMs", "overheadMs" }].
  example: fleetscale route --nodes gpu=100ms,cpu1=1s,cpu2=1s --batch-sizes 10,100`;

/** A node as the command line describes it: its id and its cost line. */
export type NodeLine = { id: string; perItemMs: number; overheadMs: number };

const DURATION = /^(\d+(?:\.\d+)?)(ms|s)?$/;

function duration(text: string, what: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new UsageError(`${what} must be a duration like 120ms or 1.5s, got "${text}"`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

/** Parses `id=perItem[+overhead],...` or reads a JSON file of node specs. */
export function parseNodeSpec(spec: string): NodeLine[] {
  let nodes: unknown;
  if (spec.trim().endsWith('.json')) {
    try {
      nodes = JSON.parse(readFileSync(spec, 'utf8'));
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new UsageError(code === 'ENOENT' ? `--nodes ${spec}: no such file` : `--nodes ${spec}: ${(error as Error).message}`);
    }
  } else {
    nodes = spec
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.length > 0)
      .map((part) => {
        const [id, cost, ...rest] = part.split('=');
        if (!id || cost === undefined || rest.length > 0) throw new UsageError(`--nodes entries look like gpu=100ms+20ms, got "${part}"`);
        const [perItem, overhead, ...more] = cost.split('+');
        if (more.length > 0) throw new UsageError(`--nodes entries look like gpu=100ms+20ms, got "${part}"`);
        return { id, perItemMs: duration(perItem!, `${id}'s time per item`), overheadMs: overhead === undefined ? 0 : duration(overhead, `${id}'s overhead`) };
      });
  }
  if (!Array.isArray(nodes) || nodes.length === 0) throw new UsageError('--nodes needs at least one node');
  const ids = new Set<string>();
  return (nodes as Partial<NodeLine>[]).map((n) => {
    if (typeof n?.id !== 'string' || n.id.length === 0) throw new UsageError('--nodes: every node needs an id');
    if (ids.has(n.id)) throw new UsageError(`--nodes: node id "${n.id}" appears twice`);
    ids.add(n.id);
    try {
      return {
        id: n.id,
        perItemMs: routerNumber(`${n.id}'s perItemMs`, n.perItemMs, 1e-6),
        overheadMs: routerNumber(`${n.id}'s overheadMs`, n.overheadMs ?? 0, 0),
      };
    } catch (error) {
      throw new UsageError(`--nodes: ${(error as Error).message}`);
    }
  });
}

/** The router's plan for each batch size, with known speeds. */
export function routePlans(nodes: readonly NodeLine[], batchSizes: number[], mode: PlanMode): RoutePlan[] {
  return explainPlans(
    nodes.map((n) => ({ id: n.id, cost: { perItemMs: n.perItemMs, overheadMs: n.overheadMs }, known: true })),
    batchSizes,
    mode,
  );
}

/** The options `route` and `lab router compare` share. */
export function routeArgs(argv: string[]): { args: ParsedArgs; nodes: NodeLine[]; batchSizes: number[]; mode: PlanMode } {
  const args = parseArgs(argv, ['json'], ['nodes', 'batch-sizes', 'mode']);
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
  const spec = args.options.get('nodes');
  if (typeof spec !== 'string') throw new UsageError('--nodes is required');
  const mode = (args.options.get('mode') ?? 'auto') as PlanMode;
  if (mode !== 'auto' && mode !== 'sequential' && mode !== 'parallel') throw new UsageError(`--mode must be auto, sequential or parallel, got ${String(mode)}`);
  return { args, nodes: parseNodeSpec(spec), batchSizes: listOption(args, 'batch-sizes', [10, 50, 100, 200], intItem('batch-sizes', 1)), mode };
}

/** A route report as a markdown table, `extra` adding columns, then each plan's reason. */
export function routeTable<P extends RoutePlan>(report: readonly P[], extra: { head: string[]; cells: (plan: P) => string[] } = { head: [], cells: () => [] }): string {
  const head = ['items', 'plan', 'nodes (items)', 'predicted', 'one node', 'equal split', ...extra.head];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---|').join('')}`];
  for (const r of report) {
    const cells = [
      String(r.items),
      r.mode,
      r.nodes.map((n) => `${n.id} ${n.items}`).join(', '),
      ms(r.predictedMs),
      `${ms(r.oneNodeMs)} (${r.oneNode})`,
      ms(r.equalSplitMs),
      ...extra.cells(r),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('');
  for (const r of report) lines.push(`${r.items} items: ${r.reason}`);
  return `${lines.join('\n')}\n`;
}

export const ms = (v: number): string => (v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(v < 10 ? 2 : 0)} ms`);

export async function routeCommand(argv: string[]): Promise<void> {
  const { args, nodes, batchSizes, mode } = routeArgs(argv);
  const report = routePlans(nodes, batchSizes, mode);
  process.stdout.write(args.options.has('json') ? `${JSON.stringify(report, null, 2)}\n` : routeTable(report));
}
