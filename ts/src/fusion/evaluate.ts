/** Quality of a fusion result against known truth. */
import { native } from '../native.js';
import { Dictionary } from './dictionary.js';
import { fusionError } from './errors.js';
import { prepare, type FusionInput } from './fuse.js';
import { sensorPreset } from './preset.js';
import type { FusionColumns, FusionConfig, FusionResult } from './types.js';

/** Pairwise precision/recall/F1 over record pairs, and B-cubed F1. */
export type Quality = {
  precision: number;
  recall: number;
  f1: number;
  bcubedF1: number;
  bcubedPrecision: number;
  bcubedRecall: number;
  truePairs: number;
  predictedPairs: number;
};

/**
 * Scores `result` against `truth` (record id → true event id, null for clutter, which is its
 * own event). Every record of the result must be in the truth and vice versa.
 */
export function evaluate(result: FusionResult, truth: Record<string, string | null>): Quality {
  const rowOf = new Map<string, number>();
  const trueLabel = new Int32Array(Object.keys(truth).length);
  const events = new Dictionary();
  let row = 0;
  for (const [id, event] of Object.entries(truth)) {
    rowOf.set(id, row);
    trueLabel[row++] = events.label(event);
  }
  const predicted = new Uint32Array(row).fill(0xffffffff);
  for (const [e, event] of result.events.entries()) {
    for (const id of event.members) {
      const r = rowOf.get(id);
      if (r === undefined) throw fusionError('ERR_FUSION_INPUT', `evaluate: record ${JSON.stringify(id)} of event ${e} is not in the truth`);
      predicted[r] = e;
    }
  }
  const unplaced = predicted.indexOf(0xffffffff);
  if (unplaced >= 0) {
    const id = [...rowOf.keys()][unplaced];
    throw fusionError('ERR_FUSION_INPUT', `evaluate: record ${JSON.stringify(id)} of the truth is in no event`);
  }
  const q = native.evaluateLabels(predicted, trueLabel);
  return {
    precision: q.precision,
    recall: q.recall,
    f1: q.f1,
    bcubedF1: q.bcubedF1,
    bcubedPrecision: q.bcubedPrecision,
    bcubedRecall: q.bcubedRecall,
    truePairs: q.truePairs,
    predictedPairs: q.predictedPairs,
  };
}

/** Blocking quality: share of true cross-node pairs that are candidates, and pairs saved. */
export type BlockingQuality = {
  pairsCompleteness: number;
  reductionRatio: number;
  candidates: number;
  truePairs: number;
};

/** Measures the blocking of `config` on records with known truth (id → event, or per row). */
export function evaluateBlocking(records: FusionInput | FusionColumns, truth: Record<string, string | null> | Int32Array, config: FusionConfig = sensorPreset()): BlockingQuality {
  const { input, configJson } = prepare(records, config);
  let labels: Int32Array;
  if (truth instanceof Int32Array) labels = truth;
  else {
    labels = new Int32Array(input.length);
    const events = new Dictionary();
    for (let r = 0; r < input.length; r++) {
      const id = input.ids ? input.ids[r] : String(r);
      if (!(id in truth)) throw fusionError('ERR_FUSION_INPUT', `evaluateBlocking: record ${JSON.stringify(id)} is not in the truth`);
      labels[r] = events.label(truth[id]);
    }
  }
  const q = native.evaluateBlockingColumns(configJson, input.columns, labels);
  return {
    pairsCompleteness: q.pairsCompleteness,
    reductionRatio: q.reductionRatio,
    candidates: q.candidates,
    truePairs: q.truePairs,
  };
}
