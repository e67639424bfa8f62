// @ts-check: tests/js/types.test.js checks this file, and its types against index.d.ts.
// pqlkit: the public JavaScript API (PRODUCT.md §3). The wasm core evaluates rules and owns the
// state; this facade owns loading, the clock, events, storage timing, tabs, consent, the UI and
// the outbox. No method throws into the host page once `init` has resolved: faults become
// `error` events.
import { Core, OUTCOMES, consentPolicy, valueBytes, writeJson, writeObject } from './core.js';
import { instantiate, wasmLoader } from './loader.js';
import { PqlkitError } from './errors.js';
import { connectTabs } from './tabs.js';
import { autocapture } from './autocapture.js';
import { createPromptUI } from './ui.js';
import { createOutbox } from './beacons.js';
import { unref } from './timers.js';

export { PqlkitError };

const EVENT_NAMES = ['qualified', 'rule:fired', 'prompt', 'beacon', 'error', 'prompt:shown', 'prompt:clicked', 'prompt:dismissed'];
const RULES_FETCH_TIMEOUT_MS = 10000;
const CONSENTS = ['granted', 'pending', 'denied'];
const STATE_KEY = 'pqlkit:v1:state';
// Writes are coalesced: track() never waits for localStorage; page hide writes at once.
const SAVE_DELAY_MS = 1000;
const POLICY = { store: 1, send: 2, queue: 4 };
// After a trap the core is started again; this many traps within a minute disable the SDK.
const MAX_TRAPS = 3;
const TRAP_WINDOW_MS = 60000;

/**
 * score().rules, built when first read from the matched bytes of the score's snapshot;
 * shared by every score object, so that they all have one shape. The snapshot rides on the
 * score object as a private field (stamped by a constructor that returns the object it is
 * given): invisible to keys, spread, JSON and deep equality, and half the cost of a second
 * defineProperty (measured in Chromium: 120 against 261 ns a score()).
 */
class Stamp {
  constructor(object) {
    return object;
  }
}
let snapshotOf;
class WithSnapshot extends Stamp {
  #snapshot;
  constructor(object, snapshot) {
    super(object);
    this.#snapshot = snapshot;
  }
  static {
    snapshotOf = (object) => object.#snapshot;
  }
}
const setRules = (score, value) => Object.defineProperty(score, 'rules', { value, writable: true, enumerable: true, configurable: true });
const LAZY_RULES = {
  enumerable: true,
  configurable: true,
  get() {
    const { rules, matched } = snapshotOf(this);
    return setRules(
      this,
      rules.map(([id, score], i) => {
        const holds = ((matched[i >> 5] >>> (i & 31)) & 1) === 1;
        return { id, matched: holds, score: holds ? score : 0 };
      }),
    ).rules;
  },
  set(value) {
    setRules(this, value);
  },
};

const isBrowser = () => typeof window !== 'undefined' && typeof document !== 'undefined';

/**
 * 128 random bits for the core's beacon ids, as four 32-bit words. crypto.getRandomValues is in
 * every browser (secure context or not) and in every Node the package supports (>= 20.19).
 */
const seed = () => crypto.getRandomValues(new Uint32Array(4));

/** A type for messages: `string`, `NaN`, `null`, `an array`. Never throws (a revoked Proxy throws in Array.isArray). */
const kind = (v) => {
  try {
    return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v == 'number' && !Number.isFinite(v) ? String(v) : typeof v;
  } catch {
    return 'an unreadable value';
  }
};

/** A string as itself, anything else by its kind: what a message calls an unusable name. */
const named = (v) => (typeof v == 'string' ? v : kind(v));

/** crypto.randomUUID exists only in secure contexts (https, localhost). */
const randomId = () => crypto.randomUUID?.() ?? 'a' + Math.random().toString(36).slice(2) + Date.now().toString(36);

/** Do-Not-Track or Global Privacy Control: local-only mode unless the host opts out. */
function privacySignal() {
  /** @type {(Navigator & { globalPrivacyControl?: boolean }) | undefined} */
  const n = globalThis.navigator;
  return n?.globalPrivacyControl === true || n?.doNotTrack === '1';
}

