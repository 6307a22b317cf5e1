/**
 * Every code example the README and docs/ show is a file under examples/ (the page holds a copy,
 * checked here to be the same text), and every example runs here against the sources and prints
 * what its page says it does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { PG_URL, dropSchemas, postgresAvailable } from './pg-helpers.js';

const root = resolve(import.meta.dirname, '../..');
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts'));

/** What each example must print (a run that prints something else fails). */
const EXPECTED: Record<string, RegExp[]> = {
  'fusion.ts': [/^\d+ events from 10000 records; F1 0\.9\d+, B-cubed F1 0\.9\d+$/, /^the async twin agrees: true$/],
  'generic-linkage.ts': [/^health-9, tax-1, vote-3 are one person, in Hampton$/],
  'hub.ts': [/^1000 observations acknowledged in \d+ ms, 0 errors, \d+ fused events$/],
  'claims-queue.ts': [/^5 jobs done: 1, 4, 9, 16, 25$/],
  'claims-model.ts': [/^1 worker\(s\): \d+ jobs\/s, bottleneck [\w-]+$/, /^2 worker/, /^3 worker/, /^USL: peak \d+ jobs\/s at [\d.]+ workers$/],
  'router.ts': [/^60 items: \d+ on fast, \d+ on slow$/, /^10 items: /, /^100 items: /],
  'autoscale.ts': [/^7 replicas: lag 7000 for target 1000 per replica → 7/],
  'orchestrator.ts': [/^order: extract, transform, check, load, report$/, /^load needs: extract, transform, load$/, /^extract --day '2026-12-08'$/],
};

/** The examples a page embeds: each ```ts block must follow an `<!-- example: examples/… -->` line. */
function embedded(page: string): { file: string; code: string }[] {
  const text = readFileSync(join(root, page), 'utf8');
  const found: { file: string; code: string }[] = [];
  for (const match of text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
    const before = text.slice(0, match.index).trimEnd().split('\n').at(-1) ?? '';
    const marker = /^<!-- example: (examples\/[\w.-]+\.ts) -->$/.exec(before);
    if (!marker) throw new Error(`${page}: a \`\`\`ts block without an <!-- example: examples/….ts --> line before it: ${match[1]!.split('\n')[0]}`);
    found.push({ file: marker[1]!, code: match[1]! });
  }
  return found;
}

describe('examples in the docs', () => {
  it.each(pages)('%s shows only examples that are files, word for word', (page) => {
    for (const { file, code } of embedded(page)) expect(code, `${page} → ${file}`).toBe(readFileSync(join(root, file), 'utf8'));
  });

  it('every example file is shown somewhere and has its expected output', () => {
    const shown = new Set(pages.flatMap((p) => embedded(p).map((e) => e.file)));
    expect(examples.map((f) => `examples/${f}`).filter((f) => !shown.has(f))).toEqual([]);
    expect(Object.keys(EXPECTED).sort()).toEqual([...examples].sort());
  });
});

describe('examples run', () => {
  let withPostgres = false;
  beforeAll(async () => {
    withPostgres = await postgresAvailable();
    process.env.FLEETSCALE_PG_URL ??= PG_URL;
  });
  afterAll(() => dropSchemas(['fleetscale_example']));

  it.for(examples)('examples/%s', async (file, ctx) => {
    if (file === 'claims-queue.ts' && !withPostgres) return ctx.skip();
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    try {
      await import(join(root, 'examples', file));
    } finally {
      log.mockRestore();
    }
    const printed = lines.flatMap((l) => l.split('\n'));
    for (const pattern of EXPECTED[file]!)
      expect(
        printed.some((l) => pattern.test(l)),
        `${file} printed ${JSON.stringify(printed)}; expected a line like ${pattern}`,
      ).toBe(true);
  });
});
