#!/usr/bin/env node
// Compares builds of pqlkit in one Chromium page (a script, not a test). On this kind of machine
// the host's load moves a benchmark run by up to 2×; two builds measured in the same page, in
// many short interleaved rounds, see the same load, and the low quantiles show what the code
// does.
//
//   node tests/bench/ab.js --save before      keep the current build (js/*.js, js/wasm/) as "before"
//   ... change, npm run build ...
//   node tests/bench/ab.js before now         compare "before" with the current build
//   node tests/bench/ab.js a b --rounds 20 --rules 1000
//
// Snapshots live in target/ab/<name>/. Each round replays the browser bench's events
// 22,000 – 42,000 (the region its track() median covers) after a warm-up: on a bare Core
// (the properties written as the facade writes them, JSON.stringify or core.js writeObject,
// then core.track and JSON.parse of the effects) and through pql.track (storage 'local', four
// listeners). Printed: µs per call, min / p10 / p25 / median over the rounds, and for
// pql.track the median over batches of 10 calls as the bench takes it.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { buildDir, option, saveBuild } from './builds.js';
import { startServer } from '../../www/server.js';

const argv = process.argv.slice(2);
const saveAs = option(argv, '--save', null);
const rounds = Number(option(argv, '--rounds', 12));
const rules = Number(option(argv, '--rules', 100));

if (saveAs) {
  console.log(`pqlkit ab: saved the current build as "${saveAs}" (${saveBuild(saveAs)})`);
  process.exit(0);
}

const names = argv;
if (names.length < 2) {
  console.error('usage: node tests/bench/ab.js --save NAME | NAME NAME... [--rounds N] [--rules N]   ("now" is the current build)');
  process.exit(2);
}
const dirOf = buildDir;
for (const name of names) {
  if (!existsSync(join(dirOf(name), 'index.js'))) {
    console.error(`pqlkit ab: no build "${name}" (node tests/bench/ab.js --save ${name})`);
    process.exit(2);
  }
}

