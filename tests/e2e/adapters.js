// Shared by the adapter tests (react, segment, posthog): the server and browser with a fixture
// under www/test/ bundled by esbuild with the real npm packages, as an app's bundler would; the
// beacons a page delivered; tsc over a usage file. `pqlkit` stays external (the
// page's import map loads /pqlkit/pqlkit.min.js, whose wasm sits next to it); `pqlkit/<entry>`
// resolves through package.json's `exports`, so the tests use what the package publishes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { after, before } from 'node:test';
import { launch, watchErrors } from './harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { exports } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** The bundled fixture as text (development React: StrictMode double-runs effects); `alias` as esbuild's (a package to another folder). */
export async function bundleFixture(file, { alias } = {}) {
  const result = await build({
    alias,
    entryPoints: [join(root, 'www', 'test', file)],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxDev: true,
    define: { 'process.env.NODE_ENV': '"development"' },
    logLevel: 'error',
    plugins: [
      {
        name: 'pqlkit-exports',
        setup(b) {
          b.onResolve({ filter: /^pqlkit$/ }, () => ({ path: 'pqlkit', external: true }));
          b.onResolve({ filter: /^pqlkit\// }, ({ path }) => {
            const target = exports['.' + path.slice('pqlkit'.length)]?.default;
            return target ? { path: join(root, target) } : { errors: [{ text: `package.json exports no ${path}` }] };
          });
        },
      },
    ],
  });
  return result.outputFiles[0].text;
}

/**
 * The test file's server and browser (`suite.env`) and its fixture bundled (`suite.bundle`),
 * set up before its tests and closed after them.
 */
export function adapterSuite(fixture) {
  const suite = {};
  before(async () => {
    [suite.env, suite.bundle] = await Promise.all([launch(), bundleFixture(fixture)]);
  });
  after(async () => {
    await suite.env?.close();
  });
  return suite;
}

/** GET `path` of the test server, as JSON. */
export const getJson = async (env, path) => (await fetch(env.url(path))).json();

/** The beacons the page's SDK emitted (`window.events`, `beacon`) that reached the collector, once it flushed its outbox. */
export async function deliveredBeacons(env, page) {
  await page.evaluate(() => window.pql.flush());
  const ids = new Set(await page.evaluate(() => window.events.filter((e) => e.name === 'beacon').map((e) => e.id)));
  return (await getJson(env, '/pql/beacons')).beacons.filter((b) => ids.has(b.id));
}

/** Serves `bundle` at `path` of every page of `context` (the fixture's <script src>). */
export async function serveBundle(context, path, bundle) {
  await context.route((url) => url.pathname === path, (route) => route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: bundle }));
}

/** Uncaught exceptions and console errors of a page. */
export function watchConsole(page) {
  const problems = watchErrors(page);
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
  });
  return problems;
}

/**
 * Runs tsc (strict, as a bundler-based app compiles: `moduleResolution: bundler`) over `source`
 * (one usage file, or `{ name: source }` for several), written inside the repository so that
 * `pqlkit/…` resolves through package.json's `exports` and the real packages' types come from
 * node_modules. Throws with tsc's output on an error, an unused `@ts-expect-error` included.
 */
export function typecheck(source, { jsx = false } = {}) {
  const dir = scratchDir('types-');
  const files = typeof source == 'string' ? { [jsx ? 'use.tsx' : 'use.ts']: source } : source;
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const compilerOptions = { strict: true, noEmit: true, target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', skipLibCheck: true, types: [], jsx: 'react-jsx' };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: Object.keys(files) }));
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', dir], { cwd: root, encoding: 'utf8' });
  } catch (error) {
    throw new Error(`tsc rejected it:\n${error.stdout}${error.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh folder under target/ (inside the repository: `pqlkit` resolves to this package by name). */
export function scratchDir(prefix) {
  mkdirSync(join(root, 'target'), { recursive: true });
  return mkdtempSync(join(root, 'target', prefix));
}
