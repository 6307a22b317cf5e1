/** Batch texts fused by the native layer: the same text `JSON.stringify(fuseSync(records))` gives, and what it leaves to the TS path. */
import { describe, expect, it } from 'vitest';

import { readBatchRecords } from '../src/fusion/batch-texts.js';
import { configJson } from '../src/fusion/fuse.js';
import { fuseTextsNatively } from '../src/fusion/native-texts.js';
import { packTexts } from '../src/fusion/packed-texts.js';
import { fuseSync, generateFleet, sensorPreset, type FusionConfig, type FusionResult, type GenericRecord } from '../src/index.js';

const decoder = new TextDecoder();

/** Records as batch texts of `size`, alternately bytes and strings. */
function batchTexts(records: readonly object[], size = 5): Array<Uint8Array | string> {
  const out: Array<Uint8Array | string> = [];
  for (let k = 0; k < records.length; k += size) {
    const json = JSON.stringify({ node: 'n', seq: k / size + 1, records: records.slice(k, k + size) });
    out.push(out.length % 2 ? json : Buffer.from(json));
  }
  return out;
}

/** The native path's text, checked against the TS path's: equal but for the timings. */
function expectSameText(texts: Array<Uint8Array | string>, config: FusionConfig): { json: string; expected: FusionResult } {
  const fused = fuseTextsNatively(packTexts(texts), configJson(config));
  expect(fused).toBeDefined();
  const json = decoder.decode(fused!.bytes);
  const expected = fuseSync(readBatchRecords(texts) as GenericRecord[], config);
  const cut = json.indexOf(',"stats":');
  expect(json.slice(0, cut)).toBe(`{"events":${JSON.stringify(expected.events)}`);
  const { timingsMs, ...counts } = expected.stats;
  const stats = JSON.parse(json.slice(cut + ',"stats":'.length, -1)) as FusionResult['stats'];
  expect({ ...stats, timingsMs: undefined }).toEqual({ ...counts, timingsMs: undefined });
  expect(Object.keys(stats.timingsMs)).toEqual(Object.keys(timingsMs));
  expect(fused!.events).toBe(expected.events.length);
  return { json, expected };
}

/** A schema of every kind of field: names, a nested path, lat/lon paths, an array position, optional ones. */
const genericConfig: FusionConfig = {
  fields: [
    { name: 'kind', kind: 'category' },
    { name: 'when', kind: 'time', from: 'meta.when' },
    { name: 'pos', kind: 'geo', from: { lat: 'la', lon: 'lo' } },
    { name: 'alt', kind: 'geo', optional: true },
    { name: 'tag', kind: 'text', optional: true },
    { name: 'size', kind: 'number', optional: true },
  ],
  blocking: [
    {
      parts: [
        { field: 'kind', exact: true },
        { field: 'when', within: 5000 },
      ],
    },
  ],
  comparators: [
    { field: 'when', levels: [{ within: 1000, m: 0.9, u: 0.05 }], otherwise: { m: 0.1, u: 0.95 } },
    { field: 'pos', levels: [{ within: 500, m: 0.9, u: 0.05 }], otherwise: { m: 0.1, u: 0.95 } },
    { field: 'tag', levels: [{ exact: true, m: 0.8, u: 0.1 }], otherwise: { m: 0.2, u: 0.9 } },
  ],
  prior: 0.05,
  threshold: 0.5,
  onePerNode: false,
};

/** Records whose ids, names and numbers test the text's escaping, sorting and number forms. */
function awkwardRecords(): GenericRecord[] {
  const names = ['node-9', 'node-10', 'nöde', '\u{ff5e}wide', '😀smile', 'quote"back\\slash', 'tab\tnew\nline\u0001'];
  const out: GenericRecord[] = [];
  for (let k = 0; k < 200; k++) {
    const node = names[k % names.length];
    out.push({
      id: `${names[(k * 3) % names.length]}#${k}`,
      node,
      // Four kinds in four places: 40 records of a kind at the same time and place form one event.
      kind: ['car', 'bus', 'ünïcode', '😀'][k % 4],
      meta: { when: k < 160 ? 1.5e12 + (k % 6) * 100 + 0.25 : 1e-7 * k },
      la: [52.1234567890123, 1e-7, -33.5, 10][k % 4],
      lo: -(k % 4) * 0.1,
      ...(k % 5 === 0 ? {} : { alt: k % 2 ? [k / 7, -k / 3] : { lat: 0.000001 * k, lon: 1e-300 } }),
      ...(k % 4 === 0 ? { tag: null } : { tag: `t${k % 3}` }),
      ...(k % 3 === 0 ? { size: 1e21 * k } : {}),
    });
  }
  return out;
}