/** Runs in the page: imports each build, then alternates them round by round. */
async function compare({ names, rounds, rules: size }) {
  const { ruleSet, events } = await import('/bench/bench.js');
  const rules = ruleSet(size);
  const WARM = 22_000;
  const N = 42_000;
  const evs = events(N);
  const options = (clock) => ({ rules, ui: 'none', autocapture: false, storage: 'local', user: { id: 'u1', traits: { plan: 'free' } }, account: { id: 'acme', traits: { company_size: 50 } }, now: () => clock.t });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const builds = {};
  for (const name of names) {
    // Builds before the runtime imported from `host` shipped wasm-bindgen's glue for it.
    const glue = await import(`/ab/${name}/wasm/pqlkit.js`).catch(() => null);
    const module = () => WebAssembly.compileStreaming(fetch(`/ab/${name}/wasm/pqlkit_bg.wasm`));
    let newCore;
    let props = (value) => JSON.stringify(value);
    if (glue?.Core) {
      // A build from before the numeric boundary: wasm-bindgen's Core class.
      await glue.default({ module_or_path: `/ab/${name}/wasm/pqlkit_bg.wasm` });
      newCore = (rules) => new glue.Core(JSON.stringify(rules), 'anon', 7);
    } else {
      const { Core } = await import(`/ab/${name}/core.js`);
      let wasm;
      if (glue) wasm = glue.initSync({ module: await module() });
      else {
        // The host functions: an argument of `instantiate` in some saved builds, ignored later.
        const [{ instantiate }, host] = await Promise.all([import(`/ab/${name}/loader.js`), import(`/ab/${name}/wasm/host.js`)]);
        wasm = instantiate(await module(), host);
      }
      // Builds whose properties cross as values take the length core.js's writeObject wrote;
      // builds whose rule set crosses as a value take its valueBytes, older ones its text.
      const { writeObject, valueBytes } = await import(`/ab/${name}/core.js`);
      newCore = (rules) => new Core(wasm, valueBytes ? valueBytes(rules) : JSON.stringify(rules), 'anon', 7);
      if (writeObject) props = (value) => writeObject(value);
    }
    builds[name] = { newCore, props, api: await import(`/ab/${name}/index.js`), bare: [], facade: [], batches: [] };
  }
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 ? [...names].reverse() : names) {
      const b = builds[name];
      const core = b.newCore(rules);
      core.openStorage('memory', 'ab', 0);
      core.identify('u1', b.props({ plan: 'free' }), evs[0].t);
      core.group('acme', b.props({ company_size: 50 }), evs[0].t);
      const bare = (k) => {
        const effects = core.track(evs[k].name, b.props(evs[k].props), evs[k].t);
        if (effects) JSON.parse(effects); // none: undefined before the numeric boundary, '' since
      };
      for (let k = 0; k < WARM; k++) bare(k);
      let start = performance.now();
      for (let k = WARM; k < N; k++) bare(k);
      b.bare.push(((performance.now() - start) * 1000) / (N - WARM));
      core.free();

      localStorage.clear();
      const clock = { t: evs[0].t };
      const pql = await b.api.init(options(clock));
      for (const event of ['qualified', 'prompt', 'beacon', 'error']) pql.on(event, () => {});
      await sleep(30); // the tab-leader lock is granted asynchronously
      for (let k = 0; k < WARM; k++) {
        clock.t = evs[k].t;
        pql.track(evs[k].name, evs[k].props);
      }
      const batches = [];
      start = performance.now();
      for (let i = WARM; i < N; i += 10) {
        const t0 = performance.now();
        for (let k = i; k < i + 10; k++) {
          clock.t = evs[k].t;
          pql.track(evs[k].name, evs[k].props);
        }
        batches.push(((performance.now() - t0) * 1000) / 10);
      }
      b.facade.push(((performance.now() - start) * 1000) / (N - WARM));
      b.batches.push(batches.sort((x, y) => x - y)[batches.length >> 1]);
      pql.destroy();
      localStorage.clear();
      await sleep(5);
    }
  }
  const q = (values, p) => [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor(p * values.length))];
  const row = (values) => [0, 0.1, 0.25, 0.5].map((p) => q(values, p).toFixed(2)).join(' / ');
  return names.map((name) => ({ name, bare: row(builds[name].bare), facade: row(builds[name].facade), batches: row(builds[name].batches) }));
}

const types = { '.js': 'text/javascript', '.wasm': 'application/wasm' };
const dataDir = mkdtempSync(join(tmpdir(), 'pqlkit-ab-'));
const server = await startServer({ port: 0, dataDir });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  const context = await browser.newContext();
  // The builds are served from their directories; the page is the bench's, cross-origin
  // isolated like it, so performance.now() steps by 5 µs.
  await context.route('**/ab/**', (route) => {
    const [, name, ...rest] = new URL(route.request().url()).pathname.split('/').filter(Boolean);
    const file = join(dirOf(name), ...rest);
    if (!existsSync(file)) return route.fulfill({ status: 404 });
    return route.fulfill({ body: readFileSync(file), headers: { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cross-origin-resource-policy': 'same-origin' } });
  });
  await context.route('**/bench/**', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } });
  });
  const page = await context.newPage();
  await page.goto(`${server.url}/bench/?only=none`);
  await page.waitForFunction(() => window.done === true);
  process.stderr.write(`pqlkit ab: ${names.join(' vs ')}, ${rounds} rounds at ${rules} rules…\n`);
  const results = await page.evaluate(compare, { names, rounds, rules });
  console.log(`µs per call at ${rules} rules, events 22,000 – 42,000; min / p10 / p25 / median over ${rounds} rounds`);
  for (const r of results) console.log(`${r.name.padEnd(10)} bare core.track ${r.bare} | pql.track mean ${r.facade} | pql.track batch median ${r.batches}`);
} finally {
  await browser.close();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
