/** Explaining a plan: which nodes, how many items each, and what one node or an equal split would take. */
import { routerError, routerInt } from './errors.js';
import { describe } from './nodes.js';
import { equalSplitMs, expectedFinishMs, planSplit, planUnderNoise, type NodeCost, type PlanMode } from './plan.js';

/** One node's share in a {@link RoutePlan}. */
export interface PlannedShare {
  id: string;
  items: number;
  predictedMs: number;
}

/** The plan for one batch size. */
export interface RoutePlan {
  items: number;
  /** `sequential` (one node), `parallel` (every usable node) or `subset`. */
  mode: 'sequential' | 'parallel' | 'subset';
  nodes: PlannedShare[];
  /** Predicted finish time of the plan, in ms. */
  predictedMs: number;
  /** Its expected finish time under the nodes' spreads, when they have any. */
  expectedMs?: number;
  /** Predicted finish time on the best single node, and which node that is. */
  oneNodeMs: number;
  oneNode: string;
  /** Predicted finish time when every usable node gets an equal share. */
  equalSplitMs: number;
  /** Why nodes were left out, and which estimates are still guesses. */
  reason: string;
}

/** A node as the explanation sees it. */
export interface ExplainedNode {
  id: string;
  cost: NodeCost;
  /** False when the cost is a guess (the node was never measured). */
  known: boolean;
  /** How far its work may stray, as the half-width of a uniform factor (0.3: ±30%; default 0). */
  spread?: number;
}

/** Plans each batch size over `nodes` and says why. `notes` are appended to every reason. */
export function explainPlans(nodes: readonly ExplainedNode[], batchSizes: unknown, mode: PlanMode = 'auto', notes: string[] = []): RoutePlan[] {
  if (!Array.isArray(batchSizes) || batchSizes.length === 0) {
    throw routerError('ERR_ROUTER_CONFIG', `report() takes a non-empty array of batch sizes, got ${describe(batchSizes)}`);
  }
  const costs = nodes.map((n) => n.cost);
  const guessed = nodes.filter((n) => !n.known).map((n) => n.id);
  const spreads = nodes.map((n) => n.spread ?? 0);
  const measured = nodes.map((n) => n.known);
  return batchSizes.map((size: unknown, index) => {
    const items = routerInt(`batchSizes[${index}]`, size, 1);
    const plain = planSplit(costs, items, mode);
    const plan = planUnderNoise(costs, items, mode, spreads, measured, plain);
    const single = planSplit(costs, items, 'sequential');
    const expectedMs = spreads.some((x) => x > 0) ? expectedFinishMs(costs, plan.counts, spreads) : undefined;
    const callMs = (i: number): number => costs[i]!.overheadMs + plan.counts[i]! * costs[i]!.perItemMs;
    const reasons: string[] = [];
    if (mode !== 'auto') reasons.push(`mode forced to ${mode}`);
    const risky = nodes.map((_, i) => i).filter((i) => plan.counts[i] === 0 && plain.counts[i]! > 0);
    if (risky.length > 0) {
      reasons.push(
        `left out ${risky.map((i) => nodes[i]!.id).join(', ')}: with them the expected finish under the nodes' noise is ${expectedFinishMs(costs, plain.counts, spreads).toFixed(1)} ms, without them ${expectedMs!.toFixed(1)} ms`,
      );
    }
    const left = nodes.map((_, i) => i).filter((i) => plain.counts[i] === 0);
    if (left.length > 0 && mode === 'auto') {
      const cheapest = Math.min(...left.map((i) => costs[i]!.overheadMs + costs[i]!.perItemMs));
      reasons.push(
        `left out ${left.map((i) => nodes[i]!.id).join(', ')}: one item there takes at least ${cheapest.toFixed(1)} ms, no sooner than the others finish everything (${plain.finishMs.toFixed(1)} ms)`,
      );
    }
    if (plan.used > 1) reasons.push(`${plan.used} nodes finish together at ${plan.finishMs.toFixed(1)} ms`);
    if (guessed.length > 0) reasons.push(`not yet measured: ${guessed.join(', ')} (assumed as fast as the measured median)`);
    reasons.push(...notes);
    return {
      items,
      mode: plan.used === 1 ? 'sequential' : plan.used === nodes.length ? 'parallel' : 'subset',
      nodes: nodes.map((n, i) => ({ id: n.id, items: plan.counts[i]!, predictedMs: plan.counts[i]! > 0 ? callMs(i) : 0 })).filter((s) => s.items > 0),
      predictedMs: plan.finishMs,
      ...(expectedMs !== undefined ? { expectedMs } : {}),
      oneNodeMs: single.finishMs,
      oneNode: nodes[single.counts.findIndex((c) => c > 0)]!.id,
      equalSplitMs: equalSplitMs(costs, items),
      reason: reasons.join('; '),
    } satisfies RoutePlan;
  });
}
