// The shared condition cases, run against the built package (the same wasm the browser loads).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { evalCondition } from 'pqlkit';

const casesPath = fileURLToPath(new URL('../../../shared/conformance/conditions.json', import.meta.url));

test('conditions.json conformance cases', async (t) => {
  if (!existsSync(casesPath)) {
    console.log(`conformance cases skipped: ${casesPath} not found`);
    t.skip(`conformance cases skipped: ${casesPath} not found`);
    return;
  }
  const { evalCondition: cases } = JSON.parse(readFileSync(casesPath, 'utf8'));
  const failures = [];
  for (const [name, condition, attributes, expected, groups] of cases) {
    const actual = await evalCondition(condition, attributes, groups ?? {});
    if (actual !== expected) failures.push(`${name}: expected ${expected}, got ${actual}`);
  }
  assert.deepEqual(failures, [], `${failures.length} of ${cases.length} cases failed`);
  console.log(`conformance: ${cases.length} condition cases passed`);
});

test("version operators order versions as GrowthBook's paddedVersionString does (the browser's own regular expressions), in evalCondition and in rules", async () => {
  const cases = [
    [{ $veq: '1.2.3' }, 'v1.2.3+build.7', true],
    [{ $vgt: '1.9.0' }, '1.10.0', true],
    [{ $vgt: '1.2.3-rc.1' }, '1.2.3', true],
    [{ $vlt: '1.2.3' }, '1.2.3-rc.1', true],
    [{ $veq: 2.5 }, '2.5.0', false],
    [{ $veq: 2.5 }, '2.5', true],
    [{ $veq: '0' }, '', true],
    // `/\+.*$/` reads one line: only a '+' after the last line break is cut (U+2028, U+2029 too).
    [{ $veq: '1\u20282' }, '1\u20282+build', true],
    [{ $veq: '1' }, '1+a\u20292', false],
    [{ $veq: '1+a\u20292' }, '1+a\u20292', true],
  ];
  for (const [operator, version, expected] of cases) {
    assert.equal(await evalCondition({ app: operator }, { app: version }), expected, `${JSON.stringify(version)} ${JSON.stringify(operator)}`);
  }
  // The runtime build compiles and evaluates them the same way.
  const rules = { version: 1, rules: cases.map(([operator], i) => ({ id: `r${i}`, when: { traits: { app: operator } }, score: 1 })) };
  const { init } = await import('pqlkit');
  for (const [i, [, version, expected]] of cases.entries()) {
    const pql = await init({ rules, storage: 'memory', user: { id: 'u', traits: { app: version } } });
    assert.equal(pql.score().rules[i].matched, expected, `rule r${i} on ${JSON.stringify(version)}`);
    pql.destroy();
  }
});
