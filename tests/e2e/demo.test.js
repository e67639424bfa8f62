// The demo product "Acme Projects", its rule playground, collector page and debug overlay,
// walked as a user would, in a fresh browser context per test. Time is moved with the demo's
// own clock control ("+1 hour"), never by waiting.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, screenshot as save, watchErrors } from './harness.js';

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

async function openDemo(path = '/', viewport = { width: 1280, height: 800 }) {
  const context = await env.browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(env.url(path));
  await page.waitForFunction(() => window.demo?.pql && document.getElementById('status').textContent.includes('running'));
  return { context, page, errors };
}

const prompts = (page, style) => page.locator(style ? `pqlkit-prompt[data-style="${style}"]` : 'pqlkit-prompt');
const nav = (page, name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
const beacons = async () => (await (await fetch(env.server.url + '/pql/beacons')).json()).beacons;
// Screenshots after the prompts' entrance animation (0.3 s) has finished.
const screenshot = async (page, name) => {
  await page.waitForTimeout(450);
  await save(page, name);
};
const shadowText = (locator) => locator.evaluate((el) => el.shadowRoot.textContent);
const settle = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 150))));

async function createProject(page, name) {
  await page.getByRole('textbox', { name: 'Project name' }).fill(name);
  await page.getByRole('button', { name: 'New project' }).click();
}

