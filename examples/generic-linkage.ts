import { fuseSync, type FusionConfig } from 'fleetscale/fusion';

const people: FusionConfig = {
  fields: [
    { name: 'name', kind: 'text' },
    { name: 'dob', kind: 'time' }, // epoch ms of the birth date
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
        { exact: true, m: 0.6, u: 0.001 },
        { jaroWinkler: 0.88, m: 0.35, u: 0.01 },
      ],
      otherwise: { m: 0.05, u: 0.989 },
    },
    { field: 'dob', levels: [{ within: 0, m: 0.95, u: 0.003 }], otherwise: { m: 0.05, u: 0.997 } },
    { field: 'postcode', levels: [{ exact: true, m: 0.8, u: 0.05 }], otherwise: { m: 0.2, u: 0.95 } },
  ],
  prior: 0.05,
  threshold: 0.9,
  onePerNode: true,
  output: { class: 'city' },
};

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const result = fuseSync(
  [
    { id: 'tax-1', node: 'tax', name: 'Katherine Johnson', dob: day('1918-08-26'), postcode: '24101', address: { city: 'Hampton' } },
    { id: 'health-9', node: 'health', name: 'Katharine Johnson', dob: day('1918-08-26'), postcode: '24101' },
    { id: 'vote-3', node: 'voters', name: 'Katherine Jonson', dob: day('1918-08-26'), address: { city: 'Hampton' } },
  ],
  people,
);
const [person] = result.events;
console.log(`${person!.members.join(', ')} are one person, in ${person!.cls}`); // health-9, tax-1, vote-3 … Hampton
