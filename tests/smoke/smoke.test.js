// Smoke apps: the packed tarball installed like a customer's `npm install pqlkit`, built with the
// real tools (Vite, webpack, Next.js: pinned in tests/smoke/package-lock.json, installed once)
// and driven in Chromium: the prompt must appear on the 3rd click of a `data-pqlkit-feature`
// button, not before, with no console error. No app configures anything about pqlkit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureNpmInstall } from '../../.ci/tools.js';
import { startServer } from '../../www/server.js';
import { launchBrowser, screenshot } from '../e2e/harness.js';
import { installPacked } from '../js/pack.js';

const smoke = dirname(fileURLToPath(import.meta.url));
const bin = (tool) => join(smoke, 'node_modules', '.bin', tool);
// The tools choose their own mode (Next.js refuses to build with node --test's NODE_ENV=test).
const { NODE_ENV, ...toolEnv } = process.env;
toolEnv.NEXT_TELEMETRY_DISABLED = '1';
const work = mkdtempSync(join(tmpdir(), 'pqlkit-smoke-'));
const STRICT_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'";
const PROMPT_TITLE = 'Export is a Pro feature';

let browser;
before(async () => {
  ensureNpmInstall(smoke, 'the smoke apps’ bundlers (tests/smoke)');
  // A fresh copy each run: npm keeps an installed file: dependency of the same version.
  rmSync(join(smoke, 'node_modules', 'pqlkit'), { recursive: true, force: true });
  installPacked(smoke, ['--no-save']);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Runs a tool to completion; resolves to its output, rejects with it on failure. */
function tool(command, args, cwd, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...toolEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

/** A long-running server process (next start); `stop()` ends it. */
function daemon(command, args, cwd) {
  const child = spawn(command, args, { cwd, env: toolEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return { output: () => out, stop: () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('close', resolve), child.kill()))) };
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(check, what, seconds = 10) {
  for (const until = Date.now() + seconds * 1000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) if (await check()) return;
  throw new Error(`timed out: ${what}`);
}

async function waitForHttp(url, seconds = 60) {
  for (const until = Date.now() + seconds * 1000; Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
    try {
      const response = await fetch(url);
      if (response.ok) return await response.text();
    } catch {}
  }
  throw new Error(`${url} did not answer within ${seconds} s`);
}

/**
 * The common check: the app says `ready` once init resolved; two clicks show nothing, the third
 * shows the modal; no console error, no page error, no failed request. With a collector, the
 * rule's beacon reaches it.
 */
async function drive(url, name, { collector, debug = false } = {}) {
  const page = await browser.newPage();
  const problems = [];
  // The apps have no favicon: Chromium's request for one is the page's business, not pqlkit's.
  const favicon = (u) => new URL(u).pathname === '/favicon.ico';
  page.on('console', (message) => message.type() === 'error' && !favicon(message.location().url || 'http://x/') && problems.push(`console: ${message.text()}`));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // A beacon's response body is cancelled once its status is read (js/beacons.js), which
  // Chromium reports as an aborted request: a failure only when no response came.
  const answered = new Set();
  page.on('response', (response) => answered.add(response.request()));
  page.on('requestfailed', (request) => answered.has(request) || problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
  page.on('response', (response) => response.status() >= 400 && !favicon(response.url()) && problems.push(`HTTP ${response.status()}: ${response.url()}`));
  try {
    await page.goto(url + (debug ? '?pqlkit_debug=1' : ''));
    await page.locator('#status', { hasText: 'ready' }).waitFor({ timeout: 30000 }).catch(async (error) => {
      throw new Error(`${name}: ${await page.textContent('body').catch(() => '')} ${problems.join('; ')} (${error.message})`);
    });
    const button = page.getByRole('button', { name: 'Export report' });
    await button.click();
    await button.click();
    await page.waitForTimeout(100);
    assert.equal(await page.locator('pqlkit-prompt').count(), 0, `${name}: no prompt before the 3rd click`);
    await button.click();
    const dialog = page.getByRole('dialog', { name: PROMPT_TITLE });
    await dialog.waitFor({ timeout: 10000 });
    assert.match(await dialog.textContent(), /Upgrade to Pro/);
    if (debug) await page.locator('pqlkit-debug').waitFor({ state: 'attached', timeout: 10000 });
    await screenshot(page, `smoke-${name}`);
    if (collector) {
      await page.getByRole('button', { name: 'Not now' }).click();
      await waitFor(async () => (await (await fetch(collector + '/pql/beacons')).json()).beacons.some((b) => b.rule === 'export-explorer'), `${name}: the beacon reached the collector`);
    }
    assert.deepEqual(problems, [], `${name}: no console error, page error or failed request`);
  } finally {
    await page.close();
  }
}

/** Serves `wwwDir` (and the collector) with www/server.js; `options.csp` as a header. */
const serve = (wwwDir, options = {}) => startServer({ port: 0, dataDir: mkdtempSync(join(work, 'collector-')), wwwDir, ...options });

test('Vite: `vite build` emits the wasm as an asset, with no warning; the built app shows the prompt', async () => {
  const out = join(work, 'vite-dist');
  const log = await tool(bin('vite'), ['build', '--outDir', out, '--emptyOutDir'], join(smoke, 'vite'));
  assert.doesNotMatch(log, /warn|doesn't exist at build time|externalized/i, log);
  assert.match(log, /assets\/pqlkit_bg-[\w-]+\.wasm/);
  const server = await serve(out);
  try {
    await drive(server.url + '/', 'vite-build', { collector: server.url });
  } finally {
    await server.close();
  }
});

test("strict CSP: the Vite build under `script-src 'self' 'wasm-unsafe-eval'; style-src 'self'` shows the prompt with no violation", async () => {
  const server = await serve(join(work, 'vite-dist'), { csp: STRICT_CSP });
  try {
    const response = await fetch(server.url + '/');
    assert.equal(response.headers.get('content-security-policy'), STRICT_CSP);
    // Chromium reports each violation as a console error, which drive() fails on.
    await drive(server.url + '/', 'csp', { collector: server.url });
  } finally {
    await server.close();
  }
});

test('Vite: the dev server serves the package (pre-bundled) and the app shows the prompt', async () => {
  const { createServer: createVite } = await import(join(smoke, 'node_modules', 'vite', 'dist', 'node', 'index.js'));
  const collector = await serve(work);
  // The app's own dev setup: its API (here the collector) behind the dev server's proxy.
  const vite = await createVite({ root: join(smoke, 'vite'), cacheDir: join(work, 'vite-cache'), logLevel: 'warn', server: { port: await freePort(), strictPort: true, proxy: { '/pql': collector.url } } });
  try {
    await vite.listen();
    await drive(vite.resolvedUrls.local[0], 'vite-dev', { collector: collector.url });
  } finally {
    await vite.close();
    await collector.close();
  }
});

test('webpack 5: builds with no configuration and no warning about pqlkit; the prompt shows and the debug overlay loads', async () => {
  const site = join(work, 'webpack');
  mkdirSync(site);
  cpSync(join(smoke, 'webpack', 'index.html'), join(site, 'index.html'));
  const log = await tool(bin('webpack'), ['--mode', 'production', '--entry', './main.js', '--output-path', join(site, 'dist')], join(smoke, 'webpack'));
  assert.match(log, /compiled (successfully|with 1 warning)/, log);
  // The one warning allowed is webpack's size hint about wasm files (the lazy validator's),
  // which a page loads only for a refused rule set or pqlkit/validate.
  for (const warning of log.split('WARNING').slice(1)) assert.match(warning, /^ in asset size limit:[^]*?Assets: *\n(?: {2}\w+\.wasm \([\d.]+ KiB\)\n)+\n/, warning);
  assert.doesNotMatch(log, /Critical dependency|Module not found|Can't resolve/, log);
  const server = await serve(site);
  try {
    await drive(server.url + '/', 'webpack', { collector: server.url, debug: true });
    // `import 'pqlkit/global'` survived tree-shaking, and its init loads the module as a chunk.
    const page = await browser.newPage();
    await page.goto(server.url + '/');
    const rule = await page.evaluate(async () => {
      const pql = await window.pqlkit.init({ rules: { version: 1, rules: [{ id: 'r', when: { event: 'x', count: 1 } }] }, storage: 'memory', ui: 'none', autocapture: false });
      return new Promise((resolve) => (pql.on('rule:fired', (e) => resolve(e.rule)), pql.track('x')));
    });
    assert.equal(rule, 'r');
    await page.close();
  } finally {
    await server.close();
  }
});

for (const bundler of ['turbopack', 'webpack']) {
  test(`Next.js (App Router, ${bundler}): builds with no pqlkit configuration, renders on the server, inits on the client`, async () => {
    const app = join(smoke, 'next');
    const log = await tool(bin('next'), ['build', ...(bundler === 'webpack' ? ['--webpack'] : [])], app);
    assert.doesNotMatch(log, /pqlkit|Critical dependency|Module not found|Can't resolve|warn/i, log);
    const port = await freePort();
    const server = daemon(bin('next'), ['start', '-p', String(port), '-H', '127.0.0.1'], app);
    try {
      const html = await waitForHttp(`http://127.0.0.1:${port}/`);
      assert.match(html, /Export report/, 'the server rendered the page');
      assert.match(html, /id="status">loading</, 'init did not run on the server');
      await drive(`http://127.0.0.1:${port}/`, `next-${bundler}`);
      assert.doesNotMatch(server.output(), /error/i, server.output());
    } finally {
      await server.stop();
    }
  });
}

test('Next.js dev server (Turbopack): the page compiles on request, renders on the server, inits on the client', async () => {
  const app = join(smoke, 'next');
  const port = await freePort();
  const server = daemon(bin('next'), ['dev', '-p', String(port), '-H', '127.0.0.1'], app);
  try {
    const html = await waitForHttp(`http://127.0.0.1:${port}/`, 120);
    assert.match(html, /Export report/, 'the dev server rendered the page (it answered HTTP 500 before the package was fixed)');
    await drive(`http://127.0.0.1:${port}/`, 'next-dev');
    assert.doesNotMatch(server.output(), /error|warn/i, server.output());
  } finally {
    await server.stop();
  }
});

test('script tag: pqlkit.global.js with only the files the README lists, served from the installed package', async () => {
  const installed = join(smoke, 'node_modules', 'pqlkit', 'js');
  const served = join(work, 'served-pqlkit');
  // The README's list of files to serve for a script-tag page: nothing else is reachable.
  for (const file of ['pqlkit.global.js', 'pqlkit.min.js', 'wasm/pqlkit_bg.wasm', 'debug.js', 'validate.min.js', 'wasm-authoring/pqlkit_authoring_bg.wasm']) {
    cpSync(join(installed, file), join(served, file));
  }
  const server = await serve(smoke, { packageDir: served });
  try {
    await drive(server.url + '/script-tag/', 'script-tag', { collector: server.url });
  } finally {
    await server.close();
  }
});
