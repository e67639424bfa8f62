#!/usr/bin/env node
// The browser benchmark of issue 4 (part 8): `node tests/bench/browser.js` (a script, not a
// test). Starts the demo server on a free port, runs www/bench/ in Debian's headless Chromium
// (playwright-core, as tests/e2e/harness.js does) for 10, 100 and 1000 rules, and prints the
// figures: a table, then lines ready to paste into the README.
//
//   node tests/bench/browser.js                 all sizes, all phases
//   node tests/bench/browser.js --sizes 100     one size
//   node tests/bench/browser.js --only track,init   some phases (init, track, traits, splits, storage, memory,
//                                                 first: a new page's first init, cold and from the HTTP cache)
//   node tests/bench/browser.js --collector    storage run with a collector (adds the outbox key)
//   node tests/bench/browser.js --json          also print every result as JSON
//   node tests/bench/browser.js --profile       also a CPU profile of track() at 100 rules
//                                                 (readable js/index.js), top functions by self time
//
// The bench page is served cross-origin isolated (COOP/COEP added by a route), which gives
// performance.now() 5 µs steps instead of 100 µs; the SDK itself runs the same either way.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../../www/server.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const HARD_LIMIT_MS = 240_000; // the first-visit phase adds about 30 s to a full run
const PAGE_LIMIT_MS = 100_000;

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const value = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
};
const SIZES = value('--sizes', '10,100,1000').split(',').map(Number);

const killer = setTimeout(() => {
  console.error(`pqlkit bench: gave up after ${HARD_LIMIT_MS / 1000} s`);
  process.exit(2);
}, HARD_LIMIT_MS);
killer.unref();

const isolate = async (context) => {
  await context.route(
    (url) => url.pathname.startsWith('/bench/'),
    async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } });
    },
  );
};

async function runPage(browser, url, { profile = false } = {}) {
  const context = await browser.newContext();
  await isolate(context);
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  let cdp = null;
  if (profile) {
    cdp = await context.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
    await cdp.send('Profiler.start');
  }
  await page.goto(url);
  await page.waitForFunction(() => window.done === true, null, { timeout: PAGE_LIMIT_MS, polling: 200 });
  const results = await page.evaluate(() => window.results);
  let cpu = null;
  if (cdp) cpu = (await cdp.send('Profiler.stop')).profile;
  await context.close();
  if (pageErrors.length) results.pageErrors = pageErrors;
  return { results, cpu };
}

const SERIES = 4;
const VISITS = 4;

/**
 * A page's first `init` on visits to the bench page: SERIES browser contexts, VISITS page loads
 * each. The first load of a context is a new visitor's (empty HTTP cache, no state); the later
 * ones a returning visitor's (the package revalidated from the HTTP cache, the state restored).
 * No route in these contexts: Playwright turns the HTTP cache off where one intercepts.
 */
async function firstVisits(browser, url) {
  const cold = [];
  const warm = [];
  for (let s = 0; s < SERIES; s++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    for (let v = 0; v < VISITS; v++) {
      await page.goto(url);
      await page.waitForFunction(() => window.done === true, null, { timeout: PAGE_LIMIT_MS, polling: 50 });
      const results = await page.evaluate(() => window.results);
      if (results.error) throw new Error(results.error);
      (v === 0 ? cold : warm).push({ initMs: results.first.initMs, importMs: results.importMs, restoring: results.first.restoring });
    }
    await context.close();
  }
  return { cold, warm };
}

/** Self time per function (name + location) from a CPU profile, top `n`. */
function topSelf(profile, n = 20) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  const dt = profile.timeDeltas;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const f = node.callFrame;
    const file = f.url ? f.url.replace(/^.*\/\/[^/]+/, '') : '';
    const key = `${f.functionName || '(anonymous)'} ${file}${f.url ? ':' + (f.lineNumber + 1) : ''}`;
    const ms = (dt[i] ?? 0) / 1000;
    self.set(key, (self.get(key) ?? 0) + ms);
    total += ms;
  }
  return { total, rows: [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n) };
}

