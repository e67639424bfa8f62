// pqlkit/segment: feeds pqlkit from Segment's analytics.js 2.0 (@segment/analytics-next), so
// nothing is instrumented twice: `analytics.register(pqlkitPlugin(pql))`. A destination plugin
// named `pqlkit`: Segment delivers its own events as before, and one event can skip pqlkit with
// `{ integrations: { pqlkit: false } }`. Fields are read as the beacons' segment format maps
// them (js/formats.js): userId, and groupId / context.groupId as the account.
import { feed, isEmpty } from './adapters.js';
import { beaconType, readSegment, SEGMENT_EVENT_PREFIX } from './formats.js';

const PAGE_FIELDS = ['path', 'search', 'url', 'title'];

/**
 * The plugin for `analytics.register(...)`. `track` → `pql.track(event, properties)`, `page` →
 * `pql.page(path + search, other properties)`, `identify` → `pql.identify(userId, traits)`,
 * `group` → `pql.group(groupId, traits)`; a user or account id seen on any event that pqlkit
 * does not know yet is identified first. `{ page: false }` leaves page views to pqlkit's
 * autocapture (with both, each navigation counts twice).
 */
export function pqlkitPlugin(pql, { page = true } = {}) {
  const to = feed(pql);
  const on = (handle) => (ctx) => {
    const m = readSegment(ctx?.event);
    to.seen(m.kind === 'identify' ? null : m.userId, m.kind === 'group' ? null : m.accountId);
    handle(m);
    return ctx;
  };
  return {
    name: 'pqlkit',
    type: 'destination',
    isLoaded: () => true,
    /**
     * The identity analytics.js already holds (an earlier visit's identify and group), and its
     * log-out: analytics.reset() emits `reset`, which resets pqlkit.
     */
    load(_ctx, analytics) {
      analytics?.on?.('reset', () => to.reset());
      const user = analytics?.user?.();
      const group = analytics?.group?.();
      const [uid, traits, gid, groupTraits] = [user?.id?.(), user?.traits?.(), group?.id?.(), group?.traits?.()];
      if (uid != null || !isEmpty(traits)) to.identify(uid, traits ?? {});
      if (gid != null || !isEmpty(groupTraits)) to.group(gid, groupTraits ?? {});
      return Promise.resolve();
    },
    // pqlkit's own beacons (`PQL <type>`), should an app route them through analytics.js, are not fed back.
    track: on((m) => m.name && beaconType(m.name, SEGMENT_EVENT_PREFIX) === null && pql.track(m.name, m.props)),
    page: on((m) => {
      if (!page) return;
      const { path, search } = m.props;
      const rest = Object.fromEntries(Object.entries(m.props).filter(([k]) => !PAGE_FIELDS.includes(k)));
      pql.page(typeof path == 'string' ? path + (typeof search == 'string' ? search : '') : undefined, rest);
    }),
    identify: on((m) => to.identify(m.userId, m.traits)),
    group: on((m) => to.group(m.accountId, m.traits)),
  };
}

// Also the default export: `import pqlkitPlugin from 'pqlkit/segment'`.
export default pqlkitPlugin;
