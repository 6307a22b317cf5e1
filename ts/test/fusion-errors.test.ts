import { describe, expect, it } from 'vitest';

import { fuse, fuseSync, isFleetscaleError, sensorPreset, type FusionConfig, type SensorRecord } from '../src/index.js';
import { generateFleetColumns } from '../src/fusion/index.js';

const t0 = 1_767_225_600_000;
const good = (): SensorRecord[] => [
  { id: 'a', node: 'A', cls: 'vehicle', t: t0, lat: 48.1, lon: 11.5 },
  { id: 'b', node: 'B', cls: 'vehicle', t: t0 + 10, lat: 48.1, lon: 11.5 },
];

function expectCode(fn: () => unknown, code: string, message: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'should throw').toBeInstanceOf(Error);
  expect((thrown as { code?: string }).code).toBe(code);
  expect((thrown as Error).message).toMatch(message);
}

describe('bad records are ERR_FUSION_INPUT naming the field and row', () => {
  const cases: Array<[string, (r: SensorRecord[]) => unknown, RegExp]> = [
    ['missing time', (r) => delete (r[1] as Partial<SensorRecord>).t, /row 1: field "t" is missing/],
    ['NaN time', (r) => (r[1].t = NaN), /row 1: field "t" must be a finite number, got NaN/],
    ['Infinity time', (r) => (r[0].t = Infinity), /row 0: field "t" must be a finite number/],
    ['time out of Date range', (r) => (r[0].t = 9e15), /row 0: field "t" time/],
    ['string time', (r) => ((r[1] as unknown as { t: string }).t = '12'), /row 1: field "t" must be a finite number, got "12"/],
    ['latitude > 90', (r) => (r[1].lat = 91), /row 1: field "pos" latitude must be a number in \[-90, 90\], got 91/],
    ['NaN latitude', (r) => (r[0].lat = NaN), /row 0: field "pos" latitude/],
    ['longitude < -180', (r) => (r[0].lon = -180.5), /row 0: field "pos" longitude/],
    ['missing longitude', (r) => delete (r[0] as Partial<SensorRecord>).lon, /row 0: field "pos" longitude/],
    ['duplicate id', (r) => (r[1].id = 'a'), /row 1: duplicate id "a" \(first at row 0\)/],
    ['empty id', (r) => (r[0].id = ''), /row 0: id must be a non-empty string/],
    ['numeric node', (r) => ((r[1] as unknown as { node: number }).node = 7), /row 1: node must be a non-empty string, got 7/],
    ['missing class', (r) => delete (r[0] as Partial<SensorRecord>).cls, /row 0: field "cls" is missing/],
    ['object class', (r) => ((r[0] as unknown as { cls: object }).cls = {}), /row 0: field "cls" must be a string/],
    ['number label', (r) => ((r[0] as unknown as { label: number }).label = 5), /row 0: field "label" must be a string/],
    ['null record', (r) => ((r as unknown[])[1] = null), /row 1: a record must be an object, got null/],
    ['array record', (r) => ((r as unknown[])[0] = [1, 2]), /row 0: a record must be an object, got an array/],
  ];
  for (const [name, spoil, message] of cases) {
    it(name, () => {
      const records = good();
      spoil(records);
      expectCode(() => fuseSync(records), 'ERR_FUSION_INPUT', message);
    });
  }

  it('rejects a duplicate id on the async path too (checked while the pool fuses)', async () => {
    const records = good();
    records[1].id = 'a';
    await expect(fuse(records)).rejects.toMatchObject({ code: 'ERR_FUSION_INPUT', message: expect.stringMatching(/row 1: duplicate id "a"/) });
    const { columns } = generateFleetColumns({ nodes: 10, obsPerNode: 3, seed: 1 });
    await expect(fuse({ ...columns, ids: columns.ids!.map((id, i) => (i === 9 ? columns.ids![2] : id)) })).rejects.toThrow(/row 9: duplicate id "n0-o2" \(first at row 2\)/);
  });

  it('rejects a non-array', () => {
    expectCode(() => fuseSync('nope' as never), 'ERR_FUSION_INPUT', /columns must be an object|records must be an array/);
  });
});

