/**
 * Batch texts fused by the native layer from their bytes to the result's JSON text: read
 * straight into columns, fused, and written, with no object per record or per event. For a
 * round of 200,000 observations the TypeScript path spent some 250 ms parsing the texts into
 * objects, 65 ms turning those into columns, and 200 ms building and serialising the result;
 * this path does all of it in the native layer (`npm run bench:fusion-texts`). The result's text is
 * the one `JSON.stringify(fuseSync(records))` gives, but for the timings. Texts the native
 * reader does not take (anything the TypeScript reader would reject, and a few rare forms) are
 * left to the TypeScript path, which names the problem.
 */
import { native } from '../native.js';
import type { PackedTexts } from './packed-texts.js';

/** The result's JSON text as UTF-8, and its number of events. */
export type NativeFusedText = { bytes: Uint8Array<ArrayBuffer>; events: number };

/**
 * Fuses `packed` texts with the config `configText` (checked JSON, `configJson`); undefined
 * when the native reader leaves them to `readBatchRecords`.
 */
export function fuseTextsNatively(packed: PackedTexts, configText: string): NativeFusedText | undefined {
  const chunks = packed.buffers.map((buffer) => new Uint8Array(buffer));
  const out = native.fuseBatchTexts(configText, chunks, packed.spans, packed.strings);
  // A copy the caller may transfer (the native buffer's memory is not the JS heap's to move).
  return out ? { bytes: new Uint8Array(out.json), events: out.events } : undefined;
}