test('five projects show the limit modal once; after dismissing it, no second modal within the cooldown', async () => {
  const { context, page, errors } = await openDemo();
  await screenshot(page, 'demo-dashboard');
  await nav(page, 'Projects').click();
  await page.waitForURL('**/projects');
  // The workspace starts with two sample projects: three more reach the free limit of five.
  await createProject(page, 'Mobile app launch');
  await createProject(page, 'Brand refresh');
  assert.equal(await prompts(page).count(), 0, 'no prompt below the limit');
  await createProject(page, 'Customer portal');
  const modal = prompts(page, 'modal');
  await modal.waitFor({ state: 'attached' });
  const dialog = modal.getByRole('dialog');
  assert.match(await dialog.textContent(), /You've used all 5 projects on Free/);
  assert.equal(await page.locator('#usage-count').textContent(), '5 / 5');
  await screenshot(page, 'demo-limit-modal');

  await dialog.getByRole('button', { name: 'Not now' }).click();
  await modal.waitFor({ state: 'detached' });
  const why = await page.evaluate(() => window.demo.pql.explain('project-limit'));
  assert.equal(why.matched, true);
  assert.ok(['cooldown', 'snoozed'].includes(why.frequency.blocked), JSON.stringify(why.frequency));

  // A sixth project hits the limit again (limitHit), an hour later too: no second modal.
  await createProject(page, 'One too many');
  await settle(page);
  await page.getByRole('button', { name: '+1 hour' }).click();
  await createProject(page, 'Still one too many');
  await settle(page);
  assert.equal(await prompts(page).count(), 0, 'no second modal within the cooldown');
  const hits = await page.evaluate(() => window.demo.pql.explain('project-limit').when.actual);
  assert.equal(hits, 1, 'the usage ratio stays at 5/5');
  assert.match(await page.locator('.callout').textContent(), /5-project limit/);
  await screenshot(page, 'demo-limit-no-second-modal');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a second visit to the pricing page shows the intent toast', async () => {
  const { context, page, errors } = await openDemo();
  await nav(page, 'Pricing').click();
  await page.waitForURL('**/pricing');
  await settle(page);
  assert.equal(await prompts(page).count(), 0, 'one visit is not intent yet');
  await nav(page, 'Dashboard').click();
  await nav(page, 'Pricing').click();
  const toast = prompts(page, 'toast');
  await toast.waitFor({ state: 'attached' });
  const text = await toast.getByRole('status').textContent();
  assert.match(text, /Comparing plans\?/);
  assert.match(text, /Dana, a product specialist can help you pick the right plan for Acme Inc\./);
  const why = await page.evaluate(() => window.demo.pql.explain('pricing-revisits'));
  assert.equal(why.when.actual, 2);
  await screenshot(page, 'demo-pricing-toast');
  assert.deepEqual(errors, []);
  await context.close();
});

test('an upgrade started and left sends the abandonment beacon to the collector after 30 minutes', async () => {
  const { context, page, errors } = await openDemo();
  await page.getByRole('link', { name: 'Upgrade', exact: true }).click();
  await page.waitForURL('**/upgrade?plan=pro&from=header');
  await page.getByRole('heading', { name: 'Upgrade to Pro' }).waitFor();
  await screenshot(page, 'demo-upgrade-checkout');
  await page.getByRole('link', { name: 'Cancel' }).click();
  await page.waitForURL('**/pricing');
  await page.evaluate(() => window.demo.pql.flush());
  assert.equal((await beacons()).filter((b) => b.type === 'abandoned_upgrade').length, 0, 'nothing before the window ends');

  await page.getByRole('button', { name: '+1 hour' }).click();
  await page.waitForFunction(() => document.getElementById('clock').textContent === '+1h');
  await prompts(page, 'banner').waitFor({ state: 'attached' });
  let found = [];
  for (let i = 0; i < 40 && found.length === 0; i++) {
    found = (await beacons()).filter((b) => b.type === 'abandoned_upgrade');
    if (!found.length) await page.waitForTimeout(250);
  }
  assert.equal(found.length, 1, 'the abandonment beacon reached the collector');
  const [beacon] = found;
  assert.equal(beacon.rule, 'abandoned-upgrade');
  assert.equal(beacon.userId, 'u_dana');
  assert.equal(beacon.accountId, 'acme');
  assert.equal(beacon.signals.when.followed, false);
  assert.equal(beacon.signals.when.deadline - beacon.signals.when.started, 30 * 60 * 1000);
  assert.match(await shadowText(prompts(page, 'banner')), /Your Pro upgrade is one step away/);
  await screenshot(page, 'demo-abandoned-upgrade-banner');

  const collector = await context.newPage();
  await collector.goto(env.url('/collector.html'));
  await collector.locator('tr[data-type="abandoned_upgrade"]').waitFor();
  assert.match(await collector.locator('tr[data-type="abandoned_upgrade"]').textContent(), /abandoned-upgrade/);
  await screenshot(collector, 'demo-collector');
  assert.deepEqual(errors, []);
  await context.close();
});

test('switching to Pro stops the prompts', async () => {
  const { context, page, errors } = await openDemo();
  await nav(page, 'Billing').click();
  await page.getByRole('link', { name: 'Switch to Pro' }).click();
  await page.getByRole('button', { name: 'Confirm and upgrade' }).click();
  await page.getByRole('heading', { name: 'You are on Pro' }).waitFor();
  assert.equal(await page.locator('#plan-badge').textContent(), 'Pro plan');
  // Everything that prompts a free user: pricing twice, the project limit, exports, time passing.
  await nav(page, 'Pricing').click();
  await nav(page, 'Dashboard').click();
  await nav(page, 'Pricing').click();
  await nav(page, 'Projects').click();
  for (const name of ['A', 'B', 'C', 'D']) await createProject(page, `Pro project ${name}`);
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: /Export/ }).click();
  await page.getByRole('button', { name: '+1 hour' }).click();
  await settle(page);
  assert.equal(await prompts(page).count(), 0, 'no prompt on Pro');
  const audience = await page.evaluate(() => window.demo.pql.explain('pricing-revisits').audience);
  assert.equal(audience.matched, false);
  assert.deepEqual(audience.actual, { plan: 'pro' });
  assert.equal(await page.evaluate(() => window.demo.pql.explain('pricing-revisits').when.actual), 2, 'still counted, not prompted');
  assert.equal(await page.locator('#usage-count').textContent(), '6');
  await screenshot(page, 'demo-pro-no-prompts');

  // A reload keeps the app state and the plan.
  await page.reload();
  await page.waitForFunction(() => window.demo?.pql);
  assert.equal(await page.locator('.projects-list li').count(), 6);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the inline prompt renders in the sidebar slot after three export attempts and its link stays in the SPA', async () => {
  const { context, page, errors } = await openDemo();
  const exportButton = page.getByRole('button', { name: 'Export report' });
  for (let i = 0; i < 3; i++) await exportButton.click();
  const inline = page.locator('[data-pqlkit-slot="sidebar"] pqlkit-prompt[data-style="inline"]');
  await inline.waitFor({ state: 'attached' });
  assert.match(await shadowText(inline), /Export everything with Pro/);
  await screenshot(page, 'demo-export-inline');
  // Its call to action is a same-origin link: the app routes it inside the SPA, no reload.
  await page.evaluate(() => (window.sameDocument = true));
  await inline.getByRole('link', { name: 'See Pro plans' }).click();
  await page.waitForURL('**/pricing?from=export');
  await page.getByRole('heading', { name: 'Plans that grow with your team' }).waitFor();
  assert.equal(await page.evaluate(() => window.sameDocument), true, 'no full page load');
  await inline.waitFor({ state: 'detached' });
  assert.deepEqual(errors, []);
  await context.close();
});

