/**
 * The hot path between a hub worker and the process owning the store: batches go as binary
 * frames over a socket pair of their own, beside the general RPC link (cluster IPC). Through
 * cluster IPC each batch was a structured clone: serialised by V8 in the worker, its text and
 * every record id rebuilt as heap strings by the primary, which then encoded the text to UTF-8
 * again for its log. Here the worker writes the batch's text as UTF-8 once, the primary keeps
 * it as bytes (it never becomes a string there) and decodes only the short keys, and an answer
 * is a 12-byte frame. The frames of one event-loop turn leave in one write, and a worker's
 * reports at most once a millisecond (`Outbox`).
 *
 * A frame is `[u32 length of the rest][u32 call id][payload]`, little endian:
 * - worker → primary, a report: round, node (each u16 length + UTF-8), u32 seq, u8 final,
 *   digest (u8 length + ASCII), u32 count of record ids, each id (u16 length + UTF-8), and the
 *   batch's JSON text (UTF-8) to the end of the frame;
 * - primary → worker, an answer: u8 0, then u8 duplicate, u8 state, u8 complete; or u8 1, then
 *   the error's code (u8 length + ASCII) and message (UTF-8) to the end of the frame.
 */
import type { Duplex } from 'node:stream';

import { HubError } from '../errors.js';
import type { Batch, BatchOutcome, RoundState } from '../store/types.js';
import { fromWire, toWire } from './rpc.js';

/** The worker's file descriptor of its end of the link (its fifth stdio entry). */
export const REPORT_LINK_FD = 4;

/** The least time between two writes of a worker's reports (ms; see `Outbox`). */
export const REPORT_WRITE_GAP_MS = 1;

/** A frame larger than this is a broken stream, not a batch (bodies are limited far below). */
const MAX_FRAME_BYTES = 1 << 30;
const STATES: readonly RoundState[] = ['open', 'closed', 'fused', 'failed'];
const ANSWER_OK = 0;
const ANSWER_ERROR = 1;

/** What a report carries over the link: the batch as the store takes it, text as a string. */
export type ReportCall = { round: string; node: string; seq: number; final: boolean; ids: readonly string[]; json: string; digest: string };

/** Splits a byte stream into frames (the bytes after each length field), across chunks. */
export class FrameReader {
  /** Chunks of a frame not complete yet, and how many bytes they hold. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes the pending frame needs in all (its length field included), once known. */
  private needed = 4;

  /** Calls `onFrame` for every complete frame `chunk` ends; throws on a length no frame has. */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let buf = chunk;
    if (this.pendingBytes > 0) {
      // A large frame arrives in many chunks: they are joined once, when it is complete.
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < this.needed) return;
      buf = Buffer.concat(this.pending, this.pendingBytes);
      if (this.needed === 4 && buf.length >= 4) this.needed = 4 + this.frameLength(buf, 0);
      if (buf.length < this.needed) {
        this.pending = [buf];
        return;
      }
      this.pending = [];
      this.pendingBytes = 0;
    }
    let at = 0;
    while (buf.length - at >= 4) {
      const length = this.frameLength(buf, at);
      if (buf.length - at - 4 < length) break;
      onFrame(buf.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    this.needed = 4;
    if (at < buf.length) {
      const rest = buf.subarray(at);
      this.pending = [rest];
      this.pendingBytes = rest.length;
      if (rest.length >= 4) this.needed = 4 + this.frameLength(rest, 0);
    }
  }

  private frameLength(buf: Buffer, at: number): number {
    const length = buf.readUInt32LE(at);
    if (length < 4 || length > MAX_FRAME_BYTES) throw new Error(`a report-link frame of ${length} bytes`);
    return length;
  }
}

/**
 * Frames sent together in one write: those of one event-loop turn, and with `minGapMs`, those
 * of every turn until `minGapMs` after the previous write. A write to the link and its read on
 * the other side are two system calls and a wake-up of the other process; paced load spreads
 * batches over turns one or two at a time, so one write per turn was one per batch. A gap of
 * a millisecond is nothing to a batch that waits for the log's next group write (2 ms apart by
 * default) and takes the link's writes from thousands a second to at most a thousand. A frame
 * added to an idle link still leaves at the end of its turn.
 */
