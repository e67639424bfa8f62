// Issue 13, deliverable 5, in Chromium: hostile arguments never throw into the page; 'denied'
// drops the outbox for good; a chaos run (every public method with random valid and invalid
// arguments from a seeded PRNG, a clock jumping back and forth, a localStorage that throws
// QuotaExceededError at random, consent toggled, a real collector flapping between 200, 500,
// slow and refused) leaves a healthy page and a collector holding exactly the beacons fired while
// consent allowed sending; and killing the leader tab hands a notFollowedBy deadline to another.
//
// The seed is printed; PQLKIT_CHAOS_SEED=<n> replays a run's choices (timing still varies).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launch, screenshot, watchErrors } from './harness.js';

const SEED = Number(process.env.PQLKIT_CHAOS_SEED ?? 20261201) >>> 0;
const CHAOS_MS = 15000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** mulberry32, as in www/test/chaos.js. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Console errors of the page's own code (a refused or failed request logs one too: not ours). */
function watchConsole(page) {
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  return errors;
}

async function openRuntime(env, context, options) {
  const page = await context.newPage();
  const errors = watchErrors(page);
  const console = watchConsole(page);
  await page.goto(env.url('/test/runtime.html'));
  await page.waitForFunction(() => window.ready === true);
  if (options) await page.evaluate((o) => window.start(o), options);
  return { page, errors, console };
}

const collected = async (env) => (await (await fetch(env.url('/pql/beacons'))).json()).beacons;

test('hostile arguments (a revoked Proxy, throwing getters and traps) are invalid_argument events, never a throw into the page', async () => {
  const env = await launch();
  try {
    const context = await env.browser.newContext();
    const rules = { version: 1, rules: [{ id: 'exports', when: { event: 'feature_used', where: { feature: 'export' }, count: 2 }, score: 10, actions: [{ prompt: 'pro' }] }], prompts: { pro: { style: 'toast', title: 'Pro' } } };
    const { page, errors, console } = await openRuntime(env, context, { rules, storage: 'memory', ui: 'none' });
    const out = await page.evaluate(() => {
      const pql = window.pql;
      const revoked = () => {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return proxy;
      };
      const getter = () => ({
        get used() {
          throw new Error('getter');
        },
        get id() {
          throw new Error('getter');
        },
      });
      const trap = () => new Proxy({}, { get: () => { throw new Error('get'); }, ownKeys: () => { throw new Error('keys'); } });
      const calls = {
        'track(revoked)': () => pql.track(revoked()),
        "track('x', revoked)": () => pql.track('x', revoked()),
        'featureUsed(revoked)': () => pql.featureUsed(revoked()),
        "limitHit('p', getter)": () => pql.limitHit('projects', getter()),
        "limitHit('p', trap)": () => pql.limitHit('projects', trap()),
        "limitHit('p', revoked)": () => pql.limitHit('projects', revoked()),
        'usage(revoked)': () => pql.usage('seats', revoked(), 5),
        'page(revoked)': () => pql.page(revoked()),
        'identify(revoked)': () => pql.identify(revoked()),
        'group(a, revoked)': () => pql.group('acme', revoked()),
        'on(revoked)': () => pql.on(revoked(), () => {}),
        'explain(revoked)': () => pql.explain(revoked()),
        'setConsent(revoked)': () => pql.setConsent(revoked()),
        'promptOutcome(getter)': () => pql.promptOutcome(getter(), 'shown'),
        'promptOutcome(trap)': () => pql.promptOutcome(trap(), 'dismissed'),
        'promptOutcome(revoked)': () => pql.promptOutcome(revoked(), 'clicked'),
        'promptOutcome(p, revoked)': () => pql.promptOutcome({ id: 'pro' }, revoked()),
      };
      const thrown = [];
      const codes = [];
      const off = pql.on('error', (e) => codes.push(e.code));
      for (const [name, f] of Object.entries(calls)) {
        try {
          f();
        } catch (e) {
          thrown.push(`${name}: ${e.message}`);
        }
      }
      off();
      pql.featureUsed('export');
      pql.featureUsed('export');
      return { thrown, codes, calls: Object.keys(calls).length, fired: window.events.some((e) => e.name === 'prompt' && e.rule === 'exports') };
    });
    assert.deepEqual(out.thrown, [], 'nothing thrown into the page');
    assert.equal(out.codes.length, out.calls, 'one error event per bad call');
    assert.deepEqual([...new Set(out.codes)].sort(), ['invalid_argument', 'invalid_event']);
    assert.ok(out.fired, 'a valid rule fires afterwards');
    assert.deepEqual(errors, []);
    assert.deepEqual(console, []);
  } finally {
    await env.close();
  }
});

test("'denied' removes the stored outbox, and a later grant does not send the beacons it dropped", async () => {
  const env = await launch();
  try {
    const context = await env.browser.newContext();
    const rules = { version: 1, rules: [{ id: 'go', trigger: { event: 'go' }, when: { event: 'go', count: 1 }, score: 1, actions: [{ beacon: 'go' }] }] };
    env.server.mode.collector = 'error'; // the first beacon stays queued
    const { page, errors } = await openRuntime(env, context, { rules, ui: 'none', collector: { url: '/pql/collect' } });
    const denied = await page.evaluate(() => {
      window.pql.track('go');
      const stored = JSON.parse(localStorage.getItem('pqlkit:v1:outbox')).map((b) => b.id);
      window.pql.setConsent('denied');
      return { stored, outbox: localStorage.getItem('pqlkit:v1:outbox'), state: localStorage.getItem('pqlkit:v1:state') };
    });
    assert.equal(denied.stored.length, 1, 'granted: the beacon is stored');
    assert.deepEqual({ outbox: denied.outbox, state: denied.state }, { outbox: null, state: null }, "'denied' stores nothing: outbox and state removed");
    env.server.mode.collector = 'ok';
    const ids = await page.evaluate(async () => {
      window.pql.setConsent('granted');
      window.pql.track('go');
      await window.pql.flush();
      return window.events.filter((e) => e.name === 'beacon').map((e) => e.id);
    });
    assert.equal(ids.length, 2);
    assert.equal(ids[0], denied.stored[0]);
    assert.deepEqual((await collected(env)).map((b) => b.id), [ids[1]], 'only the beacon fired after the grant');
    assert.deepEqual(errors, []);
  } finally {
    await env.close();
  }
});
