// Differential test: the wasm replay (the browser's engine) and the rule set's SQL run by DuckDB
// must find the same first-flag time, per user and rule, to the millisecond, on seeded random
// rule sets over seeded random histories and over `pqlkit simulate`'s history.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Backtest, loadCliWasm } from '../../js/cli/wasm.js';
import { duckdbReplay } from '../../js/cli/duckdb.js';
import { readConversions } from '../../js/cli/input.js';
import { simulate } from '../../js/cli/simulate.js';
import { buildSql } from '../../js/cli/sql.js';
import { prng } from '../../www/test/prng.js';

const dir = mkdtempSync(join(tmpdir(), 'pqlkit-sql-parity-'));
after(() => rmSync(dir, { recursive: true, force: true }));
loadCliWasm();

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2025, 0, 6, 9);
const FEATURES = ['export', 'search', 'theme'];
const PLANS = ['free', 'trial', 'pro'];

/** A random history: sessions of bursts, same-millisecond ties, traits lines with and without times. */
function history(random, users) {
  const pick = (list) => list[Math.floor(random() * list.length)];
  const lines = [];
  const conversions = ['userId,convertedAt,accountId'];
  for (let u = 0; u < users; u++) {
    const user = `u${u}`;
    const account = `a${u % Math.max(1, Math.floor(users / 3))}`;
    let t = T0 + Math.floor(random() * 20 * DAY);
    const start = t;
    const timed = random() < 0.5;
    lines.push({ type: 'identify', userId: user, ...(timed ? { timestamp: t - 1000 } : {}), traits: { plan: pick(PLANS), seats: Math.floor(random() * 20) } });
    if (random() < 0.8) lines.push({ type: 'group', userId: user, accountId: account, timestamp: t, traits: { company_size: Math.floor(random() * 200) } });
    const sessions = 1 + Math.floor(random() * 12);
    for (let s = 0; s < sessions; s++) {
      const burst = 1 + Math.floor(random() * 8);
      for (let e = 0; e < burst; e++) {
        const r = random();
        const line = { timestamp: t, userId: user };
        if (r < 0.25) Object.assign(line, { event: 'page_view', props: { path: pick(['/pricing', '/pricing/teams', '/dashboard', '/settings/billing?x=1']) } });
        else if (r < 0.5) Object.assign(line, { event: 'feature_used', props: { feature: pick(FEATURES) } });
        else if (r < 0.6) Object.assign(line, { event: 'limit_hit', props: { limit: 'projects', used: 1 + Math.floor(random() * 5), max: 5 } });
        else if (r < 0.7) Object.assign(line, { event: 'upgrade_started' });
        else if (r < 0.75) Object.assign(line, { event: 'upgrade_completed' });
        else if (r < 0.9) Object.assign(line, { event: 'message_sent', props: { chars: Math.floor(random() * 400) } });
        else Object.assign(line, { event: 'invite_sent' });
        if (random() < 0.05) line.accountId = `b${u}`;
        lines.push(line);
        // Ties to the millisecond now and then: the order of the file decides.
        t += random() < 0.1 ? 0 : Math.floor(random() * 20 * MIN);
      }
      if (random() < 0.2) lines.push({ type: 'identify', userId: user, timestamp: t, traits: { plan: pick(PLANS) } });
      t += Math.floor(random() * 3 * DAY) + 31 * MIN;
    }
    if (random() < 0.3) conversions.push(`${user},${start + Math.floor(random() * 30 * DAY)},${account}`);
  }
  return { ndjson: lines.map((l) => JSON.stringify(l)).join('\n') + '\n', csv: conversions.join('\n') + '\n' };
}

