// Issue 13 under Node, on the built package: bad arguments are `invalid_argument` events and
// change nothing; beacon ids are seeded with 128 bits of crypto.getRandomValues; a trap of the
// wasm heals (a fresh instance, the last saved state), and repeated traps disable the SDK and
// release its timers.
//
// Traps are real: `WebAssembly.Instance` is wrapped (here, in the test, not in pqlkit) so that an
// armed export first calls the same instance's `core_input(0xfffffff0)`, whose 4 GB allocation
// fails and aborts (`unreachable`). pqlkit has no test-only hook.
import assert from 'node:assert/strict';
import { after, afterEach, test } from 'node:test';
import { init } from 'pqlkit';

const RealInstance = WebAssembly.Instance;
const armed = new Map(); // export name -> traps still to force
let instances = 0;
WebAssembly.Instance = function Instance(module, imports) {
  const real = new RealInstance(module, imports).exports;
  instances += 1;
  const exports = { ...real };
  for (const [name, f] of Object.entries(real)) {
    if (typeof f !== 'function') continue;
    exports[name] = (...args) => {
      if (armed.get(name) > 0) {
        armed.set(name, armed.get(name) - 1);
        real.core_input(0xfffffff0);
      }
      return f(...args);
    };
  }
  return { exports };
};
after(() => {
  WebAssembly.Instance = RealInstance;
});

const live = [];
afterEach(() => {
  armed.clear();
  for (const pql of live.splice(0)) pql.destroy();
});

const RULES = {
  version: 1,
  rules: [{ id: 'exports', when: { event: 'feature_used', where: { feature: 'export' }, count: 3 }, score: 10, actions: [{ beacon: 'feature' }] }],
};