describe('bad configs are ERR_FUSION_CONFIG naming the entry', () => {
  const base = (): FusionConfig => sensorPreset();
  const cases: Array<[string, (c: FusionConfig) => unknown, RegExp]> = [
    ['unknown field kind', (c) => ((c.fields[0] as { kind: string }).kind = 'colour'), /unknown variant `colour`/],
    ['window <= 0', (c) => (c.blocking[0].parts[0].within = 0), /blocking\[0\]\.parts\[0\]\.within must be a finite number > 0, got 0/],
    ['negative radius', (c) => (c.blocking[0].parts[1].within = -5), /blocking\[0\]\.parts\[1\]\.within must be a finite number > 0/],
    ['unknown blocking field', (c) => (c.blocking[0].parts[0].field = 'when'), /blocking\[0\]\.parts\[0\]\.field "when" is not a declared field/],
    ['exact on a number', (c) => (c.blocking[0].parts[0] = { field: 't', exact: true }), /exact\/prefix blocking needs a category or text field/],
    ['no passes', (c) => (c.blocking = []), /blocking must list at least one pass/],
    ['empty pass', (c) => (c.blocking[0].parts = []), /blocking\[0\]\.parts must not be empty/],
    ['both exact and within', (c) => (c.blocking[0].parts[0] = { field: 'cls', exact: true, within: 3 }), /not both/],
    ['m out of range', (c) => (c.comparators[0].levels[0].m = 1.5), /comparators\[0\]\.levels\[0\]\.m must be in \(0, 1\]/],
    ['u of zero', (c) => (c.comparators[1].otherwise.u = 0), /comparators\[1\]\.otherwise\.u must be in \(0, 1\]/],
    ['jaroWinkler on time', (c) => (c.comparators[1].levels[0] = { jaroWinkler: 0.9, m: 0.5, u: 0.5 }), /jaroWinkler needs a text or category field/],
    ['prior 1', (c) => (c.prior = 1), /prior must be in \(0, 1\), got 1/],
    ['threshold NaN', (c) => (c.threshold = NaN), /"threshold" must be a finite number, got NaN/],
    ['duplicate field', (c) => c.fields.push({ name: 'cls', kind: 'text' }), /fields\[4\]\.name "cls" is declared twice/],
    ['unknown key', (c) => ((c as unknown as { blockng: unknown }).blockng = []), /unknown field `blockng`/],
    ['too many key dims', (c) => (c.blocking[0].parts = Array.from({ length: 5 }, () => ({ field: 'pos', within: 10 }))), /at most 8/],
  ];
  for (const [name, spoil, message] of cases) {
    it(name, () => {
      const config = base();
      spoil(config);
      expectCode(() => fuseSync(good(), config), 'ERR_FUSION_CONFIG', message);
    });
  }

  it('sensorPreset checks its options', () => {
    expectCode(() => sensorPreset({ timeWindowMs: 0 }), 'ERR_FUSION_CONFIG', /timeWindowMs must be a finite number > 0, got 0/);
    expectCode(() => sensorPreset({ radiusM: NaN }), 'ERR_FUSION_CONFIG', /radiusM/);
    expectCode(() => fuseSync(good(), null as never), 'ERR_FUSION_CONFIG', /config must be a FusionConfig/);
  });
});

