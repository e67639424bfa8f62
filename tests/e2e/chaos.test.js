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
import { prng } from '../../www/test/prng.js';

const SEED = Number(process.env.PQLKIT_CHAOS_SEED ?? 20261201) >>> 0;
const CHAOS_MS = 15000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

test(`chaos for ${CHAOS_MS / 1000} s: every method, a jumping clock, a full localStorage, consent toggled, a flapping collector`, { timeout: 120000 }, async () => {
  const env = await launch();
  const started = Date.now();
  try {
    console.log(`chaos seed ${SEED} (PQLKIT_CHAOS_SEED=${SEED} to replay)`);
    const context = await env.browser.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    const consoleErrors = watchConsole(page);
    await page.goto(env.url('/test/chaos.html'));
    await page.waitForFunction(() => window.ready === true);
    assert.equal(await page.evaluate((seed) => window.start({ seed }), SEED), true);

    // The collector flaps between 200, 500, a 3 s answer and a destroyed connection.
    const flapRand = prng(SEED ^ 0x5bd1e995);
    const flaps = { ok: 0, error: 0, slow: 0, refuse: 0 };
    let flapping = true;
    const flapper = (async () => {
      while (flapping) {
        const mode = ['ok', 'ok', 'error', 'slow', 'refuse'][Math.floor(flapRand() * 5)];
        env.server.mode.collector = mode;
        flaps[mode] += 1;
        await sleep(200 + flapRand() * 1300);
      }
    })();
    await page.evaluate((ms) => window.chaos.run(ms), CHAOS_MS);
    flapping = false;
    await flapper;
    env.server.mode.collector = 'ok';
    const clicksBefore = await page.evaluate(() => window.pageClicks);
    const f = await page.evaluate(() => window.chaos.finish());
    await screenshot(page, 'chaos-end');

    // The page is healthy: its own button works.
    await page.click('#own');
    assert.equal(await page.evaluate(() => window.pageClicks), clicksBefore + 1, "the page's own button works");

    // The persisted state parses (written within a second of the last call).
    await sleep(1500);
    const state = await page.evaluate(() => localStorage.getItem('pqlkit:v1:state'));
    assert.equal(typeof state, 'string', 'state is persisted under pqlkit:v1:state');
    assert.doesNotThrow(() => JSON.parse(state), 'the persisted state parses as JSON');

    const received = new Set((await collected(env)).map((b) => b.id));
    const { must = [], maybe = [], never = [], held = [] } = f.ledger;
    const allowed = new Set([...must, ...maybe]);
    const unexpected = [...received].filter((id) => !allowed.has(id));
    const missing = must.filter((id) => !received.has(id));
    const fired = must.length + maybe.length + never.length + held.length;

    console.log(`chaos figures (seed ${SEED}, ${((Date.now() - started) / 1000).toFixed(1)} s):`);
    console.log(`  calls made: ${f.calls} (${Object.entries(f.byMethod).map(([k, v]) => `${k} ${v}`).join(', ')})`);
    console.log(`  errors emitted by code: ${JSON.stringify(f.errors)}`);
    console.log(`  extra init() calls: ${f.extraInits}, rejected by code: ${JSON.stringify(f.initRejections)}`);
    console.log(`  clock jumps: ${f.clockJumps}, consent changes: ${f.consentChanges}, QuotaExceededError thrown: ${f.quotaThrown}, collector modes: ${JSON.stringify(flaps)}`);
    console.log(`  beacons fired: ${fired} (while granted, or pending then granted: ${must.length}; granted then denied before delivery was known: ${maybe.length}; while denied or pending then denied: ${never.length + held.length})`);
    console.log(`  beacons fired by type: ${JSON.stringify(f.beaconTypes)}`);
    console.log(`  beacons received (deduplicated): ${received.size} (${must.length - missing.length} of the must, ${[...received].filter((id) => maybe.includes(id)).length} of the maybe)`);
    console.log(`  dropped by the outbox's byte cap (outbox_full): ${f.outboxFull}, must beacons missing: ${missing.length}; flushes at the end: ${f.flushes}`);

    assert.deepEqual(f.thrown, [], 'no method threw into the page');
    assert.deepEqual(f.rejected, [], 'no promise rejected with anything but a PqlkitError');
    assert.deepEqual(errors, [], 'no uncaught exception reached the page');
    assert.deepEqual(consoleErrors, [], "no console error from the page's code");
    assert.equal(f.errors.internal_fault, undefined, 'the core never trapped');
    assert.deepEqual(f.finalBeacon, ['final'], 'a valid rule still fires');
    assert.ok(f.flushes < 100, 'the outbox emptied');
    assert.deepEqual(held, [], 'nothing held: consent ends granted');
    assert.deepEqual(unexpected, [], 'the collector holds no beacon fired while consent forbade sending');
    assert.ok(missing.length <= f.outboxFull, `every beacon fired while consent allowed sending arrived, but for those the byte cap dropped: ${missing.length} missing, ${f.outboxFull} dropped`);
  } finally {
    await env.close();
  }
});

