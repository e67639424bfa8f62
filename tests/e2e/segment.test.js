// pqlkit/segment in Chromium: www/test/segment-app.js bundled by esbuild with the real
// @segment/analytics-next (pinned in package-lock.json). analytics.js delivers its own events to
// the local server (/sdk/segment/v1/…) and feeds pqlkit through the plugin; pqlkit's beacons go
// to the real collector (www/server.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adapterSuite, deliveredBeacons, getJson, serveBundle, typecheck, watchConsole } from './adapters.js';
import { screenshot } from './harness.js';

const suite = adapterSuite('segment-app.js');

async function open(context) {
  const { env } = suite;
  const page = await context.newPage();
  const problems = watchConsole(page);
  await page.goto(env.url('/test/adapters.html?app=segment'));
  await page.waitForFunction(() => window.ready);
  return { page, problems };
}

test("analytics.js track, page, identify, group and reset feed pqlkit: the rules fire, the prompt shows, the beacons carry Segment's ids, and Segment still delivers its own events", async () => {
  const context = await suite.env.browser.newContext();
  await serveBundle(context, '/test/segment-app.js', suite.bundle);
  const { page, problems } = await open(context);

  await page.evaluate(async () => {
    await window.analytics.identify('u_42', { plan: 'free' });
    await window.analytics.group('acme', { company_size: 120 });
    history.pushState({}, '', '/pricing?plan=pro');
    await window.analytics.page();
    await window.analytics.page('Pricing', { variant: 'b' });
    // Sent to Segment, kept from pqlkit by the plugin's name.
    await window.analytics.track('report_exported', { format: 'csv' }, { integrations: { pqlkit: false } });
    await window.analytics.track('report_exported', { format: 'csv' });
  });
  assert.equal(await page.locator('pqlkit-prompt').count(), 0, 'one export counted: the one sent with pqlkit: false was not');
  await page.evaluate(() => window.analytics.track('report_exported', { format: 'csv' }));
  const toast = page.locator('pqlkit-prompt[data-style="toast"] [role="status"]');
  await toast.waitFor();
  assert.match(await toast.textContent(), /Export more with Pro/);
  await screenshot(page, 'segment-toast');

  const explained = await page.evaluate(() => window.pql.explain('pricing-revisits'));
  assert.equal(explained.audience.matched, true, 'identify and group traits reached pqlkit');
  assert.equal(explained.when.actual, 2, 'two page views of the pricing page');

  const beacons = await deliveredBeacons(suite.env, page);
  assert.deepEqual(beacons.map((b) => [b.type, b.rule, b.userId, b.accountId]).sort(), [
    ['feature', 'exports', 'u_42', 'acme'],
    ['intent', 'pricing-revisits', 'u_42', 'acme'],
    ['prompt_shown', 'exports', 'u_42', 'acme'],
  ]);

  // Segment's own delivery, untouched by the plugin.
  const sent = (await getJson(suite.env, '/sdk/requests')).filter((r) => r.sdk === 'segment').map((r) => r.body);
  assert.deepEqual(
    sent.map((b) => [b.type, b.event ?? b.name ?? b.groupId ?? null, b.userId]),
    [
      ['identify', null, 'u_42'],
      ['group', 'acme', 'u_42'],
      ['page', null, 'u_42'],
      ['page', 'Pricing', 'u_42'],
      ['track', 'report_exported', 'u_42'],
      ['track', 'report_exported', 'u_42'],
      ['track', 'report_exported', 'u_42'],
    ],
  );
  assert.deepEqual(sent[0].traits, { plan: 'free' });
  assert.equal(sent[3].properties.path, '/pricing');
  assert.equal(sent[3].properties.variant, 'b');
  assert.deepEqual(sent[4].properties, { format: 'csv' });
  assert.equal(sent[4].writeKey, 'wk_test');
  assert.deepEqual(problems, []);

  // A later visit where pqlkit starts afresh (its storage cleared) but analytics.js remembers the
  // user and the group: the plugin tells pqlkit at registration, before any call.
  await page.close();
  await context.addInitScript(() => {
    for (const key of Object.keys(localStorage)) if (key.startsWith('pqlkit:')) localStorage.removeItem(key);
  });
  const again = await open(context);
  assert.equal(await again.page.evaluate(() => window.pql.explain('pricing-revisits').audience.matched), true);

  // Log-out through Segment logs pqlkit out too: user, traits and counts forgotten.
  const state = () => window.pql.explain('exports');
  await again.page.evaluate(() => window.analytics.track('report_exported', { format: 'csv' }));
  assert.equal((await again.page.evaluate(state)).when.actual, 1);
  await again.page.evaluate(() => window.analytics.reset());
  const { audience, when } = await again.page.evaluate(state);
  assert.deepEqual([audience.actual, when.actual], [{ plan: null, 'account.company_size': null }, 0]);
  assert.deepEqual(again.problems, []);
  await context.close();
});

test('pqlkitPlugin (also the default export) without a pqlkit instance throws a typed error at once', async () => {
  const context = await suite.env.browser.newContext();
  await serveBundle(context, '/test/segment-app.js', suite.bundle);
  const { page, problems } = await open(context);
  const error = await page.evaluate(async () => {
    const segment = await import('/pqlkit/segment.js');
    const posthog = await import('/pqlkit/posthog.js');
    if (segment.default !== segment.pqlkitPlugin || posthog.default !== posthog.pqlkitPlugin) return 'no default export';
    const { pqlkitPlugin } = segment;
    try {
      pqlkitPlugin(undefined);
    } catch (e) {
      return { name: e.name, code: e.code, message: e.message };
    }
  });
  assert.deepEqual(error, { name: 'PqlkitError', code: 'invalid_argument', message: 'pqlkitPlugin(pql): expects the instance that init() resolved to' });
  assert.deepEqual(problems, []);
  await context.close();
});

test("the types of pqlkit/segment and pqlkit/posthog fit the real packages' hooks", () => {
  typecheck(`import { AnalyticsBrowser } from '@segment/analytics-next';
import posthog from 'posthog-js';
import { init } from 'pqlkit';
import { pqlkitPlugin as segmentPlugin } from 'pqlkit/segment';
import { pqlkitPlugin as posthogPlugin } from 'pqlkit/posthog';
import segmentDefault from 'pqlkit/segment';
import posthogDefault from 'pqlkit/posthog';
const pql = await init({ rules: '/rules.json' });
const analytics = AnalyticsBrowser.load({ writeKey: 'k' });
await analytics.register(segmentPlugin(pql), segmentPlugin(pql, { page: false }));
posthog.on('eventCaptured', posthogPlugin(pql));
posthog.init('phc', { before_send: posthogPlugin(pql, { page: false, groupType: 'organization' }) });
posthog.set_config({ before_send: [posthogPlugin(pql), posthogDefault(pql)] });
await analytics.register(segmentDefault(pql));
// @ts-expect-error needs the instance
segmentPlugin();
// @ts-expect-error no such option
posthogPlugin(pql, { pages: false });
`);
});
