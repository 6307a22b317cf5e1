/**
 * Shape checks with TypeBox: a schema compiled once, and a check that returns the value typed or
 * throws the caller's coded error naming the first thing wrong and where (`heldOut[3].measured.
 * throughput must be > 0`).
 */
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

/** `/heldOut/3/measured` as `heldOut[3].measured`; the root as `root`. */
export function pathText(instancePath: string, root: string): string {
  if (instancePath === '') return root;
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}

function valueAt(value: unknown, instancePath: string): unknown {
  let at = value;
  for (const part of instancePath.slice(1).split('/')) at = (at as Record<string, unknown> | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  return at;
}

/** A compiled check of `schema`; a value that fails it throws `fail(where, what)`. */
export function schemaCheck<S extends TSchema>(schema: S, fail: (message: string) => Error, root = 'the value'): (value: unknown) => Static<S> {
  const compiled = Compile(schema);
  return (value) => {
    if (compiled.Check(value)) return value as Static<S>;
    const [first] = compiled.Errors(value);
    const path = first?.instancePath ?? '';
    const allowed = (first?.params as { allowedValues?: unknown[] } | undefined)?.allowedValues;
    const what = `${first?.message ?? 'does not match its schema'}${allowed ? ` (${allowed.join(', ')})` : ''}`;
    const got = path === '' || first?.keyword === 'required' ? '' : `, got ${JSON.stringify(valueAt(value, path)) ?? 'nothing'}`;
    throw fail(`${pathText(path, root)} ${what}${got}`);
  };
}
