import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { validateWorkflow } from '@action-validator/core';
import { parse } from 'yaml';
import { describe, expect, it, vi } from 'vitest';

import { serviceAvailable } from './services.js';

const dir = join(import.meta.dirname, '../../.github/workflows');
const files = readdirSync(dir).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'));

type Step = { uses?: string; run?: string; name?: string; with?: Record<string, unknown> };
type Service = { image: string; env?: Record<string, string>; ports?: string[] };
type Job = {
  needs?: string | string[];
  steps: Step[];
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  services?: Record<string, Service>;
  strategy?: { matrix: { settings: Array<{ target: string }> } };
};
type Workflow = { permissions: unknown; jobs: Record<string, Job> };

const ci = (): Workflow => parse(readFileSync(join(dir, 'CI.yml'), 'utf8')) as Workflow;
const commands = (job: Job) => job.steps.map((s) => s.run ?? '').join('\n');
/** Whether a job runs the vitest suites (all of them, or some). */
const runsSuites = (job: Job) => /\bvitest run\b|\bnpm test\b/.test(commands(job));
/** Whether it runs every suite (not a list of files). */
const runsEverySuite = (job: Job) => job.steps.some((s) => /^(npx vitest run|npm test)\s*$/.test((s.run ?? '').trim()));

describe('GitHub workflows', () => {
  it('exist', () => {
    expect(files).toContain('CI.yml');
  });

  for (const file of files) {
    it(`${file} is valid against the workflow schema`, () => {
      const state = validateWorkflow(readFileSync(join(dir, file), 'utf8'));
      expect(state.errors).toEqual([]);
    });
  }

  it('the validator rejects a broken workflow (so the check above can fail)', () => {
    const broken = 'on: push\njobs:\n  x:\n    steps:\n      - run: echo\n    runs-onn: ubuntu-latest\n';
    expect(validateWorkflow(broken).errors.length).toBeGreaterThan(0);
  });

  it('CI runs lint → build (six targets) → tests on each OS → publish', () => {
    const { permissions, jobs } = ci();
    expect(permissions).toEqual({});
    const { lint, build, test, publish } = jobs;
    expect(commands(lint)).toMatch(/clippy[\s\S]*-D warnings/);
    expect(commands(lint)).toMatch(/biome ci/);
    expect(build.needs).toBe('lint');
    const targets = build.strategy!.matrix.settings.map((s) => s.target).sort();
    expect(targets).toEqual(
      ['aarch64-apple-darwin', 'aarch64-unknown-linux-gnu', 'x86_64-apple-darwin', 'x86_64-pc-windows-msvc', 'x86_64-unknown-linux-gnu', 'x86_64-unknown-linux-musl'].sort(),
    );
    const upload = build.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a template
    expect(upload.with).toMatchObject({ name: 'bindings-${{ matrix.settings.target }}', 'if-no-files-found': 'error' });
    expect(test.needs).toBe('build');
    expect([publish.needs].flat()).toEqual(expect.arrayContaining(['test', 'test-platforms', 'test-musl']));
    const order = ['napi create-npm-dirs', 'napi artifacts', 'napi pre-publish', 'npm publish --provenance'];
    const positions = order.map((c) => commands(publish).indexOf(c));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('pins every action by commit and gives each job only the permissions it needs', () => {
    const { jobs } = ci();
    for (const [name, job] of Object.entries(jobs)) {
      for (const step of job.steps) if (step.uses) expect(step.uses, `${name}: ${step.uses}`).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
      expect(job.permissions, name).toBeDefined();
      const writes = Object.entries(job.permissions!)
        .filter(([, level]) => level === 'write')
        .map(([scope]) => scope);
      expect(writes, name).toEqual(name === 'publish' ? ['id-token'] : []);
    }
  });

  it('every job that runs the suites under CI=true provides what they need, or skips it by name', () => {
    const { jobs } = ci();
    const suiteJobs = Object.entries(jobs).filter(([, job]) => runsSuites(job));
    expect(suiteJobs.map(([name]) => name).sort()).toEqual(['test', 'test-musl', 'test-platforms']);
    for (const [name, job] of suiteJobs) {
      const skipped = new Set((job.env?.FLEETSCALE_SKIP_SERVICES ?? '').split(',').filter(Boolean));
      // PostgreSQL: a service whose database, password and port the URL the suites read names.
      if (!skipped.has('postgres')) {
        const pgService = Object.values(job.services ?? {}).find((s) => s.image.startsWith('postgres:'));
        expect(pgService, `${name}: a postgres service`).toBeDefined();
        const url = new URL(job.env?.FLEETSCALE_PG_URL ?? '');
        expect(url.protocol, name).toBe('postgres:');
        expect(url.password, name).toBe(pgService!.env?.POSTGRES_PASSWORD);
        expect(url.pathname, name).toBe(`/${pgService!.env?.POSTGRES_DB}`);
        expect(pgService!.ports, name).toContain(`${url.port}:5432`);
      }
      // The dashboard test: a browser where CHROMIUM_PATH says.
      if (!skipped.has('chromium')) {
        expect(job.env?.CHROMIUM_PATH, `${name}: CHROMIUM_PATH`).toMatch(/^\//);
        expect(commands(job), name).toContain('$CHROMIUM_PATH');
      }
      // The whole suite also needs Rust (the load binding, the from-source install) and runs cargo test.
      if (runsEverySuite(job)) {
        expect(skipped.size, `${name} runs every suite, so it may skip nothing`).toBe(0);
        expect(commands(job), name).toMatch(/rustup toolchain install/);
        expect(commands(job), name).toMatch(/npm run build:load/);
        expect(commands(job), name).toMatch(/cargo test --workspace/);
        expect(
          Object.values(job.services ?? {}).some((s) => s.image.startsWith('redis:')),
          `${name}: redis`,
        ).toBe(true);
      }
      // A job that runs some suites names only files that exist.
      for (const file of commands(job).match(/ts\/test\/[\w.-]+\.test\.ts/g) ?? []) expect(readdirSync(join(dir, '../../ts/test')), file).toContain(file.slice('ts/test/'.length));
    }
  });

  it('the suites honour FLEETSCALE_SKIP_SERVICES, and only for the services it names', () => {
    const quiet = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(serviceAvailable('postgres', true, 'up', { CI: 'true' })).toBe(true);
      expect(() => serviceAvailable('postgres', false, 'down', { CI: 'true' })).toThrow(/CI=true but down/);
      expect(() => serviceAvailable('postgres', false, 'down', { CI: 'true', FLEETSCALE_SKIP_SERVICES: 'chromium' })).toThrow(/CI=true but down/);
      expect(serviceAvailable('postgres', false, 'down', { CI: 'true', FLEETSCALE_SKIP_SERVICES: 'postgres,chromium' })).toBe(false);
      expect(serviceAvailable('chromium', false, 'no browser', {})).toBe(false);
    } finally {
      quiet.mockRestore();
    }
  });
});
