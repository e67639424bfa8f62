// Test helper: the package as a customer gets it. `npm pack` of the built repository, once per
// test process, and `npm install` of that tarball into a project, offline (it has no
// dependencies). The packaging test, the type tests and the smoke apps all install this way.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const run = (cmd, args, cwd, env) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: env && { ...process.env, ...env } });

let packed;

/** `{ dir, tarball, files }`: a fresh temporary directory holding the packed tarball, and the packed paths. */
export function pack() {
  if (!packed) {
    const dir = mkdtempSync(join(tmpdir(), 'pqlkit-pack-'));
    // Each run leaves nothing behind (a projects' folder is about 70 MB).
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const [{ filename, files }] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], root));
    packed = { dir, tarball: join(dir, filename), files: files.map((f) => f.path) };
  }
  return packed;
}

/** Installs the packed tarball into the project at `app` (which has a package.json), as `npm install <tarball>` does. */
export function installPacked(app, extra = []) {
  run('npm', ['install', '--no-audit', '--no-fund', '--offline', ...extra, pack().tarball], app);
}
