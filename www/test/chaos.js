// The chaos fixture's script (tests/e2e/chaos.test.js). A host page that, for a given time,
// drives every public method of pqlkit with random valid and invalid arguments from a seeded
// PRNG, jumps the SDK's clock (options.now) back and forth, makes localStorage.setItem throw
// QuotaExceededError at random and toggles consent. It keeps a ledger of every beacon fired
// (`beacon` event) by the consent in force when it fired, so the test can compare it with what
// the collector received:
//   must   fired while 'granted' (or while 'pending' and granted since): the collector gets it,
//          unless the outbox's byte cap dropped it (`outbox_full`);
//   held   fired while 'pending', no grant yet: sent after a later grant, dropped by 'denied';
//   maybe  a `must` beacon when consent became 'denied': sent already, or dropped (the contract:
//          'denied' drops the outbox), whichever came first;
//   never  fired while 'denied'.
import { init, evalCondition } from '/pqlkit/pqlkit.min.js';
import { prng } from '/test/prng.js';

window.pageClicks = 0;
document.getElementById('own').addEventListener('click', () => {
  window.pageClicks += 1;
  document.getElementById('count').textContent = String(window.pageClicks);
});

const RULES = {
  version: 1,
  pages: { pricing: '/pricing*' },
  rules: [
    { id: 'exports', audience: { plan: { $in: ['free', 'trial'] } }, when: { event: 'feature_used', where: { feature: 'export' }, count: { $gte: 3 }, within: '1h' }, score: 20, actions: [{ prompt: 'export-modal' }, { beacon: 'feature' }], frequency: { cooldown: '10m' }, priority: 5 },
    { id: 'pings', trigger: { event: 'ping' }, when: { event: 'ping', count: 1 }, score: 1, actions: [{ beacon: 'ping' }] },
    { id: 'pricing', when: { event: 'page_view', where: { page: 'pricing' }, count: 2, within: '7d' }, score: 20, actions: [{ prompt: 'talk' }, { beacon: 'intent' }], frequency: { cooldown: '1h' } },
    { id: 'limit', trigger: { event: 'limit_hit', where: { limit: 'projects' } }, when: { limit: 'projects', usage: { $gte: 1 } }, score: 30, actions: [{ prompt: 'side' }] },
    { id: 'abandoned', when: { event: 'upgrade_started', notFollowedBy: { event: 'upgrade_completed' }, within: '90s' }, score: 10, actions: [{ prompt: 'finish' }, { beacon: 'abandoned' }], priority: 10 },
    { id: 'sessions', when: { sessions: { $gte: 3 }, within: '7d' }, score: 10 },
    { id: 'days', when: { event: 'feature_used', distinctDays: { $gte: 2 }, within: '14d' }, score: 10 },
    { id: 'spend', when: { event: 'purchase', sum: 'amount', value: { $gte: 100 }, within: '30d' }, score: 10, actions: [{ beacon: 'spend' }] },
    { id: 'young', when: { firstSeen: true, within: '7d' }, score: 5 },
    { id: 'fit', audience: { 'account.company_size': { $gte: 10 } }, when: { traits: { role: 'admin' } }, score: 10 },
    { id: 'final', trigger: { event: 'chaos_final_check' }, when: { event: 'chaos_final_check', count: 1 }, score: 1, actions: [{ beacon: 'final' }] },
  ],
  scoring: { threshold: 50, tiers: { warm: 20, hot: 50 } },
  onQualified: [{ beacon: 'pql' }],
  prompts: {
    'export-modal': { style: 'modal', title: 'Export {{event.feature}} with Pro', body: 'Hi {{user.name}} of {{account.name}}', cta: { label: 'Upgrade', url: '/upgrade' } },
    talk: { style: 'toast', title: 'Comparing plans?', body: 'We can help.', cta: { label: 'Book', url: 'https://example.com/meet' } },
    side: { style: 'inline', slot: 'sidebar', title: 'Out of projects', body: '{{event.max}} used', cta: { label: 'Upgrade', url: '/upgrade' } },
    finish: { style: 'banner', title: 'Finish your upgrade', body: 'One step left.', cta: { label: 'Resume', url: '/upgrade' } },
  },
  limits: { maxPerSession: 5, maxPerDay: 10, minInterval: '1m' },
};

const EVENTS = ['feature_used', 'limit_hit', 'upgrade_started', 'upgrade_completed', 'purchase', 'page_view', 'noise', 'invite_sent', 'prompt_shown', 'usage'];
const PUBLIC_EVENTS = ['qualified', 'prompt', 'prompt:shown', 'prompt:clicked', 'prompt:dismissed', 'beacon', 'error'];
const CONSENTS = ['granted', 'pending', 'denied'];