describe('fuseTextsNatively', () => {
  it('writes the text JSON.stringify gives for a fleet fused by the TS path', () => {
    const { records } = generateFleet({ nodes: 300, obsPerNode: 5, seed: 21 });
    const { expected } = expectSameText(batchTexts(records), sensorPreset());
    expect(expected.events.length).toBeGreaterThan(100);
  });

  it('reads every kind of field and writes awkward strings and numbers as JS does, large events included', () => {
    const { expected } = expectSameText(batchTexts(awkwardRecords(), 7), genericConfig);
    // Events larger than the TS path's insertion sort takes, and members from several nodes.
    expect(Math.max(...expected.events.map((e) => e.members.length))).toBeGreaterThan(24);
    expect(expected.events.some((e) => e.nodes.length > 3)).toBe(true);
  });

  it('reads texts out of shared memory and out of strings alike', () => {
    const { records } = generateFleet({ nodes: 40, obsPerNode: 5, seed: 22 });
    const texts = batchTexts(records).map((t) => (typeof t === 'string' ? t : decoder.decode(t)));
    const shared = new SharedArrayBuffer(texts.reduce((n, t) => n + Buffer.byteLength(t), 0));
    let at = 0;
    const views = texts.map((t) => {
      const bytes = Buffer.from(t);
      const view = new Uint8Array(shared, at, bytes.length);
      view.set(bytes);
      at += bytes.length;
      return view;
    });
    const fromShared = fuseTextsNatively(packTexts(views), configJson(sensorPreset()));
    const fromStrings = fuseTextsNatively(packTexts(texts), configJson(sensorPreset()));
    const events = (f: typeof fromShared) => JSON.parse(decoder.decode(f!.bytes)).events;
    expect(events(fromShared)).toEqual(fuseSync(records).events);
    expect(events(fromStrings)).toEqual(events(fromShared));
  });

  it('fuses no texts to no events', () => {
    const fused = fuseTextsNatively(packTexts([]), configJson(sensorPreset()));
    expect(JSON.parse(decoder.decode(fused!.bytes))).toMatchObject({ events: [], stats: { records: 0 } });
  });

  it('leaves to the TS path what it rejects, and what the native reader does not take', () => {
    const r = { id: 'x', node: 'a', cls: 'vehicle', t: 0, lat: 0, lon: 0 };
    const config = configJson(sensorPreset());
    const left = [
      ['{"records": ['],
      ['{"node":"a"}'],
      [JSON.stringify({ records: [r, r] })],
      [JSON.stringify({ records: [{ ...r, lat: 91 }] })],
      [JSON.stringify({ records: [{ ...r, id: '' }] })],
      [JSON.stringify({ records: [{ ...r, t: '0' }] })],
      [JSON.stringify({ records: [r] }), JSON.stringify({ records: [{ ...r, id: 'y', node: 7 }] })],
      // read by the TS path, not by this one: an escaped key, a lone surrogate
      ['{"records":[{"\\u0069d":"x","node":"a","cls":"vehicle","t":0,"lat":0,"lon":0}]}'],
      ['{"records":[{"id":"\\ud800","node":"a","cls":"vehicle","t":0,"lat":0,"lon":0}]}'],
    ];
    for (const texts of left) expect(fuseTextsNatively(packTexts(texts), config), texts.join()).toBeUndefined();
    // The TS path reads those last two.
    expect(fuseSync(readBatchRecords(left.at(-2)!)).stats.records).toBe(1);
    expect(fuseSync(readBatchRecords(left.at(-1)!)).stats.records).toBe(1);
  });
});
