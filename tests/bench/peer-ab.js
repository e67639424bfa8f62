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
//
// `--fresh` measures as peerbench does instead: every round in a new browser context (a new
// renderer: no JIT feedback, no compiled code), which loads only the side it measures. It shows
// what the page's first 20,000 events cost, V8's tier-up included. `--flags "--js-flags=..."`
// passes Chromium switches to both modes, e.g. to see how much of a fresh page is tier-up.
// `--chunks` prints each round's ns per event over every 1000 events as well: how a fresh
// page's cost falls as V8 tiers the code up, and where the workload makes it compile again.
// `--profile` records a CPU profile of each timed loop (over CDP, which slows it; the events'
// generation and init are left out) and prints each side's self time by part of the page
// (pqlkit's JS and wasm, peerbench's adapter and workload, V8) and by function; a build whose
// wasm keeps its names shows them.
// The builds are ab.js's (tests/bench/builds.js). Skipped, with a message, where ../shared is absent.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { root } from '../../.ci/tools.js';
import { buildDir, flag, option } from './builds.js';

const argv = process.argv.slice(2);
const R = Number(option(argv, '--R', 100));
const rounds = Number(option(argv, '--rounds', 10));
const N = Number(option(argv, '--N', 20000));
const engine = option(argv, '--engine', 'pqlkit-native');
const fresh = flag(argv, '--fresh');
const flags = option(argv, '--flags', '').split(' ').filter(Boolean);
const profile = flag(argv, '--profile');
const chunks = flag(argv, '--chunks');

const peerbench = join(root, '..', 'shared', 'peerbench');
if (!existsSync(join(peerbench, 'engines', 'pqlkit.mjs'))) {
  console.log(`pqlkit peer-ab: skipped, ${peerbench} is absent`);
  process.exit(0);
}
const [a, b] = argv;
if (!a || !b || ![a, b].every((name) => existsSync(join(buildDir(name), 'pqlkit.min.js')))) {
  console.error('usage: node tests/bench/peer-ab.js NAME NAME [--R n] [--rounds n] [--N n] [--engine name] [--fresh] [--flags "switches"] [--profile] [--chunks]   ("now" is the current build; node tests/bench/ab.js --save NAME keeps one)');
  process.exit(2);
}

// The page imports each build's browser entry through peerbench's own adapter (a second
// import of it, by another URL, is a second module with its own loaded package).
const page = `<!doctype html><meta charset="utf-8"><script type="module">
const W = await import('/peer/peerbench/workload.mjs');
const rules = W.generateRules(${R});
const sides = {};
for (const side of new URLSearchParams(location.search).get('sides').split(',')) {
  globalThis.PQLKIT_MODULE_URL = '/' + side + '/pqlkit.min.js';
  const { engines } = await import('/peer/engines/pqlkit.mjs?' + side);
  sides[side] = engines.find((e) => e.name === ${JSON.stringify(engine)});
  await sides[side].init();
}
// A round in two calls, so that a profile covers the timed loop alone: prepare() makes the
// events and builds the engine (init), round() runs the loop.
let ev, ctx, st, inst, buildMs;
globalThis.prepare = async (side) => {
  ev = W.generateEvents(W.DEFAULT_SEED, ${N});
  ctx = W.initialContext();
  st = W.newState();
  const b0 = performance.now();
  inst = await sides[side].build(rules);
  buildMs = performance.now() - b0;
};
globalThis.round = () => {
  const t0 = performance.now();
  const chunks = [];
  let c0 = t0;
  for (let i = 0; i < ${N}; i++) {
    W.applyEvent(st, ctx, ev, i);
    inst.evaluate(ctx, ev, i);
    if (${chunks} && i % 1000 === 999) {
      const c = performance.now();
      chunks.push(Math.round((c - c0) * 1e3));
      c0 = c;
    }
  }
  const ns = ((performance.now() - t0) * 1e6) / ${N};
  inst.pql.destroy();
  return { ns, buildMs, chunks };
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
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', ...flags] });
/** A page of a new browser context that has loaded `sides`. */
async function open(sides) {
  const context = await browser.newContext();
  const tab = await context.newPage();
  await tab.goto(`http://127.0.0.1:${server.address().port}/?sides=${sides}`);
  await tab.waitForFunction(() => globalThis.ready, null, { timeout: 60000 });
  return { tab, close: () => context.close() };
}
/**
 * The part of the page a profiled function belongs to: pqlkit's JS or wasm, peerbench's adapter
 * of pqlkit or its workload, the wrappers of calls into the wasm, or V8's own entries
 * ((program): the engine's native code, such as compiles and runtime calls on the main thread).
 */
