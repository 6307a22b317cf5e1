/**
 * Where a script that runs in another process or thread lives: beside the calling module in the
 * build. Run from the TypeScript sources (the test suites), a module has no built neighbour, so
 * the script comes from the package's build (`dist/src/…`), which must exist.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built script `name` (a `.js` file) beside the module at `moduleUrl`, or undefined when it is missing. */
export function builtEntry(moduleUrl: string, name: string): string | undefined {
  const here = fileURLToPath(moduleUrl);
  let dir = dirname(here);
  const sources = `${sep}ts${sep}src${sep}`;
  const at = here.lastIndexOf(sources);
  if (here.endsWith('.ts') && at >= 0) {
    const root = here.slice(0, at);
    dir = join(root, 'dist', 'src', relative(join(root, 'ts', 'src'), dir));
  }
  const path = join(dir, name);
  return existsSync(path) ? path : undefined;
}
