/**
 * How the command line reports a failure: one line that says what happened and what to do, and
 * an exit code (2 for a mistake on the command line, 1 for everything else). The stack trace is
 * shown only with `--debug`.
 */
import { isFleetscaleError } from '../errors.js';
import { UsageError } from './args.js';

/** A failure as the command line prints it. */
export type Failure = { line: string; exitCode: number };

type SystemError = Error & { code?: string; syscall?: string; path?: string; port?: number; address?: string; hostname?: string; input?: string };

/** What to do about each coded error a user can meet on the command line. */
const HINTS: Partial<Record<string, string>> = {
  ERR_CLAIMS_UNAVAILABLE: 'check that PostgreSQL runs and that --pg (or FLEETSCALE_PG_URL) names it',
  ERR_STORE_UNAVAILABLE: 'check that the store (the data directory or PostgreSQL) is reachable and writable',
};

/** The first system error inside `error` (itself, its cause, or one of an AggregateError's). */
function systemErrorOf(error: unknown, depth = 0): SystemError | undefined {
  if (!(error instanceof Error) || depth > 4) return undefined;
  const code = (error as SystemError).code;
  if (typeof code === 'string' && /^E[A-Z]+$|^ERR_INVALID_URL$/.test(code)) return error as SystemError;
  if (error instanceof AggregateError)
    for (const inner of error.errors) {
      const found = systemErrorOf(inner, depth + 1);
      if (found) return found;
    }
  return systemErrorOf(error.cause, depth + 1);
}

/** One line for a system error: what failed and what to do about it. */
function describeSystemError(e: SystemError): string | undefined {
  const where = e.address !== undefined ? `${e.address.includes(':') ? `[${e.address}]` : e.address}${e.port !== undefined ? `:${e.port}` : ''}` : '';
  switch (e.code) {
    case 'EADDRINUSE':
      return `port ${e.port ?? where} is already in use: stop what holds it, or pick another with --port`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: this machine has no such address; pick another with --host`;
    case 'EACCES':
    case 'EPERM':
      if (e.syscall === 'listen' || e.syscall === 'bind') return `no permission to listen on ${where}: pick a port above 1023 with --port`;
      return `permission denied: ${e.path ?? e.message}`;
    case 'ENOENT':
      return `no such file or directory: ${e.path ?? e.message}`;
    case 'EISDIR':
      return `${e.path ?? 'the path'} is a directory; give a file`;
    case 'ENOTDIR':
      return `${e.path ?? 'a part of the path'} is not a directory`;
    case 'ECONNREFUSED':
      return `nothing answers at ${where || e.message}: is the server running, and is the address right?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve host ${e.hostname ?? e.message}: check the address`;
    case 'ETIMEDOUT':
    case 'ECONNRESET':
      return `the connection to ${where || 'the server'} failed (${e.code}): is the server up and reachable?`;
    case 'ERR_INVALID_URL':
      return `not a valid URL: ${e.input ?? e.message} (expected something like http://127.0.0.1:8080 or postgres://user@host:5432/db)`;
    default:
      return undefined;
  }
}

/** A PostgreSQL error (`pg` sets a five-character SQLSTATE `code`). */
function describePgError(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (!(error instanceof Error) || typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  if (code === '3D000') return `${error.message}: create it, or name another database in --pg`;
  if (code === '28P01' || code === '28000') return `PostgreSQL refused the login (${error.message}): check the user and password in --pg`;
  return `PostgreSQL failed: ${error.message} (SQLSTATE ${code})`;
}

/** Turns whatever a command threw into one line and an exit code. */
export function describeFailure(error: unknown, command: string): Failure {
  if (error instanceof UsageError) return { line: `${error.message} (see fleetscale ${command} --help)`, exitCode: 2 };
  if (isFleetscaleError(error)) {
    const system = systemErrorOf(error.cause);
    const detail = system ? describeSystemError(system) : undefined;
    const hint = HINTS[error.code];
    return { line: `${error.code}: ${error.message}${detail && !error.message.includes(detail) ? `: ${detail}` : ''}${hint ? `; ${hint}` : ''}`, exitCode: 1 };
  }
  const system = systemErrorOf(error);
  const line = (system && describeSystemError(system)) ?? describePgError(error);
  if (line) return { line, exitCode: 1 };
  const message = error instanceof Error ? error.message : String(error);
  return { line: `unexpected error: ${message} (run again with --debug to see where)`, exitCode: 1 };
}
