// The wasm core as the facade, the validator and the command line call it. Calls cross as
// numbers (src/web/mod.rs): a call's strings are written as UTF-8 into the wasm's input
// buffer, its properties and traits as values (src/web/value.rs's layout, which host.js
// `writeValue` writes), and their byte lengths passed; an answer is the length of JSON text the
// wasm wrote into its output buffer (0: none).
import { copyValue, write } from './wasm/host.js';

export { valueBytes, writeJson, writeObject } from './wasm/host.js';

const decoder = new TextDecoder();
const OPENED = ['restored', 'empty', 'memory', 'replaced'];
/** What became of a prompt, in the order of core_prompt_outcome's numbers. */
export const OUTCOMES = ['shown', 'clicked', 'dismissed'];

let view = new Uint8Array(0);
let viewOf = null;

/**
 * The bytes of `wasm`'s memory; a view is made anew only when the memory grew (which detaches
 * the old buffer: its views then have no bytes) or is another instance's. Reading
 * `memory.buffer` at every call cost track() time.
 */
function memoryOf(wasm) {
  if (viewOf !== wasm || view.byteLength === 0) {
    view = new Uint8Array(wasm.memory.buffer);
    viewOf = wasm;
  }
  return view;
}

/**
 * Writes `parts` into `wasm`'s input buffer: strings (null or undefined: none), a number for
 * the value just written by `writeObject` or `writeJson`, its byte length (-1: none), and a
 * value's own bytes (`valueBytes`). Their lengths, -1 for none.
 */
export function put(wasm, ...parts) {
  let size = 0;
  for (const s of parts) size += typeof s == 'string' ? s.length * 3 : Math.max(s?.length ?? s ?? 0, 0);
  let at = wasm.core_input(size);
  const bytes = memoryOf(wasm);
  return parts.map((s) => {
    let written = s?.length ?? s ?? -1;
    if (typeof s == 'string') written = write(bytes, at, s);
    else if (typeof s == 'number') copyValue(bytes, at, s);
    else if (s) bytes.set(s, at);
    at += Math.max(written, 0);
    return written;
  });
}

/** The answer of the last call, `length` bytes of text. */
export function answer(wasm, length) {
  return length ? decoder.decode(new Uint8Array(wasm.memory.buffer, wasm.core_output(), length)) : '';
}

/** A compiled rule set and the state of one browser profile, inside the wasm `wasm` (its exports). */
export class Core {
  #wasm;
  #handle;
  /** The core's status in the wasm's memory (src/web/mod.rs `Status`). */
  #statusAt;
  #status = new Float64Array(0);

  /**
   * `rules`: the rule set's JSON text for the authoring builds (the validator, the command
   * line), its `valueBytes` for the runtime pages load (undefined: none, refused as not JSON).
   * `seed`: four 32-bit words (128 bits) for beacon ids; a tool that sends no beacons may pass none.
   * @param {string | Uint8Array | undefined} rules
   * @param {ArrayLike<number>} [seed]
   */
  constructor(wasm, rules, anonymousId, seed = []) {
    this.#wasm = wasm;
    this.#handle = wasm.core_new(...put(wasm, rules, anonymousId), seed[0], seed[1], seed[2], seed[3]);
    this.#statusAt = wasm.core_status(this.#handle);
    if (!this.#statusAt) this.#detach();
  }

  /** A status of its own, for a refused rule set or a freed core: nothing scheduled, no score. */
  #detach() {
    this.#status = Float64Array.of(-1, 0, 0, 0);
  }

