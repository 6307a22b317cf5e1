/**
 * Text kept as UTF-8 bytes in large chunks outside the JS heap. A hub keeps every accepted
 * batch's text until its round is fused; as strings, a round's worth (tens of MB) survives
 * every young-generation collection and is copied by each one, which shows as pauses of tens
 * of milliseconds in the acknowledgement latency. In chunks the collector never copies it.
 * The chunks are `SharedArrayBuffer`s: the fusion thread is handed a round's chunks, not a copy.
 */

/** Bytes per chunk; a text larger than this gets a chunk of its own. */
const CHUNK_BYTES = 1 << 20;

export class ByteArena {
  private chunk: Buffer = Buffer.alloc(0);
  private used = 0;
  private total = 0;

  /** Copies `text` in (a string as UTF-8) and returns a view of its bytes (valid as long as the view). */
  put(text: string | Uint8Array): Buffer {
    if (typeof text !== 'string') return this.take(text.length, (chunk, at) => chunk.set(text, at));
    return this.take(Buffer.byteLength(text), (chunk, at, length) => chunk.write(text, at, length, 'utf8'));
  }

  /** Room for `length` bytes (a new chunk when the current one is full), filled by `fill`. */
  private take(length: number, fill: (chunk: Buffer, at: number, length: number) => void): Buffer {
    if (this.used + length > this.chunk.length) {
      this.chunk = Buffer.from(new SharedArrayBuffer(Math.max(CHUNK_BYTES, length)));
      this.used = 0;
    }
    const start = this.used;
    fill(this.chunk, start, length);
    this.used += length;
    this.total += length;
    return this.chunk.subarray(start, start + length);
  }

  /** Bytes of text held. */
  get bytes(): number {
    return this.total;
  }
}
