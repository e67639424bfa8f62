// The built-in prompt renderer (js/ui.js) in Chromium, on a fixture page with hostile CSS
// (www/test/prompts.html): every style, keyboard use of the modal, outcomes, isolation, XSS.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { launch, screenshot, watchErrors } from './harness.js';

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

/** A fresh fixture page (hostile CSS unless `clean`), with the host button focused. */
async function fixture({ clean = false, context } = {}) {
  // Taller than the page, so the full-page screenshots show exactly what a user sees.
  const page = await (context ?? env.browser).newPage({ viewport: { width: 1100, height: 1200 } });
  const errors = watchErrors(page);
  await page.goto(env.url('/test/prompts.html' + (clean ? '?clean' : '')));
  await page.waitForFunction(() => window.ready);
  await page.focus('#trigger');
  return { page, errors };
}

const show = (page, over) => page.evaluate((o) => window.ui.show(window.make(o)), over);
const outcomes = (page) => page.evaluate(() => window.outcomes);
/** What has focus, looking into the prompt's shadow root. */
const focused = (page) =>
  page.evaluate(() => {
    const a = document.activeElement;
    const inner = a?.shadowRoot?.activeElement;
    return inner ? `prompt:${inner.tagName.toLowerCase()}.${inner.className}` : a?.id || a?.tagName.toLowerCase();
  });

test('importing ui.js under Node touches no DOM, and show() without a document returns false', async () => {
  const { createPromptUI } = await import('../../js/ui.js');
  const ui = createPromptUI({ onOutcome() {} });
  assert.equal(ui.show({ id: 'x', style: 'modal', title: 't', body: 'b' }), false);
  assert.equal(ui.visible(), null);
  ui.hide();
  ui.destroy();
  const source = readFileSync(new URL('../../js/ui.js', import.meta.url), 'utf8');
  assert.doesNotMatch(source, /\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write/);
});

