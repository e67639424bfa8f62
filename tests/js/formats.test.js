// js/formats.js reads Segment's and PostHog's messages the way its batch writer, through the
// outbox (js/beacons.js), writes beacons in those formats: what the outbox sends reads back with
// the same user, account and type.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOutbox } from '../../js/beacons.js';
import { batchWriter, beaconType, POSTHOG_EVENT_PREFIX, readPosthog, readSegment, SEGMENT_EVENT_PREFIX } from '../../js/formats.js';

const beacon = { id: '0123456789abcdef0123456789abcdef', type: 'intent', rule: 'r', score: 20, tier: 'warm', userId: 'u_42', anonymousId: 'anon', accountId: 'acme', signals: { when: 2 }, timestamp: Date.UTC(2026, 11, 1), sdkVersion: '0.1.0' };

async function sent(format) {
  const bodies = [];
  const outbox = createOutbox({ url: '/x', write: batchWriter(format, 'k'), setTimeout: () => 0, fetch: async (url, init) => (bodies.push(JSON.parse(init.body)), { status: 200 }) });
  outbox.enqueue(beacon);
  await outbox.flush();
  return bodies[0].batch[0];
}

test('a segment beacon reads back: user, anonymous id, account (context.groupId), type, timestamp', async () => {
  const m = readSegment(await sent('segment'));
  assert.deepEqual([m.kind, m.userId, m.anonymousId, m.accountId, m.timestamp], ['track', 'u_42', 'anon', 'acme', beacon.timestamp]);
  assert.equal(beaconType(m.name, SEGMENT_EVENT_PREFIX), 'intent');
  assert.equal(beaconType('report_exported', SEGMENT_EVENT_PREFIX), null);
  // A group call names its account in groupId.
  assert.equal(readSegment({ type: 'group', groupId: 'globex', context: {} }).accountId, 'globex');
});

test('a posthog beacon reads back: distinct_id, account ($groups.company), type, timestamp; $set from either place', async () => {
  const e = readPosthog(await sent('posthog'));
  assert.deepEqual([e.distinctId, e.accountId, e.timestamp, e.props.userId], ['u_42', 'acme', beacon.timestamp, 'u_42']);
  assert.ok(!('distinct_id' in e.props) && !('$groups' in e.props));
  assert.equal(beaconType(e.name, POSTHOG_EVENT_PREFIX), 'intent');
  assert.deepEqual(readPosthog({ event: '$set', properties: { $set: { role: 'admin' } } }).set, { role: 'admin' });
  assert.deepEqual(readPosthog({ event: '$identify', $set: { plan: 'free' }, properties: {} }).set, { plan: 'free' });
});

test('messages that are not objects read as empty, without throwing', () => {
  for (const junk of [null, undefined, 42, 'x', []]) {
    assert.deepEqual(readSegment(junk).props, {});
    assert.equal(readPosthog(junk).name, null);
  }
});