describe('bad columns', () => {
  it('names the row of a bad value found natively', async () => {
    const { columns } = generateFleetColumns({ nodes: 10, obsPerNode: 3, seed: 1 });
    columns.lat[7] = 123;
    await expect(fuse(columns)).rejects.toMatchObject({ code: 'ERR_FUSION_INPUT', message: expect.stringMatching(/row 7: field "pos" latitude 123/) });
    columns.lat[7] = 48;
    columns.t[4] = Infinity;
    expectCode(() => fuseSync(columns), 'ERR_FUSION_INPUT', /row 4: field "t" is inf/);
  });

  it('checks lengths and codes', () => {
    const { columns } = generateFleetColumns({ nodes: 10, obsPerNode: 3, seed: 1 });
    expectCode(() => fuseSync({ ...columns, t: columns.t.subarray(1) }), 'ERR_FUSION_INPUT', /t has 29 rows, node has 30/);
    expectCode(() => fuseSync({ ...columns, nodeNames: ['only'] }), 'ERR_FUSION_INPUT', /row 3: node code 1 is outside its 1 names/);
    const twice = columns.nodeNames.map((name, k) => (k === 6 ? columns.nodeNames[2] : name));
    expectCode(() => fuseSync({ ...columns, nodeNames: twice }), 'ERR_FUSION_INPUT', /node names repeat "node-2" \(codes 2 and 6\)/);
    const classes = [...columns.classNames];
    classes[1] = classes[0];
    expectCode(() => fuseSync({ ...columns, classNames: classes }), 'ERR_FUSION_INPUT', /cls names repeat/);
    expectCode(() => fuseSync({ ...columns, ids: columns.ids!.map(() => 'same') }), 'ERR_FUSION_INPUT', /row 1: duplicate id "same"/);
    expectCode(() => fuseSync({ ...columns, cls: new Float64Array(30) as never }), 'ERR_FUSION_INPUT', /columns.cls must be a Uint32Array/);
  });
});

/** A deterministic stream of hostile values. */
function hostile(rand: () => number): unknown {
  const pool: unknown[] = [
    undefined,
    null,
    NaN,
    Infinity,
    -Infinity,
    0,
    -0,
    1e308,
    -1e308,
    91,
    -181,
    'x',
    '',
    'é'.repeat(2000),
    [],
    {},
    [1, 2],
    { lat: 1 },
    true,
    1767225600000,
    48.1,
    11.5,
    Symbol.iterator,
    () => 1,
    BigInt(3),
  ];
  return pool[Math.floor(rand() * pool.length)];
}

describe('fuzz: random configs and records never crash the process', () => {
  it('answers thousands of hostile calls with coded errors or results', () => {
    let a = 99;
    const rand = () => {
      a = (a * 1103515245 + 12345) % 2147483648;
      return a / 2147483648;
    };
    let errors = 0;
    let results = 0;
    for (let i = 0; i < 3000; i++) {
      const records: unknown[] = Array.from({ length: Math.floor(rand() * 6) }, (_, k) => {
        const r: Record<string, unknown> = { id: `r${k}`, node: `n${k % 3}`, cls: 'vehicle', t: t0 + k, lat: 48.1, lon: 11.5 };
        const keys = ['id', 'node', 'cls', 't', 'lat', 'lon', 'label'];
        for (let j = 0; j < 2; j++) if (rand() < 0.5) r[keys[Math.floor(rand() * keys.length)]] = hostile(rand);
        return rand() < 0.03 ? hostile(rand) : r;
      });
      const config = sensorPreset() as unknown as Record<string, unknown>;
      if (rand() < 0.5) {
        const spots: Array<[unknown, string]> = [
          [config, 'prior'],
          [config, 'threshold'],
          [config, 'onePerNode'],
          [(config.blocking as Array<{ parts: unknown[] }>)[0].parts[0], 'within'],
          [(config.blocking as Array<{ parts: unknown[] }>)[0].parts[1], 'field'],
          [(config.fields as unknown[])[0], 'kind'],
          [(config.comparators as Array<{ levels: unknown[] }>)[2].levels[0], 'm'],
          [config, 'fields'],
          [config, 'output'],
        ];
        const [target, key] = spots[Math.floor(rand() * spots.length)];
        (target as Record<string, unknown>)[key] = hostile(rand);
      }
      try {
        const result = fuseSync(records as SensorRecord[], config as unknown as FusionConfig);
        expect(result.events.reduce((s, e) => s + e.members.length, 0)).toBe(records.length);
        results++;
      } catch (e) {
        if (!isFleetscaleError(e)) throw e;
        errors++;
      }
    }
    // Both paths are exercised: hostile input is refused with a code, fair input is fused.
    expect(errors).toBeGreaterThan(300);
    expect(results).toBeGreaterThan(300);
  });
});
