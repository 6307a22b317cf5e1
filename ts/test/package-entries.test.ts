import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import * as fusion from '../src/fusion/index.js';
import * as root from '../src/index.js';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** Every module a source file reaches through its imports: local files and bare packages. */
function reach(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/(?:import|export)\s[^;]*?from\s+'([^']+)'/g)) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('package entries', () => {
  it('fleetscale/fusion loads no server, database or HTTP client package', () => {
    const { files, packages } = reach(resolve(src, 'fusion/index.ts'));
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    expect([...packages].filter((p) => !builtins.has(p))).toEqual([]);
    // Besides fusion's own files, only the native binding and its loader.
    const allowed = (f: string) => f.startsWith(resolve(src, 'fusion')) || f === resolve(src, 'native.ts') || f.startsWith(resolve(src, '../native'));
    expect([...files].filter((f) => !allowed(f))).toEqual([]);
    expect(files.size).toBeGreaterThan(5);
  });

  it('the package root exports the whole fusion API as the same values', () => {
    for (const [name, value] of Object.entries(fusion)) expect(root[name as keyof typeof root], name).toBe(value);
    expect(Object.keys(fusion)).toEqual(expect.arrayContaining(['fuse', 'fuseSync', 'fuseColumns', 'fusePairwise', 'sensorPreset', 'generateFleet', 'evaluate']));
  });
});