function partOf({ url, functionName }) {
  if (url.endsWith('.wasm')) return 'pqlkit wasm';
  if (/\/(a|b)\//.test(new URL(url || 'x:/', 'http://x').pathname)) return 'pqlkit JS';
  if (url.includes('/peer/engines/')) return 'peerbench adapter (engines/pqlkit.mjs)';
  if (url.includes('/peer/')) return 'peerbench workload';
  if (url) return 'the bench page';
  if (functionName.startsWith('js-to-wasm')) return 'JS-to-wasm wrappers';
  return functionName.startsWith('(') ? functionName : '(V8 builtins)';
}
/** Adds a CPU profile's self time (µs) per function to `into.functions` and per part to `into.parts`. */
function addSelfTimes(into, { nodes, samples, timeDeltas }) {
  const byId = new Map(nodes.map((node) => [node.id, node.callFrame]));
  samples.forEach((id, k) => {
    const frame = byId.get(id);
    const { functionName, url, lineNumber } = frame;
    const name = functionName || (url ? `${url.split('/').pop()}:${lineNumber + 1}` : '(anonymous)');
    const us = timeDeltas[k] ?? 0;
    into.functions.set(name, (into.functions.get(name) ?? 0) + us);
    const part = partOf(frame);
    into.parts.set(part, (into.parts.get(part) ?? 0) + us);
  });
}
const selfTimes = { a: { functions: new Map(), parts: new Map() }, b: { functions: new Map(), parts: new Map() } };
try {
  const times = { a: [], b: [] };
  const builds = { a: [], b: [] };
  const warm = fresh ? null : await open('a,b');
  // Warm: two warm-up rounds each in one page, then `rounds` timed ones. Fresh: `rounds` new
  // pages each. The order alternates.
  for (let i = 0; i < rounds + (fresh ? 0 : 2); i++) {
    for (const side of i % 2 ? ['b', 'a'] : ['a', 'b']) {
      const { tab, close } = warm ?? (await open(side));
      const timed = fresh || i >= 2;
      await tab.evaluate((s) => globalThis.prepare(s), side);
      const cdp = profile && timed ? await tab.context().newCDPSession(tab) : null;
      if (cdp) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
        await cdp.send('Profiler.start');
      }
      const { ns, buildMs, chunks: perChunk } = await tab.evaluate(() => globalThis.round());
      if (chunks && timed) console.log(`  ${(side === 'a' ? a : b).padEnd(12)} ${Math.round(ns)} ns/event; ns/event of each 1000 events: ${perChunk.join(' ')}`);
      if (cdp) {
        addSelfTimes(selfTimes[side], (await cdp.send('Profiler.stop')).profile);
        await cdp.detach();
      }
      if (!warm) await close();
      if (timed) {
        times[side].push(ns);
        builds[side].push(buildMs);
      }
    }
  }
  const quantile = (list, q) => [...list].sort((x, y) => x - y)[Math.floor(q * (list.length - 1))];
  const at = (list, q) => Math.round(quantile(list, q));
  const how = fresh ? 'a fresh page per round' : 'one page';
  console.log(`pqlkit peer-ab: ${engine}, R=${R}, ${N} events, ${rounds} rounds each, ${how}${flags.length ? ', ' + flags.join(' ') : ''}; ns per event (harness included)`);
  for (const [side, name] of [['a', a], ['b', b]]) {
    const ms = (q) => quantile(builds[side], q).toFixed(1);
    console.log(`  ${name.padEnd(12)} min ${at(times[side], 0)}  p25 ${at(times[side], 0.25)}  median ${at(times[side], 0.5)}   build (init) ms min ${ms(0)}  median ${ms(0.5)}`);
  }
  const ratio = (q) => (at(times.b, q) / at(times.a, q)).toFixed(3);
  console.log(`  ${b} / ${a}: min ${ratio(0)}  p25 ${ratio(0.25)}  median ${ratio(0.5)}`);
  for (const [side, name] of profile ? [['a', a], ['b', b]] : []) {
    const { functions, parts } = selfTimes[side];
    const total = [...parts.values()].reduce((x, y) => x + y, 0);
    const share = (us) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
    console.log(`  ${name}: self time of the profiled loops, ${(total / 1000).toFixed(0)} ms in all; by part:`);
    for (const [part, us] of [...parts].sort((x, y) => y[1] - x[1])) console.log(`    ${share(us)}  ${part}`);
    console.log('  by function:');
    for (const [fn, us] of [...functions].sort((x, y) => y[1] - x[1]).slice(0, 25)) console.log(`    ${share(us)}  ${fn}`);
  }
} finally {
  await browser.close();
  server.close();
}
