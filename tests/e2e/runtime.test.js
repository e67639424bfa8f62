// The browser runtime as a user meets it: tabs share counts and show a prompt once, a reload
// keeps counts and caps, SPA navigation counts page views, consent holds beacons back, a full
// localStorage does not stop the SDK, and a fault never breaks the host page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, screenshot, watchErrors } from './harness.js';

const RULES = {
  version: 1,
  pages: { pricing: '/pricing*' },
  rules: [
    {
      id: 'pricing',
      kind: 'intent',
      when: { event: 'page_view', where: { page: 'pricing' }, count: 2, within: '7d' },
      score: 30,
      actions: [{ prompt: 'plans' }, { beacon: 'intent' }],
      frequency: { cooldown: '3d' },
    },
    {
      id: 'exports',
      kind: 'feature',
      when: { event: 'feature_used', where: { feature: 'export' }, count: 3 },
      score: 40,
      actions: [{ prompt: 'pro' }, { beacon: 'feature' }],
      frequency: { cooldown: '1d' },
    },
  ],
  prompts: {
    plans: { style: 'toast', title: 'Comparing plans?', body: 'We can help you pick.' },
    pro: { style: 'modal', title: 'Export more with Pro', body: 'Unlimited exports.', cta: { label: 'Upgrade', url: '/upgrade' } },
  },
};

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

async function open(context, options = {}, path = '/test/runtime.html') {
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(env.url(path));
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate((o) => window.start(o), { rules: RULES, ...options });
  return { page, errors };
}

const promptCount = (page) => page.evaluate(() => document.querySelectorAll('pqlkit-prompt').length);
const exportsCount = (page) => page.evaluate(() => window.pql.explain('exports').when.actual);

test('two tabs share counts and only one shows the prompt', async () => {
  const context = await env.browser.newContext();
  const a = await open(context);
  const b = await open(context);
  await a.page.evaluate(() => {
    window.pql.featureUsed('export');
    window.pql.featureUsed('export');
  });
  await b.page.waitForFunction(() => window.pql.explain('exports').when.actual === 2);
  await b.page.evaluate(() => window.pql.featureUsed('export'));
  await b.page.waitForSelector('pqlkit-prompt', { state: 'attached' });
  await a.page.waitForFunction(() => window.pql.explain('exports').when.actual === 3);
  assert.equal(await promptCount(b.page), 1, 'the tab where it happened shows the prompt');
  assert.equal(await promptCount(a.page), 0, 'the other tab does not');
  // The other tab knows the prompt was shown: its cap holds there too.
  const blocked = await a.page.evaluate(() => window.pql.explain('exports').frequency.blocked);
  assert.ok(['cooldown', 'visible'].includes(blocked), blocked);
  await screenshot(b.page, 'runtime-two-tabs');
  assert.deepEqual([...a.errors, ...b.errors], []);
  await context.close();
});

test('a reload keeps counts and caps', async () => {
  const context = await env.browser.newContext();
  const { page } = await open(context, { autocapture: false });
  await page.evaluate(() => {
    for (let i = 0; i < 3; i++) window.pql.featureUsed('export');
  });
  await page.waitForSelector('pqlkit-prompt', { state: 'attached' });
  await page.keyboard.press('Escape');
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate((o) => window.start(o), { rules: RULES, autocapture: false });
  assert.equal(await exportsCount(page), 3);
  const why = await page.evaluate(() => window.pql.explain('exports'));
  assert.equal(why.matched, true);
  assert.equal(why.frequency.blocked, 'cooldown');
  assert.equal(await promptCount(page), 0);
  await context.close();
});

test('SPA navigation to the pricing route counts pricing views', async () => {
  const context = await env.browser.newContext();
  const { page } = await open(context);
  await page.evaluate(() => history.pushState({}, '', '/pricing'));
  assert.equal(await page.evaluate(() => window.pql.explain('pricing').when.actual), 1);
  await page.evaluate(() => history.replaceState({}, '', '/pricing')); // same URL: not a new view
  await page.evaluate(() => history.pushState({}, '', '/settings'));
  await page.evaluate(() => history.back());
  await page.waitForFunction(() => window.pql.explain('pricing').when.actual === 2);
  await page.waitForSelector('pqlkit-prompt[data-style="toast"]', { state: 'attached' });
  await context.close();
});

