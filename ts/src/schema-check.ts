/**
 * Shape checks with TypeBox: a schema compiled once, and a check that returns the value typed or
 * throws the caller's coded error naming the first thing wrong and where (`heldOut[3].measured.
 * throughput must be > 0`).
 */
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

/** What a compiled check reports of a failure (the fields used here). */
type TypeBoxError = { keyword: string; instancePath: string; message: string; params: unknown };

/**
 * `/heldOut/3/measured` as `heldOut[3].measured`; the root as `root`. With `prefix`, paths
 * below the root start with it (`targets.cpu`).
 */
export function pathText(instancePath: string, root: string, prefix?: string): string {
  if (instancePath === '') return root;
  const path = instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
  return prefix === undefined ? path : `${prefix}${path.startsWith('[') ? '' : '.'}${path}`;
}

/** A value as a message shows it: JSON, but NaN and the infinities by name. */
function shown(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value) ?? 'nothing';
}

function valueAt(value: unknown, instancePath: string): unknown {
  let at = value;
  for (const part of instancePath.slice(1).split('/')) at = (at as Record<string, unknown> | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  return at;
}

/**
 * A compiled check of `schema`; a value that fails it throws `fail(message)`, the message naming
 * where (`root` for the whole value; paths below it start with `prefix` when given) and what.
 */
export function schemaCheck<S extends TSchema>(
  schema: S,
  fail: (message: string) => Error,
  { root = 'the value', prefix }: { root?: string; prefix?: string } = {},
): (value: unknown) => Static<S> {
  // Compiled at the first check, not when the module loads: importing an entry costs nothing.
  let compiled: { Check: (value: unknown) => boolean; Errors: (value: unknown) => Iterable<TypeBoxError> } | undefined;
  return (value) => {
    compiled ??= Compile(schema) as unknown as NonNullable<typeof compiled>;
    if (compiled.Check(value)) return value as Static<S>;
    // `additionalProperties: false` reports each stray key twice; the named report reads better.
    const errors = [...compiled.Errors(value)];
    const first = errors.find((e) => e.keyword !== 'boolean') ?? errors[0];
    const path = first?.instancePath ?? '';
    const params = (first?.params ?? {}) as { allowedValues?: unknown[]; additionalProperties?: string[] };
    const what = params.additionalProperties
      ? `must not have ${params.additionalProperties.join(', ')}`
      : `${first?.message ?? 'does not match its schema'}${params.allowedValues ? ` (${params.allowedValues.join(', ')})` : ''}`;
    const got = path === '' || first?.keyword === 'required' || params.additionalProperties ? '' : `, got ${shown(valueAt(value, path))}`;
    throw fail(`${pathText(path, root, prefix)} ${what}${got}`);
  };
}
