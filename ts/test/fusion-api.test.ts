import { describe, expect, it } from 'vitest';

import { evaluate, fuse, fuseColumns, fuseSync, generateFleet, sensorPreset, type SensorRecord } from '../src/index.js';
import { fusePairwise } from '../src/lab/index.js';
import { generateFleetColumns } from '../src/fusion/index.js';

const rec = (id: string, node: string, t: number, lat: number, lon: number, cls = 'vehicle'): SensorRecord => ({
  id,
  node,
  cls,
  t,
  lat,
  lon,
});

describe('fuseSync', () => {
  it('fuses the same event seen by three nodes and keeps a far record alone', () => {
    const t0 = 1_767_225_600_000;
    const result = fuseSync([
      rec('a1', 'A', t0, 48.1, 11.5),
      rec('b1', 'B', t0 + 800, 48.10005, 11.50003),
      rec('c1', 'C', t0 - 500, 48.09997, 11.49998),
      rec('c2', 'C', t0 + 60_000, 48.2, 11.7, 'person'),
    ]);
    expect(result.events).toHaveLength(2);
    const [first, second] = result.events;
    expect(first.members).toEqual(['a1', 'b1', 'c1']);
    expect(first.nodes).toEqual(['A', 'B', 'C']);
    expect(first.cls).toBe('vehicle');
    expect(first.t).toBeCloseTo(t0 + 100, 6);
    expect(first.lat).toBeCloseTo(48.1, 3);
    expect(first.score).toBeGreaterThan(0.9);
    expect(second).toMatchObject({ id: 1, members: ['c2'], nodes: ['C'], cls: 'person', score: 0 });
    expect(result.stats).toMatchObject({ records: 4, candidates: 3, matched: 3 });
    expect(Object.keys(result.stats.timingsMs)).toEqual(expect.arrayContaining(['prepare', 'validate', 'index', 'block', 'score', 'cluster', 'events', 'result']));
  });

  it('never puts two records of one node in an event with onePerNode', () => {
    const t0 = 1_767_225_600_000;
    const records = [rec('a1', 'A', t0, 48.1, 11.5), rec('a2', 'A', t0 + 100, 48.1, 11.5), rec('b1', 'B', t0, 48.1, 11.5)];
    const one = fuseSync(records);
    expect(one.events.every((e) => new Set(e.nodes).size === e.members.length)).toBe(true);
    expect(one.events.map((e) => e.members.length).sort()).toEqual([1, 2]);
    const any = fuseSync(records, sensorPreset({ onePerNode: false }));
    // Records of one node are never candidates, but B joins both A records into one event.
    expect(any.events.map((e) => e.members)).toEqual([['a1', 'a2', 'b1']]);
  });

  it('sorts the members and nodes of large events too', () => {
    // 60 records of 30 nodes at one place and time, without onePerNode: one event.
    const t0 = 1_767_225_600_000;
    const records = Array.from({ length: 60 }, (_, i) => rec(`r${(i * 37) % 60}`, `n${i % 30}`, t0 + i, 48.1, 11.5));
    const [event] = fuseSync(records, sensorPreset({ onePerNode: false })).events;
    expect(event.members).toEqual(records.map((r) => r.id).sort());
    expect(event.nodes).toEqual(Array.from({ length: 30 }, (_, i) => `n${i}`).sort());
  });

  it('returns an empty result for empty input', () => {
    const result = fuseSync([]);
    expect(result.events).toEqual([]);
    expect(result.stats).toMatchObject({ records: 0, blocks: 0, candidates: 0, matched: 0 });
  });

  it('puts every record in exactly one event, sorted by time then id, members sorted', () => {
    const { records } = generateFleet({ nodes: 300, obsPerNode: 5, seed: 3 });
    const result = fuseSync(records);
    const seen = new Map<string, number>();
    for (const e of result.events) {
      expect([...e.members].sort()).toEqual(e.members);
      for (const m of e.members) seen.set(m, (seen.get(m) ?? 0) + 1);
    }
    expect(seen.size).toBe(records.length);
    expect([...seen.values()].every((c) => c === 1)).toBe(true);
    for (let i = 1; i < result.events.length; i++) {
      const [a, b] = [result.events[i - 1], result.events[i]];
      expect(a.t < b.t || (a.t === b.t && a.id < b.id)).toBe(true);
      expect(b.id).toBe(i);
    }
  });

  it('is deterministic: the same input gives the same events', () => {
    const { records } = generateFleet({ nodes: 200, obsPerNode: 4, seed: 8 });
    expect(fuseSync(records).events).toEqual(fuseSync(records).events);
  });
});

