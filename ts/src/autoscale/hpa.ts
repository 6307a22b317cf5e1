/**
 * Kubernetes' Horizontal Pod Autoscaler (autoscaling/v2), re-implemented decision for decision
 * on fleetscale's signals, as the baseline the other presets are measured against:
 *
 * - per metric, a proposal: CPU is a resource utilisation target (`ceil(ready × ratio)`, with
 *   the missing-metric and not-ready rules below); lag and pending are external metrics with
 *   an average-value target (`ceil(total / target)`); p99 is an external value target
 *   (`ceil(current × ratio)`). A ratio within the tolerance (0.1) proposes no change;
 * - the largest proposal wins; a missing metric blocks a scale-down (and all of them, any
 *   change);
 * - current replicas above max or below min are brought into range first; 0 replicas with a
 *   min above 0 means scaling is disabled;
 * - behaviour: the stabilisation windows (scale-up 0 s, scale-down 300 s: the highest
 *   recommendation in the window is applied when scaling down), then the rate policies per
 *   period relative to the replicas at the period's start (scale-up: the larger of +100% and
 *   +4 pods per 15 s; scale-down: -100% per 15 s), then min and max.
 *
 * Missing metrics and not-ready replicas (given `pods`): their CPU is left out of the mean;
 * if the mean says scale up, not-ready and missing replicas count as using 0; if it says scale
 * down, missing replicas count as using max(target, 100%). If the recomputed ratio is within
 * the tolerance or points the other way, nothing changes.
 */
import { Type } from 'typebox';

import { configError } from './errors.js';
import { BoundsSchema, checkBounds, checkSample, checkTargets, optionsCheck, pct, round } from './sample.js';
import type { Autoscaler, AutoscaleDecision, AutoscaleSample, AutoscaleTargets } from './types.js';

export type HpaPolicyType = 'pods' | 'percent';
export type HpaPolicy = { type: HpaPolicyType; value: number; periodS: number };
export type HpaRules = {
  stabilizationWindowS: number;
  policies: HpaPolicy[];
  /** `max`: the policy allowing the largest change; `min`: the smallest; `disabled`: no change this way. */
  select: 'max' | 'min' | 'disabled';
};

export type HpaOptions = {
  min: number;
  max: number;
  targets: AutoscaleTargets;
  /** Ratios within 1 ± tolerance propose no change (default 0.1). */
  tolerance?: number;
  scaleUp?: Partial<HpaRules>;
  scaleDown?: Partial<HpaRules>;
};

/** Kubernetes' default behaviour. */
export const HPA_SCALE_UP: HpaRules = {
  stabilizationWindowS: 0,
  policies: [
    { type: 'pods', value: 4, periodS: 15 },
    { type: 'percent', value: 100, periodS: 15 },
  ],
  select: 'max',
};
/** Kubernetes' default scale-down behaviour: a 300 s stabilisation window, at most 100% of the replicas every 15 s. */
export const HPA_SCALE_DOWN: HpaRules = { stabilizationWindowS: 300, policies: [{ type: 'percent', value: 100, periodS: 15 }], select: 'max' };

type Event = { at: number; change: number };

/** One direction's behaviour, as Kubernetes' `behavior.scaleUp` / `scaleDown` take it; what is left out is the default's. */
const RulesSchema = Type.Optional(
  Type.Object(
    {
      stabilizationWindowS: Type.Optional(Type.Number({ minimum: 0, maximum: 3600 })),
      policies: Type.Optional(
        Type.Array(
          Type.Object({ type: Type.Enum(['pods', 'percent']), value: Type.Integer({ minimum: 1, maximum: 1_000_000 }), periodS: Type.Number({ minimum: 1, maximum: 1800 }) }),
          { minItems: 1 },
        ),
      ),
      select: Type.Optional(Type.Enum(['max', 'min', 'disabled'])),
    },
    { additionalProperties: false },
  ),
);
const checkHpaOptions = optionsCheck(
  Type.Object({
    ...BoundsSchema,
    targets: Type.Optional(Type.Unknown()),
    tolerance: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    scaleUp: RulesSchema,
    scaleDown: RulesSchema,
  }),
);

/** The Kubernetes Horizontal Pod Autoscaler's algorithm: desired = ceil(replicas × metric / target), with its tolerance, stabilisation windows and rate policies. */
export class Hpa implements Autoscaler {
  readonly preset = 'hpa';
  private readonly min: number;
  private readonly max: number;
  private readonly targets: AutoscaleTargets;
  private readonly tolerance: number;
  private readonly up: HpaRules;
  private readonly down: HpaRules;
  /** Unstabilised recommendations, with their time. */
  private recommendations: Array<{ at: number; replicas: number }> = [];
  private upEvents: Event[] = [];
  private downEvents: Event[] = [];
  private lastNow = -Infinity;