test('killing the leader tab: the other tab takes the lead and fires the notFollowedBy deadline', async () => {
  const env = await launch();
  try {
    const context = await env.browser.newContext();
    const rules = {
      version: 1,
      rules: [{ id: 'abandoned', when: { event: 'upgrade_started', notFollowedBy: { event: 'upgrade_completed' }, within: '2s' }, score: 10, actions: [{ beacon: 'abandoned' }] }],
    };
    const options = { rules, ui: 'none', storage: 'local', collector: { url: '/pql/collect' } };
    const locks = (page) => page.evaluate(() => navigator.locks.query().then((q) => ({ held: q.held.length, pending: q.pending.length })));
    const until = async (f, what, ms = 5000) => {
      for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (await f()) return;
      assert.fail(`timed out waiting for ${what}`);
    };

    // The first tab takes the lock before the second exists: it is the leader.
    const a = await openRuntime(env, context, options);
    await until(async () => (await locks(a.page)).held === 1, 'the first tab to lead');
    const b = await openRuntime(env, context, options);
    await until(async () => JSON.stringify(await locks(b.page)) === '{"held":1,"pending":1}', 'the second tab to wait for the lock');
    await sleep(300); // b's hello answered: the tabs share calls

    const armedAt = Date.now();
    await a.page.evaluate(() => window.pql.track('upgrade_started'));
    await sleep(200); // the call reaches the second tab (BroadcastChannel)
    const aEvents = await a.page.evaluate(() => window.events.map((e) => e.name));
    await a.page.close(); // the leader dies before the deadline
    assert.ok(Date.now() - armedAt < 1800, 'the leader closed before the deadline');
    assert.deepEqual(aEvents, [], 'the leader acted on nothing before it closed');

    await until(async () => JSON.stringify(await locks(b.page)) === '{"held":1,"pending":0}', 'the second tab to take the lead');
    await until(() => b.page.evaluate(() => window.events.some((e) => e.name === 'beacon' && e.rule === 'abandoned')), 'the deadline to fire in the second tab', 8000);
    const firedAfter = Date.now() - armedAt;
    await sleep(500);
    const bEvents = await b.page.evaluate(() => window.events.filter((e) => e.rule === 'abandoned').map((e) => e.name));
    assert.deepEqual(bEvents, ['qualified', 'beacon'], 'fired once, in the remaining tab');
    assert.ok(firedAfter >= 1900, `not before the deadline (${firedAfter} ms)`);
    await b.page.evaluate(() => window.pql.flush());
    assert.deepEqual((await collected(env)).map((b) => b.rule), ['abandoned'], 'its beacon reached the collector');
    assert.deepEqual([...a.errors, ...b.errors, ...b.console], []);
  } finally {
    await env.close();
  }
});
