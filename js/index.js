// pqlkit: the public JavaScript API (PRODUCT.md §3). The wasm core evaluates rules and owns the
// state; this facade owns loading, the clock, events, storage timing, tabs, consent, the UI and
// the outbox. No method throws into the host page once `init` has resolved: faults become
// `error` events.
import { initSync } from './wasm/pqlkit.js';
import { Core, consentPolicy } from './core.js';
import { wasmLoader } from './loader.js';
import { PqlkitError } from './errors.js';
import { connectTabs } from './tabs.js';
import { autocapture } from './autocapture.js';
import { createPromptUI } from './ui.js';
import { createOutbox } from './beacons.js';

export { PqlkitError };

const EVENT_NAMES = ['qualified', 'prompt', 'beacon', 'error', 'prompt:shown', 'prompt:clicked', 'prompt:dismissed'];
const RULES_FETCH_TIMEOUT_MS = 10000;
const OUTCOMES = ['shown', 'clicked', 'dismissed'];
const STATE_KEY = 'pqlkit:v1:state';
// Writes are coalesced: track() never waits for localStorage; page hide writes at once.
const SAVE_DELAY_MS = 1000;
const POLICY = { store: 1, send: 2, queue: 4 };

const isBrowser = () => typeof window !== 'undefined' && typeof document !== 'undefined';

function randomId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  return 'a' + Math.random().toString(36).slice(2) + Date.now().toString(36);
}

/** Do-Not-Track or Global Privacy Control: local-only mode unless the host opts out. */
function privacySignal() {
  const n = globalThis.navigator;
  return Boolean(n && (n.globalPrivacyControl === true || n.doNotTrack === '1'));
}

