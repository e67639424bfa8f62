// pqlkit/posthog: feeds pqlkit from posthog-js, so nothing is instrumented twice:
// `posthog.on('eventCaptured', pqlkitPlugin(pql))` (each event posthog-js is about to send), or
// `posthog.init(key, { before_send: pqlkitPlugin(pql) })`: the function hands every event back
// unchanged, so PostHog delivers its own events as before. Fields are read as the beacons'
// posthog format maps them (js/formats.js): distinct_id as the user once identified,
// $groups.company as the account.
import { feed, isEmpty } from './adapters.js';
import { beaconType, POSTHOG_ACCOUNT_GROUP, POSTHOG_EVENT_PREFIX, readPosthog } from './formats.js';

/** The app's own properties: PostHog's (`$…`) and the project token left out. */
const own = (props) => Object.fromEntries(Object.entries(props).filter(([k]) => k[0] !== '$' && k !== 'token'));

/** The path and query of a $pageview, as pqlkit's own page views record them. */
function pathOf(props) {
  if (typeof props.$pathname != 'string') return undefined;
  try {
    return props.$pathname + new URL(props.$current_url).search;
  } catch {
    return props.$pathname;
  }
}

/**
 * The hook: `$pageview` → `pql.page(path, properties)`, `$identify` and `$set` →
 * `pql.identify(distinct_id, $set)`, `$groupidentify` of group type `company` →
 * `pql.group($group_key, $group_set)`, any other event not named `$…` → `pql.track(event,
 * properties)` without PostHog's `$…` properties. A user (`distinct_id` once `$is_identified`) or
 * `$groups.company` seen on any event that pqlkit does not know yet is identified first, and an
 * event's `$set` reaches pqlkit's traits. `{ page: false }` leaves page views to pqlkit's
 * autocapture (with both, each navigation counts twice); `{ groupType }` names the PostHog
 * group type that is pqlkit's account (default `company`, as the posthog beacon format writes).
 */
export function pqlkitPlugin(pql, { page = true, groupType = POSTHOG_ACCOUNT_GROUP } = {}) {
  const to = feed(pql);
  return function pqlkit(event) {
    const e = readPosthog(event, groupType);
    const { name, props } = e;
    const identified = props.$is_identified === true ? e.distinctId : null;
    if (name === '$identify') to.identify(identified ?? e.distinctId, e.set);
    if (name === '$groupidentify' && props.$group_type === groupType) to.group(props.$group_key, props.$group_set ?? {});
    to.seen(identified, e.accountId);
    if (name !== '$identify' && !isEmpty(e.set)) to.identify(null, e.set);
    if (name === '$pageview') {
      if (page) pql.page(pathOf(props), own(props));
    } else if (name && name[0] !== '$' && beaconType(name, POSTHOG_EVENT_PREFIX) === null) {
      // pqlkit's own beacons (`pql_<type>`), should an app capture them, are not fed back.
      pql.track(name, own(props));
    }
    return event;
  };
}

// Also the default export: `import pqlkitPlugin from 'pqlkit/posthog'`.
export default pqlkitPlugin;
