// score() on the built package under Node: PRODUCT.md §3's shape as plain data, and a score object
// that keeps the state of the moment it was read (what a cached or lazily built score must keep).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { init } from 'pqlkit';

const rules = {
  version: 1,
  rules: [
    { id: 'pro', when: { traits: { plan: 'pro' } }, score: 30 },
    { id: 'exports', when: { event: 'feature_used', where: { feature: 'export' }, count: { $gte: 2 }, within: '7d' }, score: 25 },
    { id: 'admin', audience: { role: { $regex: '^adm' } }, when: { traits: { title: { $regex: 'Head of' } } }, score: 10 },
  ],
  scoring: { threshold: 50, tiers: { warm: 20, hot: 50 } },
};

const start = () => {
  const c = { t: Date.UTC(2026, 11, 1, 9) };
  return init({ rules, storage: 'memory', now: () => c.t });
};

test('score() has the documented shape, as plain data', async () => {
  const pql = await start();
  const empty = {
    score: 0,
    tier: null,
    qualified: false,
    rules: [
      { id: 'pro', matched: false, score: 0 },
      { id: 'exports', matched: false, score: 0 },
      { id: 'admin', matched: false, score: 0 },
    ],
  };
  assert.deepEqual(pql.score(), empty);
  pql.identify('u1', { plan: 'pro', role: 'admin', title: 'Head of IT' });
  pql.featureUsed('export');
  pql.featureUsed('export');
  const s = pql.score();
  assert.deepEqual(Object.keys(s), ['score', 'tier', 'qualified', 'rules']);
  assert.deepEqual(JSON.parse(JSON.stringify(s)), {
    score: 65,
    tier: 'hot',
    qualified: true,
    rules: [
      { id: 'pro', matched: true, score: 30 },
      { id: 'exports', matched: true, score: 25 },
      { id: 'admin', matched: true, score: 10 },
    ],
  });
  assert.deepEqual({ ...s }, JSON.parse(JSON.stringify(s)), 'spread reads the same rules');
  pql.destroy();
});

test('a score keeps the rules of the moment it was read, and the app may change its copy', async () => {
  const pql = await start();
  pql.identify(null, { plan: 'pro' });
  pql.featureUsed('x');
  const before = pql.score();
  pql.identify(null, { plan: 'free', role: 'admin', title: 'Head of Sales' });
  const after = pql.score();
  assert.deepEqual(
    before.rules.map((r) => r.matched),
    [true, false, false],
    'read after the change, still the earlier state',
  );
  assert.deepEqual(after.rules.map((r) => r.matched), [false, false, true]);
  assert.equal(after.score, 10);
  assert.equal(after.tier, null);
  assert.equal(before.rules, before.rules, 'built once per score object');
  before.rules.push({ id: 'mine' });
  after.rules = [];
  after.score = 99;
  assert.equal(pql.score().rules.length, 3, "the app's changes stay in its copy");
  assert.equal(pql.score().score, 10);
  pql.destroy();
});

test('fractional scores reach the page as JavaScript writes them (the page writes the digits)', async () => {
  const tiny = {
    version: 1,
    rules: ['0.1', '0.2', '1e-7'].map((score) => ({ id: score, when: { traits: { plan: 'pro' } }, score: Number(score) })),
  };
  const pql = await init({ rules: tiny, storage: 'memory', now: () => Date.UTC(2026, 11, 1) });
  const seen = [];
  pql.on('qualified', (e) => seen.push(e.score));
  pql.identify(null, { plan: 'pro' });
  const total = 0.1 + 0.2 + 1e-7;
  assert.deepEqual(seen, [total, total, total], 'each firing carries the settled score, digit for digit');
  assert.equal(pql.score().score, total);
  pql.destroy();
});

