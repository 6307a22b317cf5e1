/**
 * A round's batch texts packed for the message to the fusion thread. Sent as an array of byte
 * views, each view is an object of its own to the structured clone: 40,000 of them were
 * serialised one by one on the event loop that acknowledges batches, which took it for 20 ms
 * and more at every round close (`npm run bench:fusion-handoff`). Packed, the message holds
 * each distinct buffer the views lie in once (a `SharedArrayBuffer`, as the embedded store's
 * arena chunks are, is shared, not copied) and one array of numbers that says where each text
 * is. String texts stay strings (joining them into one took longer than cloning them), and
 * texts that are all strings (PostgreSQL's) go as the array they are.
 */
import type { BatchText } from './batch-texts.js';

export type PackedTexts = {
  /** The buffers the byte texts lie in, each once. */
  buffers: ArrayBufferLike[];
  /** The string texts. */
  strings: string[];
  /**
   * Three numbers per text, in order: the index of its buffer in `buffers` and its byte offset
   * and length there; or, for a string text, -1 and its index in `strings` (and 0). Null when
   * every text is a string: `strings` are the texts.
   */
  spans: Float64Array | null;
};

/** Packs `texts` (see `PackedTexts`); the texts are not copied here. */
export function packTexts(texts: readonly BatchText[]): PackedTexts {
  if (texts.every((text) => typeof text === 'string')) return { buffers: [], strings: texts as string[], spans: null };
  const buffers: ArrayBufferLike[] = [];
  const bufferIndex = new Map<ArrayBufferLike, number>();
  const strings: string[] = [];
  const spans = new Float64Array(texts.length * 3);
  for (let k = 0; k < texts.length; k++) {
    const text = texts[k];
    if (typeof text === 'string') {
      spans[3 * k] = -1;
      spans[3 * k + 1] = strings.length;
      strings.push(text);
      continue;
    }
    let index = bufferIndex.get(text.buffer);
    if (index === undefined) {
      index = buffers.length;
      buffers.push(text.buffer);
      bufferIndex.set(text.buffer, index);
    }
    spans[3 * k] = index;
    spans[3 * k + 1] = text.byteOffset;
    spans[3 * k + 2] = text.byteLength;
  }
  return { buffers, strings, spans };
}

/** The texts `packTexts` packed, as views of its buffers and its strings. */
export function unpackTexts({ buffers, strings, spans }: PackedTexts): BatchText[] {
  if (spans === null) return strings;
  const texts = new Array<BatchText>(spans.length / 3);
  for (let k = 0; k < texts.length; k++) {
    const index = spans[3 * k];
    const start = spans[3 * k + 1];
    const length = spans[3 * k + 2];
    texts[k] = index < 0 ? strings[start] : new Uint8Array(buffers[index], start, length);
  }
  return texts;
}
