// What a page downloads on a first visit (PRODUCT.md §8): Chromium opens www/test/first-load.html
// (a valid rule set, one modal prompt, one beacon, a collector) with an empty cache, the prompt
// shows and the beacon reaches the collector, and every response from the package (/pqlkit/) is
// recorded through the DevTools protocol. The server sends the package gzip-compressed (level 9).
//
// How bytes are counted: "gzip" is the response body as it came over the wire, i.e. CDP's
// `Network.loadingFinished.encodedDataLength` (every byte received for the request) minus the
// header bytes (`Network.responseReceived` `response.encodedDataLength`, the bytes received by the
// time the headers were in); it must equal the response's Content-Length. "raw" is the decoded
// body (the sum of `Network.dataReceived.dataLength`), checked against the file on disk. "brotli"
// is brotli quality 11 of that file, computed here with node:zlib, for comparison only.
//
// The test fails when the gzip total exceeds `firstLoadGzipBytes` in .ci/size-budget.json (which
// may only go down); the product goal (`goalGzipBytes`) is printed, not asserted. A second test
// checks the order of a first visit's requests: the wasm is asked for while a rule-set URL is
// still on its way.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants } from 'node:zlib';
import { firstLoadFiles } from '../../.ci/size.js';
import { launch, screenshot, watchErrors } from './harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const budget = JSON.parse(readFileSync(join(root, '.ci', 'size-budget.json'), 'utf8'));
/** Lazy parts that a first visit must never fetch: a path with a segment named *validate* (validate.min.js, wasm-validate/), debug*, formats* (the Segment / PostHog batch formats) or *authoring*. */
const isLazy = (path) => path.split('/').some((segment) => /validate|^debug|^formats|authoring/.test(segment));

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

/** Records every request of the page through CDP: url, status, header and body bytes on the wire, decoded bytes. */
async function recordNetwork(context, page) {
  const cdp = await context.newCDPSession(page);
  const requests = new Map();
  const entry = (id) => requests.get(id) ?? requests.set(id, { decoded: 0 }).get(id);
  cdp.on('Network.requestWillBeSent', (e) => Object.assign(entry(e.requestId), { url: e.request.url }));
  cdp.on('Network.responseReceived', (e) => {
    const headers = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    Object.assign(entry(e.requestId), { url: e.response.url, status: e.response.status, headers, headerBytes: e.response.encodedDataLength, fromCache: e.response.fromDiskCache || e.response.fromServiceWorker });
  });
  cdp.on('Network.dataReceived', (e) => {
    entry(e.requestId).decoded += e.dataLength;
  });
  cdp.on('Network.loadingFinished', (e) => Object.assign(entry(e.requestId), { finished: true, totalBytes: e.encodedDataLength }));
  cdp.on('Network.loadingFailed', (e) => Object.assign(entry(e.requestId), { failed: e.errorText }));
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  return { requests, cdp };
}

const n = (v) => v.toLocaleString('en-US').padStart(9);

