/** `fleetscale route`: the adaptive router's plan for given nodes and batch sizes, next to the embedding tool's rules. */
import { readFileSync } from 'node:fs';

import { FlockRouter } from '../router/flock-router.js';
import { explainPlans, type RoutePlan } from '../router/plan-report.js';
import type { PlanMode } from '../router/plan.js';
import { SimCluster, checkSimNodes, costsOf, type SimNodeSpec } from '../router/simulate.js';
import { intItem, listOption, parseArgs, UsageError } from './args.js';

export const routeUsage = `fleetscale route --nodes <spec> [--batch-sizes 10,50,100,200] [--mode auto|sequential|parallel] [--json]
  Prints the adaptive router's plan for each batch size: the nodes used and their items, the
  predicted finish time against the best single node and an equal split, and what the embedding
  tool's rule table (flockRules) decides, with its time on the same nodes (simulated).
  <spec> is a comma-separated list of id=perItem[+overhead] with ms or s units
  (gpu=100ms+20ms,cpu1=1s,cpu2=1s), or a JSON file of [{ "id", "perItemMs", "overheadMs" }].`;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s)?$/;

function duration(text: string, what: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new UsageError(`${what} must be a duration like 120ms or 1.5s, got "${text}"`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

/** Parses `id=perItem[+overhead],...` or reads a JSON file of node specs. */
export function parseNodeSpec(spec: string): SimNodeSpec[] {
  let nodes: unknown;
  if (spec.trim().endsWith('.json')) {
    try {
      nodes = JSON.parse(readFileSync(spec, 'utf8'));
    } catch (error) {
      throw new UsageError(`--nodes ${spec}: ${(error as Error).message}`);
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
  for (const n of nodes as SimNodeSpec[]) {
    if (typeof n?.id !== 'string' || n.id.length === 0) throw new UsageError('--nodes: every node needs an id');
    if (ids.has(n.id)) throw new UsageError(`--nodes: node id "${n.id}" appears twice`);
    ids.add(n.id);
  }
  return checkSimNodes((nodes as SimNodeSpec[]).map((n) => ({ ...n, overheadMs: n.overheadMs ?? 0 })));
}

/** The plans, and the rule table's decision and simulated time per batch size. */
export async function routeReport(nodes: SimNodeSpec[], batchSizes: number[], mode: PlanMode): Promise<(RoutePlan & { flock: { reason: string; detail: string; simulatedMs: number } })[]> {
  const plans = explainPlans(
    costsOf(nodes).map((cost, i) => ({ id: nodes[i]!.id!, cost, known: true })),
    batchSizes,
    mode,
  );
  const out = [];
  for (const plan of plans) {
    // The tool measures nodes as it goes: one parallel pass over three items per node first, then the batch.
    const sim = new SimCluster(nodes);
    const flock = new FlockRouter({ nodes: sim.flockNodes(), clock: sim.clock });
    await sim.clock.run(flock.run(Array.from({ length: 3 * nodes.length }, (_, i) => i), 'parallel'));
    const started = sim.clock.now();
    const { decision } = await sim.clock.run(flock.run(Array.from({ length: plan.items }, (_, i) => i)));
    out.push({ ...plan, flock: { reason: decision.reason, detail: decision.detail, simulatedMs: sim.clock.now() - started } });
  }
  return out;
}

const ms = (v: number): string => (v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(v < 10 ? 2 : 0)} ms`);

export async function routeCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['json'], ['nodes', 'batch-sizes', 'mode']);
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
  const spec = args.options.get('nodes');
  if (typeof spec !== 'string') throw new UsageError('--nodes is required');
  const mode = (args.options.get('mode') ?? 'auto') as PlanMode;
  if (mode !== 'auto' && mode !== 'sequential' && mode !== 'parallel') throw new UsageError(`--mode must be auto, sequential or parallel, got ${String(mode)}`);
  const nodes = parseNodeSpec(spec);
  const batchSizes = listOption(args, 'batch-sizes', [10, 50, 100, 200], intItem('batch-sizes', 1));
  const report = await routeReport(nodes, batchSizes, mode);
  if (args.options.has('json')) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const lines = ['| items | plan | nodes (items) | predicted | one node | equal split | flockRules | flockRules time |', '|---|---|---|---|---|---|---|---|'];
  for (const r of report) {
    lines.push(
      `| ${r.items} | ${r.mode} | ${r.nodes.map((n) => `${n.id} ${n.items}`).join(', ')} | ${ms(r.predictedMs)} | ${ms(r.oneNodeMs)} (${r.oneNode}) | ${ms(r.equalSplitMs)} | ${r.flock.reason} | ${ms(r.flock.simulatedMs)} |`,
    );
  }
  lines.push('');
  for (const r of report) lines.push(`${r.items} items: ${r.reason}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
