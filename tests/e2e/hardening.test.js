// Issue 13 in Chromium: prompts styled under a strict Content-Security-Policy (constructable
// stylesheets), a typed `wasm_blocked` rejection without 'wasm-unsafe-eval', `styles_blocked`
// when no style can apply, and a tab whose core traps: it heals, and after repeated traps it
// disables itself and hands the tabs' leadership over, so a deadline still fires in another tab.
//
// Traps are real: an init script wraps `WebAssembly.Instance` (in the test page, not in pqlkit)
// so that an armed export first calls the same instance's `core_input(0xfffffff0)`, whose 4 GB
// allocation aborts the wasm (`unreachable`).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, screenshot, watchErrors } from './harness.js';

const STRICT = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";
const NO_WASM = "default-src 'self'; script-src 'self'; style-src 'self'";

const RULES = {
  version: 1,
  rules: [
    { id: 'exports', when: { event: 'feature_used', where: { feature: 'export' }, count: 2 }, score: 10, actions: [{ prompt: 'pro' }] },
    { id: 'abandoned', when: { event: 'upgrade_started', notFollowedBy: { event: 'upgrade_completed' }, within: '2s' }, score: 10 },
  ],
  prompts: { pro: { style: 'modal', title: 'Export more with Pro', body: 'Unlimited exports.', cta: { label: 'Upgrade', url: '/upgrade' } } },
};

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

async function openCsp(context, csp, { noAdopted = false } = {}) {
  const page = await context.newPage();
  const errors = watchErrors(page);
  if (noAdopted) {
    // An engine without constructable stylesheets.
    await page.addInitScript(() => {
      Object.defineProperty(ShadowRoot.prototype, 'adoptedStyleSheets', {
        set() {
          throw new TypeError('not supported');
        },
      });
    });
  }
  await page.goto(env.url(`/test/csp.html?csp=${encodeURIComponent(csp)}`));
  await page.waitForFunction(() => window.ready === true);
  return { page, errors };
}

/** Whether the shown prompt is styled: its host a block, the modal's backdrop fixed over the page. */
const promptStyle = (page) =>
  page.evaluate(() => {
    const host = document.querySelector('pqlkit-prompt');
    const backdrop = host?.shadowRoot.querySelector('.backdrop');
    return { host: host && getComputedStyle(host).display, backdrop: backdrop && getComputedStyle(backdrop).position };
  });

