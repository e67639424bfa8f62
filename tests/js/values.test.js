// How an event's properties and traits cross into the wasm (src/web/host.js writeValue, read by
// src/web/value.rs): what JSON.stringify would make of them, whatever the app passes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { init } from 'pqlkit';
import { copyValue, writeJson, writeObject, writeValue } from '../../js/wasm/host.js';

/** The bytes writeValue wrote for `value`, copied out as the core copies them into the wasm. */
const bytesOf = (value) => {
  const length = writeValue(value);
  const bytes = new Uint8Array(length);
  copyValue(bytes, 0, length);
  return Array.from(bytes);
};

test('a value is written as its JSON round trip is: toJSON, undefined, non-finite numbers, boxes, -0', () => {
  class Point {
    constructor() {
      this.x = 1;
      this.y = undefined;
    }
  }
  const values = [
    { plan: 'free', seats: 3, ok: true, none: null, list: [1, 'two', { three: 3 }] },
    { when: new Date(Date.UTC(2026, 11, 2, 9, 30)) },
    { skipped: undefined, fn() {}, [Symbol('s')]: 1, kept: 'yes' },
    { holes: [1, undefined, () => 2, Symbol('x')] },
    { nan: NaN, inf: -Infinity, zero: -0 },
    { boxed: [new String('s'), new Number(4), new Boolean(false)] },
    { point: new Point(), nested: { toJSON: (key) => `key:${key}` } },
    { text: 'Zoë 😀 日本語', lone: '\ud800', empty: '', long: 'x'.repeat(300) },
    { '2': 'integer keys first', b: 1, '1': 'as JSON.stringify orders them' },
    Object.assign(Object.create(null), { bare: 'no prototype' }),
  ];
  for (const value of values) {
    assert.deepEqual(bytesOf(value), bytesOf(JSON.parse(JSON.stringify(value))), JSON.stringify(value));
  }
});

test('a value larger than the scratch keeps is written whole, and the next one too', () => {
  const big = { text: 'x'.repeat(100_000), list: Array.from({ length: 5000 }, (_, i) => i) };
  const first = bytesOf(big);
  assert.equal(first.length, 1 + 4 + (4 + 4) + 1 + 4 + 100_000 + (4 + 4) + 1 + 4 + 5000 * 9);
  assert.deepEqual(bytesOf(big), first, 'the same bytes after the scratch was let go');
  assert.deepEqual(bytesOf({ a: 1 }), bytesOf(JSON.parse('{"a":1}')));
});

test('what JSON.stringify refuses is refused, and deep nesting stops at 128 levels', () => {
  const cycle = { a: 1 };
  cycle.self = cycle;
  assert.throws(() => writeValue(cycle), TypeError);
  assert.throws(() => writeValue({ big: 10n }), TypeError);
  assert.throws(() => writeValue({ bad: { toJSON() { throw new Error('no'); } } }), /no/);
  let deep = {};
  for (let i = 0; i < 127; i++) deep = { d: deep };
  assert.ok(writeValue(deep) > 0, '128 levels are written');
  assert.throws(() => writeValue({ d: deep }), RangeError, '129 are not');
  assert.equal(writeJson('{"a":'), -1, 'not JSON');
  assert.equal(writeJson('['.repeat(129) + ']'.repeat(129)), -1, 'nested too deeply');
  assert.equal(writeObject({ toJSON: () => 'text' }), -1, 'no object once written');
  assert.equal(writeObject([1]), -1, 'an array is no object');
});

test('properties arrive in rules and prompts as JSON.stringify wrote them', async () => {
  const clock = { t: Date.UTC(2026, 11, 2, 9) };
  const pql = await init({
    rules: {
      version: 1,
      rules: [
        {
          id: 'export',
          trigger: { event: 'exported', where: { at: '2026-12-02T09:30:00.000Z', 'meta.kind': 'csv', skipped: { $exists: false } } },
          score: 10,
          actions: [{ prompt: 'p' }],
        },
        { id: 'trait', when: { traits: { since: '2026-01-01T00:00:00.000Z', 'tags.1': 'b' } }, score: 5 },
      ],
      prompts: { p: { style: 'toast', title: 'At {{event.at}} ({{event.meta.kind}}, {{event.rows}})' } },
    },
    storage: 'memory',
    ui: 'none',
    now: () => clock.t,
  });
  const prompts = [];
  const errors = [];
  pql.on('prompt', (p) => prompts.push(p.title));
  pql.on('error', (e) => errors.push(e.code));
  pql.identify('u1', { since: new Date(Date.UTC(2026, 0, 1)), tags: ['a', 'b'] });
  assert.equal(pql.score().score, 5, 'a Date trait is its ISO string');
  pql.track('exported', { at: new Date(Date.UTC(2026, 11, 2, 9, 30)), meta: { kind: 'csv', toJSON: undefined }, skipped: undefined, rows: NaN });
  assert.deepEqual(prompts, ['At 2026-12-02T09:30:00.000Z (csv, )'], 'NaN is null, which a template renders empty');
  assert.deepEqual(errors, []);
  pql.destroy();
});