export class Outbox {
  private frames: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;
  private lastWrite = -Infinity;

  constructor(
    private readonly socket: Duplex,
    private readonly minGapMs = 0,
  ) {}

  add(frame: Buffer): void {
    this.frames.push(frame);
    this.bytes += frame.length;
    if (this.scheduled) return;
    this.scheduled = true;
    // Timers count whole milliseconds: a wait shorter than one waits one.
    const wait = this.lastWrite + this.minGapMs - performance.now();
    if (wait > 0) setTimeout(this.flush, Math.ceil(wait));
    else setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const frames = this.frames;
    this.frames = [];
    const bytes = this.bytes;
    this.bytes = 0;
    if (this.socket.destroyed || !this.socket.writable) return;
    this.lastWrite = performance.now();
    this.socket.write(frames.length === 1 ? frames[0] : Buffer.concat(frames, bytes));
  };
}

/** A report as one frame. */
export function encodeReport(id: number, call: ReportCall): Buffer {
  const { round, node, ids, json, digest } = call;
  const roundBytes = Buffer.byteLength(round);
  const nodeBytes = Buffer.byteLength(node);
  const bodyBytes = Buffer.byteLength(json);
  let size = 4 + 4 + 2 + roundBytes + 2 + nodeBytes + 4 + 1 + 1 + digest.length + 4 + bodyBytes;
  for (let k = 0; k < ids.length; k++) size += 2 + Buffer.byteLength(ids[k]);
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(size - 4, 0);
  out.writeUInt32LE(id, 4);
  let at = 8;
  at = writeShort(out, at, round, roundBytes);
  at = writeShort(out, at, node, nodeBytes);
  out.writeUInt32LE(call.seq, at);
  out[at + 4] = call.final ? 1 : 0;
  out[at + 5] = digest.length;
  at += 6;
  at += out.write(digest, at, 'latin1');
  out.writeUInt32LE(ids.length, at);
  at += 4;
  for (let k = 0; k < ids.length; k++) at = writeShort(out, at, ids[k], Buffer.byteLength(ids[k]));
  out.write(json, at, bodyBytes, 'utf8');
  return out;
}

function writeShort(out: Buffer, at: number, text: string, bytes: number): number {
  if (bytes > 0xffff) throw new HubError('ERR_VALIDATION', `a key of ${bytes} bytes does not fit a report frame`);
  out.writeUInt16LE(bytes, at);
  return at + 2 + out.write(text, at + 2, bytes, 'utf8');
}

/** A report frame back as its call id, round and batch; the batch's text stays bytes (a view of `frame`). */
export function decodeReport(frame: Buffer): { id: number; round: string; batch: Batch } {
  const id = frame.readUInt32LE(0);
  let at = 4;
  const roundBytes = frame.readUInt16LE(at);
  const round = frame.toString('utf8', at + 2, (at += 2 + roundBytes));
  const nodeBytes = frame.readUInt16LE(at);
  const node = frame.toString('utf8', at + 2, (at += 2 + nodeBytes));
  const seq = frame.readUInt32LE(at);
  const final = frame[at + 4] === 1;
  const digestBytes = frame[at + 5];
  at += 6;
  const digest = frame.toString('latin1', at, (at += digestBytes));
  const count = frame.readUInt32LE(at);
  at += 4;
  const ids = new Array<string>(count);
  for (let k = 0; k < count; k++) {
    const bytes = frame.readUInt16LE(at);
    ids[k] = frame.toString('utf8', at + 2, (at += 2 + bytes));
  }
  if (at > frame.length) throw new RangeError('a report frame ends inside its keys');
  return { id, round, batch: { node, seq, final, ids, digest, json: frame.subarray(at) } };
}

