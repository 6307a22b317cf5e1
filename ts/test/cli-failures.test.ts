/**
 * The command line fails well: each expected failure is one line on stderr that says what
 * happened and what to do, a non-zero exit code, and no stack trace unless --debug asks for it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startHub, type RunningHub } from '../src/hub/index.js';

const cli = join(import.meta.dirname, '../../dist/src/cli/main.js');

type Run = { status: number | null; stdout: string; stderr: string };

/** Runs the CLI without blocking this process's event loop (the tests serve the other side). */
function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** One line on stderr, no stack trace, the exit code, and the line matching `pattern`. */
function expectOneLine(out: Run, status: number, pattern: RegExp): void {
  expect(out.status, out.stderr).toBe(status);
  const lines = out.stderr.trimEnd().split('\n');
  expect(lines, out.stderr).toHaveLength(1);
  expect(out.stderr).not.toMatch(/\n\s+at /);
  expect(lines[0]).toMatch(pattern);
}

/** A port nothing listens on (bound, read, released). */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const dir = mkdtempSync(join(tmpdir(), 'fleetscale-cli-failures-'));
const withoutPg = { ...process.env, FLEETSCALE_PG_URL: '' };

describe('the CLI fails well', () => {
  let hub: RunningHub;
  let busy: Server;
  let busyPort: number;
  let refusing: Server;
  let refusingUrl: string;

  beforeAll(async () => {
    hub = await startHub({ dataDir: join(dir, 'hub'), port: 0, logger: false });
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as AddressInfo).port;
    // A hub that takes every announcement and refuses every batch.
    refusing = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const url = request.url ?? '';
        const json = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (url.endsWith('/announce')) return json(200, { deadline: Date.now() + 30_000 });
        if (url.endsWith('/observations')) return json(409, { error: { code: 'ERR_ROUND_CLOSED', message: 'closed' } });
        if (url.includes('/result')) return json(200, { events: [], stats: {} });
        return json(200, { status: 'ok', fusionMs: null });
      });
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    refusingUrl = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await hub?.close();
    busy?.close();
    refusing?.close();
  });

  it('a busy port', async () => {
    expectOneLine(
      await run(['hub', '--port', String(busyPort), '--data', join(dir, 'busy')]),
      1,
      new RegExp(`^fleetscale hub: port ${busyPort} is already in use: stop what holds it, or pick another with --port$`),
    );
  });

  it('a missing file, and a missing directory', async () => {
    expectOneLine(await run(['fuse', join(dir, 'nope.jsonl')]), 1, /^fleetscale fuse: no such file or directory: .*nope\.jsonl$/);
    expectOneLine(
      await run(['generate', '--nodes', '2', '--out', join(dir, 'no', 'such', 'dir', 'fleet.jsonl')]),
      1,
      /^fleetscale generate: no such file or directory: .*no\/such\/dir\/fleet\.jsonl$/,
    );
    expectOneLine(
      await run(['token', 'n1', '--data', join(dir, 'no-such-dir')], { ...process.env, FLEETSCALE_SECRET: '' }),
      1,
      /^fleetscale token: ERR_UNAUTHORIZED: no hub secret: set FLEETSCALE_SECRET or point --data at the hub's data directory/,
    );
  });

  it('an invalid URL', async () => {
    expectOneLine(
      await run(['fleet', '--hub', 'hub.example:8080', '--secret', 's']),
      2,
      /^fleetscale fleet: --hub must be an http:\/\/ or https:\/\/ URL, got "hub.example:8080" \(see fleetscale fleet --help\)$/,
    );
    expectOneLine(await run(['fleet', '--hub', 'not a url', '--secret', 's']), 2, /^fleetscale fleet: --hub must be a URL like http:\/\/127\.0\.0\.1:8080/);
    expectOneLine(
      await run(['lab', 'claims', 'run', '--pg', 'localhost:5432', '--jobs', '10']),
      2,
      /^fleetscale lab claims: --pg must be a postgres:\/\/ URL, got "localhost:5432"/,
    );
  });

  it('an unreachable hub stops the fleet at once', async () => {
    const port = await closedPort();
    expectOneLine(
      await run(['fleet', '--hub', `http://127.0.0.1:${port}`, '--nodes', '5', '--secret', 's']),
      1,
      new RegExp(`^fleetscale fleet: ERR_HUB_UNREACHABLE: cannot reach the hub at http://127\\.0\\.0\\.1:${port}: nothing answers at 127\\.0\\.0\\.1:${port}`),
    );
  });

  it('a rejected token stops the fleet after one request', async () => {
    const out = await run(['fleet', '--hub', hub.url, '--nodes', '50', '--secret', 'not-the-hub-secret']);
    expectOneLine(out, 1, /^fleetscale fleet: ERR_UNAUTHORIZED: the hub at .* rejected the fleet's token \(401\): give the fleet the hub's secret/);
  });

  it('a fleet run with failed requests exits non-zero and counts them', async () => {
    const out = await run(['fleet', '--hub', refusingUrl, '--nodes', '3', '--secret', 's']);
    expect(out.status).toBe(1);
    expect(out.stdout).toMatch(/errors 3 \(ERR_ROUND_CLOSED×3\)/);
    expectOneLine(out, 1, /^fleetscale fleet: 3 requests failed \(ERR_ROUND_CLOSED ×3\)$/);
  });

  it('the fleet against a real hub with its secret succeeds', async () => {
    const out = await run(['fleet', '--hub', hub.url, '--nodes', '20', '--secret', hub.secret, '--json']);
    expect(out.status, out.stderr).toBe(0);
    expect((JSON.parse(out.stdout) as { rounds: { errors: number; observations: number }[] }).rounds[0]).toMatchObject({ errors: 0, observations: 100 });
  });

  it('an unreachable database, and a database nobody named', async () => {
    const port = await closedPort();
    expectOneLine(
      await run(['lab', 'claims', 'run', '--jobs', '10', '--pg', `postgres://postgres@127.0.0.1:${port}/test`]),
      1,
      /^fleetscale lab claims: ERR_CLAIMS_UNAVAILABLE: .*check that PostgreSQL runs and that --pg \(or FLEETSCALE_PG_URL\) names it$/,
    );
    expectOneLine(
      await run(['lab', 'claims', 'run', '--jobs', '10'], withoutPg),
      2,
      /^fleetscale lab claims: name the database: --pg postgres:\/\/user@host:5432\/db, or set FLEETSCALE_PG_URL/,
    );
    expectOneLine(await run(['lab', 'claims', 'sweep', '--jobs', '10'], withoutPg), 2, /name the database/);
  });

  it('--debug adds the stack trace; an unknown command is a usage error', async () => {
    const debug = await run(['fuse', join(dir, 'nope.jsonl'), '--debug']);
    expect(debug.status).toBe(1);
    expect(debug.stderr).toMatch(/^fleetscale fuse: no such file or directory/);
    expect(debug.stderr).toMatch(/\n\s+at /);
    expectOneLine(await run(['fusee']), 2, /^fleetscale: unknown command "fusee"; the commands are demo, hub, fleet, token, generate, fuse, route, lab/);
    expectOneLine(await run(['lab', 'claimz']), 2, /^fleetscale lab claimz: unknown lab area "claimz"/);
  });

  it('--help is a short list with an example per command; <command> --help has the details', async () => {
    const help = await run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout.split('\n').length).toBeLessThan(30);
    for (const command of ['demo', 'hub', 'fleet', 'token', 'generate', 'fuse', 'route', 'lab'])
      expect(help.stdout).toMatch(new RegExp(`^  ${command} .*\\n +e\\.g\\. fleetscale ${command}`, 'm'));
    const fleet = await run(['fleet', '--help']);
    expect(fleet.stdout).toMatch(/--batch-interval-ms/);
    const lab = await run(['lab', '--help']);
    expect(lab.stdout).toMatch(/claims run\|sweep\|validate\|probe/);
    const claims = await run(['lab', 'claims', '--help']);
    expect(claims.stdout).toMatch(/fleetscale lab claims validate/);
  });
});
