// The command line (`js/cli.js`): validate, simulate and backtest, run as a PM would run them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const cli = fileURLToPath(new URL('../../js/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pqlkit-cli-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(...args) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const file = (name, text) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const backtestJson = (...args) => {
  const r = run('backtest', ...args, '--json');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /throughput: [\d,]+ events in [\d.]+ s = [\d,]+ events\/s/);
  return JSON.parse(r.out);
};

test('--help documents every command, the event format and the verdict thresholds', () => {
  const { code, out } = run('--help');
  assert.equal(code, 0);
  for (const text of ['pqlkit validate', 'pqlkit backtest', 'pqlkit simulate', '--horizon', '--conversions', '"type": "identify"', '"type": "group"', 'too loose', 'too tight', 'no signal', 'recall < 5 %', '< 1 day', '≥ 50 %', 'lift < 1.25', 'events/s']) {
    assert.ok(out.includes(text), `--help mentions ${text}`);
  }
  assert.equal(run().code, 2, 'no command is a usage error');
  assert.equal(run('frobnicate').code, 2);
  assert.equal(run('backtest', '--rules', 'x.json').code, 2, 'missing options');
  assert.equal(run('backtest', '--bogus', '1').code, 2, 'unknown option');
});

test('validate: exit 0 on a valid rule set, 1 with every error and its path, 2 on an unreadable file', () => {
  const good = file('good.json', JSON.stringify({ version: 1, rules: [{ id: 'a', when: { event: 'x', count: 2 }, score: 10 }] }));
  const ok = run('validate', good);
  assert.equal(ok.code, 0);
  assert.match(ok.out, /valid \(1 rule\)/);

  const bad = file(
    'bad.json',
    JSON.stringify({
      version: 1,
      rules: [
        { id: 'a', when: { event: 'x', count: 2, within: '7x' } },
        { id: 'a', audience: { plan: { $bogus: 1 } }, actions: [{ prompt: 'nope' }] },
      ],
    }),
  );
  const ko = run('validate', bad);
  assert.equal(ko.code, 1);
  assert.match(ko.out, /bad\.json: \d+ errors/);
  assert.match(ko.out, /rules\[0\]\.when\.within\s+invalid_duration\s+\S/);
  assert.match(ko.out, /rules\[1\]\.id\s+duplicate_rule_id/);
  assert.match(ko.out, /rules\[1\]\.audience\.plan\.\$bogus\s+unknown_operator/);
  assert.match(ko.out, /rules\[1\]\.actions\[0\]\.prompt\s+unknown_prompt/);
  const json = JSON.parse(run('validate', bad, '--json').out);
  assert.equal(json.valid, false);
  assert.ok(json.errors.every((e) => e.code && e.path && e.message));

  assert.equal(run('validate', file('notjson.json', '{ nope')).code, 1);
  const missing = run('validate', join(dir, 'missing.json'));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /cannot read rules .*missing\.json: ENOENT/);
  assert.equal(run('validate').code, 2);
  // backtest refuses an invalid rule set with the same messages
  const bt = run('backtest', '--rules', bad, '--events', good, '--conversions', good);
  assert.equal(bt.code, 1);
  assert.match(bt.err, /rules\[0\]\.when\.within/);
});

test('simulate is deterministic: same seed, byte-identical files; another seed differs', () => {
  for (const [out, seed] of [['s1', '3'], ['s2', '3'], ['s3', '4']]) assert.equal(run('simulate', '--users', '50', '--days', '30', '--seed', seed, '--out', out).code, 0);
  for (const name of ['events.ndjson', 'conversions.csv', 'rules.json']) {
    assert.ok(readFileSync(join(dir, 's1', name)).equals(readFileSync(join(dir, 's2', name))), name);
  }
  assert.notEqual(readFileSync(join(dir, 's1', 'events.ndjson'), 'utf8'), readFileSync(join(dir, 's3', 'events.ndjson'), 'utf8'));
  assert.equal(run('validate', join(dir, 's1', 'rules.json')).code, 0);
  assert.equal(run('simulate', '--users', 'many', '--days', '30', '--seed', '1').code, 2);
});