async function fetchRules(url) {
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  const timer = controller && setTimeout(() => controller.abort(), RULES_FETCH_TIMEOUT_MS);
  let response;
  try {
    response = await fetch(url, { signal: controller?.signal, headers: { accept: 'application/json' } });
  } catch (cause) {
    throw new PqlkitError('rules_fetch_failed', `could not fetch the rule set from ${url}: ${cause?.message ?? cause}`, { cause });
  } finally {
    if (timer) clearTimeout(timer);
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

const loadRuntime = wasmLoader(new URL('./wasm/pqlkit_bg.wasm', import.meta.url), initSync);

/** GrowthBook-compatible condition evaluation, exactly as rules use it (from pqlkit/validate, loaded on first use). */
export async function evalCondition(condition, attributes, groups) {
  return (await import('./validate.min.js')).evalCondition(condition, attributes, groups);
}

/**
 * Starts pqlkit. Resolves to the SDK instance; rejects with a `PqlkitError` when the rule set
 * cannot be loaded or is invalid (`error.errors` lists every problem with its JSON path).
 */
export async function init(options = {}) {
  if (options === null || typeof options !== 'object') {
    throw new PqlkitError('invalid_options', 'init(options) expects an options object');
  }
  let rules = options.rules;
  if (typeof rules === 'string') rules = await fetchRules(rules);
  if (rules === null || typeof rules !== 'object') {
    throw new PqlkitError('invalid_options', 'options.rules must be a rule-set object or a URL string', { path: 'rules' });
  }
  let rulesJson;
  try {
    rulesJson = JSON.stringify(rules);
  } catch (cause) {
    throw new PqlkitError('invalid_options', `options.rules cannot be serialised: ${cause.message}`, { path: 'rules', cause });
  }
  const wasm = await loadRuntime(options.wasmUrl);
  const core = new Core(wasm, rulesJson, randomId(), Math.floor(Math.random() * 2 ** 52));
  const found = core.errors();
  if (found.length > 0) {
    core.free();
    throw await refusal(rulesJson, found);
  }
  return new Pqlkit(wasm, core, options);
}

/**
 * The error for a refused rule set. The runtime found each problem's code and path; the
 * authoring validator, loaded only now, words them as `pqlkit validate` does. Should it fail to
 * load, codes and paths still say what is wrong and where.
 */
async function refusal(rulesJson, found) {
  let errors = found;
  try {
    errors = (await (await import('./validate.min.js')).validate(rulesJson)).errors;
  } catch {
    // Offline, or the validator is not served: keep the runtime's findings.
  }
  const first = errors[0] ?? found[0];
  const summary = errors.map((e) => `${e.path || '(rule set)'}: ${e.message || e.code}`).join('; ');
  return new PqlkitError(first.code, `invalid rule set: ${summary}`, { path: first.path, errors });
}

class Pqlkit {
  #wasm;
  #core;
  #now;
  #listeners = new Map();
  #cleanup = [];
  #timer;
  /** The core's next deadline (-1: none), cached so that calls skip advance() until it passes. */
  #deadline = -1;
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

  constructor(wasm, core, options) {
    this.#wasm = wasm;
    this.#core = core;
    const now = typeof options.now === 'function' ? options.now : () => Date.now();
    this.#now = () => Number(now());
    this.#debug = Boolean(options.debug);
    this.#consent = ['granted', 'pending', 'denied'].includes(options.consent) ? options.consent : 'granted';
    this.#localOnly = options.respectPrivacySignals !== false && privacySignal();
    // Under Node there is no localStorage worth trusting: always memory.
    this.#storage = options.storage === 'memory' || !isBrowser() ? 'memory' : 'local';
    const opened = core.openStorage(this.#mayStore() ? this.#storage : 'memory', STATE_KEY, this.#now());
    // Reported once listeners can hear it: after init resolves.
    if (opened === 'replaced') this.#later(new PqlkitError('state_replaced', 'saved state was corrupt or foreign and was replaced'));
    if (opened === 'memory') this.#later(new PqlkitError('storage_unavailable', 'localStorage is unavailable: state kept in memory'));

    if (isBrowser() && options.ui !== 'none') {
      this.#ui = createPromptUI({ onOutcome: (prompt, outcome) => this.promptOutcome(prompt, outcome) });
    }
    if (options.collector?.url) {
      // Asked at each use, so a consent change applies to the outbox at once.
      const local = this.#storage === 'local' ? { get: (k) => (this.#mayStore() ? localStorage.getItem(k) : null), set: (k, v) => this.#mayStore() && localStorage.setItem(k, v) } : null;
      this.#outbox = createOutbox({
        url: options.collector.url,
        format: options.collector.format,
        apiKey: options.collector.apiKey,
        storage: local,
        now: this.#now,
        onError: (e) => this.#fault(new PqlkitError(e.code, `beacon delivery: ${e.code}${e.status ? ' (HTTP ' + e.status + ')' : ''}`), false),
      });
      this.#applyConsent();
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
    if (typeof name !== 'string' || name === '') return this.#fault(new PqlkitError('invalid_event', 'track(name) needs a non-empty event name'));
    const json = this.#json(props);
    if (json !== null) this.#call('track', [name, json]);
  }

  featureUsed(feature, props) {
    this.track('feature_used', { ...props, feature });
  }

  /** A metered limit was hit: `limitHit('projects', { used: 5, limit: 5 })`. */
  limitHit(limit, counts) {
    // Not destructured in the signature: null would throw a TypeError into the page.
    const { used, limit: max, ...rest } = counts !== null && typeof counts === 'object' ? counts : {};
    this.track('limit_hit', { ...rest, limit, used, max });
  }

  /** The current level of a metered limit: `usage('seats', 4, 5)`. */
  usage(limit, used, max) {
    this.track('usage', { limit, used, max, ratio: max > 0 ? used / max : null });
  }

  page(path, props) {
    const where = path ?? (isBrowser() ? location.pathname + location.search : '/');
    this.track('page_view', { ...props, path: where, ...(isBrowser() ? { url: location.href, title: document.title } : {}) });
  }

  identify(userId, traits) {
    const json = this.#json(traits);
    if (json !== null) this.#call('identify', [userId == null ? undefined : String(userId), json]);
  }

  group(accountId, traits) {
    const json = this.#json(traits);
    if (json !== null) this.#call('group', [accountId == null ? undefined : String(accountId), json]);
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on(event, listener) {
    if (!EVENT_NAMES.includes(event) || typeof listener !== 'function') {
      this.#fault(new PqlkitError('invalid_listener', `on(): unknown event "${event}" or no listener function`));
      return () => {};
    }
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event).add(listener);
    return () => this.#listeners.get(event)?.delete(listener);
  }

  score() {
    this.#advance();
    return this.#read(() => JSON.parse(this.#core.score())) ?? { score: 0, tier: null, qualified: false, rules: [] };
  }

  explain(ruleId) {
    this.#advance();
    return this.#read(() => JSON.parse(this.#core.explain(String(ruleId), this.#now())));
  }

  /** Reports what became of a prompt handed out by a `prompt` event (headless mode). */
  promptOutcome(prompt, outcome) {
    if (!OUTCOMES.includes(outcome)) return this.#fault(new PqlkitError('invalid_outcome', `unknown prompt outcome "${outcome}"`));
    if (outcome !== 'shown') this.#setVisible(false);
    this.#call('promptOutcome', [prompt?.rule ?? undefined, String(prompt?.id), outcome]);
    this.#emit(`prompt:${outcome}`, prompt);
  }

  /** Changes consent: `granted` stores and sends, `pending` holds everything in memory, `denied` stores and sends nothing. */
  setConsent(consent) {
    if (!['granted', 'pending', 'denied'].includes(consent)) return this.#fault(new PqlkitError('invalid_consent', `unknown consent "${consent}"`));
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
    if (this.#disabled && !this.#core) return;
    this.#save();
    for (const undo of this.#cleanup.splice(0)) undo();
    clearTimeout(this.#timer);
    clearTimeout(this.#saveTimer);
    this.#ui?.destroy();
    this.#outbox?.destroy();
    this.#tabs?.close();
    this.#listeners.clear();
    this.#disabled = true;
    try {
      this.#core?.free();
    } catch {
      // Already freed after a fault.
    }
    this.#core = null;
  }

  /** Properties or traits as JSON; cyclic or BigInt values are reported, never thrown. */
  #json(value) {
    try {
      return JSON.stringify(value ?? {});
    } catch (error) {
      this.#fault(new PqlkitError('invalid_props', `properties or traits cannot be serialised: ${error.message}`), false);
      return null;
    }
  }

  #mayStore() {
    return (consentPolicy(this.#wasm, this.#consent, this.#localOnly) & POLICY.store) !== 0;
  }

  #applyConsent() {
    const policy = consentPolicy(this.#wasm, this.#consent, this.#localOnly);
    this.#outbox?.setMode(policy & POLICY.send ? 'send' : policy & POLICY.queue ? 'hold' : 'off');
  }

  /** Time-driven changes: acted on by the leader tab only, applied silently in the others. */
  #advance(force = true, now = this.#now()) {
    // Before each call only when a deadline has passed: one boundary crossing saved per call.
    if (!force && (this.#deadline < 0 || now < this.#deadline)) return;
    const silent = this.#tabs && !this.#tabs.isLeader();
    this.#run('advance', [], now, silent);
  }

  /** A call made in this tab: applied, acted on here, and replayed by the other tabs. */
  #call(method, args) {
    if (this.#disabled) return;
    if (this.#shown && !this.#ui?.visible()) this.#setVisible(false);
    const t = this.#now();
    this.#advance(false, t);
    this.#run(method, args, t);
    // No message is built when no tab would read it: track() is called thousands of times.
    if (this.#tabs?.listening()) this.#tabs.post({ op: method, args, t, tab: this.#tabId });
    if (method === 'track' && this.#trackTaps.size) {
      for (const tap of this.#trackTaps) {
        try {
          tap(args[0], JSON.parse(args[1]), t);
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
    this.#run(op, args, t, true);
  }

  /** Runs a core call that returns effects, dispatches them (unless silent), schedules a save and the next deadline. */
  #run(method, args, t, silent = false) {
    if (this.#disabled || !this.#core) return;
    let effects = null;
    try {
      // track() directly, with no closure or spread: it is the call made thousands of times.
      // It returns undefined when there are no effects.
      const text = method === 'track' ? this.#core.track(args[0], args[1], t) : this.#core[method](...args, t);
      if (text) effects = JSON.parse(text);
    } catch (error) {
      return this.#fault(error);
    }
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
    this.#saveTimer = setTimeout(() => this.#save(), SAVE_DELAY_MS);
  }

  #save() {
    clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    if (this.#read(() => this.#core.persist()) === false) this.#fault(new PqlkitError('storage_full', 'localStorage is full: state kept in memory'), false);
  }

  #pageHidden() {
    this.#save();
    this.#outbox?.pageHidden();
    if (this.#ui?.visible()) this.#tabs?.post({ op: 'visible', on: false, tab: this.#tabId });
  }

  #arm() {
    const deadline = this.#disabled ? -1 : (this.#core?.nextDeadline() ?? -1);
    this.#deadline = deadline;
    // A timer armed for an earlier time stays: it wakes, finds nothing due and arms for what
    // is. Deadlines move at most events; re-arming each time cost a clearTimeout + setTimeout.
    if (deadline < 0 || (this.#timer && this.#armedAt <= deadline)) return;
    clearTimeout(this.#timer);
    // Long deadlines are re-armed in steps: setTimeout overflows past ~24.8 days (the timer
    // then fires before #armedAt, which is harmless: it re-arms).
    const delay = Math.min(Math.max(0, deadline - this.#now()), 2 ** 31 - 1);
    this.#armedAt = deadline;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#advance();
    }, delay);
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

  /** A fault inside pqlkit or a listener: report it; a trap in the wasm core disables the SDK. */
  #fault(error, fromCore = true) {
    const trap = fromCore && !(error instanceof PqlkitError);
    if (trap) {
      // The core's state may be inconsistent after a trap: stop using it, keep the page alive.
      this.#disabled = true;
      clearTimeout(this.#timer);
      clearTimeout(this.#saveTimer);
      this.#ui?.hide();
      for (const undo of this.#cleanup.splice(0)) undo();
    }
    const wrapped = error instanceof PqlkitError ? error : new PqlkitError(trap ? 'internal_fault' : 'listener_fault', String(error?.message ?? error), { cause: error });
    if (this.#debug && typeof console !== 'undefined') console.warn('[pqlkit]', wrapped);
    this.#emit('error', wrapped);
  }
}