async function fetchRules(url) {
  let response;
  try {
    // AbortSignal.timeout: Safari >= 16 (before it, no timeout); its timer never holds a Node process.
    response = await fetch(url, { signal: AbortSignal.timeout?.(RULES_FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
  } catch (cause) {
    throw new PqlkitError('rules_fetch_failed', `could not fetch the rule set from ${url}: ${cause?.message ?? cause}`, { cause });
  }
  if (!response.ok) {
    throw new PqlkitError('rules_fetch_failed', `fetching the rule set from ${url} answered HTTP ${response.status}`);
  }
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new PqlkitError('invalid_json', `the rule set at ${url} is not JSON: ${cause.message}`, { cause });
  }
}

// The module is compiled once; each core gets its own instance (and a healed core a fresh one).
const loadRuntime = wasmLoader(new URL('./wasm/pqlkit_bg.wasm', import.meta.url));

/** A page whose CSP forbids WebAssembly (no `'wasm-unsafe-eval'`), or an engine without it. */
function blocked(cause) {
  if (typeof WebAssembly == 'object' && !/CSP|Content.Security|unsafe-eval|blocked|refused/i.test(cause?.message)) return cause;
  return new PqlkitError('wasm_blocked', `WebAssembly is blocked or unavailable on this page (a Content-Security-Policy needs 'wasm-unsafe-eval' in script-src): ${cause?.message ?? cause}`, { cause });
}

/** GrowthBook-compatible condition evaluation, exactly as rules use it (from pqlkit/validate, loaded on first use). */
export async function evalCondition(condition, attributes, groups) {
  return (await import('./validate.min.js')).evalCondition(condition, attributes, groups);
}

/**
 * Starts pqlkit. Resolves to the SDK instance; rejects with a `PqlkitError` when the rule set
 * cannot be loaded or is invalid (`error.errors` lists every problem with its JSON path).
 * @param {Partial<import('pqlkit').InitOptions>} [options]
 */
export async function init(options = {}) {
  if (options === null || typeof options !== 'object') {
    throw new PqlkitError('invalid_options', 'init(options) expects an options object');
  }
  // Segment's and PostHog's batch formats load only for the apps that ask for one, alongside
  // the rules and the wasm and before any beacon: a page with the default format fetches none of
  // that code. Should the module not load, the outbox holds its beacons (queued, persisted) unsent.
  const format = options.collector?.format;
  const writer = format == 'segment' || format == 'posthog' ? import('./formats.min.js').then((m) => m.batchWriter(format, options.collector.apiKey), () => null) : undefined;
  let rules = options.rules;
  // The wasm is fetched and compiled while the rule set is fetched, not after it: one round
  // trip instead of two before the first event counts. Its failure is answered below, once
  // the rules are known to be usable.
  const runtime = loadRuntime(options.wasmUrl);
  if (typeof rules === 'string') rules = await fetchRules(rules);
  if (rules === null || typeof rules !== 'object') {
    throw new PqlkitError('invalid_options', 'options.rules must be a rule-set object or a URL string', { path: 'rules' });
  }
  // The rule set crosses as a value, written from the object as JSON.stringify would write it
  // but with no JSON text in between (1000 rules: 5-7 ms less of an init in one page); its text is
  // written only for the validator, should the runtime refuse it.
  let layout;
  try {
    layout = valueBytes(rules);
  } catch (cause) {
    // A RangeError: nested deeper than a reader goes, which the core refuses as not JSON.
    if (!(cause instanceof RangeError)) throw new PqlkitError('invalid_options', `options.rules cannot be serialised: ${cause.message}`, { path: 'rules', cause });
  }
  let module, wasm;
  try {
    module = await runtime;
    wasm = instantiate(module);
  } catch (cause) {
    throw blocked(cause);
  }
  let core, found;
  try {
    core = new Core(wasm, layout, randomId(), seed());
    found = core.errors();
  } catch (cause) {
    throw new PqlkitError('internal_fault', `the core faulted compiling the rule set: ${cause?.message ?? cause}`, { cause });
  }
  if (found.length > 0) {
    core.free();
    throw await refusal(rules, found);
  }
  return new Pqlkit(module, wasm, core, layout, options, await writer);
}

/**
 * The error for a refused rule set. The runtime found each problem's code and path; the
 * authoring validator, loaded only now, words them as `pqlkit validate` does, from the rule
 * set's JSON text. Should it fail to load, codes and paths still say what is wrong and where.
 */
async function refusal(rules, found) {
  let errors = found;
  try {
    errors = (await (await import('./validate.min.js')).validate(JSON.stringify(rules))).errors;
  } catch {
    // Offline, or the validator is not served: keep the runtime's findings.
  }
  const first = errors[0] ?? found[0];
  const summary = errors.map((e) => `${e.path || '(rule set)'}: ${e.message || e.code}`).join('; ');
  return new PqlkitError(first.code, `invalid rule set: ${summary}`, { path: first.path, errors });
}

class Pqlkit {
  #module;
  #wasm;
  #core;
  /** The rule set's `valueBytes`, for a core started again after a fault. */
  #rules;
  /** When the core last trapped (Date.now(), within TRAP_WINDOW_MS). */
  #traps = [];
  /** The state as last saved (for a core whose store is memory) and when, for a heal. */
  #snapshot;
  #savedAt;
  /** Calls applied since the last save: what a heal loses. */
  #unsaved = 0;
  #now;
  #listeners = new Map();
  #cleanup = [];
  #timer;
  /** The core's next deadline (-1: none), cached so that calls skip advance() until it passes. */
  #deadline = -1;
  /** The last score read (see #readScore), and the rule set's `[[tier, ...], [[id, score], ...]]`. */
  #lastScore;
  #ruleSet;
  /** The deadline #timer was armed for (on the SDK's clock); it fires then or earlier. */
  #armedAt;
  #saveTimer;
  #disabled;
  #debug;
  #consent;
  #localOnly;
  #storage;
  #tabs;
  #ui;
  #outbox;
  #remoteVisible = new Set();
  #trackTaps = new Set();
  /** A prompt of this tab's UI is on screen, as far as the engine knows. */
  #shown;
  #tabId = randomId();

  constructor(module, wasm, core, rules, options, write) {
    this.#module = module;
    this.#wasm = wasm;
    this.#core = core;
    this.#rules = rules;
    this.#savedAt = Date.now();
    const now = typeof options.now === 'function' ? options.now : () => Date.now();
    // A clock that throws or answers NaN is reported by the call that reads it (#time).
    this.#now = () => {
      try {
        return Number(now());
      } catch {
        return NaN;
      }
    };
    this.#debug = Boolean(options.debug);
    this.#consent = CONSENTS.includes(options.consent) ? options.consent : 'granted';
    this.#localOnly = options.respectPrivacySignals !== false && privacySignal();
    // Under Node there is no localStorage worth trusting: always memory.
    this.#storage = options.storage === 'memory' || !isBrowser() ? 'memory' : 'local';
    this.#hearFirings();
    const opened = this.#read(() => core.openStorage(this.#mayStore() ? this.#storage : 'memory', STATE_KEY, this.#time() ?? Date.now()));
    // Reported once listeners can hear it: after init resolves.
    if (opened === 'replaced') this.#later(new PqlkitError('state_replaced', 'saved state was corrupt or foreign and was replaced'));
    if (opened === 'memory') this.#later(new PqlkitError('storage_unavailable', 'localStorage is unavailable: state kept in memory'));

    if (isBrowser() && options.ui !== 'none') {
      this.#ui = createPromptUI({
        onOutcome: (prompt, outcome) => this.promptOutcome(prompt, outcome),
        onError: (code, message) => this.#fault(new PqlkitError(code, message), false),
      });
    }
    if (options.collector?.url) {
      // Asked at each use, so a consent change applies to the outbox at once. Where nothing may
      // be stored, the outbox emptied by 'denied' (setMode('off')) leaves localStorage too.
      const local =
        this.#storage === 'local' ? { get: (k) => (this.#mayStore() ? localStorage.getItem(k) : null), set: (k, v) => (this.#mayStore() ? localStorage.setItem(k, v) : v == '[]' && localStorage.removeItem(k)) } : null;
      this.#outbox = createOutbox({
        url: options.collector.url,
        write,
        storage: local,
        now: this.#now,
        onError: (e) => this.#fault(new PqlkitError(e.code, 'beacon delivery: ' + e.message), false),
      });
      this.#applyConsent();
      if (write === null) this.#later(new PqlkitError('format_unavailable', `beacon delivery: the ${options.collector.format} format could not load: beacons are kept for a later page`));
    }
    if (isBrowser() && this.#storage === 'local') {
      // Tabs share what they store; an instance in memory (a playground, a test) stays apart.
      this.#tabs = connectTabs({
        onMessage: (message) => this.#fromTab(message),
        snapshot: () => this.#read(() => this.#core.saveState()),
        adopt: (state, calls) => {
          if (typeof state !== 'string' || !this.#read(() => this.#core.loadState(state, this.#now()))) return;
          for (const call of calls) this.#fromTab(call);
          this.#scheduleSave();
        },
      });
    }
    if (isBrowser()) {
      const hidden = () => {
        if (document.visibilityState === 'hidden') this.#pageHidden();
      };
      const pagehide = () => this.#pageHidden();
      document.addEventListener('visibilitychange', hidden);
      addEventListener('pagehide', pagehide);
      this.#cleanup.push(() => {
        document.removeEventListener('visibilitychange', hidden);
        removeEventListener('pagehide', pagehide);
      });
    }
    if (options.user) this.identify(options.user.id ?? null, options.user.traits);
    if (options.account) this.group(options.account.id ?? null, options.account.traits);
    if (options.autocapture !== false && isBrowser()) {
      this.#cleanup.push(
        autocapture({
          onFeature: (feature) => this.featureUsed(feature),
          onEvent: (name) => this.track(name),
          onPage: (path) => this.page(path),
        }),
      );
    }
    if (isBrowser() && (this.#debug || /[?&]pqlkit_debug=1(&|$)/.test(location.search))) this.#mountDebug();
    this.#advance();
  }

  /** Records an event with optional properties. */
  track(name, props) {
    if (typeof name !== 'string' || name === '') return this.#fault(new PqlkitError('invalid_event', `track(name): needs a non-empty event name, got ${kind(name)}`));
    this.#event('track', name, props);
  }

  featureUsed(feature, props) {
    if (this.#check('featureUsed(feature)', feature, 'string')) this.#event('featureUsed', 'feature_used', props, { feature });
  }

  /** A metered limit was hit: `limitHit('projects', { used: 5, limit: 5 })`. */
  limitHit(limit, counts) {
    if (!this.#check('limitHit(limit)', limit, 'string') || !this.#check('limitHit(counts)', counts, 'object', true)) return;
    // Not destructured in the signature: null would throw a TypeError into the page; nor
    // outside a try: a getter or a Proxy may throw.
    try {
      var { used, limit: max, ...rest } = counts ?? {};
    } catch {
      return this.#bad('limitHit(counts)', 'an unreadable value');
    }
    this.#event('limitHit', 'limit_hit', rest, { limit, used, max });
  }

  /** The current level of a metered limit: `usage('seats', 4, 5)`. */
  usage(limit, used, max) {
    if (this.#check('usage(limit)', limit, 'string') && this.#check('usage(used)', used, 'number') && this.#check('usage(max)', max, 'number')) {
      this.#event('usage', 'usage', null, { limit, used, max, ratio: max > 0 ? used / max : null });
    }
  }

  page(path, props) {
    if (!this.#check('page(path)', path, 'string', true)) return;
    const where = path ?? (isBrowser() ? location.pathname + location.search : '/');
    this.#event('page', 'page_view', props, { path: where, ...(isBrowser() ? { url: location.href, title: document.title } : {}) });
  }

  identify(userId, traits) {
    this.#traits('identify', userId, traits);
  }

  group(accountId, traits) {
    this.#traits('group', accountId, traits);
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on(event, listener) {
    if (!EVENT_NAMES.includes(event) || typeof listener !== 'function') {
      this.#bad(`on(event, listener): unknown event or no listener function`, named(event));
      return () => {};
    }
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event).add(listener);
    this.#hearFirings();
    return () => {
      this.#listeners.get(event)?.delete(listener);
      this.#hearFirings();
    };
  }

  /** Tells the core whether firings are heard: unheard, it writes no `qualified` effect (an event per firing). */
  #hearFirings() {
    const heard = Boolean(this.#listeners.get('qualified')?.size || this.#listeners.get('rule:fired')?.size);
    this.#read(() => this.#core.hearFirings(heard));
  }

  score() {
    this.#advance(false);
    return this.#read(() => this.#readScore()) ?? { score: 0, tier: null, qualified: false, rules: [] };
  }

  /**
   * Read from the core's status, without a call; the core is asked again only when its score
   * changed (the status's version), whatever the number of rules. `rules` is built when first
   * read, from the rules' matched bytes copied when the score changed.
   */
  #readScore() {
    const core = this.#core;
    // Every number read before the next call: a call may grow the memory, and the status
    // view with it is gone (a 1000-rule set's first rules() did, and the score read NaN).
    const status = core.status();
    const total = status[1], version = status[2], flags = status[3];
    let last = this.#lastScore;
    if (last?.core !== core || last.version !== version) {
      const [tiers, rules] = (this.#ruleSet ??= JSON.parse(core.rules()));
      last = this.#lastScore = { core, version, tier: tiers[(flags >> 1) - 1] ?? null, qualified: (flags & 1) === 1, rules, matched: core.matched(rules.length) };
    }
    // The total straight from the status, not copied through the snapshot: a number read from
    // the Float64Array is a heap number in optimised code and a small integer in the
    // interpreter, and score objects built from the copy sent Chromium's optimised code back to
    // the interpreter about 27 times per fresh page of the peer workload (--trace-deopt).
    const score = { score: total, tier: last.tier, qualified: last.qualified };
    new WithSnapshot(score, last);
    return Object.defineProperty(score, 'rules', LAZY_RULES);
  }

  explain(ruleId) {
    const t = this.#check('explain(ruleId)', ruleId, 'string') && this.#time('explain');
    if (typeof t != 'number') return null;
    this.#advance(true, t);
    return this.#read(() => JSON.parse(this.#core.explain(ruleId, t)));
  }

  /** Reports what became of a prompt handed out by a `prompt` event (headless mode). */
  promptOutcome(prompt, outcome) {
    // Read once, in a try: the app's object may have getters, or be a Proxy, that throw.
    try {
      var { id, rule } = prompt ?? {};
    } catch {}
    if (!OUTCOMES.includes(outcome) || typeof id != 'string') return this.#bad('promptOutcome(prompt, outcome)', named(outcome));
    if (outcome !== 'shown') this.#setVisible(false);
    this.#call('promptOutcome', [typeof rule == 'string' ? rule : undefined, id, outcome]);
    this.#emit(`prompt:${outcome}`, prompt);
  }

  /** Changes consent: `granted` stores and sends, `pending` holds everything in memory, `denied` stores and sends nothing. */
  setConsent(consent) {
    if (!CONSENTS.includes(consent)) return this.#bad('setConsent(consent)', named(consent));
    this.#consent = consent;
    this.#read(() => {
      if (this.#mayStore() && this.#storage === 'local' && !this.#core.isPersistent()) {
        // Granted: what was counted in memory moves to localStorage, nothing is lost.
        this.#core.moveStorage('local', STATE_KEY);
        this.#save();
      } else if (!this.#mayStore() && this.#core.isPersistent()) {
        this.#core.moveStorage('memory', STATE_KEY);
      }
    });
    this.#applyConsent();
  }

  /** Sends queued beacons now. */
  async flush() {
    try {
      await this.#outbox?.flush();
    } catch (error) {
      this.#fault(error, false);
    }
  }

  /** Log-out: forgets the user, counters and caps of this browser profile, in every tab. */
  reset() {
    this.#ui?.hide();
    this.#setVisible(false);
    const anonymousId = randomId();
    this.#read(() => this.#core.reset(anonymousId));
    this.#tabs?.post({ op: 'reset', args: [anonymousId] });
    this.#scheduleSave();
  }

  /** Removes listeners, timers and UI. The instance does nothing afterwards. */
  destroy() {
    if (this.#disabled) return;
    this.#save();
    const core = this.#core;
    this.#disable();
    this.#listeners.clear();
    try {
      core?.free();
    } catch {
      // Freed, or its instance trapped.
    }
  }

  /**
   * Stops for good: listeners, timers and UI removed; the tabs' channel closed and their
   * leadership (a Web Lock) released, so another tab acts on deadlines; the outbox's timers
   * stopped (its stored beacons stay for the other tabs).
   */
  #disable() {
    this.#disabled = true;
    this.#core = null;
    clearTimeout(this.#timer);
    clearTimeout(this.#saveTimer);
    for (const undo of this.#cleanup.splice(0)) undo();
    this.#ui?.destroy();
    this.#outbox?.destroy();
    this.#tabs?.close();
  }

  /** Reports an argument a public method cannot use (`invalid_argument`); the call is ignored. */
  #bad(call, got) {
    this.#fault(new PqlkitError('invalid_argument', `${call}: cannot use ${got}; the call is ignored`), false);
  }

  /** Whether `value` is a `type` (a non-empty string, a finite number, a plain object; or absent when `optional`); reported when not. */
  #check(call, value, type, optional) {
    try {
      var ok = (optional && value == null) || (type == 'string' ? typeof value == 'string' && value !== '' : type == 'number' ? Number.isFinite(value) : value !== null && typeof value == 'object' && !Array.isArray(value));
    } catch {} // a revoked Proxy: not ok
    if (!ok) this.#bad(call, kind(value));
    return ok;
  }

  /** An event: `props` (an object, or absent) with `extra` on top; reported, not thrown, when unusable. */
  #event(method, name, props, extra) {
    if (this.#check(method + '(props)', props, 'object', true)) this.#call('track', [name, props], method + '(props)', extra);
  }

  #traits(method, id, traits) {
    if (this.#check(method + '(id)', id, 'string', true) && this.#check(method + '(traits)', traits, 'object', true)) {
      this.#call(method, [id ?? undefined, traits], method + '(traits)');
    }
  }

  /**
   * `value` (an object, or absent) with `extra` on top, and its byte length as written for the
   * wasm (core.js `writeObject`, as JSON.stringify sees it); undefined (reported as `call`'s
   * bad argument) when it cannot be written or is no object.
   */
  #write(call, value, extra) {
    let merged, length;
    try {
      merged = extra ? { ...value, ...extra } : (value ?? {});
      length = writeObject(merged);
    } catch (error) {
      return this.#bad(call, `a value that cannot be serialised (${error?.message})`);
    }
    // toJSON may have turned it into something else.
    if (length >= 0) return { merged, length };
    this.#bad(call, 'a value that is not an object once written as JSON');
  }

  /** The SDK's clock now; undefined (reported as `call`'s bad argument) when it throws or is not finite. */
  #time(call) {
    const t = this.#now();
    if (Number.isFinite(t)) return t;
    if (call) this.#bad(`${call}() at options.now()`, kind(t));
  }

  #mayStore() {
    return (consentPolicy(this.#wasm, this.#consent, this.#localOnly) & POLICY.store) !== 0;
  }

  #applyConsent() {
    const policy = consentPolicy(this.#wasm, this.#consent, this.#localOnly);
    this.#outbox?.setMode(policy & POLICY.send ? 'send' : policy & POLICY.queue ? 'hold' : 'off');
  }

  /** Time-driven changes: acted on by the leader tab only, applied silently in the others. */
  #advance(force = true, now = this.#time()) {
    // Before each call only when a deadline has passed: one boundary crossing saved per call.
    if (now === undefined || (!force && (this.#deadline < 0 || now < this.#deadline))) return;
    const silent = this.#tabs && !this.#tabs.isLeader();
    this.#run('advance', [], now, silent);
  }

  /**
   * A call made in this tab: applied, acted on here, and replayed by the other tabs. `args[1]`
   * is the value `valueCall` names (an event's properties, traits), with `extra` on top, when
   * there is one: written for the wasm after advance(), whose listeners may make calls of
   * their own, and sent to the other tabs as JSON.
   */
  #call(method, args, valueCall, extra) {
    if (this.#disabled) return;
    const t = this.#time(method);
    if (t === undefined) return;
    if (this.#shown && !this.#ui?.visible()) this.#setVisible(false);
    this.#advance(false, t);
    const written = valueCall ? this.#write(valueCall, args[1], extra) : null;
    if (written === undefined) return;
    this.#run(method, written ? [args[0], written.length] : args, t);
    // No message is built when no tab would read it: track() is called thousands of times.
    const listening = this.#tabs?.listening();
    // As JSON text, which tabs of every version read; written once already, so it does not throw
    // unless a getter or toJSON of the app's changes its mind.
    let json;
    try {
      if (written && (listening || this.#trackTaps.size)) json = JSON.stringify(written.merged);
    } catch {
      json = '{}';
    }
    if (listening) this.#tabs.post({ op: method, args: written ? [args[0], json] : args, t, tab: this.#tabId });
    if (method === 'track' && this.#trackTaps.size) {
      for (const tap of this.#trackTaps) {
        try {
          tap(args[0], JSON.parse(json ?? '{}'), t);
        } catch (error) {
          this.#fault(error, false);
        }
      }
    }
  }

  /** The debug overlay is its own module, fetched only when asked for: it costs nothing otherwise. */
  #mountDebug() {
    import('./debug.js')
      .then(({ mountDebugOverlay }) => {
        if (this.#disabled) return;
        const onTrack = (callback) => {
          this.#trackTaps.add(callback);
          return () => this.#trackTaps.delete(callback);
        };
        this.#cleanup.push(mountDebugOverlay({ pql: this, onTrack, document }));
      })
      .catch((cause) => this.#fault(new PqlkitError('debug_unavailable', `debug overlay: ${cause?.message ?? cause}`), false));
  }

  #fromTab(message) {
    if (this.#disabled || !message || typeof message !== 'object') return;
    const { op, args, t } = message;
    if (op === 'visible') {
      if (message.on) this.#remoteVisible.add(message.tab);
      else this.#remoteVisible.delete(message.tab);
      this.#read(() => this.#core.setPromptVisible(this.#remoteVisible.size > 0 || Boolean(this.#ui?.visible())));
      return;
    }
    if (op === 'reset' && Array.isArray(args)) {
      this.#ui?.hide();
      this.#read(() => this.#core.reset(String(args[0])));
      return;
    }
    if (!['track', 'identify', 'group', 'promptOutcome'].includes(op) || !Array.isArray(args) || typeof t !== 'number') return;
    this.#advance(false);
    // Properties and traits come as JSON text; written for the wasm after advance(), as in #call.
    this.#run(op, op === 'promptOutcome' ? args : [args[0], writeJson(String(args[1]))], t, true);
  }

  /** Runs a core call that returns effects, dispatches them (unless silent), schedules a save and the next deadline. */
  #run(method, args, t, silent = false) {
    if (this.#disabled || !this.#core) return;
    let effects = null;
    try {
      // track() directly, with no closure or spread: it is the call made thousands of times.
      // It answers an empty string when there are no effects.
      const text = method === 'track' ? this.#core.track(args[0], args[1], t) : this.#core[method](...args, t);
      if (text) effects = JSON.parse(text);
    } catch (error) {
      return this.#fault(error);
    }
    this.#unsaved++;
    if (effects && !silent) for (const effect of effects) this.#dispatch(effect);
    this.#scheduleSave();
    this.#arm();
  }

  #read(call) {
    if (this.#disabled || !this.#core) return null;
    try {
      return call();
    } catch (error) {
      this.#fault(error);
      return null;
    }
  }

  /** Routes one effect of the core: prompts to the UI (or the app, headless), beacons to the outbox. */
  #dispatch({ type, payload }) {
    if (type === 'prompt') {
      // Headless apps report what became of the prompt through these, so caps, events and
      // beacons work the same as with the built-in UI.
      const prompt = payload; // a fresh object from JSON.parse: ours to extend
      for (const outcome of OUTCOMES) prompt[outcome] = () => this.promptOutcome(prompt, outcome);
      this.#emit('prompt', prompt);
      if (this.#ui && this.#remoteVisible.size === 0 && this.#ui.show(prompt)) this.#setVisible(true);
    } else {
      if (type === 'beacon') this.#outbox?.enqueue(payload);
      // A rule fired: `rule:fired` for the apps that follow firings alone, then `qualified`
      // (PRODUCT.md: firing emits qualified-style events), whose `qualified` says whether the
      // user is a qualified lead now.
      else if (payload.rule && type == 'qualified') this.#emit('rule:fired', payload);
      this.#emit(type, payload);
    }
  }

  #setVisible(on) {
    this.#shown = on;
    this.#read(() => this.#core.setPromptVisible(on || this.#remoteVisible.size > 0));
    this.#tabs?.post({ op: 'visible', on, tab: this.#tabId });
  }

  #scheduleSave() {
    if (this.#saveTimer || this.#disabled) return;
    this.#saveTimer = unref(setTimeout(() => this.#save(), SAVE_DELAY_MS));
  }

  #save() {
    clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    if (this.#read(() => this.#core.persist()) === false) this.#fault(new PqlkitError('storage_full', 'localStorage is full: state kept in memory'), false);
    // A core whose store is memory keeps its saved state here, for a heal.
    this.#snapshot = this.#read(() => (this.#core.isPersistent() ? null : this.#core.saveState()));
    this.#savedAt = Date.now();
    this.#unsaved = 0;
  }

  #pageHidden() {
    this.#save();
    this.#outbox?.pageHidden();
    if (this.#ui?.visible()) this.#tabs?.post({ op: 'visible', on: false, tab: this.#tabId });
  }

  #arm() {
    const deadline = this.#disabled ? -1 : (this.#core?.status()[0] ?? -1);
    this.#deadline = deadline;
    // A timer armed for an earlier time stays: it wakes, finds nothing due and arms for what
    // is. Deadlines move at most events; re-arming each time cost a clearTimeout + setTimeout.
    if (deadline < 0 || (this.#timer && this.#armedAt <= deadline)) return;
    clearTimeout(this.#timer);
    // Long deadlines are re-armed in steps: setTimeout overflows past ~24.8 days (the timer
    // then fires before #armedAt, which is harmless: it re-arms).
    const delay = Math.min(Math.max(0, deadline - this.#now()), 2 ** 31 - 1);
    this.#armedAt = deadline;
    this.#timer = unref(
      setTimeout(() => {
        this.#timer = null;
        this.#advance();
      }, delay),
    );
  }

  #later(error) {
    setTimeout(() => this.#fault(error, false), 0);
  }

  #emit(event, payload) {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        listener(payload);
      } catch (error) {
        if (event !== 'error') this.#fault(error, false);
      }
    }
  }

  /** A fault inside pqlkit or a listener: report it; a trap in the wasm core heals it (#heal). */
  #fault(error, fromCore = true) {
    if (fromCore && !(error instanceof PqlkitError)) return this.#heal(error);
    const wrapped = error instanceof PqlkitError ? error : new PqlkitError('listener_fault', String(error?.message ?? error), { cause: error });
    if (this.#debug) console.warn('[pqlkit]', wrapped);
    this.#emit('error', wrapped);
  }

  /**
   * The core trapped (or answered something unreadable): its instance may be inconsistent, so
   * a fresh instance of the module takes over, from the last saved state, or empty when that
   * traps too. The call that trapped and those since the last save are lost; `internal_fault`
   * says so. MAX_TRAPS within TRAP_WINDOW_MS disable the SDK (#disable).
   */
  #heal(error) {
    if (this.#disabled) return;
    const at = Date.now();
    this.#traps = this.#traps.filter((t) => at - t < TRAP_WINDOW_MS);
    this.#traps.push(at);
    let message = `the core faulted (${error?.name ?? 'Error'}: ${error?.message ?? error})`;
    if (this.#traps.length >= MAX_TRAPS) {
      this.#disable();
      message += `, ${MAX_TRAPS} times within a minute: pqlkit is disabled on this page`;
    } else {
      const lost = `the call that faulted and ${this.#unsaved} calls since the last save (${new Date(this.#savedAt).toISOString()}) are lost`;
      this.#core = null; // its instance is not called again
      try {
        this.#restart(true);
        message += `; restarted from the saved state: ${lost}`;
      } catch {
        try {
          this.#restart(false);
          message += '; restoring the saved state faulted too: restarted empty, every count, cap and trait is lost';
        } catch (again) {
          this.#disable();
          message += `; restarting faulted too (${again?.message ?? again}): pqlkit is disabled on this page`;
        }
      }
    }
    this.#fault(new PqlkitError('internal_fault', message, { cause: error }), false);
    if (this.#disabled) this.#listeners.clear();
  }

  /** A new core in a fresh instance: `restore`d from the saved state, or empty. */
  #restart(restore) {
    const wasm = instantiate(this.#module);
    const core = new Core(wasm, this.#rules, randomId(), seed());
    this.#wasm = wasm;
    const now = this.#time() ?? Date.now();
    const store = this.#mayStore() ? this.#storage : 'memory';
    if (!restore) {
      core.openStorage('memory', STATE_KEY, now);
      // What is stored is overwritten at the next save.
      if (store == 'local') core.moveStorage('local', STATE_KEY);
    } else if (core.openStorage(store, STATE_KEY, now) == 'replaced' || (!core.isPersistent() && this.#snapshot && !core.loadState(this.#snapshot, now))) {
      throw new Error('unreadable state');
    }
    core.setPromptVisible(this.#shown || this.#remoteVisible.size > 0);
    this.#core = core;
    this.#hearFirings();
    this.#unsaved = 0;
    this.#deadline = -1;
    this.#arm();
    this.#scheduleSave();
  }
}
