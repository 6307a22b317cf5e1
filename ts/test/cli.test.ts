import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { fuseSync, generateFleet, type SensorRecord } from '../src/index.js';

const cli = join(import.meta.dirname, '../../dist/src/cli/main.js');
const run = (args: string[], input?: string) => spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8' });

describe('fleetscale CLI', () => {
  it('generate → fuse round-trips to the API result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetscale-cli-'));
    const file = join(dir, 'fleet.jsonl');
    const truthFile = join(dir, 'truth.json');
    const gen = run(['generate', '--nodes', '60', '--obs-per-node', '4', '--seed', '9', '--out', file, '--truth', truthFile]);
    expect(gen.status, gen.stderr).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(240);
    const records = lines.map((l) => JSON.parse(l) as SensorRecord);
    expect(records).toEqual(generateFleet({ nodes: 60, obsPerNode: 4, seed: 9 }).records);
    expect(Object.keys(JSON.parse(readFileSync(truthFile, 'utf8')))).toHaveLength(240);

    const fused = run(['fuse', file]);
    expect(fused.status, fused.stderr).toBe(0);
    const events = fused.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events).toEqual(fuseSync(records).events);
    expect(fused.stderr).toMatch(/fused 240 records into \d+ events/);
    expect(fused.stderr).toMatch(/timings ms: read/);

    // The same through stdin.
    const piped = run(['fuse', '-'], readFileSync(file, 'utf8'));
    expect(piped.stdout).toBe(fused.stdout);
  });

  it('fails with a coded message on bad input and a usage message on bad options', () => {
    const bad = run(['fuse', '-'], '{"id":"a","node":"A","cls":"x","t":1,"lat":95,"lon":0}\n');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/ERR_FUSION_INPUT: row 0: field "pos" latitude/);
    const notJson = run(['fuse', '-'], '{"id":"a"}\nnot json\n');
    expect(notJson.status).toBe(1);
    expect(notJson.stderr).toMatch(/ERR_FUSION_INPUT: line 2: not JSON/);
    const usage = run(['generate', '--nodes', 'many']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--nodes must be an integer >= 1, got many/);
    expect(run(['frobnicate']).status).toBe(2);
    for (const [value, message] of [
      ['-1', /--sync-interval-ms must be a number >= 0, got -1/],
      ['soon', /--sync-interval-ms must be a number >= 0, got soon/],
      ['5000', /--sync-interval-ms must be <= 1000, got 5000/],
    ] as const) {
      const hub = run(['hub', '--port', '0', '--sync-interval-ms', value, '--data', mkdtempSync(join(tmpdir(), 'fleetscale-cli-'))]);
      expect(hub.status, value).toBe(2);
      expect(hub.stderr).toMatch(message);
    }
    expect(execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' })).toMatch(/fleetscale generate/);
  });

  it('compare prints both algorithms and the quality', () => {
    const demo = run(['lab', 'fusion', 'compare', '--nodes', '200', '--runs', '1']);
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/global blocking index/);
    expect(demo.stdout).toMatch(/same events: yes/);
    expect(demo.stdout).toMatch(/B-cubed F1 (0\.9\d+|1\.0+)\n/);
  });
});
