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
