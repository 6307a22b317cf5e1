import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { validateWorkflow } from '@action-validator/core';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '../../.github/workflows');
const files = readdirSync(dir).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'));

type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
type Job = { needs?: string | string[]; steps: Step[]; strategy?: { matrix: { settings: Array<{ target: string }> } } };

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
    const ci = parse(readFileSync(join(dir, 'CI.yml'), 'utf8')) as { permissions: unknown; jobs: Record<string, Job> };
    expect(ci.permissions).toEqual({});
    const { lint, build, test, publish } = ci.jobs;
    expect(lint.steps.map((s) => s.run ?? '').join('\n')).toMatch(/clippy[\s\S]*-D warnings/);
    expect(build.needs).toBe('lint');
    const targets = build.strategy!.matrix.settings.map((s) => s.target).sort();
    expect(targets).toEqual(
      [
        'aarch64-apple-darwin',
        'aarch64-unknown-linux-gnu',
        'x86_64-apple-darwin',
        'x86_64-pc-windows-msvc',
        'x86_64-unknown-linux-gnu',
        'x86_64-unknown-linux-musl',
      ].sort(),
    );
    const upload = build.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
    expect(upload.with).toMatchObject({ name: 'bindings-${{ matrix.settings.target }}', 'if-no-files-found': 'error' });
    expect(test.needs).toBe('build');
    expect([publish.needs].flat()).toContain('test');
    const commands = publish.steps.map((s) => s.run ?? '').join('\n');
    const order = ['napi create-npm-dirs', 'napi artifacts', 'napi pre-publish', 'npm publish --provenance'];
    const positions = order.map((c) => commands.indexOf(c));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
});
