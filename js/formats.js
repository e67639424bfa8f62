// How pqlkit's fields sit in Segment's and PostHog's messages, written and read in one place:
// the outbox writes its batches with `batchWriter` (loaded by init() only when
// `collector.format` asks for one of these formats, before any beacon is sent), the demo's
// collector (www/server.js) reads beacons back with the readers, and pqlkit/segment and
// pqlkit/posthog read the host SDK's own events with them; tests/js/formats.test.js checks that
// what is written reads back.

/** A beacon of type `t` is the Segment track event `PQL t` and the PostHog event `pql_t`. */
export const SEGMENT_EVENT_PREFIX = 'PQL ';
export const POSTHOG_EVENT_PREFIX = 'pql_';
/** pqlkit's account is the PostHog group of this type (`$groups.company`). */
export const POSTHOG_ACCOUNT_GROUP = 'company';

/** The beacon type of an event named `prefix + type`, else null. */
export const beaconType = (name, prefix) => (typeof name == 'string' && name.startsWith(prefix) ? name.slice(prefix.length) : null);

const ms = (iso) => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : t;
};
const object = (v) => (v && typeof v == 'object' && !Array.isArray(v) ? v : {});

/**
 * A Segment message (track, page, identify, group; a beacon in a /v1/batch body) as pqlkit
 * names it: `accountId` is its `groupId` (a group call), else `context.groupId`.
 */
export function readSegment(message) {
  const m = object(message);
  return {
    kind: m.type,
    name: typeof m.event == 'string' ? m.event : null,
    userId: m.userId ?? null,
    anonymousId: m.anonymousId ?? null,
    accountId: m.groupId ?? m.context?.groupId ?? null,
    props: object(m.properties),
    traits: object(m.traits),
    timestamp: ms(m.timestamp),
  };
}

/**
 * A PostHog event (as posthog-js captures it; a beacon in a /batch body) as pqlkit names it:
 * `distinctId` is `properties.distinct_id`, `accountId` is `properties.$groups[groupType]`
 * (`company`, where beacons put it), and `props` the other properties.
 */
export function readPosthog(event, groupType = POSTHOG_ACCOUNT_GROUP) {
  const e = object(event);
  const { distinct_id, $groups, ...props } = object(e.properties);
  return {
    name: typeof e.event == 'string' ? e.event : null,
    distinctId: distinct_id ?? null,
    accountId: object($groups)[groupType] ?? null,
    props,
    set: object(e.$set ?? props.$set),
    timestamp: ms(e.timestamp),
  };
}

const iso = (t) => (isNaN((t = new Date(t))) ? undefined : t.toISOString());

/**
 * The body of a batch of beacons in `format`, as js/beacons.js's `write(list, sentAt)`; null for
 * pqlkit's own format (the outbox's default). `b` is a beacon { id, type, rule, score, tier,
 * userId, anonymousId, accountId, signals, timestamp (ms), sdkVersion }, ISO an ISO-8601 time;
 * null ids are left out:
 * segment  { writeKey: apiKey, sentAt: ISO, batch: [{ type: 'track', event: 'PQL ' + type,
 *            messageId: id, userId, anonymousId, timestamp: ISO, properties: { id, type, rule,
 *            score, tier, accountId, signals, sdkVersion }, context: { library: { name:
 *            'pqlkit', version: sdkVersion }, groupId: accountId } }] }            (/v1/batch)
 * posthog  { api_key: apiKey, batch: [{ event: 'pql_' + type, uuid: id as 8-4-4-4-12 (if 32
 *            hex), timestamp: ISO, properties: { distinct_id: userId ?? anonymousId, $groups:
 *            { company: accountId }, pqlkit_id: id, type, rule, score, tier, userId,
 *            anonymousId, accountId, signals, sdkVersion } }] }                      (/batch)
 */
export function batchWriter(format, apiKey) {
  if (format == 'segment') {
    return (list, sentAt) => ({
      batch: list.map(({ userId, anonymousId, timestamp, ...p }) => ({
        type: 'track',
        event: SEGMENT_EVENT_PREFIX + p.type,
        messageId: p.id,
        userId: userId ?? undefined,
        anonymousId: anonymousId ?? undefined,
        timestamp: iso(timestamp),
        properties: p,
        context: { library: { name: 'pqlkit', version: p.sdkVersion }, groupId: p.accountId ?? undefined },
      })),
      sentAt: iso(sentAt),
      writeKey: apiKey,
    });
  }
  if (format == 'posthog') {
    return (list) => ({
      api_key: apiKey,
      batch: list.map(({ id, timestamp, ...p }) => ({
        event: POSTHOG_EVENT_PREFIX + p.type,
        uuid: /^[\da-f]{32}$/i.test(id) ? id.replace(/(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-') : undefined,
        timestamp: iso(timestamp),
        properties: { ...p, distinct_id: p.userId ?? p.anonymousId, $groups: p.accountId != null ? { [POSTHOG_ACCOUNT_GROUP]: p.accountId } : undefined, pqlkit_id: id },
      })),
    });
  }
  return null;
}
