// How pqlkit's fields sit in Segment's and PostHog's messages, read in one place: the demo's
// collector (www/server.js) reads beacons back with these, and pqlkit/segment and
// pqlkit/posthog read the host SDK's own events with them. js/beacons.js writes the same
// places with literals (importing them cost the first load 21 B gzip); tests/js/formats.test.js
// checks that what it writes reads back here.

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
