import { closeSync, cpSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';

import { describe, expect, it, vi } from 'vitest';

import { readBatchRecords } from '../src/fusion/batch-texts.js';
import { ByteArena } from '../src/hub/store/byte-arena.js';
import { EmbeddedStore } from '../src/hub/store/embedded.js';
import { WriteAheadLog } from '../src/hub/store/wal.js';
import { tempDir } from './hub-helpers.js';

describe('ByteArena', () => {
  it('gives back every text byte for byte, across chunk ends and in chunks of their own', () => {
    const arena = new ByteArena();
    const texts = ['', 'plain', 'é and 漢字 and 🛰️', 'x'.repeat(700_000), 'y'.repeat(600_000), 'z'.repeat(3 << 20), 'after'];
    const views = texts.map((t) => arena.put(t));
    expect(views.map((v) => v.toString('utf8'))).toEqual(texts);
    expect(arena.bytes).toBe(texts.reduce((n, t) => n + Buffer.byteLength(t), 0));
    // A later text never overwrites an earlier one's bytes; bytes are copied in, not shared.
    const source = Buffer.from('copied bytes');
    const copy = arena.put(source);
    source.fill(0);
    expect(copy.toString('utf8')).toBe('copied bytes');
    expect(arena.put(Buffer.alloc(2 << 20, 7)).length).toBe(2 << 20);
    expect(views[2].toString('utf8')).toBe(texts[2]);
  });

  it('keeps its chunks in shared memory, so the fusion thread is handed them rather than a copy', () => {
    const arena = new ByteArena();
    const a = arena.put('first');
    const b = arena.put('second');
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(b.buffer).toBe(a.buffer);
    expect(arena.put('z'.repeat(2 << 20)).buffer).toBeInstanceOf(SharedArrayBuffer);
  });
});

describe('WriteAheadLog', () => {
  it('frames the parts of an entry as one payload and recovers it whole', async () => {
    const dir = tempDir();
    const { wal } = await WriteAheadLog.open(dir);
    await Promise.all([wal.append('{"k":"a"}'), wal.append('head', Buffer.from('\n'), Buffer.from('bytes é'))]);
    // A zero length is where the entries end: an empty entry is refused, not written.
    await expect(wal.append()).rejects.toThrow(/at least one byte/);
    await expect(wal.append('', Buffer.alloc(0))).rejects.toThrow(RangeError);
    await wal.close();
    const { wal: again, entries } = await WriteAheadLog.open(dir);
    expect(entries.map((e) => e.payload.toString('utf8'))).toEqual(['{"k":"a"}', 'head\nbytes é']);
    await again.close();
  });

  it('writes into space zero-filled ahead; after a crash the zeros are cut, not taken for a tear; a clean close leaves only entries', async () => {
    const dir = tempDir();
    const { wal } = await WriteAheadLog.open(dir);
    const texts = Array.from({ length: 50 }, (_, k) => `entry ${k} ${'é'.repeat(k)}`);
    await Promise.all(texts.map((t) => wal.append(t)));
    const bytes = texts.reduce((n, t) => n + 8 + Buffer.byteLength(t), 0);
    const segment = join(dir, readdirSync(dir).sort().at(-1)!);
    expect(statSync(segment).size).toBeGreaterThan(bytes);
    // The log as a crash leaves it: the files copied while it is open.
    const crashed = tempDir();
    cpSync(dir, crashed, { recursive: true });
    const torn: number[] = [];
    const { wal: recovered, entries } = await WriteAheadLog.open(crashed, { onTruncate: (_s, _at, dropped) => torn.push(dropped) });
    expect(entries.map((e) => e.payload.toString('utf8'))).toEqual(texts);
    expect(torn).toEqual([]);
    expect(statSync(join(crashed, basename(segment))).size).toBe(bytes);
    // New entries follow in a segment of their own, and both come back in order.
    await recovered.append('after the crash');
    await recovered.close();
    const reopened = await WriteAheadLog.open(crashed);
    expect(reopened.entries.map((e) => e.payload.toString('utf8'))).toEqual([...texts, 'after the crash']);
    await reopened.wal.close();
    await wal.close();
    expect(statSync(segment).size).toBe(bytes);
  });

  it('cuts a torn write that lands in the zero-filled space, and reports it', async () => {
    const dir = tempDir();
    const { wal } = await WriteAheadLog.open(dir);
    await wal.append('whole');
    const segment = join(dir, readdirSync(dir).sort().at(-1)!);
    const crashed = tempDir();
    cpSync(dir, crashed, { recursive: true });
    await wal.close();
    // A frame header promising 1000 bytes, then a few, then the zeros that were ahead of it.
    const fd = openSync(join(crashed, basename(segment)), 'r+');
    writeSync(fd, Buffer.from([0xe8, 0x03, 0, 0, 1, 2, 3, 4, 5, 6, 7]), 0, 11, 8 + 5);
    closeSync(fd);
    const torn: number[] = [];
    const { wal: recovered, entries } = await WriteAheadLog.open(crashed, { onTruncate: (_s, at) => torn.push(at) });
    expect(entries.map((e) => e.payload.toString('utf8'))).toEqual(['whole']);
    expect(torn).toEqual([13]);
    await recovered.close();
  });

  it('puts each group whole into one segment: small segments, and a group larger than a segment', async () => {
    const dir = tempDir();
    const { wal } = await WriteAheadLog.open(dir, { segmentBytes: 100, minSyncIntervalMs: 0 });
    const texts = ['a'.repeat(30), 'b'.repeat(30), 'c'.repeat(30), 'big '.repeat(100), 'd'.repeat(10)];
    const segments: number[] = [];
    for (const text of texts) segments.push(await wal.append(text));
    expect(segments).toEqual([...segments].sort((x, y) => x - y));
    expect(new Set(segments).size).toBeGreaterThan(2);
    await wal.close();
    const reopened = await WriteAheadLog.open(dir);
    expect(reopened.entries.map((e) => e.payload.toString('utf8'))).toEqual(texts);
    await reopened.wal.close();
  });

  it('writes an idle log at once, and groups what arrives within the sync interval into one write', async () => {
    const { wal } = await WriteAheadLog.open(tempDir(), { minSyncIntervalMs: 60_000 });
    // Only the log's wait is faked: the file system still answers for real.
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      // Nothing was written before, so the first append waits for no timer.
      await wal.append('first');
      expect(wal.syncedWrites).toBe(1);
      const group = Promise.all(['a', 'b', 'c'].map((text) => wal.append(text)));
      for (let k = 0; k < 20; k++) await new Promise((r) => setImmediate(r));
      // Within the interval the next write waits on its timer, holding every append since.
      expect(wal.syncedWrites).toBe(1);
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(60_000);
      await group;
      expect(wal.syncedWrites).toBe(2);
    } finally {
      vi.useRealTimers();
    }
    await wal.close();
    const { wal: again, entries } = await WriteAheadLog.open(wal.dir);
    expect(entries.map((e) => e.payload.toString('utf8'))).toEqual(['first', 'a', 'b', 'c']);
    await again.close();
  });

  it('writes back to back with a sync interval of 0, and refuses a negative or non-finite one', async () => {
    const { wal } = await WriteAheadLog.open(tempDir(), { minSyncIntervalMs: 0 });
    await wal.append('one');
    await wal.append('two');
    expect(wal.syncedWrites).toBe(2);
    await wal.close();
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(WriteAheadLog.open(tempDir(), { minSyncIntervalMs: bad })).rejects.toThrow(/minSyncIntervalMs must be a finite number >= 0/);
    }
  });
});

