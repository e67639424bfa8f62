// The builds the bench scripts compare (ab.js, peer-ab.js): "now" is the current js/ folder,
// any other name a snapshot of it in target/ab/<name>/, kept by `--save NAME`.
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../../.ci/tools.js';

const store = join(root, 'target', 'ab');

/** The value after `name` in `argv` (both removed from it), or `fallback`. */
export function option(argv, name, fallback) {
  const i = argv.indexOf(name);
  return i >= 0 ? argv.splice(i, 2)[1] : fallback;
}

/** Whether `name` is in `argv` (removed from it). */
export function flag(argv, name) {
  const i = argv.indexOf(name);
  return i >= 0 && argv.splice(i, 1).length === 1;
}

/** The folder of build `name`: what js/ holds (the bundles, the facade's modules, the wasm folders). */
export const buildDir = (name) => (name === 'now' ? join(root, 'js') : join(store, name));

/** Keeps the current build as `name`: js/*.js with the runtime's and the validator's wasm folders. */
export function saveBuild(name) {
  // "now" names js/ itself: saving under it would empty the folder it copies from.
  if (name === 'now') throw new Error('"now" is the current build (js/); save it under another name');
  const to = buildDir(name);
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  for (const file of readdirSync(join(root, 'js')).filter((f) => f.endsWith('.js'))) cpSync(join(root, 'js', file), join(to, file));
  // The whole build folders: the glue, the wasm, and the host functions they import.
  for (const dir of ['wasm', 'wasm-validate']) cpSync(join(root, 'js', dir), join(to, dir), { recursive: true });
  return to;
}
