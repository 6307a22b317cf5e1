import { describe, expect, it } from 'vitest';

import { fuseSync, type FusionConfig } from '../src/index.js';

/** The README's example: person records from several registries linked by name, date of birth and postcode. */
const personConfig: FusionConfig = {
  fields: [
    { name: 'name', kind: 'text' },
    { name: 'dob', kind: 'time' },
    { name: 'postcode', kind: 'category', optional: true },
    { name: 'city', kind: 'category', from: 'address.city', optional: true },
  ],
  blocking: [
    { name: 'same postcode', parts: [{ field: 'postcode', exact: true }] },
    {
      name: 'same initial, born within a day',
      parts: [
        { field: 'name', prefix: 1 },
        { field: 'dob', within: 86_400_000 },
      ],
    },
  ],
  comparators: [
    {
      field: 'name',
      levels: [
        { label: 'same', exact: true, m: 0.6, u: 0.001 },
        { label: 'close', jaroWinkler: 0.88, m: 0.35, u: 0.01 },
      ],
      otherwise: { m: 0.05, u: 0.989 },
    },
    { field: 'dob', levels: [{ label: 'same day', within: 0, m: 0.95, u: 0.003 }], otherwise: { m: 0.05, u: 0.997 } },
    { field: 'postcode', levels: [{ exact: true, m: 0.8, u: 0.05 }], otherwise: { m: 0.2, u: 0.95 } },
  ],
  prior: 0.05,
  threshold: 0.9,
  onePerNode: true,
  output: { class: 'city' },
};

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

describe('a generic schema: linking people across registries', () => {
  const people = [
    { id: 'tax-1', node: 'tax', name: 'Katherine Johnson', dob: day('1918-08-26'), postcode: '24101', address: { city: 'Hampton' } },
    { id: 'health-9', node: 'health', name: 'Katharine Johnson', dob: day('1918-08-26'), postcode: '24101' },
    { id: 'vote-3', node: 'voters', name: 'Katherine Jonson', dob: day('1918-08-26'), address: { city: 'Hampton' } },
    { id: 'tax-2', node: 'tax', name: 'Dorothy Vaughan', dob: day('1910-09-20'), postcode: '24101' },
    { id: 'health-4', node: 'health', name: 'Mary Jackson', dob: day('1921-04-09'), postcode: '23666' },
    { id: 'vote-8', node: 'voters', name: 'Dorothy Vaughan', dob: day('1910-09-20'), postcode: '24101' },
  ];

  it('links the same person and keeps different people apart', () => {
    const result = fuseSync(people, personConfig);
    const groups = result.events.map((e) => e.members);
    expect(groups).toContainEqual(['health-9', 'tax-1', 'vote-3']);
    expect(groups).toContainEqual(['tax-2', 'vote-8']);
    expect(groups).toContainEqual(['health-4']);
    const katherine = result.events.find((e) => e.members.includes('tax-1'))!;
    expect(katherine.cls).toBe('Hampton');
    expect(katherine.t).toBe(day('1918-08-26'));
    expect(Number.isNaN(katherine.lat)).toBe(true);
  });

  it('reads nested paths and reports a bad nested value by field and row', () => {
    const bad = people.map((p) => ({ ...p }));
    (bad[2] as { address: unknown }).address = { city: 12 };
    expect(() => fuseSync(bad, personConfig)).toThrow(/row 2: field "city" must be a string, got 12/);
  });
});
