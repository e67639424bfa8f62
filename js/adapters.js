// What pqlkit/segment and pqlkit/posthog share: the check of the instance they feed, and the
// user and account ids they have told it, so that an id seen on any event reaches pqlkit once.
import { PqlkitError } from 'pqlkit';

export const isEmpty = (o) => !o || Object.keys(o).length === 0;

/** `pql` with identify / group that remember the ids; throws a typed error when it is no pqlkit instance. */
export function feed(pql) {
  if (typeof pql?.track !== 'function' || typeof pql?.identify !== 'function' || typeof pql?.group !== 'function') {
    throw new PqlkitError('invalid_argument', 'pqlkitPlugin(pql): expects the instance that init() resolved to');
  }
  let userId = null;
  let accountId = null;
  return {
    pql,
    /** identify(id, traits); a null id keeps the user pqlkit knows and adds the traits. */
    identify(id, traits = {}) {
      userId = id ?? userId;
      pql.identify(id ?? null, traits);
    },
    group(id, traits = {}) {
      accountId = id ?? accountId;
      pql.group(id ?? null, traits);
    },
    /** The host SDK logged out: pqlkit forgets the user, counters and caps too (`pql.reset()`). */
    reset() {
      userId = accountId = null;
      pql.reset();
    },
    /** Ids on an event: told to pqlkit when new. */
    seen(user, account) {
      if (user != null && user !== userId) this.identify(user);
      if (account != null && account !== accountId) this.group(account);
    },
  };
}
