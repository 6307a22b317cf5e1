/**
 * The report link between a hub worker and the store's process: frames keep every field (text
 * that is not ASCII included) across any split of the stream, a turn's reports leave in one
 * write, answers keep their codes, and a lost or broken link fails the worker's reports with
 * ERR_STORE_UNAVAILABLE instead of leaving them waiting.
 */
import type { Socket } from 'node:net';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { decodeAnswer, decodeReport, encodeAnswer, encodeReport, FrameReader, Outbox, ReportSender, serveReports, type ReportCall } from '../src/hub/cluster/report-link.js';
import { HubError } from '../src/hub/errors.js';
import type { Batch, BatchOutcome } from '../src/hub/store/types.js';
import { socketPair } from './hub-helpers.js';

const call = (over: Partial<ReportCall> = {}): ReportCall => ({
  round: 'r-1',
  node: 'node:7',
  seq: 1_000_000,
  final: true,
  ids: ['a', 'é and 漢字', '🛰️'.repeat(30), 'x'.repeat(128)],
  json: '{"node":"node:7","records":[{"label":"ünïcödé 🛰️"}]}',
  digest: 'q3Kx7Lh0c1x1vJ0Yq7u2v8hK9m0=',
  ...over,
});

/** The frames of `bytes` (with their length fields) as `FrameReader` gives them. */
function framesOf(reader: FrameReader, chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const chunk of chunks) reader.push(chunk, (frame) => out.push(Buffer.from(frame)));
  return out;
}

const sockets: Socket[] = [];
async function pair(): Promise<[Socket, Socket]> {
  const ends = await socketPair();
  sockets.push(...ends);
  return ends;
}
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

describe('report-link frames', () => {
  it('carry a report whole: keys, flags and the text as UTF-8 bytes', () => {
    for (const c of [call(), call({ final: false, seq: 1, ids: [], json: '{}' })]) {
      const frame = encodeReport(42, c);
      expect(frame.readUInt32LE(0)).toBe(frame.length - 4);
      const { id, round, batch } = decodeReport(frame.subarray(4));
      expect(id).toBe(42);
      expect(round).toBe(c.round);
      expect({ ...batch, json: Buffer.from(batch.json).toString('utf8') }).toEqual({ node: c.node, seq: c.seq, final: c.final, ids: c.ids, digest: c.digest, json: c.json });
    }
  });

  it('carry an outcome in every state, and an error with its code (anything not a HubError as ERR_INTERNAL)', () => {
    for (const state of ['open', 'closed', 'fused', 'failed'] as const) {
      for (const outcome of [
        { duplicate: true, state, complete: false },
        { duplicate: false, state, complete: true },
      ]) {
        expect(decodeAnswer(encodeAnswer(7, outcome).subarray(4))).toEqual({ id: 7, outcome });
      }
    }
    const conflict = decodeAnswer(encodeAnswer(8, { error: new HubError('ERR_BATCH_CONFLICT', 'batch 3 of "é" differs') }).subarray(4));
    expect(conflict.id).toBe(8);
    expect(conflict.error).toMatchObject({ name: 'FleetscaleError', code: 'ERR_BATCH_CONFLICT', statusCode: 409, message: 'batch 3 of "é" differs' });
    expect(decodeAnswer(encodeAnswer(9, { error: new TypeError('boom') }).subarray(4)).error).toMatchObject({ code: 'ERR_INTERNAL', message: 'boom' });
  });

  it('refuses a key too long for its length field', () => {
    expect(() => encodeReport(1, call({ ids: ['x'.repeat(70_000)] }))).toThrow(HubError);
  });

  it('come out of the stream whole however it is split: byte by byte, many in a chunk, one in many chunks', () => {
    const frames = [
      encodeReport(1, call()),
      encodeAnswer(2, { duplicate: false, state: 'open', complete: false }),
      encodeReport(3, call({ json: `{"big":"${'z'.repeat(300_000)}"}` })),
    ];
    const stream = Buffer.concat(frames);
    const expected = frames.map((f) => f.subarray(4));
    expect(framesOf(new FrameReader(), [stream])).toEqual(expected);
    const small = stream.subarray(0, frames[0].length + frames[1].length);
    expect(
      framesOf(
        new FrameReader(),
        [...small].map((byte) => Buffer.from([byte])),
      ),
    ).toEqual(expected.slice(0, 2));
    const chunks: Buffer[] = [];
    for (let at = 0; at < stream.length; at += 4099) chunks.push(stream.subarray(at, at + 4099));
    expect(framesOf(new FrameReader(), chunks)).toEqual(expected);
    // A split inside a length field, and a frame's end and the next one's start in one chunk.
    expect(framesOf(new FrameReader(), [stream.subarray(0, 2), stream.subarray(2, frames[0].length + 3), stream.subarray(frames[0].length + 3)])).toEqual(expected);
  });

  it('refuse a length no frame has', () => {
    const reader = new FrameReader();
    expect(() => reader.push(Buffer.from([1, 0, 0, 0, 9]), () => {})).toThrow(/frame of 1 bytes/);
    expect(() => new FrameReader().push(Buffer.from([0xff, 0xff, 0xff, 0xff]), () => {})).toThrow(/frame of 4294967295 bytes/);
  });
});

