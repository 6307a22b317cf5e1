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
});

describe('WriteAheadLog', () => {
  it('frames the parts of an entry as one payload and recovers it whole', async () => {
    const dir = tempDir();
    const { wal } = await WriteAheadLog.open(dir);
    await Promise.all([wal.append('{"k":"a"}'), wal.append('head', Buffer.from('\n'), Buffer.from('bytes é')), wal.append()]);
    await wal.close();
    const { wal: again, entries } = await WriteAheadLog.open(dir);
    expect(entries.map((e) => e.payload.toString('utf8'))).toEqual(['{"k":"a"}', 'head\nbytes é', '']);
    await again.close();
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
      await expect(store.report('d', batch(size, list))).rejects.toMatchObject({ code: 'ERR_DUPLICATE_RECORD_ID', message: expect.stringContaining(`records[${size - 1}].id "s${size}-1"`) });
    }
    // None of the refused batches' ids were kept: the same ids without the repeat are taken.
    for (const size of [5, 16, 17, 400]) await expect(store.report('d', batch(size, ids(size, `s${size}-`)))).resolves.toMatchObject({ duplicate: false });
    await expect(store.report('d', batch(1000, ['s400-399']))).rejects.toMatchObject({ code: 'ERR_DUPLICATE_RECORD_ID', message: expect.stringContaining('records[0].id "s400-399"') });
    await store.shutdown();
  });
});
