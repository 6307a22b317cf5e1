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
export function numberOption(args: ParsedArgs, name: string, fallback: number, opts: { integer?: boolean; min?: number } = {}): number {
  const raw = args.options.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw === true || !Number.isFinite(value) || (opts.integer && !Number.isInteger(value)) || value < (opts.min ?? -Infinity)) {
    throw new UsageError(`--${name} must be ${opts.integer ? 'an integer' : 'a number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''}, got ${String(raw)}`);
  }
  return value;
}
