// pqlkit/react in Chromium: www/test/react-app.jsx bundled by esbuild with the real react and
// react-dom (19, pinned in package-lock.json; and 18, the oldest the peer range allows, pinned
// in tests/e2e/react18/), under StrictMode, with the real collector (www/server.js). Also its
// server render under Node, and its types against @types/react.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureNpmInstall } from '../../.ci/tools.js';
import { adapterSuite, bundleFixture, deliveredBeacons, scratchDir, serveBundle, typecheck, watchConsole } from './adapters.js';
import { screenshot } from './harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const suite = adapterSuite('react-app.jsx');
const env = () => suite.env;
const react18 = join(root, 'tests', 'e2e', 'react18');
const bundles = {};
before(async () => {
  ensureNpmInstall(react18, 'React 18 for tests/e2e/react.test.js');
  const modules = join(react18, 'node_modules');
  bundles['18.3.1'] = await bundleFixture('react-app.jsx', { alias: { react: join(modules, 'react'), 'react-dom': join(modules, 'react-dom') } });
});

async function open(query = '', version = '19.3.1') {
  const { env } = suite;
  const context = await env.browser.newContext();
  await serveBundle(context, '/test/react-app.js', version === '19.3.1' ? suite.bundle : bundles[version]);
  const page = await context.newPage();
  const problems = watchConsole(page);
  await page.goto(env.url('/test/adapters.html?app=react' + query));
  await page.locator('#ready', { hasText: 'ready' }).waitFor();
  return { context, page, problems };
}

const score = (page) => page.locator('#score').textContent();
const waitScore = (page, text) => page.locator('#score', { hasText: text }).waitFor();
const events = (page, name) => page.evaluate((n) => window.events.filter((e) => e.name === n), name);
const beacons = (page) => deliveredBeacons(suite.env, page);
const count = (list, type, prompt) => list.filter((b) => b.type === type && (prompt === undefined || b.signals?.prompt === prompt || b.prompt === prompt)).length;