let sim;
before(() => {
  const r = run('simulate', '--users', '2000', '--days', '60', '--seed', '7', '--out', 'sim');
  assert.equal(r.code, 0, r.err);
  const p = (n) => join(dir, 'sim', n);
  sim = { args: ['--rules', p('rules.json'), '--events', p('events.ndjson'), '--conversions', p('conversions.csv')] };
  sim.report = backtestJson(...sim.args);
});

test('simulated history: the planted strong rule is ok with a lift well above 1', () => {
  const strong = sim.report.rules.find((r) => r.id === 'integration-connected');
  assert.equal(strong.verdict, 'ok', strong.reason);
  assert.ok(strong.user.lift > 3, `lift ${strong.user.lift}`);
  assert.ok(strong.user.recall > 0.6);
  assert.ok(strong.user.medianDaysFlagToConversion > 5, 'flags users days before they convert');
  assert.ok(strong.account.lift > 2, 'also at account level');
  assert.equal(sim.report.data.users, 2000);
  assert.ok(sim.report.data.groupedByUser);
});

test('simulated history: the noise rule has lift ≈ 1 and no signal', () => {
  const noise = sim.report.rules.find((r) => r.id === 'theme-tinkerer');
  assert.equal(noise.verdict, 'no signal', noise.reason);
  assert.ok(noise.user.lift > 0.75 && noise.user.lift < 1.25, `lift ${noise.user.lift}`);
});

test('simulated history: the rule matching almost everyone is too loose', () => {
  const loose = sim.report.rules.find((r) => r.id === 'created-a-project');
  assert.equal(loose.verdict, 'too loose', loose.reason);
  assert.ok(loose.user.share > 0.85);
});

test('simulated history: the rule matching converters at the last moment is too tight', () => {
  const tight = sim.report.rules.find((r) => r.id === 'billing-page-visit');
  assert.equal(tight.verdict, 'too tight', tight.reason);
  assert.ok(tight.user.medianDaysFlagToConversion < 0.05);
  assert.match(tight.reason, /flagged → converted/);
});

test('simulated history: score threshold, sweep and the readable table', () => {
  const { score, sweep } = sim.report;
  assert.equal(score.threshold, 50);
  const configured = sweep.find((s) => s.threshold === 50);
  assert.equal(configured.flagged, score.user.flagged, 'the sweep at the configured threshold agrees with the engine');
  for (let i = 1; i < sweep.length; i++) assert.ok(sweep[i].flagged <= sweep[i - 1].flagged, 'volume falls as the threshold rises');
  const table = run('backtest', ...sim.args);
  assert.equal(table.code, 0);
  for (const text of ['USERS', 'ACCOUNTS', 'VERDICTS', 'FLAGGED PER WEEK', 'THRESHOLD SWEEP', 'integration-connected', 'score ≥ 50']) assert.ok(table.out.includes(text), text);
  assert.match(table.out.trim().split('\n').at(-1), /^throughput: [\d,]+ events in [\d.]+ s = [\d,]+ events\/s$/);
});

