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
  const items =
    raw === true
      ? []
      : raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
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

/**
 * The PostgreSQL URL a command works on: `--pg`, else `FLEETSCALE_PG_URL`. A command that touches
 * a database never picks one nobody named.
 */
export function pgUrlOption(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): string {
  const given = args.options.get('pg');
  if (given === true) throw new UsageError('--pg needs a URL');
  const url = given ?? env.FLEETSCALE_PG_URL;
  if (url === undefined || url === '') throw new UsageError('name the database: --pg postgres://user@host:5432/db, or set FLEETSCALE_PG_URL');
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') throw new Error('not postgres');
  } catch {
    throw new UsageError(`${given !== undefined ? '--pg' : 'FLEETSCALE_PG_URL'} must be a postgres:// URL, got "${url}"`);
  }
  return url;
}

/** An http(s) URL option, checked. */
export function urlOption(args: ParsedArgs, name: string, fallback: string): string {
  const raw = args.options.get(name) ?? fallback;
  if (raw === true) throw new UsageError(`--${name} needs a URL`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--${name} must be a URL like http://127.0.0.1:8080, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--${name} must be an http:// or https:// URL, got "${raw}"`);
  return raw;
}
