#!/usr/bin/env node
// Two builds of pqlkit on the peer workload of ../shared/peerbench (issue 14), in ONE page of
// Debian's Chromium, in interleaved rounds (a script, not a test). peerbench measures a fresh
// page per run, where most of the time is V8 compiling the hot code; here both builds run
// again and again in the same page, see the same host load, and the low quantiles show what
// the code itself costs per event (harness included, as in peerbench).
//
//   node tests/bench/ab.js --save before            keep the current build (js/) as "before"
//   ... change, npm run build ...
//   node tests/bench/peer-ab.js before now          compare it with the current build
//   node tests/bench/peer-ab.js before now --R 1000 --rounds 6 --engine pqlkit-traits
//
// Each round builds the engine anew (init) and runs the workload's first N events (20,000).
// The builds are ab.js's (tests/bench/builds.js). Skipped, with a message, where ../shared is absent.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { root } from '../../.ci/tools.js';
import { buildDir, option } from './builds.js';

const argv = process.argv.slice(2);
const R = Number(option(argv, '--R', 100));
const rounds = Number(option(argv, '--rounds', 10));
const N = Number(option(argv, '--N', 20000));
const engine = option(argv, '--engine', 'pqlkit-native');

const peerbench = join(root, '..', 'shared', 'peerbench');
if (!existsSync(join(peerbench, 'engines', 'pqlkit.mjs'))) {
  console.log(`pqlkit peer-ab: skipped, ${peerbench} is absent`);
  process.exit(0);
}
const [a, b] = argv;
if (!a || !b || ![a, b].every((name) => existsSync(join(buildDir(name), 'pqlkit.min.js')))) {
  console.error('usage: node tests/bench/peer-ab.js NAME NAME [--R n] [--rounds n] [--N n] [--engine name]   ("now" is the current build; node tests/bench/ab.js --save NAME keeps one)');
  process.exit(2);
}

// The page imports each build's browser entry through peerbench's own adapter (a second
// import of it, by another URL, is a second module with its own loaded package).
const page = `<!doctype html><meta charset="utf-8"><script type="module">
const W = await import('/peer/peerbench/workload.mjs');
const rules = W.generateRules(${R});
const sides = {};
for (const side of ['a', 'b']) {
  globalThis.PQLKIT_MODULE_URL = '/' + side + '/pqlkit.min.js';
  const { engines } = await import('/peer/engines/pqlkit.mjs?' + side);
  sides[side] = engines.find((e) => e.name === ${JSON.stringify(engine)});
  await sides[side].init();
}
globalThis.round = async (side) => {
  const ev = W.generateEvents(W.DEFAULT_SEED, ${N});
  const ctx = W.initialContext(), st = W.newState();
  const inst = await sides[side].build(rules);
  const t0 = performance.now();
  for (let i = 0; i < ${N}; i++) { W.applyEvent(st, ctx, ev, i); inst.evaluate(ctx, ev, i); }
  const ns = ((performance.now() - t0) * 1e6) / ${N};
  inst.pql.destroy();
  return ns;
};
globalThis.ready = true;
</script>`;
const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
const served = { '/a/': buildDir(a), '/b/': buildDir(b), '/peer/': peerbench };
const server = createServer((req, res) => {
  const url = decodeURIComponent(req.url.split('?')[0]);
  if (url === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  const [prefix, dir] = Object.entries(served).find(([p]) => url.startsWith(p)) ?? [];
  const file = dir && normalize(join(dir, url.slice(prefix.length)));
  if (!file || !file.startsWith(dir) || !existsSync(file)) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const tab = await browser.newPage();
  await tab.goto(`http://127.0.0.1:${server.address().port}/`);
  await tab.waitForFunction(() => globalThis.ready, null, { timeout: 60000 });
  const times = { a: [], b: [] };
  // Two warm-up rounds each, then `rounds` timed ones, the order alternating.
  for (let i = 0; i < rounds + 2; i++) {
    for (const side of i % 2 ? ['b', 'a'] : ['a', 'b']) {
      const ns = await tab.evaluate((s) => globalThis.round(s), side);
      if (i >= 2) times[side].push(ns);
    }
  }
  const at = (list, q) => Math.round([...list].sort((x, y) => x - y)[Math.floor(q * (list.length - 1))]);
  console.log(`pqlkit peer-ab: ${engine}, R=${R}, ${N} events, ${rounds} rounds each; ns per event (harness included)`);
  for (const [side, name] of [['a', a], ['b', b]]) {
    console.log(`  ${name.padEnd(12)} min ${at(times[side], 0)}  p25 ${at(times[side], 0.25)}  median ${at(times[side], 0.5)}`);
  }
  const ratio = (q) => (at(times.b, q) / at(times.a, q)).toFixed(3);
  console.log(`  ${b} / ${a}: min ${ratio(0)}  p25 ${ratio(0.25)}  median ${ratio(0.5)}`);
} finally {
  await browser.close();
  server.close();
}
