/**
 * `createAutoscaler`: a stateful replica-count policy, called once per decision interval with
 * the pool's signals. Presets: `hpa`, an exact re-implementation of Kubernetes' Horizontal Pod
 * Autoscaler (the baseline everyone knows).
 */
import { configError } from './errors.js';
import { Hpa, type HpaOptions } from './hpa.js';
import type { Autoscaler } from './types.js';

export type AutoscalerOptions = { preset: 'hpa' } & HpaOptions;

/** The presets `createAutoscaler` knows. */
export const AUTOSCALE_PRESETS = ['hpa'] as const;

/** Builds the policy a preset names, with its options; throws `ERR_AUTOSCALE_CONFIG` on a bad one. */
export function createAutoscaler(options: AutoscalerOptions): Autoscaler {
  if (typeof options !== 'object' || options === null) throw configError('createAutoscaler takes { preset, min, max, targets, … }');
  const { preset, ...rest } = options;
  if (preset === 'hpa') return new Hpa(rest);
  throw configError(`preset must be one of ${AUTOSCALE_PRESETS.join(', ')}, got ${JSON.stringify(preset)}`);
}
