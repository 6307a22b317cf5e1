/**
 * The fusion thread (see `text-fusion.ts`): reads a round's batch texts, fuses them and
 * serialises the result, so none of it runs on the event loop that acknowledges batches.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { readBatchRecords } from './batch-texts.js';
import { fuseSync } from './fuse.js';
import { unpackTexts, type PackedTexts } from './packed-texts.js';
import { lowerThreadPriority } from './thread-priority.js';
import type { FusionConfig } from './types.js';

const config = (workerData as { config: FusionConfig }).config;
const encoder = new TextEncoder();
lowerThreadPriority();

parentPort!.on('message', ({ id, packed }: { id: number; packed: PackedTexts }) => {
  try {
    const result = fuseSync(readBatchRecords(unpackTexts(packed)), config);
    const json = JSON.stringify(result);
    // The bytes are moved, not copied: a store writes them without encoding the text again.
    const bytes = encoder.encode(json);
    parentPort!.postMessage({ id, json, bytes, events: result.events.length }, [bytes.buffer]);
  } catch (e) {
    const error = e as Error & { code?: string };
    parentPort!.postMessage({ id, error: { message: error.message, code: error.code } });
  }
});
