/**
 * `fleetscale/fusion`: the fusion API alone, without the hub's server, database and HTTP
 * client dependencies (importing the package root loads those too, about 50 MiB of RSS).
 */
export { fuse, fuseSync, fuseColumns, fusePairwise, candidatePairs } from './fuse.js';
export type { FusionInput, CandidateMethod } from './fuse.js';
export { sensorPreset } from './preset.js';
export type { SensorPresetOptions } from './preset.js';
export { generateFleet, generateFleetColumns } from './generate.js';
export type { Fleet, FleetOptions } from './generate.js';
export { evaluate, evaluateBlocking } from './evaluate.js';
export type { Quality, BlockingQuality } from './evaluate.js';
export { fusionError, isFusionError } from './errors.js';
export type { FusionError, FusionErrorCode } from './errors.js';
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
} from './types.js';
