// The built package under Node: the vertical slice, errors, and import safety.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { init, PqlkitError } from 'pqlkit';

const exportRule = (n) => ({
  version: 1,
  rules: [
    {
      id: 'export-explorer',
      kind: 'feature',
      when: { event: 'feature_used', where: { feature: 'export' }, count: { $gte: n }, within: '7d' },
      score: 40,
      actions: [{ beacon: 'feature' }],
    },
  ],
  scoring: { threshold: 40, tiers: { warm: 20, hot: 40 } },
});

function clock(start = Date.UTC(2026, 10, 2, 9)) {
  const c = { t: start, now: () => c.t, advance: (ms) => (c.t += ms) };
  return c;
}

test('a count rule fires on the Nth featureUsed (rule:fired and qualified) and the score qualifies the user once', async () => {
  const c = clock();
  const pql = await init({ rules: exportRule(3), storage: 'memory', now: c.now });
  const qualified = [];
  const fired = [];
  pql.on('qualified', (e) => qualified.push(e));
  pql.on('rule:fired', (e) => fired.push(e));
  pql.featureUsed('export');
  pql.featureUsed('import'); // another feature does not count
  pql.featureUsed('export');
  assert.equal(fired.length + qualified.length, 0);
  pql.featureUsed('export');
  assert.equal(fired.length, 1);
  assert.equal(fired[0].rule, 'export-explorer');
  assert.equal(fired[0].reason, 'rule');
  assert.equal(fired[0].signals.when, 3);
  assert.equal(fired[0].qualified, true, 'its score reached the threshold in the same call');
  assert.deepEqual(
    qualified.map((e) => [e.reason, e.rule, e.qualified]),
    [['rule', 'export-explorer', true], ['score', null, true]],
    'the firing, then the score reaching the threshold',
  );
  pql.featureUsed('export');
  assert.equal(fired.length + qualified.length, 3, 'an edge-triggered rule does not fire again while it holds');
  const report = pql.score();
  assert.equal(report.score, 40);
  assert.equal(report.tier, 'hot');
  assert.equal(report.qualified, true);
  pql.destroy();
});

test('qualified says what it means: below the threshold a firing says qualified: false; without one each firing qualifies', async () => {
  const twoRules = (scoring) => ({
    version: 1,
    rules: [
      { id: 'exports', when: { event: 'feature_used', count: 1 }, score: 20 },
      { id: 'invites', when: { event: 'invite_sent', count: 1 }, score: 20 },
    ],
    ...scoring,
  });
  const seen = async (rules) => {
    const pql = await init({ rules, storage: 'memory' });
    const events = [];
    for (const name of ['rule:fired', 'qualified']) pql.on(name, (e) => events.push(`${name} ${e.rule ?? e.reason} ${e.qualified}`));
    pql.featureUsed('export');
    const afterFirst = pql.score().qualified;
    pql.track('invite_sent');
    pql.destroy();
    return { events, afterFirst };
  };
  assert.deepEqual(await seen(twoRules({ scoring: { threshold: 40 } })), {
    events: ['rule:fired exports false', 'qualified exports false', 'rule:fired invites true', 'qualified invites true', 'qualified score true'],
    afterFirst: false,
  });
  assert.deepEqual(await seen(twoRules({})), {
    events: ['rule:fired exports true', 'qualified exports true', 'rule:fired invites true', 'qualified invites true'],
    afterFirst: true,
  });
});

test('beacons carry the documented fields and unique ids', async () => {
  const pql = await init({ rules: exportRule(1), storage: 'memory', user: { id: 'u_42', traits: { plan: 'free' } }, account: { id: 'acme' } });
  const beacons = [];
  pql.on('beacon', (b) => beacons.push(b));
  pql.featureUsed('export');
  assert.equal(beacons.length, 1);
  const [b] = beacons;
  assert.match(b.id, /^[0-9a-f]{32}$/);
  assert.equal(b.type, 'feature');
  assert.equal(b.rule, 'export-explorer');
  assert.equal(b.userId, 'u_42');
  assert.equal(b.accountId, 'acme');
  assert.equal(typeof b.anonymousId, 'string');
  assert.equal(typeof b.timestamp, 'number');
  assert.equal(typeof b.sdkVersion, 'string');
  pql.destroy();
});

test('the window forgets old events: the rule holds again only with recent ones', async () => {
  const c = clock();
  const pql = await init({ rules: exportRule(2), storage: 'memory', now: c.now });
  pql.featureUsed('export');
  c.advance(8 * 86400000);
  pql.featureUsed('export');
  assert.equal(pql.score().rules[0].matched, false, 'an event 8 days old is outside a 7-day window');
  pql.featureUsed('export');
  assert.equal(pql.score().rules[0].matched, true);
  pql.destroy();
});