describe('EmbeddedStore batch texts', () => {
  it('fuses and recovers records whose text is not ASCII, from the arena and from the log', async () => {
    const dataDir = tempDir();
    const records = [
      { id: 'é-1', node: 'nœud', cls: 'véhicule', t: 1000, lat: 10, lon: 20 },
      { id: '漢-2', node: 'nœud', cls: 'véhicule', t: 2000, lat: 10.001, lon: 20.001 },
    ];
    const json = JSON.stringify({ node: 'nœud', seq: 1, final: false, records });
    const batch = { node: 'nœud', seq: 1, final: false, ids: records.map((r) => r.id), digest: 'd', json };
    const store = await EmbeddedStore.open(dataDir);
    await store.announce('u', 'nœud', Date.now(), 60_000);
    await store.report('u', batch);
    await store.shutdown();
    // Recovered from the log: the batch and its ids, so a repeat of an id is still refused.
    const reopened = await EmbeddedStore.open(dataDir);
    await expect(reopened.report('u', { ...batch, seq: 2, digest: 'e' })).rejects.toMatchObject({ code: 'ERR_DUPLICATE_RECORD_ID' });
    const more = [{ id: '🛰️-3', node: 'nœud', cls: 'véhicule', t: 3000, lat: 11, lon: 21 }];
    await reopened.report('u', { node: 'nœud', seq: 2, final: true, ids: ['🛰️-3'], digest: 'f', json: JSON.stringify({ records: more }) });
    await reopened.close('u', 'final', Date.now());
    expect(readBatchRecords(await reopened.batchTexts('u'))).toEqual([...records, ...more]);
    await reopened.shutdown();
  });
});

describe('EmbeddedStore duplicate record ids', () => {
  it('refuses an id repeated within a batch, small or large, naming where, and takes nothing of it', async () => {
    const store = await EmbeddedStore.open(tempDir());
    await store.announce('d', 'n', Date.now(), 60_000);
    const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    const batch = (seq: number, list: string[]) => ({ node: 'n', seq, final: false, ids: list, digest: `d${seq}`, json: '{"records":[]}' });
    for (const size of [5, 16, 17, 400]) {
      const list = ids(size, `s${size}-`);
      list[size - 1] = list[1];
      await expect(store.report('d', batch(size, list))).rejects.toMatchObject({
        code: 'ERR_DUPLICATE_RECORD_ID',
        message: expect.stringContaining(`records[${size - 1}].id "s${size}-1"`),
      });
    }
    // None of the refused batches' ids were kept: the same ids without the repeat are taken.
    for (const size of [5, 16, 17, 400]) await expect(store.report('d', batch(size, ids(size, `s${size}-`)))).resolves.toMatchObject({ duplicate: false });
    await expect(store.report('d', batch(1000, ['s400-399']))).rejects.toMatchObject({
      code: 'ERR_DUPLICATE_RECORD_ID',
      message: expect.stringContaining('records[0].id "s400-399"'),
    });
    await store.shutdown();
  });
});
