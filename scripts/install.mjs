#!/usr/bin/env node
// Runs when fleetscale is installed from the registry or a tarball. The native binding comes
// prebuilt in a per-platform package (fleetscale-linux-x64-gnu, …) that npm picks for this
// machine; when none matches, this builds it from the Rust sources the package ships (which
// needs cargo, Rust 1.88 or newer). In a checkout of the repository it does nothing: `prepare`
// builds everything there.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (line) => process.stderr.write(`fleetscale: ${line}\n`);

if (existsSync(join(root, 'ts', 'src'))) process.exit(0);

const require = createRequire(import.meta.url);
const loads = () => {
  try {
    require('../ts/native/binding.cjs');
    return true;
  } catch {
    return false;
  }
};
if (loads()) process.exit(0);

/** The loader's name for this platform (`linux-x64-gnu`, `darwin-arm64`, …). */
function platformName() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

const name = platformName();
const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (cargo.error || cargo.status !== 0) {
  say(`no prebuilt binary for ${name}, and no Rust toolchain to build one: install Rust 1.88 or newer (https://rustup.rs), then reinstall fleetscale`);
  process.exit(1);
}
say(`no prebuilt binary for ${name}: building the native binding from source with ${cargo.stdout.trim()} (a few minutes)`);
const build = spawnSync('cargo', ['build', '--release', '--locked', '-p', 'fleetscale-napi'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (build.status !== 0) {
  say("building the native binding failed (see cargo's output above)");
  process.exit(1);
}
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const library = process.platform === 'win32' ? 'fleetscale_napi.dll' : process.platform === 'darwin' ? 'libfleetscale_napi.dylib' : 'libfleetscale_napi.so';
copyFileSync(join(targetDir, 'release', library), join(root, 'ts', 'native', `fleetscale.${name}.node`));
if (!loads()) {
  say(`built ${library}, but the binding does not load on ${name}`);
  process.exit(1);
}
say(`built the native binding for ${name}`);
