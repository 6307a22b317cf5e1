/**
 * `createAutoscaler`: a stateful replica-count policy, called once per decision interval with
 * the pool's signals. Presets: `hpa`, an exact re-implementation of Kubernetes' Horizontal Pod
 * Autoscaler (the baseline everyone knows); `pipestream`, a streaming platform's threshold
 * rules; `predictive`, fleetscale's own lag-growth rule.
 */
import { configError } from './errors.js';
import { Hpa, type HpaOptions } from './hpa.js';
import { Pipestream, type PipestreamOptions } from './pipestream.js';
import { Predictive, type PredictiveOptions } from './predictive.js';
import type { Autoscaler } from './types.js';

export type AutoscalerOptions = ({ preset: 'hpa' } & HpaOptions) | ({ preset: 'pipestream' } & PipestreamOptions) | ({ preset: 'predictive' } & PredictiveOptions);

/** The presets `createAutoscaler` knows. */
export const AUTOSCALE_PRESETS = ['hpa', 'pipestream', 'predictive'] as const;
export type AutoscalePreset = (typeof AUTOSCALE_PRESETS)[number];

/** Builds the policy a preset names, with its options; throws `ERR_AUTOSCALE_CONFIG` on a bad one. */
export function createAutoscaler(options: AutoscalerOptions): Autoscaler {
  if (typeof options !== 'object' || options === null) throw configError('createAutoscaler takes { preset, min, max, targets, … }');
  switch (options.preset) {
    case 'hpa': {
      const { preset: _, ...rest } = options;
      return new Hpa(rest);
    }
    case 'pipestream': {
      const { preset: _, ...rest } = options;
      return new Pipestream(rest);
    }
    case 'predictive': {
      const { preset: _, ...rest } = options;
      return new Predictive(rest);
    }
    default:
      throw configError(`preset must be one of ${AUTOSCALE_PRESETS.join(', ')}, got ${JSON.stringify((options as { preset?: unknown }).preset)}`);
  }
}