test('the CSS custom properties documented in ui.js theme the prompt', async () => {
  const { page } = await fixture({ clean: true });
  const source = readFileSync(new URL('../../js/ui.js', import.meta.url), 'utf8');
  const documented = [...source.matchAll(/^\/\/\s+(--pqlkit-[a-z-]+)/gm)].map((m) => m[1]);
  const used = [...new Set(source.match(/themed\('([a-z-]+)'/g).map((m) => '--pqlkit-' + m.slice(8, -1)))];
  assert.deepEqual(documented.sort(), used.sort(), 'every property used is documented, and only those');
  await page.addStyleTag({ content: ':root { --pqlkit-accent: rgb(0, 128, 0); --pqlkit-radius: 2px; } pqlkit-prompt { --pqlkit-bg: rgb(1, 2, 3); --pqlkit-z: 7; }' });
  await show(page, { style: 'modal' });
  const got = await page.evaluate(() => {
    const root = document.querySelector('pqlkit-prompt').shadowRoot;
    const c = (s) => getComputedStyle(root.querySelector(s));
    return [c('a').backgroundColor, c('.card').borderTopLeftRadius, c('.card').backgroundColor, c('.backdrop').zIndex];
  });
  assert.deepEqual(got, ['rgb(0, 128, 0)', '2px', 'rgb(1, 2, 3)', '7']);
  await page.close();
});

for (const style of ['modal', 'banner', 'toast', 'inline']) {
  test(`${style} renders in a shadow root with its role, and is screenshotted`, async () => {
    const { page, errors } = await fixture();
    const extra = style === 'toast' ? { dismiss: 'Later' } : {};
    assert.equal(await show(page, { style, id: style, ...extra }), true);
    // Entry animation done: waited for, not timed (0.3 s took longer than 400 ms on a loaded machine).
    await page.evaluate(() => Promise.all(document.querySelector('pqlkit-prompt').shadowRoot.getAnimations().map((a) => a.finished)));
    const info = await page.evaluate(() => {
      const host = document.querySelector('pqlkit-prompt');
      const card = host.shadowRoot.querySelector('.card');
      return {
        parent: host.parentElement.tagName.toLowerCase() + (host.parentElement.dataset.pqlkitSlot ? `[${host.parentElement.dataset.pqlkitSlot}]` : ''),
        mode: host.shadowRoot.mode,
        role: card.getAttribute('role'),
        live: card.getAttribute('aria-live'),
        label: card.getAttribute('aria-label'),
        title: host.shadowRoot.querySelector('h2').textContent,
        close: host.shadowRoot.querySelector('button[aria-label="Close"]')?.textContent,
        cta: host.shadowRoot.querySelector('a')?.getAttribute('href'),
        rect: card.getBoundingClientRect().toJSON(),
        visible: window.ui.visible()?.id,
      };
    });
    assert.equal(info.mode, 'open');
    assert.equal(info.title, 'You have used 5 of 5 seats');
    assert.equal(info.close, '×');
    assert.equal(info.cta, '#pricing');
    assert.equal(info.visible, style);
    assert.ok(info.rect.width > 200 && info.rect.height > 40, JSON.stringify(info.rect));
    const vw = 1100;
    const vh = 1200;
    if (style === 'modal') {
      assert.equal(info.parent, 'body');
      assert.equal(info.role, 'dialog');
      assert.ok(Math.abs(info.rect.x + info.rect.width / 2 - vw / 2) < 2, 'modal centred horizontally');
      assert.ok(Math.abs(info.rect.y + info.rect.height / 2 - vh / 2) < 2, 'modal centred vertically');
    } else if (style === 'banner') {
      assert.equal(info.parent, 'body');
      assert.equal(info.role, 'region');
      assert.equal(info.label, 'You have used 5 of 5 seats');
      assert.equal(info.rect.y, 0);
      assert.equal(info.rect.width, vw);
      assert.ok(info.rect.height < 70, 'one line at 1100px wide');
    } else if (style === 'toast') {
      assert.equal(info.parent, 'body');
      assert.equal(info.role, 'status');
      assert.equal(info.live, 'polite');
      assert.ok(vw - (info.rect.x + info.rect.width) <= 24 && vh - (info.rect.y + info.rect.height) <= 24, 'toast bottom-right');
      assert.equal(await focused(page), 'trigger', 'a toast does not steal focus');
    } else {
      assert.equal(info.parent, 'aside[sidebar]');
      assert.equal(info.role, 'region');
      assert.equal(await page.textContent('#slot-own'), 'Sidebar content of the host app.', "the slot's own content is untouched");
      assert.equal(await focused(page), 'trigger');
    }
    await screenshot(page, `prompt-${style}`);
    assert.deepEqual(await outcomes(page), [[style, 'shown']]);
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test('modal: focus moves in, Tab and Shift+Tab cycle inside, Escape dismisses and focus returns', async () => {
  const { page, errors } = await fixture();
  assert.equal(await focused(page), 'trigger');
  await show(page);
  const attrs = await page.evaluate(() => {
    const root = document.querySelector('pqlkit-prompt').shadowRoot;
    const d = root.querySelector('[role=dialog]');
    return {
      modal: d.getAttribute('aria-modal'),
      title: root.getElementById(d.getAttribute('aria-labelledby')).textContent,
      body: root.getElementById(d.getAttribute('aria-describedby')).textContent,
    };
  });
  assert.deepEqual(attrs, { modal: 'true', title: 'You have used 5 of 5 seats', body: 'Upgrade to Team to invite your whole crew, unlock SSO and get priority support.' });
  assert.equal(await focused(page), 'prompt:a.primary', 'focus moved to the primary action');
  const order = [];
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    order.push(await focused(page));
  }
  assert.deepEqual(order, ['prompt:button.close', 'prompt:button.secondary', 'prompt:a.primary', 'prompt:button.close']);
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(page), 'prompt:a.primary');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(page), 'prompt:a.primary', 'Shift+Tab wraps from the first to the last');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('pqlkit-prompt').count(), 0);
  assert.equal(await focused(page), 'trigger', 'focus returned to the button');
  assert.deepEqual(await outcomes(page), [['upgrade-seats', 'shown'], ['upgrade-seats', 'dismissed']]);
  assert.equal(await page.evaluate(() => window.ui.visible()), null);
  assert.deepEqual(errors, []);
  await page.close();
});