// A tiny history computed by hand. Days are counted from Monday 2025-03-03 (d0); every event is
// at 10:00 UTC unless noted. Rules: exporter (2 × feature_used export, score 50), invited
// (invite_sent, 20), billing (page_view /settings/billing, 30); threshold 60; horizon 30d.
//
//   user acct events (tracked)                                   converts     flags (first fire)
//   u1   A    export d0, export d1, invite d2, billing d11 11:30  d11 12:00    exp d1, inv d2, bill d11 11:30, score d2
//   u2   A    export d0                                           –            –
//   u3   B    export d7 10:00, export d7 11:00                    d50 12:00    exp d7 11:00
//   u4   –    page d7 10:00, invite d7 11:00                      d10 12:00    inv d7 11:00
//   u5   B    export d8, export d9, invite d9 11:00, billing d20 11:00  d20 12:00  exp d9, inv d9 11:00, bill d20 11:00, score d9 11:00
//   u6   –    export d14 (an export at d15 comes after the conversion: ignored)  d14 12:00  –
//   u9   –    page d2                                             –            –
//   u10  –    page d16                                            –            –
//   u7        export d2, converted d1 12:00 → left out (converted before first event); u8 converts with no events.
// Population 8; positives (conversion within 30d of the flag, else of first seen): u1 u4 u5 u6 → 4
// (u3 converts 43 d after its flag / first seen), baseline 4/8 = 0.5. Weeks: 03-03, 03-10, 03-17.
// exporter: flagged u1 u3 u5 (3, share .375), TP u1 u5 → precision 2/3; not flagged u2 u4 u6 u9
//   u10 with 2 positives → 2/5; lift (2/3)/(2/5) = 5/3; recall 2/4; seen→flag u1 1 d, u3 1/24 d,
//   u5 1 d → median 1; flag→conv u1 10 d 2 h, u3 43 d 1 h, u5 11 d 2 h → median 11 + 1/12 d;
//   weekly [1, 2, 0], 1 per week; verdict ok.
// invited: flagged u1 u4 u5, all positive → precision 1; not flagged u2 u3 u6 u9 u10 with 1
//   positive (u6) → 1/5; lift 5; recall 3/4; seen→flag 2, 1/24, 1 + 1/24 → 1 + 1/24; flag→conv
//   9 d 2 h, 3 d 1 h, 11 d 1 h → 9 + 1/12; ok.
// billing: flagged u1 u5, positive → precision 1; not flagged 6 with 2 positives → 1/3; lift 3;
//   recall 1/2; flag→conv 30 min and 60 min → median 0.75 h = 1/32 d < 1 d → too tight.
// score ≥ 60: u1 at d2 (50 + 20), u5 at d9 11:00 → precision 1, lift 3, recall 1/2; seen→flag 2 and
//   1 + 1/24 → 1.5 + 1/48; flag→conv 9 d 2 h and 11 d 1 h → 10 + 1/16; ok.
// Sweep: max scores u1 100, u3 50, u4 20, u5 100 → thresholds 20, 50, 60 (configured), 100.
//   20: u1 u3 u4 u5 flagged (share .5), TP 3 → precision .75 < 2 × .5 → too loose; lift .75/.25 = 3.
//   50: as exporter. 60: as the score. 100: as billing → too tight.
// Accounts: A = u1 u2 (first seen d0, converts d11 12:00), B = u3 u5 (first seen d7 10:00,
//   converts d20 12:00: the earliest of its users). exporter flags A at d1 and B at d7 11:00, both
//   convert within 30 d → 2 flagged, precision 1, recall 1, no unflagged account → lift null.
test('backtest: exact figures on a tiny hand-made history', () => {
  const at = (day, hour = 10, minute = 0) => new Date(Date.UTC(2025, 2, 3 + day, hour, minute)).toISOString();
  const ev = (userId, t, event, props, extra = {}) => JSON.stringify({ timestamp: t, userId, event, ...(props ? { props } : {}), ...extra });
  const export_ = { feature: 'export' };
  const lines = [
    JSON.stringify({ type: 'identify', userId: 'u1', traits: { plan: 'trial' } }),
    JSON.stringify({ type: 'group', userId: 'u1', accountId: 'A', timestamp: at(0, 9), traits: { company_size: 12 } }),
    ev('u1', at(1), 'feature_used', export_), // out of order on purpose: replayed in time order
    ev('u1', at(0), 'feature_used', export_),
    ev('u1', at(2), 'invite_sent'),
    ev('u1', at(11, 11, 30), 'page_view', { path: '/settings/billing' }),
    JSON.stringify({ type: 'group', userId: 'u2', accountId: 'A' }),
    ev('u2', at(0), 'feature_used', export_),
    ev('u3', at(7), 'feature_used', export_, { accountId: 'B' }),
    ev('u3', Date.parse(at(7, 11)), 'feature_used', export_, { accountId: 'B' }), // ms timestamps work too
    ev('u4', at(7), 'page_view', { path: '/dashboard' }),
    ev('u4', at(7, 11), 'invite_sent'),
    JSON.stringify({ type: 'group', userId: 'u5', accountId: 'B', timestamp: at(8, 9) }),
    ev('u5', at(8), 'feature_used', export_),
    ev('u5', at(9), 'feature_used', export_),
    ev('u5', at(9, 11), 'invite_sent'),
    ev('u5', at(20, 11), 'page_view', { path: '/settings/billing' }),
    ev('u6', at(14), 'feature_used', export_),
    ev('u6', at(15), 'feature_used', export_),
    ev('u7', at(2), 'feature_used', export_),
    ev('u9', at(2), 'page_view', { path: '/dashboard' }),
    ev('u10', at(16), 'page_view', { path: '/dashboard' }),
  ];
  const rules = file(
    'tiny-rules.json',
    JSON.stringify({
      version: 1,
      rules: [
        { id: 'exporter', kind: 'feature', when: { event: 'feature_used', where: { feature: 'export' }, count: { $gte: 2 } }, score: 50 },
        { id: 'invited', kind: 'intent', when: { event: 'invite_sent', count: 1 }, score: 20 },
        { id: 'billing', kind: 'intent', when: { event: 'page_view', where: { path: '/settings/billing' }, count: 1 }, score: 30 },
      ],
      scoring: { threshold: 60 },
    }),
  );
  const conversions = file(
    'tiny-conversions.csv',
    ['userId,convertedAt,accountId', `u1,${at(11, 12)},A`, `u3,${at(50, 12)},B`, `u4,${at(10, 12)},`, `u5,${Date.parse(at(20, 12))},B`, `u6,${at(14, 12)}`, `u7,${at(1, 12)}`, `u8,${at(3, 12)}`].join('\n') + '\n',
  );
  const events = file('tiny.ndjson', lines.join('\n') + '\n');
  const report = backtestJson('--rules', rules, '--events', events, '--conversions', conversions, '--horizon', '30d');
  const close = (actual, expected, what) => assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);
  const check = (s, expected, what) => {
    for (const [k, v] of Object.entries(expected)) {
      if (typeof v === 'number' && typeof s[k] === 'number') close(s[k], v, `${what}.${k}`);
      else assert.deepEqual(s[k], v, `${what}.${k}`);
    }
  };

  assert.deepEqual(
    { ...report.data, groupedByUser: undefined },
    { events: 16, users: 8, accounts: 2, from: at(0), to: at(20, 11), weeks: 3, groupedByUser: undefined, eventsAfterConversion: 1, usersConvertedBeforeFirstEvent: 1, conversionsWithoutEvents: 1 },
  );
  const [exporter, invited, billing] = report.rules;
  check(exporter.user, { entities: 8, flagged: 3, share: 0.375, flaggedPerWeek: 1, converted: 4, baseline: 0.5, convertedFlagged: 2, conversionFlagged: 2 / 3, conversionNotFlagged: 2 / 5, lift: 5 / 3, precision: 2 / 3, recall: 0.5, medianDaysToFlag: 1, medianDaysFlagToConversion: 11 + 1 / 12 }, 'exporter');
  assert.deepEqual(exporter.user.weekly, [{ week: '2025-03-03', flagged: 1 }, { week: '2025-03-10', flagged: 2 }, { week: '2025-03-17', flagged: 0 }]);
  assert.equal(exporter.verdict, 'ok');
  check(invited.user, { flagged: 3, precision: 1, conversionNotFlagged: 1 / 5, lift: 5, recall: 0.75, medianDaysToFlag: 1 + 1 / 24, medianDaysFlagToConversion: 9 + 1 / 12 }, 'invited');
  assert.equal(invited.verdict, 'ok');
  check(billing.user, { flagged: 2, precision: 1, conversionNotFlagged: 1 / 3, lift: 3, recall: 0.5, medianDaysFlagToConversion: 1 / 32 }, 'billing');
  assert.equal(billing.verdict, 'too tight');
  check(report.score.user, { flagged: 2, precision: 1, lift: 3, recall: 0.5, medianDaysToFlag: 1.5 + 1 / 48, medianDaysFlagToConversion: 10 + 1 / 16 }, 'score');
  assert.equal(report.score.verdict, 'ok');
  check(exporter.account, { entities: 2, flagged: 2, precision: 1, recall: 1, lift: null, conversionNotFlagged: null, converted: 2 }, 'exporter accounts');

  assert.deepEqual(report.sweep.map((s) => s.threshold), [20, 50, 60, 100]);
  const [s20, s50, s60, s100] = report.sweep;
  check(s20, { flagged: 4, share: 0.5, precision: 0.75, lift: 3, recall: 0.75 }, 'sweep 20');
  assert.equal(s20.verdict, 'too loose');
  check(s50, { flagged: 3, precision: 2 / 3, lift: 5 / 3, recall: 0.5 }, 'sweep 50');
  check(s60, { flagged: 2, precision: 1, lift: 3 }, 'sweep 60');
  assert.equal(s100.verdict, 'too tight');

  // The same history shuffled (not grouped by user, gzip) gives the same report.
  const shuffled = lines.map((_, i) => lines[(i * 7) % lines.length]); // 7 is coprime with 22: a permutation
  const gz = join(dir, 'tiny-shuffled.ndjson.gz');
  writeFileSync(gz, gzipSync(shuffled.join('\n')));
  const again = backtestJson('--rules', rules, '--events', gz, '--conversions', conversions);
  assert.equal(again.data.groupedByUser, false);
  const strip = (r) => JSON.stringify({ ...r, throughput: null, data: { ...r.data, groupedByUser: null } });
  assert.equal(strip(again), strip(report));
});