describe('Outbox', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setImmediate', 'setTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** An outbox with the gap `minGapMs` over a stand-in link that records each write's bytes. */
  function recordingOutbox(minGapMs?: number) {
    const writes: string[] = [];
    const link = { destroyed: false, writable: true, write: (bytes: Buffer) => writes.push(String(bytes)) };
    return { writes, link, outbox: new Outbox(link as unknown as Socket, minGapMs) };
  }

  /** `recordingOutbox` once a frame "a" to its idle link has left, at the end of its turn. */
  function afterOneWrite(minGapMs: number) {
    const recording = recordingOutbox(minGapMs);
    recording.outbox.add(Buffer.from('a'));
    vi.advanceTimersToNextTimer();
    expect(recording.writes).toEqual(['a']);
    return recording;
  }

  it('sends the frames of one turn in one write at the end of the turn', () => {
    const { writes, outbox } = recordingOutbox();
    outbox.add(Buffer.from('a'));
    outbox.add(Buffer.from('b'));
    expect(writes).toEqual([]);
    vi.advanceTimersToNextTimer();
    expect(writes).toEqual(['ab']);
    // With no gap, the next turn's frame leaves at the end of that turn.
    outbox.add(Buffer.from('c'));
    vi.advanceTimersToNextTimer();
    expect(writes).toEqual(['ab', 'c']);
  });

  it('with a gap, sends a frame to an idle link at the end of its turn and holds later ones until the gap has passed', () => {
    const { writes, outbox } = afterOneWrite(5);
    // Frames of the next turns wait for the gap, then leave together.
    vi.advanceTimersByTime(1);
    outbox.add(Buffer.from('b'));
    vi.advanceTimersByTime(1);
    outbox.add(Buffer.from('c'));
    vi.advanceTimersByTime(2);
    expect(writes).toEqual(['a']);
    vi.advanceTimersByTime(1);
    expect(writes).toEqual(['a', 'bc']);
    // Past the gap, the link is idle again: a frame leaves at the end of its turn.
    vi.advanceTimersByTime(10);
    outbox.add(Buffer.from('d'));
    vi.advanceTimersToNextTimer();
    expect(writes).toEqual(['a', 'bc', 'd']);
  });

  it("with a gap of a millisecond (a hub worker's), holds a frame that comes within it after a write", () => {
    const { writes, outbox } = afterOneWrite(1);
    // Half a millisecond later: the write waits for the gap instead of leaving at the end of the turn.
    vi.advanceTimersByTime(0.5);
    outbox.add(Buffer.from('b'));
    outbox.add(Buffer.from('c'));
    vi.advanceTimersByTime(0);
    expect(writes).toEqual(['a']);
    vi.advanceTimersByTime(1);
    expect(writes).toEqual(['a', 'bc']);
  });

  it('drops what it holds once the link is closed', () => {
    const { writes, link, outbox } = recordingOutbox(5);
    outbox.add(Buffer.from('a'));
    link.destroyed = true;
    vi.advanceTimersByTime(10);
    expect(writes).toEqual([]);
  });
});

describe('ReportSender and serveReports over a socket pair', () => {
  it('answers each report with its own outcome or error, the reports of one turn in one write', async () => {
    const [workerEnd, primaryEnd] = await pair();
    const seen: Array<[string, Batch]> = [];
    serveReports(primaryEnd, async (round, batch) => {
      seen.push([round, batch]);
      if (batch.seq === 2) throw new HubError('ERR_AFTER_FINAL', 'batch 2 comes after the final batch');
      return { duplicate: batch.seq === 3, state: 'open', complete: false } satisfies BatchOutcome;
    });
    const writes = vi.spyOn(workerEnd, 'write');
    const sender = new ReportSender(workerEnd);
    const answers = await Promise.allSettled([1, 2, 3].map((seq) => sender.report(call({ seq, final: false }))));
    expect(writes).toHaveBeenCalledTimes(1);
    expect(answers[0]).toEqual({ status: 'fulfilled', value: { duplicate: false, state: 'open', complete: false } });
    expect(answers[1]).toMatchObject({ status: 'rejected', reason: { code: 'ERR_AFTER_FINAL', statusCode: 409 } });
    expect(answers[2]).toEqual({ status: 'fulfilled', value: { duplicate: true, state: 'open', complete: false } });
    expect(seen.map(([round, batch]) => [round, batch.seq, Buffer.from(batch.json).toString('utf8')])).toEqual([1, 2, 3].map((seq) => ['r-1', seq, call().json]));
    expect(sender.inFlight).toBe(0);
  });

  it('fails every report in flight, and every later one, with ERR_STORE_UNAVAILABLE when the primary goes', async () => {
    const [workerEnd, primaryEnd] = await pair();
    let arrived!: () => void;
    const received = new Promise<void>((resolve) => (arrived = resolve));
    serveReports(primaryEnd, () => {
      arrived();
      return new Promise<BatchOutcome>(() => {}); // never answered
    });
    const sender = new ReportSender(workerEnd);
    const waiting = sender.report(call());
    await received;
    expect(sender.inFlight).toBe(1);
    primaryEnd.destroy();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', statusCode: 503 });
    await expect(sender.report(call())).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' });
    expect(sender.inFlight).toBe(0);
  });

  it("drops a link whose stream breaks the framing, and tells why; the worker's reports fail, not hang", async () => {
    const [workerEnd, primaryEnd] = await pair();
    const errors: Error[] = [];
    let accepted = 0;
    serveReports(
      primaryEnd,
      async () => {
        accepted++;
        return { duplicate: false, state: 'open', complete: false };
      },
      (e) => errors.push(e),
    );
    const sender = new ReportSender(workerEnd);
    // The report's frame leaves at the end of this turn; the broken bytes go before it.
    const waiting = sender.report(call());
    workerEnd.write(Buffer.from([2, 0, 0, 0, 0, 0])); // a frame too short to be one
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' });
    expect(errors.map((e) => e.message)).toEqual(['a report-link frame of 2 bytes']);
    // Nothing after the broken frame is taken: the stream cannot be read past it.
    expect(accepted).toBe(0);
  });
});
