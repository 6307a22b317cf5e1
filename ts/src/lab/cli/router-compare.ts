/** `fleetscale lab router compare`: the router's plans beside what FlockParser's rule table decides, simulated on the same nodes. */
import { routeArgs, routePlans, routeTable, ms, type NodeLine } from '../../cli/route.js';
import type { RoutePlan } from '../../router/plan-report.js';
import type { PlanMode } from '../../router/plan.js';
import { FlockRouter } from '../router/flock-router.js';
import { SimCluster } from '../router/simulate.js';

export const routerCompareUsage = `fleetscale lab router compare --nodes <spec> [--batch-sizes 10,50,100,200] [--mode auto|sequential|parallel] [--json]
  The adaptive router's plan for each batch size (as \`fleetscale route\` prints it) beside what
  the embedding tool's rule table (flockRules) decides and its time on the same nodes, simulated.
  example: fleetscale lab router compare --nodes gpu=100ms,cpu1=1s,cpu2=1s`;

/** A plan with the rule table's decision and simulated time beside it. */
export type ComparedPlan = RoutePlan & { flock: { reason: string; detail: string; simulatedMs: number } };

/** The plans, and the rule table's decision and simulated time per batch size. */
export async function compareRoutes(nodes: readonly NodeLine[], batchSizes: number[], mode: PlanMode): Promise<ComparedPlan[]> {
  const out: ComparedPlan[] = [];
  for (const plan of routePlans(nodes, batchSizes, mode)) {
    // The tool measures nodes as it goes: one parallel pass over three items per node first, then the batch.
    const sim = new SimCluster(nodes.map((n) => ({ ...n })));
    const flock = new FlockRouter({ nodes: sim.flockNodes(), clock: sim.clock });
    await sim.clock.run(
      flock.run(
        Array.from({ length: 3 * nodes.length }, (_, i) => i),
        'parallel',
      ),
    );
    const started = sim.clock.now();
    const { decision } = await sim.clock.run(flock.run(Array.from({ length: plan.items }, (_, i) => i)));
    out.push({ ...plan, flock: { reason: decision.reason, detail: decision.detail, simulatedMs: sim.clock.now() - started } });
  }
  return out;
}

export async function routerCompareCommand(argv: string[]): Promise<void> {
  const { args, nodes, batchSizes, mode } = routeArgs(argv);
  const report = await compareRoutes(nodes, batchSizes, mode);
  if (args.options.has('json')) return void process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(routeTable(report, { head: ['flockRules', 'flockRules time'], cells: (r) => [r.flock.reason, ms(r.flock.simulatedMs)] }));
}