test("consent 'pending' keeps everything in memory and sends nothing until granted", async () => {
  const context = await env.browser.newContext();
  const { page } = await open(context, { consent: 'pending', collector: { url: '/pql/collect' }, autocapture: false });
  await page.evaluate(async () => {
    for (let i = 0; i < 3; i++) window.pql.featureUsed('export');
    await window.pql.flush();
    await new Promise((r) => setTimeout(r, 1500));
  });
  const before = await (await fetch(env.url('/pql/beacons'))).json();
  assert.equal(before.beacons.filter((b) => b.rule === 'exports').length, 0, 'nothing sent while pending');
  assert.equal(await page.evaluate(() => localStorage.getItem('pqlkit:v1:state')), null, 'nothing stored while pending');
  await page.evaluate(async () => {
    window.pql.setConsent('granted');
    await window.pql.flush();
  });
  const afterGrant = await (await fetch(env.url('/pql/beacons'))).json();
  assert.ok(afterGrant.beacons.some((b) => b.rule === 'exports' && b.type === 'feature'), 'the held beacon went out');
  const stored = await page.evaluate(() => localStorage.getItem('pqlkit:v1:state'));
  assert.ok(stored && stored.includes('exports/when'), 'what was counted moved to localStorage');
  await context.close();
});

test('a full localStorage does not stop the SDK', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(env.url('/test/runtime.html'));
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate(() => {
    // Fill the origin's quota to the last byte: big chunks first, then ever smaller ones.
    let i = 0;
    for (let size = 1 << 20; size >= 1; size >>= 1) {
      const chunk = 'x'.repeat(size);
      try {
        for (;;) localStorage.setItem('filler' + i++, chunk);
      } catch {
        // Full at this chunk size.
      }
    }
  });
  await page.evaluate((o) => window.start(o), { rules: RULES, autocapture: false });
  await page.evaluate(async () => {
    for (let i = 0; i < 3; i++) window.pql.featureUsed('export');
    window.dispatchEvent(new Event('pagehide'));
  });
  await page.waitForSelector('pqlkit-prompt', { state: 'attached' });
  const codes = await page.evaluate(() => window.events.filter((e) => e.name === 'error').map((e) => e.code));
  assert.ok(codes.includes('storage_full'), codes.join(','));
  assert.equal(await exportsCount(page), 3);
  await context.close();
});

test('after a fault inside the SDK the page keeps working and no method throws', async () => {
  const context = await env.browser.newContext();
  const { page, errors } = await open(context);
  await page.evaluate(() => {
    // Induce a fault inside the SDK's call path: the core's answers can no longer be read.
    window.realParse = JSON.parse;
    JSON.parse = () => {
      throw new Error('induced fault');
    };
  });
  // The third export fires the rule: its effects can no longer be read.
  for (let i = 0; i < 3; i++) await page.click('#export');
  await page.click('#own');
  await page.evaluate(() => {
    JSON.parse = window.realParse;
  });
  await page.click('#own');
  assert.equal(await page.textContent('#count'), '2', "the page's own button still works");
  const result = await page.evaluate(() => {
    const codes = window.events.filter((e) => e.name === 'error').map((e) => e.code);
    let threw = false;
    try {
      window.pql.track('after_fault');
      window.pql.score();
      window.pql.explain('exports');
    } catch {
      threw = true;
    }
    return { codes, threw };
  });
  assert.ok(result.codes.includes('internal_fault'), result.codes.join(','));
  assert.equal(result.threw, false, 'no method throws after the fault');
  assert.deepEqual(errors, [], 'no uncaught exception reached the page');
  await context.close();
});

const SNOOZE_RULES = {
  version: 1,
  rules: [
    {
      id: 'limit',
      kind: 'usage',
      trigger: { event: 'limit_hit', where: { limit: 'projects' } },
      score: 10,
      actions: [{ prompt: 'upgrade' }],
      frequency: { snoozeOnDismiss: '7d' },
    },
  ],
  prompts: {
    upgrade: {
      style: 'modal',
      title: 'Hi {{user.name}}, you reached {{event.used}} {{event.limit}}',
      body: 'Plan: {{account.plan}}',
      cta: { label: 'Upgrade', url: '/upgrade' },
    },
  },
};

