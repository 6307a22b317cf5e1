/**
 * The public surface: each entry's exports are snapshotted (a change is a visible diff), the root
 * stays small, every exported value is documented, `fleetscale/fusion` loads no server or
 * database package, and the product never imports the lab.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
const pkg = JSON.parse(readFileSync(resolve(src, '../../package.json'), 'utf8')) as { exports: Record<string, unknown> };

/** Entry name (as users import it) → its source file. */
const ENTRIES: Record<string, string> = {
  fleetscale: 'index.ts',
  'fleetscale/fusion': 'fusion/index.ts',
  'fleetscale/hub': 'hub/index.ts',
  'fleetscale/claims': 'claims/index.ts',
  'fleetscale/router': 'router/index.ts',
  'fleetscale/autoscale': 'autoscale/index.ts',
  'fleetscale/orchestrator': 'orchestrator/index.ts',
  'fleetscale/lab': 'lab/index.ts',
};

/** Every module a source file reaches through its static imports: local files and bare packages. */
function reach(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files, packages };
}

function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)\s[^;]*?from\s+'([^']+)'/g)].map((m) => m[1]!);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

type Surface = { values: string[]; types: string[]; undocumented: string[] };
const surfaces = new Map<string, Surface>();

beforeAll(() => {
  const program = ts.createProgram(
    Object.values(ENTRIES).map((f) => resolve(src, f)),
    { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, skipLibCheck: true },
  );
  const checker = program.getTypeChecker();
  for (const [name, file] of Object.entries(ENTRIES)) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(resolve(src, file))!)!;
    const values: string[] = [];
    const types: string[] = [];
    const undocumented: string[] = [];
    for (const symbol of checker.getExportsOfModule(module)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const isValue = (target.flags & ts.SymbolFlags.Value) !== 0;
      (isValue ? values : types).push(symbol.name);
      const documented = target.getDocumentationComment(checker).length > 0 || target.getJsDocTags(checker).length > 0;
      if (isValue && !documented) undocumented.push(symbol.name);
    }
    surfaces.set(name, { values: values.sort(), types: types.sort(), undocumented: undocumented.sort() });
  }
}, 60_000);

describe('package entries', () => {
  it('package.json maps each entry to its build', () => {
    for (const [name, file] of Object.entries(ENTRIES)) {
      const subpath = name === 'fleetscale' ? '.' : `./${name.slice('fleetscale/'.length)}`;
      expect(pkg.exports[subpath], subpath).toEqual({ types: `./dist/src/${file.replace(/\.ts$/, '.d.ts')}`, default: `./dist/src/${file.replace(/\.ts$/, '.js')}` });
    }
  });

  it.each(Object.keys(ENTRIES))('%s exports what its snapshot says, at run time too', async (name) => {
    const surface = surfaces.get(name)!;
    expect({ values: surface.values, types: surface.types }).toMatchSnapshot();
    const loaded = (await import(resolve(src, ENTRIES[name]!))) as Record<string, unknown>;
    expect(Object.keys(loaded).sort()).toEqual(surface.values);
  });

  it('the root stays small', () => {
    expect(surfaces.get('fleetscale')!.values.length).toBeLessThanOrEqual(30);
  });

  it.each(Object.keys(ENTRIES))('every value %s exports has a doc comment', (name) => {
    expect(surfaces.get(name)!.undocumented).toEqual([]);
  });

  it('fleetscale/fusion loads no server, database or HTTP client package', () => {
    const { files, packages } = reach(resolve(src, 'fusion/index.ts'));
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    expect([...packages].filter((p) => !builtins.has(p))).toEqual([]);
    // Besides fusion's own files: the shared error type, the native binding and its loader.
    const allowed = (f: string) =>
      f.startsWith(resolve(src, 'fusion')) || f === resolve(src, 'errors.ts') || f === resolve(src, 'native.ts') || f.startsWith(resolve(src, '../native'));
    expect([...files].filter((f) => !allowed(f))).toEqual([]);
    expect(files.size).toBeGreaterThan(5);
  });

  it('no product module imports the lab (the CLI loads it only for `fleetscale lab`)', () => {
    const lab = resolve(src, 'lab');
    const offenders: string[] = [];
    for (const file of sourceFiles(src)) {
      if (file.startsWith(lab)) continue;
      for (const spec of staticImports(file)) {
        if (spec.startsWith('.') && resolve(dirname(file), spec).startsWith(lab)) offenders.push(`${relative(src, file)} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
    // The check sees imports: the CLI's dispatcher reaches the lab only through import().
    expect(readFileSync(resolve(src, 'cli/main.ts'), 'utf8')).toContain("import('../lab/cli/index.js')");
  });

  it('the root re-exports the same values as the capability entries', async () => {
    const root = (await import(resolve(src, 'index.ts'))) as Record<string, unknown>;
    const all = await Promise.all([...Object.values(ENTRIES).slice(1), 'errors.ts'].map((f) => import(resolve(src, f)) as Promise<Record<string, unknown>>));
    for (const [name, value] of Object.entries(root))
      expect(
        all.some((entry) => entry[name] === value),
        name,
      ).toBe(true);
  });
});