  constructor(options: HpaOptions) {
    const checked = checkHpaOptions(options);
    ({ min: this.min, max: this.max } = checkBounds(checked.min, checked.max));
    const targets = checkTargets(options.targets);
    if (!Object.values(targets).some((v) => v !== undefined)) throw configError('the hpa preset needs at least one target (cpu, lag, p99Ms or pending)');
    this.targets = targets;
    this.tolerance = checked.tolerance ?? 0.1;
    this.up = { ...HPA_SCALE_UP, ...(checked.scaleUp as Partial<HpaRules> | undefined) };
    this.down = { ...HPA_SCALE_DOWN, ...(checked.scaleDown as Partial<HpaRules> | undefined) };
  }

  decide(sample: AutoscaleSample): AutoscaleDecision {
    const { now, replicas: current } = checkSample(sample, this.lastNow);
    this.lastNow = now;
    let desired: number;
    let reason: string;
    if (current === 0 && this.min !== 0) {
      return { replicas: 0, reason: 'scaling is disabled: the pool runs 0 replicas and min is above 0' };
    } else if (current > this.max) {
      [desired, reason] = [this.max, `current ${current} replicas above max ${this.max}`];
    } else if (current < this.min) {
      [desired, reason] = [this.min, `current ${current} replicas below min ${this.min}`];
    } else {
      const proposal = this.proposeFromMetrics(sample, current);
      if (proposal.replicas === undefined) return { replicas: current, reason: proposal.reason };
      [desired, reason] = this.normalize(now, current, proposal.replicas, proposal.reason);
    }
    if (desired !== current) this.record(now, desired - current);
    return { replicas: desired, reason };
  }

  /** The largest proposal over the configured metrics; none when a missing one forbids it. */
  private proposeFromMetrics(sample: AutoscaleSample, current: number): { replicas?: number; reason: string } {
    const proposals: Array<{ replicas: number; why: string }> = [];
    const missing: string[] = [];
    const t = this.targets;
    const m = sample.metrics;
    if (t.cpu !== undefined) {
      const cpu = this.cpuProposal(sample, current, t.cpu);
      if (cpu) proposals.push(cpu);
      else missing.push('cpu');
    }
    for (const key of ['lag', 'pending'] as const) {
      const target = t[key];
      if (target === undefined) continue;
      const total = m[key];
      if (total === undefined) {
        missing.push(key);
        continue;
      }
      const ratio = total / (target * current);
      const replicas = Math.abs(1 - ratio) <= this.tolerance ? current : Math.ceil(total / target);
      proposals.push({ replicas, why: `${key} ${round(total)} for target ${round(target)} per replica → ${replicas}` });
    }
    if (t.p99Ms !== undefined) {
      if (m.p99Ms === undefined) missing.push('p99Ms');
      else {
        const ratio = m.p99Ms / t.p99Ms;
        // From zero replicas the ratio alone is the count (HPA's getUsageRatioReplicaCount).
        const replicas = current === 0 ? Math.ceil(ratio) : Math.abs(1 - ratio) <= this.tolerance ? current : Math.ceil(ratio * current);
        proposals.push({ replicas, why: `p99 ${round(m.p99Ms)} ms for target ${round(t.p99Ms)} ms → ${replicas}` });
      }
    }
    if (proposals.length === 0) return { reason: `no change: every metric is missing (${missing.join(', ')})` };
    let best = proposals[0];
    for (const p of proposals) if (p.replicas > best.replicas) best = p;
    if (missing.length > 0 && best.replicas < current) {
      return { reason: `no scale-down while ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing (${best.why})` };
    }
    return { replicas: best.replicas, reason: best.why };
  }