test("the first score() of a large rule set reads the score before rules() grows the wasm's memory", async () => {
  // 1,500 rules with long ids: rules() answers about 1.5 MB of JSON at the first score(), which
  // grows the memory and leaves any view of it taken before empty.
  const many = {
    version: 1,
    rules: Array.from({ length: 1500 }, (_, i) => ({ id: `rule-${i}-${'x'.repeat(1000)}`, when: { traits: { plan: 'pro' } }, score: 1 })),
  };
  const pql = await init({ rules: many, storage: 'memory', now: () => Date.UTC(2026, 11, 1) });
  const first = pql.score();
  assert.equal(first.score, 0);
  assert.equal(first.qualified, false);
  assert.equal(first.rules.length, 1500);
  pql.identify(null, { plan: 'pro' });
  assert.equal(pql.score().score, 1500);
  assert.equal(pql.score().qualified, true);
  pql.destroy();
});

test('numbers are read as JavaScript reads them: every digit, and strings coerced as Number(text)', async () => {
  // Past 15 significant digits and at the ends of the range, where only a correctly rounded
  // reading gives back the number the app wrote.
  const hard = [0.30000000000000004, 123456789.12345679, 2.2250738585072014e-308, 5e-324, 1.7976931348623157e308, 9007199254740993, 1e21, -0.1];
  const set = {
    version: 1,
    rules: [
      ...hard.map((score, i) => ({ id: `n${i}`, when: { traits: { plan: 'pro' } }, score })),
      // GrowthBook compares a string with a number as JavaScript does: Number(" 0x1F ") is 31.
      { id: 'seats', when: { traits: { seats: { $gt: 30, $lt: 32 } } }, score: 0 },
    ],
  };
  const pql = await init({ rules: set, storage: 'memory', now: () => Date.UTC(2026, 11, 1) });
  pql.identify(null, { plan: 'pro', seats: ' 0x1F\n' });
  const { rules } = pql.score();
  assert.deepEqual(rules.slice(0, hard.length).map((r) => r.score), hard);
  assert.equal(rules[hard.length].matched, true, 'the string " 0x1F\\n" reads as 31');
  pql.identify(null, { seats: '31px' });
  assert.equal(pql.score().rules[hard.length].matched, false, '"31px" is NaN, as Number() reads it');
  pql.destroy();
});

test('firings are written for the page only while it listens; score, qualified and beacons do not depend on it', async () => {
  const set = {
    version: 1,
    rules: [
      { id: 'pro', when: { traits: { plan: 'pro' } }, score: 30, actions: [{ beacon: 'intent' }] },
      { id: 'seats', when: { traits: { seats: { $gt: 3 } } }, score: 40 },
      { id: 'admin', when: { traits: { role: 'admin' } }, score: 5 },
    ],
  };
  const pql = await init({ rules: set, storage: 'memory', now: () => Date.UTC(2026, 11, 1) });
  const beacons = [];
  pql.on('beacon', (b) => beacons.push(b));
  // Nobody listens to firings: the beacon still carries the values of its rule's signals,
  // and a firing still qualifies the user (no threshold: each rule defines a PQL).
  pql.identify(null, { plan: 'pro' });
  assert.deepEqual(beacons.map((b) => [b.type, b.rule, b.signals]), [['intent', 'pro', { when: { plan: 'pro' } }]]);
  assert.equal(pql.score().qualified, true);
  assert.equal(pql.score().score, 30);
  const heard = [];
  const off = pql.on('qualified', (e) => heard.push(e.rule));
  pql.identify(null, { seats: 5 });
  assert.deepEqual(heard, ['seats'], 'a listener added later hears the next firing');
  off();
  const fired = [];
  pql.on('rule:fired', (e) => fired.push([e.rule, e.score]));
  pql.identify(null, { role: 'admin' });
  assert.deepEqual(heard, ['seats'], 'an unsubscribed listener hears nothing');
  assert.deepEqual(fired, [['admin', 75]], 'rule:fired alone is heard too, with the settled score');
  pql.destroy();
});
