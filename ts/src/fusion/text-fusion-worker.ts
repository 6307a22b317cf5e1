/**
 * The fusion thread (see `text-fusion.ts`): reads a round's batch texts, fuses them and
 * serialises the result, so none of it runs on the event loop that acknowledges batches.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { readBatchRecords, type BatchText } from './batch-texts.js';
import { fuseSync } from './fuse.js';
import type { FusionConfig } from './types.js';

const config = (workerData as { config: FusionConfig }).config;

parentPort!.on('message', ({ id, texts }: { id: number; texts: BatchText[] }) => {
  try {
    const result = fuseSync(readBatchRecords(texts), config);
    parentPort!.postMessage({ id, json: JSON.stringify(result), events: result.events.length });
  } catch (e) {
    const error = e as Error & { code?: string };
    parentPort!.postMessage({ id, error: { message: error.message, code: error.code } });
  }
});