  /**
   * `[nextDeadline, score, version, flags]` as of the last call, read without a call: when
   * advance() next has work (-1: none); the score's total; a number that changes whenever the
   * score, tier, qualified or a rule's matched does; bit 0 qualified, the bits above the tier's
   * index (in rules()'s tiers) plus one. The view is made anew only when the memory grew.
   */
  status() {
    if (this.#status.byteLength === 0) this.#status = new Float64Array(this.#wasm.memory.buffer, this.#statusAt, 4);
    return this.#status;
  }

  /** The refused rule set's problems (`[{ code, path, message }]`), or `[]`. */
  errors() {
    return JSON.parse(answer(this.#wasm, this.#wasm.core_errors(this.#handle)) || '[]');
  }

  /**
   * Effects as JSON text, or '' when there are none (most events). `props`: the byte length of
   * the properties just written by `writeObject` or `writeJson` (-1: none).
   */
  track(name, props, now) {
    const w = this.#wasm;
    // Without the rest-parameter array of put(): this is the call made per event.
    const at = w.core_input(name.length * 3 + Math.max(props, 0));
    const bytes = memoryOf(w);
    const nameLength = write(bytes, at, name);
    copyValue(bytes, at + nameLength, props);
    return answer(w, w.core_track(this.#handle, nameLength, props, now));
  }

  advance(now) {
    return answer(this.#wasm, this.#wasm.core_advance(this.#handle, now));
  }

  /** `traits`: as track()'s `props`. */
  identify(userId, traits, now) {
    return this.#identify(0, userId, traits, now);
  }

  group(accountId, traits, now) {
    return this.#identify(1, accountId, traits, now);
  }

  #identify(account, id, traits, now) {
    const w = this.#wasm;
    return answer(w, w.core_identify(this.#handle, account, ...put(w, id, traits), now));
  }

  /** `outcome`: 'shown', 'clicked' or 'dismissed'. */
  promptOutcome(ruleId, promptId, outcome, now) {
    const w = this.#wasm;
    return answer(w, w.core_prompt_outcome(this.#handle, ...put(w, ruleId, promptId), OUTCOMES.indexOf(outcome), now));
  }

  /** Each rule's matched as bits, a copy: rule `i` of the `count` is bit `i & 31` of word `i >> 5`. */
  matched(count) {
    const w = this.#wasm;
    const at = w.core_matched(this.#handle);
    const bytes = memoryOf(w);
    const words = [];
    for (let p = at; p < at + 4 * Math.ceil(count / 32); p += 4) words.push(bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24));
    return words;
  }

  /** `[[tier, ...], [[id, score], ...]]` as JSON, fixed for a rule set. */
  rules() {
    return answer(this.#wasm, this.#wasm.core_rules(this.#handle));
  }

  explain(ruleId, now) {
    const w = this.#wasm;
    return answer(w, w.core_explain(this.#handle, ...put(w, ruleId), now));
  }

  /** 'restored', 'empty', 'memory' (localStorage unavailable) or 'replaced' (corrupt or foreign state discarded). */
  openStorage(storage, key, now) {
    const w = this.#wasm;
    return OPENED[w.core_open_storage(this.#handle, storage === 'local' ? 1 : 0, ...put(w, key), now)];
  }

  moveStorage(storage, key) {
    const w = this.#wasm;
    w.core_move_storage(this.#handle, storage === 'local' ? 1 : 0, ...put(w, key));
  }

  /** False when the browser refused the write (quota): the state now lives in memory. */
  persist() {
    return this.#wasm.core_persist(this.#handle) === 1;
  }

  saveState() {
    return answer(this.#wasm, this.#wasm.core_save_state(this.#handle));
  }

  loadState(text, now) {
    const w = this.#wasm;
    return w.core_load_state(this.#handle, ...put(w, text), now) === 1;
  }

  isPersistent() {
    return this.#wasm.core_is_persistent(this.#handle) === 1;
  }

  /** Whether anything listens to `qualified` or `rule:fired`: the core writes those effects only then. */
  hearFirings(heard) {
    this.#wasm.core_hear_firings(this.#handle, heard ? 1 : 0);
  }

  setPromptVisible(visible) {
    this.#wasm.core_set_prompt_visible(this.#handle, visible ? 1 : 0);
  }

  reset(anonymousId) {
    const w = this.#wasm;
    w.core_reset(this.#handle, ...put(w, anonymousId));
  }

  /** Frees the core; a second call (or any call after it) does nothing, whoever reuses the handle. */
  free() {
    this.#wasm.core_free(this.#handle);
    this.#handle = -1;
    this.#detach();
  }
}

/** What consent allows: bit 1 store on the device, bit 2 send beacons, bit 4 queue beacons. */
export function consentPolicy(wasm, consent, localOnly) {
  return wasm.consent_policy(...put(wasm, consent), localOnly ? 1 : 0);
}