test('trait and event values with markup appear as text in a prompt, never as HTML', async () => {
  const context = await env.browser.newContext();
  const { page, errors } = await open(context, {
    rules: SNOOZE_RULES,
    autocapture: false,
    user: { id: 'u1', traits: { name: '<img src=x onerror="window.pwned=1">' } },
    account: { id: 'a1', traits: { plan: '<script>window.pwned=2</script>' } },
  });
  await page.evaluate(() => window.pql.limitHit('projects', { used: '<b>5</b>', limit: 5 }));
  await page.waitForSelector('pqlkit-prompt', { state: 'attached' });
  const text = await page.evaluate(() => document.querySelector('pqlkit-prompt').shadowRoot.textContent);
  assert.ok(text.includes('Hi <img src=x onerror="window.pwned=1">, you reached <b>5</b> projects'), text);
  assert.ok(text.includes('Plan: <script>window.pwned=2</script>'), text);
  const injected = await page.evaluate(() => document.querySelector('pqlkit-prompt').shadowRoot.querySelectorAll('img, script, b').length);
  assert.equal(injected, 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  await screenshot(page, 'runtime-xss-as-text');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a dismissal snoozes the prompt across a reload and in another tab', async () => {
  const context = await env.browser.newContext();
  const a = await open(context, { rules: SNOOZE_RULES, autocapture: false });
  const b = await open(context, { rules: SNOOZE_RULES, autocapture: false });
  await a.page.evaluate(() => window.pql.limitHit('projects', { used: 5, limit: 5 }));
  await a.page.waitForSelector('pqlkit-prompt', { state: 'attached' });
  await a.page.keyboard.press('Escape');
  await a.page.waitForFunction(() => !document.querySelector('pqlkit-prompt'));
  // The other tab hears of the dismissal and stays quiet when the limit is hit there.
  await b.page.waitForFunction(() => window.pql.explain('limit').frequency.blocked === 'snoozed');
  await b.page.evaluate(() => window.pql.limitHit('projects', { used: 5, limit: 5 }));
  assert.equal(await promptCount(b.page), 0);
  // And after a reload.
  await a.page.reload();
  await a.page.waitForFunction(() => window.ready === true);
  await a.page.evaluate((o) => window.start(o), { rules: SNOOZE_RULES, autocapture: false });
  await a.page.evaluate(() => window.pql.limitHit('projects', { used: 5, limit: 5 }));
  assert.equal(await promptCount(a.page), 0);
  assert.equal(await a.page.evaluate(() => window.pql.explain('limit').frequency.blocked), 'snoozed');
  await context.close();
});

test('more than 64 KB of beacons from one page all reach the collector, once each', async () => {
  const rules = { version: 1, rules: [{ id: 'ping', trigger: { event: 'ping' }, actions: [{ beacon: 'ping' }] }] };
  const context = await env.browser.newContext();
  const { page } = await open(context, { rules, collector: { url: '/pql/collect' }, autocapture: false });
  const sent = await page.evaluate(async () => {
    // In rounds, as a busy page would: the outbox itself is capped at 64 KB.
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 100; i++) window.pql.track('ping', { i });
      await window.pql.flush();
    }
    return window.events.filter((e) => e.name === 'beacon').map((e) => e.id);
  });
  assert.equal(sent.length, 400);
  const { beacons } = await (await fetch(env.url('/pql/beacons'))).json();
  const received = new Set(beacons.filter((b) => b.type === 'ping').map((b) => b.id));
  assert.equal(received.size, 400, 'every beacon arrived');
  assert.ok(sent.every((id) => received.has(id)));
  const bytes = JSON.stringify(beacons.filter((b) => b.type === 'ping')).length;
  assert.ok(bytes > 64 * 1024, `${bytes} bytes of beacons`);
  await context.close();
});

