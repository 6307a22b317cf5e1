import { describe, expect, it } from 'vitest';

import { StringIndex } from '../src/fusion/string-index.js';

describe('StringIndex', () => {
  it('numbers strings in order of first sight, like a Map', () => {
    const index = new StringIndex();
    const reference = new Map<string, number>();
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    // Short, long, empty, non-ASCII and lone-surrogate strings; many repeats; grows many times.
    const pool = ['', 'a', 'é', '\ud800', '😀', 'x'.repeat(1024)];
    for (let k = 0; k < 20_000; k++) {
      const s = k % 7 === 0 ? pool[next() % pool.length] : `id-${next() % 5000}`;
      if (!reference.has(s)) reference.set(s, reference.size);
      expect(index.intern(s)).toBe(reference.get(s));
    }
    expect(index.strings).toEqual([...reference.keys()]);
  });

  it('tells apart strings whose hashes collide in the slot bits', () => {
    const index = new StringIndex(1);
    const strings = Array.from({ length: 5000 }, (_, i) => String.fromCharCode(i % 64, (i >> 6) + 32));
    strings.forEach((s, i) => expect(index.intern(s)).toBe(i));
    strings.forEach((s, i) => expect(index.intern(s)).toBe(i));
    expect(index.strings.length).toBe(5000);
  });
});