test('modal: the "Not now" button and the × button dismiss; a custom dismiss label is used', async () => {
  const { page } = await fixture();
  await show(page, { id: 'a' });
  await page.getByRole('button', { name: 'Not now' }).click();
  assert.equal(await focused(page), 'trigger');
  await show(page, { id: 'b', dismiss: 'Maybe later' });
  await page.getByRole('button', { name: 'Maybe later' }).press('Enter');
  await show(page, { id: 'c' });
  await page.getByRole('button', { name: 'Close' }).click();
  await show(page, { id: 'd', style: 'banner' });
  await page.getByRole('button', { name: 'Close' }).click();
  await show(page, { id: 'e' });
  await page.mouse.click(20, 1150); // the backdrop
  await page.mouse.click(20, 1150); // nothing left to dismiss
  assert.equal(await page.locator('pqlkit-prompt').count(), 0);
  assert.deepEqual(await outcomes(page), [
    ['a', 'shown'], ['a', 'dismissed'], ['b', 'shown'], ['b', 'dismissed'], ['c', 'shown'], ['c', 'dismissed'], ['d', 'shown'], ['d', 'dismissed'], ['e', 'shown'], ['e', 'dismissed'],
  ]);
  await page.close();
});

test('CTA click reports clicked, the navigation happens and the prompt closes', async () => {
  const { page } = await fixture();
  for (const style of ['modal', 'toast', 'inline']) {
    await show(page, { id: style, style, cta: { label: 'See plans', url: `#pricing-${style}` } });
    await page.getByRole('link', { name: 'See plans' }).click();
    await page.waitForFunction((s) => location.hash === `#pricing-${s}`, style);
    await page.waitForFunction(() => !document.querySelector('pqlkit-prompt'));
  }
  assert.deepEqual(await outcomes(page), [
    ['modal', 'shown'], ['modal', 'clicked'], ['toast', 'shown'], ['toast', 'clicked'], ['inline', 'shown'], ['inline', 'clicked'],
  ]);
  // A real page navigation too.
  await show(page, { id: 'nav', cta: { label: 'See plans', url: '/test/prompts.html?navigated' } });
  await Promise.all([page.waitForURL(/\?navigated$/), page.getByRole('link', { name: 'See plans' }).click()]);
  await page.close();
});

test('at most one prompt is visible: a second show() returns false; hide() and destroy() report nothing', async () => {
  const { page } = await fixture();
  assert.equal(await show(page, { id: 'first' }), true);
  assert.equal(await show(page, { id: 'second', style: 'toast' }), false);
  assert.equal(await page.locator('pqlkit-prompt').count(), 1);
  assert.equal(await page.evaluate(() => window.ui.visible().id), 'first');
  await page.evaluate(() => window.ui.hide());
  assert.equal(await page.locator('pqlkit-prompt').count(), 0);
  assert.equal(await focused(page), 'trigger');
  assert.equal(await show(page, { id: 'second', style: 'toast' }), true);
  assert.equal(await show(page, { id: 'missing', style: 'inline', slot: 'nowhere' }), false, 'missing slot');
  await page.evaluate(() => window.ui.destroy());
  assert.equal(await page.locator('pqlkit-prompt').count(), 0);
  assert.equal(await show(page, { id: 'bad', style: 'popover' }), false, 'unknown style');
  assert.deepEqual(await outcomes(page), [['first', 'shown'], ['second', 'shown']]);
  await page.close();
});

test('host CSS does not change the prompt, and the prompt CSS does not leak into the page', async () => {
  const probe = (page, style) =>
    page.evaluate((s) => {
      window.ui.show(window.make({ style: s, dismiss: 'Later' }));
      const root = document.querySelector('pqlkit-prompt').shadowRoot;
      const pick = (el) => {
        const c = getComputedStyle(el);
        return ['color', 'font-size', 'font-family', 'line-height', 'letter-spacing', 'text-transform', 'background-color', 'padding', 'margin', 'border-top-style', 'border-radius', 'display', 'text-decoration-style']
          .map((p) => `${p}=${c.getPropertyValue(p)}`).join(';');
      };
      const out = ['.card', 'h2', '.body', 'a', 'button.secondary', 'button.close'].map((sel) => `${sel}: ${pick(root.querySelector(sel))}`);
      out.push(`rect: ${JSON.stringify(root.querySelector('.card').getBoundingClientRect())}`);
      window.ui.hide();
      return out;
    }, style);
  const clean = await fixture({ clean: true });
  const hostile = await fixture();
  for (const style of ['modal', 'banner', 'toast', 'inline']) {
    const want = await probe(clean.page, style);
    if (style !== 'inline') assert.deepEqual(await probe(hostile.page, style), want, style); // inline: the slot's width differs
    else assert.deepEqual((await probe(hostile.page, style)).slice(0, -1), want.slice(0, -1), style);
  }
  // No leak: the page's own elements compute the same with a prompt shown.
  const page = clean.page;
  const pageStyles = () => page.evaluate(() => ['h1', 'p', '#trigger', 'aside'].map((s) => {
    const c = getComputedStyle(document.querySelector(s));
    return [c.color, c.fontSize, c.fontFamily, c.padding, c.margin, c.animationName, c.boxSizing].join();
  }));
  const before = await pageStyles();
  await show(page, { style: 'modal' });
  assert.deepEqual(await pageStyles(), before);
  assert.equal(await page.evaluate(() => document.styleSheets.length), 1, 'no stylesheet added to the document');
  await clean.page.close();
  await hostile.page.close();
});

