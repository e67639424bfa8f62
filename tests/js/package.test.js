// The published package as a customer installs it: `npm pack`, installed into an empty
// project, imported by name under Node, and its command line run through npx.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('the packed tarball installs, imports by name and runs its command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pqlkit-pack-'));
  const [{ filename, files }] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], root));
  const packed = files.map((f) => f.path);
  for (const needed of ['js/pqlkit.min.js', 'js/index.d.ts', 'js/rules.schema.json', 'js/wasm/pqlkit_bg.wasm', 'js/wasm-authoring/pqlkit_authoring_bg.wasm', 'js/validate.min.js', 'js/validate.d.ts', 'js/debug.js', 'js/cli.js', 'js/cli/backtest.js', 'README.md']) {
    assert.ok(packed.includes(needed), `${needed} is in the package`);
  }
  assert.ok(!packed.some((p) => p.startsWith('src/') || p.startsWith('tests/')), 'sources and tests stay out');

  const app = join(dir, 'app');
  run('mkdir', ['-p', app], dir);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--offline', join(dir, filename)], app);
  writeFileSync(
    join(app, 'main.js'),
    `import { init } from 'pqlkit';
const pql = await init({ storage: 'memory', rules: { version: 1, rules: [{ id: 'r', when: { event: 'feature_used', count: 2 } }] } });
const fired = [];
pql.on('qualified', (e) => fired.push(e.rule));
pql.featureUsed('export');
pql.featureUsed('export');
console.log(JSON.stringify(fired));`,
  );
  assert.equal(run('node', ['main.js'], app).trim(), '["r"]');

  // A refused rule set: the runtime names code and path, the validator (loaded lazily) the words.
  writeFileSync(
    join(app, 'invalid.js'),
    `import { init } from 'pqlkit';
import { validate } from 'pqlkit/validate';
const rules = { version: 1, rules: [{ id: 'r', when: { event: 'x', count: 1, within: '7 days' } }] };
const report = await validate(rules);
const refused = await init({ storage: 'memory', rules }).catch((e) => e);
console.log(JSON.stringify({ valid: report.valid, code: refused.code, path: refused.path, same: JSON.stringify(refused.errors) === JSON.stringify(report.errors), message: refused.errors[0].message }));`,
  );
  const invalid = JSON.parse(run('node', ['invalid.js'], app));
  assert.deepEqual({ ...invalid, message: undefined }, { valid: false, code: 'invalid_duration', path: 'rules[0].when.within', same: true, message: undefined });
  assert.match(invalid.message, /7 days/, 'the message quotes the bad duration');

  writeFileSync(join(app, 'rules.json'), JSON.stringify({ version: 1, rules: [{ id: 'r', when: { event: 'x', count: 1, within: '7 days' } }] }));
  let failed = null;
  try {
    run('npx', ['--no-install', 'pqlkit', 'validate', 'rules.json'], app);
  } catch (error) {
    failed = error;
  }
  assert.equal(failed?.status, 1, 'an invalid rule set exits 1');
  assert.match(failed.stdout, /rules\[0\]\.when\.within/);
});
