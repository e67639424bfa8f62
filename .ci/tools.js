// Shared helpers for pqlkit's npm scripts: run commands, find tools, install what is missing.
// Every step checks before it installs, so a second run on the same machine installs nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = dirname(dirname(fileURLToPath(import.meta.url)));

// Tools installed by cargo and npm must be found even when the caller's PATH lacks them.
process.env.PATH = [join(root, 'node_modules', '.bin'), join(homedir(), '.cargo', 'bin'), process.env.PATH].join(':');

/** Runs a command in the repository, streaming its output. Returns the exit code. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) {
    console.error(`pqlkit: could not run ${command}: ${result.error.message}`);
    return 127;
  }
  return result.status ?? 1;
}

/** Runs a command and returns its trimmed stdout, or null when it fails or is missing. */
export function output(command, args) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

export function mustRun(command, args, options) {
  const code = run(command, args, options);
  if (code !== 0) {
    console.error(`pqlkit: \`${command} ${args.join(' ')}\` failed with exit code ${code}`);
    process.exit(code);
  }
}

/** The wasm-bindgen version pinned in Cargo.lock: the CLI must match it exactly. */
export function lockedWasmBindgenVersion() {
  const lock = readFileSync(join(root, 'Cargo.lock'), 'utf8');
  const match = lock.match(/name = "wasm-bindgen"\nversion = "([^"]+)"/);
  if (!match) throw new Error('Cargo.lock does not pin wasm-bindgen');
  return match[1];
}

function step(label) {
  console.log(`pqlkit setup: ${label}`);
}

/**
 * The release wasm is built with a pinned nightly: `-Z build-std` with immediate-abort panics
 * drops core's panic and formatting machinery (about 13 KB gzip of the wasm). Tests, clippy
 * and native builds stay on stable.
 */
export const SIZE_TOOLCHAIN = 'nightly-2026-10-30';

/**
 * `npm ci` in `dir` (a folder with a package-lock.json) unless its node_modules was installed
 * after the lock last changed: the second run installs nothing.
 */
export function ensureNpmInstall(dir, label) {
  const installed = join(dir, 'node_modules', '.package-lock.json');
  const lock = join(dir, 'package-lock.json');
  if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
    step(`installing ${label}`);
    mustRun('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir });
  }
}

/** Installs the Rust pieces, the npm dependencies and (for tests) Chromium, when missing. */
export function ensureToolchain({ browser = false } = {}) {
  const targets = output('rustup', ['target', 'list', '--installed']) ?? '';
  if (!targets.split('\n').includes('wasm32-unknown-unknown')) {
    step('adding the wasm32-unknown-unknown target');
    mustRun('rustup', ['target', 'add', 'wasm32-unknown-unknown']);
  }
  for (const component of ['rustfmt', 'clippy']) {
    const probe = component === 'rustfmt' ? ['fmt', '--version'] : ['clippy', '--version'];
    if (output('cargo', probe) === null) {
      step(`adding rustup component ${component}`);
      mustRun('rustup', ['component', 'add', component]);
    }
  }
  const toolchains = output('rustup', ['toolchain', 'list']) ?? '';
  if (!toolchains.includes(SIZE_TOOLCHAIN)) {
    step(`installing ${SIZE_TOOLCHAIN} with rust-src (for the size-optimised wasm build)`);
    mustRun('rustup', ['toolchain', 'install', SIZE_TOOLCHAIN, '--profile', 'minimal', '--component', 'rust-src', '--target', 'wasm32-unknown-unknown']);
  }
  const bindgen = lockedWasmBindgenVersion();
  if (output('wasm-bindgen', ['--version']) !== `wasm-bindgen ${bindgen}`) {
    step(`installing wasm-bindgen-cli ${bindgen} (a few minutes, once)`);
    // No --locked: one of its locked dependencies is no longer on the registry.
    mustRun('cargo', ['install', 'wasm-bindgen-cli', '--version', bindgen, '--force']);
  }
  if (output('wasm-pack', ['--version']) === null) {
    step('installing wasm-pack (a few minutes, once)');
    mustRun('cargo', ['install', 'wasm-pack']);
  }
  ensureNpmInstall(root, 'npm dependencies');
  if (browser && !(existsSync('/usr/bin/chromium') && existsSync('/usr/bin/chromedriver'))) {
    step("installing Debian's chromium and chromium-driver");
    const sudo = process.getuid && process.getuid() !== 0 ? ['sudo'] : [];
    const apt = (args) => (sudo.length ? mustRun('sudo', ['apt-get', ...args]) : mustRun('apt-get', args));
    apt(['update']);
    apt(['install', '-y', 'chromium', 'chromium-driver']);
  }
}