const fmt = (x, d = 2) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : String(x ?? '—'));
const int = (x) => (typeof x === 'number' ? Math.round(x).toLocaleString('en-US') : String(x ?? '—'));

function pad(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join('  ')).join('\n');
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'pqlkit-bench-'));
  const server = await startServer({ port: 0, dataDir });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const all = [];
  const visits = [];
  let profile = null;
  try {
    const phasesAsked = value('--only', '');
    for (const size of phasesAsked && !phasesAsked.split(',').some((p) => p !== 'first') ? [] : SIZES) {
      const started = Date.now();
      process.stderr.write(`pqlkit bench: ${size} rules… `);
      const only = value('--only', '') ? `&only=${value('--only', '')}` : '';
      const { results } = await runPage(browser, `${server.url}/bench/?rules=${size}${flag('--collector') ? '&collector=1' : ''}${only}`);
      process.stderr.write(`${((Date.now() - started) / 1000).toFixed(1)} s ${JSON.stringify(results.phaseMs)}\n`);
      all.push(results);
    }
    if (!phasesAsked || phasesAsked.split(',').includes('first')) {
      // The package revalidated at each visit (a 304 from the demo's server), and served as a
      // bundler's hashed files are: nothing asked again while it is in the HTTP cache.
      const immutable = await startServer({ port: 0, dataDir, packageCache: 'max-age=31536000, immutable' });
      try {
        for (const size of SIZES) {
          // The last row as the README's preload has a site send the page: the wasm's download
          // starts with the page's, not once init() asks for it.
          for (const [cache, { url }, preload] of [['no-cache, ETag', server, ''], ['immutable', immutable, ''], ['immutable, wasm preloaded', immutable, '&preload-wasm']]) {
            process.stderr.write(`pqlkit bench: ${size} rules, first init of ${SERIES * VISITS} visits (${cache})… `);
            const started = Date.now();
            visits.push({ rules: size, cache, ...(await firstVisits(browser, `${url}/bench/?rules=${size}&only=first${preload}`)) });
            process.stderr.write(`${((Date.now() - started) / 1000).toFixed(1)} s\n`);
          }
        }
      } finally {
        await immutable.close();
      }
    }
    if (flag('--profile')) {
      process.stderr.write('pqlkit bench: profiling track() at 100 rules (js/index.js)…\n');
      ({ cpu: profile } = await runPage(browser, `${server.url}/bench/?rules=100&only=track&entry=src&n=40000`, { profile: true }));
    }
  } finally {
    await browser.close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }

  if (visits.length) {
    const median = (list) => [...list].sort((x, y) => x - y)[Math.floor((list.length - 1) / 2)];
    const span = (list) => `${fmt(median(list))} (${fmt(Math.min(...list))}–${fmt(Math.max(...list))})`;
    console.log(`a page's first init() — ms, median (min–max); storage 'local'; ${SERIES} browser contexts of ${VISITS} visits: a new visitor, then a returning one`);
    console.log(
      pad([
        ['rules', 'package served', 'new visitor: import()', 'init()', 'returning (HTTP cache, state restored): import()', 'init()'],
        ...visits.map((r) => [r.rules, r.cache, span(r.cold.map((x) => x.importMs)), span(r.cold.map((x) => x.initMs)), span(r.warm.map((x) => x.importMs)), span(r.warm.map((x) => x.initMs))]),
      ]),
    );
    const unrestored = visits.flatMap((r) => r.warm).filter((x) => !x.restoring).length;
    if (unrestored) console.log(`  !! ${unrestored} returning visits found no saved state`);
    console.log('');
  }
  if (!all.length) return;

  const first = all[0];
  console.log(`pqlkit browser benchmark — ${first.userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? first.userAgent}`);
  console.log(`bundle ${first.entry}; crossOriginIsolated=${first.crossOriginIsolated}, performance.now() step ${first.clockResolutionUs} µs; ` + `track: ${first.track?.calls ?? '?'} calls after ${first.track?.warmup ?? '?'} warm-up, storage 'local', ui 'none', autocapture off; median over batches of 10 calls, p99/max over single calls`);
  for (const r of all) if (r.error || r.pageErrors) console.log(`!! ${r.rules} rules: ${r.error ?? ''} ${r.pageErrors?.join('; ') ?? ''}`);
  console.log('');

  console.log('track() — µs per call, public pql.track(name, props), boundary crossing included');
  console.log(
    pad([
      ['rules', 'median', 'mean', 'p99', 'max', 'single-call mean', 'bare core.track', 'effects (prompt/beacon/qualified)'],
      ...all.map((r) => [
        r.rules,
        fmt(r.track?.medianUs),
        fmt(r.track?.meanUs),
        fmt(r.track?.p99Us),
        fmt(r.track?.maxUs, 0),
        fmt(r.track?.singleMeanUs),
        fmt(r.splits?.bareTrackOnlyUs),
        r.track ? `${r.track.effects.prompt}/${r.track.effects.beacon}/${r.track.effects.qualified}` : '—',
      ]),
    ]),
  );
  console.log('');

  if (all.some((r) => r.traits)) {
    console.log('trait changes + score() reads — µs per step: identify(null, one changed trait) every 4th event, track(), score().score');
    console.log(pad([['rules', 'step median', 'score() again, unchanged'], ...all.map((r) => [r.rules, fmt(r.traits?.medianUs), fmt(r.traits?.unchangedScoreUs, 3)])]));
    console.log('');
  }

  console.log('where a track() goes — mean µs per call, the facade\'s steps replayed on a bare Core');
  const steps = ['advance', 'parseAdvance', 'arm1', 'write', 'track', 'parseEffects', 'arm2', 'postMessage'];
  console.log(pad([['rules', ...steps, 'sum', 'wall'], ...all.filter((r) => r.splits).map((r) => [r.rules, ...steps.map((s) => fmt(r.splits.perCallUs[s])), fmt(r.splits.sumUs), fmt(r.splits.wallUs)])]));
  console.log('  write = writeObject(props), the properties written for the wasm; advance = core.advance(now) (#advance before each call); parseAdvance = JSON.parse of its effects;');
  console.log('  arm1/arm2 = core.status() + clearTimeout/setTimeout (#arm, run after advance and after track); track = core.track (wasm);');
  console.log('  parseEffects = JSON.parse of the effects; postMessage = BroadcastChannel tab sync (JSON.stringify(props) included; only when another tab listens); wall = the whole replay / calls');
  for (const r of all.filter((x) => x.splits)) {
    const c = r.splits.coreTrackUs;
    const w = r.splits.wholeStepUs;
    console.log(`  ${r.rules} rules: core.track ${fmt(c.withoutEffects)} µs without effects, ${fmt(c.withEffects)} µs in the ${int(c.callsWithEffects)} calls with effects (whole step ${fmt(w.withoutEffects)} / ${fmt(w.withEffects)} µs)`);
  }
  const micro = all.find((x) => x.splits)?.splits.microUs;
  if (micro) {
    console.log('');
    console.log(`primitives alone, µs per call (tight loops, ${all.find((x) => x.splits).rules} rules):`);
    console.log(pad(Object.entries(micro).map(([k, v]) => ['  ' + k, fmt(v, 3)])));
  }
  console.log('');

  console.log('init() — ms (rules passed as an object; autocapture off, ui none)');
  console.log(
    pad([
      ['rules', 'rules JSON', 'first (loads wasm)', "median 'memory'", "median 'local' (empty)", "median 'local' (restoring 200k-event state)"],
      ...all.map((r) => [r.rules, r.init ? `${int(r.init.rulesJsonBytes)} B` : '—', fmt(r.init?.firstMs), fmt(r.init?.memory.medianMs), fmt(r.init?.local.medianMs), fmt(r.storage?.initRestoringMs.median)]),
    ]),
  );
  console.log('');

  console.log(`localStorage after 200,000 events (60 simulated days), storage 'local', save forced by pagehide${all[0]?.storage?.collector ? ', collector on (drained between bursts of 5,000)' : ', no collector (--collector adds one: outbox key)'}`);
  console.log(
    pad([
      ['rules', 'pqlkit:v1:state', 'pqlkit:v1:outbox', 'all pqlkit keys', 'save (pagehide) ms', 'replay events/s', 'µs/event', 'beacons', 'errors'],
      ...all.map((r) => [
        r.rules,
        r.storage ? `${int(r.storage.keys['pqlkit:v1:state']?.utf8Bytes ?? 0)} B` : '—',
        r.storage ? `${int(r.storage.keys['pqlkit:v1:outbox']?.utf8Bytes ?? 0)} B` : '—',
        r.storage ? `${int(r.storage.totalBytes)} B` : '—',
        fmt(r.storage?.saveOnPagehideMs),
        int(r.storage?.replay.eventsPerSec),
        fmt(r.storage?.replay.usPerEvent),
        int(r.storage?.effects.beacon),
        r.storage ? `${r.storage.effects.error}${r.storage.errorCodes.length ? ' (' + r.storage.errorCodes.join(',') + ')' : ''}` : '—',
      ]),
    ]),
  );
  console.log('  bytes = UTF-8 bytes of key + value (the values are ASCII: also UTF-16 code units, what the quota counts)');
  console.log('');

  if (all.some((r) => r.memory)) {
    const mib = (b) => (typeof b === 'number' ? (b / 1048576).toFixed(2) + ' MiB' : '—');
    console.log('wasm memory (linear memory of a module instance of its own, bare Core, 200,000 events)');
    console.log(
      pad([
        ['rules', 'before', 'rules compiled', 'after the events', 'saved state'],
        ...all.map((r) => [r.rules, mib(r.memory?.startBytes), mib(r.memory?.compiledBytes), mib(r.memory?.afterEventsBytes), r.memory ? `${int(r.memory.stateBytes)} B` : '—']),
      ]),
    );
    console.log('');
  }
  console.log('README lines:');
  console.log('| rules | track() median µs | p99 µs | init ms (memory / local) | localStorage bytes after 200k events |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const r of all) {
    console.log(`| ${r.rules} | ${fmt(r.track?.medianUs)} | ${fmt(r.track?.p99Us)} | ${fmt(r.init?.memory.medianMs)} / ${fmt(r.init?.local.medianMs)} | ${int(r.storage?.totalBytes)} |`);
  }
  const hundred = all.find((r) => r.rules === 100);
  if (hundred?.track && hundred?.init) {
    const ok = (v, max) => (v <= max ? 'met' : 'MISSED');
    console.log('');
    console.log(`targets at 100 rules: track() median ${fmt(hundred.track.medianUs)} µs (≤ 5: ${ok(hundred.track.medianUs, 5)}); init ${fmt(hundred.init.memory.medianMs)} ms memory / ${fmt(hundred.init.local.medianMs)} ms local (≤ 5: ${ok(Math.max(hundred.init.memory.medianMs, hundred.init.local.medianMs), 5)})`);
  }

  if (profile) {
    const { total, rows } = topSelf(profile);
    console.log('');
    console.log(`CPU profile of the track phase page at 100 rules (self time, ${fmt(total, 0)} ms sampled):`);
    console.log(pad([['ms', '%', 'function'], ...rows.map(([k, ms]) => [fmt(ms, 1), fmt((100 * ms) / total, 1), k])].map((r) => [r[2], r[0], r[1]])));
    const out = join(tmpdir(), 'pqlkit-track.cpuprofile');
    writeFileSync(out, JSON.stringify(profile));
    console.log(`  full profile: ${out} (open in Chrome DevTools → Performance)`);
  }
  if (flag('--json')) console.log('\n' + JSON.stringify(all, null, 2));
  const failed = all.some((r) => r.error || r.pageErrors);
  process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
