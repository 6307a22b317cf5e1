/**
 * The fusion thread (see `text-fusion.ts`): reads a round's batch texts, fuses them and
 * serialises the result, so none of it runs on the event loop that acknowledges batches.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { readBatchRecords } from './batch-texts.js';
import { configJson, fuseSync } from './fuse.js';
import { fuseTextsNatively } from './native-texts.js';
import { packTexts, unpackTexts, type PackedTexts } from './packed-texts.js';
import { readQueryTexts, type TextQuery } from './query-texts.js';
import { lowerThreadPriority } from './thread-priority.js';
import type { FusionConfig } from './types.js';

const config = (workerData as { config: FusionConfig }).config;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
lowerThreadPriority();

/** The config as checked JSON for the native path; null when it fails the check (the TS path names the problem). */
let configText: string | null | undefined;
function nativeConfig(): string | null {
  if (configText === undefined) {
    try {
      configText = configJson(config);
    } catch {
      configText = null;
    }
  }
  return configText;
}

/** A fusion's texts: packed by the caller, or a query this thread runs itself. */
type Request = { id: number; packed: PackedTexts; query?: undefined } | { id: number; query: TextQuery; packed?: undefined };

parentPort!.on('message', async ({ id, packed, query }: Request) => {
  try {
    const texts = query ? packTexts(await readQueryTexts(query)) : packed;
    const text = nativeConfig();
    const fused = text === null ? undefined : fuseTextsNatively(texts, text);
    let reply: { json: string; bytes: Uint8Array<ArrayBuffer>; events: number };
    if (fused) {
      reply = { json: decoder.decode(fused.bytes), ...fused };
    } else {
      const result = fuseSync(readBatchRecords(unpackTexts(texts)), config);
      const json = JSON.stringify(result);
      reply = { json, bytes: encoder.encode(json), events: result.events.length };
    }
    // The bytes are moved, not copied: a store writes them without encoding the text again.
    parentPort!.postMessage({ id, ...reply }, [reply.bytes.buffer]);
  } catch (e) {
    const error = e as Error & { code?: string };
    parentPort!.postMessage({ id, error: { message: error.message, code: error.code } });
  }
});
