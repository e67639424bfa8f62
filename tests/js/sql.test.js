// `pqlkit sql` and `pqlkit backtest --engine duckdb`, run as a data team would run them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { init } from 'pqlkit';
import { duckdbReplay, openHistory } from '../../js/cli/duckdb.js';
import { readConversions } from '../../js/cli/input.js';

const cli = fileURLToPath(new URL('../../js/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pqlkit-sql-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (...args) => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: dir, maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const sim = (name) => join(dir, 'sim', name);
const file = (name, text) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

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
  // A big history runs in passes of users: the same records as one pass.
  const rulesJson = readFileSync(sim('rules.json'), 'utf8');
  const replay = (passes) => duckdbReplay({ rulesJson, rules: JSON.parse(rulesJson), eventsPath: parquet, conversions: readConversions(sim('conversions.csv')), passes });
  const [one, three] = [await replay(1), await replay(3)];
  const byUser = (r) => new Map(r.users.map((u) => [u.userId, u]));
  assert.deepEqual(byUser(three), byUser(one));
  assert.deepEqual([three.events, three.skippedAfterConversion, [...three.excluded].sort()], [one.events, one.skippedAfterConversion, [...one.excluded].sort()]);
  assert.equal(run('backtest', ...args, '--events', parquet, '--engine', 'spark').code, 2);
});

test('account-level signals: evaluated in SQL across the account, refused by the browser with a pointer to pqlkit sql', async () => {
  const rules = {
    version: 1,
    rules: [
      { id: 'team-export', when: { event: 'feature_used', where: { feature: 'export' }, distinctUsers: { $gte: 3 }, within: '14d', across: 'account' }, score: 50 },
      { id: 'team-limits', when: { event: 'limit_hit', count: { $gte: 2 }, within: '7d', across: 'account' }, score: 20 },
      { id: 'solo', when: { event: 'feature_used', count: 1 }, score: 1 },
    ],
    scoring: { threshold: 60 },
  };
  const path = join(dir, 'account.json');
  writeFileSync(path, JSON.stringify(rules));
  const day = 86_400_000;
  const t0 = Date.UTC(2025, 0, 6, 9);
  const line = (userId, t, event, props, accountId = 'acme') => JSON.stringify({ userId, accountId, timestamp: t, event, props });
  const history = [
    line('u1', t0, 'feature_used', { feature: 'export' }),
    line('u1', t0 + 5 * day, 'page_view', { path: '/' }),
    line('u2', t0 + day, 'feature_used', { feature: 'export' }),
    line('u2', t0 + day + 1000, 'limit_hit', { limit: 'projects', used: 5, max: 5 }),
    line('u3', t0 + 2 * day, 'feature_used', { feature: 'export' }),
    line('u3', t0 + 2 * day + 5, 'limit_hit', { limit: 'projects', used: 5, max: 5 }),
    // Another account: its export does not count for acme; 20 days later acme's window is gone.
    line('v1', t0 + day, 'feature_used', { feature: 'export' }, 'globex'),
    line('u4', t0 + 30 * day, 'feature_used', { feature: 'export' }),
  ].join('\n');
  const events = join(dir, 'account.ndjson');
  writeFileSync(events, history + '\n');
  const conversions = join(dir, 'account.csv');
  writeFileSync(conversions, 'userId,convertedAt\n');
  const sql = run('sql', '--rules', path, '--dialect', 'duckdb');
  assert.equal(sql.code, 0, sql.err);
  const { connection } = await openHistory(events, readConversions(conversions));
  const rows = (await connection.runAndReadAll(sql.out)).getRowObjectsJS();
  connection.closeSync();
  const row = (level, id) => rows.find((r) => r.level === level && r.id === id);
  const n = (v) => (v === null ? null : Number(v));
  assert.equal(n(row('user', 'u3').r1_flagged_at), t0 + 2 * day, 'the third distinct user flags at their export');
  assert.deepEqual(JSON.parse(row('user', 'u3').r1_signals), { when: 3 });
  assert.equal(n(row('user', 'u1').r1_flagged_at), t0 + 5 * day, 'an earlier user at their next activity while it holds');
  assert.equal(n(row('user', 'u2').r1_flagged_at), null, 'no activity of u2 while 3 users are in the window');
  assert.equal(n(row('user', 'u4').r1_flagged_at), null, 'outside the 14 days');
  assert.equal(n(row('user', 'v1').r1_flagged_at), null, 'another account');
  assert.equal(n(row('user', 'u3').r2_flagged_at), t0 + 2 * day + 5, 'two limit hits across two users within 7 days');
  assert.equal(n(row('account', 'acme').r1_flagged_at), t0 + 2 * day);
  assert.equal(n(row('account', 'acme').r2_flagged_at), t0 + 2 * day + 5);
  assert.equal(n(row('account', 'acme').score_reached_at), t0 + 2 * day + 5, '50 + 20 ≥ 60');
  assert.equal(n(row('account', 'globex').r1_flagged_at), null);

  // The report shows them at account level, from DuckDB.
  const report = run('backtest', '--rules', path, '--events', events, '--conversions', conversions, '--engine', 'duckdb', '--json');
  assert.equal(report.code, 0, report.err);
  const teamExport = JSON.parse(report.out).rules[0];
  assert.equal(teamExport.id, 'team-export');
  assert.equal(teamExport.user.flagged, 2);
  assert.equal(teamExport.account.flagged, 1);

  // The browser cannot see other users: the rule set is refused, at the signal's `across`.
  const validate = run('validate', path, '--json');
  assert.equal(validate.code, 1);
  const { errors } = JSON.parse(validate.out);
  assert.deepEqual(errors.map((e) => [e.code, e.path]), [
    ['unknown_field', 'rules[0].when.distinctUsers'],
    ['unknown_field', 'rules[0].when.across'],
    ['invalid_signal', 'rules[0].when'],
    ['unknown_field', 'rules[1].when.across'],
  ]);
  assert.match(errors[1].message, /account-level signals .* `pqlkit sql`/);
  await assert.rejects(init({ rules, storage: 'memory' }), (error) => {
    assert.equal(error.code, 'unknown_field');
    assert.deepEqual(error.errors.map((e) => e.path), errors.map((e) => e.path), 'init() refuses at the same paths');
    return true;
  });
  assert.equal(run('backtest', '--rules', path, '--events', events, '--conversions', conversions).code, 1, 'the wasm replay refuses them too');
});

