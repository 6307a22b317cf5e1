/**
 * Batch texts packed for the fusion thread: every text comes back as it was (bytes in any
 * buffer, shared or not, and strings of any characters), each buffer is packed once, a shared
 * buffer is not copied, and a real message to another thread carries them.
 */
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';

import { describe, expect, it } from 'vitest';

import type { BatchText } from '../src/fusion/batch-texts.js';
import { packTexts, unpackTexts } from '../src/fusion/packed-texts.js';
import { ByteArena } from '../src/hub/store/byte-arena.js';

const utf8 = (text: BatchText) => (typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8'));

function mixed(): BatchText[] {
  const arena = new ByteArena();
  // A buffer of its own (not the pool's), two texts in it.
  const plain = Buffer.alloc(30);
  plain.write('{"records":[1]}{"records":[2]}');
  return [
    arena.put('{"records":["é 漢字 🛰️"]}'),
    '{"records":["a string"]}',
    plain.subarray(0, 15),
    '',
    arena.put('{"records":[]}'),
    '{"records":["\\ud83d\\udef0 and 🛰️"]}',
    plain.subarray(15),
    new Uint8Array(0),
    Buffer.from('{"records":["pooled"]}'),
  ];
}

describe('packTexts and unpackTexts', () => {
  it('give back every text, in order, with the same bytes or characters', () => {
    const texts = mixed();
    const back = unpackTexts(packTexts(texts));
    expect(back.map((t) => typeof t)).toEqual(texts.map((t) => typeof t));
    expect(back.map(utf8)).toEqual(texts.map(utf8));
  });

  it('pack each buffer once, and the string texts as they are', () => {
    const packed = packTexts(mixed());
    // The arena's chunk, the plain buffer (two views), the empty array's, the pooled buffer's.
    expect(packed.buffers).toHaveLength(4);
    expect(packed.strings).toEqual(['{"records":["a string"]}', '', '{"records":["\\ud83d\\udef0 and 🛰️"]}']);
    expect(packed.spans).toHaveLength(27);
    expect(unpackTexts(packTexts([])).length).toBe(0);
    // Texts that are all strings go as they are.
    const strings = ['{"records":[]}', '{"records":["é"]}'];
    expect(packTexts(strings)).toEqual({ buffers: [], strings, spans: null });
    expect(unpackTexts(packTexts(strings))).toEqual(strings);
  });

  it('cross to another thread in one message, sharing the arena chunks instead of copying them', () => {
    const texts = mixed();
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(packTexts(texts));
    const received = receiveMessageOnPort(port2)!.message as ReturnType<typeof packTexts>;
    port1.close();
    const back = unpackTexts(received);
    expect(back.map(utf8)).toEqual(texts.map(utf8));
    // The same memory: a byte changed in the arena after the message shows on the other side.
    (texts[0] as Uint8Array)[2] = 'R'.charCodeAt(0);
    expect(utf8(back[0]).slice(0, 4)).toBe('{"Re');
  });
});
