/** A small, strict command-line parser: `--name value`, `--flag`, positionals. */
export type ParsedArgs = { positionals: string[]; options: Map<string, string | true> };

/** An error the CLI prints as a one-line message with exit code 2. */
export class UsageError extends Error {}

export function parseArgs(argv: string[], flags: readonly string[], valued: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-' || !a.startsWith('-')) {
      positionals.push(a);
      continue;
    }
    const [name, inline] = a.replace(/^--?/, '').split(/=(.*)/s, 2);
    if (flags.includes(name)) options.set(name, true);
    else if (valued.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      options.set(name, value);
    } else throw new UsageError(`unknown option ${a}`);
  }
  return { positionals, options };
}

/** A numeric option, checked. */
export function numberOption(args: ParsedArgs, name: string, fallback: number, opts: { integer?: boolean; min?: number; max?: number } = {}): number {
  const raw = args.options.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw === true || !Number.isFinite(value) || (opts.integer && !Number.isInteger(value)) || value < (opts.min ?? -Infinity) || value > (opts.max ?? Infinity)) {
    const bounds = [opts.min !== undefined ? ` >= ${opts.min}` : '', opts.max !== undefined ? ` <= ${opts.max}` : ''].filter(Boolean).join(' and');
    throw new UsageError(`--${name} must be ${opts.integer ? 'an integer' : 'a number'}${bounds}, got ${String(raw)}`);
  }
  return value;
}

/** A comma-separated list option, each item parsed by `parse` (which throws a UsageError). */
export function listOption<T>(args: ParsedArgs, name: string, fallback: readonly T[], parse: (item: string) => T): T[] {
  const raw = args.options.get(name);
  if (raw === undefined) return [...fallback];
  const items = raw === true ? [] : raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`--${name} needs a comma-separated list`);
  return items.map(parse);
}

/** An integer of at least `min`, for list items. */
export function intItem(name: string, min: number): (item: string) => number {
  return (item) => {
    const v = Number(item);
    if (!Number.isInteger(v) || v < min) throw new UsageError(`--${name} items must be integers >= ${min}, got ${item}`);
    return v;
  };
}
