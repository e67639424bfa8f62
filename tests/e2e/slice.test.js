// The vertical slice in a real browser: the demo loads the wasm, and three clicks on the
// feature button (autocapture) or three featureUsed calls fire the demo rule.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, screenshot, watchErrors } from './harness.js';

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

test('three clicks on the data-pqlkit-feature button fire the demo rule visibly', async () => {
  const page = await env.browser.newPage();
  const errors = watchErrors(page);
  await page.goto(env.url('/'));
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('running'));
  const button = page.getByRole('button', { name: 'Export report' });
  await button.click();
  await button.click();
  assert.doesNotMatch(await page.textContent('#status'), /fired|Qualified/);
  await button.click();
  await page.waitForSelector('#status[data-state="fired"]');
  assert.match(await page.textContent('#status'), /export-explorer/);
  assert.match(await page.textContent('#log'), /beacon "feature"/);
  await screenshot(page, 'slice-qualified');
  assert.deepEqual(errors, []);
  await page.close();
});

test('featureUsed() from page code fires qualified with the rule id', async () => {
  const page = await env.browser.newPage();
  await page.goto(env.url('/'));
  await page.waitForFunction(() => window.pql);
  const events = await page.evaluate(async () => {
    const { init } = await import('pqlkit');
    const pql = await init({
      rules: { version: 1, rules: [{ id: 'three-exports', when: { event: 'feature_used', where: { feature: 'export' }, count: 3 } }] },
      storage: 'memory',
      autocapture: false,
    });
    const seen = [];
    pql.on('qualified', (e) => seen.push(e.rule));
    for (let i = 0; i < 3; i++) pql.featureUsed('export');
    return seen;
  });
  assert.deepEqual(events, ['three-exports']);
  await page.close();
});

test('the script-tag build exposes window.pqlkit.init', async () => {
  const page = await env.browser.newPage();
  const errors = watchErrors(page);
  await page.goto(env.url('/test/script-tag.html'));
  await page.waitForFunction(() => window.ready === true);
  await page.click('button');
  await page.click('button');
  await page.waitForFunction(() => window.fired.length === 1);
  assert.deepEqual(await page.evaluate(() => window.fired), ['two-exports']);
  assert.deepEqual(errors, []);
  await page.close();
});