/** An answer as one frame. */
export function encodeAnswer(id: number, outcome: BatchOutcome | { error: unknown }): Buffer {
  if ('error' in outcome) {
    const { code, message } = toWire(outcome.error);
    const messageBytes = Buffer.byteLength(message);
    const out = Buffer.allocUnsafe(4 + 4 + 1 + 1 + code.length + messageBytes);
    out.writeUInt32LE(out.length - 4, 0);
    out.writeUInt32LE(id, 4);
    out[8] = ANSWER_ERROR;
    out[9] = code.length;
    out.write(code, 10, 'latin1');
    out.write(message, 10 + code.length, 'utf8');
    return out;
  }
  const out = Buffer.allocUnsafe(4 + 4 + 4);
  out.writeUInt32LE(8, 0);
  out.writeUInt32LE(id, 4);
  out[8] = ANSWER_OK;
  out[9] = outcome.duplicate ? 1 : 0;
  out[10] = STATES.indexOf(outcome.state);
  out[11] = outcome.complete ? 1 : 0;
  return out;
}

/** An answer frame back as its call id and outcome, or the error it carries. */
export function decodeAnswer(frame: Buffer): { id: number; outcome?: BatchOutcome; error?: Error } {
  const id = frame.readUInt32LE(0);
  if (frame[4] === ANSWER_OK) {
    const state = STATES[frame[6]];
    if (state === undefined) return { id, error: new HubError('ERR_INTERNAL', `an answer with round state ${frame[6]}`) };
    return { id, outcome: { duplicate: frame[5] === 1, state, complete: frame[7] === 1 } };
  }
  const codeBytes = frame[5];
  return { id, error: fromWire({ code: frame.toString('latin1', 6, 6 + codeBytes), message: frame.toString('utf8', 6 + codeBytes) }) };
}

/** The worker's end: sends reports, resolves each with the primary's answer. */
export class ReportSender {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (outcome: BatchOutcome) => void; reject: (error: Error) => void }>();
  private readonly outbox: Outbox;
  private gone: Error | undefined;

  /** `minGapMs`: the least time between two writes of reports (see `Outbox`; a hub worker's is `REPORT_WRITE_GAP_MS`). */
  constructor(socket: Duplex, minGapMs = 0) {
    this.outbox = new Outbox(socket, minGapMs);
    const reader = new FrameReader();
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, (frame) => this.answer(frame));
      } catch (e) {
        socket.destroy(e as Error);
      }
    });
    const lost = (why: string) => this.fail(new HubError('ERR_STORE_UNAVAILABLE', `the hub's store process is unreachable: ${why}`));
    socket.on('error', (e) => lost(e.message));
    socket.on('close', () => lost('its report link closed'));
  }

  /** Reports not answered yet. */
  get inFlight(): number {
    return this.waiting.size;
  }

  /** Sends a report; resolves with its outcome, rejects with the primary's error. */
  report(call: ReportCall): Promise<BatchOutcome> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId;
    this.nextId = id === 0xffffffff ? 1 : id + 1;
    let frame: Buffer;
    try {
      frame = encodeReport(id, call);
    } catch (e) {
      return Promise.reject(e);
    }
    this.outbox.add(frame);
    return new Promise<BatchOutcome>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  /** The primary is gone: every report in flight, and every later one, fails with `error`. */
  fail(error: Error): void {
    this.gone ??= error;
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const { reject } of waiting) reject(this.gone);
  }

  private answer(frame: Buffer): void {
    const { id, outcome, error } = decodeAnswer(frame);
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    this.waiting.delete(id);
    if (error) waiter.reject(error);
    else waiter.resolve(outcome!);
  }
}

/**
 * The primary's end for one worker: each report goes to `accept`, its outcome or error back.
 * A stream that breaks the framing is destroyed (the worker's reports then fail with
 * ERR_STORE_UNAVAILABLE); `onError` is told why.
 */
export function serveReports(socket: Duplex, accept: (round: string, batch: Batch) => Promise<BatchOutcome>, onError: (error: Error) => void = () => {}): void {
  const outbox = new Outbox(socket);
  const reader = new FrameReader();
  const handle = (frame: Buffer) => {
    const { id, round, batch } = decodeReport(frame);
    accept(round, batch).then(
      (outcome) => outbox.add(encodeAnswer(id, outcome)),
      (error: unknown) => outbox.add(encodeAnswer(id, { error })),
    );
  };
  socket.on('data', (chunk: Buffer) => {
    try {
      reader.push(chunk, handle);
    } catch (e) {
      onError(e as Error);
      socket.destroy();
    }
  });
  socket.on('error', (e) => onError(e));
}
