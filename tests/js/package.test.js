// The published package as a customer installs it: `npm pack`, installed into an empty
// project, imported by name under Node (ESM and CommonJS), and its command line run through npx.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServer } from '../../www/server.js';
import { installPacked, pack, run } from './pack.js';

test('the packed tarball installs, imports by name and runs its command line', () => {
  const { dir, files: packed } = pack();
  for (const needed of ['js/pqlkit.min.js', 'js/index.d.ts', 'js/rules.schema.json', 'js/wasm/pqlkit_bg.wasm', 'js/wasm-authoring/pqlkit_authoring_bg.wasm', 'js/validate.min.js', 'js/validate.d.ts', 'js/formats.min.js', 'js/debug.js', 'js/cli.js', 'js/cli/backtest.js', 'README.md']) {
    assert.ok(packed.includes(needed), `${needed} is in the package`);
  }
  assert.ok(!packed.some((p) => p.startsWith('src/') || p.startsWith('tests/')), 'sources and tests stay out');

  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  installPacked(app);
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
  // `pqlkit/wasm`: the runtime's wasm, for a build script that copies it to a CDN.
  assert.match(run('node', ['-e', "console.log(require.resolve('pqlkit/wasm'))"], app).trim(), /node_modules\/pqlkit\/js\/wasm\/pqlkit_bg\.wasm$/);

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

test('under Node, require() loads the package and a script that tracked exits without destroy(), its beacon delivered', async () => {
  const { dir } = pack();
  const app = join(dir, 'node-app');
  mkdirSync(app);
  // No "type": a CommonJS project, as most Node servers still are.
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'node-app', private: true }));
  installPacked(app);
  const rules = { version: 1, rules: [{ id: 'two-exports', when: { event: 'feature_used', count: 2, within: '7d' }, actions: [{ beacon: 'feature' }] }] };
  // A windowed rule arms a deadline timer (when the count leaves its window); the beacon arms the outbox.
  writeFileSync(
    join(app, 'main.cjs'),
    `const { init } = require('pqlkit');
init({ storage: 'memory', rules: ${JSON.stringify(rules)}, collector: { url: process.argv[2] } }).then((pql) => {
  pql.on('beacon', (b) => console.log('beacon', b.rule));
  pql.featureUsed('export');
  pql.featureUsed('export');
});`,
  );
  const collector = await startServer({ port: 0, dataDir: join(dir, 'collector') });
  try {
    const started = Date.now();
    const { code, stdout, stderr } = await new Promise((resolve) => {
      execFile('node', ['main.cjs', collector.url + '/pql/collect'], { cwd: app, timeout: 20000 }, (error, stdout, stderr) => resolve({ code: error ? (error.code ?? error.signal) : 0, stdout, stderr }));
    });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(code, 0, `node exits by itself (stderr: ${stderr})`);
    assert.ok(seconds < 10, `it exits soon after its batch is sent (${seconds} s), not after the 7-day deadline`);
    assert.equal(stdout.trim(), 'beacon two-exports');
    assert.doesNotMatch(stderr, /Warning/, 'require() of the package prints no warning');
    const { beacons } = await (await fetch(collector.url + '/pql/beacons')).json();
    assert.deepEqual(beacons.map((b) => b.rule), ['two-exports'], 'the queued beacon reached the collector before the process exited');
  } finally {
    await collector.close();
  }
});
