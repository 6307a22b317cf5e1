/** Shared helpers of the hub suites: a hub on a temp data directory and a small client. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { fetch as undiciFetch, type Dispatcher } from 'undici';

import type { SensorRecord } from '../src/index.js';
import { startHub, type HubServerOptions, type RunningHub } from '../src/hub/server.js';
import { nodeToken } from '../src/hub/tokens.js';

export const SECRET = 'test-secret';

export function tempDir(prefix = 'fleetscale-hub-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function testHub(options: HubServerOptions = {}): Promise<RunningHub> {
  return startHub({ dataDir: tempDir(), port: 0, secret: SECRET, logger: false, ...options });
}

// biome-ignore lint/suspicious/noExplicitAny: replies are whatever JSON the hub sent; each test reads the fields it asserts
export type Reply = { status: number; body: any; headers: Headers };

/** A client of one hub that signs as whichever node it is told to. */
export class HubClient {
  /** `dispatcher`: an undici agent of its own (e.g. one connection), else the global fetch. */
  constructor(
    readonly url: string,
    readonly secret = SECRET,
    readonly dispatcher?: Dispatcher,
  ) {}

  token(node: string): string {
    return nodeToken(this.secret, node);
  }

  async request(method: string, path: string, opts: { as?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.as) headers.authorization = `Bearer ${this.token(opts.as)}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
    const init = { method, headers, body };
    const res = this.dispatcher ? await undiciFetch(`${this.url}${path}`, { ...init, dispatcher: this.dispatcher }) : await fetch(`${this.url}${path}`, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (metrics, dashboard)
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  announce(round: string, node: string): Promise<Reply> {
    return this.request('POST', `/v1/rounds/${round}/announce`, { as: node, body: { node } });
  }

  report(round: string, node: string, seq: number, records: SensorRecord[], final = false): Promise<Reply> {
    return this.request('POST', `/v1/rounds/${round}/observations`, { as: node, body: { node, seq, final, records } });
  }

  close(round: string): Promise<Reply> {
    return this.request('POST', `/v1/rounds/${round}/close`, { as: 'admin' });
  }

  result(round: string, waitMs = 0): Promise<Reply> {
    return this.request('GET', `/v1/rounds/${round}/result${waitMs ? `?waitMs=${waitMs}` : ''}`);
  }

  summary(round: string): Promise<Reply> {
    return this.request('GET', `/v1/rounds/${round}`);
  }
}

/** Records of `node`, `count` of them, near a spot so several nodes' records fuse. */
export function recordsOf(node: string, count: number, from = 0): SensorRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${node}-r${from + i}`,
    node,
    cls: i % 2 ? 'person' : 'vehicle',
    t: 1_700_000_000_000 + (from + i) * 60_000,
    lat: 52.37 + (from + i) * 0.01,
    lon: 4.89 + (from + i) * 0.01,
  }));
}

export { dropSchemas, freshSchema, PG_URL, postgresAvailable } from './pg-helpers.js';

const cli = join(import.meta.dirname, '../../dist/src/cli/main.js');
const children: ChildProcess[] = [];

/** Starts `fleetscale hub` (the built CLI) as a process on a free port; resolves with its URL. */
export function startHubProcess(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cli, 'hub', '--port', '0', '--round-deadline-ms', '600000', ...args], {
    env: { ...process.env, FLEETSCALE_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ child, url: match[1] });
    });
    child.stderr!.on('data', (chunk: Buffer) => void (out += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`hub exited (${code}) before listening:\n${out}`)));
  });
}

/** SIGKILLs every hub process the helpers started. */
export function killHubProcesses(): void {
  for (const child of children.splice(0)) child.kill('SIGKILL');
}

/** Two connected ends of a Unix socket in a temp dir: the report link as the hub has it. */
export async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  const path = join(tempDir('fleetscale-link-'), 'link.sock');
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect(path);
  await new Promise<void>((resolve) => client.once('connect', resolve));
  const other = await accepted;
  server.close();
  return [client, other];
}
