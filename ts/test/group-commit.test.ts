import { describe, expect, it } from 'vitest';

import { GroupCommit } from '../src/hub/store/group-commit.js';

/** A flush that records its groups and answers each item with item × 10 once released. */
function recorder() {
  const groups: number[][] = [];
  const release: Array<() => void> = [];
  const flush = (items: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      groups.push(items);
      release.push(() => (items.includes(-1) ? reject(new Error('store down')) : resolve(items.map((x) => x * 10))));
    });
  return { groups, release, flush };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('sends the items of one event-loop turn in one flush and answers each with its own result', async () => {
    const { groups, release, flush } = recorder();
    const commit = new GroupCommit(flush);
    const results = Promise.all([1, 2, 3].map((x) => commit.submit(x)));
    await turn();
    expect(groups).toEqual([[1, 2, 3]]);
    release.shift()!();
    expect(await results).toEqual([10, 20, 30]);
  });

  it('holds items that arrive while the flushes are busy and sends them together next', async () => {
    const { groups, release, flush } = recorder();
    const commit = new GroupCommit(flush, { concurrency: 1, maxItems: 3 });
    const first = commit.submit(1);
    await turn();
    const later = [2, 3, 4, 5].map((x) => commit.submit(x));
    await turn();
    await turn();
    expect(groups).toEqual([[1]]);
    expect(commit.waiting).toBe(4);
    release.shift()!();
    expect(await first).toBe(10);
    await turn();
    // At most maxItems per flush; the rest wait for the next free slot.
    expect(groups).toEqual([[1], [2, 3, 4]]);
    release.shift()!();
    await turn();
    expect(groups).toEqual([[1], [2, 3, 4], [5]]);
    release.shift()!();
    expect(await Promise.all(later)).toEqual([20, 30, 40, 50]);
  });

  it('fails only the items of a failed flush', async () => {
    const { groups, release, flush } = recorder();
    const commit = new GroupCommit(flush, { concurrency: 1 });
    const doomed = [commit.submit(-1), commit.submit(7)];
    await turn();
    const fine = commit.submit(8);
    release.shift()!();
    for (const d of doomed) await expect(d).rejects.toThrow('store down');
    await turn();
    expect(groups).toEqual([[-1, 7], [8]]);
    release.shift()!();
    expect(await fine).toBe(80);
  });
});