test("under style-src 'self' (no 'unsafe-inline') a prompt is styled, with zero CSP violations", async () => {
  const context = await env.browser.newContext();
  const { page, errors } = await openCsp(context, STRICT);
  assert.deepEqual(await page.evaluate((rules) => window.start({ rules, storage: 'memory' }), RULES), { started: true });
  await page.evaluate(() => {
    window.pql.featureUsed('export');
    window.pql.featureUsed('export');
  });
  await page.waitForSelector('pqlkit-prompt', { state: 'attached' });
  assert.deepEqual(await promptStyle(page), { host: 'block', backdrop: 'fixed' });
  await screenshot(page, 'csp-strict-modal');
  assert.deepEqual(await page.evaluate(() => window.violations), [], 'no CSP violation');
  assert.deepEqual(await page.evaluate(() => window.events.filter((e) => e.name === 'error')), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test("without adoptedStyleSheets the prompt falls back to <style>, and where CSP blocks that too, styles_blocked says so", async () => {
  const context = await env.browser.newContext();
  // No CSP: the <style> fallback styles it.
  const open = await openCsp(context, "default-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'", { noAdopted: true });
  await open.page.evaluate((rules) => window.start({ rules, storage: 'memory' }), RULES);
  await open.page.evaluate(() => [1, 2].forEach(() => window.pql.featureUsed('export')));
  await open.page.waitForSelector('pqlkit-prompt', { state: 'attached' });
  assert.deepEqual(await promptStyle(open.page), { host: 'block', backdrop: 'fixed' });
  assert.deepEqual(await open.page.evaluate(() => window.events.filter((e) => e.name === 'error')), []);

  const strict = await openCsp(context, STRICT, { noAdopted: true });
  await strict.page.evaluate((rules) => window.start({ rules, storage: 'memory' }), RULES);
  await strict.page.evaluate(() => [1, 2].forEach(() => window.pql.featureUsed('export')));
  await strict.page.waitForSelector('pqlkit-prompt', { state: 'attached' });
  const codes = await strict.page.evaluate(() => window.events.filter((e) => e.name === 'error').map((e) => e.code));
  assert.deepEqual(codes, ['styles_blocked']);
  assert.deepEqual(strict.errors, []);
  await context.close();
});

test("without 'wasm-unsafe-eval' init rejects with a PqlkitError wasm_blocked, and the page goes on", async () => {
  const context = await env.browser.newContext();
  const { page, errors } = await openCsp(context, NO_WASM);
  const { rejected } = await page.evaluate((rules) => window.start({ rules, storage: 'memory' }), RULES);
  assert.equal(rejected?.name, 'PqlkitError');
  assert.equal(rejected.code, 'wasm_blocked');
  assert.match(rejected.message, /'wasm-unsafe-eval'/);
  await page.click('#own');
  assert.equal(await page.textContent('#count'), '1', "the page's own button works");
  assert.deepEqual(errors, []);
  await context.close();
});

const TRAP_HOOK = () => {
  const Real = WebAssembly.Instance;
  window.armed = {};
  window.instances = 0;
  WebAssembly.Instance = function Instance(module, imports) {
    const real = new Real(module, imports).exports;
    window.instances += 1;
    const exports = { ...real };
    for (const [name, f] of Object.entries(real)) {
      if (typeof f !== 'function') continue;
      exports[name] = (...args) => {
        if (window.armed[name] > 0) {
          window.armed[name] -= 1;
          real.core_input(0xfffffff0);
        }
        return f(...args);
      };
    }
    return { exports };
  };
};

async function openTab(context) {
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.addInitScript(TRAP_HOOK);
  await page.goto(env.url('/test/runtime.html'));
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate((rules) => window.start({ rules, ui: 'none' }), RULES);
  return { page, errors };
}

test('a tab whose core traps heals; after 3 traps it gives up the leadership and another tab fires the deadline', async () => {
  const context = await env.browser.newContext();
  const a = await openTab(context); // the leader: first to ask for the lock
  const b = await openTab(context);
  await a.page.waitForTimeout(200);

  // One trap: a fresh instance, the SDK goes on.
  const healed = await a.page.evaluate(() => {
    const before = window.instances;
    window.armed.core_track = 1;
    window.pql.track('noise');
    window.pql.featureUsed('export');
    window.pql.featureUsed('export');
    return { fresh: window.instances - before, events: window.events.map((e) => e.code ?? e.name) };
  });
  assert.equal(healed.fresh, 1, 'a fresh instance');
  assert.equal(healed.events[0], 'internal_fault');
  assert.ok(healed.events.includes('prompt'), `the rule fires after the heal (${healed.events})`);

  // Three traps within a minute: disabled, the Web Lock released.
  const codes = await a.page.evaluate(() => {
    window.armed.core_track = 2;
    window.pql.track('noise');
    window.pql.track('noise');
    window.pql.track('noise');
    return window.events.filter((e) => e.name === 'error').map((e) => e.code);
  });
  assert.deepEqual(codes, ['internal_fault', 'internal_fault', 'internal_fault']);
  const held = await b.page.evaluate(() => navigator.locks.query().then((q) => q.held.length));
  assert.equal(held, 1, 'someone leads');

  await b.page.evaluate(() => window.pql.track('upgrade_started'));
  await b.page.waitForFunction(() => window.events.some((e) => e.name === 'qualified' && e.rule === 'abandoned'), null, { timeout: 5000 });
  assert.deepEqual([...a.errors, ...b.errors], [], 'no uncaught exception reached either page');
  await context.close();
});
