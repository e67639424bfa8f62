// Shared by the adapter tests (react, segment, posthog): a fixture under www/test/ bundled by
// esbuild with the real npm packages, as an app's bundler would. `pqlkit` stays external (the
// page's import map loads /pqlkit/pqlkit.min.js, whose wasm sits next to it); `pqlkit/<entry>`
// resolves through package.json's `exports`, so the tests use what the package publishes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { watchErrors } from './harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { exports } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** The bundled fixture as text (development React: StrictMode double-runs effects). */
export async function bundleFixture(file) {
  const result = await build({
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
