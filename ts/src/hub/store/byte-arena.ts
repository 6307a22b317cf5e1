/**
 * Text kept as UTF-8 bytes in large chunks outside the JS heap. A hub keeps every accepted
 * batch's text until its round is fused; as strings, a round's worth (tens of MB) survives
 * every young-generation collection and is copied by each one, which shows as pauses of tens
 * of milliseconds in the acknowledgement latency. In chunks the collector never copies it.
 */

/** Bytes per chunk; a text larger than this gets a chunk of its own. */
const CHUNK_BYTES = 1 << 20;

export class ByteArena {
  private chunk: Buffer = Buffer.alloc(0);
  private used = 0;
  private total = 0;

  /** Copies `text` in as UTF-8 and returns a view of its bytes (valid as long as the view). */
  put(text: string): Buffer {
    const length = Buffer.byteLength(text);
    this.reserve(length);
    const start = this.used;
    this.chunk.write(text, start, length, 'utf8');
    this.used += length;
    this.total += length;
    return this.chunk.subarray(start, start + length);
  }

  /** Copies `bytes` in and returns a view of the copy. */
  copy(bytes: Uint8Array): Buffer {
    const length = bytes.length;
    this.reserve(length);
    const start = this.used;
    this.chunk.set(bytes, start);
    this.used += length;
    this.total += length;
    return this.chunk.subarray(start, start + length);
  }

  private reserve(length: number): void {
    if (this.used + length > this.chunk.length) {
      this.chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, length));
      this.used = 0;
    }
  }

  /** Bytes of text held. */
  get bytes(): number {
    return this.total;
  }
}