describe('fuseSync input order', () => {
  it("gives bit-identical events whatever the order of the records (a hub's store may reorder them)", () => {
    const { records } = generateFleet({ nodes: 300, obsPerNode: 5, seed: 17 });
    const expected = fuseSync(records).events;
    const reversed = fuseSync([...records].reverse()).events;
    const byNode = fuseSync([...records].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : a.id < b.id ? -1 : 1))).events;
    expect(reversed).toEqual(expected);
    expect(byNode).toEqual(expected);
  });

  it("puts a lone record's event exactly at the record", () => {
    const record = { id: 'a', node: 'n', cls: 'car', t: 1_700_000_000_123, lat: 52.123456789, lon: 2 };
    const [event] = fuseSync([record]).events;
    expect([event.t, event.lat, event.lon]).toEqual([record.t, record.lat, record.lon]);
  });
});

describe('fuse (async)', () => {
  it('gives the same events as fuseSync, from objects and from columns', async () => {
    const opts = { nodes: 400, obsPerNode: 5, seed: 12 };
    const { records } = generateFleet(opts);
    const { columns } = generateFleetColumns(opts);
    const sync = fuseSync(records);
    const fromObjects = await fuse(records);
    const fromColumns = await fuse(columns);
    expect(fromObjects.events).toEqual(sync.events);
    expect(fromColumns.events).toEqual(sync.events);
  });

  it('fuseColumns gives the same events as rows and typed arrays', async () => {
    const opts = { nodes: 300, obsPerNode: 5, seed: 4 };
    const { columns } = generateFleetColumns(opts);
    const objects = await fuse(columns);
    const bulk = await fuseColumns(columns);
    expect(bulk.eventOffsets).toBeInstanceOf(Uint32Array);
    expect(bulk.eventT.length).toBe(objects.events.length);
    expect(bulk.stats.candidates).toBe(objects.stats.candidates);
    objects.events.forEach((e, k) => {
      const rows = Array.from(bulk.eventMembers.subarray(bulk.eventOffsets[k], bulk.eventOffsets[k + 1]));
      expect(rows.map((r) => columns.ids![r]).sort()).toEqual(e.members);
      expect(bulk.classNames[bulk.eventClass[k]]).toBe(e.cls);
      expect([bulk.eventT[k], bulk.eventLat[k], bulk.eventLon[k], bulk.eventScore[k]]).toEqual([e.t, e.lat, e.lon, e.score]);
    });
    await expect(fuseColumns(generateFleet(opts).records as never)).rejects.toMatchObject({ code: 'ERR_FUSION_INPUT' });
  });

  it('keeps the event loop free while it runs', async () => {
    const { columns } = generateFleetColumns({ nodes: 20_000, obsPerNode: 5, seed: 1 });
    let resolved = false;
    let ticksWhilePending = 0;
    const pending = fuse(columns).then((r) => {
      resolved = true;
      return r;
    });
    // A blocking call would resolve before any timer could fire.
    const timer = setInterval(() => {
      if (!resolved) ticksWhilePending++;
    }, 0);
    const result = await pending;
    clearInterval(timer);
    expect(result.stats.records).toBe(100_000);
    expect(ticksWhilePending).toBeGreaterThan(0);
  });

  it('honours an AbortSignal', async () => {
    const { columns } = generateFleetColumns({ nodes: 200, obsPerNode: 5, seed: 2 });
    const aborted = new AbortController();
    aborted.abort();
    await expect(fuse(columns, undefined, { signal: aborted.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(fuseColumns(columns, undefined, { signal: aborted.signal })).rejects.toMatchObject({ name: 'AbortError' });
    const live = new AbortController();
    await expect(fuse(columns, undefined, { signal: live.signal })).resolves.toMatchObject({ stats: { records: 1000 } });
  });

  it('rejects, not throws, on bad input', async () => {
    const promise = fuse([{ id: 'x' } as unknown as SensorRecord]);
    await expect(promise).rejects.toMatchObject({ code: 'ERR_FUSION_INPUT' });
  });
});

describe('fusePairwise', () => {
  it('gives exactly the events of fuseSync', () => {
    for (const edgeStress of [false, true]) {
      const { records } = generateFleet({ nodes: 120, obsPerNode: 5, seed: 21, edgeStress });
      const a = fuseSync(records);
      const b = fusePairwise(records);
      expect(b.events).toEqual(a.events);
      expect(b.stats.candidates).toBe(a.stats.candidates);
    }
  });
});

describe('generateFleet and evaluate', () => {
  it('generates exactly nodes × obsPerNode records, deterministically', () => {
    const a = generateFleet({ nodes: 50, obsPerNode: 7, seed: 5 });
    const b = generateFleet({ nodes: 50, obsPerNode: 7, seed: 5 });
    const c = generateFleet({ nodes: 50, obsPerNode: 7, seed: 6 });
    expect(a.records).toHaveLength(350);
    expect(a).toEqual(b);
    expect(c.records).not.toEqual(a.records);
    expect(Object.keys(a.truth)).toHaveLength(350);
    expect(Object.values(a.truth).some((v) => v === null)).toBe(true);
  });

  it('meets the quality targets at default noise and degrades with more noise', () => {
    const fleet = generateFleet({ nodes: 2000, obsPerNode: 5, seed: 42 });
    const q = evaluate(fuseSync(fleet.records), fleet.truth);
    expect(q.f1).toBeGreaterThanOrEqual(0.95);
    expect(q.bcubedF1).toBeGreaterThanOrEqual(0.97);
    const noisy = generateFleet({ nodes: 2000, obsPerNode: 5, seed: 42, noise: 4 });
    expect(evaluate(fuseSync(noisy.records), noisy.truth).f1).toBeLessThan(q.f1);
  });

  it('scores a perfect, a merged and a split clustering', () => {
    const truth = { a: 'e1', b: 'e1', c: 'e2', d: null };
    const make = (groups: string[][]) => ({
      events: groups.map((members, id) => ({ id, members, nodes: [], cls: '', t: 0, lat: 0, lon: 0, score: 0 })),
      stats: { records: 4, blocks: 0, largestBlock: 0, candidates: 0, scored: 0, matched: 0, timingsMs: {} },
    });
    expect(evaluate(make([['a', 'b'], ['c'], ['d']]), truth)).toMatchObject({ precision: 1, recall: 1, f1: 1, bcubedF1: 1 });
    const merged = evaluate(make([['a', 'b', 'c', 'd']]), truth);
    expect(merged.recall).toBe(1);
    expect(merged.precision).toBeCloseTo(1 / 6, 12);
    const split = evaluate(make([['a'], ['b'], ['c'], ['d']]), truth);
    expect(split).toMatchObject({ precision: 1, recall: 0, f1: 0 });
    expect(split.bcubedF1).toBeCloseTo((2 * 1 * 0.75) / 1.75, 12);
    expect(() => evaluate(make([['a', 'b'], ['c']]), truth)).toThrow(expect.objectContaining({ code: 'ERR_FUSION_INPUT' }));
    expect(() => evaluate(make([['a', 'b', 'zz'], ['c'], ['d']]), truth)).toThrow(/zz/);
  });
});