for (const version of ['19.3.1', '18.3.1']) {
  test(`React ${version}, under StrictMode: one init, one modal, one shown beacon; useScore re-renders on the rise and on the drop, not while idle`, async () => {
    const { context, page, problems } = await open('', version);
    assert.equal(await page.evaluate(() => window.reactVersion), version);
    assert.equal(await page.evaluate(() => window.inits), 1, 'init ran once although StrictMode mounted the provider twice');
    assert.equal(await score(page), '0 null false');

    for (let i = 0; i < 3; i++) await page.click('#export');
    await page.locator('pqlkit-prompt[data-style="modal"] [role="dialog"]').waitFor();
    await waitScore(page, '40 warm false');
    assert.equal(await page.locator('pqlkit-prompt').count(), 1, 'one prompt on the page');
    assert.equal((await events(page, 'prompt')).length, 1);
    assert.equal((await events(page, 'prompt:shown')).length, 1);
    await screenshot(page, `react-${version}-modal`);

    await page.locator('pqlkit-prompt button', { hasText: 'Not now' }).click();
    await page.locator('pqlkit-prompt').waitFor({ state: 'detached' });
    await page.click('#invite');
    await page.locator('#sidebar pqlkit-prompt[data-style="inline"]').waitFor();
    await waitScore(page, '65 hot true');

    // identify() through the provider's options: the audience no longer holds, the score drops
    // although the SDK emits no event for it.
    await page.click('#upgrade');
    await waitScore(page, '0 null false');

    const renders = await page.evaluate(() => window.renders.length);
    await page.waitForTimeout(1500);
    assert.equal(await page.evaluate(() => window.renders.length), renders, 'no re-render while nothing changes (no polling)');
    const seen = await page.evaluate(() => [...new Set(window.renders)]);
    assert.deepEqual(seen, ['0 null false', '40 warm false', '65 hot true', '0 null false'].filter((v, i, a) => a.indexOf(v) === i));

    const list = await beacons(page);
    assert.equal(count(list, 'feature'), 1, 'one feature beacon');
    assert.equal(list.filter((b) => b.type === 'prompt_shown').length, 2, 'the modal and the inline prompt were each reported shown once');
    assert.equal(await page.evaluate(() => window.inits), 1);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test(`React ${version}, headless (ui: 'none'): usePrompt and a PqlkitSlot render function show the prompts and report each outcome once`, async () => {
    const { context, page, problems } = await open('&ui=none', version);
    for (let i = 0; i < 3; i++) await page.click('#export');
    const toast = page.locator('#toast[role="dialog"]');
    await toast.waitFor();
    assert.equal(await toast.locator('h2').textContent(), 'Export more with Pro');
    assert.equal(await page.locator('pqlkit-prompt').count(), 0, 'the built-in UI stays off');
    await page.waitForFunction(() => window.events.some((e) => e.name === 'prompt:shown'));
    await screenshot(page, `react-${version}-headless-toast`);
    await toast.locator('button', { hasText: 'Not now' }).dblclick();
    await toast.waitFor({ state: 'detached' });

    await page.click('#invite');
    const inline = page.locator('#sidebar #inline');
    await inline.waitFor();
    assert.equal(await inline.locator('h3').textContent(), 'Invite your whole team');
    await inline.locator('button').click();
    await inline.waitFor({ state: 'detached' });

    const outcomes = await page.evaluate(() => window.events.filter((e) => e.name.startsWith('prompt:')).map((e) => `${e.name} ${e.id}`));
    assert.deepEqual(outcomes, ['prompt:shown pro', 'prompt:dismissed pro', 'prompt:shown team', 'prompt:clicked team']);
    const list = await beacons(page);
    const reported = list.filter((b) => b.type.startsWith('prompt_')).map((b) => `${b.type} ${b.signals?.prompt}`).sort();
    assert.deepEqual(reported, ['prompt_clicked team', 'prompt_dismissed pro', 'prompt_shown pro', 'prompt_shown team']);
    assert.deepEqual(problems, []);
    await context.close();
  });
}

test('useScore follows the calls of another tab, and unmounting the provider destroys the instance it started', async () => {
  const { context, page, problems } = await open();
  const other = await context.newPage();
  await other.goto(env().url('/test/adapters.html?app=react'));
  await other.locator('#ready', { hasText: 'ready' }).waitFor();
  for (let i = 0; i < 3; i++) await other.click('#export');
  await waitScore(other, '40 warm false');
  // No call in this tab: the other tab's exports arrive through the tabs' channel and its save.
  await waitScore(page, '40 warm false');
  await other.close();

  await page.evaluate(() => window.unmount());
  await page.waitForTimeout(50); // the teardown waits one task
  assert.deepEqual(await page.evaluate(() => window.pql.score()), { score: 0, tier: null, qualified: false, rules: [] }, 'destroyed: it answers the empty score');
  assert.equal(await page.evaluate(() => window.inits), 1);
  assert.deepEqual(problems, []);
  await context.close();
});

test('<PqlkitProvider client>: an instance made with init outside drives the hooks and outlives the provider', async () => {
  const { context, page, problems } = await open('&client=1');
  for (let i = 0; i < 3; i++) await page.click('#export');
  await waitScore(page, '40 warm false');
  assert.equal((await events(page, 'prompt:shown')).length, 1);
  assert.equal(await page.evaluate(() => Object.hasOwn(window.pql, 'track')), true, 'wrapped while provided');
  await page.evaluate(() => window.unmount());
  await page.waitForTimeout(50);
  const after = await page.evaluate(() => ({ score: window.pql.score().score, wrapped: Object.hasOwn(window.pql, 'track') }));
  assert.deepEqual(after, { score: 40, wrapped: false }, 'not destroyed, its methods its own again');
  assert.equal(await page.evaluate(() => window.inits), 1);
  assert.deepEqual(problems, []);
  await context.close();
});

test('hydrating a server render: the same markup (no mismatch), then one init, and the hooks take over', async () => {
  const { context, page, problems } = await open('&hydrate=1');
  const html = await page.evaluate(() => window.serverHtml);
  assert.match(html, /<output id="score">0 null false<\/output>/);
  assert.match(html, /<div id="sidebar" data-pqlkit-slot="sidebar"><\/div>/);
  assert.doesNotMatch(html, /pqlkit-prompt/);
  for (let i = 0; i < 3; i++) await page.click('#export');
  await waitScore(page, '40 warm false');
  assert.equal(await page.evaluate(() => window.inits), 1);
  assert.deepEqual(problems, [], 'no hydration mismatch reported');
  await context.close();
});

test('a server render under Node: no init, no window, an empty slot and a zero score', async () => {
  const dir = scratchDir('react-ssr-');
  const script = join(dir, 'ssr.mjs');
  // A process of its own: the imports resolve as an app's server would (pqlkit by name).
  writeFileSync(
    script,
    `import { createElement as h } from 'react';
import server from 'react-dom/server';
import { PqlkitProvider, PqlkitSlot, useScore, usePqlkit, usePrompt } from 'pqlkit/react';
let inits = 0;
const options = { get rules() { inits++; return { version: 1, rules: [] }; } };
function Probe() {
  const { score, tier } = useScore();
  return h('p', null, \`\${score} \${tier} \${usePqlkit() === null} \${usePrompt() === null}\`);
}
const html = server.renderToString(h(PqlkitProvider, { options }, h(Probe), h(PqlkitSlot, { name: 'sidebar', className: 'side' })));
console.log(JSON.stringify({ html, inits, window: typeof window }));`,
  );
  const out = JSON.parse(execFileSync('node', [script], { cwd: root, encoding: 'utf8' }));
  rmSync(dir, { recursive: true });
  assert.deepEqual(out, { html: '<p>0 null true true</p><div class="side" data-pqlkit-slot="sidebar"></div>', inits: 0, window: 'undefined' });
});

test("under the react-server condition (Next.js server components) pqlkit/react is a 'use client' boundary with the same exports", () => {
  const resolve = (conditions) => execFileSync('node', [...conditions, '--input-type=module', '-e', "console.log(import.meta.resolve('pqlkit/react'))"], { cwd: root, encoding: 'utf8' }).trim();
  const server = fileURLToPath(resolve(['--conditions=react-server']));
  const client = fileURLToPath(resolve([]));
  assert.equal(relative(root, server), join('js', 'react-client.js'));
  assert.equal(relative(root, client), join('js', 'react.js'));
  const boundary = readFileSync(server, 'utf8');
  assert.match(boundary, /^'use client';\n/);
  // Bundlers (Vite's Rolldown) warn about a directive they cannot keep: the default entry has none.
  assert.doesNotMatch(readFileSync(client, 'utf8'), /^\s*['"]use client['"]/m);
  const reexported = boundary.match(/export \{([^}]+)\} from '\.\/react\.js'/)[1].split(',').map((n) => n.trim()).sort();
  const defined = [...readFileSync(client, 'utf8').matchAll(/^export function (\w+)/gm)].map((m) => m[1]).sort();
  assert.deepEqual(reexported, defined);
});

test('the types of pqlkit/react accept the documented use and reject misuse (with @types/react)', () => {
  typecheck(
    `import { PqlkitProvider, PqlkitSlot, usePqlkit, usePrompt, useScore } from 'pqlkit/react';
export function App() {
  const pql = usePqlkit();
  pql?.featureUsed('export');
  const { score, tier, qualified } = useScore();
  const prompt = usePrompt({ slot: 'sidebar' });
  prompt?.shown();
  return (
    <PqlkitProvider options={{ rules: '/rules.json', ui: 'none' }} onError={(e) => e.code}>
      <p>{score} {tier} {String(qualified)} {prompt?.title}</p>
      <PqlkitSlot name="sidebar" className="side">{(p) => <b onClick={p.clicked}>{p.title}</b>}</PqlkitSlot>
      <PqlkitSlot name="top" />
      {/* @ts-expect-error ui is 'default' | 'none' */}
      <PqlkitProvider options={{ rules: '/rules.json', ui: 'headless' }} />
      {/* @ts-expect-error a slot needs its name */}
      <PqlkitSlot />
    </PqlkitProvider>
  );
}
// @ts-expect-error a score is a number
const s: string = useScore().score;
// @ts-expect-error no such filter
usePrompt({ rule: 'x' });
`,
    { jsx: true },
  );
});

test("the README's React, Segment and PostHog examples compile verbatim (strict tsc, the real packages' types)", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## React, Segment and PostHog\n');
  assert.ok(start >= 0, 'the section is in the README');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const blocks = [...section.matchAll(/^( *)```(jsx|js)\n([^]*?)^\1```$/gm)].map(([, indent, lang, body]) => ({ lang, body: body.replace(new RegExp(`^${indent}`, 'gm'), '') }));
  assert.ok(blocks.length >= 4, `${blocks.length} examples`);
  typecheck(Object.fromEntries(blocks.map((b, i) => [`example${i}.${b.lang === 'jsx' ? 'tsx' : 'ts'}`, b.body])));
});