test('XSS: markup in title, body and labels is shown as text and never runs', async () => {
  const { page, errors } = await fixture();
  const evil = '<img src=x onerror="window.pwned=1">';
  for (const style of ['modal', 'banner', 'toast', 'inline']) {
    await show(page, { style, title: evil, body: evil, dismiss: evil, cta: { label: evil, url: '#x' } });
    const seen = await page.evaluate(() => {
      const root = document.querySelector('pqlkit-prompt').shadowRoot;
      return {
        texts: ['h2', '.body', 'button.secondary', 'a'].map((s) => root.querySelector(s).textContent),
        imgs: root.querySelectorAll('img').length + document.querySelectorAll('img').length,
        label: root.querySelector('.card').getAttribute('aria-label'),
      };
    });
    assert.deepEqual(seen.texts, [evil, evil, evil, evil], style);
    assert.equal(seen.imgs, 0);
    if (style === 'banner') assert.equal(seen.label, evil);
    if (style === 'toast') {
      await page.waitForTimeout(400);
      await screenshot(page, 'prompt-xss-toast');
    }
    await page.evaluate(() => window.ui.hide());
  }
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.deepEqual(errors, []);
  await page.close();
});

test('only http(s) and relative CTA URLs become links', async () => {
  const { page } = await fixture();
  const hrefs = await page.evaluate(() => {
    const urls = ['javascript:window.pwned=1', 'JavaScript:window.pwned=1', ' javascript:window.pwned=1', 'java\tscript:window.pwned=1', 'data:text/html,<script>parent.pwned=1</script>', 'vbscript:x', 'file:///etc/passwd',
      'https://acme.example/pricing', 'http://acme.example/', '/pricing?plan=team', 'pricing', '#plans', '//acme.example/x'];
    return urls.map((url) => {
      window.ui.show(window.make({ cta: { label: 'Go', url } }));
      const a = document.querySelector('pqlkit-prompt').shadowRoot.querySelector('a');
      window.ui.hide();
      return a && a.getAttribute('href');
    });
  });
  assert.deepEqual(hrefs, [null, null, null, null, null, null, null, 'https://acme.example/pricing', 'http://acme.example/', '/pricing?plan=team', 'pricing', '#plans', '//acme.example/x']);
  // Without a link the modal still works: focus lands on "Not now".
  await show(page, { cta: { label: 'Go', url: 'javascript:window.pwned=1' } });
  assert.equal(await focused(page), 'prompt:button.secondary');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(await focused(page), 'trigger');
  await page.close();
});

test('prefers-reduced-motion: reduce turns the animations off', async () => {
  const animations = (page, style) =>
    page.evaluate((s) => {
      window.ui.show(window.make({ style: s }));
      const root = document.querySelector('pqlkit-prompt').shadowRoot;
      const n = root.getAnimations().length;
      window.ui.hide();
      return n;
    }, style);
  const moving = await fixture();
  const context = await env.browser.newContext({ reducedMotion: 'reduce' });
  const still = await fixture({ context });
  for (const style of ['modal', 'banner', 'toast', 'inline']) {
    assert.ok((await animations(moving.page, style)) > 0, `${style} animates by default`);
    assert.equal(await animations(still.page, style), 0, `${style} does not animate under reduced motion`);
  }
  await moving.page.close();
  await context.close();
});
