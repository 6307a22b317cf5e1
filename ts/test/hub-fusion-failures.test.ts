/** What the round engine does when a round cannot be fused: its own fault fails it, anything else is retried. */
import { afterEach, describe, expect, it } from 'vitest';

import { HubMetrics } from '../src/hub/metrics.js';
import { RoundEngine } from '../src/hub/rounds.js';
import { EmbeddedStore } from '../src/hub/store/embedded.js';
import { recordsOf, tempDir } from './hub-helpers.js';

const engines: RoundEngine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) {
    await e.stop();
    await e.store.shutdown();
  }
});

/** An engine over an embedded store whose `batchTexts` does what `texts` says for each call. */
async function engineWith(texts: (call: number, real: () => Promise<Buffer[]>) => Promise<Array<Buffer | string>>) {
  const store = await EmbeddedStore.open(tempDir());
  const real = store.batchTexts.bind(store);
  let calls = 0;
  store.batchTexts = (round: string) => texts(calls++, () => real(round)) as Promise<Buffer[]>;
  const errors: string[] = [];
  const engine = new RoundEngine({ store, metrics: new HubMetrics(), sweepMs: 20, onError: (e) => errors.push(e.message) });
  engines.push(engine);
  await engine.start();
  await engine.announce('r', 'a');
  const records = recordsOf('a', 3);
  await engine.report('r', { node: 'a', seq: 1, final: true, records });
  return { engine, errors, calls: () => calls };
}

describe('fusion failures', () => {
  it('fails a round whose texts cannot be fused, at once, with ERR_FUSION_FAILED', async () => {
    const { engine, errors } = await engineWith(async () => ['{"records": [']);
    await expect(engine.resultJson('r', 5000)).rejects.toMatchObject({ code: 'ERR_FUSION_FAILED', message: expect.stringMatching(/batch 0 is not JSON/) });
    expect((await engine.summary('r'))?.state).toBe('failed');
    expect(errors).toHaveLength(1);
  });

  it('retries a round the store could not read, and fuses it once it can', async () => {
    const { engine, errors, calls } = await engineWith(async (call, real) => {
      if (call === 0) throw new Error('store hiccup');
      return real();
    });
    const result = JSON.parse(await engine.resultJson('r', 5000)) as { stats: { records: number } };
    expect(result.stats.records).toBe(3);
    expect(calls()).toBe(2);
    expect(errors).toEqual(['store hiccup']);
    expect((await engine.summary('r'))?.state).toBe('fused');
  });

  it("gives up after three tries that fail for a reason not the round's own", async () => {
    const { engine, calls } = await engineWith(async () => {
      throw new Error('store down');
    });
    await expect(engine.resultJson('r', 5000)).rejects.toMatchObject({ code: 'ERR_FUSION_FAILED', message: expect.stringMatching(/store down/) });
    expect(calls()).toBe(3);
  });
});

describe('a round fused here whose result the store has not stored yet', () => {
  it('answers a retry of an acknowledged batch as a duplicate in a fused round, as the summary says', async () => {
    const store = await EmbeddedStore.open(tempDir());
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const save = store.saveResult.bind(store);
    let saved: Promise<void> | undefined;
    store.saveResult = (...args) => (saved = held.then(() => save(...args)));
    const engine = new RoundEngine({ store, metrics: new HubMetrics(), sweepMs: 20 });
    engines.push(engine);
    await engine.start();
    await engine.announce('r', 'a');
    const batch = { node: 'a', seq: 1, final: true, records: recordsOf('a', 3) };
    await engine.report('r', batch);
    try {
      // Fused and served from memory while the store still holds the round as closed.
      expect(JSON.parse(await engine.resultJson('r', 5000)).stats.records).toBe(3);
      expect((await store.summary('r'))?.state).toBe('closed');
      expect((await engine.summary('r'))?.state).toBe('fused');
      expect(await engine.report('r', batch)).toMatchObject({ duplicate: true, state: 'fused' });
    } finally {
      release();
    }
    await saved;
    expect((await store.summary('r'))?.state).toBe('fused');
    expect(await engine.report('r', batch)).toMatchObject({ duplicate: true, state: 'fused' });
  });
});