test('the playground shows a bad rule at its path and the explain tree with actual values', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(env.url('/playground.html'));
  await page.waitForFunction(() => window.playground?.ready);
  assert.match(await page.locator('#validity').textContent(), /Valid · 6 rules/);
  await page.getByRole('button', { name: 'Run scenario' }).click();
  const pricing = page.locator('details[data-rule="pricing-revisits"]');
  await pricing.locator('.badge.ok', { hasText: 'matches' }).waitFor();
  assert.equal(await pricing.locator('.node[data-op="signal"] .actual').first().textContent(), '2');
  assert.match(await pricing.locator('.node[data-op="signal"] .expected').first().textContent(), /\$gte":2/);
  const limit = page.locator('details[data-rule="project-limit"]');
  assert.match(await limit.textContent(), /blocked: cooldown until/);
  assert.match(await page.locator('details[data-rule="abandoned-upgrade"] .actual').last().textContent(), /"followed":false/);
  assert.equal(await page.locator('#tier').textContent(), 'hot');
  assert.ok((await page.locator('#prompts .prompt').count()) >= 3, 'modal, toast and banner previews');
  assert.ok(await page.locator('#prompts .prompt[data-style="banner"]').count());
  await screenshot(page, 'demo-playground');

  // Click "+1 day" and "Feature: export" a few times: the clock moves, the event counts.
  await page.getByRole('button', { name: '+1 day' }).click();
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Feature: export' }).click();
  await page.locator('details[data-rule="export-explorer"] .badge.ok').waitFor();
  assert.equal(await page.locator('#prompts .prompt[data-style="inline"]').count(), 1);

  // A PM breaks the pricing rule's window: the error shows at its JSON path.
  const rules = await page.locator('#rules').inputValue();
  const broken = rules.replace('"count": { "$gte": 2 }, "within": "7d"', '"count": { "$atleast": 2 }, "within": "7 days"');
  assert.notEqual(broken, rules);
  await page.locator('#rules').fill(broken);
  const duration = page.locator('.error[data-path="rules[2].when.within"]');
  await duration.waitFor();
  assert.match(await duration.textContent(), /invalid_duration/);
  assert.match(await duration.textContent(), /"7 days" is not a duration/);
  assert.ok(await page.locator('.error .code', { hasText: 'unknown_operator' }).count(), 'every error, not only the first');
  assert.match(await page.locator('#validity').textContent(), /2 errors/);
  await screenshot(page, 'demo-playground-error');

  // The link carries rules and scenario: a colleague opening it sees the same errors.
  await page.waitForFunction(() => location.hash.length > 10);
  const shared = page.url();
  const other = await context.newPage();
  await other.goto(shared);
  await other.locator('.error[data-path="rules[2].when.within"]').waitFor();
  assert.equal(await other.locator('#rules').inputValue(), broken);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the debug overlay shows score, rule states, events and why the last prompt showed', async () => {
  const { context, page, errors } = await openDemo('/?pqlkit_debug=1');
  const overlay = page.locator('pqlkit-debug');
  await overlay.waitFor({ state: 'attached' });
  await overlay.getByRole('button').click();
  await nav(page, 'Pricing').click();
  await nav(page, 'Dashboard').click();
  await nav(page, 'Pricing').click();
  await prompts(page, 'toast').waitFor({ state: 'attached' });
  await page.waitForFunction(() => document.querySelector('pqlkit-debug').shadowRoot.textContent.includes('talk-to-us'));
  const text = await shadowText(overlay);
  assert.match(text, /score 20/);
  assert.match(text, /● pricing-revisits \+20  2 vs \{"\$gte":2\}/);
  assert.match(text, /page_view \{"path":"\/pricing"/);
  assert.match(text, /talk-to-us \(toast\) from pricing-revisits: shown/);
  assert.match(text, /held back now by visible/, 'the toast is still on screen');
  await screenshot(page, 'demo-debug-overlay');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the demo is usable on a phone', async () => {
  const { context, page, errors } = await openDemo('/pricing', { width: 390, height: 844 });
  await screenshot(page, 'demo-mobile-pricing');
  await nav(page, 'Projects').click();
  await createProject(page, 'From my phone');
  assert.equal(await page.locator('.projects-list li').count(), 3);
  await screenshot(page, 'demo-mobile-projects');
  assert.deepEqual(errors, []);
  await context.close();
});
