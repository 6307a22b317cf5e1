/** The fusion entry points: sync, async (libuv pool) and the legacy per-node-pair baseline. */
import { native } from '../native.js';
import { prepareColumns, prepareRecords, type PreparedInput } from './columns.js';
import { fusionError } from './errors.js';
import { sensorPreset } from './preset.js';
import { toResult } from './result.js';
import type { FusedColumns, FusionColumns, FusionConfig, FusionResult, GenericRecord, SensorRecord } from './types.js';

/** Records as objects, of the sensor schema or any schema a config describes. */
export type FusionInput = readonly SensorRecord[] | readonly GenericRecord[];

type Prepared = { input: PreparedInput; configJson: string; prepareMs: number };

/** `config` as JSON for the native layer, checked there; throws `ERR_FUSION_CONFIG`. */
export function configJson(config: FusionConfig): string {
  if (config === null || typeof config !== 'object' || !Array.isArray(config.fields)) {
    throw fusionError('ERR_FUSION_CONFIG', 'config must be a FusionConfig object with a fields array');
  }
  let json: string;
  try {
    // JSON would turn NaN and Infinity into null; name them instead.
    json = JSON.stringify(config, function (this: unknown, key: string, value: unknown) {
      if (typeof value === 'number' && !Number.isFinite(value)) {
        throw fusionError('ERR_FUSION_CONFIG', `config: "${key}" must be a finite number, got ${value}`);
      }
      if (typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol') {
        throw fusionError('ERR_FUSION_CONFIG', `config: "${key}" has an unsupported ${typeof value} value`);
      }
      return value;
    });
  } catch (e) {
    if (e instanceof Error && 'code' in e) throw e;
    throw fusionError('ERR_FUSION_CONFIG', `config is not serialisable: ${(e as Error).message}`);
  }
  // Full validation (kinds, names, ranges) is the native layer's; it throws ERR_FUSION_CONFIG.
  native.validateConfig(json);
  return json;
}

/**
 * What to do about duplicate ids: check them now, leave the check to the caller (who runs it
 * while native work is in flight), or ignore ids (columnar output names rows).
 */
type IdCheck = 'now' | 'deferred' | 'ignore';

/** Checks config and input and builds the native columns (shared by every entry point). */
export function prepare(records: FusionInput | FusionColumns, config: FusionConfig, ids: IdCheck = 'now'): Prepared {
  const started = performance.now();
  const json = configJson(config);
  const input = Array.isArray(records) ? prepareRecords(records, config) : prepareColumns(records as FusionColumns, config, ids !== 'ignore');
  if (ids === 'now') input.checkUniqueIds();
  return { input, configJson: json, prepareMs: performance.now() - started };
}

/**
 * Fuses records on the calling thread with the global blocking index. Best for small inputs
 * (a round of a few thousand nodes takes milliseconds); use `fuse` for large ones.
 * Throws `ERR_FUSION_CONFIG` / `ERR_FUSION_INPUT` errors naming the field and row.
 */
export function fuseSync(records: FusionInput | FusionColumns, config: FusionConfig = sensorPreset()): FusionResult {
  const { input, configJson: json, prepareMs } = prepare(records, config);
  const out = native.fuseColumns(json, input.columns, 'index');
  return toResult(out, input, { prepare: prepareMs });
}

/**
 * The async twin of `fuseSync`: input is checked and copied now, fusion runs on the libuv
 * pool so the event loop stays free. Accepts record objects or columns of typed arrays.
 * An aborted `signal` rejects with an `AbortError` (before the work starts, or while it waits
 * for a pool thread).
 */
export async function fuse(records: FusionInput | FusionColumns, config: FusionConfig = sensorPreset(), options: { signal?: AbortSignal } = {}): Promise<FusionResult> {
  options.signal?.throwIfAborted();
  const { input, configJson: json, prepareMs } = prepare(records, config, 'deferred');
  const pending = native.fuseColumnsAsync(json, input.columns, options.signal);
  // The id check needs only JS; it runs while the pool thread fuses.
  try {
    input.checkUniqueIds();
  } catch (e) {
    pending.catch(() => undefined);
    throw e;
  }
  const out = await pending;
  return toResult(out, input, { prepare: prepareMs });
}

/**
 * Bulk fusion with columns in and columns out: the async twin's work without building an
 * object per event or a string per member, for inputs of hundreds of thousands of records and
 * more. Members are input rows; `ids` in the columns are ignored (not even checked for
 * uniqueness), since the output names rows.
 */
export async function fuseColumns(columns: FusionColumns, config: FusionConfig = sensorPreset(), options: { signal?: AbortSignal } = {}): Promise<FusedColumns> {
  if (Array.isArray(columns)) throw fusionError('ERR_FUSION_INPUT', 'fuseColumns takes columns; use fuse for record objects');
  options.signal?.throwIfAborted();
  const { input, configJson: json, prepareMs } = prepare(columns, config, 'ignore');
  const out = await native.fuseColumnsAsync(json, input.columns, options.signal);
  const timingsMs: Record<string, number> = { prepare: prepareMs };
  for (const { phase, ms } of out.stats.timings) timingsMs[phase] = ms;
  const s = out.stats;
  return {
    eventOffsets: out.eventOffsets,
    eventMembers: out.eventMembers,
    eventClass: out.eventClass,
    classNames: input.classNames ?? [],
    eventT: out.eventT,
    eventLat: out.eventLat,
    eventLon: out.eventLon,
    eventScore: out.eventScore,
    stats: { records: s.records, blocks: s.blocks, largestBlock: s.largestBlock, candidates: s.candidates, scored: s.scored, matched: s.matched, timingsMs },
  };
}

/**
 * The legacy algorithm: every pair of nodes blocked and compared on its own
 * (`combinations(node_ids, 2)`). Same result as `fuseSync`, at O(nodes²) cost; for
 * equivalence tests and benchmarks.
 */
export function fusePairwise(records: FusionInput | FusionColumns, config: FusionConfig = sensorPreset()): FusionResult {
  const { input, configJson: json, prepareMs } = prepare(records, config);
  const out = native.fuseColumns(json, input.columns, 'pairwise');
  return toResult(out, input, { prepare: prepareMs });
}

/** How candidate pairs are found. */
export type CandidateMethod = 'index' | 'pairwise' | 'brute';

/**
 * Candidate pairs as `[rowA, rowB]` (rows of the input, `rowA < rowB`, sorted): by the global
 * index, the legacy loop, or a brute-force check of the pass predicates over all cross-node
 * pairs (O(n²)). All three agree; this exists to prove it.
 */
export function candidatePairs(records: FusionInput | FusionColumns, config: FusionConfig = sensorPreset(), method: CandidateMethod = 'index'): Array<[number, number]> {
  const { input, configJson: json } = prepare(records, config);
  const flat = native.candidatePairsColumns(json, input.columns, method);
  const pairs = new Array<[number, number]>(flat.length / 2);
  for (let k = 0; k < pairs.length; k++) pairs[k] = [flat[2 * k], flat[2 * k + 1]];
  return pairs;
}
