/**
 * The package as a newcomer gets it: `npm pack` gives a tarball that installs into an empty
 * directory and runs `npx fleetscale demo --once` with no Rust toolchain when the prebuilt
 * binary for this platform is there (as `napi pre-publish` arranges it: the main package lists
 * the per-platform packages as optional dependencies), and builds the binding from the shipped
 * sources otherwise.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; napi: { binaryName: string } };
/** This host's per-platform package (the loader's name for it). */
const platform =
  process.platform === 'linux' &&
  process.arch === 'x64' &&
  process.report.getReport &&
  (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime
    ? 'linux-x64-gnu'
    : undefined;
const binary = platform && join(root, 'ts/native', `${pkg.napi.binaryName}.${platform}.node`);
const ready = binary !== undefined && existsSync(binary) && existsSync(join(root, 'dist/src/index.js'));

/** PATH without any directory that holds cargo or rustc: an install that needed Rust would fail. */
const pathWithoutRust = (process.env.PATH ?? '')
  .split(':')
  .filter((dir) => dir !== '' && !existsSync(join(dir, 'cargo')) && !existsSync(join(dir, 'rustc')))
  .join(':');

const npm = (args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) => {
  const out = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel', 'error'], { cwd, env, encoding: 'utf8', timeout: 600_000 });
  if (out.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${out.status}):\n${out.stdout}\n${out.stderr}`);
  return out.stdout;
};

/** Packs `dir` into `into`; returns the tarball's path. */
const pack = (dir: string, into: string): string => {
  const [info] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', into], dir)) as { filename: string }[];
  return join(into, info!.filename);
};

describe.skipIf(!ready)('npm pack → npm install → npx fleetscale', () => {
  const work = mkdtempSync(join(tmpdir(), 'fleetscale-install-'));
  let mainTarball = '';
  let platformTarball = '';

  beforeAll(() => {
    // The main package as publishing leaves it: the repository's tarball with the per-platform
    // packages as optional dependencies (what `napi pre-publish` adds).
    const packed = pack(root, work);
    const stage = join(work, 'stage');
    mkdirSync(stage);
    execFileSync('tar', ['-xzf', packed, '-C', stage]);
    const manifestPath = join(stage, 'package', 'package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
    const platforms = readdirSync(join(root, 'npm'));
    manifest.optionalDependencies = Object.fromEntries(platforms.map((p) => [`${pkg.napi.binaryName}-${p}`, pkg.version]));
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    mkdirSync(join(work, 'main'));
    mainTarball = pack(join(stage, 'package'), join(work, 'main'));
    // This platform's package: npm/<platform> with the built binary in it (`napi artifacts`).
    const platformDir = join(work, 'platform');
    mkdirSync(platformDir);
    for (const file of readdirSync(join(root, 'npm', platform!))) copyFileSync(join(root, 'npm', platform!, file), join(platformDir, file));
    copyFileSync(binary!, join(platformDir, `${pkg.napi.binaryName}.${platform}.node`));
    platformTarball = pack(platformDir, work);
  }, 600_000);

  it('the tarball carries the build, the SQL migrations and the sources, and nothing of the tests or the lab binary', () => {
    const files = execFileSync('tar', ['-tzf', mainTarball], { encoding: 'utf8' }).split('\n');
    for (const f of [
      'package/dist/src/index.js',
      'package/dist/src/cli/main.js',
      'package/sql/hub/000001_initial.sql',
      'package/sql/claims/000001_initial.sql',
      'package/ts/native/binding.cjs',
      'package/scripts/install.mjs',
      'package/crates/napi/src/lib.rs',
      'package/Cargo.lock',
    ]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.endsWith('.node') || f.includes('/ts/test/') || f.includes('/ts/src/') || f.includes('bench/'))).toEqual([]);
  });

  it('installs with the prebuilt binary and no Rust toolchain, and runs the demo and the API', () => {
    const app = join(work, 'app-prebuilt');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const env = { ...process.env, PATH: pathWithoutRust, npm_config_prefer_offline: 'true' };
    expect(spawnSync('cargo', ['--version'], { env }).error, 'cargo must be out of reach').toBeDefined();
    npm(['install', mainTarball, platformTarball], app, env);
    expect(existsSync(join(app, 'node_modules', `${pkg.napi.binaryName}-${platform}`))).toBe(true);
    expect(existsSync(join(app, 'node_modules/fleetscale/target'))).toBe(false); // nothing was built

    const demo = spawnSync(process.execPath, [join(app, 'node_modules/.bin/fleetscale'), 'demo', '--once', '--nodes', '50', '--port', '0'], {
      cwd: app,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/round \S+: 50 nodes, 250 observations in 50 batches/);
    expect(demo.stdout).toMatch(/retries +0, errors 0/);

    const script =
      "import { fuseSync, generateFleet } from 'fleetscale/fusion'; import { FleetscaleError } from 'fleetscale'; const { records } = generateFleet({ nodes: 20, obsPerNode: 3, seed: 1 }); console.log(fuseSync(records).stats.records, typeof FleetscaleError);";
    const api = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app, env, encoding: 'utf8' });
    expect(api.status, api.stderr).toBe(0);
    expect(api.stdout.trim()).toBe('60 function');
  }, 600_000);

  it('without a prebuilt binary, the install builds the binding from the shipped sources', () => {
    const app = join(work, 'app-source');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // The repository's target directory keeps the build incremental; the build itself is the install script's.
    const env = { ...process.env, CARGO_TARGET_DIR: join(root, 'target'), npm_config_prefer_offline: 'true' };
    npm(['install', mainTarball], app, env);
    expect(existsSync(join(app, 'node_modules', `${pkg.napi.binaryName}-${platform}`))).toBe(false);
    expect(existsSync(join(app, 'node_modules/fleetscale/ts/native', `${pkg.napi.binaryName}.${platform}.node`))).toBe(true);
    const version = spawnSync(process.execPath, [join(app, 'node_modules/.bin/fleetscale'), 'generate', '--nodes', '3', '--obs-per-node', '2', '--seed', '1'], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim().split('\n')).toHaveLength(6);
  }, 900_000);

  it('without a prebuilt binary or a Rust toolchain, the install says what to do', () => {
    const app = join(work, 'app-nothing');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    const out = spawnSync('npm', ['install', mainTarball, '--no-audit', '--no-fund'], {
      cwd: app,
      env: { ...process.env, PATH: pathWithoutRust, npm_config_prefer_offline: 'true' },
      encoding: 'utf8',
      timeout: 600_000,
    });
    expect(out.status).not.toBe(0);
    expect(`${out.stdout}${out.stderr}`).toMatch(/fleetscale: no prebuilt binary for linux-x64-gnu, and no Rust toolchain to build one: install Rust 1\.88 or newer/);
  }, 600_000);
});
