// pqlkit: the public JavaScript API (PRODUCT.md §3). The wasm core evaluates rules; this
// facade owns loading, errors, events, autocapture and the clock. No method throws into the
// host page once `init` has resolved: faults become `error` events.
import { Core, evalCondition as evalConditionJson } from './wasm/pqlkit.js';
import { loadWasm } from './loader.js';
import { PqlkitError } from './errors.js';

export { PqlkitError };

/** GrowthBook-compatible condition evaluation, exactly as rules use it. */
export async function evalCondition(condition, attributes, groups = {}) {
  await loadWasm();
  const result = evalConditionJson(JSON.stringify(condition), JSON.stringify(attributes ?? {}), JSON.stringify(groups ?? {}));
  if (result < 0) throw new PqlkitError('invalid_condition', 'evalCondition: the condition, attributes or groups are not JSON values');
  return result === 1;
}

const EVENT_NAMES = ['qualified', 'prompt', 'prompt:shown', 'prompt:clicked', 'prompt:dismissed', 'beacon', 'error'];
const RULES_FETCH_TIMEOUT_MS = 10000;
const OUTCOMES = { shown: 0, clicked: 1, dismissed: 2 };

const isBrowser = () => typeof window !== 'undefined' && typeof document !== 'undefined';

function randomId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  return 'a' + Math.random().toString(36).slice(2) + Date.now().toString(36);
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
  await loadWasm(options.wasmUrl);
  const instance = new Pqlkit(rules, options);
  return instance;
}

class Pqlkit {
  #core;
  #now;
  #listeners = new Map();
  #cleanup = [];
  #timer = null;
  #disabled = false;
  #debug;
  #options;

  constructor(rules, options) {
    const now = typeof options.now === 'function' ? options.now : () => Date.now();
    this.#now = () => Number(now());
    this.#debug = Boolean(options.debug);
    this.#options = options;
    const seed = Math.floor(Math.random() * 2 ** 52);
    const core = new Core(JSON.stringify(rules), randomId(), seed);
    const errors = JSON.parse(core.errors());
    if (errors.length > 0) {
      core.free();
      const first = errors[0];
      const summary = errors.map((e) => `${e.path || '(rule set)'}: ${e.message}`).join('; ');
      throw new PqlkitError(first.code, `invalid rule set: ${summary}`, { path: first.path, errors });
    }
    this.#core = core;
    if (options.user) this.#run(() => core.identify(options.user.id ?? undefined, JSON.stringify(options.user.traits ?? {}), this.#now()));
    if (options.account) this.#run(() => core.group(options.account.id ?? undefined, JSON.stringify(options.account.traits ?? {}), this.#now()));
    if (options.autocapture !== false && isBrowser()) this.#autocapture();
  }

  /** Records an event with optional properties. */
  track(name, props) {
    if (typeof name !== 'string' || name === '') return this.#fault(new PqlkitError('invalid_event', 'track(name) needs a non-empty event name'));
    this.#run(() => this.#core.track(name, JSON.stringify(props ?? {}), this.#now()));
  }

  featureUsed(feature, props) {
    this.track('feature_used', { ...props, feature });
  }

  /** A metered limit was hit: `limitHit('projects', { used: 5, limit: 5 })`. */
  limitHit(limit, { used, limit: max, ...rest } = {}) {
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
    this.#run(() => this.#core.identify(userId ?? undefined, JSON.stringify(traits ?? {}), this.#now()));
  }

  group(accountId, traits) {
    this.#run(() => this.#core.group(accountId ?? undefined, JSON.stringify(traits ?? {}), this.#now()));
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on(event, listener) {
    if (!EVENT_NAMES.includes(event) || typeof listener !== 'function') {
      this.#fault(new PqlkitError('invalid_listener', `on(event, listener): unknown event "${event}" or listener is not a function`));
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
    if (!(outcome in OUTCOMES)) return this.#fault(new PqlkitError('invalid_outcome', `unknown prompt outcome "${outcome}"`));
    this.#run(() => this.#core.promptOutcome(prompt?.rule ?? undefined, String(prompt?.id), OUTCOMES[outcome], this.#now()));
    this.#emit(`prompt:${outcome}`, prompt);
  }

  setConsent(consent) {
    this.#options = { ...this.#options, consent };
  }

  async flush() {}

  reset() {}

  /** Removes listeners, timers and UI. The instance does nothing afterwards. */
  destroy() {
    for (const undo of this.#cleanup.splice(0)) undo();
    clearTimeout(this.#timer);
    this.#listeners.clear();
    this.#disabled = true;
    try {
      this.#core?.free();
    } catch {
      // Already freed after a fault.
    }
    this.#core = null;
  }

  #autocapture() {
    const onClick = (event) => {
      const target = event.target instanceof Element ? event.target : null;
      const feature = target?.closest('[data-pqlkit-feature]');
      if (feature) this.featureUsed(feature.getAttribute('data-pqlkit-feature'));
      const named = target?.closest('[data-pqlkit-event]');
      if (named) this.track(named.getAttribute('data-pqlkit-event'));
    };
    document.addEventListener('click', onClick, true);
    this.#cleanup.push(() => document.removeEventListener('click', onClick, true));
    this.page();
  }

  #advance() {
    this.#run(() => this.#core.advance(this.#now()));
  }

  /** Runs a core call that returns effects, dispatches them, and re-arms the deadline timer. */
  #run(call) {
    if (this.#disabled || !this.#core) return;
    let effects;
    try {
      effects = JSON.parse(call());
    } catch (error) {
      return this.#fault(error);
    }
    for (const effect of effects) this.#dispatch(effect);
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
      const prompt = { ...payload };
      for (const outcome of ['shown', 'clicked', 'dismissed']) prompt[outcome] = () => this.promptOutcome(prompt, outcome);
      this.#emit('prompt', prompt);
    } else {
      this.#emit(type, payload);
    }
  }

  #arm() {
    clearTimeout(this.#timer);
    const deadline = this.#core?.nextDeadline() ?? -1;
    if (deadline < 0 || this.#disabled) return;
    // Long deadlines are re-armed in steps: setTimeout overflows past ~24.8 days.
    const delay = Math.min(Math.max(0, deadline - this.#now()), 2 ** 31 - 1);
    this.#timer = setTimeout(() => this.#advance(), delay);
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
    const trap = fromCore && typeof WebAssembly !== 'undefined' && error instanceof WebAssembly.RuntimeError;
    if (trap) {
      this.#disabled = true;
      clearTimeout(this.#timer);
    }
    const wrapped = error instanceof PqlkitError ? error : new PqlkitError(trap ? 'internal_fault' : 'listener_fault', String(error?.message ?? error), { cause: error });
    if (this.#debug && typeof console !== 'undefined') console.warn('[pqlkit]', wrapped);
    this.#emit('error', wrapped);
  }
}