test('the JSON Schema knows account-level signals', async () => {
  const { default: Ajv } = await import('ajv/dist/2020.js');
  const schema = JSON.parse(readFileSync(new URL('../../js/rules.schema.json', import.meta.url), 'utf8'));
  const check = new Ajv({ strict: false }).compile(schema);
  const rules = (when) => ({ version: 1, rules: [{ id: 'a', when }] });
  assert.ok(check(rules({ event: 'feature_used', distinctUsers: 3, within: '14d', across: 'account' })), JSON.stringify(check.errors));
  assert.ok(check(rules({ event: 'limit_hit', count: { $gte: 2 }, within: '7d', across: 'account' })));
  assert.ok(!check(rules({ event: 'x', distinctUsers: 3, across: 'user' })), 'across is "account"');
  assert.ok(!check(rules({ event: 'x', across: 'account' })), 'a measure is needed');
});

test('--format segment and --format posthog: both engines read both exports, as the same history in pqlkit NDJSON', () => {
  const rules = join(dir, 'formats-rules.json');
  writeFileSync(
    rules,
    JSON.stringify({
      version: 1,
      pages: { pricing: '/pricing*' },
      rules: [
        { id: 'pricing-twice', audience: { plan: { $in: ['free', 'trial'] } }, when: { event: 'page_view', where: { page: 'pricing' }, count: 2, within: '7d' }, score: 20 },
        { id: 'exports', when: { event: 'Report Exported', count: { $gte: 2 }, within: '14d' }, score: 30 },
        { id: 'mid-size', when: { traits: { 'account.employees': { $gte: 10 } } }, score: 10 },
      ],
      scoring: { threshold: 50 },
    }),
  );
  const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const conversions = fixture('history-conversions.csv');
  const report = (format, engine) => {
    const r = run('backtest', '--rules', rules, '--events', fixture(`${format}.ndjson`), '--conversions', conversions, '--format', format, '--engine', engine, '--json');
    assert.equal(r.code, 0, `${format} ${engine}: ${r.err}`);
    const { throughput, ...rest } = JSON.parse(r.out);
    return rest;
  };
  const reference = report('pqlkit', 'wasm');
  assert.deepEqual(reference.rules.map((r) => [r.id, r.user.flagged]), [['pricing-twice', 2], ['exports', 1], ['mid-size', 2]]);
  assert.equal(reference.data.users, 3);
  assert.equal(reference.data.accounts, 1);
  for (const format of ['pqlkit', 'segment', 'posthog']) {
    for (const engine of ['wasm', 'duckdb']) assert.deepEqual(report(format, engine), reference, `${format} through ${engine}`);
  }
  const broken = file('broken-segment.ndjson', '{"type":"track","userId":"u1","event":"x","timestamp":"2025-01-06"}\n{oops\n');
  const r = run('backtest', '--rules', rules, '--events', broken, '--conversions', conversions, '--format', 'segment');
  assert.equal(r.code, 1);
  assert.match(r.err, /broken-segment\.ndjson:2: not JSON/);
  assert.equal(run('backtest', '--rules', rules, '--events', broken, '--conversions', conversions, '--format', 'rudder').code, 2);
});

test('the README shows the current pqlkit sql output of the demo rule set in every dialect', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const rules = fileURLToPath(new URL('../../www/rules/default.json', import.meta.url));
  for (const dialect of ['duckdb', 'spark', 'bigquery', 'snowflake']) {
    const marker = `<!-- pqlkit sql --dialect ${dialect} -->\n\`\`\`sql\n`;
    const start = readme.indexOf(marker);
    assert.ok(start >= 0, `README has the ${dialect} block`);
    const block = readme.slice(start + marker.length, readme.indexOf('```', start + marker.length));
    const r = run('sql', '--rules', rules, '--dialect', dialect);
    assert.equal(r.code, 0, r.err);
    assert.equal(block, r.out, `README's ${dialect} SQL is current (regenerate it with pqlkit sql)`);
  }
});
