// pqlkit/react: React bindings (React >= 18, a peer dependency). Shaped like PostHog's and
// Statsig's providers (`options` to start the SDK, or `client` for an instance made elsewhere,
// as GrowthBook's provider takes one), with hooks that re-render through useSyncExternalStore
// on the SDK's events, as PostHog's flag hooks do.
//
// The provider starts pqlkit in an effect, never during render, so a server render touches no
// `window` and renders no pqlkit markup. StrictMode's mount, unmount, mount runs the effect
// twice: the instance is kept across it (its teardown waits for a task that a remount cancels),
// so `init` runs once and a prompt shows once.
// No 'use client' here (Vite and Rolldown warn that a bundle cannot keep it): React Server
// Components resolve pqlkit/react to js/react-client.js, which marks the boundary.
import { createContext, createElement, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import { init } from 'pqlkit';

const NO_SCORE = Object.freeze({ score: 0, tier: null, qualified: false, rules: Object.freeze([]) });
// Calls that can change the score; re-read after each (the SDK emits nothing when a rule stops
// holding, e.g. after identify() moves the user out of an audience).
const CHANGING = ['track', 'featureUsed', 'limitHit', 'usage', 'page', 'identify', 'group', 'promptOutcome', 'reset', 'setConsent'];
const OUTCOMES = ['shown', 'clicked', 'dismissed'];
// Where pqlkit saves the state its tabs share (README: State, tabs, privacy).
const STATE_KEY = 'pqlkit:v1:state';

/** Score reports that render the same: score, tier, qualified and which rules hold. */
const sameScore = (a, b) => a.score === b.score && a.tier === b.tier && a.qualified === b.qualified && a.rules.map((r) => r.matched).join() === b.rules.map((r) => r.matched).join();

/**
 * The prompt as the hooks hand it out: each outcome reported at most once (shown once; clicked
 * or dismissed once), so a StrictMode effect that runs twice, or a double click, counts once.
 */
function guarded(pql, prompt) {
  const done = new Set();
  const copy = { ...prompt };
  for (const outcome of OUTCOMES) {
    copy[outcome] = () => {
      if (done.has(outcome) || (outcome !== 'shown' && (done.has('clicked') || done.has('dismissed')))) return;
      done.add(outcome);
      pql.promptOutcome(prompt, outcome);
    };
  }
  return copy;
}

/**
 * What one provider shares with its hooks: the instance (null until `init` resolved, and on the
 * server), its score and its current prompt, with one subscription list for all three.
 */
function createBridge() {
  const listeners = new Set();
  const state = { pql: null, score: NO_SCORE, prompt: null };
  let detach = null;
  let queued = false;
  let owned = false;
  let starting = null;
  let teardown = 0;
  let applied = {};
  let latest = null;

  const notify = () => {
    for (const listener of listeners) listener();
  };
  const refresh = () => {
    if (queued) return;
    queued = true;
    // One read per burst of events and calls, after the call that set them off has returned.
    queueMicrotask(() => {
      queued = false;
      if (!state.pql) return;
      const next = state.pql.score();
      if (sameScore(next, state.score)) return;
      state.score = next;
      notify();
    });
  };
  const setPrompt = (prompt) => {
    state.prompt = prompt;
    notify();
  };

  function attach(pql) {
    state.pql = pql;
    const offs = [
      pql.on('prompt', (prompt) => setPrompt(guarded(pql, prompt))),
      ...['prompt:clicked', 'prompt:dismissed'].map((name) =>
        pql.on(name, (prompt) => {
          if (state.prompt?.id === prompt?.id && state.prompt?.rule === prompt?.rule) setPrompt(null);
        }),
      ),
      // Time-driven firings (a window, a deadline) come as these, from no call of the app.
      ...['qualified', 'rule:fired', 'beacon'].map((name) => pql.on(name, refresh)),
    ];
    // The instance's own methods, wrapped: autocapture and the app call them through `pql.x`.
    for (const name of CHANGING) {
      const method = pql[name];
      pql[name] = function (...args) {
        const result = method.apply(this, args);
        if (name === 'reset') setPrompt(null);
        refresh();
        return result;
      };
    }
    // Another tab's calls are replayed here without an event; that tab then saves the shared
    // state (within a second), which this tab hears as a storage event.
    const onStorage = (event) => event.key === STATE_KEY && refresh();
    globalThis.addEventListener?.('storage', onStorage);
    detach = () => {
      for (const off of offs) off();
      for (const name of CHANGING) delete pql[name];
      globalThis.removeEventListener?.('storage', onStorage);
    };
    state.score = pql.score();
    if (owned) apply();
    notify();
  }

  /** `options.user` / `options.account` of the latest render, when they changed since init or the last apply. */
  function apply() {
    for (const [key, method] of [['user', 'identify'], ['account', 'group']]) {
      const value = latest?.[key];
      const json = JSON.stringify(value ?? null);
      if (json === applied[key]) continue;
      applied[key] = json;
      if (value) state.pql[method](value.id ?? null, value.traits);
    }
  }

  return {
    state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Mounted (again): a teardown a StrictMode unmount scheduled is cancelled. */
    retain(client, options, onError) {
      clearTimeout(teardown);
      if (client) {
        if (state.pql !== client) {
          this.stop();
          attach(client);
        }
        return;
      }
      if (starting || state.pql) return;
      owned = true;
      latest = options;
      applied = { user: JSON.stringify(options?.user ?? null), account: JSON.stringify(options?.account ?? null) };
      const attempt = (starting = init(options));
      attempt.then(
        (pql) => (starting === attempt ? attach(pql) : pql.destroy()),
        (error) => {
          if (starting !== attempt) return;
          starting = null;
          if (onError) onError(error);
          else console.error('[pqlkit] init failed:', error);
        },
      );
    },
    /** Unmounted: torn down after the current task, unless mounted again before it. */
    release() {
      clearTimeout(teardown);
      teardown = setTimeout(() => this.stop());
    },
    stop() {
      const pql = state.pql;
      detach?.();
      detach = null;
      starting = null;
      state.pql = null;
      state.score = NO_SCORE;
      state.prompt = null;
      if (owned) pql?.destroy();
      owned = false;
      notify();
    },
    /** A later render's `options.user` / `options.account`: applied through identify / group. */
    update(options) {
      latest = options;
      if (state.pql && owned) apply();
    },
  };
}

const PqlkitContext = createContext(null);
const noSubscription = () => () => {};

/**
 * Starts pqlkit for the tree below: `<PqlkitProvider options={{ rules, user }}>`, or
 * `<PqlkitProvider client={pql}>` for an instance created with `init` elsewhere (not destroyed
 * on unmount). `options` is read once, at mount; later changes of `options.user` or
 * `options.account` are applied with identify / group. An `init` rejection goes to `onError`
 * (else console.error). Renders its children only: nothing of its own, on the server neither.
 */
export function PqlkitProvider({ options, client, onError, children }) {
  const [bridge] = useState(createBridge);
  useEffect(() => {
    bridge.retain(client, options, onError);
    return () => bridge.release();
    // options are read at mount (like PostHog's provider); user / account changes below.
  }, [bridge, client]);
  const user = JSON.stringify(options?.user ?? null);
  const account = JSON.stringify(options?.account ?? null);
  useEffect(() => bridge.update(options), [bridge, user, account]);
  return createElement(PqlkitContext.Provider, { value: bridge }, children);
}

function useBridge(select, fallback) {
  const bridge = useContext(PqlkitContext);
  return useSyncExternalStore(
    bridge ? bridge.subscribe : noSubscription,
    () => (bridge ? select(bridge.state) : fallback),
    () => fallback,
  );
}

/** The pqlkit instance, or null before `init` resolved, on the server, and outside a provider. */
export function usePqlkit() {
  return useBridge((s) => s.pql, null);
}

/**
 * `{ score, tier, qualified, rules }` as `pql.score()` reports it; re-renders when the score,
 * the tier, `qualified` or which rules hold change. Zero (tier null) until `init` resolved.
 */
export function useScore() {
  return useBridge((s) => s.score, NO_SCORE);
}

/**
 * The prompt to render yourself (with `ui: 'none'`), or null: the `prompt` event's payload with
 * `shown()`, `clicked()` and `dismissed()`, each reported at most once. `filter` narrows it to a
 * `slot` or a `style`. It stays until clicked or dismissed (however reported), or a newer prompt.
 */
export function usePrompt(filter) {
  const prompt = useBridge((s) => s.prompt, null);
  if (!prompt || (filter?.slot !== undefined && prompt.slot !== filter.slot) || (filter?.style !== undefined && prompt.style !== filter.style)) return null;
  return prompt;
}

/**
 * Where `inline` prompts for slot `name` appear: a `<div data-pqlkit-slot={name}>` that the
 * built-in UI (`ui: 'default'`) renders into. With a function as children (for `ui: 'none'`),
 * it renders `children(prompt)` for this slot's prompt and reports it shown once rendered.
 * Other props go to the div.
 */
export function PqlkitSlot({ name, children, ...props }) {
  const headless = typeof children === 'function';
  const prompt = usePrompt({ slot: name });
  const visible = headless ? prompt : null;
  useEffect(() => visible?.shown(), [visible]);
  return createElement('div', { ...props, 'data-pqlkit-slot': name }, headless ? (visible ? children(visible) : null) : children);
}
