/**
 * fleetscale: run a hub and its fleet at scale.
 *
 * Fusion finds the observations from different nodes that describe the same real-world event,
 * with a native global blocking index instead of comparing every pair of nodes.
 */
export { fuse, fuseSync, fuseColumns, fusePairwise, candidatePairs } from './fusion/fuse.js';
export type { FusionInput, CandidateMethod } from './fusion/fuse.js';
export { sensorPreset } from './fusion/preset.js';
export type { SensorPresetOptions } from './fusion/preset.js';
export { generateFleet, generateFleetColumns } from './fusion/generate.js';
export type { Fleet, FleetOptions } from './fusion/generate.js';
export { evaluate, evaluateBlocking } from './fusion/evaluate.js';
export type { Quality, BlockingQuality } from './fusion/evaluate.js';
export { fusionError, isFusionError } from './fusion/errors.js';
export type { FusionError, FusionErrorCode } from './fusion/errors.js';
export type {
  SensorRecord,
  GenericRecord,
  FieldKind,
  FieldSource,
  FieldSpec,
  BlockingPart,
  BlockingPass,
  ComparisonLevel,
  Comparator,
  FusionConfig,
  FusedEvent,
  FusionResult,
  SensorColumns,
  GenericColumns,
  GenericColumn,
  FusionColumns,
  FusedColumns,
} from './fusion/types.js';