test('a wasm served with another MIME type than application/wasm is compiled from its bytes: init works, one request', async () => {
  const context = await env.browser.newContext();
  let requests = 0;
  // Some hosts (an S3 bucket, a CDN without the type) send .wasm as application/octet-stream,
  // which WebAssembly.compileStreaming refuses.
  await context.route('**/pqlkit_bg.wasm', async (route) => {
    requests++;
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), 'content-type': 'application/octet-stream' } });
  });
  const { page, errors } = await open(context, { autocapture: false });
  await page.evaluate(() => {
    for (let i = 0; i < 3; i++) window.pql.featureUsed('export');
  });
  await page.waitForSelector('pqlkit-prompt', { state: 'attached' });
  assert.equal(await exportsCount(page), 3);
  assert.equal(requests, 1, 'the wasm is fetched once');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a page sent with the README\'s Link preload fetches the wasm before the facade, once: init uses the preloaded response', async () => {
  const context = await env.browser.newContext();
  const requests = [];
  context.on('request', (r) => requests.push(new URL(r.url()).pathname));
  // The demo server sends `Link: </pqlkit/wasm/pqlkit_bg.wasm>; rel=preload; as=fetch; ...`
  // with the page when asked (www/server.js WASM_PRELOAD).
  const { page, errors } = await open(context, { autocapture: false }, '/test/runtime.html?preload-wasm');
  await page.evaluate(() => {
    for (let i = 0; i < 3; i++) window.pql.featureUsed('export');
  });
  await page.waitForSelector('pqlkit-prompt', { state: 'attached' });
  assert.equal(await exportsCount(page), 3);
  const wasm = requests.filter((path) => path.endsWith('/pqlkit_bg.wasm'));
  assert.deepEqual(wasm, ['/pqlkit/wasm/pqlkit_bg.wasm'], 'one request: init reads the preloaded response, it does not download the wasm again');
  assert.ok(requests.indexOf(wasm[0]) < requests.indexOf('/pqlkit/pqlkit.min.js'), `the wasm is asked for before the facade's script: ${requests.join(', ')}`);
  assert.deepEqual(errors, []);
  await context.close();
});

test("collector.format 'segment' / 'posthog' loads its batch writer before any beacon; unloadable, it holds the beacons for a later page", async () => {
  const rules = { version: 1, rules: [{ id: 'ping', trigger: { event: 'ping' }, actions: [{ beacon: 'ping' }] }] };
  const received = async () => (await (await fetch(env.url('/pql/beacons'))).json()).beacons;
  const context = await env.browser.newContext();
  const writerRequests = [];
  context.on('request', (r) => r.url().includes('formats') && writerRequests.push(r.url()));
  // The writer's module cannot be fetched (offline, not served): nothing is sent in pqlkit's
  // own format instead, the beacon stays in the persisted outbox and an error says why.
  await context.route('**/formats.min.js', (route) => route.abort());
  const held = await open(context, { rules, collector: { url: '/pql/collect', format: 'segment', apiKey: 'wk' }, autocapture: false });
  const id = await held.page.evaluate(async () => {
    window.pql.track('ping');
    await window.pql.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    return window.events.find((e) => e.name === 'beacon').id;
  });
  assert.ok(await held.page.evaluate(() => window.events.some((e) => e.name === 'error' && e.code === 'format_unavailable')));
  assert.ok(!(await received()).some((b) => b.id === id), 'not sent while the format is missing');
  assert.ok(await held.page.evaluate((id) => localStorage.getItem('pqlkit:v1:outbox').includes(id), id), 'kept in the outbox');
  assert.ok(writerRequests.length > 0, 'the page asked for the writer');
  await held.page.close();
  // The next page loads the writer and sends the held beacon as a Segment batch.
  await context.unroute('**/formats.min.js');
  const next = await open(context, { rules, collector: { url: '/pql/collect', format: 'segment', apiKey: 'wk' }, autocapture: false });
  await next.page.evaluate(() => window.pql.flush());
  assert.equal((await received()).find((b) => b.id === id)?.via, 'segment');
  assert.deepEqual(next.errors, []);
  await context.close();

  const posthog = await env.browser.newContext();
  const ph = await open(posthog, { rules, collector: { url: '/pql/collect', format: 'posthog', apiKey: 'phc' }, autocapture: false });
  const phId = await ph.page.evaluate(async () => {
    window.pql.track('ping');
    await window.pql.flush();
    return window.events.find((e) => e.name === 'beacon').id;
  });
  assert.equal((await received()).find((b) => b.id === phId)?.via, 'posthog');
  await posthog.close();
});