/** Starts the SDK for a chaos run; the ledger and figures live in `window.chaos`. */
window.start = async ({ seed }) => {
  const rand = prng(seed);
  const storageRand = prng(seed ^ 0x9e3779b9);
  const int = (n) => Math.floor(rand() * n);
  const pick = (list) => list[int(list.length)];
  const chance = (p) => rand() < p;

  // localStorage that throws QuotaExceededError at random (probability `quota.p`).
  const quota = { p: 0, thrown: 0 };
  const realSetItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function setItem(key, value) {
    if (quota.p > 0 && storageRand() < quota.p) {
      quota.thrown += 1;
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    }
    return realSetItem.call(this, key, value);
  };

  // The SDK's clock: jumps back and forth; now and then it throws or answers NaN.
  const clock = { offset: 0, mode: 'ok', jumps: 0 };
  const now = () => {
    if (clock.mode === 'throw') throw new Error('chaos: clock broken');
    if (clock.mode === 'nan') return NaN;
    return Date.now() + clock.offset;
  };

  const figures = { seed, calls: 0, byMethod: {}, thrown: [], rejected: [], errors: {}, consentChanges: 0, clockJumps: 0, extraInits: 0, initRejections: {}, beaconTypes: {}, quota };
  const ledger = new Map(); // beacon id -> 'must' | 'held' | 'maybe' | 'never'
  let consent = 'granted';
  let outboxFull = 0;
  const prompts = [];

  const pql = await init({
    rules: RULES,
    user: { id: 'u_chaos', traits: { plan: 'free', role: 'admin', name: 'Ada' } },
    account: { id: 'acme', traits: { company_size: 50, name: 'Acme' } },
    collector: { url: '/pql/collect' },
    storage: 'local',
    consent,
    now,
  });
  // Registered first, so they see each event before any random listener acts on it.
  pql.on('beacon', (b) => {
    if (ledger.has(b.id)) figures.thrown.push(`beacon ${b.id} fired twice`);
    figures.beaconTypes[b.type] = (figures.beaconTypes[b.type] ?? 0) + 1;
    ledger.set(b.id, consent === 'granted' ? 'must' : consent === 'pending' ? 'held' : 'never');
  });
  pql.on('error', (e) => {
    figures.errors[e.code] = (figures.errors[e.code] ?? 0) + 1;
    if (e.code === 'outbox_full') outboxFull += 1;
  });
  pql.on('prompt', (p) => {
    prompts.push(p);
    if (prompts.length > 20) prompts.shift();
  });

  /** Every consent change goes through here, so the ledger knows the consent in force. */
  const setConsent = (c) => {
    pql.setConsent(c);
    if (!CONSENTS.includes(c)) return;
    if (c !== consent) figures.consentChanges += 1;
    consent = c;
    for (const [id, state] of ledger) {
      if (c === 'granted' && state === 'held') ledger.set(id, 'must');
      if (c === 'denied' && state === 'held') ledger.set(id, 'never');
      if (c === 'denied' && state === 'must') ledger.set(id, 'maybe');
    }
  };

  // Arbitrary values, hostile ones included.
  const hostile = () => {
    switch (int(9)) {
      case 0: {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return proxy;
      }
      case 1:
        return {
          get used() {
            throw new Error('chaos: getter');
          },
          get id() {
            throw new Error('chaos: getter');
          },
        };
      case 2:
        return {
          toJSON() {
            throw new Error('chaos: toJSON');
          },
        };
      case 3: {
        const o = { a: 1 };
        o.self = o;
        return o;
      }
      case 4:
        return new Proxy(
          {},
          {
            get() {
              throw new Error('chaos: proxy get');
            },
            ownKeys() {
              throw new Error('chaos: proxy keys');
            },
          },
        );
      case 5:
        return { toJSON: () => pick(['str', [1, 2], 7, null]) };
      case 6:
        return {
          [Symbol.toPrimitive]() {
            throw new Error('chaos: toPrimitive');
          },
        };
      case 7: {
        let deep = {};
        for (let i = 0; i < 5000; i++) deep = { deep };
        return deep;
      }
      default:
        return Object.create(null);
    }
  };
  const text = () => {
    switch (int(8)) {
      case 0:
        return '';
      case 1:
        return pick(['export', 'projects', 'seats', 'pricing', '/pricing', 'acme', 'u_1']);
      case 2:
        return '\u2028\u2029';
      case 3:
        return '\uD800x\uDFFF';
      case 4:
        return 'é漢字🙂'.repeat(1 + int(4));
      case 5:
        return 'a'.repeat(int(3000));
      case 6:
        return String.fromCharCode(...Array.from({ length: 1 + int(12) }, () => int(0x10000)));
      default:
        return `v${int(100)}`;
    }
  };
  const any = (depth = 0) => {
    switch (int(depth > 2 ? 6 : 12)) {
      case 0:
        return text();
      case 1:
        return pick([0, -0, 1, -1, 5, 1e308, -1e308, NaN, Infinity, -Infinity, 2 ** 53 + 1, 0.1 + 0.2, 1e-320]);
      case 2:
        return pick([true, false, null, undefined]);
      case 3:
        return text();
      case 4:
        return int(10);
      case 5:
        return pick([null, undefined, '']);
      case 6: {
        const o = {};
        for (let i = int(5); i > 0; i--) o[pick(['feature', 'limit', 'used', 'amount', 'plan', 'page', 'x', text()])] = any(depth + 1);
        return o;
      }
      case 7:
        return Array.from({ length: int(4) }, () => any(depth + 1));
      case 8:
        return pick([() => 'f', Symbol('s'), 10n, new Date(int(2) ? NaN : 0), new Map([[1, 2]]), /re/g]);
      case 9:
      case 10:
        return hostile();
      default:
        return { feature: 'export', limit: 'projects', used: int(8), amount: int(80) };
    }
  };
  const maybe = (valid, p = 0.7) => (chance(p) ? valid() : any());
  const props = () => maybe(() => pick([undefined, {}, { feature: pick(['export', 'share']) }, { amount: int(60) }, { limit: 'projects', used: int(7), max: 5 }]));

  let depth = 0;
  /** A random listener: throws, reads, or calls back into the SDK (re-entrancy, bounded). */
  const listener = () => {
    switch (int(4)) {
      case 0:
        return () => {
          throw new Error('chaos: listener');
        };
      case 1:
        return () => pql.score();
      case 2:
        return (payload) => {
          if (depth > 1 || !chance(0.2)) return;
          depth += 1;
          try {
            pql.track(pick(['noise', 'feature_used', 'upgrade_started']), { feature: 'export' });
            if (typeof payload?.dismissed === 'function' && chance(0.5)) payload.dismissed();
          } finally {
            depth -= 1;
          }
        };
      default:
        return () => {};
    }
  };
  const offs = [];

  const methods = [
    [30, 'track', () => pql.track(maybe(() => (chance(0.03) ? 'ping' : pick(EVENTS)), 0.85), props())],
    [10, 'featureUsed', () => pql.featureUsed(maybe(() => pick(['export', 'share', 'publish'])), props())],
    [6, 'limitHit', () => pql.limitHit(maybe(() => pick(['projects', 'seats'])), maybe(() => ({ used: int(7), limit: 5 })))],
    [6, 'usage', () => pql.usage(maybe(() => pick(['projects', 'seats'])), maybe(() => int(7)), maybe(() => pick([5, 0, 10])))],
    [5, 'page', () => pql.page(maybe(() => pick([undefined, '/pricing', '/pricing/team', '/dashboard'])), props())],
    [3, 'identify', () => pql.identify(maybe(() => pick(['u_chaos', 'u_other', undefined, null])), maybe(() => ({ plan: pick(['free', 'trial', 'pro']), role: pick(['admin', 'viewer']) })))],
    [3, 'group', () => pql.group(maybe(() => pick(['acme', 'globex', null])), maybe(() => ({ company_size: int(200) })))],
    // At most 8 listeners of the chaos at a time: each new one beyond unsubscribes the oldest.
    [3, 'on', () => (chance(0.6) ? offs.push(pql.on(maybe(() => pick(PUBLIC_EVENTS)), maybe(listener))) > 8 && offs.shift()() : offs.splice(int(offs.length + 1), 1)[0]?.())],
    [3, 'score', () => pql.score()],
    [3, 'explain', () => pql.explain(maybe(() => pick(RULES.rules).id))],
    [1, 'promptOutcome', () => pql.promptOutcome(maybe(() => pick(prompts) ?? { id: 'talk', rule: 'pricing' }), maybe(() => pick(['shown', 'clicked', 'dismissed'])))],
    // Valid changes of consent come from the run loop, a few per run; here the same again or bad values.
    [1, 'setConsent', () => setConsent(maybe(() => consent, 0.3))],
    [1, 'flush', () => pql.flush().catch((e) => figures.rejected.push(`flush: ${e?.message ?? e}`))],
    [0.3, 'reset', () => pql.reset()],
    [0.3, 'evalCondition', () => evalCondition(maybe(() => ({ plan: { $in: ['free'] } })), maybe(() => ({ plan: 'free' }))).catch(() => {})],
    [0.5, 'dom', () => (chance(0.5) ? document.getElementById(pick(['export', 'invite', 'own'])).click() : history.pushState(null, '', pick(['/pricing', '/pricing?x=1', '/test/chaos.html'])))],
    [
      0.2,
      'init',
      () => {
        figures.extraInits += 1;
        const rules = chance(0.5) ? RULES : pick([{}, { version: 2 }, { version: 1, rules: [{ id: 'x', when: { event: 'a', count: { $nope: 1 } } }] }, '/test/missing-rules.json', null, any()]);
        return init(chance(0.9) ? { rules, storage: 'memory', ui: 'none', autocapture: false, now: chance(0.5) ? now : undefined } : any())
          .then((extra) => {
            extra.track('ping');
            extra.destroy();
            extra.destroy();
            extra.track('ping'); // after destroy: does nothing, throws nothing
          })
          .catch((e) => {
            // Options whose getters throw reject with the app's own error: fair.
            if (/^chaos:/.test(e?.message)) figures.initRejections.hostileOptions = (figures.initRejections.hostileOptions ?? 0) + 1;
            else if (e?.name !== 'PqlkitError') figures.rejected.push(`init: ${e?.name}: ${e?.message}`);
            else figures.initRejections[e.code] = (figures.initRejections[e.code] ?? 0) + 1;
          });
      },
    ],
  ];
  const total = methods.reduce((s, [w]) => s + w, 0);
  const call = () => {
    let r = rand() * total;
    const [, name, f] = methods.find(([w]) => (r -= w) < 0) ?? methods[0];
    figures.calls += 1;
    figures.byMethod[name] = (figures.byMethod[name] ?? 0) + 1;
    try {
      f();
    } catch (error) {
      figures.thrown.push(`${name}: ${error?.name}: ${error?.message}`);
    }
  };

  const jumpClock = () => {
    figures.clockJumps += 1;
    const r = rand();
    clock.mode = r < 0.03 ? 'throw' : r < 0.06 ? 'nan' : 'ok';
    const day = 86400000;
    clock.offset = pick([
      0,
      clock.offset + int(120) * 1000, // seconds ahead: deadlines pass
      clock.offset + int(48) * 3600000,
      clock.offset - int(48) * 3600000, // back in time
      clock.offset + int(30) * day,
      clock.offset - int(30) * day,
      -Date.now(), // the epoch
      -Date.now() - 1e12, // before it
      8.64e15 - Date.now(), // the largest Date
      int(400) * day,
    ]);
  };

  /** Runs the chaos for `ms`; resolves to the figures (the collector flaps meanwhile, driven by the test). */
  const run = async (ms) => {
    const until = performance.now() + ms;
    let consentAt = performance.now() + 1000;
    while (performance.now() < until) {
      for (let n = 1 + int(25); n > 0; n--) call();
      if (chance(0.08)) jumpClock();
      if (performance.now() > until - 4000) {
        // The last 4 s run granted, so that a good share of the ledger must arrive.
        if (consent !== 'granted') setConsent('granted');
      } else if (performance.now() > consentAt) {
        // Every 1-3 s another consent, granted the most often.
        setConsent(pick(CONSENTS.filter((c) => c !== consent).concat('granted', 'granted')));
        consentAt = performance.now() + 1000 + rand() * 2000;
      }
      if (chance(0.05)) quota.p = pick([0, 0, 0.2, 0.5, 1]);
      await new Promise((r) => setTimeout(r, int(15)));
    }
  };

  /**
   * Ends the run: a sane clock, storage that works, consent granted, prompts hidden, a valid
   * rule fired; then flushes until the outbox is empty (the test has set the collector to 200).
   */
  const finish = async () => {
    clock.mode = 'ok';
    clock.offset = 0;
    quota.p = 0;
    for (const off of offs.splice(0)) off?.();
    history.pushState(null, '', '/test/chaos.html');
    setConsent('granted');
    pql.reset(); // hides any prompt on screen
    const fired = [];
    const off = pql.on('beacon', (b) => fired.push(b));
    pql.track('chaos_final_check');
    off();
    let flushes = 0;
    for (; flushes < 100; flushes++) {
      await pql.flush();
      let stored;
      try {
        stored = JSON.parse(localStorage.getItem('pqlkit:v1:outbox') ?? '[]');
      } catch {
        stored = null;
      }
      if (Array.isArray(stored) && stored.length === 0 && flushes > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const states = {};
    for (const [id, state] of ledger) (states[state] ??= []).push(id);
    return { ...figures, quotaThrown: quota.thrown, finalBeacon: fired.map((b) => b.rule), flushes, outboxFull, ledger: states };
  };

  window.chaos = { run, finish, pql };
  return true;
};
window.ready = true;