test('an invalid rule set rejects with a typed error listing every problem', async () => {
  const bad = exportRule(3);
  bad.rules[0].when.within = '7 days';
  bad.rules.push({ id: 'export-explorer' });
  await assert.rejects(init({ rules: bad, storage: 'memory' }), (error) => {
    assert.ok(error instanceof PqlkitError);
    assert.ok(error.errors.length >= 2, JSON.stringify(error.errors));
    const paths = error.errors.map((e) => `${e.code} ${e.path}`);
    assert.ok(paths.includes('invalid_duration rules[0].when.within'), paths.join(', '));
    assert.ok(paths.includes('duplicate_rule_id rules[1].id'), paths.join(', '));
    return true;
  });
});

test('a rule set is read as JSON.stringify would write it; what JSON cannot carry rejects, typed', async () => {
  // toJSON is honoured, as by JSON.stringify: the rule set a class writes is the one that runs.
  const wrapped = { toJSON: () => exportRule(1) };
  const pql = await init({ rules: wrapped, storage: 'memory' });
  pql.featureUsed('export');
  assert.equal(pql.score().rules[0].matched, true);
  pql.destroy();
  const cyclic = exportRule(1);
  cyclic.rules[0].self = cyclic;
  await assert.rejects(init({ rules: cyclic, storage: 'memory' }), (error) => error instanceof PqlkitError && error.code === 'invalid_options' && error.path === 'rules');
  // Deeper than any reader of pqlkit's goes (128 levels): refused as not JSON, never a stack overflow.
  const deep = exportRule(1);
  let leaf = (deep.rules[0].properties = {});
  for (let i = 0; i < 200; i++) leaf = leaf.next = {};
  await assert.rejects(init({ rules: deep, storage: 'memory' }), (error) => {
    assert.ok(error instanceof PqlkitError, String(error));
    assert.equal(error.errors[0]?.code, 'invalid_json', JSON.stringify(error.errors));
    return true;
  });
});

test('a rules URL that cannot be fetched rejects with rules_fetch_failed', async () => {
  await assert.rejects(init({ rules: 'http://127.0.0.1:9/rules.json', storage: 'memory' }), (error) => error.code === 'rules_fetch_failed');
});

test('no method throws into the host, even with bad arguments or a throwing listener', async () => {
  const pql = await init({ rules: exportRule(1), storage: 'memory' });
  const errors = [];
  pql.on('error', (e) => errors.push(e));
  pql.on('qualified', () => {
    throw new Error('listener bug');
  });
  assert.doesNotThrow(() => {
    pql.track('');
    pql.track(42);
    pql.on('no-such-event', () => {});
    pql.featureUsed('export');
    pql.explain('missing');
    pql.limitHit('projects');
    pql.limitHit('projects', null);
    pql.limitHit('projects', 5);
    const cyclic = {};
    cyclic.self = cyclic;
    pql.track('cyclic', cyclic);
    pql.identify('u1', { big: 10n });
  });
  assert.ok(errors.some((e) => e.code === 'invalid_argument'));
  assert.ok(errors.some((e) => e.code === 'invalid_event'));
  assert.ok(errors.some((e) => e.code === 'listener_fault'));
  assert.equal(pql.explain('missing'), null);
  pql.destroy();
  assert.doesNotThrow(() => pql.track('after_destroy'));
});

test('a deadline that moves later still fires on time from the timer alone', async () => {
  const rules = {
    version: 1,
    rules: [{ id: 'abandoned', when: { event: 'upgrade_started', notFollowedBy: { event: 'upgrade_completed' }, within: '1s' }, score: 10 }],
  };
  const pql = await init({ rules, storage: 'memory' });
  const fired = [];
  pql.on('qualified', (e) => fired.push({ rule: e.rule, at: Date.now() }));
  const started = Date.now();
  pql.track('upgrade_started');
  await new Promise((r) => setTimeout(r, 300));
  const restarted = Date.now();
  pql.track('upgrade_started'); // the latest start counts: the deadline moves 300 ms later
  await new Promise((r) => setTimeout(r, 1500));
  pql.destroy();
  const mine = fired.filter((e) => e.rule === 'abandoned');
  assert.equal(mine.length, 1, 'fired once, with no call after the restart');
  assert.ok(mine[0].at >= restarted + 1000 - 5, `not at the first deadline (${mine[0].at - started} ms after the first start)`);
  assert.ok(mine[0].at < restarted + 1400, `on time (${mine[0].at - restarted} ms after the restart)`);
});