async function start(options = {}) {
  const pql = await init({ rules: RULES, storage: 'memory', ...options });
  live.push(pql);
  const events = [];
  for (const name of ['qualified', 'beacon', 'error', 'prompt']) pql.on(name, (e) => events.push({ name, code: e?.code, message: e?.message, rule: e?.rule, id: e?.id }));
  return { pql, events };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('each bad argument is one invalid_argument error, the call is ignored and the SDK goes on', async () => {
  const clock = { t: Date.UTC(2026, 10, 2, 9) };
  const { pql, events } = await start({ now: () => clock.t });
  pql.featureUsed('export');
  const score = JSON.stringify(pql.score());
  const explained = JSON.stringify(pql.explain('exports'));
  const throwing = {
    toJSON() {
      throw new Error('no JSON');
    },
  };
  const bad = [
    ['featureUsed(42)', () => pql.featureUsed(42)],
    ['featureUsed(fn)', () => pql.featureUsed(() => 'export')],
    ['featureUsed(symbol)', () => pql.featureUsed(Symbol('export'))],
    ['featureUsed(x, "str")', () => pql.featureUsed('export', 'str')],
    ['identify(5)', () => pql.identify(5)],
    ['identify(symbol)', () => pql.identify(Symbol('u'))],
    ['identify(u, bigint)', () => pql.identify('u1', { big: 10n })],
    ['group(5n)', () => pql.group(5n)],
    ['group(a, fn)', () => pql.group('acme', () => {})],
    ["track('x', 'str')", () => pql.track('x', 'str')],
    ["track('x', fn)", () => pql.track('feature_used', () => ({ feature: 'export' }))],
    ["track('x', symbol)", () => pql.track('x', Symbol('p'))],
    ["track('x', 5n)", () => pql.track('x', 5n)],
    ["track('x', [])", () => pql.track('x', ['export'])],
    ['track(x, toJSON throws)', () => pql.track('x', throwing)],
    ['track(x, toJSON -> string)', () => pql.track('x', { toJSON: () => 'str' })],
    ['limitHit(42)', () => pql.limitHit(42, { used: 5, limit: 5 })],
    ['limitHit(p, 5)', () => pql.limitHit('projects', 5)],
    ['usage(p, NaN, 5)', () => pql.usage('seats', NaN, 5)],
    ['usage(p, 1, Infinity)', () => pql.usage('seats', 1, Infinity)],
    ['page(42)', () => pql.page(42)],
    ['explain(42)', () => assert.equal(pql.explain(42), null)],
    ['setConsent(yes)', () => pql.setConsent('yes')],
    ["on('qualified', 42)", () => pql.on('qualified', 42)],
    ['promptOutcome(null)', () => pql.promptOutcome(null, 'shown')],
    ['now() -> NaN', () => ((clock.t = NaN), pql.featureUsed('export'), (clock.t = Date.UTC(2026, 10, 2, 9)))],
    [
      'now() throws',
      () => {
        clock.t = undefined;
        pql.featureUsed('export');
        clock.t = Date.UTC(2026, 10, 2, 9);
      },
    ],
  ];
  for (const [label, call] of bad) {
    events.length = 0;
    assert.doesNotThrow(call, label);
    assert.equal(events.length, 1, `${label}: one event (${JSON.stringify(events)})`);
    assert.equal(events[0].name, 'error', label);
    assert.equal(events[0].code, 'invalid_argument', `${label}: ${events[0].message}`);
    assert.match(events[0].message, /^\w+\(/, `${label}: the message names the method (${events[0].message})`);
  }
  assert.equal(JSON.stringify(pql.score()), score, 'the score did not change');
  assert.equal(JSON.stringify(pql.explain('exports')), explained, 'the rule saw none of the bad calls');
  events.length = 0;
  pql.featureUsed('export');
  pql.featureUsed('export');
  assert.deepEqual(
    events.map((e) => e.name),
    ['qualified', 'beacon'],
    'the valid rule still fires',
  );
});

test('beacon ids come from 128 bits of crypto.getRandomValues, every bit of them', async () => {
  const real = crypto.getRandomValues;
  const realRandom = Math.random;
  const asked = [];
  let last = 0;
  // Two seeds that differ only in their last 32-bit word; Math.random is constant.
  crypto.getRandomValues = (array) => {
    asked.push(array.byteLength);
    array.fill(7);
    if (array.length === 4) array[3] = ++last;
    return array;
  };
  Math.random = () => 0.5;
  try {
    const ids = [];
    for (let i = 0; i < 2; i++) {
      const { pql, events } = await start();
      for (let j = 0; j < 3; j++) pql.featureUsed('export');
      ids.push(events.find((e) => e.name === 'beacon').id);
    }
    assert.ok(asked.includes(16), `16 bytes asked of crypto.getRandomValues (${asked})`);
    for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
    assert.notEqual(ids[0], ids[1], 'the seed bits 96-127 reach the ids');
  } finally {
    crypto.getRandomValues = real;
    Math.random = realRandom;
  }
});

test('a trap heals: a fresh instance restores the last saved state, internal_fault says what was lost', async () => {
  const { pql, events } = await start();
  pql.featureUsed('export');
  pql.featureUsed('export');
  await sleep(1100); // the state is saved (at most once a second)
  const before = instances;
  armed.set('core_track', 1);
  assert.doesNotThrow(() => pql.featureUsed('export')); // traps: this call is lost
  assert.equal(instances, before + 1, 'a fresh instance');
  const fault = events.find((e) => e.name === 'error');
  assert.equal(fault?.code, 'internal_fault');
  assert.match(fault.message, /restarted from the saved state/);
  assert.match(fault.message, /the call that faulted and 0 calls since the last save/);
  assert.equal(pql.explain('exports').when.actual, 2, 'the two saved events were restored');
  pql.featureUsed('export');
  assert.ok(
    events.some((e) => e.name === 'qualified' && e.rule === 'exports'),
    'the rule fires after the heal',
  );
});

test('when restoring traps too, the core restarts empty', async () => {
  const { pql, events } = await start();
  pql.featureUsed('export');
  await sleep(1100);
  armed.set('core_track', 1);
  armed.set('core_load_state', 1);
  pql.featureUsed('export');
  const fault = events.find((e) => e.name === 'error');
  assert.equal(fault?.code, 'internal_fault');
  assert.match(fault.message, /restarted empty/);
  assert.equal(pql.explain('exports').when.actual, 0);
  for (let i = 0; i < 3; i++) pql.featureUsed('export');
  assert.ok(events.some((e) => e.name === 'qualified'), 'the rule fires from a fresh start');
});

test('3 traps within a minute disable the SDK and release its timers; nothing throws', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const idle = timers();
  // A collector that refuses: the outbox keeps a retry timer.
  const { pql, events } = await start({ collector: { url: 'http://127.0.0.1:9/collect' } });
  for (let i = 0; i < 3; i++) pql.featureUsed('export');
  await sleep(50);
  assert.ok(timers() > idle, 'the outbox and the save have timers');
  armed.set('core_track', 3);
  for (let i = 0; i < 3; i++) pql.featureUsed('export');
  const faults = events.filter((e) => e.name === 'error' && e.code === 'internal_fault');
  assert.equal(faults.length, 3);
  assert.match(faults[2].message, /3 times within a minute: pqlkit is disabled/);
  assert.equal(timers(), idle, 'no timer of pqlkit is left');
  assert.doesNotThrow(() => {
    pql.featureUsed('export');
    pql.score();
    pql.explain('exports');
    pql.flush();
  });
});

test('any JavaScript string crosses into the core as UTF-8, lone surrogates as U+FFFD', async () => {
  // The core reads what the facade writes without checking it again (src/web/mod.rs `text`):
  // ASCII byte by byte, the rest through TextEncoder, which has no other output than UTF-8.
  const rules = {
    version: 1,
    rules: [
      { id: 'odd-name', when: { event: 'x\uFFFD', count: 2 }, score: 5 },
      { id: 'emoji', audience: { name: 'Zoë 😀' }, when: { event: 'é😀', count: 1 }, score: 7 },
    ],
  };
  const pql = await init({ rules, storage: 'memory' });
  live.push(pql);
  const errors = [];
  pql.on('error', (e) => errors.push(e.code));
  pql.track('x\uD800'); // a lone high surrogate
  pql.track('x\uDC00'); // a lone low surrogate: the same U+FFFD
  pql.identify('u-ö', { name: 'Zoë 😀' });
  pql.track('é😀', { note: 'a'.repeat(300) + '\u2028😀' });
  assert.deepEqual(pql.score().rules.map((r) => [r.id, r.matched]), [['odd-name', true], ['emoji', true]]);
  assert.equal(pql.explain('emoji').audience.matched, true);
  assert.deepEqual(errors, []);
});