/** Signals of every kind the SQL covers, with random windows and comparisons. */
function signal(random) {
  const pick = (list) => list[Math.floor(random() * list.length)];
  const n = () => 1 + Math.floor(random() * 4);
  const compare = () => pick([() => n(), () => ({ $gte: n() }), () => ({ $gt: n() }), () => ({ $lt: n() }), () => ({ $lte: n() }), () => ({ $eq: n() }), () => ({ $ne: n() }), () => ({ $gte: 1, $lt: n() + 2 })])();
  const within = () => pick(['30m', '24h', '7d', '14d', '2w', undefined]);
  const withWindow = (s, w = within()) => (w ? { ...s, within: w } : s);
  return pick([
    () => withWindow({ event: 'feature_used', where: { feature: pick(FEATURES) }, count: compare() }),
    () => withWindow({ event: 'page_view', where: { page: 'pricing' }, count: compare() }),
    () => withWindow({ event: 'invite_sent', count: compare() }),
    () => ({ event: 'feature_used', where: { feature: { $in: [pick(FEATURES), pick(FEATURES)] } }, distinctDays: compare(), within: pick(['1d', '7d', '14d']) }),
    () => withWindow({ sessions: compare() }),
    () => withWindow({ event: 'message_sent', sum: 'chars', value: { $gte: 200 * n() } }),
    () => ({ limit: 'projects', usage: pick([{ $gte: 1 }, { $gte: 0.8 }, { $lt: 0.5 }]) }),
    () => ({ event: 'upgrade_started', notFollowedBy: { event: 'upgrade_completed' }, within: pick(['30m', '1h', '1d']) }),
    () => ({ firstSeen: true, within: pick(['1d', '7d', '14d']) }),
    () => ({ daysSinceFirstSeen: pick([{ $gte: n() }, { $lt: n() }, { $gte: 2, $lte: 6 }]) }),
    () => ({ traits: pick([{ plan: pick(PLANS) }, { plan: { $in: ['free', 'trial'] } }, { 'account.company_size': { $gte: 50 } }, { seats: { $gt: 5 } }]) }),
    () => ({ event: 'limit_hit', where: { used: { $gte: 3 } }, count: compare(), within: '7d' }),
  ])();
}

function node(random, depth = 0) {
  const r = random();
  if (depth < 2 && r < 0.2) return { all: [node(random, depth + 1), node(random, depth + 1)] };
  if (depth < 2 && r < 0.35) return { any: [node(random, depth + 1), node(random, depth + 1)] };
  if (depth < 2 && r < 0.45) return { not: node(random, depth + 1) };
  return signal(random);
}

function ruleSet(random, rules) {
  const out = [];
  for (let i = 0; i < rules; i++) {
    const rule = { id: `r${i}`, when: node(random), score: 5 + Math.floor(random() * 30) };
    if (random() < 0.25) rule.audience = { plan: { $in: ['free', 'trial'] } };
    if (random() < 0.15) rule.audience = { 'account.company_size': { $gte: 20 } };
    if (random() < 0.2) rule.trigger = random() < 0.5 ? { event: 'limit_hit', where: { limit: 'projects' } } : { event: 'page_view' };
    out.push(rule);
  }
  return { version: 1, pages: { pricing: '/pricing*', billing: '/settings/billing*' }, rules: out, scoring: { threshold: 40 } };
}

/** Per-user records of the wasm replay, by user id. */
function wasmRecords(rulesJson, ndjson, conversions) {
  const backtest = new Backtest(
    rulesJson,
    JSON.stringify({ users: Object.fromEntries(conversions.users), accounts: Object.fromEntries(conversions.userAccounts), latest: conversions.latest }),
    NaN,
  );
  const result = JSON.parse(backtest.replay(Buffer.from(ndjson), 1, false));
  backtest.free();
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  return new Map(result.users.map((u) => [u.userId, u]));
}

/**
 * Score rises `[t, score, ...]` with only the last (highest) of each millisecond: the first
 * time the score reaches any threshold, which is all the report reads. Within one millisecond
 * the replay may skip the score of its first step (before the history's traits apply) when it
 * reads the score from the engine (trigger rules with a positive score).
 */
function lastPerTime(rises) {
  const out = [];
  for (let k = 0; k < rises.length; k += 2) {
    if (out.length && out[out.length - 2] === rises[k]) out.splice(-2);
    out.push(rises[k], rises[k + 1]);
  }
  return out.join(',');
}