  /** HPA's resource-utilisation proposal, with its missing-metric and not-ready rules. */
  private cpuProposal(sample: AutoscaleSample, current: number, target: number): { replicas: number; why: string } | undefined {
    const pods = sample.pods;
    if (current === 0) return undefined; // no replica reports a utilisation
    if (!pods) {
      const cpu = sample.metrics.cpu;
      if (cpu === undefined) return undefined;
      const ratio = cpu / target;
      const replicas = Math.abs(1 - ratio) <= this.tolerance ? current : Math.ceil(ratio * current);
      return { replicas, why: `cpu ${pct(cpu)} for target ${pct(target)} → ${replicas}` };
    }
    const measured = pods.filter((p) => p.ready !== false && p.cpu !== undefined).map((p) => p.cpu!);
    if (measured.length === 0) return undefined;
    const unready = pods.filter((p) => p.ready === false).length;
    const missing = pods.filter((p) => p.ready !== false && p.cpu === undefined).length;
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const ratio = mean(measured) / target;
    const scaleUpWithUnready = unready > 0 && ratio > 1;
    if (!scaleUpWithUnready && missing === 0) {
      const replicas = Math.abs(1 - ratio) <= this.tolerance ? current : Math.ceil(ratio * measured.length);
      return { replicas, why: `cpu ${pct(mean(measured))} of ${measured.length} ready replicas for target ${pct(target)} → ${replicas}` };
    }
    const filled = [...measured];
    if (missing > 0 && ratio < 1) for (let i = 0; i < missing; i++) filled.push(Math.max(target, 1));
    else if (missing > 0 && ratio > 1) for (let i = 0; i < missing; i++) filled.push(0);
    if (scaleUpWithUnready) for (let i = 0; i < unready; i++) filled.push(0);
    const newRatio = mean(filled) / target;
    const dampened = `cpu ${pct(mean(measured))} of ${measured.length} measured replicas (${missing} missing, ${unready} not ready) for target ${pct(target)}`;
    if (Math.abs(1 - newRatio) <= this.tolerance || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) {
      return { replicas: current, why: `${dampened}: recomputed ratio ${round(newRatio)} → no change` };
    }
    const replicas = Math.ceil(newRatio * filled.length);
    if ((newRatio < 1 && replicas > current) || (newRatio > 1 && replicas < current)) {
      return { replicas: current, why: `${dampened}: ${replicas} would reverse the direction → no change` };
    }
    return { replicas, why: `${dampened} → ${replicas}` };
  }

  /** Stabilisation windows, then the rate policies, then min and max. */
  private normalize(now: number, current: number, proposed: number, why: string): [number, string] {
    let upRec = proposed;
    let downRec = proposed;
    const upCutoff = now - this.up.stabilizationWindowS * 1000;
    const downCutoff = now - this.down.stabilizationWindowS * 1000;
    for (const r of this.recommendations) {
      if (r.at > upCutoff) upRec = Math.min(upRec, r.replicas);
      if (r.at > downCutoff) downRec = Math.max(downRec, r.replicas);
    }
    const oldest = Math.min(upCutoff, downCutoff);
    this.recommendations = this.recommendations.filter((r) => r.at >= oldest);
    this.recommendations.push({ at: now, replicas: proposed });
    let stabilized = Math.min(Math.max(current, upRec), downRec);
    let reason = why;
    if (stabilized !== proposed) {
      reason +=
        proposed >= current
          ? `; held at ${stabilized}: recent recommendations were lower`
          : `; held at ${stabilized}: the highest recommendation of the last ${this.down.stabilizationWindowS} s`;
    }
    if (stabilized > current) {
      const limit = Math.max(current, this.limit(now, current, this.up, +1));
      const ceiling = Math.min(this.max, limit);
      if (stabilized > ceiling) {
        reason += ceiling === this.max && this.max <= limit ? `; capped at max ${this.max}` : `; scale-up rate limit: at most ${limit} now`;
        stabilized = ceiling;
      }
    } else if (stabilized < current) {
      const limit = Math.min(current, this.limit(now, current, this.down, -1));
      const floor = Math.max(this.min, limit);
      if (stabilized < floor) {
        reason += floor === this.min && this.min >= limit ? `; held at min ${this.min}` : `; scale-down rate limit: at least ${limit} now`;
        stabilized = floor;
      }
    }
    return [stabilized, reason];
  }

  /** The replicas the rate policies allow in direction `sign`, from the replicas at each period's start. */
  private limit(now: number, current: number, rules: HpaRules, sign: 1 | -1): number {
    if (rules.select === 'disabled') return current;
    // Scale-up 'max' (and scale-down 'min') take the largest proposal; the others the smallest.
    const largest = (rules.select === 'max') === sign > 0;
    let result = largest ? -Infinity : Infinity;
    for (const policy of rules.policies) {
      const since = now - policy.periodS * 1000;
      const added = this.upEvents.filter((e) => e.at > since).reduce((n, e) => n + e.change, 0);
      const removed = this.downEvents.filter((e) => e.at > since).reduce((n, e) => n + e.change, 0);
      const start = current - added + removed;
      let proposed: number;
      if (sign > 0) proposed = policy.type === 'pods' ? start + policy.value : Math.ceil(start * (1 + policy.value / 100));
      else proposed = policy.type === 'pods' ? start - policy.value : Math.trunc(start * (1 - policy.value / 100));
      result = largest ? Math.max(result, proposed) : Math.min(result, proposed);
    }
    return result;
  }

  private record(now: number, change: number): void {
    const longest = (r: HpaRules) => Math.max(...r.policies.map((p) => p.periodS)) * 1000;
    this.upEvents = this.upEvents.filter((e) => e.at > now - longest(this.up));
    this.downEvents = this.downEvents.filter((e) => e.at > now - longest(this.down));
    if (change > 0) this.upEvents.push({ at: now, change });
    else this.downEvents.push({ at: now, change: -change });
  }
}
