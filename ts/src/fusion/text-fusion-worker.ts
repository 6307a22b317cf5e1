/**
 * The fusion thread (see `text-fusion.ts`): reads a round's batch texts, fuses them and
 * serialises the result, so none of it runs on the event loop that acknowledges batches.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { readBatchRecords } from './batch-texts.js';
import { fuseSync } from './fuse.js';
import { unpackTexts, type PackedTexts } from './packed-texts.js';
import { readQueryTexts, type TextQuery } from './query-texts.js';
import { lowerThreadPriority } from './thread-priority.js';
import type { FusionConfig } from './types.js';

const config = (workerData as { config: FusionConfig }).config;
const encoder = new TextEncoder();
lowerThreadPriority();

/** A fusion's texts: packed by the caller, or a query this thread runs itself. */
type Request = { id: number; packed: PackedTexts; query?: undefined } | { id: number; query: TextQuery; packed?: undefined };

parentPort!.on('message', async ({ id, packed, query }: Request) => {
  try {
    const texts = query ? await readQueryTexts(query) : unpackTexts(packed);
    const result = fuseSync(readBatchRecords(texts), config);
    const json = JSON.stringify(result);
    // The bytes are moved, not copied: a store writes them without encoding the text again.
    const bytes = encoder.encode(json);
    parentPort!.postMessage({ id, json, bytes, events: result.events.length }, [bytes.buffer]);
  } catch (e) {
    const error = e as Error & { code?: string };
    parentPort!.postMessage({ id, error: { message: error.message, code: error.code } });
  }
});
