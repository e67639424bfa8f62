// The JSON Schema shipped for editors agrees with pqlkit's own validation on real rule sets.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { evalCondition } from 'pqlkit';
import { validateRules } from './validate.js';

const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020').default;
const schema = JSON.parse(readFileSync(new URL('../../js/rules.schema.json', import.meta.url), 'utf8'));
const check = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

const load = (path) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));

test('the schema is exported by the package', () => {
  const pkg = load('../../package.json');
  assert.equal(pkg.exports['./rules.schema.json'], './js/rules.schema.json');
  assert.ok(typeof evalCondition === 'function');
});

test('the demo rule set is valid for the schema and for pqlkit', async () => {
  const rules = load('../../www/rules/default.json');
  assert.equal(check(rules), true, JSON.stringify(check.errors, null, 1));
  assert.deepEqual(await validateRules(rules), []);
});

test('mistakes a product manager makes are caught by the schema too', async () => {
  const base = load('../../www/rules/default.json');
  const broken = [
    (r) => (r.rules[0].frequency.cooldown = '3 days'),
    (r) => (r.rules[0].colour = 'red'),
    (r) => (r.rules[1].when = { event: 'x' }),
    (r) => (r.prompts[Object.keys(r.prompts)[0]].style = 'popup'),
    (r) => (r.version = 2),
    (r) => (r.rules[0].kind = 'vibes'),
  ];
  for (const breakIt of broken) {
    const rules = structuredClone(base);
    breakIt(rules);
    assert.equal(check(rules), false, `schema accepted ${breakIt}`);
    assert.notDeepEqual(await validateRules(rules), [], `pqlkit accepted ${breakIt}`);
  }
});

test('the schema and the core read durations alike', async () => {
  const { parseDuration } = await import('pqlkit/validate');
  const pattern = new RegExp(schema.$defs.duration.pattern);
  const cases = ['90s', '30m', '24h', '7d', '2w', '999999999w', '1000000000s', '0d', '07d', '1.5h', '-1d', '+1d', '7 d', '7D', '1y', '', 'd', '٣d'];
  for (const text of cases) {
    assert.equal((await parseDuration(text)) !== null, pattern.test(text), `"${text}"`);
  }
  assert.equal(await parseDuration('2w'), 14 * 86400000);
});
