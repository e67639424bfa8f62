// pqlkit/posthog in Chromium: www/test/posthog-app.js bundled by esbuild with the real posthog-js
// (pinned in package-lock.json). posthog-js delivers its own events to the local server
// (/sdk/posthog/e/) and feeds pqlkit through the hook, attached with posthog.on('eventCaptured')
// or as before_send; pqlkit's beacons go to the real collector (www/server.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adapterSuite, deliveredBeacons, getJson, serveBundle, watchConsole } from './adapters.js';
import { screenshot } from './harness.js';

const suite = adapterSuite('posthog-app.js');

for (const [hook, group] of [['eventCaptured', 'company'], ['before_send', 'organization']]) {
  test(`posthog-js (${hook}, accounts as group type ${group}): $pageview, capture, identify, group and $set feed pqlkit; the prompt shows, the beacons carry PostHog's ids, and PostHog still delivers its own events`, async () => {
    const { env } = suite;
    const context = await env.browser.newContext();
    await serveBundle(context, '/test/posthog-app.js', suite.bundle);
    const page = await context.newPage();
    const problems = watchConsole(page);
    await page.goto(env.url(`/test/adapters.html?app=posthog&hook=${hook}` + (group === 'company' ? '' : `&group=${group}`)));
    await page.waitForFunction(() => window.ready);
    const session = await page.evaluate(() => window.posthog.get_session_id());
    /** What posthog-js delivered for this page's session (requests may arrive out of order). */
    const delivered = async () => (await getJson(env, '/sdk/requests')).filter((r) => r.sdk === 'posthog').flatMap((r) => r.body.batch ?? [r.body]).filter((e) => e.properties?.$session_id === session);

    await page.evaluate((group) => {
      window.posthog.identify('u_42', { plan: 'free' });
      window.posthog.group(group, 'acme', { company_size: 120 });
      history.pushState({}, '', '/pricing');
      history.pushState({}, '', '/pricing/teams');
      window.posthog.capture('report_exported', { format: 'csv' });
    }, group);
    assert.equal(await page.locator('pqlkit-prompt').count(), 0, 'one export so far');
    await page.evaluate(() => {
      window.posthog.setPersonProperties({ role: 'admin' });
      window.posthog.capture('report_exported', { format: 'csv' });
    });
    const toast = page.locator('pqlkit-prompt[data-style="toast"] [role="status"]');
    await toast.waitFor();
    assert.match(await toast.textContent(), /Export more with Pro/);
    await screenshot(page, `posthog-toast-${hook}`);

    const explained = await page.evaluate(() => window.pql.explain('pricing-revisits'));
    assert.equal(explained.audience.matched, true, 'identify and group properties reached pqlkit');
    assert.equal(explained.when.actual, 2, "posthog's two $pageview of the pricing pages");
    assert.deepEqual(await page.evaluate(() => window.pql.explain('exports').audience.actual), { plan: 'free', 'account.company_size': 120, role: 'admin' }, 'setPersonProperties reached pqlkit');

    const beacons = await deliveredBeacons(env, page);
    assert.deepEqual(beacons.map((b) => [b.type, b.rule, b.userId, b.accountId]).sort(), [
      ['feature', 'exports', 'u_42', 'acme'],
      ['intent', 'pricing-revisits', 'u_42', 'acme'],
      ['prompt_shown', 'exports', 'u_42', 'acme'],
    ]);

    // PostHog's own delivery, untouched by the hook.
    for (let tries = 0; (await delivered()).length < 8 && tries < 50; tries++) await page.waitForTimeout(100);
    const sent = await delivered();
    const summary = sent.map((e) => [e.event, e.properties.$pathname, e.properties.format ?? (e.$set ?? e.properties.$set)?.role ?? null]).sort();
    const anonymous = sent.find((e) => e.event === '$pageview' && e.properties.$pathname === '/test/adapters.html');
    assert.ok(anonymous && anonymous.properties.distinct_id !== 'u_42', 'the page view on load, before identify');
    assert.ok(sent.every((e) => e === anonymous || e.properties.distinct_id === 'u_42'));
    assert.deepEqual(summary, [
      ['$groupidentify', '/test/adapters.html', null],
      ['$identify', '/test/adapters.html', null],
      ['$pageview', '/pricing', null],
      ['$pageview', '/pricing/teams', null],
      ['$pageview', '/test/adapters.html', null],
      ['$set', '/pricing/teams', 'admin'],
      ['report_exported', '/pricing/teams', 'csv'],
      ['report_exported', '/pricing/teams', 'csv'],
    ]);
    const exported = sent.find((e) => e.event === 'report_exported');
    assert.deepEqual(exported.properties.$groups, { [group]: 'acme' });
    assert.equal(exported.properties.token, 'phc_test');
    assert.deepEqual(problems, []);
    await context.close();
  });
}
