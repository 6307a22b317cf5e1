/**
 * A write-ahead log with group commit: appends made while a write is in flight are written
 * together with one `writev` to a file opened with O_DSYNC (elsewhere: a `writev`, then an
 * `fdatasync`), and every append's promise resolves only after the data it carries is on
 * disk. A synced write costs the kernel far more CPU than copying the bytes it carries, so
 * writes start at least `minSyncIntervalMs` apart: under load each one carries more appends,
 * and an append to an idle log still goes at once. The log is a sequence of segment files; each frame is
 * `[u32 length][u32 crc32][payload]` (little endian), so a torn tail left by a crash is
 * recognised and cut off on open. A torn tail was never acknowledged: its append had not
 * resolved.
 *
 * Groups are written at explicit positions into space zero-filled ahead of them (as
 * PostgreSQL pre-zeroes its WAL segments): a synced write that only overwrites blocks the file
 * already has needs no journal commit for the file's size or its extents, which an append
 * does, so it returns sooner and costs the kernel less. A zero length field is where the
 * entries end; a clean close cuts the zeros off.
 */
import { closeSync, constants, fsyncSync, openSync, readdirSync, readFileSync, ftruncateSync, mkdirSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

const HEADER = 8;
/** A frame larger than this is corruption, not data (batches are far smaller). */
const MAX_FRAME = 256 * 1024 * 1024;
const SEGMENT = /^segment-(\d{8})\.log$/;
/** Every write durable on return (O_DSYNC), where the platform has it. */
const SYNC_WRITE = constants.O_DSYNC === undefined ? undefined : constants.O_WRONLY | constants.O_CREAT | constants.O_DSYNC;
/** Zeros written ahead of the log in steps of this size, to stay this far ahead at least. */
const ZERO_STEP = 1024 * 1024;
const ZERO_AHEAD = 4 * ZERO_STEP;
const ZEROS = Buffer.alloc(ZERO_STEP);

export type WalOptions = {
  /** Start a new segment once the current one holds this many bytes (default 64 MiB). */
  segmentBytes?: number;
  /** Reports a torn or corrupt tail that recovery cut off. */
  onTruncate?: (segment: string, atByte: number, droppedBytes: number) => void;
  /**
   * The least time from the start of one synced write to the start of the next (default
   * 2 ms): what an append may wait for its group to fill, at most. 0 writes as soon as the
   * previous write is done.
   */
  minSyncIntervalMs?: number;
};

/** The default least time between two synced writes. */
export const DEFAULT_MIN_SYNC_INTERVAL_MS = 2;

/** One recovered frame and the segment it lives in. */
export type WalEntry = { segment: number; payload: Buffer };

type Pending = { frames: Buffer[]; bytes: number; resolve: (segment: number) => void; reject: (e: Error) => void; promise: Promise<number> };

function segmentName(n: number): string {
  return `segment-${String(n).padStart(8, '0')}.log`;
}

/** One frame from the payload's parts, concatenated; text is encoded (UTF-8) straight in. */
function frame(parts: ReadonlyArray<Buffer | string>): Buffer {
  let length = 0;
  for (const part of parts) length += typeof part === 'string' ? Buffer.byteLength(part) : part.length;
  const out = Buffer.allocUnsafe(HEADER + length);
  let at = HEADER;
  for (const part of parts) at += typeof part === 'string' ? out.write(part, at) : part.copy(out, at);
  out.writeUInt32LE(length, 0);
  out.writeUInt32LE(crc32(out.subarray(HEADER)), 4);
  return out;
}

/**
 * Reads the valid frames of one segment; returns them, where the valid data ends, and whether
 * only zeros (space written ahead, not a torn write) follow it.
 */
function readSegment(path: string): { payloads: Buffer[]; validBytes: number; totalBytes: number; zeroTail: boolean } {
  const data = readFileSync(path);
  const payloads: Buffer[] = [];
  let at = 0;
  while (at + HEADER <= data.length) {
    const length = data.readUInt32LE(at);
    if (length === 0 || length > MAX_FRAME || at + HEADER + length > data.length) break;
    const payload = data.subarray(at + HEADER, at + HEADER + length);
    if (crc32(payload) !== data.readUInt32LE(at + 4)) break;
    payloads.push(payload);
    at += HEADER + length;
  }
  return { payloads, validBytes: at, totalBytes: data.length, zeroTail: isZero(data.subarray(at)) };
}

function isZero(bytes: Buffer): boolean {
  for (let at = 0; at < bytes.length; at += ZERO_STEP) {
    const part = bytes.subarray(at, at + ZERO_STEP);
    if (!part.equals(ZEROS.subarray(0, part.length))) return false;
  }
  return true;
}

export class WriteAheadLog {
  private handle: FileHandle | undefined;
  private segmentNo = 0;
  /** Bytes of entries in the current segment: where the next group goes. */
  private segmentBytes = 0;
  /** The current segment is zero-filled (and durable) up to here. */
  private zeroedTo = 0;
  /** A write of zeros ahead of the log, in flight. */
  private zeroing: Promise<void> | undefined;
  private readonly maxSegmentBytes: number;
  private readonly minSyncIntervalMs: number;
  /** When the last synced write started (performance.now()). */
  private lastWriteAt = -Infinity;
  private writes = 0;
  /** Appends waiting for the next group commit. */
  private next: Pending | undefined;
  private writing = false;
  private closed = false;
  /** Set when a write failed: the log refuses further appends (the hub answers 503). */
  private failure: Error | undefined;

  private constructor(
    readonly dir: string,
    options: WalOptions,
  ) {
    this.maxSegmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    const interval = options.minSyncIntervalMs ?? DEFAULT_MIN_SYNC_INTERVAL_MS;
    if (!Number.isFinite(interval) || interval < 0) throw new RangeError(`minSyncIntervalMs must be a finite number >= 0, got ${interval}`);
    this.minSyncIntervalMs = interval;
  }

  /**
   * Opens the log in `dir`, cutting any torn tail off the last segment, and returns it with
   * every valid entry in order.
   */
  static async open(dir: string, options: WalOptions = {}): Promise<{ wal: WriteAheadLog; entries: WalEntry[] }> {
    mkdirSync(dir, { recursive: true });
    const wal = new WriteAheadLog(dir, options);
    const segments = wal.segments();
    const entries: WalEntry[] = [];
    for (const n of segments) {
      const path = join(dir, segmentName(n));
      const { payloads, validBytes, totalBytes, zeroTail } = readSegment(path);
      for (const payload of payloads) entries.push({ segment: n, payload });
      if (validBytes < totalBytes) {
        // Only an unacknowledged tail can be torn; cut it so new frames follow valid ones.
        // Zeros written ahead of the log (left by a crash) are cut too, but are no tear.
        if (!zeroTail) options.onTruncate?.(segmentName(n), validBytes, totalBytes - validBytes);
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, validBytes);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
    }
    const last = segments.at(-1);
    // Always start a fresh segment: older ones become read-only and can be dropped whole.
    await wal.rotate((last ?? 0) + 1);
    return { wal, entries };
  }

  /** Segment numbers present on disk, ascending. */
  segments(): number[] {
    return readdirSync(this.dir)
      .map((name) => SEGMENT.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  /** Synced writes so far: each carries one group of appends. */
  get syncedWrites(): number {
    return this.writes;
  }

  /** The segment new appends go to. */
  get currentSegment(): number {
    return this.segmentNo;
  }

  private async rotate(n: number): Promise<void> {
    await this.closeSegment();
    this.handle = await open(join(this.dir, segmentName(n)), SYNC_WRITE ?? constants.O_WRONLY | constants.O_CREAT);
    this.segmentNo = n;
    this.segmentBytes = 0;
    this.zeroedTo = 0;
    await syncDir(this.dir);
    this.zeroAhead();
  }

  /** Finishes the zeros in flight, cuts the segment to its entries and closes it. */
  private async closeSegment(): Promise<void> {
    const handle = this.handle;
    if (!handle) return;
    await this.zeroing;
    this.handle = undefined;
    try {
      if (this.zeroedTo > this.segmentBytes) {
        await handle.truncate(this.segmentBytes);
        await handle.datasync();
      }
    } finally {
      await handle.close();
    }
  }

  /**
   * Starts writing the next step of zeros when the space zero-filled ahead of the log is short
   * (never past the segment's size). Called only between group writes, so zeros are never
   * written where a group is being written. Best effort: should it fail, groups are written
   * past the end of the file, as appends.
   */
  private zeroAhead(): void {
    const handle = this.handle;
    if (!handle || this.zeroing || this.zeroedTo >= this.segmentBytes + ZERO_AHEAD) return;
    const from = this.zeroedTo;
    const length = Math.min(ZERO_STEP, this.maxSegmentBytes - from);
    if (length <= 0) return;
    this.zeroing = (async () => {
      try {
        await handle.write(ZEROS, 0, length, from);
        if (SYNC_WRITE === undefined) await handle.datasync();
        if (this.handle === handle && this.zeroedTo === from) this.zeroedTo = from + length;
      } catch {
        // Left as it is: the next groups extend the file themselves.
      } finally {
        this.zeroing = undefined;
      }
    })();
  }

  /** Deletes a segment that holds nothing needed any more (never the current one). */
  dropSegment(n: number): void {
    if (n >= this.segmentNo) return;
    try {
      unlinkSync(join(this.dir, segmentName(n)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  /**
   * Appends one entry, the concatenation of `parts` (bytes, or text stored as UTF-8);
   * resolves, with the number of the segment that holds it, once it is on disk. Rejects if the
   * write or sync failed; after a failure every append rejects.
   */
  append(...parts: Array<Buffer | string>): Promise<number> {
    if (this.closed) return Promise.reject(new Error('write-ahead log is closed'));
    if (this.failure) return Promise.reject(this.failure);
    // A zero length field is where the entries end.
    if (parts.every((part) => part.length === 0)) return Promise.reject(new RangeError('a log entry holds at least one byte'));
    let group = this.next;
    if (!group) {
      let resolve!: (segment: number) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<number>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      group = { frames: [], bytes: 0, resolve, reject, promise };
      this.next = group;
    }
    const framed = frame(parts);
    group.frames.push(framed);
    group.bytes += framed.length;
    if (!this.writing) void this.drain();
    return group.promise;
  }

  /** Writes groups until none is waiting. */
  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.next) {
        // Let the group fill until the interval since the last write has passed.
        const wait = this.lastWriteAt + this.minSyncIntervalMs - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const group = this.next;
        this.next = undefined;
        try {
          // A group goes whole into one segment; one larger than a segment gets one of its own.
          if (this.segmentBytes > 0 && this.segmentBytes + group.bytes > this.maxSegmentBytes) await this.rotate(this.segmentNo + 1);
          // A group past the zeroed space waits for the zeros in flight (they must not land on
          // it), and writes on past the end of the file if it still does not fit.
          const end = this.segmentBytes + group.bytes;
          if (end > this.zeroedTo) await this.zeroing;
          const handle = this.handle!;
          this.lastWriteAt = performance.now();
          this.writes++;
          let written = 0;
          let buffers = group.frames;
          while (written < group.bytes) {
            const { bytesWritten } = await handle.writev(buffers, this.segmentBytes + written);
            written += bytesWritten;
            if (written < group.bytes) buffers = remaining(group.frames, written);
          }
          // Opened with O_DSYNC, a write returns once its data is durable: one trip to the
          // thread pool per group instead of a write and then a datasync.
          if (SYNC_WRITE === undefined) await handle.datasync();
          this.segmentBytes = end;
          this.zeroedTo = Math.max(this.zeroedTo, end);
          this.zeroAhead();
          group.resolve(this.segmentNo);
        } catch (e) {
          this.failure = e as Error;
          group.reject(this.failure);
          const waiting = this.next as Pending | undefined;
          waiting?.reject(this.failure);
          this.next = undefined;
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** Waits for pending appends, then closes the file (cut to its entries). */
  async close(): Promise<void> {
    while (this.writing || this.next) await new Promise((r) => setImmediate(r));
    this.closed = true;
    await this.closeSegment();
  }
}

/** The bytes of `frames` after the first `skip`. */
function remaining(frames: Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const b of frames) {
    if (at + b.length <= skip) {
      at += b.length;
      continue;
    }
    out.push(at >= skip ? b : b.subarray(skip - at));
    at += b.length;
  }
  return out;
}

/** fsyncs a directory so a created, renamed or deleted entry in it is durable. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
