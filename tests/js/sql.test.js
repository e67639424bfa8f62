// `pqlkit sql` and `pqlkit backtest --engine duckdb`, run as a data team would run them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openHistory } from '../../js/cli/duckdb.js';
import { readConversions } from '../../js/cli/input.js';

const cli = fileURLToPath(new URL('../../js/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pqlkit-sql-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (...args) => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: dir, maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const sim = (name) => join(dir, 'sim', name);

before(() => {
  const r = run('simulate', '--users', '1500', '--days', '45', '--seed', '11', '--out', 'sim');
  assert.equal(r.code, 0, r.err);
});

test('sql prints one statement per dialect, with table names as parameters; refusals exit 1 with their path', () => {
  for (const dialect of ['duckdb', 'spark', 'bigquery', 'snowflake']) {
    const r = run('sql', '--rules', sim('rules.json'), '--dialect', dialect, '--events-table', "{{ ref('pql_events') }}", '--as-of', '2025-03-01');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^-- pqlkit [\\d.]+ · dialect ${dialect}\\n-- r1 = integration-connected`));
    assert.ok(r.out.includes("FROM {{ ref('pql_events') }} e") && r.out.includes('FROM pqlkit_conversions'));
    assert.ok(r.out.includes(String(Date.UTC(2025, 2, 1))), '--as-of in ms');
  }
  assert.equal(run('sql', '--rules', sim('rules.json'), '--dialect', 'oracle').code, 2);
  const bad = join(dir, 'regex.json');
  spawnSync('sh', ['-c', `echo '{"version":1,"rules":[{"id":"a","when":{"event":"x","where":{"p":{"$regex":"a"}},"count":1}}]}' > ${bad}`]);
  const refused = run('sql', '--rules', bad, '--dialect', 'duckdb');
  assert.equal(refused.code, 1);
  assert.match(refused.err, /rules\[0\]\.when\.where\.p\.\$regex\s+sql_unsupported\s+\$regex has no SQL translation/);
});

test('backtest --engine duckdb on Parquet prints the report of the wasm replay on NDJSON, figure for figure', async () => {
  const parquet = join(dir, 'events.parquet');
  const { connection } = await openHistory(sim('events.ndjson'), readConversions(sim('conversions.csv')));
  await connection.run(`COPY (SELECT * FROM pqlkit_events) TO '${parquet}' (FORMAT parquet)`);
  connection.closeSync();
  const args = ['--rules', sim('rules.json'), '--conversions', sim('conversions.csv')];
  const wasm = run('backtest', ...args, '--events', sim('events.ndjson'));
  const duck = run('backtest', ...args, '--events', parquet, '--engine', 'duckdb');
  assert.equal(wasm.code, 0, wasm.err);
  assert.equal(duck.code, 0, duck.err);
  const report = (text) => text.slice(0, text.lastIndexOf('throughput:'));
  assert.ok(report(wasm.out).includes('USERS') && report(wasm.out).includes('THRESHOLD SWEEP'));
  assert.equal(report(duck.out), report(wasm.out));
  assert.match(duck.out, /throughput: [\d,]+ events in [\d.]+ s/);
  // NDJSON and a glob of it through DuckDB give the same report too.
  const glob = run('backtest', ...args, '--events', join(dir, 'sim', 'events.nd*'), '--engine', 'duckdb');
  assert.equal(report(glob.out), report(wasm.out));
  assert.equal(run('backtest', ...args, '--events', join(dir, 'none-*.parquet'), '--engine', 'duckdb').code, 2);
  assert.equal(run('backtest', ...args, '--events', parquet, '--engine', 'spark').code, 2);
});