test('a first visit downloads only the first load, within the budget: the modal shows and the beacon arrives', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const { requests, cdp } = await recordNetwork(context, page);

  await page.goto(env.url('/test/first-load.html'));
  await page.waitForFunction(() => window.ready !== undefined);
  assert.equal(await page.evaluate(() => window.ready), true, 'init() resolved with the rule set');

  // Three uses of the feature (autocapture of data-pqlkit-feature) fire the rule: modal + beacon.
  for (let i = 0; i < 3; i++) await page.click('#export');
  const dialog = page.locator('pqlkit-prompt[data-style="modal"] [role="dialog"]'); // Playwright's CSS pierces the open shadow root
  await dialog.waitFor({ state: 'visible' });
  const modal = await page.evaluate(() => {
    const host = document.querySelector('pqlkit-prompt');
    const card = host.shadowRoot.querySelector('[role="dialog"]');
    return { inShadow: !!host.shadowRoot && !document.querySelector('[role="dialog"]'), title: card.querySelector('h2')?.textContent, rect: card.getBoundingClientRect().toJSON() };
  });
  assert.ok(modal.inShadow, 'the modal renders inside the shadow root');
  assert.equal(modal.title, 'Export more with Pro');
  assert.ok(modal.rect.width > 200 && modal.rect.height > 40, JSON.stringify(modal.rect));
  await page.evaluate(() => window.pql.flush());
  const collected = await (await fetch(env.url('/pql/beacons'))).json();
  assert.ok(collected.beacons.some((b) => b.rule === 'exports' && b.type === 'feature'), `the collector has the beacon: ${JSON.stringify(collected.beacons)}`);
  await screenshot(page, 'first-load-modal');
  await page.waitForTimeout(500); // anything lazy that the page would still fetch has started by now
  await cdp.send('Network.disable');

  const fromPackage = [...requests.values()].filter((r) => r.url && new URL(r.url).pathname.startsWith('/pqlkit/'));
  const fetched = fromPackage.map((r) => decodeURIComponent(new URL(r.url).pathname.slice('/pqlkit/'.length)));
  const lazy = fetched.filter(isLazy);
  assert.deepEqual(lazy, [], 'no validator, debug overlay or authoring/CLI wasm on a first visit');
  const expected = firstLoadFiles().map((f) => relative(join(root, 'js'), f).split('\\').join('/'));
  assert.deepEqual([...fetched].sort(), [...expected].sort(), 'the page fetched the first load, each file once, and nothing else from the package');

  const rows = fromPackage.map((r) => {
    const path = decodeURIComponent(new URL(r.url).pathname.slice('/pqlkit/'.length));
    assert.ok(r.finished && !r.failed, `${path} finished loading (${r.failed ?? 'unfinished'})`);
    assert.equal(r.status, 200, path);
    assert.ok(!r.fromCache, `${path} came over the network`);
    assert.equal(r.headers['content-encoding'], 'gzip', `${path} was sent gzip-compressed`);
    const gzip = r.totalBytes - r.headerBytes;
    assert.equal(gzip, Number(r.headers['content-length']), `${path}: body bytes on the wire = Content-Length`);
    const file = readFileSync(join(root, 'js', path));
    assert.equal(r.decoded, file.length, `${path}: the decoded body is the file on disk`);
    const brotli = brotliCompressSync(file, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
    return { path, raw: r.decoded, gzip, brotli, headers: r.headerBytes };
  });
  const total = rows.reduce((s, r) => ({ raw: s.raw + r.raw, gzip: s.gzip + r.gzip, brotli: s.brotli + r.brotli, headers: s.headers + r.headers }), { raw: 0, gzip: 0, brotli: 0, headers: 0 });

  const goal = budget.goalGzipBytes ?? 30720;
  const lines = [
    `first load of ${env.url('/test/first-load.html')} (Chromium, empty cache; gzip = body bytes on the wire)`,
    `  ${'file'.padEnd(32)} ${'raw'.padStart(9)} ${'gzip'.padStart(9)} ${'brotli'.padStart(9)}`,
    ...rows.map((r) => `  ${('/pqlkit/' + r.path).padEnd(32)} ${n(r.raw)} ${n(r.gzip)} ${n(r.brotli)}`),
    `  ${'total'.padEnd(32)} ${n(total.raw)} ${n(total.gzip)} ${n(total.brotli)}`,
    `  (plus ${total.headers} B of HTTP response headers, not counted)`,
    `budget: ${total.gzip} B gzip of firstLoadGzipBytes ${budget.firstLoadGzipBytes} (${total.gzip <= budget.firstLoadGzipBytes ? 'within' : 'OVER'})`,
    `product goal: ${goal.toLocaleString('en-US')} B gzip — ${total.gzip <= goal ? 'met' : `not met (${(total.gzip - goal).toLocaleString('en-US')} B over)`}`,
  ];
  console.log(lines.join('\n'));

  assert.deepEqual(errors, []);
  assert.equal(typeof budget.firstLoadGzipBytes, 'number', '.ci/size-budget.json has firstLoadGzipBytes');
  assert.ok(total.gzip <= budget.firstLoadGzipBytes, `first load ${total.gzip} B gzip exceeds the budget of ${budget.firstLoadGzipBytes} B (.ci/size-budget.json firstLoadGzipBytes)`);
  await context.close();
});

test('the wasm is requested while the rule set is still on its way: one round trip before init, not two', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  let wasmRequested;
  const wasm = new Promise((resolve) => (wasmRequested = resolve));
  page.on('request', (request) => {
    if (request.url().endsWith('/pqlkit_bg.wasm')) wasmRequested('wasm');
  });
  // The rule set is answered only once the wasm has been asked for (or after 3 s, when it was not).
  let order;
  await page.route('**/held-rules.json', async (route) => {
    order = await Promise.race([wasm, new Promise((resolve) => setTimeout(() => resolve('rules first'), 3000))]);
    await route.fulfill({ contentType: 'application/json', body: JSON.stringify({ version: 1, rules: [{ id: 'r', when: { event: 'x', count: 1 }, score: 1 }] }) });
  });
  // A page of the package's origin that loads nothing by itself.
  await page.route('**/blank.html', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>blank</title>' }));
  await page.goto(env.url('/blank.html'));
  const score = await page.evaluate(async () => {
    const { init } = await import('/pqlkit/pqlkit.min.js');
    const pql = await init({ rules: '/held-rules.json', storage: 'memory', autocapture: false, ui: 'none' });
    pql.track('x');
    return pql.score().score;
  });
  assert.equal(order, 'wasm', 'the wasm request started before the rule set had answered');
  assert.equal(score, 1, 'init resolved with the fetched rule set, which counts the event');
  assert.deepEqual(errors, []);
  await context.close();
});