/** Compares both engines on one rule set and history; returns the number of flags compared. */
async function compare(name, rules, ndjson, csv) {
  const rulesJson = JSON.stringify(rules);
  const events = join(dir, `${name}.ndjson`);
  writeFileSync(events, ndjson);
  writeFileSync(join(dir, `${name}.csv`), csv);
  const conversions = readConversions(join(dir, `${name}.csv`));
  const wasm = wasmRecords(rulesJson, ndjson, conversions);
  const sql = await duckdbReplay({ rulesJson, rules, eventsPath: events, conversions });
  assert.equal(sql.users.length, wasm.size, `${name}: the same users are replayed`);
  let flags = 0;
  const mismatches = [];
  for (const u of sql.users) {
    const w = wasm.get(u.userId);
    assert.ok(w, `${name}: ${u.userId} replayed by both`);
    assert.equal(u.firstSeen, w.firstSeen);
    rules.rules.forEach((rule, r) => {
      const a = w.fires[r] ?? NaN;
      const b = u.fires[r];
      if (a === a) flags++;
      if (!Object.is(a, b)) mismatches.push(`${u.userId} ${rule.id} ${JSON.stringify(rule.when)}: wasm ${a}, sql ${b}`);
    });
    const scoreWasm = w.scoreReached ?? NaN;
    if (!Object.is(scoreWasm, u.scoreAt)) mismatches.push(`${u.userId} score: wasm ${scoreWasm}, sql ${u.scoreAt}`);
    const [a, b] = [lastPerTime(w.rises), lastPerTime(u.records)];
    if (a !== b) mismatches.push(`${u.userId} score rises: wasm ${a}, sql ${b}`);
  }
  assert.deepEqual(mismatches.slice(0, 10), [], `${name}: ${mismatches.length} first-flag times differ`);
  return flags;
}

test('parity: random rule sets over random histories, first flag to the millisecond', async () => {
  let flags = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const random = prng(seed * 7919);
    const { ndjson, csv } = history(random, 40);
    const rules = ruleSet(random, 8);
    const built = buildSql(JSON.stringify(rules), 'duckdb');
    assert.equal(built.errors, undefined, JSON.stringify(built.errors));
    flags += await compare(`random-${seed}`, rules, ndjson, csv);
  }
  assert.ok(flags > 300, `enough flags to compare (${flags})`);
});

test('parity: the simulated history and its rule set, plus random rules over it', async () => {
  const chunks = [];
  const result = simulate({ users: 400, days: 45, seed: '5' }, (chunk) => chunks.push(chunk));
  const ndjson = chunks.join('');
  const rules = JSON.parse(result.rules);
  let flags = await compare('simulated', rules, ndjson, result.conversions);
  const random = prng(99);
  flags += await compare('simulated-random', ruleSet(random, 10), ndjson, result.conversions);
  assert.ok(flags > 500, `enough flags to compare (${flags})`);
});

test('sql: constructs SQL cannot express are refused with their path', () => {
  const rules = {
    version: 1,
    rules: [
      { id: 'a', when: { event: 'x', where: { path: { $regex: '^/a' } }, count: 1 } },
      { id: 'b', when: { event: 'x', count: 1, within: '145h' } },
      { id: 'c', audience: { version: { $vgte: '1.2.0' } } },
    ],
  };
  const { errors } = buildSql(JSON.stringify(rules), 'spark');
  assert.deepEqual(
    errors.map((e) => [e.code, e.path]),
    [
      ['sql_unsupported', 'rules[0].when.where.path.$regex'],
      ['sql_unsupported', 'rules[1].when.within'],
      ['sql_unsupported', 'rules[2].audience.version.$vgte'],
    ],
  );
  assert.match(errors[1].message, /whole number of its buckets/);
  assert.equal(buildSql('{"version": 1, "rules": [{"id": 1}]}', 'duckdb').errors[0].code, 'invalid_type');
  assert.equal(buildSql(readFileSync(new URL('../../www/rules/default.json', import.meta.url), 'utf8'), 'bogus').errors[0].code, 'invalid_argument');
});
