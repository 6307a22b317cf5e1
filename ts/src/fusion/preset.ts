import { native } from '../native.js';
import { fusionError } from './errors.js';
import type { FusionConfig } from './types.js';

/** Options of the sensor preset. */
export type SensorPresetOptions = {
  /** Largest time gap of a candidate pair, ms (default 10000). */
  timeWindowMs?: number;
  /** Largest distance of a candidate pair, metres (default 250). */
  radiusM?: number;
  /** At most one observation per node per event (default true). */
  onePerNode?: boolean;
};

/**
 * The configuration for sensor observations (`SensorRecord`): candidates within
 * `timeWindowMs` and `radiusM`, scored on class, time gap, distance and label, with m/u values
 * measured on the fleet generator.
 */
export function sensorPreset(opts: SensorPresetOptions = {}): FusionConfig {
  const { timeWindowMs = 10_000, radiusM = 250, onePerNode = true } = opts;
  for (const [name, value] of [
    ['timeWindowMs', timeWindowMs],
    ['radiusM', radiusM],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw fusionError('ERR_FUSION_CONFIG', `sensorPreset: ${name} must be a finite number > 0, got ${String(value)}`);
    }
  }
  if (typeof onePerNode !== 'boolean') {
    throw fusionError('ERR_FUSION_CONFIG', `sensorPreset: onePerNode must be a boolean, got ${String(onePerNode)}`);
  }
  return JSON.parse(native.sensorPresetJson(timeWindowMs, radiusM, onePerNode)) as FusionConfig;
}