test('backtest: threads, one thread and an unsorted copy of a large history give the same report', () => {
  const strip = (r) => JSON.stringify({ ...r, throughput: null, data: { ...r.data, groupedByUser: null } });
  const single = backtestJson(...sim.args, '--threads', '1');
  assert.equal(strip(single), strip(sim.report), 'pieces replayed on several threads = one thread');
  const events = join(dir, 'sim', 'events.ndjson');
  const lines = readFileSync(events, 'utf8').split('\n').filter(Boolean);
  assert.ok(lines.length > 100_000, 'large enough to be cut into several pieces');
  const shuffled = lines.map((_, i) => lines[(i * 7919) % lines.length]);
  assert.notEqual(lines.length % 7919, 0);
  const path = file('sim-shuffled.ndjson', shuffled.join('\n') + '\n');
  const again = backtestJson('--rules', join(dir, 'sim', 'rules.json'), '--events', path, '--conversions', join(dir, 'sim', 'conversions.csv'));
  assert.equal(again.data.groupedByUser, false);
  assert.equal(strip(again), strip(sim.report));
});

test('backtest: a bad line deep in a large history is reported with its file line number', () => {
  const events = readFileSync(join(dir, 'sim', 'events.ndjson'), 'utf8');
  const n = events.split('\n').filter(Boolean).length;
  const bad = file('sim-bad.ndjson', events + '{"userId":"zz","event":"x","timestamp":"next tuesday"}\n');
  const r = run('backtest', '--rules', join(dir, 'sim', 'rules.json'), '--events', bad, '--conversions', join(dir, 'sim', 'conversions.csv'));
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`sim-bad\\.ndjson:${n + 1}: "timestamp" "next tuesday" is not ms or ISO 8601`));
  const broken = file('sim-broken.ndjson', events.slice(0, 5_000_000) + '{"userId": oops}\n' + events.slice(5_000_000));
  const r2 = run('backtest', '--rules', join(dir, 'sim', 'rules.json'), '--events', broken, '--conversions', join(dir, 'sim', 'conversions.csv'));
  assert.equal(r2.code, 1);
  const line = events.slice(0, 5_000_000).split('\n').length;
  assert.match(r2.err, new RegExp(`sim-broken\\.ndjson:${line}: not JSON`));
});
