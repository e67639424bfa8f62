// Importing the package on a server must never crash, even without a DOM.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('importing pqlkit by its package name in plain Node does not crash', () => {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', "import * as p from 'pqlkit'; console.log(Object.keys(p).sort().join(','))"], { cwd: root, encoding: 'utf8' });
  assert.equal(out.trim(), 'PqlkitError,evalCondition,init');
});
