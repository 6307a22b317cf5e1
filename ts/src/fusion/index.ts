/**
 * `fleetscale/fusion`: find the observations from different nodes that describe the same
 * real-world event (native global blocking index, Fellegi–Sunter scoring, one-per-node
 * clustering). Loads no server, database or HTTP client package.
 */
export { fuse, fuseSync, fuseColumns, candidatePairs } from './fuse.js';
export type { FusionInput, CandidateMethod } from './fuse.js';
export { sensorPreset } from './preset.js';
export type { SensorPresetOptions } from './preset.js';
export { generateFleet, generateFleetColumns } from './generate.js';
export type { Fleet, FleetOptions } from './generate.js';
export { evaluate, evaluateBlocking } from './evaluate.js';
export type { Quality, BlockingQuality } from './evaluate.js';
export type { FusionErrorCode } from './errors.js';
export { FleetscaleError, isFleetscaleError } from '../errors.js';
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
