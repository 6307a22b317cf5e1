/**
 * A faithful port of the rule table a popular document-embedding tool (FlockParser) uses to route
 * batches over heterogeneous nodes, kept for comparison with the adaptive router. Its quirks are
 * kept on purpose, each marked "as in the tool":
 *
 * - speed = 1 / max(lifetime mean seconds per request, 0.01); a node never used gets a prior of
 *   100 (a GPU with the model in VRAM) or 10;
 * - the speed ratio is fastest / max(slowest, 1), which under-states the gap once a request takes
 *   more than a second (both speeds are then below 1);
 * - sequential when the ratio is ≥ 5 or the batch has < 20 items; parallel over every node with
 *   2 workers per node when the ratio is < 3; the top 3 nodes when 3–5× and at least 3 nodes;
 *   otherwise sequential;
 * - the health score adds GPU and VRAM bonuses and subtracts latency, error-rate, slowness and
 *   load penalties; sequential mode runs on the node with the best health score, one item per
 *   request, and never fails over (a failed item stays empty).
 */

/** What the tool keeps per node. */
export interface FlockNodeStats {
  id: string;
  requests: number;
  errors: number;
  /** Sum of request durations, in seconds. */
  totalSeconds: number;
  /** Running latency in ms (first a ping, then 0.8·old + 0.2·request for requests under 3 s); null if never measured. */
  latencyMs: number | null;
  concurrentRequests: number;
  /** true: a GPU; false: CPU only; null: unknown. */
  hasGpu: boolean | null;
  /** The GPU holds the model in VRAM. */
  gpuLoaded: boolean;
  vramGb: number;
}

/** Why the rules chose what they chose, in the tool's own terms. */
export type FlockReason = 'single_node' | 'dominant_node' | 'small_batch' | 'balanced_cluster' | 'hybrid_parallel' | 'default_sequential';

/** The rule table's decision for one batch. */
export interface FlockDecision {
  parallel: boolean;
  reason: FlockReason;
  detail: string;
  /** fastest / max(slowest, 1), as in the tool. */
  speedRatio?: number;
  fastest?: string;
  /** Sequential decisions name the fastest node (execution then uses the best health score). */
  recommendedNode?: string;
  /** Workers the rule proposes (the execution uses {@link flockWorkers} instead, as in the tool). */
  parallelWorkers?: number;
}

/** A fresh stats record for a node. */
export function flockStats(id: string, init: Partial<Omit<FlockNodeStats, 'id'>> = {}): FlockNodeStats {
  return { id, requests: 0, errors: 0, totalSeconds: 0, latencyMs: null, concurrentRequests: 0, hasGpu: null, gpuLoaded: false, vramGb: 0, ...init };
}

/** The tool's speed score: requests per second over the node's lifetime, or the GPU/CPU prior. */
export function flockSpeed(stats: FlockNodeStats): number {
  if (stats.requests > 0) return 1 / Math.max(stats.totalSeconds / stats.requests, 0.01);
  return stats.hasGpu === true && stats.gpuLoaded ? 100 : 10;
}

/** The tool's health score (higher is better; never below 0). */
export function flockHealthScore(stats: FlockNodeStats): number {
  let score = 100;
  if (stats.hasGpu === true) score += stats.gpuLoaded ? 300 + stats.vramGb * 20 : -50;
  else if (stats.hasGpu === false) score -= 100;
  if (stats.latencyMs && stats.latencyMs > 100) score -= Math.min(50, (stats.latencyMs - 100) / 10);
  if (stats.requests > 0) {
    score -= (stats.errors / stats.requests) * 40;
    const mean = stats.totalSeconds / stats.requests;
    if (mean > 2) score -= Math.min(30, (mean - 2) * 10);
  }
  let load = stats.concurrentRequests * 5;
  if (stats.hasGpu === true) load *= stats.gpuLoaded ? 0.4 : 1.5;
  score -= load;
  return Math.max(0, score);
}

/** The rule table: sequential or parallel for a batch of `batchSize` items. */
export function flockRules(nodes: readonly FlockNodeStats[], batchSize: number): FlockDecision {
  if (nodes.length <= 1) return { parallel: false, reason: 'single_node', detail: 'Only one node available, sequential is optimal' };
  const ranked = [...nodes].map((n) => ({ node: n, speed: flockSpeed(n) })).sort((x, y) => y.speed - x.speed);
  const fastest = ranked[0]!;
  const slowest = ranked[ranked.length - 1]!;
  // As in the tool: the slowest speed is floored at 1 request/s.
  const speedRatio = fastest.speed / Math.max(slowest.speed, 1);
  const base = { speedRatio, fastest: fastest.node.id };
  if (speedRatio >= 5) {
    return { ...base, parallel: false, reason: 'dominant_node', detail: `Fastest node is ${speedRatio.toFixed(1)}x faster - sequential wins`, recommendedNode: fastest.node.id };
  }
  if (batchSize < 20) {
    return { ...base, parallel: false, reason: 'small_batch', detail: `Batch size ${batchSize} too small for parallel overhead`, recommendedNode: fastest.node.id };
  }
  if (speedRatio < 3) {
    return { ...base, parallel: true, reason: 'balanced_cluster', detail: `Speed ratio ${speedRatio.toFixed(1)}x - parallel is efficient`, parallelWorkers: nodes.length * 2 };
  }
  if (nodes.length >= 3) {
    const top = Math.min(3, nodes.length);
    return { ...base, parallel: true, reason: 'hybrid_parallel', detail: `Using top ${top} nodes in parallel`, parallelWorkers: top * 2 };
  }
  return { ...base, parallel: false, reason: 'default_sequential', detail: 'Defaulting to sequential on fastest node', recommendedNode: fastest.node.id };
}

/** The worker count the tool's parallel mode actually uses. */
export function flockWorkers(batchSize: number, availableNodes: number): number {
  const base = availableNodes * 2;
  let workers: number;
  if (batchSize < 50) workers = Math.min(base, batchSize);
  else if (batchSize < 200) workers = base;
  else workers = Math.min(base * 2, batchSize);
  return Math.max(1, workers);
}

/** The tool's completion-time estimate: sequential on the fastest node vs parallel with 0.5 s start-up. */
export function flockEstimate(
  nodes: readonly FlockNodeStats[],
  batchSize: number,
): { sequentialSeconds: number; parallelSeconds: number; recommendation: 'sequential' | 'parallel'; workers: number; fastestNode: string } {
  let fastestTime = Infinity;
  let fastestNode = nodes[0]?.id ?? '';
  for (const n of nodes) {
    const time = n.requests > 0 ? n.totalSeconds / n.requests : n.hasGpu === true && n.gpuLoaded ? 0.02 : 0.1;
    if (time < fastestTime) {
      fastestTime = time;
      fastestNode = n.id;
    }
  }
  const workers = flockWorkers(batchSize, nodes.length);
  const sequentialSeconds = fastestTime * batchSize;
  const parallelSeconds = fastestTime * (batchSize / workers) + 0.5;
  const recommendation = sequentialSeconds < parallelSeconds ? 'sequential' : 'parallel';
  return { sequentialSeconds, parallelSeconds, recommendation, workers: recommendation === 'parallel' ? workers : 1, fastestNode };
}
