/**
 * Records out of batch texts: each text a JSON object with a `records` array, as a hub batch
 * arrives (UTF-8 bytes or a string). Shared by the fusion thread and by whoever reads a store.
 */
import { fusionError } from './errors.js';
import type { SensorRecord } from './types.js';

export type BatchText = Uint8Array | string;

/** Every batch's records, in order; `ERR_FUSION_INPUT` names a batch that is not such an object. */
export function readBatchRecords(texts: readonly BatchText[]): SensorRecord[] {
  const decoder = new TextDecoder();
  const out: SensorRecord[] = [];
  for (let k = 0; k < texts.length; k++) {
    const text = texts[k];
    let body: { records?: unknown };
    try {
      body = JSON.parse(typeof text === 'string' ? text : decoder.decode(text)) as { records?: unknown };
    } catch (e) {
      throw fusionError('ERR_FUSION_INPUT', `batch ${k} is not JSON: ${(e as Error).message}`);
    }
    if (body === null || typeof body !== 'object' || !Array.isArray(body.records)) {
      throw fusionError('ERR_FUSION_INPUT', `batch ${k} has no records array`);
    }
    for (const record of body.records as SensorRecord[]) out.push(record);
  }
  return out;
}
